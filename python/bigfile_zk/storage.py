"""Proof-of-storage (``docs/spec/proof-of-storage.md``): prove that a file committed with
:func:`bigfile_zk.commit_file` is still held, for a challenge seed the prover cannot choose.

>>> c = bigfile_zk.commit_file("data.bin", tree="data.bin.bfzt")   # doctest: +SKIP
>>> provider = "0x" + "11" * 20
>>> proof = prove("data.bin", c, seed=1234, prover=provider, srs=srs, tree="data.bin.bfzt")
>>> verify(proof, commitment=c, seed=1234, prover=provider, srs=srs)
True

The verifier checks the proof against the statement **it** expects: the commitment it
registered, the seed the chain fixed for this file and epoch (``StorageRegistry.seed``), and
the provider it pays. The statement a proof file carries is the prover's claim and is never
trusted: a provider free to name its own seed could search seeds off chain until every
challenge lands on data it kept.

Proving may use the insecure test SRS (it warns); verifying against it, or generating a
verifier contract from it, raises :class:`~bigfile_zk.errors.InsecureSRSError` unless the
caller opts in with ``allow_insecure_srs=True``.

One proving key serves every file size for a parameter set ``k`` (challenges per proof:
4, 16 or 64); keys are derived once per ``(k, SRS)`` and cached in memory and on disk
(:func:`cache_dir`).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bigfile_zk import _cache, _io, _native
from bigfile_zk._cache import cache_dir
from bigfile_zk._native import SRS, FileCommitment
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import (
    CommitmentMismatchError,
    DecodeError,
    FieldElementError,
    InsecureSRSError,
    InsecureSRSWarning,
    ParameterError,
)
from bigfile_zk.field import from_hex
from bigfile_zk.plonk import Proof, ProvingKey, VerifyingKey

__all__ = [
    "DEFAULT_K",
    "PARAMETER_SETS",
    "StorageProof",
    "cache_dir",
    "challenges",
    "default_srs",
    "key_path",
    "keys",
    "parse_address",
    "parse_commitment",
    "parse_seed",
    "prove",
    "srs_degree",
    "srs_digest",
    "statement_differences",
    "verify",
]

PARAMETER_SETS = (4, 16, 64)
DEFAULT_K = 16
_SRS_DEGREE = {4: 5 * 2**14 + 9, 16: 5 * 2**16 + 9, 64: 5 * 2**18 + 9}
_KEYS: dict[tuple[int, str], tuple[ProvingKey, VerifyingKey]] = {}


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k not in PARAMETER_SETS:
        raise ParameterError(f"unknown parameter set k = {k!r}: use one of {PARAMETER_SETS}")
    return k


def srs_degree(k: int) -> int:
    """The SRS max degree parameter set ``k`` needs (``5n + 9`` for its ``n`` rows)."""
    return _SRS_DEGREE[_check_k(k)]


def default_srs(k: int = DEFAULT_K, *, cache: bool = True) -> SRS:
    """The embedded insecure test SRS, just large enough for parameter set ``k``. Its τ is
    public: proofs against it prove nothing (it warns). Pass a real ceremony's SRS instead.

    Deriving it takes seconds at ``k = 64``; it is kept in memory and, with ``cache``, in
    :func:`cache_dir` (checked against a fresh derivation's first points on load).
    """
    srs = _cache.insecure_test_srs(_SRS_DEGREE[_check_k(k)], cache=cache)
    warnings.warn(
        "proof-of-storage with the insecure test SRS: anyone can forge these proofs; load a "
        "ceremony with SRS.from_ptau for production",
        InsecureSRSWarning,
        stacklevel=2,
    )
    return srs


def srs_digest(srs: SRS, k: int = DEFAULT_K) -> str:
    """SHA-256 (hex) of the part of ``srs`` that parameter set ``k``'s keys depend on: it names
    the cached keys, so keys of one ceremony are never used with another."""
    degree = srs_degree(k)
    if srs.max_degree < degree:
        raise ParameterError(
            f"the SRS is too small for parameter set k = {k}: it has max degree "
            f"{srs.max_degree}, the storage circuit needs {degree} (5n + 9 for n = "
            f"{(degree - 9) // 5} rows; a .ptau of 2^{(degree - 1).bit_length()} powers or more)"
        )
    return _cache.srs_digest(srs, degree)


def key_path(k: int, srs: SRS) -> Path:
    """Where :func:`keys` caches the proving key of ``(k, srs)``."""
    return cache_dir() / "keys" / f"storage-k{_check_k(k)}-{srs_digest(srs, k)[:32]}.pkc"


def keys(
    k: int = DEFAULT_K, srs: SRS | None = None, *, cache: bool = True
) -> tuple[ProvingKey, VerifyingKey]:
    """The storage circuit's keys for ``k`` challenges and ``srs`` (default: the insecure test
    SRS). Derived once per ``(k, SRS)``: kept in memory and, with ``cache``, on disk under
    :func:`cache_dir` as ``keys/storage-k{k}-{srs digest}.pkc`` (the prover's columns as
    stored by ``ProvingKey.save_cache``), written atomically. A cached key is not trusted: every
    column is checked against this version's circuit and ``srs`` (random linear combinations
    and a random evaluation; ``plonk.md`` §3.1); otherwise it is replaced, with a warning."""
    k = _check_k(k)
    srs = srs if srs is not None else default_srs(k, cache=cache)
    return _cache.cached_keys(
        _KEYS,
        (k, srs_digest(srs, k)),
        key_path(k, srs),
        lambda path: _native.storage_load_key(path, k, srs),
        lambda: _native.storage_setup(k, srs)[0],
        cache,
    )


def parse_seed(seed: object) -> int:
    """A seed given as an int, a decimal string or a ``0x`` hex string (a field element)."""
    if isinstance(seed, bool):
        raise TypeError("a seed is an int or a decimal/0x-hex string, not a bool")
    if isinstance(seed, int):
        value = seed
    elif isinstance(seed, str):
        text = seed.strip()
        if text.startswith("0x"):
            value = from_hex(text)
        elif text.isascii() and text.isdigit():
            value = int(text)
        else:
            raise ParameterError(f"seed {seed!r} is neither decimal nor 0x-hex")
    else:
        raise TypeError(f"a seed is an int or a decimal/0x-hex string, not {type(seed).__name__}")
    if not 0 <= value < _native.MODULUS:
        raise ParameterError(f"seed {seed!r} is not a field element (0 <= seed < r)")
    return value


def parse_address(prover: object) -> int:
    """An EVM address (``0x`` + 40 hex digits, or an int below 2^160) as an integer."""
    if isinstance(prover, bool):
        raise TypeError("a prover address is a 0x string or an int, not a bool")
    if isinstance(prover, int):
        if not 0 <= prover < 2**160:
            raise ParameterError(f"prover {prover} is not a 20-byte address")
        return prover
    if isinstance(prover, str):
        text = prover.strip()
        digits = text[2:] if text.lower().startswith("0x") else ""
        if len(digits) != 40 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
            raise ParameterError(f"prover {prover!r} is not a 0x-prefixed 20-byte address")
        return int(digits, 16)
    raise TypeError(f"a prover address is a 0x string or an int, not {type(prover).__name__}")


def parse_commitment(commitment: object) -> int:
    """A file commitment ``C`` given as a :class:`FileCommitment` (its ``.commitment``), an int,
    or a decimal/``0x``-hex string (a field element)."""
    if isinstance(commitment, FileCommitment):
        return commitment.commitment
    if isinstance(commitment, bool):
        raise TypeError("a commitment is a FileCommitment, an int or a string, not a bool")
    if isinstance(commitment, int):
        value = commitment
    elif isinstance(commitment, str):
        text = commitment.strip()
        if text.startswith("0x"):
            value = from_hex(text)
        elif text.isascii() and text.isdigit():  # not "٣": str.isdigit takes any script's
            value = int(text)
        else:
            raise ParameterError(f"commitment {commitment!r} is neither decimal nor 0x-hex")
    else:
        raise TypeError(
            "a commitment is a FileCommitment, an int or a decimal/0x-hex string, not "
            f"{type(commitment).__name__}"
        )
    if not 0 <= value < _native.MODULUS:
        raise FieldElementError(f"commitment {commitment!r} is not a field element (0 <= C < r)")
    return value


def challenges(seed: object, prover: object, num_chunks: int, k: int = DEFAULT_K) -> list[int]:
    """The chunk indices the circuit challenges for ``(seed, prover)``."""
    return _native.storage_challenges(
        parse_seed(seed), parse_address(prover), _check_k(k), num_chunks
    )


@dataclass(frozen=True)
class StorageProof:
    """A storage proof and the statement its prover claims (self-describing JSON,
    ``to_json``). The claim is informative only: :func:`verify` checks the proof against the
    statement the verifier expects, never against these fields.

    ``insecure_test_srs`` says whether the proving key was made with the insecure test SRS
    (``True``/``False``; ``None`` for a file written before this field existed). Also only a
    claim: whether a proof is trusted depends on the verifier's key, not on this field.
    """

    k: int
    commitment: int
    seed: int
    prover: int
    proof: Proof
    insecure_test_srs: bool | None = None

    @property
    def public_inputs(self) -> list[int]:
        """In the order ``verifyProof`` takes them: commitment, seed, prover."""
        return [self.commitment, self.seed, self.prover]

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": "bigfile_zk.StorageProof",
                "version": 1,
                "parameter_set": {"k": self.k, "chunk_size": 992, "arity": 2},
                "commitment": f"0x{self.commitment:064x}",
                "seed": str(self.seed),
                "prover": f"0x{self.prover:040x}",
                "public_inputs": [str(x) for x in self.public_inputs],
                "proof": "0x" + self.proof.to_evm_bytes().hex(),
                **(
                    {}
                    if self.insecure_test_srs is None
                    else {"insecure_test_srs": self.insecure_test_srs}
                ),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> StorageProof:
        """The proof ``to_json`` wrote. Any other input, whatever its shape (not JSON, not an
        object, wrong types, values out of range), raises
        :class:`~bigfile_zk.errors.DecodeError`."""
        obj = _io.json_object(text, "storage proof")
        try:
            version = obj.get("version")
            if obj.get("type") != "bigfile_zk.StorageProof" or not (
                type(version) is int and version == 1
            ):
                raise DecodeError("not a version-1 bigfile_zk.StorageProof")
            params = obj["parameter_set"]
            if not isinstance(params, dict):
                raise DecodeError("parameter_set is not a JSON object")
            k = _check_k(params["k"])
            commitment = from_hex(obj["commitment"])
            seed = parse_seed(obj["seed"])
            prover = parse_address(obj["prover"])
            public = obj["public_inputs"]
            if not isinstance(public, list) or not all(
                isinstance(x, str) and x.isascii() and x.isdigit() for x in public
            ):
                raise DecodeError("public_inputs is not a list of decimal strings")
            public = [int(x) for x in public]
            raw = obj["proof"]
            if not isinstance(raw, str) or not raw.startswith("0x"):
                raise DecodeError("proof is not 0x-hex")
            data = bytes.fromhex(raw[2:])
            insecure = obj.get("insecure_test_srs")
            if insecure is not None and not isinstance(insecure, bool):
                raise DecodeError("insecure_test_srs is not true or false")
        except DecodeError as exc:
            raise DecodeError(f"malformed storage proof JSON: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DecodeError(f"malformed storage proof JSON: {what}") from None
        if public != [commitment, seed, prover]:
            raise DecodeError("public_inputs do not match commitment, seed and prover")
        proof = Proof.from_bytes(b"BFPF\x01\x00" + data, public)
        return cls(k, commitment, seed, prover, proof, insecure)


def prove(
    file: str | os.PathLike[str] | BinaryIO,
    commitment: FileCommitment,
    seed: object,
    prover: object,
    *,
    k: int = DEFAULT_K,
    srs: SRS | None = None,
    tree: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> StorageProof:
    """Prove that ``file`` still matches ``commitment`` for the challenge ``(seed, prover)``.

    ``file`` is a path, or a binary reader with ``seek`` and ``read`` (an open file,
    ``io.BytesIO``, a wrapper around remote storage). With the commitment's ``tree`` file only
    the ``k`` challenged chunks (and the stored nodes of their paths) are read; without one the
    whole file is read and hashed once. A changed file raises
    :class:`~bigfile_zk.errors.CommitmentMismatchError` naming the chunks that differ (with a
    tree file). The GIL is released; progress bars show reading and proving; Ctrl-C stops it.
    ``on_progress(n)`` gets the raw counter instead: reading units (chunks with a tree file,
    bytes without), then that total plus the proving step.
    """
    k = _check_k(k)
    s, p = parse_seed(seed), parse_address(prover)
    pk, _ = keys(k, srs)
    reader = file if hasattr(file, "read") and hasattr(file, "seek") else None
    if reader is None and not isinstance(file, (str, os.PathLike)):
        raise TypeError(f"file is a path or a binary reader (seek/read), not {type(file).__name__}")
    if reader is not None:
        position = reader.tell()
        size = reader.seek(0, os.SEEK_END)
        if size != commitment.file_size:
            raise CommitmentMismatchError(
                f"the reader holds {size} bytes but the commitment is for "
                f"{commitment.file_size} bytes"
            )
    tree_path = os.fspath(tree) if tree else None
    read_total = k if tree else commitment.file_size
    what, unit = ("reading challenged chunks", "chunk") if tree else ("hashing the file", "B")
    bars = False if on_progress is not None else progress  # the caller reports instead
    with (
        ProgressReporter(read_total, what, bars, unit=unit) as reading,
        ProgressReporter(_native.PROVE_STEPS, "proving", bars, unit="step") as proving,
    ):

        def report(done: int) -> None:
            if done <= read_total:
                reading(done)
            else:
                reading(read_total)
                proving(done - read_total)

        callback = on_progress or report
        if reader is None:
            proof = _native.storage_prove(
                pk, k, os.fspath(file), commitment, s, p, tree_path, callback
            )
        else:
            name = str(getattr(reader, "name", f"<{type(reader).__name__}>"))
            try:
                proof = _native.storage_prove_reader(
                    pk, k, reader, name, commitment, s, p, tree_path, callback
                )
            finally:
                reader.seek(position)  # as the caller left it
    return StorageProof(k, commitment.commitment, s, p, proof, pk.vk.is_insecure)


def _log_rows(k: int) -> int:
    """log2 of the storage circuit's row count for parameter set ``k`` (14, 16, 18)."""
    return ((_SRS_DEGREE[k] - 9) // 5).bit_length() - 1


def statement_differences(
    proof: StorageProof,
    *,
    commitment: object,
    seed: object,
    prover: object,
    k: int = DEFAULT_K,
) -> list[str]:
    """The fields of the statement ``proof`` claims (``k``, ``commitment``, ``seed``,
    ``prover``) that differ from the expected one; ``[]`` when they agree. For messages only:
    :func:`verify` is the check."""
    expected = {
        "k": _check_k(k),
        "commitment": parse_commitment(commitment),
        "seed": parse_seed(seed),
        "prover": parse_address(prover),
    }
    return [name for name, value in expected.items() if getattr(proof, name) != value]


def verify(
    proof: StorageProof,
    *,
    commitment: object,
    seed: object,
    prover: object,
    k: int = DEFAULT_K,
    srs: SRS | None = None,
    vk: VerifyingKey | None = None,
    allow_insecure_srs: bool = False,
) -> bool:
    """Whether ``proof`` proves that ``prover`` holds the file of ``commitment`` for the
    challenge ``seed``, with ``k`` challenges: the statement the **verifier** expects.

    ``commitment`` is a :class:`FileCommitment` or ``C`` (int or 0x-hex); ``seed`` and
    ``prover`` are parsed as by :func:`parse_seed` and :func:`parse_address`. Take the seed from
    the chain (the registry's recorded seed for the file and epoch), never from the proof: the
    statement the proof file carries is the prover's claim and is only compared, never used.
    ``False`` when the proof's parameter set is not ``k`` (fewer challenges do not pass for
    more), when its claimed statement is not the expected one (:func:`statement_differences`
    names the fields), or when the proof does not verify for the expected statement. A
    malformed expected statement raises (``ParameterError``, ``FieldElementError``,
    ``TypeError``).

    The key is ``vk`` (the storage key of parameter set ``k``), else the key of ``(k, srs)``
    (:func:`keys`). Without ``srs`` that is the insecure test SRS, and a key made from it
    raises :class:`~bigfile_zk.errors.InsecureSRSError` unless ``allow_insecure_srs=True``
    (its τ is public: anyone can forge proofs it accepts).
    """
    k = _check_k(k)
    expected = [parse_commitment(commitment), parse_seed(seed), parse_address(prover)]
    if not isinstance(proof, StorageProof):
        raise TypeError(f"proof is a StorageProof, not {type(proof).__name__}")
    # The SRS policy first (no answer at all from a forgeable key), before any work.
    if vk is not None:
        if vk.is_insecure and not allow_insecure_srs:
            raise InsecureSRSError(_INSECURE_GIVEN)
        if vk.num_public != 3 or vk.lookups or vk.k != _log_rows(k):
            raise ParameterError(
                f"vk is not a storage verifying key of parameter set k = {k} (it has "
                f"2^{vk.k} rows and {vk.num_public} public inputs; k = {k} has 2^{_log_rows(k)} "
                "rows and 3)"
            )
    elif srs is None and not allow_insecure_srs:
        raise InsecureSRSError(_INSECURE_DEFAULT)
    elif srs is not None and srs.is_insecure and not allow_insecure_srs:
        raise InsecureSRSError(_INSECURE_GIVEN)
    # The proof file's own statement is the prover's claim: it must be the expected one, and
    # the proof is checked with the expected values (never the file's).
    if proof.k != k or proof.public_inputs != expected:
        return False
    if vk is None:
        if srs is None:
            with warnings.catch_warnings():  # the caller opted in explicitly
                warnings.simplefilter("ignore", InsecureSRSWarning)
                srs = default_srs(k)
        _, vk = keys(k, srs)
    return _native.plonk_verify(vk, proof.proof, expected, allow_insecure_srs=allow_insecure_srs)


_INSECURE_DEFAULT = (
    "storage.verify without srs or vk would verify against the insecure test SRS (its τ is "
    "public, so anyone can forge a proof it accepts): pass the ceremony's srs "
    "(SRS.from_ptau) or its vk, or allow_insecure_srs=True for tests and demos"
)
_INSECURE_GIVEN = (
    "the verifying key was made with the insecure test SRS (its τ is public, so anyone can "
    "forge a proof it accepts): use a ceremony SRS (SRS.from_ptau), or pass "
    "allow_insecure_srs=True for tests and demos"
)
