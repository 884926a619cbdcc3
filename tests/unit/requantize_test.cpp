#include "integr8/kernels/requantize.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace integr8 {
namespace {

constexpr int8_t kSentinel = 0x5A;
constexpr int32_t k2Pow30 = int32_t{1} << 30;

// Multiplier 2^30 with shift 31 is exactly M = 0.5.
inline constexpr int32_t kHalfMultiplier[1] = {k2Pow30};
inline constexpr int32_t kShift31[1] = {31};

constexpr RequantizeTensorParams HalfScale(int32_t outer_size, int32_t channels,
                                           int32_t zero_point) {
  return RequantizeTensorParams{
      outer_size, channels,
      RequantizeParams{kHalfMultiplier, kShift31, false, zero_point, kActivationMin,
                       kActivationMax}};
}

static_assert(ValidateRequantizeTensorParams(HalfScale(2, 3, -1)) == Status::kOk);

std::vector<int8_t> RunRequantize(const RequantizeTensorParams& params,
                                  const std::vector<int32_t>& input) {
  std::vector<int8_t> output(input.size(), kSentinel);
  EXPECT_EQ(RequantizeTensor(params, input.data(), output.data()), Status::kOk);
  return output;
}

TEST(RequantizeTensorTest, PerTensorRoundsHalfUp) {
  // M = 0.5, z = -1: y = -1 + floor(acc / 2 + 1/2), ties toward +infinity.
  //   -3 -> -1.5 -> -1 -> -2    -1 -> -0.5 -> 0 -> -1    0 -> 0 -> -1
  //    1 ->  0.5 ->  1 ->  0     3 ->  1.5 -> 2 ->  1    255 -> 127.5 -> 128 -> 127
  EXPECT_EQ(RunRequantize(HalfScale(2, 3, -1), {-3, -1, 0, 1, 3, 255}),
            (std::vector<int8_t>{-2, -1, -1, 0, 1, 127}));
}

TEST(RequantizeTensorTest, PerChannel) {
  // M = 0.5 (2^30, 31), 0.125 (2^30, 33), 0.75 (3 * 2^29, 31); z = 3.
  static constexpr int32_t kMultipliers[3] = {k2Pow30, k2Pow30, 3 * (int32_t{1} << 29)};
  static constexpr int32_t kShifts[3] = {31, 33, 31};
  const RequantizeTensorParams params{
      2, 3, RequantizeParams{kMultipliers, kShifts, true, 3, kActivationMin, kActivationMax}};
  // row 0: 10 * 0.5 = 5 -> 8;   10 * 0.125 = 1.25 -> 1 -> 4;    10 * 0.75 = 7.5 -> 8 -> 11
  // row 1: -10 * 0.5 = -5 -> -2; -12 * 0.125 = -1.5 -> -1 -> 2;  -2 * 0.75 = -1.5 -> -1 -> 2
  EXPECT_EQ(RunRequantize(params, {10, 10, 10, -10, -12, -2}),
            (std::vector<int8_t>{8, 4, 11, -2, 2, 2}));
}

TEST(RequantizeTensorTest, ZeroPointsAtInt8Extremes) {
  // M = 0.5. z = 127: 2 -> 127 + 1 = 128 -> 127; -2 -> 126; -256 -> 127 - 128 = -1.
  EXPECT_EQ(RunRequantize(HalfScale(1, 3, 127), {2, -2, -256}),
            (std::vector<int8_t>{127, 126, -1}));
  // z = -128: -2 -> -129 -> -128; 2 -> -127; 510 -> -128 + 255 = 127.
  EXPECT_EQ(RunRequantize(HalfScale(1, 3, -128), {-2, 2, 510}),
            (std::vector<int8_t>{-128, -127, 127}));
  // z = 0: 254 -> 127; -256 -> -128; -257 -> -128.5 -> -128 (tie toward +infinity).
  EXPECT_EQ(RunRequantize(HalfScale(1, 3, 0), {254, -256, -257}),
            (std::vector<int8_t>{127, -128, -128}));
}

TEST(RequantizeTensorTest, ExtremeAccumulatorsAndMultipliers) {
  // Largest M = (2^31 - 1) / 2: INT32_MAX * m is just under 2^62, formed in int64; saturates.
  static constexpr int32_t kLargest[1] = {INT32_MAX};
  static constexpr int32_t kShift1[1] = {1};
  const RequantizeTensorParams large{
      1, 3, RequantizeParams{kLargest, kShift1, false, 0, kActivationMin, kActivationMax}};
  EXPECT_EQ(RunRequantize(large, {INT32_MAX, INT32_MIN, 0}),
            (std::vector<int8_t>{127, -128, 0}));
  // Smallest M = 2^30 / 2^62 = 2^-32: INT32_MAX -> (2^31 - 1) / 2^32 = 0.4999... -> 0;
  // INT32_MIN -> -2^31 / 2^32 = -0.5, a tie -> 0. With z = 7 both give 7.
  static constexpr int32_t kSmallest[1] = {k2Pow30};
  static constexpr int32_t kShift62[1] = {62};
  const RequantizeTensorParams small{
      1, 2, RequantizeParams{kSmallest, kShift62, false, 7, kActivationMin, kActivationMax}};
  EXPECT_EQ(RunRequantize(small, {INT32_MAX, INT32_MIN}), (std::vector<int8_t>{7, 7}));
}

TEST(RequantizeTensorTest, ClampsToFusedActivation) {
  // ReLU6 with z = -1, s_out = 0.2: [-1, min(127, -1 + 30)] = [-1, 29]; M = 0.5.
  const RequantizeTensorParams params{
      1, 4, RequantizeParams{kHalfMultiplier, kShift31, false, -1, -1, 29}};
  // -10 -> -5 - 1 = -6 -> -1;  4 -> 2 - 1 = 1;  60 -> 30 - 1 = 29;  62 -> 31 - 1 = 30 -> 29
  EXPECT_EQ(RunRequantize(params, {-10, 4, 60, 62}), (std::vector<int8_t>{-1, 1, 29, 29}));
}

// ---- Validation --------------------------------------------------------------------------

void ExpectRejected(const RequantizeTensorParams& params, Status expected) {
  const std::array<int32_t, 8> input{};
  std::array<int8_t, 8> output{};
  output.fill(kSentinel);
  EXPECT_EQ(RequantizeTensor(params, input.data(), output.data()), expected);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
  EXPECT_EQ(ValidateRequantizeTensorParams(params), expected);
}

TEST(RequantizeTensorValidationTest, NullPointer) {
  const RequantizeTensorParams params = HalfScale(1, 4, 0);
  const std::array<int32_t, 4> input{};
  std::array<int8_t, 4> output{};
  output.fill(kSentinel);
  EXPECT_EQ(RequantizeTensor(params, nullptr, output.data()), Status::kNullPointer);
  EXPECT_EQ(RequantizeTensor(params, input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
  // Null multiplier or shift arrays.
  RequantizeTensorParams no_multipliers = params;
  no_multipliers.requantize.multipliers = nullptr;
  ExpectRejected(no_multipliers, Status::kNullPointer);
  RequantizeTensorParams no_shifts = params;
  no_shifts.requantize.shifts = nullptr;
  ExpectRejected(no_shifts, Status::kNullPointer);
}

TEST(RequantizeTensorValidationTest, BadShape) {
  ExpectRejected(HalfScale(0, 4, 0), Status::kBadShape);
  ExpectRejected(HalfScale(2, 0, 0), Status::kBadShape);
  ExpectRejected(HalfScale(2, -4, 0), Status::kBadShape);
  ExpectRejected(HalfScale(65536, 65536, 0), Status::kBadShape);  // 2^32 > INT32_MAX
}

TEST(RequantizeTensorValidationTest, BadMultiplier) {
  // Per channel: the second channel's multiplier is 2^30 - 1.
  static constexpr int32_t kMultipliers[2] = {k2Pow30, k2Pow30 - 1};
  static constexpr int32_t kShifts[2] = {31, 31};
  ExpectRejected(RequantizeTensorParams{2, 2,
                                        RequantizeParams{kMultipliers, kShifts, true, 0,
                                                         kActivationMin, kActivationMax}},
                 Status::kBadMultiplier);
  // Per tensor reads only the first entry, which is valid.
  EXPECT_EQ(ValidateRequantizeTensorParams(RequantizeTensorParams{
                2, 2,
                RequantizeParams{kMultipliers, kShifts, false, 0, kActivationMin,
                                 kActivationMax}}),
            Status::kOk);
}

TEST(RequantizeTensorValidationTest, BadShift) {
  static constexpr int32_t kShift0[1] = {0};
  static constexpr int32_t kShift63[1] = {63};
  ExpectRejected(RequantizeTensorParams{2, 2,
                                        RequantizeParams{kHalfMultiplier, kShift0, false, 0,
                                                         kActivationMin, kActivationMax}},
                 Status::kBadShift);
  ExpectRejected(RequantizeTensorParams{2, 2,
                                        RequantizeParams{kHalfMultiplier, kShift63, false, 0,
                                                         kActivationMin, kActivationMax}},
                 Status::kBadShift);
}

TEST(RequantizeTensorValidationTest, BadZeroPoint) {
  ExpectRejected(HalfScale(2, 2, 128), Status::kBadZeroPoint);
  ExpectRejected(HalfScale(2, 2, -129), Status::kBadZeroPoint);
}

TEST(RequantizeTensorValidationTest, BadActivationRange) {
  RequantizeTensorParams params = HalfScale(2, 2, 0);
  params.requantize.activation_min = 3;
  params.requantize.activation_max = 2;
  ExpectRejected(params, Status::kBadActivationRange);
  params = HalfScale(2, 2, 0);
  params.requantize.activation_max = 128;
  ExpectRejected(params, Status::kBadActivationRange);
}

TEST(RequantizeTensorValidationTest, OverlapIsAliasing) {
  // 2 int32 inputs (8 bytes) and 2 int8 outputs: any shared byte is rejected, in place too.
  const RequantizeTensorParams params = HalfScale(1, 2, 0);
  std::array<int32_t, 4> buffer{};
  buffer.fill(0x5A5A5A5A);
  int8_t* bytes = reinterpret_cast<int8_t*>(buffer.data());
  EXPECT_EQ(RequantizeTensor(params, buffer.data(), bytes), Status::kAliasing);
  EXPECT_EQ(RequantizeTensor(params, buffer.data(), bytes + 7), Status::kAliasing);
  for (const int32_t value : buffer) ASSERT_EQ(value, 0x5A5A5A5A);
  // The byte right after the input is free.
  EXPECT_EQ(RequantizeTensor(params, buffer.data(), bytes + 8), Status::kOk);
}

TEST(RequantizeTensorValidationTest, ChecksInDocumentedOrder) {
  RequantizeTensorParams params = HalfScale(0, 2, 500);  // kBadShape, kBadZeroPoint
  params.requantize.shifts = nullptr;                    // kNullPointer (ValidateRequantize)
  EXPECT_EQ(ValidateRequantizeTensorParams(params), Status::kBadShape);
  params.outer_size = 1;
  EXPECT_EQ(ValidateRequantizeTensorParams(params), Status::kNullPointer);
  params.requantize.shifts = kShift31;
  EXPECT_EQ(ValidateRequantizeTensorParams(params), Status::kBadZeroPoint);
  const std::array<int32_t, 2> input{};
  EXPECT_EQ(RequantizeTensor(params, input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
}

}  // namespace
}  // namespace integr8
