// libFuzzer harness: the integer primitives of integr8/fixedpoint.h (and the shape arithmetic
// and multiplier conversion they are used with) against exact 128-bit references written here,
// formulated differently from the code under test (floor division with an explicit remainder
// instead of add-half-then-shift, quotient and remainder of |sum| instead of a biased
// truncating division), with zero tolerance. Each input is a sequence of cases: a selector
// byte, then the operands it needs.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_input.h"
#include "integr8/fixedpoint.h"
#include "integr8/host/quantize_multiplier.h"
#include "integr8/types.h"

namespace {

using integr8_fuzz::FuzzInput;
__extension__ typedef __int128 Int128;

// floor(numerator / 2^shift) with an explicit remainder in [0, 2^shift), then + 1 when the
// remainder is at least half the divisor: round to nearest, ties toward +infinity.
Int128 ReferenceMultiply(int32_t x, int32_t multiplier, int32_t shift) {
  const Int128 numerator = Int128{x} * Int128{multiplier};
  const Int128 divisor = Int128{1} << shift;
  Int128 quotient = numerator / divisor;  // truncates toward zero
  Int128 remainder = numerator % divisor;
  if (remainder < 0) {
    quotient -= 1;
    remainder += divisor;
  }
  return 2 * remainder >= divisor ? quotient + 1 : quotient;
}

Int128 ReferenceClamp(Int128 value, int32_t low, int32_t high) {
  return value < low ? Int128{low} : value > high ? Int128{high} : value;
}

// sum / count to nearest, ties away from zero, from the quotient and remainder of |sum|.
Int128 ReferenceRoundingDivide(int32_t sum, int32_t count) {
  const Int128 magnitude = sum < 0 ? -Int128{sum} : Int128{sum};
  Int128 quotient = magnitude / count;
  if (2 * (magnitude % count) >= count) quotient += 1;
  return sum < 0 ? -quotient : quotient;
}

// PyTorch's extent (docs/spec.md section 5) in 128-bit arithmetic; 0 when there is none, the
// padded input exceeds INT32_MAX or the extent does not fit int32, which is
// WindowOutputExtent's contract.
Int128 ReferenceExtent(int32_t input, int32_t filter, int32_t stride, int32_t dilation,
                       int32_t padding, bool ceil_mode) {
  if (input < 1 || filter < 1 || stride < 1 || dilation < 1 || padding < 0) return 0;
  if (Int128{input} + 2 * Int128{padding} > INT32_MAX) return 0;
  const Int128 reach = Int128{input} + 2 * Int128{padding} - Int128{dilation} * (filter - 1) - 1;
  if (reach < 0) return 0;
  Int128 extent = reach / stride + 1;                    // floor rule
  if (ceil_mode) {
    extent = (reach + stride - 1) / stride + 1;          // ceil rule
    if ((extent - 1) * stride >= Int128{input} + padding) extent -= 1;
  }
  return extent > INT32_MAX ? 0 : extent;
}

void CheckMultiply(FuzzInput& in) {
  const int32_t x = in.Edgy();
  const int32_t multiplier = in.InRange(integr8::kMultiplierMin, integr8::kMultiplierMax);
  const int32_t shift = in.Small(integr8::kShiftMin, integr8::kShiftMax);
  INTEGR8_FUZZ_CHECK(integr8::MultiplyByQuantizedMultiplier(x, multiplier, shift) ==
                     ReferenceMultiply(x, multiplier, shift));
}

void CheckRequantize(FuzzInput& in) {
  const int32_t acc = in.Edgy();
  const int32_t multiplier = in.InRange(integr8::kMultiplierMin, integr8::kMultiplierMax);
  const int32_t shift = in.Small(integr8::kShiftMin, integr8::kShiftMax);
  const int32_t zero_point = in.Edgy();
  int32_t low = in.Edgy();
  int32_t high = in.Edgy();
  if (low > high) {
    const int32_t swap = low;
    low = high;
    high = swap;
  }
  const Int128 expected =
      ReferenceClamp(zero_point + ReferenceMultiply(acc, multiplier, shift), low, high);
  INTEGR8_FUZZ_CHECK(
      integr8::Requantize(acc, multiplier, shift, zero_point, low, high) == expected);
}

void CheckClamp(FuzzInput& in) {
  const int64_t value = in.Bool() ? in.Int64() : int64_t{in.Edgy()};
  int32_t low = in.Edgy();
  int32_t high = in.Edgy();
  if (low > high) {
    const int32_t swap = low;
    low = high;
    high = swap;
  }
  INTEGR8_FUZZ_CHECK(integr8::Clamp(value, low, high) == ReferenceClamp(value, low, high));
}

void CheckRoundingDivide(FuzzInput& in) {
  const int32_t sum = in.Edgy();
  int32_t count = in.Edgy();
  if (count < 1) count = count == INT32_MIN ? INT32_MAX : (count == 0 ? 1 : -count);
  INTEGR8_FUZZ_CHECK(integr8::RoundingDivide(sum, count) == ReferenceRoundingDivide(sum, count));
}

void CheckValidity(FuzzInput& in) {
  const int32_t multiplier = in.Edgy();
  const int32_t shift = in.Edgy();
  INTEGR8_FUZZ_CHECK(integr8::IsValidMultiplier(multiplier) ==
                     (Int128{multiplier} >= (Int128{1} << 30) &&
                      Int128{multiplier} <= (Int128{1} << 31) - 1));
  INTEGR8_FUZZ_CHECK(integr8::IsValidShift(shift) == (shift >= 1 && shift <= 62));
}

void CheckElementCount(FuzzInput& in) {
  int32_t dims[4];
  for (int32_t& dim : dims) dim = in.Bool() ? in.Small(-2, 200) : in.Edgy();
  Int128 product = 1;
  bool positive = true;
  for (const int32_t dim : dims) {
    positive = positive && dim >= 1;
    product *= dim;
  }
  const Int128 expected = positive && product <= INT32_MAX ? product : 0;
  INTEGR8_FUZZ_CHECK(integr8::ElementCount(dims[0], dims[1], dims[2], dims[3]) == expected);
}

void CheckWindowExtent(FuzzInput& in) {
  const bool small = in.Bool();
  int32_t args[5];
  for (int32_t& arg : args) arg = small ? in.Small(-1, 40) : in.Edgy();
  const bool ceil_mode = in.Bool();
  INTEGR8_FUZZ_CHECK(
      integr8::WindowOutputExtent(args[0], args[1], args[2], args[3], args[4], ceil_mode) ==
      ReferenceExtent(args[0], args[1], args[2], args[3], args[4], ceil_mode));
}

// host::QuantizeMultiplier on an arbitrary double: either a pair in range whose value
// m * 2^-n is within 2^-31 * M of M (checked exactly in 128-bit fixed point), or, only for M
// outside [2^-31, 2^30 - 1/4) (NaN and infinities included), kBadMultiplier with {0, 0}.
void CheckQuantizeMultiplier(FuzzInput& in) {
  const uint64_t bits = in.Bool() ? in.Uint64()
                                  // Mostly values near the accepted range.
                                  : (uint64_t{static_cast<uint32_t>(in.Small(990, 1054))} << 52) |
                                        (in.Uint64() >> 12);
  double real_multiplier = 0;
  static_assert(sizeof(real_multiplier) == sizeof(bits));
  std::memcpy(&real_multiplier, &bits, sizeof(bits));
  const integr8::host::QuantizeMultiplierResult result =
      integr8::host::QuantizeMultiplier(real_multiplier);
  const bool in_range = std::isfinite(real_multiplier) &&
                        real_multiplier >= std::ldexp(1.0, -31) &&
                        real_multiplier < std::ldexp(1.0, 30) - 0.25;
  INTEGR8_FUZZ_CHECK(result.ok() == in_range);
  if (!result.ok()) {
    INTEGR8_FUZZ_CHECK(result.status == integr8::Status::kBadMultiplier);
    INTEGR8_FUZZ_CHECK(result.value.multiplier == 0 && result.value.shift == 0);
    return;
  }
  const int32_t multiplier = result.value.multiplier;
  const int32_t shift = result.value.shift;
  INTEGR8_FUZZ_CHECK(integr8::IsValidMultiplier(multiplier) && integr8::IsValidShift(shift));
  // M = mantissa * 2^exponent with a 53-bit integer mantissa, exponent in [-84, -23].
  int exponent = 0;
  const double fraction = std::frexp(real_multiplier, &exponent);
  const int64_t mantissa = static_cast<int64_t>(std::ldexp(fraction, 53));
  exponent -= 53;
  // Common denominator 2^scale with scale = max(shift, -exponent) <= 84: numerators < 2^115.
  const int scale = shift > -exponent ? shift : -exponent;
  const Int128 pair_value = Int128{multiplier} << (scale - shift);
  const Int128 real_value = Int128{mantissa} << (scale + exponent);
  const Int128 difference =
      pair_value > real_value ? pair_value - real_value : real_value - pair_value;
  INTEGR8_FUZZ_CHECK(difference <= (real_value >> 31));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  while (in.remaining() > 0) {
    switch (in.Byte() % 8) {
      case 0: CheckMultiply(in); break;
      case 1: CheckRequantize(in); break;
      case 2: CheckClamp(in); break;
      case 3: CheckRoundingDivide(in); break;
      case 4: CheckValidity(in); break;
      case 5: CheckElementCount(in); break;
      case 6: CheckWindowExtent(in); break;
      default: CheckQuantizeMultiplier(in); break;
    }
  }
  return 0;
}
