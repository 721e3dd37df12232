"""ComputeRegistry.sol end to end on py-evm (web3.py's EthereumTesterProvider): models with
real generated verifiers, jobs paid in the native currency and in an OpenZeppelin ERC-20,
results proven off chain with ``CompiledModel.prove`` for the registry's job ids and the
submitting accounts.

Models (keys from the insecure test SRS, verifiers generated with ``allow_insecure_srs``, the
registry deployed with ``allowInsecureTestSrs = true``): ``a``, the ``dense_relu`` model of
``docs/spec/vectors/quantization.json`` (5 uint8 inputs, 3 public outputs); ``b``, the same
model with one weight changed (same shapes and statement layout: only its key differs);
``h``, ``conv2d`` (54 outputs: the statement carries their hash ``H_y``).

Structure: each property is a ``check_*(env)`` that raises ``AssertionError`` when the registry
misbehaves. The ``test_*`` functions run them on the real contract. ``test_mutant_is_caught``
compiles each deliberate mutation of the source (``MUTANTS``), deploys it on the same chain
and runs the check meant to catch it, which must fail. A mutant that takes a piece of the
statement from calldata gets one more argument of ``submitResult``; ``submit`` passes, for
it, the proof's own claim (what a cheater would pass). Every test runs on a chain snapshot
that is reverted after it; job ids start at 1 on every fresh registry, so the proofs
(cached per model, job, provider and input) serve the original and every mutant alike.

Expected reverts are ``eth_call`` in the pending block with an explicit gas limit (a
transaction would make the node estimate gas, a bisection that runs the verifier ~20 times);
the revert data is compared with the exact custom error. Run with ``-s`` for the gas table.
"""

from __future__ import annotations

import ast
import concurrent.futures
import json
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bigfile_zk
from bigfile_zk import SRS, compute, evm
from bigfile_zk.errors import InsecureSRSWarning, ParameterError

pytest.importorskip("web3", reason="the registry tests need the test extras (web3)")
pytest.importorskip("eth_tester", reason="the registry tests need the test extras (eth-tester)")

from conftest import running_in_ci
from eth_abi import encode
from eth_tester.exceptions import TransactionFailed
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

R = bigfile_zk.MODULUS
VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "quantization.json"
MOCKS = Path(__file__).resolve().parent / "sol" / "ComputeRegistryMocks.sol"
NATIVE = "0x" + "00" * 20
ZERO = NATIVE  # an open job's provider
AMOUNT = 10**18  # a native payment (1 ether)
TOKENS = 5_000  # an ERC-20 payment
SUBMIT_GAS = 1_000_000  # explicit: skips the node's gas estimate (it would run the verifier)
CALL_GAS = 1_000_000
MIN_VERIFY_GAS = 400_000  # the contract's constant, checked below
OPEN, ACCEPTED, REFUNDED = 1, 2, 3  # JobStatus

GAS: dict[str, int] = {}  # gasUsed per kind of transaction, printed (pytest -s) and bounded


# -- the chain: models, verifiers, compiled contracts -------------------------------------------


@dataclass(frozen=True)
class ModelArt:
    compiled: compute.CompiledModel
    pk: Any
    verifier: str  # its deployed verifier
    verifier_code: evm.Compiled
    vk_digest: bytes
    weights_commitment: int  # registered with the model: its program JSON's commitment


@dataclass
class Chain:
    w3: Web3
    solc: Path
    openzeppelin: Path
    models: dict[str, ModelArt]
    registry: evm.Compiled  # the unmutated ComputeRegistry
    _compiled: dict[tuple[str, str], evm.Compiled] = field(default_factory=dict)
    _proofs: dict[tuple[str, int, str, int], compute.ComputeProof] = field(default_factory=dict)

    @property
    def accounts(self) -> list[str]:
        return list(self.w3.eth.accounts)

    owner = property(lambda self: self.accounts[1])  # registers the models
    client = property(lambda self: self.accounts[2])
    alice = property(lambda self: self.accounts[3])  # a registered provider
    bob = property(lambda self: self.accounts[4])  # another registered provider
    carol = property(lambda self: self.accounts[5])  # a provider who has not registered
    other_client = property(lambda self: self.accounts[6])

    def compile(self, source: str, name: str) -> evm.Compiled:
        """Compiled once per (source, contract) in the module: solcjs takes seconds."""
        key = (source, name)
        if key not in self._compiled:
            self._compiled[key] = evm.compile(
                source, name, solc=self.solc, openzeppelin=self.openzeppelin
            )
        return self._compiled[key]

    def mock(self, name: str) -> evm.Compiled:
        return self.compile(MOCKS.read_text(encoding="utf-8"), name)

    def x(self, model: str, seed: int) -> np.ndarray:
        m = self.models[model].compiled.model
        lo, hi = m.input_range
        return np.random.default_rng(seed).integers(lo, hi, m.input_shape, endpoint=True)

    def commitment(self, model: str, seed: int) -> int:
        m = self.models[model].compiled.model
        return bigfile_zk.commit_bytes(m.input_bytes(self.x(model, seed))).commitment

    def proof(self, model: str, job: int, provider: str, seed: int = 0) -> compute.ComputeProof:
        """``model`` run on input ``seed``, proven for ``job`` and ``provider`` (cached)."""
        key = (model, job, provider, seed)
        if key not in self._proofs:
            art = self.models[model]
            x = self.x(model, seed)
            p = art.compiled.prove(art.pk, x, job=job, provider=provider, progress=False)
            want = art.compiled.expected_outputs(art.compiled.model.forward_int(x))
            assert list(p.public_inputs) == [
                self.commitment(model, seed),
                job,
                int(provider, 16),
                *want,
            ]
            self._proofs[key] = p
        return self._proofs[key]


def quantized(name: str, *, tweak: bool = False) -> compute.QuantizedModel:
    """A model of the vectors; ``tweak``: with its first weight one larger."""
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    (model,) = [m["model"] for m in data["models"] if m["name"] == name]
    if tweak:
        model["nodes"][0]["params"]["weight"][0][0] += 1
    return compute.QuantizedModel.from_dict(model)


@pytest.fixture(scope="module")
def chain(solc: Path, openzeppelin: Path) -> Chain:
    w3 = Web3(EthereumTesterProvider())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        srs = SRS.insecure_for_testing(5 * 2**12 + 9, 0)
    models = {}
    for key, name, tweak in (
        ("a", "dense_relu", False),
        ("b", "dense_relu", True),
        ("h", "conv2d", False),
    ):
        c = compute.compile(quantized(name, tweak=tweak))
        pk, vk = c.keys(srs)
        code = evm.compile(c.verifier_solidity(vk, allow_insecure_srs=True), solc=solc)
        address = evm.deploy(w3, code).address
        weights = bigfile_zk.commit_bytes(c.program_json.encode()).commitment
        models[key] = ModelArt(c, pk, address, code, vk.digest(), weights)
    assert models["a"].vk_digest != models["b"].vk_digest
    registry = evm.compile(
        evm.compute_registry_source(), "ComputeRegistry", solc=solc, openzeppelin=openzeppelin
    )
    return Chain(w3, solc, openzeppelin, models, registry)


# -- one registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Env:
    chain: Chain
    compiled: evm.Compiled
    registry: Contract
    token: Contract  # a TestToken the client holds and has approved
    model_ids: dict[str, int]

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def fn(self) -> Any:
        return self.registry.functions

    def error(self, name: str, *args: Any) -> bytes:
        """The revert data of custom error ``name(args)`` of the registry's ABI."""
        return abi_error(self.compiled.abi, name, *args)


def abi_error(abi: list[dict[str, Any]], name: str, *args: Any) -> bytes:
    (item,) = [e for e in abi if e["type"] == "error" and e["name"] == name]
    types = [i["type"] for i in item["inputs"]]
    selector = Web3.keccak(text=f"{name}({','.join(types)})")[:4]
    return bytes(selector) + encode(types, list(args))


def make_env(chain: Chain, compiled: evm.Compiled) -> Env:
    """A fresh registry (``compiled``: the original or a mutant) with models a, b, h
    registered (ids 1, 2, 3), Alice and Bob registered providers, and a test token the
    client holds and has approved."""
    w3 = chain.w3
    receipt = evm.deploy_transaction(w3, compiled, True, sender=chain.accounts[0])
    registry = w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)
    token = evm.deploy(w3, chain.mock("TestToken"))
    env = Env(chain, compiled, registry, token, {})
    record(env, "deploy", receipt["gasUsed"])
    for key in ("a", "b", "h"):
        art = chain.models[key]
        m = art.compiled.num_outputs
        registered = env.fn.registerModel(art.verifier, art.vk_digest, art.weights_commitment, m)
        receipt = send(env, registered, chain.owner)
        first = "registerModel (first of a registry)"
        record(env, first if key == "a" else "registerModel (later)", receipt["gasUsed"])
        (ev,) = events(env, receipt, "ModelRegistered")
        env.model_ids[key] = int(ev["modelId"])
    for provider in (chain.alice, chain.bob):
        receipt = send(env, env.fn.registerProvider(), provider)
        record(env, "registerProvider", receipt["gasUsed"])
    send(env, token.functions.mint(chain.client, 10**9), chain.client)
    send(env, token.functions.approve(registry.address, 2**256 - 1), chain.client)
    return env


@pytest.fixture(scope="module")
def env(chain: Chain) -> Env:
    return make_env(chain, chain.registry)


@pytest.fixture(autouse=True)
def fresh_chain(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on the chain runs on a snapshot of it, reverted afterwards."""
    if "chain" not in request.fixturenames:
        yield
        return
    w3 = request.getfixturevalue("chain").w3
    snapshot = w3.testing.snapshot()
    yield
    w3.testing.revert(snapshot)


@pytest.fixture(scope="module", autouse=True)
def gas_report() -> Iterator[None]:
    yield
    print(f"\nComputeRegistry gas used: {GAS}")


# -- helpers -----------------------------------------------------------------------------------


def record(env: Env, what: str, gas: int) -> None:
    """Note the gas of ``what`` for the table (the unmutated registry's only)."""
    if env.compiled is env.chain.registry:
        GAS[what] = gas


def send(env: Env, fn: Any, sender: str, *, value: int = 0, gas: int | None = None) -> Any:
    """Mine ``fn`` from ``sender``; the receipt, which must show success."""
    tx: dict[str, Any] = {"from": sender, "value": value}
    if gas is not None:
        tx["gas"] = gas
    receipt = env.w3.eth.wait_for_transaction_receipt(fn.transact(tx))
    assert receipt["status"] == 1, f"transaction failed: {receipt}"
    return receipt


def reverts(env: Env, fn: Any, sender: str, *, value: int = 0, gas: int = CALL_GAS) -> bytes:
    """The revert data of ``fn`` from ``sender`` as the next transaction (an ``eth_call`` in
    the pending block); ``AssertionError`` if it does not revert."""
    tx = {"from": sender, "value": value, "gas": gas}
    try:
        result = fn.call(tx, block_identifier="pending")
    except ContractLogicError as exc:  # web3 decodes panics and Error(string) itself
        assert isinstance(exc.data, str), exc
        return bytes.fromhex(exc.data.removeprefix("0x"))
    except TransactionFailed as exc:
        message = str(exc)
        prefix = "execution reverted: "
        assert message.startswith(prefix), message
        data = ast.literal_eval(message[len(prefix) :])
        assert isinstance(data, bytes), message
        return data
    raise AssertionError(f"expected a revert, the call returned {result!r}")


def events(env: Env, receipt: Any, name: str) -> list[dict[str, Any]]:
    logs = env.registry.events[name]().process_receipt(receipt, errors=DISCARD)
    return [dict(log["args"]) for log in logs]


def view(fn: Any) -> Any:
    return fn.call(block_identifier="pending")


def next_block(env: Env) -> int:
    return int(env.w3.eth.block_number) + 1


def advance_to(env: Env, block: int) -> None:
    """Mine empty blocks so that the next transaction lands in ``block``."""
    gap = block - next_block(env)
    assert gap >= 0, f"block {block} is past"
    if gap:
        env.w3.testing.mine(gap)


def job_of(env: Env, job: int) -> dict[str, Any]:
    names = "client modelId status provider deadline token amount inputCommitment outputsDigest"
    return dict(zip(names.split(), view(env.fn.jobs(job)), strict=True))


def balance(env: Env, account: str, token: str = NATIVE) -> int:
    return int(view(env.fn.balances(account, token)))


def post(
    env: Env,
    *,
    model: str = "a",
    seed: int = 0,
    provider: str = ZERO,
    deadline: int | None = None,
    token: str = NATIVE,
    amount: int | None = None,
    sender: str | None = None,
) -> tuple[int, Any]:
    """Post a job (default: model a on input 0, open, 20 blocks, 1 ether); (job id, receipt)."""
    if amount is None:
        amount = AMOUNT if token == NATIVE else TOKENS
    deadline = next_block(env) + 20 if deadline is None else deadline
    commitment = env.chain.commitment(model, seed)
    fn = env.fn.postJob(env.model_ids[model], commitment, provider, deadline, token, amount)
    value = amount if token == NATIVE else 0
    receipt = send(env, fn, sender or env.chain.client, value=value)
    (ev,) = events(env, receipt, "JobPosted")
    return int(ev["jobId"]), receipt


def submit_fn(
    env: Env, job: int, proof: compute.ComputeProof, outputs: list[int] | None = None
) -> Any:
    """``submitResult(job, outputs, proof)``; for a mutant that takes more arguments, each
    filled with the proof's own claim (see the module docstring)."""
    job_id, claimed, raw = evm.submit_result_args(proof)
    args: list[Any] = [job, claimed if outputs is None else outputs, raw]
    (abi,) = [f for f in env.compiled.abi if f.get("name") == "submitResult"]
    claims: dict[str, Callable[[], Any]] = {
        "provider": lambda: Web3.to_checksum_address(f"0x{proof.provider:040x}"),
        "statementJob": lambda: job_id,
        "inputCommitment": lambda: proof.input_commitment,
        "modelId": lambda: next(
            i
            for k, i in env.model_ids.items()
            if "0x" + env.chain.models[k].vk_digest.hex() == proof.vk_digest
        ),
    }
    args += [claims[i["name"]]() for i in abi["inputs"][3:]]
    return env.fn.submitResult(*args)


def submit(
    env: Env,
    job: int,
    proof: compute.ComputeProof,
    sender: str,
    *,
    outputs: list[int] | None = None,
    gas: int = SUBMIT_GAS,
) -> Any:
    return send(env, submit_fn(env, job, proof, outputs), sender, gas=gas)


def accepted(env: Env, receipt: Any) -> list[dict[str, Any]]:
    return events(env, receipt, "ResultAccepted")


def rejected(env: Env, receipt: Any) -> list[dict[str, Any]]:
    return events(env, receipt, "ResultRejected")


def assert_accepted(env: Env, receipt: Any, job: int, provider: str, outputs: Any) -> None:
    assert accepted(env, receipt) == [{"jobId": job, "provider": provider, "outputs": outputs}]
    assert rejected(env, receipt) == []


def assert_rejected(env: Env, receipt: Any, job: int, provider: str) -> None:
    assert rejected(env, receipt) == [{"jobId": job, "provider": provider}]
    assert accepted(env, receipt) == []
    assert job_of(env, job)["status"] == OPEN


def digest(outputs: Any) -> bytes:
    return bytes(Web3.keccak(b"".join(int(y).to_bytes(32, "big") for y in outputs)))


# -- checks: each raises AssertionError when the registry misbehaves ---------------------------


def check_honest_native(env: Env) -> None:
    """A designated job paid in the native currency: posted (escrowed, event), answered by its
    provider (who need not be registered), outputs recorded, provider credited, withdrawn."""
    c, fn = env.chain, env.fn
    deadline = next_block(env) + 20
    job, receipt = post(env, provider=c.carol, deadline=deadline)
    record(env, "postJob (native, first job of a registry)", receipt["gasUsed"])
    commitment = c.commitment("a", 0)
    assert events(env, receipt, "JobPosted") == [
        {
            "jobId": job,
            "modelId": env.model_ids["a"],
            "client": c.client,
            "provider": c.carol,
            "inputCommitment": commitment,
            "deadline": deadline,
            "token": NATIVE,
            "amount": AMOUNT,
        }
    ]
    assert job == 1 and view(fn.jobCount()) == 1
    assert job_of(env, job) == {
        "client": c.client,
        "modelId": env.model_ids["a"],
        "status": OPEN,
        "provider": c.carol,
        "deadline": deadline,
        "token": NATIVE,
        "amount": AMOUNT,
        "inputCommitment": commitment,
        "outputsDigest": bytes(32),
    }
    assert env.w3.eth.get_balance(env.registry.address) == AMOUNT

    p = c.proof("a", job, c.carol)
    outputs = list(p.outputs)
    assert view(fn.statement(job, c.carol, outputs)) == list(p.public_inputs)
    receipt = submit(env, job, p, c.carol)
    record(env, "submitResult (accepted, native)", receipt["gasUsed"])
    assert_accepted(env, receipt, job, c.carol, outputs)
    settled = job_of(env, job)
    assert (settled["status"], settled["provider"]) == (ACCEPTED, c.carol)
    assert settled["outputsDigest"] == digest(outputs)
    assert view(fn.isAcceptedResult(job, outputs))
    assert not view(fn.isAcceptedResult(job, [outputs[0] ^ 1, *outputs[1:]]))
    assert balance(env, c.carol) == AMOUNT and balance(env, c.client) == 0

    before = env.w3.eth.get_balance(c.carol)
    receipt = send(env, fn.withdraw(NATIVE), c.carol)
    record(env, "withdraw (native)", receipt["gasUsed"])
    assert events(env, receipt, "Withdrawn") == [
        {"account": c.carol, "token": NATIVE, "amount": AMOUNT}
    ]
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert env.w3.eth.get_balance(c.carol) == before + AMOUNT - fee
    assert env.w3.eth.get_balance(env.registry.address) == 0
    assert balance(env, c.carol) == 0
    assert reverts(env, fn.withdraw(NATIVE), c.carol) == env.error(
        "NothingToWithdraw", c.carol, NATIVE
    )


def check_honest_erc20_open(env: Env) -> None:
    """An open job paid in an ERC-20: the tokens are pulled into escrow, a registered provider
    answers, is recorded as the job's provider, credited and paid."""
    c, fn, token = env.chain, env.fn, env.token
    held = token.functions.balanceOf(c.client).call()
    job, receipt = post(env, token=token.address)
    record(env, "postJob (ERC-20, first job of a registry)", receipt["gasUsed"])
    assert token.functions.balanceOf(c.client).call() == held - TOKENS
    assert token.functions.balanceOf(env.registry.address).call() == TOKENS
    assert job_of(env, job)["provider"] == ZERO

    p = c.proof("a", job, c.alice)
    receipt = submit(env, job, p, c.alice)
    record(env, "submitResult (accepted, ERC-20, open job)", receipt["gasUsed"])
    assert_accepted(env, receipt, job, c.alice, list(p.outputs))
    assert job_of(env, job)["provider"] == c.alice
    assert balance(env, c.alice, token.address) == TOKENS
    assert balance(env, c.alice) == 0

    receipt = send(env, fn.withdraw(token.address), c.alice)
    record(env, "withdraw (ERC-20)", receipt["gasUsed"])
    assert token.functions.balanceOf(c.alice).call() == TOKENS
    assert token.functions.balanceOf(env.registry.address).call() == 0
    assert balance(env, c.alice, token.address) == 0


def check_wrong_outputs(env: Env) -> None:
    """A valid proof with other outputs, and malformed proofs, are rejected (an event, no
    payment, the job stays open); the right result is then accepted."""
    c = env.chain
    job, _ = post(env, provider=c.alice)
    p = c.proof("a", job, c.alice)
    wrong = list(p.outputs)
    wrong[0] = (wrong[0] + 1) % R
    receipt = submit(env, job, p, c.alice, outputs=wrong)
    record(env, "submitResult (rejected)", receipt["gasUsed"])
    assert_rejected(env, receipt, job, c.alice)
    raw = p.proof.to_evm_bytes()
    for junk in (bytes(len(raw)), raw[:-32], b""):
        receipt = send(
            env,
            env.fn.submitResult(job, list(p.outputs), junk),
            c.alice,
            gas=SUBMIT_GAS,
        )
        assert_rejected(env, receipt, job, c.alice)
    assert balance(env, c.alice) == 0
    assert env.w3.eth.get_balance(env.registry.address) == AMOUNT
    receipt = submit(env, job, p, c.alice)
    assert_accepted(env, receipt, job, c.alice, list(p.outputs))
    assert balance(env, c.alice) == AMOUNT


def check_other_provider_proof(env: Env) -> None:
    """Copied proof bytes do not pay anyone but their prover: Bob (registered) submitting
    Alice's proof and outputs for an open job is rejected, and for Alice's job reverts."""
    c = env.chain
    job, _ = post(env)
    alices = c.proof("a", job, c.alice)
    receipt = submit(env, job, alices, c.bob)
    assert_rejected(env, receipt, job, c.bob)
    assert balance(env, c.bob) == 0
    receipt = submit(env, job, alices, c.alice)
    assert_accepted(env, receipt, job, c.alice, list(alices.outputs))

    designated, _ = post(env, provider=c.alice)
    alices = c.proof("a", designated, c.alice)
    assert reverts(env, submit_fn(env, designated, alices), c.bob) == env.error(
        "NotProvider", designated, c.bob
    )


def check_other_job_proof(env: Env) -> None:
    """A proof made for job 1 does not answer job 2 (same model, input and provider)."""
    c = env.chain
    first, _ = post(env, provider=c.alice)
    second, _ = post(env, provider=c.alice)
    for_first = c.proof("a", first, c.alice)
    receipt = submit(env, second, for_first, c.alice)
    assert_rejected(env, receipt, second, c.alice)
    receipt = submit(env, first, for_first, c.alice)
    assert_accepted(env, receipt, first, c.alice, list(for_first.outputs))
    assert balance(env, c.alice) == AMOUNT


def check_other_input_proof(env: Env) -> None:
    """A proof of the model on another input (its own commitment) does not answer the job."""
    c = env.chain
    job, _ = post(env, provider=c.alice, seed=0)
    other = c.proof("a", job, c.alice, seed=1)
    assert other.input_commitment != c.commitment("a", 0)
    receipt = submit(env, job, other, c.alice)
    assert_rejected(env, receipt, job, c.alice)
    assert balance(env, c.alice) == 0


def check_other_model_proof(env: Env) -> None:
    """A proof of model b (its verifier is registered too) does not answer a job for model a,
    with b's outputs or a's."""
    c = env.chain
    job, _ = post(env, provider=c.alice, model="a")
    for_b = c.proof("b", job, c.alice)
    for_a = c.proof("a", job, c.alice)
    assert for_b.input_commitment == for_a.input_commitment
    for outputs in (list(for_b.outputs), list(for_a.outputs)):
        receipt = submit(env, job, for_b, c.alice, outputs=outputs)
        assert_rejected(env, receipt, job, c.alice)
    assert balance(env, c.alice) == 0


def check_late_submission(env: Env) -> None:
    """Results are accepted up to the deadline block inclusive, then refused."""
    c = env.chain
    deadline = next_block(env) + 10
    on_time, _ = post(env, provider=c.alice, deadline=deadline)
    late, _ = post(env, provider=c.alice, deadline=deadline)
    advance_to(env, deadline)
    receipt = submit(env, on_time, c.proof("a", on_time, c.alice), c.alice)
    assert receipt["blockNumber"] == deadline
    assert len(accepted(env, receipt)) == 1
    assert next_block(env) == deadline + 1
    assert reverts(env, submit_fn(env, late, c.proof("a", late, c.alice)), c.alice) == env.error(
        "TooLate", late, deadline
    )


def check_double_submission(env: Env) -> None:
    """One accepted result per job: a second one (the same provider's, or another registered
    provider's valid proof) reverts, and the payment is credited once."""
    c = env.chain
    job, _ = post(env)
    alices = c.proof("a", job, c.alice)
    submit(env, job, alices, c.alice)
    bobs = c.proof("a", job, c.bob)
    for proof, sender in ((alices, c.alice), (bobs, c.bob)):
        assert reverts(env, submit_fn(env, job, proof), sender) == env.error(
            "JobNotOpen", job, ACCEPTED
        )
    assert balance(env, c.alice) == AMOUNT and balance(env, c.bob) == 0
    assert job_of(env, job)["provider"] == c.alice


def check_refund(env: Env) -> None:
    """The client reclaims an unanswered job's escrow after the deadline block, once; not
    before, not at it, not someone else, not after an accepted result."""
    c, fn = env.chain, env.fn
    deadline = next_block(env) + 10
    job, _ = post(env, provider=c.alice, deadline=deadline)
    not_yet = env.error("DeadlineNotPassed", job, deadline)
    assert reverts(env, fn.refund(job), c.client) == not_yet
    advance_to(env, deadline)
    assert reverts(env, fn.refund(job), c.client) == not_yet
    env.w3.testing.mine(1)
    assert next_block(env) == deadline + 1
    assert reverts(env, fn.refund(job), c.alice) == env.error("NotClient", job, c.alice)
    receipt = send(env, fn.refund(job), c.client)
    record(env, "refund", receipt["gasUsed"])
    assert events(env, receipt, "JobRefunded") == [
        {"jobId": job, "client": c.client, "token": NATIVE, "amount": AMOUNT}
    ]
    assert job_of(env, job)["status"] == REFUNDED
    assert balance(env, c.client) == AMOUNT
    assert reverts(env, fn.refund(job), c.client) == env.error("JobNotOpen", job, REFUNDED)
    late = submit_fn(env, job, c.proof("a", job, c.alice))
    assert reverts(env, late, c.alice) == env.error("JobNotOpen", job, REFUNDED)
    before = env.w3.eth.get_balance(c.client)
    receipt = send(env, fn.withdraw(NATIVE), c.client)
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert env.w3.eth.get_balance(c.client) == before + AMOUNT - fee

    # An answered job is not refundable, after its deadline either.
    deadline = next_block(env) + 5
    answered, receipt = post(env, provider=c.alice, deadline=deadline)
    record(env, "postJob (native, a later job)", receipt["gasUsed"])
    submit(env, answered, c.proof("a", answered, c.alice), c.alice)
    advance_to(env, deadline + 1)
    assert reverts(env, fn.refund(answered), c.client) == env.error(
        "JobNotOpen", answered, ACCEPTED
    )
    assert balance(env, c.client) == 0 and balance(env, c.alice) == AMOUNT
    assert env.w3.eth.get_balance(env.registry.address) == AMOUNT


def check_open_job_registered_only(env: Env) -> None:
    """An open job is answered by registered providers only; registering opens it to Carol."""
    c, fn = env.chain, env.fn
    job, _ = post(env)
    carols = c.proof("a", job, c.carol)
    assert reverts(env, submit_fn(env, job, carols), c.carol) == env.error(
        "NotRegisteredProvider", c.carol
    )
    receipt = send(env, fn.registerProvider(), c.carol)
    assert events(env, receipt, "ProviderRegistered") == [{"provider": c.carol}]
    assert view(fn.isProvider(c.carol))
    assert reverts(env, fn.registerProvider(), c.carol) == env.error("AlreadyRegistered", c.carol)
    receipt = submit(env, job, carols, c.carol)
    assert_accepted(env, receipt, job, c.carol, list(carols.outputs))


def check_output_words(env: Env) -> None:
    """Outputs must be field elements, exactly as many as the model's statement has."""
    c = env.chain
    job, _ = post(env, provider=c.alice)
    p = c.proof("a", job, c.alice)
    y = list(p.outputs)
    for index, value in ((0, y[0] + R), (2, 2**256 - 1)):
        outputs = list(y)
        outputs[index] = value
        assert reverts(env, submit_fn(env, job, p, outputs), c.alice) == env.error(
            "OutputNotInField", index, value
        )
    for outputs in ([*y, 0], y[:2], []):
        assert reverts(env, submit_fn(env, job, p, outputs), c.alice) == env.error(
            "WrongOutputCount", len(outputs), 3
        )


def check_gas_floor(env: Env) -> None:
    """Too little gas for the verifier reverts (InsufficientGas) instead of recording a
    starved verifier's false as a rejected result."""
    c = env.chain
    job, _ = post(env, provider=c.alice)
    data = reverts(env, submit_fn(env, job, c.proof("a", job, c.alice)), c.alice, gas=300_000)
    assert data[:4] == env.error("InsufficientGas", 0, 0)[:4]
    assert int.from_bytes(data[36:68], "big") == MIN_VERIFY_GAS
    assert job_of(env, job)["status"] == OPEN


def check_native_reentrancy(env: Env) -> None:
    """A client contract whose receive() re-enters withdraw is stopped by the guard: it is
    paid its credit once, the other client's escrow stays."""
    c, w3 = env.chain, env.w3
    post(env, sender=c.other_client)  # AMOUNT escrowed for someone else
    attacker = evm.deploy(w3, c.mock("ReentrantReceiver"))
    deadline = next_block(env) + 3
    commitment = c.commitment("a", 0)
    r, encode_call = env.registry.address, env.registry.encode_abi
    posted = encode_call(
        "postJob", [env.model_ids["a"], commitment, c.alice, deadline, NATIVE, AMOUNT]
    )
    execute = attacker.functions.execute
    receipt = send(env, execute(r, posted), c.bob, value=AMOUNT)
    (ev,) = events(env, receipt, "JobPosted")
    advance_to(env, deadline + 1)
    send(env, execute(r, encode_call("refund", [ev["jobId"]])), c.bob)
    assert balance(env, attacker.address) == AMOUNT
    withdraw = encode_call("withdraw", [NATIVE])
    send(env, attacker.functions.arm(r, withdraw), c.bob)
    send(env, execute(r, withdraw), c.bob)
    assert attacker.functions.reentered().call()
    assert not attacker.functions.reentryOk().call()
    assert attacker.functions.reentryData().call() == env.error("ReentrancyGuardReentrantCall")
    assert w3.eth.get_balance(attacker.address) == AMOUNT
    assert w3.eth.get_balance(env.registry.address) == AMOUNT
    assert balance(env, attacker.address) == 0


def check_token_reentrancy(env: Env) -> None:
    """A token that calls back into the registry from its transfers (postJob's transferFrom,
    withdraw's transfer) is stopped by the guard; escrow and credits stay exact."""
    c, fn, w3 = env.chain, env.fn, env.w3
    token = evm.deploy(w3, c.mock("HostileToken"))
    t, r = token.functions, env.registry.address
    send(env, t.mint(c.client, TOKENS), c.client)
    send(env, t.approve(r, TOKENS), c.client)
    post(env, token=token.address)  # the client's escrow, TOKENS
    send(env, t.mint(token.address, 2 * TOKENS), c.bob)
    send(env, t.execute(token.address, token.encode_abi("approve", [r, 2 * TOKENS])), c.bob)
    deadline = next_block(env) + 5
    commitment = c.commitment("a", 0)
    job_data = env.registry.encode_abi(
        "postJob", [env.model_ids["a"], commitment, c.alice, deadline, token.address, TOKENS]
    )
    count = view(fn.jobCount())
    send(env, t.arm(r, job_data), c.bob)  # re-enter postJob from inside transferFrom
    send(env, t.execute(r, job_data), c.bob)
    assert t.reentered().call() and not t.reentryOk().call()
    assert t.reentryData().call() == env.error("ReentrancyGuardReentrantCall")
    assert view(fn.jobCount()) == count + 1
    assert t.balanceOf(r).call() == 2 * TOKENS

    advance_to(env, deadline + 1)
    send(env, t.execute(r, env.registry.encode_abi("refund", [count + 1])), c.bob)
    withdraw = env.registry.encode_abi("withdraw", [token.address])
    send(env, t.arm(r, withdraw), c.bob)  # re-enter withdraw from inside transfer
    send(env, t.execute(r, withdraw), c.bob)
    assert t.reentered().call() and not t.reentryOk().call()
    assert t.reentryData().call() == env.error("ReentrancyGuardReentrantCall")
    assert t.balanceOf(token.address).call() == 2 * TOKENS
    assert t.balanceOf(r).call() == TOKENS
    assert balance(env, token.address, token.address) == 0


def check_post_job_payments(env: Env) -> None:
    """Escrow is exact: the native value must equal the amount (and be 0 for a token), a
    token must be a contract, pull the amount in full (a fee-on-transfer token is refused),
    and be approved."""
    c, fn = env.chain, env.fn
    commitment = c.commitment("a", 0)
    deadline = next_block(env) + 20
    a = env.model_ids["a"]
    for value, amount in ((0, AMOUNT), (AMOUNT - 1, AMOUNT), (AMOUNT + 1, AMOUNT), (1, 0)):
        posted = fn.postJob(a, commitment, ZERO, deadline, NATIVE, amount)
        assert reverts(env, posted, c.client, value=value) == env.error("WrongValue", value, amount)
    posted = fn.postJob(a, commitment, ZERO, deadline, env.token.address, TOKENS)
    assert reverts(env, posted, c.client, value=1) == env.error("WrongValue", 1, 0)
    posted = fn.postJob(a, commitment, ZERO, deadline, c.bob, TOKENS)
    assert reverts(env, posted, c.client) == env.error("InvalidToken", c.bob)
    # Not approved: OpenZeppelin's ERC20 refuses, SafeERC20 passes the revert on.
    posted = fn.postJob(a, commitment, ZERO, deadline, env.token.address, TOKENS)
    assert reverts(env, posted, c.other_client) == abi_error(
        c.mock("TestToken").abi, "ERC20InsufficientAllowance", env.registry.address, 0, TOKENS
    )
    fee_token = evm.deploy(env.w3, c.mock("HostileToken"))
    t = fee_token.functions
    send(env, t.mint(c.client, 10 * TOKENS), c.client)
    send(env, t.approve(env.registry.address, 10 * TOKENS), c.client)
    send(env, t.setFee(3), c.client)
    posted = fn.postJob(a, commitment, ZERO, deadline, fee_token.address, TOKENS)
    assert reverts(env, posted, c.client) == env.error(
        "TransferAmountMismatch", fee_token.address, TOKENS, TOKENS - 3
    )


def check_retired_model(env: Env) -> None:
    """Only the owner retires a model, once; a retired model takes no new jobs, while a job
    posted before can still be answered."""
    c, fn = env.chain, env.fn
    a = env.model_ids["a"]
    job, _ = post(env, provider=c.alice)
    assert reverts(env, fn.retireModel(a), c.client) == env.error("NotModelOwner", a, c.client)
    receipt = send(env, fn.retireModel(a), c.owner)
    record(env, "retireModel", receipt["gasUsed"])
    assert events(env, receipt, "ModelRetired") == [{"modelId": a}]
    assert reverts(env, fn.retireModel(a), c.owner) == env.error("ModelIsRetired", a)
    posted = fn.postJob(a, c.commitment("a", 0), ZERO, next_block(env) + 9, NATIVE, AMOUNT)
    assert reverts(env, posted, c.client, value=AMOUNT) == env.error("ModelIsRetired", a)
    receipt = submit(env, job, c.proof("a", job, c.alice), c.alice)
    assert len(accepted(env, receipt)) == 1


# -- tests of the unmutated registry -----------------------------------------------------------


def test_honest_native_job(env: Env) -> None:
    check_honest_native(env)
    assert GAS["postJob (native, first job of a registry)"] < 160_000
    assert GAS["submitResult (accepted, native)"] < 420_000
    assert GAS["withdraw (native)"] < 40_000


def test_honest_erc20_open_job(env: Env) -> None:
    check_honest_erc20_open(env)
    assert GAS["postJob (ERC-20, first job of a registry)"] < 220_000
    assert GAS["submitResult (accepted, ERC-20, open job)"] < 420_000
    assert GAS["withdraw (ERC-20)"] < 60_000


def test_wrong_outputs_are_rejected_without_locking_the_job(env: Env) -> None:
    check_wrong_outputs(env)


def test_another_providers_proof_is_rejected(env: Env) -> None:
    check_other_provider_proof(env)


def test_a_proof_for_another_job_is_rejected(env: Env) -> None:
    check_other_job_proof(env)


def test_a_proof_on_another_input_is_rejected(env: Env) -> None:
    check_other_input_proof(env)


def test_a_proof_of_another_model_is_rejected(env: Env) -> None:
    check_other_model_proof(env)


def test_late_submission_is_refused(env: Env) -> None:
    check_late_submission(env)


def test_one_accepted_result_per_job(env: Env) -> None:
    check_double_submission(env)


def test_refund_after_the_deadline_only(env: Env) -> None:
    check_refund(env)


def test_open_job_needs_a_registered_provider(env: Env) -> None:
    check_open_job_registered_only(env)


def test_output_words_are_checked(env: Env) -> None:
    check_output_words(env)


def test_gas_floor(env: Env) -> None:
    check_gas_floor(env)
    # ... and the floor leaves the verifier enough: it accepts with 63/64 of it.
    c = env.chain
    p = c.proof("a", 1, c.alice)
    art = c.models["a"]
    assert evm.verify(env.w3, art.verifier, p.proof, p.public_inputs, gas=MIN_VERIFY_GAS * 63 // 64)


def test_reentrancy_through_a_native_receiver(env: Env) -> None:
    check_native_reentrancy(env)


def test_reentrancy_through_a_token(env: Env) -> None:
    check_token_reentrancy(env)


def test_post_job_payments_are_exact(env: Env) -> None:
    check_post_job_payments(env)


def test_retired_model(env: Env) -> None:
    check_retired_model(env)


def test_no_gas_limit_turns_a_valid_proof_into_a_rejection(env: Env) -> None:
    """For every gas limit a valid submission is accepted or reverts, never rejected: at the
    least gas limit that does not revert (found by bisection), the result is accepted."""
    c = env.chain
    job, _ = post(env, provider=c.alice)
    fn = submit_fn(env, job, c.proof("a", job, c.alice))

    def outcome(gas: int) -> bool | None:
        try:
            return bool(fn.call({"from": c.alice, "gas": gas}, block_identifier="pending"))
        except TransactionFailed:
            return None

    low, high = MIN_VERIFY_GAS, MIN_VERIFY_GAS + 100_000
    assert outcome(low) is None and outcome(high) is True
    while high - low > 1:
        mid = (low + high) // 2
        result = outcome(mid)
        assert result is not False, f"a valid proof was rejected with {mid} gas"
        if result is None:
            low = mid
        else:
            high = mid
    record(env, "submitResult: least gas limit that does not revert", high)


def test_hashed_outputs(env: Env) -> None:
    """A model with 54 outputs: the statement and the result carry their hash only."""
    c = env.chain
    job, _ = post(env, model="h", provider=c.alice)
    p = c.proof("h", job, c.alice)
    assert p.output_hash is not None and len(p.outputs) == 1
    all_outputs = c.models["h"].compiled.model.output_field_elements(
        c.models["h"].compiled.model.forward_int(c.x("h", 0))
    )
    assert len(all_outputs) == 54
    assert reverts(env, submit_fn(env, job, p, all_outputs), c.alice) == env.error(
        "WrongOutputCount", 54, 1
    )
    receipt = submit(env, job, p, c.alice)
    record(env, "submitResult (accepted, hashed outputs)", receipt["gasUsed"])
    assert_accepted(env, receipt, job, c.alice, [p.output_hash])
    assert job_of(env, job)["outputsDigest"] == digest([p.output_hash])


def test_model_registration(env: Env) -> None:
    c, fn = env.chain, env.fn
    a, b, h = (c.models[k] for k in "abh")
    model = view(fn.models(env.model_ids["a"]))
    assert list(model) == [c.owner, 3, False, a.verifier, a.vk_digest, a.weights_commitment]
    assert view(fn.modelCount()) == 3
    assert [view(fn.publicOutputCount(m)) for m in (1, 12, 13, 54)] == [1, 12, 1, 1]
    for args, error in (
        ((c.bob, a.vk_digest, 0, 3), env.error("InvalidVerifier", c.bob)),
        ((a.verifier, b.vk_digest, 0, 3), env.error("VkDigestMismatch", b.vk_digest, a.vk_digest)),
        ((a.verifier, a.vk_digest, 0, 4), env.error("PublicInputCountMismatch", 7, 6)),
        ((a.verifier, a.vk_digest, 0, 13), env.error("PublicInputCountMismatch", 4, 6)),
        ((h.verifier, h.vk_digest, 0, 12), env.error("PublicInputCountMismatch", 15, 4)),
        ((a.verifier, a.vk_digest, 0, 0), env.error("ZeroOutputs")),
        ((a.verifier, a.vk_digest, R, 3), env.error("CommitmentNotInField", R)),
    ):
        assert reverts(env, fn.registerModel(*args), c.owner) == error
    # The same verifier may back two models (two owners); each id is its own.
    receipt = send(env, fn.registerModel(a.verifier, a.vk_digest, R - 1, 3), c.client)
    assert events(env, receipt, "ModelRegistered") == [
        {
            "modelId": 4,
            "owner": c.client,
            "verifier": a.verifier,
            "vkDigest": a.vk_digest,
            "weightsCommitment": R - 1,
            "numOutputs": 3,
        }
    ]
    for unknown in (0, 5):
        assert reverts(env, fn.retireModel(unknown), c.owner) == env.error("UnknownModel", unknown)


def test_insecure_verifiers_need_the_opt_in(env: Env) -> None:
    """deploy_compute_registry's default registry refuses a test-SRS verifier, and takes a
    verifier that does not say it is one (a stand-in: its answers are fixed)."""
    c = env.chain
    strict = evm.deploy_compute_registry(env.w3, solc=c.solc, openzeppelin=c.openzeppelin)
    assert not strict.functions.allowInsecureTestSrs().call()
    assert env.fn.allowInsecureTestSrs().call()
    a = c.models["a"]
    refused = strict.functions.registerModel(a.verifier, a.vk_digest, 0, 3)
    assert reverts(env, refused, c.owner) == env.error("InsecureVerifier", a.verifier)
    digest_ = bytes(range(32))
    mock = evm.deploy(env.w3, c.mock("MockVerifier"), digest_, 6, False, True)
    send(env, strict.functions.registerModel(mock.address, digest_, 0, 3), c.owner)
    with pytest.raises(TypeError):
        evm.deploy_compute_registry(env.w3, allow_insecure_srs=1)  # type: ignore[arg-type]


def test_post_job_parameters(env: Env) -> None:
    c, fn = env.chain, env.fn
    commitment = c.commitment("a", 0)
    a = env.model_ids["a"]
    block = next_block(env)
    for args, error in (
        ((99, commitment, ZERO, block + 5, NATIVE, 0), env.error("UnknownModel", 99)),
        ((a, R, ZERO, block + 5, NATIVE, 0), env.error("CommitmentNotInField", R)),
        ((a, commitment, ZERO, block, NATIVE, 0), env.error("DeadlineNotInFuture", block, block)),
        ((a, commitment, ZERO, 0, NATIVE, 0), env.error("DeadlineNotInFuture", 0, block)),
    ):
        assert reverts(env, fn.postJob(*args), c.client) == error
    # The nearest deadline is the next block; a job may be free; ids count up from 1.
    job, receipt = post(env, deadline=block + 1, amount=0)
    assert job == 1 and receipt["blockNumber"] == block
    job, _ = post(env, token=env.token.address, amount=0)
    assert job == 2 and env.token.functions.balanceOf(env.registry.address).call() == 0
    for unknown in (0, 3):
        for call in (env.fn.refund(unknown), submit_fn(env, unknown, c.proof("a", 1, c.alice))):
            assert reverts(env, call, c.client) == env.error("UnknownJob", unknown)
        assert view(fn.jobs(unknown))[2] == 0


def test_contract_shape(env: Env) -> None:
    fn = env.fn
    assert (fn.R().call(), fn.MIN_VERIFY_GAS().call()) == (R, MIN_VERIFY_GAS)
    assert fn.MAX_PUBLIC_OUTPUTS().call() == compute.MAX_PUBLIC_OUTPUTS
    assert fn.NATIVE().call() == NATIVE
    assert env.compiled.runtime_size < 24_576  # EIP-170
    record(env, "runtime bytes", env.compiled.runtime_size)
    # What a client auditing a model does: regenerate its verifier and compare the code.
    for art in env.chain.models.values():
        assert bytes(env.w3.eth.get_code(art.verifier)) == art.verifier_code.runtime


def test_submit_result_args() -> None:
    with pytest.raises(TypeError, match="ComputeProof"):
        evm.submit_result_args(b"proof")  # type: ignore[arg-type]


# -- mutation tests ----------------------------------------------------------------------------


SUBMIT = "function submitResult(uint64 jobId, uint256[] calldata outputs, bytes calldata proof)"
STATEMENT = "_statement(job.inputCommitment, jobId, msg.sender, outputs, model.numOutputs)"
CREDIT = "        balances[msg.sender][job.token] += job.amount;\n        emit ResultAccepted"

# name → (edits: (old, new), each old occurring exactly once; the check that must fail)
MUTANTS: dict[str, tuple[list[tuple[str, str]], Callable[[Env], None]]] = {
    "verifier answer ignored": (
        [
            (
                "accepted = model.verifier.verifyProof(proof, inputs);",
                "model.verifier.verifyProof(proof, inputs);\n        accepted = true;",
            )
        ],
        check_wrong_outputs,
    ),
    "provider from calldata": (
        [
            (SUBMIT, SUBMIT[:-1] + ", address provider)"),
            (STATEMENT, STATEMENT.replace("msg.sender", "provider")),
        ],
        check_other_provider_proof,
    ),
    "job id from calldata": (
        [
            (SUBMIT, SUBMIT[:-1] + ", uint64 statementJob)"),
            (STATEMENT, STATEMENT.replace("jobId", "statementJob")),
        ],
        check_other_job_proof,
    ),
    "input commitment from calldata": (
        [
            (SUBMIT, SUBMIT[:-1] + ", uint256 inputCommitment)"),
            (STATEMENT, STATEMENT.replace("job.inputCommitment", "inputCommitment")),
        ],
        check_other_input_proof,
    ),
    "model from calldata": (
        [
            (SUBMIT, SUBMIT[:-1] + ", uint64 modelId)"),
            (
                "Model storage model = models[job.modelId];",
                "Model storage model = models[modelId];",
            ),
        ],
        check_other_model_proof,
    ),
    "no deadline check": (
        [("if (block.number > job.deadline) revert TooLate(jobId, job.deadline);", "")],
        check_late_submission,
    ),
    "deadline block excluded": (
        [("block.number > job.deadline", "block.number >= job.deadline")],
        check_late_submission,
    ),
    "paid before verifying": (
        [
            (CREDIT, "        emit ResultAccepted"),
            (
                "        accepted = model.verifier",
                "        balances[msg.sender][job.token] += job.amount;\n"
                "        accepted = model.verifier",
            ),
        ],
        check_wrong_outputs,
    ),
    "double submission": (
        [
            (
                "if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);\n"
                "        if (block.number > job.deadline)",
                "if (block.number > job.deadline)",
            )
        ],
        check_double_submission,
    ),
    "refund after acceptance": (
        [
            (
                "if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);\n"
                "        if (block.number <= job.deadline)",
                "if (block.number <= job.deadline)",
            )
        ],
        check_refund,
    ),
    "refund before the deadline": (
        [("if (block.number <= job.deadline) revert DeadlineNotPassed(jobId, job.deadline);", "")],
        check_refund,
    ),
    "open job without registration": (
        [("if (!isProvider[msg.sender]) revert NotRegisteredProvider(msg.sender);", "")],
        check_open_job_registered_only,
    ),
    "output count unchecked": (
        [
            (
                "if (outputs.length != expected) "
                "revert WrongOutputCount(outputs.length, expected);",
                "",
            )
        ],
        check_output_words,
    ),
    "no gas floor": (
        [
            (
                "if (gasleft() < MIN_VERIFY_GAS) "
                "revert InsufficientGas(gasleft(), MIN_VERIFY_GAS);",
                "",
            )
        ],
        check_gas_floor,
    ),
    "withdraw: pay, then zero, unguarded": (
        [
            (
                "function withdraw(address token) external nonReentrant returns",
                "function withdraw(address token) external returns",
            ),
            ("        balances[msg.sender][token] = 0;\n", ""),
            (
                "            IERC20(token).safeTransfer(msg.sender, amount);\n        }\n",
                "            IERC20(token).safeTransfer(msg.sender, amount);\n        }\n"
                "        balances[msg.sender][token] = 0;\n",
            ),
        ],
        check_native_reentrancy,
    ),
    "fee-on-transfer accepted": (
        [
            (
                "if (received != amount) revert TransferAmountMismatch(token, amount, received);",
                "",
            )
        ],
        check_post_job_payments,
    ),
    "retired model takes jobs": (
        [
            (
                "if (model.retired) revert ModelIsRetired(modelId);\n        if (inputCommitment",
                "if (inputCommitment",
            )
        ],
        check_retired_model,
    ),
}


def mutate(source: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert source.count(old) == 1, f"the mutation anchor {old!r} is not unique"
        source = source.replace(old, new)
    return source


@pytest.fixture(scope="module")
def mutants(chain: Chain) -> dict[str, evm.Compiled]:
    """Every mutant compiled, two solc processes at a time (each takes ~3 s)."""
    source = evm.compute_registry_source()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(chain.compile, mutate(source, edits), "ComputeRegistry")
            for name, (edits, _) in MUTANTS.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_caught(name: str, chain: Chain, mutants: dict[str, evm.Compiled]) -> None:
    compiled = mutants[name]
    assert compiled.runtime != chain.registry.runtime
    mutant = make_env(chain, compiled)
    with pytest.raises(AssertionError):
        MUTANTS[name][1](mutant)


def test_the_mutants_checks_run_on_the_original() -> None:
    """A mutant is caught only if its check passes on the real registry: each one is run by a
    test of the unmutated contract above."""
    checks = {check.__name__ for _, check in MUTANTS.values()}
    called = {
        name
        for test, f in globals().items()
        if test.startswith("test_") and test != "test_mutant_is_caught"
        for name in f.__code__.co_names
    }
    assert checks <= called, checks - called
    assert len(MUTANTS) >= 8


# -- compiling with OpenZeppelin ---------------------------------------------------------------


def test_import_resolution() -> None:
    source = """
    // import "@openzeppelin/contracts/commented.sol";
    /* import "@openzeppelin/contracts/also/commented.sol"; */
    import "./a.sol";
    import {X, Y as Z} from '../b.sol';
    import * as W from "@openzeppelin/contracts/c.sol";
    import "d.sol" as D;
    string constant S = "import \\"e.sol\\";";
    """
    assert evm._imports(source) == [
        "./a.sol",
        "../b.sol",
        "@openzeppelin/contracts/c.sol",
        "d.sol",
    ]
    unit = "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol"
    assert (
        evm._resolve_import(unit, "../IERC20.sol")
        == "@openzeppelin/contracts/token/ERC20/IERC20.sol"
    )
    assert evm._resolve_import(unit, "../../../interfaces/IERC1363.sol") == (
        "@openzeppelin/contracts/interfaces/IERC1363.sol"
    )
    assert evm._resolve_import(unit, "./Helper.sol") == (
        "@openzeppelin/contracts/token/ERC20/utils/Helper.sol"
    )
    assert evm._resolve_import("Contract.sol", "Other.sol") == "Other.sol"


def test_openzeppelin_is_found_and_checked(
    openzeppelin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, solc: Path
) -> None:
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BIGFILE_ZK_OPENZEPPELIN", raising=False)
    source = evm.compute_registry_source()
    with pytest.raises(ParameterError, match="install_openzeppelin"):
        evm.compile(source, solc=solc)
    # The package directory, or a directory holding it under node_modules; env or argument.
    assert evm._find_openzeppelin(openzeppelin) == openzeppelin
    assert evm._find_openzeppelin(openzeppelin.parents[1].parent) == openzeppelin
    monkeypatch.setenv("BIGFILE_ZK_OPENZEPPELIN", str(openzeppelin))
    assert evm._find_openzeppelin(None) == openzeppelin
    # Another version, or no package, is refused by name.
    other = tmp_path / "other"
    shutil.copytree(openzeppelin, other, ignore=shutil.ignore_patterns("build", "*.sol"))
    manifest = json.loads((other / "package.json").read_text())
    manifest["version"] = "5.0.0"
    (other / "package.json").write_text(json.dumps(manifest))
    with pytest.raises(ParameterError, match=r"5\.0\.0; 5\.4\.0 is needed"):
        evm.compile(source, solc=solc, openzeppelin=other)
    with pytest.raises(ParameterError, match="no @openzeppelin/contracts package"):
        evm.compile(source, solc=solc, openzeppelin=tmp_path)
    # A contract without such imports never looks for it.
    evm.compile("pragma solidity 0.8.28;\ncontract A {}\n", solc=solc, openzeppelin=tmp_path)
    # An import of a file the package does not have is named.
    with pytest.raises(ParameterError, match=r"Nope\.sol"):
        evm.compile(
            'import "@openzeppelin/contracts/Nope.sol";\n', solc=solc, openzeppelin=openzeppelin
        )
    with pytest.raises(ParameterError, match="no such file"):
        evm.compile(
            'import "@openzeppelin/contracts/../../solc/package.json";\n',
            solc=solc,
            openzeppelin=openzeppelin,
        )


def test_install_openzeppelin_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, solc: Path, chain: Chain
) -> None:
    """On a fresh machine: npm ci from a lock pinning the tarball's SHA-512; the compiled
    registry is the same as with tests/js's copy. A different pinned hash is refused by npm
    and leaves nothing behind."""
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path))
    monkeypatch.delenv("BIGFILE_ZK_OPENZEPPELIN", raising=False)
    try:
        where = evm.install_openzeppelin(quiet=True)
    except ParameterError as exc:
        if running_in_ci():
            pytest.fail(f"CI is set but npm cannot install @openzeppelin/contracts: {exc}")
        pytest.skip(f"npm unavailable: {exc}")
    expected = tmp_path / f"openzeppelin-{evm.OPENZEPPELIN_VERSION}" / "node_modules"
    assert where == expected / "@openzeppelin" / "contracts"
    assert evm.install_openzeppelin(quiet=True) == where  # found, not reinstalled
    compiled = evm.compile(evm.compute_registry_source(), "ComputeRegistry", solc=solc)
    assert compiled.bytecode == chain.registry.bytecode

    shutil.rmtree(tmp_path / f"openzeppelin-{evm.OPENZEPPELIN_VERSION}")
    forged = "sha512-" + "A" * 86 + "=="
    monkeypatch.setattr(evm, "OPENZEPPELIN_INTEGRITY", forged)
    with pytest.raises(ParameterError, match="EINTEGRITY"):
        evm.install_openzeppelin(quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
