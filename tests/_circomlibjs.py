"""Outside cross-check: circomlib Poseidon over BN254 computed by circomlibjs.

Drives tests/js/poseidon_oracle.js (circomlibjs 0.1.7, wasm build) through
node. Standard library only, so importing it never needs extra packages.

Missing node/npm raises RuntimeError instead of skipping; the caller decides
whether that is a skip (local runs) or a failure (e.g. when CI=true).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
ORACLE = JS_DIR / "poseidon_oracle.js"
CIRCOMLIBJS_VERSION = "0.1.7"
_NPM_TIMEOUT_S = 600
_ORACLE_TIMEOUT_S = 300


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"`{name}` not found on PATH; the circomlibjs cross-check needs Node.js and npm"
        )
    return path


def _installed_version() -> str | None:
    manifest = JS_DIR / "node_modules" / "circomlibjs" / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _npm_ci() -> None:
    npm = _tool("npm")
    # Parallel test workers may all find node_modules missing; npm ci deletes
    # node_modules first, so serialise installs and re-check under the lock.
    lock_path = JS_DIR / ".npm-ci.lock"
    with open(lock_path, "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # no flock (Windows): accept the race
            pass
        if _installed_version() == CIRCOMLIBJS_VERSION:
            return
        try:
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=_NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"`npm ci` in {JS_DIR} timed out after {_NPM_TIMEOUT_S}s") from e
    if proc.returncode != 0:
        raise RuntimeError(
            f"`npm ci` in {JS_DIR} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    if _installed_version() != CIRCOMLIBJS_VERSION:
        raise RuntimeError(f"`npm ci` did not install circomlibjs {CIRCOMLIBJS_VERSION}")


def ensure_circomlibjs() -> Path:
    """Make sure circomlibjs is installed under tests/js; return that directory.

    Raises RuntimeError (with the reason) if node or npm is missing or the
    install fails.
    """
    _tool("node")
    if _installed_version() != CIRCOMLIBJS_VERSION:
        _npm_ci()
    return JS_DIR


def circomlib_poseidon(
    cases: Sequence[tuple[Sequence[int], int, int]],
) -> list[list[int]]:
    """Hash each (inputs, init_state, n_out) with circomlibjs in one node call.

    Returns, per case, the first n_out words of the final Poseidon state
    (word 0 is the usual hash). Inputs must be canonical field elements
    (0 <= x < p), 1..16 of them, and 1 <= n_out <= len(inputs) + 1; the oracle
    rejects anything else rather than reducing it.
    """
    if not cases:
        return []
    doc = {
        "cases": [
            {
                "inputs": [str(x) for x in inputs],
                "init_state": str(init_state),
                "n_out": n_out,
            }
            for inputs, init_state, n_out in cases
        ]
    }
    ensure_circomlibjs()
    try:
        proc = subprocess.run(
            [_tool("node"), str(ORACLE)],
            cwd=JS_DIR,
            input=json.dumps(doc),
            capture_output=True,
            text=True,
            timeout=_ORACLE_TIMEOUT_S,
            check=False,
            # Keep a caller's NODE_OPTIONS (e.g. --inspect) from altering the oracle.
            env={k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"},
        )
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"poseidon oracle timed out after {_ORACLE_TIMEOUT_S}s") from e
    if proc.returncode != 0:
        raise RuntimeError(
            f"poseidon oracle failed (exit {proc.returncode}): {proc.stderr.strip()}"
        )
    outputs = json.loads(proc.stdout)["outputs"]
    if len(outputs) != len(cases) or any(
        len(out) != n_out for out, (_, _, n_out) in zip(outputs, cases, strict=True)
    ):
        raise RuntimeError("poseidon oracle returned a result of the wrong shape")
    return [[int(v) for v in out] for out in outputs]
