"""Proof-of-storage from Python: prove from a file on disk, verify, and every cheat refused."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import pytest
from evm_circuits import square  # tests/ is on sys.path (conftest.py)

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


def make_file(
    tmp_path: Path, size: int, name: str = "data.bin"
) -> tuple[Path, bigfile_zk.FileCommitment, Path]:
    path = tmp_path / name
    path.write_bytes(bytes((i * 31 + i // 992) % 256 for i in range(size)))
    tree = tmp_path / f"{name}.bfzt"
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


# Sizes at the edges: one byte (one chunk, depth 0), exactly one chunk, one byte more, the
# first power-of-two boundaries of the tree, and a partial last chunk after a full subtree.
@pytest.mark.parametrize(
    "size", [1, 991, 992, 993, 2 * 992, 2 * 992 + 1, 4 * 992, 4 * 992 + 1, 64 * 992 + 17]
)
def test_file_sizes_at_leaf_and_tree_boundaries(tmp_path: Path, size: int) -> None:
    path, c, tree = make_file(tmp_path, size)
    proof = storage.prove(path, c, seed=size, prover=PROVER, k=K, srs=srs(), tree=tree)
    assert storage.verify(proof, srs=srs())
    for i in storage.challenges(size, PROVER, c.num_chunks, k=K):
        assert 0 <= i < c.num_chunks


def test_empty_file_is_rejected_clearly(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with pytest.raises(ParameterError, match="empty"):
        bigfile_zk.commit_file(path)


def test_tree_or_not_same_statement_and_whole_file_checked(tmp_path: Path) -> None:
    path, c, tree = make_file(tmp_path, 1000 * 992 + 3)
    seed = 777
    challenged = storage.challenges(seed, PROVER, c.num_chunks, k=K)
    # A chunk far from every challenged one (the tree file stores nodes of <= 64 chunks).
    spare = next(i for i in range(c.num_chunks) if all(abs(i - j) >= 64 for j in challenged))
    data = bytearray(path.read_bytes())
    data[spare * 992] ^= 0x80  # one byte of a chunk this challenge does not ask for
    path.write_bytes(bytes(data))
    # Without a tree file the whole file is hashed once, so any change is refused ...
    with pytest.raises(CommitmentMismatchError):
        storage.prove(path, c, seed=seed, prover=PROVER, k=K, srs=srs())
    # ... with one, only the challenged chunks are read: this challenge misses the change
    # (detection is probabilistic, docs/spec/proof-of-storage.md), another one finds it and
    # names the chunks around it.
    assert storage.verify(
        storage.prove(path, c, seed=seed, prover=PROVER, k=K, srs=srs(), tree=tree), srs=srs()
    )
    hit = next(
        s for s in range(10_000) if spare in storage.challenges(s, PROVER, c.num_chunks, k=K)
    )
    with pytest.raises(CommitmentMismatchError) as err:
        storage.prove(path, c, seed=hit, prover=PROVER, k=K, srs=srs(), tree=tree)
    found = re.search(r"chunks (\d+)\.\.=(\d+)", str(err.value))
    assert found and int(found[1]) <= spare <= int(found[2])


def test_one_changed_byte_gives_no_accepted_proof(tmp_path: Path) -> None:
    """The prover refuses the changed file, and the changed file's own proof does not verify
    for the original commitment (the circuit's refusal of a wrong chunk with the right
    commitment is tested natively in circuits/tests/storage.rs)."""
    path, c, _ = make_file(tmp_path, 9 * 992)
    changed = tmp_path / "changed.bin"
    data = bytearray(path.read_bytes())
    data[4 * 992 + 500] ^= 1
    changed.write_bytes(bytes(data))
    with pytest.raises(CommitmentMismatchError):
        storage.prove(changed, c, seed=1, prover=PROVER, k=K, srs=srs())
    c_changed = bigfile_zk.commit_file(changed)
    proof = storage.prove(changed, c_changed, seed=1, prover=PROVER, k=K, srs=srs())
    assert storage.verify(proof, srs=srs())
    _, vk = storage.keys(K, srs())
    assert not bigfile_zk.plonk.verify(vk, proof.proof, [c.commitment, 1, int(PROVER, 16)])


def test_proof_is_bound_to_seed_prover_and_file(tmp_path: Path) -> None:
    path, c, tree = make_file(tmp_path, 30 * 992)
    _, c2, _ = make_file(tmp_path, 30 * 992 + 1, name="b.bin")
    a, b = "0x" + "0a" * 20, "0x" + "0b" * 20
    proof = storage.prove(path, c, seed=5, prover=a, k=K, srs=srs(), tree=tree)
    _, vk = storage.keys(K, srs())
    assert bigfile_zk.plonk.verify(vk, proof.proof, [c.commitment, 5, int(a, 16)])
    for public in (
        [c.commitment, 6, int(a, 16)],  # seed s' != s
        [c.commitment, 5, int(b, 16)],  # provider B replays A's proof
        [c2.commitment, 5, int(a, 16)],  # another file
        [c.commitment, 5 + bigfile_zk.MODULUS, int(a, 16)],  # s + r: not a field element
    ):
        try:
            assert not bigfile_zk.plonk.verify(vk, proof.proof, public)
        except ValueError:  # a public input >= r is refused outright
            assert public[1] >= bigfile_zk.MODULUS


def test_keys_are_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(storage, "_KEYS", {})
    pk, vk = storage.keys(K, srs())
    [path] = (tmp_path / "cache" / "keys").iterdir()
    assert storage.srs_digest(srs(), K)[:32] in path.name
    # A new process (an empty memory cache) reads the same key back.
    monkeypatch.setattr(storage, "_KEYS", {})
    pk2, vk2 = storage.keys(K, srs())
    assert vk2.to_bytes() == vk.to_bytes() and pk2.to_bytes() == pk.to_bytes()
    # A damaged cache file is replaced, with a warning, by a fresh setup.
    path.write_bytes(path.read_bytes()[:-100])
    monkeypatch.setattr(storage, "_KEYS", {})
    with pytest.warns(RuntimeWarning, match="ignoring the cached key"):
        _, vk3 = storage.keys(K, srs())
    assert vk3.to_bytes() == vk.to_bytes()
    assert bigfile_zk.plonk.ProvingKey.from_bytes(path.read_bytes()).vk.to_bytes() == vk.to_bytes()
    # Another parameter set's key under this name is refused (it is not this circuit).
    other = bigfile_zk.plonk.setup(square, srs())
    path.write_bytes(other.to_bytes())
    monkeypatch.setattr(storage, "_KEYS", {})
    with pytest.warns(RuntimeWarning, match="not the storage circuit for k = 4"):
        storage.keys(K, srs())
    # Another SRS gets another key file; no cache: nothing written.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        srs2 = SRS.insecure_for_testing(storage.srs_degree(K), 9)
    # The right circuit made with another SRS (e.g. planted by whoever can write the cache:
    # its τ would let them forge proofs) is refused too, and replaced.
    planted = storage.keys(K, srs2, cache=False)[0]
    path.write_bytes(planted.to_bytes())
    monkeypatch.setattr(storage, "_KEYS", {})
    with pytest.warns(RuntimeWarning, match="not made with this SRS"):
        _, vk4 = storage.keys(K, srs())
    assert vk4.to_bytes() == vk.to_bytes()
    monkeypatch.setattr(storage, "_KEYS", {})
    storage.keys(K, srs2, cache=False)
    assert len(list((tmp_path / "cache" / "keys").glob("storage-k4-*"))) == 1
    monkeypatch.setattr(storage, "_KEYS", {})
    storage.keys(K, srs2)
    assert len(list((tmp_path / "cache" / "keys").glob("storage-k4-*"))) == 2


def test_srs_too_small_is_named() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = SRS.insecure_for_testing(1000)
    with pytest.raises(ParameterError, match="too small for parameter set k = 4"):
        storage.keys(K, small)


def test_prove_from_a_reader(tmp_path: Path) -> None:
    import io

    path, c, tree = make_file(tmp_path, 40 * 992 + 9)
    data = path.read_bytes()
    seen: list[int] = []
    # An in-memory reader without a tree file: hashed once, counted in bytes, then 14 steps.
    proof = storage.prove(io.BytesIO(data), c, 3, PROVER, k=K, srs=srs(), on_progress=seen.append)
    assert storage.verify(proof, srs=srs())
    assert seen[-1] == len(data) + bigfile_zk._native.PROVE_STEPS
    # An open file with the tree file: only the challenged chunks are read; the reader's
    # position is left where it was.
    with open(path, "rb") as f:
        f.seek(123)
        assert storage.verify(storage.prove(f, c, 4, PROVER, k=K, srs=srs(), tree=tree), srs=srs())
        assert f.tell() == 123

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            out = super().read(n)
            Counting.read_bytes += len(out)
            return out

    storage.prove(Counting(data), c, 5, PROVER, k=K, srs=srs(), tree=tree)
    assert Counting.read_bytes <= K * 64 * 992  # the chunk groups under stored nodes, not 40k

    changed = bytearray(data)
    changed[7] ^= 1
    with pytest.raises(CommitmentMismatchError):
        storage.prove(io.BytesIO(bytes(changed)), c, 3, PROVER, k=K, srs=srs())
    with pytest.raises(CommitmentMismatchError, match="reader holds"):
        storage.prove(io.BytesIO(data[:-1]), c, 3, PROVER, k=K, srs=srs())

    class Broken(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            raise ConnectionError("storage node went away")

    with pytest.raises(ConnectionError, match="went away"):
        storage.prove(Broken(data), c, 3, PROVER, k=K, srs=srs())

    class Text(io.BytesIO):
        def read(self, n: int | None = -1) -> str:  # type: ignore[override]
            return "abc"

    with pytest.raises(TypeError, match="must return bytes"):
        storage.prove(Text(data), c, 3, PROVER, k=K, srs=srs())
    with pytest.raises(TypeError, match="path or a binary reader"):
        storage.prove(12, c, 3, PROVER, k=K, srs=srs())  # type: ignore[arg-type]


def test_cli_writes_the_registry(tmp_path: Path) -> None:
    from bigfile_zk import evm
    from bigfile_zk.cli import main

    out = tmp_path / "StorageRegistry.sol"
    assert main(["storage", "registry", "--out", str(out)]) == 0
    assert out.read_text() == evm.registry_source()
    text = out.read_text()
    # One self-contained file: the registry, the randomness interfaces and both sources.
    for declared in (
        "contract StorageRegistry",
        "interface IRandomnessSource",
        "interface IRandomnessBeacon",
        "contract BlockRandomness is IRandomnessSource",
        "contract BeaconRandomness is IRandomnessSource",
    ):
        assert declared in text
    assert "import " not in text


def test_from_json_of_deep_nesting_after_py_ecc_does_not_crash() -> None:
    """py_ecc (the reference verifier, the demo) raises the recursion limit to 100000: the C
    JSON parser then overflows the stack on deep nesting instead of raising. In a subprocess:
    before the fix it crashed the interpreter."""
    import subprocess
    import sys

    code = (
        "import bigfile_zk.reference.plonk\n"  # imports py_ecc
        "from bigfile_zk import storage\n"
        "from bigfile_zk.errors import DecodeError\n"
        "try:\n"
        "    storage.StorageProof.from_json('[' * 200000 + ']' * 200000)\n"
        "except DecodeError as exc:\n"
        "    print('refused:', exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.startswith("refused: malformed storage proof JSON: nested deeper")


@pytest.mark.parametrize(
    "text",
    ["[]", "null", "42", "1e400", '"x"', "[" * 100_000, '{"a": NaN}', '{"type": 1e400}'],
    ids=["list", "null", "number", "huge number", "string", "deep", "NaN", "huge field"],
)
def test_from_json_of_malformed_input_is_a_decode_error(text: str) -> None:
    with pytest.raises(DecodeError, match="malformed storage proof JSON"):
        storage.StorageProof.from_json(text)
