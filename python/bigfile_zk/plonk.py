"""PLONK circuits, keys and proofs over BN254 (``docs/spec/plonk.md``).

A circuit is a Python function over a :class:`Builder`. Inputs are declared by name and read
from the assignment given to :func:`prove`; during :func:`setup` there is no assignment and
every input reads 0, so a circuit function must lay out the same rows whatever its values are
(:func:`prove` checks this). Every gadget is one call into Rust, so building even a 2^16-row
circuit takes a fraction of a second.

>>> def square(b):                                         # doctest: +SKIP
...     x = b.private_input("x")
...     y = b.public_input("y")
...     b.assert_equal(b.mul(x, x), y)
>>> pk = setup(square, srs)
>>> proof = prove(pk, square, {"x": 3, "y": 9})
>>> verify(pk.vk, proof, [9])
True

Unsatisfied witnesses are refused by :func:`prove` with
:class:`~bigfile_zk.errors.UnsatisfiedError`, naming the constraint, the row and the gadget
labels that made the row (see :meth:`Builder.label`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from bigfile_zk import _native
from bigfile_zk._native import SRS, Circuit, Proof, ProvingKey, VerifyingKey
from bigfile_zk._progress import ProgressReporter
from bigfile_zk.errors import ParameterError

__all__ = [
    "Builder",
    "Circuit",
    "CircuitFn",
    "Proof",
    "ProvingKey",
    "Var",
    "VerifyingKey",
    "build",
    "prove",
    "setup",
    "verify",
]

Var = int
"""A circuit variable (an index into the builder)."""


class Builder(_native.PlonkBuilder):
    """The circuit builder: named inputs on top of the native gadgets.

    Gadgets (all return variables): ``constant``, ``add``, ``sub``, ``mul``,
    ``linear_combination``, ``select``, ``cond_swap``, ``to_bits``, ``less_than``,
    ``poseidon`` (1 to 16 inputs, equal to :func:`bigfile_zk.poseidon`), ``poseidon_permute``
    (width 3), ``merkle_root`` (arity 2/4/8/16, as :class:`bigfile_zk.MerkleProof`);
    assertions: ``assert_equal``, ``assert_zero``, ``assert_bool``, ``range_check``,
    ``lookup`` (after ``add_table``). Each method's docstring says what it constrains.

    Gadgets constrain their own inputs: ``select``/``cond_swap`` constrain the selector to be
    boolean and ``less_than`` range-checks both operands, unless earlier rows already prove it
    (outputs of ``to_bits``, ``less_than``, ``assert_bool``, ``range_check``, constants), so no
    caller-side check is needed for soundness and none is paid twice. Inputs
    (``private_input``) are otherwise unconstrained: what a circuit does not constrain, a
    prover chooses.
    """

    def __new__(cls, assignment: Mapping[str, Any] | None = None) -> Builder:
        return super().__new__(cls)

    def __init__(self, assignment: Mapping[str, Any] | None = None) -> None:
        self._assignment = assignment
        self._names: set[str] = set()

    @property
    def proving(self) -> bool:
        """Whether this run has values (``False`` during setup)."""
        return self._assignment is not None

    def _read(self, name: str, count: int | None) -> Any:
        if not isinstance(name, str):
            raise TypeError(f"input names are strings, not {type(name).__name__}")
        if name in self._names:
            raise ParameterError(f"input {name!r} is declared twice")
        self._names.add(name)
        if self._assignment is None:
            return 0 if count is None else [0] * count
        if name not in self._assignment:
            raise ParameterError(f"the assignment has no value for input {name!r}")
        value = self._assignment[name]
        if count is not None:
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise TypeError(f"input {name!r} takes a sequence of {count} ints")
            if len(value) != count:
                raise ParameterError(f"input {name!r} takes {count} values, got {len(value)}")
        return value

    def public_input(self, name: str) -> Var:  # type: ignore[override]
        """Declare the next public input, read from the assignment as ``name``."""
        return super().public_input(self._read(name, None))

    def private_input(self, name: str) -> Var:
        """Declare a private input, read from the assignment as ``name``."""
        return self.input(self._read(name, None))

    def public_inputs(self, name: str, count: int) -> list[Var]:
        """``count`` public inputs read from the sequence ``assignment[name]``."""
        return [super(Builder, self).public_input(v) for v in self._read(name, count)]

    def private_inputs(self, name: str, count: int) -> list[Var]:
        """``count`` private inputs read from the sequence ``assignment[name]``."""
        return [self.input(v) for v in self._read(name, count)]

    @contextmanager
    def label(self, name: str) -> Iterator[None]:
        """Rows made inside carry ``name`` (nested labels join with ``/``) in error messages."""
        self.push_label(name)
        try:
            yield
        finally:
            self.pop_label()


CircuitFn = Callable[[Builder], object]
"""A circuit: a function that lays out rows on the builder it is given."""


def build(circuit: CircuitFn, assignment: Mapping[str, Any] | None = None) -> Circuit:
    """Run ``circuit`` on a fresh builder and lay it out (with its witness)."""
    b = Builder(assignment)
    circuit(b)
    return b.build()


def setup(circuit: CircuitFn, srs: SRS) -> ProvingKey:
    """Keys from the circuit's shape alone (no values); the verifying key is ``pk.vk``.

    The SRS must hold ``5n + 10`` powers for a circuit of ``n`` rows, ``3n + 10`` if no row
    uses the Poseidon round gate (``plonk.md`` §3).
    """
    pk, _ = _native.plonk_setup(build(circuit), srs)
    return pk


def prove(
    pk: ProvingKey,
    circuit: CircuitFn,
    assignment: Mapping[str, Any],
    *,
    blinding: Sequence[int] | None = None,
    progress: bool | None = None,
) -> Proof:
    """Prove ``circuit`` with these input values.

    ``progress`` shows a bar (default: when stderr is a terminal); Ctrl-C stops the proof
    between steps. ``blinding`` (12 scalars, or 18 with lookups) makes the proof
    deterministic, for cross-implementation tests only.
    """
    if assignment is None:
        raise TypeError("prove needs an assignment of the circuit's inputs")
    built = build(circuit, assignment)
    with ProgressReporter(_native.PROVE_STEPS, "proving", progress, unit="step") as bar:
        return _native.plonk_prove(pk, built, blinding, bar)


def verify(
    vk: VerifyingKey,
    proof: Proof,
    public_inputs: Sequence[int],
    *,
    allow_insecure_srs: bool = False,
) -> bool:
    """``True`` iff ``proof`` proves the statement: the circuit of ``vk`` with these public
    inputs (in the order they were declared). ``False`` for any proof that does not.

    The statement is the caller's, so a malformed one raises instead of answering: a public
    input that is not a field element (``FieldElementError`` for ``≥ r`` or negative,
    ``TypeError`` for a bool or non-int) or the wrong number of them (``ParameterError``). A
    key made with the insecure test SRS raises :class:`~bigfile_zk.errors.InsecureSRSError`
    unless ``allow_insecure_srs=True`` (its τ is public: anyone can forge a proof it accepts).
    """
    return _native.plonk_verify(vk, proof, public_inputs, allow_insecure_srs=allow_insecure_srs)
