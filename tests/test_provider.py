"""Provider side of the EpochRegistry: queued changes are taken only when they reproduce the
registry's recorded queue digests."""

from __future__ import annotations

import pytest

from bigfile_zk.catalogue import queue_next
from bigfile_zk.errors import DecodeError
from bigfile_zk.provider import QueuedChange, checked_changes

CHANGES = [(0, 11), (1, 22), (0, 0), (2, 33)]


def _registry() -> dict[int, int]:
    heads = {0: 0}
    for j, (slot, value) in enumerate(CHANGES, start=1):
        heads[j] = queue_next(heads[j - 1], slot, value)
    return heads


def _events() -> list[dict[str, int]]:
    heads = _registry()
    return [
        {"index": j, "slot": s, "value": v, "head": heads[j]}
        for j, (s, v) in enumerate(CHANGES, start=1)
    ]


def test_pending_changes_after_applied() -> None:
    heads = _registry()
    got = checked_changes(_events(), applied=1, queued=4, head_at=heads.__getitem__)
    assert got == [QueuedChange(j, s, v) for j, (s, v) in enumerate(CHANGES, 1)][1:]
    assert checked_changes(_events(), applied=4, queued=4, head_at=heads.__getitem__) == []


def test_forged_event_rejected() -> None:
    heads = _registry()
    events = _events()
    # A node replaces the removal at index 3 with another file, keeping the claimed head.
    events[2] = dict(events[2], value=99)
    with pytest.raises(DecodeError, match="queue index 3"):
        checked_changes(events, applied=0, queued=4, head_at=heads.__getitem__)


def test_missing_and_conflicting_events_rejected() -> None:
    heads = _registry()
    with pytest.raises(DecodeError, match="no ChangeQueued event for queue index 2"):
        checked_changes(
            _events()[:1] + _events()[2:], applied=0, queued=4, head_at=heads.__getitem__
        )
    doubled = [*_events(), dict(_events()[1], slot=5)]
    with pytest.raises(DecodeError, match="two different"):
        checked_changes(doubled, applied=0, queued=4, head_at=heads.__getitem__)


def test_reordered_events_rejected() -> None:
    heads = _registry()
    events = _events()
    events[0]["slot"], events[1]["slot"] = events[1]["slot"], events[0]["slot"]
    events[0]["value"], events[1]["value"] = events[1]["value"], events[0]["value"]
    with pytest.raises(DecodeError, match="queue index 1"):
        checked_changes(events, applied=0, queued=4, head_at=heads.__getitem__)


# -- end to end on py-evm (fixtures of test_epoch_registry) ------------------------------------

pytest.importorskip("web3", reason="the provider tests need the test extras (web3)")

import warnings  # noqa: E402

from test_epoch_registry import (  # noqa: E402, F401
    accept,
    env,
    epoch_now,
    files,
    fresh_chain,
    gas_report,
    queue,
    request,
    send,
    to_next_epoch,
)

from bigfile_zk.epoch import Catalogue  # noqa: E402
from bigfile_zk.errors import InsecureSRSWarning, ParameterError  # noqa: E402
from bigfile_zk.provider import run_epoch  # noqa: E402


def _run(env, path, located):  # type: ignore[no-untyped-def]  # noqa: F811
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return run_epoch(
            env.w3, env.registry, env.alice, path, located,
            srs=env.srs, allow_insecure_srs=True, progress=False,
        )  # fmt: skip


def test_run_epoch_end_to_end(env, files, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    path = tmp_path / "cat.json"
    Catalogue().save(path)
    located = {f.commitment: (f.path, f.tree) for f in files.values()}
    only_a = {files["a"].commitment: located[files["a"].commitment]}
    ids = [request(env, files[n], env.alice) for n in "ab"]
    for i in ids:
        accept(env, i, env.alice)
    # An accepted file the provider does not hold: named, nothing applied.
    with pytest.raises(ParameterError, match=f"{files['b'].c:#x}"):
        _run(env, path, only_a)
    assert queue(env, env.alice)[2] == 0
    # Epoch 0: the empty catalogue is in force, so only the acceptances are applied.
    report = _run(env, path, located)
    assert report.accepted is None and [u[0] for u in report.updates] == [2]
    assert Catalogue.load(path).count == 2
    e = to_next_epoch(env)
    # A sampled file missing: a clear error and no proof submitted.
    with pytest.raises(ParameterError, match="slot"):
        _run(env, path, only_a)
    assert env.registry.functions.status(env.alice, e).call() == 0
    report = _run(env, path, located)
    assert report.epoch == e and report.accepted is True and report.updates == []
    assert env.registry.functions.status(env.alice, e).call() == 1
    # Same epoch again: already proven, nothing to do.
    again = _run(env, path, located)
    assert again.accepted is None and again.updates == [] and again.gas == {}
    # The client removes a file: applied by the next run, proof not due again this epoch.
    send(env, env.registry.functions.remove(ids[0]), env.client)
    report = _run(env, path, located)
    assert report.accepted is None and [u[0] for u in report.updates] == [3]
    cat = Catalogue.load(path)
    assert cat.file(0) is None and cat.file(1) == files["b"].commitment
    assert epoch_now(env) == e
