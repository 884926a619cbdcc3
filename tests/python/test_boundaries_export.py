"""Boundaries of the Python toolchain: what the quantized graph, the calibrator and the header
exporter do with hostile or degenerate input.

Extends test_export.py and test_capture_calibrate.py (which cover the ordinary refusals) with
property tests: every bad value is an exception whose message names the layer, the field and
the value; user text never changes a line of code; names either pass the C++ identifier rules
or are refused, and never write outside the output directory; a failure at any step of a
write leaves the old file or none, and no temporary file; regeneration in another process is
byte-identical.

Hypothesis runs derandomized with a fixed example budget, so that CI sees the same cases.
"""

from __future__ import annotations

import dataclasses
import keyword
import math
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from integr8 import calibrate as cal
from integr8 import export, qgraph
from integr8 import interpreter
from integr8.qgraph import Quant, Shape

REPO = pathlib.Path(__file__).resolve().parents[2]
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# The header is only written after every check: these are the exporter's own directives.
DIRECTIVES = ["#ifndef INTEGR8_MODEL_{N}_H_", "#define INTEGR8_MODEL_{N}_H_",
              "#include <cstddef>", "#include <cstdint>", "#include <integr8/integr8.h>",
              "#endif  // INTEGR8_MODEL_{N}_H_"]
# Text that tries every way out of a // comment.
HOSTILE_TEXT = ['*/ int x; /*', '\n#include "/etc/passwd"\n', 'a\\', '??/', '"; int y; "',
                '\u2028int z;', '\r\n#define A 1', 'caf\u00e9 \U0001f600', '\x00\x1b[31m',
                '\ud800', 'namespace std {}']


# ---------------------------------------------------------------------------------------
# Valid layers to break one field at a time


def _requant(channels=1, zero_point=0, lo=-128, hi=127):
    return qgraph.Requantization(multipliers=np.full(channels, 2**30, np.int64),
                                 shifts=np.full(channels, 36, np.int64),
                                 output_zero_point=zero_point, activation_min=lo,
                                 activation_max=hi)


def linear(name="fc", inputs=4, outputs=3, output=Quant(0.1, 0), source="fc", **changes):
    fields = dict(name=name, source=source, input_shape=Shape(1, 1, inputs),
                  output_shape=Shape(1, 1, outputs), output=output,
                  weights=np.arange(outputs * inputs, dtype=np.int8).reshape(outputs, inputs),
                  bias=np.zeros(outputs, np.int32), requantization=_requant(outputs))
    fields.update(changes)
    return qgraph.Linear(**fields)


def conv(**changes):
    fields = dict(name="conv", source="conv", input_shape=Shape(4, 4, 2),
                  output_shape=Shape(4, 4, 2), output=Quant(0.1, 0),
                  filter=np.ones((2, 3, 3, 2), np.int8), bias=np.zeros(2, np.int32),
                  stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1,
                  input_zero_point=0, requantization=_requant(2))
    fields.update(changes)
    return qgraph.Conv2d(**fields)


def depthwise(**changes):
    fields = dict(name="dw", source="dw", input_shape=Shape(4, 4, 2),
                  output_shape=Shape(4, 4, 4), output=Quant(0.1, 0),
                  filter=np.ones((1, 3, 3, 4), np.int8), bias=np.zeros(4, np.int32),
                  stride=(1, 1), padding=(1, 1), dilation=(1, 1), depth_multiplier=2,
                  input_zero_point=0, requantization=_requant(4))
    fields.update(changes)
    return qgraph.DepthwiseConv2d(**fields)


def pool(**changes):
    fields = dict(name="pool", source="pool", input_shape=Shape(4, 4, 2),
                  output_shape=Shape(2, 2, 2), output=Quant(0.1, 0), kind="max",
                  kernel=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False,
                  count_include_pad=True, input_zero_point=0, activation_min=-128,
                  activation_max=127)
    fields.update(changes)
    return qgraph.Pool2d(**fields)


def relu(shape=Shape(2, 2, 2), **changes):
    fields = dict(name="act", source="act", input_shape=shape, output_shape=shape,
                  output=Quant(0.1, 0), activation_min=0, activation_max=127)
    fields.update(changes)
    return qgraph.Relu(**fields)


def residual(**changes):
    body = (relu(shape=Shape(1, 1, 3), name="inner"),)
    fields = dict(name="block", source="block", input_shape=Shape(1, 1, 3),
                  output_shape=Shape(1, 1, 3), output=Quant(0.1, 0), body=body,
                  input_zero_point=0, input_multiplier=2**30, input_shift=31,
                  body_zero_point=0, body_multiplier=2**30, body_shift=31,
                  requantization=_requant(1))
    fields.update(changes)
    return qgraph.Residual(**fields)


def graph_of(*layers, name="net", input_quant=Quant(0.1, 0), metadata=None):
    return qgraph.QuantizedGraph(name=name, input_shape=layers[0].input_shape,
                                 input=input_quant, layers=tuple(layers),
                                 metadata={} if metadata is None else metadata)


def render(graph, command="integr8 export", sha=None):
    return export.render_header(graph, command=command, checkpoint_sha256=sha)


BUILDERS = {"linear": linear, "conv": conv, "depthwise": depthwise, "pool": pool,
            "relu": relu, "residual": residual}


def test_the_valid_layers_build_and_render():
    # The baseline every refusal below departs from by one field.
    for builder in BUILDERS.values():
        layer = builder()
        render(graph_of(layer, input_quant=Quant(0.1, 0)))


# (builder, field, bad value, fragments the message must hold besides the layer name)
BAD_FIELDS = [
    ("linear", "weights", np.array([[1.0, np.nan, 0, 0]] * 3), ["weights.dtype", "float64"]),
    ("linear", "weights", np.full((3, 4), np.inf), ["weights.dtype", "float64"]),
    ("linear", "weights", np.full((3, 4), 1.5), ["weights.dtype", "float64"]),
    ("linear", "weights", np.ones((3, 4), bool), ["weights.dtype", "bool"]),
    ("linear", "weights", np.ones((3, 4), object), ["weights.dtype", "object"]),
    ("linear", "weights", [[1, 2, 3, 4]] * 3, ["weights", "list", "numpy.ndarray"]),
    ("linear", "weights", np.full((3, 4), -128, np.int8), ["weights = -128", "[-127, 127]"]),
    ("linear", "weights", np.full((3, 4), 200, np.uint8), ["weights = 200", "[-127, 127]"]),
    ("linear", "weights", np.ones((4, 3), np.int8), ["weights.shape", "(4, 3)", "(3, 4)"]),
    ("linear", "weights", np.ones((3, 4, 1), np.int8), ["weights.shape = (3, 4, 1)", "2 axes"]),
    ("linear", "bias", np.array([0.0, np.nan, 0.0]), ["bias.dtype", "float64"]),
    ("linear", "bias", np.array([0, 2**31, 0], np.int64), ["bias = 2147483648"]),
    ("linear", "bias", np.zeros(3, np.int32)[:0], ["bias.shape", "(0,)"]),
    ("linear", "requantization", "per tensor", ["requantization", "'str'"]),
    ("linear", "requantization",
     dataclasses.replace(_requant(3), multipliers=np.full(3, 2.0**30)),
     ["multipliers.dtype", "float64"]),
    ("linear", "requantization",
     dataclasses.replace(_requant(3), shifts=np.full((3, 1), 36)),
     ["shifts.shape = (3, 1)", "1 axes"]),
    ("linear", "requantization", dataclasses.replace(_requant(3), output_zero_point=0.5),
     ["output_zero_point = 0.5", "must be an int"]),
    ("linear", "requantization", dataclasses.replace(_requant(3), output_zero_point=True),
     ["output_zero_point = True", "bool"]),
    ("linear", "requantization",
     dataclasses.replace(_requant(3), output_zero_point=np.float64(1.0)),
     ["output_zero_point", "must be an int"]),
    ("linear", "requantization", dataclasses.replace(_requant(3), activation_min="0"),
     ["activation_min = '0'", "must be an int"]),
    ("linear", "requantization", dataclasses.replace(_requant(3), activation_max=128),
     ["activation_max = 128", "[-128, 127]"]),
    ("linear", "output", Quant(float("nan"), 0), ["output.scale = nan", "finite"]),
    ("linear", "output", Quant(float("inf"), 0), ["output.scale = inf", "finite"]),
    ("linear", "output", Quant(0.0, 0), ["output.scale = 0.0", "> 0"]),
    ("linear", "output", Quant(-1e-3, 0), ["output.scale = -0.001", "> 0"]),
    ("linear", "output", Quant("0.1", 0), ["output.scale = '0.1'", "real number"]),
    ("linear", "output", Quant(True, 0), ["output.scale = True", "real number"]),
    ("linear", "output", Quant(1j, 0), ["output.scale = 1j", "real number"]),
    ("linear", "output", Quant(0.1, 0.5), ["output.zero_point = 0.5", "must be an int"]),
    ("linear", "output", Quant(0.1, np.int64(-129)), ["output.zero_point = -129", "[-128"]),
    ("linear", "output", (0.1, 0), ["output = (0.1, 0)", "Quant"]),
    ("linear", "input_shape", Shape(1, 1, 0), ["input_shape.channels = 0", ">= 1"]),
    ("linear", "input_shape", Shape(-1, -1, 4), ["input_shape.height = -1", ">= 1"]),
    ("linear", "input_shape", Shape(1.0, 1, 4), ["input_shape.height = 1.0", "must be an int"]),
    ("linear", "input_shape", (1, 1, 4), ["input_shape = (1, 1, 4)", "Shape"]),
    ("linear", "output_shape", Shape(1, 1, 0), ["output_shape.channels = 0", ">= 1"]),
    ("linear", "source", None, ["source = None", "str"]),
    ("conv", "stride", (1.0, 1), ["stride[0] = 1.0", "must be an int"]),
    ("conv", "stride", (1,), ["stride = (1,)", "pair"]),
    ("conv", "stride", (0, 1), ["stride[0] = 0", ">= 1"]),
    ("conv", "padding", (-1, 1), ["padding[0] = -1", ">= 0"]),
    ("conv", "dilation", (1, True), ["dilation[1] = True", "bool"]),
    ("conv", "groups", 1.0, ["groups = 1.0", "must be an int"]),
    ("conv", "groups", 0, ["groups = 0", "must divide"]),
    ("conv", "input_zero_point", np.float32(0),
     ["input_zero_point = 0.0", "must be an int, not float32"]),
    ("conv", "filter", np.ones((2, 3, 3), np.int8), ["filter.shape = (2, 3, 3)", "4 axes"]),
    ("conv", "filter", np.full((2, 3, 3, 2), np.nan), ["filter.dtype", "float64"]),
    ("depthwise", "depth_multiplier", 0, ["depth_multiplier = 0", ">= 1"]),
    ("depthwise", "depth_multiplier", 2.0, ["depth_multiplier = 2.0", "must be an int"]),
    ("pool", "ceil_mode", "False", ["ceil_mode = 'False'", "bool"]),
    ("pool", "ceil_mode", 0, ["ceil_mode = 0", "bool"]),
    ("pool", "count_include_pad", None, ["count_include_pad = None", "bool"]),
    ("pool", "kernel", (2, 2.0), ["kernel[1] = 2.0", "must be an int"]),
    ("pool", "kind", "min", ["kind = 'min'", "'max' or 'avg'"]),
    ("relu", "activation_max", 127.0, ["activation_max = 127.0", "must be an int"]),
    ("relu", "activation_max", -1, ["activation_min = 0", "exceeds activation_max -1"]),
    ("residual", "input_multiplier", float(2**30), ["input_multiplier = 1073741824.0",
                                                    "must be an int"]),
    ("residual", "input_shift", True, ["input_shift = True", "bool"]),
    ("residual", "body", (), ["body", "must end in shape"]),
    ("residual", "body", [relu(shape=Shape(1, 1, 3), name="inner")], ["body = 'list'", "tuple"]),
    ("residual", "requantization", _requant(3), ["requantization = 3", "per tensor"]),
]


@pytest.mark.parametrize("builder, field, value, fragments",
                         [pytest.param(*case, id=f"{case[0]}-{case[1]}-{index}")
                          for index, case in enumerate(BAD_FIELDS)])
def test_a_bad_field_is_refused_naming_layer_field_and_value(builder, field, value, fragments):
    name = BUILDERS[builder]().name
    with pytest.raises(qgraph.GraphError) as error:
        BUILDERS[builder](**{field: value})
    message = str(error.value)
    assert message.startswith(f"layer '{name}': "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("shape", [Shape(65536, 65536, 1), Shape(2, 2**30, 1),
                                   Shape(2**16, 2**8, 2**7)])
def test_huge_shapes_are_refused_before_anything_is_allocated(shape):
    with pytest.raises(qgraph.GraphError) as error:
        relu(shape=shape)
    elements = shape.height * shape.width * shape.channels
    assert str(error.value).startswith("layer 'act': input_shape = ")
    assert f"{elements} elements exceed INT32_MAX" in str(error.value)


def test_huge_weight_arrays_are_refused_without_scanning_them():
    # A broadcast view claims 2^32 weights in a few bytes: refused from its shape alone.
    outputs, inputs = 2**15, 2**17
    weights = np.broadcast_to(np.int8(1), (outputs, inputs))
    with pytest.raises(qgraph.GraphError, match=r"layer 'fc': weights.shape = \(32768, 131072\)"
                                                r": 4294967296 values exceed INT32_MAX"):
        qgraph.Linear(name="fc", source="fc", input_shape=Shape(1, 1, inputs),
                      output_shape=Shape(1, 1, outputs), output=Quant(0.1, 0), weights=weights,
                      bias=np.zeros(outputs, np.int32), requantization=_requant(1))


def test_empty_graphs_and_foreign_layers_are_refused():
    with pytest.raises(qgraph.GraphError, match="layer 'net': layers = \\(\\): a graph needs"):
        qgraph.QuantizedGraph(name="net", input_shape=Shape(1, 1, 4), input=Quant(0.1, 0),
                              layers=())
    with pytest.raises(qgraph.GraphError, match="layer 'net': layers = 'list': must be a tuple"):
        qgraph.QuantizedGraph(name="net", input_shape=Shape(1, 1, 4), input=Quant(0.1, 0),
                              layers=[linear()])
    with pytest.raises(qgraph.GraphError, match="layer 'net': layers = 'dict': must hold"):
        qgraph.QuantizedGraph(name="net", input_shape=Shape(1, 1, 4), input=Quant(0.1, 0),
                              layers=({"name": "fc"},))
    with pytest.raises(qgraph.GraphError, match="layer 'net': metadata = 'list'"):
        graph_of(linear(), metadata=[("a", 1)])


# ---------------------------------------------------------------------------------------
# Scales: NaN, infinities, subnormals, extremes

SPECIAL_SCALES = [0.0, -0.0, -1.0, math.nan, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308,
                  1e-300, 2.0**-32, 2.0**-31 * (1 - 2**-53), 2.0**-31, 2.0**-31 * (1 + 2**-52),
                  1.0, 2.0**30 - 1, 2.0**30 - 2**-2, 2.0**30 - 2**-3, 2.0**30, 1e300,
                  1.7976931348623157e308]


def _written_scale(text, tensor):
    """(m, n) of kInputScale* or kOutputScale* as the header writes them."""
    m = int(re.search(rf"k{tensor}ScaleMultiplier = (-?\d+);", text).group(1))
    n = int(re.search(rf"k{tensor}ScaleShift = (-?\d+);", text).group(1))
    return m, n


def _check_scale_outcome(make_graph, scale, tensor, field_in_graph_error, field_in_export_error):
    """The scale is written as m * 2^-n within the spec's precision, or refused with a message
    naming the field and the value; representable scales are never refused."""
    representable = math.isfinite(scale) and 2.0**-31 <= scale < 2.0**30 - 1
    impossible = not math.isfinite(scale) or scale < 2.0**-31 or scale >= 2.0**30
    try:
        text = render(make_graph(scale))
    except qgraph.GraphError as error:
        assert not (math.isfinite(scale) and scale > 0), error  # only non-positive or NaN/Inf
        assert f"{field_in_graph_error} = {scale!r}" in str(error)
        return
    except export.ExportError as error:
        assert not representable, error
        assert field_in_export_error in str(error) and repr(float(scale)) in str(error), error
        return
    assert not impossible, f"scale {scale!r} was written"
    m, n = _written_scale(text, tensor)
    assert 2**30 <= m <= 2**31 - 1 and 1 <= n <= 62
    # m has 31 significant bits: rounding leaves a relative error of at most 2^-31.
    assert abs(m * 2.0**-n - scale) <= scale * 2.0**-31


@PROPERTY
@given(scale=st.one_of(st.sampled_from(SPECIAL_SCALES), st.floats(allow_subnormal=True),
                       st.floats(2.0**-33, 2.0**-30), st.floats(2.0**29, 2.0**31)))
def test_input_scale_is_written_exactly_or_refused(scale):
    _check_scale_outcome(lambda s: graph_of(linear(), input_quant=Quant(s, 0)), scale, "Input",
                         "layer 'net': input.scale", "model 'net': input scale")


@PROPERTY
@given(scale=st.one_of(st.sampled_from(SPECIAL_SCALES), st.floats(allow_subnormal=True)))
def test_output_scale_is_written_exactly_or_refused(scale):
    _check_scale_outcome(lambda s: graph_of(linear(output=Quant(s, 0))), scale, "Output",
                         "layer 'fc': output.scale", "model 'net': output scale")


@PROPERTY
@given(scale=st.floats(min_value=5e-324, allow_infinity=False, allow_subnormal=True),
       zero_point=st.integers(-128, 127))
def test_hidden_layer_scales_only_reach_comments(scale, zero_point):
    """A hidden layer's scale, however extreme (subnormal, near the float maximum), only
    appears in comments; the ReLU6 clamp text computed from it never overflows."""
    hidden = Quant(scale, zero_point)
    six = min(127, zero_point + math.floor(6.0 / scale + 0.5)) if 6.0 / scale < 255 else 127
    first = linear(output=hidden, requantization=_requant(3, zero_point, max(-128, zero_point),
                                                          six))
    act = relu(shape=Shape(1, 1, 3), output=hidden, activation_min=max(-128, zero_point),
               activation_max=six)
    last = linear(name="head", inputs=3, outputs=2, output=Quant(0.1, 0))
    text = render(graph_of(first, act, last))
    assert f"output scale {scale!r}, zero point {zero_point}" in text
    for line in text.splitlines():
        if repr(scale) in line:
            assert line.startswith("//"), line


# ---------------------------------------------------------------------------------------
# Calibration: NaN/Inf parameters, extreme magnitudes, constant activations

torch = pytest.importorskip("torch")


def _small_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3)).eval()


def _images(seed=0, count=8):
    return torch.rand(count, 1, 4, 4, generator=torch.Generator().manual_seed(seed))


@PROPERTY
@given(module=st.sampled_from([0, 3]), parameter=st.sampled_from(["weight", "bias"]),
       bad=st.sampled_from([math.nan, math.inf, -math.inf]), index=st.integers(0, 10**6))
def test_non_finite_parameters_are_refused_naming_module_and_value(module, parameter, bad,
                                                                   index):
    model = _small_model()
    tensor = getattr(model[module], parameter)
    with torch.no_grad():
        tensor.view(-1)[index % tensor.numel()] = bad
    with pytest.raises(qgraph.GraphError) as error:  # capture.CaptureError
        cal.calibrate(model, _images(), name="net")
    message = str(error.value)
    assert f"module '{module}'" in message and f"{parameter} = {bad!r}" in message, message


@pytest.mark.parametrize("module", [0, 3])
@pytest.mark.parametrize("factor", [1e38, 1e20, 1e-20, 1e-40])
def test_extreme_weights_export_or_are_refused_naming_the_multiplier(module, factor):
    """Scaled weights and bias: some layer's multiplier M, or the model's output scale,
    leaves the range m * 2^-n can hold; the error names the layer (or model) and the value."""
    model = _small_model()
    with torch.no_grad():
        model[module].weight.mul_(factor)
        model[module].bias.mul_(factor)
    try:
        text = render(cal.calibrate(model, _images(), name="net"))
    except cal.CalibrationError as error:
        message = str(error)
        assert re.match(r"layer '(layer_0|layer_3)': requantization multiplier M\[\d+\] = "
                        r"s_in \* s_w / s_out = [-+.e\d]+: real_multiplier = ", message), message
        assert "outside [2^-31, 2^30)" in message or "must be finite and > 0" in message
        return
    except export.ExportError as error:
        assert re.match(r"model 'net': output scale \(the last layer's\): real_multiplier = "
                        r"[-+.e\d]+ is outside \[2\^-31, 2\^30\)", str(error)), str(error)
        return
    assert "namespace net {" in text


@pytest.mark.parametrize("images", ["zeros", "constant"])
def test_constant_activations_calibrate_export_and_run(images):
    model = _small_model()
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.zero_()  # the conv output is constantly 0, whatever the input
    x = torch.zeros(8, 1, 4, 4) if images == "zeros" else torch.full((8, 1, 4, 4), 0.5)
    graph = cal.calibrate(model, x, name="net")
    conv_out = graph.layers[0].output
    # Spec section 2: a constant zero range gets scale 1 and zero point -128 (0 exactly).
    assert (conv_out.scale, conv_out.zero_point) == (1.0, -128)
    text = render(graph)
    assert "namespace net {" in text
    q = cal.quantize_input(x, graph.input)
    _, trace = interpreter.run(graph, q, trace=True)
    assert (trace[graph.layers[0].name] == -128).all()


def test_input_quant_pair_is_not_truncated():
    with pytest.raises(qgraph.GraphError, match=r"input_quant.zero_point = 0.5: must be an int"):
        cal.calibrate(_small_model(), _images(), name="net", input_quant=(0.1, 0.5))
    with pytest.raises(qgraph.GraphError, match=r"input_quant.scale = '0.1': must be a real"):
        cal.calibrate(_small_model(), _images(), name="net", input_quant=("0.1", 0))


# ---------------------------------------------------------------------------------------
# Names: identifier injection, C++ keywords, non-ASCII, collisions

INJECTED_NAMES = ["fc\n", "fc\r", "fc */", "fc#include", "#include <x>", 'fc"', "fc'", "fc;",
                  "Fc", "f c", "\u0192c", "\uff46c", "fc\x00", "fc\u2028", "", "_fc", "1fc",
                  "class", "for", "None", "fc-1", "fc.1", "../fc", "fc/..", "\\fc"]
CXX_BAD_MODEL_NAMES = ["int", "new", "namespace", "template", "std", "integr8",
                       "integr8_models", "int8_t", "size_t", "a__b", "net_"]


def _valid_layer_name(name):
    return (isinstance(name, str) and re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None
            and not keyword.iskeyword(name))


NAME_TEXT = st.one_of(st.sampled_from(INJECTED_NAMES + CXX_BAD_MODEL_NAMES),
                      st.text(alphabet=st.characters(), max_size=12),
                      st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
                      st.from_regex(r"[a-z][a-z0-9_]{0,6}[\n\r]?", fullmatch=True))


@PROPERTY
@given(name=NAME_TEXT)
def test_layer_names_are_identifiers_or_refused(name):
    if not _valid_layer_name(name):
        with pytest.raises(qgraph.GraphError) as error:
            linear(name=name)
        assert str(error.value).startswith(f"layer {name!r}: name = {name!r}: must match")
        return
    text = render(graph_of(linear(name=name)))
    stem = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    assert f"inline constexpr integr8::LinearParams k{stem}Params = [] {{" in text
    assert f"// layer '{name}': Linear 4 -> 3" in text


@PROPERTY
@given(name=NAME_TEXT)
def test_model_names_are_namespaces_or_refused(name, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    valid = (_valid_layer_name(name) and name not in CXX_BAD_MODEL_NAMES
             and name not in export._CXX_KEYWORDS and "__" not in name
             and not name.endswith("_"))
    try:
        graph = graph_of(linear(), name=name)
        path = export.export_header(graph, out, command="c", checkpoint_sha256=None)
    except (qgraph.GraphError, export.ExportError) as error:
        assert not valid, error
        assert repr(name) in str(error), error
        assert list(out.iterdir()) == []
        return
    assert valid, f"model name {name!r} was exported"
    assert path == out / f"{name}.h"
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.h", f"{name}.i8g"]
    text = path.read_text("ascii")
    expected = [line.replace("{N}", name.upper()) for line in DIRECTIVES]
    assert [line for line in text.splitlines() if line.startswith("#")] == expected
    assert f"namespace {name} {{" in text


@PROPERTY
@given(name=st.one_of(st.sampled_from(["../evil", "..", ".", "/tmp/evil", "a/../../evil",
                                        "evil\x00", "a\\..\\evil", "sub/evil", "~/evil",
                                        "evil\n", "..\u2215evil"]),
                      st.text(alphabet="./\\\x00\nab", min_size=1, max_size=10)))
def test_output_names_never_leave_the_output_directory(name, tmp_path_factory):
    """A graph whose name bypassed validation (object.__setattr__) is still refused by the
    writer, and nothing appears outside (or inside) the output directory."""
    root = tmp_path_factory.mktemp("root")
    out = root / "out"
    out.mkdir()
    graph = graph_of(linear())
    object.__setattr__(graph, "name", name)
    if re.fullmatch(r"[a-z][a-z0-9_]*", name) and "__" not in name and name[-1] != "_":
        export.export_header(graph, out, command="c", checkpoint_sha256=None)
        assert sorted(p.name for p in out.iterdir()) == [f"{name}.h", f"{name}.i8g"]
        assert [p.name for p in root.iterdir()] == ["out"]
        return
    with pytest.raises(export.ExportError) as error:
        export.export_header(graph, out, command="c", checkpoint_sha256=None)
    assert repr(name) in str(error.value)
    assert [p.name for p in root.iterdir()] == ["out"] and list(out.iterdir()) == []


@PROPERTY
@given(first=st.from_regex(r"[a-z][a-z0-9]{0,3}(_[a-z0-9]{1,3}){0,2}", fullmatch=True),
       second=st.from_regex(r"[a-z][a-z0-9]{0,3}(_[a-z0-9]{1,3}){0,2}", fullmatch=True))
@example(first="a_1", second="a1")
@example(first="fc_2b", second="fc2b")
@example(first="fc", second="model")
@example(first="fc", second="fc")
def test_colliding_layer_names_are_refused_naming_both(first, second):
    assume(not keyword.iskeyword(first) and not keyword.iskeyword(second))

    def camel(name):
        return "".join(part[:1].upper() + part[1:] for part in name.split("_"))

    if first == second:
        with pytest.raises(qgraph.GraphError, match=rf"layer names = \['{first}'\]: must be "
                                                    "unique"):
            graph_of(linear(name=first), linear(name=second, inputs=3, outputs=2))
        return
    graph = graph_of(linear(name=first), linear(name=second, inputs=3, outputs=2))
    if camel(first) == camel(second) or "Model" in (camel(first), camel(second)):
        with pytest.raises(export.ExportError) as error:
            render(graph)
        message = str(error.value)
        assert "both map to the C++ identifier" in message
        assert f"'{second}'" in message and (f"'{first}'" in message or "fixed" in message)
    else:
        render(graph)


# ---------------------------------------------------------------------------------------
# User text never becomes code

USER_TEXT = st.one_of(st.sampled_from(HOSTILE_TEXT),
                      st.text(alphabet=st.characters(), max_size=40))


def _code_lines(text):
    return [line for line in text.splitlines() if not line.startswith("//")]


@PROPERTY
@given(command=USER_TEXT, source=USER_TEXT, key=USER_TEXT, value=USER_TEXT)
def test_user_text_only_changes_comments(command, source, key, value):
    plain = render(graph_of(linear()), command="integr8 export")
    hostile = render(graph_of(linear(source=source), metadata={key: value, "n": [value]}),
                     command=command)
    hostile.encode("ascii")
    assert _code_lines(hostile) == _code_lines(plain)
    for line in hostile.splitlines():
        assert not line.endswith("\\") and "??" not in line, line
        if line.startswith("//"):
            assert "*/" not in line and "/*" not in line, line
    assert "\r" not in hostile and "\u2028" not in hostile


@pytest.mark.parametrize("metadata", [{"tags": {"b", "a", "c"}}, {"nested": {"z": {2, 1}}},
                                      {"path": pathlib.PurePosixPath("/x/y")},
                                      {"arr": np.arange(3)}, {1: "int key"}])
def test_metadata_renders_reproducibly(metadata):
    text = render(graph_of(linear(), metadata=metadata))
    again = render(graph_of(linear(), metadata={key: value for key, value in
                                                reversed(list(metadata.items()))}))
    assert text == again


@pytest.mark.parametrize("value", [object(), lambda: 0, type("Thing", (), {})()])
def test_metadata_without_a_reproducible_text_is_refused(value):
    with pytest.raises(export.ExportError, match=r"metadata\['what'\]: a \w+ cannot be "
                                                 "recorded reproducibly"):
        render(graph_of(linear(), metadata={"what": value}))


@pytest.mark.parametrize("sha", ["a" * 64 + "\n", "a" * 63, "g" * 64, " " + "a" * 64,
                                 "a" * 64 + "\x00", 123])
def test_checkpoint_hash_must_be_exactly_64_hex_digits(sha):
    with pytest.raises(export.ExportError, match="is not 64 hex digits"):
        render(graph_of(linear()), sha=sha)


# ---------------------------------------------------------------------------------------
# Atomic writes: a failure at any step leaves the old file or none, and no temporary file


class _Boom(Exception):
    pass


def _fail_write(monkeypatch, module, exception):
    """The temporary file's write() stores half of the data, then raises."""
    real_fdopen = os.fdopen

    class Half:
        def __init__(self, real):
            self._real = real

        def write(self, data):
            self._real.write(bytes(data)[:len(data) // 2])
            raise exception

        def __getattr__(self, name):
            return getattr(self._real, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._real.close()
            return False

    monkeypatch.setattr(module.os, "fdopen", lambda *a, **k: Half(real_fdopen(*a, **k)))


FAILURE_POINTS = ["write", "write_interrupt", "fsync", "chmod", "replace", "replace_interrupt"]


def _inject(monkeypatch, module, point):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt() if point.endswith("interrupt") else _Boom(point)

    if point.startswith("write"):
        _fail_write(monkeypatch, module,
                    KeyboardInterrupt() if point.endswith("interrupt") else _Boom(point))
    elif point == "fsync":
        monkeypatch.setattr(module.os, "fsync", boom)
    elif point == "chmod":
        monkeypatch.setattr(module.os, "chmod", boom)
    else:
        monkeypatch.setattr(module.os, "replace", boom)


def _assert_untouched(directory, before):
    after = {path.name: path.read_bytes() for path in directory.iterdir()}
    assert after == before, sorted(after)


@pytest.mark.parametrize("existing", [False, True], ids=["no_old_file", "old_file"])
@pytest.mark.parametrize("point", FAILURE_POINTS)
def test_export_failure_at_any_step_leaves_old_header_or_none(tmp_path, monkeypatch, point,
                                                             existing):
    if existing:
        export.export_header(graph_of(linear()), tmp_path, command="old",
                             checkpoint_sha256=None)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    with monkeypatch.context() as patch:
        _inject(patch, export, point)
        with pytest.raises((_Boom, KeyboardInterrupt)):
            export.export_header(graph_of(linear()), tmp_path, command="new",
                                 checkpoint_sha256=None)
    _assert_untouched(tmp_path, before)
    # And the next run succeeds, replacing the old header.
    path = export.export_header(graph_of(linear()), tmp_path, command="new",
                                checkpoint_sha256=None)
    assert b"\n// command:      new\n" in path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.h", "net.i8g"]


@pytest.mark.parametrize("existing", [False, True], ids=["no_old_file", "old_file"])
@pytest.mark.parametrize("point", ["save", "fsync", "replace", "replace_interrupt"])
def test_checkpoint_save_failure_leaves_old_checkpoint_or_none(tmp_path, monkeypatch, point,
                                                               existing):
    from integr8 import train

    model = _small_model()
    path = tmp_path / "model.pt"
    if existing:
        train.save_checkpoint(_small_model(seed=1), path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with monkeypatch.context() as patch:
        if point == "save":
            real_save = torch.save

            def half_save(obj, stream, *args, **kwargs):
                real_save(obj, stream, *args, **kwargs)
                stream.seek(0)
                stream.truncate(10)
                raise _Boom("disk full")

            patch.setattr(train.torch, "save", half_save)
        else:
            _inject(patch, train, point)
        with pytest.raises((_Boom, KeyboardInterrupt)):
            train.save_checkpoint(model, path)
    _assert_untouched(tmp_path, before)
    train.save_checkpoint(model, path)
    loaded = train.load_checkpoint(_small_model(seed=2), path)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(),
                                                 model.state_dict().values()))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


@pytest.mark.parametrize("point", FAILURE_POINTS)
def test_results_write_failure_leaves_old_file_or_none(tmp_path, monkeypatch, point):
    from integr8 import validate

    target = tmp_path / "results.json"
    validate._atomic_write(target, b'{"old": true}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with monkeypatch.context() as patch:
        _inject(patch, validate, point)
        with pytest.raises((_Boom, KeyboardInterrupt)):
            validate._atomic_write(target, b'{"new": true}\n')
    _assert_untouched(tmp_path, before)


# ---------------------------------------------------------------------------------------
# Reproducibility across processes

_REGENERATE = textwrap.dedent("""
    import dataclasses, pathlib, sys
    import torch
    from integr8 import calibrate, export, train

    checkpoint, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3))
    model = train.load_checkpoint(model, checkpoint).eval()
    images = torch.rand(16, 1, 4, 4, generator=torch.Generator().manual_seed(5))
    graph = calibrate.calibrate(model, images, name="net")
    # Set-valued metadata: its text must not follow the process's string hash order.
    graph = dataclasses.replace(graph, metadata={**graph.metadata,
                                                 "tags": {"alpha", "beta", "gamma", "delta"}})
    export.export_header(graph, out, command="regenerate", checkpoint_sha256="ab" * 32)
""")


def test_regeneration_from_a_checkpoint_is_byte_identical_across_processes(tmp_path):
    """The bundled MNIST headers have their own check (test_bundled_models.py,
    test_header_reexports_byte_for_byte, with MNIST installed); this one needs no data set
    and runs each export in a fresh interpreter with a different string hash seed."""
    from integr8 import train

    checkpoint = tmp_path / "model.pt"
    train.save_checkpoint(_small_model(seed=3), checkpoint)
    headers = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        out.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", _REGENERATE, str(checkpoint), str(out)],
                       check=True, env=env, capture_output=True, timeout=300)
        headers.append((out / "net.h").read_bytes())
    assert headers[0] == headers[1]
    assert b"//   tags: [\"alpha\", \"beta\", \"delta\", \"gamma\"]" in headers[0]
