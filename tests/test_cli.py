"""The ``bigfile-zk`` command line: output, round trips through its JSON, errors and Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from strategies import pattern

import bigfile_zk as bz
from bigfile_zk import cli
from bigfile_zk.reference import commitment as rc
from bigfile_zk.reference import merkle as rm

CLI = [sys.executable, "-m", "bigfile_zk.cli"]
#: One streaming block of the default layout (2^13 chunks of 992 bytes).
DEFAULT_BLOCK = 8192 * 992


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = pattern(992 * 6 + 100)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    return path, data


def test_commit_prints_the_commitment(
    data_file: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = data_file
    assert cli.main(["commit", str(path), "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    c = bz.commit_file(path)
    fields = dict(re.findall(r"^(\w+) +(.*)$", out, flags=re.MULTILINE))
    assert fields["commitment"] == f"0x{c.commitment:064x}"
    assert fields["root"] == f"0x{c.root:064x}"
    assert fields["file"] == str(path)
    assert fields["size"].startswith(f"{len(data)} bytes ({c.num_chunks} chunks of 992 bytes)")
    assert fields["tree"] == f"arity 2, depth {c.depth}"
    assert c.commitment == rc.commit_bytes(data).commitment


def test_commit_json(data_file: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    path, data = data_file
    assert cli.main(["commit", str(path), "--json", "--chunk-size", "124", "--arity", "4"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("\n") == 1
    c = bz.FileCommitment.from_json(out)
    assert c == bz.commit_file(path, chunk_size=124, arity=4)
    assert (c.chunk_size, c.arity, c.file_size) == (124, 4, len(data))
    assert rc.FileCommitment.from_json(out) == rc.FileCommitment.from_bytes(c.to_bytes())


def test_commit_out_then_open(
    data_file: tuple[Path, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = data_file
    out_file = tmp_path / "c.json"
    assert cli.main(["commit", str(path), "-q", "--out", str(out_file)]) == 0
    out, _ = capsys.readouterr()
    assert f"written      {out_file}" in out
    c = bz.FileCommitment.from_json(out_file.read_text())
    assert c == bz.commit_file(path)
    ref_c = rc.FileCommitment.from_json(out_file.read_text())
    for index in (0, 3, c.num_chunks - 1):
        args = ["open", str(path), "--commitment", str(out_file), "--index", str(index), "-q"]
        assert cli.main(args) == 0
        out, err = capsys.readouterr()
        assert err == ""
        opening = json.loads(out)
        assert set(opening) == {"type", "version", "index", "data", "proof"}
        assert opening["index"] == index
        assert bz.ChunkOpening.from_json(out).verify(c)
        chunk = bytes.fromhex(opening["data"].removeprefix("0x"))
        assert chunk == data[index * 992 : (index + 1) * 992]
        proof = bz.MerkleProof.from_json(json.dumps(opening["proof"]))
        assert proof.index == index
        assert proof.leaf == bz.leaf_hash(chunk)
        assert proof.verify(c.root)
        ref_proof = rm.MerkleProof.from_json(json.dumps(opening["proof"]))
        assert rc.ChunkOpening(index, chunk, ref_proof).verify(ref_c)


def test_commit_and_open_with_tree_file(
    data_file: tuple[Path, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = data_file
    out_file, tree = tmp_path / "c.json", tmp_path / "c.tree"
    args = ["commit", str(path), "-q", "--chunk-size", "62", "--arity", "2"]
    assert cli.main([*args, "--out", str(out_file), "--tree", str(tree)]) == 0
    assert f"tree file    {tree}" in capsys.readouterr().out
    c = bz.FileCommitment.from_json(out_file.read_text())
    assert tree.read_bytes()[:4] == b"BFZT"
    index = c.num_chunks - 2
    argv = ["open", str(path), "--commitment", str(out_file), "--index", str(index), "-q"]
    assert cli.main([*argv, "--tree", str(tree)]) == 0
    with_tree = capsys.readouterr().out
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == with_tree
    opening = json.loads(with_tree)
    assert bytes.fromhex(opening["data"][2:]) == data[index * 62 : (index + 1) * 62]
    assert bz.MerkleProof.from_json(json.dumps(opening["proof"])).verify(c.root)
    assert json.loads(c.open(path, index, tree=tree).proof.to_json()) == opening["proof"]


def test_subprocess_round_trip(data_file: tuple[Path, bytes], tmp_path: Path) -> None:
    path, _ = data_file
    out_file = tmp_path / "c.json"
    proc = run_cli("commit", str(path), "--json", "--out", str(out_file))
    assert proc.returncode == 0, proc.stderr
    c = bz.FileCommitment.from_json(proc.stdout)
    assert c == bz.commit_file(path)
    assert bz.FileCommitment.from_json(out_file.read_text()) == c
    proc = run_cli("open", str(path), "--commitment", str(out_file), "--index", "6")
    assert proc.returncode == 0, proc.stderr
    proof = bz.MerkleProof.from_json(json.dumps(json.loads(proc.stdout)["proof"]))
    assert proof.verify(c.root)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == bz.__version__


# --- errors -------------------------------------------------------------------------------


def _error_cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """name → (argv, a fragment the one-line message must contain)."""
    data = pattern(3000)
    good = tmp / "good.bin"
    good.write_bytes(data)
    empty = tmp / "empty.bin"
    empty.write_bytes(b"")
    commitment = tmp / "good.json"
    commitment.write_text(bz.commit_bytes(data).to_json())
    changed = tmp / "changed.bin"
    changed.write_bytes(data[:-1] + b"\xff")
    tampered = tmp / "tampered.json"
    obj = json.loads(commitment.read_text())
    tampered.write_text(json.dumps({**obj, "file_size": 2999}))
    missing = tmp / "missing.bin"
    return {
        "missing file": (["commit", str(missing)], str(missing)),
        "empty file": (["commit", str(empty)], "empty"),
        "bad arity": (["commit", str(good), "--arity", "3"], "arity 3"),
        "bad chunk size": (["commit", str(good), "--chunk-size", "100"], "chunk_size 100"),
        "directory": (["commit", str(tmp)], "not a regular file"),
        "index out of range": (
            ["open", str(good), "--commitment", str(commitment), "--index", "4"],
            "chunk index 4 is out of range",
        ),
        "modified file": (
            ["open", str(changed), "--commitment", str(commitment), "--index", "0"],
            "no longer matches",
        ),
        "tampered commitment": (
            ["open", str(good), "--commitment", str(tampered), "--index", "0"],
            "file commitment JSON",
        ),
        "missing commitment": (
            ["open", str(good), "--commitment", str(tmp / "nope.json"), "--index", "0"],
            "nope.json",
        ),
    }


ERROR_NAMES = [
    "missing file",
    "empty file",
    "bad arity",
    "bad chunk size",
    "directory",
    "index out of range",
    "modified file",
    "tampered commitment",
    "missing commitment",
]


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_errors_in_process(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, fragment = _error_cases(tmp_path)[name]
    assert cli.main([*argv, "-q"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("bigfile-zk: error: ")
    assert fragment in err


@pytest.mark.parametrize("name", ["missing file", "empty file", "bad arity", "modified file"])
def test_errors_in_subprocess(name: str, tmp_path: Path) -> None:
    argv, fragment = _error_cases(tmp_path)[name]
    proc = run_cli(*argv)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("bigfile-zk: error: ")
    assert fragment in lines[0]


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["commit", "f", "--arity", "two"])
    assert info.value.code == 2
    assert "invalid int value: 'two'" in capsys.readouterr().err


# --- Ctrl-C -------------------------------------------------------------------------------


def wait_until_open(proc: subprocess.Popen[str], path: Path, timeout: float) -> None:
    """Wait until ``proc`` has ``path`` open (Linux /proc), i.e. the commit has started."""
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    if not fd_dir.parent.exists():
        time.sleep(1.0)  # no procfs: give the interpreter time to start
        return
    target = str(path.resolve())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(os.readlink(fd_dir / fd) == target for fd in os.listdir(fd_dir)):
                return
        except OSError:  # an fd closed between listdir and readlink
            pass
        time.sleep(0.02)
    pytest.fail(f"the CLI did not open {path} within {timeout} s (exit code {proc.poll()})")


def interrupt_commit(path: Path, after: float, grace: float) -> tuple[int, str]:
    """Start ``commit PATH -q``, send SIGINT ``after`` seconds in (once the file is open),
    return ``(exit code, stderr)``; fail if it is still running ``grace`` seconds later."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [*CLI, "commit", str(path), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_open(proc, path, timeout=15)
        time.sleep(max(0.2, after - (time.monotonic() - start)))
        assert proc.poll() is None, "the commit finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {grace} s after SIGINT")
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_ctrl_c_small_file(tmp_path: Path) -> None:
    """Two streaming blocks (~16 MB, ~1.5 s): Ctrl-C stops at the first block boundary."""
    path = tmp_path / "two-blocks.bin"
    path.write_bytes(bytes(2 * DEFAULT_BLOCK - 1000))
    code, err = interrupt_commit(path, after=0, grace=5)
    assert code == 130
    assert err.strip() == "bigfile-zk: interrupted"


def test_ctrl_c_big_file(tmp_path: Path) -> None:
    """A 200 MiB sparse file takes ~15 s to commit; SIGINT after ~1.5 s must exit with 130."""
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(200 * 2**20)
    code, err = interrupt_commit(path, after=1.5, grace=5)
    assert code == 130
    assert "interrupted" in err
    assert "Traceback" not in err


def test_huge_numbers_are_one_line_errors(
    data_file: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = data_file
    assert cli.main(["commit", str(path), "-q", "--chunk-size", "99999999999999999999"]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("bigfile-zk: error:") and err.count("\n") == 1


# --- demo --size (issue 11, finding 11) ---------------------------------------------------


@pytest.fixture
def demo_must_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusals must come before the chain starts or a byte of the sample file is written."""
    from bigfile_zk import demo

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo started before refusing its size")

    monkeypatch.setattr(demo, "_chain", started)
    monkeypatch.setattr(demo, "_sample_file", started)


def demo_error(argv: list[str], capsys: pytest.CaptureFixture[str], fragment: str) -> None:
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    *banner, last = err.splitlines()
    assert out == "" and len(banner) <= 1 and "Traceback" not in err
    assert last.startswith("bigfile-zk: error: ") and fragment in last, err


@pytest.mark.parametrize(
    ("size", "fragment"),
    [
        ("1e30", "at most"),
        ("5T", "at most"),
        ("3.876TiB", "at most"),
        ("4260607557633", "at most"),
        ("-1", "at least one byte"),
        ("0", "at least one byte"),
        ("0.5", "at least one byte"),
        ("nan", "not a number of bytes"),
        ("inf", "not a number of bytes"),
        ("-inf", "not a number of bytes"),
        ("1e99999", "not a number of bytes"),
        ("1_000", "not a number of bytes"),
        ("\u0661\u0666", "not a number of bytes"),  # Arabic-Indic "16"
        ("16X", "not a number of bytes"),
        ("16MBs", "not a number of bytes"),
        ("0x10", "not a number of bytes"),
        ("", "not a number of bytes"),
    ],
)
def test_demo_refuses_absurd_sizes(
    size: str, fragment: str, demo_must_not_start: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from bigfile_zk import demo

    demo_error(["demo", f"--size={size}", "-q"], capsys, fragment)
    with pytest.raises(bz.errors.ParameterError, match=fragment):
        demo.parse_size(size)


def test_demo_sizes_up_to_the_commitment_limit() -> None:
    from bigfile_zk import demo

    assert demo.MAX_SIZE == 2**32 * 992
    assert demo.parse_size("3.875T") == demo.parse_size("3.875TiB") == demo.MAX_SIZE
    assert demo.parse_size(str(demo.MAX_SIZE)) == demo.MAX_SIZE
    assert demo.parse_size("1.5K") == demo.parse_size("1536B") == 1536
    assert demo.parse_size("1e6") == 10**6
    assert demo.parse_size(" 16 MiB ") == demo.parse_size("16mb") == 16 * 2**20
    with pytest.raises(bz.errors.ParameterError, match="at most"):
        demo.check_size(demo.MAX_SIZE + 1)


def test_demo_refuses_a_size_beyond_the_free_space(
    tmp_path: Path,
    demo_must_not_start: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import types

    from bigfile_zk import demo

    free = 40 * 2**20
    usage = types.SimpleNamespace(total=2**30, used=2**30 - free, free=free)
    monkeypatch.setattr(demo.shutil, "disk_usage", lambda path: usage)
    work = tmp_path / "new" / "work"
    demo_error(["demo", "--size", "64M", "--workdir", str(work), "-q"], capsys, "40.0 MiB free")
    assert not work.exists() and not (tmp_path / "new").exists()
    with pytest.raises(bz.errors.ParameterError, match="free"):
        demo.run(size=64 * 2**20, k=4, progress=False, log=lambda _: None)
    with pytest.raises(bz.errors.ParameterError, match="at most"):
        demo.run(size=10**30, k=4, progress=False, log=lambda _: None)


def test_demo_refuses_a_size_beyond_the_real_free_space(
    tmp_path: Path, demo_must_not_start: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    if shutil.disk_usage(tmp_path).free > 3 * 2**40:
        pytest.skip("more than 3 TiB free here")
    demo_error(["demo", "--size", "3T", "--workdir", str(tmp_path), "-q"], capsys, "free")
