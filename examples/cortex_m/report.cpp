#include "report.h"

#include <cstdint>

#include "classifier.h"
#include "model_config.h"
#include "test_images.h"
#include "text_line.h"

namespace images = integr8_example_images::INTEGR8_EXAMPLE_MODEL;

static_assert(images::kInputZeroPoint == example_model::kInputZeroPoint &&
                  images::kInputScaleMultiplier == example_model::kInputScaleMultiplier &&
                  images::kInputScaleShift == example_model::kInputScaleShift,
              "test_images.h was quantized for another input quantization than the model's: "
              "regenerate it with tools/gen_firmware_images.py");
static_assert(images::kImageElements == example_model::Model::kInputElements,
              "the test images do not have the model's input size");

namespace {

constexpr int32_t kScoreCount = example_model::kOutputElements;

// 32-bit FNV-1a over the bytes of every score: any output bit that differs changes it.
class Checksum {
 public:
  void Add(int8_t value) {
    hash_ ^= static_cast<uint8_t>(value);
    hash_ *= 16777619u;
  }
  uint32_t value() const { return hash_; }

 private:
  uint32_t hash_ = 2166136261u;
};

int32_t ArgMax(const int8_t* scores) {
  int32_t best = 0;
  for (int32_t index = 1; index < kScoreCount; ++index) {
    if (scores[index] > scores[best]) best = index;
  }
  return best;
}

void PrintStatus(TextSink sink, const char* what, integr8::Status status) {
  TextLine line;
  sink(line.AppendText(what).AppendText(": ").AppendText(integr8::StatusName(status)).Finish());
}

}  // namespace

bool PrintReport(TextSink sink) {
  // No arena size: it depends on the backend (the Arm DSP Linear and Conv2d keep widened
  // activations in it), so the firmware and its host twin would print different figures.
  TextLine header;
  sink(header.AppendText("model ")
           .AppendText(kExampleModelName)
           .AppendText(": ")
           .AppendDecimal(images::kImageCount)
           .AppendText(" images")
           .Finish());

  bool statuses_expected = true;
  Checksum checksum;
  int32_t correct = 0;
  for (int32_t image = 0; image < images::kImageCount; ++image) {
    int8_t scores[kScoreCount];
    const integr8::Status status = Classify(images::kImages[image], scores);
    if (status != integr8::Status::kOk) {
      PrintStatus(sink, "classify", status);
      statuses_expected = false;
      continue;
    }
    const int32_t predicted = ArgMax(scores);
    correct += predicted == images::kLabels[image] ? 1 : 0;
    TextLine line;
    line.AppendText("image ")
        .AppendDecimal(image)
        .AppendText(": label ")
        .AppendDecimal(images::kLabels[image])
        .AppendText(", predicted ")
        .AppendDecimal(predicted)
        .AppendText(", scores");
    for (const int8_t score : scores) {
      line.AppendText(" ").AppendDecimal(score);
      checksum.Add(score);
    }
    sink(line.Finish());
  }
  TextLine summary;
  sink(summary.AppendText("correct ")
           .AppendDecimal(correct)
           .AppendText(" of ")
           .AppendDecimal(images::kImageCount)
           .AppendText(", score checksum ")
           .AppendHex(checksum.value())
           .Finish());

  // Invalid calls must be refused with a status, on the target as on the host.
  int8_t scores[kScoreCount];
  const integr8::Status null_image = Classify(nullptr, scores);
  const integr8::Status null_scores = Classify(images::kImages[0], nullptr);
  PrintStatus(sink, "null image", null_image);
  PrintStatus(sink, "null scores", null_scores);
  return statuses_expected && null_image == integr8::Status::kNullPointer &&
         null_scores == integr8::Status::kNullPointer;
}
