"""Python-facing wrappers: argument normalisation, progress bars, numpy/int dual inputs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from bigfile_zk import _native
from bigfile_zk._native import ChunkOpening, FileCommitment
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import IndexOutOfRangeError, ParameterError
from bigfile_zk.field import from_limbs, to_limbs

StrPath = str | os.PathLike[str]
BytesLike = bytes | bytearray | memoryview


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


def _size(value: object, what: str) -> int:
    # Only the range of the int is checked here; the core says which values are supported.
    if not 0 <= _int(value, what) < 2**63:
        raise ParameterError(f"{what} {value} is not supported: it must be a positive int")
    return int(value)  # type: ignore[call-overload]


def _index(value: object, what: str = "index") -> int:
    if not 0 <= _int(value, what) < 2**64:
        why = "indices are non-negative" if int(value) < 0 else "indices are below 2^64"  # type: ignore[call-overload]
        raise IndexOutOfRangeError(f"{what} {value} is out of range ({why})")
    return int(value)  # type: ignore[call-overload]


def _bytes(data: object, what: str = "data") -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        kind = type(data).__name__
        raise TypeError(f"{what} must be bytes-like (bytes, bytearray, memoryview), not {kind}")
    return bytes(data)


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib's Poseidon of 1 to 16 field elements (ints in ``[0, r)``).

    >>> hex(poseidon([1, 2]))
    '0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a'
    """
    return _native.poseidon_hash(inputs)


def poseidon_permute(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation (circomlib constants) of a state of width 2 to 17."""
    return _native.poseidon_permute(state)


@overload
def poseidon_batch(inputs: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]: ...
@overload
def poseidon_batch(inputs: Sequence[Sequence[int]]) -> list[int]: ...
def poseidon_batch(
    inputs: npt.NDArray[np.uint64] | Sequence[Sequence[int]],
) -> npt.NDArray[np.uint64] | list[int]:
    """Hash many inputs of the same arity at once, in parallel, without the GIL.

    ``inputs`` is a ``uint64`` array of shape ``(n, arity, 4)`` (little-endian limbs, see
    :mod:`bigfile_zk.field`) and the result a ``(n, 4)`` array; or a sequence of int sequences,
    and the result a list of ints.
    """
    if isinstance(inputs, np.ndarray):
        if inputs.dtype != np.uint64:
            raise ParameterError(f"poseidon_batch takes a uint64 array, got dtype {inputs.dtype}")
        return _native.poseidon_batch(inputs)
    rows = list(inputs)
    if not rows:
        return []
    arity = len(rows[0])
    if not 1 <= arity <= 16:
        raise ParameterError(f"poseidon takes 1 to 16 inputs, got {arity}")
    if any(len(r) != arity for r in rows):
        raise ParameterError("poseidon_batch: every input must have the same number of elements")
    limbs = to_limbs(rows, "inputs").reshape(len(rows), arity, 4)
    return from_limbs(_native.poseidon_batch(limbs))


def commit_file(
    path: StrPath,
    *,
    chunk_size: int = _native.DEFAULT_CHUNK_SIZE,
    arity: int = _native.DEFAULT_ARITY,
    tree: StrPath | None = None,
    progress: bool | None = None,
) -> FileCommitment:
    """Commit to a file, streaming it with bounded memory (docs/spec/file-commitment.md).

    ``tree``: also write the tree's upper levels to this path (≈ 0.4 % of the file's size,
    written atomically) so that :meth:`FileCommitment.open` reads only a few chunks.
    ``progress``: show a progress bar (default: when stderr is a terminal). Ctrl-C stops the
    work between blocks and raises ``KeyboardInterrupt``. A file that changes while it is read
    raises :class:`~bigfile_zk.errors.FileChangedError`.
    """
    chunk_size, arity = _size(chunk_size, "chunk_size"), _size(arity, "arity")
    size = os.stat(path).st_size
    with ProgressReporter(size, f"commit {os.fspath(path)}", progress) as bar:
        return _native.commit_file(path, chunk_size, arity, bar, tree)


def commit_bytes(
    data: BytesLike,
    *,
    chunk_size: int = _native.DEFAULT_CHUNK_SIZE,
    arity: int = _native.DEFAULT_ARITY,
) -> FileCommitment:
    """Commit to bytes in memory (same commitment as a file with these bytes)."""
    chunk_size, arity = _size(chunk_size, "chunk_size"), _size(arity, "arity")
    return _native.commit_bytes(_bytes(data), chunk_size, arity)


def open_file(
    path: StrPath,
    commitment: FileCommitment,
    index: int,
    *,
    tree: StrPath | None = None,
    progress: bool | None = None,
) -> ChunkOpening:
    """Chunk ``index`` of the committed file with its Merkle proof, checked before returning.

    With ``tree`` (written by :func:`commit_file`) only the chunks under the lowest stored node
    are read; without it the siblings are recomputed from the whole file. A file that no
    longer matches raises :class:`~bigfile_zk.errors.CommitmentMismatchError` (naming the
    changed chunks when the tree can tell).
    """
    index = _index(index)
    with ProgressReporter(commitment.file_size, f"open chunk {index}", progress) as bar:
        return _native.open_file(path, commitment, index, bar, tree)


def leaf_hash(data: BytesLike, chunk_size: int = _native.DEFAULT_CHUNK_SIZE) -> int:
    """The leaf of one chunk (``data`` unpadded, at most ``chunk_size`` bytes)."""
    return _native.leaf_hash(_bytes(data), _size(chunk_size, "chunk_size"))
