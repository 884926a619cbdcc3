// Arm DSP backend: Linear and Conv2d on the Cortex-M4/M7 dual 16-bit multiply-accumulate
// (SMLAD), and MaxPool2d on the byte-wise SIMD compare (SSUB8, SEL), bit-exact with the
// portable kernels.
//
// Selected by integr8/backend/select.h when the target has the DSP extension
// (__ARM_FEATURE_DSP, e.g. -mcpu=cortex-m4 or cortex-m7). The same code compiles everywhere:
// without the extension the instructions it uses (SXTB16, SXTB16 with ROR #8, SMLAD, SMMLA,
// SSAT, SSUB8 with SEL) are spelled as plain integer C++ with their exact architectural
// results, which is how the host test suite checks the blocking, the tails, the byte order
// and the requantization of this backend against the portable kernels; the target build then
// differs only in those functions and in the MAC step of Linear and Conv2d (one asm statement
// per block shape, the same sums from the same words as its C++ twin), which the QEMU firmware
// tests cover.
//
// Contract: the portable kernels' arguments, Status codes and output bytes. The same
// Validate* function runs first through INTEGR8_CHECK, so on error nothing is written.
// Linear and Conv2d additionally take caller scratch of LinearScratchBytes(params) and
// Conv2dScratchBytes(params) bytes (their activations expanded to 16 bits: Linear's rows, one
// or two at a time, Conv2d's im2col patches of two output positions and a per-channel
// requantization table; CMSIS-NN's convention of caller-owned scratch with a size query) and
// return kArenaTooSmall if it is missing or short. The scratch needs no alignment.
//
// How the MACs are formed: a 32-bit load brings four int8 values b0..b3; SXTB16 sign-extends
// the even bytes into two 16-bit lanes (b0, b2), and SXTB16 of the word rotated by 8 the odd
// bytes (b1, b3). Applying the same split to activations and weights pairs lanes correctly,
// and SMLAD adds both lane products to the accumulator: two SMLADs per four MACs. The
// activations are expanded once into scratch and reused by every output channel, so only
// weight words are extended in the inner loop. A block of two activation rows (two im2col
// patches, or two batches) by two weight rows shares each extended weight word between the
// two rows; a single Linear row (one batch) runs by four weight rows, which share each of its
// words (see "Patches" below).
//
// Why nothing overflows: every value SMLAD adds is a partial sum of the channel's K products,
// plus its bias or not (the four-row loop starts at zero and adds its sums to the biases
// after), and ValidateAccumulatorBound established |bias| + K * 128 * 127 < 2^31, which bounds
// every such partial sum; the int32 result is the exact sum, whose order does not matter, so
// it equals the portable kernel's accumulator. Requantization is the portable Requantize, or
// an exact equivalent (see "Requantization by the high word").
#ifndef INTEGR8_BACKEND_ARM_DSP_H_
#define INTEGR8_BACKEND_ARM_DSP_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/types.h"

// The inner loops' helpers are forced inline: at -Os GCC would otherwise call them, with the
// accumulators they update by reference in memory. Undefined at the end of this header.
#if defined(__GNUC__)
#define INTEGR8_ARM_DSP_INLINE inline __attribute__((always_inline))
#else
#define INTEGR8_ARM_DSP_INLINE inline
#endif

namespace integr8::backend::arm_dsp {

namespace internal {

// Four int8 values, unaligned-safe; a single LDR on ARMv7-M.
INTEGR8_ARM_DSP_INLINE uint32_t LoadFour(const int8_t* values) {
  uint32_t word = 0;
  std::memcpy(&word, values, sizeof word);
  return word;
}

#if defined(__ARM_FEATURE_DSP)

INTEGR8_ARM_DSP_INLINE uint32_t SignExtendEvenBytes(uint32_t word) {
  return static_cast<uint32_t>(__sxtb16(static_cast<int8x4_t>(word)));
}

// SXTB16 with its built-in rotation; ACLE has no intrinsic for that form, and a separate
// rotate would cost one instruction per word.
INTEGR8_ARM_DSP_INLINE uint32_t SignExtendOddBytes(uint32_t word) {
  uint32_t lanes;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(lanes) : "r"(word));
  return lanes;
}

INTEGR8_ARM_DSP_INLINE int32_t DualMultiplyAccumulate(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad(static_cast<int16x2_t>(a), static_cast<int16x2_t>(b), acc);
}


// SMMLA: acc + the high word of the 64-bit product a * b (the product's floor / 2^32).
INTEGR8_ARM_DSP_INLINE int32_t MultiplyAccumulateHigh(int32_t a, int32_t b, int32_t acc) {
  int32_t result;
  __asm__("smmla %0, %1, %2, %3" : "=r"(result) : "r"(a), "r"(b), "r"(acc));
  return result;
}

// SSAT #8: value clamped to [-128, 127].
// (GCC's __ssat is typed unsigned, hence the instruction itself.)
INTEGR8_ARM_DSP_INLINE int32_t SaturateInt8(int32_t value) {
  int32_t result;
  __asm__("ssat %0, #8, %1" : "=r"(result) : "r"(value));
  return result;
}

// SMLABB: acc + a.bottom * b.bottom over signed 16-bit halves.
INTEGR8_ARM_DSP_INLINE int32_t MultiplyAccumulateBottoms(int32_t a, uint32_t b, int32_t acc) {
  int32_t result;
  __asm__("smlabb %0, %1, %2, %3" : "=r"(result) : "r"(a), "r"(b), "r"(acc));
  return result;
}

// SMLABT: acc + a.bottom * b.top over signed 16-bit halves.
INTEGR8_ARM_DSP_INLINE int32_t MultiplyAccumulateBottomTop(int32_t a, uint32_t b, int32_t acc) {
  int32_t result;
  __asm__("smlabt %0, %1, %2, %3" : "=r"(result) : "r"(a), "r"(b), "r"(acc));
  return result;
}

// SSUB8 then SEL: each byte lane of the result is the larger of a's and b's as int8.
// SSUB8 sets the APSR.GE bit of each lane where a - b >= 0 and SEL takes a's byte there; one
// asm statement, so that nothing else can set the GE bits in between.
INTEGR8_ARM_DSP_INLINE uint32_t MaxBytes(uint32_t a, uint32_t b) {
  uint32_t result;
  __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(result) : "r"(a), "r"(b) : "cc");
  return result;
}

// SSUB8 then SEL with the operands of SEL swapped: the smaller byte of each lane.
INTEGR8_ARM_DSP_INLINE uint32_t MinBytes(uint32_t a, uint32_t b) {
  uint32_t result;
  __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(result) : "r"(a), "r"(b) : "cc");
  return result;
}

#else

INTEGR8_ARM_DSP_INLINE uint32_t RotateRight8(uint32_t word) { return (word >> 8) | (word << 24); }

// SXTB16: bytes 0 and 2, each sign-extended to a 16-bit lane.
INTEGR8_ARM_DSP_INLINE uint32_t SignExtendEvenBytes(uint32_t word) {
  const auto lane = [](uint32_t byte) {
    return static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int8_t>(byte & 0xFFu)));
  };
  return lane(word) | (lane(word >> 16) << 16);
}

// SXTB16 with ROR #8: bytes 1 and 3.
INTEGR8_ARM_DSP_INLINE uint32_t SignExtendOddBytes(uint32_t word) {
  return SignExtendEvenBytes(RotateRight8(word));
}

// SMLAD: acc + a.low * b.low + a.high * b.high over signed 16-bit lanes.
INTEGR8_ARM_DSP_INLINE int32_t DualMultiplyAccumulate(uint32_t a, uint32_t b, int32_t acc) {
  const auto low = [](uint32_t word) { return int32_t{static_cast<int16_t>(word & 0xFFFFu)}; };
  const auto high = [](uint32_t word) { return int32_t{static_cast<int16_t>(word >> 16)}; };
  return acc + low(a) * low(b) + high(a) * high(b);
}


// SMMLA: the high word of acc * 2^32 + a * b, i.e. acc + floor(a * b / 2^32) modulo 2^32.
INTEGR8_ARM_DSP_INLINE int32_t MultiplyAccumulateHigh(int32_t a, int32_t b, int32_t acc) {
  const int64_t product = int64_t{a} * b;
  return static_cast<int32_t>(static_cast<uint32_t>(acc) +
                              static_cast<uint32_t>(static_cast<uint64_t>(product) >> 32));
}

// SSAT #8.
INTEGR8_ARM_DSP_INLINE int32_t SaturateInt8(int32_t value) {
  return value < -128 ? -128 : (value > 127 ? 127 : value);
}

// SMLABB: acc + a.bottom * b.bottom over signed 16-bit halves.
INTEGR8_ARM_DSP_INLINE int32_t MultiplyAccumulateBottoms(int32_t a, uint32_t b, int32_t acc) {
  return acc + int32_t{static_cast<int16_t>(static_cast<uint32_t>(a) & 0xFFFFu)} *
                   int32_t{static_cast<int16_t>(b & 0xFFFFu)};
}

// SMLABT: acc + a.bottom * b.top over signed 16-bit halves.
INTEGR8_ARM_DSP_INLINE int32_t MultiplyAccumulateBottomTop(int32_t a, uint32_t b, int32_t acc) {
  return acc + int32_t{static_cast<int16_t>(static_cast<uint32_t>(a) & 0xFFFFu)} *
                   int32_t{static_cast<int16_t>(b >> 16)};
}

// SSUB8 sets GE in each byte lane where the signed difference a - b is >= 0; SEL takes the
// first operand's byte where GE is set and the second's elsewhere.
INTEGR8_ARM_DSP_INLINE uint32_t SelectBytesWhereGreaterOrEqual(uint32_t a, uint32_t b,
                                                               uint32_t if_set,
                                                               uint32_t if_clear) {
  uint32_t result = 0;
  for (uint32_t lane = 0; lane < 32; lane += 8) {
    const int32_t a_lane = static_cast<int8_t>((a >> lane) & 0xFFu);
    const int32_t b_lane = static_cast<int8_t>((b >> lane) & 0xFFu);
    const uint32_t source = a_lane - b_lane >= 0 ? if_set : if_clear;
    result |= source & (0xFFu << lane);
  }
  return result;
}

// SSUB8, SEL: the larger int8 of each byte lane.
INTEGR8_ARM_DSP_INLINE uint32_t MaxBytes(uint32_t a, uint32_t b) {
  return SelectBytesWhereGreaterOrEqual(a, b, a, b);
}

// SSUB8, SEL with swapped operands: the smaller int8 of each byte lane.
INTEGR8_ARM_DSP_INLINE uint32_t MinBytes(uint32_t a, uint32_t b) {
  return SelectBytesWhereGreaterOrEqual(a, b, b, a);
}

#endif  // __ARM_FEATURE_DSP

// --- Requantization by the high word ------------------------------------------------------
//
// For a shift n in [33, 54] and the full int8 activation range, with s = n - 32 and the
// per-channel rounding term r = (2 z + 1) * 2^(s - 1),
//
//   SSAT8((r + floor(acc * m / 2^32)) >> s) == Requantize(acc, m, n, z, -128, 127)
//
// for every int32 acc and m in [2^30, 2^31 - 1]: SMMLA, ASR, SSAT instead of a 64-bit shift
// by a variable amount and two compares. Why: 2^(n-1) = 2^(s-1) * 2^32 is a multiple of 2^32,
// so floor((acc m + 2^(n-1)) / 2^n) = floor((floor(acc m / 2^32) + 2^(s-1)) / 2^s) (nested
// floors), and z added outside the floor equals z * 2^s added inside. SMMLA forms the sum
// modulo 2^32, which is exact because it fits int32: |floor(acc m / 2^32)| <= 2^30 and
// |r| <= 255 * 2^21 for s <= 22, so |sum| < 1.61e9 < 2^31. SSAT #8 is then the clamp.
// A channel whose shift or activation range falls outside takes the portable Requantize.
constexpr int32_t kHighWordShiftMin = 33;
constexpr int32_t kHighWordShiftMax = 54;

INTEGR8_ARM_DSP_INLINE bool IsHighWordShift(int32_t shift) {
  return shift >= kHighWordShiftMin && shift <= kHighWordShiftMax;
}

INTEGR8_ARM_DSP_INLINE bool HasFullInt8Range(const RequantizeParams& requantize) {
  return requantize.activation_min == -128 && requantize.activation_max == 127;
}

// Whether every channel of `requantize` (channels of them when per channel) qualifies.
inline bool CanRequantizeByHighWord(const RequantizeParams& requantize, int32_t channels) {
  if (!HasFullInt8Range(requantize)) return false;
  const int32_t count = requantize.per_channel ? channels : 1;
  for (int32_t channel = 0; channel < count; ++channel) {
    if (!IsHighWordShift(requantize.shifts[channel])) return false;
  }
  return true;
}

// The rounding term (2 z + 1) * 2^(s-1) for s = n - 32: |2 z + 1| <= 255 and s <= 22, so the
// product is exact in int32; formed as an unsigned shift, which has no undefined cases.
INTEGR8_ARM_DSP_INLINE int32_t HighWordRounding(int32_t output_zero_point, int32_t high_shift) {
  return static_cast<int32_t>(static_cast<uint32_t>(2 * output_zero_point + 1)
                              << (high_shift - 1));
}

// SMMLA, ASR, SSAT: acc requantized by the high word, for a channel's multiplier, rounding
// term and s = n - 32.
INTEGR8_ARM_DSP_INLINE int8_t RequantizeByHighWord(int32_t acc, int32_t multiplier,
                                                   int32_t rounding, int32_t high_shift) {
  return static_cast<int8_t>(
      SaturateInt8(MultiplyAccumulateHigh(acc, multiplier, rounding) >> high_shift));
}

// acc0 and acc1, two accumulators of one channel with that channel's multiplier and shift,
// requantized into *output0 and then *output1 (which may be the same byte when acc0 == acc1):
// by the high word when the clamp is the full int8 range (`full_range`, that is
// HasFullInt8Range(requantize)) and the shift qualifies, else by the portable Requantize.
INTEGR8_ARM_DSP_INLINE void RequantizeChannel(int32_t acc0, int32_t acc1, int32_t multiplier,
                                              int32_t shift, const RequantizeParams& requantize,
                                              bool full_range, int8_t* output0,
                                              int8_t* output1) {
  if (full_range && IsHighWordShift(shift)) {
    const int32_t high_shift = shift - 32;
    const int32_t rounding = HighWordRounding(requantize.output_zero_point, high_shift);
    *output0 = RequantizeByHighWord(acc0, multiplier, rounding, high_shift);
    *output1 = RequantizeByHighWord(acc1, multiplier, rounding, high_shift);
  } else {
    *output0 = static_cast<int8_t>(Requantize(acc0, multiplier, shift,
                                              requantize.output_zero_point,
                                              requantize.activation_min,
                                              requantize.activation_max));
    *output1 = static_cast<int8_t>(Requantize(acc1, multiplier, shift,
                                              requantize.output_zero_point,
                                              requantize.activation_min,
                                              requantize.activation_max));
  }
}

// --- Patches: int16 activations shared by a register block ------------------------------
//
// Linear and Conv2d expand their activations to 16-bit lanes once, in caller scratch, and run
// every output channel over them; only the weight words are sign extended in the inner loop.
// The expanded activations are patches: Conv2d's im2col patches of two output positions, or
// Linear's rows (two, or a last odd one alone), a Linear being a convolution whose patch is
// the whole row. For each group of four taps k..k+3, kPatches (1 or 2) patches take
// 2 * kPatches words, in the order the inner loop reads them:
//
//   two patches  [p0 (x[k], x[k+2]), p1 (x[k], x[k+2]), p0 (x[k+1], x[k+3]), p1 (x[k+1], x[k+3])]
//   one patch    [p0 (x[k], x[k+2]), p0 (x[k+1], x[k+3])]
//
// so that SXTB16 of a weight word (w[k], w[k+2]) and SXTB16 ROR #8 of it (w[k+1], w[k+3])
// meet their activations lane by lane in SMLAD. When K is not a multiple of four the last
// group holds the remaining taps and zero lanes, whose products are zero whatever the weight
// lane holds (the tail reads only the weight bytes that exist).

// Bytes of one group of four taps of kPatches patches, and from its even words to its odd.
template <int kPatches>
constexpr ptrdiff_t kPatchGroupBytes = ptrdiff_t{8} * kPatches;
template <int kPatches>
constexpr ptrdiff_t kOddWordsOffset = ptrdiff_t{4} * kPatches;

INTEGR8_ARM_DSP_INLINE void StoreWord(int8_t* destination, uint32_t word) {
  std::memcpy(destination, &word, sizeof word);
}

// The four int8 taps of `word` as one patch's words of a group: the even lanes at
// `destination`, the odd lanes kPatches words later.
template <int kPatches>
INTEGR8_ARM_DSP_INLINE void StoreWidened(int8_t* destination, uint32_t word) {
  StoreWord(destination, SignExtendEvenBytes(word));
  StoreWord(destination + kOddWordsOffset<kPatches>, SignExtendOddBytes(word));
}

// All four byte lanes of a word hold one int8 value.
INTEGR8_ARM_DSP_INLINE uint32_t BroadcastBytes(int32_t value) {
  return static_cast<uint32_t>(static_cast<uint8_t>(static_cast<int8_t>(value))) * 0x01010101u;
}

// Both lanes of a word hold the 16-bit sign extension of one int8 value.
INTEGR8_ARM_DSP_INLINE uint32_t BroadcastLanes(int32_t value) {
  const uint32_t lane = static_cast<uint16_t>(static_cast<int16_t>(value));
  return lane | (lane << 16);
}

// The first word-aligned byte of caller scratch: the patches' words are read with LDRD, which
// needs word alignment. The scratch sizes include the 3 bytes this may skip.
INTEGR8_ARM_DSP_INLINE int8_t* AlignToWord(int8_t* scratch) {
  const size_t misalignment = reinterpret_cast<uintptr_t>(scratch) % 4;
  return scratch + (4 - misalignment) % 4;
}

// sum0 += lanes . patch 0's word at `words`, and sum1 += lanes . patch 1's, the next word,
// when there are two patches.
template <int kPatches>
INTEGR8_ARM_DSP_INLINE void MacWords(uint32_t lanes, const int8_t* words, int32_t& sum0,
                                     int32_t& sum1) {
  sum0 = DualMultiplyAccumulate(lanes, LoadFour(words), sum0);
  if constexpr (kPatches == 2) sum1 = DualMultiplyAccumulate(lanes, LoadFour(words + 4), sum1);
}

#if defined(__ARM_FEATURE_DSP)

// One group of four taps of the block of two patches by two weight rows, as asm text: see
// MacGroup.
#define INTEGR8_ARM_DSP_2X2_GROUP                         \
  "ldrd %[p0], %[p1], [%[patches]], #8\n\t"              \
  "ldr %[w1], [%[filter], %[depth]]\n\t"                 \
  "ldr %[w0], [%[filter]], #4\n\t"                       \
  "sxtb16 %[lanes], %[w0]\n\t"                           \
  "smlad %[s00], %[lanes], %[p0], %[s00]\n\t"            \
  "smlad %[s10], %[lanes], %[p1], %[s10]\n\t"            \
  "sxtb16 %[lanes], %[w1]\n\t"                           \
  "smlad %[s01], %[lanes], %[p0], %[s01]\n\t"            \
  "smlad %[s11], %[lanes], %[p1], %[s11]\n\t"            \
  "ldrd %[p0], %[p1], [%[patches]], #8\n\t"              \
  "sxtb16 %[w0], %[w0], ror #8\n\t"                      \
  "smlad %[s00], %[w0], %[p0], %[s00]\n\t"               \
  "smlad %[s10], %[w0], %[p1], %[s10]\n\t"               \
  "sxtb16 %[w1], %[w1], ror #8\n\t"                      \
  "smlad %[s01], %[w1], %[p0], %[s01]\n\t"               \
  "smlad %[s11], %[w1], %[p1], %[s11]\n\t"

// One group of four taps of the block of kPatches patches by two weight rows:
// sum[p][c] += patch p . row c, rows at `filter` and `filter + depth`; advances `patches` by
// one group and `filter` by four taps. Each shape is one asm statement, so that its registers
// (for two patches 12: 4 sums, 3 pointers/offsets, 5 temporaries) stay in the register file:
// for two patches 2 LDRD, 2 LDR, 4 SXTB16 and 8 SMLAD per 16 MACs, for one 1 LDRD, 2 LDR,
// 4 SXTB16 and 4 SMLAD per 8 MACs. The plain C++ below forms the same sums from the same
// words.
template <int kPatches>
INTEGR8_ARM_DSP_INLINE void MacGroup(const int8_t*& patches, const int8_t*& filter,
                                     int32_t depth, int32_t& sum00, int32_t& sum01,
                                     int32_t& sum10, int32_t& sum11) {
  uint32_t patch0 = 0;
  uint32_t patch1 = 0;
  uint32_t row0 = 0;
  uint32_t row1 = 0;
  uint32_t lanes = 0;
  if constexpr (kPatches == 2) {
    __asm__(INTEGR8_ARM_DSP_2X2_GROUP
            : [s00] "+r"(sum00), [s01] "+r"(sum01), [s10] "+r"(sum10), [s11] "+r"(sum11),
              [patches] "+r"(patches), [filter] "+r"(filter), [p0] "=&r"(patch0),
              [p1] "=&r"(patch1), [w0] "=&r"(row0), [w1] "=&r"(row1), [lanes] "=&r"(lanes)
            : [depth] "r"(depth)
            : "memory");
  } else {
    // patch0 and patch1 are the patch's even and odd words here.
    __asm__(
        "ldrd %[even], %[odd], [%[patches]], #8\n\t"
        "ldr %[w1], [%[filter], %[depth]]\n\t"
        "ldr %[w0], [%[filter]], #4\n\t"
        "sxtb16 %[lanes], %[w0]\n\t"
        "smlad %[s00], %[lanes], %[even], %[s00]\n\t"
        "sxtb16 %[lanes], %[w1]\n\t"
        "smlad %[s01], %[lanes], %[even], %[s01]\n\t"
        "sxtb16 %[w0], %[w0], ror #8\n\t"
        "smlad %[s00], %[w0], %[odd], %[s00]\n\t"
        "sxtb16 %[w1], %[w1], ror #8\n\t"
        "smlad %[s01], %[w1], %[odd], %[s01]"
        : [s00] "+r"(sum00), [s01] "+r"(sum01), [patches] "+r"(patches),
          [filter] "+r"(filter), [even] "=&r"(patch0), [odd] "=&r"(patch1), [w0] "=&r"(row0),
          [w1] "=&r"(row1), [lanes] "=&r"(lanes)
        : [depth] "r"(depth)
        : "memory");
  }
}

// The first depth / 16 * 4 groups (depth at least 16) of MacGroup<2>, four to an iteration
// of a loop that is one asm statement, so that its count stays in a register whatever the
// optimization level: GCC at -Os weighs a spill by its size rather than by how often it runs,
// and kept the count of the C++ loop on the stack, 2 more instructions per iteration. The
// count is formed inside from `depth`: the statement then has MacGroup's 12 register operands
// and the count, 7 of them read on entry, which GCC 12 can still allocate at -O0 (r7 the frame
// pointer; see MacFourRowsByFours).
INTEGR8_ARM_DSP_INLINE void MacGroupsByFours(const int8_t*& patches, const int8_t*& filter,
                                             int32_t depth, int32_t& sum00, int32_t& sum01,
                                             int32_t& sum10, int32_t& sum11) {
  uint32_t quads = 0;
  uint32_t patch0 = 0;
  uint32_t patch1 = 0;
  uint32_t row0 = 0;
  uint32_t row1 = 0;
  uint32_t lanes = 0;
  __asm__("lsr %[count], %[depth], #4\n"
          "1:\n\t"
          INTEGR8_ARM_DSP_2X2_GROUP
          INTEGR8_ARM_DSP_2X2_GROUP
          INTEGR8_ARM_DSP_2X2_GROUP
          INTEGR8_ARM_DSP_2X2_GROUP
          "subs %[count], %[count], #1\n\t"
          "bne.w 1b"
          : [s00] "+r"(sum00), [s01] "+r"(sum01), [s10] "+r"(sum10), [s11] "+r"(sum11),
            [patches] "+r"(patches), [filter] "+r"(filter), [count] "=&r"(quads),
            [p0] "=&r"(patch0), [p1] "=&r"(patch1), [w0] "=&r"(row0), [w1] "=&r"(row1),
            [lanes] "=&r"(lanes)
          : [depth] "r"(depth)
          : "cc", "memory");
}

#undef INTEGR8_ARM_DSP_2X2_GROUP

// One group of four taps of MacFourRowsByFours' loop: the patch's two words are loaded once
// for the four rows, and each weight word while the row before it is still being summed, so
// that no load feeds the instruction right after it.
#define INTEGR8_ARM_DSP_FOUR_ROWS_GROUP       \
  "ldr %[word], [%[row0], %[depth]]\n\t"      \
  "ldrd %[even], %[odd], [%[patch]], #8\n\t"  \
  "sxtb16 %[lanes], %[word]\n\t"              \
  "sxtb16 %[word], %[word], ror #8\n\t"       \
  "smlad %[s1], %[lanes], %[even], %[s1]\n\t" \
  "ldr %[lanes], [%[row0]], #4\n\t"           \
  "smlad %[s1], %[word], %[odd], %[s1]\n\t"   \
  "sxtb16 %[word], %[lanes]\n\t"              \
  "sxtb16 %[lanes], %[lanes], ror #8\n\t"     \
  "smlad %[s0], %[word], %[even], %[s0]\n\t"  \
  "ldr %[word], [%[row2], %[depth]]\n\t"      \
  "smlad %[s0], %[lanes], %[odd], %[s0]\n\t"  \
  "sxtb16 %[lanes], %[word]\n\t"              \
  "sxtb16 %[word], %[word], ror #8\n\t"       \
  "smlad %[s3], %[lanes], %[even], %[s3]\n\t" \
  "ldr %[lanes], [%[row2]], #4\n\t"           \
  "smlad %[s3], %[word], %[odd], %[s3]\n\t"   \
  "sxtb16 %[word], %[lanes]\n\t"              \
  "sxtb16 %[lanes], %[lanes], ror #8\n\t"     \
  "smlad %[s2], %[word], %[even], %[s2]\n\t"  \
  "smlad %[s2], %[lanes], %[odd], %[s2]\n\t"

// dot_c += patch . row c for one patch and the four weight rows at `row0` + c * depth, over
// 4 * quads whole groups (quads at least one); advances `patch` and `row0` past them. The whole
// loop is one asm statement, four groups per iteration, so that its registers stay in the
// register file and the count-down (SUBS, BNE.W) costs 2 instructions per 64 MACs: per 16 MACs
// 1 LDRD, 4 LDR, 8 SXTB16 and 8 SMLAD, where two MacGroup<1> take 2 LDRD. It has 13 register
// operands (4 sums, the patch and two row pointers, the row stride, the count, 4 temporaries),
// and only 4 are read on entry: the sums start at zero in the asm and are added afterwards, and
// the second row pointer is formed inside, because GCC 12 at -O0 (r7 the frame pointer, hard
// float) finds constraints impossible beyond 13 operands or 7 read on entry. The text is
// written out rather than repeated by .rept, so that GCC sizes the statement right when it
// picks branch encodings around it.
INTEGR8_ARM_DSP_INLINE void MacFourRowsByFours(const int8_t*& patch, const int8_t*& row0,
                                               int32_t depth, int32_t quads, int32_t& dot0,
                                               int32_t& dot1, int32_t& dot2, int32_t& dot3) {
  int32_t partial0 = 0;
  int32_t partial1 = 0;
  int32_t partial2 = 0;
  int32_t partial3 = 0;
  const int8_t* row2 = nullptr;
  uint32_t even = 0;
  uint32_t odd = 0;
  uint32_t word = 0;
  uint32_t lanes = 0;
  __asm__(
      "mov %[s0], #0\n\t"
      "mov %[s1], #0\n\t"
      "mov %[s2], #0\n\t"
      "mov %[s3], #0\n\t"
      "add %[row2], %[row0], %[depth], lsl #1\n"
      "1:\n\t"
      INTEGR8_ARM_DSP_FOUR_ROWS_GROUP
      INTEGR8_ARM_DSP_FOUR_ROWS_GROUP
      INTEGR8_ARM_DSP_FOUR_ROWS_GROUP
      INTEGR8_ARM_DSP_FOUR_ROWS_GROUP
      "subs %[count], %[count], #1\n\t"
      "bne.w 1b"
      : [s0] "=&r"(partial0), [s1] "=&r"(partial1), [s2] "=&r"(partial2), [s3] "=&r"(partial3),
        [row2] "=&r"(row2), [even] "=&r"(even), [odd] "=&r"(odd), [word] "=&r"(word),
        [lanes] "=&r"(lanes), [patch] "+r"(patch), [row0] "+r"(row0), [count] "+r"(quads)
      : [depth] "r"(depth)
      : "cc", "memory");
  dot0 += partial0;
  dot1 += partial1;
  dot2 += partial2;
  dot3 += partial3;
}

#undef INTEGR8_ARM_DSP_FOUR_ROWS_GROUP

#else

template <int kPatches>
INTEGR8_ARM_DSP_INLINE void MacGroup(const int8_t*& patches, const int8_t*& filter,
                                     int32_t depth, int32_t& sum00, int32_t& sum01,
                                     int32_t& sum10, int32_t& sum11) {
  const uint32_t row1 = LoadFour(filter + depth);
  const uint32_t row0 = LoadFour(filter);
  const int8_t* const odd = patches + kOddWordsOffset<kPatches>;
  MacWords<kPatches>(SignExtendEvenBytes(row0), patches, sum00, sum10);
  MacWords<kPatches>(SignExtendEvenBytes(row1), patches, sum01, sum11);
  MacWords<kPatches>(SignExtendOddBytes(row0), odd, sum00, sum10);
  MacWords<kPatches>(SignExtendOddBytes(row1), odd, sum01, sum11);
  patches += kPatchGroupBytes<kPatches>;
  filter += 4;
}

// The asm loop's twin: the same groups in the same order.
INTEGR8_ARM_DSP_INLINE void MacGroupsByFours(const int8_t*& patches, const int8_t*& filter,
                                             int32_t depth, int32_t& sum00, int32_t& sum01,
                                             int32_t& sum10, int32_t& sum11) {
  for (int32_t group = depth / 16 * 4; group != 0; --group) {
    MacGroup<2>(patches, filter, depth, sum00, sum01, sum10, sum11);
  }
}

// The asm loop's twin, a group at a time, two rows at a time: the same sums from the same
// words.
INTEGR8_ARM_DSP_INLINE void MacFourRowsByFours(const int8_t*& patch, const int8_t*& row0,
                                               int32_t depth, int32_t quads, int32_t& dot0,
                                               int32_t& dot1, int32_t& dot2, int32_t& dot3) {
  const int8_t* row2 = row0 + 2 * static_cast<ptrdiff_t>(depth);
  int32_t unused = 0;  // one patch has no second patch's sums
  for (int32_t group = 4 * quads; group != 0; --group) {
    const int8_t* same_patch = patch;
    MacGroup<1>(same_patch, row2, depth, dot2, dot3, unused, unused);
    MacGroup<1>(patch, row0, depth, dot0, dot1, unused, unused);
  }
}

#endif  // __ARM_FEATURE_DSP

// The taps k..k+remaining-1 (remaining in 1..3) at the end of an int8 row (a weight row, or
// a Linear activation row being widened) as the two words of a group, (w[k], w[k+2]) and
// (w[k+1], 0), reading only the bytes that exist; lanes beyond the row are zero.
INTEGR8_ARM_DSP_INLINE uint32_t TailEvenLanes(const int8_t* row, int32_t remaining) {
  const uint32_t high = remaining > 2 ? static_cast<uint32_t>(static_cast<uint16_t>(row[2])) : 0;
  return static_cast<uint32_t>(static_cast<uint16_t>(row[0])) | (high << 16);
}
INTEGR8_ARM_DSP_INLINE uint32_t TailOddLanes(const int8_t* row, int32_t remaining) {
  return remaining > 1 ? static_cast<uint32_t>(static_cast<uint16_t>(row[1])) : 0;
}

// sum0 += weight * one 16-bit lane (the bottom, or the top when kTop) of patch 0's word at
// `words`, and sum1 likewise of patch 1's, the next word, when there are two patches: SMLABB
// or SMLABT.
template <int kPatches, bool kTop>
INTEGR8_ARM_DSP_INLINE void MacLane(int32_t weight, const int8_t* words, int32_t& sum0,
                                    int32_t& sum1) {
  if constexpr (kTop) {
    sum0 = MultiplyAccumulateBottomTop(weight, LoadFour(words), sum0);
    if constexpr (kPatches == 2) {
      sum1 = MultiplyAccumulateBottomTop(weight, LoadFour(words + 4), sum1);
    }
  } else {
    sum0 = MultiplyAccumulateBottoms(weight, LoadFour(words), sum0);
    if constexpr (kPatches == 2) {
      sum1 = MultiplyAccumulateBottoms(weight, LoadFour(words + 4), sum1);
    }
  }
}

// The last `remaining` (1..3) taps of the block, k = K - remaining: the taps' weight bytes,
// sign-extended by LDRSB, meet the patches' 16-bit lanes through SMLABB / SMLABT (x[k] and
// x[k+1] are the bottom lanes of the group's even and odd words, x[k+2] the top lane of the
// even word), so no lane is assembled from bytes and zero lanes are skipped.
template <int kPatches>
INTEGR8_ARM_DSP_INLINE void MacTail(const int8_t* patches, const int8_t* row0, int32_t depth,
                                    int32_t remaining, int32_t& sum00, int32_t& sum01,
                                    int32_t& sum10, int32_t& sum11) {
  const int8_t* const row1 = row0 + depth;
  const int8_t* const odd = patches + kOddWordsOffset<kPatches>;
  MacLane<kPatches, false>(row0[0], patches, sum00, sum10);
  MacLane<kPatches, false>(row1[0], patches, sum01, sum11);
  if (remaining > 1) {
    MacLane<kPatches, false>(row0[1], odd, sum00, sum10);
    MacLane<kPatches, false>(row1[1], odd, sum01, sum11);
  }
  if (remaining > 2) {
    MacLane<kPatches, true>(row0[2], patches, sum00, sum10);
    MacLane<kPatches, true>(row1[2], patches, sum01, sum11);
  }
}

// sum[p][c] += patch p . row c over all K = depth taps, for the two weight rows at `row0` and
// `row0 + depth`: K / 4 whole groups, four per iteration (the loop's decrement and branch are
// then 2 instructions per 64 MACs rather than per 32; for one patch, per 32 rather than per
// 16), then the K / 4 % 4 groups left, then the K % 4 taps left, each count read off `depth`.
template <int kPatches>
INTEGR8_ARM_DSP_INLINE void MacBlock(const int8_t* patches, const int8_t* row0, int32_t depth,
                                     int32_t& sum00, int32_t& sum01, int32_t& sum10,
                                     int32_t& sum11) {
  if constexpr (kPatches == 2) {
    if (depth >= 16) MacGroupsByFours(patches, row0, depth, sum00, sum01, sum10, sum11);
  } else {
    // One patch: ConvolveRow's pair of channels left over, once per call, where the asm loop's
    // registers cost that function more spills than the loop's count saves.
    for (int32_t quads = depth / 16; quads > 0; --quads) {
      MacGroup<1>(patches, row0, depth, sum00, sum01, sum10, sum11);
      MacGroup<1>(patches, row0, depth, sum00, sum01, sum10, sum11);
      MacGroup<1>(patches, row0, depth, sum00, sum01, sum10, sum11);
      MacGroup<1>(patches, row0, depth, sum00, sum01, sum10, sum11);
    }
  }
  if ((depth & 8) != 0) {
    MacGroup<kPatches>(patches, row0, depth, sum00, sum01, sum10, sum11);
    MacGroup<kPatches>(patches, row0, depth, sum00, sum01, sum10, sum11);
  }
  if ((depth & 4) != 0) MacGroup<kPatches>(patches, row0, depth, sum00, sum01, sum10, sum11);
  const int32_t remaining = depth % 4;
  if (remaining != 0) {
    MacTail<kPatches>(patches, row0, depth, remaining, sum00, sum01, sum10, sum11);
  }
}

// sum0 += patch 0 . row and sum1 += patch 1 . row (when there are two patches) over `groups`
// whole groups and then `remaining` (0..3) taps, for a single weight row: the channel left over
// when the channel count is odd.
template <int kPatches>
INTEGR8_ARM_DSP_INLINE void MacColumn(const int8_t* patches, const int8_t* row,
                                      int32_t groups, int32_t remaining, int32_t& sum0,
                                      int32_t& sum1) {
  for (int32_t group = 0; group < groups;
       ++group, patches += kPatchGroupBytes<kPatches>, row += 4) {
    const uint32_t word = LoadFour(row);
    const int8_t* const odd = patches + kOddWordsOffset<kPatches>;
    MacWords<kPatches>(SignExtendEvenBytes(word), patches, sum0, sum1);
    MacWords<kPatches>(SignExtendOddBytes(word), odd, sum0, sum1);
  }
  if (remaining != 0) {
    const int8_t* const odd = patches + kOddWordsOffset<kPatches>;
    MacWords<kPatches>(TailEvenLanes(row, remaining), patches, sum0, sum1);
    if (remaining > 1) MacWords<kPatches>(TailOddLanes(row, remaining), odd, sum0, sum1);
  }
}

// Output channels [0, channels) of the two patches in scratch (weight rows of `depth` taps at
// `filter`, their biases and requantization), written to output0[c] and output1[c]; each
// channel is requantized by the high word where its shift and the clamp allow. When the two
// patches are the same output position, output1 is output0 and the second write stores the
// same byte. ConvolvePatchesByTable is Conv2d's twin for calls whose every channel qualifies,
// with the high-word parameters in a table; ConvolveRow is the one-patch form.
inline void ConvolvePatches(const int8_t* patches, const int8_t* filter, const int32_t* bias,
                            int32_t channels, int32_t depth, const RequantizeParams& requantize,
                            int8_t* output0, int8_t* output1) {
  const int32_t groups = depth / 4;
  const int32_t remaining = depth % 4;
  const bool full_range = HasFullInt8Range(requantize);
  // Per-tensor requantization reads entry 0 for every channel. Channels are indexed from
  // loop-invariant bases (rather than with advancing pointers) because the MAC loop holds
  // nearly every register: each base is then one reload, not a reload, add and store.
  const int32_t channel_mask = requantize.per_channel ? -1 : 0;
  int32_t out_c = 0;
  for (; out_c + 2 <= channels; out_c += 2) {
    int32_t sum00 = bias[out_c];
    int32_t sum10 = sum00;
    int32_t sum01 = bias[out_c + 1];
    int32_t sum11 = sum01;
    MacBlock<2>(patches, filter + static_cast<ptrdiff_t>(out_c) * depth, depth, sum00, sum01,
                sum10, sum11);
    const int32_t channel0 = out_c & channel_mask;
    const int32_t channel1 = (out_c + 1) & channel_mask;
    RequantizeChannel(sum00, sum10, requantize.multipliers[channel0],
                      requantize.shifts[channel0], requantize, full_range, output0 + out_c,
                      output1 + out_c);
    RequantizeChannel(sum01, sum11, requantize.multipliers[channel1],
                      requantize.shifts[channel1], requantize, full_range, output0 + out_c + 1,
                      output1 + out_c + 1);
  }
  if (out_c < channels) {
    int32_t sum0 = bias[out_c];
    int32_t sum1 = sum0;
    MacColumn<2>(patches, filter + static_cast<ptrdiff_t>(out_c) * depth, groups, remaining,
                 sum0, sum1);
    const int32_t channel = out_c & channel_mask;
    RequantizeChannel(sum0, sum1, requantize.multipliers[channel], requantize.shifts[channel],
                      requantize, full_range, output0 + out_c, output1 + out_c);
  }
}

// Output channels [0, channels) of the one patch in scratch (a Linear row), as
// ConvolvePatches, into output[c]. Blocks of four channels share each of the patch's words
// between four weight rows (MacFourRowsByFours); the channels left over take a block of two
// (MacBlock<1>) and then one. Every block ends in the same two loops over its rows (the taps
// left, then the requantization), so that their code is compiled once.
inline void ConvolveRow(const int8_t* patch, const int8_t* filter, const int32_t* bias,
                        int32_t channels, int32_t depth, const RequantizeParams& requantize,
                        int8_t* output) {
  const int32_t groups = depth / 4;
  const int32_t remaining = depth % 4;
  const bool full_range = HasFullInt8Range(requantize);
  const int32_t channel_mask = requantize.per_channel ? -1 : 0;  // as in ConvolvePatches
  for (int32_t out_c = 0; out_c < channels;) {
    const int32_t left = channels - out_c;
    const int32_t block = left >= 4 ? 4 : (left >= 2 ? 2 : 1);
    // What the block has not summed yet: from `patch_left`, `groups_left` groups and then
    // `remaining_left` taps of each row, the first row at `rows_left`.
    const int8_t* patch_left = patch;
    const int8_t* rows_left = filter + static_cast<ptrdiff_t>(out_c) * depth;
    int32_t groups_left = groups;
    int32_t remaining_left = remaining;
    // Each row's sum starts at its bias; the rows past a block of one or two start at the first
    // row's and are never read. (Not at zero: GCC stores constant zeros to the array below
    // through a VFP register or memset.)
    const int32_t* const block_bias = bias + out_c;
    int32_t acc0 = block_bias[0];
    int32_t acc1 = block_bias[block > 1 ? 1 : 0];
    int32_t acc2 = block_bias[block > 2 ? 2 : 0];
    int32_t acc3 = block_bias[block > 3 ? 3 : 0];
    int32_t unused = 0;  // one patch has no second patch's sums
    if (block == 4 && groups >= 4) {
      MacFourRowsByFours(patch_left, rows_left, depth, groups / 4, acc0, acc1, acc2, acc3);
      groups_left = groups % 4;
    } else if (block == 2) {
      MacBlock<1>(patch, rows_left, depth, acc0, acc1, unused, unused);
      groups_left = 0;
      remaining_left = 0;
    }
    // Row by row, the taps left (the groups the loop of four leaves over, or all of them, and
    // the tail), then the requantization.
    int32_t sums[4] = {acc0, acc1, acc2, acc3};
    if (groups_left != 0 || remaining_left != 0) {
      for (int32_t row = 0; row < block; ++row) {
        MacColumn<1>(patch_left, rows_left + static_cast<ptrdiff_t>(row) * depth, groups_left,
                     remaining_left, sums[row], unused);
      }
    }
    for (int32_t row = 0; row < block; ++row) {
      const int32_t channel = (out_c + row) & channel_mask;
      RequantizeChannel(sums[row], sums[row], requantize.multipliers[channel],
                        requantize.shifts[channel], requantize, full_range, output + out_c + row,
                        output + out_c + row);
    }
    out_c += block;
  }
}

// --- Per-channel table for the high-word requantization ---------------------------------
//
// When CanRequantizeByHighWord holds, Conv2d first writes one entry per output channel to
// scratch: the bias, the multiplier, the rounding term (2 z + 1) * 2^(s - 1) and s = n - 32,
// four words (per-tensor parameters are repeated). The 2x2 block then reads its two channels'
// entries from one advancing pointer instead of the bias array, the parameters struct and the
// multiplier and shift arrays, and forms no rounding term: the MAC loop holds nearly every
// register, so each of those was a reload from the stack. Linear does without: its rows are
// long (the reloads are a few instructions per channel over hundreds of MACs), and the table
// would cost 16 bytes of scratch per output channel.
constexpr int32_t kChannelEntryBytes = 16;

INTEGR8_ARM_DSP_INLINE int32_t LoadWord(const int8_t* source) {
  int32_t word = 0;
  std::memcpy(&word, source, sizeof word);
  return word;
}

// The entries of output channels [0, channels) of `requantize` and `bias` at `table`.
inline void WriteChannelTable(const RequantizeParams& requantize, const int32_t* bias,
                              int32_t channels, int8_t* table) {
  for (int32_t channel = 0; channel < channels; ++channel, table += kChannelEntryBytes) {
    const int32_t index = requantize.per_channel ? channel : 0;
    const int32_t high_shift = requantize.shifts[index] - 32;
    const int32_t entry[4] = {bias[channel], requantize.multipliers[index],
                              HighWordRounding(requantize.output_zero_point, high_shift),
                              high_shift};
    std::memcpy(table, entry, sizeof entry);
  }
}

// acc0 and acc1 of the channel whose entry is at `entry`, by the high word, into *output0 and
// then *output1.
INTEGR8_ARM_DSP_INLINE void RequantizeByEntry(int32_t acc0, int32_t acc1, const int8_t* entry,
                                              int8_t* output0, int8_t* output1) {
  const int32_t multiplier = LoadWord(entry + 4);
  const int32_t rounding = LoadWord(entry + 8);
  const int32_t high_shift = LoadWord(entry + 12);
  *output0 = RequantizeByHighWord(acc0, multiplier, rounding, high_shift);
  *output1 = RequantizeByHighWord(acc1, multiplier, rounding, high_shift);
}

// ConvolvePatches for Conv2d's pair of patches when the call takes the high-word
// requantization, with the group's channel entries at `table`.
inline void ConvolvePatchesByTable(const int8_t* patches, const int8_t* filter,
                                   const int8_t* table, int32_t channels, int32_t depth,
                                   int8_t* output0, int8_t* output1) {
  const int32_t groups = depth / 4;
  const int32_t remaining = depth % 4;
  // Pointer steps rather than indices from out_c, which -Os would otherwise recompute.
  constexpr ptrdiff_t kPairEntryBytes = 2 * static_cast<ptrdiff_t>(kChannelEntryBytes);
  const int8_t* const pairs_end = table + kPairEntryBytes * (channels / 2);
  const ptrdiff_t pair_taps = 2 * static_cast<ptrdiff_t>(depth);
  for (; table != pairs_end;
       table += kPairEntryBytes, filter += pair_taps, output0 += 2, output1 += 2) {
    int32_t sum00 = LoadWord(table);
    int32_t sum10 = sum00;
    int32_t sum01 = LoadWord(table + kChannelEntryBytes);
    int32_t sum11 = sum01;
    MacBlock<2>(patches, filter, depth, sum00, sum01, sum10, sum11);
    RequantizeByEntry(sum00, sum10, table, output0, output1);
    RequantizeByEntry(sum01, sum11, table + kChannelEntryBytes, output0 + 1, output1 + 1);
  }
  if (channels % 2 != 0) {
    int32_t sum0 = LoadWord(table);
    int32_t sum1 = sum0;
    MacColumn<2>(patches, filter, groups, remaining, sum0, sum1);
    RequantizeByEntry(sum0, sum1, table, output0, output1);
  }
}

// --- Linear: rows widened once ------------------------------------------------------------

// kRows (1 or 2) activation rows of `depth` int8 values, the second `depth` after the first,
// widened into the layout of kRows patches at `patches` (each row is a patch: a Linear output
// is one dot product with the whole row); the lanes past the last tap are zero.
template <int kRows>
inline void WidenRows(const int8_t* rows, int32_t depth, int8_t* patches) {
  const int32_t remaining = depth % 4;
  const int8_t* const end = rows + (depth - remaining);
  for (; rows != end; rows += 4, patches += kPatchGroupBytes<kRows>) {
    for (ptrdiff_t row = 0; row < kRows; ++row) {
      StoreWidened<kRows>(patches + 4 * row, LoadFour(rows + row * depth));
    }
  }
  if (remaining == 0) return;
  // The last taps, as the weight rows' tail is formed: only the bytes that exist are read.
  for (ptrdiff_t row = 0; row < kRows; ++row) {
    const int8_t* const taps = rows + row * depth;
    StoreWord(patches + 4 * row, TailEvenLanes(taps, remaining));
    StoreWord(patches + kOddWordsOffset<kRows> + 4 * row, TailOddLanes(taps, remaining));
  }
}

// kRows (1 or 2) rows of a Linear call, the second `input_features` after the first: widened
// into scratch, then run through every output channel into `output` (the second row's outputs
// `output_features` after the first).
template <int kRows>
inline void LinearRows(const LinearParams& params, const int8_t* rows, const int8_t* weights,
                       const int32_t* bias, int8_t* output, int8_t* scratch) {
  const int32_t depth = params.input_features;
  const int32_t channels = params.output_features;
  int8_t* const patches = AlignToWord(scratch);
  WidenRows<kRows>(rows, depth, patches);
  if constexpr (kRows == 2) {
    ConvolvePatches(patches, weights, bias, channels, depth, params.requantize, output,
                    output + channels);
  } else {
    ConvolveRow(patches, weights, bias, channels, depth, params.requantize, output);
  }
}

// What ExpandPatch needs of one group of one sample, computed once per call into a local:
// its int8 stores could alias a Conv2dParams read through a reference, which would make the
// compiler reload every field after each store, but not a local whose address never escapes.
struct PatchGeometry {
  const int8_t* input;  // the sample's first pixel, at the group's first channel
  ptrdiff_t row_bytes;  // input_width * input_channels
  int32_t pixel_bytes;  // input_channels
  int32_t input_height;
  int32_t input_width;
  int32_t filter_height;
  int32_t filter_width;
  int32_t stride_height;
  int32_t stride_width;
  int32_t padding_height;
  int32_t padding_width;
  int32_t dilation_height;
  int32_t dilation_width;
  int32_t group_channels;
  int32_t tap_groups;  // ceil(K / 4)
  int32_t run_bytes;   // filter_width * group_channels, when runs_possible
  bool whole_words;    // group_channels % 4 == 0
  bool runs_possible;  // one group and no horizontal dilation: a row's taps are adjacent
  int8_t zero_point;
  uint32_t padding;    // BroadcastLanes(zero_point)
};

inline PatchGeometry MakePatchGeometry(const Conv2dParams& params) {
  PatchGeometry geometry{};
  geometry.pixel_bytes = params.input_channels;
  geometry.row_bytes = static_cast<ptrdiff_t>(params.input_width) * params.input_channels;
  geometry.input_height = params.input_height;
  geometry.input_width = params.input_width;
  geometry.filter_height = params.filter_height;
  geometry.filter_width = params.filter_width;
  geometry.stride_height = params.stride_height;
  geometry.stride_width = params.stride_width;
  geometry.padding_height = params.padding_height;
  geometry.padding_width = params.padding_width;
  geometry.dilation_height = params.dilation_height;
  geometry.dilation_width = params.dilation_width;
  geometry.group_channels = params.input_channels / params.groups;
  geometry.tap_groups =
      (params.filter_height * params.filter_width * geometry.group_channels + 3) / 4;
  geometry.run_bytes = params.filter_width * geometry.group_channels;
  geometry.whole_words = geometry.group_channels % 4 == 0;
  geometry.runs_possible = params.groups == 1 && params.dilation_width == 1;
  geometry.zero_point = static_cast<int8_t>(params.input_zero_point);
  geometry.padding = BroadcastLanes(params.input_zero_point);
  return geometry;
}

// The loops that expand patches test at the bottom and step pointers: -Os, which does not
// rotate loops, otherwise compiles each to a test and a branch more per iteration.

// `bytes` (a positive multiple of four) int8 taps at `source`, widened into the pair's groups
// from `patches`, which advances past them.
INTEGR8_ARM_DSP_INLINE void WidenTaps(const int8_t* source, int32_t bytes, int8_t*& patches) {
  int8_t* const end = patches + kPatchGroupBytes<2> / 4 * bytes;
  do {
    StoreWidened<2>(patches, LoadFour(source));
    source += 4;
    patches += kPatchGroupBytes<2>;
  } while (patches != end);
}

// `bytes` (at least one) adjacent taps of a patch, a filter row's run or one tap's channels:
// from `source` when `inside`, else padding (the input zero point); widened straight into the
// pair's groups at `patches` when the channel count is a multiple of four (so is `bytes`
// then), else copied as int8 to `gathered`. Advances the pointer it writes through.
INTEGR8_ARM_DSP_INLINE void ExpandTaps(const PatchGeometry& g, const int8_t* source,
                                       bool inside, int32_t bytes, int8_t*& patches,
                                       int8_t*& gathered) {
  if (g.whole_words && inside) {
    WidenTaps(source, bytes, patches);
  } else if (g.whole_words) {
    int8_t* const end = patches + kPatchGroupBytes<2> / 4 * bytes;
    do {
      StoreWord(patches, g.padding);
      StoreWord(patches + kOddWordsOffset<2>, g.padding);
      patches += kPatchGroupBytes<2>;
    } while (patches != end);
  } else {
    int8_t* const end = gathered + bytes;
    if (inside) {
      do {
        *gathered++ = *source++;
      } while (gathered != end);
    } else {
      do {
        *gathered++ = g.zero_point;
      } while (gathered != end);
    }
  }
}

// ExpandPatch tap by tap, for windows that reach into the horizontal padding, grouped
// convolutions and horizontal dilation.
INTEGR8_ARM_DSP_INLINE void ExpandPatchByTaps(const PatchGeometry& g, int32_t in_y_origin,
                                              int32_t in_x_origin, int8_t* patches,
                                              int8_t* gathered) {
  for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
    const int32_t in_y = in_y_origin + g.dilation_height * filter_y;
    const bool row_inside = in_y >= 0 && in_y < g.input_height;
    const int8_t* const row = row_inside ? g.input + in_y * g.row_bytes : g.input;
    for (int32_t filter_x = 0; filter_x < g.filter_width; ++filter_x) {
      const int32_t in_x = in_x_origin + g.dilation_width * filter_x;
      const bool inside = row_inside && in_x >= 0 && in_x < g.input_width;
      const int8_t* const taps = row + static_cast<ptrdiff_t>(inside ? in_x : 0) * g.pixel_bytes;
      ExpandTaps(g, taps, inside, g.group_channels, patches, gathered);
    }
  }
}

// One patch of the pair (patches points at its first word: the pair's base, + 4 for the
// second): the im2col patch of one output position for one group, in the filter's [y][x][c]
// order, K = filter_height * filter_width * group_channels values; padded taps read the input
// zero point (the raw value of real zero, as in the portable kernel). Channel counts that are
// a multiple of four expand straight from the input; others gather the int8 patch into
// `staging` first (whole groups, zero-padded), then expand it. When the window lies
// horizontally inside the input and a row's taps are adjacent in memory (one group, no
// horizontal dilation), each filter row is one run of filter_width * input_channels bytes or
// wholly padding, taken in one loop with no test per tap; other windows go tap by tap.
// Forced inline into Conv2d's position loop, where `g` is a local whose address does not
// escape, so its fields stay in registers or the frame across the position loop.
INTEGR8_ARM_DSP_INLINE void ExpandPatch(const PatchGeometry& g, int32_t out_y, int32_t out_x,
                                        int8_t* patches, int8_t* staging) {
  const int32_t in_y_origin = out_y * g.stride_height - g.padding_height;
  const int32_t in_x_origin = out_x * g.stride_width - g.padding_width;
  int8_t* gathered = staging;
  // The last group's bytes past K are zero: the word is cleared before the gather overwrites
  // its first bytes (one store, where a byte loop would become a memset call).
  if (!g.whole_words) StoreWord(staging + 4 * static_cast<ptrdiff_t>(g.tap_groups - 1), 0);
  // Validation bounded the input's element count by INT32_MAX, so the pixel offsets are
  // exact; they are formed in ptrdiff_t. Rows and taps are not dereferenced unless inside.
  if (g.runs_possible && in_x_origin >= 0 && in_x_origin <= g.input_width - g.filter_width) {
    // Every row is one run (inside the input) or all padding: the loops below test nothing
    // per tap. Rows are the filter's, dilation_height apart.
    const int8_t* const runs = g.input + static_cast<ptrdiff_t>(in_x_origin) * g.pixel_bytes;
    for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
      const int32_t in_y = in_y_origin + g.dilation_height * filter_y;
      const bool row_inside = in_y >= 0 && in_y < g.input_height;
      const int8_t* const run = row_inside ? runs + in_y * g.row_bytes : runs;
      ExpandTaps(g, run, row_inside, g.run_bytes, patches, gathered);
    }
  } else {
    ExpandPatchByTaps(g, in_y_origin, in_x_origin, patches, gathered);
  }
  if (g.whole_words) return;
  WidenTaps(staging, 4 * g.tap_groups, patches);
}

}  // namespace internal

// Scratch Linear needs: its activation rows widened to int16, one row when batches is 1 and
// two otherwise (rows are taken in pairs), each input_features rounded up to a multiple of
// four, times 2 bytes, plus 3 bytes to align the words. Valid params only
// (ValidateLinearParams).
constexpr size_t LinearScratchBytes(const LinearParams& params) {
  const size_t groups = (static_cast<size_t>(params.input_features) + 3) / 4;
  const ptrdiff_t group_bytes =
      params.batches > 1 ? internal::kPatchGroupBytes<2> : internal::kPatchGroupBytes<1>;
  return 3 + static_cast<size_t>(group_bytes) * groups;
}

// Linear: the portable kernel's contract (integr8/kernels/linear.h) plus caller scratch of
// LinearScratchBytes(params) bytes, kArenaTooSmall if it is missing or short. Rows are taken in
// pairs, widened into scratch once and run through every output channel, so each sign-extended
// weight word serves two rows; a last odd row is widened alone and runs four output channels at
// a time, so each of its words serves four weight rows. Forced inline, so that a
// caller whose parameters are constants (a graph layer runs one sample) keeps only the row
// path it takes instead of linking both.
template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
INTEGR8_ARM_DSP_INLINE Status Linear(const LinearParams& params, const Activation* input,
                                     const Weight* weights, const Bias* bias, Activation* output,
                                     int8_t* scratch, size_t scratch_bytes) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateLinear(params, input, weights, bias, output));
    if (scratch == nullptr || scratch_bytes < LinearScratchBytes(params)) {
      return Status::kArenaTooSmall;
    }
  }

  // Offsets in size_t: validation bounded the element counts, and no int32 product is formed.
  const auto row_bytes = static_cast<size_t>(params.input_features);
  const auto output_bytes = static_cast<size_t>(params.output_features);
  const auto batches = static_cast<size_t>(params.batches);
  size_t batch = 0;
  for (; batch + 2 <= batches; batch += 2) {
    internal::LinearRows<2>(params, input + batch * row_bytes, weights, bias,
                            output + batch * output_bytes, scratch);
  }
  if (batch < batches) {
    internal::LinearRows<1>(params, input + batch * row_bytes, weights, bias,
                            output + batch * output_bytes, scratch);
  }
  return Status::kOk;
}

// Scratch Conv2d needs: the int16 patches of two output positions, whole groups of four taps
// (K = filter_height * filter_width * (input_channels / groups), rounded up to a multiple of
// four, times 2 patches x 2 bytes), plus the int8 patch when the group's channel count is not
// a multiple of four, plus the per-channel requantization table (16 bytes per output
// channel), plus 3 bytes to align the words. Valid params only (ValidateConv2dParams).
constexpr size_t Conv2dScratchBytes(const Conv2dParams& params) {
  const size_t group_channels = static_cast<size_t>(params.input_channels / params.groups);
  const size_t depth = static_cast<size_t>(params.filter_height) *
                       static_cast<size_t>(params.filter_width) * group_channels;
  const size_t groups = (depth + 3) / 4;
  const size_t staging = group_channels % 4 == 0 ? 0 : 4 * groups;
  const size_t table = static_cast<size_t>(internal::kChannelEntryBytes) *
                       static_cast<size_t>(params.output_channels);
  return 3 + static_cast<size_t>(internal::kPatchGroupBytes<2>) * groups + staging + table;
}

template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status Conv2d(const Conv2dParams& params, const Activation* input, const Weight* filter,
              const Bias* bias, Activation* output, int8_t* scratch, size_t scratch_bytes) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateConv2d(params, input, filter, bias, output));
    if (scratch == nullptr || scratch_bytes < Conv2dScratchBytes(params)) {
      return Status::kArenaTooSmall;
    }
  }

  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const int32_t positions = output_height * output_width;  // per batch
  const int32_t depth =
      params.filter_height * params.filter_width * (params.input_channels / params.groups);
  const int32_t group_input_channels = params.input_channels / params.groups;
  const int32_t group_output_channels = params.output_channels / params.groups;
  const bool high_word =
      internal::CanRequantizeByHighWord(params.requantize, params.output_channels);
  int8_t* const patches = internal::AlignToWord(scratch);
  int8_t* const staging =
      patches + internal::kPatchGroupBytes<2> * ((depth + 3) / 4);
  // After the staging words (4 per group of taps, when used), so word aligned too.
  const ptrdiff_t staging_bytes =
      group_input_channels % 4 == 0 ? 0 : 4 * static_cast<ptrdiff_t>((depth + 3) / 4);
  int8_t* const table = staging + staging_bytes;
  if (high_word) {
    internal::WriteChannelTable(params.requantize, bias, params.output_channels, table);
  }

  // Positions are taken in pairs so each expanded filter word serves two output positions
  // (a last odd position is paired with itself); a group's filter rows are contiguous, so
  // each group is a small GEMM over the patches. Validation bounded every element count by
  // INT32_MAX, so the products below are exact; offsets are formed in ptrdiff_t rather than
  // widened from an int32 product.
  for (int32_t group = 0; group < params.groups; ++group) {
    const int32_t first_channel = group * group_output_channels;
    const int8_t* const group_filter = filter + static_cast<ptrdiff_t>(first_channel) * depth;
    const int32_t* const group_bias = bias + first_channel;
    RequantizeParams group_requantize = params.requantize;
    if (group_requantize.per_channel) {
      group_requantize.multipliers += first_channel;
      group_requantize.shifts += first_channel;
    }
    const int32_t in_c_begin = group * group_input_channels;
    internal::PatchGeometry geometry = internal::MakePatchGeometry(params);
    for (int32_t batch = 0; batch < params.batches; ++batch) {
      geometry.input = input +
                       static_cast<ptrdiff_t>(batch) * params.input_height * geometry.row_bytes +
                       in_c_begin;
      int8_t* const group_output =
          output + static_cast<ptrdiff_t>(batch) * positions * params.output_channels +
          first_channel;
      for (int32_t position = 0; position < positions; position += 2) {
        const int32_t second = position + 1 < positions ? position + 1 : position;
        // One inlined copy of ExpandPatch serves both patches of the pair.
        for (int32_t patch = 0; patch < 2; ++patch) {
          const int32_t at = patch == 0 ? position : second;
          internal::ExpandPatch(geometry, at / output_width, at % output_width,
                                patches + 4 * static_cast<ptrdiff_t>(patch), staging);
        }
        int8_t* const output0 =
            group_output + static_cast<ptrdiff_t>(position) * params.output_channels;
        int8_t* const output1 =
            group_output + static_cast<ptrdiff_t>(second) * params.output_channels;
        if (high_word) {
          internal::ConvolvePatchesByTable(
              patches, group_filter,
              table + static_cast<ptrdiff_t>(internal::kChannelEntryBytes) * first_channel,
              group_output_channels, depth, output0, output1);
        } else {
          internal::ConvolvePatches(patches, group_filter, group_bias, group_output_channels,
                                    depth, group_requantize, output0, output1);
        }
      }
    }
  }
  return Status::kOk;
}

namespace internal {

// Channels [0, bytes) (a multiple of four) of a 2x2 max pool window whose top-left tap is at
// `window`, taps `channels` apart along a row and `row_stride` apart down a column, into
// `output`; clamped to [lower, upper] byte-wise when kClamp. A separate loop with pointer
// steps, so that its values fit the register file.
template <bool kClamp>
INTEGR8_ARM_DSP_INLINE void MaxPool2x2Words(const int8_t* window, ptrdiff_t row_stride,
                                            int32_t channels, int32_t bytes, int8_t* output,
                                            uint32_t lower, uint32_t upper) {
  const int8_t* const end = window + bytes;
  for (const int8_t* top = window; top != end; top += 4, output += 4) {
    const int8_t* const bottom = top + row_stride;
    uint32_t max_value = MaxBytes(MaxBytes(LoadFour(top), LoadFour(top + channels)),
                                  MaxBytes(LoadFour(bottom), LoadFour(bottom + channels)));
    if constexpr (kClamp) max_value = MinBytes(MaxBytes(max_value, lower), upper);
    StoreWord(output, max_value);
  }
}

}  // namespace internal

// MaxPool2d: the portable kernel's contract (integr8/kernels/pool.h: arguments, Status codes,
// output bytes), four channels per step. NHWC keeps a tap's channels contiguous, so a 32-bit
// load brings four of them and MaxBytes (SSUB8, SEL) keeps the larger byte of each lane: two
// instructions per tap per four channels, where the portable kernel spends a load, compare
// and index computation per tap per channel. The clamp to the activation range is two more
// pairs per word, only when the range is narrower than int8. Channels past the last whole
// word take the portable kernel's scalar loop. Needs no scratch and no alignment.
template <typename Activation, Checks kChecks = Checks::kAtEntry>
Status MaxPool2d(const Pool2dParams& params, const Activation* input, Activation* output) {
  static_assert(kIsSpecTypes<Activation>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidatePool2d(params, input, output));
  }

  const int32_t channels = params.channels;
  const int32_t activation_min = params.activation_min;
  const int32_t activation_max = params.activation_max;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const bool clamp = activation_min > kActivationMin || activation_max < kActivationMax;
  const uint32_t lower = internal::BroadcastBytes(activation_min);
  const uint32_t upper = internal::BroadcastBytes(activation_max);
  // Validation bounded the input and output element counts by INT32_MAX, so every pixel index
  // below is exact in int32; offsets are formed in ptrdiff_t.
  const ptrdiff_t row_stride = static_cast<ptrdiff_t>(params.input_width) * channels;
  Activation* out = output;
  for (int32_t batch = 0; batch < params.batches; ++batch) {
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * params.stride_height - params.padding_height;
      // Taps inside the input only; padded taps are -inf and never the maximum.
      const int32_t filter_y_start = pool_internal::Max(0, -in_y_origin);
      const int32_t filter_y_end =
          pool_internal::Min(params.filter_height, params.input_height - in_y_origin);
      const int32_t rows = filter_y_end - filter_y_start;
      for (int32_t out_x = 0; out_x < output_width; ++out_x, out += channels) {
        const int32_t in_x_origin = out_x * params.stride_width - params.padding_width;
        const int32_t filter_x_start = pool_internal::Max(0, -in_x_origin);
        const int32_t filter_x_end =
            pool_internal::Min(params.filter_width, params.input_width - in_x_origin);
        const int32_t columns = filter_x_end - filter_x_start;
        // padding <= filter / 2 and PyTorch's ceil_mode rule leave a valid tap in every window.
        INTEGR8_DCHECK(rows > 0 && columns > 0);
        const Activation* const window =
            input +
            static_cast<ptrdiff_t>((batch * params.input_height + in_y_origin + filter_y_start) *
                                       params.input_width +
                                   in_x_origin + filter_x_start) *
                channels;
        int32_t channel = 0;
        if (rows == 2 && columns == 2) {
          // The common 2x2 window (PyTorch's MaxPool2d(2)) without the loops over taps.
          channel = channels - channels % 4;
          if (clamp) {
            internal::MaxPool2x2Words<true>(window, row_stride, channels, channel, out, lower,
                                            upper);
          } else {
            internal::MaxPool2x2Words<false>(window, row_stride, channels, channel, out, lower,
                                             upper);
          }
        }
        for (; channel + 4 <= channels; channel += 4) {
          uint32_t max_value = internal::LoadFour(window + channel);  // also compared below
          for (int32_t filter_y = 0; filter_y < rows; ++filter_y) {
            const Activation* const row = window + filter_y * row_stride + channel;
            for (int32_t filter_x = 0; filter_x < columns; ++filter_x) {
              max_value = internal::MaxBytes(
                  max_value, internal::LoadFour(row + static_cast<ptrdiff_t>(filter_x) * channels));
            }
          }
          if (clamp) max_value = internal::MinBytes(internal::MaxBytes(max_value, lower), upper);
          internal::StoreWord(out + channel, max_value);
        }
        for (; channel < channels; ++channel) {
          int32_t max_value = kActivationMin;
          for (int32_t filter_y = 0; filter_y < rows; ++filter_y) {
            const Activation* const row = window + filter_y * row_stride + channel;
            for (int32_t filter_x = 0; filter_x < columns; ++filter_x) {
              const int32_t value = int32_t{row[static_cast<ptrdiff_t>(filter_x) * channels]};
              if (value > max_value) max_value = value;
            }
          }
          out[channel] = static_cast<Activation>(Clamp(max_value, activation_min, activation_max));
        }
      }
    }
  }
  return Status::kOk;
}

}  // namespace integr8::backend::arm_dsp

#undef INTEGR8_ARM_DSP_INLINE

#endif  // INTEGR8_BACKEND_ARM_DSP_H_
