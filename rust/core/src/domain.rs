//! Radix-2 evaluation domains over F_r (`docs/spec/kzg.md`): the domain of a size, interpolation
//! on it, and evaluation on a coset of it, shared by the SRS (Lagrange bases), KZG and PLONK.

use crate::error::{Error, Result};
use crate::fft;
use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

/// The largest domain: 2^28 points (BN254's F_r has 2-adicity 28).
pub const MAX_LOG_SIZE: u32 = 28;

/// The radix-2 domain of size `n` (a power of two, at most 2^28).
pub fn domain(n: usize) -> Result<Radix2EvaluationDomain<Fr>> {
    if n == 0 || !n.is_power_of_two() || n > 1 << MAX_LOG_SIZE {
        return Err(Error::param(format!(
            "evaluation domains have a power-of-two size up to 2^28, not {n}"
        )));
    }
    Ok(Radix2EvaluationDomain::new(n).expect("power of two within the 2-adicity"))
}

/// Coefficients of the polynomial with these values on the domain of size `evals.len()`.
pub fn interpolate(evals: &[Fr]) -> Result<Vec<Fr>> {
    domain(evals.len())?;
    let mut c = evals.to_vec();
    fft::ifft_in_place(&mut c);
    Ok(c)
}

/// The polynomial with coefficients `c` (any length) on the coset `shift·H`, `|H| = n` a power
/// of two: fold `X^n = shift^n` first, so one size-`n` FFT serves a polynomial of any degree.
pub fn on_coset(n: usize, shift: Fr, c: &[Fr]) -> Vec<Fr> {
    let shift_n = shift.pow([n as u64]);
    let mut folded = c[..c.len().min(n)].to_vec();
    folded.resize(n, Fr::zero());
    let mut s = Fr::one();
    for chunk in c.chunks(n).skip(1) {
        s *= shift_n;
        for (f, x) in folded.iter_mut().zip(chunk) {
            *f += s * x;
        }
    }
    fft::coset_fft_in_place(&mut folded, shift);
    folded
}
