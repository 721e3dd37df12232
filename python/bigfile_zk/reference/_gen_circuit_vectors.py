"""Write ``docs/spec/vectors/plonk_circuits.json``: which circuits the spec allows.

Run from the repository root::

    PYTHONPATH=python python -m bigfile_zk.reference._gen_circuit_vectors [OUTPUT_DIR]

Each case is a circuit in the interchange format of ``plonk.md`` §7 and whether §3/§7 allow it
(``valid``), with the rule it breaks. The expectations are written here from the spec's text,
not read back from either implementation: the Rust core (``Circuit::from_json``) and the Python
reference (``Circuit.from_json``) must both accept exactly the valid ones. The cases mutate two
small base circuits (``k = 3``, one public input, with and without lookups), and their
version-2 forms (``q_n`` set on row 3).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from ._gen_vectors import DEFAULT_OUTPUT, write
from .field import R

N = 8  # k = 3, the smallest circuit (MIN_K)


def _base(lookups: bool) -> dict[str, Any]:
    zeros = ["0"] * N
    c: dict[str, Any] = {
        "format": "bigfile_zk/plonk-circuit/v1",
        "k": 3,
        "num_public": 1,
        "lookups": lookups,
        "q_m": list(zeros),
        "q_l": ["1"] + ["0"] * (N - 1),  # row 0: the public-input row
        "q_r": list(zeros),
        "q_o": list(zeros),
        "q_c": list(zeros),
        "q_f": list(zeros),
        "q_p": list(zeros),
        # a[0] = a[1] = b[2]: one class of three cells.
        "copies": [[[0, 0], [0, 1], [1, 2]]],
    }
    # Row 1: a·b - c = 0.
    c["q_m"][1], c["q_o"][1] = "1", str(R - 1)
    if lookups:
        c["q_k"] = ["0", "0", "1"] + ["0"] * (N - 3)
        c["t1"] = [str(i % 4) for i in range(N)]
        c["t2"] = list(zeros)
        c["t3"] = ["1"] * N
    return c


def _base_v2(lookups: bool) -> dict[str, Any]:
    """The base circuit in version 2: row 3 is ``a - c' = 0`` (``q_L = 1``, ``q_N = -1``)."""
    c = _base(lookups)
    c["format"] = "bigfile_zk/plonk-circuit/v2"
    c["q_l"][3] = "1"
    # §7: q_n right after q_p (dict order, so the JSON reads as the spec lists the keys).
    out: dict[str, Any] = {}
    for key, value in c.items():
        out[key] = value
        if key == "q_p":
            out["q_n"] = ["0"] * N
    out["q_n"][3] = str(R - 1)
    return out


def _case(name: str, valid: bool, rule: str, circuit: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "valid": valid, "rule": rule, "circuit": circuit}


def _mutated(lookups: bool, edit: Any, v2: bool = False) -> dict[str, Any]:
    c = copy.deepcopy(_base_v2(lookups) if v2 else _base(lookups))
    edit(c)
    return c


def circuit_vectors() -> dict[str, Any]:
    def setcol(name: str, row: int, value: str) -> Any:
        def edit(c: dict[str, Any]) -> None:
            c[name][row] = value

        return edit

    def copies(classes: list[list[list[int]]]) -> Any:
        def edit(c: dict[str, Any]) -> None:
            c["copies"] = classes

        return edit

    def poseidon_at(row: int, extra: dict[str, str] | None = None) -> Any:
        def edit(c: dict[str, Any]) -> None:
            c["q_f"][row] = "1"
            for col, value in (extra or {}).items():
                c[col][row] = value

        return edit

    def edits(*fns: Any) -> Any:
        def edit(c: dict[str, Any]) -> None:
            for fn in fns:
                fn(c)

        return edit

    def drop_key(key: str) -> Any:
        return lambda c: c.pop(key)

    def add_key(key: str, value: Any) -> Any:
        return lambda c: c.__setitem__(key, value)

    cases = [
        _case("base", True, "", _base(False)),
        _case("base with lookups", True, "", _base(True)),
        _case(
            "classes and cells in any order",
            True,
            "§7: classes in any order",
            _mutated(False, copies([[[2, 5], [0, 3]], [[1, 2], [0, 1], [0, 0]]])),
        ),
        _case("no copies", True, "", _mutated(False, copies([]))),
        _case("poseidon row", True, "", _mutated(False, poseidon_at(3))),
        _case(
            "copy class of one cell",
            False,
            "§3: classes hold at least two cells",
            _mutated(False, copies([[[0, 0], [0, 1]], [[2, 4]]])),
        ),
        _case(
            "empty copy class",
            False,
            "§3: classes hold at least two cells",
            _mutated(False, copies([[[0, 0], [0, 1]], []])),
        ),
        _case(
            "cell in two classes",
            False,
            "§3: classes are disjoint",
            _mutated(False, copies([[[0, 0], [0, 1]], [[0, 1], [2, 2]]])),
        ),
        _case(
            "cell twice in one class",
            False,
            "§3: classes are disjoint",
            _mutated(False, copies([[[0, 0], [0, 1], [0, 0]]])),
        ),
        _case(
            "cell row out of range",
            False,
            "§7: cells are [col, row] of the circuit",
            _mutated(False, copies([[[0, 0], [0, N]]])),
        ),
        _case(
            "cell column out of range",
            False,
            "§7: cells are [col, row] of the circuit",
            _mutated(False, copies([[[0, 0], [3, 1]]])),
        ),
        _case(
            "cell of three numbers",
            False,
            "§7: a cell is [col, row]",
            _mutated(False, copies([[[0, 0], [0, 1, 0]]])),
        ),
        _case(
            "lookup table all zero",
            False,
            "§3: a lookup circuit's T3 is not all zero",
            _mutated(True, lambda c: c.__setitem__("t3", ["0"] * N)),
        ),
        _case(
            "q_f and q_p both set",
            False,
            "§3: q_F·q_P = 0",
            _mutated(False, poseidon_at(3, {"q_p": "1"})),
        ),
        _case("q_f not 0/1", False, "§3: q_F, q_P are 0/1", _mutated(False, setcol("q_f", 3, "2"))),
        _case(
            "poseidon on the last row",
            False,
            "§3: a Poseidon row is not row n - 1",
            _mutated(False, poseidon_at(N - 1)),
        ),
        _case(
            "poseidon row with q_m",
            False,
            "§3: a Poseidon row has q_M = q_O = 0",
            _mutated(False, poseidon_at(3, {"q_m": "1"})),
        ),
        _case(
            "public-input row with q_c",
            False,
            "§3: public-input rows have q_L = 1 and every other selector 0",
            _mutated(False, setcol("q_c", 0, "5")),
        ),
        _case(
            "public-input row with q_k",
            False,
            "§3: public-input rows have q_L = 1 and every other selector 0",
            _mutated(True, setcol("q_k", 0, "1")),
        ),
        _case("q_k not 0/1", False, "§3: q_K is 0/1", _mutated(True, setcol("q_k", 2, "2"))),
        _case(
            "num_public = n",
            False,
            "§3: public inputs fit the rows",
            _mutated(False, lambda c: c.__setitem__("num_public", N)),
        ),
        _case("k below 3", False, "§3: 3 <= k", _mutated(False, lambda c: c.__setitem__("k", 2))),
        _case(
            "k of 2^32 + 3",
            False,
            "§7: k is the circuit's (no wrap-around)",
            _mutated(False, lambda c: c.__setitem__("k", 2**32 + 3)),
        ),
        _case(
            "column too short",
            False,
            "§7: n values per column",
            _mutated(False, lambda c: c["q_c"].pop()),
        ),
        _case(
            "value r",
            False,
            "§7: canonical decimals < r",
            _mutated(False, setcol("q_c", 4, str(R))),
        ),
        _case(
            "leading zero", False, "§7: canonical decimals", _mutated(False, setcol("q_c", 4, "07"))
        ),
        _case("missing key", False, "§7: exactly these keys", _mutated(False, drop_key("q_c"))),
        _case("extra key", False, "§7: exactly these keys", _mutated(False, add_key("note", "x"))),
        _case(
            "lookup columns without lookups",
            False,
            "§7: q_k t1 t2 t3 only when lookups",
            _mutated(True, lambda c: c.__setitem__("lookups", False)),
        ),
        # Version 2 (§3, §7): q_N.
        _case("v2 base", True, "", _base_v2(False)),
        _case("v2 base with lookups", True, "", _base_v2(True)),
        _case(
            "v2 q_n on a lookup row",
            True,
            "§3 does not restrict q_N on lookup rows",
            _mutated(True, setcol("q_n", 2, "7"), v2=True),
        ),
        _case(
            "v2 q_n on row n - 2, before a Poseidon row and on a q_o row",
            True,
            "§3: only row n - 1 is excluded",
            _mutated(
                False,
                edits(
                    setcol("q_n", N - 2, "1"),
                    setcol("q_n", 1, "2"),
                    poseidon_at(5),
                    setcol("q_n", 4, "3"),
                ),
                v2=True,
            ),
        ),
        _case(
            "v2 q_n on a Poseidon row",
            False,
            "§3: q_N is 0 on Poseidon rows",
            _mutated(False, poseidon_at(3), v2=True),
        ),
        _case(
            "v2 q_n on the last row",
            False,
            "§3: q_N is 0 on row n - 1",
            _mutated(False, setcol("q_n", N - 1, "1"), v2=True),
        ),
        _case(
            "v2 q_n on a public-input row",
            False,
            "§3: q_N is 0 on public-input rows",
            _mutated(False, setcol("q_n", 0, "1"), v2=True),
        ),
        _case(
            "v2 q_n all zero",
            False,
            "§3: a version-2 circuit's q_N is not all zero",
            _mutated(False, setcol("q_n", 3, "0"), v2=True),
        ),
        _case(
            "v2 q_n all zero with lookups",
            False,
            "§3: a version-2 circuit's q_N is not all zero",
            _mutated(True, setcol("q_n", 3, "0"), v2=True),
        ),
        _case(
            "format v1 with q_n",
            False,
            "§7: q_n only in /v2",
            _mutated(False, add_key("format", "bigfile_zk/plonk-circuit/v1"), v2=True),
        ),
        _case(
            "format v2 without q_n",
            False,
            "§7: /v2 has q_n",
            _mutated(False, add_key("format", "bigfile_zk/plonk-circuit/v2")),
        ),
        _case(
            "format v3",
            False,
            "§7: the format is /v1 or /v2",
            _mutated(False, add_key("format", "bigfile_zk/plonk-circuit/v3"), v2=True),
        ),
        _case(
            "v2 q_n too short",
            False,
            "§7: n values per column",
            _mutated(False, lambda c: c["q_n"].pop(), v2=True),
        ),
        _case(
            "v2 q_n value r",
            False,
            "§7: canonical decimals < r",
            _mutated(False, setcol("q_n", 4, str(R)), v2=True),
        ),
    ]
    return {
        "description": (
            "Circuits of plonk.md §7 and whether §3/§7 allow them; implementations accept exactly "
            "the valid ones"
        ),
        "cases": cases,
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    write(out / "plonk_circuits.json", circuit_vectors())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
