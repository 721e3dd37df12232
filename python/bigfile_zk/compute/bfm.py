"""The compiled-model file ``.bfm`` (``docs/spec/model-file.md``): one file holding what a
provider and a verifier need to rebuild a model's circuit and keys, the quantized program and
its layout parameters, with optional informative metadata.

>>> c = compute.compile(qmodel)                                       # doctest: +SKIP
>>> c.save("model.bfm", metadata={"created_by": "me"})   # atomic; returns its FileCommitment
>>> c = compute.load_model("model.bfm")       # checked, then re-laid with the stored params
>>> c.file_commitment.commitment              # the file's BigFile name (commit_file)

Layout: ``"BFMD"``, a format version byte, the body's length (u32, big-endian), the body (the
canonical JSON of ``{"layout", "metadata"?, "program"}``: sorted keys, no spaces, ASCII), and
the SHA-256 of everything before it. The decoder accepts exactly the bytes the encoder writes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bigfile_zk import _io
from bigfile_zk.errors import DecodeError, ParameterError

from .qmodel import QuantizedModel

if TYPE_CHECKING:
    from bigfile_zk._native import FileCommitment

    from .prover import CompiledModel

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_MODEL_FILE",
    "canonical_json",
    "check_metadata",
    "decode",
    "encode",
    "file_commitment",
    "load_model",
    "source_metadata",
]

MAGIC = b"BFMD"
FORMAT_VERSION = 1
#: A model file read from disk is refused past this size (``_io.MAX_MODEL_FILE``: 64 MiB, ~18M
#: parameters at ~3.5 bytes each; the 1.07M-parameter network of ``benches/README.md``, 2^20
#: rows and 5.6 GiB to prove, would be ~3.8 MB).
MAX_MODEL_FILE = _io.MAX_MODEL_FILE
#: magic (4) + version (1) + body length (4).
HEADER = 9
CHECKSUM = 32

#: The layout parameters' domains (those ``_native.compute_circuit`` accepts).
_PARAM_RANGES = {
    "range_bits": (1, 20),
    "max_clamp_table": (1, 2**24),
    "bucket_min_outputs": (1, 2**32 - 1),
}
_LAYOUT_KEYS = frozenset({*_PARAM_RANGES, "poseidon_gate", "rows", "k", "plonk_version", "lookups"})
_METADATA_KEYS = frozenset({"source", "fidelity", "created_by"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
#: Metadata nested deeper than this is refused when saving, so that the whole body stays
#: within ``_io.MAX_JSON_DEPTH`` when read back.
_MAX_METADATA_DEPTH = 32


def canonical_json(value: object) -> str:
    """The canonical JSON of ``value`` (model-file.md, "Body"): keys sorted, no whitespace,
    ASCII only (``\\uXXXX`` escapes), numbers as Python writes them (shortest round-trip
    floats); ``ValueError`` for NaN or infinities."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


# -- metadata ----------------------------------------------------------------------------------


def _depth(value: object) -> int:
    if isinstance(value, Mapping):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _json_value(value: object, where: str) -> None:
    """``value`` is plain JSON: dicts with str keys, lists, str, int, finite float, bool, None."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{where}: {value} is not a finite number")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ParameterError(f"{where}: key {k!r} is not a string")
            _json_value(v, f"{where}.{k}")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _json_value(v, f"{where}[{i}]")
        return
    raise ParameterError(f"{where}: {type(value).__name__} is not a JSON value")


def check_metadata(metadata: object, *, error: type[ValueError] = ParameterError) -> dict | None:
    """``metadata`` as the file stores it, or ``None`` for none (``None`` or ``{}``).

    Keys (all optional): ``source`` ``{"name": str, "sha256": 64 lower-case hex digits}`` (the
    file the program came from, e.g. the ONNX model: :func:`source_metadata`), ``fidelity`` (a
    JSON object: the quantization's fidelity report), ``created_by`` (a string). Anything else
    raises ``error`` (``ParameterError`` when saving, ``DecodeError`` when reading)."""
    if metadata is None:
        return None
    try:
        if not isinstance(metadata, Mapping):
            raise ParameterError(f"must be a JSON object, got {type(metadata).__name__}")
        extra = sorted(set(metadata) - _METADATA_KEYS, key=str)
        if extra:
            raise ParameterError(
                f"unknown key(s) {', '.join(map(repr, extra))} (known: created_by, fidelity, "
                "source)"
            )
        out: dict[str, Any] = {}
        if "source" in metadata:
            src = metadata["source"]
            if not isinstance(src, Mapping) or set(src) != {"name", "sha256"}:
                raise ParameterError('source must be {"name": ..., "sha256": ...}')
            if not isinstance(src["name"], str) or not src["name"]:
                raise ParameterError("source.name must be a non-empty string")
            if not isinstance(src["sha256"], str) or not _SHA256_HEX.fullmatch(src["sha256"]):
                raise ParameterError("source.sha256 must be 64 lower-case hex digits")
            out["source"] = {"name": src["name"], "sha256": src["sha256"]}
        if "fidelity" in metadata:
            fid = metadata["fidelity"]
            if not isinstance(fid, Mapping):
                raise ParameterError(f"fidelity must be a JSON object, got {type(fid).__name__}")
            _json_value(fid, "fidelity")
            if _depth(fid) > _MAX_METADATA_DEPTH:
                raise ParameterError(f"fidelity is nested deeper than {_MAX_METADATA_DEPTH}")
            out["fidelity"] = json.loads(canonical_json(fid))  # a plain copy
        if "created_by" in metadata:
            if not isinstance(metadata["created_by"], str):
                raise ParameterError("created_by must be a string")
            out["created_by"] = metadata["created_by"]
    except ParameterError as exc:
        raise error(f"metadata: {exc}") from None
    return out or None


def source_metadata(path: str | os.PathLike[str], data: bytes | None = None) -> dict[str, str]:
    """``{"name": <file name>, "sha256": <hex digest of its bytes>}`` for the metadata's
    ``source`` (the name only, not the directory: a path says where the file was, not what).
    ``data``: the file's bytes when the caller has read them already."""
    h = hashlib.sha256()
    if data is not None:
        h.update(data)
    else:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                h.update(block)
    return {"name": os.path.basename(os.fspath(path)) or os.fspath(path), "sha256": h.hexdigest()}


# -- encoding ----------------------------------------------------------------------------------


def _layout(c: CompiledModel) -> dict[str, Any]:
    return {
        "range_bits": c.range_bits,
        "max_clamp_table": c.max_clamp_table,
        "bucket_min_outputs": c.bucket_min_outputs,
        "poseidon_gate": c.poseidon_gate,
        "rows": c.rows,
        "k": c.k,
        "plonk_version": c.version,
        "lookups": c.lookups,
    }


def _body(c: CompiledModel, metadata: dict | None) -> dict[str, Any]:
    body: dict[str, Any] = {"layout": _layout(c), "program": c.model.to_dict()}
    if metadata:
        body["metadata"] = metadata
    return body


def encode(c: CompiledModel, metadata: object = None) -> bytes:
    """The ``.bfm`` bytes of ``c`` with ``metadata`` (checked by :func:`check_metadata`)."""
    body = canonical_json(_body(c, check_metadata(metadata))).encode("ascii")
    if HEADER + len(body) + CHECKSUM > MAX_MODEL_FILE:
        raise ParameterError(
            f"the model file would be {HEADER + len(body) + CHECKSUM} bytes, more than the "
            f"{_io._human(MAX_MODEL_FILE)} a reader accepts"
        )
    head = MAGIC + bytes([FORMAT_VERSION]) + struct.pack(">I", len(body))
    return head + body + hashlib.sha256(head + body).digest()


# -- decoding ----------------------------------------------------------------------------------


def _first_difference(text: str, canonical: str) -> str:
    pairs = enumerate(zip(text, canonical, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(text), len(canonical)))
    lo = max(0, at - 20)
    return f"at character {at}: {text[lo : at + 20]!r}, canonical {canonical[lo : at + 20]!r}"


def _split(data: bytes) -> tuple[bytes, bytes]:
    """Check the envelope; the header and the body."""
    if len(data) < len(MAGIC) or data[:4] != MAGIC:
        raise DecodeError(f"not a model file: it does not start with {MAGIC!r}")
    if len(data) > 4 and data[4] != FORMAT_VERSION:
        raise DecodeError(f"format version {data[4]} (this library reads version {FORMAT_VERSION})")
    if len(data) < HEADER:
        raise DecodeError(f"truncated: {len(data)} bytes, shorter than the {HEADER}-byte header")
    (length,) = struct.unpack(">I", data[5:HEADER])
    want = HEADER + length + CHECKSUM
    if len(data) < want:
        raise DecodeError(f"truncated: {len(data)} bytes, the header announces {want}")
    if len(data) > want:
        extra = len(data) - want
        raise DecodeError(f"{extra} trailing byte{'s' if extra > 1 else ''} after the checksum")
    if hashlib.sha256(data[: HEADER + length]).digest() != data[HEADER + length :]:
        raise DecodeError("bad checksum: the SHA-256 of the header and body does not match")
    return data[:HEADER], data[HEADER : HEADER + length]


def _int_in(value: object, lo: int, hi: int, name: str) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise DecodeError(f"layout.{name}: {value!r} is not an integer in [{lo}, {hi}]")
    return value


def _bool(value: object, name: str) -> bool:
    if type(value) is not bool:
        raise DecodeError(f"layout.{name}: {value!r} is not true or false")
    return value


def decode(data: bytes) -> CompiledModel:
    """The :class:`CompiledModel` of ``.bfm`` bytes. Malformed bytes raise
    :class:`~bigfile_zk.errors.DecodeError` naming the problem: bad magic, unknown version,
    truncated, trailing bytes, bad checksum, a body that is not canonical JSON, missing or
    unknown keys, wrong types, an invalid program (``QuantizedModel.from_dict``'s checks) or
    metadata. A well-formed file whose layout parameters do not lay out the program with this
    version of the library, or lay it out otherwise than the file records (rows, ``2^k``,
    PLONK version, lookups), raises :class:`~bigfile_zk.errors.ParameterError` saying so: its
    keys, and so its ``vk_digest``, would not be the ones its author made."""
    from .prover import compile

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a model file is bytes, got {type(data).__name__}")
    try:
        _, raw = _split(bytes(data))
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            byte = raw[exc.start]
            raise DecodeError(f"body: byte 0x{byte:02x} at {exc.start} is not ASCII") from None
        body = _io.json_object(text, "model file body")
        try:
            again = canonical_json(body)
        except ValueError as exc:  # 1e400 reads as inf
            raise DecodeError(f"body: {exc}") from None
        if again != text:
            raise DecodeError(f"body: not canonical JSON ({_first_difference(text, again)})")
        missing = sorted({"layout", "program"} - body.keys())
        extra = sorted(body.keys() - {"layout", "program", "metadata"})
        if missing or extra:
            raise DecodeError(f"body: missing keys {missing}, unknown keys {extra}")
        if "metadata" in body and not body["metadata"]:
            raise DecodeError("metadata: empty (a file without metadata has no metadata key)")
        metadata = check_metadata(body.get("metadata"), error=DecodeError)
        layout = body["layout"]
        if not isinstance(layout, dict) or layout.keys() != _LAYOUT_KEYS:
            have = sorted(layout) if isinstance(layout, dict) else type(layout).__name__
            raise DecodeError(f"layout: expected the keys {sorted(_LAYOUT_KEYS)}, got {have}")
        recorded = (
            _int_in(layout["rows"], 1, 2**32, "rows"),
            _int_in(layout["k"], 1, 32, "k"),
            _int_in(layout["plonk_version"], 1, 255, "plonk_version"),
            _bool(layout["lookups"], "lookups"),
        )
        # The recorded PLONK version 3 is also a layout choice (packed commitments, plonk.md
        # §8): files made before it existed record 2 and are laid out as version 2 again.
        params = (
            *(_int_in(layout[name], lo, hi, name) for name, (lo, hi) in _PARAM_RANGES.items()),
            _bool(layout["poseidon_gate"], "poseidon_gate"),
            recorded[2] == 3,
        )
        try:
            model = QuantizedModel.from_dict(body["program"])
        except (DecodeError, ParameterError) as exc:  # QuantizationError is a ParameterError
            raise DecodeError(f"program: {exc}") from None
        canonical = canonical_json(model.to_dict())
        written = canonical_json(body["program"])
        if canonical != written:  # e.g. 1 where a scale (a float, 1.0) belongs
            raise DecodeError(
                f"program: not in its canonical form ({_first_difference(written, canonical)})"
            )
    except DecodeError as exc:
        raise DecodeError(f"malformed model file: {exc}") from None
    try:
        c = compile(model, params=params)  # type: ignore[arg-type]
    except (DecodeError, ParameterError) as exc:
        raise ParameterError(
            f"model file: the layout parameters {params} do not lay out its program with this "
            f"version of bigfile_zk ({exc}); recompile the program"
        ) from None
    laid = (c.rows, c.k, c.version, c.lookups)
    if laid != recorded:
        raise ParameterError(
            "model file: this version of bigfile_zk lays out its program as "
            f"{c.rows} rows, 2^{c.k}, PLONK v{c.version}, lookups {c.lookups}; the file records "
            f"{recorded[0]} rows, 2^{recorded[1]}, PLONK v{recorded[2]}, lookups {recorded[3]} "
            "(made by a version with another circuit layout: its keys and vk_digest differ "
            "from this one's); recompile the program"
        )
    return c.with_metadata(metadata)


def load_model(path: str | os.PathLike[str]) -> CompiledModel:
    """The model file at ``path`` (a regular file of at most :data:`MAX_MODEL_FILE` bytes),
    decoded by :func:`decode`: the program re-laid with the stored parameters."""
    return decode(_io.read_bounded(path, MAX_MODEL_FILE, "model file (.bfm)"))


def file_commitment(data: bytes) -> FileCommitment:
    """The BigFile file commitment of model-file bytes (``commit_file`` of the saved file)."""
    from bigfile_zk import commit_bytes

    return commit_bytes(data)
