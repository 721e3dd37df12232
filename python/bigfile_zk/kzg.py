"""KZG polynomial commitments over BN254 (docs/spec/kzg.md).

Polynomials are coefficient lists (ints in ``[0, r)``, or a ``uint64`` limb array); points
cross as their 64-byte EVM encoding (``x ‖ y``, big-endian, identity = zeros), exactly what the
BN254 precompiles and the generated Solidity verifiers take. Every function runs without the
GIL. Verification functions return ``False`` for a well-formed but wrong claim and raise
:class:`~bigfile_zk.errors.DecodeError` only for malformed encodings.

>>> srs = SRS.insecure_for_testing(8)                 # doctest: +SKIP
>>> c = commit(srs, [1, 2, 3])
>>> v, proof = open(srs, [1, 2, 3], 10)
>>> v == 1 + 2 * 10 + 3 * 100 and verify(srs, c, 10, v, proof)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from bigfile_zk import _native
from bigfile_zk._native import SRS

__all__ = [
    "SRS",
    "batch_verify",
    "commit",
    "commit_evals",
    "open",
    "open_many",
    "verify",
    "verify_many",
]

Poly = Sequence[int] | npt.NDArray[np.uint64]


def commit(srs: SRS, coeffs: Poly) -> bytes:
    """``Σ c_i·[τ^i]G1``: the commitment to ``p(X) = Σ c_i X^i``."""
    return _native.kzg_commit(srs, coeffs)


def commit_evals(srs: SRS, evals: Poly) -> bytes:
    """Commit to the polynomial with these values on the radix-2 domain of size ``len(evals)``."""
    return _native.kzg_commit_evals(srs, evals)


def open(srs: SRS, coeffs: Poly, z: int) -> tuple[int, bytes]:
    """``(p(z), proof)``."""
    return _native.kzg_open(srs, coeffs, z)


def verify(srs: SRS, commitment: bytes, z: int, value: int, proof: bytes) -> bool:
    """Whether ``proof`` shows that the committed polynomial takes ``value`` at ``z``."""
    return _native.kzg_verify(srs, commitment, z, value, proof)


def open_many(srs: SRS, polys: Iterable[Poly], z: int) -> tuple[list[int], bytes]:
    """Open several polynomials at ``z`` with a single proof: ``(values, proof)``."""
    return _native.kzg_open_many(srs, list(polys), z)


def verify_many(
    srs: SRS, commitments: Sequence[bytes], z: int, values: Sequence[int], proof: bytes
) -> bool:
    """Verify an :func:`open_many` proof."""
    return _native.kzg_verify_many(srs, list(commitments), z, values, proof)


def batch_verify(srs: SRS, openings: Iterable[tuple[bytes, int, int, bytes]]) -> bool:
    """Verify ``(commitment, z, value, proof)`` openings with one two-pairing check."""
    return _native.kzg_batch_verify(srs, list(openings))
