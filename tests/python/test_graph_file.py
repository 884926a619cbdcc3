"""The quantized graph's file format (integr8.qgraph.save / load).

- load(save(g)) renders the identical header, for the bundled models and the test graphs;
- each bundled model's committed graph file renders its committed header byte for byte;
- saving is deterministic and atomic, and export writes the graph beside every header;
- a damaged or foreign file is refused with a message naming the field.
"""

import io
import json
import pathlib
import re
import shlex
import zipfile

import numpy as np
import pytest

from integr8 import export, qgraph, spec

import test_export

REPO = pathlib.Path(__file__).resolve().parents[2]
BUNDLED = REPO / "python" / "integr8" / "bundled"
BUNDLED_COMMAND = shlex.join(["python3", "tools/bundle_mnist_models.py"])


def _render(graph):
    return export.render_header(graph, command="test", checkpoint_sha256=None)


GRAPHS = {
    "mlp": test_export.build_mlp,
    "convnet": test_export.build_convnet,
    "resnet": test_export.build_resnet,
    "mlp_with_metadata": lambda: test_export.build_mlp(
        metadata={"observer": "mse", "samples": np.int64(7), "range": (0.5, 2.0),
                  "tags": {"b", "a"}, "nested": {"k": [1, None, True]}}),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_round_trip_renders_the_identical_header(name, tmp_path):
    graph = GRAPHS[name]()
    path = tmp_path / "graph.i8g"
    graph.save(path)
    loaded = qgraph.load(path)
    assert _render(loaded) == _render(graph)
    for before, after in zip(qgraph.iter_layers(graph.layers), qgraph.iter_layers(loaded.layers)):
        for field in ("weights", "filter", "bias"):
            if hasattr(before, field):
                assert getattr(after, field).dtype == getattr(before, field).dtype


@pytest.mark.parametrize("model", ["mnist_mlp", "mnist_convnet"])
def test_bundled_graph_renders_the_committed_header(model):
    import hashlib

    graph = qgraph.load(BUNDLED / f"{model}.i8g")
    checkpoint = hashlib.sha256((BUNDLED / f"{model}.pt").read_bytes()).hexdigest()
    header = export.render_header(graph, command=BUNDLED_COMMAND, checkpoint_sha256=checkpoint)
    assert header == (BUNDLED / f"{model}.h").read_text()


def test_saving_is_deterministic(tmp_path):
    graph = test_export.build_resnet()
    graph.save(tmp_path / "a.i8g")
    graph.save(tmp_path / "b.i8g")
    assert (tmp_path / "a.i8g").read_bytes() == (tmp_path / "b.i8g").read_bytes()


def test_export_writes_the_graph_beside_the_header(tmp_path):
    graph = test_export.build_convnet()
    header = export.export_header(graph, tmp_path, command="test", checkpoint_sha256=None)
    assert _render(qgraph.load(header.with_suffix(".i8g"))) == _render(graph)
    assert sorted(item.name for item in tmp_path.iterdir()) == [header.name, f"{graph.name}.i8g"]


def test_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    graph = test_export.build_mlp()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        graph.save(tmp_path / "graph.i8g")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------
# Damaged and foreign files


def _entries(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _write(path, entries):
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    path.write_bytes(buffer.getvalue())


def _manifest(entries):
    return json.loads(entries["manifest"].tobytes().decode())


def _with_manifest(entries, manifest):
    text = json.dumps(manifest)
    return {**entries, "manifest": np.frombuffer(text.encode(), np.uint8)}


def _first_layer(manifest):
    return manifest["layers"][0]["fields"]


def _set_format(manifest):
    manifest["format"] = "something-else"


def _set_schema(manifest):
    manifest["schema_version"] = qgraph.GRAPH_FILE_SCHEMA + 1


def _set_spec(manifest):
    manifest["spec_version"] = spec.VERSION + 1


def _set_nan_scale(manifest):
    manifest["input"]["quant"]["scale"] = float("nan")


def _set_unknown_kind(manifest):
    manifest["layers"][0]["kind"] = "Softmax"


def _drop_field(manifest):
    del _first_layer(manifest)["bias"]


def _set_zero_point(manifest):
    _first_layer(manifest)["output"]["quant"]["zero_point"] = 300


MANIFEST_DAMAGE = {
    "format": (_set_format, "format: 'something-else'"),
    "schema": (_set_schema, "schema_version"),
    "spec": (_set_spec, "spec_version"),
    "nan": (_set_nan_scale, "NaN"),
    "kind": (_set_unknown_kind, "unknown layer kind 'Softmax'"),
    "field": (_drop_field, "missing ['bias']"),
    "zero_point": (_set_zero_point, "output.zero_point = 300"),
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE))
def test_damaged_manifest_is_refused_naming_the_field(damage, tmp_path):
    path = tmp_path / "graph.i8g"
    test_export.build_mlp().save(path)
    entries = _entries(path)
    manifest = _manifest(entries)
    change, message = MANIFEST_DAMAGE[damage]
    change(manifest)
    _write(path, _with_manifest(entries, manifest))
    with pytest.raises(qgraph.GraphError, match=re.escape(message)):
        qgraph.load(path)


def _weights_key(entries):
    return next(key for key in entries if key.endswith(".weights"))


@pytest.mark.parametrize("damage,message", [
    ("missing", "is missing from the file"),
    ("dtype", "array dtype <i2 differs"),
    ("shape", "array shape"),
])
def test_damaged_array_is_refused_naming_the_field(damage, message, tmp_path):
    path = tmp_path / "graph.i8g"
    test_export.build_mlp().save(path)
    entries = _entries(path)
    key = _weights_key(entries)
    if damage == "missing":
        del entries[key]
    elif damage == "dtype":
        entries[key] = entries[key].astype(np.int16)
    else:
        entries[key] = entries[key][:, :-1]
    _write(path, entries)
    with pytest.raises(qgraph.GraphFileError, match=message) as error:
        qgraph.load(path)
    assert "weights" in str(error.value)


def test_a_file_that_is_not_a_graph_is_refused(tmp_path):
    path = tmp_path / "graph.i8g"
    path.write_text("#ifndef NOT_A_GRAPH\n")
    with pytest.raises(qgraph.GraphFileError, match="is not a graph archive"):
        qgraph.load(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("other.npy", b"")
    with pytest.raises(qgraph.GraphFileError):
        qgraph.load(path)
    _write(path, {"weights": np.zeros(3, np.int8)})
    with pytest.raises(qgraph.GraphFileError, match="manifest: missing"):
        qgraph.load(path)
