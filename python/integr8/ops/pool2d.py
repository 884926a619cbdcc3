"""Pool2d: max and average pooling on raw int8 values (kernels/pool.h, spec section 5)."""

from integr8 import qgraph, reference
from integr8.ops import Op
from integr8.ops._text import fused_clamp, window_text


def _params(layer: qgraph.Pool2d) -> list:
    ins = layer.input_shape
    return [("batches", 1), ("input_height", ins.height), ("input_width", ins.width),
            ("channels", ins.channels), ("filter_height", layer.kernel[0]),
            ("filter_width", layer.kernel[1]),
            ("stride_height", layer.stride[0]), ("stride_width", layer.stride[1]),
            ("padding_height", layer.padding[0]), ("padding_width", layer.padding[1]),
            ("ceil_mode", bool(layer.ceil_mode)),
            ("count_include_pad", bool(layer.count_include_pad)),
            ("input_zero_point", layer.input_zero_point),
            ("activation_min", layer.activation_min), ("activation_max", layer.activation_max)]


def _describe(layer: qgraph.Pool2d) -> str:
    text = ("MaxPool2d " if layer.kind == "max" else "AvgPool2d ") + window_text(
        layer.kernel, layer.stride, layer.padding)
    if layer.ceil_mode:
        text += ", ceil_mode"
    if layer.kind == "avg":
        text += f", count_include_pad={layer.count_include_pad}"
        if (tuple(layer.kernel) == (layer.input_shape.height, layer.input_shape.width)
                and tuple(layer.padding) == (0, 0)):
            text += " (global average pool)"
    return text + fused_clamp(layer.activation_min, layer.activation_max, layer.output)


def _run(layer: qgraph.Pool2d, x):
    window = dict(kernel=layer.kernel, stride=layer.stride, padding=layer.padding,
                  ceil_mode=layer.ceil_mode, activation_min=layer.activation_min,
                  activation_max=layer.activation_max)
    if layer.kind == "max":
        return reference.max_pool2d(x, **window)
    return reference.avg_pool2d(x, count_include_pad=layer.count_include_pad,
                                input_zero_point=layer.input_zero_point, **window)


def _onnx(builder, layer: qgraph.Pool2d) -> bool:
    # ONNX's average pool divides in float and rounds half to even, and its ceil_mode
    # windows differ from PyTorch's: only floor-mode max pooling has the spec's meaning.
    if layer.kind != "max" or layer.ceil_mode:
        return False
    builder.max_pool(layer)
    return True


OP = Op(
    layer=qgraph.Pool2d,
    summary="max or average pooling (padding, ceil_mode, count_include_pad), global average",
    torch=("nn.MaxPool2d", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d(1)", "F.max_pool2d",
           "F.avg_pool2d"),
    cxx_params="Pool2dParams",
    cxx_layer=lambda layer: "MaxPool2dLayer" if layer.kind == "max" else "AvgPool2dLayer",
    params=_params,
    describe=_describe,
    run=_run,
    onnx=_onnx,
)
