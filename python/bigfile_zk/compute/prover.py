"""Proving quantized inference (``docs/spec/proof-of-compute.md``): compile a
:class:`QuantizedModel` into its circuit, make keys, prove one input, verify a claim.

The statement is ``[C_x, job, provider, y_0 … y_{m-1}]`` (or ``[C_x, job, provider, H_y]`` past
12 outputs): the input's BigFile file commitment, the job, the provider's address, and the
outputs as field elements (``r + v`` for a negative ``v``). Verification checks the statement
the caller expects; nothing is read from the proof about itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from bigfile_zk import _native
from bigfile_zk._native import SRS, Circuit, Proof, ProvingKey, VerifyingKey
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import ParameterError

from .qmodel import QuantizedModel

__all__ = ["MAX_PUBLIC_OUTPUTS", "CompiledModel", "ComputeProof", "compile", "verify"]

#: Outputs beyond this many are hashed into one public input (spec §1).
MAX_PUBLIC_OUTPUTS = 12

_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def _address(provider: object) -> int:
    if isinstance(provider, str):
        text = provider.lower().removeprefix("0x")
        if len(text) != 40 or any(c not in "0123456789abcdef" for c in text):
            raise ParameterError(f"provider {provider!r} is not a 20-byte hex address")
        return int(text, 16)
    if isinstance(provider, bool) or not isinstance(provider, int):
        raise TypeError(f"provider must be an address (0x… or int), got {type(provider).__name__}")
    if not 0 <= provider < 2**160:
        raise ParameterError(f"provider {provider} is not an EVM address (0 <= p < 2^160)")
    return provider


def _job(job: object) -> int:
    if isinstance(job, bool) or not isinstance(job, int):
        raise TypeError(f"job must be an int, got {type(job).__name__}")
    if not 0 <= job < 2**64:
        raise ParameterError(f"job {job} is outside 0 <= job < 2^64")
    return job


@dataclass(frozen=True)
class ComputeProof:
    """A proof and the statement it was made for (``public_inputs`` in the verifier's order)."""

    proof: Proof
    public_inputs: tuple[int, ...]

    @property
    def input_commitment(self) -> int:
        return self.public_inputs[0]

    @property
    def outputs(self) -> tuple[int, ...]:
        """The outputs as field elements (or their hash, past 12)."""
        return self.public_inputs[3:]


@dataclass(frozen=True)
class CompiledModel:
    """A model's circuit shape: what setup and proving need, and the sizes to expect."""

    model: QuantizedModel
    range_bits: int
    max_clamp_table: int
    bucket_min_outputs: int
    rows: int
    k: int
    version: int
    lookups: bool

    @property
    def program_json(self) -> str:
        return json.dumps(self.model.to_dict())

    @property
    def srs_max_degree(self) -> int:
        """The SRS degree setup needs (``5n + 9``)."""
        return 5 * 2**self.k + 9

    @property
    def params(self) -> tuple[int, int, int]:
        """The layout parameters, as ``_native.compute_params`` chose them."""
        return (self.range_bits, self.max_clamp_table, self.bucket_min_outputs)

    def report(self) -> dict[str, Any]:
        """Rows, circuit size, SRS size and the layout parameters (before any setup)."""
        bounds = self.model.bounds
        return {
            "rows": self.rows,
            "k": self.k,
            "srs_max_degree": self.srs_max_degree,
            "spec_version": self.version,
            "lookups": self.lookups,
            "macs": bounds.macs,
            "requants": bounds.requants,
            "range_bits": self.range_bits,
            "max_clamp_table": self.max_clamp_table,
            "bucket_min_outputs": self.bucket_min_outputs,
        }

    def _circuit(self, x: np.ndarray | None, job: int, provider: int) -> tuple[Circuit, list[int]]:
        values = None if x is None else [int(v) for v in x.ravel()]
        circuit, statement, _ = _native.compute_circuit(
            self.program_json, values, job, provider, self.params
        )
        return circuit, [int(v) for v in statement]

    def setup(self, srs: SRS) -> ProvingKey:
        """Keys from the model alone (deterministic; ``pk.vk`` identifies the model)."""
        circuit, _ = self._circuit(None, 0, 0)
        pk, _ = _native.plonk_setup(circuit, srs)
        return pk

    def prove(
        self,
        pk: ProvingKey,
        x: object,
        *,
        job: int,
        provider: object,
        progress: bool | None = None,
    ) -> ComputeProof:
        """Run the model on the integer input ``x`` (in the declared range; see
        :meth:`QuantizedModel.quantize_input`) and prove it for ``job`` and ``provider``."""
        x_int = self.model.check_input(x)
        circuit, statement = self._circuit(x_int, _job(job), _address(provider))
        with ProgressReporter(_native.PROVE_STEPS, "proving", progress, unit="step") as bar:
            proof = _native.plonk_prove(pk, circuit, None, bar)
        return ComputeProof(proof, tuple(statement))

    def expected_outputs(self, y_int: object) -> list[int]:
        """The statement's output part for the integer outputs ``y_int``: field elements, or
        their hash past 12 (the hash is what the circuit computes; call this with the outputs
        the provider claims)."""
        ys = self.model.output_field_elements(y_int)
        if len(ys) <= MAX_PUBLIC_OUTPUTS:
            return ys
        return [_native.compute_output_hash(ys)]


def compile(model: QuantizedModel) -> CompiledModel:
    """Lay out the model's circuit (shape only) with the parameters that make it smallest."""
    if not isinstance(model, QuantizedModel):
        raise TypeError(f"compile takes a QuantizedModel, got {type(model).__name__}")
    text = json.dumps(model.to_dict())
    range_bits, max_clamp_table, bucket_min_outputs = _native.compute_params(text)
    params = (range_bits, max_clamp_table, bucket_min_outputs)
    circuit, _, rows = _native.compute_circuit(text, None, 0, 0, params)
    return CompiledModel(
        model=model,
        range_bits=range_bits,
        max_clamp_table=max_clamp_table,
        bucket_min_outputs=bucket_min_outputs,
        rows=rows,
        k=circuit.k,
        version=circuit.version,
        lookups=circuit.lookups,
    )


def verify(
    vk: VerifyingKey,
    proof: Proof | ComputeProof,
    *,
    input_commitment: int,
    job: int,
    provider: object,
    outputs: list[int] | tuple[int, ...],
    allow_insecure_srs: bool = False,
) -> bool:
    """``True`` iff ``proof`` shows that the model of ``vk`` maps the input committed as
    ``input_commitment`` to ``outputs`` (field elements, see
    :meth:`CompiledModel.expected_outputs`) for this ``job`` and ``provider``. The statement is
    the caller's: a :class:`ComputeProof`'s own ``public_inputs`` are not consulted."""
    raw = proof.proof if isinstance(proof, ComputeProof) else proof
    public = [input_commitment, _job(job), _address(provider), *outputs]
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < _R for v in public):
        raise ParameterError("every statement value must be a field element (0 <= v < r)")
    return _native.plonk_verify(vk, raw, public, allow_insecure_srs=allow_insecure_srs)
