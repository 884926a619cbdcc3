#include "integr8/kernels/pool.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace integr8 {
namespace {

// Written into every output buffer first, so that a rejected call is seen to leave it alone.
constexpr int8_t kSentinel = 0x5A;

Pool2dParams PoolParams(int32_t height, int32_t width, int32_t channels, int32_t filter_height,
                        int32_t filter_width, int32_t stride, int32_t padding) {
  Pool2dParams params;
  params.input_height = height;
  params.input_width = width;
  params.channels = channels;
  params.filter_height = filter_height;
  params.filter_width = filter_width;
  params.stride_height = stride;
  params.stride_width = stride;
  params.padding_height = padding;
  params.padding_width = padding;
  return params;
}

std::vector<int8_t> RunMax(const Pool2dParams& params, const std::vector<int8_t>& input) {
  std::vector<int8_t> output(static_cast<size_t>(
      ElementCount(params.batches, OutputHeight(params), OutputWidth(params), params.channels)));
  EXPECT_EQ(MaxPool2d(params, input.data(), output.data()), Status::kOk);
  return output;
}

std::vector<int8_t> RunAvg(const Pool2dParams& params, const std::vector<int8_t>& input) {
  std::vector<int8_t> output(static_cast<size_t>(
      ElementCount(params.batches, OutputHeight(params), OutputWidth(params), params.channels)));
  EXPECT_EQ(AvgPool2d(params, input.data(), output.data()), Status::kOk);
  return output;
}

// ---- Max pool ----------------------------------------------------------------------------

TEST(MaxPool2dTest, TwoByTwoStrideTwo) {
  const Pool2dParams params = PoolParams(4, 4, 1, 2, 2, 2, 0);
  const std::vector<int8_t> input{1,    -5,   3,   7,  //
                                  -2,   0,    -8,  4,  //
                                  -128, -100, 127, 6,  //
                                  -90,  -128, 5,   5};
  // {1, -5, -2, 0} -> 1; {3, 7, -8, 4} -> 7; {-128, -100, -90, -128} -> -90;
  // {127, 6, 5, 5} -> 127.
  EXPECT_EQ(RunMax(params, input), (std::vector<int8_t>{1, 7, -90, 127}));
}

TEST(MaxPool2dTest, PaddingAtEveryBorderIsIgnored) {
  // 3x3 input, 3x3 window, stride 1, padding 1: every output but the centre has padded taps.
  // All inputs are negative, so reading padding as 0 or as the zero point (127 here, which
  // max pooling must ignore) would change every border output.
  Pool2dParams params = PoolParams(3, 3, 1, 3, 3, 1, 1);
  params.input_zero_point = 127;
  const std::vector<int8_t> input{-10, -20, -30,  //
                                  -40, -50, -60,  //
                                  -70, -80, -90};
  // Rows/cols inside each window:
  // (0,0) r0-1 c0-1 {-10,-20,-40,-50} -> -10   (0,1) r0-1 c0-2 -> -10
  // (0,2) r0-1 c1-2 {-20,-30,-50,-60} -> -20   (1,0) r0-2 c0-1 -> -10
  // (1,1) all -> -10                           (1,2) r0-2 c1-2 -> -20
  // (2,0) r1-2 c0-1 {-40,-50,-70,-80} -> -40   (2,1) r1-2 c0-2 -> -40
  // (2,2) r1-2 c1-2 {-50,-60,-80,-90} -> -50
  EXPECT_EQ(RunMax(params, input),
            (std::vector<int8_t>{-10, -10, -20, -10, -10, -20, -40, -40, -50}));
}

TEST(MaxPool2dTest, BatchesChannelsAndActivationClamp) {
  // Two samples of 2x2x2, global 2x2 window, clamp to [-20, 50].
  Pool2dParams params = PoolParams(2, 2, 2, 2, 2, 1, 0);
  params.batches = 2;
  params.activation_min = -20;
  params.activation_max = 50;
  const std::vector<int8_t> input{5, -128, -3, -128, 9, -128, 100, -128,  // sample 0
                                  0, -7,   1,  -9,   2, -30,  3,   -25};  // sample 1
  // sample 0: c0 max(5, -3, 9, 100) = 100 -> 50; c1 max = -128 -> -20
  // sample 1: c0 max(0, 1, 2, 3) = 3;             c1 max(-7, -9, -30, -25) = -7
  EXPECT_EQ(RunMax(params, input), (std::vector<int8_t>{50, -20, 3, -7}));
}

TEST(MaxPool2dTest, CeilModeWindowsAreClippedToTheInput) {
  // 4x4, 3x3 window, stride 2, padding 1, ceil_mode: (4 + 2 - 3) / 2 = 1 rem 1, so floor gives
  // 2 and ceil 3; the last window starts at 3 < 4 + 1 and is kept. Windows span rows/cols
  // {-1..1} -> {0, 1}, {1..3} -> {1, 2, 3}, {3..5} -> {3} (4 is padding, 5 is past it).
  Pool2dParams params = PoolParams(4, 4, 1, 3, 3, 2, 1);
  params.ceil_mode = true;
  ASSERT_EQ(OutputHeight(params), 3);
  ASSERT_EQ(OutputWidth(params), 3);
  const std::vector<int8_t> input{-1,  -2,  -3,  -4,   //
                                  -5,  -6,  -7,  -8,   //
                                  -9,  -10, -11, -12,  //
                                  -13, -14, -15, -16};
  // The largest value in rows R, cols C is the one nearest the top-left corner:
  // (0,0) R{0,1} C{0,1} -> -1    (0,1) R{0,1} C{1,2,3} -> -2    (0,2) R{0,1} C{3} -> -4
  // (1,0) R{1,2,3} C{0,1} -> -5  (1,1) -> -6                    (1,2) R{1,2,3} C{3} -> -8
  // (2,0) R{3} C{0,1} -> -13     (2,1) R{3} C{1,2,3} -> -14     (2,2) R{3} C{3} -> -16
  EXPECT_EQ(RunMax(params, input),
            (std::vector<int8_t>{-1, -2, -4, -5, -6, -8, -13, -14, -16}));
}

TEST(MaxPool2dTest, CeilModeAddsAPartialLastWindow) {
  // 1x5, window 1x2, stride 2, no padding: floor gives (5 - 2) / 2 + 1 = 2 windows, ceil_mode
  // adds a third one starting at x = 4 that holds only the last element.
  Pool2dParams params = PoolParams(1, 5, 1, 1, 2, 2, 0);
  const std::vector<int8_t> input{1, 2, -3, -4, -100};
  EXPECT_EQ(RunMax(params, input), (std::vector<int8_t>{2, -3}));
  params.ceil_mode = true;
  EXPECT_EQ(RunMax(params, input), (std::vector<int8_t>{2, -3, -100}));
}

// ---- Average pool ------------------------------------------------------------------------

// 3x3 input, 3x3 window, stride 1, padding 1, input zero point -3. Rows/cols inside each
// window and their sums:
//   (0,0) r0-1 c0-1: 10+20+40+50 = 120            valid 4
//   (0,1) r0-1 c0-2: 10+20+30+40+50+60 = 210      valid 6
//   (0,2) r0-1 c1-2: 20+30+50+60 = 160            valid 4
//   (1,0) r0-2 c0-1: 10+20+40+50+70+80 = 270      valid 6
//   (1,1) all: 450 - 90 + 91 = 451                valid 9
//   (1,2) r0-2 c1-2: 20+30+50+60+80+91 = 331      valid 6
//   (2,0) r1-2 c0-1: 40+50+70+80 = 240            valid 4
//   (2,1) r1-2 c0-2: 40+50+60+70+80+91 = 391      valid 6
//   (2,2) r1-2 c1-2: 50+60+80+91 = 281            valid 4
const std::vector<int8_t> kPaddedInput{10, 20, 30,  //
                                       40, 50, 60,  //
                                       70, 80, 91};

TEST(AvgPool2dTest, PaddingAtEveryBorderCountIncludePad) {
  Pool2dParams params = PoolParams(3, 3, 1, 3, 3, 1, 1);
  params.input_zero_point = -3;
  params.count_include_pad = true;
  // Every window spans 3x3 taps of the padded input (end = min(start + 3, 3 + 1)), so the
  // count is 9 and each of the 9 - valid padded taps adds -3.
  // (sum + 4) / 9 truncated, every sum being positive:
  //   (0,0) 120 - 15 = 105 -> 109/9 = 12    (0,1) 210 - 9 = 201 -> 205/9 = 22
  //   (0,2) 160 - 15 = 145 -> 149/9 = 16    (1,0) 270 - 9 = 261 -> 265/9 = 29
  //   (1,1) 451        -> 455/9 = 50        (1,2) 331 - 9 = 322 -> 326/9 = 36
  //   (2,0) 240 - 15 = 225 -> 229/9 = 25    (2,1) 391 - 9 = 382 -> 386/9 = 42
  //   (2,2) 281 - 15 = 266 -> 270/9 = 30
  EXPECT_EQ(RunAvg(params, kPaddedInput),
            (std::vector<int8_t>{12, 22, 16, 29, 50, 36, 25, 42, 30}));
}

TEST(AvgPool2dTest, PaddingAtEveryBorderExcludePad) {
  Pool2dParams params = PoolParams(3, 3, 1, 3, 3, 1, 1);
  params.input_zero_point = -3;  // must not be used
  params.count_include_pad = false;
  // Divide by the valid taps only: (sum + valid / 2) / valid truncated.
  //   (0,0) 122/4 = 30   (0,1) 213/6 = 35   (0,2) 162/4 = 40
  //   (1,0) 273/6 = 45   (1,1) 455/9 = 50   (1,2) 334/6 = 55
  //   (2,0) 242/4 = 60   (2,1) 394/6 = 65   (2,2) 283/4 = 70
  EXPECT_EQ(RunAvg(params, kPaddedInput),
            (std::vector<int8_t>{30, 35, 40, 45, 50, 55, 60, 65, 70}));
}

// 4x4 holding 1..16, 3x3 window, stride 2, padding 1, ceil_mode: 3x3 outputs (see the max
// pool test). Along each axis the windows start at -1, 1, 3 and PyTorch counts
//   start -1: end min(2, 5) = 2 -> extent 3, valid {0, 1}
//   start  1: end min(4, 5) = 4 -> extent 3, valid {1, 2, 3}
//   start  3: end min(6, 5) = 5 -> extent 2 (the ceil window is clipped), valid {3}
// Sums of the valid taps, value = 4 * row + col + 1:
//   (0,0) 1+2+5+6 = 14               (0,1) 2+3+4+6+7+8 = 30     (0,2) 4+8 = 12
//   (1,0) 5+6+9+10+13+14 = 57        (1,1) 6+7+8+10+11+12+14+15+16 = 99
//   (1,2) 8+12+16 = 36               (2,0) 13+14 = 27           (2,1) 14+15+16 = 45
//   (2,2) 16
const std::vector<int8_t> kCeilInput{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Pool2dParams CeilParams() {
  Pool2dParams params = PoolParams(4, 4, 1, 3, 3, 2, 1);
  params.ceil_mode = true;
  params.input_zero_point = 2;
  return params;
}

TEST(AvgPool2dTest, CeilModeClippedWindowsCountIncludePad) {
  Pool2dParams params = CeilParams();
  params.count_include_pad = true;
  // count = extent_y * extent_x; padded taps (count - valid) add z = 2 each.
  //   (0,0) 9, pad 5: 14 + 10 = 24 -> (24 + 4) / 9 = 3
  //   (0,1) 9, pad 3: 30 + 6 = 36  -> 40 / 9 = 4
  //   (0,2) 6, pad 4: 12 + 8 = 20  -> (20 + 3) / 6 = 3
  //   (1,0) 9, pad 3: 57 + 6 = 63  -> 67 / 9 = 7
  //   (1,1) 9, pad 0: 99           -> 103 / 9 = 11
  //   (1,2) 6, pad 3: 36 + 6 = 42  -> 45 / 6 = 7
  //   (2,0) 6, pad 4: 27 + 8 = 35  -> 38 / 6 = 6
  //   (2,1) 6, pad 3: 45 + 6 = 51  -> 8.5, a tie: 54 / 6 = 9
  //   (2,2) 4, pad 3: 16 + 6 = 22  -> 5.5, a tie: 24 / 4 = 6
  // (Counting the unclipped 3x3 at (2,2) would give (16 + 8 * 2 + 4) / 9 = 4.)
  EXPECT_EQ(RunAvg(params, kCeilInput), (std::vector<int8_t>{3, 4, 3, 7, 11, 7, 6, 9, 6}));
}

TEST(AvgPool2dTest, CeilModeClippedWindowsExcludePad) {
  Pool2dParams params = CeilParams();
  params.count_include_pad = false;
  // count = valid taps: (0,0) 14/4 = 3.5 -> 4   (0,1) 30/6 = 5    (0,2) 12/2 = 6
  //                     (1,0) 57/6 = 9.5 -> 10  (1,1) 99/9 = 11   (1,2) 36/3 = 12
  //                     (2,0) 27/2 = 13.5 -> 14 (2,1) 45/3 = 15   (2,2) 16/1 = 16
  EXPECT_EQ(RunAvg(params, kCeilInput),
            (std::vector<int8_t>{4, 5, 6, 10, 11, 12, 14, 15, 16}));
}

TEST(AvgPool2dTest, CeilModeClipsTheRightPaddingOnEachAxis) {
  // Along one axis of 6: window 3, stride 2, padding 1, ceil_mode: (6 + 2 - 3) / 2 = 2 rem 1,
  // floor 3, ceil 4 (last start 5 < 6 + 1). Starts -1, 1, 3, 5; the last window's end is
  // min(8, 7) = 7: it counts column 5 and one padded column, not the column at 7.
  // Input 10, 20, 30, 40, 50, 61 with z = 4:
  //   include pad: [-1, 2) pad + 10 + 20: (4 + 30 + 1) / 3 = 11;  [1, 4) 90 / 3 = 30;
  //                [3, 6) 151 -> 152 / 3 = 50;
  //                [5, 7) 61 + pad: 65 / 2 = 32.5 -> 66 / 2 = 33 (divisor 2, not 3)
  //   exclude pad: 30 / 2 = 15; 30; 50; 61 / 1 = 61
  const std::vector<int8_t> input{10, 20, 30, 40, 50, 61};
  for (const bool along_width : {true, false}) {
    Pool2dParams params = along_width ? PoolParams(1, 6, 1, 1, 3, 2, 0)
                                      : PoolParams(6, 1, 1, 3, 1, 2, 0);
    if (along_width) {
      params.padding_width = 1;
    } else {
      params.padding_height = 1;
    }
    params.input_zero_point = 4;
    params.count_include_pad = true;
    EXPECT_EQ(RunAvg(params, input), (std::vector<int8_t>{11, 30, 50}));  // floor: 3 windows
    params.ceil_mode = true;
    EXPECT_EQ(RunAvg(params, input), (std::vector<int8_t>{11, 30, 50, 33}));
    params.count_include_pad = false;
    EXPECT_EQ(RunAvg(params, input), (std::vector<int8_t>{15, 30, 50, 61}));
  }
}

TEST(AvgPool2dTest, GlobalAveragePool) {
  // AdaptiveAvgPool2d(1) over 2x3x4: the window is the whole input, count 6.
  const Pool2dParams params = PoolParams(2, 3, 4, 2, 3, 1, 0);
  // Position k (1..6) holds {k, -k, 127, -128}.
  const std::vector<int8_t> input{1, -1, 127, -128, 2, -2, 127, -128, 3, -3, 127, -128,
                                  4, -4, 127, -128, 5, -5, 127, -128, 6, -6, 127, -128};
  // c0: 21 / 6 = 3.5 -> (21 + 3) / 6 = 4          c1: -21 / 6 = -3.5 -> (-21 - 3) / 6 = -4
  // c2: 762 / 6 = 127                              c3: -768 / 6 = -128
  EXPECT_EQ(RunAvg(params, input), (std::vector<int8_t>{4, -4, 127, -128}));
}

TEST(AvgPool2dTest, RoundsTiesAwayFromZero) {
  // 1x2 window over a 1x2 input: count 2, every odd sum is a tie.
  const Pool2dParams pair = PoolParams(1, 2, 5, 1, 2, 1, 0);
  // c0 3+4 = 7 -> 3.5 -> 4     c1 -3-4 = -7 -> -3.5 -> -4    c2 -3+4 = 1 -> 0.5 -> 1
  // c3 3-4 = -1 -> -0.5 -> -1  c4 -1+1 = 0 -> 0
  EXPECT_EQ(RunAvg(pair, {3, -3, -3, 3, -1, 4, -4, 4, -4, 1}),
            (std::vector<int8_t>{4, -4, 1, -1, 0}));
  // 2x2 window, count 4, no ties: (sum + sign * 2) / 4 truncated.
  const Pool2dParams quad = PoolParams(2, 2, 4, 2, 2, 1, 0);
  // c0 1+1+1+0 = 3 -> 0.75 -> 5/4 = 1      c1 -1-1-1+0 = -3 -> -5/4 = -1
  // c2 1+0+0+0 = 1 -> 0.25 -> 3/4 = 0      c3 -1 -> -3/4 = 0
  EXPECT_EQ(RunAvg(quad, {1, -1, 1, -1, 1, -1, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0}),
            (std::vector<int8_t>{1, -1, 0, 0}));
}

TEST(AvgPool2dTest, PaddedTapsAddZeroPointAtInt8Extremes) {
  // 1x1x3 input, window 1x2, stride 1, padding 1 along x: (1 + 2 - 2) + 1 = 2 windows, each
  // holding the input and one padded tap, count 2. Channel 2 holds z itself.
  Pool2dParams params = PoolParams(1, 1, 3, 1, 2, 1, 0);
  params.padding_width = 1;
  params.count_include_pad = true;
  // z = -128: (100 - 128) / 2 = -14; (-100 - 128) / 2 = -114; (-128 - 128) / 2 = -128
  params.input_zero_point = -128;
  EXPECT_EQ(RunAvg(params, {100, -100, -128}),
            (std::vector<int8_t>{-14, -114, -128, -14, -114, -128}));
  // z = 0: 100 / 2 = 50; -100 / 2 = -50; 0
  params.input_zero_point = 0;
  EXPECT_EQ(RunAvg(params, {100, -100, 0}), (std::vector<int8_t>{50, -50, 0, 50, -50, 0}));
  // z = 127: 227 / 2 = 113.5 -> 114; 27 / 2 = 13.5 -> 14; 254 / 2 = 127
  params.input_zero_point = 127;
  EXPECT_EQ(RunAvg(params, {100, -100, 127}),
            (std::vector<int8_t>{114, 14, 127, 114, 14, 127}));
}

TEST(AvgPool2dTest, ClampsToActivationRange) {
  // Global 1x2 average then clamp to [-10, 10] (a fused ReLU6-like range).
  Pool2dParams params = PoolParams(1, 2, 3, 1, 2, 1, 0);
  params.activation_min = -10;
  params.activation_max = 10;
  // c0 (40 + 41) / 2 = 40.5 -> 41 -> 10; c1 (-40 - 41) -> -41 -> -10; c2 (3 + 4) -> 4
  EXPECT_EQ(RunAvg(params, {40, -40, 3, 41, -41, 4}), (std::vector<int8_t>{10, -10, 4}));
}

// ---- Validation --------------------------------------------------------------------------

// Parameters that are valid; each rejection test breaks one field.
Pool2dParams ValidParams() { return PoolParams(4, 4, 2, 2, 2, 2, 1); }

static_assert(ValidatePool2dParams(Pool2dParams{1, 4, 4, 2, 3, 3, 1, 1, 1, 1, false, true, 0,
                                                kActivationMin, kActivationMax}) ==
              Status::kOk);

// Runs both kernels on sentinel-filled buffers and checks the status and that nothing was
// written.
void ExpectRejected(const Pool2dParams& params, Status expected) {
  std::array<int8_t, 64> input{};
  std::array<int8_t, 64> output{};
  output.fill(kSentinel);
  EXPECT_EQ(MaxPool2d(params, input.data(), output.data()), expected);
  EXPECT_EQ(AvgPool2d(params, input.data(), output.data()), expected);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
  EXPECT_EQ(ValidatePool2dParams(params), expected);
}

TEST(Pool2dValidationTest, ValidParamsPass) {
  EXPECT_EQ(ValidatePool2dParams(ValidParams()), Status::kOk);
}

TEST(Pool2dValidationTest, NullPointer) {
  const Pool2dParams params = ValidParams();
  std::array<int8_t, 32> input{};
  std::array<int8_t, 18> output{};
  output.fill(kSentinel);
  EXPECT_EQ(MaxPool2d(params, static_cast<const int8_t*>(nullptr), output.data()),
            Status::kNullPointer);
  EXPECT_EQ(AvgPool2d(params, static_cast<const int8_t*>(nullptr), output.data()),
            Status::kNullPointer);
  EXPECT_EQ(MaxPool2d(params, input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
  EXPECT_EQ(AvgPool2d(params, input.data(), static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
  for (const int8_t value : output) ASSERT_EQ(value, kSentinel);
}

TEST(Pool2dValidationTest, BadShape) {
  Pool2dParams params = ValidParams();
  params.channels = 0;
  ExpectRejected(params, Status::kBadShape);
  params = ValidParams();
  params.batches = -1;
  ExpectRejected(params, Status::kBadShape);
  params = ValidParams();
  params.filter_width = 0;
  params.padding_width = 0;
  ExpectRejected(params, Status::kBadShape);
  // 65536 * 65536 elements exceed INT32_MAX.
  params = ValidParams();
  params.input_height = 65536;
  params.input_width = 65536;
  ExpectRejected(params, Status::kBadShape);
}

TEST(Pool2dValidationTest, ZeroOutputExtentIsBadShape) {
  // A 5-wide window over a 2-wide input with padding 0: no output position.
  Pool2dParams params = PoolParams(2, 2, 1, 1, 5, 1, 0);
  ASSERT_EQ(OutputWidth(params), 0);
  ExpectRejected(params, Status::kBadShape);
}

// WindowOutputExtent at the edges of its 32-bit arithmetic: a padded input of exactly
// INT32_MAX, a ceil_mode product (extent - 1) * stride past INT32_MAX, and padded inputs beyond
// INT32_MAX, which every kernel rejects (kBadPadding) and which give 0.
static_assert(WindowOutputExtent(INT32_MAX - 2, 1, 1, 1, 1, false) == INT32_MAX);
// ceil_mode drops the last of those windows, which starts in the right padding.
static_assert(WindowOutputExtent(INT32_MAX - 2, 1, 1, 1, 1, true) == INT32_MAX - 1);
static_assert(WindowOutputExtent(INT32_MAX, 1, INT32_MAX, 1, 0, true) == 1);
// reach 2^31 - 3, stride 2^30: ceil gives 3 windows, and the third, at 2^31 >= input + padding,
// starts in the right padding and is dropped.
static_assert(WindowOutputExtent(INT32_MAX - 2, 2, 1 << 30, 1, 1, true) == 2);
static_assert(WindowOutputExtent(INT32_MAX - 2, 2, 1 << 30, 1, 1, false) == 2);
// PyTorch would give INT32_MAX and 715,827,883 windows for these two.
static_assert(WindowOutputExtent(INT32_MAX - 2, 3, 1, 1, 2, false) == 0);
static_assert(WindowOutputExtent(INT32_MAX, 3, 3, 1, 1, true) == 0);

TEST(Pool2dValidationTest, BadStride) {
  Pool2dParams params = ValidParams();
  params.stride_height = 0;
  ExpectRejected(params, Status::kBadStride);
  params = ValidParams();
  params.stride_width = -2;
  ExpectRejected(params, Status::kBadStride);
}

TEST(Pool2dValidationTest, BadPadding) {
  Pool2dParams params = ValidParams();
  params.padding_height = -1;
  ExpectRejected(params, Status::kBadPadding);
  // More than half the filter: 2 > 3 / 2 = 1 (PyTorch rejects it too).
  params = PoolParams(4, 4, 1, 3, 3, 1, 0);
  params.padding_width = 2;
  ExpectRejected(params, Status::kBadPadding);
  // A 1-wide filter admits no padding.
  params = PoolParams(4, 4, 1, 1, 1, 1, 1);
  ExpectRejected(params, Status::kBadPadding);
  // Exactly half the filter is allowed.
  params = PoolParams(4, 4, 1, 3, 4, 1, 0);
  params.padding_height = 1;
  params.padding_width = 2;
  EXPECT_EQ(ValidatePool2dParams(params), Status::kOk);
}

TEST(Pool2dValidationTest, WindowTooLargeForInt32SumIsAccumulatorOverflow) {
  // A global pool over 4096 x 4096 counts 2^24 taps: 2^24 * -128 could reach -2^31.
  Pool2dParams params = PoolParams(4096, 4096, 1, 4096, 4096, 1, 0);
  ExpectRejected(params, Status::kAccumulatorOverflow);
  // 4096 x 4095 = 2^24 - 4096 taps fit.
  params.input_width = 4095;
  params.filter_width = 4095;
  EXPECT_EQ(ValidatePool2dParams(params), Status::kOk);
}

TEST(Pool2dValidationTest, BadZeroPoint) {
  Pool2dParams params = ValidParams();
  params.input_zero_point = 128;
  ExpectRejected(params, Status::kBadZeroPoint);
  params.input_zero_point = -129;
  ExpectRejected(params, Status::kBadZeroPoint);
}

TEST(Pool2dValidationTest, BadActivationRange) {
  Pool2dParams params = ValidParams();
  params.activation_min = 5;
  params.activation_max = 4;
  ExpectRejected(params, Status::kBadActivationRange);
  params = ValidParams();
  params.activation_max = 128;
  ExpectRejected(params, Status::kBadActivationRange);
  params = ValidParams();
  params.activation_min = -129;
  ExpectRejected(params, Status::kBadActivationRange);
}

TEST(Pool2dValidationTest, Aliasing) {
  // 4x4x2 input (32 bytes), 2x2 windows, stride 2, padding 1 -> 3x3x2 output (18 bytes).
  const Pool2dParams params = ValidParams();
  ASSERT_EQ(OutputHeight(params), 3);
  std::array<int8_t, 64> buffer{};
  buffer.fill(kSentinel);
  // In place and a partial overlap (output starting at the input's last byte).
  for (const size_t offset : {size_t{0}, size_t{31}}) {
    EXPECT_EQ(MaxPool2d(params, buffer.data(), buffer.data() + offset), Status::kAliasing);
    EXPECT_EQ(AvgPool2d(params, buffer.data(), buffer.data() + offset), Status::kAliasing);
  }
  for (const int8_t value : buffer) ASSERT_EQ(value, kSentinel);
  // Adjacent buffers do not overlap.
  EXPECT_EQ(MaxPool2d(params, buffer.data(), buffer.data() + 32), Status::kOk);
}

TEST(Pool2dValidationTest, ChecksInDocumentedOrder) {
  Pool2dParams params = ValidParams();
  params.stride_height = 0;         // kBadStride
  params.padding_width = 5;         // kBadPadding
  params.input_zero_point = 300;    // kBadZeroPoint
  params.activation_min = 100;      // kBadActivationRange
  params.activation_max = 0;
  EXPECT_EQ(ValidatePool2dParams(params), Status::kBadStride);
  params.stride_height = 1;
  EXPECT_EQ(ValidatePool2dParams(params), Status::kBadPadding);
  params.padding_width = 1;
  EXPECT_EQ(ValidatePool2dParams(params), Status::kBadZeroPoint);
  params.input_zero_point = 0;
  EXPECT_EQ(ValidatePool2dParams(params), Status::kBadActivationRange);
  // Null pointers come before any parameter check.
  std::array<int8_t, 18> output{};
  EXPECT_EQ(MaxPool2d(params, static_cast<const int8_t*>(nullptr), output.data()),
            Status::kNullPointer);
}

}  // namespace
}  // namespace integr8
