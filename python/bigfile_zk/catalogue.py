"""Catalogue updates (``docs/spec/storage-catalogue.md``): how a registry learns a provider's
catalogue commitment without hashing the tree on chain.

A provider's catalogue (:class:`bigfile_zk.epoch.Catalogue`: its files by slot, a depth-16
Poseidon tree of file commitments, ``K = Poseidon(root, count)``) changes as the registry
queues changes ``(slot, file or None)``; the registry keeps only the queue digest
(:func:`queue_next`) and accepts a new ``K`` with an update proof, which shows that replaying
the queued changes on the catalogue behind the old ``K`` gives the new one:

>>> changes = [(cat.count, c_new), (3, None)]                    # doctest: +SKIP
>>> update, after = prove_update(cat, head, changes, srs=srs)      # doctest: +SKIP
>>> verify_update(update, old=cat.commitment, old_head=head,       # doctest: +SKIP
...               new=after.commitment, new_head=new_head, srs=srs)
True

As everywhere in bigfile_zk, :func:`verify_update` checks the statement the caller expects
(the registry's recorded ``K`` and queue digests), never the one a proof file carries.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from bigfile_zk import _cache, _io, _native
from bigfile_zk._cache import cache_dir
from bigfile_zk._native import SRS, CatalogueTree, FileCommitment
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.epoch import Catalogue
from bigfile_zk.errors import DecodeError, InsecureSRSError, InsecureSRSWarning, ParameterError
from bigfile_zk.field import check, from_hex
from bigfile_zk.plonk import Proof, ProvingKey, VerifyingKey

__all__ = [
    "DEPTH",
    "OPS",
    "SLOTS",
    "CatalogueTree",
    "CatalogueUpdate",
    "apply_changes",
    "key_path",
    "prove_update",
    "queue_next",
    "srs_degree",
    "update_keys",
    "verify_update",
]

DEPTH = 16
SLOTS = 1 << DEPTH
OPS = 24  # changes one update proof applies
_LOG_ROWS = 16
_KEYS: dict[str, tuple[ProvingKey, VerifyingKey]] = {}


def srs_degree() -> int:
    """SRS powers the update circuit needs (``5n + 9`` for its ``n = 2^16`` rows)."""
    return 5 * 2**_LOG_ROWS + 9


def queue_next(head: object, slot: int, value: object) -> int:
    """The registry's queue digest after the change ``(slot, value)``:
    ``Poseidon(head, Poseidon(slot, value))``."""
    return _native.catalogue_queue_next(head, slot, value)


def _default_srs(cache: bool) -> SRS:
    warnings.warn(
        "catalogue updates without srs use the insecure test SRS: the proofs prove nothing "
        "to a verifier with a real key",
        InsecureSRSWarning,
        stacklevel=3,
    )
    return _cache.insecure_test_srs(srs_degree(), cache=cache)


def key_path(srs: SRS) -> Path:
    """Where :func:`update_keys` caches the proving key for ``srs``."""
    return (
        cache_dir() / "keys" / f"catalogue-update-{_cache.srs_digest(srs, srs_degree())[:32]}.pkc"
    )


def update_keys(srs: SRS | None = None, *, cache: bool = True) -> tuple[ProvingKey, VerifyingKey]:
    """The update circuit's keys for ``srs`` (default: the insecure test SRS, with a
    warning), derived once and cached like :func:`bigfile_zk.storage.keys` (a cached key is
    checked against the circuit and ``srs`` before use, and replaced when it fails)."""
    srs = srs if srs is not None else _default_srs(cache)
    return _cache.cached_keys(
        _KEYS,
        _cache.srs_digest(srs, srs_degree()),
        key_path(srs),
        lambda path: _native.catalogue_load_key(path, srs),
        lambda: _native.catalogue_update_setup(srs)[0],
        cache,
    )


@dataclass(frozen=True)
class CatalogueUpdate:
    """An update proof and the statement its prover claims (informative only)."""

    old: int
    old_head: int
    new: int
    new_head: int
    proof: Proof

    @property
    def public_inputs(self) -> list[int]:
        """``[K_old, h_old, K_new, h_new]``, the order ``verifyProof`` takes them."""
        return [self.old, self.old_head, self.new, self.new_head]

    def to_json(self) -> str:
        names = ("old", "old_head", "new", "new_head")
        return json.dumps(
            {
                "type": "bigfile_zk.CatalogueUpdate",
                "version": 1,
                **{n: f"0x{v:064x}" for n, v in zip(names, self.public_inputs, strict=True)},
                "proof": "0x" + self.proof.to_evm_bytes().hex(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> CatalogueUpdate:
        """The update ``to_json`` wrote; anything else raises
        :class:`~bigfile_zk.errors.DecodeError`."""
        obj = _io.json_object(text, "catalogue update")
        try:
            version = obj.get("version")
            if obj.get("type") != "bigfile_zk.CatalogueUpdate" or not (
                type(version) is int and version == 1
            ):
                raise DecodeError("not a version-1 bigfile_zk.CatalogueUpdate")
            public = [from_hex(obj[n]) for n in ("old", "old_head", "new", "new_head")]
            raw = obj["proof"]
            if not isinstance(raw, str) or not raw.startswith("0x"):
                raise DecodeError("proof is not 0x-hex")
            data = bytes.fromhex(raw[2:])
        except DecodeError as exc:
            raise DecodeError(f"malformed catalogue update JSON: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DecodeError(f"malformed catalogue update JSON: {what}") from None
        proof = Proof.from_bytes(b"BFPF\x01\x00" + data, public)
        return cls(*public, proof)


Change = tuple[int, "FileCommitment | None"]


def apply_changes(
    catalogue: Catalogue, changes: list[Change]
) -> tuple[Catalogue, list[tuple[int, int]]]:
    """The catalogue after ``changes`` (as :func:`prove_update` takes them) and the changes as
    the registry queues them, ``(slot, value)`` with ``0`` for a removal; ``catalogue`` is not
    changed. A change the registry never queues raises
    :class:`~bigfile_zk.errors.ParameterError` naming it."""
    if not isinstance(catalogue, Catalogue):
        raise TypeError(f"catalogue is an epoch.Catalogue, not {type(catalogue).__name__}")
    if len(changes) > OPS:
        raise ParameterError(f"{len(changes)} changes: one update applies at most {OPS}")
    after = Catalogue(catalogue.file(i) for i in range(catalogue.count))
    values: list[tuple[int, int]] = []
    for j, change in enumerate(changes):
        if not (isinstance(change, tuple) and len(change) == 2 and type(change[0]) is int):
            raise TypeError(f"changes[{j}] is (slot, FileCommitment or None)")
        slot, file = change
        try:
            if file is None:
                after.remove(slot)
            elif slot != after.count:
                raise ParameterError(f"an added file goes to the next slot {after.count}")
            else:
                after.add(file)
        except (ParameterError, IndexError) as exc:
            raise ParameterError(f"changes[{j}] (slot {slot}): {exc}") from None
        values.append((slot, 0 if file is None else file.commitment))
    return after, values


def prove_update(
    catalogue: Catalogue,
    old_head: object,
    changes: list[Change],
    *,
    srs: SRS | None = None,
    pk: ProvingKey | None = None,
    progress: bool | None = None,
) -> tuple[CatalogueUpdate, Catalogue]:
    """Apply ``changes`` to ``catalogue``, whose queue digest is ``old_head``, and prove it.

    ``changes`` are the registry's queued changes in order, at most :data:`OPS`: ``(slot,
    FileCommitment)`` adds a file at slot ``count`` (the next slot), ``(slot, None)`` empties
    a slot. Returns the update and the catalogue after (``catalogue`` is not changed). A change
    the registry never queues (a slot other than the next for an add, an empty slot emptied)
    raises :class:`~bigfile_zk.errors.ParameterError` before any proving. The proving key is
    ``pk`` when given (a batch worker's), else :func:`update_keys` of ``srs``."""
    after, values = apply_changes(catalogue, changes)
    if pk is None:
        pk, _ = update_keys(srs)
    elif not isinstance(pk, ProvingKey):
        raise TypeError(f"pk is a ProvingKey, not {type(pk).__name__}")
    tree = CatalogueTree(catalogue.leaves)
    with ProgressReporter(_native.PROVE_STEPS, "catalogue update", progress, unit="step") as bar:
        proof, tree_after = _native.catalogue_update_prove(pk, tree, old_head, values, bar)
    if tree_after.commitment != after.commitment:  # the native tree and the file list agree
        raise RuntimeError("internal error: the updated catalogue and its tree disagree")
    return CatalogueUpdate(*proof.public_inputs, proof), after


def verify_update(
    update: CatalogueUpdate,
    *,
    old: object,
    old_head: object,
    new: object,
    new_head: object,
    srs: SRS | None = None,
    vk: VerifyingKey | None = None,
    allow_insecure_srs: bool = False,
) -> bool:
    """Whether ``update`` proves that the changes queued between ``old_head`` and
    ``new_head`` turn the catalogue ``old`` into ``new`` — the caller's statement (a
    registry's recorded values), never the one the update carries, which must merely agree.
    The key is ``vk``, else :func:`update_keys` of ``srs``; the insecure test SRS raises
    :class:`~bigfile_zk.errors.InsecureSRSError` unless ``allow_insecure_srs=True``."""
    if not isinstance(update, CatalogueUpdate):
        raise TypeError(f"update is a CatalogueUpdate, not {type(update).__name__}")
    expected = [_field(old, "old"), _field(old_head, "old_head")]
    expected += [_field(new, "new"), _field(new_head, "new_head")]
    if vk is not None:
        if vk.is_insecure and not allow_insecure_srs:
            raise InsecureSRSError(_INSECURE)
        if vk.num_public != 4 or vk.lookups or vk.k != _LOG_ROWS:
            raise ParameterError("vk is not the catalogue update circuit's verifying key")
    elif (srs is None or srs.is_insecure) and not allow_insecure_srs:
        raise InsecureSRSError(_INSECURE)
    if update.public_inputs != expected:
        return False
    if vk is None:
        if srs is None:
            with warnings.catch_warnings():  # the caller opted in explicitly
                warnings.simplefilter("ignore", InsecureSRSWarning)
                srs = _cache.insecure_test_srs(srs_degree())
        _, vk = update_keys(srs)
    return _native.plonk_verify(vk, update.proof, expected, allow_insecure_srs=allow_insecure_srs)


def _field(x: object, name: str) -> int:
    """A field element given as an int or 0x-hex (``FieldElementError`` when ``≥ r``)."""
    return from_hex(x) if isinstance(x, str) else check(x, name)


_INSECURE = (
    "catalogue update verification against the insecure test SRS (its τ is public, so anyone "
    "can forge a proof it accepts): pass a ceremony srs or vk, or allow_insecure_srs=True for "
    "tests and demos"
)
