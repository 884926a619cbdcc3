// Runs the bars model (bars_model.h) from a static arena, as firmware would, and checks that
// it tells vertical from horizontal bars.
#include <cstdint>
#include <cstdio>

#include "bars_model.h"

namespace bars = integr8_models::bars;

namespace {

alignas(16) int8_t g_arena[bars::Model::kArenaBytes];

// A 6x6 image with one bright bar (pixel 255) on a dark background (pixel 0).
void DrawBar(bool vertical, int position, int8_t* image) {
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 6; ++x) {
      const bool lit = vertical ? x == position : y == position;
      image[y * 6 + x] = static_cast<int8_t>(lit ? 127 : -128);
    }
  }
}

}  // namespace

int main() {
  std::printf("bars model: %d input bytes, %d output bytes, arena %zu bytes\n",
              bars::Model::kInputElements, bars::Model::kOutputElements,
              bars::Model::kArenaBytes);
  int mistakes = 0;
  for (int vertical = 1; vertical >= 0; --vertical) {
    for (int position = 1; position < 5; position += 3) {
      int8_t image[36];
      int8_t logits[2];
      DrawBar(vertical != 0, position, image);
      const integr8::Status status =
          bars::Model::Invoke(image, logits, g_arena, sizeof g_arena);
      if (status != integr8::Status::kOk) {
        std::printf("invoke failed: %s\n", integr8::StatusName(status));
        return 1;
      }
      const bool predicted_vertical = logits[0] > logits[1];
      mistakes += predicted_vertical != (vertical != 0);
      std::printf("%-10s bar at %d -> logits [%4d %4d] -> %s\n",
                  vertical ? "vertical" : "horizontal", position, logits[0], logits[1],
                  predicted_vertical ? "vertical" : "horizontal");
    }
  }
  std::printf("%d of 4 classified correctly\n", 4 - mistakes);
  return mistakes == 0 ? 0 : 1;
}
