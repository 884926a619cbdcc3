"""Tests of integr8.export: generated model headers.

Small QuantizedGraphs are built by hand with valid integer parameters; their headers are
compiled on their own (g++ and clang++, -Werror with the project's warning set), run on
random inputs and compared bit for bit with the NumPy reference. The rest checks what a header
must be without a compiler: byte-identical regeneration, atomic writing, refusals (path
traversal, foreign files, identifier collisions) and harmless rendering of user text.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

from integr8 import export, interpreter
from integr8 import qgraph, spec
from integr8 import reference as ref
from integr8.qgraph import Quant, Shape

REPO = pathlib.Path(__file__).resolve().parents[2]
CXX_WARNING_FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion",
                     "-Wsign-conversion", "-Wshadow", "-Werror"]
CXX_FLAGS = [*CXX_WARNING_FLAGS, f"-I{REPO / 'include'}"]
COMPILERS = ("g++", "clang++")
SAMPLES = 6
SHA = "0123456789abcdef" * 4

# A command line that tries to escape its comment in every way a // comment can be escaped:
# newlines, a trailing backslash (line splicing), block-comment delimiters, a trigraph.
INJECTED_COMMAND = ('integr8 export */ /* --out x\n#include "/nonexistent/injected.h"\r\n'
                    'int injected_line = 1; \\\nint injected_splice = 2; ??/\n'
                    '\u2028int injected_unicode = 3; \\')


# ---------------------------------------------------------------------------------------
# Hand-built graphs


def _requant(rng, channels, products, output: Quant, *, per_channel=True, act=None):
    """Multipliers that map accumulators of `products` random int8 products to outputs
    spread over a few dozen steps, so that the comparisons below are not all saturated."""
    count = channels if per_channel else 1
    # acc has a standard deviation of about sqrt(K) * 74 * 73 for uniform x and w.
    reals = 40.0 / (math.sqrt(products) * 5400.0) * rng.uniform(0.6, 1.4, size=count)
    pairs = [ref.quantize_multiplier(float(real)) for real in reals]
    lo, hi = act if act is not None else (ref.INT8_MIN, ref.INT8_MAX)
    return qgraph.Requantization(
        multipliers=np.array([m for m, _ in pairs], dtype=np.int64),
        shifts=np.array([n for _, n in pairs], dtype=np.int64),
        output_zero_point=output.zero_point, activation_min=lo, activation_max=hi)


def _relu_range(quant: Quant):
    return (max(ref.INT8_MIN, quant.zero_point), ref.INT8_MAX)


def _relu6_range(quant: Quant):
    return (max(ref.INT8_MIN, quant.zero_point),
            min(ref.INT8_MAX, quant.zero_point + math.floor(6 / quant.scale + 0.5)))


def _linear(rng, name, input_shape, input_quant, outputs, output, *, per_channel=True,
            act=None, source=None):
    inputs = input_shape.elements
    return qgraph.Linear(
        name=name, source=source or name.replace("_", "."), input_shape=input_shape,
        output_shape=Shape(1, 1, outputs), output=output,
        weights=rng.integers(-127, 128, size=(outputs, inputs)).astype(np.int8),
        bias=rng.integers(-3000, 3000, size=outputs).astype(np.int32),
        requantization=_requant(rng, outputs, inputs, output, per_channel=per_channel,
                                act=act))


def _conv(rng, name, input_shape, input_quant, out_channels, output, *, kernel=(3, 3),
          stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, act=None):
    kh, kw = kernel
    oh = ref.window_output_extent(input_shape.height, kh, stride[0], dilation[0], padding[0],
                                  False)
    ow = ref.window_output_extent(input_shape.width, kw, stride[1], dilation[1], padding[1],
                                  False)
    per_group = input_shape.channels // groups
    return qgraph.Conv2d(
        name=name, source=name.replace("_", "."), input_shape=input_shape,
        output_shape=Shape(oh, ow, out_channels), output=output,
        filter=rng.integers(-127, 128, size=(out_channels, kh, kw, per_group)).astype(np.int8),
        bias=rng.integers(-3000, 3000, size=out_channels).astype(np.int32),
        stride=stride, padding=padding, dilation=dilation, groups=groups,
        input_zero_point=input_quant.zero_point,
        requantization=_requant(rng, out_channels, kh * kw * per_group, output, act=act))


def _depthwise(rng, name, input_shape, input_quant, depth_multiplier, output, *,
               kernel=(3, 3), stride=(1, 1), padding=(1, 1), act=None):
    kh, kw = kernel
    channels = input_shape.channels * depth_multiplier
    oh = ref.window_output_extent(input_shape.height, kh, stride[0], 1, padding[0], False)
    ow = ref.window_output_extent(input_shape.width, kw, stride[1], 1, padding[1], False)
    return qgraph.DepthwiseConv2d(
        name=name, source=name.replace("_", "."), input_shape=input_shape,
        output_shape=Shape(oh, ow, channels), output=output,
        filter=rng.integers(-127, 128, size=(1, kh, kw, channels)).astype(np.int8),
        bias=rng.integers(-3000, 3000, size=channels).astype(np.int32),
        stride=stride, padding=padding, dilation=(1, 1), depth_multiplier=depth_multiplier,
        input_zero_point=input_quant.zero_point,
        requantization=_requant(rng, channels, kh * kw, output, act=act))


def _pool(name, kind, input_shape, quant, *, kernel, stride, padding=(0, 0), ceil_mode=False,
          count_include_pad=True):
    oh = ref.window_output_extent(input_shape.height, kernel[0], stride[0], 1, padding[0],
                                  ceil_mode)
    ow = ref.window_output_extent(input_shape.width, kernel[1], stride[1], 1, padding[1],
                                  ceil_mode)
    return qgraph.Pool2d(
        name=name, source=name.replace("_", "."), input_shape=input_shape,
        output_shape=Shape(oh, ow, input_shape.channels), output=quant, kind=kind,
        kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, input_zero_point=quant.zero_point,
        activation_min=ref.INT8_MIN, activation_max=ref.INT8_MAX)


def _relu(name, shape, quant, clamp):
    return qgraph.Relu(name=name, source=name.replace("_", "."), input_shape=shape,
                       output_shape=shape, output=quant, activation_min=clamp[0],
                       activation_max=clamp[1])


def _residual(name, body, input_quant: Quant, output: Quant, *, act=None):
    """add(input, body(input)) with the spec's multipliers (section 6) from the scales."""
    s_a, s_b = input_quant.scale, body[-1].output.scale
    s_max = max(s_a, s_b)
    m_a, n_a = ref.quantize_multiplier(s_a / (2 * s_max))
    m_b, n_b = ref.quantize_multiplier(s_b / (2 * s_max))
    m_o, n_o = ref.quantize_multiplier(2 * s_max / (2**ref.ADD_LEFT_SHIFT * output.scale))
    lo, hi = act if act is not None else (ref.INT8_MIN, ref.INT8_MAX)
    return qgraph.Residual(
        name=name, source=name.replace("_", "."), input_shape=body[0].input_shape,
        output_shape=body[0].input_shape, output=output, body=tuple(body),
        input_zero_point=input_quant.zero_point, input_multiplier=m_a, input_shift=n_a,
        body_zero_point=body[-1].output.zero_point, body_multiplier=m_b, body_shift=n_b,
        requantization=qgraph.Requantization(
            multipliers=np.array([m_o], dtype=np.int64), shifts=np.array([n_o], dtype=np.int64),
            output_zero_point=output.zero_point, activation_min=lo, activation_max=hi))


def build_mlp(name="mlp", metadata=None):
    """Linear chain: per-channel + fused ReLU, per-tensor, standalone ReLU6, per-tensor."""
    rng = np.random.default_rng(1)
    x_shape, x_quant = Shape(1, 1, 12), Quant(0.02, -10)
    q1, q2, q3 = Quant(0.05, -20), Quant(0.1, 5), Quant(0.2, 0)
    fc1 = _linear(rng, "fc1", x_shape, x_quant, 8, q1, act=_relu_range(q1))
    fc2 = _linear(rng, "fc2", fc1.output_shape, q1, 6, q2, per_channel=False)
    act = _relu("act", fc2.output_shape, q2, _relu6_range(q2))
    fc3 = _linear(rng, "fc3", act.output_shape, q2, 3, q3, per_channel=False,
                  source="head.fc */ evil\n#define X")
    metadata = {"observer": "minmax", "calibration_samples": 256} if metadata is None else metadata
    return qgraph.QuantizedGraph(name=name, input_shape=x_shape, input=x_quant,
                                 layers=(fc1, fc2, act, fc3), metadata=metadata)


def build_convnet():
    """Conv (ReLU), grouped dilated conv, depthwise (ReLU6), max/avg pools, ReLU, Linear."""
    rng = np.random.default_rng(2)
    x_shape, x_quant = Shape(8, 8, 3), Quant(0.03, 7)
    q1, q2, q3 = Quant(0.04, -30), Quant(0.05, 3), Quant(0.06, -60)
    conv1 = _conv(rng, "features_0", x_shape, x_quant, 4, q1, act=_relu_range(q1))
    conv2 = _conv(rng, "features_2", conv1.output_shape, q1, 4, q2, padding=(2, 2),
                  dilation=(2, 2), groups=2)
    dw = _depthwise(rng, "features_3", conv2.output_shape, q2, 2, q3, stride=(2, 2),
                    act=_relu6_range(q3))
    maxpool = _pool("features_4", "max", dw.output_shape, q3, kernel=(3, 3), stride=(2, 2),
                    padding=(1, 1), ceil_mode=True)
    relu = _relu("features_5", maxpool.output_shape, q3, (-40, 127))
    avg1 = _pool("features_6", "avg", relu.output_shape, q3, kernel=(2, 2), stride=(1, 1),
                 padding=(1, 1), count_include_pad=False)
    avg2 = _pool("features_7", "avg", avg1.output_shape, q3, kernel=(3, 3), stride=(2, 2),
                 padding=(1, 1), count_include_pad=True)
    fc = _linear(rng, "classifier", avg2.output_shape, q3, 5, Quant(0.25, 10))
    layers = (conv1, conv2, dw, maxpool, relu, avg1, avg2, fc)
    return qgraph.QuantizedGraph(name="convnet", input_shape=x_shape, input=x_quant,
                                 layers=layers, metadata={"observer": "histogram"})


def build_resnet():
    """A stem, a residual block, a block nesting another block, global average pool, head."""
    rng = np.random.default_rng(3)
    x_shape, x_quant = Shape(4, 4, 4), Quant(0.05, 3)
    q_stem = Quant(0.06, -40)
    stem = _conv(rng, "stem", x_shape, x_quant, 6, q_stem, kernel=(1, 1), padding=(0, 0),
                 act=_relu_range(q_stem))
    shape = stem.output_shape
    q_c1, q_c2, q_b1 = Quant(0.05, -50), Quant(0.08, 2), Quant(0.07, -5)
    b1_conv1 = _conv(rng, "layer1_conv1", shape, q_stem, 6, q_c1, act=_relu_range(q_c1))
    b1_conv2 = _conv(rng, "layer1_conv2", shape, q_c1, 6, q_c2)
    block1 = _residual("layer1", [b1_conv1, b1_conv2], q_stem, q_b1, act=_relu_range(q_b1))
    q_inner_conv, q_inner, q_b2 = Quant(0.04, 9), Quant(0.09, -3), Quant(0.1, 0)
    inner_conv = _conv(rng, "layer2_inner_conv", shape, q_b1, 6, q_inner_conv, kernel=(1, 1),
                       padding=(0, 0))
    inner = _residual("layer2_inner", [inner_conv], q_b1, q_inner)
    b2_dw = _depthwise(rng, "layer2_dw", shape, q_inner, 1, Quant(0.05, -1))
    block2 = _residual("layer2", [inner, b2_dw], q_b1, q_b2)
    gap = _pool("pool", "avg", shape, q_b2, kernel=(4, 4), stride=(1, 1))
    head = _linear(rng, "head", gap.output_shape, q_b2, 3, Quant(0.2, -7))
    return qgraph.QuantizedGraph(name="resnet", input_shape=x_shape, input=x_quant,
                                 layers=(stem, block1, block2, gap, head),
                                 metadata={"observer": "minmax", "calibration_samples": 64})


# Every compiled graph, with an array to compare across translation units.
GRAPHS = {
    "mlp": (build_mlp, "kFc1Weights"),
    "convnet": (build_convnet, "kFeatures0Filter"),
    "resnet": (build_resnet, "kLayer1Conv2Filter"),
}


# ---------------------------------------------------------------------------------------
# NumPy reference, layer by layer


def _reference_layer(layer, x):
    n = x.shape[0]
    out_shape = (n,) + layer.output_shape.as_tuple()
    if isinstance(layer, qgraph.Linear):
        rq = layer.requantization
        y = ref.linear(x.reshape(n, -1), layer.weights, layer.bias, multiplier=rq.multipliers,
                       shift=rq.shifts, output_zero_point=rq.output_zero_point,
                       activation_min=rq.activation_min, activation_max=rq.activation_max)
        return y.reshape(out_shape)
    if isinstance(layer, qgraph.Conv2d):
        rq = layer.requantization
        return ref.conv2d(x, layer.filter, layer.bias, stride=layer.stride,
                          padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
                          input_zero_point=layer.input_zero_point, multiplier=rq.multipliers,
                          shift=rq.shifts, output_zero_point=rq.output_zero_point,
                          activation_min=rq.activation_min, activation_max=rq.activation_max)
    if isinstance(layer, qgraph.DepthwiseConv2d):
        rq = layer.requantization
        return ref.depthwise_conv2d(
            x, layer.filter, layer.bias, depth_multiplier=layer.depth_multiplier,
            stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
            input_zero_point=layer.input_zero_point, multiplier=rq.multipliers,
            shift=rq.shifts, output_zero_point=rq.output_zero_point,
            activation_min=rq.activation_min, activation_max=rq.activation_max)
    if isinstance(layer, qgraph.Pool2d):
        common = dict(kernel=layer.kernel, stride=layer.stride, padding=layer.padding,
                      ceil_mode=layer.ceil_mode, activation_min=layer.activation_min,
                      activation_max=layer.activation_max)
        if layer.kind == "max":
            return ref.max_pool2d(x, **common)
        return ref.avg_pool2d(x, count_include_pad=layer.count_include_pad,
                              input_zero_point=layer.input_zero_point, **common)
    if isinstance(layer, qgraph.Relu):
        return ref.relu(x, activation_min=layer.activation_min,
                        activation_max=layer.activation_max)
    if isinstance(layer, qgraph.Residual):
        body = _reference_chain(layer.body, x)
        rq = layer.requantization
        return ref.add(x, body, a_zero_point=layer.input_zero_point,
                       a_multiplier=layer.input_multiplier, a_shift=layer.input_shift,
                       b_zero_point=layer.body_zero_point, b_multiplier=layer.body_multiplier,
                       b_shift=layer.body_shift, output_multiplier=int(rq.multipliers[0]),
                       output_shift=int(rq.shifts[0]), output_zero_point=rq.output_zero_point,
                       activation_min=rq.activation_min, activation_max=rq.activation_max)
    raise AssertionError(f"unknown layer {layer!r}")


def _reference_chain(layers, x):
    for layer in layers:
        x = _reference_layer(layer, x)
    return x


def reference_outputs(graph, x):
    """int8 [N, outputs]: the layer-by-layer chain, which integr8.interpreter.run equals."""
    expected = _reference_chain(graph.layers, x).reshape(x.shape[0], -1)
    np.testing.assert_array_equal(interpreter.run(graph, x), expected)
    return expected


def _inputs(graph):
    rng = np.random.default_rng(100)
    return rng.integers(-128, 128, size=(SAMPLES,) + graph.input_shape.as_tuple()).astype(np.int8)


# ---------------------------------------------------------------------------------------
# Building and running generated headers


def _main_source(graph, x, array_name):
    name = graph.name
    values = ", ".join(str(int(v)) for v in x.reshape(-1))
    return f"""// Runs integr8_models::{name}::Model on embedded inputs, one output row per sample.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "{name}.h"
#include "{name}.h"  // the include guard makes a second inclusion harmless

namespace model = integr8_models::{name};

const int8_t* SecondUnitArray();

namespace {{

constexpr int kSamples = {x.shape[0]};
alignas(16) const int8_t kInputs[kSamples * model::Model::kInputElements] = {{{values}}};
alignas(16) int8_t g_arena[model::kArenaBytes > 0 ? model::kArenaBytes : 1];

static_assert(model::Model::kInputElements ==
                  model::kInputHeight * model::kInputWidth * model::kInputChannels,
              "input constants disagree with the graph");
static_assert(model::Model::kOutputElements == model::kOutputElements,
              "output constants disagree with the graph");

}}  // namespace

int main() {{
  // inline variables have one address in the whole program, not one per translation unit.
  if (SecondUnitArray() != &model::{array_name}[0]) {{
    std::printf("array duplicated across translation units\\n");
    return 3;
  }}
  std::printf("arena %zu weights %d zp %d %d scale %d %d %d %d\\n", model::kArenaBytes,
              model::kWeightBytes, model::kInputZeroPoint, model::kOutputZeroPoint,
              model::kInputScaleMultiplier, model::kInputScaleShift,
              model::kOutputScaleMultiplier, model::kOutputScaleShift);
  for (int sample = 0; sample < kSamples; ++sample) {{
    int8_t output[model::kOutputElements];
    const integr8::Status status =
        model::Model::Invoke(&kInputs[sample * model::Model::kInputElements], output, g_arena,
                             sizeof g_arena);
    if (status != integr8::Status::kOk) {{
      std::printf("status %s\\n", integr8::StatusName(status));
      return 2;
    }}
    for (int i = 0; i < model::kOutputElements; ++i) std::printf("%d ", output[i]);
    std::printf("\\n");
  }}
  return 0;
}}
"""


def _second_source(graph, array_name):
    return f"""#include <cstdint>

#include "{graph.name}.h"

const int8_t* SecondUnitArray();
const int8_t* SecondUnitArray() {{ return &integr8_models::{graph.name}::{array_name}[0]; }}
"""


# Graphs compiled again against a copy of the headers whose params structs list their fields
# in reverse order: the exporter assigns every field by name, so nothing may change.
PERMUTED_GRAPHS = ("convnet", "resnet")


def _permuted_include(root: pathlib.Path) -> pathlib.Path:
    """A copy of include/ in which every *Params struct of types.h has its fields reversed."""
    target = root / "permuted_include"
    shutil.copytree(REPO / "include", target)
    types = target / "integr8" / "types.h"

    def reverse(match):
        fields = match.group(2).splitlines()
        assert all(line.strip().endswith(";") or "//" in line for line in fields), fields
        return f"struct {match.group(1)} {{\n" + "\n".join(reversed(fields)) + "\n};"

    text, count = re.subn(r"struct (\w+Params) \{\n(.*?)\n\};", reverse, types.read_text(),
                          flags=re.DOTALL)
    assert count >= 7  # Requantize, Linear, Conv2d, DepthwiseConv2d, Pool2d, Add, Relu
    types.write_text(text)
    return target


def _available_compilers():
    return [compiler for compiler in COMPILERS if shutil.which(compiler)]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Exports every graph, then compiles (in parallel) and runs one program per graph and
    compiler, plus a syntax check of a header exported for the wrong spec version."""
    compilers = _available_compilers()
    if not compilers:
        pytest.skip("neither g++ nor clang++ is installed")
    root = tmp_path_factory.mktemp("export_builds")
    jobs = {}  # key -> (argv, cwd)
    graphs = {}
    for key, (build, array_name) in GRAPHS.items():
        graph = build()
        directory = root / key
        directory.mkdir()
        command = INJECTED_COMMAND if key == "mlp" else f"integr8 export {key}"
        header = export.export_header(graph, directory, command=command,
                                      checkpoint_sha256=SHA)
        x = _inputs(graph)
        graphs[key] = (graph, x, header)
        (directory / "main.cpp").write_text(_main_source(graph, x, array_name))
        (directory / "second.cpp").write_text(_second_source(graph, array_name))
        for compiler in compilers:
            jobs[(key, compiler)] = [compiler, *CXX_FLAGS, f"-I{directory}", "main.cpp",
                                     "second.cpp", "-o", f"run_{compiler}"], directory

    permuted = _permuted_include(root)
    for key in PERMUTED_GRAPHS:
        directory = graphs[key][2].parent
        for compiler in compilers:
            jobs[(f"{key}_permuted", compiler)] = (
                [compiler, *CXX_WARNING_FLAGS, f"-I{permuted}", f"-I{directory}", "main.cpp",
                 "second.cpp", "-o", f"run_permuted_{compiler}"], directory)

    mismatch_dir = root / "mismatch"
    mismatch_dir.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(export, "SPEC_VERSION", export.SPEC_VERSION + 1)
        export.export_header(build_mlp(), mismatch_dir, command="integr8 export mlp",
                             checkpoint_sha256=None)
    (mismatch_dir / "main.cpp").write_text('#include "mlp.h"\nint main() { return 0; }\n')
    for compiler in compilers:
        jobs[("mismatch", compiler)] = [compiler, *CXX_FLAGS, f"-I{mismatch_dir}",
                                        "-fsyntax-only", "main.cpp"], mismatch_dir

    def compile_one(item):
        key, (argv, cwd) = item
        return key, subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        compiled = dict(pool.map(compile_one, jobs.items()))
    runs = {}
    for (key, compiler), result in compiled.items():
        if key != "mismatch" and result.returncode == 0:
            graph_key, permuted_key = key.removesuffix("_permuted"), key.endswith("_permuted")
            program = f"run_permuted_{compiler}" if permuted_key else f"run_{compiler}"
            runs[(key, compiler)] = subprocess.run(
                [str(root / graph_key / program)], capture_output=True, text=True, timeout=60)
    return {"graphs": graphs, "compiled": compiled, "runs": runs}


def _need(compiler):
    if not shutil.which(compiler):
        pytest.skip(f"{compiler} is not installed")


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("key", sorted(GRAPHS))
def test_generated_header_compiles_and_matches_reference(builds, key, compiler):
    _need(compiler)
    compiled = builds["compiled"][(key, compiler)]
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stderr == ""  # not even a warning without -Werror's help
    run = builds["runs"][(key, compiler)]
    assert run.returncode == 0, run.stdout + run.stderr
    graph, x, _ = builds["graphs"][key]
    lines = run.stdout.strip().splitlines()
    header_line, rows = lines[0], lines[1:]
    in_m, in_n = ref.quantize_multiplier(graph.input.scale)
    out_m, out_n = ref.quantize_multiplier(graph.output.scale)
    tokens = header_line.split()
    assert tokens[3] == str(graph.weight_bytes)
    assert tokens[5:7] == [str(graph.input.zero_point), str(graph.output.zero_point)]
    assert tokens[8:12] == [str(v) for v in (in_m, in_n, out_m, out_n)]
    device = np.array([[int(v) for v in row.split()] for row in rows], dtype=np.int64)
    expected = reference_outputs(graph, x)
    assert device.shape == expected.shape
    np.testing.assert_array_equal(device, expected)
    # The comparison means something only if the outputs are not saturated constants.
    assert np.unique(expected).size > 3


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("key", PERMUTED_GRAPHS)
def test_params_field_order_does_not_matter(builds, key, compiler):
    """Against params structs with their fields reversed the same header builds the same
    model: positional initializers would have assigned the fields to each other."""
    _need(compiler)
    compiled = builds["compiled"][(f"{key}_permuted", compiler)]
    assert compiled.returncode == 0, compiled.stderr
    run = builds["runs"][(f"{key}_permuted", compiler)]
    assert run.returncode == 0, run.stdout + run.stderr
    graph, x, _ = builds["graphs"][key]
    rows = run.stdout.strip().splitlines()[1:]
    device = np.array([[int(v) for v in row.split()] for row in rows], dtype=np.int64)
    np.testing.assert_array_equal(device, reference_outputs(graph, x))
    assert run.stdout == builds["runs"][(key, compiler)].stdout


@pytest.mark.parametrize("compiler", COMPILERS)
def test_spec_version_mismatch_fails_to_compile_with_message(builds, compiler):
    _need(compiler)
    compiled = builds["compiled"][("mismatch", compiler)]
    assert compiled.returncode != 0
    version = export.SPEC_VERSION + 1
    assert (f"mlp.h was exported for integer spec {version}; this integr8 implements another "
            "spec version: re-export the model") in compiled.stderr


def test_injected_command_and_metadata_render_harmless(builds):
    """The mlp header was exported with INJECTED_COMMAND and compiled above; its text holds
    no line outside a comment that came from the command, the metadata or a source name."""
    text = builds["graphs"]["mlp"][2].read_text()
    _check_injection_harmless(text)


def _check_injection_harmless(text):
    text.encode("ascii")
    assert "\r" not in text
    for line in text.splitlines():
        assert not line.endswith("\\"), line  # a trailing backslash splices the next line
        if re.search(r"injected|evil|boom|#define X", line):
            assert line.startswith("//"), line  # user text only ever inside a // comment
    # The only block comments are the generator's own /*field=*/ labels.
    unlabelled = re.sub(r"/\*\w+=\*/", "", text)
    assert "*/" not in unlabelled and "/*" not in unlabelled and "??" not in text
    assert not any(line.lstrip().startswith("#") and "nonexistent" in line
                   for line in text.splitlines())


def test_directives_are_only_the_generators_own():
    text = export.render_header(build_mlp(metadata={"observer": "x\n#error boom"}),
                                command=INJECTED_COMMAND, checkpoint_sha256=SHA)
    directives = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert directives == ["#ifndef INTEGR8_MODEL_MLP_H_", "#define INTEGR8_MODEL_MLP_H_",
                          "#include <cstddef>", "#include <cstdint>",
                          "#include <integr8/integr8.h>", "#endif  // INTEGR8_MODEL_MLP_H_"]
    _check_injection_harmless(text)
    assert "//   observer: x<U+000A>#error boom" in text


# ---------------------------------------------------------------------------------------
# The header's text


def _code_only(text):
    """The header without comments (// to end of line, /*...*/ argument labels)."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"/\*.*?\*/", "", line)
        lines.append(line.split("//", 1)[0])
    return "\n".join(lines)


def test_header_layout():
    graph = build_mlp()
    text = export.render_header(graph, command="integr8 export --model mlp",
                                checkpoint_sha256=SHA.upper())
    lines = text.splitlines()
    assert lines[0].startswith(export.PROVENANCE_MARKER)
    assert "// generator:    integr8 " in text
    assert "// command:      integr8 export --model mlp" in lines
    assert f"// checkpoint:   sha256 {SHA}" in lines
    assert f"// integer spec: version {spec.VERSION} (docs/spec.md)" in lines
    assert "//   calibration_samples: 256" in lines and "//   observer: minmax" in lines
    for required in ["#ifndef INTEGR8_MODEL_MLP_H_", "#define INTEGR8_MODEL_MLP_H_",
                     "#include <integr8/integr8.h>",
                     f"static_assert(INTEGR8_SPEC_VERSION == {spec.VERSION},",
                     "namespace integr8_models {", "namespace mlp {",
                     "inline constexpr int32_t kInputHeight = 1;",
                     "inline constexpr int32_t kInputWidth = 1;",
                     "inline constexpr int32_t kInputChannels = 12;",
                     "inline constexpr int32_t kInputZeroPoint = -10;",
                     "inline constexpr int32_t kOutputElements = 3;",
                     "inline constexpr int32_t kOutputZeroPoint = 0;",
                     "using Fc1 = integr8::LinearLayer<kFc1Params, kFc1Weights, kFc1Bias>;",
                     "using Act = integr8::ReluLayer<kActParams>;",
                     "using Model = integr8::Sequential<Fc1, Fc2, Act, Fc3>;",
                     "inline constexpr size_t kArenaBytes = Model::kArenaBytes;",
                     f"inline constexpr int32_t kWeightBytes = {graph.weight_bytes};",
                     "}  // namespace mlp", "}  // namespace integr8_models",
                     "#endif  // INTEGR8_MODEL_MLP_H_"]:
        assert required in lines, required
    m, n = ref.quantize_multiplier(0.02)
    assert f"inline constexpr int32_t kInputScaleMultiplier = {m};  // scale 0.02" in lines
    assert f"inline constexpr int32_t kInputScaleShift = {n};" in lines
    # One comment per layer naming its source module and what it is.
    assert ("// layer 'fc1': Linear 12 -> 8, per-channel requantization, ReLU fused" in lines)
    assert "// source module: fc1" in lines
    assert "// layer 'act': ReLU6: clamp [5, 65]" in lines
    assert "// source module: head.fc * / evil<U+000A>#define X" in lines
    # Arrays stay in flash, aligned, one copy per program; no float in code.
    code = _code_only(text)
    for line in code.splitlines():
        if "constexpr" in line:
            assert "inline constexpr" in line, line
        if re.search(r"constexpr \w+ k\w+\[", line):
            assert line.startswith("alignas(16) inline constexpr "), line
    assert not re.search(r"\d\.\d|\d[eE][-+]?\d|\bfloat\b|\bdouble\b", code)
    # Fixed number of values per line: 16 int8 weights.
    start = lines.index("alignas(16) inline constexpr int8_t kFc1Weights[8 * 12] = {")
    assert [len(lines[start + i].split(",")) - 1 for i in (1, 2, 3, 4, 5, 6)] == [16] * 6
    assert lines[start + 7] == "};"


def _unwrapped(text):
    """Joins the layer comments the generator wraps ('//   ' continuation lines)."""
    return re.sub(r"\n//   (?=\S)", " ", text)


def test_conv_and_residual_declarations():
    text = _unwrapped(export.render_header(build_convnet(), command="c", checkpoint_sha256=None))
    assert "// checkpoint:   sha256 not recorded" in text
    assert ("// layer 'features_0': Conv2d 3 -> 4, 3x3, stride 1, padding 1, per-channel "
            "requantization, ReLU fused") in text
    assert ("// layer 'features_2': Conv2d 4 -> 4, 3x3, stride 1, padding 2, dilation 2, "
            "groups 2, per-channel requantization") in text
    assert ("// layer 'features_3': DepthwiseConv2d 4 -> 8 (depth multiplier 2), 3x3, "
            "stride 2, padding 1, per-channel requantization, ReLU6 fused") in text
    assert "alignas(16) inline constexpr int8_t kFeatures3Filter[1 * 3 * 3 * 8] = {" in text
    assert "using Features3 = integr8::DepthwiseConv2dLayer<" in text
    assert "using Features4 = integr8::MaxPool2dLayer<kFeatures4Params>;" in text
    assert "using Features6 = integr8::AvgPool2dLayer<kFeatures6Params>;" in text
    assert "using Features5 = integr8::ReluLayer<kFeatures5Params>;" in text
    assert "MaxPool2d 3x3, stride 2, padding 1, ceil_mode" in text

    text = _unwrapped(export.render_header(build_resnet(), command="r", checkpoint_sha256=None))
    assert ("using Layer1 = integr8::ResidualLayer<kLayer1Params, "
            "integr8::Sequential<Layer1Conv1, Layer1Conv2>>;") in text
    assert ("using Layer2 = integr8::ResidualLayer<kLayer2Params, "
            "integr8::Sequential<Layer2Inner, Layer2Dw>>;") in text
    assert ("using Layer2Inner = integr8::ResidualLayer<kLayer2InnerParams, "
            "integr8::Sequential<\n    Layer2InnerConv>>;") in text
    assert "inline constexpr integr8::AddParams kLayer2InnerParams = [] {" in text
    assert "// layer 'layer2_dw' in residual block 'layer2': DepthwiseConv2d" in text
    assert "AvgPool2d 4x4, stride 1, padding 0, count_include_pad=True (global average pool)" \
        in text
    # A block's body is declared before the block that uses it.
    assert text.index("using Layer2Inner =") < text.index("using Layer2 =")
    assert text.index("using Layer2InnerConv =") < text.index("using Layer2Inner =")


# ---------------------------------------------------------------------------------------
# Writing


def test_regeneration_is_byte_identical(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    path_a = export.export_header(build_resnet(), first, command="integr8 export resnet",
                                  checkpoint_sha256=SHA)
    path_b = export.export_header(build_resnet(), second, command="integr8 export resnet",
                                  checkpoint_sha256=SHA)
    assert path_a == first / "resnet.h"
    assert path_a.read_bytes() == path_b.read_bytes()
    # Overwriting an integr8-generated header is allowed and yields the same bytes.
    again = export.export_header(build_resnet(), first, command="integr8 export resnet",
                                 checkpoint_sha256=SHA)
    assert again.read_bytes() == path_b.read_bytes()
    assert sorted(p.name for p in first.iterdir()) == ["resnet.h", "resnet.i8g"]
    assert (first / "resnet.i8g").read_bytes() == (second / "resnet.i8g").read_bytes()
    assert export.render_header(build_resnet(), command="integr8 export resnet",
                                checkpoint_sha256=SHA).encode() == path_a.read_bytes()


class _FailingFile:
    """A file object that writes half of what it is given, then fails like a full disk."""

    def __init__(self, real):
        self._real = real

    def write(self, data):
        self._real.write(data[:len(data) // 2])
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()
        return False


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(export.os, "fdopen", lambda *a, **k: _FailingFile(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        export.export_header(build_mlp(), tmp_path, command="c", checkpoint_sha256=None)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_previous_header(tmp_path, monkeypatch):
    old = export.export_header(build_mlp(), tmp_path, command="old", checkpoint_sha256=None)
    before = old.read_bytes()
    graph_before = old.with_suffix(".i8g").read_bytes()

    def failing_replace(src, dst):
        raise OSError("replace failed")

    monkeypatch.setattr(export.os, "replace", failing_replace)
    with pytest.raises(OSError, match="replace failed"):
        export.export_header(build_mlp(), tmp_path, command="new", checkpoint_sha256=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.h", "mlp.i8g"]
    assert old.read_bytes() == before
    assert old.with_suffix(".i8g").read_bytes() == graph_before


def _force_name(graph, name):
    # qgraph validates names on construction; simulate a graph that bypassed it.
    object.__setattr__(graph, "name", name)
    return graph


@pytest.mark.parametrize("name", ["../evil", "sub/../../evil", "/tmp/integr8_evil", ".."])
def test_path_traversal_is_refused(tmp_path, name):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(export.ExportError, match="outside the output directory"):
        export.export_header(_force_name(build_mlp(), name), out, command="c",
                             checkpoint_sha256=None)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert list(out.iterdir()) == []
    assert not pathlib.Path("/tmp/integr8_evil.h").exists()


def test_foreign_file_is_not_overwritten(tmp_path):
    target = tmp_path / "mlp.h"
    target.write_text("// my hand-written mlp.h\nint precious;\n")
    with pytest.raises(export.ExportError, match="not an integr8-generated header"):
        export.export_header(build_mlp(), tmp_path, command="c", checkpoint_sha256=None)
    assert target.read_text() == "// my hand-written mlp.h\nint precious;\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.h"]


def test_directory_or_symlink_target_is_refused(tmp_path):
    (tmp_path / "mlp.h").mkdir()
    with pytest.raises(export.ExportError, match="not a regular file"):
        export.export_header(build_mlp(), tmp_path, command="c", checkpoint_sha256=None)
    elsewhere = tmp_path / "elsewhere.h"
    elsewhere.write_text(export.PROVENANCE_MARKER + "\n")
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    (link_dir / "mlp.h").symlink_to(elsewhere)
    with pytest.raises(export.ExportError, match="symbolic link"):
        export.export_header(build_mlp(), link_dir, command="c", checkpoint_sha256=None)


def test_missing_output_directory_is_refused(tmp_path):
    with pytest.raises(export.ExportError, match="does not exist"):
        export.export_header(build_mlp(), tmp_path / "missing", command="c",
                             checkpoint_sha256=None)
    assert list(tmp_path.iterdir()) == []


def _two_linears(first_name, second_name):
    rng = np.random.default_rng(4)
    shape, quant = Shape(1, 1, 4), Quant(0.1, 0)
    a = _linear(rng, first_name, shape, quant, 4, quant)
    b = _linear(rng, second_name, a.output_shape, quant, 2, quant)
    return qgraph.QuantizedGraph(name="pair", input_shape=shape, input=quant, layers=(a, b))


def test_identifier_collision_names_both_layers(tmp_path):
    with pytest.raises(export.ExportError) as error:
        export.export_header(_two_linears("a_1", "a1"), tmp_path, command="c",
                             checkpoint_sha256=None)
    message = str(error.value)
    assert "'a_1'" in message and "'a1'" in message and "'kA1Weights'" in message
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(export.ExportError, match="layer 'model' and the model's fixed "
                                                 "declarations.*'Model'"):
        export.render_header(_two_linears("fc", "model"), command="c", checkpoint_sha256=None)


@pytest.mark.parametrize("name", ["new", "int", "template", "a__b", "net_", "std", "integr8",
                                  "int32_t"])
def test_model_names_that_cannot_be_a_namespace_are_refused(name):
    graph = _force_name(build_mlp(), name) if not _valid_qgraph_name(name) else build_mlp(name)
    with pytest.raises(export.ExportError, match="model name"):
        export.render_header(graph, command="c", checkpoint_sha256=None)


def _valid_qgraph_name(name):
    try:
        build_mlp(name)
    except qgraph.GraphError:
        return False
    return True


def test_bad_checkpoint_hash_and_residual_rescale_are_refused():
    with pytest.raises(export.ExportError, match="64 hex digits"):
        export.render_header(build_mlp(), command="c", checkpoint_sha256="abc\n#error")
    block = build_resnet().layers[1]
    # M = m * 2^-n above 1/2: within the multiplier and shift ranges, refused by the add
    # kernel, and so by the quantized graph before anything is exported.
    with pytest.raises(qgraph.GraphError, match="layer 'layer1'.*more than 1/2"):
        dataclasses.replace(block, input_multiplier=2**30 + 1, input_shift=31)
