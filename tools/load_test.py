#!/usr/bin/env python3
"""Load test of the binding: a long stream of samples through a bundled model, in batches.

    python3 tools/load_test.py                      # 1,000,000 samples through integr8.MnistMlp
    python3 tools/load_test.py --samples 50000 --json out.json

Inputs are made batch by batch into one reused buffer: the MNIST test set cycled (q = pixel -
128, the bundled models' input) or, without MNIST or with --source random, random int8. Every
--check-every-th batch is run a second time with threads=1 and must give the same bytes.

Measured after a warm-up (--warmup batches, not counted): resident set size at the start and at
the end, from /proc/self/status (VmRSS, current) and getrusage (ru_maxrss, peak); CPU time
(os.times, user + system of every thread) over wall time for the timed runs, which should
approach the number of cores; samples per second.

Exits 1 when VmRSS or the peak RSS grew by more than max(--rss-tolerance-mib,
--rss-tolerance-percent of the start), or when a checked batch differed from its
single-threaded run; 2 on bad arguments. --self-test leak|mismatch makes the run misbehave
(keep 4 MiB per batch; alter one checked output) to show that each gate fires.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import resource
import shlex
import sys
import time

import numpy as np

MIB = 1024 * 1024


def vm_rss_bytes() -> int:
    """Current resident set size (VmRSS of /proc/self/status), or -1 without procfs."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def peak_rss_bytes() -> int:
    """Peak resident set size so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Inputs:
    """Batches of int8 samples [batch, 784] written into one reused buffer."""

    def __init__(self, source: str, batch: int, seed: int):
        self.buffer = np.empty((batch, 784), np.int8)
        self.labels = None
        self.source = source
        if source in ("mnist", "auto"):
            try:
                from integr8 import data

                images, labels = data.load_dataset("mnist", "test")
                self.pool = (images.reshape(len(images), 784).astype(np.int16) - 128).astype(
                    np.int8)
                self.pool_labels = labels.astype(np.int64)
                self.source = "mnist"
            except Exception as error:  # noqa: BLE001 - any failure falls back to random
                if source == "mnist":
                    raise SystemExit(
                        f"load_test: MNIST test set unavailable: {error}") from error
                self.source = "random"
        if self.source == "random":
            self.rng = np.random.default_rng(seed)
        self.batch_labels = np.empty(batch, np.int64)

    def fill(self, start: int, count: int) -> np.ndarray:
        """Samples start .. start + count - 1 of the stream (a view of the buffer)."""
        out = self.buffer[:count]
        if self.source == "mnist":
            index = (start + np.arange(count)) % len(self.pool)
            np.take(self.pool, index, axis=0, out=out)
            np.take(self.pool_labels, index, out=self.batch_labels[:count])
        else:
            out[...] = self.rng.integers(-128, 128, size=out.shape, dtype=np.int8)
        return out


def run(args) -> dict:
    import integr8

    model = {"mlp": integr8.MnistMlp, "convnet": integr8.MnistConvNet}[args.model]()
    inputs = Inputs(args.source, args.batch, args.seed)
    threads = args.threads
    kept = []  # --self-test leak

    def run_batch(batch):
        return model.run(batch, threads=threads)

    # Warm-up: first-touch of the buffers, thread start-up, allocator pools.
    for index in range(args.warmup):
        run_batch(inputs.fill(index * args.batch, args.batch))

    rss_start, peak_start = vm_rss_bytes(), peak_rss_bytes()
    done = correct = checked = mismatches = batches = 0
    busy_wall = busy_cpu = 0.0
    started = time.perf_counter()
    while done < args.samples:
        count = min(args.batch, args.samples - done)
        batch = inputs.fill(done, count)
        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        logits = run_batch(batch)
        busy_wall += time.perf_counter() - wall0
        busy_cpu += cpu_seconds() - cpu0
        if inputs.source == "mnist":
            correct += int((logits.argmax(axis=1) == inputs.batch_labels[:count]).sum())
        if args.check_every and batches % args.check_every == 0:
            single = model.run(batch, threads=1)
            if args.self_test == "mismatch":
                single[0, 0] ^= 1
            checked += 1
            if not np.array_equal(logits, single):
                mismatches += 1
        if args.self_test == "leak":
            kept.append(np.ones(4 * MIB, np.uint8))  # 4 MiB per batch, touched
        done += count
        batches += 1
    wall = time.perf_counter() - started
    rss_end, peak_end = vm_rss_bytes(), peak_rss_bytes()

    allowed = max(args.rss_tolerance_mib * MIB, args.rss_tolerance_percent / 100 * rss_start)
    rss_growth = rss_end - rss_start if rss_start >= 0 and rss_end >= 0 else 0
    peak_growth = peak_end - peak_start
    failures = []
    if rss_growth > allowed:
        failures.append(f"VmRSS grew by {rss_growth / MIB:.1f} MiB (allowed "
                        f"{allowed / MIB:.1f} MiB)")
    if peak_growth > allowed:
        failures.append(f"peak RSS grew by {peak_growth / MIB:.1f} MiB (allowed "
                        f"{allowed / MIB:.1f} MiB)")
    if mismatches:
        failures.append(f"{mismatches} of {checked} checked batches differ from threads=1")
    if args.check_every and not checked:
        failures.append("no batch was checked against threads=1")
    return {
        "command": shlex.join([os.path.basename(sys.executable)] + sys.argv),
        "model": type(model).__name__,
        "source": inputs.source,
        "samples": done,
        "batch": args.batch,
        "batches": batches,
        "threads": threads if threads is not None else "default (hardware concurrency)",
        "cores": usable_cores(),
        "wall_s": wall,
        "samples_per_s": done / wall if wall > 0 else float("inf"),
        "run_wall_s": busy_wall,
        "run_cpu_s": busy_cpu,
        "cpu_wall_ratio": busy_cpu / busy_wall if busy_wall > 0 else 0.0,
        "vm_rss_start_mib": rss_start / MIB,
        "vm_rss_end_mib": rss_end / MIB,
        "peak_rss_start_mib": peak_start / MIB,
        "peak_rss_end_mib": peak_end / MIB,
        "rss_allowed_growth_mib": allowed / MIB,
        "accuracy": correct / done if inputs.source == "mnist" and done else None,
        "checked_batches": checked,
        "mismatched_batches": mismatches,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "failures": failures,
        "ok": not failures,
    }


def summary(result: dict) -> str:
    lines = [
        f"load test: {result['samples']:,} samples through integr8.{result['model']} "
        f"({result['source']} inputs, {result['batches']} batches of {result['batch']}, "
        f"threads {result['threads']}, {result['cores']} cores)",
        f"  wall {result['wall_s']:.2f} s, {result['samples_per_s']:,.0f} samples/s; "
        f"in run(): CPU {result['run_cpu_s']:.2f} s / wall {result['run_wall_s']:.2f} s = "
        f"{result['cpu_wall_ratio']:.2f}",
        f"  VmRSS start {result['vm_rss_start_mib']:.1f} MiB, end "
        f"{result['vm_rss_end_mib']:.1f} MiB; peak RSS start "
        f"{result['peak_rss_start_mib']:.1f} MiB, end {result['peak_rss_end_mib']:.1f} MiB "
        f"(allowed growth {result['rss_allowed_growth_mib']:.1f} MiB)",
        f"  {result['checked_batches']} batches checked against threads=1, "
        f"{result['mismatched_batches']} differed"
        + (f"; top-1 accuracy {100 * result['accuracy']:.2f}%"
           if result["accuracy"] is not None else ""),
    ]
    lines.append("  OK" if result["ok"] else "  FAILED: " + "; ".join(result["failures"]))
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--model", choices=["mlp", "convnet"], default="mlp")
    parser.add_argument("--source", choices=["auto", "mnist", "random"], default="auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="run(threads=...); default: the binding's (hardware concurrency)")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted batches first")
    parser.add_argument("--check-every", type=int, default=10,
                        help="compare every k-th batch with threads=1 (0: never)")
    parser.add_argument("--rss-tolerance-mib", type=float, default=10.0)
    parser.add_argument("--rss-tolerance-percent", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures here")
    parser.add_argument("--self-test", choices=["leak", "mismatch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.samples < 1 or args.batch < 1 or args.warmup < 0 or args.check_every < 0:
        parser.error("--samples and --batch must be >= 1, --warmup and --check-every >= 0")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    print(summary(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
