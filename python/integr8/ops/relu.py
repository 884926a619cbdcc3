"""Relu: a standalone ReLU or ReLU6, a clamp on raw int8 values (kernels/relu.h)."""

from integr8 import qgraph, reference
from integr8.ops import Op
from integr8.ops._text import clamp_text


def _describe(layer: qgraph.Relu) -> str:
    clamp = clamp_text(layer.activation_min, layer.activation_max, layer.output)
    return f"{clamp or 'ReLU'}: clamp [{layer.activation_min}, {layer.activation_max}]"


def _onnx(builder, layer: qgraph.Relu) -> bool:
    builder.clamp(layer.name, layer.activation_min, layer.activation_max)
    builder.finish_layer(layer)
    return True


OP = Op(
    layer=qgraph.Relu,
    summary="ReLU or ReLU6 not fused into the layer before it: a clamp on raw int8 values",
    torch=("nn.ReLU", "nn.ReLU6", "F.relu", "F.relu6", "torch.relu"),
    cxx_params="ReluParams",
    cxx_layer=lambda layer: "ReluLayer",
    params=lambda layer: [("size", layer.input_shape.elements),
                          ("activation_min", layer.activation_min),
                          ("activation_max", layer.activation_max)],
    describe=_describe,
    run=lambda layer, x: reference.relu(x, activation_min=layer.activation_min,
                                        activation_max=layer.activation_max),
    onnx=_onnx,
)
