// Compile-time choice of the Linear / Conv2d / DepthwiseConv2d / MaxPool2d implementation. Every choice has
// the portable kernels' signatures, Status codes and output bytes, so code written against
// these names behaves identically whichever is picked, only faster.
//
//   integr8::backend::allocation_free::Linear, ::Conv2d, ::DepthwiseConv2d, ::MaxPool2d,
//   ::kName
//       the x86 AVX2 backend (integr8/backend/x86.h, "x86-avx2") when the target has AVX2
//       (__AVX2__: -mavx2, or -march=native on an AVX2 CPU), with the portable MaxPool2d;
//       the Arm DSP backend (integr8/backend/arm_dsp.h, "arm-dsp") when it has the DSP
//       extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33 with DSP): its MaxPool2d, and its
//       Linear and Conv2d in the scratch forms below (the forms without scratch are the
//       portable kernels there); else the portable kernels ("portable"). None allocates, so
//       this is what the compile-time graph calls (integr8/graph/layers.h). Defining
//       INTEGR8_BACKEND_PORTABLE keeps the portable kernels on any target (for comparisons).
//   integr8::backend::allocation_free::LinearScratchBytes(params) and
//   integr8::backend::allocation_free::Linear(params, input, weights, bias, output, scratch,
//                                             scratch_bytes),
//   integr8::backend::allocation_free::Conv2dScratchBytes(params) and
//   integr8::backend::allocation_free::Conv2d(params, input, filter, bias, output, scratch,
//                                             scratch_bytes)
//       the forms with caller scratch that every choice offers: the Arm DSP Linear keeps its
//       activation rows there and its Conv2d its im2col patches, both widened to 16 bits
//       (kArenaTooSmall when short); the others need 0 bytes.
//   Each of these functions takes an optional last template argument, Checks
//   (kernels/validation.h): the compile-time graph passes kProvenByCaller.
//   integr8::backend::selected::Linear, ::Conv2d, ::DepthwiseConv2d, ::MaxPool2d, ::kName
//       the Eigen host backend's Linear and Conv2d ("eigen") when INTEGR8_BACKEND_EIGEN is
//       defined, with allocation_free's DepthwiseConv2d and MaxPool2d (Eigen has none); else
//       exactly allocation_free.
//
// Precedence: Eigen, when asked for, wins over x86 in `selected`, because
// INTEGR8_BACKEND_EIGEN is an explicit request (the CMake target integr8::eigen_backend
// defines it and supplies Eigen) while AVX2 is merely detected; the x86 backend is the faster
// of the two on AVX2 hosts and never allocates, so prefer it by not linking the Eigen target.
// Defining INTEGR8_BACKEND_EIGEN without Eigen on the include path is a compile error rather
// than a silent fallback.
#ifndef INTEGR8_BACKEND_SELECT_H_
#define INTEGR8_BACKEND_SELECT_H_

#include <cstddef>
#include <cstdint>

#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/types.h"

#if defined(__AVX2__) && !defined(INTEGR8_BACKEND_PORTABLE)

#include "integr8/backend/x86.h"

namespace integr8::backend::allocation_free {
using ::integr8::backend::x86::Conv2d;
using ::integr8::backend::x86::DepthwiseConv2d;
using ::integr8::backend::x86::Linear;
using ::integr8::MaxPool2d;
inline constexpr const char* kName = ::integr8::backend::x86::kName;
}  // namespace integr8::backend::allocation_free

#elif defined(__ARM_FEATURE_DSP) && !defined(INTEGR8_BACKEND_PORTABLE)

#include "integr8/backend/arm_dsp.h"

#define INTEGR8_SELECT_TAKES_SCRATCH_ 1

// Linear and Conv2d with scratch are the DSP backend's; without scratch, and DepthwiseConv2d,
// the portable kernels'.
namespace integr8::backend::allocation_free {
using ::integr8::Conv2d;
using ::integr8::DepthwiseConv2d;
using ::integr8::Linear;
using ::integr8::backend::arm_dsp::Conv2d;
using ::integr8::backend::arm_dsp::Conv2dScratchBytes;
using ::integr8::backend::arm_dsp::Linear;
using ::integr8::backend::arm_dsp::LinearScratchBytes;
using ::integr8::backend::arm_dsp::MaxPool2d;
inline constexpr const char* kName = "arm-dsp";
}  // namespace integr8::backend::allocation_free

#else

namespace integr8::backend::allocation_free {
using ::integr8::Conv2d;
using ::integr8::DepthwiseConv2d;
using ::integr8::Linear;
using ::integr8::MaxPool2d;
inline constexpr const char* kName = "portable";
}  // namespace integr8::backend::allocation_free

#endif

#ifdef INTEGR8_SELECT_TAKES_SCRATCH_
#undef INTEGR8_SELECT_TAKES_SCRATCH_
#else
// The scratch forms every choice offers, for the choices whose Linear and Conv2d need none:
// they call the five-argument functions chosen above, qualified, so that argument-dependent
// lookup does not add integr8's portable ones as well.
namespace integr8::backend::allocation_free {
constexpr size_t LinearScratchBytes(const LinearParams& /*params*/) { return 0; }
template <typename Activation, typename Weight, typename Bias,
          Checks kChecks = Checks::kAtEntry>
Status Linear(const LinearParams& params, const Activation* input, const Weight* weights,
              const Bias* bias, Activation* output, int8_t* /*scratch*/,
              size_t /*scratch_bytes*/) {
  return ::integr8::backend::allocation_free::Linear<Activation, Weight, Bias, kChecks>(
      params, input, weights, bias, output);
}
constexpr size_t Conv2dScratchBytes(const Conv2dParams& /*params*/) { return 0; }
template <typename Activation, typename Weight, typename Bias,
          Checks kChecks = Checks::kAtEntry>
Status Conv2d(const Conv2dParams& params, const Activation* input, const Weight* filter,
              const Bias* bias, Activation* output, int8_t* /*scratch*/,
              size_t /*scratch_bytes*/) {
  return ::integr8::backend::allocation_free::Conv2d<Activation, Weight, Bias, kChecks>(
      params, input, filter, bias, output);
}
}  // namespace integr8::backend::allocation_free
#endif

#if defined(INTEGR8_BACKEND_EIGEN)

#include "integr8/backend/eigen.h"

namespace integr8::backend::selected {
using ::integr8::backend::allocation_free::DepthwiseConv2d;
using ::integr8::backend::allocation_free::MaxPool2d;
using ::integr8::backend::eigen::Conv2d;
using ::integr8::backend::eigen::Linear;
inline constexpr const char* kName = "eigen";
}  // namespace integr8::backend::selected

#else

namespace integr8::backend::selected {
using ::integr8::backend::allocation_free::Conv2d;
using ::integr8::backend::allocation_free::DepthwiseConv2d;
using ::integr8::backend::allocation_free::kName;
using ::integr8::backend::allocation_free::Linear;
using ::integr8::backend::allocation_free::MaxPool2d;
}  // namespace integr8::backend::selected

#endif  // INTEGR8_BACKEND_EIGEN

#endif  // INTEGR8_BACKEND_SELECT_H_
