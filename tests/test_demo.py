"""``bigfile-zk demo`` (the README's main job) end to end, small: k = 4 on a few chunks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("web3", reason="the demo needs the evm extra (web3, eth-tester)")

import _npm
from conftest import running_in_ci

from bigfile_zk import demo, demo_compute, evm
from bigfile_zk.cli import main
from bigfile_zk.errors import ParameterError


@pytest.fixture
def pinned_solc(solc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo finds the tests' pinned solc through $BIGFILE_ZK_SOLC (no npm install)."""
    monkeypatch.setenv("BIGFILE_ZK_SOLC", str(solc))


def test_demo_report(tmp_path: Path, pinned_solc: None) -> None:
    lines: list[str] = []
    report = demo.run(size=20 * 992 + 7, k=4, workdir=tmp_path, progress=False, log=lines.append)
    assert report.ok, report.render()
    rows = dict(report.rows)
    for what in ("commit", "prove", "proof", "verify (Rust)", "verify (Python ref.)"):
        assert what in rows
    assert rows["proof"].startswith("768 bytes")
    assert rows["SRS"].startswith("insecure test SRS (demo only")  # the explicit opt-in, said
    assert rows["verify (EVM)"].startswith("ok") and "gas" in rows["verify (EVM)"]
    assert len([line for line in lines if line.startswith("[")]) >= 6
    assert (tmp_path / "sample.bin").stat().st_size == 20 * 992 + 7
    assert (tmp_path / "proof.json").is_file()


def test_demo_cli_on_a_given_file(
    tmp_path: Path, pinned_solc: None, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "mine.bin"
    path.write_bytes(b"hello, BigFile\n" * 100)
    assert main(["demo", "--file", str(path), "--k", "4", "-q"]) == 0
    out = capsys.readouterr().out
    assert "proof-of-storage demo" in out and "FAIL" not in out and "mine.bin" in out


def test_sizes_parse() -> None:
    assert demo.parse_size("4096") == 4096
    assert demo.parse_size("64K") == 65536
    assert demo.parse_size("16M") == 16 * 2**20
    assert demo.parse_size("1GiB") == 2**30
    for bad in ("0", "-1", "lots"):
        with pytest.raises(ParameterError):
            demo.parse_size(bad)


def test_install_solc_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any compiler around, install_solc fetches the pinned npm package (the demo's
    path on a fresh machine)."""
    monkeypatch.setenv("BIGFILE_ZK_CACHE", str(tmp_path))
    monkeypatch.delenv("BIGFILE_ZK_SOLC", raising=False)
    # node + npm, and a `solc` of another version (as distributions ship), which is ignored.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "solc").write_text(
        "#!/bin/sh\necho 'solc, the solidity compiler'\n"
        "echo 'Version: 0.8.20+commit.a1b79de6.Linux.g++'\n"
    )
    (fake / "solc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{Path(_npm.tool('node')).parent}")
    # A broken earlier install (no soljson.js) is replaced.
    (tmp_path / f"solc-{evm.SOLC_VERSION}" / "node_modules" / "solc").mkdir(parents=True)
    with pytest.raises(ParameterError, match=r"not 0\.8\.28"):
        evm.compile("contract A {}\n")
    try:
        where = evm.install_solc(quiet=True)
    except ParameterError as exc:
        if running_in_ci():
            pytest.fail(f"CI is set but npm cannot install solc: {exc}")
        pytest.skip(f"npm unavailable: {exc}")
    assert where == tmp_path / f"solc-{evm.SOLC_VERSION}" / "node_modules" / "solc"
    source = "pragma solidity 0.8.28;\ncontract A {\n    function f() external {}\n}\n"
    assert evm.compile(source).runtime_size > 0
    assert evm.install_solc(quiet=True) == where  # found, not reinstalled


def test_compute_demo_report(tmp_path: Path, pinned_solc: None) -> None:
    pytest.importorskip("onnx", reason="the compute demo needs the compute extra")
    lines: list[str] = []
    report = demo_compute.run(workdir=tmp_path, progress=False, log=lines.append)
    assert report.ok, report.render()
    rows = dict(report.rows)
    assert rows["proof"].startswith("832 bytes")  # spec version 3 (plonk.md §8)
    assert rows["SRS"].startswith("insecure test SRS (demo only")
    assert "held-out" in report.render() and "top-1 agreement" in report.render()
    for what in ("verify (Rust)", "verify (Python ref.)", "verify (EVM)", "forgeries"):
        assert rows[what].startswith("ok"), (what, rows[what])
    assert rows["forgeries"].count("ok") == 2
    assert len([line for line in lines if line.startswith("[")]) == 7
    for name in ("digits_mlp.onnx", "digits_mlp.bfm", "input.bin", "compute-proof.json"):
        assert (tmp_path / name).is_file(), name
    # The model file it wrote is the model it proved: reload it, same circuit.
    from bigfile_zk import compute

    again = compute.load_model(tmp_path / "digits_mlp.bfm")
    assert again.digest and again.rows == int(rows["circuit"].split()[0].replace(",", ""))


def test_demo_cli_runs_one_or_both(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`demo` runs both demos, `demo storage` / `demo compute` one; a failed one fails the
    command (exit 1)."""
    calls: list[str] = []

    def fake(name: str, ok: bool):
        def run(*args: object, **kwargs: object) -> demo.Report:
            calls.append(name)
            report = demo.Report()
            report.add("what", name)
            report.ok = ok
            return report

        return run

    monkeypatch.setattr(demo, "run", fake("storage", True))
    monkeypatch.setattr(demo_compute, "run", fake("compute", True))
    assert main(["demo", "-q"]) == 0 and calls == ["storage", "compute"]
    calls.clear()
    assert main(["demo", "compute", "-q"]) == 0 and calls == ["compute"]
    calls.clear()
    assert main(["demo", "storage", "-q"]) == 0 and calls == ["storage"]
    monkeypatch.setattr(demo_compute, "run", fake("compute", False))
    calls.clear()
    assert main(["demo", "-q"]) == 1 and calls == ["storage", "compute"]
    out = capsys.readouterr().out
    assert "proof-of-compute demo -- FAILED" in out
    with pytest.raises(SystemExit) as exit_info:  # argparse's usage error
        main(["demo", "nonsense"])
    assert exit_info.value.code == 2
