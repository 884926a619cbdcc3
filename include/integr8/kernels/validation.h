// Parameter checks shared by the kernels. The parameter checks are constexpr so that the
// compile-time graph can static_assert them; the buffer checks run at each call.
#ifndef INTEGR8_KERNELS_VALIDATION_H_
#define INTEGR8_KERNELS_VALIDATION_H_

#include <cstddef>
#include <cstdint>

#include "integr8/fixedpoint.h"
#include "integr8/types.h"

namespace integr8 {

// Whether a kernel validates its arguments on entry (kAtEntry, the default) or relies on its
// caller having proven them valid (kProvenByCaller). The compile-time graph static_asserts
// every layer's parameters and lays out non-null, non-overlapping buffers of the right sizes,
// so checking them again at each call would only cost time (the bias bound alone is linear in
// the channel count) and code. Calling with kProvenByCaller on arguments the matching
// Validate* function would reject is undefined behaviour.
enum class Checks { kAtEntry, kProvenByCaller };

constexpr bool IsInt8(int32_t value) {
  return value >= kActivationMin && value <= kActivationMax;
}

constexpr Status ValidateActivationRange(int32_t activation_min, int32_t activation_max) {
  if (!IsInt8(activation_min) || !IsInt8(activation_max) || activation_min > activation_max) {
    return Status::kBadActivationRange;
  }
  return Status::kOk;
}

// Checks multiplier, shift, zero point and clamp of a requantization over `channels`
// output channels (one entry when per tensor).
constexpr Status ValidateRequantize(const RequantizeParams& params, int32_t channels) {
  if (params.multipliers == nullptr || params.shifts == nullptr) return Status::kNullPointer;
  const int32_t entries = params.per_channel ? channels : 1;
  for (int32_t channel = 0; channel < entries; ++channel) {
    if (!IsValidMultiplier(params.multipliers[channel])) return Status::kBadMultiplier;
    if (!IsValidShift(params.shifts[channel])) return Status::kBadShift;
  }
  if (!IsInt8(params.output_zero_point)) return Status::kBadZeroPoint;
  return ValidateActivationRange(params.activation_min, params.activation_max);
}

// The spec's accumulator bound: |bias| + products * 128 * 127 < 2^31 for every channel, so
// that no sum of int8 x int8 products (|w| <= 127) added to the bias can leave int32.
constexpr Status ValidateAccumulatorBound(const int32_t* bias, int32_t channels,
                                          int32_t products) {
  if (bias == nullptr) return Status::kNullPointer;
  const int64_t worst_products = int64_t{products} * 128 * 127;
  for (int32_t channel = 0; channel < channels; ++channel) {
    const int64_t magnitude = bias[channel] < 0 ? -int64_t{bias[channel]} : bias[channel];
    if (magnitude + worst_products >= (int64_t{1} << 31)) return Status::kAccumulatorOverflow;
  }
  return Status::kOk;
}

// True when the byte ranges [a, a + a_bytes) and [b, b + b_bytes) share a byte. Compares
// addresses as integers because relational operators on unrelated pointers are unspecified.
inline bool BuffersOverlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const uintptr_t a_begin = reinterpret_cast<uintptr_t>(a);
  const uintptr_t b_begin = reinterpret_cast<uintptr_t>(b);
  return a_begin < b_begin + b_bytes && b_begin < a_begin + a_bytes;
}

}  // namespace integr8

#endif  // INTEGR8_KERNELS_VALIDATION_H_
