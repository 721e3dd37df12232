"""A provider's epoch proving (issue 16): the epoch proof plus the catalogue-update proofs of
one epoch, proved one after the other in this process (what ``run_epoch`` does without a
backend) or all at once as batch jobs on local worker processes or Ray.

    PYTHONPATH=python .venv/bin/python benches/provider_bench.py [--files 1000] [--updates 2]

A catalogue of ``--files`` small files (3 chunks each, with trees) is proven with the default
parameter set (40, 1), together with ``--updates`` update proofs of 24 added files each (the
provider's queue after onboarding ``24 * updates`` files in one epoch). Keys come from the disk
cache (derived once before the timings); insecure test SRS (a benchmark, not a deployment).
``local``/``ray`` give each of ``w`` workers ``2 / w`` prover threads; their times include the
workers' key loads (the epoch key is 137 MiB as shipped, decoded once per worker), which a
long-running Ray cluster pays once rather than per epoch: the second Ray run shows that.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import bigfile_zk
from bigfile_zk import batch, catalogue, epoch
from bigfile_zk.errors import InsecureSRSWarning

PROVER = "0x" + "5a" * 20
SEED = 0xE90C


def make_files(
    where: Path, n: int, first: int = 0
) -> list[tuple[bigfile_zk.FileCommitment, Path, Path]]:
    out = []
    for i in range(first, first + n):
        data, tree = where / f"{i}.bin", where / f"{i}.bin.bfzt"
        data.write_bytes(i.to_bytes(8, "big") * 372)  # 2,976 bytes: 3 chunks
        out.append((bigfile_zk.commit_file(data, tree=tree, progress=False), data, tree))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", InsecureSRSWarning)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-provider-") as tmp:
        where = Path(tmp)
        held = make_files(where, args.files)
        cat = epoch.Catalogue(c for c, _, _ in held)
        cat_path = where / "catalogue.json"
        cat.save(cat_path)
        new = make_files(where, 24 * args.updates, first=args.files)
        plan = []  # (catalogue before, its path, ops)
        before = cat
        for u in range(args.updates):
            ops = [(before.count + j, c) for j, (c, _, _) in enumerate(new[24 * u : 24 * u + 24])]
            path = where / f"before-{u}.json"
            before.save(path)
            plan.append((before, path, ops))
            before, _ = catalogue.apply_changes(before, ops)
        epoch.keys()  # derived or loaded once, outside the timings
        catalogue.update_keys()
        located = {c: (d, t) for c, d, t in held}
        triples = tuple((c.commitment, str(d), str(t)) for c, d, t in held)

        start = time.perf_counter()
        epoch.prove_epoch(cat, located, SEED, PROVER, progress=False)
        t_epoch = time.perf_counter() - start
        for before, _, ops in plan:
            catalogue.prove_update(before, 0, ops, progress=False)
        t_seq = time.perf_counter() - start
        total = 1 + args.updates
        rows.append(("in process, one after the other (2 threads)", f"{t_seq:.1f} s"))
        rows.append(("  of which the epoch proof", f"{t_epoch:.1f} s"))
        rows.append(("  each update proof", f"{(t_seq - t_epoch) / max(args.updates, 1):.1f} s"))

        jobs: list[batch.Job] = [batch.EpochJob(str(cat_path), triples, SEED, PROVER, id="epoch")]
        for u, (_, path, ops) in enumerate(plan):
            changes = tuple((slot, c.to_json()) for slot, c in ops)
            jobs.append(batch.CatalogueUpdateJob(str(path), 0, changes, id=f"update-{u}"))

        def run(**kw: object) -> float:
            start = time.perf_counter()
            results = batch.prove_batch(jobs, allow_insecure_srs=True, progress=False, **kw)  # type: ignore[arg-type]
            seconds = time.perf_counter() - start
            bad = [r for r in results if not r.ok]
            if bad:
                raise SystemExit(f"{bad[0].job.label}: {bad[0].error_type}: {bad[0].error}")
            return seconds

        for workers in (1, 2):
            t = run(workers=workers)
            rows.append((f"local, {workers} worker(s), fresh pool", f"{t:.1f} s"))
        if not args.no_ray:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
            try:
                t = run(backend="ray", workers=2, threads=1)
                rows.append(("ray, 2 workers, cold (keys shipped and decoded)", f"{t:.1f} s"))
                t = run(backend="ray", workers=2, threads=1)
                rows.append(("ray, 2 workers, warm (keys already in the workers)", f"{t:.1f} s"))
            finally:
                ray.shutdown()
    print(
        f"# epoch proof (40, 1) of {args.files} files + {args.updates} update proof(s) of 24 "
        f"changes = {total} proofs; {os.cpu_count()} CPUs; load {os.getloadavg()}"
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
