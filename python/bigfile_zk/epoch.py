"""Epoch proof-of-storage (``docs/spec/proof-of-storage-epoch.md``): one proof per provider
per epoch over its whole **catalogue** of files, whatever their number.

>>> cat = Catalogue()
>>> slot = cat.add(bigfile_zk.commit_file("a.bin", tree="a.bin.bfzt"))   # doctest: +SKIP
>>> proof = prove_epoch(cat, {slot: ("a.bin", "a.bin.bfzt")}, seed=s, prover=p, srs=srs)
>>> verify_epoch(proof, catalogue=cat.commitment, seed=s, prover=p, srs=srs)
True

The catalogue is a depth-16 Poseidon tree of file commitments (``0`` for an empty slot) and
its commitment ``K = Poseidon(treeRoot, count)``. The proof samples ``m`` slots and ``k``
chunks of each from the epoch seed. As for single files, the verifier checks the statement
**it** expects (the registry's ``K`` for the provider, the chain's seed, the provider), never
the one a proof file claims. Keys are derived once per ``(m, k, SRS)`` and cached like
:func:`bigfile_zk.storage.keys`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bigfile_zk import _cache, _io, _native
from bigfile_zk._cache import cache_dir
from bigfile_zk._native import SRS, FileCommitment
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import DecodeError, InsecureSRSError, InsecureSRSWarning, ParameterError
from bigfile_zk.field import from_hex
from bigfile_zk.plonk import Proof, ProvingKey, VerifyingKey
from bigfile_zk.storage import parse_address, parse_commitment, parse_seed

__all__ = [
    "CATALOGUE_DEPTH",
    "DEFAULT_PARAMS",
    "MAX_FILES",
    "PARAMETER_SETS",
    "Catalogue",
    "EpochProof",
    "keys",
    "prove_epoch",
    "verify_epoch",
]

CATALOGUE_DEPTH = 16
MAX_FILES = 2**CATALOGUE_DEPTH
#: ``(m, k)``: ``m`` sampled files, ``k`` chunks each. The first is the default.
PARAMETER_SETS = ((40, 1), (80, 1))
DEFAULT_PARAMS = PARAMETER_SETS[0]
_LOG_ROWS = {(40, 1): 18, (80, 1): 19}
_KEYS: dict[tuple[tuple[int, int], str], tuple[ProvingKey, VerifyingKey]] = {}
_MAX_CATALOGUE_JSON = 64 * 2**20  # 2^16 slots of ~300 bytes, with room
_CATALOGUE_TYPE = "bigfile_zk.Catalogue"
_PROOF_TYPE = "bigfile_zk.EpochProof"


def _check_params(params: object) -> tuple[int, int]:
    if (
        not isinstance(params, tuple)
        or len(params) != 2
        or not all(type(x) is int for x in params)
        or params not in PARAMETER_SETS
    ):
        raise ParameterError(
            f"unknown epoch parameter set {params!r}: use one of {PARAMETER_SETS} ((m, k))"
        )
    return params[0], params[1]


def srs_degree(params: tuple[int, int] = DEFAULT_PARAMS) -> int:
    """The SRS max degree parameter set ``(m, k)`` needs (``5n + 9``)."""
    return 5 * 2 ** _LOG_ROWS[_check_params(params)] + 9


def _default_srs(params: tuple[int, int], cache: bool) -> SRS:
    srs = _cache.insecure_test_srs(srs_degree(params), cache=cache)
    warnings.warn(
        "epoch proof-of-storage with the insecure test SRS: anyone can forge these proofs; "
        "load a ceremony with SRS.from_ptau for production",
        InsecureSRSWarning,
        stacklevel=3,
    )
    return srs


def _srs_digest(srs: SRS, params: tuple[int, int]) -> str:
    degree = srs_degree(params)
    if srs.max_degree < degree:
        raise ParameterError(
            f"the SRS is too small for epoch parameter set {params}: it has max degree "
            f"{srs.max_degree}, the circuit needs {degree} (a .ptau of "
            f"2^{(degree - 1).bit_length()} powers or more)"
        )
    return _cache.srs_digest(srs, degree)


def key_path(params: tuple[int, int], srs: SRS) -> Path:
    """Where :func:`keys` caches the proving key of ``(params, srs)``."""
    m, k = _check_params(params)
    return cache_dir() / "keys" / f"epoch-m{m}-k{k}-{_srs_digest(srs, params)[:32]}.pkc"


def keys(
    params: tuple[int, int] = DEFAULT_PARAMS, srs: SRS | None = None, *, cache: bool = True
) -> tuple[ProvingKey, VerifyingKey]:
    """The epoch circuit's keys for ``params`` and ``srs`` (default: the insecure test SRS,
    with a warning), derived once and cached in memory and on disk (written atomically); a
    cached key must decode, be this version's circuit and commit under ``srs``, else it is
    replaced with a warning."""
    m, k = _check_params(params)
    srs = srs if srs is not None else _default_srs((m, k), cache)
    return _cache.cached_keys(
        _KEYS,
        ((m, k), _srs_digest(srs, (m, k))),
        key_path((m, k), srs),
        lambda path: _native.epoch_load_key(path, m, k, srs),
        lambda: _native.epoch_setup(m, k, srs)[0],
        cache,
    )


class Catalogue:
    """A provider's files by slot (``None``: empty). Slots are assigned in order by
    :meth:`add`; :meth:`remove` empties a slot and never shrinks :attr:`count`, as the
    registry does. Only files committed with the default layout (992-byte chunks, arity 2)
    can be catalogued: the circuit proves no other."""

    def __init__(self, files: Iterable[FileCommitment | None] = ()) -> None:
        self._files: list[FileCommitment | None] = []
        self._cached: tuple[int, int] | None = None
        for f in files:
            if f is None:
                self._files.append(None)
                self._cached = None
            else:
                self.add(f)

    def add(self, commitment: FileCommitment) -> int:
        """Put the file in the next slot; returns the slot."""
        if not isinstance(commitment, FileCommitment):
            raise TypeError(f"a catalogue holds FileCommitments, not {type(commitment).__name__}")
        if (commitment.chunk_size, commitment.arity) != (992, 2):
            raise ParameterError(
                "the epoch circuit proves files committed with 992-byte chunks and arity 2, not "
                f"chunk_size {commitment.chunk_size} / arity {commitment.arity}"
            )
        if len(self._files) >= MAX_FILES:
            raise ParameterError(f"the catalogue is full ({MAX_FILES} slots)")
        self._files.append(commitment)
        self._cached = None
        return len(self._files) - 1

    def remove(self, slot: int) -> None:
        """Empty ``slot`` (its leaf becomes ``0``); the count stays."""
        if self.file(slot) is None:
            raise ParameterError(f"slot {slot} is already empty")
        self._files[slot] = None
        self._cached = None

    def file(self, slot: int) -> FileCommitment | None:
        if type(slot) is not int or not 0 <= slot < len(self._files):
            raise IndexError(f"slot {slot!r} is not in a catalogue of {len(self._files)} slots")
        return self._files[slot]

    @property
    def count(self) -> int:
        """Slots in use, ``[0, count)`` (empty ones included)."""
        return len(self._files)

    @property
    def leaves(self) -> list[int]:
        return [0 if f is None else f.commitment for f in self._files]

    def _root_and_commitment(self) -> tuple[int, int]:
        # The empty catalogue has a commitment too (a registry's starting point); it is only
        # unprovable (nothing to sample).
        if self._cached is None:
            root, k = _native.epoch_catalogue(self.leaves)
            self._cached = (root, k)
        return self._cached

    @property
    def root(self) -> int:
        """The depth-16 tree's root."""
        return self._root_and_commitment()[0]

    @property
    def commitment(self) -> int:
        """``K = Poseidon(root, count)``: the public input of the epoch statement."""
        return self._root_and_commitment()[1]

    def opening(self, slot: int) -> list[int]:
        """The 16 siblings of ``slot``'s path, leaf level first."""
        self.file(slot)
        return _native.epoch_catalogue_path(self.leaves, slot)

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": _CATALOGUE_TYPE,
                "version": 1,
                "slots": [None if f is None else "0x" + f.to_bytes().hex() for f in self._files],
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Catalogue:
        """What :meth:`to_json` wrote; anything else raises ``DecodeError``."""
        obj = _io.json_object(text, "catalogue")
        if obj.get("type") != _CATALOGUE_TYPE or obj.get("version") != 1:
            raise DecodeError("malformed catalogue JSON: not a version-1 bigfile_zk.Catalogue")
        slots = obj.get("slots")
        if not isinstance(slots, list) or len(slots) > MAX_FILES:
            raise DecodeError(f"malformed catalogue JSON: slots is not a list of <= {MAX_FILES}")
        files: list[FileCommitment | None] = []
        for i, s in enumerate(slots):
            if s is None:
                files.append(None)
                continue
            if not isinstance(s, str) or not s.startswith("0x"):
                raise DecodeError(f"malformed catalogue JSON: slot {i} is not null or 0x-hex")
            try:
                files.append(FileCommitment.from_bytes(bytes.fromhex(s[2:])))
            except (ValueError, DecodeError) as exc:
                raise DecodeError(f"malformed catalogue JSON: slot {i}: {exc}") from None
        try:
            return cls(files)
        except ParameterError as exc:
            raise DecodeError(f"malformed catalogue JSON: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to ``path`` atomically."""
        _io.write_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Catalogue:
        return cls.from_json(_io.read_text(path, _MAX_CATALOGUE_JSON, "catalogue"))


def _parse_catalogue(catalogue: object) -> int:
    if isinstance(catalogue, Catalogue):
        return catalogue.commitment
    if isinstance(catalogue, FileCommitment):
        raise TypeError("catalogue is a Catalogue or its commitment K, not a FileCommitment")
    return parse_commitment(catalogue)


@dataclass(frozen=True)
class EpochProof:
    """An epoch proof and the statement its prover claims (informative only: see
    :func:`verify_epoch`)."""

    params: tuple[int, int]
    catalogue: int
    seed: int
    prover: int
    proof: Proof
    insecure_test_srs: bool | None = None

    @property
    def public_inputs(self) -> list[int]:
        """In ``verifyProof``'s order: ``K``, seed, prover."""
        return [self.catalogue, self.seed, self.prover]

    def to_json(self) -> str:
        m, k = self.params
        return json.dumps(
            {
                "type": _PROOF_TYPE,
                "version": 1,
                "parameter_set": {"m": m, "k": k},
                "catalogue": f"0x{self.catalogue:064x}",
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
    def from_json(cls, text: str | bytes) -> EpochProof:
        """What :meth:`to_json` wrote; anything else raises ``DecodeError``."""
        obj = _io.json_object(text, "epoch proof")
        try:
            if obj.get("type") != _PROOF_TYPE or obj.get("version") != 1:
                raise DecodeError("not a version-1 bigfile_zk.EpochProof")
            params = obj["parameter_set"]
            if not isinstance(params, dict):
                raise DecodeError("parameter_set is not a JSON object")
            m, k = _check_params((params["m"], params["k"]))
            catalogue = from_hex(obj["catalogue"])
            seed, prover = parse_seed(obj["seed"]), parse_address(obj["prover"])
            public = obj["public_inputs"]
            if not isinstance(public, list) or not all(
                isinstance(x, str) and x.isascii() and x.isdigit() for x in public
            ):
                raise DecodeError("public_inputs is not a list of decimal strings")
            raw = obj["proof"]
            if not isinstance(raw, str) or not raw.startswith("0x"):
                raise DecodeError("proof is not 0x-hex")
            data = bytes.fromhex(raw[2:])
            insecure = obj.get("insecure_test_srs")
            if insecure is not None and not isinstance(insecure, bool):
                raise DecodeError("insecure_test_srs is not true or false")
        except (DecodeError, ParameterError) as exc:
            raise DecodeError(f"malformed epoch proof JSON: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DecodeError(f"malformed epoch proof JSON: {what}") from None
        if [int(x) for x in public] != [catalogue, seed, prover]:
            raise DecodeError("public_inputs do not match catalogue, seed and prover")
        proof = Proof.from_bytes(b"BFPF\x01\x00" + data, [catalogue, seed, prover])
        return cls((m, k), catalogue, seed, prover, proof, insecure)


FileLocation = tuple["str | os.PathLike[str]", "str | os.PathLike[str] | None"]


def prove_epoch(
    catalogue: Catalogue,
    files: Mapping[int | FileCommitment, FileLocation],
    seed: object,
    prover: object,
    *,
    params: tuple[int, int] = DEFAULT_PARAMS,
    srs: SRS | None = None,
    pk: ProvingKey | None = None,
    progress: bool | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> EpochProof:
    """Prove the epoch statement ``(catalogue.commitment, seed, prover)``.

    The proving key is ``pk`` when given (a batch worker's, checked to be this parameter
    set's circuit), else that of ``(params, srs)`` (:func:`keys`).

    ``files`` maps a slot (``int``) or a :class:`FileCommitment` (every slot holding it) to
    ``(data path, tree path or None)``; only the sampled files' challenged chunks are read
    (with a tree file; the whole file is hashed once without one). A sampled file that is
    missing from ``files`` or no longer matches its commitment raises (``ParameterError``,
    ``CommitmentMismatchError``) naming the slot or chunk.
    """
    m, k = _check_params(params)
    if not isinstance(catalogue, Catalogue):
        raise TypeError(f"catalogue is a Catalogue, not {type(catalogue).__name__}")
    s, p = parse_seed(seed), parse_address(prover)
    by_slot: dict[int, tuple[str, FileCommitment, str | None]] = {}
    slots_of: dict[int, list[int]] = {}
    for slot, f in enumerate(catalogue._files):
        if f is not None:
            slots_of.setdefault(f.commitment, []).append(slot)
    for key, location in files.items():
        if not (isinstance(location, tuple) and len(location) == 2):
            raise TypeError(f"files[{key!r}] is (data path, tree path or None)")
        data, tree = os.fspath(location[0]), None if location[1] is None else os.fspath(location[1])
        if isinstance(key, FileCommitment):
            targets = slots_of.get(key.commitment, [])
            if not targets:
                raise ParameterError("a file given is not in the catalogue")
        elif type(key) is int:
            if catalogue.file(key) is None:
                raise ParameterError(f"slot {key} is empty: no file to give for it")
            targets = [key]
        else:
            raise TypeError(f"files are keyed by slot or FileCommitment, not {type(key).__name__}")
        for slot in targets:
            c = catalogue.file(slot)
            assert c is not None
            by_slot[slot] = (data, c, tree)
    if pk is None:
        pk, _ = keys((m, k), srs)
    elif not isinstance(pk, ProvingKey):
        raise TypeError(f"pk is a ProvingKey, not {type(pk).__name__}")
    bars = False if on_progress is not None else progress
    with ProgressReporter(_native.PROVE_STEPS, "proving", bars, unit="step") as proving:
        proof = _native.epoch_prove(
            pk, m, k, catalogue.leaves, by_slot, s, p, on_progress or proving
        )
    return EpochProof((m, k), catalogue.commitment, s, p, proof, pk.vk.is_insecure)


def verify_epoch(
    proof: EpochProof,
    *,
    catalogue: object,
    seed: object,
    prover: object,
    params: tuple[int, int] = DEFAULT_PARAMS,
    srs: SRS | None = None,
    vk: VerifyingKey | None = None,
    allow_insecure_srs: bool = False,
) -> bool:
    """Whether ``proof`` proves the **expected** statement: the catalogue commitment ``K`` the
    verifier holds for the provider (a :class:`Catalogue`, or ``K`` as int or 0x-hex), the
    chain's ``seed`` for the epoch and the ``prover``, with parameter set ``params``. The
    proof's own statement is only compared (``False`` if it differs), never used. The key is
    ``vk`` or that of ``(params, srs)``; the insecure test SRS raises
    :class:`~bigfile_zk.errors.InsecureSRSError` unless ``allow_insecure_srs=True``."""
    m, k = _check_params(params)
    expected = [_parse_catalogue(catalogue), parse_seed(seed), parse_address(prover)]
    if not isinstance(proof, EpochProof):
        raise TypeError(f"proof is an EpochProof, not {type(proof).__name__}")
    if vk is not None:
        if vk.is_insecure and not allow_insecure_srs:
            raise InsecureSRSError(_INSECURE)
        if vk.num_public != 3 or vk.lookups or vk.k != _LOG_ROWS[(m, k)]:
            raise ParameterError(f"vk is not an epoch verifying key of parameter set {(m, k)}")
    elif not allow_insecure_srs and (srs is None or srs.is_insecure):
        raise InsecureSRSError(_INSECURE)  # no srs means the insecure test SRS
    if proof.params != (m, k) or proof.public_inputs != expected:
        return False
    if vk is None:
        if srs is None:
            with warnings.catch_warnings():  # the caller opted in explicitly
                warnings.simplefilter("ignore", InsecureSRSWarning)
                srs = _default_srs((m, k), True)
        _, vk = keys((m, k), srs)
    return _native.plonk_verify(vk, proof.proof, expected, allow_insecure_srs=allow_insecure_srs)


_INSECURE = (
    "verify_epoch would trust the insecure test SRS (its τ is public, so anyone can forge a "
    "proof it accepts): pass the ceremony's srs (SRS.from_ptau) or its vk, or "
    "allow_insecure_srs=True for tests and demos"
)
