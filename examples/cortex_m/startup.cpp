// Vector table and reset handler for Armv7-M: set up .data and .bss, enable the FPU when the
// image was built for one, run main() and report its result through semihosting.
#include <cstdint>

#include "semihosting.h"

extern "C" {
// main() under another name: ISO C++ forbids calling main (-Wpedantic), yet startup code
// must, as a vendor's does.
int RunMain() __asm__("main");

// Defined by mps2.ld.
extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_top__[];

[[noreturn]] void Reset_Handler();
[[noreturn]] void Default_Handler();
}

namespace {

using Handler = void (*)();

// Initial stack pointer, then the 15 Armv7-M system exceptions (reset first). This example
// takes no interrupts, so every exception but reset is a failure.
struct VectorTable {
  const uint32_t* initial_stack;
  Handler exceptions[15];
};

// volatile: the compiler would otherwise turn these loops into memcpy/memset calls, which do
// not exist yet while .data is being set up.
void CopyWords(const uint32_t* source, volatile uint32_t* destination, const uint32_t* end) {
  while (destination < end) *destination++ = *source++;
}

void ZeroWords(volatile uint32_t* destination, const uint32_t* end) {
  while (destination < end) *destination++ = 0;
}

void EnableFpu() {
#if defined(__ARM_FP)
  // CPACR: full access to coprocessors 10 and 11 (the FPU), which the hard-float ABI uses.
  volatile uint32_t& cpacr = *reinterpret_cast<volatile uint32_t*>(0xE000ED88u);
  cpacr = cpacr | (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
}

}  // namespace

__attribute__((section(".vectors"), used)) const VectorTable kVectorTable = {
    __stack_top__,
    {Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
     Default_Handler, nullptr, nullptr, nullptr, nullptr, Default_Handler, Default_Handler,
     nullptr, Default_Handler, Default_Handler}};

void Reset_Handler() {
  CopyWords(__data_load__, __data_start__, __data_end__);
  ZeroWords(__bss_start__, __bss_end__);
  EnableFpu();
  semihosting::Exit(RunMain() == 0);
}

// A fault or unexpected interrupt ends the run as a failure rather than hanging the test.
void Default_Handler() { semihosting::Exit(false); }
