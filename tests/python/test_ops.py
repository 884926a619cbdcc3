"""The op descriptors (integr8.ops) against the quantized graph and the C++ headers.

Every layer kind has one descriptor; each descriptor's params are the C++ params struct's
fields by name and in declaration order (read from include/integr8/types.h, the library's
own header); its arrays are layer fields of the C++ element type; and the layer template it
names exists in the graph headers.
"""

import pathlib
import re

import numpy as np
import pytest

from integr8 import ops, qgraph

import test_export

REPO = pathlib.Path(__file__).resolve().parents[2]
TYPES_H = (REPO / "include" / "integr8" / "types.h").read_text()
LAYERS_H = (REPO / "include" / "integr8" / "graph" / "layers.h").read_text()
CTYPES = {"int8_t": np.int8, "int32_t": np.int32}


def _struct_fields(name: str) -> list[str]:
    body = re.search(rf"struct {name} \{{\n(.*?)\n\}};", TYPES_H, re.DOTALL)
    assert body, f"struct {name} not found in types.h"
    return [re.match(r"\s*[\w:]+\*?\s+\*?(\w+)", line).group(1)
            for line in body.group(1).splitlines() if line.strip()]


def _layers():
    """Every layer of the test graphs, one or more of each kind."""
    graphs = (test_export.build_mlp(), test_export.build_convnet(), test_export.build_resnet())
    return [layer for graph in graphs for layer in qgraph.iter_layers(graph.layers)]


def test_every_layer_kind_has_one_descriptor():
    assert set(ops.OPS) == set(qgraph.LAYER_KINDS.values())
    assert {type(layer) for layer in _layers()} == set(ops.OPS)  # the tests below see all


def test_an_object_that_is_no_layer_is_refused():
    with pytest.raises(qgraph.GraphError, match="is not a layer kind integr8 knows"):
        ops.of(object())


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: layer.name)
def test_params_are_the_cpp_fields_by_name(layer):
    op = ops.of(layer)
    names = [name for name, _ in op.params(layer)]
    if op.requantizes:
        names.append("requantize")
    assert names == _struct_fields(op.cxx_params)
    template = op.cxx_layer(layer)
    assert re.search(rf"^(struct {template} \{{|using {template} = )", LAYERS_H, re.MULTILINE)
    for role in op.arrays:
        assert getattr(layer, role.field).dtype == CTYPES[role.ctype], role


def test_weights_by_output_hold_every_weight_once_per_channel():
    for layer in _layers():
        op = ops.of(layer)
        if op.weights_by_output is None:
            continue
        rows = op.weights_by_output(layer)
        channels = layer.output_shape.channels
        assert rows.shape[0] == channels and rows.size == getattr(layer, op.arrays[0].field).size
