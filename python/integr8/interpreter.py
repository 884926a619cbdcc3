"""Runs a whole QuantizedGraph, layer by layer, with the NumPy reference ops.

``integr8.reference`` holds the arithmetic of each op; this module only walks the graph
(``integr8.qgraph``) and hands every layer to its descriptor's reference call
(``integr8.ops``), so that the reference itself knows nothing of graphs.
"""

from __future__ import annotations

import math

import numpy as np

from integr8 import ops, qgraph, spec

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


def _run_layer(layer, x, outputs):
    batches = x.shape[0]
    op = ops.of(layer)
    if op.body is None:
        y = op.run(layer, x)
    else:
        y = op.run(layer, x, _run_chain(getattr(layer, op.body), x, outputs))
    shape = (batches, *layer.output_shape.as_tuple())
    if y.size != math.prod(shape):
        raise ValueError(f"layer {layer.name!r}: output holds {y.size} values, its declared "
                         f"shape is {shape}")
    y = y.reshape(shape)
    if outputs is not None:
        outputs[layer.name] = y
    return y
