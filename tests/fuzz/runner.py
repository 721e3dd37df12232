"""Run fuzz cases in a worker process, with the oracle, hang and crash detection.

The parent generates every input (so it always holds the input of a case that killed the
worker) and sends it to a ``spawn``ed worker over a pipe; the worker runs the target and
reports an outcome:

* ``ok``: the call returned (a correct result);
* ``typed``: a ``bigfile_zk.errors.BigFileZkError`` that is not ``InternalError``;
* a finding: ``exception`` (any other exception, with its traceback), ``internal``
  (``InternalError``, a caught Rust panic), a target's semantic :class:`~fuzz.targets.Finding`
  (``soundness``, ``non-canonical``, ``exit-status``, ...), ``memory`` (peak RSS grew by more
  than :data:`MEMORY_SLACK` plus :data:`MEMORY_FACTOR` times the input size), and, detected by
  the parent, ``hang`` (no answer within the per-case deadline: the worker is killed) and
  ``crash`` (the worker died: abort, segfault, an allocation failure under ``RLIMIT_AS``).

After a hang or a crash the worker is restarted and the campaign goes on.
"""

from __future__ import annotations

import faulthandler
import multiprocessing as mp
import os
import re
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

#: Address-space limit of a worker: a runaway allocation fails instead of invoking the OOM killer.
ADDRESS_SPACE = 4 * 2**30
#: The same for the campaign's parent, which generates the inputs (a few MiB each; it needs
#: about 0.5 GiB of address space): a runaway generator raises MemoryError (a generator error).
PARENT_ADDRESS_SPACE = 4 * 2**30
#: A case may raise the worker's peak RSS by this much plus MEMORY_FACTOR x its input size.
MEMORY_SLACK = 256 * 2**20
MEMORY_FACTOR = 64
#: Seconds a case may take before it is a hang.
DEFAULT_DEADLINE = 5.0

ALLOWED = ("ok", "typed")


@dataclass
class Outcome:
    target: str
    seed: int
    case: int
    status: str  # "ok", "typed" or a finding kind
    description: str = ""
    exc_type: str = ""
    message: str = ""
    traceback: str = ""
    seconds: float = 0.0
    value: Any = None

    @property
    def finding(self) -> bool:
        return self.status not in ALLOWED

    def signature(self) -> tuple[str, str, str, str]:
        """For de-duplicating findings: target, kind, exception type, message shape."""
        first = self.message.splitlines()[0] if self.message else ""
        shape = re.sub(r"0x[0-9a-f]+|\d+|/tmp/\S+", "#", first)[:80]
        return (self.target, self.status, self.exc_type, shape if self.message else "")

    def report(self) -> str:
        from fuzz.targets import describe

        lines = [
            f"FINDING [{self.status}] target={self.target} seed={self.seed} case={self.case}",
            f"  reproduce: PYTHONPATH=tests .venv/bin/python -m fuzz --target {self.target} "
            f"--seed {self.seed} --case {self.case}",
            f"  mutations: {self.description[:500]}",
            f"  input: {describe(self.value)}",
            f"  outcome: {self.exc_type}: {self.message[:1500]}",
        ]
        if self.traceback:
            lines.append("  traceback:\n    " + self.traceback[-3000:].replace("\n", "\n    "))
        return "\n".join(lines)


def rss_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


_status_fd: dict[int, int] = {}  # pid -> open /proc/self/status (read twice per case)


def vm_hwm() -> int:
    """Peak RSS of this process image (``VmHWM``). In a spawned worker ``ru_maxrss`` also counts
    the parent's pages shared at the fork that precedes the exec."""
    try:
        pid = os.getpid()
        if pid not in _status_fd:
            _status_fd[pid] = os.open("/proc/self/status", os.O_RDONLY)
        status = os.pread(_status_fd[pid], 8192, 0)
        at = status.index(b"VmHWM:") + 6
        return int(status[at : status.index(b"kB", at)]) * 1024
    except (OSError, ValueError):
        return rss_peak()


def limit_address_space(limit: int) -> None:
    """Set this process's soft ``RLIMIT_AS`` to ``limit`` (at most the hard limit, which is
    kept), so that a runaway allocation raises ``MemoryError`` (or aborts) instead of invoking
    the OOM killer."""
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(
            resource.RLIMIT_AS,
            (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard),
        )
    except (ValueError, OSError):
        pass


def _size(value: Any) -> int:
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_size(v) for v in value)
    return 8


def classify(exc: BaseException, paths: bool = False) -> str:
    """``typed`` for an allowed refusal, else the kind of finding. ``paths``: the target opens
    a path, and an ``OSError`` (not raised by our own code as a BigFileZkError) is allowed."""
    from bigfile_zk.errors import BigFileZkError, InternalError
    from fuzz.targets import Finding

    if isinstance(exc, Finding):
        return exc.kind
    if isinstance(exc, InternalError):
        return "internal"
    if isinstance(exc, BigFileZkError):
        return "typed"
    if paths and type(exc) is not OSError and isinstance(exc, OSError):
        return "typed"  # FileNotFoundError, IsADirectoryError, ...
    if paths and type(exc) is OSError and exc.errno is not None:
        return "typed"  # ELOOP, ENXIO, ... (errno set: a real I/O failure)
    return "exception"


def run_one(state: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """Run one case in this process and classify it (the worker's loop body)."""
    from fuzz.targets import TARGETS

    before = vm_hwm()
    start = time.perf_counter()
    result: dict[str, Any] = {"status": "ok"}
    try:
        TARGETS[name].run(state, value)
    except BaseException as exc:  # the oracle judges every exception
        if isinstance(exc, KeyboardInterrupt):
            raise
        result = {
            "status": classify(exc, TARGETS[name].paths),
            "exc_type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "message": str(exc)[:4000],
        }
        if result["status"] not in ALLOWED:
            result["traceback"] = "".join(traceback.format_exception(exc))[-6000:]
    result["seconds"] = time.perf_counter() - start
    result["peak"] = vm_hwm()
    grown = result["peak"] - before
    if result["status"] in ALLOWED and grown > MEMORY_SLACK + MEMORY_FACTOR * _size(value):
        result.update(
            status="memory",
            exc_type="",
            message=f"peak RSS grew by {grown / 2**20:.0f} MiB for a {_size(value)}-byte input",
        )
    return result


def _worker(conn: Connection, corpus: dict[str, Any], log_path: str, deadline: float) -> None:
    """The worker process: receive ``(target, value)``, send the outcome, forever."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    faulthandler.enable(sys.stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    limit_address_space(ADDRESS_SPACE)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    warnings.simplefilter("ignore")
    from fuzz.targets import worker_state

    state = worker_state(corpus)
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        name, case, value = msg
        print(f"--- case {name} {case}", flush=True)
        # A Python-level hang dumps the stacks into the log before the parent kills us.
        faulthandler.dump_traceback_later(deadline, exit=False, file=sys.stderr)
        result = run_one(state, name, value)
        faulthandler.cancel_dump_traceback_later()
        conn.send(("result", result))


@dataclass
class Stats:
    executions: Counter[str] = field(default_factory=Counter)
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: Counter[str] = field(default_factory=Counter)
    #: The largest peak RSS a worker reported.
    worker_peak: int = 0

    def add(self, o: Outcome) -> None:
        self.executions[o.target] += 1
        self.outcomes.setdefault(o.target, Counter())[o.status] += 1
        self.seconds[o.target] += o.seconds


class Runner:
    """One worker process (restarted after hangs and crashes) and the per-case oracle."""

    def __init__(self, corpus: dict[str, Any], deadline: float = DEFAULT_DEADLINE) -> None:
        self.corpus = corpus
        self.deadline = deadline
        self.ctx = mp.get_context("spawn")  # never fork a process with Rust (rayon) threads
        self.log_dir = tempfile.mkdtemp(prefix="bfzk-fuzz-log-")
        self.proc: Any = None
        self.conn: Connection | None = None
        self.restarts = 0
        self.stats = Stats()

    # -- worker lifecycle ---------------------------------------------------------------------

    def _log_path(self) -> str:
        return os.path.join(self.log_dir, f"worker-{self.restarts}.log")

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(
            target=_worker,
            args=(child, self.corpus, self._log_path(), self.deadline),
            daemon=True,
        )
        self.proc.start()
        child.close()
        self.conn = parent
        if not parent.poll(120):
            raise RuntimeError(f"the fuzz worker did not start; see {self._log_path()}")
        tag, _ = parent.recv()
        assert tag == "ready"

    def stop(self) -> None:
        if self.proc is not None:
            try:
                if self.conn is not None:
                    self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.proc.join(2)
            if self.proc.is_alive():
                self.proc.kill()  # our own worker, by its handle
                self.proc.join()
            self.proc = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _restart(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.proc = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.restarts += 1
        self.start()

    def _log_tail(self, path: str, limit: int = 4000) -> str:
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        last = text.rfind("--- case ")
        return text[last:][-limit:] if last >= 0 else text[-limit:]

    # -- cases ----------------------------------------------------------------------------------

    def run_case(self, name: str, seed: int, case: int, value: Any, description: str) -> Outcome:
        if self.proc is None:
            self.start()
        assert self.conn is not None
        out = Outcome(name, seed, case, "ok", description, value=value)
        log = self._log_path()
        start = time.perf_counter()
        try:
            self.conn.send((name, case, value))
            answered = self.conn.poll(self.deadline + 2.0)
            msg = self.conn.recv() if answered else None
        except (EOFError, OSError, BrokenPipeError):
            answered, msg = True, None
        out.seconds = time.perf_counter() - start
        if msg is not None:
            _, result = msg
            out.status = result["status"]
            out.exc_type = result.get("exc_type", "")
            out.message = result.get("message", "")
            out.traceback = result.get("traceback", "")
            self.stats.worker_peak = max(self.stats.worker_peak, result.get("peak", 0))
            if result["seconds"] > self.deadline and not out.finding:
                out.status = "hang"
                out.message = f"took {result['seconds']:.1f} s (deadline {self.deadline} s)"
        elif not answered:
            out.status = "hang"
            out.message = f"no answer within {self.deadline + 2.0:.0f} s; worker killed"
            self._restart()
            out.traceback = self._log_tail(log)
        else:
            self.proc.join(5)
            code = self.proc.exitcode
            out.status = "crash"
            sig = ""
            if code is not None and code < 0:
                with_name = signal.Signals(-code).name if -code in signal.valid_signals() else ""
                sig = f" (signal {with_name or -code})"
            out.message = f"the worker died with exit code {code}{sig}"
            out.traceback = self._log_tail(log)
            self._restart()
        self.stats.add(out)
        return out


def generate(name: str, corpus: dict[str, Any], seed: int, case: int) -> tuple[Any, str]:
    """The input of case ``case`` of ``name`` for ``seed`` (deterministic)."""
    import random

    from fuzz.targets import TARGETS

    rng = random.Random(f"{name}/{seed}/{case}")
    return TARGETS[name].generate(corpus, rng)
