"""A storage provider's side of an ``EpochRegistry`` (``docs/spec/storage-catalogue.md``):
:func:`run_epoch` does one epoch end to end (``bigfile-zk provider epoch`` on the command
line): it proves the epoch if it is due, submits the proof, and brings the registry's
catalogue up to date with the changes clients queued, proving locally or on a Ray cluster.

Events come from an RPC node the provider does not control: a queued change is used only if
it reproduces the digest chain the registry recorded (``queueHead``, contract state that the
update proofs are checked against), see :func:`checked_changes`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bigfile_zk import _io, epoch
from bigfile_zk._native import SRS, FileCommitment
from bigfile_zk.catalogue import OPS, CatalogueUpdate, apply_changes, prove_update, queue_next
from bigfile_zk.epoch import Catalogue, EpochProof, FileLocation
from bigfile_zk.errors import (
    DecodeError,
    InsecureSRSError,
    ParameterError,
    TransactionFailedError,
)


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
    """What one :func:`run_epoch` did. ``accepted``: whether the epoch proof was accepted
    (``None``: no proof was due, or it was already submitted)."""

    epoch: int
    provider: str
    due: bool = False
    catalogue: int | None = None  # K in force for the epoch, when due
    seed: int | None = None
    accepted: bool | None = None
    updates: list[tuple[int, int]] = field(default_factory=list)  # (up to queue index, gas)
    gas: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)  # proof -> worker, batch backends
    missing: list[int] = field(default_factory=list)  # catalogued slots not in files

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (field elements as 0x-hex)."""
        return {
            "epoch": self.epoch,
            "provider": self.provider,
            "due": self.due,
            "catalogue": None if self.catalogue is None else f"0x{self.catalogue:064x}",
            "seed": None if self.seed is None else str(self.seed),
            "accepted": self.accepted,
            "updates": [{"to_index": j, "gas": g} for j, g in self.updates],
            "gas": self.gas,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "workers": self.workers,
            "missing_slots": self.missing,
        }


def load_files(path: str | os.PathLike[str]) -> dict[FileCommitment, FileLocation]:
    """The files a provider holds, by commitment, from a **files list**: either a directory
    (every file ``F`` below it with ``F.commitment.json`` beside it, as ``bigfile-zk storage
    commit`` leaves them; ``F.bfzt`` is its tree when present) or a JSON list whose items are
    a data path or ``{"file": F, "commitment": C?, "tree": T?}`` with the same defaults,
    relative paths taken from the list's folder. Only commitments are read here; data is read
    when a file is sampled. Malformed entries raise :class:`DecodeError` naming them."""
    import json

    root = os.fspath(path)
    entries: list[tuple[str, str, str | None]] = []  # (data, commitment JSON, tree)
    if os.path.isdir(root):
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                if name.endswith(".commitment.json"):
                    data = os.path.join(folder, name[: -len(".commitment.json")])
                    if os.path.isfile(data):
                        entries.append((data, os.path.join(folder, name), None))
    else:
        text = _io.read_text(root, 256 * 2**20, "provider files list")
        if _io._too_deep(text, _io.MAX_JSON_DEPTH):
            raise DecodeError(f"{root}: nested deeper than {_io.MAX_JSON_DEPTH} levels")
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise DecodeError(f"{root}: not JSON ({exc})") from None
        if not isinstance(items, list):
            raise DecodeError(f"{root}: a provider files list is a JSON list")
        base = os.path.dirname(os.path.abspath(root))
        for i, item in enumerate(items):
            if isinstance(item, str):
                item = {"file": item}
            if not isinstance(item, dict) or not isinstance(item.get("file"), str):
                raise DecodeError(f'{root}: item {i} is a path or an object with a "file"')
            unknown = sorted(set(item) - {"file", "commitment", "tree"})
            if unknown or not all(
                isinstance(item.get(k), (str, type(None))) for k in ("commitment", "tree")
            ):
                raise DecodeError(f"{root}: item {i} has unknown or non-string fields {unknown}")
            data = os.path.join(base, item["file"])
            c = item.get("commitment")
            tree = item.get("tree")
            entries.append(
                (
                    data,
                    os.path.join(base, c) if c else f"{data}.commitment.json",
                    os.path.join(base, tree) if tree else None,
                )
            )
    out: dict[FileCommitment, FileLocation] = {}
    for data, cpath, tree in entries:
        try:
            c = FileCommitment.from_json(
                _io.read_text(cpath, _io.MAX_COMMITMENT_JSON, "commitment JSON")
            )
        except (DecodeError, ValueError) as exc:
            raise DecodeError(f"{cpath}: {exc}") from None
        if tree is None and os.path.isfile(f"{data}.bfzt"):
            tree = f"{data}.bfzt"
        out.setdefault(c, (data, tree))
    return out


def _history(path: Path, commitment: int) -> Path:
    return path.with_name(path.name + ".history") / f"{commitment:064x}.json"


def _keep(path: Path, cat: Catalogue) -> Path:
    """Save ``cat`` in the history beside ``path`` (every catalogue the provider held or is
    about to hold, by commitment: the one in force for an epoch lags the latest by the
    updates applied during that epoch) and return where."""
    hist = _history(path, cat.commitment)
    hist.parent.mkdir(exist_ok=True)
    if not hist.exists():
        cat.save(hist)
    return hist


def _located(
    cat: Catalogue, files: Mapping[FileCommitment, FileLocation]
) -> dict[FileCommitment, FileLocation]:
    held = set(cat.leaves)
    return {c: loc for c, loc in files.items() if c.commitment in held}


def run_epoch(
    w3: Any,
    registry: Any,
    account: str,
    catalogue_path: str | os.PathLike[str],
    files: Mapping[FileCommitment, FileLocation],
    *,
    srs: SRS | None = None,
    allow_insecure_srs: bool = False,
    backend: Literal["local", "ray"] | None = None,
    address: str | None = None,
    workers: int | None = None,
    from_block: int = 0,
    progress: bool | None = None,
    log: Callable[[str], object] | None = None,
) -> EpochReport:
    """One epoch of provider ``account`` against ``registry`` (a web3 contract; transactions
    are sent from ``account``, so ``w3`` must be able to sign for it):

    1. if the epoch's proof is due and not yet submitted, fix the epoch's randomness
       (``beginEpoch``), prove the catalogue **in force** for the epoch (``catalogueAt``,
       looked up in the history kept beside ``catalogue_path``) and submit the proof;
    2. apply the changes clients queued since the last update, :data:`OPS` per update
       proof, checked against the registry's digests (:func:`checked_changes`), and save the
       new catalogue to ``catalogue_path`` after each accepted update.

    ``files`` maps the provider's files to ``(data path, tree path or None)``
    (:func:`load_files`). Proving is in this process by default; with ``backend`` (``"local"``
    processes or ``"ray"`` at ``address``, see :func:`bigfile_zk.batch.prove_batch`) the
    epoch proof and all update proofs are proved at once, in parallel. A missing sampled
    file, a catalogue that is not the registry's, or a closed proof window raise before
    anything is sent; a reverted transaction raises
    :class:`~bigfile_zk.errors.TransactionFailedError`. ``from_block``: where
    the first scan for queued changes starts (the registry's deployment block); later runs
    go on from where the last stopped. ``log`` receives one line per step.
    """
    from web3.logs import DISCARD  # web3 is an optional dependency (the evm extra)

    if srs is not None and srs.is_insecure and not allow_insecure_srs:
        raise InsecureSRSError("the insecure test SRS needs allow_insecure_srs=True")
    if srs is None and not allow_insecure_srs:
        raise InsecureSRSError(
            "run_epoch without srs would prove with the insecure test SRS: pass the ceremony's "
            "srs (SRS.from_ptau), or allow_insecure_srs=True for tests and demos"
        )
    say = log or (lambda _msg: None)
    path = Path(catalogue_path)
    reg = registry.functions
    p = w3.to_checksum_address(account)
    latest = int(reg.latestCatalogue(p).call(block_identifier="pending"))
    if path.exists():
        cat = Catalogue.load(path)
    elif latest == Catalogue().commitment:
        cat = Catalogue()  # a new provider: start from the empty catalogue
        cat.save(path)
    else:
        raise ParameterError(f"{path} does not exist, and the registry's catalogue is not empty")
    if cat.commitment != latest:
        raise ParameterError(
            f"{path}: the local catalogue ({cat.commitment:#x}) is not the registry's latest "
            f"({latest:#x})"
        )
    _keep(path, cat)
    by_commitment = {f.commitment: f for f in files}

    def send(fn: Any, gas: int = 2_000_000) -> Any:
        receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": p, "gas": gas}))
        if receipt["status"] != 1:
            raise TransactionFailedError(
                f"{fn.fn_name} reverted (transaction 0x{bytes(receipt['transactionHash']).hex()})"
            )
        return receipt

    e = int(reg.currentEpoch().call(block_identifier="pending"))
    report = EpochReport(e, p)
    # What is to prove. The catalogue in force this epoch is fixed (catalogueAt); updates sent
    # now only take effect next epoch, so they never change what this epoch's proof opens.
    proven: Catalogue | None = None
    if reg.isDue(p, e).call(block_identifier="pending") and int(reg.status(p, e).call()) == 0:
        report.due = True
        in_force = int(reg.catalogueAt(p, e).call(block_identifier="pending"))
        hist = _history(path, in_force)
        if not hist.exists():
            raise ParameterError(
                f"catalogue {in_force:#x} in force for epoch {e} is not in {hist.parent}"
            )
        proven = Catalogue.load(hist)
        report.catalogue = in_force
        report.missing = [
            slot
            for slot in range(proven.count)
            if (f := proven.file(slot)) is not None and f not in files
        ]
        if report.missing:
            # Not refused: the proof fails only if a missing file is sampled (then
            # prove_epoch names the slot); the provider must know either way.
            say(
                f"WARNING: {len(report.missing)} catalogued file(s) are not in files (slots "
                f"{report.missing[:8]}{'...' if len(report.missing) > 8 else ''})"
            )
        if w3.eth.block_number + 1 > int(reg.proofDeadline(e).call()):
            raise ParameterError(f"too late: epoch {e}'s proof window has closed")
    # The queue is read at the block the event scan ends at: a change queued after it (or
    # still pending) is left for the next run rather than missing its event.
    at = int(w3.eth.block_number)
    _, queued, applied = reg.queues(p).call(block_identifier=at)
    changes = checked_changes(
        _queued_events(registry, p, path, from_block, at, applied),
        applied=applied,
        queued=queued,
        head_at=lambda j: int(reg.queueHead(p, j).call(block_identifier=at)),
    )
    # The catalogue after each batch of changes follows from the changes alone (no proof
    # needed), so every update proof can be made at once.
    plan: list[_Update] = []
    before = cat
    for start in range(0, len(changes), OPS):
        batch = changes[start : start + OPS]
        ops: list[tuple[int, FileCommitment | None]] = []
        for ch in batch:
            if ch.value and ch.value not in by_commitment:
                raise ParameterError(f"queued file {ch.value:#x} (slot {ch.slot}) is not in files")
            ops.append((ch.slot, by_commitment[ch.value] if ch.value else None))
        after, _ = apply_changes(before, ops)
        head = int(reg.queueHead(p, batch[0].index - 1).call(block_identifier=at))
        plan.append(_Update(before, head, batch[-1].index, ops, after))
        before = after
    say(
        f"epoch {e}: proof {'due' if report.due else 'not due'}; "
        f"{len(changes)} queued change(s) in {len(plan)} update proof(s)"
    )
    if report.due:
        send(reg.beginEpoch())  # idempotent within the epoch: fixes the randomness
        report.seed = int(reg.seed(p, e).call(block_identifier="pending"))
    how = _How(srs, allow_insecure_srs, backend, address, workers, progress, say)
    epoch_proof, updates = _prove(report, path, proven, files, plan, how)
    if epoch_proof is not None:
        receipt = send(reg.submitEpochProof(epoch_proof.proof.to_evm_bytes()))
        report.gas["submitEpochProof"] = receipt["gasUsed"]
        accepted = registry.events.ProofAccepted().process_receipt(receipt, errors=DISCARD)
        report.accepted = bool(accepted)
        say(f"epoch {e}: proof {'accepted' if report.accepted else 'REJECTED'}")
    for step, update in zip(plan, updates, strict=True):
        proof = update.proof.to_evm_bytes()
        receipt = send(reg.updateCatalogue(p, step.to_index, step.after.commitment, proof))
        report.updates.append((step.to_index, receipt["gasUsed"]))
        _keep(path, step.after)
        step.after.save(path)
        say(f"catalogue updated to queue index {step.to_index} ({step.after.count} slots)")
    if _latest(reg, p) != Catalogue.load(path).commitment:
        raise RuntimeError(
            "after the updates the registry's latest catalogue differs from the local one"
        )
    return report


#: Blocks per ``eth_getLogs`` call (RPC nodes cap the range) and the depth below which
#: scanned events are kept between runs (above it a reorganisation could still drop them).
LOG_STEP = 5_000
CONFIRMATIONS = 64


def _queued_events(
    registry: Any, p: str, path: Path, from_block: int, latest: int, applied: int
) -> list[dict[str, int]]:
    """The ``ChangeQueued`` events of provider ``p``, scanned in :data:`LOG_STEP` ranges from
    where the last run's scan (kept beside the catalogue) stopped, else from ``from_block``.
    Saved events are as untrusted as fresh ones: :func:`checked_changes` checks them all."""
    import json

    state_path = path.with_name(path.name + ".history") / "events.json"
    where = {"registry": registry.address, "provider": p}
    start, events = from_block, []
    if state_path.exists():
        state = _io.json_object(_io.read_text(state_path, 2**28, "event cache"), "event cache")
        if {k: state.get(k) for k in where} == where and isinstance(state.get("events"), list):
            start, events = max(int(state["scanned_to"]) + 1, from_block), state["events"]
    fresh: list[dict[str, int]] = []
    for lo in range(start, latest + 1, LOG_STEP):
        logs = registry.events.ChangeQueued().get_logs(
            from_block=lo, to_block=min(lo + LOG_STEP - 1, latest), argument_filters={"provider": p}
        )
        for log in logs:
            args = {k: int(log["args"][k]) for k in ("index", "slot", "value", "head")}
            (events if log["blockNumber"] <= latest - CONFIRMATIONS else fresh).append(args)
    keep = [ev for ev in events if int(ev["index"]) > applied]  # applied ones are done with
    stable = max(start - 1, latest - CONFIRMATIONS)
    state_path.parent.mkdir(exist_ok=True)
    _io.write_atomic(state_path, json.dumps({**where, "scanned_to": stable, "events": keep}) + "\n")
    return keep + fresh


def _latest(reg: Any, p: str) -> int:
    return int(reg.latestCatalogue(p).call(block_identifier="pending"))


@dataclass(frozen=True)
class _Update:
    """One planned update proof: ``ops`` turn ``before`` (queue digest ``head``) into
    ``after``, applying the queue up to index ``to_index``."""

    before: Catalogue
    head: int
    to_index: int
    ops: list[tuple[int, FileCommitment | None]]
    after: Catalogue


@dataclass(frozen=True)
class _How:
    """How :func:`run_epoch` proves."""

    srs: SRS | None
    allow_insecure_srs: bool
    backend: Literal["local", "ray"] | None
    address: str | None
    workers: int | None
    progress: bool | None
    say: Callable[[str], object]


def _prove(
    report: EpochReport,
    path: Path,
    proven: Catalogue | None,
    files: Mapping[FileCommitment, FileLocation],
    plan: list[_Update],
    how: _How,
) -> tuple[EpochProof | None, list[CatalogueUpdate]]:
    """The epoch proof (when ``proven``) and one update proof per planned batch."""
    p = report.provider
    srs, backend, progress = how.srs, how.backend, how.progress
    if backend is None:
        epoch_proof = None
        if proven is not None:
            t = time.perf_counter()
            located = _located(proven, files)
            epoch_proof = epoch.prove_epoch(
                proven, located, report.seed, p, srs=srs, progress=progress
            )
            report.seconds["prove epoch"] = time.perf_counter() - t
        updates = []
        for step in plan:
            t = time.perf_counter()
            update, _ = prove_update(step.before, step.head, step.ops, srs=srs, progress=progress)
            report.seconds[f"prove update-{step.to_index}"] = time.perf_counter() - t
            updates.append(update)
        return epoch_proof, updates

    from bigfile_zk import batch as batching

    jobs: list[batching.Job] = []
    if proven is not None:
        triples = tuple(
            (c.commitment, os.fspath(d), None if t is None else os.fspath(t))
            for c, (d, t) in _located(proven, files).items()
        )
        hist = _keep(path, proven)
        assert report.seed is not None
        jobs.append(batching.EpochJob(os.fspath(hist), triples, report.seed, p, id="epoch"))
    for step in plan:
        changes = tuple((slot, None if f is None else f.to_json()) for slot, f in step.ops)
        where = os.fspath(_keep(path, step.before))
        job_id = f"update-{step.to_index}"
        jobs.append(batching.CatalogueUpdateJob(where, f"0x{step.head:064x}", changes, id=job_id))
    how.say(f"proving {len(jobs)} proof(s) on {backend}")
    results = batching.prove_batch(
        jobs,
        backend=backend,
        address=how.address,
        workers=how.workers,
        srs=srs,
        allow_insecure_srs=how.allow_insecure_srs,
        progress=progress,
    )
    failed = [r for r in results if not r.ok]
    if failed:
        raise ParameterError("; ".join(f"{r.job.label}: {r.error_type}: {r.error}" for r in failed))
    for r in results:
        report.seconds[f"prove {r.job.label}"] = r.seconds
        if r.worker:
            report.workers[str(r.job.label)] = r.worker
    proofs = [r.proof for r in results]
    epoch_proof = proofs.pop(0) if proven is not None else None
    return epoch_proof, proofs
