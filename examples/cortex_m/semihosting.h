// Arm semihosting (the debugger or QEMU -semihosting services the BKPT 0xAB trap): enough to
// print text and end the run with a status, with no stdio, no heap and no floating point.
#ifndef INTEGR8_EXAMPLE_SEMIHOSTING_H_
#define INTEGR8_EXAMPLE_SEMIHOSTING_H_

namespace semihosting {

// Writes a null-terminated string to the host's console (SYS_WRITE0).
void WriteText(const char* text);

// Ends the run: QEMU exits with status 0 if success, else 1 (SYS_EXIT).
[[noreturn]] void Exit(bool success);

}  // namespace semihosting

#endif  // INTEGR8_EXAMPLE_SEMIHOSTING_H_
