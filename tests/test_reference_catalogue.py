"""The pure-Python catalogue reference (``docs/spec/storage-catalogue.md``).

The Rust circuit reproduces the vectors (``circuits/tests/catalogue.rs``); here the reference
is checked against the reference Merkle tree, the vectors are checked current, and the update
relation is shown to refuse forged witnesses and statements.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bigfile_zk.reference import catalogue as cat
from bigfile_zk.reference.field import R
from bigfile_zk.reference.merkle import MerkleTree, zero_hashes
from bigfile_zk.reference.poseidon import poseidon

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "catalogue.json"


def test_vectors_are_current() -> None:
    from bigfile_zk.reference import _gen_catalogue_vectors as gen

    assert json.loads(VECTORS.read_text()) == gen.catalogue_vectors(), (
        "run: PYTHONPATH=python python -m bigfile_zk.reference._gen_catalogue_vectors"
    )


def test_tree_matches_the_merkle_reference_on_a_small_prefix() -> None:
    # The full tree has 2^16 leaves; the sparse catalogue must give merkle.md's root for it.
    c = cat.Catalogue()
    values = [poseidon([i, 7]) for i in range(5)]
    for i, v in enumerate(values):
        c.set(i, v)
    c.set(2, 0)
    values[2] = 0
    # merkle.md's tree of the 8 first slots, then 13 levels with an all-empty right sibling:
    # the root of the 2^16-slot tree (the whole tree would take 65k pure-Python hashes).
    tree = MerkleTree(values + [0] * 3, 2)
    root, zero = tree.root, zero_hashes(2, cat.DEPTH)
    for level in range(3, cat.DEPTH):
        root = poseidon([root, zero[level]])
    assert c.root == root
    assert c.commitment() == poseidon([root, 5])
    assert c.siblings(3) == [s[0] for s in tree.proof(3).siblings] + zero[3 : cat.DEPTH]
    with pytest.raises(IndexError):
        c.set(6, 1)  # beyond count
    with pytest.raises(ValueError):
        c.set(1, R)


# Few changes per example: each costs ≈ 70 pure-Python hashes per relation check.
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), min_size=1, max_size=4))
def test_honest_updates_hold_and_forgeries_do_not(ops: list[tuple[int, int]]) -> None:
    base = cat.Catalogue()
    for i in range(3):
        base.set(i, poseidon([i]))
    changes = []
    count = base.count
    for slot, v in ops:  # keep slots valid: ≤ count
        slot = min(slot, count)
        changes.append((slot, poseidon([slot, v]) if v else 0))
        count += slot == count
    s, root, n, applied, after = cat.apply(base, 0, changes)
    assert cat.relation_holds(s, root, n, applied)
    assert s.new == after.commitment() and after.count == count
    bad_statements = [
        replace(s, new=(s.new + 1) % R),
        replace(s, old=(s.old + 1) % R),
        replace(s, old_head=(s.old_head + 1) % R),
        replace(s, new_head=(s.new_head + 1) % R),
    ]
    for bad in bad_statements:
        assert not cat.relation_holds(bad, root, n, applied)
    # A change dropped, altered, or with a wrong old leaf or sibling.
    assert not cat.relation_holds(s, root, n, applied[:-1])
    last = applied[-1]
    for forged in [
        replace(last, value=(last.value + 1) % R),
        replace(last, old_leaf=(last.old_leaf + 1) % R),
        replace(last, siblings=((last.siblings[0] + 1) % R, *last.siblings[1:])),
    ]:
        assert not cat.relation_holds(s, root, n, [*applied[:-1], forged])
    assert not cat.relation_holds(s, root, n + 1, applied)


def test_a_slot_beyond_count_is_not_an_update() -> None:
    base = cat.Catalogue()
    base.set(0, 11)
    s, root, n, applied, _ = cat.apply(base, 0, [(1, 12)])
    far = replace(applied[0], slot=2, siblings=tuple(base.siblings(2)))
    assert not cat.relation_holds(s, root, n, [far])
    with pytest.raises(ValueError):
        cat.apply(base, 0, [(1, 1)] * (cat.OPS + 1))
