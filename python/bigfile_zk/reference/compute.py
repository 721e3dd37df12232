"""The integer program of proof-of-compute, the slow obvious way (``docs/spec/quantization.md``).

A quantized model is a list of :class:`Step` s (a name, the names of its inputs, an operation)
over 8-bit integer tensors. This module is the oracle the circuit must equal bit for bit: it
takes integer parameters only (no scales, no floats), computes in numpy ``int64``, and refuses
any value outside the bounds the spec lets a circuit prove (``|acc| < 2^31``,
``|acc·M| + 2^(s-1) < 2^62``) instead of computing something a circuit could not.

Clarity over speed: convolutions and pools are explicit loops over output positions.
``bigfile_zk.compute`` (the float model, the quantizer and the bounds analysis) builds these
programs and runs them through :func:`run`.

:func:`statement` is the public statement of proof-of-compute (``docs/spec/proof-of-compute.md``
§1) for one input, job and provider: what a verifier (a contract, another implementation) must
recompute, and what the circuit's public inputs must equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .commitment import commit_bytes, sponge
from .field import R, check_elements, check_int

IntArray = npt.NDArray[np.int64]

#: The activation dtypes and their integer ranges (``quantization.md`` §2).
DTYPES: dict[str, tuple[int, int]] = {"int8": (-128, 127), "uint8": (0, 255)}
#: Every activation integer lies in the union of the two ranges.
ACTIVATION_MIN, ACTIVATION_MAX = -128, 255
#: Weights are symmetric int8: ``|w| <= 127`` (-128 is excluded so ``-w`` is int8 too).
WEIGHT_MAX = 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: ``1 <= M < 2^31``.
MULTIPLIER_LIMIT = 2**31
SHIFT_MIN, SHIFT_MAX = 1, 62
#: ``|acc| < 2^31``.
ACC_LIMIT = 2**31
#: ``|acc·M| + 2^(s-1) < 2^62``: the rounded shift never leaves int64 (nor 63 signed bits).
PRODUCT_LIMIT = 2**62

#: The stages :func:`run` records per step when asked for a trace.
STAGES = ("acc", "product", "pre_clamp", "output")

Shape = tuple[int, ...]
Stages = MutableMapping[str, IntArray]


# --- validation of integer parameters ---------------------------------------------------------


def _int(value: object, what: str, lo: int | None = None, hi: int | None = None) -> int:
    """A genuine integer (Python or numpy, never ``bool``) within ``[lo, hi]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{what} = {v} is outside [{lo}, {hi}]")
    return v


def _ints(value: object, what: str, ndim: int, lo: int, hi: int) -> IntArray:
    """A non-empty integer array of rank ``ndim`` with entries in ``[lo, hi]``, as a read-only
    int64 copy. Floats and bools are refused, not truncated."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        # Nested lists (decoded JSON) as objects first: numpy would turn a list holding one long
        # string into a string array of that width per element (megabytes per weight).
        try:
            arr = np.asarray(value, dtype=object)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"{what} is not a rectangular integer array: {exc}") from None
        bads = [v for v in arr.flat if isinstance(v, bool) or not isinstance(v, (int, np.integer))]
        if bads and isinstance(bads[0], (list, tuple)):  # ragged: numpy kept inner lists as is
            raise ValueError(f"{what} is not a rectangular integer array")
        if bads and arr.ndim == ndim:
            raise ValueError(f"{what} must hold integers, got {type(bads[0]).__name__}")
        if not bads:
            try:
                arr = arr.astype(np.int64)
            except OverflowError:
                raise ValueError(f"{what} has an integer outside the int64 range") from None
    if arr.ndim != ndim or arr.size == 0:
        raise ValueError(f"{what} must be a non-empty array of rank {ndim}, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{what} must hold integers, got dtype {arr.dtype}")
    low, high = int(arr.min()), int(arr.max())
    if low < lo or high > hi:
        bad = low if low < lo else high
        raise ValueError(f"{what} has the value {bad}, outside [{lo}, {hi}]")
    out = arr.astype(np.int64, copy=True)
    out.setflags(write=False)
    return out


def _tuple(value: object, what: str, n: int, lo: int) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(f"{what} must be a list of {n} integers, got {value!r}")
    if len(value) != n:
        raise ValueError(f"{what} must have {n} entries, got {len(value)}")
    return tuple(_int(v, f"{what}[{i}]", lo) for i, v in enumerate(value))


def _clamp(value: object, what: str = "clamp") -> tuple[int, int]:
    """``[lo, hi]`` inside the int8 or the uint8 range, so every output is an 8-bit integer."""
    lo, hi = _tuple(value, what, 2, ACTIVATION_MIN)
    if hi > ACTIVATION_MAX or lo > hi:
        raise ValueError(f"{what} [{lo}, {hi}] must have lo <= hi <= {ACTIVATION_MAX}")
    if not any(dlo <= lo and hi <= dhi for dlo, dhi in DTYPES.values()):
        raise ValueError(f"{what} [{lo}, {hi}] lies in neither the int8 nor the uint8 range")
    return lo, hi


def _zero_point(value: object, what: str) -> int:
    return _int(value, what, ACTIVATION_MIN, ACTIVATION_MAX)


def _shape(value: object, what: str) -> Shape:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(f"{what} must be a list of positive integers, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{what} must have at least one dimension")
    return tuple(_int(v, f"{what}[{i}]", 1) for i, v in enumerate(value))


def check_activation(x: object, what: str = "input") -> IntArray:
    """An integer array whose values are 8-bit activations (``[-128, 255]``), as int64."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{what} must hold integers, got dtype {arr.dtype}")
    if arr.size and (int(arr.min()) < ACTIVATION_MIN or int(arr.max()) > ACTIVATION_MAX):
        raise ValueError(f"{what} has values outside [{ACTIVATION_MIN}, {ACTIVATION_MAX}]")
    return arr.astype(np.int64)


# --- the requantization primitive -------------------------------------------------------------


def round_shift(product: IntArray, shift: Any) -> IntArray:
    """``(P + 2^(s-1)) >> s``: ``P / 2^s`` rounded half up. ``shift`` broadcasts against
    ``product`` (per output channel)."""
    p = np.asarray(product, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    half = np.left_shift(np.int64(1), s - 1)
    if np.any(np.abs(p) + half >= PRODUCT_LIMIT):
        raise ValueError("|acc·M| + 2^(s-1) >= 2^62: outside what the circuit proves")
    # numpy's >> on int64 is the arithmetic shift, i.e. floor division by 2^s.
    return np.right_shift(p + half, s)


def rescale(product: IntArray, shift: Any, zero_point: int, lo: int, hi: int) -> IntArray:
    """``clamp(((P + 2^(s-1)) >> s) + z, lo, hi)``."""
    return np.clip(round_shift(product, shift) + zero_point, lo, hi)


def requantize(
    acc: IntArray, multiplier: Any, shift: Any, zero_point: int, lo: int, hi: int
) -> IntArray:
    """Spec §3: ``y = clamp(((acc·M + 2^(s-1)) >> s) + z_y, lo, hi)``.

    ``multiplier`` and ``shift`` are integers or arrays broadcasting against ``acc``.
    """
    a = np.asarray(acc, dtype=np.int64)
    m = np.asarray(multiplier, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    if np.any(m < 1) or np.any(m >= MULTIPLIER_LIMIT):
        raise ValueError("the multiplier must satisfy 1 <= M < 2^31")
    if np.any(s < SHIFT_MIN) or np.any(s > SHIFT_MAX):
        raise ValueError(f"the shift must satisfy {SHIFT_MIN} <= s <= {SHIFT_MAX}")
    if np.any(np.abs(a) >= ACC_LIMIT):
        raise ValueError("|acc| >= 2^31: outside what the circuit proves")
    return rescale(a * m, s, zero_point, lo, hi)


def _record(stages: Stages | None, **arrays: IntArray) -> None:
    if stages is not None:
        for key, value in arrays.items():
            stages[key] = np.array(value, dtype=np.int64)


def _requant_stages(
    stages: Stages | None,
    acc: IntArray | None,
    product: IntArray,
    shift: Any,
    zero_point: int,
    clamp: tuple[int, int],
) -> IntArray:
    """:func:`rescale`, recording the intermediates when ``stages`` is given."""
    pre = round_shift(product, shift) + zero_point
    y = np.clip(pre, *clamp)
    if acc is not None:
        _record(stages, acc=acc)
    _record(stages, product=product, pre_clamp=pre, output=y)
    return y


def _check_acc(acc: IntArray) -> IntArray:
    if np.any(np.abs(acc) >= ACC_LIMIT):
        raise ValueError("|acc| >= 2^31: outside what the circuit proves")
    return acc


# --- linear parts (also used by the bounds analysis) ------------------------------------------


def dense_acc(x: IntArray, weight: IntArray, bias: IntArray, input_zero_point: int) -> IntArray:
    """``acc[o] = bias[o] + Σ_i weight[o, i]·(x[i] - z_x)``."""
    return bias + weight @ (x - input_zero_point)


def conv_output_size(size: int, before: int, after: int, kernel: int, stride: int) -> int:
    """``floor((size + before + after - kernel) / stride) + 1`` (0 if the kernel does not fit)."""
    span = size + before + after - kernel
    return span // stride + 1 if span >= 0 else 0


def conv2d_acc(
    x: IntArray,
    weight: IntArray,
    bias: IntArray,
    stride: tuple[int, int],
    padding: tuple[int, int, int, int],
    input_zero_point: int,
) -> IntArray:
    """``acc[o, i, j] = bias[o] + Σ_{c,u,v} W[o,c,u,v]·(x[c, i·sh+u-top, j·sw+v-left] - z_x)``
    over valid positions: padding is zero in the real domain, so padded positions add 0."""
    c, h, w = x.shape
    _, _, kh, kw = weight.shape
    sh, sw = stride
    top, left, bottom, right = padding
    centred = np.zeros((c, h + top + bottom, w + left + right), dtype=np.int64)
    centred[:, top : top + h, left : left + w] = x - input_zero_point
    ho = conv_output_size(h, top, bottom, kh, sh)
    wo = conv_output_size(w, left, right, kw, sw)
    acc = np.empty((weight.shape[0], ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            window = centred[:, i * sh : i * sh + kh, j * sw : j * sw + kw]
            acc[:, i, j] = bias + np.tensordot(weight, window, axes=3)
    return acc


def pool_windows(
    x: IntArray, kernel: tuple[int, int], stride: tuple[int, int], reduce: Any
) -> IntArray:
    """``out[c, i, j] = reduce(x[c, i·sh : i·sh+kh, j·sw : j·sw+kw])`` (no padding)."""
    c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = conv_output_size(h, 0, 0, kh, sh), conv_output_size(w, 0, 0, kw, sw)
    out = np.empty((c, ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            out[:, i, j] = reduce(x[:, i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(1, 2))
    return out


# --- operations -------------------------------------------------------------------------------


def _rank(shape: Shape, n: int, what: str) -> None:
    if len(shape) != n:
        raise ValueError(f"{what} takes a rank-{n} input, got shape {shape}")


def _requant_fields(op: Any, channels: int | None) -> None:
    """Validate the shared requantization fields; per-channel arrays when ``channels``."""
    set_ = object.__setattr__
    if channels is None:
        set_(op, "multiplier", _int(op.multiplier, "multiplier", 1, MULTIPLIER_LIMIT - 1))
        set_(op, "shift", _int(op.shift, "shift", SHIFT_MIN, SHIFT_MAX))
    else:
        m = _ints(op.multiplier, "multiplier", 1, 1, MULTIPLIER_LIMIT - 1)
        s = _ints(op.shift, "shift", 1, SHIFT_MIN, SHIFT_MAX)
        for name, arr in (("multiplier", m), ("shift", s)):
            if arr.shape != (channels,):
                raise ValueError(f"{name} must have one entry per output channel ({channels})")
        set_(op, "multiplier", m)
        set_(op, "shift", s)
    set_(op, "output_zero_point", _zero_point(op.output_zero_point, "output_zero_point"))
    set_(op, "clamp", _clamp(op.clamp))


def _weights_and_bias(op: Any, ndim: int) -> None:
    weight = _ints(op.weight, "weight", ndim, -WEIGHT_MAX, WEIGHT_MAX)
    bias = _ints(op.bias, "bias", 1, INT32_MIN, INT32_MAX)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"bias must have one entry per output channel ({weight.shape[0]})")
    object.__setattr__(op, "weight", weight)
    object.__setattr__(op, "bias", bias)
    object.__setattr__(op, "input_zero_point", _zero_point(op.input_zero_point, "input_zero_point"))


@dataclass(frozen=True, eq=False)
class Dense:
    """Spec §4.1. ``weight`` ``[O, I]`` int8 (``|w| <= 127``), ``bias`` ``[O]`` int32,
    per-output-channel ``multiplier``/``shift``; input rank 1."""

    kind: ClassVar[str] = "dense"
    weight: IntArray
    bias: IntArray
    input_zero_point: int
    multiplier: IntArray
    shift: IntArray
    output_zero_point: int
    clamp: tuple[int, int]

    def __post_init__(self) -> None:
        _weights_and_bias(self, 2)
        _requant_fields(self, self.weight.shape[0])

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        _rank(shape, 1, "dense")
        if shape[0] != self.weight.shape[1]:
            raise ValueError(f"dense weight takes {self.weight.shape[1]} inputs, got {shape[0]}")
        return (self.weight.shape[0],)

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        acc = _check_acc(dense_acc(x, self.weight, self.bias, self.input_zero_point))
        product = acc * self.multiplier
        return _requant_stages(stages, acc, product, self.shift, self.output_zero_point, self.clamp)


@dataclass(frozen=True, eq=False)
class Conv2d:
    """Spec §4.2. ``weight`` ``[O, C, kh, kw]``, groups = 1, input ``[C, H, W]``;
    ``padding`` is ``(top, left, bottom, right)``, zero in the real domain."""

    kind: ClassVar[str] = "conv2d"
    weight: IntArray
    bias: IntArray
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    input_zero_point: int
    multiplier: IntArray
    shift: IntArray
    output_zero_point: int
    clamp: tuple[int, int]

    def __post_init__(self) -> None:
        _weights_and_bias(self, 4)
        object.__setattr__(self, "stride", _tuple(self.stride, "stride", 2, 1))
        object.__setattr__(self, "padding", _tuple(self.padding, "padding", 4, 0))
        _requant_fields(self, self.weight.shape[0])

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        _rank(shape, 3, "conv2d")
        o, c, kh, kw = self.weight.shape
        if shape[0] != c:
            raise ValueError(f"conv2d weight takes {c} input channels, got {shape[0]}")
        top, left, bottom, right = self.padding
        ho = conv_output_size(shape[1], top, bottom, kh, self.stride[0])
        wo = conv_output_size(shape[2], left, right, kw, self.stride[1])
        if ho < 1 or wo < 1:
            raise ValueError(f"the {kh}x{kw} kernel does not fit the padded input {shape}")
        return (o, ho, wo)

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        acc = conv2d_acc(
            x, self.weight, self.bias, self.stride, self.padding, self.input_zero_point
        )
        product = _check_acc(acc) * self.multiplier[:, None, None]
        shift = self.shift[:, None, None]
        return _requant_stages(stages, acc, product, shift, self.output_zero_point, self.clamp)


def _pool_shape(shape: Shape, kernel: tuple[int, int], stride: tuple[int, int], what: str) -> Shape:
    _rank(shape, 3, what)
    ho = conv_output_size(shape[1], 0, 0, kernel[0], stride[0])
    wo = conv_output_size(shape[2], 0, 0, kernel[1], stride[1])
    if ho < 1 or wo < 1:
        raise ValueError(f"the {kernel[0]}x{kernel[1]} {what} window does not fit {shape}")
    return (shape[0], ho, wo)


@dataclass(frozen=True, eq=False)
class AvgPool:
    """Spec §4.3. ``acc = Σ_window (x - z_x)``, one ``multiplier``/``shift`` for the layer
    (they approximate ``S_x / (S_y · kh · kw)``); no padding."""

    kind: ClassVar[str] = "avg_pool"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    input_zero_point: int
    multiplier: int
    shift: int
    output_zero_point: int
    clamp: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", _tuple(self.kernel, "kernel", 2, 1))
        object.__setattr__(self, "stride", _tuple(self.stride, "stride", 2, 1))
        object.__setattr__(
            self, "input_zero_point", _zero_point(self.input_zero_point, "input_zero_point")
        )
        _requant_fields(self, None)

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        return _pool_shape(shapes[0], self.kernel, self.stride, "avg_pool")

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        acc = pool_windows(x - self.input_zero_point, self.kernel, self.stride, np.sum)
        product = _check_acc(acc) * self.multiplier
        return _requant_stages(stages, acc, product, self.shift, self.output_zero_point, self.clamp)


@dataclass(frozen=True, eq=False)
class GlobalAvgPool:
    """Spec §4.4. ``[C, H, W] → [C, 1, 1]``; ``acc[c] = Σ_{h,w} (x[c,h,w] - z_x)``."""

    kind: ClassVar[str] = "global_avg_pool"
    input_zero_point: int
    multiplier: int
    shift: int
    output_zero_point: int
    clamp: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "input_zero_point", _zero_point(self.input_zero_point, "input_zero_point")
        )
        _requant_fields(self, None)

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        _rank(shape, 3, "global_avg_pool")
        return (shape[0], 1, 1)

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        acc = np.sum(x - self.input_zero_point, axis=(1, 2), keepdims=True)
        product = _check_acc(acc) * self.multiplier
        return _requant_stages(stages, acc, product, self.shift, self.output_zero_point, self.clamp)


@dataclass(frozen=True, eq=False)
class MaxPool:
    """Spec §4.5. ``y = max over the window of x``; no requantization, no padding."""

    kind: ClassVar[str] = "max_pool"
    kernel: tuple[int, int]
    stride: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", _tuple(self.kernel, "kernel", 2, 1))
        object.__setattr__(self, "stride", _tuple(self.stride, "stride", 2, 1))

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        return _pool_shape(shapes[0], self.kernel, self.stride, "max_pool")

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        y = pool_windows(x, self.kernel, self.stride, np.max)
        _record(stages, output=y)
        return y


@dataclass(frozen=True, eq=False)
class Add:
    """Spec §4.6. ``P = (x1 - z1)·M1 + (x2 - z2)·M2``, one shared ``shift``; shapes equal."""

    kind: ClassVar[str] = "add"
    input_zero_points: tuple[int, int]
    multipliers: tuple[int, int]
    shift: int
    output_zero_point: int
    clamp: tuple[int, int]

    def __post_init__(self) -> None:
        zps = _tuple(self.input_zero_points, "input_zero_points", 2, ACTIVATION_MIN)
        for i, z in enumerate(zps):
            _zero_point(z, f"input_zero_points[{i}]")
        ms = _tuple(self.multipliers, "multipliers", 2, 1)
        for i, m in enumerate(ms):
            _int(m, f"multipliers[{i}]", 1, MULTIPLIER_LIMIT - 1)
        object.__setattr__(self, "input_zero_points", zps)
        object.__setattr__(self, "multipliers", ms)
        object.__setattr__(self, "shift", _int(self.shift, "shift", SHIFT_MIN, SHIFT_MAX))
        object.__setattr__(
            self, "output_zero_point", _zero_point(self.output_zero_point, "output_zero_point")
        )
        object.__setattr__(self, "clamp", _clamp(self.clamp))

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        a, b = shapes
        if a != b:
            raise ValueError(f"add needs equal shapes, got {a} and {b}")
        return a

    def apply(self, x1: IntArray, x2: IntArray, stages: Stages | None = None) -> IntArray:
        (z1, z2), (m1, m2) = self.input_zero_points, self.multipliers
        product = (x1 - z1) * m1 + (x2 - z2) * m2
        return _requant_stages(
            stages, None, product, self.shift, self.output_zero_point, self.clamp
        )


@dataclass(frozen=True, eq=False)
class Clamp:
    """Spec §4.7. A standalone ReLU / ReLU6 / Clip: ``y = clamp(x, lo, hi)``, same scale and
    zero point as the input."""

    kind: ClassVar[str] = "clamp"
    clamp: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "clamp", _clamp(self.clamp))

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        return shapes[0]

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        y = np.clip(x, *self.clamp)
        _record(stages, output=y)
        return y


@dataclass(frozen=True, eq=False)
class Reshape:
    """Spec §4.8. C-order reshape (Flatten is ``shape = [size]``); costs nothing."""

    kind: ClassVar[str] = "reshape"
    shape: Shape

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _shape(self.shape, "shape"))

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        if int(np.prod(shapes[0])) != int(np.prod(self.shape)):
            raise ValueError(f"cannot reshape {shapes[0]} to {self.shape}")
        return self.shape

    def apply(self, x: IntArray, stages: Stages | None = None) -> IntArray:
        y = x.reshape(self.shape)
        _record(stages, output=y)
        return y


Op = Dense | Conv2d | AvgPool | GlobalAvgPool | MaxPool | Add | Clamp | Reshape

#: ``kind`` → operation class: the ``op`` names of the program format (spec §5).
OPS: dict[str, type[Any]] = {
    cls.kind: cls for cls in (Dense, Conv2d, AvgPool, GlobalAvgPool, MaxPool, Add, Clamp, Reshape)
}

#: How many inputs each operation takes.
ARITY: dict[str, int] = {kind: 2 if kind == "add" else 1 for kind in OPS}


def op_to_params(op: Op) -> dict[str, Any]:
    """The ``params`` object of spec §5: every field, arrays as nested lists of ints."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(op):
        value = getattr(op, f.name)
        out[f.name] = value.tolist() if isinstance(value, np.ndarray) else _plain(value)
    return out


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def op_from_params(kind: str, params: Mapping[str, Any]) -> Op:
    """Build (and validate) an operation from its ``op`` name and ``params``; unknown or
    missing keys are errors."""
    if kind not in OPS:
        raise ValueError(f"unknown op {kind!r} (expected one of {sorted(OPS)})")
    cls = OPS[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    if set(params) != names:
        missing, extra = sorted(names - set(params)), sorted(set(params) - names)
        raise ValueError(f"{kind} params: missing {missing}, unexpected {extra}")
    op: Op = cls(**params)
    return op


# --- programs ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Step:
    """One node of the program: its output tensor is called ``name``."""

    name: str
    inputs: tuple[str, ...]
    op: Op


def run(
    steps: Sequence[Step],
    x: object,
    *,
    input_name: str = "input",
    trace: MutableMapping[str, dict[str, IntArray]] | None = None,
) -> IntArray:
    """Run the program on the integer input ``x``; the result is the last step's output.

    With ``trace`` (a dict), ``trace[name]`` receives the step's intermediates: ``acc`` (the
    accumulator), ``product`` (the value shifted: ``acc·M``, or the sum of an ``add``),
    ``pre_clamp`` and ``output``, as far as the operation has them.
    """
    if not steps:
        raise ValueError("a program has at least one step")
    env: dict[str, IntArray] = {input_name: check_activation(x)}
    for step in steps:
        if step.name in env:
            raise ValueError(f"step {step.name!r}: the name is already defined")
        missing = [n for n in step.inputs if n not in env]
        if missing:
            raise ValueError(f"step {step.name!r}: unknown inputs {missing}")
        args = [env[n] for n in step.inputs]
        if len(args) != ARITY[step.op.kind]:
            raise ValueError(f"step {step.name!r}: {step.op.kind} takes {ARITY[step.op.kind]}")
        step.op.output_shape([a.shape for a in args])  # shape errors before arithmetic
        stages: dict[str, IntArray] | None = {} if trace is not None else None
        env[step.name] = step.op.apply(*args, stages=stages)
        if trace is not None and stages is not None:
            trace[step.name] = stages
    return env[steps[-1].name]


# --- the statement: input bytes, output field elements ----------------------------------------


def input_bytes(x: object, shape: Sequence[int], dtype: str) -> bytes:
    """Spec §6: the input's canonical bytes: C order, one byte per element (int8 as two's
    complement). ``x`` must be an integer array of exactly ``shape`` with values in ``dtype``."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"the input must hold integers, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"the input must have shape {tuple(shape)}, got {arr.shape}")
    lo, hi = DTYPES[dtype]
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        raise ValueError(f"the input has values outside the {dtype} range [{lo}, {hi}]")
    return np.ascontiguousarray(arr, dtype=np.dtype(dtype)).tobytes(order="C")


def input_from_bytes(data: bytes, shape: Sequence[int], dtype: str) -> IntArray:
    """The inverse of :func:`input_bytes`: exactly ``prod(shape)`` bytes, as int64."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"the input bytes must be bytes, got {type(data).__name__}")
    size = int(np.prod(shape))
    if len(data) != size:
        raise ValueError(f"shape {tuple(shape)} needs {size} bytes, got {len(data)}")
    return np.frombuffer(bytes(data), dtype=np.dtype(dtype)).astype(np.int64).reshape(shape)


def to_field(values: object) -> list[int]:
    """Spec §6: output integers as field elements in C order; ``v < 0`` becomes ``r + v``."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"outputs must be integers, got dtype {arr.dtype}")
    return [int(v) % R for v in arr.reshape(-1)]


# --- the proof-of-compute statement (``docs/spec/proof-of-compute.md`` §1) ---------------------

#: At most this many outputs are public inputs one by one; past it the statement carries
#: their hash :func:`output_hash` instead.
MAX_PUBLIC_OUTPUTS = 12
#: The capacity element the output sponge starts from: ``b"bigfile_zk/outputs/v1"`` read as a
#: big-endian integer (like ``LEAF_IV`` of the file commitment, another domain).
OUTPUTS_IV: int = int.from_bytes(b"bigfile_zk/outputs/v1", "big")
assert OUTPUTS_IV == 0x62696766696C655F7A6B2F6F7574707574732F7631
#: ``0 <= job < 2^64`` (a job id).
JOB_LIMIT = 2**64
#: ``0 <= provider < 2^160`` (an EVM address as an integer).
PROVIDER_LIMIT = 2**160


def output_hash(values: Sequence[int]) -> int:
    """``H_y``, the statement's output element past :data:`MAX_PUBLIC_OUTPUTS` outputs (§1).

    The leaf sponge of ``file-commitment.md`` with another IV: the ``t = 3`` state starts at
    ``[OUTPUTS_IV, 0, 0]``; each permutation absorbs two outputs by addition into ``state[1]``
    and ``state[2]`` (an odd count is padded with one 0); the hash is ``state[0]`` at the end.
    ``values`` are the outputs as field elements (:func:`to_field`), not signed integers.
    """
    elements = check_elements(values, "output")
    if len(elements) % 2:
        elements.append(0)
    return sponge(OUTPUTS_IV, elements)


def _bounded(value: object, what: str, limit: int, limit_text: str) -> int:
    v = check_int(value, what)
    if not 0 <= v < limit:
        raise ValueError(f"{what} must satisfy 0 <= {what} < {limit_text}, got {v}")
    return v


def statement(
    steps: Sequence[Step],
    x: object,
    shape: Sequence[int],
    dtype: str,
    *,
    job: int,
    provider: int,
    input_range: tuple[int, int] | None = None,
    input_name: str = "input",
) -> list[int]:
    """The public inputs of proof-of-compute (spec §1), in the verifier's order:
    ``[C_x, job, provider, y_0 … y_{m-1}]`` when ``m <= 12``, else ``[C_x, job, provider, H_y]``.

    ``C_x`` is the file commitment (``file-commitment.md``, default layout) of the input's
    canonical bytes (:func:`input_bytes` of ``x`` with ``shape`` and ``dtype``), ``y`` the
    program's output (:func:`run`) as field elements (:func:`to_field`), ``H_y`` their
    :func:`output_hash`. ``job`` must be ``< 2^64`` and ``provider`` (an EVM address as an
    integer) ``< 2^160``: the circuit range-checks both, so no other value has a proof.

    ``input_range`` is the model's declared input range (default: the whole ``dtype`` range);
    an input outside it has no proof (the circuit refuses it), so it is refused here too.
    """
    job_ = _bounded(job, "job", JOB_LIMIT, "2^64")
    provider_ = _bounded(provider, "provider", PROVIDER_LIMIT, "2^160")
    data = input_bytes(x, shape, dtype)  # checks the shape and the dtype range
    x_int = input_from_bytes(data, shape, dtype)
    if input_range is not None:
        lo, hi = _tuple(input_range, "input_range", 2, DTYPES[dtype][0])
        if hi > DTYPES[dtype][1] or lo > hi:
            raise ValueError(f"input_range [{lo}, {hi}] must lie inside the {dtype} range")
        if int(x_int.min()) < lo or int(x_int.max()) > hi:
            raise ValueError(f"the input has values outside the declared range [{lo}, {hi}]")
    outputs = to_field(run(steps, x_int, input_name=input_name))
    if len(outputs) > MAX_PUBLIC_OUTPUTS:
        outputs = [output_hash(outputs)]
    return [commit_bytes(data).commitment, job_, provider_, *outputs]
