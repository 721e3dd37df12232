"""MSM: the native MSM against py_ecc (small) and arkworks (larger), input checks, and backend
selection: explicit, by environment (subprocesses), the CPU plug-in, and every fallback
(docs/spec/msm-plugin.md).

The plug-in tests need the CPU plug-in (``rust/msm-plugin-cpu``), whose path tests/run.sh
passes in ``BIGFILE_ZK_TEST_CPU_PLUGIN``.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import G1, Z1, add, multiply, neg
from strategies import EDGE_ELEMENTS

import bigfile_zk as bz
from bigfile_zk import _native, kzg, msm
from bigfile_zk.errors import (
    BackendFallbackWarning,
    DecodeError,
    FieldElementError,
    InsecureSRSWarning,
    ParameterError,
)
from bigfile_zk.reference import kzg as ref

R = bz.MODULUS
Q = ref.Q
CPU_PLUGIN = os.environ.get("BIGFILE_ZK_TEST_CPU_PLUGIN")
needs_plugin = pytest.mark.skipif(
    not CPU_PLUGIN,
    reason="BIGFILE_ZK_TEST_CPU_PLUGIN is not set (tests/run.sh builds the CPU plug-in)",
)
# Test faults of the CPU plug-in (rust/msm-plugin-cpu/src/lib.rs, `fault`).
FAULT_NONE, FAULT_DEVICE_ERROR, FAULT_OFF_CURVE, FAULT_WRONG_ANSWER = 0, 3, 4, 6


def point(k: int) -> bytes:
    """``k·G`` encoded (``k = 0``: the identity), via py_ecc."""
    return ref.g1_to_bytes(multiply(G1, k) if k % R else Z1)


def reference_msm(ks: list[int], scalars: list[int]) -> bytes:
    acc = Z1
    for k, s in zip(ks, scalars, strict=True):
        if k % R and s:
            acc = add(acc, multiply(multiply(G1, k), s))
    return ref.g1_to_bytes(acc)


def as_array(points: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(points), dtype=np.uint8).reshape(len(points), 64)


@pytest.fixture(scope="module")
def srs() -> bz.SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return bz.SRS.insecure_for_testing(4095, seed=5)


@pytest.fixture(scope="module")
def srs_points(srs: bz.SRS) -> list[bytes]:
    return [
        x.to_bytes(32, "big") + y.to_bytes(32, "big")
        for x, y in (srs.g1(i) for i in range(srs.max_degree + 1))
    ]


@pytest.fixture
def restore_cpu() -> Iterator[None]:
    yield
    msm.set_backend("cpu", min_size=4096)


# --- correctness ----------------------------------------------------------------------------

scalar_st = st.one_of(st.sampled_from(EDGE_ELEMENTS), st.integers(0, R - 1))


@given(st.lists(st.tuples(st.integers(0, R - 1), scalar_st), max_size=6))
def test_matches_py_ecc(terms: list[tuple[int, int]]) -> None:
    ks = [k for k, _ in terms]
    scalars = [s for _, s in terms]
    points = [point(k) for k in ks]
    want = reference_msm(ks, scalars)
    assert msm.msm(points, scalars) == want
    # The array forms give the same answer.
    limbs = bz.field.to_limbs(scalars).reshape(len(scalars), 4)
    assert msm.msm(as_array(points), limbs) == want
    assert _native._msm_arkworks(points, scalars) == want


def test_edge_cases() -> None:
    zero = bytes(64)
    assert msm.msm([], []) == zero
    assert msm.msm(np.zeros((0, 64), dtype=np.uint8), []) == zero
    assert msm.msm([zero], [5]) == zero
    assert msm.msm([point(3)], [0]) == zero
    assert msm.msm([point(1)], [R - 1]) == ref.g1_to_bytes(neg(G1))
    assert msm.msm([point(2), point(2)], [1, R - 1]) == zero
    assert msm.msm([point(1), zero, point(1)], [2, 7, 3]) == point(5)
    # Bytearrays are points too.
    assert msm.msm([bytearray(point(1))], [4]) == point(4)


def test_matches_arkworks_and_kzg_on_larger_inputs(srs: bz.SRS, srs_points: list[bytes]) -> None:
    rng = random.Random(7)
    n = len(srs_points)
    scalars = [rng.randrange(R) for _ in range(n)]
    scalars[:3] = [0, 1, R - 1]
    got = msm.msm(srs_points, scalars)
    assert got == _native._msm_arkworks(srs_points, scalars)
    # Σ c_i·[τ^i]G1 is the KZG commitment to the polynomial with coefficients c.
    assert got == kzg.commit(srs, scalars)
    points = list(srs_points)
    points[10] = bytes(64)
    limbs = bz.field.to_limbs(scalars).reshape(n, 4)
    assert msm.msm(as_array(points), limbs) == _native._msm_arkworks(points, scalars)


# --- input checks ---------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_named_value() -> None:
    p = point(1)
    with pytest.raises(ParameterError, match="2 points, 1 scalars"):
        msm.msm([p, p], [1])
    with pytest.raises(FieldElementError, match=r"scalars\[1\]"):
        msm.msm([p, p], [1, R])
    with pytest.raises(FieldElementError, match=r"scalars\[0\]"):
        msm.msm([p], [-1])
    with pytest.raises(TypeError, match=r"scalars\[0\] must be an int"):
        msm.msm([p], [True])
    off_curve = p[:63] + bytes([p[63] ^ 1])
    with pytest.raises(DecodeError, match=r"points\[1\].*not on the BN254 curve"):
        msm.msm([p, off_curve], [1, 1])
    big_x = Q.to_bytes(32, "big") + p[32:]
    with pytest.raises(DecodeError, match=r"points\[0\].*modulus"):
        msm.msm([big_x], [1])
    with pytest.raises(DecodeError, match=r"points\[0\]: 63 bytes"):
        msm.msm([p[:63]], [1])
    with pytest.raises(TypeError, match=r"points\[0\] must be bytes"):
        msm.msm([list(p)], [1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sequence of 64-byte points"):
        msm.msm(p, [1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence of 64-byte points"):
        msm.msm(5, [1])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"shape \(n, 64\)"):
        msm.msm(np.zeros((2, 32), dtype=np.uint8), [1, 1])
    with pytest.raises(ParameterError, match=r"shape \(n, 4\)"):
        msm.msm([p], np.zeros(4, dtype=np.uint64))
    # A non-canonical limb row is refused, not reduced.
    limbs = np.array([[2**64 - 1] * 4], dtype=np.uint64)
    with pytest.raises(FieldElementError):
        msm.msm([p], limbs)


# --- backend selection ----------------------------------------------------------------------


def run_python(code: str, **env: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter with only ``env`` set among the MSM variables; it
    prints one JSON line."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BIGFILE_ZK_MSM")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


PROBE = """
import json, warnings
from bigfile_zk import msm
from bigfile_zk.errors import BackendFallbackWarning
g = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ok = msm.msm([g] * 3, [1, 2, 3]) == msm.msm([g], [6])
    backend, min_size = msm.backend(), msm.min_size()
fallbacks = [str(w.message) for w in caught if w.category is BackendFallbackWarning]
print(json.dumps({"ok": ok, "backend": backend, "min_size": min_size,
                  "warnings": fallbacks, "others": len(caught) - len(fallbacks)}))
"""


def test_default_is_the_cpu_without_warnings() -> None:
    r = run_python(PROBE)
    assert r == {"ok": True, "backend": "cpu", "min_size": 4096, "warnings": [], "others": 0}
    assert run_python(PROBE, BIGFILE_ZK_MSM="CPU", BIGFILE_ZK_MSM_MIN_SIZE="10")["min_size"] == 10


def test_env_gpu_without_the_plugin_falls_back_with_a_warning(tmp_path: Path) -> None:
    r = run_python(PROBE, BIGFILE_ZK_MSM="gpu", BIGFILE_ZK_MSM_PLUGIN_DIR=str(tmp_path))
    assert r["ok"] and r["backend"] == "cpu"
    (w,) = r["warnings"]  # type: ignore[misc]
    assert "BIGFILE_ZK_MSM=gpu" in w and "bigfile_msm_icicle" in w and str(tmp_path) in w


@pytest.mark.parametrize(
    ("value", "mentions"),
    [("/nonexistent/libplugin.so", "no such file"), ("tpu", "unknown MSM backend")],
)
def test_env_bad_values_fall_back_with_a_warning(value: str, mentions: str) -> None:
    r = run_python(PROBE, BIGFILE_ZK_MSM=value)
    assert r["ok"] and r["backend"] == "cpu"
    (w,) = r["warnings"]  # type: ignore[misc]
    assert mentions in w


@needs_plugin
def test_env_selects_a_plugin_by_path_and_gpu_by_name(tmp_path: Path) -> None:
    assert CPU_PLUGIN
    r = run_python(PROBE, BIGFILE_ZK_MSM=CPU_PLUGIN, BIGFILE_ZK_MSM_MIN_SIZE="0")
    assert r["ok"] and r["warnings"] == [] and r["min_size"] == 0
    assert str(r["backend"]).startswith("bigfile-msm-cpu") and CPU_PLUGIN in str(r["backend"])
    # `gpu` finds whatever library has the ICICLE plug-in's name in the plug-in directory.
    name = Path(CPU_PLUGIN).name.replace("bigfile_msm_cpu", "bigfile_msm_icicle")
    shutil.copy(CPU_PLUGIN, tmp_path / name)
    r = run_python(PROBE, BIGFILE_ZK_MSM="gpu", BIGFILE_ZK_MSM_PLUGIN_DIR=str(tmp_path))
    assert r["ok"] and r["warnings"] == []
    assert str(tmp_path / name) in str(r["backend"])
    code = "import json; from bigfile_zk import msm; print(json.dumps(msm.available()))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "BIGFILE_ZK_MSM_PLUGIN_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == ["cpu", "gpu"]


def test_explicit_selection_and_missing_plugin(restore_cpu: None, tmp_path: Path) -> None:
    with pytest.warns(BackendFallbackWarning, match="no such file; using the CPU"):
        assert msm.set_backend(tmp_path / "libmissing.so") == "cpu"
    with pytest.warns(BackendFallbackWarning, match="bigfile_msm_icicle"):
        os.environ["BIGFILE_ZK_MSM_PLUGIN_DIR"] = str(tmp_path)
        try:
            assert msm.set_backend("gpu") == "cpu"
        finally:
            del os.environ["BIGFILE_ZK_MSM_PLUGIN_DIR"]
    with pytest.raises(ParameterError, match='unknown MSM backend "tpu"'):
        msm.set_backend("tpu")
    with pytest.raises(ParameterError, match="min_size"):
        msm.set_backend("cpu", min_size=-1)
    with pytest.raises(TypeError):
        msm.set_backend(3)  # type: ignore[arg-type]
    assert msm.set_backend("cpu", min_size=7) == "cpu" and msm.min_size() == 7


def plugin_copy(tmp_path: Path, tag: str, fault: int) -> tuple[Path, ctypes.CDLL]:
    """A private copy of the CPU plug-in (a separate library instance) with a test fault."""
    assert CPU_PLUGIN
    (tmp_path / tag).mkdir()
    path = tmp_path / tag / Path(CPU_PLUGIN).name
    shutil.copy(CPU_PLUGIN, path)
    lib = ctypes.CDLL(str(path))
    lib.bigfile_msm_cpu_test_fault(ctypes.c_uint32(fault))
    return path, lib


@needs_plugin
def test_plugin_results_equal_the_cpu(
    restore_cpu: None, srs: bz.SRS, srs_points: list[bytes]
) -> None:
    rng = random.Random(3)
    scalars = [rng.randrange(R) for _ in srs_points]
    want = msm.msm(srs_points, scalars)
    want_commit = kzg.commit(srs, scalars[:100])
    assert CPU_PLUGIN
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallbackWarning)
        active = msm.set_backend(Path(CPU_PLUGIN), min_size=0)
        assert active.startswith("bigfile-msm-cpu") and active == msm.backend()
        assert msm.msm(srs_points, scalars) == want
        assert msm.msm([], []) == bytes(64)
        assert msm.msm([point(1), bytes(64)], [R - 1, 3]) == ref.g1_to_bytes(neg(G1))
        # KZG's MSMs go through the backend too.
        assert kzg.commit(srs, scalars[:100]) == want_commit


@needs_plugin
def test_plugin_failures_fall_back_with_warnings(
    restore_cpu: None, tmp_path: Path, srs_points: list[bytes]
) -> None:
    points, scalars = srs_points[:50], list(range(1, 51))
    want = msm.msm(points, scalars)
    path, lib = plugin_copy(tmp_path, "runtime", FAULT_NONE)
    assert msm.set_backend(path, min_size=0).startswith("bigfile-msm-cpu")

    lib.bigfile_msm_cpu_test_fault(ctypes.c_uint32(FAULT_DEVICE_ERROR))
    with pytest.warns(BackendFallbackWarning, match="EDEVICE.*this MSM was computed on the CPU"):
        assert msm.msm(points, scalars) == want
    assert msm.backend() != "cpu"  # a device error does not disable the plug-in

    lib.bigfile_msm_cpu_test_fault(ctypes.c_uint32(FAULT_OFF_CURVE))
    with pytest.warns(BackendFallbackWarning, match="invalid point.*from now on"):
        assert msm.msm(points, scalars) == want
    assert msm.backend() == "cpu"

    # A plug-in that gets the self-test wrong is refused when selected.
    path, _ = plugin_copy(tmp_path, "wrong", FAULT_WRONG_ANSWER)
    with pytest.warns(BackendFallbackWarning, match="self-test"):
        assert msm.set_backend(path, min_size=0) == "cpu"
