"""File input and output shared by the CLI and the library.

* :func:`read_bounded`: small inputs (JSON, keys) are read only from regular files, checked
  before they are opened and again on the open descriptor (opened without blocking, so a FIFO
  never hangs), and never past a size cap suited to what they hold (``/dev/zero`` and a
  runaway file are refused, not read until memory runs out).
  (Inputs the Rust core reads itself, data, tree, SRS and ``.ptau`` files, get the same
  check there: ``bigfile_zk::files::open_regular``.)
* :func:`check_outputs`: no output may be one of the inputs (by name, through a symlink, or
  as a hardlink to the same inode), nor another output of the same command.
* :func:`write_atomic`: a temporary file and a rename, never a partially written output.
* :func:`json_object`: JSON text to a ``dict``, every malformed input a ``DecodeError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from bigfile_zk.errors import DecodeError, NotARegularFileError, ParameterError

StrPath = str | os.PathLike[str]

#: A commitment JSON (``FileCommitment.to_json``) is ~400 bytes.
MAX_COMMITMENT_JSON = 16 * 2**10
#: A storage proof JSON (``StorageProof.to_json``) is ~2 KiB.
MAX_PROOF_JSON = 64 * 2**10
#: A PLONK verifying key, its bytes (~1 KiB) or its JSON (~2 KiB).
MAX_VERIFYING_KEY = 2**20
#: JSON nested deeper than this is refused before it is parsed: the parser recurses in C, and
#: a process that raised the recursion limit (py_ecc, imported by the reference verifier and
#: the demo, sets 100000) would overflow its stack and crash instead of raising.
MAX_JSON_DEPTH = 64
#: A cached proving key (``storage.keys``): ~9 MB at k = 4, ~16 times that at k = 64.
MAX_PROVING_KEY = 2**30
#: A compiled-model file (``.bfm``) or a quantized program's JSON: parameters are JSON integers,
#: ~3.5 bytes each; 64 MiB holds ~18M of them, more than this prover handles (a 1.07M-parameter
#: network is 2^20 rows and 3.3 GiB to prove).
MAX_MODEL_FILE = 64 * 2**20


def _human(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "a special file"


def _not_regular(path: StrPath, what: str, mode: int) -> NotARegularFileError:
    # The class the core raises for its own inputs (bigfile_zk::files::open_regular).
    return NotARegularFileError(
        f"{os.fspath(path)}: not a regular file ({_kind(mode)}); the {what} must be one"
    )


def require_regular(path: StrPath, what: str) -> None:
    """Refuse ``path`` unless it is a regular file (after symlinks), without opening it: for
    inputs read by the core, which would block on a FIFO or read a device without end."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, what, mode)


def read_bounded(path: StrPath, cap: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``cap`` of them (else ``DecodeError``
    naming the cap). A FIFO, a device or a directory is refused before it is opened; the
    descriptor is opened non-blocking and checked again (the path may have been swapped)."""
    require_regular(path, what)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, what, mode)
        parts: list[bytes] = []
        size = 0
        while size <= cap:
            part = os.read(fd, min(cap + 1 - size, 2**20))
            if not part:
                break
            parts.append(part)
            size += len(part)
    finally:
        os.close(fd)
    if size > cap:
        raise DecodeError(f"{os.fspath(path)} is larger than {_human(cap)}, the limit for a {what}")
    return b"".join(parts)


def read_text(path: StrPath, cap: int, what: str) -> str:
    """:func:`read_bounded`, decoded as UTF-8 (else ``DecodeError``)."""
    data = read_bounded(path, cap, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"{os.fspath(path)} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}): not a {what}"
        ) from None


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not a JSON number")


_JSON_SIGNIFICANT = re.compile(r'[\[\]{}"\\]')


def _too_deep(text: str, limit: int) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit`` (brackets inside strings
    do not count). Linear; only malformed or hostile input gets past the first line."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, -1
    for match in _JSON_SIGNIFICANT.finditer(text):
        ch, pos = match.group(), match.start()
        if in_string:
            if pos == escaped:
                continue
            if ch == "\\":
                escaped = pos + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def json_object(text: object, what: str) -> dict[str, Any]:
    """``text`` (str or UTF-8 bytes) parsed as a JSON object. Anything else, including a
    top-level array, ``null`` or number, nesting deeper than :data:`MAX_JSON_DEPTH`,
    ``NaN``/``Infinity`` and invalid UTF-8, is a ``DecodeError`` naming ``what``."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"malformed {what} JSON: not UTF-8 ({exc.reason})") from None
    if not isinstance(text, str):
        raise DecodeError(f"malformed {what} JSON: expected text, got {type(text).__name__}")
    if _too_deep(text, MAX_JSON_DEPTH):
        raise DecodeError(f"malformed {what} JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except DecodeError as exc:
        raise DecodeError(f"malformed {what} JSON: {exc}") from None
    except RecursionError:
        raise DecodeError(f"malformed {what} JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, int digit limits
        raise DecodeError(f"malformed {what} JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"malformed {what} JSON: not a JSON object ({type(obj).__name__})")
    return obj


def _same(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one file: the same inode when both exist (symlinks
    followed, hardlinks included), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(
    inputs: Iterable[tuple[str, StrPath | None]], outputs: Iterable[tuple[str, StrPath | None]]
) -> None:
    """Refuse (``ParameterError``, before anything is written) an output that is one of the
    inputs or another output. Entries are ``(label, path)``; ``None`` paths are skipped."""
    ins = [(label, os.fspath(p)) for label, p in inputs if p is not None]
    outs = [(label, os.fspath(p)) for label, p in outputs if p is not None]
    for i, (out_label, out) in enumerate(outs):
        for in_label, inp in ins:
            if _same(out, inp):
                raise ParameterError(
                    f"{out_label} {out} is the {in_label} {inp}: it would be overwritten; "
                    "choose another path"
                )
        for other_label, other in outs[:i]:
            if _same(out, other):
                raise ParameterError(
                    f"{out_label} {out} and {other_label} {other} are the same file: "
                    "choose two paths"
                )


@contextlib.contextmanager
def atomic_writer(path: StrPath, *, mode: int | None = 0o644) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content to: a temporary file in its directory,
    renamed over ``path`` when the block ends without an exception (removed otherwise).
    Readers (other processes too) see the old file or the whole new one; an interrupted or
    failed write leaves the old file (or none); a symlink at ``path`` is replaced, not
    followed, and a file hardlinked to the old one is left as it was. A device, FIFO or socket
    at ``path`` (or behind a symlink there) is refused (``NotARegularFileError``), never
    replaced. ``mode``: the new
    file's permissions (``None``: ``mkstemp``'s ``0o600``)."""
    path = os.fspath(path)
    # A device, FIFO or socket there (or behind a symlink) is never renamed over: as root,
    # `--out /dev/null` would replace the device node with a regular file.
    try:
        existing = os.stat(path).st_mode
    except OSError:  # nothing there yet (or a dangling link, replaced like any link)
        existing = None
    if existing is not None and not stat.S_ISREG(existing) and not stat.S_ISDIR(existing):
        raise _not_regular(path, "output", existing)
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: StrPath, data: bytes | str, *, mode: int | None = 0o644) -> None:
    """Write ``data`` (a str as UTF-8) to ``path`` with :func:`atomic_writer`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, mode=mode) as f:
        f.write(raw)
