"""The quantized graph: the one place where a model's integer parameters are decided.

Calibration (``integr8.calibrate``) produces a :class:`QuantizedGraph`; everything downstream
only reads it: the NumPy reference runs it (``integr8.interpreter.run``), the exporter writes it
as a C++ header (``integr8.export``), and validation compares both with PyTorch.

A graph is a chain of layers over one sample, matching the C++ ``integr8::Sequential``; a
residual block nests a chain whose output is added to the block's input. Tensors are HWC
(a vector is 1x1xC). Every integer array is stored in the layout the device uses
(docs/spec.md section 1), so the exporter writes arrays as they are.

Each layer validates itself on construction, so a graph that exists is one the C++ library
accepts; errors name the layer, the field and the value. Validation is strict about types as
well as ranges, because the exporter writes fields as C++ tokens: integer fields must be ints
(Python or NumPy, never bool or float), flags bools, integer arrays NumPy arrays of an integer
dtype, and every shape positive with at most INT32_MAX elements (the kernels' int32 sizes).
"""

from __future__ import annotations

import dataclasses
import keyword
import math
import numbers
import re
from typing import Union

import numpy as np

from integr8 import spec

# Matched with fullmatch: "$" alone would accept a trailing newline ("fc\n").
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


class GraphError(ValueError):
    """A quantized graph (or what it is built from) that integr8 cannot represent."""


def _fail(layer: str, field: str, value, why: str):
    # A name that failed validation is quoted with repr, so that it cannot break the message.
    label = (f"'{layer}'" if isinstance(layer, str) and _IDENTIFIER.fullmatch(layer)
             else repr(layer))
    if isinstance(value, np.generic):  # -129, not np.int64(-129) (the type is in `why`)
        value = value.item()
    raise GraphError(f"layer {label}: {field} = {value!r}: {why}")


def _is_int(value) -> bool:
    """A Python or NumPy integer; bools are refused (True would be written as a token)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(layer: str, field: str, value, lo: int | None = None, hi: int | None = None):
    if not _is_int(value):
        _fail(layer, field, value, f"must be an int, not {type(value).__name__}")
    if lo is not None and value < lo:
        _fail(layer, field, value, f"must be >= {lo}")
    if hi is not None and value > hi:
        _fail(layer, field, value, f"must be <= {hi}")


def _check_bool(layer: str, field: str, value):
    if not isinstance(value, (bool, np.bool_)):
        _fail(layer, field, value, f"must be a bool, not {type(value).__name__}")


def _check_pair(layer: str, field: str, value, lo: int):
    """(height, width) of ints >= lo."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail(layer, field, value, "must be a pair (height, width) of ints")
    for axis, item in enumerate(value):
        _check_int(layer, f"{field}[{axis}]", item, lo, spec.INT32_MAX)


def _check_name(owner: str, field: str, name):
    if (not isinstance(name, str) or not _IDENTIFIER.fullmatch(name)
            or keyword.iskeyword(name)):
        _fail(owner, field, name,
              "must match [a-z][a-z0-9_]* (and not be a Python keyword)")


def _check_int8(layer: str, field: str, value: int):
    _check_int(layer, field, value)
    if not spec.INT8_MIN <= value <= spec.INT8_MAX:
        _fail(layer, field, value, "must lie in [-128, 127]")


def _check_clamp(layer: str, activation_min: int, activation_max: int):
    _check_int8(layer, "activation_min", activation_min)
    _check_int8(layer, "activation_max", activation_max)
    if activation_min > activation_max:
        _fail(layer, "activation_min", activation_min, f"exceeds activation_max {activation_max}")


def _check_array(layer: str, field: str, array, ndim: int):
    """A NumPy array of an integer dtype (never float: NaN or 1.5 would be truncated when the
    header is written) with `ndim` axes."""
    if not isinstance(array, np.ndarray):
        _fail(layer, field, type(array).__name__, "must be a numpy.ndarray of integers")
    if array.dtype.kind not in "iu":
        _fail(layer, f"{field}.dtype", str(array.dtype),
              "must be an integer dtype (integr8 never rounds or truncates)")
    if array.ndim != ndim:
        _fail(layer, f"{field}.shape", array.shape, f"must have {ndim} axes")


def _check_multipliers(layer: str, field: str, multipliers: np.ndarray, shifts: np.ndarray):
    bad = (multipliers < spec.MULTIPLIER_MIN) | (multipliers > spec.MULTIPLIER_MAX)
    if bad.any():
        _fail(layer, field, int(multipliers[bad][0]), "multiplier must lie in [2^30, 2^31 - 1]")
    bad = (shifts < spec.SHIFT_MIN) | (shifts > spec.SHIFT_MAX)
    if bad.any():
        _fail(layer, field, int(shifts[bad][0]), "shift must lie in [1, 62]")


@dataclasses.dataclass(frozen=True)
class Shape:
    """One sample's activation shape, HWC; layers check it (_check_shape)."""

    height: int
    width: int
    channels: int

    @property
    def elements(self) -> int:
        return self.height * self.width * self.channels

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)


def _check_shape(layer: str, field: str, shape):
    """Positive int extents whose product the kernels' int32 sizes can hold."""
    if not isinstance(shape, Shape):
        _fail(layer, field, shape, "must be an integr8.qgraph.Shape")
    for axis in ("height", "width", "channels"):
        _check_int(layer, f"{field}.{axis}", getattr(shape, axis), 1, spec.INT32_MAX)
    if shape.elements > spec.INT32_MAX:
        _fail(layer, field, shape.as_tuple(),
              f"{shape.elements} elements exceed INT32_MAX, the kernels' int32 sizes")


@dataclasses.dataclass(frozen=True)
class Quant:
    """How a tensor's real values map to int8: r = scale * (q - zero_point)."""

    scale: float
    zero_point: int

    def check(self, layer: str, field: str):
        if isinstance(self.scale, (bool, np.bool_)) or not isinstance(self.scale, numbers.Real):
            _fail(layer, f"{field}.scale", self.scale,
                  f"must be a real number, not {type(self.scale).__name__}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            _fail(layer, f"{field}.scale", self.scale, "must be finite and > 0")
        _check_int8(layer, f"{field}.zero_point", self.zero_point)


@dataclasses.dataclass(frozen=True)
class Requantization:
    """int32 accumulator -> int8 output: multipliers/shifts (one per channel, or one), the
    output zero point and the fused activation clamp (docs/spec.md section 4)."""

    multipliers: np.ndarray  # int64 array, values in [2^30, 2^31 - 1]
    shifts: np.ndarray  # int64 array, values in [1, 62]
    output_zero_point: int
    activation_min: int
    activation_max: int

    @property
    def per_channel(self) -> bool:
        return self.multipliers.size > 1

    def check(self, layer: str, channels: int):
        _check_array(layer, "multipliers", self.multipliers, 1)
        _check_array(layer, "shifts", self.shifts, 1)
        if self.multipliers.shape != self.shifts.shape or self.multipliers.size not in (1, channels):
            _fail(layer, "multipliers", self.multipliers.shape,
                  f"need 1 or {channels} entries, as many as shifts {self.shifts.shape}")
        _check_multipliers(layer, "requantization", self.multipliers, self.shifts)
        _check_int8(layer, "output_zero_point", self.output_zero_point)
        _check_clamp(layer, self.activation_min, self.activation_max)


def _check_requantization(layer: str, requantization, channels: int):
    if not isinstance(requantization, Requantization):
        _fail(layer, "requantization", type(requantization).__name__,
              "must be an integr8.qgraph.Requantization")
    requantization.check(layer, channels)


def _check_int_array(layer: str, field: str, array: np.ndarray, shape: tuple, lo: int, hi: int):
    _check_array(layer, field, array, len(shape))
    if array.shape != shape:
        _fail(layer, f"{field}.shape", array.shape, f"expected {shape}")
    if array.size > spec.INT32_MAX:  # before scanning it (a broadcast view costs nothing)
        _fail(layer, f"{field}.shape", array.shape,
              f"{array.size} values exceed INT32_MAX, the kernels' int32 indexing")
    if array.size and (array.min() < lo or array.max() > hi):
        value = int(array.min()) if array.min() < lo else int(array.max())
        _fail(layer, field, value, f"must lie in [{lo}, {hi}]")


def _check_accumulator_bound(layer: str, bias: np.ndarray, products: int):
    worst = spec.accumulator_worst_case(bias, products)
    if (worst >= spec.ACCUMULATOR_LIMIT).any():
        channel = int(np.argmax(worst))
        _fail(layer, f"bias[{channel}]", int(bias[channel]),
              f"|b'| + {products} * 128 * 127 reaches 2^31 (accumulator bound, spec section 3)")


@dataclasses.dataclass(frozen=True)
class _Layer:
    """Fields every layer has: a C++-safe unique name, the PyTorch module it came from, its
    input and output shapes, and its output quantization."""

    name: str
    source: str
    input_shape: Shape
    output_shape: Shape
    output: Quant

    def __post_init__(self):
        _check_name(self.name, "name", self.name)
        if not isinstance(self.source, str):
            _fail(self.name, "source", self.source, "must be a str")
        _check_shape(self.name, "input_shape", self.input_shape)
        _check_shape(self.name, "output_shape", self.output_shape)
        if not isinstance(self.output, Quant):
            _fail(self.name, "output", self.output, "must be an integr8.qgraph.Quant")
        self.output.check(self.name, "output")
        self._check()

    def _check(self):
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Linear(_Layer):
    """output[o] = requant(bias[o] + sum_i x[i] * weights[o][i]); input is flattened HWC."""

    weights: np.ndarray  # int8 [out][in], values in [-127, 127]
    bias: np.ndarray  # int32 [out], input zero point folded in
    requantization: Requantization

    def _check(self):
        inputs, outputs = self.input_shape.elements, self.output_shape.elements
        _check_int_array(self.name, "weights", self.weights, (outputs, inputs),
                         spec.WEIGHT_MIN, spec.WEIGHT_MAX)
        _check_int_array(self.name, "bias", self.bias, (outputs,), spec.INT32_MIN,
                         spec.INT32_MAX)
        _check_requantization(self.name, self.requantization, outputs)
        _check_accumulator_bound(self.name, self.bias, inputs)


@dataclasses.dataclass(frozen=True)
class Conv2d(_Layer):
    """Convolution, NHWC input, OHWI filter; padded taps read input_zero_point."""

    filter: np.ndarray  # int8 [out][kh][kw][in / groups]
    bias: np.ndarray  # int32 [out]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    input_zero_point: int
    requantization: Requantization

    def _check(self):
        _check_array(self.name, "filter", self.filter, 4)
        out_c, kh, kw, in_per_group = self.filter.shape
        _check_int(self.name, "groups", self.groups)
        if self.groups < 1 or self.input_shape.channels % self.groups or out_c % self.groups:
            _fail(self.name, "groups", self.groups,
                  f"must divide input channels {self.input_shape.channels} and output {out_c}")
        _check_int_array(self.name, "filter", self.filter,
                         (self.output_shape.channels, kh, kw,
                          self.input_shape.channels // self.groups),
                         spec.WEIGHT_MIN, spec.WEIGHT_MAX)
        _check_int_array(self.name, "bias", self.bias, (out_c,), spec.INT32_MIN,
                         spec.INT32_MAX)
        _check_window(self, (kh, kw), self.dilation, ceil_mode=False)
        _check_requantization(self.name, self.requantization, out_c)
        _check_accumulator_bound(self.name, self.bias, kh * kw * in_per_group)


@dataclasses.dataclass(frozen=True)
class DepthwiseConv2d(_Layer):
    """Depthwise convolution, 1HWC filter; output channel c reads c // depth_multiplier."""

    filter: np.ndarray  # int8 [1][kh][kw][in * depth_multiplier]
    bias: np.ndarray  # int32 [in * depth_multiplier]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    depth_multiplier: int
    input_zero_point: int
    requantization: Requantization

    def _check(self):
        _check_int(self.name, "depth_multiplier", self.depth_multiplier, 1, spec.INT32_MAX)
        channels = self.input_shape.channels * self.depth_multiplier
        if self.output_shape.channels != channels:
            _fail(self.name, "depth_multiplier", self.depth_multiplier,
                  f"input {self.input_shape.channels} channels do not give {self.output_shape.channels}")
        _check_array(self.name, "filter", self.filter, 4)
        _, kh, kw, _ = self.filter.shape
        _check_int_array(self.name, "filter", self.filter, (1, kh, kw, channels),
                         spec.WEIGHT_MIN, spec.WEIGHT_MAX)
        _check_int_array(self.name, "bias", self.bias, (channels,), spec.INT32_MIN,
                         spec.INT32_MAX)
        _check_window(self, (kh, kw), self.dilation, ceil_mode=False)
        _check_requantization(self.name, self.requantization, channels)
        _check_accumulator_bound(self.name, self.bias, kh * kw)


@dataclasses.dataclass(frozen=True)
class Pool2d(_Layer):
    """Max or average pooling; scale and zero point pass through (output == input quant)."""

    kind: str  # "max" or "avg"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    ceil_mode: bool
    count_include_pad: bool
    input_zero_point: int
    activation_min: int
    activation_max: int

    def _check(self):
        if self.kind not in ("max", "avg"):
            _fail(self.name, "kind", self.kind, "must be 'max' or 'avg'")
        if self.input_shape.channels != self.output_shape.channels:
            _fail(self.name, "output_shape", self.output_shape, "pooling keeps the channels")
        _check_pair(self.name, "kernel", self.kernel, 1)
        _check_pair(self.name, "padding", self.padding, 0)
        _check_bool(self.name, "ceil_mode", self.ceil_mode)
        _check_bool(self.name, "count_include_pad", self.count_include_pad)
        for axis in (0, 1):
            if not 0 <= self.padding[axis] <= self.kernel[axis] // 2:
                _fail(self.name, "padding", self.padding, "must lie in [0, kernel / 2]")
        _check_window(self, self.kernel, (1, 1), ceil_mode=self.ceil_mode)
        input_hw = (self.input_shape.height, self.input_shape.width)
        if not spec.pool_taps_hold(input_hw, self.kernel, self.padding):
            _fail(self.name, "kernel", self.kernel,
                  f"a window counts more than {spec.POOL_MAX_WINDOW_TAPS} taps (spec section 5)")
        _check_clamp(self.name, self.activation_min, self.activation_max)


@dataclasses.dataclass(frozen=True)
class Relu(_Layer):
    """Standalone ReLU / ReLU6 as a clamp on raw int8 values."""

    activation_min: int
    activation_max: int

    def _check(self):
        if self.input_shape != self.output_shape:
            _fail(self.name, "output_shape", self.output_shape, "a clamp keeps the shape")
        _check_clamp(self.name, self.activation_min, self.activation_max)


@dataclasses.dataclass(frozen=True)
class Residual(_Layer):
    """output = add(input, body(input)) with the add's rescaling (docs/spec.md section 6)."""

    body: tuple  # of layers, a chain from input_shape back to input_shape
    input_zero_point: int
    input_multiplier: int
    input_shift: int
    body_zero_point: int
    body_multiplier: int
    body_shift: int
    requantization: Requantization  # per tensor: the sum's multiplier, z_out and clamp

    def _check(self):
        if self.input_shape != self.output_shape:
            _fail(self.name, "output_shape", self.output_shape, "a residual block keeps the shape")
        if not isinstance(self.body, tuple):
            _fail(self.name, "body", type(self.body).__name__, "must be a tuple of layers")
        for prefix in ("input", "body"):
            _check_int(self.name, f"{prefix}_multiplier", getattr(self, f"{prefix}_multiplier"))
            _check_int(self.name, f"{prefix}_shift", getattr(self, f"{prefix}_shift"))
        _check_chain(self.name, self.body, self.input_shape)
        if not self.body or self.body[-1].output_shape != self.input_shape:
            _fail(self.name, "body", [layer.name for layer in self.body],
                  f"must end in shape {self.input_shape}")
        if self.body[-1].output.zero_point != self.body_zero_point:
            _fail(self.name, "body_zero_point", self.body_zero_point,
                  f"the body's last layer writes zero point {self.body[-1].output.zero_point}")
        for prefix in ("input", "body"):
            _check_multipliers(self.name, f"{prefix}_multiplier",
                               np.array([getattr(self, f"{prefix}_multiplier")]),
                               np.array([getattr(self, f"{prefix}_shift")]))
            _check_int8(self.name, f"{prefix}_zero_point", getattr(self, f"{prefix}_zero_point"))
            multiplier = getattr(self, f"{prefix}_multiplier")
            if not spec.add_input_rescale_holds(multiplier, getattr(self, f"{prefix}_shift")):
                _fail(self.name, f"{prefix}_multiplier", multiplier,
                      f"with {prefix}_shift {getattr(self, f'{prefix}_shift')} rescales by more "
                      "than 1/2 (spec section 6)")
        requant = self.requantization
        if (isinstance(requant, Requantization) and isinstance(requant.multipliers, np.ndarray)
                and requant.multipliers.size > 1):
            _fail(self.name, "requantization", requant.multipliers.size,
                  "the add's output requantization is per tensor")
        _check_requantization(self.name, requant, 1)


Layer = Union[Linear, Conv2d, DepthwiseConv2d, Pool2d, Relu, Residual]


def _check_window(layer, kernel, dilation, *, ceil_mode):
    """Shape, stride and padding of a sliding window must give the declared output shape."""
    _check_pair(layer.name, "stride", layer.stride, 1)
    _check_pair(layer.name, "padding", layer.padding, 0)
    _check_pair(layer.name, "dilation", dilation, 1)
    _check_pair(layer.name, "kernel", kernel, 1)
    expected = []
    for axis, size in enumerate((layer.input_shape.height, layer.input_shape.width)):
        for field, value, lo in (("stride", layer.stride[axis], 1), ("dilation", dilation[axis], 1),
                                 ("padding", layer.padding[axis], 0), ("kernel", kernel[axis], 1)):
            if value < lo:
                _fail(layer.name, field, value, f"must be >= {lo}")
        try:
            extent = spec.output_extent(int(size), int(kernel[axis]), int(layer.stride[axis]),
                                        int(dilation[axis]), int(layer.padding[axis]),
                                        ceil_mode)
        except ValueError as error:
            _fail(layer.name, "kernel", tuple(kernel), str(error))
        expected.append(extent)
    if tuple(expected) != (layer.output_shape.height, layer.output_shape.width):
        _fail(layer.name, "output_shape", layer.output_shape.as_tuple(),
              f"the window gives {tuple(expected)}")
    _check_int8(layer.name, "input_zero_point", layer.input_zero_point)


def _check_chain(owner: str, layers, input_shape: Shape, input_quant: Quant | None = None):
    """Shapes must chain; where the input quantization is known, every zero point a layer
    assumes for its input must be the one its producer writes, and layers that pass
    quantization through (pooling, standalone ReLU) must keep it."""
    shape, quant = input_shape, input_quant
    for layer in layers:
        if not isinstance(layer, _Layer):
            _fail(owner, "layers", type(layer).__name__, "must hold integr8.qgraph layers")
        if layer.input_shape != shape:
            _fail(layer.name, "input_shape", layer.input_shape.as_tuple(),
                  f"the previous layer in '{owner}' produces {shape.as_tuple()}")
        if quant is not None:
            assumed = getattr(layer, "input_zero_point", quant.zero_point)
            if assumed != quant.zero_point:
                _fail(layer.name, "input_zero_point", assumed,
                      f"its input in '{owner}' has zero point {quant.zero_point}")
            if isinstance(layer, (Pool2d, Relu)) and layer.output != quant:
                _fail(layer.name, "output", layer.output,
                      f"pooling and ReLU pass their input quantization {quant} through")
        if isinstance(layer, Residual):
            _check_chain(layer.name, layer.body, layer.input_shape, quant)
        shape, quant = layer.output_shape, layer.output


def iter_layers(layers):
    """Every layer, residual bodies included, in execution order (a block after its body)."""
    for layer in layers:
        if isinstance(layer, Residual):
            yield from iter_layers(layer.body)
        yield layer


@dataclasses.dataclass(frozen=True)
class QuantizedGraph:
    """A whole model: its input quantization, its layers and provenance metadata."""

    name: str
    input_shape: Shape
    input: Quant
    layers: tuple
    metadata: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        _check_name(self.name, "name", self.name)
        if not isinstance(self.layers, tuple):
            _fail(self.name, "layers", type(self.layers).__name__, "must be a tuple of layers")
        if not self.layers:
            _fail(self.name, "layers", (), "a graph needs at least one layer")
        if not isinstance(self.metadata, dict):
            _fail(self.name, "metadata", type(self.metadata).__name__, "must be a dict")
        _check_shape(self.name, "input_shape", self.input_shape)
        if not isinstance(self.input, Quant):
            _fail(self.name, "input", self.input, "must be an integr8.qgraph.Quant")
        self.input.check(self.name, "input")
        _check_chain(self.name, self.layers, self.input_shape, self.input)
        names = [layer.name for layer in iter_layers(self.layers)]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            _fail(self.name, "layer names", duplicates, "must be unique")

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape

    @property
    def output(self) -> Quant:
        return self.layers[-1].output

    @property
    def weight_bytes(self) -> int:
        """Bytes of int8 weights (filters included) the model stores."""
        return sum(getattr(layer, "weights", getattr(layer, "filter", np.empty(0))).size
                   for layer in iter_layers(self.layers))
