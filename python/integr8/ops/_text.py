"""The words that describe layers in generated headers and reports, shared by the ops."""

from __future__ import annotations

from integr8 import qgraph, spec

_ACTIVATION_TEXT = {"relu": "ReLU", "relu6": "ReLU6"}


def pair_text(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def shape_text(shape: qgraph.Shape) -> str:
    return f"{shape.height}x{shape.width}x{shape.channels}"


def window_text(kernel, stride, padding, dilation=(1, 1)) -> str:
    text = f"{kernel[0]}x{kernel[1]}, stride {pair_text(stride)}, padding {pair_text(padding)}"
    if tuple(dilation) != (1, 1):
        text += f", dilation {pair_text(dilation)}"
    return text


def clamp_text(lo: int, hi: int, quant: qgraph.Quant) -> str | None:
    """Names the activation a clamp implements (docs/spec.md section 4), None for no clamp."""
    activation = spec.activation_name(lo, hi, quant.scale, quant.zero_point)
    if activation is None:
        return None
    return _ACTIVATION_TEXT.get(activation, f"clamp [{lo}, {hi}]")


def fused_clamp(lo: int, hi: int, quant: qgraph.Quant) -> str:
    """', ReLU fused' for a clamp that is an activation, '' for none."""
    clamp = clamp_text(lo, hi, quant)
    return f", {clamp} fused" if clamp else ""


def requantization_text(requantization: qgraph.Requantization, quant: qgraph.Quant) -> str:
    kind = "per-channel" if requantization.per_channel else "per-tensor"
    return f", {kind} requantization" + fused_clamp(
        requantization.activation_min, requantization.activation_max, quant)
