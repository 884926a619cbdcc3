"""The integer spec's constants and rules (docs/spec.md): their one home in Python.

Every other module imports what it needs from here; this module imports nothing of integr8.
The constants mirror ``include/integr8/types.h``, ``version.h`` and ``kernels/pool.h``; the
binding exports the C++ values and a test holds the two equal.
"""

from __future__ import annotations

import math

import numpy as np

# INTEGR8_SPEC_VERSION: the arithmetic this package implements.
VERSION = 1

# Value ranges (section 1).
INT8_MIN, INT8_MAX = -128, 127
WEIGHT_MIN, WEIGHT_MAX = -127, 127  # -128 is never used, so |w| <= 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# Quantized multipliers (section 2.1): m in [2^30, 2^31 - 1], right shift n in [1, 62],
# for a real multiplier in [2^-31, 2^30).
MULTIPLIER_MIN, MULTIPLIER_MAX = 2**30, 2**31 - 1
SHIFT_MIN, SHIFT_MAX = 1, 62
REAL_MULTIPLIER_MIN, REAL_MULTIPLIER_MAX = 2.0**-31, 2.0**30

# The largest |x * w| of one int8 product (|x| <= 128, |w| <= 127), and the accumulator
# bound it enters (section 3): |b'| + K * MAX_PRODUCT < ACCUMULATOR_LIMIT.
MAX_PRODUCT = 128 * 127
ACCUMULATOR_LIMIT = 2**31

# Residual add (section 6): (q - z) << ADD_LEFT_SHIFT before each input's rescale.
ADD_LEFT_SHIFT = 20

# Pooling (section 5): a window counts at most this many taps, so the int32 sum of raw
# int8 values cannot overflow.
POOL_MAX_WINDOW_TAPS = 2**24 - 1


def output_extent(size: int, kernel: int, stride: int, dilation: int, padding: int,
                  ceil_mode: bool) -> int:
    """PyTorch's output extent of a convolution or pooling window along one axis (sections
    3 and 5), for ints size, kernel, stride, dilation >= 1 and padding >= 0.

    out = floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1; with ceil_mode
    the division rounds up and a last window that would start in the right padding
    ((out - 1) stride >= size + padding) is dropped. ValueError if no window fits.
    """
    span = dilation * (kernel - 1) + 1
    room = size + 2 * padding - span
    if room < 0:
        raise ValueError(f"kernel = {kernel} (dilation {dilation}) is larger than the padded "
                         f"input {size} + 2 * {padding}: no output position")
    if not ceil_mode:
        return room // stride + 1
    out = -(-room // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def accumulator_worst_case(bias, products: int) -> np.ndarray:
    """|b'[c]| + K * 128 * 127 per channel, int64: the largest magnitude an accumulator of K
    products can reach (section 3). The bound holds where it is < ACCUMULATOR_LIMIT."""
    return np.abs(np.asarray(bias, dtype=np.int64)) + np.int64(products) * MAX_PRODUCT


def accumulator_bound_holds(bias, products: int) -> bool:
    """Section 3's bound |b'[c]| + K * 128 * 127 < 2^31 for every channel c."""
    return bool((accumulator_worst_case(bias, products) < ACCUMULATOR_LIMIT).all())


def add_input_rescale_holds(multiplier: int, shift: int) -> bool:
    """Section 6: an add's input rescale m * 2^-n is at most 1/2 (m <= 2^(n - 1)), which
    keeps a' + b' within int32; the kernel refuses larger ones (kBadMultiplier)."""
    return int(multiplier) <= 2 ** (int(shift) - 1)


def pool_counted_taps(size: int, kernel: int, padding: int) -> int:
    """The most taps a pooling window counts along one axis: the kernel, at most the padded
    input (section 5)."""
    return min(kernel, size + 2 * padding)


def pool_taps_hold(input_hw, kernel_hw, padding_hw) -> bool:
    """Section 5's window limit: at most POOL_MAX_WINDOW_TAPS counted taps."""
    taps = math.prod(pool_counted_taps(size, kernel, padding)
                     for size, kernel, padding in zip(input_hw, kernel_hw, padding_hw))
    return taps <= POOL_MAX_WINDOW_TAPS


def activation_clamp(activation: str | None, scale: float, zero_point: int) -> tuple[int, int]:
    """Section 4: the fused activation as clamp bounds (act_min, act_max) in an output of
    this scale and zero point. activation: None, "relu" or "relu6"."""
    if activation is None:
        return INT8_MIN, INT8_MAX
    low = max(INT8_MIN, zero_point)
    if activation == "relu":
        return low, INT8_MAX
    if activation == "relu6":
        steps = 6.0 / scale  # inf for a tiny scale: then 6 lies beyond the int8 range
        if steps >= INT8_MAX - INT8_MIN:
            return low, INT8_MAX
        return low, min(INT8_MAX, zero_point + math.floor(steps + 0.5))  # half up
    raise ValueError(f"activation = {activation!r}: must be None, 'relu' or 'relu6'")


def activation_name(activation_min: int, activation_max: int, scale: float,
                    zero_point: int) -> str | None:
    """The activation a clamp implements in this output: None (no clamp), "relu", "relu6",
    or "clamp" for bounds that are neither."""
    for activation in (None, "relu", "relu6"):
        if (activation_min, activation_max) == activation_clamp(activation, scale, zero_point):
            return activation
    return "clamp"


def _weight_sums(weights) -> np.ndarray:
    """sum_k w[c, k] per output channel (axis 0) in int64."""
    weights = np.asarray(weights)
    return weights.reshape(weights.shape[0], -1).astype(np.int64).sum(axis=1)


def fold_bias(bias_q, input_zero_point: int, weights) -> np.ndarray:
    """Section 3: b'[c] = b_q[c] - z_in * sum_k w_q[c, k] in int64 (the caller checks that it
    fits int32). weights: [out, ...] with the output channel first."""
    return np.asarray(bias_q, dtype=np.int64) - np.int64(input_zero_point) * _weight_sums(weights)


def unfold_bias(folded, input_zero_point: int, weights) -> np.ndarray:
    """The inverse of fold_bias: b_q[c] = b'[c] + z_in * sum_k w_q[c, k] in int64."""
    return np.asarray(folded, dtype=np.int64) + np.int64(input_zero_point) * _weight_sums(weights)
