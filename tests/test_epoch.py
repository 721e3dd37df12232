"""The epoch proof-of-storage API (``bigfile_zk.epoch``): the catalogue against the reference,
one real proof with the default parameter set, and what verification refuses."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pytest

import bigfile_zk
from bigfile_zk import _native
from bigfile_zk.epoch import Catalogue, EpochProof, prove_epoch, verify_epoch
from bigfile_zk.errors import (
    CommitmentMismatchError,
    DecodeError,
    InsecureSRSError,
    InsecureSRSWarning,
    ParameterError,
)
from bigfile_zk.reference import epoch as ref

PROVER = "0x" + "ab" * 20
SEED = 0x1234_5678_9ABC


def _files(tmp: Path, sizes: list[int]) -> list[tuple[Path, Path, bigfile_zk.FileCommitment]]:
    out = []
    for i, size in enumerate(sizes):
        data = tmp / f"f{i}.bin"
        data.write_bytes(bytes((7 * b + 13 * i + b // 991) % 256 for b in range(size)))
        tree = tmp / f"f{i}.bfzt"
        out.append((data, tree, bigfile_zk.commit_file(data, tree=tree)))
    return out


def test_catalogue_matches_the_reference(tmp_path: Path) -> None:
    files = _files(tmp_path, [10, 2000, 992, 5000, 3])
    cat = Catalogue()
    assert [cat.add(f[2]) for f in files] == [0, 1, 2, 3, 4]
    cat.remove(2)
    assert cat.count == 5 and cat.file(2) is None
    leaves = [f[2].commitment for f in files]
    leaves[2] = 0
    assert cat.leaves == leaves
    assert cat.root == ref.catalogue_root(leaves)
    assert cat.commitment == ref.catalogue_commitment(ref.catalogue_root(leaves), 5)
    for slot in (0, 2, 4):
        assert cat.opening(slot) == ref.catalogue_path(leaves, slot)
    # Removing again, or a slot out of range, is an error; count never shrinks.
    with pytest.raises(ParameterError, match="already empty"):
        cat.remove(2)
    with pytest.raises(IndexError):
        cat.opening(5)
    assert cat.add(files[0][2]) == 5  # the next slot, not the freed one
    # Save/load round trip (atomic write); malformed files are DecodeError.
    path = tmp_path / "catalogue.json"
    cat.save(path)
    again = Catalogue.load(path)
    assert again.leaves == cat.leaves and again.commitment == cat.commitment
    obj = json.loads(path.read_text())
    for bad in [
        {**obj, "type": "x"},
        {**obj, "slots": "nope"},
        {**obj, "slots": [*obj["slots"][:-1], "0x00"]},
        {**obj, "slots": [*obj["slots"][:-1], 5]},
    ]:
        with pytest.raises(DecodeError):
            Catalogue.from_json(json.dumps(bad))
    # The empty catalogue: K = Poseidon(Z_16, 0), the registry's starting point.
    zero = 0
    for _ in range(16):
        zero = bigfile_zk.poseidon([zero, zero])
    assert Catalogue().commitment == bigfile_zk.poseidon([zero, 0])
    other_layout = tmp_path / "o.bin"
    other_layout.write_bytes(b"x" * 100)
    with pytest.raises(ParameterError, match="992-byte chunks"):
        Catalogue().add(bigfile_zk.commit_file(other_layout, chunk_size=62))
    with pytest.raises(TypeError):
        Catalogue().add(123)  # type: ignore[arg-type]


def test_native_sampling_matches_the_reference() -> None:
    p = int(PROVER, 16)
    for seed, count in [(1, 1), (2, 7), (SEED, 10_000), (3, 2**16)]:
        assert _native.epoch_slots(seed, p, 40, count) == ref.slots(seed, p, 40, count)
        for j in (0, 39):
            assert _native.epoch_chunk_challenges(seed, p, j, 1, 1000) == ref.chunk_challenges(
                seed, p, j, 1, 1000
            )
    with pytest.raises(ParameterError):
        _native.epoch_slots(1, 2, 40, 0)


@pytest.fixture(scope="module")
def proven(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Catalogue, list[tuple[Path, Path, bigfile_zk.FileCommitment]], EpochProof]:
    tmp = tmp_path_factory.mktemp("epoch")
    files = _files(tmp, [100 + 700 * i for i in range(12)])
    cat = Catalogue(f[2] for f in files)
    cat.remove(5)
    given = {slot: (f[0], f[1]) for slot, f in enumerate(files) if slot != 5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        proof = prove_epoch(cat, given, SEED, PROVER)
    return cat, files, proof


def test_an_honest_epoch_proof_verifies_for_its_statement_only(
    proven: tuple[Catalogue, list[tuple[Path, Path, bigfile_zk.FileCommitment]], EpochProof],
) -> None:
    cat, files, proof = proven
    assert 5 in ref.slots(SEED, int(PROVER, 16), 40, 12)  # the removed slot is sampled too
    ok = {"seed": SEED, "prover": PROVER, "allow_insecure_srs": True}
    assert verify_epoch(proof, catalogue=cat, **ok)
    assert verify_epoch(proof, catalogue=hex(cat.commitment), **ok)
    # Through JSON; a tampered claimed statement is refused even though the proof is honest.
    again = EpochProof.from_json(proof.to_json())
    assert verify_epoch(again, catalogue=cat, **ok)
    assert not verify_epoch(dataclasses.replace(again, seed=SEED + 1), catalogue=cat, **ok)
    # Another seed, provider, parameter set or catalogue: False.
    assert not verify_epoch(proof, catalogue=cat, seed=SEED + 1, prover=PROVER, **_insecure())
    assert not verify_epoch(proof, catalogue=cat, seed=SEED, prover="0x" + "cd" * 20, **_insecure())
    assert not verify_epoch(proof, catalogue=cat, params=(80, 1), **ok)
    newer = Catalogue(cat.file(i) for i in range(cat.count))
    newer.add(files[5][2])  # a file added after the proof: the old proof is stale
    assert not verify_epoch(proof, catalogue=newer, **ok)
    # The proof checked with the expected statement (not its own): a forged claim fails too.
    forged = dataclasses.replace(proof, catalogue=newer.commitment)
    assert not verify_epoch(forged, catalogue=newer, **ok)
    # Safe defaults: the insecure test SRS needs an explicit opt-in.
    with pytest.raises(InsecureSRSError):
        verify_epoch(proof, catalogue=cat, seed=SEED, prover=PROVER)
    with pytest.raises(ParameterError):
        verify_epoch(proof, catalogue=cat, params=(40, 2), **ok)
    bad = json.loads(proof.to_json())
    bad["public_inputs"][1] = "5"
    with pytest.raises(DecodeError):
        EpochProof.from_json(json.dumps(bad))


def _insecure() -> dict[str, bool]:
    return {"allow_insecure_srs": True}


def test_proving_refuses_missing_or_changed_files(
    proven: tuple[Catalogue, list[tuple[Path, Path, bigfile_zk.FileCommitment]], EpochProof],
    tmp_path: Path,
) -> None:
    cat, files, _ = proven
    sampled = ref.slots(SEED, int(PROVER, 16), 40, cat.count)
    slot = next(s for s in sampled if s != 5)
    given = {s: (f[0], f[1]) for s, f in enumerate(files) if s not in (5, slot)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        with pytest.raises(ParameterError, match=f"slot {slot}"):
            prove_epoch(cat, given, SEED, PROVER)
        # A file given for an empty slot, or one not in the catalogue, is a caller's mistake.
        with pytest.raises(ParameterError, match="empty"):
            prove_epoch(cat, {5: (files[5][0], None)}, SEED, PROVER)
        with pytest.raises(ParameterError, match="not in the catalogue"):
            prove_epoch(cat, {files[5][2]: (files[5][0], None)}, SEED, PROVER)
        # The sampled file changed on disk (same size): the opening does not match.
        changed = tmp_path / "changed.bin"
        data = bytearray(files[slot][0].read_bytes())
        data[0] ^= 1
        changed.write_bytes(bytes(data))
        given[slot] = (changed, None)
        with pytest.raises(CommitmentMismatchError):
            prove_epoch(cat, given, SEED, PROVER)
