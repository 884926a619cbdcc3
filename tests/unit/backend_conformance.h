// The conformance suite every Linear / Conv2d backend passes: the same Status as the portable
// kernels for every bad input with the output untouched, the same bytes on random shapes
// (batches 1..64, stride, dilation, padding, groups, per-channel and per-tensor
// requantization, extreme zero points, accumulators at the bound), and the golden vectors of
// the NumPy reference when tests/golden/golden_vectors.h is present.
//
// A backend test file describes its backend as a struct
//
//   struct MyBackend {
//     static constexpr const char* kName = "my backend";
//     static Status Linear(const LinearParams&, const int8_t* input, const int8_t* weights,
//                          const int32_t* bias, int8_t* output);
//     static Status Conv2d(const Conv2dParams&, const int8_t* input, const int8_t* filter,
//                          const int32_t* bias, int8_t* output);
//   };
//
// and instantiates both suites in namespace integr8::conformance:
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, BackendLinearTest, MyBackend, BackendName);
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, BackendConv2dTest, MyBackend, BackendName);
#ifndef INTEGR8_TESTS_UNIT_BACKEND_CONFORMANCE_H_
#define INTEGR8_TESTS_UNIT_BACKEND_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"
#include "integr8/types.h"
#include "unit/test_random.h"

#if __has_include("golden/golden_vectors.h")
#include "golden/golden_vectors.h"
#define INTEGR8_TEST_HAVE_GOLDEN_VECTORS 1
#endif

namespace integr8::conformance {

// The portable and the backend outputs start from different fills, so an element one of them
// never writes cannot match by accident; kGuardBytes after the output must keep the fill.
constexpr int8_t kPortableFill = 0x5A;
constexpr int8_t kBackendFill = -0x5B;
constexpr size_t kGuardBytes = 16;
constexpr int64_t kProductBound = 128 * 127;  // the largest |x * w|
constexpr int32_t kHalfMultiplier = int32_t{1} << 30;  // with shift 31, M = 0.5

inline size_t U(int32_t value) { return static_cast<size_t>(value); }

// The largest |bias| the accumulator bound accepts for K products per output.
inline int32_t MaxBias(int32_t products) {
  return static_cast<int32_t>((int64_t{1} << 31) - 1 - int64_t{products} * kProductBound);
}

// --- Random operands ---------------------------------------------------------------------

// The shared random source plus the operand shapes this suite needs.
class Random : public test_support::Random {
 public:
  using test_support::Random::Random;

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
};

// Bits needed for a positive value.
inline int32_t BitWidth(int64_t value) {
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
inline void RandomRequantization(Random& random, int32_t channels, int64_t typical,
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

// Counts, over every random case, outputs strictly inside the clamp, so that a generator that
// only ever saturates cannot pass unnoticed.
struct OutputSpread {
  int64_t inside = 0;
  int64_t clamped = 0;
};

// Runs the portable kernel and the backend `name` (each a callable taking the output pointer)
// on differently filled buffers, and requires kOk from both, the same `count` output bytes and
// untouched guard bytes.
template <typename RunPortable, typename RunBackend>
void ExpectSameOutput(const char* name, int32_t count, const RequantizeParams& requantize,
                      RunPortable portable, RunBackend backend, OutputSpread* spread) {
  std::vector<int8_t> expected(U(count) + kGuardBytes, kPortableFill);
  std::vector<int8_t> actual(U(count) + kGuardBytes, kBackendFill);
  const Status portable_status = portable(expected.data());
  const Status backend_status = backend(actual.data());
  ASSERT_EQ(portable_status, Status::kOk) << StatusName(portable_status);
  ASSERT_EQ(backend_status, Status::kOk) << name << ": " << StatusName(backend_status);
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
                  << first_difference << ": " << name << " "
                  << static_cast<int>(actual[U(first_difference)]) << ", portable "
                  << static_cast<int>(expected[U(first_difference)]);
  }
  for (size_t i = U(count); i < U(count) + kGuardBytes; ++i) {
    ASSERT_EQ(expected[i], kPortableFill) << "portable wrote past the output at " << i;
    ASSERT_EQ(actual[i], kBackendFill) << name << " wrote past the output at " << i;
  }
}

// Output zero points at -128 or 127 and the fused activations clamp many outputs by design;
// at least a fifth must still land strictly inside the clamp.
inline void ExpectSpread(const OutputSpread& spread) {
  EXPECT_GT(4 * spread.inside, spread.clamped)
      << spread.clamped << " outputs clamped, " << spread.inside << " inside the clamp";
}

inline std::string Describe(const LinearParams& p) {
  return "linear batches=" + std::to_string(p.batches) + " in=" +
         std::to_string(p.input_features) + " out=" + std::to_string(p.output_features) +
         (p.requantize.per_channel ? " per-channel" : " per-tensor") +
         " z_out=" + std::to_string(p.requantize.output_zero_point) + " clamp=[" +
         std::to_string(p.requantize.activation_min) + ", " +
         std::to_string(p.requantize.activation_max) + "]";
}

inline std::string Describe(const Conv2dParams& p) {
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

template <typename Backend>
void ExpectSameLinear(const LinearParams& params, const std::vector<int8_t>& input,
                      const std::vector<int8_t>& weights, const std::vector<int32_t>& bias,
                      OutputSpread* spread) {
  SCOPED_TRACE(Describe(params));
  ExpectSameOutput(
      Backend::kName, ElementCount(params.batches, params.output_features), params.requantize,
      [&](int8_t* output) {
        return integr8::Linear(params, input.data(), weights.data(), bias.data(), output);
      },
      [&](int8_t* output) {
        return Backend::Linear(params, input.data(), weights.data(), bias.data(), output);
      },
      spread);
}

template <typename Backend>
void ExpectSameConv2d(const Conv2dParams& params, const std::vector<int8_t>& input,
                      const std::vector<int8_t>& filter, const std::vector<int32_t>& bias,
                      OutputSpread* spread) {
  SCOPED_TRACE(Describe(params));
  ExpectSameOutput(
      Backend::kName,
      ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                   params.output_channels),
      params.requantize,
      [&](int8_t* output) {
        return integr8::Conv2d(params, input.data(), filter.data(), bias.data(), output);
      },
      [&](int8_t* output) {
        return Backend::Conv2d(params, input.data(), filter.data(), bias.data(), output);
      },
      spread);
}

// A random Linear case: operands and the requantization they point at.
struct LinearCase {
  LinearParams params;
  std::vector<int8_t> input;
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;
  Requantization requantization;
};

// Batches 1..64 (the first two trials pin 1 and 64), short and long rows, few and many
// output features; trial selects the pinned extremes.
inline void RandomLinearCase(Random& random, int32_t trial, LinearCase* c) {
  LinearParams& params = c->params;
  params.batches = trial == 0 ? 1 : trial == 1 ? 64 : random.Uniform(1, 64);
  params.input_features = random.Percent(20) ? random.Uniform(1, 8) : random.Uniform(1, 300);
  params.output_features = random.Percent(20) ? random.Uniform(1, 4) : random.Uniform(1, 80);
  const int32_t products = params.input_features;
  c->input = random.Int8(U(params.batches) * U(products), kActivationMin, kActivationMax);
  c->weights = random.Int8(U(params.output_features) * U(products), kWeightMin, kWeightMax);
  c->bias = random.Bias(U(params.output_features), products);
  int64_t typical = static_cast<int64_t>(products) * 2000;
  for (const int32_t b : c->bias) typical = std::max<int64_t>(typical, b < 0 ? -int64_t{b} : b);
  RandomRequantization(random, params.output_features, typical, &c->requantization);
  params.requantize = c->requantization.params;
}

struct Conv2dCase {
  Conv2dParams params;
  std::vector<int8_t> input;
  std::vector<int8_t> filter;
  std::vector<int32_t> bias;
  Requantization requantization;
};

// Mostly 1..3 batches of up to 12x12, sometimes up to 64 batches of up to 5x5; groups,
// depthwise-like groups, filters up to 5x5, strides, dilations and paddings up to 3.
inline void RandomConv2dCase(Random& random, Conv2dCase* c) {
  Conv2dParams& params = c->params;
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

  const int32_t products = params.filter_height * params.filter_width * filter_input_channels;
  c->input = random.Int8(U(ElementCount(params.batches, params.input_height,
                                        params.input_width, params.input_channels)),
                         kActivationMin, kActivationMax);
  c->filter = random.Int8(U(params.output_channels) * U(products), kWeightMin, kWeightMax);
  c->bias = random.Bias(U(params.output_channels), products);
  int64_t typical = static_cast<int64_t>(products) * 2000;
  for (const int32_t b : c->bias) typical = std::max<int64_t>(typical, b < 0 ? -int64_t{b} : b);
  RandomRequantization(random, params.output_channels, typical, &c->requantization);
  params.requantize = c->requantization.params;
}

// Applies `mutate` to a fresh valid call, runs the portable kernel and the backend, and
// requires `expected` from both, with every buffer as it was.
template <typename Backend, typename Mutate>
void ExpectLinearRejected(Status expected, Mutate mutate) {
  for (const bool use_backend : {false, true}) {
    LinearCall call;
    mutate(call);
    const std::vector<int8_t> buffer = call.buffer;
    const std::vector<int32_t> bias = call.bias;
    const Status status =
        use_backend ? Backend::Linear(call.params, call.input, call.weights.data(),
                                      call.bias.data(), call.output)
                    : integr8::Linear(call.params, call.input, call.weights.data(),
                                      call.bias.data(), call.output);
    const char* name = use_backend ? Backend::kName : "portable";
    EXPECT_EQ(status, expected) << name << " returned " << StatusName(status) << ", expected "
                                << StatusName(expected);
    EXPECT_TRUE(call.buffer == buffer) << name << " wrote although it returned "
                                       << StatusName(status);
    EXPECT_TRUE(call.bias == bias) << name;
  }
}

template <typename Backend, typename Mutate>
void ExpectConv2dRejected(Status expected, Mutate mutate) {
  for (const bool use_backend : {false, true}) {
    Conv2dCall call;
    mutate(call);
    const std::vector<int8_t> buffer = call.buffer;
    const Status status =
        use_backend ? Backend::Conv2d(call.params, call.input, call.filter.data(),
                                      call.bias.data(), call.output)
                    : integr8::Conv2d(call.params, call.input, call.filter.data(),
                                      call.bias.data(), call.output);
    const char* name = use_backend ? Backend::kName : "portable";
    EXPECT_EQ(status, expected) << name << " returned " << StatusName(status) << ", expected "
                                << StatusName(expected);
    EXPECT_TRUE(call.buffer == buffer) << name << " wrote although it returned "
                                       << StatusName(status);
  }
}

// Requires run(output) to return kOk and reproduce the reference bytes exactly.
template <typename Run>
void ExpectGolden(const char* name, const int8_t* expected, int32_t expected_size, Run run) {
  SCOPED_TRACE(name);
  std::vector<int8_t> output(U(expected_size) + kGuardBytes, kBackendFill);
  const Status status = run(output.data());
  ASSERT_EQ(status, Status::kOk) << StatusName(status);
  for (int32_t i = 0; i < expected_size; ++i) {
    ASSERT_EQ(static_cast<int>(output[U(i)]), static_cast<int>(expected[i]))
        << "first difference at output index " << i;
  }
  for (size_t i = U(expected_size); i < output.size(); ++i) {
    ASSERT_EQ(output[i], kBackendFill) << "wrote past the output at " << i;
  }
}

// Test names carry the backend's name. Passing a name generator also gives the macro's
// variadic part an argument, which clang's -Wpedantic requires.
struct BackendName {
  template <typename Backend>
  static std::string GetName(int /*index*/) {
    return Backend::kName;
  }
};

template <typename Backend>
class BackendLinearTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(BackendLinearTest);

template <typename Backend>
class BackendConv2dTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(BackendConv2dTest);

// --- Random shapes -------------------------------------------------------------------------

TYPED_TEST_P(BackendLinearTest, MatchesPortableOnRandomShapes) {
  Random random(20250801);
  OutputSpread spread;
  for (int32_t trial = 0; trial < 300; ++trial) {
    LinearCase c;
    RandomLinearCase(random, trial, &c);
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameLinear<TypeParam>(c.params, c.input, c.weights, c.bias, &spread));
  }
  ExpectSpread(spread);
}

TYPED_TEST_P(BackendConv2dTest, MatchesPortableOnRandomShapes) {
  Random random(20250802);
  OutputSpread spread;
  for (int32_t trial = 0; trial < 400; ++trial) {
    Conv2dCase c;
    RandomConv2dCase(random, &c);
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameConv2d<TypeParam>(c.params, c.input, c.filter, c.bias, &spread));
  }
  ExpectSpread(spread);
}

// --- Accumulators at the bound ---------------------------------------------------------------

// x = -128 everywhere (x = 127 in the second batch). Channel 0: w = -127 and the largest bias,
// so the sum is exactly INT32_MAX; channel 1: w = +127 and the most negative bias, exactly
// -INT32_MAX; channel 2: alternating weights. The result at the extremes is checked against
// Requantize of the exact sums too, so the test cannot pass with both implementations
// wrapping alike.
TYPED_TEST_P(BackendLinearTest, AccumulatorsAtTheBound) {
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
    ExpectSameLinear<TypeParam>(params, input, weights, bias, &spread);

    std::vector<int8_t> output(U(2 * kChannels));
    ASSERT_EQ(TypeParam::Linear(params, input.data(), weights.data(), bias.data(),
                                output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], Requantize(INT32_MAX, requantization.multipliers[0], 55, 0, -128, 127));
    EXPECT_EQ(output[1], Requantize(-INT32_MAX, requantization.multipliers[1], 55, 0, -128, 127));
    // One more unit of bias is rejected by both.
    const std::vector<int32_t> too_large{max_bias + 1, 0, 0};
    EXPECT_EQ(integr8::Linear(params, input.data(), weights.data(), too_large.data(),
                              output.data()),
              Status::kAccumulatorOverflow);
    EXPECT_EQ(TypeParam::Linear(params, input.data(), weights.data(), too_large.data(),
                                output.data()),
              Status::kAccumulatorOverflow);
  }
}

// The same at the bound through padded taps: z_in = -128 is what the padding reads.
TYPED_TEST_P(BackendConv2dTest, AccumulatorsAtTheBoundThroughPadding) {
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
    ExpectSameConv2d<TypeParam>(params, input, filter, bias, &spread);

    std::vector<int8_t> output(U(ElementCount(params.batches, OutputHeight(params),
                                              OutputWidth(params), params.output_channels)));
    ASSERT_EQ(TypeParam::Conv2d(params, input.data(), filter.data(), bias.data(),
                                output.data()),
              Status::kOk);
    EXPECT_EQ(output[0], Requantize(INT32_MAX, requantization.multipliers[0], 55, 0, -128, 127));
    EXPECT_EQ(output[1], Requantize(-INT32_MAX, requantization.multipliers[1], 55, 0, -128, 127));
  }
}

// --- Rejected inputs: the same Status, nothing written ---------------------------------------

TYPED_TEST_P(BackendLinearTest, BaseRejectCallIsAcceptedAndMatches) {
  LinearCall call;
  OutputSpread spread;
  ExpectSameLinear<TypeParam>(call.params, std::vector<int8_t>(call.input, call.input + 6),
                              call.weights, call.bias, &spread);
}

TYPED_TEST_P(BackendLinearTest, RejectsNullPointer) {
  ExpectLinearRejected<TypeParam>(Status::kNullPointer, [](LinearCall& c) { c.input = nullptr; });
  ExpectLinearRejected<TypeParam>(Status::kNullPointer,
                                  [](LinearCall& c) { c.output = nullptr; });
  ExpectLinearRejected<TypeParam>(
      Status::kNullPointer, [](LinearCall& c) { c.params.requantize.multipliers = nullptr; });
  ExpectLinearRejected<TypeParam>(Status::kNullPointer,
                                  [](LinearCall& c) { c.params.requantize.shifts = nullptr; });
  // Weights and bias: run directly, since the call owns them as vectors.
  LinearCall call;
  const int8_t* no_weights = nullptr;
  const int32_t* no_bias = nullptr;
  const std::vector<int8_t> before = call.buffer;
  EXPECT_EQ(TypeParam::Linear(call.params, call.input, no_weights, call.bias.data(),
                              call.output),
            Status::kNullPointer);
  EXPECT_EQ(TypeParam::Linear(call.params, call.input, call.weights.data(), no_bias,
                              call.output),
            Status::kNullPointer);
  EXPECT_TRUE(call.buffer == before);
}

TYPED_TEST_P(BackendLinearTest, RejectsBadShape) {
  ExpectLinearRejected<TypeParam>(Status::kBadShape, [](LinearCall& c) { c.params.batches = 0; });
  ExpectLinearRejected<TypeParam>(Status::kBadShape,
                                  [](LinearCall& c) { c.params.input_features = -1; });
  ExpectLinearRejected<TypeParam>(Status::kBadShape,
                                  [](LinearCall& c) { c.params.output_features = 0; });
  ExpectLinearRejected<TypeParam>(Status::kBadShape, [](LinearCall& c) {
    c.params.batches = 1 << 16;
    c.params.input_features = 1 << 16;  // 2^32 input elements
  });
  ExpectLinearRejected<TypeParam>(Status::kBadShape, [](LinearCall& c) {
    c.params.output_features = INT32_MAX;  // weights overflow INT32_MAX elements
  });
}

TYPED_TEST_P(BackendLinearTest, RejectsBadRequantization) {
  ExpectLinearRejected<TypeParam>(Status::kBadMultiplier,
                                  [](LinearCall& c) { c.multipliers[3] = kMultiplierMin - 1; });
  ExpectLinearRejected<TypeParam>(Status::kBadMultiplier, [](LinearCall& c) {
    c.params.requantize.per_channel = false;
    c.multipliers[0] = INT32_MIN;
  });
  ExpectLinearRejected<TypeParam>(Status::kBadShift, [](LinearCall& c) { c.shifts[3] = 0; });
  ExpectLinearRejected<TypeParam>(Status::kBadShift, [](LinearCall& c) { c.shifts[0] = 63; });
  ExpectLinearRejected<TypeParam>(
      Status::kBadZeroPoint, [](LinearCall& c) { c.params.requantize.output_zero_point = 128; });
  ExpectLinearRejected<TypeParam>(
      Status::kBadZeroPoint, [](LinearCall& c) { c.params.requantize.output_zero_point = -129; });
  ExpectLinearRejected<TypeParam>(Status::kBadActivationRange, [](LinearCall& c) {
    c.params.requantize.activation_min = 10;
    c.params.requantize.activation_max = 9;
  });
  ExpectLinearRejected<TypeParam>(
      Status::kBadActivationRange, [](LinearCall& c) { c.params.requantize.activation_min = -129; });
  ExpectLinearRejected<TypeParam>(
      Status::kBadActivationRange, [](LinearCall& c) { c.params.requantize.activation_max = 128; });
}

TYPED_TEST_P(BackendLinearTest, RejectsAliasing) {
  ExpectLinearRejected<TypeParam>(Status::kAliasing,
                                  [](LinearCall& c) { c.output = c.buffer.data() + 5; });
  ExpectLinearRejected<TypeParam>(Status::kAliasing,
                                  [](LinearCall& c) { c.output = c.buffer.data(); });
}

TYPED_TEST_P(BackendLinearTest, RejectsAccumulatorOverflow) {
  // K = 3: the bias bound is 2^31 - 1 - 3 * 128 * 127.
  ExpectLinearRejected<TypeParam>(Status::kAccumulatorOverflow,
                                  [](LinearCall& c) { c.bias[3] = MaxBias(3) + 1; });
  ExpectLinearRejected<TypeParam>(Status::kAccumulatorOverflow,
                                  [](LinearCall& c) { c.bias[0] = -MaxBias(3) - 1; });
  ExpectLinearRejected<TypeParam>(Status::kAccumulatorOverflow,
                                  [](LinearCall& c) { c.bias[1] = INT32_MIN; });
}

TYPED_TEST_P(BackendLinearTest, FirstFailingCheckWins) {
  ExpectLinearRejected<TypeParam>(Status::kNullPointer, [](LinearCall& c) {
    c.input = nullptr;
    c.params.batches = 0;
  });
  ExpectLinearRejected<TypeParam>(Status::kBadShape, [](LinearCall& c) {
    c.params.batches = 0;
    c.shifts[0] = 0;
  });
  ExpectLinearRejected<TypeParam>(Status::kBadShift, [](LinearCall& c) {
    c.shifts[0] = 0;
    c.output = c.buffer.data();
  });
  ExpectLinearRejected<TypeParam>(Status::kAliasing, [](LinearCall& c) {
    c.output = c.buffer.data();
    c.bias[0] = INT32_MIN;
  });
}

TYPED_TEST_P(BackendConv2dTest, BaseRejectCallIsAcceptedAndMatches) {
  Conv2dCall call;
  OutputSpread spread;
  ExpectSameConv2d<TypeParam>(
      call.params, std::vector<int8_t>(call.input, call.input + Conv2dCall::kInputCount),
      call.filter, call.bias, &spread);
}

TYPED_TEST_P(BackendConv2dTest, RejectsNullPointer) {
  ExpectConv2dRejected<TypeParam>(Status::kNullPointer, [](Conv2dCall& c) { c.input = nullptr; });
  ExpectConv2dRejected<TypeParam>(Status::kNullPointer,
                                  [](Conv2dCall& c) { c.output = nullptr; });
  ExpectConv2dRejected<TypeParam>(
      Status::kNullPointer, [](Conv2dCall& c) { c.params.requantize.multipliers = nullptr; });
  ExpectConv2dRejected<TypeParam>(Status::kNullPointer,
                                  [](Conv2dCall& c) { c.params.requantize.shifts = nullptr; });
  Conv2dCall call;
  const int8_t* no_filter = nullptr;
  const int32_t* no_bias = nullptr;
  const std::vector<int8_t> before = call.buffer;
  EXPECT_EQ(TypeParam::Conv2d(call.params, call.input, no_filter, call.bias.data(),
                              call.output),
            Status::kNullPointer);
  EXPECT_EQ(TypeParam::Conv2d(call.params, call.input, call.filter.data(), no_bias,
                              call.output),
            Status::kNullPointer);
  EXPECT_TRUE(call.buffer == before);
}

TYPED_TEST_P(BackendConv2dTest, RejectsBadShape) {
  ExpectConv2dRejected<TypeParam>(Status::kBadShape, [](Conv2dCall& c) { c.params.batches = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape,
                                  [](Conv2dCall& c) { c.params.input_height = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape,
                                  [](Conv2dCall& c) { c.params.input_width = -1; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape,
                                  [](Conv2dCall& c) { c.params.input_channels = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape,
                                  [](Conv2dCall& c) { c.params.output_channels = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape,
                                  [](Conv2dCall& c) { c.params.filter_height = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape,
                                  [](Conv2dCall& c) { c.params.filter_width = -2; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape, [](Conv2dCall& c) {
    c.params.batches = 1 << 16;
    c.params.input_height = 1 << 16;  // 2^32 * 16 input elements
  });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape, [](Conv2dCall& c) {
    c.params.padding_height = 0;
    c.params.filter_height = 5;  // larger than the 4-row input
  });
  ExpectConv2dRejected<TypeParam>(Status::kBadShape, [](Conv2dCall& c) {
    c.params.padding_width = 0;
    c.params.dilation_width = 2;  // dilated span 5 > 4
  });
}

TYPED_TEST_P(BackendConv2dTest, RejectsBadWindow) {
  ExpectConv2dRejected<TypeParam>(Status::kBadStride,
                                  [](Conv2dCall& c) { c.params.stride_height = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadStride,
                                  [](Conv2dCall& c) { c.params.stride_width = -3; });
  ExpectConv2dRejected<TypeParam>(Status::kBadDilation,
                                  [](Conv2dCall& c) { c.params.dilation_height = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadDilation,
                                  [](Conv2dCall& c) { c.params.dilation_width = -1; });
  ExpectConv2dRejected<TypeParam>(Status::kBadPadding,
                                  [](Conv2dCall& c) { c.params.padding_height = -1; });
  ExpectConv2dRejected<TypeParam>(Status::kBadPadding,
                                  [](Conv2dCall& c) { c.params.padding_width = INT32_MAX / 2; });
}

TYPED_TEST_P(BackendConv2dTest, RejectsBadGroups) {
  ExpectConv2dRejected<TypeParam>(Status::kBadGroups, [](Conv2dCall& c) { c.params.groups = 0; });
  ExpectConv2dRejected<TypeParam>(Status::kBadGroups,
                                  [](Conv2dCall& c) { c.params.groups = -2; });
  ExpectConv2dRejected<TypeParam>(Status::kBadGroups,
                                  [](Conv2dCall& c) { c.params.groups = 3; });  // 4 in
  ExpectConv2dRejected<TypeParam>(Status::kBadGroups,
                                  [](Conv2dCall& c) { c.params.groups = 4; });  // 6 out
}

TYPED_TEST_P(BackendConv2dTest, RejectsBadRequantization) {
  ExpectConv2dRejected<TypeParam>(Status::kBadZeroPoint,
                                  [](Conv2dCall& c) { c.params.input_zero_point = 128; });
  ExpectConv2dRejected<TypeParam>(Status::kBadZeroPoint,
                                  [](Conv2dCall& c) { c.params.input_zero_point = -129; });
  ExpectConv2dRejected<TypeParam>(Status::kBadMultiplier,
                                  [](Conv2dCall& c) { c.multipliers[5] = kMultiplierMin - 1; });
  ExpectConv2dRejected<TypeParam>(Status::kBadMultiplier, [](Conv2dCall& c) {
    c.params.requantize.per_channel = false;
    c.multipliers[0] = 0;
  });
  ExpectConv2dRejected<TypeParam>(Status::kBadShift, [](Conv2dCall& c) { c.shifts[5] = 63; });
  ExpectConv2dRejected<TypeParam>(Status::kBadShift, [](Conv2dCall& c) { c.shifts[2] = 0; });
  ExpectConv2dRejected<TypeParam>(
      Status::kBadZeroPoint, [](Conv2dCall& c) { c.params.requantize.output_zero_point = 128; });
  ExpectConv2dRejected<TypeParam>(Status::kBadActivationRange, [](Conv2dCall& c) {
    c.params.requantize.activation_min = 0;
    c.params.requantize.activation_max = -1;
  });
  ExpectConv2dRejected<TypeParam>(
      Status::kBadActivationRange, [](Conv2dCall& c) { c.params.requantize.activation_max = 200; });
}

TYPED_TEST_P(BackendConv2dTest, RejectsAliasing) {
  ExpectConv2dRejected<TypeParam>(Status::kAliasing,
                                  [](Conv2dCall& c) { c.output = c.buffer.data() + 10; });
  ExpectConv2dRejected<TypeParam>(Status::kAliasing, [](Conv2dCall& c) {
    c.output = c.buffer.data() + Conv2dCall::kInputCount - 1;  // one shared byte
  });
}

TYPED_TEST_P(BackendConv2dTest, RejectsAccumulatorOverflow) {
  ExpectConv2dRejected<TypeParam>(Status::kAccumulatorOverflow, [](Conv2dCall& c) {
    c.bias[5] = MaxBias(Conv2dCall::kProducts) + 1;
  });
  ExpectConv2dRejected<TypeParam>(Status::kAccumulatorOverflow, [](Conv2dCall& c) {
    c.bias[0] = -MaxBias(Conv2dCall::kProducts) - 1;
  });
  ExpectConv2dRejected<TypeParam>(Status::kAccumulatorOverflow,
                                  [](Conv2dCall& c) { c.bias[2] = INT32_MIN; });
}

TYPED_TEST_P(BackendConv2dTest, FirstFailingCheckWins) {
  ExpectConv2dRejected<TypeParam>(Status::kNullPointer, [](Conv2dCall& c) {
    c.output = nullptr;
    c.params.stride_height = 0;
  });
  ExpectConv2dRejected<TypeParam>(Status::kBadStride, [](Conv2dCall& c) {
    c.params.stride_height = 0;
    c.params.groups = 0;
  });
  ExpectConv2dRejected<TypeParam>(Status::kBadGroups, [](Conv2dCall& c) {
    c.params.groups = 3;
    c.params.input_zero_point = 500;
  });
  ExpectConv2dRejected<TypeParam>(Status::kBadZeroPoint, [](Conv2dCall& c) {
    c.params.input_zero_point = 500;
    c.output = c.buffer.data();
  });
  ExpectConv2dRejected<TypeParam>(Status::kAliasing, [](Conv2dCall& c) {
    c.output = c.buffer.data();
    c.bias[0] = INT32_MIN;
  });
}

// --- Golden vectors of the NumPy reference ------------------------------------------------

TYPED_TEST_P(BackendLinearTest, MatchesGoldenVectors) {
#ifdef INTEGR8_TEST_HAVE_GOLDEN_VECTORS
  for (const golden::LinearCase& c : golden::kLinearCases) {
    ASSERT_EQ(c.expected_size, ElementCount(c.params.batches, c.params.output_features));
    ExpectGolden(c.name, c.expected, c.expected_size, [&c](int8_t* output) {
      return TypeParam::Linear(c.params, c.input, c.weights, c.bias, output);
    });
  }
#else
  GTEST_SKIP() << "tests/golden/golden_vectors.h is missing";
#endif
}

TYPED_TEST_P(BackendConv2dTest, MatchesGoldenVectors) {
#ifdef INTEGR8_TEST_HAVE_GOLDEN_VECTORS
  for (const golden::Conv2dCase& c : golden::kConv2dCases) {
    const Conv2dParams& p = c.params;
    ASSERT_EQ(c.expected_size,
              ElementCount(p.batches, OutputHeight(p), OutputWidth(p), p.output_channels));
    ExpectGolden(c.name, c.expected, c.expected_size, [&c](int8_t* output) {
      return TypeParam::Conv2d(c.params, c.input, c.filter, c.bias, output);
    });
  }
#else
  GTEST_SKIP() << "tests/golden/golden_vectors.h is missing";
#endif
}

REGISTER_TYPED_TEST_SUITE_P(BackendLinearTest, MatchesPortableOnRandomShapes,
                            AccumulatorsAtTheBound, BaseRejectCallIsAcceptedAndMatches,
                            RejectsNullPointer, RejectsBadShape, RejectsBadRequantization,
                            RejectsAliasing, RejectsAccumulatorOverflow, FirstFailingCheckWins,
                            MatchesGoldenVectors);
REGISTER_TYPED_TEST_SUITE_P(BackendConv2dTest, MatchesPortableOnRandomShapes,
                            AccumulatorsAtTheBoundThroughPadding,
                            BaseRejectCallIsAcceptedAndMatches, RejectsNullPointer,
                            RejectsBadShape, RejectsBadWindow, RejectsBadGroups,
                            RejectsBadRequantization, RejectsAliasing,
                            RejectsAccumulatorOverflow, FirstFailingCheckWins,
                            MatchesGoldenVectors);

}  // namespace integr8::conformance

#endif  // INTEGR8_TESTS_UNIT_BACKEND_CONFORMANCE_H_
