"""The on-disk cache: derived proving keys, the insecure test SRS, the solc npm package; and
the SRS digests that name cached keys."""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bigfile_zk import _io
from bigfile_zk._native import SRS, ProvingKey, VerifyingKey
from bigfile_zk.errors import DecodeError, InsecureSRSWarning, ParameterError

_INSECURE_SRS: dict[int, SRS] = {}
# Digests of SRS objects already seen (hashing 84 MB for a 2^18-row circuit takes ~0.5 s).
_DIGESTS: dict[tuple[int, int], tuple[weakref.ref[SRS], str]] = {}


def cache_dir() -> Path:
    """``$BIGFILE_ZK_CACHE``, else ``$XDG_CACHE_HOME/bigfile_zk``, else
    ``~/.cache/bigfile_zk``."""
    env = os.environ.get("BIGFILE_ZK_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "bigfile_zk"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: readers (other processes
    too) see the old file or the whole new one. A cache that cannot be written only warns."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _io.write_atomic(path, data, mode=None)
    except OSError as exc:
        warnings.warn(f"cannot write the cache file {path}: {exc}", RuntimeWarning, stacklevel=3)


def save_key(path: Path, pk: ProvingKey) -> None:
    """Write ``pk``'s cache encoding (``ProvingKey.save_cache``: the prover's columns in the
    form it uses them, no circuit, no SRS powers) to ``path`` atomically. A cache that cannot
    be written only warns. Loading checks the file against the circuit and the SRS
    (``plonk_load_key``, ``storage_load_key``)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pk.save_cache(path)
    except OSError as exc:
        warnings.warn(f"cannot write the cache file {path}: {exc}", RuntimeWarning, stacklevel=3)
        return
    if path.suffix == ".pkc":
        # The same key in the format before the cache encoding: never read again.
        with contextlib.suppress(OSError):
            path.with_suffix(".pk").unlink(missing_ok=True)


def cached_keys(
    memo: dict[Any, tuple[ProvingKey, VerifyingKey]],
    tag: Any,
    path: Path,
    load: Callable[[Path], ProvingKey],
    setup: Callable[[], ProvingKey],
    cache: bool,
) -> tuple[ProvingKey, VerifyingKey]:
    """A circuit's keys, derived once per ``tag`` (kept in ``memo``) and, with ``cache``, on
    disk at ``path`` in the cache encoding (:func:`save_key`). ``load(path)`` must check the
    file against the circuit and the SRS (``*_load_key``); a file it refuses is replaced, with
    a warning."""
    if tag in memo:
        return memo[tag]
    pk: ProvingKey | None = None
    if cache and path.is_file():
        try:
            pk = load(path)
        except (DecodeError, ParameterError, OSError) as exc:
            warnings.warn(f"ignoring the cached key {path}: {exc}", RuntimeWarning, stacklevel=3)
    if pk is None:
        pk = setup()
        if cache:
            save_key(path, pk)
    memo[tag] = (pk, pk.vk)
    return memo[tag]


def insecure_test_srs(degree: int, *, cache: bool = True) -> SRS:
    """The insecure test SRS (``SRS.insecure_for_testing(degree)``, seed 0), kept in memory
    and, with ``cache``, in :func:`cache_dir` as ``srs/insecure-seed0-{degree}.srs`` (checked
    against a fresh derivation's first points on load). Its τ is public; callers warn in
    their own words (``InsecureSRSWarning``), this does not."""
    srs = _INSECURE_SRS.get(degree)
    if srs is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSRSWarning)
            srs = _load_or_derive_insecure_srs(degree, cache)
        _INSECURE_SRS[degree] = srs
    return srs


def _load_or_derive_insecure_srs(degree: int, cache: bool) -> SRS:
    path = cache_dir() / "srs" / f"insecure-seed0-{degree}.srs"
    if cache and path.is_file():
        try:
            srs = SRS.load(path)
            # The derivation is deterministic: a small fresh one must agree point for point.
            small = SRS.insecure_for_testing(8)
            if (
                srs.max_degree == degree
                and all(srs.g1(i) == small.g1(i) for i in range(9))
                and srs.g2(1) == small.g2(1)
            ):
                return srs
            raise DecodeError("not the insecure test SRS of this degree")
        except (DecodeError, ParameterError, OSError) as exc:
            warnings.warn(f"ignoring the cached SRS {path}: {exc}", RuntimeWarning, stacklevel=5)
    srs = SRS.insecure_for_testing(degree)
    if cache:
        write_atomic(path, srs.to_bytes())
    return srs


def srs_digest(srs: SRS, degree: int) -> str:
    """SHA-256 (hex) of the first ``degree + 1`` powers of ``srs`` (the part a circuit that
    needs max degree ``degree`` uses; the caller checks that ``srs`` has them). It names
    cached keys, so keys of one ceremony are never used with another. Remembered per SRS
    object (they are immutable)."""
    known = _DIGESTS.get((id(srs), degree))
    if known is not None and known[0]() is srs:
        return known[1]
    used = srs if srs.max_degree == degree else srs.truncate(degree)
    digest = hashlib.sha256(used.to_bytes()).hexdigest()
    for key in [key for key, (ref, _) in _DIGESTS.items() if ref() is None]:
        del _DIGESTS[key]  # collected SRSs (their ids may be reused)
    _DIGESTS[(id(srs), degree)] = (weakref.ref(srs), digest)
    return digest
