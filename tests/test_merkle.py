"""Native (Rust) Merkle trees, proofs and their encodings against the reference and the spec."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ARITIES, VECTORS, R, arities, leaf_sets, sha_leaves

import bigfile_zk as bz
from bigfile_zk.errors import (
    BigFileZkError,
    DecodeError,
    FieldElementError,
    IndexOutOfRangeError,
    ParameterError,
)
from bigfile_zk.field import from_limbs, to_limbs
from bigfile_zk.reference import merkle as ref

MAX_DEPTH = {2: 64, 4: 32, 8: 21, 16: 16}


def spec_root(leaves: list[int], arity: int) -> tuple[int, int]:
    """``(root, depth)`` by the definition in merkle.md, hashing each level with the native
    ``poseidon_batch`` (cross-checked in test_poseidon.py): an independent path for trees too
    big for the reference."""
    depth = 0
    while arity**depth < len(leaves):
        depth += 1
    level, zero = list(leaves), 0
    for _ in range(depth):
        level += [zero] * (-len(level) % arity)
        level = bz.poseidon_batch([level[p : p + arity] for p in range(0, len(level), arity)])
        zero = bz.poseidon([zero] * arity)
    return level[0], depth


@functools.cache
def cached_pair(n: int, arity: int) -> tuple[bz.MerkleTree, ref.MerkleTree]:
    leaves = sha_leaves(n, f"merkle/{arity}")
    return bz.MerkleTree(leaves, arity), ref.MerkleTree(leaves, arity)


def check_proof_matches(native: bz.MerkleProof, reference: ref.MerkleProof, root: int) -> None:
    """Byte-identical encodings, JSON that each side decodes into the other's proof."""
    data = native.to_bytes()
    assert data == reference.to_bytes()
    assert json.loads(native.to_json()) == json.loads(reference.to_json())
    assert ref.MerkleProof.from_bytes(data) == reference
    assert ref.MerkleProof.from_json(native.to_json()) == reference
    assert bz.MerkleProof.from_bytes(reference.to_bytes()) == native
    assert bz.MerkleProof.from_json(reference.to_json()) == native
    assert (native.arity, native.index, native.depth) == (
        reference.arity,
        reference.index,
        reference.depth,
    )
    assert native.leaf == reference.leaf
    assert [tuple(level) for level in native.siblings] == list(reference.siblings)
    assert native.verify(root)
    assert native.compute_root() == root


def check_multi_matches(
    native: bz.MerkleMultiProof, reference: ref.MerkleMultiProof, root: int
) -> None:
    data = native.to_bytes()
    assert data == reference.to_bytes()
    assert json.loads(native.to_json()) == json.loads(reference.to_json())
    assert ref.MerkleMultiProof.from_bytes(data) == reference
    assert ref.MerkleMultiProof.from_json(native.to_json()) == reference
    assert bz.MerkleMultiProof.from_bytes(reference.to_bytes()) == native
    assert bz.MerkleMultiProof.from_json(reference.to_json()) == native
    assert native.indices == list(reference.indices)
    assert native.leaves == list(reference.leaves)
    assert native.siblings == list(reference.siblings)
    assert native.verify(root)


# --- native == reference ----------------------------------------------------------------


@given(case=leaf_sets(), data=st.data())
def test_tree_matches_reference(case: tuple[int, list[int]], data: st.DataObject) -> None:
    arity, leaves = case
    native, reference = bz.MerkleTree(leaves, arity), ref.MerkleTree(leaves, arity)
    n = len(leaves)
    assert (native.root, native.depth, len(native), native.arity) == (
        reference.root,
        reference.depth,
        n,
        arity,
    )
    assert native.depth == ref.tree_depth(n, arity)
    for i in {0, n - 1, data.draw(st.integers(0, n - 1), label="index")}:
        assert native.leaf(i) == leaves[i]
        check_proof_matches(native.proof(i), reference.proof(i), native.root)
    indices = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6), label="multi")
    check_multi_matches(native.multi_proof(indices), reference.multi_proof(indices), native.root)


@given(arity=arities, n=st.integers(1, 3000))
def test_big_trees_match_spec_definition(arity: int, n: int) -> None:
    leaves = sha_leaves(n, "big")
    tree = bz.MerkleTree(leaves, arity)
    assert (tree.root, tree.depth) == spec_root(leaves, arity)
    for i in (0, n // 3, n - 1):
        proof = tree.proof(i)
        assert proof.verify(tree.root)
        assert proof.leaf == leaves[i]


@pytest.mark.parametrize("arity", ARITIES)
def test_depth_steps_and_padding(arity: int) -> None:
    for n in (1, 2, arity, arity + 1, arity**2, arity**2 + 1):
        tree, reference = cached_pair(n, arity)
        assert tree.root == reference.root
        assert tree.depth == reference.depth
    x = sha_leaves(3, "pad")
    # Zero padding within a depth does not change the root; a new level does.
    padded = [*x, *[0] * (arity - 3)] if arity > 3 else [*x, 0]
    assert bz.MerkleTree(x, arity).root == bz.MerkleTree(padded, arity).root
    assert bz.MerkleTree(x[:1], arity).root == x[0]
    assert bz.MerkleTree([x[0], 0], arity).root != x[0]


def test_multi_proof_normalises_indices() -> None:
    tree, reference = cached_pair(9, 2)
    proof = tree.multi_proof([8, 0, 3, 0, 8])
    assert proof.indices == [0, 3, 8]
    assert proof == tree.multi_proof([0, 3, 8])
    check_multi_matches(proof, reference.multi_proof([0, 3, 8]), tree.root)


# --- incremental tree -------------------------------------------------------------------


@given(arity=arities, n=st.integers(1, 60))
def test_incremental_equals_full_tree(arity: int, n: int) -> None:
    leaves = sha_leaves(n, f"inc/{arity}")
    inc = bz.IncrementalMerkleTree(arity)
    assert len(inc) == 0
    assert inc.arity == arity
    for k, leaf in enumerate(leaves, start=1):
        inc.append(leaf)
        full = bz.MerkleTree(leaves[:k], arity)
        assert len(inc) == k
        assert (inc.root, inc.depth) == (full.root, full.depth), k
    full = bz.MerkleTree(leaves, arity)
    for i in range(n):
        assert inc.proof(i) == full.proof(i)
    assert inc.multi_proof([0, n - 1]) == full.multi_proof([0, n - 1])
    bulk = bz.IncrementalMerkleTree(arity)
    bulk.extend(leaves)
    assert bulk.root == inc.root


@pytest.mark.parametrize("arity", ARITIES)
def test_incremental_matches_reference_incremental(arity: int) -> None:
    leaves = sha_leaves(arity + 2, "inc-ref")
    native, reference = bz.IncrementalMerkleTree(arity), ref.IncrementalMerkleTree(arity)
    for leaf in leaves:
        native.append(leaf)
        reference.append(leaf)
        assert native.root == reference.root()
    for i in (0, len(leaves) - 1):
        check_proof_matches(native.proof(i), reference.proof(i), native.root)


def test_incremental_errors() -> None:
    inc = bz.IncrementalMerkleTree(4)
    with pytest.raises(ParameterError, match="empty"):
        _ = inc.root
    with pytest.raises(IndexOutOfRangeError, match=r"\b0\b"):
        inc.proof(0)
    with pytest.raises(FieldElementError, match=str(R)):
        inc.append(R)
    with pytest.raises(TypeError, match="bool"):
        inc.append(True)
    inc.extend([1, 2])
    with pytest.raises(IndexOutOfRangeError, match=r"\b2\b"):
        inc.proof(2)
    with pytest.raises(FieldElementError, match=r"leaves\[1\]"):
        inc.extend([3, -1])
    assert len(inc) == 2  # the bad batch was validated before anything was appended


# --- uint64 limbs -----------------------------------------------------------------------


@given(case=leaf_sets(max_leaves=30))
def test_limb_leaves_equal_int_leaves(case: tuple[int, list[int]]) -> None:
    arity, leaves = case
    limbs = to_limbs(leaves)
    assert limbs.shape == (len(leaves), 4)
    expected = bz.MerkleTree(leaves, arity)
    for arr in (limbs, np.asfortranarray(limbs), np.repeat(limbs, 2, axis=0)[::2]):
        tree = bz.MerkleTree(arr, arity)
        assert tree.root == expected.root
        assert tree.proof(len(leaves) - 1) == expected.proof(len(leaves) - 1)
    inc = bz.IncrementalMerkleTree(arity)
    inc.extend(limbs)
    assert inc.root == expected.root
    assert from_limbs(limbs) == leaves


def test_limb_leaf_errors() -> None:
    limbs = to_limbs([1, 2, 3])
    bad = limbs.copy()
    bad[1] = [2**64 - 1] * 4
    with pytest.raises(FieldElementError, match=str(2**256 - 1)):
        bz.MerkleTree(bad, 2)
    with pytest.raises(ParameterError, match="4 limbs"):
        bz.MerkleTree(np.zeros((3, 3), dtype=np.uint64), 2)
    with pytest.raises(ParameterError):
        bz.MerkleTree(np.zeros((0, 4), dtype=np.uint64), 2)


# --- tampering ----------------------------------------------------------------------------


def assert_rejected_or_invalid(cls: Any, data: bytes, root: int) -> bool:
    """Decode ``data``; it must fail with DecodeError or decode to a proof that does not verify.

    Returns whether it decoded."""
    try:
        proof = cls.from_bytes(data)
    except DecodeError:
        return False
    assert not proof.verify(root), data.hex()
    return True


@pytest.mark.parametrize(("arity", "n"), [(2, 4), (4, 7)])
def test_every_byte_mutation_of_a_proof(arity: int, n: int) -> None:
    """All 255 wrong values of every byte: decode error or a proof that does not verify."""
    tree, _ = cached_pair(n, arity)
    data = tree.proof(n - 1).to_bytes()
    decoded = 0
    for position in range(len(data)):
        for value in range(256):
            if value != data[position]:
                mutated = data[:position] + bytes([value]) + data[position + 1 :]
                decoded += assert_rejected_or_invalid(bz.MerkleProof, mutated, tree.root)
    assert decoded > 0  # mutations of the index and the elements do decode


@pytest.mark.parametrize(("arity", "n"), [(2, 9), (8, 9), (16, 17)])
def test_bit_flips_agree_with_reference_decoder(arity: int, n: int) -> None:
    tree, _ = cached_pair(n, arity)
    for encoded, cls, ref_cls in (
        (tree.proof(n // 2).to_bytes(), bz.MerkleProof, ref.MerkleProof),
        (
            tree.multi_proof([0, n // 2, n - 1]).to_bytes(),
            bz.MerkleMultiProof,
            ref.MerkleMultiProof,
        ),
    ):
        for position in range(len(encoded)):
            for bit in (0, 7):
                mutated = bytearray(encoded)
                mutated[position] ^= 1 << bit
                native_ok = assert_rejected_or_invalid(cls, bytes(mutated), tree.root)
                try:
                    ref_cls.from_bytes(bytes(mutated))
                    ref_ok = True
                except ValueError:
                    ref_ok = False
                assert native_ok == ref_ok, (position, bit)


def test_every_byte_mutation_of_a_multi_proof() -> None:
    tree, _ = cached_pair(5, 2)
    data = tree.multi_proof([1, 4]).to_bytes()
    for position in range(len(data)):
        for value in range(0, 256, 3):
            if value != data[position]:
                mutated = data[:position] + bytes([value]) + data[position + 1 :]
                assert_rejected_or_invalid(bz.MerkleMultiProof, mutated, tree.root)


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_truncated_and_overlong_encodings(kind: str) -> None:
    tree, _ = cached_pair(6, 4)
    cls: Any
    if kind == "single":
        cls, data = bz.MerkleProof, tree.proof(5).to_bytes()
    else:
        cls, data = bz.MerkleMultiProof, tree.multi_proof([0, 5]).to_bytes()
    assert cls.from_bytes(data).verify(tree.root)
    for length in range(len(data)):
        with pytest.raises(DecodeError):
            cls.from_bytes(data[:length])
    for extra in (b"\x00", bytes(31), bytes(32), data[-32:]):
        with pytest.raises(DecodeError):
            cls.from_bytes(data + extra)


def test_decode_error_messages_name_the_problem() -> None:
    tree, _ = cached_pair(3, 2)
    data = bytearray(tree.proof(2).to_bytes())
    cases = {
        0: (b"X", "magic"),
        4: (b"\x02", "version 2"),
        5: (b"\x03", "arity 3"),
        6: (b"\x41", "depth 65"),
        7: (b"\x01", "reserved"),
        15: (b"\x04", "index 4"),
    }
    for position, (value, expected) in cases.items():
        mutated = bytearray(data)
        mutated[position : position + 1] = value
        with pytest.raises(DecodeError, match=expected):
            bz.MerkleProof.from_bytes(bytes(mutated))
    mutated = bytearray(data)
    mutated[16:48] = (R + 1).to_bytes(32, "big")
    with pytest.raises(DecodeError, match=str(R + 1)):
        bz.MerkleProof.from_bytes(bytes(mutated))
    with pytest.raises(DecodeError, match="length 111"):
        bz.MerkleProof.from_bytes(bytes(data[:-1]))


def test_multi_proof_structural_rejects() -> None:
    tree, _ = cached_pair(5, 2)
    good = tree.multi_proof([0, 4]).to_bytes()
    header, count = good[:8], good[8:12]
    i0, i1 = good[12:20], good[20:28]
    leaves, rest = good[28:92], good[92:]
    n_siblings = int.from_bytes(rest[:4], "big")
    assert len(rest) == 4 + 32 * n_siblings
    body = header + count + i0 + i1 + leaves
    for bad in (
        header + count + i1 + i0 + leaves + rest,  # unsorted
        header + count + i0 + i0 + leaves + rest,  # repeated
        header + b"\x00\x00\x00\x00",  # no indices
        header + b"\xff\xff\xff\xff" + good[12:],  # count larger than the input
        body + b"\x00\x00\x00\x00",  # no siblings
        body + (n_siblings + 1).to_bytes(4, "big") + rest[4:] + bytes(32),  # one too many
        body + (n_siblings - 1).to_bytes(4, "big") + rest[4:-32],  # one too few
        body + rest + bytes(1),  # trailing byte
    ):
        with pytest.raises(DecodeError):
            bz.MerkleMultiProof.from_bytes(bad)
        with pytest.raises(ValueError):
            ref.MerkleMultiProof.from_bytes(bad)


# --- JSON ---------------------------------------------------------------------------------


def proof_json() -> dict[str, Any]:
    tree, _ = cached_pair(5, 2)
    obj: dict[str, Any] = json.loads(tree.proof(4).to_json())
    return obj


def multi_json() -> dict[str, Any]:
    tree, _ = cached_pair(5, 2)
    obj: dict[str, Any] = json.loads(tree.multi_proof([0, 4]).to_json())
    return obj


def bad_proof_jsons() -> list[tuple[str, str]]:
    good = proof_json()
    out: list[tuple[str, str]] = []
    for key in good:
        out.append((f"missing {key}", json.dumps({k: v for k, v in good.items() if k != key})))
    out.append(("unknown key", json.dumps({**good, "extra": 1})))
    hexes = {
        "no digits": "0x",
        "no prefix": good["leaf"][2:],
        "upper-case prefix": "0X" + good["leaf"][2:],
        "65 digits": "0x0" + good["leaf"][2:],
        "bad digit": "0x" + "g" * 64,
        "space": "0x " + good["leaf"][3:],
        "r": "0x" + R.to_bytes(32, "big").hex(),
        "2^256 - 1": "0x" + "f" * 64,
        "number": 5,
        "null": None,
    }
    for name, value in hexes.items():
        out.append((f"leaf {name}", json.dumps({**good, "leaf": value})))
        siblings = [list(level) for level in good["siblings"]]
        siblings[1][0] = value
        out.append((f"sibling {name}", json.dumps({**good, "siblings": siblings})))
    for key, value in (
        ("type", "bigfile_zk.MerkleMultiProof"),
        ("version", 2),
        ("arity", 3),
        ("arity", "2"),
        ("depth", 2),
        ("depth", 65),
        ("index", 8),
        ("index", -1),
        ("index", 1.5),
        ("index", "4"),
        ("siblings", good["siblings"][:-1]),
        ("siblings", [*good["siblings"][:-1], []]),
        ("siblings", [*good["siblings"][:-1], [*good["siblings"][-1], good["leaf"]]]),
        ("siblings", "nope"),
    ):
        out.append((f"{key}={value!r}", json.dumps({**good, key: value})))
    for name, text in (
        ("not JSON", "{"),
        ("array", "[]"),
        ("empty", ""),
        ("null", "null"),
    ):
        out.append((name, text))
    return out


@pytest.mark.parametrize(("name", "text"), bad_proof_jsons(), ids=[c[0] for c in bad_proof_jsons()])
def test_bad_proof_json(name: str, text: str) -> None:
    with pytest.raises(DecodeError) as info:
        bz.MerkleProof.from_json(text)
    assert isinstance(info.value, ValueError)
    assert "Merkle proof JSON" in str(info.value)
    with pytest.raises(ValueError):  # the reference rejects it too
        ref.MerkleProof.from_json(text)


def bad_multi_jsons() -> list[tuple[str, str]]:
    good = multi_json()
    out: list[tuple[str, str]] = []
    for key in good:
        out.append((f"missing {key}", json.dumps({k: v for k, v in good.items() if k != key})))
    out.append(("unknown key", json.dumps({**good, "x": None})))
    for key, value in (
        ("type", "bigfile_zk.MerkleProof"),
        ("indices", [4, 0]),
        ("indices", [0, 0]),
        ("indices", []),
        ("indices", [0, 8]),
        ("indices", [0, -4]),
        ("leaves", good["leaves"][:1]),
        ("leaves", [*good["leaves"], good["leaves"][0]]),
        ("leaves", [good["leaves"][0], "0x" + "f" * 64]),
        ("siblings", good["siblings"][:-1]),
        ("siblings", [*good["siblings"], good["siblings"][0]]),
        ("depth", 4),
        ("version", 0),
    ):
        out.append((f"{key}={value!r}", json.dumps({**good, key: value})))
    return out


@pytest.mark.parametrize(("name", "text"), bad_multi_jsons(), ids=[c[0] for c in bad_multi_jsons()])
def test_bad_multi_proof_json(name: str, text: str) -> None:
    with pytest.raises(DecodeError, match="Merkle multi-proof JSON"):
        bz.MerkleMultiProof.from_json(text)
    with pytest.raises(ValueError):
        ref.MerkleMultiProof.from_json(text)


def test_json_accepts_short_and_upper_case_hex() -> None:
    """merkle.md: decoders accept 1 to 64 hex digits of either case after a lower-case 0x."""
    tree, _ = cached_pair(5, 2)
    proof = tree.proof(4)
    good = proof_json()
    upper = {**good, "leaf": "0x" + good["leaf"][2:].upper()}
    assert bz.MerkleProof.from_json(json.dumps(upper)) == proof
    short = {**good, "leaf": hex(proof.leaf)}
    assert bz.MerkleProof.from_json(json.dumps(short)) == proof
    siblings = [["0x0"] for _ in good["siblings"]]
    zero = bz.MerkleProof.from_json(json.dumps({**good, "siblings": siblings}))
    assert zero.siblings == [[0]] * len(siblings)


@pytest.mark.parametrize("text", ["0x+1", "0x+f", "0x0+1"])
def test_json_hex_with_sign_is_rejected(text: str) -> None:
    with pytest.raises(DecodeError):
        bz.MerkleProof.from_json(json.dumps({**proof_json(), "leaf": text}))


@pytest.mark.parametrize("text", ["0x\u00e9", "0x1\u00e9", "0x\u0661"])
def test_json_hex_with_non_ascii_is_a_decode_error(text: str) -> None:
    try:
        bz.MerkleProof.from_json(json.dumps({**proof_json(), "leaf": text}))
    except DecodeError:
        return
    except BaseException as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}")
    pytest.fail("accepted")


# --- argument errors ----------------------------------------------------------------------


@pytest.mark.parametrize("arity", [0, 1, 3, 5, 7, 15, 17, 32])
def test_wrong_arity(arity: int) -> None:
    pattern = rf"arity {arity}\b"
    with pytest.raises(ParameterError, match=pattern) as info:
        bz.MerkleTree([1, 2], arity)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ParameterError, match=pattern):
        bz.IncrementalMerkleTree(arity)
    with pytest.raises(ParameterError, match=pattern):
        bz.MerkleProof(arity, 0, 1, [])
    with pytest.raises(ValueError):
        ref.MerkleTree([1, 2], arity)


@pytest.mark.parametrize("arity", ARITIES)
def test_empty_leaves(arity: int) -> None:
    for empty in ([], (), iter([]), np.zeros((0, 4), dtype=np.uint64)):
        with pytest.raises(ParameterError, match="at least one leaf"):
            bz.MerkleTree(empty, arity)


def test_bad_leaves() -> None:
    with pytest.raises(FieldElementError, match=rf"leaves\[2\] = {R}"):
        bz.MerkleTree([1, 2, R], 2)
    with pytest.raises(TypeError, match=r"leaves\[0\].*str"):
        bz.MerkleTree(["1"], 2)
    with pytest.raises(TypeError, match="leaves must be a sequence"):
        bz.MerkleTree("123", 2)
    with pytest.raises(TypeError):
        bz.MerkleTree(None, 2)


@pytest.mark.parametrize(("arity", "n"), [(2, 1), (2, 5), (16, 17)])
def test_index_out_of_range(arity: int, n: int) -> None:
    tree, _ = cached_pair(n, arity)
    inc = bz.IncrementalMerkleTree(arity)
    inc.extend(sha_leaves(n, f"merkle/{arity}"))
    for bad in (n, n + 1, arity**tree.depth, 2**64 - 1):
        message = rf"index {bad} is out of range \({n} available\)"
        for call in (
            lambda i: tree.proof(i),
            lambda i: tree.leaf(i),
            lambda i: tree.multi_proof([0, i]),
            lambda i: inc.proof(i),
            lambda i: inc.multi_proof([i]),
        ):
            with pytest.raises(IndexOutOfRangeError, match=message) as info:
                call(bad)
            assert isinstance(info.value, IndexError)
            assert isinstance(info.value, BigFileZkError)
    with pytest.raises(ParameterError, match="at least one index"):
        tree.multi_proof([])


@pytest.mark.parametrize("bad", [-1, True])
def test_negative_or_bool_index(bad: int) -> None:
    tree, reference = cached_pair(3, 2)
    with pytest.raises((IndexError, TypeError)):
        reference.proof(bad)
    with pytest.raises((IndexError, TypeError)):
        tree.proof(bad)


# --- the MerkleProof constructor ----------------------------------------------------------


def test_proof_constructor_matches_decoded_proof() -> None:
    tree, _ = cached_pair(9, 2)
    proof = tree.proof(6)
    built = bz.MerkleProof(proof.arity, proof.index, proof.leaf, proof.siblings)
    assert built == proof
    assert built.verify(tree.root)
    moved = bz.MerkleProof(2, 7, proof.leaf, proof.siblings)
    assert not moved.verify(tree.root)
    with pytest.raises(ParameterError, match=r"siblings\[1\] has 2 elements"):
        bz.MerkleProof(2, 0, 1, [[1], [1, 2]])
    with pytest.raises(FieldElementError, match=r"siblings\[0\]\[0\]"):
        bz.MerkleProof(2, 0, 1, [[R]])
    with pytest.raises(FieldElementError, match="leaf"):
        bz.MerkleProof(2, 0, -1, [])
    with pytest.raises(FieldElementError, match="root"):
        proof.verify(R)


@pytest.mark.parametrize(("index", "depth"), [(2, 1), (5, 2), (0, 65), (0, 300)])
def test_proof_constructor_checks_shape(index: int, depth: int) -> None:
    with pytest.raises(ValueError):
        ref.MerkleProof(2, index, 1, tuple((0,) for _ in range(depth)))
    with pytest.raises(ParameterError):
        bz.MerkleProof(2, index, 1, [[0]] * depth)


# --- spec vectors ---------------------------------------------------------------------------


def test_vector_file_reproduced() -> None:
    vectors = json.loads((VECTORS / "merkle.json").read_text())
    for arity_key, zeros in vectors["zero_hashes"].items():
        arity = int(arity_key)
        z = 0
        for level, expected in enumerate(zeros):
            assert z == int(expected, 16), (arity, level)
            if arity**level <= 4096:
                assert bz.MerkleTree([0] * arity**level, arity).root == z
            z = bz.poseidon([z] * arity)
    assert {case["arity"] for case in vectors["cases"]} == set(ARITIES)
    for case in vectors["cases"]:
        arity, n = case["arity"], case["num_leaves"]
        leaves = [int(x, 16) for x in case["leaves"]]
        assert leaves == [ref_leaf(i) for i in range(n)]
        tree = bz.MerkleTree(leaves, arity)
        root = int(case["root"], 16)
        assert (tree.root, tree.depth) == (root, case["depth"]), (arity, n)
        inc = bz.IncrementalMerkleTree(arity)
        inc.extend(leaves)
        assert inc.root == root
        proof = tree.proof(case["proof_index"])
        assert proof.to_bytes().hex() == case["proof"]
        assert bz.MerkleProof.from_bytes(bytes.fromhex(case["proof"])) == proof
        multi = tree.multi_proof(case["multi_proof_indices"])
        assert multi.to_bytes().hex() == case["multi_proof"]
        decoded = bz.MerkleMultiProof.from_bytes(bytes.fromhex(case["multi_proof"]))
        assert decoded == multi
        assert decoded.verify(root)


def ref_leaf(i: int) -> int:
    """The vector file's leaf rule."""
    label = f"bigfile_zk/vectors/merkle/leaf/{i}"
    return int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % R


def test_max_depth_bound_in_decoder() -> None:
    for arity, depth in MAX_DEPTH.items():
        header = b"BFMP\x01" + bytes([arity, depth + 1, 0]) + bytes(8) + bytes(32)
        with pytest.raises(DecodeError, match=f"depth {depth + 1}"):
            bz.MerkleProof.from_bytes(header + bytes(32 * (depth + 1) * (arity - 1)))
        # The largest depth is allowed: a proof of leaf 0 of an all-zero tree of a^d leaves.
        siblings = []
        z = 0
        for _ in range(depth):
            siblings.append([z] * (arity - 1))
            z = bz.poseidon([z] * arity)
        proof = bz.MerkleProof(arity, arity**depth - 1, 0, siblings)
        decoded = bz.MerkleProof.from_bytes(proof.to_bytes())
        assert decoded == proof
        assert decoded.verify(z)
        assert re.fullmatch(
            r"MerkleProof\(arity=\d+, depth=\d+, index=\d+, leaf=0x0{64}\)", repr(proof)
        )


def test_verify_with_depth_rejects_an_inner_node_as_leaf() -> None:
    """docs/spec/merkle.md: a verifier that knows the depth must check it."""
    tree = bz.MerkleTree([1, 2, 3, 4])
    inner = bz.MerkleProof(2, 0, bz.poseidon([1, 2]), [[bz.poseidon([3, 4])]])
    assert inner.verify(tree.root)  # by the proof's own depth
    assert not inner.verify(tree.root, depth=tree.depth)
    assert tree.proof(0).verify(tree.root, depth=tree.depth)
    ref_inner = ref.MerkleProof.from_bytes(inner.to_bytes())
    assert ref_inner.verify(tree.root) and not ref_inner.verify(tree.root, depth=tree.depth)
    multi = tree.multi_proof([0, 3])
    assert multi.verify(tree.root, depth=2) and not multi.verify(tree.root, depth=1)


def test_multi_proof_with_an_extra_sibling_is_refused() -> None:
    tree = bz.MerkleTree(list(range(1, 6)))
    good = tree.multi_proof([1, 3]).to_bytes()
    count = int.from_bytes(good[-4 - 32 * 3 : -32 * 3], "big")
    assert count == 3
    extended = good[: -4 - 32 * 3] + (count + 1).to_bytes(4, "big") + good[-32 * 3 :] + bytes(32)
    with pytest.raises(DecodeError):
        bz.MerkleMultiProof.from_bytes(extended)


def test_one_dimensional_limb_array_is_refused() -> None:
    arr = np.array([1, 2, 3, 4], dtype=np.uint64)
    with pytest.raises(ParameterError, match=r"shape \(n, 4\)"):
        bz.MerkleTree(arr)
    with pytest.raises(ParameterError):
        bz.poseidon(arr)
