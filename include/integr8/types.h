// Status codes, value ranges and the parameter aggregates every kernel takes.
//
// Parameters are plain aggregates of integers so that a generated model can declare them
// `constexpr` and the compile-time graph can static_assert their validity; the runtime
// kernels take the very same structs (docs/spec.md states the arithmetic they encode).
#ifndef INTEGR8_TYPES_H_
#define INTEGR8_TYPES_H_

#include <cstddef>
#include <cstdint>

namespace integr8 {

// Every kernel returns a Status. Anything but kOk means the output was not written.
enum class Status : int32_t {
  kOk = 0,
  kNullPointer,          // a required buffer or parameter array is null
  kBadShape,             // a dimension is < 1, or an element count exceeds INT32_MAX
  kBadStride,            // a stride is < 1
  kBadDilation,          // a dilation is < 1
  kBadPadding,           // padding is negative, too large for int32 indices, or (pooling) > filter/2
  kBadGroups,            // groups < 1 or not dividing the input or output channels
  kBadMultiplier,        // a requantization multiplier outside [2^30, 2^31 - 1]
  kBadShift,             // a requantization shift outside [1, 62]
  kBadZeroPoint,         // a zero point outside [-128, 127]
  kBadActivationRange,   // activation_min > activation_max, or a bound outside int8
  kAccumulatorOverflow,  // |bias| + K * 128 * 127 may reach 2^31
  kArenaTooSmall,        // the caller's arena is smaller than the graph needs
  kAliasing,             // the output overlaps an input where the op forbids it
};

// A short constant name for logs and error messages ("kBadStride", ...).
constexpr const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk: return "kOk";
    case Status::kNullPointer: return "kNullPointer";
    case Status::kBadShape: return "kBadShape";
    case Status::kBadStride: return "kBadStride";
    case Status::kBadDilation: return "kBadDilation";
    case Status::kBadPadding: return "kBadPadding";
    case Status::kBadGroups: return "kBadGroups";
    case Status::kBadMultiplier: return "kBadMultiplier";
    case Status::kBadShift: return "kBadShift";
    case Status::kBadZeroPoint: return "kBadZeroPoint";
    case Status::kBadActivationRange: return "kBadActivationRange";
    case Status::kAccumulatorOverflow: return "kAccumulatorOverflow";
    case Status::kArenaTooSmall: return "kArenaTooSmall";
    case Status::kAliasing: return "kAliasing";
  }
  return "kUnknown";
}

// Value ranges of the integer spec.
inline constexpr int32_t kActivationMin = -128;
inline constexpr int32_t kActivationMax = 127;
inline constexpr int32_t kWeightMin = -127;  // -128 is never used, so |w| <= 127
inline constexpr int32_t kWeightMax = 127;
inline constexpr int32_t kMultiplierMin = int32_t{1} << 30;
inline constexpr int32_t kMultiplierMax = INT32_MAX;
inline constexpr int32_t kShiftMin = 1;
inline constexpr int32_t kShiftMax = 62;
// Residual add rescales (q - z) by 2^kAddLeftShift before requantizing (20 bits of headroom).
inline constexpr int32_t kAddLeftShift = 20;

// Requantization of int32 accumulators to int8 outputs, with the fused activation clamp.
// Per channel: multipliers/shifts hold one entry per output channel. Per tensor: one entry.
struct RequantizeParams {
  const int32_t* multipliers = nullptr;  // m in [2^30, 2^31 - 1]
  const int32_t* shifts = nullptr;       // right shift n in [1, 62]
  bool per_channel = false;
  int32_t output_zero_point = 0;  // in [-128, 127]
  int32_t activation_min = kActivationMin;  // fused activation as a clamp, within int8
  int32_t activation_max = kActivationMax;
};

// Fully connected: output[b][o] = requant(bias[o] + sum_i input[b][i] * weights[o][i]).
// input [batches][input_features], weights [output_features][input_features] row-major,
// bias [output_features] (input zero point already folded in), output [batches][output_features].
struct LinearParams {
  int32_t batches = 1;
  int32_t input_features = 0;
  int32_t output_features = 0;
  RequantizeParams requantize;
};

// Convolution over NHWC activations with OHWI weights (I = input_channels / groups).
// Padding is symmetric as in PyTorch; padded taps read input_zero_point, the raw value of
// real zero, which keeps the folded bias exact at the borders.
struct Conv2dParams {
  int32_t batches = 1;
  int32_t input_height = 0;
  int32_t input_width = 0;
  int32_t input_channels = 0;
  int32_t output_channels = 0;
  int32_t filter_height = 0;
  int32_t filter_width = 0;
  int32_t stride_height = 1;
  int32_t stride_width = 1;
  int32_t dilation_height = 1;
  int32_t dilation_width = 1;
  int32_t padding_height = 0;
  int32_t padding_width = 0;
  int32_t groups = 1;
  int32_t input_zero_point = 0;
  RequantizeParams requantize;
};

// Depthwise convolution over NHWC with 1HWC weights, C = input_channels * depth_multiplier;
// output channel c reads input channel c / depth_multiplier (PyTorch groups == in_channels).
struct DepthwiseConv2dParams {
  int32_t batches = 1;
  int32_t input_height = 0;
  int32_t input_width = 0;
  int32_t input_channels = 0;
  int32_t depth_multiplier = 1;
  int32_t filter_height = 0;
  int32_t filter_width = 0;
  int32_t stride_height = 1;
  int32_t stride_width = 1;
  int32_t dilation_height = 1;
  int32_t dilation_width = 1;
  int32_t padding_height = 0;
  int32_t padding_width = 0;
  int32_t input_zero_point = 0;
  RequantizeParams requantize;
};

// Max and average pooling over NHWC; scale and zero point pass through unchanged.
// Output extents follow PyTorch (floor or ceil_mode). Average pooling divides by PyTorch's
// count: the window clipped to the padded input with count_include_pad, else the valid taps
// only; padded taps that count add input_zero_point. Padding may not exceed half the filter
// (PyTorch's rule), so no window lies wholly in padding. A global average pool is a window
// covering the whole input.
struct Pool2dParams {
  int32_t batches = 1;
  int32_t input_height = 0;
  int32_t input_width = 0;
  int32_t channels = 0;
  int32_t filter_height = 0;
  int32_t filter_width = 0;
  int32_t stride_height = 1;
  int32_t stride_width = 1;
  int32_t padding_height = 0;
  int32_t padding_width = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pool only
  int32_t input_zero_point = 0;   // average pool only: value of a counted padded tap
  int32_t activation_min = kActivationMin;
  int32_t activation_max = kActivationMax;
};

// Element-wise residual add of two int8 tensors with their own scales (docs/spec.md, Add).
struct AddParams {
  int32_t size = 0;  // elements in each tensor
  int32_t input1_zero_point = 0;
  int32_t input1_multiplier = 0;
  int32_t input1_shift = 0;
  int32_t input2_zero_point = 0;
  int32_t input2_multiplier = 0;
  int32_t input2_shift = 0;
  int32_t output_multiplier = 0;
  int32_t output_shift = 0;
  int32_t output_zero_point = 0;
  int32_t activation_min = kActivationMin;
  int32_t activation_max = kActivationMax;
};

// Standalone ReLU / ReLU6: a clamp on raw int8 values (scale and zero point unchanged).
// ReLU is [max(-128, z), 127]; ReLU6 also caps at min(127, z + round(6 / s)).
struct ReluParams {
  int32_t size = 0;
  int32_t activation_min = kActivationMin;
  int32_t activation_max = kActivationMax;
};

// Standalone requantization of an int32 tensor [outer][channels] to int8.
struct RequantizeTensorParams {
  int32_t outer_size = 1;
  int32_t channels = 0;
  RequantizeParams requantize;
};

// ---------------------------------------------------------------------------------------
// Shape arithmetic shared by kernels, graph and host code.

// PyTorch's output extent of a convolution or pooling window along one axis, or 0 when the
// arguments leave no output position or the padded input (input + 2 * padding) exceeds
// INT32_MAX, which every kernel rejects (kBadPadding); callers report 0 as an error.
// Keeping the padded input within int32 keeps the division within 32 bits, so a kernel that
// computes its extents at run time on a 32-bit core needs no 64-bit division routine.
constexpr int32_t WindowOutputExtent(int32_t input, int32_t filter, int32_t stride,
                                     int32_t dilation, int32_t padding, bool ceil_mode) {
  if (input < 1 || filter < 1 || stride < 1 || dilation < 1 || padding < 0) return 0;
  const int64_t span = int64_t{dilation} * (filter - 1) + 1;
  const int64_t padded = int64_t{input} + 2 * int64_t{padding};
  if (padded > INT32_MAX || padded < span) return 0;
  // reach < 2^31 - 1 and step < 2^31, so every value below fits uint32: the extent is at most
  // reach + 1, and (extent - 1) * step < reach + step.
  const auto reach = static_cast<uint32_t>(padded - span);
  const auto step = static_cast<uint32_t>(stride);
  uint32_t extent = reach / step + 1;
  if (ceil_mode) {
    if (reach % step != 0) ++extent;
    // PyTorch drops a last window that would start inside the right padding.
    if ((extent - 1) * step >= static_cast<uint32_t>(input + padding)) --extent;
  }
  return static_cast<int32_t>(extent);
}

constexpr int32_t OutputHeight(const Conv2dParams& p) {
  return WindowOutputExtent(p.input_height, p.filter_height, p.stride_height,
                            p.dilation_height, p.padding_height, false);
}
constexpr int32_t OutputWidth(const Conv2dParams& p) {
  return WindowOutputExtent(p.input_width, p.filter_width, p.stride_width, p.dilation_width,
                            p.padding_width, false);
}
constexpr int32_t OutputHeight(const DepthwiseConv2dParams& p) {
  return WindowOutputExtent(p.input_height, p.filter_height, p.stride_height,
                            p.dilation_height, p.padding_height, false);
}
constexpr int32_t OutputWidth(const DepthwiseConv2dParams& p) {
  return WindowOutputExtent(p.input_width, p.filter_width, p.stride_width, p.dilation_width,
                            p.padding_width, false);
}
constexpr int32_t OutputHeight(const Pool2dParams& p) {
  return WindowOutputExtent(p.input_height, p.filter_height, p.stride_height, 1,
                            p.padding_height, p.ceil_mode);
}
constexpr int32_t OutputWidth(const Pool2dParams& p) {
  return WindowOutputExtent(p.input_width, p.filter_width, p.stride_width, 1, p.padding_width,
                            p.ceil_mode);
}

// Product of positive dimensions, or 0 if any is < 1 or the product exceeds INT32_MAX.
// Every buffer size is checked through this so that index arithmetic never overflows.
constexpr int32_t ElementCount(int32_t a, int32_t b, int32_t c = 1, int32_t d = 1) {
  if (a < 1 || b < 1 || c < 1 || d < 1) return 0;
  const int64_t ab = int64_t{a} * b;
  if (ab > INT32_MAX) return 0;
  const int64_t abc = ab * c;
  if (abc > INT32_MAX) return 0;
  const int64_t abcd = abc * d;
  return abcd > INT32_MAX ? 0 : static_cast<int32_t>(abcd);
}

}  // namespace integr8

#endif  // INTEGR8_TYPES_H_
