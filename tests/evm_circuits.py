"""The circuits the EVM tests and the gas bench (``benches/evm_gas.py``) both use."""

from __future__ import annotations

from typing import Any

import bigfile_zk
from bigfile_zk import plonk
from bigfile_zk.reference.field import R


def square(b: plonk.Builder) -> None:
    x = b.private_input("x")
    b.assert_equal(b.mul(x, x), b.public_input("y"))


def make_circuit(num_public: int, lookups: bool) -> plonk.CircuitFn:
    """``num_public - 1`` inputs ``xs`` and ``out = Poseidon(s² + Σ xs, s)`` (with a 12-bit range
    check of ``s``, a lookup, if ``lookups``)."""

    def circuit(b: plonk.Builder) -> None:
        xs = b.public_inputs("xs", num_public - 1)
        s = b.private_input("s")
        acc = b.mul(s, s)
        for x in xs:
            acc = b.add(acc, x)
        if lookups:
            b.range_check(s, 12)
        b.assert_equal(b.poseidon([acc, s]), b.public_input("out"))

    return circuit


def circuit_values(num_public: int, s: int = 1234) -> tuple[dict[str, Any], list[int]]:
    xs = [(7 * i + 1) ** 3 for i in range(num_public - 1)]
    out = bigfile_zk.poseidon([(s * s + sum(xs)) % R, s])
    return {"xs": xs, "s": s, "out": out}, [*xs, out]
