"""Writes a :class:`~integr8.qgraph.QuantizedGraph` as a C++ model header.

The header is the firmware's whole view of a model: constant int8/int32 arrays in the device
layouts the graph already holds, one parameter aggregate per layer, an
``integr8::Sequential`` graph and its arena size, all in ``namespace integr8_models::<name>``
(examples/host/bars_model.h is a hand-written file of the same form). Like onnx2c's output it
starts with a provenance block (generator version, command line, checkpoint hash, quantization
scheme, spec version) and names each layer's source module, so a header in a firmware tree can
be audited and regenerated.

Guarantees:

- Regeneration is byte-identical: nothing time- or environment-dependent is written, metadata
  is sorted (sets too; a value without a reproducible text, such as an arbitrary object, is
  refused), and floats appear only in comments (``repr``, which is deterministic).
- No float token reaches code; scales travel as ``(multiplier, shift)`` pairs from
  :func:`integr8.reference.quantize_multiplier`.
- C++ identifiers derive only from the graph's validated names; user-supplied text (command
  line, metadata, source module names) appears only in ``//`` comments, reduced to printable
  ASCII without backslashes (which would splice lines), ``/*``, ``*/`` or ``??``.
- Every array is ``alignas(16) inline constexpr``: in flash, aligned, one copy per program.
- Writing is atomic (temporary file in the target directory, then ``os.replace``); a path
  outside the output directory, or an existing file that is not an integr8-generated header,
  is refused.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import textwrap
from pathlib import Path

import numpy as np

import integr8
from integr8 import ops, qgraph, reference, spec
from integr8.ops._text import shape_text

__all__ = ["ExportError", "PROVENANCE_MARKER", "render_header", "export_header"]

# Integer spec version the header is exported for (INTEGR8_SPEC_VERSION). A module attribute
# so that a test can export for another version and watch the static_assert fire.
SPEC_VERSION = spec.VERSION

# First line of every generated header; an existing file is only overwritten if it starts so.
PROVENANCE_MARKER = "// integr8-generated model header"

# Both are matched with fullmatch: "$" alone would accept a trailing newline.
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_WIDTH = 100  # soft limit for code lines
_INT8_PER_LINE = 16
_INT32_PER_LINE = 8

# Model names become a namespace and part of the include guard, so beyond qgraph's pattern
# they must not be a C++ keyword, be reserved ("__", or "_" at the end, which makes "__" in
# the guard), or shadow a name the header uses unqualified inside its namespace.
_CXX_KEYWORDS = frozenset("""
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
    char16_t char32_t class compl concept const consteval constexpr constinit const_cast
    continue co_await co_return co_yield decltype default delete do double dynamic_cast else
    enum explicit export extern false float for friend goto if inline int long mutable
    namespace new noexcept not not_eq nullptr operator or or_eq private protected public
    register reinterpret_cast requires return short signed sizeof static static_assert
    static_cast struct switch template this thread_local throw true try typedef typeid
    typename union unsigned using virtual void volatile wchar_t while xor xor_eq
""".split())
_RESERVED_MODEL_NAMES = frozenset({"std", "integr8", "integr8_models", "int8_t", "int32_t",
                                   "size_t"})


class ExportError(ValueError):
    """A graph, name or output path the exporter refuses; the message says which and why."""


# ---------------------------------------------------------------------------------------
# Text helpers


def _comment_text(value) -> str:
    """User text made safe for a // comment: printable ASCII only, one line.

    Backslashes (a trailing one splices the next line into the comment), control characters
    (newlines) and non-ASCII are written as <U+XXXX>; '/*', '*/' and '??' (a trigraph before
    C++17) are broken up with a space.
    """
    out = []
    for char in str(value):
        if " " <= char <= "~" and char != "\\":
            out.append(char)
        else:
            out.append(f"<U+{ord(char):04X}>")
    text = "".join(out)
    text = re.sub(r"\*(?=/)|/(?=\*)", lambda match: match.group() + " ", text)
    return re.sub(r"\?(?=\?)", "? ", text)


def _comment_lines(label: str, value, width: int = _WIDTH) -> list[str]:
    """'// label value', wrapped into lines of at most `width` characters."""
    text = _comment_text(value)
    first = f"// {label}"
    cont = "//" + " " * (len(first) - 2)
    room = max(20, width - len(first))
    chunks = [""]
    # Wraps between characters, never inside a <U+XXXX> escape.
    for atom in re.findall(r"<U\+[0-9A-F]{4,6}>|.", text, re.DOTALL):
        if len(chunks[-1]) + len(atom) > room:
            chunks.append("")
        chunks[-1] += atom
    return [(first if i == 0 else cont) + chunk for i, chunk in enumerate(chunks)]


def _cxx_int(value: int) -> str:
    value = int(value)
    # -2147483648 would be the negation of a (long) literal; spell INT32_MIN portably.
    return "-2147483647 - 1" if value == -(2**31) else str(value)


def _cxx_bool(value: bool) -> str:
    return "true" if value else "false"


def _wrap(tokens: list[str], first: str, cont: str, end: str) -> list[str]:
    """Joins tokens with ', ' into lines of at most _WIDTH characters; the last token gets
    `end` instead of ','."""
    lines: list[str] = []
    line = None
    for index, token in enumerate(tokens):
        piece = token + ("," if index + 1 < len(tokens) else end)
        if line is None:
            line = first + piece
            if len(line) > _WIDTH and first.strip():
                lines.append(first.rstrip())
                line = cont + piece
        elif len(line) + 1 + len(piece) <= _WIDTH:
            line += " " + piece
        else:
            lines.append(line)
            line = cont + piece
    lines.append(line if line is not None else first + end)
    return lines


def _array(ctype: str, ident: str, values: np.ndarray, dims: tuple[int, ...]) -> list[str]:
    """alignas(16) inline constexpr <ctype> ident[d0 * d1 ...] = {...}; a fixed count per
    line, right-aligned to the array's widest value."""
    flat = [int(v) for v in np.asarray(values).reshape(-1)]
    if len(flat) != math.prod(dims):
        raise ExportError(f"{ident}: {len(flat)} values for dimensions {dims}")
    per_line = _INT8_PER_LINE if ctype == "int8_t" else _INT32_PER_LINE
    head = f"alignas(16) inline constexpr {ctype} {ident}[{' * '.join(map(str, dims))}] = {{"
    items = [_cxx_int(v) for v in flat]
    if len(items) <= per_line and len(head) + len(", ".join(items)) + 2 <= _WIDTH:
        return [head + ", ".join(items) + "};"]
    width = max(len(item) for item in items)
    lines = [head]
    for start in range(0, len(items), per_line):
        row = items[start:start + per_line]
        lines.append("    " + ", ".join(item.rjust(width) for item in row) + ",")
    lines.append("};")
    return lines


def _params(type_name: str, ident: str, fields: list[tuple[str, str]],
            requantize: list[tuple[str, str]] | None = None) -> list[str]:
    """inline constexpr integr8::<type_name> ident, built by a constexpr lambda that assigns
    every field by name (requantize: the nested RequantizeParams' fields), so that the
    header does not depend on the order of the struct's fields."""
    assignments = [(name, value) for name, value in fields]
    assignments += [(f"requantize.{name}", value) for name, value in requantize or []]
    return ([f"inline constexpr integr8::{type_name} {ident} = [] {{",
             f"  integr8::{type_name} p{{}};"] +
            [f"  p.{name} = {value};" for name, value in assignments] +
            ["  return p;", "}();"])


def _alias(stem: str, template: str, suffixes: list[str]) -> list[str]:
    """using Stem = integr8::Template<kStemA, kStemB>; wrapped at _WIDTH."""
    return _wrap([f"k{stem}{suffix}" for suffix in suffixes],
                 f"using {stem} = integr8::{template}<", "    ", ">;")


def _camel(name: str) -> str:
    """features_0 -> Features0: the CamelCase stem of a layer's C++ identifiers."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


# ---------------------------------------------------------------------------------------
# Identifiers


def _check_model_name(name) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ExportError(f"model name {name!r} must match [a-z][a-z0-9_]*")
    if name in _CXX_KEYWORDS or name in _RESERVED_MODEL_NAMES:
        raise ExportError(f"model name {name!r} cannot name the C++ namespace "
                          f"integr8_models::{name} (a C++ keyword or a name the header uses)")
    if "__" in name or name.endswith("_"):
        raise ExportError(f"model name {name!r} would give a reserved C++ identifier "
                          "('__' in the namespace or include guard)")


def _layer_identifiers(layer) -> list[str]:
    stem = _camel(layer.name)
    op = ops.of(layer)
    arrays = [role.suffix for role in op.arrays]
    if op.requantizes:
        arrays += ["Multipliers", "Shifts"]
    return [f"k{stem}{suffix}" for suffix in arrays + ["Params"]] + [stem]


_FIXED_IDENTIFIERS = (
    "kInputHeight", "kInputWidth", "kInputChannels", "kInputZeroPoint", "kInputScaleMultiplier",
    "kInputScaleShift", "kOutputElements", "kOutputZeroPoint", "kOutputScaleMultiplier",
    "kOutputScaleShift", "Model", "kArenaBytes", "kWeightBytes")


def _check_identifiers(graph: qgraph.QuantizedGraph) -> None:
    """Every C++ identifier the header declares is unique: CamelCase conversion may merge
    distinct layer names ('a_1' and 'a1' both give A1), or hit a fixed name ('model')."""
    owners = {ident: "the model's fixed declarations" for ident in _FIXED_IDENTIFIERS}
    for layer in qgraph.iter_layers(graph.layers):
        if not isinstance(layer.name, str) or not _NAME.fullmatch(layer.name):
            raise ExportError(f"layer name {layer.name!r} must match [a-z][a-z0-9_]*")
        for ident in _layer_identifiers(layer):
            owner = f"layer '{layer.name}'"
            if ident in owners:
                raise ExportError(
                    f"{owner} and {owners[ident]} both map to the C++ identifier '{ident}'; "
                    "rename one of them")
            owners[ident] = owner


# ---------------------------------------------------------------------------------------
# Layers


def _multiplier(layer: str, field: str, real: float) -> tuple[int, int]:
    try:
        return reference.quantize_multiplier(real)
    except ValueError as error:
        raise ExportError(f"{layer}: {field}: {error}") from None


def _requantize_fields(stem: str, requant: qgraph.Requantization) -> list[tuple[str, object]]:
    return [("multipliers", f"k{stem}Multipliers"), ("shifts", f"k{stem}Shifts"),
            ("per_channel", bool(requant.per_channel)),
            ("output_zero_point", requant.output_zero_point),
            ("activation_min", requant.activation_min),
            ("activation_max", requant.activation_max)]


def _requantize_arrays(stem: str, requant: qgraph.Requantization) -> list[str]:
    count = int(requant.multipliers.size)
    return (_array("int32_t", f"k{stem}Multipliers", requant.multipliers, (count,)) +
            _array("int32_t", f"k{stem}Shifts", requant.shifts, (count,)))


def _cxx_value(value) -> str:
    """A params field as a C++ token: a bool, an int, or an identifier (str)."""
    if isinstance(value, (bool, np.bool_)):
        return _cxx_bool(value)
    if isinstance(value, str):
        return value
    return _cxx_int(value)


def _layer_comment(layer, within: str | None) -> list[str]:
    where = f" in residual block '{within}'" if within else ""
    # Only validated names and numbers here, so wrapping at spaces is all that is needed.
    lines = textwrap.wrap(f"layer '{layer.name}'{where}: {ops.of(layer).describe(layer)}",
                          _WIDTH - 3, initial_indent="// ", subsequent_indent="//   ",
                          break_long_words=False, break_on_hyphens=False)
    lines += _comment_lines("source module: ", layer.source)
    scale, zero_point = float(layer.output.scale), layer.output.zero_point
    lines.append(f"// {shape_text(layer.input_shape)} -> {shape_text(layer.output_shape)}, "
                 f"output scale {scale!r}, zero point {zero_point}")
    return lines


def _emit_layer(layer, within: str | None = None) -> list[str]:
    """Declarations of one layer (an op's body first); ends with its type alias."""
    op = ops.of(layer)
    stem = _camel(layer.name)
    lines = _layer_comment(layer, within)
    if op.array_comment:
        lines.append(f"// {op.array_comment}")
    for role in op.arrays:
        values = getattr(layer, role.field)
        lines += _array(role.ctype, f"k{stem}{role.suffix}", values, values.shape)
    fields = [(name, _cxx_value(value)) for name, value in op.params(layer)]
    requantize = None
    if op.requantizes:
        lines += _requantize_arrays(stem, layer.requantization)
        requantize = [(name, _cxx_value(value))
                      for name, value in _requantize_fields(stem, layer.requantization)]
    template = op.cxx_layer(layer)
    if op.body is None:
        lines += _params(op.cxx_params, f"k{stem}Params", fields, requantize)
        return lines + _alias(stem, template, ["Params"] + [role.suffix for role in op.arrays])
    before, after = op.body_comments
    lines.append(f"// {before.format(name=layer.name)}")
    body = getattr(layer, op.body)
    for child in body:
        lines.append("")
        lines += _emit_layer(child, within=layer.name)
    lines += ["", f"// {after.format(name=layer.name)}"]
    lines += _params(op.cxx_params, f"k{stem}Params", fields, requantize)
    return lines + _wrap([_camel(child.name) for child in body],
                         f"using {stem} = integr8::{template}<k{stem}Params, "
                         "integr8::Sequential<", "    ", ">>;")


# ---------------------------------------------------------------------------------------
# Header


def _metadata_value(key: str, value) -> str:
    try:
        value = qgraph.canonical_metadata(key, value)
    except qgraph.GraphError as error:
        raise ExportError(str(error)) from None
    if isinstance(value, (str, bool, int)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, sort_keys=True)


def _provenance(graph: qgraph.QuantizedGraph, command: str,
                checkpoint_sha256: str | None) -> list[str]:
    lines = [f"{PROVENANCE_MARKER}: do not edit, regenerate it with the command below.",
             f"// Model '{graph.name}' for integr8, integer-only inference (docs/spec.md).",
             "//"]
    lines += _comment_lines("generator:    ", f"integr8 {integr8.__version__} (integr8.export)")
    lines += _comment_lines("command:      ", command)
    lines += _comment_lines("checkpoint:   ", "sha256 " + checkpoint_sha256.lower()
                            if checkpoint_sha256 else "sha256 not recorded")
    lines.append(f"// integer spec: version {SPEC_VERSION} (docs/spec.md)")
    if graph.metadata:
        lines.append("// quantization:")
        for key in sorted(graph.metadata, key=str):
            lines += _comment_lines(f"  {_comment_text(key)}: ",
                                    _metadata_value(str(key), graph.metadata[key]))
    else:
        lines.append("// quantization: no metadata recorded")
    return lines


def render_header(graph: qgraph.QuantizedGraph, *, command: str,
                  checkpoint_sha256: str | None) -> str:
    """The text of ``<graph.name>.h`` (see export_header); deterministic for equal inputs."""
    if not isinstance(graph, qgraph.QuantizedGraph):
        raise TypeError(f"graph must be an integr8.qgraph.QuantizedGraph, got "
                        f"{type(graph).__name__}")
    if not isinstance(command, str):
        raise TypeError(f"command must be a str, got {type(command).__name__}")
    if checkpoint_sha256 is not None and (not isinstance(checkpoint_sha256, str)
                                          or not _SHA256.fullmatch(checkpoint_sha256)):
        raise ExportError(f"checkpoint_sha256 {checkpoint_sha256!r} is not 64 hex digits")
    _check_model_name(graph.name)
    _check_identifiers(graph)

    name = graph.name
    guard = f"INTEGR8_MODEL_{name.upper()}_H_"
    in_shape, in_quant = graph.input_shape, graph.input
    out_quant = graph.output
    # Written as m * 2^-n, so these scales must lie in [2^-31, 2^30) (subnormal ones do not).
    in_m, in_n = _multiplier(f"model '{name}'", "input scale", in_quant.scale)
    out_m, out_n = _multiplier(f"model '{name}'", "output scale (the last layer's)",
                               out_quant.scale)
    weight_bytes = int(graph.weight_bytes)
    if weight_bytes > spec.INT32_MAX:
        raise ExportError(f"model '{name}' holds {weight_bytes} weight bytes, more than int32")

    lines = _provenance(graph, command, checkpoint_sha256)
    lines += [
        "",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <cstddef>",
        "#include <cstdint>",
        "",
        "#include <integr8/integr8.h>",
        "",
        f"static_assert(INTEGR8_SPEC_VERSION == {SPEC_VERSION},",
        f'              "{name}.h was exported for integer spec {SPEC_VERSION}; this integr8 "',
        '              "implements another spec version: re-export the model");',
        "",
        "namespace integr8_models {",
        f"namespace {name} {{",
        "",
        "// Input, HWC int8: q = clamp(round(x / scale) + zero point, -128, 127). Scales are",
        "// m * 2^-n (docs/spec.md section 2.1) so that no float reaches firmware.",
        f"inline constexpr int32_t kInputHeight = {in_shape.height};",
        f"inline constexpr int32_t kInputWidth = {in_shape.width};",
        f"inline constexpr int32_t kInputChannels = {in_shape.channels};",
        f"inline constexpr int32_t kInputZeroPoint = {in_quant.zero_point};",
        f"inline constexpr int32_t kInputScaleMultiplier = {in_m};  "
        f"// scale {float(in_quant.scale)!r}",
        f"inline constexpr int32_t kInputScaleShift = {in_n};",
        "// Output, int8: x = scale * (q - zero point).",
        f"inline constexpr int32_t kOutputElements = {graph.output_shape.elements};",
        f"inline constexpr int32_t kOutputZeroPoint = {out_quant.zero_point};",
        f"inline constexpr int32_t kOutputScaleMultiplier = {out_m};  "
        f"// scale {float(out_quant.scale)!r}",
        f"inline constexpr int32_t kOutputScaleShift = {out_n};",
    ]
    for layer in graph.layers:
        lines.append("")
        lines += _emit_layer(layer)
    lines.append("")
    lines += _wrap([_camel(layer.name) for layer in graph.layers],
                   "using Model = integr8::Sequential<", "    ", ">;")
    lines += [
        "// Bytes of arena Model::Invoke needs: alignas(16) int8_t arena[kArenaBytes] (it may be",
        "// 0 when every tensor is the caller's input or output).",
        "inline constexpr size_t kArenaBytes = Model::kArenaBytes;",
        "// Bytes of int8 weights and filters (biases and multipliers take 4 bytes per entry).",
        f"inline constexpr int32_t kWeightBytes = {weight_bytes};",
        "",
        f"}}  // namespace {name}",
        "}  // namespace integr8_models",
        "",
        f"#endif  // {guard}",
    ]
    text = "\n".join(lines) + "\n"
    text.encode("ascii")  # everything user-supplied went through _comment_text
    return text


# ---------------------------------------------------------------------------------------
# Writing


def _check_target(out_dir: Path, name) -> Path:
    """The header path inside out_dir, refusing traversal and foreign files."""
    if not out_dir.is_dir():
        raise ExportError(f"output directory {str(out_dir)!r} does not exist or is not a "
                          "directory")
    if not isinstance(name, str) or not name or "\0" in name:
        raise ExportError(f"model name {name!r} cannot name a file")
    target = out_dir / f"{name}.h"
    seps = {os.sep, os.altsep} - {None}
    if target.is_symlink():
        raise ExportError(f"refusing to overwrite {str(target)!r}: it is a symbolic link")
    # The file itself is not resolved (a symlink was refused above), only where it lies.
    if (any(sep in name for sep in seps) or name in (".", "..")
            or Path(os.path.normpath(target)).parent.resolve() != out_dir.resolve()):
        raise ExportError(f"model name {name!r} would write {str(target)!r}, outside the "
                          f"output directory {str(out_dir)!r}; refusing")
    if target.exists():
        if not target.is_file():
            raise ExportError(f"refusing to overwrite {str(target)!r}: not a regular file")
        with open(target, "rb") as existing:
            first_line = existing.readline(len(PROVENANCE_MARKER) + 200)
        if not first_line.startswith(PROVENANCE_MARKER.encode("ascii")):
            raise ExportError(
                f"refusing to overwrite {str(target)!r}: it is not an integr8-generated header "
                f"(its first line does not start with {PROVENANCE_MARKER!r})")
    return target


def export_header(graph: qgraph.QuantizedGraph, out_dir, *, command: str,
                  checkpoint_sha256: str | None) -> Path:
    """Writes ``<out_dir>/<graph.name>.h`` and, beside it, the graph file
    ``<graph.name>.i8g`` (integr8.qgraph.save) atomically; returns the header's path.

    command: the command line that produced the header (recorded in a comment).
    checkpoint_sha256: hex SHA-256 of the checkpoint the graph was calibrated from, or None.

    Raises ExportError when the graph cannot be expressed (identifier collisions after
    CamelCase conversion, multipliers out of range, ...), when the name would leave out_dir,
    or when the target exists and is not an integr8-generated header. On any error the
    directory is left as it was.
    """
    out_dir = Path(out_dir)
    target = _check_target(out_dir, getattr(graph, "name", None))
    data = render_header(graph, command=command,
                         checkpoint_sha256=checkpoint_sha256).encode("ascii")
    graph_file = target.with_suffix(qgraph.GRAPH_FILE_SUFFIX)
    if graph_file.is_symlink() or (graph_file.exists() and not graph_file.is_file()):
        raise ExportError(f"refusing to overwrite {str(graph_file)!r}: not a regular file")
    # The graph first: a header on disk always has its graph beside it.
    qgraph.save(graph, graph_file, export_record={"command": command,
                                                  "checkpoint_sha256": checkpoint_sha256})
    mode = (target.stat().st_mode & 0o777) if target.exists() else 0o644
    fd, temp_name = tempfile.mkstemp(prefix=f".{graph.name}.h.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    return target
