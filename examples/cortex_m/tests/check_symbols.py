#!/usr/bin/env python3
"""Fails if a firmware image or object uses floating point, the heap, C++ exceptions or stdio.

Every symbol the file defines or references is matched against the routines each of these
needs: libgcc's soft-float arithmetic (__aeabi_f*, __aeabi_d*, __adddf3 and friends) and libm,
malloc/free/_sbrk and operator new/delete, the exception runtime (__cxa_throw, unwinder,
personality), and printf-family stdio. With --objdump, the disassembly is also searched for
floating-point instructions, which a hard-float build would use without any symbol.

    check_symbols.py --nm arm-none-eabi-nm [--objdump arm-none-eabi-objdump] FILE...
    check_symbols.py ... --expect-violation NAME ... FILE   # passes only if every NAME is found
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

FORBIDDEN = (
    ("soft-float routine", re.compile(
        r"^__aeabi_(?:[fd][a-z0-9]+|c[fd]\w+|[iu]?l?2[fd]|ul2[fd])$"
        r"|^__(?:add|sub|mul|div|neg|eq|ne|lt|le|gt|ge|unord|cmp|pow[i]?)(?:sf|df|tf|xf|hf)[23]$"
        r"|^__(?:float|fix|fixuns|extend|trunc)\w*(?:sf|df|tf|xf|hf)\w*$")),
    ("libm function", re.compile(
        r"^(?:sqrt|exp|exp2|expm1|log|log2|log10|log1p|pow|floor|ceil|round|lround|llround"
        r"|trunc|rint|lrint|nearbyint|fabs|fmod|frexp|ldexp|modf|sin|cos|tan|tanh|atan2?)[fl]?$")),
    ("heap", re.compile(
        r"^_?(?:malloc|calloc|realloc|free|memalign|aligned_alloc|posix_memalign)(?:_r)?$"
        r"|^_sbrk(?:_r)?$|^__malloc_\w+$"
        r"|^_Zn[wa]\w*$|^_Zd[la]\w*$")),  # operator new, new[], delete, delete[]
    ("exception runtime", re.compile(
        r"^__cxa_(?:throw|rethrow|allocate_exception|free_exception|begin_catch|end_catch"
        r"|call_unexpected)$|^__gxx_personality_\w+$|^_Unwind_\w+$|^__aeabi_unwind_cpp_pr\d$")),
    ("stdio", re.compile(
        r"^_?(?:v?[fs]?n?printf|v?[fs]?scanf|f?puts|putchar|fputc|fwrite|fflush)(?:_r)?$"
        r"|^_?v?fiprintf(?:_r)?$|^__sfvwrite_r$|^_dtoa_r$")),
)
# Any UAL mnemonic starting with 'v' is a VFP/Advanced SIMD instruction; integer Thumb code
# has none.
FP_INSTRUCTION = re.compile(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{4}\s?){1,2}\s+(v[a-z0-9.]+)\s", re.M)


def symbols(nm: str, path: str) -> set[str]:
    """Names the file defines or references (undefined ones included)."""
    output = subprocess.run([nm, "--format=posix", path], check=True, capture_output=True,
                            text=True).stdout
    return {line.split()[0] for line in output.splitlines() if line.strip()}


def violations(nm: str, objdump: str | None, path: str) -> list[tuple[str, str]]:
    found = [(name, kind) for name in sorted(symbols(nm, path))
             for kind, pattern in FORBIDDEN if pattern.match(name)]
    if objdump:
        listing = subprocess.run([objdump, "-d", path], check=True, capture_output=True,
                                 text=True).stdout
        found += [(mnemonic, "floating-point instruction")
                  for mnemonic in sorted(set(FP_INSTRUCTION.findall(listing)))]
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nm", required=True)
    parser.add_argument("--objdump")
    parser.add_argument("--expect-violation", action="append", metavar="NAME", default=[],
                        help="a violation the file must show (proves the check can fail)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    failed = False
    for path in args.files:
        found = violations(args.nm, args.objdump, path)
        for name, kind in found:
            print(f"{path}: {name} ({kind})")
        if args.expect_violation:
            missing = sorted(set(args.expect_violation) - {name for name, _ in found})
            if missing:
                print(f"{path}: the check missed {', '.join(missing)}")
                failed = True
        elif found:
            failed = True
        else:
            print(f"{path}: integer-only, no heap, no exceptions, no stdio")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
