"""File commitments: throughput and peak memory on a 256 MiB file, and Merkle tree building.

Target (issue #2): throughput within 1.5x of cores x single-core permutation rate x 62 bytes
absorbed per permutation; peak RSS bounded (~256 MiB at most) whatever the file size.
Target (issue 15): >= 3x the scalar MB/s with the AVX-512 IFMA path (unchanged roots).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bigfile_zk
from bigfile_zk import _native

FILE_MIB = int(os.environ.get("BFZK_BENCH_FILE_MIB", "256"))


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / f"file-{FILE_MIB}MiB.bin"
    rng = np.random.default_rng(7)
    with open(path, "wb") as f:
        for _ in range(FILE_MIB):
            f.write(rng.integers(0, 256, size=1 << 20, dtype=np.uint8).tobytes())
    return path


def test_commit_file_256mib(benchmark, big_file: Path) -> None:
    """Streamed commitment of a random file; reports MB/s against the permutation bound."""
    c = benchmark.pedantic(
        bigfile_zk.commit_file, args=(big_file,), kwargs={"progress": False}, rounds=1
    )
    seconds = benchmark.stats.stats.min
    # The leaf sponge runs eight chunks at once: the lane-equivalent permutation is the unit.
    perm = _native._bench_permute_x8(2_500, 3)
    cores = os.cpu_count() or 1
    bound = cores / perm * 62  # bytes per second if every core only absorbed 62 B/permutation
    achieved = c.file_size / seconds
    benchmark.extra_info.update(
        {
            "MiB": FILE_MIB,
            "simd": _native._simd_enabled(),
            "MB_per_s": achieved / 1e6,
            "bound_MB_per_s": bound / 1e6,
            "bound_over_achieved": bound / achieved,
        }
    )


_TIMED_COMMIT = (
    "import sys, time, bigfile_zk\n"
    "from bigfile_zk import _native\n"
    "t = time.perf_counter()\n"
    "bigfile_zk.commit_file(sys.argv[1], progress=False)\n"
    "print(time.perf_counter() - t, _native._simd_enabled())\n"
)


def test_commit_file_simd_vs_scalar(benchmark, big_file: Path) -> None:
    """Issue 15: `commit_file` on the AVX-512 IFMA path against the scalar path, fresh
    processes, interleaved (BIGFILE_ZK_NO_SIMD=1 forces the scalar path); best of each."""
    rounds = int(os.environ.get("BFZK_BENCH_ROUNDS", "2"))

    def run(no_simd: bool) -> float:
        env = dict(os.environ)
        env.pop("BIGFILE_ZK_NO_SIMD", None)
        if no_simd:
            env["BIGFILE_ZK_NO_SIMD"] = "1"
        out = subprocess.run(
            [sys.executable, "-c", _TIMED_COMMIT, str(big_file)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert out[1] == str(not no_simd and _native._simd_enabled())
        return float(out[0])

    def compare() -> tuple[float, float]:
        scalar, simd = [], []
        for _ in range(rounds):
            scalar.append(run(True))
            simd.append(run(False))
        return min(scalar), min(simd)

    scalar, simd = benchmark.pedantic(compare, rounds=1)
    size = big_file.stat().st_size
    benchmark.extra_info.update(
        {
            "MiB": FILE_MIB,
            "scalar_MB_per_s": size / scalar / 1e6,
            "simd_MB_per_s": size / simd / 1e6,
            "speedup": scalar / simd,
        }
    )


def test_commit_file_peak_rss(benchmark, big_file: Path) -> None:
    """Peak RSS of `bigfile-zk commit` on the file, in a fresh process."""

    def run() -> int:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(
            [sys.executable, "-m", "bigfile_zk.cli", "commit", str(big_file), "-q"],
            check=True,
            capture_output=True,
        )
        return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)

    peak_kib = benchmark.pedantic(run, rounds=1)
    benchmark.extra_info["peak_rss_MiB"] = peak_kib / 1024


@pytest.mark.parametrize("arity", [2, 4, 8, 16])
def test_merkle_tree_2p16_leaves(benchmark, arity: int) -> None:
    """A full in-memory tree over 2^16 leaves given as a uint64 limb array."""
    leaves = np.zeros((1 << 16, 4), dtype=np.uint64)
    leaves[:, 0] = np.arange(1 << 16, dtype=np.uint64)
    tree = benchmark.pedantic(bigfile_zk.MerkleTree, args=(leaves, arity), rounds=3)
    assert len(tree) == 1 << 16
