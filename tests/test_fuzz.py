"""Bounded fuzzing in CI: a fixed number of structure-aware mutated inputs per target, with fixed
seeds, through the same worker and oracle as the long campaign (``tests/fuzz/README.md``).

Allowed outcomes: a result, or a ``bigfile_zk.errors`` exception other than ``InternalError``.
Anything else (another exception, ``InternalError``, a crash, a hang, memory out of proportion,
a mutated proof that verifies, a non-canonical encoding that decodes, a wrong CLI exit status)
fails the test with the target, seed, case, mutated input, exception and traceback, and the
command that replays it.
"""

from __future__ import annotations

import contextlib
import pickle
import resource
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from fuzz import findings
from fuzz.mutate import HUGE_STRING
from fuzz.runner import Outcome, Runner, _size, generate, limit_address_space
from fuzz.targets import LAYOUTS, TARGETS, Finding, layout

#: Cases per target and seed (all targets: well under 60 s on 2 cores, see the README).
CASES = 200
#: The CLI target writes files and parses argv per case: fewer cases.
CASES_BY_TARGET = {"cli": 100, "pk_json": 100, "pk_bytes": 150}
SEEDS = (0,)
#: Per-case deadline in CI (a hang "over a few seconds").
DEADLINE = 3.0
#: Distinct findings shown in a failure message.
SHOWN = 4


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    r = Runner(findings.prepare(), deadline=DEADLINE)
    r.start()
    yield r
    r.stop()


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_target(runner: Runner, name: str, seed: int) -> None:
    found = findings.Collector(None)
    cases = CASES_BY_TARGET.get(name, CASES)
    start = time.perf_counter()
    for case in range(cases):
        value, what = generate(name, runner.corpus, seed, case)
        o = runner.run_case(name, seed, case, value, what)
        if o.finding:
            found.add(o)
            if o.status in ("hang", "crash"):
                break  # each costs a worker restart (and a deadline): one is enough to fail
    seconds = time.perf_counter() - start
    if found.total:
        shown = list(found.first.values())[:SHOWN]
        more = len(found.first) - len(shown)
        pytest.fail(
            f"{found.total} of {cases} cases of {name!r} (seed {seed}, {seconds:.1f} s) are "
            f"findings, {len(found.first)} distinct"
            + (f" ({more} more not shown)" if more > 0 else "")
            + ":\n\n"
            + "\n\n".join(o.report() for o in shown),
            pytrace=False,
        )


def test_generation_is_deterministic(runner: Runner) -> None:
    for name in TARGETS:
        for case in (0, 7):
            assert generate(name, runner.corpus, 3, case) == generate(name, runner.corpus, 3, case)


def test_seeds_are_valid(runner: Runner) -> None:
    """Unmutated seeds decode (and the seed proofs verify): the oracle can tell ok from refused."""
    from fuzz.targets import worker_state

    import bigfile_zk as bz
    from bigfile_zk.storage import StorageProof

    state = worker_state(runner.corpus)
    c = runner.corpus
    for data in c["proofs"]:
        TARGETS["proof_bytes"].run(state, data)
    for text in c["vk_jsons"]:
        TARGETS["vk_json"].run(state, text)
    for data in c["pks"]:
        TARGETS["pk_bytes"].run(state, data)
    for data in c["srs"]:
        TARGETS["srs_bytes"].run(state, data)
    TARGETS["ptau"].run(state, {"data": c["ptau"][0], "option": 0.0})
    for text in c["openings"]:
        TARGETS["opening_json"].run(state, text)
    for data in c["merkle"]:
        TARGETS["merkle_bytes"].run(state, data)
    for data in c["multi"]:
        TARGETS["multi_bytes"].run(state, data)
    StorageProof.from_json(c["storage_jsons"][0])
    for data in c["bfms"]:
        TARGETS["bfm_bytes"].run(state, data)
    for text in c["qmodel_jsons"]:
        TARGETS["qmodel_json"].run(state, text)
    for text in c["compute_proof_jsons"]:
        TARGETS["compute_proof_json"].run(state, text)
    from bigfile_zk import compute

    st = c["compute_statement"]
    seed = compute.ComputeProof.from_json(c["compute_proof_jsons"][0])
    vk = bz.plonk.VerifyingKey.from_bytes(c["compute_vk"])
    assert compute.verify(vk, seed, **st, allow_insecure_srs=True)
    for i, (proof, public, _) in enumerate(c["plonk_cases"]):
        TARGETS["soundness"].run(state, {"seed": i, "vk": i, "proof": proof, "public": public})
    assert bz.FileCommitment.from_json(c["commitment_of_file"]).file_size == len(c["file_data"])


def test_the_oracle_can_fail(runner: Runner) -> None:
    """A wrong public input that verified would be reported: the soundness check is live."""
    from fuzz.targets import worker_state

    state = worker_state(runner.corpus)
    proof, public, _ = runner.corpus["plonk_cases"][0]
    # The unmutated proof with its true statement: not a finding.
    TARGETS["soundness"].run(state, {"seed": 0, "vk": 0, "proof": proof, "public": public})
    # Claim the original statement is a mutation (different public inputs on record): the
    # target must flag the acceptance.
    state["corpus"] = dict(runner.corpus)
    cases = list(runner.corpus["plonk_cases"])
    cases[0] = (proof, [public[0] + 1], cases[0][2])
    state["corpus"]["plonk_cases"] = cases
    with pytest.raises(Finding, match="VERIFIES"):
        TARGETS["soundness"].run(state, {"seed": 0, "vk": 0, "proof": proof, "public": public})
    # And an untyped exception is classified as a finding, a typed one is not.
    o = Outcome("x", 0, 0, "exception")
    assert o.finding and not Outcome("x", 0, 0, "typed").finding


@contextlib.contextmanager
def _address_space(extra: int) -> Iterator[None]:
    """This process may map at most ``extra`` more bytes (a runaway allocation raises
    MemoryError instead of exhausting the machine); the limit is restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    limit_address_space(mapped + extra)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


#: The largest input a case can be: at most 3 JSON steps, a huge string is 3 MiB, and a payload
#: step can double the bytes of one 3 times (100,000 cases per target measured at most 9.4 MB).
MAX_INPUT = 16 * HUGE_STRING
#: Counts a mutated payload can claim (every integer field of a seed's layout is set to each).
HUGE_COUNTS = (2**31, 2**32 - 1, 2**64 - 1)


def test_layouts_of_mutated_payloads_are_bounded(runner: Runner) -> None:
    """The layout walkers also run on payloads that an earlier step of the same case already
    mutated (the JSON "payload" steps): a count read from the data must not make them build
    billions of fields. pk_json case 27346 of seed 20261206 did (a flipped flags byte made a
    class of the copy constraints claim ~2^32 entries): the campaign's parent grew to 24 GB and
    the kernel's OOM killer ended it."""
    walked: Counter[str] = Counter()
    with _address_space(512 * 2**20):
        start = time.perf_counter()
        value, _ = generate("pk_json", runner.corpus, 20261206, 27346)
        assert time.perf_counter() - start < 1.0
        assert _size(value) < 2**20
        for fmt in LAYOUTS:
            for seed in runner.corpus[fmt]:
                variants = []
                for f in LAYOUTS[fmt](seed):
                    if f.kind in ("u8", "u32be", "u32le", "u64be", "u64le"):
                        order = "little" if f.kind.endswith("le") else "big"
                        for v in (0x80, 0xFF) if f.kind == "u8" else HUGE_COUNTS:
                            enc = (v % 2 ** (8 * f.length)).to_bytes(f.length, order)
                            variants.append(seed[: f.offset] + enc + seed[f.offset + f.length :])
                for data in variants:
                    start = time.perf_counter()
                    fields = layout(fmt, data)
                    assert time.perf_counter() - start < 1.0, (fmt, len(fields))
                    assert len(fields) <= len(data), fmt
                    walked[fmt] += 1
    # Every format whose layout has counts was walked with huge ones.
    assert all(walked[fmt] >= 6 for fmt in ("pks", "srs", "multi", "ptau", "proofs")), walked


def test_generation_is_bounded(runner: Runner) -> None:
    """Many cases of every target, generated in the campaign's round-robin order: each input
    stays a few MiB and is made quickly, and no generator changes the shared corpus."""
    before = pickle.dumps(runner.corpus)
    with _address_space(1024 * 2**20):
        for case in range(400):
            for name in TARGETS:
                start = time.perf_counter()
                value, _ = generate(name, runner.corpus, 20261206, case)
                assert time.perf_counter() - start < 2.0, (name, case)
                assert _size(value) <= MAX_INPUT, (name, case, _size(value))
    assert pickle.dumps(runner.corpus) == before
