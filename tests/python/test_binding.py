"""integr8._core (the pybind11 binding) against integr8.reference, bit for bit.

- Every kernel equals the NumPy reference on random shapes and parameters (hypothesis),
  per tensor and per channel, and both reject the same impossible geometries.
- Every malformed argument (dtype, ndim, shape, non-contiguous, read-only or overlapping out,
  0-d, empty, wrong scalar type or range) is a Python exception, never a cast or a crash.
- BarsModel.run equals the reference chain conv2d -> avg_pool2d -> linear with the bars
  parameters, for any thread count.
- integr8.build() compiles a generated header into a module equal to _core.BarsModel, caches
  it, and reports compiler errors.

Skipped when integr8._core is not built (`pip install .` from the repository root builds it).
"""

from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

core = pytest.importorskip(
    "integr8._core",
    reason="integr8._core is not built: run `pip install .` from the repository root")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import integr8  # noqa: E402
from integr8 import reference, spec  # noqa: E402

build_module = importlib.import_module("integr8.build")  # integr8.build is the function

REPO = pathlib.Path(__file__).resolve().parents[2]
BARS_HEADER = REPO / "examples" / "host" / "bars_model.h"

HYPOTHESIS = settings(max_examples=25, deadline=None)
MULTIPLIERS = st.integers(2**30, 2**31 - 1)
SHIFTS = st.one_of(st.integers(24, 44), st.sampled_from([1, 62]))
MAX_PRODUCT = 128 * 127


def assert_same(actual, expected):
    assert actual.dtype == np.int8
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def rng_of(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def int8s(rng, shape):
    return rng.integers(-128, 128, shape, dtype=np.int8)


def weights_of(rng, shape):
    return rng.integers(-127, 128, shape, dtype=np.int8)


def bias_of(data, rng, channels, products):
    """Folded biases within the accumulator bound |b| + K * 128 * 127 < 2^31, often at it."""
    limit = 2**31 - 1 - products * MAX_PRODUCT
    magnitude = data.draw(st.sampled_from([2**12, 2**20, limit]), label="bias magnitude")
    return rng.integers(-magnitude, magnitude + 1, channels).astype(np.int32)


def activation_range(data):
    low, high = sorted(data.draw(st.tuples(st.integers(-128, 127), st.integers(-128, 127)),
                                 label="activation range"))
    if data.draw(st.booleans(), label="full range"):
        return {}
    return {"activation_min": low, "activation_max": high}


def requantization(data, channels, per_channel):
    """multiplier/shift as Python ints, 1-entry or per-channel int32 arrays (also mixed)."""
    if per_channel:
        multiplier = np.array(data.draw(st.lists(MULTIPLIERS, min_size=channels,
                                                 max_size=channels)), np.int32)
        shift = np.array(data.draw(st.lists(SHIFTS, min_size=channels, max_size=channels)),
                         np.int32)
        mixed = data.draw(st.sampled_from(["none", "multiplier", "shift"]), label="mixed")
        if mixed == "multiplier":
            multiplier = int(multiplier[0])
        elif mixed == "shift":
            shift = np.array([shift[0]], np.int32)
    else:
        multiplier, shift = data.draw(MULTIPLIERS), data.draw(SHIFTS)
        if data.draw(st.booleans(), label="as arrays"):
            multiplier = np.array([multiplier], np.int32)
            shift = np.array([shift], np.int32)
    return {"multiplier": multiplier, "shift": shift,
            "output_zero_point": data.draw(st.integers(-128, 127), label="output zero point"),
            **activation_range(data)}


def check_both(binding, reference_function, *args, **kwargs):
    """The binding equals the reference, or both raise ValueError (no output position...)."""
    try:
        expected = reference_function(*args, **kwargs)
    except ValueError:
        with pytest.raises(ValueError):
            binding(*args, **kwargs)
        return
    assert_same(binding(*args, **kwargs), expected)


# ---------------------------------------------------------------------------------------
# Kernels against the reference


def test_module_metadata():
    assert core.__version__ == integr8.__version__
    assert core.spec_version == spec.VERSION
    # A stale installed _core (built from other headers than this tree's) would test nothing.
    assert core.headers_sha256 == build_module.headers_sha256(build_module.include_dir()), (
        "integr8._core was built from other integr8 headers: run `pip install .` again")
    for name in ("linear", "conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "add",
                 "relu", "requantize", "BarsModel", "build"):
        assert hasattr(integr8, name)
    assert integr8.linear is core.linear


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@HYPOTHESIS
@given(data=st.data())
def test_linear(per_channel, data):
    rng = rng_of(data)
    batches, inputs, outputs = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 24)),
                                data.draw(st.integers(1, 8)))
    x, weights = int8s(rng, (batches, inputs)), weights_of(rng, (outputs, inputs))
    bias = bias_of(data, rng, outputs, inputs)
    kwargs = requantization(data, outputs, per_channel)
    check_both(core.linear, reference.linear, x, weights, bias, **kwargs)


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@HYPOTHESIS
@given(data=st.data())
def test_conv2d(per_channel, data):
    rng = rng_of(data)
    groups = data.draw(st.integers(1, 3))
    in_channels = groups * data.draw(st.integers(1, 3))
    out_channels = groups * data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = int8s(rng, (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 7)),
                    data.draw(st.integers(1, 7)), in_channels))
    weights = weights_of(rng, (out_channels, kh, kw, in_channels // groups))
    bias = bias_of(data, rng, out_channels, kh * kw * (in_channels // groups))
    kwargs = requantization(data, out_channels, per_channel)
    kwargs.update(
        stride=data.draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3),
                                                                  st.integers(1, 3)))),
        padding=(data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))),
        dilation=(data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))),
        groups=groups, input_zero_point=data.draw(st.integers(-128, 127)))
    check_both(core.conv2d, reference.conv2d, x, weights, bias, **kwargs)


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@HYPOTHESIS
@given(data=st.data())
def test_depthwise_conv2d(per_channel, data):
    rng = rng_of(data)
    in_channels, depth_multiplier = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    channels = in_channels * depth_multiplier
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = int8s(rng, (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 7)),
                    data.draw(st.integers(1, 7)), in_channels))
    weights = weights_of(rng, (1, kh, kw, channels))
    bias = bias_of(data, rng, channels, kh * kw)
    kwargs = requantization(data, channels, per_channel)
    kwargs.update(depth_multiplier=depth_multiplier,
                  stride=(data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))),
                  padding=data.draw(st.integers(0, 2)),
                  dilation=(data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))),
                  input_zero_point=data.draw(st.integers(-128, 127)))
    check_both(core.depthwise_conv2d, reference.depthwise_conv2d, x, weights, bias, **kwargs)


def pool_arguments(data):
    rng = rng_of(data)
    x = int8s(rng, (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 8)),
                    data.draw(st.integers(1, 8)), data.draw(st.integers(1, 3))))
    kernel = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    kwargs = {"kernel": kernel,
              "stride": (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))),
              "padding": (data.draw(st.integers(0, kernel[0] // 2)),
                          data.draw(st.integers(0, kernel[1] // 2))),
              "ceil_mode": data.draw(st.booleans()), **activation_range(data)}
    return x, kwargs


@HYPOTHESIS
@given(data=st.data())
def test_max_pool2d(data):
    x, kwargs = pool_arguments(data)
    check_both(core.max_pool2d, reference.max_pool2d, x, **kwargs)


@HYPOTHESIS
@given(data=st.data())
def test_avg_pool2d(data):
    x, kwargs = pool_arguments(data)
    kwargs.update(count_include_pad=data.draw(st.booleans()),
                  input_zero_point=data.draw(st.integers(-128, 127)))
    check_both(core.avg_pool2d, reference.avg_pool2d, x, **kwargs)


@HYPOTHESIS
@given(data=st.data())
def test_add(data):
    rng = rng_of(data)
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    a, b = int8s(rng, shape), int8s(rng, shape)
    scales = st.floats(1e-3, 1.0, allow_nan=False, allow_infinity=False)
    scale_a, scale_b, scale_out = data.draw(scales), data.draw(scales), data.draw(scales)
    largest = max(scale_a, scale_b)
    a_multiplier, a_shift = reference.quantize_multiplier(scale_a / (2 * largest))
    b_multiplier, b_shift = reference.quantize_multiplier(scale_b / (2 * largest))
    output_multiplier, output_shift = reference.quantize_multiplier(
        2 * largest / (2**reference.ADD_LEFT_SHIFT * scale_out))
    kwargs = {"a_zero_point": data.draw(st.integers(-128, 127)), "a_multiplier": a_multiplier,
              "a_shift": a_shift, "b_zero_point": data.draw(st.integers(-128, 127)),
              "b_multiplier": b_multiplier, "b_shift": b_shift,
              "output_multiplier": output_multiplier, "output_shift": output_shift,
              "output_zero_point": data.draw(st.integers(-128, 127)), **activation_range(data)}
    expected = reference.add(a, b, **kwargs)
    assert_same(core.add(a, b, **kwargs), expected)
    in_place = a.copy()  # out may be exactly an input
    core.add(in_place, b, out=in_place, **kwargs)
    assert_same(in_place, expected)


@HYPOTHESIS
@given(data=st.data())
def test_relu(data):
    rng = rng_of(data)
    x = int8s(rng, tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))))
    low, high = sorted((data.draw(st.integers(-128, 127)), data.draw(st.integers(-128, 127))))
    expected = reference.relu(x, activation_min=low, activation_max=high)
    assert_same(core.relu(x, activation_min=low, activation_max=high), expected)
    core.relu(x, activation_min=low, activation_max=high, out=x)
    assert_same(x, expected)


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@HYPOTHESIS
@given(data=st.data())
def test_requantize(per_channel, data):
    rng = rng_of(data)
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    acc = rng.integers(-2**31, 2**31, shape, dtype=np.int64).astype(np.int32)
    kwargs = requantization(data, shape[-1], per_channel)
    assert_same(core.requantize(acc, **kwargs), reference.requantize(acc, **kwargs))


def test_out_argument_is_filled_and_returned():
    rng = np.random.default_rng(7)
    x, weights = int8s(rng, (3, 5)), weights_of(rng, (4, 5))
    bias = np.zeros(4, np.int32)
    out = np.zeros((3, 4), np.int8)
    result = core.linear(x, weights, bias, multiplier=2**30, shift=36, output_zero_point=0,
                         out=out)
    assert result is out
    assert_same(out, reference.linear(x, weights, bias, multiplier=2**30, shift=36,
                                      output_zero_point=0))


# ---------------------------------------------------------------------------------------
# Malformed arguments: always a Python exception


def _valid_calls():
    """One valid call per kernel: (function, positional arrays by name, keyword arguments)."""
    rng = np.random.default_rng(11)
    requant = {"multiplier": 2**30, "shift": 36, "output_zero_point": 0}
    add_kwargs = {"a_zero_point": 0, "a_multiplier": 2**30, "a_shift": 31, "b_zero_point": 0,
                  "b_multiplier": 2**30, "b_shift": 31, "output_multiplier": 2**30,
                  "output_shift": 40, "output_zero_point": 0}
    return {
        "linear": (core.linear, {"x": int8s(rng, (2, 6)), "weights": weights_of(rng, (3, 6)),
                                 "bias": np.zeros(3, np.int32)}, requant),
        "conv2d": (core.conv2d, {"x": int8s(rng, (2, 5, 5, 2)),
                                 "weights": weights_of(rng, (4, 3, 3, 2)),
                                 "bias": np.zeros(4, np.int32)},
                   {**requant, "input_zero_point": 0, "padding": 1}),
        "depthwise_conv2d": (core.depthwise_conv2d,
                             {"x": int8s(rng, (2, 5, 5, 2)),
                              "weights": weights_of(rng, (1, 3, 3, 4)),
                              "bias": np.zeros(4, np.int32)},
                             {**requant, "input_zero_point": 0, "depth_multiplier": 2}),
        "max_pool2d": (core.max_pool2d, {"x": int8s(rng, (2, 4, 4, 3))},
                       {"kernel": 2, "stride": 2}),
        "avg_pool2d": (core.avg_pool2d, {"x": int8s(rng, (2, 4, 4, 3))},
                       {"kernel": 2, "stride": 2}),
        "add": (core.add, {"a": int8s(rng, (2, 3, 4)), "b": int8s(rng, (2, 3, 4))},
                add_kwargs),
        "relu": (core.relu, {"x": int8s(rng, (2, 3, 4))},
                 {"activation_min": -10, "activation_max": 100}),
        "requantize": (core.requantize,
                       {"acc": rng.integers(-2**20, 2**20, (2, 3, 4)).astype(np.int32)},
                       requant),
    }


VALID_CALLS = _valid_calls()
ANY_NDIM = {"add", "relu", "requantize"}  # element-wise ops take any ndim >= 1


def _call(op, arrays=None, **changes):
    function, valid_arrays, kwargs = VALID_CALLS[op]
    arrays = {**valid_arrays, **(arrays or {})}
    return function(*arrays.values(), **{**kwargs, **changes})


def _strided(array):
    """Same shape and dtype, not C-contiguous."""
    return np.repeat(array, 2, axis=-1)[..., ::2]


def _array_cases():
    for op, (_, arrays, _) in VALID_CALLS.items():
        for name, array in arrays.items():
            other = np.int16 if array.dtype == np.int8 else np.int64
            yield op, name, "dtype", array.astype(other), TypeError
            yield op, name, "unsigned", array.view(np.uint8 if array.dtype == np.int8
                                                   else np.uint32), TypeError
            yield op, name, "float", array.astype(np.float32), TypeError
            yield op, name, "list", array.tolist(), TypeError
            yield op, name, "none", None, TypeError
            yield op, name, "0-d", np.array(array.flat[0]), ValueError
            yield op, name, "empty", array[:0], ValueError
            yield op, name, "non_contiguous", _strided(array), ValueError
            if array.ndim > 1:
                yield op, name, "fortran_order", np.asfortranarray(array), ValueError
            if array.dtype == np.int32:
                yield op, name, "byteswapped", array.astype(array.dtype.newbyteorder()), TypeError
            if op not in ANY_NDIM or op == "add":
                yield op, name, "extra_axis", array[None], ValueError
            if array.ndim > 1 and op not in ANY_NDIM:
                yield op, name, "missing_axis", array[0], ValueError


@pytest.mark.parametrize("op, name, case, value, error",
                         [pytest.param(*case, id=f"{case[0]}-{case[1]}-{case[2]}")
                          for case in _array_cases()])
def test_malformed_array_raises(op, name, case, value, error):
    with pytest.raises(error, match=name):
        _call(op, {name: value})


def _out_cases():
    for op in VALID_CALLS:
        out = _call(op)
        read_only = np.zeros_like(out)
        read_only.flags.writeable = False
        yield op, "read_only", read_only, ValueError
        yield op, "wrong_shape", np.zeros(out.shape[:-1] + (out.shape[-1] + 1,), np.int8), \
            ValueError
        yield op, "wrong_dtype", np.zeros(out.shape, np.int16), TypeError
        yield op, "non_contiguous", _strided(np.zeros(out.shape, np.int8)), ValueError
        yield op, "0-d", np.zeros((), np.int8), ValueError
        yield op, "not_an_array", out.tolist(), TypeError


@pytest.mark.parametrize("op, case, out, error",
                         [pytest.param(*case, id=f"{case[0]}-{case[1]}")
                          for case in _out_cases()])
def test_malformed_out_raises(op, case, out, error):
    with pytest.raises(error, match="out"):
        _call(op, out=out)


def test_out_overlapping_an_input_raises():
    x = np.zeros((4, 4), np.int8)
    weights = np.ones((4, 4), np.int8)
    with pytest.raises(ValueError, match="overlaps"):
        core.linear(x, weights, np.zeros(4, np.int32), multiplier=2**30, shift=31,
                    output_zero_point=0, out=x)
    with pytest.raises(ValueError, match="overlaps weights"):
        core.linear(x, weights, np.zeros(4, np.int32), multiplier=2**30, shift=31,
                    output_zero_point=0, out=weights)
    buffer = np.zeros(9, np.int8)
    with pytest.raises(ValueError, match="overlaps"):  # shifted, not exactly in place
        core.relu(buffer[:8], activation_min=0, activation_max=10, out=buffer[1:])
    pool_input = VALID_CALLS["max_pool2d"][1]["x"].copy()
    with pytest.raises(ValueError, match="overlaps x"):  # contiguous, inside the input
        _call("max_pool2d", {"x": pool_input}, out=pool_input.reshape(-1)[:24].reshape(2, 2, 2, 3))


SCALAR_CASES = [
    # (op, keyword, value, error, message fragment)
    ("linear", "multiplier", 1.0, TypeError, "multiplier"),
    ("linear", "multiplier", True, TypeError, "multiplier"),
    ("linear", "multiplier", "1073741824", TypeError, "multiplier"),
    ("linear", "multiplier", 2**31, ValueError, "multiplier"),
    ("linear", "multiplier", 5, ValueError, "kBadMultiplier"),
    ("linear", "multiplier", np.array(2**30, np.int32), ValueError, "multiplier"),  # 0-d
    ("linear", "multiplier", np.array([2**30] * 2, np.int32), ValueError, "multiplier"),
    ("linear", "multiplier", np.array([2**30] * 3, np.int64), TypeError, "multiplier"),
    ("linear", "multiplier", np.array([[2**30] * 3], np.int32), ValueError, "multiplier"),
    ("linear", "shift", 0, ValueError, "kBadShift"),
    ("linear", "shift", 63, ValueError, "kBadShift"),
    ("linear", "shift", None, TypeError, "shift"),
    ("linear", "output_zero_point", 128, ValueError, "kBadZeroPoint"),
    ("linear", "output_zero_point", -2**40, ValueError, "output_zero_point"),
    ("linear", "activation_max", 128, ValueError, "kBadActivationRange"),
    ("conv2d", "stride", 0, ValueError, "kBadStride"),
    ("conv2d", "stride", (1, 2, 3), ValueError, "stride"),
    ("conv2d", "stride", 1.5, TypeError, "stride"),
    ("conv2d", "dilation", (1, 0), ValueError, "kBadDilation"),
    ("conv2d", "padding", -1, ValueError, "kBadPadding"),
    ("conv2d", "groups", 3, ValueError, "kBadGroups"),
    ("conv2d", "groups", 2, ValueError, "weights"),  # I would be 1, weights hold 2
    ("conv2d", "input_zero_point", 200, ValueError, "kBadZeroPoint"),
    ("depthwise_conv2d", "depth_multiplier", 0, ValueError, "depth_multiplier"),
    ("depthwise_conv2d", "depth_multiplier", 3, ValueError, "weights"),
    ("max_pool2d", "kernel", 0, ValueError, "kBadShape"),
    ("max_pool2d", "padding", 2, ValueError, "kBadPadding"),  # more than half the kernel
    ("max_pool2d", "ceil_mode", 1, TypeError, "ceil_mode"),
    ("max_pool2d", "kernel", 9, ValueError, "kBadShape"),  # no output position
    ("avg_pool2d", "count_include_pad", "yes", TypeError, "count_include_pad"),
    ("avg_pool2d", "input_zero_point", -129, ValueError, "kBadZeroPoint"),
    ("add", "a_multiplier", 2**31 - 1, ValueError, "kBadMultiplier"),  # rescale above 1/2
    ("add", "b_shift", 0, ValueError, "kBadShift"),
    ("add", "output_zero_point", 1.0, TypeError, "output_zero_point"),
    ("relu", "activation_max", -20, ValueError, "kBadActivationRange"),
    ("requantize", "multiplier", np.array([2**30] * 3, np.int32), ValueError, "multiplier"),
]


@pytest.mark.parametrize("op, keyword, value, error, fragment",
                         [pytest.param(*case, id=f"{case[0]}-{case[1]}-{index}")
                          for index, case in enumerate(SCALAR_CASES)])
def test_malformed_scalar_raises(op, keyword, value, error, fragment):
    with pytest.raises(error, match=fragment):
        _call(op, **{keyword: value})


def test_activation_min_above_max_raises():
    with pytest.raises(ValueError, match="kBadActivationRange"):
        _call("linear", activation_min=10, activation_max=-10)
    with pytest.raises(ValueError, match="kBadActivationRange"):
        _call("relu", activation_min=101, activation_max=100)


def test_mismatched_shapes_raise():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="in features"):
        _call("linear", {"weights": weights_of(rng, (3, 5))})
    with pytest.raises(ValueError, match="bias"):
        _call("linear", {"bias": np.zeros(4, np.int32)})
    with pytest.raises(ValueError, match="bias"):
        _call("conv2d", {"bias": np.zeros(3, np.int32)})
    with pytest.raises(ValueError, match="weights"):
        _call("depthwise_conv2d", {"weights": weights_of(rng, (2, 3, 3, 2))})
    with pytest.raises(ValueError, match="b shape"):
        _call("add", {"b": int8s(rng, (2, 3, 5))})


def test_weight_minus_128_and_accumulator_overflow_raise():
    weights = VALID_CALLS["linear"][1]["weights"].copy()
    weights[1, 2] = -128
    with pytest.raises(ValueError, match="-128"):
        _call("linear", {"weights": weights})
    with pytest.raises(ValueError, match="kAccumulatorOverflow"):
        _call("linear", {"bias": np.full(3, 2**31 - 1, np.int32)})


def test_wrong_arity_and_unknown_keywords_raise():
    with pytest.raises(TypeError):
        core.linear(np.zeros((1, 1), np.int8))
    with pytest.raises(TypeError):
        _call("relu", bogus=1)
    with pytest.raises(TypeError):  # keyword-only parameters
        core.relu(np.zeros(3, np.int8), -128, 127)


# ---------------------------------------------------------------------------------------
# The bundled bars model

BARS_CONV_FILTER = np.array([-1, 2, -1, -1, 2, -1, -1, 2, -1,
                             -1, -1, -1, 2, 2, 2, -1, -1, -1], np.int8).reshape(2, 3, 3, 1)
BARS_FC_WEIGHTS = np.array([[1, -1], [-1, 1]], np.int8)


def bars_reference(batch):
    """examples/host/bars_model.h as a chain of reference ops."""
    x = batch.reshape(-1, 6, 6, 1)
    y = reference.conv2d(x, BARS_CONV_FILTER, np.zeros(2, np.int32), stride=1, padding=1,
                         input_zero_point=-128, multiplier=1431655765, shift=33,
                         output_zero_point=-128, activation_min=-128, activation_max=127)
    y = reference.avg_pool2d(y, kernel=6, stride=1, input_zero_point=-128)
    return reference.linear(y.reshape(-1, 2), BARS_FC_WEIGHTS, np.zeros(2, np.int32),
                            multiplier=2**30, shift=31, output_zero_point=0)


def test_bars_model_properties():
    model = core.BarsModel()
    assert model.input_shape == (6, 6, 1)
    assert model.input_elements == 36
    assert model.output_elements == 2
    assert model.input_zero_point == -128
    assert model.output_zero_point == 0
    assert model.arena_bytes > 0
    with pytest.raises(AttributeError):
        model.output_elements = 3
    assert "BarsModel" in repr(model)


@pytest.mark.parametrize("samples", [1, 2, 7, 64, 301])
def test_bars_model_matches_reference_for_any_thread_count(samples):
    rng = np.random.default_rng(samples)
    batch = int8s(rng, (samples, 6, 6, 1))
    batch[: samples // 2, :, rng.integers(0, 6), 0] = 127  # some vertical bars
    expected = bars_reference(batch)
    model = core.BarsModel()
    results = [model.run(batch, threads=threads) for threads in (1, 2, 3)]
    results.append(model.run(batch.reshape(samples, 36)))  # flat layout, default threads
    for result in results:
        assert_same(result, expected)


def test_bars_model_tells_bars_apart():
    image = np.full((2, 6, 6, 1), -128, np.int8)
    image[0, :, 3, 0] = 127  # vertical
    image[1, 2, :, 0] = 127  # horizontal
    logits = core.BarsModel().run(image)
    assert logits[0, 0] > logits[0, 1] and logits[1, 1] > logits[1, 0]


@pytest.mark.parametrize("batch, threads, error", [
    (np.zeros((2, 6, 6, 1), np.int16), None, TypeError),
    (np.zeros((2, 6, 6, 1), np.uint8), None, TypeError),
    (np.zeros((2, 6, 6, 1)).tolist(), None, TypeError),
    (np.zeros((2, 6, 6, 2), np.int8), None, ValueError),
    (np.zeros((2, 35), np.int8), None, ValueError),
    (np.zeros((72,), np.int8), None, ValueError),
    (np.zeros((), np.int8), None, ValueError),
    (np.zeros((0, 36), np.int8), None, ValueError),
    (np.zeros((2, 72), np.int8)[:, ::2], None, ValueError),
    (np.zeros((2, 36), np.int8), 0, ValueError),
    (np.zeros((2, 36), np.int8), -1, ValueError),
    (np.zeros((2, 36), np.int8), 1.5, TypeError),
    (np.zeros((2, 36), np.int8), 2**40, ValueError),
], ids=["int16", "uint8", "list", "channels", "flat_size", "1-d", "0-d", "empty", "strided",
        "threads_0", "threads_negative", "threads_float", "threads_huge"])
def test_bars_model_rejects_malformed_batches(batch, threads, error):
    with pytest.raises(error):
        core.BarsModel().run(batch, threads=threads)


def test_bars_model_more_threads_than_samples():
    batch = int8s(np.random.default_rng(5), (3, 36))
    assert_same(core.BarsModel().run(batch, threads=64), bars_reference(batch))


def test_concurrent_runs_share_the_worker_pool():
    # Python threads calling run() at once take turns on the pool's threads; each gets its
    # own results, whatever thread count each asks for.
    rng = np.random.default_rng(23)
    batches = [int8s(rng, (samples, 36)) for samples in (5, 64, 200, 17, 1, 300, 33, 90)]
    model = core.BarsModel()

    def run(index):
        return model.run(batches[index], threads=1 + index % 4)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            for index, result in enumerate(pool.map(run, range(len(batches)))):
                assert_same(result, bars_reference(batches[index]))


def _run_in_forked_child(batch, queue):
    queue.put(core.BarsModel().run(batch, threads=3))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork()")
def test_worker_pool_works_after_fork():
    # The parent's pool threads do not exist in a child made by fork(); the child must start
    # its own instead of waiting for them.
    batch = int8s(np.random.default_rng(29), (64, 36))
    core.BarsModel().run(batch, threads=3)  # the parent's pool now has threads
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_run_in_forked_child, args=(batch, queue))
    child.start()
    try:
        assert_same(queue.get(timeout=60), bars_reference(batch))
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


# ---------------------------------------------------------------------------------------
# integr8.build()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh build cache for this module's tests ($INTEGR8_CACHE_DIR)."""
    directory = tmp_path_factory.mktemp("integr8-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INTEGR8_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="module")
def bars_module(cache):
    started = time.perf_counter()
    module = integr8.build(BARS_HEADER, name="bars")
    module.first_build_seconds = time.perf_counter() - started
    module.first_build_info = module.__integr8_build__
    return module


def test_build_matches_bundled_model(bars_module, cache):
    assert bars_module.first_build_info.compiled
    assert bars_module.first_build_info.path.is_relative_to(cache)
    assert bars_module.name == "bars"
    model, bundled = bars_module.Model(), core.BarsModel()
    for attribute in ("input_shape", "input_elements", "output_elements", "input_zero_point",
                      "output_zero_point", "arena_bytes"):
        assert getattr(model, attribute) == getattr(bundled, attribute)
    batch = int8s(np.random.default_rng(17), (129, 6, 6, 1))
    for threads in (1, 3):
        assert_same(model.run(batch, threads=threads), bundled.run(batch))
    assert_same(model.run(batch), bars_reference(batch))
    with pytest.raises(TypeError):
        model.run(batch.astype(np.int16))


def test_second_build_hits_cache(bars_module, monkeypatch):
    def no_compiler(command):
        raise AssertionError(f"build() recompiled a cached header: {command}")

    monkeypatch.setattr(build_module, "_run_compiler", no_compiler)
    mtime = bars_module.first_build_info.path.stat().st_mtime_ns
    started = time.perf_counter()
    again = integr8.build(str(BARS_HEADER), name="bars")
    elapsed = time.perf_counter() - started
    assert again.__integr8_build__.compiled is False
    assert again.__integr8_build__.path == bars_module.first_build_info.path
    assert again.__integr8_build__.path.stat().st_mtime_ns == mtime
    assert elapsed < max(1.0, bars_module.first_build_seconds / 4)


def test_cache_is_shared_across_processes(bars_module, cache):
    code = ("import integr8, sys; "
            f"m = integr8.build({str(BARS_HEADER)!r}, name='bars'); "
            "print(m.__integr8_build__.compiled)")
    environment = {**os.environ, "INTEGR8_CACHE_DIR": str(cache),
                   "PYTHONPATH": os.pathsep.join(filter(None, sys.path))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=environment, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_broken_header_raises_with_compiler_output(cache, tmp_path):
    header = tmp_path / "broken.h"
    header.write_text("namespace integr8_models { namespace broken {\n"
                      "this is not C++ at all;\n} }\n")
    with pytest.raises(integr8.BuildError) as failure:
        integr8.build(header)
    assert "broken.h" in failure.value.stderr
    assert "error" in failure.value.stderr
    assert failure.value.stderr in str(failure.value)
    # Nothing half-built is left under the module's name.
    assert not list(cache.glob("broken-*/*"))


def test_wrong_namespace_hints_at_the_declared_one(cache):
    with pytest.raises(integr8.BuildError, match="pass name='bars'"):
        integr8.build(BARS_HEADER)  # the stem is bars_model; the namespace is bars


@pytest.mark.parametrize("cpu_flags, expected", [
    ("sse4_2 avx", ()),
    ("avx2", ()),  # no FMA
    ("avx2 fma sha_ni", ("-mavx2", "-mfma")),
    ("avx2 fma avx_vnni", ("-mavx2", "-mfma", "-mavxvnni")),
    ("avx2 fma avx512f avx512vl avx512_vnni avx_vnni",
     ("-mavx2", "-mfma", "-mavx512f", "-mavx512vl", "-mavx512vnni")),
    ("avx2 fma avx512f avx512_vnni", ("-mavx2", "-mfma")),  # no 256-bit vpdpbusd without VL
])
def test_simd_flags_follow_the_cpu(cpu_flags, expected):
    assert build_module.simd_flags_for(cpu_flags.split()) == expected


def test_build_rejects_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError):
        integr8.build(tmp_path / "missing.h")
    with pytest.raises(ValueError, match="identifier"):
        integr8.build(BARS_HEADER, name="not-an-identifier")
