#!/usr/bin/env python3
"""Regenerates the MNIST models bundled in integr8._core (integr8.MnistMlp, MnistConvNet).

    python3 -m integr8 data install-mnist      # once: fetch and verify MNIST
    python3 tools/bundle_mnist_models.py                 # train, calibrate, export
    python3 tools/bundle_mnist_models.py --recalibrate   # calibrate, export the committed
                                                         # checkpoints

For each reference model (mlp, convnet) this does what `integr8 demo` does, with the demo's own
functions: trains it with the package's default TrainConfig (deterministic), saves its
state_dict to python/integr8/bundled/mnist_<model>.pt, calibrates it on the first 1000 MNIST
training images with the default observer and the fixed input quantization (scale 1/255,
zero point -128), and exports python/integr8/bundled/mnist_<model>.h, whose provenance comment
names this script. Training is bit-reproducible on one machine, so running the script again
gives byte-identical checkpoints and headers; `pip install .` then compiles the headers into
integr8._core (python/src/core.cpp). Training is not reproducible across machines (float32
sums), calibration is (it runs in float64), so --recalibrate, which keeps the committed
checkpoints, is how a change to calibration or export reaches the bundled headers.
"""

from __future__ import annotations

import pathlib
import shlex
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "python" / "integr8" / "bundled"
# Recorded in the headers' provenance comment: fixed, so that the output does not depend on
# where or how the script was started.
COMMAND = shlex.join(["python3", "tools/bundle_mnist_models.py"])
DATASET = "mnist"
MODELS = ("mlp", "convnet")

sys.path.insert(0, str(ROOT / "python"))

from integr8 import cli  # noqa: E402  (the demo's helpers)
from integr8.calibrate import DEFAULT_OBSERVER  # noqa: E402
from integr8.export import export_header  # noqa: E402
from integr8.train import (DEFAULT_CONFIGS, evaluate, load_checkpoint,  # noqa: E402
                           make_model, save_checkpoint, train)

CALIBRATION_SAMPLES = cli.DEFAULT_CALIBRATION_SAMPLES


def checkpoint_path(model: str) -> pathlib.Path:
    return BUNDLED / f"{cli._graph_name(DATASET, model)}.pt"


def calibrate_bundled(model, train_images, model_name: str):
    """The QuantizedGraph of a bundled model, calibrated exactly as the demo does
    (tests/python/test_bundled_models.py re-derives the committed headers the same way)."""
    return cli._calibrate(model, train_images[:CALIBRATION_SAMPLES],
                          name=cli._graph_name(DATASET, model_name), observer=DEFAULT_OBSERVER)


def main(argv=None) -> int:
    argv = list(argv or [])
    recalibrate = argv == ["--recalibrate"]
    if argv and not recalibrate:
        print(f"usage: {COMMAND} [--recalibrate]", file=sys.stderr)
        return 2
    from integr8.data import DatasetNotFoundError

    try:
        train_images, train_labels = cli._load_split(DATASET, "train")
        test_images, test_labels = cli._load_split(DATASET, "test")
    except DatasetNotFoundError as error:
        print(f"bundle_mnist_models.py: {error}", file=sys.stderr)
        return 2
    BUNDLED.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        checkpoint = checkpoint_path(name)
        if recalibrate:
            model = load_checkpoint(make_model(name), checkpoint).eval()
        else:
            config = DEFAULT_CONFIGS[name]
            print(f"[{name}] training ({config.epochs} epochs) ...", flush=True)
            model = make_model(name, config.seed)
            started = time.perf_counter()
            train(model, train_images, train_labels, config, progress=cli._progress())
            seconds = time.perf_counter() - started
            model.eval()
            save_checkpoint(model, checkpoint)
        accuracy = evaluate(model, test_images, test_labels)
        graph = calibrate_bundled(model, train_images, name)
        header = export_header(graph, BUNDLED, command=COMMAND,
                               checkpoint_sha256=cli._sha256(checkpoint))
        how = "recalibrated" if recalibrate else f"trained in {seconds:.1f} s"
        print(f"[{name}] {how}, float test accuracy {100 * accuracy:.2f}%; "
              f"wrote {checkpoint.relative_to(ROOT)} (sha256 {cli._sha256(checkpoint)}) and "
              f"{header.relative_to(ROOT)} ({graph.weight_bytes} weight bytes)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
