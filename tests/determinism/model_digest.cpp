// Runs the bundled MNIST models (python/integr8/bundled/mnist_mlp.h, mnist_convnet.h) on a
// fixed pseudo-random int8 input stream and prints one digest line per model:
//
//   digest <model> <samples> <16 hex digits>
//
// Input stream: xorshift32 (x ^= x << 13; x ^= x >> 17; x ^= x << 5) from the seed
// 0x2545F491, restarted for each model; every input byte is the top byte of the next state,
// as int8, filling sample after sample (HWC). Digest: 64-bit FNV-1a (offset basis
// 0xcbf29ce484222325, prime 0x100000001b3) over every output byte (as uint8), sample after
// sample. tools/model_digest.py computes the same lines from the Python binding, and firmware
// can print them with no more than this file's integer code.
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "mnist_convnet.h"
#include "mnist_mlp.h"

namespace {

constexpr uint32_t kSeed = 0x2545F491U;
constexpr int kSamples = 500;

class InputStream {
 public:
  int8_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return static_cast<int8_t>(static_cast<uint8_t>(state_ >> 24));
  }

 private:
  uint32_t state_ = kSeed;
};

class Fnv1a64 {
 public:
  void Add(int8_t value) {
    hash_ ^= static_cast<uint8_t>(value);
    hash_ *= 0x100000001b3ULL;
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

template <typename Model>
bool PrintDigest(const char* name) {
  alignas(16) static int8_t arena[Model::kArenaBytes > 0 ? Model::kArenaBytes : 1];
  static int8_t input[Model::kInputElements];
  static int8_t output[Model::kOutputElements];
  InputStream stream;
  Fnv1a64 digest;
  for (int sample = 0; sample < kSamples; ++sample) {
    for (int8_t& value : input) value = stream.Next();
    const integr8::Status status = Model::Invoke(input, output, arena, sizeof(arena));
    if (status != integr8::Status::kOk) {
      std::printf("error %s sample %d: %s\n", name, sample, integr8::StatusName(status));
      return false;
    }
    for (const int8_t value : output) digest.Add(value);
  }
  std::printf("digest %s %d %016" PRIx64 "\n", name, kSamples, digest.value());
  return true;
}

}  // namespace

int main() {
  const bool ok = PrintDigest<integr8_models::mnist_mlp::Model>("mnist_mlp") &&
                  PrintDigest<integr8_models::mnist_convnet::Model>("mnist_convnet");
  return ok ? 0 : 1;
}
