// Golden-vector firmware: every case of tests/golden/golden_vectors.h (the NumPy reference's
// outputs, tools/gen_golden_vectors.py) replayed on the target and compared byte for byte.
// Linear, Conv2d, DepthwiseConv2d and MaxPool2d run through integr8::backend::allocation_free,
// the kernels the compile-time graph calls (the Arm DSP backend on the Cortex-M4 and M7, the
// portable kernels on the M3), with scratch of exactly the size its queries give, and through
// the portable kernels; the other ops have only their portable kernel. Prints one line per op
// and kernel set, "<op> <kernels>: P of N cases passed", with the first failure after it,
// then the total; exits non-zero on any mismatch (tests/run_golden_firmware.py reads it).
//
// The host suite (tests/unit/golden_test.cpp) checks that each case's operand and output
// sizes agree with its params, so the sizes are taken as they are here.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "golden/golden_vectors.h"
#include "integr8/backend/select.h"
#include "integr8/kernels/add.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/kernels/relu.h"
#include "integr8/kernels/requantize.h"
#include "integr8/types.h"
#include "integr8/version.h"
#include "semihosting.h"
#include "text_line.h"

namespace {

namespace allocation_free = integr8::backend::allocation_free;
using integr8::Status;
using integr8::golden::AddCase;
using integr8::golden::Conv2dCase;
using integr8::golden::DepthwiseConv2dCase;
using integr8::golden::kAddCases;
using integr8::golden::kAvgPool2dCases;
using integr8::golden::kConv2dCases;
using integr8::golden::kDepthwiseConv2dCases;
using integr8::golden::kLinearCases;
using integr8::golden::kMaxPool2dCases;
using integr8::golden::kReluCases;
using integr8::golden::kRequantizeCases;
using integr8::golden::LinearCase;
using integr8::golden::Pool2dCase;
using integr8::golden::ReluCase;
using integr8::golden::RequantizeCase;

// The largest size_of(c) over a table's cases, at compile time, so that the static buffers
// fit every case of the tables they are sized from.
template <typename Case, size_t kCount, typename SizeOf>
constexpr size_t Largest(const Case (&cases)[kCount], SizeOf size_of) {
  size_t largest = 0;
  for (const Case& c : cases) largest = std::max(largest, static_cast<size_t>(size_of(c)));
  return largest;
}

constexpr auto kExpectedSize = [](const auto& c) { return c.expected_size; };
constexpr size_t kOutputBytes = std::max(
    {Largest(kLinearCases, kExpectedSize), Largest(kConv2dCases, kExpectedSize),
     Largest(kDepthwiseConv2dCases, kExpectedSize), Largest(kMaxPool2dCases, kExpectedSize),
     Largest(kAvgPool2dCases, kExpectedSize), Largest(kAddCases, kExpectedSize),
     Largest(kReluCases, kExpectedSize), Largest(kRequantizeCases, kExpectedSize)});
// 0 where allocation_free's Linear and Conv2d need no scratch (the portable kernels).
constexpr size_t kScratchBytes = std::max(
    Largest(kLinearCases,
            [](const LinearCase& c) { return allocation_free::LinearScratchBytes(c.params); }),
    Largest(kConv2dCases,
            [](const Conv2dCase& c) { return allocation_free::Conv2dScratchBytes(c.params); }));

// Bytes after the output and after the scratch that a kernel must leave untouched.
constexpr size_t kGuardBytes = 16;

// Every case runs once per pass. The output and the guard bytes start at the pass's fill, so
// that a byte the kernel never writes cannot pass by matching it. The scratch starts the
// pass's offset past a word boundary: at 1, the kernel's word alignment skips all 3 spare bytes
// its size query includes, and its last word ends right at the guard.
struct Pass {
  int8_t fill;
  size_t scratch_offset;
};
constexpr Pass kPasses[] = {{int8_t{0x5A}, 0}, {int8_t{-0x5B}, 1}};
constexpr size_t kLargestScratchOffset =
    Largest(kPasses, [](const Pass& pass) { return pass.scratch_offset; });

alignas(16) int8_t g_output[kOutputBytes + kGuardBytes];
alignas(16) int8_t g_scratch[kLargestScratchOffset + kScratchBytes + kGuardBytes];

void Fill(int8_t* bytes, size_t count, int8_t value) {
  for (size_t i = 0; i < count; ++i) bytes[i] = value;
}

// Index of the first of `count` bytes that no longer holds `fill`, or -1.
int32_t FirstChanged(const int8_t* bytes, size_t count, int8_t fill) {
  for (size_t i = 0; i < count; ++i) {
    if (bytes[i] != fill) return static_cast<int32_t>(i);
  }
  return -1;
}

// Caller scratch for the kernels that take it, within one pass: a call gets exactly the bytes
// it asks for, followed by kGuardBytes at the pass's fill.
class Scratch {
 public:
  explicit Scratch(const Pass& pass) : start_(g_scratch + pass.scratch_offset), fill_(pass.fill) {}

  // Null if `bytes` exceeds the buffer, which the kernel reports as kArenaTooSmall.
  int8_t* Take(size_t bytes) {
    if (bytes > kScratchBytes) return nullptr;
    guard_ = start_ + bytes;
    Fill(guard_, kGuardBytes, fill_);
    return start_;
  }

  // The first guard byte the kernel wrote, counted from the end of its scratch, or -1.
  int32_t FirstChangedGuardByte() const {
    return guard_ == nullptr ? -1 : FirstChanged(guard_, kGuardBytes, fill_);
  }

 private:
  int8_t* start_;
  int8_t fill_;
  int8_t* guard_ = nullptr;
};

// How a run of a case first differed from the reference, if it did.
struct Difference {
  enum class Kind { kNone, kStatus, kOutputByte, kPastOutput, kPastScratch };
  Kind kind = Kind::kNone;
  Status status = Status::kOk;  // kStatus
  int32_t index = 0;           // the output byte, or the guard byte past the output or scratch
  int32_t actual = 0;          // kOutputByte: the kernel's byte and the reference's
  int32_t expected = 0;
};

// One run of case c: run(c, output, scratch) returns the kernel's status.
template <typename Case, typename Run>
Difference RunCase(const Case& c, const Pass& pass, Run run) {
  const auto size = static_cast<size_t>(c.expected_size);
  Fill(g_output, size + kGuardBytes, pass.fill);
  Scratch scratch(pass);
  Difference difference;
  difference.status = run(c, g_output, scratch);
  if (difference.status != Status::kOk) {
    difference.kind = Difference::Kind::kStatus;
    return difference;
  }
  for (int32_t i = 0; i < c.expected_size; ++i) {
    if (g_output[i] != c.expected[i]) {
      difference.kind = Difference::Kind::kOutputByte;
      difference.index = i;
      difference.actual = g_output[i];
      difference.expected = c.expected[i];
      return difference;
    }
  }
  difference.index = FirstChanged(g_output + size, kGuardBytes, pass.fill);
  if (difference.index >= 0) {
    difference.kind = Difference::Kind::kPastOutput;
    return difference;
  }
  difference.index = scratch.FirstChangedGuardByte();
  if (difference.index >= 0) difference.kind = Difference::Kind::kPastScratch;
  return difference;
}

void PrintFailure(const char* case_name, const Difference& difference) {
  TextLine line;
  line.AppendText("  first failure ").AppendText(case_name).AppendText(": ");
  switch (difference.kind) {
    case Difference::Kind::kStatus:
      line.AppendText("status ").AppendText(integr8::StatusName(difference.status));
      break;
    case Difference::Kind::kOutputByte:
      line.AppendText("output byte ")
          .AppendDecimal(difference.index)
          .AppendText(" is ")
          .AppendDecimal(difference.actual)
          .AppendText(", expected ")
          .AppendDecimal(difference.expected);
      break;
    case Difference::Kind::kPastOutput:
      line.AppendText("wrote byte ")
          .AppendDecimal(difference.index)
          .AppendText(" past the output");
      break;
    case Difference::Kind::kPastScratch:
      line.AppendText("wrote byte ")
          .AppendDecimal(difference.index)
          .AppendText(" past its scratch");
      break;
    case Difference::Kind::kNone:
      break;
  }
  semihosting::WriteText(line.Finish());
}

struct Tally {
  int32_t passed = 0;
  int32_t total = 0;

  Tally& operator+=(const Tally& other) {
    passed += other.passed;
    total += other.total;
    return *this;
  }
};

void PrintTally(const char* label, const char* kernels, const Tally& tally) {
  TextLine line;
  line.AppendText(label);
  if (kernels != nullptr) line.AppendText(" ").AppendText(kernels);
  semihosting::WriteText(line.AppendText(": ")
                             .AppendDecimal(tally.passed)
                             .AppendText(" of ")
                             .AppendDecimal(tally.total)
                             .AppendText(" cases passed")
                             .Finish());
}

// Every case of `cases` through `run` in every pass (a case passes if all passes match), and
// its line: "<op> <kernels>: P of N cases passed", then the first failure.
template <typename Case, size_t kCount, typename Run>
Tally Replay(const char* op, const char* kernels, const Case (&cases)[kCount], Run run) {
  Tally tally;
  const char* first_failure = nullptr;
  Difference first_difference;
  for (const Case& c : cases) {
    Difference difference;
    for (const Pass& pass : kPasses) {
      difference = RunCase(c, pass, run);
      if (difference.kind != Difference::Kind::kNone) break;
    }
    ++tally.total;
    if (difference.kind == Difference::Kind::kNone) {
      ++tally.passed;
    } else if (first_failure == nullptr) {
      first_failure = c.name;
      first_difference = difference;
    }
  }
  PrintTally(op, kernels, tally);
  if (first_failure != nullptr) PrintFailure(first_failure, first_difference);
  return tally;
}

}  // namespace

int main() {
  TextLine header;
  semihosting::WriteText(header.AppendText("golden vectors of integer spec ")
                             .AppendDecimal(INTEGR8_SPEC_VERSION)
                             .AppendText("; backend::allocation_free is ")
                             .AppendText(allocation_free::kName)
                             .Finish());

  Tally all;
  all += Replay("linear", "allocation_free", kLinearCases,
                [](const LinearCase& c, int8_t* output, Scratch& scratch) {
                  const size_t bytes = allocation_free::LinearScratchBytes(c.params);
                  return allocation_free::Linear(c.params, c.input, c.weights, c.bias, output,
                                                 scratch.Take(bytes), bytes);
                });
  all += Replay("linear", "portable", kLinearCases,
                [](const LinearCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::Linear(c.params, c.input, c.weights, c.bias, output);
                });
  all += Replay("conv2d", "allocation_free", kConv2dCases,
                [](const Conv2dCase& c, int8_t* output, Scratch& scratch) {
                  const size_t bytes = allocation_free::Conv2dScratchBytes(c.params);
                  return allocation_free::Conv2d(c.params, c.input, c.filter, c.bias, output,
                                                 scratch.Take(bytes), bytes);
                });
  all += Replay("conv2d", "portable", kConv2dCases,
                [](const Conv2dCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::Conv2d(c.params, c.input, c.filter, c.bias, output);
                });
  all += Replay("depthwise_conv2d", "allocation_free", kDepthwiseConv2dCases,
                [](const DepthwiseConv2dCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return allocation_free::DepthwiseConv2d(c.params, c.input, c.filter, c.bias,
                                                          output);
                });
  all += Replay("depthwise_conv2d", "portable", kDepthwiseConv2dCases,
                [](const DepthwiseConv2dCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::DepthwiseConv2d(c.params, c.input, c.filter, c.bias, output);
                });
  all += Replay("max_pool2d", "allocation_free", kMaxPool2dCases,
                [](const Pool2dCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return allocation_free::MaxPool2d(c.params, c.input, output);
                });
  all += Replay("max_pool2d", "portable", kMaxPool2dCases,
                [](const Pool2dCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::MaxPool2d(c.params, c.input, output);
                });
  all += Replay("avg_pool2d", "portable", kAvgPool2dCases,
                [](const Pool2dCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::AvgPool2d(c.params, c.input, output);
                });
  all += Replay("add", "portable", kAddCases,
                [](const AddCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::Add(c.params, c.input1, c.input2, output);
                });
  all += Replay("relu", "portable", kReluCases,
                [](const ReluCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::Relu(c.params, c.input, output);
                });
  all += Replay("requantize", "portable", kRequantizeCases,
                [](const RequantizeCase& c, int8_t* output, Scratch& /*scratch*/) {
                  return integr8::RequantizeTensor(c.params, c.input, output);
                });
  PrintTally("total", nullptr, all);
  return all.total > 0 && all.passed == all.total ? 0 : 1;
}
