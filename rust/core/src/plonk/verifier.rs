//! The verifier (`docs/spec/plonk.md` §6): one MSM and one two-pairing check.

use super::keys::VerifyingKey;
use super::packed::AnyProof;
pub use super::proof::check_statement;
use super::proof::{challenges, linearisation, Proof, Term};
use crate::error::Result;
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One};

/// Whether `proof` proves the circuit of `vk` for `public` (§6). Never panics.
///
/// The statement is the caller's: a wrong number of public inputs is an error (`Err`), not a
/// false statement. The proof is the prover's: any proof that is not a valid proof of this
/// statement under this key, including one whose shape (lookup parts present or absent) does
/// not match the key, gives `Ok(false)`.
pub fn verify(vk: &VerifyingKey, proof: &Proof, public: &[Fr]) -> Result<bool> {
    check_statement(vk, public.len())?;
    Ok(verify_checked(vk, proof, public))
}

/// [`verify`] for a proof of any spec version; a proof whose version does not match the key's
/// is `Ok(false)`.
pub fn verify_any(vk: &VerifyingKey, proof: &AnyProof, public: &[Fr]) -> Result<bool> {
    match proof {
        AnyProof::TwoPoint(p) => Ok(!vk.packed && verify(vk, p, public)?),
        AnyProof::Packed(p) => super::packed::verify(vk, p, public),
    }
}

/// [`verify_bytes`] for a key of any spec version.
pub fn verify_any_bytes(vk: &VerifyingKey, proof: &[u8], public: &[[u8; 32]]) -> Result<bool> {
    if !vk.packed {
        return verify_bytes(vk, proof, public);
    }
    check_statement(vk, public.len())?;
    let xs = public
        .iter()
        .map(|x| crate::field::from_be_slice(x, "public input"))
        .collect::<Result<Vec<Fr>>>()?;
    super::packed::verify_bytes(vk, proof, &xs)
}

fn verify_checked(vk: &VerifyingKey, proof: &Proof, public: &[Fr]) -> bool {
    if vk.packed {
        return false; // a version-3 key takes only version-3 proofs
    }
    // The proof's lookup parts: all present for a lookup key, all absent otherwise. (Its fields
    // are public, so a hand-made `Proof` may mix them; it must not select a weaker check.)
    let lookup = match (vk.lookup, proof.m, proof.phi, proof.evals.lookup) {
        (Some(key), Some(m), Some(phi), Some(evals)) => Some((key, m, phi, evals)),
        (None, None, None, None) => None,
        _ => return false,
    };
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
            // Lookup terms come only from lookup evaluations, whose presence was matched above.
            Term::Phi | Term::M | Term::QK => match (term, lookup) {
                (Term::Phi, Some((_, _, phi, _))) => phi,
                (Term::M, Some((_, m, _, _))) => m,
                (_, Some((key, _, _, _))) => key[0],
                (_, None) => return false,
            },
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
    if let Some((l, _, phi, (t_bar, phi_next))) = lookup {
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

/// Decode and verify, as the EVM verifier does: `Ok(false)` for any malformed or wrong proof
/// bytes; `Err` for a malformed statement (a public input `≥ r`, or the wrong count), which is
/// the caller's error.
pub fn verify_bytes(vk: &VerifyingKey, proof: &[u8], public: &[[u8; 32]]) -> Result<bool> {
    check_statement(vk, public.len())?;
    let xs = public
        .iter()
        .map(|x| crate::field::from_be_slice(x, "public input"))
        .collect::<Result<Vec<Fr>>>()?;
    let Ok(proof) = Proof::from_evm_bytes(proof, vk.lookup.is_some()) else {
        return Ok(false);
    };
    Ok(verify_checked(vk, &proof, &xs))
}
