"""circomlib's Poseidon over the BN254 scalar field (``docs/spec/poseidon.md``).

The round constants and the MDS matrix are *regenerated* here from the Grain LFSR of the
Poseidon paper's reference script (``generate_parameters_grain.sage``) instead of being copied
from circomlib's tables: a reference implementation that copied the same tables as the fast
implementation could not catch a transcription error in them. The known answers of the spec
(and the circomlibjs cross-check in the tests) then pin the generator down.

This is the textbook form of the permutation (a full ``t x t`` matrix product every round),
written for clarity; the Rust core uses the optimised, algebraically equal form.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache

from .field import R_BITS, R, check_element, check_elements, check_int, inv

#: Number of full rounds, half before and half after the partial rounds.
N_ROUNDS_F: int = 8

#: Number of partial rounds for widths ``t = 2 .. 17`` (circomlib's ``N_ROUNDS_P``): the
#: paper's recommended counts for 128-bit security, rounded up as circomlib did.
N_ROUNDS_P: tuple[int, ...] = (
    56,
    57,
    56,
    60,
    60,
    63,
    64,
    63,
    60,
    66,
    60,
    65,
    70,
    60,
    64,
    68,
)

#: Supported permutation widths and hash arities (``t = n_inputs + 1``).
MIN_WIDTH: int = 2
MAX_WIDTH: int = MIN_WIDTH + len(N_ROUNDS_P) - 1  # 17
MIN_INPUTS: int = MIN_WIDTH - 1  # 1
MAX_INPUTS: int = MAX_WIDTH - 1  # 16

# Parameters of the reference generator, as circomlib invoked it:
# ``sage generate_parameters_grain.sage 1 0 254 t 8 R_P 0x30644e72...``.
_GRAIN_FIELD = 1  # prime field GF(p)
_GRAIN_SBOX = 0  # x^alpha (alpha = 5), as opposed to x^-1


def check_width(t: object) -> int:
    """Return ``t`` if it is a supported permutation width (2..17)."""
    width = check_int(t, "Poseidon width t")
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise ValueError(f"Poseidon width t must be in {MIN_WIDTH}..{MAX_WIDTH}, got {width}")
    return width


def partial_rounds(t: int) -> int:
    """``R_P`` for width ``t``."""
    return N_ROUNDS_P[check_width(t) - MIN_WIDTH]


# --- parameter generation -----------------------------------------------------------


def _grain_bits(t: int) -> Iterator[int]:
    """The Grain LFSR's output bit stream for width ``t``.

    The 80-bit register is seeded with the instance description (so every width gets an
    independent stream), clocked 160 times to discard the weak initial output, and its
    output is then "self-shrunk": bits are taken in pairs ``(b1, b2)`` and ``b2`` is emitted
    only when ``b1 == 1``. This is what makes the stream non-linear.
    """
    seed_fields = (  # (value, bit width), most significant field first
        (_GRAIN_FIELD, 2),
        (_GRAIN_SBOX, 4),
        (R_BITS, 12),
        (t, 12),
        (N_ROUNDS_F, 10),
        (partial_rounds(t), 10),
    )
    state: list[int] = []
    for value, width in seed_fields:
        state.extend((value >> k) & 1 for k in reversed(range(width)))
    state.extend([1] * 30)
    assert len(state) == 80

    def clock() -> int:
        # b[i+80] = b[i+62] ^ b[i+51] ^ b[i+38] ^ b[i+23] ^ b[i+13] ^ b[i]
        bit = state[62] ^ state[51] ^ state[38] ^ state[23] ^ state[13] ^ state[0]
        del state[0]
        state.append(bit)
        return bit

    for _ in range(160):
        clock()
    while True:
        b1 = clock()
        b2 = clock()
        if b1:
            yield b2


def _take_int(bits: Iterator[int], n: int) -> int:
    """The next ``n`` bits of the stream as a big-endian integer."""
    value = 0
    for _ in range(n):
        value = (value << 1) | next(bits)
    return value


@cache
def _parameters(t: int) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """Round constants and MDS matrix for width ``t``, derived from one Grain stream.

    Round constants are sampled by *rejection* (a 254-bit draw ``>= R`` is discarded), but the
    MDS seeds are *reduced* modulo ``R``, as in the reference script (``F(grain_random_bits(n))``).
    The two sampling rules are not interchangeable: only this combination reproduces circomlib.
    """
    bits = _grain_bits(t)

    constants: list[int] = []
    for _ in range((N_ROUNDS_F + partial_rounds(t)) * t):
        value = _take_int(bits, R_BITS)
        while value >= R:
            value = _take_int(bits, R_BITS)
        constants.append(value)

    # Cauchy matrix M[i][j] = 1 / (x_i + y_j); it is MDS when all x_i, y_j are distinct and
    # no x_i + y_j is 0. The reference script redraws all 2t values until that holds.
    while True:
        seeds = [_take_int(bits, R_BITS) % R for _ in range(2 * t)]
        xs, ys = seeds[:t], seeds[t:]
        if len(set(seeds)) == 2 * t and all((x + y) % R != 0 for x in xs for y in ys):
            break
    matrix = tuple(tuple(inv(x + y) for y in ys) for x in xs)
    return tuple(constants), matrix


def round_constants(t: int) -> list[int]:
    """The ``(R_F + R_P) · t`` round constants for width ``t``, round by round."""
    return list(_parameters(check_width(t))[0])


def mds(t: int) -> list[list[int]]:
    """The ``t x t`` MDS matrix ``M`` for width ``t``; the mix step is ``new = M · state``."""
    return [list(row) for row in _parameters(check_width(t))[1]]


# --- the permutation ----------------------------------------------------------------


def _sbox(x: int) -> int:
    return pow(x, 5, R)


def _permute_unchecked(state: list[int]) -> list[int]:
    t = len(state)
    constants, matrix = _parameters(t)
    n_partial = partial_rounds(t)
    first_partial, first_final_full = N_ROUNDS_F // 2, N_ROUNDS_F // 2 + n_partial
    for rnd in range(N_ROUNDS_F + n_partial):
        # Add the round constants. The sums are left unreduced: the S-box (``pow`` mod R)
        # and the matrix product below reduce them, which saves a third of the run time.
        state = [s + c for s, c in zip(state, constants[rnd * t : (rnd + 1) * t], strict=True)]
        if rnd < first_partial or rnd >= first_final_full:
            state = [_sbox(s) for s in state]
        else:
            state[0] = _sbox(state[0])
        # new[i] = Σ_j M[i][j] · state[j]
        state = [sum(m * s for m, s in zip(row, state, strict=True)) % R for row in matrix]
    return state


def permute(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation of width ``t = len(state)`` (2..17) on canonical elements."""
    values = check_elements(state, "Poseidon state element")
    check_width(len(values))
    return _permute_unchecked(values)


def _check_inputs(inputs: Sequence[int]) -> list[int]:
    values = check_elements(inputs, "Poseidon input")
    if not MIN_INPUTS <= len(values) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes {MIN_INPUTS}..{MAX_INPUTS} inputs, got {len(values)}")
    return values


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib's ``Poseidon(n)``: permute ``[0, *inputs]`` and return the first element."""
    return _permute_unchecked([0, *_check_inputs(inputs)])[0]


def poseidon_ex(inputs: Sequence[int], init_state: int = 0, n_out: int = 1) -> list[int]:
    """circomlib's ``PoseidonEx`` / circomlibjs ``poseidon(inputs, initState, nOut)``.

    Like :func:`poseidon` but with a chosen capacity element and the first ``n_out`` state
    elements returned; the file-commitment leaf sponge's first block is one such call.
    """
    values = _check_inputs(inputs)
    capacity = check_element(init_state, "Poseidon initial state")
    count = check_int(n_out, "n_out")
    if not 1 <= count <= len(values) + 1:
        raise ValueError(f"n_out must be in 1..{len(values) + 1}, got {count}")
    return _permute_unchecked([capacity, *values])[:count]
