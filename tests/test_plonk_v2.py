"""Spec v2 (``q_N``, ``docs/spec/plonk.md``): the Rust builder's dot products, and version-2
keys and proofs in the Rust core and the pure-Python reference.

* ``Builder.dot`` against plain arithmetic mod r, and its layout: ``⌈len/2⌉`` chain rows, plus a
  result row only when the next row reads ``c`` or at the end (hypothesis, no proving);
* the key bytes of §3 in both implementations, and both decoders' version-2 rules;
* soundness of a version-2 circuit in both verifiers: every proof element, the public input, a
  dot product's cells (named by the witness check; a proof forced through is refused) and
  keys of the other version;
* the version-2 vectors in the Rust verifier.

Random circuits proved by both provers are in tests/test_plonk.py (``cross_check``), the
Solidity verifier of version-2 keys in tests/test_evm.py.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import G1, add

import bigfile_zk
from bigfile_zk import SRS, plonk
from bigfile_zk.errors import DecodeError
from bigfile_zk.reference import kzg
from bigfile_zk.reference import plonk as ref
from bigfile_zk.reference.field import R

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors"
SEED = 5
MAX_DEGREE = 5 * 256 + 9
Q_N_OFFSET = 11 + 7 * 64  # [q_N] follows the header and [q_M] … [q_P] (§3)


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(MAX_DEGREE, SEED)


def ref_srs(k: int) -> ref.Srs:
    return ref.Srs.insecure(ref.required_max_degree(k), SEED)


# -- Builder.dot against arithmetic ------------------------------------------------------------

#: What may follow a dot product, and whether its first row leaves ``c`` free for the result
#: (an arithmetic row with ``q_O = 0`` and no ``c``): then no result row is needed.
HOSTS = {
    "dot": True,  # the next chain's first row (q_O = 0)
    "bool": True,  # x·x - x = 0 over (x, x, -)
    "constant": True,  # a - k = 0 over (a, -, -)
    "short": False,  # one term: out = c·x + k, out in c
    "mul": False,
    "add": False,
    "lookup": False,  # (x, y, tag)
    "poseidon": False,  # its first row adds C_0[1] to an input: out in c
}
COEFF = st.one_of(st.integers(0, 9), st.integers(R - 9, R - 1), st.integers(0, R - 1))
STEP = st.tuples(
    st.sampled_from(sorted(HOSTS)),
    st.lists(st.tuples(COEFF, st.integers(0, 2**16)), min_size=2, max_size=7),
    st.integers(0, R - 1),
)


@given(
    st.lists(st.integers(0, R - 1), min_size=2, max_size=4),
    st.lists(STEP, min_size=1, max_size=7),
)
def test_dot_is_the_sum_in_half_the_rows(inputs: list[int], steps: list[Any]) -> None:
    b = plonk.Builder({})
    pool = [b.input(v) for v in inputs]
    values = list(inputs)
    # Warm-up: the lookup table and its tag constant, and Poseidon's shared C_0[0] constant
    # row exist before the steps, so that each step's own rows are the same every time.
    table = b.add_table("squares", [(j, j * j) for j in range(8)])
    b.lookup(table, b.input(3), b.input(9))
    b.poseidon([pool[0], pool[1]])
    before = b.num_rows
    b.poseidon([pool[0], pool[1]])
    poseidon_rows = b.num_rows - before
    pending = False  # the previous step was a dot product of two terms or more
    chain_rows = 0
    for index, (kind, raw_terms, k) in enumerate(steps):
        terms = [(c, pool[i % len(pool)]) for c, i in raw_terms]
        expect = [(c, values[i % len(pool)]) for c, i in raw_terms]
        before = b.num_rows
        if kind in ("dot", "short"):
            if kind == "short":
                terms, expect = terms[:1], expect[:1]
            out = b.dot(terms, k)
            value = (k + sum(c * v for c, v in expect)) % R
            assert b.value(out) == value
            pool.append(out)
            values.append(value)
            own = math.ceil(len(terms) / 2)
        elif kind in ("mul", "add"):
            (_, x), (_, y) = terms[:2]
            out = b.mul(x, y) if kind == "mul" else b.add(x, y)
            (_, u), (_, v) = expect[:2]
            value = u * v % R if kind == "mul" else (u + v) % R
            assert b.value(out) == value
            pool.append(out)
            values.append(value)
            own = 1
        elif kind == "bool":
            b.assert_bool(b.input(k % 2))
            own = 1
        elif kind == "constant":
            b.constant(2**200 + index)  # a new value: a row of its own
            own = 1
        elif kind == "lookup":
            j = k % 8
            b.lookup(table, b.input(j), b.input(j * j))
            own = 1
        else:
            (_, x), (_, y) = terms[:2]
            pool.append(b.poseidon([x, y]))
            values.append(bigfile_zk.poseidon([expect[0][1], expect[1][1]]))
            assert b.value(pool[-1]) == values[-1]
            own = poseidon_rows
        extra = int(pending and not HOSTS[kind])  # the result row of the previous dot
        assert b.num_rows - before == own + extra, (kind, pending)
        pending = kind == "dot"
        chain_rows += own if kind == "dot" else 0
    before = b.num_rows
    circuit = b.build()
    assert b.num_rows - before == int(pending)  # the last dot's result row
    circuit.check_witness()
    assert circuit.version == (2 if chain_rows else 1)
    # The reference reads the same circuit and witness and finds them satisfied; q_N is -1
    # exactly on the chain rows.
    rc = ref.Circuit.from_json(circuit.to_json())
    ref.check_witness(rc, ref.Witness.from_json(circuit.witness_json()))
    q_n = rc.q_n or []
    assert sum(1 for q in q_n if q) == chain_rows
    assert all(q in (0, R - 1) for q in q_n)


def test_dot_of_fewer_than_two_terms_is_version_1() -> None:
    b = plonk.Builder({})
    x = b.input(6)
    assert b.value(b.dot([], 5)) == 5
    assert b.value(b.dot([(R - 2, x)], 5)) == (5 - 12) % R
    assert b.build().version == 1


# -- a version-2 circuit and its version-1 twin ---------------------------------------------

WEIGHTS = [3, R - 5, 7, 11, 2]
XS = [2, 3, 5, 7, 11]
K = 13
OUT = (K + sum(w * x for w, x in zip(WEIGHTS, XS, strict=True))) % R
VALUES = {"xs": XS, "out": OUT}


def dot_circuit(b: plonk.Builder) -> None:
    """``out = 13 + Σ w_i·x_i`` as a dot product: 3 chain rows and a result row (version 2)."""
    xs = b.private_inputs("xs", 5)
    b.assert_equal(b.dot(list(zip(WEIGHTS, xs, strict=True)), K), b.public_input("out"))


def lin_circuit(b: plonk.Builder) -> None:
    """The same statement as ``linear_combination`` rows (version 1), also 2^3 rows."""
    xs = b.private_inputs("xs", 5)
    out = b.linear_combination(list(zip(WEIGHTS, xs, strict=True)), K)
    b.assert_equal(out, b.public_input("out"))


@functools.cache
def v2() -> tuple[plonk.ProvingKey, plonk.Proof, ref.Circuit, ref.Witness, ref.ProvingKey]:
    native = plonk.build(dot_circuit, VALUES)
    rc = ref.Circuit.from_json(native.to_json())
    rw = ref.Witness.from_json(native.witness_json())
    rpk, _ = ref.setup(rc, ref_srs(rc.k))
    pk = plonk.setup(dot_circuit, srs())
    return pk, plonk.prove(pk, dot_circuit, VALUES), rc, rw, rpk


@functools.cache
def v1() -> tuple[plonk.ProvingKey, plonk.Proof]:
    pk = plonk.setup(lin_circuit, srs())
    return pk, plonk.prove(pk, lin_circuit, VALUES)


def both_verify(vk: bytes, proof: bytes, public: list[int]) -> tuple[bool, bool]:
    """(Rust, reference) verdicts on the key bytes and the EVM proof bytes."""
    rust_vk = plonk.VerifyingKey.from_bytes(vk)
    lookups = len(proof) == 960
    bfpf = b"BFPF" + bytes([1, int(lookups)]) + proof
    rust = plonk.verify(rust_vk, plonk.Proof.from_bytes(bfpf), public, allow_insecure_srs=True)
    return rust, ref.verify(ref.VerifyingKey.from_bytes(vk), proof, public)


def test_version_2_key_bytes() -> None:
    pk, proof, rc, _, rpk = v2()
    raw = pk.vk.to_bytes()
    assert pk.vk.version == rc.version == 2 and v1()[0].vk.version == 1
    assert raw == rpk.vk.to_bytes()
    assert len(raw) == 907 + 64 and raw[4] == 2
    assert len(v1()[0].vk.to_bytes()) == 907 and v1()[0].vk.to_bytes()[4] == 1
    q_n = ref.Srs.insecure(ref.required_max_degree(3), SEED).commit(rpk.polys["q_n"])
    assert raw[Q_N_OFFSET : Q_N_OFFSET + 64] == kzg.g1_to_bytes(q_n)
    # Without [q_N] and with version byte 1, the bytes are the key of the same columns minus
    # q_N (a version-1 circuit).
    obj = rc.to_json_dict()
    assert obj["format"] == "bigfile_zk/plonk-circuit/v2"
    assert list(obj).index("q_n") == list(obj).index("q_p") + 1
    del obj["q_n"]
    stripped = ref.Circuit.from_json_dict({**obj, "format": "bigfile_zk/plonk-circuit/v1"})
    _, stripped_vk = ref.setup(stripped, ref_srs(3))
    expected = raw[:4] + b"\x01" + raw[5:Q_N_OFFSET] + raw[Q_N_OFFSET + 64 :]
    assert stripped_vk.to_bytes() == expected
    assert both_verify(raw, proof.to_evm_bytes(), [OUT]) == (True, True)


def test_version_2_key_decoders_are_strict() -> None:
    raw = v2()[0].vk.to_bytes()
    one = v1()[0].vk.to_bytes()
    lookup_v2 = bytes.fromhex(
        next(c for c in _vectors()["cases"] if c["name"] == "dot_lookup")["vk"][2:]
    )
    assert len(lookup_v2) == 1163 + 64
    for good in (raw, lookup_v2):
        assert plonk.VerifyingKey.from_bytes(good).to_bytes() == good
        assert ref.VerifyingKey.from_bytes(good).to_bytes() == good
    for bad in (
        raw[:Q_N_OFFSET] + bytes(64) + raw[Q_N_OFFSET + 64 :],  # [q_N] = identity
        lookup_v2[:Q_N_OFFSET] + bytes(64) + lookup_v2[Q_N_OFFSET + 64 :],
        raw[:4] + b"\x01" + raw[5:],  # version 1 with a version-2 length
        one[:4] + b"\x02" + one[5:],  # and the other way
        raw[:4] + b"\x03" + raw[5:],
        raw[:-64],
    ):
        with pytest.raises(DecodeError):
            plonk.VerifyingKey.from_bytes(bad)
        with pytest.raises(ValueError):
            ref.VerifyingKey.from_bytes(bad)


def test_version_2_circuit_json_agrees() -> None:
    native = plonk.build(dot_circuit, VALUES)
    ours, theirs = json.loads(native.to_json()), v2()[2].to_json_dict()
    assert ours["format"] == "bigfile_zk/plonk-circuit/v2" and set(ours) == set(theirs)
    same_copies = sorted(map(sorted, ours.pop("copies"))) == sorted(map(sorted, theirs["copies"]))
    assert same_copies and ours == {k: v for k, v in theirs.items() if k != "copies"}
    assert ref.Circuit.from_json(json.dumps(ours | {"copies": theirs["copies"]})) == v2()[2]


# -- soundness ----------------------------------------------------------------------------------


def _elements() -> list[tuple[str, int, int]]:
    points = ref.proof_point_names(False)
    out = [(f"[{p}]", 64 * i, 64) for i, p in enumerate(points)]
    out += [(e, 64 * len(points) + 32 * i, 32) for i, e in enumerate(ref.proof_eval_names(False))]
    return out


@pytest.mark.parametrize(("name", "offset", "size"), _elements(), ids=lambda x: str(x))
def test_every_mutated_element_is_rejected_by_both(name: str, offset: int, size: int) -> None:
    pk, proof, *_ = v2()
    good = proof.to_evm_bytes()
    if size == 64:  # P -> P + G: another valid point
        new = kzg.g1_to_bytes(add(kzg.g1_from_bytes(good[offset : offset + 64]), G1))
    else:
        new = ((int.from_bytes(good[offset : offset + 32], "big") + 1) % R).to_bytes(32, "big")
    bad = good[:offset] + new + good[offset + size :]
    assert both_verify(pk.vk.to_bytes(), bad, [OUT]) == (False, False), name


def test_changed_public_input_is_rejected_by_both() -> None:
    pk, proof, *_ = v2()
    for wrong in (OUT + 1, 0):
        assert both_verify(pk.vk.to_bytes(), proof.to_evm_bytes(), [wrong]) == (False, False)


def test_changed_dot_product_cell_is_named_and_its_forced_proof_rejected() -> None:
    """Every cell the chain reads, changed alone, breaks the chain row that reads it: ``a, b``
    of row j and the running sum ``c`` of row j + 1 (read by row j's ``q_N`` first)."""
    pk, _, rc, rw, rpk = v2()
    assert rc.q_n is not None
    chain = [i for i, q in enumerate(rc.q_n) if q]
    assert len(chain) == 3 and chain == list(range(chain[0], chain[0] + 3))
    cells = [(col, row, row) for row in chain for col in (0, 1)]
    cells += [(2, row + 1, row) for row in chain]  # the sums, the last one the result
    cells = [cell for cell in cells if (cell[0], cell[1]) != (1, chain[-1])]  # 5 terms: no b
    forged = {}
    for col, row, broken in cells:
        wires = [list(rw.a), list(rw.b), list(rw.c)]
        wires[col][row] = (wires[col][row] + 1) % R
        bad = ref.Witness(*wires)
        with pytest.raises(ValueError, match=rf"^row {broken}: arithmetic gate"):
            ref.check_witness(rc, bad)
        forged[(col, row)] = bad
    rho = [(5 * j + 2) ** 3 % R for j in range(12)]
    for cell in ((2, chain[1]), (2, chain[-1] + 1)):  # a running sum; the result
        proof = ref.prove(rpk, forged[cell], rho, check=False).to_bytes()
        assert both_verify(pk.vk.to_bytes(), proof, [OUT]) == (False, False), cell


def test_keys_of_the_other_version_are_rejected() -> None:
    """The same statement as version 1 (linear_combination) and as the version-2 columns
    without q_N: neither key takes the version-2 proof, and the version-2 key refuses the
    version-1 proof."""
    pk2, proof2, rc, _, _ = v2()
    pk1, proof1 = v1()
    obj = rc.to_json_dict()
    del obj["q_n"]
    stripped = ref.Circuit.from_json_dict({**obj, "format": "bigfile_zk/plonk-circuit/v1"})
    _, stripped_vk = ref.setup(stripped, ref_srs(3))
    for vk in (pk1.vk.to_bytes(), stripped_vk.to_bytes()):
        assert both_verify(vk, proof2.to_evm_bytes(), [OUT]) == (False, False)
    assert both_verify(pk2.vk.to_bytes(), proof1.to_evm_bytes(), [OUT]) == (False, False)
    assert both_verify(pk1.vk.to_bytes(), proof1.to_evm_bytes(), [OUT]) == (True, True)


# -- vectors --------------------------------------------------------------------------------------


@functools.cache
def _vectors() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((VECTORS / "plonk.json").read_text(encoding="utf-8"))
    return result


V2_CASES = [c for c in _vectors()["cases"] if c["circuit"]["format"].endswith("/v2")]


@pytest.mark.parametrize("case", V2_CASES, ids=lambda c: c["name"])
def test_version_2_vectors_verify_in_both(case: dict[str, Any]) -> None:
    vk = bytes.fromhex(case["vk"][2:])
    proof = bytes.fromhex(case["proof"][2:])
    xs = [int(x, 16) for x in case["public_inputs"]]
    assert vk[4] == 2 and plonk.VerifyingKey.from_bytes(vk).version == 2
    assert bytes.fromhex(case["proof_bfpf"][2:])[4] == 1  # the proof encoding stays version 1
    assert both_verify(vk, proof, xs) == (True, True)
    rust_vk = plonk.VerifyingKey.from_bytes(vk)
    rust_proof = plonk.Proof.from_bytes(bytes.fromhex(case["proof_bfpf"][2:]))
    assert not plonk.verify(
        rust_vk, rust_proof, [(xs[0] + 1) % R, *xs[1:]], allow_insecure_srs=True
    )


def test_vectors_hold_three_version_2_cases() -> None:
    assert [c["name"] for c in V2_CASES] == ["dot", "dot_lookup", "dot_poseidon"]
