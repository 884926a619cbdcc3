// A compile-time chain of layers that runs one sample through one caller-owned arena.
//
// Each layer type provides:
//   static constexpr int32_t kInputElements, kOutputElements;  // int8 elements, one sample
//   static constexpr bool kInPlace;  // output may be written over its own input
//   // extra arena bytes the layer needs while running `batches` samples
//   static constexpr size_t ScratchBytes(int32_t batches);
//   // one sample, arguments proven by the caller; and `batches` samples, checked
//   static Status Invoke(const int8_t* input, int8_t* output, int8_t* scratch);
//   static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* scratch,
//                             int32_t batches);
//
// Intermediate tensors alternate between the two ends of the arena: "low" tensors start at
// byte 0, "high" tensors end at the last byte, and a layer's scratch lies between them. So
// the arena needs, over all layers, the largest (input + output + scratch) counting only the
// tensors that live in the arena (the model's input and output are the caller's buffers), and
// an in-place layer counts its tensor once. That is the least memory any schedule of a chain
// can use, since a layer's input and output are alive together.
//
// A batch of samples (InvokeBatch) is laid out the same way, every tensor and scratch scaled
// to the batch: ArenaBytes(batches).
//
// Sequential is itself a layer, so chains nest (e.g. inside a residual block).
#ifndef INTEGR8_GRAPH_SEQUENTIAL_H_
#define INTEGR8_GRAPH_SEQUENTIAL_H_

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include "integr8/kernels/validation.h"
#include "integr8/types.h"

namespace integr8 {

template <typename... Layers>
class Sequential {
  static_assert(sizeof...(Layers) > 0, "a Sequential graph needs at least one layer");

  static constexpr size_t kLayerCount = sizeof...(Layers);
  template <size_t kIndex>
  using Layer = std::tuple_element_t<kIndex, std::tuple<Layers...>>;

  static constexpr int32_t kLayerInputs[kLayerCount] = {Layers::kInputElements...};
  static constexpr int32_t kLayerOutputs[kLayerCount] = {Layers::kOutputElements...};
  static constexpr bool kLayerInPlace[kLayerCount] = {Layers::kInPlace...};

  // Where a tensor lives. Tensor 0 is the model input, tensor kLayerCount the model output,
  // tensor i in between is the output of layer i - 1.
  enum class Place { kCallerInput, kCallerOutput, kLow, kHigh };

  static constexpr Place TensorPlace(size_t tensor) {
    if (tensor == 0) return Place::kCallerInput;
    if (tensor == kLayerCount) return Place::kCallerOutput;
    Place place = Place::kCallerInput;
    for (size_t layer = 0; layer < tensor; ++layer) {
      const bool stays = kLayerInPlace[layer] && place != Place::kCallerInput;
      if (!stays) place = place == Place::kLow ? Place::kHigh : Place::kLow;
    }
    return place;
  }

  static constexpr size_t ArenaBytesOf(size_t tensor, int32_t elements, int32_t batches) {
    const Place place = TensorPlace(tensor);
    return place == Place::kLow || place == Place::kHigh
               ? static_cast<size_t>(elements) * static_cast<size_t>(batches)
               : 0;
  }

  // The largest element count of any tensor, which bounds the batch (see InvokeBatch).
  static constexpr int32_t LargestTensor() {
    int32_t largest = 0;
    for (size_t layer = 0; layer < kLayerCount; ++layer) {
      if (kLayerInputs[layer] > largest) largest = kLayerInputs[layer];
      if (kLayerOutputs[layer] > largest) largest = kLayerOutputs[layer];
    }
    return largest;
  }

  // cppcheck-suppress unusedPrivateFunction ; used by the static_assert below
  static constexpr bool ShapesChain() {
    for (size_t layer = 0; layer + 1 < kLayerCount; ++layer) {
      if (kLayerOutputs[layer] != kLayerInputs[layer + 1]) return false;
    }
    return true;
  }
  static_assert(ShapesChain(), "each layer's output size must equal the next layer's input size");

 public:
  static constexpr int32_t kInputElements = kLayerInputs[0];
  static constexpr int32_t kOutputElements = kLayerOutputs[kLayerCount - 1];
  static constexpr bool kInPlace = false;
  // The most samples InvokeBatch takes at once: every scaled tensor stays within int32.
  static constexpr int32_t kMaxBatches = INT32_MAX / LargestTensor();

  // Bytes of arena that `batches` samples need (1 <= batches <= kMaxBatches).
  static constexpr size_t ArenaBytes(int32_t batches) {
    const size_t scratch[kLayerCount] = {Layers::ScratchBytes(batches)...};
    size_t required = 0;
    for (size_t layer = 0; layer < kLayerCount; ++layer) {
      const size_t input = ArenaBytesOf(layer, kLayerInputs[layer], batches);
      const bool shared = TensorPlace(layer) == TensorPlace(layer + 1);
      const size_t output = shared ? 0 : ArenaBytesOf(layer + 1, kLayerOutputs[layer], batches);
      const size_t live = input + output + scratch[layer];
      if (live > required) required = live;
    }
    return required;
  }
  // Bytes of arena Invoke needs; declare the arena as `alignas(16) int8_t arena[kArenaBytes]`.
  static constexpr size_t kArenaBytes = ArenaBytes(1);
  static constexpr size_t ScratchBytes(int32_t batches) { return ArenaBytes(batches); }

  // Runs one sample. input: kInputElements int8; output: kOutputElements int8; arena: at
  // least kArenaBytes, overlapping neither. On error nothing is written to output.
  static Status Invoke(const int8_t* input, int8_t* output, int8_t* arena,
                       size_t arena_bytes) {
    const Status status = CheckBuffers(input, output, 1, arena, arena_bytes, kArenaBytes);
    if (status != Status::kOk) return status;
    return Invoke(input, output, arena);
  }

  // Runs `batches` samples at once. input: batches * kInputElements int8, sample after
  // sample; output: batches * kOutputElements; arena: at least ArenaBytes(batches), overlapping
  // neither. The output bytes equal those of Invoke on each sample; on error nothing is
  // written to output (only the last layer writes there, after its own checks).
  static Status InvokeBatch(const int8_t* input, int8_t* output, int32_t batches, int8_t* arena,
                            size_t arena_bytes) {
    if (batches < 1 || batches > kMaxBatches) return Status::kBadShape;
    const Status status =
        CheckBuffers(input, output, batches, arena, arena_bytes, ArenaBytes(batches));
    if (status != Status::kOk) return status;
    return InvokeBatch(input, output, arena, batches);
  }

  // The layer interface, for nesting: the arena is exactly kArenaBytes (ArenaBytes(batches))
  // and already checked.
  static Status Invoke(const int8_t* input, int8_t* output, int8_t* arena) {
    return InvokeLayers<false>(input, output, arena, 1, std::make_index_sequence<kLayerCount>{});
  }
  static Status InvokeBatch(const int8_t* input, int8_t* output, int8_t* arena,
                            int32_t batches) {
    return InvokeLayers<true>(input, output, arena, batches,
                              std::make_index_sequence<kLayerCount>{});
  }

 private:
  static Status CheckBuffers(const int8_t* input, const int8_t* output, int32_t batches,
                             const int8_t* arena, size_t arena_bytes, size_t arena_needed) {
    if (input == nullptr || output == nullptr) return Status::kNullPointer;
    if (arena_needed > 0 && arena == nullptr) return Status::kNullPointer;
    if (arena_bytes < arena_needed) return Status::kArenaTooSmall;
    const size_t samples = static_cast<size_t>(batches);
    const size_t input_bytes = static_cast<size_t>(kInputElements) * samples;
    const size_t output_bytes = static_cast<size_t>(kOutputElements) * samples;
    if (BuffersOverlap(input, input_bytes, output, output_bytes) ||
        BuffersOverlap(arena, arena_needed, input, input_bytes) ||
        BuffersOverlap(arena, arena_needed, output, output_bytes)) {
      return Status::kAliasing;
    }
    return Status::kOk;
  }

  // Where tensor kTensor lives, decided at compile time; `bytes` is its size over the batch.
  // Only tensor 0 is the caller's input, which is const and only ever read (see InvokeLayer).
  template <size_t kTensor>
  static int8_t* TensorData(int8_t* arena, size_t arena_bytes, int8_t* output, size_t bytes) {
    constexpr Place kPlace = TensorPlace(kTensor);
    static_assert(kPlace != Place::kCallerInput, "the model input is passed separately");
    if constexpr (kPlace == Place::kLow) {
      return arena;
    } else if constexpr (kPlace == Place::kHigh) {
      return arena + (arena_bytes - bytes);
    } else {
      return output;
    }
  }

  // One layer over `batches` samples; kBatched picks the layer's InvokeBatch over Invoke
  // (where batches is 1 and every size folds to a constant).
  template <bool kBatched, size_t kIndex>
  static Status InvokeLayer(const int8_t* input, int8_t* output, int8_t* arena,
                            size_t arena_bytes, int32_t batches) {
    const size_t samples = static_cast<size_t>(batches);
    const size_t input_bytes = static_cast<size_t>(kLayerInputs[kIndex]) * samples;
    const size_t output_bytes = static_cast<size_t>(kLayerOutputs[kIndex]) * samples;
    const int8_t* layer_input = input;
    if constexpr (kIndex > 0) {
      layer_input = TensorData<kIndex>(arena, arena_bytes, output, input_bytes);
    }
    int8_t* layer_output = TensorData<kIndex + 1>(arena, arena_bytes, output, output_bytes);
    // The scratch starts after whichever of the layer's tensors occupies the low end.
    const size_t low_bytes = TensorPlace(kIndex) == Place::kLow        ? input_bytes
                             : TensorPlace(kIndex + 1) == Place::kLow ? output_bytes
                                                                       : 0;
    if constexpr (kBatched) {
      return Layer<kIndex>::InvokeBatch(layer_input, layer_output, arena + low_bytes, batches);
    } else {
      return Layer<kIndex>::Invoke(layer_input, layer_output, arena + low_bytes);
    }
  }

  template <bool kBatched, size_t... kIndices>
  static Status InvokeLayers(const int8_t* input, int8_t* output, int8_t* arena,
                             int32_t batches, std::index_sequence<kIndices...>) {
    const size_t arena_bytes = kBatched ? ArenaBytes(batches) : kArenaBytes;
    // Always overwritten by the first layer (the pack is never empty), but initialized so that
    // no path can read an indeterminate value.
    Status status = Status::kOk;
    // Runs the layers in order and stops at the first error.
    static_cast<void>(
        // cppcheck-suppress redundantInitialization ; deliberate, see the declaration
        (((status = InvokeLayer<kBatched, kIndices>(input, output, arena, arena_bytes,
                                                    batches)) == Status::kOk) &&
         ...));
    return status;
  }
};

}  // namespace integr8

#endif  // INTEGR8_GRAPH_SEQUENTIAL_H_
