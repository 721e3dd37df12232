"""The ``bigfile-zk`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from collections.abc import Sequence

import bigfile_zk
from bigfile_zk import FileCommitment, _io
from bigfile_zk.errors import (
    BigFileZkError,
    DecodeError,
    InsecureSRSError,
    InsecureSRSWarning,
    InternalError,
)

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


def _cmd_commit(args: argparse.Namespace) -> int:
    _io.check_outputs([("file", args.file)], [("--out", args.out), ("--tree", args.tree)])
    start = time.perf_counter()
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


def _storage_srs(args: argparse.Namespace) -> bigfile_zk.SRS | None:
    """The SRS of ``--ptau`` (just the powers the parameter set needs), or None: the insecure
    test SRS, which warns."""
    if not args.ptau:
        return None
    from bigfile_zk import storage

    return bigfile_zk.SRS.from_ptau(args.ptau, max_degree=storage.srs_degree(args.k))


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
        srs=_storage_srs(args),
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
    if value.startswith("0x") or value.isdigit():
        return storage.parse_commitment(value)
    with open(text, encoding="utf-8") as f:
        return FileCommitment.from_json(f.read()).commitment


def _verifying_srs(args: argparse.Namespace, command: str) -> bigfile_zk.SRS | None:
    """The SRS a verifier trusts: ``--ptau``'s, or (None) the insecure test SRS with
    ``--insecure-test-srs``; neither is a one-line error naming both flags."""
    if args.ptau:
        srs = _storage_srs(args)
        if srs is not None and srs.is_insecure:  # a test SRS saved as a .ptau
            raise _insecure_refused(f"{command} with {args.ptau}")
        return srs
    if not args.insecure_test_srs:
        raise _insecure_refused(f"{command} without --ptau")
    return None


def _srs_note(args: argparse.Namespace) -> str:
    if args.ptau:
        return f"ceremony file {args.ptau}"
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
    srs = _verifying_srs(args, "storage verify")
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
    srs = _verifying_srs(args, "storage verifier")
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

    print(
        "bigfile_zk demo: commit a file, register it on chain, prove it is held for the "
        "chain's challenge, verify in Rust, in the Python reference and on the EVM",
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
    return 0 if report.ok else 1


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


def _add_insecure_flag(p: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    p.add_argument(
        "--insecure-test-srs",
        action="store_true",
        help="accept a key made with the insecure test SRS (anyone can forge proofs against "
        "it): tests and demos only",
    )


def _add_storage_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    storage_parser = sub.add_parser("storage", help="proof-of-storage: commit, prove, verify")
    ssub = storage_parser.add_subparsers(dest="storage_command", required=True)

    def common(p: argparse.ArgumentParser, *, verifying: bool = False) -> None:
        p.add_argument(
            "--k", type=int, default=16, choices=(4, 16, 64), help="challenges per proof (16)"
        )
        if not verifying:
            p.add_argument(
                "--ptau", help="a snarkjs .ptau ceremony file (default: the insecure test SRS)"
            )
            return
        srs = p.add_mutually_exclusive_group()
        srs.add_argument("--ptau", help="the snarkjs .ptau ceremony file the verifier trusts")
        _add_insecure_flag(srs)

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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_commit)

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

    p = sub.add_parser(
        "demo", help="the proof-of-storage flow end to end (commit, chain, prove, verify x3)"
    )
    p.add_argument("--file", help="file to use (default: a fresh sample file of --size bytes)")
    p.add_argument("--size", default="16M", help="sample file size, e.g. 1M, 256M, 1G (16M)")
    p.add_argument(
        "--k", type=int, default=16, choices=(4, 16, 64), help="challenges per proof (16)"
    )
    p.add_argument("--ptau", help="a snarkjs .ptau ceremony file (default: insecure test SRS)")
    p.add_argument("--workdir", help="keep the sample file, tree and proof.json here")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
