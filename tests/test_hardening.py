"""Regression tests for the outside review's findings on the core and the bindings (issue 11):
gadgets that constrain their own inputs, decoders that never leak a non-library exception, and
the insecure test SRS recognised wherever it is.

Each test here failed on the code the review looked at.
"""

from __future__ import annotations

import functools
import json
import warnings

import pytest

import bigfile_zk as bz
from bigfile_zk import SRS, plonk
from bigfile_zk.errors import (
    BigFileZkError,
    DecodeError,
    InsecureSRSError,
    ParameterError,
    UnsatisfiedError,
)
from bigfile_zk.reference.field import R

MAX_DEGREE = 5 * 256 + 9


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(MAX_DEGREE, 9)


# --- gadgets constrain their own inputs ------------------------------------------------------


def claim_less_than(b: plonk.Builder) -> None:
    """Claims ``x < y`` for 8-bit comparison, with no caller-side range checks."""
    x, y = b.private_input("x"), b.private_input("y")
    b.assert_equal(b.less_than(x, y, 8), b.constant(1))


def test_less_than_cannot_prove_a_wrapped_operand() -> None:
    """The review's forgery: ``r - 1 < 5`` with ``bits = 8`` proved true."""
    pk = plonk.setup(claim_less_than, srs())
    proof = plonk.prove(pk, claim_less_than, {"x": 3, "y": 5})
    assert plonk.verify(pk.vk, proof, [], allow_insecure_srs=True)
    for x, y in [(R - 1, 5), (300, 5), (3, 256 + 5), (3, R - 250)]:
        with pytest.raises(UnsatisfiedError, match="less_than"):
            plonk.prove(pk, claim_less_than, {"x": x, "y": y})


@pytest.mark.parametrize("gadget", ["select", "cond_swap"])
def test_selector_gadgets_constrain_their_bit(gadget: str) -> None:
    def circuit(b: plonk.Builder) -> None:
        bit, x, y = (b.private_input(n) for n in ("bit", "x", "y"))
        out = getattr(b, gadget)(bit, x, y)
        first = out[0] if isinstance(out, tuple) else out
        b.assert_equal(first, b.public_input("out"))

    pk = plonk.setup(circuit, srs())
    plonk.prove(pk, circuit, {"bit": 1, "x": 5, "y": 9, "out": 5 if gadget == "select" else 9})
    # bit = 2 would give select = 2·(5 - 9) + 9 = 1, a value that is neither input.
    with pytest.raises(UnsatisfiedError, match="assert_bool"):
        plonk.prove(pk, circuit, {"bit": 2, "x": 5, "y": 9, "out": 1})


def test_known_checks_are_not_repeated() -> None:
    b = plonk.Builder({"x": 5, "y": 6})
    x, y = b.private_input("x"), b.private_input("y")
    bits = b.to_bits(x, 8)
    b.range_check(y, 8)
    before = b.num_rows
    b.select(bits[0], x, y)
    assert b.num_rows - before == 3
    lt = b.less_than(x, y, 8)
    cost = b.num_rows - before - 3
    before = b.num_rows
    b.select(lt, x, y)
    assert b.num_rows - before == 3
    u, v = b.input(1), b.input(2)
    before = b.num_rows
    b.less_than(u, v, 8)
    assert b.num_rows - before > cost  # unchecked operands pay for their checks


def test_gadget_docstrings_say_what_they_constrain() -> None:
    for name in ["select", "cond_swap", "less_than", "to_bits", "range_check", "merkle_root"]:
        doc = getattr(plonk.Builder, name).__doc__ or ""
        assert "onstrain" in doc, name


# --- decoders: only library exceptions ------------------------------------------------------


DECODERS = [
    bz.MerkleProof.from_json,
    bz.FileCommitment.from_json,
    bz.ChunkOpening.from_json,
    plonk.Proof.from_json,
    plonk.VerifyingKey.from_json,
    plonk.ProvingKey.from_json,
]


@pytest.mark.parametrize("decode", DECODERS, ids=lambda d: d.__qualname__)
@pytest.mark.parametrize(
    "text",
    ['"\ud800"', '{"bytes": "\udcff"}', "\ud800", json.dumps({"type": "x"}) + "\udc80"],
)
def test_lone_surrogates_are_decode_errors(decode: object, text: str) -> None:
    with pytest.raises(DecodeError):
        decode(text)  # type: ignore[operator]


@pytest.mark.parametrize("decode", DECODERS, ids=lambda d: d.__qualname__)
@pytest.mark.parametrize("bad", [None, 5, b"{}", ["{}"]])
def test_non_text_is_a_type_error(decode: object, bad: object) -> None:
    with pytest.raises(TypeError):
        decode(bad)  # type: ignore[operator]


def test_labels_and_names_with_lone_surrogates() -> None:
    b = plonk.Builder()
    with pytest.raises(ParameterError):
        b.push_label("\ud800")
    with pytest.raises(ParameterError):
        b.add_table("\udcff", [(1, 2)])


# --- the insecure test SRS is recognised ----------------------------------------------------


def test_insecure_srs_and_its_keys_are_recognised() -> None:
    assert srs().is_insecure
    pk = plonk.setup(claim_less_than, srs())
    assert pk.vk.is_insecure
    # Through encodings too: the key's [τ]G2 is what is recognised, not a flag.
    vk = plonk.VerifyingKey.from_bytes(pk.vk.to_bytes())
    assert vk.is_insecure
    saved = SRS.from_bytes(srs().to_bytes())
    assert saved.is_insecure
    with pytest.warns(bz.errors.InsecureSRSWarning):
        assert SRS.insecure_for_testing(4, 255).is_insecure
    with pytest.raises(ParameterError, match=r"0\.\.256"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SRS.insecure_for_testing(4, 256)


def test_insecure_keys_need_an_explicit_opt_in() -> None:
    pk = plonk.setup(claim_less_than, srs())
    proof = plonk.prove(pk, claim_less_than, {"x": 1, "y": 2})
    with pytest.raises(InsecureSRSError):
        plonk.verify(pk.vk, proof, [])
    with pytest.raises(InsecureSRSError):
        pk.vk.to_solidity("V")
    source = pk.vk.to_solidity("V", allow_insecure_srs=True)
    assert "bool public constant INSECURE_TEST_SRS = true;" in source
    assert isinstance(InsecureSRSError("x"), BigFileZkError)


def test_malformed_statements_raise_false_ones_are_false() -> None:
    def circuit(b: plonk.Builder) -> None:
        x = b.private_input("x")
        b.assert_equal(b.mul(x, x), b.public_input("y"))

    pk = plonk.setup(circuit, srs())
    proof = plonk.prove(pk, circuit, {"x": 3, "y": 9})
    ok = functools.partial(plonk.verify, pk.vk, proof, allow_insecure_srs=True)
    assert ok([9]) and not ok([10])
    with pytest.raises(ParameterError, match="public inputs"):
        ok([])
    with pytest.raises(ParameterError, match="public inputs"):
        ok([9, 9])
    with pytest.raises(bz.errors.FieldElementError):
        ok([9 + R])
    with pytest.raises(bz.errors.FieldElementError):
        ok([-1])
    with pytest.raises(TypeError):
        ok([True])
