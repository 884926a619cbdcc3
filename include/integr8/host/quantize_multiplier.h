// Host-only: conversion of a real multiplier M to the device's (m, n) pair, the C++ mirror of
// the Python exporter (docs/spec.md, section 2.1). Uses float64; never include from firmware.
#ifndef INTEGR8_HOST_QUANTIZE_MULTIPLIER_H_
#define INTEGR8_HOST_QUANTIZE_MULTIPLIER_H_

#include <cmath>
#include <cstdint>

#include "integr8/types.h"

namespace integr8 {
namespace host {

// M ~= multiplier * 2^-shift, multiplier in [2^30, 2^31 - 1], right shift in [1, 62]: the pair
// that MultiplyByQuantizedMultiplier and RequantizeParams take.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
};

// Errors are returned, not thrown, so host tools built with -fno-exceptions can use this too;
// the Status composes with the kernels' own. On failure `value` stays {0, 0}, which
// IsValidMultiplier rejects, so an unchecked result cannot pass as a valid pair.
struct QuantizeMultiplierResult {
  Status status = Status::kBadMultiplier;  // kOk, or kBadMultiplier if M is not representable
  QuantizedMultiplier value;

  constexpr bool ok() const { return status == Status::kOk; }
};

// Contract: for M in [2^-31, 2^30), m = floor(f * 2^31 + 1/2) with M = f * 2^e, f in [0.5, 1)
// (ties up, not to even), renormalised to 2^30 with e + 1 if it reaches 2^31, and n = 31 - e;
// then |m * 2^-n - M| <= 2^-31 * M. Anything else is kBadMultiplier, never flushed to zero:
// NaN, +-Inf, M <= 0, M outside [2^-31, 2^30), and M in [2^30 - 2^-2, 2^30), whose nearest
// value 2^30 = 2^30 * 2^-0 would need the illegal shift n = 0.
// Normative and bit-exact with the exporter: every step below is exact in float64
// (f * 2^31 has at most 53 significant bits below 2^31, so adding 0.5 does not round).
[[nodiscard]] inline QuantizeMultiplierResult QuantizeMultiplier(double real_multiplier) noexcept {
  QuantizeMultiplierResult result;
  // isfinite drops NaN and +-Inf; the range drops 0, negatives and subnormals.
  const bool in_range = std::isfinite(real_multiplier) &&
                        real_multiplier >= std::ldexp(1.0, -31) &&
                        real_multiplier < std::ldexp(1.0, 30);
  if (!in_range) return result;

  int exponent = 0;
  const double fraction = std::frexp(real_multiplier, &exponent);  // in [0.5, 1)
  int64_t multiplier = static_cast<int64_t>(std::floor(std::ldexp(fraction, 31) + 0.5));
  if (multiplier == (int64_t{1} << 31)) {
    multiplier = int64_t{1} << 30;
    ++exponent;
  }
  const int64_t shift = int64_t{31} - exponent;
  if (shift < kShiftMin || shift > kShiftMax || multiplier < kMultiplierMin ||
      multiplier > kMultiplierMax) {
    return result;
  }
  result.status = Status::kOk;
  result.value.multiplier = static_cast<int32_t>(multiplier);
  result.value.shift = static_cast<int32_t>(shift);
  return result;
}

}  // namespace host
}  // namespace integr8

#endif  // INTEGR8_HOST_QUANTIZE_MULTIPLIER_H_
