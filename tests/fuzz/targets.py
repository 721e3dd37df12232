"""Fuzz targets: one per decoder or entry point that takes outside bytes or JSON.

A target has two halves:

* ``generate(corpus, rng)`` (run in the parent): the mutated input of one case and a short
  description of the mutations, from the seed corpus (:func:`fuzz.corpus.build`);
* ``run(state, value)`` (run in a worker process): feed the input to the library. Returning
  normally is a correct result; a typed ``bigfile_zk.errors`` exception is an allowed refusal;
  :class:`Finding` (raised for semantic failures such as a mutated proof that verifies, a
  non-canonical encoding that decodes, a wrong CLI exit status) and every other exception are
  findings (see :mod:`fuzz.runner`).

Inputs are plain picklable values: ``bytes``, ``str`` or small dicts.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fuzz import corpus as C
from fuzz.mutate import BytesMutator, JsonMutator, R


class Finding(Exception):
    """A semantic failure detected by a target (not an exception of the library)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


Generate = Callable[[dict[str, Any], random.Random], tuple[Any, str]]
Run = Callable[[dict[str, Any], Any], object]


@dataclass(frozen=True)
class Target:
    name: str
    generate: Generate
    run: Run
    doc: str
    #: Entry points that open a path report I/O failures as ``OSError`` (with the errno
    #: subclass: ``FileNotFoundError``, ``IsADirectoryError``, ...), by design
    #: (``bigfile_zk.errors``): for them an ``OSError`` is an allowed refusal.
    paths: bool = False


TARGETS: dict[str, Target] = {}


def target(name: str, generate: Generate, doc: str, *, paths: bool = False) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        TARGETS[name] = Target(name, generate, run, doc, paths)
        return run

    return register


# ---------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------

LAYOUTS: dict[str, Callable[[bytes], list[Any]]] = {
    "proofs": C.proof_layout,
    "evm_proofs": lambda b: C.evm_proof_layout(len(b) > 800),
    "vks": C.vk_layout,
    "pks": C.pk_layout,
    "srs": C.srs_layout,
    "ptau": C.ptau_layout,
    "commitments": C.commitment_layout,
    "merkle": C.merkle_layout,
    "multi": C.multi_layout,
    "bfms": C.bfm_layout,
}
FIXUPS: dict[str, Callable[[bytes], bytes]] = {
    "pks": C.fix_keccak_trailer,
    "srs": C.fix_keccak_trailer,
    "bfms": C.fix_bfm,
}


def layout(fmt: str, data: bytes) -> list[Any]:
    """The layout of ``data`` as format ``fmt``; none if it does not parse (a payload that an
    earlier step already mutated)."""
    try:
        return LAYOUTS[fmt](data)
    except MemoryError:
        raise  # a walker that allocates without bound is a bug of the fuzzer, not bad data
    except Exception:
        return []


def bytes_mutator(corpus: dict[str, Any], key: str, rng: random.Random) -> BytesMutator:
    seeds = corpus[key]
    return BytesMutator(rng, seeds, [layout(key, s) for s in seeds], FIXUPS.get(key))


def gen_bytes(key: str) -> Generate:
    def generate(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
        return bytes_mutator(corpus, key, rng).mutate()

    return generate


#: Binary payloads inside JSON seeds: JSON key -> corpus key of the binary format.
PAYLOADS = {
    "proof_jsons": {"bytes": "evm_proofs"},
    "vk_jsons": {"bytes": "vks"},
    "pk_jsons": {"bytes": "pks"},
    "storage_jsons": {"proof": "evm_proofs"},
}


def json_mutator(corpus: dict[str, Any], key: str, rng: random.Random) -> JsonMutator:
    payloads = PAYLOADS.get(key, {})

    def hex_mutator(json_key: str, data: bytes) -> tuple[bytes, str]:
        fmt = payloads.get(json_key)
        if fmt is None:
            m = BytesMutator(rng, [data], [[]])
        else:
            m = BytesMutator(rng, [data], [layout(fmt, data)], FIXUPS.get(fmt))
        return m.mutate(0)

    return JsonMutator(rng, corpus[key], hex_mutator)


def gen_json(key: str) -> Generate:
    def generate(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
        return json_mutator(corpus, key, rng).mutate()

    return generate


def _is_(obj: object, cls: type) -> None:
    if not isinstance(obj, cls):
        raise Finding("wrong-type", f"decoded a {type(obj).__name__}, expected {cls.__name__}")


def _canonical(what: str, data: bytes, again: bytes) -> None:
    """A strict decoder accepts only the encoding its encoder writes (no malleability)."""
    if again != data:
        diffs = (i for i, (a, b) in enumerate(zip(data, again, strict=False)) if a != b)
        first = next(diffs, min(len(data), len(again)))
        raise Finding(
            "non-canonical",
            f"{what} decoded, but re-encodes to different bytes "
            f"({len(data)} -> {len(again)} bytes; first difference at {first})",
        )


# ---------------------------------------------------------------------------------------------
# PLONK proofs, keys
# ---------------------------------------------------------------------------------------------


@target("proof_bytes", gen_bytes("proofs"), "plonk.Proof.from_bytes (BFPF)")
def run_proof_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk.plonk import Proof

    p = Proof.from_bytes(data)
    _is_(p, Proof)
    _canonical("proof", data, p.to_bytes())


def gen_evm(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
    data, what = bytes_mutator(corpus, "evm_proofs", rng).mutate()
    flag = rng.choice((0, 1))
    return b"BFPF\x01" + bytes([flag]) + data, f"flags {flag}, {what}"


@target("proof_evm_bytes", gen_evm, "plonk.Proof.from_bytes of EVM proof bytes (both flags)")
def run_proof_evm(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk.plonk import Proof

    p = Proof.from_bytes(data, [1, 2, 3])
    _canonical("EVM proof", data[6:], p.to_evm_bytes())


@target("proof_json", gen_json("proof_jsons"), "plonk.Proof.from_json")
def run_proof_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk.plonk import Proof

    p = Proof.from_json(text)
    _is_(p, Proof)
    q = Proof.from_json(p.to_json())
    _canonical("proof JSON", p.to_bytes(), q.to_bytes())


@target("vk_bytes", gen_bytes("vks"), "plonk.VerifyingKey.from_bytes (BFVK)")
def run_vk_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk.plonk import VerifyingKey

    vk = VerifyingKey.from_bytes(data)
    _canonical("verifying key", data, vk.to_bytes())
    vk.digest()


@target("vk_json", gen_json("vk_jsons"), "plonk.VerifyingKey.from_json")
def run_vk_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk.plonk import VerifyingKey

    vk = VerifyingKey.from_json(text)
    _canonical("verifying key JSON", vk.to_bytes(), VerifyingKey.from_json(vk.to_json()).to_bytes())


@target("pk_bytes", gen_bytes("pks"), "plonk.ProvingKey.from_bytes (BFPK, checksum fixed up)")
def run_pk_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk.plonk import ProvingKey

    pk = ProvingKey.from_bytes(data)
    _canonical("proving key", data, pk.to_bytes())


@target("pk_json", gen_json("pk_jsons"), "plonk.ProvingKey.from_json")
def run_pk_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk.plonk import ProvingKey

    pk = ProvingKey.from_json(text)
    _is_(pk, ProvingKey)


# ---------------------------------------------------------------------------------------------
# SRS files
# ---------------------------------------------------------------------------------------------

#: Paths that are not regular files, made in the worker's scratch directory.
SPECIALS = ("/dev/null", "zero", "fifo", "dir", "missing", "loop")


def scratch(state: dict[str, Any]) -> str:
    """The worker's scratch directory, with the special files of :data:`SPECIALS`."""
    d = state.get("scratch")
    if d is None:
        d = state["scratch"] = tempfile.mkdtemp(prefix="bfzk-fuzz-")
        os.symlink("/dev/zero", os.path.join(d, "zero"))
        os.mkfifo(os.path.join(d, "fifo"))
        os.mkdir(os.path.join(d, "dir"))
        os.symlink(os.path.join(d, "loop"), os.path.join(d, "loop"))
    return str(d)


def gen_file(key: str, specials: float = 0.01) -> Generate:
    def generate(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
        if rng.random() < specials:
            name = rng.choice(SPECIALS)
            return {"special": name, "option": rng.random()}, f"special file {name}"
        data, what = bytes_mutator(corpus, key, rng).mutate()
        return {"data": data, "option": rng.random()}, what

    return generate


def _file_for(state: dict[str, Any], value: dict[str, Any], suffix: str) -> str:
    d = scratch(state)
    if "special" in value:
        special = value["special"]
        return special if special.startswith("/") else os.path.join(d, special)
    path = os.path.join(d, "input" + suffix)
    with open(path, "wb") as f:
        f.write(value["data"])
    return path


@target("srs_bytes", gen_bytes("srs"), "SRS.from_bytes (+ validate), checksum fixed up")
def run_srs_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk import SRS

    srs = SRS.from_bytes(data)
    _canonical("SRS", data, srs.to_bytes())
    srs.validate()


@target(
    "srs_load",
    gen_file("srs"),
    "SRS.load(path, validate=...) on mutated and special files",
    paths=True,
)
def run_srs_load(state: dict[str, Any], value: dict[str, Any]) -> None:
    from bigfile_zk import SRS

    path = _file_for(state, value, ".srs")
    SRS.load(path, validate=value["option"] < 0.5)


@target("ptau", gen_file("ptau"), "SRS.from_ptau on mutated and special .ptau files", paths=True)
def run_ptau(state: dict[str, Any], value: dict[str, Any]) -> None:
    from bigfile_zk import SRS

    path = _file_for(state, value, ".ptau")
    option = value["option"]
    max_degree = None if option < 0.5 else int(option * 16) - 8  # None, 0..7
    srs = SRS.from_ptau(path, max_degree=max_degree)
    if option > 0.9 and srs.max_degree >= 1:
        srs.lagrange_basis(2, ptau=path)  # the seed has no section 12: a DecodeError


# ---------------------------------------------------------------------------------------------
# File commitments, openings, Merkle proofs
# ---------------------------------------------------------------------------------------------


@target("commitment_bytes", gen_bytes("commitments"), "FileCommitment.from_bytes")
def run_commitment_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk import FileCommitment

    c = FileCommitment.from_bytes(data)
    _canonical("commitment", data, c.to_bytes())


@target("commitment_json", gen_json("commitment_jsons"), "FileCommitment.from_json")
def run_commitment_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk import FileCommitment

    c = FileCommitment.from_json(text)
    if FileCommitment.from_json(c.to_json()) != c:
        raise Finding("round-trip", "to_json/from_json changes the commitment")


@target("opening_json", gen_json("openings"), "ChunkOpening.from_json, then verify")
def run_opening_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk import ChunkOpening, FileCommitment

    o = ChunkOpening.from_json(text)
    originals = state.setdefault(
        "openings", [ChunkOpening.from_json(t) for t in state["corpus"]["openings"]]
    )
    commitments = [FileCommitment.from_json(t) for t in state["corpus"]["commitment_jsons"]]
    for c in commitments:
        ok = c.verify(o)
        if ok is not (o.verify(c)):
            raise Finding("inconsistent", "FileCommitment.verify and ChunkOpening.verify differ")
        if ok and not any((o.index, o.data) == (x.index, x.data) for x in originals):
            raise Finding(
                "soundness",
                f"a mutated opening (index {o.index}, {len(o.data)} bytes) verifies",
            )


def _merkle_check(state: dict[str, Any], p: Any) -> None:
    """A decoded proof verifies against a seed's root only if it is that seed's proof."""
    for root, _ in state["merkle_roots"]:
        # The statement is (root, index, leaf); a depth-0 proof (root = leaf) holds no arity.
        if p.verify(root) and (p.index, p.leaf, p.siblings) not in state["merkle_statements"]:
            raise Finding("soundness", f"a mutated Merkle proof verifies against {root:#x}")


@target("merkle_bytes", gen_bytes("merkle"), "MerkleProof.from_bytes, then verify")
def run_merkle_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk import MerkleProof

    p = MerkleProof.from_bytes(data)
    _canonical("Merkle proof", data, p.to_bytes())
    _merkle_check(state, p)


@target("merkle_json", gen_json("merkle_jsons"), "MerkleProof.from_json, then verify")
def run_merkle_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk import MerkleProof

    p = MerkleProof.from_json(text)
    _merkle_check(state, p)


@target("multi_bytes", gen_bytes("multi"), "MerkleMultiProof.from_bytes, then verify")
def run_multi_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk import MerkleMultiProof

    p = MerkleMultiProof.from_bytes(data)
    _canonical("Merkle multi-proof", data, p.to_bytes())
    for root in state["multi_roots"]:
        if p.verify(root) and p.to_bytes() not in state["corpus"]["multi"]:
            raise Finding("soundness", f"a mutated multi-proof verifies against {root:#x}")


@target("multi_json", gen_json("multi_jsons"), "MerkleMultiProof.from_json")
def run_multi_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk import MerkleMultiProof

    p = MerkleMultiProof.from_json(text)
    for root in state["multi_roots"]:
        if p.verify(root) and p.to_bytes() not in state["corpus"]["multi"]:
            raise Finding("soundness", f"a mutated multi-proof verifies against {root:#x}")


# ---------------------------------------------------------------------------------------------
# Proof of storage
# ---------------------------------------------------------------------------------------------


@target("storage_json", gen_json("storage_jsons"), "storage.StorageProof.from_json")
def run_storage_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk.storage import StorageProof

    sp = StorageProof.from_json(text)
    _is_(sp, StorageProof)
    again = StorageProof.from_json(sp.to_json())
    if again.public_inputs != sp.public_inputs or again.proof.to_bytes() != sp.proof.to_bytes():
        raise Finding("round-trip", "to_json/from_json changes the storage proof")


# ---------------------------------------------------------------------------------------------
# Proof of compute: model files, programs, proofs
# ---------------------------------------------------------------------------------------------


def gen_bfm(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
    """A model file mutated as bytes (length and checksum fixed up 3 times in 4), or its body
    mutated as JSON and wrapped again, re-encoded canonically most of the time so that the
    program's and the layout's checks run, not only the canonical-form check."""
    if rng.random() < 0.5:
        return bytes_mutator(corpus, "bfms", rng).mutate()
    text, what = json_mutator(corpus, "bfm_bodies", rng).mutate()
    if rng.random() < 0.7:
        from bigfile_zk import _io
        from bigfile_zk.compute import bfm

        # json_object, not json.loads: deep nesting would overflow the C stack of a process
        # that raised the recursion limit (py_ecc does, and pytest runs this in its process).
        with contextlib.suppress(ValueError):
            text, what = bfm.canonical_json(_io.json_object(text, "body")), f"{what}, canonical"
    return C.wrap_bfm(text.encode("utf-8", "surrogatepass")), f"body: {what}"


@target("bfm_bytes", gen_bfm, "compute.CompiledModel.from_bytes (.bfm; load_model)")
def run_bfm_bytes(state: dict[str, Any], data: bytes) -> None:
    from bigfile_zk import compute

    c = compute.CompiledModel.from_bytes(data)
    _is_(c, compute.CompiledModel)
    _canonical("model file", data, c.to_bytes())


@target(
    "qmodel_json", gen_json("qmodel_jsons"), "compute.QuantizedModel.from_dict, then the circuit"
)
def run_qmodel_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk import _io, _native, compute

    q = compute.QuantizedModel.from_dict(_io.json_object(text, "quantized model"))
    again = compute.QuantizedModel.from_dict(json.loads(json.dumps(q.to_dict())))
    if again.to_dict() != q.to_dict():
        raise Finding("round-trip", "to_dict/from_dict changes the program")
    # The Rust program decoder must accept what the Python one accepts (one layout, no search).
    _native.compute_circuit(json.dumps(q.to_dict()), None, 0, 0, (10, 1024, 2**32 - 1, True, True))


@target(
    "compute_proof_json",
    gen_json("compute_proof_jsons"),
    "compute.ComputeProof.from_json, then verify for the seed's statement",
)
def run_compute_proof_json(state: dict[str, Any], text: str) -> None:
    from bigfile_zk import compute
    from bigfile_zk.plonk import VerifyingKey

    p = compute.ComputeProof.from_json(text)
    q = compute.ComputeProof.from_json(p.to_json())
    if (q.public_inputs, q.num_outputs, q.vk_digest, q.insecure_test_srs) != (
        p.public_inputs,
        p.num_outputs,
        p.vk_digest,
        p.insecure_test_srs,
    ) or q.proof.to_bytes() != p.proof.to_bytes():
        raise Finding("round-trip", "to_json/from_json changes the compute proof")
    corpus = state["corpus"]
    vk = state.get("compute_vk")
    if vk is None:
        vk = state["compute_vk"] = VerifyingKey.from_bytes(corpus["compute_vk"])
        state["compute_proof"] = compute.ComputeProof.from_json(corpus["compute_proof_jsons"][0])
    ok = compute.verify(vk, p, **corpus["compute_statement"], allow_insecure_srs=True)
    if ok and p.proof.to_bytes() != state["compute_proof"].proof.to_bytes():
        raise Finding("soundness", "a mutated compute proof VERIFIES for the seed's statement")


# ---------------------------------------------------------------------------------------------
# Soundness: a mutated proof (or statement) never verifies
# ---------------------------------------------------------------------------------------------


def _verify(vk: Any, proof: Any, public: list[int]) -> bool:
    """``plonk.verify`` with the explicit opt-in: the seeds are made with the insecure test SRS
    (which is what makes them cheap; soundness against mutation does not depend on τ)."""
    from bigfile_zk import plonk

    return plonk.verify(vk, proof, public, allow_insecure_srs=True)


def gen_soundness(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
    cases = corpus["plonk_cases"]
    i = rng.randrange(len(cases))
    proof, public, _ = cases[i]
    vk_index = i
    steps = [f"proof {i}"]
    roll = rng.random()
    if roll < 0.7 or roll >= 0.9:
        m = BytesMutator(rng, [proof], [C.proof_layout(proof)])
        proof, what = m.mutate(0)
        steps.append(what)
    if roll >= 0.7:
        public = list(public)
        j = rng.randrange(len(public))
        public[j] = rng.choice(
            [public[j] + 1, public[j] - 1, 0, 1, R - 1, public[j] + R, -public[j] % R]
        )
        if rng.random() < 0.2:
            public.append(rng.choice([0, 1, public[0]]))
        steps.append(f"public {public[:4]}")
    if rng.random() < 0.05:
        vk_index = rng.randrange(len(cases))
        steps.append(f"vk {vk_index}")
    return {"seed": i, "vk": vk_index, "proof": proof, "public": public}, ", ".join(steps)


@target("soundness", gen_soundness, "mutated PLONK proofs / public inputs never verify")
def run_soundness(state: dict[str, Any], value: dict[str, Any]) -> None:
    from bigfile_zk.plonk import Proof, VerifyingKey

    proof_bytes, public, vk_bytes = state["corpus"]["plonk_cases"][value["seed"]]
    vk = VerifyingKey.from_bytes(state["corpus"]["plonk_cases"][value["vk"]][2])
    proof = Proof.from_bytes(value["proof"])
    ok = _verify(vk, proof, value["public"])
    if not isinstance(ok, bool):
        raise Finding("wrong-type", f"verify returned {ok!r}")
    same = value["proof"] == proof_bytes and value["public"] == public and vk.to_bytes() == vk_bytes
    if ok and not same:
        raise Finding("soundness", "a mutated proof or statement VERIFIES")
    if not ok and same:
        raise Finding("completeness", "the original proof does not verify")


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------

CLI_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("commit", "data.bin", "--chunk-size", "62", "--arity", "4", "--json", "-q"),
    ("commit", "data.bin", "--out", "out.json", "--tree", "new.bfzt", "-q"),
    ("open", "data.bin", "--commitment", "c.json", "--index", "3", "-q"),
    ("open", "data.bin", "--commitment", "c.json", "--index", "3", "--tree", "data.bfzt", "-q"),
    ("verifier", "--vk", "vk.bin", "--out", "V.sol"),
    ("verifier", "--vk", "vk.json", "--name", "X"),
    ("storage", "verify", "proof.json"),
    ("storage", "verify", "proof.json", "--ptau", "s.ptau"),
    ("storage", "commit", "data.bin", "--out", "sc.json", "--tree", "s.bfzt", "-q"),
    ("storage", "registry", "--out", "R.sol"),
    ("compute", "inspect", "m.bfm"),
    (
        "compute",
        "verify",
        "cproof.json",
        "--model",
        "m.bfm",
        "--input-commitment",
        "@C",
        "--job",
        "7",
        "--prover",
        C.COMPUTE_PROVIDER,
        "--insecure-test-srs",
        "-q",
    ),
    (
        "compute",
        "verify",
        "cproof.json",
        "--model",
        "m.bfm",
        "--input-commitment",
        "@C",
        "--job",
        "7",
        "--prover",
        C.COMPUTE_PROVIDER,
        "--outputs",
        "@Y",
        "--insecure-test-srs",
    ),
    ("compute", "verifier", "m.bfm", "--out", "CV.sol", "--insecure-test-srs", "-q"),
)

#: Replacement argv tokens. No subcommand that proves or derives large keys (``demo``,
#: ``storage prove``, ``storage verifier``): those take seconds by design.
CLI_TOKENS = (
    "",
    "-",
    "--",
    "-1",
    "0",
    "62",
    "63",
    "3",
    "17",
    "4294967296",
    "99999999999999999999999999",
    "1e400",
    "0x10",
    "nan",
    "--index=-1",
    "--index=999999999999",
    "--chunk-size=0",
    "--chunk-size=-62",
    "--chunk-size=4294967358",
    "--arity=3",
    "--arity=0",
    "--k=4",
    "--json",
    "--outputs=1,2,3",
    "--outputs=-15,57,-20",
    "--quantize",
    "--insecure-test-srs",
    "--job=18446744073709551616",
    "--model=cproof.json",
    "m.bfm",
    "cproof.json",
    "--out=out2.json",
    "--tree=dir",
    "--help",
    "--version",
    "a\x00b",
    "\udcff",
    "é",
    "x" * 5000,
    "missing.bin",
    ".",
    "dir",
    "data.bin",
    "c.json",
    "vk.bin",
    "vk.json",
    "proof.json",
    "s.ptau",
    "data.bfzt",
    "/dev/null",
)
CLI_SPECIALS = ("zero", "fifo", "loop")

#: Input files of the CLI cases: name -> (corpus key of its seed, mutator kind).
CLI_FILES = {
    "data.bin": ("file_data", "raw"),
    "c.json": ("commitment_of_file", "json:commitment_jsons"),
    "data.bfzt": ("tree_file", "raw"),
    "vk.bin": ("vks", "bytes:vks"),
    "vk.json": ("vk_jsons", "json:vk_jsons"),
    "proof.json": ("storage_jsons", "json:storage_jsons"),
    "s.ptau": ("ptau", "bytes:ptau"),
    # No checksum fixup: a mutated model that still decodes could ask for keys of seconds.
    "m.bfm": ("bfms", "raw-bytes:bfms"),
    "cproof.json": ("compute_proof_jsons", "json:compute_proof_jsons"),
}


def _seed_file(corpus: dict[str, Any], name: str) -> bytes:
    key, _ = CLI_FILES[name]
    value = corpus[key]
    if isinstance(value, list):
        value = value[0]
    return value if isinstance(value, bytes) else value.encode()


#: `compute verify`'s statement flags and values to try: other statements (exit 1), the same
#: one written otherwise (exit 0), malformed ones (exit 2).
COMPUTE_STATEMENTS = {
    "--job": ("8", "0", "0x7", "007", str(2**64 - 1), str(2**64), "-7"),
    "--prover": ("0x" + "ab" * 19 + "ac", "0x" + "AB" * 20, "0x" + "00" * 20, "0xab"),
    "--input-commitment": ("0x01", "0", "@C+1", "@Cdec", str(R), "c.json"),
    "--outputs": ("-15,57,-19", "0,0,0", "-15,57,-20", "-15, 57, -20", "1,2", "-15,57,-200"),
}


def _statement_token(corpus: dict[str, Any], token: str) -> str:
    """``@C``: the compute seed's input commitment (``@C+1``: plus one, ``@Cdec``: in
    decimal); ``@Y``: its integer outputs."""
    st = corpus["compute_statement"]
    c = st["input_commitment"]
    if token == "@C":
        return f"0x{c:064x}"
    if token == "@C+1":
        return f"0x{c + 1:064x}"
    if token == "@Cdec":
        return str(c)
    if token == "@Y":
        return ",".join(str(v - R if v > R // 2 else v) for v in st["outputs"])
    return token


def gen_cli(corpus: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
    argv = [_statement_token(corpus, a) for a in rng.choice(CLI_TEMPLATES)]
    files = {name: _seed_file(corpus, name) for name in CLI_FILES}
    steps = [" ".join(argv)]
    if argv[:2] == ["compute", "verify"] and rng.random() < 0.3:
        # Only the statement changes (well-formed files): exit 1, or 0 for the same statement.
        flag = rng.choice(sorted(COMPUTE_STATEMENTS))
        if flag in argv:
            value = _statement_token(corpus, rng.choice(COMPUTE_STATEMENTS[flag]))
            argv[argv.index(flag) + 1] = value
            steps.append(f"{flag} {value[:20]}")
        return {"argv": argv, "files": files}, "; ".join(steps)
    roll = rng.random()
    if roll < 0.55:  # mutate an input file the command reads
        names = [a for a in argv if a in files] or list(files)
        name = rng.choice(names)
        _, kind = CLI_FILES[name]
        if kind.startswith("json:"):
            text, what = json_mutator(corpus, kind[5:], rng).mutate()
            files[name] = text.encode("utf-8", "surrogatepass")
        elif kind.startswith("bytes:"):
            files[name], what = bytes_mutator(corpus, kind[6:], rng).mutate()
        elif kind.startswith("raw-bytes:"):
            seeds = corpus[kind[10:]]
            m = BytesMutator(rng, seeds, [layout(kind[10:], b) for b in seeds])
            files[name], what = m.mutate(0)
        else:
            files[name], what = BytesMutator(rng, [files[name]], [[]]).mutate(0)
        steps.append(f"{name}: {what}")
    if roll >= 0.45:  # mutate argv
        for _ in range(rng.choice((1, 1, 2, 3))):
            op = rng.randrange(5)
            pool = CLI_SPECIALS if rng.random() < 0.03 else CLI_TOKENS
            token = rng.choice(pool)
            at = rng.randrange(len(argv) + 1)
            if op == 0 and argv:
                argv[min(at, len(argv) - 1)] = token
            elif op == 1 and argv:
                del argv[min(at, len(argv) - 1)]
            elif op == 2:
                argv.insert(at, token)
            elif op == 3 and len(argv) > 1:
                i, j = rng.sample(range(len(argv)), 2)
                argv[i], argv[j] = argv[j], argv[i]
            else:
                argv.append(token)
        steps.append(f"argv {argv!r}"[:300])
    return {"argv": argv, "files": files}, "; ".join(steps)


@target("cli", gen_cli, "bigfile_zk.cli.main(argv) with mutated arguments and input files")
def run_cli(state: dict[str, Any], value: dict[str, Any]) -> None:
    from bigfile_zk import cli
    from bigfile_zk.errors import BigFileZkError
    from bigfile_zk.storage import StorageProof

    base = scratch(state)
    # One directory per case; the previous case's goes (a campaign made ~40 KiB per case, GBs).
    if (previous := state.pop("cli_work", None)) is not None:
        shutil.rmtree(previous, ignore_errors=True)
    work = state["cli_work"] = tempfile.mkdtemp(dir=base, prefix="cli-")
    for name, data in value["files"].items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(data)
    for special in ("zero", "fifo", "loop", "dir"):
        os.symlink(os.path.join(base, special), os.path.join(work, special))
    argv = value["argv"]
    out, err = io.StringIO(), io.StringIO()
    exited = False
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc: object = cli.main(argv)
            except SystemExit as e:  # argparse: usage errors (2), --help / --version (0)
                if e.code not in (0, 2):
                    raise Finding("exit-status", f"SystemExit({e.code!r})") from e
                rc, exited = e.code, True
    finally:
        os.chdir(cwd)
    if "Traceback (most recent call last)" in err.getvalue():
        raise Finding("traceback", err.getvalue()[-2000:])
    if rc not in (0, 1, 2):
        raise Finding("exit-status", f"exit status {rc!r}")
    # `storage verify`: 0 only for the original statement, 1 only for a well-formed proof.
    if argv[:2] == ["storage", "verify"] and len(argv) >= 3 and rc in (0, 1) and not exited:
        proof_arg = [a for a in argv[2:] if not a.startswith("-")]
        path = os.path.join(work, proof_arg[0]) if proof_arg else None
        try:
            with open(path or "", encoding="utf-8") as f:
                sp = StorageProof.from_json(f.read())
        except (BigFileZkError, OSError, ValueError) as exc:
            raise Finding(
                "exit-status",
                f"`storage verify` exited {rc} for input it cannot decode "
                f"({type(exc).__name__}: {str(exc)[:200]}); malformed input is status 2",
            ) from exc
        original = StorageProof.from_json(state["corpus"]["storage_jsons"][0])
        same = (
            sp.public_inputs == original.public_inputs
            and sp.proof.to_bytes() == original.proof.to_bytes()
            and sp.k == original.k
        )
        if rc == 0 and not same:
            raise Finding("soundness", "`storage verify` accepted a mutated proof")
    if argv[:2] == ["compute", "verify"] and rc in (0, 1) and not exited:
        _check_compute_verify(state, work, argv, rc)


def _check_compute_verify(state: dict[str, Any], work: str, argv: list[str], rc: object) -> None:
    """`compute verify`: 1 only for a proof and a model it can decode, 0 only for the seed's
    proof, model and statement."""
    from bigfile_zk import cli, compute
    from bigfile_zk.errors import BigFileZkError

    args = cli.build_parser().parse_args(cli._join_negative_lists(argv))
    try:
        with open(os.path.join(work, args.proof), encoding="utf-8") as f:
            p = compute.ComputeProof.from_json(f.read())
        with open(os.path.join(work, args.model), "rb") as f:
            model = f.read()
        compute.CompiledModel.from_bytes(model)
    except (BigFileZkError, OSError, ValueError) as exc:
        raise Finding(
            "exit-status",
            f"`compute verify` exited {rc} for input it cannot decode "
            f"({type(exc).__name__}: {str(exc)[:200]}); malformed input is status 2",
        ) from exc
    if rc != 0:
        return
    corpus = state["corpus"]
    seed = compute.ComputeProof.from_json(corpus["compute_proof_jsons"][0])
    st = corpus["compute_statement"]
    cwd = os.getcwd()
    os.chdir(work)
    try:
        statement = (
            cli._expected_commitment(args.input_commitment),
            cli._parse_job(args.job),
            cli.parse_address(args.prover),
        )
    finally:
        os.chdir(cwd)
    same = (
        p.proof.to_bytes() == seed.proof.to_bytes()
        and model == corpus["bfms"][0]
        and statement == (st["input_commitment"], st["job"], cli.parse_address(st["provider"]))
    )
    if not same:
        raise Finding("soundness", "`compute verify` accepted a mutated proof, model or statement")


def worker_state(corpus: dict[str, Any]) -> dict[str, Any]:
    """Per-worker state shared by every target (lazily extended by the targets)."""
    from bigfile_zk import MerkleProof

    state: dict[str, Any] = {"corpus": corpus}
    state["merkle_roots"] = [
        (MerkleProof.from_bytes(b).compute_root(), b) for b in corpus["merkle"]
    ]
    state["merkle_statements"] = [
        (q.index, q.leaf, q.siblings) for q in map(MerkleProof.from_bytes, corpus["merkle"])
    ]
    state["multi_roots"] = list(corpus["multi_roots"])
    return state


def describe(value: Any, limit: int = 600) -> str:
    """A short printable form of an input (hex for bytes, repr for text)."""
    if isinstance(value, bytes):
        h = value.hex()
        return f"bytes[{len(value)}] {h[:limit]}{'..' if len(h) > limit else ''}"
    if isinstance(value, str):
        r = repr(value)
        return f"str[{len(value)}] {r[:limit]}{'..' if len(r) > limit else ''}"
    if isinstance(value, dict):
        parts = [f"{k}={describe(v, limit // 4)}" for k, v in value.items() if k != "files"]
        if "files" in value:
            parts.append("files=" + ", ".join(f"{k}[{len(v)}]" for k, v in value["files"].items()))
        return "{" + "; ".join(parts) + "}"
    return repr(value)[:limit]


__all__ = ["TARGETS", "Finding", "Target", "describe", "json", "worker_state"]
