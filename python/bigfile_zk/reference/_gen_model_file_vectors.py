"""Regenerate ``docs/spec/vectors/model_file.json`` (``docs/spec/model-file.md``).

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_model_file_vectors [OUTPUT_DIR]

Model files (``.bfm``) of programs of ``docs/spec/vectors/quantization.json`` (read from the
repository, not regenerated), written here from the spec: the envelope, the canonical body and
the checksum are encoded by this script, not by ``bigfile_zk.compute.bfm``, so the test that
the library reproduces these bytes checks one against the other. Only the layout's recorded
``rows``/``k``/``plonk_version``/``lookups`` and the chosen parameters come from the library
(``compute.compile``: they are the circuit layout's, and change when it does, as
``vk_digest`` does). File commitments are the pure-Python reference's
(``reference.commitment.commit_bytes``). Then malformed files, each with the error class a
decoder must raise and a fragment of its message. Deterministic.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from . import commitment as rc
from ._gen_vectors import DEFAULT_OUTPUT, write

GENERATOR = "python -m bigfile_zk.reference._gen_model_file_vectors"
QUANTIZATION = DEFAULT_OUTPUT / "quantization.json"

#: The metadata of the second vector (informative; any values of the spec's form).
METADATA = {
    "created_by": "bigfile_zk/vectors/model-file",
    "fidelity": {"agreement": 0.998, "held_out": 500, "max_abs_error": [0.03125, 1e-05]},
    "source": {"name": "cnn.onnx", "sha256": hashlib.sha256(b"cnn.onnx").hexdigest()},
}


def canonical(value: object) -> str:
    """model-file.md, "Body": sorted keys, no whitespace, ASCII, shortest round-trip floats."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def envelope(body: bytes, *, magic: bytes = b"BFMD", version: int = 1) -> bytes:
    head = magic + bytes([version]) + len(body).to_bytes(4, "big")
    return head + body + hashlib.sha256(head + body).digest()


def layout(program: dict[str, Any]) -> dict[str, Any]:
    from bigfile_zk import compute

    c = compute.compile(compute.QuantizedModel.from_dict(program))
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


def body_of(program: dict[str, Any], metadata: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"layout": layout(program), "program": program}
    if metadata is not None:
        body["metadata"] = metadata
    return body


def file_vector(name: str, description: str, program: dict[str, Any], metadata: Any) -> dict:
    data = envelope(canonical(body_of(program, metadata)).encode("ascii"))
    c = rc.commit_bytes(data)
    return {
        "name": name,
        "description": description,
        "program": program,
        "metadata": metadata,
        "bfm": "0x" + data.hex(),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_commitment": f"0x{c.commitment:064x}",
    }


def invalid_vectors(program: dict[str, Any]) -> list[dict[str, Any]]:
    """Malformed files of ``program`` (dense_relu), with the class and a message fragment."""
    body = body_of(program, None)
    text = canonical(body)
    good = envelope(text.encode("ascii"))
    out: list[dict[str, Any]] = []

    def add(name: str, data: bytes, error: str, fragment: str) -> None:
        out.append({"name": name, "bfm": "0x" + data.hex(), "error": error, "message": fragment})

    def edited(change: Any) -> bytes:
        b = copy.deepcopy(body)
        change(b)
        return envelope(canonical(b).encode("ascii"))

    add("bad magic", b"BFMX" + good[4:], "DecodeError", "does not start with")
    add("empty", b"", "DecodeError", "does not start with")
    add("unknown format version 2", envelope(text.encode(), version=2), "DecodeError", "version 2")
    add("truncated header", good[:7], "DecodeError", "truncated")
    add("truncated checksum", good[:-1], "DecodeError", "truncated")
    add("one trailing byte", good + b"\x00", "DecodeError", "trailing")
    add("bad checksum", good[:-1] + bytes([good[-1] ^ 1]), "DecodeError", "checksum")
    add(
        "one weight changed, old checksum",
        envelope(text.encode())[:-32].replace(b"[[-62,", b"[[-61,") + good[-32:],
        "DecodeError",
        "checksum",
    )
    add(
        "a space after a colon",
        envelope(text.replace('"layout":', '"layout": ', 1).encode()),
        "DecodeError",
        "canonical",
    )
    add(
        "keys out of order",
        envelope(
            (
                '{"program":' + canonical(program) + ',"layout":' + canonical(body["layout"]) + "}"
            ).encode()
        ),
        "DecodeError",
        "canonical",
    )
    add(
        "a scale written 1 (it is a number with a fraction: 1.0)",
        envelope(
            canonical({**body, "program": {**program, "input": {**program["input"], "scale": 1.0}}})
            .replace('"scale":1.0', '"scale":1')
            .encode()
        ),
        "DecodeError",
        "canonical",
    )
    add(
        "a non-ASCII byte in a name",
        envelope(text.replace('"name":"fc"', '"name":"f\u00e9"').encode("utf-8")),
        "DecodeError",
        "ASCII",
    )
    add("unknown top-level key", edited(lambda b: b.update(extra=1)), "DecodeError", "extra")
    add("empty metadata", edited(lambda b: b.update(metadata={})), "DecodeError", "metadata")
    add(
        "unknown metadata key",
        edited(lambda b: b.update(metadata={"author": "x"})),
        "DecodeError",
        "author",
    )
    add(
        "layout.range_bits 0",
        edited(lambda b: b["layout"].update(range_bits=0)),
        "DecodeError",
        "range_bits",
    )
    add(
        "layout.poseidon_gate 1 (not a boolean)",
        edited(lambda b: b["layout"].update(poseidon_gate=1)),
        "DecodeError",
        "poseidon_gate",
    )
    add(
        "a weight of 128 (|W| <= 127)",
        edited(lambda b: b["program"]["nodes"][0]["params"]["weight"][0].__setitem__(0, 128)),
        "DecodeError",
        "program",
    )
    add(
        "rows recorded other than the layout's (another version's layout)",
        edited(lambda b: b["layout"].update(rows=b["layout"]["rows"] + 1)),
        "ParameterError",
        "recompile",
    )
    return out


def model_file_vectors() -> dict[str, Any]:
    models = {m["name"]: m["model"] for m in json.loads(QUANTIZATION.read_text())["models"]}
    changed = copy.deepcopy(models["dense_relu"])
    changed["nodes"][0]["params"]["weight"][0][0] += 1
    return {
        "description": "Model files (.bfm) of quantization.json's programs: the bytes, their "
        "SHA-256 and their BigFile file commitment (default layout); then malformed files "
        "with the error a decoder raises (class and a message fragment)",
        "generator": GENERATOR,
        "spec": "model-file.md",
        "files": [
            file_vector(
                "dense_relu",
                "quantization.json's dense_relu, the layout compile() chooses, no metadata",
                models["dense_relu"],
                None,
            ),
            file_vector(
                "dense_relu_weight",
                "dense_relu with its first weight -62 -> -61: other bytes, other commitment",
                changed,
                None,
            ),
            file_vector(
                "cnn_metadata",
                "quantization.json's cnn with every metadata key",
                models["cnn"],
                METADATA,
            ),
        ],
        "invalid": invalid_vectors(models["dense_relu"]),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "model_file.json", model_file_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
