"""Fast tests of integr8.validate and integr8.cli (no MNIST, no full training)."""

import argparse
import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from integr8 import cli, qgraph
from integr8.calibrate import calibrate
from integr8.export import export_header
from integr8.train import (INPUT_SCALE, INPUT_ZERO_POINT, TrainConfig, pixels_to_input,
                           save_checkpoint, train)
from integr8.validate import sqnr_db, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONTRACT = {"float_accuracy": float, "int8_accuracy": float, "bitexact_fraction": float,
            "agreement": float, "weights_bytes": int, "arena_bytes": int, "header": str}


def _core_available() -> bool:
    try:
        import integr8._core  # noqa: F401
    except ImportError:
        return False
    return True


needs_build = pytest.mark.skipif(
    not _core_available() or not (shutil.which("c++") or shutil.which("g++")
                                  or shutil.which("clang++")),
    reason="integr8._core is not importable or no C++ compiler is installed")


def _synthetic(count: int, seed: int = 0):
    """Digit-like 28x28 uint8 images: class k lights a distinct 7x7 block (plus noise)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    images = rng.integers(0, 40, size=(count, 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 4)
        images[i, 7 * row:7 * row + 7, 7 * col:7 * col + 7] = 200
    return images, labels


class TinyConvNet(nn.Sequential):
    def __init__(self):
        super().__init__(
            nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 14 * 14, 16), nn.ReLU(),
            nn.Linear(16, 10))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny model trained for a few steps, calibrated and exported."""
    torch.manual_seed(0)
    images, labels = _synthetic(256)
    model = TinyConvNet()
    train(model, images, labels, TrainConfig(epochs=1, batch_size=64, learning_rate=1e-2),
          progress=False)
    model.eval()
    out = tmp_path_factory.mktemp("tiny")
    graph = calibrate(model, pixels_to_input(images[:128]), name="tiny_net",
                      input_quant=qgraph.Quant(scale=INPUT_SCALE, zero_point=INPUT_ZERO_POINT))
    header = export_header(graph, out, command="pytest", checkpoint_sha256=None)
    return model, graph, header, out


def test_sqnr_db():
    signal = np.array([1.0, -2.0, 3.0])
    assert sqnr_db(signal, signal) == 300.0
    assert math.isclose(sqnr_db(signal, signal * 0.9), 20.0, rel_tol=1e-9)


@needs_build
def test_validate_and_report(tiny, tmp_path, monkeypatch):
    from integr8.validate import validate

    monkeypatch.setenv("INTEGR8_CACHE_DIR", str(tmp_path / "cache"))
    model, graph, header, _ = tiny
    images, labels = _synthetic(64, seed=1)
    entry = validate(model, graph, header, images, labels, sqnr_samples=32)
    assert entry["bitexact_fraction"] == 1.0
    assert 0.0 <= entry["int8_accuracy"] <= 1.0 and 0.0 <= entry["agreement"] <= 1.0
    assert entry["weights_bytes"] == graph.weight_bytes
    assert entry["arena_bytes"] > 0
    assert set(entry["sqnr_db"]) == {layer.name for layer in qgraph.iter_layers(graph.layers)}
    assert all(isinstance(value, float) for value in entry["sqnr_db"].values())
    assert np.asarray(entry["confusion"]).sum() == 64

    out = tmp_path / "report"
    write_report({"dataset": "synthetic", "models": {"tiny": entry}}, out)
    document = json.loads((out / "results.json").read_text())
    assert set(document) >= {"dataset", "models"} and document["dataset"] == "synthetic"
    assert list(document["models"]) == ["tiny"]
    for key, kind in CONTRACT.items():
        assert isinstance(document["models"]["tiny"][key], kind), key
    assert document["models"]["tiny"]["bitexact_fraction"] == 1.0
    assert (out / "report.png").read_bytes()[:8] == PNG_MAGIC
    assert not [path for path in out.iterdir() if path.name.startswith(".")]


def test_eval_loads_the_graph_exported_beside_the_header(tiny, tmp_path, monkeypatch):
    """cli eval reads <stem>.i8g, needing no calibration data, and refuses a header its graph
    does not render, a checkpoint other than the exported one, and a header without graph."""
    model, graph, _, _ = tiny
    checkpoint = tmp_path / "tiny.pt"
    save_checkpoint(model, checkpoint)
    header = export_header(graph, tmp_path, command="pytest",
                           checkpoint_sha256=cli._sha256(checkpoint))

    def no_data(*args, **kwargs):
        raise AssertionError("eval must not load calibration data")

    monkeypatch.setattr(cli, "_load_split", no_data)
    args = argparse.Namespace(checkpoint=str(checkpoint), dataset="mnist", root=None)
    loaded = cli._graph_for_header(args, header)
    assert loaded.name == "tiny_net" and loaded.weight_bytes == graph.weight_bytes
    np.testing.assert_array_equal(loaded.layers[0].filter, graph.layers[0].filter)

    other = tmp_path / "other.pt"
    save_checkpoint(torch.nn.Linear(2, 2), other)
    with pytest.raises(cli.CliError, match="exported from a checkpoint with sha256"):
        cli._graph_for_header(argparse.Namespace(checkpoint=str(other)), header)

    header.write_text(header.read_text().replace("kArenaBytes", "kArenaBytes ", 1))
    with pytest.raises(cli.CliError, match="is not the header its graph file"):
        cli._graph_for_header(args, header)

    header.with_suffix(".i8g").unlink()
    with pytest.raises(cli.CliError, match="has no graph file beside it"):
        cli._graph_for_header(args, header)


def test_cli_missing_checkpoint(tmp_path, capsys):
    status = cli.main(["export", "--model", "mlp", "--checkpoint", str(tmp_path / "no.pt"),
                       "--out", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert "no.pt" in err and err.startswith("integr8: error:")
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_bad_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert cli.main(["eval", "--model", "mlp", "--checkpoint", str(bad),
                     "--header", str(tmp_path / "x.h")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.pt" in err and len(err.splitlines()) == 1


def test_cli_missing_dataset(tmp_path, capsys):
    checkpoint = tmp_path / "mlp.pt"
    from integr8.train import make_model

    save_checkpoint(make_model("mlp"), checkpoint)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["export", "--model", "mlp", "--checkpoint", str(checkpoint),
                     "--root", str(empty), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "lacks" in err and len(err.splitlines()) == 1


def test_cli_help():
    result = subprocess.run([sys.executable, "-m", "integr8", "--help"], capture_output=True,
                            text=True, cwd=str(__import__("pathlib").Path(__file__).parent),
                            env={**__import__("os").environ,
                                 "PYTHONPATH": str(cli.__file__.rsplit("/integr8/", 1)[0])})
    assert result.returncode == 0, result.stderr
    for command in ("train", "export", "calibrate", "eval", "data", "demo"):
        assert command in result.stdout
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
