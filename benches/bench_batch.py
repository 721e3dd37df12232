"""Batch proving (issue 16): proofs per minute with 1 and 2 workers, local processes and Ray,
and the per-job overhead of going through a batch (issue #16's "scaling measured, not
assumed").

    .venv/bin/python benches/bench_batch.py [--jobs 16] [--no-ray]

k = 4 storage proofs (2^14 rows) of four 64 KiB files (with tree files), insecure test SRS,
keys warm in the disk cache. Each configuration proves the same ``--jobs`` jobs:

* ``direct``: ``storage.prove`` in this process, keys in memory (the floor);
* ``local``: ``prove_batch(workers=w)``, a fresh spawn pool per batch (its start-up, each
  worker's key load, then the proofs); ``w`` workers with ``2 / w`` prover threads each;
* ``ray``: ``prove_batch(backend="ray", workers=w, threads=2 / w)`` on a local Ray instance
  (2 CPUs) started once before (its start-up is reported separately; worker processes are
  warm after the first batch, as on a long-running cluster).

Per-job overhead: a batch of one job minus one direct proof.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import bigfile_zk
from bigfile_zk import batch, storage
from bigfile_zk.errors import InsecureSRSWarning

PROVER = "0x" + "5a" * 20
K = 4


def make_files(where: Path, count: int = 4) -> list[Path]:
    rng = np.random.default_rng(16)
    files = []
    for i in range(count):
        path = where / f"f{i}.bin"
        path.write_bytes(rng.integers(0, 256, 64 * 2**10, dtype=np.uint8).tobytes())
        c = bigfile_zk.commit_file(path, tree=f"{path}.bfzt", progress=False)
        Path(f"{path}.commitment.json").write_text(c.to_json())
        files.append(path)
    return files


def jobs_for(files: list[Path], n: int) -> list[batch.Job]:
    return [
        batch.StorageJob(str(files[i % len(files)]), seed=1000 + i, prover=PROVER, k=K)
        for i in range(n)
    ]


def run_batch(jobs: list[batch.Job], **kwargs: object) -> float:
    start = time.perf_counter()
    results = batch.prove_batch(jobs, allow_insecure_srs=True, progress=False, **kwargs)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} jobs failed: {failed[0].error_type}: {failed[0].error}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", InsecureSRSWarning)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        files = make_files(Path(tmp))
        jobs = jobs_for(files, args.jobs)
        srs = storage.default_srs(K)
        storage.keys(K, srs)  # derived and cached once, outside the timings
        commitments = [
            bigfile_zk.FileCommitment.from_json(Path(f"{f}.commitment.json").read_text())
            for f in files
        ]

        def direct(n: int) -> float:
            start = time.perf_counter()
            for i in range(n):
                storage.prove(
                    files[i % 4], commitments[i % 4], 1000 + i, PROVER, k=K, srs=srs, progress=False
                )
            return time.perf_counter() - start

        direct(1)  # warm
        one = statistics.median(direct(1) for _ in range(3))
        t = direct(len(jobs))
        rows.append(("direct, 1 process, 2 threads", f"{len(jobs) / t * 60:.1f} proofs/min"))
        rows.append(("direct, one proof", f"{one:.2f} s"))
        for workers in (1, 2):
            t = run_batch(jobs, workers=workers)
            rows.append((f"local, {workers} worker(s)", f"{len(jobs) / t * 60:.1f} proofs/min"))
        t1 = statistics.median(run_batch(jobs[:1], workers=1) for _ in range(3))
        rows.append(("local, batch of 1 (spawn + key load + proof)", f"{t1:.2f} s"))
        rows.append(("local, per-batch overhead (batch of 1 - direct)", f"{t1 - one:.2f} s"))
        if not args.no_ray:
            import ray

            start = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
            rows.append(
                ("ray, local instance start (2 CPUs)", f"{time.perf_counter() - start:.1f} s")
            )
            try:
                run_batch(jobs[:2], backend="ray", workers=2, threads=1)  # warm the workers
                for workers in (1, 2):
                    t = run_batch(jobs, backend="ray", workers=workers, threads=2 // workers)
                    rows.append(
                        (f"ray, {workers} worker(s)", f"{len(jobs) / t * 60:.1f} proofs/min")
                    )
                t1 = statistics.median(
                    run_batch(jobs[:1], backend="ray", workers=1, threads=2) for _ in range(3)
                )
                rows.append(("ray, batch of 1 (warm cluster)", f"{t1:.2f} s"))
                rows.append(("ray, per-job overhead (batch of 1 - direct)", f"{t1 - one:.2f} s"))
            finally:
                ray.shutdown()
    print(f"# {args.jobs} k = 4 storage proofs; {os.cpu_count()} CPUs; load {os.getloadavg()}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
