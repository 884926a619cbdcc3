"""Tests of integr8.models and integr8.train on small synthetic data (no dataset needed)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from integr8.models import (
    ACTIVATION_BUDGET_BYTES,
    MODELS,
    WEIGHT_BUDGET_BYTES,
    MnistConvNet,
    MnistMlp,
    footprint,
)
from integr8.train import (
    INPUT_SCALE,
    INPUT_ZERO_POINT,
    TrainConfig,
    evaluate,
    load_checkpoint,
    make_model,
    pixels_to_input,
    save_checkpoint,
    train,
)

SHORT = TrainConfig(epochs=1, batch_size=32, learning_rate=1e-2, seed=7)


def bright_patch_digits(count: int, seed: int = 0):
    """Noise images where class k lights a 7x7 patch at one of ten places: learnable in seconds."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    images = rng.integers(0, 60, (count, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        row, column = divmod(int(label), 5)
        image[3 + 12 * row : 10 + 12 * row, 1 + 5 * column : 8 + 5 * column] = 255
    return images, labels


def assert_same_state(first: dict, second: dict):
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


# ---------------------------------------------------------------------------------------
# Input normalization: the fixed affine map the exporter's input quantization relies on


def test_pixels_to_input_is_pixel_over_255_and_quantizes_to_pixel_minus_128():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    inputs = pixels_to_input(pixels)
    assert inputs.shape == (1, 1, 16, 16) and inputs.dtype == torch.float32
    assert inputs.min() == 0.0 and inputs.max() == 1.0

    # Model-input quantization of spec section 2, in float64 as the exporter does it.
    real = inputs.double().numpy().ravel()
    quantized = np.clip(np.round(real / INPUT_SCALE) + INPUT_ZERO_POINT, -128, 127)
    np.testing.assert_array_equal(quantized, np.arange(256) - 128)


def test_pixels_to_input_rejects_non_uint8():
    with pytest.raises(ValueError, match="expected uint8 images"):
        pixels_to_input(np.zeros((2, 28, 28), np.float32))


# ---------------------------------------------------------------------------------------
# Determinism


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_twice_gives_identical_state_dicts(name):
    images, labels = bright_patch_digits(256)
    first = train(make_model(name, seed=3), images, labels, SHORT, progress=False)
    second = train(make_model(name, seed=3), images, labels, SHORT, progress=False)
    assert_same_state(first.state_dict(), second.state_dict())

    reshuffled = train(make_model(name, seed=3), images, labels, replace(SHORT, seed=8),
                       progress=False)
    assert not all(torch.equal(a, b) for a, b in
                   zip(first.state_dict().values(), reshuffled.state_dict().values()))


def test_make_model_is_seeded_and_leaves_global_rng_alone():
    rng_before = torch.random.get_rng_state()
    assert_same_state(make_model("convnet", 5).state_dict(), make_model("convnet", 5).state_dict())
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        make_model("resnet")


def test_train_restores_thread_count_and_determinism_flag():
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    images, labels = bright_patch_digits(64)
    train(make_model("mlp"), images, labels, TrainConfig(epochs=1, threads=1), progress=False)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_training_learns_and_evaluate_restores_mode():
    images, labels = bright_patch_digits(1000)
    test_images, test_labels = bright_patch_digits(500, seed=1)
    model = make_model("mlp")
    assert evaluate(model, test_images, test_labels) < 0.5
    train(model, images, labels, TrainConfig(epochs=3, batch_size=50), progress=False)
    assert model.training
    assert evaluate(model, test_images, test_labels, batch_size=128) > 0.95
    assert model.training


# ---------------------------------------------------------------------------------------
# Checkpoints


@pytest.mark.parametrize("name", sorted(MODELS))
def test_checkpoint_round_trip(tmp_path, name):
    images, labels = bright_patch_digits(64)
    model = train(make_model(name), images, labels, SHORT, progress=False).eval()
    path = tmp_path / f"{name}.pt"
    save_checkpoint(model, path)

    assert isinstance(torch.load(path, weights_only=True), dict)  # a plain state_dict
    restored = load_checkpoint(make_model(name, seed=99), path).eval()
    assert_same_state(model.state_dict(), restored.state_dict())
    sample = pixels_to_input(images[:8])
    assert torch.equal(model(sample), restored(sample))


def test_checkpoint_of_other_model_is_refused(tmp_path):
    path = tmp_path / "mlp.pt"
    save_checkpoint(MnistMlp(), path)
    with pytest.raises(ValueError, match="not a state_dict of MnistConvNet") as raised:
        load_checkpoint(MnistConvNet(), path)
    assert str(path) in str(raised.value)


def test_checkpoint_with_mismatched_shape_is_refused(tmp_path):
    state = MnistMlp().state_dict()
    state["1.weight"] = torch.zeros(128, 100)
    path = tmp_path / "resized.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match="size mismatch"):
        load_checkpoint(MnistMlp(), path)


@pytest.mark.parametrize(
    "content, message",
    [
        (lambda path: torch.save(MnistMlp(), path), "not a weights-only checkpoint"),
        (lambda path: path.write_bytes(b"not a checkpoint"), "not a weights-only checkpoint"),
        (lambda path: torch.save(torch.zeros(3), path), "holds a Tensor"),
        (lambda path: torch.save({"1.weight": [1, 2]}, path), "not a state_dict mapping"),
    ],
    ids=["pickled-module", "garbage", "tensor", "non-tensor-values"],
)
def test_non_state_dict_checkpoint_is_refused(tmp_path, content, message):
    path = tmp_path / "checkpoint.pt"
    content(path)
    with pytest.raises(ValueError, match=message) as raised:
        load_checkpoint(MnistMlp(), path)
    assert str(path) in str(raised.value)


# ---------------------------------------------------------------------------------------
# Device footprint


def test_mlp_footprint():
    size = footprint(MnistMlp())
    assert size.parameters == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert size.int8_weight_bytes == 784 * 128 + 128 * 64 + 64 * 10
    assert size.int32_bias_bytes == 4 * (128 + 64 + 10)
    assert size.largest_activation_bytes == 784  # the input
    assert size.within_budget()


def test_convnet_footprint():
    size = footprint(MnistConvNet())
    assert size.int8_weight_bytes == 9 * (1 * 16 + 16 * 32 + 32 * 32) + 288 * 10
    assert size.int32_bias_bytes == 4 * (16 + 32 + 32 + 10)
    assert size.largest_activation_bytes == 28 * 28 * 16  # first conv output
    assert size.within_budget()


def test_footprint_flags_a_model_over_budget():
    too_wide = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 200))
    assert footprint(too_wide).int8_weight_bytes > WEIGHT_BUDGET_BYTES
    assert not footprint(too_wide).within_budget()
    too_tall = torch.nn.Conv2d(1, 64, 3, padding=1)
    assert footprint(too_tall).largest_activation_bytes == 28 * 28 * 64 > ACTIVATION_BUDGET_BYTES
    assert not footprint(too_tall).within_budget()
