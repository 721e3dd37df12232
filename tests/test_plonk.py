"""``bigfile_zk.plonk`` (the Rust prover through Python) against the spec and the reference.

The Rust prover and the independent pure-Python reference (``bigfile_zk.reference.plonk``)
must agree byte for byte: same verifying key, same proof for the same blinding, and each
verifier accepts the other's proofs. Circuits here are made with the native builder and
exported in the interchange format of ``docs/spec/plonk.md`` §7.
"""

from __future__ import annotations

import functools
import warnings

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import bigfile_zk
from bigfile_zk import SRS, plonk
from bigfile_zk.errors import (
    DecodeError,
    FieldElementError,
    InsecureSRSError,
    ParameterError,
    UnsatisfiedError,
)
from bigfile_zk.reference import plonk as ref
from bigfile_zk.reference.field import R

SEED = 5
MAX_DEGREE = 5 * 1024 + 9

PROVING = settings(max_examples=4, deadline=None, phases=(Phase.explicit, Phase.generate))


@functools.cache
def srs() -> SRS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SRS.insecure_for_testing(MAX_DEGREE, SEED)


@functools.cache
def ref_srs(max_degree: int) -> ref.Srs:
    return ref.Srs.insecure(max_degree, SEED)


def square(b: plonk.Builder) -> None:
    x = b.private_input("x")
    y = b.public_input("y")
    with b.label("square"):
        b.assert_equal(b.mul(x, x), y)


def test_prove_verify_and_encodings() -> None:
    pk = plonk.setup(square, srs())
    proof = plonk.prove(pk, square, {"x": 3, "y": 9})
    assert len(proof) == 768 and len(proof.to_evm_bytes()) == 768
    assert proof.public_inputs == [9]
    assert plonk.verify(pk.vk, proof, [9], allow_insecure_srs=True)
    # A false statement is False; a malformed one (not the key's statement shape) raises.
    assert not plonk.verify(pk.vk, proof, [10], allow_insecure_srs=True)
    for malformed, error in (
        ([9 + R], FieldElementError),
        ([R], FieldElementError),
        ([-1], FieldElementError),
        ([], ParameterError),
        ([9, 9], ParameterError),
        ([True], TypeError),
        (["9"], TypeError),
    ):
        with pytest.raises(error):
            plonk.verify(pk.vk, proof, malformed, allow_insecure_srs=True)
    again = plonk.Proof.from_bytes(proof.to_bytes())
    assert plonk.verify(pk.vk, again, [9], allow_insecure_srs=True)
    vk = plonk.VerifyingKey.from_bytes(pk.vk.to_bytes())
    assert vk == pk.vk and len(vk.digest()) == 32
    # A scalar moved by one, and truncated bytes.
    data = bytearray(proof.to_bytes())
    data[-1] ^= 1
    assert not plonk.verify(
        pk.vk, plonk.Proof.from_bytes(bytes(data)), [9], allow_insecure_srs=True
    )
    with pytest.raises(DecodeError):
        plonk.Proof.from_bytes(proof.to_bytes()[:-1])
    with pytest.raises(DecodeError):
        plonk.VerifyingKey.from_bytes(pk.vk.to_bytes()[:-1])


def test_insecure_test_srs_is_refused_without_the_opt_in() -> None:
    """Every SRS of SRS.insecure_for_testing (seeds 0..255) is recognised, and so is every key
    made from one: verifying and generating a verifier refuse it unless told otherwise."""
    pk = plonk.setup(square, srs())
    proof = plonk.prove(pk, square, {"x": 3, "y": 9})
    assert srs().is_insecure and pk.vk.is_insecure
    assert plonk.VerifyingKey.from_bytes(pk.vk.to_bytes()).is_insecure  # survives encoding
    with pytest.raises(InsecureSRSError, match="insecure test SRS"):
        plonk.verify(pk.vk, proof, [9])
    with pytest.raises(InsecureSRSError):  # refused before the statement is even looked at
        plonk.verify(pk.vk, proof, [10])
    with pytest.raises(InsecureSRSError):
        pk.vk.to_solidity("SquareVerifier")
    assert plonk.verify(pk.vk, proof, [9], allow_insecure_srs=True)
    source = pk.vk.to_solidity("SquareVerifier", allow_insecure_srs=True)
    assert "bool public constant INSECURE_TEST_SRS = true;" in source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in (0, 1, 17, 255):
            assert SRS.insecure_for_testing(8, seed).is_insecure
        with pytest.raises(ParameterError, match=r"0\.\.256"):
            SRS.insecure_for_testing(8, 256)


def test_unsatisfied_witness_names_row_and_label() -> None:
    pk = plonk.setup(square, srs())
    with pytest.raises(UnsatisfiedError, match=r"\(square\)"):
        plonk.prove(pk, square, {"x": 3, "y": 10})


def test_inputs_are_checked() -> None:
    pk = plonk.setup(square, srs())
    with pytest.raises(ParameterError, match="'x'"):
        plonk.prove(pk, square, {"y": 9})
    with pytest.raises(ValueError):
        plonk.prove(pk, square, {"x": R, "y": 9})
    with pytest.raises(TypeError):
        plonk.prove(pk, square, {"x": "3", "y": 9})

    def twice(b: plonk.Builder) -> None:
        b.private_input("x")
        b.private_input("x")

    with pytest.raises(ParameterError, match="twice"):
        plonk.build(twice)


def test_value_dependent_shape_is_refused() -> None:
    def branchy(b: plonk.Builder) -> None:
        x = b.private_input("x")
        if b.value(x) > 5:  # a circuit must not do this
            b.assert_zero(b.sub(x, x))

    pk = plonk.setup(branchy, srs())
    assert plonk.verify(pk.vk, plonk.prove(pk, branchy, {"x": 1}), [], allow_insecure_srs=True)
    with pytest.raises(ParameterError, match="differs"):
        plonk.prove(pk, branchy, {"x": 9})


def test_merkle_and_poseidon_gadgets() -> None:
    leaves = [i * i + 1 for i in range(11)]
    tree = bigfile_zk.MerkleTree(leaves, arity=2)
    index = 6
    path = tree.proof(index)

    def membership(b: plonk.Builder) -> None:
        root = b.public_input("root")
        leaf = b.private_input("leaf")
        idx = b.private_input("index")
        sibs = [b.private_inputs(f"level{i}", 1) for i in range(path.depth)]
        with b.label("path"):
            b.assert_equal(b.merkle_root(leaf, idx, sibs, 2), root)
        h = b.poseidon([leaf, idx])
        b.assert_equal(h, b.public_input("h"))

    values = {
        "root": tree.root,
        "leaf": leaves[index],
        "index": index,
        "h": bigfile_zk.poseidon([leaves[index], index]),
        **{f"level{i}": s for i, s in enumerate(path.siblings)},
    }
    pk = plonk.setup(membership, srs())
    proof = plonk.prove(pk, membership, values)
    assert plonk.verify(pk.vk, proof, [tree.root, values["h"]], allow_insecure_srs=True)
    assert not plonk.verify(pk.vk, proof, [tree.root + 1, values["h"]], allow_insecure_srs=True)
    with pytest.raises(UnsatisfiedError, match="path/merkle"):
        plonk.prove(pk, membership, {**values, "leaf": leaves[index] + 1})


# -- Rust == reference -----------------------------------------------------------------------

OP = st.tuples(
    st.sampled_from(["add", "sub", "mul", "lin", "bool", "lookup"]),
    st.integers(0, 2**64),
    st.integers(0, 2**64),
)
OPS = st.lists(OP, min_size=1, max_size=8)
#: With spec v2's dot products (one at least, see the test) and Poseidon.
OPS_V2 = st.lists(
    st.one_of(
        OP,
        st.tuples(
            st.sampled_from(["dot", "poseidon"]), st.integers(0, 2**64), st.integers(0, 2**64)
        ),
    ),
    max_size=6,
)


def dot_terms(pool: list[int], x: int, y: int) -> list[tuple[int, int]]:
    """2..5 ``(coefficient, pool entry)`` pairs, entries repeating, coefficients of either
    sign; ``pool`` holds variables or their values alike."""
    return [(((y + j) % 1000 - 500) % R, pool[(x + 3 * j) % len(pool)]) for j in range(2 + x % 4)]


def random_circuit(ops: list[tuple[str, int, int]]) -> plonk.CircuitFn:
    """A circuit from a list of operations on a growing pool of variables."""

    def circuit(b: plonk.Builder) -> None:
        pool = [b.public_input("p0"), b.private_input("s0")]
        table = None
        for i, (op, x, y) in enumerate(ops):
            u, v = pool[x % len(pool)], pool[y % len(pool)]
            if op == "add":
                pool.append(b.add(u, v))
            elif op == "sub":
                pool.append(b.sub(u, v))
            elif op == "mul":
                pool.append(b.mul(u, v))
            elif op == "lin":
                pool.append(b.linear_combination([(x % R, u), (y % R, v)], i))
            elif op == "bool":
                b.assert_bool(b.constant(x % 2))
            elif op == "dot":
                pool.append(b.dot(dot_terms(pool, x, y), i))
            elif op == "poseidon":
                pool.append(b.poseidon([u, v]))
            else:
                if table is None:
                    table = b.add_table("square4", [(j, j * j) for j in range(16)])
                k = x % 16
                b.lookup(table, b.constant(k), b.constant(k * k))
        b.assert_equal(pool[-1], b.public_input("out"))

    return circuit


def cross_check(circuit: plonk.CircuitFn, values: dict[str, int]) -> None:
    """The circuit (exported in the §7 format) gives the same key in both implementations
    and, with the same blinding, the same proof; each verifier accepts the other's proofs."""
    native = plonk.build(circuit, values)
    native.check_witness()
    rc = ref.Circuit.from_json(native.to_json())
    rw = ref.Witness.from_json(native.witness_json())
    ref.check_witness(rc, rw)
    assert rc.version == native.version
    rsrs = ref_srs(ref.required_max_degree(native.k))
    rpk, rvk = ref.setup(rc, rsrs)
    pk = plonk.setup(circuit, srs())
    assert pk.vk.to_bytes() == rvk.to_bytes(), "verifying keys differ"
    assert pk.vk.version == rvk.version == native.version
    blinding = [(7 * j + 3) ** 5 % R for j in range(18 if native.lookups else 12)]
    proof = plonk.prove(pk, circuit, values, blinding=blinding)
    public = native.public_inputs()
    ref_proof = ref.prove(rpk, rw, blinding)
    assert proof.to_evm_bytes() == ref_proof.to_bytes(), "proofs differ"
    assert ref.verify(rvk, proof.to_evm_bytes(), public)
    assert plonk.verify(pk.vk, proof, public, allow_insecure_srs=True)
    other = ref.prove(rpk, rw, [b + 1 for b in blinding])
    assert plonk.verify(
        pk.vk, plonk.Proof.from_bytes(other.to_bfpf()), public, allow_insecure_srs=True
    )


@PROVING
@given(OPS, st.integers(0, R - 1), st.integers(0, R - 1))
def test_rust_equals_reference_on_random_circuits(
    ops: list[tuple[str, int, int]], p0: int, s0: int
) -> None:
    out = _last_pool_value(ops, p0, s0)
    cross_check(random_circuit(ops), {"p0": p0, "s0": s0, "out": out})


@PROVING
@given(OPS_V2, st.integers(0, 2**64), st.integers(0, 2**64), st.integers(0, R - 1))
def test_rust_equals_reference_on_random_v2_circuits(
    ops: list[tuple[str, int, int]], x: int, y: int, p0: int
) -> None:
    """Spec v2: dot products among ordinary gates, lookups and Poseidon (one dot at least, at
    a drawn position, so that it is followed by any gadget or by the end)."""
    ops = list(ops)
    ops.insert(x % (len(ops) + 1), ("dot", x, y))
    out = _last_pool_value(ops, p0, y % R)
    circuit = random_circuit(ops)
    assert plonk.build(circuit, {"p0": p0, "s0": y % R, "out": out}).version == 2
    cross_check(circuit, {"p0": p0, "s0": y % R, "out": out})


@PROVING
@given(OPS_V2, st.integers(0, 2**64), st.integers(0, 2**64), st.integers(0, R - 1))
def test_rust_equals_reference_on_random_v3_circuits(
    ops: list[tuple[str, int, int]], x: int, y: int, p0: int
) -> None:
    """Spec v3 (packed commitments, one multi-point opening): the v2 circuits above with a
    lookup, built packed; same keys and byte-identical proofs in both implementations."""
    ops = list(ops)
    ops.insert(x % (len(ops) + 1), ("dot", x, y))
    ops.insert(y % (len(ops) + 1), ("lookup", x, y))
    out = _last_pool_value(ops, p0, y % R)
    inner = random_circuit(ops)

    def circuit(b: plonk.Builder) -> None:
        b.set_packed(True)
        inner(b)

    native = plonk.build(circuit, {"p0": p0, "s0": y % R, "out": out})
    assert native.version == 3 and native.lookups
    cross_check(circuit, {"p0": p0, "s0": y % R, "out": out})


def _last_pool_value(ops: list[tuple[str, int, int]], p0: int, s0: int) -> int:
    pool = [p0, s0]
    for i, (op, x, y) in enumerate(ops):
        u, v = pool[x % len(pool)], pool[y % len(pool)]
        if op == "add":
            pool.append((u + v) % R)
        elif op == "sub":
            pool.append((u - v) % R)
        elif op == "mul":
            pool.append(u * v % R)
        elif op == "lin":
            pool.append(((x % R) * u + (y % R) * v + i) % R)
        elif op == "dot":
            pool.append((i + sum(c * w for c, w in dot_terms(pool, x, y))) % R)
        elif op == "poseidon":
            pool.append(bigfile_zk.poseidon([u, v]))
    return pool[-1]


def test_rust_equals_reference_with_lookups_and_poseidon() -> None:
    def circuit(b: plonk.Builder) -> None:
        x = b.private_input("x")
        b.range_check(x, 12)
        h = b.poseidon([x, b.constant(7)])
        b.assert_equal(h, b.public_input("h"))

    x = 3000
    cross_check(circuit, {"x": x, "h": bigfile_zk.poseidon([x, 7])})


def test_progress_and_interruption() -> None:
    from bigfile_zk import _native

    pk = plonk.setup(square, srs())
    built = plonk.build(square, {"x": 3, "y": 9})
    seen: list[int] = []
    proof = _native.plonk_prove(pk, built, None, seen.append)
    assert plonk.verify(pk.vk, proof, [9], allow_insecure_srs=True)
    assert seen == list(range(1, _native.PROVE_STEPS + 1))

    class Stop(Exception):
        pass

    def stop_at_3(done: int) -> None:
        if done == 3:
            raise Stop

    with pytest.raises(Stop):
        _native.plonk_prove(pk, built, None, stop_at_3)


def test_key_and_proof_encodings_from_python() -> None:
    pk = plonk.setup(square, srs())
    proof = plonk.prove(pk, square, {"x": 3, "y": 9})
    pk2 = plonk.ProvingKey.from_bytes(pk.to_bytes())
    assert pk2.vk == pk.vk
    assert plonk.verify(
        pk.vk, plonk.prove(pk2, square, {"x": 3, "y": 9}), [9], allow_insecure_srs=True
    )
    vk = plonk.VerifyingKey.from_json(pk.vk.to_json())
    p2 = plonk.Proof.from_json(proof.to_json())
    assert plonk.verify(vk, p2, [9], allow_insecure_srs=True)
    with pytest.raises(DecodeError):
        plonk.ProvingKey.from_bytes(pk.to_bytes()[:-1])
    with pytest.raises(DecodeError):
        plonk.Proof.from_json(proof.to_json().replace('"version":1', '"version":2'))


def square_chain(steps: int, c: int) -> plonk.CircuitFn:
    """``x ← x·x + c`` ``steps`` times, the result public: one ``mul_add`` row per step."""

    def circuit(b: plonk.Builder) -> None:
        x = b.private_input("x")
        y = b.public_input("y")
        for _ in range(steps):
            x = b.mul_add(x, x, constant=c)
        b.assert_equal(x, y)

    return circuit


def test_mul_add_is_one_row_and_sound() -> None:
    steps, c = 40, 7
    x = y = 3
    for _ in range(steps):
        y = (y * y + c) % R
    b = plonk.Builder({"x": x, "y": y})
    square_chain(steps, c)(b)
    assert b.num_rows == steps + 1  # the steps and the public input's row
    pk = plonk.setup(square_chain(steps, c), srs())
    proof = plonk.prove(pk, square_chain(steps, c), {"x": x, "y": y})
    assert plonk.verify(pk.vk, proof, [y], allow_insecure_srs=True)
    assert not plonk.verify(pk.vk, proof, [(y + 1) % R], allow_insecure_srs=True)
    with pytest.raises(UnsatisfiedError):
        plonk.prove(pk, square_chain(steps, c), {"x": x, "y": (y + 1) % R})

    # Every coefficient, against the formula.
    def general(b: plonk.Builder) -> None:
        p, q = b.private_input("p"), b.private_input("q")
        out = b.mul_add(p, q, mul=5, x_coeff=2, y_coeff=R - 4, constant=11)
        b.assert_equal(out, b.public_input("out"))

    want = (5 * 6 * 10 + 2 * 6 - 4 * 10 + 11) % R
    pk = plonk.setup(general, srs())
    proof = plonk.prove(pk, general, {"p": 6, "q": 10, "out": want})
    assert plonk.verify(pk.vk, proof, [want], allow_insecure_srs=True)


def test_lean_keys_prove_the_same_statement_with_no_stored_cosets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """BIGFILE_ZK_LEAN_KEYS=1 (read by the core when a key is made): the key keeps no coset
    values (its cache says eight zeros and is smaller) and its proofs verify under the same
    verifying key as a normal key's. Byte-identical proofs are checked in Rust
    (rust/core/tests/key_cache.rs), where the blinding can be fixed."""
    import os
    import subprocess
    import sys

    script = f"""
import warnings
import bigfile_zk
from bigfile_zk import SRS, plonk
warnings.simplefilter("ignore")
def circuit(b):
    s = b.private_input("s")
    acc = b.mul_add(s, s, constant=7)
    b.range_check(s, 12)
    b.assert_equal(b.poseidon([acc, s]), b.public_input("out"))
out = bigfile_zk.poseidon([1234 * 1234 + 7, 1234])
srs = SRS.insecure_for_testing(5 * 256 + 10)
pk = plonk.setup(circuit, srs)
pk.save_cache({str(tmp_path)!r} + "/k.pkc")
proof = plonk.prove(pk, circuit, {{"s": 1234, "out": out}}, progress=False)
assert plonk.verify(pk.vk, proof, [out], allow_insecure_srs=True)
assert not plonk.verify(pk.vk, proof, [out + 1], allow_insecure_srs=True)
print(pk.vk.to_bytes().hex())
"""
    out = {}
    for mode in ("0", "1"):
        env = {**os.environ, "BIGFILE_ZK_LEAN_KEYS": mode}
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stderr
        data = (tmp_path / "k.pkc").read_bytes()
        out[mode] = (run.stdout.strip(), data[7:15], len(data))
    assert out["0"][0] == out["1"][0]  # the same verifying key
    assert out["1"][1] == bytes(8) and out["0"][1] != bytes(8)
    assert out["1"][2] < out["0"][2]
