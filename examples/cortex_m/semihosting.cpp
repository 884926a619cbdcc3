#include "semihosting.h"

#include <cstdint>

namespace semihosting {
namespace {

constexpr uint32_t kSysWrite0 = 0x04;
constexpr uint32_t kSysExit = 0x18;
// SYS_EXIT reasons (32-bit Arm passes the reason itself, not a pointer to it).
constexpr uint32_t kApplicationExit = 0x20026;
constexpr uint32_t kRunTimeErrorUnknown = 0x20023;

uint32_t Call(uint32_t operation, uintptr_t argument) {
  register uint32_t r0 __asm__("r0") = operation;
  register uintptr_t r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void WriteText(const char* text) { Call(kSysWrite0, reinterpret_cast<uintptr_t>(text)); }

void Exit(bool success) {
  Call(kSysExit, success ? kApplicationExit : kRunTimeErrorUnknown);
  for (;;) {
  }
}

}  // namespace semihosting
