"""The integer oracle (bigfile_zk.reference.compute) and docs/spec/vectors/quantization.json.

The vectors are re-run through the oracle and must be what the generator writes today; every
operation is compared with a straightforward Python-int implementation written from the spec
(explicit loops, exact integers), on hypothesis-drawn shapes and values.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bigfile_zk.compute import (
    MULTIPLIER_BITS,
    QuantizedModel,
    requant_multiplier,
    shared_multipliers,
)
from bigfile_zk.errors import QuantizationError
from bigfile_zk.reference import _gen_quantization_vectors as gen
from bigfile_zk.reference import compute as ref
from bigfile_zk.reference.field import R, to_hex

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "quantization.json"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    return data


# -- the vectors -------------------------------------------------------------------------------


def test_vectors_are_current(vectors: dict[str, Any]) -> None:
    assert vectors == gen.quantization_vectors(), (
        "run: PYTHONPATH=python python -m bigfile_zk.reference._gen_quantization_vectors"
    )


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """Byte for byte: the committed file is what the generator writes."""
    assert gen.main(["gen", str(tmp_path)]) == 0
    assert (tmp_path / "quantization.json").read_bytes() == VECTORS.read_bytes()


def _requant_int(acc: int, m: int, s: int, z: int, lo: int, hi: int) -> int:
    """The spec's formula on Python ints: round half up of acc·M/2^s, exactly."""
    rounded = (Fraction(acc * m, 2**s) + Fraction(1, 2)).__floor__()
    return min(max(rounded + z, lo), hi)


def test_requant_vectors(vectors: dict[str, Any]) -> None:
    cases = vectors["requantize"]
    assert len(cases) >= 15
    shifts = {c["shift"] for c in cases}
    assert {1, 62} <= shifts
    for c in cases:
        lo, hi = c["clamp"]
        args = (c["acc"], c["multiplier"], c["shift"], c["zero_point"], lo, hi)
        assert int(ref.requantize(np.array(c["acc"]), *args[1:])) == c["y"], c["note"]
        assert _requant_int(*args) == c["y"], c["note"]
        assert min(max(c["pre_clamp"], lo), hi) == c["y"]


def test_multiplier_vectors(vectors: dict[str, Any]) -> None:
    mv = vectors["multipliers"]
    for section in ("single", "shared", "refused", "refused_shared"):
        # Both widths of spec §3.2 are covered: the compiler's default and the program's limit.
        assert {c["multiplier_bits"] for c in mv[section]} == {16, 31}, section
    for c in mv["single"]:
        m, bits = float.fromhex(c["m_hex"]), c["multiplier_bits"]
        assert m == c["m"]
        assert requant_multiplier(m, multiplier_bits=bits) == (c["multiplier"], c["shift"])
        assert 1 <= c["multiplier"] < 2**bits
        if bits == MULTIPLIER_BITS:
            assert requant_multiplier(m) == (c["multiplier"], c["shift"])
    for c in mv["shared"]:
        ms, bits = [float.fromhex(h) for h in c["m_hex"]], c["multiplier_bits"]
        got = shared_multipliers(ms, multiplier_bits=bits)
        assert got == (tuple(c["multipliers"]), c["shift"])
    for c in mv["refused"]:
        h = c["m_hex"]
        with pytest.raises(QuantizationError, match=r"too (large|small)|finite"):
            requant_multiplier(
                float.fromhex(h) if h not in ("inf", "nan") else float(h),
                multiplier_bits=c["multiplier_bits"],
            )
    for c in mv["refused_shared"]:
        with pytest.raises(QuantizationError, match="too small"):
            shared_multipliers(
                [float.fromhex(h) for h in c["m_hex"]], multiplier_bits=c["multiplier_bits"]
            )


def test_model_vectors_use_the_default_width(vectors: dict[str, Any]) -> None:
    """The vector programs are compiled at the default width: every M < 2^16."""
    for entry in vectors["models"]:
        for node in entry["model"]["nodes"]:
            params = node["params"]
            for key in ("multiplier", "multipliers"):
                ms = params.get(key, [])
                for m in ms if isinstance(ms, list) else [ms]:
                    assert 1 <= m < 2**MULTIPLIER_BITS, (entry["name"], node["name"])


def test_model_vectors(vectors: dict[str, Any]) -> None:
    models = vectors["models"]
    kinds = {node["op"] for m in models for node in m["model"]["nodes"]}
    assert kinds == set(ref.OPS)  # every operation has a vector
    for entry in models:
        model = QuantizedModel.from_dict(entry["model"])
        assert model.to_dict() == entry["model"]
        assert model.bounds.to_dict() == entry["bounds"]
        steps = model.steps
        for case in entry["cases"]:
            data = bytes.fromhex(case["input_bytes"][2:])
            x = model.input_from_bytes(data)
            assert x.tolist() == case["input"]
            assert model.input_bytes(x) == data
            trace: dict[str, dict[str, np.ndarray]] = {}
            y = ref.run(steps, x, trace=trace)  # the oracle itself, no QuantizedModel checks
            assert y.tolist() == case["output"], entry["name"]
            assert {n: {k: v.tolist() for k, v in st_.items()} for n, st_ in trace.items()} == (
                case["trace"]
            )
            assert [to_hex(v) for v in ref.to_field(y)] == case["output_field"]


def test_vectors_exercise_the_edges(vectors: dict[str, Any]) -> None:
    """Negative outputs (r + v), clamps hit on both sides, padded convolution borders."""
    outputs = [v for m in vectors["models"] for c in m["cases"] for v in np.ravel(c["output"])]
    assert min(outputs) < 0 and max(outputs) > 0
    fields = [int(h, 16) for m in vectors["models"] for c in m["cases"] for h in c["output_field"]]
    assert any(f > R // 2 for f in fields)
    conv = next(m for m in vectors["models"] if m["name"] == "conv2d")
    # All-minimum input (x - z = -7 everywhere): border positions read fewer real inputs.
    acc = np.array(next(c for c in conv["cases"] if c["rule"] == "min")["trace"]["conv"]["acc"])
    assert len({tuple(acc[0, :, j]) for j in range(acc.shape[2])}) > 1


# -- requantization vs Python ints -------------------------------------------------------------


@st.composite
def requant_args(draw: st.DrawFn) -> tuple[int, int, int, int, int, int]:
    s = draw(st.integers(ref.SHIFT_MIN, ref.SHIFT_MAX))
    m = draw(st.integers(1, ref.MULTIPLIER_LIMIT - 1))
    limit = min(ref.ACC_LIMIT - 1, (ref.PRODUCT_LIMIT - 2 ** (s - 1) - 1) // m)
    acc = draw(st.integers(-limit, limit))
    dtype = draw(st.sampled_from(sorted(ref.DTYPES)))
    dlo, dhi = ref.DTYPES[dtype]
    z = draw(st.integers(dlo, dhi))
    lo = draw(st.integers(dlo, dhi))
    hi = draw(st.integers(lo, dhi))
    return acc, m, s, z, lo, hi


@given(requant_args())
def test_requantize_matches_exact_rounding(args: tuple[int, int, int, int, int, int]) -> None:
    acc, m, s, z, lo, hi = args
    assert int(ref.requantize(np.array(acc), m, s, z, lo, hi)) == _requant_int(*args)


@given(st.lists(requant_args(), min_size=1, max_size=8))
def test_requantize_per_channel(cases: list[tuple[int, int, int, int, int, int]]) -> None:
    """Arrays of accumulators with per-channel M and s, one shared zero point and clamp."""
    acc, m, s = (np.array([c[i] for c in cases]) for i in range(3))
    got = ref.requantize(acc, m, s, 0, -128, 127)
    assert got.tolist() == [
        _requant_int(a, mm, ss, 0, -128, 127) for a, mm, ss in zip(acc, m, s, strict=True)
    ]


@pytest.mark.parametrize(
    ("acc", "m", "s", "match"),
    [
        (2**31, 1, 1, "acc"),
        (-(2**31), 1, 1, "acc"),
        (2**31 - 1, 2**31 - 1, 33, "2\\^62"),  # (2^31-1)^2 + 2^32 >= 2^62
        (1, 0, 1, "multiplier"),
        (1, 2**31, 1, "multiplier"),
        (1, 1, 0, "shift"),
        (1, 1, 63, "shift"),
    ],
)
def test_requantize_refuses_what_a_circuit_cannot_prove(
    acc: int, m: int, s: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        ref.requantize(np.array(acc), m, s, 0, -128, 127)


# -- operations vs explicit loops --------------------------------------------------------------


def _requant_array(acc: np.ndarray, op: Any, channel_axis: bool) -> list[Any]:
    out = np.empty(acc.shape, dtype=object)
    for idx in np.ndindex(acc.shape):
        m = op.multiplier[idx[0]] if channel_axis else op.multiplier
        s = op.shift[idx[0]] if channel_axis else op.shift
        out[idx] = _requant_int(int(acc[idx]), int(m), int(s), op.output_zero_point, *op.clamp)
    return out.tolist()


def _activations(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    lo, hi = ref.DTYPES[draw(st.sampled_from(sorted(ref.DTYPES)))]
    n = int(np.prod(shape))
    x = np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))).reshape(shape)
    return x, draw(st.integers(lo, hi))


def _requant_params(draw: st.DrawFn, channels: int | None) -> dict[str, Any]:
    def one() -> tuple[int, int]:
        return draw(st.integers(1, 2**31 - 1)), draw(st.integers(31, 45))

    pairs = [one() for _ in range(channels or 1)]
    lo, hi = ref.DTYPES[draw(st.sampled_from(sorted(ref.DTYPES)))]
    m = [p[0] for p in pairs]
    s = [p[1] for p in pairs]
    return {
        "multiplier": m if channels else m[0],
        "shift": s if channels else s[0],
        "output_zero_point": draw(st.integers(lo, hi)),
        "clamp": (lo, hi),
    }


@given(st.data())
def test_conv2d_matches_loops(data: st.DataObject) -> None:
    draw = data.draw
    c, o = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    top, left, bottom, right = (draw(st.integers(0, 2)) for _ in range(4))
    assume(h + top + bottom >= kh and w + left + right >= kw)
    x, z = _activations(draw, (c, h, w))
    weight = np.array(
        draw(st.lists(st.integers(-127, 127), min_size=o * c * kh * kw, max_size=o * c * kh * kw))
    )
    bias = draw(st.lists(st.integers(-(2**20), 2**20), min_size=o, max_size=o))
    op = ref.Conv2d(
        weight=weight.reshape(o, c, kh, kw),
        bias=bias,
        stride=(sh, sw),
        padding=(top, left, bottom, right),
        input_zero_point=z,
        **_requant_params(draw, o),
    )
    ho, wo = (h + top + bottom - kh) // sh + 1, (w + left + right - kw) // sw + 1
    acc = np.zeros((o, ho, wo), dtype=object)
    for oo in range(o):
        for i in range(ho):
            for j in range(wo):
                total = bias[oo]
                for cc in range(c):
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - top, j * sw + v - left
                            if 0 <= r < h and 0 <= q < w:  # padding contributes nothing
                                total += int(op.weight[oo, cc, u, v]) * (int(x[cc, r, q]) - z)
                acc[oo, i, j] = total
    stages: dict[str, np.ndarray] = {}
    y = op.apply(x, stages)
    assert op.output_shape([x.shape]) == (o, ho, wo)
    assert stages["acc"].tolist() == acc.tolist()
    assert y.tolist() == _requant_array(acc, op, channel_axis=True)


@given(st.data())
def test_dense_matches_loops(data: st.DataObject) -> None:
    draw = data.draw
    n_in, n_out = draw(st.integers(1, 12)), draw(st.integers(1, 5))
    x, z = _activations(draw, (n_in,))
    weight = draw(
        st.lists(
            st.lists(st.integers(-127, 127), min_size=n_in, max_size=n_in),
            min_size=n_out,
            max_size=n_out,
        )
    )
    bias = draw(st.lists(st.integers(-(2**24), 2**24), min_size=n_out, max_size=n_out))
    op = ref.Dense(weight=weight, bias=bias, input_zero_point=z, **_requant_params(draw, n_out))
    acc = np.array(
        [bias[o] + sum(weight[o][i] * (int(x[i]) - z) for i in range(n_in)) for o in range(n_out)],
        dtype=object,
    )
    assert op.apply(x).tolist() == _requant_array(acc, op, channel_axis=True)


@given(st.data())
def test_pools_match_loops(data: st.DataObject) -> None:
    draw = data.draw
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, z = _activations(draw, (c, h, w))
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1

    def window(cc: int, i: int, j: int) -> list[int]:
        return [int(x[cc, i * sh + u, j * sw + v]) for u in range(kh) for v in range(kw)]

    idx = [(cc, i, j) for cc in range(c) for i in range(ho) for j in range(wo)]
    mx = ref.MaxPool(kernel=(kh, kw), stride=(sh, sw))
    assert mx.apply(x).reshape(-1).tolist() == [max(window(*k)) for k in idx]

    avg = ref.AvgPool(
        kernel=(kh, kw), stride=(sh, sw), input_zero_point=z, **_requant_params(draw, None)
    )
    acc = np.array([sum(v - z for v in window(*k)) for k in idx], dtype=object).reshape(c, ho, wo)
    assert avg.apply(x).tolist() == _requant_array(acc, avg, channel_axis=False)

    gap = ref.GlobalAvgPool(input_zero_point=z, **_requant_params(draw, None))
    acc = np.array([sum(int(v) - z for v in x[cc].ravel()) for cc in range(c)], dtype=object)
    assert gap.apply(x).tolist() == _requant_array(acc.reshape(c, 1, 1), gap, channel_axis=False)


@given(st.data())
def test_add_and_clamp_match_loops(data: st.DataObject) -> None:
    draw = data.draw
    n = draw(st.integers(1, 10))
    x1, z1 = _activations(draw, (n,))
    x2, z2 = _activations(draw, (n,))
    p = _requant_params(draw, None)
    m2 = draw(st.integers(1, 2**31 - 1))
    op = ref.Add(
        input_zero_points=(z1, z2),
        multipliers=(p["multiplier"], m2),
        shift=p["shift"],
        output_zero_point=p["output_zero_point"],
        clamp=p["clamp"],
    )
    want = []
    for a, b in zip(x1.tolist(), x2.tolist(), strict=True):
        total = (a - z1) * p["multiplier"] + (b - z2) * m2
        pre = (Fraction(total, 2 ** p["shift"]) + Fraction(1, 2)).__floor__()
        want.append(min(max(pre + p["output_zero_point"], p["clamp"][0]), p["clamp"][1]))
    assert op.apply(x1, x2).tolist() == want
    lo = draw(st.integers(-128, 127))
    hi = draw(st.integers(lo, 127))
    assert ref.Clamp(clamp=(lo, hi)).apply(x1).tolist() == [
        min(max(v, lo), hi) for v in x1.tolist()
    ]


# -- validation of the program ---------------------------------------------------------------


def _dense(**over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "weight": [[1, -2], [3, 4]],
        "bias": [0, 5],
        "input_zero_point": 0,
        "multiplier": [2**30, 2**30],
        "shift": [31, 31],
        "output_zero_point": 0,
        "clamp": [-128, 127],
    }
    return {**params, **over}


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"weight": [[128, 0], [0, 0]]}, "weight"),
        ({"weight": [[-128, 0], [0, 0]]}, "weight"),
        ({"weight": [[1.0, 0.0], [0.0, 0.0]]}, "integers"),
        ({"weight": [[True, False], [False, False]]}, "integers"),
        ({"weight": [[1, 2], [3]]}, "rectangular"),
        ({"weight": [1, 2]}, "rank 2"),
        ({"bias": [0, 2**31]}, "bias"),
        ({"bias": [0]}, "bias"),
        ({"multiplier": [0, 1]}, "multiplier"),
        ({"multiplier": [2**31, 1]}, "multiplier"),
        ({"multiplier": [1]}, "multiplier"),
        ({"shift": [0, 1]}, "shift"),
        ({"shift": [63, 1]}, "shift"),
        ({"input_zero_point": 256}, "input_zero_point"),
        ({"input_zero_point": 1.0}, "integer"),
        ({"input_zero_point": True}, "integer"),
        ({"output_zero_point": -129}, "output_zero_point"),
        ({"clamp": [-1, 200]}, "neither"),
        ({"clamp": [5, 4]}, "lo <= hi"),
        ({"clamp": [0, 256]}, "lo <= hi"),
        ({"clamp": [0]}, "2 entries"),
    ],
)
def test_ops_refuse_values_outside_the_spec(over: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ref.op_from_params("dense", _dense(**over))


def test_op_params_round_trip_and_strict_keys() -> None:
    op = ref.op_from_params("dense", _dense())
    assert ref.op_to_params(op) == _dense()
    with pytest.raises(ValueError, match="unknown op"):
        ref.op_from_params("gelu", {})
    with pytest.raises(ValueError, match="missing \\['clamp'\\]"):
        ref.op_from_params("dense", {k: v for k, v in _dense().items() if k != "clamp"})
    with pytest.raises(ValueError, match="unexpected \\['groups'\\]"):
        ref.op_from_params("dense", {**_dense(), "groups": 1})
    with pytest.raises(ValueError, match="stride"):
        ref.op_from_params("max_pool", {"kernel": [2, 2], "stride": [0, 1]})
    with pytest.raises(ValueError, match="shape"):
        ref.op_from_params("reshape", {"shape": [2, 0]})


def test_run_checks_the_program_and_the_input() -> None:
    op = ref.op_from_params("dense", _dense())
    ok = [ref.Step("a", ("input",), op)]
    assert ref.run(ok, np.array([1, 2])).tolist() == [-1, 8]  # acc [-3, 16] · 1/2, half up
    with pytest.raises(ValueError, match="unknown inputs"):
        ref.run([ref.Step("a", ("x",), op)], np.array([1, 2]))
    with pytest.raises(ValueError, match="already defined"):
        ref.run([*ok, ref.Step("a", ("input",), op)], np.array([1, 2]))
    with pytest.raises(ValueError, match="takes 1"):
        ref.run([ref.Step("a", ("input", "input"), op)], np.array([1, 2]))
    with pytest.raises(ValueError, match="inputs, got 3"):
        ref.run(ok, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="integers"):
        ref.run(ok, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="outside"):
        ref.run(ok, np.array([256, 0]))
    with pytest.raises(ValueError, match="at least one step"):
        ref.run([], np.array([1, 2]))


# -- the statement -----------------------------------------------------------------------------


def test_input_bytes_are_c_order_twos_complement() -> None:
    x = np.array([[[-128, -1, 0], [1, 2, 127]]])
    data = ref.input_bytes(x, (1, 2, 3), "int8")
    assert data == bytes([0x80, 0xFF, 0x00, 0x01, 0x02, 0x7F])
    assert ref.input_from_bytes(data, (1, 2, 3), "int8").tolist() == x.tolist()
    u = np.arange(6, dtype=np.uint8).reshape(2, 3) * 50
    assert ref.input_bytes(u, (2, 3), "uint8") == bytes([0, 50, 100, 150, 200, 250])
    assert ref.input_from_bytes(bytes([255]), (1,), "uint8").tolist() == [255]


@pytest.mark.parametrize(
    ("x", "shape", "dtype", "match"),
    [
        (np.zeros(3), (3,), "uint8", "integers"),
        (np.zeros(3, dtype=int), (1, 3), "uint8", "shape"),
        (np.array([128]), (1,), "int8", "outside"),
        (np.array([-1]), (1,), "uint8", "outside"),
        (np.array([0]), (1,), "int16", "dtype"),
    ],
)
def test_input_bytes_is_strict(
    x: np.ndarray, shape: tuple[int, ...], dtype: str, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        ref.input_bytes(x, shape, dtype)


def test_input_from_bytes_is_strict() -> None:
    with pytest.raises(ValueError, match="needs 6 bytes, got 5"):
        ref.input_from_bytes(b"\0" * 5, (2, 3), "uint8")
    with pytest.raises(ValueError, match="must be bytes"):
        ref.input_from_bytes("abc", (3,), "uint8")  # type: ignore[arg-type]


def test_outputs_as_field_elements() -> None:
    assert ref.to_field(np.array([[0, 1], [-1, -128]])) == [0, 1, R - 1, R - 128]
    with pytest.raises(ValueError):
        ref.to_field(np.array([0.5]))
