"""Proof-of-storage, the slow obvious way (``docs/spec/proof-of-storage.md``).

Mirrors ``circuits/src/storage.rs``: the challenge derivation, the relation the circuit
enforces (checked here on plain integers and bytes), and verification of a storage proof with
the reference PLONK verifier. Written from the spec; every fast path is compared with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bigfile_zk.reference import plonk
from bigfile_zk.reference.commitment import chunk_length, leaf_hash, meta, num_chunks_for
from bigfile_zk.reference.field import R
from bigfile_zk.reference.poseidon import poseidon

CHUNK_SIZE = 992
ARITY = 2
MAX_DEPTH = 32
MAX_CHUNKS = 2**MAX_DEPTH
PARAMETER_SETS = (4, 16, 64)
R_TOP = R >> 192  # h = top·2^192 + x2·2^128 + x1·2^64 + x0 is unique when top < R_TOP


def _check_statement(seed: int, prover: int) -> None:
    if not 0 <= seed < R:
        raise ValueError("the seed is not a field element")
    if not 0 <= prover < 2**160:
        raise ValueError("the prover is not a 20-byte address")


def challenges(seed: int, prover: int, k: int, num_chunks: int) -> list[int]:
    """Spec §2: ``base = Poseidon(s, p)``; challenge ``j = 3g + i`` is limb ``i`` (64 bits,
    little end first) of ``Poseidon(base, g)``, reduced mod ``L``."""
    _check_statement(seed, prover)
    if not 1 <= num_chunks <= MAX_CHUNKS:
        raise ValueError(f"a file of {num_chunks} chunks is outside 1..={MAX_CHUNKS}")
    base = poseidon([seed, prover])
    out = []
    for j in range(k):
        h = poseidon([base, j // 3])
        limb = (h >> (64 * (j % 3))) % 2**64
        out.append(limb % num_chunks)
    return out


def challenges_provable(seed: int, prover: int, k: int) -> bool:
    """Whether every group's hash splits canonically (``top < R_TOP``); false with
    probability about ``k/3 · 2^-62``, in which case no proof exists for this seed."""
    base = poseidon([seed, prover])
    return all(poseidon([base, g]) >> 192 < R_TOP for g in range((k + 2) // 3))


def depth(num_chunks: int) -> int:
    """The least ``d`` with ``2^d >= L`` (``bit_length(L - 1)``)."""
    return (num_chunks - 1).bit_length()


def commitment(root: int, file_size: int) -> int:
    """``C = Poseidon(root, meta)`` for the default layout."""
    return poseidon([root, meta(file_size, CHUNK_SIZE, ARITY)])


@dataclass(frozen=True)
class Opening:
    """One challenged chunk: its bytes (unpadded) and its sibling path, leaf level first."""

    data: bytes
    siblings: Sequence[int]


def relation_holds(
    k: int,
    statement: tuple[int, int, int],
    root: int,
    file_size: int,
    openings: Sequence[Opening],
) -> bool:
    """What the circuit enforces, on plain values: the commitment binds ``root`` and
    ``file_size``; each challenged chunk hashes, along its path at the challenged index, to
    ``root``."""
    c, seed, prover = statement
    if len(openings) != k or not 1 <= file_size <= MAX_CHUNKS * CHUNK_SIZE:
        return False
    if commitment(root, file_size) != c:
        return False
    n = num_chunks_for(file_size, CHUNK_SIZE)
    d = depth(n)
    if not challenges_provable(seed, prover, k):
        return False
    for index, opening in zip(challenges(seed, prover, k, n), openings, strict=True):
        if len(opening.data) != chunk_length(file_size, CHUNK_SIZE, index):
            return False
        if len(opening.siblings) != d:
            return False
        node = leaf_hash(opening.data.ljust(CHUNK_SIZE, b"\0"))
        for level, sibling in enumerate(opening.siblings):
            bit = (index >> level) & 1
            node = poseidon([sibling, node] if bit else [node, sibling])
        if node != root:
            return False
    return True


def verify(
    vk: plonk.VerifyingKey, proof: bytes, *, commitment: int, seed: int, prover: int
) -> bool:
    """A storage proof (the EVM bytes ``verifyProof`` takes) for the **expected** statement
    ``(C, s, p)``: the verifier's commitment, the chain's seed for the file and epoch, the
    provider; checked by the reference PLONK verifier with public inputs in the contract's
    order ``[C, s, p]``. Mirrors ``bigfile_zk.storage.verify``: a malformed statement (a value
    that is not a field element, a prover of more than 20 bytes, a key without 3 public inputs)
    raises ``ValueError``; a wrong proof is ``False``. The native policy of refusing keys made
    with the insecure test SRS is not mirrored (the reference has no notion of it)."""
    if not 0 <= commitment < R:
        raise ValueError("the commitment is not a field element")
    _check_statement(seed, prover)
    if vk.num_public != 3:
        raise ValueError(f"not a storage key: it takes {vk.num_public} public inputs, not 3")
    return plonk.verify(vk, proof, [commitment, seed, prover])
