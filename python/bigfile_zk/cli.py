"""The ``bigfile-zk`` command line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import bigfile_zk
from bigfile_zk import FileCommitment
from bigfile_zk.errors import BigFileZkError


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


def _progress_flag(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None


def _cmd_commit(args: argparse.Namespace) -> int:
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
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(c.to_json() + "\n")
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
    with open(args.commitment, encoding="utf-8") as f:
        c = FileCommitment.from_json(f.read())
    opening = c.open(args.file, args.index, tree=args.tree, progress=_progress_flag(args))
    print(opening.to_json())
    return 0


def _read_vk(path: str) -> bigfile_zk.plonk.VerifyingKey:
    """A verifying key file: its bytes (``BFVK…``) or its JSON."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"BFVK"):
        return bigfile_zk.plonk.VerifyingKey.from_bytes(data)
    return bigfile_zk.plonk.VerifyingKey.from_json(data.decode("utf-8"))


def _cmd_verifier(args: argparse.Namespace) -> int:
    source = _read_vk(args.vk).to_solidity(args.name)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(source)
        print(f"wrote {args.out} (contract {args.name}, solc 0.8.28)", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return 0


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
    p.set_defaults(func=_cmd_verifier)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("bigfile-zk: interrupted", file=sys.stderr)
        return 130
    except (BigFileZkError, OSError, ValueError) as e:
        print(f"bigfile-zk: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
