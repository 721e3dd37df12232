"""SRS: the insecure test SRS against py_ecc, our file format, validation, and snarkjs .ptau."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import _snarkjs
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


# -------------------------------------------------------------------------------------------
# snarkjs .ptau files (outside implementation: snarkjs 0.7.6 writes them, and its own JS
# decoding is what we compare against)
# -------------------------------------------------------------------------------------------


def require_snarkjs() -> None:
    """snarkjs (tests/js, npm) for the outside .ptau files: a failure in CI, a skip elsewhere
    (no node/npm on a developer's machine)."""
    try:
        _snarkjs.ensure_snarkjs()
    except RuntimeError as e:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"snarkjs unavailable: {e}")


POWER = 4
G1_START = 80  # payload offset of section 2 in every bn128 .ptau (see tests/_snarkjs.py)


@pytest.fixture(scope="module")
def ptau(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    require_snarkjs()
    path = _snarkjs.make_ptau(tmp_path_factory.mktemp("ptau"), POWER, contributions=2)
    return path, _snarkjs.ptau_json(path)


def test_ptau_points_equal_snarkjs(ptau: tuple[Path, dict]) -> None:
    path, js = ptau
    srs = bz.SRS.from_ptau(path)
    assert srs.max_degree == 2**POWER
    for i in range(srs.max_degree + 1):
        x, y, _ = js["tauG1"][i]
        assert srs.g1(i) == (int(x), int(y)), i
    for i in (0, 1):
        (x0, x1), (y0, y1), _ = js["tauG2"][i]
        assert srs.g2(i) == ((int(x0), int(x1)), (int(y0), int(y1)))
    full = bz.SRS.from_ptau(path, max_degree=2 * 2**POWER - 2)
    assert full.truncate(2**POWER) == srs
    x, y, _ = js["tauG1"][-1]
    assert full.g1(full.max_degree) == (int(x), int(y))


def test_ptau_too_small_names_the_sizes(ptau: tuple[Path, dict]) -> None:
    path, _ = ptau
    with pytest.raises(ParameterError, match=r"power 4.*degree 31"):
        bz.SRS.from_ptau(path, max_degree=2 * 2**POWER - 1)


@pytest.mark.parametrize(
    ("what", "offset", "data", "match"),
    [
        ("magic", 0, b"ptaX", "bad magic"),
        ("field modulus", 28, b"\x00", "not a bn128"),
        ("power", 60, b"\x05", "sections 2/3"),
        ("G1 coordinate", G1_START + 64 * 3 + 5, b"\x7f", r"\[τ\^3\]G1"),
        ("identity power", G1_START + 64 * 2, bytes(64), r"\[τ\^2\]G1"),
        ("G2 coordinate", G1_START + (2 * 2**POWER - 1) * 64 + 12 + 128 + 9, b"\x01", "G2"),
    ],
)
def test_corrupted_ptau_is_refused(
    ptau: tuple[Path, dict], tmp_path: Path, what: str, offset: int, data: bytes, match: str
) -> None:
    path, _ = ptau
    # The ceremony is random: a coordinate byte may already hold the patch (1 run in 256 did).
    if path.read_bytes()[offset : offset + len(data)] == data:
        data = bytes(b ^ 0xFF for b in data)
    bad = _snarkjs.patch(path, tmp_path / "bad.ptau", offset, data)
    assert bad.read_bytes() != path.read_bytes()
    with pytest.raises(DecodeError, match=match):
        bz.SRS.from_ptau(bad)


def test_swapped_ptau_powers_fail_the_pairing_check(
    ptau: tuple[Path, dict], tmp_path: Path
) -> None:
    """Both points are valid curve points; only the one-τ check can see the swap."""
    path, _ = ptau
    raw = path.read_bytes()
    p3 = raw[G1_START + 64 * 3 : G1_START + 64 * 4]
    p4 = raw[G1_START + 64 * 4 : G1_START + 64 * 5]
    bad = _snarkjs.patch(path, tmp_path / "swap.ptau", G1_START + 64 * 3, p4 + p3)
    with pytest.raises(DecodeError, match="pairing check"):
        bz.SRS.from_ptau(bad)


def test_truncated_ptau_is_refused(ptau: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = ptau
    raw = path.read_bytes()
    for keep in (0, 10, 40, G1_START + 100, len(raw) - 1):
        cut = tmp_path / f"cut{keep}.ptau"
        cut.write_bytes(raw[:keep])
        with pytest.raises(DecodeError):
            bz.SRS.from_ptau(cut)


@pytest.fixture(scope="module")
def ptau_phase2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    require_snarkjs()
    directory = tmp_path_factory.mktemp("ptau2")
    path = _snarkjs.make_ptau(directory, POWER, contributions=1, prepare_phase2=True)
    return path, _snarkjs.ptau_json(path)


def test_lagrange_basis_equals_snarkjs_prepare_phase2(ptau_phase2: tuple[Path, dict]) -> None:
    """Our domain (ω) and inverse FFT over G1 against snarkjs's section 12, both ways."""
    path, js = ptau_phase2
    srs = bz.SRS.from_ptau(path)
    for k in range(POWER + 1):
        n = 2**k
        ours = srs.lagrange_basis(n)
        from_file = srs.lagrange_basis(n, ptau=path)
        assert ours == from_file, n
        expected = [
            int(x).to_bytes(32, "big") + int(y).to_bytes(32, "big") for x, y, _ in js["lTauG1"][k]
        ]
        assert ours == expected, n
    full = bz.SRS.from_ptau(path, max_degree=2 * 2**POWER - 2)
    with pytest.raises(ParameterError, match="no Lagrange basis"):
        full.lagrange_basis(2 ** (POWER + 1), ptau=path)  # block power+1 is not a basis
    with pytest.raises(ParameterError, match="this one has 16"):
        srs.lagrange_basis(2 ** (POWER + 1))


def test_tampered_lagrange_section_is_refused(
    ptau_phase2: tuple[Path, dict], tmp_path: Path
) -> None:
    path, js = ptau_phase2
    srs = bz.SRS.from_ptau(path)
    section12 = next(s for s in js["sections"] if s["id"] == 12)
    start = section12["offset"] + (8 - 1) * 64  # block k = 3 (n = 8)
    raw = path.read_bytes()
    swapped = raw[start + 64 : start + 128] + raw[start : start + 64]
    bad = _snarkjs.patch(path, tmp_path / "bad.ptau", start, swapped)
    with pytest.raises(DecodeError, match="does not match"):
        srs.lagrange_basis(8, ptau=bad)
    assert srs.lagrange_basis(4, ptau=bad) == srs.lagrange_basis(4)  # other blocks untouched
    with pytest.raises(DecodeError, match="section 12"):
        srs.lagrange_basis(4, ptau=_snarkjs.make_ptau(tmp_path, 2))


# -------------------------------------------------------------------------------------------
# The insecure-SRS policy (issue 11, finding 2): every test SRS is recognised; a ceremony's
# (here a snarkjs .ptau with a random contribution) is not, and needs no opt-in.
# -------------------------------------------------------------------------------------------


def test_insecure_srs_is_recognised_after_a_round_trip(tmp_path: Path) -> None:
    srs = insecure(64, 200)
    assert srs.is_insecure
    assert bz.SRS.from_bytes(srs.to_bytes()).is_insecure
    srs.save(tmp_path / "t.srs")
    assert bz.SRS.load(tmp_path / "t.srs").is_insecure
    assert srs.truncate(8).is_insecure


def test_ceremony_key_verifies_without_the_opt_in(tmp_path: Path) -> None:
    import sys

    from bigfile_zk import plonk
    from bigfile_zk.cli import main

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from evm_circuits import square

    require_snarkjs()
    # 2^5 powers: max degree 62 >= 5n + 10 for the square circuit's n = 8 rows.
    ptau = _snarkjs.make_ptau(tmp_path, 5, contributions=1)
    srs = bz.SRS.from_ptau(ptau, max_degree=2 * 2**5 - 2)
    assert not srs.is_insecure
    pk = plonk.setup(square, srs)
    assert not pk.vk.is_insecure
    proof = plonk.prove(pk, square, {"x": 3, "y": 9}, progress=False)
    assert plonk.verify(pk.vk, proof, [9])  # no opt-in needed
    assert not plonk.verify(pk.vk, proof, [10])
    source = pk.vk.to_solidity("SquareVerifier")
    assert "bool public constant INSECURE_TEST_SRS = false;" in source
    (tmp_path / "vk.bin").write_bytes(pk.vk.to_bytes())
    out = tmp_path / "V.sol"
    assert main(["verifier", "--vk", str(tmp_path / "vk.bin"), "--out", str(out)]) == 0
    assert "INSECURE_TEST_SRS = false;" in out.read_text()
