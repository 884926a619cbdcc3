// The Arm DSP backend's blocking, tails and byte order, on the host: without
// __ARM_FEATURE_DSP its SXTB16 and SMLAD are plain integer C++ with the instructions' results,
// so the backend conformance suite (backend_conformance.h) checks the algorithm here; the
// firmware tests under QEMU check the same code with the real instructions.
#include "integr8/backend/arm_dsp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "integr8/fixedpoint.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/types.h"
#include "unit/backend_conformance.h"
#include "unit/test_random.h"

namespace integr8::conformance {
namespace {

// Scratch of exactly the queried size, so a read or write past it is caught by the
// sanitizers; invalid params get none (the queries need valid params, and validation must
// fail first anyway).
struct ArmDspBackend {
  static constexpr const char* kName = "arm_dsp";
  static Status Linear(const LinearParams& params, const int8_t* input, const int8_t* weights,
                       const int32_t* bias, int8_t* output) {
    const size_t bytes = ValidateLinearParams(params) == Status::kOk
                             ? backend::arm_dsp::LinearScratchBytes(params)
                             : 0;
    std::vector<int8_t> scratch(bytes);
    return backend::arm_dsp::Linear(params, input, weights, bias, output, scratch.data(),
                                    scratch.size());
  }
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

// The portable signatures, so that select.h can offer either under one name; Linear and
// Conv2d with the scratch buffer and its size appended, select.h's scratch forms.
static_assert(std::is_same_v<decltype(&backend::arm_dsp::MaxPool2d<int8_t>),
                             decltype(&integr8::MaxPool2d<int8_t>)>);
static_assert(std::is_same_v<decltype(&backend::arm_dsp::Linear<int8_t, int8_t, int32_t>),
                             Status (*)(const LinearParams&, const int8_t*, const int8_t*,
                                        const int32_t*, int8_t*, int8_t*, size_t)>);
static_assert(std::is_same_v<decltype(&backend::arm_dsp::Conv2d<int8_t, int8_t, int32_t>),
                             Status (*)(const Conv2dParams&, const int8_t*, const int8_t*,
                                        const int32_t*, int8_t*, int8_t*, size_t)>);

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
  // 3 alignment bytes, 16 bytes per group of four taps (two int16 patches), the int8 patch
  // (whole groups), since the group's 2 channels are not a multiple of four, and 16 bytes
  // per output channel for the requantization table.
  constexpr size_t kGroups = (Conv2dCall::kProducts + 3) / 4;
  ASSERT_EQ(needed, 3 + 16 * kGroups + 4 * kGroups + 16 * 6);
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

// One widened row for a single batch, a pair for more: 8 bytes per group of four features per
// row, plus 3 alignment bytes. Scratch shorter than that, or none, is refused before anything
// is written.
TEST(ArmDspLinearTest, RefusesShortScratch) {
  LinearCall call;  // batches 2, 3 input features: one group
  ASSERT_EQ(backend::arm_dsp::LinearScratchBytes(call.params), size_t{3 + 16});
  LinearParams one_row = call.params;
  one_row.batches = 1;
  one_row.input_features = 9;  // three groups
  EXPECT_EQ(backend::arm_dsp::LinearScratchBytes(one_row), size_t{3 + 8 * 3});
  const size_t needed = backend::arm_dsp::LinearScratchBytes(call.params);
  std::vector<int8_t> scratch(needed - 1);
  const std::vector<int8_t> before = call.buffer;
  EXPECT_EQ(backend::arm_dsp::Linear(call.params, call.input, call.weights.data(),
                                     call.bias.data(), call.output, scratch.data(),
                                     scratch.size()),
            Status::kArenaTooSmall);
  EXPECT_EQ(backend::arm_dsp::Linear(call.params, call.input, call.weights.data(),
                                     call.bias.data(), call.output, nullptr, needed),
            Status::kArenaTooSmall);
  EXPECT_TRUE(call.buffer == before);
  // Invalid arguments report their own Status first, as the portable kernel does.
  EXPECT_EQ(backend::arm_dsp::Linear(call.params, call.input, call.weights.data(),
                                     call.bias.data(), static_cast<int8_t*>(nullptr), nullptr,
                                     0),
            Status::kNullPointer);
}

// Every combination of an odd or even batch count (a last row alone, or pairs only), K from 1
// to 36 (every K mod 4, K below one group, and for a row alone none, one or two passes of its
// loop of four groups with 0 to 3 groups left over), 1 to 9 channels (a row alone: none, one
// or two blocks of four, with 0 to 3 channels left over), both requantizations
// (the high-word one and the portable one, per channel and per tensor), with scratch of exactly
// the queried size at every alignment; every output channel against the portable kernel, and
// nothing written past the output.
TEST(ArmDspLinearTest, MatchesPortableOverBatchesDepthsAndChannels) {
  test_support::Random random(20261125);
  int32_t cases = 0;
  for (int32_t batches = 1; batches <= 4; ++batches) {
    for (int32_t depth = 1; depth <= 36; ++depth) {
      for (int32_t channels = 1; channels <= 9; ++channels) {
        for (const bool high_word : {true, false}) {
          SCOPED_TRACE("batches " + std::to_string(batches) + " K " + std::to_string(depth) +
                       " channels " + std::to_string(channels) +
                       (high_word ? " high word" : " portable requantization"));
          const size_t channel_count = static_cast<size_t>(channels);
          std::vector<int32_t> multipliers(channel_count);
          std::vector<int32_t> shifts(channel_count);
          for (size_t c = 0; c < channel_count; ++c) {
            multipliers[c] = random.Uniform(int32_t{1} << 30, std::numeric_limits<int32_t>::max());
            shifts[c] = random.Uniform(36, 42);  // outputs spread over int8
          }
          LinearParams params;
          params.batches = batches;
          params.input_features = depth;
          params.output_features = channels;
          params.requantize = {multipliers.data(), shifts.data(), cases % 2 == 0,
                               random.Uniform(-128, 127), -128, 127};
          if (!high_word) {
            // A narrower clamp, or a shift outside [33, 54], takes the portable Requantize.
            if (cases % 3 == 0) {
              shifts[0] = cases % 2 == 0 ? 32 : 55;
            } else {
              params.requantize.activation_min = -100;
              params.requantize.activation_max = 110;
            }
          }
          ASSERT_EQ(backend::arm_dsp::internal::CanRequantizeByHighWord(params.requantize,
                                                                        channels),
                    high_word);
          const std::vector<int8_t> input =
              random.Int8s(static_cast<size_t>(batches * depth), -128, 127);
          const std::vector<int8_t> weights =
              random.Int8s(static_cast<size_t>(channels * depth), -127, 127);
          const std::vector<int32_t> bias = random.Int32s(channel_count, -50000, 50000);
          const size_t outputs = static_cast<size_t>(batches * channels);
          std::vector<int8_t> expected(outputs + kGuardBytes, kPortableFill);
          std::vector<int8_t> actual(outputs + kGuardBytes, kBackendFill);
          ASSERT_EQ(integr8::Linear(params, input.data(), weights.data(), bias.data(),
                                    expected.data()),
                    Status::kOk);
          const size_t offset = static_cast<size_t>(cases % 4);
          const size_t bytes = backend::arm_dsp::LinearScratchBytes(params);
          std::vector<int8_t> scratch(offset + bytes);
          ASSERT_EQ(backend::arm_dsp::Linear(params, input.data(), weights.data(), bias.data(),
                                             actual.data(), scratch.data() + offset, bytes),
                    Status::kOk);
          for (size_t i = 0; i < outputs; ++i) {
            ASSERT_EQ(int32_t{actual[i]}, int32_t{expected[i]})
                << "row " << i / channel_count << " channel " << i % channel_count;
          }
          for (size_t i = outputs; i < actual.size(); ++i) ASSERT_EQ(actual[i], kBackendFill);
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 36 * 9 * 2);
}

// The high-word requantization (SMMLA, ASR, SSAT) against the spec's Requantize, over every
// shift it accepts, the multipliers' and zero points' extremes and accumulators at the int32
// extremes, at zero, and on both sides of rounding ties.
TEST(ArmDspRequantizeTest, HighWordMatchesRequantize) {
  test_support::Random random(20261123);
  std::vector<int32_t> multipliers = {int32_t{1} << 30, (int32_t{1} << 30) + 1,
                                      std::numeric_limits<int32_t>::max(),
                                      std::numeric_limits<int32_t>::max() - 1};
  for (int i = 0; i < 12; ++i) {
    multipliers.push_back(random.Uniform(int32_t{1} << 30, std::numeric_limits<int32_t>::max()));
  }
  int64_t checked = 0;
  for (int32_t shift = backend::arm_dsp::internal::kHighWordShiftMin;
       shift <= backend::arm_dsp::internal::kHighWordShiftMax; ++shift) {
    for (const int32_t multiplier : multipliers) {
      for (const int32_t zero_point : {-128, -127, -1, 0, 1, 57, 126, 127}) {
        std::vector<int32_t> accs = {std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int32_t>::min() + 1, -1, 0, 1,
                                     std::numeric_limits<int32_t>::max() - 1,
                                     std::numeric_limits<int32_t>::max()};
        // Accumulators whose product lands next to a rounding tie: acc ~ k * 2^(n-1) / m.
        for (int64_t k = -260; k <= 260; k += 13) {
          const int64_t tie = k * (int64_t{1} << (shift - 1)) / multiplier;
          for (int64_t delta = -2; delta <= 2; ++delta) {
            const int64_t acc = tie + delta;
            if (acc >= std::numeric_limits<int32_t>::min() &&
                acc <= std::numeric_limits<int32_t>::max()) {
              accs.push_back(static_cast<int32_t>(acc));
            }
          }
        }
        for (int i = 0; i < 20; ++i) {
          accs.push_back(random.Uniform(std::numeric_limits<int32_t>::min(),
                                        std::numeric_limits<int32_t>::max()));
        }
        for (int i = 0; i < 20; ++i) accs.push_back(random.Uniform(-5000, 5000));
        const int32_t high_shift = shift - 32;
        const int32_t rounding =
            backend::arm_dsp::internal::HighWordRounding(zero_point, high_shift);
        for (const int32_t acc : accs) {
          const int8_t high_word = backend::arm_dsp::internal::RequantizeByHighWord(
              acc, multiplier, rounding, high_shift);
          const int32_t expected = Requantize(acc, multiplier, shift, zero_point, -128, 127);
          ASSERT_EQ(int32_t{high_word}, expected)
              << "acc " << acc << " m " << multiplier << " n " << shift << " z " << zero_point;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 100000);
}

// The high-word path is taken exactly where the shift is in [33, 54] and the activation range
// is the whole int8 range: per channel in RequantizeChannel, for every channel of a call in
// CanRequantizeByHighWord (Conv2d's table).
TEST(ArmDspRequantizeTest, HighWordOnlyWhereExact) {
  using backend::arm_dsp::internal::CanRequantizeByHighWord;
  using backend::arm_dsp::internal::IsHighWordShift;
  EXPECT_FALSE(IsHighWordShift(32));
  EXPECT_TRUE(IsHighWordShift(33));
  EXPECT_TRUE(IsHighWordShift(54));
  EXPECT_FALSE(IsHighWordShift(55));
  const int32_t multipliers[3] = {int32_t{1} << 30, int32_t{1} << 30, int32_t{1} << 30};
  int32_t shifts[3] = {33, 54, 40};
  RequantizeParams params{multipliers, shifts, true, 0, -128, 127};
  EXPECT_TRUE(CanRequantizeByHighWord(params, 3));
  shifts[2] = 32;
  EXPECT_FALSE(CanRequantizeByHighWord(params, 3));
  EXPECT_TRUE(CanRequantizeByHighWord(params, 2));  // only the channels in use count
  shifts[2] = 55;
  EXPECT_FALSE(CanRequantizeByHighWord(params, 3));
  params.per_channel = false;  // per tensor: the first entry only
  EXPECT_TRUE(CanRequantizeByHighWord(params, 3));
  params.activation_min = -127;
  EXPECT_FALSE(CanRequantizeByHighWord(params, 3));
  params.activation_min = -128;
  params.activation_max = 126;
  EXPECT_FALSE(CanRequantizeByHighWord(params, 3));
}

// Random convolutions and linear layers that all take the high-word path, so its blocking
// (2x2 blocks, an odd last channel, an odd last position, K % 4 tails, scratch at every
// alignment) is checked against the portable kernels, not only the conformance suite's mix.
TEST(ArmDspConv2dTest, HighWordPathMatchesPortable) {
  test_support::Random random(7);
  const auto uniform = [&random](int32_t low, int32_t high) {
    return random.Uniform(low, high);
  };
  for (int trial = 0; trial < 300; ++trial) {
    Conv2dParams params;
    params.batches = uniform(1, 2);
    params.groups = uniform(1, 2);
    params.input_channels = params.groups * uniform(1, 9);
    params.output_channels = params.groups * uniform(1, 5);
    params.filter_height = uniform(1, 3);
    params.filter_width = uniform(1, 3);
    params.input_height = uniform(params.filter_height, 6);
    params.input_width = uniform(params.filter_width, 6);
    params.stride_height = uniform(1, 2);
    params.stride_width = uniform(1, 2);
    params.padding_height = uniform(0, params.filter_height / 2);
    params.padding_width = uniform(0, params.filter_width / 2);
    params.input_zero_point = uniform(-128, 127);
    const int32_t depth =
        params.filter_height * params.filter_width * params.input_channels / params.groups;
    std::vector<int32_t> multipliers(static_cast<size_t>(params.output_channels));
    std::vector<int32_t> shifts(multipliers.size());
    for (size_t c = 0; c < multipliers.size(); ++c) {
      multipliers[c] = uniform(int32_t{1} << 30, std::numeric_limits<int32_t>::max());
      shifts[c] = uniform(38, 44);
    }
    params.requantize = {multipliers.data(), shifts.data(), trial % 3 != 0, uniform(-128, 127),
                         -128, 127};
    const int32_t inputs = params.batches * params.input_height * params.input_width *
                           params.input_channels;
    std::vector<int8_t> input(static_cast<size_t>(inputs));
    for (int8_t& value : input) value = static_cast<int8_t>(uniform(-128, 127));
    std::vector<int8_t> filter(static_cast<size_t>(params.output_channels * depth));
    for (int8_t& value : filter) value = static_cast<int8_t>(uniform(-127, 127));
    std::vector<int32_t> bias(static_cast<size_t>(params.output_channels));
    for (int32_t& value : bias) value = uniform(-100000, 100000);
    const int32_t outputs =
        params.batches * OutputHeight(params) * OutputWidth(params) * params.output_channels;
    std::vector<int8_t> expected(static_cast<size_t>(outputs), 0x5A);
    ASSERT_EQ(integr8::Conv2d(params, input.data(), filter.data(), bias.data(), expected.data()),
              Status::kOk);
    ASSERT_TRUE(backend::arm_dsp::internal::CanRequantizeByHighWord(params.requantize,
                                                                     params.output_channels));
    const size_t offset = static_cast<size_t>(trial % 4);  // scratch at every alignment
    const size_t bytes = backend::arm_dsp::Conv2dScratchBytes(params);
    std::vector<int8_t> scratch(bytes + offset);
    std::vector<int8_t> actual(static_cast<size_t>(outputs), -0x5B);
    ASSERT_EQ(backend::arm_dsp::Conv2d(params, input.data(), filter.data(), bias.data(),
                                       actual.data(), scratch.data() + offset, bytes),
              Status::kOk);
    ASSERT_EQ(actual, expected) << "trial " << trial << " K " << depth;

    // The same operands as a Linear layer: rows of K inputs, out channels.
    LinearParams linear;
    linear.batches = uniform(1, 3);
    linear.input_features = depth;
    linear.output_features = params.output_channels / params.groups;
    linear.requantize = params.requantize;
    std::vector<int8_t> rows(static_cast<size_t>(linear.batches * depth));
    for (int8_t& value : rows) value = static_cast<int8_t>(uniform(-128, 127));
    std::vector<int8_t> linear_expected(static_cast<size_t>(linear.batches *
                                                            linear.output_features), 0x5A);
    std::vector<int8_t> linear_actual(linear_expected.size(), -0x5B);
    ASSERT_EQ(integr8::Linear(linear, rows.data(), filter.data(), bias.data(),
                              linear_expected.data()),
              Status::kOk);
    const size_t linear_bytes = backend::arm_dsp::LinearScratchBytes(linear);
    std::vector<int8_t> linear_scratch(linear_bytes + offset);
    ASSERT_EQ(backend::arm_dsp::Linear(linear, rows.data(), filter.data(), bias.data(),
                                       linear_actual.data(), linear_scratch.data() + offset,
                                       linear_bytes),
              Status::kOk);
    ASSERT_EQ(linear_actual, linear_expected) << "trial " << trial;
  }
}

// SMLABB / SMLABT read signed 16-bit halves: bottom 0xFF80 is -128, top 0x8001 is -32767.
TEST(ArmDspInstructionsTest, MultiplyAccumulateHalves) {
  using backend::arm_dsp::internal::MultiplyAccumulateBottoms;
  using backend::arm_dsp::internal::MultiplyAccumulateBottomTop;
  EXPECT_EQ(MultiplyAccumulateBottoms(-127, 0x8001FF80u, 10), 10 + 127 * 128);
  EXPECT_EQ(MultiplyAccumulateBottoms(0x7FFF0005, 0x0000FFFFu, 0), -5);  // a's top ignored
  EXPECT_EQ(MultiplyAccumulateBottomTop(-127, 0x8001FF80u, 10), 10 + 127 * 32767);
  EXPECT_EQ(MultiplyAccumulateBottomTop(3, 0x0002FFFFu, -1), 5);
}

// SSUB8/SEL on the lanes' extremes: the signed difference of -128 and 127 does not wrap.
TEST(ArmDspInstructionsTest, MaxAndMinBytes) {
  // Lanes (low to high) a = (-128, 127, -1, 5), b = (127, -128, 0, 5).
  EXPECT_EQ(backend::arm_dsp::internal::MaxBytes(0x05FF7F80u, 0x0500807Fu), 0x05007F7Fu);
  EXPECT_EQ(backend::arm_dsp::internal::MinBytes(0x05FF7F80u, 0x0500807Fu), 0x05FF8080u);
}

// A random max pool: shape, strides, padding, ceil_mode, activation range, and the input at
// every alignment. Channel counts run past 8 so that whole words, tails and both occur.
struct MaxPoolCase {
  Pool2dParams params;
  std::vector<int8_t> input_buffer;  // input at an offset of 0..3 bytes
  size_t input_offset = 0;
  size_t output_count = 0;

  explicit MaxPoolCase(test_support::Random& random) {
    params.batches = random.Uniform(1, 3);
    params.channels = random.Uniform(1, 13);
    params.filter_height = random.Uniform(1, 4);
    params.filter_width = random.Uniform(1, 4);
    params.padding_height = random.Uniform(0, params.filter_height / 2);
    params.padding_width = random.Uniform(0, params.filter_width / 2);
    // Inputs down to the smallest the padded filter accepts.
    params.input_height =
        random.Uniform(std::max(1, params.filter_height - 2 * params.padding_height), 9);
    params.input_width =
        random.Uniform(std::max(1, params.filter_width - 2 * params.padding_width), 9);
    params.stride_height = random.Uniform(1, 3);
    params.stride_width = random.Uniform(1, 3);
    params.ceil_mode = random.Percent(30);
    params.input_zero_point = random.Uniform(-128, 127);
    if (random.Percent(50)) {
      params.activation_min = random.Uniform(-128, 127);
      params.activation_max = random.Uniform(params.activation_min, 127);
    }
    const size_t inputs = static_cast<size_t>(params.batches) *
                          static_cast<size_t>(params.input_height) *
                          static_cast<size_t>(params.input_width) *
                          static_cast<size_t>(params.channels);
    input_offset = static_cast<size_t>(random.Uniform(0, 3));
    input_buffer = random.Int8s(input_offset + inputs, -128, 127);
    if (random.Percent(20)) {  // only the extremes and their neighbours: ties everywhere
      for (int8_t& value : input_buffer) {
        const int32_t pick = random.Uniform(0, 3);
        value = static_cast<int8_t>(pick == 0 ? -128 : pick == 1 ? 127 : pick == 2 ? -1 : 0);
      }
    }
  }
  const int8_t* input() const { return input_buffer.data() + input_offset; }
};

TEST(ArmDspMaxPool2dTest, MatchesPortableOnRandomShapes) {
  test_support::Random random(20261124);
  int32_t valid = 0;
  int32_t whole_words = 0;
  int32_t tails = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const MaxPoolCase call(random);
    const Status expected_status = ValidatePool2dParams(call.params);
    if (expected_status != Status::kOk) continue;  // a ceil_mode or padding corner; see below
    ++valid;
    whole_words += call.params.channels >= 4 ? 1 : 0;
    tails += call.params.channels % 4 != 0 ? 1 : 0;
    const size_t outputs = static_cast<size_t>(call.params.batches) *
                           static_cast<size_t>(OutputHeight(call.params)) *
                           static_cast<size_t>(OutputWidth(call.params)) *
                           static_cast<size_t>(call.params.channels);
    // One byte of slack past the output, which neither kernel may write.
    std::vector<int8_t> expected(outputs + 1, 0x5A);
    std::vector<int8_t> actual(outputs + 1, 0x5A);
    ASSERT_EQ(integr8::MaxPool2d(call.params, call.input(), expected.data()), Status::kOk);
    ASSERT_EQ(backend::arm_dsp::MaxPool2d(call.params, call.input(), actual.data()), Status::kOk);
    ASSERT_EQ(actual, expected) << "trial " << trial << " channels " << call.params.channels;
  }
  EXPECT_GT(valid, 1500);
  EXPECT_GT(whole_words, 500);
  EXPECT_GT(tails, 500);
}

// Invalid arguments: the portable kernel's Status, and nothing written.
TEST(ArmDspMaxPool2dTest, RefusesBadInputsLikePortable) {
  test_support::Random random(5);
  Pool2dParams good;
  good.batches = 2;
  good.input_height = 5;
  good.input_width = 6;
  good.channels = 6;
  good.filter_height = 2;
  good.filter_width = 3;
  good.stride_height = 2;
  good.stride_width = 1;
  good.padding_height = 1;
  good.padding_width = 1;
  const std::vector<Pool2dParams> bad = [&good] {
    std::vector<Pool2dParams> cases(14, good);
    cases[0].batches = 0;
    cases[1].channels = -1;
    cases[2].filter_width = 0;
    cases[3].stride_height = 0;
    cases[4].padding_width = -1;
    cases[5].padding_height = 2;  // more than filter / 2
    cases[6].filter_height = 8;   // larger than the padded input
    cases[6].padding_height = 0;
    cases[7].input_zero_point = 128;
    cases[8].activation_min = 10;
    cases[8].activation_max = 9;
    cases[9].activation_max = 128;
    cases[10].activation_min = -129;
    cases[11].input_height = std::numeric_limits<int32_t>::max();  // element count overflow
    cases[12].stride_width = -3;
    cases[13].input_width = 0;
    return cases;
  }();
  const size_t inputs = 2 * 5 * 6 * 6;
  std::vector<int8_t> buffer = random.Int8s(2 * inputs, -128, 127);
  const std::vector<int8_t> before = buffer;
  int8_t* const input = buffer.data();
  int8_t* const output = buffer.data() + inputs;  // disjoint from the input
  for (size_t i = 0; i < bad.size(); ++i) {
    const Status expected = integr8::MaxPool2d(bad[i], input, output);
    ASSERT_NE(expected, Status::kOk) << "case " << i;
    EXPECT_EQ(backend::arm_dsp::MaxPool2d(bad[i], input, output), expected) << "case " << i;
    EXPECT_TRUE(buffer == before) << "case " << i;
  }
  // Null pointers and an output that overlaps the input, with valid params.
  EXPECT_EQ(backend::arm_dsp::MaxPool2d(good, static_cast<const int8_t*>(nullptr), output),
            Status::kNullPointer);
  EXPECT_EQ(backend::arm_dsp::MaxPool2d(good, input, static_cast<int8_t*>(nullptr)),
            Status::kNullPointer);
  EXPECT_EQ(integr8::MaxPool2d(good, input, input + 7), Status::kAliasing);
  EXPECT_EQ(backend::arm_dsp::MaxPool2d(good, input, input + 7), Status::kAliasing);
  EXPECT_TRUE(buffer == before);
  // And the valid call writes.
  ASSERT_EQ(backend::arm_dsp::MaxPool2d(good, input, output), Status::kOk);
  EXPECT_FALSE(buffer == before);
}

}  // namespace
}  // namespace integr8::conformance
