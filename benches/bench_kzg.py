"""SRS and KZG: commit / open / verify across sizes, SRS load and validation.

Issue #3 asks for KZG commit/open at 2^12..2^20 and .ptau load + validation at 2^16 and 2^20.
The MSM is arkworks' for now (the faster MSM is still to come), so these are the baseline.
"""

from __future__ import annotations

import os
import random
import warnings
from pathlib import Path

import pytest

import bigfile_zk as bz
from bigfile_zk import kzg
from bigfile_zk.errors import InsecureSRSWarning

SIZES = [12, 14, 16, 18, 20]
MAX_LOG = int(os.environ.get("BFZK_BENCH_KZG_MAX_LOG", "20"))


@pytest.fixture(scope="module")
def srs() -> bz.SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return bz.SRS.insecure_for_testing(2**MAX_LOG)


def poly(n: int) -> list[int]:
    rng = random.Random(n)
    return [rng.randrange(bz.MODULUS) for _ in range(n)]


@pytest.mark.parametrize("log_n", [s for s in SIZES if s <= MAX_LOG])
def test_kzg_commit(benchmark, srs: bz.SRS, log_n: int) -> None:
    p = poly(2**log_n)
    benchmark.pedantic(kzg.commit, args=(srs, p), rounds=3)


@pytest.mark.parametrize("log_n", [s for s in SIZES if s <= MAX_LOG])
def test_kzg_open(benchmark, srs: bz.SRS, log_n: int) -> None:
    p = poly(2**log_n)
    benchmark.pedantic(kzg.open, args=(srs, p, 12345), rounds=3)


def test_kzg_verify(benchmark, srs: bz.SRS) -> None:
    p = poly(64)
    c = kzg.commit(srs, p)
    v, proof = kzg.open(srs, p, 7)
    assert benchmark(kzg.verify, srs, c, 7, v, proof)


def test_srs_insecure_generation(benchmark) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        benchmark.pedantic(bz.SRS.insecure_for_testing, args=(2**MAX_LOG,), rounds=1)


def test_srs_validate(benchmark, srs: bz.SRS) -> None:
    benchmark.pedantic(srs.validate, rounds=1)


def test_srs_load_own_format(benchmark, srs: bz.SRS, tmp_path: Path) -> None:
    path = tmp_path / "s.srs"
    srs.save(path)
    loaded = benchmark.pedantic(bz.SRS.load, args=(path,), rounds=3)
    assert loaded.max_degree == srs.max_degree
    benchmark.extra_info["bytes"] = path.stat().st_size


@pytest.fixture(scope="module")
def ptau16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A power-16 .ptau made by snarkjs (≈ 1 min); BFZK_BENCH_PTAU may name another file."""
    if os.environ.get("BFZK_BENCH_PTAU"):
        return Path(os.environ["BFZK_BENCH_PTAU"])
    import _snarkjs

    return _snarkjs.make_ptau(tmp_path_factory.mktemp("ptau"), 16, contributions=1)


def test_ptau_load_and_validate(benchmark, ptau16: Path) -> None:
    """Read 2^16 + 1 G1 powers and [τ]G2, check every point and the one-τ pairing equation."""
    srs = benchmark.pedantic(bz.SRS.from_ptau, args=(ptau16,), rounds=3)
    benchmark.extra_info["max_degree"] = srs.max_degree
