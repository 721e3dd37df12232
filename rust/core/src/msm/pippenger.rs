//! The CPU MSM (placeholder: arkworks' `VariableBaseMSM` until ours replaces it).

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::VariableBaseMSM;

/// `Σ scalars[i]·bases[i]`; `bases.len() == scalars.len()` is the caller's duty.
pub fn msm(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    G1Projective::msm(bases, scalars).expect("equal lengths")
}
