#include "integr8/kernels/linear.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace integr8 {
namespace {

// Multiplier 2^30 with shift 31 is exactly M = 0.5.
constexpr std::array<int32_t, 1> kHalfMultiplier{int32_t{1} << 30};
constexpr std::array<int32_t, 1> kShift31{31};

LinearParams HalfScaleParams(int32_t input_features, int32_t output_features) {
  LinearParams params;
  params.input_features = input_features;
  params.output_features = output_features;
  params.requantize.multipliers = kHalfMultiplier.data();
  params.requantize.shifts = kShift31.data();
  return params;
}

TEST(LinearTest, HandComputedDotProductsRoundHalfUp) {
  const LinearParams params = HalfScaleParams(3, 2);
  const std::array<int8_t, 3> input{10, -20, 3};
  const std::array<int8_t, 6> weights{1, 2, 3,  //
                                      -1, 0, 2};
  const std::array<int32_t, 2> bias{4, -7};
  std::array<int8_t, 2> output{};
  // acc0 = 4 + 10 - 40 + 9 = -17 -> -8.5 -> -8 (ties toward +inf)
  // acc1 = -7 - 10 + 0 + 6 = -11 -> -5.5 -> -5
  ASSERT_EQ(Linear(params, input.data(), weights.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(output[0], -8);
  EXPECT_EQ(output[1], -5);
}

TEST(LinearTest, RejectsOverlappingOutputWithoutWriting) {
  const LinearParams params = HalfScaleParams(2, 2);
  std::array<int8_t, 2> buffer{1, 2};
  const std::array<int8_t, 4> weights{1, 1, 1, 1};
  const std::array<int32_t, 2> bias{0, 0};
  EXPECT_EQ(Linear(params, buffer.data(), weights.data(), bias.data(), buffer.data()),
            Status::kAliasing);
  EXPECT_EQ(buffer[0], 1);
  EXPECT_EQ(buffer[1], 2);
}

}  // namespace
}  // namespace integr8
