// Integer primitives of the spec: single-rounding requantization and rounding division.
// Each has a one-line contract; tests/unit/fixedpoint_test.cpp checks them exhaustively at
// the edges against exact wide-integer arithmetic with zero tolerance.
#ifndef INTEGR8_FIXEDPOINT_H_
#define INTEGR8_FIXEDPOINT_H_

#include <cstdint>

#include "integr8/config.h"
#include "integr8/types.h"

namespace integr8 {

// C++17 leaves >> of a negative value implementation-defined; the spec needs floor.
static_assert((int64_t{-3} >> 1) == -2, "integr8 needs an arithmetic right shift");

constexpr bool IsValidMultiplier(int32_t multiplier) { return multiplier >= kMultiplierMin; }
constexpr bool IsValidShift(int32_t shift) { return shift >= kShiftMin && shift <= kShiftMax; }

// Contract: floor((x * m + 2^(n-1)) / 2^n), i.e. x * m / 2^n rounded to nearest with ties
// toward +infinity, exact for every int32 x, m in [2^30, 2^31 - 1] and n in [1, 62].
// No overflow: |x * m| < 2^62 and the rounding term is at most 2^61, so the sum fits int64.
constexpr int64_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int32_t shift) {
  INTEGR8_DCHECK(IsValidMultiplier(multiplier) && IsValidShift(shift));
  const int64_t product = int64_t{x} * multiplier;
  const int64_t rounding = int64_t{1} << (shift - 1);
  return (product + rounding) >> shift;
}

// Contract: value clamped to [low, high] and narrowed to int32 (requires low <= high).
constexpr int32_t Clamp(int64_t value, int32_t low, int32_t high) {
  INTEGR8_DCHECK(low <= high);
  if (value < low) return low;
  if (value > high) return high;
  return static_cast<int32_t>(value);
}

// Contract: y = clamp(zero_point + MultiplyByQuantizedMultiplier(acc, m, n), min, max), the
// spec's requantization of one int32 accumulator; the sum is formed in int64 so no
// intermediate wraps before the clamp.
constexpr int32_t Requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                             int32_t activation_min, int32_t activation_max) {
  return Clamp(zero_point + MultiplyByQuantizedMultiplier(acc, multiplier, shift),
               activation_min, activation_max);
}

// Contract: sum / count rounded to nearest with ties away from zero, for every int32 sum and
// count >= 1: (sum + sign(sum) * floor(count / 2)) / count with truncating division, formed
// in int64 so that sum near INT32_MIN/MAX cannot overflow.
constexpr int32_t RoundingDivide(int32_t sum, int32_t count) {
  INTEGR8_DCHECK(count >= 1);
  const int64_t half = count / 2;
  const int64_t biased = (sum >= 0) ? (int64_t{sum} + half) : (int64_t{sum} - half);
  return static_cast<int32_t>(biased / count);
}

}  // namespace integr8

#endif  // INTEGR8_FIXEDPOINT_H_
