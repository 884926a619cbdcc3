// Measurement firmware for tools/firmware_footprint.py: one inference timed by the CMSDK APB
// timer that every MPS2 board has, and the stack it used.
//
// Under qemu-system-arm -icount shift=N the virtual clock advances exactly 2^N ns per executed
// instruction, so the 25 MHz timer's ticks between two reads count instructions: with N = 6 an
// instruction is 64 ns and a tick 40 ns, so instructions = ticks * 40 / 64, to within one.
// Deterministic: the same image gives the same count on every run.
#include <cstdint>

#include "classifier.h"
#include "model_config.h"
#include "semihosting.h"
#include "test_images.h"
#include "text_line.h"

extern "C" uint32_t __stack_limit__[];  // mps2.ld

namespace {

// CMSDK APB timer 0 (0x40000000 on MPS2 AN385, AN386 and AN500): a 32-bit down counter.
struct CmsdkTimer {
  volatile uint32_t control;
  volatile uint32_t value;
  volatile uint32_t reload;
};
constexpr uintptr_t kTimer0Address = 0x40000000u;
constexpr uint32_t kTimerEnable = 1u;
constexpr uint32_t kStackPaint = 0xA5A5A5A5u;

CmsdkTimer& Timer() { return *reinterpret_cast<CmsdkTimer*>(kTimer0Address); }

// Ticks the timer counted down while Classify ran, less the ticks of the reads themselves.
uint32_t ClassifyTicks(const int8_t* image, int8_t* scores) {
  const uint32_t empty_start = Timer().value;
  const uint32_t empty_end = Timer().value;
  const uint32_t start = Timer().value;
  static_cast<void>(Classify(image, scores));
  const uint32_t end = Timer().value;
  return (start - end) - (empty_start - empty_end);
}

uintptr_t StackPointer() {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

// Bytes below the caller's stack pointer that Classify wrote: the stack is painted first and
// the deepest word no longer holding the paint marks how far the calls went.
uint32_t ClassifyStackBytes(const int8_t* image, int8_t* scores) {
  volatile uint32_t* const limit = __stack_limit__;
  const uintptr_t top = StackPointer() - 64;  // leave this function's own frame alone
  for (volatile uint32_t* word = limit; reinterpret_cast<uintptr_t>(word) < top; ++word) {
    *word = kStackPaint;
  }
  static_cast<void>(Classify(image, scores));
  volatile uint32_t* deepest = limit;
  while (*deepest == kStackPaint) ++deepest;
  return static_cast<uint32_t>(StackPointer() - reinterpret_cast<uintptr_t>(deepest));
}

}  // namespace

int main() {
  Timer().reload = UINT32_MAX;
  Timer().value = UINT32_MAX;
  Timer().control = kTimerEnable;
  int8_t scores[example_model::kOutputElements];
  const int8_t* const image = integr8_example_images::INTEGR8_EXAMPLE_MODEL::kImages[0];
  TextLine line;
  semihosting::WriteText(line.AppendText("classify timer ticks ")
                             .AppendUnsigned(ClassifyTicks(image, scores))
                             .AppendText(", stack bytes ")
                             .AppendUnsigned(ClassifyStackBytes(image, scores))
                             .Finish());
  return 0;
}
