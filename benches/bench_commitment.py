"""File commitments: throughput and peak memory on a 256 MiB file, and Merkle tree building.

Target (issue #2): throughput within 1.5x of cores x single-core permutation rate x 62 bytes
absorbed per permutation; peak RSS bounded (~256 MiB at most) whatever the file size.
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
    perm = _native._bench_permute(3, 20_000, 3)
    cores = os.cpu_count() or 1
    bound = cores / perm * 62  # bytes per second if every core only absorbed 62 B/permutation
    achieved = c.file_size / seconds
    benchmark.extra_info.update(
        {
            "MiB": FILE_MIB,
            "MB_per_s": achieved / 1e6,
            "bound_MB_per_s": bound / 1e6,
            "bound_over_achieved": bound / achieved,
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
