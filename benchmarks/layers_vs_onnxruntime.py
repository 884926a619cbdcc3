#!/usr/bin/env python3
"""integr8's kernels against onnxruntime's int8 kernels, one large layer at a time.

    python3 -m pip install . onnxruntime==1.32.0 onnx==1.23.2
    python3 benchmarks/layers_vs_onnxruntime.py [--quick] [--out layers.json]

The kernel-level lane of benchmarks/side_by_side.py (whose timing, checking and ONNX helpers
it uses). Each layer is a one-layer QuantizedGraph built here with seeded random int8 weights
and per-channel requantization (multipliers spread over +-40% around a scale that keeps the
outputs off the clamps, as a calibrated layer's are):

- Linear 1024 -> 1024 at batch 1 and 64;
- Conv2d 64 -> 64, 3x3, padding 1, on 32x32 (batch 1);
- depthwise Conv2d, 64 channels, 3x3, padding 1, on 32x32 (batch 1).

integr8 runs the graph's header (integr8.export, in a temporary directory) compiled by
``integr8.build`` for this machine (the x86 AVX2 backend where the CPU has it) through
``Model().run(batch, threads=...)``, which runs up to 64 samples at once through
``Model::InvokeBatch`` (a batched GEMM for the Linear layer; convolutions run sample by
sample) and splits the batch over the threads. onnxruntime runs
the same graph exported by integr8.onnx_export (QGemm, QLinearConv) with int8 activations
(s8s8) and with uint8 ones (u8s8, the same real values; its fastest form on x86).

Before timing, integr8's outputs must equal the NumPy reference (integr8.reference) bit for
bit at every timed batch and thread count, or the script exits with status 1 without a table;
onnxruntime's outputs are compared with integr8's (it requantizes with float scales, and
without AVX-VNNI its u8s8 kernels add pairs of products in saturating int16, which the
uniformly random full-range inputs here hit often: see side_by_side.py).

Times are medians per call, with one thread (``threads=1``, ``intra_op_num_threads=1``) and
with every core; GMAC/s counts the layer's multiply-accumulates over that time. One Markdown
table goes to stdout, and everything measured to the JSON file ``--out`` if given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import sys
import tempfile

import numpy as np

# side_by_side.py sits next to this script, which is run as a file, not as a package module.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from side_by_side import (ONNX_VARIANTS, PINS, BenchmarkError, OnnxModel,  # noqa: E402
                          Settings, compare, format_us, machine, median_seconds_per_call)

SEED = 20240611
# A hidden layer's input: post-ReLU int8 (zero point at the bottom of the range).
INPUT_QUANT = (0.05, -128)
OUTPUT_SCALE = 0.1


@dataclasses.dataclass(frozen=True)
class LayerCase:
    label: str
    graph: object  # integr8.qgraph.QuantizedGraph of one layer
    batches: tuple[int, ...]
    macs_per_sample: int


# ---------------------------------------------------------------------------------------
# One-layer graphs


def per_channel_requantization(rng, channels: int, products: int, output_zero_point: int,
                               activation_min: int):
    """Per-channel multipliers mapping an accumulator of `products` uniform int8 products
    (standard deviation about sqrt(products) * 74 * 73) to outputs spread over a few dozen
    steps, each channel's scale within +-40% of the others."""
    from integr8 import qgraph, reference

    reals = 40.0 / (math.sqrt(products) * 5400.0) * rng.uniform(0.6, 1.4, size=channels)
    pairs = [reference.quantize_multiplier(float(real)) for real in reals]
    return qgraph.Requantization(
        multipliers=np.array([m for m, _ in pairs], dtype=np.int64),
        shifts=np.array([n for _, n in pairs], dtype=np.int64),
        output_zero_point=output_zero_point, activation_min=activation_min,
        activation_max=reference.INT8_MAX)


def one_layer_graph(name: str, layer):
    from integr8 import qgraph

    return qgraph.QuantizedGraph(name=name, input_shape=layer.input_shape,
                                 input=qgraph.Quant(*INPUT_QUANT), layers=(layer,))


def linear_case(rng, inputs: int, outputs: int, batches: tuple[int, ...]) -> LayerCase:
    from integr8 import qgraph, reference

    output_zero_point = 3  # no clamp: a logits-like Linear keeps negative values
    layer = qgraph.Linear(
        name="fc", source="benchmark", input_shape=qgraph.Shape(1, 1, inputs),
        output_shape=qgraph.Shape(1, 1, outputs),
        output=qgraph.Quant(OUTPUT_SCALE, output_zero_point),
        weights=rng.integers(-127, 128, size=(outputs, inputs)).astype(np.int8),
        bias=rng.integers(-3000, 3000, size=outputs).astype(np.int32),
        requantization=per_channel_requantization(rng, outputs, inputs, output_zero_point,
                                                  reference.INT8_MIN))
    return LayerCase(f"Linear {inputs}→{outputs}", one_layer_graph(
        f"linear_{inputs}x{outputs}", layer), batches, inputs * outputs)


def conv_case(rng, channels: int, size: int, *, depthwise: bool) -> LayerCase:
    from integr8 import qgraph

    output_zero_point = -128  # fused ReLU: the clamp starts at the zero point
    common = dict(
        source="benchmark", input_shape=qgraph.Shape(size, size, channels),
        output_shape=qgraph.Shape(size, size, channels),
        output=qgraph.Quant(OUTPUT_SCALE, output_zero_point),
        bias=rng.integers(-3000, 3000, size=channels).astype(np.int32),
        stride=(1, 1), padding=(1, 1), dilation=(1, 1), input_zero_point=INPUT_QUANT[1])
    if depthwise:
        layer = qgraph.DepthwiseConv2d(
            name="depthwise", **common, depth_multiplier=1,
            filter=rng.integers(-127, 128, size=(1, 3, 3, channels)).astype(np.int8),
            requantization=per_channel_requantization(rng, channels, 9, output_zero_point,
                                                      output_zero_point))
        return LayerCase(f"depthwise {channels}ch 3x3 {size}x{size}", one_layer_graph(
            f"depthwise_{channels}_3x3_{size}x{size}", layer), (1,), size * size * channels * 9)
    layer = qgraph.Conv2d(
        name="conv", **common, groups=1,
        filter=rng.integers(-127, 128, size=(channels, 3, 3, channels)).astype(np.int8),
        requantization=per_channel_requantization(rng, channels, 9 * channels,
                                                  output_zero_point, output_zero_point))
    return LayerCase(f"Conv2d {channels}→{channels} 3x3 {size}x{size}", one_layer_graph(
        f"conv_{channels}x{channels}_3x3_{size}x{size}", layer), (1,),
        size * size * channels * 9 * channels)


def layer_cases(quick: bool) -> list:
    """The issue's shapes, or tiny ones for a smoke run (same kinds, same code paths)."""
    rng = np.random.default_rng(SEED)
    if quick:
        return [linear_case(rng, 64, 32, (1, 4)), conv_case(rng, 8, 8, depthwise=False),
                conv_case(rng, 8, 8, depthwise=True)]
    return [linear_case(rng, 1024, 1024, (1, 64)), conv_case(rng, 64, 32, depthwise=False),
            conv_case(rng, 64, 32, depthwise=True)]


def build_runner(graph, directory: pathlib.Path):
    """(Model instance, backend name) of the graph's header compiled by integr8.build."""
    import integr8
    from integr8 import export

    header = export.export_header(graph, directory, command="benchmarks/layers_vs_onnxruntime.py",
                                  checkpoint_sha256=None)
    module = integr8.build(header)
    return module.Model(), module.backend


# ---------------------------------------------------------------------------------------
# Check, then time


def check_case(case: LayerCase, runner, onnx_models: dict, inputs: np.ndarray,
               settings: Settings) -> dict:
    """Raises BenchmarkError unless integr8 equals the reference bit for bit on every timed
    call form; returns onnxruntime's differences from integr8."""
    from integr8 import interpreter

    expected = interpreter.run(case.graph, inputs)
    calls = {f"batch {batch}, threads={threads}": (lambda b=batch, t=threads:
                                                   runner.run(inputs[:b], threads=t))
             for batch in case.batches for threads in settings.thread_counts}
    calls["batch 1, run(sample)"] = lambda: runner.run(inputs[:1])
    for form, call in calls.items():
        actual = call()
        if not np.array_equal(actual, expected[:len(actual)]):
            raise BenchmarkError(f"{case.label}: integr8 at {form} differs from "
                                 "integr8.reference; refusing to report timings")
    checks = {"samples": len(inputs), "integr8": {"bitexact_vs_reference": True}}
    for engine, onnx_model in onnx_models.items():
        output = onnx_model.session(1).run(None, onnx_model.feed(inputs))[0]
        difference = compare(onnx_model.int8_output(output), expected)
        del difference["top1_agreement"]  # one layer's outputs are not class scores
        checks[engine] = difference
    return checks


def time_case(case: LayerCase, runner, onnx_models: dict, inputs: np.ndarray,
              settings: Settings) -> list:
    rows = []

    def record(engine, threads, batch, call):
        timing = median_seconds_per_call(call, settings)
        rows.append({"layer": case.label, "engine": engine, "threads": threads, "batch": batch,
                     **timing, "us_per_call": 1e6 * timing["median_s"],
                     "gmac_per_s": case.macs_per_sample * batch / timing["median_s"] / 1e9})

    batches = {batch: np.ascontiguousarray(inputs[:batch]) for batch in case.batches}
    for threads in settings.thread_counts:
        for batch, x in batches.items():
            # As in side_by_side.py: run(sample) is the binding's single-sample path, and one
            # sample never takes more than one thread.
            record("integr8", threads, batch, (lambda x=x: runner.run(x)) if batch == 1
                   else (lambda x=x, threads=threads: runner.run(x, threads=threads)))
        for engine, onnx_model in onnx_models.items():
            # One session at a time, released before the next, so that its idle workers do
            # not spin against other measurements.
            session = onnx_model.session(threads)
            for batch, x in batches.items():
                feed = onnx_model.feed(x)
                record(engine, threads, batch,
                       lambda session=session, feed=feed: session.run(None, feed))
            del session
    return rows


def add_speedups(rows: list) -> None:
    """integr8_speedup = engine time / integr8 time at the same layer, batch and threads:
    integr8's throughput over the engine's (>= 1: integr8 at least as fast)."""
    integr8_s = {(r["layer"], r["batch"], r["threads"]): r["median_s"]
                 for r in rows if r["engine"] == "integr8"}
    for row in rows:
        row["integr8_speedup"] = row["median_s"] / integr8_s[
            (row["layer"], row["batch"], row["threads"])]


# ---------------------------------------------------------------------------------------
# Report


def markdown_table(rows: list, checks: dict) -> str:
    header = ["layer", "batch", "threads", "integr8 µs", "integr8 GMAC/s"]
    for engine in ONNX_VARIANTS:
        header += [f"{engine} µs", "GMAC/s", "integr8 ÷ ort", "max Δ LSB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_key = {(r["layer"], r["batch"], r["threads"], r["engine"]): r for r in rows}
    for (layer, batch, threads, engine), row in by_key.items():
        if engine != "integr8":
            continue
        cells = [layer, str(batch), str(threads), format_us(row["us_per_call"]),
                 f"{row['gmac_per_s']:.1f}"]
        for onnx_engine in ONNX_VARIANTS:
            other = by_key[(layer, batch, threads, onnx_engine)]
            cells += [format_us(other["us_per_call"]), f"{other['gmac_per_s']:.1f}",
                      f"**{other['integr8_speedup']:.2f}**",
                      str(checks[layer][onnx_engine]["max_abs_lsb"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: tiny layers of the same kinds, few repetitions")
    parser.add_argument("--out", help="JSON file for every measurement")
    args = parser.parse_args(argv)
    settings = Settings(args.quick)
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        print(f"layers_vs_onnxruntime.py: {error}; install with: python3 -m pip install {PINS}",
              file=sys.stderr)
        return 2

    rows, checks, backends = [], {}, {}
    try:
        with tempfile.TemporaryDirectory(prefix="integr8-layers-") as directory:
            for case in layer_cases(args.quick):
                runner, backends[case.label] = build_runner(case.graph, pathlib.Path(directory))
                onnx_models = {engine: OnnxModel(case.graph, activations)
                               for engine, activations in ONNX_VARIANTS.items()}
                shape = case.graph.input_shape.as_tuple()
                inputs = np.random.default_rng(SEED).integers(
                    -128, 128, size=(max(case.batches), *shape), dtype=np.int8)
                checks[case.label] = check_case(case, runner, onnx_models, inputs, settings)
                rows += time_case(case, runner, onnx_models, inputs, settings)
    except BenchmarkError as error:
        print(f"layers_vs_onnxruntime.py: {error}", file=sys.stderr)
        return 1
    add_speedups(rows)

    info = machine()
    table = markdown_table(rows, checks)
    print(f"Machine: {info['cpu']}, {info['cores']} cores; python {info['python']}, "
          f"numpy {info['numpy']}, onnxruntime {info['onnxruntime']}, onnx {info['onnx']}, "
          f"integr8 {info['integr8']}{' (--quick)' if args.quick else ''}; "
          f"load average at the end {info['load_average_1_5_15_min']}")
    print("integr8: each layer's header compiled by integr8.build, backend "
          + ", ".join(sorted(set(backends.values())))
          + "; batch 64 is one Model.run call, which runs the samples through InvokeBatch "
          "(the threads split the samples; batch 1 runs on one thread)")
    print("µs: median per call (one run / session.run of the whole batch); integr8 ÷ ort: "
          "integr8's throughput over onnxruntime's at the same batch and threads (>= 1: "
          "integr8 at least as fast); max Δ LSB: onnxruntime's int8 outputs against integr8's, "
          "which equal integr8.reference bit for bit; inputs uniformly random int8.\n")
    print(table)
    for label, check in checks.items():
        for engine in ONNX_VARIANTS:
            print(f"{label} {engine} LSB differences vs integr8 (difference: count over "
                  f"{check['samples']} samples): {check[engine]['lsb_histogram']}")

    if args.out:
        result = {"machine": info, "quick": args.quick, "thread_counts": settings.thread_counts,
                  "layers": {case: {"backend": backends[case], **checks[case]}
                             for case in checks},
                  "timings": rows, "markdown_table": table}
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
