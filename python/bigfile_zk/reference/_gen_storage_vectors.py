"""Regenerate ``docs/spec/vectors/storage.json`` from the pure-Python reference.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_storage_vectors [OUTPUT_DIR]

Challenge derivations (``proof-of-storage.md`` §2) at the edges of the chunk range and for
every parameter set, and whole statements for small files given by a byte rule (byte ``i`` is
``(7·i + i // 991) mod 256``): size, commitment, depth and challenged indices. Deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._gen_vectors import DEFAULT_OUTPUT, sha_element, write
from .commitment import leaf_hash, num_chunks_for
from .field import to_hex
from .merkle import MerkleTree
from .storage import ARITY, CHUNK_SIZE, MAX_CHUNKS, PARAMETER_SETS, challenges, commitment, depth

GENERATOR = "python -m bigfile_zk.reference._gen_storage_vectors (pure-Python reference)"
PROVER = 0x00000000219AB540356CBB839CBE05303D7705FA  # any 20-byte address


def file_bytes(size: int) -> bytes:
    return bytes((7 * i + i // 991) % 256 for i in range(size))


def storage_vectors() -> dict[str, Any]:
    cases = []
    for n, num_chunks in enumerate([1, 2, 3, 1000, 2**31 + 1, MAX_CHUNKS - 1, MAX_CHUNKS]):
        for k in PARAMETER_SETS:
            seed = sha_element(f"storage seed {n} {k}")
            cases.append(
                {
                    "seed": to_hex(seed),
                    "prover": f"0x{PROVER:040x}",
                    "k": k,
                    "num_chunks": num_chunks,
                    "indices": challenges(seed, PROVER, k, num_chunks),
                }
            )
    statements = []
    for size in [1, CHUNK_SIZE, CHUNK_SIZE + 1, 5 * CHUNK_SIZE + 100]:
        data = file_bytes(size)
        chunks = [data[i : i + CHUNK_SIZE] for i in range(0, size, CHUNK_SIZE)]
        tree = MerkleTree([leaf_hash(c.ljust(CHUNK_SIZE, b"\0")) for c in chunks], ARITY)
        seed = sha_element(f"storage statement {size}")
        num_chunks = num_chunks_for(size, CHUNK_SIZE)
        c = commitment(tree.root, size)
        statements.append(
            {
                "size": size,
                "root": to_hex(tree.root),
                "depth": depth(num_chunks),
                "commitment": to_hex(c),
                "seed": to_hex(seed),
                "prover": f"0x{PROVER:040x}",
                "public_inputs": [
                    to_hex(commitment(tree.root, size)),
                    to_hex(seed),
                    to_hex(PROVER),
                ],
                "indices_k4": challenges(seed, PROVER, 4, num_chunks),
            }
        )
    return {
        "generator": GENERATOR,
        "spec": "proof-of-storage.md",
        "chunk_size": CHUNK_SIZE,
        "arity": ARITY,
        "file_rule": "byte i = (7*i + i // 991) mod 256",
        "challenges": cases,
        "statements": statements,
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "storage.json", storage_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
