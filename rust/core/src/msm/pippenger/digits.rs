//! Signed-digit (Booth) recoding of the GLV half-scalars.
//!
//! Digit `i` of `m` in radix `2^c` is `d_i = raw_i + b_{i−1} − 2^c·b_i`, where `raw_i` are the `c`
//! bits at `i·c` and `b_i` the top one of them. It lies in `[−2^(c−1), 2^(c−1)]`, so `2^(c−1)`
//! buckets serve a window, and it depends on `c + 1` bits of `m` only: no carry chain, every
//! window is recoded independently on the fly. The sum telescopes to `m − b_{w−1}·2^(w·c)`, exact
//! as long as `m < 2^(w·c − 1)`.

use super::glv::HALF_BITS;

/// Number of windows of width `c` for magnitudes below `2^HALF_BITS`: the smallest `w` with
/// `w·c ≥ HALF_BITS + 1` (one spare bit so that the top window never carries out).
#[inline]
pub const fn window_count(c: u32) -> u32 {
    (HALF_BITS + 1).div_ceil(c)
}

/// Digit `i` (window width `c`, `2 ≤ c ≤ 30`) of `m < 2^HALF_BITS`.
#[inline(always)]
pub fn digit(m: u128, i: u32, c: u32) -> i32 {
    // Bits i·c − 1 ..= i·c + c − 1 of m, i.e. bits i·c ..= i·c + c of 2m (m < 2^126: no overflow).
    let v = (((m << 1) >> (i * c)) as u32) & ((2u32 << c) - 1);
    (((v >> 1) + (v & 1)) as i32) - (((v >> c) << c) as i32)
}
