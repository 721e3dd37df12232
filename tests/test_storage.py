"""Proof-of-storage from Python: prove from a file on disk, verify, and every cheat refused."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import pytest

import bigfile_zk
from bigfile_zk import SRS, storage
from bigfile_zk.errors import CommitmentMismatchError, DecodeError, ParameterError

K = 4
PROVER = "0x" + "ab" * 20


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(5 * 2**14 + 9, 3)


def make_file(tmp_path: Path, size: int) -> tuple[Path, bigfile_zk.FileCommitment, Path]:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes((i * 31 + i // 992) % 256 for i in range(size)))
    tree = tmp_path / "data.bin.bfzt"
    c = bigfile_zk.commit_file(path, tree=tree)
    return path, c, tree


def test_prove_verify_and_json(tmp_path: Path) -> None:
    path, c, tree = make_file(tmp_path, 20 * 992 + 5)
    proof = storage.prove(path, c, seed=12345, prover=PROVER, k=K, srs=srs(), tree=tree)
    assert storage.verify(proof, srs=srs())
    assert proof.public_inputs == [c.commitment, 12345, int(PROVER, 16)]
    again = storage.StorageProof.from_json(proof.to_json())
    assert again.public_inputs == proof.public_inputs and storage.verify(again, srs=srs())
    # Without the tree file the same statement is proved (paths rebuilt from the file).
    assert storage.verify(
        storage.prove(path, c, seed=12345, prover=PROVER, k=K, srs=srs()), srs=srs()
    )


def test_wrong_statements_fail(tmp_path: Path) -> None:
    path, c, tree = make_file(tmp_path, 7 * 992)
    proof = storage.prove(path, c, seed="0x10", prover=PROVER, k=K, srs=srs(), tree=tree)
    assert proof.seed == 16
    _, vk = storage.keys(K, srs())
    for public in (
        [c.commitment, 17, int(PROVER, 16)],  # another seed
        [c.commitment, 16, int(PROVER, 16) + 1],  # another prover
        [c.commitment + 1, 16, int(PROVER, 16)],  # another file
    ):
        assert not bigfile_zk.plonk.verify(vk, proof.proof, public)


def test_changed_file_is_named(tmp_path: Path) -> None:
    path, c, tree = make_file(tmp_path, 3 * 992)
    data = bytearray(path.read_bytes())
    data[992 + 10] ^= 1  # chunk 1
    path.write_bytes(bytes(data))
    seed = next(s for s in range(1000) if 1 in storage.challenges(s, PROVER, c.num_chunks, k=K))
    with pytest.raises(CommitmentMismatchError):
        storage.prove(path, c, seed=seed, prover=PROVER, k=K, srs=srs(), tree=tree)


def test_input_errors() -> None:
    with pytest.raises(ParameterError, match="parameter set"):
        storage.keys(5, srs())
    with pytest.raises(ParameterError, match="address"):
        storage.parse_address("0x1234")
    with pytest.raises(ParameterError):
        storage.parse_seed("twelve")
    with pytest.raises(ParameterError):
        storage.parse_seed(bigfile_zk.MODULUS)
    with pytest.raises(DecodeError):
        storage.StorageProof.from_json("{}")


def test_cli_commit_prove_verify(tmp_path: Path) -> None:
    import json

    from bigfile_zk.cli import main

    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 40)
    assert main(["storage", "commit", str(path), "-q"]) == 0
    out = tmp_path / "proof.json"
    args = ["storage", "prove", str(path), "--seed", "0x99", "--prover", PROVER]
    with pytest.warns(bigfile_zk.errors.InsecureSRSWarning):
        assert main([*args, "--out", str(out), "--k", "4", "-q"]) == 0
        assert main(["storage", "verify", str(out)]) == 0
        # A consistent but false statement (another seed) verifies as invalid: exit 1.
        obj = json.loads(out.read_text())
        obj["seed"] = "154"
        obj["public_inputs"][1] = "154"
        out.write_text(json.dumps(obj))
        assert main(["storage", "verify", str(out)]) == 1
    assert (
        main(["storage", "prove", str(path), "--seed", "x", "--prover", PROVER, "--out", str(out)])
        == 2
    )
