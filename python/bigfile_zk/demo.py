"""``bigfile-zk demo``: the proof-of-storage flow end to end, on one machine.

A client commits to a file and registers it with a ``StorageRegistry`` on an in-process EVM
(py-evm); the registry's epoch randomness fixes the challenge seed; the
provider proves that it holds the file; the proof is checked by the Rust verifier, by the
pure-Python reference verifier and by the generated Solidity verifier inside the registry's
``submitProof`` transaction. The report gives sizes, times and gas.

Without ``--ptau`` the SRS is the embedded insecure test SRS (its τ is public): a demo, not a
security claim. The demo then opts in explicitly (``allow_insecure_srs=True``) where the
library refuses that SRS by default (verifying, generating the verifier contract), and its
report says so.

The registry's randomness source is ``BlockRandomness`` (``block.prevrandao`` and the parent
block hash), the one source that needs nobody outside the chain. A beacon source
(``BeaconRandomness``) resists seed grinding by whoever opens an epoch or sequences the chain,
but on a private in-process chain its beacon would be the demo itself publishing values, which
shows nothing more; the report says which source was used.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import bigfile_zk
from bigfile_zk import _io, storage
from bigfile_zk.errors import InsecureSRSWarning, ParameterError

DEFAULT_SIZE = 16 * 2**20
#: The largest file a commitment holds: 2^32 chunks of 992 bytes (3.875 TiB).
MAX_SIZE = bigfile_zk.MAX_CHUNKS * bigfile_zk.DEFAULT_CHUNK_SIZE
EPOCH_LENGTH = 20  # blocks per registry epoch
PROOF_WINDOW = 10  # blocks, from each epoch's start, in which proofs are accepted


@dataclass
class Report:
    """What the demo measured (seconds, bytes, gas)."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    ok: bool = True

    def add(self, what: str, value: str) -> None:
        self.rows.append((what, value))

    def render(self) -> str:
        width = max(len(w) for w, _ in self.rows)
        return "\n".join(f"  {w:<{width}}  {v}" for w, v in self.rows)


_SIZE = re.compile(
    r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:e([+-]?\d{1,4}))?\s*(?:([kmgt])(?:i?b)?|b)?",
    re.IGNORECASE | re.ASCII,
)
_UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str) -> int:
    """``4096``, ``64K``, ``16M``, ``1G``, ``1.5GiB``, ``1e6`` (binary units) to bytes: at
    least one byte, at most :data:`MAX_SIZE`. Anything else is a ``ParameterError``."""
    match = _SIZE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ParameterError(f"size {text!r} is not a number of bytes (e.g. 4096, 64K, 16M, 1G)")
    number, exponent, unit = match.groups()
    exact = Fraction(number) * Fraction(10) ** int(exponent or 0)
    return check_size(int(exact * _UNITS.get((unit or "").lower(), 1)), text)


def check_size(size: int, text: object = None) -> int:
    """``size`` if it is a sample file size the demo can commit to (1 byte to
    :data:`MAX_SIZE`), else a ``ParameterError``."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an int, not {type(size).__name__}")
    shown = f"size {text!r}" if text is not None else f"size {size}"
    if size <= 0:
        raise ParameterError(f"{shown}: the file must have at least one byte")
    if size > MAX_SIZE:
        raise ParameterError(
            f"{shown} is more than a file commitment holds: at most {MAX_SIZE} bytes "
            f"({MAX_SIZE / 2**40:g} TiB, 2^32 chunks of {bigfile_zk.DEFAULT_CHUNK_SIZE} bytes)"
        )
    return size


def _check_space(work: Path, size: int) -> None:
    """Refuse a sample file (with its tree file, ~0.4 % of it, and the rest of the demo's
    files) that would not fit in ``work``'s free space (``work`` may not exist yet: then its
    nearest existing parent's)."""
    need = size + size // 64 + 16 * 2**20
    where = work.absolute()
    while not where.exists() and where.parent != where:
        where = where.parent
    free = shutil.disk_usage(where).free
    if need > free:
        raise ParameterError(
            f"a {_human(size)} sample file needs about {_human(need)} in {work} (with its tree "
            f"file), which has {_human(free)} free: choose a smaller --size or another --workdir"
        )


def _sample_file(path: Path, size: int) -> None:
    """``size`` pseudo-random bytes (incompressible, like real content), written in blocks
    (through a temporary file and a rename: an existing file or link there is replaced, never
    written through)."""
    import numpy as np

    rng = np.random.default_rng(20261121)
    with _io.atomic_writer(path) as f:
        left = size
        while left:
            n = min(left, 8 * 2**20)
            f.write(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
            left -= n


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def _chain() -> Any:
    try:
        from web3 import EthereumTesterProvider, Web3
    except ImportError as exc:
        raise ParameterError(
            "the demo's EVM part needs web3 and eth-tester: pip install 'bigfile_zk[evm]'"
        ) from exc
    try:
        w3 = Web3(EthereumTesterProvider())
    except Exception as exc:  # eth-tester without its py-evm backend
        raise ParameterError(
            f"no in-process EVM ({exc}): pip install 'bigfile_zk[evm]' (eth-tester[py-evm])"
        ) from exc
    return w3


def run(
    file: str | os.PathLike[str] | None = None,
    *,
    size: int = DEFAULT_SIZE,
    k: int = storage.DEFAULT_K,
    ptau: str | os.PathLike[str] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    log: Any = None,
) -> Report:
    """Run the demo; ``log(text)`` gets a line per step (default: print to stderr)."""
    from bigfile_zk import evm
    from bigfile_zk.reference import plonk as ref_plonk
    from bigfile_zk.reference import storage as ref_storage

    def say(text: str) -> None:
        (log or (lambda t: print(t, file=sys.stderr, flush=True)))(text)

    report = Report()
    k = storage._check_k(k)
    if file is None:
        size = check_size(size)
    owned = workdir is None
    if workdir is not None:
        # No output may be an input (e.g. --file WORKDIR/proof.json): refused before writing.
        name = "sample.bin" if file is None else Path(file).name
        _io.check_outputs(
            [("file", file), ("ptau file", ptau)],
            [
                ("sample file", Path(workdir, name) if file is None else None),
                ("tree file", Path(workdir, name + ".bfzt")),
                ("proof file", Path(workdir, "proof.json")),
            ],
        )
    if file is None:  # before anything is written, or the chain is started
        _check_space(Path(tempfile.gettempdir() if workdir is None else workdir), size)
    w3 = _chain()
    work = Path(tempfile.mkdtemp(prefix="bigfile-zk-demo-") if workdir is None else workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        # 1. The file and its commitment (with the tree file that makes proving read k chunks).
        if file is None:
            path = work / "sample.bin"
            say(f"[1/6] writing a {_human(size)} sample file {path}")
            _sample_file(path, size)
        else:
            path = Path(file)
        tree = work / (path.name + ".bfzt")
        say(f"[1/6] committing to {path}")
        t = time.perf_counter()
        c = bigfile_zk.commit_file(path, tree=tree, progress=progress)
        t_commit = time.perf_counter() - t
        report.add("file", f"{path} ({_human(c.file_size)}, {c.num_chunks} chunks of 992 B)")
        report.add(
            "commit",
            f"{t_commit:.2f} s, {c.file_size / 2**20 / t_commit:.1f} MiB/s "
            f"(Poseidon tree of depth {c.depth}; tree file {_human(tree.stat().st_size)})",
        )
        report.add("commitment", f"0x{c.commitment:064x}")

        # 2. Keys for parameter set k (cached on disk after the first run).
        say(f"[2/6] keys for k = {k} challenges")
        t = time.perf_counter()
        insecure = ptau is None  # the demo's explicit opt-in to the insecure test SRS
        if ptau is not None:
            srs = bigfile_zk.SRS.from_ptau(ptau, max_degree=storage.srs_degree(k))
            srs_note = f"from {ptau}"
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureSRSWarning)
                srs = storage.default_srs(k)
            srs_note = (
                "insecure test SRS (demo only: tau is public, anyone can forge proofs; "
                "verifier contract has INSECURE_TEST_SRS = true)"
            )
        cached = storage.key_path(k, srs).is_file()
        pk, vk = storage.keys(k, srs)
        t_keys = time.perf_counter() - t
        report.add("SRS", srs_note)
        report.add("circuit", f"k = {k} challenges, 2^{pk.k} rows, one key for any file size")
        how = "loaded from" if cached else "derived, now cached in"
        report.add("keys", f"{t_keys:.2f} s ({how} {storage.cache_dir()})")

        # 3. The chain: the generated verifier and the registry, the file registered.
        say(
            "[3/6] deploying StorageVerifier + StorageRegistry (BlockRandomness) on an "
            "in-process EVM (py-evm)"
        )
        evm.install_solc()
        source = vk.to_solidity("StorageVerifier", allow_insecure_srs=insecure)
        verifier = evm.deploy(w3, evm.compile(source))
        registry = evm.deploy_registry(w3, verifier.address, EPOCH_LENGTH, PROOF_WINDOW)
        client, provider = w3.eth.accounts[0], w3.eth.accounts[1]
        receipt = _transact(w3, registry.functions.register(c.commitment, provider), client)
        file_id = registry.events.FileRegistered().process_receipt(receipt)[0]["args"]["fileId"]

        # 4. The challenge: wait for the file's first epoch, fix its randomness, read the seed.
        first = registry.functions.files(file_id).call()[1]
        start = registry.functions.epochStart(first).call()
        w3.testing.mine(max(0, start - w3.eth.block_number - 1))
        _transact(w3, registry.functions.beginEpoch(), provider)
        epoch, seed, deadline = registry.functions.challenge(file_id).call()
        indices = storage.challenges(seed, provider, c.num_chunks, k=k)
        assert indices == ref_storage.challenges(seed, int(provider, 16), k, c.num_chunks)
        say(f"[4/6] epoch {epoch}: seed 0x{seed:064x}, proof due by block {deadline}")
        report.add(
            "challenge",
            f"epoch {epoch}, seed from BlockRandomness (prevrandao + parent hash); "
            f"chunks {_few(indices)}",
        )
        report.add(
            "randomness",
            "BlockRandomness (grindable by a rollup sequencer; a beacon source is the "
            "stronger option: docs/spec/proof-of-storage.md)",
        )

        # 5. Prove (reads the k challenged chunks and their stored paths only).
        say("[5/6] proving")
        t = time.perf_counter()
        proof = storage.prove(path, c, seed, provider, k=k, srs=srs, tree=tree, progress=progress)
        t_prove = time.perf_counter() - t
        raw = proof.proof.to_evm_bytes()
        report.add("prove", f"{t_prove:.2f} s")
        report.add("proof", f"{len(raw)} bytes; public inputs [commitment, seed, provider]")
        _io.write_atomic(work / "proof.json", proof.to_json() + "\n")

        # 6. Verify three ways, each for the statement the verifier expects: the registered
        # commitment, the registry's seed for this file and epoch, the provider (never the
        # statement proof.json claims).
        say("[6/6] verifying: Rust, Python reference, EVM")
        t = time.perf_counter()
        ok_rust = storage.verify(
            proof, commitment=c, seed=seed, prover=provider, k=k, vk=vk, allow_insecure_srs=insecure
        )
        t_rust = time.perf_counter() - t
        t = time.perf_counter()
        rvk = ref_plonk.VerifyingKey.from_bytes(vk.to_bytes())
        ok_ref = ref_storage.verify(
            rvk, raw, commitment=c.commitment, seed=seed, prover=int(provider, 16)
        )
        t_ref = time.perf_counter() - t
        verify_gas = evm.min_gas(w3, verifier.address, evm.calldata(raw, proof.public_inputs))
        receipt = _transact(w3, registry.functions.submitProof(file_id, raw), provider)
        accepted = registry.events.ProofAccepted().process_receipt(receipt)
        ok_chain = bool(accepted) and registry.functions.proven(file_id, epoch).call()
        report.add("verify (Rust)", f"{_mark(ok_rust)} {t_rust * 1e3:.1f} ms")
        report.add("verify (Python ref.)", f"{_mark(ok_ref)} {t_ref:.2f} s")
        report.add(
            "verify (EVM)",
            f"{_mark(ok_chain)} verifyProof {verify_gas:,} gas (whole tx); "
            f"registry submitProof tx {receipt['gasUsed']:,} gas",
        )
        # A proof is bound to its seed and its provider: the same bytes for the next epoch's
        # seed, or from another account, are refused.
        other = (seed + 1) % bigfile_zk.MODULUS
        replay_ok = evm.verify(w3, verifier.address, raw, [c.commitment, other, int(provider, 16)])
        stolen_ok = evm.verify(
            w3, verifier.address, raw, [c.commitment, seed, int(w3.eth.accounts[2], 16)]
        )
        report.add(
            "forgeries",
            f"{_mark(not replay_ok)} other seed refused, "
            f"{_mark(not stolen_ok)} other provider refused",
        )
        report.ok = ok_rust and ok_ref and ok_chain and not replay_ok and not stolen_ok
        report.add("workdir", f"{work}" + (" (removed)" if owned else ""))
        return report
    finally:
        if owned:
            shutil.rmtree(work, ignore_errors=True)


def _few(xs: list[int]) -> str:
    shown = ", ".join(str(x) for x in xs[:6])
    return f"{shown}, ... ({len(xs)})" if len(xs) > 6 else shown


def _mark(ok: bool) -> str:
    return "ok  " if ok else "FAIL"


def _transact(w3: Any, call: Any, sender: str) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "gas": 5_000_000}))
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction failed: {receipt}")
    return receipt
