"""A storage provider's side of an ``EpochRegistry`` (``docs/spec/storage-catalogue.md``).

This module holds the piece every provider run depends on: turning the registry's
``ChangeQueued`` events into the list of changes to apply, checked against the queue digests
the registry recorded (``queueHead``). Events come from an RPC node the provider does not
control; only ``queueHead`` is contract state the update proof is checked against, so a
change is accepted only if it reproduces the recorded digest chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bigfile_zk.catalogue import queue_next
from bigfile_zk.errors import DecodeError


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
