// The element types the integer spec defines. Kernels are templates over their element types
// so one body serves every caller, and this check keeps them to the types whose ranges the
// overflow arguments in each kernel rely on.
#ifndef INTEGR8_KERNELS_ELEMENT_TYPES_H_
#define INTEGR8_KERNELS_ELEMENT_TYPES_H_

#include <cstdint>
#include <type_traits>

namespace integr8 {

template <typename Activation, typename Weight = int8_t, typename Bias = int32_t>
inline constexpr bool kIsSpecTypes = std::is_same_v<Activation, int8_t> &&
                                     std::is_same_v<Weight, int8_t> &&
                                     std::is_same_v<Bias, int32_t>;

#define INTEGR8_SPEC_TYPES_MESSAGE \
  "integer spec v1: int8 activations and weights, int32 bias (docs/spec.md)"

}  // namespace integr8

#endif  // INTEGR8_KERNELS_ELEMENT_TYPES_H_
