"""The bounds analysis (bigfile_zk.compute.bounds): sound, tight where it should be, and data.

Soundness: the oracle is run with a trace on random and extreme inputs in the declared range,
and every intermediate of every node (accumulator, shifted value, pre-clamp, output) must lie in
its per-element interval. Programs: the spec-vector models, random integer programs (random
weights, zero points, multipliers, clamps, padding) and quantized random float models.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bigfile_zk import compute as cq
from bigfile_zk.reference import _gen_quantization_vectors as gen
from bigfile_zk.reference import compute as ref

VECTOR_MODELS = [m for _, _, m in gen._models()]


def _quant(rng: np.random.Generator) -> cq.TensorQuant:
    dtype = str(rng.choice(["int8", "uint8"]))
    lo, hi = ref.DTYPES[dtype]
    return cq.TensorQuant(dtype, float(rng.uniform(0.01, 0.1)), int(rng.integers(lo, hi + 1)))


def _clamp(rng: np.random.Generator, q: cq.TensorQuant) -> tuple[int, int]:
    lo, hi = q.range
    a, b = sorted(int(v) for v in rng.integers(lo, hi + 1, 2))
    return (a, b) if rng.random() < 0.5 else (lo, hi)


def _requant(rng: np.random.Generator, channels: int | None) -> dict[str, Any]:
    n = channels or 1
    m = [int(v) for v in rng.integers(2**30, 2**31, n)]
    s = [int(v) for v in rng.integers(36, 44, n)]
    return {"multiplier": m if channels else m[0], "shift": s if channels else s[0]}


def random_program(seed: int) -> cq.QuantizedModel:
    """conv (random stride/padding) → pool or clamp → flatten → dense → add(dense, dense')."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 4)), int(rng.integers(3, 7)), int(rng.integers(3, 7))
    qin = _quant(rng)
    lo, hi = qin.range
    a, b = sorted(int(v) for v in rng.integers(lo, hi + 1, 2))
    nodes: list[cq.QuantizedNode] = []
    shapes = {"input": (c, h, w)}
    quants = {"input": qin}

    def add(
        name: str,
        inputs: tuple[str, ...],
        op: ref.Op,
        out: cq.TensorQuant | None = None,
        ws: Any = None,
    ) -> None:
        shape = op.output_shape([shapes[n] for n in inputs])
        out = out or quants[inputs[0]]
        nodes.append(cq.QuantizedNode(name, inputs, op, shape, out, weight_scale=ws))
        shapes[name], quants[name] = shape, out

    o, k = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    qc = _quant(rng)
    add(
        "conv",
        ("input",),
        ref.Conv2d(
            weight=rng.integers(-127, 128, (o, c, k, k)),
            bias=rng.integers(-5000, 5000, o),
            stride=tuple(int(v) for v in rng.integers(1, 3, 2)),
            padding=tuple(int(v) for v in rng.integers(0, k, 4)),
            input_zero_point=qin.zero_point,
            output_zero_point=qc.zero_point,
            clamp=_clamp(rng, qc),
            **_requant(rng, o),
        ),
        qc,
        [1.0] * o,
    )
    _, ho, wo = shapes["conv"]
    choice = rng.integers(0, 4)
    if choice == 0 and min(ho, wo) >= 2:
        add("pool", ("conv",), ref.MaxPool(kernel=(2, 2), stride=(1, 2)))
    elif choice == 1 and min(ho, wo) >= 2:
        qp = _quant(rng)
        add(
            "pool",
            ("conv",),
            ref.AvgPool(
                kernel=(2, 1),
                stride=(1, 1),
                input_zero_point=qc.zero_point,
                output_zero_point=qp.zero_point,
                clamp=_clamp(rng, qp),
                **_requant(rng, None),
            ),
            qp,
        )
    elif choice == 2:
        qp = _quant(rng)
        add(
            "pool",
            ("conv",),
            ref.GlobalAvgPool(
                input_zero_point=qc.zero_point,
                output_zero_point=qp.zero_point,
                clamp=_clamp(rng, qp),
                **_requant(rng, None),
            ),
            qp,
        )
    else:
        add("pool", ("conv",), ref.Clamp(clamp=_clamp(rng, qc)))
    n = int(np.prod(shapes["pool"]))
    add("flat", ("pool",), ref.Reshape(shape=(n,)))
    dense_outs = []
    for name in ("fc1", "fc2"):
        qd = _quant(rng)
        add(
            name,
            ("flat",),
            ref.Dense(
                weight=rng.integers(-127, 128, (4, n)),
                bias=rng.integers(-5000, 5000, 4),
                input_zero_point=quants["flat"].zero_point,
                output_zero_point=qd.zero_point,
                clamp=_clamp(rng, qd),
                **_requant(rng, 4),
            ),
            qd,
            [1.0] * 4,
        )
        dense_outs.append(quants[name])
    qa = _quant(rng)
    add(
        "add",
        ("fc1", "fc2"),
        ref.Add(
            input_zero_points=tuple(q.zero_point for q in dense_outs),
            multipliers=tuple(int(v) for v in rng.integers(2**28, 2**31, 2)),
            shift=int(rng.integers(28, 34)),
            output_zero_point=qa.zero_point,
            clamp=_clamp(rng, qa),
        ),
        qa,
    )
    return cq.QuantizedModel((c, h, w), qin, nodes, input_range=(a, b))


def _inputs(model: cq.QuantizedModel, rng: np.random.Generator) -> list[np.ndarray]:
    lo, hi = model.input_range
    shape = model.input_shape
    first = model.nodes[0].op
    xs = [
        rng.integers(lo, hi + 1, shape),
        np.full(shape, lo),
        np.full(shape, hi),
        np.where(rng.random(shape) < 0.5, lo, hi),
    ]
    if isinstance(first, ref.Dense):  # the input that drives output 0's accumulator to its max
        xs.append(np.where(first.weight[0] > 0, hi, lo))
    return xs


def _check_trace(model: cq.QuantizedModel, x: np.ndarray) -> None:
    trace: dict[str, dict[str, np.ndarray]] = {}
    model.forward_int(x, trace=trace)
    for node in model.bounds:
        stages = trace[node.name]
        assert set(stages) == set(node.elements), node.name
        for stage, value in stages.items():
            lo, hi = node.elements[stage]
            assert value.shape == lo.shape == hi.shape
            assert np.all(lo <= value) and np.all(value <= hi), (node.name, stage)
        assert node.output.lo <= stages["output"].min() and stages["output"].max() <= node.output.hi


@given(index=st.integers(0, len(VECTOR_MODELS) - 1), seed=st.integers(0, 2**32 - 1))
def test_vector_models_stay_inside_their_bounds(index: int, seed: int) -> None:
    model = VECTOR_MODELS[index]
    for x in _inputs(model, np.random.default_rng(seed)):
        _check_trace(model, x)


@given(program=st.integers(0, 2**32 - 1), seed=st.integers(0, 2**32 - 1))
def test_random_programs_stay_inside_their_bounds(program: int, seed: int) -> None:
    model = random_program(program)
    for x in _inputs(model, np.random.default_rng(seed)):
        _check_trace(model, x)


def test_quantized_float_models_stay_inside_their_bounds() -> None:
    from test_compute_quant import _every_node_model

    model, xs = _every_node_model()
    qm = cq.quantize(model, xs, input_quant=cq.TensorQuant("uint8", 1 / 255, 0))
    for x in _inputs(qm, np.random.default_rng(0)):
        _check_trace(qm, x)


# -- tightness and shape of the intervals ------------------------------------------------------


def test_conv_accumulator_bounds_are_tight_per_position() -> None:
    """Each output position's window is independent, so the extreme input for that window
    (hi where W > 0, lo elsewhere; padded positions contribute 0) reaches the bound."""
    rng = np.random.default_rng(7)
    model = random_program(3)
    while not isinstance(model.nodes[0].op, ref.Conv2d) or not any(model.nodes[0].op.padding):
        model = random_program(int(rng.integers(2**32)))
    op = model.nodes[0].op
    assert isinstance(op, ref.Conv2d)
    lo, hi = model.input_range
    acc_lo, acc_hi = model.bounds["conv"].elements["acc"]
    _, kh, kw = op.weight.shape[1:]
    sh, sw = op.stride
    top, left = op.padding[:2]
    c, h, w = model.input_shape
    for oo, i, j in np.ndindex(acc_hi.shape):
        for sign, want in ((1, acc_hi), (-1, acc_lo)):
            x = np.full((c, h, w), lo if sign > 0 else hi)
            for u in range(kh):
                for v in range(kw):
                    r, q = i * sh + u - top, j * sw + v - left
                    if 0 <= r < h and 0 <= q < w:
                        x[:, r, q] = np.where(sign * op.weight[oo, :, u, v] > 0, hi, lo)
            acc = ref.conv2d_acc(x, op.weight, op.bias, op.stride, op.padding, op.input_zero_point)
            assert acc[oo, i, j] == want[oo, i, j]


def test_padded_borders_get_narrower_intervals() -> None:
    op = ref.Conv2d(
        weight=np.full((1, 1, 3, 3), 10),
        bias=[0],
        stride=(1, 1),
        padding=(1, 1, 1, 1),
        input_zero_point=-128,
        multiplier=[2**30],
        shift=[40],
        output_zero_point=-128,
        clamp=(-128, 127),
    )
    q = cq.TensorQuant("int8", 0.1, -128)
    node = cq.QuantizedNode("c", ("input",), op, (1, 4, 4), q, weight_scale=(0.01,))
    model = cq.QuantizedModel((1, 4, 4), q, [node])
    acc_lo, acc_hi = model.bounds["c"].elements["acc"]
    assert acc_lo.min() == 0  # x = -128 = z_x everywhere
    # x - z <= 255: a corner reads 4 real inputs, an edge 6, the centre 9.
    assert acc_hi[0].tolist() == [[4 * 2550, 6 * 2550, 6 * 2550, 4 * 2550]] + [
        [6 * 2550, 9 * 2550, 9 * 2550, 6 * 2550]
    ] * 2 + [[4 * 2550, 6 * 2550, 6 * 2550, 4 * 2550]]
    report = model.bounds["c"]
    assert report.macs == (4 * 4 + 4 * 2 * 6 + 4 * 9)  # valid products only
    assert report.requants == 16


def test_report_is_data() -> None:
    model = VECTOR_MODELS[-1]  # the 'cnn' vector: conv → max_pool → flatten → dense
    report = model.bounds
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert [n["name"] for n in data["nodes"]] == ["conv", "pool", "flat", "fc"]
    conv = report["conv"]
    assert (
        conv.op == "conv2d" and conv.input_shapes == ((1, 6, 6),) and conv.output_shape == (2, 6, 6)
    )
    assert conv.macs == 2 * (6 * 3 - 2) ** 2  # 3 taps per row, minus the padded ones
    assert conv.acc is not None and conv.acc_bits == conv.acc.bits
    assert conv.product is not None and conv.product.magnitude < 2**62
    assert conv.clamp == cq.Interval(*model.nodes[0].op.clamp)
    assert report["pool"].acc is None and report["pool"].requants == 0 and report["pool"].macs == 0
    assert report["fc"].macs == 3 * 18
    assert report.macs == conv.macs + 3 * 18
    assert report.requants == 2 * 36 + 3
    assert report.max_acc_bits == max(conv.acc_bits, report["fc"].acc_bits or 0)
    assert report.max_shift == max(
        int(n.op.shift.max()) for n in model.nodes if hasattr(n.op, "shift")
    )
    assert report.input == cq.Interval(0, 16)
    with pytest.raises(KeyError):
        report["nope"]


@pytest.mark.parametrize(
    ("lo", "hi", "bits"),
    [(0, 0, 1), (-1, 0, 1), (0, 1, 2), (-128, 127, 8), (0, 255, 9), (-(2**31), 2**31 - 1, 32)],
)
def test_interval_bits(lo: int, hi: int, bits: int) -> None:
    assert cq.Interval(lo, hi).bits == bits
