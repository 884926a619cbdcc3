// 2-D convolution (PyTorch nn.Conv2d, any stride, dilation, padding and groups),
// int8 x int8 -> int32 -> int8.
//
//   input   int8  [batches][input_height][input_width][input_channels]      NHWC, any zero point
//   filter  int8  [output_channels][filter_height][filter_width][input_channels / groups]
//                                                   OHWI, values in [-127, 127]
//   bias    int32 [output_channels]                 b' = b - z_in * sum of the channel's filter
//   output  int8  [batches][output_height][output_width][output_channels]   NHWC, must not
//                                                   overlap input
//
// output_height and output_width are OutputHeight(params) and OutputWidth(params) (PyTorch's
// floor rule). Output channel out_c belongs to group out_c / (output_channels / groups) and
// reads that group's input_channels / groups input channels. A padded tap contributes
// input_zero_point * w, the raw value of real zero, so the folded bias stays exact at borders.
//
// Checks, in this order; the first failure is returned and the output is not written:
//   kNullPointer          input, filter, bias or output is null
//   kBadShape             a dimension is < 1, or the input element count or
//                         output_channels * filter_height * filter_width exceeds INT32_MAX
//   kBadStride            a stride is < 1
//   kBadDilation          a dilation is < 1
//   kBadPadding           a padding is negative, or input + 2 * padding exceeds INT32_MAX
//   kBadGroups            groups < 1, or groups does not divide input or output channels
//   kBadShape             the filter or output element count exceeds INT32_MAX, or the dilated
//                         filter is larger than the padded input (no output position)
//   kBadZeroPoint         input_zero_point outside [-128, 127]
//   ValidateRequantize    kNullPointer (multipliers or shifts), kBadMultiplier or kBadShift
//                         (first bad entry), kBadZeroPoint (output), kBadActivationRange
//   kAliasing             output overlaps input
//   kAccumulatorOverflow  |bias| + K * 128 * 127 >= 2^31 for some output channel,
//                         K = filter_height * filter_width * (input_channels / groups)
#ifndef INTEGR8_KERNELS_CONV2D_H_
#define INTEGR8_KERNELS_CONV2D_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

constexpr Status ValidateConv2dParams(const Conv2dParams& params) {
  if (ElementCount(params.batches, params.input_height, params.input_width,
                   params.input_channels) == 0 ||
      ElementCount(params.output_channels, params.filter_height, params.filter_width) == 0) {
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
  if (params.groups < 1 || params.input_channels % params.groups != 0 ||
      params.output_channels % params.groups != 0) {
    return Status::kBadGroups;
  }
  if (ElementCount(params.output_channels, params.filter_height, params.filter_width,
                   params.input_channels / params.groups) == 0 ||
      ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                   params.output_channels) == 0) {
    return Status::kBadShape;
  }
  if (!IsInt8(params.input_zero_point)) return Status::kBadZeroPoint;
  return ValidateRequantize(params.requantize, params.output_channels);
}

template <typename Activation, typename Weight, typename Bias>
Status ValidateConv2d(const Conv2dParams& params, const Activation* input, const Weight* filter,
                      const Bias* bias, const Activation* output) {
  if (input == nullptr || filter == nullptr || bias == nullptr || output == nullptr) {
    return Status::kNullPointer;
  }
  const Status status = ValidateConv2dParams(params);
  if (status != Status::kOk) return status;
  const int32_t input_count = ElementCount(params.batches, params.input_height,
                                           params.input_width, params.input_channels);
  const int32_t output_count = ElementCount(params.batches, OutputHeight(params),
                                            OutputWidth(params), params.output_channels);
  if (BuffersOverlap(input, sizeof(Activation) * static_cast<size_t>(input_count), output,
                     sizeof(Activation) * static_cast<size_t>(output_count))) {
    return Status::kAliasing;
  }
  return ValidateAccumulatorBound(
      bias, params.output_channels,
      ElementCount(params.filter_height, params.filter_width,
                   params.input_channels / params.groups));
}

template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status Conv2d(const Conv2dParams& params, const Activation* input, const Weight* filter,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateConv2d(params, input, filter, bias, output));
  }

  const int32_t batches = params.batches;
  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t input_channels = params.input_channels;
  const int32_t output_channels = params.output_channels;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t stride_height = params.stride_height;
  const int32_t stride_width = params.stride_width;
  const int32_t dilation_height = params.dilation_height;
  const int32_t dilation_width = params.dilation_width;
  const int32_t padding_height = params.padding_height;
  const int32_t padding_width = params.padding_width;
  const int32_t input_zero_point = params.input_zero_point;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const int32_t filter_input_channels = input_channels / params.groups;
  const int32_t group_output_channels = output_channels / params.groups;
  const RequantizeParams& requantize = params.requantize;

  // Index arithmetic stays in int32: validation bounded every buffer's element count and
  // the padded input extents by INT32_MAX.
  for (int32_t batch = 0; batch < batches; ++batch) {
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * stride_height - padding_height;
      for (int32_t out_x = 0; out_x < output_width; ++out_x) {
        const int32_t in_x_origin = out_x * stride_width - padding_width;
        for (int32_t out_c = 0; out_c < output_channels; ++out_c) {
          const int32_t group = out_c / group_output_channels;
          const int32_t in_c_begin = group * filter_input_channels;
          // Cannot overflow: each product, a padded tap's input_zero_point * w included, has
          // |x * w| <= 128 * 127; there are K = filter_height * filter_width *
          // filter_input_channels of them, and ValidateAccumulatorBound established
          // |bias| + K * 128 * 127 < 2^31, which bounds every partial sum as well.
          int32_t acc = bias[out_c];
          for (int32_t filter_y = 0; filter_y < filter_height; ++filter_y) {
            const int32_t in_y = in_y_origin + dilation_height * filter_y;
            for (int32_t filter_x = 0; filter_x < filter_width; ++filter_x) {
              const int32_t in_x = in_x_origin + dilation_width * filter_x;
              const Weight* filter_taps =
                  filter + ((out_c * filter_height + filter_y) * filter_width + filter_x) *
                               filter_input_channels;
              const bool is_inside =
                  in_y >= 0 && in_y < input_height && in_x >= 0 && in_x < input_width;
              if (is_inside) {
                const Activation* input_taps =
                    input + ((batch * input_height + in_y) * input_width + in_x) *
                                input_channels +
                    in_c_begin;
                for (int32_t in_c = 0; in_c < filter_input_channels; ++in_c) {
                  acc += int32_t{input_taps[in_c]} * int32_t{filter_taps[in_c]};
                }
              } else {
                // Padding holds real zero, whose raw value is input_zero_point.
                for (int32_t in_c = 0; in_c < filter_input_channels; ++in_c) {
                  acc += input_zero_point * int32_t{filter_taps[in_c]};
                }
              }
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

#endif  // INTEGR8_KERNELS_CONV2D_H_
