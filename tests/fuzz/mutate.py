"""A small deterministic, structure-aware mutation engine (bytes and JSON).

Everything here is pure Python and driven by a ``random.Random``: the same seed gives the same
mutated inputs on every machine, so a failure is reproduced by ``(target, seed, case)``.

Bytes are mutated with a *layout*: a list of :class:`Field` (offset, length, kind) that says
where the length prefixes, scalars and curve points of an encoding are, so that mutations hit
structure (huge counts, ``r``/``p`` as scalars, off-curve points, truncation at every field
boundary) rather than only random bits. JSON is mutated as a tree (type confusion at every
path, huge numbers, deep nesting, lone surrogates, duplicate/missing/extra keys, bad hex) and
written back with a serializer that can emit text :mod:`json` never would (``1e400``,
``10**5000`` as digits, duplicate keys, ``"\\ud800"``).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: BN254 scalar field modulus ``r`` and base field modulus ``p``.
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583

#: At most this many bytes in one huge string / hex payload (the issue: "a few MB").
HUGE_STRING = 3 * 2**20

INTERESTING_BYTES = (0x00, 0xFF, 0x80, 0x7F, 0x01, 0xFE)
INTERESTING_SCALARS = (0, 1, R - 1, R, R + 1, P - 1, P, P + 1, 2**255, 2**256 - 1)


def _be(x: int, n: int) -> bytes:
    return (x % 2 ** (8 * n)).to_bytes(n, "big")


def _le(x: int, n: int) -> bytes:
    return (x % 2 ** (8 * n)).to_bytes(n, "little")


def _mont_le(x: int) -> bytes:
    """A base-field element as snarkjs stores it: ``x * 2^256 mod p``, 32 bytes little-endian."""
    return _le(x * 2**256 % P if x < P else x, 32)


@dataclass(frozen=True)
class Field:
    """One field of an encoding.

    ``kind``: ``magic``, ``u8``, ``u32be``, ``u32le``, ``u64be``, ``u64le`` (integers, the
    ``u32``/``u64`` ones usually lengths or counts), ``scalar`` (32-byte big-endian field
    element), ``g1``/``g2`` (64/128-byte big-endian points), ``g1mont``/``g2mont`` (the same in
    snarkjs' little-endian Montgomery form), ``bytes`` (opaque), ``checksum``.
    """

    offset: int
    length: int
    kind: str
    name: str = ""


Layout = Sequence[Field]


def _int_values(nbytes: int, current: int, total_len: int) -> list[int]:
    top = 2 ** (8 * nbytes)
    vals = {0, 1, 2, 3, 0x7F, 0x80, 0xFF, top - 1, top - 2, top // 2, top // 2 - 1}
    vals |= {current + 1, current - 1, current * 2, current + 2**16, total_len, total_len + 1}
    if nbytes >= 4:
        vals |= {0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 2**28, 2**31 - 1}
    if nbytes >= 8:
        vals |= {2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**62}
    return sorted(v % top for v in vals)


def _point_values(kind: str, data: bytes) -> list[bytes]:
    """Replacement encodings for a point field: identity, (0,0), off-curve, coordinates >= p,
    the generator, and the field with its last coordinate nudged by one."""
    n = 64 if kind.startswith("g1") else 128
    mont = kind.endswith("mont")
    coord = _mont_le if mont else (lambda x: _be(x, 32))
    out = [bytes(n), b"\xff" * n, coord(P) * (n // 32), coord(P + 1) * (n // 32)]
    if n == 64:
        out += [coord(1) + coord(2), coord(1) + coord(3), coord(0) + coord(P - 1)]
        out += [coord(1) + coord(P - 2)]  # -G (on the curve)
    else:
        out += [coord(1) * 4, data[:64] + bytes(64), bytes(64) + data[64:]]
    if len(data) == n:  # nudge: flip the low bit of the last coordinate (off the curve)
        b = bytearray(data)
        b[-1 if not mont else -32] ^= 1
        out.append(bytes(b))
        out.append(data[n // 2 :] + data[: n // 2])  # x and y swapped
    return out


class BytesMutator:
    """Mutations of one encoding, given its layout and other seeds of the same format."""

    def __init__(
        self,
        rng: random.Random,
        seeds: Sequence[bytes],
        layouts: Sequence[Layout],
        fixup: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.rng = rng
        self.seeds = list(seeds)
        self.layouts = list(layouts)
        self.fixup = fixup

    def mutate(self, which: int | None = None) -> tuple[bytes, str]:
        """A mutated seed and a short description of what was done (for reproducers)."""
        rng = self.rng
        i = rng.randrange(len(self.seeds)) if which is None else which
        data, layout = self.seeds[i], self.layouts[i]
        steps = [f"seed {i}"]
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            data, what = self._one(data, layout)
            steps.append(what)
        if self.fixup is not None and rng.random() < 0.75:
            data = self.fixup(data)
            steps.append("fixup")
        return data, ", ".join(steps)

    def _one(self, data: bytes, layout: Layout) -> tuple[bytes, str]:
        rng = self.rng
        fields = [f for f in layout if f.offset + f.length <= len(data)]
        op = rng.choices(
            ["flip", "byte", "truncate", "extend", "splice", "int", "scalar", "point", "dup"],
            weights=[10, 8, 10, 5, 5, 14, 10, 10, 4] if fields else [10, 8, 10, 5, 5, 0, 0, 0, 4],
        )[0]
        if not data and op not in ("extend", "splice"):
            op = "extend"
        if op == "flip":
            b = bytearray(data)
            for _ in range(rng.choice((1, 1, 2, 4, 8))):
                at = rng.randrange(len(b))
                b[at] ^= 1 << rng.randrange(8)
            return bytes(b), "bit flips"
        if op == "byte":
            b = bytearray(data)
            at = self._position(len(b), fields)
            b[at] = rng.choice(INTERESTING_BYTES)
            return bytes(b), f"byte {at} = {b[at]:#04x}"
        if op == "truncate":
            bounds = sorted({f.offset for f in fields} | {f.offset + f.length for f in fields})
            if bounds and rng.random() < 0.6:
                cut = rng.choice(bounds)
                cut = max(0, cut + rng.choice((0, 0, 0, -1, 1)))
            else:
                cut = rng.randrange(len(data) + 1)
            return data[:cut], f"truncate at {cut}"
        if op == "extend":
            kind = rng.randrange(4)
            n = rng.choice((1, 2, 4, 8, 31, 32, 33, 64, 1000))
            if kind == 0:
                extra = bytes(n)
            elif kind == 1:
                extra = bytes(rng.randrange(256) for _ in range(n))
            elif kind == 2:
                extra = data[-n:] if data else b"\x00"
            else:
                extra = data  # doubled
            return data + extra, f"extend by {len(extra)}"
        if op == "splice":
            j = rng.randrange(len(self.seeds))
            other = self.seeds[j]
            a = rng.randrange(len(data) + 1)
            b_ = rng.randrange(len(other) + 1)
            return data[:a] + other[b_:], f"splice {a} with seed {j} at {b_}"
        if op == "dup":
            a = rng.randrange(len(data))
            n = rng.choice((1, 4, 8, 32, 64))
            if rng.random() < 0.5:
                return data[:a] + data[a : a + n] + data[a:], f"duplicate {n} at {a}"
            return data[:a] + data[a + n :], f"delete {n} at {a}"
        # Field-aware mutations.
        want = {
            "int": ("u8", "u32be", "u32le", "u64be", "u64le"),
            "scalar": ("scalar",),
            "point": ("g1", "g2", "g1mont", "g2mont"),
        }[op]
        cands = [f for f in fields if f.kind in want] or fields
        f = rng.choice(cands)
        cur = data[f.offset : f.offset + f.length]
        if f.kind in ("u8", "u32be", "u32le", "u64be", "u64le"):
            little = f.kind.endswith("le")
            value = int.from_bytes(cur, "little" if little else "big")
            new = rng.choice(_int_values(f.length, value, len(data)))
            enc = (_le if little else _be)(new, f.length)
            what = f"{f.name or f.kind}@{f.offset} = {new:#x}"
        elif f.kind == "scalar":
            new = rng.choice(INTERESTING_SCALARS)
            enc = _be(new, 32)
            what = f"{f.name or 'scalar'}@{f.offset} = {new:#x}"
        elif f.kind in ("g1", "g2", "g1mont", "g2mont"):
            enc = rng.choice(_point_values(f.kind, cur))
            what = f"{f.name or f.kind}@{f.offset} = {enc[:8].hex()}.."
        else:
            enc = bytes(rng.randrange(256) for _ in range(f.length))
            what = f"{f.name or f.kind}@{f.offset} randomized"
        return data[: f.offset] + enc + data[f.offset + f.length :], what

    def _position(self, n: int, fields: Sequence[Field]) -> int:
        if fields and self.rng.random() < 0.6:
            f = self.rng.choice(fields)
            return min(n - 1, f.offset + self.rng.choice((0, f.length - 1, f.length // 2)))
        return self.rng.randrange(n)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text written as is (numbers and strings :func:`json.dumps` cannot produce)."""

    text: str


@dataclass(frozen=True)
class Dup:
    """An object written with one key twice (the first value, then the second)."""

    items: tuple[tuple[str, Any], ...]


def dumps(value: Any) -> str:
    """JSON text of a tree that may hold :class:`Raw` and :class:`Dup` nodes."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Dup):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


HUGE_NUMBERS = (
    "1e400",
    "-1e400",
    "1E+308",
    "4.9e-324",
    "-0",
    "0.5",
    "1.0",
    "-1",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    str(R),
    str(R + 1),
    str(2**256),
    "1" + "0" * 5000,  # 10**5000 as literal digits
    "-" + "9" * 5000,
    "1e99999999999",
)

WEIRD_STRINGS = (
    "",
    "0x",
    "0",
    "null",
    "\u0000",
    "é",
    "\U0001f600",
    "  1 ",
    "1_000",
    "+1",
    "0x" + "f" * 64,
    "0x" + "0" * 64,
    "0x" + "1" * 40,
    "٣",  # a non-ASCII digit: str.isdigit() is True
    "²",
)

LONE_SURROGATES = (r'"\ud800"', r'"\udfff"', r'"x\ud800y"', r'"\udc00\ud800"')


JSON_OPS = ("type", "number", "nest", "surrogate", "delkey", "addkey", "dupkey", "hex", "huge")
JSON_OPS += ("weird", "payload")
JSON_WEIGHTS = (20, 12, 3, 4, 8, 5, 5, 10, 2, 8, 15)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:8]):  # long lists: the first few elements are enough
            out += _paths(v, (*prefix, i))
    return out


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        tree = tree[p]
    return tree


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = _get(tree, path[:-1])
    parent[path[-1]] = value
    return tree


def _copy(tree: Any) -> Any:
    return json.loads(json.dumps(tree))


class JsonMutator:
    """Mutations of JSON documents (given as parsed trees of valid seeds).

    ``hex_mutator(key, data)`` optionally mutates the decoded bytes of a ``0x`` hex string
    (structure-aware mutation of binary payloads embedded in JSON)."""

    def __init__(
        self,
        rng: random.Random,
        seeds: Sequence[str],
        hex_mutator: Callable[[str, bytes], tuple[bytes, str]] | None = None,
    ) -> None:
        self.rng = rng
        self.texts = list(seeds)
        self.trees = [json.loads(s) for s in seeds]
        self.hex_mutator = hex_mutator

    def mutate(self) -> tuple[str, str]:
        rng = self.rng
        i = rng.randrange(len(self.trees))
        if rng.random() < 0.08:
            return self._text_level(self.texts[i]), f"seed {i}, text-level"
        tree = _copy(self.trees[i])
        steps = [f"seed {i}"]
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            tree, what = self._one(tree)
            steps.append(what)
        return dumps(tree), ", ".join(steps)

    def _one(self, tree: Any) -> tuple[Any, str]:
        rng = self.rng
        paths = _paths(tree)
        path = rng.choice(paths)
        cur = _get(tree, path) if not _contains_raw(tree, path) else None
        op = rng.choices(JSON_OPS, weights=JSON_WEIGHTS)[0]
        where = "/".join(map(str, path)) or "<root>"
        if op == "type":
            choice = rng.choice(
                [None, True, False, 0, 1, -1, 1.5, "", "x", [], [cur], {}, {"a": cur}]
            )
            return _set(tree, path, choice), f"{where} := {dumps(choice)[:40]}"
        if op == "number":
            text = rng.choice(HUGE_NUMBERS)
            return _set(tree, path, Raw(text)), f"{where} := {text[:20]}"
        if op == "nest":
            depth = rng.choice((64, 129, 1000, 100_000))
            opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
            value = Raw(opener * depth + "1" + closer * depth)
            return _set(tree, path, value), f"{where} := nesting {depth}"
        if op == "surrogate":
            text = rng.choice(LONE_SURROGATES)
            return _set(tree, path, Raw(text)), f"{where} := {text}"
        if op == "huge":
            n = rng.choice((2**16, 2**20, HUGE_STRING))
            value = rng.choice(("a" * n, "0x" + "0" * n, "0x" + "f" * n))
            return _set(tree, path, value), f"{where} := string of {len(value)}"
        if op == "weird":
            value = rng.choice(WEIRD_STRINGS)
            return _set(tree, path, value), f"{where} := {value!r}"
        if isinstance(cur, dict) and cur and op in ("delkey", "dupkey"):
            key = rng.choice(list(cur))
            if op == "delkey":
                del cur[key]
                return tree, f"{where}: delete {key!r}"
            other = rng.choice([None, 0, "x", [], cur[key]])
            items = list(cur.items())
            pos = rng.randrange(len(items) + 1)
            items.insert(pos, (key, other))
            if rng.random() < 0.5:
                items.reverse()
            return _set(tree, path, Dup(tuple(items))), f"{where}: duplicate {key!r}"
        if isinstance(cur, dict) and op == "addkey":
            key = rng.choice(("extra", "", "type", "bytes", "\u0000", "k"))
            cur[key] = rng.choice([1, None, "x", [], {}])
            return tree, f"{where}: add {key!r}"
        if isinstance(cur, str) and cur.startswith("0x") and op in ("hex", "payload"):
            digits = cur[2:]
            if op == "payload" and self.hex_mutator is not None and len(digits) % 2 == 0:
                try:
                    raw = bytes.fromhex(digits)
                except ValueError:
                    raw = None
                if raw is not None:
                    key = str(path[-1]) if path else ""
                    data, what = self.hex_mutator(key, raw)
                    return _set(tree, path, "0x" + data.hex()), f"{where} bytes: {what}"
            kind = rng.randrange(8)
            if kind == 0:
                new = cur[:-1]  # odd length
            elif kind == 1:
                new = "0x" + digits.upper()
            elif kind == 2:
                new = "0X" + digits
            elif kind == 3:
                new = digits  # no prefix
            elif kind == 4:
                at = rng.randrange(max(1, len(digits)))
                new = "0x" + digits[:at] + rng.choice("gxz- \u00e9") + digits[at + 1 :]
            elif kind == 5:
                new = "0x"
            elif kind == 6:
                new = "0x" + "0" * rng.choice((0, 2, 62, 66, 128)) + digits
            else:
                new = "0x" + digits + "00"
            return _set(tree, path, new), f"{where} := bad hex ({new[:24]}..)"
        if isinstance(cur, int) and not isinstance(cur, bool):
            value = rng.choice(
                [0, -1, 1, 2, 3, cur + 1, cur - 1, 2**31, 2**32, 2**63, 2**64, R, 2**256, 255, 256]
            )
            return _set(tree, path, value), f"{where} := {value}"
        if isinstance(cur, list) and cur:
            if rng.random() < 0.5:
                cur.pop(rng.randrange(len(cur)))
                return tree, f"{where}: drop an element"
            cur.append(copy.deepcopy(rng.choice(cur)))
            return tree, f"{where}: extra element"
        # Fall back to type confusion.
        choice = rng.choice([None, 0, "", [], {}])
        return _set(tree, path, choice), f"{where} := {dumps(choice)}"

    def _text_level(self, text: str) -> str:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0:
            return text[: rng.randrange(len(text) + 1)]
        if kind == 1:
            return rng.choice(("[]", "null", "1", "1e400", '"x"', "true", "{}", "", " "))
        if kind == 2:
            return "[" * 100_000 + "]" * 100_000
        if kind == 3:
            at = rng.randrange(len(text) + 1)
            return text[:at] + "\ud800" + text[at:]  # a lone surrogate in the str itself
        if kind == 4:
            return text + rng.choice((" ", "x", "{}", "\u0000", "\n" * 3))
        at = rng.randrange(len(text))
        return text[:at] + chr(rng.randrange(32, 127)) + text[at + 1 :]


def _contains_raw(tree: Any, path: tuple[Any, ...]) -> bool:
    node = tree
    for p in path:
        if isinstance(node, (Raw, Dup)):
            return True
        node = node[p]
    return isinstance(node, (Raw, Dup))
