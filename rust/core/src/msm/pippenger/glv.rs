//! GLV split of BN254 G1 scalars: `k ≡ k1 + λ·k2 (mod r)` with `|k1|, |k2| < 2^126`, so that
//! `k·P = k1·P + k2·φ(P)` with `φ(x, y) = (β·x, y) = λ·P` costing one `Fq` multiplication.
//!
//! The lattice basis and `λ` are arkworks' (`GLVConfig` for `ark_bn254::g1::Config`), and so is
//! the result; only the arithmetic is ours. arkworks' `scalar_decomposition` computes with
//! heap-allocated big integers (about a microsecond per scalar: a second of CPU at 2^20 points),
//! here the same rounding uses precomputed `2^512·n/r` constants and fixed-width integers.

use ark_bn254::{g1::Config, Fr};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ff::{BigInt, PrimeField};

/// Magnitudes of both halves are below `2^HALF_BITS` (see [`decompose`]).
pub const HALF_BITS: u32 = 126;

/// One half of a decomposed scalar: `(negative, |k_i|)`.
pub type Half = (bool, u128);

const COEFFS: [(bool, BigInt<4>); 4] = <Config as GLVConfig>::SCALAR_DECOMP_COEFFS;
const R: [u64; 4] = Fr::MODULUS.0;

/// `n_ij` modulo 2^128 (two's complement). Every `|n_ij|` is below 2^127 for BN254: checked here at
/// compile time, since the bounds below rely on it.
const fn signed(c: (bool, BigInt<4>)) -> u128 {
    let l = c.1 .0;
    assert!(l[2] == 0 && l[3] == 0 && l[1] >> 63 == 0);
    let m = (l[0] as u128) | ((l[1] as u128) << 64);
    if c.0 {
        m
    } else {
        m.wrapping_neg()
    }
}

/// Bits of fixed-point precision of the Babai rounding: `2^SHIFT·|n|/r` is precomputed.
const SHIFT: usize = 512;
/// Limbs of `floor(2^SHIFT·|n| / r)` (below 2^386 for `|n| < 2^127`, `r > 2^253`).
const G_LIMBS: usize = 7;

/// `floor(|n|·2^SHIFT / r)` by shift-and-subtract division, evaluated at compile time.
const fn scaled_inverse(c: (bool, BigInt<4>)) -> [u64; G_LIMBS] {
    const NUM_LIMBS: usize = SHIFT / 64 + 4;
    let n = c.1 .0;
    let mut num = [0u64; NUM_LIMBS];
    let mut i = 0;
    while i < 4 {
        num[SHIFT / 64 + i] = n[i];
        i += 1;
    }
    // The remainder stays below 2r < 2^256, plus one bit while shifting: 5 limbs.
    let mut rem = [0u64; 5];
    let mut q = [0u64; NUM_LIMBS];
    let mut bit = NUM_LIMBS * 64;
    while bit > 0 {
        bit -= 1;
        let mut i = 4;
        while i > 0 {
            rem[i] = (rem[i] << 1) | (rem[i - 1] >> 63);
            i -= 1;
        }
        rem[0] = (rem[0] << 1) | ((num[bit / 64] >> (bit % 64)) & 1);
        let ge = if rem[4] != 0 {
            true
        } else {
            let mut j = 4;
            let mut res = true;
            while j > 0 {
                j -= 1;
                if rem[j] != R[j] {
                    res = rem[j] > R[j];
                    break;
                }
            }
            res
        };
        if ge {
            let mut borrow = 0u64;
            let mut j = 0;
            while j < 5 {
                let rj = if j < 4 { R[j] } else { 0 };
                let (d1, b1) = rem[j].overflowing_sub(rj);
                let (d2, b2) = d1.overflowing_sub(borrow);
                rem[j] = d2;
                borrow = (b1 || b2) as u64;
                j += 1;
            }
            q[bit / 64] |= 1 << (bit % 64);
        }
    }
    let mut g = [0u64; G_LIMBS];
    let mut j = 0;
    while j < NUM_LIMBS {
        if j < G_LIMBS {
            g[j] = q[j];
        } else {
            assert!(q[j] == 0);
        }
        j += 1;
    }
    g
}

const N11: u128 = signed(COEFFS[0]);
const N12: u128 = signed(COEFFS[1]);
const N21: u128 = signed(COEFFS[2]);
const N22: u128 = signed(COEFFS[3]);
const G22: [u64; G_LIMBS] = scaled_inverse(COEFFS[3]);
const G12: [u64; G_LIMBS] = scaled_inverse(COEFFS[1]);

/// `round(k·g / 2^SHIFT)` for `k < r`; the caller guarantees that the result fits 128 bits.
#[inline(always)]
fn mul_shift_round(k: &[u64; 4], g: &[u64; G_LIMBS]) -> u128 {
    let mut t = [0u64; G_LIMBS + 4];
    for (i, &ki) in k.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &gj) in g.iter().enumerate() {
            let s = (ki as u128) * (gj as u128) + t[i + j] as u128 + carry;
            t[i + j] = s as u64;
            carry = s >> 64;
        }
        t[i + G_LIMBS] = carry as u64;
    }
    // + 2^(SHIFT−1), then bits SHIFT..SHIFT+128: the carry into limb SHIFT/64 is the top bit of
    // the limb below.
    const L: usize = SHIFT / 64;
    let lo = (t[L] as u128) | ((t[L + 1] as u128) << 64);
    lo.wrapping_add((t[L - 1] >> 63) as u128)
}

/// Splits `k` into `(k1, k2)` with `k ≡ k1 + λ·k2 (mod r)` and `|k1|, |k2| < 2^126`: exactly
/// arkworks' `GLVConfig::scalar_decomposition` (Babai rounding `β = round((k, 0)·N⁻¹)` on its
/// basis `N`, then `(k1, k2) = (k, 0) − β·N`).
///
/// Exactness: `x = k·|n|/r` is a fraction of denominator `r`, never a half-integer (r is odd), so
/// `x + 1/2` is at least `1/(2r) > 2^−255` away from an integer; our `k·⌊2^512·|n|/r⌋/2^512`
/// undershoots `x` by less than `k/2^512 < 2^−258` and rounds the same way. Bounds: the exact
/// rounding error is at most 1/2 per coordinate, so `|k1| ≤ (|n11| + |n21|)/2 < 2^125.8` and
/// likewise `|k2|`; hence also the halves are exact when computed modulo 2^128.
#[inline]
pub fn decompose(k: &Fr) -> (Half, Half) {
    let k = k.into_bigint().0;
    let a = mul_shift_round(&k, &G22); // round(k·|n22| / r)
    let b = mul_shift_round(&k, &G12); // round(k·|n12| / r)
                                       // β1 = round(k·n22 / r), β2 = round(−k·n12 / r), with the signs of n22 and n12.
    let beta1 = if COEFFS[3].0 { a } else { a.wrapping_neg() };
    let beta2 = if COEFFS[1].0 { b.wrapping_neg() } else { b };
    let k_lo = (k[0] as u128) | ((k[1] as u128) << 64);
    let k1 = k_lo
        .wrapping_sub(beta1.wrapping_mul(N11))
        .wrapping_sub(beta2.wrapping_mul(N21)) as i128;
    let k2 = (beta1
        .wrapping_mul(N12)
        .wrapping_add(beta2.wrapping_mul(N22)))
    .wrapping_neg() as i128;
    ((k1 < 0, k1.unsigned_abs()), (k2 < 0, k2.unsigned_abs()))
}

/// `λ` of the endomorphism, as `Fr` (for tests and callers that recompose).
pub const LAMBDA: Fr = <Config as GLVConfig>::LAMBDA;

/// `β` with `φ(x, y) = (β·x, y) = λ·(x, y)`.
pub const BETA: ark_bn254::Fq = <Config as GLVConfig>::ENDO_COEFFS[0];
