#!/usr/bin/env python3
"""Generates tests/golden/golden_vectors.h: golden cases for every integr8 kernel.

Each case holds the inputs, weights, biases, multipliers and shifts of one kernel call
together with the output of the NumPy reference (python/integr8/reference.py, the executable
statement of docs/spec.md). tests/unit/golden_test.cpp runs every case through the C++ kernel
and requires identical outputs.

The cases are drawn from Python's random.Random(SEED) and use only integer draws, uniform
floats and IEEE-exact arithmetic (+ - * /, ldexp, frexp), never libm transcendentals, so the
header is reproducible byte for byte on any platform:

    tools/gen_golden_vectors.py            # (re)write tests/golden/golden_vectors.h
    tools/gen_golden_vectors.py --check    # exit 1 if the committed file differs
    tools/gen_golden_vectors.py --output PATH
"""

from __future__ import annotations

import argparse
import random
import itertools
import math
import os
import pathlib
import re
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from integr8 import reference as ref  # noqa: E402  (needs the sys.path entry above)
from integr8 import spec  # noqa: E402

SEED = 20250801
DEFAULT_OUTPUT = ROOT / "tests" / "golden" / "golden_vectors.h"
GENERATOR = "tools/gen_golden_vectors.py"

ZERO_POINTS = (-128, 0, 127)
ACTIVATIONS = ("none", "relu", "relu6")
# (z_in, z_out, activation): every pair of zero points with every fused activation, except
# that a ReLU with z_out = 127 (a constant output) appears only once.
OUTPUTS = [(z_out, act) for z_out in ZERO_POINTS for act in ACTIVATIONS
           if z_out != 127 or act == "none"]
COMBOS = [(z_in, z_out, act) for z_in in ZERO_POINTS for z_out, act in OUTPUTS]
COMBOS.append((0, 127, "relu"))
INT32_MAX = spec.INT32_MAX


def spec_version_from_header():
    """INTEGR8_SPEC_VERSION from include/integr8/version.h (must match the reference)."""
    text = (ROOT / "include" / "integr8" / "version.h").read_text()
    match = re.search(r"#define\s+INTEGR8_SPEC_VERSION\s+(\d+)", text)
    if not match:
        raise SystemExit("INTEGR8_SPEC_VERSION not found in include/integr8/version.h")
    version = int(match.group(1))
    if version != spec.VERSION:
        raise SystemExit(f"version.h has spec version {version}, integr8.reference "
                         f"implements {spec.VERSION}")
    return version


# ---------------------------------------------------------------------------------------
# Random parameters (integer draws and exact float arithmetic only)


class StableRandom:
    """The two draws the builders use, from Python's Mersenne Twister, whose streams for
    getrandbits-based integers and random() are stable across Python releases (NumPy makes
    no such promise for its generators across NumPy releases)."""

    def __init__(self, seed):
        self._random = random.Random(seed)

    def integers(self, lo, hi, shape=None):
        """Ints in [lo, hi), a Python int for shape None, else an int64 array."""
        if shape is None:
            return self._random.randrange(lo, hi)
        count = int(np.prod(shape, dtype=np.int64))
        values = [self._random.randrange(lo, hi) for _ in range(count)]
        return np.array(values, dtype=np.int64).reshape(shape)

    def uniform(self, lo, hi, shape=None):
        """Floats lo + (hi - lo) * u with u = random() in [0, 1)."""
        if shape is None:
            return lo + (hi - lo) * self._random.random()
        count = int(np.prod(shape, dtype=np.int64))
        values = [self._random.random() for _ in range(count)]
        return lo + (hi - lo) * np.array(values, dtype=np.float64).reshape(shape)


class Draw:
    """Seeded draws shared by every case builder."""

    def __init__(self, seed):
        self.rng = StableRandom(seed)

    def int(self, lo, hi):
        """An int in [lo, hi]."""
        return int(self.rng.integers(lo, hi + 1))

    def pick(self, options):
        return options[self.int(0, len(options) - 1)]

    def int8(self, shape):
        return self.rng.integers(-128, 128, shape).astype(np.int8)

    def weights(self, shape, small=False):
        """Weights in [-127, 127]; small ones in [-2, 2] keep accumulators narrow, so that a
        power-of-two multiplier meets many exact rounding ties."""
        bound = 2 if small else 127
        return self.rng.integers(-bound, bound + 1, shape).astype(np.int8)

    def scale(self, lo_exponent, hi_exponent):
        """A positive real f * 2^e, f uniform in [0.5, 1), e uniform in [lo, hi]."""
        return float(np.ldexp(self.rng.uniform(0.5, 1.0), self.int(lo_exponent, hi_exponent)))

    def multiplier(self, real):
        return ref.quantize_multiplier(real)

    def calibrate(self, acc, bias, per_channel, z_out, act, mode="cal", pow2=False):
        """Multipliers, and a bias offset, that spread the outputs over the clamp window.

        mode "cal" is what calibrating a layer amounts to: M = s_in * s_w / s_out maps the
        accumulator range onto about the activation window (a few outputs saturate on
        purpose), and one bias offset for the whole tensor places it there. Per tensor, one
        M serves every channel. "wide" scales that M by a random 2^-3 .. 2^4 (compressed or
        mostly saturated outputs); "extreme" (accumulators near +-2^31) maps +-max|acc| onto
        the window and leaves the bias alone. pow2 rounds each M down to a power of two,
        which makes exact rounding ties (acc * M = k + 1/2) common. Returns (multipliers,
        shifts, bias).
        """
        flat = acc.reshape(-1, acc.shape[-1]).astype(np.int64)
        lo, hi = int(flat.min()), int(flat.max())
        window = max(act[1] - act[0], 32)
        if mode == "extreme":
            widths = 2 * np.abs(flat).max(axis=0)
        elif per_channel:  # a channel seen at few positions still gets a sensible scale
            widths = np.maximum(flat.max(axis=0) - flat.min(axis=0), (hi - lo) // 4)
        else:
            widths = [hi - lo]
        if not per_channel:
            widths = [max(widths)]
        if mode == "wide":  # anywhere from 1/8 to 16 times the calibrated scale
            factors = [self.scale(-2, 4) for _ in widths]
        elif mode == "extreme":
            factors = [self.rng.uniform(0.5, 0.95) for _ in widths]
        else:
            factors = [self.rng.uniform(0.8, 1.3) for _ in widths]
        reals = [window * factor / max(int(width), 1) for factor, width in zip(factors, widths)]
        if pow2:
            reals = [math.ldexp(0.5, math.frexp(real)[1]) for real in reals]
        pairs = [self.multiplier(real) for real in reals]
        multipliers, shifts = [m for m, _ in pairs], [n for _, n in pairs]
        if mode != "extreme":
            target = (act[0] + act[1]) / 2 - z_out  # where the centre of acc * M should go
            bias = bias.astype(np.int64)
            for c in range(acc.shape[-1]):
                m, n = pairs[c if per_channel else 0]
                offset = target * 2.0**n / m - (lo + hi) / 2
                bias[c] += int(np.floor(offset + 0.5))
            assert (np.abs(bias) < 2**31).all()
            bias = bias.astype(np.int32)
        return multipliers, shifts, bias

    def wide_multipliers(self, count):
        """Multipliers of random real scales across the whole legal range [2^-31, 2^30)."""
        pairs = []
        while len(pairs) < count:
            try:
                pairs.append(self.multiplier(self.scale(-30, 30)))
            except ValueError:  # the mantissa carry just below 2^30 (see quantize_multiplier)
                continue
        return [m for m, _ in pairs], [n for _, n in pairs]

    def activation_range(self, activation, output_zero_point):
        """Spec section 4: fused activation clamp bounds for a random output scale."""
        if activation != "relu6":  # the scale matters only to ReLU6
            return spec.activation_clamp(None if activation == "none" else activation, 1.0,
                                         output_zero_point)
        s_out = self.scale(-6, -3)  # 6 / s_out in [48, 768)
        return spec.activation_clamp("relu6", s_out, output_zero_point)

    def bias(self, channels, products, z_in, weights, small=False):
        """A quantized bias folded with the input zero point (spec section 3); weights hold
        the output channel on their first axis."""
        spread = products * (8 if small else 2000)
        bias_q = self.rng.integers(-spread, spread + 1, channels)
        folded = spec.fold_bias(bias_q, z_in, weights)
        # The reference checks the accumulator bound again; this is the exporter's check.
        assert spec.accumulator_bound_holds(folded, products)
        return folded.astype(np.int32)


def ties_wanted(z_out, act):
    """Whether a case should use power-of-two multipliers (see Draw.calibrate): where
    negative outputs survive the clamp, since only negative ties tell rounding toward +inf
    from rounding away from zero."""
    return act == "none" and z_out >= 0


def zero_point_name(value):
    return f"m{-value}" if value < 0 else str(value)


# ---------------------------------------------------------------------------------------
# Case builders. Each returns a list of dicts: name, type (the C++ params struct), fields
# (params field -> value, or ("array", role) for a pointer) and arrays (role -> (ctype,
# values)); every output comes from integr8.reference.


def requantize_fields(multipliers, shifts, per_channel, z_out, act):
    return {
        "requantize.multipliers": ("array", "multipliers"),
        "requantize.shifts": ("array", "shifts"),
        "requantize.per_channel": per_channel,
        "requantize.output_zero_point": z_out,
        "requantize.activation_min": act[0],
        "requantize.activation_max": act[1],
    }, {"multipliers": ("int32_t", multipliers), "shifts": ("int32_t", shifts)}


def linear_cases(draw):
    cases = []
    plans = []
    for index, (z_in, z_out, act) in enumerate(COMBOS):
        plans.append(dict(batches=draw.pick([1, 2, 4]), features=draw.pick([1, 3, 8, 17, 64]),
                          outputs=draw.pick([1, 5, 10, 16]), per_channel=index % 2 == 0,
                          z_in=z_in, z_out=z_out, act=act, kind="cal"))
    for per_channel in (False, True):
        plans.append(dict(batches=2, features=24, outputs=6, per_channel=per_channel,
                          z_in=draw.pick(ZERO_POINTS), z_out=0, act="none", kind="wide"))
    plans.append(dict(batches=1, features=16, outputs=4, per_channel=True, z_in=0, z_out=0,
                      act="none", kind="extreme"))
    plans.append(dict(batches=2, features=5, outputs=3, per_channel=False, z_in=0, z_out=-3,
                      act="none", kind="ties"))
    plans.append(dict(batches=1, features=200, outputs=3, per_channel=True, z_in=-128,
                      z_out=5, act="relu6", kind="cal"))
    # One row, 7 channels (a block of four, then two, then one) over K = 78: 19 full groups
    # of four taps (a loop of four groups, three left over) and a tail of two.
    plans.append(dict(batches=1, features=78, outputs=7, per_channel=True, z_in=3, z_out=-2,
                      act="relu", kind="cal"))

    for index, plan in enumerate(plans):
        plan["pow2"] = ties_wanted(plan["z_out"], plan["act"])
        n, k, c = plan["batches"], plan["features"], plan["outputs"]
        if plan["kind"] == "extreme":
            x = np.full((n, k), -128, np.int8)
            signs = np.array([(-1) ** o for o in range(c)])
            w = np.repeat((-127 * signs)[:, None], k, axis=1).astype(np.int8)  # x*w = +-16256
            bias = (signs * (INT32_MAX - k * spec.MAX_PRODUCT)).astype(np.int32)
        else:
            x, w = draw.int8((n, k)), draw.weights((c, k), small=plan["pow2"])
            bias = draw.bias(c, k, plan["z_in"], w, small=plan["pow2"])
        acc = ref.linear_accumulator(x, w, bias)
        act = draw.activation_range(plan["act"], plan["z_out"])
        if plan["kind"] == "ties":
            # M = 0.5 on odd accumulators: every output is a tie of either sign.
            x = np.array([[1, 0, 0, 0, 0], [-1, 0, 0, 0, 0]], np.int8)
            w = np.array([[1, 0, 0, 0, 0], [3, 1, 1, 1, 1], [-5, 0, 0, 0, 0]], np.int8)
            bias = np.array([0, 0, -100], np.int32)
            multipliers, shifts = [2**30], [31]
        else:
            multipliers, shifts, bias = draw.calibrate(acc, bias, plan["per_channel"],
                                                       plan["z_out"], act, plan["kind"],
                                                       pow2=plan["pow2"])
        y = ref.linear(x, w, bias, multiplier=multipliers, shift=shifts,
                       output_zero_point=plan["z_out"], activation_min=act[0],
                       activation_max=act[1])
        fields, arrays = requantize_fields(multipliers, shifts, plan["per_channel"],
                                           plan["z_out"], act)
        fields = {"batches": n, "input_features": k, "output_features": c, **fields}
        name = (f"linear_{index:03d}_{plan['kind']}_n{n}_in{k}_out{c}_"
                f"{'pc' if plan['per_channel'] else 'pt'}_zi{zero_point_name(plan['z_in'])}_"
                f"zo{zero_point_name(plan['z_out'])}_{plan['act']}")
        arrays.update(input=("int8_t", x), weights=("int8_t", w), bias=("int32_t", bias),
                      expected=("int8_t", y))
        cases.append(dict(name=name, type="LinearParams", fields=fields, arrays=arrays))
    return cases


def conv_plans(draw, depthwise):
    """Geometries: every stride x dilation x grouping combination, then special shapes."""
    plans = []
    groupings = (1, 2) if depthwise else ("1", "2", "cin")  # depth multiplier or groups
    for index, (stride, dilation, grouping) in enumerate(
            itertools.product((1, 2, 3), (1, 2), groupings)):
        plans.append(dict(kernel=(3, 3), stride=(stride, stride), dilation=(dilation, dilation),
                          padding=((0, 1, 2)[index % 3],) * 2, grouping=grouping))
    specials = [
        dict(kernel=(1, 1), stride=(1, 1), dilation=(1, 1), padding=(0, 0)),
        dict(kernel=(1, 1), stride=(2, 2), dilation=(1, 1), padding=(1, 1)),  # all-pad border
        dict(kernel=(5, 5), stride=(1, 1), dilation=(1, 1), padding=(2, 2)),
        dict(kernel=(5, 5), stride=(2, 2), dilation=(1, 1), padding=(2, 2)),
        dict(kernel=(3, 2), stride=(1, 2), dilation=(1, 1), padding=(1, 0)),
        dict(kernel=(2, 3), stride=(2, 1), dilation=(2, 1), padding=(0, 1)),
        dict(kernel=(3, 3), stride=(3, 1), dilation=(1, 2), padding=(2, 0)),
        dict(kernel=(2, 2), stride=(3, 3), dilation=(2, 2), padding=(1, 1)),
        dict(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), padding=(1, 1), size=(1, 1)),
        dict(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), padding=(0, 0), size=(3, 3)),
        dict(kernel=(3, 3), stride=(2, 2), dilation=(1, 1), padding=(1, 1), batches=2),
        dict(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), padding=(1, 1), kind="wide"),
        dict(kernel=(3, 3), stride=(2, 1), dilation=(1, 1), padding=(1, 1), kind="extreme"),
    ]
    for index, special in enumerate(specials):
        special.setdefault("grouping", groupings[index % len(groupings)])
        plans.append(special)
    for index, plan in enumerate(plans):
        z_in, z_out, act = COMBOS[index % len(COMBOS)]
        plan.setdefault("kind", "cal")
        plan.setdefault("batches", 1)
        plan.update(z_in=z_in, z_out=z_out, per_channel=index % 2 == 0, act=act,
                    pow2=ties_wanted(z_out, act))
        if "size" not in plan:
            plan["size"] = (draw.int(5, 9), draw.int(5, 9))
        if plan["kind"] == "extreme":
            plan.update(z_in=0, z_out=0, act="none")
    return plans


def conv_geometry_fields(plan, height, width):
    return {
        "batches": plan["batches"],
        "input_height": height,
        "input_width": width,
    }, {
        "filter_height": plan["kernel"][0],
        "filter_width": plan["kernel"][1],
        "stride_height": plan["stride"][0],
        "stride_width": plan["stride"][1],
        "dilation_height": plan["dilation"][0],
        "dilation_width": plan["dilation"][1],
        "padding_height": plan["padding"][0],
        "padding_width": plan["padding"][1],
    }


def geometry_name(plan):
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = (plan["kernel"], plan["stride"],
                                              plan["dilation"], plan["padding"])
    return f"k{kh}x{kw}_s{sh}x{sw}_d{dh}x{dw}_p{ph}x{pw}"


def select_multipliers(draw, plan, acc, bias, act):
    """(multipliers, shifts, bias) for a convolution case."""
    return draw.calibrate(acc, bias, plan["per_channel"], plan["z_out"], act, plan["kind"],
                          pow2=plan["pow2"])


def conv2d_cases(draw):
    cases = []
    for index, plan in enumerate(conv_plans(draw, depthwise=False)):
        (kh, kw), (height, width), n = plan["kernel"], plan["size"], plan["batches"]
        if plan["grouping"] == "cin":
            in_channels = draw.pick([3, 4])
            groups, out_channels = in_channels, in_channels * draw.pick([1, 2])
        else:
            groups = int(plan["grouping"])
            in_channels = groups * draw.pick([1, 2, 3])
            out_channels = groups * draw.pick([1, 2, 3])
        group_in = in_channels // groups
        products = kh * kw * group_in
        if plan["kind"] == "extreme":
            x = np.full((n, height, width, in_channels), -128, np.int8)
            signs = np.array([(-1) ** c for c in range(out_channels)])
            w = np.broadcast_to((-127 * signs)[:, None, None, None],
                                (out_channels, kh, kw, group_in)).astype(np.int8)
            bias = (signs * (INT32_MAX - products * spec.MAX_PRODUCT)).astype(np.int32)
        else:
            x = draw.int8((n, height, width, in_channels))
            w = draw.weights((out_channels, kh, kw, group_in), small=plan["pow2"])
            bias = draw.bias(out_channels, products, plan["z_in"], w, small=plan["pow2"])
        geometry = dict(stride=plan["stride"], padding=plan["padding"],
                        dilation=plan["dilation"], groups=groups,
                        input_zero_point=plan["z_in"])
        acc = ref.conv2d_accumulator(x, w, bias, **geometry)
        act = draw.activation_range(plan["act"], plan["z_out"])
        multipliers, shifts, bias = select_multipliers(draw, plan, acc, bias, act)
        y = ref.conv2d(x, w, bias, **geometry, multiplier=multipliers, shift=shifts,
                       output_zero_point=plan["z_out"], activation_min=act[0],
                       activation_max=act[1])
        head, tail = conv_geometry_fields(plan, height, width)
        requant, arrays = requantize_fields(multipliers, shifts, plan["per_channel"],
                                            plan["z_out"], act)
        fields = {**head, "input_channels": in_channels, "output_channels": out_channels,
                  **tail, "groups": groups, "input_zero_point": plan["z_in"], **requant}
        name = (f"conv2d_{index:03d}_{plan['kind']}_{geometry_name(plan)}_g{groups}_"
                f"n{n}_{height}x{width}x{in_channels}to{out_channels}_"
                f"{'pc' if plan['per_channel'] else 'pt'}_zi{zero_point_name(plan['z_in'])}_"
                f"zo{zero_point_name(plan['z_out'])}_{plan['act']}")
        arrays.update(input=("int8_t", x), filter=("int8_t", w), bias=("int32_t", bias),
                      expected=("int8_t", y))
        cases.append(dict(name=name, type="Conv2dParams", fields=fields, arrays=arrays))
    return cases


def depthwise_cases(draw):
    cases = []
    for index, plan in enumerate(conv_plans(draw, depthwise=True)):
        (kh, kw), (height, width), n = plan["kernel"], plan["size"], plan["batches"]
        depth_multiplier = int(plan["grouping"])
        in_channels = draw.pick([1, 3, 4])
        channels = in_channels * depth_multiplier
        products = kh * kw
        if plan["kind"] == "extreme":
            x = np.full((n, height, width, in_channels), -128, np.int8)
            signs = np.array([(-1) ** c for c in range(channels)])
            w = np.broadcast_to(-127 * signs, (1, kh, kw, channels)).astype(np.int8)
            bias = (signs * (INT32_MAX - products * spec.MAX_PRODUCT)).astype(np.int32)
        else:
            x = draw.int8((n, height, width, in_channels))
            w = draw.weights((1, kh, kw, channels), small=plan["pow2"])
            bias = draw.bias(channels, products, plan["z_in"], w.reshape(-1, channels).T,
                             small=plan["pow2"])
        geometry = dict(depth_multiplier=depth_multiplier, stride=plan["stride"],
                        padding=plan["padding"], dilation=plan["dilation"],
                        input_zero_point=plan["z_in"])
        acc = ref.depthwise_conv2d_accumulator(x, w, bias, **geometry)
        act = draw.activation_range(plan["act"], plan["z_out"])
        multipliers, shifts, bias = select_multipliers(draw, plan, acc, bias, act)
        y = ref.depthwise_conv2d(x, w, bias, **geometry, multiplier=multipliers, shift=shifts,
                                 output_zero_point=plan["z_out"], activation_min=act[0],
                                 activation_max=act[1])
        head, tail = conv_geometry_fields(plan, height, width)
        requant, arrays = requantize_fields(multipliers, shifts, plan["per_channel"],
                                            plan["z_out"], act)
        fields = {**head, "input_channels": in_channels, "depth_multiplier": depth_multiplier,
                  **tail, "input_zero_point": plan["z_in"], **requant}
        name = (f"depthwise_{index:03d}_{plan['kind']}_{geometry_name(plan)}_"
                f"dm{depth_multiplier}_n{n}_{height}x{width}x{in_channels}_"
                f"{'pc' if plan['per_channel'] else 'pt'}_zi{zero_point_name(plan['z_in'])}_"
                f"zo{zero_point_name(plan['z_out'])}_{plan['act']}")
        arrays.update(input=("int8_t", x), filter=("int8_t", w), bias=("int32_t", bias),
                      expected=("int8_t", y))
        cases.append(dict(name=name, type="DepthwiseConv2dParams", fields=fields,
                          arrays=arrays))
    return cases


def pool_size(draw, kernel, stride, padding, ceil_mode):
    """An input extent in [4, 9]; with ceil_mode, one where rounding up adds a window."""
    for _ in range(100):
        size = draw.int(max(4, kernel), 9)
        if not ceil_mode or stride == 1 or (size + 2 * padding - kernel) % stride:
            return size
    raise AssertionError("no pool size found")


def pool_cases(draw, average):
    op = "avg_pool2d" if average else "max_pool2d"
    plans = []
    for kernel, stride, padding, ceil_mode in itertools.product((2, 3), (1, 2, 3), (0, 1),
                                                                (False, True)):
        for count_include_pad in ((True, False) if average else (True,)):
            plans.append(dict(kernel=(kernel, kernel), stride=(stride, stride),
                              padding=(padding, padding), ceil_mode=ceil_mode,
                              count_include_pad=count_include_pad))
    plans += [
        # PyTorch drops the last ceil_mode window that would start in the right padding.
        dict(kernel=(2, 2), stride=(3, 3), padding=(1, 1), ceil_mode=True, size=(4, 4)),
        dict(kernel=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True),
        dict(kernel=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=False),
        dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=False, batches=2),
        dict(kernel=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False, act="relu", z=-20),
        dict(kernel=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True, act="relu6",
             z=-100),
    ]
    if average:
        plans += [  # global average pools: the window is the whole input
            dict(kernel=(7, 7), stride=(7, 7), padding=(0, 0), ceil_mode=False, size=(7, 7),
                 name="global"),
            dict(kernel=(4, 5), stride=(1, 1), padding=(0, 0), ceil_mode=False, size=(4, 5),
                 batches=2, name="global"),
            dict(kernel=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=False, size=(1, 1),
                 name="global"),
            dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True,
                 count_include_pad=False, act="relu", z=0),
        ]
    else:
        plans += [  # two four-channel groups and a tail under a clamp narrower than int8
            dict(kernel=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False, size=(4, 6),
                 channels=9, act=(-90, 40)),
        ]
    cases = []
    for index, plan in enumerate(plans):
        plan.setdefault("count_include_pad", True)
        plan.setdefault("batches", 1)
        plan.setdefault("act", "none")
        (kh, kw), (sh, sw), (ph, pw) = plan["kernel"], plan["stride"], plan["padding"]
        if "size" not in plan:
            plan["size"] = (pool_size(draw, kh, sh, ph, plan["ceil_mode"]),
                            pool_size(draw, kw, sw, pw, plan["ceil_mode"]))
        (height, width), n = plan["size"], plan["batches"]
        channels = plan["channels"] if "channels" in plan else draw.pick([1, 2, 3, 5])
        # Scale and zero point pass through a pool: a fused clamp uses the input's z.
        z = plan.get("z", ZERO_POINTS[index % 3])
        z_in = z if average else 0
        x = draw.int8((n, height, width, channels))
        act = plan["act"] if isinstance(plan["act"], tuple) else draw.activation_range(
            plan["act"], z)
        common = dict(kernel=plan["kernel"], stride=plan["stride"], padding=plan["padding"],
                      ceil_mode=plan["ceil_mode"], activation_min=act[0],
                      activation_max=act[1])
        if average:
            y = ref.avg_pool2d(x, **common, count_include_pad=plan["count_include_pad"],
                               input_zero_point=z_in)
        else:
            y = ref.max_pool2d(x, **common)
        fields = {
            "batches": n, "input_height": height, "input_width": width,
            "channels": channels, "filter_height": kh, "filter_width": kw,
            "stride_height": sh, "stride_width": sw, "padding_height": ph,
            "padding_width": pw, "ceil_mode": plan["ceil_mode"],
            "count_include_pad": plan["count_include_pad"], "input_zero_point": z_in,
            "activation_min": act[0], "activation_max": act[1],
        }
        name = (f"{op}_{index:03d}_{plan.get('name', 'window')}_k{kh}x{kw}_s{sh}x{sw}_"
                f"p{ph}x{pw}_{'ceil' if plan['ceil_mode'] else 'floor'}_"
                f"n{n}_{height}x{width}x{channels}_act{zero_point_name(act[0])}_"
                f"{zero_point_name(act[1])}")
        if average:
            name += (f"_{'incpad' if plan['count_include_pad'] else 'excpad'}_"
                     f"zi{zero_point_name(z_in)}")
        arrays = {"input": ("int8_t", x), "expected": ("int8_t", y)}
        cases.append(dict(name=name, type="Pool2dParams", fields=fields, arrays=arrays))
    return cases


def add_cases(draw):
    cases = []
    # (s_a / s_b ratio exponent range) cover a > b, a < b, a == b and far-apart scales.
    scale_plans = [("a_larger", (0, 3)), ("b_larger", (-3, 0)), ("equal", None),
                   ("far", (-12, -8)), ("far", (8, 12))]
    plans = []
    for index in range(15):
        label, ratio_exponents = scale_plans[index % len(scale_plans)]
        plans.append(dict(label=label, ratio=ratio_exponents, z_a=ZERO_POINTS[index % 3],
                          z_b=ZERO_POINTS[(index // 3) % 3],
                          act=ACTIVATIONS[index % len(ACTIVATIONS)],
                          pow2=label == "equal" or index % 3 == 2))
    # Equal scales and a power-of-two M_o, with sums of both signs unclamped: half of all
    # outputs are exact ties.
    for z_a, z_b in ((127, 127), (0, 0), (127, -128)):
        plans.append(dict(label="ties", ratio=None, z_a=z_a, z_b=z_b, act="none", pow2=True,
                          size=33))
    for index, plan in enumerate(plans):
        label, ratio_exponents = plan["label"], plan["ratio"]
        z_a, z_b = plan["z_a"], plan["z_b"]
        s_a = draw.scale(-8, -3)
        s_b = s_a if ratio_exponents is None else s_a * draw.scale(*ratio_exponents)
        size = plan.get("size") or draw.pick([1, 7, 16, 33, 100])
        a, b = draw.int8(size), draw.int8(size)
        # The largest |q - z| of each input (255 when z is -128 or 127).
        a[0], b[0] = (127 if z_a < 0 else -128), (127 if z_b < 0 else -128)
        # The output is quantized as an observer would (spec section 2): the range of the
        # real sum, widened to contain 0, over 255 (times a little slack), and its zero point.
        real = s_a * (a.astype(np.int64) - z_a) + s_b * (b.astype(np.int64) - z_b)
        lo, hi = min(float(real.min()), 0.0), max(float(real.max()), 0.0)
        s_out = max(hi - lo, s_a) / 255 * draw.rng.uniform(0.9, 1.3)
        # With s_out / s_max a power of two, M_o = 2^-k (and M_a = M_b = 1/2 for equal
        # scales), so exact rounding ties are common.
        if plan["pow2"]:
            s_out = math.ldexp(max(s_a, s_b), math.frexp(s_out / max(s_a, s_b))[1])
        z_out = int(np.clip(np.rint(-128 - lo / s_out), -128, 127))
        # A fused ReLU only where the output has a negative part for it to remove.
        activation = plan["act"] if z_out > -128 else "none"
        s_max = max(s_a, s_b)
        m_a, n_a = ref.quantize_multiplier(s_a / (2 * s_max))
        m_b, n_b = ref.quantize_multiplier(s_b / (2 * s_max))
        m_o, n_o = ref.quantize_multiplier(2 * s_max / (2**20 * s_out))
        act = draw.activation_range(activation, z_out)
        y = ref.add(a, b, a_zero_point=z_a, a_multiplier=m_a, a_shift=n_a, b_zero_point=z_b,
                    b_multiplier=m_b, b_shift=n_b, output_multiplier=m_o, output_shift=n_o,
                    output_zero_point=z_out, activation_min=act[0], activation_max=act[1])
        fields = {
            "size": size, "input1_zero_point": z_a, "input1_multiplier": m_a,
            "input1_shift": n_a, "input2_zero_point": z_b, "input2_multiplier": m_b,
            "input2_shift": n_b, "output_multiplier": m_o, "output_shift": n_o,
            "output_zero_point": z_out, "activation_min": act[0], "activation_max": act[1],
        }
        name = (f"add_{index:03d}_{label}_size{size}_za{zero_point_name(z_a)}_"
                f"zb{zero_point_name(z_b)}_zo{zero_point_name(z_out)}_{activation}")
        arrays = {"input1": ("int8_t", a), "input2": ("int8_t", b), "expected": ("int8_t", y)}
        cases.append(dict(name=name, type="AddParams", fields=fields, arrays=arrays))
    return cases


def relu_cases(draw):
    cases = []
    plans = [("none", 0), ("relu", -128), ("relu", 0), ("relu", 127), ("relu", -37),
             ("relu6", -128), ("relu6", 0), ("relu6", 60), ("point", 5)]
    for index, (activation, z) in enumerate(plans):
        size = draw.pick([1, 9, 64, 257])
        x = draw.int8(size)
        x[: min(size, 2)] = [-128, 127][: min(size, 2)]
        act = (z, z) if activation == "point" else draw.activation_range(activation, z)
        y = ref.relu(x, activation_min=act[0], activation_max=act[1])
        fields = {"size": size, "activation_min": act[0], "activation_max": act[1]}
        name = (f"relu_{index:03d}_{activation}_size{size}_"
                f"min{zero_point_name(act[0])}_max{zero_point_name(act[1])}")
        arrays = {"input": ("int8_t", x), "expected": ("int8_t", y)}
        cases.append(dict(name=name, type="ReluParams", fields=fields, arrays=arrays))
    return cases


def requantize_cases(draw):
    cases = []
    int32_edges = [-(2**31), -(2**31) + 1, -1, 0, 1, 2**31 - 2, 2**31 - 1]
    for index in range(14):
        per_channel = index % 2 == 1
        outer, channels = draw.pick([4, 8]), draw.pick([3, 4, 7])  # more than the 7 edges
        z_out, activation = OUTPUTS[index % len(OUTPUTS)]
        count = channels if per_channel else 1
        kind = ("wide", "spread", "ties", "extreme_shift")[index % 4] if index >= 2 else \
            "wide"
        if kind == "extreme_shift":  # the kernels' whole legal range, incl. n = 62
            multipliers = [draw.pick([2**30, 2**31 - 1]) for _ in range(count)]
            shifts = [draw.pick([1, 2, 61, 62]) for _ in range(count)]
        elif kind == "ties":  # M = 2^-j: acc = (2k + 1) * 2^(j-1) is an exact tie
            shifts = [30 + draw.int(1, 20) for _ in range(count)]
            multipliers = [2**30] * count
        else:
            multipliers, shifts = draw.wide_multipliers(count)
        m = np.array(multipliers * (channels // count), np.int64)
        n = np.array(shifts * (channels // count), np.int64)
        if kind == "ties":
            odd = 2 * draw.rng.integers(-40, 40, (outer, channels)) + 1
            acc = odd * (np.int64(1) << (n - 31))
        else:
            # acc * M spread over the output range and a little beyond (odd rows: anywhere
            # in int32 for "wide").
            target = draw.rng.uniform(-148.0 - z_out, 147.0 - z_out, (outer, channels))
            acc = np.clip(np.floor(target * np.ldexp(1.0, n) / m), -(2**31), 2**31 - 1)
            if kind != "spread":
                acc[1::2] = draw.rng.integers(-(2**31), 2**31, acc[1::2].shape)
        acc = acc.astype(np.int64).reshape(-1)
        acc[: len(int32_edges)] = int32_edges[: acc.size]
        acc = acc.reshape(outer, channels).astype(np.int32)
        act = draw.activation_range(activation, z_out)
        y = ref.requantize(acc, multiplier=multipliers, shift=shifts, output_zero_point=z_out,
                           activation_min=act[0], activation_max=act[1])
        requant, arrays = requantize_fields(multipliers, shifts, per_channel, z_out, act)
        fields = {"outer_size": outer, "channels": channels, **requant}
        name = (f"requantize_{index:03d}_{kind}_{outer}x{channels}_"
                f"{'pc' if per_channel else 'pt'}_zo{zero_point_name(z_out)}_{activation}")
        arrays.update(input=("int32_t", acc), expected=("int8_t", y))
        cases.append(dict(name=name, type="RequantizeTensorParams", fields=fields,
                          arrays=arrays))
    return cases


# ---------------------------------------------------------------------------------------
# C++ emission


OPS = [
    # (C++ case struct, table name, array roles in struct order, builder)
    ("LinearCase", "kLinearCases", ("input", "weights", "bias", "expected"), linear_cases),
    ("Conv2dCase", "kConv2dCases", ("input", "filter", "bias", "expected"), conv2d_cases),
    ("DepthwiseConv2dCase", "kDepthwiseConv2dCases", ("input", "filter", "bias", "expected"),
     depthwise_cases),
    ("Pool2dCase", "kMaxPool2dCases", ("input", "expected"),
     lambda draw: pool_cases(draw, average=False)),
    ("Pool2dCase", "kAvgPool2dCases", ("input", "expected"),
     lambda draw: pool_cases(draw, average=True)),
    ("AddCase", "kAddCases", ("input1", "input2", "expected"), add_cases),
    ("ReluCase", "kReluCases", ("input", "expected"), relu_cases),
    ("RequantizeCase", "kRequantizeCases", ("input", "expected"), requantize_cases),
]

STRUCTS = {
    "LinearCase": ("LinearParams", [("int8_t", "input"), ("int8_t", "weights"),
                                    ("int32_t", "bias"), ("int8_t", "expected")]),
    "Conv2dCase": ("Conv2dParams", [("int8_t", "input"), ("int8_t", "filter"),
                                    ("int32_t", "bias"), ("int8_t", "expected")]),
    "DepthwiseConv2dCase": ("DepthwiseConv2dParams", [("int8_t", "input"),
                                                      ("int8_t", "filter"),
                                                      ("int32_t", "bias"),
                                                      ("int8_t", "expected")]),
    "Pool2dCase": ("Pool2dParams", [("int8_t", "input"), ("int8_t", "expected")]),
    "AddCase": ("AddParams", [("int8_t", "input1"), ("int8_t", "input2"),
                              ("int8_t", "expected")]),
    "ReluCase": ("ReluParams", [("int8_t", "input"), ("int8_t", "expected")]),
    "RequantizeCase": ("RequantizeTensorParams", [("int32_t", "input"),
                                                  ("int8_t", "expected")]),
}


def camel(role):
    return "".join(part.capitalize() for part in role.split("_"))


def cxx_int(value):
    value = int(value)
    return "(-2147483647 - 1)" if value == -(2**31) else str(value)


def emit_array(lines, ctype, name, values):
    values = [cxx_int(v) for v in np.asarray(values).reshape(-1)]
    lines.append(f"alignas(16) inline constexpr {ctype} {name}[] = {{")
    row = "   "
    for text in values:
        if len(row) + len(text) + 2 > 96:
            lines.append(row.rstrip())
            row = "   "
        row += f" {text},"
    lines.append(row.rstrip())
    lines.append("};")


def emit_case(lines, case, prefix):
    """The arrays and the params of one case; returns the names the table refers to."""
    names = {}
    for role, (ctype, values) in case["arrays"].items():
        names[role] = f"{prefix}{camel(role)}"
        emit_array(lines, ctype, names[role], values)
    params_name = f"{prefix}Params"
    lines.append(f"inline constexpr {case['type']} {params_name} = [] {{")
    lines.append(f"  {case['type']} p{{}};")
    for field, value in case["fields"].items():
        if isinstance(value, tuple):  # ("array", role)
            text = names[value[1]]
        elif isinstance(value, (bool, np.bool_)):
            text = "true" if value else "false"
        else:
            text = cxx_int(value)
        lines.append(f"  p.{field} = {text};")
    lines.append("  return p;")
    lines.append("}();")
    names["params"] = params_name
    return names


def generate(spec_version):
    draw = Draw(SEED)
    built = [(struct, table, roles, builder(draw)) for struct, table, roles, builder in OPS]

    lines = [
        "// Golden test vectors for every integr8 kernel.",
        "//",
        f"// GENERATED by {GENERATOR} -- do not edit; regenerate with",
        f"//   python3 {GENERATOR}",
        f"// and check that the committed file is current with `{GENERATOR} --check`.",
        "// Source of truth: integr8.reference (python/integr8/reference.py), the NumPy",
        f"// statement of docs/spec.md, integer spec version {spec_version}; cases drawn from",
        f"// Python's random.Random({SEED}).",
        "//",
        "// Each table lists cases of one op: the kernel's params (pointing at the case's",
        "// multipliers and shifts), its operands, and the reference output, which the kernel",
        "// must reproduce exactly (tests/unit/golden_test.cpp).",
        "#ifndef INTEGR8_TESTS_GOLDEN_GOLDEN_VECTORS_H_",
        "#define INTEGR8_TESTS_GOLDEN_GOLDEN_VECTORS_H_",
        "",
        "#include <cstdint>",
        "",
        '#include "integr8/types.h"',
        '#include "integr8/version.h"',
        "",
        f"static_assert(INTEGR8_SPEC_VERSION == {spec_version},",
        f'              "golden vectors were generated for integer spec version {spec_version}; '
        f'regenerate them");',
        "",
        "namespace integr8 {",
        "namespace golden {",
        "",
    ]
    for struct, (params_type, members) in STRUCTS.items():
        lines.append(f"struct {struct} {{")
        lines.append("  const char* name;")
        lines.append(f"  {params_type} params;")
        for ctype, role in members:
            lines.append(f"  const {ctype}* {role};")
            lines.append(f"  int32_t {role}_size;")
        lines.append("};")
        lines.append("")

    for struct, table, roles, cases in built:
        stem = table[1:-len("Cases")]  # kConv2dCases -> Conv2d
        entries = []
        for index, case in enumerate(cases):
            lines.append(f"// {case['name']}")
            names = emit_case(lines, case, f"k{stem}{index:03d}")
            sizes = {role: int(np.asarray(case["arrays"][role][1]).size) for role in roles}
            members = ", ".join(f"{names[role]}, {sizes[role]}" for role in roles)
            entries.append(f'    {{"{case["name"]}",\n     {names["params"]}, {members}}},')
            lines.append("")
        lines.append(f"inline constexpr {struct} {table}[] = {{")
        lines.extend(entries)
        lines.append("};")
        lines.append("")

    lines += [
        "}  // namespace golden",
        "}  // namespace integr8",
        "",
        "#endif  // INTEGR8_TESTS_GOLDEN_GOLDEN_VECTORS_H_",
    ]
    counts = {table: len(cases) for _, table, _, cases in built}
    return "\n".join(lines) + "\n", counts


def write_atomically(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False, encoding="utf-8",
                                         newline="\n")
    try:
        with handle:
            handle.write(text)
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory; exit 1 if the file on disk differs")
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT,
                        help=f"destination (default: {DEFAULT_OUTPUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    text, counts = generate(spec_version_from_header())
    if args.check:
        try:
            current = args.output.read_bytes()
        except FileNotFoundError:
            print(f"{args.output}: missing; run {GENERATOR}", file=sys.stderr)
            return 1
        if current != text.encode("utf-8"):
            print(f"{args.output}: differs from what {GENERATOR} generates; regenerate it",
                  file=sys.stderr)
            return 1
        print(f"{args.output}: up to date")
        return 0
    write_atomically(args.output, text)
    summary = ", ".join(f"{table} {count}" for table, count in counts.items())
    print(f"wrote {args.output} ({len(text.encode('utf-8'))} bytes): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
