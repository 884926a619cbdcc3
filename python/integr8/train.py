"""Deterministic training, evaluation and checkpoints of the reference models.

Input normalization is the fixed affine map x = pixel / 255, with no mean/std step: the
exporter then quantizes the model input with scale 1/255 and zero point -128, which makes the
int8 input exactly q = pixel - 128 (INPUT_SCALE, INPUT_ZERO_POINT).

Training is reproducible bit for bit on one machine for a given TrainConfig: seeded
initialization and shuffling, deterministic algorithms and a fixed thread count (reductions
split differently across threads, so the thread count is part of the config).

    python -m integr8.train --model all --root DIR_WITH_MNIST_IDX_FILES
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import pathlib
import pickle
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from integr8.data import DATASETS, load_dataset
from integr8.models import MODELS, footprint

__all__ = [
    "INPUT_SCALE",
    "INPUT_ZERO_POINT",
    "TrainConfig",
    "DEFAULT_CONFIGS",
    "pixels_to_input",
    "make_model",
    "train",
    "evaluate",
    "save_checkpoint",
    "load_checkpoint",
]

INPUT_SCALE = 1.0 / 255.0
INPUT_ZERO_POINT = -128


@dataclass(frozen=True)
class TrainConfig:
    """AdamW under a one-cycle learning-rate schedule; ``learning_rate`` is the peak."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 2


DEFAULT_CONFIGS = {
    "mlp": TrainConfig(epochs=8, batch_size=128, learning_rate=3e-3, weight_decay=1e-4),
    "convnet": TrainConfig(epochs=3, batch_size=128, learning_rate=1e-2, weight_decay=1e-4),
}


def pixels_to_input(images: np.ndarray) -> torch.Tensor:
    """Maps uint8 images [N, 28, 28] to the models' float input [N, 1, 28, 28] = pixel / 255."""
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images [N, H, W], got {images.dtype} {images.shape}")
    return torch.from_numpy(images).to(torch.float32).div_(255.0).unsqueeze(1)


def make_model(name: str, seed: int = 0) -> nn.Module:
    """Builds a reference model with seeded initialization, leaving the global RNG untouched."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name]()


@contextlib.contextmanager
def _deterministic(threads: int) -> Iterator[None]:
    """Fixes the thread count and forbids nondeterministic kernels, restoring both afterwards."""
    previous_threads = torch.get_num_threads()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        torch.set_num_threads(previous_threads)


def train(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    config: TrainConfig,
    progress: bool = True,
) -> nn.Module:
    """Trains ``model`` in place with cross-entropy and returns it."""
    inputs = pixels_to_input(images)
    targets = torch.from_numpy(labels.astype(np.int64))
    count = len(targets)
    steps_per_epoch = math.ceil(count / config.batch_size)

    with _deterministic(config.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        shuffle = torch.Generator().manual_seed(config.seed)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch
        )
        model.train()
        for epoch in range(config.epochs):
            order = torch.randperm(count, generator=shuffle)
            batches = tqdm(
                range(0, count, config.batch_size),
                desc=f"{type(model).__name__} epoch {epoch + 1}/{config.epochs}",
                disable=not progress,
            )
            for start in batches:
                batch = order[start : start + config.batch_size]
                loss = F.cross_entropy(model(inputs[batch]), targets[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                batches.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    return model


def evaluate(
    model: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000
) -> float:
    """Returns top-1 accuracy in [0, 1] in eval mode, restoring the model's mode afterwards."""
    inputs = pixels_to_input(images)
    targets = torch.from_numpy(labels.astype(np.int64))
    was_training = model.training
    model.eval()
    correct = 0
    try:
        with torch.no_grad():
            for start in range(0, len(targets), batch_size):
                predictions = model(inputs[start : start + batch_size]).argmax(dim=1)
                correct += int((predictions == targets[start : start + batch_size]).sum())
    finally:
        model.train(was_training)
    return correct / len(targets)


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> None:
    """Saves only the state_dict, so that loading never needs to unpickle arbitrary objects.

    Atomic: written to a temporary file next to ``path``, then renamed over it, so that an
    interrupted save leaves the previous checkpoint (or none), never a truncated one.
    """
    path = pathlib.Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            torch.save(model.state_dict(), stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Loads a state_dict saved by save_checkpoint into ``model`` and returns it.

    Uses ``weights_only=True`` (checkpoints may come from anywhere) and raises ValueError naming
    the file when it is not a state_dict of exactly this model.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise ValueError(
            f"{path}: not a weights-only checkpoint (expected torch.save(model.state_dict())): "
            f"{error}"
        ) from error
    if not isinstance(state, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise ValueError(
            f"{path}: holds a {type(state).__name__}, not a state_dict mapping names to tensors"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{path}: not a state_dict of {type(model).__name__}: {error}") from error
    return model


def main(argv: list[str] | None = None) -> None:
    """Trains the default models, reporting time, float test accuracy and device footprint."""
    parser = argparse.ArgumentParser(prog="python -m integr8.train", description=main.__doc__)
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    parser.add_argument("--root", help="directory of the IDX files (default: packaged copy)")
    parser.add_argument("--out-dir", default=".", help="where <model>.pt checkpoints go")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    train_images, train_labels = load_dataset(args.dataset, "train", args.root)
    test_images, test_labels = load_dataset(args.dataset, "test", args.root)
    out_dir = pathlib.Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in MODELS if args.model == "all" else [args.model]:
        config = DEFAULT_CONFIGS[name]
        model = make_model(name, config.seed)
        started = time.perf_counter()
        train(model, train_images, train_labels, config, progress=not args.no_progress)
        seconds = time.perf_counter() - started
        accuracy = evaluate(model, test_images, test_labels)
        checkpoint = out_dir / f"{name}.pt"
        save_checkpoint(model, checkpoint)
        print(
            f"{name}: trained in {seconds:.1f} s, {args.dataset} test accuracy "
            f"{100 * accuracy:.2f}%, {footprint(model)}, saved {checkpoint}",
            flush=True,
        )


if __name__ == "__main__":
    main()
