"""bigfile_zk: the proving layer of BigFile.

Poseidon hashing, Merkle trees and streaming file commitments over the BN254 scalar field, with
a Rust core (``bigfile_zk._native``) and a pure-Python reference (``bigfile_zk.reference``)
that every fast path is tested against. Specs: ``docs/spec/``.

Field elements are Python ints in ``[0, r)`` (:data:`MODULUS`); batch APIs take ``uint64``
arrays with a trailing axis of 4 little-endian limbs (see :mod:`bigfile_zk.field`).
"""

from __future__ import annotations

from bigfile_zk import batch, catalogue, compute, epoch, errors, field, kzg, msm, plonk, storage
from bigfile_zk._api import (
    commit_bytes,
    commit_file,
    leaf_hash,
    open_file,
    poseidon,
    poseidon_batch,
    poseidon_permute,
)
from bigfile_zk._native import (
    DEFAULT_ARITY,
    DEFAULT_CHUNK_SIZE,
    LEAF_IV,
    MAX_CHUNKS,
    MODULUS,
    SPEC_VERSION,
    SRS,
    ChunkOpening,
    FileCommitment,
    IncrementalMerkleTree,
    MerkleMultiProof,
    MerkleProof,
    MerkleTree,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ARITY",
    "DEFAULT_CHUNK_SIZE",
    "LEAF_IV",
    "MAX_CHUNKS",
    "MODULUS",
    "SPEC_VERSION",
    "SRS",
    "ChunkOpening",
    "FileCommitment",
    "IncrementalMerkleTree",
    "MerkleMultiProof",
    "MerkleProof",
    "MerkleTree",
    "__version__",
    "batch",
    "catalogue",
    "commit_bytes",
    "commit_file",
    "compute",
    "epoch",
    "errors",
    "field",
    "kzg",
    "leaf_hash",
    "msm",
    "open_file",
    "plonk",
    "poseidon",
    "poseidon_batch",
    "poseidon_permute",
    "storage",
]
