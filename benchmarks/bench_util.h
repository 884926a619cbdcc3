// Shared pieces of the integr8 benchmarks: deterministic operands, the reporting counters and
// the rule that nothing is timed before its output matched the portable kernel.
#ifndef INTEGR8_BENCHMARKS_BENCH_UTIL_H_
#define INTEGR8_BENCHMARKS_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "integr8/types.h"
#include "peak_probe.h"

namespace integr8::bench {

// Uniform int8 values in [low, high] from a fixed seed.
inline std::vector<int8_t> RandomInt8(size_t count, int32_t low, int32_t high, uint32_t seed) {
  std::mt19937 engine(seed);
  std::uniform_int_distribution<int32_t> distribution(low, high);
  std::vector<int8_t> values(count);
  for (int8_t& value : values) value = static_cast<int8_t>(distribution(engine));
  return values;
}

// Small biases (|b| <= 1000), far inside the accumulator bound of any benchmarked shape.
inline std::vector<int32_t> RandomBias(size_t count, uint32_t seed) {
  std::mt19937 engine(seed);
  std::uniform_int_distribution<int32_t> distribution(-1000, 1000);
  std::vector<int32_t> values(count);
  for (int32_t& value : values) value = distribution(engine);
  return values;
}

// Per-channel requantization that maps accumulators of about +-2^(bits) to about +-64, so
// outputs spread over int8 (a mismatch cannot hide in saturated outputs).
struct BenchRequantization {
  BenchRequantization(int32_t channels, int32_t accumulator_bits)
      : multipliers(static_cast<size_t>(channels)), shifts(static_cast<size_t>(channels)) {
    for (int32_t c = 0; c < channels; ++c) {
      multipliers[static_cast<size_t>(c)] = kMultiplierMin + c * 104729;
      shifts[static_cast<size_t>(c)] = accumulator_bits + 25;
    }
    params.multipliers = multipliers.data();
    params.shifts = shifts.data();
    params.per_channel = true;
    params.output_zero_point = -3;
  }
  BenchRequantization(const BenchRequantization&) = delete;
  BenchRequantization& operator=(const BenchRequantization&) = delete;

  std::vector<int32_t> multipliers;
  std::vector<int32_t> shifts;
  RequantizeParams params;
};

// Set by main() before any benchmark runs (peak_probe.h): MACs per CPU second of the AVX2
// int8 peak (vpmaddubsw route) and of the exact route the x86 backend uses (vpsignb route).
struct Peaks {
  double int8_peak = 0;
  double exact_route_peak = 0;
};
inline Peaks& MeasuredPeaks() {
  static Peaks peaks;
  return peaks;
}

// Runs the benchmark loop around run() and reports, for `macs` MACs per call, GMAC/s and the
// fractions of both measured peaks, all per CPU second of this thread (as the peaks are).
template <typename Run>
void TimeMacs(benchmark::State& state, double macs, Run run) {
  const double start = ThreadCpuSeconds();
  for (auto _ : state) {
    if (!run()) {
      state.SkipWithError("the kernel did not return kOk");
      return;
    }
    benchmark::ClobberMemory();
  }
  const double macs_per_second =
      macs * static_cast<double>(state.iterations()) / (ThreadCpuSeconds() - start);
  state.counters["GMAC/s"] = macs_per_second / 1e9;
  const Peaks& peaks = MeasuredPeaks();
  state.counters["of_int8_peak"] = macs_per_second / peaks.int8_peak;
  state.counters["of_exact_peak"] = macs_per_second / peaks.exact_route_peak;
}

// Compares `actual` with the portable kernel's `expected` output; prints the first difference.
inline bool SameBytes(const std::string& what, const std::vector<int8_t>& expected,
                      const std::vector<int8_t>& actual) {
  if (expected.size() != actual.size()) {
    std::fprintf(stderr, "MISMATCH %s: %zu vs %zu outputs\n", what.c_str(), actual.size(),
                 expected.size());
    return false;
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      std::fprintf(stderr, "MISMATCH %s: output %zu is %d, portable %d\n", what.c_str(), i,
                   static_cast<int>(actual[i]), static_cast<int>(expected[i]));
      return false;
    }
  }
  return true;
}

}  // namespace integr8::bench

#endif  // INTEGR8_BENCHMARKS_BENCH_UTIL_H_
