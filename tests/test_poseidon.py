"""Native (Rust) Poseidon against the spec, the pure-Python reference and circomlibjs.

Covers ``poseidon`` (1 to 16 inputs), ``poseidon_permute`` (t = 2 to 17) and
``poseidon_batch`` (numpy limbs and int lists), and every error path of the three.
"""

from __future__ import annotations

import json
import random
import re

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    EDGE_ELEMENTS,
    LEAF_IV_SPEC,
    VECTORS,
    Oracle,
    R,
    element_lists,
    elements,
)

import bigfile_zk as bz
from bigfile_zk import _native
from bigfile_zk.errors import DecodeError, FieldElementError, ParameterError
from bigfile_zk.field import from_limbs, to_limbs
from bigfile_zk.reference import poseidon as ref

WIDTHS = range(1, 17)  # number of inputs; the permutation width is t = n + 1


def limbs3(rows: list[list[int]]) -> npt.NDArray[np.uint64]:
    """``(n, arity, 4)`` uint64 limbs of a rectangular list of rows."""
    arity = len(rows[0]) if rows else 1
    return to_limbs(rows).reshape(len(rows), arity, 4)


def random_rows(rng: random.Random, n: int, arity: int) -> list[list[int]]:
    return [[rng.randrange(R) for _ in range(arity)] for _ in range(n)]


# --- known answers ----------------------------------------------------------------------

SPEC_ANSWERS = [
    ([1], 0x29176100EAA962BDC1FE6C654D6A3C130E96A4D1168B33848B897DC502820133),
    ([1, 2], 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A),
    ([1, 2, 3, 4], 0x299C867DB6C1FDD79DCEFA40E4510B9837E60EBB1CE0663DBAA525DF65250465),
    (
        list(range(1, 17)),
        9989051620750914585850546081941653841776809718687451684622678807385399211877,
    ),
]


@pytest.mark.parametrize(("inputs", "expected"), SPEC_ANSWERS)
def test_spec_known_answers(inputs: list[int], expected: int) -> None:
    assert bz.poseidon(inputs) == expected
    assert _native.poseidon_hash(inputs) == expected
    assert bz.poseidon_batch([inputs]) == [expected]
    assert bz.poseidon_permute([0, *inputs])[0] == expected


def test_modulus_and_leaf_iv() -> None:
    assert R == 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
    assert R == ref.R
    assert LEAF_IV_SPEC == bz.LEAF_IV


def test_vector_file_reproduced() -> None:
    vectors = json.loads((VECTORS / "poseidon.json").read_text())
    assert int(vectors["modulus"]) == R
    assert len(vectors["poseidon"]) == 4 * 16
    assert {case["n_inputs"] for case in vectors["poseidon"]} == set(WIDTHS)
    for case in vectors["poseidon"]:
        inputs = [int(x, 16) for x in case["inputs"]]
        assert len(inputs) == case["n_inputs"]
        assert bz.poseidon(inputs) == int(case["output"], 16), case
    assert {case["t"] for case in vectors["permute"]} == set(range(2, 18))
    for case in vectors["permute"]:
        state = [int(x, 16) for x in case["state"]]
        assert bz.poseidon_permute(state) == [int(x, 16) for x in case["output"]], case


# --- native == reference ----------------------------------------------------------------


@pytest.mark.parametrize("n", WIDTHS)
def test_edge_inputs_match_reference(n: int) -> None:
    rng = random.Random(n)
    cases = [
        [0] * n,
        [R - 1] * n,
        [EDGE_ELEMENTS[(k * 5 + n) % len(EDGE_ELEMENTS)] for k in range(n)],
        [rng.randrange(R) for _ in range(n)],
    ]
    for inputs in cases:
        assert bz.poseidon(inputs) == ref.poseidon(inputs), inputs
    # Inputs are positional: a rotation changes the hash (n > 1).
    if n > 1:
        assert bz.poseidon(cases[3]) != bz.poseidon(cases[3][1:] + cases[3][:1])


@pytest.mark.parametrize("n", WIDTHS)
@given(data=st.data())
def test_poseidon_matches_reference(n: int, data: st.DataObject) -> None:
    inputs = data.draw(element_lists(n), label="inputs")
    got = bz.poseidon(inputs)
    assert isinstance(got, int)
    assert 0 <= got < R
    assert got == ref.poseidon(inputs)


@pytest.mark.parametrize("t", range(2, 18))
@given(data=st.data())
def test_permute_matches_reference(t: int, data: st.DataObject) -> None:
    state = data.draw(element_lists(t), label="state")
    original = list(state)
    got = bz.poseidon_permute(state)
    assert state == original  # the argument is not modified in place
    assert len(got) == t
    assert got == ref.permute(state)
    if state[0] == 0:  # the hash is the first word of the permutation of [0, *inputs]
        assert got[0] == bz.poseidon(state[1:])


@given(st.lists(elements, min_size=1, max_size=16))
def test_hash_accepts_any_sequence_and_limbs(inputs: list[int]) -> None:
    expected = bz.poseidon(inputs)
    assert bz.poseidon(tuple(inputs)) == expected
    assert bz.poseidon(iter(inputs)) == expected
    assert bz.poseidon(to_limbs(inputs)) == expected  # (n, 4) uint64 limbs
    assert bz.poseidon_permute(to_limbs([0, *inputs]))[0] == expected


# --- batch ------------------------------------------------------------------------------


@pytest.mark.parametrize("arity", WIDTHS)
def test_batch_ndarray_equals_per_item(arity: int) -> None:
    rows = random_rows(random.Random(arity), 9, arity)
    rows[0] = [R - 1] * arity
    rows[1] = [0] * arity
    out = bz.poseidon_batch(limbs3(rows))
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.uint64
    assert out.shape == (9, 4)
    assert from_limbs(out) == [bz.poseidon(row) for row in rows]
    assert from_limbs(out)[:2] == [ref.poseidon(row) for row in rows[:2]]
    assert bz.poseidon_batch(rows) == from_limbs(out)


@given(st.integers(1, 16).flatmap(lambda a: st.lists(element_lists(a), min_size=1, max_size=8)))
def test_batch_lists_equal_per_item(rows: list[list[int]]) -> None:
    out = bz.poseidon_batch(rows)
    assert isinstance(out, list)
    assert out == [bz.poseidon(row) for row in rows]
    assert from_limbs(bz.poseidon_batch(limbs3(rows))) == out


def _views(base: npt.NDArray[np.uint64]) -> dict[str, npt.NDArray[np.uint64]]:
    """Non-contiguous and unusual layouts holding limbs of shape (n, arity, 4)."""
    n, arity, _ = base.shape
    padded_limbs = np.zeros((n, arity, 8), dtype=np.uint64)
    padded_limbs[..., ::2] = base
    doubled = np.zeros((2 * n, arity, 4), dtype=np.uint64)
    doubled[::2] = base
    wide = np.zeros((n, arity + 2, 4), dtype=np.uint64)
    wide[:, 1:-1] = base
    readonly = base.copy()
    readonly.flags.writeable = False
    return {
        "every other row": doubled[::2],
        "inner columns": wide[:, 1:-1],
        "negative stride": base[::-1],
        "strided limbs": padded_limbs[..., ::2],
        "reversed inputs": base[:, ::-1],
        "read-only": readonly,
    }


@pytest.mark.parametrize(
    "name",
    [
        "every other row",
        "inner columns",
        "negative stride",
        "strided limbs",
        "reversed inputs",
        "read-only",
    ],
)
def test_batch_non_contiguous(name: str) -> None:
    rows = random_rows(random.Random(name), 7, 3)
    view = _views(limbs3(rows))[name]
    assert view.shape == (7, 3, 4)
    expected = [bz.poseidon(from_limbs(row)) for row in view]
    assert from_limbs(bz.poseidon_batch(view)) == expected


@pytest.mark.parametrize("layout", ["asfortranarray", "transposed F-contiguous view"])
@pytest.mark.parametrize("values", ["small (silently wrong hashes)", "full range (bogus error)"])
def test_batch_fortran_order(layout: str, values: str) -> None:
    rng = random.Random(7)
    bound = 2**60 if values.startswith("small") else R  # 2^60: limbs stay below r's top limb
    rows = [[rng.randrange(bound) for _ in range(3)] for _ in range(5)]
    base = limbs3(rows)
    if layout == "asfortranarray":
        arr = np.asfortranarray(base)
    else:
        arr = np.ascontiguousarray(base.transpose(2, 1, 0)).transpose(2, 1, 0)
    assert arr.flags.f_contiguous
    assert not arr.flags.c_contiguous
    assert np.array_equal(arr, base)
    assert from_limbs(bz.poseidon_batch(arr)) == [bz.poseidon(row) for row in rows]


def test_batch_empty() -> None:
    for arity in (1, 2, 16):
        out = bz.poseidon_batch(np.zeros((0, arity, 4), dtype=np.uint64))
        assert out.dtype == np.uint64
        assert out.shape == (0, 4)
    assert bz.poseidon_batch([]) == []


# --- circomlibjs ------------------------------------------------------------------------


def test_native_matches_circomlibjs(circomlib: Oracle) -> None:
    """One node call: hashes, full permutations and the leaf-sponge block, all widths."""
    rng = random.Random(0xB16F11E)
    cases: list[tuple[list[int], int, int]] = []
    expected: list[list[int]] = []
    for n in WIDTHS:
        rows = [*random_rows(rng, 4, n), [R - 1] * n, [0] * n]
        batch = bz.poseidon_batch(rows)
        for row, h in zip(rows, batch, strict=True):
            cases.append((row, 0, 1))
            expected.append([h])
            assert bz.poseidon(row) == h
        # PoseidonEx with a non-zero capacity and every output word = the full permutation.
        inputs = [rng.randrange(R) for _ in range(n)]
        init = rng.randrange(R)
        cases.append((inputs, init, n + 1))
        expected.append(bz.poseidon_permute([init, *inputs]))
    # The first block of the leaf sponge (file-commitment.md): a single 62-byte chunk.
    for chunk in (bytes(62), bytes(range(62)), bytes(rng.randrange(256) for _ in range(62))):
        e0, e1 = int.from_bytes(chunk[:31], "big"), int.from_bytes(chunk[31:], "big")
        cases.append(([e0, e1], bz.LEAF_IV, 1))
        expected.append([bz.leaf_hash(chunk, 62)])
    assert circomlib(cases) == expected


# --- errors -----------------------------------------------------------------------------

OUT_OF_RANGE = [R, R + 1, 2**256 - 1, 2**256, 2**300, -1, -R]
WRONG_TYPES = [True, False, 1.0, "1", None, b"\x01", np.int64(3), np.uint64(3), 1 + 0j]


@pytest.mark.parametrize("bad", OUT_OF_RANGE)
@pytest.mark.parametrize("position", [0, 2])
def test_out_of_range_input(bad: int, position: int) -> None:
    inputs = [5, 6, 7]
    inputs[position] = bad
    with pytest.raises(FieldElementError) as info:
        bz.poseidon(inputs)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert str(bad) in message
    assert f"inputs[{position}]" in message
    with pytest.raises(ValueError):  # the reference agrees
        ref.poseidon(inputs)
    state = [0, *inputs]
    with pytest.raises(FieldElementError, match=re.escape(f"state[{position + 1}]")):
        bz.poseidon_permute(state)


@pytest.mark.parametrize("bad", WRONG_TYPES, ids=repr)
def test_wrong_type_input(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        bz.poseidon([1, bad])  # type: ignore[list-item]
    assert "inputs[1]" in str(info.value)
    assert type(bad).__name__ in str(info.value)
    with pytest.raises(TypeError):
        ref.poseidon([1, bad])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=re.escape("state[0]")):
        bz.poseidon_permute([bad, 1])  # type: ignore[list-item]


@pytest.mark.parametrize("bad", [None, 5, "12", b"12", 1.5])
def test_inputs_not_a_sequence(bad: object) -> None:
    with pytest.raises(TypeError, match="inputs must be a sequence"):
        bz.poseidon(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="state must be a sequence"):
        bz.poseidon_permute(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [0, 17, 40])
def test_wrong_arity(count: int) -> None:
    with pytest.raises(ParameterError, match=rf"\b1 to 16\b.*got {count}\b"):
        bz.poseidon([1] * count)
    with pytest.raises(ValueError):
        ref.poseidon([1] * count)
    with pytest.raises(ParameterError, match=rf"got {count}\b"):
        bz.poseidon_batch(np.zeros((2, count, 4), dtype=np.uint64))


@pytest.mark.parametrize("t", [0, 1, 18])
def test_wrong_permutation_width(t: int) -> None:
    with pytest.raises(ParameterError, match=rf"t = {t}\b"):
        bz.poseidon_permute([1] * t)
    with pytest.raises(ValueError):
        ref.permute([1] * t)


@pytest.mark.parametrize(
    ("row", "col", "value"),
    [(0, 0, R), (1, 2, R + 12345), (2, 1, 2**256 - 1), (2, 0, 2**255)],
)
def test_batch_limbs_out_of_range(row: int, col: int, value: int) -> None:
    arr = limbs3(random_rows(random.Random(1), 3, 3))
    arr[row, col] = [(value >> (64 * k)) & (2**64 - 1) for k in range(4)]
    with pytest.raises(FieldElementError) as info:
        bz.poseidon_batch(arr)
    message = str(info.value)
    assert f"inputs[{row}][{col}]" in message
    assert str(value) in message


@pytest.mark.parametrize("dtype", [np.int64, np.uint32, np.float64, np.object_, np.uint8])
def test_batch_wrong_dtype(dtype: type) -> None:
    arr = np.ones((2, 3, 4), dtype=dtype)
    with pytest.raises(ParameterError, match=np.dtype(dtype).name):
        bz.poseidon_batch(arr)


@pytest.mark.parametrize("shape", [(2, 3, 3), (2, 3, 5), (2, 4), (4,), (2, 3, 4, 1), (1, 2, 3, 4)])
def test_batch_wrong_shape(shape: tuple[int, ...]) -> None:
    arr = np.zeros(shape, dtype=np.uint64)
    with pytest.raises(ParameterError, match=re.escape(str(list(shape)))):
        bz.poseidon_batch(arr)


def test_batch_list_errors() -> None:
    with pytest.raises(ParameterError, match="same number of elements"):
        bz.poseidon_batch([[1, 2], [1]])
    with pytest.raises(FieldElementError, match=str(R)):
        bz.poseidon_batch([[1, 2], [3, R]])
    with pytest.raises(FieldElementError, match="-1"):
        bz.poseidon_batch([[-1]])
    with pytest.raises(TypeError, match="bool"):
        bz.poseidon_batch([[1, True]])
    with pytest.raises(TypeError, match="float"):
        bz.poseidon_batch([[1, 2.0]])
    with pytest.raises(ParameterError):
        bz.poseidon_batch([[1] * 17])


def test_batch_list_of_empty_rows() -> None:
    with pytest.raises(ParameterError, match="got 0"):
        bz.poseidon_batch([[], []])


@pytest.mark.parametrize("text", ["0x+1", "0x1_0", "0x1 ", "0x\u0661\u0662", "0X1", "0x"])
def test_field_from_hex_takes_only_the_canonical_form(text: str) -> None:
    with pytest.raises(DecodeError):
        bz.field.from_hex(text)


def test_to_limbs_ragged_rows_are_parameter_errors() -> None:
    with pytest.raises(ParameterError):
        bz.field.to_limbs([[1, 2], [3]])
    with pytest.raises(ParameterError):
        bz.field.to_limbs([[]])
