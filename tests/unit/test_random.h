// The seeded random source of the C++ tests, so that every random case is reproducible from
// its seed.
#ifndef INTEGR8_TESTS_UNIT_TEST_RANDOM_H_
#define INTEGR8_TESTS_UNIT_TEST_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace integr8::test_support {

class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}

  // Uniform in [low, high]. Drawn as an unsigned offset from low: libstdc++'s
  // uniform_int_distribution<int32_t> converts a negative bound to unsigned internally, which
  // -fsanitize=implicit-conversion reports.
  int32_t Uniform(int32_t low, int32_t high) {
    const uint32_t span = static_cast<uint32_t>(int64_t{high} - low);
    const uint32_t offset = std::uniform_int_distribution<uint32_t>(0, span)(engine_);
    return static_cast<int32_t>(int64_t{low} + offset);
  }
  // True with the given chance in percent.
  bool Percent(int32_t percent) { return Uniform(0, 99) < percent; }

  std::vector<int8_t> Int8s(size_t count, int32_t low, int32_t high) {
    std::vector<int8_t> values(count);
    for (int8_t& value : values) value = static_cast<int8_t>(Uniform(low, high));
    return values;
  }
  std::vector<int32_t> Int32s(size_t count, int32_t low, int32_t high) {
    std::vector<int32_t> values(count);
    for (int32_t& value : values) value = Uniform(low, high);
    return values;
  }

 private:
  std::mt19937 engine_;
};

}  // namespace integr8::test_support

#endif  // INTEGR8_TESTS_UNIT_TEST_RANDOM_H_
