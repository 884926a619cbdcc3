// x86 AVX2 backend: Linear, Conv2d and DepthwiseConv2d, bit-exact with the portable kernels.
//
// Compiled only when the target has AVX2 (__AVX2__, e.g. -mavx2 or -march=native on an AVX2
// CPU); integr8/backend/select.h picks it then. Without AVX2 this header declares nothing, so
// the portable kernels remain the choice and every public header still compiles on its own.
// Where the target also has a 256-bit vpdpbusd (AVX-512 VNNI with AVX-512 VL, or AVX-VNNI:
// -mavx512vnni -mavx512vl, -mavxvnni, or -march=native on such a CPU), the product step below
// is vpdpbusd instead of the AVX2 pair sums (see "With VNNI"); the 512-bit registers are not
// used.
//
// Contract: integr8::backend::x86::Linear, ::Conv2d and ::DepthwiseConv2d have the portable
// kernels' signatures and, for every argument, return the Status the portable kernel returns
// -- the same Validate* function runs first through INTEGR8_CHECK, so on error nothing is
// written -- and on kOk write the very same bytes. No heap: the only buffers are fixed-size
// stack arrays (Conv2d's im2col block of kPatchBytes, copies of the last partial vector of at
// most 32 rows per operand); a convolution whose single patch does not fit the block runs the
// portable kernel instead. Layouts, ranges and checks are those of
// integr8/kernels/linear.h, conv2d.h and depthwise.h, including the spec's weight range
// [-127, 127], which the exact multiply below relies on (as the accumulator bound does).
//
// How the int8 products are formed without saturation. AVX2's only int8 multiply, vpmaddubsw,
// multiplies unsigned bytes by signed bytes and adds adjacent pairs into int16 with
// saturation; u8 x s8 pairs reach 2 * 255 * 127 > 32767, so it cannot take activations offset
// to unsigned. Instead each product x * w is formed as |x| * (w * sign(x)):
//   vpabsb  |x| in [0, 128], read as unsigned (|-128| = 0x80 = 128 unsigned)
//   vpsignb w * sign(x) in [-127, 127], since |w| <= 127 (0 where x = 0, whose product is 0)
//   vpmaddubsw  |x0| * w0' + |x1| * w1', each product equal to x * w, the pair sum at most
//           2 * 128 * 127 = 32512 <= 32767 in magnitude: never saturates
//   vpmaddwd with ones  the two int16 pair sums of a 32-bit lane added exactly into int32
//   vpaddd  into the lane's int32 accumulator
// With VNNI, vpdpbusd adds each 32-bit lane's four u8 x s8 products to it without saturation
// (wrapping), which makes the unsigned-offset scheme usable: the tiles of several rows
// (DotTile) feed it x + 128 (x with its top bit flipped) and the weights as they are, one
// instruction per 32 products and row, and DotRequantize takes 128 * sum(w) per channel off
// the bias, computed once per four channels and call (OffsetCompensation; |128 * sum(w)| <=
// K * 128 * 127 keeps the bias within the accumulator bound). Their partial sums may pass
// int32, as (x + 128) * w reaches 255 * 127, but vpdpbusd, vpaddd and vphaddd all wrap and the
// final accumulator lies in int32, so arithmetic mod 2^32 gives it exactly. Single-row tiles
// and the depthwise fast path keep |x| * (w * sign(x)), vpdpbusd doing the last three steps
// (for one row, the compensation pass would cost what it saves). These loops are the
// intrinsics ones (the inline assembly spells the AVX2 step). INTEGR8_X86_EMULATE_VNNI (for
// tests on CPUs without VNNI) runs the same code with vpdpbusd spelled out in AVX2
// instructions from its definition; INTEGR8_X86_VNNI=0 keeps the AVX2 step on a VNNI target.
// The AVX2 step needs no compensation term, so the bias is used as given. No route needs the
// weights packed: Linear and Conv2d read the row-major weights and OHWI filters where they
// lie, 32 bytes of one output channel's K products at a time, in tiles of 2 activation rows x
// 4 output channels, whose lane sums are added horizontally at the end; a lone (odd last) row
// uses tiles of 1 row x 8 channels instead, computing |x| once per vector for all eight (only
// the vpsignb is per weight row), prefetching the next tile's rows and requantizing eight
// channels at once (RequantizeEight) when every shift is >= 32. Both tiles' loops, the
// partial last vector included, are GNU inline assembly (DotPairSteps, DotRowSteps; the
// intrinsics loops remain for other compilers and for VNNI). With at most kShortDepth (16)
// products per output the channels go across the lanes instead (ShortDotRequantize: weights
// rearranged into int16 pairs, x pairs broadcast into vpmaddwd), since one 32-byte step would
// be mostly padding.
// DepthwiseConv2d with depth_multiplier 1, at most 28 taps and at least 32 channels takes the
// channels 32 at a time (DepthwiseBlock; a last partial block overlaps the one before it):
// four consecutive taps of a channel are interleaved into one 32-bit lane, inputs at run time
// and the filter once per block, and go through the same vpabsb / vpsignb / vpmaddubsw /
// vpmaddwd step; its requantization is eight channels at a time in 32-bit lanes when every
// shift is >= 32 (RequantizeEight), otherwise four at a time. Other depthwise convolutions
// (depth_multiplier > 1, larger filters, fewer than 32 channels) have one product per channel
// and tap: both int8 operands widened to int16, multiplied with vpmullw
// (|x * w| <= 128 * 127 = 16256 fits int16 exactly) and widened to int32 before they are
// added. Requantization is vectorized and exactly integr8::Requantize (see RequantizeFour).
//
// Why the int32 sums are exact: every value an accumulator lane, a horizontal add or the final
// bias addition forms is the sum of a subset of one output channel's K products (plus, last,
// its bias). ValidateAccumulatorBound established |bias| + K * 128 * 127 < 2^31 and each
// |product| <= 128 * 127 (a padded tap reads input_zero_point, also int8), so none of these
// sums wraps; exact integer addition does not depend on order, so the accumulator equals the
// portable kernel's, which then goes through the same single-rounding integr8::Requantize.
#ifndef INTEGR8_BACKEND_X86_H_
#define INTEGR8_BACKEND_X86_H_

#if defined(__AVX2__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "integr8/config.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/linear.h"
#include "integr8/types.h"

// The product step: vpdpbusd where the target has it, unless INTEGR8_X86_VNNI is defined to 0;
// INTEGR8_X86_EMULATE_VNNI=1 takes the vpdpbusd code on any AVX2 target, the instruction
// emulated (tests/CMakeLists.txt runs the x86 suite so).
#if !defined(INTEGR8_X86_VNNI)
#if (defined(__AVX512VNNI__) && defined(__AVX512VL__)) || defined(__AVXVNNI__)
#define INTEGR8_X86_VNNI 1
#else
#define INTEGR8_X86_VNNI 0
#endif
#endif
#if !defined(INTEGR8_X86_EMULATE_VNNI)
#define INTEGR8_X86_EMULATE_VNNI 0
#endif
#if INTEGR8_X86_VNNI && !INTEGR8_X86_EMULATE_VNNI && \
    !((defined(__AVX512VNNI__) && defined(__AVX512VL__)) || defined(__AVXVNNI__))
#error "INTEGR8_X86_VNNI needs -mavxvnni or -mavx512vnni -mavx512vl (or INTEGR8_X86_EMULATE_VNNI)"
#endif
#define INTEGR8_X86_DPBUSD_ (INTEGR8_X86_VNNI || INTEGR8_X86_EMULATE_VNNI)

// The 2 x 4 and 1 x 8 tiles' inner loops are GNU inline assembly (DotPairSteps, DotRowSteps)
// where the compiler speaks it (g++, clang) and the step is AVX2's; elsewhere, or with
// INTEGR8_X86_INLINE_ASM defined to 0, the intrinsics loops of DotTile and DotRowTile run
// instead, the same instructions. Both are tested (tests/CMakeLists.txt).
#if !defined(INTEGR8_X86_INLINE_ASM)
#if defined(__GNUC__) && !INTEGR8_X86_DPBUSD_
#define INTEGR8_X86_INLINE_ASM 1
#else
#define INTEGR8_X86_INLINE_ASM 0
#endif
#endif
#if INTEGR8_X86_INLINE_ASM && INTEGR8_X86_DPBUSD_
#error "INTEGR8_X86_INLINE_ASM spells the AVX2 step; it cannot be combined with vpdpbusd"
#endif

namespace integr8::backend::x86 {

#if INTEGR8_X86_EMULATE_VNNI
inline constexpr const char* kName = "x86-avx2-emulated-vnni";
#elif INTEGR8_X86_VNNI
inline constexpr const char* kName = "x86-vnni";
#else
inline constexpr const char* kName = "x86-avx2";
#endif

namespace internal {

// Conv2d gathers the im2col patches of a block of output positions into a stack array of
// this many bytes (plus one vector of slack, so that a patch's last 32-byte load stays inside).
inline constexpr int32_t kPatchBytes = 16384;
inline constexpr int32_t kVectorBytes = 32;
// Output channels per tile: one weight row per accumulator column.
inline constexpr int32_t kTileColumns = 4;

inline __m256i Load(const int8_t* bytes) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes));
}

// The first `count` (0 < count < 32) of 32 readable bytes at `bytes`, zeros after them.
inline __m256i LoadFirst(const int8_t* bytes, int32_t count) {
  alignas(kVectorBytes) static constexpr int8_t kKeepMask[2 * kVectorBytes] = {
      -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
      -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  return _mm256_and_si256(Load(bytes), Load(kKeepMask + kVectorBytes - count));
}

// Where the last, partial vector of each of `rows` rows of `depth` int8 (row r at
// base + r * depth) can be read as 32 bytes: in place, or, for the few last rows whose
// 32 bytes would run past `end`, a copy made once here (so the kernels never branch or call
// memcpy per tile). Fewer than kVectorBytes rows need a copy: a copied row's tail starts
// within 32 bytes of `end`, and the rows' tails are at least one byte apart.
class RowTails {
 public:
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): copies_ rows are written when used.
  RowTails(const int8_t* base, int32_t rows, int32_t depth, const int8_t* end)
      : base_(base), depth_(depth), offset_(depth - depth % kVectorBytes) {
    // Row r's tail stays in place when base + r * depth + offset + 32 <= end, i.e. when
    // r * depth <= room.
    const ptrdiff_t room = end - base - offset_ - kVectorBytes;
    const ptrdiff_t in_place = room < 0 ? 0 : room / depth + 1;
    first_copied_ = in_place < rows ? static_cast<int32_t>(in_place) : rows;
    // Each copy is written whole (zeros, then the tail over them), so that no byte the kernels load is
    // uninitialized; only the copied rows are touched, not the whole array (zeroing all
    // kVectorBytes^2 bytes on every call was a measurable part of a small layer's time).
    const auto tail_bytes = static_cast<size_t>(depth - offset_);
    for (int32_t row = first_copied_; row < rows; ++row) {
      const int8_t* const tail = base + static_cast<ptrdiff_t>(row) * depth + offset_;
      int8_t* const copy = copies_[row - first_copied_];
      _mm256_store_si256(reinterpret_cast<__m256i*>(copy), _mm256_setzero_si256());
      std::memcpy(copy, tail, tail_bytes);
    }
  }
  const int8_t* Tail(int32_t row) const {
    return row < first_copied_ ? base_ + static_cast<ptrdiff_t>(row) * depth_ + offset_
                               : copies_[row - first_copied_];
  }

 private:
  const int8_t* base_;
  int32_t depth_;
  int32_t offset_;  // where the partial vector starts in a row
  int32_t first_copied_ = 0;
  // Rows 0 .. rows - first_copied_ - 1 are written by the constructor; Tail() reads no other.
  alignas(kVectorBytes) int8_t copies_[kVectorBytes][kVectorBytes];
};

#if INTEGR8_X86_DPBUSD_
// vpdpbusd: each int32 lane of acc plus the four products of its unsigned bytes of
// `unsigned_bytes` with the signed bytes of `signed_bytes`, wrapping (no saturation).
inline __m256i DotQuadsAccumulate(__m256i acc, __m256i unsigned_bytes, __m256i signed_bytes) {
#if INTEGR8_X86_EMULATE_VNNI
  // The instruction's definition in AVX2: even and odd bytes widened to int16 (zero- and
  // sign-extended), vpmaddwd adds the two products of each 32-bit lane exactly in int32.
  const __m256i low_bytes = _mm256_set1_epi16(0x00FF);
  const __m256i even = _mm256_madd_epi16(
      _mm256_and_si256(unsigned_bytes, low_bytes),
      _mm256_srai_epi16(_mm256_slli_epi16(signed_bytes, 8), 8));
  const __m256i odd = _mm256_madd_epi16(_mm256_srli_epi16(unsigned_bytes, 8),
                                        _mm256_srai_epi16(signed_bytes, 8));
  return _mm256_add_epi32(acc, _mm256_add_epi32(even, odd));
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, unsigned_bytes, signed_bytes);
#else
  return _mm256_dpbusd_avx_epi32(acc, unsigned_bytes, signed_bytes);
#endif
}
#endif  // INTEGR8_X86_DPBUSD_

// acc += the int32 lane sums of x * w over 32 int8 pairs; exact, see the top of this file.
// abs_x = |x| (vpabsb), computed once per activation vector and shared across weight rows.
inline __m256i MultiplyAccumulate(__m256i acc, __m256i x, __m256i abs_x, __m256i w) {
  const __m256i signed_w = _mm256_sign_epi8(w, x);
#if INTEGR8_X86_DPBUSD_
  return DotQuadsAccumulate(acc, abs_x, signed_w);
#else
  const __m256i pair_sums = _mm256_maddubs_epi16(abs_x, signed_w);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pair_sums, _mm256_set1_epi16(1)));
#endif
}

// The four lane-sums of acc[0..3], in that order.
inline __m128i SumLanes(const __m256i acc[kTileColumns]) {
  const __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]),
                                         _mm256_hadd_epi32(acc[2], acc[3]));
  return _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
}

#if INTEGR8_X86_INLINE_ASM
// The start of both assembly loops: accumulators ymm0-7 zeroed, int16 ones in ymm15.
#define INTEGR8_X86_ZERO_ACCUMULATORS_AND_ONES \
  "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"           \
  "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"           \
  "vpxor %%xmm2, %%xmm2, %%xmm2\n\t"           \
  "vpxor %%xmm3, %%xmm3, %%xmm3\n\t"           \
  "vpxor %%xmm4, %%xmm4, %%xmm4\n\t"           \
  "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"           \
  "vpxor %%xmm6, %%xmm6, %%xmm6\n\t"           \
  "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"           \
  "vpcmpeqw %%ymm15, %%ymm15, %%ymm15\n\t"     \
  "vpsrlw $15, %%ymm15, %%ymm15\n\t"

// sums[r] = the four channel sums over k < depth of rows[r][k] * columns[c][k] for the 2 x 4
// tile: DotTile's loop and SumLanes, the same instructions in inline assembly. The full
// vectors (k < full, a multiple of 32) are read in place; unless `tail` is null, one more step
// reads the masked partial vectors from tail[0..5] (x0, x1, w0..w3, 32 bytes each). Written
// out because g++ 12 keeps fewer than the 16 vectors this loop needs in registers when it is
// written with intrinsics (8 accumulators, x and |x| of both rows, the weight vector, two
// products, the ones) and moves accumulators through the stack inside the loop. Each pair
// (r, c) is the exact step of MultiplyAccumulate. Registers: acc[0][0..3] in ymm0-3,
// acc[1][0..3] in ymm4-7, x0 x1 in ymm8-9, |x0| |x1| in ymm10-11, the weight vector in ymm12,
// the products in ymm13-14, the ones in ymm15; the sums go out through memory (every register
// is claimed). The offset k runs from -full up to 0 against pointers advanced by full, so the
// loop needs no separate end. volatile: the only effect the compiler could see otherwise is on
// k, which is dead after the statement.
inline void DotPairSteps(const int8_t* const rows[2], const int8_t* const columns[kTileColumns],
                         int32_t full, const int8_t* tail, __m128i sums[2]) {
  ptrdiff_t k = -static_cast<ptrdiff_t>(full);
  // One (r, c) pair: ymm13/14 = |x_r| * (w * sign(x_r)) pair sums, widened, added.
#define INTEGR8_X86_PAIR(x, abs_x, product, accumulator)            \
  "vpsignb %%ymm" x ", %%ymm12, %%ymm" product "\n\t"               \
  "vpmaddubsw %%ymm" product ", %%ymm" abs_x ", %%ymm" product "\n\t" \
  "vpmaddwd %%ymm15, %%ymm" product ", %%ymm" product "\n\t"       \
  "vpaddd %%ymm" product ", %%ymm" accumulator ", %%ymm" accumulator "\n\t"
  // One 32-byte step of the tile, the five vectors read from the given addresses.
#define INTEGR8_X86_STEP(x0, x1, w0, w1, w2, w3)                                          \
  "vmovdqu " x0 ", %%ymm8\n\t"                                                            \
  "vmovdqu " x1 ", %%ymm9\n\t"                                                            \
  "vpabsb %%ymm8, %%ymm10\n\t"                                                            \
  "vpabsb %%ymm9, %%ymm11\n\t"                                                            \
  "vmovdqu " w0 ", %%ymm12\n\t" INTEGR8_X86_PAIR("8", "10", "13", "0")                    \
  INTEGR8_X86_PAIR("9", "11", "14", "4")                                                  \
  "vmovdqu " w1 ", %%ymm12\n\t" INTEGR8_X86_PAIR("8", "10", "13", "1")                    \
  INTEGR8_X86_PAIR("9", "11", "14", "5")                                                  \
  "vmovdqu " w2 ", %%ymm12\n\t" INTEGR8_X86_PAIR("8", "10", "13", "2")                    \
  INTEGR8_X86_PAIR("9", "11", "14", "6")                                                  \
  "vmovdqu " w3 ", %%ymm12\n\t" INTEGR8_X86_PAIR("8", "10", "13", "3")                    \
  INTEGR8_X86_PAIR("9", "11", "14", "7")
  __asm__ volatile(
      INTEGR8_X86_ZERO_ACCUMULATORS_AND_ONES
      "test %[k], %[k]\n\t"
      "jz 2f\n\t"
      "1:\n\t"
      INTEGR8_X86_STEP("(%[row0], %[k])", "(%[row1], %[k])", "(%[column0], %[k])",
                       "(%[column1], %[k])", "(%[column2], %[k])", "(%[column3], %[k])")
      "add $32, %[k]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "test %[tail], %[tail]\n\t"
      "jz 3f\n\t"
      INTEGR8_X86_STEP("(%[tail])", "32(%[tail])", "64(%[tail])", "96(%[tail])",
                       "128(%[tail])", "160(%[tail])")
      "3:\n\t"
      // sums[r] = SumLanes(acc[r]): the same hadds and cross-half add.
      "vphaddd %%ymm1, %%ymm0, %%ymm0\n\t"
      "vphaddd %%ymm3, %%ymm2, %%ymm2\n\t"
      "vphaddd %%ymm2, %%ymm0, %%ymm0\n\t"
      "vextracti128 $1, %%ymm0, %%xmm1\n\t"
      "vpaddd %%xmm1, %%xmm0, %%xmm0\n\t"
      "vmovdqu %%xmm0, 0(%[sums])\n\t"
      "vphaddd %%ymm5, %%ymm4, %%ymm4\n\t"
      "vphaddd %%ymm7, %%ymm6, %%ymm6\n\t"
      "vphaddd %%ymm6, %%ymm4, %%ymm4\n\t"
      "vextracti128 $1, %%ymm4, %%xmm5\n\t"
      "vpaddd %%xmm5, %%xmm4, %%xmm4\n\t"
      "vmovdqu %%xmm4, 16(%[sums])\n\t"
      : [k] "+r"(k)
      : [sums] "r"(sums), [tail] "r"(tail), [row0] "r"(rows[0] + full),
        [row1] "r"(rows[1] + full), [column0] "r"(columns[0] + full),
        [column1] "r"(columns[1] + full), [column2] "r"(columns[2] + full),
        [column3] "r"(columns[3] + full)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef INTEGR8_X86_STEP
#undef INTEGR8_X86_PAIR
}
#endif  // INTEGR8_X86_INLINE_ASM

// sums[r][c] = sum over k < depth of rows[r][k] * columns[c][k], for kRows activation rows and
// kTileColumns weight rows, each `depth` int8 contiguous; row_tails / column_tails point at 32
// readable bytes holding each row's last depth % 32 values (RowTails). With vpdpbusd the tile
// takes the unsigned-offset route instead: sums[r][c] = sum of (rows[r][k] + 128) *
// columns[c][k], wrapped to 32 bits, and DotRequantize takes 128 * (sum of columns[c][k]) off
// the bias (OffsetCompensation; see "With VNNI" at the top of this file).
template <size_t kRows>
inline void DotTile(const int8_t* const rows[kRows], const int8_t* const row_tails[kRows],
                    const int8_t* const columns[kTileColumns],
                    const int8_t* const column_tails[kTileColumns], int32_t depth,
                    __m128i sums[kRows]) {
  __m256i acc[kRows][kTileColumns];
  for (size_t r = 0; r < kRows; ++r) {
    for (int32_t c = 0; c < kTileColumns; ++c) acc[r][c] = _mm256_setzero_si256();
  }
  const auto step = [&](const __m256i x[kRows], const __m256i w[kTileColumns]) {
#if INTEGR8_X86_DPBUSD_
    // x + 128 as an unsigned byte is x with its top bit flipped.
    __m256i offset_x[kRows];
    for (size_t r = 0; r < kRows; ++r) {
      offset_x[r] = _mm256_xor_si256(x[r], _mm256_set1_epi8(static_cast<char>(0x80)));
    }
    for (int32_t c = 0; c < kTileColumns; ++c) {
      for (size_t r = 0; r < kRows; ++r) {
        acc[r][c] = DotQuadsAccumulate(acc[r][c], offset_x[r], w[c]);
      }
    }
#else
    __m256i abs_x[kRows];
    for (size_t r = 0; r < kRows; ++r) abs_x[r] = _mm256_abs_epi8(x[r]);
    for (int32_t c = 0; c < kTileColumns; ++c) {
      for (size_t r = 0; r < kRows; ++r) {
        acc[r][c] = MultiplyAccumulate(acc[r][c], x[r], abs_x[r], w[c]);
      }
    }
#endif
  };
#if INTEGR8_X86_INLINE_ASM
  if constexpr (kRows == 2) {
    // The partial last vector (if any), masked, as the statement's last step.
    const int32_t full = depth - depth % kVectorBytes;
    alignas(kVectorBytes) int8_t tail[kRows + kTileColumns][kVectorBytes];
    if (full < depth) {
      for (size_t r = 0; r < kRows; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(tail[r]),
                           LoadFirst(row_tails[r], depth - full));
      }
      for (size_t c = 0; c < kTileColumns; ++c) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(tail[kRows + c]),
                           LoadFirst(column_tails[c], depth - full));
      }
    }
    DotPairSteps(rows, columns, full, full < depth ? tail[0] : nullptr, sums);
    return;
  }
#endif
  int32_t k = 0;
  for (; k + kVectorBytes <= depth; k += kVectorBytes) {
    __m256i x[kRows];
    __m256i w[kTileColumns];
    for (size_t r = 0; r < kRows; ++r) x[r] = Load(rows[r] + k);
    for (int32_t c = 0; c < kTileColumns; ++c) w[c] = Load(columns[c] + k);
    step(x, w);
  }
  if (k < depth) {
    __m256i x[kRows];
    __m256i w[kTileColumns];
    for (size_t r = 0; r < kRows; ++r) x[r] = LoadFirst(row_tails[r], depth - k);
    for (int32_t c = 0; c < kTileColumns; ++c) w[c] = LoadFirst(column_tails[c], depth - k);
    step(x, w);
  }
  for (size_t r = 0; r < kRows; ++r) sums[r] = SumLanes(acc[r]);
}

#if INTEGR8_X86_DPBUSD_
// 128 * (the sum over k < depth of columns[c][k]) for c = 0..3, what DotTile's offset adds to
// each row's dot product with column c: vpdpbusd of 128 (0x80 unsigned) with the weights,
// whose tails are masked as DotTile masks them. Exact: |128 * sum| <= K * 128 * 127 < 2^31.
inline __m128i OffsetCompensation(const int8_t* const columns[kTileColumns],
                                  const int8_t* const column_tails[kTileColumns],
                                  int32_t depth) {
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256i acc[kTileColumns];
  for (int32_t c = 0; c < kTileColumns; ++c) acc[c] = _mm256_setzero_si256();
  int32_t k = 0;
  for (; k + kVectorBytes <= depth; k += kVectorBytes) {
    for (int32_t c = 0; c < kTileColumns; ++c) {
      acc[c] = DotQuadsAccumulate(acc[c], offset, Load(columns[c] + k));
    }
  }
  if (k < depth) {
    for (int32_t c = 0; c < kTileColumns; ++c) {
      acc[c] = DotQuadsAccumulate(acc[c], offset, LoadFirst(column_tails[c], depth - k));
    }
  }
  return SumLanes(acc);
}
#endif  // INTEGR8_X86_DPBUSD_

// integr8::Requantize of bias + accumulator for four channels at once, exactly: for each lane,
// in int64, y = clamp(z_out + ((acc * m + 2^(n-1)) >> n), act_min, act_max). AVX2 has no
// 64-bit arithmetic right shift, so the floor shift is a logical one of a value made
// non-negative: with |acc * m| < 2^62 (|acc| < 2^31 by the accumulator bound, m < 2^31),
// t = acc * m + 2^(n-1) + 2^62 lies in (0, 2^63 + 2^61), exact as an unsigned 64-bit lane, and
// t >> n = floor((acc * m + 2^(n-1)) / 2^n) + 2^(62-n) exactly because 2^n divides 2^62
// (n <= 62). Subtracting 2^(62-n) and adding z_out gives the int64 sum the scalar formula
// clamps; the clamp is a signed 64-bit compare, and the clamped values fit int8.
class RequantizeFour {
 public:
  RequantizeFour() = default;  // for arrays assigned before use
  // Channels channel .. channel + count - 1 (count in 1..4; lanes past count repeat the last
  // channel, so every table read stays in bounds).
  RequantizeFour(const RequantizeParams& requantize, const int32_t* bias, int32_t channel,
                 int32_t count) {
    const __m256i one = _mm256_set1_epi64x(1);
    bias_ = LoadFour(bias, channel, count);
    multiplier_ = _mm256_cvtepi32_epi64(
        requantize.per_channel ? LoadFour(requantize.multipliers, channel, count)
                               : _mm_set1_epi32(requantize.multipliers[0]));
    shift_ = _mm256_cvtepi32_epi64(requantize.per_channel
                                       ? LoadFour(requantize.shifts, channel, count)
                                       : _mm_set1_epi32(requantize.shifts[0]));
    rounding_ = _mm256_add_epi64(_mm256_sllv_epi64(one, _mm256_sub_epi64(shift_, one)),
                                 _mm256_set1_epi64x(int64_t{1} << 62));
    offset_ = _mm256_sub_epi64(_mm256_set1_epi64x(requantize.output_zero_point),
                               _mm256_sllv_epi64(one, _mm256_sub_epi64(_mm256_set1_epi64x(62), shift_)));
    min_ = _mm256_set1_epi64x(requantize.activation_min);
    max_ = _mm256_set1_epi64x(requantize.activation_max);
  }

#if INTEGR8_X86_DPBUSD_
  // bias[c] - amounts[c] from here on; the caller keeps it within the accumulator bound.
  void SubtractFromBias(__m128i amounts) { bias_ = _mm_sub_epi32(bias_, amounts); }
#endif

  // output[c] = requantized bias[c] + sums[c] for the first `count` lanes.
  void Store(__m128i sums, int32_t count, int8_t* output) const {
    // Cannot overflow: |bias| + K * 128 * 127 < 2^31 (see the top of this file); with the
    // VNNI offset, sums and bias wrap and their 32-bit sum is the exact accumulator.
    const __m256i acc = _mm256_cvtepi32_epi64(_mm_add_epi32(sums, bias_));
    const __m256i shifted = _mm256_srlv_epi64(
        _mm256_add_epi64(_mm256_mul_epi32(acc, multiplier_), rounding_), shift_);
    __m256i y = _mm256_add_epi64(shifted, offset_);
    y = _mm256_blendv_epi8(y, min_, _mm256_cmpgt_epi64(min_, y));
    y = _mm256_blendv_epi8(y, max_, _mm256_cmpgt_epi64(y, max_));
    // The low 32 bits of each lane hold the int8 value; narrow them to four bytes.
    __m128i values = _mm256_castsi256_si128(
        _mm256_permutevar8x32_epi32(y, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
    values = _mm_packs_epi32(values, values);
    values = _mm_packs_epi16(values, values);
    const auto bytes = static_cast<uint32_t>(_mm_cvtsi128_si32(values));
    if (count == kTileColumns) {
      std::memcpy(output, &bytes, sizeof bytes);  // one 32-bit store
    } else {
      for (int32_t c = 0; c < count; ++c) {
        output[c] = static_cast<int8_t>(bytes >> (8 * c));
      }
    }
  }

 private:
  // table[first .. first + count - 1], the last entry repeated into lanes past count; one
  // vector load when all four exist (building the vector in memory from scalars would stall
  // store-to-load forwarding).
  static __m128i LoadFour(const int32_t* table, int32_t first, int32_t count) {
    if (count == kTileColumns) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(table + first));
    }
    const int32_t last = first + count - 1;
    return _mm_setr_epi32(table[first], table[first + 1 < last ? first + 1 : last],
                          table[first + 2 < last ? first + 2 : last], table[last]);
  }

  __m128i bias_;
  __m256i multiplier_;
  __m256i shift_;
  __m256i rounding_;
  __m256i offset_;
  __m256i min_;
  __m256i max_;
};

// integr8::Requantize of an accumulator (the bias included) for eight channels at once, when
// every shift n is at least 32. t = acc * m + 2^(n-1) is exact in a signed 64-bit lane
// (|acc * m| < 2^62, 2^(n-1) <= 2^61); its high 32 bits, read as int32, are floor(t / 2^32),
// and an arithmetic shift of those by n - 32 (in [0, 30]) gives floor(t / 2^n) = r =
// MultiplyByQuantizedMultiplier(acc, m, n). With n >= 32, |r| < 2^31 - 128, so z_out + r and
// the clamp are exact in 32-bit lanes.
class RequantizeEight {
 public:
  RequantizeEight() = default;  // for arrays assigned before use
  // Channels channel .. channel + 7; every shift (of these, or the per-tensor one) >= 32.
  RequantizeEight(const RequantizeParams& requantize, int32_t channel) {
    __m256i multiplier;
    __m256i shift;
    if (requantize.per_channel) {
      multiplier = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(requantize.multipliers +
                                                                      channel));
      shift = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(requantize.shifts + channel));
    } else {
      multiplier = _mm256_set1_epi32(requantize.multipliers[0]);
      shift = _mm256_set1_epi32(requantize.shifts[0]);
    }
    const __m256i one = _mm256_set1_epi64x(1);
    multiplier_even_ = multiplier;
    multiplier_odd_ = _mm256_srli_epi64(multiplier, 32);
    const __m256i shift_even = _mm256_and_si256(shift, _mm256_set1_epi64x(0xFFFFFFFF));
    const __m256i shift_odd = _mm256_srli_epi64(shift, 32);
    rounding_even_ = _mm256_sllv_epi64(one, _mm256_sub_epi64(shift_even, one));
    rounding_odd_ = _mm256_sllv_epi64(one, _mm256_sub_epi64(shift_odd, one));
    low_shift_ = _mm256_sub_epi32(shift, _mm256_set1_epi32(32));
    zero_point_ = _mm256_set1_epi32(requantize.output_zero_point);
    min_ = _mm256_set1_epi32(requantize.activation_min);
    max_ = _mm256_set1_epi32(requantize.activation_max);
  }

  // The eight requantized int32 values (in the activation range) of the accumulators (the
  // bias included).
  __m256i Apply(__m256i acc) const {
    const __m256i even =
        _mm256_add_epi64(_mm256_mul_epi32(acc, multiplier_even_), rounding_even_);
    const __m256i odd = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), multiplier_odd_), rounding_odd_);
    // The high halves of t, even channels moved down into the even dwords.
    __m256i y = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    y = _mm256_add_epi32(_mm256_srav_epi32(y, low_shift_), zero_point_);
    return _mm256_min_epi32(_mm256_max_epi32(y, min_), max_);
  }

  // output[0..7] = Apply(acc) as int8 (in range, so the saturating packs are exact).
  void Store(__m256i acc, int8_t* output) const {
    const __m256i y = Apply(acc);
    const __m128i words =
        _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(output), _mm_packs_epi16(words, words));
  }

 private:
  __m256i multiplier_even_;
  __m256i multiplier_odd_;
  __m256i rounding_even_;
  __m256i rounding_odd_;
  __m256i low_shift_;
  __m256i zero_point_;
  __m256i min_;
  __m256i max_;
};

// True when every shift of channels [first_channel, first_channel + count) is at least 32.
inline bool ShiftsAtLeast32(const RequantizeParams& requantize, int32_t first_channel,
                            int32_t count) {
  if (!requantize.per_channel) return requantize.shifts[0] >= 32;
  for (int32_t c = first_channel; c < first_channel + count; ++c) {
    if (requantize.shifts[c] < 32) return false;
  }
  return true;
}

// Output channels per single-row tile (DotRowRequantize): a lone activation row has no second
// row to reuse each weight vector with, so the tile is wider instead, sharing the loaded x and
// its |x| across eight weight rows and keeping eight independent accumulator chains.
inline constexpr int32_t kRowTileColumns = 8;

// The eight lane-sums of acc[0..7], in that order: six hadds and one cross-half add instead of
// eight separate reductions.
inline __m256i SumLanesEight(const __m256i acc[kRowTileColumns]) {
  // low = acc[0..3]'s four partial sums in each 128-bit half, high the same for acc[4..7].
  const __m256i low = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]),
                                        _mm256_hadd_epi32(acc[2], acc[3]));
  const __m256i high = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[4], acc[5]),
                                         _mm256_hadd_epi32(acc[6], acc[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(low, high, 0x20),
                          _mm256_permute2x128_si256(low, high, 0x31));
}

// sums[c] = sum over k < depth of row[k] * tile[c * depth + k] for the kRowTileColumns weight
// rows from `tile` on, with the tails as in DotTile (tails[c] of row c). The columns are
// unrolled by the index pack so that the eight accumulators and row pointers stay in
// registers. Unless `prefetch` is null, the kRowTileColumns * depth bytes from there (the next
// tile, readable) are prefetched into L1 while this tile runs, four lines per 32-byte step:
// the hardware prefetcher, tracking eight short rows at once, leaves the loop waiting on L2 or
// L3 otherwise.
#if INTEGR8_X86_INLINE_ASM
// *sums = the kRowTileColumns channel sums over k < depth of row[k] * tile[c * depth + k]:
// DotRowTile's loop and SumLanesEight in inline assembly, for the reason given at
// DotPairSteps (g++ keeps copies of the accumulators on the stack inside the intrinsics loop).
// The full vectors (k < full, a multiple of 32) are read in place, prefetching lines
// [8k, 8k + 256) from `prefetch` at step k as DotRowTile does (`prefetch` must be readable for
// kRowTileColumns * full bytes; the caller passes the tile itself when there is no next one);
// unless `x_tail` is null, one more step reads the masked partial vector of x there and the
// weight rows' partial vectors at w_tails[0..7] (32 readable bytes each; x is zero past
// depth, so vpsignb zeroes what they hold there). Registers: acc[0..7] in ymm0-7, x in ymm8,
// |x| in ymm9, the weight vector in ymm10, the products in ymm11-12, the ones in ymm15.
// Column c is read at tile + c * depth, addressed from three bases (columns 0, 3, 6) plus 0,
// 1 or 2 times depth, all advanced by 32 per step; a tail's address goes through rax.
inline void DotRowSteps(const int8_t* row, const int8_t* tile, int32_t depth, int32_t full,
                        const int8_t* prefetch, const int8_t* x_tail,
                        const int8_t* const w_tails[kRowTileColumns], __m256i* sums) {
  const auto stride = static_cast<ptrdiff_t>(depth);
  const int8_t* column0 = tile;
  const int8_t* column3 = tile + 3 * stride;
  const int8_t* column6 = tile + 6 * stride;
  ptrdiff_t steps = full / kVectorBytes;
#define INTEGR8_X86_ROW_COLUMN(address, product, accumulator)                \
  "vmovdqu " address ", %%ymm10\n\t"                                         \
  "vpsignb %%ymm8, %%ymm10, %%ymm" product "\n\t"                            \
  "vpmaddubsw %%ymm" product ", %%ymm9, %%ymm" product "\n\t"                \
  "vpmaddwd %%ymm15, %%ymm" product ", %%ymm" product "\n\t"                 \
  "vpaddd %%ymm" product ", %%ymm" accumulator ", %%ymm" accumulator "\n\t"
#define INTEGR8_X86_TAIL_COLUMN(index, product, accumulator) \
  "mov " #index "*8(%[w_tails]), %%rax\n\t" INTEGR8_X86_ROW_COLUMN("(%%rax)", product, accumulator)
  __asm__ volatile(
      INTEGR8_X86_ZERO_ACCUMULATORS_AND_ONES
      "test %[steps], %[steps]\n\t"
      "jz 2f\n\t"
      "1:\n\t"
      "prefetcht0 (%[prefetch])\n\t"
      "prefetcht0 64(%[prefetch])\n\t"
      "prefetcht0 128(%[prefetch])\n\t"
      "prefetcht0 192(%[prefetch])\n\t"
      "vmovdqu (%[row]), %%ymm8\n\t"
      "vpabsb %%ymm8, %%ymm9\n\t"
      INTEGR8_X86_ROW_COLUMN("(%[column0])", "11", "0")
      INTEGR8_X86_ROW_COLUMN("(%[column0], %[stride])", "12", "1")
      INTEGR8_X86_ROW_COLUMN("(%[column0], %[stride], 2)", "11", "2")
      INTEGR8_X86_ROW_COLUMN("(%[column3])", "12", "3")
      INTEGR8_X86_ROW_COLUMN("(%[column3], %[stride])", "11", "4")
      INTEGR8_X86_ROW_COLUMN("(%[column3], %[stride], 2)", "12", "5")
      INTEGR8_X86_ROW_COLUMN("(%[column6])", "11", "6")
      INTEGR8_X86_ROW_COLUMN("(%[column6], %[stride])", "12", "7")
      "add $32, %[row]\n\t"
      "add $32, %[column0]\n\t"
      "add $32, %[column3]\n\t"
      "add $32, %[column6]\n\t"
      "add $256, %[prefetch]\n\t"
      "dec %[steps]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "test %[x_tail], %[x_tail]\n\t"
      "jz 3f\n\t"
      "vmovdqu (%[x_tail]), %%ymm8\n\t"
      "vpabsb %%ymm8, %%ymm9\n\t"
      INTEGR8_X86_TAIL_COLUMN(0, "11", "0")
      INTEGR8_X86_TAIL_COLUMN(1, "12", "1")
      INTEGR8_X86_TAIL_COLUMN(2, "11", "2")
      INTEGR8_X86_TAIL_COLUMN(3, "12", "3")
      INTEGR8_X86_TAIL_COLUMN(4, "11", "4")
      INTEGR8_X86_TAIL_COLUMN(5, "12", "5")
      INTEGR8_X86_TAIL_COLUMN(6, "11", "6")
      INTEGR8_X86_TAIL_COLUMN(7, "12", "7")
      "3:\n\t"
      // *sums = SumLanesEight(acc): the same hadds, cross-half permutes and add.
      "vphaddd %%ymm1, %%ymm0, %%ymm0\n\t"
      "vphaddd %%ymm3, %%ymm2, %%ymm2\n\t"
      "vphaddd %%ymm2, %%ymm0, %%ymm0\n\t"
      "vphaddd %%ymm5, %%ymm4, %%ymm4\n\t"
      "vphaddd %%ymm7, %%ymm6, %%ymm6\n\t"
      "vphaddd %%ymm6, %%ymm4, %%ymm4\n\t"
      "vperm2i128 $0x20, %%ymm4, %%ymm0, %%ymm1\n\t"
      "vperm2i128 $0x31, %%ymm4, %%ymm0, %%ymm2\n\t"
      "vpaddd %%ymm2, %%ymm1, %%ymm1\n\t"
      "vmovdqu %%ymm1, (%[sums])\n\t"
      : [row] "+r"(row), [column0] "+r"(column0), [column3] "+r"(column3),
        [column6] "+r"(column6), [prefetch] "+r"(prefetch), [steps] "+r"(steps)
      : [stride] "r"(stride), [sums] "r"(sums), [x_tail] "r"(x_tail), [w_tails] "r"(w_tails)
      : "cc", "memory", "rax", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm15");
#undef INTEGR8_X86_TAIL_COLUMN
#undef INTEGR8_X86_ROW_COLUMN
#undef INTEGR8_X86_ZERO_ACCUMULATORS_AND_ONES
}
#endif  // INTEGR8_X86_INLINE_ASM

template <size_t... kColumns>
inline __m256i DotRowTile(std::index_sequence<kColumns...> /*columns*/, const int8_t* row,
                          const int8_t* row_tail, const int8_t* tile,
                          const int8_t* const tails[kRowTileColumns], const int8_t* prefetch,
                          int32_t depth) {
  static_assert(sizeof...(kColumns) == kRowTileColumns);
#if INTEGR8_X86_INLINE_ASM
  const int32_t full = depth - depth % kVectorBytes;
  alignas(kVectorBytes) int8_t x_tail[kVectorBytes];
  if (full < depth) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(x_tail), LoadFirst(row_tail, depth - full));
  }
  __m256i sums = _mm256_setzero_si256();
  DotRowSteps(row, tile, depth, full, prefetch != nullptr ? prefetch : tile,
              full < depth ? x_tail : nullptr, tails, &sums);
  return sums;
#else
  __m256i acc[kRowTileColumns] = {(static_cast<void>(kColumns), _mm256_setzero_si256())...};
  constexpr int32_t kLineBytes = 64;
  constexpr int32_t kStepLines = kRowTileColumns * kVectorBytes / kLineBytes;
  const int8_t* const columns[kRowTileColumns] = {
      tile + static_cast<ptrdiff_t>(kColumns) * depth...};
  int32_t k = 0;
  for (; k + kVectorBytes <= depth; k += kVectorBytes) {
    if (prefetch != nullptr) {
      // Lines [8k, 8k + 256) of the next tile: inside it, as k + 32 <= depth.
      const int8_t* const lines = prefetch + static_cast<ptrdiff_t>(k) * kRowTileColumns;
      for (ptrdiff_t line = 0; line < kStepLines; ++line) {
        _mm_prefetch(reinterpret_cast<const char*>(lines + line * kLineBytes), _MM_HINT_T0);
      }
    }
    const __m256i x = Load(row + k);
    const __m256i abs_x = _mm256_abs_epi8(x);
    ((acc[kColumns] = MultiplyAccumulate(acc[kColumns], x, abs_x, Load(columns[kColumns] + k))),
     ...);
  }
  if (k < depth) {
    // x is zero past depth, so vpsignb zeroes those weight bytes: only x needs the mask.
    const __m256i x = LoadFirst(row_tail, depth - k);
    const __m256i abs_x = _mm256_abs_epi8(x);
    ((acc[kColumns] = MultiplyAccumulate(acc[kColumns], x, abs_x, Load(tails[kColumns]))), ...);
  }
  return SumLanesEight(acc);
#endif
}

// DotRequantize for one activation row against channels >= kRowTileColumns weight rows, in
// tiles of kRowTileColumns adjacent rows; a short last tile is shifted back to end at the last
// channel instead, recomputing (and rewriting with the same bytes) a few of the previous one.
// Each tile is requantized eight channels at once (RequantizeEight) when every shift is at
// least 32, as typical ones are, else by RequantizeFour.
inline void DotRowRequantize(const int8_t* row, const int8_t* row_tail, const int8_t* weights,
                             int32_t channels, const RowTails& column_tails, int32_t depth,
                             const int32_t* bias, int32_t first_channel,
                             const RequantizeParams& requantize, int8_t* output) {
  // Eight channels per requantization when every shift allows it, else four and four.
  const bool eight_wide = ShiftsAtLeast32(requantize, first_channel, channels);
  const int32_t last_tile = channels - kRowTileColumns;
  for (int32_t channel = 0, done = 0; done < channels; done = channel + kRowTileColumns) {
    channel = done < last_tile ? done : last_tile;
    const int8_t* tails[kRowTileColumns];
    for (int32_t c = 0; c < kRowTileColumns; ++c) tails[c] = column_tails.Tail(channel + c);
    const int32_t next = channel + kRowTileColumns < last_tile ? channel + kRowTileColumns
                                                               : last_tile;
    const int8_t* const prefetch =
        next > channel ? weights + static_cast<ptrdiff_t>(next) * depth : nullptr;
    const __m256i sums = DotRowTile(std::make_index_sequence<kRowTileColumns>(), row, row_tail,
                                    weights + static_cast<ptrdiff_t>(channel) * depth, tails,
                                    prefetch, depth);
    const int32_t tile_channel = first_channel + channel;
    if (eight_wide) {
      // Cannot overflow: |bias| + K * 128 * 127 < 2^31 (see the top of this file).
      const __m256i tile_bias =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + tile_channel));
      RequantizeEight(requantize, tile_channel)
          .Store(_mm256_add_epi32(sums, tile_bias), output + channel);
    } else {
      RequantizeFour(requantize, bias, tile_channel, kTileColumns)
          .Store(_mm256_castsi256_si128(sums), kTileColumns, output + channel);
      RequantizeFour(requantize, bias, tile_channel + kTileColumns, kTileColumns)
          .Store(_mm256_extracti128_si256(sums, 1), kTileColumns,
                 output + channel + kTileColumns);
    }
  }
}

// Depths up to this many products (the MNIST ConvNet's first layer: 3 x 3 x 1 = 9) run
// ShortDotRequantize instead of the tiles, whose single 32-byte step would be mostly padding.
inline constexpr int32_t kShortDepth = 16;
// Output channels per ShortDotRequantize block: one int32 lane each.
inline constexpr int32_t kShortChannels = 8;

// DotRequantize for depth <= kShortDepth: the channels go across the lanes instead of the
// products. For each block of eight channels, the weights are rearranged once into
// packed[p][j] = the int16 pair (w[j][2p], w[j][2p + 1]) of channel j (zeros past depth and
// past the last channel); then for each row, the int16 pair (x[2p], x[2p + 1]) is broadcast
// and vpmaddwd adds x[2p] * w[j][2p] + x[2p + 1] * w[j][2p + 1] into lane j, exactly (int16
// operands, int32 products and sums; the accumulator bound covers every partial sum). Rows and
// weight rows are read through RowTails (depth < 32, so Tail() is the whole row, readable for
// 32 bytes) and masked to depth.
inline void ShortDotRequantize(const RowTails& row_tails, int32_t rows,
                               const RowTails& column_tails, int32_t channels, int32_t depth,
                               const int32_t* bias, int32_t first_channel,
                               const RequantizeParams& requantize, int8_t* output,
                               int32_t output_stride) {
  const int32_t pairs = (depth + 1) / 2;
  for (int32_t block = 0; block < channels; block += kShortChannels) {
    const int32_t count = channels - block < kShortChannels ? channels - block : kShortChannels;
    // wide[j] = channel j's depth weights as int16, zeros after them; 8 int32 pairs.
    alignas(kVectorBytes) int32_t wide[kShortChannels][kShortChannels];
    for (int32_t j = 0; j < kShortChannels; ++j) {
      const __m256i w = j < count ? _mm256_cvtepi8_epi16(_mm256_castsi256_si128(
                                        LoadFirst(column_tails.Tail(block + j), depth)))
                                  : _mm256_setzero_si256();
      _mm256_store_si256(reinterpret_cast<__m256i*>(wide[j]), w);
    }
    alignas(kVectorBytes) int32_t packed[kShortChannels][kShortChannels];
    for (int32_t pair = 0; pair < pairs; ++pair) {
      for (int32_t j = 0; j < kShortChannels; ++j) packed[pair][j] = wide[j][pair];
    }
    const int32_t low_count = count < kTileColumns ? count : kTileColumns;
    const int32_t high_count = count - low_count;
    const RequantizeFour low(requantize, bias, first_channel + block, low_count);
    const RequantizeFour high = high_count > 0 ? RequantizeFour(requantize, bias,
                                                                first_channel + block +
                                                                    kTileColumns,
                                                                high_count)
                                               : low;
    for (int32_t row = 0; row < rows; ++row) {
      // x as int16 pairs, zeros past depth.
      alignas(kVectorBytes) int32_t x_pairs[kShortChannels];
      _mm256_store_si256(reinterpret_cast<__m256i*>(x_pairs),
                         _mm256_cvtepi8_epi16(_mm256_castsi256_si128(
                             LoadFirst(row_tails.Tail(row), depth))));
      __m256i acc = _mm256_setzero_si256();
      for (int32_t pair = 0; pair < pairs; ++pair) {
        acc = _mm256_add_epi32(
            acc, _mm256_madd_epi16(_mm256_set1_epi32(x_pairs[pair]),
                                   _mm256_load_si256(
                                       reinterpret_cast<const __m256i*>(packed[pair]))));
      }
      int8_t* const row_output = output + static_cast<ptrdiff_t>(row) * output_stride + block;
      low.Store(_mm256_castsi256_si128(acc), low_count, row_output);
      if (high_count > 0) {
        high.Store(_mm256_extracti128_si256(acc, 1), high_count, row_output + kTileColumns);
      }
    }
  }
}

// The dot-product core of Linear and Conv2d: for `rows` activation rows (row r at
// activations + r * depth) and `channels` weight rows (channel c at weights + c * depth),
// output[r * output_stride + c] = Requantize(bias[c] + sum_k activation[r][k] * weight[c][k]),
// with requantization entries from `first_channel` on. Tiles of 2 rows x 4 channels; a short
// last tile repeats its last channel and drops the duplicates. An odd last row (batch 1 above
// all) runs DotRowRequantize's 1 x 8 tiles when there are at least 8 channels, else 1 x 4
// tiles. Row offsets are formed in ptrdiff_t; the callers' buffers hold at most INT32_MAX
// elements, so they are exact.
inline void DotRequantize(const int8_t* activations, int32_t rows, const int8_t* activations_end,
                          const int8_t* weights, int32_t channels, const int8_t* weights_end,
                          int32_t depth, const int32_t* bias, int32_t first_channel,
                          const RequantizeParams& requantize, int8_t* output,
                          int32_t output_stride) {
  const RowTails row_tails(activations, rows, depth, activations_end);
  const RowTails column_tails(weights, channels, depth, weights_end);
  if (depth <= kShortDepth) {
    ShortDotRequantize(row_tails, rows, column_tails, channels, depth, bias, first_channel,
                       requantize, output, output_stride);
    return;
  }
  const bool has_row_tiles = rows % 2 == 1 && channels >= kRowTileColumns;
  const int32_t tiled_rows = has_row_tiles ? rows - 1 : rows;
  for (int32_t channel = 0; tiled_rows > 0 && channel < channels; channel += kTileColumns) {
    const int32_t count = channels - channel < kTileColumns ? channels - channel : kTileColumns;
    const int8_t* columns[kTileColumns];
    const int8_t* tails[kTileColumns];
    for (int32_t c = 0; c < kTileColumns; ++c) {
      const int32_t column = channel + (c < count ? c : count - 1);
      columns[c] = weights + static_cast<ptrdiff_t>(column) * depth;
      tails[c] = column_tails.Tail(column);
    }
#if INTEGR8_X86_DPBUSD_
    RequantizeFour requantize_four(requantize, bias, first_channel + channel, count);
    // DotTile's sums carry 128 * sum(w) per channel (its unsigned offset): off the bias.
    requantize_four.SubtractFromBias(OffsetCompensation(columns, tails, depth));
#else
    const RequantizeFour requantize_four(requantize, bias, first_channel + channel, count);
#endif
    int32_t row = 0;
    for (; row + 2 <= tiled_rows; row += 2) {
      const int8_t* const first = activations + static_cast<ptrdiff_t>(row) * depth;
      const int8_t* const pair[2] = {first, first + depth};
      const int8_t* const pair_tails[2] = {row_tails.Tail(row), row_tails.Tail(row + 1)};
      __m128i sums[2];
      DotTile<2>(pair, pair_tails, columns, tails, depth, sums);
      int8_t* const first_output = output + static_cast<ptrdiff_t>(row) * output_stride + channel;
      requantize_four.Store(sums[0], count, first_output);
      requantize_four.Store(sums[1], count, first_output + output_stride);
    }
    if (row < tiled_rows) {
      const int8_t* const single[1] = {activations + static_cast<ptrdiff_t>(row) * depth};
      const int8_t* const single_tail[1] = {row_tails.Tail(row)};
      __m128i sums[1];
      DotTile<1>(single, single_tail, columns, tails, depth, sums);
      requantize_four.Store(sums[0], count,
                            output + static_cast<ptrdiff_t>(row) * output_stride + channel);
    }
  }
  if (has_row_tiles) {
    DotRowRequantize(activations + static_cast<ptrdiff_t>(tiled_rows) * depth,
                     row_tails.Tail(tiled_rows), weights, channels, column_tails, depth, bias,
                     first_channel, requantize,
                     output + static_cast<ptrdiff_t>(tiled_rows) * output_stride);
  }
}

// memcpy(destination, source, bytes) for im2col's short runs (a tap of a few channels, a
// filter row of a one-channel input): up to 64 bytes as two possibly overlapping fixed-size
// copies, which compile to a pair of moves instead of a library call; longer runs call memcpy.
inline void CopyBytes(int8_t* destination, const int8_t* source, int32_t bytes) {
  const auto copy_pair = [&](auto size) {
    constexpr auto kSize = static_cast<int32_t>(decltype(size)::value);
    std::memcpy(destination, source, kSize);
    std::memcpy(destination + bytes - kSize, source + bytes - kSize, kSize);
  };
  if (bytes > 32 && bytes <= 64) {
    copy_pair(std::integral_constant<size_t, 32>());
  } else if (bytes >= 16 && bytes <= 32) {
    copy_pair(std::integral_constant<size_t, 16>());
  } else if (bytes >= 8 && bytes < 16) {
    copy_pair(std::integral_constant<size_t, 8>());
  } else if (bytes >= 4 && bytes < 8) {
    copy_pair(std::integral_constant<size_t, 4>());
  } else if (bytes >= 2 && bytes < 4) {
    copy_pair(std::integral_constant<size_t, 2>());
  } else if (bytes == 1) {
    *destination = *source;
  } else if (bytes > 64) {
    std::memcpy(destination, source, static_cast<size_t>(bytes));
  }
}

// Depthwise fallback: 16 channels at a time, one int16 product per channel (|x * w| <= 128 *
// 127 fits int16 exactly), widened to int32 before it is added.
inline constexpr int32_t kDepthwiseChannels = 16;

// Channels [channel, channel + count) of the depthwise input for one output pixel: input
// channel (channel + j) / depth_multiplier of `pixel` (input_channels values), zeros after
// `count`.
inline __m128i LoadDepthwiseInput(const int8_t* pixel, int32_t channel, int32_t count,
                                  int32_t depth_multiplier) {
  if (depth_multiplier == 1 && count == kDepthwiseChannels) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(pixel + channel));
  }
  alignas(16) int8_t local[kDepthwiseChannels] = {};
  for (int32_t j = 0; j < count; ++j) local[j] = pixel[(channel + j) / depth_multiplier];
  return _mm_load_si128(reinterpret_cast<const __m128i*>(local));
}

// `count` (<= 16) filter values, zeros after them.
inline __m128i LoadDepthwiseFilter(const int8_t* taps, int32_t count) {
  if (count == kDepthwiseChannels) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(taps));
  alignas(16) int8_t local[kDepthwiseChannels] = {};
  std::memcpy(local, taps, static_cast<size_t>(count));
  return _mm_load_si128(reinterpret_cast<const __m128i*>(local));
}

// Depthwise fast path (depth_multiplier 1, full blocks of 32 channels): four taps per channel
// in one int32 lane, the product scheme of Linear (|x| * (w * sign(x)) by vpmaddubsw, the pair
// sums added by vpmaddwd). Taps a..d of 32 channels are interleaved bytewise by
// vpunpck{l,h}bw(a, b), (c, d) and then vpunpck{l,h}wd, which works within 128-bit halves:
// vector j holds channels 4j..4j+3 in its low half and 16+4j..16+4j+3 in its high half, four
// consecutive taps each. The filter is interleaved the same way once per block; a last quad's
// missing taps have zero weights (their input is any readable tap).
inline constexpr int32_t kDepthwiseBlock = 32;
// Taps per call the fast path takes (a 5x5 filter; larger ones take the 16-channel path).
inline constexpr int32_t kDepthwiseMaxQuads = 7;

// Bytes a, b, c, d of each channel (32 channels each) rearranged into out[0..3] as above.
inline void InterleaveQuad(__m256i a, __m256i b, __m256i c, __m256i d, __m256i out[4]) {
  const __m256i ab_low = _mm256_unpacklo_epi8(a, b);
  const __m256i ab_high = _mm256_unpackhi_epi8(a, b);
  const __m256i cd_low = _mm256_unpacklo_epi8(c, d);
  const __m256i cd_high = _mm256_unpackhi_epi8(c, d);
  out[0] = _mm256_unpacklo_epi16(ab_low, cd_low);
  out[1] = _mm256_unpackhi_epi16(ab_low, cd_low);
  out[2] = _mm256_unpacklo_epi16(ab_high, cd_high);
  out[3] = _mm256_unpackhi_epi16(ab_high, cd_high);
}

// acc[j] += the quad products of the taps tap(0) .. tap(4 * quads - 1) (each a pointer to 32
// readable input bytes) with weights[4 * q + j]; lanes ordered as in InterleaveQuad.
template <typename TapPointer>
inline void DepthwiseQuads(const TapPointer& tap, int32_t quads, const __m256i* weights,
                           __m256i acc[4]) {
  for (int32_t q = 0; q < quads; ++q, weights += 4) {
    __m256i x[4];
    InterleaveQuad(Load(tap(4 * q)), Load(tap(4 * q + 1)), Load(tap(4 * q + 2)),
                   Load(tap(4 * q + 3)), x);
    for (int32_t j = 0; j < 4; ++j) {
      acc[j] = MultiplyAccumulate(acc[j], x[j], _mm256_abs_epi8(x[j]), weights[j]);
    }
  }
}

// sums[i] (channels 8i..8i+7 in order) += the products of the single taps tap(first) ..
// tap(first + count - 1) with weights[s][i], each weight the int16 w in the low half of an
// int32 lane and 0 in the high half: vpmaddwd of the sign-extended x with it is x * w.
template <typename TapPointer>
inline void DepthwiseSingles(const TapPointer& tap, int32_t first, int32_t count,
                             const __m256i (*weights)[4], __m256i sums[4]) {
  for (int32_t s = 0; s < count; ++s) {
    const int8_t* x = tap(first + s);
    for (int32_t i = 0; i < 4; ++i) {
      sums[i] = _mm256_add_epi32(
          sums[i],
          _mm256_madd_epi16(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
                                reinterpret_cast<const __m128i*>(x + ptrdiff_t{8} * i))),
                            weights[s][i]));
    }
  }
}

// Output channels [channel, channel + kDepthwiseBlock) of a depthwise convolution with
// depth_multiplier 1 and at most 4 * kDepthwiseMaxQuads taps, channel + kDepthwiseBlock <=
// output_channels (so every 32-byte input and filter load stays inside its pixel or tap).
// Interior output pixels read their taps at fixed offsets from the window's origin; border
// ones read input_zero_point from a padding vector for the taps outside the input.
inline void DepthwiseBlock(const DepthwiseConv2dParams& params, const int8_t* input,
                           const int8_t* filter, const int32_t* bias, int32_t channel,
                           int8_t* output) {
  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t channels = params.input_channels;  // == output channels here
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t dilation_height = params.dilation_height;
  const int32_t dilation_width = params.dilation_width;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const int32_t taps = filter_height * filter_width;
  // Quads of taps, then singles: one or two taps left over go through DepthwiseSingles,
  // cheaper than a quad of mostly zero weights; three left over make a last quad.
  const int32_t singles = taps % 4 == 3 ? 0 : taps % 4;
  const int32_t quads = (taps - singles + 3) / 4;
  const int32_t entries = 4 * quads + singles;  // <= 4 * kDepthwiseMaxQuads

  __m256i weights[kDepthwiseMaxQuads * 4];
  for (int32_t q = 0; q < quads; ++q) {
    __m256i w[4];
    for (int32_t i = 0; i < 4; ++i) {
      const int32_t tap = 4 * q + i;
      w[i] = tap < taps ? Load(filter + static_cast<ptrdiff_t>(tap) * channels + channel)
                        : _mm256_setzero_si256();
    }
    InterleaveQuad(w[0], w[1], w[2], w[3], weights + ptrdiff_t{4} * q);
  }
  __m256i single_weights[2][4];
  for (int32_t s = 0; s < singles; ++s) {
    const int8_t* taps_filter =
        filter + static_cast<ptrdiff_t>(4 * quads + s) * channels + channel;
    for (int32_t i = 0; i < 4; ++i) {
      single_weights[s][i] = _mm256_and_si256(
          _mm256_cvtepi8_epi32(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(taps_filter + ptrdiff_t{8} * i))),
          _mm256_set1_epi32(0xFFFF));
    }
  }
  // Input offset of each tap from the window's origin; the last quad's missing taps repeat
  // the last tap (their weights are zero).
  ptrdiff_t offsets[kDepthwiseMaxQuads * 4];
  int32_t tap_y[kDepthwiseMaxQuads * 4];
  int32_t tap_x[kDepthwiseMaxQuads * 4];
  for (int32_t t = 0; t < entries; ++t) {
    const int32_t tap = t < taps ? t : taps - 1;
    tap_y[t] = dilation_height * (tap / filter_width);
    tap_x[t] = dilation_width * (tap % filter_width);
    offsets[t] = (static_cast<ptrdiff_t>(tap_y[t]) * input_width + tap_x[t]) * channels;
  }

  const bool eight_wide = ShiftsAtLeast32(params.requantize, channel, kDepthwiseBlock);
  RequantizeEight eights[kDepthwiseBlock / 8];
  RequantizeFour fours[kDepthwiseBlock / kTileColumns];
  // The accumulators start at the bias (in InterleaveQuad's lane order) when RequantizeEight
  // requantizes them, at zero when RequantizeFour adds the bias.
  __m256i acc_start[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                          _mm256_setzero_si256(), _mm256_setzero_si256()};
  if (eight_wide) {
    for (int32_t i = 0; i < kDepthwiseBlock / 8; ++i) {
      eights[i] = RequantizeEight(params.requantize, channel + 8 * i);
    }
    const __m256i* block_bias = reinterpret_cast<const __m256i*>(bias + channel);
    const __m256i bias_low = _mm256_loadu_si256(block_bias);        // channels 0-7
    const __m256i bias_middle = _mm256_loadu_si256(block_bias + 1);  // 8-15
    const __m256i bias_high = _mm256_loadu_si256(block_bias + 2);    // 16-23
    const __m256i bias_top = _mm256_loadu_si256(block_bias + 3);     // 24-31
    acc_start[0] = _mm256_permute2x128_si256(bias_low, bias_high, 0x20);
    acc_start[1] = _mm256_permute2x128_si256(bias_low, bias_high, 0x31);
    acc_start[2] = _mm256_permute2x128_si256(bias_middle, bias_top, 0x20);
    acc_start[3] = _mm256_permute2x128_si256(bias_middle, bias_top, 0x31);
  } else {
    for (int32_t i = 0; i < kDepthwiseBlock / kTileColumns; ++i) {
      fours[i] = RequantizeFour(params.requantize, bias, channel + kTileColumns * i,
                                kTileColumns);
    }
  }
  alignas(32) int8_t padding[kDepthwiseBlock];
  std::memset(padding, params.input_zero_point, sizeof padding);

  // Output columns [x_begin, x_end) have every tap's column inside the input. x_begin is
  // ceil(padding / stride), formed so that no sum can pass INT32_MAX (the stride may be
  // INT32_MAX itself).
  const int32_t x_begin =
      params.padding_width == 0 ? 0 : (params.padding_width - 1) / params.stride_width + 1;
  const int32_t x_last_numerator =
      input_width - 1 + params.padding_width - dilation_width * (filter_width - 1);
  int32_t x_end = x_last_numerator < 0 ? 0 : x_last_numerator / params.stride_width + 1;
  if (x_end > output_width) x_end = output_width;

  int8_t* output_pixel = output + channel;
  for (int32_t batch = 0; batch < params.batches; ++batch) {
    const int8_t* image =
        input + static_cast<ptrdiff_t>(batch * input_height) * input_width * channels + channel;
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * params.stride_height - params.padding_height;
      const bool row_inside =
          in_y_origin >= 0 && in_y_origin + dilation_height * (filter_height - 1) < input_height;
      for (int32_t out_x = 0; out_x < output_width; ++out_x, output_pixel += channels) {
        const int32_t in_x_origin = out_x * params.stride_width - params.padding_width;
        // Lanes ordered as in InterleaveQuad; exact, see the top of this file.
        __m256i acc[4] = {acc_start[0], acc_start[1], acc_start[2], acc_start[3]};
        // Channels 0-7, 8-15, 16-23, 24-31 of the block once the quads are done.
        __m256i sums[4];
        const auto finish_quads = [&acc, &sums] {
          sums[0] = _mm256_permute2x128_si256(acc[0], acc[1], 0x20);
          sums[1] = _mm256_permute2x128_si256(acc[2], acc[3], 0x20);
          sums[2] = _mm256_permute2x128_si256(acc[0], acc[1], 0x31);
          sums[3] = _mm256_permute2x128_si256(acc[2], acc[3], 0x31);
        };
        if (row_inside && out_x >= x_begin && out_x < x_end) {
          const int8_t* origin =
              image + (static_cast<ptrdiff_t>(in_y_origin) * input_width + in_x_origin) *
                          channels;
          const auto tap = [origin, &offsets](int32_t t) { return origin + offsets[t]; };
          DepthwiseQuads(tap, quads, weights, acc);
          finish_quads();
          DepthwiseSingles(tap, 4 * quads, singles, single_weights, sums);
        } else {
          const int8_t* pointers[kDepthwiseMaxQuads * 4];
          for (int32_t t = 0; t < entries; ++t) {
            const int32_t in_y = in_y_origin + tap_y[t];
            const int32_t in_x = in_x_origin + tap_x[t];
            // Padding holds real zero, whose raw value is input_zero_point.
            pointers[t] = in_y >= 0 && in_y < input_height && in_x >= 0 && in_x < input_width
                              ? image + (static_cast<ptrdiff_t>(in_y) * input_width + in_x) *
                                            channels
                              : padding;
          }
          const auto tap = [&pointers](int32_t t) { return pointers[t]; };
          DepthwiseQuads(tap, quads, weights, acc);
          finish_quads();
          DepthwiseSingles(tap, 4 * quads, singles, single_weights, sums);
        }
        if (eight_wide) {
          // The values are in the activation range, so the saturating packs are exact.
          const __m256i low =
              _mm256_packs_epi32(eights[0].Apply(sums[0]), eights[1].Apply(sums[1]));
          const __m256i high =
              _mm256_packs_epi32(eights[2].Apply(sums[2]), eights[3].Apply(sums[3]));
          const __m256i bytes = _mm256_permutevar8x32_epi32(
              _mm256_packs_epi16(low, high), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(output_pixel), bytes);
        } else {
          alignas(32) int32_t lanes[kDepthwiseBlock];
          for (int32_t i = 0; i < 4; ++i) {
            _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + ptrdiff_t{8} * i),
                               sums[i]);
          }
          for (int32_t i = 0; i < kDepthwiseBlock / kTileColumns; ++i) {
            fours[i].Store(
                _mm_load_si128(reinterpret_cast<const __m128i*>(lanes + ptrdiff_t{4} * i)),
                kTileColumns, output_pixel + ptrdiff_t{kTileColumns} * i);
          }
        }
      }
    }
  }
}

}  // namespace internal

// integr8::Linear: each output is a dot product of an input row and a weight row, 2 x 4 at a
// time. Same Status, same output bytes.
template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status Linear(const LinearParams& params, const Activation* input, const Weight* weights,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateLinear(params, input, weights, bias, output));
  }
  // Validation bounded both element counts by INT32_MAX.
  const int32_t depth = params.input_features;
  internal::DotRequantize(input, params.batches,
                          input + static_cast<ptrdiff_t>(params.batches) * depth, weights,
                          params.output_features,
                          weights + static_cast<ptrdiff_t>(params.output_features) * depth,
                          depth, bias, 0, params.requantize, output, params.output_features);
  return Status::kOk;
}

// integr8::Conv2d: im2col of a block of output positions into a stack array (per group; a
// padded tap reads input_zero_point), then the Linear core against the group's OHWI filter
// rows. Same Status, same output bytes.
template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status Conv2d(const Conv2dParams& params, const Activation* input, const Weight* filter,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateConv2d(params, input, filter, bias, output));
  }

  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t input_channels = params.input_channels;
  const int32_t output_channels = params.output_channels;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t input_zero_point = params.input_zero_point;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const int32_t filter_input_channels = input_channels / params.groups;
  const int32_t group_output_channels = output_channels / params.groups;
  // Validation bounded the filter's element count, which this divides, by INT32_MAX.
  const int32_t depth = filter_height * filter_width * filter_input_channels;  // K
  // A patch larger than the stack block: the portable kernel (same Status, same bytes).
  if (depth > internal::kPatchBytes) return ::integr8::Conv2d(params, input, filter, bias, output);

  alignas(internal::kVectorBytes) int8_t patches[internal::kPatchBytes + internal::kVectorBytes];
  const int32_t block_positions = internal::kPatchBytes / depth;
  const int32_t output_plane = output_height * output_width;
  const int32_t positions = params.batches * output_plane;
  const int8_t* const filter_end = filter + static_cast<ptrdiff_t>(output_channels) * depth;
  // Without groups or horizontal dilation a filter row's taps are adjacent in the input.
  const bool has_contiguous_rows = params.groups == 1 && params.dilation_width == 1;

  // block_begin + block <= positions, so the loop variable never passes INT32_MAX.
  for (int32_t block_begin = 0, block = 0; block_begin < positions; block_begin += block) {
    block = positions - block_begin < block_positions ? positions - block_begin
                                                      : block_positions;
    for (int32_t group = 0; group < params.groups; ++group) {
      const int32_t in_c_begin = group * filter_input_channels;
      int8_t* patch = patches;
      // The block's first position's coordinates, then stepped (no division per position).
      int32_t batch = block_begin / output_plane;
      int32_t out_y = (block_begin - batch * output_plane) / output_width;
      int32_t out_x = block_begin - batch * output_plane - out_y * output_width;
      for (int32_t position = block_begin; position < block_begin + block; ++position) {
        if (position > block_begin && ++out_x == output_width) {
          out_x = 0;
          if (++out_y == output_height) {
            out_y = 0;
            ++batch;
          }
        }
        const int32_t in_y_origin = out_y * params.stride_height - params.padding_height;
        const int32_t in_x_origin = out_x * params.stride_width - params.padding_width;
        const bool is_row_inside = in_x_origin >= 0 && in_x_origin + filter_width <= input_width;
        for (int32_t filter_y = 0; filter_y < filter_height; ++filter_y) {
          const int32_t in_y = in_y_origin + params.dilation_height * filter_y;
          if (has_contiguous_rows && is_row_inside && in_y >= 0 && in_y < input_height) {
            // The whole filter row lies in one contiguous stretch of the input row; with
            // groups == 1 it is filter_width * input_channels <= depth bytes.
            const int32_t pixel = (batch * input_height + in_y) * input_width + in_x_origin;
            const int32_t row_bytes = filter_width * input_channels;
            internal::CopyBytes(patch, input + static_cast<ptrdiff_t>(pixel) * input_channels,
                                row_bytes);
            patch += row_bytes;
            continue;
          }
          for (int32_t filter_x = 0; filter_x < filter_width; ++filter_x) {
            const int32_t in_x = in_x_origin + params.dilation_width * filter_x;
            const bool is_inside =
                in_y >= 0 && in_y < input_height && in_x >= 0 && in_x < input_width;
            if (is_inside) {
              const int32_t pixel = (batch * input_height + in_y) * input_width + in_x;
              internal::CopyBytes(
                  patch, input + static_cast<ptrdiff_t>(pixel) * input_channels + in_c_begin,
                  filter_input_channels);
            } else {
              // Padding holds real zero, whose raw value is input_zero_point.
              std::memset(patch, input_zero_point, static_cast<size_t>(filter_input_channels));
            }
            patch += filter_input_channels;
          }
        }
      }
      const int32_t first_channel = group * group_output_channels;
      // Positions are NHWC output pixels in order, so the block's outputs are rows of
      // output_channels bytes.
      internal::DotRequantize(patches, block, patches + sizeof patches,
                              filter + static_cast<ptrdiff_t>(first_channel) * depth,
                              group_output_channels, filter_end, depth, bias, first_channel,
                              params.requantize,
                              output + static_cast<ptrdiff_t>(block_begin) * output_channels +
                                  first_channel,
                              output_channels);
    }
  }
  return Status::kOk;
}

// integr8::DepthwiseConv2d: for each output pixel, 32 channels at a time (DepthwiseBlock) or
// 16 at a time; output channel c reads input channel c / depth_multiplier, a padded tap reads
// input_zero_point. Same Status, same output bytes.
template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status DepthwiseConv2d(const DepthwiseConv2dParams& params, const Activation* input,
                       const Weight* filter, const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateDepthwiseConv2d(params, input, filter, bias, output));
  }

  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t input_channels = params.input_channels;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t output_channels = DepthwiseOutputChannels(params);
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const __m128i padding_value = _mm_set1_epi8(static_cast<char>(params.input_zero_point));

  // Index arithmetic stays in int32: validation bounded every buffer's element count and
  // the padded input extents by INT32_MAX; a pointer offset is widened to ptrdiff_t before
  // its last product. Channel blocks are the outer loop so that each block's requantization
  // constants are built once. With depth_multiplier 1, at most 28 taps and at least 32
  // channels, every channel takes the fast path (internal::DepthwiseBlock) in blocks of 32,
  // the last block shifted back to end at the last channel (rewriting some of the previous
  // block's bytes with the same values); otherwise the loop below runs.
  int32_t first_channel = 0;
  if (params.depth_multiplier == 1 && output_channels >= internal::kDepthwiseBlock &&
      filter_height * filter_width <= 4 * internal::kDepthwiseMaxQuads) {
    const int32_t last_block = output_channels - internal::kDepthwiseBlock;
    for (int32_t channel = 0, done = 0; done < output_channels;
         done = channel + internal::kDepthwiseBlock) {
      channel = done < last_block ? done : last_block;
      internal::DepthwiseBlock(params, input, filter, bias, channel, output);
    }
    first_channel = output_channels;
  }
  for (int32_t channel = first_channel; channel < output_channels;
       channel += internal::kDepthwiseChannels) {
    const int32_t count = output_channels - channel < internal::kDepthwiseChannels
                              ? output_channels - channel
                              : internal::kDepthwiseChannels;
    // Four channels per quarter of the block; quarters past `count` are never used.
    const int32_t quarters = (count + internal::kTileColumns - 1) / internal::kTileColumns;
    int32_t quarter_counts[4];
    internal::RequantizeFour requantize_quarters[4];
    for (int32_t quarter = 0; quarter < quarters; ++quarter) {
      const int32_t left = count - quarter * internal::kTileColumns;
      quarter_counts[quarter] = left < internal::kTileColumns ? left : internal::kTileColumns;
      requantize_quarters[quarter] =
          internal::RequantizeFour(params.requantize, bias, channel + quarter * internal::kTileColumns,
                                   quarter_counts[quarter]);
    }
    int8_t* output_pixel = output + channel;
    for (int32_t batch = 0; batch < params.batches; ++batch) {
      for (int32_t out_y = 0; out_y < output_height; ++out_y) {
        const int32_t in_y_origin = out_y * params.stride_height - params.padding_height;
        for (int32_t out_x = 0; out_x < output_width;
             ++out_x, output_pixel += output_channels) {
          const int32_t in_x_origin = out_x * params.stride_width - params.padding_width;
          // Channels channel..+7 and channel+8..+15; exact, see the top of this file.
          __m256i acc_low = _mm256_setzero_si256();
          __m256i acc_high = _mm256_setzero_si256();
          const int8_t* taps = filter + channel;
          for (int32_t filter_y = 0; filter_y < filter_height; ++filter_y) {
            const int32_t in_y = in_y_origin + params.dilation_height * filter_y;
            for (int32_t filter_x = 0; filter_x < filter_width;
                 ++filter_x, taps += output_channels) {
              const int32_t in_x = in_x_origin + params.dilation_width * filter_x;
              const bool is_inside =
                  in_y >= 0 && in_y < input_height && in_x >= 0 && in_x < input_width;
              // Padding holds real zero, whose raw value is input_zero_point.
              const __m128i x =
                  is_inside ? internal::LoadDepthwiseInput(
                                  input + static_cast<ptrdiff_t>(
                                              (batch * input_height + in_y) * input_width + in_x) *
                                              input_channels,
                                  channel, count, params.depth_multiplier)
                            : padding_value;
              const __m256i products = _mm256_mullo_epi16(
                  _mm256_cvtepi8_epi16(x),
                  _mm256_cvtepi8_epi16(internal::LoadDepthwiseFilter(taps, count)));
              acc_low = _mm256_add_epi32(
                  acc_low, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(products)));
              acc_high = _mm256_add_epi32(
                  acc_high, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(products, 1)));
            }
          }
          const __m128i sums[4] = {
              _mm256_castsi256_si128(acc_low), _mm256_extracti128_si256(acc_low, 1),
              _mm256_castsi256_si128(acc_high), _mm256_extracti128_si256(acc_high, 1)};
          for (int32_t quarter = 0; quarter < quarters; ++quarter) {
            requantize_quarters[quarter].Store(
                sums[quarter], quarter_counts[quarter],
                output_pixel + static_cast<ptrdiff_t>(quarter) * internal::kTileColumns);
          }
        }
      }
    }
  }
  return Status::kOk;
}

}  // namespace integr8::backend::x86

#undef INTEGR8_X86_DPBUSD_

#elif defined(INTEGR8_BACKEND_X86)
// The macro asks for this backend; fail loudly rather than fall back silently.
#error "INTEGR8_BACKEND_X86 needs AVX2: compile with -mavx2 (or -march=native on an AVX2 CPU)"
#endif  // __AVX2__

#endif  // INTEGR8_BACKEND_X86_H_
