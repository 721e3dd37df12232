"""A storage provider's catalogue and its update relation, from ``docs/spec/storage-catalogue.md``.

Pure Python, written from the spec: the catalogue is the binary Poseidon Merkle tree of
``merkle.md`` over ``2^16`` slots (empty slots ``0``), committed as
``K = poseidon([root, count])``; the registry queues changes ``(slot, value)`` into the digest
``h' = poseidon([h, poseidon([slot, value])])``; an update proves that replaying queued changes
on the catalogue behind ``K_old`` gives ``K_new``. The tree is kept sparse (a dict per level),
so a catalogue costs memory for its non-empty slots only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .field import R
from .merkle import hash_children, zero_hashes
from .poseidon import poseidon

DEPTH = 16
SLOTS = 1 << DEPTH
OPS = 24

_ZERO = zero_hashes(2, DEPTH)  # _ZERO[l]: the root of an empty subtree of height l


def _check_element(x: int, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{what} must be an int, not {type(x).__name__}")
    if not 0 <= x < R:
        raise ValueError(f"{what} must be a field element (0 <= x < r), not {x}")
    return x


def op_digest(slot: int, value: int) -> int:
    """``poseidon([slot, value])``: one queued change."""
    return poseidon([slot, value])


def queue_next(head: int, slot: int, value: int) -> int:
    """The queue digest after the change ``(slot, value)``."""
    return poseidon([head, op_digest(slot, value)])


@dataclass
class Catalogue:
    """The tree (non-empty nodes only) and the number of slots in use."""

    count: int = 0
    _nodes: list[dict[int, int]] = field(default_factory=lambda: [{} for _ in range(DEPTH + 1)])

    def node(self, level: int, pos: int) -> int:
        return self._nodes[level].get(pos, _ZERO[level])

    @property
    def root(self) -> int:
        return self.node(DEPTH, 0)

    def commitment(self) -> int:
        """``K = poseidon([root, count])``."""
        return poseidon([self.root, self.count])

    def leaf(self, slot: int) -> int:
        if not 0 <= slot < SLOTS:
            raise IndexError(f"slot {slot} is outside [0, {SLOTS})")
        return self.node(0, slot)

    def siblings(self, slot: int) -> list[int]:
        if not 0 <= slot < SLOTS:
            raise IndexError(f"slot {slot} is outside [0, {SLOTS})")
        return [self.node(level, (slot >> level) ^ 1) for level in range(DEPTH)]

    def set(self, slot: int, value: int) -> None:
        """Write ``value`` at an existing slot or at slot ``count`` (which grows ``count``)."""
        _check_element(value, "value")
        if not 0 <= slot <= self.count or slot >= SLOTS:
            raise IndexError(f"slot {slot} is outside [0, {min(self.count + 1, SLOTS)})")
        self._nodes[0][slot] = value
        pos = slot
        for level in range(DEPTH):
            pair = [self.node(level, pos & ~1), self.node(level, pos | 1)]
            pos >>= 1
            self._nodes[level + 1][pos] = hash_children(pair)
        if slot == self.count:
            self.count += 1


def root_from_path(leaf: int, slot: int, siblings: Sequence[int]) -> int:
    """The root that ``leaf`` at ``slot`` with these siblings hashes up to (``merkle.md``)."""
    cur = leaf
    for level, sib in enumerate(siblings):
        bit = (slot >> level) & 1
        cur = hash_children([sib, cur] if bit else [cur, sib])
    return cur


@dataclass(frozen=True)
class Change:
    slot: int
    value: int
    old_leaf: int
    siblings: tuple[int, ...]


@dataclass(frozen=True)
class Statement:
    old: int
    old_head: int
    new: int
    new_head: int

    def public_inputs(self) -> list[int]:
        return [self.old, self.old_head, self.new, self.new_head]


def apply(
    catalogue: Catalogue, old_head: int, changes: Sequence[tuple[int, int]]
) -> tuple[Statement, int, int, list[Change], Catalogue]:
    """Replay ``changes`` on a copy of ``catalogue``: the statement, the old root and count,
    the changes with their witnesses, and the catalogue after."""
    if len(changes) > OPS:
        raise ValueError(f"{len(changes)} changes: one update applies at most {OPS}")
    after = Catalogue(catalogue.count, [dict(level) for level in catalogue._nodes])
    head = old_head
    applied = []
    for slot, value in changes:
        old_leaf, sibs = after.leaf(slot), tuple(after.siblings(slot))
        after.set(slot, value)
        head = queue_next(head, slot, value)
        applied.append(Change(slot, value, old_leaf, sibs))
    st = Statement(catalogue.commitment(), old_head, after.commitment(), head)
    return st, catalogue.root, catalogue.count, applied, after


def relation_holds(st: Statement, old_root: int, old_count: int, changes: Sequence[Change]) -> bool:
    """Whether the witness satisfies the update relation of the spec for statement ``st``."""
    if len(changes) > OPS or not 0 <= old_count <= SLOTS:
        return False
    if poseidon([old_root, old_count]) != st.old:
        return False
    root, count, head = old_root, old_count, st.old_head
    for ch in changes:
        if not (0 <= ch.slot < SLOTS and ch.slot <= count and len(ch.siblings) == DEPTH):
            return False
        if root_from_path(ch.old_leaf, ch.slot, ch.siblings) != root:
            return False
        root = root_from_path(ch.value, ch.slot, ch.siblings)
        count += ch.slot == count
        head = queue_next(head, ch.slot, ch.value)
    return poseidon([root, count]) == st.new and head == st.new_head
