"""Proof-of-compute through the Python API: compile, keys (setup, and a load from the disk
cache with its check), prove and verify, for issue 13's MLP 784-32-10 and small CNN (the random
models of ``benches/compute_models.py``), under the insecure test SRS of each model's size.

    .venv/bin/python -m pytest benches/bench_compute.py --benchmark-enable -p no:cacheprovider

``extra_info``: rows, ``k`` (the circuit has ``2^k`` rows), public inputs, proof bytes (the EVM
encoding ``verifyProof`` takes) and the proof JSON's size; the proving key's bytes. Keys are
cached in a temporary directory, not the user's. About two minutes on the 2-core machine.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from typing import Any

import compute_models
import numpy as np
import pytest

import bigfile_zk
from bigfile_zk import SRS, compute
from bigfile_zk.compute import prover
from bigfile_zk.errors import InsecureSRSWarning

MODELS = ("mlp", "cnn")
PROVIDER = "0x" + "5a" * 20


@pytest.fixture(scope="module", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGFILE_ZK_CACHE", str(tmp_path_factory.mktemp("bench-compute-cache")))
        yield


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.simplefilter("ignore", InsecureSRSWarning)


@functools.cache
def built() -> dict[str, tuple[compute.QuantizedModel, np.ndarray]]:
    return compute_models.build()


@functools.cache
def compiled(name: str) -> compute.CompiledModel:
    return compute.compile(built()[name][0])


@functools.cache
def srs(name: str) -> SRS:
    return compiled(name).default_srs()


def _sizes(c: compute.CompiledModel) -> dict[str, Any]:
    return {"rows": c.rows, "k": c.k, "public_inputs": c.num_public}


def _forget_keys() -> None:
    prover._KEYS.clear()  # a new process: nothing in memory


@functools.cache
def proved(name: str) -> compute.ComputeProof:
    c = compiled(name)
    pk, _ = c.keys(srs(name), progress=False)
    return c.prove(pk, built()[name][1], job=1, provider=PROVIDER, progress=False)


@pytest.mark.parametrize("name", MODELS)
def test_compile(benchmark: Any, name: str) -> None:
    q = built()[name][0]
    c = benchmark.pedantic(compute.compile, args=(q,), rounds=2)
    benchmark.extra_info.update({**_sizes(c), "macs": q.bounds.macs, "requants": q.bounds.requants})


@pytest.mark.parametrize("name", MODELS)
def test_keys_setup(benchmark: Any, name: str) -> None:
    """Setup: ``keys`` with nothing cached (not on disk either)."""
    c, s = compiled(name), srs(name)

    def run() -> Any:
        return c.keys(s, cache=False, progress=False)

    pk, _ = benchmark.pedantic(run, setup=_forget_keys, rounds=2)
    benchmark.extra_info.update({**_sizes(compiled(name)), "pk_bytes": len(pk.to_bytes())})


@pytest.mark.parametrize("name", MODELS)
def test_keys_from_disk(benchmark: Any, name: str) -> None:
    """``keys`` in a new process: read the cached key and check it (circuit and SRS)."""
    c, s = compiled(name), srs(name)
    _forget_keys()
    c.keys(s, progress=False)  # writes the cache file
    assert c.key_path(s).is_file()

    def run() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a rejected key would be a bug
            return c.keys(s, progress=False)

    benchmark.pedantic(run, setup=_forget_keys, rounds=2)
    benchmark.extra_info.update({**_sizes(c), "pk_file_bytes": c.key_path(s).stat().st_size})


@pytest.mark.parametrize("name", MODELS)
def test_prove(benchmark: Any, name: str) -> None:
    c = compiled(name)
    pk, _ = c.keys(srs(name), progress=False)
    x = built()[name][1]
    p = benchmark.pedantic(
        c.prove, args=(pk, x), kwargs={"job": 2, "provider": PROVIDER, "progress": False}, rounds=2
    )
    benchmark.extra_info.update(
        {
            **_sizes(c),
            "proof_bytes": len(p.proof.to_evm_bytes()),
            "proof_json_bytes": len(p.to_json()),
        }
    )


@pytest.mark.parametrize("name", MODELS)
def test_verify(benchmark: Any, name: str) -> None:
    c = compiled(name)
    _, vk = c.keys(srs(name), progress=False)
    q, x = built()[name]
    p = proved(name)
    statement = {
        "input_commitment": bigfile_zk.commit_bytes(q.input_bytes(x)).commitment,
        "job": 1,
        "provider": PROVIDER,
        "outputs": c.expected_outputs(q.forward_int(x)),
    }
    ok = benchmark.pedantic(
        compute.verify, args=(vk, p), kwargs={**statement, "allow_insecure_srs": True}, rounds=5
    )
    assert ok
    benchmark.extra_info.update({**_sizes(c), "proof_bytes": len(p.proof.to_evm_bytes())})
