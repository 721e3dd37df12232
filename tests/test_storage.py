"""Proof-of-storage from Python: prove from a file on disk, verify, and every cheat refused."""

from __future__ import annotations

import functools
import json
import re
import warnings
from pathlib import Path

import pytest
from evm_circuits import square  # tests/ is on sys.path (conftest.py)

import bigfile_zk
from bigfile_zk import SRS, storage
from bigfile_zk.errors import (
    CommitmentMismatchError,
    DecodeError,
    InsecureSRSError,
    InsecureSRSWarning,
    ParameterError,
)

K = 4
PROVER = "0x" + "ab" * 20


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(5 * 2**14 + 9, 3)


def verified(proof: storage.StorageProof, c: object, seed: object, prover: str = PROVER) -> bool:
    """``storage.verify`` for the expected statement, with the tests' insecure SRS (opted in)."""
    return storage.verify(
        proof, commitment=c, seed=seed, prover=prover, k=K, srs=srs(), allow_insecure_srs=True
    )


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
    assert verified(proof, c, 12345)
    assert proof.public_inputs == [c.commitment, 12345, int(PROVER, 16)]
    assert proof.insecure_test_srs is True  # the key's SRS, recorded (informative only)
    again = storage.StorageProof.from_json(proof.to_json())
    assert (again.k, again.public_inputs, again.insecure_test_srs) == (K, proof.public_inputs, True)
    assert again.proof.to_bytes() == proof.proof.to_bytes() and verified(again, c, 12345)
    assert '"insecure_test_srs": true' in proof.to_json()
    # Without the tree file the same statement is proved (paths rebuilt from the file).
    assert verified(storage.prove(path, c, seed=12345, prover=PROVER, k=K, srs=srs()), c, 12345)


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
        assert not bigfile_zk.plonk.verify(vk, proof.proof, public, allow_insecure_srs=True)


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
    # Digits of other scripts are digits to str.isdigit and int(), never to a parser here.
    for text in ("\u0663", "1\u0662", "\uff11"):
        with pytest.raises(ParameterError, match="neither decimal nor 0x-hex"):
            storage.parse_commitment(text)
        with pytest.raises(ParameterError, match="neither decimal nor 0x-hex"):
            storage.parse_seed(text)
    assert storage.parse_commitment(" 12 ") == 12
    with pytest.raises(DecodeError):
        storage.StorageProof.from_json("{}")


def test_cli_commit_prove_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bigfile_zk.cli import main

    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 40)
    assert main(["storage", "commit", str(path), "-q"]) == 0
    cjson = tmp_path / "f.bin.commitment.json"
    c = bigfile_zk.FileCommitment.from_json(cjson.read_text())
    out = tmp_path / "proof.json"
    args = ["storage", "prove", str(path), "--seed", "0x99", "--prover", PROVER]
    with pytest.warns(bigfile_zk.errors.InsecureSRSWarning):  # proving may use it, warned
        assert main([*args, "--out", str(out), "--k", "4", "-q"]) == 0
    capsys.readouterr()
    expected = ["--commitment", str(cjson), "--seed", "153", "--prover", PROVER, "--k", "4"]
    verify = ["storage", "verify", str(out), *expected]
    assert main([*verify, "--insecure-test-srs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"commitment   0x{c.commitment:064x}",
        "seed         153",
        f"prover       {PROVER}",
        "k            4",
        "SRS          INSECURE test SRS (--insecure-test-srs: anyone can forge proofs; "
        "tests/demos only)",
        "valid",
    ]
    # The commitment may be given as C itself.
    hex_c = ["--commitment", f"0x{c.commitment:064x}"]
    assert main([*verify, *hex_c, "--insecure-test-srs"]) == 0
    capsys.readouterr()
    # Not a library error: bad input (a seed that is no number) is a one-line error, exit 2.
    assert main([*verify, "--seed", "x", "--insecure-test-srs"]) == 2
    assert (
        main(["storage", "prove", str(path), "--seed", "x", "--prover", PROVER, "--out", str(out)])
        == 2
    )
    # All three of commitment, seed and prover are required.
    for flag in ("--commitment", "--seed", "--prover"):
        i = verify.index(flag)
        with pytest.raises(SystemExit) as exit_:
            main([*verify[:i], *verify[i + 2 :], "--insecure-test-srs"])
        assert exit_.value.code == 2


def test_cli_verify_rejects_another_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 1 (seed grinding): a proof honestly made for a seed the provider picked is
    INVALID for the seed the verifier expects, even though it is consistent with itself."""
    from bigfile_zk.cli import main

    path, c, tree = make_file(tmp_path, 12 * 992)
    with pytest.warns(InsecureSRSWarning):  # the CLI's --insecure-test-srs: the embedded one
        proof = storage.prove(path, c, seed=153, prover=PROVER, k=K, tree=tree)
    out = tmp_path / "proof.json"
    out.write_text(proof.to_json())
    cjson = tmp_path / "c.json"
    cjson.write_text(c.to_json())
    base = ["storage", "verify", str(out), "--commitment", str(cjson), "--prover", PROVER]
    base += ["--k", "4", "--insecure-test-srs"]
    assert main([*base, "--seed", "153"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "valid"
    assert main([*base, "--seed", "154"]) == 1
    text = capsys.readouterr().out
    assert "seed         154" in text and "claims another statement (seed = 153)" in text
    assert text.splitlines()[-1] == "INVALID"
    # The file doctored to claim the expected seed (statement fields and public inputs
    # edited consistently) is still INVALID: the proof is checked for the expected statement.
    obj = json.loads(out.read_text())
    obj["seed"] = "154"
    obj["public_inputs"][1] = "154"
    out.write_text(json.dumps(obj))
    assert main([*base, "--seed", "154"]) == 1
    text = capsys.readouterr().out
    assert "claims" not in text and text.splitlines()[-1] == "INVALID"
    # A k = 4 proof is not a k = 16 proof.
    out.write_text(proof.to_json())
    k16 = [a if a != "4" else "16" for a in base]
    assert main([*k16, "--seed", "153"]) == 1
    assert "claims another statement (k = 4)" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["verify", "verifier"])
def test_cli_refuses_the_insecure_srs_without_opt_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Finding 2: without --ptau, `storage verify` and `storage verifier` stop with one line
    naming --ptau and --insecure-test-srs (exit 2), before deriving any key."""
    from bigfile_zk.cli import main

    if command == "verify":
        path, c, tree = make_file(tmp_path, 3 * 992)
        proof = storage.prove(path, c, seed=1, prover=PROVER, k=K, srs=srs(), tree=tree)
        (tmp_path / "p.json").write_text(proof.to_json())
        argv = ["storage", "verify", str(tmp_path / "p.json"), "--k", "4"]
        argv += ["--commitment", str(c.commitment), "--seed", "1", "--prover", PROVER]
    else:
        argv = ["storage", "verifier", "--k", "4", "--out", str(tmp_path / "V.sol")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert "insecure test SRS" in line and "--ptau" in line and "--insecure-test-srs" in line
    assert captured.out == "" and not (tmp_path / "V.sol").exists()
    with pytest.raises(SystemExit):  # one or the other
        main([*argv, "--ptau", "x.ptau", "--insecure-test-srs"])
    capsys.readouterr()
    if command == "verifier":
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # opted in: the note says it, no warning
            assert main([*argv, "--insecure-test-srs"]) == 0
        assert "INSECURE_TEST_SRS = true" in capsys.readouterr().err
        assert "bool public constant INSECURE_TEST_SRS = true;" in (tmp_path / "V.sol").read_text()


def test_verify_takes_the_expected_statement(tmp_path: Path) -> None:
    """Finding 1: storage.verify checks the caller's statement, never the proof file's."""
    path, c, tree = make_file(tmp_path, 40 * 992 + 1)
    _, c2, _ = make_file(tmp_path, 40 * 992 + 2, name="other.bin")
    other = "0x" + "cd" * 20
    s1, s2 = 1000, 1001
    proof = storage.prove(path, c, seed=s1, prover=PROVER, k=K, srs=srs(), tree=tree)
    # The statement is required: there is no way to ask "is this proof valid" without it.
    with pytest.raises(TypeError):
        storage.verify(proof, srs=srs(), allow_insecure_srs=True)  # type: ignore[call-arg]
    assert verified(proof, c, s1) and verified(proof, c.commitment, s1)
    assert verified(proof, f"0x{c.commitment:064x}", str(s1), PROVER.upper().replace("X", "x"))
    # Ground for s1, presented for s2 (the chain's seed): refused. Likewise another file or
    # another provider.
    assert not verified(proof, c, s2)
    assert not verified(proof, c2, s1)
    assert not verified(proof, c, s1, other)
    assert storage.statement_differences(proof, commitment=c, seed=s2, prover=PROVER, k=K) == [
        "seed"
    ]
    assert storage.statement_differences(proof, commitment=c2, seed=s1, prover=other, k=16) == [
        "k",
        "commitment",
        "prover",
    ]
    assert storage.statement_differences(proof, commitment=c, seed=s1, prover=PROVER, k=K) == []
    # The JSON doctored to claim the expected statement is not valid for it.
    for field, value, expect in (
        ("seed", str(s2), (c, s2, PROVER)),
        ("commitment", f"0x{c2.commitment:064x}", (c2, s1, PROVER)),
        ("prover", other, (c, s1, other)),
    ):
        obj = json.loads(proof.to_json())
        obj[field] = value
        obj["public_inputs"] = [
            str(x) for x in storage.StorageProof.from_json(proof.to_json()).public_inputs
        ]
        index = ["commitment", "seed", "prover"].index(field)
        obj["public_inputs"][index] = str(int(value, 16) if value.startswith("0x") else int(value))
        doctored = storage.StorageProof.from_json(json.dumps(obj))
        assert not verified(doctored, *expect), field
        assert not verified(doctored, c, s1, PROVER), field  # no longer claims the truth
    # A weaker parameter set does not pass for a stronger one.
    for k in (16, 64):
        assert not storage.verify(
            proof, commitment=c, seed=s1, prover=PROVER, k=k, srs=srs(), allow_insecure_srs=True
        )
    # A malformed expected statement raises.
    for bad, error in (
        ({"commitment": bigfile_zk.MODULUS}, bigfile_zk.errors.FieldElementError),
        ({"commitment": -1}, bigfile_zk.errors.FieldElementError),
        ({"commitment": True}, TypeError),
        ({"commitment": "C"}, ParameterError),
        ({"seed": bigfile_zk.MODULUS}, ParameterError),
        ({"prover": "0x1234"}, ParameterError),
        ({"prover": 2**160}, ParameterError),
    ):
        statement = {"commitment": c, "seed": s1, "prover": PROVER, **bad}
        with pytest.raises(error):
            storage.verify(proof, **statement, k=K, srs=srs(), allow_insecure_srs=True)
    # A key that is not the storage key of parameter set k is the caller's mistake.
    square_vk = bigfile_zk.plonk.setup(square, srs()).vk
    _, vk = storage.keys(K, srs())
    with pytest.raises(ParameterError, match="not a storage verifying key"):
        storage.verify(
            proof, commitment=c, seed=s1, prover=PROVER, k=K, vk=square_vk, allow_insecure_srs=True
        )
    with pytest.raises(ParameterError, match="not a storage verifying key"):
        storage.verify(
            proof, commitment=c, seed=s1, prover=PROVER, k=16, vk=vk, allow_insecure_srs=True
        )
    assert storage.verify(
        proof, commitment=c, seed=s1, prover=PROVER, k=K, vk=vk, allow_insecure_srs=True
    )


def test_verify_refuses_the_insecure_srs_without_opt_in(tmp_path: Path) -> None:
    """Finding 2: verification never trusts the insecure test SRS by default."""
    path, c, tree = make_file(tmp_path, 5 * 992)
    statement = {"commitment": c, "seed": 9, "prover": PROVER, "k": K}
    proof = storage.prove(path, c, 9, PROVER, k=K, srs=srs(), tree=tree)
    _, vk = storage.keys(K, srs())
    with pytest.raises(InsecureSRSError, match="allow_insecure_srs"):
        storage.verify(proof, **statement)  # no SRS: the test SRS would be used
    with pytest.raises(InsecureSRSError):
        storage.verify(proof, **statement, srs=srs())
    with pytest.raises(InsecureSRSError):
        storage.verify(proof, **statement, vk=vk)
    with pytest.raises(InsecureSRSError):  # whatever the answer would have been
        storage.verify(proof, **{**statement, "seed": 10}, srs=srs())
    assert storage.verify(proof, **statement, srs=srs(), allow_insecure_srs=True)
    assert storage.verify(proof, **statement, vk=vk, allow_insecure_srs=True)
    # The default (embedded) test SRS with the opt-in: proving warns, verifying does not.
    with pytest.warns(InsecureSRSWarning):
        default = storage.prove(path, c, 9, PROVER, k=K, tree=tree)
    assert default.insecure_test_srs is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert storage.verify(default, **statement, allow_insecure_srs=True)
        assert not storage.verify(proof, **statement, allow_insecure_srs=True)  # other SRS
    # The proof file's own claim about its SRS is informative only: flipping it changes
    # nothing for the verifier.
    obj = json.loads(proof.to_json())
    obj["insecure_test_srs"] = False
    claimed_secure = storage.StorageProof.from_json(json.dumps(obj))
    assert claimed_secure.insecure_test_srs is False
    with pytest.raises(InsecureSRSError):
        storage.verify(claimed_secure, **statement, srs=srs())
    del obj["insecure_test_srs"]  # files from before the field: unknown
    assert storage.StorageProof.from_json(json.dumps(obj)).insecure_test_srs is None
    obj["insecure_test_srs"] = "no"
    with pytest.raises(DecodeError):
        storage.StorageProof.from_json(json.dumps(obj))


# Sizes at the edges: one byte (one chunk, depth 0), exactly one chunk, one byte more, the
# first power-of-two boundaries of the tree, and a partial last chunk after a full subtree.
@pytest.mark.parametrize(
    "size", [1, 991, 992, 993, 2 * 992, 2 * 992 + 1, 4 * 992, 4 * 992 + 1, 64 * 992 + 17]
)
def test_file_sizes_at_leaf_and_tree_boundaries(tmp_path: Path, size: int) -> None:
    path, c, tree = make_file(tmp_path, size)
    proof = storage.prove(path, c, seed=size, prover=PROVER, k=K, srs=srs(), tree=tree)
    assert verified(proof, c, size)
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
    assert verified(
        storage.prove(path, c, seed=seed, prover=PROVER, k=K, srs=srs(), tree=tree), c, seed
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
    assert verified(proof, c_changed, 1)
    assert not verified(proof, c, 1)
    _, vk = storage.keys(K, srs())
    assert not bigfile_zk.plonk.verify(
        vk, proof.proof, [c.commitment, 1, int(PROVER, 16)], allow_insecure_srs=True
    )


def test_proof_is_bound_to_seed_prover_and_file(tmp_path: Path) -> None:
    path, c, tree = make_file(tmp_path, 30 * 992)
    _, c2, _ = make_file(tmp_path, 30 * 992 + 1, name="b.bin")
    a, b = "0x" + "0a" * 20, "0x" + "0b" * 20
    proof = storage.prove(path, c, seed=5, prover=a, k=K, srs=srs(), tree=tree)
    _, vk = storage.keys(K, srs())
    assert bigfile_zk.plonk.verify(
        vk, proof.proof, [c.commitment, 5, int(a, 16)], allow_insecure_srs=True
    )
    for public in (
        [c.commitment, 6, int(a, 16)],  # seed s' != s
        [c.commitment, 5, int(b, 16)],  # provider B replays A's proof
        [c2.commitment, 5, int(a, 16)],  # another file
        [c.commitment, 5 + bigfile_zk.MODULUS, int(a, 16)],  # s + r: not a field element
    ):
        try:
            assert not bigfile_zk.plonk.verify(vk, proof.proof, public, allow_insecure_srs=True)
        except ValueError:  # a public input >= r is refused outright
            assert public[1] >= bigfile_zk.MODULUS


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


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
    honest = path.read_bytes()
    # A damaged cache file is replaced, with a warning, by a fresh setup.
    for damaged, why in [
        (honest[:-100], "truncated"),
        (honest[:-32] + b"\xff" * 32, "not below the modulus"),
        (flip(honest, len(honest) // 2), "coset values|modulus"),
        (flip(honest, len(honest) // 50), "coefficients are not|modulus"),
        (flip(honest, 100), "verifying key"),
        (honest + b"\0", "trailing bytes"),
        (b"BFPK" + honest[4:], "does not start with BFPC"),
    ]:
        path.write_bytes(damaged)
        monkeypatch.setattr(storage, "_KEYS", {})
        with pytest.warns(RuntimeWarning, match=f"ignoring the cached key .*({why})"):
            _, vk3 = storage.keys(K, srs())
        assert vk3.to_bytes() == vk.to_bytes()
        assert path.read_bytes() == honest  # rewritten
    assert bigfile_zk._native.storage_load_key(path, K, srs()).vk.to_bytes() == vk.to_bytes()
    # Another circuit's key under this name is refused (it is not this circuit).
    other = bigfile_zk.plonk.setup(square, srs())
    other.save_cache(path)
    monkeypatch.setattr(storage, "_KEYS", {})
    with pytest.warns(RuntimeWarning, match="is not the circuit's"):
        storage.keys(K, srs())
    # Another SRS gets another key file; no cache: nothing written.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        srs2 = SRS.insecure_for_testing(storage.srs_degree(K), 9)
    # The right circuit made with another SRS (e.g. planted by whoever can write the cache:
    # its τ would let them forge proofs) is refused too, and replaced.
    planted = storage.keys(K, srs2, cache=False)[0]
    planted.save_cache(path)
    monkeypatch.setattr(storage, "_KEYS", {})
    with pytest.warns(RuntimeWarning, match="not the circuit's under this SRS"):
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
    assert verified(proof, c, 3)
    assert seen[-1] == len(data) + bigfile_zk._native.PROVE_STEPS
    # An open file with the tree file: only the challenged chunks are read; the reader's
    # position is left where it was.
    with open(path, "rb") as f:
        f.seek(123)
        assert verified(storage.prove(f, c, 4, PROVER, k=K, srs=srs(), tree=tree), c, 4)
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


def test_a_new_key_cache_replaces_the_old_format_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing FILE.pkc removes the same key's FILE.pk of the format before (hundreds of MB at
    2^18, never read again); other files in the key directory stay."""
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path))
    monkeypatch.setattr(storage, "_KEYS", {})
    path = storage.key_path(4, srs())
    assert path.suffix == ".pkc"
    path.parent.mkdir(parents=True)
    old, other = path.with_suffix(".pk"), path.with_name("compute-x.pk")
    old.write_bytes(b"BFPK old")
    other.write_bytes(b"BFPK other")
    storage.keys(4, srs())
    assert path.is_file() and not old.exists() and other.exists()
