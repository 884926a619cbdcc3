"""Writes a :class:`~integr8.qgraph.QuantizedGraph` as a quantized ONNX model (QOperator form).

The ONNX model holds the same int8 weights, zero points and layer structure as the graph, so
that onnxruntime can run the model integr8 runs, with its own int8 kernels, for comparison
(benchmarks/side_by_side.py). It takes the int8 NHWC batch integr8's binding takes and returns
the int8 [N, outputs] it returns (or both as uint8, see ``to_onnx``):

- ``Conv2d`` and ``DepthwiseConv2d`` become ``QLinearConv`` (NCHW, per-channel weight scales,
  int32 bias, padding with the input zero point as in spec section 3);
- ``Linear`` becomes ``com.microsoft.QGemm`` with ``transB=1`` (weights stay [out][in]):
  the standard ``QLinearMatMul`` has no bias input, and adding one afterwards would round
  twice; QGemm is what onnxruntime's own quantizer emits for a Linear;
- max ``Pool2d`` becomes ``MaxPool`` on int8, and a fused or standalone ReLU clamp that is not
  the whole int8 range becomes an int8 ``Clip``;
- ``Transpose`` and ``Reshape`` convert between integr8's NHWC / HWC-flattened layouts and
  ONNX's NCHW.

Requantization is where ONNX differs from integr8 by design: onnxruntime computes
``float(acc) * (x_scale * w_scale[c] / y_scale)`` in float32 and rounds half to even, where
integr8 multiplies by ``m * 2^-n`` exactly and rounds half up (docs/spec.md section 4). The
weight scales are chosen so that the exact output scale is ``m * 2^-n``; the handful of
float32 roundings on the way (the three scales, their product and quotient, ``acc`` above
2^24, the final product) leave a relative error below 2^-21. An output inside int8 has
``|acc * M| < 256``, so the two values before rounding differ by less than 256 * 2^-21, about
1e-4: for one layer on the same input the results differ by at most 1 LSB, and only for an
accumulator whose scaled value lies that close to a rounding boundary (or a tie).
Through several layers such a difference can propagate.

Not exported (an :class:`OnnxExportError` names the layer): average pooling and residual
adds (onnxruntime has them only as contrib ops that round differently from the spec), and
``ceil_mode`` pooling (ONNX runtimes and PyTorch disagree on the last window).

Needs the ``onnx`` package, which integr8 does not otherwise depend on.
"""

from __future__ import annotations

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError("integr8.onnx_export needs the onnx package: pip install onnx") from _error

from integr8 import ops, qgraph, spec

__all__ = ["OnnxExportError", "OPSET", "to_onnx", "weight_scales", "unfolded_bias"]

# ai.onnx opset: int8 MaxPool and Clip need 12, Clip's bounds as inputs 11.
OPSET = 13
MICROSOFT_DOMAIN = "com.microsoft"
INPUT_NAME = "input"
OUTPUT_NAME = "output"

# Layouts of the tensor flowing between layers.
_NHWC, _NCHW, _FLAT = "nhwc", "nchw", "flat"
_TO_NCHW = [0, 3, 1, 2]
_TO_NHWC = [0, 2, 3, 1]


class OnnxExportError(ValueError):
    """A graph the ONNX export cannot represent; the message names the layer and why."""


def weight_scales(layer, input_quant: qgraph.Quant) -> np.ndarray:
    """float32 weight scales s_w[c] of a Linear or convolution with
    s_in * s_w[c] / s_out = m[c] * 2^-n[c] (in float64), so that a runtime's float32 output
    scale is integr8's multiplier up to rounding; a scalar for per-tensor requantization."""
    requant = layer.requantization
    multiplier = np.ldexp(requant.multipliers.astype(np.float64), -requant.shifts)
    scales = (multiplier * layer.output.scale / input_quant.scale).astype(np.float32)
    return scales if requant.per_channel else scales.reshape(())


def unfolded_bias(layer, input_zero_point: int) -> np.ndarray:
    """int32 bias of a Linear or convolution before zero-point folding,
    b_q[c] = b'[c] + z_in * sum_k w[c, k] (spec section 3): ONNX kernels subtract the input
    zero point themselves."""
    per_output = ops.of(layer).weights_by_output(layer)
    unfolded = spec.unfold_bias(layer.bias, input_zero_point, per_output)
    outside = (unfolded < spec.INT32_MIN) | (unfolded > spec.INT32_MAX)
    if outside.any():
        channel = int(np.argmax(outside))
        raise OnnxExportError(f"layer '{layer.name}': unfolded bias[{channel}] = "
                              f"{int(unfolded[channel])} leaves int32")
    return unfolded.astype(np.int32)


class _Builder:
    """Accumulates nodes and initializers while walking the graph's layers in order."""

    def __init__(self, graph: qgraph.QuantizedGraph, activations: str):
        self.nodes: list = []
        self.initializers: list = []
        self.tensor = INPUT_NAME
        self.layout = _NHWC
        self.shape = graph.input_shape  # HWC of the current tensor, whatever its layout
        self.quant = graph.input
        self.names = {INPUT_NAME}
        self.activation_dtype = np.dtype(activations)
        self.activation_offset = 128 if activations == "uint8" else 0

    def claim(self, name: str) -> str:
        # Layer names are unique, but a layer may be called "input" or "output".
        if name in self.names:
            raise OnnxExportError(f"ONNX tensor name {name!r} would be used twice: rename "
                                  "the layer it comes from")
        self.names.add(name)
        return name

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), self.claim(name)))
        return name

    def node(self, op: str, inputs: list, name: str, domain: str = "", **attributes) -> str:
        self.nodes.append(helper.make_node(op, inputs, [self.claim(name)], name=name,
                                           domain=domain, **attributes))
        self.tensor = name
        return name

    def scale(self, name: str, value) -> str:
        return self.constant(name, np.asarray(value, dtype=np.float32))

    def activation_value(self, name: str, value: int) -> str:
        """An activation zero point or clamp bound, in the activations' type."""
        return self.constant(name, np.asarray(value + self.activation_offset,
                                              dtype=self.activation_dtype))

    def weight_zero_points(self, name: str, scales: np.ndarray) -> str:
        return self.constant(name, np.zeros_like(scales, dtype=np.int8))

    def to_layout(self, layout: str, stem: str) -> None:
        if layout == self.layout:
            return
        if self.layout == _FLAT:  # HWC-flattened -> NHWC
            self.node("Reshape", [self.tensor, self.constant(
                f"{stem}_nhwc_shape", np.array([-1, *self.shape.as_tuple()], np.int64))],
                f"{stem}_nhwc")
            self.layout = _NHWC
        if layout == _FLAT:
            if self.layout == _NCHW:
                self.node("Transpose", [self.tensor], f"{stem}_nhwc", perm=_TO_NHWC)
            self.node("Reshape", [self.tensor, self.constant(
                f"{stem}_flat_shape", np.array([-1, self.shape.elements], np.int64))],
                f"{stem}_flat")
        elif layout != self.layout:
            perm = _TO_NCHW if layout == _NCHW else _TO_NHWC
            self.node("Transpose", [self.tensor], f"{stem}_{layout}", perm=perm)
        self.layout = layout

    def clamp(self, stem: str, activation_min: int, activation_max: int) -> None:
        if (activation_min, activation_max) == (spec.INT8_MIN, spec.INT8_MAX):
            return
        self.node("Clip", [self.tensor, self.activation_value(f"{stem}_clip_min", activation_min),
                           self.activation_value(f"{stem}_clip_max", activation_max)],
                  f"{stem}_clip")

    def finish_layer(self, layer) -> None:
        self.shape, self.quant = layer.output_shape, layer.output

    def linear(self, layer: qgraph.Linear) -> None:
        stem = layer.name
        self.to_layout(_FLAT, stem)
        requant = layer.requantization
        scales = weight_scales(layer, self.quant)
        self.node("QGemm", [
            self.tensor, self.scale(f"{stem}_x_scale", self.quant.scale),
            self.activation_value(f"{stem}_x_zero_point", self.quant.zero_point),
            self.constant(f"{stem}_weights", layer.weights.astype(np.int8)),
            self.scale(f"{stem}_w_scale", scales),
            self.weight_zero_points(f"{stem}_w_zero_point", scales),
            self.constant(f"{stem}_bias", unfolded_bias(layer, self.quant.zero_point)),
            self.scale(f"{stem}_y_scale", layer.output.scale),
            self.activation_value(f"{stem}_y_zero_point", requant.output_zero_point),
        ], stem, domain=MICROSOFT_DOMAIN, transB=1)
        self.clamp(stem, requant.activation_min, requant.activation_max)
        self.finish_layer(layer)

    def conv(self, layer, filter_oihw: np.ndarray, groups: int) -> None:
        stem = layer.name
        self.to_layout(_NCHW, stem)
        requant = layer.requantization
        scales = weight_scales(layer, self.quant)
        pad_h, pad_w = layer.padding
        self.node("QLinearConv", [
            self.tensor, self.scale(f"{stem}_x_scale", self.quant.scale),
            self.activation_value(f"{stem}_x_zero_point", self.quant.zero_point),
            self.constant(f"{stem}_filter", filter_oihw.astype(np.int8)),
            self.scale(f"{stem}_w_scale", scales),
            self.weight_zero_points(f"{stem}_w_zero_point", scales),
            self.scale(f"{stem}_y_scale", layer.output.scale),
            self.activation_value(f"{stem}_y_zero_point", requant.output_zero_point),
            self.constant(f"{stem}_bias", unfolded_bias(layer, layer.input_zero_point)),
        ], stem, kernel_shape=list(filter_oihw.shape[2:]), strides=list(layer.stride),
            pads=[pad_h, pad_w, pad_h, pad_w], dilations=list(layer.dilation), group=groups)
        self.clamp(stem, requant.activation_min, requant.activation_max)
        self.finish_layer(layer)

    def max_pool(self, layer: qgraph.Pool2d) -> None:
        stem = layer.name
        self.to_layout(_NCHW, stem)
        pad_h, pad_w = layer.padding
        self.node("MaxPool", [self.tensor], stem, kernel_shape=list(layer.kernel),
                  strides=list(layer.stride), pads=[pad_h, pad_w, pad_h, pad_w])
        self.clamp(stem, layer.activation_min, layer.activation_max)
        self.finish_layer(layer)

    def layer(self, layer) -> None:
        op = ops.of(layer)
        if not op.onnx(self, layer):
            raise OnnxExportError(
                f"layer '{layer.name}': {op.describe(layer)} is not exported to ONNX: it has "
                "no spec-equivalent ONNX operator (average and ceil_mode pooling and residual "
                "adds round differently there)")


def to_onnx(graph: qgraph.QuantizedGraph, *, activations: str = "int8") -> onnx.ModelProto:
    """The ONNX model of ``graph``: input [N, H, W, C] named ``input``, output [N, outputs]
    named ``output`` (HWC-flattened, as integr8's binding returns it).

    activations: "int8" (integr8's raw values) or "uint8", every activation stored as
    q + 128 with zero point z + 128 (the same real values; the model's input and output too).
    onnxruntime's x86 kernels are fastest for uint8 activations with int8 weights; without
    AVX-VNNI they then sum pairs of u8 x s8 products in saturating int16, which can change
    results (onnxruntime's documentation on quantization discusses it).
    """
    if not isinstance(graph, qgraph.QuantizedGraph):
        raise OnnxExportError(f"graph must be an integr8.qgraph.QuantizedGraph, got "
                              f"{type(graph).__name__}")
    if activations not in ("int8", "uint8"):
        raise OnnxExportError(f"activations must be 'int8' or 'uint8', got {activations!r}")
    builder = _Builder(graph, activations)
    for layer in graph.layers:
        builder.layer(layer)
    # The last node (a layer's, or the Reshape from NHWC) writes the graph's output.
    builder.to_layout(_FLAT, "_output")
    builder.nodes[-1].output[0] = builder.claim(OUTPUT_NAME)
    height, width, channels = graph.input_shape.as_tuple()
    element_type = TensorProto.UINT8 if activations == "uint8" else TensorProto.INT8
    onnx_graph = helper.make_graph(
        builder.nodes, graph.name,
        [helper.make_tensor_value_info(INPUT_NAME, element_type,
                                       ["batch", height, width, channels])],
        [helper.make_tensor_value_info(OUTPUT_NAME, element_type,
                                       ["batch", graph.output_shape.elements])],
        builder.initializers)
    model = helper.make_model(onnx_graph, producer_name="integr8.onnx_export",
                              opset_imports=[helper.make_opsetid("", OPSET),
                                             helper.make_opsetid(MICROSOFT_DOMAIN, 1)])
    model.doc_string = (f"integr8 quantized graph '{graph.name}' (integer spec "
                        f"{spec.VERSION}) in QOperator form, {activations} activations")
    return model
