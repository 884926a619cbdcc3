"""integr8.spec against the C++: the same constants, and the same rules.

The binding exports the constants of include/integr8 by their integr8.spec names. The
property tests draw layer parameters around every limit the C++ Validate* functions check
and require that integr8.qgraph accepts a layer exactly when the kernel (through the
binding) does: a graph that exists is one the device accepts, and nothing the device accepts
is refused.
"""

import numpy as np
import pytest

core = pytest.importorskip(
    "integr8._core",
    reason="integr8._core is not built: run `pip install .` from the repository root")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from integr8 import qgraph, spec  # noqa: E402
from integr8.qgraph import Quant, Requantization, Shape  # noqa: E402

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_constants_equal_the_cpp_headers():
    assert core.spec_constants  # the binding exports them
    for name, value in core.spec_constants.items():
        assert getattr(spec, name) == value, name
    assert core.spec_version == spec.VERSION


def _accepted(build) -> bool:
    try:
        build()
    except ValueError:  # qgraph.GraphError, and the binding's refusals
        return False
    return True


# Values straddling each limit the C++ checks: just inside and just outside.
zero_points = st.sampled_from([-129, -128, -1, 0, 5, 127, 128])
multipliers = st.sampled_from([2**30 - 1, 2**30, 2**30 + 1, 3 * 2**29, 2**31 - 1])
shifts = st.sampled_from([0, 1, 2, 20, 31, 32, 61, 62, 63])
clamp_bounds = st.sampled_from([-129, -128, -3, 0, 100, 127, 128])


def _requantization(multiplier, shift, output_zero_point, activation_min, activation_max):
    return Requantization(multipliers=np.array([multiplier], np.int64),
                          shifts=np.array([shift], np.int64),
                          output_zero_point=output_zero_point,
                          activation_min=activation_min, activation_max=activation_max)


@SETTINGS
@given(inputs=st.integers(1, 300), outputs=st.integers(1, 3), bias_slack=st.integers(-2, 2),
       multiplier=multipliers, shift=shifts, output_zero_point=zero_points,
       activation_min=clamp_bounds, activation_max=clamp_bounds)
def test_linear_rules_match(inputs, outputs, bias_slack, multiplier, shift, output_zero_point,
                            activation_min, activation_max):
    # The bias sits at the accumulator bound, give or take bias_slack.
    edge = spec.ACCUMULATOR_LIMIT - 1 - inputs * spec.MAX_PRODUCT + bias_slack
    bias = np.full(outputs, min(edge, spec.INT32_MAX), np.int64)
    weights = np.ones((outputs, inputs), np.int8)
    requant = dict(multiplier=multiplier, shift=shift, output_zero_point=output_zero_point,
                   activation_min=activation_min, activation_max=activation_max)

    def graph_layer():
        qgraph.Linear(name="fc", source="", input_shape=Shape(1, 1, inputs),
                      output_shape=Shape(1, 1, outputs), output=Quant(1.0, 0), weights=weights,
                      bias=bias, requantization=_requantization(**requant))

    def kernel():
        core.linear(np.zeros((1, inputs), np.int8), weights, bias.astype(np.int32),
                    multiplier=np.array([multiplier], np.int32),
                    shift=np.array([shift], np.int32), output_zero_point=output_zero_point,
                    activation_min=activation_min, activation_max=activation_max)

    assert _accepted(graph_layer) == _accepted(kernel)


@SETTINGS
@given(a_multiplier=multipliers, a_shift=shifts, b_multiplier=multipliers, b_shift=shifts,
       out_multiplier=multipliers, out_shift=shifts, a_zero_point=zero_points,
       b_zero_point=st.sampled_from([-128, 0, 127]), output_zero_point=zero_points,
       activation_min=clamp_bounds, activation_max=clamp_bounds)
def test_add_rules_match(a_multiplier, a_shift, b_multiplier, b_shift, out_multiplier,
                         out_shift, a_zero_point, b_zero_point, output_zero_point,
                         activation_min, activation_max):
    shape = Shape(2, 2, 1)
    body = qgraph.Relu(name="body", source="", input_shape=shape, output_shape=shape,
                       output=Quant(1.0, b_zero_point), activation_min=-128, activation_max=127)

    def graph_layer():
        qgraph.Residual(
            name="block", source="", input_shape=shape, output_shape=shape,
            output=Quant(1.0, 0), body=(body,), input_zero_point=a_zero_point,
            input_multiplier=a_multiplier, input_shift=a_shift, body_zero_point=b_zero_point,
            body_multiplier=b_multiplier, body_shift=b_shift,
            requantization=_requantization(out_multiplier, out_shift, output_zero_point,
                                           activation_min, activation_max))

    def kernel():
        x = np.zeros((1, 2, 2, 1), np.int8)
        core.add(x, x.copy(), a_zero_point=a_zero_point, a_multiplier=a_multiplier,
                 a_shift=a_shift, b_zero_point=b_zero_point, b_multiplier=b_multiplier,
                 b_shift=b_shift, output_multiplier=out_multiplier, output_shift=out_shift,
                 output_zero_point=output_zero_point, activation_min=activation_min,
                 activation_max=activation_max)

    assert _accepted(graph_layer) == _accepted(kernel)


def _pool_rules_match(kind, size, kernel, stride, padding, ceil_mode, input_zero_point,
                      activation_min, activation_max):
    try:
        extents = [spec.output_extent(size[axis], kernel[axis], stride[axis], 1, padding[axis],
                                      ceil_mode) for axis in (0, 1)]
    except ValueError:
        extents = [1, 1]  # no window fits: qgraph must refuse whatever shape it is told
    arguments = dict(kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                     activation_min=activation_min, activation_max=activation_max)

    def graph_layer():
        qgraph.Pool2d(name="pool", source="", input_shape=Shape(*size, 1),
                      output_shape=Shape(*extents, 1), output=Quant(1.0, 0), kind=kind,
                      count_include_pad=True, input_zero_point=input_zero_point, **arguments)

    def kernel_call():
        x = np.zeros((1, *size, 1), np.int8)
        if kind == "max":
            core.max_pool2d(x, **arguments)
        else:
            core.avg_pool2d(x, input_zero_point=input_zero_point, **arguments)

    # The max pool kernel takes no zero point (it works on raw values): qgraph still checks
    # the one it is given, so that check is left out of the comparison.
    if kind == "max" and not spec.INT8_MIN <= input_zero_point <= spec.INT8_MAX:
        return
    assert _accepted(graph_layer) == _accepted(kernel_call)


@SETTINGS
@given(kind=st.sampled_from(["max", "avg"]), size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       kernel=st.tuples(st.integers(1, 10), st.integers(1, 10)),
       stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       padding=st.tuples(st.integers(0, 5), st.integers(0, 5)), ceil_mode=st.booleans(),
       input_zero_point=zero_points, activation_min=clamp_bounds, activation_max=clamp_bounds)
def test_pool_rules_match(kind, size, kernel, stride, padding, ceil_mode, input_zero_point,
                          activation_min, activation_max):
    _pool_rules_match(kind, size, kernel, stride, padding, ceil_mode, input_zero_point,
                      activation_min, activation_max)


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["max", "avg"]),
       kernel=st.tuples(st.sampled_from([4095, 4096, 4097]), st.sampled_from([4095, 4096, 4097])))
def test_pool_window_tap_limit_matches(kind, kernel):
    # A global pool of about 2^24 taps: the limit POOL_MAX_WINDOW_TAPS lies among these.
    _pool_rules_match(kind, kernel, kernel, (1, 1), (0, 0), False, 0, -128, 127)


@SETTINGS
@given(activation_min=clamp_bounds, activation_max=clamp_bounds)
def test_relu_rules_match(activation_min, activation_max):
    shape = Shape(1, 2, 3)

    def graph_layer():
        qgraph.Relu(name="relu", source="", input_shape=shape, output_shape=shape,
                    output=Quant(1.0, 0), activation_min=activation_min,
                    activation_max=activation_max)

    def kernel():
        core.relu(np.zeros((1, 1, 2, 3), np.int8), activation_min=activation_min,
                  activation_max=activation_max)

    assert _accepted(graph_layer) == _accepted(kernel)


def test_reference_stands_below_the_graph():
    # reference (per-op arithmetic) <- qgraph <- everything else: no cycle.
    import os
    import pathlib
    import subprocess
    import sys

    import integr8

    package_root = str(pathlib.Path(integr8.__file__).resolve().parents[1])
    code = ("import sys, integr8.reference; "
            "assert 'integr8.qgraph' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "PYTHONPATH": package_root})
