"""``bigfile-zk compute``: compile, inspect, prove, verify, verifier. What each prints, the
statement ``verify`` checks (the caller's: exit 0 valid, 1 invalid, 2 bad input), the SRS
policy, inputs (.npy, --quantize, --input-bytes), outputs never over inputs, and Ctrl-C."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import bigfile_zk
from bigfile_zk import _progress, cli, compute
from bigfile_zk.errors import InsecureSRSWarning

SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors"
PROGRAMS = {m["name"]: m for m in json.loads((SPEC / "quantization.json").read_text())["models"]}
PROVER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
JOB = 7
CLI = [sys.executable, "-m", "bigfile_zk.cli"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def fields(out: str) -> dict[str, str]:
    """``label   value`` lines (labels padded to 17 columns) as a dict."""
    return dict(re.findall(r"^(\S.*?) {2,}(.*)$", out, flags=re.MULTILINE))


def error(argv: list[str], capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """Exit 2 with one ``bigfile-zk: error:`` line containing ``fragments``."""
    code, out, err = run(argv, capsys)
    lines = [line for line in err.splitlines() if not line.startswith("bigfile-zk: warning")]
    assert code == 2, (code, out, err)
    assert out == "" and len(lines) == 1 and lines[0].startswith("bigfile-zk: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@dataclass(frozen=True)
class Case:
    """A model file, an input and its proof for (JOB, PROVER)."""

    name: str
    model: compute.CompiledModel
    bfm: Path
    x: np.ndarray
    npy: Path
    proof: Path
    commitment: int

    @property
    def y(self) -> np.ndarray:
        return self.model.model.forward_int(self.x)

    def verify_argv(self, **changes: str) -> list[str]:
        args = {
            "--model": str(self.bfm),
            "--input-commitment": f"0x{self.commitment:064x}",
            "--job": str(JOB),
            "--prover": PROVER,
        }
        args.update({f"--{k.replace('_', '-')}": v for k, v in changes.items()})
        flat = [part for kv in args.items() for part in kv]
        return ["compute", "verify", str(self.proof), *flat, "--insecure-test-srs", "-q"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compute-cli")


@functools.cache
def _case(name: str, where: str) -> Case:
    d = Path(where)
    vector = PROGRAMS[name]
    c = compute.compile(compute.QuantizedModel.from_dict(vector["model"]))
    bfm = d / f"{name}.bfm"
    c.save(bfm)
    x = np.array(vector["cases"][0]["input"], dtype=np.uint8).reshape(c.model.input_shape)
    npy = d / f"{name}.npy"
    np.save(npy, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        pk, _ = c.keys(progress=False)
    proof = d / f"{name}.proof.json"
    c.prove(pk, x, job=JOB, provider=PROVER, progress=False).save(proof)
    commitment = bigfile_zk.commit_bytes(c.model.input_bytes(x)).commitment
    return Case(name, c, bfm, x, npy, proof, commitment)


@pytest.fixture(scope="module")
def dense(work: Path) -> Case:
    return _case("dense_relu", str(work))


@pytest.fixture(scope="module")
def cnn(work: Path) -> Case:
    """Another model with 3 outputs (as dense_relu)."""
    return _case("cnn", str(work))


@pytest.fixture(scope="module")
def conv(work: Path) -> Case:
    """54 outputs: the statement has their hash."""
    return _case("conv2d", str(work))


# -- compile, inspect -------------------------------------------------------------------------


def test_compile_prints_the_report_and_writes_the_model_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "cnn.json"
    program.write_text(json.dumps(PROGRAMS["cnn"]["model"], indent=2))
    out_path = tmp_path / "cnn.bfm"
    code, out, err = run(["compute", "compile", str(program), "--out", str(out_path)], capsys)
    assert code == 0 and err == ""
    c = compute.load_model(out_path)
    assert c == compute.compile(compute.QuantizedModel.from_dict(PROGRAMS["cnn"]["model"]))
    f = fields(out)
    assert f["rows"] == f"{c.rows} of 2^{c.k} = {2**c.k} ({100 * c.rows / 2**c.k:.0f} % used)"
    assert f["SRS"] == f"max degree {c.srs_max_degree} ({c.srs_rule}): a .ptau of power 14 or more"
    assert 2 ** (14 + 1) - 2 >= c.srs_max_degree > 2 ** (13 + 1) - 2  # power 13 is too small
    assert f["model digest"] == c.digest
    assert f["public inputs"] == "6: C_x, job, provider, 3 outputs"
    assert f["predicted"].startswith(f"prove ≈ {c.report()['predicted_prove_seconds']:.2f} s")
    n = len(c.model.nodes)
    assert f["program"] == f"input [1, 6, 6] uint8 in [0, 16] -> {n} nodes -> output [3] int8"
    commitment = bigfile_zk.commit_file(out_path).commitment
    assert f["file commitment"].split()[0] == f"0x{commitment:064x}"
    assert f["written"] == f"{out_path} ({out_path.stat().st_size} bytes)"
    sha = bigfile_zk.compute.bfm.source_metadata(program)
    assert c.metadata == {
        "source": sha,
        "created_by": f"bigfile-zk {bigfile_zk.__version__} compute compile",
    }


def test_compile_refuses_a_bad_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = json.loads(json.dumps(PROGRAMS["dense"]["model"]))
    bad["nodes"][0]["params"]["weight"][0][0] = 200
    program = tmp_path / "bad.json"
    program.write_text(json.dumps(bad))
    out = tmp_path / "out.bfm"
    error(["compute", "compile", str(program), "--out", str(out)], capsys, "weight", "200")
    program.write_text("[1]")
    error(["compute", "compile", str(program), "--out", str(out)], capsys, "not a JSON object")
    program.write_bytes(
        compute.compile(compute.QuantizedModel.from_dict(PROGRAMS["dense"]["model"])).to_bytes()
    )
    error(["compute", "compile", str(program), "--out", str(out)], capsys, "a model file already")
    assert not out.exists()


def test_inspect(dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.bfm"
    md = {"source": {"name": "m\x1b[31m.onnx", "sha256": "0" * 64}, "created_by": "t\udcff"}
    dense.model.save(path, metadata=md)
    code, out, err = run(["compute", "inspect", str(path)], capsys)
    assert code == 0 and err == ""
    f = fields(out)
    assert f["file"] == f"{path} ({path.stat().st_size} bytes, .bfm version 1)"
    assert f["file commitment"] == f"0x{bigfile_zk.commit_file(path).commitment:064x}"
    assert f["model digest"] == dense.model.digest
    assert f["layout"].startswith(f"range_bits {dense.model.range_bits}, max_clamp_table")
    # Names from the file are escaped, never sent to the terminal raw.
    assert f["source"] == f"m\\x1b[31m.onnx (sha256 {'0' * 64})"
    assert f["created by"] == "t\\udcff"
    assert "\x1b" not in out
    assert re.search(r"^  fc +dense +\[3\] +int8 +18 parameters$", out, re.MULTILINE), out


def test_inspect_refuses_a_malformed_file(
    dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.bfm"
    path.write_bytes(dense.bfm.read_bytes()[:-1])
    error(["compute", "inspect", str(path)], capsys, "malformed model file", "truncated")


# -- prove ---------------------------------------------------------------------------------------


def prove_argv(case: Case, out: Path, *extra: str) -> list[str]:
    return ["compute", "prove", str(case.bfm), *extra, "--job", str(JOB), "--prover", PROVER,
            "--out", str(out), "-q"]  # fmt: skip


def test_prove_from_npy_bytes_and_floats(
    dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "x.bin"
    raw.write_bytes(dense.model.model.input_bytes(dense.x))
    floats = tmp_path / "xf.npy"
    np.save(floats, dense.model.model.input_quant.dequantize(dense.x))
    y = dense.y
    for extra in (["--input", str(dense.npy)], ["--input-bytes", str(raw)],
                  ["--input", str(floats), "--quantize"]):  # fmt: skip
        out_path = tmp_path / "proof.json"
        code, out, err = run(prove_argv(dense, out_path, *extra), capsys)
        assert code == 0, err
        # The insecure default SRS is said once, in one line.
        assert err.count("\n") == 1 and "INSECURE test SRS" in err and "no --ptau" in err
        f = fields(out)
        assert f["input commitment"].split()[0] == f"0x{dense.commitment:064x}"
        assert f["outputs"] == ",".join(str(v) for v in y.ravel()) == "-15,57,-20"
        deq = dense.model.model.dequantize_output(y)
        assert f["dequantized"] == ", ".join(f"{v:.6g}" for v in deq)
        assert f["job"] == str(JOB) and f["prover"] == PROVER
        assert f["written"] == str(out_path)
        p = compute.ComputeProof.load(out_path)
        assert p.input_commitment == dense.commitment and p.job == JOB
        assert f["vk_digest"] == p.vk_digest and p.insecure_test_srs
        assert list(p.outputs) == dense.model.expected_outputs(y)


@pytest.mark.parametrize(
    ("kind", "fragments"),
    [
        ("float without --quantize", ("float64", "--quantize")),
        ("wrong shape", ("shape (5,)",)),
        ("outside the range", ("outside the declared input range",)),
        ("pickled objects", ("Python objects", "not loaded")),
        ("a header claiming 10^12 values", ("shape (1000000, 1000000)",)),
        ("npz archive", (".npz archive",)),
        ("not npy", ("not a .npy array",)),
        ("oversized", ("larger than",)),
        ("bool", ("integer array",)),
        ("bytes too short", ("needs 5 bytes, got 4",)),
        ("bytes too long", ("larger than 5 bytes",)),
        ("--quantize with bytes", ("--quantize applies to --input",)),
        ("quantized outside the range", ("quantizes to", "outside")),
    ],
)
def test_prove_refuses_bad_inputs(
    kind: str,
    fragments: tuple[str, ...],
    dense: Case,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    path = tmp_path / "in.npy"
    flag = "--input"
    extra: list[str] = []
    if kind == "float without --quantize":
        np.save(path, dense.x.astype(np.float64))
    elif kind == "wrong shape":
        np.save(path, np.zeros((1, 5), dtype=np.uint8))
    elif kind == "outside the range":
        np.save(path, np.full(5, 256, dtype=np.int64))
    elif kind == "pickled objects":
        np.save(path, np.array([1, "a", None], dtype=object), allow_pickle=True)
    elif kind == "a header claiming 10^12 values":
        header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.uint8))
        with path.open("wb") as f:
            np.lib.format.write_array_header_1_0(f, {**header, "shape": (10**6, 10**6)})
            f.write(bytes(5))
    elif kind == "npz archive":
        with path.open("wb") as f:
            np.savez(f, x=dense.x)
    elif kind == "not npy":
        path.write_bytes(b"hello")
    elif kind == "oversized":
        np.save(path, np.zeros(70000, dtype=np.uint8))  # > 8 bytes a value + 64 KiB
    elif kind == "bool":
        np.save(path, np.ones(5, dtype=bool))
    elif kind == "bytes too short":
        path.write_bytes(b"\0" * 4)
        flag = "--input-bytes"
    elif kind in ("bytes too long", "--quantize with bytes"):
        path.write_bytes(b"\0" * (6 if kind == "bytes too long" else 5))
        flag = "--input-bytes"
        extra = ["--quantize"] if kind == "--quantize with bytes" else []
    else:  # real values quantizing past the declared range
        np.save(path, np.full(5, 100.0))
        extra = ["--quantize"]
    out = tmp_path / "proof.json"
    error(prove_argv(dense, out, flag, str(path), *extra), capsys, *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--job", "-1", "not an integer in [0, 2^64)"),
        ("--job", str(2**64), "not an integer in [0, 2^64)"),
        ("--job", "0x", "not an integer"),
        ("--job", "1_000", "not an integer"),
        ("--prover", "0x1234", "20-byte address"),
    ],
)
def test_prove_refuses_a_bad_statement(
    flag: str, value: str, fragment: str, dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "proof.json"
    argv = prove_argv(dense, out, "--input", str(dense.npy))
    argv[argv.index(flag) + 1] = value
    error(argv, capsys, fragment)
    assert not out.exists()


def test_prove_with_a_ptau(dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--ptau: the SRS of the file (here a .ptau of the test τ, so the proof says so), no
    warning; a .ptau too small for the model is refused naming both sizes."""
    from fuzz.corpus import make_ptau  # tests/ is on sys.path (conftest.py)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        ptau = tmp_path / "t13.ptau"
        ptau.write_bytes(make_ptau(13))
        small = tmp_path / "t2.ptau"
        small.write_bytes(make_ptau(2))
    out = tmp_path / "proof.json"
    code, stdout, err = run(
        prove_argv(dense, out, "--input", str(dense.npy), "--ptau", str(ptau)), capsys
    )
    assert code == 0 and err == "", err
    assert fields(stdout)["SRS"] == f"ceremony file {ptau}"
    assert compute.ComputeProof.load(out).insecure_test_srs  # what this .ptau holds
    out.unlink()
    error(
        prove_argv(dense, out, "--input", str(dense.npy), "--ptau", str(small)), capsys, "t2.ptau"
    )
    assert not out.exists()
    # Verifying (or writing a verifier) with a .ptau that holds the test τ is refused.
    error([*dense.verify_argv()[:-2], "--ptau", str(ptau)], capsys, "insecure test SRS", "t13")
    sol = tmp_path / "V.sol"
    error(["compute", "verifier", str(dense.bfm), "--out", str(sol), "--ptau", str(ptau)], capsys,
          "insecure test SRS")  # fmt: skip
    assert not sol.exists()


# -- verify --------------------------------------------------------------------------------------


def verify(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str], str]:
    code, out, err = run(argv, capsys)
    assert err == "", err
    assert out.splitlines()[-1] == {0: "valid", 1: "INVALID"}[code], out
    return code, fields(out), out


def test_verify_valid_prints_the_statement(dense: Case, capsys: pytest.CaptureFixture) -> None:
    code, f, _ = verify(dense.verify_argv(), capsys)
    assert code == 0
    vk_digest = compute.ComputeProof.load(dense.proof).vk_digest
    assert f["model"] == f"{dense.bfm} (vk_digest {vk_digest})"
    assert f["input commitment"] == f"0x{dense.commitment:064x}"
    assert f["job"] == str(JOB) and f["prover"] == PROVER
    assert f["outputs"] == "-15,57,-20 (the proof file's claim)"
    assert f["dequantized"] == "0.15, 2.31, 0"
    assert f["SRS"].startswith("INSECURE test SRS (--insecure-test-srs")
    assert "proof file" not in f
    # The expected commitment may be given as a commitment JSON.
    cjson = dense.proof.parent / "input.commitment.json"
    cjson.write_text(bigfile_zk.commit_bytes(dense.model.model.input_bytes(dense.x)).to_json())
    assert verify(dense.verify_argv(input_commitment=str(cjson)), capsys)[0] == 0
    # Pinned outputs: the right ones, then any other.
    assert verify(dense.verify_argv(outputs="-15,57,-20"), capsys)[0] == 0
    code, f, _ = verify(dense.verify_argv(outputs="-15, 57, -19"), capsys)
    assert code == 1 and f["outputs"] == "-15,57,-19 (--outputs)"
    assert "other outputs" in f["proof file"]


@pytest.mark.parametrize(
    "change",
    [
        {"job": "8"},
        {"job": str(2**64 - 1)},
        {"job": "0x7"},  # the same job in hex: valid
        {"prover": OTHER},
        {"prover": PROVER.upper().replace("0X", "0x")},  # the same address: valid
        {"input_commitment": "0x01"},
        {"input_commitment": "12345"},
    ],
    ids=lambda c: "-".join(f"{k}={v[:12]}" for k, v in c.items()),
)
def test_verify_another_statement_is_invalid(
    change: dict[str, str], dense: Case, capsys: pytest.CaptureFixture
) -> None:
    (name, value), *_ = change.items()
    code, f, _ = verify(dense.verify_argv(**change), capsys)
    if value in ("0x7", PROVER.upper().replace("0X", "0x")):
        assert code == 0 and "proof file" not in f
        return
    claim = {
        "job": f"job = {JOB}",
        "prover": f"prover = {PROVER}",
        "input_commitment": f"input_commitment = 0x{dense.commitment:064x}",
    }[name]
    assert code == 1
    assert f["proof file"] == f"claims another statement ({claim}): not a proof of this one"


def test_verify_a_proof_of_another_model_is_invalid(
    dense: Case, cnn: Case, conv: Case, capsys: pytest.CaptureFixture
) -> None:
    # The same statement shape (3 outputs): the proof does not verify under this model's key.
    argv = cnn.verify_argv(model=str(dense.bfm))
    code, _, out = verify(argv, capsys)
    assert code == 1 and "was made with another key" in out
    # Another output count (54, hashed): no statement of this model can match it.
    code, _, out = verify(conv.verify_argv(model=str(dense.bfm)), capsys)
    assert code == 1 and "claims 54 outputs, the model has 3" in out
    code, _, out = verify(dense.verify_argv(model=str(conv.bfm)), capsys)
    assert code == 1 and "claims 3 outputs, the model has 54" in out


def test_verify_hashed_outputs(conv: Case, capsys: pytest.CaptureFixture) -> None:
    code, f, _ = verify(conv.verify_argv(), capsys)
    assert code == 0 and "of 54 outputs (the proof file's claim" in f["outputs"]
    y = conv.y.ravel()
    assert verify(conv.verify_argv(outputs=",".join(map(str, y))), capsys)[0] == 0
    other = y.copy()
    other[-1] = 1 - min(other[-1], 1)
    code, f, _ = verify(conv.verify_argv(outputs=",".join(map(str, other))), capsys)
    assert code == 1 and "other outputs" in f["proof file"]


def test_verify_ignores_an_edited_statement(
    dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A proof file edited to claim job 8 is still a proof for job 7 only: the statement is the
    caller's, and the file's claim is only reported."""
    obj = json.loads(dense.proof.read_text())
    obj["statement"]["job"] = obj["public_inputs"][1] = "8"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(obj))
    argv = dense.verify_argv()
    argv[2] = str(edited)
    code, f, _ = verify(argv, capsys)
    assert code == 0 and f["proof file"].startswith("claims another statement (job = 8)")
    argv = dense.verify_argv(job="8")
    argv[2] = str(edited)
    assert verify(argv, capsys)[0] == 1


def test_verify_bad_input_exits_2(
    dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad_proof = tmp_path / "bad.json"
    obj = json.loads(dense.proof.read_text())
    obj["proof"] = obj["proof"][:-2]
    bad_proof.write_text(json.dumps(obj))
    argv = dense.verify_argv()
    argv[2] = str(bad_proof)
    error(argv, capsys, "proof: ")
    bad_model = tmp_path / "bad.bfm"
    bad_model.write_bytes(b"BFMD\x02")
    error(dense.verify_argv(model=str(bad_model)), capsys, "format version 2")
    error(dense.verify_argv(outputs="1,2"), capsys, "has 2 values, the model has 3")
    error(dense.verify_argv(outputs="1,2,300"), capsys, "300 is outside the int8 output range")
    error(dense.verify_argv(outputs="1,2,x"), capsys, "'x' is not an integer")
    error(dense.verify_argv(job="seven"), capsys, "--job 'seven'")
    error(dense.verify_argv(prover="0x12"), capsys, "20-byte")
    error(dense.verify_argv(input_commitment=str(tmp_path / "missing.json")), capsys, "missing")
    # No SRS flag: the insecure test SRS is not trusted by default.
    error(dense.verify_argv()[:-2], capsys, "without --ptau", "--insecure-test-srs")


def test_verify_in_a_subprocess(dense: Case) -> None:
    for argv, code in ((dense.verify_argv(), 0), (dense.verify_argv(job="9"), 1)):
        proc = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120)
        assert proc.returncode == code, proc.stderr
        assert proc.stderr == "" and proc.stdout.splitlines()[-1] == ("valid", "INVALID")[code]


# -- verifier ------------------------------------------------------------------------------------


def test_verifier_needs_the_opt_in(
    dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    sol = tmp_path / "ModelVerifier.sol"
    argv = ["compute", "verifier", str(dense.bfm), "--out", str(sol), "-q"]
    error(argv, capsys, "compute verifier without --ptau", "--insecure-test-srs")
    assert not sol.exists()
    code, out, err = run([*argv, "--insecure-test-srs", "--name", "MnistVerifier"], capsys)
    assert code == 0 and err == ""
    source = sol.read_text()
    assert "contract MnistVerifier" in source and "INSECURE_TEST_SRS = true" in source
    vk_digest = compute.ComputeProof.load(dense.proof).vk_digest
    assert fields(out)["vk_digest"].split()[0] == vk_digest
    assert "never deploy it for value" in fields(out)["written"]


# -- outputs over inputs -------------------------------------------------------------------------


def alias(target: Path, how: str, where: Path) -> Path:
    if how == "name":
        return target
    link = where / f"alias-{how}"
    if how == "symlink":
        link.symlink_to(target)
    else:
        os.link(target, link)
    return link


@pytest.mark.parametrize("how", ["name", "symlink", "hardlink"])
@pytest.mark.parametrize("command", ["compile", "prove-model", "prove-input", "verifier"])
def test_an_output_over_an_input_is_refused(
    command: str, how: str, dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    model = tmp_path / "m.bfm"
    model.write_bytes(dense.bfm.read_bytes())
    npy = tmp_path / "x.npy"
    npy.write_bytes(dense.npy.read_bytes())
    program = tmp_path / "m.json"
    program.write_text(json.dumps(PROGRAMS["dense_relu"]["model"]))
    before = {p: p.read_bytes() for p in (model, npy, program)}
    if command == "compile":
        argv = ["compute", "compile", str(program), "--out", str(alias(program, how, tmp_path))]
    elif command == "verifier":
        out = alias(model, how, tmp_path)
        argv = ["compute", "verifier", str(model), "--out", str(out), "--insecure-test-srs"]
    else:
        out = alias(model if command == "prove-model" else npy, how, tmp_path)
        argv = ["compute", "prove", str(model), "--input", str(npy), "--job", "1",
                "--prover", PROVER, "--out", str(out)]  # fmt: skip
    error(argv, capsys, "would be overwritten")
    assert {p: p.read_bytes() for p in before} == before


# -- Ctrl-C --------------------------------------------------------------------------------------


@contextlib.contextmanager
def interrupted_at(bar: str, step: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Ctrl-C (``KeyboardInterrupt``, as the native prover raises it between its steps) when
    the progress bar ``bar`` reaches ``step``."""
    calls: list[str] = []

    def interrupt(self: _progress.ProgressReporter, done: int) -> None:
        calls.append(f"{self.desc} {done}")
        if self.desc == bar and done >= step:
            raise KeyboardInterrupt

    monkeypatch.setattr(_progress.ProgressReporter, "__call__", interrupt)
    yield calls


@pytest.mark.parametrize(("bar", "step"), [("compute keys", 2), ("proving", 1), ("proving", 3)])
def test_ctrl_c_writes_nothing(
    bar: str,
    step: int,
    dense: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Interrupted while making the keys or proving: exit 130, one line, no proof, no temporary
    file, no cached key; an existing output is left as it was."""
    from bigfile_zk.compute import prover

    cache = tmp_path / "cache"
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(cache))  # keys made afresh, on disk and ...
    monkeypatch.setattr(prover, "_KEYS", type(prover._KEYS)())  # ... in memory
    work = tmp_path / "work"
    work.mkdir()
    out = work / "proof.json"
    out.write_text("old")
    with interrupted_at(bar, step, monkeypatch) as calls:
        code, stdout, err = run(prove_argv(dense, out, "--input", str(dense.npy)), capsys)
    assert calls[-1] == f"{bar} {step}"
    assert code == 130 and stdout == "" and err.splitlines()[-1] == "bigfile-zk: interrupted"
    assert out.read_text() == "old" and os.listdir(work) == ["proof.json"]
    keys = cache / "keys"
    assert not keys.exists() or not list(keys.iterdir()) if bar == "compute keys" else True


def test_ctrl_c_signal_in_a_subprocess(dense: Case, tmp_path: Path) -> None:
    """A real SIGINT, delivered while proving (the prover checks for it between steps)."""
    out = tmp_path / "proof.json"
    argv = prove_argv(dense, out, "--input", str(dense.npy))
    code = textwrap.dedent(f"""
        import os, signal, sys
        from bigfile_zk import _progress, cli
        def hit(self, done):
            if self.desc == "proving" and done == 2:
                os.kill(os.getpid(), signal.SIGINT)
        _progress.ProgressReporter.__call__ = hit
        sys.exit(cli.main({argv!r}))
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stdout == "" and proc.stderr.splitlines()[-1] == "bigfile-zk: interrupted"
    assert "Traceback" not in proc.stderr and os.listdir(tmp_path) == []


def test_negative_outputs_need_no_equals_sign() -> None:
    join = cli._join_negative_lists
    assert join(["--outputs", "-15,57,-20", "-q"]) == ["--outputs=-15,57,-20", "-q"]
    assert join(["--outputs", "-3"]) == ["--outputs=-3"]
    assert join(["--outputs", "--job", "1"]) == ["--outputs", "--job", "1"]
    assert join(["--job", "-15,3"]) == ["--job", "-15,3"]
    assert join(["--outputs"]) == ["--outputs"]


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["compute", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("compile", "prove", "verify", "verifier", "inspect"):
        assert command in out
    with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit) as info:
        cli.main(["compute", "prove", str(Path("m.bfm")), "--job", "1", "--prover", PROVER,
                  "--out", "p.json"])  # fmt: skip
    assert info.value.code == 2  # --input or --input-bytes is required


# -- a ceremony SRS ------------------------------------------------------------------------------


def ceremony_ptau(path: Path, power: int, tau: int) -> Path:
    """A ``.ptau`` of ``2^power`` for a secret ``tau`` that is not the test SRS's (as a
    ceremony's would be; snarkjs takes ~20 s at power 13, this ~2 s)."""
    import py_ecc.bn128 as bn
    from fuzz.corpus import ptau_from_points  # tests/ is on sys.path (conftest.py)

    from bigfile_zk import msm

    generator = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    g1, t = [], 1
    for _ in range(2 * 2**power - 1):
        point = msm.msm([generator], [t])
        g1.append((int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")))
        t = t * tau % bigfile_zk.MODULUS

    def g2(p: tuple) -> tuple:
        x, y = p[0].coeffs, p[1].coeffs
        return (int(x[0]), int(x[1])), (int(y[0]), int(y[1]))

    path.write_bytes(ptau_from_points(power, g1, g2(bn.G2), g2(bn.multiply(bn.G2, tau))))
    return path


def test_a_ceremony_srs_end_to_end(
    dense: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a ceremony's .ptau: prove, verify without any opt-in (0; another job 1), and a
    verifier contract that does not say INSECURE_TEST_SRS."""
    ptau = ceremony_ptau(tmp_path / "ceremony.ptau", 13, 0x5EC8E7 * 2**200 + 12345)
    assert not bigfile_zk.SRS.from_ptau(ptau, max_degree=64).is_insecure
    out = tmp_path / "proof.json"
    code, stdout, err = run(
        prove_argv(dense, out, "--input", str(dense.npy), "--ptau", str(ptau)), capsys
    )
    assert code == 0 and err == "", err
    p = compute.ComputeProof.load(out)
    assert not p.insecure_test_srs
    assert p.vk_digest != compute.ComputeProof.load(dense.proof).vk_digest  # another SRS
    argv = [a if a != str(dense.proof) else str(out) for a in dense.verify_argv()][:-2]
    code, f, _ = verify([*argv, "--ptau", str(ptau)], capsys)
    assert code == 0 and f["SRS"] == f"ceremony file {ptau}" and "proof file" not in f
    argv = [a if a != "7" else "8" for a in argv]
    assert verify([*argv, "--ptau", str(ptau)], capsys)[0] == 1
    # The test-SRS proof does not verify under the ceremony's key (another vk_digest).
    code, f, out_text = verify([*dense.verify_argv()[:-2], "--ptau", str(ptau)], capsys)
    assert code == 1 and "was made with another key" in out_text
    sol = tmp_path / "V.sol"
    code, stdout, err = run(
        ["compute", "verifier", str(dense.bfm), "--out", str(sol), "--ptau", str(ptau)], capsys
    )
    assert code == 0 and err == ""
    assert fields(stdout)["vk_digest"].split()[0] == p.vk_digest
    assert "INSECURE_TEST_SRS = false" in sol.read_text()


# -- compile from ONNX -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def float_onnx(work: Path) -> tuple[Path, Path, Path]:
    """A float MLP as ONNX, calibration and held-out .npy files."""
    pytest.importorskip("onnx", reason="ONNX import needs the compute extra")
    import onnx_models

    model = onnx_models.float_model("mlp")
    path = work / "mlp.onnx"
    path.write_bytes(compute.to_onnx(model).SerializeToString())
    calib, held = work / "calib.npy", work / "held.npy"
    np.save(calib, onnx_models.data(model, 64, seed=1))
    np.save(held, onnx_models.data(model, 32, seed=2))
    return path, calib, held


def test_compile_onnx_with_calibration_and_fidelity(
    float_onnx: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, calib, held = float_onnx
    out_path = tmp_path / "mlp.bfm"
    argv = ["compute", "compile", str(path), "--calibrate", str(calib), "--heldout", str(held)]
    code, out, err = run([*argv, "--min-top1", "0.5", "--out", str(out_path)], capsys)
    assert code == 0, (out, err)
    assert "ONNX float model" in out and "held-out" in out and "top-1 agreement" in out
    c = compute.load_model(out_path)
    imported = compute.load_onnx(path, calibration=np.load(calib), heldout=np.load(held))
    assert c.model == imported.qmodel  # the CLI compiled exactly what load_onnx makes
    assert c.metadata is not None
    assert c.metadata["source"] == compute.bfm.source_metadata(path)
    assert c.metadata["fidelity"] == imported.fidelity.to_dict()


def test_compile_onnx_refusals(
    float_onnx: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, calib, _ = float_onnx
    out = tmp_path / "mlp.bfm"
    # A tolerance the model misses: the report, exit 1, nothing written.
    strict = ["--calibrate", str(calib), "--max-delta", "1e-12", "--out", str(out)]
    code, stdout, err = run(
        ["compute", "compile", str(path), *strict],
        capsys,
    )
    assert code == 1 and "top-1 agreement" in stdout and "nothing written" in err
    assert not out.exists()
    # A float model needs calibration data.
    error(["compute", "compile", str(path), "--out", str(out)], capsys, "calibration")
    # Options of ONNX import given for a quantized program's JSON.
    program = tmp_path / "dense.json"
    program.write_text(json.dumps(PROGRAMS["dense"]["model"]))
    error(
        ["compute", "compile", str(program), "--calibrate", str(calib), "--out", str(out)],
        capsys,
        "apply to an ONNX model",
    )
    # A calibration file that is not a numeric .npy; the output over an input.
    bad = tmp_path / "objects.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    error(
        ["compute", "compile", str(path), "--calibrate", str(bad), "--out", str(out)],
        capsys,
        "not real numbers",
    )
    error(
        ["compute", "compile", str(path), "--calibrate", str(calib), "--out", str(calib)],
        capsys,
        "--calibrate",
    )
    # Bytes that are neither JSON nor ONNX.
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x01garbage")
    error(["compute", "compile", str(junk), "--calibrate", str(calib), "--out", str(out)], capsys)
    assert not out.exists()
