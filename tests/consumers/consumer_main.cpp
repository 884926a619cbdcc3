// A downstream program: runs one fully connected layer through the public umbrella header.
#include <integr8/integr8.h>

#include <cstdint>

int main() {
  static constexpr int32_t kMultiplier[] = {int32_t{1} << 30};  // M = 0.5 with shift 31
  static constexpr int32_t kShift[] = {31};
  integr8::LinearParams params;
  params.input_features = 2;
  params.output_features = 1;
  params.requantize.multipliers = kMultiplier;
  params.requantize.shifts = kShift;
  const int8_t input[2] = {3, 4};
  const int8_t weights[2] = {2, 1};
  const int32_t bias[1] = {1};
  int8_t output[1] = {0};
  // (1 + 6 + 4) * 0.5 = 5.5 -> 6 (ties toward +infinity)
  const integr8::Status status = integr8::Linear(params, input, weights, bias, output);
  return status == integr8::Status::kOk && output[0] == 6 ? 0 : 1;
}
