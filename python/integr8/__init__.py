"""integr8: integer-only neural-network inference toolchain (see docs/spec.md)."""

__version__ = "0.1.0"

# The compiled binding integr8._core (python/src; `pip install .` builds it) exports the C++
# kernels with runtime shapes and the bundled models. It is imported guarded so that the
# pure-Python modules still work from a source tree without it; using one of these names then
# raises ImportError saying how to get it.
_CORE_EXPORTS = ("linear", "conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "add",
                 "relu", "requantize", "BarsModel", "MnistMlp", "MnistConvNet")


def _load_installed_core():
    """From a source tree (python/ ahead of site-packages on sys.path, as tests/python does),
    loads the _core of an installed integr8, warning when it was built from other headers."""
    import importlib.machinery
    import importlib.util
    import pathlib
    import sys
    import warnings

    here = pathlib.Path(__file__).resolve().parent
    for entry in sys.path:
        try:
            candidate = (pathlib.Path(entry or ".") / "integr8").resolve()
        except OSError:
            continue
        if candidate == here:
            continue
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = candidate / f"_core{suffix}"
            if not path.is_file():
                continue
            loader = importlib.machinery.ExtensionFileLoader(f"{__name__}._core", str(path))
            spec = importlib.util.spec_from_file_location(f"{__name__}._core", path,
                                                          loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            sys.modules[f"{__name__}._core"] = module
            source_headers = here.parents[1] / "include"
            if (source_headers / "integr8").is_dir():
                from integr8.build import headers_sha256

                if headers_sha256(source_headers) != module.headers_sha256:
                    warnings.warn(
                        f"integr8._core ({path}) was built from other integr8 headers than "
                        f"{source_headers}; run `pip install .` again to test these",
                        RuntimeWarning, stacklevel=3)
            return module
    return None


def _import_core():
    import importlib

    try:
        core = importlib.import_module(f"{__name__}._core")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}._core":
            raise
        core = _load_installed_core()
        if core is None:
            raise
    return core


try:
    _core = _import_core()
except ImportError as _error:
    _CORE_ERROR = _error
else:
    _CORE_ERROR = None
    # A _core built from an older tree may lack newer names (the bundled models): those raise
    # ImportError when used (__getattr__), so that the package, and the tools that regenerate
    # the bundled models, still import.
    globals().update({_name: getattr(_core, _name) for _name in _CORE_EXPORTS
                      if hasattr(_core, _name)})

from integr8.build import BuildError, build  # noqa: E402  (the function shadows the module)


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
