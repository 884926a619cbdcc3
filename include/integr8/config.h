// Build-time configuration. Every macro here may be defined by the user before the first
// integr8 include (or on the command line) to adapt the library to a target.
#ifndef INTEGR8_CONFIG_H_
#define INTEGR8_CONFIG_H_

// INTEGR8_CHECK(status_expression): parameter validation at a kernel's entry. The expression
// yields an integr8::Status; anything but kOk is returned at once, before any output is
// written. The compile-time graph already skips them (its layers call kernels with
// Checks::kProvenByCaller, see kernels/validation.h); firmware that calls kernels directly
// with parameters proven some other way may define INTEGR8_UNCHECKED to drop them everywhere.
#ifndef INTEGR8_CHECK
#ifdef INTEGR8_UNCHECKED
#define INTEGR8_CHECK(status_expression) static_cast<void>(0)
#else
#define INTEGR8_CHECK(status_expression)                                 \
  do {                                                                   \
    const ::integr8::Status integr8_check_status_ = (status_expression); \
    if (integr8_check_status_ != ::integr8::Status::kOk) {               \
      return integr8_check_status_;                                      \
    }                                                                    \
  } while (false)
#endif
#endif

// INTEGR8_DCHECK(condition): an internal invariant that validated parameters already
// guarantee. Traps in debug builds (no I/O, no allocation); compiled out with NDEBUG.
#ifndef INTEGR8_DCHECK
#ifdef NDEBUG
#define INTEGR8_DCHECK(condition) static_cast<void>(0)
#else
#define INTEGR8_DCHECK(condition)    \
  do {                               \
    if (!(condition)) __builtin_trap(); \
  } while (false)
#endif
#endif

#endif  // INTEGR8_CONFIG_H_
