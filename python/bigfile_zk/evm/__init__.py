"""From a PLONK proof to an EVM transaction: compile, deploy, encode, measure.

>>> from bigfile_zk import evm                                   # doctest: +SKIP
>>> verifier = evm.deploy(w3, evm.compile(pk.vk.to_solidity()))  # a key from a ceremony SRS
>>> w3.eth.send_transaction({"to": verifier.address, "data": evm.calldata(proof, public)})
>>> evm.verify(w3, verifier.address, proof, public)             # an eth_call: True

The verifier contract (``VerifyingKey.to_solidity``, ``docs/spec/solidity.md``) pins
``pragma solidity 0.8.28``. :func:`compile` runs that compiler: a native ``solc`` binary, or the
``solc`` npm package (solcjs) through Node.js, found as described there
(:func:`install_solc` fetches the latter with npm into the cache directory). Sources that import
``@openzeppelin/contracts/...`` (``ComputeRegistry.sol``) get those files from the pinned
OpenZeppelin npm package (:func:`install_openzeppelin`, integrity-checked). Deploying and calling
need ``web3`` (the ``evm`` extra: ``pip install bigfile_zk[evm]``), imported only when used;
:func:`calldata` and :func:`compile` do not.

Gas: :func:`min_gas` is the least transaction gas for which the call returns true. Do not use
``estimate_gas`` for a verifier: with too little gas a precompile fails, the verifier returns
``false`` without reverting, and the estimate is the (much smaller) gas of that false answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigfile_zk._cache import cache_dir
from bigfile_zk._native import Proof
from bigfile_zk.errors import ParameterError

if TYPE_CHECKING:
    from web3 import Web3
    from web3.contract import Contract

    from bigfile_zk.compute import ComputeProof

__all__ = [
    "EVM_VERSION",
    "OPENZEPPELIN_VERSION",
    "SOLC_VERSION",
    "VERIFY_SELECTOR",
    "Compiled",
    "calldata",
    "compile",
    "compute_registry_source",
    "deploy",
    "deploy_compute_registry",
    "deploy_registry",
    "deploy_transaction",
    "install_openzeppelin",
    "install_solc",
    "min_gas",
    "poseidon_source",
    "registry_source",
    "submit_result_args",
    "verify",
]

SOLC_VERSION = "0.8.28"
"""The compiler the generated contracts pin (``pragma solidity 0.8.28``)."""

EVM_VERSION = "cancun"
"""The EVM version :func:`compile` targets (solc 0.8.28's default, made explicit)."""

OPTIMIZER_RUNS = 200

OPENZEPPELIN_VERSION = "5.4.0"
"""The ``@openzeppelin/contracts`` npm release ``ComputeRegistry.sol`` is compiled against."""

# npm's integrity (SHA-512 of the tarball) of @openzeppelin/contracts 5.4.0, as the registry
# published it and tests/js/package-lock.json records it: install_openzeppelin's lock file
# pins it, so `npm ci` refuses any other tarball.
OPENZEPPELIN_INTEGRITY = (
    "sha512-eCYgWnLg6WO+X52I16TZt8uEjbtdkgLC0SUX/xnAksjjrQI4Xfn4"
    "iBRoI5j55dmlOhDv1Y7BoR3cU7e3WWhC6A=="
)
_OPENZEPPELIN = "@openzeppelin/contracts"

VERIFY_SELECTOR = bytes.fromhex("1e8e1e13")
"""``keccak256("verifyProof(bytes,uint256[])")[:4]``."""

_HERE = Path(__file__).resolve().parent
_SOLCJS_DRIVER = _HERE / "solcjs_compile.cjs"


def _web3() -> Any:
    try:
        import web3
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "bigfile_zk.evm needs web3 to deploy and call contracts: pip install 'bigfile_zk[evm]'"
        ) from e
    return web3


# -- compiling ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    """One compiled contract: its ABI, creation code and deployed (runtime) code."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime: bytes

    @property
    def runtime_size(self) -> int:
        """Deployed code size in bytes (EIP-170 allows at most 24,576)."""
        return len(self.runtime)


def _find_compiler(solc: str | os.PathLike[str] | None) -> tuple[str, Path]:
    """``("native", path to solc)`` or ``("solcjs", directory of the solc npm package)``."""
    spec = solc if solc is not None else os.environ.get("BIGFILE_ZK_SOLC")
    if spec is None:
        # A `solc` on PATH counts only if it is the pinned version (distributions and
        # solc-select often install another); then the one install_solc() cached.
        found = shutil.which("solc")
        if found is not None and _native_version_ok(Path(found)):
            return "native", Path(found)
        if (_solc_cache() / "soljson.js").is_file():
            return "solcjs", _solc_cache()
        other = f" (the solc on PATH, {found}, is not {SOLC_VERSION})" if found else ""
        raise ParameterError(
            f"no Solidity compiler{other}: pass solc= (a solc {SOLC_VERSION} binary, or a "
            f"directory holding the solc npm package: `npm install solc@{SOLC_VERSION}`), set "
            "BIGFILE_ZK_SOLC, or call bigfile_zk.evm.install_solc() (npm)"
        )
    path = Path(spec)
    if path.is_dir():
        for candidate in (path, path / "solc", path / "node_modules" / "solc"):
            if (candidate / "soljson.js").is_file():
                return "solcjs", candidate
        raise ParameterError(f"{path} holds no solc npm package (no soljson.js)")
    if path.is_file():
        return "native", path
    raise ParameterError(f"solc {path} does not exist")


def _native_version_ok(path: Path) -> bool:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, check=False, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return f"Version: {SOLC_VERSION}+" in out


def _solc_cache() -> Path:
    return cache_dir() / f"solc-{SOLC_VERSION}" / "node_modules" / "solc"


def install_solc(*, quiet: bool = False) -> Path:
    """Make the pinned ``solc`` npm package (solcjs, |SOLC_VERSION|) available to
    :func:`compile` without arguments: ``npm install`` it into the cache directory
    (``$BIGFILE_ZK_CACHE``, ``~/.cache/bigfile_zk``) unless a compiler is already found.
    Needs Node.js and npm. Returns where :func:`compile` will find it."""
    with contextlib.suppress(ParameterError):
        return _find_compiler(None)[1]
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ParameterError(
            f"installing solc {SOLC_VERSION} needs Node.js and npm on PATH (or install a "
            "native solc and set BIGFILE_ZK_SOLC)"
        )
    target = _solc_cache().parent.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # a broken earlier install (no soljson.js): start again
        shutil.rmtree(target, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        if not quiet:
            print(f"installing solc {SOLC_VERSION} (npm) into {target} ...", file=sys.stderr)
        argv = [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund"]
        argv += ["--loglevel=error", f"solc@{SOLC_VERSION}"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ParameterError(f"npm install solc@{SOLC_VERSION} failed: {exc}") from exc
        if proc.returncode != 0:
            raise ParameterError(f"npm install solc@{SOLC_VERSION} failed: {proc.stderr[-2000:]}")
        with contextlib.suppress(OSError):  # another process may have won the race
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not (_solc_cache() / "soljson.js").is_file():
        raise ParameterError(f"npm did not install solc into {target}")
    return _solc_cache()


# -- OpenZeppelin ---------------------------------------------------------------------------


def _openzeppelin_cache() -> Path:
    return (
        cache_dir() / f"openzeppelin-{OPENZEPPELIN_VERSION}" / "node_modules" / "@openzeppelin"
    ) / "contracts"


def _openzeppelin_version(path: Path) -> str | None:
    try:
        manifest = json.loads((path / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("name") != _OPENZEPPELIN:
        return None
    version = manifest.get("version")
    return version if isinstance(version, str) else None


def _find_openzeppelin(openzeppelin: str | os.PathLike[str] | None) -> Path:
    """The directory of the pinned ``@openzeppelin/contracts`` package: ``openzeppelin`` (the
    package directory, or one with it under ``node_modules``), else
    ``$BIGFILE_ZK_OPENZEPPELIN``, else the one :func:`install_openzeppelin` put in the cache."""
    spec = openzeppelin if openzeppelin is not None else os.environ.get("BIGFILE_ZK_OPENZEPPELIN")
    if spec is None:
        cached = _openzeppelin_cache()
        if _openzeppelin_version(cached) == OPENZEPPELIN_VERSION:
            return cached
        raise ParameterError(
            f"the source imports {_OPENZEPPELIN}, which is not installed: call "
            f"bigfile_zk.evm.install_openzeppelin() (npm), pass openzeppelin= (a directory "
            f"holding {_OPENZEPPELIN}@{OPENZEPPELIN_VERSION}) or set BIGFILE_ZK_OPENZEPPELIN"
        )
    path = Path(spec)
    for candidate in (path, path / "node_modules" / "@openzeppelin" / "contracts"):
        version = _openzeppelin_version(candidate)
        if version == OPENZEPPELIN_VERSION:
            return candidate
        if version is not None:
            raise ParameterError(
                f"{candidate} is {_OPENZEPPELIN} {version}; {OPENZEPPELIN_VERSION} is needed"
            )
    raise ParameterError(f"{path} holds no {_OPENZEPPELIN} package (no package.json naming it)")


def install_openzeppelin(*, quiet: bool = False) -> Path:
    """Make ``@openzeppelin/contracts`` |OPENZEPPELIN_VERSION| available to :func:`compile`
    (``ComputeRegistry.sol`` imports it): ``npm ci`` it into the cache directory from a lock
    file that pins the tarball's SHA-512 (``OPENZEPPELIN_INTEGRITY``), so npm refuses any
    other content, unless it is already there. Needs Node.js and npm. Returns the package
    directory."""
    with contextlib.suppress(ParameterError):
        return _find_openzeppelin(None)
    npm = shutil.which("npm")
    if npm is None:
        raise ParameterError(
            f"installing {_OPENZEPPELIN} {OPENZEPPELIN_VERSION} needs npm on PATH (or pass "
            "openzeppelin= / set BIGFILE_ZK_OPENZEPPELIN to a copy of the package)"
        )
    target = cache_dir() / f"openzeppelin-{OPENZEPPELIN_VERSION}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # a broken earlier install: start again
        shutil.rmtree(target, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    name = "bigfile-zk-openzeppelin"
    dependencies = {_OPENZEPPELIN: OPENZEPPELIN_VERSION}
    package = {"name": name, "version": "0.0.0", "private": True, "dependencies": dependencies}
    tarball = f"https://registry.npmjs.org/{_OPENZEPPELIN}/-/contracts-{OPENZEPPELIN_VERSION}.tgz"
    lock = {
        "name": name,
        "version": "0.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": name, "version": "0.0.0", "dependencies": dependencies},
            f"node_modules/{_OPENZEPPELIN}": {
                "version": OPENZEPPELIN_VERSION,
                "resolved": tarball,
                "integrity": OPENZEPPELIN_INTEGRITY,
                "license": "MIT",
            },
        },
    }
    try:
        (staging / "package.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
        (staging / "package-lock.json").write_text(json.dumps(lock, indent=2), encoding="utf-8")
        if not quiet:
            print(
                f"installing {_OPENZEPPELIN} {OPENZEPPELIN_VERSION} (npm) into {target} ...",
                file=sys.stderr,
            )
        argv = [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"]
        argv += ["--loglevel=error"]
        what = f"npm ci {_OPENZEPPELIN}@{OPENZEPPELIN_VERSION}"
        try:
            proc = subprocess.run(
                argv, cwd=staging, capture_output=True, text=True, check=False, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ParameterError(f"{what} failed: {exc}") from exc
        if proc.returncode != 0:
            raise ParameterError(f"{what} failed: {proc.stderr[-2000:]}")
        installed = staging / "node_modules" / "@openzeppelin" / "contracts"
        if _openzeppelin_version(installed) != OPENZEPPELIN_VERSION:
            raise ParameterError(f"{what} did not install {_OPENZEPPELIN} {OPENZEPPELIN_VERSION}")
        with contextlib.suppress(OSError):  # another process may have won the race
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _find_openzeppelin(None)


# Solidity comments and string literals (strings first, so that `//` inside one is kept).
_COMMENT_OR_STRING = re.compile(
    r"(\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')|//[^\n]*|/\*.*?\*/", re.DOTALL
)
# The path of every import form: `import "p";`, `import "p" as X;`, `import * as X from "p";`,
# `import {A, B as C} from "p";`.
_IMPORT = re.compile(
    r"\bimport\s*(?:\{[^}]*\}\s*from\s*|\*\s*as\s+\w+\s+from\s*)?[\"']([^\"']+)[\"']"
)


def _imports(source: str) -> list[str]:
    code = _COMMENT_OR_STRING.sub(lambda m: m.group(1) or " ", source)
    return _IMPORT.findall(code)


def _resolve_import(unit: str, path: str) -> str:
    """solc's source unit name for ``import path`` in source unit ``unit``: relative to the
    importing unit's directory for ``./`` and ``../`` paths, else the path itself."""
    if path.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(unit), path))
    return path


def _add_openzeppelin_sources(
    sources: dict[str, dict[str, str]], openzeppelin: str | os.PathLike[str] | None
) -> None:
    """Add to ``sources`` every ``@openzeppelin/contracts/...`` file they import, transitively,
    read from the pinned package (found only if some source imports it): the standard-JSON
    input is then complete, the same for solcjs and a native solc, with no import callback or
    file-system access by the compiler."""
    package: Path | None = None
    pending = list(sources)
    while pending:
        unit = pending.pop()
        for path in _imports(sources[unit]["content"]):
            name = _resolve_import(unit, path)
            if name in sources or not name.startswith(_OPENZEPPELIN + "/"):
                continue  # given, or left for solc to report as not found
            if package is None:
                package = _find_openzeppelin(openzeppelin).resolve()
            file = (package / name[len(_OPENZEPPELIN) + 1 :]).resolve()
            if not file.is_relative_to(package) or not file.is_file():
                raise ParameterError(f"{unit} imports {path!r}: no such file in {package}")
            sources[name] = {"content": file.read_text(encoding="utf-8")}
            pending.append(name)


def _run_compiler(kind: str, where: Path, standard_json: str) -> tuple[str, dict[str, Any]]:
    if kind == "solcjs":
        node = shutil.which("node")
        if node is None:
            raise ParameterError("the solc npm package needs Node.js (`node` is not on PATH)")
        argv = [node, str(_SOLCJS_DRIVER), str(where.resolve())]
    else:
        argv = [str(where), "--standard-json"]
    proc = subprocess.run(
        argv, input=standard_json, capture_output=True, text=True, check=False, timeout=600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    if kind == "solcjs":
        result = json.loads(proc.stdout)
        return str(result["version"]), result["output"]
    version = subprocess.run(
        [str(where), "--version"], capture_output=True, text=True, check=False
    ).stdout
    return version, json.loads(proc.stdout)


def compile(
    source: str,
    contract_name: str | None = None,
    *,
    solc: str | os.PathLike[str] | None = None,
    libraries: dict[str, str] | None = None,
    openzeppelin: str | os.PathLike[str] | None = None,
) -> Compiled:
    """Compile ``source`` with solc |SOLC_VERSION| (optimizer on, 200 runs, EVM cancun).

    ``contract_name`` defaults to the last contract or library in the source. The compiler is
    ``solc`` (a native binary, or a directory with the ``solc`` npm package), else
    ``$BIGFILE_ZK_SOLC``, else ``solc`` on ``PATH``, else the solc npm package that
    :func:`install_solc` put in the cache directory. ``libraries`` are extra source files
    (name → content). Imports of ``@openzeppelin/contracts/...`` are read from
    ``@openzeppelin/contracts`` |OPENZEPPELIN_VERSION|: ``openzeppelin`` (its directory), else
    ``$BIGFILE_ZK_OPENZEPPELIN``, else the copy :func:`install_openzeppelin` put in the cache.
    Raises ``RuntimeError`` with solc's messages on a compile error.
    """
    kind, where = _find_compiler(solc)
    sources = {"Contract.sol": {"content": source}}
    for name, content in (libraries or {}).items():
        sources[name] = {"content": content}
    _add_openzeppelin_sources(sources, openzeppelin)
    standard_json = json.dumps(
        {
            "language": "Solidity",
            "sources": sources,
            "settings": {
                "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
                "evmVersion": EVM_VERSION,
                "outputSelection": {
                    "Contract.sol": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode"]}
                },
            },
        }
    )
    version, output = _run_compiler(kind, where, standard_json)
    if SOLC_VERSION not in version:
        raise ParameterError(f"solc {SOLC_VERSION} is needed, {where} is {version.strip()}")
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError(
            "solc: " + "\n".join(e.get("formattedMessage", e["message"]) for e in errors)
        )
    contracts = output["contracts"]["Contract.sol"]
    if contract_name is None:
        declared = re.findall(r"^\s*(?:contract|library)\s+(\w+)", source, re.MULTILINE)
        if not declared:
            raise ParameterError("the source declares no contract or library")
        contract_name = declared[-1]
    if contract_name not in contracts:
        raise ParameterError(f"no contract {contract_name!r} in the source")
    c = contracts[contract_name]
    return Compiled(
        name=contract_name,
        abi=c["abi"],
        bytecode=bytes.fromhex(c["evm"]["bytecode"]["object"]),
        runtime=bytes.fromhex(c["evm"]["deployedBytecode"]["object"]),
    )


# -- calldata -------------------------------------------------------------------------------


def _word(v: int) -> bytes:
    return v.to_bytes(32, "big")


def calldata(proof: Proof | bytes, public_inputs: Sequence[int]) -> bytes:
    """ABI-encoded ``verifyProof(proof, publicInputs)`` call data, selector included.

    ``proof`` is a :class:`~bigfile_zk.plonk.Proof` or its EVM bytes (``to_evm_bytes()``; any
    bytes are encoded as given, for tests of malformed proofs). Public inputs are words: values
    ``≥ r`` are encoded as given (the contract refuses them) but must fit in 256 bits.
    """
    if isinstance(proof, Proof):
        proof = proof.to_evm_bytes()
    proof = bytes(proof)
    words = [int(x) for x in public_inputs]
    if any(not 0 <= x < 2**256 for x in words):
        raise ParameterError("public inputs must be 256-bit unsigned words")
    padded = proof + b"\0" * (-len(proof) % 32)
    return b"".join(
        [
            VERIFY_SELECTOR,
            _word(0x40),
            _word(0x60 + len(padded)),
            _word(len(proof)),
            padded,
            _word(len(words)),
            *(_word(x) for x in words),
        ]
    )


# -- deploying and calling (web3) -----------------------------------------------------------


def deploy_transaction(w3: Web3, compiled: Compiled, *args: Any, sender: str | None = None) -> Any:
    """Deploy ``compiled`` with constructor arguments ``args`` from ``sender`` (default: the
    node's first account); the receipt."""
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender or w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise RuntimeError(f"deploying {compiled.name} failed: {receipt}")
    return receipt


def deploy(w3: Web3, compiled: Compiled, *args: Any, sender: str | None = None) -> Contract:
    """Deploy ``compiled`` (constructor arguments ``args``); the web3 contract (``.address``,
    ``.functions.verifyProof``)."""
    _web3()
    receipt = deploy_transaction(w3, compiled, *args, sender=sender)
    return w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)


def _call(w3: Web3, address: str, data: bytes, gas: int | None = None) -> bytes:
    tx: dict[str, Any] = {"to": address, "data": "0x" + data.hex()}
    if gas is not None:
        tx["gas"] = gas
    return bytes(w3.eth.call(tx))  # type: ignore[arg-type]


def _is_true(ret: bytes) -> bool:
    return len(ret) == 32 and int.from_bytes(ret, "big") == 1


def verify(
    w3: Web3,
    address: str,
    proof: Proof | bytes,
    public_inputs: Sequence[int],
    *,
    gas: int | None = None,
) -> bool:
    """``verifyProof`` through ``eth_call``: ``True`` iff the contract answers true. A revert
    (e.g. out of gas) is ``False``."""
    _web3()
    data = calldata(proof, public_inputs)
    try:
        return _is_true(_call(w3, address, data, gas))
    except Exception as e:  # web3 raises ContractLogicError & co. on a revert
        if type(e).__module__.startswith(("web3", "eth_tester", "eth")):
            return False
        raise


def min_gas(
    w3: Web3, address: str, data: bytes, *, low: int = 21_000, high: int = 2_000_000
) -> int:
    """The least transaction gas (21,000 base and call data included) for which the call
    ``data`` to ``address`` returns true, by bisection over ``eth_call``'s gas in
    ``(low, high]`` (``low`` must fail; a transaction's ``gasUsed`` minus one is a good one).

    Raises ``ValueError`` if it does not return true even with ``high`` gas.
    """
    _web3()

    def ok(gas: int) -> bool:
        try:
            return _is_true(_call(w3, address, data, gas))
        except Exception as e:
            if type(e).__module__.startswith(("web3", "eth_tester", "eth")):
                return False
            raise

    if not ok(high):
        raise ValueError(f"the call does not return true with {high} gas")
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return high


# -- Poseidon -------------------------------------------------------------------------------


def poseidon_source() -> str:
    """``PoseidonT3.sol``: circomlib Poseidon(2) as a Solidity library, its constants generated
    from :mod:`bigfile_zk.reference.poseidon` (``python -m bigfile_zk.evm._gen_poseidon``)."""
    return (_HERE / "PoseidonT3.sol").read_text(encoding="utf-8")


# -- the proof-of-storage registry ----------------------------------------------------------


RANDOMNESS_SOURCES = ("block", "beacon")
"""The randomness sources ``StorageRegistry.sol`` ships: ``BlockRandomness`` (prevrandao and
the parent block hash; the sequencer of a rollup can grind it) and ``BeaconRandomness`` (an
outside beacon's rounds, e.g. a drand relay). Trust assumptions: ``docs/spec/proof-of-storage.md``,
"Randomness sources"."""


def registry_source() -> str:
    """``StorageRegistry.sol``, self-contained: contract ``StorageRegistry``, the on-chain side
    of proof-of-storage (registered files, per-epoch challenge seeds, accepted, rejected, missed
    and excused proofs), calling a storage verifier (``storage.keys(k, srs)[1].to_solidity(...)``)
    through ``IStorageVerifier`` and taking each epoch's randomness from an
    ``IRandomnessSource``; and the sources ``BlockRandomness`` and ``BeaconRandomness`` (the
    latter reading an ``IRandomnessBeacon``). Compile each contract from it:
    ``compile(registry_source(), "StorageRegistry")``, ``"BlockRandomness"``, ..."""
    return (_HERE / "StorageRegistry.sol").read_text(encoding="utf-8")


def _deploy_block_randomness(
    w3: Web3, solc: str | os.PathLike[str] | None, sender: str | None
) -> str:
    """A new ``BlockRandomness`` (the registries' default source); its address."""
    compiled = compile(registry_source(), "BlockRandomness", solc=solc)
    return str(deploy(w3, compiled, sender=sender).address)


def deploy_registry(
    w3: Web3,
    verifier: str,
    epoch_length: int,
    proof_window: int,
    *,
    randomness_source: str | None = None,
    solc: str | os.PathLike[str] | None = None,
    sender: str | None = None,
) -> Contract:
    """Deploy a ``StorageRegistry`` for the storage verifier at ``verifier``, with epochs of
    ``epoch_length`` blocks and a proof window of ``proof_window`` blocks; the web3 contract.

    ``randomness_source`` is the address of an ``IRandomnessSource`` (a ``BeaconRandomness``
    for a beacon); without it a new ``BlockRandomness`` is deployed, whose seeds whoever opens
    an epoch (and a rollup's sequencer) can grind: see ``registry_source``."""
    _web3()
    source = registry_source()
    if randomness_source is None:
        randomness_source = _deploy_block_randomness(w3, solc, sender)
    compiled = compile(source, "StorageRegistry", solc=solc)
    return deploy(
        w3, compiled, verifier, randomness_source, epoch_length, proof_window, sender=sender
    )


# -- the epoch registry (providers' catalogues, one proof per provider per epoch) ------------


def epoch_registry_source() -> str:
    """``EpochRegistry.sol``: providers' catalogues of files (requests, acceptances, removals
    queued into a Poseidon digest, updates checked by the catalogue update verifier) and one
    epoch proof per provider per epoch (``docs/spec/storage-catalogue.md``). It imports
    ``StorageRegistry.sol`` (the randomness sources and the verifier interface) and
    ``PoseidonT3.sol``: compile it with ``libraries=epoch_registry_libraries()``."""
    return (_HERE / "EpochRegistry.sol").read_text(encoding="utf-8")


def epoch_registry_abi() -> list[dict[str, Any]]:
    """``EpochRegistry``'s ABI as shipped with the package (``EpochRegistry.abi.json``, checked
    against a fresh compile by the tests): a provider talks to a registry without a compiler."""
    import json

    abi: list[dict[str, Any]] = json.loads((_HERE / "EpochRegistry.abi.json").read_text("utf-8"))
    return abi


def epoch_registry_libraries() -> dict[str, str]:
    """The source files ``EpochRegistry.sol`` imports, by the names it imports them with."""
    return {"StorageRegistry.sol": registry_source(), "PoseidonT3.sol": poseidon_source()}


def deploy_epoch_registry(
    w3: Web3,
    epoch_verifier: str,
    update_verifier: str,
    epoch_length: int,
    proof_window: int,
    *,
    randomness_source: str | None = None,
    solc: str | os.PathLike[str] | None = None,
    sender: str | None = None,
) -> Contract:
    """Deploy an ``EpochRegistry`` for the epoch verifier (public inputs ``[K, seed,
    provider]``) and the catalogue update verifier (``[K_old, h_old, K_new, h_new]``), with
    epochs of ``epoch_length`` blocks and a proof window of ``proof_window``. Without
    ``randomness_source`` a new ``BlockRandomness`` is deployed (see ``registry_source``)."""
    _web3()
    if randomness_source is None:
        randomness_source = _deploy_block_randomness(w3, solc, sender)
    compiled = compile(
        epoch_registry_source(), "EpochRegistry", solc=solc, libraries=epoch_registry_libraries()
    )
    return deploy(
        w3,
        compiled,
        epoch_verifier,
        update_verifier,
        randomness_source,
        epoch_length,
        proof_window,
        sender=sender,
    )


# -- the proof-of-compute registry ----------------------------------------------------------


def compute_registry_source() -> str:
    """``ComputeRegistry.sol``: contract ``ComputeRegistry``, the on-chain job registry of
    proof-of-compute (models and their verifiers, escrowed jobs, results checked by the
    model's verifier against the statement the registry builds, pull payments and refunds;
    ``docs/spec/compute-registry.md``). It imports OpenZeppelin (``SafeERC20``,
    ``ReentrancyGuard``, ``Address``): :func:`compile` resolves that from
    ``@openzeppelin/contracts`` |OPENZEPPELIN_VERSION| (:func:`install_openzeppelin`)."""
    return (_HERE / "ComputeRegistry.sol").read_text(encoding="utf-8")


def deploy_compute_registry(
    w3: Web3,
    *,
    allow_insecure_srs: bool = False,
    solc: str | os.PathLike[str] | None = None,
    openzeppelin: str | os.PathLike[str] | None = None,
    sender: str | None = None,
) -> Contract:
    """Compile and deploy a ``ComputeRegistry``; the web3 contract. With
    ``allow_insecure_srs`` it accepts models whose verifier was generated from a key of the
    insecure test SRS (``INSECURE_TEST_SRS() == true``; anyone can forge their proofs): for
    tests and demos only. ``solc`` and ``openzeppelin`` as for :func:`compile`."""
    _web3()
    if not isinstance(allow_insecure_srs, bool):
        raise TypeError("allow_insecure_srs must be a bool")
    compiled = compile(
        compute_registry_source(), "ComputeRegistry", solc=solc, openzeppelin=openzeppelin
    )
    return deploy(w3, compiled, allow_insecure_srs, sender=sender)


def submit_result_args(proof: ComputeProof) -> tuple[int, list[int], bytes]:
    """``(jobId, outputs, proof)``, the arguments of ``ComputeRegistry.submitResult`` for a
    compute proof: ``registry.functions.submitResult(*submit_result_args(p))``. The registry
    builds the rest of the statement itself (the job's input commitment, the job id,
    ``msg.sender`` as provider), so the proof must have been made for that job and for the
    account that sends the transaction."""
    from bigfile_zk.compute import ComputeProof

    if not isinstance(proof, ComputeProof):
        raise TypeError(f"proof must be a ComputeProof, got {type(proof).__name__}")
    return proof.job, list(proof.outputs), proof.proof.to_evm_bytes()
