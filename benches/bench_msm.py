"""MSM: bigfile_zk's MSM (``bigfile_zk.msm.msm``, on the selected backend: the CPU unless
``BIGFILE_ZK_MSM`` says otherwise) against arkworks' ``VariableBaseMSM`` on the same inputs, at
2^16, 2^18 and 2^20 points (issue #3: the target is 1.5 times faster than arkworks). One
benchmark group per size, so that pytest-benchmark prints the two side by side.

Both take the same path from Python (64-byte points as a ``(n, 64)`` uint8 array, scalars as a
``(n, 4)`` limb array, decoded and checked in Rust without the GIL): the difference is the MSM.
``BFZK_BENCH_MSM_MAX_LOG`` lowers the largest size.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import numpy.typing as npt
import pytest

import bigfile_zk as bz
from bigfile_zk import _native, msm
from bigfile_zk.errors import InsecureSRSWarning

SIZES = [16, 18, 20]
MAX_LOG = int(os.environ.get("BFZK_BENCH_MSM_MAX_LOG", "20"))
LOGS = [s for s in SIZES if s <= MAX_LOG]


@pytest.fixture(scope="module")
def inputs() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """``2^MAX_LOG`` distinct points (the powers of an insecure SRS, read from its saved form:
    16-byte header, then 64-byte EVM points) and random scalars."""
    n = 2 ** max(LOGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        srs = bz.SRS.insecure_for_testing(n - 1, seed=11)
    raw = srs.to_bytes()
    points = np.frombuffer(raw, dtype=np.uint8, count=64 * n, offset=16).reshape(n, 64)
    rng = np.random.default_rng(11)
    limbs = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    limbs[:, 3] &= np.uint64(2**61 - 1)  # < 2^253 < r: canonical
    return points, limbs


@pytest.mark.parametrize("log_n", LOGS)
def test_msm_ours(benchmark, inputs, log_n: int) -> None:
    points, scalars = inputs
    n = 2**log_n
    benchmark.group = f"msm 2^{log_n}"
    benchmark.extra_info["backend"] = msm.backend()
    got = benchmark.pedantic(msm.msm, args=(points[:n], scalars[:n]), rounds=3)
    assert got == _native._msm_arkworks(points[:n], scalars[:n])


@pytest.mark.parametrize("log_n", LOGS)
def test_msm_arkworks(benchmark, inputs, log_n: int) -> None:
    points, scalars = inputs
    n = 2**log_n
    benchmark.group = f"msm 2^{log_n}"
    benchmark.pedantic(_native._msm_arkworks, args=(points[:n], scalars[:n]), rounds=3)
