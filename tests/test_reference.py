"""Tests of the pure-Python reference (``bigfile_zk.reference``) against the specs.

Known answers pin Poseidon to circomlib; the Merkle and commitment tests recompute small
cases by hand from the spec's formulas and check the encodings byte by byte; hypothesis
properties cover the rest. When Node.js and circomlibjs are available (``tests/js``), the
reference is also compared with circomlibjs directly.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bigfile_zk.reference import _gen_vectors, field
from bigfile_zk.reference.commitment import (
    LEAF_IV,
    ChunkOpening,
    FileCommitment,
    chunk_elements,
    commit_bytes,
    leaf_hash,
    meta,
    num_chunks_for,
    open_bytes,
)
from bigfile_zk.reference.field import R
from bigfile_zk.reference.merkle import (
    ARITIES,
    IncrementalMerkleTree,
    MerkleMultiProof,
    MerkleProof,
    MerkleTree,
    max_depth,
    tree_depth,
    zero_hashes,
)
from bigfile_zk.reference.poseidon import (
    N_ROUNDS_F,
    N_ROUNDS_P,
    mds,
    permute,
    poseidon,
    poseidon_ex,
    round_constants,
)

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "docs" / "spec" / "vectors"

# Pure-Python Poseidon costs ~0.4 ms (t = 3) to ~4 ms (t = 17) per call: keep examples few
# and trees small, and never let hypothesis time an example.
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

elements = st.integers(min_value=0, max_value=R - 1)
arities = st.sampled_from(ARITIES)


def sha_leaves(n: int, label: str = "test") -> list[int]:
    """Distinct pseudo-random leaves (distinctness keeps mutation tests meaningful)."""
    return [
        int.from_bytes(hashlib.sha256(f"{label}/{i}".encode()).digest(), "big") % R
        for i in range(n)
    ]


@functools.cache
def cached_tree(n: int, arity: int) -> MerkleTree:
    return MerkleTree(sha_leaves(n), arity)


# --- field ------------------------------------------------------------------------------


class TestField:
    def test_modulus(self) -> None:
        assert R == 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
        assert pow(5, R - 1, R) == 1  # Fermat witness; R is prime

    @pytest.mark.parametrize("bad", [-1, R, R + 1, 2**256])
    def test_check_element_range(self, bad: int) -> None:
        with pytest.raises(ValueError, match=str(bad)) as info:
            field.check_element(bad, "my input")
        assert "my input" in str(info.value)

    @pytest.mark.parametrize("bad", [True, False, 1.0, "1", None, b"\x01"])
    def test_check_element_type(self, bad: object) -> None:
        with pytest.raises(TypeError, match="my input"):
            field.check_element(bad, "my input")

    def test_check_element_accepts_bounds(self) -> None:
        assert field.check_element(0) == 0
        assert field.check_element(R - 1) == R - 1

    @given(elements)
    @settings(max_examples=50)
    def test_round_trips(self, x: int) -> None:
        assert field.from_bytes32(field.to_bytes32(x)) == x
        assert field.from_hex(field.to_hex(x)) == x
        assert field.from_hex(field.to_hex(x).upper().replace("0X", "0x")) == x
        assert field.from_limbs(field.to_limbs(x)) == x
        assert sum(limb << (64 * k) for k, limb in enumerate(field.to_limbs(x))) == x

    def test_encodings_are_big_endian_and_lower_case(self) -> None:
        assert field.to_bytes32(1) == bytes(31) + b"\x01"
        assert field.to_hex(0xAB) == "0x" + "0" * 62 + "ab"
        assert field.to_limbs(2**64 + 2) == (2, 1, 0, 0)

    @pytest.mark.parametrize("length", [0, 31, 33])
    def test_from_bytes32_length(self, length: int) -> None:
        with pytest.raises(ValueError, match=str(length)):
            field.from_bytes32(bytes(length))

    def test_from_bytes32_non_canonical(self) -> None:
        with pytest.raises(ValueError, match="canonical"):
            field.from_bytes32(R.to_bytes(32, "big"))
        with pytest.raises(ValueError, match="canonical"):
            field.from_bytes32(b"\xff" * 32)

    @pytest.mark.parametrize(
        "bad",
        [
            "0x",
            "0x" + "0" * 65,
            "0X" + "0" * 64,
            "0" * 66,
            " 0x" + "0" * 64,
            "0x" + "0" * 64 + "\n",
            "0x" + "0" * 63 + "g",
            "0x" + "0" * 62 + "_1",
            "0x-" + "0" * 63,
            f"0x{R:064x}",
            "0x" + "f" * 64,
        ],
    )
    def test_from_hex_rejects(self, bad: str) -> None:
        with pytest.raises(ValueError):
            field.from_hex(bad)

    def test_from_hex_accepts_1_to_64_digits(self) -> None:
        assert field.from_hex("0x1") == 1
        assert field.from_hex("0xAbC") == 0xABC
        assert field.from_hex("0x" + "0" * 63 + "7") == 7

    def test_from_hex_type(self) -> None:
        with pytest.raises(TypeError):
            field.from_hex(5)

    def test_inverse(self) -> None:
        for x in (1, 2, R - 1, 123456789):
            assert x * field.inv(x) % R == 1
        with pytest.raises(ZeroDivisionError):
            field.inv(0)

    def test_from_limbs_rejects(self) -> None:
        with pytest.raises(ValueError):
            field.from_limbs([0, 0, 0])
        with pytest.raises(ValueError):
            field.from_limbs([2**64, 0, 0, 0])
        with pytest.raises(ValueError):
            field.from_limbs((*field.to_limbs(R - 1)[:3], 2**64 - 1))


# --- poseidon ---------------------------------------------------------------------------

KNOWN_ANSWERS = [
    ([1], 0x29176100EAA962BDC1FE6C654D6A3C130E96A4D1168B33848B897DC502820133),
    ([1, 2], 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A),
    ([1, 2, 3, 4], 0x299C867DB6C1FDD79DCEFA40E4510B9837E60EBB1CE0663DBAA525DF65250465),
    (
        list(range(1, 17)),
        9989051620750914585850546081941653841776809718687451684622678807385399211877,
    ),
]


class TestPoseidon:
    @pytest.mark.parametrize(("inputs", "expected"), KNOWN_ANSWERS)
    def test_known_answers(self, inputs: list[int], expected: int) -> None:
        assert poseidon(inputs) == expected

    def test_zero_pair(self) -> None:
        # The well-known first zero of Poseidon Merkle trees (Semaphore, Tornado Nova, ...).
        assert (
            poseidon([0, 0]) == 0x2098F5FB9E239EAB3CEAC3F27B81E481DC3124D55FFED523A839EE8446B64864
        )

    def test_first_round_constants(self) -> None:
        # Pin the Grain LFSR independently of the hash outputs.
        assert round_constants(2)[0] == (
            0x09C46E9EC68E9BD4FE1FAABA294CBA38A71AA177534CDD1B6C7DC0DBD0ABD7A7
        )
        assert round_constants(3)[0] == (
            0x0EE9A592BA9A9518D05986D656F40C2114C4993C11BB29938D21D47304CD8E6E
        )

    @pytest.mark.parametrize("t", [2, 3, 5, 9, 17])
    def test_parameter_shapes(self, t: int) -> None:
        constants = round_constants(t)
        assert len(constants) == (N_ROUNDS_F + N_ROUNDS_P[t - 2]) * t
        assert all(0 <= c < R for c in constants)
        matrix = mds(t)
        assert len(matrix) == t and all(len(row) == t for row in matrix)
        # Cauchy structure: 1/M[i][j] = x_i + y_j, so 1/M[i][j] - 1/M[i][0] depends on j only.
        invs = [[field.inv(m) for m in row] for row in matrix]
        for j in range(t):
            diffs = {(row[j] - row[0]) % R for row in invs}
            assert len(diffs) == 1

    def test_parameters_are_copies(self) -> None:
        round_constants(3)[0] = 0
        mds(3)[0][0] = 0
        assert poseidon([1, 2]) == KNOWN_ANSWERS[1][1]

    def test_partial_round_table(self) -> None:
        assert N_ROUNDS_P == (
            56,
            57,
            56,
            60,
            60,
            63,
            64,
            63,
            60,
            66,
            60,
            65,
            70,
            60,
            64,
            68,
        )

    @pytest.mark.parametrize("n", [0, 17])
    def test_arity_errors(self, n: int) -> None:
        with pytest.raises(ValueError, match=str(n)):
            poseidon([1] * n)

    @pytest.mark.parametrize("t", [0, 1, 18])
    def test_width_errors(self, t: int) -> None:
        with pytest.raises(ValueError, match=str(t)):
            permute([0] * t)

    def test_element_errors(self) -> None:
        with pytest.raises(ValueError, match=str(R)):
            poseidon([1, R])
        with pytest.raises(ValueError):
            poseidon([-1])
        with pytest.raises(TypeError):
            poseidon([True])
        with pytest.raises(TypeError):
            poseidon(b"\x01\x02")
        with pytest.raises(TypeError):
            poseidon([1.0])
        with pytest.raises(ValueError):
            permute([0, 1, R])
        with pytest.raises(ValueError):
            poseidon_ex([1], init_state=R)
        with pytest.raises(ValueError):
            poseidon_ex([1, 2], n_out=4)

    @given(st.lists(elements, min_size=1, max_size=4))
    @FAST
    def test_hash_is_permutation_head(self, inputs: list[int]) -> None:
        assert poseidon(inputs) == permute([0, *inputs])[0]
        assert poseidon_ex(inputs) == [poseidon(inputs)]
        assert poseidon_ex(inputs, 7, len(inputs) + 1) == permute([7, *inputs])

    def test_vector_file_is_current(self) -> None:
        path = VECTORS / "poseidon.json"
        if not path.exists():
            pytest.skip("docs/spec/vectors/poseidon.json not generated yet")
        assert json.loads(path.read_text()) == _gen_vectors.poseidon_vectors()


# --- merkle -----------------------------------------------------------------------------


class TestMerkleShape:
    def test_depth(self) -> None:
        assert [tree_depth(n, 2) for n in (1, 2, 3, 4, 5, 8, 9)] == [
            0,
            1,
            2,
            2,
            3,
            3,
            4,
        ]
        assert [tree_depth(n, 16) for n in (1, 16, 17, 256, 257)] == [0, 1, 2, 2, 3]
        assert {a: max_depth(a) for a in ARITIES} == {2: 64, 4: 32, 8: 21, 16: 16}

    def test_zero_hashes(self) -> None:
        for arity in ARITIES:
            zeros = zero_hashes(arity, 3)
            assert zeros[0] == 0
            for level in range(3):
                assert zeros[level + 1] == poseidon([zeros[level]] * arity)

    def test_single_leaf(self) -> None:
        tree = MerkleTree([42])
        assert (tree.root, tree.depth) == (42, 0)
        proof = tree.proof(0)
        assert proof.siblings == () and proof.verify(42) and not proof.verify(43)
        assert len(proof.to_bytes()) == 48

    def test_binary_by_hand(self) -> None:
        tree = MerkleTree([1, 2, 3], 2)
        assert tree.depth == 2
        assert tree.root == poseidon([poseidon([1, 2]), poseidon([3, 0])])

    def test_quaternary_by_hand(self) -> None:
        leaves = [10, 11, 12, 13, 14]
        z1 = poseidon([0] * 4)
        tree = MerkleTree(leaves, 4)
        assert tree.root == poseidon([poseidon(leaves[:4]), poseidon([14, 0, 0, 0]), z1, z1])
        proof = tree.proof(4)
        assert proof.siblings == ((0, 0, 0), (poseidon(leaves[:4]), z1, z1))

    def test_root_does_not_bind_length_at_equal_depth(self) -> None:
        # Zero padding is invisible at equal depth; the file commitment binds the length.
        assert MerkleTree([5, 6, 7], 2).root == MerkleTree([5, 6, 7, 0], 2).root
        assert MerkleTree([5], 2).root != MerkleTree([5, 0], 2).root  # depth 0 vs 1

    def test_errors(self) -> None:
        for bad in (0, 1, 3, 5, 32):
            with pytest.raises(ValueError, match=str(bad)):
                MerkleTree([1], bad)
        with pytest.raises(TypeError):
            MerkleTree([1], True)
        with pytest.raises(ValueError, match="0"):
            MerkleTree([])
        with pytest.raises(ValueError, match=str(R)):
            MerkleTree([1, R])
        tree = MerkleTree([1, 2, 3])
        for bad in (-1, 3, 4):
            with pytest.raises(IndexError, match=str(bad)):
                tree.proof(bad)
        with pytest.raises(ValueError):
            tree.multi_proof([])
        with pytest.raises(IndexError):
            tree.multi_proof([0, 3])
        with pytest.raises(IndexError):
            IncrementalMerkleTree(2).proof(0)
        with pytest.raises(ValueError):
            IncrementalMerkleTree(2).root()
        with pytest.raises(ValueError):
            IncrementalMerkleTree(6)

    def test_padding_position_proof(self) -> None:
        # A proof for a padding position proves the value 0 there.
        tree = MerkleTree([1, 2, 3], 2)
        proof = MerkleProof(2, 3, 0, ((tree.node(0, 2),), (tree.node(1, 0),)))
        assert proof.verify(tree.root)
        assert not MerkleProof(2, 3, 1, proof.siblings).verify(tree.root)

    def test_proof_constructor_validates(self) -> None:
        with pytest.raises(ValueError):
            MerkleProof(2, 2, 0, ((1,),))  # index >= a^d
        with pytest.raises(ValueError):
            MerkleProof(4, 0, 0, ((1, 2),))  # a - 1 = 3 siblings per level
        with pytest.raises(ValueError):
            MerkleProof(2, 0, R, ())
        with pytest.raises(ValueError):
            MerkleProof(16, 0, 0, ((0,) * 15,) * 17)  # 16^17 > 2^64


class TestMerkleProperties:
    @given(arities, st.lists(elements, min_size=1, max_size=40), st.data())
    @FAST
    def test_proofs_verify(self, arity: int, leaves: list[int], data: st.DataObject) -> None:
        tree = MerkleTree(leaves, arity)
        index = data.draw(st.integers(0, len(leaves) - 1))
        proof = tree.proof(index)
        assert proof.leaf == leaves[index]
        assert proof.depth == tree.depth
        assert proof.verify(tree.root)
        assert not proof.verify((tree.root + 1) % R)
        assert MerkleProof.from_bytes(proof.to_bytes()) == proof
        assert MerkleProof.from_json(proof.to_json()) == proof
        assert len(proof.to_bytes()) == 48 + 32 * tree.depth * (arity - 1)

    @given(arities, st.integers(1, 40))
    @FAST
    def test_incremental_equals_full(self, arity: int, n: int) -> None:
        leaves = sha_leaves(n, "incremental")
        tree = MerkleTree(leaves, arity)
        incremental = IncrementalMerkleTree(arity)
        incremental.extend(leaves)
        assert len(incremental) == n
        assert incremental.depth == tree.depth
        assert incremental.root() == tree.root
        for i in range(n):
            assert incremental.proof(i) == tree.proof(i)

    @pytest.mark.parametrize("arity", ARITIES)
    def test_incremental_every_prefix(self, arity: int) -> None:
        leaves = sha_leaves(2 * arity + 2, "prefix")
        incremental = IncrementalMerkleTree(arity)
        for n, leaf in enumerate(leaves, start=1):
            incremental.append(leaf)
            assert incremental.root() == MerkleTree(leaves[:n], arity).root

    @given(arities, st.integers(1, 40), st.data())
    @FAST
    def test_multi_proofs(self, arity: int, n: int, data: st.DataObject) -> None:
        tree = cached_tree(n, arity)
        indices = data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=6))
        proof = tree.multi_proof(indices)
        assert proof.indices == tuple(sorted(indices))
        assert proof.leaves == tuple(tree.leaves[i] for i in sorted(indices))
        assert proof.verify(tree.root)
        assert not proof.verify((tree.root + 1) % R)
        assert MerkleMultiProof.from_bytes(proof.to_bytes()) == proof
        assert MerkleMultiProof.from_json(proof.to_json()) == proof
        singles = sum(tree.depth * (arity - 1) for _ in indices)
        assert len(proof.siblings) <= singles
        if len(indices) == 1:
            (i,) = indices
            assert proof.siblings == tuple(s for g in tree.proof(i).siblings for s in g)

    @given(arities, st.integers(2, 20), st.data())
    @settings(max_examples=60, deadline=None)
    def test_mutated_proof_bytes(self, arity: int, n: int, data: st.DataObject) -> None:
        tree = cached_tree(n, arity)
        multi = data.draw(st.booleans())
        if multi:
            indices = data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=3))
            encoded = tree.multi_proof(indices).to_bytes()
            decode = MerkleMultiProof.from_bytes
        else:
            encoded = tree.proof(data.draw(st.integers(0, n - 1))).to_bytes()
            decode = MerkleProof.from_bytes  # type: ignore[assignment]
        position = data.draw(st.integers(0, len(encoded) - 1))
        delta = data.draw(st.integers(1, 255))
        mutated = bytearray(encoded)
        mutated[position] ^= delta
        try:
            proof = decode(bytes(mutated))
        except ValueError:
            return
        assert not proof.verify(tree.root)

    @pytest.mark.parametrize("cut", [1, 31, 32])
    def test_truncated_and_extended(self, cut: int) -> None:
        tree = cached_tree(5, 2)
        for cls, encoded in (
            (MerkleProof, tree.proof(4).to_bytes()),
            (MerkleMultiProof, tree.multi_proof([0, 4]).to_bytes()),
        ):
            with pytest.raises(ValueError):
                cls.from_bytes(encoded[:-cut])
            with pytest.raises(ValueError):
                cls.from_bytes(encoded + bytes(cut))


class TestMerkleEncodings:
    def test_proof_layout(self) -> None:
        tree = cached_tree(5, 4)
        proof = tree.proof(4)
        raw = proof.to_bytes()
        assert raw[:8] == b"BFMP\x01\x04\x02\x00"
        assert int.from_bytes(raw[8:16], "big") == 4
        assert raw[16:48] == proof.leaf.to_bytes(32, "big")
        assert raw[48:80] == proof.siblings[0][0].to_bytes(32, "big")
        assert len(raw) == 48 + 32 * 2 * 3

    @pytest.mark.parametrize(
        ("offset", "value", "reason"),
        [
            (0, ord("X"), "magic"),
            (4, 2, "version"),
            (5, 3, "arity"),
            (6, 65, "depth"),
            (7, 1, "reserved"),
            (8, 0xFF, "index"),
            (15, 4, "index"),  # 4 >= 2^2
        ],
    )
    def test_proof_header_rejects(self, offset: int, value: int, reason: str) -> None:
        raw = bytearray(cached_tree(4, 2).proof(1).to_bytes())
        raw[offset] = value
        with pytest.raises(ValueError, match=reason):
            MerkleProof.from_bytes(bytes(raw))

    def test_proof_rejects_non_canonical_and_types(self) -> None:
        raw = bytearray(cached_tree(4, 2).proof(1).to_bytes())
        raw[48:80] = R.to_bytes(32, "big")
        with pytest.raises(ValueError, match="canonical"):
            MerkleProof.from_bytes(bytes(raw))
        with pytest.raises(TypeError):
            MerkleProof.from_bytes("BFMP")  # type: ignore[arg-type]

    def test_arity16_depth_limit(self) -> None:
        header = b"BFMP\x01\x10\x11\x00" + bytes(8) + bytes(32)
        with pytest.raises(ValueError, match="depth"):
            MerkleProof.from_bytes(header + bytes(32 * 17 * 15))
        # The deepest legal proofs decode (a^d = 2^64 exactly for arity 2 and 16).
        deepest = MerkleProof(2, 2**64 - 1, 0, ((0,),) * 64)
        assert MerkleProof.from_bytes(deepest.to_bytes()) == deepest

    def test_multi_proof_layout(self) -> None:
        tree = cached_tree(5, 2)
        proof = tree.multi_proof([0, 4])
        raw = proof.to_bytes()
        assert raw[:8] == b"BFMM\x01\x02\x03\x00"
        assert int.from_bytes(raw[8:12], "big") == 2
        assert [int.from_bytes(raw[12 + 8 * k : 20 + 8 * k], "big") for k in range(2)] == [0, 4]
        s_offset = 12 + 2 * 8 + 2 * 32
        assert int.from_bytes(raw[s_offset : s_offset + 4], "big") == len(proof.siblings)
        # level 0: siblings of 0 and 4 (positions 1 and 5); level 1: positions 1 and 3;
        # level 2: nothing (both children of the root are known).
        assert proof.siblings == (
            tree.node(0, 1),
            tree.node(0, 5),
            tree.node(1, 1),
            tree.node(1, 3),
        )

    def test_multi_proof_rejects(self) -> None:
        tree = cached_tree(5, 2)
        good = tree.multi_proof([0, 4])
        for indices in ((4, 0), (0, 0), ()):
            with pytest.raises(ValueError):
                MerkleMultiProof(2, 3, indices, (1,) * len(indices), good.siblings)
        with pytest.raises(ValueError):
            MerkleMultiProof(2, 3, (0, 4), good.leaves, good.siblings[:-1])
        with pytest.raises(ValueError):
            MerkleMultiProof(2, 3, (0, 8), good.leaves, good.siblings)
        raw = bytearray(good.to_bytes())
        raw[8:12] = (0).to_bytes(4, "big")
        with pytest.raises(ValueError):
            MerkleMultiProof.from_bytes(bytes(raw))
        raw = bytearray(good.to_bytes())
        raw[8:12] = (2**32 - 1).to_bytes(4, "big")
        with pytest.raises(ValueError, match="truncated"):
            MerkleMultiProof.from_bytes(bytes(raw))

    def test_json_shape(self) -> None:
        tree = cached_tree(5, 2)
        obj = json.loads(tree.proof(4).to_json())
        assert obj["type"] == "bigfile_zk.MerkleProof"
        assert (obj["version"], obj["arity"], obj["depth"], obj["index"]) == (
            1,
            2,
            3,
            4,
        )
        assert obj["leaf"] == field.to_hex(tree.leaves[4])
        assert [len(g) for g in obj["siblings"]] == [1, 1, 1]
        multi = json.loads(tree.multi_proof([0, 4]).to_json())
        assert multi["type"] == "bigfile_zk.MerkleMultiProof" and multi["indices"] == [
            0,
            4,
        ]

    def test_json_accepts_upper_case_digits(self) -> None:
        proof = cached_tree(5, 2).proof(4)
        obj = json.loads(proof.to_json())
        obj["leaf"] = "0x" + obj["leaf"][2:].upper()
        assert MerkleProof.from_json(json.dumps(obj)) == proof

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda o: o.pop("leaf"),
            lambda o: o.update(extra=1),
            lambda o: o.update(type="bigfile_zk.MerkleMultiProof"),
            lambda o: o.update(version=2),
            lambda o: o.update(arity=3),
            lambda o: o.update(arity=True),
            lambda o: o.update(depth=2),
            lambda o: o.update(index=8),
            lambda o: o.update(index=-1),
            lambda o: o.update(index=1.0),
            lambda o: o.update(leaf=f"0x{R:064x}"),
            lambda o: o.update(leaf="0x"),
            lambda o: o.update(leaf=1),
            lambda o: o["siblings"][0].append(o["leaf"]),
            lambda o: o["siblings"].pop(),
            lambda o: o.update(siblings="nope"),
        ],
    )
    def test_json_rejects(self, mutate: object) -> None:
        obj = json.loads(cached_tree(5, 2).proof(4).to_json())
        mutate(obj)  # type: ignore[operator]
        with pytest.raises(ValueError):
            MerkleProof.from_json(json.dumps(obj))

    @pytest.mark.parametrize("text", ["", "[]", "null", "{", '"x"'])
    def test_json_rejects_non_objects(self, text: str) -> None:
        with pytest.raises(ValueError):
            MerkleProof.from_json(text)
        with pytest.raises(ValueError):
            MerkleMultiProof.from_json(text)

    def test_multi_json_rejects(self) -> None:
        good = json.loads(cached_tree(5, 2).multi_proof([0, 4]).to_json())
        for key, value in (("indices", [4, 0]), ("indices", [0, 0]), ("leaves", [])):
            obj = dict(good, **{key: value})
            with pytest.raises(ValueError):
                MerkleMultiProof.from_json(json.dumps(obj))

    def test_vector_file_is_current(self) -> None:
        path = VECTORS / "merkle.json"
        if not path.exists():
            pytest.skip("docs/spec/vectors/merkle.json not generated yet")
        vectors = json.loads(path.read_text())
        assert vectors == _gen_vectors.merkle_vectors()
        for case in vectors["cases"]:
            root = field.from_hex(case["root"])
            assert MerkleProof.from_bytes(bytes.fromhex(case["proof"])).verify(root)
            assert MerkleMultiProof.from_bytes(bytes.fromhex(case["multi_proof"])).verify(root)


# --- file commitments -------------------------------------------------------------------


def pattern(length: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(length))


@functools.cache
def cached_commitment(length: int, chunk_size: int = 992, arity: int = 2) -> FileCommitment:
    return commit_bytes(pattern(length), chunk_size, arity)


class TestCommitment:
    def test_leaf_iv(self) -> None:
        assert LEAF_IV == 0x62696766696C655F7A6B2F6C6561662F7631

    def test_chunk_elements(self) -> None:
        chunk = bytes(range(62))
        assert chunk_elements(chunk, 62) == [
            int.from_bytes(bytes(range(31)), "big"),
            int.from_bytes(bytes(range(31, 62)), "big"),
        ]
        assert chunk_elements(b"\x01", 124) == [1 << 240, 0, 0, 0]
        assert max(chunk_elements(b"\xff" * 992, 992)) == 2**248 - 1
        with pytest.raises(ValueError):
            chunk_elements(bytes(63), 62)
        with pytest.raises(ValueError):
            chunk_elements(b"", 61)

    def test_leaf_sponge_by_hand(self) -> None:
        chunk = pattern(124)
        e = chunk_elements(chunk, 124)
        first = poseidon_ex([e[0], e[1]], LEAF_IV, 3)
        assert first[0] == leaf_hash(chunk[:62])
        state = permute([first[0], (first[1] + e[2]) % R, (first[2] + e[3]) % R])
        assert leaf_hash(chunk) == state[0]
        with pytest.raises(ValueError):
            leaf_hash(b"")
        with pytest.raises(ValueError):
            leaf_hash(bytes(61))

    def test_meta(self) -> None:
        assert meta(5, 992, 2) == 5 + 992 * 2**64 + 2 * 2**96 + 2**128
        with pytest.raises(ValueError):
            meta(0, 992, 2)
        with pytest.raises(ValueError):
            meta(5, 992, 3)
        with pytest.raises(ValueError):
            meta(5, 992, 2, version=2)

    def test_commitment_by_hand(self) -> None:
        data = pattern(993)
        c = commit_bytes(data)
        leaves = [leaf_hash(data[:992]), leaf_hash(data[992:] + bytes(991))]
        root = poseidon(leaves)
        assert (c.root, c.num_chunks, c.depth) == (root, 2, 1)
        assert c.commitment == poseidon([root, meta(993, 992, 2)])
        single = commit_bytes(b"\x05")
        assert single.root == leaf_hash(b"\x05" + bytes(991)) and single.depth == 0

    def test_chunk_limits(self) -> None:
        assert num_chunks_for(2**32 * 62, 62) == 2**32
        with pytest.raises(ValueError, match="2\\^32"):
            num_chunks_for(2**32 * 62 + 1, 62)
        with pytest.raises(ValueError):
            FileCommitment.from_root(1, 2**32 * 992 + 1)
        big = FileCommitment.from_root(1, 2**32 * 992)
        assert (big.num_chunks, big.depth) == (2**32, 32)

    @pytest.mark.parametrize("chunk_size", [0, 31, 61, 63, 93, 65534, 65472 + 62, -62])
    def test_bad_chunk_size(self, chunk_size: int) -> None:
        with pytest.raises(ValueError, match=str(chunk_size)):
            commit_bytes(b"x", chunk_size)

    def test_bad_inputs(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            commit_bytes(b"")
        with pytest.raises(ValueError, match="3"):
            commit_bytes(b"x", 992, 3)
        with pytest.raises(TypeError):
            commit_bytes("text")  # type: ignore[arg-type]
        assert commit_bytes(bytearray(b"x")) == commit_bytes(b"x")
        assert commit_bytes(b"x", 65472).num_chunks == 1

    def test_constructor_checks_consistency(self) -> None:
        c = cached_commitment(5000)
        fields = c.to_dict()
        del fields["type"]
        kwargs = {**fields, "commitment": c.commitment, "root": c.root}
        assert FileCommitment(**kwargs) == c  # type: ignore[arg-type]
        for key, value in (
            ("num_chunks", 5),
            ("depth", 4),
            ("commitment", c.root),
            ("file_size", 5001),
            ("spec_version", 2),
        ):
            with pytest.raises(ValueError):
                FileCommitment(**{**kwargs, key: value})  # type: ignore[arg-type]

    def test_byte_layout(self) -> None:
        c = cached_commitment(5000)
        raw = c.to_bytes()
        assert len(raw) == 84
        assert raw[:12] == b"BFFC\x01\x02\x00\x00" + (992).to_bytes(4, "big")
        assert raw[12:20] == (5000).to_bytes(8, "big")
        assert raw[20:52] == c.root.to_bytes(32, "big")
        assert raw[52:] == c.commitment.to_bytes(32, "big")
        assert FileCommitment.from_bytes(raw) == c

    @pytest.mark.parametrize(
        ("offset", "value"),
        [
            (0, 0),
            (4, 2),
            (5, 3),
            (6, 1),
            (7, 1),
            (11, 61),
            (12, 1),
            (19, 0),
            (20, 0xFF),
            (83, 0),
        ],
    )
    def test_from_bytes_rejects(self, offset: int, value: int) -> None:
        raw = bytearray(cached_commitment(5000).to_bytes())
        raw[offset] = value if raw[offset] != value else value ^ 1
        with pytest.raises(ValueError):
            FileCommitment.from_bytes(bytes(raw))

    def test_from_bytes_rejects_lengths(self) -> None:
        raw = cached_commitment(5000).to_bytes()
        for bad in (raw[:-1], raw + b"\x00", b""):
            with pytest.raises(ValueError, match="84"):
                FileCommitment.from_bytes(bad)
        zero_size = raw[:12] + bytes(8) + raw[20:]
        with pytest.raises(ValueError, match="file_size"):
            FileCommitment.from_bytes(zero_size)

    def test_json(self) -> None:
        c = cached_commitment(5000)
        obj = json.loads(c.to_json())
        assert obj == {
            "type": "bigfile_zk.FileCommitment",
            "spec_version": 1,
            "commitment": field.to_hex(c.commitment),
            "root": field.to_hex(c.root),
            "file_size": 5000,
            "chunk_size": 992,
            "arity": 2,
            "num_chunks": 6,
            "depth": 3,
        }
        assert FileCommitment.from_json(c.to_json()) == c
        for key, value in (
            ("num_chunks", 7),
            ("depth", 2),
            ("file_size", 4999),
            ("arity", 4),
            ("chunk_size", 62),
            ("spec_version", 2),
            ("commitment", field.to_hex(c.root)),
            ("root", f"0x{R:064x}"),
            ("type", "bigfile_zk.MerkleProof"),
            ("file_size", "5000"),
            ("extra", 1),
        ):
            with pytest.raises(ValueError):
                FileCommitment.from_json(json.dumps({**obj, key: value}))
        del obj["depth"]
        with pytest.raises(ValueError, match="depth"):
            FileCommitment.from_json(json.dumps(obj))

    @pytest.mark.parametrize(
        ("length", "chunk_size", "arity"),
        [(1, 992, 2), (993, 992, 2), (1000, 62, 4), (700, 124, 16)],
    )
    def test_openings(self, length: int, chunk_size: int, arity: int) -> None:
        data = pattern(length)
        c = cached_commitment(length, chunk_size, arity)
        other = cached_commitment(length + 1, chunk_size, arity)
        for index in range(c.num_chunks):
            opening = open_bytes(data, c, index)
            assert opening.verify(c)
            assert not opening.verify(other)
            tampered = bytes([opening.data[0] ^ 1]) + opening.data[1:]
            assert not ChunkOpening(index, tampered, opening.proof).verify(c)
            # The padded form of a short last chunk must not open it.
            if len(opening.data) < chunk_size:
                padded = opening.data + b"\x00"
                assert not ChunkOpening(index, padded, opening.proof).verify(c)
            if c.num_chunks > 1:
                wrong = (index + 1) % c.num_chunks
                assert not ChunkOpening(wrong, opening.data, opening.proof).verify(c)
        with pytest.raises(IndexError):
            open_bytes(data, c, c.num_chunks)
        with pytest.raises(ValueError):
            open_bytes(data[:-1] + bytes([data[-1] ^ 1]), c, 0)
        with pytest.raises(ValueError):
            open_bytes(data + b"\x00", c, 0)

    @given(
        st.binary(min_size=1, max_size=1500),
        st.sampled_from([62, 124, 992]),
        arities,
        st.data(),
    )
    @settings(max_examples=15, deadline=None)
    def test_commitment_properties(
        self, data: bytes, chunk_size: int, arity: int, draw: st.DataObject
    ) -> None:
        c = commit_bytes(data, chunk_size, arity)
        assert FileCommitment.from_bytes(c.to_bytes()) == c
        assert FileCommitment.from_json(c.to_json()) == c
        index = draw.draw(st.integers(0, c.num_chunks - 1))
        assert open_bytes(data, c, index).verify(c)

        position = draw.draw(st.integers(0, len(data) - 1))
        delta = draw.draw(st.integers(1, 255))
        changed = bytearray(data)
        changed[position] ^= delta
        assert commit_bytes(bytes(changed), chunk_size, arity).commitment != c.commitment

        zeros = draw.draw(st.integers(1, 70))
        extended = commit_bytes(data + bytes(zeros), chunk_size, arity)
        assert extended.commitment != c.commitment

    def test_vector_file_is_current(self) -> None:
        path = VECTORS / "file_commitment.json"
        if not path.exists():
            pytest.skip("docs/spec/vectors/file_commitment.json not generated yet")
        vectors = json.loads(path.read_text())
        assert vectors == _gen_vectors.file_commitment_vectors()
        for case in vectors["cases"]:
            c = FileCommitment.from_bytes(bytes.fromhex(case["to_bytes"]))
            assert FileCommitment.from_json(json.dumps(case["json"])) == c
            data = pattern(case["file_size"])
            start = case["opening_index"] * c.chunk_size
            proof = MerkleProof.from_bytes(bytes.fromhex(case["opening_proof"]))
            opening = ChunkOpening(case["opening_index"], data[start : start + c.chunk_size], proof)
            assert opening.verify(c)


# --- circomlibjs cross-check ------------------------------------------------------------


Oracle = Callable[[list[tuple[list[int], int, int]]], list[list[int]]]


def _circomlib_or_skip() -> Oracle:
    """The circomlibjs oracle, or a skip (a failure under CI) if it cannot run here."""
    try:
        import _circomlibjs  # type: ignore[import-not-found]
    except ImportError:
        pytest.skip("tests/_circomlibjs.py not available")
    try:
        _circomlibjs.ensure_circomlibjs()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"circomlibjs unavailable: {exc}")
    oracle: Oracle = _circomlibjs.circomlib_poseidon
    return oracle


def test_against_circomlibjs() -> None:
    circomlib_poseidon = _circomlib_or_skip()
    rng = random.Random(20240601)
    cases: list[tuple[list[int], int, int]] = []
    expected: list[list[int]] = []
    for n in range(1, 17):
        for inputs in ([rng.randrange(R) for _ in range(n)], [R - 1] * n):
            cases.append((inputs, 0, 1))
            expected.append([poseidon(inputs)])
        inputs = [rng.randrange(R) for _ in range(n)]
        init = rng.randrange(R)
        cases.append((inputs, init, n + 1))
        expected.append(permute([init, *inputs]))
    for chunk in (bytes(62), pattern(62), bytes(range(194, 256))):
        e0, e1 = chunk_elements(chunk, 62)
        cases.append(([e0, e1], LEAF_IV, 1))
        expected.append([leaf_hash(chunk)])
        cases.append(([e0, e1], LEAF_IV, 3))
        expected.append(poseidon_ex([e0, e1], LEAF_IV, 3))
    assert circomlib_poseidon(cases) == expected
