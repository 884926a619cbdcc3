"""Linear: a fully connected layer (kernels/linear.h, spec section 3)."""

from integr8 import qgraph, reference
from integr8.ops import ArrayRole, Op, requantize_arguments
from integr8.ops._text import requantization_text


def _params(layer: qgraph.Linear) -> list:
    outputs, inputs = layer.weights.shape
    return [("batches", 1), ("input_features", inputs), ("output_features", outputs)]


def _describe(layer: qgraph.Linear) -> str:
    return (f"Linear {layer.input_shape.elements} -> {layer.output_shape.elements}"
            + requantization_text(layer.requantization, layer.output))


def _run(layer: qgraph.Linear, x):
    return reference.linear(x.reshape(x.shape[0], -1), layer.weights, layer.bias,
                            **requantize_arguments(layer.requantization))


def _onnx(builder, layer: qgraph.Linear) -> bool:
    builder.linear(layer)
    return True


OP = Op(
    layer=qgraph.Linear,
    summary="fully connected layer, int8 weights [out][in], per-channel requantization",
    torch=("nn.Linear", "F.linear"),
    cxx_params="LinearParams",
    cxx_layer=lambda layer: "LinearLayer",
    params=_params,
    describe=_describe,
    run=_run,
    onnx=_onnx,
    arrays=(ArrayRole("weights", "Weights", "int8_t"), ArrayRole("bias", "Bias", "int32_t")),
    array_comment="weights [out][in] row-major; bias with the input zero point folded in",
    requantizes=True,
    weights_by_output=lambda layer: layer.weights,
)
