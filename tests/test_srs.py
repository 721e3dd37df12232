"""SRS: the insecure test SRS against py_ecc, our file format, validation, and snarkjs .ptau."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from Crypto.Hash import keccak
from py_ecc.bn128 import G1, G2, curve_order, multiply

import bigfile_zk as bz
from bigfile_zk.errors import DecodeError, IndexOutOfRangeError, InsecureSRSWarning, ParameterError


def insecure(max_degree: int, seed: int = 0) -> bz.SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return bz.SRS.insecure_for_testing(max_degree, seed)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def g2_tuple(p: tuple) -> tuple[tuple[int, int], tuple[int, int]]:
    x, y = p[0].coeffs, p[1].coeffs
    return (int(x[0]), int(x[1])), (int(y[0]), int(y[1]))


def test_insecure_srs_is_what_the_spec_says_checked_with_py_ecc() -> None:
    seed = 5
    tau = int.from_bytes(keccak256(b"bigfile_zk/insecure-srs" + seed.to_bytes(8, "big")), "big")
    tau %= curve_order
    srs = insecure(8, seed)
    assert srs.max_degree == 8 and len(srs) == 9
    for i in (0, 1, 2, 8):
        x, y = multiply(G1, pow(tau, i, curve_order))
        assert srs.g1(i) == (int(x), int(y))
    assert srs.g2(0) == g2_tuple(G2)
    assert srs.g2(1) == g2_tuple(multiply(G2, tau))


def test_insecure_srs_warns() -> None:
    with pytest.warns(InsecureSRSWarning, match="insecure_for_testing"):
        bz.SRS.insecure_for_testing(4)


def test_save_load_round_trip(tmp_path: Path) -> None:
    srs = insecure(64, 1)
    path = tmp_path / "s.srs"
    srs.save(path)
    assert bz.SRS.load(path) == srs
    assert bz.SRS.load(path, validate=True) == srs
    assert bz.SRS.from_bytes(srs.to_bytes()) == srs
    assert srs.truncate(3) == insecure(3, 1)
    assert len(path.read_bytes()) == 16 + 65 * 64 + 256 + 32
    assert not list(tmp_path.glob(".s.srs.tmp-*"))


def test_every_corrupted_region_is_refused() -> None:
    data = insecure(4, 2).to_bytes()
    for at in range(0, len(data), 7):
        bad = bytearray(data)
        bad[at] ^= 0x10
        with pytest.raises(DecodeError):
            bz.SRS.from_bytes(bytes(bad))
    for cut in (0, 15, 16, len(data) - 1):
        with pytest.raises(DecodeError):
            bz.SRS.from_bytes(data[:cut])
    with pytest.raises(DecodeError):
        bz.SRS.from_bytes(data + b"\x00")


def test_swapped_powers_with_a_fresh_checksum_fail_validation() -> None:
    """The checksum catches accidents; the pairing check catches a consistent forgery."""
    srs = insecure(6, 3)
    body = bytearray(srs.to_bytes()[:-32])
    p3 = slice(16 + 64 * 3, 16 + 64 * 4)
    p4 = slice(16 + 64 * 4, 16 + 64 * 5)
    body[p3], body[p4] = body[p4], body[p3]
    forged = bz.SRS.from_bytes(bytes(body) + keccak256(bytes(body)))  # points are on the curve
    with pytest.raises(DecodeError, match="pairing check"):
        forged.validate()


def test_index_and_degree_errors() -> None:
    srs = insecure(4)
    with pytest.raises(IndexOutOfRangeError):
        srs.g1(5)
    with pytest.raises(IndexOutOfRangeError):
        srs.g2(2)
    with pytest.raises(ParameterError):
        srs.truncate(5)
    with pytest.raises(FileNotFoundError):
        bz.SRS.load("/nonexistent/s.srs")
