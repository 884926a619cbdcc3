// Selects the model the example is built for: the build defines INTEGR8_EXAMPLE_MODEL to the
// namespace of a generated header (mnist_mlp, mnist_convnet) and
// INTEGR8_EXAMPLE_MODEL_HEADER to that header ("mnist_mlp.h").
#ifndef INTEGR8_EXAMPLE_MODEL_CONFIG_H_
#define INTEGR8_EXAMPLE_MODEL_CONFIG_H_

#if !defined(INTEGR8_EXAMPLE_MODEL) || !defined(INTEGR8_EXAMPLE_MODEL_HEADER)
#error "define INTEGR8_EXAMPLE_MODEL and INTEGR8_EXAMPLE_MODEL_HEADER (see CMakeLists.txt)"
#endif

#include INTEGR8_EXAMPLE_MODEL_HEADER

#define INTEGR8_EXAMPLE_STRINGIFY_(token) #token
#define INTEGR8_EXAMPLE_STRINGIFY(token) INTEGR8_EXAMPLE_STRINGIFY_(token)

namespace example_model = integr8_models::INTEGR8_EXAMPLE_MODEL;
inline constexpr const char* kExampleModelName = INTEGR8_EXAMPLE_STRINGIFY(INTEGR8_EXAMPLE_MODEL);

#endif  // INTEGR8_EXAMPLE_MODEL_CONFIG_H_
