// Standalone requantization of an int32 tensor to int8 (an accumulator that a backend or a
// fused op left in int32), per tensor or per channel, with the fused activation clamp.
//
//   input   int32 [outer_size][channels]   accumulators at scale s_in * s_w[channel]
//   output  int8  [outer_size][channels]   must not overlap input
//
// output[outer][channel] = clamp(z_out + MultiplyByQuantizedMultiplier(input[outer][channel],
// m[c], n[c]), activation_min, activation_max) with c = channel per channel, else 0
// (docs/spec.md, section 4).
//
// Checks, in this order; the first failure is returned and the output is not written:
//   kNullPointer          input or output is null
//   kBadShape             outer_size or channels < 1, or outer_size * channels exceeds
//                         INT32_MAX
//   ValidateRequantize    kNullPointer (multipliers or shifts), kBadMultiplier or kBadShift
//                         (first bad entry), kBadZeroPoint (output), kBadActivationRange
//   kAliasing             output overlaps input
#ifndef INTEGR8_KERNELS_REQUANTIZE_H_
#define INTEGR8_KERNELS_REQUANTIZE_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

constexpr Status ValidateRequantizeTensorParams(const RequantizeTensorParams& params) {
  if (ElementCount(params.outer_size, params.channels) == 0) return Status::kBadShape;
  return ValidateRequantize(params.requantize, params.channels);
}

template <typename Activation>
Status ValidateRequantizeTensor(const RequantizeTensorParams& params, const int32_t* input,
                                const Activation* output) {
  if (input == nullptr || output == nullptr) return Status::kNullPointer;
  const Status status = ValidateRequantizeTensorParams(params);
  if (status != Status::kOk) return status;
  const size_t count = static_cast<size_t>(ElementCount(params.outer_size, params.channels));
  if (BuffersOverlap(input, sizeof(int32_t) * count, output, sizeof(Activation) * count)) {
    return Status::kAliasing;
  }
  return Status::kOk;
}

template <typename Activation>
Status RequantizeTensor(const RequantizeTensorParams& params, const int32_t* input,
                        Activation* output) {
  static_assert(kIsSpecTypes<Activation>, INTEGR8_SPEC_TYPES_MESSAGE);
  INTEGR8_CHECK(ValidateRequantizeTensor(params, input, output));

  const int32_t outer_size = params.outer_size;
  const int32_t channels = params.channels;
  const RequantizeParams& requantize = params.requantize;

  // Rows advance by pointer, within the outer_size * channels elements that validation
  // bounded by INT32_MAX, so no index product is formed. Requantize forms acc * m + 2^(n-1)
  // in int64, where |acc * m| < 2^62 and 2^(n-1) <= 2^61, and adds the zero point before the
  // clamp, so nothing wraps.
  const int32_t* input_row = input;
  Activation* output_row = output;
  for (int32_t outer = 0; outer < outer_size;
       ++outer, input_row += channels, output_row += channels) {
    for (int32_t channel = 0; channel < channels; ++channel) {
      const int32_t entry = requantize.per_channel ? channel : 0;
      output_row[channel] = static_cast<Activation>(
          Requantize(input_row[channel], requantize.multipliers[entry], requantize.shifts[entry],
                     requantize.output_zero_point, requantize.activation_min,
                     requantize.activation_max));
    }
  }
  return Status::kOk;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_REQUANTIZE_H_
