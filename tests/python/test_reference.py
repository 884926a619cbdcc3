"""Tests of integr8.reference, the NumPy statement of docs/spec.md.

Hand-computed cases carry their arithmetic in comments; the PyTorch cross-checks (skipped when
torch is not importable) pin the parts the spec defines as "what PyTorch does": output extents,
pooling windows and counts, and what zero padding means in real terms.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from integr8 import reference as ref

M_HALF = (2**30, 31)  # m * 2^-n = 0.5 exactly
M_ONE = (2**30, 30)  # 1.0 exactly


def i8(values):
    return np.array(values, dtype=np.int8)


def i32(values):
    return np.array(values, dtype=np.int32)


# ---------------------------------------------------------------------------------------
# Section 2.1: quantize_multiplier


@pytest.mark.parametrize("real, expected", [
    (0.5, (2**30, 31)),  # frexp = (0.5, 0): m = 2^30, n = 31
    (1.0, (2**30, 30)),  # frexp = (0.5, 1): n = 30
    (2.0**-31, (2**30, 61)),  # smallest legal M: frexp = (0.5, -30), n = 61
    (2.0**29, (2**30, 1)),  # frexp = (0.5, 30), n = 1
    (3.0, (1610612736, 29)),  # frexp = (0.75, 2): m = 0.75 * 2^31 = 1610612736, n = 29
    # 1/sqrt(2) = 0.7071067811865476 * 2^0: f * 2^31 = 1518500249.988..., +0.5 floors to
    # 1518500250, n = 31.
    (0.7071067811865476, (1518500250, 31)),
    # f = 1 - 2^-31 (e = 30): f * 2^31 = 2^31 - 1 exactly, the largest m; n = 1.
    (2.0**30 - 0.5, (2**31 - 1, 1)),
])
def test_quantize_multiplier_exact_values(real, expected):
    assert ref.quantize_multiplier(real) == expected


def test_quantize_multiplier_rounds_half_up_not_half_even():
    # M = 0.5 + 2^-32: f = M, e = 0; f * 2^31 = 2^30 + 0.5 exactly. Half up gives 2^30 + 1;
    # round-half-even (Python's round) would give 2^30.
    assert ref.quantize_multiplier(0.5 + 2.0**-32) == (2**30 + 1, 31)
    assert round(math.ldexp(0.5 + 2.0**-32, 31)) == 2**30  # what the spec rules out
    # M = 0.5 + 3 * 2^-32: f * 2^31 = 2^30 + 1.5 -> 2^30 + 2 (both rules agree here).
    assert ref.quantize_multiplier(0.5 + 3 * 2.0**-32) == (2**30 + 2, 31)


def test_quantize_multiplier_mantissa_carry():
    # M = 1 - 2^-40: f = M, e = 0; f * 2^31 = 2^31 - 2^-9, +0.5 floors to 2^31, so the carry
    # makes m = 2^30, e = 1, n = 30 (M rounds to exactly 1.0).
    assert ref.quantize_multiplier(1.0 - 2.0**-40) == (2**30, 30)
    # Likewise just below 2^-30: frexp = (1 - 2^-40, -30) -> carry -> e = -29, n = 60.
    assert ref.quantize_multiplier(2.0**-30 * (1.0 - 2.0**-40)) == (2**30, 60)


@pytest.mark.parametrize("real", [
    2.0**-31 * (1.0 - 2.0**-53),  # just below 2^-31
    2.0**-40,
    2.0**30,  # the range is [2^-31, 2^30)
    2.0**31,
    0.0,
    -0.0,
    -0.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    # In [2^30 - 2^-2, 2^30) the mantissa carries to e = 31 and n = 0 (no kernel accepts
    # shift 0), so the reference rejects it rather than return an unusable shift.
    2.0**30 - 0.25,
    2.0**30 * (1.0 - 2.0**-53),
])
def test_quantize_multiplier_rejects(real):
    with pytest.raises(ValueError, match="real_multiplier"):
        ref.quantize_multiplier(real)


def test_quantize_multiplier_accepts_numpy_scalars_and_rejects_non_numbers():
    assert ref.quantize_multiplier(np.float32(0.5)) == (2**30, 31)
    for bad in ("0.5", None, True):
        with pytest.raises(ValueError, match="real_multiplier"):
            ref.quantize_multiplier(bad)


def test_quantize_multiplier_round_trip_is_within_half_an_lsb():
    rng = np.random.default_rng(7)
    for real in np.ldexp(rng.uniform(0.5, 1.0, 500), rng.integers(-30, 30, 500)):
        m, n = ref.quantize_multiplier(float(real))
        assert 2**30 <= m <= 2**31 - 1 and 1 <= n <= 62
        # |m - f * 2^31| <= 1/2, i.e. relative error <= 2^-31.
        assert abs(Fraction(m, 2**n) - Fraction(float(real))) <= Fraction(1, 2**(n + 1))


# ---------------------------------------------------------------------------------------
# Section 4: multiply_by_quantized_multiplier, requantize


def test_multiply_by_quantized_multiplier_ties_round_toward_plus_infinity():
    # M = 0.5: (x * 2^30 + 2^30) >> 31 = floor((x + 1) / 2).
    #  3 ->  1.5 ->  2;  -3 -> -1.5 -> -1;  1 -> 0.5 -> 1;  -1 -> -0.5 -> 0;
    #  2 ->  1;  -2 -> -1 (exact, no rounding).
    x = [3, -3, 1, -1, 2, -2]
    assert ref.multiply_by_quantized_multiplier(x, *M_HALF).tolist() == [2, -1, 1, 0, 1, -1]
    # M = 0.25 (n = 32): 5 -> 1.25 -> 1; -5 -> -1.25 -> -1; 6 -> 1.5 -> 2; -6 -> -1.5 -> -1;
    # 7 -> 1.75 -> 2; -7 -> -1.75 -> -2.
    got = ref.multiply_by_quantized_multiplier([5, -5, 6, -6, 7, -7], 2**30, 32)
    assert got.tolist() == [1, -1, 2, -1, 2, -2]


def test_multiply_by_quantized_multiplier_int32_extremes_do_not_overflow():
    lo, hi = -(2**31), 2**31 - 1
    # Largest m, smallest n: x * m = -2^31 * (2^31 - 1) = -2^62 + 2^31, + 1, >> 1.
    got = ref.multiply_by_quantized_multiplier([lo, hi], 2**31 - 1, 1)
    assert got.tolist() == [(lo * (2**31 - 1) + 1) >> 1, (hi * (2**31 - 1) + 1) >> 1]
    # M = 2^-31 (m = 2^30, n = 61): -2^31 * 2^-31 = -1 exactly; (2^31 - 1) * 2^-31 rounds
    # to 1; n = 61 means the rounding term is 2^60.
    got = ref.multiply_by_quantized_multiplier([lo, hi, 2**30, 2**30 - 1], 2**30, 61)
    assert got.tolist() == [-1, 1, 1, 0]  # 2^30 * 2^-31 = 0.5 -> 1 (tie); just below -> 0
    # n = 62 (legal in the kernels although quantize_multiplier never produces it): M = 2^-32.
    got = ref.multiply_by_quantized_multiplier([lo, -(2**30) - 1, hi], 2**30, 62)
    assert got.tolist() == [0, 0, 0]  # -0.5 -> 0 (tie toward +inf), -0.25.. -> 0, 0.49.. -> 0


def test_multiply_by_quantized_multiplier_broadcasts_per_channel():
    x = np.array([[4, 4], [-4, -4]])
    # channel 0: M = 0.5 -> +-2; channel 1: M = 0.25 -> +-1.
    got = ref.multiply_by_quantized_multiplier(x, [2**30, 2**30], [31, 32])
    assert got.tolist() == [[2, 1], [-2, -1]]


@pytest.mark.parametrize("kwargs, name", [
    (dict(x=[2**31], multiplier=2**30, shift=31), "x"),
    (dict(x=[1], multiplier=2**30 - 1, shift=31), "multiplier"),
    (dict(x=[1], multiplier=2**31, shift=31), "multiplier"),
    (dict(x=[1], multiplier=2**30, shift=0), "shift"),
    (dict(x=[1], multiplier=2**30, shift=63), "shift"),
    (dict(x=[1.5], multiplier=2**30, shift=31), "x"),
])
def test_multiply_by_quantized_multiplier_rejects(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ref.multiply_by_quantized_multiplier(**kwargs)


def test_requantize_per_channel_hand_computed():
    acc = [[3, 5, 100], [-3, -5, -100]]
    # c0: M = 0.5:  3 -> 1.5 -> 2;  -3 -> -1.5 -> -1.
    # c1: M = 1/8 (m = 2^30, n = 33): (5 * 2^30 + 2^32) >> 33 = 9/8 -> 1;
    #     (-5 * 2^30 + 2^32) >> 33 = floor(-1/8) = -1.
    # c2: m = 1518500250, n = 31 (M ~ 0.70710678): (100 m + 2^30) >> 31
    #     = 152923766824 >> 31 = 71 (71.2); (-100 m + 2^30) >> 31 = floor(-70.2) = -71.
    # Plus z_out = -2.
    got = ref.requantize(acc, multiplier=[2**30, 2**30, 1518500250], shift=[31, 33, 31],
                         output_zero_point=-2)
    assert got.dtype == np.int8
    assert got.tolist() == [[0, -1, 69], [-3, -3, -73]]


def test_requantize_clamps_and_per_tensor():
    # M = 1: y = clamp(z_out + acc). z_out = 100: 20 -> 120; 30 -> 130 -> 127; -300 -> -200
    # -> -128. With act range [100, 110] (ReLU6-like): 120 -> 110, -200 -> 100.
    acc = [20, 30, -300]
    assert ref.requantize(acc, multiplier=2**30, shift=30,
                          output_zero_point=100).tolist() == [120, 127, -128]
    assert ref.requantize(acc, multiplier=2**30, shift=30, output_zero_point=100,
                          activation_min=100, activation_max=110).tolist() == [110, 110, 100]
    # Extremes: acc = -2^31 with M = 2^-31 is exactly -1; acc = 2^31 - 1 rounds to +1.
    assert ref.requantize([-(2**31), 2**31 - 1], multiplier=2**30, shift=61,
                          output_zero_point=0).tolist() == [-1, 1]


@pytest.mark.parametrize("kwargs, name", [
    (dict(output_zero_point=128), "output_zero_point"),
    (dict(output_zero_point=0, activation_min=5, activation_max=4), "activation_min"),
    (dict(output_zero_point=0, activation_min=-129), "activation_min"),
    (dict(output_zero_point=0, activation_max=128), "activation_max"),
    (dict(output_zero_point=0, multiplier=[2**30] * 2), "multiplier"),
])
def test_requantize_rejects(kwargs, name):
    arguments = dict(multiplier=2**30, shift=31)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        ref.requantize([[1, 2, 3]], **arguments)


# ---------------------------------------------------------------------------------------
# Section 5: rounding_divide, extents, pooling


def test_rounding_divide_half_away_from_zero():
    # (total + sign(total) * floor(count / 2)) / count, truncating:
    #  5/2:  (5 + 1) / 2 = 3;   -5/2: (-5 - 1) / 2 = -3;   7/2: 8/2 = 4;   -7/2: -4
    #  4/3:  (4 + 1) / 3 = 1;    5/3: 6/3 = 2;             -5/3: -6/3 = -2; -4/3: -5/3 -> -1
    #  0/5:  0;   3/6: (3 + 3) / 6 = 1;   -3/6: -1;   2/6: 5/6 -> 0;   -2/6: -5/6 -> 0
    total = [5, -5, 7, -7, 4, 5, -5, -4, 0, 3, -3, 2, -2]
    count = [2, 2, 2, 2, 3, 3, 3, 3, 5, 6, 6, 6, 6]
    assert ref.rounding_divide(total, count).tolist() == [3, -3, 4, -4, 1, 2, -2, -1, 0, 1,
                                                          -1, 0, 0]


def test_rounding_divide_rejects_nonpositive_count():
    with pytest.raises(ValueError, match="count"):
        ref.rounding_divide([1], [0])


@pytest.mark.parametrize("args, expected", [
    # (size, kernel, stride, dilation, padding, ceil_mode) -> extent
    ((5, 2, 2, 1, 0, False), 2),  # floor(3 / 2) + 1
    ((5, 2, 2, 1, 0, True), 3),  # ceil(3 / 2) + 1 = 3; (3 - 1) * 2 = 4 < 5 keeps it
    ((4, 2, 3, 1, 1, True), 2),  # ceil(4 / 3) + 1 = 3, but (3 - 1) * 3 = 6 >= 4 + 1: drop
    ((4, 2, 3, 1, 1, False), 2),  # floor(4 / 3) + 1
    ((7, 3, 1, 2, 0, False), 3),  # span 2 * 2 + 1 = 5: 7 - 5 + 1
    ((3, 3, 1, 1, 1, False), 3),  # "same" padding
    ((1, 1, 5, 1, 0, True), 1),
])
def test_window_output_extent_hand_computed(args, expected):
    assert ref.window_output_extent(*args) == expected


def test_window_output_extent_rejects():
    with pytest.raises(ValueError, match="kernel"):
        ref.window_output_extent(3, 5, 1, 1, 0, False)  # 3 < 5: no position
    with pytest.raises(ValueError, match="stride"):
        ref.window_output_extent(3, 1, 0, 1, 0, False)
    with pytest.raises(ValueError, match="padding"):
        ref.window_output_extent(3, 1, 1, 1, -1, False)


def test_max_pool2d_hand_computed():
    x = i8([[1, -5, 3], [4, 9, -6], [-7, 8, 2]]).reshape(1, 3, 3, 1)
    # ceil_mode, k = s = 2: windows rows {0,1},{2} x cols {0,1},{2}:
    # max(1,-5,4,9) = 9; max(3,-6) = 3; max(-7,8) = 8; max(2) = 2.
    got = ref.max_pool2d(x, kernel=2, stride=2, ceil_mode=True)
    assert got.dtype == np.int8 and got[0, :, :, 0].tolist() == [[9, 3], [8, 2]]
    assert ref.max_pool2d(x, kernel=2, stride=2)[0, :, :, 0].tolist() == [[9]]
    # Fused ReLU with z = 4: clamp to [4, 127].
    got = ref.max_pool2d(x, kernel=2, stride=2, ceil_mode=True, activation_min=4)
    assert got[0, :, :, 0].tolist() == [[9, 4], [8, 4]]


def test_max_pool2d_ignores_padding():
    # All inputs -100 with padding 1: padded taps are -inf in PyTorch, so every output is
    # -100 (not 0, not a zero point, not -128).
    x = np.full((1, 3, 3, 2), -100, dtype=np.int8)
    got = ref.max_pool2d(x, kernel=3, stride=2, padding=1)
    assert got.shape == (1, 2, 2, 2) and (got == -100).all()


def test_avg_pool2d_hand_computed_padding_counts():
    x = i8([[1, 2], [3, 5]]).reshape(1, 2, 2, 1)
    # k = 2, s = 1, padding 1 -> 3 x 3 outputs; windows start at -1, 0, 1 and end at
    # min(start + 2, 2 + 1), so every window spans 2 x 2 = 4 taps. z_in = 10.
    # count_include_pad: (0,0): 1 + 3 * 10 = 31 / 4 = 7.75 -> 8;
    #   (0,1): 1 + 2 + 2 * 10 = 23 / 4 = 5.75 -> 6;  (1,1): 11 / 4 = 2.75 -> 3;
    #   (2,2): 5 + 30 = 35 / 4 = 8.75 -> 9;  (1,0): 1 + 3 + 20 = 24 / 4 = 6.
    got = ref.avg_pool2d(x, kernel=2, stride=1, padding=1, input_zero_point=10)
    assert got.shape == (1, 3, 3, 1)
    assert got[0, 0, 0, 0] == 8 and got[0, 0, 1, 0] == 6 and got[0, 1, 1, 0] == 3
    assert got[0, 2, 2, 0] == 9 and got[0, 1, 0, 0] == 6
    # Without count_include_pad only inside taps count: (0,0): 1/1 = 1; (0,1): 3/2 = 1.5
    # -> 2 (half away from zero); (1,1): 11/4 -> 3; (2,2): 5/1 = 5; (1,0): 4/2 = 2.
    got = ref.avg_pool2d(x, kernel=2, stride=1, padding=1, count_include_pad=False,
                         input_zero_point=10)
    assert got[0, :, :, 0].tolist() == [[1, 2, 2], [2, 3, 4], [3, 4, 5]]
    # (0,2): 2/1; (1,2): (2 + 5)/2 = 3.5 -> 4; (2,0): 3; (2,1): (3 + 5)/2 = 4.
    # Negative ties round away from zero: (0,1) of -x is -3/2 = -1.5 -> -2.
    got = ref.avg_pool2d(-x, kernel=2, stride=1, padding=1, count_include_pad=False)
    assert got[0, 0, 1, 0] == -2 and got[0, 1, 2, 0] == -4


def test_avg_pool2d_ceil_mode_clips_the_last_window():
    x = i8([1, 2, 3, 4, 5]).reshape(1, 1, 5, 1)
    # k = s = 2 along W, ceil_mode: 3 windows [0,2), [2,4), [4, min(6, 5 + 0)) = [4,5).
    # (1 + 2) / 2 = 1.5 -> 2; (3 + 4) / 2 = 3.5 -> 4; 5 / 1 = 5 (count clipped to 1 even
    # with count_include_pad, as PyTorch's divisor is clipped at input + padding).
    for include in (True, False):
        got = ref.avg_pool2d(x, kernel=(1, 2), stride=(1, 2), ceil_mode=True,
                             count_include_pad=include)
        assert got.ravel().tolist() == [2, 4, 5]


def test_global_avg_pool2d():
    x = np.array([[[1, -1], [2, -2], [3, -3]], [[4, -4], [5, -5], [-1, 0]]], np.int8)[None]
    # channel 0: 1 + 2 + 3 + 4 + 5 - 1 = 14 / 6 = 2.33 -> 2;
    # channel 1: -1 - 2 - 3 - 4 - 5 + 0 = -15 / 6 = -2.5 -> -3 (away from zero).
    got = ref.avg_pool2d(x, kernel=(2, 3), stride=(2, 3))
    assert got.shape == (1, 1, 1, 2) and got.ravel().tolist() == [2, -3]


def test_pool_window_counts_hand_computed():
    # H = W = 2, k = 2, s = 1, p = 1: 3 windows per axis, each spanning 2 (incl. padding).
    assert (ref.pool_window_counts((2, 2), kernel=2, stride=1, padding=1) == 4).all()
    # Inside taps only: per axis [1, 2, 1].
    got = ref.pool_window_counts((2, 2), kernel=2, stride=1, padding=1,
                                 count_include_pad=False)
    assert got.tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]


@pytest.mark.parametrize("kwargs, name", [
    (dict(kernel=2, stride=2, padding=2), "padding"),  # more than half the kernel
    (dict(kernel=2, stride=0), "stride"),
    (dict(kernel=0, stride=1), "kernel"),
    (dict(kernel=2, stride=2, activation_min=3, activation_max=2), "activation_min"),
])
def test_pool_rejects(kwargs, name):
    x = np.zeros((1, 4, 4, 1), np.int8)
    for pool in (ref.max_pool2d, ref.avg_pool2d):
        with pytest.raises(ValueError, match=name):
            pool(x, **kwargs)


# ---------------------------------------------------------------------------------------
# Section 3: linear and convolutions


def test_linear_hand_computed():
    x = i8([[10, -20, 3], [127, 127, -128]])
    w = i8([[1, 2, 3], [-1, 0, 2]])
    bias = i32([4, -7])
    # Row 0: acc0 = 4 + 10 - 40 + 9 = -17; acc1 = -7 - 10 + 0 + 6 = -11.
    # Row 1: acc0 = 4 + 127 + 254 - 384 = 1; acc1 = -7 - 127 + 0 - 256 = -390.
    assert ref.linear_accumulator(x, w, bias).tolist() == [[-17, -11], [1, -390]]
    # Per channel: c0 M = 0.5, c1 M = 0.25; z_out = 3.
    # -17 * 0.5 = -8.5 -> -8 (tie to +inf) -> -5;  -11 * 0.25 = -2.75 -> -3 -> 0;
    # 1 * 0.5 = 0.5 -> 1 -> 4;  -390 * 0.25 = -97.5 -> -97 (tie to +inf) -> -94.
    got = ref.linear(x, w, bias, multiplier=[2**30, 2**30], shift=[31, 32],
                     output_zero_point=3)
    assert got.dtype == np.int8 and got.tolist() == [[-5, 0], [4, -94]]
    # Fused ReLU: [max(-128, z_out), 127] = [3, 127].
    got = ref.linear(x, w, bias, multiplier=[2**30, 2**30], shift=[31, 32],
                     output_zero_point=3, activation_min=3)
    assert got.tolist() == [[3, 3], [4, 3]]


def test_linear_rejects():
    x, w, b = i8([[1, 2]]), i8([[1, 2]]), i32([0])
    kwargs = dict(multiplier=2**30, shift=31, output_zero_point=0)
    with pytest.raises(ValueError, match="weights"):
        ref.linear(x, i8([[-128, 0]]), b, **kwargs)  # -128 is never a weight
    with pytest.raises(ValueError, match="weights"):
        ref.linear(x, i8([[1, 2, 3]]), b, **kwargs)
    with pytest.raises(ValueError, match="bias"):
        ref.linear(x, w, i32([0, 0]), **kwargs)
    # Accumulator bound: |b| + 2 * 128 * 127 must stay below 2^31.
    limit = 2**31 - 1 - 2 * 128 * 127
    ref.linear(x, w, np.array([-limit], np.int64), **kwargs)
    with pytest.raises(ValueError, match="bias"):
        ref.linear(x, w, np.array([limit + 1], np.int64), **kwargs)


def test_linear_accumulator_extremes():
    # bias = 2^31 - 1 - K * 16256 with x = -128 and w = -127 everywhere: acc = 2^31 - 1.
    k = 5
    limit = 2**31 - 1 - k * 128 * 127
    x = np.full((1, k), -128, np.int8)
    w = np.full((2, k), -127, np.int8)
    w[1] = 127
    acc = ref.linear_accumulator(x, w, np.array([limit, -limit]))
    assert acc.tolist() == [[2**31 - 1, -(2**31 - 1)]]


def test_conv2d_hand_computed_padding_reads_input_zero_point():
    x = i8([[1, 2, 3], [4, 5, 6], [7, 8, 9]]).reshape(1, 3, 3, 1)
    w = i8([[1, -1], [2, 0]]).reshape(1, 2, 2, 1)  # OHWI
    # stride 2, padding 1 -> extent floor((3 + 2 - 2) / 2) + 1 = 2; z_in = -1, bias 10.
    # (0,0): taps (-1,-1) pad -1*1, (-1,0) pad -1*-1, (0,-1) pad -1*2, (0,0) 1*0 = -2 -> 8
    # (0,1): (-1,1) pad -1*1, (-1,2) pad -1*-1, (0,1) 2*2, (0,2) 3*0 = 4 -> 14
    # (1,0): (1,-1) pad -1*1, (1,0) 4*-1, (2,-1) pad -1*2, (2,0) 7*0 = -7 -> 3
    # (1,1): 5*1 + 6*-1 + 8*2 + 9*0 = 15 -> 25
    kwargs = dict(stride=2, padding=1, input_zero_point=-1)
    acc = ref.conv2d_accumulator(x, w, i32([10]), **kwargs)
    assert acc[0, :, :, 0].tolist() == [[8, 14], [3, 25]]
    got = ref.conv2d(x, w, i32([10]), **kwargs, multiplier=M_ONE[0], shift=M_ONE[1],
                     output_zero_point=-5)
    assert got.dtype == np.int8 and got[0, :, :, 0].tolist() == [[3, 9], [-2, 20]]


def test_conv2d_groups_and_dilation_hand_computed():
    # groups = 2: output channel 0 sees input channel 0 only, channel 1 input channel 1.
    # [3, -5] with weights [[2], [3]]: 3 * 2 + 1 = 7; -5 * 3 + 1 = -14.
    x = i8([3, -5]).reshape(1, 1, 1, 2)
    w = i8([2, 3]).reshape(2, 1, 1, 1)
    got = ref.conv2d_accumulator(x, w, i32([1, 1]), groups=2, input_zero_point=0)
    assert got.ravel().tolist() == [7, -14]
    # Dilation 2 along W: kernel [1, 10] reads x[i] and x[i + 2]; extent 5 - 3 + 1 = 3:
    # 1 + 30 = 31; 2 + 40 = 42; 3 + 50 = 53.
    x = i8([1, 2, 3, 4, 5]).reshape(1, 1, 5, 1)
    w = i8([1, 10]).reshape(1, 1, 2, 1)
    got = ref.conv2d_accumulator(x, w, i32([0]), dilation=(1, 2), input_zero_point=0)
    assert got.ravel().tolist() == [31, 42, 53]


def test_depthwise_conv2d_hand_computed():
    # Input W = 2 positions x 2 channels: w0 = [1, -2], w1 = [3, 4]; depth_multiplier 2, so
    # output channel c reads input channel c // 2. Weights 1HWC [1, 1, 2, 4]:
    # tap 0 = [1, -1, 2, 3], tap 1 = [2, 1, -1, 1]. bias [0, 100, 0, -100].
    x = i8([[1, -2], [3, 4]]).reshape(1, 1, 2, 2)
    w = i8([[1, -1, 2, 3], [2, 1, -1, 1]]).reshape(1, 1, 2, 4)
    bias = i32([0, 100, 0, -100])
    # c0: 1*1 + 3*2 = 7; c1: 1*-1 + 3*1 = 2 (+100); c2: -2*2 + 4*-1 = -8;
    # c3: -2*3 + 4*1 = -2 (-100).
    acc = ref.depthwise_conv2d_accumulator(x, w, bias, depth_multiplier=2,
                                           input_zero_point=0)
    assert acc.ravel().tolist() == [7, 102, -8, -102]
    got = ref.depthwise_conv2d(x, w, bias, depth_multiplier=2, input_zero_point=0,
                               multiplier=M_HALF[0], shift=M_HALF[1], output_zero_point=0)
    # * 0.5: 3.5 -> 4; 51; -4; -51.
    assert got.ravel().tolist() == [4, 51, -4, -51]
    # Padding 1 along W with z_in = 5: 3 outputs; c0: 5*1 + 1*2 = 7, 1*1 + 3*2 = 7,
    # 3*1 + 5*2 = 13; c3: 5*3 + -2*1 - 100 = -87, -102, 4*3 + 5*1 - 100 = -83.
    acc = ref.depthwise_conv2d_accumulator(x, w, bias, depth_multiplier=2, padding=(0, 1),
                                           input_zero_point=5)
    assert acc[0, 0, :, 0].tolist() == [7, 7, 13]
    assert acc[0, 0, :, 3].tolist() == [-87, -102, -83]


def test_conv2d_rejects():
    x = np.zeros((1, 4, 4, 4), np.int8)
    w = np.zeros((4, 3, 3, 2), np.int8)
    b = np.zeros(4, np.int32)
    kwargs = dict(input_zero_point=0, multiplier=2**30, shift=31, output_zero_point=0)
    ref.conv2d(x, w, b, groups=2, **kwargs)
    with pytest.raises(ValueError, match="groups"):
        ref.conv2d(x, w, b, groups=3, **kwargs)
    with pytest.raises(ValueError, match="weights"):
        ref.conv2d(x, w, b, groups=1, **kwargs)
    with pytest.raises(ValueError, match="stride"):
        ref.conv2d(x, w, b, groups=2, stride=(1, 0), **kwargs)
    with pytest.raises(ValueError, match="dilation"):
        ref.conv2d(x, w, b, groups=2, dilation=0, **kwargs)
    with pytest.raises(ValueError, match="input_zero_point"):
        ref.conv2d(x, w, b, groups=2, **{**kwargs, "input_zero_point": -129})
    with pytest.raises(ValueError, match="kernel"):
        ref.conv2d(x[:, :2], w, b, groups=2, **kwargs)  # 3x3 kernel on a 2-row input
    with pytest.raises(ValueError, match="depth_multiplier"):
        ref.depthwise_conv2d(x, np.zeros((1, 3, 3, 4), np.int8), b, depth_multiplier=0,
                             **kwargs)


# ---------------------------------------------------------------------------------------
# Section 6 and standalone activations


def test_add_hand_computed():
    # s_a = 0.5, s_b = 0.25, s_out = 1; s_max = 0.5:
    # M_a = 0.5 / (2 * 0.5) = 0.5 -> (2^30, 31); M_b = 0.25 -> (2^30, 32);
    # M_o = 2 * 0.5 / (2^20 * 1) = 2^-20 -> (2^30, 50).
    kwargs = dict(a_zero_point=2, a_multiplier=2**30, a_shift=31, b_zero_point=-3,
                  b_multiplier=2**30, b_shift=32, output_multiplier=2**30, output_shift=50,
                  output_zero_point=1)
    a, b = i8([10, -20]), i8([5, 7])
    # Element 0: a - z_a = 8 -> 8 * 2^20 * 0.5 = 4 * 2^20; b - z_b = 8 -> 2 * 2^20;
    #   (6 * 2^20) * 2^-20 = 6 -> y = 1 + 6 = 7  (real: 0.5 * 8 + 0.25 * 8 = 6).
    # Element 1: a - z_a = -22 -> -11 * 2^20; b - z_b = 10 -> 2.5 * 2^20;
    #   -8.5 * 2^20 * 2^-20 = -8.5 -> -8 (tie toward +inf) -> y = 1 - 8 = -7.
    got = ref.add(a, b, **kwargs)
    assert got.dtype == np.int8 and got.tolist() == [7, -7]
    assert ref.add(a, b, **kwargs, activation_min=1).tolist() == [7, 1]


def test_add_rounds_each_rescale_once():
    # M_a = 1/3 -> (1431655765, 32): a' = (2^20 * 1431655765 + 2^31) >> 32
    #   = floor(349525.33 + 0.5) = 349525 for a - z_a = 1.
    assert ref.quantize_multiplier(1 / 3) == (1431655765, 32)
    a_scaled = ref.multiply_by_quantized_multiplier([1 << 20], 1431655765, 32)
    assert a_scaled.tolist() == [349525]
    # b = z_b contributes 0; M_o = 2^-20 * 3: 349525 * 3 / 2^20 = 0.99999 -> 1.
    got = ref.add(i8([1]), i8([0]), a_zero_point=0, a_multiplier=1431655765, a_shift=32,
                  b_zero_point=0, b_multiplier=2**30, b_shift=31,
                  output_multiplier=3 * 2**29, output_shift=49, output_zero_point=0)
    assert got.tolist() == [1]


def test_add_rejects():
    kwargs = dict(a_zero_point=0, a_multiplier=2**30, a_shift=31, b_zero_point=0,
                  b_multiplier=2**30, b_shift=31, output_multiplier=2**30, output_shift=50,
                  output_zero_point=0)
    with pytest.raises(ValueError, match="b shape"):
        ref.add(i8([1, 2]), i8([1]), **kwargs)
    with pytest.raises(ValueError, match="b_shift"):
        ref.add(i8([1]), i8([1]), **{**kwargs, "b_shift": 0})
    with pytest.raises(ValueError, match="a_zero_point"):
        ref.add(i8([1]), i8([1]), **{**kwargs, "a_zero_point": 200})


def test_relu_is_a_clamp():
    x = i8([-128, -5, 0, 3, 50, 127])
    # ReLU with z = -5: [-5, 127]; ReLU6 with z = -5, s = 0.1: min(127, -5 + 60) = 55.
    assert ref.relu(x, activation_min=-5, activation_max=127).tolist() == [-5, -5, 0, 3, 50,
                                                                           127]
    assert ref.relu(x, activation_min=-5, activation_max=55).tolist() == [-5, -5, 0, 3, 50,
                                                                          55]
    with pytest.raises(ValueError, match="activation_max"):
        ref.relu(x, activation_min=0, activation_max=200)
    with pytest.raises(ValueError, match="x"):
        ref.relu(np.array([200]), activation_min=0, activation_max=1)


# ---------------------------------------------------------------------------------------
# Cross-checks against PyTorch


def _random_pool_configs(rng, count):
    """Random (H, W, kernel, stride, padding, ceil_mode, count_include_pad) pool configs."""
    configs = []
    while len(configs) < count:
        height, width = (int(v) for v in rng.integers(1, 12, 2))
        kernel = tuple(int(v) for v in rng.integers(1, 6, 2))
        stride = tuple(int(v) for v in rng.integers(1, 5, 2))
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        if any(size + 2 * p < k for size, k, p in zip((height, width), kernel, padding)):
            continue
        configs.append((height, width, kernel, stride, padding, bool(rng.integers(2)),
                        bool(rng.integers(2))))
    return configs


def _nchw(x):
    import torch
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(torch.float64)


def _nhwc(t):
    return t.numpy().transpose(0, 2, 3, 1)


def test_output_extents_match_torch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(11)
    for size in range(1, 10):
        for kernel in range(1, 6):
            for stride in range(1, 5):
                for padding in range(0, kernel // 2 + 1):
                    for ceil_mode in (False, True):
                        if size + 2 * padding < kernel:
                            continue
                        x = torch.zeros(1, 1, 1, size, dtype=torch.float64)
                        out = functional.max_pool2d(x, (1, kernel), (1, stride),
                                                    (0, padding), ceil_mode=ceil_mode)
                        assert ref.window_output_extent(size, kernel, stride, 1, padding,
                                                        ceil_mode) == out.shape[-1]
    # Convolutions (floor mode) with dilation and padding beyond half the kernel.
    for _ in range(300):
        size, kernel, stride, dilation, padding = (int(v) for v in rng.integers(1, 6, 5))
        padding -= 1
        if size + 2 * padding < dilation * (kernel - 1) + 1:
            with pytest.raises(ValueError):
                ref.window_output_extent(size, kernel, stride, dilation, padding, False)
            continue
        x = torch.zeros(1, 1, 1, size, dtype=torch.float64)
        w = torch.zeros(1, 1, 1, kernel, dtype=torch.float64)
        out = functional.conv2d(x, w, stride=(1, stride), padding=(0, padding),
                                dilation=(1, dilation))
        assert ref.window_output_extent(size, kernel, stride, dilation, padding,
                                        False) == out.shape[-1]


def test_pool_window_counts_match_torch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(12)
    for height, width, kernel, stride, padding, ceil_mode, include in _random_pool_configs(
            rng, 300):
        ones = torch.ones(1, 1, height, width, dtype=torch.float64)
        kwargs = dict(kernel_size=kernel, stride=stride, padding=padding,
                      ceil_mode=ceil_mode, count_include_pad=include)
        inside = functional.avg_pool2d(ones, divisor_override=1, **kwargs)  # taps inside
        mean = functional.avg_pool2d(ones, **kwargs)  # inside / count
        torch_count = torch.round(inside / mean).to(torch.int64)[0, 0].numpy()
        got = ref.pool_window_counts((height, width), kernel=kernel, stride=stride,
                                     padding=padding, ceil_mode=ceil_mode,
                                     count_include_pad=include)
        assert got.tolist() == torch_count.tolist(), (height, width, kwargs)


def _round_half_away(fraction):
    magnitude = math.floor(abs(fraction) + Fraction(1, 2))
    return magnitude if fraction >= 0 else -magnitude


def test_avg_pool2d_dequantized_matches_torch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(13)
    for height, width, kernel, stride, padding, ceil_mode, include in _random_pool_configs(
            rng, 150):
        channels = int(rng.integers(1, 4))
        x = rng.integers(-128, 128, (2, height, width, channels)).astype(np.int8)
        z_in = int(rng.choice([-128, -7, 0, 127]))
        kwargs = dict(kernel_size=kernel, stride=stride, padding=padding,
                      ceil_mode=ceil_mode, count_include_pad=include)
        # Real values with s = 1: r = q - z. PyTorch pads r with 0, i.e. q with z.
        real_mean = _nhwc(functional.avg_pool2d(_nchw(x.astype(np.int64) - z_in), **kwargs))
        ones = torch.ones(1, 1, height, width, dtype=torch.float64)
        count = torch.round(functional.avg_pool2d(ones, divisor_override=1, **kwargs) /
                            functional.avg_pool2d(ones, **kwargs))[0, 0].numpy()
        got = ref.avg_pool2d(x, kernel=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=include,
                             input_zero_point=z_in)
        assert got.shape == real_mean.shape
        # The device averages raw values: sum_raw = sum(r) + z * count, rounded half away.
        for index in np.ndindex(*got.shape):
            n = int(count[index[1], index[2]])
            real_sum = int(round(real_mean[index] * n))
            expected = _round_half_away(Fraction(real_sum + z_in * n, n))
            assert got[index] == min(max(expected, -128), 127), (index, kwargs, z_in)


def test_max_pool2d_matches_torch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(14)
    for height, width, kernel, stride, padding, ceil_mode, _ in _random_pool_configs(rng, 150):
        x = rng.integers(-128, 128, (2, height, width, 3)).astype(np.int8)
        expected = _nhwc(functional.max_pool2d(_nchw(x), kernel, stride, padding,
                                               ceil_mode=ceil_mode))
        got = ref.max_pool2d(x, kernel=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode)
        assert got.shape == expected.shape
        assert (got == expected).all()
        got = ref.max_pool2d(x, kernel=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, activation_min=-20, activation_max=30)
        assert (got == np.clip(expected, -20, 30)).all()


def _random_weights(rng, shape):
    return rng.integers(-127, 128, shape).astype(np.int8)


def test_conv2d_accumulator_matches_torch_on_real_zero_padding():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(15)
    for _ in range(120):
        groups = int(rng.choice([1, 2, 3]))
        in_channels = groups * int(rng.integers(1, 4))
        out_channels = groups * int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        sh, sw = (int(v) for v in rng.integers(1, 4, 2))
        dh, dw = (int(v) for v in rng.integers(1, 3, 2))
        ph, pw = (int(v) for v in rng.integers(0, 4, 2))
        height = int(rng.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 10))
        width = int(rng.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 10))
        x = rng.integers(-128, 128, (2, height, width, in_channels)).astype(np.int8)
        w = _random_weights(rng, (out_channels, kh, kw, in_channels // groups))
        z_in = int(rng.choice([-128, -3, 0, 127]))
        bias_q = rng.integers(-5000, 5000, out_channels)
        # Spec section 3: b' = b_q - z_in * sum_k w[c, k].
        folded = bias_q - z_in * w.reshape(out_channels, -1).astype(np.int64).sum(axis=1)
        acc = ref.conv2d_accumulator(x, w, folded, stride=(sh, sw), padding=(ph, pw),
                                     dilation=(dh, dw), groups=groups, input_zero_point=z_in)
        # In real terms (s = 1) the input is q - z_in, zero padded by PyTorch: folding plus
        # padded taps reading z_in must give exactly PyTorch's result with bias b_q.
        expected = functional.conv2d(
            _nchw(x.astype(np.int64) - z_in),
            torch.from_numpy(w.transpose(0, 3, 1, 2).astype(np.float64)),
            torch.from_numpy(bias_q.astype(np.float64)), stride=(sh, sw), padding=(ph, pw),
            dilation=(dh, dw), groups=groups)
        assert (acc == _nhwc(expected).astype(np.int64)).all()
        # Requantized with an exact power-of-two multiplier M = 2^-j: y = floor((acc +
        # 2^(j-1)) / 2^j) + z_out, clamped; checkable against PyTorch's accumulator.
        j = int(rng.integers(1, 12))
        m, n = ref.quantize_multiplier(2.0**-j)
        assert (m, n) == (2**30, 30 + j)
        got = ref.conv2d(x, w, folded, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                         groups=groups, input_zero_point=z_in, multiplier=m, shift=n,
                         output_zero_point=7)
        torch_acc = _nhwc(expected).astype(np.int64)
        assert (got == np.clip(np.floor_divide(torch_acc + 2**(j - 1), 2**j) + 7, -128,
                               127)).all()


def test_depthwise_conv2d_accumulator_matches_torch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(16)
    for _ in range(80):
        in_channels = int(rng.integers(1, 5))
        multiplier = int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
        padding = tuple(int(v) for v in rng.integers(0, 3, 2))
        height = int(rng.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 9))
        width = int(rng.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 9))
        x = rng.integers(-128, 128, (1, height, width, in_channels)).astype(np.int8)
        w = _random_weights(rng, (1, kh, kw, in_channels * multiplier))
        z_in = int(rng.choice([-128, 0, 127]))
        bias_q = rng.integers(-5000, 5000, in_channels * multiplier)
        folded = bias_q - z_in * w.reshape(-1, in_channels * multiplier).astype(
            np.int64).sum(axis=0)
        acc = ref.depthwise_conv2d_accumulator(x, w, folded, depth_multiplier=multiplier,
                                               stride=stride, padding=padding,
                                               dilation=dilation, input_zero_point=z_in)
        # 1HWC -> OIHW [C, 1, kh, kw]; PyTorch groups = in_channels gives output channel c
        # input channel c // multiplier.
        expected = functional.conv2d(
            _nchw(x.astype(np.int64) - z_in),
            torch.from_numpy(w.transpose(3, 0, 1, 2).astype(np.float64)),
            torch.from_numpy(bias_q.astype(np.float64)), stride=stride, padding=padding,
            dilation=dilation, groups=in_channels)
        assert (acc == _nhwc(expected).astype(np.int64)).all()


def test_linear_accumulator_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(17)
    for _ in range(30):
        batches, features, outputs = (int(v) for v in rng.integers(1, 40, 3))
        x = rng.integers(-128, 128, (batches, features)).astype(np.int8)
        w = _random_weights(rng, (outputs, features))
        bias = rng.integers(-100000, 100000, outputs).astype(np.int32)
        expected = torch.nn.functional.linear(torch.from_numpy(x.astype(np.float64)),
                                              torch.from_numpy(w.astype(np.float64)),
                                              torch.from_numpy(bias.astype(np.float64)))
        assert (ref.linear_accumulator(x, w, bias) == expected.numpy().astype(np.int64)).all()
