// Tests of the host-side conversion M -> (m, n) (docs/spec.md, section 2.1). The reference
// here does not use frexp: it reads M's bits as F * 2^E and searches for the largest shift n
// in [1, 62] for which floor(M * 2^n + 1/2), computed exactly in 128-bit integers, lands in
// [2^30, 2^31 - 1]. The normative frexp algorithm yields exactly that n (one more would put
// m at 2^31 or above), so the two must agree bit for bit.
#include "integr8/host/quantize_multiplier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "integr8/fixedpoint.h"

namespace integr8 {
namespace host {
namespace {

__extension__ typedef __int128 Int128;

constexpr int32_t kTwoTo30 = int32_t{1} << 30;
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();

static_assert(noexcept(QuantizeMultiplier(1.0)), "usable with -fno-exceptions");
static_assert(!QuantizeMultiplierResult{}.ok(), "a default result is an error");

Int128 Abs(Int128 value) { return value < 0 ? -value : value; }

// A positive finite double's exact value F * 2^E, read from its bits (independent of frexp).
struct Decomposed {
  int64_t significand;  // F, below 2^53
  int32_t exponent;     // E
};

Decomposed Decompose(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  const auto biased_exponent = static_cast<int32_t>((bits >> 52) & 0x7FF);
  const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
  if (biased_exponent == 0) return {static_cast<int64_t>(fraction), -1074};  // subnormal
  return {static_cast<int64_t>(fraction | (uint64_t{1} << 52)), biased_exponent - 1075};
}

// floor(M * 2^shift + 1/2) for a positive finite M, exactly.
Int128 RoundHalfUpScaled(double real, int32_t shift) {
  const Decomposed d = Decompose(real);
  const int32_t exponent = d.exponent + shift;  // M * 2^shift = F * 2^exponent
  if (exponent >= 0) {
    return exponent > 60 ? (Int128{1} << 120) : Int128{d.significand} << exponent;
  }
  if (exponent < -100) return 0;  // below 2^53 * 2^-101: rounds to 0
  const Int128 denominator = Int128{1} << -exponent;
  Int128 quotient = d.significand / denominator;
  const Int128 remainder = d.significand % denominator;
  if (2 * remainder >= denominator) quotient += 1;
  return quotient;
}

struct Reference {
  bool ok;
  QuantizedMultiplier value;
};

// The spec's acceptance set, by search: M in [2^-31, 2^30) and the largest n in [1, 62] (the
// most precise) with floor(M * 2^n + 1/2) in [2^30, 2^31 - 1]. Largest, because n is not
// always unique: M = (2^31 - 1) * 2^-61 gives 2^31 - 1 at n = 61 (exact) and also, from
// 2^30 - 1/2 rounded up, 2^30 at n = 60.
Reference ReferenceQuantize(double real) {
  if (!(real >= 0x1p-31 && real < 0x1p30)) return {false, {}};  // also NaN and Inf
  for (int32_t shift = 62; shift >= 1; --shift) {
    const Int128 multiplier = RoundHalfUpScaled(real, shift);
    if (multiplier >= kTwoTo30 && multiplier <= kInt32Max) {
      return {true, {static_cast<int32_t>(multiplier), shift}};
    }
  }
  return {false, {}};
}

// |m * 2^-n - M| <= 2^-31 * M, decided exactly on a common exponent.
bool WithinRelativeError(QuantizedMultiplier q, double real) {
  const Decomposed d = Decompose(real);
  const int32_t common = std::min(-q.shift, d.exponent);
  const Int128 represented = Int128{q.multiplier} << (-q.shift - common);
  const Int128 exact = Int128{d.significand} << (d.exponent - common);
  // x * 2^31 <= exact  <=>  x <= floor(exact / 2^31) for an integer x.
  return Abs(represented - exact) <= (exact >> 31);
}

// |y - x * M| <= 1/2 + |x| * M * 2^-31 (device rounding plus representation error), exactly.
bool WithinRoundTripBound(int64_t y, int32_t x, double real) {
  const Decomposed d = Decompose(real);
  const int32_t down = -d.exponent;  // x * M = t / 2^down; every accepted M is below 2^30
  if (down < 1 || down > 100) return false;
  const Int128 t = Int128{x} * d.significand;
  // A loose bound first, so that a wildly wrong y cannot overflow the exact test below.
  if (Abs(y) > 2 * (Abs(t) >> down) + 2) return false;
  // Multiply the bound by 2^(down + 31): |y * 2^down - t| * 2^31 <= 2^(down + 30) + |t|.
  const Int128 lhs = Abs(Int128{y} * (Int128{1} << down) - t) * (Int128{1} << 31);
  const Int128 rhs = (Int128{1} << (down + 30)) + Abs(t);
  return lhs <= rhs;
}

void ExpectQuantized(double real, int32_t multiplier, int32_t shift) {
  const QuantizeMultiplierResult result = QuantizeMultiplier(real);
  EXPECT_EQ(result.status, Status::kOk) << real;
  EXPECT_EQ(result.value.multiplier, multiplier) << real;
  EXPECT_EQ(result.value.shift, shift) << real;
}

void ExpectRejected(double real) {
  const QuantizeMultiplierResult result = QuantizeMultiplier(real);
  EXPECT_FALSE(result.ok()) << real;
  EXPECT_EQ(result.status, Status::kBadMultiplier) << real;
  EXPECT_EQ(result.value.multiplier, 0) << real;  // never a usable pair on failure
  EXPECT_EQ(result.value.shift, 0) << real;
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

TEST(QuantizeMultiplierTest, ExactPowersOfTwo) {
  ExpectQuantized(0.5, kTwoTo30, 31);        // 0.5 * 2^0: m = 2^30, n = 31 - 0
  ExpectQuantized(1.0, kTwoTo30, 30);        // 0.5 * 2^1
  ExpectQuantized(0.25, kTwoTo30, 32);       // 0.5 * 2^-1
  ExpectQuantized(0x1p-31, kTwoTo30, 61);    // 0.5 * 2^-30, the smallest legal M
  ExpectQuantized(0x1p29, kTwoTo30, 1);      // 0.5 * 2^30, the largest legal power of two
}

TEST(QuantizeMultiplierTest, RangeEnds) {
  ExpectRejected(std::nextafter(0x1p-31, 0.0));  // just below 2^-31
  ExpectRejected(0x1p-32);
  ExpectRejected(0x1p30);
  ExpectRejected(0x1p40);
  // 2^30 - 1 = (1 - 2^-30) * 2^30: m = 2^31 - 2, n = 1.
  ExpectQuantized(0x1p30 - 1.0, kInt32Max - 1, 1);
  // The largest accepted M: f * 2^31 = 2^31 - 1/2 - 2^-22 rounds to 2^31 - 1 with n = 1.
  ExpectQuantized(std::nextafter(0x1p30 - 0.25, 0.0), kInt32Max, 1);
  // [2^30 - 1/4, 2^30): f * 2^31 + 1/2 reaches 2^31, so m = 2^30 with n = 31 - 31 = 0,
  // not a legal shift: rejected although below 2^30 (the value rounds to 2^30 itself).
  ExpectRejected(0x1p30 - 0.25);
  ExpectRejected(std::nextafter(0x1p30, 0.0));
}

TEST(QuantizeMultiplierTest, RejectsNonFiniteZeroAndNegative) {
  ExpectRejected(std::numeric_limits<double>::quiet_NaN());
  ExpectRejected(-std::numeric_limits<double>::quiet_NaN());
  ExpectRejected(std::numeric_limits<double>::infinity());
  ExpectRejected(-std::numeric_limits<double>::infinity());
  ExpectRejected(0.0);
  ExpectRejected(-0.0);
  ExpectRejected(-0.5);
  ExpectRejected(-0x1p-31);
  ExpectRejected(std::numeric_limits<double>::denorm_min());
  ExpectRejected(std::numeric_limits<double>::min());
  ExpectRejected(std::numeric_limits<double>::max());
  ExpectRejected(std::numeric_limits<double>::lowest());
}

TEST(QuantizeMultiplierTest, RoundsHalfUpAndRenormalizesAt2To31) {
  // f = 1 - 2^-32: f * 2^31 = 2^31 - 1/2 -> 2^31, renormalised to m = 2^30, e = 1, n = 30;
  // m * 2^-n = 1 is the nearest representable value.
  ExpectQuantized(1.0 - 0x1p-32, kTwoTo30, 30);
  // One ulp lower: 2^31 - 1/2 - 2^-22 -> 2^31 - 1, n = 31.
  ExpectQuantized(std::nextafter(1.0 - 0x1p-32, 0.0), kInt32Max, 31);
  // The same at another exponent: (1 - 2^-32) * 2^-20 -> 2^30, n = 50.
  ExpectQuantized((1.0 - 0x1p-32) * 0x1p-20, kTwoTo30, 50);
  // f = 1/2 + 2^-32: f * 2^31 = 2^30 + 1/2, a tie -> 2^30 + 1 (round-half-even would give
  // 2^30, so this pins the rounding mode); 2^30 + 3/2 -> 2^30 + 2 either way.
  ExpectQuantized(0.5 + 0x1p-32, kTwoTo30 + 1, 31);
  ExpectQuantized(0.5 + 3 * 0x1p-32, kTwoTo30 + 2, 31);
  // Just either side of that tie.
  ExpectQuantized(std::nextafter(0.5 + 0x1p-32, 0.0), kTwoTo30, 31);
  ExpectQuantized(std::nextafter(0.5 + 0x1p-32, 1.0), kTwoTo30 + 1, 31);
  // (2^31 - 1) * 2^-61 is exact with n = 61; (2^30, 60) also rounds from it but is coarser.
  ExpectQuantized(0x1.fffffffcp-31, kInt32Max, 61);
}

TEST(QuantizeMultiplierTest, MatchesExporterGoldenValues) {
  // From the exporter's formula in Python: frexp, floor(ldexp(f, 31) + 0.5), n = 31 - e.
  ExpectQuantized(0.1, 1717986918, 34);   // 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4
  ExpectQuantized(1.0 / 3.0, 1431655765, 32);
  ExpectQuantized(0.75, 1610612736, 31);  // 3 * 2^29 exactly
  ExpectQuantized(1.5 * 0x1p-31, 1610612736, 61);
  ExpectQuantized(1e-9, 1152921505, 60);
  ExpectQuantized(0.0123, 1690499128, 37);
  ExpectQuantized(1234.5678, 1294538165, 20);
}

// Fractions f in [0.5, 1) at and around every rounding boundary of f * 2^31, plus random ones.
std::vector<double> SampleFractions() {
  std::vector<double> fractions{0.5,
                                0.5 + 0x1p-53,
                                0.5 + 0x1p-33,
                                0.5 + 0x1p-32,
                                std::nextafter(0.5 + 0x1p-32, 0.0),
                                0.5 + 3 * 0x1p-33,
                                0.5 + 3 * 0x1p-32,
                                0.75,
                                0.75 + 0x1p-32,
                                1.0 / std::sqrt(2.0),
                                1.0 - 0x1p-31,
                                1.0 - 0x1p-32,
                                std::nextafter(1.0 - 0x1p-32, 0.0),
                                std::nextafter(1.0 - 0x1p-32, 1.0),
                                1.0 - 0x1p-33,
                                1.0 - 0x1p-53};
  SplitMix64 random(0x5CA1E);
  for (int i = 0; i < 400; ++i) {
    const uint64_t significand = (uint64_t{1} << 52) | (random.Next() >> 12);  // [2^52, 2^53)
    fractions.push_back(std::ldexp(static_cast<double>(significand), -53));
    // A tie of f * 2^31 at a random place: f = (2k + 1) * 2^-32.
    const uint64_t odd = (uint64_t{1} << 31) | (random.Next() >> 33) | 1;  // in [2^31, 2^32)
    fractions.push_back(std::ldexp(static_cast<double>(odd), -32));
  }
  return fractions;
}

TEST(QuantizeMultiplierTest, MatchesSearchReferenceAndErrorBoundOnManyValues) {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t failures = 0;
  std::vector<double> values;
  for (const double fraction : SampleFractions()) {
    for (int exponent = -40; exponent <= 40; ++exponent) {
      values.push_back(std::ldexp(fraction, exponent));
    }
  }
  // Arbitrary bit patterns too: NaNs, infinities, subnormals, negatives, huge and tiny.
  SplitMix64 random(0xB17B17);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t bits = random.Next();
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    values.push_back(value);
  }
  for (const double value : values) {
    const QuantizeMultiplierResult result = QuantizeMultiplier(value);
    const Reference reference = ReferenceQuantize(value);
    bool good = result.ok() == reference.ok;
    if (reference.ok) {
      ++accepted;
      good = good && result.value.multiplier == reference.value.multiplier &&
             result.value.shift == reference.value.shift &&
             IsValidMultiplier(result.value.multiplier) && IsValidShift(result.value.shift) &&
             WithinRelativeError(result.value, value);
    } else {
      ++rejected;
      good = good && result.status == Status::kBadMultiplier && result.value.multiplier == 0 &&
             result.value.shift == 0;
    }
    if (!good && ++failures <= 10) {
      ADD_FAILURE() << std::hexfloat << value << std::defaultfloat << ": got ok=" << result.ok()
                    << " (" << result.value.multiplier << ", " << result.value.shift
                    << "), reference ok=" << reference.ok << " ("
                    << reference.value.multiplier << ", " << reference.value.shift << ")";
    }
  }
  std::printf("[  checks  ] QuantizeMultiplier: %lld values (%lld accepted, %lld rejected)\n",
              static_cast<long long>(values.size()), static_cast<long long>(accepted),
              static_cast<long long>(rejected));
  EXPECT_EQ(failures, 0);
  EXPECT_GT(accepted, 30000);
  EXPECT_GT(rejected, 100000);
}

TEST(QuantizeMultiplierTest, RoundTripThroughMultiplyByQuantizedMultiplier) {
  std::vector<int32_t> inputs{kInt32Min, -(1 << 20) - 1, -12345, -128, -1, 0,
                              1,         127,             255 << 20, kInt32Max};
  SplitMix64 random(0x7217);
  for (int i = 0; i < 20; ++i) {
    inputs.push_back(static_cast<int32_t>(static_cast<uint32_t>(random.Next())));
  }
  int64_t checks = 0;
  int64_t failures = 0;
  for (const double fraction : SampleFractions()) {
    for (int exponent = -30; exponent <= 30; ++exponent) {
      const double real = std::ldexp(fraction, exponent);
      const QuantizeMultiplierResult result = QuantizeMultiplier(real);
      if (!result.ok()) continue;  // only the top of [2^30 - 1/4, 2^30) is rejected here
      for (const int32_t x : inputs) {
        ++checks;
        const int64_t y =
            MultiplyByQuantizedMultiplier(x, result.value.multiplier, result.value.shift);
        if (!WithinRoundTripBound(y, x, real) && ++failures <= 10) {
          ADD_FAILURE() << "x = " << x << ", M = " << std::hexfloat << real << std::defaultfloat
                        << " -> (" << result.value.multiplier << ", " << result.value.shift
                        << "): y = " << y;
        }
      }
    }
  }
  std::printf("[  checks  ] round trip: %lld (x, M) pairs\n", static_cast<long long>(checks));
  EXPECT_EQ(failures, 0);
  EXPECT_GT(checks, 500000);
}

}  // namespace
}  // namespace host
}  // namespace integr8
