"""Post-training quantization: a float model and calibration images -> QuantizedGraph.

:func:`calibrate` captures the model (``integr8.capture``), runs the float chain in float64 on
the calibration images (batched, ``torch.no_grad``), observes the range of the model input and of
every layer output that is requantized (Linear, Conv2d, depthwise, residual add), and builds
an :class:`integr8.qgraph.QuantizedGraph` exactly as docs/spec.md section 2 prescribes:

- weights per output channel, symmetric: ``s_w[c] = max|w[c]| / 127`` (1 for an all-zero
  channel), ``w_q = clamp(round_half_even(w / s_w), -127, 127)``;
- activations from an observed range ``[lo, hi]`` widened to contain 0:
  ``s = max(round24((hi - lo) / 255), 2^-24)`` (24 significant bits),
  ``z = clamp(round_half_even(-128 - lo / s), -128, 127)``;
- bias ``b_q = round_half_even(b / (s_in * s_w[c]))`` in int64, then the zero-point fold
  ``b' = b_q - z_in * sum_k w_q[c, k]`` (int64), refused if it leaves int32 or breaks the
  accumulator bound ``|b'| + K * 128 * 127 < 2^31``;
- requantization ``(m, n) = quantize_multiplier(s_in * s_w[c] / s_out)`` (float64), an
  out-of-range ``M`` refused naming the layer, never flushed;
- fused activation clamps per spec section 4; pooling and standalone ReLU pass the input's
  scale and zero point through; residual adds per spec section 6.

Observers (``observer=``):

- ``"minmax"``: the exact min and max seen. No clipping, but one outlier widens the scale of
  every value, and the range keeps growing with the number of calibration samples.
- ``"percentile"``: the ``percentile`` (default 99.99) and ``100 - percentile`` quantiles,
  from a 2048-bin histogram.
- ``"mse"`` (the default): the clipping range ``[lo, hi]`` minimizing the expected squared
  quantization error over a 2048-bin histogram (values inside the range cost ``s^2 / 12``
  rounding noise, values outside their distance to the range squared; exact zeros, which
  ReLU produces in bulk and which quantize exactly, cost nothing).

Why "mse" by default: it minimizes the very quantity the validation report measures (per-layer
SQNR), trades clipping of rare outliers against resolution for the bulk of the values
automatically instead of through a magic percentile, and does not depend on the calibration
set size the way min/max does. The graph's *output* layer is observed with
``output_observer="minmax"`` by default anyway: clipping logits makes the largest ones tie at
127 and breaks exactly the top-1 decision the model exists for.

Errors are :class:`CalibrationError` (a ``qgraph.GraphError``) naming the layer, the field and
the value.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from integr8 import qgraph, reference, spec
from integr8.capture import (FloatConv2d, FloatGraph, FloatLinear, FloatPool2d, FloatRelu,
                             FloatResidual, capture)

__all__ = [
    "CalibrationError",
    "OBSERVERS",
    "DEFAULT_OBSERVER",
    "ACTIVATION_SCALE_FLOOR",
    "MinMaxObserver",
    "PercentileObserver",
    "MseObserver",
    "make_observer",
    "quant_from_range",
    "quantize_weights",
    "calibrate",
    "build_graph",
    "float_layer_outputs",
    "quantize_input",
    "dequantize",
]

OBSERVERS = ("minmax", "percentile", "mse")
DEFAULT_OBSERVER = "mse"
DEFAULT_PERCENTILE = 99.99
DEFAULT_BINS = 2048
ACTIVATION_SCALE_FLOOR = 2.0**-24  # spec section 2: floor for constant activations
_MSE_CANDIDATES = 256  # clipping bounds tried per side by the mse observer


class CalibrationError(qgraph.GraphError):
    """Calibration data or a quantized parameter integr8 cannot represent."""


def _fail(layer: str, field: str, value, why: str):
    raise CalibrationError(f"layer '{layer}': {field} = {value!r}: {why}")


# ---------------------------------------------------------------------------------------
# Observers


class _Observer:
    """Collects a tensor's range in a first pass (min/max) and, for histogram observers, a
    histogram over that range in a second pass; range() gives the clipping range."""

    needs_histogram = False
    kind = ""

    def __init__(self):
        self.min = math.inf
        self.max = -math.inf
        self.count = 0

    def update_range(self, values: torch.Tensor):
        if values.numel():
            low, high = torch.aminmax(values.detach())
            self.min = min(self.min, float(low))
            self.max = max(self.max, float(high))
            self.count += values.numel()

    def range(self) -> tuple[float, float]:
        if self.count == 0:
            raise ValueError("the observer saw no values")
        return self.min, self.max


class MinMaxObserver(_Observer):
    kind = "minmax"


class _HistogramObserver(_Observer):
    needs_histogram = True

    def __init__(self, bins: int = DEFAULT_BINS):
        super().__init__()
        if not isinstance(bins, int) or bins < 16:
            raise ValueError(f"bins = {bins!r} must be an int >= 16")
        self.bins = bins
        self.counts = None  # float64 [bins], non-zero values only
        self.zeros = 0

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(min(self.min, 0.0), max(self.max, 0.0), self.bins + 1)

    def update_histogram(self, values: torch.Tensor):
        low, high = min(self.min, 0.0), max(self.max, 0.0)
        if self.counts is None:
            self.counts = np.zeros(self.bins)
        values = values.detach().reshape(-1)
        nonzero = values[values != 0]
        self.zeros += values.numel() - nonzero.numel()
        if nonzero.numel() and high > low:
            self.counts += torch.histc(nonzero.double(), self.bins, low, high).numpy()

    def _histogram_ready(self) -> bool:
        return self.counts is not None and self.max > self.min and self.counts.sum() > 0


class PercentileObserver(_HistogramObserver):
    """[quantile(1 - p/100), quantile(p/100)] from the histogram (linear within a bin)."""

    kind = "percentile"

    def __init__(self, percentile: float = DEFAULT_PERCENTILE, bins: int = DEFAULT_BINS):
        super().__init__(bins)
        if not (isinstance(percentile, (int, float)) and 50.0 < percentile <= 100.0):
            raise ValueError(f"percentile = {percentile!r} must lie in (50, 100]")
        self.percentile = float(percentile)

    def range(self) -> tuple[float, float]:
        low, high = super().range()
        if not self._histogram_ready():
            return low, high
        edges = self.edges
        counts = self.counts.copy()
        zero_bin = min(int(np.searchsorted(edges, 0.0, side="right")) - 1, self.bins - 1)
        counts[max(zero_bin, 0)] += self.zeros
        cdf = np.cumsum(counts)
        total = cdf[-1]

        def quantile(fraction):
            rank = fraction * total
            i = int(np.searchsorted(cdf, rank, side="left"))
            i = min(i, self.bins - 1)
            before = cdf[i - 1] if i else 0.0
            inside = (rank - before) / counts[i] if counts[i] else 0.0
            return edges[i] + min(max(inside, 0.0), 1.0) * (edges[i + 1] - edges[i])

        fraction = self.percentile / 100.0
        return max(low, quantile(1.0 - fraction)), min(high, quantile(fraction))


class MseObserver(_HistogramObserver):
    """The range [lo, hi] (bin edges, lo <= 0 <= hi) minimizing the expected squared error:
    sum over values outside of (x - bound)^2 plus (values inside) * s^2 / 12, s = (hi-lo)/255.
    Ties prefer the wider range."""

    kind = "mse"

    def range(self) -> tuple[float, float]:
        low, high = super().range()
        if not self._histogram_ready():
            return low, high
        edges, n = self.edges, self.counts
        centers = (edges[:-1] + edges[1:]) / 2
        cum_n = np.concatenate([[0.0], np.cumsum(n)])
        cum_1 = np.concatenate([[0.0], np.cumsum(n * centers)])
        cum_2 = np.concatenate([[0.0], np.cumsum(n * centers * centers)])
        below_zero = np.nonzero(edges <= 0.0)[0]
        above_zero = np.nonzero(edges >= 0.0)[0]
        # lo = edges[j] clips bins i < j; hi = edges[k] clips bins i >= k.
        j = np.unique(np.linspace(0, below_zero[-1], min(len(below_zero), _MSE_CANDIDATES))
                      .round().astype(int))
        k = np.unique(np.linspace(above_zero[0], self.bins, min(len(above_zero),
                                                                _MSE_CANDIDATES))
                      .round().astype(int))[::-1]  # widest first, so ties keep it
        lo, hi = edges[j][:, None], edges[k][None, :]
        left = cum_2[j][:, None] - 2 * lo * cum_1[j][:, None] + lo * lo * cum_n[j][:, None]
        total_2, total_1, total_n = cum_2[-1], cum_1[-1], cum_n[-1]
        right = ((total_2 - cum_2[k])[None, :] - 2 * hi * (total_1 - cum_1[k])[None, :]
                 + hi * hi * (total_n - cum_n[k])[None, :])
        inside = cum_n[k][None, :] - cum_n[j][:, None]
        scale = np.maximum((hi - lo) / 255.0, ACTIVATION_SCALE_FLOOR)
        error = np.maximum(left, 0) + np.maximum(right, 0) + inside * scale * scale / 12.0
        best_j, best_k = np.unravel_index(int(np.argmin(error)), error.shape)
        return float(lo[best_j, 0]), float(hi[0, best_k])


def make_observer(kind: str, *, percentile: float = DEFAULT_PERCENTILE,
                  bins: int = DEFAULT_BINS) -> _Observer:
    """A fresh observer: "minmax", "percentile" or "mse"."""
    if kind == "minmax":
        return MinMaxObserver()
    if kind == "percentile":
        return PercentileObserver(percentile, bins)
    if kind == "mse":
        return MseObserver(bins)
    raise CalibrationError(f"observer = {kind!r}: must be one of {', '.join(OBSERVERS)}")


# ---------------------------------------------------------------------------------------
# Spec section 2


SCALE_SIGNIFICANT_BITS = 24


def _round_significand(value: float, bits: int = SCALE_SIGNIFICANT_BITS) -> float:
    """value rounded (half to even) to `bits` significant bits: float64 forward passes on
    different CPUs sum in different orders and disagree in the last bits of an observed range;
    a scale kept to 24 bits absorbs that, so headers do not depend on the machine."""
    mantissa, exponent = math.frexp(value)
    return math.ldexp(round(mantissa * 2.0**bits) / 2.0**bits, exponent)


def quant_from_range(low: float, high: float) -> qgraph.Quant:
    """Spec section 2: [lo, hi] widened to contain 0, s = (hi - lo) / 255 rounded to 24
    significant bits and floored at 2^-24 (s = 1 for a constant zero),
    z = clamp(round_half_even(-128 - lo / s), -128, 127)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"range [{low}, {high}] must be finite")
    if high == low:  # constant zero: exact at any scale; 1 keeps the next layer in range
        return qgraph.Quant(scale=1.0, zero_point=spec.INT8_MIN)
    scale = max(_round_significand((high - low) / 255.0), ACTIVATION_SCALE_FLOOR)
    zero_point = int(np.clip(np.rint(spec.INT8_MIN - low / scale), spec.INT8_MIN, spec.INT8_MAX))
    return qgraph.Quant(scale=float(scale), zero_point=zero_point)


def quantize_weights(weight: np.ndarray, layer: str = "?"):
    """Per-output-channel symmetric int8 (spec 2): rows of ``weight`` [out, ...] ->
    (w_q int8 of the same shape, s_w float64 [out])."""
    weight = np.asarray(weight, dtype=np.float64)
    if not np.isfinite(weight).all():
        _fail(layer, "weight", float(weight[~np.isfinite(weight)][0]), "must be finite")
    rows = weight.reshape(weight.shape[0], -1)
    scale = np.abs(rows).max(axis=1) / spec.WEIGHT_MAX
    scale = np.where(scale > 0, scale, 1.0)  # an all-zero channel: any scale is exact
    if not (np.isfinite(scale).all() and (scale > 0).all()):  # pragma: no cover - underflow
        _fail(layer, "weight scale", float(scale.min()), "must be finite and > 0")
    quantized = np.clip(np.rint(rows / scale[:, None]), spec.WEIGHT_MIN,
                        spec.WEIGHT_MAX).astype(np.int8)
    return quantized.reshape(weight.shape), scale


def _folded_bias(layer: str, bias: np.ndarray, input_quant: qgraph.Quant, weight_scale,
                 weights_q: np.ndarray, products: int) -> np.ndarray:
    """b' = round_half_even(b / (s_in s_w[c])) - z_in * sum_k w_q[c, k] (int64, spec 2 and 3)."""
    bias = np.asarray(bias, dtype=np.float64)
    if not np.isfinite(bias).all():
        _fail(layer, "bias", float(bias[~np.isfinite(bias)][0]), "must be finite")
    real = bias / (input_quant.scale * weight_scale)
    too_big = ~np.isfinite(real) | (np.abs(real) >= 2.0**62)
    if too_big.any():
        c = int(np.argmax(too_big))
        _fail(layer, f"bias[{c}]", float(bias[c]),
              f"b / (s_in * s_w) = {real[c]!r} does not fit int32")
    quantized = np.rint(real).astype(np.int64)
    folded = spec.fold_bias(quantized, input_quant.zero_point, weights_q)
    outside = (folded < spec.INT32_MIN) | (folded > spec.INT32_MAX)
    if outside.any():
        c = int(np.argmax(outside))
        _fail(layer, f"bias[{c}]", int(folded[c]),
              f"the folded bias b_q - z_in * sum(w_q) (b_q = {int(quantized[c])}, "
              f"z_in = {input_quant.zero_point}) leaves int32")
    worst = spec.accumulator_worst_case(folded, products)
    if (worst >= spec.ACCUMULATOR_LIMIT).any():
        c = int(np.argmax(worst))
        _fail(layer, f"bias[{c}]", int(folded[c]),
              f"|b'| + {products} * 128 * 127 reaches 2^31 (accumulator bound, spec section 3)")
    return folded.astype(np.int32)


def _multiplier(layer: str, field: str, real: float) -> tuple[int, int]:
    try:
        return reference.quantize_multiplier(float(real))
    except ValueError as error:
        raise CalibrationError(f"layer '{layer}': {field} = {float(real)!r}: {error} "
                               "(spec section 2.1; never flushed)") from None


def _clamp(layer: str, activation: Optional[str], quant: qgraph.Quant) -> tuple[int, int]:
    """Spec section 4: the fused activation as clamp bounds in the output's quantization."""
    try:
        return spec.activation_clamp(activation, quant.scale, quant.zero_point)
    except ValueError as error:
        raise CalibrationError(f"layer '{layer}': {error}") from None


def _requantization(layer: str, input_quant, weight_scale, output_quant, activation):
    multipliers, shifts = [], []
    for c, s_w in enumerate(weight_scale):
        m, n = _multiplier(layer, f"requantization multiplier M[{c}] = s_in * s_w / s_out",
                           input_quant.scale * s_w / output_quant.scale)
        multipliers.append(m)
        shifts.append(n)
    low, high = _clamp(layer, activation, output_quant)
    return qgraph.Requantization(multipliers=np.array(multipliers, dtype=np.int64),
                                 shifts=np.array(shifts, dtype=np.int64),
                                 output_zero_point=output_quant.zero_point,
                                 activation_min=low, activation_max=high)


# ---------------------------------------------------------------------------------------
# Building the graph


def _requantizes(layer) -> bool:
    """Layers with their own output quantization (the others pass the input's through)."""
    return isinstance(layer, (FloatLinear, FloatConv2d, FloatResidual))


def _build_chain(layers, quant: qgraph.Quant, quants: dict) -> tuple:
    built = []
    for layer in layers:
        built.append(_build_layer(layer, quant, quants))
        quant = built[-1].output
    return tuple(built)


def _build_layer(layer, input_quant: qgraph.Quant, quants: dict):
    common = dict(name=layer.name, source=layer.source, input_shape=layer.input_shape,
                  output_shape=layer.output_shape)
    if isinstance(layer, FloatPool2d):
        return qgraph.Pool2d(**common, output=input_quant, kind=layer.kind, kernel=layer.kernel,
                             stride=layer.stride, padding=layer.padding,
                             ceil_mode=layer.ceil_mode,
                             count_include_pad=layer.count_include_pad,
                             input_zero_point=input_quant.zero_point,
                             activation_min=spec.INT8_MIN,
                             activation_max=spec.INT8_MAX)
    if isinstance(layer, FloatRelu):
        low, high = _clamp(layer.name, layer.kind, input_quant)
        return qgraph.Relu(**common, output=input_quant, activation_min=low,
                           activation_max=high)
    output_quant = quants[layer.name]
    if isinstance(layer, FloatResidual):
        body = _build_chain(layer.body, input_quant, quants)
        body_quant = body[-1].output
        s_max = max(input_quant.scale, body_quant.scale)
        m_a, n_a = _multiplier(layer.name, "input multiplier M_a = s_a / (2 max(s_a, s_b))",
                               input_quant.scale / (2 * s_max))
        m_b, n_b = _multiplier(layer.name, "body multiplier M_b = s_b / (2 max(s_a, s_b))",
                               body_quant.scale / (2 * s_max))
        m_o, n_o = _multiplier(layer.name, "output multiplier M_o = 2 max(s_a, s_b) / "
                               "(2^20 s_out)",
                               2 * s_max / (2.0**spec.ADD_LEFT_SHIFT * output_quant.scale))
        low, high = _clamp(layer.name, layer.activation, output_quant)
        return qgraph.Residual(
            **common, output=output_quant, body=body,
            input_zero_point=input_quant.zero_point, input_multiplier=m_a, input_shift=n_a,
            body_zero_point=body_quant.zero_point, body_multiplier=m_b, body_shift=n_b,
            requantization=qgraph.Requantization(
                multipliers=np.array([m_o], dtype=np.int64),
                shifts=np.array([n_o], dtype=np.int64),
                output_zero_point=output_quant.zero_point, activation_min=low,
                activation_max=high))
    weights_q, weight_scale = quantize_weights(layer.weight, layer.name)
    requantization = _requantization(layer.name, input_quant, weight_scale, output_quant,
                                     layer.activation)
    if isinstance(layer, FloatLinear):
        bias = _folded_bias(layer.name, layer.bias, input_quant, weight_scale, weights_q,
                            products=layer.weight.shape[1])
        return qgraph.Linear(**common, output=output_quant, weights=weights_q, bias=bias,
                             requantization=requantization)
    out_channels, in_per_group, kh, kw = layer.weight.shape
    bias = _folded_bias(layer.name, layer.bias, input_quant, weight_scale, weights_q,
                        products=in_per_group * kh * kw)
    geometry = dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                    input_zero_point=input_quant.zero_point, requantization=requantization)
    if layer.depthwise:
        # OIHW with I = 1 -> 1HWC; output channel c reads input c // depth_multiplier in
        # both PyTorch (groups == in_channels) and integr8.
        filter_ = weights_q[:, 0].transpose(1, 2, 0)[None]
        return qgraph.DepthwiseConv2d(
            **common, output=output_quant, filter=np.ascontiguousarray(filter_), bias=bias,
            depth_multiplier=out_channels // layer.input_shape.channels, **geometry)
    return qgraph.Conv2d(**common, output=output_quant,
                         filter=np.ascontiguousarray(weights_q.transpose(0, 2, 3, 1)),
                         bias=bias, groups=layer.groups, **geometry)


def build_graph(float_graph: FloatGraph, *, name: str, input_quant: qgraph.Quant,
                output_quants: dict, metadata: Optional[dict] = None) -> qgraph.QuantizedGraph:
    """The QuantizedGraph of a captured float chain, given the input quantization and the
    output quantization of every requantizing layer (Linear, Conv2d, residual add)."""
    missing = [layer.name for layer in float_graph.iter_layers()
               if _requantizes(layer) and layer.name not in output_quants]
    if missing:
        raise CalibrationError(f"no output quantization for layers {missing}")
    layers = _build_chain(float_graph.layers, input_quant, output_quants)
    return qgraph.QuantizedGraph(name=name, input_shape=float_graph.input_shape,
                                 input=input_quant, layers=layers, metadata=dict(metadata or {}))


# ---------------------------------------------------------------------------------------
# Calibration


def _images(images, what: str = "calibration_images") -> torch.Tensor:
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise CalibrationError(f"{what} must be a float tensor [N, C, H, W], got "
                               f"{getattr(images, 'dtype', type(images).__name__)}")
    if images.dim() not in (2, 4) or images.shape[0] < 1:
        raise CalibrationError(f"{what} must be [N, C, H, W] (or [N, F]) with N >= 1, got "
                               f"shape {tuple(images.shape)}")
    finite = torch.isfinite(images)
    if not finite.all():
        index = tuple(int(i) for i in (~finite).nonzero()[0])
        raise CalibrationError(f"{what}{list(index)} = {images[index].item()!r}: "
                               "calibration data must be finite (NaN/Inf found)")
    return images.detach().cpu()


def _batches(images: torch.Tensor, batch_size: int):
    for start in range(0, images.shape[0], batch_size):
        yield start, images[start:start + batch_size]


def _check_batch_size(batch_size):
    if not isinstance(batch_size, int) or batch_size < 1:
        raise CalibrationError(f"batch_size = {batch_size!r} must be an int >= 1")


def _as_quant(input_quant) -> qgraph.Quant:
    if isinstance(input_quant, tuple) and len(input_quant) == 2:
        # Not converted: int(0.5) would silently truncate; Quant.check refuses a float.
        input_quant = qgraph.Quant(scale=input_quant[0], zero_point=input_quant[1])
    if not isinstance(input_quant, qgraph.Quant):
        raise CalibrationError(f"input_quant must be a qgraph.Quant or (scale, zero_point), got "
                               f"{input_quant!r}")
    input_quant.check("input", "input_quant")
    return input_quant


def calibrate(model: torch.nn.Module, calibration_images, *, name: str,
              observer: str = DEFAULT_OBSERVER, input_quant=None,
              output_observer: str = "minmax", percentile: float = DEFAULT_PERCENTILE,
              bins: int = DEFAULT_BINS, batch_size: int = 128) -> qgraph.QuantizedGraph:
    """Post-training quantization of ``model`` (eval mode) on ``calibration_images``.

    calibration_images: float tensor [N, C, H, W] (or [N, F] for a vector model) in the form
    the model takes; all N samples are used (slice to choose how many).
    name: the graph (model) name, [a-z][a-z0-9_]*.
    observer: "minmax", "percentile" or "mse" (default, see the module docstring) for the
    model input and every hidden activation; output_observer for the last layer's output
    (default "minmax", so logits are never clipped).
    input_quant: a fixed qgraph.Quant (or (scale, zero_point)) for the model input instead of
    an observed one, e.g. Quant(1 / 255, -128) for pixel / 255 inputs, which makes
    q = pixel - 128 exactly.
    percentile / bins: the percentile observer's percentile, the histogram size.
    """
    for kind in (observer, output_observer):
        make_observer(kind)  # rejects unknown observers early
    _check_batch_size(batch_size)
    images = _images(calibration_images)
    float_graph = capture(model, tuple(images.shape[1:]))
    fixed_input = _as_quant(input_quant) if input_quant is not None else None

    last = float_graph.layers[-1]
    observers = {}
    if fixed_input is None:
        observers["input"] = make_observer(observer, percentile=percentile, bins=bins)
    for layer in float_graph.iter_layers():
        if _requantizes(layer):
            kind = output_observer if layer is last else observer
            observers[layer.name] = make_observer(kind, percentile=percentile, bins=bins)

    # float64: float32 convolutions sum in an order that depends on the CPU's vector width,
    # which moves observed ranges in the 8th digit and with them the exported multipliers.
    # In float64 those differences shrink to ~1e-16, so the same checkpoint and images give
    # the same header bytes on every machine.
    def tensors(batch):
        _, outputs = float_graph.forward(batch, trace=True, dtype=torch.float64)
        if "input" in observers:
            outputs["input"] = float_graph.to_nhwc(batch)
        return outputs

    with torch.no_grad():
        for start, batch in _batches(images, batch_size):
            for key, values in tensors(batch).items():
                if key not in observers:
                    continue
                # The model is a float32 model: what overflows float32 is refused too.
                if not torch.isfinite(values.float()).all():
                    _fail(key, "float output", "NaN/Inf",
                          f"on calibration samples {start}..{start + batch.shape[0] - 1}")
                observers[key].update_range(values)
        if any(obs.needs_histogram for obs in observers.values()):
            for _, batch in _batches(images, batch_size):
                for key, values in tensors(batch).items():
                    if key in observers and observers[key].needs_histogram:
                        observers[key].update_histogram(values)

    quants = {key: quant_from_range(*obs.range()) for key, obs in observers.items()}
    metadata = {
        "generator": "integr8.calibrate",
        "spec_version": spec.VERSION,
        "observer": observer,
        "output_observer": output_observer,
        "calibration_samples": int(images.shape[0]),
        "input_quant": "fixed" if fixed_input is not None else f"observed ({observer})",
        "source_model": float_graph.model_name,
        "torch_input_shape": list(float_graph.torch_input_shape),
    }
    if "percentile" in (observer, output_observer):
        metadata["percentile"] = float(percentile)
    if any(obs.needs_histogram for obs in observers.values()):
        metadata["histogram_bins"] = int(bins)
    return build_graph(float_graph, name=name,
                       input_quant=fixed_input if fixed_input is not None else quants["input"],
                       output_quants=quants, metadata=metadata)


# ---------------------------------------------------------------------------------------
# Helpers for validation


def float_layer_outputs(model: torch.nn.Module, images, *, graph: Optional[qgraph.QuantizedGraph]
                        = None, layers=None, batch_size: int = 128) -> dict:
    """The float output of every qgraph layer (residual bodies included) on ``images``.

    Returns {layer name: float32 tensor NHWC [N, H, W, C]} (a vector as [N, 1, 1, C]), the
    values the integer layer of the same name approximates (after BatchNorm folding and fused
    activations); compare with ``integr8.interpreter.run(graph, x, trace=True)``. ``graph``,
    if given, must have been calibrated from this model: the names and shapes are checked.
    ``layers`` restricts the result to some names (the full set can be large).
    """
    _check_batch_size(batch_size)
    images = _images(images, "images")
    float_graph = capture(model, tuple(images.shape[1:]))
    shapes = {layer.name: layer.output_shape for layer in float_graph.iter_layers()}
    if graph is not None:
        expected = {layer.name: layer.output_shape for layer in qgraph.iter_layers(graph.layers)}
        if expected != shapes:
            raise CalibrationError(f"graph '{graph.name}' does not match the model: layers "
                                   f"{sorted(expected)} vs {sorted(shapes)}")
    wanted = set(shapes) if layers is None else set(layers)
    unknown = wanted - set(shapes)
    if unknown:
        raise CalibrationError(f"unknown layers {sorted(unknown)}; the model has {list(shapes)}")
    collected = {name: [] for name in shapes if name in wanted}
    with torch.no_grad():
        for _, batch in _batches(images, batch_size):
            _, outputs = float_graph.forward(batch, trace=True)
            for key in collected:
                collected[key].append(outputs[key].float())
    return {key: torch.cat(values) for key, values in collected.items()}


def quantize_input(images, quant) -> np.ndarray:
    """Model input (NCHW float, or [N, F]) -> int8 NHWC per spec section 2:
    q = clamp(round_half_even(x / s) + z, -128, 127), computed in float64.

    quant: a qgraph.Quant or a QuantizedGraph (its input quantization)."""
    if isinstance(quant, qgraph.QuantizedGraph):
        quant = quant.input
    quant = _as_quant(quant)
    images = _images(images, "images").double()
    nhwc = (images.reshape(images.shape[0], 1, 1, -1) if images.dim() == 2
            else images.permute(0, 2, 3, 1))
    q = torch.round(nhwc / quant.scale) + quant.zero_point  # torch.round: half to even
    return q.clamp(spec.INT8_MIN, spec.INT8_MAX).numpy().astype(np.int8)


def dequantize(q, quant) -> np.ndarray:
    """r = s * (q - z) in float64 for int8 values q and a qgraph.Quant."""
    quant = _as_quant(quant)
    return quant.scale * (np.asarray(q, dtype=np.float64) - quant.zero_point)
