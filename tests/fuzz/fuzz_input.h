// Typed reads from a fuzzer's byte string. Every read succeeds: past the end it yields zeros,
// so any input, the empty one included, is a complete test case and libFuzzer's mutations
// (insertions, truncations) shift values instead of invalidating the case.
#ifndef INTEGR8_TESTS_FUZZ_FUZZ_INPUT_H_
#define INTEGR8_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace integr8_fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t Byte() { return position_ < size_ ? data_[position_++] : uint8_t{0}; }
  bool Bool() { return (Byte() & 1U) != 0; }

  uint32_t Uint32() {
    uint32_t value = 0;
    for (int byte = 0; byte < 4; ++byte) value = (value << 8) | Byte();
    return value;
  }
  int32_t Int32() { return static_cast<int32_t>(Uint32()); }  // modular, well defined in C++17
  uint64_t Uint64() { return (uint64_t{Uint32()} << 32) | Uint32(); }
  int64_t Int64() { return static_cast<int64_t>(Uint64()); }

  // Uniform enough over [low, high] (low <= high), from 4 bytes.
  int32_t InRange(int32_t low, int32_t high) {
    const uint64_t span = static_cast<uint64_t>(int64_t{high} - int64_t{low}) + 1;
    return static_cast<int32_t>(int64_t{low} + static_cast<int64_t>(Uint32() % span));
  }
  // Small values from one byte, for shapes: [low, high] with high - low < 256.
  int32_t Small(int32_t low, int32_t high) {
    const int32_t span = high - low + 1;
    return low + static_cast<int32_t>(Byte()) % span;
  }

  // An int32 that is an edge value half the time (0, +-1, int8 and int32 limits, 2^30, ...)
  // and arbitrary otherwise: the values validation code most often gets wrong.
  int32_t Edgy() {
    static constexpr int32_t kEdges[] = {0,          1,          -1,         2,
                                         -2,         127,        128,        -128,
                                         -129,       255,        256,        62,
                                         63,         31,         32,         INT32_MAX,
                                         INT32_MIN,  INT32_MAX - 1,          INT32_MIN + 1,
                                         int32_t{1} << 30,       (int32_t{1} << 30) - 1,
                                         int32_t{1} << 24,       (int32_t{1} << 24) - 1,
                                         46341,      65536,      1 << 20};
    const uint8_t selector = Byte();
    if ((selector & 1U) != 0) {
      return kEdges[(selector >> 1) % (sizeof(kEdges) / sizeof(kEdges[0]))];
    }
    return Int32();
  }

  size_t remaining() const { return size_ - (position_ < size_ ? position_ : size_); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

// SplitMix64, for tensors larger than the fuzzer's bytes: a seed taken from the input fills
// them deterministically (the same input always makes the same tensors).
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // [low, high], low <= high.
  int32_t InRange(int32_t low, int32_t high) {
    const uint64_t span = static_cast<uint64_t>(int64_t{high} - int64_t{low}) + 1;
    return static_cast<int32_t>(int64_t{low} + static_cast<int64_t>(Next() % span));
  }

 private:
  uint64_t state_;
};

// A failed harness check: prints what differs and aborts, which libFuzzer reports as a crash
// (with the input saved) and the replay driver as a failing test.
[[noreturn]] inline void Fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace integr8_fuzz

#define INTEGR8_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::integr8_fuzz::Fail(__FILE__, __LINE__, #condition))

#endif  // INTEGR8_TESTS_FUZZ_FUZZ_INPUT_H_
