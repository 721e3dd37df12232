"""Regenerate the test vectors in ``docs/spec/vectors/`` from the pure-Python reference.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_vectors [OUTPUT_DIR]

Inputs are given both as a *rule* (so another implementation can regenerate them) and
explicitly (so it does not have to). Pseudo-random values come from SHA-256 over a labelled
counter, reduced mod ``r``: deterministic, reproducible in any language, no RNG involved.
The output is byte-for-byte deterministic; re-running it must leave the files unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from .commitment import (
    DEFAULT_ARITY,
    DEFAULT_CHUNK_SIZE,
    LEAF_IV,
    chunk_elements,
    commit_bytes,
    leaf_hash,
    open_bytes,
)
from .field import R, to_hex
from .merkle import ARITIES, IncrementalMerkleTree, MerkleTree, zero_hashes
from .poseidon import MAX_INPUTS, MAX_WIDTH, MIN_INPUTS, MIN_WIDTH, permute, poseidon

DEFAULT_OUTPUT = Path(__file__).resolve().parents[3] / "docs" / "spec" / "vectors"

GENERATOR = "python -m bigfile_zk.reference._gen_vectors (pure-Python reference)"


def sha_element(label: str) -> int:
    """``int(sha256(label.encode()), big-endian) mod r``."""
    return int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % R


def hexes(values: list[int]) -> list[str]:
    return [to_hex(v) for v in values]


# --- poseidon ---------------------------------------------------------------------------


def poseidon_vectors() -> dict[str, Any]:
    random_rule = (
        'inputs[k] = int.from_bytes(sha256(f"bigfile_zk/vectors/poseidon/{n}/{k}"'
        '.encode()).digest(), "big") % r, k = 0..n-1'
    )
    hashes = []
    for n in range(MIN_INPUTS, MAX_INPUTS + 1):
        cases = {
            "sequential": list(range(1, n + 1)),
            "sha256": [sha_element(f"bigfile_zk/vectors/poseidon/{n}/{k}") for k in range(n)],
            "zeros": [0] * n,
            "max": [R - 1] * n,
        }
        for name, inputs in cases.items():
            hashes.append(
                {
                    "n_inputs": n,
                    "rule": name,
                    "inputs": hexes(inputs),
                    "output": to_hex(poseidon(inputs)),
                }
            )

    permutations = []
    t3_states = {
        "zeros": [0, 0, 0],
        "sequential": [0, 1, 2],
        "max": [R - 1] * 3,
        "sha256": [sha_element(f"bigfile_zk/vectors/permute/3/{k}") for k in range(3)],
    }
    for name, state in t3_states.items():
        permutations.append(
            {
                "t": 3,
                "rule": name,
                "state": hexes(state),
                "output": hexes(permute(state)),
            }
        )
    for t in range(MIN_WIDTH, MAX_WIDTH + 1):
        state = list(range(t))
        permutations.append(
            {
                "t": t,
                "rule": "sequential",
                "state": hexes(state),
                "output": hexes(permute(state)),
            }
        )

    return {
        "description": "circomlib Poseidon over BN254 (docs/spec/poseidon.md)",
        "generator": GENERATOR,
        "modulus": str(R),
        "rules": {
            "sequential": "inputs = [1, 2, ..., n] (permute: state = [0, 1, ..., t-1])",
            "sha256": random_rule + " (permute: label bigfile_zk/vectors/permute/{t}/{k})",
            "zeros": "inputs = [0] * n",
            "max": "inputs = [r - 1] * n",
        },
        "poseidon": hashes,
        "permute": permutations,
    }


# --- merkle -----------------------------------------------------------------------------

MERKLE_LEAF_RULE = (
    'leaves[i] = int.from_bytes(sha256(f"bigfile_zk/vectors/merkle/leaf/{i}".encode())'
    '.digest(), "big") % r'
)


def merkle_leaf(i: int) -> int:
    return sha_element(f"bigfile_zk/vectors/merkle/leaf/{i}")


def merkle_leaf_counts(arity: int) -> list[int]:
    """1, a few small counts, and every power ``a^k`` next to ``a^k + 1`` (depth steps)."""
    counts = {1, 2, 3, arity, arity + 1, arity**2, arity**2 + 1}
    if arity == 2:
        counts |= {5, 7, 8, 9}
    return sorted(counts)


def merkle_vectors() -> dict[str, Any]:
    cases = []
    for arity in ARITIES:
        for n in merkle_leaf_counts(arity):
            leaves = [merkle_leaf(i) for i in range(n)]
            tree = MerkleTree(leaves, arity)
            incremental = IncrementalMerkleTree(arity)
            incremental.extend(leaves)
            assert incremental.root() == tree.root
            proof = tree.proof(n - 1)
            assert proof.verify(tree.root)
            multi_indices = sorted({0, n // 2, n - 1})
            multi = tree.multi_proof(multi_indices)
            assert multi.verify(tree.root)
            cases.append(
                {
                    "arity": arity,
                    "num_leaves": n,
                    "depth": tree.depth,
                    "leaves": hexes(leaves),
                    "root": to_hex(tree.root),
                    "proof_index": n - 1,
                    "proof": proof.to_bytes().hex(),
                    "multi_proof_indices": multi_indices,
                    "multi_proof": multi.to_bytes().hex(),
                }
            )
    return {
        "description": "Poseidon Merkle trees (docs/spec/merkle.md); proofs are to_bytes() hex",
        "generator": GENERATOR,
        "leaf_rule": MERKLE_LEAF_RULE,
        "zero_hashes": {str(a): hexes(zero_hashes(a, 8)) for a in ARITIES},
        "cases": cases,
    }


# --- file commitments -------------------------------------------------------------------

FILE_RULE = "data = bytes((i * 7 + 3) % 256 for i in range(file_size))"

FILE_CASES: list[tuple[int, int, int]] = [
    *((size, DEFAULT_CHUNK_SIZE, DEFAULT_ARITY) for size in (1, 31, 62, 991, 992, 993, 1984, 5000)),
    (1000, 62, 4),  # 17 chunks: one more than 4^2, so depth 3
    (3000, 186, 8),  # 17 chunks at arity 8: depth 2
    (5000, 124, 16),  # 41 chunks at arity 16: depth 2
]


def file_data(size: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(size))


def file_commitment_vectors() -> dict[str, Any]:
    cases = []
    for size, chunk_size, arity in FILE_CASES:
        data = file_data(size)
        c = commit_bytes(data, chunk_size, arity)
        leaves = [
            leaf_hash(chunk_padded)
            for chunk_padded in (
                data[k : k + chunk_size].ljust(chunk_size, b"\0")
                for k in range(0, size, chunk_size)
            )
        ]
        last = c.num_chunks - 1
        opening = open_bytes(data, c, last)
        assert opening.verify(c)
        cases.append(
            {
                "file_size": size,
                "chunk_size": chunk_size,
                "arity": arity,
                "num_chunks": c.num_chunks,
                "depth": c.depth,
                "chunk0_elements": hexes(chunk_elements(data[:chunk_size], chunk_size)),
                "leaves": hexes(leaves),
                "root": to_hex(c.root),
                "meta": to_hex(c.meta),
                "commitment": to_hex(c.commitment),
                "to_bytes": c.to_bytes().hex(),
                "json": json.loads(c.to_json()),
                "opening_index": last,
                "opening_data_len": len(opening.data),
                "opening_proof": opening.proof.to_bytes().hex(),
            }
        )
    leaf_cases = [
        {"rule": "62 zero bytes", "leaf": to_hex(leaf_hash(bytes(62)))},
        {"rule": "992 zero bytes", "leaf": to_hex(leaf_hash(bytes(992)))},
        {"rule": "bytes(range(62))", "leaf": to_hex(leaf_hash(bytes(range(62))))},
    ]
    return {
        "description": "file commitments (docs/spec/file-commitment.md), spec_version 1",
        "generator": GENERATOR,
        "file_rule": FILE_RULE,
        "leaf_iv": to_hex(LEAF_IV),
        "leaf_hashes": leaf_cases,
        "cases": cases,
    }


def write(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "poseidon.json", poseidon_vectors())
    write(out / "merkle.json", merkle_vectors())
    write(out / "file_commitment.json", file_commitment_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
