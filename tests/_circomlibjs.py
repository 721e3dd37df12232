"""Outside cross-check: circomlib Poseidon over BN254 computed by circomlibjs.

Drives tests/js/poseidon_oracle.js (circomlibjs 0.1.7, wasm build) through
node. Standard library only, so importing it never needs extra packages.

Missing node/npm raises RuntimeError instead of skipping; the caller decides
whether that is a skip (local runs) or a failure (e.g. when CI=true).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import _npm

JS_DIR = _npm.JS_DIR
ORACLE = JS_DIR / "poseidon_oracle.js"
CIRCOMLIBJS_VERSION = "0.1.7"
_ORACLE_TIMEOUT_S = 300


def ensure_circomlibjs() -> Path:
    """Make sure circomlibjs is installed under tests/js; return that directory.

    Raises RuntimeError (with the reason) if node or npm is missing or the
    install fails.
    """
    _npm.ensure("circomlibjs", CIRCOMLIBJS_VERSION)
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
            [_npm.tool("node"), str(ORACLE)],
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
