"""Installing the pinned npm packages of tests/js (the outside implementations) on demand.

Shared by tests/_circomlibjs.py and tests/_snarkjs.py. Standard library only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
NPM_TIMEOUT_S = 600


def tool(name: str) -> str:
    """Path of `node` / `npm`, or RuntimeError naming what is missing."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"`{name}` not found on PATH; the outside cross-checks need Node.js and npm"
        )
    return path


def installed_version(package: str) -> str | None:
    manifest = JS_DIR / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def ensure(package: str, version: str) -> None:
    """Make `package@version` available under tests/js, running `npm ci` if it is not.

    `npm ci` replaces the whole of tests/js/node_modules, and parallel test workers may all
    find it missing: installs are serialised on one lock file and re-checked under it.
    """
    tool("node")
    if installed_version(package) == version:
        return
    npm = tool("npm")
    with open(JS_DIR / ".npm-ci.lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # no flock (Windows): accept the race
            pass
        if installed_version(package) == version:
            return
        try:
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"`npm ci` in {JS_DIR} timed out after {NPM_TIMEOUT_S}s") from e
    if proc.returncode != 0:
        raise RuntimeError(
            f"`npm ci` in {JS_DIR} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    if installed_version(package) != version:
        raise RuntimeError(f"`npm ci` did not install {package} {version}")
