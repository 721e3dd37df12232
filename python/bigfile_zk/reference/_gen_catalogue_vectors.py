"""Regenerate ``docs/spec/vectors/catalogue.json`` from the pure-Python reference.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_catalogue_vectors [OUTPUT_DIR]

A provider's catalogue through four updates from empty (adds, removals, overwrites, a full
update of ``OPS`` changes): each update's changes, its statement ``[K_old, h_old, K_new,
h_new]`` and the root and count after (``storage-catalogue.md``). File commitments are
``sha_element("catalogue file i")``. Deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._gen_vectors import DEFAULT_OUTPUT, sha_element, write
from .catalogue import DEPTH, OPS, Catalogue, apply, op_digest, relation_holds
from .field import to_hex

GENERATOR = "python -m bigfile_zk.reference._gen_catalogue_vectors (pure-Python reference)"


def file_commitment(i: int) -> int:
    return sha_element(f"catalogue file {i}")


def catalogue_vectors() -> dict[str, Any]:
    cat, head = Catalogue(), 0
    empty = {"root": to_hex(cat.root), "commitment": to_hex(cat.commitment())}
    updates: list[list[tuple[int, int]]] = [
        [(i, file_commitment(i)) for i in range(5)],
        [(1, 0), (5, file_commitment(5)), (3, file_commitment(30)), (6, file_commitment(6))],
        [],
        [(7 + i, file_commitment(7 + i)) for i in range(OPS - 1)] + [(0, 0)],
    ]
    out = []
    for changes in updates:
        st, old_root, old_count, applied, after = apply(cat, head, changes)
        assert relation_holds(st, old_root, old_count, applied)
        out.append(
            {
                "changes": [{"slot": s, "value": to_hex(v)} for s, v in changes],
                "op_digests": [to_hex(op_digest(s, v)) for s, v in changes],
                "public_inputs": [to_hex(x) for x in st.public_inputs()],
                "root_after": to_hex(after.root),
                "count_after": after.count,
            }
        )
        cat, head = after, st.new_head
    return {
        "generator": GENERATOR,
        "spec": "storage-catalogue.md",
        "depth": DEPTH,
        "ops_per_update": OPS,
        "file_rule": 'value of file i = sha_element("catalogue file i")',
        "empty": empty,
        "updates": out,
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "catalogue.json", catalogue_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
