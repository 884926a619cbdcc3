// 2-D max and average pooling (PyTorch nn.MaxPool2d / nn.AvgPool2d without dilation or
// divisor_override, and AdaptiveAvgPool2d(1) as a window over the whole input), int8 -> int8.
//
//   input   int8  [batches][input_height][input_width][channels]     NHWC, any zero point
//   output  int8  [batches][output_height][output_width][channels]   NHWC, same scale and zero
//                                                 point as the input, must not overlap input
//
// output_height and output_width are OutputHeight(params) and OutputWidth(params) (PyTorch's
// floor or ceil_mode rule). Each window starts at out * stride - padding on each axis.
//
// Max pool: the largest raw value over the taps inside the input (PyTorch pads with -inf, so
// padded taps never win), clamped to [activation_min, activation_max].
// Average pool: the sum of the raw values of the taps inside the input, divided with
// RoundingDivide (half away from zero) by PyTorch's count, then clamped. Along each axis the
// counted window is [start, end) with start = out * stride - padding and
// end = min(start + filter, input + padding). With count_include_pad the count is the product
// of those extents and each counted tap in the padding adds input_zero_point (real zero);
// without it the count is the number of taps inside the input.
//
// Checks, in this order; the first failure is returned and the output is not written:
//   kNullPointer          input or output is null
//   kBadShape             a dimension (filter included) is < 1, or the input element count
//                         exceeds INT32_MAX
//   kBadStride            a stride is < 1
//   kBadPadding           a padding is negative or exceeds filter / 2 (PyTorch's rule), or
//                         input + 2 * padding exceeds INT32_MAX
//   kBadShape             the filter is larger than the padded input (no output position) or
//                         the output element count exceeds INT32_MAX
//   kAccumulatorOverflow  a counted window may hold 2^24 taps or more, so the int32 sum of an
//                         average pool could overflow (checked for max pool too, so one
//                         ValidatePool2dParams serves both layers)
//   kBadZeroPoint         input_zero_point outside [-128, 127]
//   kBadActivationRange   activation_min > activation_max, or a bound outside int8
//   kAliasing             output overlaps input
#ifndef INTEGR8_KERNELS_POOL_H_
#define INTEGR8_KERNELS_POOL_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

// A counted window holds fewer than 2^24 taps, so |sum| <= 128 * (2^24 - 1) < 2^31.
inline constexpr int64_t kPoolMaxWindowTaps = (int64_t{1} << 24) - 1;

namespace pool_internal {

constexpr int32_t Min(int32_t a, int32_t b) { return a < b ? a : b; }
constexpr int32_t Max(int32_t a, int32_t b) { return a > b ? a : b; }

// Taps along one axis that a window can count: at most the filter, and at most the padded
// input (a window starts at or after -padding and counts nothing past input + padding).
constexpr int64_t MaxCountedTaps(int32_t input, int32_t filter, int32_t padding) {
  const int64_t padded = int64_t{input} + 2 * int64_t{padding};
  return filter < padded ? filter : padded;
}

}  // namespace pool_internal

constexpr Status ValidatePool2dParams(const Pool2dParams& params) {
  if (ElementCount(params.batches, params.input_height, params.input_width, params.channels) ==
          0 ||
      params.filter_height < 1 || params.filter_width < 1) {
    return Status::kBadShape;
  }
  if (params.stride_height < 1 || params.stride_width < 1) return Status::kBadStride;
  // padding <= filter / 2 (PyTorch's rule) leaves at least one input tap in every window, so
  // no window lies wholly in padding and no count is 0. The padded extents must
  // fit int32 so that every coordinate the kernel forms, in [-padding, input + padding), does.
  if (params.padding_height < 0 || params.padding_width < 0 ||
      params.padding_height > params.filter_height / 2 ||
      params.padding_width > params.filter_width / 2 ||
      int64_t{params.input_height} + 2 * int64_t{params.padding_height} > INT32_MAX ||
      int64_t{params.input_width} + 2 * int64_t{params.padding_width} > INT32_MAX) {
    return Status::kBadPadding;
  }
  if (ElementCount(params.batches, OutputHeight(params), OutputWidth(params),
                   params.channels) == 0) {
    return Status::kBadShape;
  }
  if (pool_internal::MaxCountedTaps(params.input_height, params.filter_height,
                                    params.padding_height) *
          pool_internal::MaxCountedTaps(params.input_width, params.filter_width,
                                        params.padding_width) >
      kPoolMaxWindowTaps) {
    return Status::kAccumulatorOverflow;
  }
  if (!IsInt8(params.input_zero_point)) return Status::kBadZeroPoint;
  return ValidateActivationRange(params.activation_min, params.activation_max);
}

template <typename Activation>
Status ValidatePool2d(const Pool2dParams& params, const Activation* input,
                      const Activation* output) {
  if (input == nullptr || output == nullptr) return Status::kNullPointer;
  const Status status = ValidatePool2dParams(params);
  if (status != Status::kOk) return status;
  const int32_t input_count = ElementCount(params.batches, params.input_height,
                                           params.input_width, params.channels);
  const int32_t output_count = ElementCount(params.batches, OutputHeight(params),
                                            OutputWidth(params), params.channels);
  // A window reads neighbours of the output position it writes, so even exact in-place
  // pooling would read overwritten values.
  if (BuffersOverlap(input, sizeof(Activation) * static_cast<size_t>(input_count), output,
                     sizeof(Activation) * static_cast<size_t>(output_count))) {
    return Status::kAliasing;
  }
  return Status::kOk;
}

template <typename Activation, Checks kChecks = Checks::kAtEntry>
Status MaxPool2d(const Pool2dParams& params, const Activation* input, Activation* output) {
  static_assert(kIsSpecTypes<Activation>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidatePool2d(params, input, output));
  }

  const int32_t batches = params.batches;
  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t channels = params.channels;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t stride_height = params.stride_height;
  const int32_t stride_width = params.stride_width;
  const int32_t padding_height = params.padding_height;
  const int32_t padding_width = params.padding_width;
  const int32_t activation_min = params.activation_min;
  const int32_t activation_max = params.activation_max;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);

  // Index arithmetic stays in int32: validation bounded both buffers' element counts and the
  // padded input extents by INT32_MAX, and window bounds are formed relative to the window
  // origin (input - origin <= input + padding), never as origin + filter.
  for (int32_t batch = 0; batch < batches; ++batch) {
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * stride_height - padding_height;
      // Taps inside the input; padded taps are -inf and never the maximum.
      const int32_t filter_y_start = pool_internal::Max(0, -in_y_origin);
      const int32_t filter_y_end = pool_internal::Min(filter_height, input_height - in_y_origin);
      for (int32_t out_x = 0; out_x < output_width; ++out_x) {
        const int32_t in_x_origin = out_x * stride_width - padding_width;
        const int32_t filter_x_start = pool_internal::Max(0, -in_x_origin);
        const int32_t filter_x_end = pool_internal::Min(filter_width, input_width - in_x_origin);
        // padding <= filter / 2 and PyTorch's ceil_mode rule leave a valid tap in every window.
        INTEGR8_DCHECK(filter_y_start < filter_y_end && filter_x_start < filter_x_end);
        for (int32_t channel = 0; channel < channels; ++channel) {
          // The int8 minimum stands in for -inf: with at least one valid tap the result is the
          // same.
          int32_t max_value = kActivationMin;
          for (int32_t filter_y = filter_y_start; filter_y < filter_y_end; ++filter_y) {
            const int32_t in_y = in_y_origin + filter_y;
            for (int32_t filter_x = filter_x_start; filter_x < filter_x_end; ++filter_x) {
              const int32_t in_x = in_x_origin + filter_x;
              const int32_t value =
                  int32_t{input[((batch * input_height + in_y) * input_width + in_x) * channels +
                                channel]};
              if (value > max_value) max_value = value;
            }
          }
          output[((batch * output_height + out_y) * output_width + out_x) * channels +
                 channel] =
              static_cast<Activation>(Clamp(max_value, activation_min, activation_max));
        }
      }
    }
  }
  return Status::kOk;
}

template <typename Activation, Checks kChecks = Checks::kAtEntry>
Status AvgPool2d(const Pool2dParams& params, const Activation* input, Activation* output) {
  static_assert(kIsSpecTypes<Activation>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidatePool2d(params, input, output));
  }

  const int32_t batches = params.batches;
  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t channels = params.channels;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t stride_height = params.stride_height;
  const int32_t stride_width = params.stride_width;
  const int32_t padding_height = params.padding_height;
  const int32_t padding_width = params.padding_width;
  const bool count_include_pad = params.count_include_pad;
  const int32_t input_zero_point = params.input_zero_point;
  const int32_t activation_min = params.activation_min;
  const int32_t activation_max = params.activation_max;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);

  // Index arithmetic stays in int32 as in MaxPool2d.
  for (int32_t batch = 0; batch < batches; ++batch) {
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * stride_height - padding_height;
      // PyTorch counts the window up to the end of the bottom padding, not past it (a ceil_mode
      // window may reach further); in filter coordinates that is [0, padded_filter_y_end).
      const int32_t padded_filter_y_end =
          pool_internal::Min(filter_height, input_height + padding_height - in_y_origin);
      const int32_t filter_y_start = pool_internal::Max(0, -in_y_origin);
      const int32_t filter_y_end = pool_internal::Min(filter_height, input_height - in_y_origin);
      for (int32_t out_x = 0; out_x < output_width; ++out_x) {
        const int32_t in_x_origin = out_x * stride_width - padding_width;
        const int32_t padded_filter_x_end =
            pool_internal::Min(filter_width, input_width + padding_width - in_x_origin);
        const int32_t filter_x_start = pool_internal::Max(0, -in_x_origin);
        const int32_t filter_x_end = pool_internal::Min(filter_width, input_width - in_x_origin);
        INTEGR8_DCHECK(filter_y_start < filter_y_end && filter_x_start < filter_x_end);
        // Both products are below 2^24 (kPoolMaxWindowTaps), so they fit int32.
        const int32_t valid_taps =
            (filter_y_end - filter_y_start) * (filter_x_end - filter_x_start);
        const int32_t pool_size = padded_filter_y_end * padded_filter_x_end;
        const int32_t count = count_include_pad ? pool_size : valid_taps;
        // Counted taps in the padding hold real zero, whose raw value is input_zero_point.
        const int32_t padding_sum =
            count_include_pad ? (pool_size - valid_taps) * input_zero_point : 0;
        for (int32_t channel = 0; channel < channels; ++channel) {
          // Cannot overflow: at most kPoolMaxWindowTaps = 2^24 - 1 taps are summed (validated),
          // each of magnitude <= 128, so every partial sum has |sum| < 2^31.
          int32_t sum = padding_sum;
          for (int32_t filter_y = filter_y_start; filter_y < filter_y_end; ++filter_y) {
            const int32_t in_y = in_y_origin + filter_y;
            for (int32_t filter_x = filter_x_start; filter_x < filter_x_end; ++filter_x) {
              const int32_t in_x = in_x_origin + filter_x;
              sum += int32_t{input[((batch * input_height + in_y) * input_width + in_x) *
                                       channels +
                                   channel]};
            }
          }
          // The mean of int8 values (and of z_in) lies in int8, so only the clamp can bind.
          const int32_t average = RoundingDivide(sum, count);
          output[((batch * output_height + out_y) * output_width + out_x) * channels +
                 channel] =
              static_cast<Activation>(Clamp(average, activation_min, activation_max));
        }
      }
    }
  }
  return Status::kOk;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_POOL_H_
