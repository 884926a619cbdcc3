// Compile-time choice of the Linear / Conv2d implementation:
//
//   integr8::backend::selected::Linear, ::Conv2d
//       the Eigen host backend (integr8/backend/eigen.h) when INTEGR8_BACKEND_EIGEN is
//       defined, else the portable kernels integr8::Linear and integr8::Conv2d.
//   integr8::backend::selected::kName
//       "eigen" or "portable", for logs and reports.
//
// Both choices have the same signatures, Status codes and output bytes, so code written
// against `selected` behaves identically either way, only faster on a host with Eigen.
//
// INTEGR8_BACKEND_EIGEN is defined by the CMake target integr8::eigen_backend, which also
// supplies Eigen; defining it without Eigen on the include path is a compile error rather
// than a silent fallback. Firmware never defines it: the Eigen backend allocates and is
// host-only, and without the macro this header includes only the portable kernels.
#ifndef INTEGR8_BACKEND_SELECT_H_
#define INTEGR8_BACKEND_SELECT_H_

#if defined(INTEGR8_BACKEND_EIGEN)

#include "integr8/backend/eigen.h"

namespace integr8::backend::selected {
using ::integr8::backend::eigen::Conv2d;
using ::integr8::backend::eigen::Linear;
inline constexpr const char* kName = "eigen";
}  // namespace integr8::backend::selected

#else

#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"

namespace integr8::backend::selected {
using ::integr8::Conv2d;
using ::integr8::Linear;
inline constexpr const char* kName = "portable";
}  // namespace integr8::backend::selected

#endif  // INTEGR8_BACKEND_EIGEN

#endif  // INTEGR8_BACKEND_SELECT_H_
