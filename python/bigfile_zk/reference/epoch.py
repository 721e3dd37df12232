"""Epoch proof-of-storage, the slow obvious way (``docs/spec/proof-of-storage-epoch.md``).

Mirrors ``circuits/src/epoch.rs``: the catalogue (a depth-16 Poseidon tree of file
commitments and its commitment ``K``), the sampling of slots and chunks, and the relation the
circuit enforces, checked here on plain integers and bytes. Written from the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bigfile_zk.reference import storage
from bigfile_zk.reference.commitment import chunk_length, leaf_hash, num_chunks_for
from bigfile_zk.reference.field import R
from bigfile_zk.reference.merkle import hash_children, zero_hashes
from bigfile_zk.reference.poseidon import poseidon

CATALOGUE_DEPTH = 16
MAX_FILES = 2**CATALOGUE_DEPTH
PARAMETER_SETS = ((40, 1), (80, 1))  # (m files, k chunks each); the first is the default
SAMPLE_TAG = 2**64  # sample seeds hash 2^64 + j, never a slot group index g < 2^64


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_FILES:
        raise ValueError(f"a catalogue of {count} slots is outside 1..={MAX_FILES}")


def catalogue_levels(leaves: Sequence[int]) -> list[list[int]]:
    """Levels ``0..16`` of the depth-16 tree over ``leaves`` (slot ``i``'s commitment, ``0``
    when empty); positions past each level's end are all-zero subtrees ``Z_l``."""
    _check_count(len(leaves))
    if any(not 0 <= x < R for x in leaves):
        raise ValueError("a catalogue leaf is not a field element")
    zeros = zero_hashes(2, CATALOGUE_DEPTH)
    levels = [list(leaves)]
    for height in range(CATALOGUE_DEPTH):
        level = levels[-1] + [zeros[height]] * (len(levels[-1]) % 2)
        levels.append([hash_children(level[p : p + 2]) for p in range(0, len(level), 2)])
    return levels


def catalogue_root(leaves: Sequence[int]) -> int:
    return catalogue_levels(leaves)[-1][0]


def catalogue_commitment(tree_root: int, count: int) -> int:
    """``K = Poseidon(treeRoot, count)``."""
    _check_count(count)
    return poseidon([tree_root, count])


def catalogue_path(leaves: Sequence[int], slot: int) -> list[int]:
    """The 16 siblings of ``slot``'s path (``slot < count``), leaf level first."""
    if not 0 <= slot < len(leaves):
        raise ValueError(f"slot {slot} is not in a catalogue of {len(leaves)} slots")
    levels = catalogue_levels(leaves)
    zeros = zero_hashes(2, CATALOGUE_DEPTH)
    out = []
    for level in range(CATALOGUE_DEPTH):
        pos = (slot >> level) ^ 1
        nodes = levels[level]
        out.append(nodes[pos] if pos < len(nodes) else zeros[level])
    return out


def slots(seed: int, prover: int, m: int, count: int) -> list[int]:
    """Spec "Sampling": the single-file challenge derivation with ``count`` in place of the
    chunk count: limb ``i`` of ``Poseidon(Poseidon(s, p), g)`` mod ``count`` for sample
    ``j = 3g + i``."""
    _check_count(count)
    return storage.challenges(seed, prover, m, count)


def sample_seed(seed: int, prover: int, j: int) -> int:
    """``s_j = Poseidon(Poseidon(s, p), 2^64 + j)``."""
    return poseidon([poseidon([seed, prover]), SAMPLE_TAG + j])


def chunk_challenges(seed: int, prover: int, j: int, k: int, num_chunks: int) -> list[int]:
    """The ``k`` chunks of sample ``j``'s file: ``storage.challenges(s_j, p, k, L)``."""
    return storage.challenges(sample_seed(seed, prover, j), prover, k, num_chunks)


def provable(seed: int, prover: int, m: int, k: int) -> bool:
    """Whether every limb split is canonical (false with probability about ``2^-60``)."""
    return storage.challenges_provable(seed, prover, m) and all(
        storage.challenges_provable(sample_seed(seed, prover, j), prover, k) for j in range(m)
    )


@dataclass(frozen=True)
class File:
    """A sampled file: its tree root, size and the ``k`` challenged chunks' openings."""

    root: int
    size: int
    openings: Sequence[storage.Opening]


@dataclass(frozen=True)
class Sample:
    """The slot opened for sample ``j``, its leaf and catalogue path, and the file (``None``
    for an empty slot: the circuit then checks a dummy file instead)."""

    slot: int
    leaf: int
    path: Sequence[int]
    file: File | None


def _file_holds(seed: int, prover: int, j: int, k: int, f: File) -> bool:
    if not 1 <= f.size <= storage.MAX_CHUNKS * storage.CHUNK_SIZE or len(f.openings) != k:
        return False
    n = num_chunks_for(f.size, storage.CHUNK_SIZE)
    d = storage.depth(n)
    for index, opening in zip(chunk_challenges(seed, prover, j, k, n), f.openings, strict=True):
        if len(opening.data) != chunk_length(f.size, storage.CHUNK_SIZE, index):
            return False
        if len(opening.siblings) != d:
            return False
        node = leaf_hash(opening.data.ljust(storage.CHUNK_SIZE, b"\0"))
        for level, sibling in enumerate(opening.siblings):
            node = poseidon([sibling, node] if (index >> level) & 1 else [node, sibling])
        if node != f.root:
            return False
    return True


def relation_holds(
    m: int,
    k: int,
    statement: tuple[int, int, int],
    tree_root: int,
    count: int,
    samples: Sequence[Sample],
) -> bool:
    """What the circuit enforces, on plain values: ``K`` binds ``(treeRoot, count)``; sample
    ``j`` opens slot ``slots(...)[j] < count`` to ``treeRoot``; a non-zero leaf is the
    commitment of a file whose challenged chunks open to its root; a zero leaf (an empty slot,
    as the catalogue says) needs nothing more."""
    k_commitment, seed, prover = statement
    storage._check_statement(seed, prover)
    if not 1 <= count <= MAX_FILES or len(samples) != m:
        return False
    if catalogue_commitment(tree_root, count) != k_commitment or not provable(seed, prover, m, k):
        return False
    for j, (slot, sample) in enumerate(zip(slots(seed, prover, m, count), samples, strict=True)):
        if sample.slot != slot or len(sample.path) != CATALOGUE_DEPTH:
            return False
        node = sample.leaf
        for level, sibling in enumerate(sample.path):
            node = poseidon([sibling, node] if (slot >> level) & 1 else [node, sibling])
        if node != tree_root:
            return False
        if sample.leaf == 0:
            continue
        f = sample.file
        if f is None or storage.commitment(f.root, f.size) != sample.leaf:
            return False
        if not _file_holds(seed, prover, j, k, f):
            return False
    return True


def escape_probability(files: int, m: int, k: int, fraction: float, epochs: int = 1) -> float:
    """Spec "Security": the chance that a provider missing ``fraction`` of one file's chunks
    (``1.0``: the whole file) in a catalogue of ``files`` files answers every sample of
    ``epochs`` epochs with fresh seeds: each sample hits that file with probability
    ``1/files`` and then catches it with probability ``1 - (1 - f)^k``."""
    caught = (1 / files) * (1 - (1 - fraction) ** k)
    return float((1 - caught) ** (m * epochs))
