"""Campaign preparation, finding collection (reproducer files) and the summary table."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from fuzz.runner import Outcome, Stats, rss_peak

#: Reproducers kept per finding signature (target, kind, exception type, message shape).
PER_SIGNATURE = 3


def prepare() -> dict[str, Any]:
    """The seed corpus, with the storage keys the CLI target needs derived up front.

    Keys and SRSs go to ``$BIGFILE_ZK_CACHE`` (a fresh temporary directory when unset, so a
    campaign never touches the user's cache); workers inherit it and load instead of derive.
    """
    if not os.environ.get("BIGFILE_ZK_CACHE"):
        os.environ["BIGFILE_ZK_CACHE"] = tempfile.mkdtemp(prefix="bfzk-fuzz-cache-")
    from bigfile_zk import storage
    from fuzz import corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        storage.keys(4)
    return corpus.build()


class Collector:
    """De-duplicated findings; the first few of each signature are written under ``out``."""

    def __init__(self, out: str | os.PathLike[str] | None) -> None:
        self.out = Path(out) if out else None
        self.by_signature: Counter[tuple[str, str, str, str]] = Counter()
        self.first: dict[tuple[str, str, str, str], Outcome] = {}
        self.total = 0

    def add(self, o: Outcome) -> bool:
        """Record a finding; True if its signature is new."""
        sig = o.signature()
        self.total += 1
        self.by_signature[sig] += 1
        n = self.by_signature[sig]
        if n <= PER_SIGNATURE and self.out is not None:
            save(o, self.out)
        if n == 1:
            self.first[sig] = o
            return True
        return False


def save(o: Outcome, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{o.target}-{o.status}-seed{o.seed}-case{o.case}"
    value = o.value
    if isinstance(value, dict) and "files" in value:
        files = {k: v.hex() for k, v in value["files"].items()}
        raw: Any = {**{k: v for k, v in value.items() if k != "files"}, "files_hex": files}
    elif isinstance(value, dict):
        raw = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in value.items()}
    elif isinstance(value, bytes):
        raw = {"hex": value.hex()}
    else:
        raw = {"text": value}
    record = {
        "target": o.target,
        "seed": o.seed,
        "case": o.case,
        "kind": o.status,
        "exception": o.exc_type,
        "message": o.message,
        "mutations": o.description,
        "traceback": o.traceback,
        "replay": f"PYTHONPATH=tests .venv/bin/python -m fuzz --target {o.target} "
        f"--seed {o.seed} --case {o.case}",
        "input": raw,
    }
    path = stem.with_suffix(".json")
    text = json.dumps(record, indent=2, ensure_ascii=True, default=repr)
    path.write_text(text, encoding="utf-8")
    return path


def summary(stats: Stats, found: Collector, restarts: int) -> str:
    kinds = sorted({k for c in stats.outcomes.values() for k in c})
    lines = ["", "target              execs     ok  typed  findings  s/case   " + " ".join(kinds)]
    total = Counter[str]()
    for name, n in stats.executions.items():
        c = stats.outcomes[name]
        total.update(c)
        bad = sum(v for k, v in c.items() if k not in ("ok", "typed"))
        per = stats.seconds[name] / n if n else 0.0
        lines.append(
            f"{name:18} {n:6} {c['ok']:6} {c['typed']:6} {bad:9}  {per:6.4f}   "
            + " ".join(f"{k}={c[k]}" for k in kinds if c[k] and k not in ("ok", "typed"))
        )
    execs = sum(stats.executions.values())
    lines.append(f"total executions {execs}, worker restarts {restarts}, outcomes {dict(total)}")
    lines.append(
        f"peak RSS: parent {rss_peak() / 2**20:.0f} MiB, worker {stats.worker_peak / 2**20:.0f} MiB"
    )
    lines.append(f"distinct findings: {len(found.first)} ({found.total} cases)")
    for sig, o in found.first.items():
        lines.append(
            f"  {found.by_signature[sig]:5} x [{o.status}] {o.target}: {o.exc_type} "
            f"{o.message.splitlines()[0][:160] if o.message else ''} "
            f"(seed {o.seed} case {o.case})"
        )
    return "\n".join(lines)
