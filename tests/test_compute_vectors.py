"""The proof-of-compute statement vectors (``docs/spec/vectors/compute.json``,
``docs/spec/proof-of-compute.md`` §1): the committed file is what the reference generator
writes; the native circuit builder, ``CompiledModel.expected_outputs`` and the native output
hash give the same statement; the reference refuses jobs and providers out of range."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bigfile_zk import _native, compute
from bigfile_zk.reference import _gen_compute_vectors as gen
from bigfile_zk.reference import compute as ref
from bigfile_zk.reference.field import from_hex

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors"


@functools.cache
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "compute.json").read_text())
    return data


@functools.cache
def models() -> dict[str, dict[str, Any]]:
    """Every model a vector names: quantization.json's and compute.json's extra ones."""
    quantization = json.loads((VECTORS / "quantization.json").read_text())
    return {m["name"]: m for m in [*quantization["models"], *vectors()["extra_models"]]}


@functools.cache
def compiled(name: str) -> compute.CompiledModel:
    """The model compiled by the Python API, whose ``params`` are ``_native.compute_params``
    of the model JSON (once per model: choosing them lays out candidate circuits)."""
    return compute.compile(compute.QuantizedModel.from_dict(models()[name]["model"]))


def cases() -> list[dict[str, Any]]:
    return list(vectors()["vectors"])


def _id(v: dict[str, Any]) -> str:
    return f"{v['model']}/{v['case']}"


def test_the_committed_vectors_are_the_generators() -> None:
    # The repository's quantization.json (the installed package has no docs/ next to it).
    quantization = json.loads((VECTORS / "quantization.json").read_text())
    assert vectors() == gen.compute_vectors(quantization), (
        "run: PYTHONPATH=python python -m bigfile_zk.reference._gen_compute_vectors"
    )


def test_the_vectors_cover_the_edges() -> None:
    vs = cases()
    assert set(models()) == {v["model"] for v in vs}
    counts = {v["num_outputs"] for v in vs}
    # Both sides of the 12-output boundary, and an odd hashed count (sponge padding).
    assert {12, 13} <= counts and any(c > 13 for c in counts)
    assert all(v["outputs_hashed"] == (v["num_outputs"] > 12) for v in vs)
    jobs = {from_hex(v["job"]) for v in vs}
    providers = {from_hex(v["provider"]) for v in vs}
    assert {0, 2**64 - 1} <= jobs and {0, 2**160 - 1} <= providers
    for extra in vectors()["extra_models"]:  # valid models, in QuantizedModel's own format
        assert compute.QuantizedModel.from_dict(extra["model"]).to_dict() == extra["model"]


@pytest.mark.parametrize("v", cases(), ids=_id)
def test_native_statement_equals_the_vector(v: dict[str, Any]) -> None:
    m = models()[v["model"]]
    case = m["cases"][v["case"]]
    want = [from_hex(h) for h in v["public_inputs"]]
    job, provider = from_hex(v["job"]), from_hex(v["provider"])
    assert want[:3] == [from_hex(v["input_commitment"]), job, provider]

    c = compiled(v["model"])
    program_json = json.dumps(m["model"])
    assert json.loads(c.program_json) == m["model"]
    x = np.array(case["input"], dtype=np.int64)
    _, statement, _ = _native.compute_circuit(
        program_json, [int(a) for a in x.ravel()], job, provider, c.params
    )
    assert [int(s) for s in statement] == want

    # The Python API's output part, from the integer outputs.
    y = c.model.forward_int(x)
    assert c.expected_outputs(y) == want[3:]
    fields = [from_hex(h) for h in case["output_field"]]
    assert fields == ref.to_field(y)
    if v["outputs_hashed"]:
        assert want[3:] == [_native.compute_output_hash(fields)] == [ref.output_hash(fields)]
    else:
        assert want[3:] == fields


def test_output_hash_is_the_leaf_sponge_with_its_own_iv() -> None:
    assert ref.OUTPUTS_IV.to_bytes(21, "big") == b"bigfile_zk/outputs/v1"
    assert from_hex(vectors()["outputs_iv"]) == ref.OUTPUTS_IV
    # An odd count is padded with 0: [a] and [a, 0] hash alike, [a, 1] does not.
    assert ref.output_hash([5]) == ref.output_hash([5, 0]) != ref.output_hash([5, 1])
    for n in (1, 2, 3):
        values = [(k * 7919 - 100) % ref.R for k in range(n)]
        assert ref.output_hash(values) == _native.compute_output_hash(values)
    with pytest.raises(ValueError, match="output"):
        ref.output_hash([ref.R])  # field elements, not reduced silently
    with pytest.raises(ValueError, match="output"):
        ref.output_hash([-1])  # a negative output is r - 1 (to_field), not -1


def _statement(**kwargs: Any) -> list[int]:
    m = models()["dense"]
    inp = m["model"]["input"]
    x = np.array(m["cases"][0]["input"])
    args: dict[str, Any] = {"job": 1, "provider": 2, **kwargs}
    return ref.statement(gen.steps(m["model"]), x, inp["shape"], inp["dtype"], **args)


@pytest.mark.parametrize(
    ("job", "provider", "match"),
    [
        (-1, 0, r"job must satisfy 0 <= job < 2\^64, got -1"),
        (2**64, 0, r"job must satisfy 0 <= job < 2\^64"),
        (0, -1, r"provider must satisfy 0 <= provider < 2\^160, got -1"),
        (0, 2**160, r"provider must satisfy 0 <= provider < 2\^160"),
    ],
)
def test_statement_refuses_job_and_provider_out_of_range(
    job: int, provider: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        _statement(job=job, provider=provider)
    # The native builder refuses them too (no statement exists).
    c = compiled("dense")
    x = np.array(models()["dense"]["cases"][0]["input"]).ravel().tolist()
    with pytest.raises((ValueError, OverflowError)):
        _native.compute_circuit(c.program_json, x, job, provider, c.params)


def test_statement_refuses_bad_types_and_inputs() -> None:
    assert _statement(job=2**64 - 1, provider=2**160 - 1)[1:3] == [2**64 - 1, 2**160 - 1]
    for bad in (True, 1.0, "1", np.int64(1)):
        with pytest.raises(TypeError, match="job"):
            _statement(job=bad)
        with pytest.raises(TypeError, match="provider"):
            _statement(provider=bad)
    with pytest.raises(ValueError, match="declared range"):
        _statement(input_range=(0, 127))  # the vector's input has negative values
    with pytest.raises(ValueError, match="shape"):
        m = models()["dense"]
        ref.statement(gen.steps(m["model"]), np.zeros(5, dtype=np.int64), [6], "int8",
                      job=0, provider=0)  # fmt: skip
