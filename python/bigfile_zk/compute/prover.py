"""Proving quantized inference (``docs/spec/proof-of-compute.md``): compile a
:class:`QuantizedModel` into its circuit, make (cached) keys, prove one input, verify a claim,
and generate the model's Solidity verifier.

>>> c = compute.compile(qmodel)                                      # doctest: +SKIP
>>> pk, vk = c.keys(srs)                 # derived once, cached on disk, checked when loaded
>>> proof = c.prove(pk, x, job=7, provider="0x" + "ab" * 20)
>>> proof.save("proof.json")                                      # self-describing JSON
>>> y = qmodel.forward_int(x)                               # or the outputs the job claims
>>> compute.verify(vk, ComputeProof.load("proof.json"), input_commitment=c_x, job=7,
...                provider="0x" + "ab" * 20, outputs=c.expected_outputs(y))
True
>>> source = c.verifier_solidity(vk)              # contract ComputeVerifier, solc 0.8.28

The statement is ``[C_x, job, provider, y_0 … y_{m-1}]`` (or ``[C_x, job, provider, H_y]`` past
12 outputs): the input's BigFile file commitment, the job, the provider's address, and the
outputs as field elements (``r + v`` for a negative ``v``). Verification checks the statement
the caller expects; nothing is read from the proof about itself.

The model's identity is its verifying key (``vk_digest``: the weights are circuit constants).
Without an SRS, :meth:`CompiledModel.keys` uses the embedded insecure test SRS (it warns):
fine for proving in demos and tests, but :func:`verify` and
:meth:`CompiledModel.verifier_solidity` refuse a key made from it with
:class:`~bigfile_zk.errors.InsecureSRSError` unless ``allow_insecure_srs=True``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bigfile_zk import _cache, _io, _native
from bigfile_zk._native import SRS, Circuit, FileCommitment, Proof, ProvingKey, VerifyingKey
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import DecodeError, InsecureSRSError, InsecureSRSWarning, ParameterError

from . import bfm
from .qmodel import QuantizedModel

__all__ = [
    "MAX_PUBLIC_OUTPUTS",
    "PROOF_FORMAT",
    "PROOF_FORMAT_VERSION",
    "CompiledModel",
    "ComputeProof",
    "compile",
    "verify",
]

#: Outputs beyond this many are hashed into one public input (spec §1).
MAX_PUBLIC_OUTPUTS = 12

#: ``"type"`` and ``"version"`` of the proof JSON (``ComputeProof.to_json``).
PROOF_FORMAT = "bigfile_zk.ComputeProof"
PROOF_FORMAT_VERSION = 1

_R = _native.MODULUS

# The report's predictions, per row of n = 2^k, by (Poseidon round gate: 8 quotient cosets and
# 5n + 10 SRS powers; the key keeps its coset values: up to 2^19 rows, keys::STORED_COSETS_MAX_N,
# unless BIGFILE_ZK_LEAN_KEYS). Fit on the 2-core machine, 2026-12-06 21:00 UTC (vector MSM, FFT
# and row programs; through this API, keys set up in process; benches/README.md): with the gate
# MLP 2^14 0.51 s / 178 MiB, CNN 2^15 0.96 s / 288 MiB; without it LeNet-5 2^18 5.11 s /
# 1,390 MiB, and with a lean key the dense 784-1024-256-10 model 2^20 23.1 s / 3,340 MiB. Every
# one within 5 % of the fit; the gate with a lean key is scaled from the others (not measured).
_STORED_COSETS_MAX_N = 2**19
_PROVE_SECONDS_PER_ROW = {
    (True, True): 30e-6,
    (False, True): 19.5e-6,
    (True, False): 34e-6,
    (False, False): 22e-6,
}
_MEMORY_PER_ROW = {
    (True, True): 8300,
    (False, True): 5400,
    (True, False): 5100,
    (False, False): 3300,
}
_BASE_MEMORY = 40 * 2**20
#: Spec version 3 (packed commitments) against version 2, same fit keys: about 4n more MSM
#: points, relatively more without the round gate (its version-2 MSMs are smaller), and the
#: packed copies of the witness (benches/README.md, "Spec version 3").
_PACKED_TIME = {
    (True, True): 1.10,
    (False, True): 1.29,
    (True, False): 1.10,
    (False, False): 1.15,
}
_PACKED_MEMORY = 1.13

# Keys derived (or loaded and checked) in this process, by (model digest, SRS digest); the most
# recent few only: a proving key of a 2^16-row circuit holds ~100 MB.
_KEYS: OrderedDict[tuple[str, str], tuple[ProvingKey, VerifyingKey]] = OrderedDict()
_KEYS_IN_MEMORY = 4

#: The proof encodings by their EVM length (plonk.md §5, §8): (encoding version, lookups).
_PROOF_SHAPES = {
    9 * 64 + 12 * 32: (1, True),
    7 * 64 + 10 * 32: (1, False),
    5 * 64 + 16 * 32: (3, True),
}


def _address(provider: object) -> int:
    if isinstance(provider, str):
        text = provider.lower().removeprefix("0x")
        if len(text) != 40 or any(c not in "0123456789abcdef" for c in text):
            raise ParameterError(f"provider {provider!r} is not a 20-byte hex address")
        return int(text, 16)
    if isinstance(provider, bool) or not isinstance(provider, (int, np.integer)):
        raise TypeError(f"provider must be an address (0x… or int), got {type(provider).__name__}")
    value = int(provider)
    if not 0 <= value < 2**160:
        raise ParameterError(f"provider {value} is not an EVM address (0 <= p < 2^160)")
    return value


def _job(job: object) -> int:
    if isinstance(job, bool) or not isinstance(job, (int, np.integer)):
        raise TypeError(f"job must be an int, got {type(job).__name__}")
    value = int(job)
    if not 0 <= value < 2**64:
        raise ParameterError(f"job {value} is outside 0 <= job < 2^64")
    return value


def _field(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int (a field element), got {type(value).__name__}")
    v = int(value)
    if not 0 <= v < _R:
        raise ParameterError(f"{name} = {v} is not a field element (0 <= v < r)")
    return v


@dataclass(frozen=True)
class ComputeProof:
    """A proof and the statement its prover claims, as :meth:`CompiledModel.prove` made it or
    :meth:`from_json` read it (``docs/spec/proof-of-compute.md``, "Proof JSON").

    ``public_inputs`` are in the verifier's order: ``[C_x, job, provider, outputs…]`` (the
    outputs as field elements, or their hash past 12); ``num_outputs`` is the model's output
    count ``m``; ``vk_digest`` the ``0x``-hex digest of the key it was made with (the model's
    identity); ``insecure_test_srs`` whether that key came from the insecure test SRS.
    All of this is the prover's claim, informative only: :func:`verify` checks the proof
    against the statement and key the **verifier** expects, never against these fields.
    """

    proof: Proof
    public_inputs: tuple[int, ...]
    num_outputs: int
    vk_digest: str
    insecure_test_srs: bool

    @property
    def input_commitment(self) -> int:
        return self.public_inputs[0]

    @property
    def job(self) -> int:
        return self.public_inputs[1]

    @property
    def provider(self) -> int:
        return self.public_inputs[2]

    @property
    def outputs(self) -> tuple[int, ...]:
        """The outputs as field elements (or their hash, past 12)."""
        return self.public_inputs[3:]

    @property
    def output_hash(self) -> int | None:
        """``H_y`` when the outputs are hashed (more than 12), else ``None``."""
        return self.public_inputs[3] if self.num_outputs > MAX_PUBLIC_OUTPUTS else None

    def to_json(self) -> str:
        """The self-describing proof JSON (format ``bigfile_zk.ComputeProof`` version 1): the
        statement, ``vk_digest``, ``insecure_test_srs``, ``public_inputs`` (decimal, the
        verifier's order) and ``proof`` (``0x``-hex, the ``bytes`` ``verifyProof`` takes)."""
        statement: dict[str, Any] = {
            "input_commitment": f"0x{self.input_commitment:064x}",
            "job": str(self.job),
            "provider": f"0x{self.provider:040x}",
            "num_outputs": self.num_outputs,
        }
        if self.output_hash is None:
            statement["outputs"] = [str(v) for v in self.outputs]
        else:
            statement["output_hash"] = f"0x{self.output_hash:064x}"
        return json.dumps(
            {
                "type": PROOF_FORMAT,
                "version": PROOF_FORMAT_VERSION,
                "statement": statement,
                "vk_digest": self.vk_digest,
                "insecure_test_srs": self.insecure_test_srs,
                "public_inputs": [str(v) for v in self.public_inputs],
                "proof": "0x" + self.proof.to_evm_bytes().hex(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ComputeProof:
        """The proof :meth:`to_json` wrote. Anything else raises
        :class:`~bigfile_zk.errors.DecodeError` naming the field: not a JSON object, missing
        or extra keys, a wrong type, a value ``>= r`` (or a job ``>= 2^64``), hex that is not
        ``0x`` + lower-case digits of the field's exact length, decimal that is not canonical,
        ``public_inputs`` that are not the statement's, a proof that does not decode."""
        obj = _io.json_object(text, "compute proof")
        try:
            _exact_keys(obj, _TOP_KEYS, "the proof")
            if obj["type"] != PROOF_FORMAT:
                raise DecodeError(f"type: {obj['type']!r} is not {PROOF_FORMAT!r}")
            version = obj["version"]
            if type(version) is not int or version != PROOF_FORMAT_VERSION:
                raise DecodeError(f"version: {version!r} (this library reads 1)")
            st = obj["statement"]
            if not isinstance(st, dict):
                raise DecodeError("statement: not a JSON object")
            if "num_outputs" not in st:
                raise DecodeError("statement: no num_outputs")
            m = st["num_outputs"]
            if type(m) is not int or not 1 <= m < 2**32:
                raise DecodeError(f"statement.num_outputs: {m!r} is not an int in [1, 2^32)")
            hashed = m > MAX_PUBLIC_OUTPUTS
            _exact_keys(st, _STATEMENT_KEYS | {"output_hash" if hashed else "outputs"}, "statement")
            commitment = _hex_int(st["input_commitment"], 32, "statement.input_commitment")
            job = _decimal(st["job"], "statement.job", 2**64)
            provider = _hex_int(st["provider"], 20, "statement.provider")
            if hashed:
                outputs = [_hex_int(st["output_hash"], 32, "statement.output_hash")]
            else:
                outputs = _decimals(st["outputs"], "statement.outputs", m)
            _hex_int(obj["vk_digest"], 32, "vk_digest", field=False)
            if not isinstance(obj["insecure_test_srs"], bool):
                raise DecodeError("insecure_test_srs: not true or false")
            public = [commitment, job, provider, *outputs]
            if _decimals(obj["public_inputs"], "public_inputs", len(public)) != public:
                raise DecodeError(
                    "public_inputs: not the statement's [input_commitment, job, provider, "
                    f"{'output_hash' if hashed else 'outputs…'}]"
                )
            raw = obj["proof"]
            if not isinstance(raw, str) or _HEX.fullmatch(raw) is None or len(raw) % 2:
                raise DecodeError("proof: not 0x followed by lower-case hex bytes")
            data = bytes.fromhex(raw[2:])
            shape = _PROOF_SHAPES.get(len(data))
            if shape is None:
                raise DecodeError(
                    f"proof: {len(data)} bytes (a proof has 832 (spec version 3), 960, or 768 "
                    "without lookups)"
                )
            version, lookups = shape
            try:
                proof = Proof.from_bytes(b"BFPF" + bytes([version, lookups]) + data, public)
            except DecodeError as exc:
                raise DecodeError(f"proof: {exc}") from None
        except DecodeError as exc:
            raise DecodeError(f"malformed compute proof JSON: {exc}") from None
        return cls(proof, tuple(public), m, obj["vk_digest"], obj["insecure_test_srs"])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to ``path`` atomically (readers see the old file or the new
        one, never a part)."""
        _io.write_atomic(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ComputeProof:
        """The proof :meth:`save` wrote (decoded by :meth:`from_json`)."""
        return cls.from_json(_io.read_text(path, _io.MAX_PROOF_JSON, "compute proof"))


_TOP_KEYS = frozenset(
    {"type", "version", "statement", "vk_digest", "insecure_test_srs", "public_inputs", "proof"}
)
_STATEMENT_KEYS = frozenset({"input_commitment", "job", "provider", "num_outputs"})
_HEX = re.compile(r"0x[0-9a-f]+")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,77}")


def _exact_keys(obj: dict[str, Any], keys: frozenset[str], where: str) -> None:
    missing, extra = sorted(keys - obj.keys()), sorted(obj.keys() - keys)
    if missing or extra:
        said = [f"no {', '.join(missing)}"] if missing else []
        said += [f"unknown {', '.join(repr(k) for k in extra)}"] if extra else []
        raise DecodeError(f"{where}: {'; '.join(said)}")


def _hex_int(value: object, nbytes: int, name: str, *, field: bool = True) -> int:
    if not isinstance(value, str) or _HEX.fullmatch(value) is None or len(value) != 2 + 2 * nbytes:
        raise DecodeError(f"{name}: not 0x followed by {2 * nbytes} lower-case hex digits")
    v = int(value, 16)
    if field and v >= _R:
        raise DecodeError(f"{name}: not a field element (>= r)")
    return v


def _decimal(value: object, name: str, bound: int = _R) -> int:
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise DecodeError(f"{name}: {value!r} is not a canonical decimal string")
    v = int(value)
    if v >= bound:
        raise DecodeError(f"{name}: {v} is too large (must be < {'r' if bound == _R else bound})")
    return v


def _decimals(value: object, name: str, count: int) -> list[int]:
    if not isinstance(value, list):
        raise DecodeError(f"{name}: not a list")
    if len(value) != count:
        raise DecodeError(f"{name}: {len(value)} values, expected {count}")
    return [_decimal(v, f"{name}[{i}]") for i, v in enumerate(value)]


_INSECURE_GIVEN = (
    "the verifying key was made with the insecure test SRS (its τ is public, so anyone can "
    "forge a proof it accepts): use a ceremony SRS (SRS.from_ptau), or pass "
    "allow_insecure_srs=True for tests and demos"
)


@dataclass(frozen=True)
class CompiledModel:
    """A model's circuit shape: what setup and proving need, and the sizes to expect.

    Saved as a model file (``.bfm``, ``docs/spec/model-file.md``) by :meth:`save`, read back by
    :func:`~bigfile_zk.compute.load_model`; ``metadata`` is the file's informative part (see
    :meth:`with_metadata`), not part of the circuit (nor of equality or :attr:`digest`).
    """

    model: QuantizedModel
    range_bits: int
    max_clamp_table: int
    bucket_min_outputs: int
    #: Poseidon on its round gate (``True``) or on arithmetic rows (no degree-6 gate: a faster
    #: prover and a cheaper verifier when the rows fit the same ``2^k``).
    poseidon_gate: bool
    rows: int
    k: int
    version: int
    lookups: bool
    metadata: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def program_json(self) -> str:
        return json.dumps(self.model.to_dict())

    @property
    def packed(self) -> bool:
        """PLONK spec version 3 (``plonk.md`` §8: packed commitments, one multi-point
        opening, five EVM scalar multiplications fewer) rather than version 2."""
        return self.version == 3

    @property
    def srs_max_degree(self) -> int:
        """The SRS degree setup needs: ``5n + 9`` with the Poseidon round gate, else ``4n + 11``
        in spec version 3 and ``3n + 9`` in version 2 (``plonk.md`` §3, §8)."""
        n = 2**self.k
        if self.poseidon_gate:
            return 5 * n + 9
        return 4 * n + 11 if self.packed else 3 * n + 9

    @property
    def srs_rule(self) -> str:
        """:attr:`srs_max_degree` as a formula (for messages)."""
        if self.poseidon_gate:
            return "5n + 9"
        return "4n + 11" if self.packed else "3n + 9"

    @property
    def params(self) -> tuple[int, int, int, bool, bool]:
        """The layout parameters, as ``_native.compute_params`` chose them:
        ``(range_bits, max_clamp_table, bucket_min_outputs, poseidon_gate, packed)``."""
        return (
            self.range_bits,
            self.max_clamp_table,
            self.bucket_min_outputs,
            self.poseidon_gate,
            self.packed,
        )

    @property
    def num_outputs(self) -> int:
        """The model's output count ``m``."""
        return int(np.prod(self.model.output_shape, dtype=np.int64))

    @property
    def num_public(self) -> int:
        """Public inputs of the statement: ``C_x``, job, provider and ``m`` outputs (or 1
        hash past 12)."""
        return 3 + (self.num_outputs if self.num_outputs <= MAX_PUBLIC_OUTPUTS else 1)

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 (hex) of the integer program and the layout parameters: names the cached
        keys (a cached key is still checked against the circuit this version lays out)."""
        canonical = json.dumps(
            {
                "program": self.model.to_dict(),
                "range_bits": self.range_bits,
                "max_clamp_table": self.max_clamp_table,
                "bucket_min_outputs": self.bucket_min_outputs,
                "poseidon_gate": self.poseidon_gate,
                "spec_version": self.version,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(b"bigfile_zk/compute-model/v1\n" + canonical.encode()).hexdigest()

    # -- the model file (.bfm) --------------------------------------------------------------

    def with_metadata(self, metadata: object) -> CompiledModel:
        """A copy with the model file's informative ``metadata``: ``None``, or a dict with any
        of ``source`` (``bfm.source_metadata(path)``: the file the program came from),
        ``fidelity`` (a JSON object) and ``created_by`` (a string). ``ParameterError`` for
        anything else."""
        return replace(self, metadata=bfm.check_metadata(metadata))

    def to_bytes(self) -> bytes:
        """The model file's bytes (``docs/spec/model-file.md``) with :attr:`metadata`."""
        return bfm.encode(self, self.metadata)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompiledModel:
        """The model of :meth:`to_bytes`'s bytes: checked strictly, then the program re-laid
        with the stored parameters (``compute.bfm.decode``)."""
        return bfm.decode(data)

    def save(self, path: str | os.PathLike[str], *, metadata: object = None) -> FileCommitment:
        """Write the model file to ``path`` atomically and return its BigFile file commitment
        (what ``commit_file(path)`` gives). ``metadata`` replaces :attr:`metadata` in the file
        when given (see :meth:`with_metadata`)."""
        model = self if metadata is None else self.with_metadata(metadata)
        data = model.to_bytes()
        _io.write_atomic(path, data)
        return model.file_commitment

    @property
    def file_commitment(self) -> FileCommitment:
        """The BigFile file commitment of :meth:`to_bytes` (the saved file's ``commit_file``):
        the model file's name on BigFile. Its ``commitment`` changes with any byte of the
        file, metadata included; the circuit's identity is :meth:`vk_digest`."""
        return bfm.file_commitment(self.to_bytes())

    def report(self) -> dict[str, Any]:
        """Rows, circuit size, SRS size, the layout parameters, and the predicted proving time
        and peak memory (before any setup).

        The predictions are a fit to measurements on the 2-core reference machine
        (``benches/README.md``): per row of ``n = 2^k`` (the padded size, not the used rows),
        proving costs about 30 µs and the proving key plus the prover's work about 8.1 KiB
        with the Poseidon round gate, 19.5 µs and 5.3 KiB without it, plus the interpreter;
        above 2^19 rows (or with ``BIGFILE_ZK_LEAN_KEYS=1``) the key keeps no coset values:
        about 13 % more time, 40 % less memory. Spec version 3 (the default, packed
        commitments) adds 10 to 30 % time and about 13 % memory. Time scales roughly with
        ``2 / cores``; memory does not."""
        bounds = self.model.bounds
        n = 2**self.k
        lean = os.environ.get("BIGFILE_ZK_LEAN_KEYS", "") not in ("", "0")
        fit = (self.poseidon_gate, n <= _STORED_COSETS_MAX_N and not lean)
        time_factor = _PACKED_TIME[fit] if self.packed else 1.0
        mem_factor = _PACKED_MEMORY if self.packed else 1.0
        return {
            "rows": self.rows,
            "k": self.k,
            "predicted_prove_seconds": round(_PROVE_SECONDS_PER_ROW[fit] * n * time_factor, 2),
            "predicted_peak_memory_bytes": _BASE_MEMORY
            + int(_MEMORY_PER_ROW[fit] * n * mem_factor),
            "srs_max_degree": self.srs_max_degree,
            "spec_version": self.version,
            "lookups": self.lookups,
            "public_inputs": self.num_public,
            "macs": bounds.macs,
            "requants": bounds.requants,
            "range_bits": self.range_bits,
            "max_clamp_table": self.max_clamp_table,
            "bucket_min_outputs": self.bucket_min_outputs,
            "poseidon_gate": self.poseidon_gate,
        }

    def _circuit(self, x: np.ndarray | None, job: int, provider: int) -> tuple[Circuit, list[int]]:
        values = None if x is None else [int(v) for v in x.ravel()]
        circuit, statement, _ = _native.compute_circuit(
            self.program_json, values, job, provider, self.params
        )
        return circuit, [int(v) for v in statement]

    # -- keys ------------------------------------------------------------------------------

    def default_srs(self, *, cache: bool = True) -> SRS:
        """The embedded insecure test SRS, just large enough for this model
        (:attr:`srs_max_degree`). Its τ is public: proofs against it prove nothing (it warns).
        Kept in memory and, with ``cache``, on disk (shared with ``storage.default_srs`` for the
        same size)."""
        return self._default_srs(cache, stacklevel=3)

    def _default_srs(self, cache: bool, stacklevel: int) -> SRS:
        srs = _cache.insecure_test_srs(self.srs_max_degree, cache=cache)
        warnings.warn(
            "proof-of-compute with the insecure test SRS: anyone can forge these proofs; load a "
            "ceremony with SRS.from_ptau for production",
            InsecureSRSWarning,
            stacklevel=stacklevel,
        )
        return srs

    def srs_digest(self, srs: SRS) -> str:
        """SHA-256 (hex) of the part of ``srs`` this model's keys depend on (its first
        :attr:`srs_max_degree` ``+ 1`` powers); ``ParameterError`` if ``srs`` is too small."""
        if not isinstance(srs, SRS):
            raise TypeError(f"srs must be an SRS, got {type(srs).__name__}")
        degree = self.srs_max_degree
        if srs.max_degree < degree:
            raise ParameterError(
                f"the SRS is too small for this model: it has max degree {srs.max_degree}, the "
                f"circuit needs {degree} ({self.srs_rule} for n = 2^{self.k} rows; a .ptau of "
                f"2^{(degree - 1).bit_length()} powers or more)"
            )
        return _cache.srs_digest(srs, degree)

    def key_path(self, srs: SRS) -> Path:
        """Where :meth:`keys` caches the proving key for ``srs``."""
        name = f"compute-{self.digest[:32]}-{self.srs_digest(srs)[:32]}.pkc"
        return _cache.cache_dir() / "keys" / name

    def keys(
        self, srs: SRS | None = None, *, cache: bool = True, progress: bool | None = None
    ) -> tuple[ProvingKey, VerifyingKey]:
        """This model's keys for ``srs`` (default: the insecure test SRS, with a warning),
        ``(pk, vk)``. Setup is deterministic: ``vk`` depends on the program and the SRS only.

        Derived once per (model, SRS): kept in memory (the last few) and, with ``cache``, on
        disk under ``cache_dir()`` as ``keys/compute-{model digest}-{SRS digest}.pkc`` (see
        :attr:`digest`, :meth:`srs_digest`; ``ProvingKey.save_cache``), written atomically. A
        cached key is not trusted: every column is checked against the circuit this version
        lays out for the model and against ``srs`` (random linear combinations: FFTs and one
        MSM); otherwise it is replaced, with a ``RuntimeWarning``. ``progress`` shows a bar of
        the steps (default: when stderr is a terminal); Ctrl-C stops between them (setup
        itself is one native call: seconds at 2^16 rows)."""
        return self._keys(srs, cache, progress, stacklevel=4)

    def _keys(
        self, srs: SRS | None, cache: bool, progress: bool | None, stacklevel: int
    ) -> tuple[ProvingKey, VerifyingKey]:
        if srs is None:
            srs = self._default_srs(cache, stacklevel)
        tag = (self.digest, self.srs_digest(srs))
        found = _KEYS.get(tag)
        if found is not None:
            with contextlib.suppress(KeyError):  # another thread may have evicted it
                _KEYS.move_to_end(tag)
            return found
        path = self.key_path(srs)
        with ProgressReporter(3, "compute keys", progress, unit="step") as bar:
            circuit, _ = self._circuit(None, 0, 0)
            bar(1)
            pk: ProvingKey | None = None
            if cache and path.is_file():
                try:
                    pk = _native.plonk_load_key(path, circuit, srs)
                except (DecodeError, ParameterError, OSError) as exc:
                    warnings.warn(
                        f"ignoring the cached key {path}: {exc}",
                        RuntimeWarning,
                        stacklevel=stacklevel - 1,
                    )
                    pk = None
            bar(2)
            if pk is None:
                pk, _ = _native.plonk_setup(circuit, srs)
                if cache:
                    _cache.save_key(path, pk)
            bar(3)
        derived = (pk, pk.vk)
        _KEYS[tag] = derived
        while len(_KEYS) > _KEYS_IN_MEMORY:
            _KEYS.popitem(last=False)
        return derived

    def setup(self, srs: SRS) -> ProvingKey:
        """The proving key for ``srs``, derived now (no cache; :meth:`keys` caches). Setup is
        deterministic: ``pk.vk`` identifies the model."""
        circuit, _ = self._circuit(None, 0, 0)
        pk, _ = _native.plonk_setup(circuit, srs)
        return pk

    def vk_digest(self, srs: SRS | None = None, *, cache: bool = True) -> str:
        """The model's identity under ``srs``: ``keccak256`` of its verifying key as ``0x``-hex
        (``VK_DIGEST()`` of its verifier contract, bound into every proof). Anyone with the
        model file and the SRS recomputes it (keys from :meth:`keys`)."""
        return "0x" + self._keys(srs, cache, None, stacklevel=4)[1].digest().hex()

    def check_key(self, vk: VerifyingKey, what: str = "vk") -> None:
        """``ParameterError`` unless ``vk`` has this model's circuit shape (rows, public
        inputs, lookups, version). A shape check: a key of another model of the same shape
        passes (compare :meth:`vk_digest` to tell)."""
        if not isinstance(vk, VerifyingKey):
            raise TypeError(f"{what} must be a VerifyingKey, got {type(vk).__name__}")
        got = (vk.k, vk.num_public, vk.lookups, vk.version)
        want = (self.k, self.num_public, self.lookups, self.version)
        if got != want:
            raise ParameterError(
                f"{what} is not a key of this model's circuit: it has 2^{vk.k} rows, "
                f"{vk.num_public} public inputs, lookups {vk.lookups}, version {vk.version}; "
                f"the model's has 2^{self.k}, {self.num_public}, {self.lookups}, {self.version}"
            )

    def verifier_solidity(
        self,
        vk: VerifyingKey,
        *,
        contract_name: str = "ComputeVerifier",
        allow_insecure_srs: bool = False,
    ) -> str:
        """Solidity source of this model's verifier contract for ``vk`` (``docs/spec/
        solidity.md``: ``verifyProof(bytes proof, uint256[] publicInputs)``, public inputs as
        :attr:`ComputeProof.public_inputs`). Compile with ``bigfile_zk.evm.compile``.

        ``vk`` must have this model's shape (:meth:`check_key`). A key made with the insecure
        test SRS raises :class:`~bigfile_zk.errors.InsecureSRSError` unless
        ``allow_insecure_srs=True``; the contract then says ``INSECURE_TEST_SRS = true``."""
        self.check_key(vk)
        if vk.is_insecure and not allow_insecure_srs:
            raise InsecureSRSError(_INSECURE_GIVEN)
        return vk.to_solidity(contract_name, allow_insecure_srs=allow_insecure_srs)

    # -- proving ---------------------------------------------------------------------------

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
        :meth:`QuantizedModel.quantize_input`) and prove it for ``job`` and ``provider``.

        ``pk`` is this model's proving key (:meth:`keys`). Bad input raises before any work:
        ``ParameterError`` for an input of the wrong shape, dtype or range, a job outside
        ``[0, 2^64)``, a provider that is not a 20-byte address, a key of another shape;
        ``TypeError`` for a job or provider of the wrong type. ``progress`` shows a bar
        (default: when stderr is a terminal); Ctrl-C stops the proof between steps."""
        if not isinstance(pk, ProvingKey):
            raise TypeError(f"pk must be a ProvingKey, got {type(pk).__name__}")
        self.check_key(pk.vk, "pk")
        x_int = self.model.check_input(x)
        circuit, statement = self._circuit(x_int, _job(job), _address(provider))
        with ProgressReporter(_native.PROVE_STEPS, "proving", progress, unit="step") as bar:
            proof = _native.plonk_prove(pk, circuit, None, bar)
        return ComputeProof(
            proof=proof,
            public_inputs=tuple(statement),
            num_outputs=self.num_outputs,
            vk_digest="0x" + pk.vk.digest().hex(),
            insecure_test_srs=pk.vk.is_insecure,
        )

    def expected_outputs(self, y_int: object) -> list[int]:
        """The statement's output part for the integer outputs ``y_int``: field elements, or
        their hash past 12 (the hash is what the circuit computes; call this with the outputs
        the provider claims)."""
        ys = self.model.output_field_elements(y_int)
        if len(ys) <= MAX_PUBLIC_OUTPUTS:
            return ys
        return [_native.compute_output_hash(ys)]


def compile(
    model: QuantizedModel,
    *,
    params: tuple[int, int, int, bool] | tuple[int, int, int, bool, bool] | None = None,
) -> CompiledModel:
    """Lay out the model's circuit (shape only) with the parameters that make it smallest,
    or with ``params`` (``(range_bits, max_clamp_table, bucket_min_outputs, poseidon_gate,
    packed)``, as :attr:`CompiledModel.params` gives them; without ``packed``, spec version
    3's packed opening, the default) to force a layout."""
    if not isinstance(model, QuantizedModel):
        raise TypeError(f"compile takes a QuantizedModel, got {type(model).__name__}")
    text = json.dumps(model.to_dict())
    if params is None:
        params = _native.compute_params(text)
    elif not (isinstance(params, tuple) and len(params) in (4, 5)):
        raise TypeError(
            "params is a tuple (range_bits, max_clamp_table, bucket_min_outputs, poseidon_gate"
            "[, packed])"
        )
    if len(params) == 4:
        params = (*params, True)
    range_bits, max_clamp_table, bucket_min_outputs, poseidon_gate, _ = params
    circuit, _, rows = _native.compute_circuit(text, None, 0, 0, params)
    return CompiledModel(
        model=model,
        range_bits=range_bits,
        max_clamp_table=max_clamp_table,
        bucket_min_outputs=bucket_min_outputs,
        poseidon_gate=poseidon_gate,
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
    the caller's: a :class:`ComputeProof`'s own claims (``public_inputs``, the statement and
    ``vk_digest`` of its JSON) are not consulted. Take ``input_commitment`` and ``job`` from
    the job you pay for, ``provider`` from who submits, ``vk`` from the model you trust.

    A malformed statement raises: ``ParameterError`` for a value outside its range or the
    wrong number of outputs for ``vk``, ``TypeError`` for a value of the wrong type. A key made
    with the insecure test SRS raises :class:`~bigfile_zk.errors.InsecureSRSError` unless
    ``allow_insecure_srs=True``."""
    if not isinstance(vk, VerifyingKey):
        raise TypeError(f"vk must be a VerifyingKey, got {type(vk).__name__}")
    if vk.is_insecure and not allow_insecure_srs:
        raise InsecureSRSError(_INSECURE_GIVEN)
    if isinstance(proof, ComputeProof):
        raw = proof.proof
    elif isinstance(proof, Proof):
        raw = proof
    else:
        raise TypeError(f"proof must be a ComputeProof or a Proof, got {type(proof).__name__}")
    if isinstance(outputs, (str, bytes)) or not hasattr(outputs, "__len__"):
        raise TypeError(f"outputs must be a list of field elements, got {type(outputs).__name__}")
    public = [
        _field(input_commitment, "input_commitment"),
        _job(job),
        _address(provider),
        *(_field(v, f"outputs[{i}]") for i, v in enumerate(outputs)),
    ]
    if len(public) != vk.num_public:
        raise ParameterError(
            f"{len(outputs)} outputs, but the key's statement has {vk.num_public - 3} (the "
            "outputs as field elements, or their hash past 12: CompiledModel.expected_outputs)"
        )
    return _native.plonk_verify(vk, raw, public, allow_insecure_srs=allow_insecure_srs)
