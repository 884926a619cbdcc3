// The Arm DSP backend's blocking, tails and byte order, on the host: without
// __ARM_FEATURE_DSP its SXTB16 and SMLAD are plain integer C++ with the instructions' results,
// so the backend conformance suite (backend_conformance.h) checks the algorithm here; the
// firmware tests under QEMU check the same code with the real instructions.
#include "integr8/backend/arm_dsp.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "integr8/kernels/conv2d.h"
#include "integr8/types.h"
#include "unit/backend_conformance.h"

namespace integr8::conformance {
namespace {

struct ArmDspBackend {
  static constexpr const char* kName = "arm_dsp";
  static Status Linear(const LinearParams& params, const int8_t* input, const int8_t* weights,
                       const int32_t* bias, int8_t* output) {
    return backend::arm_dsp::Linear(params, input, weights, bias, output);
  }
  // Scratch of exactly the queried size, so a read or write past it is caught by the
  // sanitizers; invalid params get none (the query needs valid params, and validation must
  // fail first anyway).
  static Status Conv2d(const Conv2dParams& params, const int8_t* input, const int8_t* filter,
                       const int32_t* bias, int8_t* output) {
    const size_t bytes = ValidateConv2dParams(params) == Status::kOk
                             ? backend::arm_dsp::Conv2dScratchBytes(params)
                             : 0;
    std::vector<int8_t> scratch(bytes);
    return backend::arm_dsp::Conv2d(params, input, filter, bias, output, scratch.data(),
                                    scratch.size());
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(ArmDsp, BackendLinearTest, ArmDspBackend, BackendName);
INSTANTIATE_TYPED_TEST_SUITE_P(ArmDsp, BackendConv2dTest, ArmDspBackend, BackendName);

// The instructions' semantics on the lanes' extremes, worked by hand.
TEST(ArmDspInstructionsTest, SignExtendBytes) {
  // Bytes (low to high) 0x80, 0x7F, 0xFF, 0x01: the even ones are -128 and -1.
  EXPECT_EQ(backend::arm_dsp::internal::SignExtendEvenBytes(0x01FF7F80u), 0xFFFFFF80u);
  // 0x7F and 0x01 once rotated.
  EXPECT_EQ(backend::arm_dsp::internal::SignExtendOddBytes(0x01FF7F80u), 0x0001007Fu);
}

TEST(ArmDspInstructionsTest, DualMultiplyAccumulate) {
  // Lanes (-128, -1) x (-127, 127): 16256 - 127, on top of 1000.
  EXPECT_EQ(backend::arm_dsp::internal::DualMultiplyAccumulate(0xFFFFFF80u, 0x007FFF81u, 1000),
            1000 + 16256 - 127);
}

// Scratch shorter than the query, or none, is refused before anything is written.
TEST(ArmDspConv2dTest, RefusesShortScratch) {
  Conv2dCall call;
  const size_t needed = backend::arm_dsp::Conv2dScratchBytes(call.params);
  ASSERT_EQ(needed, size_t{2 * Conv2dCall::kProducts});
  std::vector<int8_t> scratch(needed - 1);
  const std::vector<int8_t> before = call.buffer;
  EXPECT_EQ(backend::arm_dsp::Conv2d(call.params, call.input, call.filter.data(),
                                     call.bias.data(), call.output, scratch.data(),
                                     scratch.size()),
            Status::kArenaTooSmall);
  EXPECT_EQ(backend::arm_dsp::Conv2d(call.params, call.input, call.filter.data(),
                                     call.bias.data(), call.output, nullptr, needed),
            Status::kArenaTooSmall);
  EXPECT_TRUE(call.buffer == before);
}

}  // namespace
}  // namespace integr8::conformance
