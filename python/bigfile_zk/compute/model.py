"""Float models: a small DAG of named nodes and its float64 forward pass.

A :class:`Model` is an input shape and a list of nodes in topological order. Each node's output
tensor is called by the node's name; the model's input is called ``"input"``. A node reads the
previous node's output unless it names its ``inputs`` (``Add`` always names two). Tensors are
C-order, image-like ones CHW (channels first, ONNX's NCHW without N); batch size is 1, but the
forward pass also runs on a batch (a leading axis) for calibration and evaluation.

Semantics are those of ``docs/spec/quantization.md`` §4 over the reals; :mod:`.quantize` turns a
model into the integer program of the spec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from bigfile_zk.errors import ParameterError, QuantizationError

FloatArray = npt.NDArray[np.float64]
Shape = tuple[int, ...]

INPUT = "input"


def _floats(value: object, what: str, ndim: int) -> FloatArray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.ndim != ndim or arr.size == 0:
        raise ParameterError(
            f"{what} must be a non-empty real array of rank {ndim}, "
            f"got dtype {arr.dtype} and shape {arr.shape}"
        )
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ParameterError(f"{what} has non-finite values")
    out.setflags(write=False)
    return out


def _ints(value: object, what: str, n: int, lo: int, expand: dict[int, Any]) -> tuple[int, ...]:
    """An int or a tuple of ints, expanded to ``n`` entries by ``expand[len]`` (``>= lo``)."""
    items = (value,) if isinstance(value, (int, np.integer)) else value
    if isinstance(items, (str, bytes)) or not isinstance(items, (Sequence, np.ndarray)):
        raise ParameterError(f"{what} must be an int or a tuple of ints, got {value!r}")
    items = tuple(items)
    if len(items) in expand:
        items = expand[len(items)](items)
    if len(items) != n or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo for v in items
    ):
        raise ParameterError(f"{what} must be {n} integers >= {lo}, got {value!r}")
    return tuple(int(v) for v in items)


def _pair(value: object, what: str, lo: int) -> tuple[int, int]:
    pair = _ints(value, what, 2, lo, {1: lambda t: t * 2})
    return pair[0], pair[1]


def _padding(value: object) -> tuple[int, int, int, int]:
    """``p``, ``(ph, pw)`` or ``(top, left, bottom, right)``."""
    pad = _ints(value, "padding", 4, 0, {1: lambda t: t * 4, 2: lambda t: t * 2})
    return pad[0], pad[1], pad[2], pad[3]


def out_size(size: int, before: int, after: int, kernel: int, stride: int) -> int:
    """``floor((size + before + after - kernel) / stride) + 1``, 0 if the kernel does not fit."""
    span = size + before + after - kernel
    return span // stride + 1 if span >= 0 else 0


def _need_rank(shape: Shape, n: int, what: str) -> None:
    if len(shape) != n:
        raise ParameterError(f"{what} takes a rank-{n} input, got shape {shape}")


# --- nodes ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Node:
    """Base class: ``name`` names the output tensor; ``inputs`` (keyword) the input tensors,
    default the previous node's output."""

    kind: ClassVar[str] = ""
    arity: ClassVar[int] = 1
    name: str
    inputs: tuple[str, ...] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"a node name must be a non-empty string, got {self.name!r}")
        if self.inputs is not None:
            if isinstance(self.inputs, str) or not all(isinstance(n, str) for n in self.inputs):
                raise ParameterError(f"node {self.name!r}: inputs must be a tuple of names")
            object.__setattr__(self, "inputs", tuple(self.inputs))
            if len(self.inputs) != self.arity:
                raise ParameterError(
                    f"node {self.name!r}: {self.kind} takes {self.arity} input(s), "
                    f"got {len(self.inputs)}"
                )

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        return shapes[0]

    def apply(self, *xs: FloatArray) -> FloatArray:
        """The batched forward pass: every array has a leading batch axis."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Dense(Node):
    """``y = W·x + b`` (ONNX Gemm with ``transB = 1``): ``weight`` ``[O, I]``, input rank 1."""

    kind: ClassVar[str] = "dense"
    weight: FloatArray
    bias: FloatArray | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        w = _floats(self.weight, f"node {self.name!r}: weight", 2)
        b = np.zeros(w.shape[0]) if self.bias is None else self.bias
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", _floats(b, f"node {self.name!r}: bias", 1))
        if self.bias.shape != (w.shape[0],):
            raise ParameterError(f"node {self.name!r}: bias must have {w.shape[0]} entries")

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        _need_rank(shapes[0], 1, f"node {self.name!r} (dense)")
        if shapes[0][0] != self.weight.shape[1]:
            raise ParameterError(
                f"node {self.name!r}: weight takes {self.weight.shape[1]} inputs, "
                f"got {shapes[0][0]}"
            )
        return (self.weight.shape[0],)

    def apply(self, *xs: FloatArray) -> FloatArray:
        assert self.bias is not None
        return xs[0] @ self.weight.T + self.bias


@dataclass(frozen=True, eq=False)
class Conv2d(Node):
    """2-D convolution, groups = 1: ``weight`` ``[O, C, kh, kw]``, input ``[C, H, W]``;
    ``padding`` is ``p``, ``(ph, pw)`` or ``(top, left, bottom, right)``, with zeros."""

    kind: ClassVar[str] = "conv2d"
    weight: FloatArray
    bias: FloatArray | None = None
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, ...] = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        w = _floats(self.weight, f"node {self.name!r}: weight", 4)
        b = np.zeros(w.shape[0]) if self.bias is None else self.bias
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", _floats(b, f"node {self.name!r}: bias", 1))
        if self.bias.shape != (w.shape[0],):
            raise ParameterError(f"node {self.name!r}: bias must have {w.shape[0]} entries")
        object.__setattr__(self, "stride", _pair(self.stride, f"node {self.name!r}: stride", 1))
        object.__setattr__(self, "padding", _padding(self.padding))

    @property
    def pads(self) -> tuple[int, int, int, int]:
        assert isinstance(self.padding, tuple) and len(self.padding) == 4
        return self.padding[0], self.padding[1], self.padding[2], self.padding[3]

    @property
    def strides(self) -> tuple[int, int]:
        assert isinstance(self.stride, tuple)
        return self.stride

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        shape = shapes[0]
        _need_rank(shape, 3, f"node {self.name!r} (conv2d)")
        o, c, kh, kw = self.weight.shape
        if shape[0] != c:
            raise ParameterError(
                f"node {self.name!r}: weight takes {c} input channels, got {shape[0]}"
            )
        top, left, bottom, right = self.pads
        ho = out_size(shape[1], top, bottom, kh, self.strides[0])
        wo = out_size(shape[2], left, right, kw, self.strides[1])
        if ho < 1 or wo < 1:
            raise ParameterError(f"node {self.name!r}: the kernel does not fit the input {shape}")
        return (o, ho, wo)

    def apply(self, *xs: FloatArray) -> FloatArray:
        x = xs[0]
        n, _, h, w = x.shape
        _, _, kh, kw = self.weight.shape
        (sh, sw), (top, left, bottom, right) = self.strides, self.pads
        xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        ho, wo = out_size(h, top, bottom, kh, sh), out_size(w, left, right, kw, sw)
        out = np.zeros((n, self.weight.shape[0], ho, wo))
        for u in range(kh):
            for v in range(kw):
                patch = xp[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]
                out += np.einsum("oc,nchw->nohw", self.weight[:, :, u, v], patch)
        assert self.bias is not None
        return out + self.bias[:, None, None]


@dataclass(frozen=True, eq=False)
class BatchNorm(Node):
    """``y = (x - mean) / sqrt(var + eps) · gamma + beta`` per channel (axis 0 of a sample).
    Only ever folded into the Conv2d/Dense before it (spec §7.3)."""

    kind: ClassVar[str] = "batch_norm"
    gamma: FloatArray
    beta: FloatArray
    mean: FloatArray
    var: FloatArray
    eps: float = 1e-5

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in ("gamma", "beta", "mean", "var"):
            object.__setattr__(self, f, _floats(getattr(self, f), f"node {self.name!r}: {f}", 1))
        if len({self.gamma.shape, self.beta.shape, self.mean.shape, self.var.shape}) != 1:
            raise ParameterError(f"node {self.name!r}: gamma, beta, mean, var differ in length")
        if not (isinstance(self.eps, (int, float)) and self.eps >= 0):
            raise ParameterError(f"node {self.name!r}: eps must be a number >= 0")
        if np.any(self.var + self.eps <= 0):
            raise ParameterError(f"node {self.name!r}: var + eps must be > 0")

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        if shapes[0][0] != self.gamma.shape[0]:
            raise ParameterError(
                f"node {self.name!r}: {self.gamma.shape[0]} channels, input {shapes[0]}"
            )
        return shapes[0]

    def scale_shift(self) -> tuple[FloatArray, FloatArray]:
        """``(gamma / sigma, beta - mean · gamma / sigma)``: ``y = a·x + c`` per channel."""
        a = self.gamma / np.sqrt(self.var + self.eps)
        return a, self.beta - self.mean * a

    def apply(self, *xs: FloatArray) -> FloatArray:
        x = xs[0]
        a, c = self.scale_shift()
        extra = (1,) * (x.ndim - 2)
        return x * a.reshape(-1, *extra) + c.reshape(-1, *extra)


@dataclass(frozen=True, eq=False)
class ReLU(Node):
    """``max(x, 0)``."""

    kind: ClassVar[str] = "relu"

    def bounds(self) -> tuple[float, float]:
        return 0.0, np.inf

    def apply(self, *xs: FloatArray) -> FloatArray:
        return np.maximum(xs[0], 0.0)


@dataclass(frozen=True, eq=False)
class ReLU6(Node):
    """``min(max(x, 0), 6)``."""

    kind: ClassVar[str] = "relu6"

    def bounds(self) -> tuple[float, float]:
        return 0.0, 6.0

    def apply(self, *xs: FloatArray) -> FloatArray:
        return np.clip(xs[0], 0.0, 6.0)


@dataclass(frozen=True, eq=False)
class Clip(Node):
    """``min(max(x, lo), hi)``; ``lo = -inf`` or ``hi = inf`` leave that side open."""

    kind: ClassVar[str] = "clip"
    lo: float
    hi: float

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in ("lo", "hi"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise ParameterError(f"node {self.name!r}: {f} must be a number, got {v!r}")
            object.__setattr__(self, f, float(v))
        if np.isnan(self.lo) or np.isnan(self.hi) or not self.lo < self.hi:
            raise ParameterError(f"node {self.name!r}: Clip needs lo < hi")

    def bounds(self) -> tuple[float, float]:
        return self.lo, self.hi

    def apply(self, *xs: FloatArray) -> FloatArray:
        return np.clip(xs[0], self.lo, self.hi)


#: The activations that become clamps (fused into a requantization, or standalone).
ACTIVATIONS = (ReLU, ReLU6, Clip)


@dataclass(frozen=True, eq=False)
class _Pool(Node):
    kernel: int | tuple[int, int] = 2
    stride: int | tuple[int, int] | None = None  # default: the kernel (non-overlapping)

    def __post_init__(self) -> None:
        super().__post_init__()
        kernel = _pair(self.kernel, f"node {self.name!r}: kernel", 1)
        stride = kernel if self.stride is None else self.stride
        object.__setattr__(self, "kernel", kernel)
        object.__setattr__(self, "stride", _pair(stride, f"node {self.name!r}: stride", 1))

    @property
    def window(self) -> tuple[tuple[int, int], tuple[int, int]]:
        assert isinstance(self.kernel, tuple) and isinstance(self.stride, tuple)
        return self.kernel, self.stride

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        shape = shapes[0]
        _need_rank(shape, 3, f"node {self.name!r} ({self.kind})")
        (kh, kw), (sh, sw) = self.window
        ho, wo = out_size(shape[1], 0, 0, kh, sh), out_size(shape[2], 0, 0, kw, sw)
        if ho < 1 or wo < 1:
            raise ParameterError(f"node {self.name!r}: the window does not fit {shape}")
        return (shape[0], ho, wo)

    def _pool(self, x: FloatArray, reduce: Any) -> FloatArray:
        (kh, kw), (sh, sw) = self.window
        ho, wo = out_size(x.shape[2], 0, 0, kh, sh), out_size(x.shape[3], 0, 0, kw, sw)
        out = np.empty((*x.shape[:2], ho, wo))
        for i in range(ho):
            for j in range(wo):
                out[:, :, i, j] = reduce(
                    x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(2, 3)
                )
        return out


@dataclass(frozen=True, eq=False)
class AvgPool(_Pool):
    """Average over ``kernel`` windows (int or ``(kh, kw)``), ``stride`` default the kernel,
    no padding."""

    kind: ClassVar[str] = "avg_pool"

    def apply(self, *xs: FloatArray) -> FloatArray:
        return self._pool(xs[0], np.mean)


@dataclass(frozen=True, eq=False)
class MaxPool(_Pool):
    """Maximum over ``kernel`` windows, ``stride`` default the kernel, no padding."""

    kind: ClassVar[str] = "max_pool"

    def apply(self, *xs: FloatArray) -> FloatArray:
        return self._pool(xs[0], np.max)


@dataclass(frozen=True, eq=False)
class GlobalAvgPool(Node):
    """``[C, H, W] → [C, 1, 1]`` (as ONNX GlobalAveragePool): the mean of each channel."""

    kind: ClassVar[str] = "global_avg_pool"

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        _need_rank(shapes[0], 3, f"node {self.name!r} (global_avg_pool)")
        return (shapes[0][0], 1, 1)

    def apply(self, *xs: FloatArray) -> FloatArray:
        return np.mean(xs[0], axis=(2, 3), keepdims=True)


@dataclass(frozen=True, eq=False)
class Add(Node):
    """``x1 + x2``, equal shapes (no broadcasting); ``inputs`` names both."""

    kind: ClassVar[str] = "add"
    arity: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.inputs is None:
            raise ParameterError(f"node {self.name!r}: Add must name its two inputs")

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        if shapes[0] != shapes[1]:
            raise ParameterError(f"node {self.name!r}: Add of shapes {shapes[0]} and {shapes[1]}")
        return shapes[0]

    def apply(self, *xs: FloatArray) -> FloatArray:
        return xs[0] + xs[1]


@dataclass(frozen=True, eq=False)
class Flatten(Node):
    """``[d0, d1, ...] → [d0·d1·...]`` in C order (ONNX Flatten, axis 1, without N)."""

    kind: ClassVar[str] = "flatten"

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        return (int(np.prod(shapes[0])),)

    def apply(self, *xs: FloatArray) -> FloatArray:
        return xs[0].reshape(xs[0].shape[0], -1)


@dataclass(frozen=True, eq=False)
class Reshape(Node):
    """C-order reshape to ``shape`` (one entry may be -1)."""

    kind: ClassVar[str] = "reshape"
    shape: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        shape = tuple(self.shape)
        if (
            not shape
            or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in shape)
            or any(d < 1 and d != -1 for d in shape)
            or shape.count(-1) > 1
        ):
            raise ParameterError(f"node {self.name!r}: bad shape {self.shape!r}")
        object.__setattr__(self, "shape", tuple(int(d) for d in shape))

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        size = int(np.prod(shapes[0]))
        known = int(np.prod([d for d in self.shape if d != -1]))
        if -1 in self.shape and size % known == 0:
            return tuple(size // known if d == -1 else d for d in self.shape)
        if known != size or -1 in self.shape:
            raise ParameterError(f"node {self.name!r}: cannot reshape {shapes[0]} to {self.shape}")
        return self.shape

    def apply(self, *xs: FloatArray) -> FloatArray:
        return xs[0].reshape(xs[0].shape[0], *self.shape)


NODE_TYPES: tuple[type[Node], ...] = (
    Dense,
    Conv2d,
    BatchNorm,
    ReLU,
    ReLU6,
    Clip,
    AvgPool,
    GlobalAvgPool,
    MaxPool,
    Add,
    Flatten,
    Reshape,
)


# --- the model --------------------------------------------------------------------------------


class Model:
    """A float model: ``input_shape`` and ``nodes`` in topological order.

    Checked on construction (``ParameterError`` naming the node): unique names (``"input"`` is
    the input's), inputs defined before use, shapes that fit, every node but the last used by
    a later one (the last node's output is the model's output). ``nodes`` holds copies with
    ``inputs`` filled in.
    """

    def __init__(self, input_shape: Sequence[int], nodes: Sequence[Node]) -> None:
        shape = tuple(input_shape)
        if not shape or any(
            isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in shape
        ):
            raise ParameterError(f"input_shape must be positive integers, got {input_shape!r}")
        if not nodes:
            raise ParameterError("a model has at least one node")
        self.input_shape: Shape = tuple(int(d) for d in shape)
        self.shapes: dict[str, Shape] = {INPUT: self.input_shape}
        resolved: list[Node] = []
        previous = INPUT
        for node in nodes:
            if not isinstance(node, Node) or type(node) not in NODE_TYPES:
                raise ParameterError(f"not a model node: {node!r}")
            if node.name in self.shapes:
                raise ParameterError(f"node {node.name!r}: the name is already used")
            inputs = node.inputs if node.inputs is not None else (previous,)
            for name in inputs:
                if name not in self.shapes:
                    raise ParameterError(f"node {node.name!r}: unknown input {name!r}")
            self.shapes[node.name] = node.output_shape([self.shapes[n] for n in inputs])
            resolved.append(dataclasses.replace(node, inputs=inputs))
            previous = node.name
        self.nodes: tuple[Node, ...] = tuple(resolved)
        used = {n for node in self.nodes for n in node.inputs or ()}
        for node in self.nodes[:-1]:
            if node.name not in used:
                raise ParameterError(f"node {node.name!r}: its output is never used")

    @property
    def output_name(self) -> str:
        return self.nodes[-1].name

    @property
    def output_shape(self) -> Shape:
        return self.shapes[self.output_name]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def consumers(self, name: str) -> list[str]:
        """The nodes that read tensor ``name`` (a node reading it twice appears twice)."""
        return [node.name for node in self.nodes for n in node.inputs or () if n == name]

    def _batch(self, xs: object, what: str) -> FloatArray:
        arr = np.asarray(xs)
        if arr.dtype.kind not in "iuf":
            raise ParameterError(f"{what} must be real numbers, got dtype {arr.dtype}")
        if arr.ndim != len(self.input_shape) + 1 or arr.shape[1:] != self.input_shape:
            raise ParameterError(
                f"{what} must have shape (N, *{self.input_shape}), got {arr.shape}"
            )
        out = arr.astype(np.float64)
        if not np.all(np.isfinite(out)):
            raise ParameterError(f"{what} has non-finite values")
        return out

    def tensors(self, xs: object) -> dict[str, FloatArray]:
        """Every tensor of the batched forward pass on ``xs`` (``[N, *input_shape]``), by name."""
        env = {INPUT: self._batch(xs, "the batch")}
        for node in self.nodes:
            env[node.name] = node.apply(*(env[n] for n in node.inputs or ()))
        return env

    def forward_batch(self, xs: object) -> FloatArray:
        """The output for each sample of ``xs`` (``[N, *input_shape]``)."""
        return self.tensors(xs)[self.output_name]

    def forward(self, x: object) -> FloatArray:
        """The float64 forward pass of one input of shape ``input_shape``."""
        arr = np.asarray(x)
        if arr.shape != self.input_shape:
            raise ParameterError(f"the input must have shape {self.input_shape}, got {arr.shape}")
        return self.forward_batch(arr[None])[0]


def fold_batchnorm(model: Model) -> Model:
    """The model with every BatchNorm folded into the Conv2d/Dense before it (spec §7.3):
    ``W' = W·a``, ``b' = b·a + c`` per output channel with ``a = gamma/sigma``,
    ``c = beta - mean·a``. Raises ``QuantizationError`` when a BatchNorm does not directly
    follow a Conv2d/Dense whose output it alone reads."""
    return fold_batchnorm_with_sources(model)[0]


def fold_batchnorm_with_sources(model: Model) -> tuple[Model, dict[str, tuple[str, ...]]]:
    """:func:`fold_batchnorm`, also returning which BatchNorms each node absorbed."""
    nodes: dict[str, Node] = {node.name: node for node in model.nodes}
    rename: dict[str, str] = {}
    sources: dict[str, tuple[str, ...]] = {name: (name,) for name in nodes}
    for node in model.nodes:
        if not isinstance(node, BatchNorm):
            continue
        (read,) = node.inputs or ()
        src = rename.get(read, read)  # a BatchNorm after a folded BatchNorm
        producer = nodes.get(src)
        if not isinstance(producer, (Dense, Conv2d)) or model.consumers(read) != [node.name]:
            raise QuantizationError(
                f"node {node.name!r}: a BatchNorm must directly follow a Conv2d or Dense whose "
                f"output it alone reads (its input is {read!r})"
            )
        a, c = node.scale_shift()
        assert producer.bias is not None
        weight = producer.weight * a.reshape(-1, *(1,) * (producer.weight.ndim - 1))
        nodes[src] = dataclasses.replace(producer, weight=weight, bias=producer.bias * a + c)
        del nodes[node.name]
        rename[node.name] = src
        sources[src] = (*sources[src], node.name)
    out = []
    for node in nodes.values():
        inputs = tuple(rename.get(n, n) for n in node.inputs or ())
        out.append(dataclasses.replace(node, inputs=inputs))
    return Model(model.input_shape, out), {n: sources[n] for n in nodes}
