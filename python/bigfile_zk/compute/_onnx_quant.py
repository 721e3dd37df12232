"""A statically quantized ONNX graph (QDQ or QOperator) → :class:`~.qmodel.QuantizedModel`
(``docs/spec/onnx.md`` §4).

The graph's integers become the program's integers: an activation is the output of a
``QuantizeLinear`` (QDQ) or of a ``QLinear*`` operator (QOperator); weights are the quantized
initializers minus their zero point; biases the int32 initializers; every requantization's real
multiplier ``m = S_x·S_w[o]/S_y`` (or the pool's, or Add's pair) becomes ``(M, s)`` with
:func:`~.quantize.shared_multipliers`. A float computation on quantized inputs (QDQ's
``DequantizeLinear → op → QuantizeLinear``) is collected as *pending* until the
``QuantizeLinear`` that fixes its output's scale, zero point and dtype; ``Relu``/``Clip`` in
between become its clamp (spec quantization.md §7.4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bigfile_zk.errors import ParameterError, QuantizationError, UnsupportedModelError
from bigfile_zk.reference import compute as ref

from . import model as fm
from ._onnx_common import require_onnx
from ._onnx_graph import (
    ALIAS_OPS,
    SHAPE_OPS,
    Graph,
    Shape,
    attrs,
    check_attrs,
    conv_output_shape,
    conv_weight_layouts,
    per_channel,
    pool_window,
    refuse,
    scalar,
    shape_op,
)
from .qmodel import QuantizedModel, QuantizedNode, TensorQuant, round_half_up
from .quantize import activation_clamp, shared_multipliers

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: ``float32`` scales agree with the product they stand for to this relative error (one
#: rounding of a float32 product) when a bias's scale is checked against ``S_x·S_w``.
SCALE_RTOL = 1e-6
_POOL_ATTRS = [
    "auto_pad",
    "ceil_mode",
    "count_include_pad",
    "dilations",
    "kernel_shape",
    "pads",
    "strides",
]


@dataclass(frozen=True)
class _Int:
    """An integer activation of the program: its name there, quantization, ONNX shape."""

    name: str
    quant: TensorQuant
    shape: Shape


@dataclass(frozen=True)
class _QConst:
    """``DequantizeLinear`` of a constant: integers, per-axis scale and zero point, as the
    graph stores them (int8/uint8/int32 values and zero point, float32 scale, both 1-D)."""

    values: np.ndarray
    scale: np.ndarray  # one entry, or one per index of ``axis``
    zero_point: np.ndarray
    axis: int


@dataclass
class _Requant:
    """A requantizing operation waiting for its output quantization."""

    kind: str  # dense, conv2d, avg_pool, global_avg_pool, add
    inputs: list[_Int]
    shape: Shape  # ONNX output shape
    weight: IntArray | None = None
    bias: IntArray | None = None
    acc_scale: FloatArray | None = None  # the real value of one unit of acc, per channel
    float_bias: FloatArray | None = None  # ConvInteger chains: a float bias added after Mul
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    kernel: tuple[int, int] = (1, 1)
    stage: str = "ready"  # ConvInteger chains: "int32" → Cast → "float" → Mul → "ready"


@dataclass
class _Pending:
    """A float result of quantized inputs (QDQ), until its ``QuantizeLinear``."""

    node: Any  # the ONNX node that computed it
    requant: _Requant | None  # None: a pass-through chain on ``source``
    source: _Int | None = None
    passes: list[tuple[Any, ref.Op | None, Shape]] = field(default_factory=list)
    acts: list[fm.Node] = field(default_factory=list)
    fused: list[str] = field(default_factory=list)

    @property
    def shape(self) -> Shape:
        if self.requant is not None:
            return self.requant.shape
        assert self.source is not None
        return self.passes[-1][2] if self.passes else self.source.shape


def _onnx_name(node: Any) -> str:
    return str(node.name or node.output[0])


class _Builder:
    def __init__(self, g: Graph, input_range: tuple[int, int] | None, bits: int) -> None:
        self.g = g
        self.bits = bits
        self.input_range = input_range
        self.input: _Int | None = None
        self.ints: dict[str, _Int] = {}
        self.deq: dict[str, _Int] = {}
        self.qconsts: dict[str, _QConst] = {}
        self.pending: dict[str, _Pending] = {}
        self.nodes: list[QuantizedNode] = []
        self.names: set[str] = {"input"}

    # -- quantization parameters -------------------------------------------------------------

    def qparams(
        self, node: Any, si: int, zi: int, what: str, tensor_dtype: str | None = None
    ) -> TensorQuant:
        """A per-tensor (scalar) scale and zero point: an activation's quantization. Without a
        zero point the dtype is ``tensor_dtype`` (a DequantizeLinear's input), else uint8 or
        QuantizeLinear's ``output_dtype``."""
        g = self.g
        scale = g.const(node.input[si]) if len(node.input) > si else None
        if scale is None:
            raise refuse(g, node, f"the {what} scale must be a constant")
        zname = node.input[zi] if len(node.input) > zi else ""
        zero = g.const(zname) if zname else None
        if zname and zero is None:
            raise refuse(g, node, f"the {what} zero point must be a constant")
        if np.ndim(scale) != 0 or (zero is not None and np.ndim(zero) != 0):
            raise refuse(
                g,
                node,
                f"the {what} quantization must be per tensor (a scalar scale and zero point), "
                f"got shapes {list(np.shape(scale))} and "
                f"{'none' if zero is None else list(np.shape(zero))}",
            )
        sdtype = np.asarray(scale).dtype
        if sdtype != np.float32:
            raise refuse(g, node, f"the {what} scale must be float32, not {sdtype}")
        dtype = tensor_dtype if zero is None and tensor_dtype else self._dtype(node, zero)
        s = float(np.asarray(scale, dtype=np.float32).reshape(-1)[0])
        z = 0 if zero is None else int(np.asarray(zero).reshape(-1)[0])
        if not (np.isfinite(s) and s > 0):
            raise refuse(g, node, f"the {what} scale {s} must be finite and > 0")
        return TensorQuant(dtype, s, z)

    def _dtype(self, node: Any, zero: Any) -> str:
        if zero is None:
            onnx = require_onnx()
            to = attrs(node).get("output_dtype", 0)
            if not to:
                return "uint8"
            name = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(to)).name
        else:
            name = np.asarray(zero).dtype.name
        if name not in ref.DTYPES:
            raise refuse(
                self.g,
                node,
                f"{name} activations are not supported (the integer program has uint8 and int8)",
            )
        return name

    def same(self, node: Any, t: _Int, q: TensorQuant, what: str) -> None:
        if q != t.quant:
            raise refuse(
                self.g,
                node,
                f"the {what} quantization {q} differs from that of the tensor it reads "
                f"({t.quant}); a requantization without arithmetic is not supported",
            )

    # -- inputs --------------------------------------------------------------------------------

    def int_input(self, node: Any, i: int) -> _Int:
        """Input ``i`` as an integer tensor (QOperator style)."""
        name = node.input[i] if i < len(node.input) else ""
        if name in self.ints:
            return self.ints[name]
        raise refuse(self.g, node, f"input {i} ({name!r}) must be a quantized tensor")

    def deq_input(self, node: Any, i: int) -> _Int:
        """Input ``i`` as ``DequantizeLinear`` of an integer tensor (QDQ style)."""
        name = node.input[i] if i < len(node.input) else ""
        if name in self.deq:
            return self.deq[name]
        if name == self.g.input_name:
            raise refuse(self.g, node, "computes in float on the unquantized input")
        raise refuse(
            self.g,
            node,
            f"input {i} ({name!r}) must be the DequantizeLinear of a quantized tensor: the "
            "node would compute in float",
        )

    def weight_const(self, node: Any, i: int) -> _QConst:
        name = node.input[i] if i < len(node.input) else ""
        if name in self.qconsts:
            return self.qconsts[name]
        if name in self.g.consts:
            raise refuse(
                self.g,
                node,
                f"the weight {name!r} is a float constant: in a quantized model weights must be "
                "quantized (DequantizeLinear of an int8 initializer)",
            )
        raise refuse(self.g, node, f"the weight {name!r} must be a constant")

    def raw_const(self, node: Any, i: int, what: str) -> np.ndarray:
        name = node.input[i] if i < len(node.input) else ""
        value = self.g.const(name)
        if value is None:
            raise refuse(self.g, node, f"{what} ({name!r}) must be a constant")
        return np.asarray(value)

    # -- weights and biases --------------------------------------------------------------------

    def weights(
        self,
        node: Any,
        values: np.ndarray,
        scale: np.ndarray,
        zero: np.ndarray | None,
        out_axis: int,
        scale_axis: int | None,
    ) -> tuple[IntArray, FloatArray]:
        """``(W - z_w, S_w)`` with the output channel on axis ``out_axis`` of ``values``; the
        per-channel scale/zero point run along ``scale_axis`` (``None``: per tensor). ``W - z_w``
        must lie in ``[-127, 127]`` (spec quantization.md §2): an exact rewrite of any weight
        zero point, refused otherwise."""
        g = self.g
        if values.dtype.name not in ref.DTYPES:
            raise refuse(g, node, f"the weight must be int8 or uint8, got {values.dtype}")
        if np.ndim(scale) > 1 or np.ndim(zero) > 1:
            raise refuse(g, node, "the weight scale and zero point must be scalars or 1-D")
        if zero is not None and np.size(zero) != np.size(scale):
            raise refuse(g, node, "the weight scale and zero point must have the same size")
        zdtype, sdtype = np.asarray(zero).dtype, np.asarray(scale).dtype
        if zero is not None and zdtype != values.dtype:
            raise refuse(g, node, f"the weight zero point must be {values.dtype}, not {zdtype}")
        if sdtype != np.float32:
            raise refuse(g, node, f"the weight scale must be float32, not {sdtype}")
        channels = values.shape[out_axis]
        s = np.asarray(scale, dtype=np.float32).astype(np.float64).reshape(-1)
        z = np.zeros(1, np.int64) if zero is None else np.asarray(zero).astype(np.int64)
        z = z.reshape(-1)
        for arr, what in ((s, "scale"), (z, "zero point")):
            if arr.size not in (1, channels) or (arr.size > 1 and scale_axis != out_axis):
                raise refuse(
                    g,
                    node,
                    f"the weight {what} must be per tensor or per output channel (axis "
                    f"{out_axis} of {list(values.shape)}), got {arr.size} values along axis "
                    f"{scale_axis}",
                )
        if not np.all(np.isfinite(s) & (s > 0)):
            raise refuse(g, node, "the weight scales must be finite and > 0")
        s = np.broadcast_to(s, (channels,)).copy()
        zb = np.broadcast_to(z, (channels,)).reshape(
            [channels if a == out_axis else 1 for a in range(values.ndim)]
        )
        w = values.astype(np.int64) - zb
        bad = np.argwhere(np.abs(w) > ref.WEIGHT_MAX)
        if bad.size:
            idx = tuple(int(v) for v in bad[0])
            raw, zp = int(values[idx]), int(zb.reshape(-1)[idx[out_axis]] if zb.size > 1 else z[0])
            raise refuse(
                g,
                node,
                f"weight {list(idx)} = {raw} with zero point {zp} gives {raw - zp}, outside the "
                f"program's symmetric int8 range [-127, 127] (quantize weights symmetrically: "
                "onnxruntime's default WeightSymmetric=True does)",
            )
        w = np.moveaxis(w, out_axis, 0)
        return np.ascontiguousarray(w), s

    def bias(
        self,
        node: Any,
        i: int,
        channels: int,
        acc_scale: FloatArray,
        factor: float = 1.0,
        *,
        gemm: bool = False,
        int32: bool = False,
    ) -> IntArray:
        """The int32 bias at scale ``acc_scale`` (``S_x·S_w[o]``): a quantized bias whose scale
        is that product is taken as it is; a float bias, or one at another scale, is rounded
        half up to it (then it is no longer bit-exact with a runtime that adds it in float).
        Its shape is ``[O]`` (a ``Gemm``'s may also be ``[1, O]`` or broadcast one value);
        ``int32``: the operator takes an int32 initializer at that scale (QOperator)."""
        g = self.g
        name = node.input[i] if i < len(node.input) else ""
        if not name:
            return np.zeros(channels, dtype=np.int64)
        layouts = [(1, channels)] if gemm else []
        rank = 2 if gemm else None
        if int32 and (name not in g.consts or np.asarray(g.consts[name]).dtype != np.int32):
            raise refuse(g, node, f"the bias {name!r} must be an int32 initializer")
        if name in self.qconsts:
            qc = self.qconsts[name]
            q = per_channel(g, node, qc.values, channels, "the bias", layouts, scalar_rank=rank)
            bs = per_channel(g, node, qc.scale, channels, "the bias scale")
            bz = per_channel(g, node, qc.zero_point, channels, "the bias zero point")
            if (
                factor == 1.0
                and not bz.any()
                and np.allclose(bs, acc_scale, rtol=SCALE_RTOL, atol=0)
            ):
                out = q
            else:
                out = round_half_up(factor * bs * (q - bz) / acc_scale)
        elif name in g.consts:
            values = np.asarray(g.consts[name])
            if values.dtype.kind in "iu" and values.dtype != np.int32:
                raise refuse(g, node, f"an integer bias must be int32, got {values.dtype}")
            if values.dtype.kind in "iu":
                # QLinearConv / QGemm: an int32 bias at S_x·S_w by definition.
                out = per_channel(g, node, values, channels, "the bias", layouts, scalar_rank=rank)
                if factor != 1.0:
                    out = round_half_up(factor * out)
            else:
                b = per_channel(g, node, values, channels, "the bias", layouts, scalar_rank=rank)
                out = round_half_up(factor * b / acc_scale)
        else:
            raise refuse(g, node, f"the bias {name!r} must be a constant")
        bad = np.flatnonzero((out < ref.INT32_MIN) | (out > ref.INT32_MAX))
        if bad.size:
            raise QuantizationError(
                f"{g.where(node)}: bias[{int(bad[0])}] = {out[bad[0]]:.6g} does not fit int32"
            )
        return out.astype(np.int64)

    # -- emitting program nodes ----------------------------------------------------------------

    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    def emit(
        self,
        onnx_node: Any,
        inputs: list[_Int],
        op: ref.Op,
        shape: Shape,
        quant: TensorQuant,
        fused: list[str],
        weight_scale: tuple[float, ...] | None = None,
        base: str | None = None,
    ) -> _Int:
        name = self.unique(base or _onnx_name(onnx_node))
        try:
            node = QuantizedNode(
                name=name,
                inputs=tuple(t.name for t in inputs),
                op=op,
                shape=shape[1:],
                output=quant,
                fused=tuple(fused),
                weight_scale=weight_scale,
            )
        except ParameterError as exc:  # pragma: no cover - the ops were validated above
            raise refuse(self.g, onnx_node, str(exc)) from None
        self.nodes.append(node)
        return _Int(name, quant, shape)

    def multipliers(self, node: Any, ms: list[float]) -> tuple[tuple[int, ...], int]:
        try:
            return shared_multipliers(ms, multiplier_bits=self.bits)
        except QuantizationError as exc:
            raise QuantizationError(f"{self.g.where(node)}: {exc}") from None

    def finish(
        self,
        onnx_node: Any,
        r: _Requant,
        out: TensorQuant,
        acts: list[fm.Node],
        fused: list[str],
    ) -> _Int:
        """Emit the requantizing node ``r`` with output quantization ``out``."""
        where = self.g.where(onnx_node)
        clamp = activation_clamp(acts, out, where)
        common = {"output_zero_point": out.zero_point, "clamp": clamp}
        x = r.inputs[0]
        weight_scale = None
        op: ref.Op
        if r.kind in ("dense", "conv2d"):
            assert r.weight is not None and r.acc_scale is not None
            bias = r.bias if r.bias is not None else np.zeros(r.weight.shape[0], np.int64)
            if r.float_bias is not None:
                bias = bias + self.int32(onnx_node, round_half_up(r.float_bias / r.acc_scale))
            pairs = [self.multipliers(onnx_node, [float(a / out.scale)]) for a in r.acc_scale]
            params = {
                "weight": r.weight,
                "bias": bias,
                "input_zero_point": x.quant.zero_point,
                "multiplier": [m for (m,), _ in pairs],
                "shift": [s for _, s in pairs],
                **common,
            }
            if r.kind == "dense":
                op = ref.Dense(**params)
            else:
                op = ref.Conv2d(stride=r.stride, padding=r.pads, **params)
            weight_scale = tuple(float(a / x.quant.scale) for a in r.acc_scale)
        elif r.kind in ("avg_pool", "global_avg_pool"):
            window = r.kernel[0] * r.kernel[1]
            (m,), s = self.multipliers(onnx_node, [x.quant.scale / (out.scale * window)])
            pool = {"input_zero_point": x.quant.zero_point, "multiplier": m, "shift": s}
            if r.kind == "avg_pool":
                op = ref.AvgPool(kernel=r.kernel, stride=r.stride, **pool, **common)
            else:
                op = ref.GlobalAvgPool(**pool, **common)
        else:
            a, b = r.inputs
            (m1, m2), s = self.multipliers(
                onnx_node, [a.quant.scale / out.scale, b.quant.scale / out.scale]
            )
            op = ref.Add(
                input_zero_points=(a.quant.zero_point, b.quant.zero_point),
                multipliers=(m1, m2),
                shift=s,
                **common,
            )
        return self.emit(onnx_node, r.inputs, op, r.shape, out, fused, weight_scale)

    def int32(self, node: Any, values: FloatArray) -> IntArray:
        bad = np.flatnonzero((values < ref.INT32_MIN) | (values > ref.INT32_MAX))
        if bad.size:
            raise QuantizationError(f"{self.g.where(node)}: bias[{int(bad[0])}] does not fit int32")
        return values.astype(np.int64)

    def pass_chain(self, p: _Pending, out: TensorQuant) -> _Int:
        """Emit a pass-through chain (MaxPool, reshapes, Relu/Clip) that ends in a
        QuantizeLinear with its input's quantization."""
        assert p.source is not None
        t = p.source
        for onnx_node, op, shape in p.passes:
            if op is not None:
                t = self.emit(onnx_node, [t], op, shape, t.quant, [_onnx_name(onnx_node)])
            else:
                t = _Int(t.name, t.quant, shape)
        if p.acts:
            clamp = activation_clamp(p.acts, t.quant, self.g.where(p.node))
            names = [a.name for a in p.acts]
            t = self.emit(
                p.node, [t], ref.Clamp(clamp=clamp), t.shape, t.quant, names, base=names[-1]
            )
        return t

    # -- Q / DQ ----------------------------------------------------------------------------

    def QuantizeLinear(self, node: Any) -> None:
        g = self.g
        check_attrs(g, node, ["axis", "saturate", "output_dtype", "block_size", "precision"])
        if int(attrs(node).get("block_size", 0)):
            raise refuse(g, node, "blocked quantization is not supported")
        q = self.qparams(node, 1, 2, "output")
        src, out = node.input[0], node.output[0]
        if src == g.input_name:
            if self.input is not None:
                self.same(node, self.input, q, "input")
            else:
                self.input = _Int("input", q, g.input_shape)
            self.ints[out] = self.input
        elif src in self.pending:
            p = self.pending.pop(src)
            if p.requant is not None:
                r = p.requant
                if r.stage != "ready":
                    raise refuse(
                        g,
                        node,
                        f"the integer result of {_onnx_name(p.node)!r} must be cast to float and "
                        "multiplied by its scale before it is quantized",
                    )
                self.ints[out] = self.finish(p.node, r, q, p.acts, p.fused)
            else:
                assert p.source is not None
                self.same(node, p.source, q, "output")
                self.ints[out] = self.pass_chain(p, q)
        elif src in self.deq:
            self.same(node, self.deq[src], q, "output")
            self.ints[out] = self.deq[src]
        else:
            raise refuse(
                g,
                node,
                f"quantizes {src!r}, which is neither the model's input nor the float result of "
                "a quantized operation",
            )

    def DequantizeLinear(self, node: Any) -> None:
        g = self.g
        a = check_attrs(g, node, ["axis", "block_size", "output_dtype"])
        if int(a.get("block_size", 0)):
            raise refuse(g, node, "blocked quantization is not supported")
        src = node.input[0]
        if src in g.consts:
            values = np.asarray(g.consts[src])
            scale = self.raw_const(node, 1, "the scale")
            zero = (
                self.raw_const(node, 2, "the zero point")
                if len(node.input) > 2 and node.input[2]
                else np.zeros(1, dtype=values.dtype)
            )
            if values.dtype.name not in ("int8", "uint8", "int32"):
                raise refuse(g, node, f"dequantizes a {values.dtype} constant")
            if scale.dtype != np.float32 or zero.dtype != values.dtype:
                raise refuse(
                    g,
                    node,
                    f"the scale must be float32 and the zero point {values.dtype}, got "
                    f"{scale.dtype} and {zero.dtype}",
                )
            if np.ndim(scale) > 1 or np.ndim(zero) > 1:
                raise refuse(g, node, "the scale and zero point must be scalars or 1-D")
            if not np.all(np.isfinite(scale) & (scale > 0)):
                raise refuse(g, node, "the scales must be finite and > 0")
            axis = int(a.get("axis", 1))
            axis = axis + values.ndim if axis < 0 else axis
            self.qconsts[node.output[0]] = _QConst(
                values=values, scale=scale.reshape(-1), zero_point=zero.reshape(-1), axis=axis
            )
        elif src in self.ints:
            t = self.ints[src]
            q = self.qparams(node, 1, 2, "input", tensor_dtype=t.quant.dtype)
            self.same(node, t, q, "DequantizeLinear")
            self.deq[node.output[0]] = t
        else:
            raise refuse(g, node, f"dequantizes {src!r}, which is not a quantized tensor")

    # -- QDQ: float operators on dequantized inputs ------------------------------------------

    def add_pending(self, node: Any, p: _Pending) -> None:
        out = node.output[0]
        users = self.g.consumers.get(out, [])
        if len(users) != 1 and out != self.g.output_name:
            raise refuse(
                self.g,
                node,
                f"its float output feeds {len(users)} nodes; a quantized model quantizes it once "
                "(QuantizeLinear) before it is shared",
            )
        self.pending[out] = p

    def linear_weights(
        self, node: Any, qc: _QConst, transposed: bool
    ) -> tuple[IntArray, FloatArray]:
        """A Gemm/MatMul weight as ``[O, I]``: ``transposed`` means ``[O, I]`` as stored
        (Gemm transB = 1), else ``[I, O]``."""
        if qc.values.ndim != 2:
            raise refuse(self.g, node, f"the weight must be 2-D, got {list(qc.values.shape)}")
        out_axis = 0 if transposed else 1
        scale_axis = qc.axis if qc.scale.size > 1 or qc.zero_point.size > 1 else None
        return self.weights(node, qc.values, qc.scale, qc.zero_point, out_axis, scale_axis)

    def dense_input(self, node: Any, x: _Int, features: int) -> None:
        if len(x.shape) != 2 or x.shape[1] != features:
            raise refuse(
                self.g,
                node,
                f"the input must be [1, {features}], got {list(x.shape)} (flatten first)",
            )

    def Conv(self, node: Any) -> None:
        a = check_attrs(
            self.g, node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]
        )
        x = self.deq_input(node, 0)
        qc = self.weight_const(node, 1)
        r = self.conv_requant(
            node,
            a,
            x,
            qc.values,
            qc.scale,
            qc.zero_point,
            qc.axis if qc.scale.size > 1 or qc.zero_point.size > 1 else None,
        )
        assert r.acc_scale is not None and r.weight is not None
        r.bias = self.bias(node, 2, r.weight.shape[0], r.acc_scale)
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def conv_requant(
        self,
        node: Any,
        a: dict[str, Any],
        x: _Int,
        values: np.ndarray,
        scale: np.ndarray,
        zero: np.ndarray | None,
        scale_axis: int | None,
    ) -> _Requant:
        if int(a.get("group", 1)) != 1:
            raise refuse(self.g, node, f"group = {a['group']} is not supported (only 1)")
        if values.ndim != 4:
            raise refuse(self.g, node, f"only 2-D convolutions: weight {list(values.shape)}")
        if len(x.shape) != 4 or x.shape[1] != values.shape[1]:
            raise refuse(
                self.g,
                node,
                f"the input {list(x.shape)} does not fit the weight {list(values.shape)}",
            )
        w, ws = self.weights(node, values, scale, zero, 0, scale_axis)
        kernel, stride, pads = pool_window(
            self.g, node, a, x.shape, values.shape[2:], padding_allowed=True
        )
        return _Requant(
            kind="conv2d",
            inputs=[x],
            shape=conv_output_shape(x.shape, w.shape[0], kernel, stride, pads),
            weight=w,
            acc_scale=x.quant.scale * ws,
            stride=stride,
            pads=pads,
        )

    def Gemm(self, node: Any) -> None:
        a = check_attrs(self.g, node, ["alpha", "beta", "transA", "transB"])
        if int(a.get("transA", 0)):
            raise refuse(self.g, node, "transA = 1 is not supported (the input is [1, features])")
        x = self.deq_input(node, 0)
        w, ws = self.linear_weights(node, self.weight_const(node, 1), int(a.get("transB", 0)) == 1)
        self.dense_input(node, x, w.shape[1])
        acc_scale = float(a.get("alpha", 1.0)) * x.quant.scale * ws
        beta = float(a.get("beta", 1.0))
        bias = self.bias(node, 2, w.shape[0], acc_scale, factor=beta, gemm=True)
        r = _Requant("dense", [x], (1, w.shape[0]), weight=w, bias=bias, acc_scale=acc_scale)
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def MatMul(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        x = self.deq_input(node, 0)
        w, ws = self.linear_weights(node, self.weight_const(node, 1), False)
        self.dense_input(node, x, w.shape[1])
        r = _Requant(
            "dense",
            [x],
            (1, w.shape[0]),
            weight=w,
            bias=np.zeros(w.shape[0], np.int64),
            acc_scale=x.quant.scale * ws,
        )
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def Add(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        ins = list(node.input[:2])
        # A ConvInteger chain's float bias: Add(pending, constant).
        for i in (0, 1):
            if ins[i] in self.pending and ins[1 - i] in self.g.consts:
                p = self.pending.pop(ins[i])
                r = p.requant
                if (
                    r is None
                    or r.kind not in ("dense", "conv2d")
                    or r.stage != "ready"
                    or r.float_bias is not None
                    or p.acts
                ):
                    raise refuse(
                        self.g,
                        node,
                        "an Add of a constant is supported only as the bias of a "
                        "ConvInteger/MatMulInteger after its scale",
                    )
                assert r.weight is not None
                channels = r.weight.shape[0]
                r.float_bias = per_channel(
                    self.g,
                    node,
                    self.g.consts[ins[1 - i]],
                    channels,
                    "the bias",
                    conv_weight_layouts(channels, len(r.shape)),
                )
                p.fused.append(_onnx_name(node))
                self.add_pending(node, p)
                return
        if any(n in self.g.consts or n in self.qconsts for n in ins):
            raise refuse(
                self.g,
                node,
                "an Add of a constant (a bias after a MatMul) is not supported: write the layer "
                "as a Gemm, or fuse it before quantizing (onnxruntime.quantization."
                "quant_pre_process does)",
            )
        a, b = self.deq_input(node, 0), self.deq_input(node, 1)
        self.check_add_shapes(node, a, b)
        r = _Requant("add", [a, b], a.shape)
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def check_add_shapes(self, node: Any, a: _Int, b: _Int) -> None:
        if a.shape != b.shape:
            raise refuse(
                self.g,
                node,
                f"broadcasting Add of shapes {list(a.shape)} and {list(b.shape)} is not "
                "supported (only equal shapes)",
            )

    def pool_requant(self, node: Any, x: _Int, a: dict[str, Any], kind: str) -> _Requant:
        if kind == "global_avg_pool":
            if len(x.shape) != 4:
                raise refuse(self.g, node, f"only NCHW inputs are supported, got {list(x.shape)}")
            return _Requant(kind, [x], (1, x.shape[1], 1, 1), kernel=(x.shape[2], x.shape[3]))
        kernel, stride, _ = pool_window(self.g, node, a, x.shape, padding_allowed=False)
        ho = (x.shape[2] - kernel[0]) // stride[0] + 1
        wo = (x.shape[3] - kernel[1]) // stride[1] + 1
        return _Requant(kind, [x], (1, x.shape[1], ho, wo), kernel=kernel, stride=stride)

    def AveragePool(self, node: Any) -> None:
        a = check_attrs(self.g, node, _POOL_ATTRS)
        r = self.pool_requant(node, self.deq_input(node, 0), a, "avg_pool")
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def GlobalAveragePool(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        r = self.pool_requant(node, self.deq_input(node, 0), {}, "global_avg_pool")
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    # -- activations and data movement (both formats) --------------------------------------

    def activation(self, node: Any) -> fm.Node:
        g = self.g
        name = _onnx_name(node)
        if node.op_type == "Relu":
            check_attrs(g, node, [])
            return fm.ReLU(name)
        a = check_attrs(g, node, ["min", "max"])
        if g.opset < 11:
            lo, hi = a.get("min"), a.get("max")
        else:
            lo = scalar(g, node, node.input[1] if len(node.input) > 1 else "", "min")
            hi = scalar(g, node, node.input[2] if len(node.input) > 2 else "", "max")
        lo = -np.inf if lo is None else float(lo)
        hi = np.inf if hi is None else float(hi)
        if not lo < hi:
            raise refuse(g, node, f"min {lo} must be below max {hi}")
        return fm.Clip(name, lo, hi)

    def Relu(self, node: Any) -> None:
        self.act_node(node)

    def Clip(self, node: Any) -> None:
        self.act_node(node)

    def act_node(self, node: Any) -> None:
        src = node.input[0]
        if src in self.ints:
            # An integer Relu/Clip (opset >= 12/14 on int8/uint8): clamp the integers as they are.
            t = self.ints[src]
            g, dtype = self.g, t.quant.dtype
            if node.op_type == "Relu" and (g.opset < 14 or dtype != "int8"):
                raise refuse(g, node, f"Relu on {dtype} integers is not ONNX (int8, opset >= 14)")
            if node.op_type == "Clip":
                bounds = [
                    self.raw_const(node, i, "a bound")
                    for i in (1, 2)
                    if len(node.input) > i and node.input[i]
                ]
                if g.opset < 12 or any(b.dtype.name != dtype for b in bounds):
                    raise refuse(
                        g, node, f"a Clip of {dtype} integers needs {dtype} bounds (opset >= 12)"
                    )
            act = self.activation(node)
            lo, hi = t.quant.range
            if isinstance(act, fm.Clip):
                lo = max(lo, int(np.ceil(act.lo))) if np.isfinite(act.lo) else lo
                hi = min(hi, int(np.floor(act.hi))) if np.isfinite(act.hi) else hi
            else:
                lo = max(lo, 0)
            if lo > hi:
                raise refuse(self.g, node, "the clamp leaves no value")
            self.ints[node.output[0]] = self.emit(
                node, [t], ref.Clamp(clamp=(lo, hi)), t.shape, t.quant, [_onnx_name(node)]
            )
            return
        act = self.activation(node)
        if src in self.pending:
            p = self.pending.pop(src)
            if p.requant is not None and p.requant.stage != "ready":
                raise refuse(self.g, node, "an activation on an unscaled integer result")
        elif src in self.deq:
            p = _Pending(node, None, source=self.deq[src])
        else:
            raise refuse(self.g, node, f"its input {src!r} is not quantized")
        p.acts.append(act)
        p.fused.append(act.name)
        self.add_pending(node, p)

    def MaxPool(self, node: Any) -> None:
        a = check_attrs(
            self.g,
            node,
            [
                "auto_pad",
                "ceil_mode",
                "dilations",
                "kernel_shape",
                "pads",
                "storage_order",
                "strides",
            ],
        )
        if len(node.output) > 1 and node.output[1]:
            raise refuse(self.g, node, "the Indices output is not supported")
        src = node.input[0]
        shape = self.source_shape(node, src)
        kernel, stride, _ = pool_window(self.g, node, a, shape, padding_allowed=False)
        ho = (shape[2] - kernel[0]) // stride[0] + 1
        wo = (shape[3] - kernel[1]) // stride[1] + 1
        self.move(node, ref.MaxPool(kernel=kernel, stride=stride), (1, shape[1], ho, wo))

    def source_shape(self, node: Any, src: str) -> Shape:
        for table in (self.ints, self.deq):
            if src in table:
                return table[src].shape
        if src in self.pending and self.pending[src].requant is None:
            return self.pending[src].shape
        raise refuse(self.g, node, f"its input {src!r} is not a quantized tensor")

    def move(self, node: Any, op: ref.Op | None, shape: Shape) -> None:
        """A pass-through operation (same integers moved, same quantization)."""
        src = node.input[0]
        if src in self.ints:
            t = self.ints[src]
            if op is None:
                self.ints[node.output[0]] = _Int(t.name, t.quant, shape)
            else:
                self.ints[node.output[0]] = self.emit(
                    node, [t], op, shape, t.quant, [_onnx_name(node)]
                )
            return
        if src in self.deq:
            p = _Pending(node, None, source=self.deq[src])
        elif src in self.pending and self.pending[src].requant is None:
            p = self.pending.pop(src)
        else:
            raise refuse(self.g, node, f"its input {src!r} is not a quantized tensor")
        p.passes.append((node, op, shape))
        self.add_pending(node, p)

    def shape_node(self, node: Any) -> None:
        src = node.input[0]
        shape = self.source_shape(node, src)
        out = shape_op(self.g, node, shape)
        self.move(node, None if out == shape else ref.Reshape(shape=out[1:]), out)

    def alias_node(self, node: Any) -> None:
        if node.op_type == "Dropout":
            check_attrs(self.g, node, ["ratio", "seed", "is_test"])
            if any(o and self.g.consumers.get(o) for o in node.output[1:]):
                raise refuse(self.g, node, "its mask output is used")
        else:
            check_attrs(self.g, node, [])
        src, out = node.input[0], node.output[0]
        for table in (self.ints, self.deq, self.pending):
            if src in table:
                value = table.pop(src) if table is self.pending else table[src]
                if table is self.pending:
                    self.add_pending(node, value)  # type: ignore[arg-type]
                else:
                    table[out] = value  # type: ignore[index]
                return
        raise refuse(self.g, node, f"its input {src!r} is not a quantized tensor")

    # -- QOperator ---------------------------------------------------------------------------

    def qlinear_input(self, node: Any, i: int, si: int, zi: int, what: str) -> _Int:
        x = self.int_input(node, i)
        self.same(node, x, self.qparams(node, si, zi, what), what)
        return x

    def QLinearConv(self, node: Any) -> None:
        a = check_attrs(
            self.g, node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]
        )
        x = self.qlinear_input(node, 0, 1, 2, "x")
        w = self.raw_const(node, 3, "the weight")
        ws, wz = self.raw_const(node, 4, "w_scale"), self.raw_const(node, 5, "w_zero_point")
        axis = 0 if np.asarray(ws).size > 1 or np.asarray(wz).size > 1 else None
        r = self.conv_requant(node, a, x, w, ws, wz, axis)
        assert r.weight is not None and r.acc_scale is not None
        r.bias = self.bias(node, 8, r.weight.shape[0], r.acc_scale, int32=True)
        out = self.qparams(node, 6, 7, "y")
        self.ints[node.output[0]] = self.finish(node, r, out, [], [_onnx_name(node)])

    def QLinearMatMul(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        x = self.qlinear_input(node, 0, 1, 2, "a")
        b = self.raw_const(node, 3, "the weight b")
        bs, bz = self.raw_const(node, 4, "b_scale"), self.raw_const(node, 5, "b_zero_point")
        if b.ndim != 2:
            raise refuse(self.g, node, f"the weight must be 2-D, got {list(b.shape)}")
        axis = 1 if np.asarray(bs).size > 1 or np.asarray(bz).size > 1 else None
        w, ws = self.weights(node, b, bs, bz, 1, axis)
        self.dense_input(node, x, w.shape[1])
        r = _Requant(
            "dense",
            [x],
            (1, w.shape[0]),
            weight=w,
            bias=np.zeros(w.shape[0], np.int64),
            acc_scale=x.quant.scale * ws,
        )
        out = self.qparams(node, 6, 7, "y")
        self.ints[node.output[0]] = self.finish(node, r, out, [], [_onnx_name(node)])

    def QGemm(self, node: Any) -> None:
        a = check_attrs(self.g, node, ["alpha", "transA", "transB"])
        if int(a.get("transA", 0)):
            raise refuse(self.g, node, "transA = 1 is not supported (the input is [1, features])")
        if len(node.input) < 8 or not node.input[7]:
            raise refuse(self.g, node, "a QGemm with a float output (no y_scale) is not supported")
        x = self.qlinear_input(node, 0, 1, 2, "a")
        b = self.raw_const(node, 3, "the weight B")
        bs, bz = self.raw_const(node, 4, "b_scale"), self.raw_const(node, 5, "b_zero_point")
        if b.ndim != 2:
            raise refuse(self.g, node, f"the weight must be 2-D, got {list(b.shape)}")
        transposed = int(a.get("transB", 0)) == 1
        out_axis = 0 if transposed else 1
        axis = out_axis if np.asarray(bs).size > 1 or np.asarray(bz).size > 1 else None
        w, ws = self.weights(node, b, bs, bz, out_axis, axis)
        self.dense_input(node, x, w.shape[1])
        acc_scale = float(a.get("alpha", 1.0)) * x.quant.scale * ws
        bias = self.bias(node, 6, w.shape[0], acc_scale, gemm=True, int32=True)
        r = _Requant("dense", [x], (1, w.shape[0]), weight=w, bias=bias, acc_scale=acc_scale)
        out = self.qparams(node, 7, 8, "y")
        self.ints[node.output[0]] = self.finish(node, r, out, [], [_onnx_name(node)])

    def QLinearAdd(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        if node.input[3] in self.g.consts:
            raise refuse(
                self.g,
                node,
                "a QLinearAdd of a constant (a bias after a MatMul) is not supported: write the "
                "layer as a Gemm, or fuse it before quantizing (onnxruntime.quantization."
                "quant_pre_process does)",
            )
        a = self.qlinear_input(node, 0, 1, 2, "A")
        b = self.qlinear_input(node, 3, 4, 5, "B")
        self.check_add_shapes(node, a, b)
        out = self.qparams(node, 6, 7, "C")
        self.ints[node.output[0]] = self.finish(
            node, _Requant("add", [a, b], a.shape), out, [], [_onnx_name(node)]
        )

    def QLinearAveragePool(self, node: Any) -> None:
        a = check_attrs(self.g, node, [*_POOL_ATTRS, "channels_last"])
        if int(a.pop("channels_last", 0)):
            raise refuse(self.g, node, "channels_last = 1 is not supported (NCHW only)")
        x = self.qlinear_input(node, 0, 1, 2, "x")
        r = self.pool_requant(node, x, a, "avg_pool")
        out = self.qparams(node, 3, 4, "y")
        self.ints[node.output[0]] = self.finish(node, r, out, [], [_onnx_name(node)])

    def QLinearGlobalAveragePool(self, node: Any) -> None:
        a = check_attrs(self.g, node, ["channels_last"])
        if int(a.get("channels_last", 0)):
            raise refuse(self.g, node, "channels_last = 1 is not supported (NCHW only)")
        x = self.qlinear_input(node, 0, 1, 2, "x")
        r = self.pool_requant(node, x, {}, "global_avg_pool")
        out = self.qparams(node, 3, 4, "y")
        self.ints[node.output[0]] = self.finish(node, r, out, [], [_onnx_name(node)])

    # -- ConvInteger / MatMulInteger → Cast → Mul → [Add] → [Relu/Clip] → QuantizeLinear ------

    def integer_zero_points(self, node: Any, x: _Int, zi: int) -> None:
        z = 0
        if len(node.input) > zi and node.input[zi]:
            value = self.raw_const(node, zi, "the input zero point")
            if value.size != 1:
                raise refuse(self.g, node, "the input zero point must be a scalar")
            z = int(value.reshape(-1)[0])
        if z != x.quant.zero_point:
            raise refuse(
                self.g,
                node,
                f"the input zero point {z} differs from the tensor's {x.quant.zero_point}",
            )

    def ConvInteger(self, node: Any) -> None:
        a = check_attrs(
            self.g, node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]
        )
        x = self.int_input(node, 0)
        self.integer_zero_points(node, x, 2)
        w = self.raw_const(node, 1, "the weight")
        wz = (
            self.raw_const(node, 3, "the weight zero point")
            if len(node.input) > 3 and (node.input[3])
            else None
        )
        axis = 0 if wz is not None and wz.size > 1 else None
        r = self.conv_requant(node, a, x, w, np.ones(1, np.float32), wz, axis)
        r.stage, r.acc_scale = "int32", None
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def MatMulInteger(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        x = self.int_input(node, 0)
        self.integer_zero_points(node, x, 2)
        b = self.raw_const(node, 1, "the weight")
        if b.ndim != 2:
            raise refuse(self.g, node, f"the weight must be 2-D, got {list(b.shape)}")
        bz = (
            self.raw_const(node, 3, "the weight zero point")
            if len(node.input) > 3 and (node.input[3])
            else None
        )
        axis = 1 if bz is not None and bz.size > 1 else None
        w, _ = self.weights(node, b, np.ones(1, np.float32), bz, 1, axis)
        self.dense_input(node, x, w.shape[1])
        r = _Requant("dense", [x], (1, w.shape[0]), weight=w, stage="int32")
        self.add_pending(node, _Pending(node, r, fused=[_onnx_name(node)]))

    def pending_stage(self, node: Any, stage: str) -> tuple[_Pending, str]:
        src = next((n for n in node.input if n in self.pending), None)
        p = self.pending.get(src) if src is not None else None
        if p is None or p.requant is None or p.requant.stage != stage:
            raise refuse(
                self.g,
                node,
                f"{node.op_type} is supported only to rescale the int32 result of a "
                "ConvInteger/MatMulInteger (Cast to float, then Mul by a constant scale)",
            )
        assert src is not None
        del self.pending[src]
        return p, src

    def Cast(self, node: Any) -> None:
        onnx = require_onnx()
        a = check_attrs(self.g, node, ["to", "saturate", "round_mode"])
        p, _ = self.pending_stage(node, "int32")
        if a.get("to") != onnx.TensorProto.FLOAT:
            raise refuse(self.g, node, "the int32 result must be cast to float")
        assert p.requant is not None
        p.requant.stage = "float"
        p.fused.append(_onnx_name(node))
        self.add_pending(node, p)

    def Mul(self, node: Any) -> None:
        check_attrs(self.g, node, [])
        p, src = self.pending_stage(node, "float")
        r = p.requant
        assert r is not None and r.weight is not None
        other = node.input[1] if node.input[0] == src else node.input[0]
        if other not in self.g.consts:
            raise refuse(self.g, node, "the scale must be a constant")
        channels = r.weight.shape[0]
        scale = per_channel(
            self.g,
            node,
            self.g.consts[other],
            channels,
            "the scale",
            conv_weight_layouts(channels, len(r.shape)),
        )
        if not np.all(np.isfinite(scale) & (scale > 0)):
            raise refuse(self.g, node, "the scale must be finite and > 0")
        r.acc_scale, r.stage = scale, "ready"
        r.bias = np.zeros(channels, np.int64)
        p.fused.append(_onnx_name(node))
        self.add_pending(node, p)

    # -- the graph ---------------------------------------------------------------------------

    def build(self) -> tuple[QuantizedModel, dict[str, str]]:
        g = self.g
        for node in g.nodes:
            op = node.op_type
            if op in SHAPE_OPS:
                self.shape_node(node)
            elif op in ALIAS_OPS:
                self.alias_node(node)
            elif op == "BatchNormalization":  # pragma: no cover - parse() refuses it
                raise refuse(g, node, "BatchNormalization in a quantized model")
            else:
                handler: Callable[[Any], None] | None = getattr(self, op, None)
                if handler is None:  # pragma: no cover - parse() lists the operators
                    raise refuse(g, node, "not supported in a quantized model")
                handler(node)
        out = g.output_name
        if out in self.deq:
            result = self.deq[out]
        elif out in self.ints:
            result = self.ints[out]
        else:
            raise UnsupportedModelError(
                f"the output {out!r} is computed in float: a quantized model must end in "
                "QuantizeLinear (and optionally DequantizeLinear)"
            )
        if self.input is None or result.name == "input" or not self.nodes:
            raise ParameterError("the model computes nothing from its quantized input")
        if self.nodes[-1].name != result.name:
            raise ParameterError(
                f"the output {out!r} is not the last quantized node's ({self.nodes[-1].name!r})"
            )
        tensors: dict[str, str] = {}
        for onnx_name, t in self.ints.items():
            tensors.setdefault(t.name, onnx_name)
        nodes = _fuse_clamps(self.nodes, tensors)
        qmodel = QuantizedModel(
            self.input.shape[1:], self.input.quant, nodes, input_range=self.input_range
        )
        return qmodel, tensors


#: Operations ending in a requantization, whose clamp can absorb a following clamp.
_REQUANTIZING = ("dense", "conv2d", "avg_pool", "global_avg_pool", "add")


def _fuse_clamps(nodes: list[QuantizedNode], tensors: dict[str, str]) -> list[QuantizedNode]:
    """A standalone clamp (a Relu/Clip onnxruntime kept, e.g. with
    ``QDQKeepRemovableActivations``) whose input is a requantizing node's output read by it
    alone becomes that node's clamp: ``clamp(clamp(v, a, b), c, d) = clamp(v, max(a, c),
    min(b, d))`` when the two intersect, so the program computes the same integers with a node
    less. ``tensors`` (program tensor → ONNX tensor) follows the renaming."""
    readers: dict[str, int] = {}
    for node in nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    out: dict[str, QuantizedNode] = {}
    rename: dict[str, str] = {}
    for node in nodes:
        inputs = tuple(rename.get(n, n) for n in node.inputs)
        if node.op.kind == "clamp" and readers.get(node.inputs[0]) == 1:
            producer = out.get(inputs[0])
            if producer is not None and producer.op.kind in _REQUANTIZING:
                lo = max(producer.op.clamp[0], node.op.clamp[0])
                hi = min(producer.op.clamp[1], node.op.clamp[1])
                if lo <= hi:
                    op = dataclasses.replace(producer.op, clamp=(lo, hi))
                    out[producer.name] = dataclasses.replace(
                        producer, op=op, fused=(*producer.fused, *node.fused)
                    )
                    rename[node.name] = producer.name
                    if node.name in tensors:
                        tensors[producer.name] = tensors.pop(node.name)
                    continue
        out[node.name] = dataclasses.replace(node, inputs=inputs)
    return list(out.values())


def quantized_model(
    g: Graph, input_range: tuple[int, int] | None, multiplier_bits: int
) -> tuple[QuantizedModel, dict[str, str]]:
    """The integer program of a parsed QDQ or QOperator graph, and for each of its tensors
    (the input and the nodes' outputs) the ONNX tensor holding the same integers, where the
    graph has one (a QDQ chain of pass-through operators has only its end)."""
    return _Builder(g, input_range, multiplier_bits).build()
