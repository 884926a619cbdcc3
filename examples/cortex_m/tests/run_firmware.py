#!/usr/bin/env python3
"""Runs a firmware image under QEMU and requires its output to equal the host twin's, byte for
byte, and its null-buffer calls to have returned kNullPointer.

    run_firmware.py --qemu qemu-system-arm --machine mps2-an385 --host-twin HOST_EXE FIRMWARE

The firmware prints through semihosting, which QEMU writes to a file of its own so that
QEMU's messages cannot mix in. Both runs must exit 0 (every status as expected) and finish
within --timeout seconds.
"""

from __future__ import annotations

import argparse
import difflib
import pathlib
import subprocess
import sys
import tempfile

NULL_BUFFER_LINES = ("null image: kNullPointer\n", "null scores: kNullPointer\n")


def run_qemu(qemu: str, machine: str, firmware: str, timeout: float,
             extra_args: tuple[str, ...] = ()) -> tuple[int, str]:
    """(exit status, semihosting output) of one QEMU run; raises on timeout."""
    with tempfile.TemporaryDirectory(prefix="integr8-fw-") as work:
        output = pathlib.Path(work) / "semihosting.txt"
        command = [qemu, "-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
                   "-semihosting-config", "enable=on,target=native,chardev=firmware_output",
                   "-chardev", f"file,id=firmware_output,path={output}",
                   *extra_args, "-kernel", firmware]
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=timeout)
        if result.stderr:
            print(result.stderr, file=sys.stderr, end="")
        return result.returncode, output.read_text() if output.exists() else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--machine", required=True, help="QEMU board, e.g. mps2-an385")
    parser.add_argument("--host-twin", required=True, help="host build of the same report")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("firmware")
    args = parser.parse_args(argv)

    try:
        host = subprocess.run([args.host_twin], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=args.timeout)
        status, firmware = run_qemu(args.qemu, args.machine, args.firmware, args.timeout)
    except subprocess.TimeoutExpired as timeout:
        print(f"FAIL: {timeout.cmd[0]} did not finish within {args.timeout:g} s")
        return 1
    print(firmware, end="")

    failures = []
    if host.returncode != 0:
        failures.append(f"the host twin exited with {host.returncode}")
    if status != 0:
        failures.append(f"the firmware exited with {status} (a status was not the expected one)")
    if firmware != host.stdout:
        diff = difflib.unified_diff(host.stdout.splitlines(keepends=True),
                                    firmware.splitlines(keepends=True), "host", args.machine)
        failures.append("the firmware's output differs from the host's:\n" + "".join(diff))
    missing = [line.strip() for line in NULL_BUFFER_LINES if line not in firmware]
    if missing:
        failures.append(f"the firmware did not print {missing}")
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print(f"PASS: {args.machine} output identical to the host's "
              f"({len(firmware.encode())} bytes)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
