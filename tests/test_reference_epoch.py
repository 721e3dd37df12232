"""The epoch reference (``docs/spec/proof-of-storage-epoch.md``): its vectors are current, its
relation refuses what the circuit refuses, and its sampling catches a provider missing a file
at the rate the spec states, measured over many seeds (no proving)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from bigfile_zk.reference import _gen_epoch_vectors as gen
from bigfile_zk.reference import epoch as ref
from bigfile_zk.reference import storage as ref_storage
from bigfile_zk.reference._gen_vectors import sha_element

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "vectors" / "epoch.json"
PROVER = gen.PROVER


def test_vectors_are_current() -> None:
    assert json.loads(VECTORS.read_text()) == gen.epoch_vectors(), (
        "run: PYTHONPATH=python python -m bigfile_zk.reference._gen_epoch_vectors"
    )


def _within_binomial(caught: int, trials: int, p: float) -> None:
    # Four standard deviations: a correct sampler fails this about once in 16,000 runs, and
    # the seeds are fixed (sha256 of a label), so a run that passes always passes.
    sd = math.sqrt(trials * p * (1 - p))
    assert abs(caught - trials * p) <= 4 * sd, (caught, trials * p, sd)


def test_a_dropped_file_is_caught_at_the_stated_rate() -> None:
    """A provider dropped the whole file in slot 17, and half the chunks (5 of 10) of the file
    in slot 33, of a 50-file catalogue: over 500 epoch seeds, the default parameter set
    catches each at ``1 - escape_probability`` (spec "Security"), not more, not less."""
    files, (m, k) = 50, ref.PARAMETER_SETS[0]
    dropped, partial, missing = 17, 33, {1, 4, 5, 7, 9}
    trials = 500
    whole_caught = partial_caught = 0
    for t in range(trials):
        seed = sha_element(f"epoch escape {t}")
        picked = ref.slots(seed, PROVER, m, files)
        whole_caught += dropped in picked
        partial_caught += any(
            set(ref.chunk_challenges(seed, PROVER, j, k, 10)) & missing
            for j, slot in enumerate(picked)
            if slot == partial
        )
    p_whole = 1 - ref.escape_probability(files, m, k, 1.0)
    p_partial = 1 - ref.escape_probability(files, m, k, 0.5)
    assert p_whole == pytest.approx(1 - (1 - 1 / files) ** m)
    _within_binomial(whole_caught, trials, p_whole)
    _within_binomial(partial_caught, trials, p_partial)
    # The two rates (0.55 and 0.33) differ by more than the tolerance: the measurement tells a
    # whole file from half a file, so a sampler that ignored the chunks would fail it.
    assert p_whole - p_partial > 2 * 4 * math.sqrt(trials * 0.25) / trials


def test_escape_probabilities_over_epochs() -> None:
    # Independent epochs multiply; the spec's table for N = 10,000 (rounded there).
    p1 = ref.escape_probability(10_000, 40, 1, 1.0)
    assert ref.escape_probability(10_000, 40, 1, 1.0, epochs=100) == pytest.approx(p1**100)
    assert p1 == pytest.approx(0.99601, abs=1e-5)
    assert ref.escape_probability(10_000, 40, 1, 1.0, epochs=1000) == pytest.approx(
        0.0183, abs=1e-4
    )
    assert ref.escape_probability(10_000, 80, 1, 0.1, epochs=1000) == pytest.approx(0.449, abs=1e-3)


def _honest(
    sizes: list[int | None], m: int, k: int, label: str
) -> tuple[tuple[int, int, int], int, int, list[ref.Sample], list[int]]:
    files = [None if s is None else gen._file(i, s) for i, s in enumerate(sizes)]
    leaves = [0 if f is None else f[2] for f in files]
    root = ref.catalogue_root(leaves)
    seed = sha_element(label)
    samples: list[ref.Sample] = []
    for j, slot in enumerate(ref.slots(seed, PROVER, m, len(leaves))):
        f = files[slot]
        path = ref.catalogue_path(leaves, slot)
        if f is None:
            samples.append(ref.Sample(slot, 0, path, None))
            continue
        data, tree, _ = f
        n = -(-len(data) // ref_storage.CHUNK_SIZE)
        openings = [
            ref_storage.Opening(
                data[i * ref_storage.CHUNK_SIZE : (i + 1) * ref_storage.CHUNK_SIZE],
                [s[0] for s in tree.proof(i).siblings],
            )
            for i in ref.chunk_challenges(seed, PROVER, j, k, n)
        ]
        samples.append(
            ref.Sample(slot, leaves[slot], path, ref.File(tree.root, len(data), openings))
        )
    statement = (ref.catalogue_commitment(root, len(leaves)), seed, PROVER)
    return statement, root, len(leaves), samples, leaves


def test_relation_refuses_forgeries() -> None:
    sizes = [10, 2 * 992, None, 3 * 992 - 1]
    m, k = 3, 2
    # A seed with a sample on the removed file (slot 2) and one on a real file.
    for t in range(200):
        st, root, count, samples, leaves = _honest(sizes, m, k, f"epoch relation {t}")
        if any(s.slot == 2 for s in samples) and any(s.file for s in samples):
            break
    assert ref.relation_holds(m, k, st, root, count, samples)
    j = next(i for i, s in enumerate(samples) if s.file is not None)
    real = samples[j]
    assert real.file is not None

    def with_sample(s: ref.Sample) -> list[ref.Sample]:
        return [*samples[:j], s, *samples[j + 1 :]]

    # Another K, seed or provider.
    for other in [(st[0] + 1, st[1], st[2]), (st[0], st[1] + 1, st[2]), (st[0], st[1], 1)]:
        assert not ref.relation_holds(m, k, other, root, count, samples)
    # A corrupt chunk.
    o = real.file.openings[0]
    bad_file = replace(real.file, openings=[replace(o, data=bytes([o.data[0] ^ 1]) + o.data[1:])])
    assert not ref.relation_holds(m, k, st, root, count, with_sample(replace(real, file=bad_file)))
    # An "empty" claim for a filled slot (leaf 0 on its path), or no file for its leaf.
    assert not ref.relation_holds(m, k, st, root, count, with_sample(replace(real, leaf=0)))
    assert not ref.relation_holds(m, k, st, root, count, with_sample(replace(real, file=None)))
    # A slot beyond count: a valid opening of a padding zero, but not the sampled slot.
    beyond = real.slot + count
    padded = leaves + [0] * (beyond + 1 - count)
    dodge = ref.Sample(beyond, 0, ref.catalogue_path(padded, beyond), None)
    assert ref.catalogue_root(padded) == root
    assert not ref.relation_holds(m, k, st, root, count, with_sample(dodge))
    # A stale catalogue: a file added, the old witness against the new K.
    new_leaves = [*leaves, gen._file(len(leaves), 500)[2]]
    new_k = ref.catalogue_commitment(ref.catalogue_root(new_leaves), len(new_leaves))
    assert not ref.relation_holds(m, k, (new_k, st[1], st[2]), root, count, samples)
    with pytest.raises(ValueError):
        ref.slots(1, 2, 3, 0)
    with pytest.raises(ValueError):
        ref.catalogue_root([0] * (ref.MAX_FILES + 1))
