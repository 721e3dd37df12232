"""The compiled-model file ``.bfm`` (``docs/spec/model-file.md``): the vectors byte for byte,
round trips, every refusal of the strict decoder, the layout check, metadata, the file
commitment as the model's BigFile name, and what changes it."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bigfile_zk
from bigfile_zk import SRS, compute
from bigfile_zk.compute import bfm
from bigfile_zk.errors import (
    DecodeError,
    InsecureSRSWarning,
    NotARegularFileError,
    ParameterError,
)
from bigfile_zk.reference import commitment as rc

SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors"
VECTORS = json.loads((SPEC / "model_file.json").read_text())
PROGRAMS = {
    m["name"]: m["model"] for m in json.loads((SPEC / "quantization.json").read_text())["models"]
}


@functools.cache
def compiled(name: str) -> compute.CompiledModel:
    return compute.compile(compute.QuantizedModel.from_dict(PROGRAMS[name]))


def rewrap(body: bytes | str, version: int = 1) -> bytes:
    """A file around ``body`` with a correct length and checksum (so that the body's checks run)."""
    raw = body.encode() if isinstance(body, str) else body
    head = b"BFMD" + bytes([version]) + struct.pack(">I", len(raw))
    return head + raw + hashlib.sha256(head + raw).digest()


def body_of(data: bytes) -> dict[str, Any]:
    return json.loads(data[9:-32])


# -- the vectors -----------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["files"], ids=lambda v: v["name"])
def test_vectors_byte_for_byte(vector: dict[str, Any], tmp_path: Path) -> None:
    data = bytes.fromhex(vector["bfm"].removeprefix("0x"))
    assert len(data) == vector["size"] and hashlib.sha256(data).hexdigest() == vector["sha256"]
    c = compute.compile(compute.QuantizedModel.from_dict(vector["program"]))
    assert c.with_metadata(vector["metadata"]).to_bytes() == data
    loaded = compute.CompiledModel.from_bytes(data)
    assert loaded == c and loaded.params == c.params and loaded.metadata == vector["metadata"]
    assert loaded.to_bytes() == data
    commitment = int(vector["file_commitment"], 16)
    assert loaded.file_commitment.commitment == commitment
    assert rc.commit_bytes(data).commitment == commitment  # the reference agrees
    path = tmp_path / "model.bfm"
    fc = c.save(path, metadata=vector["metadata"])
    assert path.read_bytes() == data
    assert fc == bigfile_zk.commit_file(path) and fc.commitment == commitment


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_are_refused(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["bfm"].removeprefix("0x"))
    error = {"DecodeError": DecodeError, "ParameterError": ParameterError}[vector["error"]]
    with pytest.raises(error) as info:
        compute.CompiledModel.from_bytes(data)
    assert vector["message"] in str(info.value)
    if error is ParameterError:
        assert not isinstance(info.value, DecodeError)


def test_the_vectors_cover_the_decoder() -> None:
    """Every refusal the spec lists has a vector."""
    names = " ".join(v["name"] for v in VECTORS["invalid"])
    for word in (
        "magic",
        "version",
        "truncated",
        "trailing",
        "checksum",
        "space",
        "order",
        "scale",
        "ASCII",
        "unknown",
        "metadata",
        "range_bits",
        "weight",
        "rows",
    ):
        assert word in names, word


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_round_trip(name: str, tmp_path: Path) -> None:
    c = compiled(name)
    data = c.to_bytes()
    assert data[:5] == b"BFMD\x01" and len(data) == 41 + struct.unpack(">I", data[5:9])[0]
    loaded = compute.CompiledModel.from_bytes(data)
    assert loaded == c and loaded.digest == c.digest and loaded.metadata is None
    assert (loaded.rows, loaded.k, loaded.version, loaded.lookups) == (
        c.rows,
        c.k,
        c.version,
        c.lookups,
    )
    assert loaded.to_bytes() == data
    path = tmp_path / f"{name}.bfm"
    assert c.save(path).commitment == bigfile_zk.commit_file(path).commitment
    assert compute.load_model(path) == c
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left


def test_forced_params_are_kept() -> None:
    """A layout forced with compile(params=) (here: arithmetic Poseidon) comes back as stored,
    not as compile() would choose it."""
    c = compiled("dense_relu")
    forced = compute.compile(c.model, params=(*c.params[:3], not c.poseidon_gate))
    loaded = compute.CompiledModel.from_bytes(forced.to_bytes())
    assert loaded.params == forced.params != c.params
    assert loaded.rows == forced.rows and loaded.digest == forced.digest != c.digest


def test_a_version_2_file_is_laid_out_as_version_2() -> None:
    """Files written before spec version 3 record plonk_version 2: they load as version-2
    circuits (the same keys as when they were written), not as the packed default."""
    c = compiled("dense_relu")
    assert c.version == 3 and c.packed
    v2 = compute.compile(c.model, params=(*c.params[:4], False))
    assert v2.version == 2 and not v2.packed and v2.rows == c.rows
    loaded = compute.CompiledModel.from_bytes(v2.to_bytes())
    assert loaded == v2 and loaded.version == 2 and loaded.params == v2.params
    assert loaded.digest == v2.digest != c.digest


def test_bytes_accepted_types() -> None:
    data = compiled("dense").to_bytes()
    assert compute.CompiledModel.from_bytes(bytearray(data)) == compiled("dense")
    assert compute.CompiledModel.from_bytes(memoryview(data)) == compiled("dense")
    with pytest.raises(TypeError, match="bytes"):
        compute.CompiledModel.from_bytes(data.hex())  # type: ignore[arg-type]


# -- identities ------------------------------------------------------------------------------


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return SRS.insecure_for_testing(compiled("dense_relu").srs_max_degree, 5)


def test_one_weight_changes_the_commitment_and_the_vk_digest() -> None:
    c = compiled("dense_relu")
    program = json.loads(json.dumps(PROGRAMS["dense_relu"]))
    program["nodes"][0]["params"]["weight"][1][2] += 1
    other = compute.compile(compute.QuantizedModel.from_dict(program))
    data = other.to_bytes()
    assert compute.CompiledModel.from_bytes(data) == other  # a valid, checksummed file
    assert other.params == c.params and len(data) == len(c.to_bytes())
    assert other.file_commitment.commitment != c.file_commitment.commitment
    assert other.digest != c.digest
    assert other.vk_digest(srs(), cache=False) != c.vk_digest(srs(), cache=False)


def test_metadata_changes_only_the_file_commitment() -> None:
    c = compiled("dense_relu")
    tagged = c.with_metadata({"created_by": "someone else"})
    assert tagged == c and tagged.digest == c.digest
    assert tagged.file_commitment.commitment != c.file_commitment.commitment
    assert tagged.vk_digest(srs(), cache=False) == c.vk_digest(srs(), cache=False)


# -- the decoder's refusals -------------------------------------------------------------------


def test_every_truncation_is_refused() -> None:
    data = compiled("dense_relu").to_bytes()
    for n in range(len(data)):
        with pytest.raises(DecodeError, match="malformed model file"):
            compute.CompiledModel.from_bytes(data[:n])


def test_every_bit_flip_is_refused() -> None:
    """The checksum covers every byte (a flipped digit would otherwise be another model)."""
    data = compiled("dense_relu").to_bytes()
    for i in range(len(data)):
        for bit in (0, 5):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            with pytest.raises(DecodeError):
                compute.CompiledModel.from_bytes(bytes(flipped))


def test_the_length_field() -> None:
    data = compiled("dense_relu").to_bytes()
    (length,) = struct.unpack(">I", data[5:9])
    for other, message in ((length + 1, "truncated"), (length - 1, "trailing byte after")):
        with pytest.raises(DecodeError, match=message):
            compute.CompiledModel.from_bytes(data[:5] + struct.pack(">I", other) + data[9:])
    with pytest.raises(DecodeError, match="2 trailing bytes"):
        compute.CompiledModel.from_bytes(data + b"\0\0")


def canonical_body(name: str = "dense_relu") -> str:
    return compiled(name).to_bytes()[9:-32].decode()


NON_CANONICAL = {
    "pretty-printed": lambda t: json.dumps(json.loads(t), sort_keys=True, indent=1),
    "trailing newline": lambda t: t + "\n",
    "leading space": lambda t: " " + t,
    "a float in exponent form": lambda t: t.replace('"scale":0.02', '"scale":2e-2'),
    "a float with a trailing zero": lambda t: t.replace('"scale":0.02', '"scale":0.020'),
    "an escaped slash": lambda t: t.replace('"input"', '"inp\\/ut"', 1),
    "an escaped letter": lambda t: t.replace('"dense"', '"\\u0064ense"'),
    "a duplicate key": lambda t: t.replace('{"layout":', '{"layout":{},"layout":', 1),
    "-0 for 0": lambda t: t.replace('"zero_point":0', '"zero_point":-0', 1),
    "1e400 for a scale": lambda t: t.replace('"scale":0.02', '"scale":1e400'),
    "an integer for a float": lambda t: t.replace('"scale":0.02', '"scale":1'),
}


@pytest.mark.parametrize("name", sorted(NON_CANONICAL))
def test_non_canonical_bodies_are_refused(name: str) -> None:
    text = canonical_body()
    edited = NON_CANONICAL[name](text)
    assert edited != text
    with pytest.raises(
        DecodeError, match=r"not canonical|not in its canonical form|Out of range float"
    ):
        compute.CompiledModel.from_bytes(rewrap(edited))


def test_body_must_be_an_ascii_json_object() -> None:
    for body, message in (
        (b"[1, 2]", "not a JSON object"),
        (b"{", "malformed model file body JSON"),
        (b"\xff{}", "not ASCII"),
        (b"{}", "missing keys"),
        (b"[" * 100 + b"]" * 100, "nested deeper"),
        (b'{"layout":NaN}', "not a JSON number"),
    ):
        with pytest.raises(DecodeError, match=message):
            compute.CompiledModel.from_bytes(rewrap(body))


def edit(change: Any, name: str = "dense_relu") -> bytes:
    body = body_of(compiled(name).to_bytes())
    change(body)
    return rewrap(bfm.canonical_json(body))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("layout"), "missing keys \\['layout'\\]"),
        (lambda b: b.pop("program"), "missing keys \\['program'\\]"),
        (lambda b: b.update(version=1), "unknown keys \\['version'\\]"),
        (lambda b: b.update(layout=[]), "layout: expected the keys"),
        (lambda b: b["layout"].pop("rows"), "layout: expected the keys"),
        (lambda b: b["layout"].update(extra=0), "layout: expected the keys"),
        (lambda b: b["layout"].update(range_bits=21), "range_bits: 21"),
        (lambda b: b["layout"].update(range_bits=True), "range_bits: True"),
        (lambda b: b["layout"].update(max_clamp_table=0), "max_clamp_table: 0"),
        (lambda b: b["layout"].update(max_clamp_table=2**24 + 1), "max_clamp_table"),
        (lambda b: b["layout"].update(bucket_min_outputs=0), "bucket_min_outputs: 0"),
        (lambda b: b["layout"].update(bucket_min_outputs=2**32), "bucket_min_outputs"),
        (lambda b: b["layout"].update(poseidon_gate="true"), "poseidon_gate"),
        (lambda b: b["layout"].update(lookups=0), "lookups"),
        (lambda b: b["layout"].update(k=0), "k: 0"),
        (lambda b: b["layout"].update(rows=0), "rows: 0"),
        (lambda b: b["layout"].update(rows=1.5), "rows: 1.5"),
        (lambda b: b["layout"].update(plonk_version=256), "plonk_version"),
        (lambda b: b.update(metadata={}), "metadata: empty"),
        (lambda b: b.update(metadata=[]), "metadata: empty"),
        (lambda b: b.update(metadata="x"), "metadata: must be a JSON object"),
        (lambda b: b.update(metadata={"created_by": 1}), "created_by must be a string"),
        (lambda b: b.update(metadata={"fidelity": [1]}), "fidelity must be a JSON object"),
        (lambda b: b.update(metadata={"source": {"name": "a"}}), "source must be"),
        (
            lambda b: b.update(metadata={"source": {"name": "", "sha256": "0" * 64}}),
            "source.name",
        ),
        (
            lambda b: b.update(metadata={"source": {"name": "a", "sha256": "A" * 64}}),
            "source.sha256",
        ),
        (lambda b: b.update(program=[]), "program: model must be an object"),
        (lambda b: b["program"].update(version=2), "program: model: expected format"),
        (lambda b: b["program"]["nodes"][0].update(op="conv2d"), "program: "),
        (lambda b: b["program"]["input"].update(shape=[6]), "program: "),
        (lambda b: b["program"]["input"].update(scale=-1.0), "program: input: "),
        (
            lambda b: b["program"]["nodes"][0]["params"]["multiplier"].__setitem__(0, 2**31),
            "program: ",
        ),
        # Well-formed, but fails the bounds analysis (QuantizationError): a compiled model never
        # has such a program, so the file is malformed.
        (
            lambda b: b["program"]["nodes"][0]["params"].update(bias=[2**31 - 1, 0, 0]),
            "program: .*2\\^31",
        ),
    ],
)
def test_body_refusals_name_the_field(change: Any, message: str) -> None:
    with pytest.raises(DecodeError, match=message) as info:
        compute.CompiledModel.from_bytes(edit(change))
    assert str(info.value).startswith("malformed model file: ")


def test_an_unknown_version_is_refused_before_the_body() -> None:
    with pytest.raises(DecodeError, match="format version 2 \\(this library reads version 1\\)"):
        compute.CompiledModel.from_bytes(rewrap(canonical_body(), version=2))
    with pytest.raises(DecodeError, match="does not start with"):
        compute.CompiledModel.from_bytes(b"BFM")
    with pytest.raises(DecodeError, match="does not start with"):
        compute.CompiledModel.from_bytes(b'{"layout": 1}')


# -- the layout check ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["rows", "k", "plonk_version", "lookups"])
def test_a_layout_of_another_version_is_refused(field: str) -> None:
    def change(b: dict[str, Any]) -> None:
        v = b["layout"][field]
        b["layout"][field] = (not v) if isinstance(v, bool) else v + 1

    with pytest.raises(ParameterError, match="recompile the program") as info:
        compute.CompiledModel.from_bytes(edit(change))
    assert not isinstance(info.value, DecodeError)
    assert "another circuit layout" in str(info.value)


def test_params_that_no_longer_lay_out_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if this version of the library could not lay the program out with the stored params
    (a parameter it no longer supports)."""
    from bigfile_zk.compute import prover

    data = compiled("dense_relu").to_bytes()

    def refuse(text: str, values: object, job: int, provider: int, params: object) -> None:
        raise ParameterError("range_bits 10 is no longer supported")

    monkeypatch.setattr(prover._native, "compute_circuit", refuse)
    with pytest.raises(ParameterError, match=r"do not lay out its program.*no longer supported"):
        compute.CompiledModel.from_bytes(data)


# -- metadata ------------------------------------------------------------------------------------


def test_metadata_round_trip_and_source(tmp_path: Path) -> None:
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"not really onnx")
    md = {
        "source": bfm.source_metadata(onnx),
        "fidelity": {"agreement": 0.995, "per_class": [1.0, 0.5], "note": "é ☃ \U0001f600"},
        "created_by": "test",
    }
    assert md["source"] == {
        "name": "model.onnx",
        "sha256": hashlib.sha256(b"not really onnx").hexdigest(),
    }
    assert bfm.source_metadata(onnx, b"other") != md["source"]
    c = compiled("dense_relu").with_metadata(md)
    data = c.to_bytes()
    assert data[9:-32].isascii()
    assert compute.CompiledModel.from_bytes(data).metadata == md
    assert compiled("dense_relu").with_metadata({}).metadata is None
    assert compiled("dense_relu").with_metadata({}).to_bytes() == compiled("dense_relu").to_bytes()
    # save(metadata=) writes it; the model's own metadata is the default.
    path = tmp_path / "m.bfm"
    c.save(path)
    assert compute.load_model(path).metadata == md
    compiled("dense_relu").save(path, metadata={"created_by": "x"})
    assert compute.load_model(path).metadata == {"created_by": "x"}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ([], "must be a JSON object"),
        ({"author": "x"}, "unknown key"),
        ({1: "x"}, "unknown key"),
        ({"created_by": None}, "created_by must be a string"),
        ({"fidelity": {"x": float("nan")}}, "fidelity.x: nan is not a finite number"),
        ({"fidelity": {"x": [float("inf")]}}, "fidelity.x\\[0\\]"),
        ({"fidelity": {"x": {1: 2}}}, "key 1 is not a string"),
        ({"fidelity": {"x": (1, 2)}}, "tuple is not a JSON value"),
        ({"fidelity": {"x": b"raw"}}, "bytes is not a JSON value"),
        ({"fidelity": functools.reduce(lambda d, _: {"a": d}, range(40), {})}, "nested deeper"),
        ({"source": {"name": "a", "sha256": "xyz"}}, "source.sha256"),
        ({"source": {"name": "a", "sha256": "0" * 64, "size": 1}}, "source must be"),
    ],
)
def test_bad_metadata_is_refused_when_saving(metadata: Any, message: str, tmp_path: Path) -> None:
    path = tmp_path / "m.bfm"
    with pytest.raises(ParameterError, match=message):
        compiled("dense_relu").save(path, metadata=metadata)
    assert not path.exists() and os.listdir(tmp_path) == []


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=8),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(st.text(max_size=4), children, max_size=3)
            ),
            max_leaves=12,
        ),
        max_size=4,
    ),
    st.text(st.characters(exclude_categories=[])),  # lone surrogates and controls included
)
def test_any_json_metadata_round_trips_byte_for_byte(fidelity: dict[str, Any], who: str) -> None:
    c = compiled("dense").with_metadata({"fidelity": fidelity, "created_by": who})
    data = c.to_bytes()
    loaded = compute.CompiledModel.from_bytes(data)
    assert loaded.to_bytes() == data
    assert bfm.canonical_json(loaded.metadata) == bfm.canonical_json(c.metadata)


# -- files ----------------------------------------------------------------------------------------


def test_load_model_reads_regular_files_only_and_caps_the_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.bfm"
    compiled("dense_relu").save(path)
    with pytest.raises(NotARegularFileError):
        compute.load_model(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        with pytest.raises(NotARegularFileError, match="FIFO"):
            compute.load_model(fifo)
    with pytest.raises(FileNotFoundError):
        compute.load_model(tmp_path / "missing.bfm")
    monkeypatch.setattr(bfm, "MAX_MODEL_FILE", path.stat().st_size - 1)
    with pytest.raises(DecodeError, match="larger than"):
        compute.load_model(path)


def test_save_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "m.bfm"
    path.write_bytes(b"old")
    link = tmp_path / "link"
    os.link(path, link)
    compiled("dense_relu").save(path)
    assert compute.load_model(path) == compiled("dense_relu")
    assert link.read_bytes() == b"old"  # a new file, renamed over the path
    assert sorted(os.listdir(tmp_path)) == ["link", "m.bfm"]


def test_an_oversized_model_is_refused_when_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bfm, "MAX_MODEL_FILE", 100)
    with pytest.raises(ParameterError, match="more than"):
        compiled("dense_relu").to_bytes()
