// This CPU's int8 dot-product peak on one core, per route it executes (peak_probe.h: the AVX2
// routes everywhere, the vpdpbusd ones where the CPU has VNNI): 12 independent
// accumulator chains of each route's instruction sequence, reported as MAC/s, and the core
// clock, so that MAC/s can be read as MACs per cycle.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "peak_probe.h"

namespace integr8::bench {
namespace {

constexpr int64_t kIterationsPerRun = 100000;

void MeasureRoute(benchmark::State& state, PeakRoute route) {
  for (auto _ : state) RunPeakLoop(route, kIterationsPerRun);
  state.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(kIterationsPerRun * PeakMacsPerIteration(route)),
                         benchmark::Counter::kIsIterationInvariantRate);
}

void CoreClock(benchmark::State& state) {
  constexpr int64_t kAdditions = 8000000;
  for (auto _ : state) RunClockLoop(kAdditions);
  state.counters["Hz"] = benchmark::Counter(static_cast<double>(kAdditions),
                                            benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace
}  // namespace integr8::bench

int main(int argc, char** argv) {
  using integr8::bench::PeakRoute;
  benchmark::Initialize(&argc, argv);
  for (const PeakRoute route : {PeakRoute::kMaddubs, PeakRoute::kSignMaddubs, PeakRoute::kMaddwd,
                                PeakRoute::kSignExtendMaddwd, PeakRoute::kDpbusd,
                                PeakRoute::kSignDpbusd}) {
    if (!integr8::bench::PeakRouteRuns(route)) {
      benchmark::AddCustomContext(std::string("Peak/") + PeakRouteName(route),
                                  "not run: this CPU has no 256-bit vpdpbusd");
      continue;
    }
    benchmark::RegisterBenchmark((std::string("Peak/") + PeakRouteName(route)).c_str(),
                                 integr8::bench::MeasureRoute, route);
  }
  benchmark::RegisterBenchmark("CoreClock/dependent_add", integr8::bench::CoreClock);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
