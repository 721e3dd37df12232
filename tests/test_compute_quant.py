"""bigfile_zk.compute: float models, the post-training quantizer and QuantizedModel.

The float forward pass is checked against plain numpy, BatchNorm folding against the unfolded
model, the quantized program against the float model within an error bound derived from the
scales (spec §7.5), and QuantizedModel's checks, serialization and bound errors.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bigfile_zk import compute as cq
from bigfile_zk.errors import DecodeError, ParameterError, QuantizationError
from bigfile_zk.reference import _gen_quantization_vectors as gen
from bigfile_zk.reference import compute as ref

# -- the float model ---------------------------------------------------------------------------


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_float_nodes_match_numpy() -> None:
    rng = _rng()
    x = rng.normal(size=(2, 5, 6))
    w = rng.normal(size=(3, 2, 3, 2))
    b = rng.normal(size=3)
    conv = cq.Model((2, 5, 6), [cq.Conv2d("c", w, b, stride=(2, 1), padding=(1, 0, 2, 1))])
    xp = np.pad(x, ((0, 0), (1, 2), (0, 1)))
    want = np.zeros((3, 3, 6))
    for o in range(3):
        for i in range(3):
            for j in range(6):
                want[o, i, j] = b[o] + np.sum(w[o] * xp[:, 2 * i : 2 * i + 3, j : j + 2])
    np.testing.assert_allclose(conv.forward(x), want, atol=1e-12)

    pools = cq.Model(
        (2, 5, 6),
        [cq.AvgPool("a", (2, 3), stride=(1, 2)), cq.MaxPool("m", 2), cq.GlobalAvgPool("g")],
    )
    t = pools.tensors(x[None])
    assert t["a"].shape == (1, 2, 4, 2) and t["m"].shape == (1, 2, 2, 1)
    assert t["a"][0, 1, 2, 1] == pytest.approx(x[1, 2:4, 2:5].mean())
    assert t["m"][0, 0, 1, 0] == pytest.approx(t["a"][0, 0, 2:4, 0:2].max())
    assert t["g"][0, :, 0, 0] == pytest.approx(t["m"][0].mean(axis=(1, 2)))

    d = rng.normal(size=(4, 12))
    mlp = cq.Model(
        (3, 4),
        [
            cq.Flatten("f"),
            cq.Dense("d", d),
            cq.BatchNorm("bn", np.arange(1.0, 5), np.ones(4), np.zeros(4), np.full(4, 3.0)),
            cq.ReLU6("r6"),
            cq.Reshape("rs", (2, -1)),
            cq.Clip("c", -0.5, 0.5),
            cq.Add("add", inputs=("rs", "c")),
        ],
    )
    x2 = rng.normal(size=(3, 4)) * 3
    h = d @ x2.ravel() * np.arange(1.0, 5) / np.sqrt(3 + 1e-5) + 1
    h = np.clip(h, 0, 6).reshape(2, 2)
    np.testing.assert_allclose(mlp.forward(x2), h + np.clip(h, -0.5, 0.5))
    assert mlp.shapes["rs"] == (2, 2) and mlp.output_shape == (2, 2)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: cq.Model(
                (4,), [cq.Dense("a", np.ones((2, 4))), cq.Dense("a", np.ones((2, 2)))]
            ),
            "already",
        ),
        (lambda: cq.Model((4,), [cq.Dense("input", np.ones((2, 4)))]), "already"),
        (lambda: cq.Model((4,), [cq.Dense("a", np.ones((2, 4)), inputs=("b",))]), "unknown input"),
        (lambda: cq.Model((4,), [cq.Dense("a", np.ones((2, 3)))]), "takes 3 inputs"),
        (
            lambda: cq.Model(
                (4,), [cq.Dense("a", np.ones((2, 4))), cq.ReLU("r", inputs=("input",))]
            ),
            "never used",
        ),
        (lambda: cq.Model((1, 4, 4), [cq.Dense("a", np.ones((2, 16)))]), "rank-1"),
        (lambda: cq.Model((1, 2, 2), [cq.Conv2d("c", np.ones((1, 1, 3, 3)))]), "does not fit"),
        (lambda: cq.Model((1, 2, 2), [cq.MaxPool("m", 3)]), "does not fit"),
        (lambda: cq.Model((4,), [cq.Add("a")]), "must name"),
        (lambda: cq.Model((4,), [cq.Add("a", inputs=("input",))]), "2 input"),
        (lambda: cq.Model((4,), [cq.Reshape("r", (3, -1))]), "cannot reshape"),
        (lambda: cq.Model((4,), [cq.Reshape("r", (-1, -1))]), "bad shape"),
        (lambda: cq.Model((4,), [cq.Dense("a", np.full((2, 4), np.nan))]), "non-finite"),
        (lambda: cq.Model((4,), [cq.Dense("a", np.ones((2, 4)), np.ones(3))]), "bias"),
        (lambda: cq.Model((4,), [cq.Clip("c", 1.0, 1.0)]), "lo < hi"),
        (lambda: cq.Model((0,), [cq.ReLU("r")]), "input_shape"),
        (lambda: cq.Model((4,), []), "at least one"),
    ],
)
def test_model_validation(make: Callable[[], cq.Model], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        make()


def test_forward_checks_its_input() -> None:
    m = cq.Model((4,), [cq.ReLU("r")])
    with pytest.raises(ParameterError, match="shape"):
        m.forward(np.zeros(5))
    with pytest.raises(ParameterError, match="non-finite"):
        m.forward(np.array([0, 1, np.inf, 0]))
    with pytest.raises(ParameterError, match="real numbers"):
        m.forward_batch(np.array([["a", "b", "c", "d"]]))


def test_batchnorm_folding() -> None:
    rng = _rng(1)
    bn = cq.BatchNorm(
        "bn", rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3), rng.uniform(0.1, 2, 3)
    )
    bn2 = cq.BatchNorm("bn2", np.full(3, 2.0), np.zeros(3), np.ones(3), np.ones(3), eps=0.0)
    model = cq.Model(
        (2, 5, 5),
        [cq.Conv2d("c", rng.normal(size=(3, 2, 3, 3)), padding=1), bn, bn2, cq.ReLU("r")],
    )
    folded = cq.fold_batchnorm(model)
    assert [n.name for n in folded.nodes] == ["c", "r"]
    assert folded.nodes[1].inputs == ("c",)
    xs = rng.normal(size=(4, 2, 5, 5))
    np.testing.assert_allclose(folded.forward_batch(xs), model.forward_batch(xs), atol=1e-12)

    q = cq.quantize(model, xs)
    assert q.nodes[0].fused == ("c", "bn", "bn2", "r")

    bad = cq.Model((4,), [cq.ReLU("r"), cq.BatchNorm("bn", *np.ones((4, 4)))])
    with pytest.raises(QuantizationError, match="'bn'"):
        cq.fold_batchnorm(bad)
    shared = cq.Model(
        (4,),
        [
            cq.Dense("d", np.eye(4)),
            cq.BatchNorm("bn", *np.ones((4, 4))),
            cq.Add("a", inputs=("d", "bn")),
        ],
    )
    with pytest.raises(QuantizationError, match="alone"):
        cq.quantize(shared, np.ones((1, 4)))


# -- TensorQuant and multipliers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "dtype", "scale", "zero"),
    [
        (0.0, 2.0, "uint8", 2 / 255, 0),
        (0.5, 2.0, "uint8", 2 / 255, 0),  # widened to contain 0
        (-1.0, 3.0, "int8", 4 / 255, -64),  # -128 + 63.75 rounds half up to -64
        (-3.0, -1.0, "int8", 3 / 255, 127),
        (0.0, 0.0, "uint8", 1 / 255, 0),
    ],
)
def test_tensor_quant_from_range(lo: float, hi: float, dtype: str, scale: float, zero: int) -> None:
    q = cq.TensorQuant.from_range(lo, hi)
    assert (q.dtype, q.zero_point) == (dtype, zero)
    assert q.scale == pytest.approx(scale)
    assert q.dequantize(q.zero_point) == 0.0  # zero is exact: padding and ReLU need it
    qlo, qhi = q.range
    assert q.dequantize(qlo) <= min(lo, 0) + q.scale / 2
    assert q.dequantize(qhi) >= max(hi, 0) - q.scale / 2


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("int16", 1.0, 0), "dtype"),
        (("int8", 0.0, 0), "scale"),
        (("int8", -1.0, 0), "scale"),
        (("int8", float("nan"), 0), "scale"),
        (("int8", "1", 0), "scale"),
        (("int8", True, 0), "scale"),
        (("int8", 1.0, 128), "zero_point"),
        (("uint8", 1.0, -1), "zero_point"),
        (("int8", 1.0, 0.0), "zero_point"),
    ],
)
def test_tensor_quant_validation(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        cq.TensorQuant(*args)


@pytest.mark.parametrize("bits", [2, 8, 16, 24, 31])
@given(data=st.data())
def test_requant_multiplier_error_bound(bits: int, data: st.DataObject) -> None:
    """Spec §3.2 at width b: s is the largest with M < 2^b; then (s < 62) M >= 2^(b-1), the
    error is at most 2^-(s+1), i.e. relative <= 1/(2M) of M/2^s and <= 1/(2^b - 1/2) of m; at
    s = 62 the absolute error is at most 2^-63."""
    m = data.draw(st.floats(2.0**-63, 2.0 ** (bits - 1) - 0.25, exclude_max=True, allow_nan=False))
    big, s = cq.requant_multiplier(m, multiplier_bits=bits)
    assert ((big,), s) == cq.shared_multipliers([m], multiplier_bits=bits)
    exact = Fraction(m)
    assert 1 <= big < 2**bits and 1 <= s <= 62
    assert big == math.floor(exact * 2**s + Fraction(1, 2))
    one_more = math.floor(exact * 2 ** (s + 1) + Fraction(1, 2))
    assert s == 62 or one_more >= 2**bits  # one more bit would not fit
    err = abs(Fraction(big, 2**s) - exact)
    assert err <= Fraction(1, 2 ** (s + 1))
    if s < 62:
        assert big >= 2 ** (bits - 1)
        assert err / Fraction(big, 2**s) <= Fraction(1, 2 * big)
        assert err / exact <= 1 / (Fraction(2**bits) - Fraction(1, 2))
    else:
        assert exact < (Fraction(2**bits) - Fraction(1, 2)) / 2**62


def test_multiplier_width_default_and_limits() -> None:
    """The default width is 16; 2..31 are accepted; the refusal at the top names the bound."""
    assert cq.MULTIPLIER_BITS == 16
    assert (
        cq.requant_multiplier(0.5) == (2**15, 16) == cq.requant_multiplier(0.5, multiplier_bits=16)
    )
    assert cq.requant_multiplier(0.5, multiplier_bits=31) == (2**30, 31)
    for bits in (2, 16, 31):
        top = 2.0 ** (bits - 1) - 0.25  # M = round(2m) = 2^b already at s = 1
        assert cq.requant_multiplier(top - 2.0**-20, multiplier_bits=bits) == (2**bits - 1, 1)
        with pytest.raises(QuantizationError, match=rf"too large: M = round\(m·2\) >= 2\^{bits}"):
            cq.requant_multiplier(top, multiplier_bits=bits)
    # A shared shift: the smaller multiplier must survive the larger one's width.
    assert cq.shared_multipliers([1.0, 2.0**-16]) == ((2**15, 1), 15)
    with pytest.raises(QuantizationError, match=r"too small: round\(m·2\^15\) = 0"):
        cq.shared_multipliers([1.0, 2.0**-17])
    assert cq.shared_multipliers([1.0, 2.0**-17], multiplier_bits=31) == ((2**30, 2**13), 30)
    for bad in (1, 32, 0, -16, True, 16.0, "16", None):
        with pytest.raises(ParameterError, match="multiplier_bits"):
            cq.requant_multiplier(0.5, multiplier_bits=bad)  # type: ignore[arg-type]
        with pytest.raises(ParameterError, match="multiplier_bits"):
            cq.quantize(
                cq.Model((2,), [cq.Dense("fc", np.eye(2))]),
                np.ones((1, 2)),
                multiplier_bits=bad,  # type: ignore[arg-type]
            )


# -- quantized vs float --------------------------------------------------------------------------


def _tolerance(
    qm: cq.QuantizedModel, x_hat: np.ndarray, window_abs: np.ndarray, acc: np.ndarray
) -> np.ndarray:
    """Spec §7.5 for one Dense/Conv2d layer fed the dequantized input ``x_hat``: weight rounding
    ``S_w/2·Σ|x̂|`` + bias rounding ``S_x·S_w/2`` + output rounding ``S_y/2`` + multiplier error
    ``S_y·|acc|·2^-(s+1)`` (``acc`` the layer's accumulator on this input)."""
    node = qm.nodes[0]
    assert isinstance(node.op, (ref.Dense, ref.Conv2d)) and node.weight_scale is not None
    extra = (1,) * (window_abs.ndim - 1)
    sw = np.array(node.weight_scale).reshape(-1, *extra)
    sx, sy = qm.input_quant.scale, node.output.scale
    s = node.op.shift.reshape(-1, *extra)
    return sw / 2 * window_abs + sx * sw / 2 + sy / 2 + sy * np.abs(acc) * 2.0 ** -(s + 1) + 1e-9


@given(
    seed=st.integers(0, 2**32 - 1),
    conv=st.booleans(),
    relu=st.booleans(),
    per_channel=st.booleans(),
    bits=st.sampled_from([cq.MULTIPLIER_BITS, 31]),
)
def test_single_layer_within_the_error_bound(
    seed: int, conv: bool, relu: bool, per_channel: bool, bits: int
) -> None:
    rng = _rng(seed)
    offset, spread = rng.normal() * 2, rng.uniform(0.1, 3)
    if conv:
        c, o, k = rng.integers(1, 4), rng.integers(1, 4), int(rng.integers(1, 4))
        shape: tuple[int, ...] = (int(c), 5, 4)
        pad = tuple(int(p) for p in rng.integers(0, 2, 4))
        stride = tuple(int(v) for v in rng.integers(1, 3, 2))
        layer: cq.Node = cq.Conv2d(
            "layer", rng.normal(size=(o, c, k, k)), rng.normal(size=o), stride=stride, padding=pad
        )
        ones = cq.Conv2d("ones", np.ones((1, c, k, k)), stride=stride, padding=pad)
        window = cq.Model(shape, [ones])
    else:
        n_in = int(rng.integers(1, 20))
        shape = (n_in,)
        n_out = int(rng.integers(1, 6))
        layer = cq.Dense("layer", rng.normal(size=(n_out, n_in)), rng.normal(size=n_out))
        window = cq.Model(shape, [cq.Dense("ones", np.ones((1, n_in)))])
    nodes = [layer, cq.ReLU("relu")] if relu else [layer]
    model = cq.Model(shape, nodes)
    xs = rng.normal(size=(16, *shape)) * spread + offset
    qm = cq.quantize(model, xs, per_channel=per_channel, multiplier_bits=bits)
    assert len(qm.nodes) == 1  # the ReLU is fused
    op = qm.nodes[0].op
    assert isinstance(op, (ref.Dense, ref.Conv2d)) and np.all(op.multiplier < 2**bits)
    out = qm.nodes[0].output
    lo, hi = out.dequantize(np.array(qm.nodes[0].op.clamp))
    for x in xs[:4]:
        xi = qm.quantize_input(x)
        x_hat = qm.input_quant.dequantize(xi)
        want = np.clip(model.forward(x_hat), lo, hi)
        trace: dict[str, dict[str, np.ndarray]] = {}
        got = qm.dequantize_output(qm.forward_int(xi, trace=trace))
        acc = trace[qm.nodes[0].name]["acc"]
        tol = _tolerance(qm, x_hat, window.forward(np.abs(x_hat)), acc)
        assert np.all(np.abs(got - want) <= tol), (got, want, tol)


def _every_node_model(seed: int = 2) -> tuple[cq.Model, np.ndarray]:
    rng = _rng(seed)
    model = cq.Model(
        (2, 8, 8),
        [
            cq.Conv2d("conv1", rng.normal(size=(4, 2, 3, 3)) * 0.5, rng.normal(size=4), padding=1),
            cq.BatchNorm(
                "bn1", rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4), np.ones(4)
            ),
            cq.ReLU("relu1"),
            cq.MaxPool("mp", 2),
            cq.ReLU("relu_s"),  # after a MaxPool: a standalone clamp
            cq.Conv2d("conv2", rng.normal(size=(4, 4, 3, 3)) * 0.3, padding=1),
            cq.ReLU6("r6"),
            cq.Add("add", inputs=("relu_s", "r6")),
            cq.Clip("clip", -1.0, 3.0),
            cq.AvgPool("ap", 2),
            cq.GlobalAvgPool("gap"),
            cq.Reshape("rs", (2, 2)),
            cq.Flatten("flat"),
            cq.Dense("fc", rng.normal(size=(3, 4)), rng.normal(size=3)),
        ],
    )
    return model, rng.uniform(0, 1, size=(32, 2, 8, 8))


def test_every_node_type_quantizes() -> None:
    model, xs = _every_node_model()
    assert {type(n) for n in model.nodes} == set(cq.model.NODE_TYPES)
    qm = cq.quantize(model, xs, input_quant=cq.TensorQuant("uint8", 1 / 255, 0))
    got = [(n.name, n.op.kind, n.fused) for n in qm.nodes]
    assert got == [
        ("conv1", "conv2d", ("conv1", "bn1", "relu1")),
        ("mp", "max_pool", ("mp",)),
        ("relu_s", "clamp", ("relu_s",)),
        ("conv2", "conv2d", ("conv2", "r6")),
        ("add", "add", ("add", "clip")),
        ("ap", "avg_pool", ("ap",)),
        ("gap", "global_avg_pool", ("gap",)),
        ("rs", "reshape", ("rs",)),
        ("flat", "reshape", ("flat",)),
        ("fc", "dense", ("fc",)),
    ]
    assert qm.node("add").inputs == ("relu_s", "conv2")
    # Pass-through nodes keep their input's quantization.
    assert qm.node("mp").output == qm.node("conv1").output == qm.node("relu_s").output
    # Fused clamps (spec §7.4).
    r6 = qm.node("conv2").output
    assert qm.node("conv2").op.clamp == (
        max(r6.range[0], r6.zero_point),
        min(r6.range[1], r6.zero_point + int(np.floor(6 / r6.scale + 0.5))),
    )
    a = qm.node("add").output
    lo = a.zero_point + int(np.floor(-1 / a.scale + 0.5))
    assert qm.node("add").op.clamp == (
        max(a.range[0], lo),
        min(a.range[1], a.zero_point + int(np.floor(3 / a.scale + 0.5))),
    )
    # The dequantized output follows the float model within a few output steps.
    sy = qm.output_quant.scale
    for x in xs[:8]:
        got = qm.dequantize_output(qm.forward_int(qm.quantize_input(x)))
        assert np.max(np.abs(got - model.forward(x))) < 6 * sy


def test_standalone_clip_uses_its_input_scale() -> None:
    model = cq.Model((4,), [cq.Clip("c", -0.25, 0.5)])
    qm = cq.quantize(model, np.array([[-1.0, 1.0, 0.0, 0.3]]))
    q = qm.input_quant
    assert qm.nodes[0].op.clamp == (
        q.zero_point + int(np.floor(-0.25 / q.scale + 0.5)),
        q.zero_point + int(np.floor(0.5 / q.scale + 0.5)),
    )
    assert qm.output_quant == q


def test_clip_beyond_the_range_is_an_error_or_no_op() -> None:
    xs = np.linspace(0, 1, 8).reshape(2, 4)
    qm = cq.quantize(cq.Model((4,), [cq.Dense("d", np.eye(4)), cq.Clip("c", -5.0, np.inf)]), xs)
    assert qm.nodes[0].op.clamp == qm.nodes[0].output.range  # nothing to clamp
    with pytest.raises(QuantizationError, match="no representable value"):
        cq.quantize(cq.Model((4,), [cq.ReLU("r"), cq.Clip("c", 5.0, 6.0)]), xs)


# -- QuantizedModel: inputs, outputs, bytes ----------------------------------------------------


@pytest.fixture(scope="module")
def small() -> cq.QuantizedModel:
    """The 'cnn' vector model: uint8 [1, 6, 6] input, declared range [0, 16]."""
    return next(m for name, _, m in gen._models() if name == "cnn")


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((1, 6, 5), dtype=np.uint8), "shape"),
        (np.zeros((6, 6), dtype=np.uint8), "shape"),
        (np.zeros((1, 6, 6)), "dtype float64"),
        (np.zeros((1, 6, 6), dtype=bool), "dtype bool"),
        (np.full((1, 6, 6), 17), "value 17, outside the declared input range \\[0, 16\\]"),
        (np.full((1, 6, 6), -1), "value -1"),
        ([[["a"] * 6] * 6], "dtype"),
    ],
)
def test_forward_int_rejects_bad_inputs(small: cq.QuantizedModel, x: Any, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        small.forward_int(x)
    with pytest.raises(ParameterError, match=match):
        small.input_bytes(x)


def test_quantize_input_and_bytes(small: cq.QuantizedModel) -> None:
    x = np.arange(36).reshape(1, 6, 6) % 17 / 16
    xi = small.quantize_input(x)
    assert xi.tolist() == (np.arange(36).reshape(1, 6, 6) % 17).tolist()
    assert small.input_from_bytes(small.input_bytes(xi)).tolist() == xi.tolist()
    assert small.input_bytes(xi.astype(np.uint8)) == bytes(xi.ravel().tolist())
    with pytest.raises(ParameterError, match="outside the declared input range"):
        small.quantize_input(x * 2)
    assert small.quantize_input(x * 2, saturate=True).max() == 16
    with pytest.raises(ParameterError, match="non-finite"):
        small.quantize_input(np.full((1, 6, 6), np.nan))
    with pytest.raises(ParameterError, match="shape"):
        small.quantize_input(np.zeros((6, 6)))
    with pytest.raises(ParameterError, match="outside"):
        small.input_from_bytes(bytes([17] * 36))
    with pytest.raises(ParameterError, match="36 bytes"):
        small.input_from_bytes(bytes(35))
    y = small.forward_int(xi)
    assert small.dequantize_output(y) == pytest.approx(small.output_quant.dequantize(y))
    assert small.output_field_elements(y) == ref.to_field(y)
    with pytest.raises(ParameterError):
        small.dequantize_output(np.zeros(4, dtype=int))


# -- serialization -------------------------------------------------------------------------------


def test_to_dict_round_trips_through_json() -> None:
    model, xs = _every_node_model()
    qm = cq.quantize(model, xs)
    data = json.loads(json.dumps(qm.to_dict()))
    again = cq.QuantizedModel.from_dict(data)
    assert again == qm and again.to_dict() == qm.to_dict()
    x = qm.quantize_input(xs[0])
    assert again.forward_int(x).tolist() == qm.forward_int(x).tolist()


def _insert_dead_node(d: dict[str, Any]) -> None:
    pool = next(n for n in d["nodes"] if n["name"] == "pool")
    dead = {**copy.deepcopy(pool), "name": "dead", "op": "clamp", "inputs": ["pool"]}
    dead["params"] = {"clamp": [0, 10]}
    d["nodes"].insert(2, dead)


def _mutations() -> list[tuple[str, Callable[[dict[str, Any]], None], str]]:
    def node(d: dict[str, Any], name: str) -> dict[str, Any]:
        return next(n for n in d["nodes"] if n["name"] == name)

    def setp(name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda d: node(d, name)["params"].__setitem__(key, value)

    return [
        ("extra top key", lambda d: d.__setitem__("extra", 1), "unknown keys \\['extra'\\]"),
        ("missing nodes", lambda d: d.pop("nodes"), "missing keys \\['nodes'\\]"),
        ("version", lambda d: d.__setitem__("version", 2), "version"),
        ("format", lambda d: d.__setitem__("format", "onnx"), "format"),
        ("input dtype", lambda d: d["input"].__setitem__("dtype", "int16"), "dtype"),
        ("input scale", lambda d: d["input"].__setitem__("scale", 0), "scale"),
        ("input range", lambda d: d["input"].__setitem__("range", [0, 256]), "range"),
        ("input range type", lambda d: d["input"].__setitem__("range", [0.0, 16]), "range"),
        ("input shape", lambda d: d["input"].__setitem__("shape", [1, 6, 0]), "shape"),
        (
            "weight 128",
            lambda d: node(d, "conv")["params"]["weight"][0][0][0].__setitem__(0, 128),
            "weight",
        ),
        ("float bias", setp("conv", "bias", [0.5, 1.0]), "integers"),
        ("shift 0", setp("fc", "shift", [0, 1, 1]), "shift"),
        ("unknown param", lambda d: node(d, "pool")["params"].__setitem__("pad", 0), "unexpected"),
        ("unknown op", lambda d: node(d, "pool").__setitem__("op", "lrn"), "unknown op"),
        ("zero point", setp("fc", "input_zero_point", 1), "zero point 1 differs"),
        ("output zero point", setp("fc", "output_zero_point", 0), "output_zero_point"),
        ("clamp outside dtype", setp("conv", "clamp", [-5, 100]), "clamp"),
        ("no weight_scale", lambda d: node(d, "fc").pop("weight_scale"), "weight_scale"),
        (
            "weight_scale on pool",
            lambda d: node(d, "pool").__setitem__("weight_scale", [1.0]),
            "weight_scale",
        ),
        (
            "bad weight_scale",
            lambda d: node(d, "fc").__setitem__("weight_scale", [1.0, -1.0, 1.0]),
            "weight_scale",
        ),
        (
            "pass-through quant",
            lambda d: node(d, "pool")["output"].__setitem__("scale", 0.5),
            "keep its input",
        ),
        (
            "declared shape",
            lambda d: node(d, "flat")["output"].__setitem__("shape", [2, 9]),
            "declared shape",
        ),
        (
            "unknown input",
            lambda d: node(d, "fc").__setitem__("inputs", ["nope"]),
            "defined earlier",
        ),
        ("reused name", lambda d: node(d, "pool").__setitem__("name", "conv"), "already used"),
        ("unused node", _insert_dead_node, "'dead'.*never used"),
        ("fused type", lambda d: node(d, "fc").__setitem__("fused", "fc"), "fused"),
        ("nodes type", lambda d: d.__setitem__("nodes", {}), "nodes must be a list"),
        ("empty nodes", lambda d: d.__setitem__("nodes", []), "at least one node"),
    ]


@pytest.mark.parametrize(
    ("what", "mutate", "match"), _mutations(), ids=[m[0] for m in _mutations()]
)
def test_from_dict_is_strict(
    small: cq.QuantizedModel, what: str, mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    data = copy.deepcopy(small.to_dict())
    mutate(data)
    with pytest.raises(DecodeError, match=match):
        cq.QuantizedModel.from_dict(data)


def test_from_dict_bounds_error(small: cq.QuantizedModel) -> None:
    """A well-formed program that fails the bounds analysis is a QuantizationError."""
    data = small.to_dict()
    data["input"]["range"] = [0, 255]
    cq.QuantizedModel.from_dict(data)  # still fine at 8 bits
    fc = data["nodes"][-1]["params"]
    fc["bias"] = [2**31 - 1, 0, 0]
    with pytest.raises(QuantizationError, match="node 'fc' \\(dense\\): tensor 'acc'"):
        cq.QuantizedModel.from_dict(data)


# -- bound errors from the quantizer -----------------------------------------------------------


def test_huge_fan_in_overflows_acc() -> None:
    """|acc| < 2^31 fails for 127·255·70000 ≈ 2.3·10^9; narrowing the input range fixes it."""
    n = 70_000
    op = ref.Dense(
        weight=np.full((1, n), 127),
        bias=[0],
        input_zero_point=0,
        multiplier=[2**30],
        shift=[60],
        output_zero_point=0,
        clamp=(-128, 127),
    )
    node = cq.QuantizedNode(
        "big", ("input",), op, (1,), cq.TensorQuant("int8", 1.0, 0), weight_scale=(1.0,)
    )
    inq = cq.TensorQuant("uint8", 1 / 255, 0)
    with pytest.raises(QuantizationError, match=r"node 'big' \(dense\): tensor 'acc'.*2\^31"):
        cq.QuantizedModel((n,), inq, [node])
    ok = cq.QuantizedModel((n,), inq, [node], input_range=(0, 100))
    assert ok.bounds["big"].acc == cq.Interval(0, 127 * 100 * n)

    model = cq.Model((n,), [cq.Dense("wide", np.ones((1, n)))])
    with pytest.raises(QuantizationError, match="node 'wide' \\(dense\\): tensor 'acc'"):
        cq.quantize(model, np.ones((2, n)), input_quant=inq)


def test_product_bound() -> None:
    op = ref.Dense(
        weight=[[0]],
        bias=[2**31 - 1],
        input_zero_point=0,
        multiplier=[2**31 - 1],
        shift=[40],
        output_zero_point=0,
        clamp=(-128, 127),
    )
    node = cq.QuantizedNode(
        "p", ("input",), op, (1,), cq.TensorQuant("int8", 1.0, 0), weight_scale=(1.0,)
    )
    with pytest.raises(QuantizationError, match=r"node 'p' \(dense\): tensor 'acc·M'.*2\^62"):
        cq.QuantizedModel((1,), cq.TensorQuant("int8", 1.0, 0), [node])


def test_bias_and_multiplier_errors_name_the_node() -> None:
    xs = np.linspace(0, 1, 8).reshape(2, 4)
    tiny = cq.Model((4,), [cq.Dense("fc", np.full((2, 4), 1e-12), np.array([1e3, 0.0]))])
    with pytest.raises(QuantizationError, match=r"node 'fc' \(fc\): tensor 'bias'.*int32"):
        cq.quantize(tiny, xs)
    lopsided = cq.Model(
        (4,), [cq.Dense("small", np.eye(4) * 1e-15), cq.Add("add", inputs=("input", "small"))]
    )
    with pytest.raises(QuantizationError, match=r"node 'add' \(add\).*too small"):
        cq.quantize(lopsided, xs)


def test_calibration_is_checked() -> None:
    model = cq.Model((4,), [cq.ReLU("r")])
    with pytest.raises(ParameterError, match="empty"):
        cq.quantize(model, np.zeros((0, 4)))
    with pytest.raises(ParameterError, match="shape"):
        cq.quantize(model, np.zeros((3, 5)))
