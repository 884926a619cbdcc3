// A bar-orientation classifier small enough to check by hand, written in the form the
// integr8 exporter generates (docs/spec.md; python/integr8/export.py): constants that stay in
// flash, input/output quantization, a compile-time graph and its arena size. It tells 6x6
// images holding a vertical bar from those holding a horizontal one.
//
// conv 3x3 (pad 1) with two line detectors and fused ReLU -> global average pool -> linear.
#ifndef INTEGR8_MODEL_BARS_H_
#define INTEGR8_MODEL_BARS_H_

#include <cstddef>
#include <cstdint>

#include <integr8/integr8.h>

static_assert(INTEGR8_SPEC_VERSION == 1,
              "bars_model.h was written for integer spec 1; this integr8 implements another");

namespace integr8_models {
namespace bars {

// Input: 6x6x1 pixels 0..255 stored as q = pixel - 128, i.e. scale 1/255, zero point -128.
// Scales are given as m * 2^-n (docs/spec.md section 2.1) so that no float reaches firmware.
inline constexpr int32_t kInputHeight = 6;
inline constexpr int32_t kInputWidth = 6;
inline constexpr int32_t kInputChannels = 1;
inline constexpr int32_t kInputZeroPoint = -128;
inline constexpr int32_t kInputScaleMultiplier = 1077952576;  // 1/255
inline constexpr int32_t kInputScaleShift = 38;
// Output: two logits, [vertical, horizontal], in units of one step (scale 1, zero point 0).
inline constexpr int32_t kOutputElements = 2;
inline constexpr int32_t kOutputZeroPoint = 0;
inline constexpr int32_t kOutputScaleMultiplier = int32_t{1} << 30;  // 1
inline constexpr int32_t kOutputScaleShift = 30;

// layer 'conv' (Conv2d 1 -> 2, 3x3, padding 1, ReLU fused)
// Channel 0 answers vertical lines (bright centre column), channel 1 horizontal lines.
alignas(16) inline constexpr int8_t kConvFilter[2 * 3 * 3 * 1] = {
    -1, 2, -1,  -1, 2, -1,  -1, 2, -1,   // OHWI, output channel 0
    -1, -1, -1,  2, 2, 2,  -1, -1, -1};  // output channel 1
// Real bias 0; both filters sum to 0, so folding -z_in * sum(w) leaves 0.
alignas(16) inline constexpr int32_t kConvBias[2] = {0, 0};
// M = 1/6 maps the strongest response (3 rows * 510 = 1530) onto 255 steps:
// frexp(1/6) = (2/3, -2), m = floor(2/3 * 2^31 + 0.5) = 1431655765, n = 31 + 2 = 33.
alignas(16) inline constexpr int32_t kConvMultipliers[1] = {1431655765};
alignas(16) inline constexpr int32_t kConvShifts[1] = {33};
// Fields are assigned by name (as the exporter writes them); the others keep their defaults.
inline constexpr integr8::Conv2dParams kConvParams = [] {
  integr8::Conv2dParams p{};
  p.input_height = 6;
  p.input_width = 6;
  p.input_channels = 1;
  p.output_channels = 2;
  p.filter_height = 3;
  p.filter_width = 3;
  p.padding_height = 1;
  p.padding_width = 1;
  p.input_zero_point = -128;
  p.requantize.multipliers = kConvMultipliers;
  p.requantize.shifts = kConvShifts;
  p.requantize.output_zero_point = -128;  // ReLU: the clamp's low end is z_out = -128
  return p;
}();
using Conv = integr8::Conv2dLayer<kConvParams, kConvFilter, kConvBias>;

// layer 'pool' (global average pool, 6x6)
inline constexpr integr8::Pool2dParams kPoolParams = [] {
  integr8::Pool2dParams p{};
  p.input_height = 6;
  p.input_width = 6;
  p.channels = 2;
  p.filter_height = 6;
  p.filter_width = 6;
  p.input_zero_point = -128;
  return p;
}();
using Pool = integr8::AvgPool2dLayer<kPoolParams>;

// layer 'fc' (Linear 2 -> 2): logit[vertical] = v - h, logit[horizontal] = h - v; the zero
// points cancel and M = 0.5.
alignas(16) inline constexpr int8_t kFcWeights[2 * 2] = {1, -1, -1, 1};
alignas(16) inline constexpr int32_t kFcBias[2] = {0, 0};
alignas(16) inline constexpr int32_t kFcMultipliers[1] = {int32_t{1} << 30};
alignas(16) inline constexpr int32_t kFcShifts[1] = {31};
inline constexpr integr8::LinearParams kFcParams = [] {
  integr8::LinearParams p{};
  p.input_features = 2;
  p.output_features = 2;
  p.requantize.multipliers = kFcMultipliers;
  p.requantize.shifts = kFcShifts;
  return p;
}();
using Fc = integr8::LinearLayer<kFcParams, kFcWeights, kFcBias>;

using Model = integr8::Sequential<Conv, Pool, Fc>;
inline constexpr size_t kArenaBytes = Model::kArenaBytes;

}  // namespace bars
}  // namespace integr8_models

#endif  // INTEGR8_MODEL_BARS_H_
