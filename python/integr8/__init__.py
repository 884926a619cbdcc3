"""integr8: integer-only neural-network inference toolchain (see docs/spec.md)."""

# integr8.build is the function (it shadows its module, which importlib still reaches).
from integr8.build import BuildError, build
from integr8.build import library_version as _library_version

__version__ = _library_version()
__all__ = ["BuildError", "build", "__version__"]

# The compiled binding integr8._core (python/src; `pip install .` builds it) exports the C++
# kernels with runtime shapes and the bundled models. It is imported guarded so that the
# pure-Python modules still work from a source tree without it; using one of these names then
# raises ImportError saying how to get it.
_CORE_EXPORTS = ("linear", "conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "add",
                 "relu", "requantize", "BarsModel", "MnistMlp", "MnistConvNet")

try:
    from integr8 import _core
except ImportError as _error:
    _CORE_ERROR = _error
else:
    _CORE_ERROR = None
    # A _core built from an older tree may lack newer names (the bundled models): those raise
    # ImportError when used (__getattr__), so that the package, and the tools that regenerate
    # the bundled models, still import.
    globals().update({_name: getattr(_core, _name) for _name in _CORE_EXPORTS
                      if hasattr(_core, _name)})


def __getattr__(name):
    if name in _CORE_EXPORTS and _CORE_ERROR is None:
        raise ImportError(
            f"integr8.{name} is missing from integr8._core ({_core.__file__}), which was built "
            "from an older source tree; run `pip install .` again from the repository root")
    if name in _CORE_EXPORTS:
        raise ImportError(
            f"integr8.{name} needs the compiled module integr8._core, which could not be "
            f"imported ({_CORE_ERROR}); install the package with `pip install .` from the "
            "repository root, which compiles it") from _CORE_ERROR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_CORE_EXPORTS))
