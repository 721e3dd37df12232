"""Benchmarks: run with `pytest benches --benchmark-enable -p no:cacheprovider` (see README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/_circomlibjs.py and tests/_snarkjs.py drive the outside implementations.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
