"""Conv2d: a convolution over NHWC with OHWI filters, grouped or not (kernels/conv2d.h)."""

from integr8 import qgraph, reference
from integr8.ops import ArrayRole, Op, requantize_arguments
from integr8.ops._text import requantization_text, window_text


def _params(layer: qgraph.Conv2d) -> list:
    out_c, kh, kw, _ = layer.filter.shape
    ins = layer.input_shape
    return [("batches", 1), ("input_height", ins.height), ("input_width", ins.width),
            ("input_channels", ins.channels), ("output_channels", out_c),
            ("filter_height", kh), ("filter_width", kw),
            ("stride_height", layer.stride[0]), ("stride_width", layer.stride[1]),
            ("dilation_height", layer.dilation[0]), ("dilation_width", layer.dilation[1]),
            ("padding_height", layer.padding[0]), ("padding_width", layer.padding[1]),
            ("groups", layer.groups), ("input_zero_point", layer.input_zero_point)]


def _describe(layer: qgraph.Conv2d) -> str:
    _, kh, kw, _ = layer.filter.shape
    text = (f"Conv2d {layer.input_shape.channels} -> {layer.output_shape.channels}, "
            + window_text((kh, kw), layer.stride, layer.padding, layer.dilation))
    if layer.groups != 1:
        text += f", groups {layer.groups}"
    return text + requantization_text(layer.requantization, layer.output)


def _run(layer: qgraph.Conv2d, x):
    return reference.conv2d(x, layer.filter, layer.bias, stride=layer.stride,
                            padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
                            input_zero_point=layer.input_zero_point,
                            **requantize_arguments(layer.requantization))


def _onnx(builder, layer: qgraph.Conv2d) -> bool:
    builder.conv(layer, layer.filter.transpose(0, 3, 1, 2), layer.groups)  # OHWI -> OIHW
    return True


OP = Op(
    layer=qgraph.Conv2d,
    summary="2-D convolution (stride, padding, dilation, groups), int8 OHWI filters",
    torch=("nn.Conv2d", "F.conv2d"),
    cxx_params="Conv2dParams",
    cxx_layer=lambda layer: "Conv2dLayer",
    params=_params,
    describe=_describe,
    run=_run,
    onnx=_onnx,
    arrays=(ArrayRole("filter", "Filter", "int8_t"), ArrayRole("bias", "Bias", "int32_t")),
    array_comment="filter OHWI; bias with the input zero point folded in",
    requantizes=True,
    weights_by_output=lambda layer: layer.filter.reshape(layer.filter.shape[0], -1),
)
