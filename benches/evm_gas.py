"""Gas of the generated Solidity verifier and of PoseidonT3 on py-evm, as a Markdown table.

    .venv/bin/python benches/evm_gas.py

Needs the test extras (web3, eth-tester) and the pinned solc npm package (``npm ci`` in
tests/js). Verify gas is the least transaction gas for which ``verifyProof`` returns true
(``bigfile_zk.evm.min_gas``: 21,000 base and call data included; never ``estimate_gas``),
next to the ``gasUsed`` of a real transaction. Every circuit except "square" has a Poseidon
hash, so all fixed commitments are non-zero and the verifier makes all its 18 (24 with
lookups) scalar multiplications; "square" has no Poseidon rows, so [q_F] = [q_P] = identity
and two are skipped. The "dot (v2)" rows are the same circuits with their sum as a dot product
(spec version 2): one more scalar multiplication, by [q_N]. The "packed (v3)" rows are those
with lookups built as spec version 3 (plonk.md §8): five scalar multiplications fewer.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

from web3 import EthereumTesterProvider, Web3

from bigfile_zk import SRS, evm, plonk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from evm_circuits import circuit_values, make_circuit, square

SOLC = Path(__file__).resolve().parents[1] / "tests" / "js" / "node_modules" / "solc"


def packed(fn: plonk.CircuitFn) -> plonk.CircuitFn:
    """``fn`` built as spec version 3 (packed commitments, one multi-point opening)."""

    def v3(b: plonk.Builder) -> None:
        b.set_packed(True)
        fn(b)

    return v3


def measure(w3: Web3, srs: SRS, name: str, fn: plonk.CircuitFn, vals: Any, public: Any) -> str:
    pk = plonk.setup(fn, srs)
    proof = plonk.prove(pk, fn, vals, progress=False)
    compiled = evm.compile(pk.vk.to_solidity("Verifier", allow_insecure_srs=True), solc=SOLC)
    receipt = evm.deploy_transaction(w3, compiled)
    address = receipt["contractAddress"]
    data = evm.calldata(proof, public)
    tx = w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": address, "data": "0x" + data.hex(), "gas": 10**6}
    )
    used = w3.eth.wait_for_transaction_receipt(tx)["gasUsed"]
    least = evm.min_gas(w3, address, data, low=used - 1, high=used + 20_000)
    calldata_gas = sum(16 if b else 4 for b in data)
    return (
        f"| {name} | 2^{pk.vk.k} | {len(public)} | {'yes' if pk.vk.lookups else 'no'} "
        f"| {least:,} | {used:,} | {len(data):,} B / {calldata_gas:,} | "
        f"{compiled.runtime_size:,} | {receipt['gasUsed']:,} |"
    )


def main() -> int:
    warnings.simplefilter("ignore")
    srs = SRS.insecure_for_testing(5 * 1024 + 9, 0)
    w3 = Web3(EthereumTesterProvider())
    print(
        "| circuit | rows | public inputs | lookups | verify gas (least, tx) | gasUsed | "
        "calldata (bytes / gas) | runtime bytes | deploy gas |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(measure(w3, srs, "square (no Poseidon)", square, {"x": 3, "y": 9}, [9]), flush=True)
    for lookups in (False, True):
        for num_public in (1, 3, 8):
            for dot in (False, True):
                name = "Poseidon" + (" + range-check lookup" if lookups else "")
                name += " + dot (v2)" if dot else ""
                vals, public = circuit_values(num_public, dot=dot)
                fn = make_circuit(num_public, lookups, dot)
                print(measure(w3, srs, name, fn, vals, public), flush=True)
                if lookups and dot:  # the same circuit in spec version 3 (plonk.md §8)
                    print(measure(w3, srs, name + " packed (v3)", packed(fn), vals, public))

    compiled = evm.compile(evm.poseidon_source(), "PoseidonT3Hasher", solc=SOLC)
    receipt = evm.deploy_transaction(w3, compiled)
    hasher = w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)
    _, inner = hasher.functions.poseidonGas([1, 2]).call()
    print()
    print("| PoseidonT3 | gas |")
    print("|---|---|")
    print(f"| one Poseidon(2) hash inside a contract (gasleft difference) | {inner:,} |")
    print(f"| PoseidonT3Hasher runtime bytes | {compiled.runtime_size:,} |")
    print(f"| PoseidonT3Hasher deploy gas | {receipt['gasUsed']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
