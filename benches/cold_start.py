"""Cold start (issue 15): `bigfile-zk storage prove` in a fresh process for two checkouts (e.g.
main before the key cache encoding and a branch after it), interleaved rounds, with a
breakdown child (import, SRS load, SRS digest, keys, prove) for each.

    OLD=/path/to/old/python NEW=python BENCH_DIR=/tmp/cold K=16 ROUNDS=3 \
        .venv/bin/python benches/cold_start.py

Each side's ``python/`` must hold its built extension. ``BENCH_DIR`` must hold
``file-1024MiB.bin``, its tree ``file-1024MiB.bfzt`` and ``commitment.json`` (``bigfile-zk
commit``); each side gets its own key cache there (warmed before the rounds)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

B = Path(os.environ.get("BENCH_DIR", "/tmp/cold"))
FILE = B / "file-1024MiB.bin"
TREE = FILE.with_suffix(".bfzt")
SIDES = {"old": os.environ.get("OLD", "python"), "new": os.environ.get("NEW", "python")}
K = int(os.environ.get("K", "16"))
CLI = """
import sys, time
t = time.perf_counter()
from bigfile_zk.cli import main
rc = main(sys.argv[1:])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(int(hwm[0].split()[1]))
sys.exit(rc)
"""
PARTS = """
import sys, time, warnings
t0 = time.perf_counter()
from bigfile_zk import storage
import bigfile_zk
t1 = time.perf_counter()
warnings.simplefilter("ignore")
k = int(sys.argv[1])
srs = storage.default_srs(k)
t2 = time.perf_counter()
storage.srs_digest(srs, k)
t3 = time.perf_counter()
storage.keys(k, srs)
t4 = time.perf_counter()
c = bigfile_zk.FileCommitment.from_json(open(sys.argv[2]).read())
storage.prove(sys.argv[3], c, 77, "0x" + "5a" * 20, k=k, tree=sys.argv[4], srs=srs, progress=False)
t5 = time.perf_counter()
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, int(hwm[0].split()[1]))
"""


def env(side):
    e = dict(os.environ, PYTHONPATH=SIDES[side], BIGFILE_ZK_CACHE=str(B / f"cache-{side}"))
    e.pop("BIGFILE_ZK_TRACE", None)
    return e


def cli(side):
    out = B / f"proof-{side}.json"
    args = [
        "storage",
        "prove",
        str(FILE),
        "--seed",
        "77",
        "--prover",
        "0x" + "5a" * 20,
        "--k",
        str(K),
        "--commitment",
        str(B / "commitment.json"),
        "--tree",
        str(TREE),
        "--out",
        str(out),
        "-q",
    ]
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env(side),
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t, int(done.stdout.split()[-1]) / 1024


def parts(side):
    done = subprocess.run(
        [sys.executable, "-c", PARTS, str(K), str(B / "commitment.json"), str(FILE), str(TREE)],
        env=env(side),
        check=True,
        capture_output=True,
        text=True,
    )
    return [float(x) for x in done.stdout.split()]


for side in SIDES:  # warm the caches (SRS, key)
    parts(side)
rounds = int(os.environ.get("ROUNDS", "3"))
for r in range(rounds):
    for side in SIDES:
        wall, rss = cli(side)
        p = parts(side)
        print(
            f"round {r} {side}: CLI fresh {wall:.2f} s, peak RSS {rss:.0f} MiB | parts: import "
            f"{p[0]:.2f}, SRS load {p[1]:.2f}, SRS digest {p[2]:.2f}, keys {p[3]:.2f}, "
            f"prove {p[4]:.2f}, RSS {p[5] / 1024:.0f} MiB | load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
