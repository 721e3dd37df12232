"""Proof-of-compute models: what "quantized model M on input x gives output y" means.

* :mod:`.model`: float models (a small DAG of named nodes) and their float64 forward pass;
* :mod:`.quantize`: post-training quantization to the integer program of
  ``docs/spec/quantization.md``;
* :mod:`.qmodel`: :class:`QuantizedModel`, that program with its scales, run by the oracle
  ``bigfile_zk.reference.compute`` and serialized by ``to_dict``/``from_dict``;
* :mod:`.bounds`: the compile-time interval analysis the circuit's range checks are sized from;
* :mod:`.onnx_import`: ONNX models (float, or quantized by onnxruntime) to that program, with
  a fidelity report against onnxruntime (``docs/spec/onnx.md``); :mod:`.onnx_export` the other
  way for float models;
* :mod:`.bfm`: the compiled-model file (``docs/spec/model-file.md``): :func:`load_model`,
  ``CompiledModel.save``/``to_bytes``/``from_bytes``/``file_commitment``;
* :mod:`.prover`: the circuit (``docs/spec/proof-of-compute.md``): :func:`compile` to a
  :class:`CompiledModel` (keys cached on disk and checked on load, ``vk_digest``, proving,
  the Solidity verifier), :class:`ComputeProof` (self-describing JSON), and :func:`verify`
  against the statement the caller expects.
"""

from __future__ import annotations

from .bfm import load_model
from .bounds import BoundsReport, Interval, NodeBounds, analyze
from .model import (
    INPUT,
    Add,
    AvgPool,
    BatchNorm,
    Clip,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    MaxPool,
    Model,
    Node,
    ReLU,
    ReLU6,
    Reshape,
    fold_batchnorm,
)
from .onnx_export import to_onnx
from .onnx_import import (
    FidelityReport,
    OnnxImport,
    SetFidelity,
    Tolerance,
    compare_with_onnxruntime,
    load_onnx,
)
from .prover import (
    MAX_PUBLIC_OUTPUTS,
    PROOF_FORMAT,
    PROOF_FORMAT_VERSION,
    CompiledModel,
    ComputeProof,
    compile,
    verify,
)
from .qmodel import QuantizedModel, QuantizedNode, TensorQuant
from .quantize import (
    MULTIPLIER_BITS,
    activation_clamp,
    quantize,
    requant_multiplier,
    shared_multipliers,
)

__all__ = [
    "INPUT",
    "MAX_PUBLIC_OUTPUTS",
    "MULTIPLIER_BITS",
    "PROOF_FORMAT",
    "PROOF_FORMAT_VERSION",
    "Add",
    "AvgPool",
    "BatchNorm",
    "BoundsReport",
    "Clip",
    "CompiledModel",
    "ComputeProof",
    "Conv2d",
    "Dense",
    "FidelityReport",
    "Flatten",
    "GlobalAvgPool",
    "Interval",
    "MaxPool",
    "Model",
    "Node",
    "NodeBounds",
    "OnnxImport",
    "QuantizedModel",
    "QuantizedNode",
    "ReLU",
    "ReLU6",
    "Reshape",
    "SetFidelity",
    "TensorQuant",
    "Tolerance",
    "activation_clamp",
    "analyze",
    "compare_with_onnxruntime",
    "compile",
    "fold_batchnorm",
    "load_model",
    "load_onnx",
    "quantize",
    "requant_multiplier",
    "shared_multipliers",
    "to_onnx",
    "verify",
]
