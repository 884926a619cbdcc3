// A compile-time chain of layers that runs one sample through one caller-owned arena.
//
// Each layer type provides:
//   static constexpr int32_t kInputElements, kOutputElements;  // int8 elements, one sample
//   static constexpr bool kInPlace;         // output may be written over its own input
//   static constexpr size_t kScratchBytes;  // extra arena bytes the layer needs while running
//   static Status Invoke(const int8_t* input, int8_t* output, int8_t* scratch);
//
// Intermediate tensors alternate between the two ends of the arena: "low" tensors start at
// byte 0, "high" tensors end at the last byte, and a layer's scratch lies between them. So
// the arena needs, over all layers, the largest (input + output + scratch) counting only the
// tensors that live in the arena (the model's input and output are the caller's buffers), and
// an in-place layer counts its tensor once. That is the least memory any schedule of a chain
// can use, since a layer's input and output are alive together.
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
  static constexpr size_t kLayerScratch[kLayerCount] = {Layers::kScratchBytes...};

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

  static constexpr size_t ArenaBytesOf(size_t tensor, int32_t elements) {
    const Place place = TensorPlace(tensor);
    return place == Place::kLow || place == Place::kHigh ? static_cast<size_t>(elements) : 0;
  }

  static constexpr size_t RequiredArenaBytes() {
    size_t required = 0;
    for (size_t layer = 0; layer < kLayerCount; ++layer) {
      const size_t input = ArenaBytesOf(layer, kLayerInputs[layer]);
      const bool shared = TensorPlace(layer) == TensorPlace(layer + 1);
      const size_t output = shared ? 0 : ArenaBytesOf(layer + 1, kLayerOutputs[layer]);
      const size_t live = input + output + kLayerScratch[layer];
      if (live > required) required = live;
    }
    return required;
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
  // Bytes of arena Invoke needs; declare the arena as `alignas(16) int8_t arena[kArenaBytes]`.
  static constexpr size_t kArenaBytes = RequiredArenaBytes();
  static constexpr size_t kScratchBytes = kArenaBytes;

  // Runs one sample. input: kInputElements int8; output: kOutputElements int8; arena: at
  // least kArenaBytes, overlapping neither. On error nothing is written to output.
  static Status Invoke(const int8_t* input, int8_t* output, int8_t* arena,
                       size_t arena_bytes) {
    if (input == nullptr || output == nullptr) return Status::kNullPointer;
    if (kArenaBytes > 0 && arena == nullptr) return Status::kNullPointer;
    if (arena_bytes < kArenaBytes) return Status::kArenaTooSmall;
    const size_t input_bytes = static_cast<size_t>(kInputElements);
    const size_t output_bytes = static_cast<size_t>(kOutputElements);
    if (BuffersOverlap(input, input_bytes, output, output_bytes) ||
        BuffersOverlap(arena, kArenaBytes, input, input_bytes) ||
        BuffersOverlap(arena, kArenaBytes, output, output_bytes)) {
      return Status::kAliasing;
    }
    return Invoke(input, output, arena);
  }

  // The layer interface, for nesting: the arena is exactly kArenaBytes and already checked.
  static Status Invoke(const int8_t* input, int8_t* output, int8_t* arena) {
    return InvokeLayers(input, output, arena, std::make_index_sequence<kLayerCount>{});
  }

 private:
  static int8_t* TensorData(size_t tensor, int32_t elements, int8_t* arena, int8_t* output) {
    switch (TensorPlace(tensor)) {
      case Place::kLow: return arena;
      case Place::kHigh: return arena + kArenaBytes - static_cast<size_t>(elements);
      case Place::kCallerOutput: return output;
      case Place::kCallerInput: break;
    }
    return nullptr;  // the caller's input is const and only ever read (see InvokeLayer)
  }

  template <size_t kIndex>
  static Status InvokeLayer(const int8_t* input, int8_t* output, int8_t* arena) {
    constexpr int32_t kIn = kLayerInputs[kIndex];
    constexpr int32_t kOut = kLayerOutputs[kIndex];
    const int8_t* layer_input =
        kIndex == 0 ? input : TensorData(kIndex, kIn, arena, output);
    int8_t* layer_output = TensorData(kIndex + 1, kOut, arena, output);
    // The scratch starts after whichever of the layer's tensors occupies the low end.
    const size_t low_bytes = TensorPlace(kIndex) == Place::kLow        ? static_cast<size_t>(kIn)
                             : TensorPlace(kIndex + 1) == Place::kLow ? static_cast<size_t>(kOut)
                                                                       : 0;
    return Layer<kIndex>::Invoke(layer_input, layer_output, arena + low_bytes);
  }

  template <size_t... kIndices>
  static Status InvokeLayers(const int8_t* input, int8_t* output, int8_t* arena,
                             std::index_sequence<kIndices...>) {
    // Always overwritten by the first layer (the pack is never empty), but initialized so that
    // no path can read an indeterminate value.
    Status status = Status::kOk;
    // Runs the layers in order and stops at the first error.
    static_cast<void>(
        // cppcheck-suppress redundantInitialization ; deliberate, see the declaration
        (((status = InvokeLayer<kIndices>(input, output, arena)) == Status::kOk) && ...));
    return status;
  }
};

}  // namespace integr8

#endif  // INTEGR8_GRAPH_SEQUENTIAL_H_
