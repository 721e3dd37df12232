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
