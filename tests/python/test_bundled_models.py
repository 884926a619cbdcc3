"""The reference MNIST models bundled in integr8._core (integr8.MnistMlp, MnistConvNet).

python/integr8/bundled holds each model's checkpoint (state_dict) and the header exported from
it; tools/bundle_mnist_models.py regenerates both, and `pip install .` compiles the headers into
_core. With MNIST installed (`python3 -m integr8 data install-mnist`):

- recalibrating the bundled checkpoint exactly as the demo does (default observer, first 1000
  training images, input scale 1/255 and zero point -128) re-exports the committed header
  byte for byte;
- the bundled model's run() on 256 test images equals integr8.interpreter.run of that graph and
  is more than 95% accurate.

Without MNIST: random int8 batches through the bundled model equal the module integr8.build()
compiles from the committed header (an independent compile path).
"""

from __future__ import annotations

import pathlib
import shlex

import numpy as np
import pytest

core = pytest.importorskip(
    "integr8._core",
    reason="integr8._core is not built: run `pip install .` from the repository root")

import integr8  # noqa: E402
from integr8 import cli, data, interpreter  # noqa: E402
from integr8.calibrate import DEFAULT_OBSERVER, quantize_input  # noqa: E402
from integr8.export import render_header  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
BUNDLED = REPO / "python" / "integr8" / "bundled"
COMMAND = shlex.join(["python3", "tools/bundle_mnist_models.py"])
CALIBRATION_SAMPLES = 1000
TEST_SAMPLES = 256
# model name (integr8.models) -> class in integr8._core
MODELS = {"mlp": "MnistMlp", "convnet": "MnistConvNet"}


def bundled_paths(name: str) -> tuple[pathlib.Path, pathlib.Path]:
    return BUNDLED / f"mnist_{name}.pt", BUNDLED / f"mnist_{name}.h"


def load_mnist(split: str):
    try:
        return data.load_dataset("mnist", split)
    except data.DatasetNotFoundError:
        pytest.skip("MNIST is not installed (python3 -m integr8 data install-mnist)")


@pytest.fixture(scope="module")
def mnist():
    train_images, _ = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    return train_images, test_images[:TEST_SAMPLES], test_labels[:TEST_SAMPLES]


@pytest.fixture(scope="module")
def graphs(mnist):
    """name -> QuantizedGraph re-derived from the bundled checkpoint as the demo calibrates."""
    pytest.importorskip("torch")
    from integr8.train import load_checkpoint, make_model

    train_images = mnist[0]
    result = {}
    for name in MODELS:
        checkpoint, _ = bundled_paths(name)
        model = load_checkpoint(make_model(name), checkpoint).eval()
        result[name] = cli._calibrate(model, train_images[:CALIBRATION_SAMPLES],
                                      name=f"mnist_{name}", observer=DEFAULT_OBSERVER)
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """name -> the module integr8.build() compiles from the committed header (fresh cache)."""
    directory = tmp_path_factory.mktemp("integr8-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INTEGR8_CACHE_DIR", str(directory))
        yield {name: integr8.build(bundled_paths(name)[1], name=f"mnist_{name}")
               for name in MODELS}


def test_exports():
    assert integr8.MnistMlp is core.MnistMlp
    assert integr8.MnistConvNet is core.MnistConvNet
    for name, class_name in MODELS.items():
        checkpoint, header = bundled_paths(name)
        assert checkpoint.is_file() and header.is_file()
        model = getattr(integr8, class_name)()
        assert model.input_shape == (28, 28, 1)
        assert model.input_elements == 784
        assert model.output_elements == 10
        assert model.input_zero_point == -128
        assert class_name in repr(model)


@pytest.mark.parametrize("name", MODELS)
def test_header_reexports_byte_for_byte(name, graphs):
    checkpoint, header = bundled_paths(name)
    text = render_header(graphs[name], command=COMMAND,
                         checkpoint_sha256=cli._sha256(checkpoint))
    assert text.encode("ascii") == header.read_bytes(), (
        f"{header} is not what its checkpoint calibrates to: run "
        "tools/bundle_mnist_models.py")


@pytest.mark.parametrize("name", MODELS)
def test_bundled_model_equals_reference_on_mnist(name, mnist, graphs):
    from integr8.train import pixels_to_input

    _, images, labels = mnist
    graph = graphs[name]
    q = quantize_input(pixels_to_input(images), graph)
    q = np.ascontiguousarray(q.reshape(len(images), *graph.input_shape.as_tuple()))
    # The fixed input quantization makes the int8 input exactly pixel - 128.
    np.testing.assert_array_equal(q[..., 0], images.astype(np.int16) - 128)
    model = getattr(integr8, MODELS[name])()
    out = model.run(q)
    expected = interpreter.run(graph, q)
    assert out.dtype == np.int8 and out.shape == (TEST_SAMPLES, 10)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(model.run(q, threads=1), out)
    accuracy = float(np.mean(out.astype(np.int32).argmax(axis=1) == labels))
    assert accuracy > 0.95, f"{name}: int8 accuracy {accuracy:.4f} on {TEST_SAMPLES} images"


@pytest.mark.parametrize("name", MODELS)
def test_bundled_model_equals_reference_on_random_input(name, graphs):
    batch = np.random.default_rng(5).integers(-128, 128, (37, 28, 28, 1), dtype=np.int8)
    out = getattr(integr8, MODELS[name])().run(batch)
    np.testing.assert_array_equal(out, interpreter.run(graphs[name], batch))


@pytest.mark.parametrize("name", MODELS)
def test_bundled_model_equals_built_header(name, built):
    """Needs no MNIST: the committed header compiled by integr8.build() is the oracle."""
    bundled = getattr(integr8, MODELS[name])()
    module = built[name].Model()
    for attribute in ("input_shape", "input_elements", "output_elements", "input_zero_point",
                      "output_zero_point", "arena_bytes"):
        assert getattr(module, attribute) == getattr(bundled, attribute)
    rng = np.random.default_rng(11)
    for count in (1, 7, 64):
        batch = rng.integers(-128, 128, (count, 28, 28, 1), dtype=np.int8)
        expected = module.run(batch)
        np.testing.assert_array_equal(bundled.run(batch), expected)
        np.testing.assert_array_equal(bundled.run(batch.reshape(count, -1), threads=3), expected)
