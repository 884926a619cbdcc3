// Depthwise 2-D convolution (PyTorch nn.Conv2d with groups == in_channels), int8 x int8 ->
// int32 -> int8.
//
//   input   int8  [batches][input_height][input_width][input_channels]      NHWC, any zero point
//   filter  int8  [1][filter_height][filter_width][output_channels]         1HWC, values in
//                                                   [-127, 127]
//   bias    int32 [output_channels]                 b' = b - z_in * sum of the channel's filter
//   output  int8  [batches][output_height][output_width][output_channels]   NHWC, must not
//                                                   overlap input
//
// output_channels = input_channels * depth_multiplier, and output channel out_c reads input
// channel out_c / depth_multiplier. output_height and output_width are OutputHeight(params)
// and OutputWidth(params) (PyTorch's floor rule). A padded tap contributes
// input_zero_point * w, the raw value of real zero, so the folded bias stays exact at borders.
//
// Checks, in this order; the first failure is returned and the output is not written:
//   kNullPointer          input, filter, bias or output is null
//   kBadShape             a dimension (depth_multiplier included) is < 1, or the input,
//                         channel (input_channels * depth_multiplier) or filter element count
//                         exceeds INT32_MAX
//   kBadStride            a stride is < 1
//   kBadDilation          a dilation is < 1
//   kBadPadding           a padding is negative, or input + 2 * padding exceeds INT32_MAX
//   kBadShape             the output element count exceeds INT32_MAX, or the dilated filter
//                         is larger than the padded input (no output position)
//   kBadZeroPoint         input_zero_point outside [-128, 127]
//   ValidateRequantize    kNullPointer (multipliers or shifts), kBadMultiplier or kBadShift
//                         (first bad entry), kBadZeroPoint (output), kBadActivationRange
//   kAliasing             output overlaps input
//   kAccumulatorOverflow  |bias| + K * 128 * 127 >= 2^31 for some output channel,
//                         K = filter_height * filter_width
#ifndef INTEGR8_KERNELS_DEPTHWISE_H_
#define INTEGR8_KERNELS_DEPTHWISE_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

// input_channels * depth_multiplier, or 0 when either is < 1 or the product exceeds INT32_MAX.
constexpr int32_t DepthwiseOutputChannels(const DepthwiseConv2dParams& params) {
  return ElementCount(params.input_channels, params.depth_multiplier);
}

constexpr Status ValidateDepthwiseConv2dParams(const DepthwiseConv2dParams& params) {
  const int32_t output_channels = DepthwiseOutputChannels(params);
  if (ElementCount(params.batches, params.input_height, params.input_width,
                   params.input_channels) == 0 ||
      output_channels == 0 ||
      ElementCount(params.filter_height, params.filter_width, output_channels) == 0) {
    return Status::kBadShape;
  }
  if (params.stride_height < 1 || params.stride_width < 1) return Status::kBadStride;
  if (params.dilation_height < 1 || params.dilation_width < 1) return Status::kBadDilation;
  // The padded extents must fit int32 so that every input coordinate the kernel forms,
  // in [-padding, input + padding), does too.
  if (params.padding_height < 0 || params.padding_width < 0 ||
      int64_t{params.input_height} + 2 * int64_t{params.padding_height} > INT32_MAX ||
      int64_t{params.input_width} + 2 * int64_t{params.padding_width} > INT32_MAX) {
    return Status::kBadPadding;
  }
  if (ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                   output_channels) == 0) {
    return Status::kBadShape;
  }
  if (!IsInt8(params.input_zero_point)) return Status::kBadZeroPoint;
  return ValidateRequantize(params.requantize, output_channels);
}

template <typename Activation, typename Weight, typename Bias>
Status ValidateDepthwiseConv2d(const DepthwiseConv2dParams& params, const Activation* input,
                               const Weight* filter, const Bias* bias,
                               const Activation* output) {
  if (input == nullptr || filter == nullptr || bias == nullptr || output == nullptr) {
    return Status::kNullPointer;
  }
  const Status status = ValidateDepthwiseConv2dParams(params);
  if (status != Status::kOk) return status;
  const int32_t output_channels = DepthwiseOutputChannels(params);
  const int32_t input_count = ElementCount(params.batches, params.input_height,
                                           params.input_width, params.input_channels);
  const int32_t output_count = ElementCount(params.batches, OutputHeight(params),
                                            OutputWidth(params), output_channels);
  if (BuffersOverlap(input, sizeof(Activation) * static_cast<size_t>(input_count), output,
                     sizeof(Activation) * static_cast<size_t>(output_count))) {
    return Status::kAliasing;
  }
  return ValidateAccumulatorBound(bias, output_channels,
                                  ElementCount(params.filter_height, params.filter_width));
}

template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status DepthwiseConv2d(const DepthwiseConv2dParams& params, const Activation* input,
                       const Weight* filter, const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateDepthwiseConv2d(params, input, filter, bias, output));
  }

  const int32_t batches = params.batches;
  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t input_channels = params.input_channels;
  const int32_t depth_multiplier = params.depth_multiplier;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t stride_height = params.stride_height;
  const int32_t stride_width = params.stride_width;
  const int32_t dilation_height = params.dilation_height;
  const int32_t dilation_width = params.dilation_width;
  const int32_t padding_height = params.padding_height;
  const int32_t padding_width = params.padding_width;
  const int32_t input_zero_point = params.input_zero_point;
  const int32_t output_channels = DepthwiseOutputChannels(params);
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const RequantizeParams& requantize = params.requantize;

  // Index arithmetic stays in int32: validation bounded every buffer's element count and
  // the padded input extents by INT32_MAX.
  for (int32_t batch = 0; batch < batches; ++batch) {
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * stride_height - padding_height;
      for (int32_t out_x = 0; out_x < output_width; ++out_x) {
        const int32_t in_x_origin = out_x * stride_width - padding_width;
        for (int32_t out_c = 0; out_c < output_channels; ++out_c) {
          const int32_t in_c = out_c / depth_multiplier;
          // Cannot overflow: each product, a padded tap's input_zero_point * w included, has
          // |x * w| <= 128 * 127; there are K = filter_height * filter_width of them, and
          // ValidateAccumulatorBound established |bias| + K * 128 * 127 < 2^31, which bounds
          // every partial sum as well.
          int32_t acc = bias[out_c];
          for (int32_t filter_y = 0; filter_y < filter_height; ++filter_y) {
            const int32_t in_y = in_y_origin + dilation_height * filter_y;
            for (int32_t filter_x = 0; filter_x < filter_width; ++filter_x) {
              const int32_t in_x = in_x_origin + dilation_width * filter_x;
              const int32_t filter_value = int32_t{
                  filter[(filter_y * filter_width + filter_x) * output_channels + out_c]};
              const bool is_inside =
                  in_y >= 0 && in_y < input_height && in_x >= 0 && in_x < input_width;
              // Padding holds real zero, whose raw value is input_zero_point.
              const int32_t input_value =
                  is_inside ? int32_t{input[((batch * input_height + in_y) * input_width +
                                             in_x) *
                                                input_channels +
                                            in_c]}
                            : input_zero_point;
              acc += input_value * filter_value;
            }
          }
          const int32_t channel = requantize.per_channel ? out_c : 0;
          output[((batch * output_height + out_y) * output_width + out_x) * output_channels +
                 out_c] =
              static_cast<Activation>(Requantize(
                  acc, requantize.multipliers[channel], requantize.shifts[channel],
                  requantize.output_zero_point, requantize.activation_min,
                  requantize.activation_max));
        }
      }
    }
  }
  return Status::kOk;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_DEPTHWISE_H_
