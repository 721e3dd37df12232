"""Regenerate ``docs/spec/vectors/epoch.json`` from the pure-Python reference.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_epoch_vectors [OUTPUT_DIR]

Slot sampling and sample seeds (``proof-of-storage-epoch.md``, "Sampling") at the edges of the
slot range for both parameter sets, and small catalogues of files given by a byte rule (byte
``b`` of the file in slot ``i`` is ``(7·b + 13·i + b // 991) mod 256``; ``null`` sizes are
removed files): leaves, tree root, ``K``, and whole statements (slots, chunk challenges) whose
honest witnesses satisfy the relation. Deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._gen_vectors import DEFAULT_OUTPUT, sha_element, write
from .commitment import leaf_hash, num_chunks_for
from .epoch import (
    CATALOGUE_DEPTH,
    MAX_FILES,
    PARAMETER_SETS,
    File,
    Sample,
    catalogue_commitment,
    catalogue_path,
    catalogue_root,
    chunk_challenges,
    relation_holds,
    sample_seed,
    slots,
)
from .field import to_hex
from .merkle import MerkleTree
from .storage import ARITY, CHUNK_SIZE, Opening, commitment

GENERATOR = "python -m bigfile_zk.reference._gen_epoch_vectors (pure-Python reference)"
PROVER = 0x00000000219AB540356CBB839CBE05303D7705FA  # any 20-byte address
FILE_RULE = "byte b of slot i's file = (7*b + 13*i + b // 991) mod 256"
CATALOGUES = (
    [100],
    [10, 2 * CHUNK_SIZE, None, 3 * CHUNK_SIZE - 1, 5 * CHUNK_SIZE + 17],
)


def file_bytes(slot: int, size: int) -> bytes:
    return bytes((7 * b + 13 * slot + b // 991) % 256 for b in range(size))


def _file(slot: int, size: int) -> tuple[bytes, MerkleTree, int]:
    data = file_bytes(slot, size)
    chunks = [data[i : i + CHUNK_SIZE] for i in range(0, size, CHUNK_SIZE)]
    tree = MerkleTree([leaf_hash(c.ljust(CHUNK_SIZE, b"\0")) for c in chunks], ARITY)
    return data, tree, commitment(tree.root, size)


def _statement(
    files: list[tuple[bytes, MerkleTree, int] | None], leaves: list[int], m: int, k: int, label: str
) -> dict[str, Any]:
    count = len(leaves)
    root = catalogue_root(leaves)
    seed = sha_element(label)
    picked = slots(seed, PROVER, m, count)
    samples, chunks = [], []
    for j, slot in enumerate(picked):
        f = files[slot]
        if f is None:
            samples.append(Sample(slot, 0, catalogue_path(leaves, slot), None))
            chunks.append(None)
            continue
        data, tree, _ = f
        n = num_chunks_for(len(data), CHUNK_SIZE)
        idx = chunk_challenges(seed, PROVER, j, k, n)
        chunks.append(idx)
        openings = [
            Opening(
                data[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE], [s[0] for s in tree.proof(i).siblings]
            )
            for i in idx
        ]
        samples.append(
            Sample(
                slot,
                leaves[slot],
                catalogue_path(leaves, slot),
                File(tree.root, len(data), openings),
            )
        )
    k_commitment = catalogue_commitment(root, count)
    statement = (k_commitment, seed, PROVER)
    assert relation_holds(m, k, statement, root, count, samples)
    return {
        "m": m,
        "k": k,
        "seed": to_hex(seed),
        "prover": f"0x{PROVER:040x}",
        "public_inputs": [to_hex(k_commitment), to_hex(seed), to_hex(PROVER)],
        "slots": picked,
        "chunks": chunks,
    }


def epoch_vectors() -> dict[str, Any]:
    slot_cases = []
    for n, count in enumerate([1, 2, 3, 10_000, MAX_FILES - 1, MAX_FILES]):
        for m, _ in PARAMETER_SETS:
            seed = sha_element(f"epoch slots {n} {m}")
            slot_cases.append(
                {
                    "seed": to_hex(seed),
                    "prover": f"0x{PROVER:040x}",
                    "m": m,
                    "count": count,
                    "slots": slots(seed, PROVER, m, count),
                    "sample_seeds": [to_hex(sample_seed(seed, PROVER, j)) for j in range(m)],
                }
            )
    catalogues = []
    for c, sizes in enumerate(CATALOGUES):
        files = [None if s is None else _file(i, s) for i, s in enumerate(sizes)]
        leaves = [0 if f is None else f[2] for f in files]
        root = catalogue_root(leaves)
        # Small (m, k) keep the circuit test quick; the derivation is the same for any (m, k).
        statements = [
            _statement(files, leaves, m, k, f"epoch statement {c} {m} {k} {t}")
            for m, k, t in [(2, 2, 0), (3, 1, 1), (4, 3, 2)]
        ]
        catalogues.append(
            {
                "sizes": list(sizes),
                "leaves": [to_hex(x) for x in leaves],
                "tree_root": to_hex(root),
                "commitment": to_hex(catalogue_commitment(root, len(leaves))),
                "statements": statements,
            }
        )
    return {
        "generator": GENERATOR,
        "spec": "proof-of-storage-epoch.md",
        "catalogue_depth": CATALOGUE_DEPTH,
        "chunk_size": CHUNK_SIZE,
        "file_rule": FILE_RULE,
        "slots": slot_cases,
        "catalogues": catalogues,
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "epoch.json", epoch_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
