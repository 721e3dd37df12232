//! Setup (`docs/spec/plonk.md` §3): keys from the circuit's shape alone, deterministically.

use super::circuit::Circuit;
use crate::error::{Error, Result};
use crate::kzg::{self, g1_from_bytes, g1_to_bytes, g2_from_bytes, g2_to_bytes};
use crate::srs::Srs;
use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::Zero;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;
use sha3::{Digest, Keccak256};

pub const VK_MAGIC: &[u8; 4] = b"BFVK";
pub const VERSION: u8 = 1;

/// Powers of τ the SRS must hold for a circuit of `n` rows (the quotient has degree `5n + 9`).
pub fn srs_powers_needed(n: usize) -> usize {
    5 * n + 10
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    pub k: u32,
    pub num_public: usize,
    /// `[q_M], [q_L], [q_R], [q_O], [q_C], [q_F], [q_P]`.
    pub selectors: [G1Affine; 7],
    pub sigma: [G1Affine; 3],
    /// `[q_K], [T1], [T2], [T3]` for lookup circuits.
    pub lookup: Option<[G1Affine; 4]>,
    /// `[1]G2, [τ]G2`.
    pub g2: [G2Affine; 2],
}

impl VerifyingKey {
    pub fn n(&self) -> usize {
        1 << self.k
    }

    pub fn omega(&self) -> Fr {
        Radix2EvaluationDomain::<Fr>::new(self.n())
            .expect("k is within the 2-adicity")
            .group_gen()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(11 + 14 * 64 + 256);
        out.extend_from_slice(VK_MAGIC);
        out.push(VERSION);
        out.push(self.k as u8);
        out.extend_from_slice(&(self.num_public as u32).to_be_bytes());
        out.push(self.lookup.is_some() as u8);
        let lookup = self.lookup.iter().flatten();
        for p in self.selectors.iter().chain(&self.sigma).chain(lookup) {
            out.extend_from_slice(&g1_to_bytes(p));
        }
        for p in &self.g2 {
            out.extend_from_slice(&g2_to_bytes(p));
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        const WHAT: &str = "verifying key";
        let bad = |reason: String| Error::decode(WHAT, reason);
        if b.len() < 11 || &b[..4] != VK_MAGIC {
            return Err(bad("does not start with the BFVK header".into()));
        }
        if b[4] != VERSION {
            return Err(bad(format!(
                "version {} (this library reads {VERSION})",
                b[4]
            )));
        }
        let k = b[5] as u32;
        if !(super::circuit::MIN_K..=super::circuit::MAX_K).contains(&k) {
            return Err(bad(format!("k = {k} is outside 3..=25")));
        }
        let num_public = u32::from_be_bytes(b[6..10].try_into().expect("4")) as usize;
        if num_public >= 1 << k {
            return Err(bad(format!("{num_public} public inputs for 2^{k} rows")));
        }
        let lookups = match b[10] {
            0 => false,
            1 => true,
            f => return Err(bad(format!("unknown flags {f:#04x}"))),
        };
        let points = if lookups { 14 } else { 10 };
        let expected = 11 + 64 * points + 256;
        if b.len() != expected {
            return Err(bad(format!("{} bytes (expected {expected})", b.len())));
        }
        let g1: Vec<G1Affine> = (0..points)
            .map(|i| g1_from_bytes(&b[11 + 64 * i..11 + 64 * (i + 1)]))
            .collect::<Result<_>>()?;
        let off = 11 + 64 * points;
        let g2 = [
            g2_from_bytes(&b[off..off + 128])?,
            g2_from_bytes(&b[off + 128..off + 256])?,
        ];
        if g2.iter().any(|p| p.is_zero()) {
            return Err(bad("a G2 element is the identity".into()));
        }
        Ok(VerifyingKey {
            k,
            num_public,
            selectors: g1[..7].try_into().expect("7"),
            sigma: g1[7..10].try_into().expect("3"),
            lookup: lookups.then(|| g1[10..14].try_into().expect("4")),
            g2,
        })
    }

    /// `keccak256(vk_bytes)`, bound into every transcript.
    pub fn digest(&self) -> [u8; 32] {
        Keccak256::digest(self.to_bytes()).into()
    }
}

/// What the prover needs beyond the verifying key: the circuit, its columns in coefficient
/// form, `σ` in both forms, and the SRS powers.
#[derive(Clone, Debug)]
pub struct ProvingKey {
    pub vk: VerifyingKey,
    pub circuit: Circuit,
    /// Fixed columns in coefficient form, in `Fixed::named` order.
    pub(crate) fixed: Vec<Vec<Fr>>,
    pub(crate) sigma_evals: [Vec<Fr>; 3],
    pub(crate) sigma: [Vec<Fr>; 3],
    pub(crate) g1: Vec<G1Affine>,
}

impl ProvingKey {
    pub fn n(&self) -> usize {
        self.vk.n()
    }
}

/// Derive both keys from the circuit's shape and the SRS (no witness).
pub fn setup(circuit: &Circuit, srs: &Srs) -> Result<(ProvingKey, VerifyingKey)> {
    circuit.check()?;
    let n = circuit.n();
    let need = srs_powers_needed(n);
    if srs.g1.len() < need {
        return Err(Error::param(format!(
            "a circuit of 2^{} rows needs an SRS of max degree {} (5n + 9), this one has {}",
            circuit.k,
            need - 1,
            srs.max_degree()
        )));
    }
    let d = kzg::domain(n)?;
    let g1 = srs.g1[..need].to_vec();
    let sigma_evals = circuit.sigmas(d.group_gen());
    let cols: Vec<&Vec<Fr>> = circuit
        .fixed
        .named()
        .into_iter()
        .map(|(_, c)| c)
        .chain(sigma_evals.iter())
        .collect();
    let coeffs: Vec<Vec<Fr>> = cols.par_iter().map(|c| d.ifft(c)).collect();
    let comms: Vec<G1Affine> = coeffs
        .iter()
        .map(|c| commit(&g1, c))
        .collect::<Result<_>>()?;
    let nf = coeffs.len() - 3;
    let vk = VerifyingKey {
        k: circuit.k,
        num_public: circuit.num_public,
        selectors: comms[..7].try_into().expect("7"),
        sigma: comms[nf..].try_into().expect("3"),
        lookup: circuit
            .has_lookups()
            .then(|| comms[7..11].try_into().expect("4")),
        g2: srs.g2,
    };
    let mut fixed = coeffs;
    let sigma: [Vec<Fr>; 3] = fixed.split_off(nf).try_into().expect("3");
    Ok((
        ProvingKey {
            vk: vk.clone(),
            circuit: circuit.clone(),
            fixed,
            sigma_evals,
            sigma,
            g1,
        },
        vk,
    ))
}

/// `Σ c_i·g1[i]` (the zero polynomial commits to the identity).
pub(crate) fn commit(g1: &[G1Affine], coeffs: &[Fr]) -> Result<G1Affine> {
    use ark_ec::CurveGroup;
    let len = coeffs.len();
    if len > g1.len() {
        return Err(Error::param(format!(
            "internal: a polynomial of {len} coefficients exceeds the {} SRS powers",
            g1.len()
        )));
    }
    if coeffs.iter().all(Fr::is_zero) {
        return Ok(G1Affine::zero());
    }
    Ok(crate::msm::msm(&g1[..len], coeffs)?.into_affine())
}
