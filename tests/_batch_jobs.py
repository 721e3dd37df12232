"""Test-only batch job kinds (tests/ is on the workers' path: spawn passes ``sys.path`` on,
the Ray cluster of test_batch.py gets it in ``PYTHONPATH``)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from bigfile_zk import batch


@dataclass(frozen=True)
class CrashingJob(batch.StorageJob):
    """A storage job whose worker process dies (``os._exit``) while it runs: on its first
    attempt only (it leaves ``marker`` behind), or on every attempt with ``always``."""

    kind: ClassVar[str] = "test-crash"
    marker: str = ""
    always: bool = False

    def prove(self, pk: Any, context: Any) -> str:
        if self.always or not os.path.exists(self.marker):
            with open(self.marker, "a") as f:
                f.write(f"{os.getpid()}\n")
            os._exit(17)
        return super().prove(pk, context)


@dataclass(frozen=True)
class SlowJob(batch.StorageJob):
    """A storage job that records its worker's pid in ``marker`` (a directory) and then
    sleeps: for interrupting a batch while its workers are busy."""

    kind: ClassVar[str] = "test-slow"
    marker: str = ""

    def prove(self, pk: Any, context: Any) -> str:
        with open(os.path.join(self.marker, str(os.getpid())), "w") as f:
            f.write("started\n")
        time.sleep(120)
        return super().prove(pk, context)
