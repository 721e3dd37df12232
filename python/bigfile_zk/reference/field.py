"""The BN254 scalar field, as plain Python integers.

Every field element that crosses an API boundary is *canonical*: an ``int`` with
``0 <= x < R``. Out-of-range values are rejected rather than reduced, because silently
reducing would let two different encodings (``x`` and ``x + R``) stand for the same element,
which is exactly what a commitment scheme must not allow (``docs/spec/poseidon.md``).

Encodings (shared with the Rust core, JSON files and the EVM):

* bytes: 32 bytes, big-endian (a Solidity ``uint256``);
* hex: ``"0x"`` followed by exactly 64 hex digits, lower case on output; upper-case digits are
  accepted on input;
* limbs: four little-endian 64-bit words, the layout of the numpy batch APIs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The BN254 (alt_bn128) scalar field modulus: the order of the curve's prime-order group.
R: int = 21888242871839275222246405745257275088548364400416034343698204186575808495617

#: Size of the canonical byte encoding.
ELEMENT_BYTES: int = 32

#: Bit length of ``R`` (254); Poseidon's parameter generator draws integers of this size.
R_BITS: int = R.bit_length()

_HEX_RE = re.compile(r"0x[0-9a-fA-F]{1,64}")
_LIMB_MASK = (1 << 64) - 1


def _describe(value: object) -> str:
    """A short, safe rendering of a bad value for error messages."""
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def check_int(value: object, what: str) -> int:
    """Return ``value`` if it is a genuine ``int``; raise ``TypeError`` otherwise.

    ``bool`` is a subclass of ``int`` in Python, but ``True`` standing in for a field element
    or an index is almost certainly a bug, so it is refused.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} {_describe(value)}")
    return value


def check_element(x: object, what: str = "field element") -> int:
    """Return ``x`` if it is a canonical field element (``0 <= x < R``).

    Raises ``TypeError`` for non-integers (and ``bool``) and ``ValueError`` for integers out of
    range; both messages name ``what`` and the offending value.
    """
    value = check_int(x, what)
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    if value >= R:
        raise ValueError(f"{what} must be < r (the BN254 scalar field modulus), got {value}")
    return value


def check_elements(xs: Sequence[int], what: str = "field element") -> list[int]:
    """Validate a sequence of field elements, naming the position of a bad one."""
    if isinstance(xs, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"{what}s must be a sequence of ints, got {type(xs).__name__}")
    return [check_element(x, f"{what} [{i}]") for i, x in enumerate(xs)]


# --- arithmetic ---------------------------------------------------------------------


def add(a: int, b: int) -> int:
    """``a + b mod R``."""
    return (a + b) % R


def sub(a: int, b: int) -> int:
    """``a - b mod R``."""
    return (a - b) % R


def mul(a: int, b: int) -> int:
    """``a * b mod R``."""
    return (a * b) % R


def neg(a: int) -> int:
    """``-a mod R``."""
    return (-a) % R


def inv(a: int) -> int:
    """The multiplicative inverse of ``a`` (Fermat: ``a^(R-2)``); zero has none."""
    if a % R == 0:
        raise ZeroDivisionError("0 has no inverse in the BN254 scalar field")
    return pow(a, R - 2, R)


# --- encodings ----------------------------------------------------------------------


def to_bytes32(x: int) -> bytes:
    """The 32-byte big-endian encoding of a canonical element."""
    return check_element(x).to_bytes(ELEMENT_BYTES, "big")


def from_bytes32(data: bytes | bytearray | memoryview, what: str = "field element") -> int:
    """Decode 32 big-endian bytes, rejecting a wrong length and non-canonical values."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) != ELEMENT_BYTES:
        raise ValueError(f"{what} must be {ELEMENT_BYTES} bytes, got {len(raw)}")
    value = int.from_bytes(raw, "big")
    if value >= R:
        raise ValueError(f"{what} 0x{raw.hex()} is not canonical (>= r)")
    return value


def to_hex(x: int) -> str:
    """``"0x"`` + 64 lower-case hex digits: the JSON encoding of a field element."""
    return f"0x{check_element(x):064x}"


def from_hex(text: object, what: str = "field element") -> int:
    """Decode the JSON encoding; upper-case digits are accepted, anything else is not.

    The pattern is matched in full first, so ``int(..., 16)`` never sees the forms it would
    otherwise tolerate (surrounding whitespace, ``_`` separators, a sign, fewer digits).
    """
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a hex string, got {type(text).__name__} {_describe(text)}")
    if _HEX_RE.fullmatch(text) is None:
        raise ValueError(f"{what} must be '0x' + 1 to 64 hex digits, got {_describe(text)}")
    value = int(text, 16)  # the pattern has been checked, prefix included
    if value >= R:
        raise ValueError(f"{what} {text} is not canonical (>= r)")
    return value


def to_limbs(x: int) -> tuple[int, int, int, int]:
    """Four little-endian 64-bit limbs, the numpy batch layout (``x = Σ l_k · 2^(64k)``)."""
    value = check_element(x)
    return (
        value & _LIMB_MASK,
        (value >> 64) & _LIMB_MASK,
        (value >> 128) & _LIMB_MASK,
        value >> 192,
    )


def from_limbs(limbs: Sequence[int], what: str = "field element") -> int:
    """Inverse of :func:`to_limbs`; each limb must fit in 64 bits and the result be ``< R``."""
    if len(limbs) != 4:
        raise ValueError(f"{what} must have 4 limbs, got {len(limbs)}")
    value = 0
    for k, limb in enumerate(limbs):
        check_int(limb, f"{what} limb {k}")
        if not 0 <= limb <= _LIMB_MASK:
            raise ValueError(f"{what} limb {k} must fit in 64 bits, got {limb}")
        value |= limb << (64 * k)
    if value >= R:
        raise ValueError(f"{what} {value} is not canonical (>= r)")
    return value
