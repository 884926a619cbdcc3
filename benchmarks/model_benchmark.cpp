// Whole-model benchmarks of the bundled MNIST MLP (784-128-64-10) and ConvNet
// (python/integr8/bundled/*.h), reporting the time per inference:
//   <model>/graph_x86/loop:N      the generated Sequential model (graph/layers.h, which runs the
//                                 x86 backend in this AVX2 build), N samples one after another
//                                 through Invoke
//   <model>/graph_x86/batch:N     the same graph, N samples at once through InvokeBatch
//   <model>/layers_portable/batch:N
//                                 the same layers called directly with batches = N on the
//                                 portable kernels
// Before anything is timed, both graph runs are compared with the portable chain on 64
// samples; a single differing byte prints the difference and exits with status 1.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "integr8/backend/select.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/types.h"
#include "mnist_convnet.h"
#include "mnist_mlp.h"

static_assert(std::string_view(integr8::backend::allocation_free::kName).substr(0, 4) == "x86-",
              "the model graphs must run the x86 backend in this build");

namespace integr8::bench {
namespace {

constexpr int32_t kSampleElements = 28 * 28;

template <typename Params>
Params Batched(const Params& params, int32_t batches) {
  Params batched = params;
  batched.batches = batches;
  return batched;
}

// Intermediate tensors of a batched layer chain, sized once per batch count.
struct Activations {
  explicit Activations(int32_t batch_count) : batches(batch_count) {
    for (std::vector<int8_t>& tensor : tensors) {
      tensor.resize(static_cast<size_t>(batches) * 28 * 28 * 16);  // the largest, conv 1
    }
  }
  int32_t batches;
  std::vector<int8_t> tensors[2];
};

// Stops at the first failing layer with its Status.
#define INTEGR8_BENCH_RETURN_IF_ERROR(expression)           \
  do {                                                      \
    const ::integr8::Status bench_status_ = (expression);   \
    if (bench_status_ != ::integr8::Status::kOk) return bench_status_; \
  } while (false)

Status RunMlpPortable(const int8_t* input, int8_t* output, Activations& activations) {
  namespace model = integr8_models::mnist_mlp;
  const int32_t batches = activations.batches;
  int8_t* hidden1 = activations.tensors[0].data();
  int8_t* hidden2 = activations.tensors[1].data();
  INTEGR8_BENCH_RETURN_IF_ERROR(Linear(Batched(model::kLayer1Params, batches), input,
                                       model::kLayer1Weights, model::kLayer1Bias, hidden1));
  INTEGR8_BENCH_RETURN_IF_ERROR(Linear(Batched(model::kLayer3Params, batches), hidden1,
                                       model::kLayer3Weights, model::kLayer3Bias, hidden2));
  return Linear(Batched(model::kLayer5Params, batches), hidden2, model::kLayer5Weights,
                model::kLayer5Bias, output);
}

Status RunConvNetPortable(const int8_t* input, int8_t* output, Activations& activations) {
  namespace model = integr8_models::mnist_convnet;
  const int32_t batches = activations.batches;
  int8_t* a = activations.tensors[0].data();
  int8_t* b = activations.tensors[1].data();
  INTEGR8_BENCH_RETURN_IF_ERROR(Conv2d(Batched(model::kLayer0Params, batches), input,
                                       model::kLayer0Filter, model::kLayer0Bias, a));
  INTEGR8_BENCH_RETURN_IF_ERROR(MaxPool2d(Batched(model::kLayer3Params, batches), a, b));
  INTEGR8_BENCH_RETURN_IF_ERROR(Conv2d(Batched(model::kLayer4Params, batches), b,
                                       model::kLayer4Filter, model::kLayer4Bias, a));
  INTEGR8_BENCH_RETURN_IF_ERROR(MaxPool2d(Batched(model::kLayer7Params, batches), a, b));
  INTEGR8_BENCH_RETURN_IF_ERROR(Conv2d(Batched(model::kLayer8Params, batches), b,
                                       model::kLayer8Filter, model::kLayer8Bias, a));
  INTEGR8_BENCH_RETURN_IF_ERROR(MaxPool2d(Batched(model::kLayer11Params, batches), a, b));
  // The 3x3x32 NHWC feature map of each sample is its flattened Linear input.
  return Linear(Batched(model::kLayer13Params, batches), b, model::kLayer13Weights,
                model::kLayer13Bias, output);
}

#undef INTEGR8_BENCH_RETURN_IF_ERROR

// The generated graph, one sample after another.
template <typename Model>
Status RunGraph(const int8_t* input, int8_t* output, int32_t samples) {
  alignas(16) static int8_t arena[Model::kArenaBytes];
  for (int32_t sample = 0; sample < samples; ++sample) {
    const Status status =
        Model::Invoke(input + sample * kSampleElements, output + sample * Model::kOutputElements,
                      arena, sizeof arena);
    if (status != Status::kOk) return status;
  }
  return Status::kOk;
}

// The generated graph, all samples at once, in an arena allocated before timing.
template <typename Model>
struct GraphBatch {
  explicit GraphBatch(int32_t samples) : arena(Model::ArenaBytes(samples)) {}
  Status operator()(const int8_t* input, int8_t* output, Activations& activations) {
    return Model::InvokeBatch(input, output, activations.batches, arena.data(), arena.size());
  }
  std::vector<int8_t> arena;
};

// Per-inference time: seconds per iteration divided by the samples each iteration runs.
void ReportPerInference(benchmark::State& state, int32_t samples) {
  state.counters["per_inference"] = benchmark::Counter(
      samples, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <typename Run>
void Time(benchmark::State& state, int32_t samples, int32_t output_elements, Run run) {
  const std::vector<int8_t> input =
      RandomInt8(static_cast<size_t>(samples * kSampleElements), -128, 127, 11);
  std::vector<int8_t> output(static_cast<size_t>(samples * output_elements));
  Activations activations(samples);
  for (auto _ : state) {
    const Status status = run(input.data(), output.data(), activations);
    if (status != Status::kOk) {
      state.SkipWithError(StatusName(status));
      break;
    }
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  ReportPerInference(state, samples);
}

template <typename Model, typename Portable>
bool SameOutputs(const char* name, Portable portable) {
  constexpr int32_t kSamples = 64;
  const std::vector<int8_t> input =
      RandomInt8(static_cast<size_t>(kSamples * kSampleElements), -128, 127, 12);
  const size_t output_size = static_cast<size_t>(kSamples * Model::kOutputElements);
  std::vector<int8_t> expected(output_size);
  std::vector<int8_t> batched(output_size, int8_t{0x5A});
  std::vector<int8_t> graph(output_size, int8_t{0x5A});
  Activations activations(kSamples);
  if (portable(input.data(), expected.data(), activations) != Status::kOk ||
      GraphBatch<Model>(kSamples)(input.data(), batched.data(), activations) != Status::kOk ||
      RunGraph<Model>(input.data(), graph.data(), kSamples) != Status::kOk) {
    std::fprintf(stderr, "%s: a run failed\n", name);
    return false;
  }
  return SameBytes(std::string(name) + "/graph_x86/batch", expected, batched) &&
         SameBytes(std::string(name) + "/graph_x86", expected, graph);
}

template <typename Model, typename Portable>
void Register(const std::string& name, Portable portable) {
  for (const int32_t samples : {1, 64, 1024}) {
    const std::string suffix = std::to_string(samples);
    benchmark::RegisterBenchmark(
        (name + "/graph_x86/loop:" + suffix).c_str(), [samples](benchmark::State& state) {
          Time(state, samples, Model::kOutputElements,
               [samples](const int8_t* input, int8_t* output, Activations&) {
                 return RunGraph<Model>(input, output, samples);
               });
        });
    benchmark::RegisterBenchmark((name + "/layers_portable/batch:" + suffix).c_str(),
                                 [samples, portable](benchmark::State& state) {
                                   Time(state, samples, Model::kOutputElements, portable);
                                 });
    benchmark::RegisterBenchmark((name + "/graph_x86/batch:" + suffix).c_str(),
                                 [samples](benchmark::State& state) {
                                   Time(state, samples, Model::kOutputElements,
                                        GraphBatch<Model>(samples));
                                 });
  }
}

}  // namespace
}  // namespace integr8::bench

int main(int argc, char** argv) {
  using namespace integr8::bench;  // NOLINT(google-build-using-namespace)
  using MlpModel = integr8_models::mnist_mlp::Model;
  using ConvNetModel = integr8_models::mnist_convnet::Model;
  benchmark::Initialize(&argc, argv);
  // Refuse to time anything that does not reproduce the portable kernels.
  if (!SameOutputs<MlpModel>("MnistMlp", RunMlpPortable) ||
      !SameOutputs<ConvNetModel>("MnistConvNet", RunConvNetPortable)) {
    std::fprintf(stderr, "refusing to report: the x86 backend differs from the portable one\n");
    return 1;
  }
  Register<MlpModel>("MnistMlp", RunMlpPortable);
  Register<ConvNetModel>("MnistConvNet", RunConvNetPortable);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
