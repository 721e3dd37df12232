"""Post-training quantization: float :class:`~.model.Model` → :class:`~.qmodel.QuantizedModel`
(``docs/spec/quantization.md`` §7).

Compile time only: everything here may use floats, and nothing here is normative for the
circuit (an ONNX importer may choose scales differently); the integer program it produces is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from bigfile_zk.errors import ParameterError, QuantizationError
from bigfile_zk.reference import compute as ref

from . import model as fm
from .qmodel import QuantizedModel, QuantizedNode, TensorQuant, round_half_up

#: Requantizing operations: an activation right after one of them becomes its clamp.
FUSE_INTO = (fm.Dense, fm.Conv2d, fm.AvgPool, fm.GlobalAvgPool, fm.Add)


# --- multipliers ------------------------------------------------------------------------------


#: The compiler's default multiplier width ``b`` (spec §3.2): every ``M < 2^16``.
MULTIPLIER_BITS = 16
#: The widths :func:`shared_multipliers` accepts: ``M >= 2^(b-1)`` needs ``b >= 2``, and the
#: program's rule ``M < 2^31`` caps ``b`` at 31.
MULTIPLIER_BITS_RANGE = (2, 31)


def _multiplier_bits(bits: int) -> int:
    lo, hi = MULTIPLIER_BITS_RANGE
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not lo <= bits <= hi:
        raise ParameterError(f"multiplier_bits = {bits!r} must be an integer in {lo}..{hi}")
    return int(bits)


def shared_multipliers(
    ms: Sequence[float], *, multiplier_bits: int = MULTIPLIER_BITS
) -> tuple[tuple[int, ...], int]:
    """Spec §3.2: integers ``M_i`` and one shift ``s`` with ``M_i / 2^s ≈ m_i``.

    ``s`` is the largest in ``[1, 62]`` with every ``M_i = floor(m_i·2^s + 1/2) < 2^b``, ``b =
    multiplier_bits`` (``2..31``, default 16), computed exactly on the binary value of each
    float; every ``M_i`` must then be ``>= 1``. Raises ``ParameterError`` for a ``b`` outside
    ``2..31``, ``QuantizationError`` for ``m_i <= 0`` or non-finite, for ``max m_i >= 2^(b-1) -
    2^-2`` (no ``s >= 1`` fits) and for an ``m_i`` that rounds to 0 at that ``s``.
    """
    bits = _multiplier_bits(multiplier_bits)
    limit = 1 << bits
    assert limit <= ref.MULTIPLIER_LIMIT
    exact = []
    for m in ms:
        if isinstance(m, bool) or not isinstance(m, (int, float, np.integer, np.floating)):
            raise QuantizationError(f"multiplier m = {m!r} is not a number")
        if not (math.isfinite(float(m)) and float(m) > 0):
            raise QuantizationError(f"multiplier m = {m!r} must be finite and > 0")
        exact.append(Fraction(float(m)))
    if not exact:
        raise QuantizationError("no multiplier given")
    half = Fraction(1, 2)
    for s in range(ref.SHIFT_MAX, ref.SHIFT_MIN - 1, -1):
        big = [math.floor(f * 2**s + half) for f in exact]
        if max(big) < limit:
            break
    else:
        raise QuantizationError(
            f"multiplier m = {float(max(exact))!r} is too large: M = round(m·2) >= 2^{bits} "
            f"(multiplier_bits = {bits})"
        )
    if min(big) < 1:
        raise QuantizationError(
            f"multiplier m = {float(min(exact))!r} is too small: round(m·2^{s}) = 0 "
            f"(M < 2^{bits} caps the shift at {s})"
        )
    return tuple(big), s


def requant_multiplier(m: float, *, multiplier_bits: int = MULTIPLIER_BITS) -> tuple[int, int]:
    """``(M, s)`` for one real multiplier ``m`` (:func:`shared_multipliers` of ``[m]``).

    With ``b = multiplier_bits``: when ``s < 62``, ``M >= 2^(b-1)`` and ``|M/2^s - m| <=
    2^-(s+1)``, a relative error ``<= 1/(2M)`` of ``M/2^s`` and ``<= 1/(2^b - 1/2)`` of ``m``
    (about ``2^-b``); at ``s = 62`` (``m < (2^b - 1/2)·2^-62``) the error is still ``<= 2^-63``
    absolute.
    """
    (big,), s = shared_multipliers([m], multiplier_bits=multiplier_bits)
    return big, s


# --- quantization -----------------------------------------------------------------------------


def _weights(
    w: npt.NDArray[np.float64], per_channel: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Symmetric int8 per output channel (axis 0): ``S_w[o] = max|W[o]| / 127``. A channel of
    zeros borrows the tensor's scale (and a zero tensor uses 1/127) so its multiplier stays
    reasonable."""
    flat = np.abs(w.reshape(w.shape[0], -1))
    peak = flat.max(axis=1) if per_channel else np.full(w.shape[0], flat.max())
    fallback = flat.max() if flat.max() > 0 else 1.0
    scale = np.where(peak > 0, peak, fallback) / ref.WEIGHT_MAX
    q = round_half_up(w / scale.reshape(-1, *(1,) * (w.ndim - 1)))
    return np.clip(q, -ref.WEIGHT_MAX, ref.WEIGHT_MAX).astype(np.int64), scale


def _bound(x: float, q: TensorQuant) -> int:
    """``z + round_half_up(x / S)`` kept inside ``[dtype_lo - 1, dtype_hi + 1]`` (so infinite or
    huge Clip bounds just fall outside the dtype range)."""
    lo, hi = q.range
    if math.isinf(x):
        return hi + 1 if x > 0 else lo - 1
    v = x / q.scale + q.zero_point
    return int(min(max(round_half_up(v), lo - 1), hi + 1))


def activation_clamp(acts: Sequence[fm.Node], q: TensorQuant, where: str) -> tuple[int, int]:
    """Spec §7.4: the clamp of a tensor quantized as ``q`` after the activations ``acts``
    (ReLU: ``lo = max(dtype_lo, z)``; ReLU6 also ``hi = min(dtype_hi, z + round(6/S))``;
    Clip(a, b): ``z + round(a/S)``, ``z + round(b/S)``), intersected; none → the dtype range."""
    lo, hi = q.range
    for act in acts:
        assert isinstance(act, fm.ACTIVATIONS)
        a, b = act.bounds()
        lo, hi = max(lo, _bound(a, q)), min(hi, _bound(b, q))
    if lo > hi:
        raise QuantizationError(
            f"{where}: the activations {[a.name for a in acts]} leave no representable value "
            f"(clamp [{lo}, {hi}] with scale {q.scale}, zero point {q.zero_point})"
        )
    return lo, hi


def _multipliers(ms: Sequence[float], where: str, bits: int) -> tuple[tuple[int, ...], int]:
    try:
        return shared_multipliers(ms, multiplier_bits=bits)
    except QuantizationError as exc:
        raise QuantizationError(f"{where}: {exc}") from None


def quantize(
    model: fm.Model,
    calibration: npt.ArrayLike,
    *,
    input_quant: TensorQuant | None = None,
    input_range: tuple[int, int] | None = None,
    per_channel: bool = True,
    multiplier_bits: int = MULTIPLIER_BITS,
) -> QuantizedModel:
    """Quantize ``model`` after calibrating on ``calibration`` (``[N, *input_shape]`` floats).

    1. BatchNorms are folded into their Conv2d/Dense (:func:`~.model.fold_batchnorm`).
    2. An activation (ReLU, ReLU6, Clip) whose input is the output of a Dense, Conv2d, AvgPool,
       GlobalAvgPool or Add read by nothing else becomes that node's clamp (repeatedly, so
       chains fuse); other activations become standalone clamps.
    3. Every requantized tensor gets a quantization from its min/max over the calibration set
       (:meth:`TensorQuant.from_range`); MaxPool, Flatten, Reshape and standalone clamps keep
       their input's. The input's is ``input_quant`` (default: calibrated too) and its declared
       integer range ``input_range`` (default: the dtype's).
    4. Weights become int8 per output channel (``per_channel=False``: one scale per tensor),
       biases int32, multipliers ``(M, s)`` with every ``M < 2^multiplier_bits`` (default 16,
       allowed 2..31; spec §3.2); then the bounds analysis.

    Raises ``QuantizationError`` naming the node and the tensor when a bound fails.
    """
    _multiplier_bits(multiplier_bits)
    folded, sources = fm.fold_batchnorm_with_sources(model)
    calib = np.asarray(calibration)
    if calib.ndim == len(folded.input_shape) + 1 and calib.shape[0] == 0:
        raise ParameterError("the calibration set is empty")
    tensors = folded.tensors(calib)

    # Fusion plan: `head[act] = node it is fused into`; `acts[head]` in order.
    head: dict[str, str] = {}
    acts: dict[str, list[fm.Node]] = {}
    kinds = {node.name: node for node in folded.nodes}
    for node in folded.nodes:
        if not isinstance(node, fm.ACTIVATIONS):
            continue
        (src,) = node.inputs or ()
        target = head.get(src, src)
        if isinstance(kinds.get(target), FUSE_INTO) and folded.consumers(src) == [node.name]:
            head[node.name] = target
            acts.setdefault(target, []).append(node)
    final = {h: a[-1].name for h, a in acts.items()}  # whose float tensor the head's output is

    def tensor(name: str) -> str:
        return head.get(name, name)

    quants: dict[str, TensorQuant] = {}
    if input_quant is None:
        x = tensors[fm.INPUT]
        input_quant = TensorQuant.from_range(x.min(), x.max())
    quants[fm.INPUT] = input_quant

    def calibrated(name: str) -> TensorQuant:
        t = tensors[final.get(name, name)]
        return TensorQuant.from_range(t.min(), t.max())

    nodes: list[QuantizedNode] = []
    for node in folded.nodes:
        if node.name in head:
            continue
        inputs = tuple(tensor(n) for n in node.inputs or ())
        ins = [quants[n] for n in inputs]
        fused = sources[node.name] + tuple(a.name for a in acts.get(node.name, []))
        where = f"node {node.name!r} ({'+'.join(fused)})"
        shape = folded.shapes[node.name]
        weight_scale: tuple[float, ...] | None = None
        op: ref.Op
        if isinstance(node, FUSE_INTO):
            out = calibrated(node.name)
            clamp = activation_clamp(acts.get(node.name, []), out, where)
            common = {"output_zero_point": out.zero_point, "clamp": clamp}
            if isinstance(node, (fm.Dense, fm.Conv2d)):
                sx = ins[0].scale
                wq, sw = _weights(node.weight, per_channel)
                assert node.bias is not None
                qb = round_half_up(node.bias / (sx * sw))
                bad = np.flatnonzero((qb < ref.INT32_MIN) | (qb > ref.INT32_MAX))
                if bad.size:
                    o = int(bad[0])
                    raise QuantizationError(
                        f"{where}: tensor 'bias' q_b[{o}] = round(b/(S_x·S_w)) = {qb[o]:.6g} "
                        f"does not fit int32"
                    )
                # One (M, s) per output channel: m[o] = S_x·S_w[o] / S_y.
                pairs = [_multipliers([sx * s / out.scale], where, multiplier_bits) for s in sw]
                params = {
                    "weight": wq,
                    "bias": qb.astype(np.int64),
                    "input_zero_point": ins[0].zero_point,
                    "multiplier": [m for (m,), _ in pairs],
                    "shift": [s for _, s in pairs],
                    **common,
                }
                if isinstance(node, fm.Conv2d):
                    params |= {"stride": node.strides, "padding": node.pads}
                op = (ref.Dense if isinstance(node, fm.Dense) else ref.Conv2d)(**params)
                weight_scale = tuple(float(s) for s in sw)
            elif isinstance(node, (fm.AvgPool, fm.GlobalAvgPool)):
                in_shape = folded.shapes[inputs[0]]
                window = (
                    node.window[0][0] * node.window[0][1]
                    if isinstance(node, fm.AvgPool)
                    else in_shape[1] * in_shape[2]
                )
                (m,), s = _multipliers(
                    [ins[0].scale / (out.scale * window)], where, multiplier_bits
                )
                pool = {"input_zero_point": ins[0].zero_point, "multiplier": m, "shift": s}
                if isinstance(node, fm.AvgPool):
                    (kernel, stride) = node.window
                    op = ref.AvgPool(kernel=kernel, stride=stride, **pool, **common)
                else:
                    op = ref.GlobalAvgPool(**pool, **common)
            else:
                (m1, m2), s = _multipliers(
                    [q.scale / out.scale for q in ins], where, multiplier_bits
                )
                op = ref.Add(
                    input_zero_points=(ins[0].zero_point, ins[1].zero_point),
                    multipliers=(m1, m2),
                    shift=s,
                    **common,
                )
        else:
            out = ins[0]
            if isinstance(node, fm.ACTIVATIONS):
                op = ref.Clamp(clamp=activation_clamp([node], out, where))
            elif isinstance(node, fm.MaxPool):
                op = ref.MaxPool(kernel=node.window[0], stride=node.window[1])
            elif isinstance(node, (fm.Flatten, fm.Reshape)):
                op = ref.Reshape(shape=shape)
            else:  # pragma: no cover - BatchNorms are folded, every other kind is above
                raise QuantizationError(f"{where}: cannot quantize a {node.kind}")
        quants[node.name] = out
        nodes.append(
            QuantizedNode(
                name=node.name,
                inputs=inputs,
                op=op,
                shape=shape,
                output=out,
                fused=fused,
                weight_scale=weight_scale,
            )
        )
    return QuantizedModel(folded.input_shape, input_quant, nodes, input_range=input_range)
