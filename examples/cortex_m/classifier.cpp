#include "classifier.h"

#include <cstddef>
#include <cstdint>

#include "model_config.h"

// A board may give the arena a fixed budget (a linker region, a memory plan); by default it is
// exactly what the model needs.
#ifndef INTEGR8_EXAMPLE_ARENA_BYTES
#define INTEGR8_EXAMPLE_ARENA_BYTES example_model::kArenaBytes
#endif

namespace {

constexpr size_t kArenaBytes = INTEGR8_EXAMPLE_ARENA_BYTES;
static_assert(kArenaBytes >= example_model::kArenaBytes,
              "INTEGR8_EXAMPLE_ARENA_BYTES is smaller than the model's kArenaBytes: the arena "
              "is too small for this model");

// One byte when the model needs none, since C++ has no zero-length arrays.
alignas(16) int8_t g_arena[kArenaBytes > 0 ? kArenaBytes : 1];

}  // namespace

integr8::Status Classify(const int8_t* image, int8_t* scores) {
  return example_model::Model::Invoke(image, scores, g_arena, kArenaBytes);
}
