"""Poseidon Merkle trees, inclusion proofs and their encodings (``docs/spec/merkle.md``).

A tree of arity ``a`` over ``n`` leaves has depth ``d = ceil(log_a n)`` and is conceptually
padded with zero leaves up to ``a^d``. Nodes are ``poseidon(children)`` (width ``t = a + 1``).
All-padding subtrees are never hashed one by one: their roots are the *zero hashes*
``Z_0 = 0, Z_{l+1} = poseidon([Z_l] * a)``.

Proof objects validate themselves on construction, so a ``MerkleProof`` in hand is always
well-formed and :meth:`MerkleProof.verify` only ever answers ``True`` or ``False``.
"""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .field import (
    ELEMENT_BYTES,
    check_element,
    check_elements,
    check_int,
    from_bytes32,
    from_hex,
    to_hex,
)
from .poseidon import poseidon

#: Supported tree arities (the permutation width is ``arity + 1``).
ARITIES: tuple[int, ...] = (2, 4, 8, 16)

#: Proofs address leaves with a ``u64`` index, so a tree may have at most ``2^64`` positions.
MAX_POSITIONS: int = 2**64

#: Version byte / JSON ``version`` of both proof encodings.
FORMAT_VERSION: int = 1

PROOF_MAGIC: bytes = b"BFMP"
MULTI_PROOF_MAGIC: bytes = b"BFMM"
PROOF_JSON_TYPE: str = "bigfile_zk.MerkleProof"
MULTI_PROOF_JSON_TYPE: str = "bigfile_zk.MerkleMultiProof"

_HEADER = struct.Struct(">4sBBBB")  # magic, version, arity, depth, reserved
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


# --- shape --------------------------------------------------------------------------


def check_arity(arity: object) -> int:
    """Return ``arity`` if it is one of :data:`ARITIES`."""
    value = check_int(arity, "Merkle arity")
    if value not in ARITIES:
        raise ValueError(f"Merkle arity must be one of {ARITIES}, got {value}")
    return value


def tree_depth(num_leaves: int, arity: int) -> int:
    """The least ``d >= 0`` with ``arity^d >= num_leaves`` (exact integer arithmetic)."""
    a = check_arity(arity)
    n = check_int(num_leaves, "number of leaves")
    if n < 1:
        raise ValueError(f"a Merkle tree needs at least one leaf, got {n}")
    depth, capacity = 0, 1
    while capacity < n:
        depth, capacity = depth + 1, capacity * a
    return depth


def max_depth(arity: int) -> int:
    """The largest depth whose positions still fit a ``u64`` index (``a^d <= 2^64``)."""
    a = check_arity(arity)
    depth = 0
    while a ** (depth + 1) <= MAX_POSITIONS:
        depth += 1
    return depth


def _check_depth(arity: int, depth: object) -> int:
    value = check_int(depth, "Merkle depth")
    if not 0 <= value <= max_depth(arity):
        raise ValueError(
            f"Merkle depth must be in 0..{max_depth(arity)} for arity {arity} "
            f"(a^d <= 2^64), got {value}"
        )
    return value


def hash_children(children: Sequence[int]) -> int:
    """An internal node: ``poseidon`` of its children in position order."""
    return poseidon(children)


_ZERO_HASHES: dict[int, list[int]] = {}


def zero_hashes(arity: int, depth: int) -> list[int]:
    """``[Z_0, ..., Z_depth]``: roots of all-padding subtrees of height ``0 .. depth``."""
    a = check_arity(arity)
    d = check_int(depth, "depth")
    if d < 0:
        raise ValueError(f"depth must be >= 0, got {d}")
    cache = _ZERO_HASHES.setdefault(a, [0])
    while len(cache) <= d:
        cache.append(hash_children([cache[-1]] * a))
    return cache[: d + 1]


def _check_index_iterable(indices: object) -> list[int]:
    if isinstance(indices, (str, bytes, bytearray, memoryview)) or not isinstance(
        indices, Iterable
    ):
        raise TypeError(f"indices must be an iterable of ints, got {type(indices).__name__}")
    return [check_int(i, "leaf index") for i in indices]


def _multi_proof_positions(arity: int, depth: int, indices: Sequence[int]) -> list[list[int]]:
    """Per level, the positions whose nodes a multi-proof for ``indices`` must carry.

    ``K_0`` is the index set; at each level the parents of the known positions are computed,
    and every child of such a parent that is not known has to be sent. Parents are then known
    at the next level. Both the prover and the decoder (to check the sibling count) use this,
    so they cannot disagree on the layout.
    """
    known = sorted(set(indices))
    levels: list[list[int]] = []
    for _ in range(depth):
        known_set = set(known)
        parents = sorted({p // arity for p in known})
        levels.append(
            [c for q in parents for c in range(arity * q, arity * q + arity) if c not in known_set]
        )
        known = parents
    return levels


# --- encoding helpers ---------------------------------------------------------------


class _Reader:
    """Sequential big-endian reader that turns truncation into a ``ValueError``."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"{what} must be decoded from bytes, got {type(data).__name__}")
        self.data = bytes(data)
        self.offset = 0
        self.what = what

    def take(self, size: int) -> bytes:
        end = self.offset + size
        if end > len(self.data):
            raise ValueError(
                f"{self.what}: truncated, needs {size} bytes at offset {self.offset}, "
                f"{len(self.data)} bytes in total"
            )
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self.take(8))[0])

    def element(self, what: str) -> int:
        return from_bytes32(self.take(ELEMENT_BYTES), f"{self.what}: {what}")

    def remaining(self) -> int:
        return len(self.data) - self.offset


def _read_header(reader: _Reader, magic: bytes) -> tuple[int, int]:
    """Check magic, version and reserved byte; return ``(arity, depth)``."""
    got_magic, version, arity, depth, reserved = _HEADER.unpack(reader.take(_HEADER.size))
    if got_magic != magic:
        raise ValueError(f"{reader.what}: bad magic {got_magic!r}, expected {magic!r}")
    if version != FORMAT_VERSION:
        raise ValueError(f"{reader.what}: unsupported version {version}")
    if arity not in ARITIES:
        raise ValueError(f"{reader.what}: unsupported arity {arity}")
    if depth > max_depth(arity):
        raise ValueError(f"{reader.what}: depth {depth} too large for arity {arity}")
    if reserved != 0:
        raise ValueError(f"{reader.what}: reserved byte must be 0, got {reserved}")
    return arity, depth


def _parse_json_object(text: object, json_type: str, keys: set[str]) -> dict[str, Any]:
    """Parse ``text`` into a dict with exactly ``keys`` and ``"type": json_type``.

    Unknown keys are refused as well as missing ones: an encoding that carries fields this
    version does not understand is not one it can vouch for. Every defect of the *content*
    is a ``ValueError`` (including a wrongly typed value), only a non-text argument is a
    ``TypeError``.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"{json_type} JSON must be str, got {type(text).__name__}")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{json_type}: malformed JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise ValueError(f"{json_type}: not a JSON object: {text!r:.80}")
    missing, extra = keys - obj.keys(), obj.keys() - keys
    if missing:
        raise ValueError(f"{json_type}: missing keys {sorted(missing)}")
    if extra:
        raise ValueError(f"{json_type}: unknown keys {sorted(extra)}")
    if obj["type"] != json_type:
        raise ValueError(f"{json_type}: wrong type {obj['type']!r}")
    return obj


def _json_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return value


def _json_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, got {value!r:.80}")
    return value


def _json_element(value: object, what: str) -> int:
    """A hex field element; a number or ``null`` in its place is malformed, not a type error."""
    try:
        return from_hex(value, what)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def _json_version(obj: dict[str, Any], key: str, json_type: str, allowed: Sequence[int]) -> int:
    version = _json_int(obj[key], f"{json_type}: {key}")
    if version not in allowed:
        raise ValueError(f"{json_type}: unsupported {key} {version}")
    return version


# --- single-leaf proof --------------------------------------------------------------


@dataclass(frozen=True)
class MerkleProof:
    """Inclusion proof of ``leaf`` at position ``index``.

    ``siblings[l]`` holds the ``arity - 1`` other children of the level-``l + 1`` node on the
    path, in position order; the depth is ``len(siblings)``.
    """

    arity: int
    index: int
    leaf: int
    siblings: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        arity = check_arity(self.arity)
        if isinstance(self.siblings, (str, bytes, bytearray)) or not isinstance(
            self.siblings, Iterable
        ):
            raise TypeError("siblings must be a sequence of sequences of field elements")
        levels = []
        for level, group in enumerate(self.siblings):
            values = tuple(check_elements(group, f"sibling at level {level}"))
            if len(values) != arity - 1:
                raise ValueError(
                    f"level {level} must have {arity - 1} siblings for arity {arity}, "
                    f"got {len(values)}"
                )
            levels.append(values)
        depth = _check_depth(arity, len(levels))
        index = check_int(self.index, "leaf index")
        if not 0 <= index < arity**depth:
            raise ValueError(f"leaf index must be in 0..{arity**depth - 1}, got {index}")
        object.__setattr__(self, "siblings", tuple(levels))
        object.__setattr__(self, "leaf", check_element(self.leaf, "leaf"))

    @property
    def depth(self) -> int:
        return len(self.siblings)

    def compute_root(self) -> int:
        """Fold the path: at level ``l`` the running node sits at ``(index // a^l) mod a``."""
        node, position = self.leaf, self.index
        for group in self.siblings:
            slot = position % self.arity
            node = hash_children([*group[:slot], node, *group[slot:]])
            position //= self.arity
        return node

    def verify(self, root: int, *, depth: int | None = None) -> bool:
        """Whether the proof leads to ``root`` (and, given ``depth``, is for a tree that deep).

        Without ``depth`` an inner node passes as the leaf of a shorter proof to the same root;
        see docs/spec/merkle.md. A non-canonical ``root`` is a caller error.
        """
        if depth is not None and depth != self.depth:
            return False
        return self.compute_root() == check_element(root, "Merkle root")

    def to_bytes(self) -> bytes:
        out = [
            _HEADER.pack(PROOF_MAGIC, FORMAT_VERSION, self.arity, self.depth, 0),
            _U64.pack(self.index),
            self.leaf.to_bytes(ELEMENT_BYTES, "big"),
        ]
        out.extend(s.to_bytes(ELEMENT_BYTES, "big") for group in self.siblings for s in group)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> MerkleProof:
        reader = _Reader(data, "MerkleProof")
        arity, depth = _read_header(reader, PROOF_MAGIC)
        index = reader.u64()
        if index >= arity**depth:
            raise ValueError(
                f"MerkleProof: leaf index {index} out of range for arity {arity}, depth {depth}"
            )
        expected = 48 + ELEMENT_BYTES * depth * (arity - 1)
        if len(reader.data) != expected:
            raise ValueError(
                f"MerkleProof: length must be {expected} for arity {arity}, depth {depth}, "
                f"got {len(reader.data)}"
            )
        leaf = reader.element("leaf")
        siblings = [
            tuple(reader.element(f"sibling {level}.{k}") for k in range(arity - 1))
            for level in range(depth)
        ]
        return cls(arity, index, leaf, tuple(siblings))

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": PROOF_JSON_TYPE,
                "version": FORMAT_VERSION,
                "arity": self.arity,
                "depth": self.depth,
                "index": self.index,
                "leaf": to_hex(self.leaf),
                "siblings": [[to_hex(s) for s in group] for group in self.siblings],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> MerkleProof:
        what = PROOF_JSON_TYPE
        keys = {"type", "version", "arity", "depth", "index", "leaf", "siblings"}
        obj = _parse_json_object(text, what, keys)
        _json_version(obj, "version", what, (FORMAT_VERSION,))
        depth = _json_int(obj["depth"], f"{what}: depth")
        groups = _json_list(obj["siblings"], f"{what}: siblings")
        if len(groups) != depth:
            raise ValueError(f"{what}: depth is {depth} but siblings has {len(groups)} levels")
        siblings = tuple(
            tuple(
                _json_element(s, f"{what}: sibling {level}.{k}")
                for k, s in enumerate(_json_list(group, f"{what}: siblings[{level}]"))
            )
            for level, group in enumerate(groups)
        )
        # The constructor checks the rest: arity, sibling counts, index range.
        return cls(
            arity=_json_int(obj["arity"], f"{what}: arity"),
            index=_json_int(obj["index"], f"{what}: index"),
            leaf=_json_element(obj["leaf"], f"{what}: leaf"),
            siblings=siblings,
        )


# --- multi-leaf proof ---------------------------------------------------------------


@dataclass(frozen=True)
class MerkleMultiProof:
    """Inclusion proof for several leaves that sends every shared sibling only once.

    ``siblings`` is the flat list of nodes the verifier cannot compute, level by level, in
    the order :func:`_multi_proof_positions` defines.
    """

    arity: int
    depth: int
    indices: tuple[int, ...]
    leaves: tuple[int, ...]
    siblings: tuple[int, ...]

    def __post_init__(self) -> None:
        arity = check_arity(self.arity)
        depth = _check_depth(arity, self.depth)
        indices = tuple(_check_index_iterable(self.indices))
        if not indices:
            raise ValueError("a multi-proof needs at least one index")
        for previous, current in itertools.pairwise(indices):
            if current <= previous:
                raise ValueError(
                    f"multi-proof indices must be strictly increasing, got {current} "
                    f"after {previous}"
                )
        if indices[0] < 0 or indices[-1] >= arity**depth:
            bad = indices[0] if indices[0] < 0 else indices[-1]
            raise ValueError(f"leaf index must be in 0..{arity**depth - 1}, got {bad}")
        leaves = tuple(check_elements(self.leaves, "leaf"))
        if len(leaves) != len(indices):
            raise ValueError(f"{len(indices)} indices but {len(leaves)} leaves")
        siblings = tuple(check_elements(self.siblings, "sibling"))
        expected = sum(map(len, _multi_proof_positions(arity, depth, indices)))
        if len(siblings) != expected:
            raise ValueError(f"these indices need exactly {expected} siblings, got {len(siblings)}")
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "leaves", leaves)
        object.__setattr__(self, "siblings", siblings)

    def compute_root(self) -> int:
        known = dict(zip(self.indices, self.leaves, strict=True))
        supplied = iter(self.siblings)
        a = self.arity
        for _ in range(self.depth):
            parents = sorted({p // a for p in known})
            known = {
                q: hash_children(
                    [known[c] if c in known else next(supplied) for c in range(a * q, a * q + a)]
                )
                for q in parents
            }
        return known[0]

    def verify(self, root: int, *, depth: int | None = None) -> bool:
        """Whether all leaves are included under ``root`` (in a tree of ``depth``, if given)."""
        if depth is not None and depth != self.depth:
            return False
        return self.compute_root() == check_element(root, "Merkle root")

    def to_bytes(self) -> bytes:
        out = [
            _HEADER.pack(MULTI_PROOF_MAGIC, FORMAT_VERSION, self.arity, self.depth, 0),
            _U32.pack(len(self.indices)),
        ]
        out.extend(_U64.pack(i) for i in self.indices)
        out.extend(x.to_bytes(ELEMENT_BYTES, "big") for x in self.leaves)
        out.append(_U32.pack(len(self.siblings)))
        out.extend(x.to_bytes(ELEMENT_BYTES, "big") for x in self.siblings)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> MerkleMultiProof:
        reader = _Reader(data, "MerkleMultiProof")
        arity, depth = _read_header(reader, MULTI_PROOF_MAGIC)
        count = reader.u32()
        if count == 0:
            raise ValueError("MerkleMultiProof: no indices")
        # Check the size before reading, so a forged count cannot make us loop for long.
        if reader.remaining() < count * (8 + ELEMENT_BYTES) + 4:
            raise ValueError(f"MerkleMultiProof: truncated, {count} indices announced")
        indices = tuple(reader.u64() for _ in range(count))
        leaves = tuple(reader.element(f"leaf {k}") for k in range(count))
        n_siblings = reader.u32()
        if reader.remaining() != n_siblings * ELEMENT_BYTES:
            raise ValueError(
                f"MerkleMultiProof: {n_siblings} siblings announced but "
                f"{reader.remaining()} bytes remain"
            )
        siblings = tuple(reader.element(f"sibling {k}") for k in range(n_siblings))
        return cls(arity, depth, indices, leaves, siblings)

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": MULTI_PROOF_JSON_TYPE,
                "version": FORMAT_VERSION,
                "arity": self.arity,
                "depth": self.depth,
                "indices": list(self.indices),
                "leaves": [to_hex(x) for x in self.leaves],
                "siblings": [to_hex(x) for x in self.siblings],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> MerkleMultiProof:
        what = MULTI_PROOF_JSON_TYPE
        keys = {"type", "version", "arity", "depth", "indices", "leaves", "siblings"}
        obj = _parse_json_object(text, what, keys)
        _json_version(obj, "version", what, (FORMAT_VERSION,))
        indices = _json_list(obj["indices"], f"{what}: indices")
        leaves = _json_list(obj["leaves"], f"{what}: leaves")
        siblings = _json_list(obj["siblings"], f"{what}: siblings")
        # The constructor checks the rest: ordering, counts, ranges.
        return cls(
            arity=_json_int(obj["arity"], f"{what}: arity"),
            depth=_json_int(obj["depth"], f"{what}: depth"),
            indices=tuple(_json_int(i, f"{what}: indices[{k}]") for k, i in enumerate(indices)),
            leaves=tuple(_json_element(x, f"{what}: leaf {k}") for k, x in enumerate(leaves)),
            siblings=tuple(
                _json_element(x, f"{what}: sibling {k}") for k, x in enumerate(siblings)
            ),
        )


# --- trees --------------------------------------------------------------------------


class MerkleTree:
    """A complete in-memory tree: every real node is stored, padding comes from zero hashes.

    ``levels[l]`` holds the ``ceil(n / a^l)`` nodes of level ``l`` that have at least one real
    leaf below them; positions past the end of a level are all-padding subtrees (``Z_l``).
    """

    def __init__(self, leaves: Iterable[int], arity: int = 2) -> None:
        self.arity = check_arity(arity)
        if isinstance(leaves, (str, bytes, bytearray, memoryview)) or not isinstance(
            leaves, Iterable
        ):
            raise TypeError(f"leaves must be an iterable of ints, got {type(leaves).__name__}")
        level = check_elements(list(leaves), "leaf")
        if not level:
            raise ValueError("a Merkle tree needs at least one leaf, got 0")
        self._depth = tree_depth(len(level), self.arity)
        self._zeros = zero_hashes(self.arity, self._depth)
        self._levels: list[list[int]] = [level]
        for height in range(self._depth):
            padded = level + [self._zeros[height]] * (-len(level) % self.arity)
            level = [
                hash_children(padded[p : p + self.arity]) for p in range(0, len(padded), self.arity)
            ]
            self._levels.append(level)

    @property
    def root(self) -> int:
        return self._levels[-1][0]

    @property
    def depth(self) -> int:
        return self._depth

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def leaves(self) -> tuple[int, ...]:
        return tuple(self._levels[0])

    def node(self, level: int, position: int) -> int:
        """The node at ``(level, position)``, padding included (``0 <= position < a^(d-l)``)."""
        nodes = self._levels[level]
        return nodes[position] if position < len(nodes) else self._zeros[level]

    def _check_index(self, index: object) -> int:
        i = check_int(index, "leaf index")
        if not 0 <= i < len(self):
            raise IndexError(f"leaf index must be in 0..{len(self) - 1}, got {i}")
        return i

    def proof(self, index: int) -> MerkleProof:
        """Inclusion proof for real leaf ``index`` (padding positions are refused)."""
        i = self._check_index(index)
        siblings = []
        for level in range(self.depth):
            position = i // self.arity**level
            first = position - position % self.arity
            siblings.append(
                tuple(
                    self.node(level, p) for p in range(first, first + self.arity) if p != position
                )
            )
        return MerkleProof(self.arity, i, self.node(0, i), tuple(siblings))

    def multi_proof(self, indices: Iterable[int]) -> MerkleMultiProof:
        """Shared-sibling proof for a set of real leaves (order and repeats are ignored)."""
        chosen = sorted({self._check_index(i) for i in _check_index_iterable(indices)})
        if not chosen:
            raise ValueError("a multi-proof needs at least one index")
        positions = _multi_proof_positions(self.arity, self.depth, chosen)
        siblings = tuple(self.node(level, p) for level, row in enumerate(positions) for p in row)
        leaves = tuple(self.node(0, i) for i in chosen)
        return MerkleMultiProof(self.arity, self.depth, tuple(chosen), leaves, siblings)


class IncrementalMerkleTree:
    """Append-only tree whose root and proofs always equal :class:`MerkleTree`'s.

    ``_complete[l]`` holds the level-``l`` nodes whose whole subtree is filled with appended
    leaves (level 0: every leaf). When a level gains a full group of ``a`` nodes their parent is
    hashed and stored, so ``append`` costs ``1/(a - 1)`` hashes amortised. The nodes on the
    right edge whose subtree is still partly empty are recomputed on demand from the complete
    ones and the zero hashes: ``O(d · a)`` work per :meth:`root` / :meth:`proof`.
    """

    def __init__(self, arity: int = 2) -> None:
        self.arity = check_arity(arity)
        self._complete: list[list[int]] = [[]]

    def __len__(self) -> int:
        return len(self._complete[0])

    def append(self, leaf: int) -> None:
        node = check_element(leaf, "leaf")
        level = 0
        while True:
            nodes = self._complete[level]
            nodes.append(node)
            if len(nodes) % self.arity != 0:
                return
            node = hash_children(nodes[-self.arity :])
            level += 1
            if level == len(self._complete):
                self._complete.append([])

    def extend(self, leaves: Iterable[int]) -> None:
        for leaf in leaves:
            self.append(leaf)

    @property
    def depth(self) -> int:
        return tree_depth(len(self), self.arity)

    def _right_edge(self) -> list[int | None]:
        """Per level ``0..d``, the incomplete right-edge node (``None`` if the level has none).

        The incomplete node at level ``l + 1`` sits right after the complete ones; its children
        are the trailing complete nodes of level ``l`` that do not yet fill a group, then the
        incomplete node of level ``l`` (if any), then padding.
        """
        depth = self.depth
        edge: list[int | None] = [None]
        zeros = zero_hashes(self.arity, depth)
        for level in range(depth):
            nodes = self._complete[level] if level < len(self._complete) else []
            tail = nodes[len(nodes) - len(nodes) % self.arity :]
            carry = edge[level]
            if not tail and carry is None:
                edge.append(None)
                continue
            children = tail + ([carry] if carry is not None else [])
            children += [zeros[level]] * (self.arity - len(children))
            edge.append(hash_children(children))
        return edge

    def root(self) -> int:
        if not len(self):
            raise ValueError("an empty tree has no root (a Merkle tree needs at least one leaf)")
        depth = self.depth
        top = self._right_edge()[depth]
        return top if top is not None else self._complete[depth][0]

    def proof(self, index: int) -> MerkleProof:
        i = check_int(index, "leaf index")
        if not 0 <= i < len(self):
            raise IndexError(f"leaf index must be in 0..{len(self) - 1}, got {i}")
        depth = self.depth
        edge = self._right_edge()
        zeros = zero_hashes(self.arity, depth)

        def node(level: int, position: int) -> int:
            nodes = self._complete[level]
            if position < len(nodes):
                return nodes[position]
            carry = edge[level]
            if position == len(nodes) and carry is not None:
                return carry
            return zeros[level]

        siblings = []
        for level in range(depth):
            position = i // self.arity**level
            first = position - position % self.arity
            siblings.append(
                tuple(node(level, p) for p in range(first, first + self.arity) if p != position)
            )
        return MerkleProof(self.arity, i, self._complete[0][i], tuple(siblings))
