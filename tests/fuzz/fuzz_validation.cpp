// libFuzzer harness: parameter validation. Every params field comes from the fuzzer (edge
// values such as INT32_MIN/MAX, 0, -1 and 2^30 half the time, small values otherwise), buffers
// may be null or overlap, and every backend in backends.h must return a Status -- never crash,
// trap or hit UB (ASan/UBSan abort) -- and:
//   - kNullPointer whenever a buffer the op needs is null (the first check of every kernel);
//   - kOk exactly when an independent predicate written here from the kernels' documented
//     checks (and docs/spec.md) accepts the parameters and the buffers do not overlap;
//   - the same Status as the portable kernel, and on kOk the same output bytes;
//   - on any error, no byte of any buffer changed.
// Parameters whose tensors are too large to allocate only go through the constexpr
// Validate*Params functions (pure functions of the struct).
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
namespace reference = integr8_fuzz::reference;
using reference::Int128;

constexpr int64_t kInt32Max = INT32_MAX;
// Tensors up to this many elements are allocated and the kernels run; larger ones are only
// validated. Work (outputs times products) is bounded too so that each input stays fast.
constexpr int64_t kMaxElements = int64_t{1} << 12;
constexpr int64_t kMaxWork = int64_t{1} << 16;

size_t U(int64_t value) { return static_cast<size_t>(value); }

// A params field: small values (where valid parameters live) or edge values.
int32_t Field(FuzzInput& in) { return in.Byte() < 176 ? in.Small(-2, 13) : in.Edgy(); }

bool IsInt8(int64_t value) { return value >= -128 && value <= 127; }
bool ActivationOk(int32_t low, int32_t high) { return IsInt8(low) && IsInt8(high) && low <= high; }
// Products of positive values, saturated: the element count of a tensor, or > INT32_MAX.
int64_t Count(std::initializer_list<int64_t> dims) {
  Int128 product = 1;
  for (const int64_t dim : dims) {
    if (dim < 1) return 0;
    product *= dim;
    if (product > kInt32Max) return kInt32Max + 1;
  }
  return static_cast<int64_t>(product);
}
bool CountOk(std::initializer_list<int64_t> dims) {
  const int64_t count = Count(dims);
  return count >= 1 && count <= kInt32Max;
}

// Requantization arrays: null, or `entries` values that are valid or arbitrary.
struct RequantizeData {
  std::vector<int32_t> multipliers;
  std::vector<int32_t> shifts;
  integr8::RequantizeParams params;
};

void MakeRequantize(FuzzInput& in, int64_t channels, RequantizeData* data) {
  // Per channel needs one entry per channel; with an unallocatable channel count the
  // arrays stay per tensor (the caller owns the array length, validation cannot check it).
  data->params.per_channel = in.Bool() && channels >= 1 && channels <= kMaxElements;
  const size_t entries = data->params.per_channel ? U(channels) : 1;
  const uint8_t mode = in.Byte();
  integr8_fuzz::SplitMix random(in.Uint64());
  for (size_t entry = 0; entry < entries; ++entry) {
    const bool arbitrary = (mode & 3U) == 0 && random.Next() % 8 == 0;
    data->multipliers.push_back(arbitrary ? in.Edgy() : random.InRange(1 << 30, INT32_MAX));
    data->shifts.push_back(arbitrary ? in.Edgy() : random.InRange(1, 62));
  }
  data->params.multipliers = (mode & 0x30U) == 0x30U ? nullptr : data->multipliers.data();
  data->params.shifts = (mode & 0xC0U) == 0xC0U ? nullptr : data->shifts.data();
  data->params.output_zero_point = in.Bool() ? Field(in) : in.Small(-128, 127);
  data->params.activation_min = in.Bool() ? Field(in) : -128;
  data->params.activation_max = in.Bool() ? Field(in) : 127;
}

bool RequantizeOk(const RequantizeData& data) {
  if (data.params.multipliers == nullptr || data.params.shifts == nullptr) return false;
  for (size_t i = 0; i < data.multipliers.size(); ++i) {
    if (data.multipliers[i] < (1 << 30) || data.shifts[i] < 1 || data.shifts[i] > 62) return false;
  }
  return IsInt8(data.params.output_zero_point) &&
         ActivationOk(data.params.activation_min, data.params.activation_max);
}

bool RequantizePointersOk(const RequantizeData& data) {
  return data.params.multipliers != nullptr && data.params.shifts != nullptr;
}

bool BiasOk(const std::vector<int32_t>& bias, int64_t products) {
  for (const int32_t b : bias) {
    const Int128 magnitude = b < 0 ? -Int128{b} : Int128{b};
    if (magnitude + Int128{products} * 128 * 127 >= (Int128{1} << 31)) return false;
  }
  return true;
}

// The buffers of one call live in one allocation, so that the output can overlap an input
// and an error can be checked to leave every byte alone. Offsets are in bytes.
struct Layout {
  // int32 words, so that Requantize's int32 input is a real int32 object; the int8 buffers
  // access them through int8_t (a character type, which may alias anything).
  std::vector<int32_t> memory;
  size_t input = 0;
  size_t input2 = 0;  // Add's second input (0 bytes for other ops)
  size_t output = 0;
  bool null_input = false, null_input2 = false, null_output = false;
  bool overlaps_input = false, overlaps_input2 = false;  // partially or exactly
  bool exact_input = false, exact_input2 = false;        // output starts where the input does
};

bool Overlap(size_t a, size_t a_bytes, size_t b, size_t b_bytes) {
  return a_bytes > 0 && b_bytes > 0 && a < b + b_bytes && b < a + a_bytes;
}

// Separate buffers most of the time; sometimes the output exactly over an input (in place)
// or shifted into it by a few bytes; sometimes a null pointer.
Layout MakeLayout(FuzzInput& in, size_t input_bytes, size_t input2_bytes, size_t output_bytes) {
  constexpr size_t kGap = 16;
  Layout layout;
  const uint8_t nulls = in.Byte() % 16;
  layout.null_input = nulls == 1;
  layout.null_input2 = nulls == 2 && input2_bytes > 0;
  layout.null_output = nulls == 3;
  layout.input = kGap;
  layout.input2 = layout.input + input_bytes + kGap;
  const size_t apart = layout.input2 + input2_bytes + kGap;
  layout.output = apart;
  switch (in.Byte() % 8) {
    case 1: layout.output = layout.input; break;
    case 2: layout.output = layout.input + static_cast<size_t>(in.Small(1, 7)); break;
    case 3: layout.output = input2_bytes > 0 ? layout.input2 : apart; break;
    case 4: layout.output = layout.input > 4 ? layout.input - 4 : 0; break;
    default: break;
  }
  const size_t end = layout.output + output_bytes;
  layout.memory.resize(((end > apart ? end : apart) + kGap + 3) / 4);
  integr8_fuzz::SplitMix random(in.Uint64());
  for (int32_t& word : layout.memory) word = random.InRange(INT32_MIN, INT32_MAX);
  layout.overlaps_input = Overlap(layout.input, input_bytes, layout.output, output_bytes);
  layout.overlaps_input2 = Overlap(layout.input2, input2_bytes, layout.output, output_bytes);
  layout.exact_input = layout.output == layout.input;
  layout.exact_input2 = input2_bytes > 0 && layout.output == layout.input2;
  return layout;
}

// The buffer at a byte offset (a multiple of 4 for int32 buffers), or null.
template <typename T>
T* At(std::vector<int32_t>& memory, size_t offset, bool null) {
  return null ? nullptr : reinterpret_cast<T*>(reinterpret_cast<int8_t*>(memory.data()) + offset);
}

bool IsStatus(Status status) {
  const auto value = static_cast<int32_t>(status);
  return value >= static_cast<int32_t>(Status::kOk) &&
         value <= static_cast<int32_t>(Status::kAliasing);
}

// Runs `call(backend, memory)` for every backend that has the op (call returns false when it
// does not), each on a fresh copy of the layout's memory, and checks the Status contract.
template <typename Call>
void RunBackends(const char* op, const Layout& layout, bool null_pointer, bool expect_ok,
                 Call&& call) {
  bool have_portable = false;
  Status portable_status = Status::kOk;
  std::vector<int32_t> portable_memory;
  for (const Backend& backend : kBackends) {
    std::vector<int32_t> memory = layout.memory;
    Status status = Status::kOk;
    if (!call(backend, memory, &status)) continue;
    if (!IsStatus(status) || (null_pointer && status != Status::kNullPointer) ||
        (!null_pointer && (status == Status::kOk) != expect_ok)) {
      std::fprintf(stderr, "%s %s: status %s (%d), expected %s\n", backend.name, op,
                   integr8::StatusName(status), static_cast<int>(status),
                   null_pointer ? "kNullPointer" : expect_ok ? "kOk" : "an error");
      INTEGR8_FUZZ_CHECK(false);
    }
    if (status != Status::kOk) INTEGR8_FUZZ_CHECK(memory == layout.memory);
    if (!have_portable) {
      have_portable = true;
      portable_status = status;
      portable_memory = memory;
    } else {
      if (status != portable_status) {
        std::fprintf(stderr, "%s %s: status %s, portable %s\n", backend.name, op,
                     integr8::StatusName(status), integr8::StatusName(portable_status));
        INTEGR8_FUZZ_CHECK(status == portable_status);
      }
      INTEGR8_FUZZ_CHECK(memory == portable_memory);
    }
  }
}

void FuzzLinear(FuzzInput& in) {
  integr8::LinearParams params;
  params.batches = Field(in);
  params.input_features = Field(in);
  params.output_features = Field(in);
  const int64_t b = params.batches, i = params.input_features, o = params.output_features;
  const bool shape_ok = CountOk({b, i}) && CountOk({o, i}) && CountOk({b, o});
  RequantizeData requantize;
  MakeRequantize(in, o, &requantize);
  params.requantize = requantize.params;
  const bool params_ok = shape_ok && RequantizeOk(requantize);
  const bool small = shape_ok && Count({b, i}) <= kMaxElements &&
                     Count({o, i}) <= kMaxElements && Count({b, o, i}) <= kMaxWork;
  if (!small || !RequantizePointersOk(requantize)) {
    INTEGR8_FUZZ_CHECK((integr8::ValidateLinearParams(params) == Status::kOk) == params_ok);
    return;
  }
  std::vector<int32_t> bias(U(o));
  for (int32_t& value : bias) value = in.Bool() ? in.Edgy() : in.Small(-100, 100);
  const bool null_bias = in.Byte() % 16 == 4;
  // Weights live apart: validation only forbids output/input overlap (weights and biases are
  // constants, in flash on a device), so an output over the weights is outside the contract.
  std::vector<int8_t> weights(U(o * i));
  for (int8_t& value : weights) value = static_cast<int8_t>(in.Small(-127, 127));
  const bool null_weights = in.Byte() % 16 == 5;
  Layout layout = MakeLayout(in, U(b * i), 0, U(b * o));
  const bool aliasing = layout.overlaps_input;
  const bool expect_ok = params_ok && !aliasing && BiasOk(bias, i);
  RunBackends("Linear", layout,
              layout.null_input || layout.null_output || null_bias || null_weights, expect_ok,
              [&](const Backend& backend, std::vector<int32_t>& memory, Status* status) {
                if (backend.linear == nullptr) return false;
                *status = backend.linear(params, At<const int8_t>(memory, layout.input,
                                                                   layout.null_input),
                                         null_weights ? nullptr : weights.data(),
                                         null_bias ? nullptr : bias.data(),
                                         At<int8_t>(memory, layout.output, layout.null_output));
                return true;
              });
}

struct Window {
  int32_t input, filter, stride, dilation, padding;
};

void FuzzConv(FuzzInput& in, bool depthwise) {
  integr8::Conv2dParams conv;
  integr8::DepthwiseConv2dParams dw;
  const int32_t batches = Field(in);
  Window y{Field(in), Field(in), Field(in), in.Bool() ? 1 : Field(in), Field(in)};
  Window x{Field(in), Field(in), Field(in), in.Bool() ? 1 : Field(in), Field(in)};
  const int32_t in_channels = Field(in);
  const int32_t second = Field(in);  // output channels or depth multiplier
  const int32_t groups = depthwise ? 1 : (in.Bool() ? 1 : Field(in));
  const int32_t zero_point = in.Bool() ? Field(in) : in.Small(-128, 127);
  const int64_t out_channels =
      depthwise ? (in_channels >= 1 && second >= 1 ? int64_t{in_channels} * second : 0)
                : second;
  auto window_ok = [](const Window& w) {
    return w.input >= 1 && w.filter >= 1 && w.stride >= 1 && w.dilation >= 1 &&
           w.padding >= 0 && int64_t{w.input} + 2 * int64_t{w.padding} <= kInt32Max;
  };
  auto extent = [&](const Window& w) {
    return window_ok(w) ? reference::Extent(w.input, w.filter, w.stride, w.dilation, w.padding,
                                            false)
                        : 0;
  };
  const bool groups_ok = groups >= 1 && in_channels % groups == 0 && second % groups == 0;
  const int64_t group_in = groups_ok ? in_channels / groups : 0;
  // K, saturated above INT32_MAX like every count here.
  const int64_t products = Count({y.filter, x.filter, depthwise ? 1 : group_in});
  bool shape_ok = window_ok(y) && window_ok(x) && CountOk({batches, y.input, x.input, in_channels}) &&
                  CountOk({out_channels, y.filter, x.filter}) && (depthwise || groups_ok) &&
                  CountOk({out_channels, y.filter, x.filter, depthwise ? 1 : group_in}) &&
                  CountOk({batches, extent(y), extent(x), out_channels});
  RequantizeData requantize;
  MakeRequantize(in, out_channels, &requantize);
  const bool params_ok = shape_ok && IsInt8(zero_point) && RequantizeOk(requantize);
  if (depthwise) {
    dw = {batches, y.input, x.input, in_channels, second, y.filter, x.filter, y.stride,
          x.stride, y.dilation, x.dilation, y.padding, x.padding, zero_point,
          requantize.params};
  } else {
    conv = {batches, y.input, x.input, in_channels, second, y.filter, x.filter, y.stride,
            x.stride, y.dilation, x.dilation, y.padding, x.padding, groups, zero_point,
            requantize.params};
  }
  const int64_t input_count = Count({batches, y.input, x.input, in_channels});
  const int64_t filter_count = Count({out_channels, products});
  const int64_t output_count = Count({batches, extent(y), extent(x), out_channels});
  const bool small = shape_ok && input_count <= kMaxElements && filter_count <= kMaxElements &&
                     output_count <= kMaxElements &&
                     Int128{output_count} * products <= kMaxWork;
  if (!small || !RequantizePointersOk(requantize)) {
    const Status status = depthwise ? integr8::ValidateDepthwiseConv2dParams(dw)
                                    : integr8::ValidateConv2dParams(conv);
    INTEGR8_FUZZ_CHECK((status == Status::kOk) == params_ok);
    return;
  }
  std::vector<int32_t> bias(U(out_channels));
  for (int32_t& value : bias) value = in.Bool() ? in.Edgy() : in.Small(-100, 100);
  const bool null_bias = in.Byte() % 16 == 4;
  const bool null_filter = in.Byte() % 16 == 5;
  std::vector<int8_t> filter(U(filter_count));
  for (int8_t& value : filter) value = static_cast<int8_t>(in.Small(-127, 127));
  Layout layout = MakeLayout(in, U(input_count), 0, U(output_count));
  const bool expect_ok = params_ok && !layout.overlaps_input && BiasOk(bias, products);
  const bool null_pointer = layout.null_input || layout.null_output || null_bias || null_filter;
  RunBackends(depthwise ? "DepthwiseConv2d" : "Conv2d", layout, null_pointer, expect_ok,
              [&](const Backend& backend, std::vector<int32_t>& memory, Status* status) {
                const int8_t* input = At<const int8_t>(memory, layout.input, layout.null_input);
                int8_t* output = At<int8_t>(memory, layout.output, layout.null_output);
                const int8_t* filter_data = null_filter ? nullptr : filter.data();
                const int32_t* bias_data = null_bias ? nullptr : bias.data();
                if (depthwise) {
                  if (backend.depthwise == nullptr) return false;
                  *status = backend.depthwise(dw, input, filter_data, bias_data, output);
                } else {
                  if (backend.conv2d == nullptr) return false;
                  *status = backend.conv2d(conv, input, filter_data, bias_data, output);
                }
                return true;
              });
}

void FuzzPool(FuzzInput& in, bool is_max) {
  integr8::Pool2dParams params;
  params.batches = Field(in);
  params.input_height = Field(in);
  params.input_width = Field(in);
  params.channels = Field(in);
  params.filter_height = Field(in);
  params.filter_width = Field(in);
  params.stride_height = Field(in);
  params.stride_width = Field(in);
  params.padding_height = in.Bool() ? 0 : Field(in);
  params.padding_width = in.Bool() ? 0 : Field(in);
  params.ceil_mode = in.Bool();
  params.count_include_pad = in.Bool();
  params.input_zero_point = in.Bool() ? Field(in) : in.Small(-128, 127);
  params.activation_min = in.Bool() ? Field(in) : -128;
  params.activation_max = in.Bool() ? Field(in) : 127;
  const int64_t h = params.input_height, w = params.input_width;
  const int64_t kh = params.filter_height, kw = params.filter_width;
  const int64_t ph = params.padding_height, pw = params.padding_width;
  const int64_t sh = params.stride_height, sw = params.stride_width;
  const bool windows_ok = kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1 && ph >= 0 && pw >= 0 &&
                          ph <= kh / 2 && pw <= kw / 2 && h + 2 * ph <= kInt32Max &&
                          w + 2 * pw <= kInt32Max;
  const int64_t out_h = windows_ok ? reference::Extent(h, kh, sh, 1, ph, params.ceil_mode) : 0;
  const int64_t out_w = windows_ok ? reference::Extent(w, kw, sw, 1, pw, params.ceil_mode) : 0;
  const int64_t taps_h = kh < h + 2 * ph ? kh : h + 2 * ph;
  const int64_t taps_w = kw < w + 2 * pw ? kw : w + 2 * pw;
  const bool shape_ok = CountOk({params.batches, h, w, params.channels}) && windows_ok &&
                        CountOk({params.batches, out_h, out_w, params.channels});
  const bool params_ok = shape_ok && Int128{taps_h} * taps_w < (1 << 24) &&
                         IsInt8(params.input_zero_point) &&
                         ActivationOk(params.activation_min, params.activation_max);
  const int64_t input_count = Count({params.batches, h, w, params.channels});
  const int64_t output_count = Count({params.batches, out_h, out_w, params.channels});
  if (!shape_ok || input_count > kMaxElements || output_count > kMaxElements ||
      Int128{output_count} * kh * kw > kMaxWork) {
    INTEGR8_FUZZ_CHECK((integr8::ValidatePool2dParams(params) == Status::kOk) == params_ok);
    return;
  }
  Layout layout = MakeLayout(in, U(input_count), 0, U(output_count));
  RunBackends(is_max ? "MaxPool2d" : "AvgPool2d", layout, layout.null_input || layout.null_output,
              params_ok && !layout.overlaps_input,
              [&](const Backend& backend, std::vector<int32_t>& memory, Status* status) {
                const integr8_fuzz::PoolOp op = is_max ? backend.max_pool : backend.avg_pool;
                if (op == nullptr) return false;
                *status = op(params, At<const int8_t>(memory, layout.input, layout.null_input),
                             At<int8_t>(memory, layout.output, layout.null_output));
                return true;
              });
}

bool RescaleOk(int32_t multiplier, int32_t shift, bool is_input) {
  if (multiplier < (1 << 30) || shift < 1 || shift > 62) return false;
  return !is_input || Int128{multiplier} <= (Int128{1} << (shift - 1));
}

void FuzzAdd(FuzzInput& in) {
  integr8::AddParams params;
  auto multiplier = [&] { return in.Bool() ? Field(in) : in.InRange(1 << 30, INT32_MAX); };
  auto shift = [&] { return in.Bool() ? Field(in) : in.Small(20, 62); };
  auto zero_point = [&] { return in.Bool() ? Field(in) : in.Small(-128, 127); };
  params.size = in.Bool() ? Field(in) : in.Small(1, 64);
  params.input1_zero_point = zero_point();
  params.input1_multiplier = multiplier();
  params.input1_shift = shift();
  params.input2_zero_point = zero_point();
  params.input2_multiplier = multiplier();
  params.input2_shift = shift();
  params.output_multiplier = multiplier();
  params.output_shift = shift();
  params.output_zero_point = zero_point();
  params.activation_min = in.Bool() ? Field(in) : -128;
  params.activation_max = in.Bool() ? Field(in) : 127;
  const bool params_ok =
      params.size >= 1 && RescaleOk(params.input1_multiplier, params.input1_shift, true) &&
      RescaleOk(params.input2_multiplier, params.input2_shift, true) &&
      RescaleOk(params.output_multiplier, params.output_shift, false) &&
      IsInt8(params.input1_zero_point) && IsInt8(params.input2_zero_point) &&
      IsInt8(params.output_zero_point) &&
      ActivationOk(params.activation_min, params.activation_max);
  if (params.size < 1 || params.size > kMaxElements) {
    INTEGR8_FUZZ_CHECK((integr8::ValidateAddParams(params) == Status::kOk) == params_ok);
    return;
  }
  const size_t size = U(params.size);
  Layout layout = MakeLayout(in, size, size, size);
  // Exactly in place over either input is allowed; any other overlap is kAliasing.
  const bool aliasing = (layout.overlaps_input && !layout.exact_input) ||
                        (layout.overlaps_input2 && !layout.exact_input2);
  RunBackends("Add", layout, layout.null_input || layout.null_input2 || layout.null_output,
              params_ok && !aliasing,
              [&](const Backend& backend, std::vector<int32_t>& memory, Status* status) {
                if (backend.add == nullptr) return false;
                *status = backend.add(params,
                                      At<const int8_t>(memory, layout.input, layout.null_input),
                                      At<const int8_t>(memory, layout.input2, layout.null_input2),
                                      At<int8_t>(memory, layout.output, layout.null_output));
                return true;
              });
}

void FuzzRelu(FuzzInput& in) {
  integr8::ReluParams params;
  params.size = in.Bool() ? Field(in) : in.Small(1, 64);
  params.activation_min = Field(in);
  params.activation_max = in.Bool() ? Field(in) : 127;
  const bool params_ok =
      params.size >= 1 && ActivationOk(params.activation_min, params.activation_max);
  if (params.size < 1 || params.size > kMaxElements) {
    INTEGR8_FUZZ_CHECK((integr8::ValidateReluParams(params) == Status::kOk) == params_ok);
    return;
  }
  const size_t size = U(params.size);
  Layout layout = MakeLayout(in, size, 0, size);
  const bool aliasing = layout.overlaps_input && !layout.exact_input;
  RunBackends("Relu", layout, layout.null_input || layout.null_output, params_ok && !aliasing,
              [&](const Backend& backend, std::vector<int32_t>& memory, Status* status) {
                if (backend.relu == nullptr) return false;
                *status = backend.relu(params,
                                       At<const int8_t>(memory, layout.input, layout.null_input),
                                       At<int8_t>(memory, layout.output, layout.null_output));
                return true;
              });
}

void FuzzRequantize(FuzzInput& in) {
  integr8::RequantizeTensorParams params;
  params.outer_size = Field(in);
  params.channels = Field(in);
  const bool shape_ok = CountOk({params.outer_size, params.channels});
  RequantizeData requantize;
  MakeRequantize(in, params.channels, &requantize);
  params.requantize = requantize.params;
  const bool params_ok = shape_ok && RequantizeOk(requantize);
  const int64_t count = Count({params.outer_size, params.channels});
  if (!shape_ok || count > kMaxElements || !RequantizePointersOk(requantize)) {
    INTEGR8_FUZZ_CHECK((integr8::ValidateRequantizeTensorParams(params) == Status::kOk) ==
                       params_ok);
    return;
  }
  // The int32 input is placed 4-byte aligned (Layout offsets are multiples of 16 apart from
  // the deliberately shifted outputs, which are int8).
  Layout layout = MakeLayout(in, 4 * U(count), 0, U(count));
  RunBackends("RequantizeTensor", layout, layout.null_input || layout.null_output,
              params_ok && !layout.overlaps_input,
              [&](const Backend& backend, std::vector<int32_t>& memory, Status* status) {
                if (backend.requantize == nullptr) return false;
                *status = backend.requantize(
                    params, At<const int32_t>(memory, layout.input, layout.null_input),
                    At<int8_t>(memory, layout.output, layout.null_output));
                return true;
              });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  switch (in.Byte() % 9) {
    case 0: FuzzLinear(in); break;
    case 1: FuzzConv(in, false); break;
    case 2: FuzzConv(in, true); break;
    case 3: FuzzPool(in, true); break;
    case 4: FuzzPool(in, false); break;
    case 5: FuzzAdd(in); break;
    case 6: FuzzRelu(in); break;
    case 7: FuzzRequantize(in); break;
    default: {
      // The shape helper every kernel relies on, on arbitrary arguments.
      const int32_t a = in.Edgy(), b = in.Edgy(), c = in.Edgy(), d = in.Edgy();
      const int64_t expected = Count({a, b, c, d});
      INTEGR8_FUZZ_CHECK(integr8::ElementCount(a, b, c, d) ==
                         (expected <= kInt32Max ? expected : 0));
      break;
    }
  }
  return 0;
}
