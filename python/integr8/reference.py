"""NumPy reference implementation of the integr8 integer spec (docs/spec.md, version 1).

This module is the executable statement of docs/spec.md. It is written from the spec alone,
independently of the C++ kernels under include/integr8/kernels/, so that the two can check
each other bit for bit (tests/golden/golden_vectors.h is generated from this module by
tools/gen_golden_vectors.py and replayed against the kernels by tests/unit/golden_test.cpp).

Conventions:

- Activations are NHWC int8, convolution weights OHWI, depthwise weights 1HWC, linear
  weights [out][in] (spec section 1).
- Every integer intermediate is an int64 NumPy array, and each function states why it stays
  below 2^63 in magnitude; integer NumPy arithmetic (including ``@`` and ``einsum``) is exact,
  so "no wrap" (spec notation) holds as long as those bounds do.
- ``>>`` on int64 arrays is an arithmetic shift, i.e. floor division by a power of two, as in
  the spec.
- Bad input raises ValueError naming the offending argument and value. The checks mirror the
  runtime kernels' Status codes (value ranges, shapes, the accumulator bound of section 3).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from integr8 import spec

__all__ = [
    "ADD_LEFT_SHIFT",
    "quantize_multiplier",
    "multiply_by_quantized_multiplier",
    "rounding_divide",
    "requantize",
    "linear_accumulator",
    "linear",
    "conv2d_accumulator",
    "conv2d",
    "depthwise_conv2d_accumulator",
    "depthwise_conv2d",
    "window_output_extent",
    "pool_window_counts",
    "max_pool2d",
    "avg_pool2d",
    "add",
    "relu",
]

# The spec's constants (docs/spec.md; integr8.spec is their one home in Python).
INT8_MIN, INT8_MAX = spec.INT8_MIN, spec.INT8_MAX
WEIGHT_MIN, WEIGHT_MAX = spec.WEIGHT_MIN, spec.WEIGHT_MAX
INT32_MIN, INT32_MAX = spec.INT32_MIN, spec.INT32_MAX
MULTIPLIER_MIN, MULTIPLIER_MAX = spec.MULTIPLIER_MIN, spec.MULTIPLIER_MAX
SHIFT_MIN, SHIFT_MAX = spec.SHIFT_MIN, spec.SHIFT_MAX
ADD_LEFT_SHIFT = spec.ADD_LEFT_SHIFT


# ---------------------------------------------------------------------------------------
# Argument checking


def _int_scalar(name, value, lo, hi):
    """Returns value as a Python int after checking it is an integer in [lo, hi]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} = {value} is outside [{lo}, {hi}]")
    return value


def _int_array(name, value, lo, hi):
    """Returns value as an int64 array after checking it is integer-typed within [lo, hi]."""
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.size:
        # Compare as Python ints so that uint64 values cannot wrap before the check.
        smallest, largest = int(array.min()), int(array.max())
        if smallest < lo or largest > hi:
            bad = smallest if smallest < lo else largest
            raise ValueError(f"{name} holds {bad}, outside [{lo}, {hi}]")
    return array.astype(np.int64)


def _pair(name, value, lo):
    """Returns an (height, width) pair of ints >= lo from an int or a 2-sequence."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(_int_scalar(name, item, lo, INT32_MAX) for item in items)


def _activation_range(activation_min, activation_max):
    lo = _int_scalar("activation_min", activation_min, INT8_MIN, INT8_MAX)
    hi = _int_scalar("activation_max", activation_max, INT8_MIN, INT8_MAX)
    if lo > hi:
        raise ValueError(f"activation_min = {lo} exceeds activation_max = {hi}")
    return lo, hi


def _clamp_to_int8(values, activation_min, activation_max):
    lo, hi = _activation_range(activation_min, activation_max)
    return np.clip(values, lo, hi).astype(np.int8)


def _ndim(name, array, ndim, layout):
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D ({layout}), got shape {array.shape}")


def _check_accumulator_bound(bias, products):
    """Spec section 3: |b'[c]| + K * 128 * 127 < 2^31, so no accumulation leaves int32."""
    if not spec.accumulator_bound_holds(bias, products):
        raise ValueError(
            f"bias holds a value of magnitude {int(np.abs(bias).max())}, which breaks "
            f"|bias| + K * 128 * 127 < 2^31 with K = {products}")


def _per_channel(name, value, lo, hi, channels):
    """A requantization parameter: a scalar or one entry per channel (the last axis)."""
    array = _int_array(name, value, lo, hi)
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] not in (1, channels)):
        raise ValueError(
            f"{name} must be a scalar or hold one entry per channel ({channels}), "
            f"got shape {array.shape}")
    return array


# ---------------------------------------------------------------------------------------
# Section 2.1: quantized multipliers (exporter side, float64)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Converts a real multiplier M to (m, n) with M ~= m * 2^-n, exactly as spec 2.1.

    m lies in [2^30, 2^31 - 1] and the right shift n in [1, 62]. M must be finite and lie in
    [2^-31, 2^30). The one value range the spec's steps would map outside n >= 1 is
    M in [2^30 - 2^-2, 2^30): there f * 2^31 rounds up to 2^31, the carry makes e = 31 and
    n = 0, which no kernel accepts; it is rejected here too rather than returned.
    """
    if isinstance(real_multiplier, (bool, np.bool_)) or not isinstance(
            real_multiplier, numbers.Real):
        raise ValueError(f"real_multiplier must be a real number, got {real_multiplier!r}")
    real = float(real_multiplier)
    if not math.isfinite(real) or real <= 0.0:
        raise ValueError(f"real_multiplier = {real!r} must be finite and > 0")
    if not spec.REAL_MULTIPLIER_MIN <= real < spec.REAL_MULTIPLIER_MAX:
        raise ValueError(f"real_multiplier = {real!r} is outside [2^-31, 2^30)")
    f, e = math.frexp(real)  # real = f * 2^e, f in [0.5, 1)
    # f * 2^31 has at most 53 significant bits and lies in [2^30, 2^31), so its ulp is 2^-22
    # and adding 0.5 is exact: this is round half up, not Python's round half even.
    m = math.floor(math.ldexp(f, 31) + 0.5)
    if m == 2**31:  # f rounded up to 1.0
        m = 2**30
        e += 1
    n = 31 - e
    if not SHIFT_MIN <= n <= SHIFT_MAX:
        raise ValueError(
            f"real_multiplier = {real!r} rounds to m = 2^30 with shift n = {n}, outside "
            f"[{SHIFT_MIN}, {SHIFT_MAX}]")
    return m, n


# ---------------------------------------------------------------------------------------
# Section 4: single-rounding requantization


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """(x * m + 2^(n-1)) >> n in int64: x * m * 2^-n rounded once, ties toward +infinity.

    x must lie in int32, m in [2^30, 2^31 - 1], n in [1, 62]; multiplier and shift broadcast
    against x (per channel: one entry per element of x's last axis).
    """
    x = _int_array("x", x, INT32_MIN, INT32_MAX)
    m = _int_array("multiplier", multiplier, MULTIPLIER_MIN, MULTIPLIER_MAX)
    n = _int_array("shift", shift, SHIFT_MIN, SHIFT_MAX)
    try:
        np.broadcast_shapes(x.shape, m.shape, n.shape)
    except ValueError:
        raise ValueError(
            f"multiplier (shape {m.shape}) and shift (shape {n.shape}) do not broadcast "
            f"against x (shape {x.shape})") from None
    # Overflow: |x| <= 2^31 and m < 2^31, so |x * m| < 2^62; the rounding term 2^(n-1) is at
    # most 2^61, so the sum stays below 2^62 + 2^61 < 2^63.
    rounding = np.left_shift(np.int64(1), n - 1)
    return (x * m + rounding) >> n


def rounding_divide(total, count) -> np.ndarray:
    """(total + sign(total) * floor(count / 2)) / count with truncating division (spec 5).

    That is total / count rounded to nearest, ties away from zero. count must be >= 1.
    total and count must lie in int32 (so nothing here approaches 2^63).
    """
    total = _int_array("total", total, INT32_MIN, INT32_MAX)
    count = _int_array("count", count, 1, INT32_MAX)
    numerator = total + np.sign(total) * (count // 2)
    # Truncating division toward zero (C++ '/'), spelled with floor division on magnitudes
    # because NumPy's '//' floors.
    return np.sign(numerator) * (np.abs(numerator) // count)


def requantize(acc, *, multiplier, shift, output_zero_point, activation_min=INT8_MIN,
               activation_max=INT8_MAX) -> np.ndarray:
    """y = clamp(z_out + ((acc * m + 2^(n-1)) >> n), act_min, act_max) as int8 (spec 4).

    acc holds int32 values; multiplier and shift are scalars (per tensor) or one entry per
    channel of acc's last axis (per channel).
    """
    acc = _int_array("acc", acc, INT32_MIN, INT32_MAX)
    channels = acc.shape[-1] if acc.ndim else 1
    m = _per_channel("multiplier", multiplier, MULTIPLIER_MIN, MULTIPLIER_MAX, channels)
    n = _per_channel("shift", shift, SHIFT_MIN, SHIFT_MAX, channels)
    z_out = _int_scalar("output_zero_point", output_zero_point, INT8_MIN, INT8_MAX)
    # |(acc * m + 2^(n-1)) >> n| <= 2^62 >> 1, so adding z_out cannot approach 2^63.
    return _clamp_to_int8(z_out + multiply_by_quantized_multiplier(acc, m, n),
                          activation_min, activation_max)


# ---------------------------------------------------------------------------------------
# Linear (section 3)


def linear_accumulator(x, weights, bias) -> np.ndarray:
    """acc[b][o] = bias[o] + sum_i x[b][i] * weights[o][i] as int64 [N, out] (spec 3)."""
    x = _int_array("x", x, INT8_MIN, INT8_MAX)
    weights = _int_array("weights", weights, WEIGHT_MIN, WEIGHT_MAX)
    bias = _int_array("bias", bias, INT32_MIN, INT32_MAX)
    _ndim("x", x, 2, "[N, in]")
    _ndim("weights", weights, 2, "[out, in]")
    _ndim("bias", bias, 1, "[out]")
    if x.shape[1] != weights.shape[1] or x.shape[1] < 1:
        raise ValueError(
            f"weights shape {weights.shape} does not match x shape {x.shape} (in features)")
    if bias.shape[0] != weights.shape[0]:
        raise ValueError(f"bias shape {bias.shape} does not match weights shape "
                         f"{weights.shape} (out features)")
    _check_accumulator_bound(bias, products=x.shape[1])
    # Every partial sum is bounded by |bias| + K * 128 * 127 < 2^31 (checked above).
    return bias + x @ weights.T


def linear(x, weights, bias, *, multiplier, shift, output_zero_point,
           activation_min=INT8_MIN, activation_max=INT8_MAX) -> np.ndarray:
    """Fully connected layer: int8 [N, in] x int8 [out, in] + int32 [out] -> int8 [N, out].

    bias is the folded bias b' of spec section 3 (input zero point already folded in).
    """
    acc = linear_accumulator(x, weights, bias)
    return requantize(acc, multiplier=multiplier, shift=shift,
                      output_zero_point=output_zero_point, activation_min=activation_min,
                      activation_max=activation_max)


# ---------------------------------------------------------------------------------------
# Output extents (sections 3 and 5)


def window_output_extent(size, kernel, stride, dilation, padding, ceil_mode) -> int:
    """integr8.spec.output_extent, after checking that the arguments are ints in range."""
    size = _int_scalar("size", size, 1, INT32_MAX)
    kernel = _int_scalar("kernel", kernel, 1, INT32_MAX)
    stride = _int_scalar("stride", stride, 1, INT32_MAX)
    dilation = _int_scalar("dilation", dilation, 1, INT32_MAX)
    padding = _int_scalar("padding", padding, 0, INT32_MAX)
    return spec.output_extent(size, kernel, stride, dilation, padding, bool(ceil_mode))


# ---------------------------------------------------------------------------------------
# Convolutions (section 3)


def _conv_geometry(x, kernel_hw, stride, padding, dilation):
    """Output extents and the zero-point padded input for a convolution."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_hw, stride, padding, dilation
    _, height, width, _ = x.shape
    oh = window_output_extent(height, kh, sh, dh, ph, False)
    ow = window_output_extent(width, kw, sw, dw, pw, False)
    return oh, ow


def _taps(padded, fy, fx, oh, ow, stride, dilation):
    """The input values that filter tap (fy, fx) meets at every output position.

    padded is [N, H + 2 ph, W + 2 pw, C]; the result is [N, oh, ow, C]: element (oy, ox)
    is padded[oy * sh + fy * dh, ox * sw + fx * dw].
    """
    (sh, sw), (dh, dw) = stride, dilation
    y0, x0 = fy * dh, fx * dw
    return padded[:, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw, :]


def conv2d_accumulator(x, weights, bias, *, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                       groups=1, input_zero_point) -> np.ndarray:
    """int32 accumulators (as int64) of a grouped convolution: [N, OH, OW, Cout].

    x is NHWC int8, weights OHWI [Cout, kh, kw, Cin / groups], bias [Cout] the folded bias.
    A tap in the padding reads input_zero_point (spec section 3). Group g maps input
    channels [g * Cin/G, (g+1) * Cin/G) to output channels [g * Cout/G, (g+1) * Cout/G).
    """
    x = _int_array("x", x, INT8_MIN, INT8_MAX)
    weights = _int_array("weights", weights, WEIGHT_MIN, WEIGHT_MAX)
    bias = _int_array("bias", bias, INT32_MIN, INT32_MAX)
    _ndim("x", x, 4, "NHWC")
    _ndim("weights", weights, 4, "OHWI")
    _ndim("bias", bias, 1, "[Cout]")
    stride = _pair("stride", stride, 1)
    padding = _pair("padding", padding, 0)
    dilation = _pair("dilation", dilation, 1)
    z_in = _int_scalar("input_zero_point", input_zero_point, INT8_MIN, INT8_MAX)
    groups = _int_scalar("groups", groups, 1, INT32_MAX)
    batches, _, _, in_channels = x.shape
    out_channels, kh, kw, group_in = weights.shape
    if min(x.shape) < 1 or min(weights.shape) < 1:
        raise ValueError(f"x shape {x.shape} / weights shape {weights.shape} has an empty axis")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups = {groups} does not divide input channels {in_channels} "
                         f"and output channels {out_channels}")
    if group_in != in_channels // groups:
        raise ValueError(f"weights shape {weights.shape} needs I = Cin / groups = "
                         f"{in_channels // groups}")
    if bias.shape[0] != out_channels:
        raise ValueError(f"bias shape {bias.shape} does not match {out_channels} channels")
    _check_accumulator_bound(bias, products=kh * kw * group_in)
    oh, ow = _conv_geometry(x, (kh, kw), stride, padding, dilation)

    (ph, pw) = padding
    padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=z_in)
    group_out = out_channels // groups
    grouped_weights = weights.reshape(groups, group_out, kh, kw, group_in)
    acc = np.zeros((batches, oh, ow, groups, group_out), dtype=np.int64)
    # Every partial sum is bounded by |bias| + K * 128 * 127 < 2^31 (checked above), far
    # below 2^63; padded taps read z_in, whose magnitude is at most 128 like any input.
    for fy in range(kh):
        for fx in range(kw):
            taps = _taps(padded, fy, fx, oh, ow, stride, dilation)
            taps = taps.reshape(batches, oh, ow, groups, group_in)
            acc += np.einsum("nhwgi,goi->nhwgo", taps, grouped_weights[:, :, fy, fx, :])
    return acc.reshape(batches, oh, ow, out_channels) + bias


def conv2d(x, weights, bias, *, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
           input_zero_point, multiplier, shift, output_zero_point, activation_min=INT8_MIN,
           activation_max=INT8_MAX) -> np.ndarray:
    """Grouped 2-D convolution, NHWC int8 in and out, OHWI weights (spec sections 3-4)."""
    acc = conv2d_accumulator(x, weights, bias, stride=stride, padding=padding,
                             dilation=dilation, groups=groups,
                             input_zero_point=input_zero_point)
    return requantize(acc, multiplier=multiplier, shift=shift,
                      output_zero_point=output_zero_point, activation_min=activation_min,
                      activation_max=activation_max)


def depthwise_conv2d_accumulator(x, weights, bias, *, depth_multiplier=1, stride=(1, 1),
                                 padding=(0, 0), dilation=(1, 1),
                                 input_zero_point) -> np.ndarray:
    """int32 accumulators (as int64) of a depthwise convolution: [N, OH, OW, Cin * dm].

    weights are 1HWC [1, kh, kw, Cin * depth_multiplier]; output channel c reads input
    channel c // depth_multiplier (PyTorch groups == in_channels). Padded taps read
    input_zero_point (spec section 3).
    """
    x = _int_array("x", x, INT8_MIN, INT8_MAX)
    weights = _int_array("weights", weights, WEIGHT_MIN, WEIGHT_MAX)
    bias = _int_array("bias", bias, INT32_MIN, INT32_MAX)
    _ndim("x", x, 4, "NHWC")
    _ndim("weights", weights, 4, "1HWC")
    _ndim("bias", bias, 1, "[C]")
    depth_multiplier = _int_scalar("depth_multiplier", depth_multiplier, 1, INT32_MAX)
    stride = _pair("stride", stride, 1)
    padding = _pair("padding", padding, 0)
    dilation = _pair("dilation", dilation, 1)
    z_in = _int_scalar("input_zero_point", input_zero_point, INT8_MIN, INT8_MAX)
    batches, _, _, in_channels = x.shape
    one, kh, kw, out_channels = weights.shape
    if min(x.shape) < 1 or min(weights.shape) < 1:
        raise ValueError(f"x shape {x.shape} / weights shape {weights.shape} has an empty axis")
    if one != 1 or out_channels != in_channels * depth_multiplier:
        raise ValueError(f"weights shape {weights.shape} must be [1, kh, kw, "
                         f"{in_channels} * {depth_multiplier}]")
    if bias.shape[0] != out_channels:
        raise ValueError(f"bias shape {bias.shape} does not match {out_channels} channels")
    _check_accumulator_bound(bias, products=kh * kw)
    oh, ow = _conv_geometry(x, (kh, kw), stride, padding, dilation)

    (ph, pw) = padding
    padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=z_in)
    acc = np.zeros((batches, oh, ow, out_channels), dtype=np.int64)
    # Bounded by |bias| + kh * kw * 128 * 127 < 2^31 (checked above).
    for fy in range(kh):
        for fx in range(kw):
            taps = _taps(padded, fy, fx, oh, ow, stride, dilation)
            # Channel c of the repeated taps is input channel c // depth_multiplier.
            taps = np.repeat(taps, depth_multiplier, axis=-1)
            acc += taps * weights[0, fy, fx, :]
    return acc + bias


def depthwise_conv2d(x, weights, bias, *, depth_multiplier=1, stride=(1, 1), padding=(0, 0),
                     dilation=(1, 1), input_zero_point, multiplier, shift, output_zero_point,
                     activation_min=INT8_MIN, activation_max=INT8_MAX) -> np.ndarray:
    """Depthwise 2-D convolution, NHWC int8 in and out, 1HWC weights (spec sections 3-4)."""
    acc = depthwise_conv2d_accumulator(x, weights, bias, depth_multiplier=depth_multiplier,
                                       stride=stride, padding=padding, dilation=dilation,
                                       input_zero_point=input_zero_point)
    return requantize(acc, multiplier=multiplier, shift=shift,
                      output_zero_point=output_zero_point, activation_min=activation_min,
                      activation_max=activation_max)


# ---------------------------------------------------------------------------------------
# Pooling (section 5)


def _pool_arguments(x, kernel, stride, padding):
    x = _int_array("x", x, INT8_MIN, INT8_MAX)
    _ndim("x", x, 4, "NHWC")
    if min(x.shape) < 1:
        raise ValueError(f"x shape {x.shape} has an empty axis")
    kernel = _pair("kernel", kernel, 1)
    stride = _pair("stride", stride, 1)
    padding = _pair("padding", padding, 0)
    for k, p in zip(kernel, padding):
        if 2 * p > k:  # PyTorch's rule: padding at most half the kernel
            raise ValueError(f"padding = {padding} exceeds half of kernel = {kernel}")
    if not spec.pool_taps_hold(x.shape[1:3], kernel, padding):
        raise ValueError(f"kernel = {kernel} counts more than {spec.POOL_MAX_WINDOW_TAPS} taps, "
                         "too many for an int32 window sum")
    return x, kernel, stride, padding


def _window_bounds(size, kernel, stride, padding, ceil_mode):
    """Spec section 5 along one axis: windows [start, end), start = o * stride - padding,
    end = min(start + kernel, size + padding). Returns (start, end) int64 arrays."""
    out = window_output_extent(size, kernel, stride, 1, padding, ceil_mode)
    start = np.arange(out, dtype=np.int64) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    return start, end


def _window_selection(size, start, end):
    """selection[o, i] = 1 if input index i lies in window o (padding excluded)."""
    index = np.arange(size, dtype=np.int64)
    return ((index >= start[:, None]) & (index < end[:, None])).astype(np.int64)


def pool_window_counts(input_size, *, kernel, stride, padding=(0, 0), ceil_mode=False,
                       count_include_pad=True) -> np.ndarray:
    """The average-pool divisor at every output position, int64 [OH, OW] (spec 5).

    count_include_pad: (end - start) over both axes, padding included; otherwise the number
    of taps inside the input.
    """
    height, width = _pair("input_size", input_size, 1)
    kernel = _pair("kernel", kernel, 1)
    stride = _pair("stride", stride, 1)
    padding = _pair("padding", padding, 0)
    counts = []
    for size, k, s, p in zip((height, width), kernel, stride, padding):
        start, end = _window_bounds(size, k, s, p, ceil_mode)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return counts[0][:, None] * counts[1][None, :]


def max_pool2d(x, *, kernel, stride, padding=(0, 0), ceil_mode=False,
               activation_min=INT8_MIN, activation_max=INT8_MAX) -> np.ndarray:
    """Max pool on raw int8 values; padded taps are ignored (PyTorch pads with -inf).

    NHWC in and out; the result is clamped to [activation_min, activation_max].
    """
    x, kernel, stride, padding = _pool_arguments(x, kernel, stride, padding)
    _activation_range(activation_min, activation_max)
    batches, height, width, channels = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh = window_output_extent(height, kh, sh, 1, ph, ceil_mode)
    ow = window_output_extent(width, kw, sw, 1, pw, ceil_mode)
    # A frame in padded coordinates large enough for every window (with ceil_mode the last
    # window may run past the right padding). Everything outside the input holds a value
    # below int8, so it never wins: every window holds at least one input tap, because
    # padding <= kernel / 2 and no window starts in the right padding.
    never_max = INT8_MIN - 1
    frame_h = max(height + 2 * ph, (oh - 1) * sh + kh)
    frame_w = max(width + 2 * pw, (ow - 1) * sw + kw)
    frame = np.full((batches, frame_h, frame_w, channels), never_max, dtype=np.int64)
    frame[:, ph:ph + height, pw:pw + width, :] = x
    result = np.full((batches, oh, ow, channels), never_max, dtype=np.int64)
    for fy in range(kh):
        for fx in range(kw):
            result = np.maximum(result, _taps(frame, fy, fx, oh, ow, (sh, sw), (1, 1)))
    assert result.min() >= INT8_MIN, "a pooling window held no input tap"
    return _clamp_to_int8(result, activation_min, activation_max)


def avg_pool2d(x, *, kernel, stride, padding=(0, 0), ceil_mode=False, count_include_pad=True,
               input_zero_point=0, activation_min=INT8_MIN,
               activation_max=INT8_MAX) -> np.ndarray:
    """Average pool on raw int8 values, rounding half away from zero (spec section 5).

    sum = the raw values of the window's taps inside the input, plus input_zero_point for
    each counted tap in the padding (count_include_pad); count = pool_window_counts(...);
    avg = rounding_divide(sum, count), clamped. A global average pool is
    kernel = (H, W) with padding 0.
    """
    x, kernel, stride, padding = _pool_arguments(x, kernel, stride, padding)
    z_in = _int_scalar("input_zero_point", input_zero_point, INT8_MIN, INT8_MAX)
    _activation_range(activation_min, activation_max)
    _, height, width, _ = x.shape
    bounds = [_window_bounds(size, k, s, p, ceil_mode)
              for size, k, s, p in zip((height, width), kernel, stride, padding)]
    (start_h, end_h), (start_w, end_w) = bounds
    select_h = _window_selection(height, start_h, end_h)  # [OH, H]
    select_w = _window_selection(width, start_w, end_w)  # [OW, W]
    # Sum of the taps inside the input: |sum| <= kh * kw * 128 < 2^31 (checked).
    inside_sum = np.einsum("ph,nhwc->npwc", select_h, x)
    inside_sum = np.einsum("qw,npwc->npqc", select_w, inside_sum)
    inside_count = select_h.sum(axis=1)[:, None] * select_w.sum(axis=1)[None, :]
    count = pool_window_counts((height, width), kernel=kernel, stride=stride,
                               padding=padding, ceil_mode=ceil_mode,
                               count_include_pad=count_include_pad)
    padded_count = count - inside_count  # counted taps in the padding (0 if not included)
    total = inside_sum + z_in * padded_count[None, :, :, None]
    return _clamp_to_int8(rounding_divide(total, count[None, :, :, None]), activation_min,
                          activation_max)


# ---------------------------------------------------------------------------------------
# Residual add (section 6) and standalone activations (section 4)


def add(a, b, *, a_zero_point, a_multiplier, a_shift, b_zero_point, b_multiplier, b_shift,
        output_multiplier, output_shift, output_zero_point, activation_min=INT8_MIN,
        activation_max=INT8_MAX) -> np.ndarray:
    """Element-wise residual add of two int8 tensors with their own scales (spec 6).

    a' = (((a - z_a) << 20) * m_a + 2^(n_a-1)) >> n_a, likewise b';
    y = clamp(z_out + (((a' + b') * m_o + 2^(n_o-1)) >> n_o), act_min, act_max).
    """
    a = _int_array("a", a, INT8_MIN, INT8_MAX)
    b = _int_array("b", b, INT8_MIN, INT8_MAX)
    if a.shape != b.shape:
        raise ValueError(f"b shape {b.shape} differs from a shape {a.shape}")
    z_a = _int_scalar("a_zero_point", a_zero_point, INT8_MIN, INT8_MAX)
    z_b = _int_scalar("b_zero_point", b_zero_point, INT8_MIN, INT8_MAX)
    z_out = _int_scalar("output_zero_point", output_zero_point, INT8_MIN, INT8_MAX)
    for name, value, lo, hi in (
            ("a_multiplier", a_multiplier, MULTIPLIER_MIN, MULTIPLIER_MAX),
            ("a_shift", a_shift, SHIFT_MIN, SHIFT_MAX),
            ("b_multiplier", b_multiplier, MULTIPLIER_MIN, MULTIPLIER_MAX),
            ("b_shift", b_shift, SHIFT_MIN, SHIFT_MAX),
            ("output_multiplier", output_multiplier, MULTIPLIER_MIN, MULTIPLIER_MAX),
            ("output_shift", output_shift, SHIFT_MIN, SHIFT_MAX)):
        _int_scalar(name, value, lo, hi)
    _activation_range(activation_min, activation_max)
    for name, multiplier, shift in (("a", a_multiplier, a_shift), ("b", b_multiplier, b_shift)):
        if not spec.add_input_rescale_holds(multiplier, shift):
            raise ValueError(f"{name}_multiplier/{name}_shift = {multiplier}/{shift} rescale "
                             "by more than 1/2 (spec section 6)")
    # |q - z| <= 255, so (q - z) << 20 < 2^28 lies in int32 as multiply_by_quantized_multiplier
    # requires; with M_a, M_b <= 1/2, |a'|, |b'| < 2^27 and a' + b' lies in int32 too.
    a_scaled = multiply_by_quantized_multiplier((a - z_a) << ADD_LEFT_SHIFT, a_multiplier,
                                                a_shift)
    b_scaled = multiply_by_quantized_multiplier((b - z_b) << ADD_LEFT_SHIFT, b_multiplier,
                                                b_shift)
    total = a_scaled + b_scaled
    y = z_out + multiply_by_quantized_multiplier(total, output_multiplier, output_shift)
    return _clamp_to_int8(y, activation_min, activation_max)


def relu(x, *, activation_min, activation_max) -> np.ndarray:
    """Standalone ReLU / ReLU6: clamp(x, activation_min, activation_max) on raw int8 values.

    ReLU is [max(-128, z), 127]; ReLU6 [max(-128, z), min(127, z + floor(6 / s + 0.5))].
    """
    x = _int_array("x", x, INT8_MIN, INT8_MAX)
    return _clamp_to_int8(x, activation_min, activation_max)
