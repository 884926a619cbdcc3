// Fully connected layer (PyTorch nn.Linear), int8 x int8 -> int32 -> int8.
//
//   input   int8  [batches][input_features]            raw values, any zero point
//   weights int8  [output_features][input_features]    row-major, values in [-127, 127]
//   bias    int32 [output_features]                     b' = b - z_in * sum_i w[o][i]
//   output  int8  [batches][output_features]            must not overlap input
#ifndef INTEGR8_KERNELS_LINEAR_H_
#define INTEGR8_KERNELS_LINEAR_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

constexpr Status ValidateLinearParams(const LinearParams& params) {
  if (ElementCount(params.batches, params.input_features) == 0 ||
      ElementCount(params.output_features, params.input_features) == 0 ||
      ElementCount(params.batches, params.output_features) == 0) {
    return Status::kBadShape;
  }
  return ValidateRequantize(params.requantize, params.output_features);
}

template <typename Activation, typename Weight, typename Bias>
Status ValidateLinear(const LinearParams& params, const Activation* input,
                      const Weight* weights, const Bias* bias, const Activation* output) {
  if (input == nullptr || weights == nullptr || bias == nullptr || output == nullptr) {
    return Status::kNullPointer;
  }
  const Status status = ValidateLinearParams(params);
  if (status != Status::kOk) return status;
  if (BuffersOverlap(input, sizeof(Activation) * static_cast<size_t>(params.batches) *
                                static_cast<size_t>(params.input_features),
                     output, sizeof(Activation) * static_cast<size_t>(params.batches) *
                                 static_cast<size_t>(params.output_features))) {
    return Status::kAliasing;
  }
  return ValidateAccumulatorBound(bias, params.output_features, params.input_features);
}

template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status Linear(const LinearParams& params, const Activation* input, const Weight* weights,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateLinear(params, input, weights, bias, output));
  }

  const int32_t batches = params.batches;
  const int32_t input_features = params.input_features;
  const int32_t output_features = params.output_features;
  const RequantizeParams& requantize = params.requantize;

  // Rows advance by pointer steps: the sizes were validated, and no index product is formed.
  const Activation* input_row = input;
  Activation* output_row = output;
  for (int32_t batch = 0; batch < batches;
       ++batch, input_row += input_features, output_row += output_features) {
    const Weight* weight_row = weights;
    for (int32_t out_c = 0; out_c < output_features; ++out_c, weight_row += input_features) {
      // Cannot overflow: ValidateAccumulatorBound established
      // |bias| + input_features * 128 * 127 < 2^31.
      int32_t acc = bias[out_c];
      for (int32_t in_c = 0; in_c < input_features; ++in_c) {
        acc += int32_t{input_row[in_c]} * int32_t{weight_row[in_c]};
      }
      const int32_t channel = requantize.per_channel ? out_c : 0;
      output_row[out_c] = static_cast<Activation>(
          Requantize(acc, requantize.multipliers[channel], requantize.shifts[channel],
                     requantize.output_zero_point, requantize.activation_min,
                     requantize.activation_max));
    }
  }
  return Status::kOk;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_LINEAR_H_
