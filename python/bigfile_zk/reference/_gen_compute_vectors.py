"""Regenerate ``docs/spec/vectors/compute.json`` (``docs/spec/proof-of-compute.md`` §1).

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_compute_vectors [OUTPUT_DIR]

The public statement ``[C_x, job, provider, y_0 … y_{m-1}]`` (``m <= 12``) or
``[C_x, job, provider, H_y]`` (``m > 12``) of every model and input case of
``docs/spec/vectors/quantization.json`` (read from the repository, not regenerated: the models
are named by ``model`` and the inputs by their ``case`` index there), with the job and provider
of ``JOB_RULE``/``PROVIDER_RULE``. Two more models, ``max_pool_clip`` 's program on inputs of 12
and 13 channels, sit on both sides of the 12-output boundary (the 13 outputs also pad the
sponge); they are written out in ``extra_models`` in the format of ``quantization.json``.

Only the pure-Python reference is used (``reference.compute.statement``), and the oracle's
outputs are checked against ``quantization.json`` on the way. Deterministic: no RNG.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import compute as ref
from ._gen_vectors import DEFAULT_OUTPUT, write
from .field import to_hex

GENERATOR = "python -m bigfile_zk.reference._gen_compute_vectors (pure-Python reference)"
LABEL = "bigfile_zk/vectors/compute"
QUANTIZATION = DEFAULT_OUTPUT / "quantization.json"

JOB_RULE = (
    'rule "min": 0; rule "max": 2^64 - 1; rule "sha256": int.from_bytes(sha256('
    'f"bigfile_zk/vectors/compute/{model}/{case}/job".encode()).digest(), "big") % 2^64'
)
PROVIDER_RULE = (
    'rule "min": 2^160 - 1; rule "max": 0; rule "sha256": int.from_bytes(sha256('
    'f"bigfile_zk/vectors/compute/{model}/{case}/provider".encode()).digest(), "big") % 2^160'
)
INT_RULE = (
    'value[k] = lo + int.from_bytes(sha256(f"bigfile_zk/vectors/compute/{model}/input/{k}"'
    '.encode()).digest(), "big") % (hi - lo + 1), k the C-order index'
)

#: (name, base model in quantization.json, new input shape, description).
EXTRA_MODELS: list[tuple[str, str, tuple[int, ...], str]] = [
    (
        "max_pool_clip_12",
        "max_pool_clip",
        (12, 2, 2),
        "max_pool_clip's program on a [12, 2, 2] input: 12 outputs, the most that are public",
    ),
    (
        "max_pool_clip_13",
        "max_pool_clip",
        (13, 2, 2),
        "max_pool_clip's program on a [13, 2, 2] input: 13 outputs, the fewest that are hashed "
        "(an odd count: the sponge pads one 0)",
    ),
]


def _sha(label: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{LABEL}/{label}".encode()).digest(), "big")


def sha_ints(model: str, shape: Sequence[int], lo: int, hi: int) -> np.ndarray:
    """``INT_RULE`` for every element of ``shape``, as int64."""
    n = int(np.prod(shape))
    vals = [lo + _sha(f"{model}/input/{k}") % (hi - lo + 1) for k in range(n)]
    return np.array(vals, dtype=np.int64).reshape(tuple(shape))


def job_and_provider(model: str, case: int, rule: str) -> tuple[int, int]:
    """``JOB_RULE`` and ``PROVIDER_RULE``: the extremes on the all-minimum and all-maximum
    inputs, hashes otherwise."""
    if rule == "min":
        return 0, ref.PROVIDER_LIMIT - 1
    if rule == "max":
        return ref.JOB_LIMIT - 1, 0
    job = _sha(f"{model}/{case}/job") % ref.JOB_LIMIT
    return job, _sha(f"{model}/{case}/provider") % ref.PROVIDER_LIMIT


def steps(model: Mapping[str, Any]) -> list[ref.Step]:
    """The reference program of a ``bigfile_zk.QuantizedModel`` JSON object (``nodes`` in
    order; only ``name``, ``inputs``, ``op`` and ``params`` matter to the integer program)."""
    return [
        ref.Step(n["name"], tuple(n["inputs"]), ref.op_from_params(n["op"], n["params"]))
        for n in model["nodes"]
    ]


def reshaped(model: Mapping[str, Any], shape: Sequence[int]) -> dict[str, Any]:
    """``model`` with another input shape: every node's output shape follows from its op."""
    out = copy.deepcopy(dict(model))
    out["input"]["shape"] = list(shape)
    shapes = {out["input"]["name"]: tuple(shape)}
    for node, step in zip(out["nodes"], steps(out), strict=True):
        shapes[step.name] = step.op.output_shape([shapes[n] for n in step.inputs])
        node["output"]["shape"] = list(shapes[step.name])
    return out


def _nested(a: np.ndarray) -> Any:
    return np.asarray(a, dtype=np.int64).tolist()


def extra_models(quantization: Mapping[str, Any]) -> list[dict[str, Any]]:
    by_name = {m["name"]: m for m in quantization["models"]}
    out = []
    for name, base, shape, description in EXTRA_MODELS:
        model = reshaped(by_name[base]["model"], shape)
        lo, hi = model["input"]["range"]
        x = sha_ints(name, shape, lo, hi)
        y = ref.run(steps(model), x, input_name=model["input"]["name"])
        case = {
            "rule": "sha256",
            "input": _nested(x),
            "input_bytes": "0x" + ref.input_bytes(x, shape, model["input"]["dtype"]).hex(),
            "output": _nested(y),
            "output_field": [to_hex(v) for v in ref.to_field(y)],
        }
        out.append({"name": name, "description": description, "model": model, "cases": [case]})
    return out


def statement_vectors(models: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in models:
        name, model = m["name"], m["model"]
        program = steps(model)
        inp = model["input"]
        for index, case in enumerate(m["cases"]):
            x = np.array(case["input"], dtype=np.int64)
            # The oracle on the way: the bytes and outputs quantization.json has.
            data = ref.input_bytes(x, inp["shape"], inp["dtype"])
            assert "0x" + data.hex() == case["input_bytes"], (name, index)
            y = ref.run(program, x, input_name=inp["name"])
            assert _nested(y) == case["output"], (name, index)
            job, provider = job_and_provider(name, index, case["rule"])
            public = ref.statement(
                program,
                x,
                inp["shape"],
                inp["dtype"],
                job=job,
                provider=provider,
                input_range=tuple(inp["range"]),
                input_name=inp["name"],
            )
            m_out = int(y.size)
            hashed = m_out > ref.MAX_PUBLIC_OUTPUTS
            assert len(public) == 3 + (1 if hashed else m_out)
            out.append(
                {
                    "model": name,
                    "case": index,
                    "rule": case["rule"],
                    "job": to_hex(job),
                    "provider": to_hex(provider),
                    "input_commitment": to_hex(public[0]),
                    "num_outputs": m_out,
                    "outputs_hashed": hashed,
                    "public_inputs": [to_hex(v) for v in public],
                }
            )
    return out


def compute_vectors(quantization: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The contents of ``compute.json``; ``quantization`` defaults to the repository's
    ``docs/spec/vectors/quantization.json``."""
    if quantization is None:
        quantization = json.loads(QUANTIZATION.read_text(encoding="utf-8"))
    extra = extra_models(quantization)
    return {
        "description": (
            "proof-of-compute public statements (docs/spec/proof-of-compute.md §1): "
            "[C_x, job, provider, y_0 … y_{m-1}] for m <= max_public_outputs, else "
            "[C_x, job, provider, H_y]; models and inputs by name and case index from "
            "quantization.json, or from extra_models here"
        ),
        "generator": GENERATOR,
        "spec": "proof-of-compute.md",
        "max_public_outputs": ref.MAX_PUBLIC_OUTPUTS,
        "outputs_iv": to_hex(ref.OUTPUTS_IV),
        "job_rule": JOB_RULE,
        "provider_rule": PROVIDER_RULE,
        "int_rule": INT_RULE,
        "extra_models": extra,
        "vectors": statement_vectors([*quantization["models"], *extra]),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "compute.json", compute_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
