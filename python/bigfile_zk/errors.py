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
    "FieldElementError",
    "FileChangedError",
    "IndexOutOfRangeError",
    "InsecureSRSError",
    "InsecureSRSWarning",
    "InternalError",
    "NotARegularFileError",
    "ParameterError",
    "QuantizationError",
    "UnsatisfiedError",
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
