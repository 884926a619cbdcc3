// Edge-value tests of every primitive in integr8/fixedpoint.h, in the style of gemmlowp's
// fixedpoint tests: zero tolerance against exact references written here in 128-bit integers
// and formulated differently from the code under test (floor division with an explicit
// remainder instead of add-half-then-shift; quotient and remainder of |sum| instead of a
// biased truncating division), so that a shared mistake is unlikely.
#include "integr8/fixedpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace integr8 {
namespace {

__extension__ typedef __int128 Int128;

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int32_t kTwoTo30 = int32_t{1} << 30;

// ---------------------------------------------------------------------------------------
// Compile time: every primitive is usable in constant expressions (generated models declare
// their parameters constexpr and static_assert on them).

static_assert(MultiplyByQuantizedMultiplier(1, kTwoTo30, 31) == 1);    // 0.5 -> 1
static_assert(MultiplyByQuantizedMultiplier(-1, kTwoTo30, 31) == 0);   // -0.5 -> 0
static_assert(MultiplyByQuantizedMultiplier(-3, kTwoTo30, 31) == -1);  // -1.5 -> -1
// (2^31 - 1)^2 / 2 = 2^61 - 2^31 + 0.5 -> 2^61 - 2^31 + 1, the largest result there is.
static_assert(MultiplyByQuantizedMultiplier(kInt32Max, kInt32Max, 1) ==
              (int64_t{1} << 61) - (int64_t{1} << 31) + 1);
static_assert(Clamp(kInt64Max, -128, 127) == 127);
static_assert(Clamp(kInt64Min, -128, 127) == -128);
static_assert(Clamp(-5, -128, 127) == -5);
static_assert(Requantize(kInt32Max, kInt32Max, 1, -128, -128, 127) == 127);
static_assert(Requantize(-3, kTwoTo30, 31, 0, 0, 127) == 0);  // -1.5 -> -1, ReLU -> 0
static_assert(RoundingDivide(5, 2) == 3);    // 2.5 -> 3
static_assert(RoundingDivide(-5, 2) == -3);  // -2.5 -> -3
static_assert(RoundingDivide(kInt32Min, 1) == kInt32Min);
static_assert(IsValidMultiplier(kTwoTo30) && IsValidMultiplier(kInt32Max));
static_assert(!IsValidMultiplier(kTwoTo30 - 1) && !IsValidMultiplier(0));
static_assert(IsValidShift(1) && IsValidShift(62) && !IsValidShift(0) && !IsValidShift(63));
// As template arguments too (the compile-time graph's use).
static_assert(std::integral_constant<int32_t, RoundingDivide(-7, 2)>::value == -4);
static_assert(std::is_same_v<decltype(Clamp(0, 0, 0)), int32_t>);
static_assert(std::is_same_v<decltype(MultiplyByQuantizedMultiplier(0, kTwoTo30, 1)), int64_t>);

// In checked builds a contract violation is not a constant expression (INTEGR8_DCHECK reaches
// __builtin_trap), so a bad constexpr parameter fails to compile instead of computing garbage.
template <int32_t kMultiplier, int32_t kShift, typename = void>
struct IsConstantMultiply : std::false_type {};
template <int32_t kMultiplier, int32_t kShift>
struct IsConstantMultiply<
    kMultiplier, kShift,
    std::void_t<std::integral_constant<int64_t,
                                       MultiplyByQuantizedMultiplier(1, kMultiplier, kShift)>>>
    : std::true_type {};
static_assert(IsConstantMultiply<kTwoTo30, 1>::value);
static_assert(IsConstantMultiply<kInt32Max, 62>::value);
#ifndef NDEBUG
static_assert(!IsConstantMultiply<kTwoTo30, 0>::value);
static_assert(!IsConstantMultiply<kTwoTo30, 63>::value);
static_assert(!IsConstantMultiply<kTwoTo30 - 1, 31>::value);
#endif

// ---------------------------------------------------------------------------------------
// Exact references.

// x * m / 2^n rounded to nearest, ties toward +infinity: floor division of the exact
// numerator with an explicit non-negative remainder, rounding up when remainder / 2^n >= 1/2.
struct ExactQuotient {
  Int128 value;
  bool tie;      // the exact value was k + 1/2
  bool inexact;  // the exact value was not an integer
};

ExactQuotient ReferenceMultiply(int32_t x, int32_t multiplier, int32_t shift) {
  const Int128 numerator = Int128{x} * Int128{multiplier};
  const Int128 denominator = Int128{1} << shift;
  Int128 quotient = numerator / denominator;   // truncated toward zero
  Int128 remainder = numerator % denominator;  // has the numerator's sign
  if (remainder < 0) {                         // make it floor with 0 <= remainder < 2^n
    quotient -= 1;
    remainder += denominator;
  }
  if (2 * remainder >= denominator) quotient += 1;
  return {quotient, 2 * remainder == denominator, remainder != 0};
}

// sum / count rounded to nearest, ties away from zero: divide |sum|, round the magnitude up
// when the remainder is at least half of count, then reapply the sign.
ExactQuotient ReferenceRoundingDivide(int32_t sum, int32_t count) {
  const Int128 magnitude = sum < 0 ? -Int128{sum} : Int128{sum};
  Int128 quotient = magnitude / count;
  const Int128 remainder = magnitude % count;
  if (2 * remainder >= count) quotient += 1;
  return {sum < 0 ? -quotient : quotient, 2 * remainder == count, remainder != 0};
}

Int128 ReferenceClamp(Int128 value, Int128 low, Int128 high) {
  return std::min(std::max(value, low), high);
}

Int128 ReferenceRequantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                           int32_t activation_min, int32_t activation_max) {
  return ReferenceClamp(Int128{zero_point} + ReferenceMultiply(acc, multiplier, shift).value,
                        activation_min, activation_max);
}

// ---------------------------------------------------------------------------------------
// Edge inputs.

// INT32_MIN, INT32_MAX, 0 and +-2^i + {-2, -1, 0, 1, 2} for i in 0..31, kept within int32.
std::vector<int32_t> EdgeValues() {
  std::vector<int64_t> wide{kInt32Min, kInt32Max, 0};
  for (int i = 0; i <= 31; ++i) {
    const int64_t power = int64_t{1} << i;
    for (int64_t delta = -2; delta <= 2; ++delta) {
      wide.push_back(power + delta);
      wide.push_back(-power + delta);
    }
  }
  std::vector<int32_t> values;
  for (const int64_t value : wide) {
    if (value >= kInt32Min && value <= kInt32Max) values.push_back(static_cast<int32_t>(value));
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// Both ends of [2^30, 2^31 - 1] and some in between: 3/2, 4/3 and sqrt(2) times 2^30, odd and
// even, so that products hit ties and all remainders.
const std::vector<int32_t>& EdgeMultipliers() {
  static const std::vector<int32_t> multipliers{
      kTwoTo30,      kTwoTo30 + 1,  kTwoTo30 + 2, kTwoTo30 + 3, 0x55555555,
      1518500250,    0x60000000,    0x60000001,   0x6A09E667,   0x7FFF0000,
      kInt32Max - 2, kInt32Max - 1, kInt32Max};
  return multipliers;
}

// Window sizes of real pools (k x k, 1-D, global) and the extremes.
const std::vector<int32_t>& EdgeCounts() {
  static const std::vector<int32_t> counts{
      1,   2,   3,   4,    5,    6,    7,     8,     9,        10,            12,
      15,  16,  20,  25,   36,   49,   64,    81,    100,      121,           144,
      169, 196, 225, 255,  256,  1000, 1024,  4096,  65535,    65536,         kTwoTo30,
      kInt32Max - 1, kInt32Max};
  return counts;
}

// Sums on both sides of every rounding boundary of `count`: q * count + r for remainders
// around count / 2 and at the ends, for small and for the largest quotients, with both signs.
std::vector<int32_t> RoundingBoundarySums(int32_t count) {
  const int64_t c = count;
  const int64_t largest_quotient = kInt32Max / c;
  std::vector<int32_t> sums;
  for (const int64_t quotient : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{3}, int64_t{127},
                                 int64_t{128}, int64_t{1000}, largest_quotient - 1,
                                 largest_quotient}) {
    for (const int64_t remainder : {int64_t{0}, int64_t{1}, c / 2 - 1, c / 2, c / 2 + 1,
                                    (c + 1) / 2, c - 1}) {
      if (quotient < 0 || remainder < 0 || remainder >= c) continue;
      const int64_t magnitude = quotient * c + remainder;
      if (magnitude > kInt32Max) continue;
      sums.push_back(static_cast<int32_t>(magnitude));
      sums.push_back(static_cast<int32_t>(-magnitude));
    }
  }
  return sums;
}

// ---------------------------------------------------------------------------------------
// Comparison with bounded reporting: counts every check, reports the first few mismatches
// only, so that a broken primitive cannot flood the log with millions of lines.

std::string ToString(Int128 value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  std::string digits;
  while (value != 0) {
    const Int128 digit = value % 10;  // in [-9, 0] for negative values
    digits.push_back(static_cast<char>('0' + static_cast<int>(negative ? -digit : digit)));
    value /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

class Checker {
 public:
  explicit Checker(const char* primitive) : primitive_(primitive) {}
  ~Checker() {
    std::printf("[  checks  ] %s: %lld checks, %lld mismatches\n", primitive_,
                static_cast<long long>(checks_), static_cast<long long>(mismatches_));
    EXPECT_EQ(mismatches_, 0) << primitive_;
  }
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  // `describe` names the inputs; it is called only on a mismatch.
  template <typename Describe>
  void Check(Int128 actual, Int128 exact, const Describe& describe) {
    ++checks_;
    if (actual == exact) return;
    if (++mismatches_ <= kMaxReported) {
      ADD_FAILURE() << primitive_ << "(" << describe() << ") = " << ToString(actual)
                    << ", exact " << ToString(exact);
    }
  }

  int64_t checks() const { return checks_; }

 private:
  static constexpr int64_t kMaxReported = 10;
  const char* primitive_;
  int64_t checks_ = 0;
  int64_t mismatches_ = 0;
};

std::string Args(std::initializer_list<int64_t> args) {
  std::string text;
  for (const int64_t arg : args) {
    if (!text.empty()) text += ", ";
    text += std::to_string(arg);
  }
  return text;
}

// Deterministic generator for the random sweeps (SplitMix64), so failures reproduce.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
  }
  // Any int32, with magnitudes spread over all bit lengths rather than mostly near 2^31.
  int32_t NextInt32() {
    const auto bits = static_cast<int32_t>(static_cast<uint32_t>(Next()));
    return bits >> (Next() % 32);
  }
  int32_t NextMultiplier() { return kTwoTo30 + static_cast<int32_t>(Next() % (1u << 30)); }
  int32_t NextShift() { return 1 + static_cast<int32_t>(Next() % 62); }
  int32_t NextCount() {
    const auto count = static_cast<int32_t>(Next() >> (33 + Next() % 31));
    return std::max(count, int32_t{1});  // in [1, 2^31 - 1]
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------
// MultiplyByQuantizedMultiplier

TEST(FixedPointTest, MultiplyMatchesExactReferenceOnEdgeValuesForEveryShift) {
  Checker checker("MultiplyByQuantizedMultiplier");
  int64_t ties = 0;
  int64_t exact = 0;
  for (const int32_t x : EdgeValues()) {
    for (const int32_t multiplier : EdgeMultipliers()) {
      for (int32_t shift = kShiftMin; shift <= kShiftMax; ++shift) {
        const ExactQuotient reference = ReferenceMultiply(x, multiplier, shift);
        ties += reference.tie ? 1 : 0;
        exact += reference.inexact ? 0 : 1;
        checker.Check(MultiplyByQuantizedMultiplier(x, multiplier, shift), reference.value,
                      [&] { return Args({x, multiplier, shift}); });
      }
    }
  }
  // 296 edge values x 13 multipliers x 62 shifts; the set must exercise ties and exact results.
  EXPECT_EQ(checker.checks(), 296 * 13 * 62);
  EXPECT_GT(ties, 0);
  EXPECT_GT(exact, 0);
}

TEST(FixedPointTest, MultiplyMatchesExactReferenceOnRandomInputs) {
  Checker checker("MultiplyByQuantizedMultiplier (random)");
  SplitMix64 random(0x1D7E6A8);
  for (int i = 0; i < (1 << 20); ++i) {
    const int32_t x = random.NextInt32();
    const int32_t multiplier = random.NextMultiplier();
    const int32_t shift = random.NextShift();
    checker.Check(MultiplyByQuantizedMultiplier(x, multiplier, shift),
                  ReferenceMultiply(x, multiplier, shift).value,
                  [&] { return Args({x, multiplier, shift}); });
  }
}

TEST(FixedPointTest, MultiplyHandComputedValues) {
  // m = 2^30 with n = 31 is M = 1/2; ties go toward +infinity.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, kTwoTo30, 31), 1);    // 0.5 -> 1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-1, kTwoTo30, 31), 0);   // -0.5 -> 0
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, kTwoTo30, 31), 2);    // 1.5 -> 2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-3, kTwoTo30, 31), -1);  // -1.5 -> -1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-5, kTwoTo30, 31), -2);  // -2.5 -> -2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(4, kTwoTo30, 31), 2);    // 2 exactly
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-4, kTwoTo30, 31), -2);  // -2 exactly
  // M = 1/4: non-ties round to nearest.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(5, kTwoTo30, 32), 1);    // 1.25 -> 1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-5, kTwoTo30, 32), -1);  // -1.25 -> -1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(7, kTwoTo30, 32), 2);    // 1.75 -> 2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-7, kTwoTo30, 32), -2);  // -1.75 -> -2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, kTwoTo30, 32), 0);    // 0.25 -> 0
  // Just off a tie by 2^-31 or 2^-32.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-1, kTwoTo30 + 1, 31), -1);  // -0.5 - 2^-31 -> -1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, kTwoTo30 + 1, 31), 1);    // 0.5 + 2^-31 -> 1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, kInt32Max, 32), 0);       // 0.5 - 2^-32 -> 0
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-1, kInt32Max, 32), 0);      // -0.5 + 2^-32 -> 0
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, kInt32Max, 31), 1);       // 1 - 2^-31 -> 1
  // Extremes of the int64 result: n = 1 with |x|, m near 2^31.
  // (2^31 - 1)^2 / 2 = 2^61 - 2^31 + 1/2 -> 2^61 - 2^31 + 1.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Max, kInt32Max, 1),
            (int64_t{1} << 61) - (int64_t{1} << 31) + 1);
  // -2^31 (2^31 - 1) / 2 = -2^61 + 2^30 exactly.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Min, kInt32Max, 1),
            -(int64_t{1} << 61) + (int64_t{1} << 30));
  // -2^31 * 2^30 / 2 = -2^60 exactly.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Min, kTwoTo30, 1), -(int64_t{1} << 60));
  // n = 62, where the rounding term is 2^61 (the largest addend).
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Min, kTwoTo30, 62), 0);  // -2^61/2^62 = -0.5 -> 0
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Min, kTwoTo30, 61), -1);  // -1 exactly
  // (2^62 - 2^32 + 1) / 2^62 = 1 - 2^-30 + 2^-62 -> 1.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Max, kInt32Max, 62), 1);
  // -2^31 (2^31 - 1) / 2^62 = -1 + 2^-31 -> -1.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kInt32Min, kInt32Max, 62), -1);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(0, kInt32Max, 1), 0);
  // M = 0.75 (m = 3 * 2^29, n = 31): 170 * 0.75 = 127.5 -> 128; -127.5 -> -127.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(170, 0x60000000, 31), 128);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-170, 0x60000000, 31), -127);
}

// ---------------------------------------------------------------------------------------
// Clamp

TEST(FixedPointTest, ClampMatchesExactReferenceOnEdgeValues) {
  const std::vector<int32_t> bounds{kInt32Min, kInt32Min + 1, -129, -128, -127, -1, 0,
                                    1,         6,             126,  127,  128,  kInt32Max - 1,
                                    kInt32Max};
  std::vector<int64_t> values{kInt64Min,
                              kInt64Min + 1,
                              -(int64_t{1} << 62),
                              int64_t{kInt32Min} - 2,
                              int64_t{kInt32Min} - 1,
                              int64_t{kInt32Max} + 1,
                              int64_t{kInt32Max} + 2,
                              int64_t{1} << 62,
                              kInt64Max - 1,
                              kInt64Max};
  for (const int32_t value : EdgeValues()) values.push_back(value);
  for (const int32_t bound : bounds) {
    for (int64_t delta = -1; delta <= 1; ++delta) values.push_back(bound + delta);
  }
  Checker checker("Clamp");
  for (const int32_t low : bounds) {
    for (const int32_t high : bounds) {
      if (low > high) continue;
      for (const int64_t value : values) {
        checker.Check(Clamp(value, low, high), ReferenceClamp(value, low, high),
                      [&] { return Args({value, low, high}); });
      }
    }
  }
}

TEST(FixedPointTest, ClampHandComputedValues) {
  EXPECT_EQ(Clamp(128, -128, 127), 127);
  EXPECT_EQ(Clamp(-129, -128, 127), -128);
  EXPECT_EQ(Clamp(127, -128, 127), 127);
  EXPECT_EQ(Clamp(-128, -128, 127), -128);
  EXPECT_EQ(Clamp(-1, 0, 127), 0);  // ReLU with z = 0
  EXPECT_EQ(Clamp(42, 5, 5), 5);    // low == high
  // Narrowing happens only after clamping: 2^32 + 5 must not wrap to 5.
  EXPECT_EQ(Clamp((int64_t{1} << 32) + 5, -128, 127), 127);
  EXPECT_EQ(Clamp(-(int64_t{1} << 32) + 5, -128, 127), -128);
  EXPECT_EQ(Clamp(kInt64Max, kInt32Min, kInt32Max), kInt32Max);
  EXPECT_EQ(Clamp(kInt64Min, kInt32Min, kInt32Max), kInt32Min);
}

// ---------------------------------------------------------------------------------------
// Requantize

TEST(FixedPointTest, RequantizeMatchesExactReferenceOnEdgeValues) {
  struct Range {
    int32_t low;
    int32_t high;
  };
  Checker checker("Requantize");
  for (const int32_t zero_point : {-128, 0, 127}) {
    // No activation, ReLU, a ReLU6-like cap, a single point, and int32-wide bounds that
    // expose pre-clamp values beyond int32.
    const int32_t relu_min = std::max(-128, zero_point);
    const std::vector<Range> ranges{{-128, 127},
                                    {relu_min, 127},
                                    {relu_min, std::min(127, zero_point + 48)},
                                    {relu_min, relu_min},
                                    {kInt32Min, kInt32Max}};
    for (const Range& range : ranges) {
      for (const int32_t acc : EdgeValues()) {
        for (const int32_t multiplier : EdgeMultipliers()) {
          for (int32_t shift = kShiftMin; shift <= kShiftMax; ++shift) {
            checker.Check(
                Requantize(acc, multiplier, shift, zero_point, range.low, range.high),
                ReferenceRequantize(acc, multiplier, shift, zero_point, range.low, range.high),
                [&] {
                  return Args({acc, multiplier, shift, zero_point, range.low, range.high});
                });
          }
        }
      }
    }
  }
  EXPECT_EQ(checker.checks(), 3 * 5 * 296 * 13 * 62);
}

TEST(FixedPointTest, RequantizeHandComputedValues) {
  // Pre-clamp values far beyond int32: (2^31 - 1)^2 / 2 ~ 2^61 and -2^61 + 2^30.
  EXPECT_EQ(Requantize(kInt32Max, kInt32Max, 1, -128, -128, 127), 127);
  EXPECT_EQ(Requantize(kInt32Max, kInt32Max, 1, 127, -128, 127), 127);
  EXPECT_EQ(Requantize(kInt32Min, kInt32Max, 1, 127, -128, 127), -128);
  EXPECT_EQ(Requantize(kInt32Min, kInt32Max, 1, -128, -128, 127), -128);
  EXPECT_EQ(Requantize(kInt32Max, kInt32Max, 1, 0, kInt32Min, kInt32Max), kInt32Max);
  EXPECT_EQ(Requantize(kInt32Min, kInt32Max, 1, 0, kInt32Min, kInt32Max), kInt32Min);
  // Pre-clamp values that would wrap into range if narrowed to int32 before the clamp:
  // 2^30 * 2^30 / 2^28 = 2^32, so +-2^32 + 5 would become 5.
  EXPECT_EQ(Requantize(kTwoTo30, kTwoTo30, 28, 5, -128, 127), 127);
  EXPECT_EQ(Requantize(-kTwoTo30, kTwoTo30, 28, 5, -128, 127), -128);
  // (2^31 - 1) * 2^30 / 2^30 = 2^31 - 1, + 127 would wrap negative.
  EXPECT_EQ(Requantize(kInt32Max, kTwoTo30, 30, 127, -128, 127), 127);
  // M = 1/2, z = 127: 0.5 -> 1 -> 128 -> 127; -0.5 -> 0 -> 127; -1.5 -> -1 -> 126.
  EXPECT_EQ(Requantize(1, kTwoTo30, 31, 127, -128, 127), 127);
  EXPECT_EQ(Requantize(-1, kTwoTo30, 31, 127, -128, 127), 127);
  EXPECT_EQ(Requantize(-3, kTwoTo30, 31, 127, -128, 127), 126);
  // M = 1/2, z = -128: -0.5 -> 0 -> -128; -1.5 -> -1 -> -129 -> -128; 1.5 -> 2 -> -126.
  EXPECT_EQ(Requantize(-1, kTwoTo30, 31, -128, -128, 127), -128);
  EXPECT_EQ(Requantize(-3, kTwoTo30, 31, -128, -128, 127), -128);
  EXPECT_EQ(Requantize(3, kTwoTo30, 31, -128, -128, 127), -126);
  // ReLU with z = 0 is [0, 127]: -0.5 -> 0; -1.5 -> -1 -> 0; 0.5 -> 1.
  EXPECT_EQ(Requantize(-1, kTwoTo30, 31, 0, 0, 127), 0);
  EXPECT_EQ(Requantize(-3, kTwoTo30, 31, 0, 0, 127), 0);
  EXPECT_EQ(Requantize(1, kTwoTo30, 31, 0, 0, 127), 1);
  // ReLU6-like cap [0, 100]: 100.5 -> 101 -> 100; 99.5 -> 100; 98.5 -> 99.
  EXPECT_EQ(Requantize(201, kTwoTo30, 31, 0, 0, 100), 100);
  EXPECT_EQ(Requantize(199, kTwoTo30, 31, 0, 0, 100), 100);
  EXPECT_EQ(Requantize(197, kTwoTo30, 31, 0, 0, 100), 99);
  // M = 0.75, z = 0: 127.5 -> 128 -> 127; -127.5 -> -127; -128.25 -> -128; -129.75 -> -130
  // -> -128.
  EXPECT_EQ(Requantize(170, 0x60000000, 31, 0, -128, 127), 127);
  EXPECT_EQ(Requantize(-170, 0x60000000, 31, 0, -128, 127), -127);
  EXPECT_EQ(Requantize(-171, 0x60000000, 31, 0, -128, 127), -128);
  EXPECT_EQ(Requantize(-173, 0x60000000, 31, 0, -128, 127), -128);
  // M = 0.75, z = 5: 10 * 0.75 = 7.5 -> 8 -> 13.
  EXPECT_EQ(Requantize(10, 0x60000000, 31, 5, -128, 127), 13);
}

// ---------------------------------------------------------------------------------------
// RoundingDivide

TEST(FixedPointTest, RoundingDivideMatchesExactReferenceOnEdgeValues) {
  Checker checker("RoundingDivide");
  int64_t ties = 0;
  const std::vector<int32_t> edge_sums = EdgeValues();
  for (const int32_t count : EdgeCounts()) {
    std::vector<int32_t> sums = RoundingBoundarySums(count);
    sums.insert(sums.end(), edge_sums.begin(), edge_sums.end());
    std::sort(sums.begin(), sums.end());
    sums.erase(std::unique(sums.begin(), sums.end()), sums.end());
    for (const int32_t sum : sums) {
      const ExactQuotient reference = ReferenceRoundingDivide(sum, count);
      ties += reference.tie ? 1 : 0;
      checker.Check(RoundingDivide(sum, count), reference.value,
                    [&] { return Args({sum, count}); });
    }
  }
  EXPECT_GT(ties, 0);
}

TEST(FixedPointTest, RoundingDivideMatchesExactReferenceOnRandomInputs) {
  Checker checker("RoundingDivide (random)");
  SplitMix64 random(0xD1F1DE);
  for (int i = 0; i < (1 << 20); ++i) {
    const int32_t sum = random.NextInt32();
    const int32_t count = random.NextCount();
    checker.Check(RoundingDivide(sum, count), ReferenceRoundingDivide(sum, count).value,
                  [&] { return Args({sum, count}); });
  }
}

TEST(FixedPointTest, RoundingDivideHandComputedValues) {
  // Ties go away from zero.
  EXPECT_EQ(RoundingDivide(5, 2), 3);    // 2.5 -> 3
  EXPECT_EQ(RoundingDivide(-5, 2), -3);  // -2.5 -> -3
  EXPECT_EQ(RoundingDivide(1, 2), 1);    // 0.5 -> 1
  EXPECT_EQ(RoundingDivide(-1, 2), -1);  // -0.5 -> -1
  EXPECT_EQ(RoundingDivide(7, 2), 4);    // 3.5 -> 4
  EXPECT_EQ(RoundingDivide(-7, 2), -4);  // -3.5 -> -4
  EXPECT_EQ(RoundingDivide(6, 4), 2);    // 1.5 -> 2
  EXPECT_EQ(RoundingDivide(-6, 4), -2);  // -1.5 -> -2
  // Non-ties round to nearest.
  EXPECT_EQ(RoundingDivide(7, 3), 2);    // 2.33 -> 2
  EXPECT_EQ(RoundingDivide(8, 3), 3);    // 2.67 -> 3
  EXPECT_EQ(RoundingDivide(-8, 3), -3);  // -2.67 -> -3
  EXPECT_EQ(RoundingDivide(-7, 3), -2);  // -2.33 -> -2
  EXPECT_EQ(RoundingDivide(0, 9), 0);
  // 5x5 window: 12/25 = 0.48 -> 0; 13/25 = 0.52 -> 1; all-127 -> 127; -3188/25 = -127.52 -> -128.
  EXPECT_EQ(RoundingDivide(12, 25), 0);
  EXPECT_EQ(RoundingDivide(13, 25), 1);
  EXPECT_EQ(RoundingDivide(-13, 25), -1);
  EXPECT_EQ(RoundingDivide(127 * 25, 25), 127);
  EXPECT_EQ(RoundingDivide(-3188, 25), -128);
  // Extremes: no overflow when biasing sums near INT32_MIN/MAX.
  EXPECT_EQ(RoundingDivide(kInt32Min, 1), kInt32Min);
  EXPECT_EQ(RoundingDivide(kInt32Max, 1), kInt32Max);
  EXPECT_EQ(RoundingDivide(kInt32Max, 2), kTwoTo30);       // 2^30 - 0.5 -> 2^30
  EXPECT_EQ(RoundingDivide(kInt32Min, 2), -kTwoTo30);      // -2^30 exactly
  EXPECT_EQ(RoundingDivide(kInt32Min + 1, 2), -kTwoTo30);  // -2^30 + 0.5 -> -2^30
  EXPECT_EQ(RoundingDivide(kInt32Max, kInt32Max), 1);
  EXPECT_EQ(RoundingDivide(kInt32Min, kInt32Max), -1);  // -1 - 2^-31 -> -1
  // 2^30 / (2^31 - 1) is just above 1/2 -> 1; (2^30 - 1) / (2^31 - 1) just below -> 0.
  EXPECT_EQ(RoundingDivide(kTwoTo30, kInt32Max), 1);
  EXPECT_EQ(RoundingDivide(-kTwoTo30, kInt32Max), -1);
  EXPECT_EQ(RoundingDivide(kTwoTo30 - 1, kInt32Max), 0);
  EXPECT_EQ(RoundingDivide(-(kTwoTo30 - 1), kInt32Max), 0);
  EXPECT_EQ(RoundingDivide(32767, 65535), 0);  // 0.49999 -> 0
  EXPECT_EQ(RoundingDivide(32768, 65535), 1);  // 0.50001 -> 1
}

// ---------------------------------------------------------------------------------------
// IsValidMultiplier, IsValidShift

TEST(FixedPointTest, IsValidMultiplierMatchesSpecRange) {
  Checker checker("IsValidMultiplier");
  std::vector<int32_t> multipliers = EdgeValues();
  for (int32_t delta = -1000; delta <= 1000; ++delta) multipliers.push_back(kTwoTo30 + delta);
  for (int32_t delta = 0; delta <= 1000; ++delta) multipliers.push_back(kInt32Max - delta);
  for (const int32_t multiplier : multipliers) {
    const Int128 wide = multiplier;
    const bool legal = wide >= (Int128{1} << 30) && wide <= (Int128{1} << 31) - 1;
    checker.Check(IsValidMultiplier(multiplier) ? 1 : 0, legal ? 1 : 0,
                  [&] { return Args({multiplier}); });
  }
}

TEST(FixedPointTest, IsValidShiftMatchesSpecRange) {
  Checker checker("IsValidShift");
  std::vector<int32_t> shifts = EdgeValues();
  for (int32_t shift = -1000; shift <= 1000; ++shift) shifts.push_back(shift);
  for (const int32_t shift : shifts) {
    // n in [1, 62] as one unsigned comparison: n - 1 in [0, 62).
    const bool legal = static_cast<uint64_t>(int64_t{shift} - 1) < 62u;
    checker.Check(IsValidShift(shift) ? 1 : 0, legal ? 1 : 0, [&] { return Args({shift}); });
  }
}

}  // namespace
}  // namespace integr8
