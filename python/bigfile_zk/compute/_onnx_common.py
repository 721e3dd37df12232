"""Lazy imports of the optional ONNX packages (the ``compute`` extra)."""

from __future__ import annotations

from typing import Any

from bigfile_zk.errors import MissingDependencyError

_EXTRA = "pip install 'bigfile_zk[compute]'"


def require_onnx() -> Any:
    """The ``onnx`` module, or ``MissingDependencyError`` naming the extra that installs it."""
    try:
        import onnx
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading and writing ONNX models needs the 'onnx' package ({exc}); install it "
            f"with {_EXTRA}"
        ) from None
    return onnx


def require_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or ``MissingDependencyError`` naming the extra."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependencyError(
            f"the fidelity report and the cross-check run the model with the 'onnxruntime' "
            f"package ({exc}); install it with {_EXTRA}"
        ) from None
    return onnxruntime
