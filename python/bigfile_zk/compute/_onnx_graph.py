"""Reading an ONNX graph for the importer (``docs/spec/onnx.md``): the bytes, the first pass over
the whole graph (operators, domains, opsets, inputs and outputs, shapes), constants and constant
folding, attributes, and the shape arithmetic shared by the float and the quantized importers.

Shapes here are ONNX shapes *with* the batch axis, which is always 1: the importers drop it.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bigfile_zk import _io
from bigfile_zk.errors import DecodeError, UnsupportedModelError

from ._onnx_common import require_onnx

Shape = tuple[int, ...]

#: The ``ai.onnx`` opsets whose operators' semantics the importer was written against.
OPSET_MIN, OPSET_MAX = 7, 22
#: Contrib operators onnxruntime's quantizer writes (domain ``com.microsoft``, opset 1).
MS_DOMAIN = "com.microsoft"
MS_OPSETS = (1, 1)
#: An ONNX file larger than this is refused before it is parsed (protobuf's own limit is 2 GiB;
#: a model that large is far past what a circuit proves anyway).
MAX_ONNX_BYTES = 2**31 - 1

#: Operators that move or relabel data without computing (the batch axis stays first).
SHAPE_OPS = frozenset({"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose"})
#: Operators that pass their input through unchanged at inference.
ALIAS_OPS = frozenset({"Identity", "Dropout"})
#: Float operators of ``ai.onnx`` the float importer maps.
FLOAT_OPS = frozenset(
    {
        "Gemm",
        "MatMul",
        "Conv",
        "Add",
        "Relu",
        "Clip",
        "AveragePool",
        "GlobalAveragePool",
        "MaxPool",
        "BatchNormalization",
        "Constant",
    }
    | SHAPE_OPS
    | ALIAS_OPS
)
#: ``ai.onnx`` operators that make a graph quantized.
QUANT_OPS = frozenset(
    {
        "QuantizeLinear",
        "DequantizeLinear",
        "QLinearConv",
        "QLinearMatMul",
        "ConvInteger",
        "MatMulInteger",
    }
)
#: ``com.microsoft`` operators that make a graph quantized (what onnxruntime's quantizer writes
#: for Gemm, Add and the average pools in the QOperator format).
MS_QUANT_OPS = frozenset({"QGemm", "QLinearAdd", "QLinearAveragePool", "QLinearGlobalAveragePool"})
#: Further ``ai.onnx`` operators a quantized graph may use: ``Cast`` and ``Mul`` rescale the
#: int32 result of ``ConvInteger``/``MatMulInteger`` (a fixed scale only).
QUANT_EXTRA_OPS = frozenset({"Cast", "Mul"})
#: Operators refused by name, with the reason.
REFUSED: dict[str, str] = {
    "DynamicQuantizeLinear": (
        "dynamic quantization: the activation scale and zero point are computed from each input "
        "at run time, so the model is not a fixed integer program; quantize statically "
        "(onnxruntime.quantization.quantize_static) instead"
    ),
    "DynamicQuantizeMatMul": "dynamic quantization (data-dependent scales); quantize statically",
    "MatMulIntegerToFloat": "dynamic quantization (data-dependent scales); quantize statically",
    "DynamicQuantizeLSTM": "dynamic quantization (data-dependent scales); quantize statically",
}

FloatArray = npt.NDArray[np.float64]


def _human_size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


@dataclass
class Graph:
    """A parsed, checked ONNX graph: the first pass is done, nothing is built yet."""

    proto: Any
    sha256: str
    opsets: dict[str, int]
    kind: str  # "float" | "qdq" | "qoperator"
    input_name: str
    input_shape: Shape  # with the batch axis (1)
    input_elem_type: int
    output_name: str
    nodes: list[Any]  # the nodes the output depends on, in graph order
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    consumers: dict[str, list[Any]] = field(default_factory=dict)

    def where(self, node: Any) -> str:
        """``node 'conv1' (Conv, domain ai.onnx, opset 13)``: how every error names a node."""
        domain = node.domain or "ai.onnx"
        version = self.opsets.get("" if domain == "ai.onnx" else domain, 0)
        name = node.name or (node.output[0] if node.output else "?")
        return f"node {name!r} ({node.op_type}, domain {domain}, opset {version})"

    @property
    def opset(self) -> int:
        return self.opsets.get("", 0)

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name) if name else None


# --- reading ----------------------------------------------------------------------------------


def read_model(source: object) -> tuple[Any, str]:
    """``(ModelProto, sha256 hex of its bytes)`` from a path, bytes or a ``ModelProto``.

    Bytes that are not an ONNX model raise ``DecodeError`` (not protobuf's exception); a
    model that fails ``onnx.checker`` too."""
    onnx = require_onnx()
    if isinstance(source, onnx.ModelProto):
        data = source.SerializeToString()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        data = _io.read_bounded(source, MAX_ONNX_BYTES, "ONNX model")
    else:
        raise TypeError(
            f"an ONNX model is a path, bytes or an onnx.ModelProto, got {type(source).__name__}"
        )
    what = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the ONNX bytes"
    from google.protobuf.message import DecodeError as ProtobufDecodeError

    try:
        proto = onnx.ModelProto.FromString(data)
    except (ProtobufDecodeError, ValueError, RuntimeError) as exc:
        raise DecodeError(
            f"{what} is not an ONNX model ({_human_size(len(data))}, protobuf: {exc})"
        ) from None
    if not proto.graph.node and not proto.graph.output:
        raise DecodeError(f"{what} is not an ONNX model (no graph: {_human_size(len(data))})")
    for tensor in proto.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise UnsupportedModelError(
                f"initializer {tensor.name!r} is stored in an external data file; save the model "
                "with its weights inside (onnx.save(model, path, save_as_external_data=False))"
            )
    try:
        # full_check: also ONNX's strict type and shape inference (mismatched types, ranks).
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DecodeError(f"{what} is not a valid ONNX model: {first}") from None
    return proto, hashlib.sha256(data).hexdigest()


# --- attributes -------------------------------------------------------------------------------


def attrs(node: Any) -> dict[str, Any]:
    """The node's attributes as Python values (ints, floats, lists, bytes, tensors)."""
    onnx = require_onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def check_attrs(g: Graph, node: Any, allowed: Sequence[str]) -> dict[str, Any]:
    """The node's attributes; one the importer does not know is an error naming it (an
    attribute it ignored could change what the node computes)."""
    values = attrs(node)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise UnsupportedModelError(f"{g.where(node)}: unsupported attribute(s) {unknown}")
    return values


def refuse(g: Graph, node: Any, what: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"{g.where(node)}: {what}")


# --- the first pass ---------------------------------------------------------------------------


def _known(node: Any, kind_ops: frozenset[str]) -> bool:
    if node.domain in ("", "ai.onnx"):
        return node.op_type in kind_ops
    return node.domain == MS_DOMAIN and node.op_type in MS_QUANT_OPS


def _dims(value_info: Any) -> tuple[int, list[object]]:
    t = value_info.type
    if not t.HasField("tensor_type"):
        return 0, []
    tt = t.tensor_type
    dims: list[object] = []
    if tt.HasField("shape"):
        for d in tt.shape.dim:
            if d.HasField("dim_value"):
                dims.append(int(d.dim_value))
            elif d.HasField("dim_param"):
                dims.append(d.dim_param)
            else:
                dims.append(None)
    else:
        dims = [None]
    return tt.elem_type, dims


def parse(proto: Any, sha256: str) -> Graph:
    """The first pass: opsets, every node's operator (the whole graph, before any work),
    one input and one output, static shapes but for the batch axis, constants folded."""
    onnx = require_onnx()
    graph = proto.graph
    opsets: dict[str, int] = {}
    for imp in proto.opset_import:
        opsets["" if imp.domain == "ai.onnx" else imp.domain] = int(imp.version)
    opset = opsets.get("")
    if opset is None:
        raise UnsupportedModelError("the model imports no ai.onnx opset")
    g = Graph(
        proto=proto,
        sha256=sha256,
        opsets=opsets,
        kind="float",
        input_name="",
        input_shape=(),
        input_elem_type=0,
        output_name="",
        nodes=list(graph.node),
    )

    # Operators, domains and opsets: every node, including ones the output does not need.
    quantized = any(
        n.op_type in QUANT_OPS or (n.domain == MS_DOMAIN and n.op_type in MS_QUANT_OPS)
        for n in graph.node
    )
    ops = FLOAT_OPS | QUANT_OPS | QUANT_EXTRA_OPS if quantized else FLOAT_OPS
    for node in graph.node:
        domain = node.domain or ""
        if node.op_type in REFUSED and domain in ("", "ai.onnx", MS_DOMAIN):
            raise refuse(g, node, REFUSED[node.op_type])
        if domain not in ("", "ai.onnx", MS_DOMAIN):
            raise refuse(g, node, f"operators of domain {domain!r} are not supported")
        if not _known(node, ops):
            hint = ""
            if node.op_type in QUANT_EXTRA_OPS:
                hint = " in a float model"
            raise refuse(g, node, f"operator {node.op_type} is not supported{hint}")
        if node.op_type == "BatchNormalization" and quantized:
            raise refuse(
                g,
                node,
                "a BatchNormalization in a quantized model computes in float (or on quantized "
                "scale and bias): fold it into the Conv before quantizing "
                "(onnxruntime.quantization.quant_pre_process does)",
            )
        for sub in node.attribute:
            if sub.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise refuse(g, node, "subgraphs are not supported")
    if not OPSET_MIN <= opset <= OPSET_MAX:
        raise UnsupportedModelError(
            f"ai.onnx opset {opset} is outside the supported {OPSET_MIN}..{OPSET_MAX} "
            f"(first node: {g.where(graph.node[0]) if graph.node else 'none'})"
        )
    if quantized and opset < 10:
        raise UnsupportedModelError(f"a quantized model needs ai.onnx opset >= 10, got {opset}")
    if MS_DOMAIN in opsets and not MS_OPSETS[0] <= opsets[MS_DOMAIN] <= MS_OPSETS[1]:
        raise UnsupportedModelError(
            f"{MS_DOMAIN} opset {opsets[MS_DOMAIN]} is not supported (only 1)"
        )
    if quantized:
        qoperator = any(
            n.op_type not in ("QuantizeLinear", "DequantizeLinear")
            and (n.op_type in QUANT_OPS or n.domain == MS_DOMAIN)
            for n in graph.node
        )
        g.kind = "qoperator" if qoperator else "qdq"

    # Constants: initializers, then Constant nodes (folded below with the nodes).
    for init in graph.initializer:
        try:
            g.consts[init.name] = onnx.numpy_helper.to_array(init)
        except (KeyError, ValueError, TypeError) as exc:
            raise DecodeError(f"initializer {init.name!r} cannot be read: {exc}") from None
    for sparse in graph.sparse_initializer:
        raise UnsupportedModelError(f"sparse initializer {sparse.values.name!r} is not supported")

    # One input (not an initializer), one output.
    inputs = [i for i in graph.input if i.name not in g.consts]
    if len(inputs) != 1:
        raise UnsupportedModelError(
            f"the model must have exactly one input, it has {len(inputs)}: "
            f"{[i.name for i in inputs]}"
        )
    if len(graph.output) != 1:
        raise UnsupportedModelError(
            f"the model must have exactly one output, it has {len(graph.output)}: "
            f"{[o.name for o in graph.output]}"
        )
    g.input_name, g.output_name = inputs[0].name, graph.output[0].name
    elem, dims = _dims(inputs[0])
    if elem != onnx.TensorProto.FLOAT:
        name = onnx.helper.tensor_dtype_to_string(elem) if elem else "not a tensor"
        raise UnsupportedModelError(
            f"the input {g.input_name!r} must be a float tensor (quantized by the model's first "
            f"QuantizeLinear, or by the importer), got {name}"
        )
    g.input_elem_type = elem
    g.input_shape = _input_shape(g.input_name, dims)

    _fold_constants(g)
    _keep_live(g)
    return g


def _input_shape(name: str, dims: list[object]) -> Shape:
    if len(dims) < 2 or None in dims[1:]:
        raise UnsupportedModelError(
            f"the input {name!r} must have a static shape [N, ...] with a leading batch axis, got "
            f"{['?' if d is None else d for d in dims] if dims else 'no shape'}"
        )
    batch, rest = dims[0], dims[1:]
    if isinstance(batch, int) and batch != 1:
        raise UnsupportedModelError(
            f"the input {name!r} has a fixed batch size {batch}; proofs are for one sample "
            "(batch 1 or a symbolic batch axis)"
        )
    for d in rest:
        if not isinstance(d, int) or d < 1:
            raise UnsupportedModelError(
                f"the input {name!r} has the dynamic dimension {d!r} past the batch axis "
                f"(shape {dims}); only the batch axis may be dynamic"
            )
    return (1, *(int(d) for d in rest))  # type: ignore[arg-type]


# --- constants --------------------------------------------------------------------------------


def _constant_value(g: Graph, node: Any) -> np.ndarray:
    onnx = require_onnx()
    a = check_attrs(
        g,
        node,
        [
            "value",
            "value_float",
            "value_floats",
            "value_int",
            "value_ints",
            "value_string",
            "value_strings",
            "sparse_value",
        ],
    )
    if len(a) != 1:
        raise refuse(g, node, "a Constant needs exactly one value attribute")
    ((key, value),) = a.items()
    if key == "value":
        return onnx.numpy_helper.to_array(value)
    if key == "value_float":
        return np.array(value, dtype=np.float32)
    if key == "value_floats":
        return np.array(value, dtype=np.float32)
    if key in ("value_int", "value_ints"):
        return np.array(value, dtype=np.int64)
    raise refuse(g, node, f"a Constant with {key} is not supported")


def _fold(g: Graph, node: Any, ins: list[Any]) -> np.ndarray | None:
    """The value of a node whose inputs are all constant, for the data-movement operators a
    graph uses to prepare weights (``Transpose`` of a weight, ``Reshape`` of a bias, ...);
    ``None`` for any other operator (it stays a node)."""
    op = node.op_type
    if node.domain not in ("", "ai.onnx"):
        return None
    if op in ALIAS_OPS:
        return ins[0]
    if op == "Transpose":
        perm = attrs(node).get("perm")
        return np.transpose(ins[0], perm if perm is None else list(perm))
    if op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
        return ins[0].reshape(shape_op(g, node, ins[0].shape, allow_batch_change=True))
    if op == "Cast":
        onnx = require_onnx()
        to = attrs(node).get("to")
        return ins[0].astype(onnx.helper.tensor_dtype_to_np_dtype(to))
    if op == "QuantizeLinear" and len(ins) > 1 and ins[1] is not None:
        # A float weight quantized in the graph (onnxruntime's AddQDQPairToWeight): ONNX
        # divides in float32, rounds half to even and saturates to the zero point's type.
        x, scale = np.asarray(ins[0], np.float32), np.asarray(ins[1], np.float32)
        zero = np.asarray(ins[2] if len(ins) > 2 and ins[2] is not None else np.uint8(0))
        if zero.dtype.name not in ("uint8", "int8") or int(attrs(node).get("block_size", 0)):
            return None
        if scale.size > 1 or zero.size > 1:
            axis = int(attrs(node).get("axis", 1))
            along = [1] * x.ndim
            along[axis] = -1
            scale, zero = scale.reshape(along), zero.reshape(along)
        info = np.iinfo(zero.dtype)
        q = np.rint(x / scale) + zero.astype(np.float32)
        return np.clip(q, info.min, info.max).astype(zero.dtype)
    if op in ("Add", "Mul") and len(ins) == 2:
        return np.add(ins[0], ins[1]) if op == "Add" else np.multiply(ins[0], ins[1])
    return None


def _fold_constants(g: Graph) -> None:
    kept = []
    for node in g.nodes:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            try:
                g.consts[node.output[0]] = _constant_value(g, node)
            except (KeyError, ValueError, TypeError) as exc:
                raise refuse(g, node, f"the constant cannot be read: {exc}") from None
            continue
        data_inputs = [n for n in node.input if n]
        if data_inputs and all(n in g.consts for n in data_inputs):
            try:
                value = _fold(g, node, [g.consts[n] if n else None for n in node.input])
            except (ValueError, TypeError, IndexError, KeyError) as exc:
                # numpy's refusal of a bad perm, shape or type (AxisError is a ValueError)
                raise refuse(g, node, f"cannot compute it from its constants: {exc}") from None
            if value is not None and len([o for o in node.output if o]) == 1:
                g.consts[node.output[0]] = value
                continue
        kept.append(node)
    g.nodes = kept


def _keep_live(g: Graph) -> None:
    """Drop the nodes the output does not depend on; index consumers."""
    producer = {o: n for n in g.nodes for o in n.output if o}
    needed: set[str] = {g.output_name}
    live: set[int] = set()
    stack = [g.output_name]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in live:
            continue
        live.add(id(node))
        for name in node.input:
            if name and name not in needed:
                needed.add(name)
                stack.append(name)
    g.nodes = [n for n in g.nodes if id(n) in live]
    if g.output_name == g.input_name or g.output_name in g.consts:
        raise UnsupportedModelError(f"the output {g.output_name!r} is not computed from the input")
    if g.output_name not in producer:
        raise UnsupportedModelError(f"the output {g.output_name!r} is produced by no node")
    for node in g.nodes:
        for name in node.input:
            if name:
                g.consumers.setdefault(name, []).append(node)


# --- shapes -----------------------------------------------------------------------------------


def _axes(g: Graph, node: Any, from_input: int) -> list[int] | None:
    """The raw ``axes`` of Squeeze/Unsqueeze: an attribute before opset 13, an input after."""
    a = attrs(node)
    if "axes" in a:
        return [int(v) for v in a["axes"]]
    if len(node.input) > from_input and node.input[from_input]:
        value = g.const(node.input[from_input])
        if value is None:
            raise refuse(g, node, "the axes must be a constant")
        return [int(v) for v in np.asarray(value).reshape(-1)]
    return None


def _normalize_axes(g: Graph, node: Any, axes: list[int], rank: int) -> list[int]:
    if g.opset < 11 and min(axes, default=0) < 0:
        raise refuse(g, node, f"negative axes {axes} need opset 11 or later")
    out = []
    for v in axes:
        axis = v + rank if v < 0 else v
        if not 0 <= axis < rank or axis in out:
            raise refuse(g, node, f"bad axes {axes} for a rank-{rank} tensor")
        out.append(axis)
    return sorted(out)


def shape_op(g: Graph, node: Any, shape: Shape, *, allow_batch_change: bool = False) -> Shape:
    """The output shape of Flatten, Reshape, Squeeze, Unsqueeze or Transpose on ``shape``.

    On an activation (``allow_batch_change`` false) the batch axis must stay first and 1, and
    a Transpose must be a no-op on the data (it may only move axes of size 1): anything else
    is an ``UnsupportedModelError`` naming the node."""
    op, rank, size = node.op_type, len(shape), math.prod(shape)
    a = attrs(node)
    if op == "Flatten":
        check_attrs(g, node, ["axis"])
        axis = int(a.get("axis", 1))
        if axis < 0 and g.opset < 11:
            raise refuse(g, node, f"a negative axis {axis} needs opset 11 or later")
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis <= rank:
            raise refuse(g, node, f"axis {a.get('axis')} is outside a rank-{rank} tensor")
        out: Shape = (math.prod(shape[:axis]), math.prod(shape[axis:]))
    elif op == "Reshape":
        check_attrs(g, node, ["allowzero"])
        target = g.const(node.input[1]) if len(node.input) > 1 else None
        if target is None:
            raise refuse(g, node, "the target shape must be a constant")
        if np.ndim(target) != 1 or np.asarray(target).dtype != np.int64:
            raise refuse(g, node, "the target shape must be a 1-D int64 tensor")
        dims = [int(v) for v in np.asarray(target)]
        allowzero = int(a.get("allowzero", 0))
        resolved = []
        for i, d in enumerate(dims):
            if d == 0 and not allowzero:
                if i >= rank:
                    raise refuse(g, node, f"shape {dims}: 0 copies a dimension the input lacks")
                resolved.append(shape[i])
            else:
                resolved.append(d)
        if resolved.count(-1) > 1 or any(d < -1 for d in resolved):
            raise refuse(g, node, f"bad target shape {dims}")
        if -1 in resolved:
            known = math.prod(d for d in resolved if d != -1)
            if known == 0 or size % known:
                raise refuse(g, node, f"cannot reshape {list(shape)} to {dims}")
            resolved = [size // known if d == -1 else d for d in resolved]
        if math.prod(resolved) != size:
            raise refuse(g, node, f"cannot reshape {list(shape)} to {dims}")
        out = tuple(resolved)
    elif op == "Squeeze":
        check_attrs(g, node, ["axes"])
        raw = _axes(g, node, 1)
        if raw is None:
            axes = [i for i, d in enumerate(shape) if d == 1]
        else:
            axes = _normalize_axes(g, node, raw, rank)
        if any(shape[i] != 1 for i in axes):
            raise refuse(g, node, f"cannot squeeze axes {axes} of shape {list(shape)}")
        out = tuple(d for i, d in enumerate(shape) if i not in axes)
    elif op == "Unsqueeze":
        check_attrs(g, node, ["axes"])
        raw = _axes(g, node, 1)
        if raw is None:
            raise refuse(g, node, "Unsqueeze needs axes")
        new_rank = rank + len(raw)
        axes = _normalize_axes(g, node, raw, new_rank)
        dims = iter(shape)
        out = tuple(1 if i in axes else next(dims) for i in range(new_rank))
    elif op == "Transpose":
        check_attrs(g, node, ["perm"])
        perm = list(a.get("perm", range(rank - 1, -1, -1)))
        if sorted(perm) != list(range(rank)):
            raise refuse(g, node, f"bad perm {perm} for a rank-{rank} tensor")
        out = tuple(shape[p] for p in perm)
        moved = [p for p in perm if shape[p] != 1]
        if not allow_batch_change and moved != sorted(moved):
            raise refuse(
                g,
                node,
                f"a Transpose with perm {perm} of an activation of shape {list(shape)} moves "
                "data; only a Transpose of a constant (a weight) or one that moves axes of size "
                "1 is supported",
            )
    else:  # pragma: no cover - callers pass only SHAPE_OPS
        raise refuse(g, node, "not a shape operator")
    if not allow_batch_change and (len(out) < 2 or out[0] != 1):
        raise refuse(
            g,
            node,
            f"the output shape {list(out)} drops or moves the batch axis (input {list(shape)}); "
            "activations must keep a leading batch axis of 1 and one more axis at least",
        )
    return out


def pool_window(
    g: Graph,
    node: Any,
    a: dict[str, Any],
    shape: Shape,
    kernel_from_weight: Sequence[int] | None = None,
    *,
    padding_allowed: bool,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int]]:
    """``(kernel, stride, pads)`` of a 2-D Conv or pool on the NCHW ``shape``: ``auto_pad``
    (NOTSET, VALID, and SAME_UPPER/SAME_LOWER resolved to explicit pads), ``pads`` as
    ``(top, left, bottom, right)``, ``dilations`` 1, ``ceil_mode`` only where it gives the
    floor's output size. Anything else is an ``UnsupportedModelError`` naming the node. ``a``
    are the node's attributes, already checked against the operator's list."""
    if len(shape) != 4:
        raise refuse(g, node, f"only 2-D (NCHW) inputs are supported, got shape {list(shape)}")
    if kernel_from_weight is not None:
        kernel = tuple(int(k) for k in kernel_from_weight)
        if "kernel_shape" in a and tuple(a["kernel_shape"]) != kernel:
            raise refuse(g, node, f"kernel_shape {a['kernel_shape']} != the weight's {kernel}")
    else:
        if "kernel_shape" not in a:
            raise refuse(g, node, "kernel_shape is required")
        kernel = tuple(int(k) for k in a["kernel_shape"])
    if len(kernel) != 2 or min(kernel) < 1:
        raise refuse(g, node, f"the kernel must be 2-D, got {list(kernel)}")
    strides = tuple(int(s) for s in a.get("strides", (1, 1)))
    if len(strides) != 2 or min(strides) < 1:
        raise refuse(g, node, f"strides must be two positive integers, got {list(strides)}")
    dilations = tuple(int(d) for d in a.get("dilations", (1, 1)))
    if dilations != (1, 1):
        raise refuse(g, node, f"dilations {list(dilations)} are not supported (only 1)")
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode(errors="replace") if isinstance(auto_pad, bytes) else str(auto_pad)
    h, w = shape[2], shape[3]
    if auto_pad == "NOTSET":
        pads = tuple(int(p) for p in a.get("pads", (0, 0, 0, 0)))
        if len(pads) != 4 or min(pads) < 0:
            raise refuse(g, node, f"pads must be 4 non-negative integers, got {list(pads)}")
        top, left, bottom, right = pads
    elif auto_pad == "VALID":
        top = left = bottom = right = 0
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        both = []
        for size, k, s in ((h, kernel[0], strides[0]), (w, kernel[1], strides[1])):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            small, big = total // 2, total - total // 2
            both.append((small, big) if auto_pad == "SAME_UPPER" else (big, small))
        (top, bottom), (left, right) = both
    else:
        raise refuse(g, node, f"auto_pad {auto_pad!r} is not supported")
    pads4 = (top, left, bottom, right)
    if not padding_allowed and any(pads4):
        raise refuse(
            g,
            node,
            f"padding {list(pads4)} is not supported in a pool (the integer program's pools "
            "have none)",
        )
    floor = [
        (size + p0 + p1 - k) // s + 1 if size + p0 + p1 >= k else 0
        for size, p0, p1, k, s in (
            (h, top, bottom, kernel[0], strides[0]),
            (w, left, right, kernel[1], strides[1]),
        )
    ]
    if min(floor) < 1:
        raise refuse(g, node, f"the {list(kernel)} window does not fit the input {list(shape)}")
    if int(a.get("ceil_mode", 0)):
        ceil = [
            -(-(size + p0 + p1 - k) // s) + 1
            for size, p0, p1, k, s in (
                (h, top, bottom, kernel[0], strides[0]),
                (w, left, right, kernel[1], strides[1]),
            )
        ]
        if ceil != floor:
            raise refuse(
                g,
                node,
                f"ceil_mode = 1 gives output {ceil}, the integer program's windows {floor}; "
                "only ceil_mode = 0 (or a window that fits exactly) is supported",
            )
    return (kernel[0], kernel[1]), (strides[0], strides[1]), pads4


def conv_output_shape(
    shape: Shape,
    out_channels: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
) -> Shape:
    top, left, bottom, right = pads
    ho = (shape[2] + top + bottom - kernel[0]) // stride[0] + 1
    wo = (shape[3] + left + right - kernel[1]) // stride[1] + 1
    return (shape[0], out_channels, ho, wo)


def scalar(g: Graph, node: Any, name: str, what: str) -> float | None:
    """A scalar constant input (``None`` when the input is absent)."""
    if not name:
        return None
    value = g.const(name)
    if value is None:
        raise refuse(g, node, f"{what} must be a constant")
    arr = np.asarray(value)
    if arr.size != 1:
        raise refuse(g, node, f"{what} must be a scalar, got shape {list(arr.shape)}")
    return float(arr.reshape(-1)[0])


def per_channel(
    g: Graph,
    node: Any,
    value: npt.ArrayLike,
    channels: int,
    what: str,
    layouts: Sequence[Shape] = (),
    *,
    scalar_rank: int | None = 1,
) -> FloatArray:
    """A constant per output channel: ``[O]`` or one of ``layouts`` (e.g. ``[1, O]``,
    ``[O, 1, 1]``) with ``O = channels``, or one value broadcast to every channel (of rank at
    most ``scalar_rank``, so that broadcasting does not add axes; ``None``: no scalar). Anything
    else is an error naming the node."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == (channels,) or arr.shape in [tuple(s) for s in layouts]:
        return arr.reshape(channels)
    if scalar_rank is not None and arr.size == 1 and arr.ndim <= scalar_rank:
        return np.full(channels, float(arr.reshape(-1)[0]))
    raise refuse(
        g,
        node,
        f"{what} of shape {list(arr.shape)} does not broadcast per output channel ({channels})",
    )


def conv_weight_layouts(channels: int, rank: int) -> list[Shape]:
    """The shapes of a per-channel constant added to or multiplying an ``[1, O, ...]``
    activation of ``rank``: ``[1, O, 1, ...]`` and ``[O, 1, ...]``."""
    return [(1, channels, *(1,) * (rank - 2)), (channels, *(1,) * (rank - 2))]
