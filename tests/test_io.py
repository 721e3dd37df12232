"""Inputs and outputs (issue 11, findings 8 to 10): no command writes over one of its inputs
(by name, symlink or hardlink) or writes two outputs to one file; small inputs (JSON, keys)
are read only from regular files, never blocking on a FIFO, never past a size cap; malformed
input is one line and exit 2, never a traceback, and a bug is neither 1 nor 2.

A call that could block (a FIFO) or read without end (``/dev/zero``) runs in a subprocess
with a timeout and a memory limit, so a regression fails instead of hanging the suite.
Reading FIFOs and devices through the native entry points the Python layer does not wrap
(``SRS.load``, ``SRS.from_ptau``) is tested in ``test_io_native.py``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from evm_circuits import square  # tests/ is on sys.path (conftest.py)

import bigfile_zk as bz
from bigfile_zk import SRS, _io, cli, plonk
from bigfile_zk.errors import DecodeError, InternalError, NotARegularFileError, ParameterError

CLI = [sys.executable, "-m", "bigfile_zk.cli"]
PROVER = "0x" + "ab" * 20


def verify_argv(proof: object, commitment: str = "0x01") -> list[str]:
    """``storage verify`` of ``proof`` for an expected statement (seed 7, ``PROVER``, k = 4)."""
    statement = ["--commitment", commitment, "--seed", "7", "--prover", PROVER, "--k", "4"]
    return ["storage", "verify", str(proof), *statement, "--insecure-test-srs"]


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (FIFOs)")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    limit = 3 * 2**30  # a runaway read fails here instead of exhausting the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``argv`` in a subprocess, under a memory limit; the test fails if it is still running
    after ``timeout`` seconds (it blocked)."""
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            preexec_fn=_limit_memory if sys.platform.startswith("linux") else None,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)[:200]} still running after {timeout} s: it blocked")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run([*CLI, *args])


def run_python(code: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-c", textwrap.dedent(code)], timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("bigfile-zk: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def main_error(argv: list[str], capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """``cli.main(argv)`` in process: exit 2 and one error line containing ``fragments``."""
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("bigfile-zk: error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging) if the block takes ``seconds`` (pure-Python calls only: a
    signal cannot interrupt a blocked native call)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def fail(signum: int, frame: object) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 20)
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs os.mkfifo (FIFOs)")
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@functools.cache
def _vk_bytes() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plonk.setup(square, SRS.insecure_for_testing(64)).vk.to_bytes()


def alias(target: Path, how: str, where: Path) -> Path:
    """Another path to ``target``: its own name, a relative name, a symlink or a hardlink."""
    if how == "name":
        return target
    if how == "relative":
        return Path(os.path.relpath(target))
    link = where / f"alias-{how}"
    if how == "symlink":
        link.symlink_to(target)
    else:
        os.link(target, link)
    return link


HOWS = ["name", "relative", "symlink", "hardlink"]


# --- finding 8: no output over an input, no two outputs on one file ----------------------


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("command", ["commit", "storage commit"])
def test_commit_out_over_the_input_is_refused(
    command: str, how: str, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = data.read_bytes()
    out = alias(data, how, tmp_path)
    argv = [*command.split(), str(data), "--out", str(out), "-q"]
    main_error(argv, capsys, "would be overwritten", str(out))
    assert data.read_bytes() == before
    assert not list(tmp_path.glob("*.bfzt")), "nothing may be written"


@pytest.mark.parametrize("how", HOWS)
def test_storage_commit_tree_over_the_input_is_refused(
    how: str, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = data.read_bytes()
    tree = alias(data, how, tmp_path)
    main_error(["storage", "commit", str(data), "--tree", str(tree), "-q"], capsys, str(tree))
    assert data.read_bytes() == before
    assert not (tmp_path / "data.bin.commitment.json").exists()


@pytest.mark.parametrize("command", ["commit", "storage commit"])
def test_two_outputs_on_one_file_are_refused(
    command: str, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "both"
    argv = [*command.split(), str(data), "--out", str(target), "--tree", str(target), "-q"]
    main_error(argv, capsys, "are the same file")
    assert not target.exists()
    # A symlink to an existing output is the same file too.
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    argv = [*command.split(), str(data), "--out", str(target), "--tree", str(link), "-q"]
    main_error(argv, capsys, "are the same file")
    assert target.read_text() == "keep"


@pytest.mark.parametrize("which", ["commitment", "file", "tree"])
@pytest.mark.parametrize("how", ["name", "symlink", "hardlink"])
def test_storage_prove_out_over_an_input_is_refused(
    which: str, how: str, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["storage", "commit", str(data), "-q"]) == 0
    capsys.readouterr()
    inputs = {
        "commitment": tmp_path / "data.bin.commitment.json",
        "file": data,
        "tree": tmp_path / "data.bin.bfzt",
    }
    before = {name: path.read_bytes() for name, path in inputs.items()}
    out = alias(inputs[which], how, tmp_path)
    argv = ["storage", "prove", str(data), "--seed", "7", "--prover", PROVER, "--k", "4", "-q"]
    main_error([*argv, "--out", str(out)], capsys, "would be overwritten")
    assert {name: path.read_bytes() for name, path in inputs.items()} == before


@pytest.mark.parametrize("how", HOWS)
def test_verifier_out_over_the_key_is_refused(
    how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vk = tmp_path / "vk.bin"
    vk.write_bytes(_vk_bytes())
    out = alias(vk, how, tmp_path)
    main_error(["verifier", "--vk", str(vk), "--out", str(out)], capsys, "would be overwritten")
    assert vk.read_bytes() == _vk_bytes()


def test_storage_verifier_out_over_the_ptau_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ptau = tmp_path / "ceremony.ptau"
    ptau.write_bytes(b"ptau" + bytes(60))
    argv = ["storage", "verifier", "--ptau", str(ptau), "--out", str(ptau), "--k", "4"]
    main_error(argv, capsys, "would be overwritten")
    assert ptau.read_bytes() == b"ptau" + bytes(60)


@pytest.mark.parametrize("output", ["proof.json", "data.bin.bfzt"])
def test_demo_outputs_over_its_file_are_refused(
    output: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``demo --file W/proof.json --workdir W`` would write the proof over the file."""
    from bigfile_zk import demo

    def no_chain() -> None:
        raise AssertionError("the demo started before refusing its arguments")

    monkeypatch.setattr(demo, "_chain", no_chain)
    work = tmp_path / "work"
    work.mkdir()
    mine = work / "proof.json"
    mine.write_bytes(b"precious")
    if output == "data.bin.bfzt":  # the tree file's path is a hardlink to the user's file
        given = tmp_path / "data.bin"
        given.write_bytes(b"precious")
        os.link(given, work / "data.bin.bfzt")
    else:
        given = mine
    with pytest.raises(ParameterError, match="would be overwritten"):
        demo.run(given, k=4, workdir=work, progress=False, log=lambda _: None)
    argv = ["demo", "--file", str(given), "--workdir", str(work), "--k", "4", "-q"]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    *_banner, last = err.splitlines()  # the demo's banner, then the one error line
    assert out == "" and len(_banner) <= 1 and "Traceback" not in err
    assert last.startswith("bigfile-zk: error: ") and "would be overwritten" in last
    assert mine.read_bytes() == b"precious" and given.read_bytes() == b"precious"


# --- finding 9: malformed input is one line and exit 2 ------------------------------------

MALFORMED_JSON = {
    "list": b"[]",
    "null": b"null",
    "number": b"42",
    "string": b'"bigfile_zk.StorageProof"',
    "huge number": b"1e400",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "NaN": b'{"type": NaN}',
    "not UTF-8": b'{"type": "\xff\xfe"}',
    "UTF-8 surrogate": b'{"type": "\xed\xa0\x80"}',
    "escaped surrogate": b'{"type": "bigfile_zk.StorageProof", "version": 1, "seed": "\\ud800"}',
    "empty": b"",
    "wrong types": json.dumps(
        {
            "type": "bigfile_zk.StorageProof",
            "version": 1,
            "parameter_set": [4],
            "commitment": 1,
            "seed": None,
            "prover": [],
            "public_inputs": {},
            "proof": 5,
        }
    ).encode(),
    "inf k": b'{"type": "bigfile_zk.StorageProof", "version": 1, "parameter_set": {"k": 1e400}}',
    "huge public input": json.dumps(
        {
            "type": "bigfile_zk.StorageProof",
            "version": 1,
            "parameter_set": {"k": 4},
            "commitment": "0x01",
            "seed": "1",
            "prover": PROVER,
            "public_inputs": [1e300, 1, 2],
            "proof": "0x",
        }
    ).encode(),
    "version true": b'{"type": "bigfile_zk.StorageProof", "version": true}',
}


@pytest.mark.parametrize("name", list(MALFORMED_JSON))
def test_storage_proof_from_json_raises_decode_error(name: str) -> None:
    from bigfile_zk import storage

    raw = MALFORMED_JSON[name]
    with pytest.raises(DecodeError):
        storage.StorageProof.from_json(raw.decode("utf-8", "surrogateescape"))
    with pytest.raises(DecodeError):
        storage.StorageProof.from_json(raw)


@pytest.mark.parametrize("value", [None, 42, ["{}"], {"type": "x"}])
def test_storage_proof_from_json_of_a_non_text(value: object) -> None:
    from bigfile_zk import storage

    with pytest.raises(DecodeError):
        storage.StorageProof.from_json(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(MALFORMED_JSON))
def test_storage_verify_of_malformed_json_exits_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = tmp_path / "proof.json"
    proof.write_bytes(MALFORMED_JSON[name])
    main_error(verify_argv(proof), capsys)


@pytest.mark.parametrize("name", ["list", "deep nesting", "huge number", "not UTF-8"])
def test_storage_verify_of_malformed_json_in_a_subprocess(name: str, tmp_path: Path) -> None:
    """Not exit 1 ("invalid") with a traceback: exit 2 ("bad input") and one line."""
    proof = tmp_path / "proof.json"
    proof.write_bytes(MALFORMED_JSON[name])
    assert_one_line_error(run_cli(*verify_argv(proof)))


@pytest.mark.parametrize("name", ["list", "deep nesting", "huge number", "NaN", "empty"])
def test_open_of_a_malformed_commitment_exits_2(
    name: str, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commitment = tmp_path / "c.json"
    commitment.write_bytes(MALFORMED_JSON[name])
    argv = ["open", str(data), "--commitment", str(commitment), "--index", "0", "-q"]
    main_error(argv, capsys)


def test_non_utf8_inputs_are_named(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"type": "caf\xe9"}')
    argv = ["open", str(data), "--commitment", str(bad), "--index", "0", "-q"]
    main_error(argv, capsys, str(bad), "not UTF-8")
    main_error(verify_argv(bad), capsys, str(bad), "not UTF-8")
    main_error(["verifier", "--vk", str(bad)], capsys, str(bad), "not UTF-8")


def test_internal_errors_are_not_bad_input(
    monkeypatch: pytest.MonkeyPatch, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug is reported as one (exit 70), never as "invalid" (1) or "bad input" (2)."""

    def panic(*args: object, **kwargs: object) -> None:
        raise InternalError("a Rust panic")

    monkeypatch.setattr(bz, "commit_file", panic)
    assert cli.main(["commit", str(data), "-q"]) == cli.EXIT_INTERNAL
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("bigfile-zk: internal error") and "a Rust panic" in err

    def bug(*args: object, **kwargs: object) -> None:
        raise AttributeError("a Python bug")

    monkeypatch.setattr(bz, "commit_file", bug)
    assert cli.main(["commit", str(data), "-q"]) == cli.EXIT_INTERNAL
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" in err  # for the bug report
    assert err.splitlines()[-1].startswith("bigfile-zk: internal error")
    assert "AttributeError: a Python bug" in err.splitlines()[-1]


# --- finding 10: regular files only, checked before opening; size caps --------------------


def _json_input_commands(data: Path, target: Path) -> dict[str, list[str]]:
    """Commands that read ``target`` as a JSON or key input."""
    return {
        "storage verify": verify_argv(target),
        "open --commitment": ["open", str(data), "--commitment", str(target), "--index", "0"],
        "verifier --vk": ["verifier", "--vk", str(target)],
        "storage prove --commitment": [
            *("storage", "prove", str(data), "--seed", "1", "--prover", PROVER),
            *("--k", "4", "--out", str(data.parent / "p.json"), "--commitment", str(target)),
        ],
    }


COMMANDS = ["storage verify", "open --commitment", "verifier --vk", "storage prove --commitment"]


@needs_fifo
@pytest.mark.parametrize("command", COMMANDS)
def test_json_inputs_on_a_fifo_do_not_block(
    command: str, data: Path, fifo: Path, tmp_path: Path
) -> None:
    argv = _json_input_commands(data, fifo)[command]
    assert_one_line_error(run_cli(*argv), str(fifo), "not a regular file", "FIFO")


@needs_dev_zero
@pytest.mark.parametrize("command", COMMANDS)
def test_json_inputs_on_dev_zero_are_refused(command: str, data: Path) -> None:
    argv = _json_input_commands(data, Path("/dev/zero"))[command]
    assert_one_line_error(run_cli(*argv), "/dev/zero", "not a regular file")


@needs_fifo
@pytest.mark.parametrize(
    "argv",
    [
        ["commit", "{fifo}"],
        ["storage", "commit", "{fifo}"],
        ["open", "{fifo}", "--commitment", "{commitment}", "--index", "0"],
        ["open", "{data}", "--commitment", "{commitment}", "--index", "0", "--tree", "{fifo}"],
        ["storage", "verifier", "--k", "4", "--ptau", "{fifo}", "--out", "{out}"],
    ],
    ids=["commit", "storage commit", "open file", "open tree", "storage verifier ptau"],
)
def test_file_inputs_on_a_fifo_do_not_block(
    argv: list[str], data: Path, fifo: Path, tmp_path: Path
) -> None:
    commitment = tmp_path / "c.json"
    commitment.write_text(bz.commit_file(data).to_json())
    names = {"fifo": fifo, "data": data, "commitment": commitment, "out": tmp_path / "V.sol"}
    quiet = [] if "--ptau" in argv else ["-q"]
    proc = run_cli(*(a.format(**names) for a in argv), *quiet)
    assert_one_line_error(proc, str(fifo), "not a regular file")


@needs_fifo
def test_python_api_refuses_fifos_without_blocking(data: Path, fifo: Path, tmp_path: Path) -> None:
    """commit_file, open_file / FileCommitment.open and storage.prove check their paths
    before the core opens them."""
    tree = tmp_path / "data.bfzt"
    proc = run_python(
        f"""
        import warnings
        import bigfile_zk as bz
        from bigfile_zk import SRS, storage
        warnings.simplefilter("ignore")
        fifo, data, tree = {str(fifo)!r}, {str(data)!r}, {str(tree)!r}
        c = bz.commit_file(data, tree=tree)
        srs = SRS.insecure_for_testing(5 * 2**14 + 9, 3)
        calls = [
            lambda: bz.commit_file(fifo),
            lambda: bz.open_file(fifo, c, 0),
            lambda: c.open(fifo, 0),
            lambda: c.open(data, 0, tree=fifo),
            lambda: storage.prove(fifo, c, 1, {PROVER!r}, k=4, srs=srs),
            lambda: storage.prove(data, c, 1, {PROVER!r}, k=4, srs=srs, tree=fifo),
        ]
        for call in calls:
            try:
                call()
            except OSError as exc:
                assert "not a regular file (a FIFO)" in str(exc), exc
            else:
                raise AssertionError("accepted a FIFO")
        print("ok")
        """
    )
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr


@pytest.mark.parametrize(
    ("command", "cap", "size"),
    [
        ("storage verify", "64 KiB", _io.MAX_PROOF_JSON + 1),
        ("open --commitment", "16 KiB", _io.MAX_COMMITMENT_JSON + 1),
        ("verifier --vk", "1 MiB", _io.MAX_VERIFYING_KEY + 1),
    ],
)
def test_oversized_inputs_name_the_cap(
    command: str,
    cap: str,
    size: int,
    data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (size - 2) + b"}")
    main_error(_json_input_commands(data, big)[command], capsys, str(big), cap)


def test_a_valid_proof_padded_past_the_cap_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["storage", "commit", str(data), "-q"]) == 0
    proof = tmp_path / "proof.json"
    argv = ["storage", "prove", str(data), "--seed", "7", "--prover", PROVER, "--k", "4", "-q"]
    with pytest.warns(bz.errors.InsecureSRSWarning):
        assert cli.main([*argv, "--out", str(proof)]) == 0
    commitment = f"{data}.commitment.json"
    assert cli.main(verify_argv(proof, commitment)) == 0
    capsys.readouterr()
    text = proof.read_text()
    proof.write_text(text + " " * (_io.MAX_PROOF_JSON - len(text)))
    assert cli.main(verify_argv(proof, commitment)) == 0  # exactly the cap: read
    capsys.readouterr()
    proof.write_text(text + " " * (_io.MAX_PROOF_JSON + 1 - len(text)))
    main_error(verify_argv(proof, commitment), capsys, "64 KiB")


# --- the helpers themselves ---------------------------------------------------------------


def test_read_bounded(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    assert _io.read_bounded(path, 1000, "thing") == b"x" * 1000
    with pytest.raises(DecodeError, match=r"larger than 999 bytes, the limit for a thing"):
        _io.read_bounded(path, 999, "thing")
    with pytest.raises(DecodeError, match=r"larger than 1 KiB"):
        (tmp_path / "g").write_bytes(b"x" * 1025)
        _io.read_bounded(tmp_path / "g", 1024, "thing")
    with pytest.raises(OSError, match="a directory"):
        _io.read_bounded(tmp_path, 10, "thing")
    with pytest.raises(FileNotFoundError):
        _io.read_bounded(tmp_path / "missing", 10, "thing")
    (tmp_path / "bad").write_bytes(b"ok\xff")
    with pytest.raises(DecodeError, match=r"not UTF-8 text \(byte 0xff at offset 2\)"):
        _io.read_text(tmp_path / "bad", 10, "thing")


@needs_fifo
def test_read_bounded_fifo_race(fifo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FIFO swapped in after the stat check: the non-blocking open and fstat refuse it."""
    with deadline(10), pytest.raises(OSError, match="a FIFO"):
        _io.read_bounded(fifo, 10, "thing")
    monkeypatch.setattr(_io, "require_regular", lambda path, what: None)
    with deadline(10), pytest.raises(OSError, match="a FIFO"):
        _io.read_bounded(fifo, 10, "thing")


@needs_dev_zero
def test_read_bounded_dev_zero() -> None:
    with pytest.raises(OSError, match="character device"):
        _io.read_bounded("/dev/zero", 10, "thing")


def test_check_outputs_cases(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    (tmp_path / "sym").symlink_to(a)
    os.link(a, tmp_path / "hard")
    for same in (a, tmp_path / "sym", tmp_path / "hard", tmp_path / "." / "a"):
        with pytest.raises(ParameterError, match="would be overwritten"):
            _io.check_outputs([("input", a)], [("output", same)])
    _io.check_outputs([("input", a), ("none", None)], [("output", b), ("none", None)])
    with pytest.raises(ParameterError, match="are the same file"):  # neither exists yet
        _io.check_outputs([], [("x", b), ("y", tmp_path / "." / "b")])
    dangling = tmp_path / "dangling"
    dangling.symlink_to(b)
    with pytest.raises(ParameterError, match="are the same file"):
        _io.check_outputs([], [("x", b), ("y", dangling)])


@needs_fifo
def test_outputs_never_replace_a_special_file(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output path that is a FIFO (or a device, a socket; or a symlink to one) is refused,
    never renamed over: run as root, a fuzzed ``--out /dev/null`` once replaced the device node
    with a regular file. (A FIFO stands in for a device: making one needs no privileges.)"""
    where = tmp_path / "outs"
    where.mkdir()
    fifo = where / "fifo"
    os.mkfifo(fifo)
    link = where / "link"
    link.symlink_to(fifo)
    for out in (fifo, link):
        with pytest.raises(NotARegularFileError, match="a FIFO"):
            _io.write_atomic(out, b"x")
        # The core's own atomic writes (SRS, keys, tree files) refuse it too.
        with pytest.raises(NotARegularFileError, match="a FIFO"):
            bz.commit_file(data, tree=out)
        main_error(["commit", str(data), "--out", str(out), "-q"], capsys, "not a regular file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in where.iterdir()) == ["fifo", "link"]  # no temporaries left


def test_write_atomic_replaces_links_not_their_targets(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    link, hard = tmp_path / "link", tmp_path / "hard"
    link.symlink_to(target)
    os.link(target, hard)
    _io.write_atomic(link, "new")
    _io.write_atomic(hard, b"new")
    assert target.read_text() == "keep"
    assert not link.is_symlink() and link.read_text() == "new" and hard.read_text() == "new"
    assert stat.S_IMODE(hard.stat().st_mode) == 0o644
    with pytest.raises(RuntimeError), _io.atomic_writer(tmp_path / "never") as f:
        f.write(b"partial")
        raise RuntimeError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard", "link", "target"]
