#include "integr8/kernels/relu.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace integr8 {
namespace {

constexpr int8_t kSentinel = 0x5A;

static_assert(ValidateReluParams(ReluParams{16, -5, kActivationMax}) == Status::kOk);

std::vector<int8_t> RunRelu(int32_t activation_min, int32_t activation_max,
                            const std::vector<int8_t>& input) {
  const ReluParams params{static_cast<int32_t>(input.size()), activation_min, activation_max};
  std::vector<int8_t> output(input.size(), kSentinel);
  EXPECT_EQ(Relu(params, input.data(), output.data()), Status::kOk);
  return output;
}

TEST(ReluTest, ReluClampsAtTheZeroPoint) {
  // z = -5: ReLU is [max(-128, -5), 127] = [-5, 127].
  EXPECT_EQ(RunRelu(-5, 127, {-128, -6, -5, -4, 0, 127}),
            (std::vector<int8_t>{-5, -5, -5, -4, 0, 127}));
}

TEST(ReluTest, ZeroPointsAtInt8Extremes) {
  // z = -128: ReLU is [-128, 127], the identity.
  EXPECT_EQ(RunRelu(-128, 127, {-128, -1, 0, 127}), (std::vector<int8_t>{-128, -1, 0, 127}));
  // z = 0: [0, 127].
  EXPECT_EQ(RunRelu(0, 127, {-128, -1, 0, 1, 127}), (std::vector<int8_t>{0, 0, 0, 1, 127}));
  // z = 127: [127, 127], every real value <= 0 maps to real 0.
  EXPECT_EQ(RunRelu(127, 127, {-128, 0, 126, 127}), (std::vector<int8_t>{127, 127, 127, 127}));
}

TEST(ReluTest, Relu6CapsAtZeroPointPlusSix) {
  // z = -128, s = 0.05: upper bound min(127, -128 + round(6 / 0.05) = -128 + 120) = -8.
  EXPECT_EQ(RunRelu(-128, -8, {-128, -9, -8, -7, 127}),
            (std::vector<int8_t>{-128, -9, -8, -8, -8}));
  // z = 10, s = 0.1: [10, min(127, 10 + 60)] = [10, 70].
  EXPECT_EQ(RunRelu(10, 70, {-128, 9, 10, 70, 71, 127}),
            (std::vector<int8_t>{10, 10, 10, 70, 70, 70}));
  // z = 0, s = 0.025: 0 + round(240) exceeds 127, so [0, 127].
  EXPECT_EQ(RunRelu(0, 127, {-3, 127}), (std::vector<int8_t>{0, 127}));
}

TEST(ReluTest, InPlace) {
  const ReluParams params{4, -2, 3};
  std::array<int8_t, 4> buffer{-128, -2, 2, 100};
  ASSERT_EQ(Relu(params, buffer.data(), buffer.data()), Status::kOk);
  EXPECT_EQ(buffer, (std::array<int8_t, 4>{-2, -2, 2, 3}));
}

// ---- Validation --------------------------------------------------------------------------

void ExpectRejected(const ReluParams& params, Status expected) {
  const std::array<int8_t, 8> input{};
  std::array<int8_t, 8> output{};
  output.fill(kSentinel);
  EXPECT_EQ(Relu(params, input.data(), output.data()), expected);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
  EXPECT_EQ(ValidateReluParams(params), expected);
}

TEST(ReluValidationTest, NullPointer) {
  const ReluParams params{4, 0, 127};
  const std::array<int8_t, 4> input{};
  std::array<int8_t, 4> output{};
  output.fill(kSentinel);
  EXPECT_EQ(Relu(params, static_cast<const int8_t*>(nullptr), output.data()),
            Status::kNullPointer);
  EXPECT_EQ(Relu(params, input.data(), static_cast<int8_t*>(nullptr)), Status::kNullPointer);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
}

TEST(ReluValidationTest, BadShape) {
  ExpectRejected(ReluParams{0, 0, 127}, Status::kBadShape);
  ExpectRejected(ReluParams{-1, 0, 127}, Status::kBadShape);
}

TEST(ReluValidationTest, BadActivationRange) {
  ExpectRejected(ReluParams{4, 5, 4}, Status::kBadActivationRange);
  ExpectRejected(ReluParams{4, -129, 127}, Status::kBadActivationRange);
  ExpectRejected(ReluParams{4, 0, 128}, Status::kBadActivationRange);
}

TEST(ReluValidationTest, PartialOverlapIsAliasing) {
  const ReluParams params{4, 0, 127};
  std::array<int8_t, 8> buffer{};
  buffer.fill(kSentinel);
  EXPECT_EQ(Relu(params, buffer.data(), buffer.data() + 1), Status::kAliasing);
  EXPECT_EQ(Relu(params, buffer.data() + 3, buffer.data()), Status::kAliasing);
  for (const int8_t value : buffer) ASSERT_EQ(value, kSentinel);
  // Adjacent buffers do not overlap.
  EXPECT_EQ(Relu(params, buffer.data(), buffer.data() + 4), Status::kOk);
}

TEST(ReluValidationTest, ChecksInDocumentedOrder) {
  EXPECT_EQ(ValidateReluParams(ReluParams{0, 5, 4}), Status::kBadShape);
  const std::array<int8_t, 4> input{};
  EXPECT_EQ(Relu(ReluParams{0, 5, 4}, input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
}

}  // namespace
}  // namespace integr8
