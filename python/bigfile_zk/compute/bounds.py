"""Compile-time bounds of an integer program (``docs/spec/quantization.md`` §8).

Interval arithmetic from the declared input range through every step, per element: a Dense or
Conv2d accumulator's interval is ``bias + Σ max/min of W·(x - z)`` over the inputs its window
actually reads (so the borders of a padded convolution get their own, narrower, intervals),
pools and adds follow their monotone formulas, and every requantization maps its interval
through ``acc·M``, the rounded shift, ``+ z`` and the clamp. The result is sound (no input in
range leaves it) and, for a single linear layer, tight.

:func:`analyze` checks the two bounds the circuit relies on and raises ``QuantizationError``
naming the node and the tensor; its report is data for the circuit compiler (range-table sizes,
MAC counts, shift widths).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bigfile_zk.errors import QuantizationError
from bigfile_zk.reference import compute as ref

IntArray = ref.IntArray
Pair = tuple[IntArray, IntArray]


@dataclass(frozen=True)
class Interval:
    """The integers ``lo..hi`` (inclusive)."""

    lo: int
    hi: int

    @property
    def bits(self) -> int:
        """The least ``n`` with ``[lo, hi] ⊆ [-2^(n-1), 2^(n-1) - 1]`` (two's complement)."""
        n = 1
        while not (-(2 ** (n - 1)) <= self.lo and self.hi <= 2 ** (n - 1) - 1):
            n += 1
        return n

    @property
    def magnitude(self) -> int:
        """``max(|lo|, |hi|)``."""
        return max(abs(self.lo), abs(self.hi))

    def to_list(self) -> list[int]:
        return [self.lo, self.hi]

    @classmethod
    def of(cls, pair: Pair) -> Interval:
        return cls(int(np.min(pair[0])), int(np.max(pair[1])))


@dataclass(frozen=True)
class NodeBounds:
    """What one step can produce, for every input in the declared range.

    ``acc`` is the accumulator (Dense, Conv2d, the pools), ``product`` the value that is
    shifted (``acc·M``, or an add's ``(x1 - z1)·M1 + (x2 - z2)·M2``) before ``+ 2^(s-1)``,
    ``pre_clamp`` the shifted value plus the zero point, ``output`` the clamped result; stages
    an operation lacks are ``None``. ``macs`` counts the weight products with a real (not
    padded) input; ``requants`` the elements that are requantized. ``elements`` holds the
    per-element ``(lo, hi)`` arrays of each stage.
    """

    name: str
    op: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    macs: int
    requants: int
    shift: Interval | None
    clamp: Interval | None
    acc: Interval | None
    product: Interval | None
    pre_clamp: Interval | None
    output: Interval
    elements: dict[str, Pair] = field(repr=False, compare=False)

    @property
    def acc_bits(self) -> int | None:
        return None if self.acc is None else self.acc.bits

    @property
    def product_bits(self) -> int | None:
        return None if self.product is None else self.product.bits

    def to_dict(self) -> dict[str, Any]:
        """Scalars only (JSON-ready); intervals as ``[lo, hi]``."""

        def iv(v: Interval | None) -> list[int] | None:
            return None if v is None else v.to_list()

        return {
            "name": self.name,
            "op": self.op,
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "macs": self.macs,
            "requants": self.requants,
            "shift": iv(self.shift),
            "clamp": iv(self.clamp),
            "acc": iv(self.acc),
            "acc_bits": self.acc_bits,
            "product": iv(self.product),
            "product_bits": self.product_bits,
            "pre_clamp": iv(self.pre_clamp),
            "output": iv(self.output),
        }


@dataclass(frozen=True)
class BoundsReport:
    """Per-node bounds of a program, in program order."""

    input_shape: tuple[int, ...]
    input: Interval
    nodes: tuple[NodeBounds, ...]

    def __getitem__(self, name: str) -> NodeBounds:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def __iter__(self) -> Iterator[NodeBounds]:
        return iter(self.nodes)

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes)

    @property
    def requants(self) -> int:
        return sum(n.requants for n in self.nodes)

    @property
    def max_acc_bits(self) -> int:
        return max((n.acc_bits or 0 for n in self.nodes), default=0)

    @property
    def max_shift(self) -> int:
        return max((n.shift.hi for n in self.nodes if n.shift is not None), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "input": self.input.to_list(),
            "macs": self.macs,
            "requants": self.requants,
            "max_acc_bits": self.max_acc_bits,
            "max_shift": self.max_shift,
            "nodes": [n.to_dict() for n in self.nodes],
        }


# --- per-operation interval maps --------------------------------------------------------------


def _split(weight: IntArray) -> tuple[IntArray, IntArray]:
    """``(max(W, 0), min(W, 0))``: ``W·x`` is largest at ``hi`` where ``W > 0``, ``lo`` else."""
    return np.maximum(weight, 0), np.minimum(weight, 0)


def _linear(op: ref.Dense | ref.Conv2d, x: Pair) -> Pair:
    pos, neg = _split(op.weight)
    zero = np.zeros_like(op.bias)
    z = op.input_zero_point
    if isinstance(op, ref.Dense):
        hi = ref.dense_acc(x[1], pos, op.bias, z) + ref.dense_acc(x[0], neg, zero, z)
        lo = ref.dense_acc(x[0], pos, op.bias, z) + ref.dense_acc(x[1], neg, zero, z)
        return lo, hi
    args = (op.stride, op.padding, z)
    hi = ref.conv2d_acc(x[1], pos, op.bias, *args) + ref.conv2d_acc(x[0], neg, zero, *args)
    lo = ref.conv2d_acc(x[0], pos, op.bias, *args) + ref.conv2d_acc(x[1], neg, zero, *args)
    return lo, hi


def _conv_macs(op: ref.Conv2d, shape: tuple[int, ...]) -> int:
    """Products ``W·(x - z)`` with ``x`` inside the input (padded positions cost nothing)."""
    o, c, kh, kw = op.weight.shape
    top, left, bottom, right = op.padding

    def valid(size: int, before: int, after: int, k: int, stride: int) -> int:
        n = ref.conv_output_size(size, before, after, k, stride)
        return sum(
            sum(1 for u in range(k) if 0 <= i * stride + u - before < size) for i in range(n)
        )

    rows = valid(shape[1], top, bottom, kh, op.stride[0])
    cols = valid(shape[2], left, right, kw, op.stride[1])
    return o * c * rows * cols


class _Checker:
    def __init__(self, name: str, op: str) -> None:
        self.where = f"node {name!r} ({op})"

    def acc(self, acc: Pair) -> None:
        iv = Interval.of(acc)
        if iv.magnitude >= ref.ACC_LIMIT:
            raise QuantizationError(
                f"{self.where}: tensor 'acc' can reach {iv.to_list()} ({iv.bits} bits), but the "
                f"circuit needs |acc| < 2^31; narrow the input range or shrink the weights/bias"
            )

    def product(self, product: Pair, shift: IntArray | int, what: str) -> None:
        s = np.asarray(shift, dtype=np.int64)
        worst = np.maximum(np.abs(product[0]), np.abs(product[1])) + np.left_shift(1, s - 1)
        if np.any(worst >= ref.PRODUCT_LIMIT):
            iv = Interval.of(product)
            raise QuantizationError(
                f"{self.where}: tensor '{what}' can reach {iv.to_list()}; the circuit needs "
                f"|{what}| + 2^(s-1) < 2^62"
            )


def _requant(
    check: _Checker,
    acc: Pair | None,
    product: Pair,
    shift: IntArray | int,
    zero_point: int,
    clamp: tuple[int, int],
    what: str,
) -> dict[str, Pair]:
    check.product(product, shift, what)
    pre = (
        ref.round_shift(product[0], shift) + zero_point,
        ref.round_shift(product[1], shift) + zero_point,
    )
    out = (np.clip(pre[0], *clamp), np.clip(pre[1], *clamp))
    stages = {"product": product, "pre_clamp": pre, "output": out}
    if acc is not None:
        stages["acc"] = acc
    return stages


def _step(step: ref.Step, xs: list[Pair], shapes: list[tuple[int, ...]]) -> NodeBounds:
    op = step.op
    check = _Checker(step.name, op.kind)
    macs = 0
    shift: Interval | None = None
    clamp: Interval | None = None
    if isinstance(op, (ref.Dense, ref.Conv2d)):
        acc = _linear(op, xs[0])
        check.acc(acc)
        m = op.multiplier if isinstance(op, ref.Dense) else op.multiplier[:, None, None]
        s = op.shift if isinstance(op, ref.Dense) else op.shift[:, None, None]
        product = (acc[0] * m, acc[1] * m)
        stages = _requant(check, acc, product, s, op.output_zero_point, op.clamp, "acc·M")
        macs = op.weight.size if isinstance(op, ref.Dense) else _conv_macs(op, shapes[0])
        shift = Interval(int(op.shift.min()), int(op.shift.max()))
    elif isinstance(op, (ref.AvgPool, ref.GlobalAvgPool)):
        z = op.input_zero_point
        if isinstance(op, ref.AvgPool):
            a_lo, a_hi = (ref.pool_windows(b - z, op.kernel, op.stride, np.sum) for b in xs[0])
        else:
            a_lo, a_hi = (np.sum(b - z, axis=(1, 2), keepdims=True) for b in xs[0])
        check.acc((a_lo, a_hi))
        product = (a_lo * op.multiplier, a_hi * op.multiplier)
        stages = _requant(
            check, (a_lo, a_hi), product, op.shift, op.output_zero_point, op.clamp, "acc·M"
        )
        shift = Interval(op.shift, op.shift)
    elif isinstance(op, ref.Add):
        (z1, z2), (m1, m2) = op.input_zero_points, op.multipliers
        product = (
            (xs[0][0] - z1) * m1 + (xs[1][0] - z2) * m2,
            (xs[0][1] - z1) * m1 + (xs[1][1] - z2) * m2,
        )
        what = "(x1 - z1)·M1 + (x2 - z2)·M2"
        stages = _requant(check, None, product, op.shift, op.output_zero_point, op.clamp, what)
        shift = Interval(op.shift, op.shift)
    elif isinstance(op, ref.MaxPool):
        o_lo, o_hi = (ref.pool_windows(b, op.kernel, op.stride, np.max) for b in xs[0])
        stages = {"output": (o_lo, o_hi)}
    elif isinstance(op, ref.Clamp):
        stages = {"output": (np.clip(xs[0][0], *op.clamp), np.clip(xs[0][1], *op.clamp))}
    else:
        assert isinstance(op, ref.Reshape)
        stages = {"output": (xs[0][0].reshape(op.shape), xs[0][1].reshape(op.shape))}
    if hasattr(op, "clamp"):
        clamp = Interval(*op.clamp)
    requants = int(stages["product"][0].size) if "product" in stages else 0

    def iv(stage: str) -> Interval | None:
        return Interval.of(stages[stage]) if stage in stages else None

    output = iv("output")
    assert output is not None
    return NodeBounds(
        name=step.name,
        op=op.kind,
        input_shapes=tuple(shapes),
        output_shape=tuple(stages["output"][0].shape),
        macs=macs,
        requants=requants,
        shift=shift,
        clamp=clamp,
        acc=iv("acc"),
        product=iv("product"),
        pre_clamp=iv("pre_clamp"),
        output=output,
        elements=stages,
    )


def analyze(
    steps: Sequence[ref.Step],
    input_shape: Sequence[int],
    input_range: tuple[int, int],
    *,
    input_name: str = "input",
) -> BoundsReport:
    """Bounds of every step for every input of ``input_shape`` with values in
    ``input_range``; ``QuantizationError`` (naming the node and the tensor) when a step can
    break ``|acc| < 2^31`` or ``|product| + 2^(s-1) < 2^62``. The steps must form a valid
    program (as ``QuantizedModel`` checks)."""
    lo, hi = input_range
    shape = tuple(int(d) for d in input_shape)
    env: dict[str, Pair] = {
        input_name: (np.full(shape, lo, dtype=np.int64), np.full(shape, hi, dtype=np.int64))
    }
    nodes = []
    for step in steps:
        xs = [env[n] for n in step.inputs]
        bounds = _step(step, xs, [x[0].shape for x in xs])
        env[step.name] = bounds.elements["output"]
        nodes.append(bounds)
    return BoundsReport(shape, Interval(lo, hi), tuple(nodes))
