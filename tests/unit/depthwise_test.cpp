#include "integr8/kernels/depthwise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "integr8/kernels/conv2d.h"
#include "unit/test_random.h"

namespace integr8 {
namespace {

// Multiplier 2^30 with shift 31 is exactly M = 0.5.
constexpr std::array<int32_t, 1> kHalfMultiplier{int32_t{1} << 30};
constexpr std::array<int32_t, 1> kShift31{31};
constexpr int8_t kSentinel = 0x5A;

DepthwiseConv2dParams HalfScaleParams(int32_t input_height, int32_t input_width,
                                      int32_t input_channels, int32_t depth_multiplier,
                                      int32_t filter_height, int32_t filter_width) {
  DepthwiseConv2dParams params;
  params.input_height = input_height;
  params.input_width = input_width;
  params.input_channels = input_channels;
  params.depth_multiplier = depth_multiplier;
  params.filter_height = filter_height;
  params.filter_width = filter_width;
  params.requantize.multipliers = kHalfMultiplier.data();
  params.requantize.shifts = kShift31.data();
  return params;
}

// int8 buffers print as characters in GoogleTest messages; compare them as numbers.
template <typename Container>
std::vector<int32_t> Widen(const Container& values) {
  return std::vector<int32_t>(values.begin(), values.end());
}

size_t U(int32_t value) { return static_cast<size_t>(value); }

// The 3x3 single-channel input the hand-computed cases share:
//   1 2 3
//   4 5 6
//   7 8 9
constexpr std::array<int8_t, 9> kInput3x3{1, 2, 3, 4, 5, 6, 7, 8, 9};
// 2x2 filter [[1, 2], [3, 4]], 1HWC with C = 1; sum of weights 10.
constexpr std::array<int8_t, 4> kFilter2x2{1, 2, 3, 4};

// --- Constant evaluation ---------------------------------------------------------------

constexpr DepthwiseConv2dParams kConstexprParams = [] {
  DepthwiseConv2dParams params;
  params.input_height = 5;
  params.input_width = 5;
  params.input_channels = 3;
  params.depth_multiplier = 2;
  params.filter_height = 3;
  params.filter_width = 3;
  params.stride_height = 2;
  params.stride_width = 2;
  params.padding_height = 1;
  params.padding_width = 1;
  params.requantize.multipliers = kHalfMultiplier.data();
  params.requantize.shifts = kShift31.data();
  return params;
}();
static_assert(ValidateDepthwiseConv2dParams(kConstexprParams) == Status::kOk);
static_assert(DepthwiseOutputChannels(kConstexprParams) == 6);
static_assert(OutputHeight(kConstexprParams) == 3 && OutputWidth(kConstexprParams) == 3);
constexpr DepthwiseConv2dParams kConstexprBadStride = [] {
  DepthwiseConv2dParams params = kConstexprParams;
  params.stride_width = 0;
  return params;
}();
static_assert(ValidateDepthwiseConv2dParams(kConstexprBadStride) == Status::kBadStride);

// --- Hand-computed cases ----------------------------------------------------------------

TEST(DepthwiseConv2dTest, StridedPaddedBorderTapsReadInputZeroPoint) {
  // Two channels, stride 2, padding 1, z_in = 10: output 2x2x2. Padded input per channel:
  //   channel 0               channel 1
  //   10 10 10 10 10          10 10 10 10 10
  //   10  1  2  3 10          10 -1 -2 -3 10
  //   10  4  5  6 10          10 -4 -5 -6 10
  //   10  7  8  9 10          10 -7 -8 -9 10
  //   10 10 10 10 10          10 10 10 10 10
  // Windows start at padded (0,0), (0,2), (2,0), (2,2).
  // Channel 0, filter [[1, 2], [3, 4]] (sum 10):
  //   (0,0): 10 + 20 + 30 + 1*4 = 64     (0,1): 10 + 20 + 2*3 + 3*4 = 48
  //   (1,0): 10 + 4*2 + 30 + 7*4 = 76    (1,1): 5 + 6*2 + 8*3 + 9*4 = 77
  //   real bias 3 -> b' = 3 - 10 * 10 = -97: acc = -33, -49, -21, -20
  //   M = 0.5 -> -16.5 -> -16, -24.5 -> -24, -10.5 -> -10, -10; z_out 5 -> -11, -19, -5, -5
  // Channel 1, filter [[-1, 0], [0, 2]] (sum 1): out = -top_left + 2 * bottom_right
  //   (0,0): -10 + 2*(-1) = -12          (0,1): -10 + 2*(-3) = -16
  //   (1,0): -10 + 2*(-7) = -24          (1,1): 5 + 2*(-9) = -13
  //   real bias 0 -> b' = -10: acc = -22, -26, -34, -23 (e.g. (1,1) is exactly
  //   -(-5 - 10) + 2 * (-9 - 10) = -23) -> -11, -13, -17, -11.5 -> -11; z_out 5 -> -6, -8, -12, -6
  DepthwiseConv2dParams params = HalfScaleParams(3, 3, 2, 1, 2, 2);
  params.stride_height = 2;
  params.stride_width = 2;
  params.padding_height = 1;
  params.padding_width = 1;
  params.input_zero_point = 10;
  params.requantize.output_zero_point = 5;
  const std::array<int8_t, 18> input{1, -1, 2, -2, 3, -3, 4, -4, 5, -5,
                                     6, -6, 7, -7, 8, -8, 9, -9};
  // 1HWC: taps (0,0), (0,1), (1,0), (1,1), each [channel 0, channel 1].
  const std::array<int8_t, 8> filter{1, -1, 2, 0, 3, 0, 4, 2};
  const std::array<int32_t, 2> bias{-97, -10};
  std::array<int8_t, 8> output{};
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-11, -6, -19, -8, -5, -12, -5, -6}));
}

TEST(DepthwiseConv2dTest, DepthMultiplierMapsOutputChannelsToInputChannels) {
  // One pixel [3, -4], depth multiplier 2: channels 0, 1 read input 0; 2, 3 read input 1.
  //   3*1 = 3, 3*2 = 6, -4*3 = -12, -4*4 = -16; bias [1, 0, 2, 0]: 4, 6, -10, -16
  //   M = 0.5: 2, 3, -5, -8.
  const DepthwiseConv2dParams params = HalfScaleParams(1, 1, 2, 2, 1, 1);
  const std::array<int8_t, 2> input{3, -4};
  const std::array<int8_t, 4> filter{1, 2, 3, 4};
  const std::array<int32_t, 4> bias{1, 0, 2, 0};
  std::array<int8_t, 4> output{};
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{2, 3, -5, -8}));
}

TEST(DepthwiseConv2dTest, DilationSpreadsTapsPerAxis) {
  const std::array<int32_t, 1> bias{0};
  {
    // Dilation 2 on both axes: one output reading 1, 3, 7, 9: 1 + 6 + 21 + 36 = 64 -> 32.
    DepthwiseConv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
    params.dilation_height = 2;
    params.dilation_width = 2;
    std::array<int8_t, 1> output{};
    ASSERT_EQ(DepthwiseConv2d(params, kInput3x3.data(), kFilter2x2.data(), bias.data(),
                              output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], 32);
  }
  {
    // Dilation 2 in width only: a 2x1 output reading columns 0 and 2.
    //   (0,0): 1*1 + 3*2 + 4*3 + 6*4 = 43 -> 21.5 -> 22
    //   (1,0): 4*1 + 6*2 + 7*3 + 9*4 = 73 -> 36.5 -> 37
    DepthwiseConv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
    params.dilation_width = 2;
    std::array<int8_t, 2> output{};
    ASSERT_EQ(DepthwiseConv2d(params, kInput3x3.data(), kFilter2x2.data(), bias.data(),
                              output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), (std::vector<int32_t>{22, 37}));
  }
  {
    // Dilation 2, stride 2, padding 1, z_in = -1: taps at padded offsets {0, 2} x {0, 2};
    // only padded (2,2), the input's 5, is real:
    //   (0,0): -1 - 2 - 3 + 20 = 14    (0,1): -1 - 2 + 15 - 4 = 8
    //   (1,0): -1 + 10 - 3 - 4 = 2     (1,1): 5 - 2 - 3 - 4 = -4
    // b' = 0 - (-1) * 10 = 10: acc = 24, 18, 12, 6 -> 12, 9, 6, 3.
    DepthwiseConv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
    params.dilation_height = 2;
    params.dilation_width = 2;
    params.stride_height = 2;
    params.stride_width = 2;
    params.padding_height = 1;
    params.padding_width = 1;
    params.input_zero_point = -1;
    const std::array<int32_t, 1> folded_bias{10};
    std::array<int8_t, 4> output{};
    ASSERT_EQ(DepthwiseConv2d(params, kInput3x3.data(), kFilter2x2.data(), folded_bias.data(),
                              output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), (std::vector<int32_t>{12, 9, 6, 3}));
  }
}

TEST(DepthwiseConv2dTest, PerChannelAndPerTensorMultipliers) {
  // x = 10, depth multiplier 3, 1x1 filters [3, -5, 7], bias 0: acc = 30, -50, 70.
  // Per channel M = 0.5 (2^30, 31), 0.25 (2^30, 32), 0.75 (3 * 2^29, 31):
  //   15, -12.5 -> -12, 52.5 -> 53 (ties toward +inf).
  // Per tensor uses entry 0 only, M = 0.5: 15, -25, 35.
  const std::array<int32_t, 3> multipliers{int32_t{1} << 30, int32_t{1} << 30,
                                           3 * (int32_t{1} << 29)};
  const std::array<int32_t, 3> shifts{31, 32, 31};
  DepthwiseConv2dParams params = HalfScaleParams(1, 1, 1, 3, 1, 1);
  params.requantize.multipliers = multipliers.data();
  params.requantize.shifts = shifts.data();
  const std::array<int8_t, 1> input{10};
  const std::array<int8_t, 3> filter{3, -5, 7};
  const std::array<int32_t, 3> bias{0, 0, 0};
  std::array<int8_t, 3> output{};

  params.requantize.per_channel = true;
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{15, -12, 53}));

  params.requantize.per_channel = false;
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{15, -25, 35}));
}

TEST(DepthwiseConv2dTest, FusedActivationIsAClamp) {
  // x = 10, depth multiplier 3, filters [-4, 1, 6], bias 0: acc = -40, 10, 60 -> -20, 5, 30;
  // z_out = -3 gives -23, 2, 27. ReLU clamps below at max(-128, z_out) = -3; a ReLU6 whose
  // round(6 / s) is 20 also caps at -3 + 20 = 17.
  DepthwiseConv2dParams params = HalfScaleParams(1, 1, 1, 3, 1, 1);
  params.requantize.output_zero_point = -3;
  const std::array<int8_t, 1> input{10};
  const std::array<int8_t, 3> filter{-4, 1, 6};
  const std::array<int32_t, 3> bias{0, 0, 0};
  std::array<int8_t, 3> output{};

  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-23, 2, 27}));

  params.requantize.activation_min = -3;
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-3, 2, 27}));

  params.requantize.activation_max = 17;
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-3, 2, 17}));
}

TEST(DepthwiseConv2dTest, ExtremeZeroPoints) {
  // A 1x1 input x under a 3x3 all-ones filter with padding 1: one real tap and 8 padded
  // taps, so acc = b' + 8 * z_in + x with b' = -z_in * 9 (real bias 0), i.e. acc = x - z_in.
  // M = 0.5, then + z_out and clamp to int8.
  struct Case {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int8_t input;
    int32_t expected;
  };
  const std::array<Case, 10> cases{{
      {-128, 0, 5, 67},      // acc = 1152 - 1024 + 5 = 133 -> 66.5 -> 67
      {-128, -128, 5, -61},  // 67 - 128
      {-128, 127, 5, 127},   // 67 + 127 = 194 saturates
      {-128, 0, 127, 127},   // acc = 255 -> 127.5 -> 128 saturates
      {127, -128, 5, -128},  // acc = -1143 + 1016 + 5 = -122 -> -61; -189 saturates
      {127, 0, 5, -61},
      {127, 127, 5, 66},
      {127, 0, -128, -127},  // acc = -255 -> -127.5 -> -127
      {0, -128, 5, -125},    // acc = 5 -> 2.5 -> 3
      {0, 127, 5, 127},      // 130 saturates
  }};
  const std::array<int8_t, 9> filter{1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (const Case& test_case : cases) {
    SCOPED_TRACE("z_in " + std::to_string(test_case.input_zero_point) + " z_out " +
                 std::to_string(test_case.output_zero_point) + " x " +
                 std::to_string(test_case.input));
    DepthwiseConv2dParams params = HalfScaleParams(1, 1, 1, 1, 3, 3);
    params.padding_height = 1;
    params.padding_width = 1;
    params.input_zero_point = test_case.input_zero_point;
    params.requantize.output_zero_point = test_case.output_zero_point;
    const std::array<int32_t, 1> bias{-test_case.input_zero_point * 9};
    const std::array<int8_t, 1> input{test_case.input};
    std::array<int8_t, 1> output{};
    ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], test_case.expected);
  }
}

TEST(DepthwiseConv2dTest, AccumulatorAtTheBoundDoesNotWrap) {
  // K = 1; bias 2^31 - 1 - 128 * 127 is the largest accepted. x = -128, w = -127 adds
  // exactly 128 * 127, reaching INT32_MAX; with M = 0.5 the output saturates at 127.
  const DepthwiseConv2dParams params = HalfScaleParams(1, 1, 1, 1, 1, 1);
  const std::array<int8_t, 1> input{-128};
  const std::array<int8_t, 1> filter{-127};
  const std::array<int32_t, 1> bias{INT32_MAX - 128 * 127};
  std::array<int8_t, 1> output{};
  ASSERT_EQ(DepthwiseConv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(output[0], 127);
}

// --- Independent reference on random shapes ---------------------------------------------

// Spec requantization written independently of fixedpoint.h: floor division instead of an
// arithmetic shift.
int8_t ReferenceRequantize(int64_t acc, const RequantizeParams& requantize, size_t channel) {
  const size_t entry = requantize.per_channel ? channel : 0;
  const int64_t multiplier = requantize.multipliers[entry];
  const int64_t divisor = int64_t{1} << requantize.shifts[entry];
  const int64_t numerator = acc * multiplier + divisor / 2;
  int64_t quotient = numerator / divisor;
  if (numerator % divisor != 0 && numerator < 0) --quotient;  // floor, not truncation
  const int64_t shifted = requantize.output_zero_point + quotient;
  return static_cast<int8_t>(std::min<int64_t>(
      std::max<int64_t>(shifted, requantize.activation_min), requantize.activation_max));
}

// Materializes the input padded with input_zero_point, then, per input channel and depth
// multiplier copy, forms each output as a flat dot product over its filter taps in int64.
std::vector<int8_t> ReferenceDepthwiseConv2d(const DepthwiseConv2dParams& params,
                                             const std::vector<int8_t>& input,
                                             const std::vector<int8_t>& filter,
                                             const std::vector<int32_t>& bias) {
  const size_t batches = U(params.batches);
  const size_t height = U(params.input_height);
  const size_t width = U(params.input_width);
  const size_t channels = U(params.input_channels);
  const size_t pad_y = U(params.padding_height);
  const size_t pad_x = U(params.padding_width);
  const size_t padded_height = height + 2 * pad_y;
  const size_t padded_width = width + 2 * pad_x;
  std::vector<int64_t> padded(batches * padded_height * padded_width * channels,
                              params.input_zero_point);
  for (size_t b = 0; b < batches; ++b) {
    for (size_t y = 0; y < height; ++y) {
      for (size_t x = 0; x < width; ++x) {
        for (size_t c = 0; c < channels; ++c) {
          padded[((b * padded_height + y + pad_y) * padded_width + x + pad_x) * channels + c] =
              input[((b * height + y) * width + x) * channels + c];
        }
      }
    }
  }
  const size_t multiplier = U(params.depth_multiplier);
  const size_t out_channels = channels * multiplier;
  const size_t filter_h = U(params.filter_height);
  const size_t filter_w = U(params.filter_width);
  const size_t stride_y = U(params.stride_height);
  const size_t stride_x = U(params.stride_width);
  const size_t dilation_y = U(params.dilation_height);
  const size_t dilation_x = U(params.dilation_width);
  const size_t out_h = (padded_height - (dilation_y * (filter_h - 1) + 1)) / stride_y + 1;
  const size_t out_w = (padded_width - (dilation_x * (filter_w - 1) + 1)) / stride_x + 1;
  std::vector<int8_t> output(batches * out_h * out_w * out_channels);
  for (size_t b = 0; b < batches; ++b) {
    for (size_t c = 0; c < channels; ++c) {
      for (size_t m = 0; m < multiplier; ++m) {
        const size_t o = c * multiplier + m;
        for (size_t oy = 0; oy < out_h; ++oy) {
          for (size_t ox = 0; ox < out_w; ++ox) {
            int64_t acc = bias[o];
            for (size_t t = 0; t < filter_h * filter_w; ++t) {
              const size_t py = oy * stride_y + (t / filter_w) * dilation_y;
              const size_t px = ox * stride_x + (t % filter_w) * dilation_x;
              acc += padded[((b * padded_height + py) * padded_width + px) * channels + c] *
                     filter[t * out_channels + o];
            }
            EXPECT_GE(acc, INT32_MIN);
            EXPECT_LE(acc, INT32_MAX);
            output[((b * out_h + oy) * out_w + ox) * out_channels + o] =
                ReferenceRequantize(acc, params.requantize, o);
          }
        }
      }
    }
  }
  return output;
}

using test_support::Random;

// A random valid case; the vectors own the buffers params.requantize points into.
struct RandomCase {
  DepthwiseConv2dParams params;
  std::vector<int8_t> input;
  std::vector<int8_t> filter;
  std::vector<int32_t> bias;
  std::vector<int32_t> multipliers;
  std::vector<int32_t> shifts;
};

void FillRandomCase(Random& random, int trial, RandomCase& test_case) {
  DepthwiseConv2dParams& params = test_case.params;
  params.batches = random.Uniform(1, 2);
  params.input_channels = random.Uniform(1, 4);
  params.depth_multiplier = random.Uniform(1, 3);
  params.filter_height = random.Uniform(1, 4);
  params.filter_width = random.Uniform(1, 4);
  params.stride_height = random.Uniform(1, 3);
  params.stride_width = random.Uniform(1, 3);
  params.dilation_height = random.Uniform(1, 3);
  params.dilation_width = random.Uniform(1, 3);
  params.padding_height = random.Uniform(0, 2);
  params.padding_width = random.Uniform(0, 2);
  // Inputs at least as large as the dilated filter minus the padding, so an output exists.
  const int32_t span_height = params.dilation_height * (params.filter_height - 1) + 1;
  const int32_t span_width = params.dilation_width * (params.filter_width - 1) + 1;
  params.input_height =
      random.Uniform(std::max(1, span_height - 2 * params.padding_height), span_height + 5);
  params.input_width =
      random.Uniform(std::max(1, span_width - 2 * params.padding_width), span_width + 5);
  params.input_zero_point =
      trial % 8 == 0 ? (trial % 16 == 0 ? -128 : 127) : random.Uniform(-128, 127);

  const size_t channels = U(params.input_channels) * U(params.depth_multiplier);
  test_case.input = random.Int8s(U(params.batches) * U(params.input_height) *
                                     U(params.input_width) * U(params.input_channels),
                                 -128, 127);
  test_case.filter =
      random.Int8s(U(params.filter_height) * U(params.filter_width) * channels, -127, 127);
  test_case.bias = random.Int32s(channels, -20000, 20000);
  test_case.multipliers = random.Int32s(channels, kMultiplierMin, kMultiplierMax);
  test_case.shifts = random.Int32s(channels, 38, 44);
  params.requantize.multipliers = test_case.multipliers.data();
  params.requantize.shifts = test_case.shifts.data();
  params.requantize.per_channel = random.Uniform(0, 1) == 1;
  params.requantize.output_zero_point = random.Uniform(-128, 127);
  if (random.Uniform(0, 2) == 0) {
    params.requantize.activation_min = random.Uniform(-128, 0);
    params.requantize.activation_max = random.Uniform(params.requantize.activation_min, 127);
  }
}

TEST(DepthwiseConv2dTest, MatchesPaddedInputReferenceOnRandomShapes) {
  Random random(20240612);
  // Most outputs must land inside the clamp, or the comparison would say little.
  size_t clamped_outputs = 0;
  size_t unclamped_outputs = 0;
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    RandomCase test_case;
    FillRandomCase(random, trial, test_case);
    const DepthwiseConv2dParams& params = test_case.params;
    const std::vector<int8_t> expected = ReferenceDepthwiseConv2d(
        params, test_case.input, test_case.filter, test_case.bias);
    ASSERT_EQ(expected.size(),
              U(ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                             DepthwiseOutputChannels(params))));
    std::vector<int8_t> output(expected.size(), kSentinel);
    ASSERT_EQ(DepthwiseConv2d(params, test_case.input.data(), test_case.filter.data(),
                              test_case.bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), Widen(expected));
    for (const int8_t value : output) {
      const bool clamped = value == params.requantize.activation_min ||
                           value == params.requantize.activation_max;
      ++(clamped ? clamped_outputs : unclamped_outputs);
    }
  }
  EXPECT_GT(unclamped_outputs, 2 * clamped_outputs)
      << clamped_outputs << " clamped, " << unclamped_outputs << " inside";
}

TEST(DepthwiseConv2dTest, MatchesConv2dWithGroupsEqualToInputChannels) {
  // PyTorch's depthwise conv is Conv2d with groups == in_channels; its OHWI filter
  // [C][fh][fw][1] is the 1HWC filter [fh][fw][C] transposed.
  Random random(7);
  for (int trial = 0; trial < 100; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    RandomCase test_case;
    FillRandomCase(random, trial, test_case);
    const DepthwiseConv2dParams& depthwise = test_case.params;
    Conv2dParams conv;
    conv.batches = depthwise.batches;
    conv.input_height = depthwise.input_height;
    conv.input_width = depthwise.input_width;
    conv.input_channels = depthwise.input_channels;
    conv.output_channels = DepthwiseOutputChannels(depthwise);
    conv.filter_height = depthwise.filter_height;
    conv.filter_width = depthwise.filter_width;
    conv.stride_height = depthwise.stride_height;
    conv.stride_width = depthwise.stride_width;
    conv.dilation_height = depthwise.dilation_height;
    conv.dilation_width = depthwise.dilation_width;
    conv.padding_height = depthwise.padding_height;
    conv.padding_width = depthwise.padding_width;
    conv.groups = depthwise.input_channels;
    conv.input_zero_point = depthwise.input_zero_point;
    conv.requantize = depthwise.requantize;
    const size_t channels = U(conv.output_channels);
    const size_t taps = U(conv.filter_height) * U(conv.filter_width);
    std::vector<int8_t> ohwi_filter(test_case.filter.size());
    for (size_t tap = 0; tap < taps; ++tap) {
      for (size_t channel = 0; channel < channels; ++channel) {
        ohwi_filter[channel * taps + tap] = test_case.filter[tap * channels + channel];
      }
    }
    const size_t output_count = U(ElementCount(conv.batches, OutputHeight(conv),
                                               OutputWidth(conv), conv.output_channels));
    std::vector<int8_t> depthwise_output(output_count, kSentinel);
    std::vector<int8_t> conv_output(output_count, kSentinel);
    ASSERT_EQ(DepthwiseConv2d(depthwise, test_case.input.data(), test_case.filter.data(),
                              test_case.bias.data(), depthwise_output.data()),
              Status::kOk);
    ASSERT_EQ(Conv2d(conv, test_case.input.data(), ohwi_filter.data(), test_case.bias.data(),
                     conv_output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(depthwise_output), Widen(conv_output));
  }
}

// --- Rejected inputs: the status, and the output left untouched ----------------------------

class DepthwiseConv2dRejectTest : public ::testing::Test {
 protected:
  // A valid base case: 3x3x2 input, depth multiplier 1, 2x2 filter -> a 2x2x2 output, K = 4.
  static DepthwiseConv2dParams ValidParams() { return HalfScaleParams(3, 3, 2, 1, 2, 2); }

  Status Run(const DepthwiseConv2dParams& params) {
    output_.fill(kSentinel);
    return DepthwiseConv2d(params, input_.data(), filter_.data(), bias_.data(), output_.data());
  }

  void ExpectRejected(const DepthwiseConv2dParams& params, Status expected) {
    EXPECT_EQ(Run(params), expected) << StatusName(expected);
    EXPECT_EQ(Widen(output_), std::vector<int32_t>(output_.size(), kSentinel));
  }

  std::array<int8_t, 18> input_{1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3, -4, -5, -6, -7, -8, -9};
  std::array<int8_t, 8> filter_{1, -1, 2, -2, 3, -3, 4, -4};
  std::array<int32_t, 2> bias_{0, 0};
  std::array<int8_t, 8> output_{};
};

TEST_F(DepthwiseConv2dRejectTest, AcceptsTheBaseCase) {
  EXPECT_EQ(Run(ValidParams()), Status::kOk);
  EXPECT_NE(Widen(output_), std::vector<int32_t>(output_.size(), kSentinel));
}

TEST_F(DepthwiseConv2dRejectTest, NullPointer) {
  const DepthwiseConv2dParams params = ValidParams();
  const int8_t* no_activations = nullptr;
  const int8_t* no_filter = nullptr;
  const int32_t* no_bias = nullptr;
  int8_t* no_output = nullptr;
  output_.fill(kSentinel);
  EXPECT_EQ(
      DepthwiseConv2d(params, no_activations, filter_.data(), bias_.data(), output_.data()),
      Status::kNullPointer);
  EXPECT_EQ(DepthwiseConv2d(params, input_.data(), no_filter, bias_.data(), output_.data()),
            Status::kNullPointer);
  EXPECT_EQ(DepthwiseConv2d(params, input_.data(), filter_.data(), no_bias, output_.data()),
            Status::kNullPointer);
  EXPECT_EQ(DepthwiseConv2d(params, input_.data(), filter_.data(), bias_.data(), no_output),
            Status::kNullPointer);
  EXPECT_EQ(Widen(output_), std::vector<int32_t>(output_.size(), kSentinel));
  DepthwiseConv2dParams no_multipliers = params;
  no_multipliers.requantize.multipliers = nullptr;
  ExpectRejected(no_multipliers, Status::kNullPointer);
  DepthwiseConv2dParams no_shifts = params;
  no_shifts.requantize.shifts = nullptr;
  ExpectRejected(no_shifts, Status::kNullPointer);
}

TEST_F(DepthwiseConv2dRejectTest, BadShape) {
  int32_t DepthwiseConv2dParams::*const dimensions[] = {
      &DepthwiseConv2dParams::batches,          &DepthwiseConv2dParams::input_height,
      &DepthwiseConv2dParams::input_width,      &DepthwiseConv2dParams::input_channels,
      &DepthwiseConv2dParams::depth_multiplier, &DepthwiseConv2dParams::filter_height,
      &DepthwiseConv2dParams::filter_width};
  for (int32_t DepthwiseConv2dParams::*const dimension : dimensions) {
    for (const int32_t bad : {0, -1, INT32_MIN}) {
      SCOPED_TRACE(bad);
      DepthwiseConv2dParams params = ValidParams();
      params.*dimension = bad;
      ExpectRejected(params, Status::kBadShape);
    }
  }
  {
    SCOPED_TRACE("input element count 2^16 * 2^16 * 2 overflows int32");
    DepthwiseConv2dParams params = ValidParams();
    params.input_height = 1 << 16;
    params.input_width = 1 << 16;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("channel count 2^16 * 2^16 overflows int32");
    DepthwiseConv2dParams params = ValidParams();
    params.input_channels = 1 << 16;
    params.depth_multiplier = 1 << 16;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("filter element count 2 * 2 * 2^30 overflows int32");
    DepthwiseConv2dParams params = ValidParams();
    params.input_channels = 1 << 15;
    params.depth_multiplier = 1 << 15;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("output element count 60001 * 60001 * 2 overflows int32");
    DepthwiseConv2dParams params = ValidParams();
    params.filter_height = 1;
    params.filter_width = 1;
    params.padding_height = 29999;
    params.padding_width = 29999;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("4x4 filter on a 3x3 input: no output position");
    DepthwiseConv2dParams params = ValidParams();
    params.filter_width = 4;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("dilation 3 spreads a 2-tap filter over 4 columns: no output position");
    DepthwiseConv2dParams params = ValidParams();
    params.dilation_width = 3;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("dilation INT32_MAX: span beyond int32");
    DepthwiseConv2dParams params = ValidParams();
    params.dilation_height = INT32_MAX;
    ExpectRejected(params, Status::kBadShape);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadStride) {
  for (const int32_t bad : {0, -1, INT32_MIN}) {
    SCOPED_TRACE(bad);
    DepthwiseConv2dParams params = ValidParams();
    params.stride_height = bad;
    ExpectRejected(params, Status::kBadStride);
    params = ValidParams();
    params.stride_width = bad;
    ExpectRejected(params, Status::kBadStride);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadDilation) {
  for (const int32_t bad : {0, -1, INT32_MIN}) {
    SCOPED_TRACE(bad);
    DepthwiseConv2dParams params = ValidParams();
    params.dilation_height = bad;
    ExpectRejected(params, Status::kBadDilation);
    params = ValidParams();
    params.dilation_width = bad;
    ExpectRejected(params, Status::kBadDilation);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadPadding) {
  for (const int32_t bad : {-1, INT32_MIN, INT32_MAX / 2, INT32_MAX}) {
    SCOPED_TRACE(bad);  // negative, or input + 2 * padding beyond INT32_MAX
    DepthwiseConv2dParams params = ValidParams();
    params.padding_height = bad;
    ExpectRejected(params, Status::kBadPadding);
    params = ValidParams();
    params.padding_width = bad;
    ExpectRejected(params, Status::kBadPadding);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadZeroPoint) {
  for (const int32_t bad : {-129, 128, INT32_MIN, INT32_MAX}) {
    SCOPED_TRACE(bad);
    DepthwiseConv2dParams params = ValidParams();
    params.input_zero_point = bad;
    ExpectRejected(params, Status::kBadZeroPoint);
    params = ValidParams();
    params.requantize.output_zero_point = bad;
    ExpectRejected(params, Status::kBadZeroPoint);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadMultiplier) {
  for (const int32_t bad : {(int32_t{1} << 30) - 1, 0, -1, INT32_MIN}) {
    SCOPED_TRACE(bad);
    const std::array<int32_t, 1> per_tensor{bad};
    DepthwiseConv2dParams params = ValidParams();
    params.requantize.multipliers = per_tensor.data();
    ExpectRejected(params, Status::kBadMultiplier);
    // Per channel: the second entry is bad.
    const std::array<int32_t, 2> per_channel{int32_t{1} << 30, bad};
    const std::array<int32_t, 2> shifts{31, 31};
    params.requantize.per_channel = true;
    params.requantize.multipliers = per_channel.data();
    params.requantize.shifts = shifts.data();
    ExpectRejected(params, Status::kBadMultiplier);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadShift) {
  for (const int32_t bad : {0, -1, 63, INT32_MIN, INT32_MAX}) {
    SCOPED_TRACE(bad);
    const std::array<int32_t, 1> per_tensor{bad};
    DepthwiseConv2dParams params = ValidParams();
    params.requantize.shifts = per_tensor.data();
    ExpectRejected(params, Status::kBadShift);
    const std::array<int32_t, 2> multipliers{int32_t{1} << 30, int32_t{1} << 30};
    const std::array<int32_t, 2> per_channel{31, bad};
    params.requantize.per_channel = true;
    params.requantize.multipliers = multipliers.data();
    params.requantize.shifts = per_channel.data();
    ExpectRejected(params, Status::kBadShift);
  }
}

TEST_F(DepthwiseConv2dRejectTest, BadActivationRange) {
  DepthwiseConv2dParams params = ValidParams();
  params.requantize.activation_min = 1;
  params.requantize.activation_max = 0;
  ExpectRejected(params, Status::kBadActivationRange);
  params = ValidParams();
  params.requantize.activation_max = 128;
  ExpectRejected(params, Status::kBadActivationRange);
  params = ValidParams();
  params.requantize.activation_min = -129;
  ExpectRejected(params, Status::kBadActivationRange);
}

TEST_F(DepthwiseConv2dRejectTest, Aliasing) {
  const DepthwiseConv2dParams params = ValidParams();
  // 18 input bytes followed by room for the 8 output bytes.
  std::array<int8_t, 26> buffer{};
  for (size_t start : {size_t{0}, size_t{10}, size_t{17}}) {
    SCOPED_TRACE(start);
    buffer.fill(kSentinel);
    EXPECT_EQ(DepthwiseConv2d(params, buffer.data(), filter_.data(), bias_.data(),
                              buffer.data() + start),
              Status::kAliasing);
    EXPECT_EQ(Widen(buffer), std::vector<int32_t>(buffer.size(), kSentinel));
  }
  // Output directly after the input shares no byte and is accepted.
  buffer.fill(1);
  EXPECT_EQ(
      DepthwiseConv2d(params, buffer.data(), filter_.data(), bias_.data(), buffer.data() + 18),
      Status::kOk);
}

TEST_F(DepthwiseConv2dRejectTest, AccumulatorOverflow) {
  // K = 2 * 2 = 4, K * 128 * 127 = 65024: |bias| must stay below 2^31 - 65024.
  const DepthwiseConv2dParams params = ValidParams();
  constexpr int32_t kLimit = INT32_MAX - 65024 + 1;  // 2^31 - 65024
  for (const int32_t bad : {kLimit, -kLimit, INT32_MAX, INT32_MIN}) {
    SCOPED_TRACE(bad);
    bias_ = {bad, 0};
    ExpectRejected(params, Status::kAccumulatorOverflow);
  }
  bias_ = {kLimit - 1, -(kLimit - 1)};
  EXPECT_EQ(Run(params), Status::kOk);
}

TEST_F(DepthwiseConv2dRejectTest, ReportsTheFirstFailingCheckInDocumentedOrder) {
  {
    DepthwiseConv2dParams params = ValidParams();
    params.stride_height = 0;
    output_.fill(kSentinel);
    EXPECT_EQ(DepthwiseConv2d(params, input_.data(), filter_.data(),
                              static_cast<const int32_t*>(nullptr), output_.data()),
              Status::kNullPointer);
  }
  DepthwiseConv2dParams params = ValidParams();
  params.depth_multiplier = 0;
  params.stride_height = 0;
  ExpectRejected(params, Status::kBadShape);
  params = ValidParams();
  params.stride_width = 0;
  params.dilation_width = 0;
  ExpectRejected(params, Status::kBadStride);
  params = ValidParams();
  params.dilation_height = 0;
  params.padding_height = -1;
  ExpectRejected(params, Status::kBadDilation);
  params = ValidParams();
  params.padding_width = -1;
  params.filter_width = 9;  // also no output position
  ExpectRejected(params, Status::kBadPadding);
  params = ValidParams();
  params.filter_height = 4;
  params.input_zero_point = -200;
  ExpectRejected(params, Status::kBadShape);
  params = ValidParams();
  params.input_zero_point = -200;
  const std::array<int32_t, 1> bad_shift{0};
  params.requantize.shifts = bad_shift.data();
  ExpectRejected(params, Status::kBadZeroPoint);
  params = ValidParams();
  params.requantize.shifts = bad_shift.data();
  EXPECT_EQ(DepthwiseConv2d(params, output_.data(), filter_.data(), bias_.data(),
                            output_.data()),
            Status::kBadShift);
  {
    SCOPED_TRACE("aliasing before the accumulator bound");
    std::array<int8_t, 18> buffer{};
    buffer.fill(kSentinel);
    bias_ = {INT32_MIN, INT32_MIN};
    EXPECT_EQ(DepthwiseConv2d(ValidParams(), buffer.data(), filter_.data(), bias_.data(),
                              buffer.data()),
              Status::kAliasing);
    EXPECT_EQ(Widen(buffer), std::vector<int32_t>(buffer.size(), kSentinel));
  }
}

}  // namespace
}  // namespace integr8
