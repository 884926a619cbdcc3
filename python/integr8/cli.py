"""The ``integr8`` command line (also ``python -m integr8``).

    integr8 train  --model mlp --dataset mnist --out mlp.pt
    integr8 export --model mlp --checkpoint mlp.pt --out DIR        (alias: calibrate)
    integr8 eval   --model mlp --checkpoint mlp.pt --header DIR/mnist_mlp.h
    integr8 data install-mnist
    integr8 demo   --out DIR [--dataset mnist] [--models mlp,convnet]

Errors (missing dataset, bad checkpoint, unsupported layer, compiler failure, ...) print one
line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import re
import shlex
import sys
import time

__all__ = ["main", "CliError"]

DEFAULT_CALIBRATION_SAMPLES = 1000


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _graph_name(dataset: str, model: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"{dataset}_{model}".lower())


def _command_line(argv) -> str:
    return shlex.join(["integr8", *argv])


def _progress() -> bool:
    return sys.stderr.isatty()


def _load_split(dataset: str, split: str, root=None, *, auto_install: bool = False):
    from integr8 import data

    try:
        return data.load_dataset(dataset, split, root)
    except data.DatasetNotFoundError:
        if not (auto_install and dataset == "mnist" and root is None):
            raise
    print(f"MNIST is not installed; installing it into {data.mnist_cache_dir()} "
          "with integr8.data.install_mnist() ...", flush=True)
    path = data.install_mnist()
    print(f"MNIST installed in {path}", flush=True)
    return data.load_dataset(dataset, split, root)


def _load_model(name: str, checkpoint) -> "torch.nn.Module":  # noqa: F821
    from integr8.train import load_checkpoint, make_model

    path = pathlib.Path(checkpoint)
    if not path.is_file():
        raise CliError(f"checkpoint {str(path)!r} does not exist or is not a file")
    model = load_checkpoint(make_model(name), path)
    return model.eval()


def _calibrate(model, images, *, name: str, observer: str):
    from integr8 import calibrate, qgraph
    from integr8.train import INPUT_SCALE, INPUT_ZERO_POINT, pixels_to_input

    return calibrate.calibrate(model.eval(), pixels_to_input(images), name=name,
                               observer=observer,
                               input_quant=qgraph.Quant(scale=INPUT_SCALE,
                                                        zero_point=INPUT_ZERO_POINT))


# ---------------------------------------------------------------------------------------
# Subcommands


def _cmd_train(args, argv) -> int:
    from integr8.train import DEFAULT_CONFIGS, evaluate, make_model, save_checkpoint, train

    images, labels = _load_split(args.dataset, "train", args.root)
    config = DEFAULT_CONFIGS[args.model]
    model = make_model(args.model, config.seed)
    started = time.perf_counter()
    train(model, images, labels, config, progress=_progress())
    seconds = time.perf_counter() - started
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, out)
    test_images, test_labels = _load_split(args.dataset, "test", args.root)
    accuracy = evaluate(model, test_images, test_labels)
    print(f"{args.model}: trained in {seconds:.1f} s, {args.dataset} test accuracy "
          f"{100 * accuracy:.2f}%, saved {out} (sha256 {_sha256(out)})")
    return 0


def _cmd_export(args, argv) -> int:
    from integr8.export import export_header

    if args.calibration_samples < 1:
        raise CliError(f"--calibration-samples must be >= 1, got {args.calibration_samples}")
    model = _load_model(args.model, args.checkpoint)
    images, _ = _load_split(args.dataset, "train", args.root)
    name = args.name or _graph_name(args.dataset, args.model)
    graph = _calibrate(model, images[:args.calibration_samples], name=name,
                       observer=args.observer)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = export_header(graph, out, command=_command_line(argv),
                           checkpoint_sha256=_sha256(pathlib.Path(args.checkpoint)))
    print(f"wrote {header} ({graph.weight_bytes} weight bytes, {len(graph.layers)} layers, "
          f"{args.observer} observer on {min(args.calibration_samples, len(images))} "
          f"{args.dataset} training images)")
    return 0


def _graph_for_header(args, header: pathlib.Path):
    """The quantized graph exported beside `header` (<stem>.i8g), checked to render that very
    header and to come from --checkpoint."""
    from integr8 import qgraph
    from integr8.export import render_header

    if not header.is_file():
        raise CliError(f"header {str(header)!r} does not exist or is not a file")
    graph_file = header.with_suffix(qgraph.GRAPH_FILE_SUFFIX)
    if not graph_file.is_file():
        raise CliError(f"{header} has no graph file beside it ({graph_file.name}, written by "
                       "`integr8 export`); re-export it")
    graph = qgraph.load(graph_file)
    record = qgraph.read_export_record(graph_file)
    recorded = record.get("checkpoint_sha256")
    actual = _sha256(pathlib.Path(args.checkpoint))
    if recorded and recorded != actual:
        raise CliError(f"{header} was exported from a checkpoint with sha256 {recorded}, "
                       f"not {args.checkpoint} (sha256 {actual})")
    rendered = render_header(graph, command=record.get("command", ""),
                             checkpoint_sha256=recorded)
    if rendered.encode("ascii") != header.read_bytes():
        raise CliError(f"{header} is not the header its graph file {graph_file.name} renders "
                       "(edited, or exported separately); re-export both")
    return graph


def _cmd_eval(args, argv) -> int:
    from integr8.validate import format_table, validate, write_report

    model = _load_model(args.model, args.checkpoint)
    header = pathlib.Path(args.header)
    graph = _graph_for_header(args, header)
    images, labels = _load_split(args.dataset, "test", args.root)
    entry = validate(model, graph, header, images, labels)
    results = {"dataset": args.dataset, "models": {args.model: entry}}
    if args.out:
        write_report(results, args.out)
    else:
        print(format_table(results))
    return 0 if entry["bitexact_fraction"] == 1.0 else 1


def _cmd_data(args, argv) -> int:
    from integr8 import data

    if args.data_command == "install-mnist":
        path = data.install_mnist(args.dest)
        print(f"MNIST installed in {path}")
        return 0
    raise CliError(f"unknown data command {args.data_command!r}")


def _cmd_demo(args, argv) -> int:
    import integr8
    from integr8.export import export_header
    from integr8.models import MODELS
    from integr8.train import DEFAULT_CONFIGS, evaluate, make_model, save_checkpoint, train
    from integr8.validate import validate, write_report

    started = time.perf_counter()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODELS]
    if not names or unknown:
        raise CliError(f"--models: unknown model(s) {unknown or names}; choose from "
                       f"{', '.join(MODELS)}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = _load_split(args.dataset, "train", args.root,
                                             auto_install=True)
    test_images, test_labels = _load_split(args.dataset, "test", args.root, auto_install=True)
    command = _command_line(argv)
    results = {"dataset": args.dataset, "models": {}}
    for name in names:
        config = DEFAULT_CONFIGS[name]
        print(f"[{name}] training ({config.epochs} epochs) ...", flush=True)
        model = make_model(name, config.seed)
        t0 = time.perf_counter()
        train(model, train_images, train_labels, config, progress=_progress())
        train_seconds = time.perf_counter() - t0
        model.eval()
        checkpoint = out / f"{name}.pt"
        save_checkpoint(model, checkpoint)
        float_accuracy = evaluate(model, test_images, test_labels)
        print(f"[{name}] trained in {train_seconds:.1f} s, float test accuracy "
              f"{100 * float_accuracy:.2f}%, saved {checkpoint}", flush=True)
        graph = _calibrate(model, train_images[:args.calibration_samples],
                           name=_graph_name(args.dataset, name), observer=args.observer)
        header = export_header(graph, out, command=command,
                               checkpoint_sha256=_sha256(checkpoint))
        print(f"[{name}] exported {header}; building ...", flush=True)
        t0 = time.perf_counter()
        module = integr8.build(header, name=graph.name)
        print(f"[{name}] built in {time.perf_counter() - t0:.1f} s; validating on "
              f"{len(test_labels)} test images ...", flush=True)
        entry = validate(model, graph, header, test_images, test_labels,
                         float_model_accuracy=float_accuracy, module=module)
        entry["checkpoint"] = str(checkpoint)
        entry["train_seconds"] = train_seconds
        results["models"][name] = entry
    results["calibration_samples"] = int(args.calibration_samples)
    results["observer"] = args.observer
    results["wall_seconds"] = time.perf_counter() - started
    write_report(results, out)
    print(f"wrote {out / 'results.json'} and {out / 'report.png'}")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    bitexact = all(entry["bitexact_fraction"] == 1.0 for entry in results["models"].values())
    if not bitexact:
        print("integr8: error: the C++ outputs are not bit-exact with the reference",
              file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------
# Parser


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: usage and one line, exit 2 (as argparse does)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    from integr8.calibrate import DEFAULT_OBSERVER, OBSERVERS
    from integr8.data import DATASETS
    from integr8.models import MODELS

    parser = _Parser(prog="integr8", description="integr8: integer-only NN inference "
                     "toolchain (train, calibrate/export, build, validate).")
    from integr8 import __version__

    parser.add_argument("--version", action="version", version=f"integr8 {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def common(sub, *, model=True, dataset=True):
        if model:
            sub.add_argument("--model", required=True, choices=sorted(MODELS))
        if dataset:
            sub.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
            sub.add_argument("--root", help="directory of the dataset's IDX files "
                             "(default: the installed copy)")

    sub = commands.add_parser("train", help="train a reference model, save its checkpoint")
    common(sub)
    sub.add_argument("--out", required=True, help="checkpoint file to write")
    sub.set_defaults(handler=_cmd_train)

    for alias in ("export", "calibrate"):
        sub = commands.add_parser(alias, help="calibrate a checkpoint and export its C++ "
                                  "header" + (" (alias of export)" if alias != "export" else ""))
        common(sub)
        sub.add_argument("--checkpoint", required=True)
        sub.add_argument("--calibration-samples", type=int, default=DEFAULT_CALIBRATION_SAMPLES,
                         help="first N training images used for calibration (default 1000)")
        sub.add_argument("--observer", default=DEFAULT_OBSERVER, choices=OBSERVERS)
        sub.add_argument("--name", help="graph name (default <dataset>_<model>)")
        sub.add_argument("--out", required=True, help="directory for <name>.h")
        sub.set_defaults(handler=_cmd_export)

    sub = commands.add_parser(
        "eval", help="validate an exported header (and the graph file beside it) on the full "
        "test set; no calibration data needed")
    common(sub)
    sub.add_argument("--checkpoint", required=True)
    sub.add_argument("--header", required=True,
                     help="a header written by `integr8 export`, with its .i8g beside it")
    sub.add_argument("--out", help="also write results.json and report.png here")
    sub.set_defaults(handler=_cmd_eval)

    sub = commands.add_parser("data", help="dataset management")
    data_commands = sub.add_subparsers(dest="data_command", metavar="DATA_COMMAND",
                                       parser_class=_Parser)
    data_commands.required = True
    install = data_commands.add_parser("install-mnist", help="fetch and verify MNIST")
    install.add_argument("--dest", help="target directory (default: the integr8 cache)")
    sub.set_defaults(handler=_cmd_data)

    sub = commands.add_parser("demo", help="train, export, build and validate the reference "
                              "models end to end")
    sub.add_argument("--out", required=True, help="output directory")
    sub.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    sub.add_argument("--root", help="directory of the dataset's IDX files")
    sub.add_argument("--models", default="mlp,convnet", help="comma-separated (default "
                     "mlp,convnet)")
    sub.add_argument("--calibration-samples", type=int, default=DEFAULT_CALIBRATION_SAMPLES)
    sub.add_argument("--observer", default=DEFAULT_OBSERVER, choices=OBSERVERS)
    sub.set_defaults(handler=_cmd_demo)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0]
    return first if len(text.splitlines()) == 1 else f"{first} ..."


def main(argv=None) -> int:
    """Entry point of the ``integr8`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args, argv) or 0)
    except KeyboardInterrupt:
        print("integr8: interrupted", file=sys.stderr)
        return 130
    except (CliError, ValueError, OSError, RuntimeError, ImportError) as error:
        # DatasetNotFoundError/FileNotFoundError (OSError), bad checkpoints, CaptureError,
        # CalibrationError and ExportError (ValueError), BuildError (RuntimeError).
        print(f"integr8: error: {_one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
