// Compile-time layer descriptors: each binds a kernel to constexpr parameters and constant
// weights, proves them valid with static_assert, and exposes the layer interface that
// Sequential chains (see graph/sequential.h). Layers process one sample (batches == 1).
// Since the parameters are proven at compile time and Sequential checks the caller's buffers
// once, every kernel is called with Checks::kProvenByCaller: no per-call re-validation.
// InvokeBatch runs `batches` samples at once, a host path: the binding uses it so that a
// Linear kernel multiplies several rows against weights it loaded once. Kernels called on a
// whole batch keep their entry checks (cheap next to a batch), since the scaled element
// counts are not proven at compile time.
// Linear, Conv2d, DepthwiseConv2d and MaxPool2d run integr8::backend::allocation_free's
// implementation (integr8/backend/select.h): the portable kernels, or the bit-exact x86
// backend when the target has AVX2, or the Arm DSP backend on a Cortex-M with the DSP
// extension; never one that allocates.
//
// A generated model declares, at namespace scope:
//   alignas(16) inline constexpr int8_t kFc1Weights[] = {...};
//   inline constexpr integr8::LinearParams kFc1{1, 784, 128, {kFc1Multipliers, ...}};
//   using Fc1 = integr8::LinearLayer<kFc1, kFc1Weights, kFc1Bias>;
#ifndef INTEGR8_GRAPH_LAYERS_H_
#define INTEGR8_GRAPH_LAYERS_H_

#include <cstddef>
#include <cstdint>

#include "integr8/backend/select.h"
#include "integr8/kernels/add.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/kernels/relu.h"
#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

namespace graph_internal {

// Element-wise parameters for `batches` samples. Sequential::InvokeBatch bounds batches so
// that no scaled element count leaves int32.
template <typename Params>
constexpr Params WithSizeForBatches(const Params& params, int32_t batches) {
  Params batched = params;
  batched.size = params.size * batches;
  return batched;
}

// Runs Layer::Invoke on each sample of a batch, reusing one sample's scratch. For the layers
// whose kernels see many rows per sample anyway (a convolution has one per output position),
// batching gains nothing, while the one-sample path keeps every shape a compile-time constant
// that the compiler specializes the kernel for.
template <typename Layer>
Status InvokeEachSample(const int8_t* input, int8_t* output, int8_t* scratch,
                        int32_t batches) {
  for (int32_t sample = 0; sample < batches; ++sample) {
    const Status status = Layer::Invoke(input, output, scratch);
    if (status != Status::kOk) return status;
    input += Layer::kInputElements;
    output += Layer::kOutputElements;
  }
  return Status::kOk;
}

}  // namespace graph_internal

template <const LinearParams& kParams, const int8_t* kWeights, const int32_t* kBias>
struct LinearLayer {
  static_assert(kParams.batches == 1, "graph layers process one sample");
  static_assert(ValidateLinearParams(kParams) == Status::kOk,
                "invalid Linear parameters (see integr8::ValidateLinearParams)");
  static_assert(ValidateAccumulatorBound(kBias, kParams.output_features,
                                         kParams.input_features) == Status::kOk,
                "Linear bias breaks the accumulator bound |b'| + K * 128 * 127 < 2^31");

  static constexpr int32_t kInputElements = kParams.input_features;
  static constexpr int32_t kOutputElements = kParams.output_features;
  static constexpr bool kInPlace = false;
  // The Arm DSP backend widens the activation rows here (one row for one sample, a pair for a
  // batch); the other backends need none.
  static constexpr size_t ScratchBytes(int32_t batches) {
    return backend::allocation_free::LinearScratchBytes(ForBatches(batches));
  }

  static Status Invoke(const int8_t* input, int8_t* output, int8_t* scratch) {
    return backend::allocation_free::Linear<int8_t, int8_t, int32_t, Checks::kProvenByCaller>(
        kParams, input, kWeights, kBias, output, scratch, ScratchBytes(1));
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* scratch,
                            int32_t batches) {
    return backend::allocation_free::Linear(ForBatches(batches), input, kWeights, kBias, output,
                                            scratch, ScratchBytes(batches));
  }

 private:
  static constexpr LinearParams ForBatches(int32_t batches) {
    LinearParams params = kParams;
    params.batches = batches;
    return params;
  }
};

template <const Conv2dParams& kParams, const int8_t* kFilter, const int32_t* kBias>
struct Conv2dLayer {
  static_assert(kParams.batches == 1, "graph layers process one sample");
  static_assert(ValidateConv2dParams(kParams) == Status::kOk,
                "invalid Conv2d parameters (see integr8::ValidateConv2dParams)");
  static_assert(ValidateAccumulatorBound(kBias, kParams.output_channels,
                                         kParams.filter_height * kParams.filter_width *
                                             (kParams.input_channels / kParams.groups)) ==
                    Status::kOk,
                "Conv2d bias breaks the accumulator bound |b'| + K * 128 * 127 < 2^31");

  static constexpr int32_t kInputElements =
      kParams.input_height * kParams.input_width * kParams.input_channels;
  static constexpr int32_t kOutputElements =
      OutputHeight(kParams) * OutputWidth(kParams) * kParams.output_channels;
  static constexpr bool kInPlace = false;
  // The Arm DSP backend keeps im2col patches here; the other backends need none. A batch runs
  // sample by sample, so one sample's scratch serves it.
  static constexpr size_t ScratchBytes(int32_t /*batches*/) {
    return backend::allocation_free::Conv2dScratchBytes(kParams);
  }

  static Status Invoke(const int8_t* input, int8_t* output, int8_t* scratch) {
    return backend::allocation_free::Conv2d<int8_t, int8_t, int32_t, Checks::kProvenByCaller>(
        kParams, input, kFilter, kBias, output, scratch, ScratchBytes(1));
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* scratch,
                            int32_t batches) {
    return graph_internal::InvokeEachSample<Conv2dLayer>(input, output, scratch, batches);
  }
};

template <const DepthwiseConv2dParams& kParams, const int8_t* kFilter, const int32_t* kBias>
struct DepthwiseConv2dLayer {
  static_assert(kParams.batches == 1, "graph layers process one sample");
  static_assert(ValidateDepthwiseConv2dParams(kParams) == Status::kOk,
                "invalid DepthwiseConv2d parameters (see integr8::ValidateDepthwiseConv2dParams)");
  static_assert(ValidateAccumulatorBound(kBias, kParams.input_channels * kParams.depth_multiplier,
                                         kParams.filter_height * kParams.filter_width) ==
                    Status::kOk,
                "DepthwiseConv2d bias breaks the accumulator bound |b'| + K * 128 * 127 < 2^31");

  static constexpr int32_t kInputElements =
      kParams.input_height * kParams.input_width * kParams.input_channels;
  static constexpr int32_t kOutputElements = OutputHeight(kParams) * OutputWidth(kParams) *
                                             kParams.input_channels * kParams.depth_multiplier;
  static constexpr bool kInPlace = false;
  static constexpr size_t ScratchBytes(int32_t /*batches*/) { return 0; }

  static Status Invoke(const int8_t* input, int8_t* output, int8_t* /*scratch*/) {
    return backend::allocation_free::DepthwiseConv2d<int8_t, int8_t, int32_t,
                                                     Checks::kProvenByCaller>(
        kParams, input, kFilter, kBias, output);
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* scratch,
                            int32_t batches) {
    return graph_internal::InvokeEachSample<DepthwiseConv2dLayer>(input, output, scratch,
                                                                  batches);
  }
};

// Max (kMax = true) or average pooling.
template <const Pool2dParams& kParams, bool kMax>
struct Pool2dLayer {
  static_assert(kParams.batches == 1, "graph layers process one sample");
  static_assert(ValidatePool2dParams(kParams) == Status::kOk,
                "invalid pooling parameters (see integr8::ValidatePool2dParams)");

  static constexpr int32_t kInputElements =
      kParams.input_height * kParams.input_width * kParams.channels;
  static constexpr int32_t kOutputElements =
      OutputHeight(kParams) * OutputWidth(kParams) * kParams.channels;
  static constexpr bool kInPlace = false;
  static constexpr size_t ScratchBytes(int32_t /*batches*/) { return 0; }

  static Status Invoke(const int8_t* input, int8_t* output, int8_t* /*scratch*/) {
    return kMax ? backend::allocation_free::MaxPool2d<int8_t, Checks::kProvenByCaller>(
                      kParams, input, output)
                : AvgPool2d<int8_t, Checks::kProvenByCaller>(kParams, input, output);
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* scratch,
                            int32_t batches) {
    return graph_internal::InvokeEachSample<Pool2dLayer>(input, output, scratch, batches);
  }
};

template <const Pool2dParams& kParams>
using MaxPool2dLayer = Pool2dLayer<kParams, true>;
template <const Pool2dParams& kParams>
using AvgPool2dLayer = Pool2dLayer<kParams, false>;

// Standalone ReLU / ReLU6 (a clamp); runs in place when its input lives in the arena.
template <const ReluParams& kParams>
struct ReluLayer {
  static_assert(ValidateReluParams(kParams) == Status::kOk,
                "invalid ReLU parameters (see integr8::ValidateReluParams)");

  static constexpr int32_t kInputElements = kParams.size;
  static constexpr int32_t kOutputElements = kParams.size;
  static constexpr bool kInPlace = true;
  static constexpr size_t ScratchBytes(int32_t /*batches*/) { return 0; }

  static Status Invoke(const int8_t* input, int8_t* output, int8_t* /*scratch*/) {
    return Relu<int8_t, Checks::kProvenByCaller>(kParams, input, output);
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* /*scratch*/,
                            int32_t batches) {
    return Relu(graph_internal::WithSizeForBatches(kParams, batches), input, output);
  }
};

// output = Add(input, Body(input)): a residual block whose shortcut is the identity. The
// body's output and the body's own arena live in this layer's scratch, so the block input
// stays intact until the add.
template <const AddParams& kParams, typename Body>
struct ResidualLayer {
  static_assert(ValidateAddParams(kParams) == Status::kOk,
                "invalid residual Add parameters (see integr8::ValidateAddParams)");
  static_assert(Body::kInputElements == kParams.size && Body::kOutputElements == kParams.size,
                "a residual body must keep the shape of its input");

  static constexpr int32_t kInputElements = kParams.size;
  static constexpr int32_t kOutputElements = kParams.size;
  static constexpr bool kInPlace = false;
  static constexpr size_t ScratchBytes(int32_t batches) {
    return BranchBytes(batches) + Body::ScratchBytes(batches);
  }

  static Status Invoke(const int8_t* input, int8_t* output, int8_t* scratch) {
    int8_t* branch = scratch;
    const Status status = Body::Invoke(input, branch, scratch + BranchBytes(1));
    if (status != Status::kOk) return status;
    return Add<int8_t, Checks::kProvenByCaller>(kParams, input, branch, output);
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* scratch,
                            int32_t batches) {
    int8_t* branch = scratch;
    const Status status =
        Body::InvokeBatch(input, branch, scratch + BranchBytes(batches), batches);
    if (status != Status::kOk) return status;
    return Add(graph_internal::WithSizeForBatches(kParams, batches), input, branch, output);
  }

 private:
  static constexpr size_t BranchBytes(int32_t batches) {
    return static_cast<size_t>(kParams.size) * static_cast<size_t>(batches);
  }
};

}  // namespace integr8

#endif  // INTEGR8_GRAPH_LAYERS_H_
