"""Boundaries of the pybind11 binding (integr8._core): every malformed array or scalar is a
TypeError or ValueError whose message names the call, the argument and what was wrong, and
no size, however large, is allocated or indexed before it is checked.

Extends test_binding.py (fixed cases per kernel) with property tests over arbitrary arrays
(dtype, shape, 0-d, empty, strided, Fortran-ordered, read-only, misaligned, offset views) for
the bundled model's run() and for the kernels, thread counts, and sizes whose element or
byte count exceeds what the kernels' int32 indexing holds (sparse memory maps, so nothing is
really allocated). Hypothesis runs derandomized with a fixed example budget.
"""

from __future__ import annotations

import resource

import numpy as np
import pytest

core = pytest.importorskip(
    "integr8._core",
    reason="integr8._core is not built: run `pip install .` from the repository root")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPERTY = settings(max_examples=80, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
INT32_MAX = 2**31 - 1

DTYPES = ["int8", "uint8", "int16", ">i2", "int32", "<i4", ">i4", "int64", "uint64", "float16",
          "float32", "float64", "complex64", "bool", "S1", "U1", "M8[D]", "object"]
LAYOUTS = ["plain", "read_only", "fortran", "reversed", "every_other", "offset_view",
           "transposed_copy"]


def _make_array(rng, shape, dtype, layout):
    """An array of `shape` and `dtype` in the given memory layout."""
    values = rng.integers(-128, 128, size=shape)
    if dtype == "object":
        array = values.astype(object)
    elif dtype.startswith("M8"):
        array = values.astype("int64").astype(dtype)
    else:
        array = values.astype(dtype)
    if layout == "read_only":
        array.flags.writeable = False
    elif layout == "fortran":
        array = np.asfortranarray(array)
    elif layout == "reversed" and array.ndim:
        array = array[::-1]
    elif layout == "every_other" and array.ndim:
        array = np.repeat(array, 2, axis=-1)[..., ::2]
    elif layout == "offset_view" and array.ndim and array.shape[0] > 0:
        # Contiguous, but starting inside a larger buffer.
        big = np.concatenate([array[:1], array])
        array = big[1:]
    elif layout == "transposed_copy" and array.ndim > 1:
        array = np.ascontiguousarray(np.swapaxes(np.swapaxes(array, 0, -1), 0, -1))
    return array


def _problems(array, shapes, op, name):
    """Every (exception type, message fragments) the binding may raise for `array` as
    argument `name` of `op`, given the shapes it accepts; [] when the array is valid."""
    problems = []
    if not isinstance(array, np.ndarray):
        return [(TypeError, [f"{op}: {name} must be a numpy.ndarray of dtype int8, got an "
                             f"object of type {type(array).__name__}"])]
    if array.dtype != np.dtype(np.int8):
        problems.append((TypeError, [f"{op}: {name} must have dtype int8, got dtype "
                                     f"{array.dtype}", "never casts"]))
    if not array.flags.c_contiguous:
        problems.append((ValueError, [f"{op}: {name} must be C-contiguous, got a strided view "
                                      f"of shape {array.shape}"]))
    if not any(len(array.shape) == len(shape) and all(
            want is None or want == got for want, got in zip(shape, array.shape))
            for shape in shapes):
        problems.append((ValueError, [f"{op}: {name} must have shape", f"got shape "
                                                                       f"{array.shape}"]))
    elif array.shape[0] < 1:
        problems.append((ValueError, [f"{op}: {name} is empty (shape {array.shape})"]))
    return problems


def _assert_one_of(error, problems):
    message = str(error.value)
    assert any(isinstance(error.value, kind) and all(fragment in message
                                                     for fragment in fragments)
               for kind, fragments in problems), (message, problems)


# ---------------------------------------------------------------------------------------
# Model.run on arbitrary arrays

MODEL_SHAPES = [(None, 28, 28, 1), (None, 784)]
LEADING = st.sampled_from([0, 1, 2, 3, 7])
TAILS = st.sampled_from([(28, 28, 1), (784,), (28, 28), (1, 28, 28), (28, 28, 2), (783,),
                         (785,), (28, 28, 1, 1), (14, 56, 1), (), (0,), (784, 1)])


@st.composite
def batches(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, 3, [[0] * 784], b"\0" * 784, memoryview(b"\0" * 784),
                                     "batch"]))
    if draw(st.booleans()):
        shape = (draw(LEADING),) + draw(TAILS)
    else:
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=5)))
    dtype = draw(st.sampled_from(["int8"] * 6 + DTYPES))
    return _make_array(rng, shape, dtype, draw(st.sampled_from(LAYOUTS)))


@pytest.fixture(scope="module")
def mlp():
    return core.MnistMlp()


@PROPERTY
@given(batch=batches(), threads=st.sampled_from([None, 1, 2, 3, 64, 10**6]))
def test_model_run_accepts_exactly_valid_batches(mlp, batch, threads):
    problems = _problems(batch, MODEL_SHAPES, "MnistMlp.run", "batch")
    if problems:
        with pytest.raises((TypeError, ValueError)) as error:
            mlp.run(batch, threads=threads)
        _assert_one_of(error, problems)
        return
    result = mlp.run(batch, threads=threads)
    assert result.dtype == np.int8 and result.shape == (batch.shape[0], 10)
    assert result.flags.c_contiguous and result.flags.writeable
    # The same samples copied into a fresh, writable, 2-D array, one thread: equal.
    expected = mlp.run(np.array(batch, copy=True).reshape(batch.shape[0], 784), threads=1)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("threads, error, fragment", [
    (0, ValueError, "threads = 0 is < 1"),
    (-1, ValueError, "threads = -1 is < 1"),
    (-2**31, ValueError, "threads = -2147483648 is < 1"),
    (2**31, ValueError, "threads = 2147483648 is outside int32"),
    (2**100, ValueError, f"threads = {2**100} is outside int32"),
    (1.0, TypeError, "threads must be an int, got an object of type float"),
    ("2", TypeError, "threads must be an int, got an object of type str"),
    (True, TypeError, "threads must be an int, got an object of type bool"),
    (np.float64(2), TypeError, "threads must be an int"),
    (np.array(2), TypeError, "threads must be an int, got an array of dtype int64"),
])
def test_model_run_refuses_bad_thread_counts(mlp, threads, error, fragment):
    with pytest.raises(error) as raised:
        mlp.run(np.zeros((2, 784), np.int8), threads=threads)
    assert str(raised.value).startswith("MnistMlp.run: ") and fragment in str(raised.value)


@PROPERTY
@given(samples=st.integers(1, 64), threads=st.one_of(st.integers(1, 300),
                                                      st.sampled_from([10**4, INT32_MAX])),
       seed=st.integers(0, 2**32 - 1))
def test_model_results_do_not_depend_on_thread_count(mlp, samples, threads, seed):
    batch = np.random.default_rng(seed).integers(-128, 128, (samples, 784), dtype=np.int8)
    np.testing.assert_array_equal(mlp.run(batch, threads=threads), mlp.run(batch, threads=1))


def test_many_more_threads_than_cores_is_bounded(mlp):
    """threads=N for a large N runs (at most 256 workers, each with its own arena) and gives
    the single-threaded result."""
    batch = np.random.default_rng(1).integers(-128, 128, (3000, 784), dtype=np.int8)
    np.testing.assert_array_equal(mlp.run(batch, threads=3000), mlp.run(batch, threads=1))


def test_model_run_reads_a_read_only_memory_map(mlp, tmp_path):
    path = tmp_path / "batch.bin"
    batch = np.random.default_rng(2).integers(-128, 128, (50, 784), dtype=np.int8)
    batch.tofile(path)
    mapped = np.memmap(path, dtype=np.int8, mode="r", shape=(50, 28, 28, 1))
    assert not mapped.flags.writeable
    np.testing.assert_array_equal(mlp.run(mapped), mlp.run(batch))


# ---------------------------------------------------------------------------------------
# Kernels on arbitrary arrays

REQUANT = {"multiplier": 2**30, "shift": 36, "output_zero_point": 0}
ADD = {"a_zero_point": 0, "a_multiplier": 2**30, "a_shift": 31, "b_zero_point": 0,
       "b_multiplier": 2**30, "b_shift": 31, "output_multiplier": 2**30, "output_shift": 40,
       "output_zero_point": 0}


def _kernel_calls(rng):
    """op -> (function, {argument: valid array}, keywords, accepted shapes per argument)."""
    def int8(*shape):
        return rng.integers(-128, 128, shape, dtype=np.int8)

    def weights(*shape):
        return rng.integers(-127, 128, shape, dtype=np.int8)

    return {
        "linear": (core.linear, {"x": int8(2, 6), "weights": weights(3, 6),
                                 "bias": np.arange(3, dtype=np.int32)}, REQUANT),
        "conv2d": (core.conv2d, {"x": int8(2, 5, 5, 2), "weights": weights(4, 3, 3, 2),
                                 "bias": np.arange(4, dtype=np.int32)},
                   {**REQUANT, "input_zero_point": 0, "padding": 1}),
        "depthwise_conv2d": (core.depthwise_conv2d,
                             {"x": int8(2, 5, 5, 2), "weights": weights(1, 3, 3, 4),
                              "bias": np.arange(4, dtype=np.int32)},
                             {**REQUANT, "input_zero_point": 0, "depth_multiplier": 2}),
        "max_pool2d": (core.max_pool2d, {"x": int8(2, 4, 4, 3)}, {"kernel": 2, "stride": 2}),
        "avg_pool2d": (core.avg_pool2d, {"x": int8(2, 4, 4, 3)}, {"kernel": 2, "stride": 2}),
        "add": (core.add, {"a": int8(2, 3, 4), "b": int8(2, 3, 4)}, ADD),
        "relu": (core.relu, {"x": int8(2, 3, 4)}, {"activation_min": -10,
                                                    "activation_max": 100}),
        "requantize": (core.requantize,
                       {"acc": rng.integers(-2**20, 2**20, (2, 3, 4)).astype(np.int32)},
                       REQUANT),
    }


MUTATIONS = ["dtype", "zero_d", "empty_axis", "extra_axis", "missing_axis", "every_other",
             "fortran", "reversed", "misaligned", "byteswapped", "read_only", "offset_view",
             "list", "none", "scalar"]


def _mutate(rng, array, mutation, dtype):
    if mutation == "dtype":
        return array.astype(dtype)
    if mutation == "zero_d":
        return np.array(array.flat[0])
    if mutation == "empty_axis":
        axis = int(rng.integers(array.ndim))
        return np.take(array, [], axis=axis)
    if mutation == "extra_axis":
        return array[None]
    if mutation == "missing_axis":
        return array[0] if array.ndim > 1 else array[:1].reshape(())
    if mutation == "every_other":
        return np.repeat(array, 2, axis=-1)[..., ::2]
    if mutation == "fortran":
        return np.asfortranarray(array)
    if mutation == "reversed":
        return array[::-1]
    if mutation == "misaligned":
        raw = np.zeros(array.nbytes + 1, np.uint8)
        view = raw[1:].view(array.dtype).reshape(array.shape)
        view[...] = array
        return view
    if mutation == "byteswapped":
        return array.astype(array.dtype.newbyteorder())
    if mutation == "read_only":
        copy = array.copy()
        copy.flags.writeable = False
        return copy
    if mutation == "offset_view":
        return np.concatenate([array.reshape(-1)[:1], array.reshape(-1)])[1:].reshape(
            array.shape)
    if mutation == "list":
        return array.tolist()
    if mutation == "none":
        return None
    return int(array.flat[0])  # "scalar"


@settings(PROPERTY, max_examples=250)
@given(op=st.sampled_from(sorted(_kernel_calls(np.random.default_rng(0)))),
       argument=st.integers(0, 2), mutation=st.sampled_from(MUTATIONS),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_kernel_arrays_are_checked_by_name(op, argument, mutation, dtype, seed):
    rng = np.random.default_rng(seed)
    function, arrays, keywords = _kernel_calls(rng)[op]
    name = list(arrays)[argument % len(arrays)]
    valid = arrays[name]
    bad = _mutate(rng, valid, mutation, dtype)
    baseline = function(*arrays.values(), **keywords)
    call = f"integr8.{op}: "

    same_layout = (isinstance(bad, np.ndarray) and bad.dtype == valid.dtype
                   and bad.shape == valid.shape and bad.flags.c_contiguous
                   and bad.flags.aligned)
    if same_layout:
        # Read-only inputs, offset views, aligned copies: accepted, same result.
        result = function(*{**arrays, name: bad}.values(), **keywords)
        np.testing.assert_array_equal(result, baseline)
        return
    if (op in ("relu", "requantize") and isinstance(bad, np.ndarray)
            and bad.dtype == valid.dtype and bad.flags.c_contiguous and bad.flags.aligned
            and bad.ndim >= 1 and bad.size >= 1):
        # One-input element-wise ops take any non-empty shape with at least one axis.
        result = function(*{**arrays, name: bad}.values(), **keywords)
        assert result.shape == bad.shape
        return
    with pytest.raises((TypeError, ValueError)) as error:
        function(*{**arrays, name: bad}.values(), **keywords)
    message = str(error.value)
    assert message.startswith(call), message
    wanted = str(valid.dtype)
    if not isinstance(bad, np.ndarray):
        assert isinstance(error.value, TypeError)
        assert f"{name} must be a numpy.ndarray of dtype {wanted}, got an object of type " \
               f"{type(bad).__name__}" in message
    elif bad.dtype != valid.dtype:
        assert isinstance(error.value, TypeError)
        assert f"{name} must have dtype {wanted}, got dtype {bad.dtype}" in message
    elif not bad.flags.c_contiguous:
        assert f"{name} must be C-contiguous" in message
    elif not bad.flags.aligned:
        assert f"{name} must be aligned" in message
    else:  # a shape problem: named, with the shape given
        assert isinstance(error.value, ValueError)
        shape_text = str(bad.shape)
        assert name in message and (shape_text in message or "0-d" in message), message


@pytest.mark.parametrize("op, name", [("linear", "bias"), ("conv2d", "bias"),
                                      ("depthwise_conv2d", "bias"), ("requantize", "acc")])
def test_misaligned_int32_arrays_are_refused(op, name):
    function, arrays, keywords = _kernel_calls(np.random.default_rng(5))[op]
    bad = _mutate(None, arrays[name], "misaligned", None)
    assert bad.flags.c_contiguous and not bad.flags.aligned
    with pytest.raises(ValueError) as error:
        function(*{**arrays, name: bad}.values(), **keywords)
    assert str(error.value) == f"integr8.{op}: {name} must be aligned to its element size"
    # A per-channel multiplier array is checked the same way.
    channels = function(*arrays.values(), **keywords).shape[-1]
    multiplier = _mutate(None, np.full(channels, 2**30, np.int32), "misaligned", None)
    with pytest.raises(ValueError) as error:
        function(*arrays.values(), **{**keywords, "multiplier": multiplier})
    assert str(error.value) == f"integr8.{op}: multiplier must be aligned to its element size"


SCALAR_OVERFLOWS = [2**31, -2**31 - 1, 2**63, 2**64, -2**100, np.uint64(2**64 - 1),
                    np.int64(-2**63)]


@pytest.mark.parametrize("value", SCALAR_OVERFLOWS, ids=str)
@pytest.mark.parametrize("op, keyword", [("linear", "multiplier"), ("linear", "shift"),
                                         ("linear", "output_zero_point"),
                                         ("conv2d", "groups"), ("conv2d", "stride"),
                                         ("max_pool2d", "kernel"), ("add", "b_multiplier"),
                                         ("relu", "activation_min")])
def test_scalars_beyond_int32_are_refused_by_name(op, keyword, value):
    function, arrays, keywords = _kernel_calls(np.random.default_rng(3))[op]
    with pytest.raises(ValueError) as error:
        function(*arrays.values(), **{**keywords, keyword: value})
    assert str(error.value) == (f"integr8.{op}: {keyword} = {value!r} is outside int32 "
                                "[-2147483648, 2147483647]")


# ---------------------------------------------------------------------------------------
# Sizes beyond int32: refused before any allocation or access


def _max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """A 9 GiB sparse file mapped read-only: arrays of more than INT32_MAX elements that
    occupy neither memory nor disk."""
    path = tmp_path_factory.mktemp("sparse") / "zeros.bin"
    size = 9 * 2**30
    try:
        with open(path, "wb") as stream:
            stream.truncate(size)
        mapped = np.memmap(path, dtype=np.uint8, mode="r", shape=(size,))
    except (OSError, ValueError, OverflowError) as error:  # no sparse files or address space
        pytest.skip(f"cannot map a sparse 9 GiB file: {error}")
    yield mapped
    del mapped
    path.unlink()


def _view(sparse, dtype, shape):
    count = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return sparse[:count].view(dtype).reshape(shape)


@pytest.mark.parametrize("op, name, dtype, shape", [
    ("relu", "x", np.int8, (2**31,)),
    ("relu", "x", np.int8, (2**16, 2**15 + 1)),
    ("add", "a", np.int8, (2**31 + 7,)),
    ("requantize", "acc", np.int32, (2**31 + 1,)),
    ("requantize", "acc", np.int32, (2**15, 2**16 + 3)),
    ("linear", "x", np.int8, (2**25, 2**6 + 1)),
    ("max_pool2d", "x", np.int8, (1, 2**16, 2**15, 1)),
    ("avg_pool2d", "x", np.int8, (2, 2**15, 2**15, 1)),
    ("conv2d", "x", np.int8, (2**15, 2**8, 2**8, 2)),
])
def test_arrays_beyond_int32_elements_are_refused(sparse, op, name, dtype, shape):
    rng = np.random.default_rng(4)
    function, arrays, keywords = _kernel_calls(rng)[op]
    big = _view(sparse, dtype, shape)
    if op == "linear":
        arrays = {**arrays, "weights": np.ones((3, shape[1]), np.int8)}
    if op == "conv2d":
        arrays = {**arrays, "weights": np.ones((4, 3, 3, shape[3]), np.int8)}
    if op == "add":
        arrays = {"a": big, "b": big}
    before = _max_rss_mib()
    with pytest.raises(ValueError) as error:
        function(*{**arrays, name: big}.values(), **keywords)
    elements = int(np.prod(shape, dtype=np.int64))
    assert str(error.value) == (f"integr8.{op}: {name} holds {elements} elements, more than "
                                "INT32_MAX that the kernels index")
    assert _max_rss_mib() - before < 64  # nothing was read or allocated


@pytest.mark.parametrize("op, arrays, keywords", [
    # out = batches x output features: 2^32 elements from 128 KiB of input.
    ("linear", {"x": np.zeros((2**16, 1), np.int8), "weights": np.ones((2**16, 1), np.int8),
                "bias": np.zeros(2**16, np.int32)}, REQUANT),
    ("conv2d", {"x": np.zeros((1, 2**16, 1, 1), np.int8),
                "weights": np.ones((2**16, 1, 1, 1), np.int8),
                "bias": np.zeros(2**16, np.int32)}, {**REQUANT, "input_zero_point": 0}),
    ("conv2d", {"x": np.zeros((1, 1, 1, 1), np.int8), "weights": np.ones((1, 1, 1, 1), np.int8),
                "bias": np.zeros(1, np.int32)},
     {**REQUANT, "input_zero_point": 0, "padding": 2**30}),
    ("depthwise_conv2d", {"x": np.zeros((1, 2**12, 2**12, 1), np.int8),
                          "weights": np.ones((1, 1, 1, 256), np.int8),
                          "bias": np.zeros(256, np.int32)},
     {**REQUANT, "input_zero_point": 0, "depth_multiplier": 256}),
    ("avg_pool2d", {"x": np.zeros((1, 4, 4, 1), np.int8)},
     {"kernel": INT32_MAX, "stride": 1, "padding": 2**30}),
])
def test_outputs_beyond_int32_elements_are_refused_before_allocating(op, arrays, keywords):
    function = getattr(core, op)
    before = _max_rss_mib()
    with pytest.raises(ValueError) as error:
        function(*arrays.values(), **keywords)
    message = str(error.value)
    assert message.startswith(f"integr8.{op}: ")
    assert "kBadShape" in message or "kBadPadding" in message, message
    assert _max_rss_mib() - before < 64  # no 4 GiB output was allocated
