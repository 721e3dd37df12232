"""PLONK: setup / prove / verify at 2^10 .. 2^20 rows (issue #4), on a chain of Poseidon(2)
hashes that fills the rows (the shape of the storage circuits).

Sizes above 2^16 take minutes and gigabytes (the SRS needs 5n + 10 powers); select them with
``BFZK_BENCH_PLONK_MAX_LOG=20``. Peak memory of one proof is measured in a fresh process by
``benches/plonk_memory.py``.
"""

from __future__ import annotations

import os
import warnings

import pytest

import bigfile_zk as bz
from bigfile_zk import plonk
from bigfile_zk.errors import InsecureSRSWarning

SIZES = [10, 12, 14, 16, 18, 20]
MAX_LOG = int(os.environ.get("BFZK_BENCH_PLONK_MAX_LOG", "16"))


def chain(perms: int) -> plonk.CircuitFn:
    def circuit(b: plonk.Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        for _ in range(perms):
            x, y = y, b.poseidon([x, y])
        b.assert_equal(y, b.public_input("out"))

    return circuit


def case(log_n: int) -> tuple[plonk.CircuitFn, dict[str, int], int]:
    perms = (2**log_n - 100) // 68  # 68 rows per Poseidon(2), a few rows of slack
    x, y = 1, 2
    for _ in range(perms):
        x, y = y, bz.poseidon([x, y])
    return chain(perms), {"x": 1, "y": 2, "out": y}, y


@pytest.fixture(scope="module")
def srs() -> bz.SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return bz.SRS.insecure_for_testing(5 * 2**MAX_LOG + 9)


LOGS = [s for s in SIZES if s <= MAX_LOG]


@pytest.mark.parametrize("log_n", LOGS)
def test_plonk_build(benchmark, log_n: int) -> None:
    circuit, values, _ = case(log_n)
    built = benchmark.pedantic(plonk.build, args=(circuit, values), rounds=3)
    assert built.k == log_n


@pytest.mark.parametrize("log_n", LOGS)
def test_plonk_setup(benchmark, srs: bz.SRS, log_n: int) -> None:
    circuit, _, _ = case(log_n)
    benchmark.pedantic(plonk.setup, args=(circuit, srs), rounds=1 if log_n > 16 else 3)


@pytest.mark.parametrize("log_n", LOGS)
def test_plonk_prove(benchmark, srs: bz.SRS, log_n: int) -> None:
    circuit, values, out = case(log_n)
    pk = plonk.setup(circuit, srs)
    proof = benchmark.pedantic(
        plonk.prove, args=(pk, circuit, values), rounds=1 if log_n > 16 else 3
    )
    assert plonk.verify(pk.vk, proof, [out], allow_insecure_srs=True)


@pytest.mark.parametrize("log_n", [LOGS[0], LOGS[-1]])
def test_plonk_verify(benchmark, srs: bz.SRS, log_n: int) -> None:
    circuit, values, out = case(log_n)
    pk = plonk.setup(circuit, srs)
    proof = plonk.prove(pk, circuit, values)
    assert benchmark(plonk.verify, pk.vk, proof, [out], allow_insecure_srs=True)
