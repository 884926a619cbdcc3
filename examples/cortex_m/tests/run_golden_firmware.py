#!/usr/bin/env python3
"""Runs the golden-vector firmware under QEMU and requires every case it replays to pass.

    run_golden_firmware.py --qemu qemu-system-arm --machine mps2-an386 FIRMWARE

The firmware (golden_main.cpp) prints "<op> <kernels>: P of N cases passed" per op and kernel
set, then "total: P of N cases passed". The run passes only if QEMU exits 0 within --timeout
seconds, there is at least one op line, every op line has N > 0 and P == N, and the total
line is the sum of the op lines: a run that stops early or replays nothing fails.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from run_firmware import run_qemu

TALLY = re.compile(r"^(?P<label>[^:\n]+): (?P<passed>\d+) of (?P<total>\d+) cases passed$", re.M)


def failures_of(status: int, output: str) -> list[str]:
    """What is wrong with a run that exited with `status` and printed `output`."""
    failures = []
    if status != 0:
        failures.append(f"the firmware exited with {status}")
    tallies = [(match["label"], int(match["passed"]), int(match["total"]))
               for match in TALLY.finditer(output)]
    ops = [tally for tally in tallies if tally[0] != "total"]
    totals = [(passed, cases) for label, passed, cases in tallies if label == "total"]
    if not ops:
        failures.append("the firmware printed no op line")
    for label, passed, cases in ops:
        if cases == 0:
            failures.append(f"{label}: no cases replayed")
        elif passed != cases:
            failures.append(f"{label}: {cases - passed} of {cases} cases failed")
    sums = (sum(passed for _, passed, _ in ops), sum(cases for _, _, cases in ops))
    total = totals[0] if len(totals) == 1 else None
    if total is None:
        failures.append("the firmware did not print one total line")
    elif total != sums:
        failures.append(f"the total {total[0]} of {total[1]} is not the op lines' sum, "
                        f"{sums[0]} of {sums[1]}")
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--machine", required=True, help="QEMU board, e.g. mps2-an385")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the run")
    parser.add_argument("firmware")
    args = parser.parse_args(argv)

    try:
        status, output = run_qemu(args.qemu, args.machine, args.firmware, args.timeout)
    except subprocess.TimeoutExpired:
        print(f"FAIL: the firmware did not finish within {args.timeout:g} s")
        return 1
    print(output, end="")
    failures = failures_of(status, output)
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print(f"PASS: {args.machine} matched the reference on every case")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
