"""The proof-of-compute circuit (``docs/spec/proof-of-compute.md``) against the oracle and as a
statement: outputs equal ``bigfile_zk.reference.compute`` on every spec-vector model and on
random inputs; a proof verifies for its statement only (input commitment, job, provider,
outputs, model); bad inputs are refused by name; the model's generated Solidity verifier
(``CompiledModel.verifier_solidity``) agrees on py-evm with the proof JSON's bytes. The API
around it (cached keys, the JSON, the SRS policy) is ``test_compute_api.py``'s."""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import bigfile_zk
from bigfile_zk import SRS, _native, compute, plonk
from bigfile_zk.errors import ParameterError
from bigfile_zk.reference.field import R

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "quantization.json"
PROVIDER = "0x" + "ab" * 20


@functools.cache
def models() -> dict[str, compute.QuantizedModel]:
    data = json.loads(VECTORS.read_text())
    return {m["name"]: compute.QuantizedModel.from_dict(m["model"]) for m in data["models"]}


@functools.cache
def compiled(name: str) -> compute.CompiledModel:
    return compute.compile(models()[name])


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(5 * 2**14 + 9, 11)


def random_input(q: compute.QuantizedModel, seed: int) -> np.ndarray:
    lo, hi = q.to_dict()["input"]["range"]
    return np.random.default_rng(seed).integers(lo, hi + 1, q.input_shape)


@pytest.mark.parametrize("name", sorted(models()))
@given(seed=st.integers(0, 2**32 - 1))
def test_circuit_outputs_are_the_oracles(name: str, seed: int) -> None:
    c = compiled(name)
    x = random_input(c.model, seed)
    y = c.model.forward_int(x)
    commitment = bigfile_zk.commit_bytes(c.model.input_bytes(x)).commitment
    # The compiler's layout; buckets wherever they apply (spec §4.2); Poseidon the other way.
    r, t, b, g, packed = c.params
    for params in (c.params, (r, t, 1, g, packed), (r, t, b, not g, packed), (r, t, b, g, False)):
        circuit, statement, _ = _native.compute_circuit(
            c.program_json, [int(v) for v in x.ravel()], 5, 7, params
        )
        circuit.check_witness()
        assert statement[:3] == [commitment, 5, 7]
        assert statement[3:] == c.expected_outputs(y)


def test_compile_reports_before_setup() -> None:
    c = compiled("cnn")
    r = c.report()
    assert r["rows"] <= 2 ** r["k"] and r["srs_max_degree"] == 5 * 2 ** r["k"] + 9
    assert r["spec_version"] == 3 and r["lookups"]
    assert r["macs"] == c.model.bounds.macs > 0
    n = 2 ** r["k"]
    assert 0 < r["predicted_prove_seconds"] < 1e-3 * n
    assert 4 * 2**10 * n < r["predicted_peak_memory_bytes"] < 16 * 2**10 * n + 2**27
    with pytest.raises(TypeError):
        compute.compile(c.model.to_dict())  # type: ignore[arg-type]


@functools.cache
def proved() -> tuple[compute.CompiledModel, plonk.ProvingKey, compute.ComputeProof, np.ndarray]:
    c = compiled("dense_relu")
    pk = c.setup(srs())
    x = random_input(c.model, 1)
    return c, pk, c.prove(pk, x, job=77, provider=PROVIDER, progress=False), x


def test_proof_verifies_for_its_statement_only() -> None:
    c, pk, p, x = proved()
    y = c.model.forward_int(x)
    commitment = bigfile_zk.commit_bytes(c.model.input_bytes(x)).commitment
    good = {
        "input_commitment": commitment,
        "job": 77,
        "provider": PROVIDER,
        "outputs": c.expected_outputs(y),
    }
    ok = functools.partial(compute.verify, pk.vk, p, allow_insecure_srs=True)
    assert ok(**good)
    assert p.input_commitment == commitment and list(p.outputs) == good["outputs"]
    for key, other in [
        ("input_commitment", (commitment + 1) % R),
        ("job", 78),
        ("provider", "0x" + "ab" * 19 + "ac"),
        ("outputs", [(good["outputs"][0] + 1) % R, *good["outputs"][1:]]),
    ]:
        assert not ok(**{**good, key: other}), key
    # Another input's statement, and another model's key.
    x2 = (x + 1).clip(*c.model.to_dict()["input"]["range"])
    c2 = bigfile_zk.commit_bytes(c.model.input_bytes(x2)).commitment
    assert not ok(**{**good, "input_commitment": c2})
    # Another model's key: refused (or, with another output count, a malformed statement).
    other = compiled("dense").setup(srs()).vk
    if other.num_public == pk.vk.num_public:
        assert not compute.verify(other, p, **good, allow_insecure_srs=True)
    else:
        with pytest.raises(ParameterError):
            compute.verify(other, p, **good, allow_insecure_srs=True)
    # The caller's statement is checked for form; the test SRS needs the opt-in.
    with pytest.raises(ParameterError):
        ok(**{**good, "outputs": [R]})
    with pytest.raises(bigfile_zk.errors.InsecureSRSError):
        compute.verify(pk.vk, p, **good)


def test_reference_verifier_agrees() -> None:
    """The pure-Python reference verifier (written from plonk.md alone) accepts the compute
    proof (spec version 3 by default) for its statement and refuses a changed output, input
    commitment, job or provider, and another model's key."""
    from bigfile_zk.reference import plonk as ref

    c, pk, p, _ = proved()
    assert pk.vk.version == 3
    vk = ref.VerifyingKey.from_bytes(pk.vk.to_bytes())
    raw = p.proof.to_evm_bytes()
    public = list(p.public_inputs)
    assert ref.verify(vk, raw, public)
    for i in (0, 1, 2, len(public) - 1):  # C_x, job, provider, the last output
        changed = list(public)
        changed[i] = (changed[i] + 1) % R
        assert not ref.verify(vk, raw, changed), i
    # Another model: the same with one weight changed (the same statement shape).
    program = c.model.to_dict()
    program["nodes"][0]["params"]["weight"][0][0] += 1
    other = compute.compile(compute.QuantizedModel.from_dict(program))
    other_vk = ref.VerifyingKey.from_bytes(other.setup(srs()).vk.to_bytes())
    assert other_vk.to_bytes() != pk.vk.to_bytes()
    assert not ref.verify(other_vk, raw, public)


def test_bad_inputs_are_named() -> None:
    c, pk, _, x = proved()
    _, hi = c.model.to_dict()["input"]["range"]
    with pytest.raises(ParameterError, match=r"range|outside"):
        c.prove(pk, np.full_like(x, hi + 1), job=1, provider=PROVIDER)
    with pytest.raises(ParameterError, match="shape"):
        c.prove(pk, x[:-1], job=1, provider=PROVIDER)
    with pytest.raises(ParameterError, match="address"):
        c.prove(pk, x, job=1, provider="0x1234")
    with pytest.raises(ParameterError, match="job"):
        c.prove(pk, x, job=-1, provider=PROVIDER)


def test_solidity_verifier_agrees(solc: Path) -> None:
    pytest.importorskip("web3", reason="the EVM tests need the test extras (web3)")
    from web3 import EthereumTesterProvider, Web3

    from bigfile_zk import evm

    c, pk, p, x = proved()
    with pytest.raises(bigfile_zk.errors.InsecureSRSError):
        c.verifier_solidity(pk.vk)
    source = c.verifier_solidity(pk.vk, allow_insecure_srs=True)
    assert "contract ComputeVerifier" in source and "QN_X" in source  # a version-2 key
    built = evm.compile(source, solc=solc)
    assert built.runtime_size <= 24_576
    w3 = Web3(EthereumTesterProvider())
    address = evm.deploy(w3, built).address
    contract = w3.eth.contract(address=address, abi=built.abi)
    assert contract.functions.INSECURE_TEST_SRS().call()
    assert "0x" + contract.functions.VK_DIGEST().call().hex() == p.vk_digest
    # The proof JSON holds exactly what verifyProof takes, public inputs in its order: the
    # caller's statement.
    obj = json.loads(p.to_json())
    proof, public = bytes.fromhex(obj["proof"][2:]), [int(v) for v in obj["public_inputs"]]
    commitment = bigfile_zk.commit_bytes(c.model.input_bytes(x)).commitment
    y = c.expected_outputs(c.model.forward_int(x))
    assert public == [commitment, 77, int(PROVIDER, 16), *y]
    assert evm.verify(w3, address, proof, public)
    names = ["input commitment", "job", "provider"] + [f"output {i}" for i in range(len(y))]
    for i, name in enumerate(names):
        changed = [*public]
        changed[i] = (changed[i] + 1) % R
        assert not evm.verify(w3, address, proof, changed), name
    raw = bytearray(proof)
    raw[100] ^= 1
    assert not evm.verify(w3, address, bytes(raw), public)


def test_solidity_verifier_without_the_round_gate(solc: Path) -> None:
    """The same model with Poseidon on arithmetic rows (``poseidon_gate=False``): the key's
    ``[q_F]``, ``[q_P]`` are the identity, the generated verifier skips them, still accepts the
    honest proof and refuses a changed statement, and costs less gas than with the gate."""
    pytest.importorskip("web3", reason="the EVM tests need the test extras (web3)")
    from web3 import EthereumTesterProvider, Web3

    from bigfile_zk import evm

    c, pk, p, x = proved()
    arith = compute.compile(c.model, params=(*c.params[:3], False))
    assert arith.poseidon_gate is False and arith.k >= c.k
    assert arith.digest != c.digest
    pk2 = arith.setup(srs())
    p2 = arith.prove(pk2, x, job=77, provider=PROVIDER, progress=False)
    public = list(p.public_inputs)
    assert list(p2.public_inputs) == public
    w3 = Web3(EthereumTesterProvider())
    gas = []
    for model, key, proof in [(c, pk, p), (arith, pk2, p2)]:
        built = evm.compile(model.verifier_solidity(key.vk, allow_insecure_srs=True), solc=solc)
        address = evm.deploy(w3, built).address
        raw = bytes.fromhex(json.loads(proof.to_json())["proof"][2:])
        assert evm.verify(w3, address, raw, public)
        changed = [*public]
        changed[-1] = (changed[-1] + 1) % R
        assert not evm.verify(w3, address, raw, changed)
        gas.append(evm.min_gas(w3, address, evm.calldata(raw, public)))
    # [q_F], [q_P] skipped, but the S-boxes' products make [q_M] non-identity: one scalar
    # multiplication (6,000 gas) and its addition fewer.
    assert gas[1] < gas[0] - 5_000, gas
