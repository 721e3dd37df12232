"""Tests of the pure-Python PLONK reference (``bigfile_zk.reference.plonk``) against the spec.

Completeness on small hand circuits (arithmetic with public inputs and copies, two tagged
lookup tables, one Poseidon permutation) and on random arithmetic circuits; soundness by
mutating every proof element, the public inputs and the key one at a time, and by proving
unsatisfied witnesses with the prover's check bypassed; structure (sigma's cycles, the strict
decoders, the transcript's byte layout recomputed here by hand, the honest MSM commitment path
against the public-τ shortcut); and the vector file, regenerated and compared.

py_ecc verifies a proof in ~0.5 s, so the soundness tests use the k = 3 and k = 4 circuits and
hypothesis draws only a few examples.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from Crypto.Hash import keccak
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import G1, add, field_modulus, multiply

import bigfile_zk
from bigfile_zk.reference import _gen_circuit_vectors as gen_circuits
from bigfile_zk.reference import _gen_plonk_vectors as gen
from bigfile_zk.reference import kzg, plonk
from bigfile_zk.reference import poseidon as ref_poseidon
from bigfile_zk.reference.field import R
from bigfile_zk.reference.plonk import (
    Circuit,
    CircuitBuilder,
    Proof,
    ProvingKey,
    Srs,
    VerifyingKey,
    Witness,
)

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "docs" / "spec" / "vectors"
SEED = 1

#: Proving and verifying: a handful of examples and no shrinking (each example is ~1 s).
PROVING = settings(max_examples=3, deadline=None, phases=(Phase.explicit, Phase.generate))


@dataclass(frozen=True)
class Case:
    circuit: Circuit
    witness: Witness
    pk: ProvingKey
    vk: VerifyingKey
    proof: bytes

    @property
    def public_inputs(self) -> list[int]:
        return self.witness.public_inputs(self.circuit.num_public)


@functools.cache
def srs(k: int) -> Srs:
    return Srs.insecure(plonk.required_max_degree(k), SEED)


def blinding(lookups: bool, label: str = "tests") -> list[int]:
    return [gen.sha_element(f"{label}/{j}") for j in range(18 if lookups else 12)]


def make_case(circuit: Circuit, witness: Witness) -> Case:
    pk, vk = plonk.setup(circuit, srs(circuit.k))
    proof = plonk.prove(pk, witness, blinding(circuit.lookups)).to_bytes()
    return Case(circuit, witness, pk, vk, proof)


@functools.cache
def arith() -> Case:
    _, _, circuit, witness = gen.arith_case()
    return make_case(circuit, witness)


@functools.cache
def lookup() -> Case:
    _, _, circuit, witness = gen.lookup_case()
    return make_case(circuit, witness)


@functools.cache
def poseidon_case() -> Case:
    _, _, circuit, witness = gen.poseidon_case()
    return make_case(circuit, witness)


@functools.cache
def dot() -> Case:
    _, _, circuit, witness = gen.dot_case()
    return make_case(circuit, witness)


@functools.cache
def dot_lookup() -> Case:
    _, _, circuit, witness = gen.dot_lookup_case()
    return make_case(circuit, witness)


CASES: dict[str, Callable[[], Case]] = {
    "arith": arith,
    "lookup": lookup,
    "dot": dot,  # spec version 2 (q_N)
    "dot_lookup": dot_lookup,
}


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def g1_bytes(x: int) -> bytes:
    """``[x]G1`` encoded (a valid, non-identity point for ``x != 0``)."""
    return kzg.g1_to_bytes(multiply(G1, x))


# --- completeness --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_hand_circuit_proof_verifies(name: str) -> None:
    case = CASES[name]()
    assert len(case.proof) == (960 if case.circuit.lookups else 768)
    assert plonk.verify(case.vk, case.proof, case.public_inputs)
    assert plonk.verify(case.vk, Proof.from_bytes(case.proof, case.vk.lookups), case.public_inputs)


def test_poseidon_circuit_proves_poseidon_of_1_2() -> None:
    case = poseidon_case()
    # The known answer of poseidon.md for Poseidon([1, 2]) is the public input.
    expected = 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A
    assert case.public_inputs == [expected]
    assert plonk.verify(case.vk, case.proof, [expected])
    assert not plonk.verify(case.vk, case.proof, [expected + 1])


def test_blinding_changes_the_proof_not_its_validity() -> None:
    case = arith()
    other = plonk.prove(case.pk, case.witness, blinding(False, "other")).to_bytes()
    assert other != case.proof
    assert plonk.verify(case.vk, other, case.public_inputs)
    # Deterministic: the same scalars give the same bytes.
    again = plonk.prove(case.pk, case.witness, blinding(False)).to_bytes()
    assert again == case.proof


def test_lookup_multiplicities_counted_at_first_table_row() -> None:
    case = lookup()
    m = plonk._multiplicities(case.circuit, case.witness)
    table = case.circuit.table()
    # (1, 1, 1) is looked up twice, (0, 1, 1), (5, 0, 2), (7, 0, 2) once; the padding rows
    # repeat (7, 0, 2), whose count sits at its first row only.
    expected = [0] * case.circuit.n
    expected[table.index((1, 1, 1))] = 2
    expected[table.index((0, 1, 1))] = 1
    expected[table.index((5, 0, 2))] = 1
    expected[table.index((7, 0, 2))] = 1
    assert m == expected
    assert table[-1] == (7, 0, 2) and table.index((7, 0, 2)) < case.circuit.n - 1


@st.composite
def random_arith_circuits(draw: st.DrawFn) -> tuple[Circuit, Witness]:
    """k = 3, 0..2 public inputs, random copy classes with a common value each, random
    selectors on every other row with q_C solving the gate."""
    n = 8
    num_public = draw(st.integers(0, 2))
    values = st.integers(0, R - 1)
    wires = [[draw(values) for _ in range(n)] for _ in range(3)]
    cells = [(col, row) for col in range(3) for row in range(n)]
    b = CircuitBuilder(3, num_public=num_public)
    pairs = draw(st.lists(st.tuples(st.sampled_from(cells), st.sampled_from(cells)), max_size=6))
    for x, y in pairs:
        b.copy(x, y)
    # One value per copy class: the class's root decides.
    for col, row in cells:
        rcol, rrow = b._find((col, row))
        wires[col][row] = wires[rcol][rrow]
    for row in range(n):
        a, bb, c = (wires[col][row] for col in range(3))
        if row < num_public:
            b.public_input(row, a)
            b.gate(row, a, bb, c, q_l=1)
            continue
        q_m, q_l, q_r, q_o = (draw(values) for _ in range(4))
        q_c = -(q_m * a * bb + q_l * a + q_r * bb + q_o * c)
        b.gate(row, a, bb, c, q_m=q_m, q_l=q_l, q_r=q_r, q_o=q_o, q_c=q_c)
    return b.build()


@PROVING
@given(random_arith_circuits())
def test_random_arithmetic_circuits_verify(circuit_witness: tuple[Circuit, Witness]) -> None:
    circuit, witness = circuit_witness
    plonk.check_witness(circuit, witness)
    case = make_case(circuit, witness)
    assert plonk.verify(case.vk, case.proof, case.public_inputs)


# --- the Poseidon gate ------------------------------------------------------------------------


@pytest.mark.parametrize("state", [[0, 1, 2], [0, 0, 0], [R - 1, R - 2, 12345]])
def test_poseidon_layout_computes_circomlib_permutation(state: list[int]) -> None:
    rows = plonk.poseidon_layout(state)
    assert len(rows) == plonk.POSEIDON_ROWS == 66
    output = list(rows[-1].wires)
    assert output == ref_poseidon.permute(state)
    assert output == bigfile_zk.poseidon_permute(state)
    if state[0] == 0:
        assert output[0] == bigfile_zk.poseidon(state[1:])
    constants = ref_poseidon.round_constants(3)
    assert list(rows[0].wires) == [(s + c) % R for s, c in zip(state, constants[:3], strict=True)]
    # Rounds 0..3 and 61..64 full, 4..60 partial, the output row neither.
    assert [r.q_f for r in rows] == [1] * 4 + [0] * 57 + [1] * 4 + [0]
    assert [r.q_p for r in rows] == [0] * 4 + [1] * 57 + [0] * 5
    for rho, row in enumerate(rows[:-1]):
        expected = tuple(constants[3 * (rho + 1) : 3 * (rho + 2)]) if rho < 64 else (0, 0, 0)
        assert row.constants == expected


def test_poseidon_rows_satisfy_the_gate_and_not_a_tampered_round() -> None:
    b = CircuitBuilder(7)
    b.poseidon(0, [0, 5, 6])
    circuit, witness = b.build()
    plonk.check_witness(circuit, witness)
    for row, col in ((10, 1), (65, 2)):  # a partial-round row; the output row
        bad = [list(w) for w in (witness.a, witness.b, witness.c)]
        bad[col][row] = (bad[col][row] + 1) % R
        with pytest.raises(ValueError, match=f"row {row - 1}: Poseidon"):
            plonk.check_witness(circuit, Witness(*bad))


# --- soundness ---------------------------------------------------------------------------------


def _points_and_scalars(lookups: bool) -> list[tuple[str, int, int]]:
    """``(name, offset, size)`` of every proof element."""
    out, offset = [], 0
    for name in plonk.proof_point_names(lookups):
        out.append((name, offset, 64))
        offset += 64
    for name in plonk.proof_eval_names(lookups):
        out.append((name, offset, 32))
        offset += 32
    return out


ELEMENTS = [
    (case, name, offset, size)
    for case, lookups in (("arith", False), ("lookup", True))
    for name, offset, size in _points_and_scalars(lookups)
]


@pytest.mark.parametrize(("case_name", "name", "offset", "size"), ELEMENTS)
def test_mutated_element_is_rejected(case_name: str, name: str, offset: int, size: int) -> None:
    case = CASES[case_name]()
    proof = bytearray(case.proof)
    if size == 64:  # P -> P + G: still a valid point
        point = kzg.g1_from_bytes(bytes(proof[offset : offset + 64]))
        proof[offset : offset + 64] = kzg.g1_to_bytes(add(point, G1))
    else:  # s -> s + 1
        value = int.from_bytes(proof[offset : offset + 32], "big")
        proof[offset : offset + 32] = ((value + 1) % R).to_bytes(32, "big")
    assert not plonk.verify(case.vk, bytes(proof), case.public_inputs), name


@pytest.mark.parametrize("case_name", ["arith", "lookup"])
def test_malformed_elements_are_rejected(case_name: str) -> None:
    """Identity points, coordinates >= q, off-curve points, scalars >= r: decode failures."""
    case = CASES[case_name]()
    for name, offset, size in _points_and_scalars(case.vk.lookups):
        variants: list[bytes] = []
        if size == 64:
            variants.append(bytes(64))  # the identity
            variants.append(field_modulus.to_bytes(32, "big") + bytes(31) + b"\x02")
            variants.append((1).to_bytes(32, "big") + (3).to_bytes(32, "big"))  # off-curve
        else:
            variants.append(R.to_bytes(32, "big"))
            variants.append(b"\xff" * 32)
        for bad in variants:
            proof = case.proof[:offset] + bad + case.proof[offset + size :]
            assert not plonk.verify(case.vk, proof, case.public_inputs), name
            with pytest.raises(ValueError):
                Proof.from_bytes(proof, case.vk.lookups)


def test_version_2_rules_in_the_builder_and_the_circuit() -> None:
    """q_N (§3): refused on Poseidon rows, row n - 1 and public-input rows; an all-zero q_n is
    not a version-2 circuit; dot chains need two terms."""
    b = CircuitBuilder(3, num_public=1)
    b.public_input(0, 1)
    assert b.build()[0].version == 1  # no q_n set: version 1, q_n absent
    with pytest.raises(ValueError, match="at least two terms"):
        b.dot(1, [(1, 2)])
    base = dot().circuit.to_json_dict()

    def with_q_n(row: int, value: int) -> dict[str, object]:
        column = list(base["q_n"])
        column[row] = str(value)
        return {**base, "q_n": column}

    for bad, message in (
        (with_q_n(15, 1), "n - 1 must have q_n = 0"),
        (with_q_n(0, 1), "public-input row"),
        ({**base, "q_n": ["0"] * 16}, "all zero"),
    ):
        with pytest.raises(ValueError, match=message):
            Circuit.from_json_dict(bad)
    q_f = ["0"] * 16
    q_f[2] = "1"  # row 2 starts a chain (q_M = q_O = 0): only its q_N is wrong
    with pytest.raises(ValueError, match="q_n must be 0 on a Poseidon row"):
        Circuit.from_json_dict({**base, "q_f": q_f})


def test_lengths_are_exact() -> None:
    case = arith()
    for proof in (case.proof[:-1], case.proof + b"\x00", b"", case.proof + case.proof[:32]):
        assert not plonk.verify(case.vk, proof, case.public_inputs)
        with pytest.raises(ValueError):
            Proof.from_bytes(proof, False)
    # A proof of the other shape (lookups) is refused by length too.
    assert not plonk.verify(case.vk, lookup().proof, case.public_inputs)
    assert not plonk.verify(lookup().vk, case.proof, lookup().public_inputs)


def test_public_inputs_are_bound() -> None:
    case = arith()
    x0, x1 = case.public_inputs
    assert plonk.verify(case.vk, case.proof, [x0, x1])
    for bad in ([x0 + 1, x1], [x0, x1 + 1], [x1, x0]):  # false statements
        assert not plonk.verify(case.vk, case.proof, bad), bad
    # Malformed statements raise, as the native verifier does (plonk.md §6).
    for malformed, error in (
        ([x0], ValueError),
        ([x0, x1, 0], ValueError),
        ([], ValueError),
        ([x0 + R, x1], ValueError),
        ([x0, -1], ValueError),
        ([R, x1], ValueError),
        ([True, x1], TypeError),
        ([x0, str(x1)], TypeError),
    ):
        with pytest.raises(error):
            plonk.verify(case.vk, case.proof, malformed)


def test_wrong_verifying_key_is_rejected() -> None:
    case = arith()
    # Another circuit of the same shape: the same gates with one more copy constraint.
    other = Circuit.from_json_dict({**case.circuit.to_json_dict(), "copies": [[[1, 6], [1, 7]]]})
    _, other_vk = plonk.setup(other, srs(3))
    assert other_vk.to_bytes() != case.vk.to_bytes()
    assert not plonk.verify(other_vk, case.proof, case.public_inputs)
    # The right key with another SRS's [τ]G2.
    _, vk_other_srs = plonk.setup(case.circuit, Srs.insecure(plonk.required_max_degree(3), 2))
    assert not plonk.verify(vk_other_srs, case.proof, case.public_inputs)


def test_garbage_of_the_right_length_is_rejected_without_raising() -> None:
    case = arith()
    assert not plonk.verify(case.vk, bytes(768), case.public_inputs)
    points = b"".join(g1_bytes(i + 2) for i in range(7))
    scalars = b"".join(i.to_bytes(32, "big") for i in range(10))
    assert not plonk.verify(case.vk, points + scalars, case.public_inputs)


def _unsatisfied(kind: str) -> tuple[Circuit, Witness, str]:
    """A circuit with a witness that breaks exactly one constraint of the given kind, and the
    pattern of the prover's error message."""
    if kind == "gate":
        _, _, circuit, w = gen.arith_case()
        bad = [list(w.a), list(w.b), list(w.c)]
        bad[2][4] += 1  # row 4: 5a - c + 1 = 0 breaks; c of row 4 is copied to a of row 5...
        bad[0][5] += 1  # ... which is kept equal, so row 5 breaks as well, row 4 first
        return circuit, Witness(*bad), r"row 4: arithmetic gate"
    if kind == "copy":
        b = CircuitBuilder(3, num_public=1)
        b.public_input(0, 9)
        b.gate(2, 9, 0, 0)  # an all-zero gate: anything goes, only the copy binds it
        b.copy((0, 0), (0, 2))
        circuit, w = b.build()
        bad = [list(w.a), list(w.b), list(w.c)]
        bad[0][2] = 10
        return circuit, Witness(*bad), r"copy constraint: cell \(a, row 2\)"
    if kind == "lookup":
        _, _, circuit, w = gen.lookup_case()
        bad = [list(w.a), list(w.b), list(w.c)]
        bad[0][3] = 8  # x = 8 is out of the range 0..7; the public input row is x as well
        bad[0][0] = 8
        return circuit, Witness(*bad), r"row 3: lookup of \(8, 0, 2\) is not in the table"
    if kind == "dot":
        _, _, circuit, w = gen.dot_case()
        bad = [list(w.a), list(w.b), list(w.c)]
        bad[2][3] += 1  # the running sum row 2 hands to row 3 (read by row 2's q_N first)
        return circuit, Witness(*bad), r"row 2: arithmetic gate"
    if kind == "poseidon":
        b = CircuitBuilder(7)
        b.poseidon(0, [0, 1, 2])
        circuit, w = b.build()
        bad = [list(w.a), list(w.b), list(w.c)]
        bad[1][40] = (bad[1][40] + 1) % R
        return circuit, Witness(*bad), r"row 39: Poseidon partial round: row 40 wire b"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["gate", "copy", "lookup", "poseidon", "dot"])
def test_unsatisfied_witness_is_refused_and_its_forced_proof_rejected(kind: str) -> None:
    circuit, witness, message = _unsatisfied(kind)
    pk, vk = plonk.setup(circuit, srs(circuit.k))
    rho = blinding(circuit.lookups)
    with pytest.raises(ValueError, match=message):
        plonk.check_witness(circuit, witness)
    with pytest.raises(ValueError, match=message):
        plonk.prove(pk, witness, rho)
    forged = plonk.prove(pk, witness, rho, check=False).to_bytes()
    assert not plonk.verify(vk, forged, witness.public_inputs(circuit.num_public))


def test_prove_refuses_bad_blinding() -> None:
    case = arith()
    with pytest.raises(ValueError, match="12 blinding scalars"):
        plonk.prove(case.pk, case.witness, blinding(False)[:-1])
    with pytest.raises(ValueError, match="12 blinding scalars"):
        plonk.prove(case.pk, case.witness, blinding(True))
    with pytest.raises(ValueError):
        plonk.prove(case.pk, case.witness, [R, *blinding(False)[1:]])


def test_setup_refuses_a_small_srs() -> None:
    # 3n + 9 without the Poseidon round gate (8 rows: 33), 5n + 9 with it (§3).
    circuit = arith().circuit
    assert not circuit.has_round_gates
    with pytest.raises(ValueError, match="3n \\+ 9 = 33"):
        plonk.setup(circuit, Srs.insecure(32, SEED))
    plonk.setup(circuit, Srs.insecure(33, SEED))
    poseidon = poseidon_case().circuit
    assert poseidon.has_round_gates
    need = 5 * poseidon.n + 9
    with pytest.raises(ValueError, match=f"5n \\+ 9 = {need}"):
        plonk.setup(poseidon, Srs.insecure(need - 1, SEED))


# --- structure -------------------------------------------------------------------------------


def test_sigma_is_the_documented_permutation() -> None:
    circuit = arith().circuit
    n = circuit.n
    omega = kzg.root_of_unity(n)

    def ident(col: int, row: int) -> int:
        return (1, 5, 25)[col] * pow(omega, row, R) % R

    sigma = circuit.sigma()
    # A permutation of the 3n identities (which are distinct: H, 5H, 25H are disjoint).
    ids = sorted(ident(col, row) for col in range(3) for row in range(n))
    assert len(set(ids)) == 3 * n
    assert sorted(v for column in sigma for v in column) == ids
    # The classes of gen.arith_case, sorted by col·n + row, each a cycle.
    assert circuit.copies == [
        ((0, 0), (0, 2), (0, 3)),
        ((0, 1), (2, 2)),
        ((0, 4), (2, 3)),
        ((0, 5), (2, 4)),
        ((1, 2), (1, 3)),
    ]
    assert sigma[0][0] == ident(0, 2)
    assert sigma[0][2] == ident(0, 3)
    assert sigma[0][3] == ident(0, 0)
    assert sigma[0][1] == ident(2, 2) and sigma[2][2] == ident(0, 1)
    assert sigma[1][2] == ident(1, 3) and sigma[1][3] == ident(1, 2)
    in_a_class = {cell for cells in circuit.copies for cell in cells}
    for col in range(3):
        for row in range(n):
            if (col, row) not in in_a_class:
                assert sigma[col][row] == ident(col, row)


def test_copy_classes_are_validated() -> None:
    base = arith().circuit.to_json_dict()
    for copies in (
        [[[0, 1]]],  # a single cell
        [[[0, 1], [0, 2]], [[0, 2], [1, 1]]],  # a cell in two classes
        [[[0, 1], [0, 1]]],  # a cell twice
        [[[3, 1], [0, 2]]],  # no column 3
        [[[0, 8], [0, 2]]],  # no row 8
    ):
        with pytest.raises(ValueError):
            Circuit.from_json_dict({**base, "copies": copies})
    # The order of cells and classes is free; the normal form is sorted.
    shuffled = [[[1, 7], [1, 6]], [[2, 0], [0, 5]]]
    circuit = Circuit.from_json_dict({**base, "copies": shuffled})
    assert circuit.copies == [((0, 5), (2, 0)), ((1, 6), (1, 7))]


def test_circuit_rules_are_validated() -> None:
    base = arith().circuit.to_json_dict()

    def with_column(name: str, row: int, value: int) -> dict[str, object]:
        column = list(base[name])
        column[row] = str(value)
        return {**base, name: column}

    for bad, message in (
        (with_column("q_f", 7, 1), "n - 1 may not be a Poseidon row"),
        (with_column("q_f", 6, 2), "0 or 1"),
        ({**with_column("q_f", 6, 1), "q_p": with_column("q_p", 6, 1)["q_p"]}, "both"),
        (with_column("q_m", 0, 1), "public-input row"),
        (with_column("q_l", 1, 2), "public-input row"),
        ({**base, "num_public": 9}, "num_public"),
        ({**base, "k": 2}, "k must be"),
        (with_column("q_c", 3, R), "not < r"),
    ):
        with pytest.raises(ValueError, match=message):
            Circuit.from_json_dict(bad)


def test_circuit_and_witness_json_round_trip() -> None:
    for make in (arith, lookup, dot, dot_lookup):
        case = make()
        text = case.circuit.to_json()
        again = Circuit.from_json(text)
        assert again.to_json() == text
        assert Witness.from_json(case.witness.to_json()) == case.witness
        obj = json.loads(text)
        v2 = case.circuit.version == 2
        assert obj["format"] == f"bigfile_zk/plonk-circuit/v{case.circuit.version}"
        assert (list(obj)[list(obj).index("q_p") + 1] == "q_n") == v2
        assert set(obj) == {"format", "k", "num_public", "lookups", "copies"} | (
            {"q_n"} if v2 else set()
        ) | {
            "q_m",
            "q_l",
            "q_r",
            "q_o",
            "q_c",
            "q_f",
            "q_p",
        } | ({"q_k", "t1", "t2", "t3"} if case.circuit.lookups else set())
    obj = arith().circuit.to_json_dict()
    for bad_value in ("01", "-1", "0x10", " 1", str(R), 1):
        column = list(obj["q_m"])
        column[3] = bad_value
        with pytest.raises(ValueError):
            Circuit.from_json_dict({**obj, "q_m": column})
    with pytest.raises(ValueError):
        Circuit.from_json_dict({**obj, "extra": 1})
    with pytest.raises(ValueError):
        Circuit.from_json_dict({**obj, "q_k": obj["q_m"]})  # lookup columns without lookups
    with pytest.raises(ValueError):
        Witness.from_json_dict({**arith().witness.to_json_dict(), "format": "other"})


@pytest.mark.parametrize("name", list(CASES))
def test_verifying_key_bytes_round_trip(name: str) -> None:
    vk = CASES[name]().vk
    raw = vk.to_bytes()
    assert len(raw) == (1163 if vk.lookups else 907) + (64 if vk.version == 2 else 0)
    assert raw[:4] == b"BFVK" and raw[4] == vk.version and raw[5] == vk.k
    assert int.from_bytes(raw[6:10], "big") == vk.num_public and raw[10] == int(vk.lookups)
    assert raw[-256:-128] == kzg.g2_to_bytes(kzg.G2)
    assert VerifyingKey.from_bytes(raw).to_bytes() == raw
    assert vk.digest() == keccak256(raw)


def test_verifying_key_decoder_is_strict() -> None:
    raw = arith().vk.to_bytes()

    def patched(offset: int, data: bytes) -> bytes:
        return raw[:offset] + data + raw[offset + len(data) :]

    off_curve = (1).to_bytes(32, "big") + (3).to_bytes(32, "big")
    for bad in (
        raw[:-1],
        raw + b"\x00",
        patched(0, b"BFVX"),
        patched(4, b"\x02"),
        patched(5, b"\x02"),
        patched(5, b"\x1a"),
        patched(6, (9).to_bytes(4, "big")),  # more public inputs than rows
        patched(10, b"\x02"),
        patched(10, b"\x01"),  # the lookup flag: the length no longer fits
        patched(11, off_curve),
        patched(11, field_modulus.to_bytes(32, "big") + bytes(32)),
        patched(len(raw) - 256, bytes(128)),  # [1]G2 = identity
        patched(len(raw) - 128, bytes(128)),  # [τ]G2 = identity
    ):
        with pytest.raises(ValueError):
            VerifyingKey.from_bytes(bad)
    # An identity fixed commitment is allowed (an all-zero column): q_m of the lookup circuit
    # is all zero.
    vk = lookup().vk
    assert vk.to_bytes()[11:75] == bytes(64)
    VerifyingKey.from_bytes(vk.to_bytes())


def test_proof_bfpf_encoding() -> None:
    for make in (arith, lookup):
        case = make()
        proof = Proof.from_bytes(case.proof, case.vk.lookups)
        bfpf = proof.to_bfpf()
        assert bfpf == b"BFPF" + bytes([1, int(case.vk.lookups)]) + case.proof
        assert Proof.from_bfpf(bfpf).to_bytes() == case.proof
        for bad in (
            b"BFPX" + bfpf[4:],
            bfpf[:4] + b"\x02" + bfpf[5:],
            bfpf[:5] + bytes([bfpf[5] ^ 1]) + bfpf[6:],
            bfpf[:5] + bytes([bfpf[5] | 2]) + bfpf[6:],
            bfpf[:-1],
        ):
            with pytest.raises(ValueError):
                Proof.from_bfpf(bad)


def _spec_challenges(vk: VerifyingKey, proof: bytes, xs: list[int]) -> dict[str, int]:
    """§4 recomputed from the proof bytes with keccak alone."""
    lookups = vk.lookups
    n_points = 9 if lookups else 7
    points = [proof[64 * i : 64 * i + 64] for i in range(n_points)]
    evals = proof[64 * n_points :]

    def ch(h: bytes, j: int) -> int:
        return int.from_bytes(keccak256(h + bytes([j])), "big") % R

    h = keccak256(
        b"bigfile_zk/plonk/v1"
        + keccak256(vk.to_bytes())
        + b"".join(x.to_bytes(32, "big") for x in xs)
    )
    out = {}
    h = keccak256(h + b"".join(points[:4] if lookups else points[:3]))
    out["beta"], out["gamma"] = ch(h, 0), ch(h, 1)
    if lookups:
        out["eta"], out["lambda"] = ch(h, 2), ch(h, 3)
    h = keccak256(h + b"".join(points[4:6] if lookups else points[3:4]))
    out["alpha"] = ch(h, 0)
    h = keccak256(h + points[-3])
    out["zeta"] = ch(h, 0)
    h = keccak256(h + evals)
    out["nu"] = ch(h, 0)
    h = keccak256(h + points[-2] + points[-1])
    out["u"] = ch(h, 0)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_transcript_matches_the_spec_layout(name: str) -> None:
    case = CASES[name]()
    proof = Proof.from_bytes(case.proof, case.vk.lookups)
    got = plonk.transcript_challenges(case.vk, proof, case.public_inputs).as_dict()
    expected = _spec_challenges(case.vk, case.proof, case.public_inputs)
    assert {k: v for k, v in got.items() if v is not None} == expected
    # And the prover derived the same ones.
    _, prover_challenges = plonk._prove(case.pk, case.witness, blinding(case.vk.lookups), True)
    assert prover_challenges.as_dict() == got


def test_transcript_binds_the_key_and_every_public_input() -> None:
    case = arith()
    proof = Proof.from_bytes(case.proof, False)
    base = plonk.transcript_challenges(case.vk, proof, case.public_inputs)
    x0, x1 = case.public_inputs
    for xs in ([x0 + 1, x1], [x0, x1 + 1], [x1, x0]):
        other = plonk.transcript_challenges(case.vk, proof, xs)
        assert other.beta != base.beta and other.u != base.u
    _, other_vk = plonk.setup(case.circuit, Srs.insecure(plonk.required_max_degree(3), 2))
    other = plonk.transcript_challenges(other_vk, proof, case.public_inputs)
    assert other.beta != base.beta


def test_msm_commitments_equal_the_public_tau_shortcut() -> None:
    """The honest path (Σ c_j [τ^j]G1 over the SRS points) gives the same key and proof."""
    case = arith()
    honest = Srs.from_reference(kzg.insecure_srs(plonk.required_max_degree(3), SEED))
    pk, vk = plonk.setup(case.circuit, honest)
    assert vk.to_bytes() == case.vk.to_bytes()
    proof = plonk.prove(pk, case.witness, blinding(False)).to_bytes()
    assert proof == case.proof
    for coeffs in ([], [0, 0], [1], [3, 0, 5, 7]):
        assert kzg.g1_to_bytes(honest.commit(coeffs)) == kzg.g1_to_bytes(srs(3).commit(coeffs))


def test_quotient_fits_the_srs_exactly() -> None:
    """The Poseidon circuit has the largest quotient (degree up to 5n + 9) and proves with an
    SRS of exactly that degree: the commitment would refuse a longer polynomial."""
    case = poseidon_case()
    assert srs(7).max_degree == 5 * 128 + 9
    with pytest.raises(ValueError, match="exceeds"):
        srs(7).commit([0] * (5 * 128 + 10) + [1])
    assert len(case.proof) == 768


# --- vectors ---------------------------------------------------------------------------------


def test_vectors_file_is_up_to_date() -> None:
    on_disk = json.loads((VECTORS / "plonk.json").read_text(encoding="utf-8"))
    assert on_disk == gen.plonk_vectors()


_CIRCUIT_CASES = json.loads((VECTORS / "plonk_circuits.json").read_text(encoding="utf-8"))


def test_circuit_vectors_file_is_up_to_date() -> None:
    assert gen_circuits.circuit_vectors() == _CIRCUIT_CASES


@pytest.mark.parametrize("case", _CIRCUIT_CASES["cases"], ids=lambda c: c["name"])
def test_reference_accepts_exactly_the_circuits_the_spec_allows(case: dict) -> None:
    """The same file holds the Rust core to the same cases (rust/core/tests/spec_vectors.rs)."""
    if case["valid"]:
        Circuit.from_json_dict(case["circuit"])
    else:
        with pytest.raises((ValueError, TypeError)):
            Circuit.from_json_dict(case["circuit"])


def test_vectors_verify_from_their_bytes() -> None:
    vectors = json.loads((VECTORS / "plonk.json").read_text(encoding="utf-8"))
    case = vectors["cases"][0]
    circuit = Circuit.from_json_dict(case["circuit"])
    witness = Witness.from_json_dict(case["witness"])
    pk, vk = plonk.setup(circuit, Srs.insecure(case["srs"]["max_degree"], case["srs"]["seed"]))
    assert "0x" + vk.to_bytes().hex() == case["vk"]
    rho = [int(x, 16) for x in case["blinding"]]
    assert "0x" + plonk.prove(pk, witness, rho).to_bytes().hex() == case["proof"]
    xs = [int(x, 16) for x in case["public_inputs"]]
    assert plonk.verify(
        VerifyingKey.from_bytes(bytes.fromhex(case["vk"][2:])), bytes.fromhex(case["proof"][2:]), xs
    )


@pytest.mark.parametrize("name", ["arith", "lookup"])
def test_wire_commitments_and_evaluations_follow_the_spec(name: str) -> None:
    """[a], [b], [c] (and [m]) are ``[w(τ)]G1`` for ``w`` = interpolant + (rho_0 + rho_1 X +
    rho_2 X²)·Z_H with the blinding scalars in the order a, b, c, z, m, phi; the evaluations are
    those polynomials (and sigma_1, sigma_2, q_F + q_P) at the
    transcript's ζ and ζω, in proof order."""
    case = CASES[name]()
    n, lookups = case.circuit.n, case.vk.lookups
    tau = kzg.insecure_tau(SEED)
    rho = blinding(lookups)
    proof = Proof.from_bytes(case.proof, lookups)
    ch = plonk.transcript_challenges(case.vk, proof, case.public_inputs)
    zeta_omega = ch.zeta * kzg.root_of_unity(n) % R

    def blinded(evals: list[int], j: int) -> Callable[[int], int]:
        coeffs = kzg.ifft(evals)
        return lambda x: (
            (kzg.evaluate(coeffs, x) + kzg.evaluate(rho[3 * j : 3 * j + 3], x) * (pow(x, n, R) - 1))
            % R
        )

    wires = {
        "a": blinded(case.witness.a, 0),
        "b": blinded(case.witness.b, 1),
        "c": blinded(case.witness.c, 2),
    }
    if lookups:
        wires["m"] = blinded(plonk._multiplicities(case.circuit, case.witness), 4)
    for wire, poly in wires.items():
        assert kzg.g1_to_bytes(proof.points[wire]) == g1_bytes(poly(tau)), wire
    ev = proof.evals
    assert [ev["a_bar"], ev["b_bar"], ev["c_bar"]] == [wires[w](ch.zeta) for w in "abc"]
    assert [ev["a_omega"], ev["b_omega"], ev["c_omega"]] == [wires[w](zeta_omega) for w in "abc"]
    sigma = case.circuit.sigma()
    assert ev["sigma1_bar"] == kzg.evaluate(kzg.ifft(sigma[0]), ch.zeta)
    assert ev["sigma2_bar"] == kzg.evaluate(kzg.ifft(sigma[1]), ch.zeta)
    q_pos = [(f + p) % R for f, p in zip(case.circuit.q_f, case.circuit.q_p, strict=True)]
    assert ev["q_pos_bar"] == kzg.evaluate(kzg.ifft(q_pos), ch.zeta)
    if lookups:
        assert ch.eta is not None
        t = [(x + ch.eta * y + ch.eta**2 * z) % R for x, y, z in case.circuit.table()]
        assert ev["t_bar"] == kzg.evaluate(kzg.ifft(t), ch.zeta)
