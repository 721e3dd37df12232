"""EpochRegistry.sol end to end (``docs/spec/storage-catalogue.md``): a provider's catalogue
built through requests, acceptances and removals, updated with real catalogue-update proofs,
and proven once per epoch with real epoch proofs, all on py-evm (web3.py's
EthereumTesterProvider) with the generated verifiers.

The helpers of ``test_registry.py`` (blocks, views, transactions, custom-error revert data) are
reused. Epochs are EPOCH_LENGTH = 10 blocks with a PROOF_WINDOW of 5.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("web3", reason="the registry tests need the test extras (web3)")
pytest.importorskip("eth_tester", reason="the registry tests need the test extras (eth-tester)")

from eth_abi import encode
from test_registry import abi_error, advance_to, events, send, tx_reverts, view
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

import bigfile_zk
from bigfile_zk import _cache, catalogue, epoch, evm
from bigfile_zk.epoch import Catalogue
from bigfile_zk.errors import InsecureSRSWarning

R = bigfile_zk.MODULUS
EPOCH_LENGTH = 10
PROOF_WINDOW = 5
TX_GAS = 2_000_000  # explicit: skips the node's gas-estimate bisection over the verifiers
GAS: dict[str, int] = {}


@dataclass(frozen=True)
class Stored:
    path: Path
    tree: Path
    commitment: bigfile_zk.FileCommitment

    @property
    def c(self) -> int:
        return self.commitment.commitment


@dataclass(frozen=True)
class Env:
    w3: Web3
    registry: Contract
    compiled: evm.Compiled
    client: str
    alice: str
    bob: str
    keeper: str
    srs: Any

    def error(self, name: str, *args: Any) -> bytes:
        return abi_error(self.compiled.abi, name, *args)


def _srs() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return _cache.insecure_test_srs(epoch.srs_degree())


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stored]:
    rng = random.Random(7)
    out = {}
    for name, size in (("a", 5000), ("b", 3000), ("c", 2000)):
        path = tmp_path_factory.mktemp("files") / f"{name}.bin"
        path.write_bytes(rng.randbytes(size))
        tree = path.with_suffix(".bin.bfzt")
        out[name] = Stored(path, tree, bigfile_zk.commit_file(path, tree=tree))
    return out


@pytest.fixture(scope="module")
def env(solc: Path) -> Env:
    srs = _srs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        _, epoch_vk = epoch.keys(srs=srs)
        _, update_vk = catalogue.update_keys(srs)
    w3 = Web3(EthereumTesterProvider())
    deployer, client, alice, bob, keeper = w3.eth.accounts[:5]
    verifiers = [
        evm.deploy(w3, evm.compile(vk.to_solidity(name, allow_insecure_srs=True), name, solc=solc))
        for vk, name in ((epoch_vk, "EpochVerifier"), (update_vk, "UpdateVerifier"))
    ]
    compiled = evm.compile(
        evm.epoch_registry_source(),
        "EpochRegistry",
        solc=solc,
        libraries=evm.epoch_registry_libraries(),
    )
    source = evm.deploy(w3, evm.compile(evm.registry_source(), "BlockRandomness", solc=solc))
    args = (verifiers[0].address, verifiers[1].address, source.address, EPOCH_LENGTH, PROOF_WINDOW)
    receipt = evm.deploy_transaction(w3, compiled, *args, sender=deployer)
    registry = w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)
    GAS["deploy"] = receipt["gasUsed"]
    GAS["runtime bytes"] = compiled.runtime_size
    return Env(w3, registry, compiled, client, alice, bob, keeper, srs)


@pytest.fixture(scope="module", autouse=True)
def gas_report() -> Iterator[None]:
    yield
    print(f"\nEpochRegistry gas used: {GAS}")


@pytest.fixture(autouse=True)
def fresh_chain(env: Env) -> Iterator[None]:
    snapshot = env.w3.testing.snapshot()
    yield
    env.w3.testing.revert(snapshot)


# -- helpers ----------------------------------------------------------------------------------


def request(env: Env, f: Stored, provider: str) -> int:
    receipt = send(env, env.registry.functions.request(f.c, provider), env.client)
    GAS["request"] = receipt["gasUsed"]
    (ev,) = events(env, receipt, "FileRequested")
    return int(ev["fileId"])


def accept(env: Env, file_id: int, provider: str) -> Any:
    receipt = send(env, env.registry.functions.accept(file_id), provider)
    GAS.setdefault("accept (first)", receipt["gasUsed"])
    GAS["accept"] = receipt["gasUsed"]
    return receipt


def head(env: Env, provider: str, index: int) -> int:
    return int(view(env.registry.functions.queueHead(provider, index)))


def queue(env: Env, provider: str) -> tuple[int, int, int]:
    """(nextSlot, queued, applied)."""
    return tuple(view(env.registry.functions.queues(provider)))  # type: ignore[return-value]


def update(env: Env, provider: str, before: Catalogue, changes: list[tuple[int, Any]]) -> Catalogue:
    """Prove the provider's next queued changes and submit the update (from the keeper)."""
    applied = queue(env, provider)[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        proof, after = catalogue.prove_update(
            before, head(env, provider, applied), changes, srs=env.srs, progress=False
        )
    upto = applied + len(changes)
    fn = env.registry.functions.updateCatalogue(
        provider, upto, after.commitment, proof.proof.to_evm_bytes()
    )
    receipt = send(env, fn, env.keeper, gas=TX_GAS)
    GAS[f"updateCatalogue ({len(changes)} changes)"] = receipt["gasUsed"]
    return after


def epoch_now(env: Env) -> int:
    return int(view(env.registry.functions.currentEpoch()))


def to_next_epoch(env: Env) -> int:
    e = epoch_now(env) + 1
    advance_to(env, int(env.registry.functions.epochStart(e).call()))
    return e


def begin(env: Env) -> int:
    receipt = send(env, env.registry.functions.beginEpoch(), env.keeper)
    (ev,) = events(env, receipt, "EpochBegun")
    return int(ev["randomness"])


def prove_epoch(
    env: Env, cat: Catalogue, files: dict[str, Stored], seed: int, prover: str
) -> bytes:
    held = set(cat.leaves)
    locations = {f.commitment: (f.path, f.tree) for f in files.values() if f.c in held}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        proof = epoch.prove_epoch(cat, locations, seed, prover, srs=env.srs, progress=False)
    return proof.proof.to_evm_bytes()


def submit(env: Env, proof: bytes, sender: str) -> tuple[bool, Any]:
    receipt = send(env, env.registry.functions.submitEpochProof(proof), sender, gas=TX_GAS)
    accepted = bool(events(env, receipt, "ProofAccepted"))
    return accepted, receipt


def catalogue_with(*stored: Stored) -> Catalogue:
    cat = Catalogue()
    for f in stored:
        cat.add(f.commitment)
    return cat


def onboard(
    env: Env, files: dict[str, Stored], names: str, provider: str
) -> tuple[list[int], Catalogue]:
    """Request and accept ``names`` for ``provider`` and apply them; (file ids, catalogue)."""
    ids = [request(env, files[n], provider) for n in names]
    for i in ids:
        accept(env, i, provider)
    before = Catalogue()
    cat = update(env, provider, before, [(j, files[n].commitment) for j, n in enumerate(names)])
    return ids, cat


# -- tests ------------------------------------------------------------------------------------


def test_constants(env: Env) -> None:
    reg = env.registry.functions
    assert reg.EMPTY_CATALOGUE().call() == Catalogue().commitment
    assert reg.OPS().call() == catalogue.OPS and reg.SLOTS().call() == catalogue.SLOTS
    assert GAS["runtime bytes"] <= 24_576  # EIP-170


def test_deploy_epoch_registry(env: Env, solc: Path) -> None:
    reg = env.registry.functions
    verifiers = (reg.epochVerifier().call(), reg.updateVerifier().call())
    other = evm.deploy_epoch_registry(env.w3, *verifiers, 20, 7, solc=solc)
    f = other.functions
    assert (f.epochVerifier().call(), f.updateVerifier().call()) == verifiers
    assert (f.epochLength().call(), f.proofWindow().call()) == (20, 7)
    # A new BlockRandomness, not the env's source.
    source = f.randomnessSource().call()
    assert source != reg.randomnessSource().call()
    assert env.w3.eth.get_code(source)
    assert f.EMPTY_CATALOGUE().call() == Catalogue().commitment


def test_queue_digest_and_catalogue_update(env: Env, files: dict[str, Stored]) -> None:
    reg, a, b = env.registry.functions, files["a"], files["b"]
    ida, idb = request(env, a, env.alice), request(env, b, env.alice)
    accept(env, ida, env.alice)
    accept(env, idb, env.alice)
    # The registry's digest is the library's queue digest.
    h1 = catalogue.queue_next(0, 0, a.c)
    assert head(env, env.alice, 1) == h1
    assert head(env, env.alice, 2) == catalogue.queue_next(h1, 1, b.c)
    assert queue(env, env.alice) == (2, 2, 0)
    assert not view(reg.inCatalogue(ida))
    e = epoch_now(env)
    cat = update(env, env.alice, Catalogue(), [(0, a.commitment), (1, b.commitment)])
    assert view(reg.latestCatalogue(env.alice)) == cat.commitment
    assert view(reg.inCatalogue(ida)) and view(reg.inCatalogue(idb))
    # In force from the next epoch only: the current one keeps the catalogue it began with.
    assert view(reg.catalogueAt(env.alice, e)) == Catalogue().commitment
    assert view(reg.catalogueAt(env.alice, e + 1)) == cat.commitment
    assert not view(reg.isDue(env.alice, e)) and view(reg.isDue(env.alice, e + 1))
    # The client removes b: queued, applied by a second update.
    send(env, reg.remove(idb), env.client)
    cat2 = catalogue_with(a, b)
    cat2.remove(1)
    after = update(env, env.alice, cat, [(1, None)])
    assert after.commitment == cat2.commitment
    assert view(reg.inCatalogue(ida)) and not view(reg.inCatalogue(idb))


def test_update_proofs_must_replay_the_queue(env: Env, files: dict[str, Stored]) -> None:
    reg, a, b, c = env.registry.functions, files["a"], files["b"], files["c"]
    ids = [request(env, f, env.alice) for f in (a, b, c)]
    for i in ids:
        accept(env, i, env.alice)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        # A catalogue that leaves the first queued file out, proven from the right digest:
        # its h_new is not the registry's recorded head 2 (nor any head).
        skip, skip_cat = catalogue.prove_update(
            Catalogue(), 0, [(0, b.commitment), (1, c.commitment)], srs=env.srs, progress=False
        )
        honest, cat = catalogue.prove_update(
            Catalogue(), 0, [(0, a.commitment), (1, b.commitment)], srs=env.srs, progress=False
        )
    data = skip.proof.to_evm_bytes()
    fn = reg.updateCatalogue(env.alice, 2, skip_cat.commitment, data)
    assert tx_reverts(env, fn, env.keeper) == env.error("InvalidUpdateProof", env.alice, 2)
    # The honest proof with another claimed result, or for another range, is refused.
    good = honest.proof.to_evm_bytes()
    for upto, k in ((2, (cat.commitment + 1) % R), (3, cat.commitment), (1, cat.commitment)):
        fn = reg.updateCatalogue(env.alice, upto, k, good)
        assert tx_reverts(env, fn, env.keeper) == env.error("InvalidUpdateProof", env.alice, upto)
    # Ranges: nothing to apply, beyond the queue.
    for upto in (0, 4):
        fn = reg.updateCatalogue(env.alice, upto, cat.commitment, good)
        assert tx_reverts(env, fn, env.keeper) == env.error("BadUpdateRange", env.alice, 0, 3, upto)
    # Another provider's queue: the proof is for alice's digests.
    fn = reg.updateCatalogue(env.bob, 2, cat.commitment, good)
    assert tx_reverts(env, fn, env.keeper) == env.error("BadUpdateRange", env.bob, 0, 0, 2)
    # The honest one, submitted by anybody.
    send(env, reg.updateCatalogue(env.alice, 2, cat.commitment, good), env.bob, gas=TX_GAS)
    assert queue(env, env.alice) == (3, 3, 2)


def test_who_may_change_a_catalogue(env: Env, files: dict[str, Stored]) -> None:
    reg, a = env.registry.functions, files["a"]
    fid = request(env, a, env.alice)
    assert tx_reverts(env, reg.accept(fid), env.bob) == env.error("NotProvider", fid, env.bob)
    assert tx_reverts(env, reg.remove(fid), env.client) == env.error("WrongStatus", fid, 1)
    accept(env, fid, env.alice)
    assert tx_reverts(env, reg.accept(fid), env.alice) == env.error("WrongStatus", fid, 3)
    assert tx_reverts(env, reg.remove(fid), env.alice) == env.error("NotClient", fid, env.alice)
    assert tx_reverts(env, reg.cancel(fid), env.client) == env.error("WrongStatus", fid, 3)
    send(env, reg.remove(fid), env.client)
    assert tx_reverts(env, reg.remove(fid), env.client) == env.error("WrongStatus", fid, 4)
    # A request can be withdrawn before acceptance, and then never accepted.
    fid2 = request(env, a, env.alice)
    send(env, reg.cancel(fid2), env.client)
    assert tx_reverts(env, reg.accept(fid2), env.alice) == env.error("WrongStatus", fid2, 2)
    for bad, err in ((0, ("ZeroCommitment",)), (R, ("CommitmentNotInField", R))):
        assert tx_reverts(env, reg.request(bad, env.alice), env.client) == env.error(*err)
    zero = "0x" + "00" * 20
    assert tx_reverts(env, reg.request(a.c, zero), env.client) == env.error("ZeroProvider")
    assert tx_reverts(env, reg.cancel(99), env.client) == env.error("UnknownFile", 99)


def test_epoch_proofs(env: Env, files: dict[str, Stored]) -> None:
    reg = env.registry.functions
    _, cat = onboard(env, files, "ab", env.alice)
    # Bob stores the same two files: the same catalogue commitment, other seeds and identity.
    _, bob_cat = onboard(env, files, "ab", env.bob)
    assert bob_cat.commitment == cat.commitment
    e = to_next_epoch(env)
    randomness = begin(env)
    seed = int(view(reg.seed(env.alice, e)))
    preimage = encode(
        ["uint256", "uint256", "address", "uint64", "address"],
        [randomness, env.w3.eth.chain_id, env.registry.address, e, env.alice],
    )
    assert seed == int.from_bytes(Web3.keccak(preimage), "big") % R
    proof = prove_epoch(env, cat, files, seed, env.alice)
    # Bob, with the same catalogue, cannot use alice's proof (recorded invalid for bob); a proof
    # for another seed is recorded invalid.
    accepted, _ = submit(env, proof, env.bob)
    assert not accepted and view(reg.invalidProofs(env.bob)) == 1
    stale = prove_epoch(env, cat, files, (seed + 1) % R, env.alice)
    accepted, _ = submit(env, stale, env.alice)
    assert not accepted and view(reg.invalidProofs(env.alice)) == 1
    accepted, receipt = submit(env, proof, env.alice)
    assert accepted and view(reg.status(env.alice, e)) == 1
    GAS["submitEpochProof (accepted)"] = receipt["gasUsed"]
    assert tx_reverts(env, reg.submitEpochProof(proof), env.alice) == env.error(
        "AlreadyRecorded", env.alice, e, 1
    )
    # Next epoch, after an update (c added during epoch e): the proof must be for the new
    # catalogue; one for the old catalogue is refused.
    fid = request(env, files["c"], env.alice)
    accept(env, fid, env.alice)
    cat2 = update(env, env.alice, cat, [(2, files["c"].commitment)])
    e2 = to_next_epoch(env)
    begin(env)
    seed2 = int(view(reg.seed(env.alice, e2)))
    old = prove_epoch(env, cat, files, seed2, env.alice)
    assert not submit(env, old, env.alice)[0]
    assert submit(env, prove_epoch(env, cat2, files, seed2, env.alice), env.alice)[0]


def test_missed_epoch_and_dropped_file(env: Env, files: dict[str, Stored]) -> None:
    reg = env.registry.functions
    _, cat = onboard(env, files, "abc", env.alice)
    e = to_next_epoch(env)
    begin(env)
    seed = int(view(reg.seed(env.alice, e)))
    # The provider lost file b: with 40 samples over 3 slots the sample hits b (probability
    # 1 - (2/3)^40), and no proof can be made without its data.
    kept = {n: f for n, f in files.items() if n != "b"}
    with pytest.raises(bigfile_zk.errors.ParameterError):
        prove_epoch(env, cat, kept, seed, env.alice)
    deadline = int(reg.proofDeadline(e).call())
    assert tx_reverts(env, reg.recordMissed(env.alice, e), env.keeper) == env.error(
        "TooEarly", e, deadline
    )
    advance_to(env, deadline + 1)
    late = prove_epoch(env, cat, files, seed, env.alice)
    data = tx_reverts(env, reg.submitEpochProof(late), env.alice)
    assert data == env.error("TooLate", e, deadline)
    receipt = send(env, reg.recordMissed(env.alice, e), env.keeper)
    GAS["recordMissed"] = receipt["gasUsed"]
    assert view(reg.status(env.alice, e)) == 2 and view(reg.missedEpochs(env.alice)) == 1
    assert tx_reverts(env, reg.recordMissed(env.alice, e), env.keeper) == env.error(
        "AlreadyRecorded", env.alice, e, 2
    )
    # Bob has no catalogue: nothing due.
    assert tx_reverts(env, reg.recordMissed(env.bob, e), env.keeper) == env.error(
        "NotDue", env.bob, e
    )
