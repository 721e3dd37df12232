"""The quantized model: the integer program of ``docs/spec/quantization.md`` plus the scales that
map its integers to real numbers.

The integer parts (every ``op``, the input shape, dtype and range) are what a proof is about; the
scales are compile-time data used only by :meth:`QuantizedModel.quantize_input` and
:meth:`QuantizedModel.dequantize_output`. ``to_dict``/``from_dict`` give the JSON form of spec §5,
on which the ONNX importer and the ``.bfm`` model file build.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bigfile_zk.errors import DecodeError, ParameterError, QuantizationError
from bigfile_zk.reference import compute as ref

from .bounds import BoundsReport, analyze

FORMAT = "bigfile_zk.QuantizedModel"
VERSION = 1

#: Operations whose output keeps the input's quantization (no requantization).
PASS_THROUGH = ("max_pool", "clamp", "reshape")


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{what} must be a number, got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and out > 0):
        raise ParameterError(f"{what} must be finite and > 0, got {value!r}")
    return out


def round_half_up(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``floor(x + 1/2)``: the rounding of every compile-time choice (spec §7), the same as the
    requantization's."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


@dataclass(frozen=True)
class TensorQuant:
    """A tensor's quantization: real value ≈ ``scale · (q - zero_point)``, ``q`` in ``dtype``."""

    dtype: str
    scale: float
    zero_point: int

    def __post_init__(self) -> None:
        if not isinstance(self.dtype, str) or self.dtype not in ref.DTYPES:
            raise ParameterError(f"dtype must be one of {sorted(ref.DTYPES)}, got {self.dtype!r}")
        object.__setattr__(self, "scale", _number(self.scale, "scale"))
        lo, hi = self.range
        z = self.zero_point
        if isinstance(z, bool) or not isinstance(z, (int, np.integer)) or not lo <= z <= hi:
            raise ParameterError(f"zero_point must be an integer in [{lo}, {hi}], got {z!r}")
        object.__setattr__(self, "zero_point", int(z))

    @property
    def range(self) -> tuple[int, int]:
        """The dtype's integer range."""
        return ref.DTYPES[self.dtype]

    @classmethod
    def from_range(cls, lo: float, hi: float) -> TensorQuant:
        """Spec §7.1: the range is widened to contain 0; non-negative → uint8 with zero point 0,
        otherwise asymmetric int8. A tensor that is 0 throughout gets the range ``[0, 1]``."""
        lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ParameterError(f"the observed range [{lo}, {hi}] is not finite")
        if lo == 0.0:
            return cls("uint8", (hi if hi > 0 else 1.0) / 255, 0)
        scale = (hi - lo) / 255
        zero = int(round_half_up(-128 - lo / scale))
        return cls("int8", scale, min(max(zero, -128), 127))

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """``clamp(round_half_up(x / scale) + zero_point)`` into the dtype's range."""
        q = round_half_up(np.asarray(x, dtype=np.float64) / self.scale) + self.zero_point
        return np.clip(q, *self.range).astype(np.int64)

    def dequantize(self, q: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return self.scale * (np.asarray(q, dtype=np.float64) - self.zero_point)

    def to_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "scale": self.scale, "zero_point": self.zero_point}


@dataclass(frozen=True, eq=False)
class QuantizedNode:
    """One step of the program with its output's shape and quantization.

    ``fused`` names the float nodes it came from (e.g. ``("conv1", "bn1", "relu1")``), empty
    for hand-made programs; ``weight_scale`` is ``S_w[o]`` of a Dense/Conv2d (informative).
    """

    name: str
    inputs: tuple[str, ...]
    op: ref.Op
    shape: tuple[int, ...]
    output: TensorQuant
    fused: tuple[str, ...] = ()
    weight_scale: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"a node name must be a non-empty string, got {self.name!r}")
        where = f"node {self.name!r}"
        if not isinstance(self.op, tuple(ref.OPS.values())):
            raise ParameterError(f"{where}: op must be an operation of the oracle, got {self.op!r}")
        for f in ("inputs", "fused"):
            names = getattr(self, f)
            if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                raise ParameterError(f"{where}: {f} must be a sequence of names")
            set_(self, f, tuple(names))
        set_(self, "shape", _shape(self.shape, f"{where}: shape"))
        if not isinstance(self.output, TensorQuant):
            raise ParameterError(f"{where}: output must be a TensorQuant")
        if self.weight_scale is not None:
            ws = self.weight_scale
            if isinstance(ws, (str, bytes)) or not isinstance(ws, (Sequence, np.ndarray)):
                raise ParameterError(f"{where}: weight_scale must be a sequence of numbers")
            set_(self, "weight_scale", tuple(_number(v, f"{where}: weight_scale") for v in ws))

    @property
    def step(self) -> ref.Step:
        return ref.Step(self.name, self.inputs, self.op)

    def describe(self) -> str:
        """``node 'conv1' (conv2d)``, with the fused float nodes when there are several."""
        extra = f" = {'+'.join(self.fused)}" if len(self.fused) > 1 else ""
        return f"node {self.name!r} ({self.op.kind}{extra})"


class QuantizedModel:
    """An integer program with its quantization (spec §5), checked on construction:

    names, inputs and shapes as the oracle runs them; zero points, clamps and dtypes consistent
    between producers and consumers; pass-through operations keeping their input's
    quantization; then the bounds analysis (:attr:`bounds`), which raises ``QuantizationError``.
    Other problems raise ``ParameterError`` naming the node.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        input_quant: TensorQuant,
        nodes: Sequence[QuantizedNode],
        *,
        input_range: tuple[int, int] | None = None,
        input_name: str = "input",
    ) -> None:
        if not isinstance(input_quant, TensorQuant):
            raise ParameterError("input_quant must be a TensorQuant")
        self.input_quant = input_quant
        self.input_shape: tuple[int, ...] = _shape(input_shape, "input_shape")
        lo, hi = input_quant.range if input_range is None else input_range
        for v in (lo, hi):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ParameterError(f"input_range must be two integers, got {input_range!r}")
        if not input_quant.range[0] <= lo <= hi <= input_quant.range[1]:
            raise ParameterError(
                f"input_range [{lo}, {hi}] must lie inside the {input_quant.dtype} range"
            )
        self.input_range: tuple[int, int] = (int(lo), int(hi))
        if not isinstance(input_name, str) or not input_name:
            raise ParameterError("input_name must be a non-empty string")
        self.input_name = input_name
        self.nodes: tuple[QuantizedNode, ...] = tuple(nodes)
        self._check()
        self.bounds: BoundsReport = analyze(
            self.steps, self.input_shape, self.input_range, input_name=input_name
        )

    # -- validation --------------------------------------------------------------------------

    def _check(self) -> None:
        if not self.nodes:
            raise ParameterError("a quantized model has at least one node")
        tensors: dict[str, tuple[tuple[int, ...], TensorQuant]] = {
            self.input_name: (self.input_shape, self.input_quant)
        }
        used: set[str] = set()
        for node in self.nodes:
            if not isinstance(node, QuantizedNode):
                raise ParameterError(f"not a QuantizedNode: {node!r}")
            where = node.describe()
            if node.name in tensors:
                raise ParameterError(f"{where}: the name is already used")
            kind = node.op.kind
            if len(node.inputs) != ref.ARITY[kind] or any(n not in tensors for n in node.inputs):
                raise ParameterError(
                    f"{where}: takes {ref.ARITY[kind]} input(s) defined earlier, "
                    f"got {list(node.inputs)}"
                )
            used.update(node.inputs)
            ins = [tensors[n] for n in node.inputs]
            try:
                shape = node.op.output_shape([s for s, _ in ins])
            except ValueError as exc:
                raise ParameterError(f"{where}: {exc}") from None
            if tuple(node.shape) != shape:
                raise ParameterError(f"{where}: declared shape {node.shape}, computed {shape}")
            self._check_quant(node, [q for _, q in ins], where)
            tensors[node.name] = (shape, node.output)
        for node in self.nodes[:-1]:
            if node.name not in used:
                raise ParameterError(f"{node.describe()}: its output is never used")

    @staticmethod
    def _check_quant(node: QuantizedNode, ins: list[TensorQuant], where: str) -> None:
        op, out = node.op, node.output
        if isinstance(op, (ref.MaxPool, ref.Clamp, ref.Reshape)):
            if out != ins[0]:
                raise ParameterError(f"{where}: must keep its input's quantization {ins[0]}")
        else:
            zps = list(op.input_zero_points) if isinstance(op, ref.Add) else [op.input_zero_point]
            for i, (z, q) in enumerate(zip(zps, ins, strict=True)):
                if z != q.zero_point:
                    raise ParameterError(
                        f"{where}: input {i} zero point {z} differs from its tensor's "
                        f"{q.zero_point}"
                    )
            if op.output_zero_point != out.zero_point:
                raise ParameterError(
                    f"{where}: output_zero_point {op.output_zero_point} differs from the "
                    f"output's {out.zero_point}"
                )
        lo, hi = out.range
        if hasattr(op, "clamp") and not lo <= op.clamp[0] <= op.clamp[1] <= hi:
            raise ParameterError(f"{where}: clamp {list(op.clamp)} outside the {out.dtype} range")
        if isinstance(op, (ref.Dense, ref.Conv2d)):
            ws = node.weight_scale
            if ws is None or len(ws) != op.weight.shape[0]:
                raise ParameterError(f"{where}: needs one weight_scale per output channel")
        elif node.weight_scale is not None:
            raise ParameterError(f"{where}: only dense and conv2d have a weight_scale")

    # -- properties ----------------------------------------------------------------------------

    @property
    def steps(self) -> list[ref.Step]:
        """The program as the oracle runs it."""
        return [node.step for node in self.nodes]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.nodes[-1].shape

    @property
    def output_quant(self) -> TensorQuant:
        return self.nodes[-1].output

    def node(self, name: str) -> QuantizedNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def quant(self, name: str) -> TensorQuant:
        """The quantization of tensor ``name`` (the input's or a node's output)."""
        return self.input_quant if name == self.input_name else self.node(name).output

    # -- running -------------------------------------------------------------------------------

    def check_input(self, x_int: object) -> npt.NDArray[np.int64]:
        """``x_int`` as int64 if it is an integer array of :attr:`input_shape` with values in
        :attr:`input_range`; ``ParameterError`` naming the problem otherwise."""
        arr = _as_array(x_int)
        if arr.dtype.kind not in "iu":
            raise ParameterError(f"the input must be an integer array, got dtype {arr.dtype}")
        if arr.shape != self.input_shape:
            raise ParameterError(f"the input must have shape {self.input_shape}, got {arr.shape}")
        lo, hi = self.input_range
        low, high = int(arr.min()), int(arr.max())
        if low < lo or high > hi:
            raise ParameterError(
                f"the input has the value {low if low < lo else high}, outside the declared "
                f"input range [{lo}, {hi}]"
            )
        return arr.astype(np.int64)

    def forward_int(
        self,
        x_int: object,
        *,
        trace: MutableMapping[str, dict[str, npt.NDArray[np.int64]]] | None = None,
    ) -> npt.NDArray[np.int64]:
        """The output integers, computed by the oracle (``bigfile_zk.reference.compute.run``);
        ``trace`` as there."""
        x = self.check_input(x_int)
        return ref.run(self.steps, x, input_name=self.input_name, trace=trace)

    def quantize_input(self, x: object, *, saturate: bool = False) -> npt.NDArray[np.int64]:
        """``round_half_up(x / S) + z`` for a float input of :attr:`input_shape`. Values that
        land outside :attr:`input_range` are an error, or clamped with ``saturate=True``."""
        arr = _as_array(x)
        if arr.dtype.kind not in "iuf":
            raise ParameterError(f"the input must be real numbers, got dtype {arr.dtype}")
        if arr.shape != self.input_shape:
            raise ParameterError(f"the input must have shape {self.input_shape}, got {arr.shape}")
        f = arr.astype(np.float64)
        if not np.all(np.isfinite(f)):
            raise ParameterError("the input has non-finite values")
        q = round_half_up(f / self.input_quant.scale) + self.input_quant.zero_point
        lo, hi = self.input_range
        if not saturate and (q.min() < lo or q.max() > hi):
            raise ParameterError(
                f"the input quantizes to [{int(q.min())}, {int(q.max())}], outside the declared "
                f"input range [{lo}, {hi}] (saturate=True clamps)"
            )
        return np.clip(q, lo, hi).astype(np.int64)

    def dequantize_output(self, y_int: object) -> npt.NDArray[np.float64]:
        """``S_y · (y - z_y)``."""
        arr = np.asarray(y_int)
        if arr.dtype.kind not in "iu" or arr.shape != self.output_shape:
            raise ParameterError(
                f"the output must be integers of shape {self.output_shape}, "
                f"got {arr.dtype} {arr.shape}"
            )
        return self.output_quant.dequantize(arr)

    def input_bytes(self, x_int: object) -> bytes:
        """The canonical bytes of an input (spec §6): what a BigFile file holds."""
        x = self.check_input(x_int)
        return ref.input_bytes(x, self.input_shape, self.input_quant.dtype)

    def input_from_bytes(self, data: bytes) -> npt.NDArray[np.int64]:
        """The inverse of :meth:`input_bytes`; the length and the declared range are checked."""
        try:
            x = ref.input_from_bytes(data, self.input_shape, self.input_quant.dtype)
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        return self.check_input(x)

    def output_field_elements(self, y_int: object) -> list[int]:
        """The output as statement field elements (spec §6): C order, ``v < 0`` as ``r + v``."""
        arr = np.asarray(y_int)
        if arr.dtype.kind not in "iu" or arr.shape != self.output_shape:
            raise ParameterError(f"the output must be integers of shape {self.output_shape}")
        return ref.to_field(arr)

    # -- serialization -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Spec §5; JSON-ready (ints, finite floats, strings, lists)."""
        nodes = []
        for node in self.nodes:
            entry: dict[str, Any] = {
                "name": node.name,
                "op": node.op.kind,
                "inputs": list(node.inputs),
                "output": {"shape": list(node.shape), **node.output.to_dict()},
                "params": ref.op_to_params(node.op),
                "fused": list(node.fused),
            }
            if node.weight_scale is not None:
                entry["weight_scale"] = list(node.weight_scale)
            nodes.append(entry)
        return {
            "format": FORMAT,
            "version": VERSION,
            "input": {
                "name": self.input_name,
                "shape": list(self.input_shape),
                **self.input_quant.to_dict(),
                "range": list(self.input_range),
            },
            "nodes": nodes,
        }

    @classmethod
    def from_dict(cls, data: object) -> QuantizedModel:
        """Strict inverse of :meth:`to_dict`: unknown or missing keys, wrong types and values
        outside the spec raise ``DecodeError`` naming the path; a well-formed program that
        fails the bounds analysis raises ``QuantizationError``."""
        try:
            return _decode(data)
        except QuantizationError:
            raise
        except (ParameterError, ValueError) as exc:
            if isinstance(exc, DecodeError):
                raise
            raise DecodeError(f"quantized model: {exc}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantizedModel):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        ops = ", ".join(f"{n.name}:{n.op.kind}" for n in self.nodes)
        return f"QuantizedModel({self.input_shape} {self.input_quant.dtype} -> {ops})"


def _shape(value: object, what: str) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ParameterError(f"{what} must be a list of positive integers, got {value!r}")
    dims = list(value)
    if not dims or any(
        isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims
    ):
        raise ParameterError(f"{what} must be a non-empty list of positive integers")
    return tuple(int(d) for d in dims)


def _obj(
    value: object, path: str, required: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise DecodeError(f"{path} must be an object, got {type(value).__name__}")
    keys = set(value)
    missing, extra = required - keys, keys - required - optional
    if missing or extra:
        raise DecodeError(f"{path}: missing keys {sorted(missing)}, unknown keys {sorted(extra)}")
    return dict(value)


def _str_list(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DecodeError(f"{path} must be a list of strings")
    return tuple(value)


def _quant(d: dict[str, Any], path: str) -> TensorQuant:
    try:
        return TensorQuant(d["dtype"], d["scale"], d["zero_point"])
    except ParameterError as exc:
        raise DecodeError(f"{path}: {exc}") from None


def _decode(data: object) -> QuantizedModel:
    top = _obj(data, "model", {"format", "version", "input", "nodes"})
    if top["format"] != FORMAT or top["version"] != VERSION:
        raise DecodeError(f"model: expected format {FORMAT!r} version {VERSION}")
    inp = _obj(top["input"], "input", {"name", "shape", "dtype", "scale", "zero_point", "range"})
    if not isinstance(inp["name"], str):
        raise DecodeError("input.name must be a string")
    rng = inp["range"]
    if not (isinstance(rng, list) and len(rng) == 2):
        raise DecodeError("input.range must be [lo, hi]")
    if not isinstance(top["nodes"], list):
        raise DecodeError("nodes must be a list")
    nodes = []
    for i, raw in enumerate(top["nodes"]):
        path = f"nodes[{i}]"
        n = _obj(
            raw,
            path,
            {"name", "op", "inputs", "output", "params", "fused"},
            frozenset({"weight_scale"}),
        )
        if not isinstance(n["name"], str) or not isinstance(n["op"], str):
            raise DecodeError(f"{path}: name and op must be strings")
        path = f"{path} ({n['name']!r})"
        out = _obj(n["output"], f"{path}.output", {"shape", "dtype", "scale", "zero_point"})
        if not isinstance(n["params"], Mapping):
            raise DecodeError(f"{path}.params must be an object")
        try:
            op = ref.op_from_params(n["op"], n["params"])
            shape = _shape(out["shape"], "output.shape")
        except (ValueError, ParameterError) as exc:
            raise DecodeError(f"{path}: {exc}") from None
        ws = n.get("weight_scale")
        if ws is not None and not isinstance(ws, list):
            raise DecodeError(f"{path}.weight_scale must be a list")
        nodes.append(
            QuantizedNode(
                name=n["name"],
                inputs=_str_list(n["inputs"], f"{path}.inputs"),
                op=op,
                shape=shape,
                output=_quant(out, f"{path}.output"),
                fused=_str_list(n["fused"], f"{path}.fused"),
                weight_scale=None if ws is None else tuple(ws),
            )
        )
    return QuantizedModel(
        _shape(inp["shape"], "input.shape"),
        _quant(inp, "input"),
        nodes,
        input_range=(rng[0], rng[1]),
        input_name=inp["name"],
    )


def _as_array(x: object) -> npt.NDArray[Any]:
    """``np.asarray(x)``; a ragged nest of lists is a ``ParameterError``, not numpy's
    ``ValueError``."""
    try:
        return np.asarray(x)
    except ValueError as exc:
        raise ParameterError(f"the input is not a rectangular array: {exc}") from None
