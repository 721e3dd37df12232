"""Exceptions raised by bigfile_zk.

Every error from the Rust core arrives as one of these classes, with a message that names the
bad value. They also derive from the matching built-in (``ValueError``, ``IndexError``,
``OSError``) so that generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "BackendFallbackWarning",
    "BigFileZkError",
    "CommitmentMismatchError",
    "DecodeError",
    "FidelityError",
    "FieldElementError",
    "FileChangedError",
    "IndexOutOfRangeError",
    "InsecureSRSError",
    "InsecureSRSWarning",
    "InternalError",
    "MissingDependencyError",
    "NotARegularFileError",
    "ParameterError",
    "QuantizationError",
    "TransactionFailedError",
    "UnsatisfiedError",
    "UnsupportedModelError",
    "WorkerDiedError",
]


class BigFileZkError(Exception):
    """Base class of every bigfile_zk error."""


class FieldElementError(BigFileZkError, ValueError):
    """A value is not a canonical BN254 scalar field element (``0 <= x < r``)."""


class ParameterError(BigFileZkError, ValueError):
    """A parameter is outside its allowed set (arity, input count, chunk size, shape, ...)."""


class QuantizationError(ParameterError):
    """A model cannot become the integer program of ``docs/spec/quantization.md``: a bound the
    circuit relies on (``|acc| < 2^31``, ``|acc·M| + 2^(s-1) < 2^62``, an int32 bias, a
    representable multiplier) fails, or a node cannot be quantized (e.g. a BatchNorm with no
    Conv/Dense to fold into). The message names the node and the tensor."""


class UnsupportedModelError(ParameterError):
    """An ONNX model uses something the importer cannot map exactly onto the integer program:
    an operator (named with its node, domain and opset), an attribute value, a dynamic shape,
    dynamic quantization, ... (``docs/spec/onnx.md``). Raised before any work is done."""


class FidelityError(BigFileZkError, ValueError):
    """A quantized model is further from its baseline (the float model, or onnxruntime's
    quantized run) than the caller's tolerance allows. ``report`` is the
    ``FidelityReport`` with every figure, so that nothing is proved silently."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report

    def __reduce__(self) -> tuple[type, tuple[str, object]]:
        return type(self), (str(self), self.report)


class MissingDependencyError(BigFileZkError, ImportError):
    """An optional package a feature needs is not installed; the message names the package
    and the extra that installs it (e.g. ``pip install 'bigfile_zk[compute]'``)."""


class DecodeError(BigFileZkError, ValueError):
    """Bytes or JSON that do not decode to a valid object (proof, commitment, ...)."""


class IndexOutOfRangeError(BigFileZkError, IndexError):
    """A leaf or chunk index past the end."""


class FileChangedError(BigFileZkError, OSError):
    """The file was modified while it was being read."""


class NotARegularFileError(BigFileZkError, OSError):
    """An input that must be a regular file is a FIFO, a device, a directory or a socket:
    refused before it is opened (a FIFO would block, a device never end)."""


class CommitmentMismatchError(BigFileZkError, ValueError):
    """Data does not match the commitment it was checked against."""


class UnsatisfiedError(BigFileZkError, ValueError):
    """A witness does not satisfy its circuit; the message names the constraint, the row and
    the gadget that made the row."""


class InternalError(BigFileZkError, RuntimeError):
    """A bug in bigfile_zk (a caught Rust panic). Please report it."""


class InsecureSRSError(BigFileZkError, ValueError):
    """The insecure test SRS (its τ is public, so anyone can forge proofs) was about to be
    trusted: verifying, or generating a verifier contract, with a key made from it. Pass
    ``allow_insecure_srs=True`` (CLI: ``--insecure-test-srs``) to do it anyway, in tests."""


class InsecureSRSWarning(UserWarning):
    """An SRS whose secret is public (``SRS.insecure_for_testing``) is in use."""


class BackendFallbackWarning(UserWarning):
    """The selected MSM backend (a plug-in, e.g. the GPU) could not be used: the CPU computed.

    Raised when the plug-in is missing, refuses to start, fails its self-test, or fails an MSM;
    the message names the library and the reason. Results are never affected.
    """


class WorkerDiedError(BigFileZkError, RuntimeError):
    """A worker process (local or on a Ray cluster) died while it ran a job, as many times as
    the batch allowed retries (``bigfile_zk.batch.prove_batch``'s ``max_retries``)."""


class TransactionFailedError(BigFileZkError, RuntimeError):
    """A transaction this library sent was mined and reverted (``bigfile_zk.provider``); the
    message names the call and the transaction hash."""
