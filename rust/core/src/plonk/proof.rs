//! The proof (`docs/spec/plonk.md` §5), its encodings, and the linearisation scalars that the
//! prover and the verifier share, so that the two can never drift apart.

use super::circuit::shifts;
use super::gates::{self, Leaf};
use super::keys::VerifyingKey;

/// The proof encoding's version: 1 for keys of every spec version (version 2 adds a selector
/// column, not a proof element).
pub const PROOF_VERSION: u8 = 1;
use super::transcript::Transcript;
use crate::encoding::{g1_from_bytes, g1_to_bytes, scalar_from_bytes};
use crate::error::{Error, Result};
use crate::field;
use ark_bn254::{Fr, G1Affine};
use ark_ec::AffineRepr;
use ark_ff::{batch_inversion, Field, One};

pub const PROOF_MAGIC: &[u8; 4] = b"BFPF";

/// The evaluations of round 4, in proof order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluations {
    pub a: Fr,
    pub b: Fr,
    pub c: Fr,
    pub a_next: Fr,
    pub b_next: Fr,
    pub c_next: Fr,
    pub s1: Fr,
    pub s2: Fr,
    pub q_pos: Fr,
    pub z_next: Fr,
    /// `(T1 + η T2 + η² T3)(ζ)` and `φ(ζω)`, lookup circuits only.
    pub lookup: Option<(Fr, Fr)>,
}

impl Evaluations {
    pub fn to_vec(&self) -> Vec<Fr> {
        let mut v = vec![
            self.a,
            self.b,
            self.c,
            self.a_next,
            self.b_next,
            self.c_next,
            self.s1,
            self.s2,
            self.q_pos,
            self.z_next,
        ];
        if let Some((t, phi)) = self.lookup {
            v.extend([t, phi]);
        }
        v
    }

    fn from_slice(s: &[Fr], lookups: bool) -> Self {
        Evaluations {
            a: s[0],
            b: s[1],
            c: s[2],
            a_next: s[3],
            b_next: s[4],
            c_next: s[5],
            s1: s[6],
            s2: s[7],
            q_pos: s[8],
            z_next: s[9],
            lookup: lookups.then(|| (s[10], s[11])),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub a: G1Affine,
    pub b: G1Affine,
    pub c: G1Affine,
    /// `[m]` and `[φ]`, lookup circuits only.
    pub m: Option<G1Affine>,
    pub z: G1Affine,
    pub phi: Option<G1Affine>,
    pub t: G1Affine,
    pub w_zeta: G1Affine,
    pub w_zeta_omega: G1Affine,
    pub evals: Evaluations,
}

/// Byte length of the EVM encoding.
pub fn proof_len(lookups: bool) -> usize {
    if lookups {
        9 * 64 + 12 * 32
    } else {
        7 * 64 + 10 * 32
    }
}

impl Proof {
    pub fn has_lookups(&self) -> bool {
        self.m.is_some()
    }

    /// Points in proof order.
    pub fn points(&self) -> Vec<G1Affine> {
        let mut v = vec![self.a, self.b, self.c];
        v.extend(self.m);
        v.push(self.z);
        v.extend(self.phi);
        v.extend([self.t, self.w_zeta, self.w_zeta_omega]);
        v
    }

    /// The bytes `verifyProof(bytes proof, …)` takes: points then evaluations (§5).
    pub fn to_evm_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(proof_len(self.has_lookups()));
        for p in self.points() {
            out.extend_from_slice(&g1_to_bytes(&p));
        }
        for x in self.evals.to_vec() {
            out.extend_from_slice(&field::to_be_bytes(&x));
        }
        out
    }

    /// Strict decoder: exact length, canonical scalars, points on the curve and not the
    /// identity (an honest proof never holds one).
    pub fn from_evm_bytes(b: &[u8], lookups: bool) -> Result<Self> {
        let len = proof_len(lookups);
        if b.len() != len {
            return Err(Error::decode(
                "PLONK proof",
                format!("{} bytes (expected {len})", b.len()),
            ));
        }
        let np = if lookups { 9 } else { 7 };
        let mut pts = Vec::with_capacity(np);
        for i in 0..np {
            let p = g1_from_bytes(&b[64 * i..64 * (i + 1)])?;
            if p.is_zero() {
                return Err(Error::decode(
                    "PLONK proof",
                    format!("point {i} is the identity"),
                ));
            }
            pts.push(p);
        }
        let scalars: Vec<Fr> = b[64 * np..]
            .chunks(32)
            .map(scalar_from_bytes)
            .collect::<Result<_>>()?;
        let mut it = pts.into_iter();
        let mut next = || it.next().expect("counted");
        let (a, b_, c) = (next(), next(), next());
        let m = lookups.then(&mut next);
        let z = next();
        let phi = lookups.then(&mut next);
        Ok(Proof {
            a,
            b: b_,
            c,
            m,
            z,
            phi,
            t: next(),
            w_zeta: next(),
            w_zeta_omega: next(),
            evals: Evaluations::from_slice(&scalars, lookups),
        })
    }

    /// `"BFPF" ‖ version ‖ flags ‖ EVM bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = PROOF_MAGIC.to_vec();
        out.push(PROOF_VERSION);
        out.push(self.has_lookups() as u8);
        out.extend(self.to_evm_bytes());
        out
    }

    /// `{"type": "bigfile_zk.plonk.Proof", "version": 1, "lookups", "bytes"}` with the EVM
    /// bytes in hex (what a contract call takes).
    pub fn to_json(&self) -> String {
        proof_json(PROOF_VERSION, self.has_lookups(), &self.to_evm_bytes())
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let (version, lookups, bytes) = parse_proof_json(text)?;
        if version != PROOF_VERSION {
            return Err(Error::decode(
                PROOF_JSON,
                "not a version-1 bigfile_zk.plonk.Proof (a version-3 key's proof is an AnyProof)",
            ));
        }
        Self::from_evm_bytes(&bytes, lookups)
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() < 6 || &b[..4] != PROOF_MAGIC {
            return Err(Error::decode(
                "PLONK proof",
                "does not start with the BFPF header",
            ));
        }
        if b[4] != PROOF_VERSION {
            return Err(Error::decode(
                "PLONK proof",
                format!("version {} (this library reads 1 and 3)", b[4]),
            ));
        }
        let lookups = match b[5] {
            0 => false,
            1 => true,
            f => {
                return Err(Error::decode(
                    "PLONK proof",
                    format!("unknown flags {f:#04x}"),
                ))
            }
        };
        Self::from_evm_bytes(&b[6..], lookups)
    }
}

const PROOF_JSON: &str = "PLONK proof JSON";

/// The JSON envelope of a proof of either encoding version (`AnyProof` writes version 3's).
pub(crate) fn proof_json(version: u8, lookups: bool, evm_bytes: &[u8]) -> String {
    serde_json::json!({
        "type": "bigfile_zk.plonk.Proof",
        "version": version,
        "lookups": lookups,
        "bytes": super::keys::hex(evm_bytes),
    })
    .to_string()
}

/// `(version, lookups, EVM bytes)` of [`proof_json`]'s envelope: exactly its four fields.
pub(crate) fn parse_proof_json(text: &str) -> Result<(u8, bool, Vec<u8>)> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::decode(PROOF_JSON, e.to_string()))?;
    if v["type"] != "bigfile_zk.plonk.Proof" {
        return Err(Error::decode(PROOF_JSON, "not a bigfile_zk.plonk.Proof"));
    }
    let version = v["version"]
        .as_u64()
        .and_then(|x| u8::try_from(x).ok())
        .ok_or_else(|| Error::decode(PROOF_JSON, "version is not a small integer"))?;
    let lookups = v["lookups"]
        .as_bool()
        .ok_or_else(|| Error::decode(PROOF_JSON, "lookups is not a boolean"))?;
    let bytes = super::keys::json_bytes(&v, PROOF_JSON)?;
    if v.as_object().is_some_and(|o| o.len() != 4) {
        return Err(Error::decode(PROOF_JSON, "unexpected fields"));
    }
    Ok((version, lookups, bytes))
}

/// The statement's shape: `vk.num_public` public inputs.
pub fn check_statement(vk: &VerifyingKey, num_public: usize) -> Result<()> {
    if num_public != vk.num_public {
        return Err(Error::param(format!(
            "the verifying key takes {} public inputs, {num_public} were given",
            vk.num_public
        )));
    }
    Ok(())
}

/// The verifier's challenges.
#[derive(Clone, Copy, Debug)]
pub struct Challenges {
    pub beta: Fr,
    pub gamma: Fr,
    pub eta: Fr,
    pub lambda: Fr,
    pub alpha: Fr,
    pub zeta: Fr,
    pub nu: Fr,
    pub u: Fr,
}

/// Replay the transcript of a complete proof (§4).
pub fn challenges(vk: &VerifyingKey, public: &[Fr], proof: &Proof) -> Challenges {
    let mut tr = Transcript::new(&vk.digest(), public);
    let mut r1 = vec![proof.a, proof.b, proof.c];
    r1.extend(proof.m);
    tr.absorb(&r1, &[]);
    let (beta, gamma, eta, lambda) = (
        tr.challenge(0),
        tr.challenge(1),
        tr.challenge(2),
        tr.challenge(3),
    );
    let mut r2 = vec![proof.z];
    r2.extend(proof.phi);
    tr.absorb(&r2, &[]);
    let alpha = tr.challenge(0);
    tr.absorb(&[proof.t], &[]);
    let zeta = tr.challenge(0);
    tr.absorb(&[], &proof.evals.to_vec());
    let nu = tr.challenge(0);
    tr.absorb(&[proof.w_zeta, proof.w_zeta_omega], &[]);
    Challenges {
        beta,
        gamma,
        eta,
        lambda,
        alpha,
        zeta,
        nu,
        u: tr.challenge(0),
    }
}

/// The polynomials that appear linearly in `D(X)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// Selector `i` in VK order (`q_M … q_P`, `q_N`).
    Selector(usize),
    Z,
    Sigma3,
    Phi,
    M,
    QK,
    T,
}

/// `Z_H(ζ)`, `L_i(ζ)` for `i < count`, by one batch inversion.
pub fn lagrange_at(n: usize, omega: Fr, zeta: Fr, count: usize) -> (Fr, Vec<Fr>) {
    let zh = zeta.pow([n as u64]) - Fr::one();
    let count = count.max(1);
    let mut w = Fr::one();
    let mut nums = Vec::with_capacity(count);
    let mut dens = Vec::with_capacity(count);
    let n_f = Fr::from(n as u64);
    for _ in 0..count {
        nums.push(w * zh);
        dens.push(n_f * (zeta - w));
        w *= omega;
    }
    batch_inversion(&mut dens);
    (zh, nums.iter().zip(&dens).map(|(a, b)| *a * b).collect())
}

/// What the linearisations of both proof shapes (§5, §8) share, from the challenges and the
/// opened values at `ζ`: `Z_H(ζ)`, `L_0(ζ)`, `PI(ζ)`, `α³…α⁵`, the copy argument's
/// `perm_a = ā + βσ̄_1 + γ`, `perm_b = b̄ + βσ̄_2 + γ` and identity product, the lookup's `λ + f̄`,
/// and the selector terms of `D` (the gate table's scalars).
pub(crate) struct Shared {
    pub zh: Fr,
    pub l0: Fr,
    pub pi: Fr,
    pub alpha3: Fr,
    pub alpha4: Fr,
    pub alpha5: Fr,
    pub perm_a: Fr,
    pub perm_b: Fr,
    pub id: Fr,
    pub lf: Fr,
    pub terms: Vec<(Term, Fr)>,
}

/// The challenges [`Shared`] reads: `β, γ, η, λ, α, ζ`.
pub(crate) type Rounds = [Fr; 6];

/// [`Shared`] for `opened(leaf)` (wires at `ζ` and `ζω`, `q_pos`) and `σ̄_1, σ̄_2`.
pub(crate) fn shared(
    vk: &VerifyingKey,
    public: &[Fr],
    [beta, gamma, eta, lambda, alpha, zeta]: Rounds,
    opened: &impl Fn(Leaf) -> Fr,
    [s1, s2]: [Fr; 2],
) -> Shared {
    let (zh, lag) = lagrange_at(vk.n(), vk.omega(), zeta, public.len());
    let pi: Fr = -public.iter().zip(&lag).map(|(x, l)| *x * l).sum::<Fr>();
    let [a, b, c] = [0, 1, 2].map(|i| opened(Leaf::Wire(i)));
    let alpha2 = alpha.square();
    let ks = shifts();
    let selectors = gates::selector_scalars(alpha, opened);
    Shared {
        zh,
        l0: lag[0],
        pi,
        alpha3: alpha2 * alpha,
        alpha4: alpha2 * alpha2,
        alpha5: alpha2 * alpha2 * alpha,
        perm_a: a + beta * s1 + gamma,
        perm_b: b + beta * s2 + gamma,
        id: (a + beta * zeta + gamma)
            * (b + beta * ks[1] * zeta + gamma)
            * (c + beta * ks[2] * zeta + gamma),
        lf: lambda + a + eta * b + eta.square() * c,
        // Only the selectors the key has (version 1: no q_N).
        terms: (0..vk.num_selectors())
            .map(|i| (Term::Selector(i), selectors[i]))
            .collect(),
    }
}

/// The constant `r_0` and the scalars of `D(X) = Σ s_i·P_i` (§5), from the evaluations alone.
/// Requires `ζ^n ≠ 1`.
pub fn linearisation(
    vk: &VerifyingKey,
    public: &[Fr],
    ch: &Challenges,
    e: &Evaluations,
) -> (Fr, Vec<(Term, Fr)>) {
    let opened = |l: Leaf| match l {
        Leaf::Wire(i) => [e.a, e.b, e.c][i],
        Leaf::Next(i) => [e.a_next, e.b_next, e.c_next][i],
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
    let mut r0 = pi - alpha3 * e.z_next * perm_a * perm_b * (e.c + ch.gamma) - alpha4 * l0;
    terms.extend([
        (Term::Z, alpha3 * id + alpha4 * l0),
        (Term::Sigma3, -alpha3 * e.z_next * ch.beta * perm_a * perm_b),
    ]);
    if let Some((t_bar, phi_next)) = e.lookup {
        let lt = ch.lambda + t_bar;
        r0 += alpha5 * phi_next * lf * lt;
        terms.extend([
            (Term::Phi, -alpha5 * lf * lt),
            (Term::M, -alpha5 * lf),
            (Term::QK, alpha5 * lt),
        ]);
    }
    terms.push((Term::T, -zh));
    (r0, terms)
}
