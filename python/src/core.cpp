// integr8._core: the integr8 kernels with runtime shapes, and the bundled example models,
// for NumPy. Keyword arguments mirror integr8.reference so that both can be called alike:
//
//   linear(x, weights, bias, *, multiplier, shift, output_zero_point, activation_min=-128,
//          activation_max=127, out=None)
//
// Every function checks its arguments strictly (model_binding.h: exact dtype, ndim, shape,
// C-contiguous, aligned; a writable `out` of the exact shape), refuses sizes the kernels'
// int32 indexing cannot hold before allocating, releases the GIL while the kernel runs and
// turns a Status other than kOk into ValueError. Nothing is cast or copied.
#include "model_binding.h"

#include <cstdint>
#include <string>
#include <vector>

#include <integr8/integr8.h>

#include "bars_model.h"
#include "mnist_convnet.h"
#include "mnist_mlp.h"

#ifndef INTEGR8_HEADERS_SHA256
#define INTEGR8_HEADERS_SHA256 "unknown"
#endif

namespace integr8_python {
namespace {

// The spec never uses weight -128; the kernels' accumulator bound (|w| <= 127) relies on it,
// so a -128 is refused here rather than risking an int32 overflow in the kernel.
void CheckWeights(const Call& call, const py::array& weights) {
  const int8_t* data = DataOf<int8_t>(weights);
  const py::ssize_t size = weights.size();
  for (py::ssize_t index = 0; index < size; ++index) {
    if (data[index] < integr8::kWeightMin) {
      call.ValueError("weights holds -128 (flat index " + std::to_string(index) +
                      "), outside [-127, 127]: the integer spec never uses -128");
    }
  }
}

// A requantization parameter: a Python int (per tensor) or a 1-D int32 array of 1 or
// `channels` entries. 0-d arrays are refused, as everywhere else.
std::vector<int32_t> ChannelValues(const Call& call, const char* name, py::handle value,
                                   int32_t channels) {
  if (!py::isinstance<py::array>(value)) return {ToInt32(call, name, value)};
  const py::array array = CheckArray<int32_t>(call, name, value);
  if (array.ndim() != 1 || (array.shape(0) != 1 && array.shape(0) != channels)) {
    call.ValueError(std::string(name) + " must be an int or a 1-D int32 array of 1 or " +
                    std::to_string(channels) + " (channels) entries, got shape " +
                    ShapeString(array));
  }
  const int32_t* data = DataOf<int32_t>(array);
  return std::vector<int32_t>(data, data + array.shape(0));
}

// Multipliers and shifts (one entry broadcast against per-channel entries of the other, as
// integr8.reference does), output zero point and activation clamp. Params() points into this
// object, which must outlive the kernel call.
class Requantization {
 public:
  Requantization(const Call& call, py::handle multiplier, py::handle shift,
                 py::handle output_zero_point, py::handle activation_min,
                 py::handle activation_max, int32_t channels)
      : multipliers_(ChannelValues(call, "multiplier", multiplier, channels)),
        shifts_(ChannelValues(call, "shift", shift, channels)),
        output_zero_point_(ToInt32(call, "output_zero_point", output_zero_point)),
        activation_min_(ToInt32(call, "activation_min", activation_min)),
        activation_max_(ToInt32(call, "activation_max", activation_max)) {
    const auto entries = static_cast<size_t>(channels);
    per_channel_ = entries > 1 && (multipliers_.size() == entries || shifts_.size() == entries);
    if (per_channel_) {
      if (multipliers_.size() == 1) multipliers_.assign(entries, multipliers_[0]);
      if (shifts_.size() == 1) shifts_.assign(entries, shifts_[0]);
    }
  }
  Requantization(const Requantization&) = delete;
  Requantization& operator=(const Requantization&) = delete;

  integr8::RequantizeParams Params() const {
    return {multipliers_.data(), shifts_.data(), per_channel_, output_zero_point_,
            activation_min_,     activation_max_};
  }

 private:
  std::vector<int32_t> multipliers_;
  std::vector<int32_t> shifts_;
  bool per_channel_ = false;
  int32_t output_zero_point_;
  int32_t activation_min_;
  int32_t activation_max_;
};

// The shared end of linear, conv2d and depthwise_conv2d: the output may overlap no operand,
// and the kernel runs without the GIL.
template <typename Kernel>
py::array RunWeightedKernel(const Call& call, const py::array& x, const py::array& weights,
                            const py::array& bias, py::array out, Kernel kernel) {
  CheckNoOverlap(call, out, "x", x);
  CheckNoOverlap(call, out, "weights", weights);
  CheckNoOverlap(call, out, "bias", bias);
  const int8_t* x_data = DataOf<int8_t>(x);
  const int8_t* weights_data = DataOf<int8_t>(weights);
  const int32_t* bias_data = DataOf<int32_t>(bias);
  int8_t* out_data = static_cast<int8_t*>(out.mutable_data());
  // The GIL is released while the kernel runs (the buffers were checked above).
  const integr8::Status status = [&] {
    py::gil_scoped_release release;
    return kernel(x_data, weights_data, bias_data, out_data);
  }();
  call.Check(status);
  return out;
}

py::array Linear(py::object x_arg, py::object weights_arg, py::object bias_arg,
                 py::object multiplier, py::object shift, py::object output_zero_point,
                 py::object activation_min, py::object activation_max, py::object out_arg) {
  const Call call("integr8.linear");
  const py::array x = CheckTensor<int8_t>(call, "x", x_arg, 2, "[N, in]");
  const py::array weights = CheckTensor<int8_t>(call, "weights", weights_arg, 2, "[out, in]");
  const py::array bias = CheckTensor<int32_t>(call, "bias", bias_arg, 1, "[out]");
  if (weights.shape(1) != x.shape(1)) {
    call.ValueError("weights shape " + ShapeString(weights) + " does not match x shape " +
                    ShapeString(x) + " (in features)");
  }
  if (bias.shape(0) != weights.shape(0)) {
    call.ValueError("bias shape " + ShapeString(bias) + " does not match weights shape " +
                    ShapeString(weights) + " (out features)");
  }
  CheckWeights(call, weights);

  integr8::LinearParams params;
  params.batches = Extent(x, 0);
  params.input_features = Extent(x, 1);
  params.output_features = Extent(weights, 0);
  const Requantization requantization(call, multiplier, shift, output_zero_point,
                                      activation_min, activation_max, params.output_features);
  params.requantize = requantization.Params();
  call.Check(integr8::ValidateLinearParams(params));

  py::array out = Output(call, out_arg, {x.shape(0), weights.shape(0)});
  return RunWeightedKernel(call, x, weights, bias, out,
                           [&params](const int8_t* input, const int8_t* filter,
                                     const int32_t* bias_data, int8_t* output) {
                             return integr8::Linear(params, input, filter, bias_data, output);
                           });
}

py::array Conv2d(py::object x_arg, py::object weights_arg, py::object bias_arg,
                 py::object stride, py::object padding, py::object dilation, py::object groups,
                 py::object input_zero_point, py::object multiplier, py::object shift,
                 py::object output_zero_point, py::object activation_min,
                 py::object activation_max, py::object out_arg) {
  const Call call("integr8.conv2d");
  const py::array x = CheckTensor<int8_t>(call, "x", x_arg, 4, "NHWC");
  const py::array weights = CheckTensor<int8_t>(call, "weights", weights_arg, 4, "OHWI");
  const py::array bias = CheckTensor<int32_t>(call, "bias", bias_arg, 1, "[Cout]");
  if (bias.shape(0) != weights.shape(0)) {
    call.ValueError("bias shape " + ShapeString(bias) + " does not match weights shape " +
                    ShapeString(weights) + " (output channels)");
  }
  const auto [stride_height, stride_width] = ToPair(call, "stride", stride);
  const auto [padding_height, padding_width] = ToPair(call, "padding", padding);
  const auto [dilation_height, dilation_width] = ToPair(call, "dilation", dilation);

  integr8::Conv2dParams params;
  params.batches = Extent(x, 0);
  params.input_height = Extent(x, 1);
  params.input_width = Extent(x, 2);
  params.input_channels = Extent(x, 3);
  params.output_channels = Extent(weights, 0);
  params.filter_height = Extent(weights, 1);
  params.filter_width = Extent(weights, 2);
  params.stride_height = stride_height;
  params.stride_width = stride_width;
  params.dilation_height = dilation_height;
  params.dilation_width = dilation_width;
  params.padding_height = padding_height;
  params.padding_width = padding_width;
  params.groups = ToInt32(call, "groups", groups);
  params.input_zero_point = ToInt32(call, "input_zero_point", input_zero_point);
  const Requantization requantization(call, multiplier, shift, output_zero_point,
                                      activation_min, activation_max, params.output_channels);
  params.requantize = requantization.Params();
  call.Check(integr8::ValidateConv2dParams(params));
  // The kernel reads input_channels / groups weights per tap: the array must hold that many.
  const int32_t group_channels = params.input_channels / params.groups;
  if (weights.shape(3) != group_channels) {
    call.ValueError("weights shape " + ShapeString(weights) + " needs I = Cin / groups = " +
                    std::to_string(group_channels));
  }
  CheckWeights(call, weights);

  py::array out =
      Output(call, out_arg,
             {x.shape(0), integr8::OutputHeight(params), integr8::OutputWidth(params),
              weights.shape(0)});
  return RunWeightedKernel(call, x, weights, bias, out,
                           [&params](const int8_t* input, const int8_t* filter,
                                     const int32_t* bias_data, int8_t* output) {
                             return integr8::Conv2d(params, input, filter, bias_data, output);
                           });
}

py::array DepthwiseConv2d(py::object x_arg, py::object weights_arg, py::object bias_arg,
                          py::object depth_multiplier, py::object stride, py::object padding,
                          py::object dilation, py::object input_zero_point,
                          py::object multiplier, py::object shift,
                          py::object output_zero_point, py::object activation_min,
                          py::object activation_max, py::object out_arg) {
  const Call call("integr8.depthwise_conv2d");
  const py::array x = CheckTensor<int8_t>(call, "x", x_arg, 4, "NHWC");
  const py::array weights = CheckTensor<int8_t>(call, "weights", weights_arg, 4, "1HWC");
  const py::array bias = CheckTensor<int32_t>(call, "bias", bias_arg, 1, "[C]");
  const int32_t multiplier_per_channel = ToInt32(call, "depth_multiplier", depth_multiplier);
  if (multiplier_per_channel < 1) {
    call.ValueError("depth_multiplier = " + std::to_string(multiplier_per_channel) + " is < 1");
  }
  // Output channel c reads weights[0, :, :, c] and input channel c / depth_multiplier.
  const int64_t output_channels = int64_t{Extent(x, 3)} * multiplier_per_channel;
  if (weights.shape(0) != 1 || weights.shape(3) != output_channels) {
    call.ValueError("weights shape " + ShapeString(weights) + " must be [1, kh, kw, " +
                    std::to_string(Extent(x, 3)) + " * " +
                    std::to_string(multiplier_per_channel) + "]");
  }
  if (bias.shape(0) != weights.shape(3)) {
    call.ValueError("bias shape " + ShapeString(bias) + " does not match " +
                    std::to_string(output_channels) + " output channels");
  }
  const auto [stride_height, stride_width] = ToPair(call, "stride", stride);
  const auto [padding_height, padding_width] = ToPair(call, "padding", padding);
  const auto [dilation_height, dilation_width] = ToPair(call, "dilation", dilation);

  integr8::DepthwiseConv2dParams params;
  params.batches = Extent(x, 0);
  params.input_height = Extent(x, 1);
  params.input_width = Extent(x, 2);
  params.input_channels = Extent(x, 3);
  params.depth_multiplier = multiplier_per_channel;
  params.filter_height = Extent(weights, 1);
  params.filter_width = Extent(weights, 2);
  params.stride_height = stride_height;
  params.stride_width = stride_width;
  params.dilation_height = dilation_height;
  params.dilation_width = dilation_width;
  params.padding_height = padding_height;
  params.padding_width = padding_width;
  params.input_zero_point = ToInt32(call, "input_zero_point", input_zero_point);
  const Requantization requantization(call, multiplier, shift, output_zero_point,
                                      activation_min, activation_max, Extent(weights, 3));
  params.requantize = requantization.Params();
  call.Check(integr8::ValidateDepthwiseConv2dParams(params));
  CheckWeights(call, weights);

  py::array out =
      Output(call, out_arg,
             {x.shape(0), integr8::OutputHeight(params), integr8::OutputWidth(params),
              weights.shape(3)});
  return RunWeightedKernel(call, x, weights, bias, out,
                           [&params](const int8_t* input, const int8_t* filter,
                                     const int32_t* bias_data, int8_t* output) {
                             return integr8::DepthwiseConv2d(params, input, filter, bias_data, output);
                           });
}

enum class PoolKind { kMax, kAverage };

py::array Pool2d(PoolKind kind, py::object x_arg, py::object kernel, py::object stride,
                 py::object padding, py::object ceil_mode, py::object count_include_pad,
                 py::object input_zero_point, py::object activation_min,
                 py::object activation_max, py::object out_arg) {
  const Call call(kind == PoolKind::kMax ? "integr8.max_pool2d" : "integr8.avg_pool2d");
  const py::array x = CheckTensor<int8_t>(call, "x", x_arg, 4, "NHWC");
  const auto [filter_height, filter_width] = ToPair(call, "kernel", kernel);
  const auto [stride_height, stride_width] = ToPair(call, "stride", stride);
  const auto [padding_height, padding_width] = ToPair(call, "padding", padding);

  integr8::Pool2dParams params;
  params.batches = Extent(x, 0);
  params.input_height = Extent(x, 1);
  params.input_width = Extent(x, 2);
  params.channels = Extent(x, 3);
  params.filter_height = filter_height;
  params.filter_width = filter_width;
  params.stride_height = stride_height;
  params.stride_width = stride_width;
  params.padding_height = padding_height;
  params.padding_width = padding_width;
  params.ceil_mode = ToBool(call, "ceil_mode", ceil_mode);
  if (kind == PoolKind::kAverage) {
    params.count_include_pad = ToBool(call, "count_include_pad", count_include_pad);
    params.input_zero_point = ToInt32(call, "input_zero_point", input_zero_point);
  }
  params.activation_min = ToInt32(call, "activation_min", activation_min);
  params.activation_max = ToInt32(call, "activation_max", activation_max);
  call.Check(integr8::ValidatePool2dParams(params));

  py::array out =
      Output(call, out_arg,
             {x.shape(0), integr8::OutputHeight(params), integr8::OutputWidth(params),
              x.shape(3)});
  CheckNoOverlap(call, out, "x", x);
  const int8_t* x_data = DataOf<int8_t>(x);
  int8_t* out_data = static_cast<int8_t*>(out.mutable_data());
  // The GIL is released while the kernel runs (the buffers were checked above).
  const integr8::Status status = [&] {
    py::gil_scoped_release release;
    return kind == PoolKind::kMax ? integr8::MaxPool2d(params, x_data, out_data)
                                  : integr8::AvgPool2d(params, x_data, out_data);
  }();
  call.Check(status);
  return out;
}

py::array MaxPool2d(py::object x, py::object kernel, py::object stride, py::object padding,
                    py::object ceil_mode, py::object activation_min, py::object activation_max,
                    py::object out) {
  return Pool2d(PoolKind::kMax, std::move(x), std::move(kernel), std::move(stride),
                std::move(padding), std::move(ceil_mode), py::bool_(true), py::int_(0),
                std::move(activation_min), std::move(activation_max), std::move(out));
}

py::array AvgPool2d(py::object x, py::object kernel, py::object stride, py::object padding,
                    py::object ceil_mode, py::object count_include_pad,
                    py::object input_zero_point, py::object activation_min,
                    py::object activation_max, py::object out) {
  return Pool2d(PoolKind::kAverage, std::move(x), std::move(kernel), std::move(stride),
                std::move(padding), std::move(ceil_mode), std::move(count_include_pad),
                std::move(input_zero_point), std::move(activation_min),
                std::move(activation_max), std::move(out));
}

py::array Add(py::object a_arg, py::object b_arg, py::object a_zero_point,
              py::object a_multiplier, py::object a_shift, py::object b_zero_point,
              py::object b_multiplier, py::object b_shift, py::object output_multiplier,
              py::object output_shift, py::object output_zero_point, py::object activation_min,
              py::object activation_max, py::object out_arg) {
  const Call call("integr8.add");
  const py::array a = CheckTensor<int8_t>(call, "a", a_arg, -1, "(any shape)");
  const py::array b = CheckTensor<int8_t>(call, "b", b_arg, -1, "(any shape)");
  if (ShapeOf(a) != ShapeOf(b)) {
    call.ValueError("b shape " + ShapeString(b) + " differs from a shape " + ShapeString(a));
  }
  integr8::AddParams params;
  params.size = ElementCount32(a);
  params.input1_zero_point = ToInt32(call, "a_zero_point", a_zero_point);
  params.input1_multiplier = ToInt32(call, "a_multiplier", a_multiplier);
  params.input1_shift = ToInt32(call, "a_shift", a_shift);
  params.input2_zero_point = ToInt32(call, "b_zero_point", b_zero_point);
  params.input2_multiplier = ToInt32(call, "b_multiplier", b_multiplier);
  params.input2_shift = ToInt32(call, "b_shift", b_shift);
  params.output_multiplier = ToInt32(call, "output_multiplier", output_multiplier);
  params.output_shift = ToInt32(call, "output_shift", output_shift);
  params.output_zero_point = ToInt32(call, "output_zero_point", output_zero_point);
  params.activation_min = ToInt32(call, "activation_min", activation_min);
  params.activation_max = ToInt32(call, "activation_max", activation_max);
  call.Check(integr8::ValidateAddParams(params));

  py::array out = Output(call, out_arg, ShapeOf(a));
  CheckNoOverlap(call, out, "a", a, /*exact_ok=*/true);
  CheckNoOverlap(call, out, "b", b, /*exact_ok=*/true);
  const int8_t* a_data = DataOf<int8_t>(a);
  const int8_t* b_data = DataOf<int8_t>(b);
  int8_t* out_data = static_cast<int8_t*>(out.mutable_data());
  // The GIL is released while the kernel runs (the buffers were checked above).
  const integr8::Status status = [&] {
    py::gil_scoped_release release;
    return integr8::Add(params, a_data, b_data, out_data);
  }();
  call.Check(status);
  return out;
}

py::array Relu(py::object x_arg, py::object activation_min, py::object activation_max,
               py::object out_arg) {
  const Call call("integr8.relu");
  const py::array x = CheckTensor<int8_t>(call, "x", x_arg, -1, "(any shape)");
  integr8::ReluParams params;
  params.size = ElementCount32(x);
  params.activation_min = ToInt32(call, "activation_min", activation_min);
  params.activation_max = ToInt32(call, "activation_max", activation_max);
  call.Check(integr8::ValidateReluParams(params));

  py::array out = Output(call, out_arg, ShapeOf(x));
  CheckNoOverlap(call, out, "x", x, /*exact_ok=*/true);
  const int8_t* x_data = DataOf<int8_t>(x);
  int8_t* out_data = static_cast<int8_t*>(out.mutable_data());
  // The GIL is released while the kernel runs (the buffers were checked above).
  const integr8::Status status = [&] {
    py::gil_scoped_release release;
    return integr8::Relu(params, x_data, out_data);
  }();
  call.Check(status);
  return out;
}

py::array Requantize(py::object acc_arg, py::object multiplier, py::object shift,
                     py::object output_zero_point, py::object activation_min,
                     py::object activation_max, py::object out_arg) {
  const Call call("integr8.requantize");
  const py::array acc = CheckTensor<int32_t>(call, "acc", acc_arg, -1, "[..., channels]");
  integr8::RequantizeTensorParams params;
  params.channels = Extent(acc, acc.ndim() - 1);
  params.outer_size = ElementCount32(acc) / params.channels;
  const Requantization requantization(call, multiplier, shift, output_zero_point,
                                      activation_min, activation_max, params.channels);
  params.requantize = requantization.Params();
  call.Check(integr8::ValidateRequantizeTensorParams(params));

  py::array out = Output(call, out_arg, ShapeOf(acc));
  CheckNoOverlap(call, out, "acc", acc);
  const int32_t* acc_data = DataOf<int32_t>(acc);
  int8_t* out_data = static_cast<int8_t*>(out.mutable_data());
  // The GIL is released while the kernel runs (the buffers were checked above).
  const integr8::Status status = [&] {
    py::gil_scoped_release release;
    return integr8::RequantizeTensor(params, acc_data, out_data);
  }();
  call.Check(status);
  return out;
}

#define INTEGR8_PYTHON_STRINGIFY_(x) #x
#define INTEGR8_PYTHON_STRINGIFY(x) INTEGR8_PYTHON_STRINGIFY_(x)

}  // namespace
}  // namespace integr8_python

PYBIND11_MODULE(_core, module) {
  namespace py = pybind11;
  using namespace integr8_python;  // NOLINT(build/namespaces): the functions bound below
  module.doc() =
      "integr8 kernels with runtime shapes and bundled models, run on NumPy int8/int32 "
      "arrays. Arguments mirror integr8.reference; nothing is cast.";
  module.attr("__version__") = INTEGR8_PYTHON_STRINGIFY(INTEGR8_VERSION_MAJOR) "." INTEGR8_PYTHON_STRINGIFY(
      INTEGR8_VERSION_MINOR) "." INTEGR8_PYTHON_STRINGIFY(INTEGR8_VERSION_PATCH);
  module.attr("spec_version") = INTEGR8_SPEC_VERSION;
  // The integer spec's constants as the C++ states them, by their names in integr8.spec (a
  // test holds the two equal).
  py::dict spec_constants;
  spec_constants["VERSION"] = INTEGR8_SPEC_VERSION;
  spec_constants["INT8_MIN"] = integr8::kActivationMin;
  spec_constants["INT8_MAX"] = integr8::kActivationMax;
  spec_constants["WEIGHT_MIN"] = integr8::kWeightMin;
  spec_constants["WEIGHT_MAX"] = integr8::kWeightMax;
  spec_constants["MULTIPLIER_MIN"] = integr8::kMultiplierMin;
  spec_constants["MULTIPLIER_MAX"] = integr8::kMultiplierMax;
  spec_constants["SHIFT_MIN"] = integr8::kShiftMin;
  spec_constants["SHIFT_MAX"] = integr8::kShiftMax;
  spec_constants["ADD_LEFT_SHIFT"] = integr8::kAddLeftShift;
  spec_constants["POOL_MAX_WINDOW_TAPS"] = integr8::kPoolMaxWindowTaps;
  module.attr("spec_constants") = spec_constants;
  // SHA-256 over include/integr8 as built (see python/src/CMakeLists.txt), so that a source
  // tree can tell whether an installed module was built from its headers.
  module.attr("headers_sha256") = INTEGR8_HEADERS_SHA256;
  // The kernels the bundled models' graphs run (integr8/backend/select.h): "portable" in a
  // wheel built for any x86-64; integr8.build() compiles for the local CPU instead.
  module.attr("backend") = integr8::backend::allocation_free::kName;

  const auto out = py::arg("out") = py::none();
  const auto activation_min = py::arg("activation_min") = integr8::kActivationMin;
  const auto activation_max = py::arg("activation_max") = integr8::kActivationMax;

  module.def("linear", &Linear, py::arg("x"), py::arg("weights"), py::arg("bias"),
             py::kw_only(), py::arg("multiplier"), py::arg("shift"),
             py::arg("output_zero_point"), activation_min, activation_max, out,
             "Fully connected layer: int8 x [N, in], int8 weights [out, in], int32 bias [out] "
             "(zero point folded) -> int8 [N, out]. multiplier/shift: an int or a 1-D int32 "
             "array of 1 or out entries.");
  module.def("conv2d", &Conv2d, py::arg("x"), py::arg("weights"), py::arg("bias"),
             py::kw_only(), py::arg("stride") = py::make_tuple(1, 1),
             py::arg("padding") = py::make_tuple(0, 0),
             py::arg("dilation") = py::make_tuple(1, 1), py::arg("groups") = 1,
             py::arg("input_zero_point"), py::arg("multiplier"), py::arg("shift"),
             py::arg("output_zero_point"), activation_min, activation_max, out,
             "Grouped 2-D convolution: int8 x NHWC, int8 weights OHWI [Cout, kh, kw, Cin / "
             "groups], int32 bias [Cout] -> int8 NHWC.");
  module.def("depthwise_conv2d", &DepthwiseConv2d, py::arg("x"), py::arg("weights"),
             py::arg("bias"), py::kw_only(), py::arg("depth_multiplier") = 1,
             py::arg("stride") = py::make_tuple(1, 1), py::arg("padding") = py::make_tuple(0, 0),
             py::arg("dilation") = py::make_tuple(1, 1), py::arg("input_zero_point"),
             py::arg("multiplier"), py::arg("shift"), py::arg("output_zero_point"),
             activation_min, activation_max, out,
             "Depthwise 2-D convolution: int8 x NHWC, int8 weights 1HWC [1, kh, kw, C * "
             "depth_multiplier], int32 bias -> int8 NHWC.");
  module.def("max_pool2d", &MaxPool2d, py::arg("x"), py::kw_only(), py::arg("kernel"),
             py::arg("stride"), py::arg("padding") = py::make_tuple(0, 0),
             py::arg("ceil_mode") = false, activation_min, activation_max, out,
             "Max pool on raw int8 NHWC values; padded taps are ignored.");
  module.def("avg_pool2d", &AvgPool2d, py::arg("x"), py::kw_only(), py::arg("kernel"),
             py::arg("stride"), py::arg("padding") = py::make_tuple(0, 0),
             py::arg("ceil_mode") = false, py::arg("count_include_pad") = true,
             py::arg("input_zero_point") = 0, activation_min, activation_max, out,
             "Average pool on raw int8 NHWC values, rounding half away from zero.");
  module.def("add", &Add, py::arg("a"), py::arg("b"), py::kw_only(), py::arg("a_zero_point"),
             py::arg("a_multiplier"), py::arg("a_shift"), py::arg("b_zero_point"),
             py::arg("b_multiplier"), py::arg("b_shift"), py::arg("output_multiplier"),
             py::arg("output_shift"), py::arg("output_zero_point"), activation_min,
             activation_max, out,
             "Element-wise residual add of two int8 tensors of the same shape with their own "
             "scales; out may be exactly a or b.");
  module.def("relu", &Relu, py::arg("x"), py::kw_only(), py::arg("activation_min"),
             py::arg("activation_max"), out,
             "Standalone ReLU / ReLU6: clamp raw int8 values; out may be exactly x.");
  module.def("requantize", &Requantize, py::arg("acc"), py::kw_only(), py::arg("multiplier"),
             py::arg("shift"), py::arg("output_zero_point"), activation_min, activation_max,
             out,
             "Requantize int32 acc [..., channels] to int8 of the same shape; multiplier/shift "
             "per tensor or per channel (last axis).");

  INTEGR8_PYTHON_BIND_MODEL(module, "BarsModel", integr8_models::bars);
  // The reference MNIST models (python/integr8/bundled, tools/bundle_mnist_models.py).
  INTEGR8_PYTHON_BIND_MODEL(module, "MnistMlp", integr8_models::mnist_mlp);
  INTEGR8_PYTHON_BIND_MODEL(module, "MnistConvNet", integr8_models::mnist_convnet);
}
