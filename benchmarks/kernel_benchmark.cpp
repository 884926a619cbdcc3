// Kernel benchmarks: Linear, Conv2d and DepthwiseConv2d on MNIST-size and large shapes, for
// the portable kernels, the x86 backend and (when built with Eigen) the Eigen backend.
// Each reports time, MAC/s and the fractions of this CPU's measured int8 peaks (peak_probe.h):
// (all per CPU second of the benchmark thread, as the peaks are measured):
//   of_int8_peak   against the fastest int8 route this CPU has: the vpmaddubsw route (32 MACs
//                  per instruction, the AVX2 int8 peak, not usable exactly as is: it
//                  saturates) or, with VNNI, vpdpbusd if faster
//   of_exact_peak  against the route of the step this build's x86 backend executes: vpsignb +
//                  vpmaddubsw, or, built for VNNI (INTEGR8_BENCHMARK_ARCH_FLAGS,
//                  benchmarks/CMakeLists.txt), the multi-row tiles' vpdpbusd
// Before anything is timed, every backend's output is compared with the portable kernel's on
// every shape; a single differing byte prints the difference and exits with status 1.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "integr8/backend/x86.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/types.h"

#if defined(INTEGR8_BACKEND_EIGEN)
#include "integr8/backend/eigen.h"
#endif

namespace integr8::bench {
namespace {

enum class Backend { kPortable, kX86, kEigen };

const char* BackendName(Backend backend) {
  switch (backend) {
    case Backend::kPortable: return "portable";
    case Backend::kX86: return "x86";
    case Backend::kEigen: return "eigen";
  }
  return "?";
}

// The backends each op has in this build.
std::vector<Backend> LinearBackends() {
#if defined(INTEGR8_BACKEND_EIGEN)
  return {Backend::kPortable, Backend::kX86, Backend::kEigen};
#else
  return {Backend::kPortable, Backend::kX86};
#endif
}
std::vector<Backend> DepthwiseBackends() { return {Backend::kPortable, Backend::kX86}; }

// Bits of a typical |accumulator| for K products of uniform int8 values: about
// sqrt(K) * 5400.
int32_t AccumulatorBits(int32_t products) {
  int32_t bits = 0;
  for (int32_t value = products; value > 0; value >>= 1) ++bits;
  return 13 + bits / 2;
}

// One benchmarked call: operands, parameters and the MACs it performs.
class Problem {
 public:
  virtual ~Problem() = default;
  virtual std::string Name() const = 0;
  virtual double Macs() const = 0;
  virtual size_t OutputSize() const = 0;
  virtual std::vector<Backend> Backends() const = 0;
  virtual Status Run(Backend backend, int8_t* output) const = 0;
};

class LinearProblem : public Problem {
 public:
  LinearProblem(int32_t batches, int32_t input_features, int32_t output_features)
      : requantization_(output_features, AccumulatorBits(input_features)),
        input_(RandomInt8(static_cast<size_t>(batches * input_features), -128, 127, 1)),
        weights_(RandomInt8(static_cast<size_t>(output_features * input_features), -127, 127, 2)),
        bias_(RandomBias(static_cast<size_t>(output_features), 3)) {
    params_.batches = batches;
    params_.input_features = input_features;
    params_.output_features = output_features;
    params_.requantize = requantization_.params;
  }
  std::string Name() const override {
    return "Linear/n" + std::to_string(params_.batches) + "_" +
           std::to_string(params_.input_features) + "x" + std::to_string(params_.output_features);
  }
  double Macs() const override {
    return double(params_.batches) * params_.input_features * params_.output_features;
  }
  size_t OutputSize() const override {
    return static_cast<size_t>(params_.batches * params_.output_features);
  }
  std::vector<Backend> Backends() const override { return LinearBackends(); }
  Status Run(Backend backend, int8_t* output) const override {
    switch (backend) {
      case Backend::kPortable:
        return integr8::Linear(params_, input_.data(), weights_.data(), bias_.data(), output);
      case Backend::kX86:
        return backend::x86::Linear(params_, input_.data(), weights_.data(), bias_.data(),
                                    output);
      case Backend::kEigen:
#if defined(INTEGR8_BACKEND_EIGEN)
        return backend::eigen::Linear(params_, input_.data(), weights_.data(), bias_.data(),
                                      output);
#else
        break;
#endif
    }
    return Status::kNullPointer;
  }

 private:
  BenchRequantization requantization_;
  std::vector<int8_t> input_;
  std::vector<int8_t> weights_;
  std::vector<int32_t> bias_;
  LinearParams params_;
};

// Square images, square filters, stride 1, "same" padding.
class Conv2dProblem : public Problem {
 public:
  Conv2dProblem(int32_t size, int32_t input_channels, int32_t output_channels, int32_t filter)
      : requantization_(output_channels, AccumulatorBits(filter * filter * input_channels)),
        input_(RandomInt8(static_cast<size_t>(size * size * input_channels), -128, 127, 4)),
        filter_(RandomInt8(static_cast<size_t>(output_channels * filter * filter * input_channels),
                           -127, 127, 5)),
        bias_(RandomBias(static_cast<size_t>(output_channels), 6)) {
    params_.input_height = size;
    params_.input_width = size;
    params_.input_channels = input_channels;
    params_.output_channels = output_channels;
    params_.filter_height = filter;
    params_.filter_width = filter;
    params_.padding_height = filter / 2;
    params_.padding_width = filter / 2;
    params_.input_zero_point = -128;
    params_.requantize = requantization_.params;
  }
  std::string Name() const override {
    return "Conv2d/" + std::to_string(params_.input_height) + "x" +
           std::to_string(params_.input_width) + "x" + std::to_string(params_.input_channels) +
           "_to_" + std::to_string(params_.output_channels) + "_k" +
           std::to_string(params_.filter_height);
  }
  double Macs() const override {
    return double(OutputHeight(params_)) * OutputWidth(params_) * params_.output_channels *
           params_.filter_height * params_.filter_width * params_.input_channels;
  }
  size_t OutputSize() const override {
    return static_cast<size_t>(OutputHeight(params_) * OutputWidth(params_) *
                               params_.output_channels);
  }
  std::vector<Backend> Backends() const override { return LinearBackends(); }
  Status Run(Backend backend, int8_t* output) const override {
    switch (backend) {
      case Backend::kPortable:
        return integr8::Conv2d(params_, input_.data(), filter_.data(), bias_.data(), output);
      case Backend::kX86:
        return backend::x86::Conv2d(params_, input_.data(), filter_.data(), bias_.data(),
                                    output);
      case Backend::kEigen:
#if defined(INTEGR8_BACKEND_EIGEN)
        return backend::eigen::Conv2d(params_, input_.data(), filter_.data(), bias_.data(),
                                      output);
#else
        break;
#endif
    }
    return Status::kNullPointer;
  }

 private:
  BenchRequantization requantization_;
  std::vector<int8_t> input_;
  std::vector<int8_t> filter_;
  std::vector<int32_t> bias_;
  Conv2dParams params_;
};

// Square images, square filters, stride 1, "same" padding, depth multiplier 1.
class DepthwiseProblem : public Problem {
 public:
  DepthwiseProblem(int32_t size, int32_t channels, int32_t filter)
      : requantization_(channels, AccumulatorBits(filter * filter)),
        input_(RandomInt8(static_cast<size_t>(size * size * channels), -128, 127, 7)),
        filter_(RandomInt8(static_cast<size_t>(filter * filter * channels), -127, 127, 8)),
        bias_(RandomBias(static_cast<size_t>(channels), 9)) {
    params_.input_height = size;
    params_.input_width = size;
    params_.input_channels = channels;
    params_.filter_height = filter;
    params_.filter_width = filter;
    params_.padding_height = filter / 2;
    params_.padding_width = filter / 2;
    params_.input_zero_point = -128;
    params_.requantize = requantization_.params;
  }
  std::string Name() const override {
    return "Depthwise/" + std::to_string(params_.input_height) + "x" +
           std::to_string(params_.input_width) + "x" + std::to_string(params_.input_channels) +
           "_k" + std::to_string(params_.filter_height);
  }
  double Macs() const override {
    return double(OutputHeight(params_)) * OutputWidth(params_) * params_.input_channels *
           params_.filter_height * params_.filter_width;
  }
  size_t OutputSize() const override {
    return static_cast<size_t>(OutputHeight(params_) * OutputWidth(params_) *
                               params_.input_channels);
  }
  std::vector<Backend> Backends() const override { return DepthwiseBackends(); }
  Status Run(Backend backend, int8_t* output) const override {
    switch (backend) {
      case Backend::kPortable:
        return integr8::DepthwiseConv2d(params_, input_.data(), filter_.data(), bias_.data(),
                                        output);
      case Backend::kX86:
        return backend::x86::DepthwiseConv2d(params_, input_.data(), filter_.data(),
                                             bias_.data(), output);
      case Backend::kEigen: break;
    }
    return Status::kNullPointer;
  }

 private:
  BenchRequantization requantization_;
  std::vector<int8_t> input_;
  std::vector<int8_t> filter_;
  std::vector<int32_t> bias_;
  DepthwiseConv2dParams params_;
};

std::vector<std::unique_ptr<Problem>> MakeProblems() {
  std::vector<std::unique_ptr<Problem>> problems;
  // The MNIST MLP's layers, then large ones.
  problems.push_back(std::make_unique<LinearProblem>(1, 784, 128));
  problems.push_back(std::make_unique<LinearProblem>(1, 128, 64));
  problems.push_back(std::make_unique<LinearProblem>(1, 64, 10));
  problems.push_back(std::make_unique<LinearProblem>(1, 1024, 1024));
  problems.push_back(std::make_unique<LinearProblem>(64, 1024, 1024));
  // The MNIST ConvNet's convolutions, then a large one.
  problems.push_back(std::make_unique<Conv2dProblem>(28, 1, 16, 3));
  problems.push_back(std::make_unique<Conv2dProblem>(14, 16, 32, 3));
  problems.push_back(std::make_unique<Conv2dProblem>(7, 32, 32, 3));
  problems.push_back(std::make_unique<Conv2dProblem>(32, 64, 64, 3));
  problems.push_back(std::make_unique<DepthwiseProblem>(32, 64, 3));
  return problems;
}

void RunProblem(benchmark::State& state, const Problem* problem, Backend backend) {
  std::vector<int8_t> output(problem->OutputSize());
  TimeMacs(state, problem->Macs(), [&] {
    const bool ok = problem->Run(backend, output.data()) == Status::kOk;
    benchmark::DoNotOptimize(output.data());
    return ok;
  });
}

}  // namespace
}  // namespace integr8::bench

int main(int argc, char** argv) {
  using namespace integr8::bench;  // NOLINT(google-build-using-namespace)
  benchmark::Initialize(&argc, argv);
  const std::vector<std::unique_ptr<Problem>> problems = MakeProblems();

  // Refuse to time anything that does not reproduce the portable kernel.
  bool all_match = true;
  for (const auto& problem : problems) {
    std::vector<int8_t> expected(problem->OutputSize());
    if (problem->Run(Backend::kPortable, expected.data()) != integr8::Status::kOk) {
      std::fprintf(stderr, "portable %s failed\n", problem->Name().c_str());
      return 1;
    }
    for (const Backend backend : problem->Backends()) {
      std::vector<int8_t> actual(problem->OutputSize(), int8_t{0x5A});
      const integr8::Status status = problem->Run(backend, actual.data());
      const std::string what = problem->Name() + "/" + BackendName(backend);
      all_match = status == integr8::Status::kOk && SameBytes(what, expected, actual) && all_match;
    }
  }
  if (!all_match) {
    std::fprintf(stderr, "refusing to report: a backend differs from the portable kernel\n");
    return 1;
  }

  PeakRoute int8_route = PeakRoute::kMaddubs;
  MeasuredPeaks().int8_peak = MeasurePeakMacsPerSecond(int8_route);
  if (PeakRouteRuns(PeakRoute::kDpbusd)) {
    const double vnni_peak = MeasurePeakMacsPerSecond(PeakRoute::kDpbusd);
    if (vnni_peak > MeasuredPeaks().int8_peak) {
      int8_route = PeakRoute::kDpbusd;
      MeasuredPeaks().int8_peak = vnni_peak;
    }
  }
  const PeakRoute exact_route = INTEGR8_X86_VNNI ? PeakRoute::kDpbusd : PeakRoute::kSignMaddubs;
  MeasuredPeaks().exact_route_peak = MeasurePeakMacsPerSecond(exact_route);
  benchmark::AddCustomContext(std::string("int8_peak_GMACs (") + PeakRouteName(int8_route) + ")",
                              std::to_string(MeasuredPeaks().int8_peak / 1e9));
  benchmark::AddCustomContext(
      std::string("exact_peak_GMACs (") + PeakRouteName(exact_route) + ")",
      std::to_string(MeasuredPeaks().exact_route_peak / 1e9));

  for (const auto& problem : problems) {
    for (const Backend backend : problem->Backends()) {
      benchmark::RegisterBenchmark((problem->Name() + "/" + BackendName(backend)).c_str(),
                                   RunProblem, problem.get(), backend);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
