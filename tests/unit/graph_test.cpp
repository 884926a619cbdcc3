// The compile-time graph: arena sizes against hand-computed minima, outputs against the same
// kernels chained by hand, batches against sample-by-sample runs, and the errors Invoke and
// InvokeBatch report.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "integr8/graph/layers.h"
#include "integr8/graph/sequential.h"

namespace integr8 {
namespace {

inline constexpr int32_t kHalf[] = {int32_t{1} << 30};  // M = 0.5 with shift 31
inline constexpr int32_t kShift31[] = {31};
inline constexpr int32_t kQuarterPerChannel[] = {int32_t{1} << 30, int32_t{1} << 30,
                                                 int32_t{1} << 30, int32_t{1} << 30,
                                                 int32_t{1} << 30, int32_t{1} << 30};
inline constexpr int32_t kShift32PerChannel[] = {32, 32, 31, 32, 31, 32};

constexpr RequantizeParams HalfScale(int32_t zero_point, int32_t activation_min) {
  return {kHalf, kShift31, false, zero_point, activation_min, kActivationMax};
}

// ---- MLP 8 -> 6 -> 5 -> 2 -------------------------------------------------------------
inline constexpr int8_t kFc1Weights[6 * 8] = {
    1, -2, 3, 0, 5, -1, 2, 1,   -3, 1, 0, 2, -1, 4, 1, 0,  2, 2, -2, 1, 0, 1, -1, 3,
    0, 1, 1, -1, 2, 0, 3, -2,   4, -1, 1, 1, 0, -2, 2, 1,  -1, 0, 3, 2, 1, 1, -3, 0};
inline constexpr int32_t kFc1Bias[6] = {10, -20, 5, 0, 7, -3};
inline constexpr LinearParams kFc1{1, 8, 6,
                                   {kQuarterPerChannel, kShift32PerChannel, true, -5, -5, 127}};
inline constexpr int8_t kFc2Weights[5 * 6] = {2, -1, 0, 1, 3, -2, 1, 1, 1, 1, 1, 1,
                                              -2, 3, 1, 0, -1, 2, 0, 0, 4, -3, 1, 1,
                                              1, -1, 1, -1, 1, -1};
inline constexpr int32_t kFc2Bias[5] = {-4, 3, 0, 12, -9};
inline constexpr LinearParams kFc2{1, 6, 5, HalfScale(3, 3)};
inline constexpr int8_t kFc3Weights[2 * 5] = {3, -1, 2, 0, 1, -2, 2, 1, 1, -1};
inline constexpr int32_t kFc3Bias[2] = {1, -1};
inline constexpr LinearParams kFc3{1, 5, 2, HalfScale(0, kActivationMin)};

using Mlp = Sequential<LinearLayer<kFc1, kFc1Weights, kFc1Bias>,
                       LinearLayer<kFc2, kFc2Weights, kFc2Bias>,
                       LinearLayer<kFc3, kFc3Weights, kFc3Bias>>;

// Layer 1 writes 6 bytes; layer 2 reads those 6 while writing 5; layer 3 writes the
// caller's output: max(6, 6 + 5, 5) = 11.
static_assert(Mlp::kArenaBytes == 11);
static_assert(Mlp::kInputElements == 8 && Mlp::kOutputElements == 2);

const std::array<int8_t, 8> kMlpInput{12, -7, 30, 0, -128, 127, 5, -3};

std::vector<int8_t> MlpByHand(const int8_t* input) {
  std::vector<int8_t> hidden1(6), hidden2(5), output(2);
  EXPECT_EQ(Linear(kFc1, input, kFc1Weights, kFc1Bias, hidden1.data()), Status::kOk);
  EXPECT_EQ(Linear(kFc2, hidden1.data(), kFc2Weights, kFc2Bias, hidden2.data()), Status::kOk);
  EXPECT_EQ(Linear(kFc3, hidden2.data(), kFc3Weights, kFc3Bias, output.data()), Status::kOk);
  return output;
}

TEST(GraphTest, MlpMatchesKernelsChainedByHand) {
  alignas(16) std::array<int8_t, Mlp::kArenaBytes> arena{};
  std::array<int8_t, 2> output{};
  ASSERT_EQ(Mlp::Invoke(kMlpInput.data(), output.data(), arena.data(), arena.size()),
            Status::kOk);
  const std::vector<int8_t> expected = MlpByHand(kMlpInput.data());
  EXPECT_EQ(output[0], expected[0]);
  EXPECT_EQ(output[1], expected[1]);
}

TEST(GraphTest, RefusesArenaOneByteTooSmallWithoutWritingOutput) {
  std::array<int8_t, Mlp::kArenaBytes> arena{};
  std::array<int8_t, 2> output{42, 42};
  EXPECT_EQ(Mlp::Invoke(kMlpInput.data(), output.data(), arena.data(), arena.size() - 1),
            Status::kArenaTooSmall);
  EXPECT_EQ(output[0], 42);
  EXPECT_EQ(output[1], 42);
}

TEST(GraphTest, RefusesNullBuffers) {
  std::array<int8_t, Mlp::kArenaBytes> arena{};
  std::array<int8_t, 2> output{};
  EXPECT_EQ(Mlp::Invoke(nullptr, output.data(), arena.data(), arena.size()),
            Status::kNullPointer);
  EXPECT_EQ(Mlp::Invoke(kMlpInput.data(), nullptr, arena.data(), arena.size()),
            Status::kNullPointer);
  EXPECT_EQ(Mlp::Invoke(kMlpInput.data(), output.data(), nullptr, arena.size()),
            Status::kNullPointer);
}

TEST(GraphTest, RefusesOutputInsideArena) {
  std::array<int8_t, Mlp::kArenaBytes + 2> arena{};
  EXPECT_EQ(Mlp::Invoke(kMlpInput.data(), arena.data() + Mlp::kArenaBytes - 1, arena.data(),
                        Mlp::kArenaBytes),
            Status::kAliasing);
}

// ---- ConvNet 6x6x1 -> conv 3x3 (2) -> maxpool 2 -> relu -> conv 3x3 (4) -> GAP -> fc 3 ------
inline constexpr int8_t kConv1Filter[2 * 3 * 3 * 1] = {1, 0, -1, 2, 0, -2, 1, 0, -1,
                                                       -1, -1, -1, 0, 4, 0, 1, 1, 1};
inline constexpr int32_t kConv1Bias[2] = {6, -6};
inline constexpr Conv2dParams kConv1{1, 6, 6, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, -3,
                                     HalfScale(-10, kActivationMin)};
inline constexpr Pool2dParams kPool1{1, 6, 6, 2, 2, 2, 2, 2, 0, 0, false, true, 0,
                                     kActivationMin, kActivationMax};
inline constexpr ReluParams kRelu1{3 * 3 * 2, -10, kActivationMax};
inline constexpr int8_t kConv2Filter[4 * 3 * 3 * 2] = {
    1, 2, 0, -1, 1, 1, -2, 0, 1, 1, 0, 1, 2, -1, 1, 0, -1, 2,
    0, 1, 1, 1, -1, 0, 2, 2, -2, 1, 0, 0, 1, -1, 1, 1, 0, 1,
    -1, -1, 2, 0, 1, 3, 0, -2, 1, 1, 1, 0, -1, 2, 0, 1, 1, -1,
    3, 0, -1, 1, 0, 1, 1, -1, 2, 0, 0, 1, -2, 1, 1, 0, 1, 1};
inline constexpr int32_t kConv2Bias[4] = {-30, 25, 0, 11};
inline constexpr Conv2dParams kConv2{1, 3, 3, 2, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, -10,
                                     HalfScale(2, 2)};
inline constexpr Pool2dParams kGap{1, 3, 3, 4, 3, 3, 1, 1, 0, 0, false, true, 2,
                                   kActivationMin, kActivationMax};
inline constexpr int8_t kFcWeights[3 * 4] = {2, -1, 1, 0, -1, 3, 0, 1, 1, 1, -2, 2};
inline constexpr int32_t kFcBias[3] = {-8, 4, 0};
inline constexpr LinearParams kFc{1, 4, 3, HalfScale(0, kActivationMin)};

using ConvNet = Sequential<Conv2dLayer<kConv1, kConv1Filter, kConv1Bias>,
                           MaxPool2dLayer<kPool1>, ReluLayer<kRelu1>,
                           Conv2dLayer<kConv2, kConv2Filter, kConv2Bias>,
                           AvgPool2dLayer<kGap>, LinearLayer<kFc, kFcWeights, kFcBias>>;

// Live bytes per layer: conv1 72 (6x6x2), pool 72 + 18, relu in place 18, conv2 18 + 36,
// GAP 36 + 4, fc 4 (its output is the caller's): the maximum is 90.
static_assert(ConvNet::kArenaBytes == 90);

TEST(GraphTest, ConvNetMatchesKernelsChainedByHand) {
  std::array<int8_t, 36> input{};
  for (size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 251) - 125);
  }
  std::array<int8_t, ConvNet::kArenaBytes> arena{};
  std::array<int8_t, 3> output{};
  ASSERT_EQ(ConvNet::Invoke(input.data(), output.data(), arena.data(), arena.size()),
            Status::kOk);

  std::vector<int8_t> conv1(72), pool1(18), relu1(18), conv2(36), gap(4), expected(3);
  ASSERT_EQ(Conv2d(kConv1, input.data(), kConv1Filter, kConv1Bias, conv1.data()), Status::kOk);
  ASSERT_EQ(MaxPool2d(kPool1, conv1.data(), pool1.data()), Status::kOk);
  ASSERT_EQ(Relu(kRelu1, pool1.data(), relu1.data()), Status::kOk);
  ASSERT_EQ(Conv2d(kConv2, relu1.data(), kConv2Filter, kConv2Bias, conv2.data()), Status::kOk);
  ASSERT_EQ(AvgPool2d(kGap, conv2.data(), gap.data()), Status::kOk);
  ASSERT_EQ(Linear(kFc, gap.data(), kFcWeights, kFcBias, expected.data()), Status::kOk);
  EXPECT_EQ(std::vector<int8_t>(output.begin(), output.end()), expected);
}

// ---- Residual block: x + conv(x), then fc --------------------------------------------
inline constexpr int8_t kBodyFilter[2 * 3 * 3 * 2] = {
    1, 0, 0, 1, -1, 0, 0, 0, 2, 1, 0, -1, 1, 1, 0, 0, -1, 1,
    0, -1, 1, 0, 0, 2, -1, 1, 0, 0, 1, 1, 1, -1, 0, 2, 0, 0};
inline constexpr int32_t kBodyBias[2] = {4, -4};
inline constexpr Conv2dParams kBody{1, 4, 4, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5,
                                    HalfScale(-7, kActivationMin)};
inline constexpr AddParams kSkip{32, 5, int32_t{1} << 30, 31, -7, int32_t{1} << 30, 31,
                                 int32_t{1} << 30, 49, 1, kActivationMin, kActivationMax};
inline constexpr int8_t kHeadWeights[3 * 32] = {
    1, -1, 0, 2, 1, 0, -1, 1, 0, 1, 1, -2, 0, 0, 1, 1, 2, -1, 0, 1, 1, 0, 0, -1,
    1, 1, 1, 0, -1, 0, 1, 2, 0, 1, -1, 1, 2, 0, 1, -1, 1, 0, 0, 1, 1, 1, -1, 0,
    2, -2, 1, 1, 0, 0, 1, -1, 1, 0, 2, 1, 0, -1, 1, 1, -1, 0, 1, 1, 0, 2, 1, 0,
    0, 1, -1, 0, 1, 1, 0, -2, 1, 0, 1, 1, 1, -1, 0, 1, 2, 1, -1, 0, 1, 0, 0, 1};
inline constexpr int32_t kHeadBias[3] = {0, 9, -9};
inline constexpr LinearParams kHead{1, 32, 3, HalfScale(0, kActivationMin)};

using ResidualNet =
    Sequential<ResidualLayer<kSkip, Sequential<Conv2dLayer<kBody, kBodyFilter, kBodyBias>>>,
               LinearLayer<kHead, kHeadWeights, kHeadBias>>;

// The block writes 32 bytes into the arena and needs 32 bytes of scratch for the body's
// output (the one-layer body needs no arena of its own): 64. The head reads 32.
static_assert(ResidualNet::kArenaBytes == 64);

TEST(GraphTest, ResidualBlockMatchesKernelsChainedByHand) {
  std::array<int8_t, 32> input{};
  for (size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<int8_t>(static_cast<int>(i * 53 % 256) - 128);
  }
  std::array<int8_t, ResidualNet::kArenaBytes> arena{};
  std::array<int8_t, 3> output{};
  ASSERT_EQ(ResidualNet::Invoke(input.data(), output.data(), arena.data(), arena.size()),
            Status::kOk);

  std::vector<int8_t> branch(32), sum(32), expected(3);
  ASSERT_EQ(Conv2d(kBody, input.data(), kBodyFilter, kBodyBias, branch.data()), Status::kOk);
  ASSERT_EQ(Add(kSkip, input.data(), branch.data(), sum.data()), Status::kOk);
  ASSERT_EQ(Linear(kHead, sum.data(), kHeadWeights, kHeadBias, expected.data()), Status::kOk);
  EXPECT_EQ(std::vector<int8_t>(output.begin(), output.end()), expected);
}

// Firmware usage: a static arena and no heap.
alignas(16) int8_t g_static_arena[ConvNet::kArenaBytes];

TEST(GraphTest, RunsFromStaticArena) {
  const std::array<int8_t, 36> input{};
  std::array<int8_t, 3> output{};
  EXPECT_EQ(ConvNet::Invoke(input.data(), output.data(), g_static_arena, sizeof g_static_arena),
            Status::kOk);
}

// ---- Batches --------------------------------------------------------------------------
// Every tensor and scratch scales with the batch, so the hand-computed minima scale too.
static_assert(Mlp::ArenaBytes(4) == 4 * 11);
static_assert(ConvNet::ArenaBytes(3) == 3 * 90);
static_assert(ResidualNet::ArenaBytes(2) == 2 * 64);
static_assert(ConvNet::kMaxBatches == INT32_MAX / 72);  // conv1's output is the largest

// Runs `batches` pseudo-random samples through InvokeBatch, from an arena of exactly
// ArenaBytes(batches) filled with garbage, and compares with Invoke on each sample.
template <typename Model>
void ExpectBatchMatchesSamples(int32_t batches) {
  const size_t samples = static_cast<size_t>(batches);
  std::vector<int8_t> input(samples * Model::kInputElements);
  for (size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<int8_t>(static_cast<int>((i * 97 + 13) % 256) - 128);
  }
  std::vector<int8_t> arena(Model::ArenaBytes(batches), int8_t{0x3C});
  std::vector<int8_t> output(samples * Model::kOutputElements, int8_t{0x55});
  ASSERT_EQ(Model::InvokeBatch(input.data(), output.data(), batches, arena.data(), arena.size()),
            Status::kOk);

  std::vector<int8_t> sample_arena(Model::kArenaBytes);
  std::vector<int8_t> expected(output.size(), int8_t{-0x56});
  for (size_t sample = 0; sample < samples; ++sample) {
    ASSERT_EQ(Model::Invoke(input.data() + sample * Model::kInputElements,
                            expected.data() + sample * Model::kOutputElements,
                            sample_arena.data(), sample_arena.size()),
              Status::kOk);
  }
  EXPECT_EQ(output, expected) << batches << " samples";
}

TEST(GraphBatchTest, MlpMatchesSampleBySample) {
  for (const int32_t batches : {1, 2, 3, 7, 64}) ExpectBatchMatchesSamples<Mlp>(batches);
}

TEST(GraphBatchTest, ConvNetMatchesSampleBySample) {
  for (const int32_t batches : {1, 2, 5, 16}) ExpectBatchMatchesSamples<ConvNet>(batches);
}

TEST(GraphBatchTest, ResidualNetMatchesSampleBySample) {
  for (const int32_t batches : {1, 3, 8}) ExpectBatchMatchesSamples<ResidualNet>(batches);
}

TEST(GraphBatchTest, RejectsBadBatchesAndBuffersWithoutWriting) {
  constexpr int32_t kBatches = 3;
  const std::vector<int8_t> input(kBatches * Mlp::kInputElements, int8_t{7});
  std::vector<int8_t> arena(Mlp::ArenaBytes(kBatches));
  const std::vector<int8_t> untouched(kBatches * Mlp::kOutputElements, int8_t{0x11});
  std::vector<int8_t> output = untouched;
  const auto run = [&](int32_t batches, size_t arena_bytes) {
    return Mlp::InvokeBatch(input.data(), output.data(), batches, arena.data(), arena_bytes);
  };
  EXPECT_EQ(run(0, arena.size()), Status::kBadShape);
  EXPECT_EQ(run(-1, arena.size()), Status::kBadShape);
  EXPECT_EQ(run(Mlp::kMaxBatches + 1, arena.size()), Status::kBadShape);
  EXPECT_EQ(run(kBatches, arena.size() - 1), Status::kArenaTooSmall);
  EXPECT_EQ(Mlp::InvokeBatch(nullptr, output.data(), kBatches, arena.data(), arena.size()),
            Status::kNullPointer);
  EXPECT_EQ(Mlp::InvokeBatch(input.data(), output.data(), kBatches, nullptr, arena.size()),
            Status::kNullPointer);
  // The last sample's output would overlap the arena's first bytes.
  EXPECT_EQ(Mlp::InvokeBatch(input.data(), arena.data() + arena.size() - 1, kBatches,
                             arena.data(), arena.size()),
            Status::kAliasing);
  EXPECT_EQ(output, untouched);
}

}  // namespace
}  // namespace integr8
