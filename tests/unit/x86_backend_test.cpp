// The x86 AVX2 backend: the backend conformance suite (backend_conformance.h) for Linear and
// Conv2d, the same checks for DepthwiseConv2d (random shapes, accumulators at the bound,
// rejected inputs, golden vectors), shapes that put every vector tail, tile remainder and
// im2col block boundary somewhere, and the compile-time selection. Compiled with -mavx2 -mfma
// and registered only when the compiler and this CPU support AVX2 (tests/CMakeLists.txt),
// once per product step: AVX2's (inline assembly and intrinsics), vpdpbusd emulated, and
// vpdpbusd itself where this CPU has it; the vpdpbusd builds also check it against its
// definition.
#include "integr8/backend/x86.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "integr8/backend/select.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/types.h"
#include "unit/backend_conformance.h"

#ifndef __AVX2__
#error "x86_backend_test must be compiled with AVX2 enabled (-mavx2)"
#endif

namespace integr8::conformance {
namespace {

struct X86Backend {
  static constexpr const char* kName = "x86";
  static Status Linear(const LinearParams& params, const int8_t* input, const int8_t* weights,
                       const int32_t* bias, int8_t* output) {
    return backend::x86::Linear(params, input, weights, bias, output);
  }
  static Status Conv2d(const Conv2dParams& params, const int8_t* input, const int8_t* filter,
                       const int32_t* bias, int8_t* output) {
    return backend::x86::Conv2d(params, input, filter, bias, output);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(X86, BackendLinearTest, X86Backend, BackendName);
INSTANTIATE_TYPED_TEST_SUITE_P(X86, BackendConv2dTest, X86Backend, BackendName);

// --- Signatures and selection ------------------------------------------------------------

static_assert(std::is_same_v<decltype(&backend::x86::Linear<int8_t, int8_t, int32_t>),
                             decltype(&integr8::Linear<int8_t, int8_t, int32_t>)>);
static_assert(std::is_same_v<decltype(&backend::x86::Conv2d<int8_t, int8_t, int32_t>),
                             decltype(&integr8::Conv2d<int8_t, int8_t, int32_t>)>);
static_assert(
    std::is_same_v<decltype(&backend::x86::DepthwiseConv2d<int8_t, int8_t, int32_t>),
                   decltype(&integr8::DepthwiseConv2d<int8_t, int8_t, int32_t>)>);
// The build names the product step it chose with its flags (tests/CMakeLists.txt).
static_assert(std::string_view(backend::selected::kName) == INTEGR8_EXPECTED_X86_BACKEND);
static_assert(std::string_view(backend::allocation_free::kName) == INTEGR8_EXPECTED_X86_BACKEND);

TEST(X86BackendSelectTest, SelectedIsTheX86Backend) {
  using LinearFunction = Status (*)(const LinearParams&, const int8_t*, const int8_t*,
                                    const int32_t*, int8_t*);
  using Conv2dFunction = Status (*)(const Conv2dParams&, const int8_t*, const int8_t*,
                                    const int32_t*, int8_t*);
  using DepthwiseFunction = Status (*)(const DepthwiseConv2dParams&, const int8_t*,
                                       const int8_t*, const int32_t*, int8_t*);
  const LinearFunction selected_linear = &backend::selected::Linear<int8_t, int8_t, int32_t>;
  const LinearFunction x86_linear = &backend::x86::Linear<int8_t, int8_t, int32_t>;
  const Conv2dFunction selected_conv = &backend::selected::Conv2d<int8_t, int8_t, int32_t>;
  const Conv2dFunction x86_conv = &backend::x86::Conv2d<int8_t, int8_t, int32_t>;
  const DepthwiseFunction selected_depthwise =
      &backend::selected::DepthwiseConv2d<int8_t, int8_t, int32_t>;
  const DepthwiseFunction x86_depthwise =
      &backend::x86::DepthwiseConv2d<int8_t, int8_t, int32_t>;
  EXPECT_EQ(selected_linear, x86_linear);
  EXPECT_EQ(selected_conv, x86_conv);
  EXPECT_EQ(selected_depthwise, x86_depthwise);
  // The x86 backend has no max pool: both names give the portable one.
  using PoolFunction = Status (*)(const Pool2dParams&, const int8_t*, int8_t*);
  const PoolFunction portable_max_pool = &integr8::MaxPool2d<int8_t>;
  EXPECT_EQ(PoolFunction{&backend::allocation_free::MaxPool2d<int8_t>}, portable_max_pool);
  EXPECT_EQ(PoolFunction{&backend::selected::MaxPool2d<int8_t>}, portable_max_pool);
}

#if INTEGR8_X86_VNNI || INTEGR8_X86_EMULATE_VNNI
// --- vpdpbusd -----------------------------------------------------------------------------

// What vpdpbusd writes to one 32-bit lane (Intel SDM): acc plus the four products of the
// lane's unsigned bytes of u and signed bytes of s, wrapped to 32 bits.
int32_t DotQuadsLane(int32_t acc, const uint8_t u[4], const int8_t s[4]) {
  int64_t sum = acc;
  for (int j = 0; j < 4; ++j) sum += int64_t{u[j]} * s[j];
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(sum)));
}

// Every byte value on both sides, accumulators near both int32 ends (the sum wraps there),
// and the step's own operands: |x| = 128 as the unsigned byte 0x80.
TEST(X86BackendDotQuadsTest, MatchesTheInstructionDefinition) {
  Random random(20261123);
  for (int trial = 0; trial < 20000; ++trial) {
    alignas(32) uint8_t u[32];
    alignas(32) int8_t s[32];
    alignas(32) int32_t acc[8];
    for (int i = 0; i < 32; ++i) {
      u[i] = static_cast<uint8_t>(trial < 256 ? trial : random.Uniform(0, 255));
      s[i] = static_cast<int8_t>(trial < 256 ? i * 8 - 128 : random.Uniform(-128, 127));
    }
    for (int32_t& lane : acc) {
      lane = random.Percent(20) ? random.Uniform(INT32_MAX - 200000, INT32_MAX)
             : random.Percent(25) ? random.Uniform(INT32_MIN, INT32_MIN + 200000)
                                  : random.Uniform(-1000000, 1000000);
    }
    alignas(32) int32_t result[8];
    _mm256_store_si256(
        reinterpret_cast<__m256i*>(result),
        backend::x86::internal::DotQuadsAccumulate(
            _mm256_load_si256(reinterpret_cast<const __m256i*>(acc)),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(u)),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(s))));
    for (int lane = 0; lane < 8; ++lane) {
      ASSERT_EQ(result[lane], DotQuadsLane(acc[lane], u + 4 * lane, s + 4 * lane))
          << "trial " << trial << ", lane " << lane;
    }
  }
  // By hand: 4 * 255 * -128 = -130560 and 4 * 128 * 127 = 65024 added to 7.
  alignas(32) int32_t result[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(result),
                     backend::x86::internal::DotQuadsAccumulate(
                         _mm256_set1_epi32(7), _mm256_set1_epi8(static_cast<char>(0xFF)),
                         _mm256_set1_epi8(-128)));
  EXPECT_EQ(result[3], 7 - 130560);
  _mm256_store_si256(reinterpret_cast<__m256i*>(result),
                     backend::x86::internal::DotQuadsAccumulate(
                         _mm256_set1_epi32(7), _mm256_set1_epi8(static_cast<char>(0x80)),
                         _mm256_set1_epi8(127)));
  EXPECT_EQ(result[5], 7 + 65024);
}
#endif

// The accumulator magnitude the random requantization aims at: K products of typical size,
// or the largest bias when that is larger (as the conformance suite's random cases do).
int64_t TypicalAccumulator(int32_t products, const std::vector<int32_t>& bias) {
  int64_t typical = int64_t{products} * 2000;
  for (const int32_t b : bias) typical = std::max<int64_t>(typical, b < 0 ? -int64_t{b} : b);
  return typical;
}

// --- Vector tails, tile remainders, im2col blocks ------------------------------------------

// Every input width from 1 to 100 (each 32-byte tail length, several times) and the widths
// around the vector multiples up to MNIST's 784 and beyond 1024, each with 1..9 output
// features (every remainder of the 4-channel tile) and 1..3 batches (the 2-row tile and its
// remainder), extreme operands in some.
TEST(X86BackendLinearTest, MatchesPortableAcrossVectorTails) {
  Random random(20250810);
  OutputSpread spread;
  std::vector<int32_t> widths;
  for (int32_t width = 1; width <= 100; ++width) widths.push_back(width);
  for (const int32_t width : {127, 128, 129, 255, 256, 257, 783, 784, 785, 1023, 1024, 1025,
                              2047, 2049}) {
    widths.push_back(width);
  }
  for (const int32_t width : widths) {
    LinearCase c;
    RandomLinearCase(random, 2, &c);
    LinearParams& params = c.params;
    params.batches = random.Uniform(1, 3);
    params.input_features = width;
    params.output_features = random.Uniform(1, 9);
    c.input = random.Int8(U(params.batches) * U(width), kActivationMin, kActivationMax);
    c.weights = random.Int8(U(params.output_features) * U(width), kWeightMin, kWeightMax);
    c.bias = random.Bias(U(params.output_features), width);
    RandomRequantization(random, params.output_features, TypicalAccumulator(width, c.bias),
                         &c.requantization);
    params.requantize = c.requantization.params;
    SCOPED_TRACE("width " + std::to_string(width));
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameLinear<X86Backend>(params, c.input, c.weights, c.bias, &spread));
  }
  ExpectSpread(spread);
}

// A random Linear case of `batches` rows of `width` products into `outputs` channels, against
// the portable kernels.
void ExpectRandomLinearMatches(Random& random, int32_t batches, int32_t width, int32_t outputs,
                               OutputSpread* spread) {
  LinearCase c;
  RandomLinearCase(random, 2, &c);
  LinearParams& params = c.params;
  params.batches = batches;
  params.input_features = width;
  params.output_features = outputs;
  c.input = random.Int8(U(batches) * U(width), kActivationMin, kActivationMax);
  c.weights = random.Int8(U(outputs) * U(width), kWeightMin, kWeightMax);
  c.bias = random.Bias(U(outputs), width);
  RandomRequantization(random, outputs, TypicalAccumulator(width, c.bias), &c.requantization);
  params.requantize = c.requantization.params;
  ASSERT_NO_FATAL_FAILURE(ExpectSameLinear<X86Backend>(params, c.input, c.weights, c.bias, spread));
}

// The same shape at the accumulator bound: x = -128, w = -127 / +127 alternating by channel,
// with the largest / most negative bias, so that accumulators reach +-(2^31 - 1). Checks the
// first two channels of the first row against Requantize of those extremes too.
void ExpectBoundLinearMatches(int32_t batches, int32_t width, int32_t outputs) {
  LinearParams params;
  params.batches = batches;
  params.input_features = width;
  params.output_features = outputs;
  BoundRequantization requantization(outputs);
  params.requantize = requantization.params;
  const std::vector<int8_t> input(U(batches) * U(width), -128);
  std::vector<int8_t> weights(U(outputs) * U(width));
  std::vector<int32_t> bias(U(outputs));
  for (int32_t channel = 0; channel < outputs; ++channel) {
    std::fill(weights.begin() + channel * width, weights.begin() + (channel + 1) * width,
              static_cast<int8_t>(channel % 2 == 0 ? -127 : 127));
    bias[U(channel)] = channel % 2 == 0 ? MaxBias(width) : -MaxBias(width);
  }
  OutputSpread spread;
  ASSERT_NO_FATAL_FAILURE(ExpectSameLinear<X86Backend>(params, input, weights, bias, &spread));
  std::vector<int8_t> output(U(batches) * U(outputs));
  ASSERT_EQ(backend::x86::Linear(params, input.data(), weights.data(), bias.data(),
                                 output.data()),
            Status::kOk);
  EXPECT_EQ(output[0], Requantize(INT32_MAX, requantization.multipliers[0], 55, 0, -128, 127));
  if (outputs > 1) {
    EXPECT_EQ(output[1],
              Requantize(-INT32_MAX, requantization.multipliers[1], 55, 0, -128, 127));
  }
}

// Batch 1 (and an odd last row of 3): the 1 x 8 single-row tiles, with input widths around
// the vector and cache-line multiples and 1..17 outputs (below 8, the 4-channel tiles; above,
// a short last tile shifted back over the previous one), random and at the accumulator bound
// (x = -128, w = -127 / +127 alternating by channel, the largest / most negative bias).
TEST(X86BackendLinearTest, SingleRowTilesMatchPortable) {
  Random random(20250813);
  OutputSpread spread;
  for (const int32_t width : {1, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 784, 1024}) {
    for (int32_t outputs = 1; outputs <= 17; ++outputs) {
      SCOPED_TRACE("width " + std::to_string(width) + " outputs " + std::to_string(outputs));
      ASSERT_NO_FATAL_FAILURE(
          ExpectRandomLinearMatches(random, outputs % 4 == 0 ? 3 : 1, width, outputs, &spread));
      ASSERT_NO_FATAL_FAILURE(ExpectBoundLinearMatches(1, width, outputs));
    }
  }
  ExpectSpread(spread);
}

// Depths up to kShortDepth (16): channels across the lanes in blocks of 8 (ShortDotRequantize).
// Every depth 1..17 (17: the first that takes the tiles again), 1..19 outputs (every
// remainder of the 8-channel block and of its two 4-channel halves), 1..4 rows, random and at
// the accumulator bound (x = -128, w = -127 / +127 alternating by channel, the largest / most
// negative bias).
TEST(X86BackendLinearTest, ShortDepthsMatchPortable) {
  Random random(20251123);
  OutputSpread spread;
  for (int32_t width = 1; width <= backend::x86::internal::kShortDepth + 1; ++width) {
    for (int32_t outputs = 1; outputs <= 19; ++outputs) {
      SCOPED_TRACE("width " + std::to_string(width) + " outputs " + std::to_string(outputs));
      const int32_t batches = 1 + (width + outputs) % 4;
      ASSERT_NO_FATAL_FAILURE(ExpectRandomLinearMatches(random, batches, width, outputs, &spread));
      ASSERT_NO_FATAL_FAILURE(ExpectBoundLinearMatches(batches, width, outputs));
    }
  }
  ExpectSpread(spread);
}

// Long rows of x = 127 (and a last row of -128) against w = +-127: the accumulators stay
// within the bound (|acc| <= 100000 * 128 * 127 < 2^31), but the VNNI tiles' unsigned-offset
// sums, (x + 128) * w = 255 * 127 per product, pass 2^31 when the lanes are added and wrap,
// which must still give the exact accumulator once the compensated bias is added. Rows 0 and 1 take the 2 x 4 tiles, row 2 (odd, 5 channels) the 1 x 4;
// the expected bytes are Requantize of the accumulators worked out by hand.
TEST(X86BackendLinearTest, OffsetSumsPastInt32StayExact) {
  constexpr int32_t kWidth = 100000;
  constexpr int32_t kOutputs = 5;
  LinearParams params;
  params.batches = 3;
  params.input_features = kWidth;
  params.output_features = kOutputs;
  const int32_t multiplier = 1 << 30;
  const int32_t shift = 55;
  params.requantize = {&multiplier, &shift, /*per_channel=*/false, /*output_zero_point=*/3,
                       /*activation_min=*/-128, /*activation_max=*/127};
  std::vector<int8_t> input(3 * U(kWidth), 127);
  std::fill(input.begin() + 2 * kWidth, input.end(), static_cast<int8_t>(-128));
  std::vector<int8_t> weights(U(kOutputs) * U(kWidth));
  for (int32_t channel = 0; channel < kOutputs; ++channel) {
    std::fill(weights.begin() + channel * kWidth, weights.begin() + (channel + 1) * kWidth,
              static_cast<int8_t>(channel % 2 == 0 ? 127 : -127));
  }
  const std::vector<int32_t> bias(U(kOutputs), 0);
  std::vector<int8_t> output(3 * U(kOutputs));
  ASSERT_EQ(backend::x86::Linear(params, input.data(), weights.data(), bias.data(),
                                 output.data()),
            Status::kOk);
  for (int32_t row = 0; row < 3; ++row) {
    for (int32_t channel = 0; channel < kOutputs; ++channel) {
      const int32_t x = row < 2 ? 127 : -128;
      const int32_t w = channel % 2 == 0 ? 127 : -127;
      EXPECT_EQ(output[U(row * kOutputs + channel)],
                Requantize(kWidth * x * w, multiplier, shift, 3, -128, 127))
          << "row " << row << ", channel " << channel;
    }
  }
}

// The convolution shapes the conformance suite leaves out: many channels per group (patches
// of several vectors with tails), blocks of positions that split images and batches, and
// patches larger than the stack block (the portable fallback).
TEST(X86BackendConv2dTest, MatchesPortableOnWideChannels) {
  struct Shape {
    int32_t batches, height, width, in_channels, out_channels, filter, stride, dilation,
        padding, groups;
  };
  const Shape shapes[] = {
      {1, 28, 28, 1, 16, 3, 1, 1, 1, 1},    // MNIST ConvNet layer 1
      {1, 14, 14, 16, 32, 3, 1, 1, 1, 1},   // layer 2
      {1, 7, 7, 32, 32, 3, 1, 1, 1, 1},     // layer 3
      {2, 9, 11, 64, 20, 3, 2, 1, 1, 1},    // K = 576, strided, odd channels
      {3, 8, 8, 33, 7, 3, 1, 2, 2, 1},      // K = 297, dilated
      {1, 10, 10, 96, 12, 3, 1, 1, 0, 3},   // groups of 32 input channels
      {1, 6, 6, 70, 10, 1, 1, 1, 0, 1},     // 1x1
      {2, 40, 40, 8, 5, 5, 1, 1, 2, 1},     // K = 200: 81 positions per block, 3200 positions
      {1, 3, 3, 2000, 3, 3, 1, 1, 1, 1},    // K = 18000 > kPatchBytes: portable fallback
  };
  Random random(20250811);
  OutputSpread spread;
  for (const Shape& shape : shapes) {
    Conv2dCase c;
    Conv2dParams& params = c.params;
    params.batches = shape.batches;
    params.input_height = shape.height;
    params.input_width = shape.width;
    params.input_channels = shape.in_channels;
    params.output_channels = shape.out_channels;
    params.filter_height = shape.filter;
    params.filter_width = shape.filter;
    params.stride_height = shape.stride;
    params.stride_width = shape.stride;
    params.dilation_height = shape.dilation;
    params.dilation_width = shape.dilation;
    params.padding_height = shape.padding;
    params.padding_width = shape.padding;
    params.groups = shape.groups;
    params.input_zero_point = random.ZeroPoint();
    const int32_t products = shape.filter * shape.filter * (shape.in_channels / shape.groups);
    c.input = random.Int8(U(ElementCount(params.batches, params.input_height,
                                         params.input_width, params.input_channels)),
                          kActivationMin, kActivationMax);
    c.filter = random.Int8(U(params.output_channels) * U(products), kWeightMin, kWeightMax);
    c.bias = random.Bias(U(params.output_channels), products);
    RandomRequantization(random, params.output_channels, TypicalAccumulator(products, c.bias),
                         &c.requantization);
    params.requantize = c.requantization.params;
    // No fused activation and a centred zero point: with few, large shapes a random clamp
    // could saturate most outputs, and the spread check below is about the accumulators.
    params.requantize.output_zero_point = 0;
    params.requantize.activation_min = kActivationMin;
    params.requantize.activation_max = kActivationMax;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameConv2d<X86Backend>(params, c.input, c.filter, c.bias, &spread));
  }
  ExpectSpread(spread);
}

// --- DepthwiseConv2d -------------------------------------------------------------------------

std::string Describe(const DepthwiseConv2dParams& p) {
  return "depthwise n=" + std::to_string(p.batches) + " hwc=" +
         std::to_string(p.input_height) + "x" + std::to_string(p.input_width) + "x" +
         std::to_string(p.input_channels) + " multiplier=" + std::to_string(p.depth_multiplier) +
         " filter=" + std::to_string(p.filter_height) + "x" + std::to_string(p.filter_width) +
         " stride=" + std::to_string(p.stride_height) + "," + std::to_string(p.stride_width) +
         " dilation=" + std::to_string(p.dilation_height) + "," +
         std::to_string(p.dilation_width) + " padding=" + std::to_string(p.padding_height) +
         "," + std::to_string(p.padding_width) + " z_in=" + std::to_string(p.input_zero_point) +
         (p.requantize.per_channel ? " per-channel" : " per-tensor");
}

void ExpectSameDepthwise(const DepthwiseConv2dParams& params, const std::vector<int8_t>& input,
                         const std::vector<int8_t>& filter, const std::vector<int32_t>& bias,
                         OutputSpread* spread) {
  SCOPED_TRACE(Describe(params));
  ExpectSameOutput(
      X86Backend::kName,
      ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                   DepthwiseOutputChannels(params)),
      params.requantize,
      [&](int8_t* output) {
        return integr8::DepthwiseConv2d(params, input.data(), filter.data(), bias.data(),
                                        output);
      },
      [&](int8_t* output) {
        return backend::x86::DepthwiseConv2d(params, input.data(), filter.data(), bias.data(),
                                             output);
      },
      spread);
}

// Filter and bias that put every accumulator at the bound when the input is all -128:
// w = -127 / +127 alternating by channel, with the largest / most negative bias.
struct BoundDepthwiseOperands {
  BoundDepthwiseOperands(int32_t channels, int32_t products)
      : filter(U(products) * U(channels)), bias(U(channels)) {
    for (int32_t c = 0; c < channels; ++c) {
      for (int32_t tap = 0; tap < products; ++tap) {
        filter[U(tap * channels + c)] = static_cast<int8_t>(c % 2 == 0 ? -127 : 127);
      }
      bias[U(c)] = c % 2 == 0 ? MaxBias(products) : -MaxBias(products);
    }
  }
  std::vector<int8_t> filter;
  std::vector<int32_t> bias;
};

// Completes `params` (batches, channels, depth multiplier, filter, stride, dilation and
// padding set) with a random input zero point, an input up to `extra` rows and columns larger
// than the filter needs, random operands and requantization, and compares with the portable
// kernel. wide_shifts forces every shift into [32, 62] (the fast path's eight-wide
// requantization), 32 and 62 themselves included.
void ExpectRandomDepthwiseMatches(Random& random, DepthwiseConv2dParams params, int32_t extra,
                                  bool wide_shifts, OutputSpread* spread) {
  params.input_zero_point = random.ZeroPoint();
  const int32_t min_height = std::max(
      1, params.dilation_height * (params.filter_height - 1) + 1 - 2 * params.padding_height);
  const int32_t min_width = std::max(
      1, params.dilation_width * (params.filter_width - 1) + 1 - 2 * params.padding_width);
  params.input_height = min_height + random.Uniform(0, extra);
  params.input_width = min_width + random.Uniform(0, extra);
  const int32_t channels = DepthwiseOutputChannels(params);
  const int32_t products = params.filter_height * params.filter_width;
  const std::vector<int8_t> input =
      random.Int8(U(ElementCount(params.batches, params.input_height, params.input_width,
                                 params.input_channels)),
                  kActivationMin, kActivationMax);
  const std::vector<int8_t> filter =
      random.Int8(U(products) * U(channels), kWeightMin, kWeightMax);
  const std::vector<int32_t> bias = random.Bias(U(channels), products);
  Requantization requantization;
  RandomRequantization(random, channels, TypicalAccumulator(products, bias), &requantization);
  if (wide_shifts) {
    for (int32_t& shift : requantization.shifts) {
      const int32_t pick = random.Uniform(0, 9);
      shift = pick == 0 ? 32 : pick == 1 ? kShiftMax : std::clamp(shift, 32, kShiftMax);
    }
  }
  params.requantize = requantization.params;
  ASSERT_NO_FATAL_FAILURE(ExpectSameDepthwise(params, input, filter, bias, spread));
}

// Channels 1..70 (every remainder of the 16-channel block), depth multipliers 1..3, filters
// up to 5x5, strides, dilations and paddings up to 3, 1..3 batches.
TEST(X86BackendDepthwiseTest, MatchesPortableOnRandomShapes) {
  Random random(20250812);
  OutputSpread spread;
  for (int32_t trial = 0; trial < 300; ++trial) {
    DepthwiseConv2dParams params;
    params.batches = random.Uniform(1, 3);
    params.input_channels = random.Percent(30) ? random.Uniform(1, 4) : random.Uniform(1, 70);
    params.depth_multiplier = random.Percent(70) ? 1 : random.Uniform(2, 3);
    params.filter_height = random.Uniform(1, 5);
    params.filter_width = random.Uniform(1, 5);
    params.stride_height = random.Uniform(1, 3);
    params.stride_width = random.Uniform(1, 3);
    params.dilation_height = random.Percent(60) ? 1 : random.Uniform(2, 3);
    params.dilation_width = random.Percent(60) ? 1 : random.Uniform(2, 3);
    params.padding_height = random.Uniform(0, 3);
    params.padding_width = random.Uniform(0, 3);
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(ExpectRandomDepthwiseMatches(random, params, 9, false, &spread));
  }
  ExpectSpread(spread);
}

// x = -128 everywhere and through the padding (z_in = -128); channel c has w = -127 and the
// largest bias when c is even (sum exactly INT32_MAX), w = +127 and the most negative bias when
// odd (exactly -INT32_MAX). The extremes are also checked against Requantize of the exact sums.
TEST(X86BackendDepthwiseTest, AccumulatorsAtTheBoundThroughPadding) {
  DepthwiseConv2dParams params;
  params.input_height = 2;
  params.input_width = 3;
  params.input_channels = 19;
  params.filter_height = 5;
  params.filter_width = 5;
  params.padding_height = 2;
  params.padding_width = 2;
  params.input_zero_point = -128;
  constexpr int32_t kChannels = 19;
  constexpr int32_t kProducts = 25;
  BoundRequantization requantization(kChannels);
  params.requantize = requantization.params;
  const std::vector<int8_t> input(2 * 3 * kChannels, -128);
  const BoundDepthwiseOperands bound(kChannels, kProducts);
  OutputSpread spread;
  ExpectSameDepthwise(params, input, bound.filter, bound.bias, &spread);
  std::vector<int8_t> output(2 * 3 * kChannels);
  ASSERT_EQ(backend::x86::DepthwiseConv2d(params, input.data(), bound.filter.data(),
                                          bound.bias.data(), output.data()),
            Status::kOk);
  EXPECT_EQ(output[0], Requantize(INT32_MAX, requantization.multipliers[0], 55, 0, -128, 127));
  EXPECT_EQ(output[1], Requantize(-INT32_MAX, requantization.multipliers[1], 55, 0, -128, 127));
}

// The 32-channel fast path (depth_multiplier 1, at most 28 taps): 32..100 channels so that
// full blocks and a last block overlapping the one before it mix; filters up to 6x6 (larger than 28 taps falls
// back); every stride, dilation and padding up to 3. Half the cases force every shift into
// [32, 62] (the eight-wide requantization, both extremes mixed in), the rest keep
// RandomRequantization's shifts, which often include one below 32 (four-wide fallback).
TEST(X86BackendDepthwiseTest, MatchesPortableOnWideChannels) {
  Random random(20261123);
  OutputSpread spread;
  for (int32_t trial = 0; trial < 200; ++trial) {
    DepthwiseConv2dParams params;
    params.batches = random.Uniform(1, 2);
    params.input_channels = random.Percent(40) ? 32 * random.Uniform(1, 3)
                                               : random.Uniform(32, 100);
    params.filter_height = random.Percent(50) ? 3 : random.Uniform(1, 6);
    params.filter_width = random.Percent(50) ? 3 : random.Uniform(1, 6);
    params.stride_height = random.Percent(60) ? 1 : random.Uniform(2, 3);
    params.stride_width = random.Percent(60) ? 1 : random.Uniform(2, 3);
    params.dilation_height = random.Percent(70) ? 1 : random.Uniform(2, 3);
    params.dilation_width = random.Percent(70) ? 1 : random.Uniform(2, 3);
    params.padding_height = random.Uniform(0, 3);
    params.padding_width = random.Uniform(0, 3);
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(ExpectRandomDepthwiseMatches(random, params, 7, random.Percent(50),
                                                         &spread));
  }
  ExpectSpread(spread);
}

// Accumulators at the bound (as above) through the fast path: 80 channels (two blocks and an
// overlapping third), a 5x5 filter over a 3x4 input with padding 2 (border pixels only) and
// over a 7x7 input with padding 0 ... 2 (interior pixels too), with every shift 32 (the
// smallest eight-wide one, r near +-2^30), 55 and 62, and 31 (four-wide).
TEST(X86BackendDepthwiseTest, WideAccumulatorsAtTheBound) {
  constexpr int32_t kChannels = 80;
  constexpr int32_t kProducts = 25;
  for (const int32_t shift : {31, 32, 55, 62}) {
    for (const int32_t size : {3, 7}) {
      for (const int32_t padding : {0, 2}) {
        if (size == 3 && padding == 0) continue;  // no output position
        DepthwiseConv2dParams params;
        params.input_height = size;
        params.input_width = size + 1;
        params.input_channels = kChannels;
        params.filter_height = 5;
        params.filter_width = 5;
        params.padding_height = padding;
        params.padding_width = padding;
        params.input_zero_point = -128;
        BoundRequantization requantization(kChannels);
        std::fill(requantization.shifts.begin(), requantization.shifts.end(), shift);
        params.requantize = requantization.params;
        const std::vector<int8_t> input(U(size * (size + 1) * kChannels), -128);
        const BoundDepthwiseOperands bound(kChannels, kProducts);
        SCOPED_TRACE("shift " + std::to_string(shift));
        OutputSpread spread;
        ASSERT_NO_FATAL_FAILURE(
            ExpectSameDepthwise(params, input, bound.filter, bound.bias, &spread));
      }
    }
  }
}

// The fast path's window arithmetic at the limits of int32: strides up to INT32_MAX and
// paddings up to the largest the kernels accept (input + 2 * padding <= INT32_MAX, inputs of
// 1..6). The bytes must be the portable kernel's, and the sanitizer build (tools/sanitize.sh)
// checks that no intermediate sum overflows.
TEST(X86BackendDepthwiseTest, WindowsAtTheLimitsOfInt32) {
  constexpr int32_t kExtra = 5;
  constexpr int32_t kLargestPadding = (INT32_MAX - 1 - kExtra) / 2;
  Random random(20261207);
  OutputSpread spread;
  for (const int32_t stride : {1, 1 << 30, INT32_MAX - 1, INT32_MAX}) {
    for (const int32_t padding : {0, 1, 2, kLargestPadding}) {
      // Stride 1 with the largest padding would have some 2^31 output columns.
      if (stride == 1 && padding == kLargestPadding) continue;
      DepthwiseConv2dParams params;
      params.input_channels = 40;
      params.filter_height = 3;
      params.filter_width = 3;
      params.stride_height = stride;
      params.stride_width = stride;
      params.padding_height = padding;
      params.padding_width = padding;
      SCOPED_TRACE("stride " + std::to_string(stride) + ", padding " + std::to_string(padding));
      ASSERT_NO_FATAL_FAILURE(ExpectRandomDepthwiseMatches(random, params, kExtra,
                                                           random.Percent(50), &spread));
    }
  }
}

// A valid depthwise call: 1x4x4x3 input, multiplier 2, 3x3 filter, padding 1, per channel ->
// 1x4x4x6, K = 9. Input and output are adjacent in one buffer.
struct DepthwiseCall {
  static constexpr int32_t kInputCount = 4 * 4 * 3;
  static constexpr int32_t kOutputCount = 4 * 4 * 6;

  DepthwiseCall() {
    params.input_height = 4;
    params.input_width = 4;
    params.input_channels = 3;
    params.depth_multiplier = 2;
    params.filter_height = 3;
    params.filter_width = 3;
    params.padding_height = 1;
    params.padding_width = 1;
    params.input_zero_point = 5;
    params.requantize.multipliers = multipliers.data();
    params.requantize.shifts = shifts.data();
    params.requantize.per_channel = true;
    for (int32_t i = 0; i < kInputCount; ++i) {
      buffer[U(i)] = static_cast<int8_t>(i * 11 % 256 - 128);
    }
    for (int32_t i = 0; i < 9 * 6; ++i) filter[U(i)] = static_cast<int8_t>(i * 13 % 255 - 127);
    input = buffer.data();
    output = buffer.data() + kInputCount;
  }
  DepthwiseCall(const DepthwiseCall&) = delete;
  DepthwiseCall& operator=(const DepthwiseCall&) = delete;

  std::vector<int32_t> multipliers = std::vector<int32_t>(6, kHalfMultiplier);
  std::vector<int32_t> shifts = std::vector<int32_t>(6, 31);
  std::vector<int8_t> filter = std::vector<int8_t>(9 * 6);
  std::vector<int32_t> bias{100, -100, 0, 500, -500, 7};
  std::vector<int8_t> buffer =
      std::vector<int8_t>(kInputCount + kOutputCount + kGuardBytes, kPortableFill);
  DepthwiseConv2dParams params;
  const int8_t* input = nullptr;
  int8_t* output = nullptr;
};

template <typename Mutate>
void ExpectDepthwiseRejected(Status expected, Mutate mutate) {
  for (const bool use_backend : {false, true}) {
    DepthwiseCall call;
    mutate(call);
    const std::vector<int8_t> buffer = call.buffer;
    const Status status =
        use_backend ? backend::x86::DepthwiseConv2d(call.params, call.input, call.filter.data(),
                                                    call.bias.data(), call.output)
                    : integr8::DepthwiseConv2d(call.params, call.input, call.filter.data(),
                                               call.bias.data(), call.output);
    const char* name = use_backend ? X86Backend::kName : "portable";
    EXPECT_EQ(status, expected) << name << " returned " << StatusName(status) << ", expected "
                                << StatusName(expected);
    EXPECT_TRUE(call.buffer == buffer) << name << " wrote although it returned "
                                       << StatusName(status);
  }
}

TEST(X86BackendDepthwiseTest, BaseRejectCallIsAcceptedAndMatches) {
  DepthwiseCall call;
  OutputSpread spread;
  ExpectSameDepthwise(call.params,
                      std::vector<int8_t>(call.input, call.input + DepthwiseCall::kInputCount),
                      call.filter, call.bias, &spread);
}

TEST(X86BackendDepthwiseTest, RejectsBadInputsLikePortable) {
  ExpectDepthwiseRejected(Status::kNullPointer, [](DepthwiseCall& c) { c.input = nullptr; });
  ExpectDepthwiseRejected(Status::kNullPointer, [](DepthwiseCall& c) { c.output = nullptr; });
  ExpectDepthwiseRejected(Status::kNullPointer,
                          [](DepthwiseCall& c) { c.params.requantize.shifts = nullptr; });
  ExpectDepthwiseRejected(Status::kBadShape,
                          [](DepthwiseCall& c) { c.params.depth_multiplier = 0; });
  ExpectDepthwiseRejected(Status::kBadShape, [](DepthwiseCall& c) {
    c.params.padding_width = 0;
    c.params.filter_width = 5;  // wider than the 4-column input
  });
  ExpectDepthwiseRejected(Status::kBadStride,
                          [](DepthwiseCall& c) { c.params.stride_width = 0; });
  ExpectDepthwiseRejected(Status::kBadDilation,
                          [](DepthwiseCall& c) { c.params.dilation_height = -1; });
  ExpectDepthwiseRejected(Status::kBadPadding,
                          [](DepthwiseCall& c) { c.params.padding_height = -1; });
  ExpectDepthwiseRejected(Status::kBadZeroPoint,
                          [](DepthwiseCall& c) { c.params.input_zero_point = 128; });
  ExpectDepthwiseRejected(Status::kBadMultiplier,
                          [](DepthwiseCall& c) { c.multipliers[5] = kMultiplierMin - 1; });
  ExpectDepthwiseRejected(Status::kBadShift, [](DepthwiseCall& c) { c.shifts[2] = 63; });
  ExpectDepthwiseRejected(Status::kBadActivationRange, [](DepthwiseCall& c) {
    c.params.requantize.activation_min = 1;
    c.params.requantize.activation_max = 0;
  });
  ExpectDepthwiseRejected(Status::kAliasing,
                          [](DepthwiseCall& c) { c.output = c.buffer.data() + 1; });
  ExpectDepthwiseRejected(Status::kAccumulatorOverflow,
                          [](DepthwiseCall& c) { c.bias[5] = MaxBias(9) + 1; });
  ExpectDepthwiseRejected(Status::kAccumulatorOverflow,
                          [](DepthwiseCall& c) { c.bias[0] = INT32_MIN; });
}

#ifdef INTEGR8_TEST_HAVE_GOLDEN_VECTORS
class X86BackendGoldenDepthwise : public ::testing::TestWithParam<golden::DepthwiseConv2dCase> {};
TEST_P(X86BackendGoldenDepthwise, MatchesReference) {
  const golden::DepthwiseConv2dCase& c = GetParam();
  const DepthwiseConv2dParams& p = c.params;
  ASSERT_EQ(c.expected_size, ElementCount(p.batches, OutputHeight(p), OutputWidth(p),
                                          DepthwiseOutputChannels(p)));
  ExpectGolden(c.name, c.expected, c.expected_size, [&c](int8_t* output) {
    return backend::x86::DepthwiseConv2d(c.params, c.input, c.filter, c.bias, output);
  });
}
std::string GoldenCaseName(const ::testing::TestParamInfo<golden::DepthwiseConv2dCase>& info) {
  return info.param.name;
}
INSTANTIATE_TEST_SUITE_P(Golden, X86BackendGoldenDepthwise,
                         ::testing::ValuesIn(golden::kDepthwiseConv2dCases), GoldenCaseName);
#endif  // INTEGR8_TEST_HAVE_GOLDEN_VECTORS

}  // namespace
}  // namespace integr8::conformance
