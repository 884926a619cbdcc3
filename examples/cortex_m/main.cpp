// Firmware entry: prints the report through semihosting; startup.cpp turns the result into
// QEMU's exit status.
#include "report.h"
#include "semihosting.h"

int main() { return PrintReport(semihosting::WriteText) ? 0 : 1; }
