"""StorageRegistry.sol end to end: files committed and proven off chain with bigfile_zk, the
registry and the generated storage verifier (k = 4) on an in-process EVM (py-evm through
web3.py's EthereumTesterProvider).

Two registries share one chain and verifier: ``env`` takes its randomness from
``BlockRandomness``, ``beacon_env`` from ``BeaconRandomness`` reading the test-only
``tests/sol/MockBeacon.sol`` (epoch ``e`` is round ``FIRST_ROUND + e * ROUNDS_PER_EPOCH``).
The deployments serve the module; every test runs on a chain snapshot that is reverted after
it. Epochs are EPOCH_LENGTH = 10 blocks with a PROOF_WINDOW of 5. Every transaction is mined
in a block of its own, so a test steers the block a transaction lands in with ``advance_to``.
Expected reverts are sent without a gas limit: the node's gas estimate runs the call in the
pending block and raises with the revert data, which is compared with the exact custom error
(name and arguments) the contract should give; nothing is mined. Views are read in the
pending block too (the block the next transaction lands in), not in the latest one.
"""

from __future__ import annotations

import ast
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bigfile_zk
from bigfile_zk import evm, storage
from bigfile_zk.errors import InsecureSRSWarning

pytest.importorskip("web3", reason="the registry tests need the test extras (web3)")
pytest.importorskip("eth_tester", reason="the registry tests need the test extras (eth-tester)")

from eth_abi import encode
from eth_tester.exceptions import TransactionFailed
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD

K = 4
R = bigfile_zk.MODULUS
EPOCH_LENGTH = 10
PROOF_WINDOW = 5
SUBMIT_GAS = 1_000_000  # explicit: skips the node's gas-estimate bisection over the verifier
SUBMIT_GAS_BOUND = 400_000
MIN_VERIFY_GAS = 400_000  # the contract's constant, checked below
FIRST_ROUND = 1000  # BeaconRandomness: the beacon round of epoch 0
ROUNDS_PER_EPOCH = 3
MOCK_BEACON = Path(__file__).resolve().parent / "sol" / "MockBeacon.sol"

GAS: dict[str, int] = {}  # gasUsed per kind of transaction, printed (pytest -s) and bounded


# -- fixtures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    path: Path
    commitment: bigfile_zk.FileCommitment
    tree: Path

    @property
    def c(self) -> int:
        return self.commitment.commitment


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StoredFile]:
    """Two committed files: 5000 bytes (6 chunks of 992) and 3000 bytes (4 chunks)."""
    rng = random.Random(20240611)
    out = {}
    for name, size in (("a", 5000), ("b", 3000)):
        path = tmp_path_factory.mktemp("files") / f"{name}.bin"
        path.write_bytes(rng.randbytes(size))
        tree = path.with_suffix(".bin.bfzt")
        out[name] = StoredFile(path, bigfile_zk.commit_file(path, tree=tree), tree)
    return out


def abi_error(abi: list[dict[str, Any]], name: str, *args: Any) -> bytes:
    """The revert data of custom error ``name(args)`` declared in ``abi``."""
    (item,) = [e for e in abi if e["type"] == "error" and e["name"] == name]
    types = [i["type"] for i in item["inputs"]]
    selector = Web3.keccak(text=f"{name}({','.join(types)})")[:4]
    return bytes(selector) + encode(types, list(args))


@dataclass(frozen=True)
class Env:
    w3: Web3
    registry: Contract
    verifier: Contract
    compiled: evm.Compiled
    source: Contract  # the registry's IRandomnessSource
    client: str
    alice: str  # a provider
    bob: str  # another provider
    keeper: str  # anybody
    beacon: Contract | None = None  # the MockBeacon behind a BeaconRandomness source

    def error(self, name: str, *args: Any) -> bytes:
        """The revert data of custom error ``name(args)``, from the registry's ABI."""
        return abi_error(self.compiled.abi, name, *args)


def deploy_registry(
    w3: Web3, compiled: evm.Compiled, verifier: str, source: str
) -> tuple[Contract, Any]:
    """A StorageRegistry (EPOCH_LENGTH, PROOF_WINDOW) and its deployment receipt."""
    args = (verifier, source, EPOCH_LENGTH, PROOF_WINDOW)
    receipt = evm.deploy_transaction(w3, compiled, *args, sender=w3.eth.accounts[0])
    return w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi), receipt


@pytest.fixture(scope="module")
def env(solc: Path) -> Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        _, vk = storage.keys(K)
    w3 = Web3(EthereumTesterProvider())
    deployer, client, alice, bob, keeper = w3.eth.accounts[:5]
    verifier = evm.deploy(
        w3,
        evm.compile(
            vk.to_solidity("StorageVerifier", allow_insecure_srs=True), "StorageVerifier", solc=solc
        ),
    )
    source_code = evm.compile(evm.registry_source(), "BlockRandomness", solc=solc)
    source = evm.deploy(w3, source_code, sender=deployer)
    compiled = evm.compile(evm.registry_source(), "StorageRegistry", solc=solc)
    registry, receipt = deploy_registry(w3, compiled, verifier.address, source.address)
    assert registry.functions.genesisBlock().call() == receipt["blockNumber"]
    assert registry.functions.randomnessSource().call() == source.address
    GAS["deploy"] = receipt["gasUsed"]
    GAS["runtime bytes"] = compiled.runtime_size
    return Env(w3, registry, verifier, compiled, source, client, alice, bob, keeper)


@pytest.fixture(scope="module")
def beacon_code(solc: Path) -> tuple[evm.Compiled, evm.Compiled]:
    """(BeaconRandomness, MockBeacon) compiled."""
    source = evm.registry_source()
    adapter = evm.compile(source, "BeaconRandomness", solc=solc)
    mock = evm.compile(
        MOCK_BEACON.read_text(encoding="utf-8"),
        "MockBeacon",
        solc=solc,
        libraries={"StorageRegistry.sol": source},
    )
    return adapter, mock


@pytest.fixture(scope="module")
def beacon_env(env: Env, beacon_code: tuple[evm.Compiled, evm.Compiled]) -> Env:
    """A second registry on ``env``'s chain whose randomness is a MockBeacon's rounds."""
    adapter, mock = beacon_code
    beacon = evm.deploy(env.w3, mock)
    source = evm.deploy(env.w3, adapter, beacon.address, FIRST_ROUND, ROUNDS_PER_EPOCH)
    registry, receipt = deploy_registry(env.w3, env.compiled, env.verifier.address, source.address)
    GAS["deploy (beacon registry)"] = receipt["gasUsed"]
    return Env(
        env.w3,
        registry,
        env.verifier,
        env.compiled,
        source,
        env.client,
        env.alice,
        env.bob,
        env.keeper,
        beacon,
    )


@pytest.fixture(scope="module", autouse=True)
def gas_report() -> Iterator[None]:
    """Prints the gas measured by the tests (visible with ``pytest -s``)."""
    yield
    print(f"\nStorageRegistry gas used: {GAS}")


@pytest.fixture(autouse=True)
def fresh_chain(env: Env) -> Iterator[None]:
    """Each test starts from the freshly deployed registry."""
    snapshot = env.w3.testing.snapshot()
    yield
    env.w3.testing.revert(snapshot)


# -- helpers ----------------------------------------------------------------------------------


def set_prevrandao(env: Env, value: bytes) -> None:
    """Set ``block.prevrandao`` of the pending block (eth-tester's py-evm backend: the
    transactions of a block run with its pending header's mix hash; the mined block then gets
    a random one, so the mined header does not show the value the transactions saw)."""
    chain = env.w3.provider.ethereum_tester.backend.chain  # type: ignore[attr-defined]
    chain.header = chain.header.copy(mix_hash=value)


def prove(f: StoredFile, seed: int, prover: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        proof = storage.prove(f.path, f.commitment, seed, prover, k=K, tree=f.tree)
        # Valid off chain for the statement the chain checks: any rejection is the chain's.
        expected = {"commitment": f.c, "seed": seed, "prover": prover, "k": K}
        assert storage.verify(proof, **expected, allow_insecure_srs=True)
    assert proof.public_inputs == [f.c, seed, int(prover, 16)]
    return proof.proof.to_evm_bytes()


def advance_to(env: Env, block: int) -> None:
    """Mine empty blocks so that the next transaction lands in ``block``."""
    gap = block - (env.w3.eth.block_number + 1)
    assert gap >= 0, f"block {block} is past"
    if gap:
        env.w3.testing.mine(gap)


def next_block(env: Env) -> int:
    return int(env.w3.eth.block_number) + 1


def view(fn: Any) -> Any:
    """A view as the next transaction sees it (the pending block)."""
    return fn.call(block_identifier="pending")


def send(env: Env, fn: Any, sender: str, gas: int | None = None) -> Any:
    """Mine ``fn`` from ``sender``; the (successful) receipt."""
    tx: dict[str, Any] = {"from": sender}
    if gas is not None:
        tx["gas"] = gas
    receipt = env.w3.eth.wait_for_transaction_receipt(fn.transact(tx))
    assert receipt["status"] == 1
    return receipt


def revert_data(env: Env, action: Callable[[], Any]) -> bytes:
    """The revert data of ``action`` (a transaction or a call), which must revert; checks
    that no block was mined."""
    before = env.w3.eth.block_number
    with pytest.raises(TransactionFailed) as info:
        action()
    assert env.w3.eth.block_number == before
    message = str(info.value)
    prefix = "execution reverted: "
    assert message.startswith(prefix), message
    data = ast.literal_eval(message[len(prefix) :])
    assert isinstance(data, bytes), message
    return data


def tx_reverts(env: Env, fn: Any, sender: str) -> bytes:
    return revert_data(env, lambda: fn.transact({"from": sender}))


def events(env: Env, receipt: Any, name: str) -> list[Any]:
    logs = env.registry.events[name]().process_receipt(receipt, errors=DISCARD)
    return [log["args"] for log in logs]


def register(env: Env, commitment: int, provider: str, client: str | None = None) -> int:
    receipt = send(env, env.registry.functions.register(commitment, provider), client or env.client)
    (ev,) = events(env, receipt, "FileRegistered")
    return int(ev["fileId"])


def first_epoch(env: Env, file_id: int) -> int:
    return int(env.registry.functions.files(file_id).call()[1])


def epoch_start(env: Env, epoch: int) -> int:
    return int(env.registry.functions.epochStart(epoch).call())


def deadline(env: Env, epoch: int) -> int:
    return int(env.registry.functions.proofDeadline(epoch).call())


def begin_epoch(env: Env) -> int:
    """``beginEpoch`` from the keeper; the epoch's randomness."""
    receipt = send(env, env.registry.functions.beginEpoch(), env.keeper)
    GAS["beginEpoch (beacon)" if env.beacon else "beginEpoch (block)"] = receipt["gasUsed"]
    (ev,) = events(env, receipt, "EpochBegun")
    return int(ev["randomness"])


def submit(env: Env, file_id: int, proof: bytes, sender: str) -> Any:
    return send(env, env.registry.functions.submitProof(file_id, proof), sender, gas=SUBMIT_GAS)


def counters(env: Env, file_id: int) -> tuple[int, int, int]:
    """(proven, missed, invalid) for ``file_id``."""
    f = env.registry.functions
    return (
        f.provenEpochs(file_id).call(),
        f.missedEpochs(file_id).call(),
        f.invalidProofs(file_id).call(),
    )


def expected_seed(env: Env, randomness: int, epoch: int, file_id: int) -> int:
    """The registry's documented seed: bound to chain, registry, epoch and file, mod r."""
    preimage = encode(
        ["uint256", "uint256", "address", "uint64", "uint256"],
        [randomness, env.w3.eth.chain_id, env.registry.address, epoch, file_id],
    )
    return int.from_bytes(Web3.keccak(preimage), "big") % R


def start_first_epoch(env: Env, file_id: int) -> tuple[int, int, int]:
    """Advance to the file's first epoch, fix its randomness; its (epoch, seed, deadline)."""
    epoch = first_epoch(env, file_id)
    advance_to(env, epoch_start(env, epoch))
    begin_epoch(env)
    return tuple(view(env.registry.functions.challenge(file_id)))  # type: ignore[return-value]


# -- tests ------------------------------------------------------------------------------------


def test_honest_flow(env: Env, files: dict[str, StoredFile]) -> None:
    reg, a = env.registry.functions, files["a"]
    registered_in = view(reg.currentEpoch())
    receipt = send(env, reg.register(a.c, env.alice), env.client)
    (ev,) = events(env, receipt, "FileRegistered")
    assert dict(ev) == {
        "fileId": 1,
        "client": env.client,
        "provider": env.alice,
        "commitment": a.c,
        "firstEpoch": registered_in + 1,
    }
    GAS["register (first file)"] = receipt["gasUsed"]
    assert list(reg.files(1).call()) == [env.client, registered_in + 1, env.alice, 2**64 - 1, a.c]
    assert reg.fileCount().call() == 1
    first = registered_in + 1
    # Not due in the registration epoch; randomness not fixed before beginEpoch.
    assert revert_data(env, lambda: view(reg.challenge(1))) == env.error("NotDue", 1, registered_in)
    advance_to(env, epoch_start(env, first))
    assert revert_data(env, lambda: view(reg.challenge(1))) == env.error(
        "RandomnessNotFixed", first
    )

    randomness = begin_epoch(env)
    epoch, seed, last = view(reg.challenge(1))
    assert (epoch, last) == (first, epoch_start(env, first) + PROOF_WINDOW - 1)
    assert seed == reg.seed(1, first).call() and 0 <= seed < R
    assert reg.epochRandomness(first).call() == randomness

    proof = prove(a, seed, env.alice)
    # Under the registry's gas floor the call reverts rather than record a starved verifier.
    data = revert_data(
        env, lambda: reg.submitProof(1, proof).call({"from": env.alice, "gas": 350_000}, "pending")
    )
    assert data[:4] == env.error("InsufficientGas", 0, 0)[:4]
    assert int.from_bytes(data[36:68], "big") == MIN_VERIFY_GAS == reg.MIN_VERIFY_GAS().call()
    # ... and the floor leaves the verifier enough: it accepts with 63/64 of it, all included.
    public = [a.c, seed, int(env.alice, 16)]
    assert evm.verify(env.w3, env.verifier.address, proof, public, gas=MIN_VERIFY_GAS * 63 // 64)

    receipt = submit(env, 1, proof, env.alice)
    assert [dict(e) for e in events(env, receipt, "ProofAccepted")] == [
        {"fileId": 1, "epoch": first, "seed": seed}
    ]
    assert events(env, receipt, "ProofRejected") == []
    GAS["submitProof (accepted)"] = receipt["gasUsed"]
    assert receipt["gasUsed"] < SUBMIT_GAS_BOUND
    assert reg.proven(1, first).call() and not reg.missed(1, first).call()
    assert reg.status(1, first).call() == 1
    assert counters(env, 1) == (1, 0, 0)
    # Once proven, a second submission in the epoch reverts (nothing recorded).
    assert tx_reverts(env, reg.submitProof(1, proof), env.alice) == env.error(
        "AlreadyProven", 1, first
    )
    assert counters(env, 1) == (1, 0, 0)
    assert GAS["register (first file)"] < 150_000 and GAS["beginEpoch (block)"] < 100_000


def test_proof_of_another_file_is_rejected_and_recorded(
    env: Env, files: dict[str, StoredFile]
) -> None:
    reg, a, b = env.registry.functions, files["a"], files["b"]
    fid = register(env, a.c, env.alice)
    epoch, seed, _ = start_first_epoch(env, fid)
    wrong = prove(b, seed, env.alice)  # right seed and prover, another file's commitment
    receipt = submit(env, fid, wrong, env.alice)
    assert [dict(e) for e in events(env, receipt, "ProofRejected")] == [
        {"fileId": fid, "epoch": epoch, "seed": seed}
    ]
    assert events(env, receipt, "ProofAccepted") == []
    GAS["submitProof (rejected)"] = receipt["gasUsed"]
    assert not reg.proven(fid, epoch).call() and reg.status(fid, epoch).call() == 0
    assert counters(env, fid) == (0, 0, 1)
    # Malformed bytes are rejected and recorded the same way, never a revert.
    for junk in (bytes(768), b"\x01" * 10):
        receipt = submit(env, fid, junk, env.alice)
        assert len(events(env, receipt, "ProofRejected")) == 1
    assert counters(env, fid) == (0, 0, 3)
    # The provider may retry within the window: the right file's proof is accepted.
    receipt = submit(env, fid, prove(a, seed, env.alice), env.alice)
    assert len(events(env, receipt, "ProofAccepted")) == 1
    assert reg.proven(fid, epoch).call()
    assert counters(env, fid) == (1, 0, 3)


def test_stale_seed_is_rejected(env: Env, files: dict[str, StoredFile]) -> None:
    reg, a = env.registry.functions, files["a"]
    fid = register(env, a.c, env.alice)
    epoch, seed, _ = start_first_epoch(env, fid)
    stale = prove(a, seed, env.alice)  # made for this epoch, submitted in the next one
    advance_to(env, epoch_start(env, epoch + 1))
    receipt = submit(env, fid, stale, env.alice)
    # submitProof fixed epoch + 1's randomness itself, and the new seed differs.
    (begun,) = events(env, receipt, "EpochBegun")
    assert begun["epoch"] == epoch + 1
    new_seed = reg.seed(fid, epoch + 1).call()
    assert new_seed != seed
    assert [dict(e) for e in events(env, receipt, "ProofRejected")] == [
        {"fileId": fid, "epoch": epoch + 1, "seed": new_seed}
    ]
    assert not reg.proven(fid, epoch + 1).call() and counters(env, fid) == (0, 0, 1)
    receipt = submit(env, fid, prove(a, new_seed, env.alice), env.alice)
    assert len(events(env, receipt, "ProofAccepted")) == 1
    # The epoch of the stale proof stayed unproven: it is recorded missed.
    send(env, reg.recordMissed(fid, epoch), env.keeper)
    assert reg.missed(fid, epoch).call() and counters(env, fid) == (1, 1, 1)


def test_another_provider_cannot_use_a_proof(env: Env, files: dict[str, StoredFile]) -> None:
    reg, a = env.registry.functions, files["a"]
    for_alice = register(env, a.c, env.alice)
    for_bob = register(env, a.c, env.bob)  # the same file, stored by Bob as well
    epoch, seed_alice, _ = start_first_epoch(env, for_alice)
    _, seed_bob, _ = view(reg.challenge(for_bob))
    assert seed_bob != seed_alice  # same file, same epoch: independent challenges

    # Bob submitting Alice's (valid) proof for Alice's file: not his file to prove.
    alices = prove(a, seed_alice, env.alice)
    assert tx_reverts(env, reg.submitProof(for_alice, alices), env.bob) == env.error(
        "NotProvider", for_alice, env.bob
    )
    # Bob submitting, for his own file, a proof Alice made for it (her address as prover):
    # the registry passes msg.sender as the prover input, so the verifier refuses it.
    made_by_alice = prove(a, seed_bob, env.alice)
    receipt = submit(env, for_bob, made_by_alice, env.bob)
    assert [dict(e) for e in events(env, receipt, "ProofRejected")] == [
        {"fileId": for_bob, "epoch": epoch, "seed": seed_bob}
    ]
    assert counters(env, for_bob) == (0, 0, 1) and counters(env, for_alice) == (0, 0, 0)
    # Control: his own proof for the same challenge is accepted, and Alice's for hers.
    receipt = submit(env, for_bob, prove(a, seed_bob, env.bob), env.bob)
    assert len(events(env, receipt, "ProofAccepted")) == 1
    receipt = submit(env, for_alice, alices, env.alice)
    assert len(events(env, receipt, "ProofAccepted")) == 1


def test_deadline_late_proofs_and_missed_epochs(env: Env, files: dict[str, StoredFile]) -> None:
    reg, a, b = env.registry.functions, files["a"], files["b"]
    on_time = register(env, a.c, env.alice)
    late = register(env, b.c, env.alice)
    epoch, seed_on_time, last = start_first_epoch(env, on_time)
    assert last == deadline(env, epoch) == epoch_start(env, epoch) + PROOF_WINDOW - 1
    _, seed_late, _ = view(reg.challenge(late))
    proof_on_time = prove(a, seed_on_time, env.alice)
    proof_late = prove(b, seed_late, env.alice)

    # In the deadline block itself: too early to record a miss, still in time to prove.
    advance_to(env, last)
    assert tx_reverts(env, reg.recordMissed(late, epoch), env.keeper) == env.error(
        "TooEarly", epoch, last
    )
    receipt = submit(env, on_time, proof_on_time, env.alice)
    assert receipt["blockNumber"] == last and len(events(env, receipt, "ProofAccepted")) == 1

    # One block later: too late to prove, nothing recorded.
    assert next_block(env) == last + 1
    assert tx_reverts(env, reg.submitProof(late, proof_late), env.alice) == env.error(
        "TooLate", epoch, last
    )
    assert counters(env, late) == (0, 0, 0)
    # The miss is recorded by anyone, once; a proven epoch cannot be recorded missed.
    receipt = send(env, reg.recordMissed(late, epoch), env.keeper)
    GAS["recordMissed"] = receipt["gasUsed"]
    assert receipt["gasUsed"] < 100_000
    assert [dict(e) for e in events(env, receipt, "ProofMissed")] == [
        {"fileId": late, "epoch": epoch}
    ]
    assert reg.missed(late, epoch).call() and reg.status(late, epoch).call() == 2
    assert counters(env, late) == (0, 1, 0)
    assert tx_reverts(env, reg.recordMissed(late, epoch), env.keeper) == env.error(
        "AlreadyRecordedMissed", late, epoch
    )
    assert tx_reverts(env, reg.recordMissed(on_time, epoch), env.keeper) == env.error(
        "AlreadyProven", on_time, epoch
    )
    # Not due before the first epoch; a later epoch's deadline has not passed yet.
    assert tx_reverts(env, reg.recordMissed(late, epoch - 1), env.keeper) == env.error(
        "NotDue", late, epoch - 1
    )
    assert tx_reverts(env, reg.recordMissed(late, epoch + 1), env.keeper) == env.error(
        "TooEarly", epoch + 1, deadline(env, epoch + 1)
    )
    assert counters(env, late) == (0, 1, 0) and counters(env, on_time) == (1, 0, 0)
    # Nobody opened epoch + 1: block randomness was available all along (the provider could
    # have opened it with submitProof), so it is missed, not excused.
    advance_to(env, deadline(env, epoch + 1) + 1)
    receipt = send(env, reg.recordMissed(late, epoch + 1), env.keeper)
    GAS["recordMissed (unopened epoch, block)"] = receipt["gasUsed"]
    assert len(events(env, receipt, "ProofMissed")) == 1
    assert events(env, receipt, "ProofExcused") == []
    assert reg.randomnessBlock(epoch + 1).call() == 0
    assert counters(env, late) == (0, 2, 0) and reg.excusedEpochs(late).call() == 0


def test_registration_and_unregistration_checks(env: Env, files: dict[str, StoredFile]) -> None:
    reg, a = env.registry.functions, files["a"]
    assert tx_reverts(env, reg.register(R, env.alice), env.client) == env.error(
        "CommitmentNotInField", R
    )
    assert tx_reverts(env, reg.register(2**256 - 1, env.alice), env.client) == env.error(
        "CommitmentNotInField", 2**256 - 1
    )
    zero = "0x" + "00" * 20
    assert tx_reverts(env, reg.register(a.c, zero), env.client) == env.error("ZeroProvider")
    assert reg.fileCount().call() == 0
    assert register(env, R - 1, env.alice) == 1  # the largest field element is accepted
    fid = register(env, a.c, env.alice)
    assert fid == 2

    for fn in (reg.unregister(99), reg.submitProof(99, b""), reg.recordMissed(99, 1)):
        assert tx_reverts(env, fn, env.client) == env.error("UnknownFile", 99)
    assert tx_reverts(env, reg.unregister(fid), env.alice) == env.error("NotClient", fid, env.alice)
    # Unregistering in the first due epoch: that epoch stays due, the next is not.
    first = first_epoch(env, fid)
    advance_to(env, epoch_start(env, first))
    receipt = send(env, reg.unregister(fid), env.client)
    assert [dict(e) for e in events(env, receipt, "FileUnregistered")] == [
        {"fileId": fid, "endEpoch": first + 1}
    ]
    assert tx_reverts(env, reg.unregister(fid), env.client) == env.error("AlreadyUnregistered", fid)
    assert reg.isDue(fid, first).call() and not reg.isDue(fid, first + 1).call()
    assert not reg.isDue(fid, first - 1).call() and not reg.isDue(99, first).call()
    advance_to(env, epoch_start(env, first + 1))
    assert revert_data(env, lambda: view(reg.challenge(fid))) == env.error("NotDue", fid, first + 1)
    assert tx_reverts(env, reg.submitProof(fid, b""), env.alice) == env.error(
        "NotDue", fid, first + 1
    )


def test_constructor_checks(env: Env) -> None:
    factory = env.w3.eth.contract(abi=env.compiled.abi, bytecode=env.compiled.bytecode)
    v, src = env.verifier.address, env.source.address
    for args, error in (
        ((v, src, 10, 0), env.error("InvalidEpochParameters", 10, 0)),
        ((v, src, 10, 11), env.error("InvalidEpochParameters", 10, 11)),
        ((v, src, 0, 0), env.error("InvalidEpochParameters", 0, 0)),
        ((env.bob, src, 10, 5), env.error("InvalidVerifier", env.bob)),
        ((v, env.bob, 10, 5), env.error("InvalidRandomnessSource", env.bob)),
    ):
        assert tx_reverts(env, factory.constructor(*args), env.client) == error
    receipt = send(env, factory.constructor(v, src, 1, 1), env.client)  # the smallest epochs
    assert receipt["contractAddress"]


def test_epoch_randomness_and_seeds(env: Env) -> None:
    reg = env.registry.functions
    ids = [register(env, c, env.alice) for c in (1, 2, 3)]
    first = first_epoch(env, ids[0])
    assert revert_data(env, lambda: reg.seed(ids[0], first).call()) == env.error(
        "RandomnessNotFixed", first
    )
    seeds = {}
    rng = random.Random(7)
    for epoch in (first, first + 1, first + 2):
        advance_to(env, epoch_start(env, epoch) + 1)  # any block of the epoch
        prevrandao = rng.randbytes(32)
        set_prevrandao(env, prevrandao)
        randomness = begin_epoch(env)
        fixed_at = reg.randomnessBlock(epoch).call()
        assert fixed_at == epoch_start(env, epoch) + 1
        # BlockRandomness's documented formula (the parent hash matters where prevrandao is
        # constant); the registry records the source's value as given.
        parent = bytes(env.w3.eth.get_block(fixed_at - 1)["hash"])
        preimage = encode(["bytes32", "bytes32"], [prevrandao, parent])
        assert randomness == int.from_bytes(Web3.keccak(preimage), "big")
        # Idempotent: a second call in the epoch changes nothing and emits nothing.
        assert list(view(reg.beginEpoch())) == [epoch, randomness]
        receipt = send(env, reg.beginEpoch(), env.bob)
        assert events(env, receipt, "EpochBegun") == []
        assert reg.epochRandomness(epoch).call() == randomness
        assert reg.randomnessBlock(epoch).call() == fixed_at
        for fid in ids:
            s = reg.seed(fid, epoch).call()
            assert s == expected_seed(env, randomness, epoch, fid)
            seeds[fid, epoch] = s
    assert len(set(seeds.values())) == len(seeds) == 9
    assert all(0 <= s < R for s in seeds.values())
    assert len({reg.epochRandomness(e).call() for e in (first, first + 1, first + 2)}) == 3


def test_constants_and_bytecode_size(env: Env) -> None:
    reg = env.registry.functions
    assert reg.R().call() == R and reg.MIN_VERIFY_GAS().call() == MIN_VERIFY_GAS
    assert (reg.epochLength().call(), reg.proofWindow().call()) == (EPOCH_LENGTH, PROOF_WINDOW)
    assert reg.verifier().call() == env.verifier.address
    assert reg.randomnessSource().call() == env.source.address
    assert env.compiled.runtime_size < 24_576  # EIP-170
    # The deployed code is the compiled runtime with the immutables filled in.
    assert len(env.w3.eth.get_code(env.registry.address)) == env.compiled.runtime_size


# -- the beacon source ------------------------------------------------------------------------


def round_of(epoch: int) -> int:
    return FIRST_ROUND + epoch * ROUNDS_PER_EPOCH


def publish(env: Env, epoch: int, value: int) -> Any:
    """The (mock) beacon publishes ``value`` as epoch ``epoch``'s round."""
    assert env.beacon is not None
    assert env.source.functions.roundOf(epoch).call() == round_of(epoch)
    return send(env, env.beacon.functions.publish(round_of(epoch), value), env.keeper)


def test_beacon_epoch_waits_for_its_round(beacon_env: Env, files: dict[str, StoredFile]) -> None:
    env, a = beacon_env, files["a"]
    reg = env.registry.functions
    fid = register(env, a.c, env.alice)
    epoch = first_epoch(env, fid)
    # Neighbouring rounds (the previous and the next epoch's, one off) are published ...
    for other in (round_of(epoch - 1), round_of(epoch + 1), round_of(epoch) + 1):
        send(env, env.beacon.functions.publish(other, 0xBAD), env.keeper)  # type: ignore[union-attr]
    advance_to(env, epoch_start(env, epoch))
    # ... but not the epoch's: it cannot be opened, and nothing can be proven.
    unavailable = env.error("RandomnessUnavailable", epoch)
    assert tx_reverts(env, reg.beginEpoch(), env.keeper) == unavailable
    assert tx_reverts(env, reg.submitProof(fid, bytes(768)), env.alice) == unavailable
    assert revert_data(env, lambda: view(reg.challenge(fid))) == env.error(
        "RandomnessNotFixed", epoch
    )
    assert counters(env, fid) == (0, 0, 0)

    value = random.Random(11).getrandbits(256)
    publish(env, epoch, value)
    randomness = begin_epoch(env)
    assert randomness == value == reg.epochRandomness(epoch).call()
    epoch_, seed, _ = view(reg.challenge(fid))
    assert epoch_ == epoch and seed == expected_seed(env, value, epoch, fid)

    # A relay that later changes the round's value does not change the recorded seed: a proof
    # for the seed of the new value is rejected, one for the recorded seed is accepted.
    publish(env, epoch, value ^ 1)
    assert reg.seed(fid, epoch).call() == seed and reg.epochRandomness(epoch).call() == value
    wrong_seed = expected_seed(env, value ^ 1, epoch, fid)
    assert wrong_seed != seed
    receipt = submit(env, fid, prove(a, wrong_seed, env.alice), env.alice)
    assert [dict(e) for e in events(env, receipt, "ProofRejected")] == [
        {"fileId": fid, "epoch": epoch, "seed": seed}
    ]
    receipt = submit(env, fid, prove(a, seed, env.alice), env.alice)
    assert [dict(e) for e in events(env, receipt, "ProofAccepted")] == [
        {"fileId": fid, "epoch": epoch, "seed": seed}
    ]
    GAS["submitProof (accepted, beacon)"] = receipt["gasUsed"]
    assert receipt["gasUsed"] < SUBMIT_GAS_BOUND
    assert counters(env, fid) == (1, 0, 1)


def test_beacon_stale_seed_is_rejected(beacon_env: Env, files: dict[str, StoredFile]) -> None:
    env, a = beacon_env, files["a"]
    reg = env.registry.functions
    fid = register(env, a.c, env.alice)
    epoch = first_epoch(env, fid)
    publish(env, epoch, 1234)  # early: before the epoch starts, so it opens in its first block
    advance_to(env, epoch_start(env, epoch))
    receipt = submit(env, fid, prove(a, expected_seed(env, 1234, epoch, fid), env.alice), env.alice)
    assert len(events(env, receipt, "EpochBegun")) == 1  # submitProof opened the epoch itself
    assert len(events(env, receipt, "ProofAccepted")) == 1
    GAS["submitProof (accepted, beacon, opens epoch)"] = receipt["gasUsed"]
    stale = prove(a, reg.seed(fid, epoch).call(), env.alice)
    # Next epoch, round not yet published: refused, nothing recorded.
    advance_to(env, epoch_start(env, epoch + 1))
    assert tx_reverts(env, reg.submitProof(fid, stale), env.alice) == env.error(
        "RandomnessUnavailable", epoch + 1
    )
    assert counters(env, fid) == (1, 0, 0)
    # Once it is (with the same value as before: the registry still binds the epoch), the
    # stale proof is rejected and recorded.
    publish(env, epoch + 1, 1234)
    receipt = submit(env, fid, stale, env.alice)
    new_seed = reg.seed(fid, epoch + 1).call()
    assert new_seed == expected_seed(env, 1234, epoch + 1, fid) != reg.seed(fid, epoch).call()
    assert [dict(e) for e in events(env, receipt, "ProofRejected")] == [
        {"fileId": fid, "epoch": epoch + 1, "seed": new_seed}
    ]
    assert counters(env, fid) == (1, 0, 1)


def test_beacon_seeds_are_bound_to_file_epoch_and_registry(
    beacon_env: Env, beacon_code: tuple[evm.Compiled, evm.Compiled]
) -> None:
    env = beacon_env
    reg = env.registry.functions
    ids = [register(env, c, env.alice) for c in (1, 2)]
    # A second registry reading the same beacon rounds.
    other, _ = deploy_registry(env.w3, env.compiled, env.verifier.address, env.source.address)
    send(env, other.functions.register(1, env.alice), env.client)
    first = first_epoch(env, ids[0])
    seeds = {}
    for epoch in (first, first + 1):
        publish(env, epoch, 42)  # the same value for both rounds
        advance_to(env, epoch_start(env, epoch) + 2)
        assert begin_epoch(env) == 42
        send(env, other.functions.beginEpoch(), env.keeper)
        for fid in ids:
            seeds[fid, epoch] = reg.seed(fid, epoch).call()
            assert seeds[fid, epoch] == expected_seed(env, 42, epoch, fid)
        other_epoch = int(other.functions.currentEpoch().call())
        seeds["other", epoch] = other.functions.seed(1, other_epoch).call()
    assert len(set(seeds.values())) == len(seeds) == 6
    assert all(0 <= s < R for s in seeds.values())


def test_unavailable_randomness_excuses_the_epoch(
    beacon_env: Env, files: dict[str, StoredFile]
) -> None:
    env = beacon_env
    reg = env.registry.functions
    ids = [register(env, c, env.alice) for c in (1, 2, 3, 4)]
    e = first_epoch(env, ids[0])

    def outcome(fid: int, epoch: int) -> str:
        receipt = send(env, reg.recordMissed(fid, epoch), env.keeper)
        (kind,) = [k for k in ("ProofMissed", "ProofExcused") if events(env, receipt, k)]
        assert [dict(x) for x in events(env, receipt, kind)] == [{"fileId": fid, "epoch": epoch}]
        GAS.setdefault(f"recordMissed ({kind}, beacon)", receipt["gasUsed"])
        return kind

    # Epoch e: round never published in the window; it is excused, and stays so once the
    # round appears late. Nothing can be proven after the deadline either way.
    advance_to(env, deadline(env, e) + 1)
    assert tx_reverts(env, reg.submitProof(ids[0], bytes(768)), env.alice) == env.error(
        "TooLate", e, deadline(env, e)
    )
    assert outcome(ids[0], e) == "ProofExcused"
    publish(env, e, 7)
    assert outcome(ids[1], e) == "ProofExcused"
    receipt = send(env, reg.beginEpoch(), env.keeper)  # opening it late changes nothing
    assert reg.randomnessBlock(e).call() == receipt["blockNumber"]
    assert tx_reverts(env, reg.recordMissed(ids[0], e), env.keeper) == env.error(
        "AlreadyExcused", ids[0], e
    )
    assert reg.status(ids[0], e).call() == 3 and reg.excusedEpochs(ids[0]).call() == 1
    assert counters(env, ids[0]) == (0, 0, 0)
    # Fixed after the deadline is not fixed in time: another file due in e is excused too.
    assert outcome(ids[2], e) == "ProofExcused"

    # Epoch e + 1: round published in the deadline block, nobody opened the epoch: the
    # provider could have, so it is missed (the relay's publication block decides).
    advance_to(env, deadline(env, e + 1))
    receipt = publish(env, e + 1, 8)
    assert receipt["blockNumber"] == deadline(env, e + 1)
    assert outcome(ids[0], e + 1) == "ProofMissed"
    assert reg.randomnessBlock(e + 1).call() == 0
    # Epoch e + 2: published one block after the deadline: excused.
    advance_to(env, deadline(env, e + 2) + 1)
    publish(env, e + 2, 9)
    assert outcome(ids[0], e + 2) == "ProofExcused"
    assert (reg.missedEpochs(ids[0]).call(), reg.excusedEpochs(ids[0]).call()) == (1, 2)


def test_beacon_source_checks(env: Env, beacon_code: tuple[evm.Compiled, evm.Compiled]) -> None:
    adapter, mock = beacon_code
    factory = env.w3.eth.contract(abi=adapter.abi, bytecode=adapter.bytecode)
    beacon = evm.deploy(env.w3, mock)
    assert tx_reverts(env, factory.constructor(env.bob, 0, 1), env.client) == abi_error(
        adapter.abi, "InvalidBeacon", env.bob
    )
    assert tx_reverts(env, factory.constructor(beacon.address, 0, 0), env.client) == abi_error(
        adapter.abi, "InvalidRoundsPerEpoch"
    )
    source = evm.deploy(env.w3, adapter, beacon.address, 5, 2)
    assert source.functions.roundOf(3).call() == 11
    assert source.functions.randomness(3).call() == [False, 0]
    assert source.functions.availableSince(3).call() == 0
    receipt = send(env, beacon.functions.publish(11, 99), env.keeper)
    assert source.functions.randomness(3).call() == [True, 99]
    assert source.functions.availableSince(3).call() == receipt["blockNumber"]
    # BlockRandomness: always available, a fresh value per block.
    assert env.source.functions.availableSince(3).call() == 1
    available, value = view(env.source.functions.randomness(3))
    assert available and value != 0
