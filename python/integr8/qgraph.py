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
import json
import keyword
import math
import numbers
import os
import re
import tempfile
import zipfile
from pathlib import Path
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
        if (self.multipliers.shape != self.shifts.shape
                or self.multipliers.size not in (1, channels)):
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


# Every layer kind by its class name (the graph file's "kind"); each _Layer subclass adds
# itself.
LAYER_KINDS: dict = {}


@dataclasses.dataclass(frozen=True)
class _Layer:
    """Fields every layer has: a C++-safe unique name, the PyTorch module it came from, its
    input and output shapes, and its output quantization."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LAYER_KINDS[cls.__name__] = cls

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

    @property
    def macs(self) -> int:
        return self.weights.size


def _window_macs(layer, taps_per_output: int) -> int:
    """Multiply-accumulates of a convolution: every output element takes its taps."""
    return layer.output_shape.elements * taps_per_output


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

    @property
    def macs(self) -> int:
        return _window_macs(self, math.prod(self.filter.shape[1:]))


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
                  f"input {self.input_shape.channels} channels do not give "
                  f"{self.output_shape.channels}")
        _check_array(self.name, "filter", self.filter, 4)
        _, kh, kw, _ = self.filter.shape
        _check_int_array(self.name, "filter", self.filter, (1, kh, kw, channels),
                         spec.WEIGHT_MIN, spec.WEIGHT_MAX)
        _check_int_array(self.name, "bias", self.bias, (channels,), spec.INT32_MIN,
                         spec.INT32_MAX)
        _check_window(self, (kh, kw), self.dilation, ceil_mode=False)
        _check_requantization(self.name, self.requantization, channels)
        _check_accumulator_bound(self.name, self.bias, kh * kw)

    @property
    def macs(self) -> int:
        return _window_macs(self, self.filter.shape[1] * self.filter.shape[2])


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

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one inference (Linear and convolution layers)."""
        return sum(layer.macs for layer in iter_layers(self.layers) if hasattr(layer, "macs"))

    def save(self, path) -> None:
        """Writes the graph file (see :func:`save`)."""
        save(self, path)

    @classmethod
    def load(cls, path) -> "QuantizedGraph":
        """Reads a graph file (see :func:`load`)."""
        return load(path)


# ---------------------------------------------------------------------------------------
# The graph file: a versioned JSON manifest and the integer arrays, in one NumPy .npz archive
# (read with allow_pickle=False). The manifest names every layer's kind and fields; each
# array is stored under a key the manifest gives with its dtype and shape, which loading
# checks. The exporter writes one beside every header, so that tools read a model from its
# graph and never from generated C++.

GRAPH_FILE_FORMAT = "integr8-quantized-graph"
GRAPH_FILE_SCHEMA = 1
GRAPH_FILE_SUFFIX = ".i8g"
_MANIFEST_KEY = "manifest"


class GraphFileError(GraphError):
    """A graph file that is damaged, foreign, or of another version."""


def canonical_metadata(key: str, value):
    """Metadata as JSON values whose text does not depend on the run: NumPy values as Python
    ones, sets sorted, keys made str; an object whose repr may hold an address or a hash
    order is refused (GraphError naming the key)."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if isinstance(value, (list, tuple)):
        return [canonical_metadata(key, item) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [canonical_metadata(key, item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, dict):
        return {str(k): canonical_metadata(key, v) for k, v in value.items()}
    raise GraphError(f"metadata[{key!r}]: a {type(value).__name__} cannot be recorded "
                     "reproducibly (its text may change from run to run); pass str(value) "
                     "or a JSON-like value")


def _encode(value, arrays: dict, key: str):
    """A field value as JSON, its arrays moved into `arrays` under keys below `key`."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"array": key, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, Shape):
        return {"shape": list(value.as_tuple())}
    if isinstance(value, Quant):
        return {"quant": {"scale": float(value.scale), "zero_point": int(value.zero_point)}}
    if isinstance(value, Requantization):
        return {"requantization": {field.name: _encode(getattr(value, field.name), arrays,
                                                       f"{key}.{field.name}")
                                   for field in dataclasses.fields(value)}}
    if isinstance(value, tuple) and value and isinstance(value[0], _Layer):
        return {"layers": [_encode_layer(layer, arrays) for layer in value]}
    if isinstance(value, tuple):
        return {"pair": [_encode(item, arrays, key) for item in value]}
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _encode_layer(layer, arrays: dict) -> dict:
    return {"kind": type(layer).__name__,
            "fields": {field.name: _encode(getattr(layer, field.name), arrays,
                                           f"{layer.name}.{field.name}")
                       for field in dataclasses.fields(layer)}}


def save(graph: QuantizedGraph, path, *, export_record: dict | None = None) -> None:
    """Writes `graph` to `path` (by convention ``<name>.i8g``) atomically: a temporary file in
    the same directory, renamed over the target once complete.

    export_record: what the exporter records of the header it writes beside the graph
    (command line, checkpoint hash); read back by :func:`read_export_record`."""
    if not isinstance(graph, QuantizedGraph):
        raise GraphError(f"save takes an integr8.qgraph.QuantizedGraph, not "
                         f"{type(graph).__name__}")
    path = Path(path)
    arrays: dict = {}
    manifest = {
        "format": GRAPH_FILE_FORMAT, "schema_version": GRAPH_FILE_SCHEMA,
        "spec_version": spec.VERSION, "name": graph.name,
        "input_shape": _encode(graph.input_shape, arrays, "input_shape"),
        "input": _encode(graph.input, arrays, "input"),
        "metadata": {str(key): canonical_metadata(str(key), value)
                     for key, value in graph.metadata.items()},
        "layers": [_encode_layer(layer, arrays) for layer in graph.layers],
        "export": canonical_metadata("export_record", export_record or {}),
    }
    text = json.dumps(manifest, sort_keys=True, allow_nan=False)
    entries = {_MANIFEST_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                     dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as temp:
            # np.savez's layout, with a fixed entry date so that the bytes depend on the
            # graph alone.
            with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_STORED) as archive:
                for key, array in entries.items():
                    info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                    with archive.open(info, "w") as stream:
                        np.lib.format.write_array(stream, np.ascontiguousarray(array),
                                                  allow_pickle=False)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number a graph file may hold")


class _Reader:
    """Decodes one manifest against its arrays; errors name the file and the field."""

    def __init__(self, path: Path, arrays):
        self.path, self.arrays = path, arrays

    def fail(self, field: str, why: str):
        raise GraphFileError(f"graph file {str(self.path)!r}: {field}: {why}")

    def decode(self, value, field: str):
        if isinstance(value, list):
            self.fail(field, "a list where the schema has a tagged value")
        if not isinstance(value, dict):
            return value
        if len(value) == 3 and "array" in value:
            return self.array(value, field)
        if len(value) != 1:
            self.fail(field, f"unknown value {sorted(value)}")
        (tag, content), = value.items()
        if tag == "shape" and isinstance(content, list) and len(content) == 3:
            return Shape(*content)
        if tag == "quant" and isinstance(content, dict) and set(content) == {"scale",
                                                                           "zero_point"}:
            return Quant(**content)
        if tag == "requantization" and isinstance(content, dict):
            return self.fields(Requantization, content, field)
        if tag == "layers" and isinstance(content, list):
            return tuple(self.layer(item, f"{field}[{index}]")
                         for index, item in enumerate(content))
        if tag == "pair" and isinstance(content, list):
            return tuple(self.decode(item, field) for item in content)
        self.fail(field, f"malformed {tag!r} value")

    def array(self, entry: dict, field: str) -> np.ndarray:
        key = entry["array"]
        if not isinstance(key, str) or key == _MANIFEST_KEY or key not in self.arrays:
            self.fail(field, f"array {key!r} is missing from the file")
        array = self.arrays[key]
        if array.dtype.str != entry["dtype"]:
            self.fail(field, f"array dtype {array.dtype.str} differs from the manifest's "
                             f"{entry['dtype']!r}")
        if list(array.shape) != entry["shape"]:
            self.fail(field, f"array shape {list(array.shape)} differs from the manifest's "
                             f"{entry['shape']}")
        return array

    def fields(self, cls, content: dict, field: str):
        expected = {item.name for item in dataclasses.fields(cls)}
        if set(content) != expected:
            missing, extra = sorted(expected - set(content)), sorted(set(content) - expected)
            self.fail(field, f"{cls.__name__} fields differ: missing {missing}, unknown {extra}")
        values = {name: self.decode(value, f"{field}.{name}") for name, value in content.items()}
        return cls(**values)

    def layer(self, entry, field: str):
        if not isinstance(entry, dict) or set(entry) != {"kind", "fields"}:
            self.fail(field, "a layer needs exactly 'kind' and 'fields'")
        cls = LAYER_KINDS.get(entry["kind"])
        if cls is None:
            self.fail(f"{field}.kind", f"unknown layer kind {entry['kind']!r} (known: "
                                       f"{', '.join(sorted(LAYER_KINDS))})")
        if not isinstance(entry["fields"], dict):
            self.fail(f"{field}.fields", "must be an object")
        return self.fields(cls, entry["fields"], f"{field} ({entry['kind']})")


def _read_manifest(path: Path):
    """(manifest, arrays) of a graph file whose format and versions this integr8 reads."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise GraphFileError(f"graph file {str(path)!r} is not a graph archive "
                             f"({error})") from None
    reader = _Reader(path, arrays)
    raw = arrays.get(_MANIFEST_KEY)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        reader.fail(_MANIFEST_KEY, "missing, or not a byte array")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError as error:
        reader.fail(_MANIFEST_KEY, f"not valid JSON ({error})")
    if not isinstance(manifest, dict):
        reader.fail(_MANIFEST_KEY, "must be a JSON object")
    for field, expected in (("format", GRAPH_FILE_FORMAT), ("schema_version", GRAPH_FILE_SCHEMA),
                            ("spec_version", spec.VERSION)):
        if manifest.get(field) != expected:
            reader.fail(field, f"{manifest.get(field)!r}, this integr8 reads {expected!r}")
    required = {"format", "schema_version", "spec_version", "name", "input_shape", "input",
                "metadata", "layers", "export"}
    if set(manifest) != required:
        reader.fail("manifest", f"fields differ: missing {sorted(required - set(manifest))}, "
                                f"unknown {sorted(set(manifest) - required)}")
    for field, kind in (("layers", list), ("metadata", dict), ("export", dict)):
        if not isinstance(manifest[field], kind):
            reader.fail(field, f"must be a JSON {'array' if kind is list else 'object'}")
    return manifest, reader


def read_export_record(path) -> dict:
    """The export record :func:`save` was given ({} if none): for the exporter's graph files
    the command line and checkpoint_sha256 of the header beside it."""
    manifest, _ = _read_manifest(Path(path))
    return manifest["export"]


def load(path) -> QuantizedGraph:
    """Reads a graph file written by :func:`save`. A damaged or foreign file (not an archive,
    another format, schema or spec version, a missing array, a dtype or shape other than the
    manifest's, NaN or a value a layer refuses) raises GraphFileError or GraphError naming
    the field."""
    manifest, reader = _read_manifest(Path(path))
    layers = reader.decode({"layers": manifest["layers"]}, "layers") if manifest["layers"] else ()
    return QuantizedGraph(name=manifest["name"],
                          input_shape=reader.decode(manifest["input_shape"], "input_shape"),
                          input=reader.decode(manifest["input"], "input"), layers=layers,
                          metadata=manifest["metadata"])
