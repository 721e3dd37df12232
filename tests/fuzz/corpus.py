"""Seed corpora: real, valid objects (made with the insecure test SRS and tiny circuits) and the
layouts of their binary encodings (:class:`fuzz.mutate.Field` lists).

:func:`build` runs once per campaign (in the parent process) and returns plain picklable data,
so that the workers that run the targets only decode.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import warnings
from pathlib import Path
from typing import Any

from fuzz.mutate import Field, P

#: Size (``2^POWER``) of the ``.ptau`` seed.
PTAU_POWER = 2
#: The quantized programs of the spec's vectors (the repository's, as the tests read them).
QUANTIZATION = (
    Path(__file__).resolve().parents[2] / "docs" / "spec" / "vectors" / "quantization.json"
)
#: The compute proof seed's statement: job and provider.
COMPUTE_JOB = 7
COMPUTE_PROVIDER = "0x" + "ab" * 20


def keccak256(data: bytes) -> bytes:
    from Crypto.Hash import keccak

    return keccak.new(digest_bits=256, data=data).digest()


# ---------------------------------------------------------------------------------------------
# Layouts (mirroring the Rust encoders)
# ---------------------------------------------------------------------------------------------


def _points(at: int, count: int, size: int, kind: str, name: str) -> list[Field]:
    return [Field(at + size * i, size, kind, f"{name}{i}") for i in range(count)]


def _claim(data: bytes, at: int, n: int, what: str) -> None:
    """A length or count read from ``data`` must fit in the bytes left. The walkers also run on
    payloads that an earlier step already mutated, where a count can be 2^32 or 2^64: walking
    it would build billions of fields (this exhausted the campaign's memory)."""
    if at + n > len(data):
        raise ValueError(f"{what}: {n} bytes claimed at {at}, {len(data) - at} left")


def evm_proof_layout(lookups: bool, at: int = 0) -> list[Field]:
    np = 9 if lookups else 7
    ns = 12 if lookups else 10
    return _points(at, np, 64, "g1", "point") + _points(at + 64 * np, ns, 32, "scalar", "eval")


def proof_layout(data: bytes) -> list[Field]:
    lookups = data[5] == 1
    head = [Field(0, 4, "magic"), Field(4, 1, "u8", "version"), Field(5, 1, "u8", "flags")]
    return head + evm_proof_layout(lookups, 6)


def vk_layout(data: bytes, at: int = 0) -> list[Field]:
    lookups = data[at + 10] == 1
    points = 14 if lookups else 10
    return [
        Field(at, 4, "magic"),
        Field(at + 4, 1, "u8", "version"),
        Field(at + 5, 1, "u8", "k"),
        Field(at + 6, 4, "u32be", "num_public"),
        Field(at + 10, 1, "u8", "flags"),
        *_points(at + 11, points, 64, "g1", "vk_g1_"),
        *_points(at + 11 + 64 * points, 2, 128, "g2", "vk_g2_"),
    ]


def pk_layout(data: bytes) -> list[Field]:
    """Walk a valid ``BFPK`` encoding (keys.rs ``ProvingKey::to_bytes``)."""
    out = [Field(0, 4, "magic"), Field(4, 1, "u8", "version"), Field(5, 4, "u32be", "vk_len")]
    (vk_len,) = struct.unpack(">I", data[5:9])
    out += vk_layout(data, 9)
    at = 9 + vk_len
    k, lookups = data[9 + 5], data[9 + 10] == 1
    n = 1 << k
    ncols = 11 if lookups else 7
    _claim(data, at, 32 * ncols * n, "fixed columns")
    # Scalars of the fixed columns: a sample (every scalar would make thousands of fields).
    for c in range(ncols):
        out += [Field(at + 32 * (c * n + r), 32, "scalar", f"fixed{c}[{r}]") for r in (0, n - 1)]
    at += 32 * ncols * n

    def u32() -> int:
        nonlocal at
        (v,) = struct.unpack(">I", data[at : at + 4])
        return v

    out.append(Field(at, 4, "u32be", "copies"))
    classes = u32()
    at += 4
    _claim(data, at, 4 * classes, "copy classes")
    for c in range(classes):
        out.append(Field(at, 4, "u32be", f"class{c}.len"))
        m = u32()
        at += 4
        _claim(data, at, 5 * m, f"class {c}")
        for e in range(m):
            out += [Field(at, 1, "u8", f"class{c}[{e}].col"), Field(at + 1, 4, "u32be", "row")]
            at += 5
    out.append(Field(at, 4, "u32be", "labels"))
    labels = u32()
    at += 4
    _claim(data, at, 8 * labels, "labels")
    for i in range(labels):
        out.append(Field(at, 4, "u32be", f"label{i}.row"))
        at += 4
        out.append(Field(at, 4, "u32be", f"label{i}.len"))
        m = u32()
        at += 4
        _claim(data, at, m, f"label {i}")
        out.append(Field(at, m, "bytes", f"label{i}"))
        at += m
    out.append(Field(at, 4, "u32be", "np"))
    np = u32()
    at += 4
    _claim(data, at, 64 * np + 32, "pk points")
    out += _points(at, min(np, 8), 64, "g1", "pk_g1_")
    at += 64 * np
    out.append(Field(at, 32, "checksum"))
    assert at + 32 == len(data), (at, len(data))
    return out


def srs_layout(data: bytes) -> list[Field]:
    (n,) = struct.unpack(">Q", data[8:16])
    _claim(data, 16, 64 * n + 256 + 32, "SRS points")
    return [
        Field(0, 4, "magic"),
        Field(4, 1, "u8", "version"),
        Field(5, 3, "bytes", "reserved"),
        Field(8, 8, "u64be", "n"),
        *_points(16, n, 64, "g1", "srs_g1_"),
        *_points(16 + 64 * n, 2, 128, "g2", "srs_g2_"),
        Field(16 + 64 * n + 256, 32, "checksum"),
    ]


def commitment_layout(_: bytes) -> list[Field]:
    return [
        Field(0, 4, "magic"),
        Field(4, 1, "u8", "spec_version"),
        Field(5, 1, "u8", "arity"),
        Field(6, 2, "bytes", "reserved"),
        Field(8, 4, "u32be", "chunk_size"),
        Field(12, 8, "u64be", "file_size"),
        Field(20, 32, "scalar", "root"),
        Field(52, 32, "scalar", "commitment"),
    ]


def merkle_layout(data: bytes) -> list[Field]:
    out = [
        Field(0, 4, "magic"),
        Field(4, 1, "u8", "version"),
        Field(5, 1, "u8", "arity"),
        Field(6, 1, "u8", "depth"),
        Field(7, 1, "u8", "reserved"),
        Field(8, 8, "u64be", "index"),
        Field(16, 32, "scalar", "leaf"),
    ]
    return out + _points(48, (len(data) - 48) // 32, 32, "scalar", "sibling")


def multi_layout(data: bytes) -> list[Field]:
    out = [
        Field(0, 4, "magic"),
        Field(4, 1, "u8", "version"),
        Field(5, 1, "u8", "arity"),
        Field(6, 1, "u8", "depth"),
        Field(7, 1, "u8", "reserved"),
        Field(8, 4, "u32be", "count"),
    ]
    (m,) = struct.unpack(">I", data[8:12])
    at = 12
    _claim(data, at, 40 * m + 4, "indices and leaves")
    out += _points(at, m, 8, "u64be", "index")
    at += 8 * m
    out += _points(at, m, 32, "scalar", "leaf")
    at += 32 * m
    out.append(Field(at, 4, "u32be", "siblings"))
    (s,) = struct.unpack(">I", data[at : at + 4])
    _claim(data, at + 4, 32 * s, "siblings")
    out += _points(at + 4, s, 32, "scalar", "sibling")
    return out


def ptau_layout(data: bytes) -> list[Field]:
    out = [Field(0, 4, "magic"), Field(4, 4, "u32le", "version"), Field(8, 4, "u32le", "nsect")]
    (nsect,) = struct.unpack("<I", data[8:12])
    at = 12
    _claim(data, at, 12 * nsect, "sections")
    for _ in range(nsect):
        sid, size = struct.unpack("<IQ", data[at : at + 12])
        out += [Field(at, 4, "u32le", f"section{sid}.id"), Field(at + 4, 8, "u64le", "size")]
        body = at + 12
        if sid == 1:
            out += [
                Field(body, 4, "u32le", "n8"),
                Field(body + 4, 32, "bytes", "q"),
                Field(body + 36, 4, "u32le", "power"),
                Field(body + 40, 4, "u32le", "ceremony_power"),
            ]
        elif sid in (2, 4, 5):
            out += _points(body, min(size // 64, 8), 64, "g1mont", f"s{sid}_")
        elif sid in (3, 6):
            out += _points(body, min(size // 128, 4), 128, "g2mont", f"s{sid}_")
        at = body + size
    return out


def bfm_layout(data: bytes) -> list[Field]:
    """A model file (``docs/spec/model-file.md``): header, JSON body, SHA-256 trailer."""
    (length,) = struct.unpack(">I", data[5:9])
    return [
        Field(0, 4, "magic"),
        Field(4, 1, "u8", "version"),
        Field(5, 4, "u32be", "length"),
        Field(9, length, "bytes", "body"),
        Field(9 + length, 32, "checksum"),
    ]


# ---------------------------------------------------------------------------------------------
# Fixups: keep checksums valid so that mutations reach the parsers behind them
# ---------------------------------------------------------------------------------------------


def fix_keccak_trailer(data: bytes) -> bytes:
    if len(data) < 32:
        return data
    return data[:-32] + keccak256(data[:-32])


def wrap_bfm(body: bytes) -> bytes:
    """A model file around ``body``: the right length and checksum."""
    head = b"BFMD\x01" + struct.pack(">I", len(body))
    return head + body + hashlib.sha256(head + body).digest()


def fix_bfm(data: bytes) -> bytes:
    """The length field and the SHA-256 trailer of a mutated model file made right again (the
    body is what lies between the header and the last 32 bytes)."""
    if len(data) < 9 + 32 or data[:4] != b"BFMD":
        return data
    return data[:5] + wrap_bfm(data[9:-32])[5:]


# ---------------------------------------------------------------------------------------------
# A .ptau writer (snarkjs 0.7.6 layout, see tests/_snarkjs.py) from the insecure test SRS
# ---------------------------------------------------------------------------------------------


def _mont(x: int) -> bytes:
    return (x * 2**256 % P).to_bytes(32, "little")


def _g1m(pt: tuple[int, int]) -> bytes:
    return _mont(pt[0]) + _mont(pt[1])


def _g2m(pt: tuple[tuple[int, int], tuple[int, int]]) -> bytes:
    (x0, x1), (y0, y1) = pt
    return _mont(x0) + _mont(x1) + _mont(y0) + _mont(y1)


def make_ptau(power: int = PTAU_POWER) -> bytes:
    """A BN254 ``.ptau`` of ``2^power`` whose τ is the insecure test SRS's (alpha = beta = 1).

    Sections 1-7 as snarkjs writes them. Section 3 needs ``[τ^i]G2`` for every ``i < 2^power``;
    only ``[1]G2, [τ]G2`` are known from the SRS (and read by the loader), so the rest repeat
    ``[τ]G2`` (the file would not pass snarkjs' own verification, which we never run).
    """
    import bigfile_zk as bz

    n = 1 << power
    srs = bz.SRS.insecure_for_testing(2 * n - 2)
    return ptau_from_points(power, [srs.g1(i) for i in range(2 * n - 1)], srs.g2(0), srs.g2(1))


def ptau_from_points(power: int, g1: list[Any], g2_0: Any, g2_1: Any) -> bytes:
    """The ``.ptau`` of :func:`make_ptau` for the ``2·2^power - 1`` points ``[τ^i]G1`` (affine
    ``(x, y)``) and ``[1]G2``, ``[τ]G2`` (``((x0, x1), (y0, y1))``); the other G2 powers repeat
    ``[τ]G2`` (not read by the loader)."""
    n = 1 << power
    g2 = [g2_0, g2_1] + [g2_1] * (n - 2)

    def section(sid: int, payload: bytes) -> bytes:
        return struct.pack("<IQ", sid, len(payload)) + payload

    header = struct.pack("<I", 32) + P.to_bytes(32, "little") + struct.pack("<II", power, power)
    sections = [
        section(1, header),
        section(2, b"".join(_g1m(p) for p in g1)),
        section(3, b"".join(_g2m(p) for p in g2)),
        section(4, b"".join(_g1m(p) for p in g1[:n])),
        section(5, b"".join(_g1m(p) for p in g1[:n])),
        section(6, _g2m(g2_0)),
        section(7, bytes(4)),
    ]
    return b"ptau" + struct.pack("<II", 1, len(sections)) + b"".join(sections)


# ---------------------------------------------------------------------------------------------
# Circuits
# ---------------------------------------------------------------------------------------------


def square(b: Any) -> None:
    x = b.private_input("x")
    y = b.public_input("y")
    b.assert_equal(b.mul(x, x), y)


def with_lookup(b: Any) -> None:
    x = b.private_input("x")
    y = b.public_input("y")
    with b.label("lookup gadget"):
        table = b.add_table("squares", [(j, j * j) for j in range(6)])
        b.lookup(table, x, y)


def three_public(b: Any) -> None:
    """Same proof length and public-input count as the storage circuit's (no lookups)."""
    c = b.public_input("commitment")
    s = b.public_input("seed")
    p = b.public_input("prover")
    b.assert_equal(b.add(b.add(c, s), p), b.add(b.add(p, s), c))


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------


def build() -> dict[str, Any]:
    """Every seed the targets use (picklable: bytes, str, ints, lists)."""
    import bigfile_zk as bz
    from bigfile_zk import plonk
    from bigfile_zk.errors import InsecureSRSWarning
    from bigfile_zk.storage import StorageProof

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        srs = bz.SRS.insecure_for_testing(5 * 16 + 10)
        srs_small = bz.SRS.insecure_for_testing(8, 3)
        srs_tiny = bz.SRS.insecure_for_testing(1)
        ptau = make_ptau()

    plonk_cases = []  # (proof bytes, public, vk bytes)
    pks = []
    for circuit, assignment, public in (
        (square, {"x": 3, "y": 9}, [9]),
        (with_lookup, {"x": 5, "y": 25}, [25]),
        (three_public, {"commitment": 11, "seed": 1234, "prover": 2**159 + 7}, None),
    ):
        pk = plonk.setup(circuit, srs)
        proof = plonk.prove(pk, circuit, assignment, progress=False)
        public = proof.public_inputs if public is None else public
        assert plonk.verify(pk.vk, proof, public, allow_insecure_srs=True)
        plonk_cases.append((proof.to_bytes(), list(public), pk.vk.to_bytes()))
        pks.append(pk)

    proofs = [p for p, _, _ in plonk_cases]
    proof_jsons = [plonk.Proof.from_bytes(p).to_json() for p in proofs]
    vks = [pk.vk.to_bytes() for pk in pks]
    vk_jsons = [pk.vk.to_json() for pk in pks]
    pk_bytes = [pks[0].to_bytes(), pks[1].to_bytes()]
    pk_jsons = [pks[0].to_json()]

    # Storage proof JSON: a proof of the 3-public circuit dressed as a StorageProof (it decodes
    # like a real one and must not verify under the storage key).
    proof3, public3, _ = plonk_cases[2]
    sp = StorageProof(4, public3[0], public3[1], public3[2], plonk.Proof.from_bytes(proof3))
    storage_jsons = [sp.to_json()]

    data = bytes((i * 7 + 3) % 256 for i in range(62 * 9 + 17))
    commitments = [
        bz.commit_bytes(data, chunk_size=62, arity=4),
        bz.commit_bytes(data, chunk_size=124, arity=2),
        bz.commit_bytes(b"x", chunk_size=992, arity=16),
    ]
    tree = bz.MerkleTree(list(range(1, 12)), 2)
    tree4 = bz.MerkleTree(list(range(1, 20)), 4)
    merkle = [tree.proof(3), tree.proof(10), tree4.proof(7), bz.MerkleTree([5], 8).proof(0)]
    multi = [tree.multi_proof([0, 3, 10]), tree4.multi_proof([1, 2])]

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "data.bin")
        with open(path, "wb") as f:
            f.write(data)
        bz.commit_file(path, chunk_size=62, arity=4, tree=path + ".bfzt")
        with open(path + ".bfzt", "rb") as f:
            tree_file = f.read()
        openings = [
            bz.open_file(path, commitments[0], 3).to_json(),
            bz.open_file(path, commitments[1], 4).to_json(),
        ]

    compute_seeds = _compute_seeds()
    return {
        **compute_seeds,
        "plonk_cases": plonk_cases,
        "proofs": proofs,
        "evm_proofs": [p[6:] for p in proofs],
        "proof_jsons": proof_jsons,
        "vks": vks,
        "vk_jsons": vk_jsons,
        "pks": pk_bytes,
        "pk_jsons": pk_jsons,
        "srs": [srs_small.to_bytes(), srs_tiny.to_bytes()],
        "ptau": [ptau],
        "commitments": [c.to_bytes() for c in commitments],
        "commitment_jsons": [c.to_json() for c in commitments],
        "merkle": [p.to_bytes() for p in merkle],
        "merkle_jsons": [p.to_json() for p in merkle],
        "multi": [p.to_bytes() for p in multi],
        "multi_jsons": [p.to_json() for p in multi],
        "multi_roots": [tree.root, tree4.root],
        "openings": openings,
        "storage_jsons": storage_jsons,
        "file_data": data,
        "tree_file": tree_file,
        "commitment_of_file": commitments[0].to_json(),
    }


def _compute_seeds() -> dict[str, Any]:
    """Proof-of-compute seeds: quantized programs, model files (one with every metadata key),
    a compute proof and its statement (and a hashed-outputs proof JSON made from it)."""
    import numpy as np

    from bigfile_zk import commit_bytes, compute
    from bigfile_zk.errors import InsecureSRSWarning

    vectors = {m["name"]: m for m in json.loads(QUANTIZATION.read_text())["models"]}
    programs = [
        vectors[name]["model"] for name in ("dense_relu", "add_residual", "cnn", "max_pool_clip")
    ]
    dense = compute.compile(compute.QuantizedModel.from_dict(vectors["dense_relu"]["model"]))
    cnn = compute.compile(compute.QuantizedModel.from_dict(vectors["cnn"]["model"]))
    metadata = {
        "source": {"name": "cnn.onnx", "sha256": hashlib.sha256(b"cnn").hexdigest()},
        "fidelity": {"agreement": 0.998, "classes": [1, 0.5, None], "ok": True},
        "created_by": "fuzz",
    }
    bfms = [dense.to_bytes(), cnn.with_metadata(metadata).to_bytes()]
    x = np.array(vectors["dense_relu"]["cases"][0]["input"], dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        pk, vk = dense.keys(cache=False, progress=False)
    proof = dense.prove(pk, x, job=COMPUTE_JOB, provider=COMPUTE_PROVIDER, progress=False)
    commitment = commit_bytes(dense.model.input_bytes(x)).commitment
    hashed = compute.ComputeProof(
        proof=proof.proof,
        public_inputs=(*proof.public_inputs[:3], 12345),
        num_outputs=54,
        vk_digest=proof.vk_digest,
        insecure_test_srs=True,
    )
    return {
        "qmodel_jsons": [json.dumps(p) for p in programs],
        "bfms": bfms,
        "bfm_bodies": [b[9:-32].decode("ascii") for b in bfms],
        "compute_proof_jsons": [proof.to_json(), hashed.to_json()],
        "compute_vk": vk.to_bytes(),
        "compute_statement": {
            "input_commitment": commitment,
            "job": COMPUTE_JOB,
            "provider": COMPUTE_PROVIDER,
            "outputs": dense.expected_outputs(dense.model.forward_int(x)),
        },
    }
