"""Graph capture (integr8.capture), post-training calibration (integr8.calibrate) and the
whole-graph reference run (integr8.interpreter.run).

Accuracy thresholds. One well-used int8 quantizer has an SQNR of about 6.02 * 8 + 1.76 ~ 50 dB
minus the signal's crest factor (10-15 dB for the bell-shaped activations of random models),
so ~35-40 dB per tensor, and the noise of a few layers adds up. These random models measure
36 dB (MLP) and 41-43 dB (conv nets) at the output with every observer, and 38-51 dB per
layer. 30 dB leaves room for seeds and platforms, while the bugs we injected to check the
threshold land far below it: Linear columns not permuted after the flatten 0 dB, BatchNorm not
folded 4 dB, zero point not folded into the bias -4 dB, last multiplier off by 2x 6 dB.
Random logits have near-ties, so top-1 agreement is asked to be >= 95 % (measured: 100 %).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from integr8 import calibrate as cal
from integr8 import capture as cap
from integr8 import interpreter, qgraph, spec

MIN_SQNR_DB = 30.0
MIN_TOP1 = 0.95


def _sqnr(reference_values, approximation) -> float:
    reference_values = np.asarray(reference_values, dtype=np.float64)
    noise = ((reference_values - np.asarray(approximation, dtype=np.float64)) ** 2).sum()
    return 10 * math.log10((reference_values**2).sum() / max(noise, 1e-300))


def _randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(torch.randn(c, generator=generator) * 0.3)
            module.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
            module.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(c, generator=generator) * 0.2)
    return model.eval()


def _images(n, shape, seed):
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed))


def _quantized_output(graph, images, *, trace=False):
    """Dequantized reference output of the graph on float images (and the int8 trace)."""
    out, layers = interpreter.run(graph, cal.quantize_input(images, graph), trace=True)
    out = cal.dequantize(out, graph.output)
    return (out, layers) if trace else out


def _check_tracks_float(model, shape, *, observer=cal.DEFAULT_OBSERVER, seed=0, samples=256):
    graph = cal.calibrate(model, _images(samples, shape, seed), name="model", observer=observer)
    test = _images(samples, shape, seed + 1)
    with torch.no_grad():
        expected = model(test).double().numpy()
    got = _quantized_output(graph, test)
    sqnr = _sqnr(expected, got)
    top1 = (expected.argmax(1) == got.argmax(1)).mean()
    assert sqnr > MIN_SQNR_DB, f"output SQNR {sqnr:.1f} dB"
    assert top1 >= MIN_TOP1, f"top-1 agreement {top1:.3f}"
    return graph


# ---------------------------------------------------------------------------------------
# Models


def _mlp():
    torch.manual_seed(1)
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.ReLU(), nn.Linear(32, 16),
                         nn.ReLU6(), nn.Linear(16, 10)).eval()


class _Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return F.relu(out)


class _ConvNet(nn.Module):
    """BN + ReLU6 + max pool + depthwise + grouped conv + residual block + avg pool +
    flatten -> linear after a 3x3x8 map."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 1, groups=2), nn.ReLU())
        self.block = _Block(8)
        self.pool = nn.AvgPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(8 * 3 * 3, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.block(self.features(x)))))


def _convnet():
    torch.manual_seed(2)
    return _randomize_batchnorm(_ConvNet(), seed=2)


class _FunctionalNet(nn.Module):
    """Functional spellings: F.relu / torch.relu / torch.add / x.view(x.size(0), -1), string
    padding, a depth multiplier, ceil_mode pooling, a global average pool."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding="same")
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.dw = nn.Conv2d(6, 12, 3, padding=1, groups=6)  # depth multiplier 2
        self.pw = nn.Conv2d(12, 12, 1, padding="valid")
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.pool(x)
        x = torch.relu(self.dw(x))
        x = torch.add(x, F.relu6(self.pw(x)))
        x = self.gap(self.avg(x))
        x = x.view(x.size(0), -1)
        return self.fc(x)


def _functional_net():
    torch.manual_seed(3)
    return _FunctionalNet().eval()


# ---------------------------------------------------------------------------------------
# Accuracy of the whole pipeline


@pytest.mark.parametrize("observer", cal.OBSERVERS)
def test_mlp_tracks_float(observer):
    graph = _check_tracks_float(_mlp(), (3, 4, 4), observer=observer)
    assert [type(layer) for layer in graph.layers] == [qgraph.Linear] * 3
    assert graph.metadata["observer"] == observer


def test_convnet_tracks_float_layer_by_layer():
    model = _convnet()
    graph = _check_tracks_float(model, (3, 12, 12), samples=128)
    kinds = [type(layer).__name__ for layer in qgraph.iter_layers(graph.layers)]
    assert kinds == ["Conv2d", "Pool2d", "DepthwiseConv2d", "Conv2d", "Conv2d", "Conv2d",
                     "Residual", "Pool2d", "Linear"]
    by_name = {layer.name: layer for layer in qgraph.iter_layers(graph.layers)}
    assert by_name["features_7"].groups == 2
    assert by_name["features_4"].depth_multiplier == 1
    residual = by_name["block_add"]
    assert [layer.name for layer in residual.body] == ["block_conv1", "block_conv2"]
    assert residual.requantization.activation_min == residual.output.zero_point  # fused ReLU
    relu6 = by_name["features_0"]
    assert relu6.requantization.activation_max == min(
        127, relu6.output.zero_point + math.floor(6 / relu6.output.scale + 0.5))
    for pool in ("features_3", "pool"):  # pooling passes scale and zero point through
        assert by_name[pool].output.zero_point == by_name[pool].input_zero_point
    assert by_name["features_3"].output == by_name["features_0"].output
    assert by_name["pool"].output == residual.output

    # Per-layer SQNR, as the validation report computes it.
    test = _images(32, (3, 12, 12), 9)
    floats = cal.float_layer_outputs(model, test, graph=graph)
    _, trace = _quantized_output(graph, test, trace=True)
    assert list(trace) == list(floats) == [layer.name for layer in
                                           qgraph.iter_layers(graph.layers)]
    for name, layer in by_name.items():
        assert tuple(floats[name].shape) == (32, *layer.output_shape.as_tuple())
        assert trace[name].dtype == np.int8 and trace[name].shape == floats[name].shape
        sqnr = _sqnr(floats[name].numpy(), cal.dequantize(trace[name], layer.output))
        assert sqnr > MIN_SQNR_DB, f"layer {name}: SQNR {sqnr:.1f} dB"


def test_functional_net_tracks_float():
    graph = _check_tracks_float(_functional_net(), (3, 12, 12), samples=128)
    layers = list(qgraph.iter_layers(graph.layers))
    assert [layer.name for layer in layers] == ["stem", "pool", "dw", "pw", "add", "avg",
                                                "gap", "fc"]
    by_name = {layer.name: layer for layer in layers}
    assert by_name["dw"].depth_multiplier == 2
    assert by_name["stem"].padding == (1, 1) and by_name["pw"].padding == (0, 0)
    assert by_name["pool"].ceil_mode and by_name["pool"].output_shape.height == 7
    assert not by_name["avg"].count_include_pad
    assert by_name["gap"].kernel == (4, 4) and by_name["gap"].output_shape.as_tuple() == (1, 1, 12)
    assert by_name["stem"].source == "stem (Conv2d) + relu (torch.nn.functional.relu)"


def test_vector_input_model():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4)).eval()
    graph = _check_tracks_float(model, (10,))
    assert graph.input_shape.as_tuple() == (1, 1, 10)


# ---------------------------------------------------------------------------------------
# Capture details


def test_batchnorm_folding_matches_unfolded_model():
    model = _convnet().double()
    graph = cap.capture(model, (3, 12, 12))
    assert not any("BatchNorm" in layer.source and not isinstance(layer, cap.FloatConv2d)
                   for layer in graph.iter_layers())
    x = _images(16, (3, 12, 12), 5).double()
    with torch.no_grad():
        expected = model(x)
    got, trace = graph.forward(x, trace=True, dtype=torch.float64)
    assert torch.allclose(got, expected, rtol=0, atol=1e-5)
    # The folded conv alone equals conv followed by BatchNorm.
    with torch.no_grad():
        unfolded = model.features[2](model.features[1](model.features[0](x)))
    assert torch.allclose(trace["features_0"], unfolded.permute(0, 2, 3, 1), rtol=0, atol=1e-5)


def test_flatten_permutes_linear_columns_to_hwc():
    torch.manual_seed(6)
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.Linear(2 * 3 * 3, 5)).eval()
    graph = cap.capture(model, (1, 3, 3))
    linear = graph.layers[-1]
    assert linear.input_shape.as_tuple() == (3, 3, 2)
    torch_weight = model[2].weight.detach().double().numpy()
    for h in range(3):
        for w in range(3):
            for c in range(2):
                hwc_column = (h * 3 + w) * 2 + c
                chw_column = c * 9 + h * 3 + w
                np.testing.assert_array_equal(linear.weight[:, hwc_column],
                                              torch_weight[:, chw_column])
    x = _images(8, (1, 3, 3), 7)
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(graph.forward(x), expected, atol=1e-5)
    quantized = cal.calibrate(model, _images(128, (1, 3, 3), 8), name="perm")
    assert quantized.layers[-1].input_shape.as_tuple() == (3, 3, 2)
    assert _sqnr(expected.double().numpy(), _quantized_output(quantized, x)) > MIN_SQNR_DB


def test_sanitize_name():
    assert cap.sanitize_name("features.0") == "features_0"
    assert cap.sanitize_name("0") == "layer_0"
    assert cap.sanitize_name("Block.Conv1") == "block_conv1"
    assert cap.sanitize_name("a__b.") == "a_b"
    assert cap.sanitize_name("int") == "layer_int"
    assert cap.sanitize_name("_x") == "x"


def test_name_collisions_are_refused():
    class Collide(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Sequential()
            self.a.add_module("b", nn.Linear(4, 4))
            self.a_b = nn.Linear(4, 4)

        def forward(self, x):
            return self.a_b(self.a(x))

    with pytest.raises(cap.CaptureError, match=r"'a\.b' and 'a_b' both become 'a_b'"):
        cap.capture(Collide().eval(), (4,))

    model = nn.Sequential()
    model.add_module("Conv", nn.Linear(4, 4))
    model.add_module("conv", nn.Linear(4, 4))
    with pytest.raises(qgraph.GraphError, match="collide"):
        cal.calibrate(model.eval(), torch.randn(4, 4), name="m")


def _unsupported_cases():
    def seq(*layers):
        return nn.Sequential(*layers)

    class Sigmoid(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return torch.sigmoid(self.fc(x))

    class Projection(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Conv2d(2, 2, 3, padding=1)
            self.shortcut = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    class Alpha(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return torch.add(x, self.conv(x), alpha=2)

    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return self.conv(x) + 1.0

    class HardBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2 * 4 * 4, 3)

        def forward(self, x):
            return self.fc(x.view(2, -1))

    class Cat(nn.Module):
        def forward(self, x):
            return torch.cat([x, x], 1)

    class InPlaceFork(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU(inplace=True)
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return x + self.conv(self.relu(x))

    class Parameter(nn.Module):
        def __init__(self):
            super().__init__()
            self.offset = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return x + self.offset

    feature_map = (2, 4, 4)
    return [
        ("gelu", seq(nn.Conv2d(2, 2, 1), nn.GELU()), feature_map,
         r"unsupported module '1' \(torch\.nn\.modules\.activation\.GELU\).*supports"),
        ("hardtanh", seq(nn.Conv2d(2, 2, 1), nn.Hardtanh(-1, 1)), feature_map,
         r"module '1' .*Hardtanh"),
        ("batchnorm1d", seq(nn.Linear(4, 4), nn.BatchNorm1d(4)), (4,),
         r"module '1' .*BatchNorm1d"),
        ("sigmoid", Sigmoid(), (4,), r"function torch\.sigmoid"),
        ("cat", Cat(), feature_map, r"function torch\.cat"),
        ("padding_mode", seq(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect")),
         feature_map, r"module '0' .*padding_mode = 'reflect'"),
        ("same_even_kernel", seq(nn.Conv2d(2, 2, 2, padding="same")), feature_map,
         r"module '0' .*padding = 'same'.*asymmetric"),
        ("pool_dilation", seq(nn.MaxPool2d(2, dilation=2)), feature_map,
         r"module '0' .*dilation = 2"),
        ("return_indices", seq(nn.MaxPool2d(2, return_indices=True)), feature_map,
         r"module '0' .*return_indices"),
        ("divisor_override", seq(nn.AvgPool2d(2, divisor_override=3)), feature_map,
         r"module '0' .*divisor_override = 3"),
        ("adaptive_2", seq(nn.AdaptiveAvgPool2d(2)), feature_map,
         r"module '0' .*output_size = 2"),
        ("bn_first", seq(nn.BatchNorm2d(2), nn.Conv2d(2, 2, 1)), feature_map,
         r"module '0' .*BatchNorm2d must directly follow a Conv2d"),
        ("bn_after_relu", seq(nn.Conv2d(2, 2, 1), nn.ReLU(), nn.BatchNorm2d(2)), feature_map,
         r"module '2' .*BatchNorm2d must directly follow a Conv2d"),
        ("linear_on_map", seq(nn.Conv2d(2, 2, 1), nn.Linear(4, 3)), feature_map,
         r"module '1' .*flattened feature map or a vector"),
        ("projection_shortcut", Projection(), feature_map, r"identity shortcut"),
        ("alpha", Alpha(), feature_map, r"torch\.add .*alpha = 2"),
        ("add_constant", Constant(), feature_map, r"operator\.add .*not a residual add"),
        ("hard_coded_batch", HardBatch(), feature_map, r"hard-codes the batch size"),
        ("inplace_fork", InPlaceFork(), feature_map, r"module 'relu' .*in place"),
        ("parameter", Parameter(), feature_map, r"parameter/buffer 'offset'"),
    ]


@pytest.mark.parametrize("case", _unsupported_cases(), ids=lambda case: case[0])
def test_unsupported_layers_and_options_are_named(case):
    _, model, shape, message = case
    with pytest.raises(cap.CaptureError, match=message):
        cap.capture(model.eval(), shape)


def test_training_mode_and_bad_shapes_are_refused():
    with pytest.raises(cap.CaptureError,
                       match=r"model 'Sequential' is in training mode.*call model.eval\(\)"):
        cap.capture(nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)), (2, 4, 4))
    with pytest.raises(cap.CaptureError, match="input_shape"):
        cap.capture(_mlp(), (3, 4))
    with pytest.raises(cap.CaptureError, match="failed"):
        cap.capture(_mlp(), (3, 5, 5))  # 75 features into Linear(48, ...)


# ---------------------------------------------------------------------------------------
# Bad values


def test_non_finite_weights_are_refused():
    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)).eval()
    model[0].weight.data[1, 0, 0, 0] = float("nan")
    with pytest.raises(cap.CaptureError, match=r"module '0' .*weight = nan"):
        cap.capture(model, (2, 4, 4))
    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)).eval()
    model[1].running_var[0] = float("inf")
    with pytest.raises(cap.CaptureError, match=r"module '1' .*running_var = inf"):
        cap.capture(model, (2, 4, 4))
    with pytest.raises(qgraph.GraphError, match="weight = nan"):
        cal.quantize_weights(np.array([[1.0, float("nan")]]), "fc")


def test_non_finite_calibration_data_is_refused():
    images = torch.randn(8, 3, 4, 4)
    images[5, 1, 2, 3] = float("nan")
    with pytest.raises(cal.CalibrationError, match=r"calibration_images\[5, 1, 2, 3\] = nan"):
        cal.calibrate(_mlp(), images, name="m")
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 4)).eval()
    model[1].weight.data.fill_(1e38)
    with pytest.raises(cal.CalibrationError, match=r"layer 'layer_1': float output"):
        cal.calibrate(model, torch.full((4, 3, 4, 4), 1e3), name="m")


def test_bad_arguments_are_refused():
    images = torch.randn(8, 3, 4, 4)
    with pytest.raises(cal.CalibrationError, match="observer = 'max'"):
        cal.calibrate(_mlp(), images, name="m", observer="max")
    with pytest.raises(cal.CalibrationError, match="float tensor"):
        cal.calibrate(_mlp(), images.to(torch.int32), name="m")
    with pytest.raises(qgraph.GraphError, match="zero_point"):
        cal.calibrate(_mlp(), images, name="m", input_quant=qgraph.Quant(0.1, 200))
    with pytest.raises(qgraph.GraphError, match="name"):
        cal.calibrate(_mlp(), images, name="Bad Name")
    graph = cal.calibrate(_mlp(), images, name="m")
    with pytest.raises(cal.CalibrationError, match="does not match"):
        cal.float_layer_outputs(_convnet(), torch.randn(2, 3, 12, 12), graph=graph)
    with pytest.raises(ValueError, match="NHWC"):
        interpreter.run(graph, np.zeros((2, 3, 4, 4), dtype=np.int8))  # NCHW by mistake


def _two_layer(first_bias, second_bias, second_weight=1.0):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).eval()
    with torch.no_grad():
        model[0].weight.uniform_(-1, 1)
        model[0].bias.fill_(first_bias)
        model[2].weight.fill_(second_weight)
        model[2].bias.fill_(second_bias)
    return model


def test_constant_zero_activation_gets_unit_scale():
    model = _two_layer(first_bias=-100.0, second_bias=0.25)  # the ReLU output is always 0
    images = torch.rand(64, 4)
    graph = cal.calibrate(model, images, name="const")
    hidden = graph.layers[0]
    assert hidden.output.scale == 1.0  # spec section 2: exact, and keeps layer_2 in range
    assert hidden.output.zero_point == -128
    q = cal.quantize_input(images, graph)
    out, trace = interpreter.run(graph, q, trace=True)
    assert (trace[hidden.name] == -128).all()  # real zero
    np.testing.assert_allclose(cal.dequantize(out, graph.output), 0.25,
                               atol=graph.output.scale)


def test_folded_bias_outside_int32_is_refused():
    # The hidden activation is the constant 1e-6: s_in = 1e-6 / 255 and s_w = 1 / 127, so
    # b / (s_in * s_w) = 10 * 255e6 * 127 > 2^31.
    model = _two_layer(first_bias=1e-6, second_bias=10.0)
    with torch.no_grad():
        model[0].weight.zero_()
    with pytest.raises(cal.CalibrationError, match=r"layer 'layer_2': bias\[0\]"):
        cal.calibrate(model, torch.rand(16, 4), name="m")


def test_out_of_range_multiplier_is_refused():
    model = _two_layer(first_bias=0.5, second_bias=1.0, second_weight=1e-12)
    with pytest.raises(cal.CalibrationError,
                       match=r"layer 'layer_2': requantization multiplier .*never flushed"):
        cal.calibrate(model, torch.rand(16, 4), name="m")


# ---------------------------------------------------------------------------------------
# Input quantization, observers, metadata


def test_fixed_input_quant_for_pixels():
    pixels = torch.randint(0, 256, (64, 1, 4, 4), generator=torch.Generator().manual_seed(3))
    images = pixels.float() / 255
    torch.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(64, 3)).eval()
    graph = cal.calibrate(model, images, name="digits",
                          input_quant=qgraph.Quant(1 / 255, -128))
    assert graph.input == qgraph.Quant(1 / 255, -128)
    q = cal.quantize_input(images, graph)
    np.testing.assert_array_equal(q, (pixels.permute(0, 2, 3, 1).numpy() - 128).astype(np.int8))
    assert graph.metadata["input_quant"] == "fixed"


def test_metadata_records_provenance():
    graph = cal.calibrate(_mlp(), _images(40, (3, 4, 4), 0), name="m", observer="percentile",
                          percentile=99.9, batch_size=16)
    assert graph.metadata["observer"] == "percentile"
    assert graph.metadata["percentile"] == 99.9
    assert graph.metadata["calibration_samples"] == 40
    assert graph.metadata["spec_version"] == spec.VERSION
    assert graph.metadata["output_observer"] == "minmax"


def _observe(kind, values, **kwargs):
    observer = cal.make_observer(kind, **kwargs)
    observer.update_range(values)
    if observer.needs_histogram:
        observer.update_histogram(values)
    return observer.range()


def _quantization_mse(values, value_range):
    quant = cal.quant_from_range(*value_range)
    q = torch.clamp(torch.round(values / quant.scale) + quant.zero_point, -128, 127)
    return float((((q - quant.zero_point) * quant.scale - values) ** 2).mean())


def test_observers():
    values = torch.distributions.StudentT(2.0).sample((50000,))  # heavy tails
    low, high = float(values.min()), float(values.max())
    assert _observe("minmax", values) == (low, high)
    p_low, p_high = _observe("percentile", values, percentile=99.0)
    assert low < p_low < 0 < p_high < high
    ranges = {kind: _observe(kind, values) for kind in cal.OBSERVERS}
    errors = {kind: _quantization_mse(values, r) for kind, r in ranges.items()}
    assert errors["mse"] <= 1.01 * min(errors.values()), errors
    # ReLU-like data: exact zeros cost nothing and the lower bound stays at 0.
    relu = torch.relu(torch.randn(20000))
    assert _observe("mse", relu)[0] == 0.0
    # A constant zero tensor gives [0, 0], i.e. the unit scale of spec section 2.
    for kind in cal.OBSERVERS:
        assert cal.quant_from_range(*_observe(kind, torch.zeros(10))) == qgraph.Quant(1.0, -128)


def test_quant_from_range_follows_spec():
    quant = cal.quant_from_range(-1.0, 3.0)
    # 24 significant bits, half to even: exactly float32's rounding of a normal float64.
    scale = float(np.float32(4.0 / 255))
    assert scale != 4.0 / 255 and quant.scale == scale
    assert quant.zero_point == int(np.rint(-128 + 1.0 / scale))
    assert cal.quant_from_range(0.5, 2.0) == cal.quant_from_range(0.0, 2.0)  # widened to 0
    # Ranges that differ in their last float64 bits, as forward passes summing in another
    # order give, calibrate to the same quantization.
    for high in (3.0, 0.7, 123.456):
        nudged = np.nextafter(np.nextafter(high, np.inf), np.inf)
        assert cal.quant_from_range(-1.0, nudged) == cal.quant_from_range(-1.0, high)
    weights, scales = cal.quantize_weights(np.array([[127.0, 2.5, -3.5, 0.4],
                                                     [0.0, 0.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(scales, [1.0, 1.0])  # an all-zero channel gets scale 1
    np.testing.assert_array_equal(weights, [[127, 2, -4, 0], [0, 0, 0, 0]])  # half to even
