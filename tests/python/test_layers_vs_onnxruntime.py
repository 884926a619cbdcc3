"""benchmarks/layers_vs_onnxruntime.py on one tiny Linear: the table and JSON it produces, and
its refusal (exit 1, no table) when integr8 differs from the reference. No timing thresholds;
the first run compiles one small model module (about 15 s), later runs take it from the cache.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from integr8 import interpreter  # noqa: E402

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "layers_vs_onnxruntime.py"


@pytest.fixture(scope="module")
def lane():
    spec = importlib.util.spec_from_file_location("layers_vs_onnxruntime", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_linear_only(lane, monkeypatch):
    """--quick with only its Linear (batches 1 and 4): one module to compile."""
    case = lane.layer_cases(quick=True)[0]
    assert case.label.startswith("Linear")
    monkeypatch.setattr(lane, "layer_cases", lambda quick: [case])
    return case


def test_quick_table_and_json(lane, tiny_linear_only, tmp_path, capsys):
    out = tmp_path / "layers.json"
    assert lane.main(["--quick", "--out", str(out)]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| layer | batch | threads | integr8 µs | integr8 GMAC/s |")
    rows = {(cells[1], cells[2]) for cells in (line.split(" | ") for line in table[1:])}
    assert {("1", "1"), ("4", "1")} <= rows
    result = json.loads(out.read_text())
    layer = result["layers"][tiny_linear_only.label]
    assert layer["integr8"] == {"bitexact_vs_reference": True}
    # onnxruntime s8s8 requantizes with float scales: at most 1 LSB from integr8 on one layer.
    assert layer["onnxruntime s8s8"]["max_abs_lsb"] <= 1
    engines = {row["engine"] for row in result["timings"]}
    assert engines == {"integr8", "onnxruntime s8s8", "onnxruntime u8s8"}
    assert all(row["gmac_per_s"] > 0 and row["integr8_speedup"] > 0
               for row in result["timings"])


class OffByOneRunner:
    """The reference's outputs with one value moved by one LSB, as a broken kernel would."""

    def __init__(self, graph):
        self.graph = graph

    def run(self, batch, threads=None):
        output = interpreter.run(self.graph, batch)
        output[-1, -1] ^= 1
        return output


def test_refuses_when_integr8_differs_from_reference(lane, tiny_linear_only, monkeypatch,
                                                     capsys):
    monkeypatch.setattr(lane, "build_runner",
                        lambda graph, directory: (OffByOneRunner(graph), "broken"))
    assert lane.main(["--quick"]) == 1
    captured = capsys.readouterr()
    assert "differs from integr8.reference" in captured.err
    assert "| layer |" not in captured.out
