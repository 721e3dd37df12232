"""Multi-scalar multiplication on BN254 G1 (``Σ s_i·P_i``) and its backends.

Every MSM of bigfile_zk (KZG commitments, SRS checks, the prover) runs on one backend: the CPU
(default) or a plug-in library loaded at run time, such as the ICICLE GPU plug-in
(``rust/msm-plugin-icicle``; C ABI in ``docs/spec/msm-plugin.md``). Choose it with
:func:`set_backend` or the environment variable ``BIGFILE_ZK_MSM`` (``cpu``, ``gpu`` or the path
of a plug-in), read once at the first MSM. A plug-in that is missing, refuses to start or fails
is replaced by the CPU with a :class:`~bigfile_zk.errors.BackendFallbackWarning`: results never
depend on the backend. MSMs smaller than ``min_size`` points (default 4096,
``BIGFILE_ZK_MSM_MIN_SIZE``) stay on the CPU.

Points are 64-byte EVM encodings (``x ‖ y`` big-endian, identity = zeros), as a sequence of
``bytes`` or a ``(n, 64)`` ``uint8`` array; scalars are ints in ``[0, r)`` or a ``(n, 4)``
``uint64`` limb array. Runs without the GIL.

>>> from bigfile_zk import msm
>>> g = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
>>> msm.msm([g, g], [1, 2]) == msm.msm([g], [3])
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bigfile_zk import _native

__all__ = ["available", "backend", "min_size", "msm", "set_backend"]

Points = Sequence[bytes] | npt.NDArray[np.uint8]
Scalars = Sequence[int] | npt.NDArray[np.uint64]

# The `gpu` plug-in may be installed next to this package (after $BIGFILE_ZK_MSM_PLUGIN_DIR).
_native._msm_add_search_dir(str(Path(__file__).resolve().parent))


def msm(points: Points, scalars: Scalars) -> bytes:
    """``Σ scalars[i]·points[i]`` as a 64-byte point, on the selected backend."""
    return _native.msm_g1(points, scalars)


def set_backend(backend: str | os.PathLike[str], *, min_size: int | None = None) -> str:
    """Use ``"cpu"``, ``"gpu"`` or the plug-in library at a path for every later MSM.

    Overrides ``BIGFILE_ZK_MSM``. An unknown name raises
    :class:`~bigfile_zk.errors.ParameterError`; a plug-in that cannot be used selects the CPU
    and warns (:class:`~bigfile_zk.errors.BackendFallbackWarning`). ``min_size``: MSMs with
    fewer points stay on the CPU (unchanged when omitted). Returns :func:`backend`.
    """
    if isinstance(backend, os.PathLike):
        spec = os.fspath(backend)
        # A bare file name is still a path here, not a backend name.
        if os.sep not in spec and (os.altsep is None or os.altsep not in spec):
            spec = os.path.join(os.curdir, spec)
    elif isinstance(backend, str):
        spec = backend
    else:
        raise TypeError(f"backend must be a str or a path, not {type(backend).__name__}")
    return _native.msm_set_backend(spec, min_size)


def backend() -> str:
    """The active backend: ``"cpu"``, or ``"<plug-in name> (<library path>)"``."""
    return _native.msm_backend()


def min_size() -> int:
    """MSMs with fewer points run on the CPU whatever the backend."""
    return _native.msm_min_size()


def available() -> list[str]:
    """``["cpu"]``, plus ``"gpu"`` when the ICICLE plug-in is installed and starts.

    Looking for the GPU plug-in loads and initialises it (which may take a few seconds).
    """
    return _native.msm_available()
