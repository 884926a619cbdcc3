#!/usr/bin/env python3
"""Footprint and speed of the Cortex-M firmware example (examples/cortex_m), as Markdown.

Builds the example at -Os and -O2 (build/fw-footprint-Os, build/fw-footprint-O2), and again
with the portable kernels on the cores that have the Arm DSP backend (build/fw-footprint-Os-
portable, ...), and reports, per model, core and backend:

- flash: the linked image's .text + .rodata + .data load image, split by the linker map into
  the model's constants (weights, biases, multipliers, layer parameters), integr8's code
  (everything classifier.cpp compiles to, plus the libgcc routines it pulls in), the example's
  own code (vector table, startup, semihosting printer, report) and its test images;
- static RAM: .data + .bss, of which the arena (the model's kArenaBytes);
- stack of Classify (the model's Invoke behind one call): the worst case over the call graph
  GCC writes with -fcallgraph-info=su (exact frame sizes, every call edge), with libgcc
  routines sized from their disassembly; and, as a check, the stack the measurement image
  actually dirtied in QEMU;
- instructions per inference under QEMU -icount (see measure_main.cpp), and per MAC, with
  MACs counted from the layers of the model's graph file.

    tools/firmware_footprint.py [--jobs 2] [--output FILE]
"""

from __future__ import annotations

import argparse
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cortex_m"
sys.path.insert(0, str(EXAMPLE / "tests"))
sys.path.insert(0, str(ROOT / "python"))

from run_firmware import run_qemu  # noqa: E402  (needs the sys.path entry above)

MODELS = ("mnist_mlp", "mnist_convnet")
CORES = {"cortex-m3": "mps2-an385", "cortex-m4": "mps2-an386", "cortex-m7": "mps2-an500"}
OPTIMIZATIONS = ("-Os", "-O2")
# measure_main.cpp: with -icount shift=6 an instruction takes 64 ns of virtual time, and the
# MPS2 timer ticks at 25 MHz (40 ns).
ICOUNT_SHIFT = 6
TIMER_TICK_NS = 40
QEMU_TIMEOUT_S = 300
CLASSIFY = "_Z8ClassifyPKaPa"


# ---------------------------------------------------------------------------------------
# MACs from the model's graph file


def model_macs(model: str) -> int:
    """Multiply-accumulates of one inference (Linear and convolution layers)."""
    from integr8 import qgraph

    return qgraph.load(ROOT / "python" / "integr8" / "bundled" / f"{model}.i8g").macs


# ---------------------------------------------------------------------------------------
# Flash and RAM from the linker map


def _map_input_sections(text: str):
    """(output section, input section name, size, file) for every input section placed."""
    memory_map = text[text.index("Linker script and memory map"):]
    output_section = None
    pending = None
    for line in memory_map.splitlines():
        if re.match(r"^\.[\w.]+", line):
            output_section = line.split()[0]
            continue
        match = re.match(r"^ (\.[^\s]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if match:
            yield output_section, match.group(1), int(match.group(3), 16), match.group(4)
            pending = None
            continue
        match = re.match(r"^ (\.[^\s]+)$", line)
        if match:
            pending = match.group(1)
            continue
        match = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if match and pending:
            yield output_section, pending, int(match.group(2), 16), match.group(3)
        pending = None


def _archive_members_for(text: str, objects: set[str]) -> set[str]:
    """Archive members linked in, directly or through one another, for `objects`."""
    block = text[:text.index("Discarded input sections")]
    pulled_by = re.findall(r"^(\S+\(\S+\))\n\s+(\S+) \(", block, re.M)
    wanted = set(objects)
    changed = True
    while changed:
        changed = False
        for member, referrer in pulled_by:
            if referrer in wanted and member not in wanted:
                wanted.add(member)
                changed = True
    return wanted - set(objects)


def _section_sizes(elf: pathlib.Path) -> dict:
    output = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], check=True,
                            capture_output=True, text=True).stdout
    return {parts[0]: int(parts[1]) for parts in (line.split() for line in output.splitlines())
            if len(parts) == 3 and parts[0].startswith(".")}


def _symbol_size(elf: pathlib.Path, pattern: str) -> int:
    output = subprocess.run(["arm-none-eabi-nm", "-S", "-C", str(elf)], check=True,
                            capture_output=True, text=True).stdout
    for line in output.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and re.search(pattern, parts[3]):
            return int(parts[1], 16)
    raise SystemExit(f"{elf}: no symbol matching {pattern}")


def footprint(build: pathlib.Path, model: str, core: str) -> dict:
    image = f"{model}_{core}"
    elf = build / f"{image}.elf"
    text = (build / f"{image}.map").read_text()
    classifier = f"CMakeFiles/classifier_{image}.dir/classifier.cpp.obj"
    integr8_files = {classifier} | _archive_members_for(text, {classifier})
    flash_sections = (".text", ".rodata", ".ARM.exidx", ".data")
    sizes = {"weights": 0, "integr8": 0, "images": 0}
    for output_section, name, size, source in _map_input_sections(text):
        if output_section not in flash_sections:
            continue
        if name.startswith(".rodata._ZN14integr8_models"):
            sizes["weights"] += size
        elif name.startswith(".rodata._ZN22integr8_example_images"):
            sizes["images"] += size
        elif source in integr8_files:
            sizes["integr8"] += size
    sections = _section_sizes(elf)
    flash = sum(sections.get(name, 0) for name in flash_sections)
    sizes["flash"] = flash
    # Everything else in flash: vector table, startup, printing, memset, alignment padding.
    sizes["example"] = flash - sizes["weights"] - sizes["integr8"] - sizes["images"]
    sizes["ram"] = sections.get(".data", 0) + sections.get(".bss", 0)
    sizes["arena"] = _symbol_size(elf, r"g_arena$")
    return sizes


# ---------------------------------------------------------------------------------------
# Worst-case stack of Classify


def _callgraph(ci: pathlib.Path):
    """({node: frame bytes}, {node: [callees]}) from a GCC -fcallgraph-info=su file."""
    frames, calls = {}, {}
    for line in ci.read_text().splitlines():
        node = re.match(r'node: \{ title: "([^"]+)" label: "(.*?)"', line)
        if node:
            usage = re.search(r"\\n(\d+) bytes \(([a-z,]+)\)$", node.group(2))
            if usage:
                if usage.group(2) != "static":
                    raise SystemExit(f"{ci}: {node.group(1)} has {usage.group(2)} stack usage")
                frames[node.group(1)] = int(usage.group(1))
            continue
        edge = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', line)
        if edge:
            calls.setdefault(edge.group(1), []).append(edge.group(2))
    return frames, calls


def _disassembled_frames(elf: pathlib.Path):
    """{function: [stack bytes, [callees], calls through a register]} from the disassembly,
    for routines (libgcc) that have no call graph file: every stack-pointer decrement in the
    body is added up, an upper bound, and every bl or tail-call branch to another function is
    a callee."""
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(elf)],
                             check=True, capture_output=True, text=True).stdout
    functions, current = {}, None
    for line in listing.splitlines():
        header = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if header:
            current = header.group(1)
            functions[current] = [0, [], False]
            continue
        if current is None or "\t" not in line:
            continue
        instruction = line.split("\t", 1)[1]
        registers = re.match(r"(?:push(?:\.w)?|stmdb(?:\.w)?\s+sp!,)\s*\{([^}]*)\}", instruction)
        if registers:
            functions[current][0] += 4 * len(registers.group(1).split(","))
        vector = re.match(r"vpush\s*\{([sd])(\d+)(?:-[sd](\d+))?\}", instruction)
        if vector:
            count = int(vector.group(3) or vector.group(2)) - int(vector.group(2)) + 1
            functions[current][0] += count * (8 if vector.group(1) == "d" else 4)
        decrement = re.match(r"sub(?:\.w|w)?\s+sp,\s*(?:sp,\s*)?#(\d+)", instruction)
        if decrement:
            functions[current][0] += int(decrement.group(1))
        pre_indexed = re.search(r"\[sp, #-(\d+)\]!", instruction)
        if pre_indexed:
            functions[current][0] += int(pre_indexed.group(1))
        if re.match(r"blx\s+r", instruction):
            functions[current][2] = True
        call = re.match(r"b(?:l|\.w)?\s+[0-9a-f]+ <([^>+]+)>", instruction)
        if call and call.group(1) != current:
            functions[current][1].append(call.group(1))
    return functions


def worst_case_stack(build: pathlib.Path, model: str, core: str) -> int:
    image = f"{model}_{core}"
    frames, calls = _callgraph(build / f"CMakeFiles/classifier_{image}.dir/classifier.cpp.ci")
    disassembled = None

    def depth(node: str, active: tuple) -> int:
        nonlocal disassembled
        if node in active:
            raise SystemExit(f"{image}: recursion through {node}; no stack bound")
        if node in frames:
            own, callees = frames[node], calls.get(node, [])
        else:  # outside classifier.cpp: a library routine
            if disassembled is None:
                disassembled = _disassembled_frames(build / f"{image}.elf")
            symbol = node.rsplit(":", 1)[-1]
            if symbol not in disassembled:
                # GCC records libcalls when it expands them; later passes may drop them (a
                # division by a constant becomes a multiply). Not linked means never called.
                return 0
            own, callees, indirect = disassembled[symbol]
            if indirect:
                raise SystemExit(f"{image}: {symbol} calls through a register; no stack bound")
        return own + max((depth(callee, active + (node,)) for callee in callees), default=0)

    return depth(CLASSIFY, ())


# ---------------------------------------------------------------------------------------
# Instructions and measured stack under QEMU


def measure(build: pathlib.Path, model: str, core: str) -> tuple[int, int]:
    """(instructions of one Classify, stack bytes it dirtied), from the measurement image,
    run twice: the figures count only if both runs agree."""
    firmware = build / f"{model}_{core}_measure.elf"
    outputs = []
    for _ in range(2):
        status, output = run_qemu("qemu-system-arm", CORES[core], str(firmware),
                                  QEMU_TIMEOUT_S, ("-icount", f"shift={ICOUNT_SHIFT}"))
        if status != 0:
            raise SystemExit(f"{firmware} failed under QEMU (status {status}): {output!r}")
        outputs.append(output)
    match = re.search(r"classify timer ticks (\d+), stack bytes (\d+)", outputs[0])
    if not match or outputs[0] != outputs[1]:
        raise SystemExit(f"{firmware}: no repeatable measurement: {outputs!r}")
    instructions = round(int(match.group(1)) * TIMER_TICK_NS / 2**ICOUNT_SHIFT)
    return instructions, int(match.group(2))


# ---------------------------------------------------------------------------------------


# The cores whose images select the Arm DSP backend (integr8/backend/select.h).
DSP_CORES = ("cortex-m4", "cortex-m7")


def build_example(optimization: str, portable: bool, jobs: int) -> pathlib.Path:
    build = ROOT / "build" / f"fw-footprint{optimization}{'-portable' if portable else ''}"
    subprocess.run(["cmake", "-S", str(EXAMPLE), "-B", str(build), "-G", "Ninja",
                    f"-DCMAKE_TOOLCHAIN_FILE={EXAMPLE / 'cmake' / 'arm-none-eabi.cmake'}",
                    f"-DINTEGR8_EXAMPLE_OPTIMIZATION={optimization}",
                    f"-DINTEGR8_EXAMPLE_PORTABLE_KERNELS={'ON' if portable else 'OFF'}"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build), "--parallel", str(jobs)], check=True,
                   stdout=subprocess.DEVNULL)
    return build


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs")
    parser.add_argument("--output", type=pathlib.Path, help="also write the table here")
    args = parser.parse_args(argv)

    macs = {model: model_macs(model) for model in MODELS}
    rows = []
    for optimization in OPTIMIZATIONS:
        for portable in (False, True):
            build = build_example(optimization, portable, args.jobs)
            for model in MODELS:
                for core in CORES:
                    if portable and core not in DSP_CORES:
                        continue  # the same image as without the option
                    backend = "arm-dsp" if core in DSP_CORES and not portable else "portable"
                    size = footprint(build, model, core)
                    instructions, measured_stack = measure(build, model, core)
                    rows.append("| " + " | ".join([
                        model, core, backend, optimization, f"{size['flash']:,}",
                        f"{size['weights']:,}", f"{size['integr8']:,}", f"{size['example']:,}",
                        f"{size['images']:,}", f"{size['ram']:,} ({size['arena']:,})",
                        f"{worst_case_stack(build, model, core)} / {measured_stack}",
                        f"{instructions:,}", f"{instructions / macs[model]:.2f}"]) + " |")
    table = "\n".join([
        "| model | core | backend | opt | flash B | weights B | integr8 code B | example code B "
        "| test images B | static RAM B (arena) | stack B worst / measured "
        "| instructions | instr/MAC |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "MACs per inference: " + ", ".join(f"{model} {count:,}" for model, count in macs.items()),
        ""])
    print(table, end="")
    if args.output:
        args.output.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
