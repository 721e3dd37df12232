"""Epoch proof-of-storage through the Python API (issue 16): a catalogue of many small files,
one epoch proof with the default parameter set, verification; keys from the disk cache.

    PYTHONPATH=python .venv/bin/python benches/epoch_bench.py [--files 10000] [--m 40 --k 1]

Prints the time to write and commit the files, build the catalogue, get the keys (setup the
first time, the cache afterwards), prove (warm keys), verify, and this process's peak RSS.
Uses the insecure test SRS (a benchmark, not a deployment).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path

import bigfile_zk
from bigfile_zk import epoch
from bigfile_zk.errors import InsecureSRSWarning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--m", type=int, default=epoch.DEFAULT_PARAMS[0])
    parser.add_argument("--k", type=int, default=epoch.DEFAULT_PARAMS[1])
    args = parser.parse_args()
    params = (args.m, args.k)
    warnings.simplefilter("ignore", InsecureSRSWarning)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        cat = epoch.Catalogue()
        files: dict[int, tuple[Path, Path]] = {}
        for i in range(args.files):
            data, tree = Path(tmp, f"{i}.bin"), Path(tmp, f"{i}.bfzt")
            data.write_bytes(i.to_bytes(8, "big") * 372)  # 2,976 bytes: 3 chunks
            files[cat.add(bigfile_zk.commit_file(data, tree=tree))] = (data, tree)
        t_files = time.perf_counter() - t
        t = time.perf_counter()
        k_commitment = cat.commitment
        t_cat = time.perf_counter() - t
        t = time.perf_counter()
        epoch.keys(params)
        t_keys = time.perf_counter() - t
        seed, prover = 0xE90C, "0x" + "5a" * 20
        t = time.perf_counter()
        proof = epoch.prove_epoch(cat, files, seed, prover, params=params, progress=False)
        t_prove = time.perf_counter() - t
        t = time.perf_counter()
        ok = epoch.verify_epoch(
            proof,
            catalogue=k_commitment,
            seed=seed,
            prover=prover,
            params=params,
            allow_insecure_srs=True,
        )
        t_verify = time.perf_counter() - t
    assert ok
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{args.files} files, params {params}")
    print(f"write + commit_file: {t_files:.1f} s; catalogue root and K: {t_cat:.2f} s")
    print(f"keys (SRS + setup, or the disk cache): {t_keys:.1f} s")
    print(f"prove (warm keys): {t_prove:.1f} s; verify: {t_verify * 1e3:.0f} ms")
    print(f"peak RSS: {rss:.2f} GiB")


if __name__ == "__main__":
    main()
