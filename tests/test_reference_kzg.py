"""Tests of the pure-Python KZG reference (``bigfile_zk.reference.kzg``) against the spec.

The insecure SRS has a public τ, so most results can be checked *without* a pairing:
``commit(p)`` must be ``[p(τ)]G1``, an opening proof ``[(p(τ) - v)/(τ - z)]G1``, a Lagrange
commitment ``[L_i(τ)]G1``, all computed here from the formulas with plain field arithmetic.
The pairing checks (~0.3 s each in py_ecc) are then exercised on a handful of cases: honest
openings are accepted and every kind of tampering is rejected. Challenges (gamma, rho) are
recomputed from the spec's byte layout by hand, and the encodings are checked byte by byte.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from Crypto.Hash import keccak
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.optimized_bn128 import (
    G1,
    G2,
    Z1,
    Z2,
    add,
    b2,
    eq,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
    neg,
)

from bigfile_zk.reference import _gen_kzg_vectors, kzg
from bigfile_zk.reference.field import R
from bigfile_zk.reference.kzg import G1Point, Opening

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "docs" / "spec" / "vectors"

Q = field_modulus
MAX_DEGREE = 8
SEED = 0

#: Anything that runs a pairing check: a handful of examples (py_ecc pairings are slow), and no
#: shrinking: shrinking a failure costs hundreds of pairings (minutes). The fixed-case tests
#: next to each of these give the small failing example instead.
PAIRING = settings(
    max_examples=3, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate)
)
#: Scalar multiplications only (a few ms each).
CURVE = settings(max_examples=8, deadline=None)

elements = st.integers(min_value=0, max_value=R - 1)
polys = st.lists(elements, max_size=MAX_DEGREE + 1)
domain_sizes = st.sampled_from([1, 2, 4, 8])


@functools.cache
def srs() -> kzg.ReferenceSRS:
    return kzg.insecure_srs(MAX_DEGREE, SEED)


def spec_tau(seed: int) -> int:
    """τ exactly as srs.md writes it, independently of the module's helpers."""
    digest = keccak.new(
        digest_bits=256, data=b"bigfile_zk/insecure-srs" + seed.to_bytes(8, "big")
    ).digest()
    return int.from_bytes(digest, "big") % R


TAU = spec_tau(SEED)


def at_tau(value: int) -> G1Point:
    """``[value]G1``: what a commitment must be, given the public τ."""
    return multiply(G1, value % R)


def poly_at(coeffs: list[int], x: int) -> int:
    return sum(c * pow(x, i, R) for i, c in enumerate(coeffs)) % R


def same(p: G1Point, q: G1Point) -> bool:
    return bool(eq(p, q))


def keccak_mod_r(data: bytes) -> int:
    return int.from_bytes(keccak.new(digest_bits=256, data=data).digest(), "big") % R


def enc_point(p: G1Point) -> bytes:
    return kzg.g1_to_bytes(p)


def enc_scalar(x: int) -> bytes:
    return x.to_bytes(32, "big")


# Polynomials of the fixed-case tests (distinct, non-constant).
P0 = [1, 2, 3]
P1 = [5, 0, 0, 0, 0, 0, 0, 0, 7]
P2 = [R - 1, 11, 0, 13, 17]


@functools.cache
def opened(coeffs: tuple[int, ...], z: int) -> Opening:
    """``(C, z, v, π)``, cached: several tests tamper with the same honest opening."""
    v, proof = kzg.open(srs(), list(coeffs), z)
    return kzg.commit(srs(), list(coeffs)), z, v, proof


# --- the insecure SRS ---------------------------------------------------------------------


class TestSRS:
    @pytest.mark.parametrize("seed", [0, 1, 2**64 - 1])
    def test_tau_is_the_spec_formula(self, seed: int) -> None:
        assert kzg.insecure_tau(seed) == spec_tau(seed)

    def test_powers(self) -> None:
        s = srs()
        assert s.max_degree == MAX_DEGREE
        assert len(s.g1) == MAX_DEGREE + 1
        assert same(s.g1[0], G1)
        assert same(s.g1[1], multiply(G1, TAU))
        for i, point in enumerate(s.g1):
            assert same(point, at_tau(pow(TAU, i, R)))
        assert eq(s.g2[0], G2)
        assert eq(s.g2[1], multiply(G2, TAU))

    def test_seeds_give_different_srs(self) -> None:
        assert kzg.insecure_tau(0) != kzg.insecure_tau(1)
        assert not same(kzg.insecure_srs(1, 1).g1[1], srs().g1[1])

    @pytest.mark.parametrize("seed", [-1, 2**64])
    def test_seed_must_be_u64(self, seed: int) -> None:
        with pytest.raises(ValueError, match="u64"):
            kzg.insecure_srs(1, seed)

    def test_max_degree_must_be_non_negative(self) -> None:
        with pytest.raises(ValueError, match="max_degree"):
            kzg.insecure_srs(-1)
        assert kzg.insecure_srs(0).max_degree == 0


# --- domains and FFTs ---------------------------------------------------------------------


class TestDomain:
    def test_omega_is_the_arkworks_snarkjs_gnark_root(self) -> None:
        # arkworks' Fr::TWO_ADIC_ROOT_OF_UNITY for BN254 (= ffjavascript's w[28], gnark's)
        expected = 0x2A3C09F0A58A7E8500E0A7EB8EF62ABC402D111E41112ED49BD61B6E725B19F0
        assert kzg.OMEGA == expected == kzg.root_of_unity(2**28)
        assert pow(5, (R - 1) // 2, R) == R - 1  # 5 is a non-residue: ω has order exactly 2^28
        assert pow(kzg.OMEGA, 2**27, R) == R - 1

    @pytest.mark.parametrize("log_n", [0, 1, 2, 3, 10, 28])
    def test_roots_have_exact_order(self, log_n: int) -> None:
        n = 1 << log_n
        w = kzg.root_of_unity(n)
        assert w == pow(kzg.OMEGA, 2 ** (28 - log_n), R)
        assert pow(w, n, R) == 1
        if n > 1:
            assert pow(w, n // 2, R) == R - 1

    @pytest.mark.parametrize("n", [0, 3, 6, 12, 2**29, -4])
    def test_bad_domain_sizes(self, n: int) -> None:
        with pytest.raises(ValueError, match="power of two"):
            kzg.root_of_unity(n)

    def test_domain_size_type(self) -> None:
        with pytest.raises(TypeError):
            kzg.root_of_unity(True)

    def test_domain_order(self) -> None:
        w = kzg.root_of_unity(8)
        assert kzg.domain(8) == [pow(w, i, R) for i in range(8)]

    @given(st.data(), domain_sizes)
    def test_fft_is_evaluation_on_the_domain(self, data: st.DataObject, n: int) -> None:
        coeffs = data.draw(st.lists(elements, max_size=n))
        evals = kzg.fft(coeffs, n)
        assert evals == [poly_at(coeffs, x) for x in kzg.domain(n)]
        assert kzg.ifft(evals) == coeffs + [0] * (n - len(coeffs))

    @given(st.data(), domain_sizes)
    def test_ifft_interpolates(self, data: st.DataObject, n: int) -> None:
        evals = data.draw(st.lists(elements, min_size=n, max_size=n))
        coeffs = kzg.ifft(evals)
        assert len(coeffs) == n
        assert kzg.fft(coeffs) == evals

    def test_fft_argument_checks(self) -> None:
        with pytest.raises(ValueError, match="do not fit"):
            kzg.fft([1, 2, 3], 2)
        with pytest.raises(ValueError, match="power of two"):
            kzg.fft([1, 2, 3])
        with pytest.raises(ValueError, match="power of two"):
            kzg.ifft([])
        with pytest.raises(ValueError, match="< r"):
            kzg.ifft([R])

    @given(polys, elements)
    def test_evaluate(self, coeffs: list[int], z: int) -> None:
        assert kzg.evaluate(coeffs, z) == poly_at(coeffs, z)

    def test_evaluate_zero_polynomial(self) -> None:
        assert kzg.evaluate([], 5) == 0
        assert kzg.evaluate([0], 5) == 0


# --- commitments --------------------------------------------------------------------------


class TestCommit:
    @given(polys)
    @CURVE
    def test_commit_is_p_of_tau(self, coeffs: list[int]) -> None:
        assert same(kzg.commit(srs(), coeffs), at_tau(poly_at(coeffs, TAU)))

    def test_zero_and_constant(self) -> None:
        assert is_inf(kzg.commit(srs(), []))
        assert is_inf(kzg.commit(srs(), [0, 0, 0]))
        assert same(kzg.commit(srs(), [7]), multiply(G1, 7))

    def test_too_many_coefficients(self) -> None:
        with pytest.raises(ValueError, match="at most 9"):
            kzg.commit(srs(), [1] * (MAX_DEGREE + 2))

    def test_non_canonical_coefficient(self) -> None:
        with pytest.raises(ValueError, match="< r"):
            kzg.commit(srs(), [1, R])

    def test_lagrange_commitments(self) -> None:
        n = 4
        dom = kzg.domain(n)
        bases = kzg.lagrange_commitments(srs(), n)
        for i, point in enumerate(bases):
            # L_i(τ) = Π_{j≠i} (τ - ω^j) / (ω^i - ω^j)
            value = 1
            for j in range(n):
                if j != i:
                    value = value * (TAU - dom[j]) * pow(dom[i] - dom[j], -1, R) % R
            assert same(point, at_tau(value))
        total = Z1
        for point in bases:
            total = add(total, point)
        assert same(total, G1)  # Σ L_i = 1

    @given(st.data(), domain_sizes)
    @settings(max_examples=4, deadline=None)
    def test_commit_evals_agrees_with_commit(self, data: st.DataObject, n: int) -> None:
        coeffs = data.draw(st.lists(elements, min_size=n, max_size=n))
        evals = kzg.fft(coeffs)
        assert same(kzg.commit_evals(srs(), evals), kzg.commit(srs(), coeffs))
        assert kzg.ifft(evals) == coeffs

    def test_commit_evals_small_case(self) -> None:
        evals = [1, 2, 3, 4]
        assert same(kzg.commit_evals(srs(), evals), kzg.commit(srs(), kzg.ifft(evals)))
        assert same(kzg.commit_evals(srs(), [9, 9, 9, 9]), multiply(G1, 9))  # constant 9

    @pytest.mark.parametrize("n", [0, 3, 16])
    def test_commit_evals_domain_checks(self, n: int) -> None:
        with pytest.raises(ValueError, match="domain size"):
            kzg.commit_evals(srs(), [1] * n)


# --- open / verify -------------------------------------------------------------------------


#: Ways to tamper with an honest opening ``(C, z, v, π)``; each must make verify fail.
TAMPERINGS: dict[str, Callable[[Opening], Opening]] = {
    "wrong value": lambda o: (o[0], o[1], (o[2] + 1) % R, o[3]),
    "wrong point": lambda o: (o[0], (o[1] + 1) % R, o[2], o[3]),
    "proof + G": lambda o: (o[0], o[1], o[2], add(o[3], G1)),
    "negated proof": lambda o: (o[0], o[1], o[2], neg(o[3])),
    "identity proof": lambda o: (o[0], o[1], o[2], Z1),
    "other commitment": lambda o: (kzg.commit(srs(), P2), o[1], o[2], o[3]),
    "proof of another polynomial": lambda o: (o[0], o[1], o[2], opened(tuple(P2), o[1])[3]),
}


class TestOpenVerify:
    @given(polys, elements)
    @CURVE
    def test_proof_is_the_quotient_at_tau(self, coeffs: list[int], z: int) -> None:
        v, proof = kzg.open(srs(), coeffs, z)
        assert v == poly_at(coeffs, z)
        if z != TAU:
            expected = (poly_at(coeffs, TAU) - v) * pow(TAU - z, -1, R)
            assert same(proof, at_tau(expected))

    @given(polys, elements)
    @PAIRING
    def test_round_trip(self, coeffs: list[int], z: int) -> None:
        v, proof = kzg.open(srs(), coeffs, z)
        assert kzg.verify(srs(), kzg.commit(srs(), coeffs), z, v, proof)

    def test_round_trip_max_degree(self) -> None:
        c, z, v, proof = opened(tuple(P1), 12345)
        assert v == 5 + 7 * 12345**8 % R
        assert kzg.verify(srs(), c, z, v, proof)

    @pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
    def test_tampered_openings_are_rejected(self, tampering: str) -> None:
        honest = opened(tuple(P0), 12345)
        c, z, v, proof = TAMPERINGS[tampering](honest)
        assert kzg.verify(srs(), c, z, v, proof) is False

    def test_constant_polynomial_has_identity_proof(self) -> None:
        v, proof = kzg.open(srs(), [42], 99)
        assert v == 42
        assert is_inf(proof)
        assert kzg.verify(srs(), multiply(G1, 42), 99, 42, Z1)

    def test_zero_polynomial(self) -> None:
        v, proof = kzg.open(srs(), [], 3)
        assert (v, is_inf(proof)) == (0, True)
        assert kzg.verify(srs(), Z1, 3, 0, Z1)

    def test_malformed_inputs_raise(self) -> None:
        c, z, v, proof = opened(tuple(P0), 12345)
        with pytest.raises(ValueError, match="< r"):
            kzg.verify(srs(), c, R, v, proof)
        with pytest.raises(ValueError, match="< r"):
            kzg.verify(srs(), c, z, R + v, proof)
        off_curve = (proof[0], proof[1] + proof[2], proof[2])
        with pytest.raises(ValueError, match="not on"):
            kzg.verify(srs(), c, z, v, off_curve)
        with pytest.raises(TypeError):
            kzg.verify(srs(), kzg.g1_to_bytes(c), z, v, proof)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at most 9"):
            kzg.open(srs(), [1] * 10, 0)


# --- several polynomials at one point -----------------------------------------------------


OPEN_MANY_Z = 777


@functools.cache
def honest_many() -> tuple[list[G1Point], list[int], G1Point]:
    """An honest open_many of P0 and P1 at OPEN_MANY_Z: ``(commitments, values, proof)``."""
    values, proof = kzg.open_many(srs(), [P0, P1], OPEN_MANY_Z)
    return [kzg.commit(srs(), P0), kzg.commit(srs(), P1)], values, proof


class TestOpenMany:
    Z = OPEN_MANY_Z

    def test_gamma_is_the_spec_hash(self) -> None:
        cs = [kzg.commit(srs(), p) for p in (P0, P1)]
        values = [poly_at(P0, self.Z), poly_at(P1, self.Z)]
        data = (
            b"bigfile_zk/kzg/open-many"
            + enc_point(cs[0])
            + enc_point(cs[1])
            + enc_scalar(self.Z)
            + enc_scalar(values[0])
            + enc_scalar(values[1])
        )
        assert kzg.open_many_challenge(cs, self.Z, values) == keccak_mod_r(data)

    def test_proof_is_combined_quotient_at_tau(self) -> None:
        ps = [P0, P1, P2]
        values, proof = kzg.open_many(srs(), ps, self.Z)
        assert values == [poly_at(p, self.Z) for p in ps]
        cs = [kzg.commit(srs(), p) for p in ps]
        gamma = kzg.open_many_challenge(cs, self.Z, values)
        combined = sum(
            pow(gamma, j, R) * (poly_at(p, TAU) - v) * pow(TAU - self.Z, -1, R)
            for j, (p, v) in enumerate(zip(ps, values, strict=True))
        )
        assert same(proof, at_tau(combined))

    def test_one_polynomial_is_a_plain_opening(self) -> None:
        values, proof = kzg.open_many(srs(), [P2], self.Z)
        v, single = kzg.open(srs(), P2, self.Z)
        assert values == [v]
        assert same(proof, single)

    @given(st.lists(polys, min_size=1, max_size=3), elements)
    @PAIRING
    def test_round_trip(self, ps: list[list[int]], z: int) -> None:
        values, proof = kzg.open_many(srs(), ps, z)
        cs = [kzg.commit(srs(), p) for p in ps]
        assert kzg.verify_many(srs(), cs, z, values, proof)

    @pytest.mark.parametrize("tampering", ["value 1", "swapped", "proof of P0 alone", "point"])
    def test_tampered_openings_are_rejected(self, tampering: str) -> None:
        cs, values, proof = honest_many()
        z = self.Z
        if tampering == "value 1":
            values = [values[0], (values[1] + 1) % R]
        elif tampering == "swapped":  # the same pairs, listed in the other order
            cs, values = cs[::-1], values[::-1]
        elif tampering == "proof of P0 alone":
            proof = kzg.open(srs(), P0, z)[1]
        else:
            z += 1
        assert kzg.verify_many(srs(), cs, z, values, proof) is False

    def test_length_mismatch(self) -> None:
        cs, values, proof = honest_many()
        with pytest.raises(ValueError, match="2 commitments but 1 values"):
            kzg.verify_many(srs(), cs, self.Z, values[:1], proof)


# --- batch verification -------------------------------------------------------------------


Z_A, Z_B = 1001, 2002


@functools.cache
def three_openings() -> tuple[Opening, ...]:
    """Three honest openings at two different points."""
    return (opened(tuple(P0), Z_A), opened(tuple(P1), Z_A), opened(tuple(P2), Z_B))


class TestBatch:
    def test_rho_is_the_spec_hash(self) -> None:
        openings = three_openings()
        transcript = b"".join(
            enc_point(c) + enc_scalar(z) + enc_scalar(v) + enc_point(pi) for c, z, v, pi in openings
        )
        rhos = kzg.batch_challenges(openings)
        assert rhos[0] == 1
        for i in (1, 2):
            assert rhos[i] == keccak_mod_r(
                b"bigfile_zk/kzg/batch" + transcript + i.to_bytes(8, "big")
            )

    def test_accepts_honest_openings_at_two_points(self) -> None:
        assert kzg.batch_verify(srs(), three_openings())

    @pytest.mark.parametrize(
        ("index", "field"), [(0, "value"), (1, "value"), (2, "value"), (2, "proof"), (0, "z")]
    )
    def test_rejects_one_corrupted_opening(self, index: int, field: str) -> None:
        openings = list(three_openings())
        c, z, v, pi = openings[index]
        if field == "value":
            v = (v + 1) % R
        elif field == "proof":
            pi = add(pi, G1)
        else:
            z = Z_B
        openings[index] = (c, z, v, pi)
        assert kzg.batch_verify(srs(), openings) is False

    def test_cancelling_errors_need_the_random_weights(self) -> None:
        """Two wrong values at one point whose errors cancel: caught only thanks to the rho_i."""
        (c0, z, v0, pi0), (c1, _, v1, pi1) = three_openings()[:2]
        delta = 123456789
        forged = [(c0, z, (v0 + delta) % R, pi0), (c1, z, (v1 - delta) % R, pi1)]
        # With all weights 1 the batch equation would hold:
        lhs, rhs = Z1, Z1
        for c, zz, v, pi in forged:
            lhs = add(lhs, add(add(c, neg(multiply(G1, v))), multiply(pi, zz)))
            rhs = add(rhs, pi)
        assert kzg._check_opening(srs(), lhs, rhs)
        assert kzg.batch_verify(srs(), forged) is False

    def test_plonk_style_two_point_opening(self) -> None:
        """open_many at zeta and zeta·omega, then one batch check over the two results."""
        zeta = 31337
        points = [zeta, zeta * kzg.root_of_unity(8) % R]
        combined: list[Opening] = []
        for z, ps in zip(points, ([P0, P1, P2], [P0]), strict=True):
            values, proof = kzg.open_many(srs(), ps, z)
            cs = [kzg.commit(srs(), p) for p in ps]
            gamma = kzg.open_many_challenge(cs, z, values)
            c = Z1
            for j, cj in enumerate(cs):
                c = add(c, multiply(cj, pow(gamma, j, R)))
            v = sum(pow(gamma, j, R) * vj for j, vj in enumerate(values)) % R
            combined.append((c, z, v, proof))
        assert kzg.batch_verify(srs(), combined)

    def test_empty_batch_is_refused(self) -> None:
        assert kzg.batch_challenges([]) == []
        assert not kzg.batch_verify(srs(), [])


# --- encodings ---------------------------------------------------------------------------


def _fq2_sqrt(a: FQ2) -> FQ2 | None:
    """A square root in F_q² = F_q[u]/(u² + 1), or None (q ≡ 3 mod 4: "complex" method)."""

    def fq_sqrt(x: int) -> int | None:
        root = pow(x, (Q + 1) // 4, Q)
        return root if root * root % Q == x % Q else None

    a0, a1 = (int(c) for c in a.coeffs)
    norm = fq_sqrt((a0 * a0 + a1 * a1) % Q)
    if norm is None:
        return None
    half = pow(2, -1, Q)
    for t in ((a0 + norm) * half % Q, (a0 - norm) * half % Q):
        x0 = fq_sqrt(t)
        if x0 is not None:
            x1 = a1 * pow(2 * x0, -1, Q) % Q
            root = FQ2([x0, x1])
            if root * root == a:
                return root
    return None


@functools.cache
def off_subgroup_g2() -> tuple[FQ2, FQ2, FQ2]:
    """A point on the twist curve that is not in the order-r subgroup (cofactor ≠ 1)."""
    for k in range(1, 100):
        x = FQ2([k, 1])
        y = _fq2_sqrt(x**3 + b2)
        if y is not None:
            point = (x, y, FQ2.one())
            assert is_on_curve(point, b2)
            if not is_inf(multiply(point, R)):
                return point
    raise AssertionError("no point found")


def g2_words(point: tuple[FQ2, FQ2, FQ2]) -> list[int]:
    """The four EIP-197 coordinates of an affine (z = 1) point: x.c1, x.c0, y.c1, y.c0."""
    x, y, _ = point
    return [int(x.coeffs[1]), int(x.coeffs[0]), int(y.coeffs[1]), int(y.coeffs[0])]


def words(*values: int) -> bytes:
    return b"".join(v.to_bytes(32, "big") for v in values)


class TestEncodings:
    def test_known_answers(self) -> None:
        assert kzg.g1_to_bytes(G1) == words(1, 2)
        assert kzg.g1_to_bytes(Z1) == bytes(64)
        assert kzg.g2_to_bytes(Z2) == bytes(128)
        # EIP-197's generator of G2, imaginary parts first.
        assert kzg.g2_to_bytes(G2).hex() == (
            "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
            "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
            "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
            "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
        )
        assert kzg.scalar_to_bytes(1) == bytes(31) + b"\x01"

    @given(elements)
    @CURVE
    def test_g1_round_trip(self, k: int) -> None:
        point = multiply(G1, k)
        data = kzg.g1_to_bytes(point)
        assert len(data) == 64
        back = kzg.g1_from_bytes(data)
        assert same(back, point)
        assert kzg.g1_to_bytes(back) == data
        assert is_inf(kzg.g1_from_bytes(bytes(64)))

    def test_encoding_is_affine(self) -> None:
        # The same point in different projective coordinates has one encoding.
        doubled = add(G1, G1)
        assert kzg.g1_to_bytes(doubled) == kzg.g1_to_bytes(multiply(G1, 2))
        assert doubled[2] != doubled[2].one()  # so the test does exercise the normalisation

    def test_g2_round_trip(self) -> None:
        for point in (G2, srs().g2[1], neg(G2), multiply(G2, 12345)):
            data = kzg.g2_to_bytes(point)
            assert len(data) == 128
            back = kzg.g2_from_bytes(data)
            assert eq(back, point)
            assert kzg.g2_to_bytes(back) == data
        assert is_inf(kzg.g2_from_bytes(bytes(128)))

    @given(elements)
    def test_scalar_round_trip(self, x: int) -> None:
        assert kzg.scalar_from_bytes(kzg.scalar_to_bytes(x)) == x

    @pytest.mark.parametrize("length", [0, 31, 33, 64])
    def test_scalar_length(self, length: int) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            kzg.scalar_from_bytes(bytes(length))

    @pytest.mark.parametrize("value", [R, R + 1, 2**256 - 1])
    def test_scalar_not_canonical(self, value: int) -> None:
        with pytest.raises(ValueError, match=">= r"):
            kzg.scalar_from_bytes(words(value))

    @pytest.mark.parametrize("length", [0, 32, 63, 65, 128])
    def test_g1_length(self, length: int) -> None:
        with pytest.raises(ValueError, match="64 bytes"):
            kzg.g1_from_bytes(bytes(length))

    @pytest.mark.parametrize(
        "xy",
        [(Q, 2), (1, Q), (1, Q + 2), (Q + 1, 2), (2**256 - 1, 0)],
        ids=["x=q", "y=q", "y=2+q (G1 non-canonical)", "x=1+q", "x=2^256-1"],
    )
    def test_g1_coordinate_not_canonical(self, xy: tuple[int, int]) -> None:
        with pytest.raises(ValueError, match=">= q"):
            kzg.g1_from_bytes(words(*xy))

    @pytest.mark.parametrize("xy", [(1, 3), (0, 1), (1, 0), (Q - 1, Q - 1)])
    def test_g1_off_curve(self, xy: tuple[int, int]) -> None:
        with pytest.raises(ValueError, match="not on the curve"):
            kzg.g1_from_bytes(words(*xy))

    @pytest.mark.parametrize("length", [0, 64, 127, 129, 256])
    def test_g2_length(self, length: int) -> None:
        with pytest.raises(ValueError, match="128 bytes"):
            kzg.g2_from_bytes(bytes(length))

    @pytest.mark.parametrize("position", [0, 1, 2, 3])
    def test_g2_coordinate_not_canonical(self, position: int) -> None:
        ws = g2_words(G2)
        ws[position] += Q  # the same point with one coordinate written non-canonically
        with pytest.raises(ValueError, match=">= q"):
            kzg.g2_from_bytes(words(*ws))

    def test_g2_off_curve(self) -> None:
        ws = g2_words(G2)
        ws[3] = (ws[3] + 1) % Q
        with pytest.raises(ValueError, match="not on the twist"):
            kzg.g2_from_bytes(words(*ws))

    def test_g2_wrong_component_order(self) -> None:
        # c0 first (snarkjs / our SRS file order) is not EIP-197: off the curve for [1]G2.
        x_c1, x_c0, y_c1, y_c0 = g2_words(G2)
        with pytest.raises(ValueError, match="not on the twist"):
            kzg.g2_from_bytes(words(x_c0, x_c1, y_c0, y_c1))

    def test_g2_not_in_subgroup(self) -> None:
        point = off_subgroup_g2()
        data = words(*g2_words(point))
        with pytest.raises(ValueError, match="subgroup"):
            kzg.g2_from_bytes(data)
        # ... while the encoder, which only checks the curve, writes it.
        assert kzg.g2_to_bytes(point) == data

    @pytest.mark.parametrize(
        "decoder", [kzg.g1_from_bytes, kzg.g2_from_bytes, kzg.scalar_from_bytes]
    )
    def test_decoders_want_bytes(self, decoder: Callable[[bytes], object]) -> None:
        with pytest.raises(TypeError, match="bytes"):
            decoder("00" * 64)  # type: ignore[arg-type]

    def test_encoders_reject_bad_values(self) -> None:
        with pytest.raises(ValueError, match="not on"):
            kzg.g1_to_bytes((G1[0], G1[0], G1[2]))
        with pytest.raises(ValueError, match="not on"):
            kzg.g2_to_bytes((G2[0], G2[0], G2[2]))
        with pytest.raises(ValueError, match="< r"):
            kzg.scalar_to_bytes(R)


# --- the spec vectors -------------------------------------------------------------------


@functools.cache
def vector_srs() -> kzg.ReferenceSRS:
    return kzg.insecure_srs(_gen_kzg_vectors.SRS_MAX_DEGREE, _gen_kzg_vectors.SRS_SEED)


class TestVectors:
    def test_file_is_current(self) -> None:
        path = VECTORS / "kzg.json"
        assert path.exists(), (
            "run: PYTHONPATH=python python -m bigfile_zk.reference._gen_kzg_vectors"
        )
        assert json.loads(path.read_text()) == _gen_kzg_vectors.kzg_vectors(vector_srs())

    def test_file_verifies(self) -> None:
        vectors = json.loads((VECTORS / "kzg.json").read_text())
        _gen_kzg_vectors.check_vectors(vectors, vector_srs())
        assert vectors["srs"]["g1_1"] == "0x" + kzg.g1_to_bytes(multiply(G1, spec_tau(1))).hex()
