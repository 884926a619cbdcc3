"""Type stubs for integr8._core, the pybind11 binding (python/src/core.cpp).

Arrays are never converted: activations and weights must be C-contiguous numpy.int8 arrays,
bias and multiplier/shift arrays numpy.int32; anything else raises TypeError (wrong type or
dtype) or ValueError (ndim, shape, empty, non-contiguous, read-only or overlapping ``out``,
values, or a kernel Status other than kOk, named by integr8::StatusName).
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
spec_version: int
# integr8.spec's constants as the C++ headers state them, by their names in integr8.spec.
spec_constants: Dict[str, int]
headers_sha256: str
backend: str

Int8Array = npt.NDArray[np.int8]
Int32Array = npt.NDArray[np.int32]
Int = Union[int, np.integer]
# A Python int (per tensor) or a 1-D int32 array of 1 or C (channels) entries.
ChannelInts = Union[Int, Int32Array]
Pair = Union[Int, Tuple[Int, Int], Sequence[Int]]

def linear(
    x: Int8Array,
    weights: Int8Array,
    bias: Int32Array,
    *,
    multiplier: ChannelInts,
    shift: ChannelInts,
    output_zero_point: Int,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """int8 x [N, in], int8 weights [out, in], int32 bias [out] -> int8 [N, out]."""

def conv2d(
    x: Int8Array,
    weights: Int8Array,
    bias: Int32Array,
    *,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: Int = 1,
    input_zero_point: Int,
    multiplier: ChannelInts,
    shift: ChannelInts,
    output_zero_point: Int,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """int8 x NHWC, int8 weights OHWI [Cout, kh, kw, Cin / groups], int32 bias [Cout]."""

def depthwise_conv2d(
    x: Int8Array,
    weights: Int8Array,
    bias: Int32Array,
    *,
    depth_multiplier: Int = 1,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    input_zero_point: Int,
    multiplier: ChannelInts,
    shift: ChannelInts,
    output_zero_point: Int,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """int8 x NHWC, int8 weights 1HWC [1, kh, kw, C * depth_multiplier], int32 bias."""

def max_pool2d(
    x: Int8Array,
    *,
    kernel: Pair,
    stride: Pair,
    padding: Pair = (0, 0),
    ceil_mode: bool = False,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """Max pool on raw int8 NHWC values."""

def avg_pool2d(
    x: Int8Array,
    *,
    kernel: Pair,
    stride: Pair,
    padding: Pair = (0, 0),
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    input_zero_point: Int = 0,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """Average pool on raw int8 NHWC values, rounding half away from zero."""

def add(
    a: Int8Array,
    b: Int8Array,
    *,
    a_zero_point: Int,
    a_multiplier: Int,
    a_shift: Int,
    b_zero_point: Int,
    b_multiplier: Int,
    b_shift: Int,
    output_multiplier: Int,
    output_shift: Int,
    output_zero_point: Int,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """Residual add of two int8 tensors of one shape; out may be exactly a or b."""

def relu(
    x: Int8Array,
    *,
    activation_min: Int,
    activation_max: Int,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """Clamp raw int8 values to [activation_min, activation_max]; out may be exactly x."""

def requantize(
    acc: Int32Array,
    *,
    multiplier: ChannelInts,
    shift: ChannelInts,
    output_zero_point: Int,
    activation_min: Int = -128,
    activation_max: Int = 127,
    out: Optional[Int8Array] = None,
) -> Int8Array:
    """int32 acc [..., channels] -> int8 of the same shape."""

class BarsModel:
    """The bundled bars example model (examples/host/bars_model.h): 6x6x1 -> 2 logits.

    Every model class (BindModel; integr8.build() modules call theirs ``Model``) has this API.
    """

    def __init__(self) -> None: ...
    def run(self, batch: Int8Array, *, threads: Optional[Int] = None) -> Int8Array:
        """int8 [N, H, W, C] or [N, H*W*C] -> int8 [N, output_elements].

        The batch is split into ``threads`` contiguous chunks (default: hardware concurrency;
        at most 256 and at most N are used), each run with its own arena and the GIL
        released; results do not depend on threads.
        """
    @property
    def input_shape(self) -> Tuple[int, int, int]: ...
    @property
    def input_elements(self) -> int: ...
    @property
    def output_elements(self) -> int: ...
    @property
    def input_zero_point(self) -> int: ...
    @property
    def output_zero_point(self) -> int: ...
    @property
    def arena_bytes(self) -> int: ...

class MnistMlp:
    """The bundled reference MNIST MLP (python/integr8/bundled/mnist_mlp.h, generated by
    tools/bundle_mnist_models.py): int8 28x28x1 (q = pixel - 128) -> 10 int8 logits.
    Same API as BarsModel.
    """

    def __init__(self) -> None: ...
    def run(self, batch: Int8Array, *, threads: Optional[Int] = None) -> Int8Array:
        """int8 [N, 28, 28, 1] or [N, 784] -> int8 [N, 10] (see BarsModel.run)."""
    @property
    def input_shape(self) -> Tuple[int, int, int]: ...
    @property
    def input_elements(self) -> int: ...
    @property
    def output_elements(self) -> int: ...
    @property
    def input_zero_point(self) -> int: ...
    @property
    def output_zero_point(self) -> int: ...
    @property
    def arena_bytes(self) -> int: ...

class MnistConvNet:
    """The bundled reference MNIST ConvNet (python/integr8/bundled/mnist_convnet.h, generated by
    tools/bundle_mnist_models.py): int8 28x28x1 (q = pixel - 128) -> 10 int8 logits.
    Same API as BarsModel.
    """

    def __init__(self) -> None: ...
    def run(self, batch: Int8Array, *, threads: Optional[Int] = None) -> Int8Array:
        """int8 [N, 28, 28, 1] or [N, 784] -> int8 [N, 10] (see BarsModel.run)."""
    @property
    def input_shape(self) -> Tuple[int, int, int]: ...
    @property
    def input_elements(self) -> int: ...
    @property
    def output_elements(self) -> int: ...
    @property
    def input_zero_point(self) -> int: ...
    @property
    def output_zero_point(self) -> int: ...
    @property
    def arena_bytes(self) -> int: ...
