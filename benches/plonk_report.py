"""Rows per gadget and peak memory per proof (issue #4), printed as a Markdown table.

    .venv/bin/python benches/plonk_report.py [max_log=16]

Peak memory is the resident-set high-water mark of a fresh process that builds the circuit,
runs setup and proves (the SRS is part of it: 5n + 10 G1 powers, 72 bytes each in memory).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import warnings

import bigfile_zk as bz
from bigfile_zk import plonk


def rows(make: object) -> int:
    b = plonk.Builder()
    b.constant(0)  # shared constants are not part of a gadget's cost
    b.constant(1)
    before = b.num_rows
    make(b)  # type: ignore[operator]
    return b.num_rows - before


def merkle_level_rows(arity: int) -> int:
    def one(levels: int) -> int:
        def make(b: plonk.Builder) -> None:
            leaf, index = b.input(1), b.input(0)
            sibs = [[b.input(0) for _ in range(arity - 1)] for _ in range(levels)]
            b.merkle_root(leaf, index, sibs, arity)

        return rows(make)

    return one(3) - one(2)


def prove_once(log_n: int) -> None:
    sys.path.insert(0, "benches")
    from bench_plonk import case

    circuit, values, out = case(log_n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        srs = bz.SRS.insecure_for_testing(5 * 2**log_n + 9)
    pk = plonk.setup(circuit, srs)
    proof = plonk.prove(pk, circuit, values, progress=False)
    assert plonk.verify(pk.vk, proof, [out], allow_insecure_srs=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(peak)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--prove":
        prove_once(int(sys.argv[2]))
        return
    max_log = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    print("| gadget | rows |\n|---|---|")

    def hashes(k: int) -> int:
        def make(b: plonk.Builder) -> None:
            for _ in range(k):
                b.poseidon([b.input(1), b.input(2)])

        return rows(make)

    print(f"| Poseidon(2) (native gate; + 1 shared constant row) | {hashes(2) - hashes(1)} |")
    for n in (1, 4, 16):
        count = rows(lambda b, n=n: b.poseidon([b.input(i) for i in range(n)]))
        print(f"| Poseidon({n}) (arithmetic rows) | {count} |")
    for arity in (2, 4, 8, 16):
        print(f"| Merkle level, arity {arity} | {merkle_level_rows(arity)} |")
    print(f"| range check, 64 bits (lookups) | {rows(lambda b: b.range_check(b.input(5), 64))} |")
    print("\n| rows | peak RSS (setup + prove, fresh process) | bytes per row |\n|---|---|---|")
    for log_n in range(10, max_log + 1, 2):
        out = subprocess.run(
            [sys.executable, __file__, "--prove", str(log_n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        peak = int(out)
        print(f"| 2^{log_n} | {peak / 2**20:.0f} MiB | {peak / 2**log_n:.0f} |")


if __name__ == "__main__":
    main()
