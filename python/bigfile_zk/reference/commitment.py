"""File commitments: one field element binding a file's bytes, length and layout.

Follows ``docs/spec/file-commitment.md``: the file is cut into ``chunk_size``-byte chunks (the
last one zero-padded), each chunk is absorbed 31 bytes per element into a ``t = 3`` Poseidon
sponge with a domain-separating IV, the leaves form a Merkle tree, and the commitment hashes
the tree root together with ``meta`` (length, chunk size, arity, version). Binding the length
is what makes the zero padding of the last chunk (and of the tree) unambiguous.

This module works on in-memory ``bytes``; streaming over files is the Rust core's business.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from .field import R, check_element, check_int, from_bytes32, to_hex
from .merkle import (
    MerkleProof,
    MerkleTree,
    _json_element,
    _json_int,
    _json_version,
    _parse_json_object,
    check_arity,
    tree_depth,
)
from .poseidon import permute, poseidon

SPEC_VERSION: int = 1
SPEC_VERSIONS: tuple[int, ...] = (1,)
DEFAULT_CHUNK_SIZE: int = 992
DEFAULT_ARITY: int = 2

#: Bytes per field element: 31 bytes always fit below ``r`` (``2^248 < r``).
ELEMENT_DATA_BYTES: int = 31
#: One sponge block absorbs two elements (the rate of a ``t = 3`` permutation).
BLOCK_BYTES: int = 2 * ELEMENT_DATA_BYTES
MIN_CHUNK_SIZE: int = BLOCK_BYTES
MAX_CHUNK_SIZE: int = 65472  # 1056 blocks (the spec's bound; = 33 · 1984)
MAX_CHUNKS: int = 2**32

#: Capacity element of the leaf sponge; non-zero so that a leaf can never be mistaken for a
#: tree node (whose capacity element is 0).
LEAF_IV: int = int.from_bytes(b"bigfile_zk/leaf/v1", "big")
assert LEAF_IV == 0x62696766696C655F7A6B2F6C6561662F7631

MAGIC: bytes = b"BFFC"
JSON_TYPE: str = "bigfile_zk.FileCommitment"
ENCODED_SIZE: int = 84
# magic, spec_version, arity, reserved, chunk_size, file_size, root, commitment
_LAYOUT = struct.Struct(">4sBBHIQ32s32s")
assert _LAYOUT.size == ENCODED_SIZE


# --- parameters ---------------------------------------------------------------------


def check_chunk_size(chunk_size: object) -> int:
    """A chunk is a whole number of sponge blocks, between 1 and 1056 of them."""
    value = check_int(chunk_size, "chunk_size")
    if value % BLOCK_BYTES != 0 or not MIN_CHUNK_SIZE <= value <= MAX_CHUNK_SIZE:
        raise ValueError(
            f"chunk_size must be a multiple of {BLOCK_BYTES} in "
            f"{MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE}, got {value}"
        )
    return value


def check_spec_version(version: object) -> int:
    value = check_int(version, "spec_version")
    if value not in SPEC_VERSIONS:
        raise ValueError(f"spec_version must be one of {SPEC_VERSIONS}, got {value}")
    return value


def num_chunks_for(file_size: int, chunk_size: int) -> int:
    """``ceil(file_size / chunk_size)``, validating the size and the chunk-count limit."""
    size = check_int(file_size, "file_size")
    chunk = check_chunk_size(chunk_size)
    if size < 1:
        raise ValueError(f"file_size must be >= 1 (an empty file cannot be committed), got {size}")
    count = -(-size // chunk)
    if count > MAX_CHUNKS:
        raise ValueError(
            f"file_size {size} needs {count} chunks of {chunk} bytes, more than the limit of 2^32"
        )
    return count


def chunk_length(file_size: int, chunk_size: int, index: int) -> int:
    """Number of real (unpadded) bytes in chunk ``index``."""
    count = num_chunks_for(file_size, chunk_size)
    if not 0 <= index < count:
        raise IndexError(f"chunk index must be in 0..{count - 1}, got {index}")
    return min(chunk_size, file_size - index * chunk_size)


def meta(file_size: int, chunk_size: int, arity: int, version: int = SPEC_VERSION) -> int:
    """The layout word hashed with the root: ``size + chunk·2^64 + arity·2^96 + version·2^128``.

    The fields occupy disjoint bit ranges (``u64``, ``u32``, ``u32``, ``u8``), so distinct
    layouts give distinct values, all far below ``r``.
    """
    num_chunks_for(file_size, chunk_size)
    check_arity(arity)
    check_spec_version(version)
    return file_size + (chunk_size << 64) + (arity << 96) + (version << 128)


# --- leaves -------------------------------------------------------------------------


def chunk_elements(chunk: bytes, chunk_size: int) -> list[int]:
    """Zero-pad ``chunk`` to ``chunk_size`` bytes and read it as big-endian 31-byte elements."""
    size = check_chunk_size(chunk_size)
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise TypeError(f"chunk must be bytes, got {type(chunk).__name__}")
    raw = bytes(chunk)
    if len(raw) > size:
        raise ValueError(f"chunk has {len(raw)} bytes, more than chunk_size {size}")
    raw += bytes(size - len(raw))
    return [
        int.from_bytes(raw[k : k + ELEMENT_DATA_BYTES], "big")
        for k in range(0, size, ELEMENT_DATA_BYTES)
    ]


def leaf_hash(chunk_padded: bytes) -> int:
    """The leaf of a (padded) chunk: a ``t = 3`` sponge started at ``[LEAF_IV, 0, 0]``.

    Each permutation absorbs two elements by addition into the rate part; the leaf is the
    capacity element at the end. ``len(chunk_padded)`` is the chunk size.
    """
    if not isinstance(chunk_padded, (bytes, bytearray, memoryview)):
        raise TypeError(f"chunk must be bytes, got {type(chunk_padded).__name__}")
    return sponge(LEAF_IV, chunk_elements(chunk_padded, len(chunk_padded)))


def sponge(iv: int, elements: Sequence[int]) -> int:
    """The ``t = 3`` sponge of the leaves: the state starts at ``[iv, 0, 0]``, each permutation
    absorbs two elements (an even count) by addition into ``state[1]``, ``state[2]``; the result
    is ``state[0]`` at the end. Also the proof-of-compute output hash, with its own IV."""
    if len(elements) % 2:
        raise ValueError("the sponge absorbs an even number of elements")
    state = [iv, 0, 0]
    for j in range(0, len(elements), 2):
        state[1] = (state[1] + elements[j]) % R
        state[2] = (state[2] + elements[j + 1]) % R
        state = permute(state)
    return state[0]


def _pad(chunk: bytes, chunk_size: int) -> bytes:
    return bytes(chunk) + bytes(chunk_size - len(chunk))


def _leaves(data: bytes, chunk_size: int) -> list[int]:
    return [
        leaf_hash(_pad(data[k : k + chunk_size], chunk_size))
        for k in range(0, len(data), chunk_size)
    ]


def _check_data(data: object) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return bytes(data)


# --- the commitment -----------------------------------------------------------------


@dataclass(frozen=True)
class FileCommitment:
    """A validated file commitment and the layout it was made with.

    Construction checks that every field is allowed, that ``num_chunks`` and ``depth`` follow
    from ``file_size``, and that ``commitment == poseidon([root, meta])``; an instance is
    therefore always self-consistent. Use :meth:`from_root` to compute the derived fields.
    """

    commitment: int
    root: int
    file_size: int
    chunk_size: int
    arity: int
    spec_version: int
    num_chunks: int
    depth: int

    def __post_init__(self) -> None:
        check_element(self.commitment, "commitment")
        check_element(self.root, "root")
        check_arity(self.arity)
        check_spec_version(self.spec_version)
        count = num_chunks_for(self.file_size, self.chunk_size)
        if check_int(self.num_chunks, "num_chunks") != count:
            raise ValueError(
                f"num_chunks must be {count} for file_size {self.file_size} and chunk_size "
                f"{self.chunk_size}, got {self.num_chunks}"
            )
        depth = tree_depth(count, self.arity)
        if check_int(self.depth, "depth") != depth:
            raise ValueError(
                f"depth must be {depth} for {count} chunks and arity {self.arity}, got {self.depth}"
            )
        expected = poseidon([self.root, self.meta])
        if self.commitment != expected:
            raise ValueError(
                f"commitment {to_hex(self.commitment)} does not equal poseidon([root, meta]) "
                f"= {to_hex(expected)}"
            )

    @property
    def meta(self) -> int:
        return meta(self.file_size, self.chunk_size, self.arity, self.spec_version)

    @classmethod
    def from_root(
        cls,
        root: int,
        file_size: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        arity: int = DEFAULT_ARITY,
        spec_version: int = SPEC_VERSION,
    ) -> FileCommitment:
        """Derive the commitment, chunk count and depth from a tree root and the layout."""
        count = num_chunks_for(file_size, chunk_size)
        layout = meta(file_size, chunk_size, arity, spec_version)
        return cls(
            commitment=poseidon([check_element(root, "root"), layout]),
            root=root,
            file_size=file_size,
            chunk_size=chunk_size,
            arity=arity,
            spec_version=spec_version,
            num_chunks=count,
            depth=tree_depth(count, arity),
        )

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(
            MAGIC,
            self.spec_version,
            self.arity,
            0,
            self.chunk_size,
            self.file_size,
            self.root.to_bytes(32, "big"),
            self.commitment.to_bytes(32, "big"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> FileCommitment:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"FileCommitment must be decoded from bytes, got {type(data).__name__}")
        raw = bytes(data)
        if len(raw) != ENCODED_SIZE:
            raise ValueError(f"FileCommitment: must be {ENCODED_SIZE} bytes, got {len(raw)}")
        magic, version, arity, reserved, chunk_size, file_size, root, commitment = _LAYOUT.unpack(
            raw
        )
        if magic != MAGIC:
            raise ValueError(f"FileCommitment: bad magic {magic!r}, expected {MAGIC!r}")
        if reserved != 0:
            raise ValueError(f"FileCommitment: reserved field must be 0, got {reserved}")
        count = num_chunks_for(file_size, chunk_size)
        # The constructor checks the rest, including the commitment itself.
        return cls(
            commitment=from_bytes32(commitment, "FileCommitment: commitment"),
            root=from_bytes32(root, "FileCommitment: root"),
            file_size=file_size,
            chunk_size=chunk_size,
            arity=arity,
            spec_version=version,
            num_chunks=count,
            depth=tree_depth(count, arity),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "type": JSON_TYPE,
            "spec_version": self.spec_version,
            "commitment": to_hex(self.commitment),
            "root": to_hex(self.root),
            "file_size": self.file_size,
            "chunk_size": self.chunk_size,
            "arity": self.arity,
            "num_chunks": self.num_chunks,
            "depth": self.depth,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> FileCommitment:
        keys = {"type", "spec_version", "commitment", "root", "file_size", "chunk_size",
                "arity", "num_chunks", "depth"}  # fmt: skip
        obj = _parse_json_object(text, JSON_TYPE, keys)
        _json_version(obj, "spec_version", JSON_TYPE, SPEC_VERSIONS)
        ints = (
            "spec_version",
            "file_size",
            "chunk_size",
            "arity",
            "num_chunks",
            "depth",
        )
        # The constructor checks consistency, including the commitment itself.
        return cls(
            commitment=_json_element(obj["commitment"], f"{JSON_TYPE}: commitment"),
            root=_json_element(obj["root"], f"{JSON_TYPE}: root"),
            **{key: _json_int(obj[key], f"{JSON_TYPE}: {key}") for key in ints},
        )


def commit_bytes(
    data: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE, arity: int = DEFAULT_ARITY
) -> FileCommitment:
    """Commit to ``data`` held in memory."""
    raw = _check_data(data)
    check_chunk_size(chunk_size)
    check_arity(arity)
    num_chunks_for(len(raw), chunk_size)
    tree = MerkleTree(_leaves(raw, chunk_size), arity)
    return FileCommitment.from_root(tree.root, len(raw), chunk_size, arity)


# --- openings -----------------------------------------------------------------------


OPENING_JSON_TYPE = "bigfile_zk.ChunkOpening"


@dataclass(frozen=True)
class ChunkOpening:
    """Chunk ``index`` of a committed file (unpadded bytes) with its Merkle proof."""

    index: int
    data: bytes
    proof: MerkleProof

    def __post_init__(self) -> None:
        if check_int(self.index, "chunk index") < 0:
            raise ValueError(f"chunk index must be >= 0, got {self.index}")
        object.__setattr__(self, "data", _check_data(self.data))
        if not isinstance(self.proof, MerkleProof):
            raise TypeError(f"proof must be a MerkleProof, got {type(self.proof).__name__}")

    def to_json(self) -> str:
        """``{"type": "bigfile_zk.ChunkOpening", "version": 1, "index", "data", "proof"}``."""
        return json.dumps(
            {
                "type": OPENING_JSON_TYPE,
                "version": 1,
                "index": self.index,
                "data": "0x" + self.data.hex(),
                "proof": json.loads(self.proof.to_json()),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ChunkOpening:
        obj = _parse_json_object(
            text, OPENING_JSON_TYPE, {"type", "version", "index", "data", "proof"}
        )
        _json_version(obj, "version", OPENING_JSON_TYPE, (1,))
        index = _json_int(obj["index"], f"{OPENING_JSON_TYPE}: index")
        data = obj["data"]
        if not isinstance(data, str) or not data.startswith("0x") or len(data) % 2:
            raise ValueError(f"{OPENING_JSON_TYPE}: data must be 0x-prefixed hex bytes")
        try:
            raw = bytes.fromhex(data[2:])
        except ValueError:
            raise ValueError(f"{OPENING_JSON_TYPE}: data is not hex") from None
        if not isinstance(obj["proof"], dict):
            raise ValueError(f"{OPENING_JSON_TYPE}: proof must be a JSON object")
        proof = MerkleProof.from_json(json.dumps(obj["proof"]))
        if proof.index != index:
            raise ValueError(
                f"{OPENING_JSON_TYPE}: the proof is for index {proof.index}, not {index}"
            )
        return cls(index, raw, proof)

    def verify(self, commitment: FileCommitment) -> bool:
        """Whether this chunk is chunk ``index`` of the file ``commitment`` commits to.

        Every condition of the spec is checked, including that the data has exactly the
        length chunk ``index`` has for that ``file_size``: otherwise a short last chunk and the
        same chunk with explicit trailing zeros would both open.
        """
        if not isinstance(commitment, FileCommitment):
            raise TypeError(f"expected a FileCommitment, got {type(commitment).__name__}")
        c = commitment
        if not self.index < c.num_chunks:
            return False
        if len(self.data) != chunk_length(c.file_size, c.chunk_size, self.index):
            return False
        proof = self.proof
        if (proof.arity, proof.depth, proof.index) != (c.arity, c.depth, self.index):
            return False
        if leaf_hash(_pad(self.data, c.chunk_size)) != proof.leaf:
            return False
        if not proof.verify(c.root):
            return False
        return c.commitment == poseidon([c.root, c.meta])


def open_bytes(data: bytes, commitment: FileCommitment, index: int) -> ChunkOpening:
    """Open chunk ``index`` of ``data``, which must be the file ``commitment`` commits to."""
    raw = _check_data(data)
    if not isinstance(commitment, FileCommitment):
        raise TypeError(f"expected a FileCommitment, got {type(commitment).__name__}")
    i = check_int(index, "chunk index")
    if not 0 <= i < commitment.num_chunks:
        raise IndexError(f"chunk index must be in 0..{commitment.num_chunks - 1}, got {i}")
    if len(raw) != commitment.file_size:
        raise ValueError(
            f"data has {len(raw)} bytes but the commitment is for {commitment.file_size}"
        )
    tree = MerkleTree(_leaves(raw, commitment.chunk_size), commitment.arity)
    if tree.root != commitment.root:
        raise ValueError("data does not match the commitment (different Merkle root)")
    start = i * commitment.chunk_size
    return ChunkOpening(i, raw[start : start + commitment.chunk_size], tree.proof(i))
