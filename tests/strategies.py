"""Hypothesis strategies and small helpers shared by the native-vs-reference tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from hypothesis import strategies as st

from bigfile_zk import MODULUS

R: int = MODULUS
ARITIES: tuple[int, ...] = (2, 4, 8, 16)
#: Chunk sizes exercised against the reference (1, 2 and 16 sponge blocks per chunk).
CHUNK_SIZES: tuple[int, ...] = (62, 124, 992)

#: The leaf sponge's IV as the spec defines it (file-commitment.md).
LEAF_IV_SPEC: int = int.from_bytes(b"bigfile_zk/leaf/v1", "big")

#: ``circomlib_poseidon(cases)`` of tests/_circomlibjs.py: ``(inputs, init_state, n_out)``.
Oracle = Callable[[Sequence[tuple[Sequence[int], int, int]]], list[list[int]]]

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "docs" / "spec" / "vectors"

#: Values at the edges of the encodings: limb boundaries, 31-byte data elements, r - 1.
EDGE_ELEMENTS: tuple[int, ...] = (
    0,
    1,
    2,
    2**64 - 1,
    2**64,
    2**128 - 1,
    2**128,
    2**192,
    2**248 - 1,
    R // 2,
    R - 2,
    R - 1,
)

#: Canonical field elements, biased towards the edges.
elements = st.one_of(st.sampled_from(EDGE_ELEMENTS), st.integers(min_value=0, max_value=R - 1))
arities = st.sampled_from(ARITIES)
chunk_sizes = st.sampled_from(CHUNK_SIZES)


def element_lists(n: int) -> st.SearchStrategy[list[int]]:
    """Exactly ``n`` field elements."""
    return st.lists(elements, min_size=n, max_size=n)


def sha_leaves(n: int, label: str = "native-tests") -> list[int]:
    """``n`` distinct pseudo-random field elements (distinct, so any mix-up is visible)."""
    return [
        int.from_bytes(hashlib.sha256(f"{label}/{i}".encode()).digest(), "big") % R
        for i in range(n)
    ]


def pattern(length: int) -> bytes:
    """The byte pattern of docs/spec/vectors/file_commitment.json."""
    return bytes((i * 7 + 3) % 256 for i in range(length))


@st.composite
def leaf_sets(draw: st.DrawFn, max_leaves: int = 40) -> tuple[int, list[int]]:
    """``(arity, leaves)``: sizes biased towards depth steps (``a^k``, ``a^k + 1``)."""
    arity = draw(arities)
    steps = sorted({n for k in range(4) for n in (arity**k, arity**k + 1) if n <= max_leaves})
    n = draw(st.one_of(st.sampled_from(steps), st.integers(1, max_leaves)))
    leaves = draw(st.lists(elements, min_size=n, max_size=n))
    return arity, leaves
