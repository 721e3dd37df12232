"""BigFile PLONK over BN254 with KZG (``docs/spec/plonk.md``), in pure Python.

Written from the spec alone, as the reference the Rust prover/verifier is checked against
byte for byte: the same circuit, witness, SRS and blinding scalars must give the same verifying
key bytes, transcript challenges and proof bytes. Everything is the textbook form: polynomials
are coefficient lists (lowest degree first) multiplied schoolbook-style, the quotient is an
exact long division by ``X^n - 1``, commitments are one scalar multiplication per term (or,
with the insecure SRS whose τ is public, ``[p(τ)]G1``), and every pairing equation is written
as in the spec.

All three versions of the spec are implemented: a circuit is version 2 exactly when it has
the fixed column ``q_N`` (the arithmetic gate's coefficient of the next row's ``c``), which
changes the gate, the key bytes, the quotient and the linearisation and nothing else; version-1
circuits give the same keys and proofs as before version 2 existed. Version 3 (§8) is version 2
with lookups whose witness is committed *packed* and opened by one multi-point opening: it is
requested explicitly, ``Circuit(..., packed=True)`` or ``CircuitBuilder(k, ..., lookups=True,
packed=True)``, and is accepted only for a circuit with ``q_N`` and lookups; its key is version
2's with version byte 3, its proof has 5 points and 16 evaluations (832 bytes), and
:func:`prove` / :func:`verify` dispatch on the key's version.

Where the spec leaves a choice open, the reading taken here is marked ``SPEC-READING`` in a
comment; those points are listed in the report that accompanied this module.

Contents:

* :class:`Circuit`, :class:`Witness` and their JSON interchange format (spec §7), with a small
  :class:`CircuitBuilder` (arithmetic rows, copies, lookups, the 66-row Poseidon layout of §2.1,
  version 2's dot-product chains);
* :class:`Srs`: the commitment key (the honest MSM path, or the insecure public-τ shortcut);
* :func:`setup` → :class:`ProvingKey`, :class:`VerifyingKey` (bytes of §3, digest);
* :func:`prove` → :class:`Proof` (bytes of §5 or §8, versioned ``BFPF`` encoding);
* :func:`verify` (§6, §8), :func:`transcript_challenges` (§4, §8, for tests and vectors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from py_ecc.optimized_bn128 import G1, G2, Z1, add, is_inf, multiply, neg

from . import poseidon as _poseidon
from .field import R, check_elements, check_int, inv
from .kzg import (
    G1_BYTES,
    G2_BYTES,
    SCALAR_BYTES,
    G1Point,
    G2Point,
    ReferenceSRS,
    _pairing_product_is_one,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
    ifft,
    insecure_tau,
    keccak256,
    root_of_unity,
    scalar_from_bytes,
    scalar_to_bytes,
)

# --- constants ---------------------------------------------------------------------------

MIN_K: int = 3
MAX_K: int = 25

#: Coset shifts of the copy-permutation identities: ``id(col, i) = k_col · ω^i``.
K_SHIFTS: tuple[int, int, int] = (1, 5, 25)

#: Names of the fixed columns, in verifying-key order (§3); the sigma columns are derived.
ARITH_COLUMNS: tuple[str, ...] = ("q_m", "q_l", "q_r", "q_o", "q_c", "q_f", "q_p")
#: Version 2's column, in the key right after ``q_p`` (§3).
Q_N: str = "q_n"
SIGMA_COLUMNS: tuple[str, ...] = ("sigma_1", "sigma_2", "sigma_3")
LOOKUP_COLUMNS: tuple[str, ...] = ("q_k", "t1", "t2", "t3")

VK_MAGIC: bytes = b"BFVK"
VK_VERSION: int = 1
VK_VERSION_2: int = 2
#: Version 3 (§8): version 2's key bytes (lookups and [q_N] required) with this version byte.
VK_VERSION_3: int = 3
PROOF_MAGIC: bytes = b"BFPF"
PROOF_VERSION: int = 1
#: The proof of a version-3 key (§8); proof version 1 covers keys of versions 1 and 2.
PROOF_VERSION_3: int = 3
FLAG_LOOKUPS: int = 0x01

TRANSCRIPT_TAG: bytes = b"bigfile_zk/plonk/v1"

CIRCUIT_FORMAT: str = "bigfile_zk/plonk-circuit/v1"
CIRCUIT_FORMAT_V2: str = "bigfile_zk/plonk-circuit/v2"
CIRCUIT_FORMAT_V3: str = "bigfile_zk/plonk-circuit/v3"
_CIRCUIT_FORMATS: dict[str, int] = {CIRCUIT_FORMAT: 1, CIRCUIT_FORMAT_V2: 2, CIRCUIT_FORMAT_V3: 3}
# SPEC-READING: §7 names no format string for the witness; this one mirrors the circuit's.
WITNESS_FORMAT: str = "bigfile_zk/plonk-witness/v1"

#: circomlib Poseidon(2): width 3, 8 full rounds (4 + 4) around 57 partial rounds.
POSEIDON_WIDTH: int = 3
POSEIDON_ROUNDS: int = _poseidon.N_ROUNDS_F + _poseidon.partial_rounds(POSEIDON_WIDTH)  # 65
#: One permutation: a row per round plus the output row.
POSEIDON_ROWS: int = POSEIDON_ROUNDS + 1  # 66

_HEADER_BYTES = 4 + 1 + 1 + 4 + 1
_DECIMAL_RE = re.compile(r"0|[1-9][0-9]*")


def _check_k(k: object) -> int:
    value = check_int(k, "k")
    if not MIN_K <= value <= MAX_K:
        raise ValueError(f"k must be in {MIN_K}..={MAX_K}, got {value}")
    return value


def required_max_degree(k: int, round_gates: bool = True, packed: bool = False) -> int:
    """The SRS degree a circuit of size ``2^k`` needs (§3): ``5n + 9`` if a row has the degree-6
    Poseidon round gate (the quotient's degree bound), else ``3n + 9`` (the quotient has degree
    at most ``3n + 8``), or ``4n + 11`` for a version-3 (``packed``) circuit, whose ``C1`` has
    degree ``4n + 11`` (§8: ``max(5n + 10, 4n + 12)`` powers). The default is the largest,
    enough for every circuit of that size."""
    n = 1 << _check_k(k)
    if round_gates:
        return 5 * n + 9  # >= 4n + 11 for every n >= 2
    return 4 * n + 11 if packed else 3 * n + 9


# --- polynomial arithmetic (coefficient lists, lowest degree first) ------------------------
#
# Hand-written rather than galois.Poly over galois.GF(r), which tests/test_reference_galois.py
# checks every helper here against. Measured at the sizes the tests prove (n up to 128): a
# galois product of two degree-n polynomials costs about what _pmul does (4 ms; galois keeps
# elements of a 254-bit field in numpy object arrays of Python ints), so it would save a few
# lines at the price of converting the lists every other line of the prover uses; galois's
# generic long division of 3n coefficients by X^n - 1 is ~2500x slower than _divide_vanishing
# (0.13 s vs 0.05 ms at n = 128, 1.9 s vs 0.2 ms at n = 512).

Poly = list[int]


def _trim(p: Poly) -> Poly:
    while p and p[-1] == 0:
        p.pop()
    return p


def _padd(*ps: Sequence[int]) -> Poly:
    out = [0] * max((len(p) for p in ps), default=0)
    for p in ps:
        for i, c in enumerate(p):
            out[i] += c
    return [c % R for c in out]


def _pscale(p: Sequence[int], s: int) -> Poly:
    return [c * s % R for c in p]


def _psub(p: Sequence[int], q: Sequence[int]) -> Poly:
    return _padd(p, _pscale(q, R - 1))


def _pmul(p: Sequence[int], q: Sequence[int]) -> Poly:
    """Schoolbook product; the sums are reduced once at the end."""
    if not p or not q:
        return []
    out = [0] * (len(p) + len(q) - 1)
    for i, x in enumerate(p):
        if x:
            for j, y in enumerate(q):
                out[i + j] += x * y
    return [c % R for c in out]


def _pconst(c: int) -> Poly:
    return [c % R]


def _pshift(p: Sequence[int], w: int) -> Poly:
    """``p(w·X)``: coefficient ``j`` times ``w^j``."""
    out = []
    power = 1
    for c in p:
        out.append(c * power % R)
        power = power * w % R
    return out


def _peval(p: Sequence[int], x: int) -> int:
    acc = 0
    for c in reversed(p):
        acc = (acc * x + c) % R
    return acc


def _mul_vanishing(p: Sequence[int], n: int) -> Poly:
    """``p(X)·(X^n - 1)``."""
    return _psub([0] * n + list(p), p)


def _divide_vanishing(p: Sequence[int], n: int) -> tuple[Poly, Poly]:
    """``(q, rem)`` with ``p = q·(X^n - 1) + rem`` and ``deg rem < n`` (long division)."""
    work = [c % R for c in p]
    if len(work) <= n:
        return [], _trim(work)
    quotient = [0] * (len(work) - n)
    for i in range(len(work) - 1, n - 1, -1):
        c = work[i]
        quotient[i - n] = c
        work[i - n] = (work[i - n] + c) % R  # X^i = X^(i-n)·(X^n - 1) + X^(i-n)
        work[i] = 0
    return _trim(quotient), _trim(work[:n])


def _divide_linear(p: Sequence[int], z: int) -> Poly:
    """``(p(X) - p(z)) / (X - z)`` by synthetic division."""
    if len(p) <= 1:
        return []
    quotient = [0] * (len(p) - 1)
    carry = 0
    for i in range(len(p) - 1, 0, -1):
        carry = (p[i] + z * carry) % R
        quotient[i - 1] = carry
    return quotient


def _interpolate(evals: Sequence[int]) -> Poly:
    """The polynomial of degree ``< n`` with ``p(ω^i) = evals[i]`` (inverse DFT)."""
    return ifft(list(evals))


def _blind(evals: Sequence[int], rho: Sequence[int], n: int) -> Poly:
    """The interpolant plus ``(rho_0 + rho_1 X + rho_2 X²)·Z_H(X)`` (§5)."""
    return _padd(_interpolate(evals), _mul_vanishing(list(rho), n))


def lagrange_at(i: int, n: int, x: int) -> int:
    """``L_i(x) = ω^i (x^n - 1) / (n (x - ω^i))`` for ``x`` outside ``H``."""
    w_i = pow(root_of_unity(n), i, R)
    return w_i * (pow(x, n, R) - 1) * inv(n * (x - w_i)) % R


def public_input_eval(public_inputs: Sequence[int], n: int, x: int) -> int:
    """``PI(x) = -Σ x_i L_i(x)`` (``x`` outside ``H``)."""
    return -sum(v * lagrange_at(i, n, x) for i, v in enumerate(public_inputs)) % R


# --- the commitment key --------------------------------------------------------------------


@dataclass(frozen=True)
class Srs:
    """What PLONK needs of an SRS: ``max_degree``, ``([1]G2, [τ]G2)`` and ``commit``.

    Two flavours give the same commitments:

    * :meth:`from_reference`: the honest path, ``Σ c_j·[τ^j]G1`` over the SRS points (what a
      real ceremony's SRS needs);
    * :meth:`insecure`: the insecure testing SRS of ``srs.md``, whose τ is public, so a
      commitment is ``[p(τ)]G1``, one scalar multiplication. Its ``g2`` equals the one of
      :func:`bigfile_zk.reference.kzg.insecure_srs` with the same seed.
    """

    max_degree: int
    g2: tuple[G2Point, G2Point]
    g1: tuple[G1Point, ...] | None = None
    tau: int | None = None

    @classmethod
    def from_reference(cls, srs: ReferenceSRS) -> Srs:
        return cls(max_degree=srs.max_degree, g2=srs.g2, g1=srs.g1)

    @classmethod
    def insecure(cls, max_degree: int, seed: int = 0) -> Srs:
        degree = check_int(max_degree, "max_degree")
        if degree < 0:
            raise ValueError(f"max_degree must be >= 0, got {degree}")
        tau = insecure_tau(seed)
        return cls(max_degree=degree, g2=(G2, multiply(G2, tau)), tau=tau)

    def commit(self, coeffs: Sequence[int]) -> G1Point:
        """``[p] = Σ c_j [τ^j]G1``; the zero polynomial commits to the identity."""
        p = _trim(list(coeffs))
        if len(p) > self.max_degree + 1:
            raise ValueError(
                f"polynomial of degree {len(p) - 1} exceeds the SRS max_degree {self.max_degree}"
            )
        if self.tau is not None:
            value = _peval(p, self.tau)
            return multiply(G1, value) if value else Z1
        assert self.g1 is not None
        acc = Z1
        for point, c in zip(self.g1, p, strict=False):
            if c:
                acc = add(acc, multiply(point, c))
        return acc


# --- circuits and witnesses -----------------------------------------------------------------

Cell = tuple[int, int]  # (col, row), col 0, 1, 2 for a, b, c


def _column(values: Sequence[int], n: int, what: str) -> list[int]:
    column = check_elements(values, what)
    if len(column) != n:
        raise ValueError(f"{what} must have n = {n} entries, got {len(column)}")
    return column


@dataclass(frozen=True)
class Circuit:
    """A circuit's shape: the fixed columns (lists of ``n`` field elements) and the copy classes.

    ``copies`` holds the classes of more than one cell, each a sorted tuple of ``(col, row)``;
    ``q_n`` is given exactly for a version-2 (or 3) circuit. ``packed=True`` requests version 3
    (§8: the same columns, packed witness commitments and one multi-point opening); it is the
    builder's choice, accepted only with ``q_n`` and ``lookups``. The constructor validates
    everything (:meth:`__post_init__`).
    """

    k: int
    num_public: int
    lookups: bool
    q_m: list[int]
    q_l: list[int]
    q_r: list[int]
    q_o: list[int]
    q_c: list[int]
    q_f: list[int]
    q_p: list[int]
    copies: list[tuple[Cell, ...]]
    q_k: list[int] | None = None
    t1: list[int] | None = None
    t2: list[int] | None = None
    t3: list[int] | None = None
    q_n: list[int] | None = None
    packed: bool = False

    @property
    def n(self) -> int:
        return 1 << self.k

    @property
    def version(self) -> int:
        """3 if ``packed`` (§8), else 2 iff the circuit has the ``q_N`` column (§3), else 1."""
        if self.packed:
            return VK_VERSION_3
        return 1 if self.q_n is None else 2

    @property
    def has_round_gates(self) -> bool:
        """Whether some row is a Poseidon round (``q_F`` or ``q_P`` set): the quotient's degree,
        and so the SRS the circuit needs, depend on it (§3)."""
        return any(self.q_f) or any(self.q_p)

    def fixed_names(self) -> tuple[str, ...]:
        """The fixed columns the circuit has, in key (and §7) order, sigma excluded."""
        v2 = (Q_N,) if self.q_n is not None else ()
        return ARITH_COLUMNS + v2 + (LOOKUP_COLUMNS if self.lookups else ())

    def __post_init__(self) -> None:
        k = _check_k(self.k)
        n = 1 << k
        num_public = check_int(self.num_public, "num_public")
        # SPEC-READING: ell ≤ n (rows 0..ell-1 are public-input rows), not stated in the spec.
        if not 0 <= num_public < n:
            raise ValueError(f"num_public must be in 0..{n} (below n), got {num_public}")
        if not isinstance(self.lookups, bool):
            raise TypeError("lookups must be a bool")
        if not isinstance(self.packed, bool):
            raise TypeError("packed must be a bool")
        # §8: "A circuit is version 3 only by the builder's choice, and only if it uses q_N
        # and lookups".
        if self.packed and (self.q_n is None or not self.lookups):
            missing = " and ".join(
                what
                for what, absent in (("q_n", self.q_n is None), ("lookups", not self.lookups))
                if absent
            )
            raise ValueError(
                f"a version-3 (packed) circuit needs q_n and lookups; this one has no {missing}"
            )
        for name in ARITH_COLUMNS:
            object.__setattr__(self, name, _column(getattr(self, name), n, name))
        for name in LOOKUP_COLUMNS:
            if self.lookups:
                if getattr(self, name) is None:
                    raise ValueError(f"a lookup circuit needs the column {name}")
                object.__setattr__(self, name, _column(getattr(self, name), n, name))
            elif getattr(self, name) is not None:
                raise ValueError(f"column {name} given but lookups is false")
        if self.q_n is not None:
            object.__setattr__(self, Q_N, _column(self.q_n, n, Q_N))
            # SPEC-READING: "version 2 exactly when q_N is not all zero" and "a version-2
            # circuit's q_N is not all zero": an all-zero q_n is refused, not read as version 1,
            # so that every circuit has one form (as every key has one encoding, §3).
            if not any(self.q_n):
                raise ValueError("a version-2 circuit's q_n is all zero (give no q_n: version 1)")
        q_n = self.q_n or [0] * n

        for i in range(n):
            f, p = self.q_f[i], self.q_p[i]
            if f not in (0, 1) or p not in (0, 1):
                raise ValueError(f"row {i}: q_f and q_p must be 0 or 1")
            if f and p:
                raise ValueError(f"row {i}: q_f and q_p are both set")
            if (f or p) and i == n - 1:
                raise ValueError(f"row {i} = n - 1 may not be a Poseidon row")
            # SPEC-READING: "On a Poseidon row q_M = q_O = 0" (§2) is enforced.
            if (f or p) and (self.q_m[i] or self.q_o[i]):
                raise ValueError(f"row {i}: a Poseidon row must have q_m = q_o = 0")
            # SPEC-READING: §3 lists where q_N must be 0 (Poseidon, last and public-input rows);
            # a lookup row is an arithmetic row as well, so q_N there is allowed.
            if q_n[i] and (f or p):
                raise ValueError(f"row {i}: q_n must be 0 on a Poseidon row")
            # Row n - 1's next row is row 0: a gate may not wrap around.
            if q_n[i] and i == n - 1:
                raise ValueError(f"row {i} = n - 1 must have q_n = 0")
            if self.lookups:
                assert self.q_k is not None
                if self.q_k[i] not in (0, 1):
                    raise ValueError(f"row {i}: q_k must be 0 or 1")
        for i in range(num_public):
            # SPEC-READING: "q_L = 1, every other selector 0" includes q_K.
            others = [self.q_m[i], self.q_r[i], self.q_o[i], self.q_c[i], self.q_f[i], self.q_p[i]]
            others.append(q_n[i])  # §3: q_N is 0 on public-input rows
            if self.lookups:
                assert self.q_k is not None
                others.append(self.q_k[i])
            if self.q_l[i] != 1 or any(others):
                raise ValueError(
                    f"row {i} is a public-input row: it needs q_l = 1 and every other selector 0"
                )

        # §3: "a lookup circuit's T3 is not all zero" (tags are >= 1, so an all-zero T3 is a
        # table without a single entry).
        if self.lookups and not any(self.t3 or ()):
            raise ValueError("a lookup circuit needs a non-empty table (T3 is all zero)")

        object.__setattr__(self, "copies", _normalise_copies(self.copies, n))

    # -- the copy permutation --

    def sigma(self) -> list[list[int]]:
        """``sigma(col, i)`` for the three wire columns, as evaluations on ``H`` (§2.2)."""
        n = self.n
        omega = root_of_unity(n)
        ids = [[K_SHIFTS[col] * pow(omega, i, R) % R for i in range(n)] for col in range(3)]
        sigma = [list(column) for column in ids]
        for cells in self.copies:  # each class is already sorted by col·n + row
            for j, (col, row) in enumerate(cells):
                next_col, next_row = cells[(j + 1) % len(cells)]
                sigma[col][row] = ids[next_col][next_row]
        return sigma

    def table(self) -> list[tuple[int, int, int]]:
        """The lookup table: every row's ``(T1, T2, T3)`` (padding rows repeat an entry)."""
        assert self.t1 is not None and self.t2 is not None and self.t3 is not None
        return list(zip(self.t1, self.t2, self.t3, strict=True))

    # -- JSON (§7) --

    def to_json_dict(self) -> dict[str, Any]:
        formats = {1: CIRCUIT_FORMAT, 2: CIRCUIT_FORMAT_V2, 3: CIRCUIT_FORMAT_V3}
        out: dict[str, Any] = {
            "format": formats[self.version],
            "k": self.k,
            "num_public": self.num_public,
            "lookups": self.lookups,
        }
        for name in self.fixed_names():
            out[name] = [str(v) for v in getattr(self, name)]
        out["copies"] = [[[col, row] for col, row in cells] for cells in self.copies]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict())

    @classmethod
    def from_json_dict(cls, obj: object) -> Circuit:
        if not isinstance(obj, dict):
            raise ValueError("a circuit must be a JSON object")
        fmt = obj.get("format")
        version = _CIRCUIT_FORMATS.get(fmt) if isinstance(fmt, str) else None
        if version is None:
            raise ValueError(f"circuit format must be one of {sorted(_CIRCUIT_FORMATS)}")
        lookups = obj.get("lookups")
        if not isinstance(lookups, bool):
            raise ValueError("circuit 'lookups' must be true or false")
        # §7: q_n exactly in /v2 and /v3 (a /v1 circuit with q_n, or /v2 without, has the
        # wrong keys). §8: /v3 has the keys of /v2 and lookups true (the constructor refuses a
        # /v3 circuit without lookups).
        v2 = (Q_N,) if version in (2, 3) else ()
        names = ARITH_COLUMNS + v2 + (LOOKUP_COLUMNS if lookups else ())
        expected = {"format", "k", "num_public", "lookups", "copies", *names}
        if set(obj) != expected:
            raise ValueError(f"circuit keys must be exactly {sorted(expected)}, got {sorted(obj)}")
        k, num_public = obj["k"], obj["num_public"]
        if not isinstance(k, int) or isinstance(k, bool):
            raise ValueError("circuit 'k' must be an integer")
        if not isinstance(num_public, int) or isinstance(num_public, bool):
            raise ValueError("circuit 'num_public' must be an integer")
        columns = {name: _decimal_list(obj[name], name) for name in names}
        copies_raw = obj["copies"]
        if not isinstance(copies_raw, list):
            raise ValueError("circuit 'copies' must be a list")
        copies: list[tuple[Cell, ...]] = []
        for c, cells in enumerate(copies_raw):
            if not isinstance(cells, list):
                raise ValueError(f"copy class {c} must be a list of [col, row]")
            parsed = []
            for cell in cells:
                if not (
                    isinstance(cell, list)
                    and len(cell) == 2
                    and all(isinstance(x, int) and not isinstance(x, bool) for x in cell)
                ):
                    raise ValueError(f"copy class {c}: each cell must be [col, row] integers")
                parsed.append((cell[0], cell[1]))
            copies.append(tuple(parsed))
        return cls(
            k=k,
            num_public=num_public,
            lookups=lookups,
            copies=copies,
            packed=version == 3,
            **columns,
        )

    @classmethod
    def from_json(cls, text: str) -> Circuit:
        return cls.from_json_dict(json.loads(text))


def _normalise_copies(copies: Iterable[Iterable[Cell]], n: int) -> list[tuple[Cell, ...]]:
    """Validate the copy classes and sort them: cells by ``col·n + row``, classes by their
    first cell.

    SPEC-READING: §7 says the classes have more than one cell and partition the cells; a cell
    in two classes (or twice in one), a class of one cell, or a cell out of range is refused
    rather than merged or ignored. The order of cells and classes in the input is free.
    """
    seen: set[Cell] = set()
    out: list[tuple[Cell, ...]] = []
    for c, cells in enumerate(copies):
        cls_cells = []
        for cell in cells:
            col, row = cell
            check_int(col, "copy column")
            check_int(row, "copy row")
            if col not in (0, 1, 2) or not 0 <= row < n:
                raise ValueError(f"copy class {c}: cell ({col}, {row}) is out of range")
            if (col, row) in seen:
                raise ValueError(f"copy class {c}: cell ({col}, {row}) appears twice")
            seen.add((col, row))
            cls_cells.append((col, row))
        if len(cls_cells) < 2:
            raise ValueError(f"copy class {c} has fewer than two cells")
        out.append(tuple(sorted(cls_cells, key=lambda cell: cell[0] * n + cell[1])))
    out.sort(key=lambda cells: cells[0][0] * n + cells[0][1])
    return out


def _decimal_list(values: object, what: str) -> list[int]:
    if not isinstance(values, list):
        raise ValueError(f"{what} must be a list of decimal strings")
    out = []
    for i, text in enumerate(values):
        if not isinstance(text, str) or _DECIMAL_RE.fullmatch(text) is None:
            raise ValueError(f"{what}[{i}] must be a canonical decimal string, got {text!r}")
        value = int(text)
        if value >= R:
            raise ValueError(f"{what}[{i}] is not < r")
        out.append(value)
    return out


@dataclass(frozen=True)
class Witness:
    """The three wire columns, ``n`` field elements each; the public inputs are ``a[0..ell]``."""

    a: list[int]
    b: list[int]
    c: list[int]

    def __post_init__(self) -> None:
        n = len(self.a)
        for name in ("a", "b", "c"):
            object.__setattr__(self, name, _column(getattr(self, name), n, name))

    def public_inputs(self, num_public: int) -> list[int]:
        return list(self.a[:num_public])

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "format": WITNESS_FORMAT,
            "a": [str(v) for v in self.a],
            "b": [str(v) for v in self.b],
            "c": [str(v) for v in self.c],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict())

    @classmethod
    def from_json_dict(cls, obj: object) -> Witness:
        if not isinstance(obj, dict) or set(obj) != {"format", "a", "b", "c"}:
            raise ValueError("a witness must be a JSON object with keys format, a, b, c")
        if obj["format"] != WITNESS_FORMAT:
            raise ValueError(f"witness format must be {WITNESS_FORMAT!r}")
        return cls(*(_decimal_list(obj[name], name) for name in ("a", "b", "c")))

    @classmethod
    def from_json(cls, text: str) -> Witness:
        return cls.from_json_dict(json.loads(text))


# --- Poseidon gate helpers -----------------------------------------------------------------


def _mds() -> list[list[int]]:
    return _poseidon.mds(POSEIDON_WIDTH)


def _is_full_round(rnd: int) -> bool:
    half = _poseidon.N_ROUNDS_F // 2
    return rnd < half or rnd >= half + _poseidon.partial_rounds(POSEIDON_WIDTH)


def _poseidon_next(w: Sequence[int], full: bool) -> list[int]:
    """``M·s`` for one row's wires (without the next round's constants)."""
    s = [pow(x, 5, R) for x in w] if full else [pow(w[0], 5, R), w[1], w[2]]
    return [sum(m * x for m, x in zip(row, s, strict=True)) % R for row in _mds()]


@dataclass(frozen=True)
class PoseidonRow:
    """One row of the informative Poseidon layout (§2.1)."""

    wires: tuple[int, int, int]
    q_f: int
    q_p: int
    constants: tuple[int, int, int]  # (q_c, q_l, q_r): the next round's C, added linearly


def poseidon_layout(state: Sequence[int]) -> list[PoseidonRow]:
    """circomlib's Poseidon(2) permutation of ``state`` on 66 rows (§2.1, informative).

    Row ``rho`` (``0..64``) holds ``u_rho = state_rho + C_rho`` with ``q_F`` (full round) or ``q_P``
    (partial) set and ``(q_C, q_L, q_R) = C_{rho+1}`` (zero for ``rho = 64``); row 65 holds the
    permutation's output ``M·S(u_64)`` with every selector zero.
    """
    values = check_elements(state, "Poseidon state element")
    if len(values) != POSEIDON_WIDTH:
        raise ValueError(f"the Poseidon gate permutes {POSEIDON_WIDTH} elements")
    constants = _poseidon.round_constants(POSEIDON_WIDTH)

    def round_constants(rnd: int) -> tuple[int, int, int]:
        if rnd >= POSEIDON_ROUNDS:
            return (0, 0, 0)
        c = constants[rnd * POSEIDON_WIDTH : (rnd + 1) * POSEIDON_WIDTH]
        return (c[0], c[1], c[2])

    rows = []
    u = [(x + c) % R for x, c in zip(values, round_constants(0), strict=True)]
    for rnd in range(POSEIDON_ROUNDS):
        full = _is_full_round(rnd)
        nxt = round_constants(rnd + 1)
        rows.append(PoseidonRow((u[0], u[1], u[2]), int(full), int(not full), nxt))
        u = [(x + c) % R for x, c in zip(_poseidon_next(u, full), nxt, strict=True)]
    rows.append(PoseidonRow((u[0], u[1], u[2]), 0, 0, (0, 0, 0)))
    return rows


# --- a small circuit builder ---------------------------------------------------------------


class CircuitBuilder:
    """Fills a circuit and a witness row by row (a test and vector helper, not a DSL).

    Rows are addressed explicitly; unset rows are all-zero rows (every selector 0, wires 0),
    which satisfy every constraint. Copies are merged into classes (union-find). The circuit
    is version 2 iff some row sets ``q_n`` (:meth:`gate`, :meth:`dot`); ``packed=True`` makes
    it version 3 (§8), which :meth:`build` refuses unless it has lookups and some ``q_n``.
    """

    def __init__(
        self, k: int, num_public: int = 0, lookups: bool = False, packed: bool = False
    ) -> None:
        self.k = _check_k(k)
        self.n = 1 << self.k
        self.num_public = num_public
        self.lookups = lookups
        self.packed = packed
        names = ARITH_COLUMNS + (Q_N,) + (LOOKUP_COLUMNS if lookups else ())
        self.columns: dict[str, list[int]] = {name: [0] * self.n for name in names}
        self.wires: list[list[int]] = [[0] * self.n for _ in range(3)]
        self._parent: dict[Cell, Cell] = {}

    def public_input(self, row: int, value: int) -> None:
        """Row ``row < ell``: ``q_L = 1`` and ``a = value``."""
        if not 0 <= row < self.num_public:
            raise ValueError(f"row {row} is not a public-input row")
        self.columns["q_l"][row] = 1
        self.wires[0][row] = value % R

    def gate(
        self,
        row: int,
        a: int = 0,
        b: int = 0,
        c: int = 0,
        *,
        q_m: int = 0,
        q_l: int = 0,
        q_r: int = 0,
        q_o: int = 0,
        q_c: int = 0,
        q_n: int = 0,
    ) -> None:
        """An arithmetic row ``q_M·a·b + q_L·a + q_R·b + q_O·c + q_N·c' + q_C = 0`` with ``c'``
        the next row's ``c`` (``q_n ≠ 0`` makes the circuit version 2)."""
        selectors = (("q_m", q_m), ("q_l", q_l), ("q_r", q_r), ("q_o", q_o), ("q_c", q_c))
        for name, value in (*selectors, (Q_N, q_n)):
            self.columns[name][row] = value % R
        for col, value in enumerate((a, b, c)):
            self.wires[col][row] = value % R

    def dot(self, row: int, terms: Sequence[tuple[int, int]], constant: int = 0) -> int:
        """``constant + Σ w_i·x_i`` for ``(w_i, x_i)`` in ``terms`` (at least two) as the chain
        of §1: row ``row + j`` holds ``x_{2j}, x_{2j+1}`` in ``a, b`` with the weights in
        ``q_L, q_R``, the running sum in ``c`` (``q_O = 1``; the first row adds ``constant``
        by ``q_C`` instead and keeps its ``c`` cell, which may hold the previous chain's
        result) and ``q_N = -1``. Returns the result, which is written to ``c`` of row
        ``row + ⌈len/2⌉``: that row must keep it (``gate(..., c=result)``)."""
        # SPEC-READING: §1 (informative) puts the running sum in c with q_O = 1; the first row
        # has none yet, so it adds the constant by q_C and leaves c out (q_O = 0), as the Rust
        # builder does; any layout that satisfies the gate is as valid.
        if len(terms) < 2:
            raise ValueError("a dot-product chain takes at least two terms")
        acc = constant % R
        for j in range(0, len(terms), 2):
            (w0, x0), (w1, x1) = terms[j], (terms[j + 1] if j + 1 < len(terms) else (0, 0))
            first = j == 0
            self.gate(
                row + j // 2,
                x0,
                x1,
                self.wires[2][row] if first else acc,
                q_l=w0,
                q_r=w1,
                q_o=0 if first else 1,
                q_c=constant if first else 0,
                q_n=-1,
            )
            acc = (acc + w0 * x0 + w1 * x1) % R
        self.wires[2][row + (len(terms) + 1) // 2] = acc
        return acc

    def poseidon(self, row: int, state: Sequence[int]) -> list[int]:
        """Lay out one Poseidon(2) permutation on rows ``row .. row + 65``; returns the output
        (the wires of row ``row + 65``). Row ``row`` holds ``state + C_0``, not ``state``."""
        if row < 0 or row + POSEIDON_ROWS > self.n:
            raise ValueError(f"a permutation at row {row} does not fit {self.n} rows")
        layout = poseidon_layout(state)
        for offset, prow in enumerate(layout):
            i = row + offset
            self.columns["q_f"][i] = prow.q_f
            self.columns["q_p"][i] = prow.q_p
            self.columns["q_c"][i], self.columns["q_l"][i], self.columns["q_r"][i] = prow.constants
            self.columns["q_m"][i] = self.columns["q_o"][i] = self.columns[Q_N][i] = 0
            for col in range(3):
                self.wires[col][i] = prow.wires[col]
        return list(layout[-1].wires)

    def lookup(self, row: int, a: int, b: int, c: int) -> None:
        """A lookup row: ``(a, b, c)`` must be a row of the table."""
        if not self.lookups:
            raise ValueError("this circuit has no lookups")
        self.columns["q_k"][row] = 1
        for col, value in enumerate((a, b, c)):
            self.wires[col][row] = value % R

    def set_table(self, entries: Sequence[tuple[int, int, int]]) -> None:
        """The table, one tuple per row from row 0; later rows repeat the last entry (§2.3)."""
        if not self.lookups:
            raise ValueError("this circuit has no lookups")
        if not 1 <= len(entries) <= self.n:
            raise ValueError(f"a table holds 1..{self.n} entries, got {len(entries)}")
        padded = list(entries) + [entries[-1]] * (self.n - len(entries))
        for i, (x, y, z) in enumerate(padded):
            self.columns["t1"][i], self.columns["t2"][i], self.columns["t3"][i] = (
                x % R,
                y % R,
                z % R,
            )

    def _find(self, cell: Cell) -> Cell:
        while self._parent.get(cell, cell) != cell:
            cell = self._parent[cell]
        return cell

    def copy(self, x: Cell, y: Cell) -> None:
        """Constrain cells ``x = (col, row)`` and ``y`` to be equal."""
        rx, ry = self._find(x), self._find(y)
        if rx != ry:
            self._parent[rx] = ry
        self._parent.setdefault(x, x)
        self._parent.setdefault(y, y)

    def build(self) -> tuple[Circuit, Witness]:
        classes: dict[Cell, list[Cell]] = {}
        for cell in self._parent:
            classes.setdefault(self._find(cell), []).append(cell)
        copies = [tuple(cells) for cells in classes.values() if len(cells) > 1]
        columns: dict[str, Any] = {name: list(col) for name, col in self.columns.items()}
        if not any(columns[Q_N]):
            columns[Q_N] = None  # version 1
        circuit = Circuit(
            k=self.k,
            num_public=self.num_public,
            lookups=self.lookups,
            copies=copies,
            packed=self.packed,
            **columns,
        )
        return circuit, Witness(*(list(w) for w in self.wires))


# --- witness checking ----------------------------------------------------------------------


def check_witness(circuit: Circuit, witness: Witness) -> None:
    """Raise ``ValueError`` naming the first unsatisfied constraint: gates row by row, then
    copy classes, then lookups."""
    n = circuit.n
    if len(witness.a) != n:
        raise ValueError(f"witness has {len(witness.a)} rows, the circuit {n}")
    w = (witness.a, witness.b, witness.c)
    ell = circuit.num_public
    for i in range(n):
        row = (w[0][i], w[1][i], w[2][i])
        nxt = (w[0][(i + 1) % n], w[1][(i + 1) % n], w[2][(i + 1) % n])
        if circuit.q_f[i] or circuit.q_p[i]:
            full = bool(circuit.q_f[i])
            consts = (circuit.q_c[i], circuit.q_l[i], circuit.q_r[i])
            expected = [(x + c) % R for x, c in zip(_poseidon_next(row, full), consts, strict=True)]
            for j in range(3):
                if expected[j] != nxt[j]:
                    kind = "full" if full else "partial"
                    raise ValueError(
                        f"row {i}: Poseidon {kind} round: row {(i + 1) % n} wire "
                        f"{'abc'[j]} is {nxt[j]}, the round gives {expected[j]}"
                    )
        else:
            value = (
                circuit.q_m[i] * row[0] * row[1]
                + circuit.q_l[i] * row[0]
                + circuit.q_r[i] * row[1]
                + circuit.q_o[i] * row[2]
                + circuit.q_c[i]
            )
            if circuit.q_n is not None:
                value += circuit.q_n[i] * nxt[2]  # version 2: the next row's c
            if i < ell:
                value -= row[0]  # PI(ω^i) = -x_i with x_i = a_i: always satisfied
            if value % R:
                raise ValueError(f"row {i}: arithmetic gate is {value % R}, not 0")
    for cells in circuit.copies:
        col0, row0 = cells[0]
        for col, row in cells[1:]:
            if w[col][row] != w[col0][row0]:
                raise ValueError(
                    f"copy constraint: cell ({'abc'[col]}, row {row}) = {w[col][row]} differs "
                    f"from cell ({'abc'[col0]}, row {row0}) = {w[col0][row0]}"
                )
    if circuit.lookups:
        assert circuit.q_k is not None
        table = set(circuit.table())
        for i in range(n):
            if circuit.q_k[i] and (w[0][i], w[1][i], w[2][i]) not in table:
                raise ValueError(
                    f"row {i}: lookup of ({w[0][i]}, {w[1][i]}, {w[2][i]}) is not in the table"
                )


# --- keys ----------------------------------------------------------------------------------


def _vk_column_names(lookups: bool, version: int = 1) -> tuple[str, ...]:
    """The key's commitments in byte order (§3): ``[q_N]`` follows ``[q_P]`` in version 2 (and
    in version 3, whose key bytes are version 2's, §8)."""
    v2 = (Q_N,) if version in (VK_VERSION_2, VK_VERSION_3) else ()
    return ARITH_COLUMNS + v2 + SIGMA_COLUMNS + (LOOKUP_COLUMNS if lookups else ())


@dataclass(frozen=True, eq=False)
class VerifyingKey:
    """The circuit's size, public-input count, flags, fixed-column commitments and the two G2
    points of the SRS (§3); version 3 iff ``packed`` (§8), else version 2 iff ``commitments``
    has ``q_n``. Compare keys through :meth:`to_bytes`."""

    k: int
    num_public: int
    lookups: bool
    commitments: dict[str, G1Point]
    g2: tuple[G2Point, G2Point]
    packed: bool = False

    def __post_init__(self) -> None:
        # §8: a version-3 key has the lookup flag and [q_N].
        if self.packed and not (self.lookups and Q_N in self.commitments):
            raise ValueError("a version-3 (packed) verifying key needs lookups and [q_N]")

    @property
    def n(self) -> int:
        return 1 << self.k

    @property
    def version(self) -> int:
        if self.packed:
            return VK_VERSION_3
        return VK_VERSION_2 if Q_N in self.commitments else VK_VERSION

    def to_bytes(self) -> bytes:
        """``"BFVK" ‖ version ‖ k ‖ ell (u32 BE) ‖ flags ‖ [q_M] … [q_P] (‖ [q_N]) ‖ [sigma_1] …
        [sigma_3] (‖ [q_K] … [T3]) ‖ [1]G2 ‖ [τ]G2``."""
        out = bytearray(VK_MAGIC)
        out += bytes([self.version, self.k])
        out += self.num_public.to_bytes(4, "big")
        out += bytes([FLAG_LOOKUPS if self.lookups else 0])
        for name in _vk_column_names(self.lookups, self.version):
            out += g1_to_bytes(self.commitments[name])
        out += g2_to_bytes(self.g2[0]) + g2_to_bytes(self.g2[1])
        return bytes(out)

    def digest(self) -> bytes:
        """``keccak256(vk_bytes)``."""
        return keccak256(self.to_bytes())

    @staticmethod
    def byte_length(lookups: bool, version: int = VK_VERSION) -> int:
        names = _vk_column_names(lookups, version)
        return _HEADER_BYTES + len(names) * G1_BYTES + 2 * G2_BYTES

    @classmethod
    def from_bytes(cls, data: bytes) -> VerifyingKey:
        """Strict decoder: raises ``ValueError`` on any other magic, version, flag bit, length,
        ``k`` outside ``3..=25``, non-canonical coordinate or off-curve point, a version-2 or 3
        key whose ``[q_N]`` is the identity, or a version-3 key without the lookup flag (§8)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("verifying key must be bytes")
        raw = bytes(data)
        if len(raw) < _HEADER_BYTES:
            raise ValueError(f"verifying key too short ({len(raw)} bytes)")
        if raw[:4] != VK_MAGIC:
            raise ValueError("verifying key magic is not 'BFVK'")
        version = raw[4]
        if version not in (VK_VERSION, VK_VERSION_2, VK_VERSION_3):
            raise ValueError(f"unsupported verifying key version {version}")
        k = raw[5]
        if not MIN_K <= k <= MAX_K:
            raise ValueError(f"verifying key k = {k} is outside {MIN_K}..={MAX_K}")
        num_public = int.from_bytes(raw[6:10], "big")
        # §3: ell < n (at least one row besides the public-input rows).
        if num_public >= 1 << k:
            raise ValueError(f"verifying key has {num_public} public inputs but n = {1 << k}")
        flags = raw[10]
        if flags & ~FLAG_LOOKUPS:
            raise ValueError(f"verifying key has unknown flag bits 0x{flags:02x}")
        lookups = bool(flags & FLAG_LOOKUPS)
        # §8: a version-3 key has "flags bit 0 set".
        if version == VK_VERSION_3 and not lookups:
            raise ValueError("version-3 verifying key without the lookup flag")
        expected = cls.byte_length(lookups, version)
        if len(raw) != expected:
            raise ValueError(f"verifying key must be {expected} bytes, got {len(raw)}")
        offset = _HEADER_BYTES
        commitments = {}
        for name in _vk_column_names(lookups, version):
            commitments[name] = g1_from_bytes(raw[offset : offset + G1_BYTES])
            offset += G1_BYTES
        # §3: an all-zero q_N makes a version-1 circuit, so that encoding is not a key; §8:
        # version 3 has "[q_N] present and not the identity" too.
        if version in (VK_VERSION_2, VK_VERSION_3) and is_inf(commitments[Q_N]):
            raise ValueError(f"version-{version} verifying key has the identity as [q_N]")
        g2 = []
        for _ in range(2):
            point = g2_from_bytes(raw[offset : offset + G2_BYTES])
            # SPEC-READING: §3 allows identity *fixed commitments*; an identity G2 point would
            # make every pairing check trivial, so it is refused.
            if is_inf(point):
                raise ValueError("verifying key G2 point is the identity")
            g2.append(point)
            offset += G2_BYTES
        return cls(
            k, num_public, lookups, commitments, (g2[0], g2[1]), packed=version == VK_VERSION_3
        )


@dataclass(frozen=True, eq=False)
class ProvingKey:
    """The circuit, the SRS and the fixed columns in coefficient form (sigma included)."""

    circuit: Circuit
    srs: Srs
    vk: VerifyingKey
    polys: dict[str, Poly]
    sigma_evals: list[list[int]] = field(repr=False)


def setup(circuit: Circuit, srs: Srs) -> tuple[ProvingKey, VerifyingKey]:
    """Interpolate every fixed column on ``H`` and commit to it (§3)."""
    need = required_max_degree(circuit.k, circuit.has_round_gates, circuit.packed)
    if srs.max_degree < need:
        rule = "4n + 11" if circuit.packed else "3n + 9"
        if circuit.has_round_gates:
            rule = "5n + 9"
        raise ValueError(f"the SRS max_degree {srs.max_degree} is below {rule} = {need}")
    sigma = circuit.sigma()
    evals: dict[str, list[int]] = {name: getattr(circuit, name) for name in circuit.fixed_names()}
    evals.update(zip(SIGMA_COLUMNS, sigma, strict=True))
    polys = {name: _interpolate(values) for name, values in evals.items()}
    names = _vk_column_names(circuit.lookups, circuit.version)
    commitments = {name: srs.commit(polys[name]) for name in names}
    vk = VerifyingKey(
        circuit.k, circuit.num_public, circuit.lookups, commitments, srs.g2, circuit.packed
    )
    return ProvingKey(circuit, srs, vk, polys, sigma), vk


# --- transcript ----------------------------------------------------------------------------


class Transcript:
    """The Fiat-Shamir transcript of §4: a 32-byte state ``h``."""

    def __init__(self, vk_digest: bytes, public_inputs: Sequence[int]) -> None:
        if len(vk_digest) != 32:
            raise ValueError("vk_digest must be 32 bytes")
        items = b"".join(scalar_to_bytes(x) for x in public_inputs)
        self.state = keccak256(TRANSCRIPT_TAG + vk_digest + items)

    def absorb_points(self, *points: G1Point) -> None:
        self.state = keccak256(self.state + b"".join(g1_to_bytes(p) for p in points))

    def absorb_scalars(self, *scalars: int) -> None:
        self.state = keccak256(self.state + b"".join(scalar_to_bytes(s) for s in scalars))

    def challenge(self, j: int) -> int:
        """``keccak256(h ‖ u8 j) mod r``; ``h`` is unchanged."""
        return int.from_bytes(keccak256(self.state + bytes([j])), "big") % R


@dataclass(frozen=True)
class Challenges:
    """The transcript's challenges; ``u`` exists in versions 1 and 2 (§4), ``xi`` in version 3
    (§8), the other one is ``None``."""

    beta: int
    gamma: int
    eta: int | None
    lam: int | None
    alpha: int
    zeta: int
    nu: int
    u: int | None
    xi: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "beta": self.beta,
            "gamma": self.gamma,
            "eta": self.eta,
            "lambda": self.lam,
            "alpha": self.alpha,
            "zeta": self.zeta,
            "nu": self.nu,
            "u": self.u,
            "xi": self.xi,
        }


# --- proofs --------------------------------------------------------------------------------


def _check_proof_shape(lookups: bool, version: int) -> None:
    if version not in (PROOF_VERSION, PROOF_VERSION_3):
        raise ValueError(f"unsupported proof version {version}")
    if version == PROOF_VERSION_3 and not lookups:
        raise ValueError("a version-3 proof always has lookups (§8)")


def proof_point_names(lookups: bool, version: int = PROOF_VERSION) -> tuple[str, ...]:
    """The proof's points in byte order (§5; §8 for proof version 3: ``[C1] ‖ [C2] ‖ [t] ‖ [W]
    ‖ [W']``)."""
    _check_proof_shape(lookups, version)
    if version == PROOF_VERSION_3:
        return ("c1", "c2", "t", "w", "w_prime")
    if lookups:
        return ("a", "b", "c", "m", "z", "phi", "t", "w_zeta", "w_zeta_omega")
    return ("a", "b", "c", "z", "t", "w_zeta", "w_zeta_omega")


#: §8's 16 evaluations in proof order: a, b, c, m at ζ, then at ζω, then z, φ at ζ, then at
#: ζω, then sigma_1, sigma_2, q_F + q_P and T1 + η T2 + η² T3 at ζ.
PACKED_EVAL_NAMES: tuple[str, ...] = (
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


def proof_eval_names(lookups: bool, version: int = PROOF_VERSION) -> tuple[str, ...]:
    """The evaluations in byte (and transcript) order (§5; §8 for proof version 3)."""
    _check_proof_shape(lookups, version)
    if version == PROOF_VERSION_3:
        return PACKED_EVAL_NAMES
    names = (
        "a_bar",
        "b_bar",
        "c_bar",
        "a_omega",
        "b_omega",
        "c_omega",
        "sigma1_bar",
        "sigma2_bar",
        "q_pos_bar",
        "z_omega",
    )
    return names + (("t_bar", "phi_omega") if lookups else ())


def proof_length(lookups: bool, version: int = PROOF_VERSION) -> int:
    """768 bytes, or 960 with lookups; 832 for proof version 3 (§8)."""
    points = proof_point_names(lookups, version)
    return len(points) * G1_BYTES + len(proof_eval_names(lookups, version)) * SCALAR_BYTES


@dataclass(frozen=True, eq=False)
class Proof:
    """The proof's points and evaluations, by name; compare proofs through :meth:`to_bytes`.
    Its shape tells its version: proof version 3 (§8) has the point ``c1``."""

    points: dict[str, G1Point]
    evals: dict[str, int]

    @property
    def version(self) -> int:
        """The proof version: 3 for a version-3 key's proof (§8), 1 for keys of versions 1
        and 2."""
        return PROOF_VERSION_3 if "c1" in self.points else PROOF_VERSION

    @property
    def lookups(self) -> bool:
        return "m" in self.points or self.version == PROOF_VERSION_3

    def to_bytes(self) -> bytes:
        """The EVM calldata: the points then the evaluations, in the order of §5 (§8)."""
        lookups, version = self.lookups, self.version
        return b"".join(
            g1_to_bytes(self.points[name]) for name in proof_point_names(lookups, version)
        ) + b"".join(
            scalar_to_bytes(self.evals[name]) for name in proof_eval_names(lookups, version)
        )

    @classmethod
    def from_bytes(cls, data: bytes, lookups: bool, version: int = PROOF_VERSION) -> Proof:
        """Strict decoder (§6 step 1): exact length, canonical scalars, points on the curve and
        not the identity. ``version`` is the proof version: 1 (keys of versions 1 and 2) or 3
        (a version-3 key, ``lookups`` true). Raises ``ValueError``."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("proof must be bytes")
        raw = bytes(data)
        expected = proof_length(lookups, version)
        if len(raw) != expected:
            raise ValueError(f"proof must be {expected} bytes, got {len(raw)}")
        points = {}
        offset = 0
        for name in proof_point_names(lookups, version):
            point = g1_from_bytes(raw[offset : offset + G1_BYTES])
            if is_inf(point):
                raise ValueError(f"proof point [{name}] is the identity")
            points[name] = point
            offset += G1_BYTES
        evals = {}
        for name in proof_eval_names(lookups, version):
            evals[name] = scalar_from_bytes(raw[offset : offset + SCALAR_BYTES])
            offset += SCALAR_BYTES
        return cls(points, evals)

    def to_bfpf(self) -> bytes:
        """The versioned encoding ``"BFPF" ‖ version ‖ flags ‖ bytes``: version 1 (§5) or 3
        with flags 1 (§8).

        SPEC-READING: §5 does not define the flags; bit 0 = lookups, as in the key's flags.
        """
        flags = FLAG_LOOKUPS if self.lookups else 0
        return PROOF_MAGIC + bytes([self.version, flags]) + self.to_bytes()

    @classmethod
    def from_bfpf(cls, data: bytes) -> Proof:
        raw = bytes(data)
        if len(raw) < 6 or raw[:4] != PROOF_MAGIC:
            raise ValueError("proof magic is not 'BFPF'")
        if raw[4] not in (PROOF_VERSION, PROOF_VERSION_3):
            raise ValueError(f"unsupported proof version {raw[4]}")
        if raw[5] & ~FLAG_LOOKUPS:
            raise ValueError(f"proof has unknown flag bits 0x{raw[5]:02x}")
        # §8: "u8 flags (1)": a version-3 proof without the lookup flag is refused (by
        # from_bytes, through _check_proof_shape).
        return cls.from_bytes(raw[6:], bool(raw[5] & FLAG_LOOKUPS), raw[4])


# --- the linearisation (shared by prover and verifier) --------------------------------------


def _gate_terms(ev: dict[str, int]) -> tuple[list[int], list[int]]:
    """``(P̄^F_j, P̄^P_j)`` for ``j = 0, 1, 2``, from the barred wire values."""
    w = (ev["a_bar"], ev["b_bar"], ev["c_bar"])
    w_next = (ev["a_omega"], ev["b_omega"], ev["c_omega"])
    full = _poseidon_next(w, True)
    partial = _poseidon_next(w, False)
    return (
        [(full[j] - w_next[j]) % R for j in range(3)],
        [(partial[j] - w_next[j]) % R for j in range(3)],
    )


def _selector_scalars(alpha: int, ev: dict[str, int]) -> dict[str, int]:
    """The scalars of ``q_M … q_P`` in ``D`` (§5; §8 keeps them): the gate table's terms, and
    ``q_C`` with ``(1 - q̄_pos) + q̄_pos = 1``."""
    a, b, c, q_pos = ev["a_bar"], ev["b_bar"], ev["c_bar"], ev["q_pos_bar"]
    alpha2 = alpha * alpha % R
    p_full, p_partial = _gate_terms(ev)
    one_minus = (1 - q_pos) % R
    return {
        "q_m": one_minus * a * b % R,
        "q_l": (one_minus * a + alpha * q_pos) % R,
        "q_r": (one_minus * b + alpha2 * q_pos) % R,
        "q_o": one_minus * c % R,
        "q_c": 1,
        "q_f": (p_full[0] + alpha * p_full[1] + alpha2 * p_full[2]) % R,
        "q_p": (p_partial[0] + alpha * p_partial[1] + alpha2 * p_partial[2]) % R,
    }


def _linearisation(
    n: int,
    lookups: bool,
    version: int,
    ch: Challenges,
    ev: dict[str, int],
    public_inputs: Sequence[int],
) -> tuple[dict[str, int], int]:
    """The scalar multiplying each committed polynomial in ``D`` (§5), and ``r_0``.

    Keys name fixed columns (``q_m`` … ``sigma_3``, ``q_n``, ``q_k``) or prover polynomials
    (``z``, ``t``, ``phi``, ``m``); ``D = Σ coeff[name]·name``.
    """
    beta, gamma, alpha, zeta = ch.beta, ch.gamma, ch.alpha, ch.zeta
    a, b, c = ev["a_bar"], ev["b_bar"], ev["c_bar"]
    s1, s2, q_pos, z_omega = ev["sigma1_bar"], ev["sigma2_bar"], ev["q_pos_bar"], ev["z_omega"]
    alpha3, alpha4, alpha5 = (pow(alpha, e, R) for e in (3, 4, 5))

    z_h = (pow(zeta, n, R) - 1) % R
    l0 = lagrange_at(0, n, zeta)
    pi = public_input_eval(public_inputs, n, zeta)
    perm = (a + beta * s1 + gamma) * (b + beta * s2 + gamma) % R

    r0 = (pi - alpha3 * z_omega * perm * (c + gamma) - alpha4 * l0) % R

    one_minus = (1 - q_pos) % R
    k1, k2 = K_SHIFTS[1], K_SHIFTS[2]
    coeffs = _selector_scalars(alpha, ev)
    coeffs.update(
        z=(
            alpha3
            * (a + beta * zeta + gamma)
            * (b + beta * k1 * zeta + gamma)
            * (c + beta * k2 * zeta + gamma)
            + alpha4 * l0
        )
        % R,
        sigma_3=-alpha3 * z_omega * beta * perm % R,
        t=-z_h % R,
    )
    if version == VK_VERSION_2:
        coeffs[Q_N] = one_minus * ev["c_omega"] % R  # (1 - q̄_pos)·c̄_ω
    if lookups:
        assert ch.eta is not None and ch.lam is not None
        eta, lam = ch.eta, ch.lam
        f_bar = (a + eta * b + eta * eta * c) % R
        lf, lt = (lam + f_bar) % R, (lam + ev["t_bar"]) % R
        r0 = (r0 + alpha5 * ev["phi_omega"] * lf * lt) % R
        coeffs["phi"] = -alpha5 * lf * lt % R
        coeffs["m"] = -alpha5 * lf % R
        coeffs["q_k"] = alpha5 * lt % R
    return coeffs, r0


def _opening_values(lookups: bool, ch: Challenges, ev: dict[str, int], r0: int) -> tuple[int, int]:
    """``R(ζ)`` and ``R'(ζω)`` (§6 step 4)."""
    nu = ch.nu
    at_zeta = [ev["a_bar"], ev["b_bar"], ev["c_bar"], ev["sigma1_bar"], ev["sigma2_bar"]]
    at_zeta.append(ev["q_pos_bar"])
    if lookups:
        at_zeta.append(ev["t_bar"])
    r_zeta = (-r0 + sum(pow(nu, j + 1, R) * v for j, v in enumerate(at_zeta))) % R
    at_omega = [ev["a_omega"], ev["b_omega"], ev["c_omega"], ev["z_omega"]]
    if lookups:
        at_omega.append(ev["phi_omega"])
    r_omega = sum(pow(nu, j, R) * v for j, v in enumerate(at_omega)) % R
    return r_zeta, r_omega


# --- version 3 (§8): the linearisation and the packed polynomials' remainders ---------------


def _linearisation_packed(
    n: int, ch: Challenges, ev: dict[str, int], public_inputs: Sequence[int]
) -> tuple[dict[str, int], int]:
    """§8's ``D`` (the scalar of each fixed column and of ``t``) and ``r_0``: §5's ``D`` with
    ``z``, ``φ``, ``m`` replaced by their evaluations, so that ``D(ζ) = -r_0`` for an honest
    prover. Only fixed columns and ``t`` remain in ``D``."""
    assert ch.eta is not None and ch.lam is not None
    beta, gamma, eta, lam, alpha, zeta = ch.beta, ch.gamma, ch.eta, ch.lam, ch.alpha, ch.zeta
    a, b, c, m = ev["a_bar"], ev["b_bar"], ev["c_bar"], ev["m_bar"]
    z, phi, z_omega, phi_omega = ev["z_bar"], ev["phi_bar"], ev["z_omega"], ev["phi_omega"]
    s1, s2, q_pos, t_bar = ev["sigma1_bar"], ev["sigma2_bar"], ev["q_pos_bar"], ev["t_bar"]
    alpha3, alpha4, alpha5 = (pow(alpha, e, R) for e in (3, 4, 5))
    k1, k2 = K_SHIFTS[1], K_SHIFTS[2]

    z_h = (pow(zeta, n, R) - 1) % R
    l0 = lagrange_at(0, n, zeta)
    pi = public_input_eval(public_inputs, n, zeta)
    f_bar = (a + eta * b + eta * eta * c) % R  # f̄ = ā + η b̄ + η² c̄
    perm_a = (a + beta * s1 + gamma) % R  # perm_a = ā + β sigma_1(ζ) + gamma
    perm_b = (b + beta * s2 + gamma) % R  # perm_b = b̄ + β sigma_2(ζ) + gamma
    lf, lt = (lam + f_bar) % R, (lam + t_bar) % R

    # r_0 = PI(ζ) - alpha³ z̄_ω perm_a perm_b (c̄ + gamma)
    #     + alpha³ z̄ (ā + βζ + gamma)(b̄ + β k_1 ζ + gamma)(c̄ + β k_2 ζ + gamma)
    #     + alpha⁴ L_0(ζ)(z̄ - 1) + alpha⁵ ((φ̄_ω - φ̄)(λ + f̄)(λ + t̄) - m̄ (λ + f̄))
    r0 = (
        pi
        - alpha3 * z_omega * perm_a * perm_b * (c + gamma)
        + alpha3
        * z
        * (a + beta * zeta + gamma)
        * (b + beta * k1 * zeta + gamma)
        * (c + beta * k2 * zeta + gamma)
        + alpha4 * l0 * (z - 1)
        + alpha5 * ((phi_omega - phi) * lf * lt - m * lf)
    ) % R

    # D = (the selector terms of §5, unchanged; with q_N) - alpha³ z̄_ω β perm_a perm_b·sigma_3
    #   + alpha⁵ (λ + t̄)·q_K - Z_H(ζ)·t
    coeffs = _selector_scalars(alpha, ev)
    coeffs[Q_N] = (1 - q_pos) * ev["c_omega"] % R  # (1 - q̄_pos)·c̄_ω
    coeffs["sigma_3"] = -alpha3 * z_omega * beta * perm_a * perm_b % R
    coeffs["q_k"] = alpha5 * lt % R
    coeffs["t"] = -z_h % R
    return coeffs, r0


def _opening_value_packed(ch: Challenges, ev: dict[str, int], r0: int) -> int:
    """``R(ζ) = -r_0 + nu·sigma_1(ζ) + nu²·sigma_2(ζ) + nu³·q̄_pos + nu⁴·t̄`` (§8)."""
    at_zeta = (ev["sigma1_bar"], ev["sigma2_bar"], ev["q_pos_bar"], ev["t_bar"])
    return (-r0 + sum(pow(ch.nu, j + 1, R) * v for j, v in enumerate(at_zeta))) % R


#: The polynomials packed into C1 (round 1) and C2 (round 2), in packing order (§8).
PACKED_C1: tuple[str, ...] = ("a", "b", "c", "m")
PACKED_C2: tuple[str, ...] = ("z", "phi")


def _packed_values(ev: dict[str, int], names: Sequence[str]) -> tuple[list[int], list[int]]:
    """The claimed values at ``ζ`` and ``ζω`` of the polynomials packed in ``C1`` or ``C2``."""
    return [ev[f"{name}_bar"] for name in names], [ev[f"{name}_omega"] for name in names]


def _packed_vanishing_at(x: int, width: int, zeta: int, zeta_omega: int) -> int:
    """``Z(x) = (x^w - ζ)(x^w - ζω)``: ``Z_1`` for ``w = 4``, ``Z_2`` for ``w = 2`` (§8)."""
    xw = pow(x, width, R)
    return (xw - zeta) * (xw - zeta_omega) % R


def _packed_remainder_at(
    x: int, at_zeta: Sequence[int], at_zeta_omega: Sequence[int], zeta: int, d: int
) -> int:
    """``r(x) = Σ_{l<w} x^l·(f_l + (x^w - ζ)·d·(f_{l,ω} - f_l))`` with ``w = len(at_zeta)`` and
    ``d = 1/(ζω - ζ)``: ``r_1(x)`` for ``(ā, b̄, c̄, m̄)``, ``r_2(x)`` for ``(z̄, φ̄)`` (§8)."""
    width = len(at_zeta)
    shift = (pow(x, width, R) - zeta) * d % R  # (x^w - ζ)·d
    return (
        sum(
            pow(x, j, R) * (f + shift * (f_omega - f))
            for j, (f, f_omega) in enumerate(zip(at_zeta, at_zeta_omega, strict=True))
        )
        % R
    )


# --- the prover ----------------------------------------------------------------------------


def _multiplicities(circuit: Circuit, witness: Witness) -> list[int]:
    """``m_i``: the number of lookups of tuple ``i``, all counted at the first table row that
    holds the tuple (§2.3). A looked-up tuple missing from the table (an unsatisfied witness,
    only reachable with the check bypassed) is not counted anywhere."""
    assert circuit.q_k is not None
    first: dict[tuple[int, int, int], int] = {}
    for i, entry in enumerate(circuit.table()):
        first.setdefault(entry, i)
    m = [0] * circuit.n
    for i in range(circuit.n):
        if circuit.q_k[i]:
            row = first.get((witness.a[i], witness.b[i], witness.c[i]))
            if row is not None:
                m[row] += 1
    return m


def _batch_checked_inverse(value: int, what: str) -> int:
    if value % R == 0:
        raise ValueError(f"{what} is zero: the prover fails for these challenges")
    return inv(value)


def prove(
    pk: ProvingKey, witness: Witness, blinding: Sequence[int], *, check: bool = True
) -> Proof:
    """The proof of §5 (or §8 for a version-3 key) for ``witness``, with the given blinding
    scalars (order ``a, b, c, z`` (``, m, φ``), ``rho_0, rho_1, rho_2`` each; version 3 takes
    the same 18 as version 2 with lookups).

    The witness is first checked against every gate, copy and lookup (``ValueError`` naming
    the first failure). ``check=False`` skips that, *for tests only*: the quotient is then the
    long division by ``Z_H`` with its remainder dropped, which is what a cheating prover would
    commit to, and the resulting proof must not verify.
    """
    proof, _ = _prove(pk, witness, blinding, check)
    return proof


def _blinding_scalars(circuit: Circuit, blinding: Sequence[int]) -> list[list[int]]:
    """The blinding scalars in threes, one triple per polynomial in the order ``a, b, c, z``
    (``, m, φ``) (§5; the same in §8)."""
    rho_all = check_elements(blinding, "blinding scalar")
    need = 18 if circuit.lookups else 12
    if len(rho_all) != need:
        raise ValueError(f"prove needs {need} blinding scalars, got {len(rho_all)}")
    return [rho_all[3 * j : 3 * j + 3] for j in range(need // 3)]


def _permutation_evals(
    pk: ProvingKey, wires: Sequence[Sequence[int]], beta: int, gamma: int
) -> list[int]:
    """``z`` on ``H``: ``z(ω^0) = 1`` and ``z(ω^{i+1})`` is ``z(ω^i)`` times the product over the
    wires of ``(w + β k ω^i + gamma)/(w + β sigma + gamma)`` (§2.2)."""
    n = pk.circuit.n
    omega = root_of_unity(n)
    z_evals = [1]
    for i in range(n - 1):
        x = pow(omega, i, R)
        num = den = 1
        for col in range(3):
            num = num * (wires[col][i] + beta * K_SHIFTS[col] * x + gamma) % R
            den = den * (wires[col][i] + beta * pk.sigma_evals[col][i] + gamma) % R
        z_evals.append(z_evals[-1] * num * _batch_checked_inverse(den, f"row {i} denominator") % R)
    return z_evals


def _logup_evals(
    circuit: Circuit, wires: Sequence[Sequence[int]], m_evals: Sequence[int], eta: int, lam: int
) -> list[int]:
    """``φ`` on ``H``: ``φ(ω^0) = 0``, ``φ(ω^{i+1}) = φ(ω^i) + m_i/(λ + t_i) - q_K,i/(λ + f_i)``
    (§2.3)."""
    assert circuit.q_k is not None
    n = circuit.n
    t_evals = [(x + eta * y + eta * eta * w) % R for x, y, w in circuit.table()]
    f_evals = [(x + eta * y + eta * eta * w) % R for x, y, w in zip(*wires, strict=True)]
    # SPEC-READING: every λ + t_i and λ + f_i must be invertible (negligible failure).
    inv_t = [_batch_checked_inverse(lam + t, f"lambda + t_{i}") for i, t in enumerate(t_evals)]
    inv_f = [_batch_checked_inverse(lam + f, f"lambda + f_{i}") for i, f in enumerate(f_evals)]
    phi_evals = [0]
    for i in range(n - 1):
        step = m_evals[i] * inv_t[i] - circuit.q_k[i] * inv_f[i]
        phi_evals.append((phi_evals[-1] + step) % R)
    return phi_evals


def _table_poly(P: dict[str, Poly], eta: int) -> Poly:
    """``T1 + η T2 + η² T3``."""
    return _padd(P["t1"], _pscale(P["t2"], eta), _pscale(P["t3"], eta * eta % R))


def _quotient(
    pk: ProvingKey,
    public_inputs: Sequence[int],
    wire_polys: tuple[Poly, Poly, Poly],
    z_p: Poly,
    lookup_polys: tuple[Poly, Poly] | None,
    ch: Challenges,
    check: bool,
) -> Poly:
    """``t = (Σ alpha^j C_j) / Z_H`` (§5; unchanged in §8), with ``lookup_polys = (m, φ)`` for a
    lookup circuit. With ``check`` an inexact division is an error; without it, the remainder
    is dropped (what a cheating prover would commit to)."""
    circuit, P = pk.circuit, pk.polys
    n = circuit.n
    omega = root_of_unity(n)
    a_p, b_p, c_p = wire_polys
    beta, gamma, alpha = ch.beta, ch.gamma, ch.alpha
    X = [0, 1]
    q_pos = _padd(P["q_f"], P["q_p"])
    a_w, b_w, c_w = (_pshift(p, omega) for p in (a_p, b_p, c_p))
    fifth = []
    for p in (a_p, b_p, c_p):
        p2 = _pmul(p, p)
        fifth.append(_pmul(_pmul(p2, p2), p))
    mds = _mds()
    s_full = fifth
    s_partial = [fifth[0], b_p, c_p]
    w_next = [a_w, b_w, c_w]

    def gate_terms(s: list[Poly]) -> list[Poly]:  # P_j = Σ_k M[j][k] s_k - w_j(ωX)
        return [
            _psub(_padd(*(_pscale(s[k], mds[j][k]) for k in range(3))), w_next[j]) for j in range(3)
        ]

    def alpha_sum(ps: list[Poly]) -> Poly:  # P_0 + alpha P_1 + alpha² P_2
        return _padd(ps[0], _pscale(ps[1], alpha), _pscale(ps[2], alpha * alpha))

    pi_p = _interpolate([(-x) % R for x in public_inputs] + [0] * (n - len(public_inputs)))
    arith = _padd(
        _pmul(P["q_m"], _pmul(a_p, b_p)),
        _pmul(P["q_l"], a_p),
        _pmul(P["q_r"], b_p),
        _pmul(P["q_o"], c_p),
        _pmul(P[Q_N], c_w) if Q_N in P else [],  # version 2: q_N·c(ωX)
    )
    gates = _padd(
        _pmul(_psub(_pconst(1), q_pos), arith),  # C0 + alpha C1 + alpha² C2
        P["q_c"],
        pi_p,
        _pmul(q_pos, _padd(_pscale(P["q_l"], alpha), _pscale(P["q_r"], alpha * alpha))),
        _pmul(P["q_f"], alpha_sum(gate_terms(s_full))),
        _pmul(P["q_p"], alpha_sum(gate_terms(s_partial))),
    )
    z_w = _pshift(z_p, omega)
    lhs = z_p
    rhs = z_w
    for col, (w_p, sigma_name) in enumerate(zip((a_p, b_p, c_p), SIGMA_COLUMNS, strict=True)):
        lhs = _pmul(lhs, _padd(w_p, _pscale(X, beta * K_SHIFTS[col]), _pconst(gamma)))
        rhs = _pmul(rhs, _padd(w_p, _pscale(P[sigma_name], beta), _pconst(gamma)))
    c3 = _psub(lhs, rhs)
    l0_p = _interpolate([1] + [0] * (n - 1))
    c4 = _pmul(l0_p, _psub(z_p, _pconst(1)))
    alpha_powers = [pow(alpha, e, R) for e in range(6)]
    numerator = _padd(gates, _pscale(c3, alpha_powers[3]), _pscale(c4, alpha_powers[4]))
    if lookup_polys is not None:
        assert ch.eta is not None and ch.lam is not None
        m_p, phi_p = lookup_polys
        eta, lam = ch.eta, ch.lam
        f_p = _padd(a_p, _pscale(b_p, eta), _pscale(c_p, eta * eta % R))
        lf = _padd(f_p, _pconst(lam))
        lt = _padd(_table_poly(P, eta), _pconst(lam))
        c5 = _padd(
            _pmul(_pmul(_psub(_pshift(phi_p, omega), phi_p), lf), lt),
            _pscale(_pmul(m_p, lf), R - 1),
            _pmul(P["q_k"], lt),
        )
        numerator = _padd(numerator, _pscale(c5, alpha_powers[5]))
    t_p, remainder = _divide_vanishing(numerator, n)
    if check and remainder:
        raise AssertionError("the quotient is not exact although the witness checked out")
    return t_p


def _checked_points(points: dict[str, G1Point], names: Sequence[str]) -> dict[str, G1Point]:
    """The proof's points in byte order, refusing the identity."""
    ordered = {name: points[name] for name in names}
    for name, point in ordered.items():
        # SPEC-READING: a proof with an identity point would be rejected (§6), so the prover
        # fails instead of emitting it (probability ~2^-254 with random blinding).
        if is_inf(point):
            raise ValueError(f"proof point [{name}] is the identity: choose other blinding")
    return ordered


def _prove(
    pk: ProvingKey, witness: Witness, blinding: Sequence[int], check: bool
) -> tuple[Proof, Challenges]:
    circuit, srs = pk.circuit, pk.srs
    n, lookups = circuit.n, circuit.lookups
    omega = root_of_unity(n)
    rho = _blinding_scalars(circuit, blinding)
    if len(witness.a) != n:
        raise ValueError(f"witness has {len(witness.a)} rows, the circuit {n}")
    if check:
        check_witness(circuit, witness)
    if circuit.packed:
        return _prove_packed(pk, witness, rho, check)
    public_inputs = witness.public_inputs(circuit.num_public)
    transcript = Transcript(pk.vk.digest(), public_inputs)
    P = pk.polys
    wires = (witness.a, witness.b, witness.c)

    # Round 1: the wires (and the multiplicities).
    a_p, b_p, c_p = (_blind(w, rho[j], n) for j, w in enumerate(wires))
    points: dict[str, G1Point] = {"a": srs.commit(a_p), "b": srs.commit(b_p), "c": srs.commit(c_p)}
    round1 = [points["a"], points["b"], points["c"]]
    if lookups:
        m_evals = _multiplicities(circuit, witness)
        m_p = _blind(m_evals, rho[4], n)
        points["m"] = srs.commit(m_p)
        round1.append(points["m"])
    transcript.absorb_points(*round1)
    beta, gamma = transcript.challenge(0), transcript.challenge(1)
    eta = lam = None
    if lookups:
        eta, lam = transcript.challenge(2), transcript.challenge(3)

    # Round 2: the permutation accumulator (and the log-derivative accumulator).
    z_p = _blind(_permutation_evals(pk, wires, beta, gamma), rho[3], n)
    points["z"] = srs.commit(z_p)
    round2 = [points["z"]]
    if lookups:
        assert eta is not None and lam is not None
        phi_p = _blind(_logup_evals(circuit, wires, m_evals, eta, lam), rho[5], n)
        points["phi"] = srs.commit(phi_p)
        round2.append(points["phi"])
    transcript.absorb_points(*round2)
    alpha = transcript.challenge(0)

    # Round 3: the quotient t = (Σ alpha^j C_j) / Z_H, committed whole.
    so_far = Challenges(beta, gamma, eta, lam, alpha, 0, 0, 0)
    lookup_polys = (m_p, phi_p) if lookups else None
    t_p = _quotient(pk, public_inputs, (a_p, b_p, c_p), z_p, lookup_polys, so_far, check)
    points["t"] = srs.commit(t_p)
    transcript.absorb_points(points["t"])
    zeta = transcript.challenge(0)
    if pow(zeta, n, R) == 1:
        raise ValueError("zeta is in H (zeta^n = 1): the prover fails")

    # Round 4: the evaluations.
    zeta_omega = zeta * omega % R
    q_pos = _padd(P["q_f"], P["q_p"])
    evals = {
        "a_bar": _peval(a_p, zeta),
        "b_bar": _peval(b_p, zeta),
        "c_bar": _peval(c_p, zeta),
        "a_omega": _peval(a_p, zeta_omega),
        "b_omega": _peval(b_p, zeta_omega),
        "c_omega": _peval(c_p, zeta_omega),
        "sigma1_bar": _peval(P["sigma_1"], zeta),
        "sigma2_bar": _peval(P["sigma_2"], zeta),
        "q_pos_bar": _peval(q_pos, zeta),
        "z_omega": _peval(z_p, zeta_omega),
    }
    if lookups:
        assert eta is not None
        t_comb = _table_poly(P, eta)
        evals["t_bar"] = _peval(t_comb, zeta)
        evals["phi_omega"] = _peval(phi_p, zeta_omega)
    transcript.absorb_scalars(*(evals[name] for name in proof_eval_names(lookups)))
    nu = transcript.challenge(0)

    # Round 5: the linearisation D and the two opening proofs.
    partial = Challenges(beta, gamma, eta, lam, alpha, zeta, nu, 0)
    coeffs, r0 = _linearisation(n, lookups, circuit.version, partial, evals, public_inputs)
    own = {"z": z_p, "t": t_p}
    if lookups:
        own.update(phi=phi_p, m=m_p)
    d_p = _padd(*(_pscale(own[name] if name in own else P[name], s) for name, s in coeffs.items()))
    if check and _peval(d_p, zeta) != (-r0) % R:
        raise AssertionError("D(zeta) != -r_0 for an honest witness")
    nu_powers = [pow(nu, e, R) for e in range(8)]
    r_terms = [a_p, b_p, c_p, P["sigma_1"], P["sigma_2"], q_pos] + ([t_comb] if lookups else [])
    r_p = _padd(d_p, *(_pscale(p, nu_powers[j + 1]) for j, p in enumerate(r_terms)))
    r2_terms = [a_p, b_p, c_p, z_p] + ([phi_p] if lookups else [])
    r2_p = _padd(*(_pscale(p, nu_powers[j]) for j, p in enumerate(r2_terms)))
    points["w_zeta"] = srs.commit(_divide_linear(r_p, zeta))
    points["w_zeta_omega"] = srs.commit(_divide_linear(r2_p, zeta_omega))
    transcript.absorb_points(points["w_zeta"], points["w_zeta_omega"])
    u = transcript.challenge(0)

    ordered = _checked_points(points, proof_point_names(lookups))
    return Proof(ordered, evals), Challenges(beta, gamma, eta, lam, alpha, zeta, nu, u)


# --- the version-3 prover (§8) ---------------------------------------------------------------


def _interleave(polys: Sequence[Sequence[int]]) -> Poly:
    """``Σ_l X^l·p_l(X^w)`` for ``w = len(polys)``: coefficient ``w·j + l`` is coefficient ``j``
    of ``p_l`` (§8's packing: ``C1`` for ``(a, b, c, m)``, ``C2`` for ``(z, φ)``)."""
    width = len(polys)
    out = [0] * (width * max(len(p) for p in polys))
    for l_index, p in enumerate(polys):
        for j, coeff in enumerate(p):
            out[width * j + l_index] = coeff
    return _trim(out)


def _packed_vanishing(width: int, zeta: int, zeta_omega: int) -> Poly:
    """``(X^w - ζ)(X^w - ζω)`` as coefficients: ``Z_1`` (``w = 4``), ``Z_2`` (``w = 2``)."""
    return _pmul([-zeta % R] + [0] * (width - 1) + [1], [-zeta_omega % R] + [0] * (width - 1) + [1])


def _packed_remainder(
    at_zeta: Sequence[int], at_zeta_omega: Sequence[int], zeta: int, d: int
) -> Poly:
    """§8's ``r(X) = Σ_{l<w} X^l·(f_l + (X^w - ζ)·d·(f_{l,ω} - f_l))`` as coefficients (degree
    ``< 2w``): coefficient ``l`` is ``f_l - ζ·s_l`` and coefficient ``w + l`` is ``s_l``, with
    ``s_l = d·(f_{l,ω} - f_l)``."""
    width = len(at_zeta)
    out = [0] * (2 * width)
    for j, (f, f_omega) in enumerate(zip(at_zeta, at_zeta_omega, strict=True)):
        slope = d * (f_omega - f) % R
        out[j] = (f - zeta * slope) % R
        out[width + j] = slope
    return out


def _divide_exact(p: Sequence[int], divisor: Sequence[int]) -> Poly:
    """``p / divisor`` for a monic ``divisor`` that divides ``p`` (long division); an inexact
    division is an error (the prover's own claims are inconsistent)."""
    work = [c % R for c in p]
    deg = len(divisor) - 1
    assert divisor[-1] == 1, "the divisor must be monic"
    if len(work) <= deg:
        if any(work):
            raise AssertionError("the packed polynomial's remainder does not vanish")
        return []
    quotient = [0] * (len(work) - deg)
    for i in range(len(work) - 1, deg - 1, -1):
        c = work[i]
        if c:
            quotient[i - deg] = c
            for j, dj in enumerate(divisor):
                work[i - deg + j] = (work[i - deg + j] - c * dj) % R
    if any(work[:deg]):
        raise AssertionError("the packed polynomial's remainder does not vanish")
    return _trim(quotient)


def _prove_packed(
    pk: ProvingKey, witness: Witness, rho: list[list[int]], check: bool
) -> tuple[Proof, Challenges]:
    """§8: the same polynomials as version 2 with lookups (blinding included), committed as
    ``C1``, ``C2`` and ``t``, evaluated at ``ζ`` and ``ζω``, and opened by ``W`` and ``W'``."""
    circuit, srs, P = pk.circuit, pk.srs, pk.polys
    n = circuit.n
    omega = root_of_unity(n)
    public_inputs = witness.public_inputs(circuit.num_public)
    transcript = Transcript(pk.vk.digest(), public_inputs)
    wires = (witness.a, witness.b, witness.c)
    points: dict[str, G1Point] = {}

    # Round 1 (§8): [C1] with C1(X) = a(X⁴) + X·b(X⁴) + X²·c(X⁴) + X³·m(X⁴); blinding as in §5
    # (scalars in the order a, b, c, z, m, φ: m's are rho[4]).
    a_p, b_p, c_p = (_blind(w, rho[j], n) for j, w in enumerate(wires))
    m_evals = _multiplicities(circuit, witness)
    m_p = _blind(m_evals, rho[4], n)
    c1_p = _interleave([a_p, b_p, c_p, m_p])
    points["c1"] = srs.commit(c1_p)
    transcript.absorb_points(points["c1"])
    beta, gamma = transcript.challenge(0), transcript.challenge(1)
    eta, lam = transcript.challenge(2), transcript.challenge(3)

    # Round 2 (§8): [C2] with C2(X) = z(X²) + X·φ(X²).
    z_p = _blind(_permutation_evals(pk, wires, beta, gamma), rho[3], n)
    phi_p = _blind(_logup_evals(circuit, wires, m_evals, eta, lam), rho[5], n)
    c2_p = _interleave([z_p, phi_p])
    points["c2"] = srs.commit(c2_p)
    transcript.absorb_points(points["c2"])
    alpha = transcript.challenge(0)

    # Round 3: the quotient t of §5, unchanged, committed whole.
    so_far = Challenges(beta, gamma, eta, lam, alpha, 0, 0, None)
    t_p = _quotient(pk, public_inputs, (a_p, b_p, c_p), z_p, (m_p, phi_p), so_far, check)
    points["t"] = srs.commit(t_p)
    transcript.absorb_points(points["t"])
    zeta = transcript.challenge(0)
    # §8: "The prover fails ... if ζ^n = 1, if ζ = 0".
    if pow(zeta, n, R) == 1:
        raise ValueError("zeta is in H (zeta^n = 1): the prover fails")
    if zeta == 0:
        raise ValueError("zeta = 0: the prover fails")

    # Round 4 (§8): the 16 evaluations, in proof order.
    zeta_omega = zeta * omega % R
    q_pos = _padd(P["q_f"], P["q_p"])
    t_comb = _table_poly(P, eta)
    own = {"a": a_p, "b": b_p, "c": c_p, "m": m_p, "z": z_p, "phi": phi_p}
    evals: dict[str, int] = {}
    for name in PACKED_C1:
        evals[f"{name}_bar"] = _peval(own[name], zeta)
    for name in PACKED_C1:
        evals[f"{name}_omega"] = _peval(own[name], zeta_omega)
    for name in PACKED_C2:
        evals[f"{name}_bar"] = _peval(own[name], zeta)
    for name in PACKED_C2:
        evals[f"{name}_omega"] = _peval(own[name], zeta_omega)
    evals["sigma1_bar"] = _peval(P["sigma_1"], zeta)
    evals["sigma2_bar"] = _peval(P["sigma_2"], zeta)
    evals["q_pos_bar"] = _peval(q_pos, zeta)
    evals["t_bar"] = _peval(t_comb, zeta)
    evals = {name: evals[name] for name in PACKED_EVAL_NAMES}
    transcript.absorb_scalars(*evals.values())
    nu = transcript.challenge(0)

    # Round 5 (§8): D (fixed columns and t only), R, and h = (R - R(ζ))/(X - ζ)
    # + nu⁵ (C1 - r_1)/Z_1 + nu⁶ (C2 - r_2)/Z_2; W = [h].
    partial = Challenges(beta, gamma, eta, lam, alpha, zeta, nu, None)
    coeffs, r0 = _linearisation_packed(n, partial, evals, public_inputs)
    d_p = _padd(*(_pscale(t_p if name == "t" else P[name], s) for name, s in coeffs.items()))
    if check and _peval(d_p, zeta) != (-r0) % R:
        raise AssertionError("D(zeta) != -r_0 for an honest witness")
    nu_powers = [pow(nu, e, R) for e in range(7)]
    # R = D + nu sigma_1 + nu² sigma_2 + nu³ (q_F + q_P) + nu⁴ (T1 + η T2 + η² T3)
    r_terms = [P["sigma_1"], P["sigma_2"], q_pos, t_comb]
    r_p = _padd(d_p, *(_pscale(p, nu_powers[j + 1]) for j, p in enumerate(r_terms)))
    # R(ζ): the polynomial's own value (for an honest prover -r_0 + nu·sigma_1(ζ) + …, §8), so that
    # R - R(ζ) is divisible by X - ζ even for the unchecked test prover.
    r_zeta = _peval(r_p, zeta)
    if check and r_zeta != _opening_value_packed(partial, evals, r0):
        raise AssertionError("R(zeta) differs from -r_0 + nu sigma_1 + ... for an honest witness")
    d = inv(zeta_omega - zeta)  # d = 1/(ζω - ζ), ζ ≠ 0
    r1_p = _packed_remainder(*_packed_values(evals, PACKED_C1), zeta, d)
    r2_p = _packed_remainder(*_packed_values(evals, PACKED_C2), zeta, d)
    z1_p = _packed_vanishing(4, zeta, zeta_omega)  # Z_1 = (X⁴ - ζ)(X⁴ - ζω)
    z2_p = _packed_vanishing(2, zeta, zeta_omega)  # Z_2 = (X² - ζ)(X² - ζω)
    h_p = _padd(
        _divide_linear(r_p, zeta),
        _pscale(_divide_exact(_psub(c1_p, r1_p), z1_p), nu_powers[5]),
        _pscale(_divide_exact(_psub(c2_p, r2_p), z2_p), nu_powers[6]),
    )
    points["w"] = srs.commit(h_p)
    transcript.absorb_points(points["w"])
    xi = transcript.challenge(0)
    # §8: the prover fails if (ξ - ζ)·Z_1(ξ)·Z_2(ξ) = 0.
    z1_xi, z2_xi = _peval(z1_p, xi), _peval(z2_p, xi)
    if (xi - zeta) * z1_xi * z2_xi % R == 0:
        raise ValueError("(xi - zeta)·Z_1(xi)·Z_2(xi) = 0: the prover fails")

    # Round 6 (§8): c_1 = nu⁵ (ξ - ζ)/Z_1(ξ), c_2 = nu⁶ (ξ - ζ)/Z_2(ξ),
    # L = R - R(ζ) + c_1 (C1 - r_1(ξ)) + c_2 (C2 - r_2(ξ)) - (ξ - ζ) h, W' = [L/(X - ξ)].
    c_1 = nu_powers[5] * (xi - zeta) * inv(z1_xi) % R
    c_2 = nu_powers[6] * (xi - zeta) * inv(z2_xi) % R
    l_p = _padd(
        _psub(r_p, _pconst(r_zeta)),
        _pscale(_psub(c1_p, _pconst(_peval(r1_p, xi))), c_1),
        _pscale(_psub(c2_p, _pconst(_peval(r2_p, xi))), c_2),
        _pscale(h_p, -(xi - zeta) % R),
    )
    if _peval(l_p, xi) != 0:
        raise AssertionError("L(xi) != 0")
    points["w_prime"] = srs.commit(_divide_linear(l_p, xi))

    ordered = _checked_points(points, proof_point_names(True, PROOF_VERSION_3))
    challenges = Challenges(beta, gamma, eta, lam, alpha, zeta, nu, None, xi)
    return Proof(ordered, evals), challenges


# --- the verifier --------------------------------------------------------------------------


def transcript_challenges(
    vk: VerifyingKey, proof: Proof, public_inputs: Sequence[int]
) -> Challenges:
    """Replay the transcript of §4 (§8 for a version-3 key) from the key, the public inputs and
    the proof."""
    lookups = vk.lookups
    p = proof.points
    tr = Transcript(vk.digest(), public_inputs)
    if vk.version == VK_VERSION_3:
        # §8: [C1] → β, gamma, η, λ; [C2] → alpha; [t] → ζ; the 16 evaluations → nu; [W] → ξ.
        tr.absorb_points(p["c1"])
        beta, gamma = tr.challenge(0), tr.challenge(1)
        eta3, lam3 = tr.challenge(2), tr.challenge(3)
        tr.absorb_points(p["c2"])
        alpha = tr.challenge(0)
        tr.absorb_points(p["t"])
        zeta = tr.challenge(0)
        tr.absorb_scalars(*(proof.evals[name] for name in PACKED_EVAL_NAMES))
        nu = tr.challenge(0)
        tr.absorb_points(p["w"])
        xi = tr.challenge(0)
        return Challenges(beta, gamma, eta3, lam3, alpha, zeta, nu, None, xi)
    tr.absorb_points(*(p[name] for name in (("a", "b", "c", "m") if lookups else ("a", "b", "c"))))
    beta, gamma = tr.challenge(0), tr.challenge(1)
    eta, lam = (tr.challenge(2), tr.challenge(3)) if lookups else (None, None)
    tr.absorb_points(*(p[name] for name in (("z", "phi") if lookups else ("z",))))
    alpha = tr.challenge(0)
    tr.absorb_points(p["t"])
    zeta = tr.challenge(0)
    tr.absorb_scalars(*(proof.evals[name] for name in proof_eval_names(lookups)))
    nu = tr.challenge(0)
    tr.absorb_points(p["w_zeta"], p["w_zeta_omega"])
    u = tr.challenge(0)
    return Challenges(beta, gamma, eta, lam, alpha, zeta, nu, u)


def verify(vk: VerifyingKey, proof: bytes | Proof, public_inputs: Sequence[int]) -> bool:
    """§6: ``True`` iff ``proof`` (EVM bytes, or a decoded :class:`Proof`) is valid for ``vk``
    and ``public_inputs``. Any wrong or malformed proof gives ``False``, never an exception.

    The statement is the caller's, so a malformed one raises, as the native verifier does:
    the wrong number of public inputs or one outside ``[0, r)`` raises ``ValueError``, a bool
    or non-int ``TypeError``. (The native verifier also refuses keys made with the insecure
    test SRS unless told otherwise; the reference has no notion of that policy.)"""
    xs = list(public_inputs)
    if len(xs) != vk.num_public:
        raise ValueError(f"the key takes {vk.num_public} public inputs, not {len(xs)}")
    for x in xs:
        if isinstance(x, bool) or not isinstance(x, int):
            raise TypeError(f"a public input is an int, not {type(x).__name__}")
        if not 0 <= x < R:
            raise ValueError(f"public input {x} is not a field element (0 <= x < r)")
    # The proof version follows the key's: 3 for a version-3 key (§8), else 1.
    proof_version = PROOF_VERSION_3 if vk.version == VK_VERSION_3 else PROOF_VERSION
    try:
        if isinstance(proof, Proof):
            if proof.lookups != vk.lookups or proof.version != proof_version:
                return False
            # the same checks as bytes
            proof = Proof.from_bytes(proof.to_bytes(), vk.lookups, proof_version)
        else:
            proof = Proof.from_bytes(proof, vk.lookups, proof_version)
    except (ValueError, TypeError, KeyError):
        return False
    if proof_version == PROOF_VERSION_3:
        return _verify_packed(vk, proof, xs)

    n, lookups = vk.n, vk.lookups
    ch = transcript_challenges(vk, proof, xs)
    zeta = ch.zeta
    if pow(zeta, n, R) == 1:
        return False
    zeta_omega = zeta * root_of_unity(n) % R
    ev = proof.evals
    coeffs, r0 = _linearisation(n, lookups, vk.version, ch, ev, xs)
    r_zeta, r_omega = _opening_values(lookups, ch, ev, r0)

    # [R] + u·[R'] as one linear combination of named commitments.
    nu, u = ch.nu, ch.u
    assert u is not None
    scalars: dict[str, int] = dict(coeffs)

    def add_scalar(name: str, s: int) -> None:
        scalars[name] = (scalars.get(name, 0) + s) % R

    for j, name in enumerate(("a", "b", "c", "sigma_1", "sigma_2")):
        add_scalar(name, pow(nu, j + 1, R))
    add_scalar("q_f", pow(nu, 6, R))  # ν⁶·[q_F + q_P] = ν⁶[q_F] + ν⁶[q_P]
    add_scalar("q_p", pow(nu, 6, R))
    if lookups:
        assert ch.eta is not None
        nu7 = pow(nu, 7, R)
        add_scalar("t1", nu7)
        add_scalar("t2", nu7 * ch.eta)
        add_scalar("t3", nu7 * ch.eta * ch.eta)
    for j, name in enumerate(("a", "b", "c", "z", "phi") if lookups else ("a", "b", "c", "z")):
        add_scalar(name, u * pow(nu, j, R))

    def commitment(name: str) -> G1Point:
        return proof.points[name] if name in proof.points else vk.commitments[name]

    w_zeta, w_zeta_omega = proof.points["w_zeta"], proof.points["w_zeta_omega"]
    lhs = add(w_zeta, multiply(w_zeta_omega, u))
    rhs = add(multiply(w_zeta, zeta), multiply(w_zeta_omega, u * zeta_omega % R))
    for name, s in scalars.items():
        if s:
            rhs = add(rhs, multiply(commitment(name), s))
    value = (r_zeta + u * r_omega) % R
    if value:
        rhs = add(rhs, neg(multiply(G1, value)))
    # e(lhs, [τ]G2) = e(rhs, [1]G2)  ⟺  e(rhs, [1]G2) · e(-lhs, [τ]G2) = 1
    return _pairing_product_is_one([(rhs, vk.g2[0]), (neg(lhs), vk.g2[1])])


def _verify_packed(vk: VerifyingKey, proof: Proof, xs: Sequence[int]) -> bool:
    """§8's verification, steps 2-5, of a decoded version-3 proof."""
    n = vk.n
    # Step 2: the transcript; reject if ζ^n = 1, ζ = 0 or (ξ - ζ)·Z_1(ξ)·Z_2(ξ) = 0.
    ch = transcript_challenges(vk, proof, xs)
    assert ch.eta is not None and ch.xi is not None
    zeta, nu, xi, eta = ch.zeta, ch.nu, ch.xi, ch.eta
    if zeta == 0 or pow(zeta, n, R) == 1:
        return False
    zeta_omega = zeta * root_of_unity(n) % R
    z1_xi = _packed_vanishing_at(xi, 4, zeta, zeta_omega)  # Z_1(ξ) = (ξ⁴ - ζ)(ξ⁴ - ζω)
    z2_xi = _packed_vanishing_at(xi, 2, zeta, zeta_omega)  # Z_2(ξ) = (ξ² - ζ)(ξ² - ζω)
    if (xi - zeta) * z1_xi * z2_xi % R == 0:
        return False
    ev = proof.evals

    # Step 3: r_0 and D's scalars; r_1(ξ), r_2(ξ) with d = 1/(ζω - ζ).
    coeffs, r0 = _linearisation_packed(n, ch, ev, xs)
    r_zeta = _opening_value_packed(ch, ev, r0)
    d = inv(zeta_omega - zeta)
    r1_xi = _packed_remainder_at(xi, *_packed_values(ev, PACKED_C1), zeta, d)
    r2_xi = _packed_remainder_at(xi, *_packed_values(ev, PACKED_C2), zeta, d)
    nu_powers = [pow(nu, e, R) for e in range(7)]
    c_1 = nu_powers[5] * (xi - zeta) * inv(z1_xi) % R  # c_1 = nu⁵ (ξ - ζ)/Z_1(ξ)
    c_2 = nu_powers[6] * (xi - zeta) * inv(z2_xi) % R  # c_2 = nu⁶ (ξ - ζ)/Z_2(ξ)

    # Step 4: [F] = [D] + nu[sigma_1] + nu²[sigma_2] + nu³([q_F] + [q_P])
    #   + nu⁴([T1] + η[T2] + η²[T3]) + c_1·[C1] + c_2·[C2] - (ξ - ζ)·[W]
    #   - (R(ζ) + c_1 r_1(ξ) + c_2 r_2(ξ))·G.
    scalars: dict[str, int] = dict(coeffs)

    def add_scalar(name: str, s: int) -> None:
        scalars[name] = (scalars.get(name, 0) + s) % R

    add_scalar("sigma_1", nu_powers[1])
    add_scalar("sigma_2", nu_powers[2])
    add_scalar("q_f", nu_powers[3])
    add_scalar("q_p", nu_powers[3])
    add_scalar("t1", nu_powers[4])
    add_scalar("t2", nu_powers[4] * eta)
    add_scalar("t3", nu_powers[4] * eta * eta)
    add_scalar("c1", c_1)
    add_scalar("c2", c_2)
    add_scalar("w", -(xi - zeta))

    def commitment(name: str) -> G1Point:
        return proof.points[name] if name in proof.points else vk.commitments[name]

    f_point = Z1
    for name, s in scalars.items():
        if s:
            f_point = add(f_point, multiply(commitment(name), s))
    value = (r_zeta + c_1 * r1_xi + c_2 * r2_xi) % R
    if value:
        f_point = add(f_point, neg(multiply(G1, value)))

    # Step 5: e(F + ξ·W', [1]G2) = e(W', [τ]G2), as e(-W', [τ]G2)·e(F + ξ·W', [1]G2) = 1.
    w_prime = proof.points["w_prime"]
    lhs = add(f_point, multiply(w_prime, xi))
    return _pairing_product_is_one([(lhs, vk.g2[0]), (neg(w_prime), vk.g2[1])])


__all__ = [
    "CIRCUIT_FORMAT",
    "CIRCUIT_FORMAT_V2",
    "CIRCUIT_FORMAT_V3",
    "POSEIDON_ROWS",
    "WITNESS_FORMAT",
    "Challenges",
    "Circuit",
    "CircuitBuilder",
    "PoseidonRow",
    "Proof",
    "ProvingKey",
    "Srs",
    "Transcript",
    "VerifyingKey",
    "Witness",
    "check_witness",
    "poseidon_layout",
    "proof_length",
    "prove",
    "required_max_degree",
    "setup",
    "transcript_challenges",
    "verify",
]
