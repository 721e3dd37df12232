"""Regenerate ``docs/spec/vectors/quantization.json`` (``docs/spec/quantization.md`` §10).

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_quantization_vectors [OUTPUT_DIR]

Three sections:

* ``requantize``: hand-checked cases of the primitive (negative accumulators, exact halves,
  ``s = 1``, ``s = 62``, the largest ``|acc|`` and ``M``, clamps on both sides); the expected
  values are written here by hand and the oracle must agree;
* ``multipliers``: ``m → (M, s)`` (spec §3.2), ``m`` exact as ``float.hex``, and values that must
  be refused, each with the multiplier width ``multiplier_bits`` it was derived at (the
  compiler's default 16 and the program's limit 31);
* ``models``: one tiny program per operation (and two small networks), integer parameters from
  a SHA-256 rule, scales chosen by hand, ``(M, s)`` derived from them at the compiler's default
  width (``M < 2^16``); for each, inputs (a
  SHA-256 rule, all-minimum, all-maximum) with their bytes, every intermediate of every node,
  the output and its field elements.

Deterministic: no RNG, no float reductions (multipliers come from exact ``Fraction`` arithmetic
on the scales).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bigfile_zk.compute import (
    MULTIPLIER_BITS,
    QuantizedModel,
    QuantizedNode,
    ReLU,
    ReLU6,
    TensorQuant,
    activation_clamp,
    requant_multiplier,
    shared_multipliers,
)
from bigfile_zk.compute.model import Clip, Node
from bigfile_zk.errors import QuantizationError

from . import compute as ref
from ._gen_vectors import DEFAULT_OUTPUT, write
from .field import to_hex

GENERATOR = "python -m bigfile_zk.reference._gen_quantization_vectors (pure-Python reference)"
LABEL = "bigfile_zk/vectors/quantization"
INT_RULE = (
    'value[k] = lo + int.from_bytes(sha256(f"bigfile_zk/vectors/quantization/{label}/{k}"'
    '.encode()).digest(), "big") % (hi - lo + 1), k the C-order index'
)


def sha_ints(label: str, shape: Sequence[int], lo: int, hi: int) -> np.ndarray:
    """``INT_RULE`` for every element of ``shape``, as int64."""
    n = int(np.prod(shape))
    vals = [
        lo
        + int.from_bytes(hashlib.sha256(f"{LABEL}/{label}/{k}".encode()).digest(), "big")
        % (hi - lo + 1)
        for k in range(n)
    ]
    return np.array(vals, dtype=np.int64).reshape(tuple(shape))


# --- requantize -------------------------------------------------------------------------------

# (acc, M, s, z, lo, hi, pre_clamp, y, note): pre_clamp = ((acc·M + 2^(s-1)) >> s) + z by hand.
_I8 = (-128, 127)
REQUANT_CASES: list[tuple[int, int, int, int, int, int, int, int, str]] = [
    (10, 3, 2, 0, *_I8, 8, 8, "30/4 = 7.5: an exact half rounds up"),
    (-10, 3, 2, 0, *_I8, -7, -7, "-30/4 = -7.5: a negative exact half rounds up too (to +inf)"),
    (-11, 3, 2, 0, *_I8, -8, -8, "-33/4 = -8.25 → -8"),
    (-9, 3, 2, 0, *_I8, -7, -7, "-27/4 = -6.75 → -7"),
    (7, 1, 1, 0, *_I8, 4, 4, "s = 1: 3.5 → 4"),
    (-7, 1, 1, 0, *_I8, -3, -3, "s = 1: -3.5 → -3"),
    (-1, 1, 1, 0, *_I8, 0, 0, "s = 1: -0.5 → 0"),
    (1, 1, 1, 0, *_I8, 1, 1, "s = 1: 0.5 → 1"),
    (0, 1234567, 20, -17, *_I8, -17, -17, "acc = 0 gives the zero point"),
    (100, 2**30, 31, -128, *_I8, -78, -78, "m = 1/2 and a zero point: 50 - 128"),
    (
        2**30 - 1,
        2**31 - 1,
        62,
        5,
        *_I8,
        5,
        5,
        "s = 62: |acc·M| = 2^61 - 3·2^30 + 1 < 2^61, so the result is the zero point",
    ),
    (
        -(2**30 - 1),
        2**31 - 1,
        62,
        5,
        *_I8,
        5,
        5,
        "s = 62, negative: (-(2^61 - 3·2^30 + 1) + 2^61) >> 62 = 0",
    ),
    (
        2**31 - 1,
        2**31 - 1,
        31,
        0,
        *_I8,
        2**31 - 2,
        127,
        "largest |acc| and M: (2^62 - 2^32 + 1 + 2^30) >> 31 = 2^31 - 2, clamped to hi",
    ),
    (
        -(2**31 - 1),
        2**31 - 1,
        31,
        0,
        *_I8,
        -(2**31) + 2,
        -128,
        "most negative: (-2^62 + 2^32 - 1 + 2^30) >> 31 = -2^31 + 2, clamped to lo",
    ),
    (-40, 2**30, 30, 3, 3, 255, -37, 3, "fused ReLU (lo = z = 3): -37 clamps up to 3"),
    (500, 2**30, 31, 0, 0, 150, 250, 150, "fused ReLU6 (hi = z + round(6/S) = 150)"),
    (300, 858993459, 32, 10, 0, 255, 70, 70, "m ≈ 0.2: 60 + 10 inside the clamp"),
]


def requant_vectors() -> list[dict[str, Any]]:
    out = []
    for acc, m, s, z, lo, hi, pre, y, note in REQUANT_CASES:
        assert ((acc * m + 2 ** (s - 1)) >> s) + z == pre, note  # Python ints: exact
        got = int(ref.requantize(np.array(acc), m, s, z, lo, hi))
        assert got == y, (note, got, y)
        out.append(
            {
                "acc": acc,
                "multiplier": m,
                "shift": s,
                "zero_point": z,
                "clamp": [lo, hi],
                "pre_clamp": pre,
                "y": y,
                "note": note,
            }
        )
    return out


# --- multipliers ------------------------------------------------------------------------------

#: Both widths of spec §3.2: the compiler's default (16) and the program's limit (31).
WIDTHS = (MULTIPLIER_BITS, 31)
#: ``m → (M, s)`` at every width.
MULTIPLIERS = [0.5, 1.0, 0.75, 1 / 3, 0.2, 2.0**-40, 0.0123, 3.7, 2.0**-50, 2.0**-62]
#: The largest ``m`` a width accepts (``M = 2^b - 1`` at ``s = 1``), per width.
LARGEST = {16: [2.0**15 - 0.5], 31: [2.0**30 - 0.5]}
SHARED = [[0.7, 0.3], [0.004, 0.0041], [1.0, 2.0**-16]]
#: Shared pairs one width accepts and the other refuses.
SHARED_ONLY = {16: [], 31: [[1.0, 2.0**-20]]}
REFUSED = [0.0, -1.0, 2.0**-64, float("inf"), float("nan")]
REFUSED_ONLY = {16: [2.0**15, 2.0**30], 31: [2.0**30]}
REFUSED_SHARED = {16: [[1.0, 1e-12], [1.0, 2.0**-20]], 31: [[1.0, 1e-12]]}


def multiplier_vectors() -> dict[str, Any]:
    single, shared, refused, refused_shared = [], [], [], []
    for bits in WIDTHS:
        for m in MULTIPLIERS + LARGEST[bits]:
            big, s = requant_multiplier(m, multiplier_bits=bits)
            single.append(
                {"m": m, "m_hex": m.hex(), "multiplier_bits": bits, "multiplier": big, "shift": s}
            )
        for ms in SHARED + SHARED_ONLY[bits]:
            bigs, s = shared_multipliers(ms, multiplier_bits=bits)
            shared.append(
                {
                    "m": ms,
                    "m_hex": [m.hex() for m in ms],
                    "multiplier_bits": bits,
                    "multipliers": list(bigs),
                    "shift": s,
                }
            )
        for m in REFUSED + REFUSED_ONLY[bits]:
            try:
                requant_multiplier(m, multiplier_bits=bits)
            except QuantizationError:
                refused.append({"m_hex": m.hex(), "multiplier_bits": bits})
                continue
            raise AssertionError(f"{m} was accepted at {bits} bits")
        for ms in REFUSED_SHARED[bits]:
            try:
                shared_multipliers(ms, multiplier_bits=bits)
            except QuantizationError:
                refused_shared.append({"m_hex": [m.hex() for m in ms], "multiplier_bits": bits})
                continue
            raise AssertionError(f"{ms} was accepted at {bits} bits")
    return {
        "single": single,
        "shared": shared,
        "refused": refused,
        "refused_shared": refused_shared,
    }


# --- models -----------------------------------------------------------------------------------


class _Builder:
    """A program under construction: tensor name → (shape, quantization)."""

    def __init__(self, name: str, shape: Sequence[int], quant: TensorQuant) -> None:
        self.label = name
        self.input_shape = tuple(shape)
        self.input_quant = quant
        self.tensors: dict[str, tuple[tuple[int, ...], TensorQuant]] = {
            "input": (self.input_shape, quant)
        }
        self.nodes: list[QuantizedNode] = []
        self.last = "input"

    def add(
        self,
        name: str,
        op: ref.Op,
        out: TensorQuant | None,
        inputs: Sequence[str] | None = None,
        weight_scale: Sequence[float] | None = None,
    ) -> None:
        ins = tuple(inputs or (self.last,))
        shape = op.output_shape([self.tensors[n][0] for n in ins])
        out = out or self.tensors[ins[0]][1]
        self.nodes.append(QuantizedNode(name, ins, op, shape, out, weight_scale=weight_scale))
        self.tensors[name] = (shape, out)
        self.last = name

    def linear(
        self,
        name: str,
        out_shape: Sequence[int],
        out: TensorQuant,
        acts: Sequence[Node] = (),
        *,
        stride: tuple[int, int] | None = None,
        padding: tuple[int, int, int, int] | None = None,
        bias: int = 2000,
    ) -> None:
        """A Dense (``out_shape = [O, I]``) or Conv2d (``[O, C, kh, kw]``) from the rule, with
        ``S_w[o] = 0.004·(1 + o/4)`` and bias in ``[-bias, bias]``."""
        xq = self.tensors[self.last][1]
        o = out_shape[0]
        weight = sha_ints(f"{self.label}/{name}/weight", out_shape, -127, 127)
        q_b = sha_ints(f"{self.label}/{name}/bias", [o], -bias, bias)
        ws = [0.004 * (1 + k / 4) for k in range(o)]
        pairs = [requant_multiplier(xq.scale * w / out.scale) for w in ws]
        clamp = activation_clamp(list(acts), out, name)
        params: dict[str, Any] = {
            "weight": weight,
            "bias": q_b,
            "input_zero_point": xq.zero_point,
            "multiplier": [m for m, _ in pairs],
            "shift": [s for _, s in pairs],
            "output_zero_point": out.zero_point,
            "clamp": clamp,
        }
        if stride is None:
            op: ref.Op = ref.Dense(**params)
        else:
            op = ref.Conv2d(stride=stride, padding=padding or (0, 0, 0, 0), **params)
        self.add(name, op, out, weight_scale=ws)

    def build(self, input_range: tuple[int, int] | None = None) -> QuantizedModel:
        return QuantizedModel(
            self.input_shape, self.input_quant, self.nodes, input_range=input_range
        )


def _pool_requant(xq: TensorQuant, out: TensorQuant, window: int) -> dict[str, int]:
    m, s = requant_multiplier(xq.scale / (out.scale * window))
    return {"input_zero_point": xq.zero_point, "multiplier": m, "shift": s}


def _models() -> list[tuple[str, str, QuantizedModel]]:
    q = TensorQuant
    models = []

    b = _Builder("dense", [6], q("int8", 0.05, -3))
    b.linear("fc", [4, 6], q("int8", 0.1, 5))
    models.append(("dense", "Dense int8 → int8, no activation (negative outputs)", b.build()))

    b = _Builder("dense_relu", [5], q("uint8", 0.02, 0))
    b.linear("fc", [3, 5], q("int8", 0.03, -20), [ReLU("relu")])
    models.append(("dense_relu", "Dense + fused ReLU with z_y = -20: clamp [-20, 127]", b.build()))

    b = _Builder("conv2d", [2, 5, 6], q("uint8", 0.03, 7))
    b.linear(
        "conv",
        [3, 2, 3, 2],
        q("uint8", 0.04, 0),
        [ReLU6("relu6")],
        stride=(2, 1),
        padding=(1, 0, 2, 1),
    )
    models.append(
        (
            "conv2d",
            "Conv2d 3x2 kernel, stride (2, 1), padding (top 1, left 0, bottom 2, right 1) on an "
            "input with zero point 7 (padding is x - z = 0), fused ReLU6: clamp [0, 150]",
            b.build(),
        )
    )

    xq, out = q("int8", 0.02, 10), q("int8", 0.015, -5)
    b = _Builder("avg_pool", [2, 4, 6], xq)
    b.add(
        "pool",
        ref.AvgPool(
            kernel=(2, 3),
            stride=(2, 2),
            output_zero_point=out.zero_point,
            clamp=out.range,
            **_pool_requant(xq, out, 6),
        ),
        out,
    )
    models.append(("avg_pool", "AvgPool 2x3 window, stride 2 (overlapping columns)", b.build()))

    xq, out = q("uint8", 0.01, 0), q("uint8", 0.008, 3)
    b = _Builder("global_avg_pool", [3, 3, 3], xq)
    b.add(
        "gap",
        ref.GlobalAvgPool(output_zero_point=3, clamp=out.range, **_pool_requant(xq, out, 9)),
        out,
    )
    b.add("flat", ref.Reshape(shape=(3,)), None)
    models.append(("global_avg_pool", "GlobalAvgPool [3,3,3] → [3,1,1], then Flatten", b.build()))

    xq = q("int8", 0.05, 0)
    b = _Builder("max_pool", [2, 5, 5], xq)
    b.add("pool", ref.MaxPool(kernel=(2, 2), stride=(2, 2)), None)
    clip = activation_clamp([Clip("clip", -2.5, 3.0)], xq, "clip")
    b.add("clip", ref.Clamp(clamp=clip), None)
    models.append(
        (
            "max_pool_clip",
            "MaxPool 2x2 stride 2 (the last row and column are dropped), then a standalone "
            "Clip(-2.5, 3.0) at scale 0.05: clamp [-50, 60]",
            b.build(),
        )
    )

    xq, hq, out = q("int8", 0.04, -10), q("int8", 0.06, 2), q("uint8", 0.05, 0)
    b = _Builder("add", [8], xq)
    b.linear("fc", [8, 8], hq)
    (m1, m2), s = shared_multipliers([xq.scale / out.scale, hq.scale / out.scale])
    b.add(
        "add",
        ref.Add(
            input_zero_points=(xq.zero_point, hq.zero_point),
            multipliers=(m1, m2),
            shift=s,
            output_zero_point=out.zero_point,
            clamp=activation_clamp([ReLU("relu")], out, "add"),
        ),
        out,
        inputs=("input", "fc"),
    )
    models.append(("add_residual", "input + Dense(input), fused ReLU: a residual block", b.build()))

    b = _Builder("cnn", [1, 6, 6], q("uint8", 1 / 16, 0))
    b.linear(
        "conv",
        [2, 1, 3, 3],
        q("uint8", 0.01, 0),
        [ReLU("relu")],
        stride=(1, 1),
        padding=(1, 1, 1, 1),
        bias=200,
    )
    b.add("pool", ref.MaxPool(kernel=(2, 2), stride=(2, 2)), None)
    b.add("flat", ref.Reshape(shape=(18,)), None)
    b.linear("fc", [3, 18], q("int8", 0.05, -4))
    models.append(
        (
            "cnn",
            "Conv 3x3 pad 1 + ReLU → MaxPool 2 → Flatten → Dense, input range [0, 16]",
            b.build(input_range=(0, 16)),
        )
    )
    return models


def _nested(a: np.ndarray) -> Any:
    return np.asarray(a, dtype=np.int64).tolist()


def model_vectors() -> list[dict[str, Any]]:
    out = []
    for name, description, model in _models():
        lo, hi = model.input_range
        cases = []
        inputs = {
            "sha256": sha_ints(f"{name}/input", model.input_shape, lo, hi),
            "min": np.full(model.input_shape, lo, dtype=np.int64),
            "max": np.full(model.input_shape, hi, dtype=np.int64),
        }
        for rule, x in inputs.items():
            trace: dict[str, dict[str, np.ndarray]] = {}
            y = model.forward_int(x, trace=trace)
            cases.append(
                {
                    "rule": rule,
                    "input": _nested(x),
                    "input_bytes": "0x" + model.input_bytes(x).hex(),
                    "trace": {
                        node: {stage: _nested(v) for stage, v in stages.items()}
                        for node, stages in trace.items()
                    },
                    "output": _nested(y),
                    "output_field": [to_hex(v) for v in model.output_field_elements(y)],
                }
            )
        out.append(
            {
                "name": name,
                "description": description,
                "model": model.to_dict(),
                "bounds": model.bounds.to_dict(),
                "cases": cases,
            }
        )
    return out


def quantization_vectors() -> dict[str, Any]:
    return {
        "generator": GENERATOR,
        "spec": "quantization.md",
        "int_rule": INT_RULE,
        "requantize": requant_vectors(),
        "multipliers": multiplier_vectors(),
        "models": model_vectors(),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "quantization.json", quantization_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
