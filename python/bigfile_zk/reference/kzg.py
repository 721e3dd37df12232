"""KZG polynomial commitments over BN254 (``docs/spec/kzg.md``), in pure Python.

Written from the spec, independently of the Rust module ``kzg``, with py_ecc's
``optimized_bn128`` for the curve and the pairing. Points are py_ecc's projective triples
``(x, y, z)`` (the affine point is ``(x/z, y/z)``; ``z = 0`` is the identity); compare them
with :func:`py_ecc.optimized_bn128.eq` or through their encodings, never with ``==``.

Everything is the textbook form, for clarity: multi-scalar multiplications are one
``multiply`` per term, the FFT is the O(n²) definition (tests/test_reference_galois.py checks it,
the domains and the divisions against galois's Cooley-Tukey NTT and ``galois.Poly``), and each
pairing equation is evaluated as written. The one concession to speed is that a check
``e(A, H) = e(B, [τ]G2)`` runs as a product of two Miller loops with a single final
exponentiation, the form of the EVM precompile 0x08 (``e(A, H) · e(-B, [τ]G2) = 1``), which is
also what the fast implementation does.

The insecure SRS here has a *public* τ (``docs/spec/srs.md``): it proves nothing and exists so
that tests and test vectors can be reproduced anywhere. Unlike the package's
``SRS.insecure_for_testing`` it emits no warning: this module is only ever used by tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from Crypto.Hash import keccak
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128 import (
    G1,
    G2,
    Z1,
    Z2,
    add,
    b,
    b2,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
    pairing,
)

from .field import R, check_element, check_elements, check_int, from_bytes32, inv, to_bytes32

#: A G1 point in py_ecc's projective coordinates.
G1Point = tuple[FQ, FQ, FQ]
#: A G2 point (on the sextic twist over F_q²) in py_ecc's projective coordinates.
G2Point = tuple[FQ2, FQ2, FQ2]

#: The BN254 base-field modulus: every coordinate is an element of F_q.
Q: int = field_modulus

#: Encoded sizes (``docs/spec/kzg.md``, "Encodings"): EIP-196 / EIP-197.
SCALAR_BYTES: int = 32
G1_BYTES: int = 64
G2_BYTES: int = 128

#: ``r - 1 = 2^28 · odd``: the largest power-of-two domain the scalar field has.
TWO_ADICITY: int = 28
#: The generator of ``F_r^*`` whose power is the domain's root of unity (arkworks, snarkjs).
MULTIPLICATIVE_GENERATOR: int = 5
#: ``ω = 5^((r - 1) / 2^28)``, a primitive ``2^28``-th root of unity.
OMEGA: int = pow(MULTIPLICATIVE_GENERATOR, (R - 1) >> TWO_ADICITY, R)

#: Domain-separation tags of the Fiat-Shamir challenges (``H_F``).
INSECURE_SRS_TAG: bytes = b"bigfile_zk/insecure-srs"
OPEN_MANY_TAG: bytes = b"bigfile_zk/kzg/open-many"
BATCH_TAG: bytes = b"bigfile_zk/kzg/batch"

_U64_MAX = (1 << 64) - 1

# py_ecc and the rest of the reference must agree on which field is the scalar field.
assert curve_order == R
assert (R - 1) % (1 << TWO_ADICITY) == 0 and ((R - 1) >> TWO_ADICITY) % 2 == 1


# --- hashing ------------------------------------------------------------------------


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the pre-standard padding, *not* SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def u64_to_bytes(n: int) -> bytes:
    """An integer item of ``H_F``: 8 bytes, big-endian."""
    value = check_int(n, "u64")
    if not 0 <= value <= _U64_MAX:
        raise ValueError(f"u64 must be in 0..2^64-1, got {value}")
    return value.to_bytes(8, "big")


def hash_to_field(tag: bytes, *items: bytes) -> int:
    """``H_F(tag, items…) = keccak256(tag ‖ item_0 ‖ …) mod r``.

    Items are passed already encoded (:func:`g1_to_bytes`, :func:`scalar_to_bytes`,
    :func:`u64_to_bytes`): a Python ``int`` could be either a scalar (32 bytes) or an integer
    (8 bytes), and only the caller knows which one the spec means. No lengths are added: every
    item has a fixed size, so the concatenation is already unambiguous for a fixed shape.
    """
    return int.from_bytes(keccak256(tag + b"".join(items)), "big") % R


# --- the structured reference string --------------------------------------------------


@dataclass(frozen=True)
class ReferenceSRS:
    """``[τ^i]G1`` for ``i = 0..=max_degree``, and ``([1]G2, [τ]G2)``."""

    g1: tuple[G1Point, ...]
    g2: tuple[G2Point, G2Point]

    @property
    def max_degree(self) -> int:
        """The largest degree this SRS can commit to (``len(g1) - 1``)."""
        return len(self.g1) - 1


def insecure_tau(seed: int = 0) -> int:
    """``τ = keccak256(b"bigfile_zk/insecure-srs" ‖ seed as u64 BE) mod r`` (``srs.md``)."""
    return hash_to_field(INSECURE_SRS_TAG, u64_to_bytes(seed))


def insecure_srs(max_degree: int, seed: int = 0) -> ReferenceSRS:
    """The insecure testing SRS: τ is public (:func:`insecure_tau`), so it proves nothing.

    Each power is a fresh ``multiply(G1, τ^i mod r)`` rather than a running product of points,
    so that a mistake in the point arithmetic cannot propagate from one power to the next.
    """
    degree = check_int(max_degree, "max_degree")
    if degree < 0:
        raise ValueError(f"max_degree must be >= 0, got {degree}")
    tau = insecure_tau(seed)
    g1 = tuple(multiply(G1, pow(tau, i, R)) for i in range(degree + 1))
    return ReferenceSRS(g1=g1, g2=(G2, multiply(G2, tau)))


# --- polynomials and domains -----------------------------------------------------------


def _check_domain_size(n: object) -> int:
    size = check_int(n, "domain size")
    if not 1 <= size <= 1 << TWO_ADICITY or size & (size - 1):
        raise ValueError(f"domain size must be a power of two in 1..2^{TWO_ADICITY}, got {size}")
    return size


def root_of_unity(n: int) -> int:
    """``ω_n = ω^(2^28 / n)``, the generator of the domain ``H_n`` (``n`` a power of two)."""
    size = _check_domain_size(n)
    return pow(OMEGA, (1 << TWO_ADICITY) // size, R)


def domain(n: int) -> list[int]:
    """``H_n = [ω_n^0, ω_n^1, …, ω_n^(n-1)]``, in the order the evaluation form uses."""
    omega_n = root_of_unity(n)
    return [pow(omega_n, i, R) for i in range(n)]


def evaluate(coeffs: Sequence[int], z: int) -> int:
    """``p(z)`` by Horner's rule; the empty list is the zero polynomial."""
    values = check_elements(coeffs, "coefficient")
    point = check_element(z, "evaluation point z")
    acc = 0
    for c in reversed(values):
        acc = (acc * point + c) % R
    return acc


def fft(coeffs: Sequence[int], n: int | None = None) -> list[int]:
    """The evaluations ``p(ω_n^i)``, ``i = 0..n-1`` (``n`` defaults to ``len(coeffs)``).

    The O(n²) definition, ``e_i = Σ_j c_j · ω_n^(i·j)``: a reference should be obviously
    right, not fast. ``coeffs`` may be shorter than ``n`` (it is zero-padded), not longer.
    """
    values = check_elements(coeffs, "coefficient")
    size = _check_domain_size(len(values) if n is None else n)
    if len(values) > size:
        raise ValueError(f"{len(values)} coefficients do not fit a domain of size {size}")
    powers = domain(size)
    return [sum(c * powers[(i * j) % size] for j, c in enumerate(values)) % R for i in range(size)]


def ifft(evals: Sequence[int]) -> list[int]:
    """The coefficients of the unique ``p`` of degree ``< n`` with ``p(ω_n^i) = evals[i]``.

    ``c_j = n^(-1) · Σ_i e_i · ω_n^(-i·j)``, the inverse of :func:`fft` (O(n²), as there).
    """
    values = check_elements(evals, "evaluation")
    size = _check_domain_size(len(values))
    powers = domain(size)
    inverse_powers = powers[:1] + powers[1:][::-1]  # ω_n^(-k) = ω_n^(n-k)
    n_inv = inv(size)
    return [
        n_inv * sum(e * inverse_powers[(i * j) % size] for i, e in enumerate(values)) % R
        for j in range(size)
    ]


def _divide_by_linear(coeffs: list[int], z: int) -> tuple[list[int], int]:
    """``(q, v)`` with ``p(X) = q(X)·(X - z) + v``: synthetic division, so ``v = p(z)``.

    Working from the top coefficient down, ``q_{k-1} = c_k + z·q_k`` and the final carry is
    ``c_0 + z·q_0 = p(z)``: this is Horner's rule keeping its intermediate values.
    """
    if not coeffs:
        return [], 0
    quotient = [0] * (len(coeffs) - 1)
    carry = 0
    for k in range(len(coeffs) - 1, 0, -1):
        carry = (coeffs[k] + z * carry) % R
        quotient[k - 1] = carry
    return quotient, (coeffs[0] + z * carry) % R


# --- points -------------------------------------------------------------------------


def _require_g1(point: object, what: str) -> G1Point:
    """Return ``point`` if it is a py_ecc optimized G1 point on the curve."""
    if not (isinstance(point, tuple) and len(point) == 3 and all(isinstance(c, FQ) for c in point)):
        raise TypeError(f"{what} must be a py_ecc optimized_bn128 G1 point (x, y, z)")
    if not is_on_curve(point, b):
        raise ValueError(f"{what} is not on the BN254 G1 curve")
    return point


def _msm(points: Sequence[G1Point], scalars: Sequence[int]) -> G1Point:
    """``Σ s_i · P_i``, one ``multiply`` per non-zero term; the empty sum is the identity."""
    acc = Z1
    for point, scalar in zip(points, scalars, strict=True):
        if scalar:
            acc = add(acc, multiply(point, scalar))
    return acc


def _pairing_product_is_one(pairs: Sequence[tuple[G1Point, G2Point]]) -> bool:
    """``Π e(P_i, Q_i) = 1``, with one final exponentiation for the whole product.

    The pairing is bilinear in the Miller loop's output only up to the final exponentiation,
    so multiplying unexponentiated Miller loops and exponentiating once is the same check.
    """
    acc = FQ12.one()
    for p, q in pairs:
        acc = acc * pairing(q, p, final_exponentiate=False)
    return bool(final_exponentiate(acc) == FQ12.one())


def _check_opening(srs: ReferenceSRS, lhs: G1Point, rhs: G1Point) -> bool:
    """``e(lhs, H) = e(rhs, [τ]G2)``, as ``e(lhs, H) · e(-rhs, [τ]G2) = 1``."""
    return _pairing_product_is_one([(lhs, srs.g2[0]), (neg(rhs), srs.g2[1])])


# --- commitments and openings ----------------------------------------------------------


def _check_coeffs(srs: ReferenceSRS, coeffs: Sequence[int]) -> list[int]:
    values = check_elements(coeffs, "coefficient")
    if len(values) > srs.max_degree + 1:
        raise ValueError(
            f"polynomial has {len(values)} coefficients but the SRS supports at most "
            f"{srs.max_degree + 1} (max_degree {srs.max_degree})"
        )
    return values


def commit(srs: ReferenceSRS, coeffs: Sequence[int]) -> G1Point:
    """``Σ c_i · [τ^i]G1`` (``[p(τ)]G1``); the zero polynomial commits to the identity."""
    values = _check_coeffs(srs, coeffs)
    return _msm(srs.g1[: len(values)], values)


def lagrange_commitments(srs: ReferenceSRS, n: int) -> list[G1Point]:
    """``[L_i(τ)]G1`` for the Lagrange basis ``L_0..L_{n-1}`` of ``H_n``.

    ``L_i`` is the polynomial that is 1 at ``ω_n^i`` and 0 elsewhere on ``H_n``, i.e. the
    inverse FFT of the ``i``-th unit vector; its commitment is then an ordinary commitment.
    """
    size = _check_domain_size(n)
    if size > srs.max_degree + 1:
        raise ValueError(f"domain size {size} exceeds the SRS's {srs.max_degree + 1} G1 powers")
    return [commit(srs, ifft([int(i == k) for i in range(size)])) for k in range(size)]


def commit_evals(srs: ReferenceSRS, evals: Sequence[int]) -> G1Point:
    """``Σ e_i · [L_i(τ)]G1``: the commitment of the polynomial with ``p(ω_n^i) = e_i``.

    Computed from the Lagrange commitments, as the spec defines it, rather than as
    ``commit(ifft(e))``; the tests check that the two agree.
    """
    values = check_elements(evals, "evaluation")
    return _msm(lagrange_commitments(srs, len(values)), values)


def open(srs: ReferenceSRS, coeffs: Sequence[int], z: int) -> tuple[int, G1Point]:
    """``(v, π)``: ``v = p(z)`` and ``π = commit((p(X) - v) / (X - z))``."""
    values = _check_coeffs(srs, coeffs)
    point = check_element(z, "evaluation point z")
    quotient, value = _divide_by_linear(values, point)
    return value, commit(srs, quotient)


def verify(srs: ReferenceSRS, commitment: G1Point, z: int, v: int, proof: G1Point) -> bool:
    """``e(C - v·G + z·π, H) = e(π, [τ]G2)``.

    Why it holds: ``p(τ) - v = q(τ)(τ - z)``, so ``C - v·G = τ·π - z·π``. Well-formed inputs
    (on-curve points, canonical scalars) give ``True`` or ``False``, never an exception.
    """
    c = _require_g1(commitment, "commitment")
    pi = _require_g1(proof, "proof")
    point = check_element(z, "evaluation point z")
    value = check_element(v, "value v")
    lhs = add(add(c, neg(multiply(G1, value))), multiply(pi, point))
    return _check_opening(srs, lhs, pi)


# --- several polynomials at one point ---------------------------------------------------


def open_many_challenge(commitments: Sequence[G1Point], z: int, values: Sequence[int]) -> int:
    """``gamma = H_F("bigfile_zk/kzg/open-many", C_0, …, C_{k-1}, z, v_0, …, v_{k-1})``."""
    return hash_to_field(
        OPEN_MANY_TAG,
        *(g1_to_bytes(c) for c in commitments),
        scalar_to_bytes(z),
        *(scalar_to_bytes(v) for v in values),
    )


def open_many(
    srs: ReferenceSRS, polys: Sequence[Sequence[int]], z: int
) -> tuple[list[int], G1Point]:
    """``(vs, π)`` with ``π = commit(Σ_j gamma^j · (p_j - v_j) / (X - z))``.

    The prover commits to every ``p_j`` itself, because ``gamma`` binds the commitments: a ``gamma``
    chosen before them would let a cheating prover pick commitments that cancel out.
    """
    if not polys:
        raise ValueError("open_many needs at least one polynomial")
    checked = [_check_coeffs(srs, p) for p in polys]
    point = check_element(z, "evaluation point z")
    divided = [_divide_by_linear(p, point) for p in checked]
    values = [v for _, v in divided]
    gamma = open_many_challenge([commit(srs, p) for p in checked], point, values)
    combined = [0] * max((len(q) for q, _ in divided), default=0)
    for j, (quotient, _) in enumerate(divided):
        weight = pow(gamma, j, R)
        for k, c in enumerate(quotient):
            combined[k] = (combined[k] + weight * c) % R
    return values, commit(srs, combined)


def verify_many(
    srs: ReferenceSRS,
    commitments: Sequence[G1Point],
    z: int,
    values: Sequence[int],
    proof: G1Point,
) -> bool:
    """Recompute ``gamma``, then ``verify(Σ gamma^j C_j, z, Σ gamma^j v_j, π)``."""
    cs = [_require_g1(c, f"commitment [{j}]") for j, c in enumerate(commitments)]
    vs = check_elements(values, "value")
    if len(cs) != len(vs):
        raise ValueError(f"{len(cs)} commitments but {len(vs)} values")
    point = check_element(z, "evaluation point z")
    gamma = open_many_challenge(cs, point, vs)
    combined_c = _msm(cs, [pow(gamma, j, R) for j in range(len(cs))])
    combined_v = sum(pow(gamma, j, R) * v for j, v in enumerate(vs)) % R
    return verify(srs, combined_c, point, combined_v, proof)


# --- batch verification -----------------------------------------------------------------

#: One opening ``(C, z, v, π)``.
Opening = tuple[G1Point, int, int, G1Point]


def batch_challenges(openings: Sequence[Opening]) -> list[int]:
    """``rho_0 = 1``, ``rho_i = H_F("bigfile_zk/kzg/batch", C_0, z_0, v_0, π_0, …, i)`` for i ≥ 1.

    Every ``rho_i`` hashes *all* the openings (each as ``C ‖ z ‖ v ‖ π``, in order) followed by
    ``i`` as a u64, so all of them are fixed before any weight is known.
    """
    transcript = [
        g1_to_bytes(c) + scalar_to_bytes(z) + scalar_to_bytes(v) + g1_to_bytes(pi)
        for c, z, v, pi in openings
    ]
    return [
        1 if i == 0 else hash_to_field(BATCH_TAG, *transcript, u64_to_bytes(i))
        for i in range(len(openings))
    ]


def batch_verify(srs: ReferenceSRS, openings: Sequence[Opening]) -> bool:
    """``e(Σ rho_i·(C_i - v_i·G + z_i·π_i), H) = e(Σ rho_i·π_i, [τ]G2)``: one 2-pairing check.

    The random ``rho_i`` are what make this sound: with all weights 1, two wrong openings at
    the same point whose errors cancel (``v_0 + δ``, ``v_1 - δ``) would pass. An empty batch
    proves nothing and is refused (``False``), as in the Rust core.
    """
    if not openings:
        return False
    checked: list[Opening] = []
    for i, opening in enumerate(openings):
        c, z, v, pi = opening
        checked.append(
            (
                _require_g1(c, f"commitment [{i}]"),
                check_element(z, f"evaluation point z [{i}]"),
                check_element(v, f"value v [{i}]"),
                _require_g1(pi, f"proof [{i}]"),
            )
        )
    rhos = batch_challenges(checked)
    lhs, rhs = Z1, Z1
    for rho, (c, z, v, pi) in zip(rhos, checked, strict=True):
        term = add(add(c, neg(multiply(G1, v))), multiply(pi, z))
        lhs = add(lhs, multiply(term, rho))
        rhs = add(rhs, multiply(pi, rho))
    return _check_opening(srs, lhs, rhs)


# --- encodings ------------------------------------------------------------------------


def _as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be bytes, got {type(data).__name__}")
    return bytes(data)


def _coordinates(raw: bytes, what: str) -> list[int]:
    """Split into 32-byte big-endian coordinates, each required to be ``< q``."""
    values = [int.from_bytes(raw[k : k + 32], "big") for k in range(0, len(raw), 32)]
    for k, value in enumerate(values):
        if value >= Q:
            raise ValueError(f"{what} coordinate {k} is not canonical (>= q): {value}")
    return values


def scalar_to_bytes(x: int) -> bytes:
    """32 bytes, big-endian; ``x`` must be canonical (``< r``)."""
    return to_bytes32(x)


def scalar_from_bytes(data: bytes) -> int:
    """Decode 32 big-endian bytes, rejecting other lengths and values ``>= r``."""
    return from_bytes32(data, "scalar")


def g1_to_bytes(point: G1Point) -> bytes:
    """EIP-196: ``x ‖ y`` (32 bytes big-endian each, affine); the identity is 64 zero bytes."""
    p = _require_g1(point, "G1 point")
    if is_inf(p):
        return bytes(G1_BYTES)
    x, y = normalize(p)
    return x.n.to_bytes(32, "big") + y.n.to_bytes(32, "big")


def g1_from_bytes(data: bytes) -> G1Point:
    """Decode EIP-196 bytes, rejecting a wrong length, coordinates ``>= q``, off-curve points.

    G1 has cofactor 1, so every point on the curve is in the group: no subgroup check.
    """
    raw = _as_bytes(data, "G1 point")
    if len(raw) != G1_BYTES:
        raise ValueError(f"G1 point must be {G1_BYTES} bytes, got {len(raw)}")
    x, y = _coordinates(raw, "G1 point")
    if x == 0 and y == 0:  # (0, 0) is not on y² = x³ + 3, so it is free to mean the identity
        return Z1
    point = (FQ(x), FQ(y), FQ.one())
    if not is_on_curve(point, b):
        raise ValueError("G1 point is not on the curve y^2 = x^3 + 3")
    return point


def g2_to_bytes(point: G2Point) -> bytes:
    """EIP-197: ``x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0`` (imaginary part first); identity = zeros.

    py_ecc stores ``c0 + c1·u`` as ``coeffs = (c0, c1)``, hence the reversal.
    """
    if not (
        isinstance(point, tuple) and len(point) == 3 and all(isinstance(c, FQ2) for c in point)
    ):
        raise TypeError("G2 point must be a py_ecc optimized_bn128 G2 point (x, y, z)")
    if not is_on_curve(point, b2):
        raise ValueError("G2 point is not on the twist curve")
    if is_inf(point):
        return bytes(G2_BYTES)
    x, y = normalize(point)
    return b"".join(int(c).to_bytes(32, "big") for c in (*x.coeffs[::-1], *y.coeffs[::-1]))


def g2_from_bytes(data: bytes) -> G2Point:
    """Decode EIP-197 bytes; reject a wrong length, coordinates ``>= q``, off-curve points and
    points outside the order-``r`` subgroup.

    The twist has a large cofactor, so being on the curve is not enough: a point of another
    order would break the pairing equations' soundness (small-subgroup attacks). The check is
    the definition, ``r·P = 0``, a full scalar multiplication: slow, and obviously right.
    """
    raw = _as_bytes(data, "G2 point")
    if len(raw) != G2_BYTES:
        raise ValueError(f"G2 point must be {G2_BYTES} bytes, got {len(raw)}")
    x_c1, x_c0, y_c1, y_c0 = _coordinates(raw, "G2 point")
    if x_c1 == x_c0 == y_c1 == y_c0 == 0:
        return Z2
    point = (FQ2([x_c0, x_c1]), FQ2([y_c0, y_c1]), FQ2.one())
    if not is_on_curve(point, b2):
        raise ValueError("G2 point is not on the twist curve y^2 = x^3 + 3/(9 + u)")
    if not is_inf(multiply(point, R)):
        raise ValueError("G2 point is not in the prime-order subgroup")
    return point
