// The Eigen host backend: the backend conformance suite (backend_conformance.h), its
// compile-time selection, and the chunked im2col, whose chunk boundaries may fall inside
// images, rows and batches. Built only when Eigen is found (tests/CMakeLists.txt links
// integr8::eigen_backend).
#include "integr8/backend/eigen.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "integr8/backend/select.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"
#include "integr8/types.h"
#include "unit/backend_conformance.h"

#ifndef INTEGR8_BACKEND_EIGEN
#error "integr8::eigen_backend must define INTEGR8_BACKEND_EIGEN"
#endif

namespace integr8::conformance {
namespace {

struct EigenBackend {
  static constexpr const char* kName = "eigen";
  static Status Linear(const LinearParams& params, const int8_t* input, const int8_t* weights,
                       const int32_t* bias, int8_t* output) {
    return backend::eigen::Linear(params, input, weights, bias, output);
  }
  static Status Conv2d(const Conv2dParams& params, const int8_t* input, const int8_t* filter,
                       const int32_t* bias, int8_t* output) {
    return backend::eigen::Conv2d(params, input, filter, bias, output);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Eigen, BackendLinearTest, EigenBackend, BackendName);
INSTANTIATE_TYPED_TEST_SUITE_P(Eigen, BackendConv2dTest, EigenBackend, BackendName);

// --- Signatures and selection ------------------------------------------------------------

using LinearFunction = Status (*)(const LinearParams&, const int8_t*, const int8_t*,
                                  const int32_t*, int8_t*);
using Conv2dFunction = Status (*)(const Conv2dParams&, const int8_t*, const int8_t*,
                                  const int32_t*, int8_t*);

static_assert(std::is_same_v<decltype(&backend::eigen::Linear<int8_t, int8_t, int32_t>),
                             decltype(&integr8::Linear<int8_t, int8_t, int32_t>)>);
static_assert(std::is_same_v<decltype(&backend::eigen::Conv2d<int8_t, int8_t, int32_t>),
                             decltype(&integr8::Conv2d<int8_t, int8_t, int32_t>)>);
static_assert(std::string_view(backend::selected::kName) == "eigen");

TEST(EigenBackendSelectTest, SelectedIsTheEigenBackend) {
  const LinearFunction selected_linear = &backend::selected::Linear<int8_t, int8_t, int32_t>;
  const LinearFunction eigen_linear = &backend::eigen::Linear<int8_t, int8_t, int32_t>;
  const Conv2dFunction selected_conv = &backend::selected::Conv2d<int8_t, int8_t, int32_t>;
  const Conv2dFunction eigen_conv = &backend::eigen::Conv2d<int8_t, int8_t, int32_t>;
  EXPECT_EQ(selected_linear, eigen_linear);
  EXPECT_EQ(selected_conv, eigen_conv);
}

// --- Chunked im2col ------------------------------------------------------------------------

// The Eigen Conv2d with `chunk_elements` im2col elements per chunk, as a conformance backend.
template <int32_t kChunkElements>
struct EigenChunkedBackend : EigenBackend {
  static Status Conv2d(const Conv2dParams& params, const int8_t* input, const int8_t* filter,
                       const int32_t* bias, int8_t* output) {
    return backend::eigen::internal::Conv2dChunked(params, input, filter, bias, output,
                                                   kChunkElements);
  }
};

// One output position per chunk, and chunks that end mid-row of a small image.
INSTANTIATE_TYPED_TEST_SUITE_P(EigenChunk1, BackendConv2dTest, EigenChunkedBackend<1>,
                               BackendName);
INSTANTIATE_TYPED_TEST_SUITE_P(EigenChunk37, BackendConv2dTest, EigenChunkedBackend<37>,
                               BackendName);

// Large enough that the default chunking (2^20 im2col elements) splits it, with a remainder.
TEST(EigenBackendConv2dTest, MatchesPortableAcrossDefaultChunks) {
  Random random(20250803);
  Conv2dParams params;
  params.batches = 2;
  params.input_height = 64;
  params.input_width = 64;
  params.input_channels = 16;
  params.output_channels = 8;
  params.filter_height = 3;
  params.filter_width = 3;
  params.padding_height = 1;
  params.padding_width = 1;
  params.input_zero_point = -128;
  const int32_t products = 3 * 3 * 16;
  ASSERT_GT(int64_t{params.batches} * 64 * 64 * products,
            int64_t{backend::eigen::internal::kChunkElements});
  const std::vector<int8_t> input = random.Int8(U(2 * 64 * 64 * 16), -128, 127);
  const std::vector<int8_t> filter = random.Int8(U(8 * products), -127, 127);
  const std::vector<int32_t> bias = random.Bias(8, products);
  Requantization requantization;
  RandomRequantization(random, params.output_channels, int64_t{products} * 2000,
                       &requantization);
  params.requantize = requantization.params;
  OutputSpread spread;
  ExpectSameConv2d<EigenBackend>(params, input, filter, bias, &spread);
  ExpectSpread(spread);
}

}  // namespace
}  // namespace integr8::conformance
