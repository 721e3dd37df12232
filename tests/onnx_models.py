"""ONNX models for tests/test_compute_onnx.py: small seeded float models (exported with
``bigfile_zk.compute.to_onnx`` or written node by node with ``onnx.helper``), their
onnxruntime static quantizations (QDQ and QOperator), and data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from bigfile_zk import compute as c

FloatArray = npt.NDArray[np.float64]
OPSET = 13


# --- float models (bigfile_zk.compute.Model, exported with to_onnx) --------------------------


def _dense(rng: np.random.Generator, name: str, i: int, o: int) -> c.Dense:
    return c.Dense(name, rng.normal(0, 1 / np.sqrt(i), (o, i)), rng.normal(0, 0.1, o))


def _conv(rng: np.random.Generator, name: str, cin: int, cout: int, k: int, **kw: Any) -> c.Conv2d:
    # Inputs are non-negative (pixels, ReLU outputs): centre the weights a little above 0 so
    # that no channel is dead on the calibration data (a dead channel quantizes to scale 1).
    w = rng.normal(0.05, 1 / np.sqrt(cin * k * k), (cout, cin, k, k))
    return c.Conv2d(name, w, rng.normal(0.1, 0.1, cout), **kw)


def _bn(rng: np.random.Generator, name: str, ch: int) -> c.BatchNorm:
    return c.BatchNorm(
        name,
        rng.uniform(0.5, 1.5, ch),
        rng.normal(0, 0.2, ch),
        rng.normal(0, 0.2, ch),
        rng.uniform(0.5, 1.5, ch),
    )


def mlp(rng: np.random.Generator) -> c.Model:
    """12-16-ReLU-8-ReLU-5."""
    return c.Model(
        (12,),
        [
            _dense(rng, "fc1", 12, 16),
            c.ReLU("relu1"),
            _dense(rng, "fc2", 16, 8),
            c.ReLU("relu2"),
            _dense(rng, "fc3", 8, 5),
        ],
    )


def cnn(rng: np.random.Generator) -> c.Model:
    """Conv 3x3x4 pad 1 → ReLU → MaxPool 2 → Conv 3x3x4 stride 1 → ReLU → AvgPool 2 →
    Flatten → Gemm 6 on 1x12x12."""
    return c.Model(
        (1, 12, 12),
        [
            _conv(rng, "conv1", 1, 4, 3, padding=1),
            c.ReLU("relu1"),
            c.MaxPool("pool1", kernel=2),
            _conv(rng, "conv2", 4, 4, 3),
            c.ReLU("relu2"),
            c.AvgPool("pool2", kernel=2),
            c.Flatten("flat"),
            _dense(rng, "fc", 16, 6),
        ],
    )


def residual(rng: np.random.Generator) -> c.Model:
    """Conv → ReLU → (Conv → ReLU) + skip → ReLU → GlobalAvgPool → Flatten → Gemm on 3x6x6."""
    return c.Model(
        (3, 6, 6),
        [
            _conv(rng, "conv1", 3, 4, 3, padding=1),
            c.ReLU("relu1"),
            _conv(rng, "conv2", 4, 4, 3, padding=1),
            c.ReLU("relu2"),
            c.Add("add", inputs=("relu1", "relu2")),
            c.ReLU("relu3"),
            c.GlobalAvgPool("gap"),
            c.Flatten("flat"),
            _dense(rng, "fc", 4, 3),
        ],
    )


def batchnorm(rng: np.random.Generator) -> c.Model:
    """Conv → BatchNorm → ReLU6 → Conv stride 2 → BatchNorm → Clip(-1, 2) → Reshape → Gemm on
    2x6x6 (onnxruntime's pre-processing folds the BatchNorms into the Convs; ours too)."""
    return c.Model(
        (2, 6, 6),
        [
            _conv(rng, "conv1", 2, 3, 3, padding=1),
            _bn(rng, "bn1", 3),
            c.ReLU6("relu6"),
            _conv(rng, "conv2", 3, 4, 3, stride=2, padding=(0, 0, 1, 1)),
            _bn(rng, "bn2", 4),
            c.Clip("clip", -1.0, 2.0),
            c.Reshape("flat", shape=(36,)),
            _dense(rng, "fc", 36, 4),
        ],
    )


FLOAT_MODELS: dict[str, Callable[[np.random.Generator], c.Model]] = {
    "mlp": mlp,
    "cnn": cnn,
    "residual": residual,
    "batchnorm": batchnorm,
}


def float_model(name: str, seed: int = 0) -> c.Model:
    return FLOAT_MODELS[name](np.random.default_rng([seed, *name.encode()]))


def data(model_or_shape: c.Model | Sequence[int], n: int, seed: int) -> FloatArray:
    """``n`` seeded samples in [0, 1)."""
    shape = (
        model_or_shape.input_shape if isinstance(model_or_shape, c.Model) else tuple(model_or_shape)
    )
    return np.random.default_rng(seed).random((n, *shape))


def float32_weights(model: c.Model) -> c.Model:
    """``model`` with its parameters rounded to float32, as an ONNX export stores them."""

    def f32(v: Any) -> Any:
        return np.asarray(v, dtype=np.float32).astype(np.float64)

    nodes = []
    for node in model.nodes:
        changes = {
            f.name: f32(getattr(node, f.name))
            for f in dataclasses.fields(node)
            if isinstance(getattr(node, f.name), np.ndarray)
        }
        if isinstance(node, c.Clip):
            changes = {"lo": float(np.float32(node.lo)), "hi": float(np.float32(node.hi))}
        if isinstance(node, c.BatchNorm):
            changes["eps"] = float(np.float32(node.eps))
        nodes.append(dataclasses.replace(node, **changes))
    return c.Model(model.input_shape, nodes)


# --- onnxruntime's static quantization --------------------------------------------------------


def ort_quantize(
    proto: Any,
    calibration: FloatArray,
    work: Path,
    *,
    fmt: str = "qdq",
    activations: str = "uint8",
    per_channel: bool = True,
    weights: str = "int8",
    preprocess: bool = True,
    extra_options: dict[str, Any] | None = None,
) -> Any:
    """``proto`` quantized by ``onnxruntime.quantization.quantize_static`` (MinMax calibration
    on ``calibration``), after ``quant_pre_process`` (which folds BatchNorm and fuses
    MatMul + Add into Gemm) unless ``preprocess`` is false."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    name = proto.graph.input[0].name

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter([{name: x[None].astype(np.float32)} for x in calibration])

        def get_next(self) -> dict[str, Any] | None:
            return next(self.it, None)

    work.mkdir(parents=True, exist_ok=True)
    src = work / "float.onnx"
    onnx.save(proto, src)
    if preprocess:
        pre = work / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        src = pre
    out = work / f"{fmt}-{activations}-{weights}-{'pc' if per_channel else 'pt'}.onnx"
    types = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice on pre-processing
    quantize_static(
        str(src),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
        activation_type=types[activations],
        weight_type=types[weights],
        per_channel=per_channel,
        extra_options=extra_options or {},
    )
    return onnx.load(out)


# --- graphs written node by node --------------------------------------------------------------


def tensor(name: str, value: npt.ArrayLike, dtype: Any = np.float32) -> Any:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def graph(
    nodes: list[Any],
    inits: list[Any],
    input_shape: Sequence[int | str],
    output: str,
    *,
    opset: int = OPSET,
    input_name: str = "x",
    extra_inputs: Sequence[Any] = (),
    extra_outputs: Sequence[str] = (),
    domains: Sequence[tuple[str, int]] = (),
    check: bool = True,
) -> Any:
    """A model: one float input ``input_name`` of ``input_shape``, output ``output``."""
    g = helper.make_graph(
        nodes,
        "test",
        [
            helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape)),
            *extra_inputs,
        ],
        [
            helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
            for o in (output, *extra_outputs)
        ],
        inits,
    )
    imports = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in domains)]
    m = helper.make_model(g, opset_imports=imports, producer_name="bigfile_zk-tests")
    m.ir_version = helper.find_min_ir_version_for([imports[0]])
    # The outputs' types and shapes by inference; an output it cannot type (an unknown
    # operator's) is declared a float matrix.
    inferred = {o.name: o for o in onnx.shape_inference.infer_shapes(m).graph.output}
    for out in m.graph.output:
        found = inferred.get(out.name)
        if found is not None and found.type.tensor_type.HasField("shape"):
            out.CopyFrom(found)
        else:
            out.CopyFrom(helper.make_tensor_value_info(out.name, TensorProto.FLOAT, [1, "n"]))
    if check:
        onnx.checker.check_model(m)
    return m


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], **attrs: Any) -> Any:
    domain = attrs.pop("domain", "")
    return helper.make_node(
        op, list(inputs), list(outputs), name=outputs[0], domain=domain, **attrs
    )


# --- structural mutations (tests/test_compute_onnx.py's bounded fuzzing) -----------------------


def mutate(rng: Any, proto: Any) -> Any:
    """``proto`` with one structural mutation (an attribute, an initializer's values, shape or
    type, an operator, a wire, the input's dimensions, a node removed, the opset), or its bytes
    with a few bytes changed (then ``bytes``)."""
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    g = m.graph
    nodes = list(g.node)
    k = rng.randrange(12)
    if k == 0 and nodes:
        for a in rng.choice(nodes).attribute:
            if a.type == onnx.AttributeProto.INT:
                a.i = rng.choice([-1, 0, 1, 2, 3, 2**31, -(2**40)])
            elif a.type == onnx.AttributeProto.INTS and len(a.ints):
                a.ints[rng.randrange(len(a.ints))] = rng.choice([-1, 0, 1, 2, 5, 100])
            elif a.type == onnx.AttributeProto.FLOAT:
                a.f = rng.choice([0.0, -1.0, float("nan"), float("inf"), 1e30])
            elif a.type == onnx.AttributeProto.STRING:
                a.s = rng.choice([b"", b"SAME_UPPE\xef", b"VALID", b"SAME_LOWER"])
    elif k in (1, 2, 3) and g.initializer:
        i = rng.randrange(len(g.initializer))
        arr = numpy_helper.to_array(g.initializer[i]).copy()
        if k == 1 and arr.size:
            flat = arr.reshape(-1)
            if arr.dtype.kind == "f":
                flat[rng.randrange(arr.size)] = rng.choice([0.0, -0.0, np.nan, np.inf, 1e30, 1e-45])
            else:
                info = np.iinfo(arr.dtype)
                flat[rng.randrange(arr.size)] = rng.choice([info.min, info.max, 0])
        elif k == 2:
            arr = rng.choice([arr.reshape(-1), arr.reshape(1, -1), arr[:-1] if arr.ndim else arr])
        else:
            arr = arr.astype(rng.choice([np.int8, np.uint8, np.int32, np.float32, np.float64]))
        g.initializer[i].CopyFrom(
            numpy_helper.from_array(np.ascontiguousarray(arr), g.initializer[i].name)
        )
    elif k == 4 and nodes:
        rng.choice(nodes).op_type = rng.choice(
            [
                "Relu",
                "Clip",
                "MaxPool",
                "AveragePool",
                "Flatten",
                "Identity",
                "Add",
                "Gemm",
                "MatMul",
                "Conv",
                "QuantizeLinear",
                "DequantizeLinear",
                "Transpose",
                "Reshape",
            ]
        )
    elif k == 5 and nodes:
        n = rng.choice(nodes)
        if n.input:
            names = [o for x in nodes for o in x.output] + [i.name for i in g.initializer]
            n.input[rng.randrange(len(n.input))] = rng.choice([*names, g.input[0].name, ""])
    elif k == 6:
        dims = g.input[0].type.tensor_type.shape.dim
        d = dims[rng.randrange(len(dims))]
        choice = rng.randrange(3)
        if choice == 0:
            d.dim_value = rng.choice([0, 2, 3])
        elif choice == 1:
            d.dim_param = "X"
        else:
            d.Clear()
    elif k == 7 and nodes:
        g.node.remove(rng.choice(nodes))
    elif k == 8 and nodes:
        rng.choice(nodes).attribute.append(
            helper.make_attribute(
                rng.choice(["axis", "pads", "strides", "group", "perm", "allowzero", "transB"]),
                rng.choice([0, 1, 2, [1, 1], [0, 0, 0, 0], [2, 2], [0, 1, 3, 2]]),
            )
        )
    elif k == 9:
        m.opset_import[0].version = rng.choice([6, 10, 11, 12, 14, 19, 21, 22, 23])
    elif k == 10 and nodes:
        n = rng.choice(nodes)
        if n.attribute:
            n.attribute.pop(rng.randrange(len(n.attribute)))
    else:
        data = bytearray(m.SerializeToString())
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return m
