//! The prover (`docs/spec/plonk.md` §5).
//!
//! The quotient is computed on the coset `g·H_{8n}` in eight passes over the size-`n` cosets
//! `g·ω_{8n}^j·H`: every polynomial is evaluated on one coset at a time (`p(ωx)` is the same
//! evaluations rotated by one, since cosets of `H` are closed under `ω`), so memory stays at a
//! few dozen field elements per row instead of eight times that. The gates come from the gate
//! table, compiled (`relation.rs`) and run over blocks of rows; only gates of degree above 4
//! (the Poseidon round) need all eight cosets, the rest is done on the even four with the
//! permutation and lookup arguments.

use super::circuit::shifts;
use super::gates::{Leaf, Selector};
use super::keys::{commit, coset_stride, has_round_gates, srs_powers_needed, srs_rule, ProvingKey};
use super::packed;
use super::packed::AnyProof;
use super::proof::{linearisation, Challenges, Evaluations, Proof, Term};
use super::relation::{self, Atom, RowProgram, BLOCK};
use super::transcript::Transcript;
use crate::domain;
use crate::error::{Error, Result};
use crate::fft;
use crate::kzg::evaluate;
use crate::progress::{Progress, Trace};
use ark_bn254::Fr;
use ark_ff::{batch_inversion, AdditiveGroup, FftField, Field, One, UniformRand, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use ark_std::rand::RngCore;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Blinding scalars per witness polynomial.
pub const BLINDS_PER_POLY: usize = 3;

/// How many blinding scalars a proof takes (12, or 18 with lookups).
pub fn blinding_len(lookups: bool) -> usize {
    BLINDS_PER_POLY * if lookups { 6 } else { 4 }
}

/// Progress steps a proof reports (`progress(done)` with `done = 1..=PROVE_STEPS`): the
/// commitments of each round, and each of the quotient's eight coset passes.
pub const PROVE_STEPS: u64 = 14;

/// Up to this many public inputs the quotient evaluates `PI` on each coset directly (`ℓ`
/// products per row) instead of by a size-`n` FFT (≈ `log2(n)/2` butterflies per row plus a
/// pass over memory).
const PI_DIRECT_MAX: usize = 8;

/// Prove with blinding drawn from `rng`.
pub fn prove<R: RngCore>(pk: &ProvingKey, witness: &[Vec<Fr>; 3], rng: &mut R) -> Result<Proof> {
    prove_with_progress(pk, witness, &random_blinding(pk, rng), &mut |_| Ok(()))
}

/// [`prove`] for a key of any spec version.
pub fn prove_any<R: RngCore>(
    pk: &ProvingKey,
    witness: &[Vec<Fr>; 3],
    rng: &mut R,
) -> Result<AnyProof> {
    prove_any_with_progress(pk, witness, &random_blinding(pk, rng), &mut |_| Ok(()))
}

/// Fresh blinding scalars for `pk`'s circuit.
pub fn random_blinding<R: RngCore>(pk: &ProvingKey, rng: &mut R) -> Vec<Fr> {
    (0..blinding_len(pk.circuit.has_lookups()))
        .map(|_| Fr::rand(rng))
        .collect()
}

/// [`prove_with_blinding`] reporting progress; an error from `progress` (e.g. Ctrl-C in
/// Python) stops the proof between steps.
pub fn prove_with_progress(
    pk: &ProvingKey,
    witness: &[Vec<Fr>; 3],
    blinding: &[Fr],
    progress: Progress<'_>,
) -> Result<Proof> {
    two_point(prove_any_with_progress(pk, witness, blinding, progress)?)
}

/// [`prove_with_progress`] for a key of any spec version (a version-3 key gives a
/// [`AnyProof::Packed`] proof).
pub fn prove_any_with_progress(
    pk: &ProvingKey,
    witness: &[Vec<Fr>; 3],
    blinding: &[Fr],
    progress: Progress<'_>,
) -> Result<AnyProof> {
    pk.circuit.check_witness(witness)?;
    prove_inner(pk, witness, blinding, true, progress)
}

/// The version-1/2 proof, or the error that names the version-3 entry points.
fn two_point(p: AnyProof) -> Result<Proof> {
    match p {
        AnyProof::TwoPoint(p) => Ok(p),
        AnyProof::Packed(_) => Err(Error::param(
            "this key is spec version 3 (packed): use prove_any_with_progress / prove_any_unchecked",
        )),
    }
}

/// Prove with the given blinding scalars (order `a, b, c, z, m, φ`, 3 each): deterministic, so
/// that other implementations of the spec can be compared byte for byte.
pub fn prove_with_blinding(
    pk: &ProvingKey,
    witness: &[Vec<Fr>; 3],
    blinding: &[Fr],
) -> Result<Proof> {
    prove_with_progress(pk, witness, blinding, &mut |_| Ok(()))
}

/// The prover without the witness check: for tests that show the verifier rejects proofs of
/// unsatisfied witnesses. Never use it to make real proofs.
#[doc(hidden)]
pub fn prove_unchecked(pk: &ProvingKey, witness: &[Vec<Fr>; 3], blinding: &[Fr]) -> Result<Proof> {
    two_point(prove_any_unchecked(pk, witness, blinding)?)
}

/// [`prove_unchecked`] for a key of any spec version.
#[doc(hidden)]
pub fn prove_any_unchecked(
    pk: &ProvingKey,
    witness: &[Vec<Fr>; 3],
    blinding: &[Fr],
) -> Result<AnyProof> {
    prove_inner(pk, witness, blinding, false, &mut |_| Ok(()))
}

fn prove_inner(
    pk: &ProvingKey,
    witness: &[Vec<Fr>; 3],
    blinding: &[Fr],
    checked: bool,
    progress: Progress<'_>,
) -> Result<AnyProof> {
    let circuit = &pk.circuit;
    let lookups = circuit.has_lookups();
    let n = pk.n();
    if blinding.len() != blinding_len(lookups) {
        return Err(Error::param(format!(
            "this circuit takes {} blinding scalars, not {}",
            blinding_len(lookups),
            blinding.len()
        )));
    }
    if witness.iter().any(|w| w.len() != n) {
        return Err(Error::param(format!(
            "a witness has three columns of {n} values"
        )));
    }
    let d = domain::domain(n)?;
    let omega = d.group_gen();
    let trace = Trace::new();
    let blinds: Vec<&[Fr]> = blinding.chunks(BLINDS_PER_POLY).collect();
    let public = &witness[0][..circuit.num_public];
    let mut tr = Transcript::new(&pk.vk.digest(), public);
    let g1 = &pk.g1;

    // Round 1: wires (and multiplicities).
    let blinded = |evals: &[Fr], rho: &[Fr]| -> Vec<Fr> {
        let mut c = evals.to_vec();
        fft::ifft_in_place(&mut c);
        c.resize(n + BLINDS_PER_POLY, Fr::zero());
        for (i, r) in rho.iter().enumerate() {
            c[i] -= r;
            c[n + i] += r;
        }
        c
    };
    let wires: Vec<Vec<Fr>> = (0..3)
        .into_par_iter()
        .map(|i| blinded(&witness[i], blinds[i]))
        .collect();
    trace.mark("round 1: wires interpolated");
    let mult = lookups.then(|| multiplicities(pk, witness));
    let m_poly = mult.as_ref().map(|m| blinded(m, blinds[4]));
    trace.mark("round 1: multiplicities");
    let packed = pk.vk.packed;
    // Version 3 (§8) commits a, b, c, m as one packed C1.
    let c1_poly = match (&m_poly, packed) {
        (Some(m), true) => Some(packed::pack(&[&wires[0], &wires[1], &wires[2], m])),
        (None, true) => return Err(Error::param("a version-3 key needs lookups")),
        _ => None,
    };
    let round1: Vec<_> = match &c1_poly {
        Some(c1) => vec![commit(g1, c1)?],
        None => {
            let mut v: Vec<_> = wires.iter().map(|p| commit(g1, p)).collect::<Result<_>>()?;
            if let Some(m) = &m_poly {
                v.push(commit(g1, m)?);
            }
            v
        }
    };
    trace.mark("round 1: wires committed");
    progress(1)?;
    tr.absorb(&round1, &[]);
    let (beta, gamma) = (tr.challenge(0), tr.challenge(1));
    let (eta, lambda) = (tr.challenge(2), tr.challenge(3));

    // Round 2: permutation and lookup accumulators.
    let z_evals = permutation_accumulator(pk, witness, omega, beta, gamma)?;
    let z_poly = blinded(&z_evals, blinds[3]);
    trace.mark("round 2: permutation accumulator");
    let phi_poly = match &mult {
        Some(m) => Some(blinded(
            &lookup_accumulator(pk, witness, m, eta, lambda)?,
            blinds[5],
        )),
        None => None,
    };
    let c2_poly = match (&phi_poly, packed) {
        (Some(phi), true) => Some(packed::pack(&[&z_poly, phi])),
        _ => None,
    };
    let round2 = match &c2_poly {
        Some(c2) => vec![commit(g1, c2)?],
        None => {
            let mut v = vec![commit(g1, &z_poly)?];
            if let Some(phi) = &phi_poly {
                v.push(commit(g1, phi)?);
            }
            v
        }
    };
    trace.mark("round 2: accumulators committed");
    progress(2)?;
    tr.absorb(&round2, &[]);
    let alpha = tr.challenge(0);

    // Round 3: the quotient.
    let ch = Challenges {
        beta,
        gamma,
        eta,
        lambda,
        alpha,
        zeta: Fr::zero(),
        nu: Fr::zero(),
        u: Fr::zero(),
    };
    let polys = Polys {
        wires: &wires,
        z: &z_poly,
        m: m_poly.as_deref(),
        phi: phi_poly.as_deref(),
    };
    let t_poly = quotient(pk, &polys, public, &ch, checked, progress)?;
    trace.mark("round 3: quotient computed");
    let t_comm = commit(g1, &t_poly)?;
    trace.mark("round 3: quotient committed");
    progress(11)?;
    tr.absorb(&[t_comm], &[]);
    let zeta = tr.challenge(0);
    if zeta.pow([n as u64]).is_one() {
        return Err(Error::param(
            "the evaluation challenge fell in the domain (probability ~n/r); prove again",
        ));
    }

    if let (Some(c1), Some(c2), Some(m), Some(phi)) = (&c1_poly, &c2_poly, &m_poly, &phi_poly) {
        let polys = PackedPolys {
            wires: [&wires[0], &wires[1], &wires[2], m],
            acc: [&z_poly, phi],
            c1,
            c2,
            t: &t_poly,
        };
        let comms = [round1[0], round2[0], t_comm];
        let ch = packed::PackedChallenges {
            zeta,
            xi: Fr::zero(),
            ..packed::PackedChallenges::from_rounds(&ch)
        };
        let proof = packed_opening(pk, public, &polys, comms, ch, tr, progress)?;
        trace.mark("rounds 4-6: packed opening");
        progress(PROVE_STEPS)?;
        return Ok(AnyProof::Packed(proof));
    }

    // Round 4: evaluations.
    let zeta_w = zeta * omega;
    let fixed = &pk.fixed;
    let ev = |p: &[Fr], x: Fr| evaluate(p, x);
    // The table columns T1, T2, T3 follow q_K (after the selectors).
    let t_cols = &fixed[(pk.lookup_offset() + 1).min(fixed.len())..];
    let t_combined =
        |x: Fr| ev(&t_cols[0], x) + eta * ev(&t_cols[1], x) + eta.square() * ev(&t_cols[2], x);
    let evals = Evaluations {
        a: ev(&wires[0], zeta),
        b: ev(&wires[1], zeta),
        c: ev(&wires[2], zeta),
        a_next: ev(&wires[0], zeta_w),
        b_next: ev(&wires[1], zeta_w),
        c_next: ev(&wires[2], zeta_w),
        s1: ev(&pk.sigma[0], zeta),
        s2: ev(&pk.sigma[1], zeta),
        q_pos: ev(&fixed[5], zeta) + ev(&fixed[6], zeta),
        z_next: ev(&z_poly, zeta_w),
        lookup: phi_poly
            .as_ref()
            .map(|phi| (t_combined(zeta), ev(phi, zeta_w))),
    };
    trace.mark("round 4: evaluations");
    progress(12)?;
    tr.absorb(&[], &evals.to_vec());
    let nu = tr.challenge(0);

    // Round 5: the linearisation and the two opening proofs.
    let ch = Challenges { zeta, nu, ..ch };
    let (_, terms) = linearisation(&pk.vk, public, &ch, &evals);
    let mut r = vec![Fr::zero(); srs_powers_needed(n, has_round_gates(fixed))];
    let mut add = |p: &[Fr], s: Fr| {
        for (acc, c) in r.iter_mut().zip(p) {
            *acc += s * c;
        }
    };
    for (term, s) in terms {
        let p: &[Fr] = match term {
            Term::Selector(i) => &fixed[i],
            Term::Z => &z_poly,
            Term::Sigma3 => &pk.sigma[2],
            Term::Phi => phi_poly.as_deref().expect("lookup term"),
            Term::M => m_poly.as_deref().expect("lookup term"),
            Term::QK => &fixed[pk.lookup_offset()],
            Term::T => &t_poly,
        };
        add(p, s);
    }
    let mut nu_i = Fr::one();
    let mut at_zeta: Vec<&[Fr]> = vec![&wires[0], &wires[1], &wires[2], &pk.sigma[0], &pk.sigma[1]];
    at_zeta.extend([&fixed[5][..], &fixed[6][..]]);
    for (i, p) in at_zeta.into_iter().enumerate() {
        if i < 6 {
            nu_i *= nu; // q_F and q_P share ν⁶: they are opened as q_F + q_P
        }
        add(p, nu_i);
    }
    if lookups {
        let nu7 = nu_i * nu;
        add(&t_cols[0], nu7);
        add(&t_cols[1], nu7 * eta);
        add(&t_cols[2], nu7 * eta.square());
    }
    let mut r_next = vec![Fr::zero(); n + BLINDS_PER_POLY];
    let mut nu_i = Fr::one();
    let mut at_zeta_w: Vec<&[Fr]> = vec![&wires[0], &wires[1], &wires[2], &z_poly];
    at_zeta_w.extend(phi_poly.as_deref());
    for p in at_zeta_w {
        for (acc, c) in r_next.iter_mut().zip(p) {
            *acc += nu_i * c;
        }
        nu_i *= nu;
    }
    trace.mark("round 5: linearisation");
    let w_zeta = commit(g1, &divide_by_linear(r, zeta))?;
    trace.mark("round 5: W_ζ committed");
    progress(13)?;
    let w_zeta_omega = commit(g1, &divide_by_linear(r_next, zeta_w))?;
    trace.mark("round 5: W_ζω committed");
    let proof = Proof {
        a: round1[0],
        b: round1[1],
        c: round1[2],
        m: lookups.then(|| round1[3]),
        z: round2[0],
        phi: lookups.then(|| round2[1]),
        t: t_comm,
        w_zeta,
        w_zeta_omega,
        evals,
    };
    if proof.points().iter().any(ark_ec::AffineRepr::is_zero) {
        return Err(unlucky());
    }
    progress(PROVE_STEPS)?;
    Ok(AnyProof::TwoPoint(proof))
}

/// A version-3 proof's polynomials (coefficients): `a, b, c, m`, `z, φ`, their packings, `t`.
struct PackedPolys<'a> {
    wires: [&'a [Fr]; 4],
    acc: [&'a [Fr]; 2],
    c1: &'a [Fr],
    c2: &'a [Fr],
    t: &'a [Fr],
}

/// Rounds 4–6 of version 3 (§8): the 16 evaluations, `W = [h]` and `W' = [L/(X − ξ)]`.
fn packed_opening(
    pk: &ProvingKey,
    public: &[Fr],
    polys: &PackedPolys<'_>,
    [c1_comm, c2_comm, t_comm]: [ark_bn254::G1Affine; 3],
    ch: packed::PackedChallenges,
    mut tr: Transcript,
    progress: Progress<'_>,
) -> Result<packed::PackedProof> {
    let g1 = &pk.g1;
    let fixed = &pk.fixed;
    let (zeta, eta) = (ch.zeta, ch.eta);
    if zeta.is_zero() {
        return Err(Error::param(
            "the evaluation challenge is zero (probability 1/r); prove again",
        ));
    }
    let zeta_w = zeta * pk.vk.omega();
    let t_cols = &fixed[pk.lookup_offset() + 1..];
    let at = |x: Fr| polys.wires.map(|p| evaluate(p, x));
    let acc_at = |x: Fr| polys.acc.map(|p| evaluate(p, x));
    let evals = packed::PackedEvaluations {
        wires: at(zeta),
        wires_next: at(zeta_w),
        acc: acc_at(zeta),
        acc_next: acc_at(zeta_w),
        s1: evaluate(&pk.sigma[0], zeta),
        s2: evaluate(&pk.sigma[1], zeta),
        q_pos: evaluate(&fixed[5], zeta) + evaluate(&fixed[6], zeta),
        t: evaluate(&t_cols[0], zeta)
            + eta * evaluate(&t_cols[1], zeta)
            + eta.square() * evaluate(&t_cols[2], zeta),
    };
    progress(12)?;
    tr.absorb(&[], &evals.to_vec());
    let nu = tr.challenge(0);
    let ch = packed::PackedChallenges { nu, ..ch };

    // R = D + ν σ1 + ν² σ2 + ν³ (q_F + q_P) + ν⁴ (T1 + η T2 + η² T3).
    let (_, terms) = packed::linearisation(&pk.vk, public, &ch, &evals);
    let len = srs_powers_needed(pk.n(), has_round_gates(fixed))
        .max(polys.c1.len())
        .max(polys.c2.len());
    let mut r = vec![Fr::zero(); len];
    let add = |acc: &mut [Fr], p: &[Fr], s: Fr| {
        acc.par_iter_mut()
            .zip(p.par_iter())
            .for_each(|(a, c)| *a += s * c);
    };
    for (term, s) in terms {
        let p: &[Fr] = match term {
            Term::Selector(i) => &fixed[i],
            Term::Sigma3 => &pk.sigma[2],
            Term::QK => &fixed[pk.lookup_offset()],
            Term::T => polys.t,
            Term::Z | Term::Phi | Term::M => unreachable!("evaluated in version 3"),
        };
        add(&mut r, p, s);
    }
    let nu2 = nu.square();
    let nu4 = nu2.square();
    for (p, s) in [
        (&pk.sigma[0][..], nu),
        (&pk.sigma[1][..], nu2),
        (&fixed[5][..], nu2 * nu),
        (&fixed[6][..], nu2 * nu),
        (&t_cols[0][..], nu4),
        (&t_cols[1][..], nu4 * eta),
        (&t_cols[2][..], nu4 * eta.square()),
    ] {
        add(&mut r, p, s);
    }
    // h = (R − R(ζ))/(X − ζ) + ν⁵ (C1 − r1)/Z1 + ν⁶ (C2 − r2)/Z2; the remainders have degree
    // below the divisors', so the quotients are those of C1 and C2 themselves.
    let (u, v) = (zeta + zeta_w, zeta * zeta_w);
    let nu5 = nu4 * nu;
    let mut h = divide_by_linear(r.clone(), zeta);
    add(&mut h, &packed::divide_by_pair(polys.c1, 4, u, v), nu5);
    add(&mut h, &packed::divide_by_pair(polys.c2, 2, u, v), nu5 * nu);
    let w = commit(g1, &h)?;
    progress(13)?;
    tr.absorb(&[w], &[]);
    let xi = tr.challenge(0);
    let ch = packed::PackedChallenges { xi, ..ch };
    let op = packed::opening(pk.vk.omega(), &ch, &evals).ok_or_else(|| {
        Error::param(
            "the opening challenge fell on an opening point (probability ~16/r); prove again",
        )
    })?;
    // L = R + c1 C1 + c2 C2 − (ξ − ζ) h, constants aside: W' = [(L − L(ξ))/(X − ξ)].
    add(&mut r, polys.c1, op.c1);
    add(&mut r, polys.c2, op.c2);
    add(&mut r, &h, zeta - xi);
    let w_prime = commit(g1, &divide_by_linear(r, xi))?;
    let proof = packed::PackedProof {
        c1: c1_comm,
        c2: c2_comm,
        t: t_comm,
        w,
        w_prime,
        evals,
    };
    if proof.points().iter().any(ark_ec::AffineRepr::is_zero) {
        return Err(unlucky());
    }
    Ok(proof)
}

/// `(p(X) − p(z)) / (X − z)` by synthetic division.
/// `(p(X) − p(z)) / (X − z)` by synthetic division, in `p`'s own buffer (at 2^20 rows a
/// second 5n-coefficient vector would be the prover's peak).
fn divide_by_linear(mut p: Vec<Fr>, z: Fr) -> Vec<Fr> {
    let mut acc = Fr::zero();
    for i in (1..p.len()).rev() {
        acc = acc * z + p[i];
        p[i] = acc; // the quotient's coefficient i − 1
    }
    if !p.is_empty() {
        p.remove(0); // the remainder p(z)
    }
    p
}

/// `m_i`: how often table tuple `i` is looked up, all counted at its first row (§2.3).
fn multiplicities(pk: &ProvingKey, w: &[Vec<Fr>; 3]) -> Vec<Fr> {
    let l = pk.circuit.fixed.lookup.as_ref().expect("lookup circuit");
    let n = pk.n();
    let mut first: HashMap<[Fr; 3], usize> = HashMap::new();
    for i in (0..n).rev() {
        first.insert([l[1][i], l[2][i], l[3][i]], i);
    }
    let mut m = vec![Fr::zero(); n];
    for i in 0..n {
        if l[0][i].is_one() {
            // A tuple outside the table only reaches here through `prove_unchecked`; it then
            // counts nowhere and the proof fails to verify.
            if let Some(&j) = first.get(&[w[0][i], w[1][i], w[2][i]]) {
                m[j] += Fr::one();
            }
        }
    }
    m
}

/// `z(ω^0) = 1`, `z(ω^{i+1}) = z(ω^i)·Π(w + β·id + γ)/Π(w + β·σ + γ)`.
fn permutation_accumulator(
    pk: &ProvingKey,
    w: &[Vec<Fr>; 3],
    omega: Fr,
    beta: Fr,
    gamma: Fr,
) -> Result<Vec<Fr>> {
    let n = pk.n();
    let ks = shifts();
    let powers = powers(omega, n);
    let (mut num, mut den): (Vec<Fr>, Vec<Fr>) = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut nu = Fr::one();
            let mut de = Fr::one();
            for col in 0..3 {
                nu *= w[col][i] + beta * ks[col] * powers[i] + gamma;
                de *= w[col][i] + beta * pk.sigma_evals[col][i] + gamma;
            }
            (nu, de)
        })
        .unzip();
    // Rows 0..n−2 feed z; a zero factor there has probability ~3n/r.
    if den[..n - 1].iter().any(Fr::is_zero) {
        return Err(unlucky());
    }
    batch_inversion(&mut den);
    let mut z = Vec::with_capacity(n);
    let mut acc = Fr::one();
    for i in 0..n {
        z.push(acc);
        num[i] *= den[i];
        acc *= num[i];
    }
    Ok(z)
}

fn unlucky() -> Error {
    Error::param("a challenge hit a zero denominator (probability ~n/r); prove again")
}

/// `φ(ω^0) = 0`, `φ(ω^{i+1}) = φ(ω^i) + m_i/(λ + t_i) − q_K,i/(λ + f_i)`.
fn lookup_accumulator(
    pk: &ProvingKey,
    w: &[Vec<Fr>; 3],
    m: &[Fr],
    eta: Fr,
    lambda: Fr,
) -> Result<Vec<Fr>> {
    let l = pk.circuit.fixed.lookup.as_ref().expect("lookup circuit");
    let n = pk.n();
    let eta2 = eta.square();
    let mut inv_t: Vec<Fr> = (0..n)
        .map(|i| lambda + l[1][i] + eta * l[2][i] + eta2 * l[3][i])
        .collect();
    let mut inv_f: Vec<Fr> = (0..n)
        .map(|i| lambda + w[0][i] + eta * w[1][i] + eta2 * w[2][i])
        .collect();
    if inv_t.iter().chain(&inv_f).any(Fr::is_zero) {
        return Err(unlucky());
    }
    batch_inversion(&mut inv_t);
    batch_inversion(&mut inv_f);
    let mut phi = Vec::with_capacity(n);
    let mut acc = Fr::zero();
    for i in 0..n {
        phi.push(acc);
        acc += m[i] * inv_t[i] - l[0][i] * inv_f[i];
    }
    Ok(phi)
}

fn powers(x: Fr, n: usize) -> Vec<Fr> {
    std::iter::successors(Some(Fr::one()), |p| Some(*p * x))
        .take(n)
        .collect()
}

/// `c·x^i` for `i < n`, in parallel blocks.
fn par_powers(c: Fr, x: Fr, n: usize) -> Vec<Fr> {
    const BLOCK: usize = 1 << 12;
    let mut out = vec![Fr::zero(); n];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(b, chunk)| {
            let mut p = c * x.pow([(b * BLOCK) as u64]);
            for o in chunk {
                *o = p;
                p *= x;
            }
        });
    out
}

struct Polys<'a> {
    wires: &'a [Vec<Fr>],
    z: &'a [Fr],
    m: Option<&'a [Fr]>,
    phi: Option<&'a [Fr]>,
}

/// The gate relation compiled once per spec version (version 1 has no `q_N` column): the
/// quotient numerators of the gates of degree ≤ `LOW_DEGREE` (with the permutation, on the
/// even cosets) and of the others.
fn gate_programs(version: u8) -> &'static [relation::Program; 2] {
    static PROGRAMS: [OnceLock<[relation::Program; 2]>; 2] = [OnceLock::new(), OnceLock::new()];
    PROGRAMS[version.min(2) as usize - 1].get_or_init(|| {
        let low = |g: &super::gates::Gate| relation::gate_degree(g) <= relation::LOW_DEGREE;
        let has = |s: Selector| version >= 2 || s != Selector::QN;
        [
            relation::Program::new(&[relation::numerator(low, has)]),
            relation::Program::new(&[relation::numerator(|g| !low(g), has)]),
        ]
    })
}

/// A program's output on every row of a coset, block by block in parallel.
/// The program's first output on every row; `load8(atom, row, dst)` reads rows `row..row + 8`
/// for the vector path (`RowProgram::eval_simd`), used where the CPU has IFMA.
fn on_rows(
    program: &RowProgram,
    n: usize,
    load: &(impl Fn(Atom, usize) -> Fr + Sync),
    load8: &(impl Fn(Atom, usize, &mut [Fr; 8]) + Sync),
) -> Vec<Fr> {
    let mut out = vec![Fr::zero(); n];
    #[cfg(target_arch = "x86_64")]
    if crate::field_simd::enabled() && n.is_multiple_of(8) {
        out.par_chunks_mut(BLOCK).enumerate().for_each_init(
            || program.scratch_simd(),
            // SAFETY: `enabled` checked the CPU features; chunks are multiples of 8 rows.
            |scratch, (b, chunk)| unsafe { program.eval_simd(0, b * BLOCK, chunk, scratch, load8) },
        );
        return out;
    }
    let _ = load8;
    out.par_chunks_mut(BLOCK).enumerate().for_each_init(
        || program.scratch(),
        |scratch, (b, chunk)| program.eval(0, b * BLOCK, chunk, scratch, load),
    );
    out
}

/// `t = Σ α^j C_j / Z_H`, evaluated on `g·H_{8n}` coset by coset, then interpolated.
fn quotient(
    pk: &ProvingKey,
    p: &Polys<'_>,
    public: &[Fr],
    ch: &Challenges,
    checked: bool,
    progress: Progress<'_>,
) -> Result<Vec<Fr>> {
    let n = pk.n();
    let d = domain::domain(n)?;
    let big = Radix2EvaluationDomain::<Fr>::new(8 * n).expect("8n within the 2-adicity");
    let g = Fr::GENERATOR;
    let lookups = p.m.is_some();
    let fixed = &pk.fixed;
    let ks = shifts();
    let (beta, gamma, eta, lambda, alpha) = (ch.beta, ch.gamma, ch.eta, ch.lambda, ch.alpha);
    let alphas: Vec<Fr> = powers(alpha, 6);
    let eta2 = eta.square();
    let n_f = Fr::from(n as u64);
    let [low_gates, high_gates] = gate_programs(pk.vk.version())
        .each_ref()
        .map(|p| p.at(alpha));
    let lo_off = pk.lookup_offset();
    let trace = Trace::named("prover");
    let lean = pk.cosets.iter().all(Vec::is_empty);
    let zeros = vec![Fr::zero(); if lean { n } else { 0 }];

    // PI(X) = −Σ x_i L_i(X). With few public inputs it is evaluated on each coset from the
    // L_0 values computed there anyway (below), which saves one size-n FFT per coset; with many,
    // as a polynomial, transformed like the witness columns.
    let pi_direct = public.len() <= PI_DIRECT_MAX;
    let pi = if pi_direct {
        Vec::new()
    } else {
        let mut pi_evals = vec![Fr::zero(); n];
        for (i, x) in public.iter().enumerate() {
            pi_evals[i] = -*x;
        }
        fft::ifft_in_place(&mut pi_evals);
        pi_evals
    };

    // The numerator splits into two parts that each vanish on H, since every gate does: the
    // gates of degree > 4 (the Poseidon round, degree 6 → quotient 5n + 9, eight cosets) and
    // the rest (the arithmetic gate, PI, permutation, lookups: quotient degree ≤ 3n + 8 < 4n
    // once n ≥ 16), evaluated on the even cosets only (the coset g·H_{4n}).
    // That is 120 size-n FFTs instead of 176.
    let stride = coset_stride(n);
    // Without a round-gate row the degree-6 part is zero: only the cosets of the rest.
    let with_high = has_round_gates(fixed);
    let mut high = vec![Fr::zero(); if with_high { 8 * n } else { 0 }];
    let mut low = vec![Fr::zero(); 8 * n / stride];
    for j in 0..8 {
        let shift = g * big.element(j);
        let shift_n = shift.pow([n as u64]);
        let with_low = j % stride == 0;
        if !with_low && !with_high {
            progress(3 + j as u64)?;
            continue;
        }
        // Witness polynomials here; the fixed ones come precomputed with the proving key.
        let mut sources: Vec<&[Fr]> = p.wires.iter().map(|w| &w[..]).collect();
        if with_low {
            sources.push(p.z);
            sources.push(&pi);
            if let (Some(m), Some(phi)) = (p.m, p.phi) {
                sources.extend([m, phi]);
            }
        }
        let ev: Vec<Vec<Fr>> = sources
            .par_iter()
            .map(|c| {
                if c.is_empty() {
                    Vec::new() // PI, evaluated directly below
                } else {
                    domain::on_coset(n, shift, c)
                }
            })
            .collect();
        // A lean key (keys::STORED_COSETS_MAX_N, BIGFILE_ZK_LEAN_KEYS) keeps no coset values:
        // this coset's are computed here and dropped after it; an all-zero column (a selector
        // this circuit never sets) is not transformed but reads the shared zeros.
        let computed;
        let stored = if pk.cosets[j].is_empty() {
            computed = super::keys::fixed_coset(n, j, fixed, &pk.sigma, true);
            &computed
        } else {
            &pk.cosets[j]
        };
        let cached: Vec<&[Fr]> = stored
            .iter()
            .map(|c| if c.is_empty() { &zeros[..] } else { &c[..] })
            .collect();
        let (a, b, c) = (&ev[0], &ev[1], &ev[2]);
        // The gate table's atoms on this coset (selectors: the key's first seven columns).
        let load = |atom: Atom, i: usize| match atom {
            Atom::Selector(s) => cached[s.index()][i],
            Atom::Leaf(Leaf::Wire(k)) | Atom::Pow5(Leaf::Wire(k)) => ev[k][i],
            Atom::Leaf(Leaf::Next(k)) | Atom::Pow5(Leaf::Next(k)) => ev[k][(i + 1) % n],
            Atom::Leaf(Leaf::QPos) | Atom::Pow5(Leaf::QPos) => cached[5][i] + cached[6][i],
        };
        let load8 = |atom: Atom, row: usize, dst: &mut [Fr; 8]| match atom {
            Atom::Selector(s) => dst.copy_from_slice(&cached[s.index()][row..row + 8]),
            Atom::Leaf(Leaf::Wire(k)) | Atom::Pow5(Leaf::Wire(k)) => {
                dst.copy_from_slice(&ev[k][row..row + 8])
            }
            _ => {
                for (l, d) in dst.iter_mut().enumerate() {
                    *d = load(atom, row + l);
                }
            }
        };
        let zh_inv = (shift_n - Fr::one()).inverse().expect("coset avoids H");
        if with_high {
            let hi = on_rows(&high_gates, n, &load, &load8);
            for (i, v) in hi.into_iter().enumerate() {
                high[8 * i + j] = v * zh_inv;
            }
        }
        if with_low {
            let (z, pi_ev) = (&ev[3], &ev[4]);
            let f = &cached[..fixed.len()];
            let s = &cached[fixed.len()..fixed.len() + 3];
            let (m_ev, phi_ev) = if lookups {
                (Some(&ev[5]), Some(&ev[6]))
            } else {
                (None, None)
            };
            let gates_lo = on_rows(&low_gates, n, &load, &load8);
            // L_0(x) = (x^n − 1)/(n(x − 1)) with x^n = shift^n on the whole coset.
            let xs = par_powers(shift, d.group_gen(), n);
            let mut l0: Vec<Fr> = xs.par_iter().map(|x| n_f * (*x - Fr::one())).collect();
            l0.par_chunks_mut(1 << 12).for_each(batch_inversion);
            // L_j(x_i) = ω^j (x^n − 1)/(n (x_i − ω^j)) = (shift^n − 1)/(n (shift·ω^(i−j) − 1))
            // for x_i = shift·ω^i: the L_0 inverse of row i − j, times shift^n − 1.
            let pi_direct_ev: Vec<Fr> = if pi_direct {
                let scaled: Vec<Fr> = public
                    .iter()
                    .map(|x| -(*x) * (shift_n - Fr::one()))
                    .collect();
                (0..n)
                    .into_par_iter()
                    .map(|i| {
                        let mut acc = Fr::zero();
                        for (j, x) in scaled.iter().enumerate() {
                            acc += *x * l0[(i + n - j) % n];
                        }
                        acc
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let pi_ev = if pi_direct { &pi_direct_ev } else { pi_ev };
            debug_assert_eq!(ks[1..], [Fr::from(5u64), Fr::from(25u64)]);
            // α⁴·L_0(x)·(z − 1) with L_0(x) = (shift^n − 1)·l0: the constant factors once.
            let alpha4_zh = alphas[4] * (shift_n - Fr::one());
            let lo: Vec<Fr> = (0..n)
                .into_par_iter()
                .map(|i| {
                    let nx = (i + 1) % n;
                    let x = xs[i];
                    let (ai, bi, ci) = (a[i], b[i], c[i]);
                    let c0 = gates_lo[i] + pi_ev[i];
                    // k_1 = 5, k_2 = 25 (circuit::shifts): ×5 by additions, not products.
                    let bx = beta * x;
                    let times5 = |v: Fr| v.double().double() + v;
                    let (bx5, bx25) = (times5(bx), times5(times5(bx)));
                    let c3 = z[i] * (ai + bx + gamma) * (bi + bx5 + gamma) * (ci + bx25 + gamma)
                        - z[nx]
                            * (ai + beta * s[0][i] + gamma)
                            * (bi + beta * s[1][i] + gamma)
                            * (ci + beta * s[2][i] + gamma);
                    let acc4 = alpha4_zh * l0[i] * (z[i] - Fr::one());
                    let mut acc = c0 + alphas[3] * c3 + acc4;
                    if let (Some(m), Some(phi)) = (m_ev, phi_ev) {
                        let fv = ai + eta * bi + eta2 * ci;
                        let t = &f[lo_off + 1..lo_off + 4];
                        let tv = t[0][i] + eta * t[1][i] + eta2 * t[2][i];
                        let c5 = (phi[nx] - phi[i]) * (lambda + fv) * (lambda + tv)
                            - m[i] * (lambda + fv)
                            + f[lo_off][i] * (lambda + tv);
                        acc += alphas[5] * c5;
                    }
                    acc * zh_inv
                })
                .collect();
            for (i, v) in lo.into_iter().enumerate() {
                low[(8 * i + j) / stride] = v;
            }
        }
        trace.mark(&format!("quotient: coset {j}"));
        progress(3 + j as u64)?;
    }
    // Interpolated in place: no second copy of the 8n (or 4n) values at the peak.
    fft::coset_ifft_in_place(&mut low, g);
    let mut t = if with_high {
        fft::coset_ifft_in_place(&mut high, g);
        for (acc, x) in high.iter_mut().zip(&low) {
            *acc += x;
        }
        drop(low);
        high
    } else {
        // Degree ≤ 3n + 8 < 4n: padded up to the bound, never to 8n.
        low.resize(srs_powers_needed(n, false).max(low.len()), Fr::zero());
        low
    };
    let deg_bound = srs_powers_needed(n, with_high);
    // With a checked witness a remainder is a bug; unchecked (tests) it makes a false proof.
    if checked && t[deg_bound..].iter().any(|x| !x.is_zero()) {
        return Err(Error::Unsatisfied(format!(
            "internal: the constraints do not vanish on the domain (the quotient is not a \
             polynomial of degree ≤ {})",
            srs_rule(with_high, false)
        )));
    }
    t.truncate(deg_bound);
    Ok(t)
}
