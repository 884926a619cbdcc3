// Eigen host backend: Linear and Conv2d as int32 GEMMs, bit-exact with the portable kernels.
//
// HOST ONLY. This header allocates (Eigen matrices hold the int32 copies of the operands, the
// im2col rows and the accumulators), so firmware never includes it: integr8.h does not, and
// tests/check_firmware_headers.py exempts it by name. Use it by linking the CMake target
// integr8::eigen_backend (created only when Eigen 3.3+ is found), which puts Eigen on the
// include path as a SYSTEM directory and defines INTEGR8_BACKEND_EIGEN, so that
// integr8/backend/select.h picks these functions. It is not part of the installed CMake
// package's targets; an installed consumer adds Eigen itself.
//
// Contract: integr8::backend::eigen::Linear and ::Conv2d have the portable kernels'
// signatures (the same templates, restricted to the spec's element types) and, for every
// argument, return the Status the portable kernel returns -- the same Validate* function runs
// first through INTEGR8_CHECK, before anything is allocated or written, so on error the output
// is untouched -- and on kOk write the very same bytes. Only the order of the additions
// differs; see "Why the int32 GEMM is exact" below. Allocation failure is reported the way
// Eigen reports it (std::bad_alloc); no Status names it.
//
// Layouts, ranges and checks are those of integr8/kernels/linear.h and conv2d.h.
//
// Why the int32 GEMM is exact: the Validate* functions establish, for every output channel,
// |bias[c]| + K * 128 * 127 < 2^31, with K the products per output, |x| <= 128 for every input
// (a padded convolution tap reads input_zero_point, also in int8) and |w| <= 127 (the spec's
// weight range, which the portable kernel assumes too). Eigen sums the K products of an output
// in an order of its own (depth blocks, vector lanes and register tiles combined later), but
// every partial sum it forms is a sum over a subset of those K products, so its magnitude is at
// most K * 128 * 127 < 2^31, and adding the bias afterwards stays below 2^31 by the same bound.
// Nothing wraps, so every int32 result is the exact integer sum, and exact integer addition
// does not depend on order: the accumulator equals the portable kernel's, which then goes
// through the same integr8::Requantize.
#ifndef INTEGR8_BACKEND_EIGEN_H_
#define INTEGR8_BACKEND_EIGEN_H_

#if __has_include(<Eigen/Core>)

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/element_types.h"
#include "integr8/kernels/linear.h"
#include "integr8/types.h"

#if !EIGEN_VERSION_AT_LEAST(3, 3, 0)
#error "integr8/backend/eigen.h needs Eigen 3.3 or newer"
#endif

namespace integr8::backend::eigen {

namespace internal {

using Int32Matrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstInt8Map =
    Eigen::Map<const Eigen::Matrix<int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Conv2d builds im2col rows and accumulators a chunk of output positions at a time, so that
// neither buffer exceeds about this many int32 elements (4 MiB) however large the input,
// while each GEMM stays large enough to run at full speed.
inline constexpr int32_t kChunkElements = int32_t{1} << 20;

// output[row][c] = Requantize(bias[c] + acc[row][c]) for `rows` rows of `channels` int32
// accumulators, row-major; the same formula and clamp the portable kernels apply.
inline void BiasRequantizeRows(const int32_t* acc, int32_t rows, int32_t channels,
                               const int32_t* bias, const RequantizeParams& requantize,
                               int8_t* output) {
  for (int32_t row = 0; row < rows; ++row) {
    for (int32_t out_c = 0; out_c < channels; ++out_c, ++acc, ++output) {
      const int32_t channel = requantize.per_channel ? out_c : 0;
      // Cannot overflow: |bias| + K * 128 * 127 < 2^31 (see the top of this file).
      const int32_t sum = bias[out_c] + *acc;
      *output = static_cast<int8_t>(Requantize(sum, requantize.multipliers[channel],
                                               requantize.shifts[channel],
                                               requantize.output_zero_point,
                                               requantize.activation_min,
                                               requantize.activation_max));
    }
  }
}

// Conv2d with the im2col and accumulator buffers bounded by about chunk_elements int32 each
// (at least one output position per chunk). Conv2d passes kChunkElements; the unit test also
// passes tiny values so that chunk boundaries fall everywhere. Validates like integr8::Conv2d.
inline Status Conv2dChunked(const Conv2dParams& params, const int8_t* input,
                            const int8_t* filter, const int32_t* bias, int8_t* output,
                            int32_t chunk_elements) {
  INTEGR8_CHECK(ValidateConv2d(params, input, filter, bias, output));

  const int32_t input_height = params.input_height;
  const int32_t input_width = params.input_width;
  const int32_t input_channels = params.input_channels;
  const int32_t output_channels = params.output_channels;
  const int32_t filter_height = params.filter_height;
  const int32_t filter_width = params.filter_width;
  const int32_t stride_height = params.stride_height;
  const int32_t stride_width = params.stride_width;
  const int32_t dilation_height = params.dilation_height;
  const int32_t dilation_width = params.dilation_width;
  const int32_t padding_height = params.padding_height;
  const int32_t padding_width = params.padding_width;
  const int32_t input_zero_point = params.input_zero_point;
  const int32_t groups = params.groups;
  const int32_t output_height = OutputHeight(params);
  const int32_t output_width = OutputWidth(params);
  const int32_t filter_input_channels = input_channels / groups;
  const int32_t group_output_channels = output_channels / groups;

  // Every product below was bounded by INT32_MAX in validation: taps divides the filter's
  // element count, positions * output_channels is the output's. Pointer offsets and Eigen
  // indices are still formed in their own (wider) types, not widened from an int32 product.
  const int32_t taps = filter_height * filter_width * filter_input_channels;  // K
  const int32_t output_plane = output_height * output_width;
  const int32_t positions = params.batches * output_plane;

  // OHWI makes group g's filter a contiguous [group_output_channels][K] row-major block
  // whose columns run (filter_y, filter_x, in_c); the im2col rows below use the same order.
  const Int32Matrix filter_matrix = ConstInt8Map(filter, output_channels, taps).cast<int32_t>();

  const int32_t widest_row = std::max(taps, output_channels);
  const int32_t chunk_rows =
      std::min(positions, std::max(int32_t{1}, std::max(chunk_elements, int32_t{1}) / widest_row));
  Int32Matrix columns(chunk_rows, taps);
  Int32Matrix acc(chunk_rows, output_channels);

  // chunk_begin + rows <= positions, so the loop variable never passes INT32_MAX.
  for (int32_t chunk_begin = 0, rows = 0; chunk_begin < positions; chunk_begin += rows) {
    rows = std::min(chunk_rows, positions - chunk_begin);
    for (int32_t group = 0; group < groups; ++group) {
      const int32_t in_c_begin = group * filter_input_channels;
      // im2col: row r holds the K inputs that output position chunk_begin + r of this group
      // reads; a tap in the padding reads input_zero_point, the raw value of real zero.
      int32_t* column = columns.data();
      for (int32_t position = chunk_begin; position < chunk_begin + rows; ++position) {
        const int32_t batch = position / output_plane;
        const int32_t out_y = (position - batch * output_plane) / output_width;
        const int32_t out_x = position - batch * output_plane - out_y * output_width;
        const int32_t in_y_origin = out_y * stride_height - padding_height;
        const int32_t in_x_origin = out_x * stride_width - padding_width;
        for (int32_t filter_y = 0; filter_y < filter_height; ++filter_y) {
          const int32_t in_y = in_y_origin + dilation_height * filter_y;
          for (int32_t filter_x = 0; filter_x < filter_width; ++filter_x) {
            const int32_t in_x = in_x_origin + dilation_width * filter_x;
            const bool is_inside =
                in_y >= 0 && in_y < input_height && in_x >= 0 && in_x < input_width;
            if (is_inside) {
              const int32_t pixel = (batch * input_height + in_y) * input_width + in_x;
              const int8_t* input_taps =
                  input + static_cast<ptrdiff_t>(pixel) * input_channels + in_c_begin;
              std::copy(input_taps, input_taps + filter_input_channels, column);
            } else {
              std::fill(column, column + filter_input_channels, input_zero_point);
            }
            column += filter_input_channels;
          }
        }
      }
      // acc[:, group's channels] = im2col * filter_g^T, one int32 GEMM (exact, see above).
      const Eigen::Index first_channel = Eigen::Index{group} * group_output_channels;
      acc.topRows(rows).middleCols(first_channel, group_output_channels).noalias() =
          columns.topRows(rows) *
          filter_matrix.middleRows(first_channel, group_output_channels).transpose();
    }
    // Positions are NHWC output pixels in order, so the chunk's outputs are contiguous.
    BiasRequantizeRows(acc.data(), rows, output_channels, bias, params.requantize,
                       output + static_cast<ptrdiff_t>(chunk_begin) * output_channels);
  }
  return Status::kOk;
}

}  // namespace internal

// integr8::Linear as one GEMM: acc[batches][out] = input[batches][in] * weights[out][in]^T in
// int32, then bias and requantization. Same Status, same output bytes.
template <typename Activation, typename Weight, typename Bias>
Status Linear(const LinearParams& params, const Activation* input, const Weight* weights,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  INTEGR8_CHECK(ValidateLinear(params, input, weights, bias, output));

  const int32_t batches = params.batches;
  const int32_t input_features = params.input_features;
  const int32_t output_features = params.output_features;

  const internal::Int32Matrix input_matrix =
      internal::ConstInt8Map(input, batches, input_features).cast<int32_t>();
  const internal::Int32Matrix weight_matrix =
      internal::ConstInt8Map(weights, output_features, input_features).cast<int32_t>();
  internal::Int32Matrix acc(batches, output_features);
  // One int32 GEMM; exact, see "Why the int32 GEMM is exact" at the top of this file.
  acc.noalias() = input_matrix * weight_matrix.transpose();
  internal::BiasRequantizeRows(acc.data(), batches, output_features, bias, params.requantize,
                               output);
  return Status::kOk;
}

// integr8::Conv2d via im2col (per group, padded taps = input_zero_point) and an int32 GEMM
// per group, then bias and requantization. Same Status, same output bytes.
template <typename Activation, typename Weight, typename Bias>
Status Conv2d(const Conv2dParams& params, const Activation* input, const Weight* filter,
              const Bias* bias, Activation* output) {
  static_assert(kIsSpecTypes<Activation, Weight, Bias>, INTEGR8_SPEC_TYPES_MESSAGE);
  return internal::Conv2dChunked(params, input, filter, bias, output,
                                 internal::kChunkElements);
}

}  // namespace integr8::backend::eigen

#elif defined(INTEGR8_BACKEND_EIGEN)
// The macro asks for this backend (integr8/backend/select.h); fail loudly, never fall back.
#error "INTEGR8_BACKEND_EIGEN needs <Eigen/Core>: link integr8::eigen_backend (CMake)"
#else
// Without Eigen on the include path and without INTEGR8_BACKEND_EIGEN this header declares
// nothing, so that builds compiling every public header on its own
// (tests/consumers/standalone_headers) need no Eigen; code that calls the backend still fails
// to compile, naming integr8::backend::eigen.
#endif  // __has_include(<Eigen/Core>)

#endif  // INTEGR8_BACKEND_EIGEN_H_
