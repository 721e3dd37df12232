"""Native (Rust) file commitments and openings against the reference, the spec and the vectors.

Also every error path of committing and opening files: bad parameters, missing, empty and
modified files, a file that changes while it is read, and a progress callback that raises.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ARITIES, CHUNK_SIZES, LEAF_IV_SPEC, VECTORS, R, arities, chunk_sizes, pattern

import bigfile_zk as bz
from bigfile_zk import _native
from bigfile_zk.errors import (
    BigFileZkError,
    CommitmentMismatchError,
    DecodeError,
    FileChangedError,
    IndexOutOfRangeError,
    ParameterError,
)
from bigfile_zk.reference import commitment as rc
from bigfile_zk.reference import merkle as rm

#: A layout with small streaming blocks: 16 chunks of 65472 bytes (~1 MiB) per block.
BIG_CHUNK, BIG_ARITY = 65472, 16
BLOCK = BIG_CHUNK * BIG_ARITY


def meta(file_size: int, chunk_size: int, arity: int) -> int:
    return file_size + (chunk_size << 64) + (arity << 96) + (1 << 128)


def spec_commitment(data: bytes, chunk_size: int, arity: int) -> tuple[int, int]:
    """``(root, commitment)`` assembled from the spec's steps with native building blocks
    (``leaf_hash``, ``MerkleTree``, ``poseidon``), bypassing the streaming code path."""
    leaves = [
        bz.leaf_hash(data[k : k + chunk_size], chunk_size) for k in range(0, len(data), chunk_size)
    ]
    root = bz.MerkleTree(leaves, arity).root
    return root, bz.poseidon([root, meta(len(data), chunk_size, arity)])


def to_ref(c: bz.FileCommitment) -> rc.FileCommitment:
    return rc.FileCommitment.from_bytes(c.to_bytes())


def check_same(native: bz.FileCommitment, reference: rc.FileCommitment) -> None:
    assert (
        native.commitment,
        native.root,
        native.file_size,
        native.chunk_size,
        native.arity,
        native.spec_version,
        native.num_chunks,
        native.depth,
    ) == (
        reference.commitment,
        reference.root,
        reference.file_size,
        reference.chunk_size,
        reference.arity,
        reference.spec_version,
        reference.num_chunks,
        reference.depth,
    )
    assert native.to_bytes() == reference.to_bytes()
    assert json.loads(native.to_json()) == json.loads(reference.to_json())
    assert rc.FileCommitment.from_bytes(native.to_bytes()) == reference
    assert rc.FileCommitment.from_json(native.to_json()) == reference
    assert bz.FileCommitment.from_bytes(reference.to_bytes()) == native
    assert bz.FileCommitment.from_json(reference.to_json()) == native


def random_bytes(n: int) -> bytes:
    """Reproducible pseudo-random bytes (seeded by the length)."""
    return random.Random(n).randbytes(n)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- native == reference ----------------------------------------------------------------

sized_binary = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.integers(1, 5000).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)


@given(data=sized_binary, chunk_size=chunk_sizes, arity=arities)
def test_commit_bytes_matches_reference(data: bytes, chunk_size: int, arity: int) -> None:
    native = bz.commit_bytes(data, chunk_size=chunk_size, arity=arity)
    check_same(native, rc.commit_bytes(data, chunk_size, arity))
    last = (native.num_chunks - 1) * chunk_size
    assert bz.leaf_hash(data[last:], chunk_size) == rc.leaf_hash(
        data[last:].ljust(chunk_size, b"\0")
    )
    assert native.chunk_len(native.num_chunks - 1) == len(data) - last


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("arity", ARITIES)
def test_length_and_layout_are_bound(chunk_size: int, arity: int) -> None:
    data = pattern(chunk_size + 5)
    c = bz.commit_bytes(data, chunk_size=chunk_size, arity=arity)
    padded = bz.commit_bytes(data + b"\0", chunk_size=chunk_size, arity=arity)
    assert padded.root == c.root  # same zero-padded chunks ...
    assert padded.commitment != c.commitment  # ... but the length is bound
    assert c.commitment == bz.poseidon([c.root, meta(len(data), chunk_size, arity)])
    other_arity = 4 if arity == 2 else 2
    assert bz.commit_bytes(data, chunk_size=chunk_size, arity=other_arity).commitment != (
        c.commitment
    )


def test_leaf_iv_and_leaf_hash() -> None:
    assert bz.LEAF_IV == LEAF_IV_SPEC == rc.LEAF_IV
    for chunk_size in CHUNK_SIZES:
        for data in (b"", b"\x01", pattern(chunk_size - 1), pattern(chunk_size)):
            assert bz.leaf_hash(data, chunk_size) == rc.leaf_hash(data.ljust(chunk_size, b"\0"))
    with pytest.raises(ParameterError, match="at most 62 bytes, got 63"):
        bz.leaf_hash(bytes(63), 62)
    with pytest.raises(ParameterError, match="chunk_size 100"):
        bz.leaf_hash(b"x", 100)


@pytest.mark.parametrize(
    "data", [b"abc", bytearray(b"abc"), memoryview(b"abc")], ids=["bytes", "bytearray", "view"]
)
def test_commit_bytes_accepts_buffers(data: bytes) -> None:
    assert bz.commit_bytes(data) == rc_commit_cached(b"abc")


def rc_commit_cached(data: bytes) -> bz.FileCommitment:
    return bz.FileCommitment.from_bytes(rc.commit_bytes(data).to_bytes())


def test_vector_file_reproduced(tmp_path: Path) -> None:
    vectors = json.loads((VECTORS / "file_commitment.json").read_text())
    assert int(vectors["leaf_iv"], 16) == bz.LEAF_IV
    leaf_rules = {
        "62 zero bytes": (bytes(62), 62),
        "992 zero bytes": (bytes(992), 992),
        "bytes(range(62))": (bytes(range(62)), 62),
    }
    for case in vectors["leaf_hashes"]:
        data, chunk_size = leaf_rules[case["rule"]]
        assert bz.leaf_hash(data, chunk_size) == int(case["leaf"], 16)
    for case in vectors["cases"]:
        size, chunk_size, arity = case["file_size"], case["chunk_size"], case["arity"]
        data = pattern(size)
        c = bz.commit_bytes(data, chunk_size=chunk_size, arity=arity)
        assert c.commitment == int(case["commitment"], 16), case["file_size"]
        assert c.root == int(case["root"], 16)
        assert (c.num_chunks, c.depth) == (case["num_chunks"], case["depth"])
        assert meta(size, chunk_size, arity) == int(case["meta"], 16)
        assert c.to_bytes().hex() == case["to_bytes"]
        assert json.loads(c.to_json()) == case["json"]
        assert bz.FileCommitment.from_json(json.dumps(case["json"])) == c
        leaves = [
            bz.leaf_hash(data[k : k + chunk_size], chunk_size) for k in range(0, size, chunk_size)
        ]
        assert leaves == [int(x, 16) for x in case["leaves"]]
        path = write(tmp_path / f"vector-{size}-{chunk_size}-{arity}.bin", data)
        assert bz.commit_file(path, chunk_size=chunk_size, arity=arity) == c
        opening = c.open(path, case["opening_index"])
        assert len(opening.data) == case["opening_data_len"]
        assert opening.proof.to_bytes().hex() == case["opening_proof"]
        assert opening.verify(c)


# --- files --------------------------------------------------------------------------------


@given(data=st.binary(min_size=1, max_size=20_000), chunk_size=chunk_sizes, arity=arities)
def test_commit_file_equals_commit_bytes(data: bytes, chunk_size: int, arity: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "f.bin", data)
        c = bz.commit_file(path, chunk_size=chunk_size, arity=arity)
        assert c == bz.commit_bytes(data, chunk_size=chunk_size, arity=arity)
        assert _native.commit_file(str(path), chunk_size, arity) == c
        assert (c.root, c.commitment) == spec_commitment(data, chunk_size, arity)


@pytest.mark.parametrize(
    "size",
    [1, BIG_CHUNK, BIG_CHUNK + 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + BIG_CHUNK + 7],
)
def test_streaming_across_block_boundaries(tmp_path: Path, size: int) -> None:
    data = random_bytes(size)
    path = write(tmp_path / "big.bin", data)
    done: list[int] = []
    c = _native.commit_file(path, BIG_CHUNK, BIG_ARITY, done.append)
    assert (c.root, c.commitment) == spec_commitment(data, BIG_CHUNK, BIG_ARITY)
    assert c == bz.commit_bytes(data, chunk_size=BIG_CHUNK, arity=BIG_ARITY)
    assert done == sorted(done)
    assert done[-1] == size
    assert len(done) == -(-size // BLOCK)  # one report per block


_SCALAR_SCRIPT = textwrap.dedent(
    """
    import sys
    import bigfile_zk as bz
    from bigfile_zk import _native
    c = bz.commit_file(sys.argv[1], chunk_size=int(sys.argv[2]), arity=int(sys.argv[3]),
                       progress=False)
    print(_native._simd_enabled(), c.root, c.commitment)
    """
)


@pytest.mark.parametrize(
    ("chunks", "chunk_size", "arity"), [(8 * 37 + 5, 992, 2), (19, 992, 4), (41, 62, 16)]
)
def test_scalar_and_vector_paths_agree(
    tmp_path: Path, chunks: int, chunk_size: int, arity: int
) -> None:
    """BIGFILE_ZK_NO_SIMD=1 forces the scalar path in a fresh process (the AVX-512 IFMA path
    is the default where the CPU has it): the same commitment either way, ragged tail included."""
    data = random_bytes(chunks * chunk_size - 17)
    path = write(tmp_path / "f.bin", data)
    here = bz.commit_file(path, chunk_size=chunk_size, arity=arity, progress=False)
    for flag, enabled in [("1", False), ("0", _native._simd_enabled())]:
        out = subprocess.run(
            [sys.executable, "-c", _SCALAR_SCRIPT, str(path), str(chunk_size), str(arity)],
            env={**os.environ, "BIGFILE_ZK_NO_SIMD": flag},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert out == [str(enabled), str(here.root), str(here.commitment)]
    assert (here.root, here.commitment) == spec_commitment(data, chunk_size, arity)


# --- encodings ----------------------------------------------------------------------------


def sample_commitment() -> bz.FileCommitment:
    return bz.commit_bytes(pattern(5000), chunk_size=124, arity=4)


def test_round_trips() -> None:
    c = sample_commitment()
    assert bz.FileCommitment.from_bytes(c.to_bytes()) == c
    assert bz.FileCommitment.from_json(c.to_json()) == c
    assert len(c.to_bytes()) == 84
    assert c.to_bytes()[:4] == b"BFFC"
    assert hash(bz.FileCommitment.from_bytes(c.to_bytes())) == hash(c)
    check_same(c, to_ref(c))


def test_every_byte_mutation_is_rejected() -> None:
    """The commitment binds every field, so no single-byte change survives decoding."""
    data = sample_commitment().to_bytes()
    for position in range(len(data)):
        for value in range(256):
            if value != data[position]:
                mutated = data[:position] + bytes([value]) + data[position + 1 :]
                with pytest.raises(DecodeError):
                    bz.FileCommitment.from_bytes(mutated)
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        with pytest.raises(ValueError):  # the reference agrees
            rc.FileCommitment.from_bytes(bytes(flipped))


def replace(data: bytes, start: int, value: bytes) -> bytes:
    return data[:start] + value + data[start + len(value) :]


@pytest.mark.parametrize(
    ("name", "tamper", "message"),
    [
        ("bad magic", lambda b: replace(b, 0, b"BFMP"), "magic"),
        ("version", lambda b: replace(b, 4, b"\x02"), "version 2"),
        ("arity", lambda b: replace(b, 5, b"\x03"), "arity 3"),
        ("other arity", lambda b: replace(b, 5, b"\x02"), "commitment is not H"),
        ("reserved", lambda b: replace(b, 6, b"\x00\x01"), "reserved"),
        ("chunk size", lambda b: replace(b, 8, (100).to_bytes(4, "big")), "chunk_size 100"),
        ("size", lambda b: replace(b, 12, (5001).to_bytes(8, "big")), "commitment is not H"),
        ("size zero", lambda b: replace(b, 12, bytes(8)), "empty"),
        ("huge size", lambda b: replace(b, 12, b"\xff" * 8), "chunks"),
        ("root", lambda b: replace(b, 51, bytes([b[51] ^ 1])), "commitment is not H"),
        ("root >= r", lambda b: replace(b, 20, R.to_bytes(32, "big")), "root"),
        ("commitment", lambda b: replace(b, 83, bytes([b[83] ^ 1])), "commitment is not H"),
        ("commitment >= r", lambda b: replace(b, 52, b"\xff" * 32), "commitment"),
        ("short", lambda b: b[:83], "83 bytes"),
        ("long", lambda b: b + b"\0", "85 bytes"),
        ("empty", lambda b: b"", "0 bytes"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_bytes_tampering(name: str, tamper: Callable[[bytes], bytes], message: str) -> None:
    data = tamper(sample_commitment().to_bytes())
    with pytest.raises(DecodeError, match=message) as info:
        bz.FileCommitment.from_bytes(data)
    assert "file commitment bytes" in str(info.value)
    with pytest.raises(ValueError):
        rc.FileCommitment.from_bytes(data)


def bad_commitment_jsons() -> list[tuple[str, str]]:
    good: dict[str, Any] = json.loads(sample_commitment().to_json())
    other = json.loads(bz.commit_bytes(pattern(5001), chunk_size=124, arity=4).to_json())
    out = [
        (f"missing {key}", json.dumps({k: v for k, v in good.items() if k != key})) for key in good
    ]
    out.append(("unknown key", json.dumps({**good, "note": "hi"})))
    for key, value in (
        ("type", "bigfile_zk.MerkleProof"),
        ("spec_version", 2),
        ("spec_version", 256),
        ("file_size", good["file_size"] + 1),
        ("file_size", 0),
        ("file_size", -1),
        ("file_size", "5000"),
        ("file_size", 5000.5),
        ("chunk_size", 62),
        ("chunk_size", 100),
        ("arity", 2),
        ("arity", 3),
        ("num_chunks", good["num_chunks"] + 1),
        ("depth", good["depth"] + 1),
        ("root", other["root"]),
        ("root", "0x" + R.to_bytes(32, "big").hex()),
        ("root", "0x"),
        ("root", 5),
        ("commitment", other["commitment"]),
        ("commitment", "0xzz"),
        ("commitment", None),
    ):
        out.append((f"{key}={value!r}", json.dumps({**good, key: value})))
    out += [("not JSON", "{"), ("list", "[1]"), ("other file", json.dumps({**other, "depth": 9}))]
    return out


@pytest.mark.parametrize(
    ("name", "text"), bad_commitment_jsons(), ids=[c[0] for c in bad_commitment_jsons()]
)
def test_json_tampering(name: str, text: str) -> None:
    with pytest.raises(DecodeError, match="file commitment JSON"):
        bz.FileCommitment.from_json(text)
    with pytest.raises(ValueError):
        rc.FileCommitment.from_json(text)


# --- openings -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bz.FileCommitment]:
    """A file of 10 chunks (last one short) committed with the default layout (depth 4)."""
    data = random_bytes(992 * 9 + 17)
    path = write(tmp_path_factory.mktemp("open") / "data.bin", data)
    return path, data, bz.commit_file(path)


@pytest.mark.parametrize("index", [0, 5, 9])
def test_open_verifies(committed: tuple[Path, bytes, bz.FileCommitment], index: int) -> None:
    path, data, c = committed
    opening = c.open(path, index)
    start = index * c.chunk_size
    assert opening.index == index
    assert opening.data == data[start : start + c.chunk_size]
    assert len(opening.data) == c.chunk_len(index)
    assert opening.verify(c)
    assert c.verify(opening)
    proof = opening.proof
    assert (proof.index, proof.arity, proof.depth) == (index, c.arity, c.depth)
    assert proof.leaf == bz.leaf_hash(opening.data)
    assert proof.verify(c.root)
    assert bz.open_file(path, c, index) == opening
    assert _native.open_file(path, c, index) == opening
    # The reference accepts the same opening, and builds the same proof from the bytes.
    ref_c = to_ref(c)
    ref_proof = rm.MerkleProof.from_bytes(proof.to_bytes())
    assert rc.ChunkOpening(index, opening.data, ref_proof).verify(ref_c)
    assert rc.open_bytes(data, ref_c, index).proof.to_bytes() == proof.to_bytes()


def test_tampered_openings_do_not_verify(
    committed: tuple[Path, bytes, bz.FileCommitment], tmp_path: Path
) -> None:
    path, data, c = committed
    ref_c = to_ref(c)
    opening = c.open(path, 5)
    proof = rm.MerkleProof.from_bytes(opening.proof.to_bytes())
    flipped = bytes([opening.data[0] ^ 1]) + opening.data[1:]
    other = c.open(path, 6)
    other_proof = rm.MerkleProof.from_bytes(other.proof.to_bytes())
    bad = {
        "data byte flipped": rc.ChunkOpening(5, flipped, proof),
        "other index": rc.ChunkOpening(6, opening.data, proof),
        "other chunk's proof": rc.ChunkOpening(5, opening.data, other_proof),
        "data truncated": rc.ChunkOpening(5, opening.data[:-1], proof),
    }
    for name, ref_opening in bad.items():
        assert not ref_opening.verify(ref_c), name
    # The native pieces agree: the flipped data has another leaf, a moved proof fails.
    assert bz.leaf_hash(flipped) != opening.proof.leaf
    moved = bz.MerkleProof(c.arity, 6, opening.proof.leaf, opening.proof.siblings)
    assert not moved.verify(c.root)
    # Last chunk with its padding made explicit: same leaf, wrong length.
    last = c.open(path, 9)
    last_proof = rm.MerkleProof.from_bytes(last.proof.to_bytes())
    assert bz.leaf_hash(last.data.ljust(992, b"\0")) == last.proof.leaf
    assert not rc.ChunkOpening(9, last.data.ljust(992, b"\0"), last_proof).verify(ref_c)
    # A proof from another file of the same size and layout.
    other_data = bytearray(data)
    other_data[5 * 992] ^= 0xFF
    other_path = write(tmp_path / "other.bin", bytes(other_data))
    other_c = bz.commit_file(other_path)
    assert other_c != c
    foreign = other_c.open(other_path, 5)
    assert foreign.verify(other_c)
    assert not foreign.verify(c)
    assert not c.verify(foreign)
    assert not opening.verify(other_c)
    # Same data under another layout.
    wide = bz.commit_file(path, arity=4)
    assert not opening.verify(wide)
    assert c.open(path, 0) != opening


def test_native_chunk_opening_can_be_built() -> None:
    c = sample_commitment()
    proof = bz.MerkleProof(c.arity, 0, 0, [[0] * (c.arity - 1)] * c.depth)
    opening = bz.ChunkOpening(0, b"x", proof)  # type: ignore[call-arg]
    assert not opening.verify(c)


def test_open_multi_block_file(tmp_path: Path) -> None:
    data = random_bytes(2 * BLOCK + 3 * BIG_CHUNK + 11)
    path = write(tmp_path / "big.bin", data)
    c = _native.commit_file(path, BIG_CHUNK, BIG_ARITY)
    for index in (0, 17, c.num_chunks - 1):
        opening = c.open(path, index)
        assert opening.verify(c)
        assert opening.data == data[index * BIG_CHUNK : (index + 1) * BIG_CHUNK]


def test_open_progress_stays_within_file_size(tmp_path: Path) -> None:
    data = bytes(3 * BLOCK + 1000)
    path = write(tmp_path / "big.bin", data)
    c = _native.commit_file(path, BIG_CHUNK, BIG_ARITY)
    done: list[int] = []
    assert _native.open_file(path, c, c.num_chunks - 1, done.append).verify(c)
    assert done == sorted(done)
    assert max(done) <= c.file_size


def test_open_after_modification(
    committed: tuple[Path, bytes, bz.FileCommitment], tmp_path: Path
) -> None:
    _, data, c = committed
    for position in (3, 5 * 992, len(data) - 1):  # in, and away from, the opened chunk
        changed = bytearray(data)
        changed[position] ^= 0x40
        path = write(tmp_path / "changed.bin", bytes(changed))
        with pytest.raises(CommitmentMismatchError, match="no longer matches") as info:
            c.open(path, 0)
        assert isinstance(info.value, ValueError)
        assert str(path) in str(info.value)


@pytest.mark.parametrize("new_size", [992 * 9 + 16, 992 * 9 + 18, 992 * 20])
def test_open_after_size_change(
    committed: tuple[Path, bytes, bz.FileCommitment], tmp_path: Path, new_size: int
) -> None:
    _, data, c = committed
    path = write(tmp_path / "resized.bin", (data + bytes(new_size))[:new_size])
    with pytest.raises(CommitmentMismatchError, match=rf"{new_size} bytes.*{c.file_size} bytes"):
        c.open(path, 0)


def test_open_errors(committed: tuple[Path, bytes, bz.FileCommitment], tmp_path: Path) -> None:
    path, _, c = committed
    for index in (10, 11, 2**64 - 1):
        with pytest.raises(IndexOutOfRangeError, match=rf"chunk index {index}\b") as info:
            c.open(path, index)
        assert isinstance(info.value, IndexError)
    with pytest.raises(FileNotFoundError, match="missing"):
        c.open(tmp_path / "missing.bin", 0)
    with pytest.raises(OSError, match="not a regular file"):
        c.open(tmp_path, 0)
    with pytest.raises(IndexOutOfRangeError):
        c.chunk_len(10)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [0, 1, 61, 63, 100, 65473, 65534, 2**20])
def test_bad_chunk_size(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "f.bin", b"data")
    message = rf"chunk_size {chunk_size} is not supported"
    for call in (
        lambda: bz.commit_bytes(b"data", chunk_size=chunk_size),
        lambda: bz.commit_file(path, chunk_size=chunk_size),
        lambda: _native.commit_file(path, chunk_size, 2),
        lambda: bz.leaf_hash(b"", chunk_size),
    ):
        with pytest.raises(ParameterError, match=message) as info:
            call()
        assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError):
        rc.commit_bytes(b"data", chunk_size, 2)


@pytest.mark.parametrize("arity", [0, 1, 3, 32, 256])
def test_bad_arity(tmp_path: Path, arity: int) -> None:
    path = write(tmp_path / "f.bin", b"data")
    with pytest.raises(ParameterError, match=rf"arity {arity}\b"):
        bz.commit_bytes(b"data", arity=arity)
    with pytest.raises(ParameterError, match=rf"arity {arity}\b"):
        bz.commit_file(path, arity=arity)


def test_empty_input(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.bin", b"")
    with pytest.raises(ParameterError, match="empty"):
        bz.commit_bytes(b"")
    with pytest.raises(ParameterError, match="empty"):
        bz.commit_file(path)
    with pytest.raises(ParameterError, match="empty"):
        _native.commit_file(path)
    with pytest.raises(ValueError):
        rc.commit_bytes(b"")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError, match=r"missing\.bin"):
        bz.commit_file(missing)
    with pytest.raises(FileNotFoundError, match=r"missing\.bin"):
        _native.commit_file(missing)
    with pytest.raises(OSError, match="not a regular file") as info:
        bz.commit_file(tmp_path)
    assert not isinstance(info.value, FileChangedError)
    with pytest.raises(OSError, match="not a regular file"):
        _native.commit_file(str(tmp_path))


# --- files that change while being read, progress callbacks --------------------------------


def age(path: Path) -> None:
    """Backdate the mtime, so that a rewrite is visible even with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**10))


def _append(path: Path) -> None:
    with path.open("ab") as f:
        f.write(b"more")


def _truncate(path: Path) -> None:
    os.truncate(path, BIG_CHUNK)


def _shrink_by_one(path: Path) -> None:
    os.truncate(path, path.stat().st_size - 1)


def _rewrite_in_place(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(2 * BLOCK + 5)
        f.write(b"changed")


@pytest.mark.parametrize(
    "change",
    [_append, _truncate, _shrink_by_one, _rewrite_in_place],
    ids=["append", "truncate", "shrink by one", "rewrite in place"],
)
def test_file_changed_while_committing(tmp_path: Path, change: Callable[[Path], None]) -> None:
    path = write(tmp_path / "moving.bin", random_bytes(3 * BLOCK))
    age(path)
    calls: list[int] = []

    def on_progress(done: int) -> None:
        calls.append(done)
        if len(calls) == 1:
            change(path)

    with pytest.raises(FileChangedError, match="changed while it was being read") as info:
        _native.commit_file(path, BIG_CHUNK, BIG_ARITY, on_progress)
    assert str(path) in str(info.value)
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, BigFileZkError)
    assert calls[0] == BLOCK


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, ValueError, RuntimeError])
@pytest.mark.parametrize("blocks", [1, 2])
def test_raising_progress_callback(
    tmp_path: Path, exc_type: type[BaseException], blocks: int
) -> None:
    path = write(tmp_path / "f.bin", bytes(blocks * BLOCK))
    calls: list[int] = []
    raised = exc_type("stop here")

    def on_progress(done: int) -> None:
        calls.append(done)
        raise raised

    result: list[bz.FileCommitment] = []
    with pytest.raises(exc_type) as info:
        result.append(_native.commit_file(path, BIG_CHUNK, BIG_ARITY, on_progress))
    assert info.value is raised  # the callback's own exception, not a translation
    assert result == []
    assert calls == [BLOCK]  # the work stopped at the first report
    c = _native.commit_file(path, BIG_CHUNK, BIG_ARITY)
    calls.clear()
    with pytest.raises(exc_type):
        _native.open_file(path, c, 0, on_progress)
    assert len(calls) == 1


CALLBACK_SCRIPT = textwrap.dedent(
    """
    import sys
    from bigfile_zk import _native

    path, exc_name = sys.argv[1], sys.argv[2]
    calls = []

    def on_progress(done):
        calls.append(done)
        raise {"KeyboardInterrupt": KeyboardInterrupt, "ValueError": ValueError}[exc_name]("x")

    try:
        _native.commit_file(path, 65472, 16, on_progress)
    except (KeyboardInterrupt, ValueError) as e:
        print(type(e).__name__, len(calls))
    else:
        print("returned")
    """
)


def test_raising_progress_callback_many_blocks(tmp_path: Path) -> None:
    """KeyboardInterrupt and ValueError, each in a subprocess (today the call never returns);
    both run at once to bound the time lost while the bug is there."""
    path = write(tmp_path / "f.bin", bytes(4 * BLOCK))
    names = ["KeyboardInterrupt", "ValueError"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CALLBACK_SCRIPT, str(path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    deadline = time.monotonic() + 6
    outputs: list[str] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            outputs.append(out + err)
    except subprocess.TimeoutExpired:
        pytest.fail("commit_file did not return within 6 s after on_progress raised (deadlock)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for name, output in zip(names, outputs, strict=True):
        assert output.split() == [name, "1"], output


# --- tree files (fast openings) ----------------------------------------------------------

#: docs/spec/file-commitment.md: the least level L with arity^L >= 16.
TREE_MIN_LEVEL = {2: 4, 4: 2, 8: 2, 16: 1}
#: Chunk counts (62-byte chunks) that give each arity a few stored levels.
TREE_CHUNKS = {2: 41, 4: 40, 8: 100, 16: 300}


@pytest.fixture(scope="module", params=ARITIES, ids=lambda a: f"arity{a}")
def tree_case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, bytes, bz.FileCommitment]:
    arity: int = request.param
    data = random_bytes(62 * (TREE_CHUNKS[arity] - 1) + 7)
    tmp = tmp_path_factory.mktemp(f"tree{arity}")
    path = write(tmp / "data.bin", data)
    tree = tmp / "data.tree"
    c = bz.commit_file(path, chunk_size=62, arity=arity, tree=tree)
    return path, tree, data, c


def test_tree_file_layout(tree_case: tuple[Path, Path, bytes, bz.FileCommitment]) -> None:
    _, tree, data, c = tree_case
    assert c == bz.commit_bytes(data, chunk_size=62, arity=c.arity)
    level = TREE_MIN_LEVEL[c.arity]
    raw = tree.read_bytes()
    header = bytearray(c.to_bytes())
    header[:4] = b"BFZT"
    header[6] = level
    assert raw[:84] == bytes(header)
    # Levels L..depth, each ceil(n / a^l) nodes, equal to the reference tree's nodes.
    reference = rm.MerkleTree(
        [rc.leaf_hash(data[k : k + 62].ljust(62, b"\0")) for k in range(0, len(data), 62)],
        c.arity,
    )
    assert reference.root == c.root
    expected = b"".join(
        reference.node(lv, p).to_bytes(32, "big")
        for lv in range(level, c.depth + 1)
        for p in range(-(-c.num_chunks // c.arity**lv))
    )
    assert raw[84:] == expected
    assert [p.name for p in tree.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_open_with_tree_equals_open_without(
    tree_case: tuple[Path, Path, bytes, bz.FileCommitment], where: str
) -> None:
    path, tree, _, c = tree_case
    index = {"first": 0, "middle": c.num_chunks // 2, "last": c.num_chunks - 1}[where]
    done: list[int] = []
    opening = _native.open_file(path, c, index, done.append, tree)
    assert opening == c.open(path, index)
    assert opening == c.open(path, index, tree=tree)
    assert opening == bz.open_file(path, c, index, tree=tree)
    assert opening.verify(c)
    # Only the chunks under one stored node are read.
    assert max(done, default=0) <= c.arity ** TREE_MIN_LEVEL[c.arity] * 62


def test_tree_of_a_shallow_tree(tmp_path: Path) -> None:
    """depth < L: the tree file is the header alone, and openings still work."""
    path = write(tmp_path / "small.bin", pattern(992 * 3))
    tree = tmp_path / "small.tree"
    c = bz.commit_file(path, tree=tree)
    assert c.depth < TREE_MIN_LEVEL[2]
    assert tree.stat().st_size == 84
    assert c.open(path, 2, tree=tree).verify(c)


def test_tree_detects_changed_chunk_group(
    tree_case: tuple[Path, Path, bytes, bz.FileCommitment], tmp_path: Path
) -> None:
    _, tree, data, c = tree_case
    span = c.arity ** TREE_MIN_LEVEL[c.arity]
    changed = bytearray(data)
    changed[span * 62 + 3] ^= 1  # a chunk of the second stored group
    path = write(tmp_path / "changed.bin", bytes(changed))
    last = min(2 * span, c.num_chunks) - 1
    with pytest.raises(CommitmentMismatchError, match=rf"chunks {span}\.\.={last}\b"):
        c.open(path, span + 1, tree=tree)
    # An opening of an untouched group is still a genuine opening (only ~16 chunks are read).
    assert c.open(path, 0, tree=tree).verify(c)
    with pytest.raises(CommitmentMismatchError):
        c.open(path, 0)  # without the tree the whole file is checked


def test_corrupt_tree_file(
    tree_case: tuple[Path, Path, bytes, bz.FileCommitment], tmp_path: Path
) -> None:
    path, tree, _, c = tree_case
    raw = tree.read_bytes()
    span = c.arity ** TREE_MIN_LEVEL[c.arity]
    bad_node = raw[:84] + b"\xff" * 32 + raw[116:]
    cases = {
        "flipped node": raw[:115] + bytes([raw[115] ^ 1]) + raw[116:],
        "truncated": raw[:-1],
        "extended": raw + bytes(32),
        "header only": raw[:84],
        "short": raw[:40],
        "magic": b"BFFC" + raw[4:],
        "other level": raw[:6] + bytes([raw[6] + 1]) + raw[7:],
    }
    # Chunk `span` has the first stored node (group 0) as a sibling.
    for name, content in cases.items():
        bad = write(tmp_path / f"{name}.tree", content)
        with pytest.raises(DecodeError, match="tree file") as info:
            c.open(path, span, tree=bad)
        assert str(bad) in str(info.value), name
    # (This message names neither the file nor the node's position.)
    bad = write(tmp_path / "bad-node.tree", bad_node)
    with pytest.raises(
        DecodeError,
        match=r"tree file: .*bad-node.tree: the node at level \d+, position \d+ is not a canonical",
    ):
        c.open(path, span, tree=bad)
    other = bz.commit_bytes(b"other", chunk_size=62, arity=c.arity)
    with pytest.raises(DecodeError, match="not the tree of this commitment"):
        other.open(path, 0, tree=tree)
    with pytest.raises(FileNotFoundError, match="missing"):
        c.open(path, 0, tree=tmp_path / "missing.tree")


def _no_tree_left(tree: Path) -> bool:
    return not tree.exists() and not any(tree.name in p.name for p in tree.parent.iterdir())


def test_failed_commit_leaves_no_tree_file(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.bin", b"")
    tree = tmp_path / "out.tree"
    with pytest.raises(ParameterError):
        bz.commit_file(empty, tree=tree)
    assert _no_tree_left(tree)
    path = write(tmp_path / "one-block.bin", bytes(BLOCK))

    def stop(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _native.commit_file(path, BIG_CHUNK, BIG_ARITY, stop, tree)
    assert _no_tree_left(tree)
    moving = write(tmp_path / "moving.bin", random_bytes(3 * BLOCK))
    age(moving)
    with pytest.raises(FileChangedError):
        _native.commit_file(moving, BIG_CHUNK, BIG_ARITY, lambda done: _append(moving), tree)
    assert _no_tree_left(tree)
    # A successful commit replaces a stale tree file atomically.
    tree.write_bytes(b"stale")
    c = _native.commit_file(path, BIG_CHUNK, BIG_ARITY, None, tree)
    assert tree.read_bytes()[:4] == b"BFZT"
    assert c.open(path, 3, tree=tree).verify(c)


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_tree_write_error_names_the_tree_path(tmp_path: Path, where: str) -> None:
    path = write(tmp_path / "data.bin", b"data")
    tree = tmp_path / "no" / "such.tree" if where == "missing directory" else tmp_path
    with pytest.raises(OSError) as info:
        bz.commit_file(path, tree=tree)
    assert str(tree) in str(info.value)
    assert f"{path}:" not in str(info.value)


def test_opening_json_matches_the_reference(tmp_path: Path) -> None:
    """The ChunkOpening JSON of docs/spec/file-commitment.md, both ways."""
    data = bytes((i * 7 + 3) % 256 for i in range(992 * 5 + 100))
    path = write(tmp_path / "f.bin", data)
    c = bz.commit_file(path, progress=False)
    ref_c = rc.commit_bytes(data)
    for index in (0, 5):
        native = c.open(path, index, progress=False)
        ref = rc.open_bytes(data, ref_c, index)
        assert json.loads(native.to_json()) == json.loads(ref.to_json())
        assert rc.ChunkOpening.from_json(native.to_json()).verify(ref_c)
        assert bz.ChunkOpening.from_json(ref.to_json()).verify(c)
        tampered = json.loads(native.to_json())
        tampered["index"] = index + 1
        with pytest.raises(DecodeError):
            bz.ChunkOpening.from_json(json.dumps(tampered))
        with pytest.raises(ValueError):
            rc.ChunkOpening.from_json(json.dumps(tampered))


def test_tree_path_equal_to_the_input_is_refused(tmp_path: Path) -> None:
    data = bytes(range(256)) * 20
    path = write(tmp_path / "d.bin", data)
    with pytest.raises(ParameterError, match="is the file being committed"):
        bz.commit_file(path, tree=path, progress=False)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"chunk_size": 2**64}, ParameterError),
        ({"arity": 2**64}, ParameterError),
        ({"chunk_size": 2**200}, ParameterError),
    ],
)
def test_huge_sizes_are_parameter_errors(kwargs: dict[str, int], error: type) -> None:
    with pytest.raises(error):
        bz.commit_bytes(b"x", **kwargs)
    with pytest.raises(ParameterError):
        _native.commit_bytes(b"x", **kwargs)


def test_huge_index_is_an_index_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.bin", b"abc")
    c = bz.commit_file(path, progress=False)
    for call in (
        lambda: c.open(path, 2**64, progress=False),
        lambda: _native.open_file(path, c, 2**64),
        lambda: c.chunk_len(2**64),
    ):
        with pytest.raises(IndexOutOfRangeError, match="below 2\\^64"):
            call()
