"""Residual: output = add(input, body(input)), the add rescaling both (kernels/add.h,
spec section 6)."""

from integr8 import qgraph, reference
from integr8.ops import Op
from integr8.ops._text import fused_clamp


def _params(layer: qgraph.Residual) -> list:
    requant = layer.requantization
    return [("size", layer.input_shape.elements),
            ("input1_zero_point", layer.input_zero_point),
            ("input1_multiplier", layer.input_multiplier), ("input1_shift", layer.input_shift),
            ("input2_zero_point", layer.body_zero_point),
            ("input2_multiplier", layer.body_multiplier), ("input2_shift", layer.body_shift),
            ("output_multiplier", requant.multipliers.reshape(-1)[0]),
            ("output_shift", requant.shifts.reshape(-1)[0]),
            ("output_zero_point", requant.output_zero_point),
            ("activation_min", requant.activation_min), ("activation_max", requant.activation_max)]


def _describe(layer: qgraph.Residual) -> str:
    body = ", ".join(child.name for child in layer.body)
    return (f"residual block, output = add(input, body(input)), body [{body}]"
            + fused_clamp(layer.requantization.activation_min,
                          layer.requantization.activation_max, layer.output))


def _run(layer: qgraph.Residual, x, body):
    req = layer.requantization
    return reference.add(x, body, a_zero_point=layer.input_zero_point,
                         a_multiplier=layer.input_multiplier, a_shift=layer.input_shift,
                         b_zero_point=layer.body_zero_point, b_multiplier=layer.body_multiplier,
                         b_shift=layer.body_shift, output_multiplier=int(req.multipliers[0]),
                         output_shift=int(req.shifts[0]),
                         output_zero_point=req.output_zero_point,
                         activation_min=req.activation_min, activation_max=req.activation_max)


OP = Op(
    layer=qgraph.Residual,
    summary="residual block: a chain whose output is added to the block's input",
    torch=("x + f(x)", "torch.add(x, f(x))"),
    cxx_params="AddParams",
    cxx_layer=lambda layer: "ResidualLayer",
    params=_params,
    describe=_describe,
    run=_run,
    # The add's rescaling has no spec-equivalent ONNX operator (QLinearAdd rounds in float).
    onnx=lambda builder, layer: False,
    body="body",
    body_comments=("its body follows; the add reads the block input as input1, the body's "
                   "output as input2", "residual block '{name}': add(input, body(input))"),
)
