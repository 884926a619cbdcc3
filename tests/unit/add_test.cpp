#include "integr8/kernels/add.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace integr8 {
namespace {

constexpr int8_t kSentinel = 0x5A;
constexpr int32_t k2Pow30 = int32_t{1} << 30;

// Equal scales s_a = s_b = s_out: M_1 = M_2 = 1/2 (m = 2^30, n = 31) and
// M_o = 2 s / (2^20 s) = 2^-19 (m = 2^30, n = 49). Then a' = (q_a - z_a) * 2^19 exactly,
// likewise b', and y = z_out + (q_a - z_a) + (q_b - z_b) exactly.
constexpr AddParams EqualScales(int32_t size, int32_t z1, int32_t z2, int32_t z_out) {
  return AddParams{size,    z1, k2Pow30, 31,    z2, k2Pow30, 31,
                   k2Pow30, 49, z_out,   kActivationMin, kActivationMax};
}

static_assert(ValidateAddParams(EqualScales(4, 5, -7, 1)) == Status::kOk);

std::vector<int8_t> RunAdd(const AddParams& params, const std::vector<int8_t>& input1,
                           const std::vector<int8_t>& input2) {
  std::vector<int8_t> output(input1.size(), kSentinel);
  EXPECT_EQ(Add(params, input1.data(), input2.data(), output.data()), Status::kOk);
  return output;
}

TEST(AddTest, EqualScalesAddOffsets) {
  const AddParams params = EqualScales(4, 5, -7, 1);
  // y = 1 + (q_a - 5) + (q_b + 7):
  //   (10, -2)     -> 1 + 5 + 5 = 11
  //   (5, -7)      -> 1 + 0 + 0 = 1
  //   (-128, -128) -> 1 - 133 - 121 = -253 -> -128
  //   (127, 127)   -> 1 + 122 + 134 = 257 -> 127
  EXPECT_EQ(RunAdd(params, {10, 5, -128, 127}, {-2, -7, -128, 127}),
            (std::vector<int8_t>{11, 1, -128, 127}));
}

TEST(AddTest, ZeroPointsAtInt8Extremes) {
  // z_a = -128, z_b = 127: |q - z| reaches 255, the bound of the overflow argument.
  // y = z_out + (q_a + 128) + (q_b - 127).
  const AddParams params = EqualScales(3, -128, 127, 0);
  // (-128, 127) -> 0 + 0 + 0 = 0; (127, -128) -> 255 - 255 = 0; (0, 0) -> 128 - 127 = 1
  EXPECT_EQ(RunAdd(params, {-128, 127, 0}, {127, -128, 0}), (std::vector<int8_t>{0, 0, 1}));
  // z_out = -128: (127, 127) -> -128 + 255 + 0 = 127; (-128, -128) -> -128 + 0 - 255 -> -128
  EXPECT_EQ(RunAdd(EqualScales(2, -128, 127, -128), {127, -128}, {127, -128}),
            (std::vector<int8_t>{127, -128}));
  // z_out = 127: (-128, 127) -> 127 + 0 + 0 = 127; (-100, 100) -> 127 + 28 - 27 = 128 -> 127;
  // (-128, -128) -> 127 - 255 = -128
  EXPECT_EQ(RunAdd(EqualScales(3, -128, 127, 127), {-128, -100, -128}, {127, 100, -128}),
            (std::vector<int8_t>{127, 127, -128}));
}

TEST(AddTest, DifferentPowerOfTwoScalesRoundHalfUp) {
  // s_a = 0.5, s_b = 0.25, s_out = 1, so s_max = 0.5:
  //   M_1 = 0.5 / 1 = 1/2          -> m = 2^30, n = 31: a' = (q_a - z_a) * 2^19
  //   M_2 = 0.25 / 1 = 1/4         -> m = 2^30, n = 32: b' = (q_b - z_b) * 2^18
  //   M_o = 2 * 0.5 / 2^20 = 2^-20 -> m = 2^30, n = 50
  // so y = z_out + floor((2 (q_a - z_a) + (q_b - z_b)) / 4 + 1/2), the real sum
  // 0.5 d_a + 0.25 d_b rounded once, ties toward +infinity. z_a = z_b = 0, z_out = -3.
  const AddParams params{7,       0,  k2Pow30, 31, 0, k2Pow30, 32,
                         k2Pow30, 50, -3,      kActivationMin, kActivationMax};
  //   (3, 1)       -> 7/4 = 1.75 -> 2      -> -1
  //   (1, 0)       -> 2/4 = 0.5 (tie) -> 1 -> -2
  //   (-1, 0)      -> -0.5 (tie) -> 0      -> -3
  //   (0, -3)      -> -0.75 -> -1          -> -4
  //   (100, 100)   -> 300/4 = 75           -> 72
  //   (-128, -128) -> -384/4 = -96         -> -99
  //   (127, 127)   -> 381/4 = 95.25 -> 95  -> 92
  EXPECT_EQ(RunAdd(params, {3, 1, -1, 0, 100, -128, 127}, {1, 0, 0, -3, 100, -128, 127}),
            (std::vector<int8_t>{-1, -2, -3, -4, 72, -99, 92}));
}

TEST(AddTest, DifferentScalesWithInexactMultiplier) {
  // s_a = 0.1, s_b = 0.3, s_out = 0.2, so s_max = 0.3:
  //   M_1 = 0.1 / 0.6 = 1/6 = (2/3) 2^-2: m = floor(2/3 * 2^31 + 1/2) = 1431655765
  //        = (2^32 - 1) / 3, n = 33, so a' = round(d_a 2^19 / 3 * (1 - 2^-32))
  //   M_2 = 0.3 / 0.6 = 1/2: m = 2^30, n = 31, b' = d_b 2^19
  //   M_o = 0.6 / (2^20 * 0.2) = 3 * 2^-20 = 0.75 * 2^-18: m = 3 * 2^29, n = 49,
  //        so y = z_out + floor(3 (a' + b') / 2^20 + 1/2)
  // with z_a = -20, z_b = 30, z_out = 10.
  const AddParams params{4,
                         -20,
                         1431655765,
                         33,
                         30,
                         k2Pow30,
                         31,
                         3 * (int32_t{1} << 29),
                         49,
                         10,
                         kActivationMin,
                         kActivationMax};
  // (q_a, q_b) = (-17, 31): d = (3, 1). a' = floor(524288 - 2^-13 + 1/2) = 524288,
  //   b' = 524288; 3 * 2^20 / 2^20 = 3 -> 10 + 3 = 13 (real (0.3 + 0.3) / 0.2 = 3).
  // (-19, 30): d = (1, 0). a' = floor(174762.67 - tiny + 1/2) = 174763, b' = 0;
  //   3 * 174763 = 524289 = 2^19 + 1 -> 0.5000009 + 1/2 -> 1 -> 11. The real value 0.5 is a
  //   tie; a' rounded up, which settles it.
  // (-21, 30): d = (-1, 0). a' = floor(-174762.67 + 1/2) = -174763;
  //   -524289 / 2^20 = -0.5000009 + 1/2 -> -1 -> 9 (a' rounded away, so the tie goes down).
  // (80, -20): d = (100, -50). a' = floor(17476266.67 - 0.004 + 1/2) = 17476267,
  //   b' = -50 * 2^19 = -26214400; a' + b' = -8738133; 3 * that = -26214399;
  //   / 2^20 = -24.999999 + 1/2 -> -25 -> -15 (real (10 - 15) / 0.2 = -25).
  EXPECT_EQ(RunAdd(params, {-17, -19, -21, 80}, {31, 30, 30, -20}),
            (std::vector<int8_t>{13, 11, 9, -15}));
}

TEST(AddTest, ClampsToActivationRange) {
  AddParams params = EqualScales(3, 0, 0, 1);
  params.activation_min = 1;  // a fused ReLU: [z_out, 127]
  params.activation_max = 20;
  // 1 + (-5) + 2 = -2 -> 1; 1 + 4 + 5 = 10; 1 + 15 + 15 = 31 -> 20
  EXPECT_EQ(RunAdd(params, {-5, 4, 15}, {2, 5, 15}), (std::vector<int8_t>{1, 10, 20}));
}

TEST(AddTest, ExtremeMultipliersSaturateWithoutOverflow) {
  // |a' + b'| = 255 * 2^20 (the largest) with M_o = (2^31 - 1) / 2, the largest: the product
  // is about 2^59, formed in int64, and the result saturates.
  const AddParams params{2,         -128, k2Pow30,        31, -128, k2Pow30, 31,
                         INT32_MAX, 1,    0, kActivationMin, kActivationMax};
  // (127, 127): a' = b' = 255 * 2^19 -> huge positive -> 127. (-128, -128): 0 -> 0.
  EXPECT_EQ(RunAdd(params, {127, -128}, {127, -128}), (std::vector<int8_t>{127, 0}));
  const AddParams negative{1,         127, k2Pow30,        31, 127, k2Pow30, 31,
                           INT32_MAX, 1,   0, kActivationMin, kActivationMax};
  // (-128, -128): a' = b' = -255 * 2^19 -> huge negative -> -128.
  EXPECT_EQ(RunAdd(negative, {-128}, {-128}), (std::vector<int8_t>{-128}));
}

TEST(AddTest, InPlaceOnEitherInput) {
  const AddParams params = EqualScales(3, 5, -7, 1);
  // y = 1 + (q_a - 5) + (q_b + 7): (10, -2) -> 11; (0, 0) -> 3; (-50, 20) -> -27
  std::vector<int8_t> a{10, 0, -50};
  const std::vector<int8_t> b{-2, 0, 20};
  ASSERT_EQ(Add(params, a.data(), b.data(), a.data()), Status::kOk);
  EXPECT_EQ(a, (std::vector<int8_t>{11, 3, -27}));

  const std::vector<int8_t> c{10, 0, -50};
  std::vector<int8_t> d{-2, 0, 20};
  ASSERT_EQ(Add(params, c.data(), d.data(), d.data()), Status::kOk);
  EXPECT_EQ(d, (std::vector<int8_t>{11, 3, -27}));

  // Both inputs and the output the same buffer: y = 1 + (q - 5) + (q + 7) = 2q + 3.
  std::vector<int8_t> e{1, -2, 100};
  ASSERT_EQ(Add(params, e.data(), e.data(), e.data()), Status::kOk);
  EXPECT_EQ(e, (std::vector<int8_t>{5, -1, 127}));  // 203 -> 127
}

// ---- Validation --------------------------------------------------------------------------

void ExpectRejected(const AddParams& params, Status expected) {
  const std::array<int8_t, 8> input1{};
  const std::array<int8_t, 8> input2{};
  std::array<int8_t, 8> output{};
  output.fill(kSentinel);
  EXPECT_EQ(Add(params, input1.data(), input2.data(), output.data()), expected);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
  EXPECT_EQ(ValidateAddParams(params), expected);
}

TEST(AddValidationTest, NullPointer) {
  const AddParams params = EqualScales(4, 0, 0, 0);
  const std::array<int8_t, 4> input{};
  std::array<int8_t, 4> output{};
  output.fill(kSentinel);
  const int8_t* null_input = nullptr;
  EXPECT_EQ(Add(params, null_input, input.data(), output.data()), Status::kNullPointer);
  EXPECT_EQ(Add(params, input.data(), null_input, output.data()), Status::kNullPointer);
  EXPECT_EQ(Add(params, input.data(), input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
}

TEST(AddValidationTest, BadShape) {
  ExpectRejected(EqualScales(0, 0, 0, 0), Status::kBadShape);
  ExpectRejected(EqualScales(-3, 0, 0, 0), Status::kBadShape);
}

TEST(AddValidationTest, BadMultiplier) {
  AddParams params = EqualScales(4, 0, 0, 0);
  params.input1_multiplier = k2Pow30 - 1;
  ExpectRejected(params, Status::kBadMultiplier);
  params = EqualScales(4, 0, 0, 0);
  params.input2_multiplier = 0;
  ExpectRejected(params, Status::kBadMultiplier);
  params = EqualScales(4, 0, 0, 0);
  params.output_multiplier = -k2Pow30;
  ExpectRejected(params, Status::kBadMultiplier);
}

TEST(AddValidationTest, InputRescaleAboveOneHalfIsBadMultiplier) {
  // M = (2^30 + 1) / 2^31 is just above 1/2; M = 2^30 / 2^30 = 1.
  AddParams params = EqualScales(4, 0, 0, 0);
  params.input1_multiplier = k2Pow30 + 1;
  ExpectRejected(params, Status::kBadMultiplier);
  params = EqualScales(4, 0, 0, 0);
  params.input2_shift = 30;
  ExpectRejected(params, Status::kBadMultiplier);
  // M = (2^31 - 1) / 2^32 is just below 1/2, and the output rescale may exceed 1/2.
  params = EqualScales(4, 0, 0, 0);
  params.input1_multiplier = INT32_MAX;
  params.input1_shift = 32;
  params.output_multiplier = INT32_MAX;
  params.output_shift = 1;
  EXPECT_EQ(ValidateAddParams(params), Status::kOk);
}

TEST(AddValidationTest, BadShift) {
  AddParams params = EqualScales(4, 0, 0, 0);
  params.input1_shift = 0;
  ExpectRejected(params, Status::kBadShift);
  params = EqualScales(4, 0, 0, 0);
  params.input2_shift = 63;
  ExpectRejected(params, Status::kBadShift);
  params = EqualScales(4, 0, 0, 0);
  params.output_shift = -1;
  ExpectRejected(params, Status::kBadShift);
}

TEST(AddValidationTest, BadZeroPoint) {
  ExpectRejected(EqualScales(4, 128, 0, 0), Status::kBadZeroPoint);
  ExpectRejected(EqualScales(4, 0, -129, 0), Status::kBadZeroPoint);
  ExpectRejected(EqualScales(4, 0, 0, 200), Status::kBadZeroPoint);
}

TEST(AddValidationTest, BadActivationRange) {
  AddParams params = EqualScales(4, 0, 0, 0);
  params.activation_min = 10;
  params.activation_max = 9;
  ExpectRejected(params, Status::kBadActivationRange);
  params = EqualScales(4, 0, 0, 0);
  params.activation_max = 128;
  ExpectRejected(params, Status::kBadActivationRange);
}

TEST(AddValidationTest, PartialOverlapIsAliasing) {
  const AddParams params = EqualScales(4, 0, 0, 0);
  std::array<int8_t, 12> buffer{};
  buffer.fill(kSentinel);
  const std::array<int8_t, 4> other{};
  // Output one element past input1, or three before input2: overlapping but not equal.
  EXPECT_EQ(Add(params, buffer.data(), other.data(), buffer.data() + 1), Status::kAliasing);
  EXPECT_EQ(Add(params, other.data(), buffer.data() + 4, buffer.data() + 1), Status::kAliasing);
  // Equal to input1 but partially overlapping input2 is still aliasing.
  EXPECT_EQ(Add(params, buffer.data() + 4, buffer.data() + 6, buffer.data() + 4),
            Status::kAliasing);
  for (const int8_t value : buffer) ASSERT_EQ(value, kSentinel);
  // Overlapping inputs are fine (both are only read).
  std::array<int8_t, 4> output{};
  EXPECT_EQ(Add(params, buffer.data(), buffer.data() + 2, output.data()), Status::kOk);
}

TEST(AddValidationTest, ChecksInDocumentedOrder) {
  AddParams params = EqualScales(0, 300, 0, 0);  // kBadShape, kBadZeroPoint
  params.input2_shift = 0;                        // kBadShift
  params.output_multiplier = 0;                   // kBadMultiplier (after input2)
  params.activation_min = 1;                      // kBadActivationRange
  params.activation_max = 0;
  EXPECT_EQ(ValidateAddParams(params), Status::kBadShape);
  params.size = 4;
  EXPECT_EQ(ValidateAddParams(params), Status::kBadShift);
  params.input2_shift = 31;
  EXPECT_EQ(ValidateAddParams(params), Status::kBadMultiplier);
  params.output_multiplier = k2Pow30;
  EXPECT_EQ(ValidateAddParams(params), Status::kBadZeroPoint);
  params.input1_zero_point = 0;
  EXPECT_EQ(ValidateAddParams(params), Status::kBadActivationRange);
  const std::array<int8_t, 4> input{};
  EXPECT_EQ(Add(params, input.data(), input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
}

}  // namespace
}  // namespace integr8
