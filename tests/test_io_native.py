"""Inputs the Rust core reads itself, through entry points the Python layer does not guard
(issue 11, findings 9 and 10, Rust side): ``SRS.load``, ``SRS.from_ptau`` and the raw
``_native.commit_file`` / ``_native.open_file`` on a FIFO (must not block) or ``/dev/zero``
(must not read without end), and lone-surrogate strings given to the native ``from_json``
functions (must raise ``DecodeError``, not ``UnicodeEncodeError``).

These fail until the Rust fix lands. Calls that could block or exhaust memory run in a
subprocess with a timeout and a memory limit (``test_io.run_python``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_io import needs_dev_zero, needs_fifo, run_python

import bigfile_zk as bz
from bigfile_zk import plonk
from bigfile_zk.errors import DecodeError


def _refused(call: str, **paths: str) -> None:
    """``call`` (Python, with ``paths`` bound) must raise quickly: an ``OSError`` or a
    bigfile_zk error, not block, not run out of memory."""
    bindings = "\n".join(f"{name} = {value!r}" for name, value in paths.items())
    proc = run_python(
        f"""
import warnings
import bigfile_zk as bz
from bigfile_zk import SRS, _native
from bigfile_zk.errors import BigFileZkError
warnings.simplefilter("ignore")
{bindings}
try:
    {call}
except (OSError, BigFileZkError) as exc:
    print("refused:", type(exc).__name__, exc)
else:
    raise SystemExit("accepted")
""",
        timeout=10,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("refused:"), (proc.stdout, proc.stderr)


CALLS = {
    "SRS.load": "SRS.load(target)",
    "SRS.from_ptau": "SRS.from_ptau(target)",
    "SRS.from_ptau max_degree": "SRS.from_ptau(target, max_degree=100)",
    "_native.commit_file": "_native.commit_file(target)",
    "_native.open_file": "_native.open_file(target, bz.commit_bytes(b'x' * 5000), 0, None, None)",
}


@needs_fifo
@pytest.mark.parametrize("name", list(CALLS))
def test_native_reads_of_a_fifo_do_not_block(name: str, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _refused(CALLS[name], target=str(fifo))


@needs_dev_zero
@pytest.mark.parametrize("name", list(CALLS))
def test_native_reads_of_dev_zero_are_refused(name: str) -> None:
    _refused(CALLS[name], target="/dev/zero")


SURROGATES = ['"\ud800"', "\ud800", '{"type": "\udfff"}', '{"\ud800": 1}']
DECODERS = {
    "FileCommitment": bz.FileCommitment.from_json,
    "ChunkOpening": bz.ChunkOpening.from_json,
    "MerkleProof": bz.MerkleProof.from_json,
    "MerkleMultiProof": bz.MerkleMultiProof.from_json,
    "VerifyingKey": plonk.VerifyingKey.from_json,
    "ProvingKey": plonk.ProvingKey.from_json,
    "Proof": plonk.Proof.from_json,
}


@pytest.mark.parametrize("text", SURROGATES, ids=range(len(SURROGATES)))
@pytest.mark.parametrize("name", list(DECODERS))
def test_native_from_json_of_a_lone_surrogate(name: str, text: str) -> None:
    with pytest.raises(DecodeError):
        DECODERS[name](text)
