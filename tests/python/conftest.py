"""The tests exercise the installed package (`pip install .`), not the source tree: this
refuses to run them against an installed integr8 whose files differ from this tree's, naming
the first such file, so that a stale install cannot pass for the code under test."""

import hashlib
import importlib.util
import pathlib

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
# What the wheel holds from python/integr8 and include/, by their paths in the package.
_PACKAGE = _REPO / "python" / "integr8"
_SOURCES = [(path, path.relative_to(_PACKAGE)) for path in sorted(_PACKAGE.rglob("*"))
            if path.is_file() and not any(part.startswith((".", "__pycache__"))
                                          for part in path.relative_to(_PACKAGE).parts)]
_SOURCES += [(path, pathlib.Path("include") / path.relative_to(_REPO / "include"))
             for path in sorted((_REPO / "include").rglob("*.h"))]
_SOURCES += [(path, pathlib.Path(path.name))
             for path in sorted((_REPO / "python" / "src").glob("*.h"))]


def _digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pytest_sessionstart(session):
    spec = importlib.util.find_spec("integr8")
    if spec is None or spec.origin is None:
        pytest.exit("integr8 is not installed: run `python3 -m pip install .` from the "
                    "repository root first", returncode=2)
    installed = pathlib.Path(spec.origin).parent
    if installed == _REPO / "python" / "integr8":
        pytest.exit("integr8 is imported from the source tree: the tests run against the "
                    "installed package (`python3 -m pip install .`)", returncode=2)
    for source, relative in _SOURCES:
        target = installed / relative
        if not target.is_file() or _digest(target) != _digest(source):
            pytest.exit(f"the installed integr8 ({installed}) differs from this tree at "
                        f"{source.relative_to(_REPO)}: run `python3 -m pip install .` again",
                        returncode=2)
