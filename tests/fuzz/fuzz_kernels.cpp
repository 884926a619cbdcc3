// libFuzzer harness: every kernel (linear, conv2d, depthwise, max/avg pool, add, relu,
// requantize) on small random shapes and parameters, valid by construction, against the spec
// reference in reference_kernels.h, for every backend in backends.h. Each backend must return
// kOk, write exactly the reference bytes, and leave the bytes after its output alone; ASan
// checks that nothing reads outside the exactly-sized inputs. Shapes whose window leaves no
// output position must give kBadShape everywhere.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "backends.h"
#include "fuzz_input.h"
#include "reference_kernels.h"

namespace {

using integr8::Status;
using integr8_fuzz::Backend;
using integr8_fuzz::FuzzInput;
using integr8_fuzz::kBackends;
using integr8_fuzz::SplitMix;
namespace reference = integr8_fuzz::reference;

constexpr size_t kGuardBytes = 16;
constexpr int8_t kFill = 0x5A;

size_t U(int64_t value) { return static_cast<size_t>(value); }

// Tensor contents: straight from the input bytes, uniform from a seeded generator, or only
// the extremes (-128 / 127 activations, +-127 weights) that drive accumulators to the bound.
std::vector<int8_t> Int8s(FuzzInput& in, size_t count, int32_t low, int32_t high) {
  std::vector<int8_t> values(count);
  const uint8_t mode = in.Byte() % 3;
  SplitMix random(in.Uint64());
  for (int8_t& value : values) {
    int32_t v = 0;
    if (mode == 0) {
      v = in.Small(low, high);
    } else if (mode == 1) {
      v = random.InRange(low, high);
    } else {
      v = (random.Next() & 1U) != 0 ? low : high;
    }
    value = static_cast<int8_t>(v);
  }
  return values;
}

// Biases within the accumulator bound |b| + K * 128 * 127 < 2^31, often at it.
std::vector<int32_t> Biases(FuzzInput& in, size_t count, int64_t products) {
  const int64_t bound = (int64_t{1} << 31) - 1 - products * 128 * 127;
  INTEGR8_FUZZ_CHECK(bound >= 0);
  const auto limit = static_cast<int32_t>(bound);
  std::vector<int32_t> values(count);
  const uint8_t mode = in.Byte() % 4;
  SplitMix random(in.Uint64());
  for (int32_t& value : values) {
    if (mode == 0) {
      value = random.InRange(-limit, limit);
    } else if (mode == 1) {
      value = (random.Next() & 1U) != 0 ? -limit : limit;
    } else {
      value = random.InRange(-(1 << 16), 1 << 16);  // realistic folded biases
    }
  }
  return values;
}

// Multipliers and shifts (one or one per channel), output zero point and activation range.
struct RequantizeData {
  reference::Requant reference;
  integr8::RequantizeParams params;  // points into reference's vectors
};

int32_t Shift(FuzzInput& in) { return in.Bool() ? in.Small(1, 62) : in.Small(28, 44); }

void ActivationRange(FuzzInput& in, int32_t* low, int32_t* high) {
  int32_t a = in.Small(-128, 127);
  int32_t b = in.Bool() ? 127 : in.Small(-128, 127);
  if (a > b) {
    const int32_t swap = a;
    a = b;
    b = swap;
  }
  *low = a;
  *high = b;
}

void MakeRequantize(FuzzInput& in, int64_t channels, RequantizeData* data) {
  const bool per_channel = in.Bool();
  const size_t entries = per_channel ? U(channels) : 1;
  SplitMix random(in.Uint64());
  const bool random_shifts = in.Bool();
  const int32_t common_shift = Shift(in);
  for (size_t entry = 0; entry < entries; ++entry) {
    data->reference.multipliers.push_back(random.InRange(int32_t{1} << 30, INT32_MAX));
    data->reference.shifts.push_back(random_shifts ? random.InRange(1, 62) : common_shift);
  }
  data->reference.zero_point = in.Small(-128, 127);
  ActivationRange(in, &data->reference.low, &data->reference.high);
  data->params.multipliers = data->reference.multipliers.data();
  data->params.shifts = data->reference.shifts.data();
  data->params.per_channel = per_channel;
  data->params.output_zero_point = data->reference.zero_point;
  data->params.activation_min = data->reference.low;
  data->params.activation_max = data->reference.high;
}

// Runs one backend's op into a filled output with guard bytes and checks the result.
template <typename Call>
void Expect(const Backend& backend, const char* op, size_t output_size,
            const std::vector<int8_t>& expected, Status expected_status, Call&& call) {
  std::vector<int8_t> output(output_size + kGuardBytes, kFill);
  const Status status = call(output.data());
  if (status != expected_status) {
    std::fprintf(stderr, "%s %s: status %s, expected %s\n", backend.name, op,
                 integr8::StatusName(status), integr8::StatusName(expected_status));
    INTEGR8_FUZZ_CHECK(status == expected_status);
  }
  for (size_t i = 0; i < output.size(); ++i) {
    const int8_t want = expected_status == Status::kOk && i < output_size ? expected[i] : kFill;
    if (output[i] != want) {
      std::fprintf(stderr, "%s %s: byte %zu of %zu is %d, expected %d\n", backend.name, op, i,
                   output_size, output[i], want);
      INTEGR8_FUZZ_CHECK(output[i] == want);
    }
  }
}

void FuzzLinear(FuzzInput& in) {
  const int32_t batches = in.Small(1, 9);
  const int32_t in_features = in.Small(1, 80);
  const int32_t out_features = in.Small(1, 40);
  const std::vector<int8_t> input = Int8s(in, U(batches * in_features), -128, 127);
  const std::vector<int8_t> weights = Int8s(in, U(out_features * in_features), -127, 127);
  const std::vector<int32_t> bias = Biases(in, U(out_features), in_features);
  RequantizeData requantize;
  MakeRequantize(in, out_features, &requantize);
  const integr8::LinearParams params{batches, in_features, out_features, requantize.params};
  const std::vector<int8_t> expected = reference::Linear(batches, in_features, out_features,
                                                         input, weights, bias,
                                                         requantize.reference);
  for (const Backend& backend : kBackends) {
    if (backend.linear == nullptr) continue;
    Expect(backend, "Linear", expected.size(), expected, Status::kOk, [&](int8_t* output) {
      return backend.linear(params, input.data(), weights.data(), bias.data(), output);
    });
  }
}

reference::ConvShape ConvShape(FuzzInput& in, bool depthwise) {
  reference::ConvShape s{};
  s.batches = in.Small(1, 3);
  s.height = in.Small(1, 9);
  s.width = in.Small(1, 9);
  s.filter_height = in.Small(1, 5);
  s.filter_width = in.Small(1, 5);
  s.stride_height = in.Small(1, 3);
  s.stride_width = in.Small(1, 3);
  s.dilation_height = in.Small(1, 3);
  s.dilation_width = in.Small(1, 3);
  s.padding_height = in.Small(0, 3);
  s.padding_width = in.Small(0, 3);
  if (depthwise) {
    s.groups = 1;
    s.in_channels = in.Small(1, 8);
    s.depth_multiplier = in.Small(1, 3);
    s.out_channels = s.in_channels * s.depth_multiplier;
  } else {
    s.groups = in.Small(1, 4);
    s.in_channels = s.groups * in.Small(1, 4);
    s.out_channels = s.groups * in.Small(1, 4);
    s.depth_multiplier = 1;
  }
  s.input_zero_point = in.Small(-128, 127);
  return s;
}

int64_t ConvOutputSize(const reference::ConvShape& s) {
  return s.batches *
         reference::Extent(s.height, s.filter_height, s.stride_height, s.dilation_height,
                           s.padding_height, false) *
         reference::Extent(s.width, s.filter_width, s.stride_width, s.dilation_width,
                           s.padding_width, false) *
         s.out_channels;
}

int32_t I32(int64_t value) { return static_cast<int32_t>(value); }

void FuzzConv2d(FuzzInput& in) {
  const reference::ConvShape s = ConvShape(in, false);
  const int64_t products = s.filter_height * s.filter_width * (s.in_channels / s.groups);
  const std::vector<int8_t> input =
      Int8s(in, U(s.batches * s.height * s.width * s.in_channels), -128, 127);
  const std::vector<int8_t> filter = Int8s(in, U(s.out_channels * products), -127, 127);
  const std::vector<int32_t> bias = Biases(in, U(s.out_channels), products);
  RequantizeData requantize;
  MakeRequantize(in, s.out_channels, &requantize);
  const integr8::Conv2dParams params{
      I32(s.batches),         I32(s.height),          I32(s.width),
      I32(s.in_channels),     I32(s.out_channels),    I32(s.filter_height),
      I32(s.filter_width),    I32(s.stride_height),   I32(s.stride_width),
      I32(s.dilation_height), I32(s.dilation_width),  I32(s.padding_height),
      I32(s.padding_width),   I32(s.groups),          s.input_zero_point,
      requantize.params};
  const int64_t output_size = ConvOutputSize(s);
  const std::vector<int8_t> expected =
      output_size > 0 ? reference::Conv2d(s, input, filter, bias, requantize.reference)
                      : std::vector<int8_t>{};
  const Status expected_status = output_size > 0 ? Status::kOk : Status::kBadShape;
  for (const Backend& backend : kBackends) {
    if (backend.conv2d == nullptr) continue;
    Expect(backend, "Conv2d", expected.size(), expected, expected_status, [&](int8_t* output) {
      return backend.conv2d(params, input.data(), filter.data(), bias.data(), output);
    });
  }
}

void FuzzDepthwise(FuzzInput& in) {
  const reference::ConvShape s = ConvShape(in, true);
  const int64_t products = s.filter_height * s.filter_width;
  const std::vector<int8_t> input =
      Int8s(in, U(s.batches * s.height * s.width * s.in_channels), -128, 127);
  const std::vector<int8_t> filter = Int8s(in, U(products * s.out_channels), -127, 127);
  const std::vector<int32_t> bias = Biases(in, U(s.out_channels), products);
  RequantizeData requantize;
  MakeRequantize(in, s.out_channels, &requantize);
  const integr8::DepthwiseConv2dParams params{
      I32(s.batches),          I32(s.height),          I32(s.width),
      I32(s.in_channels),      I32(s.depth_multiplier), I32(s.filter_height),
      I32(s.filter_width),     I32(s.stride_height),   I32(s.stride_width),
      I32(s.dilation_height),  I32(s.dilation_width),  I32(s.padding_height),
      I32(s.padding_width),    s.input_zero_point,     requantize.params};
  const int64_t output_size = ConvOutputSize(s);
  const std::vector<int8_t> expected =
      output_size > 0 ? reference::Depthwise(s, input, filter, bias, requantize.reference)
                      : std::vector<int8_t>{};
  const Status expected_status = output_size > 0 ? Status::kOk : Status::kBadShape;
  for (const Backend& backend : kBackends) {
    if (backend.depthwise == nullptr) continue;
    Expect(backend, "DepthwiseConv2d", expected.size(), expected, expected_status,
           [&](int8_t* output) {
             return backend.depthwise(params, input.data(), filter.data(), bias.data(), output);
           });
  }
}

void FuzzPool(FuzzInput& in, bool is_max) {
  reference::PoolShape s{};
  s.batches = in.Small(1, 3);
  s.height = in.Small(1, 12);
  s.width = in.Small(1, 12);
  s.channels = in.Small(1, 6);
  s.filter_height = in.Small(1, 6);
  s.filter_width = in.Small(1, 6);
  s.stride_height = in.Small(1, 4);
  s.stride_width = in.Small(1, 4);
  s.padding_height = in.Small(0, static_cast<int32_t>(s.filter_height / 2));
  s.padding_width = in.Small(0, static_cast<int32_t>(s.filter_width / 2));
  s.ceil_mode = in.Bool();
  s.count_include_pad = in.Bool();
  s.input_zero_point = in.Small(-128, 127);
  ActivationRange(in, &s.low, &s.high);
  const std::vector<int8_t> input =
      Int8s(in, U(s.batches * s.height * s.width * s.channels), -128, 127);
  integr8::Pool2dParams params;
  params.batches = I32(s.batches);
  params.input_height = I32(s.height);
  params.input_width = I32(s.width);
  params.channels = I32(s.channels);
  params.filter_height = I32(s.filter_height);
  params.filter_width = I32(s.filter_width);
  params.stride_height = I32(s.stride_height);
  params.stride_width = I32(s.stride_width);
  params.padding_height = I32(s.padding_height);
  params.padding_width = I32(s.padding_width);
  params.ceil_mode = s.ceil_mode;
  params.count_include_pad = s.count_include_pad;
  params.input_zero_point = s.input_zero_point;
  params.activation_min = s.low;
  params.activation_max = s.high;
  const int64_t output_size =
      s.batches *
      reference::Extent(s.height, s.filter_height, s.stride_height, 1, s.padding_height,
                        s.ceil_mode) *
      reference::Extent(s.width, s.filter_width, s.stride_width, 1, s.padding_width,
                        s.ceil_mode) *
      s.channels;
  const std::vector<int8_t> expected =
      output_size > 0 ? reference::Pool(s, input, is_max) : std::vector<int8_t>{};
  const Status expected_status = output_size > 0 ? Status::kOk : Status::kBadShape;
  for (const Backend& backend : kBackends) {
    const integr8_fuzz::PoolOp op = is_max ? backend.max_pool : backend.avg_pool;
    if (op == nullptr) continue;
    Expect(backend, is_max ? "MaxPool2d" : "AvgPool2d", expected.size(), expected,
           expected_status, [&](int8_t* output) { return op(params, input.data(), output); });
  }
}

// In-place variants (output == an input) are allowed for Add and Relu; the harness runs them
// on a copy of the input so that each backend starts from the same values.
enum class InPlace { kNone, kFirst, kSecond };

void FuzzAdd(FuzzInput& in) {
  const int32_t size = in.Small(1, 200);
  const std::vector<int8_t> input1 = Int8s(in, U(size), -128, 127);
  const std::vector<int8_t> input2 = Int8s(in, U(size), -128, 127);
  // Input rescales M = m 2^-n <= 1/2, i.e. m <= 2^(n-1): shift n in [32, 62] always allows it;
  // shift 31 needs m = 2^30 exactly (M = 1/2, the larger-scale input).
  reference::AddArgs a{};
  auto input_rescale = [&](int32_t* multiplier, int32_t* shift) {
    *shift = in.Bool() ? 31 : in.Small(32, 62);
    *multiplier = *shift == 31 ? int32_t{1} << 30 : in.InRange(int32_t{1} << 30, INT32_MAX);
  };
  a.zero_point1 = in.Small(-128, 127);
  input_rescale(&a.multiplier1, &a.shift1);
  a.zero_point2 = in.Small(-128, 127);
  input_rescale(&a.multiplier2, &a.shift2);
  a.output_multiplier = in.InRange(int32_t{1} << 30, INT32_MAX);
  a.output_shift = in.Bool() ? in.Small(1, 62) : in.Small(18, 24);
  a.output_zero_point = in.Small(-128, 127);
  ActivationRange(in, &a.low, &a.high);
  const integr8::AddParams params{size, a.zero_point1, a.multiplier1, a.shift1,
                                  a.zero_point2, a.multiplier2, a.shift2, a.output_multiplier,
                                  a.output_shift, a.output_zero_point, a.low, a.high};
  const auto in_place = static_cast<InPlace>(in.Byte() % 3);
  const std::vector<int8_t> expected = reference::Add(a, input1, input2);
  for (const Backend& backend : kBackends) {
    if (backend.add == nullptr) continue;
    Expect(backend, "Add", expected.size(), expected, Status::kOk, [&](int8_t* output) {
      if (in_place == InPlace::kNone) {
        return backend.add(params, input1.data(), input2.data(), output);
      }
      // The output buffer holds a copy of one input and is passed as that input too.
      const std::vector<int8_t>& shared = in_place == InPlace::kFirst ? input1 : input2;
      for (size_t i = 0; i < shared.size(); ++i) output[i] = shared[i];
      const Status status =
          in_place == InPlace::kFirst ? backend.add(params, output, input2.data(), output)
                                      : backend.add(params, input1.data(), output, output);
      return status;
    });
  }
}

void FuzzRelu(FuzzInput& in) {
  const int32_t size = in.Small(1, 200);
  const std::vector<int8_t> input = Int8s(in, U(size), -128, 127);
  integr8::ReluParams params;
  params.size = size;
  ActivationRange(in, &params.activation_min, &params.activation_max);
  std::vector<int8_t> expected;
  for (const int8_t value : input) {
    expected.push_back(static_cast<int8_t>(
        reference::Max(reference::Min(value, params.activation_max), params.activation_min)));
  }
  const bool in_place = in.Bool();
  for (const Backend& backend : kBackends) {
    if (backend.relu == nullptr) continue;
    Expect(backend, "Relu", expected.size(), expected, Status::kOk, [&](int8_t* output) {
      if (!in_place) return backend.relu(params, input.data(), output);
      for (size_t i = 0; i < input.size(); ++i) output[i] = input[i];
      return backend.relu(params, output, output);
    });
  }
}

void FuzzRequantize(FuzzInput& in) {
  const int32_t outer = in.Small(1, 8);
  const int32_t channels = in.Small(1, 40);
  std::vector<int32_t> input(U(outer * channels));
  SplitMix random(in.Uint64());
  const uint8_t mode = in.Byte() % 3;
  for (int32_t& value : input) {
    value = mode == 0   ? in.Edgy()
            : mode == 1 ? random.InRange(INT32_MIN, INT32_MAX)
                        : random.InRange(-(1 << 20), 1 << 20);
  }
  RequantizeData requantize;
  MakeRequantize(in, channels, &requantize);
  const integr8::RequantizeTensorParams params{outer, channels, requantize.params};
  std::vector<int8_t> expected;
  for (size_t i = 0; i < input.size(); ++i) {
    expected.push_back(requantize.reference.Apply(input[i], i % U(channels)));
  }
  for (const Backend& backend : kBackends) {
    if (backend.requantize == nullptr) continue;
    Expect(backend, "RequantizeTensor", expected.size(), expected, Status::kOk,
           [&](int8_t* output) { return backend.requantize(params, input.data(), output); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  switch (in.Byte() % 8) {
    case 0: FuzzLinear(in); break;
    case 1: FuzzConv2d(in); break;
    case 2: FuzzDepthwise(in); break;
    case 3: FuzzPool(in, true); break;
    case 4: FuzzPool(in, false); break;
    case 5: FuzzAdd(in); break;
    case 6: FuzzRelu(in); break;
    default: FuzzRequantize(in); break;
  }
  return 0;
}
