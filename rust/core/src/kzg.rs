//! KZG polynomial commitments over BN254 (docs/spec/kzg.md): commit in coefficient or
//! evaluation form, open at a point, open several polynomials at one point, verify, and
//! batch-verify any number of openings with one two-pairing check. EVM encodings for points and
//! scalars, with decoders that reject everything non-canonical.
//!
//! Every MSM goes through [`crate::msm`].

use crate::domain::{domain, interpolate};
use crate::encoding::g1_to_bytes;
use crate::error::{Error, Result};
use crate::field;
use crate::srs::Srs;
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{PrimeField, Zero};
use ark_poly::EvaluationDomain;
use sha3::{Digest, Keccak256};

/// One opening claim: commitment, point, value, proof.
pub type Opening = (G1Affine, Fr, Fr, G1Affine);

/// Re-exported so that users (and the bindings) need no direct arkworks dependency.
pub use ark_bn254::{G1Affine as G1, G2Affine as G2};

fn check_len(srs: &Srs, len: usize) -> Result<()> {
    if len > srs.g1.len() {
        return Err(Error::param(format!(
            "a polynomial with {len} coefficients (degree {}) needs an SRS of max degree {}, \
             this one has {}",
            len - 1,
            len - 1,
            srs.max_degree()
        )));
    }
    Ok(())
}

/// `Σ c_i·[τ^i]G1`.
pub fn commit(srs: &Srs, coeffs: &[Fr]) -> Result<G1Affine> {
    check_len(srs, coeffs.len())?;
    Ok(crate::msm::msm(&srs.g1[..coeffs.len()], coeffs)?.into_affine())
}

/// `Σ e_i·[L_i(τ)]G1` for the Lagrange basis of the domain of size `evals.len()`.
pub fn commit_evals(srs: &Srs, evals: &[Fr]) -> Result<G1Affine> {
    check_len(srs, evals.len())?;
    commit(srs, &interpolate(evals)?)
}

/// `[L_i(τ)]G1` for the domain of size `n` (an inverse FFT over G1), for committing many
/// vectors in evaluation form without interpolating each.
pub fn lagrange_basis(srs: &Srs, n: usize) -> Result<Vec<G1Affine>> {
    check_len(srs, n)?;
    let d = domain(n)?;
    let powers: Vec<G1Projective> = srs.g1[..n].iter().map(|p| p.into_group()).collect();
    Ok(G1Projective::normalize_batch(&d.ifft(&powers)))
}

/// `p(z)` by Horner's rule.
pub fn evaluate(coeffs: &[Fr], z: Fr) -> Fr {
    coeffs.iter().rev().fold(Fr::zero(), |acc, c| acc * z + c)
}

/// `(p(X) − p(z)) / (X − z)` by synthetic division (the remainder is `p(z)`).
fn quotient(coeffs: &[Fr], z: Fr) -> Vec<Fr> {
    if coeffs.len() < 2 {
        return Vec::new();
    }
    let mut q = vec![Fr::zero(); coeffs.len() - 1];
    let mut carry = Fr::zero();
    for i in (1..coeffs.len()).rev() {
        carry = coeffs[i] + carry * z;
        q[i - 1] = carry;
    }
    q
}

/// `(p(z), commit((p − p(z)) / (X − z)))`.
pub fn open(srs: &Srs, coeffs: &[Fr], z: Fr) -> Result<(Fr, G1Affine)> {
    check_len(srs, coeffs.len())?;
    Ok((evaluate(coeffs, z), commit(srs, &quotient(coeffs, z))?))
}

/// `e(C − v·G + z·π, H) · e(−π, [τ]H) = 1`.
pub fn verify(srs: &Srs, c: &G1Affine, z: Fr, v: Fr, proof: &G1Affine) -> bool {
    let lhs = c.into_group() - G1Affine::generator() * v + *proof * z;
    Bn254::multi_pairing([lhs, -proof.into_group()], [srs.g2[0], srs.g2[1]]).is_zero()
}

/// `keccak256(tag ‖ items) mod r` (docs/spec/kzg.md, `H_F`).
struct Challenge(Keccak256);

impl Challenge {
    fn new(tag: &[u8]) -> Self {
        let mut h = Keccak256::new();
        h.update(tag);
        Challenge(h)
    }
    fn point(mut self, p: &G1Affine) -> Self {
        self.0.update(g1_to_bytes(p));
        self
    }
    fn scalar(mut self, x: &Fr) -> Self {
        self.0.update(field::to_be_bytes(x));
        self
    }
    fn int(mut self, i: u64) -> Self {
        self.0.update(i.to_be_bytes());
        self
    }
    fn finish(self) -> Fr {
        Fr::from_be_bytes_mod_order(&self.0.finalize())
    }
}

fn open_many_challenge(cs: &[G1Affine], z: Fr, vs: &[Fr]) -> Fr {
    let h = cs
        .iter()
        .fold(Challenge::new(b"bigfile_zk/kzg/open-many"), |h, c| {
            h.point(c)
        })
        .scalar(&z);
    vs.iter().fold(h, |h, v| h.scalar(v)).finish()
}

/// Open several polynomials at one point with one proof: `(values, π)`.
pub fn open_many(srs: &Srs, polys: &[Vec<Fr>], z: Fr) -> Result<(Vec<Fr>, G1Affine)> {
    if polys.is_empty() {
        return Err(Error::param("open_many needs at least one polynomial"));
    }
    let cs = polys
        .iter()
        .map(|p| commit(srs, p))
        .collect::<Result<Vec<_>>>()?;
    let vs: Vec<Fr> = polys.iter().map(|p| evaluate(p, z)).collect();
    let gamma = open_many_challenge(&cs, z, &vs);
    let len = polys.iter().map(Vec::len).max().unwrap_or(0);
    let mut combined = vec![Fr::zero(); len];
    let mut g = Fr::from(1u64);
    for p in polys {
        for (acc, c) in combined.iter_mut().zip(p) {
            *acc += g * c;
        }
        g *= gamma;
    }
    Ok((vs, commit(srs, &quotient(&combined, z))?))
}

/// The single claim `open_many` proves: `(Σ γ^j C_j, Σ γ^j v_j)`.
fn combine_many(cs: &[G1Affine], z: Fr, vs: &[Fr]) -> Option<(G1Affine, Fr)> {
    if cs.is_empty() || cs.len() != vs.len() {
        return None;
    }
    let gamma = open_many_challenge(cs, z, vs);
    let mut g = Fr::from(1u64);
    let mut c = G1Projective::zero();
    let mut v = Fr::zero();
    for (cj, vj) in cs.iter().zip(vs) {
        c += *cj * g;
        v += g * vj;
        g *= gamma;
    }
    Some((c.into_affine(), v))
}

/// Verify an [`open_many`] proof against the polynomials' commitments.
pub fn verify_many(srs: &Srs, cs: &[G1Affine], z: Fr, vs: &[Fr], proof: &G1Affine) -> bool {
    combine_many(cs, z, vs).is_some_and(|(c, v)| verify(srs, &c, z, v, proof))
}

/// Verify any number of openings with one two-pairing check, weighting opening `i` by
/// `ρ_i` (`ρ_0 = 1`) bound to all of them (docs/spec/kzg.md).
pub fn batch_verify(srs: &Srs, openings: &[Opening]) -> bool {
    if openings.is_empty() {
        return false;
    }
    let base = openings.iter().fold(
        Challenge::new(b"bigfile_zk/kzg/batch"),
        |h, (c, z, v, p)| h.point(c).scalar(z).scalar(v).point(p),
    );
    let mut lhs = G1Projective::zero();
    let mut rhs = G1Projective::zero();
    for (i, (c, z, v, p)) in openings.iter().enumerate() {
        let rho = if i == 0 {
            Fr::from(1u64)
        } else {
            Challenge(base.0.clone()).int(i as u64).finish()
        };
        lhs += (c.into_group() - G1Affine::generator() * v + *p * z) * rho;
        rhs += *p * rho;
    }
    Bn254::multi_pairing([lhs, -rhs], [srs.g2[0], srs.g2[1]]).is_zero()
}

/// Open polynomials at two points (PLONK's ζ and ζω): one [`open_many`] per point.
#[allow(clippy::type_complexity)]
pub fn open_two_points(
    srs: &Srs,
    at_first: &[Vec<Fr>],
    z1: Fr,
    at_second: &[Vec<Fr>],
    z2: Fr,
) -> Result<((Vec<Fr>, G1Affine), (Vec<Fr>, G1Affine))> {
    Ok((
        open_many(srs, at_first, z1)?,
        open_many(srs, at_second, z2)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;

    fn rng() -> ark_std::rand::rngs::StdRng {
        use ark_std::rand::SeedableRng;
        ark_std::rand::rngs::StdRng::seed_from_u64(42)
    }

    #[test]
    fn open_verify_and_soundness() {
        let srs = Srs::insecure_for_testing(16, 1).unwrap();
        let mut r = rng();
        let p: Vec<Fr> = (0..12).map(|_| Fr::rand(&mut r)).collect();
        let c = commit(&srs, &p).unwrap();
        let z = Fr::rand(&mut r);
        let (v, pi) = open(&srs, &p, z).unwrap();
        assert_eq!(v, evaluate(&p, z));
        assert!(verify(&srs, &c, z, v, &pi));
        assert!(!verify(&srs, &c, z, v + Fr::from(1u64), &pi));
        assert!(!verify(&srs, &c, z + Fr::from(1u64), v, &pi));
        assert!(!verify(&srs, &pi, z, v, &c));
        assert!(!verify(&srs, &c, z, v, &G1Affine::identity()));
        assert!(!verify(
            &srs,
            &c,
            z,
            v,
            &(pi + G1Affine::generator()).into_affine()
        ));
        assert!(commit(&srs, &[Fr::zero(); 18]).is_err());
    }

    #[test]
    fn evaluation_form_matches_coefficients() {
        let srs = Srs::insecure_for_testing(16, 2).unwrap();
        let mut r = rng();
        let evals: Vec<Fr> = (0..8).map(|_| Fr::rand(&mut r)).collect();
        let coeffs = interpolate(&evals).unwrap();
        let d = domain(8).unwrap();
        for (i, e) in evals.iter().enumerate() {
            assert_eq!(evaluate(&coeffs, d.element(i)), *e);
        }
        let basis = lagrange_basis(&srs, 8).unwrap();
        let via_basis = <G1Projective as ark_ec::VariableBaseMSM>::msm(&basis, &evals)
            .unwrap()
            .into_affine();
        assert_eq!(commit_evals(&srs, &evals).unwrap(), via_basis);
        assert!(domain(6).is_err());
    }

    #[test]
    fn many_and_batch() {
        let srs = Srs::insecure_for_testing(16, 3).unwrap();
        let mut r = rng();
        let polys: Vec<Vec<Fr>> = (0..4)
            .map(|k| (0..(5 + k)).map(|_| Fr::rand(&mut r)).collect())
            .collect();
        let cs: Vec<G1Affine> = polys.iter().map(|p| commit(&srs, p).unwrap()).collect();
        let (z1, z2) = (Fr::rand(&mut r), Fr::rand(&mut r));
        let ((v1, pi1), (v2, pi2)) = open_two_points(&srs, &polys, z1, &polys[..2], z2).unwrap();
        assert!(verify_many(&srs, &cs, z1, &v1, &pi1));
        assert!(verify_many(&srs, &cs[..2], z2, &v2, &pi2));
        let mut bad = v1.clone();
        bad[3] += Fr::from(1u64);
        assert!(!verify_many(&srs, &cs, z1, &bad, &pi1));
        let (c1, w1) = combine_many(&cs, z1, &v1).unwrap();
        let (c2, w2) = combine_many(&cs[..2], z2, &v2).unwrap();
        assert!(batch_verify(&srs, &[(c1, z1, w1, pi1), (c2, z2, w2, pi2)]));
        assert!(!batch_verify(
            &srs,
            &[(c1, z1, w1, pi1), (c2, z2, w2 + Fr::from(1u64), pi2)]
        ));
        assert!(!batch_verify(&srs, &[(c1, z1, w1, pi2), (c2, z2, w2, pi1)]));
        assert!(!batch_verify(&srs, &[]));
    }
}
