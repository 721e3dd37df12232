//! Multi-scalar multiplication on BN254 G1: `Σ s_i·P_i`.
//!
//! Every MSM of the crate (KZG commitments, SRS checks, the prover) goes through [`msm`], so that
//! the implementation can change in one place.

pub mod pippenger;

use crate::error::{Error, Result};
use ark_bn254::{Fr, G1Affine, G1Projective};

/// `Σ scalars[i]·bases[i]` with the CPU MSM of this crate.
pub fn msm(bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective> {
    if bases.len() != scalars.len() {
        return Err(Error::param(format!(
            "an MSM needs as many scalars as points: {} points, {} scalars",
            bases.len(),
            scalars.len()
        )));
    }
    Ok(pippenger::msm(bases, scalars))
}
