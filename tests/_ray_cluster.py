"""A real Ray cluster for the tests: a head with 2 CPUs on 127.0.0.1 in its own session,
started by the module that uses the ``ray_cluster`` fixture and killed, every process of it,
when that module ends."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# One token for every cluster of the session: the driver (this pytest process) reads Ray's
# auth settings once, so a second module's cluster with a new token would refuse it.
_TOKEN = secrets.token_hex(32)


def _session_processes(sid: int) -> dict[int, int]:
    """The live processes of session ``sid`` (the head and everything Ray started under it),
    each with its parent."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry)] = int(fields[1])
    return found


def _kill_session(head: subprocess.Popen[bytes]) -> None:
    """SIGKILL the head's session leaves first, so that every process is reaped by its own
    parent (raylet its workers, the head its daemons), then the head itself."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        live = _session_processes(head.pid)
        others = [pid for pid in live if pid != head.pid]
        if not others:
            break
        parents = set(live.values())
        for pid in [pid for pid in others if pid not in parents] or others:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
    with contextlib.suppress(ProcessLookupError):
        os.kill(head.pid, signal.SIGKILL)
    head.wait(30)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A Ray head with 2 CPUs on 127.0.0.1, in its own session; every process of that
    session is killed at the end, whatever happened."""
    exe = Path(sys.executable).with_name("ray")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="bfzray", dir="/tmp")  # Ray's socket paths must be short
    path = os.pathsep.join([str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])])
    # A token of its own (Ray >= 2.5x authenticates clients; without one set, ray.init and
    # ray start read or write ~/.ray/auth_token): the head, its workers and this driver.
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": _TOKEN}
    saved = {name: os.environ.get(name) for name in auth}
    os.environ.update(auth)
    import ray  # after the token is set: Ray reads its auth settings once

    env = {**os.environ, "PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}
    argv = [str(exe) if exe.exists() else "ray", "start", "--head", "--num-cpus", "2"]
    argv += ["--port", str(port), "--node-ip-address", "127.0.0.1", "--temp-dir", tmp]
    argv += ["--include-dashboard=false", "--disable-usage-stats", "--block"]
    log = open(os.path.join(tmp, "head.log"), "w")  # noqa: SIM115
    head = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert head.poll() is None, Path(tmp, "head.log").read_text()[-3000:]
            try:
                ray.init(address=address, logging_level="ERROR", log_to_driver=False)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        ray.shutdown()
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _kill_session(head)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
        assert _session_processes(head.pid) == {}, "Ray processes left behind"
