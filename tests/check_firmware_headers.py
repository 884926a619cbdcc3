"""Fails if a firmware header (include/integr8, host/ and backend/eigen.h excepted) allocates,
throws or uses floating point. Comments are stripped first, so prose may mention these words."""
import pathlib
import re
import sys

FORBIDDEN = re.compile(r"\b(malloc|calloc|realloc|free|new|delete|throw|float|double)\b")
COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
STRINGS = re.compile(r'"(?:\\.|[^"\\])*"')
# The Eigen backend allocates through Eigen; it is host-only and integr8.h never includes it.
HOST_ONLY_HEADERS = {"backend/eigen.h"}


def main(include_dir: pathlib.Path) -> int:
    findings = []
    for header in sorted(include_dir.rglob("*.h")):
        relative = header.relative_to(include_dir)
        if "host" in relative.parts or relative.as_posix() in HOST_ONLY_HEADERS:
            continue
        code = STRINGS.sub('""', COMMENTS.sub(lambda m: "\n" * m.group().count("\n"),
                                              header.read_text()))
        for number, line in enumerate(code.splitlines(), start=1):
            for match in FORBIDDEN.finditer(line):
                findings.append(f"{header}:{number}: '{match.group()}' in firmware code")
    print("\n".join(findings) if findings else f"firmware headers clean under {include_dir}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
