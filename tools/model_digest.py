#!/usr/bin/env python3
"""Digests of the bundled MNIST models on a fixed int8 input stream, from the Python binding.

Prints the lines tests/determinism/model_digest.cpp prints (same stream, same digest; the
format is documented there):

    digest <model> <samples> <16 hex digits>

The binding (integr8.MnistMlp / integr8.MnistConvNet) runs the same generated headers,
compiled by the wheel's build, so equal lines mean the C++ builds under test agree with an
independently compiled copy. With --expect FILE the lines are compared with FILE (for
example the C++ program's output) and the exit status is 1 on any difference.
"""
import argparse
import sys

import numpy as np

SEED = 0x2545F491
SAMPLES = 500
MASK = 0xFFFFFFFF


def input_stream(count: int) -> np.ndarray:
    """count int8 values of the xorshift32 stream (top byte of each state)."""
    state = SEED
    out = bytearray(count)
    for i in range(count):
        state ^= (state << 13) & MASK
        state ^= state >> 17
        state ^= (state << 5) & MASK
        out[i] = state >> 24
    return np.frombuffer(bytes(out), dtype=np.int8)


def fnv1a64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def digest_lines() -> list[str]:
    import integr8

    lines = []
    for name, model in (("mnist_mlp", integr8.MnistMlp()),
                        ("mnist_convnet", integr8.MnistConvNet())):
        batch = input_stream(SAMPLES * model.input_elements).reshape(SAMPLES, *model.input_shape)
        outputs = np.ascontiguousarray(model.run(batch, threads=1), dtype=np.int8)
        lines.append(f"digest {name} {SAMPLES} {fnv1a64(outputs.tobytes()):016x}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expect", help="file with the lines to compare against")
    args = parser.parse_args()
    lines = digest_lines()
    print("\n".join(lines))
    if args.expect:
        with open(args.expect, encoding="utf-8") as f:
            expected = [line.strip() for line in f if line.startswith("digest ")]
        if expected != lines:
            print(f"mismatch with {args.expect}: {expected}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
