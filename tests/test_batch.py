"""bigfile_zk.batch: many proofs on local processes and on a real local Ray cluster (a head
started and stopped here, loopback only), and the parallel file commitment.

Checked: batch proofs prove the statements direct proving proves (and not others); a bad job
fails alone with its own error; a job whose worker dies is resubmitted (and one that always
kills its worker fails as WorkerDiedError, alone); each worker loads a proving key once; the
keys go into Ray's object store once; the parallel commitment equals ``commit_file``."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from _batch_jobs import CrashingJob
from hypothesis import given
from hypothesis import strategies as st

import bigfile_zk
from bigfile_zk import batch, cli, compute, storage
from bigfile_zk.errors import InsecureSRSError, InsecureSRSWarning, ParameterError

TESTS = Path(__file__).resolve().parent
PROGRAMS = {
    m["name"]: m
    for m in json.loads((TESTS.parent / "docs/spec/vectors/quantization.json").read_text())[
        "models"
    ]
}
PROVER = "0x" + "ab" * 20
K = 4


@dataclass(frozen=True)
class Data:
    dir: Path
    files: list[Path]
    commitments: list[bigfile_zk.FileCommitment]
    model: Path
    compiled: compute.CompiledModel
    x: np.ndarray
    npy: Path
    wrong_npy: Path
    srs: bigfile_zk.SRS


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    d = tmp_path_factory.mktemp("batch")
    rng = np.random.default_rng(16)
    files, commitments = [], []
    for i, size in enumerate([40_000, 50_001, 992 * 33, 7_000]):
        path = d / f"f{i}.bin"
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        c = bigfile_zk.commit_file(path, tree=f"{path}.bfzt", progress=False)
        Path(f"{path}.commitment.json").write_text(c.to_json())
        files.append(path)
        commitments.append(c)
    vector = PROGRAMS["dense_relu"]
    c = compute.compile(compute.QuantizedModel.from_dict(vector["model"]))
    model = d / "dense_relu.bfm"
    c.save(model)
    x = np.array(vector["cases"][0]["input"], dtype=np.uint8).reshape(c.model.input_shape)
    np.save(d / "x.npy", x)
    np.save(d / "wrong.npy", np.zeros(x.size + 1, dtype=np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        srs = storage.default_srs(K)
    return Data(d, files, commitments, model, c, x, d / "x.npy", d / "wrong.npy", srs)


def storage_jobs(data: Data) -> list[batch.StorageJob]:
    return [
        batch.StorageJob(str(f), seed=100 + i, prover=PROVER, k=K) for i, f in enumerate(data.files)
    ]


def compute_job(data: Data, job: int = 9) -> batch.ComputeJob:
    return batch.ComputeJob(str(data.model), job=job, provider=PROVER, input=str(data.npy))


def check_storage(data: Data, result: batch.JobResult) -> None:
    """The proof verifies for the job's statement, and for no other seed or prover."""
    assert result.ok, (result.error_type, result.error)
    job = result.job
    assert isinstance(job, batch.StorageJob)
    c = data.commitments[data.files.index(Path(job.file))]
    ok = dict(commitment=c, prover=PROVER, k=K, srs=data.srs, allow_insecure_srs=True)
    assert storage.verify(result.proof, seed=job.seed, **ok)
    assert not storage.verify(result.proof, seed=int(job.seed) + 1, **ok)
    assert result.proof.public_inputs == [c.commitment, int(job.seed), int(PROVER, 16)]


def check_compute(data: Data, result: batch.JobResult) -> None:
    assert result.ok, (result.error_type, result.error)
    c = data.compiled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        _, vk = c.keys(progress=False)
    statement = dict(
        input_commitment=bigfile_zk.commit_bytes(c.model.input_bytes(data.x)).commitment,
        provider=PROVER,
        outputs=c.expected_outputs(c.model.forward_int(data.x)),
        allow_insecure_srs=True,
    )
    assert compute.verify(vk, result.proof, job=result.job.job, **statement)  # type: ignore[attr-defined]
    assert not compute.verify(vk, result.proof, job=result.job.job + 1, **statement)  # type: ignore[attr-defined]


def key_loads_per_worker(results: list[batch.JobResult]) -> dict[str, int]:
    loads: dict[str, int] = defaultdict(int)
    for r in results:
        if r.worker is not None:
            loads[r.worker] = max(loads[r.worker], r.key_loads)
    return dict(loads)


# -- local processes -----------------------------------------------------------------------------


def test_local_batch_proves_what_direct_proving_proves(data: Data) -> None:
    jobs = [*storage_jobs(data), compute_job(data)]
    seen: list[int] = []
    results = batch.prove_batch(
        jobs,
        workers=2,
        allow_insecure_srs=True,
        progress=False,
        on_result=lambda r: seen.append(r.index),
    )
    assert [r.index for r in results] == list(range(len(jobs)))
    assert sorted(seen) == list(range(len(jobs)))
    assert [r.job for r in results] == jobs
    for r in results[:-1]:
        check_storage(data, r)
        assert r.attempts == 1
    check_compute(data, results[-1])
    # The statement direct proving proves; proofs are randomized (blinding): not the bytes.
    direct = storage.prove(
        data.files[0], data.commitments[0], 100, PROVER, k=K, srs=data.srs, progress=False
    )
    assert direct.public_inputs == results[0].proof.public_inputs
    assert direct.proof.to_bytes() != results[0].proof.proof.to_bytes()
    # Two processes, two keys (storage k = 4, the model): each worker loaded each key at
    # most once although it ran several jobs.
    loads = key_loads_per_worker(results)
    assert 1 <= len(loads) <= 2 and all(1 <= n <= 2 for n in loads.values()), loads
    assert max(sum(r.worker == w for r in results) for w in loads) >= 3


def test_bad_jobs_fail_alone_with_their_own_errors(data: Data) -> None:
    good = storage_jobs(data)[0]
    jobs: list[batch.Job] = [
        batch.StorageJob(str(data.dir / "missing.bin"), seed=1, prover=PROVER, k=K),
        good,
        batch.StorageJob(str(data.files[1]), seed="12ab", prover=PROVER, k=K),
        batch.StorageJob(str(data.files[1]), seed=1, prover="0x1234", k=K),
        batch.StorageJob(str(data.files[1]), seed=1, prover=PROVER, k=5),
        batch.ComputeJob(str(data.model), job=1, provider=PROVER, input=str(data.wrong_npy)),
        batch.ComputeJob(str(data.dir / "nope.bfm"), job=1, provider=PROVER, input=str(data.npy)),
        batch.StorageJob(
            str(data.files[1]),
            seed=1,
            prover=PROVER,
            k=K,
            commitment=f"{data.files[2]}.commitment.json",
        ),
    ]
    results = batch.prove_batch(jobs, workers=2, allow_insecure_srs=True, progress=False)
    check_storage(data, results[1])
    failures = [(r.error_type, r.error) for i, r in enumerate(results) if i != 1]
    expected = [
        ("FileNotFoundError", "missing.bin.commitment.json"),
        ("ParameterError", "seed '12ab' is neither decimal nor 0x-hex"),
        ("ParameterError", "prover '0x1234' is not a 0x-prefixed 20-byte address"),
        ("ParameterError", "unknown parameter set k = 5"),
        ("ParameterError", "wrong.npy holds an array of shape"),
        ("FileNotFoundError", "nope.bfm"),
        ("DecodeError", "is not the tree of this commitment"),
    ]
    assert len(failures) == len(expected)
    for (error_type, message), (want_type, fragment) in zip(failures, expected, strict=True):
        assert error_type == want_type and fragment in (message or ""), (error_type, message)
    assert all(r.proof is None for i, r in enumerate(results) if i != 1)


def test_insecure_srs_needs_the_opt_in_and_arguments_are_checked(data: Data) -> None:
    with pytest.raises(InsecureSRSError, match="allow_insecure_srs=True"):
        batch.prove_batch(storage_jobs(data)[:1], progress=False)
    with pytest.raises(ParameterError, match="backend"):
        batch.prove_batch([], backend="dask", allow_insecure_srs=True)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="workers"):
        batch.prove_batch([], workers=0, allow_insecure_srs=True)
    with pytest.raises(ParameterError, match="address is for the Ray backend"):
        batch.prove_batch([], address="127.0.0.1:1", allow_insecure_srs=True)
    with pytest.raises(TypeError, match="not a batch Job"):
        batch.prove_batch([data.files[0]], allow_insecure_srs=True)  # type: ignore[list-item]
    with pytest.raises(ParameterError, match="exactly one of input and input_bytes"):
        batch.ComputeJob(str(data.model), job=1, provider=PROVER)


def test_local_dead_worker_job_is_resubmitted(data: Data, tmp_path: Path) -> None:
    jobs = storage_jobs(data)[:2]
    crash_once = CrashingJob(jobs[0].file, seed=5, prover=PROVER, k=K, marker=str(tmp_path / "m"))
    always = CrashingJob(
        jobs[0].file, seed=5, prover=PROVER, k=K, marker=str(tmp_path / "a"), always=True
    )
    results = batch.prove_batch(
        [crash_once, jobs[1], always],
        workers=2,
        allow_insecure_srs=True,
        progress=False,
        max_retries=1,
    )
    # The crashing job's first worker died; its second attempt ran in another process.
    died = int((tmp_path / "m").read_text().split()[0])
    assert results[0].ok and results[0].attempts == 2, results[0]
    assert results[0].worker is not None and not results[0].worker.endswith(f":{died}")
    check_storage(data, results[1])
    assert results[1].attempts == 1  # a death costs only the job that ran in that process
    assert results[2].error_type == "WorkerDiedError" and results[2].attempts == 2
    assert "tried 2 times" in (results[2].error or "")
    assert len((tmp_path / "a").read_text().split()) == 2  # run twice, died twice


_INTERRUPTED = """
import sys
from _batch_jobs import SlowJob
from bigfile_zk import batch
jobs = [SlowJob(sys.argv[1], seed=i, prover="0x" + "ab" * 20, k=4, marker=sys.argv[2])
        for i in range(3)]
try:
    batch.prove_batch(jobs, workers=2, allow_insecure_srs=True, progress=False)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_stops_the_workers(data: Data, tmp_path: Path) -> None:
    markers = tmp_path / "pids"
    markers.mkdir()
    path = os.pathsep.join([str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])])
    parent = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, str(data.files[0]), str(markers)],
        env={**os.environ, "PYTHONPATH": path},
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(markers.iterdir())) < 2:  # both workers busy with a job
            assert parent.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        parent.send_signal(signal.SIGINT)
        assert parent.wait(30) == 130
    finally:
        if parent.poll() is None:
            parent.kill()
    workers = [int(p.name) for p in markers.iterdir()]
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "workers left running"
    assert len(workers) == 2  # the third job never started


# -- parallel commitment -------------------------------------------------------------------------


def subtree_commit(path: Path, chunk_size: int, arity: int, height: int) -> int:
    """The root as the workers and the parent compute it, in this process."""
    size = path.stat().st_size
    n = math.ceil(size / chunk_size)
    depth = batch._depth(n, arity)
    height = min(height, depth)
    blocks = math.ceil(n / arity**height)
    middle = blocks // 2  # two "workers": their ranges joined in order
    roots = batch._subtree_roots(str(path), size, chunk_size, arity, height, 0, middle)
    roots += batch._subtree_roots(str(path), size, chunk_size, arity, height, middle, blocks)
    return batch._combine(roots, arity, height, depth)


@given(
    size=st.integers(1, 62 * 300),
    arity=st.sampled_from([2, 4, 8, 16]),
    height=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_subtree_roots_combine_to_commit_file_root(
    tmp_path_factory: pytest.TempPathFactory, size: int, arity: int, height: int, seed: int
) -> None:
    path = tmp_path_factory.mktemp("sub") / "f.bin"
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    want = bigfile_zk.commit_file(path, chunk_size=62, arity=arity, progress=False)
    assert subtree_commit(path, 62, arity, height) == want.root


def test_parallel_commit_equals_commit_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    # 16-chunk blocks: a whole number of them, a ragged last one, and a single chunk.
    for size, workers, arity in [
        (62 * 64, 2, 2),
        (62 * 37 + 5, 2, 4),
        (62 * 37 + 5, 1, 2),
        (9, 2, 2),
    ]:
        path = tmp_path / f"f{size}.bin"
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        want = bigfile_zk.commit_file(path, chunk_size=62, arity=arity, progress=False)
        got = batch.commit_file_parallel(
            path, chunk_size=62, arity=arity, workers=workers, block_chunks=arity**2, progress=False
        )
        assert got == want and got.commitment == want.commitment, (size, workers, arity)
    # A different file does not give the same commitment.
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    assert batch.commit_file_parallel(path, chunk_size=62, workers=1, progress=False) != want


def test_parallel_commit_refuses_bad_parameters(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    with pytest.raises(ParameterError, match="not a power of arity"):
        batch.commit_file_parallel(path, block_chunks=3)
    with pytest.raises(ParameterError, match="arity"):
        batch.commit_file_parallel(path, arity=3)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(ParameterError, match="empty"):
        batch.commit_file_parallel(empty)


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_batch_prove_writes_one_proof_per_job_and_a_summary(
    data: Data, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = [
        {"kind": "storage", "file": str(data.files[0]), "seed": "0x7", "prover": PROVER, "k": K},
        {"kind": "storage", "file": "gone.bin", "seed": 1, "prover": PROVER, "k": K, "id": "bad"},
        {"kind": "compute", "model": str(data.model), "input": str(data.npy), "job": "3",
         "provider": PROVER, "id": "model"},
    ]  # fmt: skip
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps(jobs))
    out = tmp_path / "out"
    argv = ["batch", "prove", str(spec), "--out", str(out), "--workers", "2", "-q"]
    assert cli.main(argv) == 2  # no SRS chosen
    assert "--insecure-test-srs" in capsys.readouterr().err
    assert cli.main([*argv, "--insecure-test-srs"]) == 1  # one job failed
    stdout = capsys.readouterr().out
    assert "2 of 3 proved" in stdout and "bad" in stdout and "FileNotFoundError" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert [s["status"] for s in summary] == ["ok", "failed", "ok"]
    assert sorted(p.name for p in out.iterdir()) == [
        "model.proof.json",
        "storage-f0.bin.proof.json",
        "summary.json",
    ]
    proof = storage.StorageProof.from_json((out / "storage-f0.bin.proof.json").read_text())
    ok = dict(commitment=data.commitments[0], prover=PROVER, k=K, srs=data.srs)
    assert storage.verify(proof, seed=7, allow_insecure_srs=True, **ok)
    assert not storage.verify(proof, seed=8, allow_insecure_srs=True, **ok)
    computed = compute.ComputeProof.from_json((out / "model.proof.json").read_text())
    assert computed.job == 3
    # Two jobs that would write the same file, and an id that is not a file name: refused
    # before any work.
    spec.write_text(json.dumps([jobs[0], jobs[0]]))
    assert cli.main([*argv, "--insecure-test-srs"]) == 2
    assert "both write storage-f0.bin.proof.json" in capsys.readouterr().err
    spec.write_text(json.dumps([{**jobs[0], "id": "../x"}]))
    assert cli.main([*argv, "--insecure-test-srs"]) == 2
    assert "is not a file name" in capsys.readouterr().err
    spec.write_text(json.dumps([{**jobs[0], "kind": "window-post"}]))
    assert cli.main([*argv, "--insecure-test-srs"]) == 2
    assert "unknown kind 'window-post'" in capsys.readouterr().err
    spec.write_text(json.dumps([{**jobs[0], "file": 5}]))
    assert cli.main([*argv, "--insecure-test-srs"]) == 2
    assert "file is a JSON int, not str" in capsys.readouterr().err
    spec.write_text(json.dumps([{**jobs[0], "sede": 5}]))
    assert cli.main([*argv, "--insecure-test-srs"]) == 2
    assert "unknown fields ['sede']" in capsys.readouterr().err


def test_cli_commit_with_workers_matches_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(np.random.default_rng(5).integers(0, 256, 200_001, dtype=np.uint8).tobytes())
    assert cli.main(["commit", str(path), "--json", "-q"]) == 0
    serial = capsys.readouterr().out
    assert cli.main(["commit", str(path), "--json", "-q", "--workers", "2"]) == 0
    assert capsys.readouterr().out == serial
    assert cli.main(["commit", str(path), "--workers", "2", "--tree", str(tmp_path / "t")]) == 2
    assert "--tree" in capsys.readouterr().err and not (tmp_path / "t").exists()


# -- a real Ray cluster (tests/_ray_cluster.py) ----------------------------------------------


def test_ray_batch_proves_what_local_proves_keys_shipped_once(
    data: Data, ray_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    puts: list[int] = []
    put = batch._RayPool.put

    def counting_put(self: batch._RayPool, blob: bytes) -> list[object]:
        puts.append(len(blob))
        return put(self, blob)

    monkeypatch.setattr(batch._RayPool, "put", counting_put)
    jobs: list[batch.Job] = [
        *storage_jobs(data),
        compute_job(data),
        batch.StorageJob(str(data.files[0]), seed="no", prover=PROVER, k=K),
    ]
    results = batch.prove_batch(
        jobs, backend="ray", address=ray_cluster, allow_insecure_srs=True, progress=False
    )
    for r in results[:4]:
        check_storage(data, r)
    check_compute(data, results[4])
    assert results[5].error_type == "ParameterError" and "'no'" in (results[5].error or "")
    # The object store got each key (storage k = 4, the model's) and the model file once,
    # for 6 jobs; each Ray worker process loaded each key at most once.
    assert len(puts) == 3 and sorted(puts)[-1] > 2**20, puts
    loads = key_loads_per_worker(results)
    assert all(1 <= n <= 2 for n in loads.values()), loads
    assert max(sum(r.worker == w for r in results) for w in loads) >= 2
    # The Ray proof and a local one prove the same statement.
    local = batch.prove_batch(jobs[:1], workers=1, allow_insecure_srs=True, progress=False)
    assert local[0].proof.public_inputs == results[0].proof.public_inputs


def test_ray_workers_do_not_reuse_a_key_of_another_srs(data: Data, ray_cluster: str) -> None:
    """Ray workers outlive a batch and keep its keys: a batch with another SRS (same k) must
    not be proved with them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        other = bigfile_zk.SRS.insecure_for_testing(storage.srs_degree(K), seed=1)
    jobs = storage_jobs(data)[:2]
    first = batch.prove_batch(
        jobs, backend="ray", address=ray_cluster, allow_insecure_srs=True, progress=False
    )
    second = batch.prove_batch(jobs, backend="ray", address=ray_cluster, srs=other, progress=False)
    assert all(r.ok for r in first + second)
    ok = dict(commitment=data.commitments[0], seed=100, prover=PROVER, k=K)
    assert storage.verify(second[0].proof, srs=other, allow_insecure_srs=True, **ok)
    assert not storage.verify(second[0].proof, srs=data.srs, allow_insecure_srs=True, **ok)
    assert storage.verify(first[0].proof, srs=data.srs, allow_insecure_srs=True, **ok)


def test_ray_killed_worker_job_is_retried(data: Data, ray_cluster: str, tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    crash = CrashingJob(str(data.files[1]), seed=3, prover=PROVER, k=K, marker=str(marker))
    always = CrashingJob(
        str(data.files[1]), seed=3, prover=PROVER, k=K, marker=str(tmp_path / "a"), always=True
    )
    jobs = [crash, storage_jobs(data)[2], always]
    results = batch.prove_batch(
        jobs,
        backend="ray",
        address=ray_cluster,
        allow_insecure_srs=True,
        progress=False,
        max_retries=1,
    )
    died = int(marker.read_text().split()[0])
    assert results[0].ok and results[0].attempts == 2, results[0]
    assert results[0].worker is not None and not results[0].worker.endswith(f":{died}")
    check_storage(data, results[1])
    assert results[1].attempts == 1
    assert results[2].error_type == "WorkerDiedError" and results[2].attempts == 2


def test_ray_parallel_commit_and_cli(
    data: Data, ray_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(
        np.random.default_rng(7).integers(0, 256, 62 * 70 + 1, dtype=np.uint8).tobytes()
    )
    want = bigfile_zk.commit_file(path, chunk_size=62, arity=2, progress=False)
    got = batch.commit_file_parallel(
        path, chunk_size=62, backend="ray", address=ray_cluster, block_chunks=8, progress=False
    )
    assert got == want
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps([batch.StorageJob(str(data.files[3]), 11, PROVER, K).to_dict()]))
    argv = ["batch", "prove", str(spec), "--out", str(tmp_path / "out"), "--ray", ray_cluster]
    assert cli.main([*argv, "--insecure-test-srs", "-q"]) == 0
    assert "1 of 1 proved" in capsys.readouterr().out
    proof = storage.StorageProof.from_json((tmp_path / "out/storage-f3.bin.proof.json").read_text())
    ok = dict(commitment=data.commitments[3], prover=PROVER, k=K, srs=data.srs)
    assert storage.verify(proof, seed=11, allow_insecure_srs=True, **ok)
