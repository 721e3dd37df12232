//! Spec version 3 (`docs/spec/plonk.md` §8): the same circuit and quotient as version 2, with
//! the witness polynomials committed packed (`C1 = a(X⁴) + X b(X⁴) + X² c(X⁴) + X³ m(X⁴)`,
//! `C2 = z(X²) + X φ(X²)`), evaluated at `ζ` and `ζω`, and every opening checked by one
//! multi-point (shplonk) opening `W, W'`. The EVM verifier pays one scalar multiplication per
//! commitment, so this saves it five. The proof, its encoding, the linearisation and the
//! verifier are here; the prover shares rounds 1–3 with version 2 (`prover.rs`).

use super::gates::Leaf;
use super::keys::VerifyingKey;
use super::proof::{check_statement, shared, Shared, Term};
use super::transcript::Transcript;
use crate::encoding::{g1_from_bytes, g1_to_bytes, scalar_from_bytes};
use crate::error::{Error, Result};
use crate::field;
use ark_bn254::{Bn254, Fr, G1Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{batch_inversion, Field, One, Zero};

/// The versioned encoding's version byte of a version-3 key's proof.
pub const PACKED_PROOF_VERSION: u8 = 3;
/// Points and evaluations of the EVM encoding: 5·64 + 16·32 bytes.
pub const PACKED_PROOF_LEN: usize = 5 * 64 + 16 * 32;

/// The 16 evaluations of round 4, in proof order (§8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedEvaluations {
    /// `a, b, c, m` at `ζ` (the slots of `C1`).
    pub wires: [Fr; 4],
    /// `a, b, c, m` at `ζω`.
    pub wires_next: [Fr; 4],
    /// `z, φ` at `ζ` (the slots of `C2`).
    pub acc: [Fr; 2],
    /// `z, φ` at `ζω`.
    pub acc_next: [Fr; 2],
    pub s1: Fr,
    pub s2: Fr,
    /// `(q_F + q_P)(ζ)`.
    pub q_pos: Fr,
    /// `(T1 + η T2 + η² T3)(ζ)`.
    pub t: Fr,
}

impl PackedEvaluations {
    pub fn to_vec(&self) -> Vec<Fr> {
        let mut v = Vec::with_capacity(16);
        v.extend(self.wires);
        v.extend(self.wires_next);
        v.extend(self.acc);
        v.extend(self.acc_next);
        v.extend([self.s1, self.s2, self.q_pos, self.t]);
        v
    }

    fn from_slice(s: &[Fr]) -> Self {
        PackedEvaluations {
            wires: s[0..4].try_into().expect("4"),
            wires_next: s[4..8].try_into().expect("4"),
            acc: s[8..10].try_into().expect("2"),
            acc_next: s[10..12].try_into().expect("2"),
            s1: s[12],
            s2: s[13],
            q_pos: s[14],
            t: s[15],
        }
    }
}

/// A version-3 proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedProof {
    pub c1: G1Affine,
    pub c2: G1Affine,
    pub t: G1Affine,
    pub w: G1Affine,
    pub w_prime: G1Affine,
    pub evals: PackedEvaluations,
}

impl PackedProof {
    pub fn points(&self) -> [G1Affine; 5] {
        [self.c1, self.c2, self.t, self.w, self.w_prime]
    }

    /// The bytes `verifyProof(bytes proof, …)` takes: 5 points, then 16 evaluations.
    pub fn to_evm_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PACKED_PROOF_LEN);
        for p in self.points() {
            out.extend_from_slice(&g1_to_bytes(&p));
        }
        for x in self.evals.to_vec() {
            out.extend_from_slice(&field::to_be_bytes(&x));
        }
        out
    }

    /// Strict decoder: exact length, canonical scalars, points on the curve and not the
    /// identity.
    pub fn from_evm_bytes(b: &[u8]) -> Result<Self> {
        const WHAT: &str = "PLONK proof (version 3)";
        if b.len() != PACKED_PROOF_LEN {
            return Err(Error::decode(
                WHAT,
                format!("{} bytes (expected {PACKED_PROOF_LEN})", b.len()),
            ));
        }
        let mut pts = [G1Affine::zero(); 5];
        for (i, p) in pts.iter_mut().enumerate() {
            *p = g1_from_bytes(&b[64 * i..64 * (i + 1)])?;
            if p.is_zero() {
                return Err(Error::decode(WHAT, format!("point {i} is the identity")));
            }
        }
        let scalars: Vec<Fr> = b[5 * 64..]
            .chunks(32)
            .map(scalar_from_bytes)
            .collect::<Result<_>>()?;
        let [c1, c2, t, w, w_prime] = pts;
        Ok(PackedProof {
            c1,
            c2,
            t,
            w,
            w_prime,
            evals: PackedEvaluations::from_slice(&scalars),
        })
    }
}

/// A proof of any spec version: version 1/2 keys (two opening points, §5) or version 3
/// (packed commitments, one multi-point opening, §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyProof {
    TwoPoint(super::proof::Proof),
    Packed(PackedProof),
}

impl AnyProof {
    /// The EVM bytes (`verifyProof`'s `proof`).
    pub fn to_evm_bytes(&self) -> Vec<u8> {
        match self {
            AnyProof::TwoPoint(p) => p.to_evm_bytes(),
            AnyProof::Packed(p) => p.to_evm_bytes(),
        }
    }

    /// Decode the EVM bytes of a proof against `vk` (the key fixes the shape).
    pub fn from_evm_bytes(b: &[u8], vk: &VerifyingKey) -> Result<Self> {
        if vk.packed {
            PackedProof::from_evm_bytes(b).map(AnyProof::Packed)
        } else {
            super::proof::Proof::from_evm_bytes(b, vk.lookup.is_some()).map(AnyProof::TwoPoint)
        }
    }

    /// The encoding version byte: 1 (keys of versions 1, 2) or 3.
    pub fn version(&self) -> u8 {
        match self {
            AnyProof::TwoPoint(_) => super::proof::PROOF_VERSION,
            AnyProof::Packed(_) => PACKED_PROOF_VERSION,
        }
    }

    pub fn has_lookups(&self) -> bool {
        match self {
            AnyProof::TwoPoint(p) => p.has_lookups(),
            AnyProof::Packed(_) => true,
        }
    }

    /// `"BFPF" ‖ version ‖ flags ‖ EVM bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = super::proof::PROOF_MAGIC.to_vec();
        out.push(self.version());
        out.push(self.has_lookups() as u8);
        out.extend(self.to_evm_bytes());
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() >= 6 && &b[..4] == super::proof::PROOF_MAGIC && b[4] == PACKED_PROOF_VERSION {
            if b[5] != 1 {
                return Err(Error::decode(
                    "PLONK proof",
                    format!("version 3 with flags {:#04x} (expected 0x01)", b[5]),
                ));
            }
            return PackedProof::from_evm_bytes(&b[6..]).map(AnyProof::Packed);
        }
        super::proof::Proof::from_bytes(b).map(AnyProof::TwoPoint)
    }

    /// `{"type": "bigfile_zk.plonk.Proof", "version", "lookups", "bytes"}` (version 1 or 3).
    pub fn to_json(&self) -> String {
        super::proof::proof_json(self.version(), self.has_lookups(), &self.to_evm_bytes())
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let (version, lookups, bytes) = super::proof::parse_proof_json(text)?;
        match (version, lookups) {
            (PACKED_PROOF_VERSION, true) => {
                PackedProof::from_evm_bytes(&bytes).map(AnyProof::Packed)
            }
            (PACKED_PROOF_VERSION, false) => Err(Error::decode(
                "PLONK proof JSON",
                "a version-3 proof has lookups",
            )),
            _ => super::proof::Proof::from_json(text).map(AnyProof::TwoPoint),
        }
    }
}

/// The verifier's challenges (§8's transcript).
#[derive(Clone, Copy, Debug)]
pub struct PackedChallenges {
    pub beta: Fr,
    pub gamma: Fr,
    pub eta: Fr,
    pub lambda: Fr,
    pub alpha: Fr,
    pub zeta: Fr,
    pub nu: Fr,
    pub xi: Fr,
}

impl PackedChallenges {
    /// The challenges of rounds 1–2 (shared with version 2's prover); the rest zero.
    pub fn from_rounds(ch: &super::proof::Challenges) -> Self {
        PackedChallenges {
            beta: ch.beta,
            gamma: ch.gamma,
            eta: ch.eta,
            lambda: ch.lambda,
            alpha: ch.alpha,
            zeta: ch.zeta,
            nu: Fr::zero(),
            xi: Fr::zero(),
        }
    }
}

/// Replay the transcript of a complete proof.
pub fn challenges(vk: &VerifyingKey, public: &[Fr], proof: &PackedProof) -> PackedChallenges {
    let mut tr = Transcript::new(&vk.digest(), public);
    tr.absorb(&[proof.c1], &[]);
    let (beta, gamma, eta, lambda) = (
        tr.challenge(0),
        tr.challenge(1),
        tr.challenge(2),
        tr.challenge(3),
    );
    tr.absorb(&[proof.c2], &[]);
    let alpha = tr.challenge(0);
    tr.absorb(&[proof.t], &[]);
    let zeta = tr.challenge(0);
    tr.absorb(&[], &proof.evals.to_vec());
    let nu = tr.challenge(0);
    tr.absorb(&[proof.w], &[]);
    PackedChallenges {
        beta,
        gamma,
        eta,
        lambda,
        alpha,
        zeta,
        nu,
        xi: tr.challenge(0),
    }
}

/// `r_0` and the scalars of `D(X)` (§8: only the fixed columns and `t` are linearised).
/// Requires `ζ^n ≠ 1`.
pub fn linearisation(
    vk: &VerifyingKey,
    public: &[Fr],
    ch: &PackedChallenges,
    e: &PackedEvaluations,
) -> (Fr, Vec<(Term, Fr)>) {
    let opened = |l: Leaf| match l {
        Leaf::Wire(i) => e.wires[i],
        Leaf::Next(i) => e.wires_next[i],
        Leaf::QPos => e.q_pos,
    };
    let rounds = [ch.beta, ch.gamma, ch.eta, ch.lambda, ch.alpha, ch.zeta];
    let Shared {
        zh,
        l0,
        pi,
        alpha3,
        alpha4,
        alpha5,
        perm_a,
        perm_b,
        id,
        lf,
        mut terms,
    } = shared(vk, public, rounds, &opened, [e.s1, e.s2]);
    let [c, m] = [e.wires[2], e.wires[3]];
    let [z, phi] = e.acc;
    let [z_next, phi_next] = e.acc_next;
    let lt = ch.lambda + e.t;
    let r0 = pi - alpha3 * z_next * perm_a * perm_b * (c + ch.gamma)
        + alpha3 * z * id
        + alpha4 * l0 * (z - Fr::one())
        + alpha5 * ((phi_next - phi) * lf * lt - m * lf);
    terms.extend([
        (Term::Sigma3, -alpha3 * z_next * ch.beta * perm_a * perm_b),
        (Term::QK, alpha5 * lt),
        (Term::T, -zh),
    ]);
    (r0, terms)
}

/// The opening's points and scalars (§8): `Z_1(ξ), Z_2(ξ)`, the remainders `r_1(ξ), r_2(ξ)`,
/// or `None` in the cases the spec refuses (`ζ = 0`, `(ξ − ζ)·Z_1(ξ)·Z_2(ξ) = 0`).
pub struct Opening {
    /// `c_1 = ν⁵ (ξ − ζ)/Z_1(ξ)`, `c_2 = ν⁶ (ξ − ζ)/Z_2(ξ)`.
    pub c1: Fr,
    pub c2: Fr,
    pub r1: Fr,
    pub r2: Fr,
}

pub fn opening(omega: Fr, ch: &PackedChallenges, e: &PackedEvaluations) -> Option<Opening> {
    let (zeta, xi, nu) = (ch.zeta, ch.xi, ch.nu);
    let zeta_w = zeta * omega;
    let xi2 = xi.square();
    let xi4 = xi2.square();
    let z1 = (xi4 - zeta) * (xi4 - zeta_w);
    let z2 = (xi2 - zeta) * (xi2 - zeta_w);
    let mut inv = [z1, z2, zeta_w - zeta];
    if inv.iter().any(Zero::is_zero) || xi == zeta {
        return None;
    }
    batch_inversion(&mut inv);
    let [z1_inv, z2_inv, d] = inv;
    // r(ξ) = Σ_l ξ^l (f_l + (Y − ζ)·d·(f_l,ω − f_l)) with Y = ξ⁴ (C1) or ξ² (C2).
    let remainder = |at: &[Fr], next: &[Fr], y: Fr| {
        let s = (y - zeta) * d;
        let mut acc = Fr::zero();
        for (f, g) in at.iter().zip(next).rev() {
            acc = acc * xi + *f + s * (*g - f);
        }
        acc
    };
    let nu5 = nu.square().square() * nu;
    Some(Opening {
        c1: nu5 * (xi - zeta) * z1_inv,
        c2: nu5 * nu * (xi - zeta) * z2_inv,
        r1: remainder(&e.wires, &e.wires_next, xi4),
        r2: remainder(&e.acc, &e.acc_next, xi2),
    })
}

/// Whether `proof` proves the circuit of the version-3 key `vk` for `public`. Never panics;
/// `Err` only for a malformed statement (the caller's), as `verifier::verify`.
pub fn verify(vk: &VerifyingKey, proof: &PackedProof, public: &[Fr]) -> Result<bool> {
    check_statement(vk, public.len())?;
    Ok(vk.packed && verify_checked(vk, proof, public))
}

fn verify_checked(vk: &VerifyingKey, proof: &PackedProof, public: &[Fr]) -> bool {
    let Some(lookup) = vk.lookup else {
        return false;
    };
    if proof
        .points()
        .iter()
        .any(|p| p.is_zero() || !p.is_on_curve())
    {
        return false;
    }
    let ch = challenges(vk, public, proof);
    if ch.zeta.is_zero() || ch.zeta.pow([vk.n() as u64]).is_one() {
        return false;
    }
    let e = &proof.evals;
    let Some(op) = opening(vk.omega(), &ch, e) else {
        return false;
    };
    let (r0, terms) = linearisation(vk, public, &ch, e);
    let nu = ch.nu;
    let nu2 = nu.square();
    let nu3 = nu2 * nu;
    let nu4 = nu2.square();
    let r_zeta = -r0 + nu * e.s1 + nu2 * e.s2 + nu3 * e.q_pos + nu4 * e.t;

    // [F] + ξ[W'] = [D] + ν[σ1] + ν²[σ2] + ν³([q_F] + [q_P]) + ν⁴([T1] + η[T2] + η²[T3])
    //   + c1[C1] + c2[C2] − (ξ − ζ)[W] − (R(ζ) + c1 r1 + c2 r2)·G + ξ[W'].
    let mut bases: Vec<G1Affine> = Vec::with_capacity(24);
    let mut scalars: Vec<Fr> = Vec::with_capacity(24);
    for (term, s) in terms {
        bases.push(match term {
            Term::Selector(i) => vk.selectors[i],
            Term::Sigma3 => vk.sigma[2],
            Term::QK => lookup[0],
            Term::T => proof.t,
            Term::Z | Term::Phi | Term::M => return false, // evaluated in version 3
        });
        scalars.push(s);
    }
    let eta = ch.eta;
    for (p, s) in [
        (vk.sigma[0], nu),
        (vk.sigma[1], nu2),
        (vk.selectors[5], nu3),
        (vk.selectors[6], nu3),
        (lookup[1], nu4),
        (lookup[2], nu4 * eta),
        (lookup[3], nu4 * eta.square()),
        (proof.c1, op.c1),
        (proof.c2, op.c2),
        (proof.w, ch.zeta - ch.xi),
        (
            G1Affine::generator(),
            -(r_zeta + op.c1 * op.r1 + op.c2 * op.r2),
        ),
        (proof.w_prime, ch.xi),
    ] {
        bases.push(p);
        scalars.push(s);
    }
    let Ok(f) = crate::msm::msm(&bases, &scalars) else {
        return false;
    };
    let lhs = Bn254::multi_pairing(
        [(-proof.w_prime.into_group()).into_affine(), f.into_affine()],
        [vk.g2[1], vk.g2[0]],
    );
    lhs.0.is_one()
}

/// Decode and verify as the EVM verifier does: `Ok(false)` for malformed proof bytes.
pub fn verify_bytes(vk: &VerifyingKey, proof: &[u8], public: &[Fr]) -> Result<bool> {
    check_statement(vk, public.len())?;
    let Ok(proof) = PackedProof::from_evm_bytes(proof) else {
        return Ok(false);
    };
    Ok(vk.packed && verify_checked(vk, &proof, public))
}

/// `C1`'s coefficients from `a, b, c, m` (coefficient `4j + l` is `f_l`'s `j`), or `C2`'s
/// from `z, φ`: `Σ_l X^l f_l(X^k)` for `k` polynomials.
pub fn pack(polys: &[&[Fr]]) -> Vec<Fr> {
    let k = polys.len();
    let len = polys.iter().map(|p| p.len()).max().unwrap_or(0);
    let mut out = vec![Fr::zero(); k * len];
    for (l, p) in polys.iter().enumerate() {
        for (j, c) in p.iter().enumerate() {
            out[k * j + l] = *c;
        }
    }
    out
}

/// The quotient of `p` by `X^(2s) − u·X^s + v` (`Z_1` with `s = 4`, `Z_2` with `s = 2`:
/// `u = ζ + ζω`, `v = ζ²ω`), remainder dropped: a long division by a sparse monic divisor.
pub fn divide_by_pair(p: &[Fr], s: usize, u: Fr, v: Fr) -> Vec<Fr> {
    let d = 2 * s;
    if p.len() <= d {
        return vec![];
    }
    let mut rem = p.to_vec();
    let mut q = vec![Fr::zero(); p.len() - d];
    for i in (d..p.len()).rev() {
        let lead = rem[i];
        q[i - d] = lead;
        rem[i - s] += u * lead;
        rem[i - d] -= v * lead;
    }
    q
}
