"""Many proofs at once: a list of jobs in, one result per job out, on local processes or a
Ray cluster; and file commitments computed in parallel (:func:`commit_file_parallel`).

>>> jobs = [StorageJob("a.bin", seed=1, prover=ADDR, k=4),
...         ComputeJob("m.bfm", job=7, provider=ADDR, input="x.npy")]
>>> results = prove_batch(jobs, srs=srs)                              # doctest: +SKIP
>>> [r.ok for r in results]                                           # doctest: +SKIP
[True, True]

How it runs (``backend="local"`` or ``"ray"``):

* The **parent** groups the jobs by the proving key they need (:meth:`Job.key_id`: storage
  parameter set ``k``, or the model file) and derives each key once (:meth:`Job.prepare`,
  using the on-disk key cache). Workers need the proving key only: it holds the SRS powers
  its circuit commits with, so the SRS itself never leaves the parent.
* The local backend shares each key by path (the cache file, or a private temporary copy),
  with its SHA-256: a worker reads and decodes a key once, on its first job that needs it, and
  keeps it for the rest. The Ray backend puts each key in the object store once
  (``ray.put``) and passes the reference; a worker fetches it on first use.
* A worker returns the proof as JSON (the proof's own format); the parent decodes it. Any
  exception in a job becomes that job's failure (its type and message); the other jobs go on.
* A worker that dies (killed, out of memory, a crash in native code) fails the jobs it was
  running; they are submitted again, up to ``max_retries`` times, to a fresh worker (local:
  a new process in its place; Ray: whichever worker the scheduler picks). Jobs that keep killing
  their worker end as ``WorkerDiedError`` failures.
* Ctrl-C (``KeyboardInterrupt``) stops the workers (local processes are terminated, Ray tasks
  cancelled) and re-raises; workers never write files, and the results already delivered to
  ``on_result`` are complete.

Proofs are randomized (PLONK blinding), so a batch proof is not byte-identical to a direct
one; it proves the same statement and verifies under the same key.

**Adding a job kind** (e.g. the provider's epoch proof): a frozen dataclass deriving
:class:`Job` with ``kind``, ``key_id``, ``prepare`` (parent: the proving key and any context
bytes the worker needs), ``load_context`` (worker: those bytes decoded once per worker),
``prove`` (worker: the proof JSON) and ``decode`` (parent: JSON to the proof object), and an
entry in :data:`JOB_KINDS` for :func:`load_jobs`. Nothing in the schedulers changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from bigfile_zk import _io, _native
from bigfile_zk._native import SRS, FileCommitment
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import (
    DecodeError,
    FileChangedError,
    InsecureSRSError,
    InsecureSRSWarning,
    MissingDependencyError,
    ParameterError,
    WorkerDiedError,
)

__all__ = [
    "JOB_KINDS",
    "CatalogueUpdateJob",
    "ComputeJob",
    "EpochJob",
    "Job",
    "JobResult",
    "StorageJob",
    "commit_file_parallel",
    "load_jobs",
    "prove_batch",
]

Backend = Literal["local", "ray"]


# -- jobs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What the parent derives once per :meth:`Job.key_id`: the proving key's bytes, where
    they already are on disk (the key cache) if anywhere, and context bytes for the worker
    (the model file of a compute job)."""

    pk: bytes
    pk_path: str | None = None
    context: bytes | None = None


class Job:
    """One proof to make. Subclasses are frozen dataclasses of plain fields (they are pickled
    to the workers); see the module docstring for the methods a new kind implements."""

    kind: ClassVar[str]
    #: The fields that name files (:func:`load_jobs` resolves them against the JSON's folder).
    path_fields: ClassVar[tuple[str, ...]] = ()
    id: str | None

    def key_id(self) -> Hashable:
        """Jobs with equal ``key_id`` share one proving key (and context)."""
        raise NotImplementedError

    def srs_degree(self) -> int:
        """The SRS max degree this job's circuit needs (parent side, may read small files)."""
        raise NotImplementedError

    def prepare(self, srs: SRS) -> Prepared:
        """Parent side, once per ``key_id``: the proving key (from the cache when there)."""
        raise NotImplementedError

    @classmethod
    def load_context(cls, data: bytes | None) -> Any:
        """Worker side, once per ``key_id``: :attr:`Prepared.context` decoded."""
        return None

    def prove(self, pk: _native.ProvingKey, context: Any) -> str:
        """Worker side: the proof, as its JSON text."""
        raise NotImplementedError

    @classmethod
    def decode(cls, text: str) -> Any:
        """Parent side: the proof object of :meth:`prove`'s JSON."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON (``{"kind": ..., fields...}``, :func:`load_jobs` reads it)."""
        fields = {k: v for k, v in vars(self).items() if v is not None}
        return {"kind": self.kind, **fields}

    @property
    def label(self) -> str:
        """A short name for messages and output files: ``id``, else kind and main file."""
        raise NotImplementedError


@dataclass(frozen=True)
class StorageJob(Job):
    """A storage proof (:func:`bigfile_zk.storage.prove`) of ``file`` for ``(seed, prover)``
    with ``k`` challenges. ``commitment``: the commitment JSON (default
    ``FILE.commitment.json``, as ``bigfile-zk storage commit`` writes it); ``tree``: the tree
    file (default ``FILE.bfzt`` when it exists). Paths are read by the worker."""

    kind: ClassVar[str] = "storage"
    path_fields: ClassVar[tuple[str, ...]] = ("file", "commitment", "tree")
    file: str
    seed: int | str
    prover: int | str
    k: int = 16
    commitment: str | None = None
    tree: str | None = None
    id: str | None = None

    def key_id(self) -> Hashable:
        return ("storage", self.k)

    def srs_degree(self) -> int:
        from bigfile_zk import storage

        return storage.srs_degree(self.k)

    def prepare(self, srs: SRS) -> Prepared:
        from bigfile_zk import storage

        pk, _ = storage.keys(self.k, srs)
        path = storage.key_path(self.k, srs)
        return Prepared(pk.to_bytes(), os.fspath(path) if path.is_file() else None)

    def prove(self, pk: _native.ProvingKey, context: Any) -> str:
        from bigfile_zk import storage

        path = self.commitment or f"{self.file}.commitment.json"
        c = FileCommitment.from_json(
            _io.read_text(path, _io.MAX_COMMITMENT_JSON, "commitment JSON")
        )
        tree = self.tree
        if tree is None and os.path.exists(f"{self.file}.bfzt"):
            tree = f"{self.file}.bfzt"
        k = storage._check_k(self.k)
        seed, prover = storage.parse_seed(self.seed), storage.parse_address(self.prover)
        proof = _native.storage_prove(pk, k, os.fspath(self.file), c, seed, prover, tree, None)
        result = storage.StorageProof(k, c.commitment, seed, prover, proof, pk.vk.is_insecure)
        return result.to_json()

    @classmethod
    def decode(cls, text: str) -> Any:
        from bigfile_zk import storage

        return storage.StorageProof.from_json(text)

    @property
    def label(self) -> str:
        return self.id or f"storage-{os.path.basename(self.file)}"


@dataclass(frozen=True)
class ComputeJob(Job):
    """A compute proof (:meth:`CompiledModel.prove`): the model file ``model`` (``.bfm``) run
    on ``input`` (a ``.npy`` of the quantized integer input) or ``input_bytes`` (the input
    file, one byte per element), for ``job`` and ``provider``."""

    kind: ClassVar[str] = "compute"
    path_fields: ClassVar[tuple[str, ...]] = ("model", "input", "input_bytes")
    model: str
    job: int | str
    provider: int | str
    input: str | None = None
    input_bytes: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if (self.input is None) == (self.input_bytes is None):
            raise ParameterError("a compute job takes exactly one of input and input_bytes")

    def key_id(self) -> Hashable:
        return ("compute", os.path.realpath(self.model))

    def _compiled(self) -> Any:
        from bigfile_zk import compute

        return compute.load_model(self.model)

    def srs_degree(self) -> int:
        return int(self._compiled().srs_max_degree)

    def prepare(self, srs: SRS) -> Prepared:
        c = self._compiled()
        pk, _ = c.keys(srs, progress=False)
        path = c.key_path(srs)
        return Prepared(pk.to_bytes(), os.fspath(path) if path.is_file() else None, c.to_bytes())

    @classmethod
    def load_context(cls, data: bytes | None) -> Any:
        from bigfile_zk import compute

        assert data is not None
        return compute.CompiledModel.from_bytes(data)

    def prove(self, pk: _native.ProvingKey, context: Any) -> str:
        from bigfile_zk.cli import _load_npy, _parse_job

        model = context.model
        if self.input_bytes is not None:
            n = math.prod(model.input_shape)
            x = model.input_from_bytes(_io.read_bounded(self.input_bytes, n, "input file"))
        else:
            assert self.input is not None
            x = model.check_input(_load_npy(self.input, model.input_shape))
        job = self.job if isinstance(self.job, int) else _parse_job(self.job)
        return str(context.prove(pk, x, job=job, provider=self.provider, progress=False).to_json())

    @classmethod
    def decode(cls, text: str) -> Any:
        from bigfile_zk import compute

        return compute.ComputeProof.from_json(text)

    @property
    def label(self) -> str:
        return self.id or f"compute-{os.path.basename(self.model)}-{self.job}"


#: ``(file commitment, data path, tree path or None)``: where a catalogued file is.
Located = tuple[int, str, "str | None"]


@dataclass(frozen=True)
class EpochJob(Job):
    """A provider's epoch proof (:func:`bigfile_zk.epoch.prove_epoch`) of the catalogue saved
    at ``catalogue`` for ``(seed, prover)`` with parameter set ``(m, k)``. ``files`` says
    where the files are: a provider files list (a JSON list or a directory,
    :func:`bigfile_zk.provider.load_files`), or ``(commitment, data path, tree path or None)``
    triples. Only the sampled files are read, by the worker."""

    kind: ClassVar[str] = "epoch"
    path_fields: ClassVar[tuple[str, ...]] = ("catalogue", "files")
    catalogue: str
    files: str | tuple[Located, ...]
    seed: int | str
    prover: int | str
    m: int = 40
    k: int = 1
    id: str | None = None

    def __post_init__(self) -> None:
        from bigfile_zk import epoch

        epoch._check_params((self.m, self.k))
        if not isinstance(self.files, str):
            triples = tuple(tuple(t) for t in self.files)  # a JSON list of lists, too
            for i, t in enumerate(triples):
                if not (
                    len(t) == 3
                    and type(t[0]) is int
                    and isinstance(t[1], str)
                    and (t[2] is None or isinstance(t[2], str))
                ):
                    raise ParameterError(
                        f"files[{i}] is (commitment, data path, tree path or None), or files "
                        "is the path of a provider files list"
                    )
            object.__setattr__(self, "files", triples)

    def key_id(self) -> Hashable:
        return ("epoch", self.m, self.k)

    def srs_degree(self) -> int:
        from bigfile_zk import epoch

        return epoch.srs_degree((self.m, self.k))

    def prepare(self, srs: SRS) -> Prepared:
        from bigfile_zk import epoch

        pk, _ = epoch.keys((self.m, self.k), srs)
        path = epoch.key_path((self.m, self.k), srs)
        return Prepared(pk.to_bytes(), os.fspath(path) if path.is_file() else None)

    def prove(self, pk: _native.ProvingKey, context: Any) -> str:
        from bigfile_zk import epoch, provider

        cat = epoch.Catalogue.load(self.catalogue)
        if isinstance(self.files, str):
            where = {c.commitment: loc for c, loc in provider.load_files(self.files).items()}
        else:
            where = {c: (data, tree) for c, data, tree in self.files}
        located: dict[int | FileCommitment, epoch.FileLocation] = {}
        for slot in range(cat.count):
            f = cat.file(slot)
            if f is not None and f.commitment in where:
                located[slot] = where[f.commitment]
        params = (self.m, self.k)
        proof = epoch.prove_epoch(
            cat, located, self.seed, self.prover, params=params, pk=pk, progress=False
        )
        return proof.to_json()

    @classmethod
    def decode(cls, text: str) -> Any:
        from bigfile_zk import epoch

        return epoch.EpochProof.from_json(text)

    @property
    def label(self) -> str:
        return self.id or f"epoch-{os.path.basename(self.catalogue)}"


@dataclass(frozen=True)
class CatalogueUpdateJob(Job):
    """A catalogue-update proof (:func:`bigfile_zk.catalogue.prove_update`): the catalogue
    saved at ``catalogue``, whose queue digest is ``head``, with ``changes`` applied, each
    ``(slot, file commitment JSON)`` for an added file or ``(slot, None)`` for a removal."""

    kind: ClassVar[str] = "catalogue-update"
    path_fields: ClassVar[tuple[str, ...]] = ("catalogue",)
    catalogue: str
    head: int | str
    changes: tuple[tuple[int, str | None], ...]
    id: str | None = None

    def __post_init__(self) -> None:
        import json

        changes = []
        for i, change in enumerate(self.changes):
            ok = isinstance(change, (tuple, list)) and len(change) == 2 and type(change[0]) is int
            if ok and isinstance(change[1], dict):  # a jobs JSON may hold the object itself
                change = (change[0], json.dumps(change[1]))
            if not ok or not (change[1] is None or isinstance(change[1], str)):
                raise ParameterError(
                    f"changes[{i}] is (slot, file commitment JSON) or (slot, None)"
                )
            changes.append((change[0], change[1]))
        object.__setattr__(self, "changes", tuple(changes))

    def key_id(self) -> Hashable:
        return ("catalogue-update",)

    def srs_degree(self) -> int:
        from bigfile_zk import catalogue

        return catalogue.srs_degree()

    def prepare(self, srs: SRS) -> Prepared:
        from bigfile_zk import catalogue

        pk, _ = catalogue.update_keys(srs)
        path = catalogue.key_path(srs)
        return Prepared(pk.to_bytes(), os.fspath(path) if path.is_file() else None)

    def prove(self, pk: _native.ProvingKey, context: Any) -> str:
        from bigfile_zk import catalogue, epoch

        cat = epoch.Catalogue.load(self.catalogue)
        ops = [
            (slot, None if text is None else FileCommitment.from_json(text))
            for slot, text in self.changes
        ]
        head = catalogue._field(self.head, "head")
        update, _ = catalogue.prove_update(cat, head, ops, pk=pk, progress=False)
        return update.to_json()

    @classmethod
    def decode(cls, text: str) -> Any:
        from bigfile_zk import catalogue

        return catalogue.CatalogueUpdate.from_json(text)

    @property
    def label(self) -> str:
        return self.id or f"catalogue-update-{os.path.basename(self.catalogue)}"


#: The job kinds :func:`load_jobs` knows, by their JSON ``kind``.
JOB_KINDS: dict[str, type[Job]] = {
    cls.kind: cls for cls in (StorageJob, ComputeJob, EpochJob, CatalogueUpdateJob)
}


def load_jobs(path: str | os.PathLike[str], *, base: str | None = None) -> list[Job]:
    """The jobs of a JSON file: a list of objects with a ``kind`` (:data:`JOB_KINDS`) and the
    fields of its class. Relative paths in a job are taken relative to the file's directory
    (or ``base``). Malformed input raises :class:`DecodeError` naming the job."""
    text = _io.read_text(path, 64 * 2**20, "jobs JSON")
    items = _json_list(text)
    where = base if base is not None else os.path.dirname(os.path.abspath(path))
    jobs: list[Job] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DecodeError(f"job {i}: not a JSON object")
        cls = JOB_KINDS.get(item.get("kind"))  # type: ignore[arg-type]
        if cls is None:
            raise DecodeError(f"job {i}: unknown kind {item.get('kind')!r} (use {list(JOB_KINDS)})")
        fields = {k: v for k, v in item.items() if k != "kind"}
        known = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        unknown = sorted(set(fields) - known)
        if unknown:
            raise DecodeError(f"job {i} ({cls.kind}): unknown fields {unknown}")
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            # Plain annotations (``int | str``, ``str | None``) are checked here; a field of
            # another type (a list, a mapping) is its job class's to check.
            allowed = {t.strip() for t in str(f.type).split("|")}
            got = type(fields.get(f.name)).__name__.replace("NoneType", "None")
            if f.name in fields and allowed <= _SCALARS and got not in allowed:
                raise DecodeError(
                    f"job {i} ({cls.kind}): {f.name} is a JSON {type(fields[f.name]).__name__}, "
                    f"not {' or '.join(sorted(allowed))}"
                )
        for name in cls.path_fields:
            value = fields.get(name)
            if isinstance(value, str) and not os.path.isabs(value):
                fields[name] = os.path.join(where, value)
        try:
            jobs.append(cls(**fields))
        except TypeError as exc:
            raise DecodeError(f"job {i} ({cls.kind}): {exc}") from None
        except ParameterError as exc:
            raise DecodeError(f"job {i} ({cls.kind}): {exc}") from None
    return jobs


_SCALARS = frozenset({"int", "str", "bool", "float", "None"})


def _json_list(text: str) -> list[Any]:
    import json

    if _io._too_deep(text, _io.MAX_JSON_DEPTH):
        raise DecodeError(f"jobs JSON is nested deeper than {_io.MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DecodeError(f"jobs JSON is not JSON: {exc}") from None
    if not isinstance(value, list):
        raise DecodeError("jobs JSON must be a list of job objects")
    return value


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobResult:
    """The outcome of ``jobs[index]``: ``proof`` (and its JSON) or the failure's exception type
    name and message. ``attempts`` counts runs (more than 1 after a worker died);
    ``worker`` is ``host:pid`` of the process that ran the last attempt and ``key_loads`` how
    many proving keys that process had loaded by then (once per key, not per job)."""

    index: int
    job: Job
    proof: Any = None
    proof_json: str | None = None
    error_type: str | None = None
    error: str | None = None
    attempts: int = 1
    seconds: float = 0.0
    worker: str | None = None
    key_loads: int = 0

    @property
    def ok(self) -> bool:
        return self.error_type is None


@dataclass
class _Outcome:
    """What a worker sends back for one job (plain data: pickled)."""

    ok: bool
    text: str = ""
    error_type: str = ""
    seconds: float = 0.0
    worker: str = ""
    key_loads: int = 0


# -- worker side -----------------------------------------------------------------------------

_WORKER_KEYS: dict[tuple[Hashable, str], tuple[_native.ProvingKey, Any]] = {}
_WORKER_KEY_LOADS = 0
#: Keys a worker keeps (a Ray worker lives across batches; a k = 64 key is ~150 MB).
_WORKER_KEYS_KEPT = 4


@dataclass(frozen=True)
class _Material:
    """Where a worker finds a key: a path (local) or a one-element list holding a Ray object
    reference (a list, so Ray does not fetch it for every task), and the SHA-256 of its
    bytes; the same for the context bytes."""

    key_id: Hashable
    pk: Any
    pk_sha256: str
    context: Any = None


def _fetch(source: Any, what: str) -> bytes:
    if isinstance(source, list):
        import ray

        return bytes(ray.get(source[0]))
    return _io.read_bounded(source, _io.MAX_PROVING_KEY, what)


def _worker_keys(job: Job, material: _Material) -> tuple[_native.ProvingKey, Any]:
    global _WORKER_KEY_LOADS
    # By the key's digest too: a long-lived (Ray) worker may serve batches with other SRSs.
    tag = (material.key_id, material.pk_sha256)
    found = _WORKER_KEYS.get(tag)
    if found is not None:
        return found
    data = _fetch(material.pk, "proving key")
    if hashlib.sha256(data).hexdigest() != material.pk_sha256:
        raise DecodeError("the proving key the worker read is not the one the parent derived")
    pk = _native.ProvingKey.from_bytes(data)
    context = None if material.context is None else _fetch(material.context, "context")
    loaded = (pk, type(job).load_context(context))
    while len(_WORKER_KEYS) >= _WORKER_KEYS_KEPT:
        del _WORKER_KEYS[next(iter(_WORKER_KEYS))]  # the oldest
    _WORKER_KEYS[tag] = loaded
    _WORKER_KEY_LOADS += 1
    return loaded


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _run_job(job: Job, material: _Material) -> _Outcome:
    """Run one job in a worker: every exception is the job's failure, not the worker's."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSRSWarning)  # the parent opted in
            pk, context = _worker_keys(job, material)
            text = job.prove(pk, context)
        ok, error_type = True, ""
    except Exception as exc:
        ok, text, error_type = False, str(exc) or repr(exc), type(exc).__name__
    return _Outcome(
        ok, text, error_type, time.perf_counter() - start, _worker_name(), _WORKER_KEY_LOADS
    )


def _init_local_worker(threads: int) -> None:
    # The parent handles Ctrl-C (it terminates the workers); the prover's threads are sized
    # so that the workers together use the machine's cores, not each all of them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))


def _ray_call(fn: Callable[..., Any], threads: int, *args: Any) -> Any:
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))
    return fn(*args)


# -- schedulers ------------------------------------------------------------------------------


class _Died:
    """A task's worker died (the outcome of a task that did not return)."""

    def __init__(self, why: str) -> None:
        self.why = why


class _LocalPool:
    """``workers`` spawned processes, each its own single-process ``ProcessPoolExecutor``:
    a process that dies breaks only its executor, so only the job it was running is charged,
    and only that process is replaced (the others keep their loaded keys)."""

    def __init__(self, workers: int, threads: int) -> None:
        self.threads = threads
        self._slots: list[ProcessPoolExecutor | None] = [None] * workers
        self._busy: dict[Future[Any], int] = {}

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        taken = set(self._busy.values())
        slot = next(i for i in range(len(self._slots)) if i not in taken)
        executor = self._slots[slot]
        if executor is None:
            executor = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_local_worker,
                initargs=(self.threads,),
            )
            self._slots[slot] = executor
        future = executor.submit(fn, *args)
        self._busy[future] = slot
        return future

    def wait(self, handles: list[Any]) -> list[tuple[Any, Any]]:
        done, _ = wait_futures(handles, return_when=FIRST_COMPLETED)
        out: list[tuple[Any, Any]] = []
        for f in done:
            slot = self._busy.pop(f)
            try:
                out.append((f, f.result()))
            except BrokenProcessPool:
                out.append((f, _Died("the worker process died")))
                self._close_slot(slot, kill=True)
        return out

    def cancel(self, handles: list[Any]) -> None:
        for f in handles:
            f.cancel()

    def _close_slot(self, slot: int, *, kill: bool) -> None:
        executor, self._slots[slot] = self._slots[slot], None
        if executor is None:
            return
        if kill:
            for p in list((getattr(executor, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError, AttributeError):
                    p.terminate()
        executor.shutdown(wait=True, cancel_futures=kill)

    def close(self, *, kill: bool) -> None:
        for slot in range(len(self._slots)):
            self._close_slot(slot, kill=kill)


class _RayPool:
    """Tasks on a Ray cluster (``ray.init(address)``, or a local one of ``workers`` CPUs)."""

    def __init__(self, address: str | None, workers: int | None, threads: int) -> None:
        ray = _import_ray()
        self.ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            kwargs: dict[str, Any] = {"logging_level": "ERROR", "log_to_driver": False}
            if address is None:
                kwargs.update(num_cpus=os.cpu_count() or 1, include_dashboard=False)
            ray.init(address=address, **kwargs)
        self.threads = threads
        # Retries are the scheduler's (counted per job), not Ray's.
        self._remote = ray.remote(num_cpus=threads, max_retries=0)(_ray_call)

    def capacity(self) -> int:
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        return max(1, cpus // self.threads)

    def put(self, data: bytes) -> list[Any]:
        return [self.ray.put(data)]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._remote.remote(fn, self.threads, *args)

    def wait(self, handles: list[Any]) -> list[tuple[Any, Any]]:
        ray = self.ray
        done, _ = ray.wait(handles, num_returns=1)
        out: list[tuple[Any, Any]] = []
        for ref in done:
            try:
                out.append((ref, ray.get(ref)))
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
                out.append((ref, _Died(f"the Ray worker died ({type(exc).__name__})")))
            except ray.exceptions.RayTaskError as exc:  # not raised by _run_job; commit tasks
                out.append((ref, exc.as_instanceof_cause()))
            except ray.exceptions.RayError as exc:
                out.append((ref, _Died(f"Ray lost the task ({type(exc).__name__}: {exc})")))
        return out

    def cancel(self, handles: list[Any]) -> None:
        for ref in handles:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)

    def close(self, *, kill: bool) -> None:
        if self._started:
            self.ray.shutdown()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(
            "the Ray backend needs ray: pip install 'bigfile_zk[cluster]'"
        ) from None
    return ray


def _run_tasks(
    pool: _LocalPool | _RayPool,
    tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
    *,
    slots: int,
    max_retries: int,
    on_done: Callable[[int, Any, int], None],
) -> None:
    """Run ``tasks`` with at most ``slots`` in flight (one per worker: nothing queues behind
    a worker that may die); a task whose worker died is resubmitted up to ``max_retries``
    times. ``on_done(i, outcome, attempts)``; the outcome of a task that died too often is a
    :class:`_Died`. Ctrl-C kills the workers and re-raises."""
    pending = list(range(len(tasks)))[::-1]
    attempts = [0] * len(tasks)
    running: dict[Any, int] = {}
    try:
        while pending or running:
            while pending and len(running) < slots:
                i = pending.pop()
                attempts[i] += 1
                fn, args = tasks[i]
                running[pool.submit(fn, *args)] = i
            for handle, outcome in pool.wait(list(running)):
                i = running.pop(handle)
                if isinstance(outcome, _Died) and attempts[i] <= max_retries:
                    pending.append(i)
                else:
                    on_done(i, outcome, attempts[i])
    except BaseException:
        pool.cancel(list(running))
        pool.close(kill=True)
        raise


def _check_backend(backend: object, address: object, workers: object) -> int | None:
    if backend not in ("local", "ray"):
        raise ParameterError(f"backend must be 'local' or 'ray', not {backend!r}")
    if address is not None and backend != "ray":
        raise ParameterError("address is for the Ray backend (backend='ray')")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ParameterError(f"workers must be a positive int, not {workers!r}")
    return workers


def _threads_for(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


# -- prove_batch -----------------------------------------------------------------------------


def prove_batch(
    jobs: Iterable[Job],
    *,
    backend: Backend = "local",
    address: str | None = None,
    workers: int | None = None,
    srs: SRS | None = None,
    allow_insecure_srs: bool = False,
    progress: bool | None = None,
    max_retries: int = 2,
    threads: int | None = None,
    on_result: Callable[[JobResult], object] | None = None,
) -> list[JobResult]:
    """Prove every job; one :class:`JobResult` per job, in input order.

    ``backend``: ``"local"`` (a pool of ``workers`` spawned processes, default one per CPU)
    or ``"ray"`` (the cluster at ``address``, e.g. ``"10.0.0.5:6379"`` or ``"auto"``; without
    it a local Ray instance of ``workers`` CPUs; ``workers`` then caps the jobs in flight).
    ``srs``: the ceremony (large enough for every job; see :meth:`Job.srs_degree`). Without
    it the insecure test SRS is used, and only with ``allow_insecure_srs=True`` (its τ is
    public: anyone can forge such proofs). A job's failure (bad input, missing file, a key
    that cannot be derived, a worker that died more than ``max_retries`` times) is its
    result, never an exception: the other jobs go on. ``threads``: prover threads per job
    (default: local, the CPUs divided among the workers; Ray, 1, and each task reserves that
    many CPUs). ``on_result`` is called in the parent
    as each job finishes (e.g. to write its proof file). ``progress``: a bar over the batch
    (default: when stderr is a terminal). Ctrl-C stops the workers and raises
    ``KeyboardInterrupt``.

    Workers read the jobs' files themselves: on a cluster the paths must exist on every node
    (shared or replicated storage). Connecting to a Ray cluster runs this code on it; Ray
    authenticates clients with its token (``RAY_AUTH_TOKEN`` or ``~/.ray/auth_token``), and a
    local instance started here creates that file if it is missing.
    """
    jobs = list(jobs)
    for i, job in enumerate(jobs):
        if not isinstance(job, Job):
            raise TypeError(f"jobs[{i}] is a {type(job).__name__}, not a batch Job")
    workers = _check_backend(backend, address, workers)
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ParameterError(f"threads must be a positive int, not {threads!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ParameterError(f"max_retries must be an int >= 0, not {max_retries!r}")
    if srs is None and not allow_insecure_srs:
        raise InsecureSRSError(
            "prove_batch without srs would prove with the insecure test SRS (its τ is public: "
            "anyone can forge such proofs): pass the ceremony's srs (SRS.from_ptau), or "
            "allow_insecure_srs=True for tests and demos"
        )
    results: list[JobResult | None] = [None] * len(jobs)

    def finish(result: JobResult) -> None:
        results[result.index] = result
        bar(sum(r is not None for r in results))
        if on_result is not None:
            on_result(result)

    with ProgressReporter(len(jobs), "proving", progress, unit="proof") as bar:
        prepared = _prepare(jobs, srs, finish)
        runnable = [i for i in range(len(jobs)) if results[i] is None]
        if runnable:
            _dispatch(
                jobs, runnable, prepared, backend, address, workers, threads, max_retries, finish
            )
    return [r for r in results if r is not None]


def _prepare(
    jobs: list[Job], srs: SRS | None, finish: Callable[[JobResult], None]
) -> dict[Hashable, Prepared]:
    """Derive each distinct key once; a key that cannot be derived fails its jobs only."""
    prepared: dict[Hashable, Prepared] = {}
    failed: dict[Hashable, tuple[str, str]] = {}
    for i, job in enumerate(jobs):
        try:
            key = job.key_id()
            if key not in prepared and key not in failed:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InsecureSRSWarning)  # opted in
                    use = srs
                    if use is None:
                        from bigfile_zk import _cache

                        use = _cache.insecure_test_srs(job.srs_degree())
                    prepared[key] = job.prepare(use)
        except Exception as exc:
            key = ("unprepared", i)
            failed[key] = (type(exc).__name__, str(exc))
        if key in failed:
            error_type, message = failed[key]
            finish(JobResult(i, job, error_type=error_type, error=message, attempts=0))
    return prepared


def _dispatch(
    jobs: list[Job],
    runnable: list[int],
    prepared: dict[Hashable, Prepared],
    backend: str,
    address: str | None,
    workers: int | None,
    threads: int | None,
    max_retries: int,
    finish: Callable[[JobResult], None],
) -> None:
    tmp: str | None = None
    pool: _LocalPool | _RayPool
    materials: dict[Hashable, _Material] = {}
    try:
        if backend == "local":
            n = workers or os.cpu_count() or 1
            pool, slots = _LocalPool(n, threads or _threads_for(n)), n
            for key, p in prepared.items():
                pk_path = p.pk_path
                if pk_path is None or _sha256_file(pk_path) != hashlib.sha256(p.pk).hexdigest():
                    tmp = tmp or tempfile.mkdtemp(prefix="bigfile_zk-batch-")
                    pk_path = os.path.join(tmp, f"key{len(materials)}.pk")
                    _io.write_atomic(pk_path, p.pk, mode=0o600)
                ctx = None
                if p.context is not None:
                    tmp = tmp or tempfile.mkdtemp(prefix="bigfile_zk-batch-")
                    ctx = os.path.join(tmp, f"context{len(materials)}.bin")
                    _io.write_atomic(ctx, p.context, mode=0o600)
                materials[key] = _Material(key, pk_path, hashlib.sha256(p.pk).hexdigest(), ctx)
        else:
            pool = _RayPool(address, workers, threads=threads or 1)
            slots = workers or pool.capacity()
            for key, p in prepared.items():
                ctx = None if p.context is None else pool.put(p.context)
                materials[key] = _Material(
                    key, pool.put(p.pk), hashlib.sha256(p.pk).hexdigest(), ctx
                )
        tasks = [(_run_job, (jobs[i], materials[jobs[i].key_id()])) for i in runnable]

        def done(t: int, outcome: Any, attempts: int) -> None:
            i = runnable[t]
            job = jobs[i]
            if isinstance(outcome, _Died):
                why = f"{outcome.why}; tried {attempts} times"
                finish(JobResult(i, job, error_type=WorkerDiedError.__name__, error=why,
                                 attempts=attempts))  # fmt: skip
                return
            if not isinstance(outcome, _Outcome):  # an exception from the task machinery
                outcome = _Outcome(False, str(outcome), type(outcome).__name__)
            proof, text = None, None
            error_type, error = (None, None) if outcome.ok else (outcome.error_type, outcome.text)
            if outcome.ok:
                try:
                    proof, text = job.decode(outcome.text), outcome.text
                except Exception as exc:
                    error_type, error = type(exc).__name__, f"the worker's proof: {exc}"
            finish(
                JobResult(
                    i,
                    job,
                    proof,
                    text,
                    error_type,
                    error,
                    attempts,
                    outcome.seconds,
                    outcome.worker,
                    outcome.key_loads,
                )
            )

        _run_tasks(pool, tasks, slots=slots, max_retries=max_retries, on_done=done)
        pool.close(kill=False)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _sha256_file(path: str) -> str | None:
    try:
        return hashlib.sha256(
            _io.read_bounded(path, _io.MAX_PROVING_KEY, "proving key")
        ).hexdigest()
    except (OSError, DecodeError):
        return None


# -- parallel commitment ---------------------------------------------------------------------

#: Blocks (aligned subtrees) of at most this many bytes are hashed in one piece by a worker.
_MAX_BLOCK_BYTES = 64 * 2**20


def _zero_roots(arity: int, height: int) -> list[int]:
    """``Z_0 .. Z_height``: the roots of all-padding subtrees (docs/spec/merkle.md)."""
    z = [0]
    for _ in range(height):
        z.append(_native.poseidon_hash([z[-1]] * arity))
    return z


def _depth(n: int, arity: int) -> int:
    d = 0
    while arity**d < n:
        d += 1
    return d


def _pread(fd: int, length: int, offset: int) -> bytes:
    parts, got = [], 0
    while got < length:
        part = os.pread(fd, length - got, offset + got)
        if not part:
            raise FileChangedError("the file got shorter while it was read")
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _subtree_roots(
    path: str, file_size: int, chunk_size: int, arity: int, height: int, first: int, last: int
) -> list[int]:
    """Worker side: the roots of the height-``height`` subtrees ``first .. last - 1`` of the
    file's tree (each over ``arity^height`` chunks, read from the file at its byte range; the
    last may be ragged: its missing leaves are padding, lifted with ``Z_l``)."""
    block = arity**height * chunk_size
    z = _zero_roots(arity, height)
    roots = []
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != file_size:
            raise FileChangedError(f"{path} changed size while it was committed")
        for b in range(first, last):
            offset = b * block
            data = _pread(fd, min(block, file_size - offset), offset)
            c = _native.commit_bytes(data, chunk_size, arity)
            root = c.root
            for level in range(c.depth, height):
                root = _native.poseidon_hash([root] + [z[level]] * (arity - 1))
            roots.append(root)
    finally:
        os.close(fd)
    return roots


def _combine(nodes: list[int], arity: int, level: int, depth: int) -> int:
    """The root over ``nodes`` (the level-``level`` nodes, padding positions omitted)."""
    z = _zero_roots(arity, depth)
    while level < depth:
        if len(nodes) % arity:
            nodes = nodes + [z[level]] * (arity - len(nodes) % arity)
        nodes = [_native.poseidon_hash(nodes[i : i + arity]) for i in range(0, len(nodes), arity)]
        level += 1
    (root,) = nodes
    return root


def commit_file_parallel(
    path: str | os.PathLike[str],
    *,
    chunk_size: int = _native.DEFAULT_CHUNK_SIZE,
    arity: int = _native.DEFAULT_ARITY,
    workers: int | None = None,
    backend: Backend = "local",
    address: str | None = None,
    block_chunks: int | None = None,
    progress: bool | None = None,
    max_retries: int = 2,
) -> FileCommitment:
    """:func:`bigfile_zk.commit_file`'s commitment, computed by ``workers`` processes (or Ray
    tasks): the file is split into aligned subtrees of ``block_chunks`` chunks (a power of
    ``arity``; default: the largest of at most 64 MiB that still gives every worker a few),
    each worker reads its byte ranges and hashes their subtrees, and the parent combines the
    subtree roots up to the root (padding with the all-padding roots ``Z_l`` of
    docs/spec/merkle.md). With Ray the file must be at ``path`` on every node. No tree file
    is written (use :func:`~bigfile_zk.commit_file` for one). A file that changes size or
    modification time meanwhile raises :class:`~bigfile_zk.errors.FileChangedError`."""
    from bigfile_zk._api import _size

    chunk_size, arity = _size(chunk_size, "chunk_size"), _size(arity, "arity")
    workers = _check_backend(backend, address, workers)
    path = os.path.abspath(os.fspath(path))
    _io.require_regular(path, "file")
    before = os.stat(path)
    size = before.st_size
    # The layout's checks (and the empty-file refusal) are the core's.
    _native.commit_bytes(b"\0", chunk_size, arity)
    if size == 0:
        raise ParameterError("an empty file has nothing to commit to (file_size must be >= 1)")
    n = math.ceil(size / chunk_size)
    depth = _depth(n, arity)
    n_workers = workers or os.cpu_count() or 1
    if block_chunks is None:
        height = 0
        while arity ** (height + 1) * chunk_size <= _MAX_BLOCK_BYTES and height < depth:
            height += 1
        # Smaller blocks until each worker has ~4, but not below ~1 MiB per block.
        while (
            height > 0
            and math.ceil(n / arity**height) < 4 * n_workers
            and arity ** (height - 1) * chunk_size >= 2**20
        ):
            height -= 1
    else:
        height = round(math.log(block_chunks, arity)) if block_chunks >= 1 else -1
        if height < 0 or arity**height != block_chunks:
            raise ParameterError(f"block_chunks {block_chunks} is not a power of arity {arity}")
    height = min(height, depth)
    blocks = math.ceil(n / arity**height)
    per_task = max(1, math.ceil(blocks / (4 * n_workers)))
    spans = [(b, min(b + per_task, blocks)) for b in range(0, blocks, per_task)]
    tasks = [(_subtree_roots, (path, size, chunk_size, arity, height, a, b)) for a, b in spans]
    roots: list[list[int] | None] = [None] * len(tasks)
    failure: list[BaseException] = []

    def done(t: int, outcome: Any, attempts: int) -> None:
        if isinstance(outcome, _Died):
            failure.append(WorkerDiedError(f"{outcome.why}; tried {attempts} times"))
        elif isinstance(outcome, BaseException):
            failure.append(outcome)
        else:
            roots[t] = outcome
        bar(sum(len(range(*spans[i])) for i in range(len(tasks)) if roots[i] is not None))

    pool: _LocalPool | _RayPool
    if backend == "local":
        pool, slots = _LocalPool(n_workers, _threads_for(n_workers)), n_workers
    else:
        pool = _RayPool(address, workers, threads=1)
        slots = workers or pool.capacity()
    with ProgressReporter(blocks, f"commit {path}", progress, unit="block") as bar:
        try:
            _run_tasks(pool, tasks, slots=slots, max_retries=max_retries, on_done=done)
        finally:
            pool.close(kill=bool(failure))
    if failure:
        raise failure[0]
    after = os.stat(path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise FileChangedError(f"{path} changed while it was committed")
    nodes = [r for rs in roots for r in (rs or [])]
    root = _combine(nodes, arity, height, depth)
    meta = size + chunk_size * 2**64 + arity * 2**96 + _native.SPEC_VERSION * 2**128
    import json

    return FileCommitment.from_json(
        json.dumps(
            {
                "type": "bigfile_zk.FileCommitment",
                "spec_version": _native.SPEC_VERSION,
                "commitment": f"0x{_native.poseidon_hash([root, meta]):064x}",
                "root": f"0x{root:064x}",
                "file_size": size,
                "chunk_size": chunk_size,
                "arity": arity,
                "num_chunks": n,
                "depth": depth,
            }
        )
    )
