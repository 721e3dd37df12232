"""The native catalogue and update proofs (``docs/spec/storage-catalogue.md``).

The native tree and queue digest are cross-checked against the pure-Python reference; one
update is proved and verified, and forged statements, updates and encodings are refused.
"""

from __future__ import annotations

import functools
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bigfile_zk
from bigfile_zk import catalogue
from bigfile_zk._cache import insecure_test_srs
from bigfile_zk.catalogue import CatalogueTree, CatalogueUpdate
from bigfile_zk.epoch import Catalogue
from bigfile_zk.errors import (
    DecodeError,
    FieldElementError,
    InsecureSRSError,
    ParameterError,
)
from bigfile_zk.reference import catalogue as ref
from bigfile_zk.reference.field import R

element = st.integers(0, R - 1)


@given(st.lists(st.tuples(st.integers(0, 9), element), min_size=1, max_size=12))
def test_native_catalogue_matches_the_reference(ops: list[tuple[int, int]]) -> None:
    native, mirror, head, ref_head = CatalogueTree(), ref.Catalogue(), 0, 0
    for slot, value in ops:
        slot = min(slot, native.count)  # only existing slots or the next one
        native.set(slot, value)
        mirror.set(slot, value)
        head = catalogue.queue_next(head, slot, value)
        ref_head = ref.queue_next(ref_head, slot, value)
        assert (native.root, native.count) == (mirror.root, mirror.count)
    assert native.commitment == mirror.commitment() and head == ref_head
    assert native.siblings(0) == mirror.siblings(0)
    # Built in bulk from its values: the same catalogue.
    assert CatalogueTree(native.values()).commitment == native.commitment


def test_catalogue_refuses_bad_slots_and_values() -> None:
    cat = CatalogueTree([5, 6])
    with pytest.raises(ParameterError, match="slot 3"):
        cat.set(3, 1)  # beyond count
    with pytest.raises(FieldElementError):
        cat.set(0, R)
    with pytest.raises(ParameterError):
        CatalogueTree([1] * (catalogue.SLOTS + 1))
    with pytest.raises(ParameterError):
        cat.leaf(catalogue.SLOTS)


@functools.cache
def _srs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return insecure_test_srs(catalogue.srs_degree())


def _file(i: int) -> bigfile_zk.FileCommitment:
    return bigfile_zk.commit_bytes(bytes([i]) * (100 + i))


@functools.cache
def _update() -> tuple[CatalogueUpdate, Catalogue, Catalogue, int, int]:
    before = Catalogue([_file(1), _file(2), _file(3)])
    head = 0
    for i, c in enumerate(before.leaves):
        head = catalogue.queue_next(head, i, c)
    changes = [(3, _file(4)), (1, None), (4, _file(5))]
    update, after = catalogue.prove_update(before, head, changes, srs=_srs(), progress=False)
    new_head = head
    for slot, f in changes:
        new_head = catalogue.queue_next(new_head, slot, 0 if f is None else f.commitment)
    return update, before, after, head, new_head


def test_an_update_proves_and_verifies() -> None:
    update, before, after, head, new_head = _update()
    assert after.leaves == [_file(i).commitment if i != 2 else 0 for i in range(1, 6)]
    assert before.count == 3 and after.count == 5
    # The native tree of the catalogue after is the one the proof's K_new commits to.
    assert CatalogueTree(after.leaves).commitment == update.new == after.commitment
    ok = {"old": before.commitment, "old_head": head, "new": after.commitment}
    ok["new_head"] = new_head
    assert catalogue.verify_update(update, **ok, srs=_srs(), allow_insecure_srs=True)
    # JSON round trip; then every expected value changed: False.
    again = CatalogueUpdate.from_json(update.to_json())
    assert catalogue.verify_update(again, **ok, srs=_srs(), allow_insecure_srs=True)
    for name in ok:
        bad = dict(ok, **{name: (ok[name] + 1) % R})
        assert not catalogue.verify_update(update, **bad, srs=_srs(), allow_insecure_srs=True)
    # An update whose claimed statement is the expected one but whose proof is for another:
    # the proof bytes are checked against the caller's values.
    forged = CatalogueUpdate(ok["old"], head, (ok["new"] + 1) % R, new_head, update.proof)
    bad = dict(ok, new=forged.new)
    assert not catalogue.verify_update(forged, **bad, srs=_srs(), allow_insecure_srs=True)
    # The insecure SRS needs the opt-in; a value ≥ r is an error, not False.
    with pytest.raises(InsecureSRSError):
        catalogue.verify_update(update, **ok, srs=_srs())
    with pytest.raises(FieldElementError):
        catalogue.verify_update(update, **dict(ok, old=R), srs=_srs(), allow_insecure_srs=True)


def test_update_json_is_strict() -> None:
    update = _update()[0]
    text = update.to_json()
    for bad in [
        "",
        "{}",
        text.replace('"version": 1', '"version": 2'),
        text.replace('"proof": "0x', '"proof": "'),
        text.replace('"old": "0x', '"old": "0xzz'),
        text[: len(text) // 2],
    ]:
        with pytest.raises(DecodeError):
            CatalogueUpdate.from_json(bad)


def test_changes_the_registry_never_queues_are_refused_before_proving() -> None:
    cat = Catalogue([_file(1)])
    for bad, match in [
        ([(2, _file(2))], "next slot 1"),  # an add beyond the next slot
        ([(0, _file(2))], "next slot 1"),  # an overwrite
        ([(0, None), (0, None)], "already empty"),
        ([(5, None)], "slot 5"),
    ]:
        with pytest.raises(ParameterError, match=match):
            catalogue.prove_update(cat, 0, bad, srs=_srs(), progress=False)
    with pytest.raises(ParameterError, match="at most 24"):
        catalogue.prove_update(cat, 0, [(1, _file(2))] * 25, srs=_srs(), progress=False)
    with pytest.raises(TypeError):
        catalogue.prove_update(cat, 0, [(1, 5)], srs=_srs(), progress=False)  # type: ignore[list-item]
    # The native circuit refuses a write beyond count by itself too.
    tree = CatalogueTree([1])
    pk, _ = catalogue.update_keys(_srs())
    with pytest.raises(ParameterError, match="change 0"):
        bigfile_zk._native.catalogue_update_prove(pk, tree, 0, [(2, 5)])


def test_update_keys_are_cached_and_a_damaged_cache_is_replaced(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path))
    monkeypatch.setattr(catalogue, "_KEYS", {})
    _, vk = catalogue.update_keys(_srs())
    path = catalogue.key_path(_srs())
    assert path.is_file() and path.suffix == ".pkc"
    monkeypatch.setattr(catalogue, "_KEYS", {})
    _, again = catalogue.update_keys(_srs())  # from the file, checked against circuit and SRS
    assert again.digest() == vk.digest()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    monkeypatch.setattr(catalogue, "_KEYS", {})
    with pytest.warns(RuntimeWarning, match="ignoring the cached key"):
        _, rebuilt = catalogue.update_keys(_srs())
    assert rebuilt.digest() == vk.digest()
