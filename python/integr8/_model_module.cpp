// The extension module integr8.build() compiles for one generated model header
// (python/integr8/build.py). The build defines:
//   INTEGR8_MODEL_HEADER     the header as a string literal, e.g. "/abs/path/mnist.h"
//   INTEGR8_MODEL_NAMESPACE  <name> of namespace integr8_models::<name> in that header
//   INTEGR8_MODULE_NAME      the module's import name (unique per content hash)
// The module holds one class, Model (model_binding.h: BindModel), and the strings `name` and
// `header`.
#include "model_binding.h"  // first: pybind11 and so Python.h

#if !defined(INTEGR8_MODEL_HEADER) || !defined(INTEGR8_MODEL_NAMESPACE) || \
    !defined(INTEGR8_MODULE_NAME)
#error "define INTEGR8_MODEL_HEADER, INTEGR8_MODEL_NAMESPACE and INTEGR8_MODULE_NAME (integr8.build does)"
#endif

#include INTEGR8_MODEL_HEADER

#define INTEGR8_MODEL_STRINGIFY_(x) #x
#define INTEGR8_MODEL_STRINGIFY(x) INTEGR8_MODEL_STRINGIFY_(x)

PYBIND11_MODULE(INTEGR8_MODULE_NAME, module) {
  module.doc() = "integr8 model integr8_models::" INTEGR8_MODEL_STRINGIFY(
      INTEGR8_MODEL_NAMESPACE) " compiled by integr8.build() from " INTEGR8_MODEL_HEADER;
  INTEGR8_PYTHON_BIND_MODEL(module, "Model", integr8_models::INTEGR8_MODEL_NAMESPACE);
  module.attr("name") = INTEGR8_MODEL_STRINGIFY(INTEGR8_MODEL_NAMESPACE);
  module.attr("header") = INTEGR8_MODEL_HEADER;
  // The kernels the graph was compiled with (integr8/backend/select.h), e.g. "x86-avx2".
  module.attr("backend") = integr8::backend::allocation_free::kName;
}
