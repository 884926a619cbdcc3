// Reference implementations of every integr8 operator, written for the fuzz harness straight
// from docs/spec.md (sections 3-6) and deliberately unlike the kernels: 128-bit arithmetic
// everywhere, floor division with an explicit remainder for the rounding shift, a
// double-and-halve formula for the average pool's rounding, index arithmetic recomputed from
// the layout definitions, and std::vector outputs. Slow and obvious on purpose.
#ifndef INTEGR8_TESTS_FUZZ_REFERENCE_KERNELS_H_
#define INTEGR8_TESTS_FUZZ_REFERENCE_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_input.h"

namespace integr8_fuzz {
namespace reference {

__extension__ typedef __int128 Int128;

inline size_t U(int64_t value) { return static_cast<size_t>(value); }

inline Int128 Min(Int128 a, Int128 b) { return a < b ? a : b; }
inline Int128 Max(Int128 a, Int128 b) { return a > b ? a : b; }

// Section 4: floor((acc * m + 2^(n-1)) / 2^n), the floor taken with an explicit remainder.
inline Int128 Rescale(Int128 acc, int32_t multiplier, int32_t shift) {
  const Int128 numerator = acc * multiplier + (Int128{1} << (shift - 1));
  const Int128 divisor = Int128{1} << shift;
  Int128 quotient = numerator / divisor;
  if (numerator % divisor < 0) quotient -= 1;
  return quotient;
}

inline int8_t Requantize(Int128 acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                         int32_t low, int32_t high) {
  // Every accumulator the harness builds satisfies the spec's bound, so it is an int32.
  INTEGR8_FUZZ_CHECK(acc >= INT32_MIN && acc <= INT32_MAX);
  const Int128 y = Max(Min(zero_point + Rescale(acc, multiplier, shift), high), low);
  return static_cast<int8_t>(y);
}

struct Requant {
  std::vector<int32_t> multipliers;  // one per channel, or one
  std::vector<int32_t> shifts;
  int32_t zero_point = 0;
  int32_t low = -128;
  int32_t high = 127;
  int8_t Apply(Int128 acc, size_t channel) const {
    const size_t entry = multipliers.size() == 1 ? 0 : channel;
    return Requantize(acc, multipliers[entry], shifts[entry], zero_point, low, high);
  }
};

// Section 5: out = floor((in + 2 pad - span) / stride) + 1, or ceil and drop a last window
// that would start in the right padding; span = dilation * (k - 1) + 1. 0 if none.
inline int64_t Extent(int64_t input, int64_t filter, int64_t stride, int64_t dilation,
                      int64_t padding, bool ceil_mode) {
  const int64_t reach = input + 2 * padding - (dilation * (filter - 1) + 1);
  if (reach < 0) return 0;
  if (!ceil_mode) return reach / stride + 1;
  int64_t extent = (reach + stride - 1) / stride + 1;
  if ((extent - 1) * stride >= input + padding) extent -= 1;
  return extent;
}

struct ConvShape {
  int64_t batches, height, width, in_channels, out_channels, filter_height, filter_width;
  int64_t stride_height, stride_width, dilation_height, dilation_width;
  int64_t padding_height, padding_width, groups, depth_multiplier;
  int32_t input_zero_point;
};

// Section 3: acc = b' + sum x * w over OHWI weights (I = C_in / groups); a padded tap reads
// x = z_in. Output NHWC.
inline std::vector<int8_t> Conv2d(const ConvShape& s, const std::vector<int8_t>& input,
                                  const std::vector<int8_t>& filter,
                                  const std::vector<int32_t>& bias, const Requant& requant) {
  const int64_t out_h =
      Extent(s.height, s.filter_height, s.stride_height, s.dilation_height, s.padding_height, false);
  const int64_t out_w =
      Extent(s.width, s.filter_width, s.stride_width, s.dilation_width, s.padding_width, false);
  const int64_t group_in = s.in_channels / s.groups;
  const int64_t group_out = s.out_channels / s.groups;
  std::vector<int8_t> output;
  for (int64_t n = 0; n < s.batches; ++n)
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox)
        for (int64_t oc = 0; oc < s.out_channels; ++oc) {
          const int64_t group = oc / group_out;
          Int128 acc = bias[U(oc)];
          for (int64_t ky = 0; ky < s.filter_height; ++ky)
            for (int64_t kx = 0; kx < s.filter_width; ++kx)
              for (int64_t ic = 0; ic < group_in; ++ic) {
                const int64_t y = oy * s.stride_height - s.padding_height + ky * s.dilation_height;
                const int64_t x = ox * s.stride_width - s.padding_width + kx * s.dilation_width;
                const int64_t channel = group * group_in + ic;
                const bool inside = y >= 0 && y < s.height && x >= 0 && x < s.width;
                const Int128 value =
                    inside ? input[U(((n * s.height + y) * s.width + x) * s.in_channels + channel)]
                           : s.input_zero_point;
                const int8_t weight =
                    filter[U(((oc * s.filter_height + ky) * s.filter_width + kx) * group_in + ic)];
                acc += value * weight;
              }
          output.push_back(requant.Apply(acc, U(oc)));
        }
  return output;
}

// Depthwise: 1HWC weights, C = C_in * depth_multiplier, output channel c reads input channel
// c / depth_multiplier.
inline std::vector<int8_t> Depthwise(const ConvShape& s, const std::vector<int8_t>& input,
                                     const std::vector<int8_t>& filter,
                                     const std::vector<int32_t>& bias, const Requant& requant) {
  const int64_t out_h =
      Extent(s.height, s.filter_height, s.stride_height, s.dilation_height, s.padding_height, false);
  const int64_t out_w =
      Extent(s.width, s.filter_width, s.stride_width, s.dilation_width, s.padding_width, false);
  const int64_t channels = s.in_channels * s.depth_multiplier;
  std::vector<int8_t> output;
  for (int64_t n = 0; n < s.batches; ++n)
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox)
        for (int64_t c = 0; c < channels; ++c) {
          Int128 acc = bias[U(c)];
          for (int64_t ky = 0; ky < s.filter_height; ++ky)
            for (int64_t kx = 0; kx < s.filter_width; ++kx) {
              const int64_t y = oy * s.stride_height - s.padding_height + ky * s.dilation_height;
              const int64_t x = ox * s.stride_width - s.padding_width + kx * s.dilation_width;
              const bool inside = y >= 0 && y < s.height && x >= 0 && x < s.width;
              const Int128 value =
                  inside ? input[U(((n * s.height + y) * s.width + x) * s.in_channels +
                                   c / s.depth_multiplier)]
                         : s.input_zero_point;
              acc += value * filter[U((ky * s.filter_width + kx) * channels + c)];
            }
          output.push_back(requant.Apply(acc, U(c)));
        }
  return output;
}

// Linear: acc[b][o] = b'[o] + sum_i x[b][i] * w[o][i].
inline std::vector<int8_t> Linear(int64_t batches, int64_t in_features, int64_t out_features,
                                  const std::vector<int8_t>& input,
                                  const std::vector<int8_t>& weights,
                                  const std::vector<int32_t>& bias, const Requant& requant) {
  std::vector<int8_t> output;
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t o = 0; o < out_features; ++o) {
      Int128 acc = bias[U(o)];
      for (int64_t i = 0; i < in_features; ++i)
        acc += Int128{input[U(b * in_features + i)]} * weights[U(o * in_features + i)];
      output.push_back(requant.Apply(acc, U(o)));
    }
  return output;
}

struct PoolShape {
  int64_t batches, height, width, channels, filter_height, filter_width;
  int64_t stride_height, stride_width, padding_height, padding_width;
  bool ceil_mode, count_include_pad;
  int32_t input_zero_point, low, high;
};

// Section 5. A window spans [start, start + k) with start = o * stride - pad; max pool takes
// the largest tap inside the input; average pool sums the taps inside the input, plus z_in for
// each counted padded tap, and divides by count rounding half away from zero, computed here
// as floor((2 |sum| + count) / (2 count)) with the sign restored.
inline std::vector<int8_t> Pool(const PoolShape& s, const std::vector<int8_t>& input,
                                bool is_max) {
  const int64_t out_h =
      Extent(s.height, s.filter_height, s.stride_height, 1, s.padding_height, s.ceil_mode);
  const int64_t out_w =
      Extent(s.width, s.filter_width, s.stride_width, 1, s.padding_width, s.ceil_mode);
  std::vector<int8_t> output;
  for (int64_t n = 0; n < s.batches; ++n)
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox)
        for (int64_t c = 0; c < s.channels; ++c) {
          const int64_t y0 = oy * s.stride_height - s.padding_height;
          const int64_t x0 = ox * s.stride_width - s.padding_width;
          const int64_t y_end = y0 + s.filter_height < s.height + s.padding_height
                                    ? y0 + s.filter_height
                                    : s.height + s.padding_height;
          const int64_t x_end = x0 + s.filter_width < s.width + s.padding_width
                                    ? x0 + s.filter_width
                                    : s.width + s.padding_width;
          Int128 best = -1000;
          Int128 sum = 0;
          int64_t valid = 0;
          int64_t counted = 0;
          for (int64_t y = y0; y < y0 + s.filter_height; ++y)
            for (int64_t x = x0; x < x0 + s.filter_width; ++x) {
              const bool inside = y >= 0 && y < s.height && x >= 0 && x < s.width;
              const bool in_count = y < y_end && x < x_end;
              if (inside) {
                const int8_t value = input[U(((n * s.height + y) * s.width + x) * s.channels + c)];
                best = Max(best, value);
                sum += value;
                ++valid;
              } else if (in_count && s.count_include_pad) {
                sum += s.input_zero_point;
              }
              if (in_count) ++counted;
            }
          INTEGR8_FUZZ_CHECK(valid > 0);  // padding <= k / 2 leaves a tap in every window
          Int128 result = best;
          if (!is_max) {
            const Int128 count = s.count_include_pad ? counted : valid;
            const Int128 magnitude = sum < 0 ? -sum : sum;
            const Int128 rounded = (2 * magnitude + count) / (2 * count);
            result = sum < 0 ? -rounded : rounded;
          }
          output.push_back(static_cast<int8_t>(Max(Min(result, s.high), s.low)));
        }
  return output;
}

struct AddArgs {
  int32_t zero_point1, multiplier1, shift1, zero_point2, multiplier2, shift2;
  int32_t output_multiplier, output_shift, output_zero_point, low, high;
};

// Section 6: a' = rescale((q_a - z_a) * 2^20, m_a, n_a), likewise b', then
// y = clamp(z_out + rescale(a' + b', m_o, n_o)).
inline std::vector<int8_t> Add(const AddArgs& a, const std::vector<int8_t>& input1,
                               const std::vector<int8_t>& input2) {
  std::vector<int8_t> output;
  for (size_t i = 0; i < input1.size(); ++i) {
    const Int128 scaled1 =
        Rescale((Int128{input1[i]} - a.zero_point1) * (Int128{1} << 20), a.multiplier1, a.shift1);
    const Int128 scaled2 =
        Rescale((Int128{input2[i]} - a.zero_point2) * (Int128{1} << 20), a.multiplier2, a.shift2);
    output.push_back(Requantize(scaled1 + scaled2, a.output_multiplier, a.output_shift,
                                a.output_zero_point, a.low, a.high));
  }
  return output;
}

}  // namespace reference
}  // namespace integr8_fuzz

#endif  // INTEGR8_TESTS_FUZZ_REFERENCE_KERNELS_H_
