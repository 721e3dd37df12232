"""A float :class:`~.model.Model` as an ONNX graph (the inverse of :func:`.onnx_import.load_onnx`
on float models), for onnxruntime baselines, EZKL and tests.

Every node kind maps to one standard ONNX operator at opset 13 (``Dense`` → ``Gemm`` with
``transB = 1``, ``Conv2d`` → ``Conv``, ``BatchNorm`` → ``BatchNormalization``, ``ReLU`` →
``Relu``, ``ReLU6``/``Clip`` → ``Clip`` with constant bounds, the pools, ``Add``, ``Flatten``
(axis 1) and ``Reshape``); weights are float32 initializers. The batch axis is 1, or symbolic
(``"N"``) with ``dynamic_batch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import model as fm
from ._onnx_common import require_onnx

#: The opset :func:`to_onnx` writes.
EXPORT_OPSET = 13


def to_onnx(
    model: fm.Model,
    name: str = "bigfile_zk",
    *,
    opset: int = EXPORT_OPSET,
    dynamic_batch: bool = False,
) -> Any:
    """``model`` as an ``onnx.ModelProto`` (checked with ``onnx.checker``): input ``"input"``
    of shape ``[1, *input_shape]`` (``["N", ...]`` with ``dynamic_batch``), output the last
    node's name, one ONNX node per model node, named like it."""
    if opset < 13:
        raise ValueError(f"to_onnx writes opset 13 or later (Clip takes inputs), got {opset}")
    onnx = require_onnx()
    from onnx import TensorProto, helper, numpy_helper

    inits: list[Any] = []

    def init(tensor: str, value: object, dtype: Any = np.float32) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), tensor))
        return tensor

    nodes = []
    for node in model.nodes:
        ins = list(node.inputs or ())
        out = [node.name]
        n = node.name
        if isinstance(node, fm.Dense):
            w, b = init(f"{n}.weight", node.weight), init(f"{n}.bias", node.bias)
            nodes.append(helper.make_node("Gemm", [*ins, w, b], out, name=n, transB=1))
        elif isinstance(node, fm.Conv2d):
            w, b = init(f"{n}.weight", node.weight), init(f"{n}.bias", node.bias)
            nodes.append(
                helper.make_node(
                    "Conv",
                    [*ins, w, b],
                    out,
                    name=n,
                    kernel_shape=list(node.weight.shape[2:]),
                    strides=list(node.strides),
                    pads=list(node.pads),  # (top, left, bottom, right): ONNX's begins, then ends
                )
            )
        elif isinstance(node, fm.BatchNorm):
            params = [init(f"{n}.{f}", getattr(node, f)) for f in ("gamma", "beta", "mean", "var")]
            nodes.append(
                helper.make_node(
                    "BatchNormalization", [*ins, *params], out, name=n, epsilon=float(node.eps)
                )
            )
        elif isinstance(node, fm.ReLU):
            nodes.append(helper.make_node("Relu", ins, out, name=n))
        elif isinstance(node, (fm.ReLU6, fm.Clip)):
            lo, hi = node.bounds()
            bounds = [
                init(f"{n}.{what}", v) if np.isfinite(v) else ""
                for what, v in (("min", lo), ("max", hi))
            ]
            while bounds and not bounds[-1]:
                bounds.pop()
            nodes.append(helper.make_node("Clip", [*ins, *bounds], out, name=n))
        elif isinstance(node, (fm.AvgPool, fm.MaxPool)):
            kernel, stride = node.window
            op = "AveragePool" if isinstance(node, fm.AvgPool) else "MaxPool"
            nodes.append(
                helper.make_node(
                    op, ins, out, name=n, kernel_shape=list(kernel), strides=list(stride)
                )
            )
        elif isinstance(node, fm.GlobalAvgPool):
            nodes.append(helper.make_node("GlobalAveragePool", ins, out, name=n))
        elif isinstance(node, fm.Add):
            nodes.append(helper.make_node("Add", ins, out, name=n))
        elif isinstance(node, fm.Flatten):
            nodes.append(helper.make_node("Flatten", ins, out, name=n, axis=1))
        elif isinstance(node, fm.Reshape):
            shape = init(f"{n}.shape", [1, *model.shapes[n]], np.int64)
            nodes.append(helper.make_node("Reshape", [*ins, shape], out, name=n))
        else:  # pragma: no cover - Model accepts only the kinds above
            raise TypeError(f"no ONNX export for {type(node).__name__} ({n})")
    batch: int | str = "N" if dynamic_batch else 1
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(fm.INPUT, TensorProto.FLOAT, [batch, *model.input_shape])],
        [
            helper.make_tensor_value_info(
                model.output_name, TensorProto.FLOAT, [batch, *model.output_shape]
            )
        ],
        inits,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="bigfile_zk"
    )
    # Not the newest IR onnx writes, which onnxruntime and EZKL may not read yet: IR 8 (what
    # benches/ezkl_compare.py has always written at opset 13), or the least the opset needs.
    proto.ir_version = max(8, helper.find_min_ir_version_for(list(proto.opset_import)))
    onnx.checker.check_model(proto)
    return proto
