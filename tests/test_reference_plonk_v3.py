"""Tests of version 3 of the PLONK spec (``docs/spec/plonk.md`` §8) in the pure-Python reference:
packed witness commitments ``C1 = a(X⁴) + X b(X⁴) + X² c(X⁴) + X³ m(X⁴)``,
``C2 = z(X²) + X φ(X²)`` and one multi-point opening (``W``, ``W'``, challenge ``ξ``).

Completeness on two small circuits with ``q_N`` and lookups (one built with
``CircuitBuilder(..., packed=True)`` at k = 3, and the version-2 vector case ``dot_lookup``
requested as version 3 at k = 4); soundness by mutating every proof element, the public
inputs and the key, by proving unsatisfied witnesses with the check bypassed, and by crossing
proofs and keys of versions 2 and 3; structure (the packed commitments and the remainders
``r_1``, ``r_2`` recomputed here independently, the transcript's byte layout, the strict
decoders, the JSON format, the SRS bound).

py_ecc verifies a proof in ~0.5 s, so the circuits are k = 3 and k = 4.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from Crypto.Hash import keccak
from py_ecc.optimized_bn128 import G1, add, multiply

from bigfile_zk.reference import _gen_plonk_vectors as gen
from bigfile_zk.reference import kzg, plonk
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

SEED = 1
PROOF_BYTES = 832
POINTS = ("c1", "c2", "t", "w", "w_prime")
EVALS = (
    "a_bar",
    "b_bar",
    "c_bar",
    "m_bar",
    "a_omega",
    "b_omega",
    "c_omega",
    "m_omega",
    "z_bar",
    "phi_bar",
    "z_omega",
    "phi_omega",
    "sigma1_bar",
    "sigma2_bar",
    "q_pos_bar",
    "t_bar",
)


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
    """Exactly what a version-3 circuit without the round gate needs: ``4n + 11`` (§8)."""
    return Srs.insecure(plonk.required_max_degree(k, round_gates=False, packed=True), SEED)


def blinding(label: str = "tests/v3") -> list[int]:
    """18 scalars, in the order a, b, c, z, m, φ (three each), as version 2 with lookups."""
    return [gen.sha_element(f"{label}/{j}") for j in range(18)]


def make_case(circuit: Circuit, witness: Witness) -> Case:
    pk, vk = plonk.setup(circuit, srs(circuit.k))
    proof = plonk.prove(pk, witness, blinding()).to_bytes()
    return Case(circuit, witness, pk, vk, proof)


def small_builder(packed: bool = True) -> CircuitBuilder:
    """k = 3, one public input x = 3, the table (v, 0, 1) for v in 0..7 (tag 1):
    d = x + 2·y (a one-row dot chain, q_N = -1, result in row 3's c), copied to a of row 4,
    which looks up (d, 0, 1); row 5 looks up (x, 0, 1)."""
    x, y = 3, 2
    b = CircuitBuilder(3, num_public=1, lookups=True, packed=packed)
    b.set_table([(v, 0, 1) for v in range(8)])
    b.public_input(0, x)
    b.gate(1, 1, 0, 0, q_l=1, q_c=-1)  # the tag constant
    d = b.dot(2, [(1, x), (2, y)])
    b.gate(3, d, 0, d, q_l=1, q_o=-1)  # a = c
    b.lookup(4, d, 0, 1)
    b.lookup(5, x, 0, 1)
    b.copy((0, 0), (0, 2))
    b.copy((0, 0), (0, 5))
    b.copy((0, 3), (0, 4))
    b.copy((0, 1), (2, 4))
    b.copy((0, 1), (2, 5))
    return b


@functools.cache
def small() -> Case:
    return make_case(*small_builder().build())


@functools.cache
def dot_lookup_v3() -> Case:
    """The version-2 vector case ``dot_lookup`` (k = 4), requested as version 3."""
    _, _, circuit, witness = gen.dot_lookup_case()
    return make_case(dataclasses.replace(circuit, packed=True), witness)


@functools.cache
def dot_lookup_v2() -> Case:
    _, _, circuit, witness = gen.dot_lookup_case()
    return make_case(circuit, witness)


CASES: dict[str, Callable[[], Case]] = {"small": small, "dot_lookup": dot_lookup_v3}


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def g1_bytes(x: int) -> bytes:
    return kzg.g1_to_bytes(multiply(G1, x % R))


# --- completeness --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_honest_proof_verifies(name: str) -> None:
    case = CASES[name]()
    assert case.circuit.version == 3 and case.circuit.packed
    assert case.vk.version == 3 and case.vk.packed
    assert len(case.proof) == PROOF_BYTES == plonk.proof_length(True, 3)
    assert plonk.verify(case.vk, case.proof, case.public_inputs)
    proof = Proof.from_bytes(case.proof, True, 3)
    assert proof.version == 3 and proof.lookups
    assert list(proof.points) == list(POINTS) and list(proof.evals) == list(EVALS)
    assert plonk.verify(case.vk, proof, case.public_inputs)


def test_builder_requests_version_3() -> None:
    circuit, witness = small_builder().build()
    plonk.check_witness(circuit, witness)
    assert circuit.packed and circuit.version == 3 and circuit.q_n is not None
    v2, _ = small_builder(packed=False).build()
    assert not v2.packed and v2.version == 2
    assert dataclasses.replace(v2, packed=True).to_json() == circuit.to_json()


def test_prover_is_deterministic_and_blinding_matters() -> None:
    case = small()
    assert plonk.prove(case.pk, case.witness, blinding()).to_bytes() == case.proof
    other = plonk.prove(case.pk, case.witness, blinding("other")).to_bytes()
    assert other != case.proof
    assert plonk.verify(case.vk, other, case.public_inputs)


def test_same_circuit_as_version_2_and_3() -> None:
    """The same columns make a version-2 and a version-3 key: the same bytes but the version
    byte, so different digests; each proof verifies under its own key only."""
    v2, v3 = dot_lookup_v2(), dot_lookup_v3()
    assert v2.vk.version == 2 and v3.vk.version == 3
    raw2, raw3 = v2.vk.to_bytes(), v3.vk.to_bytes()
    assert raw2[4] == 2 and raw3[4] == 3 and raw2[:4] + raw2[5:] == raw3[:4] + raw3[5:]
    assert v2.vk.digest() != v3.vk.digest()
    assert len(v2.proof) == 960 and len(v3.proof) == PROOF_BYTES
    assert plonk.verify(v2.vk, v2.proof, v2.public_inputs)
    assert plonk.verify(v3.vk, v3.proof, v3.public_inputs)


def test_proofs_and_keys_of_other_versions_are_rejected() -> None:
    v2, v3 = dot_lookup_v2(), dot_lookup_v3()
    xs = v2.public_inputs
    assert not plonk.verify(v3.vk, v2.proof, xs)
    assert not plonk.verify(v2.vk, v3.proof, xs)
    assert not plonk.verify(v3.vk, Proof.from_bytes(v2.proof, True), xs)
    assert not plonk.verify(v2.vk, Proof.from_bytes(v3.proof, True, 3), xs)
    # A key without lookups (version 1) and a v3 proof.
    _, _, arith, arith_witness = gen.arith_case()
    _, arith_vk = plonk.setup(arith, srs(3))
    assert not plonk.verify(arith_vk, small().proof, arith_witness.public_inputs(2))


# --- soundness -------------------------------------------------------------------------------


def _elements() -> list[tuple[str, int, int]]:
    """``(name, offset, size)`` of every proof element, in byte order."""
    out = [(name, 64 * i, 64) for i, name in enumerate(plonk.proof_point_names(True, 3))]
    base = 64 * len(POINTS)
    out += [(name, base + 32 * i, 32) for i, name in enumerate(plonk.proof_eval_names(True, 3))]
    return out


ELEMENTS = _elements()


def test_element_layout_is_the_spec() -> None:
    assert [name for name, _, _ in ELEMENTS] == list(POINTS + EVALS)
    assert ELEMENTS[-1][1] + 32 == PROOF_BYTES


@pytest.mark.parametrize(("name", "offset", "size"), ELEMENTS, ids=[e[0] for e in ELEMENTS])
def test_mutated_element_is_rejected(name: str, offset: int, size: int) -> None:
    case = small()
    proof = bytearray(case.proof)
    if size == 64:  # P -> P + G: still a valid point
        point = kzg.g1_from_bytes(bytes(proof[offset : offset + 64]))
        proof[offset : offset + 64] = kzg.g1_to_bytes(add(point, G1))
    else:  # s -> s + 1
        value = int.from_bytes(proof[offset : offset + 32], "big")
        proof[offset : offset + 32] = ((value + 1) % R).to_bytes(32, "big")
    assert not plonk.verify(case.vk, bytes(proof), case.public_inputs), name


def test_malformed_elements_are_rejected_without_raising() -> None:
    """The identity, off-curve points and scalars >= r are decode failures: ``False``."""
    case = small()
    for name, offset, size in ELEMENTS:
        if size == 64:
            off_curve = (1).to_bytes(32, "big") + (3).to_bytes(32, "big")
            variants = [bytes(64), off_curve]
        else:
            variants = [R.to_bytes(32, "big"), b"\xff" * 32]
        for bad in variants:
            proof = case.proof[:offset] + bad + case.proof[offset + size :]
            assert not plonk.verify(case.vk, proof, case.public_inputs), name
            with pytest.raises(ValueError):
                Proof.from_bytes(proof, True, 3)


def test_lengths_are_exact() -> None:
    case = small()
    for proof in (case.proof[:-1], case.proof[:-32], case.proof + b"\x00", b"", bytes(960)):
        assert not plonk.verify(case.vk, proof, case.public_inputs)
        with pytest.raises(ValueError):
            Proof.from_bytes(proof, True, 3)
    with pytest.raises(ValueError):
        Proof.from_bytes(case.proof, False, 3)  # version 3 always has lookups
    with pytest.raises(ValueError):
        Proof.from_bytes(case.proof, True, 2)  # there is no proof version 2


def test_public_inputs_are_bound() -> None:
    case = small()
    (x,) = case.public_inputs
    assert not plonk.verify(case.vk, case.proof, [x + 1])
    assert not plonk.verify(case.vk, case.proof, [0])
    for malformed, error in (
        ([], ValueError),
        ([x, 0], ValueError),
        ([x + R], ValueError),
        ([R], ValueError),
        ([-1], ValueError),
        ([True], TypeError),
        ([str(x)], TypeError),
    ):
        with pytest.raises(error):
            plonk.verify(case.vk, case.proof, malformed)


def test_wrong_verifying_key_is_rejected() -> None:
    case = dot_lookup_v3()
    # Another circuit: the same columns and one more copy constraint (rows 9, 10 are unused).
    obj = case.circuit.to_json_dict()
    other = Circuit.from_json_dict({**obj, "copies": [*obj["copies"], [[1, 9], [1, 10]]]})
    assert other.packed
    _, other_vk = plonk.setup(other, srs(4))
    assert other_vk.to_bytes() != case.vk.to_bytes()
    assert not plonk.verify(other_vk, case.proof, case.public_inputs)
    # The right circuit with another SRS's [τ]G2.
    max_degree = plonk.required_max_degree(4, round_gates=False, packed=True)
    _, vk_other_srs = plonk.setup(case.circuit, Srs.insecure(max_degree, 2))
    assert not plonk.verify(vk_other_srs, case.proof, case.public_inputs)


def _unsatisfied(kind: str) -> tuple[Witness, str]:
    """A witness of the k = 3 circuit breaking one constraint, and the check's message."""
    _, w = small_builder().build()
    bad = [list(w.a), list(w.b), list(w.c)]
    if kind == "gate":
        bad[2][3] += 1  # the chain's result, read by row 2's q_N
        return Witness(*bad), r"row 2: arithmetic gate"
    if kind == "lookup":
        bad[1][4] = 1  # (7, 1, 1) is in no table; b of row 4 is not copied anywhere
        return Witness(*bad), r"row 4: lookup of \(7, 1, 1\) is not in the table"
    if kind == "copy":
        bad[0][5] = 4  # (4, 0, 1) is in the table, but x = 3
        return Witness(*bad), r"copy constraint: cell \(a, row 5\)"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["gate", "lookup", "copy"])
def test_unsatisfied_witness_is_refused_and_its_forced_proof_rejected(kind: str) -> None:
    case = small()
    witness, message = _unsatisfied(kind)
    with pytest.raises(ValueError, match=message):
        plonk.prove(case.pk, witness, blinding())
    forged = plonk.prove(case.pk, witness, blinding(), check=False).to_bytes()
    assert len(forged) == PROOF_BYTES
    assert not plonk.verify(case.vk, forged, witness.public_inputs(1))


def test_prove_refuses_bad_blinding() -> None:
    case = small()
    with pytest.raises(ValueError, match="18 blinding scalars"):
        plonk.prove(case.pk, case.witness, blinding()[:12])
    with pytest.raises(ValueError):
        plonk.prove(case.pk, case.witness, [R, *blinding()[1:]])


#: ``_rigged(..., xi=SAME_AS_ZETA)`` forces ξ to the ζ drawn before it.
SAME_AS_ZETA = -1


def _rigged(zeta: int | None, xi: int | None) -> type[plonk.Transcript]:
    """A transcript forcing ζ (the challenge drawn after 3 absorptions: [C1], [C2], [t]) and ξ
    (after 5: the evaluations, then [W]); ``None`` leaves a challenge as drawn."""

    class Rigged(plonk.Transcript):
        def __init__(self, vk_digest: bytes, public_inputs: Sequence[int]) -> None:
            super().__init__(vk_digest, public_inputs)
            self.rounds = 0
            self.zeta = 0

        def absorb_points(self, *points: plonk.G1Point) -> None:
            super().absorb_points(*points)
            self.rounds += 1

        def absorb_scalars(self, *scalars: int) -> None:
            super().absorb_scalars(*scalars)
            self.rounds += 1

        def challenge(self, j: int) -> int:
            value = super().challenge(j)
            if j == 0 and self.rounds == 3:
                self.zeta = value if zeta is None else zeta
                return self.zeta
            if j == 0 and self.rounds == 5 and xi is not None:
                return self.zeta if xi == SAME_AS_ZETA else xi
            return value

    return Rigged


@pytest.mark.parametrize(
    ("zeta", "xi", "message"),
    [
        (0, None, "zeta = 0"),
        (1, None, r"zeta\^n = 1"),
        (kzg.root_of_unity(8) ** 3 % R, None, r"zeta\^n = 1"),
        (None, SAME_AS_ZETA, r"\(xi - zeta\)"),  # ξ - ζ = 0
        (pow(7, 4, R), 7, r"\(xi - zeta\)"),  # ξ⁴ = ζ: Z_1(ξ) = 0
        (pow(7, 2, R), 7, r"\(xi - zeta\)"),  # ξ² = ζ: Z_2(ξ) = 0
    ],
    ids=["zeta=0", "zeta=1", "zeta=omega^3", "xi=zeta", "Z_1(xi)=0", "Z_2(xi)=0"],
)
def test_degenerate_challenges_fail_the_prover_and_the_verifier(
    monkeypatch: pytest.MonkeyPatch, zeta: int | None, xi: int | None, message: str
) -> None:
    """§8: the prover fails, and the verifier rejects, if ζ^n = 1, ζ = 0 or
    (ξ - ζ)·Z_1(ξ)·Z_2(ξ) = 0 (forced here through a rigged transcript)."""
    case = small()
    monkeypatch.setattr(plonk, "Transcript", _rigged(zeta, xi))
    with pytest.raises(ValueError, match=message):
        plonk.prove(case.pk, case.witness, blinding())
    # The honest proof, replayed through the rigged transcript: rejected, no exception.
    assert not plonk.verify(case.vk, case.proof, case.public_inputs)


# --- structure -------------------------------------------------------------------------------


def _blinded(evals: Sequence[int], rho: Sequence[int], n: int) -> list[int]:
    """The interpolant plus ``(rho_0 + rho_1 X + rho_2 X²)·(X^n - 1)``, as coefficients."""
    coeffs = [*kzg.ifft(list(evals)), 0, 0, 0]
    for j, r in enumerate(rho):
        coeffs[j] = (coeffs[j] - r) % R
        coeffs[n + j] = (coeffs[n + j] + r) % R
    return coeffs


def _reduce(p: Sequence[int], divisor: Sequence[int]) -> list[int]:
    """``p mod divisor`` (monic divisor), by long division."""
    work = [c % R for c in p]
    deg = len(divisor) - 1
    for i in range(len(work) - 1, deg - 1, -1):
        c = work[i]
        for j, d in enumerate(divisor):
            work[i - deg + j] = (work[i - deg + j] - c * d) % R
    return work[:deg]


@pytest.mark.parametrize("name", list(CASES))
def test_packed_commitments_evaluations_and_remainders(name: str) -> None:
    """[C1] = [a(τ⁴) + τ b(τ⁴) + τ² c(τ⁴) + τ³ m(τ⁴)] and [C2] = [z(τ²) + τ φ(τ²)] with every
    polynomial rebuilt here from the witness, blinded with the scalars in the order a, b, c, z,
    m, φ; the 16 evaluations are those polynomials' at ζ and ζω; and C1 mod Z_1, C2 mod Z_2
    are §8's r_1, r_2."""
    case = CASES[name]()
    circuit, n = case.circuit, case.circuit.n
    tau = kzg.insecure_tau(SEED)
    omega = kzg.root_of_unity(n)
    rho = blinding()
    proof = Proof.from_bytes(case.proof, True, 3)
    ch = plonk.transcript_challenges(case.vk, proof, case.public_inputs)
    assert ch.eta is not None and ch.lam is not None and ch.xi is not None and ch.u is None
    beta, gamma, eta, lam, zeta = ch.beta, ch.gamma, ch.eta, ch.lam, ch.zeta
    zeta_omega = zeta * omega % R
    w = (case.witness.a, case.witness.b, case.witness.c)
    table = circuit.table()

    # m: each looked-up tuple counted at the first table row holding it.
    assert circuit.q_k is not None
    m = [0] * n
    for i in range(n):
        if circuit.q_k[i]:
            m[table.index((w[0][i], w[1][i], w[2][i]))] += 1
    # z and φ from their recurrences (§2.2, §2.3).
    sigma = circuit.sigma()
    z, phi = [1], [0]
    for i in range(n - 1):
        x = pow(omega, i, R)
        num = den = 1
        for col, shift in enumerate((1, 5, 25)):
            num = num * (w[col][i] + beta * shift * x + gamma) % R
            den = den * (w[col][i] + beta * sigma[col][i] + gamma) % R
        z.append(z[-1] * num * pow(den, -1, R) % R)
        t_i = (table[i][0] + eta * table[i][1] + eta * eta * table[i][2]) % R
        f_i = (w[0][i] + eta * w[1][i] + eta * eta * w[2][i]) % R
        phi.append(
            (phi[-1] + m[i] * pow(lam + t_i, -1, R) - circuit.q_k[i] * pow(lam + f_i, -1, R)) % R
        )
    polys = {
        "a": _blinded(w[0], rho[0:3], n),
        "b": _blinded(w[1], rho[3:6], n),
        "c": _blinded(w[2], rho[6:9], n),
        "z": _blinded(z, rho[9:12], n),
        "m": _blinded(m, rho[12:15], n),
        "phi": _blinded(phi, rho[15:18], n),
    }

    def at(name: str, x: int) -> int:
        return kzg.evaluate(polys[name], x)

    c1_tau = sum(pow(tau, j, R) * at(p, pow(tau, 4, R)) for j, p in enumerate("abcm"))
    c2_tau = at("z", pow(tau, 2, R)) + tau * at("phi", pow(tau, 2, R))
    assert kzg.g1_to_bytes(proof.points["c1"]) == g1_bytes(c1_tau)
    assert kzg.g1_to_bytes(proof.points["c2"]) == g1_bytes(c2_tau)

    ev = proof.evals
    for p in ("a", "b", "c", "m", "z", "phi"):
        assert ev[f"{p}_bar"] == at(p, zeta), p
        assert ev[f"{p}_omega"] == at(p, zeta_omega), p
    assert ev["sigma1_bar"] == kzg.evaluate(kzg.ifft(sigma[0]), zeta)
    assert ev["sigma2_bar"] == kzg.evaluate(kzg.ifft(sigma[1]), zeta)
    q_pos = [(f + p) % R for f, p in zip(circuit.q_f, circuit.q_p, strict=True)]
    assert ev["q_pos_bar"] == kzg.evaluate(kzg.ifft(q_pos), zeta)
    t_col = [(x + eta * y + eta * eta * v) % R for x, y, v in table]
    assert ev["t_bar"] == kzg.evaluate(kzg.ifft(t_col), zeta)

    # The packed polynomials, interleaved here, reduced mod Z_1 and Z_2: §8's r_1 and r_2.
    c1 = [0] * (4 * (n + 3))
    for lane, p in enumerate("abcm"):
        for j, coeff in enumerate(polys[p]):
            c1[4 * j + lane] = coeff
    c2 = [0] * (2 * (n + 3))
    for lane, p in enumerate(("z", "phi")):
        for j, coeff in enumerate(polys[p]):
            c2[2 * j + lane] = coeff
    assert g1_bytes(kzg.evaluate(c1, tau)) == g1_bytes(c1_tau)
    z1 = [zeta * zeta_omega % R, 0, 0, 0, -(zeta + zeta_omega) % R, 0, 0, 0, 1]
    z2 = [zeta * zeta_omega % R, 0, -(zeta + zeta_omega) % R, 0, 1]
    d = pow(zeta_omega - zeta, -1, R)
    f1 = [ev[f"{p}_bar"] for p in ("a", "b", "c", "m")]
    f1_omega = [ev[f"{p}_omega"] for p in ("a", "b", "c", "m")]
    f2 = [ev["z_bar"], ev["phi_bar"]]
    f2_omega = [ev["z_omega"], ev["phi_omega"]]
    assert _reduce(c1, z1) == plonk._packed_remainder(f1, f1_omega, zeta, d)
    assert _reduce(c2, z2) == plonk._packed_remainder(f2, f2_omega, zeta, d)
    for x in (ch.xi, 12345):
        r1 = plonk._packed_remainder_at(x, f1, f1_omega, zeta, d)
        r2 = plonk._packed_remainder_at(x, f2, f2_omega, zeta, d)
        assert r1 == kzg.evaluate(_reduce(c1, z1), x)
        assert r2 == kzg.evaluate(_reduce(c2, z2), x)


def _spec_challenges(vk: VerifyingKey, proof: bytes, xs: list[int]) -> dict[str, int]:
    """§8's transcript recomputed from the proof bytes with keccak alone."""
    points = [proof[64 * i : 64 * i + 64] for i in range(5)]
    evals = proof[64 * 5 :]

    def ch(h: bytes, j: int) -> int:
        return int.from_bytes(keccak256(h + bytes([j])), "big") % R

    h = keccak256(
        b"bigfile_zk/plonk/v1"
        + keccak256(vk.to_bytes())
        + b"".join(x.to_bytes(32, "big") for x in xs)
    )
    out = {}
    h = keccak256(h + points[0])  # [C1]
    out["beta"], out["gamma"], out["eta"], out["lambda"] = (ch(h, j) for j in range(4))
    h = keccak256(h + points[1])  # [C2]
    out["alpha"] = ch(h, 0)
    h = keccak256(h + points[2])  # [t]
    out["zeta"] = ch(h, 0)
    h = keccak256(h + evals)
    out["nu"] = ch(h, 0)
    h = keccak256(h + points[3])  # [W]; [W'] is not absorbed
    out["xi"] = ch(h, 0)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_transcript_matches_the_spec_layout(name: str) -> None:
    case = CASES[name]()
    proof = Proof.from_bytes(case.proof, True, 3)
    got = plonk.transcript_challenges(case.vk, proof, case.public_inputs).as_dict()
    assert got["u"] is None
    expected = _spec_challenges(case.vk, case.proof, case.public_inputs)
    assert {k: v for k, v in got.items() if v is not None} == expected
    _, prover_challenges = plonk._prove(case.pk, case.witness, blinding(), True)
    assert prover_challenges.as_dict() == got


def test_circuit_json_round_trip() -> None:
    for make in CASES.values():
        circuit = make().circuit
        text = circuit.to_json()
        obj = json.loads(text)
        assert obj["format"] == "bigfile_zk/plonk-circuit/v3" == plonk.CIRCUIT_FORMAT_V3
        assert obj["lookups"] is True
        v2_obj = dataclasses.replace(circuit, packed=False).to_json_dict()
        assert set(obj) == set(v2_obj) and {k: v for k, v in obj.items() if k != "format"} == {
            k: v for k, v in v2_obj.items() if k != "format"
        }
        again = Circuit.from_json(text)
        assert again.packed and again.version == 3 and again.to_json() == text
        assert again == circuit
    base = small().circuit.to_json_dict()
    with pytest.raises(ValueError):  # /v3 has q_n
        Circuit.from_json_dict({k: v for k, v in base.items() if k != "q_n"})
    no_lookups = {k: v for k, v in base.items() if k not in ("q_k", "t1", "t2", "t3")}
    with pytest.raises(ValueError, match="needs q_n and lookups"):
        Circuit.from_json_dict({**no_lookups, "lookups": False})


def test_version_3_needs_q_n_and_lookups() -> None:
    _, _, dot, _ = gen.dot_case()  # q_N, no lookups
    _, _, lookup, _ = gen.lookup_case()  # lookups, no q_N
    _, _, arith, _ = gen.arith_case()  # neither
    for circuit, missing in ((dot, "lookups"), (lookup, "q_n"), (arith, "q_n and lookups")):
        with pytest.raises(ValueError, match=f"needs q_n and lookups; this one has no {missing}$"):
            dataclasses.replace(circuit, packed=True)
    b = CircuitBuilder(3, num_public=1, lookups=True, packed=True)
    b.set_table([(1, 0, 1)])
    b.public_input(0, 1)
    with pytest.raises(ValueError, match="needs q_n and lookups; this one has no q_n"):
        b.build()
    b = CircuitBuilder(3, packed=True)
    b.gate(1, 1, 1, 1, q_l=1, q_n=-1)
    with pytest.raises(ValueError, match="needs q_n and lookups; this one has no lookups"):
        b.build()
    with pytest.raises(TypeError):
        dataclasses.replace(small().circuit, packed=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(CASES))
def test_verifying_key_bytes_round_trip(name: str) -> None:
    vk = CASES[name]().vk
    raw = vk.to_bytes()
    assert len(raw) == 1163 + 64  # version 2's layout with lookups and [q_N] (§3)
    assert raw[:4] == b"BFVK" and raw[4] == 3 and raw[5] == vk.k and raw[10] == 1
    decoded = VerifyingKey.from_bytes(raw)
    assert decoded.version == 3 and decoded.packed and decoded.to_bytes() == raw
    assert vk.digest() == keccak256(raw)


def test_verifying_key_decoder_version_3_rules() -> None:
    raw = small().vk.to_bytes()
    q_n_offset = 11 + 7 * 64  # [q_N] follows the header and [q_M] … [q_P]
    with pytest.raises(ValueError, match="identity as \\[q_N\\]"):
        VerifyingKey.from_bytes(raw[:q_n_offset] + bytes(64) + raw[q_n_offset + 64 :])
    with pytest.raises(ValueError):
        VerifyingKey.from_bytes(raw[:10] + b"\x00" + raw[11:])  # flag cleared: wrong length
    # A version-2 key without lookups, relabelled version 3: the right length for its flags,
    # refused for the missing lookup flag.
    _, _, dot, _ = gen.dot_case()
    _, dot_vk = plonk.setup(dot, srs(4))
    dot_raw = dot_vk.to_bytes()
    with pytest.raises(ValueError, match="without the lookup flag"):
        VerifyingKey.from_bytes(dot_raw[:4] + b"\x03" + dot_raw[5:])
    with pytest.raises(ValueError, match="unsupported verifying key version 4"):
        VerifyingKey.from_bytes(raw[:4] + b"\x04" + raw[5:])


def test_proof_bfpf_encoding() -> None:
    case = small()
    proof = Proof.from_bytes(case.proof, True, 3)
    bfpf = proof.to_bfpf()
    assert bfpf == b"BFPF\x03\x01" + case.proof
    assert Proof.from_bfpf(bfpf).to_bytes() == case.proof
    for bad in (
        b"BFPF\x03\x00" + case.proof,  # version 3 without the lookup flag
        b"BFPF\x02\x01" + case.proof,
        b"BFPF\x01\x01" + case.proof,  # a version-1 proof has another length
        bfpf[:-1],
        b"BFPF\x03\x03" + case.proof,
    ):
        with pytest.raises(ValueError):
            Proof.from_bfpf(bad)


def test_srs_bound() -> None:
    """§8: ``4n + 12`` powers (max_degree ``4n + 11``) without the round gate, ``5n + 10`` with;
    C1 has degree exactly 4n + 11, so the bound is tight."""
    assert plonk.required_max_degree(3, round_gates=False, packed=True) == 4 * 8 + 11
    assert plonk.required_max_degree(3, round_gates=True, packed=True) == 5 * 8 + 9
    assert plonk.required_max_degree(3, round_gates=False) == 3 * 8 + 9
    assert plonk.required_max_degree(3) == 5 * 8 + 9
    circuit = small().circuit
    with pytest.raises(ValueError, match=r"4n \+ 11 = 43"):
        plonk.setup(circuit, Srs.insecure(42, SEED))
    assert srs(3).max_degree == 43  # small() proved with exactly this SRS
