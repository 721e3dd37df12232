"""Regenerate ``docs/spec/vectors/kzg.json`` from the pure-Python KZG reference.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_kzg_vectors [OUTPUT_DIR]

Everything uses the insecure SRS ``insecure_srs(max_degree=8, seed=1)`` (``srs.md``), whose τ
is public, so another implementation can rebuild the SRS from the seed alone. Points are hex of
their EVM encodings (G1: 64 bytes, EIP-196; G2: 128 bytes, EIP-197), scalars hex of 32 bytes
big-endian; inputs are listed explicitly as well as by rule. Before writing, the generator
checks every opening with the reference's own pairing checks (a few seconds), so a file it
writes is known to verify; :func:`kzg_vectors` alone does no pairings, which lets the tests
compare the file with a fresh computation cheaply. The output is byte-for-byte deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from py_ecc.optimized_bn128 import Z1, add, multiply

from ._gen_vectors import DEFAULT_OUTPUT, sha_element, write
from .field import R, from_hex, to_hex
from .kzg import (
    G1Point,
    ReferenceSRS,
    batch_challenges,
    batch_verify,
    commit,
    commit_evals,
    domain,
    g1_from_bytes,
    g1_to_bytes,
    g2_to_bytes,
    insecure_srs,
    insecure_tau,
    open,
    open_many,
    open_many_challenge,
    root_of_unity,
    verify,
    verify_many,
)

GENERATOR = "python -m bigfile_zk.reference._gen_kzg_vectors (pure-Python reference)"

SRS_MAX_DEGREE = 8
SRS_SEED = 1
OPEN_Z = 12345
OPEN_MANY_Z = 7
COMMIT_EVALS = [1, 2, 3, 4]
#: open_many cases, as indices into POLYNOMIALS.
OPEN_MANY_CASES: list[list[int]] = [[0, 1], [0, 2, 3]]

SHA_RULE = (
    'coeffs[k] = int.from_bytes(sha256(f"bigfile_zk/vectors/kzg/coeff/{k}".encode())'
    '.digest(), "big") % r, k = 0..7'
)

#: ``(name, rule, coefficients)``, lowest degree first.
POLYNOMIALS: list[tuple[str, str, list[int]]] = [
    ("small", "1 + 2X + 3X^2", [1, 2, 3]),
    ("zero", "the zero polynomial, given as [0]", [0]),
    ("max_degree", "5 + 7X^8 (degree 8 = max_degree)", [5, 0, 0, 0, 0, 0, 0, 0, 7]),
    (
        "sha256",
        SHA_RULE,
        [sha_element(f"bigfile_zk/vectors/kzg/coeff/{k}") for k in range(8)],
    ),
]


def g1_hex(point: G1Point) -> str:
    """``"0x"`` + the 64-byte EIP-196 encoding in lower-case hex."""
    return "0x" + g1_to_bytes(point).hex()


def g1_from_hex(text: str) -> G1Point:
    return g1_from_bytes(bytes.fromhex(text.removeprefix("0x")))


def hexes(values: list[int]) -> list[str]:
    return [to_hex(v) for v in values]


def _opening_json(commitment: G1Point, z: int, value: int, proof: G1Point) -> dict[str, str]:
    return {
        "commitment": g1_hex(commitment),
        "z": to_hex(z),
        "value": to_hex(value),
        "proof": g1_hex(proof),
    }


def kzg_vectors(srs: ReferenceSRS | None = None) -> dict[str, Any]:
    """The vector file's content (no pairings: see the module docstring)."""
    if srs is None:
        srs = insecure_srs(SRS_MAX_DEGREE, SRS_SEED)

    polynomials = []
    single_openings: list[tuple[G1Point, int, int, G1Point]] = []
    commitments: list[G1Point] = []
    for name, rule, coeffs in POLYNOMIALS:
        c = commit(srs, coeffs)
        v, proof = open(srs, coeffs, OPEN_Z)
        commitments.append(c)
        single_openings.append((c, OPEN_Z, v, proof))
        polynomials.append(
            {
                "name": name,
                "rule": rule,
                "coeffs": hexes(coeffs),
                "commitment": g1_hex(c),
                "opening": _opening_json(c, OPEN_Z, v, proof),
            }
        )

    # open_many cases at z = 7, each with the single opening (Σ gamma^j C_j, z, Σ gamma^j v_j, π)
    # that verify_many reduces it to. The first (the brief's "first two polynomials") has the
    # zero polynomial second, so gamma cancels out of everything but itself; the second case
    # makes gamma matter to the combined commitment, value and proof.
    many_cases = []
    combined_openings: list[tuple[G1Point, int, int, G1Point]] = []
    for indices in OPEN_MANY_CASES:
        polys = [POLYNOMIALS[i][2] for i in indices]
        cs = [commitments[i] for i in indices]
        values, proof = open_many(srs, polys, OPEN_MANY_Z)
        gamma = open_many_challenge(cs, OPEN_MANY_Z, values)
        weights = [pow(gamma, j, R) for j in range(len(polys))]
        combined_c = Z1
        for point, w in zip(cs, weights, strict=True):
            combined_c = add(combined_c, multiply(point, w))
        combined_v = sum(w * v for w, v in zip(weights, values, strict=True)) % R
        combined_openings.append((combined_c, OPEN_MANY_Z, combined_v, proof))
        many_cases.append(
            {
                "polynomials": [POLYNOMIALS[i][0] for i in indices],
                "z": to_hex(OPEN_MANY_Z),
                "commitments": [g1_hex(c) for c in cs],
                "values": hexes(values),
                "gamma": to_hex(gamma),
                "proof": g1_hex(proof),
                "combined_commitment": g1_hex(combined_c),
                "combined_value": to_hex(combined_v),
            }
        )

    # The batch: the four openings at z = 12345 and the two combined openings at z = 7 (two
    # points, as PLONK's zeta and zeta·omega), then the same batch with the last value off by one.
    batch = [*single_openings, *combined_openings]
    last_c, last_z, last_v, last_pi = batch[-1]
    corrupted = [*batch[:-1], (last_c, last_z, (last_v + 1) % R, last_pi)]

    return {
        "description": (
            "KZG over BN254 (docs/spec/kzg.md) with the insecure SRS (docs/spec/srs.md); "
            "G1 points are hex of the 64-byte EIP-196 encoding (identity = zeros), G2 points "
            "of the 128-byte EIP-197 encoding (x.c1, x.c0, y.c1, y.c0), scalars of 32 bytes "
            "big-endian"
        ),
        "generator": GENERATOR,
        "srs": {
            "max_degree": SRS_MAX_DEGREE,
            "seed": SRS_SEED,
            "tau_rule": (
                'tau = int.from_bytes(keccak256(b"bigfile_zk/insecure-srs" + '
                'seed.to_bytes(8, "big")), "big") % r'
            ),
            "tau": to_hex(insecure_tau(SRS_SEED)),
            "g1_0": g1_hex(srs.g1[0]),
            "g1_1": g1_hex(srs.g1[1]),
            "g2": ["0x" + g2_to_bytes(p).hex() for p in srs.g2],
        },
        "domain": {
            "omega_2^28": to_hex(root_of_unity(1 << 28)),
            "omega_4": to_hex(root_of_unity(4)),
            "omega_8": to_hex(root_of_unity(8)),
        },
        "polynomials": polynomials,
        "commit_evals": {
            "n": len(COMMIT_EVALS),
            "evals": hexes(COMMIT_EVALS),
            "domain": hexes(domain(len(COMMIT_EVALS))),
            "commitment": g1_hex(commit_evals(srs, COMMIT_EVALS)),
        },
        "open_many": many_cases,
        "batch": {
            "openings": [_opening_json(*o) for o in batch],
            "rho": hexes(batch_challenges(batch)),
            "valid": True,
        },
        "batch_corrupted": {
            "rule": "batch with the last opening's value + 1",
            "openings": [_opening_json(*o) for o in corrupted],
            "rho": hexes(batch_challenges(corrupted)),
            "valid": False,
        },
    }


def check_vectors(vectors: dict[str, Any], srs: ReferenceSRS) -> None:
    """Run the pairing checks the file claims; raise ``AssertionError`` if one disagrees."""
    for poly in vectors["polynomials"]:
        o = poly["opening"]
        args = (g1_from_hex(o["commitment"]), from_hex(o["z"]), from_hex(o["value"]))
        assert verify(srs, *args, g1_from_hex(o["proof"])), poly["name"]
    for many in vectors["open_many"]:
        assert verify_many(
            srs,
            [g1_from_hex(c) for c in many["commitments"]],
            from_hex(many["z"]),
            [from_hex(v) for v in many["values"]],
            g1_from_hex(many["proof"]),
        ), many["polynomials"]
    for key in ("batch", "batch_corrupted"):
        openings = [
            (
                g1_from_hex(o["commitment"]),
                from_hex(o["z"]),
                from_hex(o["value"]),
                g1_from_hex(o["proof"]),
            )
            for o in vectors[key]["openings"]
        ]
        assert batch_verify(srs, openings) is vectors[key]["valid"], key


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    srs = insecure_srs(SRS_MAX_DEGREE, SRS_SEED)
    vectors = kzg_vectors(srs)
    check_vectors(vectors, srs)
    write(out / "kzg.json", vectors)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
