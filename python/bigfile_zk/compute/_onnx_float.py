"""A float ONNX graph → :class:`~.model.Model` (``docs/spec/onnx.md`` §3).

Every activation keeps ONNX's leading batch axis of 1 while the graph is read; the model's
shapes are the ONNX shapes without it (CHW, or ``[features]``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bigfile_zk.errors import ParameterError

from . import model as fm
from ._onnx_graph import (
    ALIAS_OPS,
    SHAPE_OPS,
    Graph,
    Shape,
    check_attrs,
    conv_output_shape,
    conv_weight_layouts,
    per_channel,
    pool_window,
    refuse,
    scalar,
    shape_op,
)

#: Dense and Conv2d: an ``Add`` of a constant right after one becomes its bias.
_LINEAR = (fm.Dense, fm.Conv2d)


class _Builder:
    def __init__(self, g: Graph) -> None:
        self.g = g
        # ONNX tensor → (model tensor, ONNX shape with the batch axis).
        self.acts: dict[str, tuple[str, Shape]] = {g.input_name: (fm.INPUT, g.input_shape)}
        self.nodes: dict[str, fm.Node] = {}
        self.names: set[str] = {fm.INPUT}

    # -- helpers ---------------------------------------------------------------------------

    def act(self, node: Any, i: int) -> tuple[str, Shape]:
        name = node.input[i] if i < len(node.input) else ""
        if name in self.acts:
            return self.acts[name]
        what = "a constant" if name in self.g.consts else "not computed from the input"
        raise refuse(self.g, node, f"input {i} ({name!r}) must be an activation, it is {what}")

    def const(self, node: Any, i: int, what: str, *, optional: bool = False) -> Any:
        name = node.input[i] if i < len(node.input) else ""
        if not name and optional:
            return None
        value = self.g.const(name)
        if value is None:
            raise refuse(self.g, node, f"{what} ({name!r}) must be a constant (an initializer)")
        return np.asarray(value, dtype=np.float64)

    def unique(self, node: Any) -> str:
        base = node.name or node.output[0]
        name, k = base, 1
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    def emit(self, node: Any, make: Any, shape: Shape) -> None:
        """Add the model node ``make(name)`` producing ONNX tensor ``node.output[0]``."""
        name = self.unique(node)
        try:
            self.nodes[name] = make(name)
        except ParameterError as exc:
            raise refuse(self.g, node, str(exc)) from None
        self.acts[node.output[0]] = (name, shape)

    def alias(self, node: Any, src: tuple[str, Shape]) -> None:
        self.acts[node.output[0]] = src

    def single_output(self, node: Any) -> None:
        extra = [o for o in node.output[1:] if o and self.g.consumers.get(o)]
        if extra or (len(node.output) > 1 and self.g.output_name in node.output[1:]):
            raise refuse(self.g, node, f"its extra outputs {list(node.output[1:])} are used")

    # -- operators -------------------------------------------------------------------------

    def dense(self, node: Any, x: tuple[str, Shape], weight: Any, bias: Any) -> None:
        (src, shape), out = x, weight.shape[0]
        if len(shape) != 2:
            raise refuse(
                self.g, node, f"the input must be [1, features], got {list(shape)} (flatten first)"
            )
        if shape[1] != weight.shape[1]:
            raise refuse(
                self.g, node, f"the weight takes {weight.shape[1]} features, got {shape[1]}"
            )
        self.emit(node, lambda n: fm.Dense(n, weight, bias, inputs=(src,)), (1, out))

    def Gemm(self, node: Any) -> None:
        a = check_attrs(self.g, node, ["alpha", "beta", "transA", "transB"])
        if int(a.get("transA", 0)):
            raise refuse(self.g, node, "transA = 1 is not supported (the input is [1, features])")
        w = self.const(node, 1, "the weight B")
        if w.ndim != 2:
            raise refuse(self.g, node, f"the weight must be 2-D, got {list(w.shape)}")
        w = (w if int(a.get("transB", 0)) else w.T) * float(a.get("alpha", 1.0))
        c = self.const(node, 2, "the bias C", optional=True)
        bias = np.zeros(w.shape[0])
        if c is not None:
            bias = float(a.get("beta", 1.0)) * per_channel(
                self.g, node, c, w.shape[0], "the bias C", [(1, w.shape[0])], scalar_rank=2
            )
        self.dense(node, self.act(node, 0), w, bias)

    def MatMul(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        w = self.const(node, 1, "the weight (input B)")
        if w.ndim != 2:
            raise refuse(self.g, node, f"the weight must be 2-D, got {list(w.shape)}")
        self.dense(node, self.act(node, 0), w.T, np.zeros(w.shape[1]))

    def Conv(self, node: Any) -> None:
        a = check_attrs(
            self.g, node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]
        )
        src, shape = self.act(node, 0)
        w = self.const(node, 1, "the weight W")
        if w.ndim != 4:
            raise refuse(self.g, node, f"only 2-D convolutions: the weight is {list(w.shape)}")
        if int(a.get("group", 1)) != 1:
            raise refuse(self.g, node, f"group = {a['group']} is not supported (only 1)")
        if len(shape) != 4 or shape[1] != w.shape[1]:
            raise refuse(
                self.g, node, f"the input {list(shape)} does not fit the weight {list(w.shape)}"
            )
        kernel, stride, pads = pool_window(
            self.g, node, a, shape, w.shape[2:], padding_allowed=True
        )
        b = self.const(node, 2, "the bias B", optional=True)
        bias = (
            np.zeros(w.shape[0])
            if b is None
            else per_channel(self.g, node, b, w.shape[0], "the bias B", scalar_rank=None)
        )
        out = conv_output_shape(shape, w.shape[0], kernel, stride, pads)
        self.emit(
            node,
            lambda n: fm.Conv2d(n, w, bias, stride=stride, padding=pads, inputs=(src,)),
            out,
        )

    def BatchNormalization(self, node: Any) -> None:
        a = check_attrs(self.g, node, ["epsilon", "momentum", "training_mode", "spatial"])
        if int(a.get("training_mode", 0)):
            raise refuse(self.g, node, "training_mode = 1 is not supported (inference only)")
        if int(a.get("spatial", 1)) != 1:
            raise refuse(self.g, node, "spatial = 0 is not supported")
        self.single_output(node)
        src, shape = self.act(node, 0)
        gamma, beta, mean, var = (self.const(node, i, f"input {i}") for i in range(1, 5))
        eps = float(a.get("epsilon", 1e-5))
        self.emit(
            node,
            lambda n: fm.BatchNorm(n, gamma, beta, mean, var, eps=eps, inputs=(src,)),
            shape,
        )

    def Relu(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        src, shape = self.act(node, 0)
        self.emit(node, lambda n: fm.ReLU(n, inputs=(src,)), shape)

    def Clip(self, node: Any) -> None:
        a = check_attrs(self.g, node, ["min", "max"])
        src, shape = self.act(node, 0)
        if self.g.opset < 11:
            lo, hi = a.get("min"), a.get("max")
        else:
            lo = scalar(self.g, node, node.input[1] if len(node.input) > 1 else "", "min")
            hi = scalar(self.g, node, node.input[2] if len(node.input) > 2 else "", "max")
        lo = -np.inf if lo is None else float(lo)
        hi = np.inf if hi is None else float(hi)
        if lo == -np.inf and hi == np.inf:
            self.alias(node, (src, shape))
        elif (lo, hi) == (0.0, np.inf):
            self.emit(node, lambda n: fm.ReLU(n, inputs=(src,)), shape)
        elif (lo, hi) == (0.0, 6.0):
            self.emit(node, lambda n: fm.ReLU6(n, inputs=(src,)), shape)
        else:
            if not lo < hi:
                raise refuse(self.g, node, f"min {lo} must be below max {hi}")
            self.emit(node, lambda n: fm.Clip(n, lo, hi, inputs=(src,)), shape)

    def _pool(self, node: Any, cls: type[fm.AvgPool] | type[fm.MaxPool], names: list[str]) -> None:
        a = check_attrs(self.g, node, names)
        self.single_output(node)
        src, shape = self.act(node, 0)
        kernel, stride, _ = pool_window(self.g, node, a, shape, padding_allowed=False)
        ho = (shape[2] - kernel[0]) // stride[0] + 1
        wo = (shape[3] - kernel[1]) // stride[1] + 1
        self.emit(
            node,
            lambda n: cls(n, kernel=kernel, stride=stride, inputs=(src,)),
            (1, shape[1], ho, wo),
        )

    def AveragePool(self, node: Any) -> None:
        # count_include_pad only matters with padding, which pool_window refuses.
        names = [
            "auto_pad",
            "ceil_mode",
            "count_include_pad",
            "dilations",
            "kernel_shape",
            "pads",
            "strides",
        ]
        self._pool(node, fm.AvgPool, names)

    def MaxPool(self, node: Any) -> None:
        names = [
            "auto_pad",
            "ceil_mode",
            "dilations",
            "kernel_shape",
            "pads",
            "storage_order",
            "strides",
        ]
        self._pool(node, fm.MaxPool, names)

    def GlobalAveragePool(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        src, shape = self.act(node, 0)
        if len(shape) != 4:
            raise refuse(self.g, node, f"only NCHW inputs are supported, got {list(shape)}")
        self.emit(node, lambda n: fm.GlobalAvgPool(n, inputs=(src,)), (1, shape[1], 1, 1))

    def Add(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        ins = [node.input[0], node.input[1]]
        consts = [n for n in ins if n in self.g.consts]
        if not consts:
            (s1, shape1), (s2, shape2) = self.act(node, 0), self.act(node, 1)
            if shape1 != shape2:
                raise refuse(
                    self.g,
                    node,
                    f"broadcasting Add of shapes {list(shape1)} and {list(shape2)} is not "
                    "supported (only equal shapes)",
                )
            self.emit(node, lambda n: fm.Add(n, inputs=(s1, s2)), shape1)
            return
        # x + constant: the bias of the Dense/Conv2d that alone feeds it.
        i = 0 if ins[1] in self.g.consts else 1
        src, shape = self.act(node, i)
        producer = self.nodes.get(src)
        if (
            not isinstance(producer, _LINEAR)
            or len(self.g.consumers.get(ins[i], [])) != 1
            or ins[i] == self.g.output_name
        ):
            raise refuse(
                self.g,
                node,
                "an Add of a constant is supported only as the bias of the Gemm/MatMul/Conv "
                "whose output it alone reads",
            )
        channels = producer.weight.shape[0]
        layouts = conv_weight_layouts(channels, len(shape))
        bias = per_channel(
            self.g,
            node,
            self.g.consts[ins[1 - i]],
            channels,
            "the bias",
            layouts,
            scalar_rank=len(shape),
        )
        assert producer.bias is not None
        self.nodes[src] = dataclasses.replace(producer, bias=producer.bias + bias)
        self.alias(node, (src, shape))

    def shape(self, node: Any) -> None:
        src, shape = self.act(node, 0)
        out = shape_op(self.g, node, shape)
        if out == shape:
            self.alias(node, (src, shape))
        elif len(out) == 2:
            self.emit(node, lambda n: fm.Flatten(n, inputs=(src,)), out)
        else:
            self.emit(node, lambda n: fm.Reshape(n, shape=out[1:], inputs=(src,)), out)

    def passthrough(self, node: Any) -> None:
        if node.op_type == "Dropout":
            check_attrs(self.g, node, ["ratio", "seed", "is_test"])
            self.single_output(node)
            if len(node.input) > 2 and node.input[2]:
                mode = self.g.const(node.input[2])
                if mode is None or bool(np.asarray(mode).reshape(-1)[0]):
                    raise refuse(self.g, node, "training_mode must be a constant false")
        else:
            check_attrs(self.g, node, [])
        self.alias(node, self.act(node, 0))

    # -- the graph -------------------------------------------------------------------------

    def build(self) -> fm.Model:
        for node in self.g.nodes:
            op = node.op_type
            if op in SHAPE_OPS:
                self.shape(node)
            elif op in ALIAS_OPS:
                self.passthrough(node)
            else:
                getattr(self, op)(node)
        if self.g.output_name not in self.acts:  # pragma: no cover - parse() checked
            raise refuse(self.g, self.g.nodes[-1], "the output is not computed")
        out, _ = self.acts[self.g.output_name]
        if out == fm.INPUT or not self.nodes:
            raise ParameterError("the model computes nothing (its output is its input)")
        nodes = list(self.nodes.values())
        if nodes[-1].name != out:
            raise refuse(self.g, self.g.nodes[-1], "the output must be the last node's")
        try:
            return fm.Model(self.g.input_shape[1:], nodes)
        except ParameterError as exc:
            raise ParameterError(f"the ONNX graph does not make a model: {exc}") from None


def float_model(g: Graph) -> fm.Model:
    """The float model of a parsed float graph."""
    return _Builder(g).build()
