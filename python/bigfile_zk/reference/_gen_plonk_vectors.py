"""Regenerate ``docs/spec/vectors/plonk.json`` from the pure-Python PLONK reference.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_plonk_vectors [OUTPUT_DIR]

Each case gives the circuit and witness in the interchange format of ``plonk.md`` §7, the
blinding scalars (by rule and explicitly), the SRS (the insecure one of ``srs.md``: its seed
fixes τ; ``max_degree`` is ``5n + 9``), then what another implementation must reproduce byte for
byte: sigma, the verifying-key bytes and digest, the transcript challenges and the proof bytes.
Before writing, the generator verifies every proof (and checks that a wrong public input is
rejected) with the reference's own verifier; :func:`plonk_vectors` alone does no pairings, so
the tests can compare the file with a fresh computation cheaply. The output is byte-for-byte
deterministic.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._gen_vectors import DEFAULT_OUTPUT, sha_element, write
from .field import R, to_hex
from .kzg import g2_to_bytes, insecure_tau
from .plonk import (
    POSEIDON_ROWS,
    Circuit,
    CircuitBuilder,
    Srs,
    VerifyingKey,
    Witness,
    _prove,
    required_max_degree,
    setup,
    transcript_challenges,
    verify,
)
from .poseidon import round_constants

GENERATOR = "python -m bigfile_zk.reference._gen_plonk_vectors (pure-Python reference)"

SRS_SEED = 1
BLINDING_RULE = (
    'blinding[j] = int.from_bytes(sha256(f"bigfile_zk/vectors/plonk/{case}/blinding/{j}"'
    '.encode()).digest(), "big") % r'
)


def arith_case() -> tuple[str, str, Circuit, Witness]:
    """k = 3, two public inputs: x0 · w = x1 with w private, and (x0 + w) · 5 + 1 = y."""
    x0, w = 3, 7
    x1 = x0 * w
    y = (x0 + w) * 5 + 1
    b = CircuitBuilder(3, num_public=2)
    b.public_input(0, x0)
    b.public_input(1, x1)
    b.gate(2, x0, w, x1, q_m=1, q_o=-1)  # a·b - c = 0
    b.gate(3, x0, w, x0 + w, q_l=1, q_r=1, q_o=-1)  # a + b - c = 0
    b.gate(4, x0 + w, 0, y, q_l=5, q_o=-1, q_c=1)  # 5a - c + 1 = 0
    b.gate(5, y, 0, 0, q_l=1, q_c=-y)  # a = y (a constant)
    b.copy((0, 0), (0, 2))  # x0
    b.copy((0, 2), (0, 3))
    b.copy((0, 1), (2, 2))  # x1
    b.copy((1, 2), (1, 3))  # w
    b.copy((2, 3), (0, 4))  # x0 + w
    b.copy((2, 4), (0, 5))  # y
    circuit, witness = b.build()
    return "arith", arith_case.__doc__ or "", circuit, witness


def lookup_case() -> tuple[str, str, Circuit, Witness]:
    """k = 4, lookups: table 1 (tag 1) is 2-bit XOR as (x, y) -> tag with x ^ y in the
    constant below, table 2 (tag 2) is the range 0..7; the tags are copy-constrained to
    constant rows, one public input range-checked."""
    b = CircuitBuilder(4, num_public=1, lookups=True)
    entries = [(x, y, 1) for x in range(2) for y in range(2)] + [(v, 0, 2) for v in range(8)]
    b.set_table(entries)
    x = 5
    b.public_input(0, x)
    b.gate(1, 1, 0, 0, q_l=1, q_c=-1)  # the tag-1 constant
    b.gate(2, 2, 0, 0, q_l=1, q_c=-2)  # the tag-2 constant
    b.lookup(3, x, 0, 2)  # x in 0..7
    b.lookup(4, 1, 1, 1)  # (1, 1) is in table 1
    b.lookup(5, 0, 1, 1)
    b.lookup(6, 1, 1, 1)  # the same tuple twice: multiplicity 2
    b.lookup(7, 7, 0, 2)
    b.copy((0, 0), (0, 3))
    b.copy((0, 2), (2, 3))
    b.copy((0, 2), (2, 7))
    for row in (4, 5, 6):
        b.copy((0, 1), (2, row))
    circuit, witness = b.build()
    return "lookup", lookup_case.__doc__ or "", circuit, witness


def poseidon_case() -> tuple[str, str, Circuit, Witness]:
    """k = 7: knowledge of (x1, x2) with Poseidon(x1, x2) = the public input; rows 1..66 are
    one permutation (spec 2.1 layout), row 67 pins the capacity to 0."""
    b = CircuitBuilder(7, num_public=1)
    out = b.poseidon(1, [0, 1, 2])
    c0 = round_constants(3)[0]
    b.public_input(0, out[0])
    b.copy((0, 0), (0, POSEIDON_ROWS))  # row 66: the output
    b.gate(POSEIDON_ROWS + 1, c0, 0, 0, q_l=1, q_c=-c0)  # a = 0 + C_0[0]
    b.copy((0, 1), (0, POSEIDON_ROWS + 1))
    circuit, witness = b.build()
    return "poseidon", poseidon_case.__doc__ or "", circuit, witness


def dot_case() -> tuple[str, str, Circuit, Witness]:
    """Version 2 (q_N), k = 4, two public inputs: y = 2·d1 + 3·x5 - x0 - 6 with
    d1 = 4 + 3·x0 - 2·x1 + 5·x2 + 7·x3 - x4, as two back-to-back dot-product chains (rows 2-4
    and 5-6; d1 passes down c into row 5, which reads it in a); a multiplication row; and
    z = (s² + 3)² + 3 as the chain x <- x² + 3 (rows 9-10, one row per step)."""
    xs = [11, 22, 33, 44, 55, 66]
    s = 9
    b = CircuitBuilder(4, num_public=2)
    d1 = b.dot(2, [(3, xs[0]), (-2, xs[1]), (5, xs[2]), (7, xs[3]), (-1, xs[4])], 4)
    b.gate(5, d1, 0, d1)  # the next chain's row 5 keeps d1 in c (its q_O is 0) ...
    d2 = b.dot(5, [(2, d1), (3, xs[5]), (-1, xs[0])], -6)
    b.copy((0, 5), (2, 5))  # ... and reads it in a
    b.copy((0, 2), (0, 6))  # x0, used twice
    b.gate(7, 0, 0, d2)  # the result row: no gate, c = d2
    b.gate(8, xs[1], xs[2], xs[1] * xs[2], q_m=1, q_o=-1)
    b.copy((1, 2), (0, 8))
    b.copy((0, 3), (1, 8))
    t = (s * s + 3) % R
    z = (t * t + 3) % R
    b.gate(9, s, s, 0, q_m=1, q_c=3, q_n=-1)
    b.gate(10, t, t, t, q_m=1, q_c=3, q_n=-1)
    b.gate(11, 0, 0, z)
    b.copy((0, 9), (1, 9))
    for col in (0, 1, 2):
        b.copy((col, 10), (2, 10) if col != 2 else (0, 10))
    b.public_input(0, d2)
    b.public_input(1, z)
    b.copy((0, 0), (2, 7))
    b.copy((0, 1), (2, 11))
    circuit, witness = b.build()
    return "dot", dot_case.__doc__ or "", circuit, witness


def dot_lookup_case() -> tuple[str, str, Circuit, Witness]:
    """Version 2 with lookups, k = 4: the table (v, 0, 1) for v in 0..15 (tag 1); the public
    input x and d = x + 2·x1 + x2 - x3 (a 2-row chain, result row 4) are range-checked, and
    row 5 is a lookup row that also sets q_L = 2, q_N = -1 (the spec allows q_N there), so
    row 6's c is 2·d, which row 6 copies to a and row 7 range-checks too."""
    x, x1, x2, x3 = 3, 1, 2, 4
    b = CircuitBuilder(4, num_public=1, lookups=True)
    b.set_table([(v, 0, 1) for v in range(16)])
    b.public_input(0, x)
    b.gate(1, 1, 0, 0, q_l=1, q_c=-1)  # the tag constant
    d = b.dot(2, [(1, x), (2, x1), (1, x2), (-1, x3)])
    b.gate(4, 0, 0, d)
    b.gate(5, d, 0, 1, q_l=2, q_n=-1)
    b.lookup(5, d, 0, 1)
    b.gate(6, 2 * d, 0, 2 * d, q_l=1, q_o=-1)
    b.lookup(7, 2 * d, 0, 1)
    b.lookup(8, x, 0, 1)
    b.copy((0, 0), (0, 2))
    b.copy((0, 0), (0, 8))
    b.copy((2, 4), (0, 5))
    b.copy((0, 6), (0, 7))
    for row in (5, 7, 8):
        b.copy((0, 1), (2, row))
    circuit, witness = b.build()
    return "dot_lookup", dot_lookup_case.__doc__ or "", circuit, witness


def dot_poseidon_case() -> tuple[str, str, Circuit, Witness]:
    """Version 2 with Poseidon, k = 7: a chain's last row (row 3) hands its sum straight to
    the c cell of the first Poseidon row (row 4): the chain's constant is C_0[2], so the sum
    is the permuted state's third element plus C_0[2]. Public: the permutation's first output
    word (row 69) and a chain over it and the chain's first two inputs (rows 71-72, result
    row 73); row 70 pins the capacity to C_0[0]."""
    c0 = round_constants(3)[:3]
    ys = [5, 6, 7]
    x1 = 8
    b = CircuitBuilder(7, num_public=2)
    x2 = (ys[0] - 2 * ys[1] + 9 * ys[2]) % R
    b.dot(2, [(1, ys[0]), (-2, ys[1]), (9, ys[2])], c0[2])
    out_row = 4 + POSEIDON_ROWS - 1
    out = b.poseidon(4, [0, x1, x2])[0]
    b.gate(70, c0[0], 0, 0, q_l=1, q_c=-c0[0])
    b.copy((0, 4), (0, 70))
    e = b.dot(71, [(1, out), (5, ys[0]), (2, ys[1])], 1)
    b.copy((0, out_row), (0, 71))
    b.copy((0, 2), (1, 71))
    b.copy((1, 2), (0, 72))
    b.gate(73, 0, 0, e)
    b.public_input(0, out)
    b.public_input(1, e)
    b.copy((0, 0), (0, out_row))
    b.copy((0, 1), (2, 73))
    circuit, witness = b.build()
    return "dot_poseidon", dot_poseidon_case.__doc__ or "", circuit, witness


def packed_case() -> tuple[str, str, Circuit, Witness]:
    """Version 3 (section 8: packed commitments, one multi-point opening): the dot_lookup
    circuit with packed = true, k = 4."""
    _, _, circuit, witness = dot_lookup_case()
    return "packed", packed_case.__doc__ or "", replace(circuit, packed=True), witness


CASES = (
    arith_case,
    lookup_case,
    poseidon_case,
    dot_case,
    dot_lookup_case,
    dot_poseidon_case,
    packed_case,
)


def blinding(case: str, lookups: bool) -> list[int]:
    return [
        sha_element(f"bigfile_zk/vectors/plonk/{case}/blinding/{j}")
        for j in range(18 if lookups else 12)
    ]


def case_vector(name: str, description: str, circuit: Circuit, witness: Witness) -> dict[str, Any]:
    max_degree = required_max_degree(circuit.k)
    srs = Srs.insecure(max_degree, SRS_SEED)
    pk, vk = setup(circuit, srs)
    rho = blinding(name, circuit.lookups)
    proof, challenges = _prove(pk, witness, rho, True)
    public_inputs = witness.public_inputs(circuit.num_public)
    replayed = transcript_challenges(vk, proof, public_inputs)
    assert replayed == challenges, "the verifier's transcript differs from the prover's"
    return {
        "name": name,
        "description": " ".join(description.split()),
        "circuit": circuit.to_json_dict(),
        "witness": witness.to_json_dict(),
        "public_inputs": [to_hex(x) for x in public_inputs],
        "srs": {"seed": SRS_SEED, "max_degree": max_degree},
        "blinding_rule": BLINDING_RULE.replace("{case}", name),
        "blinding": [to_hex(x) for x in rho],
        "sigma": [[to_hex(x) for x in column] for column in circuit.sigma()],
        "vk": "0x" + vk.to_bytes().hex(),
        "vk_digest": "0x" + vk.digest().hex(),
        "challenges": {
            key: to_hex(value) for key, value in challenges.as_dict().items() if value is not None
        },
        "proof": "0x" + proof.to_bytes().hex(),
        "proof_bfpf": "0x" + proof.to_bfpf().hex(),
    }


def plonk_vectors() -> dict[str, Any]:
    """The vector file's content (no pairings)."""
    return {
        "description": (
            "BigFile PLONK (docs/spec/plonk.md) with the insecure SRS (docs/spec/srs.md); "
            "circuit/witness in the section 7 interchange format; G1 points are 64-byte "
            "EIP-196, G2 points 128-byte EIP-197, scalars 32 bytes big-endian; every hex "
            "string is of the exact bytes to reproduce"
        ),
        "generator": GENERATOR,
        "srs_tau": {
            "seed": SRS_SEED,
            "tau": to_hex(insecure_tau(SRS_SEED)),
        },
        "cases": [case_vector(*make()) for make in CASES],
    }


def check_vectors(vectors: dict[str, Any]) -> None:
    """Every proof verifies; the same proof with the first public input + 1 does not."""
    for case in vectors["cases"]:
        vk_bytes = bytes.fromhex(case["vk"][2:])
        vk = VerifyingKey.from_bytes(vk_bytes)
        assert vk.to_bytes() == vk_bytes
        srs = Srs.insecure(case["srs"]["max_degree"], case["srs"]["seed"])
        assert g2_to_bytes(vk.g2[1]) == g2_to_bytes(srs.g2[1])
        proof = bytes.fromhex(case["proof"][2:])
        xs = [int(x, 16) for x in case["public_inputs"]]
        assert verify(vk, proof, xs), case["name"]
        if xs:
            assert not verify(vk, proof, [(xs[0] + 1) % R, *xs[1:]]), case["name"]


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    vectors = plonk_vectors()
    check_vectors(vectors)
    write(out / "plonk.json", vectors)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
