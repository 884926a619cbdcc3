"""Graph capture: a float ``torch.nn.Module`` becomes a chain of float layers.

:func:`capture` traces a model with ``torch.fx.symbolic_trace`` (core torch only; not
``torch.ao.quantization``, which is deprecated), checks every node against what integr8 can
run, and returns a :class:`FloatGraph`: the layers the quantized graph will have
(``integr8.qgraph``), still in float64, with

- BatchNorm2d folded into the preceding Conv2d (float64);
- ReLU / ReLU6 fused into the preceding Linear, Conv2d or residual add when that layer's
  output has no other consumer (otherwise a standalone clamp layer);
- Flatten / ``torch.flatten`` / ``x.view(x.size(0), -1)`` removed (a no-op in HWC), the next
  Linear's columns permuted from torch's CHW flatten order to HWC order (spec section 1);
- a residual add whose one operand is the input of a block and the other the block's body
  output nested as a residual block (identity shortcut only).

Anything else raises :class:`CaptureError` naming the module (its qualified path) or the
function, and listing what is supported. Layer names are the torch module paths sanitized to
``[a-z][a-z0-9_]*`` (``features.0`` -> ``features_0``); two modules whose names collide after
sanitizing are refused, never renamed silently.

A :class:`FloatGraph` runs in float (:meth:`FloatGraph.forward`) on NCHW input like the model,
keeping activations NHWC internally; with ``trace=True`` it also returns every layer's output,
which is what calibration observes and what validation compares the integer graph with.
"""

from __future__ import annotations

import dataclasses
import keyword
import math
import operator
import re
from typing import Optional, Union

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from integr8.qgraph import GraphError, Shape

__all__ = [
    "CaptureError",
    "SUPPORTED",
    "FloatLayer",
    "FloatLinear",
    "FloatConv2d",
    "FloatPool2d",
    "FloatRelu",
    "FloatResidual",
    "FloatGraph",
    "capture",
    "sanitize_name",
]

SUPPORTED = (
    "modules torch.nn.Linear, Conv2d (grouped; groups == in_channels > 1 is depthwise), "
    "BatchNorm2d (directly after a Conv2d), ReLU, ReLU6, MaxPool2d, AvgPool2d, "
    "AdaptiveAvgPool2d(1), Flatten, Identity, Dropout (eval); functions torch.relu, "
    "torch.nn.functional.relu, torch.nn.functional.relu6, Tensor.relu, torch.flatten, "
    "Tensor.flatten, Tensor.view / Tensor.reshape / torch.reshape to [N, -1], Tensor.size, "
    "Tensor.contiguous, and a residual add (operator.add, torch.add, Tensor.add, +=) of a "
    "block's input and its body's output (identity shortcut)")


class CaptureError(GraphError):
    """A model (or one of its layers or options) that integr8 cannot capture."""


# ---------------------------------------------------------------------------------------
# Float layers


@dataclasses.dataclass(eq=False)
class FloatLayer:
    """One layer of the float chain; ``name`` is the qgraph layer name, ``source`` the torch
    modules / functions it was made from, ``node`` the fx node whose value is its output."""

    name: str
    source: str
    input_shape: Shape
    output_shape: Shape
    node: str


@dataclasses.dataclass(eq=False)
class FloatLinear(FloatLayer):
    weight: np.ndarray  # float64 [out, in], columns in HWC order of the input
    bias: np.ndarray  # float64 [out]
    activation: Optional[str]  # None, "relu" or "relu6"


@dataclasses.dataclass(eq=False)
class FloatConv2d(FloatLayer):
    weight: np.ndarray  # float64 OIHW (PyTorch layout), BatchNorm folded in
    bias: np.ndarray  # float64 [out]
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    activation: Optional[str]

    @property
    def depthwise(self) -> bool:
        """groups == in_channels > 1: integr8's depthwise kernel (1HWC filter)."""
        return self.groups > 1 and self.groups == self.input_shape.channels


@dataclasses.dataclass(eq=False)
class FloatPool2d(FloatLayer):
    kind: str  # "max" or "avg"
    kernel: tuple
    stride: tuple
    padding: tuple
    ceil_mode: bool
    count_include_pad: bool


@dataclasses.dataclass(eq=False)
class FloatRelu(FloatLayer):
    kind: str  # "relu" or "relu6"


@dataclasses.dataclass(eq=False)
class FloatResidual(FloatLayer):
    body: list  # of float layers, input_shape -> input_shape
    activation: Optional[str]


FloatLayerType = Union[FloatLinear, FloatConv2d, FloatPool2d, FloatRelu, FloatResidual]


def _iter(layers):
    for layer in layers:
        if isinstance(layer, FloatResidual):
            yield from _iter(layer.body)
        yield layer


def _activate(y: torch.Tensor, activation: Optional[str]) -> torch.Tensor:
    if activation == "relu":
        return y.clamp_min(0.0)
    if activation == "relu6":
        return y.clamp(0.0, 6.0)
    return y


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1).contiguous()


@dataclasses.dataclass(eq=False)
class FloatGraph:
    """The captured float chain of a model.

    input_shape is the HWC shape the quantized graph takes; torch_input_shape the per-sample
    shape the model takes ((C, H, W), or (F,) for a vector).
    """

    model_name: str
    torch_input_shape: tuple
    input_shape: Shape
    layers: list

    def iter_layers(self):
        """Every layer, residual bodies included, a block after its body (as qgraph)."""
        return _iter(self.layers)

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape

    def to_nhwc(self, x) -> torch.Tensor:
        """Model input [N, *torch_input_shape] -> NHWC [N, H, W, C] (a vector: [N, 1, 1, F])."""
        x = torch.as_tensor(x)
        if x.dim() != len(self.torch_input_shape) + 1 or \
                tuple(x.shape[1:]) != tuple(self.torch_input_shape):
            raise CaptureError(f"model '{self.model_name}': input shape {tuple(x.shape)} is not "
                               f"[N, {', '.join(map(str, self.torch_input_shape))}]")
        if x.dim() == 2:
            return x.reshape(x.shape[0], 1, 1, x.shape[1])
        return _nhwc(x)

    def forward(self, x, *, trace: bool = False, dtype: torch.dtype = torch.float32):
        """Runs the float chain on model input x (NCHW, like the model).

        Returns [N, outputs]: the last layer's NHWC output flattened per sample (HWC order, as
        ``integr8.interpreter.run``); with trace=True, (output, {layer name: NHWC output}), every
        layer including residual bodies, a vector as [N, 1, 1, C].
        """
        h = self.to_nhwc(x).to(dtype)
        outputs = {} if trace else None
        with torch.no_grad():
            h = _run_chain(self.layers, h, outputs, dtype)
        result = h.reshape(h.shape[0], -1)
        return (result, outputs) if trace else result

    __call__ = forward


def _tensor(array: np.ndarray, dtype) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype)


def _run_chain(layers, h, outputs, dtype):
    for layer in layers:
        h = _run_layer(layer, h, outputs, dtype)
    return h


def _run_layer(layer, h, outputs, dtype):
    n = h.shape[0]
    if isinstance(layer, FloatLinear):
        y = h.reshape(n, -1) @ _tensor(layer.weight, dtype).T + _tensor(layer.bias, dtype)
        y = _activate(y, layer.activation).reshape(n, 1, 1, -1)
    elif isinstance(layer, FloatConv2d):
        y = F.conv2d(_nchw(h), _tensor(layer.weight, dtype), _tensor(layer.bias, dtype),
                     stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                     groups=layer.groups)
        y = _activate(_nhwc(y), layer.activation)
    elif isinstance(layer, FloatPool2d):
        if layer.kind == "max":
            y = F.max_pool2d(_nchw(h), layer.kernel, layer.stride, layer.padding,
                             ceil_mode=layer.ceil_mode)
        else:
            y = F.avg_pool2d(_nchw(h), layer.kernel, layer.stride, layer.padding,
                             ceil_mode=layer.ceil_mode,
                             count_include_pad=layer.count_include_pad)
        y = _nhwc(y)
    elif isinstance(layer, FloatRelu):
        y = _activate(h, layer.kind)
    elif isinstance(layer, FloatResidual):
        body = _run_chain(layer.body, h, outputs, dtype)
        y = _activate(h + body, layer.activation)
    else:  # pragma: no cover - capture only builds the classes above
        raise TypeError(f"not a float layer: {type(layer).__name__}")
    expected = (n, *layer.output_shape.as_tuple())
    if tuple(y.shape) != expected:  # pragma: no cover - capture checked the shapes
        raise CaptureError(f"layer '{layer.name}': float output shape {tuple(y.shape)} is not "
                           f"{expected}")
    if outputs is not None:
        outputs[layer.name] = y
    return y


# ---------------------------------------------------------------------------------------
# Names

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


def sanitize_name(raw: str) -> str:
    """A torch module path or node name as a layer name matching [a-z][a-z0-9_]*.

    Lower case; every other character becomes '_', runs of '_' collapse and leading/trailing
    ones go (C++ reserves '__'); a name that does not start with a letter, or is a Python or
    C++ keyword, gets the prefix 'layer_' ('0' -> 'layer_0', 'features.0' -> 'features_0').
    """
    name = re.sub(r"[^a-z0-9_]", "_", str(raw).lower())
    name = re.sub(r"_+", "_", name).strip("_")
    if not name:
        return "layer"
    if not name[0].isalpha() or keyword.iskeyword(name) or name in _CXX_KEYWORDS:
        name = "layer_" + name
    return name


_NAMESPACES = (("operator", operator), ("torch", torch), ("torch.nn.functional", F),
               ("torch.Tensor", torch.Tensor))


def _qualified(target) -> str:
    """torch.nn.functional.relu, operator.add, ... for an fx call_function target."""
    attr = getattr(target, "__name__", None)
    for prefix, namespace in _NAMESPACES:
        if attr and getattr(namespace, attr, None) is target:
            return f"{prefix}.{attr}"
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', attr or repr(target))}"


def _module_type(module: nn.Module) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------------------------------
# Node classification

_MODULE_KINDS = {
    nn.Linear: "linear",
    nn.Conv2d: "conv",
    nn.BatchNorm2d: "bn",
    nn.ReLU: "relu",
    nn.ReLU6: "relu6",
    nn.MaxPool2d: "maxpool",
    nn.AvgPool2d: "avgpool",
    nn.AdaptiveAvgPool2d: "gap",
    nn.Flatten: "flatten",
    nn.Identity: "noop",
    nn.Dropout: "noop",
}

_FUNCTION_KINDS = {
    F.relu: "relu",
    torch.relu: "relu",
    F.relu6: "relu6",
    torch.flatten: "flatten",
    torch.reshape: "view",
    operator.add: "add",
    operator.iadd: "add",
    torch.add: "add",
}
_INPLACE_FUNCTIONS = {torch.relu_: "relu", F.relu_: "relu"}

_METHOD_KINDS = {"relu": "relu", "relu_": "relu", "flatten": "flatten", "view": "view",
                 "reshape": "view", "add": "add", "size": "shape", "contiguous": "noop"}

_SINGLE_INPUT = {"linear", "conv", "bn", "relu", "relu6", "maxpool", "avgpool", "gap",
                 "flatten", "view", "noop"}


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float64 NumPy copy (never a view of the model's parameters)."""
    return tensor.detach().cpu().double().numpy().copy()


def _pair(value) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value), int(value))


class _Capture:
    def __init__(self, model: nn.Module, input_shape: tuple):
        self.model = model
        self.input_shape = input_shape
        self.model_name = type(model).__name__
        try:
            self.gm = torch.fx.symbolic_trace(model)
        except Exception as error:  # fx raises many types (TraceError, TypeError, ...)
            raise CaptureError(
                f"model '{self.model_name}': torch.fx.symbolic_trace failed ({type(error).__name__}"
                f": {error}); integr8 captures models built from {SUPPORTED}") from error
        self.modules = dict(self.gm.named_modules())
        self.nodes = list(self.gm.graph.nodes)
        self.kind = {}
        self.inplace = {}
        self.hwc = {}  # node -> HWC Shape of its value (a flattened map keeps its HWC shape)
        self.visited = set()
        self.shapes = {}  # node -> shape of its value on an example batch of 2
        self.names = {}  # layer name -> source

    # -- naming ---------------------------------------------------------------------

    def _where(self, node) -> str:
        """A human name for a node: the module path, or the owner path and the function."""
        if node.op == "call_module":
            return f"module '{node.target}' ({_module_type(self.modules[node.target])})"
        if node.op == "call_function":
            return f"function {_qualified(node.target)} (node '{self._node_path(node)}')"
        if node.op == "call_method":
            return f"method torch.Tensor.{node.target} (node '{self._node_path(node)}')"
        return f"{node.op} '{node.target}'"

    def _node_path(self, node) -> str:
        if node.op == "call_module":
            return str(node.target)
        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack.keys())[-1] if stack else ""
        return f"{owner}.{node.name}" if owner else node.name

    def _source(self, node) -> str:
        if node.op == "call_module":
            return f"{node.target} ({type(self.modules[node.target]).__name__})"
        if node.op == "call_function":
            return f"{self._node_path(node)} ({_qualified(node.target)})"
        return f"{self._node_path(node)} (torch.Tensor.{node.target})"

    def _name(self, node) -> str:
        raw = self._node_path(node)
        name = sanitize_name(raw)
        if name in self.names:
            raise CaptureError(
                f"layer names collide after sanitizing to [a-z][a-z0-9_]*: '{self.names[name]}'"
                f" and '{raw}' both become '{name}'; rename one of the modules")
        self.names[name] = raw
        return name

    # -- pass 1: every node is supported, with supported options --------------------

    def classify(self):
        placeholders = [node for node in self.nodes if node.op == "placeholder"]
        if len(placeholders) != 1:
            raise CaptureError(f"model '{self.model_name}': forward must take exactly one "
                               f"tensor, got {[node.target for node in placeholders]}")
        for node in self.nodes:
            self.kind[node] = self._classify(node)

    def _unsupported(self, node, what: str):
        raise CaptureError(f"unsupported {what}; integr8 supports {SUPPORTED}")

    def _classify(self, node) -> str:
        if node.op == "placeholder":
            return "input"
        if node.op == "output":
            if not isinstance(node.args[0], torch.fx.Node):
                raise CaptureError(f"model '{self.model_name}': forward must return one tensor, "
                                   f"got {node.args[0]!r}")
            return "output"
        if node.op == "get_attr":
            self._unsupported(node, f"use of parameter/buffer '{node.target}' in forward")
        if node.op == "call_module":
            module = self.modules[node.target]
            kind = _MODULE_KINDS.get(type(module))
            if kind is None:
                self._unsupported(node, self._where(node))
            self._check_module(node, module, kind)
            self.inplace[node] = bool(getattr(module, "inplace", False)) and kind in (
                "relu", "relu6")
            return kind
        if node.op == "call_function":
            target = node.target
            if target is getattr and len(node.args) == 2 and node.args[1] == "shape":
                return "shape"
            if target is operator.getitem and isinstance(node.args[0], torch.fx.Node) and \
                    self.kind.get(node.args[0]) == "shape":
                return "shape"
            kind = None
            try:
                kind = _FUNCTION_KINDS.get(target) or _INPLACE_FUNCTIONS.get(target)
            except TypeError:
                pass
            if kind is None:
                self._unsupported(node, self._where(node))
            self.inplace[node] = target in _INPLACE_FUNCTIONS or bool(
                node.kwargs.get("inplace", False))
            if kind == "add":
                self._check_add_options(node)
            return kind
        if node.op == "call_method":
            kind = _METHOD_KINDS.get(node.target)
            if kind is None:
                self._unsupported(node, self._where(node))
            self.inplace[node] = node.target == "relu_"
            if kind == "add":
                self._check_add_options(node)
            return kind
        self._unsupported(node, f"fx node '{node.name}' ({node.op})")  # pragma: no cover

    def _check_add_options(self, node):
        alpha = node.kwargs.get("alpha", 1)
        if len(node.args) > 2:
            alpha = node.args[2]
        if alpha != 1:
            raise CaptureError(f"{self._where(node)}: alpha = {alpha!r} is not supported "
                               "(a residual add is a + b)")
        if "out" in node.kwargs:
            raise CaptureError(f"{self._where(node)}: out= is not supported")

    def _fail(self, node, field: str, value, why: str):
        raise CaptureError(f"{self._where(node)}: {field} = {value!r}: {why}")

    def _check_finite(self, node, field: str, tensor):
        if tensor is None:
            return
        values = tensor.detach()
        if not torch.isfinite(values).all():
            bad = values[~torch.isfinite(values)][0].item()
            self._fail(node, field, bad, "weights must be finite (NaN/Inf found)")

    def _check_module(self, node, module, kind):
        if kind == "linear":
            self._check_finite(node, "weight", module.weight)
            self._check_finite(node, "bias", module.bias)
        elif kind == "conv":
            if module.padding_mode != "zeros":
                self._fail(node, "padding_mode", module.padding_mode,
                           "only 'zeros' is supported (padded taps read real zero)")
            self._conv_padding(node, module)
            self._check_finite(node, "weight", module.weight)
            self._check_finite(node, "bias", module.bias)
        elif kind == "bn":
            if module.running_mean is None or module.running_var is None:
                self._fail(node, "track_running_stats", module.track_running_stats,
                           "folding needs running statistics")
            for field in ("weight", "bias", "running_mean", "running_var"):
                self._check_finite(node, field, getattr(module, field))
            if not math.isfinite(module.eps):
                self._fail(node, "eps", module.eps, "must be finite")
            variance = module.running_var.detach().double() + module.eps
            if (variance <= 0).any():
                self._fail(node, "running_var + eps", float(variance.min()), "must be > 0")
        elif kind == "maxpool":
            if module.return_indices:
                self._fail(node, "return_indices", True, "not supported")
            if _pair(module.dilation) != (1, 1):
                self._fail(node, "dilation", module.dilation, "pooling dilation is not supported")
        elif kind == "avgpool":
            if module.divisor_override is not None:
                self._fail(node, "divisor_override", module.divisor_override,
                           "not supported (the divisor follows count_include_pad)")
        elif kind == "gap":
            size = module.output_size
            if size not in (1, (1, 1), [1, 1]):
                self._fail(node, "output_size", size,
                           "only AdaptiveAvgPool2d(1) (global average pool) is supported")

    def _conv_padding(self, node, module) -> tuple:
        padding = module.padding
        if isinstance(padding, str):
            if padding == "valid":
                return (0, 0)
            if padding == "same":
                pads = []
                for k, d in zip(module.kernel_size, module.dilation):
                    total = d * (k - 1)
                    if total % 2:
                        self._fail(node, "padding", padding,
                                   f"'same' with kernel {tuple(module.kernel_size)} and "
                                   f"dilation {tuple(module.dilation)} pads asymmetrically; "
                                   "only symmetric integer padding is supported")
                    pads.append(total // 2)
                return tuple(pads)
            self._fail(node, "padding", padding, "unknown padding string")
        return _pair(padding)

    # -- pass 2: shapes ---------------------------------------------------------------

    def propagate_shapes(self):
        dtype = next((p.dtype for p in self.model.parameters() if p.is_floating_point()),
                     torch.float32)
        example = torch.zeros((2, *self.input_shape), dtype=dtype)
        # Node by node with fx's Interpreter, but without Interpreter.run, whose error path
        # symbolizes tracebacks (seconds of lazy imports) before we can name the problem.
        interpreter = torch.fx.Interpreter(self.gm)
        interpreter.env = {}
        interpreter.args_iter = iter([example])
        node = None
        try:
            with torch.no_grad():
                for node in self.nodes:
                    if node.op == "output":
                        break
                    value = interpreter.run_node(node)
                    interpreter.env[node] = value
                    if isinstance(value, torch.Tensor):
                        self.shapes[node] = tuple(value.shape)
        except Exception as error:
            raise CaptureError(f"model '{self.model_name}': running it on an input of shape "
                               f"{tuple(example.shape)} failed at {self._where(node)} "
                               f"({type(error).__name__}: {error})") from error
        placeholder = next(node for node in self.nodes if node.op == "placeholder")
        if len(self.input_shape) == 3:
            channels, height, width = self.input_shape
            self.hwc[placeholder] = Shape(height, width, channels)
        else:
            self.hwc[placeholder] = Shape(1, 1, self.input_shape[0])

    def _shape(self, node) -> tuple:
        if node not in self.shapes:
            raise CaptureError(f"{self._where(node)} does not produce one tensor")
        return self.shapes[node]

    def _map_shape(self, node) -> Shape:
        shape = self._shape(node)
        if len(shape) != 4:
            raise CaptureError(f"{self._where(node)}: output shape {shape} is not NCHW")
        return Shape(shape[2], shape[3], shape[1])

    # -- pass 3: the chain --------------------------------------------------------------

    def _tensor_users(self, node):
        return [user for user in node.users if self.kind[user] != "shape"]

    def _tensor_inputs(self, node):
        return [arg for arg in node.all_input_nodes if self.kind[arg] != "shape"]

    def build(self) -> list:
        placeholder = next(node for node in self.nodes if node.op == "placeholder")
        output = next(node for node in self.nodes if node.op == "output")
        self.visited.update((placeholder, output))
        layers = self._chain(placeholder, output.args[0])
        if not layers:
            raise CaptureError(f"model '{self.model_name}' has no layer integr8 can run")
        for node in self.nodes:
            if node in self.visited:
                continue
            if self.kind[node] == "shape" and self._feeds_only_visited(node):
                continue
            raise CaptureError(f"{self._where(node)} is not part of a supported chain "
                               "(every operation must feed the next one; branches only as "
                               "residual blocks with an identity shortcut)")
        return layers

    def _feeds_only_visited(self, node) -> bool:
        return all(user in self.visited or (self.kind[user] == "shape"
                                            and self._feeds_only_visited(user))
                   for user in node.users)

    def _chain(self, start, end, first=None) -> list:
        layers = []
        current = start
        while current is not end:
            users = self._tensor_users(current)
            if first is not None:
                step, first = first, None
            elif len(users) == 1:
                step = users[0]
            elif len(users) == 2:
                residual, current = self._residual(current, users)
                layers.append(residual)
                continue
            elif not users:
                raise CaptureError(f"the output of {self._where(current)} is never used")
            else:
                raise CaptureError(
                    f"the output of {self._where(current)} feeds {len(users)} operations "
                    f"({', '.join(u.name for u in users)}); integr8 supports chains and "
                    "residual blocks with an identity shortcut")
            if self.kind[step] == "output":
                raise CaptureError(f"the branch through {self._where(current)} ends at the "
                                   "model output without rejoining its block input")
            self._consume(step, current, layers)
            self.visited.add(step)
            current = step
        return layers

    def _residual(self, fork, users):
        """The residual block forking at `fork`: (FloatResidual, its add node)."""
        adds = [user for user in users if self.kind[user] == "add"]
        add = None
        for candidate in adds:
            operands = self._tensor_inputs(candidate)
            if len(operands) == 2 and fork in operands and operands[0] is not operands[1]:
                add = candidate
        if add is None or len(adds) != 1:
            raise CaptureError(
                f"the output of {self._where(fork)} feeds two branches "
                f"({', '.join(self._where(u) for u in users)}) that do not form a residual "
                "block with an identity shortcut (a + body(a)); projection shortcuts and "
                "other branches are not supported")
        body_end = next(arg for arg in self._tensor_inputs(add) if arg is not fork)
        body_first = next(user for user in users if user is not add)
        body = self._chain(fork, body_end, first=body_first)
        if not body:
            raise CaptureError(f"{self._where(add)}: the residual body holds no layer")
        a, b = self._shape(fork), self._shape(body_end)
        if a != b or self._shape(add) != a:
            raise CaptureError(f"{self._where(add)}: operand shapes {a} and {b} differ "
                               "(broadcasting adds are not supported)")
        shape = self.hwc[fork]
        self.hwc[add] = shape
        self.visited.add(add)
        return FloatResidual(name=self._name(add), source=self._source(add), input_shape=shape,
                             output_shape=shape, node=add.name, body=body, activation=None), add

    def _consume(self, node, current, layers):
        kind = self.kind[node]
        inputs = self._tensor_inputs(node)
        if kind == "add":
            raise CaptureError(
                f"{self._where(node)} is not a residual add with an identity shortcut: one "
                f"operand must be the input of the block whose body yields the other "
                f"(operands: {', '.join(self._where(i) for i in inputs)})")
        if kind not in _SINGLE_INPUT or inputs != [current]:
            raise CaptureError(f"{self._where(node)} must read exactly one tensor, the "
                               f"previous layer's output (reads {[i.name for i in inputs]})")
        if self.inplace.get(node) and len(self._tensor_users(current)) > 1:
            raise CaptureError(f"{self._where(node)} works in place on the output of "
                               f"{self._where(current)}, which another operation also reads; "
                               "use inplace=False")
        handler = getattr(self, f"_on_{kind}")
        handler(node, current, layers)

    def _module(self, node):
        return self.modules[node.target] if node.op == "call_module" else None

    def _on_linear(self, node, current, layers):
        module = self._module(node)
        shape = self._shape(current)
        if len(shape) != 2:
            self._fail(node, "input shape", shape,
                       "a Linear's input must be a flattened feature map or a vector [N, F] "
                       "(add nn.Flatten / torch.flatten before it)")
        hwc = self.hwc[current]
        if module.in_features != hwc.elements:  # pragma: no cover - torch would have failed
            self._fail(node, "in_features", module.in_features, f"input has {hwc.elements}")
        weight = _numpy(module.weight)
        # torch flattens CHW, the device HWC: column j (HWC order) reads torch column perm[j].
        perm = np.arange(hwc.elements).reshape(hwc.channels, hwc.height, hwc.width)
        perm = perm.transpose(1, 2, 0).reshape(-1)
        weight = weight[:, perm]
        bias = (_numpy(module.bias) if module.bias is not None
                else np.zeros(module.out_features))
        self.hwc[node] = Shape(1, 1, module.out_features)
        layers.append(FloatLinear(name=self._name(node), source=self._source(node),
                                  input_shape=hwc, output_shape=self.hwc[node], node=node.name,
                                  weight=weight, bias=bias, activation=None))

    def _on_conv(self, node, current, layers):
        module = self._module(node)
        shape = self._shape(current)
        if len(shape) != 4:
            self._fail(node, "input shape", shape, "a Conv2d needs an NCHW feature map")
        weight = _numpy(module.weight)
        bias = (_numpy(module.bias) if module.bias is not None
                else np.zeros(module.out_channels))
        self.hwc[node] = self._map_shape(node)
        layers.append(FloatConv2d(
            name=self._name(node), source=self._source(node), input_shape=self.hwc[current],
            output_shape=self.hwc[node], node=node.name, weight=weight, bias=bias,
            stride=_pair(module.stride), padding=self._conv_padding(node, module),
            dilation=_pair(module.dilation), groups=int(module.groups), activation=None))

    def _on_bn(self, node, current, layers):
        module = self._module(node)
        previous = layers[-1] if layers else None
        if not (isinstance(previous, FloatConv2d) and previous.node == current.name
                and previous.activation is None):
            raise CaptureError(
                f"{self._where(node)}: a BatchNorm2d must directly follow a Conv2d (whose "
                f"output nothing else reads) to be folded; it follows {self._where(current)}")
        if module.num_features != previous.output_shape.channels:  # pragma: no cover
            self._fail(node, "num_features", module.num_features, "does not match the conv")
        mean = _numpy(module.running_mean)
        var = _numpy(module.running_var)
        gamma = (_numpy(module.weight) if module.weight is not None
                 else np.ones_like(mean))
        beta = (_numpy(module.bias) if module.bias is not None
                else np.zeros_like(mean))
        scale = gamma / np.sqrt(var + float(module.eps))
        weight = previous.weight * scale[:, None, None, None]
        bias = (previous.bias - mean) * scale + beta
        for field, values in (("folded weight", weight), ("folded bias", bias)):
            if not np.isfinite(values).all():
                self._fail(node, field, float(values[~np.isfinite(values)][0]),
                           f"folding into '{previous.name}' overflows")
        previous.weight, previous.bias = weight, bias
        previous.source += " + " + self._source(node)
        previous.node = node.name
        self.hwc[node] = self.hwc[current]

    def _activation(self, node, current, layers, kind):
        previous = layers[-1] if layers else None
        self.hwc[node] = self.hwc[current]
        if (isinstance(previous, (FloatLinear, FloatConv2d, FloatResidual))
                and previous.node == current.name and previous.activation is None
                and len(self._tensor_users(current)) == 1):
            previous.activation = kind
            previous.source += " + " + self._source(node)
            previous.node = node.name
            return
        shape = self.hwc[current]
        layers.append(FloatRelu(name=self._name(node), source=self._source(node),
                                input_shape=shape, output_shape=shape, node=node.name,
                                kind=kind))

    def _on_relu(self, node, current, layers):
        self._activation(node, current, layers, "relu")

    def _on_relu6(self, node, current, layers):
        self._activation(node, current, layers, "relu6")

    def _pool(self, node, current, layers, **fields):
        shape = self._shape(current)
        if len(shape) != 4:
            self._fail(node, "input shape", shape, "pooling needs an NCHW feature map")
        self.hwc[node] = self._map_shape(node)
        layers.append(FloatPool2d(name=self._name(node), source=self._source(node),
                                  input_shape=self.hwc[current], output_shape=self.hwc[node],
                                  node=node.name, **fields))

    def _on_maxpool(self, node, current, layers):
        module = self._module(node)
        kernel = _pair(module.kernel_size)
        stride = _pair(module.stride if module.stride is not None else module.kernel_size)
        self._pool(node, current, layers, kind="max", kernel=kernel, stride=stride,
                   padding=_pair(module.padding), ceil_mode=bool(module.ceil_mode),
                   count_include_pad=False)

    def _on_avgpool(self, node, current, layers):
        module = self._module(node)
        kernel = _pair(module.kernel_size)
        stride = _pair(module.stride if module.stride is not None else module.kernel_size)
        self._pool(node, current, layers, kind="avg", kernel=kernel, stride=stride,
                   padding=_pair(module.padding), ceil_mode=bool(module.ceil_mode),
                   count_include_pad=bool(module.count_include_pad))

    def _on_gap(self, node, current, layers):
        shape = self._shape(current)
        if len(shape) != 4:
            self._fail(node, "input shape", shape, "pooling needs an NCHW feature map")
        kernel = (shape[2], shape[3])
        self._pool(node, current, layers, kind="avg", kernel=kernel, stride=kernel,
                   padding=(0, 0), ceil_mode=False, count_include_pad=True)

    def _flatten_like(self, node, current, what: str):
        before, after = self._shape(current), self._shape(node)
        expected = (before[0], math.prod(before[1:]))
        if after != expected:
            self._fail(node, "output shape", after,
                       f"{what} must give [N, C*H*W] = {expected} (flatten from dim 1)")
        self.hwc[node] = self.hwc[current]

    def _on_flatten(self, node, current, layers):
        self._flatten_like(node, current, "a flatten")

    def _on_view(self, node, current, layers):
        dims = list(node.args[1:])
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = list(dims[0])
        if "shape" in node.kwargs:
            dims = list(node.kwargs["shape"])
        if dims and isinstance(dims[0], int) and dims[0] != -1:
            self._fail(node, "shape", tuple(d if isinstance(d, int) else d.name for d in dims),
                       "hard-codes the batch size; use x.view(x.size(0), -1)")
        self._flatten_like(node, current, "a view / reshape")

    def _on_noop(self, node, current, layers):
        self.hwc[node] = self.hwc[current]


def capture(model: nn.Module, input_shape) -> FloatGraph:
    """Traces ``model`` (eval mode) for one sample of shape ``input_shape`` = (C, H, W) (or
    (F,) for a vector input) and returns its float layer chain.

    Raises CaptureError (a qgraph.GraphError) naming the module or function that integr8
    cannot run, or the option it does not support.
    """
    if not isinstance(model, nn.Module):
        raise CaptureError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for path, module in model.named_modules():
        if module.training:
            what = (f"module '{path}' ({type(module).__name__})" if path
                    else f"model '{type(model).__name__}'")
            raise CaptureError(f"{what} is in training mode (BatchNorm would use batch "
                               "statistics, Dropout would drop); call model.eval() before "
                               "capture")
    try:
        input_shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise CaptureError(f"input_shape must be (C, H, W) or (F,), got {input_shape!r}") \
            from None
    if len(input_shape) not in (1, 3) or min(input_shape) < 1:
        raise CaptureError(f"input_shape must be (C, H, W) or (F,) of positive sizes, got "
                           f"{input_shape!r}")
    state = _Capture(model, input_shape)
    state.classify()
    state.propagate_shapes()
    layers = state.build()
    return FloatGraph(model_name=state.model_name, torch_input_shape=input_shape,
                      input_shape=state.hwc[next(n for n in state.nodes if n.op == "placeholder")],
                      layers=layers)
