"""The circuits the EVM tests and the gas bench (``benches/evm_gas.py``) both use."""

from __future__ import annotations

from typing import Any

import bigfile_zk
from bigfile_zk import plonk
from bigfile_zk.reference.field import R


def square(b: plonk.Builder) -> None:
    x = b.private_input("x")
    b.assert_equal(b.mul(x, x), b.public_input("y"))


def make_circuit(num_public: int, lookups: bool, dot: bool = False) -> plonk.CircuitFn:
    """``num_public - 1`` inputs ``xs`` and ``out = Poseidon(s² + Σ xs, s)`` (with a 12-bit range
    check of ``s``, a lookup, if ``lookups``). With ``dot``, spec v2: ``out = Poseidon(s² + s +
    Σ xs, s)`` with the sum as one dot product, so the key differs from the version-1 one only
    by ``[q_N]`` and the layout of the sum."""

    def circuit(b: plonk.Builder) -> None:
        xs = b.public_inputs("xs", num_public - 1)
        s = b.private_input("s")
        acc = b.mul(s, s)
        if dot:
            acc = b.dot([(1, acc), (1, s), *((1, x) for x in xs)])
        else:
            for x in xs:
                acc = b.add(acc, x)
        if lookups:
            b.range_check(s, 12)
        b.assert_equal(b.poseidon([acc, s]), b.public_input("out"))

    return circuit


def circuit_values(
    num_public: int, s: int = 1234, dot: bool = False
) -> tuple[dict[str, Any], list[int]]:
    xs = [(7 * i + 1) ** 3 for i in range(num_public - 1)]
    out = bigfile_zk.poseidon([(s * s + sum(xs) + (s if dot else 0)) % R, s])
    return {"xs": xs, "s": s, "out": out}, [*xs, out]
