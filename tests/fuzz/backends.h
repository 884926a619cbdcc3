// Every implementation of the integr8 kernels the fuzz harnesses run side by side. Each
// backend fills in the ops it implements (in the order below) and leaves the rest null; the
// harnesses compare each non-null op with the spec reference (fuzz_kernels) and with the
// portable kernel's Status and output bytes (fuzz_validation).
//
// Adding a backend is one line in kBackends (plus its include, and its compile flags on the
// fuzz targets in tests/fuzz/CMakeLists.txt if it needs any), e.g. the x86 AVX2 backend:
//   {"x86", INTEGR8_FUZZ_OP(backend::x86::Linear), INTEGR8_FUZZ_OP(backend::x86::Conv2d), ...},
#ifndef INTEGR8_TESTS_FUZZ_BACKENDS_H_
#define INTEGR8_TESTS_FUZZ_BACKENDS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "integr8/kernels/add.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/kernels/relu.h"
#include "integr8/kernels/requantize.h"
#include "integr8/types.h"

#if defined(INTEGR8_BACKEND_EIGEN)  // set by the CMake target integr8::eigen_backend
#include "integr8/backend/eigen.h"
#define INTEGR8_FUZZ_HAVE_EIGEN 1
#endif
#if defined(__AVX2__) && __has_include("integr8/backend/x86.h")
#include "integr8/backend/x86.h"  // compiled with -mavx2 -mfma where the CPU runs AVX2
#define INTEGR8_FUZZ_HAVE_X86 1
#endif
#if __has_include("integr8/backend/arm_dsp.h")
#include "integr8/backend/arm_dsp.h"  // plain C++ off target, so it runs on the host too
#define INTEGR8_FUZZ_HAVE_ARM_DSP 1
#endif

namespace integr8_fuzz {

using LinearOp = integr8::Status (*)(const integr8::LinearParams&, const int8_t*, const int8_t*,
                                     const int32_t*, int8_t*);
using Conv2dOp = integr8::Status (*)(const integr8::Conv2dParams&, const int8_t*, const int8_t*,
                                     const int32_t*, int8_t*);
using DepthwiseOp = integr8::Status (*)(const integr8::DepthwiseConv2dParams&, const int8_t*,
                                        const int8_t*, const int32_t*, int8_t*);
using PoolOp = integr8::Status (*)(const integr8::Pool2dParams&, const int8_t*, int8_t*);
using AddOp = integr8::Status (*)(const integr8::AddParams&, const int8_t*, const int8_t*,
                                  int8_t*);
using ReluOp = integr8::Status (*)(const integr8::ReluParams&, const int8_t*, int8_t*);
using RequantizeOp = integr8::Status (*)(const integr8::RequantizeTensorParams&, const int32_t*,
                                         int8_t*);

struct Backend {
  const char* name;
  LinearOp linear = nullptr;
  Conv2dOp conv2d = nullptr;
  DepthwiseOp depthwise = nullptr;
  PoolOp max_pool = nullptr;
  PoolOp avg_pool = nullptr;
  AddOp add = nullptr;
  ReluOp relu = nullptr;
  RequantizeOp requantize = nullptr;
};

// The spec's instantiation of a kernel template (int8 activations and weights, int32 bias).
#define INTEGR8_FUZZ_OP(function) (&::integr8::function<int8_t, int8_t, int32_t>)
#define INTEGR8_FUZZ_OP1(function) (&::integr8::function<int8_t>)

#if defined(INTEGR8_FUZZ_HAVE_ARM_DSP)
// The Arm DSP Linear and Conv2d take caller scratch (CMSIS-NN style); these adapters own it.
inline integr8::Status ArmDspLinear(const integr8::LinearParams& params, const int8_t* input,
                                    const int8_t* weights, const int32_t* bias, int8_t* output) {
  const integr8::Status status = integr8::ValidateLinear(params, input, weights, bias, output);
  if (status != integr8::Status::kOk) {
    // Must be the portable Status; no scratch is needed to get it.
    int8_t none = 0;
    return integr8::backend::arm_dsp::Linear(params, input, weights, bias, output, &none, 0);
  }
  std::vector<int8_t> scratch(integr8::backend::arm_dsp::LinearScratchBytes(params));
  return integr8::backend::arm_dsp::Linear(params, input, weights, bias, output, scratch.data(),
                                           scratch.size());
}

inline integr8::Status ArmDspConv2d(const integr8::Conv2dParams& params, const int8_t* input,
                                    const int8_t* filter, const int32_t* bias, int8_t* output) {
  const integr8::Status status = integr8::ValidateConv2d(params, input, filter, bias, output);
  if (status != integr8::Status::kOk) {
    // Must be the portable Status; no scratch is needed to get it.
    int8_t none = 0;
    return integr8::backend::arm_dsp::Conv2d(params, input, filter, bias, output, &none, 0);
  }
  std::vector<int8_t> scratch(integr8::backend::arm_dsp::Conv2dScratchBytes(params));
  return integr8::backend::arm_dsp::Conv2d(params, input, filter, bias, output, scratch.data(),
                                           scratch.size());
}
#endif

inline const Backend kBackends[] = {
    {"portable", INTEGR8_FUZZ_OP(Linear), INTEGR8_FUZZ_OP(Conv2d), INTEGR8_FUZZ_OP(DepthwiseConv2d),
     INTEGR8_FUZZ_OP1(MaxPool2d), INTEGR8_FUZZ_OP1(AvgPool2d), INTEGR8_FUZZ_OP1(Add),
     INTEGR8_FUZZ_OP1(Relu), INTEGR8_FUZZ_OP1(RequantizeTensor)},
#if defined(INTEGR8_FUZZ_HAVE_EIGEN)
    {"eigen", INTEGR8_FUZZ_OP(backend::eigen::Linear), INTEGR8_FUZZ_OP(backend::eigen::Conv2d)},
#endif
#if defined(INTEGR8_FUZZ_HAVE_X86)
    {"x86", INTEGR8_FUZZ_OP(backend::x86::Linear), INTEGR8_FUZZ_OP(backend::x86::Conv2d),
     INTEGR8_FUZZ_OP(backend::x86::DepthwiseConv2d)},
#endif
#if defined(INTEGR8_FUZZ_HAVE_ARM_DSP)
    {"arm_dsp", &ArmDspLinear, &ArmDspConv2d, nullptr,
     INTEGR8_FUZZ_OP1(backend::arm_dsp::MaxPool2d)},
#endif
};

}  // namespace integr8_fuzz

#endif  // INTEGR8_TESTS_FUZZ_BACKENDS_H_
