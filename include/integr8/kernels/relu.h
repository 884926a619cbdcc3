// Standalone ReLU / ReLU6 (PyTorch nn.ReLU, nn.ReLU6 on quantized activations), int8 -> int8.
//
//   input   int8  [size]   raw values, any zero point
//   output  int8  [size]   same scale and zero point as the input; may be exactly the input
//                          (in place), must not overlap it partially
//
// The activation is a clamp of the raw value to [activation_min, activation_max], which the
// exporter derives from the zero point z and scale s (docs/spec.md, section 4):
// ReLU is [max(-128, z), 127]; ReLU6 also caps at min(127, z + round(6 / s)).
//
// Checks, in this order; the first failure is returned and the output is not written:
//   kNullPointer          input or output is null
//   kBadShape             size < 1
//   kBadActivationRange   activation_min > activation_max, or a bound outside int8
//   kAliasing             output overlaps input without being equal to it
#ifndef INTEGR8_KERNELS_RELU_H_
#define INTEGR8_KERNELS_RELU_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

constexpr Status ValidateReluParams(const ReluParams& params) {
  if (params.size < 1) return Status::kBadShape;
  return ValidateActivationRange(params.activation_min, params.activation_max);
}

template <typename Activation>
Status ValidateRelu(const ReluParams& params, const Activation* input,
                    const Activation* output) {
  if (input == nullptr || output == nullptr) return Status::kNullPointer;
  const Status status = ValidateReluParams(params);
  if (status != Status::kOk) return status;
  // Element i is read before output[i] is written, so exact in-place is safe; a shifted
  // overlap would clamp already-written values a second time from the wrong position.
  const size_t bytes = sizeof(Activation) * static_cast<size_t>(params.size);
  if (output != input && BuffersOverlap(input, bytes, output, bytes)) return Status::kAliasing;
  return Status::kOk;
}

template <typename Activation, Checks kChecks = Checks::kAtEntry>
Status Relu(const ReluParams& params, const Activation* input, Activation* output) {
  static_assert(kIsSpecTypes<Activation>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateRelu(params, input, output));
  }

  const int32_t size = params.size;
  const int32_t activation_min = params.activation_min;
  const int32_t activation_max = params.activation_max;

  // Nothing to overflow: a validated clamp of an int8 value to int8 bounds.
  for (int32_t element = 0; element < size; ++element) {
    output[element] = static_cast<Activation>(
        Clamp(int32_t{input[element]}, activation_min, activation_max));
  }
  return Status::kOk;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_RELU_H_
