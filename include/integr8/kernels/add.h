// Element-wise residual add of two int8 tensors with their own scales and zero points
// (PyTorch a + b on quantized activations), int8 + int8 -> int8.
//
//   input1  int8  [size]   raw values, scale s_a, zero point input1_zero_point
//   input2  int8  [size]   raw values, scale s_b, zero point input2_zero_point
//   output  int8  [size]   scale s_out, zero point output_zero_point; may be exactly input1 or
//                          input2 (in place), must not overlap either partially
//
// With s_max = max(s_a, s_b) (docs/spec.md, section 6), each input is brought to the common
// scale 2 * s_max / 2^20, then the sum is requantized to s_out; all three steps use the
// single-rounding formula MultiplyByQuantizedMultiplier:
//   a' = MultiplyByQuantizedMultiplier((q_a - z_a) * 2^20, m_1, n_1)   M_1 = s_a / (2 s_max)
//   b' = MultiplyByQuantizedMultiplier((q_b - z_b) * 2^20, m_2, n_2)   M_2 = s_b / (2 s_max)
//   y  = clamp(z_out + MultiplyByQuantizedMultiplier(a' + b', m_o, n_o), min, max)
//                                                          M_o = 2 s_max / (2^20 s_out)
//
// Checks, in this order; the first failure is returned and the output is not written:
//   kNullPointer          input1, input2 or output is null
//   kBadShape             size < 1
//   kBadMultiplier        for input1, input2, output in turn: a multiplier outside
//   kBadShift             [2^30, 2^31 - 1] (kBadMultiplier), a shift outside [1, 62]
//                         (kBadShift), or an input rescale m * 2^-n > 1/2 (kBadMultiplier;
//                         the spec's M = s / (2 s_max) never exceeds 1/2)
//   kBadZeroPoint         input1, input2 or output zero point outside [-128, 127]
//   kBadActivationRange   activation_min > activation_max, or a bound outside int8
//   kAliasing             output overlaps input1 or input2 without being equal to it
#ifndef INTEGR8_KERNELS_ADD_H_
#define INTEGR8_KERNELS_ADD_H_

#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

namespace add_internal {

// Multiplier and shift of one rescale; an input rescale must also satisfy
// m * 2^-n <= 1/2, i.e. m <= 2^(n - 1), which the int32 argument in Add relies on.
constexpr Status ValidateRescale(int32_t multiplier, int32_t shift, bool is_input) {
  if (!IsValidMultiplier(multiplier)) return Status::kBadMultiplier;
  if (!IsValidShift(shift)) return Status::kBadShift;
  if (is_input && int64_t{multiplier} > (int64_t{1} << (shift - 1))) {
    return Status::kBadMultiplier;
  }
  return Status::kOk;
}

}  // namespace add_internal

constexpr Status ValidateAddParams(const AddParams& params) {
  if (params.size < 1) return Status::kBadShape;
  Status status =
      add_internal::ValidateRescale(params.input1_multiplier, params.input1_shift, true);
  if (status != Status::kOk) return status;
  status = add_internal::ValidateRescale(params.input2_multiplier, params.input2_shift, true);
  if (status != Status::kOk) return status;
  status = add_internal::ValidateRescale(params.output_multiplier, params.output_shift, false);
  if (status != Status::kOk) return status;
  if (!IsInt8(params.input1_zero_point) || !IsInt8(params.input2_zero_point) ||
      !IsInt8(params.output_zero_point)) {
    return Status::kBadZeroPoint;
  }
  return ValidateActivationRange(params.activation_min, params.activation_max);
}

template <typename Activation>
Status ValidateAdd(const AddParams& params, const Activation* input1, const Activation* input2,
                   const Activation* output) {
  if (input1 == nullptr || input2 == nullptr || output == nullptr) return Status::kNullPointer;
  const Status status = ValidateAddParams(params);
  if (status != Status::kOk) return status;
  // Element i is read from both inputs before output[i] is written, so an output equal to an
  // input is safe; a shifted overlap would read already-written sums.
  const size_t bytes = sizeof(Activation) * static_cast<size_t>(params.size);
  if ((output != input1 && BuffersOverlap(input1, bytes, output, bytes)) ||
      (output != input2 && BuffersOverlap(input2, bytes, output, bytes))) {
    return Status::kAliasing;
  }
  return Status::kOk;
}

template <typename Activation, Checks kChecks = Checks::kAtEntry>
Status Add(const AddParams& params, const Activation* input1, const Activation* input2,
           Activation* output) {
  static_assert(kIsSpecTypes<Activation>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateAdd(params, input1, input2, output));
  }

  const int32_t size = params.size;
  const int32_t input1_zero_point = params.input1_zero_point;
  const int32_t input1_multiplier = params.input1_multiplier;
  const int32_t input1_shift = params.input1_shift;
  const int32_t input2_zero_point = params.input2_zero_point;
  const int32_t input2_multiplier = params.input2_multiplier;
  const int32_t input2_shift = params.input2_shift;
  const int32_t output_multiplier = params.output_multiplier;
  const int32_t output_shift = params.output_shift;
  const int32_t output_zero_point = params.output_zero_point;
  const int32_t activation_min = params.activation_min;
  const int32_t activation_max = params.activation_max;
  // (q - z) * 2^20 is formed by multiplication: a left shift of a negative value is undefined
  // in C++17.
  const int32_t left_shift_multiplier = int32_t{1} << kAddLeftShift;

  for (int32_t element = 0; element < size; ++element) {
    // Cannot overflow: |q - z| <= 255, so |(q - z) * 2^20| <= 255 * 2^20 < 2^28 fits int32.
    const int32_t shifted_input1 =
        (int32_t{input1[element]} - input1_zero_point) * left_shift_multiplier;
    const int32_t shifted_input2 =
        (int32_t{input2[element]} - input2_zero_point) * left_shift_multiplier;
    // Each rescale is formed in int64. Validation kept M_1, M_2 <= 1/2, so
    // |a'|, |b'| <= 255 * 2^19 (rounding an exact value of at most that magnitude cannot
    // exceed it) and |a' + b'| <= 255 * 2^20 < 2^28: the narrowing to int32 is exact. The
    // clamp only keeps it well defined if validation was compiled out (INTEGR8_UNCHECKED).
    const int64_t scaled_input1 =
        MultiplyByQuantizedMultiplier(shifted_input1, input1_multiplier, input1_shift);
    const int64_t scaled_input2 =
        MultiplyByQuantizedMultiplier(shifted_input2, input2_multiplier, input2_shift);
    const int32_t sum = Clamp(scaled_input1 + scaled_input2, INT32_MIN, INT32_MAX);
    output[element] = static_cast<Activation>(Requantize(
        sum, output_multiplier, output_shift, output_zero_point, activation_min,
        activation_max));
  }
  return Status::kOk;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_ADD_H_
