// The firmware's twin on the host: the same report code and model, printed to stdout, for the
// byte-for-byte comparison with the firmware's output.
#include <cstdio>

#include "report.h"

namespace {
void WriteStdout(const char* text) { std::fputs(text, stdout); }
}  // namespace

int main() { return PrintReport(WriteStdout) ? 0 : 1; }
