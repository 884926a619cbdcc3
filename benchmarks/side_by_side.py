#!/usr/bin/env python3
"""integr8 side by side with onnxruntime and PyTorch on the bundled MNIST models.

    python3 -m pip install . onnxruntime==1.32.0 onnx==1.23.2
    python3 benchmarks/side_by_side.py [--quick] [--out side_by_side.json]

For the MLP (784-128-64-10) and the ConvNet bundled in integr8._core, on one machine in one
run, this times per inference (median over repetitions, after warm-up):

- integr8 through the binding: the bundled headers compiled by ``integr8.build`` for this
  machine (the x86 AVX2 backend where the CPU has it), ``Model().run(batch, threads=...)``,
  and ``run(sample)`` at batch 1;
- onnxruntime running the same quantized graph exported by integr8.onnx_export (QLinearConv,
  QGemm, MaxPool: onnxruntime's int8 kernels), ``session.run`` with ``intra_op_num_threads``,
  once with int8 activations (s8s8, integr8's values) and once with uint8 ones (u8s8, the
  same real values; onnxruntime's fastest form on x86);
- PyTorch eager on the float model, and PyTorch's quantized CPU engines (fbgemm, the x86
  server engine, and qnnpack) running the same quantized graph through
  ``torch.ops.quantized`` (quint8 activations are the int8 ones plus 128, which are the same
  real values);

at batch 1, 64 and 1024, with one thread and with every core. Before anything is timed,
integr8's outputs must equal the NumPy reference (integr8.reference) bit for bit, or the
script exits with status 1 without a table; the int8 outputs of onnxruntime and PyTorch are
compared with integr8's (LSB difference histogram, top-1 agreement), since their
requantization uses float scales (integr8.onnx_export explains the difference). u8 x s8
kernels on AVX2 without VNNI (fbgemm's, and onnxruntime's for u8s8) also add pairs of
products in saturating int16, which is why PyTorch's own x86 observers keep activations to 7
bits; with integr8's full 8-bit activations that shows as larger differences.

The quantized graphs are the bundled models' graph files (python/integr8/bundled/*.i8g,
written beside their headers by tools/bundle_mnist_models.py). The images are MNIST's
when it is installed (``python3 -m integr8 data install-mnist``), else Fashion-MNIST's, and
the output says which.

One Markdown table goes to stdout, and everything measured to the JSON file ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import statistics
import sys
import time
import warnings

import numpy as np

BATCHES = (1, 64, 1024)
QUICK_BATCHES = (1, 16)
MODELS = {"mlp": "MnistMlp", "convnet": "MnistConvNet"}  # integr8.models name -> _core class
BACKENDS: dict = {}  # model name -> the kernels integr8.build compiled it with
# onnxruntime row -> activation type of the exported model (weights are int8 in both).
ONNX_VARIANTS = {"onnxruntime s8s8": "int8", "onnxruntime u8s8": "uint8"}
TORCH_INT8_ENGINES = ("fbgemm", "qnnpack")
ENGINES = ("integr8", *ONNX_VARIANTS, "torch float",
           *(f"torch int8 ({engine})" for engine in TORCH_INT8_ENGINES))
PINS = "onnxruntime==1.32.0 onnx==1.23.2"
TORCH_INT8_STATUS = (
    "torch.ops.quantized (linear, conv2d with prepacked per-channel qint8 weights) runs in "
    "torch 2.13, but torch.ao.quantization and quantized tensor creation "
    "(torch.quantize_per_tensor, ...) are deprecated and announced for removal")


# Header parameters that are zero points and clamps (of a layer, or of its requantization).


class BenchmarkError(Exception):
    """Something the benchmark cannot report honestly (a mismatch, a missing dependency)."""


# ---------------------------------------------------------------------------------------
# Settings


class Settings:
    """What --quick changes: batches, repetitions, how many images are checked."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.batches = QUICK_BATCHES if quick else BATCHES
        self.check_samples = 128 if quick else 10_000  # images checked before timing
        self.repetitions = 3 if quick else 9
        self.min_repetition_seconds = 0.005 if quick else 0.05
        self.warmup_seconds = 0.01 if quick else 0.2
        self.all_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
        self.thread_counts = sorted({1, self.all_cores})


def median_seconds_per_call(call, settings: Settings) -> dict:
    """timeit-style: warm up (at least two calls), size a repetition from the warm-up to at
    least min_repetition_seconds, then the median over repetitions of the time per call."""
    warmup_calls, started = 0, time.perf_counter()
    while warmup_calls < 2 or time.perf_counter() - started < settings.warmup_seconds:
        call()
        warmup_calls += 1
    estimate = (time.perf_counter() - started) / warmup_calls
    calls = max(1, math.ceil(settings.min_repetition_seconds / estimate))
    per_call = []
    for _ in range(settings.repetitions):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        per_call.append((time.perf_counter() - started) / calls)
    return {"median_s": statistics.median(per_call), "min_s": min(per_call),
            "repetitions": settings.repetitions, "calls_per_repetition": calls}


# ---------------------------------------------------------------------------------------
# Models and inputs


def load_images():
    """(dataset name, test images, test labels), preferring MNIST."""
    from integr8 import data

    try:
        test, labels = data.load_dataset("mnist", "test")
        return "mnist", test, labels
    except data.DatasetNotFoundError as mnist_error:
        try:
            test, labels = data.load_dataset("fashion-mnist", "test")
        except data.DatasetNotFoundError as fashion_error:
            raise BenchmarkError(f"no dataset: {mnist_error}; {fashion_error}") from None
        return "fashion-mnist", test, labels


def bundled_dir() -> pathlib.Path:
    import integr8

    return pathlib.Path(integr8.__file__).resolve().parent / "bundled"


def build_models() -> dict:
    """name -> (float model, QuantizedGraph, integr8 runner) of the bundled models."""
    import integr8
    from integr8 import qgraph
    from integr8.train import load_checkpoint, make_model

    models = {}
    for name in MODELS:
        model = load_checkpoint(make_model(name), bundled_dir() / f"mnist_{name}.pt").eval()
        graph = qgraph.load(bundled_dir() / f"mnist_{name}.i8g")
        # The bundled header compiled by integr8.build for this machine (the x86 backend where
        # the CPU has AVX2), the same graph as integr8.MnistMlp / MnistConvNet in the portable
        # wheel.
        module = integr8.build(bundled_dir() / f"mnist_{name}.h")
        models[name] = (model, graph, module.Model())
        BACKENDS[name] = module.backend
    return models


def quantized_inputs(graph, images) -> np.ndarray:
    from integr8.calibrate import quantize_input
    from integr8.train import pixels_to_input

    q = quantize_input(pixels_to_input(images), graph)
    return np.ascontiguousarray(q.reshape(len(images), *graph.input_shape.as_tuple()))


# ---------------------------------------------------------------------------------------
# The other engines


class OnnxModel:
    """The graph exported to ONNX with int8 or uint8 activations (integr8.onnx_export), and
    the conversions from and to integr8's int8 values (q + 128: the same real values)."""

    def __init__(self, graph, activations: str):
        from integr8 import onnx_export

        self.unsigned = activations == "uint8"
        self.bytes = onnx_export.to_onnx(graph, activations=activations).SerializeToString()

    def feed(self, batch: np.ndarray) -> dict:
        return {"input": batch.view(np.uint8) ^ 0x80 if self.unsigned else batch}

    def int8_output(self, output: np.ndarray) -> np.ndarray:
        return (output ^ 0x80).view(np.int8) if self.unsigned else output

    def session(self, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        return onnxruntime.InferenceSession(self.bytes, options,
                                            providers=["CPUExecutionProvider"])


class TorchInt8Graph:
    """A QuantizedGraph on a PyTorch quantized CPU engine through torch.ops.quantized.

    Activations are quint8 with raw value q + 128 and zero point z + 128 (the same real
    values as integr8's int8); weights are the graph's int8 per-channel, with the scales
    integr8.onnx_export derives from the requantization multipliers; the engine takes the bias
    as float and quantizes it back to the graph's integers. Weights are packed for the engine
    selected when this is built. Supports what the bundled models use: convolutions and max
    pooling, then Linear layers, whose clamps are none or ReLU.
    """

    def __init__(self, graph):
        import torch

        from integr8 import onnx_export, qgraph

        self.torch = torch
        self.input = graph.input
        self.steps = []
        quant = graph.input
        for layer in graph.layers:
            if self.steps and self.steps[-1][0] == "linear" and \
                    not isinstance(layer, qgraph.Linear):
                raise ValueError(f"layer '{layer.name}' follows a Linear: not supported here")
            if isinstance(layer, (qgraph.Linear, qgraph.Conv2d)):
                requant = layer.requantization
                relu = (requant.activation_min, requant.activation_max) == (
                    max(-128, requant.output_zero_point), 127)
                if not relu and (requant.activation_min, requant.activation_max) != (-128, 127):
                    raise ValueError(f"layer '{layer.name}': clamp {requant.activation_min}.."
                                     f"{requant.activation_max} has no quantized op")
                scales = np.broadcast_to(onnx_export.weight_scales(layer, quant),
                                         (layer.output_shape.channels,)).astype(np.float64)
                weights = layer.weights if isinstance(layer, qgraph.Linear) else \
                    layer.filter.transpose(0, 3, 1, 2)  # OHWI -> OIHW
                bias = onnx_export.unfolded_bias(layer, quant.zero_point)
                packed_weights = torch._make_per_channel_quantized_tensor(
                    torch.from_numpy(np.ascontiguousarray(weights)), torch.from_numpy(scales),
                    torch.zeros(len(scales), dtype=torch.int64), 0)
                float_bias = torch.from_numpy(bias * scales * quant.scale).float()
                output = (layer.output.scale, layer.output.zero_point + 128)
                if isinstance(layer, qgraph.Linear):
                    packed = torch.ops.quantized.linear_prepack(packed_weights, float_bias)
                    op = torch.ops.quantized.linear_relu if relu else torch.ops.quantized.linear
                    self.steps.append(("linear", op, packed, output))
                else:
                    packed = torch.ops.quantized.conv2d_prepack(
                        packed_weights, float_bias, list(layer.stride), list(layer.padding),
                        list(layer.dilation), layer.groups)
                    op = torch.ops.quantized.conv2d_relu if relu else torch.ops.quantized.conv2d
                    self.steps.append(("conv", op, packed, output))
            elif isinstance(layer, qgraph.Pool2d) and layer.kind == "max" and \
                    (layer.activation_min, layer.activation_max) == (-128, 127):
                self.steps.append(("max_pool", layer.kernel, layer.stride, layer.padding,
                                   layer.ceil_mode))
            else:
                raise ValueError(f"layer '{layer.name}' ({type(layer).__name__}) has no "
                                 "quantized-op equivalent here")
            quant = layer.output

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        torch = self.torch
        raw = torch.from_numpy(batch).view(torch.uint8) ^ 0x80  # int8 q -> uint8 q + 128
        x = torch._make_per_tensor_quantized_tensor(raw, self.input.scale,
                                                    self.input.zero_point + 128)
        x = x.permute(0, 3, 1, 2)  # NCHW view of NHWC memory, i.e. channels-last
        for step in self.steps:
            if step[0] == "linear":
                if x.dim() == 4:  # integr8 flattens HWC
                    x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
                x = step[1](x, step[2], *step[3])
            elif step[0] == "conv":
                x = step[1](x, step[2], *step[3])
            else:
                x = torch.nn.functional.max_pool2d(x, step[1], step[2], step[3],
                                                   ceil_mode=step[4])
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        out = x.int_repr().reshape(x.shape[0], -1) ^ 0x80  # uint8 q + 128 -> int8 q
        return out.view(torch.int8).numpy()


def torch_int8_engines(graph) -> tuple[dict, list]:
    """({engine row name: callable}, [why an engine is missing]) for TORCH_INT8_ENGINES."""
    import torch

    runners, missing = {}, []
    for engine in TORCH_INT8_ENGINES:
        if engine not in torch.backends.quantized.supported_engines:
            missing.append(f"torch {torch.__version__} has no {engine} quantized engine "
                           f"(it has {torch.backends.quantized.supported_engines})")
            continue
        torch.backends.quantized.engine = engine
        try:
            with warnings.catch_warnings():
                # Deprecated in torch 2.13 but working (TORCH_INT8_STATUS).
                warnings.simplefilter("ignore")
                runners[f"torch int8 ({engine})"] = TorchInt8Graph(graph)
        except (ValueError, RuntimeError) as error:
            missing.append(f"torch int8 ({engine}): {error}")
    return runners, missing


# ---------------------------------------------------------------------------------------
# Checks


def compare(outputs: np.ndarray, integr8_outputs: np.ndarray) -> dict:
    """LSB differences and top-1 agreement of an engine's int8 outputs with integr8's."""
    difference = outputs.astype(np.int32) - integr8_outputs.astype(np.int32)
    values, counts = np.unique(difference, return_counts=True)
    return {
        "samples": int(len(outputs)),
        "max_abs_lsb": int(np.abs(difference).max()),
        "lsb_histogram": {str(int(v)): int(c) for v, c in zip(values, counts)},
        "bitexact_samples": int(np.all(difference == 0, axis=1).sum()),
        "top1_agreement": float(np.mean(outputs.argmax(1) == integr8_outputs.argmax(1))),
    }


def check_model(name, model, graph, runner, onnx_models: dict, torch_int8: dict, inputs,
                images, labels, settings) -> dict:
    """Correctness before timing; raises BenchmarkError if integr8 differs from the
    reference anywhere, on the check set or on any timed batch and thread count."""
    import torch

    from integr8 import interpreter
    from integr8.train import pixels_to_input

    expected = np.concatenate([interpreter.run(graph, inputs[start:start + 1000])
                               for start in range(0, len(inputs), 1000)])
    actual = runner.run(inputs, threads=settings.all_cores)
    mismatched = np.flatnonzero(np.any(actual != expected, axis=1))
    if len(mismatched):
        raise BenchmarkError(f"{name}: integr8 differs from integr8.reference on "
                             f"{len(mismatched)} of {len(inputs)} images (first: "
                             f"{int(mismatched[0])}); refusing to report timings")
    for batch in settings.batches:
        for threads in settings.thread_counts:
            if not np.array_equal(runner.run(inputs[:batch], threads=threads), expected[:batch]):
                raise BenchmarkError(f"{name}: integr8 at batch {batch}, threads={threads} "
                                     "differs from integr8.reference")
    checks = {"samples": len(inputs),
              "integr8": {"bitexact_vs_reference": True,
                          "accuracy": float(np.mean(actual.argmax(1) == labels))}}
    for engine, onnx_model in onnx_models.items():
        output = onnx_model.session(1).run(None, onnx_model.feed(inputs))[0]
        checks[engine] = compare(onnx_model.int8_output(output), actual)
    for engine, torch_runner in torch_int8.items():
        checks[engine] = compare(torch_runner(inputs), actual)
    with torch.inference_mode():
        float_logits = model(pixels_to_input(images)).numpy()
    checks["torch float"] = {
        "samples": len(inputs),
        "top1_agreement": float(np.mean(float_logits.argmax(1) == actual.argmax(1))),
        "accuracy": float(np.mean(float_logits.argmax(1) == labels)),
    }
    return checks


# ---------------------------------------------------------------------------------------
# Timing


def time_model(name, model, runner, onnx_models: dict, torch_int8: dict, inputs, images,
               settings) -> list:
    import torch

    from integr8.train import pixels_to_input

    rows = []

    def record(engine, threads, batch, call):
        timing = median_seconds_per_call(call, settings)
        rows.append({"model": name, "engine": engine, "threads": threads, "batch": batch,
                     **timing, "per_inference_us": 1e6 * timing["median_s"] / batch})

    batches = {batch: np.ascontiguousarray(inputs[:batch]) for batch in settings.batches}
    float_batches = {batch: pixels_to_input(images[:batch]) for batch in settings.batches}

    def time_onnxruntime(engine, onnx_model, threads):
        # A session per thread count, released on return, before the next engine runs, so
        # that its spinning workers do not steal cycles from other measurements.
        session = onnx_model.session(threads)
        for batch, x in batches.items():
            feed = onnx_model.feed(x)
            record(engine, threads, batch,
                   lambda session=session, feed=feed: session.run(None, feed))

    threads_before = torch.get_num_threads()
    for threads in settings.thread_counts:
        for batch, x in batches.items():
            # One sample never takes more than one thread, and the call without the keyword
            # is the binding's cheapest: the single-sample path.
            record("integr8", threads, batch, (lambda x=x: runner.run(x)) if batch == 1
                   else (lambda x=x, threads=threads: runner.run(x, threads=threads)))
        for engine, onnx_model in onnx_models.items():
            time_onnxruntime(engine, onnx_model, threads)
        torch.set_num_threads(threads)
        with torch.inference_mode():
            for batch, x in float_batches.items():
                record("torch float", threads, batch, lambda x=x: model(x))
            for engine, torch_runner in torch_int8.items():
                for batch, x in batches.items():
                    record(engine, threads, batch,
                           lambda torch_runner=torch_runner, x=x: torch_runner(x))
    torch.set_num_threads(threads_before)
    return rows


def add_ratios(rows: list) -> None:
    """ratio_vs_integr8 = engine time / integr8 time at the same model, batch and threads."""
    integr8_us = {(r["model"], r["batch"], r["threads"]): r["per_inference_us"]
                  for r in rows if r["engine"] == "integr8"}
    for row in rows:
        row["ratio_vs_integr8"] = row["per_inference_us"] / integr8_us[
            (row["model"], row["batch"], row["threads"])]


# ---------------------------------------------------------------------------------------
# Report


def machine() -> dict:
    import onnx
    import onnxruntime
    import torch

    import integr8

    model_name = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model_name, "cores": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "onnx": onnx.__version__, "integr8": integr8.__version__,
            "torch_quantized_engines": list(torch.backends.quantized.supported_engines),
            # Other processes' load skews timings; recorded so that a reader can tell.
            "load_average_1_5_15_min": list(os.getloadavg()) if hasattr(os, "getloadavg")
            else None}


def format_us(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def markdown_table(rows: list, checks: dict, settings: Settings) -> str:
    header = ["model", "engine", "threads"]
    for batch in settings.batches:
        header += [f"batch {batch} µs/inf", "× integr8"]
    header += ["max Δ LSB", "top-1 = integr8"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_key = {(r["model"], r["engine"], r["threads"], r["batch"]): r for r in rows}
    for name in MODELS:
        for engine in ENGINES:
            for threads in settings.thread_counts:
                if (name, engine, threads, settings.batches[0]) not in by_key:
                    continue
                cells = [name, engine, str(threads)]
                for batch in settings.batches:
                    row = by_key[(name, engine, threads, batch)]
                    cells += [format_us(row["per_inference_us"]), f"{row['ratio_vs_integr8']:.2f}"]
                check = checks[name].get(engine, {})
                cells.append("0 (bit-exact vs reference)" if engine == "integr8"
                             else str(check.get("max_abs_lsb", "float")))
                agreement = check.get("top1_agreement")
                cells.append("—" if agreement is None else f"{100 * agreement:.2f}%")
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: batches {QUICK_BATCHES}, few repetitions, "
                             "128 check images")
    parser.add_argument("--out", default="side_by_side.json",
                        help="JSON file for every measurement (default: %(default)s)")
    args = parser.parse_args(argv)
    settings = Settings(args.quick)
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        print(f"side_by_side.py: {error}; install with: python3 -m pip install {PINS}",
              file=sys.stderr)
        return 2

    from integr8 import onnx_export

    try:
        dataset, test_images, test_labels = load_images()
        models = build_models()
        check_images = test_images[:settings.check_samples]
        rows, checks, notes = [], {}, []
        for name, (model, graph, runner) in models.items():
            inputs = quantized_inputs(graph, check_images)
            onnx_models = {engine: OnnxModel(graph, activations)
                           for engine, activations in ONNX_VARIANTS.items()}
            torch_int8, missing = torch_int8_engines(graph)
            notes += [f"{name}: not measured: {why}" for why in missing]
            checks[name] = check_model(name, model, graph, runner,
                                       onnx_models, torch_int8,
                                       inputs, check_images, test_labels[:len(inputs)],
                                       settings)
            rows += time_model(name, model, runner, onnx_models, torch_int8, inputs,
                               check_images, settings)
    except BenchmarkError as error:
        print(f"side_by_side.py: {error}", file=sys.stderr)
        return 1
    add_ratios(rows)

    info = machine()
    table = markdown_table(rows, checks, settings)
    print(f"Machine: {info['cpu']}, {info['cores']} cores; python {info['python']}, "
          f"numpy {info['numpy']}, torch {info['torch']}, onnxruntime {info['onnxruntime']}, "
          f"onnx {info['onnx']}, integr8 {info['integr8']}{' (--quick)' if args.quick else ''}; "
          f"load average at the end {info['load_average_1_5_15_min']}")
    print(f"Inputs: {dataset} test images ({settings.check_samples} checked, the first "
          f"{max(settings.batches)} timed); integr8 models: the bundled headers compiled by "
          "integr8.build for this machine, backend "
          + ", ".join(f"{name} {BACKENDS[name]}" for name in MODELS))
    if dataset != "mnist":
        print("MNIST is not installed (python3 -m integr8 data install-mnist), so the inputs "
              "are Fashion-MNIST images, on which these MNIST models are not accurate")
    print("µs/inf: median per-inference time; × integr8: that time over integr8's at the same "
          "batch and threads (> 1: integr8 is faster). Δ LSB and top-1 against integr8's "
          "int8 outputs on the checked images.\n")
    print(table)
    for name in MODELS:
        for engine in ENGINES[1:]:
            check = checks[name].get(engine, {})
            if "lsb_histogram" in check:
                print(f"{name} {engine} LSB differences vs integr8 (difference: count over "
                      f"{check['samples']} x 10 outputs): {check['lsb_histogram']}")
    print("integr8 accuracy on the checked images: " + ", ".join(
        f"{name} {100 * checks[name]['integr8']['accuracy']:.2f}%" for name in MODELS))
    for note in notes:
        print(note)

    result = {"machine": info, "dataset": dataset, "quick": args.quick,
              "batches": list(settings.batches), "thread_counts": settings.thread_counts,
              "integr8_models": {name: f"integr8.build(mnist_{name}.h), backend {BACKENDS[name]}"
                                 for name in MODELS},
              "checks": checks, "timings": rows, "notes": notes,
              "torch_int8_status": TORCH_INT8_STATUS,
              "onnx_format": f"QOperator, ai.onnx opset {onnx_export.OPSET} + com.microsoft "
                             "(QLinearConv, QGemm, MaxPool); int8 weights, int8 (s8s8) or "
                             "uint8 (u8s8) activations",
              "markdown_table": table}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
