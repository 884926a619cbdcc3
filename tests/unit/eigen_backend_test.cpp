// The Eigen host backend against the portable kernels: the same Status for every bad input
// with the output untouched, the same bytes on random shapes (batches 1..64, stride, dilation,
// padding, groups, per-channel and per-tensor requantization, extreme zero points, accumulators
// at the bound), and the golden vectors when tests/golden/golden_vectors.h is present.
// Built only when Eigen is found (tests/CMakeLists.txt links integr8::eigen_backend).
#include "integr8/backend/eigen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "integr8/backend/select.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"
#include "integr8/types.h"

#if __has_include("golden/golden_vectors.h")
#include "golden/golden_vectors.h"
#define INTEGR8_TEST_HAVE_GOLDEN_VECTORS 1
#endif

#ifndef INTEGR8_BACKEND_EIGEN
#error "integr8::eigen_backend must define INTEGR8_BACKEND_EIGEN"
#endif

namespace integr8 {
namespace {

// The portable and the Eigen outputs start from different fills, so an element one of them
// never writes cannot match by accident; kGuardBytes after the output must keep the fill.
constexpr int8_t kPortableFill = 0x5A;
constexpr int8_t kEigenFill = -0x5B;
constexpr size_t kGuardBytes = 16;
constexpr int64_t kProductBound = 128 * 127;  // the largest |x * w|
constexpr int32_t kHalfMultiplier = int32_t{1} << 30;  // with shift 31, M = 0.5

size_t U(int32_t value) { return static_cast<size_t>(value); }

// The largest |bias| the accumulator bound accepts for K products per output.
int32_t MaxBias(int32_t products) {
  return static_cast<int32_t>((int64_t{1} << 31) - 1 - int64_t{products} * kProductBound);
}

// --- Signatures and selection ------------------------------------------------------------

using LinearFunction = Status (*)(const LinearParams&, const int8_t*, const int8_t*,
                                  const int32_t*, int8_t*);
using Conv2dFunction = Status (*)(const Conv2dParams&, const int8_t*, const int8_t*,
                                  const int32_t*, int8_t*);

static_assert(std::is_same_v<decltype(&backend::eigen::Linear<int8_t, int8_t, int32_t>),
                             decltype(&integr8::Linear<int8_t, int8_t, int32_t>)>);
static_assert(std::is_same_v<decltype(&backend::eigen::Conv2d<int8_t, int8_t, int32_t>),
                             decltype(&integr8::Conv2d<int8_t, int8_t, int32_t>)>);
static_assert(std::string_view(backend::selected::kName) == "eigen");

TEST(EigenBackendSelectTest, SelectedIsTheEigenBackend) {
  const LinearFunction selected_linear = &backend::selected::Linear<int8_t, int8_t, int32_t>;
  const LinearFunction eigen_linear = &backend::eigen::Linear<int8_t, int8_t, int32_t>;
  const Conv2dFunction selected_conv = &backend::selected::Conv2d<int8_t, int8_t, int32_t>;
  const Conv2dFunction eigen_conv = &backend::eigen::Conv2d<int8_t, int8_t, int32_t>;
  EXPECT_EQ(selected_linear, eigen_linear);
  EXPECT_EQ(selected_conv, eigen_conv);
}

// --- Random operands ---------------------------------------------------------------------

class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  int32_t Uniform(int32_t low, int32_t high) {
    return std::uniform_int_distribution<int32_t>(low, high)(engine_);
  }
  bool Percent(int32_t percent) { return Uniform(0, 99) < percent; }

  // Activations in [-128, 127], weights in [-127, 127]; some tensors use only the two
  // extremes, which maximizes every |product|.
  std::vector<int8_t> Int8(size_t count, int32_t low, int32_t high) {
    const bool extremes = Percent(10);
    std::vector<int8_t> values(count);
    for (int8_t& value : values) {
      value = static_cast<int8_t>(extremes ? (Percent(50) ? low : high) : Uniform(low, high));
    }
    return values;
  }

  // Zero points: the extremes and 0 often, anything else sometimes.
  int32_t ZeroPoint() {
    const int32_t pick = Uniform(0, 9);
    if (pick < 3) return -128;
    if (pick < 5) return 0;
    if (pick < 7) return 127;
    return Uniform(-128, 127);
  }

  // Biases for K products per output: mostly of the size of the products' sum, some anywhere
  // in the accepted range, some within 1000 of the bound.
  std::vector<int32_t> Bias(size_t count, int32_t products) {
    const int32_t max_bias = MaxBias(products);
    const int32_t typical =
        static_cast<int32_t>(std::min<int64_t>(max_bias, int64_t{products} * 2000));
    const int32_t mode = Uniform(0, 9);
    std::vector<int32_t> values(count);
    for (int32_t& value : values) {
      if (mode < 7) {
        value = Uniform(-typical, typical);
      } else if (mode < 9) {
        value = Uniform(-max_bias, max_bias);
      } else {
        const int32_t magnitude = std::max(0, max_bias - Uniform(0, 1000));
        value = Percent(50) ? magnitude : -magnitude;
      }
    }
    return values;
  }

 private:
  std::mt19937 engine_;
};

// Bits needed for a positive value.
int32_t BitWidth(int64_t value) {
  int32_t bits = 0;
  for (; value > 0; value >>= 1) ++bits;
  return bits;
}

// Multipliers and shifts a RequantizeParams points at; not copyable, so the pointers stay
// valid.
struct Requantization {
  Requantization() = default;
  Requantization(const Requantization&) = delete;
  Requantization& operator=(const Requantization&) = delete;

  std::vector<int32_t> multipliers;
  std::vector<int32_t> shifts;
  RequantizeParams params;
};

// Random per-channel or per-tensor multipliers in [2^30, 2^31 - 1]; each shift maps an
// accumulator of magnitude `typical` to about +-64, so that outputs spread over int8 rather
// than saturate, with the extreme shifts 1 and 62 mixed in. Fused activation: none, ReLU,
// ReLU6-like or an arbitrary valid clamp.
void RandomRequantization(Random& random, int32_t channels, int64_t typical,
                          Requantization* requantization) {
  RequantizeParams& params = requantization->params;
  params.per_channel = random.Percent(50);
  const size_t entries = params.per_channel ? U(channels) : 1;
  requantization->multipliers.resize(entries);
  requantization->shifts.resize(entries);
  const int32_t centre_shift = 24 + BitWidth(std::max<int64_t>(typical, 1));
  for (size_t entry = 0; entry < entries; ++entry) {
    requantization->multipliers[entry] = random.Uniform(kMultiplierMin, kMultiplierMax);
    const int32_t pick = random.Uniform(0, 19);
    int32_t shift = centre_shift + random.Uniform(-2, 2);
    if (pick == 0) shift = kShiftMin;
    if (pick == 1) shift = kShiftMax;
    if (pick == 2) shift = random.Uniform(kShiftMin, kShiftMax);
    requantization->shifts[entry] = std::clamp(shift, kShiftMin, kShiftMax);
  }
  params.multipliers = requantization->multipliers.data();
  params.shifts = requantization->shifts.data();
  params.output_zero_point = random.ZeroPoint();
  switch (random.Uniform(0, 3)) {
    case 0:
      params.activation_min = kActivationMin;
      params.activation_max = kActivationMax;
      break;
    case 1:
      params.activation_min = std::max(kActivationMin, params.output_zero_point);
      params.activation_max = kActivationMax;
      break;
    case 2:
      params.activation_min = std::max(kActivationMin, params.output_zero_point);
      params.activation_max =
          std::min(kActivationMax, params.output_zero_point + random.Uniform(0, 255));
      break;
    default:
      params.activation_min = random.Uniform(kActivationMin, kActivationMax);
      params.activation_max = random.Uniform(params.activation_min, kActivationMax);
      break;
  }
}

// --- Running both implementations ----------------------------------------------------------

// Counts, over every random case, outputs strictly inside the clamp, so that a generator that
// only ever saturates cannot pass unnoticed.
struct OutputSpread {
  int64_t inside = 0;
  int64_t clamped = 0;
};

// Runs the portable kernel and the Eigen backend (each a callable taking the output pointer)
// on differently filled buffers, and requires kOk from both, the same `count` output bytes and
// untouched guard bytes.
template <typename RunPortable, typename RunEigen>
void ExpectSameOutput(int32_t count, const RequantizeParams& requantize, RunPortable portable,
                      RunEigen eigen, OutputSpread* spread) {
  std::vector<int8_t> expected(U(count) + kGuardBytes, kPortableFill);
  std::vector<int8_t> actual(U(count) + kGuardBytes, kEigenFill);
  const Status portable_status = portable(expected.data());
  const Status eigen_status = eigen(actual.data());
  ASSERT_EQ(portable_status, Status::kOk) << StatusName(portable_status);
  ASSERT_EQ(eigen_status, Status::kOk) << StatusName(eigen_status);
  int32_t differences = 0;
  int32_t first_difference = -1;
  for (int32_t i = 0; i < count; ++i) {
    if (actual[U(i)] != expected[U(i)]) {
      if (first_difference < 0) first_difference = i;
      ++differences;
    }
    const bool clamped = expected[U(i)] == requantize.activation_min ||
                         expected[U(i)] == requantize.activation_max;
    ++(clamped ? spread->clamped : spread->inside);
  }
  if (first_difference >= 0) {
    ADD_FAILURE() << differences << " of " << count << " outputs differ; first at index "
                  << first_difference << ": eigen "
                  << static_cast<int>(actual[U(first_difference)]) << ", portable "
                  << static_cast<int>(expected[U(first_difference)]);
  }
  for (size_t i = U(count); i < U(count) + kGuardBytes; ++i) {
    ASSERT_EQ(expected[i], kPortableFill) << "portable wrote past the output at " << i;
    ASSERT_EQ(actual[i], kEigenFill) << "eigen wrote past the output at " << i;
  }
}

// Output zero points at -128 or 127 and the fused activations clamp many outputs by design;
// at least a fifth must still land strictly inside the clamp.
void ExpectSpread(const OutputSpread& spread) {
  EXPECT_GT(4 * spread.inside, spread.clamped)
      << spread.clamped << " outputs clamped, " << spread.inside << " inside the clamp";
}

std::string Describe(const LinearParams& p) {
  return "linear batches=" + std::to_string(p.batches) + " in=" +
         std::to_string(p.input_features) + " out=" + std::to_string(p.output_features) +
         (p.requantize.per_channel ? " per-channel" : " per-tensor") +
         " z_out=" + std::to_string(p.requantize.output_zero_point) + " clamp=[" +
         std::to_string(p.requantize.activation_min) + ", " +
         std::to_string(p.requantize.activation_max) + "]";
}

std::string Describe(const Conv2dParams& p) {
  return "conv2d n=" + std::to_string(p.batches) + " hwc=" + std::to_string(p.input_height) +
         "x" + std::to_string(p.input_width) + "x" + std::to_string(p.input_channels) +
         " out_c=" + std::to_string(p.output_channels) + " filter=" +
         std::to_string(p.filter_height) + "x" + std::to_string(p.filter_width) + " stride=" +
         std::to_string(p.stride_height) + "," + std::to_string(p.stride_width) +
         " dilation=" + std::to_string(p.dilation_height) + "," +
         std::to_string(p.dilation_width) + " padding=" + std::to_string(p.padding_height) +
         "," + std::to_string(p.padding_width) + " groups=" + std::to_string(p.groups) +
         " z_in=" + std::to_string(p.input_zero_point) +
         (p.requantize.per_channel ? " per-channel" : " per-tensor") +
         " z_out=" + std::to_string(p.requantize.output_zero_point);
}

void ExpectSameLinear(const LinearParams& params, const std::vector<int8_t>& input,
                      const std::vector<int8_t>& weights, const std::vector<int32_t>& bias,
                      OutputSpread* spread) {
  SCOPED_TRACE(Describe(params));
  ExpectSameOutput(
      ElementCount(params.batches, params.output_features), params.requantize,
      [&](int8_t* output) {
        return integr8::Linear(params, input.data(), weights.data(), bias.data(), output);
      },
      [&](int8_t* output) {
        return backend::eigen::Linear(params, input.data(), weights.data(), bias.data(),
                                      output);
      },
      spread);
}

// Also runs the im2col in chunks of chunk_elements, so that chunk boundaries (and a last,
// shorter chunk) fall inside images, rows and batches.
void ExpectSameConv2d(const Conv2dParams& params, const std::vector<int8_t>& input,
                      const std::vector<int8_t>& filter, const std::vector<int32_t>& bias,
                      int32_t chunk_elements, OutputSpread* spread) {
  SCOPED_TRACE(Describe(params));
  const int32_t count =
      ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                   params.output_channels);
  const auto portable = [&](int8_t* output) {
    return integr8::Conv2d(params, input.data(), filter.data(), bias.data(), output);
  };
  ExpectSameOutput(
      count, params.requantize, portable,
      [&](int8_t* output) {
        return backend::eigen::Conv2d(params, input.data(), filter.data(), bias.data(),
                                      output);
      },
      spread);
  SCOPED_TRACE("chunk_elements=" + std::to_string(chunk_elements));
  OutputSpread ignored;
  ExpectSameOutput(
      count, params.requantize, portable,
      [&](int8_t* output) {
        return backend::eigen::internal::Conv2dChunked(params, input.data(), filter.data(),
                                                       bias.data(), output, chunk_elements);
      },
      &ignored);
}

// --- Random shapes -------------------------------------------------------------------------

TEST(EigenBackendLinearTest, MatchesPortableOnRandomShapes) {
  Random random(20250801);
  OutputSpread spread;
  constexpr int32_t kCases = 300;
  for (int32_t trial = 0; trial < kCases; ++trial) {
    LinearParams params;
    // The first trials pin the batch extremes; the rest draw 1..64.
    params.batches = trial == 0 ? 1 : trial == 1 ? 64 : random.Uniform(1, 64);
    params.input_features = random.Percent(20) ? random.Uniform(1, 8) : random.Uniform(1, 300);
    params.output_features = random.Percent(20) ? random.Uniform(1, 4) : random.Uniform(1, 80);
    const int32_t products = params.input_features;
    const std::vector<int8_t> input =
        random.Int8(U(params.batches) * U(products), kActivationMin, kActivationMax);
    const std::vector<int8_t> weights =
        random.Int8(U(params.output_features) * U(products), kWeightMin, kWeightMax);
    const std::vector<int32_t> bias = random.Bias(U(params.output_features), products);
    int64_t typical = static_cast<int64_t>(products) * 2000;
    for (const int32_t b : bias) typical = std::max<int64_t>(typical, b < 0 ? -int64_t{b} : b);
    Requantization requantization;
    RandomRequantization(random, params.output_features, typical, &requantization);
    params.requantize = requantization.params;
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(ExpectSameLinear(params, input, weights, bias, &spread));
  }
  ExpectSpread(spread);
}

TEST(EigenBackendConv2dTest, MatchesPortableOnRandomShapes) {
  Random random(20250802);
  OutputSpread spread;
  constexpr int32_t kCases = 400;
  for (int32_t trial = 0; trial < kCases; ++trial) {
    Conv2dParams params;
    const bool many_batches = random.Percent(25);
    params.batches = many_batches ? random.Uniform(1, 64) : random.Uniform(1, 3);
    const int32_t max_extent = many_batches ? 5 : 12;
    const int32_t group_kind = random.Uniform(0, 9);
    params.groups = group_kind < 5 ? 1 : random.Uniform(2, 4);
    const int32_t filter_input_channels = group_kind == 9 ? 1 : random.Uniform(1, 6);
    const int32_t group_output_channels = random.Uniform(1, 6);
    params.input_channels = params.groups * filter_input_channels;
    params.output_channels = params.groups * group_output_channels;
    params.filter_height = random.Uniform(1, 5);
    params.filter_width = random.Uniform(1, 5);
    params.stride_height = random.Uniform(1, 3);
    params.stride_width = random.Uniform(1, 3);
    params.dilation_height = random.Percent(60) ? 1 : random.Uniform(2, 3);
    params.dilation_width = random.Percent(60) ? 1 : random.Uniform(2, 3);
    params.padding_height = random.Uniform(0, 3);
    params.padding_width = random.Uniform(0, 3);
    params.input_zero_point = random.ZeroPoint();
    // Extents from the smallest that the dilated filter fits once padded.
    const int32_t min_height = std::max(
        1, params.dilation_height * (params.filter_height - 1) + 1 - 2 * params.padding_height);
    const int32_t min_width = std::max(
        1, params.dilation_width * (params.filter_width - 1) + 1 - 2 * params.padding_width);
    params.input_height = min_height + random.Uniform(0, max_extent - 1);
    params.input_width = min_width + random.Uniform(0, max_extent - 1);
    ASSERT_GT(OutputHeight(params), 0);
    ASSERT_GT(OutputWidth(params), 0);

    const int32_t products = params.filter_height * params.filter_width * filter_input_channels;
    const std::vector<int8_t> input = random.Int8(
        U(ElementCount(params.batches, params.input_height, params.input_width,
                       params.input_channels)),
        kActivationMin, kActivationMax);
    const std::vector<int8_t> filter =
        random.Int8(U(params.output_channels) * U(products), kWeightMin, kWeightMax);
    const std::vector<int32_t> bias = random.Bias(U(params.output_channels), products);
    int64_t typical = static_cast<int64_t>(products) * 2000;
    for (const int32_t b : bias) typical = std::max<int64_t>(typical, b < 0 ? -int64_t{b} : b);
    Requantization requantization;
    RandomRequantization(random, params.output_channels, typical, &requantization);
    params.requantize = requantization.params;
    const int32_t widest_row = std::max(products, params.output_channels);
    const int32_t chunk_elements = random.Uniform(1, 5 * widest_row);
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameConv2d(params, input, filter, bias, chunk_elements, &spread));
  }
  ExpectSpread(spread);
}

// Large enough that the default chunking (2^20 im2col elements) splits it, with a remainder.
TEST(EigenBackendConv2dTest, MatchesPortableAcrossDefaultChunks) {
  Random random(20250803);
  Conv2dParams params;
  params.batches = 2;
  params.input_height = 64;
  params.input_width = 64;
  params.input_channels = 16;
  params.output_channels = 8;
  params.filter_height = 3;
  params.filter_width = 3;
  params.padding_height = 1;
  params.padding_width = 1;
  params.input_zero_point = -128;
  const int32_t products = 3 * 3 * 16;
  ASSERT_GT(int64_t{params.batches} * 64 * 64 * products,
            int64_t{backend::eigen::internal::kChunkElements});
  const std::vector<int8_t> input = random.Int8(U(2 * 64 * 64 * 16), -128, 127);
  const std::vector<int8_t> filter = random.Int8(U(8 * products), -127, 127);
  const std::vector<int32_t> bias = random.Bias(8, products);
  Requantization requantization;
  RandomRequantization(random, params.output_channels, int64_t{products} * 2000,
                       &requantization);
  params.requantize = requantization.params;
  OutputSpread spread;
  ExpectSameConv2d(params, input, filter, bias, 1000, &spread);
}

// --- Accumulators at the bound ---------------------------------------------------------------

// Requantization with M = m / 2^55 for every channel, so that accumulators near +-2^31 land
// inside int8 instead of saturating.
struct BoundRequantization : Requantization {
  explicit BoundRequantization(int32_t channels) {
    for (int32_t c = 0; c < channels; ++c) {
      multipliers.push_back(kMultiplierMin + c * 7919);
      shifts.push_back(55);
    }
    params.multipliers = multipliers.data();
    params.shifts = shifts.data();
    params.per_channel = true;
  }
};

// x = -128 everywhere. Channel 0: w = -127 and the largest bias, so the sum is exactly
// INT32_MAX; channel 1: w = +127 and the most negative bias, exactly -INT32_MAX; channel 2:
// alternating weights. The portable result at the extremes is checked against Requantize of
// the exact sums too, so the test cannot pass with both implementations wrapping alike.
TEST(EigenBackendLinearTest, AccumulatorsAtTheBound) {
  for (const int32_t products : {1, 7, 1024, 4096, 131000}) {
    SCOPED_TRACE("K=" + std::to_string(products));
    constexpr int32_t kChannels = 3;
    LinearParams params;
    params.batches = 2;
    params.input_features = products;
    params.output_features = kChannels;
    BoundRequantization requantization(kChannels);
    params.requantize = requantization.params;
    std::vector<int8_t> input(U(2 * products), -128);
    std::fill(input.begin() + products, input.end(), int8_t{127});  // second batch
    std::vector<int8_t> weights(U(kChannels * products));
    for (size_t i = 0; i < U(products); ++i) {
      weights[i] = -127;
      weights[U(products) + i] = 127;
      weights[2 * U(products) + i] = static_cast<int8_t>(i % 2 == 0 ? 127 : -127);
    }
    const int32_t max_bias = MaxBias(products);
    const std::vector<int32_t> bias{max_bias, -max_bias, max_bias};
    OutputSpread spread;
    ExpectSameLinear(params, input, weights, bias, &spread);

    std::vector<int8_t> output(U(2 * kChannels));
    ASSERT_EQ(backend::eigen::Linear(params, input.data(), weights.data(), bias.data(),
                                     output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], Requantize(INT32_MAX, requantization.multipliers[0], 55, 0, -128, 127));
    EXPECT_EQ(output[1], Requantize(-INT32_MAX, requantization.multipliers[1], 55, 0, -128, 127));
    // One more unit of bias is rejected by both.
    const std::vector<int32_t> too_large{max_bias + 1, 0, 0};
    EXPECT_EQ(integr8::Linear(params, input.data(), weights.data(), too_large.data(),
                              output.data()),
              Status::kAccumulatorOverflow);
    EXPECT_EQ(backend::eigen::Linear(params, input.data(), weights.data(), too_large.data(),
                                     output.data()),
              Status::kAccumulatorOverflow);
  }
}

// The same at the bound through padded taps: z_in = -128 is what the padding reads.
TEST(EigenBackendConv2dTest, AccumulatorsAtTheBoundThroughPadding) {
  for (const int32_t channels_per_group : {1, 64, 1000}) {
    SCOPED_TRACE("filter input channels=" + std::to_string(channels_per_group));
    Conv2dParams params;
    params.batches = 2;
    params.input_height = 3;
    params.input_width = 2;
    params.groups = 2;
    params.input_channels = 2 * channels_per_group;
    params.output_channels = 4;
    params.filter_height = 3;
    params.filter_width = 3;
    params.padding_height = 2;
    params.padding_width = 1;
    params.input_zero_point = -128;
    BoundRequantization requantization(params.output_channels);
    params.requantize = requantization.params;
    const int32_t products = 3 * 3 * channels_per_group;
    const std::vector<int8_t> input(
        U(ElementCount(params.batches, params.input_height, params.input_width,
                       params.input_channels)),
        -128);
    std::vector<int8_t> filter(U(params.output_channels * products));
    for (size_t c = 0; c < U(params.output_channels); ++c) {
      std::fill(filter.begin() + static_cast<std::ptrdiff_t>(c * U(products)),
                filter.begin() + static_cast<std::ptrdiff_t>((c + 1) * U(products)),
                static_cast<int8_t>(c % 2 == 0 ? -127 : 127));
    }
    const int32_t max_bias = MaxBias(products);
    const std::vector<int32_t> bias{max_bias, -max_bias, max_bias, -max_bias};
    OutputSpread spread;
    ExpectSameConv2d(params, input, filter, bias, 1, &spread);

    std::vector<int8_t> output(U(ElementCount(params.batches, OutputHeight(params),
                                              OutputWidth(params), params.output_channels)));
    ASSERT_EQ(backend::eigen::Conv2d(params, input.data(), filter.data(), bias.data(),
                                     output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], Requantize(INT32_MAX, requantization.multipliers[0], 55, 0, -128, 127));
    EXPECT_EQ(output[1], Requantize(-INT32_MAX, requantization.multipliers[1], 55, 0, -128, 127));
  }
}

// --- Rejected inputs: the same Status, nothing written ---------------------------------------

// A valid Linear call (batches 2, 3 -> 4 features, per channel) whose pointers a test may
// redirect; input and output live in one buffer, adjacent, so an aliasing case can overlap
// them and "nothing written" covers both.
struct LinearCall {
  LinearCall() {
    params.batches = 2;
    params.input_features = 3;
    params.output_features = 4;
    params.requantize.multipliers = multipliers.data();
    params.requantize.shifts = shifts.data();
    params.requantize.per_channel = true;
    std::copy(kInput, kInput + 6, buffer.begin());
    input = buffer.data();
    output = buffer.data() + 6;
  }
  LinearCall(const LinearCall&) = delete;
  LinearCall& operator=(const LinearCall&) = delete;

  static constexpr int8_t kInput[6] = {1, -2, 3, -128, 127, 0};
  std::vector<int32_t> multipliers = std::vector<int32_t>(4, kHalfMultiplier);
  std::vector<int32_t> shifts = std::vector<int32_t>(4, 31);
  std::vector<int8_t> weights{1, 2, 3, -1, -2, -3, 127, -127, 0, 5, 6, 7};
  std::vector<int32_t> bias{10, -10, 0, 1000};
  std::vector<int8_t> buffer = std::vector<int8_t>(6 + 8 + kGuardBytes, kPortableFill);
  LinearParams params;
  const int8_t* input = nullptr;
  int8_t* output = nullptr;
};

// Applies `mutate` to a fresh valid call, runs each implementation and requires `expected`
// from both, with every buffer as it was.
template <typename Mutate>
void ExpectLinearRejected(Status expected, Mutate mutate) {
  for (const bool use_eigen : {false, true}) {
    LinearCall call;
    mutate(call);
    const std::vector<int8_t> buffer = call.buffer;
    const std::vector<int32_t> bias = call.bias;
    const Status status =
        use_eigen ? backend::eigen::Linear(call.params, call.input, call.weights.data(),
                                           call.bias.data(), call.output)
                  : integr8::Linear(call.params, call.input, call.weights.data(),
                                    call.bias.data(), call.output);
    const char* name = use_eigen ? "eigen" : "portable";
    EXPECT_EQ(status, expected) << name << " returned " << StatusName(status) << ", expected "
                                << StatusName(expected);
    EXPECT_TRUE(call.buffer == buffer) << name << " wrote although it returned "
                                       << StatusName(status);
    EXPECT_TRUE(call.bias == bias) << name;
  }
}

TEST(EigenBackendLinearRejectTest, BaseCallIsAcceptedAndMatches) {
  LinearCall call;
  OutputSpread spread;
  ExpectSameLinear(call.params, std::vector<int8_t>(call.input, call.input + 6), call.weights,
                   call.bias, &spread);
}

TEST(EigenBackendLinearRejectTest, NullPointer) {
  ExpectLinearRejected(Status::kNullPointer, [](LinearCall& c) { c.input = nullptr; });
  ExpectLinearRejected(Status::kNullPointer, [](LinearCall& c) { c.output = nullptr; });
  ExpectLinearRejected(Status::kNullPointer,
                       [](LinearCall& c) { c.params.requantize.multipliers = nullptr; });
  ExpectLinearRejected(Status::kNullPointer,
                       [](LinearCall& c) { c.params.requantize.shifts = nullptr; });
  // Weights and bias: run directly, since the call owns them as vectors.
  LinearCall call;
  const int8_t* no_weights = nullptr;
  const int32_t* no_bias = nullptr;
  const std::vector<int8_t> before = call.buffer;
  EXPECT_EQ(integr8::Linear(call.params, call.input, no_weights, call.bias.data(), call.output),
            Status::kNullPointer);
  EXPECT_EQ(backend::eigen::Linear(call.params, call.input, no_weights, call.bias.data(),
                                   call.output),
            Status::kNullPointer);
  EXPECT_EQ(integr8::Linear(call.params, call.input, call.weights.data(), no_bias, call.output),
            Status::kNullPointer);
  EXPECT_EQ(backend::eigen::Linear(call.params, call.input, call.weights.data(), no_bias,
                                   call.output),
            Status::kNullPointer);
  EXPECT_TRUE(call.buffer == before);
}

TEST(EigenBackendLinearRejectTest, BadShape) {
  ExpectLinearRejected(Status::kBadShape, [](LinearCall& c) { c.params.batches = 0; });
  ExpectLinearRejected(Status::kBadShape, [](LinearCall& c) { c.params.input_features = -1; });
  ExpectLinearRejected(Status::kBadShape, [](LinearCall& c) { c.params.output_features = 0; });
  ExpectLinearRejected(Status::kBadShape, [](LinearCall& c) {
    c.params.batches = 1 << 16;
    c.params.input_features = 1 << 16;  // 2^32 input elements
  });
  ExpectLinearRejected(Status::kBadShape, [](LinearCall& c) {
    c.params.output_features = INT32_MAX;  // weights overflow INT32_MAX elements
  });
}

TEST(EigenBackendLinearRejectTest, BadRequantization) {
  ExpectLinearRejected(Status::kBadMultiplier,
                       [](LinearCall& c) { c.multipliers[3] = kMultiplierMin - 1; });
  ExpectLinearRejected(Status::kBadMultiplier, [](LinearCall& c) {
    c.params.requantize.per_channel = false;
    c.multipliers[0] = INT32_MIN;
  });
  ExpectLinearRejected(Status::kBadShift, [](LinearCall& c) { c.shifts[3] = 0; });
  ExpectLinearRejected(Status::kBadShift, [](LinearCall& c) { c.shifts[0] = 63; });
  ExpectLinearRejected(Status::kBadZeroPoint,
                       [](LinearCall& c) { c.params.requantize.output_zero_point = 128; });
  ExpectLinearRejected(Status::kBadZeroPoint,
                       [](LinearCall& c) { c.params.requantize.output_zero_point = -129; });
  ExpectLinearRejected(Status::kBadActivationRange, [](LinearCall& c) {
    c.params.requantize.activation_min = 10;
    c.params.requantize.activation_max = 9;
  });
  ExpectLinearRejected(Status::kBadActivationRange,
                       [](LinearCall& c) { c.params.requantize.activation_min = -129; });
  ExpectLinearRejected(Status::kBadActivationRange,
                       [](LinearCall& c) { c.params.requantize.activation_max = 128; });
}

TEST(EigenBackendLinearRejectTest, Aliasing) {
  ExpectLinearRejected(Status::kAliasing, [](LinearCall& c) { c.output = c.buffer.data() + 5; });
  ExpectLinearRejected(Status::kAliasing, [](LinearCall& c) { c.output = c.buffer.data(); });
}

TEST(EigenBackendLinearRejectTest, AccumulatorOverflow) {
  // K = 3: the bias bound is 2^31 - 1 - 3 * 128 * 127.
  ExpectLinearRejected(Status::kAccumulatorOverflow,
                       [](LinearCall& c) { c.bias[3] = MaxBias(3) + 1; });
  ExpectLinearRejected(Status::kAccumulatorOverflow,
                       [](LinearCall& c) { c.bias[0] = -MaxBias(3) - 1; });
  ExpectLinearRejected(Status::kAccumulatorOverflow,
                       [](LinearCall& c) { c.bias[1] = INT32_MIN; });
}

TEST(EigenBackendLinearRejectTest, FirstFailingCheckWins) {
  ExpectLinearRejected(Status::kNullPointer, [](LinearCall& c) {
    c.input = nullptr;
    c.params.batches = 0;
  });
  ExpectLinearRejected(Status::kBadShape, [](LinearCall& c) {
    c.params.batches = 0;
    c.shifts[0] = 0;
  });
  ExpectLinearRejected(Status::kBadShift, [](LinearCall& c) {
    c.shifts[0] = 0;
    c.output = c.buffer.data();
  });
  ExpectLinearRejected(Status::kAliasing, [](LinearCall& c) {
    c.output = c.buffer.data();
    c.bias[0] = INT32_MIN;
  });
}

// A valid Conv2d call: 1x4x4x4 input, 6 output channels in 2 groups, 3x3 filter, padding 1,
// per channel -> 1x4x4x6 output, K = 18. Input and output are adjacent in one buffer.
struct Conv2dCall {
  static constexpr int32_t kInputCount = 4 * 4 * 4;
  static constexpr int32_t kOutputCount = 4 * 4 * 6;
  static constexpr int32_t kProducts = 3 * 3 * 2;

  Conv2dCall() {
    params.input_height = 4;
    params.input_width = 4;
    params.input_channels = 4;
    params.output_channels = 6;
    params.filter_height = 3;
    params.filter_width = 3;
    params.padding_height = 1;
    params.padding_width = 1;
    params.groups = 2;
    params.input_zero_point = -3;
    params.requantize.multipliers = multipliers.data();
    params.requantize.shifts = shifts.data();
    params.requantize.per_channel = true;
    for (int32_t i = 0; i < kInputCount; ++i) {
      buffer[U(i)] = static_cast<int8_t>(i * 7 % 256 - 128);
    }
    for (int32_t i = 0; i < 6 * kProducts; ++i) {
      filter[U(i)] = static_cast<int8_t>(i * 13 % 255 - 127);
    }
    input = buffer.data();
    output = buffer.data() + kInputCount;
  }
  Conv2dCall(const Conv2dCall&) = delete;
  Conv2dCall& operator=(const Conv2dCall&) = delete;

  std::vector<int32_t> multipliers = std::vector<int32_t>(6, kHalfMultiplier);
  std::vector<int32_t> shifts = std::vector<int32_t>(6, 31);
  std::vector<int8_t> filter = std::vector<int8_t>(6 * kProducts);
  std::vector<int32_t> bias{100, -100, 0, 5000, -5000, 7};
  std::vector<int8_t> buffer =
      std::vector<int8_t>(kInputCount + kOutputCount + kGuardBytes, kPortableFill);
  Conv2dParams params;
  const int8_t* input = nullptr;
  int8_t* output = nullptr;
};

template <typename Mutate>
void ExpectConv2dRejected(Status expected, Mutate mutate) {
  for (const bool use_eigen : {false, true}) {
    Conv2dCall call;
    mutate(call);
    const std::vector<int8_t> buffer = call.buffer;
    const Status status =
        use_eigen ? backend::eigen::Conv2d(call.params, call.input, call.filter.data(),
                                           call.bias.data(), call.output)
                  : integr8::Conv2d(call.params, call.input, call.filter.data(),
                                    call.bias.data(), call.output);
    const char* name = use_eigen ? "eigen" : "portable";
    EXPECT_EQ(status, expected) << name << " returned " << StatusName(status) << ", expected "
                                << StatusName(expected);
    EXPECT_TRUE(call.buffer == buffer) << name << " wrote although it returned "
                                       << StatusName(status);
  }
}

TEST(EigenBackendConv2dRejectTest, BaseCallIsAcceptedAndMatches) {
  Conv2dCall call;
  OutputSpread spread;
  ExpectSameConv2d(call.params,
                   std::vector<int8_t>(call.input, call.input + Conv2dCall::kInputCount),
                   call.filter, call.bias, 7, &spread);
}

TEST(EigenBackendConv2dRejectTest, NullPointer) {
  ExpectConv2dRejected(Status::kNullPointer, [](Conv2dCall& c) { c.input = nullptr; });
  ExpectConv2dRejected(Status::kNullPointer, [](Conv2dCall& c) { c.output = nullptr; });
  ExpectConv2dRejected(Status::kNullPointer,
                       [](Conv2dCall& c) { c.params.requantize.multipliers = nullptr; });
  ExpectConv2dRejected(Status::kNullPointer,
                       [](Conv2dCall& c) { c.params.requantize.shifts = nullptr; });
  Conv2dCall call;
  const int8_t* no_filter = nullptr;
  const int32_t* no_bias = nullptr;
  const std::vector<int8_t> before = call.buffer;
  EXPECT_EQ(integr8::Conv2d(call.params, call.input, no_filter, call.bias.data(), call.output),
            Status::kNullPointer);
  EXPECT_EQ(backend::eigen::Conv2d(call.params, call.input, no_filter, call.bias.data(),
                                   call.output),
            Status::kNullPointer);
  EXPECT_EQ(integr8::Conv2d(call.params, call.input, call.filter.data(), no_bias, call.output),
            Status::kNullPointer);
  EXPECT_EQ(backend::eigen::Conv2d(call.params, call.input, call.filter.data(), no_bias,
                                   call.output),
            Status::kNullPointer);
  EXPECT_TRUE(call.buffer == before);
}

TEST(EigenBackendConv2dRejectTest, BadShape) {
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.batches = 0; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.input_height = 0; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.input_width = -1; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.input_channels = 0; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.output_channels = 0; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.filter_height = 0; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) { c.params.filter_width = -2; });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) {
    c.params.batches = 1 << 16;
    c.params.input_height = 1 << 16;  // 2^32 * 16 input elements
  });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) {
    c.params.padding_height = 0;
    c.params.filter_height = 5;  // larger than the 4-row input
  });
  ExpectConv2dRejected(Status::kBadShape, [](Conv2dCall& c) {
    c.params.padding_width = 0;
    c.params.dilation_width = 2;  // dilated span 5 > 4
  });
}

TEST(EigenBackendConv2dRejectTest, BadWindow) {
  ExpectConv2dRejected(Status::kBadStride, [](Conv2dCall& c) { c.params.stride_height = 0; });
  ExpectConv2dRejected(Status::kBadStride, [](Conv2dCall& c) { c.params.stride_width = -3; });
  ExpectConv2dRejected(Status::kBadDilation,
                       [](Conv2dCall& c) { c.params.dilation_height = 0; });
  ExpectConv2dRejected(Status::kBadDilation,
                       [](Conv2dCall& c) { c.params.dilation_width = -1; });
  ExpectConv2dRejected(Status::kBadPadding, [](Conv2dCall& c) { c.params.padding_height = -1; });
  ExpectConv2dRejected(Status::kBadPadding,
                       [](Conv2dCall& c) { c.params.padding_width = INT32_MAX / 2; });
}

TEST(EigenBackendConv2dRejectTest, BadGroups) {
  ExpectConv2dRejected(Status::kBadGroups, [](Conv2dCall& c) { c.params.groups = 0; });
  ExpectConv2dRejected(Status::kBadGroups, [](Conv2dCall& c) { c.params.groups = -2; });
  ExpectConv2dRejected(Status::kBadGroups, [](Conv2dCall& c) { c.params.groups = 3; });  // 4 in
  ExpectConv2dRejected(Status::kBadGroups, [](Conv2dCall& c) { c.params.groups = 4; });  // 6 out
}

TEST(EigenBackendConv2dRejectTest, BadRequantization) {
  ExpectConv2dRejected(Status::kBadZeroPoint,
                       [](Conv2dCall& c) { c.params.input_zero_point = 128; });
  ExpectConv2dRejected(Status::kBadZeroPoint,
                       [](Conv2dCall& c) { c.params.input_zero_point = -129; });
  ExpectConv2dRejected(Status::kBadMultiplier,
                       [](Conv2dCall& c) { c.multipliers[5] = kMultiplierMin - 1; });
  ExpectConv2dRejected(Status::kBadMultiplier, [](Conv2dCall& c) {
    c.params.requantize.per_channel = false;
    c.multipliers[0] = 0;
  });
  ExpectConv2dRejected(Status::kBadShift, [](Conv2dCall& c) { c.shifts[5] = 63; });
  ExpectConv2dRejected(Status::kBadShift, [](Conv2dCall& c) { c.shifts[2] = 0; });
  ExpectConv2dRejected(Status::kBadZeroPoint,
                       [](Conv2dCall& c) { c.params.requantize.output_zero_point = 128; });
  ExpectConv2dRejected(Status::kBadActivationRange, [](Conv2dCall& c) {
    c.params.requantize.activation_min = 0;
    c.params.requantize.activation_max = -1;
  });
  ExpectConv2dRejected(Status::kBadActivationRange,
                       [](Conv2dCall& c) { c.params.requantize.activation_max = 200; });
}

TEST(EigenBackendConv2dRejectTest, Aliasing) {
  ExpectConv2dRejected(Status::kAliasing,
                       [](Conv2dCall& c) { c.output = c.buffer.data() + 10; });
  ExpectConv2dRejected(Status::kAliasing, [](Conv2dCall& c) {
    c.output = c.buffer.data() + Conv2dCall::kInputCount - 1;  // one shared byte
  });
}

TEST(EigenBackendConv2dRejectTest, AccumulatorOverflow) {
  ExpectConv2dRejected(Status::kAccumulatorOverflow, [](Conv2dCall& c) {
    c.bias[5] = MaxBias(Conv2dCall::kProducts) + 1;
  });
  ExpectConv2dRejected(Status::kAccumulatorOverflow, [](Conv2dCall& c) {
    c.bias[0] = -MaxBias(Conv2dCall::kProducts) - 1;
  });
  ExpectConv2dRejected(Status::kAccumulatorOverflow,
                       [](Conv2dCall& c) { c.bias[2] = INT32_MIN; });
}

TEST(EigenBackendConv2dRejectTest, FirstFailingCheckWins) {
  ExpectConv2dRejected(Status::kNullPointer, [](Conv2dCall& c) {
    c.output = nullptr;
    c.params.stride_height = 0;
  });
  ExpectConv2dRejected(Status::kBadStride, [](Conv2dCall& c) {
    c.params.stride_height = 0;
    c.params.groups = 0;
  });
  ExpectConv2dRejected(Status::kBadGroups, [](Conv2dCall& c) {
    c.params.groups = 3;
    c.params.input_zero_point = 500;
  });
  ExpectConv2dRejected(Status::kBadZeroPoint, [](Conv2dCall& c) {
    c.params.input_zero_point = 500;
    c.output = c.buffer.data();
  });
  ExpectConv2dRejected(Status::kAliasing, [](Conv2dCall& c) {
    c.output = c.buffer.data();
    c.bias[0] = INT32_MIN;
  });
}

}  // namespace

// --- Golden vectors ------------------------------------------------------------------------

#ifdef INTEGR8_TEST_HAVE_GOLDEN_VECTORS
namespace golden {
// GoogleTest prints a failing test's parameter; the case name identifies it.
void PrintTo(const LinearCase& c, std::ostream* os) { *os << c.name; }
void PrintTo(const Conv2dCase& c, std::ostream* os) { *os << c.name; }
}  // namespace golden

namespace {

template <typename Case>
std::string GoldenCaseName(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

// Requires run(output) to return kOk and reproduce the reference bytes exactly.
template <typename Run>
void ExpectGolden(const int8_t* expected, int32_t expected_size, Run run) {
  std::vector<int8_t> output(U(expected_size) + kGuardBytes, kEigenFill);
  const Status status = run(output.data());
  ASSERT_EQ(status, Status::kOk) << StatusName(status);
  for (int32_t i = 0; i < expected_size; ++i) {
    ASSERT_EQ(static_cast<int>(output[U(i)]), static_cast<int>(expected[i]))
        << "first difference at output index " << i;
  }
  for (size_t i = U(expected_size); i < output.size(); ++i) {
    ASSERT_EQ(output[i], kEigenFill) << "wrote past the output at " << i;
  }
}

class EigenBackendGoldenLinear : public ::testing::TestWithParam<golden::LinearCase> {};
TEST_P(EigenBackendGoldenLinear, MatchesReference) {
  const golden::LinearCase& c = GetParam();
  ASSERT_EQ(c.expected_size, ElementCount(c.params.batches, c.params.output_features));
  ExpectGolden(c.expected, c.expected_size, [&c](int8_t* output) {
    return backend::eigen::Linear(c.params, c.input, c.weights, c.bias, output);
  });
}
INSTANTIATE_TEST_SUITE_P(Golden, EigenBackendGoldenLinear,
                         ::testing::ValuesIn(golden::kLinearCases),
                         GoldenCaseName<golden::LinearCase>);

class EigenBackendGoldenConv2d : public ::testing::TestWithParam<golden::Conv2dCase> {};
TEST_P(EigenBackendGoldenConv2d, MatchesReference) {
  const golden::Conv2dCase& c = GetParam();
  const Conv2dParams& p = c.params;
  ASSERT_EQ(c.expected_size,
            ElementCount(p.batches, OutputHeight(p), OutputWidth(p), p.output_channels));
  ExpectGolden(c.expected, c.expected_size, [&c](int8_t* output) {
    return backend::eigen::Conv2d(c.params, c.input, c.filter, c.bias, output);
  });
  // And with one output position per chunk.
  ExpectGolden(c.expected, c.expected_size, [&c](int8_t* output) {
    return backend::eigen::internal::Conv2dChunked(c.params, c.input, c.filter, c.bias, output,
                                                   1);
  });
}
INSTANTIATE_TEST_SUITE_P(Golden, EigenBackendGoldenConv2d,
                         ::testing::ValuesIn(golden::kConv2dCases),
                         GoldenCaseName<golden::Conv2dCase>);

}  // namespace
#endif  // INTEGR8_TEST_HAVE_GOLDEN_VECTORS

}  // namespace integr8
