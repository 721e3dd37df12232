"""BN254 scalar field elements and their encodings (docs/spec/poseidon.md).

* Python ``int`` in ``[0, r)``: what every scalar API takes and returns.
* ``uint64`` numpy arrays whose last axis holds 4 **little-endian limbs** of the canonical
  integer: what the batch APIs take and return (no byte swapping, maps onto machine words).
* 32 bytes big-endian / ``0x`` + 64 hex digits: bytes, JSON and the EVM.

Nothing is reduced silently: values outside ``[0, r)`` raise :class:`FieldElementError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from bigfile_zk import _native
from bigfile_zk.errors import DecodeError, FieldElementError, ParameterError

__all__ = [
    "MODULUS",
    "check",
    "from_bytes32",
    "from_hex",
    "from_limbs",
    "to_bytes32",
    "to_hex",
    "to_limbs",
]

#: r, the order of the BN254 G1/G2 groups and the modulus of the scalar field.
MODULUS: int = _native.MODULUS

_MASK64 = (1 << 64) - 1
_HEX = re.compile(r"0x[0-9a-fA-F]{1,64}")


def check(x: object, what: str = "value") -> int:
    """Return ``x`` if it is a canonical field element, else raise naming ``what``."""
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{what} must be an int (a field element), not {type(x).__name__}")
    if not 0 <= x < MODULUS:
        raise FieldElementError(
            f"{what} = {x} is not a canonical BN254 scalar field element "
            "(it must satisfy 0 <= x < r)"
        )
    return x


def to_limbs(
    values: Iterable[int] | Iterable[Iterable[int]], what: str = "values"
) -> npt.NDArray[np.uint64]:
    """Ints (or nested lists of ints) → ``uint64`` array with a trailing axis of 4 limbs.

    ``what`` names the argument in error messages (``values[i][j] = ... is not canonical``).
    """
    nested = [_limbs_of(v, f"{what}[{i}]") for i, v in enumerate(values)]
    if not nested:
        return np.zeros((0, 4), dtype=np.uint64)
    try:
        arr = np.array(nested, dtype=np.uint64)
    except ValueError:
        raise ParameterError(f"{what} is ragged: every row must have the same length") from None
    if arr.shape[-1] != 4:
        raise ParameterError(f"{what} has an empty row: there is nothing to convert")
    return arr


def _limbs_of(v: object, what: str) -> list:
    if isinstance(v, int) and not isinstance(v, bool):
        x = check(v, what)
        return [(x >> (64 * i)) & _MASK64 for i in range(4)]
    if isinstance(v, Iterable) and not isinstance(v, (str, bytes)):
        return [_limbs_of(w, f"{what}[{i}]") for i, w in enumerate(v)]
    raise TypeError(f"{what} must be an int or a sequence of ints, not {type(v).__name__}")


def from_limbs(limbs: npt.ArrayLike) -> list:
    """Inverse of :func:`to_limbs`: a (nested) list of ints, checking each is ``< r``."""
    arr = np.asarray(limbs)
    if arr.dtype != np.uint64 or arr.ndim == 0 or arr.shape[-1] != 4:
        raise DecodeError(
            f"expected a uint64 array with a last axis of 4 limbs, got {arr.dtype} {arr.shape}"
        )

    def build(a: np.ndarray) -> list | int:
        if a.ndim == 1:
            x = int(a[0]) | int(a[1]) << 64 | int(a[2]) << 128 | int(a[3]) << 192
            return check(x, "limbs")
        return [build(sub) for sub in a]

    out = build(arr)
    assert isinstance(out, list)
    return out


def to_bytes32(x: int) -> bytes:
    """32 bytes big-endian (EVM ``uint256``)."""
    return check(x).to_bytes(32, "big")


def from_bytes32(data: bytes) -> int:
    """Inverse of :func:`to_bytes32`; rejects wrong lengths and values ``>= r``."""
    if len(data) != 32:
        raise DecodeError(f"a field element is 32 bytes, got {len(data)}")
    return check(int.from_bytes(data, "big"), "decoded value")


def to_hex(x: int) -> str:
    """``0x`` + 64 lower-case hex digits."""
    return "0x" + to_bytes32(x).hex()


def from_hex(s: str) -> int:
    """Parse ``0x``-prefixed hex (digits of any case); rejects values ``>= r``."""
    # Match the whole form first: int(..., 16) alone would also take "+1", "1_0", " 1" and
    # non-ASCII digits, i.e. several strings for one element.
    if not isinstance(s, str) or _HEX.fullmatch(s) is None:
        raise DecodeError(f"{s!r} is not '0x' followed by 1 to 64 hex digits")
    return check(int(s, 16), s)
