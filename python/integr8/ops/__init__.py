"""One descriptor per layer kind of the quantized graph.

integr8.reference holds each op's integer arithmetic and integr8.qgraph its fields and
checks; everything else integr8 knows of an op is its descriptor (:class:`Op`), one module
per op below: the C++ params struct and graph layer template with the fields by name, the
arrays and their roles, the reference call, the text that describes a layer, and the ONNX
lowering. The exporter, the graph interpreter and the ONNX export read descriptors instead
of testing layer types, so the Python half of a new op is its module and its tests.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from integr8 import qgraph


@dataclasses.dataclass(frozen=True)
class ArrayRole:
    """An integer array of a layer, as the header declares it: k<Stem><suffix>."""

    field: str  # the qgraph layer's field, e.g. "weights"
    suffix: str  # e.g. "Weights"
    ctype: str  # "int8_t" or "int32_t"


@dataclasses.dataclass(frozen=True)
class Op:
    """What integr8 knows of one layer kind (qgraph class), outside its arithmetic.

    params(layer): the C++ params struct's fields by name, in declaration order, each an int,
    a bool or a C++ identifier (str); with ``requantizes`` the exporter adds the nested
    RequantizeParams ``requantize`` from the layer's ``requantization`` and declares its
    multiplier and shift arrays. run(layer, x[, body]) computes the layer's int64 output with
    integr8.reference from its NHWC input (and, for an op with a ``body``, the body chain's
    output). onnx(builder, layer) lowers the layer into integr8.onnx_export's builder and
    returns False where ONNX has no spec-equivalent operator for it.
    """

    layer: type
    summary: str
    torch: tuple[str, ...]
    cxx_params: str
    cxx_layer: Callable[[object], str]
    params: Callable[[object], list]
    describe: Callable[[object], str]
    run: Callable[..., np.ndarray]
    onnx: Callable[[object, object], bool]
    arrays: tuple[ArrayRole, ...] = ()
    array_comment: Optional[str] = None
    requantizes: bool = False
    body: Optional[str] = None  # the field of a nested chain (a residual block's body)
    # Header comments before the body's layers and after them ({name}: the layer's name).
    body_comments: tuple[str, str] = ("", "")
    # The weights as [output channel, products] (for ops with weights): bias folding.
    weights_by_output: Optional[Callable[[object], np.ndarray]] = None


def requantize_arguments(requantization: qgraph.Requantization) -> dict:
    """The reference's keyword arguments for a layer's requantization."""
    return dict(multiplier=requantization.multipliers, shift=requantization.shifts,
                output_zero_point=requantization.output_zero_point,
                activation_min=requantization.activation_min,
                activation_max=requantization.activation_max)


def _registry() -> dict:
    from integr8.ops import conv2d, depthwise_conv2d, linear, pool2d, relu, residual

    return {op.layer: op for op in (linear.OP, conv2d.OP, depthwise_conv2d.OP, pool2d.OP,
                                    relu.OP, residual.OP)}


OPS: dict = _registry()


def of(layer) -> Op:
    """The descriptor of a qgraph layer; GraphError for an object that is not one."""
    op = OPS.get(type(layer))
    if op is None:
        raise qgraph.GraphError(f"layer {getattr(layer, 'name', '?')!r}: {type(layer).__name__} "
                                f"is not a layer kind integr8 knows (known: "
                                f"{', '.join(sorted(kind.__name__ for kind in OPS))})")
    return op
