"""The proof-of-storage fast paths against the pure-Python reference (reference/storage.py):
the challenge derivation, the relation the circuit enforces, and the verifier."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bigfile_zk
from bigfile_zk import SRS, storage
from bigfile_zk.reference import plonk as ref_plonk
from bigfile_zk.reference import storage as ref
from bigfile_zk.reference.field import R

K = 4
PROVER = 0xCAFE << 140


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(storage.srs_degree(K), 11)


@given(
    seed=st.integers(0, R - 1),
    prover=st.integers(0, 2**160 - 1),
    k=st.sampled_from(storage.PARAMETER_SETS),
    num_chunks=st.one_of(st.integers(1, 100), st.integers(1, 2**32), st.just(2**32)),
)
def test_challenges_match_reference(seed: int, prover: int, k: int, num_chunks: int) -> None:
    assert storage.challenges(seed, prover, num_chunks, k=k) == ref.challenges(
        seed, prover, k, num_chunks
    )


def openings(path: Path, c: bigfile_zk.FileCommitment, seed: int) -> list[ref.Opening]:
    out = []
    for i in ref.challenges(seed, PROVER, K, c.num_chunks):
        o = c.open(path, i)
        out.append(ref.Opening(o.data, [s[0] for s in o.proof.siblings]))
    return out


def test_relation_and_verifier_agree_with_native(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes((i * 13 + i // 7) % 251 for i in range(37 * 992 + 100)))
    c = bigfile_zk.commit_file(path)
    seed = 424242
    statement = (c.commitment, seed, PROVER)
    ops = openings(path, c, seed)
    assert ref.commitment(c.root, c.file_size) == c.commitment
    assert ref.relation_holds(K, statement, c.root, c.file_size, ops)
    # Every kind of wrong witness or statement breaks the relation.
    flipped = [ref.Opening(bytes([ops[0].data[0] ^ 1]) + ops[0].data[1:], ops[0].siblings)]
    wrong_sibling = [ref.Opening(ops[1].data, [ops[1].siblings[0] + 1, *ops[1].siblings[1:]])]
    for bad in (
        ((c.commitment, seed + 1, PROVER), c.root, c.file_size, ops),
        ((c.commitment, seed, PROVER + 1), c.root, c.file_size, ops),
        ((c.commitment + 1, seed, PROVER), c.root, c.file_size, ops),
        (statement, c.root, c.file_size + 1, ops),
        (statement, c.root, c.file_size, flipped + ops[1:]),
        (statement, c.root, c.file_size, ops[:1] + wrong_sibling + ops[2:]),
        (statement, c.root, c.file_size, ops[:-1]),
    ):
        assert not ref.relation_holds(K, *bad)
    # The native proof of the same statement passes the reference verifier, and only it.
    proof = storage.prove(path, c, seed, PROVER, k=K, srs=srs())
    rvk = ref_plonk.VerifyingKey.from_bytes(storage.keys(K, srs())[1].to_bytes())
    raw = proof.proof.to_evm_bytes()
    expected = {"commitment": c.commitment, "seed": seed, "prover": PROVER}
    assert ref.verify(rvk, raw, **expected)
    assert not ref.verify(rvk, raw, **{**expected, "seed": seed + 1})
    assert not ref.verify(rvk, raw, **{**expected, "prover": PROVER ^ 1})
    assert not ref.verify(rvk, raw, **{**expected, "commitment": c.commitment + 1})
    assert not ref.verify(rvk, raw[:-1], **expected)
    # A malformed expected statement raises, as natively (storage.verify).
    for bad in ({"seed": seed + R}, {"commitment": R}, {"prover": 2**160}, {"seed": -1}):
        with pytest.raises(ValueError):
            ref.verify(rvk, raw, **{**expected, **bad})


# -- docs/spec/vectors/storage.json -----------------------------------------------------------

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "storage.json"


def test_vectors_are_current_and_native_reproduces_them(tmp_path: Path) -> None:
    import json

    from bigfile_zk.reference import _gen_storage_vectors as gen

    vectors = json.loads(VECTORS.read_text())
    assert vectors == gen.storage_vectors(), (
        "run: PYTHONPATH=python python -m bigfile_zk.reference._gen_storage_vectors"
    )
    for case in vectors["challenges"]:
        native = storage.challenges(case["seed"], case["prover"], case["num_chunks"], k=case["k"])
        assert native == case["indices"]
    for stmt in vectors["statements"]:
        path = tmp_path / f"{stmt['size']}.bin"
        path.write_bytes(gen.file_bytes(stmt["size"]))
        c = bigfile_zk.commit_file(path)
        assert f"0x{c.commitment:064x}" == stmt["commitment"] and c.depth == stmt["depth"]
        assert (
            storage.challenges(stmt["seed"], stmt["prover"], c.num_chunks, k=4)
            == stmt["indices_k4"]
        )
