"""Runs a whole QuantizedGraph, layer by layer, with the NumPy reference ops.

``integr8.reference`` holds the arithmetic of each op; this module only walks the graph
(``integr8.qgraph``) and hands every layer's fields to its op, so that the reference itself
knows nothing of graphs.
"""

from __future__ import annotations

import math

import numpy as np

from integr8 import qgraph, reference, spec

__all__ = ["run"]


def run(graph: qgraph.QuantizedGraph, x, *, trace: bool = False):
    """Runs a QuantizedGraph on int8 NHWC input x [N, H, W, C] with the reference ops.

    Returns int8 [N, outputs]: the last layer's NHWC output flattened per sample (HWC order,
    the order the device writes). With trace=True returns (output, trace), trace mapping
    every layer name, residual bodies included (a block after its body), to its int8 output
    as NHWC [N, H, W, C] (a Linear's vector as [N, 1, 1, C]).
    """
    if not isinstance(graph, qgraph.QuantizedGraph):
        raise ValueError(f"graph must be an integr8.qgraph.QuantizedGraph, got "
                         f"{type(graph).__name__}")
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise ValueError(f"x must hold integers, got dtype {x.dtype}")
    if x.size and (int(x.min()) < spec.INT8_MIN or int(x.max()) > spec.INT8_MAX):
        raise ValueError(f"x holds values outside [{spec.INT8_MIN}, {spec.INT8_MAX}]")
    expected = graph.input_shape.as_tuple()
    if x.ndim != 4 or tuple(x.shape[1:]) != expected or x.shape[0] < 1:
        raise ValueError(f"x must be int8 NHWC [N, {expected[0]}, {expected[1]}, "
                         f"{expected[2]}] with N >= 1, got shape {x.shape}")
    outputs = {} if trace else None
    y = _run_chain(graph.layers, x.astype(np.int64), outputs)
    result = y.reshape(y.shape[0], -1).astype(np.int8)
    return (result, outputs) if trace else result


def _run_chain(layers, x, outputs):
    for layer in layers:
        x = _run_layer(layer, x, outputs)
    return x


def _requantize_arguments(req: qgraph.Requantization) -> dict:
    return dict(multiplier=req.multipliers, shift=req.shifts,
                output_zero_point=req.output_zero_point, activation_min=req.activation_min,
                activation_max=req.activation_max)


def _run_layer(layer, x, outputs):
    batches = x.shape[0]
    if isinstance(layer, qgraph.Linear):
        y = reference.linear(x.reshape(batches, -1), layer.weights, layer.bias,
                             **_requantize_arguments(layer.requantization))
    elif isinstance(layer, qgraph.Conv2d):
        y = reference.conv2d(x, layer.filter, layer.bias, stride=layer.stride,
                             padding=layer.padding, dilation=layer.dilation,
                             groups=layer.groups, input_zero_point=layer.input_zero_point,
                             **_requantize_arguments(layer.requantization))
    elif isinstance(layer, qgraph.DepthwiseConv2d):
        y = reference.depthwise_conv2d(x, layer.filter, layer.bias,
                                       depth_multiplier=layer.depth_multiplier,
                                       stride=layer.stride, padding=layer.padding,
                                       dilation=layer.dilation,
                                       input_zero_point=layer.input_zero_point,
                                       **_requantize_arguments(layer.requantization))
    elif isinstance(layer, qgraph.Pool2d):
        window = dict(kernel=layer.kernel, stride=layer.stride, padding=layer.padding,
                      ceil_mode=layer.ceil_mode, activation_min=layer.activation_min,
                      activation_max=layer.activation_max)
        if layer.kind == "max":
            y = reference.max_pool2d(x, **window)
        else:
            y = reference.avg_pool2d(x, count_include_pad=layer.count_include_pad,
                                     input_zero_point=layer.input_zero_point, **window)
    elif isinstance(layer, qgraph.Relu):
        y = reference.relu(x, activation_min=layer.activation_min,
                           activation_max=layer.activation_max)
    elif isinstance(layer, qgraph.Residual):
        body = _run_chain(layer.body, x, outputs)
        req = layer.requantization
        y = reference.add(x, body, a_zero_point=layer.input_zero_point,
                          a_multiplier=layer.input_multiplier, a_shift=layer.input_shift,
                          b_zero_point=layer.body_zero_point,
                          b_multiplier=layer.body_multiplier, b_shift=layer.body_shift,
                          output_multiplier=int(req.multipliers[0]),
                          output_shift=int(req.shifts[0]),
                          output_zero_point=req.output_zero_point,
                          activation_min=req.activation_min, activation_max=req.activation_max)
    else:
        raise ValueError(f"layer {getattr(layer, 'name', '?')!r}: unknown layer type "
                         f"{type(layer).__name__}")
    shape = (batches, *layer.output_shape.as_tuple())
    if y.size != math.prod(shape):
        raise ValueError(f"layer {layer.name!r}: output holds {y.size} values, its declared "
                         f"shape is {shape}")
    y = y.reshape(shape)
    if outputs is not None:
        outputs[layer.name] = y
    return y
