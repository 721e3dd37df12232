"""The ``bigfile-zk`` command line."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

import bigfile_zk
from bigfile_zk import FileCommitment, _io, compute
from bigfile_zk.errors import (
    BigFileZkError,
    DecodeError,
    FidelityError,
    InsecureSRSError,
    InsecureSRSWarning,
    InternalError,
    ParameterError,
)
from bigfile_zk.storage import parse_address

#: Exit status of a bug in bigfile_zk (``sysexits.h``'s EX_SOFTWARE): neither "invalid" (1) nor
#: "bad input" (2).
EXIT_INTERNAL = 70


def _add_layout_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chunk-size",
        type=int,
        default=bigfile_zk.DEFAULT_CHUNK_SIZE,
        help="bytes per chunk (a multiple of 62; default %(default)s)",
    )
    p.add_argument(
        "--arity", type=int, default=bigfile_zk.DEFAULT_ARITY, help="Merkle arity (2, 4, 8, 16)"
    )


def _write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never a partially
    written output (an interrupted or failed run leaves the old file, or none)."""
    _io.write_atomic(path, text)


def _read_commitment(path: str) -> FileCommitment:
    return FileCommitment.from_json(_io.read_text(path, _io.MAX_COMMITMENT_JSON, "commitment JSON"))


def _progress_flag(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None


def _ray_address(value: str | None) -> str | None:
    """``--ray ADDRESS``: a cluster address (``host:port``, ``auto``), or ``local`` for a Ray
    instance on this machine."""
    return None if value in (None, "local") else value


def _cmd_commit(args: argparse.Namespace) -> int:
    _io.check_outputs([("file", args.file)], [("--out", args.out), ("--tree", args.tree)])
    parallel = args.workers is not None or args.ray is not None
    if parallel and args.tree:
        raise ParameterError("--tree is written by the streaming commit only: drop --workers/--ray")
    start = time.perf_counter()
    if parallel:
        from bigfile_zk import batch

        c = batch.commit_file_parallel(
            args.file,
            chunk_size=args.chunk_size,
            arity=args.arity,
            workers=args.workers,
            backend="ray" if args.ray is not None else "local",
            address=_ray_address(args.ray),
            progress=_progress_flag(args),
        )
    else:
        c = bigfile_zk.commit_file(
            args.file,
            chunk_size=args.chunk_size,
            arity=args.arity,
            tree=args.tree,
            progress=_progress_flag(args),
        )
    seconds = time.perf_counter() - start
    if args.out:
        _write_output(args.out, c.to_json() + "\n")
    if args.json:
        print(c.to_json())
        return 0
    mib = c.file_size / 2**20
    print(f"file         {args.file}")
    print(f"size         {c.file_size} bytes ({c.num_chunks} chunks of {c.chunk_size} bytes)")
    print(f"tree         arity {c.arity}, depth {c.depth}")
    print(f"root         0x{c.root:064x}")
    print(f"commitment   0x{c.commitment:064x}")
    print(f"time         {seconds:.3f} s ({mib / seconds if seconds > 0 else 0:.1f} MiB/s)")
    if args.out:
        print(f"written      {args.out}")
    if args.tree:
        print(f"tree file    {args.tree}")
    return 0


def _cmd_open(args: argparse.Namespace) -> int:
    c = _read_commitment(args.commitment)
    opening = c.open(args.file, args.index, tree=args.tree, progress=_progress_flag(args))
    print(opening.to_json())
    return 0


def _read_vk(path: str) -> bigfile_zk.plonk.VerifyingKey:
    """A verifying key file: its bytes (``BFVK…``) or its JSON."""
    data = _io.read_bounded(path, _io.MAX_VERIFYING_KEY, "verifying key")
    if data.startswith(b"BFVK"):
        return bigfile_zk.plonk.VerifyingKey.from_bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(
            f"{path} is neither verifying key bytes (BFVK...) nor its JSON (not UTF-8)"
        ) from None
    return bigfile_zk.plonk.VerifyingKey.from_json(text)


def _insecure_refused(
    what: str, remedy: str = "give the ceremony with --ptau FILE.ptau"
) -> InsecureSRSError:
    return InsecureSRSError(
        f"{what} uses the insecure test SRS (its τ is public: anyone can forge proofs it "
        f"accepts); {remedy}, or pass --insecure-test-srs for tests and demos"
    )


def _cmd_verifier(args: argparse.Namespace) -> int:
    _io.check_outputs([("--vk", args.vk)], [("--out", args.out)])
    vk = _read_vk(args.vk)
    if vk.is_insecure and not args.insecure_test_srs:
        raise _insecure_refused(
            f"the verifying key {args.vk}",
            "make the key with a ceremony SRS (--ptau, SRS.from_ptau)",
        )
    source = vk.to_solidity(args.name, allow_insecure_srs=args.insecure_test_srs)
    if args.out:
        _write_output(args.out, source)
        print(f"wrote {args.out} (contract {args.name}, solc 0.8.28)", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return 0


def _storage_degree(args: argparse.Namespace) -> int:
    from bigfile_zk import storage

    return storage.srs_degree(args.k)


def _proving_srs(args: argparse.Namespace, degree: int) -> bigfile_zk.SRS | None:
    """The SRS of ``--ptau`` (just the ``degree + 1`` powers the circuit needs), or None: the
    insecure test SRS, which warns."""
    if not args.ptau:
        return None
    try:
        return bigfile_zk.SRS.from_ptau(args.ptau, max_degree=degree)
    except (DecodeError, ParameterError) as exc:  # the core's message does not name the file
        raise type(exc)(f"--ptau {args.ptau}: {exc}") from None


def _cmd_storage_commit(args: argparse.Namespace) -> int:
    out = args.out or f"{args.file}.commitment.json"
    tree = args.tree or f"{args.file}.bfzt"
    _io.check_outputs([("file", args.file)], [("commitment", out), ("tree file", tree)])
    c = bigfile_zk.commit_file(args.file, tree=tree, progress=_progress_flag(args))
    _write_output(out, c.to_json() + "\n")
    print(f"commitment   0x{c.commitment:064x}")
    print(f"size         {c.file_size} bytes ({c.num_chunks} chunks)")
    print(f"written      {out}, tree file {tree}")
    return 0


def _cmd_storage_prove(args: argparse.Namespace) -> int:
    from bigfile_zk import storage

    path = args.commitment or f"{args.file}.commitment.json"
    tree = args.tree
    if tree is None and os.path.exists(f"{args.file}.bfzt"):
        tree = f"{args.file}.bfzt"
    inputs = [("file", args.file), ("commitment", path), ("tree file", tree), ("--ptau", args.ptau)]
    _io.check_outputs(inputs, [("--out", args.out)])
    c = _read_commitment(path)
    start = time.perf_counter()
    proof = storage.prove(
        args.file,
        c,
        args.seed,
        args.prover,
        k=args.k,
        srs=_proving_srs(args, _storage_degree(args)),
        tree=tree,
        progress=_progress_flag(args),
    )
    seconds = time.perf_counter() - start
    text = proof.to_json() + "\n"
    _write_output(args.out, text)
    print(f"proved k = {args.k} challenges in {seconds:.2f} s -> {args.out}", file=sys.stderr)
    return 0


def _expected_commitment(text: str) -> int:
    """``--commitment``: ``C`` itself (0x-hex or decimal), or a commitment JSON file."""
    from bigfile_zk import storage

    value = text.strip()
    if value.startswith("0x") or (value.isascii() and value.isdigit()):
        return storage.parse_commitment(value)
    return _read_commitment(text).commitment


def _verifying_srs(args: argparse.Namespace, command: str, degree: int) -> bigfile_zk.SRS | None:
    """The SRS a verifier trusts: ``--ptau``'s (``degree + 1`` powers), or (None) the insecure
    test SRS with ``--insecure-test-srs``; neither is a one-line error naming both flags."""
    if args.ptau:
        srs = _proving_srs(args, degree)
        if srs is not None and srs.is_insecure:  # a test SRS saved as a .ptau
            raise _insecure_refused(f"{command} with {args.ptau}")
        return srs
    if not args.insecure_test_srs:
        raise _insecure_refused(f"{command} without --ptau")
    return None


def _srs_note(args: argparse.Namespace, *, proving: bool = False) -> str:
    if args.ptau:
        return f"ceremony file {args.ptau}"
    if proving:
        return "INSECURE test SRS (no --ptau: anyone can forge proofs for it; tests/demos only)"
    return "INSECURE test SRS (--insecure-test-srs: anyone can forge proofs; tests/demos only)"


_SHOW = {"commitment": "0x{:064x}", "seed": "{}", "prover": "0x{:040x}", "k": "{}"}


def _cmd_storage_verify(args: argparse.Namespace) -> int:
    from bigfile_zk import storage

    # The statement is the verifier's (the registry's seed for the file and epoch, the
    # commitment it registered, the provider it pays), never the proof file's.
    commitment = _expected_commitment(args.commitment)
    seed, prover = storage.parse_seed(args.seed), storage.parse_address(args.prover)
    proof = storage.StorageProof.from_json(
        _io.read_text(args.proof, _io.MAX_PROOF_JSON, "storage proof JSON")
    )
    srs = _verifying_srs(args, "storage verify", _storage_degree(args))
    expected = {"commitment": commitment, "seed": seed, "prover": prover, "k": args.k}
    with warnings.catch_warnings():
        if args.insecure_test_srs:  # opted in explicitly: the SRS line below says it
            warnings.simplefilter("ignore", InsecureSRSWarning)
        ok = storage.verify(proof, **expected, srs=srs, allow_insecure_srs=args.insecure_test_srs)
    for name, value in expected.items():
        print(f"{name:<12} {_SHOW[name].format(value)}")
    print(f"SRS          {_srs_note(args)}")
    differ = storage.statement_differences(proof, **expected)
    if differ:
        claims = ", ".join(
            f"{name} = {_SHOW[name].format(getattr(proof, name))}" for name in differ
        )
        print(f"proof file   claims another statement ({claims}): not a proof of this one")
    print("valid" if ok else "INVALID")
    return 0 if ok else 1


def _cmd_storage_verifier(args: argparse.Namespace) -> int:
    from bigfile_zk import storage

    _io.check_outputs([("--ptau", args.ptau)], [("--out", args.out)])
    srs = _verifying_srs(args, "storage verifier", _storage_degree(args))
    with warnings.catch_warnings():
        if args.insecure_test_srs:
            warnings.simplefilter("ignore", InsecureSRSWarning)
        _, vk = storage.keys(args.k, srs)
    source = vk.to_solidity(args.name, allow_insecure_srs=args.insecure_test_srs)
    _write_output(args.out, source)
    note = ", INSECURE_TEST_SRS = true: never deploy it for value" if vk.is_insecure else ""
    print(f"wrote {args.out} (contract {args.name}, k = {args.k}{note})", file=sys.stderr)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bigfile_zk import demo

    which = args.which
    ok = True
    if which in ("all", "storage"):
        print(
            "bigfile_zk demo (storage): commit a file, register it on chain, prove it is held "
            "for the chain's challenge, verify in Rust, in the Python reference and on the EVM",
            file=sys.stderr,
        )
        report = demo.run(
            args.file,
            size=demo.parse_size(args.size),
            k=args.k,
            ptau=args.ptau,
            workdir=args.workdir,
            progress=_progress_flag(args),
        )
        sys.stderr.flush()
        print("\nproof-of-storage demo" + ("" if report.ok else " -- FAILED"))
        print(report.render(), flush=True)
        ok = ok and report.ok
    if which in ("all", "compute"):
        from bigfile_zk import demo_compute

        print(
            "\nbigfile_zk demo (compute): train a digit classifier, export it to ONNX, quantize "
            "and compile it, register it and a paid job on chain, prove the inference, verify "
            "in Rust, in the Python reference and through the job registry",
            file=sys.stderr,
        )
        report = demo_compute.run(
            ptau=args.ptau, workdir=args.workdir, progress=_progress_flag(args)
        )
        sys.stderr.flush()
        print("\nproof-of-compute demo" + ("" if report.ok else " -- FAILED"))
        print(report.render(), flush=True)
        ok = ok and report.ok
    return 0 if ok else 1


def _cmd_storage_registry(args: argparse.Namespace) -> int:
    from bigfile_zk import evm

    _write_output(args.out, evm.registry_source())
    print(
        f"wrote {args.out} (contracts StorageRegistry, BlockRandomness, BeaconRandomness). "
        "Deploy a randomness source first: BeaconRandomness(beacon, firstRound, "
        "roundsPerEpoch) over a drand relay or VRF, or BlockRandomness (grindable by the "
        "sequencer: docs/spec/proof-of-storage.md, 'Randomness sources'); then "
        "StorageRegistry(verifier from `storage verifier`, source, epoch length, proof window "
        "in blocks)",
        file=sys.stderr,
    )
    return 0


# -- proof-of-compute ---------------------------------------------------------------------------

#: A .npy header is ~128 bytes; numpy writes up to 64 KiB for huge structured dtypes.
_NPY_HEADER_MAX = 2**16
_INT = re.compile(r"0x[0-9a-fA-F]{1,64}|[0-9]{1,80}")
_OUTPUT = re.compile(r"-?[0-9]{1,80}")


def _printable(text: str) -> str:
    """``text`` with control characters, lone surrogates and other unprintable characters
    escaped: names from model files and paths are outside input, printed to a terminal."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def _parse_job(text: str) -> int:
    value = text.strip()
    job = int(value, 0) if _INT.fullmatch(value) and value != "0x" else -1
    if not 0 <= job < 2**64:
        raise ParameterError(f"--job {text!r} is not an integer in [0, 2^64) (decimal or 0x-hex)")
    return job


def _ptau_power(degree: int) -> int:
    """The least snarkjs ``.ptau`` power ``p`` whose ``2·2^p - 1`` G1 powers reach ``degree``."""
    return max((degree + 1).bit_length() - 1, 1)


def _ints(values: Sequence[int]) -> str:
    return ",".join(str(int(v)) for v in values)


def _floats(values: Sequence[float]) -> str:
    return ", ".join(f"{float(v):.6g}" for v in values)


def _print_rows(rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        print(f"{label:<17} {value}")


def _model_rows(c: compute.CompiledModel) -> list[tuple[str, str]]:
    """The resource report of ``compute compile`` and ``compute inspect``."""
    q, r = c.model, c.report()
    n = 2**c.k
    lo, hi = q.input_range
    m = c.num_outputs
    statement = f"{m} outputs" if m <= compute.MAX_PUBLIC_OUTPUTS else f"H_y of {m} outputs"
    gib = r["predicted_peak_memory_bytes"] / 2**20
    return [
        (
            "program",
            f"input {list(q.input_shape)} {q.input_quant.dtype} in [{lo}, {hi}] -> "
            f"{len(q.nodes)} node{'s' if len(q.nodes) > 1 else ''} -> "
            f"output {list(q.output_shape)} {q.output_quant.dtype}",
        ),
        ("rows", f"{c.rows} of 2^{c.k} = {n} ({100 * c.rows / n:.0f} % used)"),
        ("public inputs", f"{c.num_public}: C_x, job, provider, {statement}"),
        (
            "SRS",
            f"max degree {c.srs_max_degree} ({c.srs_rule}): a .ptau of power "
            f"{_ptau_power(c.srs_max_degree)} or more",
        ),
        (
            "layout",
            f"range_bits {c.range_bits}, max_clamp_table {c.max_clamp_table}, buckets "
            + ("off" if c.bucket_min_outputs == 2**32 - 1 else f">= {c.bucket_min_outputs}")
            + (", Poseidon gate" if c.poseidon_gate else ", arithmetic Poseidon")
            + f", PLONK v{c.version}"
            + (", lookups" if c.lookups else ""),
        ),
        ("MACs, requants", f"{r['macs']}, {r['requants']}"),
        (
            "predicted",
            f"prove ≈ {r['predicted_prove_seconds']:.2f} s, peak memory ≈ {gib:.0f} MiB "
            "(2-core reference machine)",
        ),
        ("model digest", c.digest),
    ]


def _read_program(path: str) -> tuple[compute.QuantizedModel, dict[str, Any]]:
    """A quantized program's JSON (``QuantizedModel.to_dict``) and the metadata naming it."""
    data = _io.read_bounded(path, _io.MAX_MODEL_FILE, "quantized model JSON")
    if data.startswith(compute.bfm.MAGIC):
        raise DecodeError(f"{path} is a model file already (bigfile-zk compute inspect {path})")
    model = compute.QuantizedModel.from_dict(_io.json_object(data, "quantized model"))
    return model, {"source": compute.bfm.source_metadata(path, data)}


#: A calibration or held-out .npy is refused past this size (a few hundred thousand images).
_MAX_DATASET = 2**30


def _load_dataset(path: str, what: str) -> np.ndarray:
    """A real-valued ``.npy`` array (``[N, ...]``), read with a size cap and its header checked
    before numpy allocates anything (no pickles)."""
    data = _io.read_bounded(path, _MAX_DATASET, what)
    shape, dtype = _npy_header(path, data)
    if dtype.kind not in "iuf":
        raise DecodeError(f"{path} holds {dtype}, not real numbers: not loaded")
    if int(np.prod(shape)) * dtype.itemsize > len(data):
        raise DecodeError(f"{path} is truncated: its header claims shape {shape} of {dtype}")
    return _npy_array(path, data)


def _is_onnx(path: str, data: bytes) -> bool:
    """An ONNX file (protobuf) rather than a QuantizedModel's JSON: by its name, or by its first
    byte (JSON text starts with ``{`` or ``[`` after white space; an ONNX file never does)."""
    if path.lower().endswith(".onnx"):
        return True
    return not path.lower().endswith(".json") and data.lstrip()[:1] not in (b"{", b"[")


def _import_onnx(
    args: argparse.Namespace, data: bytes
) -> tuple[compute.QuantizedModel, dict[str, Any], list[str]]:
    """``load_onnx`` with the CLI's data and tolerance; the program, its metadata and the
    fidelity report's lines. A missed tolerance raises ``FidelityError`` (nothing written)."""
    calibration = None if args.calibrate is None else _load_dataset(args.calibrate, "--calibrate")
    heldout = None if args.heldout is None else _load_dataset(args.heldout, "--heldout")
    tolerance = None
    if args.min_top1 is not None or args.max_delta is not None:
        tolerance = compute.Tolerance(
            min_top1_agreement=args.min_top1, max_abs_delta=args.max_delta
        )
    imported = compute.load_onnx(
        data, calibration=calibration, heldout=heldout, tolerance=tolerance
    )
    metadata: dict[str, Any] = {"source": compute.bfm.source_metadata(args.model, data)}
    lines: list[str] = []
    if imported.fidelity is not None:
        metadata["fidelity"] = imported.fidelity.to_dict()
        lines = imported.fidelity.lines()
    return imported.qmodel, metadata, [f"ONNX {imported.kind} model", *lines]


def _cmd_compute_compile(args: argparse.Namespace) -> int:
    _io.check_outputs(
        [("model", args.model), ("--calibrate", args.calibrate), ("--heldout", args.heldout)],
        [("--out", args.out)],
    )
    data = _io.read_bounded(args.model, _io.MAX_MODEL_FILE, "model (ONNX or quantized JSON)")
    notes: list[str] = []
    if _is_onnx(args.model, data) and not data.startswith(compute.bfm.MAGIC):
        try:
            model, metadata, notes = _import_onnx(args, data)
        except FidelityError as exc:
            print("\n".join(exc.report.lines()))
            print(f"bigfile-zk: {exc}; nothing written", file=sys.stderr)
            return 1
    else:
        if any(
            v is not None for v in (args.calibrate, args.heldout, args.min_top1, args.max_delta)
        ):
            raise ParameterError(
                "--calibrate/--heldout/--min-top1/--max-delta apply to an ONNX model; "
                f"{args.model} is a quantized program already"
            )
        model, metadata = _read_program(args.model)
    for line in notes:
        print(line)
    start = time.perf_counter()
    c = compute.compile(model)
    seconds = time.perf_counter() - start
    metadata["created_by"] = f"bigfile-zk {bigfile_zk.__version__} compute compile"
    fc = c.save(args.out, metadata=metadata)
    _print_rows(_model_rows(c))
    _print_rows(
        [
            ("compiled", f"in {seconds:.2f} s"),
            ("written", f"{_printable(args.out)} ({fc.file_size} bytes)"),
            ("file commitment", f"0x{fc.commitment:064x} (the model file's BigFile name)"),
        ]
    )
    return 0


def _cmd_compute_inspect(args: argparse.Namespace) -> int:
    data = _io.read_bounded(args.model, compute.bfm.MAX_MODEL_FILE, "model file (.bfm)")
    c = compute.CompiledModel.from_bytes(data)
    fc = bigfile_zk.commit_bytes(data)
    rows = [
        ("file", f"{_printable(args.model)} ({len(data)} bytes, .bfm version {data[4]})"),
        ("file commitment", f"0x{fc.commitment:064x}"),
        *_model_rows(c),
    ]
    md = c.metadata or {}
    if "source" in md:
        src = md["source"]
        rows.append(("source", f"{_printable(src['name'])} (sha256 {src['sha256']})"))
    if "created_by" in md:
        rows.append(("created by", _printable(md["created_by"])))
    if "fidelity" in md:
        text = compute.bfm.canonical_json(md["fidelity"])
        rows.append(("fidelity", _printable(text if len(text) <= 200 else text[:200] + "…")))
    _print_rows(rows)
    print("nodes")
    for node in c.model.nodes:
        op = node.op
        weights = getattr(op, "weight", None)
        size = "" if weights is None else f"{weights.size + op.bias.size} parameters"
        fused = f"from {'+'.join(node.fused)}" if node.fused else ""
        print(
            f"  {_printable(node.name):<14} {op.kind:<16} {list(node.shape)!s:<14} "
            f"{node.output.dtype:<6} {size:<17} {_printable(fused)}".rstrip()
        )
    return 0


def _load_npy(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """The array of a ``.npy`` file holding ``prod(shape)`` values: read with a size cap, its
    header checked before numpy allocates what the header asks for, no pickles."""
    n = int(np.prod(shape))
    data = _io.read_bounded(path, 8 * n + _NPY_HEADER_MAX, "input .npy")
    header, dtype = _npy_header(path, data)
    if dtype.hasobject:
        raise DecodeError(f"{path} holds Python objects (a pickle), not numbers: not loaded")
    if int(np.prod(header)) != n:
        raise ParameterError(
            f"{path} holds an array of shape {header}; the input has shape {shape}"
        )
    return _npy_array(path, data)


def _npy_header(path: str, data: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype a ``.npy`` file's header declares (read before numpy allocates)."""
    if data[:2] == b"PK":
        raise DecodeError(f"{path} is a .npz archive, not a .npy array")
    f = io.BytesIO(data)
    try:
        major, _ = np.lib.format.read_magic(f)
        read = (
            np.lib.format.read_array_header_1_0
            if major == 1
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read(f)
    except (ValueError, OSError, EOFError) as exc:
        raise DecodeError(f"{path} is not a .npy array ({exc})") from None
    return shape, dtype


def _npy_array(path: str, data: bytes) -> np.ndarray:
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DecodeError(f"{path} is not a .npy array ({exc})") from None


def _read_input(args: argparse.Namespace, model: compute.QuantizedModel) -> np.ndarray:
    """The integer input of ``--input`` (a .npy) or ``--input-bytes`` (the committed file)."""
    n = int(np.prod(model.input_shape))
    if args.input_bytes is not None:
        if args.quantize:
            raise ParameterError("--quantize applies to --input (a .npy of real values)")
        return model.input_from_bytes(_io.read_bounded(args.input_bytes, n, "input file"))
    arr = _load_npy(args.input, model.input_shape)
    if args.quantize:
        return model.quantize_input(arr)
    if arr.dtype.kind == "f":
        s, z = model.input_quant.scale, model.input_quant.zero_point
        raise ParameterError(
            f"{args.input} holds {arr.dtype} values; the model takes integers (its quantized "
            f"input): pass --quantize to quantize real values as round(x / {s}) + {z}"
        )
    return model.check_input(arr)


def _insecure_proving_note(srs: bigfile_zk.SRS | None) -> None:
    if srs is None:
        print(
            "bigfile-zk: warning: no --ptau: proving with the INSECURE test SRS (its τ is "
            "public: anyone can forge proofs for it; tests and demos only)",
            file=sys.stderr,
        )


def _cmd_compute_prove(args: argparse.Namespace) -> int:
    inputs = [
        ("model", args.model),
        ("--input", args.input),
        ("--input-bytes", args.input_bytes),
        ("--ptau", args.ptau),
    ]
    _io.check_outputs(inputs, [("--out", args.out)])
    job, provider = _parse_job(args.job), parse_address(args.prover)
    c = compute.load_model(args.model)
    x = _read_input(args, c.model)
    srs = _proving_srs(args, c.srs_max_degree)
    _insecure_proving_note(srs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)  # said once, above
        pk, _ = c.keys(srs, progress=_progress_flag(args))
    keys_seconds = time.perf_counter() - start
    proof = c.prove(pk, x, job=job, provider=provider, progress=_progress_flag(args))
    seconds = time.perf_counter() - start - keys_seconds
    y = c.model.forward_int(x)
    if list(proof.outputs) != c.expected_outputs(y):
        raise InternalError("the proof's outputs are not the oracle's")
    proof.save(args.out)
    commitment = bigfile_zk.commit_bytes(c.model.input_bytes(x)).commitment
    _print_rows(
        [
            ("model", f"{_printable(args.model)} (digest {c.digest[:16]}…)"),
            ("input commitment", f"0x{commitment:064x} ({x.size} input bytes)"),
            ("job", str(job)),
            ("prover", f"0x{provider:040x}"),
            ("outputs", _ints(y.ravel())),
            ("dequantized", _floats(c.model.dequantize_output(y).ravel())),
            ("vk_digest", proof.vk_digest),
            ("SRS", _srs_note(args, proving=True)),
            ("time", f"keys {keys_seconds:.2f} s, prove {seconds:.2f} s"),
            ("written", _printable(args.out)),
        ]
    )
    return 0


def _parse_outputs(text: str, c: compute.CompiledModel) -> np.ndarray:
    """``--outputs v1,v2,…``: the model's integer outputs (C order), in the output dtype."""
    items = text.split(",")
    if len(items) != c.num_outputs:
        raise ParameterError(
            f"--outputs has {len(items)} values, the model has {c.num_outputs} outputs"
        )
    lo, hi = c.model.output_quant.range
    values = []
    for i, item in enumerate(items):
        if not _OUTPUT.fullmatch(item.strip()):
            raise ParameterError(f"--outputs value {i}: {item!r} is not an integer")
        v = int(item)
        if not lo <= v <= hi:
            raise ParameterError(
                f"--outputs value {i}: {v} is outside the {c.model.output_quant.dtype} output "
                f"range [{lo}, {hi}]"
            )
        values.append(v)
    return np.array(values, dtype=np.int64).reshape(c.model.output_shape)


def _signed(v: int) -> int:
    """A field element as the integer it encodes (``r + v`` for a negative ``v``)."""
    return v - bigfile_zk.MODULUS if v > bigfile_zk.MODULUS // 2 else v


def _cmd_compute_verify(args: argparse.Namespace) -> int:
    # The statement is the caller's (the job it pays for, its input's commitment, the provider
    # it pays, the model it trusts); the proof file only supplies the proof (and, unless
    # --outputs pins them, the outputs the provider claims).
    commitment = _expected_commitment(args.input_commitment)
    job, provider = _parse_job(args.job), parse_address(args.prover)
    proof = compute.ComputeProof.from_json(
        _io.read_text(args.proof, _io.MAX_PROOF_JSON, "compute proof JSON")
    )
    c = compute.load_model(args.model)
    pinned = None if args.outputs is None else _parse_outputs(args.outputs, c)
    srs = _verifying_srs(args, "compute verify", c.srs_max_degree)
    with warnings.catch_warnings():
        if args.insecure_test_srs:  # opted in explicitly: the SRS line below says it
            warnings.simplefilter("ignore", InsecureSRSWarning)
        _, vk = c.keys(srs, progress=_progress_flag(args))
    vk_digest = "0x" + vk.digest().hex()
    m = c.num_outputs
    notes: list[str] = []
    if pinned is not None:
        outputs = c.expected_outputs(pinned)
        shown = [("outputs", f"{_ints(pinned.ravel())} (--outputs)")]
        ints: list[int] | None = [int(v) for v in pinned.ravel()]
    elif proof.num_outputs != m:
        outputs, ints = [], None
        shown = [("outputs", f"none: the proof file claims {proof.num_outputs}")]
        notes.append(f"claims {proof.num_outputs} outputs, the model has {m}")
    elif m > compute.MAX_PUBLIC_OUTPUTS:
        outputs, ints = list(proof.outputs), None
        shown = [
            (
                "outputs",
                f"hash 0x{proof.outputs[0]:064x} of {m} outputs (the proof file's claim; pin "
                "the values with --outputs)",
            )
        ]
    else:
        outputs = list(proof.outputs)
        ints = [_signed(v) for v in outputs]
        shown = [("outputs", f"{_ints(ints)} (the proof file's claim)")]
    lo, hi = c.model.output_quant.range
    if ints is not None and all(lo <= v <= hi for v in ints):
        y = np.array(ints, dtype=np.int64).reshape(c.model.output_shape)
        shown.append(("dequantized", _floats(c.model.dequantize_output(y).ravel())))
    ok = bool(outputs) and compute.verify(
        vk,
        proof,
        input_commitment=commitment,
        job=job,
        provider=provider,
        outputs=outputs,
        allow_insecure_srs=args.insecure_test_srs,
    )
    _print_rows(
        [
            ("model", f"{_printable(args.model)} (vk_digest {vk_digest})"),
            ("input commitment", f"0x{commitment:064x}"),
            ("job", str(job)),
            ("prover", f"0x{provider:040x}"),
            *shown,
            ("SRS", _srs_note(args)),
        ]
    )
    claims = {
        "input_commitment": (proof.input_commitment, commitment, "0x{:064x}"),
        "job": (proof.job, job, "{}"),
        "prover": (proof.provider, provider, "0x{:040x}"),
    }
    differ = [f"{k} = {fmt.format(got)}" for k, (got, want, fmt) in claims.items() if got != want]
    if pinned is not None and proof.num_outputs == m and list(proof.outputs) != outputs:
        differ.append("other outputs")
    if differ:
        notes.append(f"claims another statement ({', '.join(differ)}): not a proof of this one")
    if proof.vk_digest != vk_digest:
        notes.append(
            f"was made with another key (vk_digest {proof.vk_digest}): another model or SRS"
        )
    for note in notes:
        print(f"{'proof file':<17} {note}")
    print("valid" if ok else "INVALID")
    return 0 if ok else 1


def _cmd_compute_verifier(args: argparse.Namespace) -> int:
    _io.check_outputs([("model", args.model), ("--ptau", args.ptau)], [("--out", args.out)])
    c = compute.load_model(args.model)
    srs = _verifying_srs(args, "compute verifier", c.srs_max_degree)
    with warnings.catch_warnings():
        if args.insecure_test_srs:
            warnings.simplefilter("ignore", InsecureSRSWarning)
        _, vk = c.keys(srs, progress=_progress_flag(args))
    source = c.verifier_solidity(
        vk, contract_name=args.name, allow_insecure_srs=args.insecure_test_srs
    )
    _write_output(args.out, source)
    note = ", INSECURE_TEST_SRS = true: never deploy it for value" if vk.is_insecure else ""
    _print_rows(
        [
            ("vk_digest", f"0x{vk.digest().hex()} (VK_DIGEST(): the model's identity)"),
            ("SRS", _srs_note(args)),
            ("written", f"{_printable(args.out)} (contract {args.name}, solc 0.8.28{note})"),
        ]
    )
    return 0


def _add_insecure_flag(p: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    p.add_argument(
        "--insecure-test-srs",
        action="store_true",
        help="accept a key made with the insecure test SRS (anyone can forge proofs against "
        "it): tests and demos only",
    )


def _add_proving_srs_args(p: argparse.ArgumentParser, insecure_help: str) -> None:
    """``--ptau`` or the explicit ``--insecure-test-srs``, one of them required at run time (for
    commands that prove many proofs or send them on chain: no silent default)."""
    srs = p.add_mutually_exclusive_group()
    srs.add_argument("--ptau", help="the snarkjs .ptau ceremony file to prove with")
    srs.add_argument("--insecure-test-srs", action="store_true", help=insecure_help)


def _add_srs_args(p: argparse.ArgumentParser, *, verifying: bool) -> None:
    """``--ptau`` (a prover defaults to the insecure test SRS, with a warning); a verifier
    needs ``--ptau`` or the explicit ``--insecure-test-srs``."""
    if not verifying:
        p.add_argument(
            "--ptau", help="a snarkjs .ptau ceremony file (default: the insecure test SRS)"
        )
        return
    srs = p.add_mutually_exclusive_group()
    srs.add_argument("--ptau", help="the snarkjs .ptau ceremony file the verifier trusts")
    _add_insecure_flag(srs)


def _add_storage_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    storage_parser = sub.add_parser("storage", help="proof-of-storage: commit, prove, verify")
    ssub = storage_parser.add_subparsers(dest="storage_command", required=True)

    def common(p: argparse.ArgumentParser, *, verifying: bool = False) -> None:
        p.add_argument(
            "--k", type=int, default=16, choices=(4, 16, 64), help="challenges per proof (16)"
        )
        _add_srs_args(p, verifying=verifying)

    p = ssub.add_parser("commit", help="commit to a file; writes FILE.commitment.json, FILE.bfzt")
    p.add_argument("file")
    p.add_argument("--out", help="commitment JSON (default FILE.commitment.json)")
    p.add_argument("--tree", help="tree file (default FILE.bfzt)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_storage_commit)

    p = ssub.add_parser("prove", help="prove the file is held, for a challenge seed")
    p.add_argument("file")
    p.add_argument("--seed", required=True, help="challenge seed: decimal or 0x-hex field element")
    p.add_argument("--prover", required=True, help="the prover's 0x address (20 bytes)")
    p.add_argument("--out", required=True, help="proof JSON to write")
    p.add_argument("--commitment", help="commitment JSON (default FILE.commitment.json)")
    p.add_argument("--tree", help="tree file (default FILE.bfzt when present)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    common(p)
    p.set_defaults(func=_cmd_storage_prove)

    p = ssub.add_parser(
        "verify",
        help="verify a proof JSON for the expected statement (exit 0 valid, 1 invalid)",
        description="Verify a storage proof for the statement the verifier expects: the "
        "commitment it registered, the seed the chain fixed for the file and epoch (the "
        "registry's recorded seed, never the proof file's) and the provider. The statement "
        "in the proof file is not trusted.",
    )
    p.add_argument("proof")
    p.add_argument(
        "--commitment",
        required=True,
        help="expected commitment: a commitment JSON file or C itself (0x-hex or decimal)",
    )
    p.add_argument(
        "--seed", required=True, help="expected challenge seed (the registry's, for the epoch)"
    )
    p.add_argument("--prover", required=True, help="expected prover: its 0x address")
    common(p, verifying=True)
    p.set_defaults(func=_cmd_storage_verify)

    p = ssub.add_parser("verifier", help="write the Solidity verifier of a parameter set")
    p.add_argument("--out", required=True, help="output .sol file")
    p.add_argument("--name", default="StorageVerifier", help="contract name (%(default)s)")
    common(p, verifying=True)
    p.set_defaults(func=_cmd_storage_verifier)

    p = ssub.add_parser(
        "registry",
        help="write StorageRegistry.sol (the on-chain registry and its randomness sources)",
    )
    p.add_argument("--out", required=True, help="output .sol file")
    p.set_defaults(func=_cmd_storage_registry)


def _add_compute_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    compute_parser = sub.add_parser(
        "compute", help="proof-of-compute: compile a quantized model, prove, verify"
    )
    csub = compute_parser.add_subparsers(dest="compute_command", required=True)

    def quiet(p: argparse.ArgumentParser) -> None:
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    def statement(p: argparse.ArgumentParser, *, expected: bool) -> None:
        who = "expected " if expected else ""
        p.add_argument("--job", required=True, help=f"{who}job id: decimal or 0x-hex, < 2^64")
        p.add_argument(
            "--prover",
            "--provider",
            dest="prover",
            required=True,
            help=f"{who}provider: its 0x address (20 bytes)",
        )

    p = csub.add_parser(
        "compile",
        help="compile an ONNX model or a quantized program into a model file (.bfm)",
        description="Lay out a quantized program's circuit, print its resource report and "
        "write the model file (docs/spec/model-file.md) with its file commitment.",
    )
    p.add_argument(
        "model",
        help="an ONNX model (float, or quantized statically by onnxruntime; docs/spec/onnx.md) "
        "or a quantized program's JSON (QuantizedModel.to_dict)",
    )
    p.add_argument("--out", required=True, help="the model file (.bfm) to write")
    p.add_argument(
        "--calibrate",
        metavar="X.npy",
        help="calibration inputs [N, ...] (floats; needed to quantize a float ONNX model)",
    )
    p.add_argument("--heldout", metavar="Y.npy", help="held-out inputs for the fidelity report")
    p.add_argument(
        "--min-top1",
        type=float,
        metavar="F",
        help="refuse (exit 1, nothing written) below this top-1 agreement with onnxruntime's "
        "float run, e.g. 0.95",
    )
    p.add_argument(
        "--max-delta",
        type=float,
        metavar="F",
        help="refuse (exit 1, nothing written) above this max |output difference| in the "
        "model's output units",
    )
    p.set_defaults(func=_cmd_compute_compile)

    p = csub.add_parser(
        "prove",
        help="run a model file on an input and prove it, for a job and a provider",
        description="Prove that the model maps the input to its outputs for --job and "
        "--prover. The input is an integer .npy of the input shape (--input; real values "
        "with --quantize) or the input file's bytes (--input-bytes: the BigFile file whose "
        "commitment the job names).",
    )
    p.add_argument("model", help="the model file (.bfm)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="a .npy array of the input shape (integers)")
    source.add_argument("--input-bytes", help="the input file: one byte per element (spec §6)")
    p.add_argument(
        "--quantize",
        action="store_true",
        help="--input holds real values: quantize them with the model's input scale",
    )
    statement(p, expected=False)
    p.add_argument("--out", required=True, help="proof JSON to write")
    quiet(p)
    _add_srs_args(p, verifying=False)
    p.set_defaults(func=_cmd_compute_prove)

    p = csub.add_parser(
        "verify",
        help="verify a compute proof for the expected statement (exit 0 valid, 1 invalid)",
        description="Verify a compute proof for the statement the verifier expects: the "
        "model it trusts, the commitment of the job's input, the job and the provider. The "
        "outputs are the proof file's claim unless pinned with --outputs=v1,v2,... (the "
        "integers, C order); nothing else in the proof file is trusted.",
    )
    p.add_argument("proof", help="the proof JSON")
    p.add_argument("--model", required=True, help="the model file (.bfm) the verifier trusts")
    p.add_argument(
        "--input-commitment",
        required=True,
        help="expected input commitment: C itself (0x-hex or decimal) or a commitment JSON",
    )
    statement(p, expected=True)
    p.add_argument(
        "--outputs",
        help="expected integer outputs, comma-separated in C order (write --outputs=-3,5 "
        "when the first is negative)",
    )
    quiet(p)
    _add_srs_args(p, verifying=True)
    p.set_defaults(func=_cmd_compute_verify)

    p = csub.add_parser("verifier", help="write the Solidity verifier of a model file")
    p.add_argument("model", help="the model file (.bfm)")
    p.add_argument("--out", required=True, help="output .sol file")
    p.add_argument("--name", default="ComputeVerifier", help="contract name (%(default)s)")
    quiet(p)
    _add_srs_args(p, verifying=True)
    p.set_defaults(func=_cmd_compute_verifier)

    p = csub.add_parser(
        "inspect", help="print a model file's format, layout, nodes, digest and commitment"
    )
    p.add_argument("model", help="the model file (.bfm)")
    p.set_defaults(func=_cmd_compute_inspect)


def _add_parallel_args(p: argparse.ArgumentParser, workers_help: str) -> None:
    p.add_argument("--workers", type=int, metavar="N", help=workers_help)
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run on the Ray cluster at ADDRESS (host:port, or auto), or `local` for a Ray "
        "instance on this machine (needs bigfile_zk[cluster])",
    )


def _add_batch_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    batch_parser = sub.add_parser(
        "batch", help="many proofs at once, on local processes or a Ray cluster"
    )
    bsub = batch_parser.add_subparsers(dest="batch_command", required=True)
    p = bsub.add_parser(
        "prove",
        help="prove a JSON list of jobs; one proof file per job in --out",
        description='Prove every job of JOBS.json (a list of objects: {"kind": "storage", '
        '"file", "seed", "prover", "k", "commitment"?, "tree"?, "id"?} or '
        '{"kind": "compute", "model", "input" | "input_bytes", "job", "provider", '
        '"id"?}, {"kind": "epoch", "catalogue", "files", "seed", "prover", "m"?, "k"?, '
        '"id"?} or {"kind": "catalogue-update", "catalogue", "head", "changes", "id"?}; '
        "relative paths are relative to JOBS.json). Each proof is written to "
        "OUT/ID.proof.json as it finishes, and OUT/summary.json lists every job's status. A "
        "job that fails does not stop the others; the exit status is 1 if any failed.",
    )
    p.add_argument("jobs", help="the jobs JSON")
    p.add_argument("--out", required=True, help="directory for the proofs and summary.json")
    _add_parallel_args(p, "worker processes (default: one per CPU; with --ray: jobs in flight)")
    p.add_argument(
        "--max-retries",
        type=int,
        default=2,
        help="resubmit a job whose worker died up to this many times (%(default)s)",
    )
    _add_proving_srs_args(
        p, "prove with the insecure test SRS (anyone can forge such proofs): tests and demos"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_batch_prove)


_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _proof_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", label) + ".proof.json"


def _cmd_batch_prove(args: argparse.Namespace) -> int:
    from bigfile_zk import batch

    jobs = batch.load_jobs(args.jobs)
    if not jobs:
        raise ParameterError(f"{args.jobs} holds no jobs")
    for job in jobs:
        if job.id is not None and (not _SAFE_NAME.fullmatch(job.id) or job.id in (".", "..")):
            raise ParameterError(f"job id {job.id!r} is not a file name (use A-Z a-z 0-9 . _ -)")
    names = [_proof_name(job.label) for job in jobs]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ParameterError(
                f"jobs {seen[name]} and {i} would both write {name}: give them distinct ids"
            )
        seen[name] = i
    if not args.ptau and not args.insecure_test_srs:
        raise _insecure_refused("batch prove without --ptau")
    os.makedirs(args.out, exist_ok=True)
    outputs = [os.path.join(args.out, name) for name in [*names, "summary.json"]]
    inputs = [("jobs", args.jobs), ("--ptau", args.ptau)]
    for job in jobs:
        inputs += [(f"{job.label} {k}", v) for k, v in vars(job).items() if k != "id"]
    _io.check_outputs(
        [(label, v) for label, v in inputs if isinstance(v, str)],
        [("output", path) for path in outputs],
    )
    srs = None
    if args.ptau:
        degrees = []
        for job in jobs:
            with contextlib.suppress(Exception):  # a bad job fails on its own, later
                degrees.append(job.srs_degree())
        srs = _proving_srs(args, max(degrees, default=1))

    def write(result: batch.JobResult) -> None:
        if result.ok and result.proof_json is not None:
            _write_output(outputs[result.index], result.proof_json.rstrip("\n") + "\n")

    start = time.perf_counter()
    results = batch.prove_batch(
        jobs,
        backend="ray" if args.ray is not None else "local",
        address=_ray_address(args.ray),
        workers=args.workers,
        srs=srs,
        allow_insecure_srs=args.insecure_test_srs,
        progress=_progress_flag(args),
        max_retries=args.max_retries,
        on_result=write,
    )
    seconds = time.perf_counter() - start
    summary = [
        {
            "index": r.index,
            "id": r.job.label,
            "kind": r.job.kind,
            "status": "ok" if r.ok else "failed",
            **({"proof": outputs[r.index]} if r.ok else {}),
            **({} if r.ok else {"error_type": r.error_type, "error": r.error}),
            "attempts": r.attempts,
            "seconds": round(r.seconds, 3),
            "worker": r.worker,
        }
        for r in results
    ]
    _write_output(outputs[-1], json.dumps(summary, indent=2) + "\n")
    failed = [r for r in results if not r.ok]
    for r in results:
        status = "ok" if r.ok else f"FAILED {r.error_type}: {_printable(r.error or '')}"
        print(f"{r.job.label:<32} {status}")
    print(
        f"{len(results) - len(failed)} of {len(results)} proved in {seconds:.1f} s; "
        f"summary {_printable(outputs[-1])}"
    )
    return 1 if failed else 0


# -- storage provider ------------------------------------------------------------------------


def _read_account(args: argparse.Namespace) -> Any:
    """The provider's signing account from ``--key-file``: a 0x-hex private key on one line,
    or an encrypted keystore (JSON) with its password in ``--password-file``."""
    from eth_account import Account

    text = _io.read_text(args.key_file, 2**20, "--key-file").strip()
    if os.name == "posix" and os.stat(args.key_file).st_mode & 0o077:
        print(
            f"bigfile-zk: warning: --key-file {args.key_file} is readable by other users "
            "(chmod 600 it)",
            file=sys.stderr,
        )
    if text.startswith("{"):
        if not args.password_file:
            raise ParameterError("--key-file is an encrypted keystore: give --password-file")
        password = _io.read_text(args.password_file, 2**16, "--password-file").rstrip("\r\n")
        try:
            key = Account.decrypt(_io.json_object(text, "keystore"), password)
        except ValueError as exc:
            raise ParameterError(f"--key-file {args.key_file}: cannot decrypt ({exc})") from None
    else:
        body = text[2:] if text[:2] in ("0x", "0X") else text
        if not re.fullmatch(r"[0-9a-fA-F]{64}", body):
            raise ParameterError(
                f"--key-file {args.key_file} holds neither a 0x-hex private key (64 hex digits) "
                "nor a keystore JSON"
            )
        key = bytes.fromhex(body)
    try:
        return Account.from_key(key)
    except (ValueError, TypeError) as exc:  # e.g. zero or >= the curve order
        raise ParameterError(f"--key-file {args.key_file}: not a valid private key") from exc


def _rpc_provider(url: str) -> Any:
    """The web3 provider for ``--rpc`` (the tests put py-evm behind this)."""
    from web3 import HTTPProvider, IPCProvider

    if re.match(r"https?://", url):
        return HTTPProvider(url, request_kwargs={"timeout": 60})
    if url.endswith(".ipc"):
        return IPCProvider(url)
    raise ParameterError(f"--rpc {url!r} is neither an http(s):// URL nor a .ipc path")


def _connect(args: argparse.Namespace, account: Any) -> tuple[Any, Any]:
    """web3 on ``--rpc`` signing as ``account``, and the registry contract at ``--registry``."""
    from bigfile_zk import evm

    evm._web3()  # a clear MissingDependencyError without the evm extra
    from web3 import Web3
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    url = args.rpc
    provider = _rpc_provider(url)
    w3 = Web3(provider)
    try:
        w3.eth.chain_id  # noqa: B018  # fails here, clearly, when the node is unreachable
    except Exception as exc:  # the transport's own errors (requests, OSError, RPC errors)
        raise ParameterError(f"--rpc {url}: no Ethereum node answers ({exc})") from None
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
    w3.eth.default_account = account.address
    if not Web3.is_address(args.registry):
        raise ParameterError(f"--registry {args.registry!r} is not an address")
    address = Web3.to_checksum_address(args.registry)
    if not w3.eth.get_code(address):
        raise ParameterError(f"--registry {address}: no contract there on this chain")
    registry = w3.eth.contract(address=address, abi=evm.epoch_registry_abi())
    try:
        registry.functions.currentEpoch().call()
        registry.functions.latestCatalogue(account.address).call()
    except Exception as exc:
        raise ParameterError(f"--registry {address} does not answer as an EpochRegistry") from exc
    return w3, registry


def _cmd_provider_epoch(args: argparse.Namespace) -> int:
    from bigfile_zk import catalogue, epoch, provider
    from bigfile_zk.errors import TransactionFailedError

    if not args.ptau and not args.insecure_test_srs:
        raise _insecure_refused("provider epoch without --ptau")
    inputs = [("--key-file", args.key_file), ("--files", args.files), ("--ptau", args.ptau)]
    inputs += [("--password-file", args.password_file)]
    outputs = [("--report", args.report), ("--catalogue", args.catalogue)]
    _io.check_outputs([(n, v) for n, v in inputs if v], [(n, v) for n, v in outputs if v])
    if args.report and os.path.abspath(args.report) == os.path.abspath(args.catalogue):
        raise ParameterError("--report would overwrite --catalogue")
    account = _read_account(args)
    files = provider.load_files(args.files)
    srs = _proving_srs(args, max(epoch.srs_degree(), catalogue.srs_degree()))
    w3, registry = _connect(args, account)
    quiet = args.quiet

    def say(line: str) -> None:
        if not quiet:
            print(f"bigfile-zk: {line}", file=sys.stderr, flush=True)

    say(f"provider {account.address}, {len(files)} file(s), registry {registry.address}")
    backend = "ray" if args.ray is not None else ("local" if args.workers else None)
    with warnings.catch_warnings():
        if args.insecure_test_srs:  # opted in on the command line: said once, not per proof
            warnings.simplefilter("ignore", InsecureSRSWarning)
        try:
            report = provider.run_epoch(
                w3,
                registry,
                account.address,
                args.catalogue,
                files,
                srs=srs,
                allow_insecure_srs=args.insecure_test_srs,
                backend=backend,  # type: ignore[arg-type]
                address=_ray_address(args.ray),
                workers=args.workers,
                from_block=args.from_block,
                progress=_progress_flag(args),
                log=say,
            )
        except TransactionFailedError as exc:
            print(f"bigfile-zk: {exc}", file=sys.stderr)
            return 1
    if args.report:
        _write_output(args.report, json.dumps(report.to_dict(), indent=2) + "\n")
    rows = [("epoch", str(report.epoch)), ("proof due", "yes" if report.due else "no")]
    if report.due:
        rows += [("catalogue in force", f"0x{report.catalogue:064x}"), ("seed", str(report.seed))]
        verdict = {True: "ACCEPTED", False: "REJECTED", None: "not submitted"}[report.accepted]
        gas = report.gas.get("submitEpochProof")
        rows.append(("epoch proof", verdict + ("" if gas is None else f" ({gas:,} gas)")))
    if report.missing:
        rows.append(("missing files", f"{len(report.missing)} slot(s): {report.missing[:8]}"))
    for to_index, gas in report.updates:
        rows.append(("catalogue update", f"queue to index {to_index} ({gas:,} gas)"))
    if not report.updates:
        rows.append(("catalogue update", "none queued"))
    for label, seconds in report.seconds.items():
        rows.append((label, f"{seconds:.1f} s"))
    for label, value in rows:
        print(f"{label:<19} {value}")
    return 1 if report.accepted is False else 0


def _add_provider_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    provider_parser = sub.add_parser(
        "provider", help="a storage provider's side of an EpochRegistry"
    )
    psub = provider_parser.add_subparsers(dest="provider_command", required=True)
    p = psub.add_parser(
        "epoch",
        help="run one epoch: prove and submit if due, apply queued catalogue changes",
        description="One epoch of a storage provider against an EpochRegistry: if the "
        "epoch's proof is due, fix its randomness, prove the catalogue in force and submit "
        "the proof; then prove and submit the catalogue updates for the changes clients "
        "queued (docs/spec/storage-catalogue.md). --catalogue is the provider's state: it is "
        "replaced (atomically) after each accepted update, and every catalogue is kept in "
        "CATALOGUE.history/. Exit status: 0 done (proof accepted, or nothing due), 1 the "
        "proof was rejected or a transaction reverted, 2 bad input (checked before anything "
        "is sent, except a missing file that the epoch happens to sample).",
    )
    p.add_argument("--rpc", required=True, help="the chain's JSON-RPC endpoint (http(s) or .ipc)")
    p.add_argument("--registry", required=True, help="the EpochRegistry's address")
    p.add_argument(
        "--key-file",
        required=True,
        help="the provider's private key: 0x-hex on one line, or a keystore JSON",
    )
    p.add_argument("--password-file", help="the keystore's password (with a keystore JSON)")
    p.add_argument(
        "--catalogue",
        required=True,
        help="the provider's catalogue JSON (created empty for a new provider)",
    )
    p.add_argument(
        "--files",
        required=True,
        help="where the files are: a directory of FILE + FILE.commitment.json (+ FILE.bfzt), "
        'or a JSON list of paths or {"file", "commitment"?, "tree"?}',
    )
    _add_parallel_args(
        p, "prove on N local worker processes (default: in this process; with --ray: in flight)"
    )
    p.add_argument(
        "--from-block",
        type=int,
        default=0,
        help="first block to scan for queued changes (the registry's deployment block); "
        "later runs go on from the last scan",
    )
    p.add_argument("--report", help="also write the run's report as JSON here")
    _add_proving_srs_args(
        p, "prove with the insecure test SRS (the registry's verifiers must be its too)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or step lines")
    p.set_defaults(func=_cmd_provider_epoch)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bigfile-zk", description="BigFile zero-knowledge tooling (bigfile_zk)."
    )
    parser.add_argument("--version", action="version", version=bigfile_zk.__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("commit", help="commit to a file (streamed, bounded memory)")
    p.add_argument("file")
    _add_layout_args(p)
    p.add_argument("--json", action="store_true", help="print the commitment as JSON")
    p.add_argument("--out", help="also write the commitment JSON to this file")
    p.add_argument("--tree", help="also write the tree's upper levels here (fast `open` later)")
    _add_parallel_args(p, "hash aligned subtrees in N worker processes (no --tree)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_commit)

    _add_batch_parser(sub)
    _add_provider_parser(sub)

    p = sub.add_parser("open", help="open one chunk of a committed file with its Merkle proof")
    p.add_argument("file")
    p.add_argument("--commitment", required=True, help="commitment JSON (from commit --out)")
    p.add_argument("--index", type=int, required=True, help="chunk index")
    p.add_argument("--tree", help="tree file written by `commit --tree` (reads ≤ 16 chunks)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_open)

    p = sub.add_parser("verifier", help="write the Solidity verifier of a PLONK verifying key")
    p.add_argument("--vk", required=True, help="verifying key: its bytes or its JSON")
    p.add_argument("--out", help="output .sol file (default: standard output)")
    p.add_argument("--name", default="PlonkVerifier", help="contract name (%(default)s)")
    _add_insecure_flag(p)
    p.set_defaults(func=_cmd_verifier)

    _add_storage_parser(sub)
    _add_compute_parser(sub)

    p = sub.add_parser(
        "demo",
        help="the whole mission end to end: proof-of-storage, then proof-of-compute",
        description="Run the proof-of-storage demo (commit a file, register it, prove it is "
        "held, verify three ways) and the proof-of-compute demo (train, export to ONNX, "
        "quantize, compile, register model and job, prove, verify three ways, get paid), or "
        "one of them.",
    )
    p.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=("all", "storage", "compute"),
        help="which demo to run (default: both)",
    )
    p.add_argument(
        "--file", help="storage: file to use (default: a fresh sample file of --size bytes)"
    )
    p.add_argument(
        "--size", default="16M", help="storage: sample file size, e.g. 1M, 256M, 1G (16M)"
    )
    p.add_argument(
        "--k", type=int, default=16, choices=(4, 16, 64), help="challenges per proof (16)"
    )
    p.add_argument("--ptau", help="a snarkjs .ptau ceremony file (default: insecure test SRS)")
    p.add_argument(
        "--workdir",
        help="keep the files here (storage: sample file, tree, proof.json; compute: the ONNX "
        "and model files, input.bin, compute-proof.json)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)
    return parser


_NEGATIVE_LIST = re.compile(r"-[0-9][0-9, -]*")


def _join_negative_lists(argv: Sequence[str]) -> list[str]:
    """``--outputs -3,5`` as ``--outputs=-3,5``: argparse takes a value that starts with ``-``
    (and is not one number) for an option, and would refuse the flag for want of a value."""
    args, out, i = list(argv), [], 0
    while i < len(args):
        if args[i] == "--outputs" and i + 1 < len(args) and _NEGATIVE_LIST.fullmatch(args[i + 1]):
            out.append(f"--outputs={args[i + 1]}")
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_join_negative_lists(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("bigfile-zk: interrupted", file=sys.stderr)
        return 130
    except InternalError as e:  # a caught Rust panic: a bug, not bad input
        print(f"bigfile-zk: internal error (a bug; please report it): {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except (BigFileZkError, OSError, ValueError, OverflowError) as e:
        # Bad input, missing files, refused parameters: one line, exit 2.
        print(f"bigfile-zk: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: never mistaken for "invalid" (1) or "bad input" (2)
        traceback.print_exc()
        print(
            f"bigfile-zk: internal error (a bug; please report it with the traceback above): "
            f"{type(e).__name__}: {e}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
