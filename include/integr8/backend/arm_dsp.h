// Arm DSP backend: Linear and Conv2d on the Cortex-M4/M7 dual 16-bit multiply-accumulate
// (SMLAD), bit-exact with the portable kernels.
//
// Selected by integr8/backend/select.h when the target has the DSP extension
// (__ARM_FEATURE_DSP, e.g. -mcpu=cortex-m4 or cortex-m7). The same code compiles everywhere:
// without the extension the instructions it uses (SXTB16, SXTB16 with ROR #8, SMLAD) are
// spelled as plain integer C++ with their exact architectural results, which is how the host test suite checks the blocking,
// the tails and the byte order of this backend against the portable kernels; the target build
// then differs only in those three functions, which the QEMU firmware tests cover.
//
// Contract: the portable kernels' arguments, Status codes and output bytes. The same
// Validate* function runs first through INTEGR8_CHECK, so on error nothing is written.
// Conv2d additionally takes caller scratch of Conv2dScratchBytes(params) bytes (the int8
// im2col patches of two output positions; CMSIS-NN's convention of caller-owned scratch with
// a size query) and returns kArenaTooSmall if it is missing or short.
//
// How the MACs are formed: a 32-bit load brings four int8 values b0..b3; SXTB16 sign-extends
// the even bytes into two 16-bit lanes (b0, b2), and SXTB16 of the word rotated by 8 the odd
// bytes (b1, b3). Applying the same split to activations and weights pairs lanes correctly,
// and SMLAD adds both lane products to the accumulator: two SMLADs per four MACs. A block of
// two activation rows (two im2col patches, or two batches) by two weight rows shares each
// expanded word between two rows, so the sign extension is paid once per word and row pair.
//
// Why nothing overflows: every value SMLAD adds is a partial sum of the channel's K products
// plus its bias, and ValidateAccumulatorBound established |bias| + K * 128 * 127 < 2^31, which
// bounds every such partial sum; the int32 result is the exact sum, whose order does not
// matter, so it equals the portable kernel's accumulator before the same Requantize.
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
#include "integr8/types.h"

namespace integr8::backend::arm_dsp {

namespace internal {

// Four int8 values, unaligned-safe; a single LDR on ARMv7-M.
inline uint32_t LoadFour(const int8_t* values) {
  uint32_t word = 0;
  std::memcpy(&word, values, sizeof word);
  return word;
}

#if defined(__ARM_FEATURE_DSP)

inline uint32_t SignExtendEvenBytes(uint32_t word) {
  return static_cast<uint32_t>(__sxtb16(static_cast<int8x4_t>(word)));
}

// SXTB16 with its built-in rotation; ACLE has no intrinsic for that form, and a separate
// rotate would cost one instruction per word.
inline uint32_t SignExtendOddBytes(uint32_t word) {
  uint32_t lanes;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(lanes) : "r"(word));
  return lanes;
}

inline int32_t DualMultiplyAccumulate(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad(static_cast<int16x2_t>(a), static_cast<int16x2_t>(b), acc);
}

#else

inline uint32_t RotateRight8(uint32_t word) { return (word >> 8) | (word << 24); }

// SXTB16: bytes 0 and 2, each sign-extended to a 16-bit lane.
inline uint32_t SignExtendEvenBytes(uint32_t word) {
  const auto lane = [](uint32_t byte) {
    return static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int8_t>(byte & 0xFFu)));
  };
  return lane(word) | (lane(word >> 16) << 16);
}

// SXTB16 with ROR #8: bytes 1 and 3.
inline uint32_t SignExtendOddBytes(uint32_t word) { return SignExtendEvenBytes(RotateRight8(word)); }

// SMLAD: acc + a.low * b.low + a.high * b.high over signed 16-bit lanes.
inline int32_t DualMultiplyAccumulate(uint32_t a, uint32_t b, int32_t acc) {
  const auto low = [](uint32_t word) { return int32_t{static_cast<int16_t>(word & 0xFFFFu)}; };
  const auto high = [](uint32_t word) { return int32_t{static_cast<int16_t>(word >> 16)}; };
  return acc + low(a) * low(b) + high(a) * high(b);
}

#endif  // __ARM_FEATURE_DSP

// acc[row][col] += sum_k activations[row][k] * weights[col][k] over a block of kRows (1 or 2)
// activation rows and kCols (1 or 2) weight rows, each `depth` int8 values long and the
// second row of each `depth` after the first, as both im2col patches and weight rows are.
// The sums live in named locals rather than arrays, and the second rows are reached by an
// offset, so that the 2x2 block's sums, expanded words and pointers fit in the Cortex-M
// register file without spills: 4 loads, 8 SXTB16 and 8 SMLAD per 16 MACs.
template <int kRows, int kCols>
inline void DotProductBlock(const int8_t* activations, const int8_t* weights, int32_t depth,
                            int32_t (&acc)[2][2]) {
  static_assert((kRows == 1 || kRows == 2) && (kCols == 1 || kCols == 2), "1x1 .. 2x2 blocks");
  int32_t sum00 = acc[0][0];
  int32_t sum01 = acc[0][1];
  int32_t sum10 = acc[1][0];
  int32_t sum11 = acc[1][1];
  const int8_t* const vector_end = activations + (depth - depth % 4);
  for (; activations != vector_end; activations += 4, weights += 4) {
    const uint32_t row0 = LoadFour(activations);
    const uint32_t row0_even = SignExtendEvenBytes(row0);
    const uint32_t row0_odd = SignExtendOddBytes(row0);
    uint32_t row1_even = 0;
    uint32_t row1_odd = 0;
    if constexpr (kRows == 2) {
      const uint32_t row1 = LoadFour(activations + depth);
      row1_even = SignExtendEvenBytes(row1);
      row1_odd = SignExtendOddBytes(row1);
    }
    uint32_t word = LoadFour(weights);
    uint32_t weight_even = SignExtendEvenBytes(word);
    uint32_t weight_odd = SignExtendOddBytes(word);
    sum00 = DualMultiplyAccumulate(weight_even, row0_even, sum00);
    sum00 = DualMultiplyAccumulate(weight_odd, row0_odd, sum00);
    if constexpr (kRows == 2) {
      sum10 = DualMultiplyAccumulate(weight_even, row1_even, sum10);
      sum10 = DualMultiplyAccumulate(weight_odd, row1_odd, sum10);
    }
    if constexpr (kCols == 2) {
      word = LoadFour(weights + depth);
      weight_even = SignExtendEvenBytes(word);
      weight_odd = SignExtendOddBytes(word);
      sum01 = DualMultiplyAccumulate(weight_even, row0_even, sum01);
      sum01 = DualMultiplyAccumulate(weight_odd, row0_odd, sum01);
      if constexpr (kRows == 2) {
        sum11 = DualMultiplyAccumulate(weight_even, row1_even, sum11);
        sum11 = DualMultiplyAccumulate(weight_odd, row1_odd, sum11);
      }
    }
  }
  for (int32_t k = 0; k < depth % 4; ++k) {
    const int32_t weight0 = weights[k];
    sum00 += int32_t{activations[k]} * weight0;
    if constexpr (kRows == 2) sum10 += int32_t{activations[depth + k]} * weight0;
    if constexpr (kCols == 2) {
      const int32_t weight1 = weights[depth + k];
      sum01 += int32_t{activations[k]} * weight1;
      if constexpr (kRows == 2) sum11 += int32_t{activations[depth + k]} * weight1;
    }
  }
  acc[0][0] = sum00;
  acc[0][1] = sum01;
  acc[1][0] = sum10;
  acc[1][1] = sum11;
}

// Channels [first_channel, first_channel + kCols) of kRows activation rows (the second
// `depth` after the first): bias, the block's products, then the portable kernels'
// Requantize, written to outputs[row][channel].
template <int kRows, int kCols>
inline void ComputeBlock(const int8_t* activations, const int8_t* weights, const int32_t* bias,
                         int32_t first_channel, int32_t depth,
                         const RequantizeParams& requantize, int8_t* const (&outputs)[2]) {
  int32_t acc[2][2] = {};
  for (int col = 0; col < kCols; ++col) {
    for (int row = 0; row < kRows; ++row) acc[row][col] = bias[first_channel + col];
  }
  const int8_t* const block_weights = weights + static_cast<ptrdiff_t>(first_channel) * depth;
  DotProductBlock<kRows, kCols>(activations, block_weights, depth, acc);
  for (int row = 0; row < kRows; ++row) {
    for (int col = 0; col < kCols; ++col) {
      const int32_t out_c = first_channel + col;
      const int32_t channel = requantize.per_channel ? out_c : 0;
      outputs[row][out_c] = static_cast<int8_t>(
          Requantize(acc[row][col], requantize.multipliers[channel], requantize.shifts[channel],
                     requantize.output_zero_point, requantize.activation_min,
                     requantize.activation_max));
    }
  }
}

// All `channels` outputs of kRows activation rows, channels in pairs.
template <int kRows>
inline void ComputeRows(const int8_t* activations, const int8_t* weights, const int32_t* bias,
                        int32_t channels, int32_t depth, const RequantizeParams& requantize,
                        int8_t* const (&outputs)[2]) {
  int32_t out_c = 0;
  for (; out_c + 2 <= channels; out_c += 2) {
    ComputeBlock<kRows, 2>(activations, weights, bias, out_c, depth, requantize, outputs);
  }
  if (out_c < channels) {
    ComputeBlock<kRows, 1>(activations, weights, bias, out_c, depth, requantize, outputs);
  }
}

// The im2col patch of one output position for one group, in the filter's [y][x][c] order:
// K = filter_height * filter_width * group_channels values; padded taps read the input zero
// point (the raw value of real zero, as in the portable kernel).
inline void GatherPatch(const Conv2dParams& params, const int8_t* input, int32_t batch,
                        int32_t out_y, int32_t out_x, int32_t in_c_begin, int8_t* patch) {
  const int32_t group_channels = params.input_channels / params.groups;
  const int32_t in_y_origin = out_y * params.stride_height - params.padding_height;
  const int32_t in_x_origin = out_x * params.stride_width - params.padding_width;
  for (int32_t filter_y = 0; filter_y < params.filter_height; ++filter_y) {
    const int32_t in_y = in_y_origin + params.dilation_height * filter_y;
    for (int32_t filter_x = 0; filter_x < params.filter_width; ++filter_x) {
      const int32_t in_x = in_x_origin + params.dilation_width * filter_x;
      if (in_y >= 0 && in_y < params.input_height && in_x >= 0 && in_x < params.input_width) {
        // The pixel index is exact in int32 (validation bounded the input's element count);
        // the offset is formed in ptrdiff_t.
        const int32_t pixel = (batch * params.input_height + in_y) * params.input_width + in_x;
        const int8_t* taps =
            input + static_cast<ptrdiff_t>(pixel) * params.input_channels + in_c_begin;
        std::memcpy(patch, taps, static_cast<size_t>(group_channels));
      } else {
        std::memset(patch, params.input_zero_point, static_cast<size_t>(group_channels));
      }
      patch += group_channels;
    }
  }
}

}  // namespace internal

template <typename Activation, typename Weight, typename Bias, Checks kChecks = Checks::kAtEntry>
Status Linear(const LinearParams& params, const Activation* input, const Weight* weights,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  if constexpr (kChecks == Checks::kAtEntry) {
    INTEGR8_CHECK(ValidateLinear(params, input, weights, bias, output));
  }

  const int32_t depth = params.input_features;
  const int32_t channels = params.output_features;
  // Offsets in size_t: validation bounded the element counts, and no int32 product is formed.
  for (int32_t batch = 0; batch < params.batches; batch += 2) {
    const int8_t* const rows = input + static_cast<size_t>(batch) * static_cast<size_t>(depth);
    int8_t* const first_output =
        output + static_cast<size_t>(batch) * static_cast<size_t>(channels);
    if (batch + 1 < params.batches) {
      int8_t* const outputs[2] = {first_output, first_output + channels};
      internal::ComputeRows<2>(rows, weights, bias, channels, depth, params.requantize, outputs);
    } else {
      int8_t* const outputs[2] = {first_output, nullptr};
      internal::ComputeRows<1>(rows, weights, bias, channels, depth, params.requantize, outputs);
    }
  }
  return Status::kOk;
}

// Scratch Conv2d needs: two im2col patches of K = filter_height * filter_width *
// (input_channels / groups) int8 values. Valid params only (ValidateConv2dParams).
constexpr size_t Conv2dScratchBytes(const Conv2dParams& params) {
  return 2 * static_cast<size_t>(params.filter_height) *
         static_cast<size_t>(params.filter_width) *
         static_cast<size_t>(params.input_channels / params.groups);
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

  // Positions are taken in pairs so each expanded filter word serves two output positions;
  // a group's filter rows are contiguous, so each group is a small GEMM over the patches.
  // Validation bounded every element count by INT32_MAX, so the products below are exact;
  // offsets are formed in ptrdiff_t rather than widened from an int32 product.
  for (int32_t group = 0; group < params.groups; ++group) {
    const int32_t first_channel = group * group_output_channels;
    const int8_t* const group_filter = filter + static_cast<ptrdiff_t>(first_channel) * depth;
    const int32_t* const group_bias = bias + first_channel;
    RequantizeParams group_requantize = params.requantize;
    if (group_requantize.per_channel) {
      group_requantize.multipliers += first_channel;
      group_requantize.shifts += first_channel;
    }
    for (int32_t batch = 0; batch < params.batches; ++batch) {
      int8_t* const group_output =
          output + static_cast<ptrdiff_t>(batch) * positions * params.output_channels +
          first_channel;
      for (int32_t position = 0; position < positions; position += 2) {
        const int32_t pair = position + 1 < positions ? 2 : 1;
        for (int32_t i = 0; i < pair; ++i) {
          internal::GatherPatch(params, input, batch, (position + i) / output_width,
                                (position + i) % output_width, group * group_input_channels,
                                scratch + static_cast<ptrdiff_t>(i) * depth);
        }
        int8_t* const first_output =
            group_output + static_cast<ptrdiff_t>(position) * params.output_channels;
        int8_t* const outputs[2] = {
            first_output, pair == 2 ? first_output + params.output_channels : nullptr};
        if (pair == 2) {
          internal::ComputeRows<2>(scratch, group_filter, group_bias, group_output_channels,
                                   depth, group_requantize, outputs);
        } else {
          internal::ComputeRows<1>(scratch, group_filter, group_bias, group_output_channels,
                                   depth, group_requantize, outputs);
        }
      }
    }
  }
  return Status::kOk;
}

}  // namespace integr8::backend::arm_dsp

#endif  // INTEGR8_BACKEND_ARM_DSP_H_
