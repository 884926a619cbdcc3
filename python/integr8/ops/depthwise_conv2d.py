"""DepthwiseConv2d: one filter per channel (and depth multiplier), 1HWC (kernels/depthwise.h)."""

from integr8 import qgraph, reference
from integr8.ops import ArrayRole, Op, requantize_arguments
from integr8.ops._text import requantization_text, window_text


def _params(layer: qgraph.DepthwiseConv2d) -> list:
    _, kh, kw, _ = layer.filter.shape
    ins = layer.input_shape
    return [("batches", 1), ("input_height", ins.height), ("input_width", ins.width),
            ("input_channels", ins.channels), ("depth_multiplier", layer.depth_multiplier),
            ("filter_height", kh), ("filter_width", kw),
            ("stride_height", layer.stride[0]), ("stride_width", layer.stride[1]),
            ("dilation_height", layer.dilation[0]), ("dilation_width", layer.dilation[1]),
            ("padding_height", layer.padding[0]), ("padding_width", layer.padding[1]),
            ("input_zero_point", layer.input_zero_point)]


def _describe(layer: qgraph.DepthwiseConv2d) -> str:
    _, kh, kw, _ = layer.filter.shape
    return (f"DepthwiseConv2d {layer.input_shape.channels} -> {layer.output_shape.channels} "
            f"(depth multiplier {layer.depth_multiplier}), "
            + window_text((kh, kw), layer.stride, layer.padding, layer.dilation)
            + requantization_text(layer.requantization, layer.output))


def _run(layer: qgraph.DepthwiseConv2d, x):
    return reference.depthwise_conv2d(x, layer.filter, layer.bias,
                                      depth_multiplier=layer.depth_multiplier,
                                      stride=layer.stride, padding=layer.padding,
                                      dilation=layer.dilation,
                                      input_zero_point=layer.input_zero_point,
                                      **requantize_arguments(layer.requantization))


def _onnx(builder, layer: qgraph.DepthwiseConv2d) -> bool:
    # 1HWC -> [C * depth_multiplier, 1, H, W], one group per input channel.
    builder.conv(layer, layer.filter.transpose(3, 0, 1, 2), layer.input_shape.channels)
    return True


OP = Op(
    layer=qgraph.DepthwiseConv2d,
    summary="depthwise 2-D convolution (groups == input channels, any depth multiplier)",
    torch=("nn.Conv2d(groups=in_channels)", "F.conv2d(groups=in_channels)"),
    cxx_params="DepthwiseConv2dParams",
    cxx_layer=lambda layer: "DepthwiseConv2dLayer",
    params=_params,
    describe=_describe,
    run=_run,
    onnx=_onnx,
    arrays=(ArrayRole("filter", "Filter", "int8_t"), ArrayRole("bias", "Bias", "int32_t")),
    array_comment="filter 1HWC; bias with the input zero point folded in",
    requantizes=True,
    # 1HWC: the output channel is the last axis.
    weights_by_output=lambda layer: layer.filter.reshape(-1, layer.filter.shape[-1]).T,
)
