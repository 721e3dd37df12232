"""A storage provider's side of an ``EpochRegistry`` (``docs/spec/storage-catalogue.md``).

This module holds the piece every provider run depends on: turning the registry's
``ChangeQueued`` events into the list of changes to apply, checked against the queue digests
the registry recorded (``queueHead``). Events come from an RPC node the provider does not
control; only ``queueHead`` is contract state the update proof is checked against, so a
change is accepted only if it reproduces the recorded digest chain.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bigfile_zk import epoch
from bigfile_zk._native import SRS, FileCommitment
from bigfile_zk.catalogue import OPS, prove_update, queue_next
from bigfile_zk.epoch import Catalogue, FileLocation
from bigfile_zk.errors import DecodeError, InsecureSRSError, ParameterError


@dataclass(frozen=True)
class QueuedChange:
    """Change ``index`` of a provider's queue: ``slot`` set to ``value`` (0 = removal)."""

    index: int
    slot: int
    value: int


def checked_changes(
    events: Iterable[Mapping[str, int]],
    *,
    applied: int,
    queued: int,
    head_at: Callable[[int], int],
) -> list[QueuedChange]:
    """The queued changes ``applied+1 .. queued`` (queue indices as in ``queueHead``: change
    ``j`` makes head ``j``), from ``ChangeQueued`` event arguments (``index``, ``slot``,
    ``value``, ``head``), each checked against the registry's ``head_at(j)``.

    Raises :class:`DecodeError` naming the index when a change is missing, duplicated with
    different data, or does not reproduce the recorded digest (a forged or reordered event).
    """
    if not 0 <= applied <= queued:
        raise ValueError(f"queue counters out of order: applied={applied}, queued={queued}")
    by_index: dict[int, QueuedChange] = {}
    for ev in events:
        change = QueuedChange(int(ev["index"]), int(ev["slot"]), int(ev["value"]))
        if not applied < change.index <= queued:
            continue
        seen = by_index.get(change.index)
        if seen is not None and seen != change:
            raise DecodeError(f"two different ChangeQueued events for queue index {change.index}")
        by_index[change.index] = change
    out: list[QueuedChange] = []
    head = head_at(applied)
    for j in range(applied + 1, queued + 1):
        change = by_index.get(j)
        if change is None:
            raise DecodeError(f"no ChangeQueued event for queue index {j}")
        head = queue_next(head, change.slot, change.value)
        if head != head_at(j):
            raise DecodeError(
                f"ChangeQueued event for queue index {j} (slot {change.slot}) does not match "
                "the registry's queueHead digest"
            )
        out.append(change)
    return out


@dataclass
class EpochReport:
    """What one :func:`run_epoch` did."""

    epoch: int
    updates: list[tuple[int, int]]  # (changes applied up to queue index, gas)
    seed: int | None = None
    accepted: bool | None = None  # None: no proof was due or it was already submitted
    gas: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _history(path: Path, commitment: int) -> Path:
    return path.with_name(path.name + ".history") / f"{commitment:064x}.json"


def _save(path: Path, cat: Catalogue) -> None:
    # Every catalogue the provider ever held is kept by commitment: the one in force for an
    # epoch (catalogueAt) lags the latest by the updates applied during that epoch.
    hist = _history(path, cat.commitment)
    hist.parent.mkdir(exist_ok=True)
    cat.save(hist)
    cat.save(path)


def run_epoch(
    w3: Any,
    registry: Any,
    account: str,
    catalogue_path: str | os.PathLike[str],
    files: Mapping[FileCommitment, FileLocation],
    *,
    srs: SRS | None = None,
    allow_insecure_srs: bool = False,
    progress: bool | None = None,
) -> EpochReport:
    """One epoch of provider ``account``: apply its queued catalogue changes, then prove the
    epoch if it is due (local, in-process proving; transactions sent from ``account``)."""
    from web3.logs import DISCARD  # web3 is an optional dependency (the evm extra)

    if srs is not None and srs.is_insecure and not allow_insecure_srs:
        raise InsecureSRSError("the insecure test SRS needs allow_insecure_srs=True")
    path = Path(catalogue_path)
    reg = registry.functions
    p = w3.to_checksum_address(account)
    cat = Catalogue.load(path)
    if cat.commitment != reg.latestCatalogue(p).call(block_identifier="pending"):
        raise ParameterError(f"{path}: the local catalogue is not the registry's latest")
    _history(path, cat.commitment).parent.mkdir(exist_ok=True)
    if not _history(path, cat.commitment).exists():
        cat.save(_history(path, cat.commitment))
    by_commitment = {f.commitment: f for f in files}

    def send(fn: Any, gas: int = 2_000_000) -> Any:
        receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": p, "gas": gas}))
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {receipt['transactionHash'].hex()} reverted")
        return receipt

    e = int(reg.currentEpoch().call(block_identifier="pending"))
    report = EpochReport(e, [])
    # Prove first: the catalogue in force this epoch is fixed (catalogueAt), updates sent now
    # only take effect next epoch.
    if reg.isDue(p, e).call(block_identifier="pending") and int(reg.status(p, e).call()) == 0:
        t = time.perf_counter()
        in_force = int(reg.catalogueAt(p, e).call(block_identifier="pending"))
        hist = _history(path, in_force)
        if not hist.exists():
            raise ParameterError(
                f"catalogue {in_force:#x} in force for epoch {e} is not in {hist.parent}"
            )
        proven = Catalogue.load(hist)
        if w3.eth.block_number + 1 > int(reg.proofDeadline(e).call()):
            raise ParameterError(f"too late: epoch {e}'s proof window has closed")
        send(reg.beginEpoch())  # idempotent within the epoch: fixes the randomness
        report.seed = int(reg.seed(p, e).call(block_identifier="pending"))
        held = set(proven.leaves)
        located = {c: loc for c, loc in files.items() if c.commitment in held}
        proof = epoch.prove_epoch(proven, located, report.seed, p, srs=srs, progress=progress)
        report.seconds["prove epoch"] = time.perf_counter() - t
        receipt = send(reg.submitEpochProof(proof.proof.to_evm_bytes()))
        report.gas["submitEpochProof"] = receipt["gasUsed"]
        accepted = registry.events.ProofAccepted().process_receipt(receipt, errors=DISCARD)
        report.accepted = bool(accepted)
    _, queued, applied = reg.queues(p).call(block_identifier="pending")
    logs = registry.events.ChangeQueued().get_logs(from_block=0, argument_filters={"provider": p})
    changes = checked_changes(
        [log["args"] for log in logs],
        applied=applied,
        queued=queued,
        head_at=lambda j: int(reg.queueHead(p, j).call(block_identifier="pending")),
    )
    for start in range(0, len(changes), OPS):
        batch = changes[start : start + OPS]
        ops: list[tuple[int, FileCommitment | None]] = []
        for ch in batch:
            if ch.value and ch.value not in by_commitment:
                raise ParameterError(f"queued file {ch.value:#x} (slot {ch.slot}) is not in files")
            ops.append((ch.slot, by_commitment[ch.value] if ch.value else None))
        t = time.perf_counter()
        head = int(reg.queueHead(p, batch[0].index - 1).call(block_identifier="pending"))
        update, after = prove_update(cat, head, ops, srs=srs, progress=progress)
        report.seconds[f"prove update to {batch[-1].index}"] = time.perf_counter() - t
        fn = reg.updateCatalogue(p, batch[-1].index, after.commitment, update.proof.to_evm_bytes())
        receipt = send(fn)
        report.updates.append((batch[-1].index, receipt["gasUsed"]))
        cat = after
        _save(path, cat)
    if cat.commitment != reg.latestCatalogue(p).call(block_identifier="pending"):
        raise RuntimeError(
            "after the updates the registry's latest catalogue differs from the local one"
        )
    return report
