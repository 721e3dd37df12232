"""The proof-of-compute Python API around the circuit (``docs/spec/proof-of-compute.md``,
"Python API" and "Proof JSON"): keys cached in memory and on disk and checked before use,
``vk_digest``, the insecure-SRS policy, the strict proof JSON, a verifier that reads only the
caller's statement, bad input refused by name, and Ctrl-C. The circuit itself and its
Solidity verifier on py-evm are ``test_compute_circuit.py``'s."""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bigfile_zk
from bigfile_zk import SRS, _native, _progress, compute
from bigfile_zk.compute import prover
from bigfile_zk.errors import (
    DecodeError,
    InsecureSRSError,
    InsecureSRSWarning,
    ParameterError,
)
from bigfile_zk.plonk import ProvingKey
from bigfile_zk.reference.field import R

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "quantization.json"
PROVIDER = "0x" + "cd" * 20
JOB = 4242


@functools.cache
def compiled(name: str) -> compute.CompiledModel:
    data = json.loads(VECTORS.read_text())
    (model,) = [m["model"] for m in data["models"] if m["name"] == name]
    return compute.compile(compute.QuantizedModel.from_dict(model))


@functools.cache
def srs(seed: int = 3) -> SRS:
    """Large enough for the 2^11- and 2^12-row models used here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return SRS.insecure_for_testing(5 * 2**12 + 9, seed)


@functools.cache
def small_srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return SRS.insecure_for_testing(5 * 2**11 + 9, 3)


def an_input(c: compute.CompiledModel, seed: int = 0) -> np.ndarray:
    lo, hi = c.model.input_range
    return np.random.default_rng(seed).integers(lo, hi, c.model.input_shape, endpoint=True)


@functools.cache
def proved(name: str) -> tuple[compute.CompiledModel, compute.ComputeProof, dict[str, Any]]:
    """A proof for ``name`` and the statement an honest verifier expects."""
    c = compiled(name)
    pk, _ = c.keys(srs())
    x = an_input(c)
    p = c.prove(pk, x, job=JOB, provider=PROVIDER, progress=False)
    statement = {
        "input_commitment": bigfile_zk.commit_bytes(c.model.input_bytes(x)).commitment,
        "job": JOB,
        "provider": PROVIDER,
        "outputs": c.expected_outputs(c.model.forward_int(x)),
    }
    return c, p, statement


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty disk cache and an empty in-memory key cache (restored afterwards)."""
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path))
    monkeypatch.setattr(prover, "_KEYS", type(prover._KEYS)())
    # And no test SRS in memory (another test file may have derived this size before).
    monkeypatch.setattr(bigfile_zk._cache, "_INSECURE_SRS", {})
    return tmp_path


def no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("setup ran: the key should have come from a cache")

    monkeypatch.setattr(_native, "plonk_setup", refuse)


# -- keys ------------------------------------------------------------------------------------


def test_keys_are_cached_in_memory_and_on_disk(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = compiled("dense_relu")
    pk, vk = c.keys(srs(), progress=False)
    path = c.key_path(srs())
    assert path.parent == fresh_cache / "keys"
    assert path.name == f"compute-{c.digest[:32]}-{c.srs_digest(srs())[:32]}.pkc"
    assert path.read_bytes() == cache_bytes(pk, fresh_cache)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert c.keys(srs())[0] is pk  # memory
    # Deterministic: the uncached setup gives the same key, and so the same identity.
    assert c.setup(srs()).vk.digest() == vk.digest()
    assert c.vk_digest(srs()) == "0x" + vk.digest().hex()
    # Disk: a new process (empty memory) loads it without a setup, and no warning.
    monkeypatch.setattr(prover, "_KEYS", type(prover._KEYS)())
    no_setup(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pk2, vk2 = c.keys(srs(), progress=False)
    assert pk2.to_bytes() == pk.to_bytes() and vk2.digest() == vk.digest()


def test_memory_keeps_the_last_keys(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prover, "_KEYS_IN_MEMORY", 1)
    a, b = compiled("dense_relu"), compiled("dense")
    pk_a, _ = a.keys(srs(), progress=False)
    assert a.keys(srs())[0] is pk_a
    b.keys(srs(), progress=False)
    assert list(prover._KEYS) == [(b.digest, b.srs_digest(srs()))]
    assert a.keys(srs(), progress=False)[0] is not pk_a  # from disk again


def test_a_model_is_its_vk_digest(fresh_cache: Path) -> None:
    a, b = compiled("dense_relu"), compiled("dense")
    assert a.digest != b.digest and a.key_path(srs()) != b.key_path(srs())
    assert a.vk_digest(srs()) != b.vk_digest(srs())
    assert a.vk_digest(srs()) != a.vk_digest(srs(4))  # the SRS is part of the key
    _, p, _ = proved("dense_relu")
    assert p.vk_digest == a.vk_digest(srs()) and p.insecure_test_srs


def cache_bytes(pk: ProvingKey, tmp: Path) -> bytes:
    """``pk``'s cache encoding (``ProvingKey.save_cache``)."""
    path = tmp / "encoded.pkc"
    pk.save_cache(path)
    data = path.read_bytes()
    path.unlink()
    return data


def _replace_cached_key(c: compute.CompiledModel, data: bytes) -> None:
    c.key_path(srs()).parent.mkdir(parents=True, exist_ok=True)
    c.key_path(srs()).write_bytes(data)


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("flipped byte", "coset values|modulus"),
        ("truncated", "truncated"),
        ("the checksummed encoding", "does not start with BFPC"),
        ("another model's key", "is not the circuit's"),
        ("another SRS's key", "not the circuit's under this SRS"),
    ],
)
def test_a_bad_cached_key_is_replaced(fresh_cache: Path, what: str, message: str) -> None:
    c = compiled("dense_relu")
    honest = cache_bytes(c.setup(srs()), fresh_cache)
    if what == "flipped byte":
        bad = bytearray(honest)
        bad[len(bad) // 2] ^= 1
        data = bytes(bad)
    elif what == "truncated":
        data = honest[: len(honest) // 3]
    elif what == "the checksummed encoding":
        data = c.setup(srs()).to_bytes()
    elif what == "another model's key":
        data = cache_bytes(compiled("dense").setup(srs()), fresh_cache)  # same rows
    else:
        data = cache_bytes(c.setup(srs(4)), fresh_cache)
    _replace_cached_key(c, data)
    with pytest.warns(RuntimeWarning, match=f"ignoring the cached key .*({message})"):
        pk, _ = c.keys(srs(), progress=False)
    assert cache_bytes(pk, fresh_cache) == honest
    assert c.key_path(srs()).read_bytes() == honest  # rewritten


def test_keys_without_the_disk_cache(fresh_cache: Path) -> None:
    c = compiled("dense_relu")
    c.keys(srs(), cache=False, progress=False)
    assert not (fresh_cache / "keys").exists()


def test_the_default_srs_proves_but_is_not_trusted(fresh_cache: Path) -> None:
    _, p, statement = proved("dense_relu")
    c = compiled("dense_relu")
    with pytest.warns(InsecureSRSWarning, match="proof-of-compute"):
        pk, vk = c.keys(progress=False)
    assert (
        vk.is_insecure
        and (fresh_cache / "srs" / f"insecure-seed0-{c.srs_max_degree}.srs").is_file()
    )
    p = c.prove(pk, an_input(c), job=JOB, provider=PROVIDER, progress=False)
    with pytest.raises(InsecureSRSError):
        compute.verify(vk, p, **statement)
    with pytest.raises(InsecureSRSError):
        c.verifier_solidity(vk)
    source = c.verifier_solidity(vk, allow_insecure_srs=True)
    assert "contract ComputeVerifier" in source
    assert "INSECURE_TEST_SRS = true" in source
    other_name = c.verifier_solidity(vk, contract_name="MnistVerifier", allow_insecure_srs=True)
    assert "contract MnistVerifier" in other_name
    # A key of another model's shape is refused by name.
    with pytest.raises(ParameterError, match="not a key of this model"):
        compiled("conv2d").verifier_solidity(vk, allow_insecure_srs=True)


def test_an_srs_too_small_is_named() -> None:
    c = compiled("conv2d")
    with pytest.raises(ParameterError, match=r"too small.*needs 20489"):
        c.keys(small_srs())


# -- the proof JSON --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dense_relu", "conv2d"])  # 3 outputs; 54, hashed
def test_proof_json_round_trip(name: str, tmp_path: Path) -> None:
    c, p, statement = proved(name)
    obj = json.loads(p.to_json())
    assert obj["type"] == compute.PROOF_FORMAT and obj["version"] == 1
    st = obj["statement"]
    assert st["input_commitment"] == f"0x{statement['input_commitment']:064x}"
    assert st["job"] == str(JOB) and st["provider"] == PROVIDER
    assert st["num_outputs"] == c.num_outputs
    if c.num_outputs <= compute.MAX_PUBLIC_OUTPUTS:
        assert "output_hash" not in st
        assert st["outputs"] == [str(v) for v in statement["outputs"]]
        assert p.output_hash is None
    else:
        assert "outputs" not in st
        assert st["output_hash"] == f"0x{statement['outputs'][0]:064x}" == f"0x{p.output_hash:064x}"
    assert obj["public_inputs"] == [str(v) for v in p.public_inputs]
    assert len(p.public_inputs) == c.num_public
    assert obj["proof"] == "0x" + p.proof.to_evm_bytes().hex()
    assert obj["vk_digest"] == c.vk_digest(srs()) and obj["insecure_test_srs"] is True
    assert compute.ComputeProof.from_json(p.to_json()) == p
    assert compute.ComputeProof.from_json(p.to_json().encode()) == p
    path = tmp_path / "proof.json"
    p.save(path)
    assert [f.name for f in tmp_path.iterdir()] == ["proof.json"]
    assert compute.ComputeProof.load(path) == p
    loaded = compute.ComputeProof.load(path)
    assert compute.verify(c.keys(srs())[1], loaded, **statement, allow_insecure_srs=True)


def _edit(obj: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of ``obj`` with ``path`` (dotted, ``[i]`` for list items) set, or deleted when
    ``value`` is ``DELETE``."""
    obj = json.loads(json.dumps(obj))
    *parents, last = path.split(".")
    node: Any = obj
    for part in parents:
        node = node[part]
    if last.endswith("]"):
        key, index = last[:-1].split("[")
        node[key][int(index)] = value
    elif value is DELETE:
        del node[last]
    else:
        node[last] = value
    return obj


DELETE = object()
BIG = f"0x{R:064x}"  # r itself: not a field element

MUTATIONS: list[tuple[str, object, str]] = [
    ("type", "bigfile_zk.StorageProof", "type"),
    ("version", 2, "version"),
    ("version", True, "version"),
    ("version", "1", "version"),
    ("extra", 1, "unknown 'extra'"),
    ("proof", DELETE, "no proof"),
    ("statement", [], "statement"),
    ("statement.num_outputs", "3", "num_outputs"),
    ("statement.num_outputs", 0, "num_outputs"),
    ("statement.num_outputs", True, "num_outputs"),
    ("statement.num_outputs", DELETE, "no num_outputs"),
    ("statement.num_outputs", 13, "no output_hash"),
    ("statement.output_hash", BIG, "unknown 'output_hash'"),
    ("statement.input_commitment", BIG, "input_commitment: not a field element"),
    ("statement.input_commitment", "0x01", "input_commitment: not 0x followed by 64"),
    ("statement.input_commitment", 1, "input_commitment"),
    ("statement.provider", "0x" + "CD" * 20, "provider: not 0x followed by 40 lower-case"),
    ("statement.provider", "0x" + "cd" * 21, "provider"),
    ("statement.job", JOB, "job"),
    ("statement.job", "04242", "job"),
    ("statement.job", "-1", "job"),
    ("statement.job", str(2**64), "job: .* too large"),
    ("statement.job", " 4242", "job"),
    ("statement.outputs", "1", "outputs: not a list"),
    ("statement.outputs[0]", str(R), "outputs\\[0\\]: .* too large"),
    ("statement.outputs[1]", 95, "outputs\\[1\\]"),
    ("vk_digest", "0x1234", "vk_digest"),
    ("vk_digest", None, "vk_digest"),
    ("insecure_test_srs", "true", "insecure_test_srs"),
    ("insecure_test_srs", DELETE, "no insecure_test_srs"),
    ("public_inputs", "x", "public_inputs: not a list"),
    ("public_inputs[1]", str(JOB + 1), "public_inputs: not the statement's"),
    ("public_inputs[0]", 5, "public_inputs\\[0\\]"),
    ("proof", "0x" + "ab" * 959, "proof: 959 bytes"),
    ("proof", "0xABCD", "proof: not 0x"),
    ("proof", "0x" + "00" * 960, "proof: .*"),
    ("proof", 7, "proof"),
]


@pytest.mark.parametrize(("path", "value", "message"), MUTATIONS)
def test_proof_json_decoder_is_strict(path: str, value: object, message: str) -> None:
    _, p, _ = proved("dense_relu")
    bad = json.dumps(_edit(json.loads(p.to_json()), path, value))
    with pytest.raises(DecodeError, match=f"malformed compute proof JSON: .*{message}"):
        compute.ComputeProof.from_json(bad)


@pytest.mark.parametrize(
    "text", [b"", b"\xff", "[]", "null", "{", '{"type": NaN}', "[" * 100 + "]" * 100, 7]
)
def test_proof_json_that_is_not_an_object(text: object) -> None:
    with pytest.raises(DecodeError, match="compute proof"):
        compute.ComputeProof.from_json(text)  # type: ignore[arg-type]


def test_hashed_outputs_decoder() -> None:
    _, p, _ = proved("conv2d")
    obj = json.loads(p.to_json())
    for path, value, message in [
        ("statement.num_outputs", 12, "no outputs"),
        ("statement.output_hash", "0x" + "ff" * 32, "output_hash: not a field element"),
        ("public_inputs", obj["public_inputs"][:3], "public_inputs: 3 values, expected 4"),
    ]:
        with pytest.raises(DecodeError, match=message):
            compute.ComputeProof.from_json(json.dumps(_edit(obj, path, value)))


def test_verify_reads_the_callers_statement_not_the_proofs() -> None:
    """A proof file whose claimed statement was edited (consistently, so that it decodes)
    verifies exactly when the caller's statement is the one proved."""
    c, p, statement = proved("dense_relu")
    vk = c.keys(srs())[1]
    check = functools.partial(compute.verify, vk, allow_insecure_srs=True)
    obj = json.loads(p.to_json())
    forged_outputs = [str((statement["outputs"][0] + 1) % R), *obj["statement"]["outputs"][1:]]
    edits: list[dict[str, Any]] = [
        {"statement.job": str(JOB + 1), "public_inputs[1]": str(JOB + 1)},
        {"statement.provider": "0x" + "ee" * 20, "public_inputs[2]": str(int("ee" * 20, 16))},
        {
            "statement.input_commitment": "0x" + "00" * 31 + "01",
            "public_inputs[0]": "1",
        },
        {"statement.outputs": forged_outputs, "public_inputs[3]": forged_outputs[0]},
        {"vk_digest": "0x" + "00" * 32, "insecure_test_srs": False},
    ]
    for edit in edits:
        edited = obj
        for path, value in edit.items():
            edited = _edit(edited, path, value)
        claim = compute.ComputeProof.from_json(json.dumps(edited))
        assert claim != p
        # The caller's (true) statement: still verifies.
        assert check(claim, **statement), edit
        # The claimed statement: does not (the proof is for the true one).
        claimed = {
            "input_commitment": claim.input_commitment,
            "job": claim.job,
            "provider": claim.provider,
            "outputs": list(claim.outputs),
        }
        if claimed != {**statement, "provider": int(PROVIDER, 16)}:
            assert not check(claim, **claimed), edit


# -- bad input -------------------------------------------------------------------------------

BAD_INPUTS: list[tuple[str, Callable[[np.ndarray], object], str]] = [
    ("float dtype", lambda x: x.astype(np.float64), "integer array, got dtype float64"),
    ("bool dtype", lambda x: x.astype(bool), "integer array, got dtype bool"),
    ("strings", lambda x: x.astype(str), "integer array"),
    ("object (huge ints)", lambda x: [2**70] * x.size, "integer array, got dtype object"),
    ("ragged list", lambda x: [[1, 2], [3]], "not a rectangular array"),
    ("None", lambda x: None, "integer array"),
    ("flattened", lambda x: x.ravel() if x.ndim > 1 else x[None], "shape"),
    ("one element short", lambda x: x.ravel()[:-1], "shape"),
    ("above the range", lambda x: np.full_like(x, 10**6), "outside the declared input range"),
    ("below the range", lambda x: np.full_like(x, -(10**6)), "outside the declared input range"),
]


@pytest.mark.parametrize(("what", "make", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_inputs_are_named(
    what: str, make: Callable[[np.ndarray], object], message: str
) -> None:
    c = compiled("dense_relu")
    pk, _ = c.keys(srs())
    with pytest.raises(ParameterError, match=message):
        c.prove(pk, make(an_input(c)), job=JOB, provider=PROVIDER, progress=False)


def test_bad_statement_values_are_named() -> None:
    c, p, statement = proved("dense_relu")
    pk, vk = c.keys(srs())
    x = an_input(c)
    prove = functools.partial(c.prove, pk, x, progress=False)
    with pytest.raises(TypeError, match="job must be an int"):
        prove(job="1", provider=PROVIDER)
    with pytest.raises(TypeError, match="job must be an int"):
        prove(job=True, provider=PROVIDER)
    with pytest.raises(ParameterError, match="job"):
        prove(job=2**64, provider=PROVIDER)
    with pytest.raises(ParameterError, match="address"):
        prove(job=1, provider="0x" + "zz" * 20)
    with pytest.raises(ParameterError, match="EVM address"):
        prove(job=1, provider=2**160)
    with pytest.raises(TypeError, match="ProvingKey"):
        c.prove(vk, x, job=1, provider=PROVIDER)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="pk is not a key of this model"):
        compiled("conv2d").prove(pk, x, job=1, provider=PROVIDER)
    # numpy integers are integers.
    q = prove(job=np.uint64(JOB), provider=np.int64(5))
    assert q.job == JOB and q.provider == 5

    check = functools.partial(compute.verify, vk, p, allow_insecure_srs=True)
    assert check(
        **{
            **statement,
            "job": np.int64(JOB),
            "outputs": np.array(statement["outputs"], dtype=object),
        }
    )
    with pytest.raises(ParameterError, match=r"outputs\[1\] = .* not a field element"):
        check(**{**statement, "outputs": [0, R, 0]})
    with pytest.raises(TypeError, match=r"outputs\[0\] must be an int"):
        check(**{**statement, "outputs": [True, 0, 0]})
    with pytest.raises(ParameterError, match="2 outputs, but the key's statement has 3"):
        check(**{**statement, "outputs": statement["outputs"][:2]})
    with pytest.raises(ParameterError, match="input_commitment"):
        check(**{**statement, "input_commitment": -1})
    with pytest.raises(TypeError, match="ComputeProof or a Proof"):
        compute.verify(vk, p.to_json(), **statement, allow_insecure_srs=True)  # type: ignore[arg-type]


# -- progress and Ctrl-C ---------------------------------------------------------------------


def test_ctrl_c_stops_keys_and_proving(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C lands as KeyboardInterrupt in the progress callback (the native prover polls for
    it between steps; keys between theirs): it propagates and leaves no cached key."""
    c = compiled("dense_relu")
    calls: list[int] = []
    interrupting = True

    def interrupt(self: object, done: int) -> None:
        calls.append(done)
        if interrupting and done >= 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(_progress.ProgressReporter, "__call__", interrupt)
    with pytest.raises(KeyboardInterrupt):
        c.keys(srs(), progress=False)
    assert calls == [1] and not c.key_path(srs()).exists() and not prover._KEYS
    interrupting = False
    pk, _ = c.keys(srs(), progress=False)
    assert calls == [1, 1, 2, 3] and c.key_path(srs()).exists()
    interrupting = True
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        c.prove(pk, an_input(c), job=1, provider=PROVIDER, progress=False)
    assert calls == [1]  # stopped after the first of the prover's steps
