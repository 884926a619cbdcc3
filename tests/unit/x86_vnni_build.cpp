// Compiled, not run, with the flags of a CPU that has vpdpbusd (tests/x86_vnni.cmake): the x86
// backend must select its VNNI step from those flags, and every kernel must compile with it.
// The instantiations below put the kernels' code in the object that x86_vnni_<encoding>
// disassembles.
#include <cstdint>
#include <string_view>

#include "integr8/backend/select.h"
#include "integr8/backend/x86.h"
#include "integr8/types.h"

static_assert(std::string_view(integr8::backend::x86::kName) == "x86-vnni",
              "the VNNI flags must select the vpdpbusd step");
static_assert(std::string_view(integr8::backend::selected::kName) == "x86-vnni");

namespace integr8::backend::x86 {
template Status Linear<int8_t, int8_t, int32_t>(const LinearParams&, const int8_t*,
                                                const int8_t*, const int32_t*, int8_t*);
template Status Conv2d<int8_t, int8_t, int32_t>(const Conv2dParams&, const int8_t*,
                                                const int8_t*, const int32_t*, int8_t*);
template Status DepthwiseConv2d<int8_t, int8_t, int32_t>(const DepthwiseConv2dParams&,
                                                         const int8_t*, const int8_t*,
                                                         const int32_t*, int8_t*);
}  // namespace integr8::backend::x86
