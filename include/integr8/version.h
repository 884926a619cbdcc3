// integr8 version and integer-spec version.
#ifndef INTEGR8_VERSION_H_
#define INTEGR8_VERSION_H_

#define INTEGR8_VERSION_MAJOR 0
#define INTEGR8_VERSION_MINOR 1
#define INTEGR8_VERSION_PATCH 0

// Version of the integer arithmetic (docs/spec.md). Generated model headers record the
// version they were exported for and static_assert that it matches this one, so a model
// can never run under arithmetic it was not calibrated for.
#define INTEGR8_SPEC_VERSION 1

namespace integr8 {
inline constexpr int kSpecVersion = INTEGR8_SPEC_VERSION;
}  // namespace integr8

#endif  // INTEGR8_VERSION_H_
