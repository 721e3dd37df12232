"""The reference's hand-written polynomial arithmetic over F_r, checked against ``galois``.

``bigfile_zk.reference.kzg`` and ``.plonk`` write their roots of unity, domains, FFT/IFFT
(the O(n²) definition), Lagrange bases, interpolation and divisions by hand, so that they
read as the spec. Here every one of them is recomputed with ``galois`` (``GF(r)`` and
``galois.Poly``), a library written independently of both the reference and the Rust core:
its FFT is a Cooley-Tukey transform, its interpolation the Lagrange formula, its division
generic long division.

``GF(r)`` is built once (:func:`field`) with the primitive element given and ``verify=False``:
that takes a few milliseconds, while letting galois find and verify one factors ``r - 1``
(~100 s here). The given element is then checked here instead, from a factorisation of
``r - 1`` whose factors galois certifies prime (:func:`test_5_generates_the_multiplicative_group`).
"""

from __future__ import annotations

import functools
import math

import galois
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bigfile_zk.reference import kzg, plonk
from bigfile_zk.reference.field import R

#: r - 1 = 2^28 · 3^2 · 13 · 29 · 983 · 11003 · 237073 · 405928799 · 1670836401704629 ·
#: 13818364434197438864469338081 (what ``galois.factors(r - 1)`` finds, in ~100 s).
R_MINUS_1_FACTORS: dict[int, int] = {
    2: 28,
    3: 2,
    13: 1,
    29: 1,
    983: 1,
    11003: 1,
    237073: 1,
    405928799: 1,
    1670836401704629: 1,
    13818364434197438864469338081: 1,
}

elements = st.integers(min_value=0, max_value=R - 1)
domain_sizes = st.sampled_from([1, 2, 4, 8, 16, 32])
#: Galois's long division is generic (and slow for a 254-bit field): small domains only.
small_domain_sizes = st.sampled_from([1, 2, 4, 8, 16])


@functools.cache
def field() -> type[galois.FieldArray]:
    """``GF(r)``, built once: ~2 ms (plus ~1 s for ``import galois`` and its numba set-up)."""
    return galois.GF(R, primitive_element=kzg.MULTIPLICATIVE_GENERATOR, verify=False)


def poly(coeffs: list[int]) -> galois.Poly:
    """A reference coefficient list (lowest degree first) as a ``galois.Poly``."""
    return galois.Poly(coeffs or [0], field=field(), order="asc")


def coeff_list(p: galois.Poly, length: int | None = None) -> list[int]:
    """``p``'s coefficients, lowest degree first, zero-padded to ``length``."""
    out = [int(c) for c in p.coeffs[::-1]]
    out = [] if out == [0] else out
    return out if length is None else out + [0] * (length - len(out))


def trim(p: list[int]) -> list[int]:
    out = list(p)
    while out and out[-1] == 0:
        out.pop()
    return out


def vanishing(n: int) -> galois.Poly:
    """``Z_H = X^n - 1``."""
    return galois.Poly.Degrees([n, 0], [1, R - 1], field=field())


# --- the field and its roots of unity --------------------------------------------------------


def test_5_generates_the_multiplicative_group() -> None:
    assert galois.is_prime(R)
    assert math.prod(p**e for p, e in R_MINUS_1_FACTORS.items()) == R - 1
    assert all(galois.is_prime(p) for p in R_MINUS_1_FACTORS)
    g = field()(kzg.MULTIPLICATIVE_GENERATOR)
    # g has order r - 1 iff g^((r-1)/p) != 1 for every prime p | r - 1.
    assert all(g ** ((R - 1) // p) != 1 for p in R_MINUS_1_FACTORS)
    assert R_MINUS_1_FACTORS[2] == kzg.TWO_ADICITY


@pytest.mark.parametrize("log_n", range(kzg.TWO_ADICITY + 1))
def test_root_of_unity(log_n: int) -> None:
    n = 1 << log_n
    w = field().primitive_root_of_unity(n)  # g^((r-1)/n)
    assert kzg.root_of_unity(n) == int(w)
    assert w**n == 1
    if n > 1:
        assert w ** (n // 2) == R - 1  # so w has order exactly n


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 64])
def test_domain_is_the_roots_of_the_vanishing_polynomial(n: int) -> None:
    gf = field()
    h = kzg.domain(n)
    assert h == [int(x) for x in gf.primitive_root_of_unity(n) ** np.arange(n)]
    assert len(set(h)) == n
    assert galois.Poly.Roots(gf(h)) == vanishing(n)  # Π (X - ω^i) = X^n - 1


# --- FFT, interpolation, Lagrange bases -------------------------------------------------------


@given(st.data(), domain_sizes)
def test_fft(data: st.DataObject, n: int) -> None:
    coeffs = data.draw(st.lists(elements, max_size=n))
    evals = kzg.fft(coeffs, n)
    assert evals == [int(e) for e in np.fft.fft(field()(coeffs or [0]), n=n)]
    assert evals == [int(e) for e in poly(coeffs)(field()(kzg.domain(n)))]


@given(st.data(), domain_sizes)
def test_ifft_and_interpolation(data: st.DataObject, n: int) -> None:
    evals = data.draw(st.lists(elements, min_size=n, max_size=n))
    coeffs = kzg.ifft(evals)
    assert coeffs == [int(c) for c in np.fft.ifft(field()(evals))]
    assert plonk._interpolate(evals) == coeffs
    interpolant = galois.lagrange_poly(field()(kzg.domain(n)), field()(evals))
    assert coeffs == coeff_list(interpolant, n)


@pytest.mark.parametrize("n", [1, 2, 8])
def test_lagrange_basis(n: int) -> None:
    """``L_i`` (the reference's inverse FFT of a unit vector) is galois's Lagrange polynomial."""
    gf = field()
    h = gf(kzg.domain(n))
    for i in range(n):
        unit = [int(j == i) for j in range(n)]
        assert kzg.ifft(unit) == coeff_list(galois.lagrange_poly(h, gf(unit)), n)


@given(st.data(), st.sampled_from([8, 16, 32]), elements)
def test_lagrange_at_and_public_input_eval(data: st.DataObject, n: int, x: int) -> None:
    """``lagrange_at`` / ``public_input_eval`` (closed forms, ``x`` outside ``H``) against the
    interpolating polynomials evaluated at ``x``."""
    gf = field()
    if pow(x, n, R) == 1:
        return
    i = data.draw(st.integers(0, n - 1))
    h = gf(kzg.domain(n))
    unit = gf([int(j == i) for j in range(n)])
    assert plonk.lagrange_at(i, n, x) == int(galois.lagrange_poly(h, unit)(gf(x)))
    public = data.draw(st.lists(elements, max_size=n - 1))
    pi = galois.lagrange_poly(h, -gf(public + [0] * (n - len(public))))
    assert plonk.public_input_eval(public, n, x) == int(pi(gf(x)))


# --- products, evaluations, divisions -------------------------------------------------------

coeff_lists = st.lists(elements, max_size=40)


@given(coeff_lists, coeff_lists, elements)
def test_products_and_evaluation(p: list[int], q: list[int], x: int) -> None:
    assert trim(plonk._pmul(p, q)) == coeff_list(poly(p) * poly(q))
    assert trim(plonk._padd(p, q)) == coeff_list(poly(p) + poly(q))
    assert trim(plonk._psub(p, q)) == coeff_list(poly(p) - poly(q))
    assert plonk._peval(p, x) == kzg.evaluate(p, x) == int(poly(p)(field()(x)))
    # p(ω·X), the shift the prover applies to a, b, c, z, φ
    w = field().primitive_root_of_unity(8)
    shifted = galois.Poly.Degrees([1], [w], field=field())
    assert trim(plonk._pshift(p, int(w))) == coeff_list(poly(p)(shifted))


@given(st.data(), small_domain_sizes)
def test_vanishing_multiplication_and_division(data: st.DataObject, n: int) -> None:
    """``_divide_vanishing`` (the quotient round's exact division) is galois's ``divmod``."""
    p = data.draw(st.lists(elements, max_size=5 * n + 10))
    quotient, remainder = plonk._divide_vanishing(p, n)
    q2, r2 = divmod(poly(p), vanishing(n))
    assert (quotient, remainder) == (coeff_list(q2), coeff_list(r2))
    assert trim(plonk._mul_vanishing(p, n)) == coeff_list(poly(p) * vanishing(n))


@given(coeff_lists, elements)
def test_division_by_a_linear_factor(p: list[int], z: int) -> None:
    """KZG's ``(p(X) - p(z)) / (X - z)``, both reference versions, against galois."""
    linear = galois.Poly([1, (-z) % R], field=field())  # X - z
    q2, r2 = divmod(poly(p), linear)
    quotient, value = kzg._divide_by_linear(p, z)
    assert (trim(quotient), value) == (coeff_list(q2), int(r2.coeffs[0]))
    assert trim(plonk._divide_linear(p, z)) == coeff_list(q2)
