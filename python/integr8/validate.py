"""End-to-end validation of an exported model: float PyTorch vs NumPy reference vs C++.

:func:`validate` runs one model three ways on the same images and measures

- ``float_accuracy``: the float PyTorch model on x = pixel / 255;
- ``int8_accuracy``: argmax of the int8 outputs of the compiled C++ (``integr8.build``);
- ``bitexact_fraction``: the fraction of samples whose whole int8 output vector is identical
  between the C++ and ``integr8.interpreter.run`` (anything below 1.0 is a bug);
- ``agreement``: top-1 agreement between int8 and float predictions;
- ``sqnr_db``: per-layer SQNR (dB) of the dequantized reference trace against the float
  layer outputs (``calibrate.float_layer_outputs``), on a subset of the images;
- ``weights_bytes``, ``arena_bytes`` and ``cpp_seconds`` (the C++ run over all images).

:func:`write_report` writes ``results.json`` (atomically) and ``report.png`` and prints a table.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import tempfile
import time
from typing import Optional

import numpy as np
import torch

from integr8 import calibrate as _calibrate
from integr8 import interpreter, qgraph

__all__ = ["validate", "sqnr_db", "write_report", "format_table", "SQNR_CAP_DB"]

SQNR_CAP_DB = 300.0  # reported for a layer whose quantization error is exactly zero
_REFERENCE_BATCH = 1000


def sqnr_db(signal, approximation) -> float:
    """10 log10(sum(signal^2) / sum((signal - approximation)^2)), capped at SQNR_CAP_DB."""
    signal = np.asarray(signal, dtype=np.float64)
    noise = signal - np.asarray(approximation, dtype=np.float64)
    power, noise_power = float(np.sum(signal * signal)), float(np.sum(noise * noise))
    if noise_power == 0.0:
        return SQNR_CAP_DB
    if power == 0.0:
        return -SQNR_CAP_DB
    return float(min(SQNR_CAP_DB, 10.0 * math.log10(power / noise_power)))


def _check_images(images, labels):
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[0] < 1:
        raise ValueError(f"images must be uint8 [N, H, W] with N >= 1, got {images.dtype} "
                         f"{images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must be [N] with N = {images.shape[0]}, got {labels.shape}")
    return images, labels.astype(np.int64)


def _float_predictions(model: torch.nn.Module, inputs: torch.Tensor, batch_size: int = 1000):
    was_training = model.training
    model.eval()
    predictions = []
    try:
        with torch.no_grad():
            for start in range(0, inputs.shape[0], batch_size):
                predictions.append(model(inputs[start:start + batch_size]).argmax(dim=1))
    finally:
        model.train(was_training)
    return torch.cat(predictions).numpy().astype(np.int64)


def validate(model: torch.nn.Module, graph: qgraph.QuantizedGraph, header_path, images,
             labels, *, float_model_accuracy: Optional[float] = None,
             sqnr_samples: int = 1000, module=None) -> dict:
    """Validates the exported ``header_path`` of ``graph`` (calibrated from ``model``).

    images: uint8 [N, 28, 28]; labels: [N] class indices.
    float_model_accuracy: the float accuracy if already measured (e.g. by train.evaluate);
    it is reported as is, the float predictions are still computed for ``agreement``.
    sqnr_samples: how many of the images (the first ones) the per-layer SQNR uses.
    module: an already built module of the header (default: ``integr8.build(header_path)``).

    Returns a dict with float_accuracy, int8_accuracy, bitexact_fraction, agreement,
    weights_bytes, arena_bytes, header, sqnr_db {layer: dB}, cpp_seconds, reference_seconds,
    samples and confusion (rows: true label, columns: int8 prediction).
    """
    from integr8.build import build
    from integr8.train import pixels_to_input

    images, labels = _check_images(images, labels)
    count = images.shape[0]
    inputs = pixels_to_input(images)

    float_pred = _float_predictions(model, inputs)
    float_accuracy = (float(np.mean(float_pred == labels)) if float_model_accuracy is None
                      else float(float_model_accuracy))

    q = _calibrate.quantize_input(inputs, graph)
    q = np.ascontiguousarray(q.reshape(count, *graph.input_shape.as_tuple()))

    if module is None:
        module = build(header_path, name=graph.name)
    runner = module.Model()
    started = time.perf_counter()
    cpp_out = np.asarray(runner.run(q))
    cpp_seconds = time.perf_counter() - started
    cpp_out = cpp_out.reshape(count, -1)

    sqnr_count = max(0, min(int(sqnr_samples), count))
    trace = None
    ref_chunks = []
    started = time.perf_counter()
    for start in range(0, count, _REFERENCE_BATCH):
        chunk = q[start:start + _REFERENCE_BATCH]
        if start == 0 and sqnr_count:
            out, trace = interpreter.run(graph, q[:max(sqnr_count, len(chunk))], trace=True)
            out = out[:len(chunk)]
        else:
            out = interpreter.run(graph, chunk)
        ref_chunks.append(out)
    ref_out = np.concatenate(ref_chunks).reshape(count, -1)
    reference_seconds = time.perf_counter() - started

    if cpp_out.shape != ref_out.shape:
        raise ValueError(f"C++ output shape {cpp_out.shape} differs from the reference "
                         f"{ref_out.shape}")
    same = np.all(cpp_out == ref_out, axis=1)
    int8_pred = cpp_out.astype(np.int32).argmax(axis=1)

    sqnr = {}
    if trace is not None:
        floats = _calibrate.float_layer_outputs(model, inputs[:sqnr_count], graph=graph)
        for layer in qgraph.iter_layers(graph.layers):
            dq = _calibrate.dequantize(trace[layer.name][:sqnr_count], layer.output)
            fl = floats[layer.name].numpy().reshape(dq.shape)
            sqnr[layer.name] = sqnr_db(fl, dq)

    classes = int(max(cpp_out.shape[1], labels.max() + 1))
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, int8_pred), 1)

    return {
        "float_accuracy": float_accuracy,
        "int8_accuracy": float(np.mean(int8_pred == labels)),
        "bitexact_fraction": float(np.mean(same)),
        "agreement": float(np.mean(int8_pred == float_pred)),
        "weights_bytes": int(graph.weight_bytes),
        "arena_bytes": int(runner.arena_bytes),
        "header": str(header_path),
        "sqnr_db": sqnr,
        "sqnr_samples": sqnr_count,
        "cpp_seconds": float(cpp_seconds),
        "reference_seconds": float(reference_seconds),
        "samples": int(count),
        "confusion": confusion.tolist(),
    }


# ---------------------------------------------------------------------------------------
# Report

_REQUIRED = {"float_accuracy": float, "int8_accuracy": float, "bitexact_fraction": float,
             "agreement": float, "weights_bytes": int, "arena_bytes": int, "header": str}


def _json_value(value):
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_value(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _contract(results: dict) -> dict:
    if not isinstance(results, dict) or "models" not in results:
        raise ValueError("results must be {'dataset': str, 'models': {name: validate(...)}}")
    out = {"dataset": str(results.get("dataset", "")), "models": {}}
    for key, value in results.items():
        if key not in ("dataset", "models"):
            out[str(key)] = _json_value(value)
    for name, entry in results["models"].items():
        missing = [key for key in _REQUIRED if key not in entry]
        if missing:
            raise ValueError(f"results for model {name!r} lack {missing}")
        model = {key: _json_value(value) for key, value in entry.items()}
        for key, kind in _REQUIRED.items():
            model[key] = kind(os.fspath(entry[key]) if kind is str else entry[key])
        out["models"][str(name)] = model
    return out


def format_table(results: dict) -> str:
    """A plain-text table of the models in ``results``."""
    header = (f"{'model':<10} {'float %':>8} {'int8 %':>8} {'delta pp':>9} {'agree %':>8} "
              f"{'bitexact':>9} {'weights B':>10} {'arena B':>8} {'min SQNR dB':>12} "
              f"{'C++ s':>7}")
    lines = [f"dataset: {results.get('dataset', '')}", header, "-" * len(header)]
    for name, entry in results["models"].items():
        sqnr = entry.get("sqnr_db") or {}
        min_sqnr = f"{min(sqnr.values()):.1f}" if sqnr else "-"
        seconds = entry.get("cpp_seconds")
        lines.append(
            f"{name:<10} {100 * entry['float_accuracy']:>8.2f} "
            f"{100 * entry['int8_accuracy']:>8.2f} "
            f"{100 * (entry['int8_accuracy'] - entry['float_accuracy']):>+9.2f} "
            f"{100 * entry['agreement']:>8.2f} {entry['bitexact_fraction']:>9.4f} "
            f"{int(entry['weights_bytes']):>10} {int(entry['arena_bytes']):>8} "
            f"{min_sqnr:>12} {'-' if seconds is None else f'{seconds:.3f}':>7}")
    for name, entry in results["models"].items():
        sqnr = entry.get("sqnr_db") or {}
        if sqnr:
            lines.append(f"{name} SQNR dB: " + ", ".join(f"{layer} {value:.1f}"
                                                          for layer, value in sqnr.items()))
    return "\n".join(lines)


def _atomic_write(path: pathlib.Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _draw(results: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    names = list(results["models"])
    columns = max(1, len(names))
    figure, axes = plt.subplots(2, columns, figsize=(5.5 * columns, 10), squeeze=False)
    for column, name in enumerate(names):
        entry = results["models"][name]
        sqnr = entry.get("sqnr_db") or {}
        axis = axes[0][column]
        if sqnr:
            layers = list(sqnr)
            axis.bar(range(len(layers)), [sqnr[layer] for layer in layers], color="tab:blue")
            axis.set_xticks(range(len(layers)))
            axis.set_xticklabels(layers, rotation=45, ha="right", fontsize=8)
        axis.set_ylabel("SQNR (dB)")
        axis.set_title(f"{name}: per-layer SQNR")
        axis = axes[1][column]
        confusion = entry.get("confusion")
        if confusion is not None:
            matrix = np.asarray(confusion)
            axis.imshow(matrix, cmap="Blues")
            for (i, j), value in np.ndenumerate(matrix):
                if value:
                    axis.text(j, i, str(value), ha="center", va="center", fontsize=6,
                              color="white" if value > matrix.max() / 2 else "black")
            axis.set_xticks(range(matrix.shape[1]))
            axis.set_yticks(range(matrix.shape[0]))
        axis.set_xlabel("int8 prediction")
        axis.set_ylabel("label")
        axis.set_title(f"{name}: int8 {100 * entry['int8_accuracy']:.2f}% "
                       f"(float {100 * entry['float_accuracy']:.2f}%)")
    figure.suptitle(f"integr8 validation on {results.get('dataset', '')}")
    figure.tight_layout()
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        figure.savefig(temp, format="png", dpi=100)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    finally:
        plt.close(figure)


def write_report(results: dict, out_dir, *, quiet: bool = False) -> dict:
    """Writes out_dir/results.json (atomically) and out_dir/report.png, prints the table.

    results: {"dataset": str, "models": {name: validate(...) dict}}. results.json holds
    {"dataset": str, "models": {name: {float_accuracy, int8_accuracy, bitexact_fraction,
    agreement, weights_bytes, arena_bytes, header, ...extras}}}. Returns that dict.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = _contract(results)
    _atomic_write(out_dir / "results.json",
                  (json.dumps(document, indent=2, allow_nan=False) + "\n").encode())
    if not quiet:
        print(format_table(document), flush=True)
    _draw(document, out_dir / "report.png")
    return document
