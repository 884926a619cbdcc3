#include "integr8/kernels/conv2d.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "unit/test_random.h"

namespace integr8 {
namespace {

// Multiplier 2^30 with shift 31 is exactly M = 0.5.
constexpr std::array<int32_t, 1> kHalfMultiplier{int32_t{1} << 30};
constexpr std::array<int32_t, 1> kShift31{31};
constexpr int8_t kSentinel = 0x5A;

Conv2dParams HalfScaleParams(int32_t input_height, int32_t input_width, int32_t input_channels,
                             int32_t output_channels, int32_t filter_height,
                             int32_t filter_width) {
  Conv2dParams params;
  params.input_height = input_height;
  params.input_width = input_width;
  params.input_channels = input_channels;
  params.output_channels = output_channels;
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
// 2x2 filter [[1, 2], [3, 4]], OHWI with O = I = 1; sum of weights 10.
constexpr std::array<int8_t, 4> kFilter2x2{1, 2, 3, 4};

// --- Constant evaluation ---------------------------------------------------------------

constexpr Conv2dParams kConstexprParams = [] {
  Conv2dParams params;
  params.input_height = 4;
  params.input_width = 4;
  params.input_channels = 4;
  params.output_channels = 6;
  params.filter_height = 3;
  params.filter_width = 3;
  params.padding_height = 1;
  params.padding_width = 1;
  params.groups = 2;
  params.requantize.multipliers = kHalfMultiplier.data();
  params.requantize.shifts = kShift31.data();
  return params;
}();
static_assert(ValidateConv2dParams(kConstexprParams) == Status::kOk);
static_assert(OutputHeight(kConstexprParams) == 4 && OutputWidth(kConstexprParams) == 4);
constexpr Conv2dParams kConstexprBadGroups = [] {
  Conv2dParams params = kConstexprParams;
  params.groups = 3;  // divides output_channels 6 but not input_channels 4
  return params;
}();
static_assert(ValidateConv2dParams(kConstexprBadGroups) == Status::kBadGroups);

// --- Hand-computed cases ----------------------------------------------------------------

TEST(Conv2dTest, StridedPaddedBorderTapsReadInputZeroPoint) {
  // Stride 2, padding 1: output (3 + 2 - 2) / 2 + 1 = 2 per axis. With z_in = 10 the padded
  // input is
  //   10 10 10 10 10
  //   10  1  2  3 10
  //   10  4  5  6 10
  //   10  7  8  9 10
  //   10 10 10 10 10
  // and the windows start at padded (0,0), (0,2), (2,0), (2,2):
  //   (0,0): 10*1 + 10*2 + 10*3 + 1*4 = 64      (0,1): 10*1 + 10*2 + 2*3 + 3*4 = 48
  //   (1,0): 10*1 +  4*2 + 10*3 + 7*4 = 76      (1,1):  5*1 +  6*2 + 8*3 + 9*4 = 77
  // Real bias 3 folds to b' = 3 - 10 * 10 = -97, so acc = -33, -49, -21, -20; e.g. (0,0) is
  // exactly 3 + (1 - 10) * 4 = -33, the real convolution with zero padding.
  // M = 0.5: -16.5 -> -16, -24.5 -> -24, -10.5 -> -10, -10 (ties toward +inf); z_out = 5.
  Conv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
  params.stride_height = 2;
  params.stride_width = 2;
  params.padding_height = 1;
  params.padding_width = 1;
  params.input_zero_point = 10;
  params.requantize.output_zero_point = 5;
  const std::array<int32_t, 1> bias{-97};
  std::array<int8_t, 4> output{};
  ASSERT_EQ(Conv2d(params, kInput3x3.data(), kFilter2x2.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-11, -19, -5, -5}));
}

TEST(Conv2dTest, DilationSpreadsTapsPerAxis) {
  const std::array<int32_t, 1> bias{0};
  {
    // Dilation 2 on both axes: span 3, one output reading 1, 3, 7, 9:
    // 1*1 + 3*2 + 7*3 + 9*4 = 64 -> 32.
    Conv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
    params.dilation_height = 2;
    params.dilation_width = 2;
    std::array<int8_t, 1> output{};
    ASSERT_EQ(Conv2d(params, kInput3x3.data(), kFilter2x2.data(), bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], 32);
  }
  {
    // Dilation 2 in height only: a 1x2 output reading rows 0 and 2.
    //   (0,0): 1*1 + 2*2 + 7*3 + 8*4 = 58 -> 29    (0,1): 2*1 + 3*2 + 8*3 + 9*4 = 68 -> 34
    Conv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
    params.dilation_height = 2;
    std::array<int8_t, 2> output{};
    ASSERT_EQ(Conv2d(params, kInput3x3.data(), kFilter2x2.data(), bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), (std::vector<int32_t>{29, 34}));
  }
  {
    // Dilation 2, stride 2, padding 1, z_in = -1: padded 5x5, span 3, output 2x2; taps at
    // padded offsets {0, 2} x {0, 2} from (0,0), (0,2), (2,0), (2,2). Only padded (2,2),
    // the input's 5, is real:
    //   (0,0): -1*1 + -1*2 + -1*3 +  5*4 = 14     (0,1): -1*1 + -1*2 +  5*3 + -1*4 = 8
    //   (1,0): -1*1 +  5*2 + -1*3 + -1*4 = 2      (1,1):  5*1 + -1*2 + -1*3 + -1*4 = -4
    // b' = 0 - (-1) * 10 = 10: acc = 24, 18, 12, 6 -> 12, 9, 6, 3.
    Conv2dParams params = HalfScaleParams(3, 3, 1, 1, 2, 2);
    params.dilation_height = 2;
    params.dilation_width = 2;
    params.stride_height = 2;
    params.stride_width = 2;
    params.padding_height = 1;
    params.padding_width = 1;
    params.input_zero_point = -1;
    const std::array<int32_t, 1> folded_bias{10};
    std::array<int8_t, 4> output{};
    ASSERT_EQ(Conv2d(params, kInput3x3.data(), kFilter2x2.data(), folded_bias.data(),
                     output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), (std::vector<int32_t>{12, 9, 6, 3}));
  }
}

TEST(Conv2dTest, GroupsReadOnlyTheirInputChannels) {
  // One pixel, 4 input channels [1, 2, 3, 4], 1x1 filters.
  const std::array<int8_t, 4> input{1, 2, 3, 4};
  {
    // groups 2, 4 output channels: o0, o1 read channels 0-1, o2, o3 read channels 2-3.
    //   o0 = 1*1 + 2*1 = 3, o1 = 1*1 - 2*1 = -1, o2 = 3*2 + 4*0 = 6, o3 = 3*0 - 4*3 = -12
    // bias [1, 1, 0, 2]: 4, 0, 6, -10 -> 2, 0, 3, -5.
    Conv2dParams params = HalfScaleParams(1, 1, 4, 4, 1, 1);
    params.groups = 2;
    const std::array<int8_t, 8> filter{1, 1, 1, -1, 2, 0, 0, -3};
    const std::array<int32_t, 4> bias{1, 1, 0, 2};
    std::array<int8_t, 4> output{};
    ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), (std::vector<int32_t>{2, 0, 3, -5}));
  }
  {
    // groups 2, 2 output channels: o0 = 1*5 + 2*6 = 17, o1 = 3*7 + 4*8 = 53 (a conv that
    // ignored groups would give o1 = 1*7 + 2*8 = 23). bias [1, -1]: 18, 52 -> 9, 26.
    Conv2dParams params = HalfScaleParams(1, 1, 4, 2, 1, 1);
    params.groups = 2;
    const std::array<int8_t, 4> filter{5, 6, 7, 8};
    const std::array<int32_t, 2> bias{1, -1};
    std::array<int8_t, 2> output{};
    ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(Widen(output), (std::vector<int32_t>{9, 26}));
  }
}

TEST(Conv2dTest, PerChannelAndPerTensorMultipliers) {
  // x = 10, 1x1 filters [3, -5, 7], bias 0: acc = 30, -50, 70.
  // Per channel M = 0.5 (2^30, 31), 0.25 (2^30, 32), 0.75 (3 * 2^29, 31):
  //   15, -12.5 -> -12, 52.5 -> 53 (ties toward +inf).
  // Per tensor uses entry 0 only, M = 0.5: 15, -25, 35.
  const std::array<int32_t, 3> multipliers{int32_t{1} << 30, int32_t{1} << 30,
                                           3 * (int32_t{1} << 29)};
  const std::array<int32_t, 3> shifts{31, 32, 31};
  Conv2dParams params = HalfScaleParams(1, 1, 1, 3, 1, 1);
  params.requantize.multipliers = multipliers.data();
  params.requantize.shifts = shifts.data();
  const std::array<int8_t, 1> input{10};
  const std::array<int8_t, 3> filter{3, -5, 7};
  const std::array<int32_t, 3> bias{0, 0, 0};
  std::array<int8_t, 3> output{};

  params.requantize.per_channel = true;
  ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{15, -12, 53}));

  params.requantize.per_channel = false;
  ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{15, -25, 35}));
}

TEST(Conv2dTest, FusedActivationIsAClamp) {
  // x = 10, filters [-4, 1, 6], bias 0: acc = -40, 10, 60 -> -20, 5, 30; z_out = -3 gives
  // -23, 2, 27. ReLU clamps below at max(-128, z_out) = -3; a ReLU6 whose round(6 / s) is 20
  // also caps at -3 + 20 = 17.
  Conv2dParams params = HalfScaleParams(1, 1, 1, 3, 1, 1);
  params.requantize.output_zero_point = -3;
  const std::array<int8_t, 1> input{10};
  const std::array<int8_t, 3> filter{-4, 1, 6};
  const std::array<int32_t, 3> bias{0, 0, 0};
  std::array<int8_t, 3> output{};

  ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-23, 2, 27}));

  params.requantize.activation_min = -3;
  ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-3, 2, 27}));

  params.requantize.activation_max = 17;
  ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(Widen(output), (std::vector<int32_t>{-3, 2, 17}));
}

TEST(Conv2dTest, ExtremeZeroPoints) {
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
    Conv2dParams params = HalfScaleParams(1, 1, 1, 1, 3, 3);
    params.padding_height = 1;
    params.padding_width = 1;
    params.input_zero_point = test_case.input_zero_point;
    params.requantize.output_zero_point = test_case.output_zero_point;
    const std::array<int32_t, 1> bias{-test_case.input_zero_point * 9};
    const std::array<int8_t, 1> input{test_case.input};
    std::array<int8_t, 1> output{};
    ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], test_case.expected);
  }
}

TEST(Conv2dTest, AccumulatorAtTheBoundDoesNotWrap) {
  // K = 1 * 1 * 1; bias 2^31 - 1 - 128 * 127 is the largest accepted. x = -128, w = -127
  // adds exactly 128 * 127, reaching INT32_MAX; with M = 0.5 the output saturates at 127.
  Conv2dParams params = HalfScaleParams(1, 1, 1, 1, 1, 1);
  const std::array<int8_t, 1> input{-128};
  const std::array<int8_t, 1> filter{-127};
  const std::array<int32_t, 1> bias{INT32_MAX - 128 * 127};
  std::array<int8_t, 1> output{};
  ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
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

// Materializes the input padded with input_zero_point, then forms every output as one flat
// dot product over its filter's (filter_y, filter_x, in_c) taps in int64.
std::vector<int8_t> ReferenceConv2d(const Conv2dParams& params,
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
  const size_t filter_h = U(params.filter_height);
  const size_t filter_w = U(params.filter_width);
  const size_t stride_y = U(params.stride_height);
  const size_t stride_x = U(params.stride_width);
  const size_t dilation_y = U(params.dilation_height);
  const size_t dilation_x = U(params.dilation_width);
  const size_t out_h = (padded_height - (dilation_y * (filter_h - 1) + 1)) / stride_y + 1;
  const size_t out_w = (padded_width - (dilation_x * (filter_w - 1) + 1)) / stride_x + 1;
  const size_t out_channels = U(params.output_channels);
  const size_t group_in = channels / U(params.groups);
  const size_t group_out = out_channels / U(params.groups);
  const size_t taps = filter_h * filter_w * group_in;
  std::vector<int8_t> output;
  for (size_t b = 0; b < batches; ++b) {
    for (size_t oy = 0; oy < out_h; ++oy) {
      for (size_t ox = 0; ox < out_w; ++ox) {
        for (size_t o = 0; o < out_channels; ++o) {
          const size_t first_channel = (o / group_out) * group_in;
          int64_t acc = bias[o];
          for (size_t t = 0; t < taps; ++t) {
            const size_t ky = t / (filter_w * group_in);
            const size_t kx = (t / group_in) % filter_w;
            const size_t c = t % group_in;
            const size_t py = oy * stride_y + ky * dilation_y;
            const size_t px = ox * stride_x + kx * dilation_x;
            acc += padded[((b * padded_height + py) * padded_width + px) * channels +
                          first_channel + c] *
                   filter[o * taps + t];
          }
          EXPECT_GE(acc, INT32_MIN);
          EXPECT_LE(acc, INT32_MAX);
          output.push_back(ReferenceRequantize(acc, params.requantize, o));
        }
      }
    }
  }
  return output;
}

using test_support::Random;

TEST(Conv2dTest, MatchesPaddedInputReferenceOnRandomShapes) {
  Random random(20240611);
  // Most outputs must land inside the clamp, or the comparison would say little.
  size_t clamped_outputs = 0;
  size_t unclamped_outputs = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Conv2dParams params;
    params.batches = random.Uniform(1, 2);
    params.groups = random.Uniform(1, 3);
    params.input_channels = params.groups * random.Uniform(1, 3);
    params.output_channels = params.groups * random.Uniform(1, 3);
    params.filter_height = random.Uniform(1, 3);
    params.filter_width = random.Uniform(1, 3);
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

    const size_t input_count = U(params.batches) * U(params.input_height) *
                               U(params.input_width) * U(params.input_channels);
    const size_t filter_count = U(params.output_channels) * U(params.filter_height) *
                                U(params.filter_width) *
                                U(params.input_channels / params.groups);
    const size_t channels = U(params.output_channels);
    const std::vector<int8_t> input = random.Int8s(input_count, -128, 127);
    const std::vector<int8_t> filter = random.Int8s(filter_count, -127, 127);
    const std::vector<int32_t> bias = random.Int32s(channels, -20000, 20000);
    const std::vector<int32_t> multipliers =
        random.Int32s(channels, kMultiplierMin, kMultiplierMax);
    const std::vector<int32_t> shifts = random.Int32s(channels, 39, 45);
    params.requantize.multipliers = multipliers.data();
    params.requantize.shifts = shifts.data();
    params.requantize.per_channel = random.Uniform(0, 1) == 1;
    params.requantize.output_zero_point = random.Uniform(-128, 127);
    if (random.Uniform(0, 2) == 0) {
      params.requantize.activation_min = random.Uniform(-128, 0);
      params.requantize.activation_max = random.Uniform(params.requantize.activation_min, 127);
    }

    SCOPED_TRACE("trial " + std::to_string(trial));
    const std::vector<int8_t> expected = ReferenceConv2d(params, input, filter, bias);
    ASSERT_EQ(expected.size(), U(ElementCount(params.batches, OutputHeight(params),
                                              OutputWidth(params), params.output_channels)));
    std::vector<int8_t> output(expected.size(), kSentinel);
    ASSERT_EQ(Conv2d(params, input.data(), filter.data(), bias.data(), output.data()),
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

// --- Rejected inputs: the status, and the output left untouched ----------------------------

class Conv2dRejectTest : public ::testing::Test {
 protected:
  // A valid base case: 3x3x2 input, 2x2 filter, 2 output channels -> a 2x2x2 output, K = 8.
  static Conv2dParams ValidParams() { return HalfScaleParams(3, 3, 2, 2, 2, 2); }

  Status Run(const Conv2dParams& params) {
    output_.fill(kSentinel);
    return Conv2d(params, input_.data(), filter_.data(), bias_.data(), output_.data());
  }

  void ExpectRejected(const Conv2dParams& params, Status expected) {
    EXPECT_EQ(Run(params), expected) << StatusName(expected);
    EXPECT_EQ(Widen(output_), std::vector<int32_t>(output_.size(), kSentinel));
  }

  std::array<int8_t, 18> input_{1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3, -4, -5, -6, -7, -8, -9};
  std::array<int8_t, 16> filter_{1, -1, 2, -2, 3, -3, 4, -4, 5, 5, 6, 6, 7, 7, 8, 8};
  std::array<int32_t, 2> bias_{0, 0};
  std::array<int8_t, 8> output_{};
};

TEST_F(Conv2dRejectTest, AcceptsTheBaseCase) {
  EXPECT_EQ(Run(ValidParams()), Status::kOk);
  EXPECT_NE(Widen(output_), std::vector<int32_t>(output_.size(), kSentinel));
}

TEST_F(Conv2dRejectTest, NullPointer) {
  const Conv2dParams params = ValidParams();
  const int8_t* no_activations = nullptr;
  const int8_t* no_filter = nullptr;
  const int32_t* no_bias = nullptr;
  int8_t* no_output = nullptr;
  output_.fill(kSentinel);
  EXPECT_EQ(Conv2d(params, no_activations, filter_.data(), bias_.data(), output_.data()),
            Status::kNullPointer);
  EXPECT_EQ(Conv2d(params, input_.data(), no_filter, bias_.data(), output_.data()),
            Status::kNullPointer);
  EXPECT_EQ(Conv2d(params, input_.data(), filter_.data(), no_bias, output_.data()),
            Status::kNullPointer);
  EXPECT_EQ(Conv2d(params, input_.data(), filter_.data(), bias_.data(), no_output),
            Status::kNullPointer);
  EXPECT_EQ(Widen(output_), std::vector<int32_t>(output_.size(), kSentinel));
  Conv2dParams no_multipliers = params;
  no_multipliers.requantize.multipliers = nullptr;
  ExpectRejected(no_multipliers, Status::kNullPointer);
  Conv2dParams no_shifts = params;
  no_shifts.requantize.shifts = nullptr;
  ExpectRejected(no_shifts, Status::kNullPointer);
}

TEST_F(Conv2dRejectTest, BadShape) {
  int32_t Conv2dParams::*const dimensions[] = {
      &Conv2dParams::batches,         &Conv2dParams::input_height,
      &Conv2dParams::input_width,     &Conv2dParams::input_channels,
      &Conv2dParams::output_channels, &Conv2dParams::filter_height,
      &Conv2dParams::filter_width};
  for (int32_t Conv2dParams::*const dimension : dimensions) {
    for (const int32_t bad : {0, -1, INT32_MIN}) {
      SCOPED_TRACE(bad);
      Conv2dParams params = ValidParams();
      params.*dimension = bad;
      ExpectRejected(params, Status::kBadShape);
    }
  }
  {
    SCOPED_TRACE("input element count 2^16 * 2^16 * 2 overflows int32");
    Conv2dParams params = ValidParams();
    params.input_height = 1 << 16;
    params.input_width = 1 << 16;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("filter element count 2^16 * 2 * 2 * 2^16 overflows int32");
    Conv2dParams params = ValidParams();
    params.input_channels = 1 << 16;
    params.output_channels = 1 << 16;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("output element count 60001 * 60001 * 2 overflows int32");
    Conv2dParams params = ValidParams();
    params.filter_height = 1;
    params.filter_width = 1;
    params.padding_height = 29999;
    params.padding_width = 29999;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("4x4 filter on a 3x3 input: no output position");
    Conv2dParams params = ValidParams();
    params.filter_height = 4;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("dilation 3 spreads a 2-tap filter over 4 rows: no output position");
    Conv2dParams params = ValidParams();
    params.dilation_height = 3;
    ExpectRejected(params, Status::kBadShape);
  }
  {
    SCOPED_TRACE("dilation INT32_MAX: span beyond int32");
    Conv2dParams params = ValidParams();
    params.dilation_width = INT32_MAX;
    ExpectRejected(params, Status::kBadShape);
  }
}

TEST_F(Conv2dRejectTest, BadStride) {
  for (const int32_t bad : {0, -1, INT32_MIN}) {
    SCOPED_TRACE(bad);
    Conv2dParams params = ValidParams();
    params.stride_height = bad;
    ExpectRejected(params, Status::kBadStride);
    params = ValidParams();
    params.stride_width = bad;
    ExpectRejected(params, Status::kBadStride);
  }
}

TEST_F(Conv2dRejectTest, BadDilation) {
  for (const int32_t bad : {0, -1, INT32_MIN}) {
    SCOPED_TRACE(bad);
    Conv2dParams params = ValidParams();
    params.dilation_height = bad;
    ExpectRejected(params, Status::kBadDilation);
    params = ValidParams();
    params.dilation_width = bad;
    ExpectRejected(params, Status::kBadDilation);
  }
}

TEST_F(Conv2dRejectTest, BadPadding) {
  for (const int32_t bad : {-1, INT32_MIN, INT32_MAX / 2, INT32_MAX}) {
    SCOPED_TRACE(bad);  // negative, or input + 2 * padding beyond INT32_MAX
    Conv2dParams params = ValidParams();
    params.padding_height = bad;
    ExpectRejected(params, Status::kBadPadding);
    params = ValidParams();
    params.padding_width = bad;
    ExpectRejected(params, Status::kBadPadding);
  }
}

TEST_F(Conv2dRejectTest, BadGroups) {
  for (const int32_t bad : {0, -1, -2, INT32_MIN, 3}) {
    SCOPED_TRACE(bad);
    Conv2dParams params = ValidParams();
    params.groups = bad;
    ExpectRejected(params, Status::kBadGroups);
  }
  {
    SCOPED_TRACE("groups 2 divides 2 input channels but not 3 output channels");
    Conv2dParams params = ValidParams();
    params.groups = 2;
    params.output_channels = 3;
    ExpectRejected(params, Status::kBadGroups);
  }
  {
    SCOPED_TRACE("groups 2 divides 4 output channels but not 1 input channel");
    Conv2dParams params = ValidParams();
    params.groups = 2;
    params.input_channels = 1;
    params.output_channels = 4;
    ExpectRejected(params, Status::kBadGroups);
  }
}

TEST_F(Conv2dRejectTest, BadZeroPoint) {
  for (const int32_t bad : {-129, 128, INT32_MIN, INT32_MAX}) {
    SCOPED_TRACE(bad);
    Conv2dParams params = ValidParams();
    params.input_zero_point = bad;
    ExpectRejected(params, Status::kBadZeroPoint);
    params = ValidParams();
    params.requantize.output_zero_point = bad;
    ExpectRejected(params, Status::kBadZeroPoint);
  }
}

TEST_F(Conv2dRejectTest, BadMultiplier) {
  for (const int32_t bad : {(int32_t{1} << 30) - 1, 0, -1, INT32_MIN}) {
    SCOPED_TRACE(bad);
    const std::array<int32_t, 1> per_tensor{bad};
    Conv2dParams params = ValidParams();
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

TEST_F(Conv2dRejectTest, BadShift) {
  for (const int32_t bad : {0, -1, 63, INT32_MIN, INT32_MAX}) {
    SCOPED_TRACE(bad);
    const std::array<int32_t, 1> per_tensor{bad};
    Conv2dParams params = ValidParams();
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

TEST_F(Conv2dRejectTest, BadActivationRange) {
  Conv2dParams params = ValidParams();
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

TEST_F(Conv2dRejectTest, Aliasing) {
  const Conv2dParams params = ValidParams();
  // 18 input bytes followed by room for the 8 output bytes.
  std::array<int8_t, 26> buffer{};
  for (size_t start : {size_t{0}, size_t{10}, size_t{17}}) {
    SCOPED_TRACE(start);
    buffer.fill(kSentinel);
    EXPECT_EQ(Conv2d(params, buffer.data(), filter_.data(), bias_.data(), buffer.data() + start),
              Status::kAliasing);
    EXPECT_EQ(Widen(buffer), std::vector<int32_t>(buffer.size(), kSentinel));
  }
  // Output directly after the input shares no byte and is accepted.
  buffer.fill(1);
  EXPECT_EQ(Conv2d(params, buffer.data(), filter_.data(), bias_.data(), buffer.data() + 18),
            Status::kOk);
}

TEST_F(Conv2dRejectTest, AccumulatorOverflow) {
  // K = 2 * 2 * 2 = 8, K * 128 * 127 = 130048: |bias| must stay below 2^31 - 130048.
  const Conv2dParams params = ValidParams();
  constexpr int32_t kLimit = INT32_MAX - 130048 + 1;  // 2^31 - 130048
  for (const int32_t bad : {kLimit, -kLimit, INT32_MAX, INT32_MIN}) {
    SCOPED_TRACE(bad);
    bias_ = {0, bad};
    ExpectRejected(params, Status::kAccumulatorOverflow);
  }
  bias_ = {kLimit - 1, -(kLimit - 1)};
  EXPECT_EQ(Run(params), Status::kOk);
}

TEST_F(Conv2dRejectTest, ReportsTheFirstFailingCheckInDocumentedOrder) {
  {
    Conv2dParams params = ValidParams();
    params.stride_height = 0;
    output_.fill(kSentinel);
    EXPECT_EQ(Conv2d(params, static_cast<const int8_t*>(nullptr), filter_.data(), bias_.data(),
                     output_.data()),
              Status::kNullPointer);
  }
  Conv2dParams params = ValidParams();
  params.batches = 0;
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
  params.groups = 0;
  ExpectRejected(params, Status::kBadPadding);
  params = ValidParams();
  params.groups = 3;
  params.filter_height = 4;  // also no output position
  ExpectRejected(params, Status::kBadGroups);
  params = ValidParams();
  params.filter_width = 4;
  params.input_zero_point = 200;
  ExpectRejected(params, Status::kBadShape);
  params = ValidParams();
  params.input_zero_point = 200;
  const std::array<int32_t, 1> bad_multiplier{0};
  params.requantize.multipliers = bad_multiplier.data();
  ExpectRejected(params, Status::kBadZeroPoint);
  params = ValidParams();
  params.requantize.multipliers = bad_multiplier.data();
  EXPECT_EQ(Conv2d(params, output_.data(), filter_.data(), bias_.data(), output_.data()),
            Status::kBadMultiplier);
  {
    SCOPED_TRACE("aliasing before the accumulator bound");
    std::array<int8_t, 18> buffer{};
    buffer.fill(kSentinel);
    bias_ = {INT32_MAX, INT32_MAX};
    EXPECT_EQ(Conv2d(ValidParams(), buffer.data(), filter_.data(), bias_.data(), buffer.data()),
              Status::kAliasing);
    EXPECT_EQ(Widen(buffer), std::vector<int32_t>(buffer.size(), kSentinel));
  }
}

}  // namespace
}  // namespace integr8
