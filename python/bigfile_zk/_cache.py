"""The on-disk cache: derived proving keys, the insecure test SRS, the solc npm package."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from bigfile_zk import _io


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
