"""ONNX models → the integer program of proof-of-compute (``docs/spec/onnx.md``).

:func:`load_onnx` reads a float ONNX model (``Gemm``, ``MatMul``, ``Conv``, pools,
``BatchNormalization``, ``Add``, activations, reshapes) into a float :class:`~.model.Model`
and quantizes it with :func:`~.quantize.quantize` on the caller's calibration data, or reads a
model onnxruntime already quantized statically (QDQ or QOperator format) straight into a
:class:`~.qmodel.QuantizedModel`. A first pass over the whole graph refuses anything it cannot
map exactly (an operator, attribute, opset, dynamic shape, dynamic quantization) with an
``UnsupportedModelError`` naming the node, before any work is done.

With data, it also reports **fidelity** (:class:`FidelityReport`): the quantized program (the
numpy oracle) against onnxruntime running the ONNX file itself, i.e. the float model for a float
ONNX, onnxruntime's own integer kernels for a quantized one, on the calibration set and on a
held-out set. With a :class:`Tolerance`, a model that misses it raises ``FidelityError``
carrying the report, so nothing is proved silently. :func:`compare_with_onnxruntime` is the same
comparison on any inputs.

``onnx`` (and ``onnxruntime`` for the report) are imported when first needed; without them a
``MissingDependencyError`` names the extra to install (``bigfile_zk[compute]``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bigfile_zk.errors import (
    DecodeError,
    FidelityError,
    InternalError,
    ParameterError,
    UnsupportedModelError,
)

from ._onnx_common import require_onnx, require_onnxruntime
from ._onnx_float import float_model
from ._onnx_graph import Graph, parse, read_model
from ._onnx_quant import quantized_model
from .model import Model
from .qmodel import QuantizedModel, TensorQuant
from .quantize import MULTIPLIER_BITS, quantize

__all__ = [
    "FidelityReport",
    "OnnxImport",
    "SetFidelity",
    "Tolerance",
    "compare_with_onnxruntime",
    "load_onnx",
]

FloatArray = npt.NDArray[np.float64]

REPORT_FORMAT = "bigfile_zk.FidelityReport"
REPORT_VERSION = 1
#: Our float64 forward pass of an imported float model must match onnxruntime's float32 run to
#: this relative error (of the largest output magnitude): more is a bug in the importer.
FLOAT_SELF_CHECK_RTOL = 1e-3
BASELINES = {
    "float": "onnxruntime, float model",
    "qdq": "onnxruntime, quantized model",
    "qoperator": "onnxruntime, quantized model",
}


# --- the tolerance and the report -------------------------------------------------------------


def _opt_number(value: object, what: str, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{what} must be a number, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ParameterError(f"{what} must lie in [{lo}, {hi}], got {value!r}")
    return v


@dataclass(frozen=True)
class Tolerance:
    """What a quantized model must meet on every data set of its :class:`FidelityReport`:
    top-1 agreement with the baseline of at least ``min_top1_agreement`` (a fraction in
    ``[0, 1]``; models with one output have no top-1) and a largest absolute output difference
    (dequantized, in the model's output units) of at most ``max_abs_delta``."""

    min_top1_agreement: float | None = None
    max_abs_delta: float | None = None

    def __post_init__(self) -> None:
        top1 = _opt_number(self.min_top1_agreement, "min_top1_agreement", 0.0, 1.0)
        delta = _opt_number(self.max_abs_delta, "max_abs_delta", 0.0, math.inf)
        object.__setattr__(self, "min_top1_agreement", top1)
        object.__setattr__(self, "max_abs_delta", delta)


@dataclass(frozen=True)
class SetFidelity:
    """The quantized program against the baseline on one data set.

    ``top1_agreement``: the fraction of samples whose largest output (first one on ties) is at
    the same index (``None`` for a single output). ``max_abs_delta``/``mean_abs_delta``: over
    every output of every sample, in output units (our output dequantized). ``saturated_inputs``:
    samples with a value outside the input's declared range (clamped to it). For a quantized
    baseline, ``differing_integers`` counts the output integers that differ from
    onnxruntime's and ``int_delta_histogram`` maps ``|Δ|`` to how often (``None`` for a float
    baseline)."""

    name: str
    samples: int
    outputs: int
    top1_agreement: float | None
    max_abs_delta: float
    mean_abs_delta: float
    saturated_inputs: int
    differing_integers: int | None = None
    int_delta_histogram: dict[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        hist = self.int_delta_histogram
        return {
            "name": self.name,
            "samples": self.samples,
            "outputs": self.outputs,
            "top1_agreement": self.top1_agreement,
            "max_abs_delta": self.max_abs_delta,
            "mean_abs_delta": self.mean_abs_delta,
            "saturated_inputs": self.saturated_inputs,
            "differing_integers": self.differing_integers,
            "int_delta_histogram": None if hist is None else {str(k): v for k, v in hist.items()},
        }

    @classmethod
    def from_dict(cls, data: object, path: str = "set") -> SetFidelity:
        d = _exact(data, path, _SET_KEYS)
        name = d["name"]
        if not isinstance(name, str) or not name:
            raise DecodeError(f"{path}.name must be a non-empty string")
        samples = _int(d["samples"], f"{path}.samples", 1)
        outputs = _int(d["outputs"], f"{path}.outputs", 1)
        top1 = d["top1_agreement"]
        top1 = None if top1 is None else _float(top1, f"{path}.top1_agreement", 1.0)
        hist = d["int_delta_histogram"]
        if hist is not None:
            if not isinstance(hist, Mapping):
                raise DecodeError(f"{path}.int_delta_histogram must be an object or null")
            parsed = {}
            for k, v in hist.items():
                if not (isinstance(k, str) and k.isdigit() and k == str(int(k)) and int(k) > 0):
                    raise DecodeError(f"{path}.int_delta_histogram: bad key {k!r}")
                parsed[int(k)] = _int(v, f"{path}.int_delta_histogram[{k}]", 1)
            hist = parsed
        differing = d["differing_integers"]
        differing = None if differing is None else _int(differing, f"{path}.differing_integers", 0)
        if (differing is None) != (hist is None) or (
            hist is not None and sum(hist.values()) != differing
        ):
            raise DecodeError(f"{path}: differing_integers and int_delta_histogram disagree")
        return cls(
            name=name,
            samples=samples,
            outputs=outputs,
            top1_agreement=top1,
            max_abs_delta=_float(d["max_abs_delta"], f"{path}.max_abs_delta"),
            mean_abs_delta=_float(d["mean_abs_delta"], f"{path}.mean_abs_delta"),
            saturated_inputs=_int(d["saturated_inputs"], f"{path}.saturated_inputs", 0, samples),
            differing_integers=differing,
            int_delta_histogram=hist,
        )


_SET_KEYS = frozenset(
    {
        "name",
        "samples",
        "outputs",
        "top1_agreement",
        "max_abs_delta",
        "mean_abs_delta",
        "saturated_inputs",
        "differing_integers",
        "int_delta_histogram",
    }
)
_REPORT_KEYS = frozenset(
    {
        "format",
        "version",
        "kind",
        "baseline",
        "onnxruntime_version",
        "output_scale",
        "float_model_max_abs_delta",
        "sets",
    }
)


def _exact(data: object, path: str, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise DecodeError(f"{path} must be an object, got {type(data).__name__}")
    missing, extra = keys - set(data), set(data) - keys
    if missing or extra:
        raise DecodeError(f"{path}: missing keys {sorted(missing)}, unknown keys {sorted(extra)}")
    return dict(data)


def _int(value: object, path: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(f"{path} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise DecodeError(f"{path} = {value} is outside [{lo}, {hi if hi is not None else '∞'}]")
    return value


def _float(value: object, path: str, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DecodeError(f"{path} must be a number, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and 0 <= v <= hi):
        raise DecodeError(f"{path} = {value!r} must be finite and in [0, {hi}]")
    return v


@dataclass(frozen=True)
class FidelityReport:
    """How far the quantized program is from the baseline, per data set (:class:`SetFidelity`).

    ``baseline`` says what it was compared with: onnxruntime running the float ONNX model
    (``kind == "float"``), or onnxruntime's own quantized kernels on the QDQ/QOperator model.
    ``float_model_max_abs_delta``: for a float model, the largest difference between our float
    reading of the graph and onnxruntime's float run (a check of the importer itself).
    """

    kind: str
    baseline: str
    onnxruntime_version: str
    output_scale: float
    sets: tuple[SetFidelity, ...]
    float_model_max_abs_delta: float | None = None

    def set(self, name: str) -> SetFidelity:
        for s in self.sets:
            if s.name == name:
                return s
        raise KeyError(name)

    def failures(self, tolerance: Tolerance) -> list[str]:
        """What misses ``tolerance``, one line per figure (empty: it passes)."""
        if not isinstance(tolerance, Tolerance):
            raise TypeError(f"tolerance must be a Tolerance, got {type(tolerance).__name__}")
        out = []
        for s in self.sets:
            want = tolerance.min_top1_agreement
            if want is not None:
                if s.top1_agreement is None:
                    out.append(f"{s.name}: no top-1 agreement (the model has one output)")
                elif s.top1_agreement < want:
                    out.append(f"{s.name}: top-1 agreement {s.top1_agreement:.2%} < {want:.2%}")
            if tolerance.max_abs_delta is not None and s.max_abs_delta > tolerance.max_abs_delta:
                out.append(
                    f"{s.name}: max |Δ| {s.max_abs_delta:.6g} > {tolerance.max_abs_delta:.6g}"
                )
        return out

    def passed(self, tolerance: Tolerance) -> bool:
        """``True`` iff every data set meets ``tolerance``."""
        return not self.failures(tolerance)

    def lines(self) -> list[str]:
        """Human-readable lines (the CLI prints them)."""
        out = [
            f"fidelity against {self.baseline} (onnxruntime {self.onnxruntime_version}), "
            f"output scale {self.output_scale:.6g}"
        ]
        for s in self.sets:
            top1 = "n/a" if s.top1_agreement is None else f"{s.top1_agreement:.2%}"
            line = (
                f"  {s.name:<12} {s.samples:>6} samples  top-1 agreement {top1:>7}  "
                f"max |Δ| {s.max_abs_delta:.4g}  mean |Δ| {s.mean_abs_delta:.4g}"
            )
            if s.differing_integers is not None:
                total = s.samples * s.outputs
                hist = ", ".join(
                    f"±{k}: {v}" for k, v in sorted((s.int_delta_histogram or {}).items())
                )
                line += f"  integers differing {s.differing_integers}/{total}"
                line += f" ({hist})" if hist else ""
            if s.saturated_inputs:
                line += f"  ({s.saturated_inputs} inputs clamped to the input range)"
            out.append(line)
        if self.float_model_max_abs_delta is not None:
            out.append(
                f"  our float reading of the graph vs onnxruntime: max |Δ| "
                f"{self.float_model_max_abs_delta:.3g}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "kind": self.kind,
            "baseline": self.baseline,
            "onnxruntime_version": self.onnxruntime_version,
            "output_scale": self.output_scale,
            "float_model_max_abs_delta": self.float_model_max_abs_delta,
            "sets": [s.to_dict() for s in self.sets],
        }

    @classmethod
    def from_dict(cls, data: object) -> FidelityReport:
        """Strict inverse of :meth:`to_dict`: ``DecodeError`` naming the field otherwise."""
        d = _exact(data, "report", _REPORT_KEYS)
        if d["format"] != REPORT_FORMAT or d["version"] != REPORT_VERSION:
            raise DecodeError(f"report: expected format {REPORT_FORMAT!r} version {REPORT_VERSION}")
        kind = d["kind"]
        if kind not in BASELINES:
            raise DecodeError(f"report.kind must be one of {sorted(BASELINES)}, got {kind!r}")
        if d["baseline"] != BASELINES[kind]:
            raise DecodeError(f"report.baseline must be {BASELINES[kind]!r} for kind {kind!r}")
        version = d["onnxruntime_version"]
        if not isinstance(version, str) or not version:
            raise DecodeError("report.onnxruntime_version must be a non-empty string")
        scale = _float(d["output_scale"], "report.output_scale")
        if scale <= 0:
            raise DecodeError("report.output_scale must be > 0")
        fmad = d["float_model_max_abs_delta"]
        if (fmad is None) != (kind != "float"):
            raise DecodeError("report.float_model_max_abs_delta is a number iff kind is float")
        if fmad is not None:
            fmad = _float(fmad, "report.float_model_max_abs_delta")
        raw_sets = d["sets"]
        if not isinstance(raw_sets, list) or not raw_sets:
            raise DecodeError("report.sets must be a non-empty list")
        sets = tuple(SetFidelity.from_dict(s, f"report.sets[{i}]") for i, s in enumerate(raw_sets))
        if len({s.name for s in sets}) != len(sets):
            raise DecodeError("report.sets: names must be unique")
        quantized = kind != "float"
        if any((s.differing_integers is not None) != quantized for s in sets):
            raise DecodeError("report.sets: integer differences are reported iff kind is quantized")
        return cls(kind, d["baseline"], version, scale, sets, fmad)


@dataclass(frozen=True)
class OnnxImport:
    """The result of :func:`load_onnx`."""

    #: The integer program that will be proven.
    qmodel: QuantizedModel
    #: The float graph (``None`` for an already-quantized ONNX).
    float_model: Model | None
    #: ``None`` when no calibration or held-out data was given.
    fidelity: FidelityReport | None
    #: ``"float"``, ``"qdq"`` or ``"qoperator"``.
    kind: str
    #: SHA-256 (hex) of the ONNX bytes.
    source_sha256: str
    #: For a quantized ONNX: each program tensor (``"input"`` and the nodes' names) → the ONNX
    #: tensor holding the same integers, for :func:`compare_with_onnxruntime`'s per-layer check
    #: (a QDQ chain of pass-through operators has an ONNX integer tensor only at its end).
    tensor_map: Mapping[str, str] | None = None


# --- running onnxruntime ----------------------------------------------------------------------


def _samples(xs: object, shape: tuple[int, ...], what: str) -> FloatArray:
    """``[N, *shape]`` float64 from ``xs``, which may also carry ONNX's batch axis per sample
    (``[N, 1, *shape]``)."""
    try:
        arr = np.asarray(xs)
    except ValueError as exc:
        raise ParameterError(f"{what} is not a rectangular array: {exc}") from None
    if arr.dtype.kind not in "iuf":
        raise ParameterError(f"{what} must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == len(shape) + 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != len(shape) + 1 or arr.shape[1:] != shape or arr.shape[0] == 0:
        raise ParameterError(
            f"{what} must have shape (N, {', '.join(map(str, shape))}) with N >= 1, got {arr.shape}"
        )
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ParameterError(f"{what} has non-finite values")
    return out


class _Runtime:
    """An onnxruntime session on the model's own bytes, one sample per run (batch 1)."""

    def __init__(self, g: Graph, extra_outputs: Sequence[str] = ()) -> None:
        ort = require_onnxruntime()
        options = ort.SessionOptions()
        options.log_severity_level = 4  # its errors become ours; no log lines on stderr
        self.version = str(ort.__version__)
        proto = g.proto
        if extra_outputs:
            onnx = require_onnx()
            proto = onnx.ModelProto()
            proto.CopyFrom(g.proto)
            for name in extra_outputs:
                proto.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
        try:
            self.session = ort.InferenceSession(
                proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own exception classes, not exported
            raise _refused(exc) from None
        self.input, self.output = g.input_name, g.output_name
        self.extra = list(extra_outputs)

    def run(self, xs: FloatArray) -> npt.NDArray[Any]:
        return np.stack([self.run_one(x)[self.output] for x in xs])

    def run_one(self, x: FloatArray) -> dict[str, npt.NDArray[Any]]:
        """The output (and the extra outputs) of one sample, without the batch axis."""
        names = [self.output, *self.extra]
        try:
            values = self.session.run(names, {self.input: x[None].astype(np.float32)})
        except Exception as exc:  # onnxruntime's own exception classes, not exported
            raise _refused(exc) from None
        return {
            n: v.reshape(v.shape[1:]) if v.shape[:1] == (1,) else v
            for n, v in zip(names, values, strict=True)
        }


def _refused(exc: Exception) -> UnsupportedModelError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return UnsupportedModelError(
        f"onnxruntime cannot run the model, which the fidelity report needs: {first[:500]}"
    )


def _evaluate(
    rt: _Runtime, kind: str, qmodel: QuantizedModel, xs: FloatArray, name: str
) -> SetFidelity:
    lo, hi = qmodel.input_range
    out_q = qmodel.output_quant
    ours_int, feeds, saturated = [], [], 0
    for x in xs:
        x_int = qmodel.quantize_input(x, saturate=True)
        raw = np.floor(x / qmodel.input_quant.scale + 0.5) + qmodel.input_quant.zero_point
        saturated += bool(raw.min() < lo or raw.max() > hi)
        ours_int.append(qmodel.forward_int(x_int))
        feeds.append(qmodel.input_quant.dequantize(x_int) if kind != "float" else x)
    ours = np.stack(ours_int)
    base = rt.run(np.stack(feeds))
    if base.shape != ours.shape:
        raise InternalError(
            f"onnxruntime's output has shape {base.shape[1:]}, the program's {ours.shape[1:]}"
        )
    ours_real = out_q.dequantize(ours)
    differing = hist = None
    if kind == "float":
        base_real = base.astype(np.float64)
        base_top = base_real
        ours_top = ours_real
    else:
        if base.dtype.kind in "iu":
            base_int = base.astype(np.int64)
        else:
            base_int = np.rint(base.astype(np.float64) / out_q.scale).astype(np.int64)
            base_int += out_q.zero_point
        base_real = out_q.dequantize(base_int)
        delta = np.abs(ours - base_int)
        values, counts = np.unique(delta[delta > 0], return_counts=True)
        hist = {int(v): int(c) for v, c in zip(values, counts, strict=True)}
        differing = int(np.count_nonzero(delta))
        base_top, ours_top = base_int, ours
    n = len(xs)
    flat = int(np.prod(ours.shape[1:]))
    top1 = None
    if flat > 1:
        agree = np.argmax(base_top.reshape(n, -1), axis=1) == np.argmax(
            ours_top.reshape(n, -1), axis=1
        )
        top1 = float(np.mean(agree))
    err = np.abs(ours_real - base_real)
    return SetFidelity(
        name=name,
        samples=n,
        outputs=flat,
        top1_agreement=top1,
        max_abs_delta=float(err.max()),
        mean_abs_delta=float(err.mean()),
        saturated_inputs=saturated,
        differing_integers=differing,
        int_delta_histogram=hist,
    )


def _float_self_check(rt: _Runtime, model: Model, xs: FloatArray) -> float:
    """max |our float forward - onnxruntime's float run|; an ``InternalError`` past the
    tolerance (the importer misread the graph)."""
    ours = model.forward_batch(xs)
    base = rt.run(xs).astype(np.float64).reshape(ours.shape)
    delta = float(np.max(np.abs(ours - base)))
    if delta > FLOAT_SELF_CHECK_RTOL * max(1.0, float(np.max(np.abs(base)))):
        raise InternalError(
            f"the imported float model differs from onnxruntime's run of the ONNX file by "
            f"{delta:.3g} (a bug in the importer; please report it with the model)"
        )
    return delta


def _fidelity(
    g: Graph, qmodel: QuantizedModel, model: Model | None, sets: list[tuple[str, FloatArray]]
) -> FidelityReport:
    rt = _Runtime(g)
    results = tuple(_evaluate(rt, g.kind, qmodel, xs, name) for name, xs in sets)
    float_delta = None
    if model is not None:
        float_delta = max(_float_self_check(rt, model, xs) for _, xs in sets)
    return FidelityReport(
        kind=g.kind,
        baseline=BASELINES[g.kind],
        onnxruntime_version=rt.version,
        output_scale=qmodel.output_quant.scale,
        sets=results,
        float_model_max_abs_delta=float_delta,
    )


# --- the public functions ---------------------------------------------------------------------


def load_onnx(
    source: str | os.PathLike[str] | bytes | Any,
    *,
    calibration: npt.ArrayLike | None = None,
    heldout: npt.ArrayLike | None = None,
    tolerance: Tolerance | None = None,
    input_range: tuple[int, int] | None = None,
    input_quant: TensorQuant | None = None,
    per_channel: bool | None = None,
    multiplier_bits: int = MULTIPLIER_BITS,
) -> OnnxImport:
    """Import an ONNX model (a path, its bytes or an ``onnx.ModelProto``) as the integer
    program of ``docs/spec/quantization.md`` (mapping: ``docs/spec/onnx.md``).

    * A **float** model becomes a :class:`~.model.Model` and is quantized with
      :func:`~.quantize.quantize` on ``calibration`` (``[N, *input_shape]`` floats, ONNX's
      batch axis dropped or kept as 1; required), with ``input_quant`` (default: calibrated),
      ``input_range``, ``per_channel`` (default ``True``) and ``multiplier_bits``.
    * A model **quantized** statically by onnxruntime (QDQ or QOperator) becomes the program
      directly: its integers, zero points and scales as they are; ``multiplier_bits`` sets the
      width of the ``M`` approximating each requantization's real multiplier; ``input_range``
      narrows the input's declared range (default: the dtype's). ``input_quant`` and
      ``per_channel`` are the model's own and may not be given.

    With ``calibration`` and/or ``heldout`` the result carries a :class:`FidelityReport`
    (needs onnxruntime) over each set; with ``tolerance`` a report that misses it raises
    ``FidelityError`` (``.report``). Errors: ``DecodeError`` for bytes that are not a valid
    ONNX model, ``UnsupportedModelError`` naming the node for anything not supported,
    ``QuantizationError``/``ParameterError`` as :func:`~.quantize.quantize` and
    :class:`~.qmodel.QuantizedModel` raise them, ``MissingDependencyError`` without ``onnx``
    (or onnxruntime when a report is asked for).
    """
    if tolerance is not None and not isinstance(tolerance, Tolerance):
        raise TypeError(f"tolerance must be a Tolerance, got {type(tolerance).__name__}")
    if tolerance is not None and calibration is None and heldout is None:
        raise ParameterError("a tolerance needs data to check it on (calibration or heldout)")
    proto, digest = read_model(source)
    g = parse(proto, digest)
    model: Model | None = None
    tensor_map: dict[str, str] | None = None
    if g.kind == "float":
        if calibration is None:
            raise ParameterError(
                "a float ONNX model needs calibration data (calibration=[N, ...] inputs) to "
                "choose its activations' scales"
            )
        model = float_model(g)
        calib = _samples(calibration, model.input_shape, "calibration")
        qmodel = quantize(
            model,
            calib,
            input_quant=input_quant,
            input_range=input_range,
            per_channel=True if per_channel is None else per_channel,
            multiplier_bits=multiplier_bits,
        )
    else:
        for value, what in ((input_quant, "input_quant"), (per_channel, "per_channel")):
            if value is not None:
                raise ParameterError(
                    f"{what} applies to float models; this ONNX model is already quantized "
                    f"({g.kind})"
                )
        qmodel, tensor_map = quantized_model(g, input_range, multiplier_bits)
    sets = [
        (name, _samples(xs, qmodel.input_shape, name))
        for name, xs in (("calibration", calibration), ("held-out", heldout))
        if xs is not None
    ]
    report = _fidelity(g, qmodel, model, sets) if sets else None
    if tolerance is not None and report is not None:
        failures = report.failures(tolerance)
        if failures:
            raise FidelityError(
                "the quantized model misses the tolerance: " + "; ".join(failures), report
            )
    return OnnxImport(
        qmodel=qmodel,
        float_model=model,
        fidelity=report,
        kind=g.kind,
        source_sha256=digest,
        tensor_map=tensor_map,
    )


def compare_with_onnxruntime(
    source: str | os.PathLike[str] | bytes | Any,
    qmodel: QuantizedModel,
    xs: npt.ArrayLike,
    *,
    name: str = "samples",
    tensor_map: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``qmodel`` (the oracle) against onnxruntime running ``source`` on the float inputs
    ``xs`` (``[N, *input_shape]``), as :meth:`SetFidelity.to_dict` plus ``"kind"`` and
    ``"onnxruntime_version"``.

    For a quantized ONNX both sides get the same integer input (``qmodel.quantize_input``,
    clamped to the input range; onnxruntime gets its dequantized value, which its
    ``QuantizeLinear`` maps back exactly), so the figures are the programs' differences only:
    ``differing_integers`` and ``int_delta_histogram`` count output integers that differ (see
    ``docs/spec/onnx.md`` §5 for why, and by how much). For a float ONNX the baseline is the
    float model on ``xs`` itself.

    With ``tensor_map`` (:attr:`OnnxImport.tensor_map`, quantized models only) the result also
    has ``"layers"``: per program node, each operation run on onnxruntime's own integers for
    its inputs and compared with onnxruntime's integers for its output (``values``,
    ``differing``, ``max_delta``, ``histogram``): the differences of each layer's arithmetic
    alone, before they propagate."""
    if not isinstance(qmodel, QuantizedModel):
        raise TypeError(f"qmodel must be a QuantizedModel, got {type(qmodel).__name__}")
    proto, digest = read_model(source)
    g = parse(proto, digest)
    samples = _samples(xs, qmodel.input_shape, "xs")
    rt = _Runtime(g)
    result = _evaluate(rt, g.kind, qmodel, samples, name)
    out: dict[str, Any] = {"kind": g.kind, "onnxruntime_version": rt.version, **result.to_dict()}
    if tensor_map is not None:
        if g.kind == "float":
            raise ParameterError("a per-layer comparison needs a quantized ONNX model")
        out["layers"] = _compare_layers(g, qmodel, tensor_map, samples)
    return out


def _compare_layers(
    g: Graph, qmodel: QuantizedModel, tensor_map: Mapping[str, str], xs: FloatArray
) -> dict[str, dict[str, Any]]:
    names = [qmodel.input_name, *(n.name for n in qmodel.nodes)]
    unknown = sorted(set(tensor_map) - set(names))
    if unknown:
        raise ParameterError(f"tensor_map names tensors the program lacks: {unknown}")
    mapped = {t: tensor_map[t] for t in names if t in tensor_map}
    extra = sorted({v for v in mapped.values() if v != g.output_name})
    rt = _Runtime(g, extra)
    shapes = {qmodel.input_name: qmodel.input_shape, **{n.name: n.shape for n in qmodel.nodes}}
    stats: dict[str, np.ndarray] = {n.name: np.zeros(0, np.int64) for n in qmodel.nodes}
    for x in xs:
        x_int = qmodel.quantize_input(x, saturate=True)
        got = rt.run_one(qmodel.input_quant.dequantize(x_int))

        def ort(tensor: str, got: dict[str, np.ndarray] = got) -> np.ndarray | None:
            onnx_name = mapped.get(tensor)
            if onnx_name is None:
                return None
            value = got[onnx_name]
            if value.dtype.kind not in "iu":
                raise ParameterError(f"tensor_map: {onnx_name!r} is not an integer tensor")
            return value.astype(np.int64).reshape(shapes[tensor])

        env: dict[str, np.ndarray] = {}
        first = ort(qmodel.input_name)
        env[qmodel.input_name] = x_int if first is None else first
        for node in qmodel.nodes:
            ours = node.op.apply(*(env[t] for t in node.inputs))
            theirs = ort(node.name)
            if theirs is None:
                env[node.name] = ours
                continue
            stats[node.name] = np.concatenate([stats[node.name], np.abs(ours - theirs).ravel()])
            env[node.name] = theirs
    layers = {}
    for name, delta in stats.items():
        if not delta.size:
            continue
        values, counts = np.unique(delta[delta > 0], return_counts=True)
        layers[name] = {
            "values": int(delta.size),
            "differing": int(np.count_nonzero(delta)),
            "max_delta": int(delta.max()),
            "histogram": {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)},
        }
    return layers
