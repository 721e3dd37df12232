"""ONNX import (``docs/spec/onnx.md``): float graphs read exactly (our float forward pass equals
onnxruntime's), quantized through ``quantize`` into the same program as the float model itself;
onnxruntime's static quantizations (QDQ and QOperator, uint8/int8 activations, per-channel and
per-tensor weights) read straight into the integer program and cross-checked against
onnxruntime's integer kernels layer by layer and end to end; an imported model proved and
verified; the fidelity report and the tolerance; and everything refused, by name."""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx_models as om
import onnxruntime as ort
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper

import bigfile_zk
from bigfile_zk import compute as c
from bigfile_zk.errors import (
    DecodeError,
    FidelityError,
    InsecureSRSWarning,
    InternalError,
    MissingDependencyError,
    ParameterError,
    QuantizationError,
    UnsupportedModelError,
)
from bigfile_zk.reference import compute as ref

ARCHS = tuple(om.FLOAT_MODELS)
#: Mutated models imported by test_mutated_models_are_refused_cleanly (about 10 ms each).
CASES_MUTATED = 300
FORMATS = ("qdq", "qoperator")


@functools.cache
def float_case(name: str) -> tuple[c.Model, Any, np.ndarray, np.ndarray]:
    """A float model, its ONNX export, calibration and held-out data."""
    m = om.float_model(name)
    return m, c.to_onnx(m, name), om.data(m, 32, 1), om.data(m, 48, 2)


@functools.cache
def ort_case(
    name: str, fmt: str, activations: str = "uint8", per_channel: bool = True
) -> tuple[Any, np.ndarray]:
    """onnxruntime's static quantization of ``name`` and held-out data."""
    import tempfile

    _, proto, calib, held = float_case(name)
    with tempfile.TemporaryDirectory() as work:
        q = om.ort_quantize(
            proto, calib, Path(work), fmt=fmt, activations=activations, per_channel=per_channel
        )
    return q, held


def run_ort(proto: Any, x: np.ndarray, outputs: list[str] | None = None) -> list[np.ndarray]:
    if outputs:
        proto = onnx.ModelProto.FromString(proto.SerializeToString())
        for name in outputs:
            proto.graph.output.append(helper.make_empty_tensor_value_info(name))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(proto.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [proto.graph.output[0].name, *(outputs or [])]
    return s.run(names, {proto.graph.input[0].name: x[None].astype(np.float32)})


# --- float models -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ARCHS)
def test_float_export_imports_to_the_same_program(name: str) -> None:
    """to_onnx then load_onnx gives exactly the program ``quantize`` makes of the model (with
    its weights rounded to float32, as ONNX stores them), and our float reading of the graph
    equals onnxruntime's run of it."""
    m, proto, calib, held = float_case(name)
    imported = c.load_onnx(proto, calibration=calib, heldout=held)
    assert imported.kind == "float" and imported.tensor_map is None
    assert imported.qmodel == c.quantize(om.float32_weights(m), calib)
    assert imported.source_sha256 == hashlib.sha256(proto.SerializeToString()).hexdigest()
    want = np.stack([run_ort(proto, x)[0][0] for x in held])
    got = imported.float_model.forward_batch(held)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    report = imported.fidelity
    assert report is not None and report.float_model_max_abs_delta < 1e-5
    assert [s.name for s in report.sets] == ["calibration", "held-out"]
    held_out = report.set("held-out")
    assert held_out.samples == 48 and held_out.top1_agreement >= 0.9
    # The report's figures are the oracle's against onnxruntime's float run, recomputed here.
    q = imported.qmodel
    ours = np.stack(
        [q.dequantize_output(q.forward_int(q.quantize_input(x, saturate=True))) for x in held]
    )
    assert held_out.max_abs_delta == pytest.approx(np.abs(ours - want).max(), rel=1e-5)
    agree = np.argmax(ours.reshape(48, -1), 1) == np.argmax(want.reshape(48, -1), 1)
    assert held_out.top1_agreement == pytest.approx(agree.mean())


def _dense_layer(draw: st.DrawFn) -> c.Model:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    i, o = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    return c.Model((i,), [om._dense(rng, "fc", i, o), c.ReLU("relu"), om._dense(rng, "out", o, 3)])


@st.composite
def small_models(draw: st.DrawFn) -> c.Model:
    if draw(st.booleans()):
        return _dense_layer(draw)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    size = draw(st.integers(k, 6))
    conv = om._conv(rng, "conv", cin, cout, k, stride=stride, padding=pads)
    nodes: list[c.Node] = [conv, c.ReLU6("act") if draw(st.booleans()) else c.ReLU("act")]
    if draw(st.booleans()):
        nodes.append(c.GlobalAvgPool("gap"))
    nodes.append(c.Flatten("flat"))
    m = c.Model((cin, size, size), nodes)
    nodes.append(om._dense(rng, "out", int(np.prod(m.output_shape)), 2))
    return c.Model((cin, size, size), nodes)


@given(small_models(), st.booleans())
def test_random_layers_import_exactly(m: c.Model, dynamic_batch: bool) -> None:
    calib = om.data(m, 8, 3)
    proto = c.to_onnx(m, dynamic_batch=dynamic_batch)
    imported = c.load_onnx(proto, calibration=calib)
    assert imported.qmodel == c.quantize(om.float32_weights(m), calib)
    assert imported.fidelity is not None and imported.fidelity.float_model_max_abs_delta < 1e-5


def _f(rng: np.random.Generator, name: str, *shape: int) -> Any:
    return om.tensor(name, rng.normal(0, 0.5, shape))


def matmul_bias(opset: int = 13) -> Any:
    """MatMul + Add(bias) twice (the second bias as [1, O]), a Relu between."""
    rng = np.random.default_rng(1)
    nodes = [
        om.node("MatMul", ["x", "W1"], ["mm1"]),
        om.node("Add", ["mm1", "b1"], ["a1"]),
        om.node("Relu", ["a1"], ["r1"]),
        om.node("MatMul", ["r1", "W2"], ["mm2"]),
        om.node("Add", ["b2", "mm2"], ["y"]),
    ]
    inits = [_f(rng, "W1", 6, 5), _f(rng, "b1", 5), _f(rng, "W2", 5, 3), _f(rng, "b2", 1, 3)]
    return om.graph(nodes, inits, [1, 6], "y", opset=opset)


def transposed_weights() -> Any:
    """MatMul by a Transpose of a weight (folded), Gemm with transB = 0, alpha and beta, a
    Dropout and an Identity, a Constant bias."""
    rng = np.random.default_rng(2)
    nodes = [
        om.node("Transpose", ["Wt"], ["W"], perm=[1, 0]),
        om.node("MatMul", ["x", "W"], ["mm"]),
        om.node("Dropout", ["mm"], ["d"]),
        om.node("Identity", ["d"], ["i"]),
        om.node("Constant", [], ["bias"], value=om.tensor("v", rng.normal(0, 0.5, 3))),
        om.node("Gemm", ["i", "W2", "bias"], ["y"], alpha=0.5, beta=2.0),
    ]
    return om.graph(nodes, [_f(rng, "Wt", 4, 6), _f(rng, "W2", 4, 3)], [1, 6], "y")


def same_padding() -> Any:
    """Conv stride 2 SAME_UPPER, Conv SAME_LOWER with an even kernel, MaxPool with stride 1 and
    ceil_mode where it changes nothing, GlobalAveragePool, a Transpose that only moves axes of
    size 1, Reshape with 0 and -1, Gemm."""
    rng = np.random.default_rng(3)
    nodes = [
        om.node(
            "Conv",
            ["x", "W1", "B1"],
            ["c1"],
            strides=[2, 2],
            auto_pad="SAME_UPPER",
            kernel_shape=[3, 3],
        ),
        om.node("Relu", ["c1"], ["r1"]),
        om.node("Conv", ["r1", "W2"], ["c2"], auto_pad="SAME_LOWER"),
        om.node("MaxPool", ["c2"], ["mp"], kernel_shape=[2, 2], strides=[1, 1], ceil_mode=1),
        om.node("GlobalAveragePool", ["mp"], ["gap"]),
        om.node("Transpose", ["gap"], ["t"], perm=[0, 2, 3, 1]),
        om.node("Reshape", ["t", "shape"], ["flat"]),
        om.node("Gemm", ["flat", "W3", "B3"], ["y"], transB=1),
    ]
    inits = [
        _f(rng, "W1", 3, 2, 3, 3),
        _f(rng, "B1", 3),
        _f(rng, "W2", 4, 3, 2, 2),
        om.tensor("shape", [0, -1], np.int64),
        _f(rng, "W3", 2, 4),
        _f(rng, "B3", 2),
    ]
    return om.graph(nodes, inits, [1, 2, 7, 7], "y")


def squeeze_unsqueeze() -> Any:
    """Squeeze and Unsqueeze (axes as inputs at opset 13), Flatten with axis 0, Clip with only
    a min (a ReLU) and with both bounds from Constant nodes, AveragePool with
    count_include_pad and no padding, Gemm → BatchNormalization (folded)."""
    rng = np.random.default_rng(4)
    nodes = [
        om.node("Conv", ["x", "W1"], ["c1"], pads=[1, 0, 0, 1]),
        om.node("Constant", [], ["zero"], value_float=0.0),
        om.node("Clip", ["c1", "zero"], ["r1"]),
        om.node(
            "AveragePool", ["r1"], ["ap"], kernel_shape=[2, 3], strides=[2, 1], count_include_pad=1
        ),
        om.node("Flatten", ["ap"], ["f"], axis=0),
        om.node("Unsqueeze", ["f", "ax1"], ["u"]),
        om.node("Squeeze", ["u", "ax1"], ["s"]),
        om.node("Gemm", ["s", "W2"], ["g"], transB=1),
        om.node("BatchNormalization", ["g", "gamma", "beta", "mean", "var"], ["bn"], epsilon=1e-3),
        om.node("Constant", [], ["lo"], value=om.tensor("lo", -0.25)),
        om.node("Constant", [], ["hi"], value=om.tensor("hi", 0.75)),
        om.node("Clip", ["bn", "lo", "hi"], ["y"]),
    ]
    inits = [
        _f(rng, "W1", 2, 1, 3, 3),
        om.tensor("ax1", [1], np.int64),
        _f(rng, "W2", 4, 2 * 2 * 3),
        om.tensor("gamma", rng.uniform(0.5, 1.5, 4)),
        _f(rng, "beta", 4),
        _f(rng, "mean", 4),
        om.tensor("var", rng.uniform(0.5, 1.5, 4)),
    ]
    return om.graph(nodes, inits, [1, 1, 6, 6], "y")


def opset10_attributes() -> Any:
    """Opset 10: Clip bounds, Squeeze/Unsqueeze axes and Dropout's ratio are attributes."""
    rng = np.random.default_rng(5)
    nodes = [
        om.node("Gemm", ["x", "W1", "B1"], ["g1"]),
        om.node("Clip", ["g1"], ["c"], min=-0.5, max=0.5),
        om.node("Unsqueeze", ["c"], ["u"], axes=[2, 3]),
        om.node("Dropout", ["u"], ["d"], ratio=0.3),
        om.node("Squeeze", ["d"], ["s"], axes=[2, 3]),
        om.node("Gemm", ["s", "W2", "B2"], ["y"]),
    ]
    return om.graph(
        nodes,
        [_f(rng, "W1", 5, 4), _f(rng, "B1", 4), _f(rng, "W2", 4, 3), _f(rng, "B2", 3)],
        [1, 5],
        "y",
        opset=10,
    )


GRAPHS = {
    "matmul_bias": matmul_bias,
    "transposed_weights": transposed_weights,
    "same_padding": same_padding,
    "squeeze_unsqueeze": squeeze_unsqueeze,
    "opset10_attributes": opset10_attributes,
}


@pytest.mark.parametrize("name", GRAPHS)
def test_float_operators_match_onnxruntime(name: str) -> None:
    proto = GRAPHS[name]()
    shape = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim][1:]
    xs = om.data(shape, 12, 7) * 2 - 0.5
    imported = c.load_onnx(proto, calibration=xs)
    want = np.stack([run_ort(proto, x)[0][0] for x in xs])
    np.testing.assert_allclose(imported.float_model.forward_batch(xs), want, rtol=1e-5, atol=1e-5)
    if name == "matmul_bias":  # both biases folded into their Dense
        assert [type(n).__name__ for n in imported.float_model.nodes] == ["Dense", "ReLU", "Dense"]
        assert [n.op.kind for n in imported.qmodel.nodes] == ["dense", "dense"]


# --- onnxruntime's quantized models -----------------------------------------------------------


def _layer_rates(layers: dict[str, dict[str, Any]], skip: set[str]) -> float:
    diff = sum(v["differing"] for k, v in layers.items() if k not in skip)
    total = sum(v["values"] for k, v in layers.items() if k not in skip)
    return diff / total


@pytest.mark.parametrize("per_channel", [True, False], ids=["per_channel", "per_tensor"])
@pytest.mark.parametrize("activations", ["uint8", "int8"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ARCHS)
def test_onnxruntime_quantized_models_match_the_oracle(
    name: str, fmt: str, activations: str, per_channel: bool
) -> None:
    """Our program against onnxruntime's integer kernels, on held-out inputs.

    Layer by layer (each of our operations fed onnxruntime's integers): equal, or off by one
    where the two requantizations round differently: onnxruntime multiplies in float32 and
    rounds half to even, the program uses ``M/2^s`` (here 16-bit ``M``) and rounds half up
    (docs/spec/onnx.md §5). Past a QDQ average pool, whose ties onnxruntime rounds in float
    (test_qdq_average_pool_ties), at most 0.5 % of any layer's values differ. End to end the
    single differences propagate, and the outputs stay within two steps."""
    q, held = ort_case(name, fmt, activations, per_channel)
    imported = c.load_onnx(q)
    assert imported.kind == fmt and imported.float_model is None and imported.fidelity is None
    qm = imported.qmodel
    assert qm.input_quant.dtype == activations
    assert all(n.op.kind != "clamp" for n in qm.nodes)  # onnxruntime drops removable ReLUs
    result = c.compare_with_onnxruntime(q, qm, held, tensor_map=imported.tensor_map)
    layers = result["layers"]
    assert set(layers) == {n.name for n in qm.nodes}
    assert all(v["max_delta"] <= 1 for v in layers.values()), layers
    ties = {n.name for n in qm.nodes if n.op.kind == "avg_pool"} if fmt == "qdq" else set()
    assert _layer_rates(layers, ties) <= 0.005, layers
    total = result["samples"] * result["outputs"]
    assert max(map(int, result["int_delta_histogram"] or {0: 0})) <= 2, result
    assert result["differing_integers"] <= (0.25 if fmt == "qdq" else 0.05) * total, result
    assert result["top1_agreement"] >= 0.95


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wider_multiplier_matches_onnxruntime_more_closely(fmt: str) -> None:
    """With 31-bit multipliers the programs' multiplier error (2^-31) is below float32's own
    and nearly every remaining difference goes: what is left at 16 bits is the multiplier."""
    q, held = ort_case("residual", fmt)
    narrow, wide = c.load_onnx(q), c.load_onnx(q, multiplier_bits=31)
    dense = [n.op for n in wide.qmodel.nodes if n.op.kind in ("dense", "conv2d")]
    assert min(int(op.multiplier.min()) for op in dense) >= 2**30
    assert (
        max(int(n.op.multiplier.max()) for n in narrow.qmodel.nodes if n.op.kind == "dense") < 2**16
    )
    rates = [
        _layer_rates(
            c.compare_with_onnxruntime(q, i.qmodel, held, tensor_map=i.tensor_map)["layers"],
            set(),
        )
        for i in (narrow, wide)
    ]
    assert rates[1] <= rates[0] and rates[1] <= 0.0005, rates


def integers(q: c.QuantizedModel) -> list[tuple[str, str, list[str], dict[str, Any]]]:
    """The program's normative part (spec quantization.md §5): names, ops, wiring, params."""
    return [(n.name, n.op.kind, list(n.inputs), ref.op_to_params(n.op)) for n in q.nodes]


@pytest.mark.parametrize("option", ["AddQDQPairToWeight", "QDQKeepRemovableActivations"])
def test_onnxruntime_quantizer_options(option: str, tmp_path: Path) -> None:
    """Float weights quantized inside the graph (a QuantizeLinear of an initializer, folded
    like ONNX rounds it) and ReLUs kept as nodes (their clamps fused into the Conv before them)
    import to the same integer program as onnxruntime's defaults."""
    _, proto, calib, held = float_case("cnn")
    q = om.ort_quantize(proto, calib, tmp_path, fmt="qdq", extra_options={option: True})
    ops = [n.op_type for n in q.graph.node]
    assert ("Relu" in ops) == (option == "QDQKeepRemovableActivations")
    imported = c.load_onnx(q)
    assert integers(imported.qmodel) == integers(c.load_onnx(ort_case("cnn", "qdq")[0]).qmodel)
    layers = c.compare_with_onnxruntime(q, imported.qmodel, held, tensor_map=imported.tensor_map)
    assert all(v["max_delta"] <= 1 for v in layers["layers"].values())


def test_integer_clip_fuses_into_the_requantization() -> None:
    """A Clip on the integers after a QLinearMatMul narrows its clamp (no extra node) and
    computes exactly what onnxruntime does."""
    rng = np.random.default_rng(16)
    proto = qlinear_matmul(rng.integers(-127, 128, (6, 4)), 0, np.int8)
    mm = next(n for n in proto.graph.node if n.op_type == "QLinearMatMul")
    mm.output[0] = "mm_raw"
    clip = helper.make_node("Clip", ["mm_raw", "lo", "hi"], ["mm"], name="clip")
    proto.graph.node.insert(2, clip)
    proto.graph.initializer.extend([om.tensor("lo", 100, np.uint8), om.tensor("hi", 170, np.uint8)])
    imported = c.load_onnx(proto)
    (node,) = imported.qmodel.nodes
    assert node.op.clamp == (100, 170) and node.fused == ("mm", "clip")
    result = c.compare_with_onnxruntime(
        proto, imported.qmodel, om.data([6], 40, 17), tensor_map=imported.tensor_map
    )
    assert result["layers"]["mm"]["max_delta"] <= 1


def test_qdq_average_pool_ties() -> None:
    """A QDQ AveragePool keeps its input's scale, so its multiplier is exactly 1/4 for a 2x2
    window, and onnxruntime runs it in float: it rounds ``sum/4`` half to even (after float32
    rounding of the dequantized values), the program half up. Every difference is at a tie
    ``sum ≡ 2 (mod 4)``, ours one above."""
    q, held = ort_case("cnn", "qdq")
    imported = c.load_onnx(q)
    qm, tmap = imported.qmodel, imported.tensor_map
    assert tmap is not None
    (pool,) = [n for n in qm.nodes if n.op.kind == "avg_pool"]
    (src,) = pool.inputs
    assert qm.quant(src).scale == pool.output.scale and pool.op.kernel == (2, 2)
    assert (pool.op.multiplier, pool.op.shift) == (2**15, 17)
    diffs = ties = 0
    for x in held:
        x_int = qm.quantize_input(x, saturate=True)
        _, x_ort, y_ort = run_ort(q, qm.input_quant.dequantize(x_int), [tmap[src], tmap[pool.name]])
        x_ort, y_ort = x_ort[0].astype(np.int64), y_ort[0].astype(np.int64)
        stages: dict[str, np.ndarray] = {}
        ours = pool.op.apply(x_ort, stages=stages)
        tie = stages["acc"] % 4 == 2
        differ = ours != y_ort
        assert not np.any(differ & ~tie)
        assert np.all(ours[differ] - y_ort[differ] == 1)
        diffs, ties = diffs + int(differ.sum()), ties + int(tie.sum())
    assert 0 < diffs <= ties


def test_an_imported_model_proves() -> None:
    """The circuit on an imported model: onnxruntime's QDQ MLP compiled, proved with the
    insecure test SRS and verified; the statement's outputs are the oracle's, and other
    outputs are refused."""
    q, held = ort_case("mlp", "qdq")
    qm = c.load_onnx(q).qmodel
    compiled = c.compile(qm)
    x = qm.quantize_input(held[0], saturate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        pk, vk = compiled.keys()
        proof = compiled.prove(pk, x, job=7, provider="0x" + "11" * 20, progress=False)
    y = qm.forward_int(x)
    statement = {
        "input_commitment": bigfile_zk.commit_bytes(qm.input_bytes(x)).commitment,
        "job": 7,
        "provider": "0x" + "11" * 20,
    }
    outputs = compiled.expected_outputs(y)
    assert list(proof.outputs) == outputs
    assert c.verify(vk, proof, **statement, outputs=outputs, allow_insecure_srs=True)
    forged = compiled.expected_outputs(y + np.eye(1, y.size, 0, dtype=np.int64)[0])
    assert not c.verify(vk, proof, **statement, outputs=forged, allow_insecure_srs=True)


def test_quantized_fidelity_report_and_tolerance() -> None:
    q, held = ort_case("cnn", "qdq")
    calib = float_case("cnn")[2]
    imported = c.load_onnx(q, calibration=calib, heldout=held)
    report = imported.fidelity
    assert report is not None and report.kind == "qdq"
    assert report.baseline == "onnxruntime, quantized model"
    assert report.float_model_max_abs_delta is None
    s = report.set("held-out")
    direct = c.compare_with_onnxruntime(q, imported.qmodel, held, name="held-out")
    assert {k: v for k, v in direct.items() if k not in ("kind", "onnxruntime_version")} == (
        s.to_dict()
    )
    assert 0 < s.differing_integers == sum((s.int_delta_histogram or {}).values())
    # A tolerance of no difference at all fails (the average pool's ties), and says where.
    with pytest.raises(FidelityError, match="held-out: max") as exc:
        c.load_onnx(q, heldout=held, tolerance=c.Tolerance(max_abs_delta=0.0))
    assert exc.value.report == c.FidelityReport(
        report.kind, report.baseline, report.onnxruntime_version, report.output_scale, (s,)
    )


# --- the fidelity report ----------------------------------------------------------------------


@functools.cache
def float_report() -> c.FidelityReport:
    _, proto, calib, held = float_case("cnn")
    report = c.load_onnx(proto, calibration=calib, heldout=held).fidelity
    assert report is not None
    return report


def test_fidelity_report_round_trip_and_text() -> None:
    report = float_report()
    data = json.loads(json.dumps(report.to_dict()))
    assert c.FidelityReport.from_dict(data) == report
    text = "\n".join(report.lines())
    assert "onnxruntime, float model" in text and "held-out" in text and "top-1" in text
    assert report.passed(c.Tolerance(min_top1_agreement=0.5, max_abs_delta=1.0))
    assert not report.passed(c.Tolerance(max_abs_delta=report.set("held-out").max_abs_delta / 2))
    assert report.passed(c.Tolerance())


def _mutate(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("format",), "other"),
        (("version",), 2),
        (("extra",), 1),
        (("kind",), KeyError),
        (("kind",), "qdq"),
        (("baseline",), "me"),
        (("output_scale",), 0),
        (("output_scale",), True),
        (("float_model_max_abs_delta",), None),
        (("sets",), []),
        (("sets", 0, "samples"), 0),
        (("sets", 0, "samples"), 1.5),
        (("sets", 0, "top1_agreement"), 1.5),
        (("sets", 0, "max_abs_delta"), -1.0),
        (("sets", 0, "mean_abs_delta"), float("nan")),
        (("sets", 0, "saturated_inputs"), 10**6),
        (("sets", 0, "differing_integers"), 3),
        (("sets", 0, "name"), ""),
        (("sets", 1, "name"), "calibration"),
        (("sets", 0, "unknown"), 0),
    ],
)
def test_fidelity_report_decoder_is_strict(path: tuple[Any, ...], value: Any) -> None:
    with pytest.raises(DecodeError):
        c.FidelityReport.from_dict(_mutate(float_report().to_dict(), path, value))


def test_tolerance_refuses_a_model_with_its_report() -> None:
    _, proto, calib, held = float_case("mlp")
    report = c.load_onnx(proto, calibration=calib, heldout=held).fidelity
    top1 = report.set("held-out")
    least = min(s.top1_agreement for s in report.sets)
    with pytest.raises(FidelityError, match="held-out: max") as exc:
        c.load_onnx(
            proto,
            calibration=calib,
            heldout=held,
            tolerance=c.Tolerance(max_abs_delta=top1.max_abs_delta * 0.99),
        )
    assert isinstance(exc.value.report, c.FidelityReport)
    assert exc.value.report.set("held-out") == top1
    ok = c.load_onnx(
        proto,
        calibration=calib,
        heldout=held,
        tolerance=c.Tolerance(min_top1_agreement=least, max_abs_delta=1.0),
    )
    assert ok.fidelity is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_top1_agreement": 1.5}, "min_top1_agreement"),
        ({"min_top1_agreement": True}, "min_top1_agreement"),
        ({"max_abs_delta": -1}, "max_abs_delta"),
        ({"max_abs_delta": float("inf")}, "max_abs_delta"),
    ],
)
def test_bad_tolerances(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        c.Tolerance(**kwargs)


def test_bad_arguments() -> None:
    _, proto, calib, held = float_case("mlp")
    with pytest.raises(ParameterError, match="needs calibration data"):
        c.load_onnx(proto)
    with pytest.raises(ParameterError, match="needs data"):
        c.load_onnx(proto, tolerance=c.Tolerance(max_abs_delta=1.0))
    with pytest.raises(ParameterError, match=r"shape \(N, 12\)"):
        c.load_onnx(proto, calibration=calib[:, :5])
    with pytest.raises(ParameterError, match="non-finite"):
        c.load_onnx(proto, calibration=np.full((2, 12), np.nan))
    with pytest.raises(TypeError, match=r"path, bytes or an onnx\.ModelProto"):
        c.load_onnx(42)  # type: ignore[arg-type]
    q, _ = ort_case("mlp", "qdq")
    for kwargs in ({"input_quant": c.TensorQuant("uint8", 1 / 255, 0)}, {"per_channel": True}):
        with pytest.raises(ParameterError, match="already quantized"):
            c.load_onnx(q, **kwargs)
    narrowed = c.load_onnx(q, input_range=(0, 200)).qmodel
    assert narrowed.input_range == (0, 200)
    with pytest.raises(ParameterError, match="quantized ONNX"):
        c.compare_with_onnxruntime(
            proto, c.load_onnx(proto, calibration=calib).qmodel, held, tensor_map={}
        )


def test_missing_packages_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    m, proto, calib, _ = float_case("mlp")
    data = proto.SerializeToString()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingDependencyError, match=r"onnxruntime.*bigfile_zk\[compute\]"):
        c.load_onnx(data, calibration=calib)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"'onnx'.*bigfile_zk\[compute\]"):
        c.load_onnx(data, calibration=calib)
    with pytest.raises(MissingDependencyError, match="onnx"):
        c.to_onnx(m)


# --- refused, by name -------------------------------------------------------------------------


def _gemm_graph(extra: list[Any], out: str, **kw: Any) -> Any:
    """x [1, 6] → Gemm → g [1, 4], then ``extra``; initializers W [4, 6], V [1, 3], b [4]."""
    rng = np.random.default_rng(9)
    nodes = [om.node("Gemm", ["x", "W"], ["g"], transB=1), *extra]
    inits = [_f(rng, "W", 4, 6), _f(rng, "V", 1, 3), _f(rng, "b", 4)]
    return om.graph(nodes, inits, kw.pop("shape", [1, 6]), out, **kw)


def _conv_graph(
    attrs: dict[str, Any],
    after: list[Any] | None = None,
    out: str = "c",
    w_shape: tuple[int, ...] = (2, 2, 3, 3),
) -> Any:
    rng = np.random.default_rng(10)
    nodes = [om.node("Conv", ["x", "W"], ["c"], **attrs), *(after or [])]
    return om.graph(nodes, [_f(rng, "W", *w_shape)], [1, 2, 6, 6], out)


UNSUPPORTED = {
    "operator": (
        lambda: _gemm_graph([om.node("Sigmoid", ["g"], ["sig"])], "sig"),
        r"node 'sig' \(Sigmoid, domain ai.onnx, opset 13\): operator Sigmoid is not supported",
    ),
    "domain": (
        lambda: _gemm_graph(
            [om.node("Foo", ["g"], ["foo"], domain="com.example")],
            "foo",
            domains=[("com.example", 1)],
            check=False,
        ),
        r"node 'foo' \(Foo, domain com.example, opset 1\): operators of domain 'com.example'",
    ),
    "opset": (lambda: _gemm_graph([], "g", opset=23), "opset 23 is outside the supported 7..22"),
    "dead node": (
        lambda: _gemm_graph([om.node("Sin", ["x"], ["unused"])], "g"),
        r"node 'unused' \(Sin",
    ),
    "group": (
        lambda: _conv_graph({"group": 2}, w_shape=(2, 1, 3, 3)),
        r"node 'c' \(Conv, domain ai.onnx, opset 13\): group = 2 is not supported",
    ),
    "dilations": (lambda: _conv_graph({"dilations": [2, 2]}), r"'c' .*dilations \[2, 2\]"),
    "auto_pad on a pool": (
        lambda: _conv_graph(
            {}, [om.node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], auto_pad="SAME_UPPER")], "p"
        ),
        r"'p' \(MaxPool.*padding \[0, 0, 1, 1\] is not supported in a pool",
    ),
    "pool pads": (
        lambda: _conv_graph(
            {},
            [
                om.node(
                    "AveragePool",
                    ["c"],
                    ["p"],
                    kernel_shape=[2, 2],
                    pads=[1, 1, 1, 1],
                    count_include_pad=1,
                )
            ],
            "p",
        ),
        r"'p' \(AveragePool.*padding \[1, 1, 1, 1\]",
    ),
    "ceil_mode": (
        lambda: _conv_graph(
            {},
            [om.node("MaxPool", ["c"], ["p"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
            "p",
        ),
        r"'p' \(MaxPool.*ceil_mode = 1 gives output \[2, 2\].*\[1, 1\]",
    ),
    "transA": (
        lambda: _gemm_graph([om.node("Gemm", ["g", "V"], ["y"], transA=1)], "y"),
        r"'y' \(Gemm.*transA = 1",
    ),
    "broadcasting Add": (
        lambda: _conv_graph(
            {},
            [om.node("GlobalAveragePool", ["c"], ["gap"]), om.node("Add", ["c", "gap"], ["a"])],
            "a",
        ),
        r"'a' \(Add.*broadcasting Add of shapes \[1, 2, 4, 4\] and \[1, 2, 1, 1\]",
    ),
    "moving Transpose": (
        lambda: _conv_graph({}, [om.node("Transpose", ["c"], ["t"], perm=[0, 1, 3, 2])], "t"),
        r"'t' \(Transpose.*moves data",
    ),
    "batch squeezed": (
        lambda: _gemm_graph([om.node("Squeeze", ["g"], ["s"])], "s"),
        r"'s' \(Squeeze.*drops or moves the batch axis",
    ),
    "activation weight": (
        lambda: om.graph([om.node("MatMul", ["x", "x"], ["m"])], [], [1, 6, 6], "m"),
        r"'m' \(MatMul.*the weight \(input B\) \('x'\) must be a constant",
    ),
    "Add of a constant elsewhere": (
        lambda: _gemm_graph(
            [om.node("Relu", ["g"], ["r"]), om.node("Add", ["r", "b"], ["a"])], "a"
        ),
        r"'a' \(Add.*only as the bias",
    ),
    "two inputs": (
        lambda: _gemm_graph(
            [om.node("Add", ["g", "z"], ["a"])],
            "a",
            extra_inputs=[helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])],
        ),
        r"exactly one input, it has 2: \['x', 'z'\]",
    ),
    "two outputs": (
        lambda: _gemm_graph([om.node("Relu", ["g"], ["r"])], "r", extra_outputs=["g"]),
        r"exactly one output, it has 2",
    ),
    "dynamic dimension": (
        lambda: _gemm_graph([], "g", shape=["N", "F"]),
        r"dynamic dimension 'F' past the batch axis",
    ),
    "batch of 2": (lambda: _gemm_graph([], "g", shape=[2, 6]), "fixed batch size 2"),
    "no batch axis": (
        lambda: om.graph(
            [om.node("MatMul", ["x", "W"], ["y"])],
            [_f(np.random.default_rng(1), "W", 6, 4)],
            [6],
            "y",
        ),
        "leading batch axis",
    ),
    "output is the input": (
        lambda: om.graph([om.node("Identity", ["x"], ["y"])], [], [1, 6], "y"),
        "computes nothing",
    ),
}


@pytest.mark.parametrize("case", UNSUPPORTED)
def test_unsupported_models_are_named(case: str) -> None:
    build, message = UNSUPPORTED[case]
    proto = build()
    xs = np.zeros(
        (2, *[max(d.dim_value, 1) for d in proto.graph.input[0].type.tensor_type.shape.dim][1:])
    )
    with pytest.raises(ParameterError, match=message) as exc:
        c.load_onnx(proto, calibration=xs)
    if case != "output is the input":
        assert isinstance(exc.value, UnsupportedModelError)


def test_dynamic_quantization_is_refused(tmp_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    _, proto, _, _ = float_case("mlp")
    onnx.save(proto, tmp_path / "f.onnx")
    quantize_dynamic(
        str(tmp_path / "f.onnx"), str(tmp_path / "d.onnx"), weight_type=QuantType.QInt8
    )
    with pytest.raises(UnsupportedModelError, match=r"DynamicQuantizeLinear.*dynamic quantiz"):
        c.load_onnx(tmp_path / "d.onnx")


def test_unfolded_batchnorm_and_matmul_bias_are_refused(tmp_path: Path) -> None:
    """Without onnxruntime's pre-processing a quantized model keeps a float BatchNormalization
    and a MatMul's bias becomes a quantized constant added with QLinearAdd: neither is an
    integer program of ours; the messages say how to get one."""
    _, proto, calib, _ = float_case("batchnorm")
    for fmt in FORMATS:
        q = om.ort_quantize(proto, calib, tmp_path / fmt, fmt=fmt, preprocess=False)
        with pytest.raises(UnsupportedModelError, match=r"BatchNormalization.*quant_pre_process"):
            c.load_onnx(q)
    mm = matmul_bias()
    xs = om.data([6], 16, 3)
    # Per tensor: onnxruntime's per-channel bias check fails on a [1, O] bias (its bug).
    for fmt in FORMATS:
        q = om.ort_quantize(
            mm, xs, tmp_path / f"mm{fmt}", fmt=fmt, preprocess=False, per_channel=False
        )
        with pytest.raises(UnsupportedModelError, match=r"Add of a constant.*Gemm"):
            c.load_onnx(q)
        q = om.ort_quantize(mm, xs, tmp_path / f"mmpre{fmt}", fmt=fmt, per_channel=False)
        assert [n.op.kind for n in c.load_onnx(q).qmodel.nodes] == ["dense", "dense"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an onnx model",
        b"\x08\x07\x12\x00garbage\xff\xff",
        b"\x0a\xff",  # a field whose length runs past the end
    ],
    ids=["empty", "text", "garbage", "truncated field"],
)
def test_malformed_bytes_are_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match=r"not (a valid|an) ONNX model"):
        c.load_onnx(data)


def test_truncated_models_are_a_decode_error(tmp_path: Path) -> None:
    q, _ = ort_case("cnn", "qoperator")
    data = q.SerializeToString()
    for cut in (1, 10, len(data) // 3, len(data) // 2, len(data) - 1):
        with pytest.raises(DecodeError, match="ONNX model"):
            c.load_onnx(data[:cut])
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError, match=str(path)):
        c.load_onnx(path)
    no_ir = onnx.ModelProto.FromString(data)
    no_ir.ClearField("ir_version")
    with pytest.raises(DecodeError, match="ir_version"):
        c.load_onnx(no_ir)


# --- quantized graphs written by hand ---------------------------------------------------------


def qlinear_matmul(weights: np.ndarray, w_zero: int, w_dtype: Any) -> Any:
    """QuantizeLinear → QLinearMatMul (weights of ``w_dtype`` with zero point ``w_zero``) →
    DequantizeLinear."""
    nodes = [
        om.node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        om.node("QLinearMatMul", ["xq", "xs", "xz", "W", "ws", "wz", "ys", "yz"], ["mm"]),
        om.node("DequantizeLinear", ["mm", "ys", "yz"], ["y"]),
    ]
    inits = [
        om.tensor("xs", 1 / 255),
        om.tensor("xz", 0, np.uint8),
        om.tensor("W", weights, w_dtype),
        om.tensor("ws", 0.01),
        om.tensor("wz", w_zero, w_dtype),
        om.tensor("ys", 0.05),
        om.tensor("yz", 128, np.uint8),
    ]
    return om.graph(nodes, inits, [1, weights.shape[0]], "y")


def test_a_weight_zero_point_is_rewritten_exactly() -> None:
    """uint8 weights with zero point 130: ``W - 130`` lies in [-127, 127], so the program's
    int8 weights are exactly those differences, and the result equals onnxruntime's."""
    rng = np.random.default_rng(11)
    w = rng.integers(3, 256, (6, 4))
    proto = qlinear_matmul(w, 130, np.uint8)
    qm = c.load_onnx(proto).qmodel
    (dense,) = qm.nodes
    assert np.array_equal(dense.op.weight, (w - 130).T)
    xs = om.data([6], 30, 12)
    result = c.compare_with_onnxruntime(proto, qm, xs)
    assert result["differing_integers"] <= 1, result


@pytest.mark.parametrize(
    ("where", "zero", "dtype", "value"),
    [((0, 3), 0, np.int8, -128), ((2, 1), 130, np.uint8, -128), ((1, 3), 0, np.uint8, 128)],
    ids=["int8 -128", "uint8 minus zero point -128", "uint8 without zero point"],
)
def test_weights_outside_the_symmetric_range_are_refused(
    where: tuple[int, int], zero: int, dtype: Any, value: int
) -> None:
    w = np.full((6, 4), 10 + zero)
    w[where] = value + zero
    message = rf"'mm' \(QLinearMatMul.*weight \[{where[0]}, {where[1]}\] = {value + zero} "
    with pytest.raises(UnsupportedModelError, match=message):
        c.load_onnx(qlinear_matmul(w, zero, dtype))


def integer_chain(conv: bool) -> Any:
    """QuantizeLinear → ConvInteger/MatMulInteger → Cast → Mul(scale) → Add(bias) → Relu →
    QuantizeLinear → DequantizeLinear: static quantization written with the integer ops."""
    rng = np.random.default_rng(13)
    if conv:
        w, shape, layout = rng.integers(-127, 128, (3, 2, 3, 3)), [1, 2, 5, 5], (1, 3, 1, 1)
        op = om.node("ConvInteger", ["xq", "W", "xz"], ["acc"], pads=[1, 1, 1, 1])
    else:
        w, shape, layout = rng.integers(-127, 128, (6, 3)), [1, 6], (1, 3)
        op = om.node("MatMulInteger", ["xq", "W", "xz"], ["acc"])
    nodes = [
        om.node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        op,
        om.node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
        om.node("Mul", ["accf", "scale"], ["scaled"]),
        om.node("Add", ["scaled", "bias"], ["biased"]),
        om.node("Relu", ["biased"], ["r"]),
        om.node("QuantizeLinear", ["r", "ys", "yz"], ["yq"]),
        om.node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
    ]
    inits = [
        om.tensor("xs", 1 / 255),
        om.tensor("xz", 0, np.uint8),
        om.tensor("W", w, np.int8),
        om.tensor("scale", rng.uniform(1e-4, 3e-4, layout)),
        om.tensor("bias", rng.normal(0, 0.05, layout)),
        om.tensor("ys", 0.01),
        om.tensor("yz", 0, np.uint8),
    ]
    return om.graph(nodes, inits, shape, "y")


@pytest.mark.parametrize("conv", [False, True], ids=["MatMulInteger", "ConvInteger"])
def test_integer_operators_with_static_scales(conv: bool) -> None:
    proto = integer_chain(conv)
    imported = c.load_onnx(proto)
    assert imported.kind == "qoperator"
    (node,) = imported.qmodel.nodes
    assert node.op.kind == ("conv2d" if conv else "dense") and node.op.clamp == (0, 255)
    assert node.fused[-1] == "r"
    xs = om.data(imported.qmodel.input_shape, 20, 14)
    result = c.compare_with_onnxruntime(proto, imported.qmodel, xs)
    # The float bias is rounded to the accumulator's scale (half a unit of acc, far below an
    # output step); the rest is the requantization of §5.
    assert max(map(int, result["int_delta_histogram"] or {0: 0})) <= 1, result
    assert result["differing_integers"] <= 0.02 * result["samples"] * result["outputs"]


def test_an_unquantized_computation_in_a_quantized_model_is_refused() -> None:
    """A float Relu on the input of a quantized model would compute in float."""
    rng = np.random.default_rng(15)
    nodes = [
        om.node("Relu", ["x"], ["r"]),
        om.node("QuantizeLinear", ["r", "xs", "xz"], ["xq"]),
        om.node("DequantizeLinear", ["xq", "xs", "xz"], ["y"]),
    ]
    inits = [om.tensor("xs", 0.1), om.tensor("xz", 0, np.uint8)]
    with pytest.raises(UnsupportedModelError, match=r"'r' \(Relu.*not quantized"):
        c.load_onnx(om.graph(nodes, inits, [1, 4], "y"))
    bad_bias = qlinear_matmul(rng.integers(-100, 100, (6, 4)), 0, np.int8)
    bad_bias.graph.initializer[3].CopyFrom(om.tensor("ws", 1e-30))
    with pytest.raises(QuantizationError, match=r"'mm'.*too small"):
        c.load_onnx(bad_bias)


def test_mutated_models_are_refused_cleanly() -> None:
    """Bounded fuzzing: structurally mutated models (tests/onnx_models.py ``mutate``) import,
    or are refused with a ``bigfile_zk.errors`` exception that is not ``InternalError``, never
    another exception (a numpy, protobuf, onnx or onnxruntime error, a KeyError, ...)."""
    import random

    seeds = []
    for name in ("cnn", "residual"):
        _, proto, calib, _ = float_case(name)
        seeds += [
            (p, calib[:3])
            for p in (proto, ort_case(name, "qdq")[0], ort_case(name, "qoperator")[0])
        ]
    seeds.append((integer_chain(True), om.data([2, 5, 5], 3, 1)))
    rng = random.Random(2026)
    outcomes: dict[str, int] = {}
    for _ in range(CASES_MUTATED):
        proto, calib = rng.choice(seeds)
        model = om.mutate(rng, proto)
        try:
            c.load_onnx(model, calibration=calib)
            kind = "ok"
        except InternalError:
            raise
        except bigfile_zk.errors.BigFileZkError as exc:
            kind = type(exc).__name__
        outcomes[kind] = outcomes.get(kind, 0) + 1
    assert outcomes.get("ok", 0) > 0 and outcomes.get("UnsupportedModelError", 0) > 0, outcomes
    assert outcomes.get("DecodeError", 0) > 0, outcomes
