"""Compile a generated model header into an importable extension module.

``build("mnist.h")`` compiles ``_model_module.cpp`` (package data) with the header included,
binding ``integr8_models::mnist::Model`` through the same ``BindModel`` as the bundled models
of ``integr8._core``, and returns the loaded module. Its class ``Model`` runs int8 batches:

    module = integr8.build("exported/mnist.h")
    logits = module.Model().run(images)          # int8 [N, H, W, C] -> int8 [N, outputs]

The compiler is ``$CXX`` (default ``c++``), with the flags the package itself is built with
(``COMPILE_FLAGS``) plus ``-mavx2 -mfma`` on an x86-64 machine that runs AVX2 and FMA, and
the VNNI flags where it also has a 256-bit ``vpdpbusd`` (``host_simd_flags``): the module is
built for the machine that loads it, so its graph runs the bit-exact x86 backend there (the
module's ``backend`` names the one compiled in: ``x86-avx2`` or ``x86-vnni``). Against the integr8 headers shipped in the package (``integr8/include``;
from a source tree, the repository's ``include/``). Results are cached in
``$INTEGR8_CACHE_DIR`` (default ``~/.cache/integr8``) under a SHA-256 of everything that
determines the binary: header bytes, template and binding sources, compiler and its version,
flags, Python and pybind11 versions and the integr8 headers. A compiler failure raises
``BuildError`` carrying the compiler's stderr.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMPILE_FLAGS", "BuildError", "BuildInfo", "build", "cache_dir", "headers_sha256",
           "library_version",
           "host_simd_flags", "include_dir", "simd_flags_for"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shared_module_flags() -> tuple[str, ...]:
    """module_flags.txt: the flags python/src/CMakeLists.txt compiles integr8._core with."""
    lines = (_PACKAGE_DIR / "module_flags.txt").read_text().splitlines()
    return tuple(line.strip() for line in lines if line.strip().startswith("-"))


# The flags of the package's own build: those it shares (module_flags.txt), with what CMake
# adds for a Release Python module (NDEBUG, so that an internal INTEGR8_DCHECK can never trap
# the interpreter).
COMPILE_FLAGS = ("-std=c++17", "-DNDEBUG", *_shared_module_flags(), "-fPIC", "-shared",
                 "-fvisibility=hidden")



def simd_flags_for(cpu_flags) -> tuple[str, ...]:
    """The compiler flags for an x86-64 CPU with these /proc/cpuinfo flags: ("-mavx2", "-mfma")
    with AVX2 and FMA, plus AVX-512 VNNI's (with VL) or else AVX-VNNI's where the CPU has
    either (the x86 backend's vpdpbusd step); () without AVX2."""
    cpu_flags = set(cpu_flags)
    if not {"avx2", "fma"} <= cpu_flags:
        return ()
    if {"avx512f", "avx512vl", "avx512_vnni"} <= cpu_flags:
        return ("-mavx2", "-mfma", "-mavx512f", "-mavx512vl", "-mavx512vnni")
    if "avx_vnni" in cpu_flags:
        return ("-mavx2", "-mfma", "-mavxvnni")
    return ("-mavx2", "-mfma")


@functools.lru_cache(maxsize=None)
def host_simd_flags() -> tuple[str, ...]:
    """simd_flags_for this machine's CPU when it is x86-64 (Linux /proc/cpuinfo), else ():
    build() compiles for the machine that runs the module."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return ()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                  if line.startswith("flags")), [])
    return simd_flags_for(flags)


_REPO_DIR = _PACKAGE_DIR.parents[1]  # python/integr8 -> repository root, in a source tree
_TEMPLATE = "_model_module.cpp"
# The binding's headers are every .h beside it (python/src; the package dir of a wheel).
_BINDING_HEADER = "model_binding.h"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAMESPACE = re.compile(
    r"namespace\s+integr8_models\s*(?:::\s*(\w+)|\{\s*(?:inline\s+)?namespace\s+(\w+))")


class BuildError(RuntimeError):
    """The model module could not be compiled; ``stderr`` holds the compiler's output."""

    def __init__(self, message: str, *, stderr: str = "", command: list[str] | None = None):
        super().__init__(message)
        self.stderr = stderr
        self.command = list(command or [])


@dataclass(frozen=True)
class BuildInfo:
    """How build() produced a module: its cache key and file, and whether it compiled."""

    key: str
    path: Path
    compiled: bool


def cache_dir() -> Path:
    """Where compiled model modules are kept: $INTEGR8_CACHE_DIR or ~/.cache/integr8."""
    configured = os.environ.get("INTEGR8_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "integr8"


def library_version() -> str:
    """MAJOR.MINOR.PATCH from integr8/version.h, the version's one source (CMake and the
    package metadata read it too)."""
    text = (include_dir() / "integr8" / "version.h").read_text()
    parts = [re.search(rf"^#define INTEGR8_VERSION_{part} (\d+)$", text, re.MULTILINE)
             for part in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise RuntimeError(f"{include_dir() / 'integr8' / 'version.h'} lacks INTEGR8_VERSION_*")
    return ".".join(match.group(1) for match in parts)


def include_dir() -> Path:
    """The directory holding integr8/integr8.h: packaged in the wheel, else the source tree's."""
    for candidate in (_PACKAGE_DIR / "include", _REPO_DIR / "include"):
        if (candidate / "integr8" / "integr8.h").is_file():
            return candidate
    raise FileNotFoundError(
        f"integr8 headers not found in {_PACKAGE_DIR / 'include'} (installed package) nor "
        f"{_REPO_DIR / 'include'} (source tree)")


def _binding_dir() -> Path:
    """The directory holding model_binding.h: the package (wheel), else python/src."""
    for candidate in (_PACKAGE_DIR, _REPO_DIR / "python" / "src"):
        if (candidate / _BINDING_HEADER).is_file():
            return candidate
    raise FileNotFoundError(f"{_BINDING_HEADER} not found in {_PACKAGE_DIR} nor "
                            f"{_REPO_DIR / 'python' / 'src'}")


def headers_sha256(root: str | os.PathLike | None = None) -> str:
    """SHA-256 over the integr8 headers under root (default include_dir()).

    The digest of "<path relative to root> <sha256 of the file>\\n" for every integr8/**/*.h
    in sorted order: the same value python/src/CMakeLists.txt compiles into
    integr8._core.headers_sha256.
    """
    root = Path(root) if root is not None else include_dir()
    manifest = "".join(
        f"{path.relative_to(root).as_posix()} {hashlib.sha256(path.read_bytes()).hexdigest()}\n"
        for path in sorted((root / "integr8").rglob("*.h"),
                           key=lambda item: item.relative_to(root).as_posix()))
    return hashlib.sha256(manifest.encode()).hexdigest()


def _compiler() -> list[str]:
    command = shlex.split(os.environ.get("CXX") or "c++")
    if not command:
        raise BuildError("$CXX is set but empty")
    return command


@functools.lru_cache(maxsize=None)
def _compiler_version(compiler: tuple[str, ...]) -> str:
    try:
        result = subprocess.run([*compiler, "--version"], capture_output=True, text=True,
                                check=False)
    except OSError as error:
        raise BuildError(f"cannot run the C++ compiler {shlex.join(compiler)!r} ({error}); "
                         "install one or point $CXX at it") from error
    if result.returncode != 0:
        raise BuildError(f"{shlex.join(compiler)} --version failed:\n{result.stderr}",
                         stderr=result.stderr)
    return result.stdout


def _python_include_dirs() -> list[str]:
    import pybind11  # a runtime dependency; imported here so the package loads without it

    paths = sysconfig.get_paths()
    dirs = [pybind11.get_include(), paths["include"], paths.get("platinclude", paths["include"])]
    return list(dict.fromkeys(dirs))


def _pybind11_version() -> str:
    import pybind11

    return pybind11.__version__


def _extension_suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or importlib.machinery.EXTENSION_SUFFIXES[0]


def _run_compiler(command: list[str]) -> subprocess.CompletedProcess:
    """Runs the compiler (a seam for tests that assert the cache is hit)."""
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _namespace_hint(header_text: str, name: str) -> str:
    declared = sorted({first or second for first, second in _NAMESPACE.findall(header_text)})
    if declared and name not in declared:
        names = ", ".join(f"integr8_models::{item}" for item in declared)
        return (f"\nhint: the header declares {names}, not integr8_models::{name}; "
                f"pass name={declared[0]!r}")
    return ""


_LOADED: dict[str, types.ModuleType] = {}


def _load(module_name: str, path: Path) -> types.ModuleType:
    cached = _LOADED.get(str(path))
    if cached is not None:
        return cached
    loader = importlib.machinery.ExtensionFileLoader(module_name, str(path))
    spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[module_name] = module
    _LOADED[str(path)] = module
    return module


def build(header_path: str | os.PathLike, *, name: str | None = None) -> types.ModuleType:
    """Compiles (or takes from the cache) the model of a generated header; returns its module.

    header_path: a header in the exporter's form (namespace integr8_models::<name> with
    Model, kInputHeight/kInputWidth/kInputChannels, kInputZeroPoint, kOutputElements,
    kOutputZeroPoint and kArenaBytes). name: <name>, by default the header's file stem.
    The module has class ``Model`` (see integr8._core.BarsModel for its API), ``name``,
    ``header`` and ``__integr8_build__`` (a BuildInfo of the last build() returning it).
    """
    header = Path(header_path).expanduser().resolve()
    if not header.is_file():
        raise FileNotFoundError(f"model header {header} does not exist")
    name = header.stem if name is None else name
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"name must be a C++ identifier (integr8_models::<name>), got {name!r}")
    if any(character in str(header) for character in '"\\\n'):
        raise ValueError(f"the header path {str(header)!r} holds a quote, backslash or "
                         "newline, which cannot be passed to #include; move the header")

    compiler = _compiler()
    include = include_dir()
    binding = _binding_dir()
    template = _PACKAGE_DIR / _TEMPLATE
    header_bytes = header.read_bytes()
    flags = [*COMPILE_FLAGS, *host_simd_flags()]
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]

    digest = hashlib.sha256()
    for part in (header_bytes, name.encode(), template.read_bytes(),
                 *(path.read_bytes() for path in sorted(binding.glob("*.h"))),
                 shlex.join(compiler).encode(),
                 _compiler_version(tuple(compiler)).encode(), shlex.join(flags).encode(),
                 headers_sha256(include).encode(), sys.version.encode(),
                 _extension_suffix().encode(), _pybind11_version().encode(),
                 "\n".join(_python_include_dirs()).encode()):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    key = digest.hexdigest()

    module_name = f"_integr8_model_{name}_{key[:16]}"
    target = cache_dir() / f"{name}-{key[:16]}" / f"{module_name}{_extension_suffix()}"
    compiled = False
    if not target.is_file():
        command = [*compiler, *flags,
                   f"-DINTEGR8_MODULE_NAME={module_name}",
                   f"-DINTEGR8_MODEL_NAMESPACE={name}",
                   f'-DINTEGR8_MODEL_HEADER="{header}"',
                   f"-I{include}", f"-I{binding}"]
        for directory in _python_include_dirs():
            command += ["-isystem", directory]
        cache_dir().mkdir(parents=True, exist_ok=True)
        # Compile into a private temporary directory, then rename: a concurrent build() or an
        # interrupted compiler never leaves a partial module under the final name.
        scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir()))
        try:
            output = scratch / target.name
            command += [str(template), "-o", str(output)]
            try:
                result = _run_compiler(command)
            except OSError as error:
                raise BuildError(f"cannot run the C++ compiler {shlex.join(compiler)!r} "
                                 f"({error})", command=command) from error
            if result.returncode != 0:
                stderr = result.stderr + result.stdout
                raise BuildError(
                    f"compiling {header} failed (exit {result.returncode}):\n{stderr}"
                    f"{_namespace_hint(header_bytes.decode(errors='replace'), name)}"
                    f"\ncommand: {shlex.join(command)}",
                    stderr=stderr, command=command)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(output, target)
            compiled = True
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    module = _load(module_name, target)
    module.__integr8_build__ = BuildInfo(key=key, path=target, compiled=compiled)
    return module
