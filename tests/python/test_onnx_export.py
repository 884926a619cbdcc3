"""integr8.onnx_export: a QuantizedGraph as a QOperator ONNX model that onnxruntime runs.

The bound checked, per layer on the same int8 input, is 1 LSB, and 0 for max pooling and
clamps. onnxruntime requantizes with float32 scales and rounds half to even, integr8 with
m * 2^-n exactly and half up; the export picks the weight scales so that the exact output
scale is m * 2^-n, and the float32 roundings on the way leave a relative error below 2^-21.
An output inside int8 has |acc * M| < 256, so the two values before rounding differ by less
than 256 * 2^-21 (about 1e-4 < 1/2): the roundings can part by at most one step, and only for
an accumulator that close to a rounding boundary. Across layers a 1-LSB difference can
spread, so the whole graph is held to agreeing on almost every output rather than to a bound.

The last test runs benchmarks/side_by_side.py --quick (no timing thresholds).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from integr8 import calibrate, interpreter, qgraph  # noqa: E402
from integr8.onnx_export import OnnxExportError, to_onnx  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = 300


def _tiny_model() -> nn.Module:
    """Every layer kind the export covers: conv with ReLU6, max pool, depthwise conv
    (depth multiplier 2) with stride, a 1x1 conv whose output keeps negative values, and a
    Linear after the flatten of a feature map."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        return nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.ReLU6(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=4), nn.ReLU(),
            nn.Conv2d(8, 6, 1),
            nn.Flatten(), nn.Linear(6 * 2 * 2, 5),
        ).eval()


def _images(count: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(count, 2, 8, 8))).float()


def _with_relu(graph: qgraph.QuantizedGraph) -> qgraph.QuantizedGraph:
    """Adds a standalone ReLU after the 1x1 conv (a clamp at its zero point, > -128)."""
    layers = list(graph.layers)
    before = layers[-2]
    assert before.output.zero_point > -128, "the 1x1 conv output should keep negative values"
    relu = qgraph.Relu(name="extra_relu", source="test", input_shape=before.output_shape,
                       output_shape=before.output_shape, output=before.output,
                       activation_min=before.output.zero_point, activation_max=127)
    return dataclasses.replace(graph, layers=(*layers[:-1], relu, layers[-1]))


def _per_tensor(graph: qgraph.QuantizedGraph) -> qgraph.QuantizedGraph:
    """Every requantization reduced to its first channel's multiplier: a valid per-tensor
    graph (its numbers need not track the float model to test the arithmetic)."""
    layers = []
    for layer in graph.layers:
        if hasattr(layer, "requantization"):
            requant = layer.requantization
            layer = dataclasses.replace(layer, requantization=dataclasses.replace(
                requant, multipliers=requant.multipliers[:1], shifts=requant.shifts[:1]))
        layers.append(layer)
    return dataclasses.replace(graph, name="tiny_per_tensor", layers=tuple(layers))


@pytest.fixture(scope="module", params=["per_channel", "per_tensor"])
def graph(request) -> qgraph.QuantizedGraph:
    calibrated = _with_relu(calibrate.calibrate(_tiny_model(), _images(256, 0), name="tiny"))
    return calibrated if request.param == "per_channel" else _per_tensor(calibrated)


@pytest.fixture(scope="module")
def inputs(graph) -> np.ndarray:
    q = calibrate.quantize_input(_images(SAMPLES, 1), graph)
    return np.ascontiguousarray(q.reshape(SAMPLES, *graph.input_shape.as_tuple()))


def _run_onnx(graph: qgraph.QuantizedGraph, x: np.ndarray) -> np.ndarray:
    model = to_onnx(graph)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT8
    onnx.checker.check_model(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def test_graph_covers_every_exported_kind(graph):
    kinds = {type(layer).__name__ for layer in graph.layers}
    assert kinds == {"Conv2d", "Pool2d", "DepthwiseConv2d", "Relu", "Linear"}
    ops = [node.op_type for node in to_onnx(graph).graph.node]
    assert ops.count("QLinearConv") == 3 and ops.count("QGemm") == 1
    assert ops.count("MaxPool") == 1 and ops.count("Clip") == 1  # the standalone ReLU


def test_each_layer_within_one_lsb(graph, inputs):
    _, trace = interpreter.run(graph, inputs, trace=True)
    layer_input, input_quant = inputs, graph.input
    for layer in graph.layers:
        single = qgraph.QuantizedGraph(name="single", input_shape=layer.input_shape,
                                       input=input_quant, layers=(layer,))
        x = np.ascontiguousarray(layer_input.reshape(SAMPLES, *layer.input_shape.as_tuple()))
        expected = interpreter.run(single, x).astype(np.int32)
        actual = _run_onnx(single, x)
        assert actual.dtype == np.int8 and actual.shape == expected.shape
        bound = 1 if hasattr(layer, "requantization") else 0
        worst = int(np.abs(actual.astype(np.int32) - expected).max())
        assert worst <= bound, f"layer '{layer.name}': {worst} LSB from integr8.reference"
        layer_input, input_quant = trace[layer.name], layer.output


def test_whole_graph_agrees_with_reference(graph, inputs):
    expected = interpreter.run(graph, inputs)
    actual = _run_onnx(graph, inputs)
    assert actual.dtype == np.int8 and actual.shape == (SAMPLES, 5)
    # A layout slip (NCHW vs HWC flattening, filter order) would break most outputs; 1-LSB
    # requantization differences (module docstring) are rare and may spread a little.
    assert np.mean(actual == expected) >= 0.99


def _halved_weights(graph: qgraph.QuantizedGraph) -> qgraph.QuantizedGraph:
    """Weights in [-64, 63]: then 2 * 255 * 64 < 2^15, so a u8 x s8 kernel that adds pairs of
    products in int16 (AVX2 without VNNI) cannot saturate."""
    layers = []
    for layer in graph.layers:
        field = "weights" if isinstance(layer, qgraph.Linear) else "filter"
        if hasattr(layer, field):
            layer = dataclasses.replace(layer, **{field: getattr(layer, field) // 2})
        layers.append(layer)
    return dataclasses.replace(graph, layers=tuple(layers))


def test_uint8_activations_are_the_same_real_values(graph, inputs):
    """u8s8: every activation stored as q + 128, so the output is the int8 one plus 128 (on
    weights that no int16 saturation can reach, see to_onnx)."""
    graph = _halved_weights(graph)
    model = to_onnx(graph, activations="uint8")
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    unsigned = session.run(None, {"input": inputs.view(np.uint8) ^ 0x80})[0]
    assert unsigned.dtype == np.uint8
    np.testing.assert_array_equal((unsigned ^ 0x80).view(np.int8), _run_onnx(graph, inputs))
    with pytest.raises(OnnxExportError, match="activations"):
        to_onnx(graph, activations="int16")


def test_unsupported_layers_are_refused():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(2 * 2 * 2, 3)).eval()
    graph = calibrate.calibrate(model, torch.randn(32, 1, 4, 4), name="avg")
    with pytest.raises(OnnxExportError, match="not exported to ONNX"):
        to_onnx(graph)


def _dataset_available() -> bool:
    from integr8 import data

    for name in ("mnist", "fashion-mnist"):
        try:
            data.load_dataset(name, "test")
            return True
        except data.DatasetNotFoundError:
            continue
    return False


def test_side_by_side_quick_runs(tmp_path):
    pytest.importorskip("integr8._core",
                        reason="integr8._core is not built: run `pip install .`")
    if not _dataset_available():
        pytest.skip("neither MNIST nor Fashion-MNIST is installed")
    out = tmp_path / "side_by_side.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "side_by_side.py"), "--quick", "--out",
         str(out)], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| model | engine | threads | batch 1 µs/inf")
    for model in ("mlp", "convnet"):
        for engine in ("integr8", "onnxruntime s8s8", "onnxruntime u8s8", "torch float"):
            assert any(line.startswith(f"| {model} | {engine} | 1 |") for line in table)
    report = json.loads(out.read_text())
    assert report["quick"] is True and report["markdown_table"].splitlines()[0] == table[0]
    for model in ("mlp", "convnet"):
        assert report["checks"][model]["integr8"]["bitexact_vs_reference"] is True
        assert report["checks"][model]["onnxruntime s8s8"]["max_abs_lsb"] >= 0
    assert all(row["median_s"] > 0 for row in report["timings"])
