//! The verifier (`docs/spec/plonk.md` §6): one MSM and one two-pairing check.

use super::keys::VerifyingKey;
use super::proof::{challenges, linearisation, Proof, Term};
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One, PrimeField};

/// Whether `proof` proves the circuit of `vk` for `public`. Never panics; any malformed or
/// false input gives `false`.
pub fn verify(vk: &VerifyingKey, proof: &Proof, public: &[Fr]) -> bool {
    if public.len() != vk.num_public || proof.has_lookups() != vk.lookup.is_some() {
        return false;
    }
    let pts = proof.points();
    if pts.iter().any(|p| p.is_zero() || !p.is_on_curve()) {
        return false;
    }
    let ch = challenges(vk, public, proof);
    let n = vk.n();
    if ch.zeta.pow([n as u64]).is_one() {
        return false;
    }
    let e = &proof.evals;
    let (r0, terms) = linearisation(vk, public, &ch, e);
    let (nu, u) = (ch.nu, ch.u);
    let zeta_w = ch.zeta * vk.omega();

    // [B] = ζ·W_ζ + uζω·W_ζω + [R] + u·[R'] − (R(ζ) + u·R'(ζω))·G as one MSM.
    let mut bases: Vec<G1Affine> = Vec::with_capacity(32);
    let mut scalars: Vec<Fr> = Vec::with_capacity(32);
    let mut push = |p: G1Affine, s: Fr| {
        bases.push(p);
        scalars.push(s);
    };
    for (term, s) in terms {
        let p = match term {
            Term::Selector(i) => vk.selectors[i],
            Term::Z => proof.z,
            Term::Sigma3 => vk.sigma[2],
            Term::Phi => proof.phi.expect("lookup proof"),
            Term::M => proof.m.expect("lookup proof"),
            Term::QK => vk.lookup.expect("lookup key")[0],
            Term::T => proof.t,
        };
        push(p, s);
    }
    let nu2 = nu.square();
    let nu3 = nu2 * nu;
    let nu4 = nu2.square();
    let nu6 = nu4 * nu2;
    let mut r_zeta =
        -r0 + nu * e.a + nu2 * e.b + nu3 * e.c + nu4 * e.s1 + nu4 * nu * e.s2 + nu6 * e.q_pos;
    push(proof.a, nu + u);
    push(proof.b, nu2 + u * nu);
    push(proof.c, nu3 + u * nu2);
    push(proof.z, u * nu3);
    push(vk.sigma[0], nu4);
    push(vk.sigma[1], nu4 * nu);
    push(vk.selectors[5], nu6);
    push(vk.selectors[6], nu6);
    let mut r_next = e.a_next + nu * e.b_next + nu2 * e.c_next + nu3 * e.z_next;
    if let (Some(l), Some((t_bar, phi_next)), Some(phi)) = (vk.lookup, e.lookup, proof.phi) {
        let nu7 = nu6 * nu;
        push(l[1], nu7);
        push(l[2], nu7 * ch.eta);
        push(l[3], nu7 * ch.eta.square());
        r_zeta += nu7 * t_bar;
        push(phi, u * nu4);
        r_next += nu4 * phi_next;
    }
    push(proof.w_zeta, ch.zeta);
    push(proof.w_zeta_omega, u * zeta_w);
    push(G1Affine::generator(), -(r_zeta + u * r_next));
    let b = match crate::msm::msm(&bases, &scalars) {
        Ok(b) => b,
        Err(_) => return false,
    };
    let a: G1Projective = proof.w_zeta.into_group() + proof.w_zeta_omega * u;
    let lhs = Bn254::multi_pairing([(-a).into_affine(), b.into_affine()], [vk.g2[1], vk.g2[0]]);
    lhs.0.is_one()
}

/// Decode and verify; `false` for any malformed proof or out-of-range public input.
pub fn verify_bytes(vk: &VerifyingKey, proof: &[u8], public: &[[u8; 32]]) -> bool {
    let Ok(proof) = Proof::from_evm_bytes(proof, vk.lookup.is_some()) else {
        return false;
    };
    let mut xs = Vec::with_capacity(public.len());
    for p in public {
        match Fr::from_bigint(ark_ff::BigInt::new(std::array::from_fn(|i| {
            u64::from_be_bytes(p[32 - 8 * (i + 1)..32 - 8 * i].try_into().expect("8"))
        }))) {
            Some(x) => xs.push(x),
            None => return false,
        }
    }
    verify(vk, &proof, &xs)
}
