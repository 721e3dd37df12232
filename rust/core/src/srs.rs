//! Structured reference strings for KZG over BN254: `[τ^i]G1` for `i = 0..=max_degree` and
//! `[1]G2, [τ]G2` (docs/spec/srs.md).
//!
//! * [`Srs::from_ptau`] reads a snarkjs Powers-of-Tau file (the Perpetual Powers of Tau /
//!   Hermez ceremonies), reading only the powers asked for, and validates everything: header
//!   (bn128, field modulus, power), section sizes, each coordinate canonical, each point on the
//!   curve and not the identity, G2 in the prime-order subgroup, the generators, and that all
//!   G1 powers share one τ with `[τ]G2` (one random-linear-combination pairing check).
//! * [`Srs::save`] / [`Srs::load`]: a compact checksummed format that loads at near disk speed.
//! * [`Srs::insecure_for_testing`]: a known τ derived from a seed. Anyone can forge proofs
//!   against it; it exists for tests and demos only.

use crate::encoding::{g1_to_bytes, g2_to_bytes_c0_first};
use crate::error::{Error, Result};
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::scalar_mul::ScalarMul;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInt, PrimeField, Zero};
use ark_poly::EvaluationDomain;
use rayon::prelude::*;
use sha3::{Digest, Keccak256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;

/// A KZG structured reference string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srs {
    /// `[τ^i]G1` for `i = 0..=max_degree`.
    pub g1: Vec<G1Affine>,
    /// `[1]G2` and `[τ]G2`.
    pub g2: [G2Affine; 2],
}

const WHAT_PTAU: &str = ".ptau file";
const WHAT_SRS: &str = "SRS file";
const SRS_MAGIC: &[u8; 4] = b"BFSR";
const SRS_VERSION: u8 = 1;

fn decode(what: &'static str, path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::decode(what, format!("{}: {reason}", path.display()))
}

/// How many seeds the insecure test SRS has: few enough to recognise all of them.
pub const INSECURE_SEEDS: u64 = 256;

fn insecure_tau(seed: u64) -> Fr {
    let mut h = Keccak256::new();
    h.update(b"bigfile_zk/insecure-srs");
    h.update(seed.to_be_bytes());
    Fr::from_be_bytes_mod_order(&h.finalize())
}

/// Whether `[τ]G2` is that of an insecure test SRS (one of [`INSECURE_SEEDS`] public τ's).
/// The table (256 G2 points) is computed once, on first use, in a few milliseconds.
pub fn is_insecure_tau_g2(tau_g2: &G2Affine) -> bool {
    static TABLE: OnceLock<Vec<G2Affine>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let taus: Vec<Fr> = (0..INSECURE_SEEDS).map(insecure_tau).collect();
            ark_bn254::G2Projective::generator().batch_mul(&taus)
        })
        .contains(tau_g2)
}

impl Srs {
    /// Largest polynomial degree this SRS can commit to.
    pub fn max_degree(&self) -> usize {
        self.g1.len() - 1
    }

    /// The first `max_degree + 1` powers only.
    pub fn truncate(&self, max_degree: usize) -> Result<Srs> {
        if max_degree > self.max_degree() {
            return Err(Error::param(format!(
                "the SRS supports degree {} but {max_degree} was asked for",
                self.max_degree()
            )));
        }
        Ok(Srs {
            g1: self.g1[..=max_degree].to_vec(),
            g2: self.g2,
        })
    }

    /// An SRS with a publicly known τ = keccak256("bigfile_zk/insecure-srs" ‖ seed) for a seed
    /// below [`INSECURE_SEEDS`]. **Insecure**: whoever knows τ can forge any proof. For tests and
    /// demos only; [`Srs::is_insecure`] (and `VerifyingKey::is_insecure`) recognise every one of
    /// them by `[τ]G2`, so keys made from one can be refused where security matters.
    pub fn insecure_for_testing(max_degree: usize, seed: u64) -> Result<Srs> {
        if max_degree > 1 << 28 {
            return Err(Error::param(format!(
                "max_degree {max_degree} is larger than 2^28"
            )));
        }
        if seed >= INSECURE_SEEDS {
            return Err(Error::param(format!(
                "insecure test SRS seeds are 0..{INSECURE_SEEDS} (so that each is recognised), \
                 not {seed}"
            )));
        }
        let tau = insecure_tau(seed);
        let mut powers = Vec::with_capacity(max_degree + 1);
        let mut p = Fr::from(1u64);
        for _ in 0..=max_degree {
            powers.push(p);
            p *= tau;
        }
        let g1 = G1Projective::generator().batch_mul(&powers);
        let g2 = ark_bn254::G2Projective::generator();
        Ok(Srs {
            g1,
            g2: [g2.into_affine(), (g2 * tau).into_affine()],
        })
    }

    /// Whether this is an insecure test SRS ([`Srs::insecure_for_testing`]): its τ is public.
    pub fn is_insecure(&self) -> bool {
        is_insecure_tau_g2(&self.g2[1])
    }

    /// Check the SRS: generators first, no identity points, G2 in the subgroup, and one τ for
    /// all powers: `e(Σ ρ_i·[τ^{i+1}]G1, [1]G2) = e(Σ ρ_i·[τ^i]G1, [τ]G2)` for `ρ_i` derived by
    /// hashing every point (a forger must fix the points before learning the `ρ_i`).
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Error::decode("SRS", why);
        if self.g1.is_empty() {
            return Err(bad("no G1 powers".into()));
        }
        if self.g1[0] != G1Affine::generator() {
            return Err(bad("[τ^0]G1 is not the generator".into()));
        }
        if self.g2[0] != G2Affine::generator() {
            return Err(bad("[1]G2 is not the generator".into()));
        }
        if let Some(i) = self.g1.iter().position(|p| p.is_zero() || !p.is_on_curve()) {
            return Err(bad(format!(
                "[τ^{i}]G1 is the identity or not on the curve"
            )));
        }
        for (i, p) in self.g2.iter().enumerate() {
            if p.is_zero() || !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
                return Err(bad(format!("G2 point {i} is the identity or not in G2")));
            }
        }
        if self.g1.len() == 1 {
            // Only [τ]G2 vs [τ]G1 would remain to check, and there is no [τ]G1.
            return Ok(());
        }
        let rho = self.challenges();
        let n = self.g1.len() - 1;
        let lo = crate::msm::msm(&self.g1[..n], &rho).expect("equal lengths");
        let hi = crate::msm::msm(&self.g1[1..], &rho).expect("equal lengths");
        let ok = Bn254::multi_pairing([hi, -lo], [self.g2[0], self.g2[1]]).is_zero();
        if !ok {
            return Err(bad(
                "the G1 powers and [τ]G2 are not powers of one τ (pairing check failed)".into(),
            ));
        }
        Ok(())
    }

    /// 128-bit challenges bound to every point (Fiat–Shamir over the SRS itself).
    fn challenges(&self) -> Vec<Fr> {
        let mut h = Keccak256::new();
        h.update(b"bigfile_zk/srs-check");
        for p in &self.g1 {
            h.update(g1_to_bytes(p));
        }
        for p in &self.g2 {
            h.update(g2_to_bytes_c0_first(p));
        }
        let seed = h.finalize();
        (0..self.g1.len() - 1)
            .into_par_iter()
            .map(|i| {
                let mut h = Keccak256::new();
                h.update(seed);
                h.update((i as u64).to_be_bytes());
                Fr::from_be_bytes_mod_order(&h.finalize()[..16])
            })
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // snarkjs .ptau
    // -----------------------------------------------------------------------------------------

    /// Read `[τ^i]G1` for `i = 0..=max_degree` (default `2^power`, capped at what the file has)
    /// and `[1]G2, [τ]G2` from a snarkjs `.ptau` file, then [`validate`](Self::validate).
    pub fn from_ptau(path: &Path, max_degree: Option<usize>) -> Result<Srs> {
        let (table, power) = ptau_sections(path)?;
        let mut f = crate::files::open_regular(path)?;
        let section = |id: u32| {
            table
                .get(&id)
                .copied()
                .ok_or_else(|| decode(WHAT_PTAU, path, format!("section {id} is missing")))
        };
        let n_g1 = (2u64 << power) - 1;
        let n_g2 = 1u64 << power;
        let (g1_at, g1_size) = section(2)?;
        let (g2_at, g2_size) = section(3)?;
        if g1_size != n_g1 * 64 || g2_size != n_g2 * 128 {
            return Err(decode(
                WHAT_PTAU,
                path,
                format!(
                    "sections 2/3 have {g1_size}/{g2_size} bytes; power {power} needs {}/{}",
                    n_g1 * 64,
                    n_g2 * 128
                ),
            ));
        }
        let max_degree = max_degree.unwrap_or(1 << power);
        if max_degree as u64 >= n_g1 {
            return Err(Error::param(format!(
                "the .ptau file (power {power}) holds powers up to degree {}; degree {max_degree} \
                 was asked for: use a file of a larger power",
                n_g1 - 1
            )));
        }
        let mut g1_raw = vec![0u8; (max_degree + 1) * 64];
        read_at(&mut f, path, g1_at, &mut g1_raw)?;
        let g1 = ptau_g1s(&g1_raw, path, |i| format!("[τ^{i}]G1"))?;
        let mut g2_raw = [0u8; 256];
        read_at(&mut f, path, g2_at, &mut g2_raw)?;
        let g2 = [ptau_g2(&g2_raw[..128]), ptau_g2(&g2_raw[128..])];
        let [Some(g2_0), Some(g2_1)] = g2 else {
            return Err(decode(
                WHAT_PTAU,
                path,
                "a G2 point is not canonical or not on the curve",
            ));
        };
        let srs = Srs {
            g1,
            g2: [g2_0, g2_1],
        };
        srs.validate()
            .map_err(|e| decode(WHAT_PTAU, path, e.to_string()))?;
        Ok(srs)
    }

    /// The Lagrange basis `[L_i(τ)]G1` of the domain of size `n` from a `.ptau` file's section
    /// 12 (written by snarkjs `powersoftau prepare phase2`), checked against this SRS: with
    /// `ρ` bound to every point, `Σ ρ_i·[L_i(τ)]G1 = Σ c_j·[τ^j]G1` for `c = ifft(ρ)`.
    pub fn lagrange_from_ptau(&self, path: &Path, n: usize) -> Result<Vec<G1Affine>> {
        let d = crate::domain::domain(n)?;
        let (table, power) = ptau_sections(path)?;
        let k = n.trailing_zeros();
        if k > power {
            return Err(Error::param(format!(
                "the .ptau file (power {power}) has no Lagrange basis for a domain of {n}"
            )));
        }
        if n > self.g1.len() {
            return Err(Error::param(format!(
                "a domain of {n} needs {n} powers; this SRS has {}",
                self.g1.len()
            )));
        }
        let (at, size) = *table.get(&12).ok_or_else(|| {
            decode(
                WHAT_PTAU,
                path,
                "section 12 (Lagrange basis) is missing: run snarkjs `powersoftau prepare phase2`",
            )
        })?;
        // Blocks k = 0..=power+1 of 2^k points each, block k at point 2^k − 1 (the last block is
        // not a Lagrange basis and is never read).
        if size != ((4u64 << power) - 1) * 64 {
            return Err(decode(
                WHAT_PTAU,
                path,
                format!("section 12 has {size} bytes"),
            ));
        }
        let mut raw = vec![0u8; n * 64];
        let mut f = crate::files::open_regular(path)?;
        read_at(&mut f, path, at + (n as u64 - 1) * 64, &mut raw)?;
        let basis = ptau_g1s(&raw, path, |i| format!("Lagrange point {i}"))?;
        let mut h = Keccak256::new();
        h.update(b"bigfile_zk/lagrange-check");
        for p in &basis {
            h.update(g1_to_bytes(p));
        }
        let seed = h.finalize();
        let rho: Vec<Fr> = (0..n as u64)
            .map(|i| {
                let mut h = Keccak256::new();
                h.update(seed);
                h.update(i.to_be_bytes());
                Fr::from_be_bytes_mod_order(&h.finalize()[..16])
            })
            .collect();
        let lhs = crate::msm::msm(&basis, &rho).expect("equal lengths");
        let rhs = crate::msm::msm(&self.g1[..n], &d.ifft(&rho)).expect("equal lengths");
        if lhs != rhs {
            return Err(decode(
                WHAT_PTAU,
                path,
                format!("the Lagrange basis for {n} points does not match this SRS's powers of τ"),
            ));
        }
        Ok(basis)
    }

    // -----------------------------------------------------------------------------------------
    // Our format
    // -----------------------------------------------------------------------------------------

    /// `b"BFSR"`, version, 3 zero bytes, `u64` BE number of G1 points, the G1 points (x‖y, 32-byte
    /// big-endian each), the two G2 points (x.c0‖x.c1‖y.c0‖y.c1), then keccak256 of all of it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 64 * self.g1.len() + 256 + 32);
        out.extend_from_slice(SRS_MAGIC);
        out.extend_from_slice(&[SRS_VERSION, 0, 0, 0]);
        out.extend_from_slice(&(self.g1.len() as u64).to_be_bytes());
        for p in &self.g1 {
            out.extend_from_slice(&g1_to_bytes(p));
        }
        for p in &self.g2 {
            out.extend_from_slice(&g2_to_bytes_c0_first(p));
        }
        let digest = Keccak256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Decode [`to_bytes`](Self::to_bytes): checksum, lengths, canonical coordinates, points on
    /// the curve, G2 in its subgroup. The pairing check is [`validate`](Self::validate)'s.
    pub fn from_bytes(bytes: &[u8]) -> Result<Srs> {
        let bad = |why: String| Error::decode(WHAT_SRS, why);
        if bytes.len() < 16 + 64 + 256 + 32 || &bytes[..4] != SRS_MAGIC {
            return Err(bad("not a bigfile_zk SRS (bad magic or too short)".into()));
        }
        if bytes[4] != SRS_VERSION || bytes[5..8] != [0, 0, 0] {
            return Err(bad(format!("unsupported version {}", bytes[4])));
        }
        let n = u64::from_be_bytes(bytes[8..16].try_into().expect("8"));
        let expected = (n as u128) * 64 + 16 + 256 + 32;
        if n == 0 || bytes.len() as u128 != expected {
            return Err(bad(format!(
                "{} bytes, but {n} G1 points need {expected}",
                bytes.len()
            )));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Keccak256::digest(body).as_slice() != digest {
            return Err(bad("checksum mismatch (corrupted file)".into()));
        }
        let g1_end = 16 + 64 * n as usize;
        let g1 = body[16..g1_end]
            .par_chunks_exact(64)
            .enumerate()
            .map(|(i, c)| be_g1(c).ok_or(i))
            .collect::<std::result::Result<Vec<_>, usize>>()
            .map_err(|i| bad(format!("G1 point {i} is not canonical or not on the curve")))?;
        let g2a = be_g2(&body[g1_end..g1_end + 128]);
        let g2b = be_g2(&body[g1_end + 128..g1_end + 256]);
        let (Some(a), Some(b)) = (g2a, g2b) else {
            return Err(bad("a G2 point is not canonical or not in G2".into()));
        };
        Ok(Srs { g1, g2: [a, b] })
    }

    /// Write atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::files::write_atomically(path, &self.to_bytes())
    }

    pub fn load(path: &Path) -> Result<Srs> {
        let mut bytes = Vec::new();
        crate::files::open_regular(path)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        Srs::from_bytes(&bytes).map_err(|e| match e {
            Error::Decode { reason, .. } => decode(WHAT_SRS, path, reason),
            other => other,
        })
    }
}

/// The section table (id → payload offset, size) and `power` of a `.ptau` file, after checking
/// the magic, that every section lies inside the file, and the bn128 header.
/// Section id → (payload offset, size).
type SectionTable = std::collections::BTreeMap<u32, (u64, u64)>;

fn ptau_sections(path: &Path) -> Result<(SectionTable, u32)> {
    let mut f = crate::files::open_regular(path)?;
    let file_len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut head = [0u8; 12];
    read_at(&mut f, path, 0, &mut head)?;
    if &head[..4] != b"ptau" {
        return Err(decode(WHAT_PTAU, path, "not a .ptau file (bad magic)"));
    }
    let sections = u32::from_le_bytes(head[8..12].try_into().expect("4"));
    let mut table = std::collections::BTreeMap::new();
    let mut at = 12u64;
    for _ in 0..sections {
        let mut sh = [0u8; 12];
        read_at(&mut f, path, at, &mut sh)?;
        let id = u32::from_le_bytes(sh[..4].try_into().expect("4"));
        let size = u64::from_le_bytes(sh[4..].try_into().expect("8"));
        let start = at + 12;
        if start.checked_add(size).is_none_or(|end| end > file_len) {
            return Err(decode(
                WHAT_PTAU,
                path,
                format!("section {id} runs past the end of the file (truncated?)"),
            ));
        }
        table.insert(id, (start, size));
        at = start + size;
    }
    // Header: n8 = 32, q = the BN254 base field modulus, power, ceremony power.
    let (h_at, h_size) = *table
        .get(&1)
        .ok_or_else(|| decode(WHAT_PTAU, path, "section 1 is missing"))?;
    if h_size != 4 + 32 + 8 {
        return Err(decode(WHAT_PTAU, path, format!("header of {h_size} bytes")));
    }
    let mut hdr = [0u8; 44];
    read_at(&mut f, path, h_at, &mut hdr)?;
    let n8 = u32::from_le_bytes(hdr[..4].try_into().expect("4"));
    let q = BigInt::<4>::new(std::array::from_fn(|i| {
        u64::from_le_bytes(hdr[4 + 8 * i..12 + 8 * i].try_into().expect("8"))
    }));
    if n8 != 32 || q != Fq::MODULUS {
        return Err(decode(
            WHAT_PTAU,
            path,
            "not a bn128 (BN254) file: wrong field size or modulus",
        ));
    }
    let power = u32::from_le_bytes(hdr[36..40].try_into().expect("4"));
    if power == 0 || power > 28 {
        return Err(decode(
            WHAT_PTAU,
            path,
            format!("power {power} is out of range"),
        ));
    }
    Ok((table, power))
}

fn read_at(f: &mut File, path: &Path, at: u64, buf: &mut [u8]) -> Result<()> {
    f.seek(SeekFrom::Start(at))
        .and_then(|_| f.read_exact(buf))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                decode(WHAT_PTAU, path, "unexpected end of file (truncated?)")
            }
            _ => Error::io(path, e),
        })
}

/// A base-field element from 32 little-endian bytes in Montgomery form (snarkjs), if canonical.
fn fq_mont_le(b: &[u8]) -> Option<Fq> {
    let limbs = BigInt::<4>::new(std::array::from_fn(|i| {
        u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8"))
    }));
    // Montgomery form with R = 2^256 is also arkworks' internal form: no conversion needed.
    (limbs < Fq::MODULUS).then(|| Fq::new_unchecked(limbs))
}

fn fq_be(b: &[u8]) -> Option<Fq> {
    let limbs = BigInt::<4>::new(std::array::from_fn(|i| {
        u64::from_be_bytes(b[32 - 8 * (i + 1)..32 - 8 * i].try_into().expect("8"))
    }));
    Fq::from_bigint(limbs)
}

fn checked_g1(x: Fq, y: Fq) -> Option<G1Affine> {
    let p = G1Affine::new_unchecked(x, y);
    // BN254 G1 has cofactor 1: on the curve means in the group. (0, 0) is not on the curve,
    // so snarkjs's encoding of the identity is refused here too.
    p.is_on_curve().then_some(p)
}

fn checked_g2(x: Fq2, y: Fq2) -> Option<G2Affine> {
    let p = G2Affine::new_unchecked(x, y);
    (p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
}

fn ptau_g1(c: &[u8]) -> Option<G1Affine> {
    checked_g1(fq_mont_le(&c[..32])?, fq_mont_le(&c[32..])?)
}

/// Parse consecutive `.ptau` G1 points in parallel; `name(i)` names point `i` in the error.
fn ptau_g1s(raw: &[u8], path: &Path, name: impl Fn(usize) -> String) -> Result<Vec<G1Affine>> {
    raw.par_chunks_exact(64)
        .enumerate()
        .map(|(i, c)| ptau_g1(c).ok_or(i))
        .collect::<std::result::Result<Vec<_>, usize>>()
        .map_err(|i| {
            decode(
                WHAT_PTAU,
                path,
                format!("{} is not a canonical point on the curve", name(i)),
            )
        })
}

fn ptau_g2(c: &[u8]) -> Option<G2Affine> {
    let x = Fq2::new(fq_mont_le(&c[..32])?, fq_mont_le(&c[32..64])?);
    let y = Fq2::new(fq_mont_le(&c[64..96])?, fq_mont_le(&c[96..])?);
    checked_g2(x, y)
}

fn be_g1(c: &[u8]) -> Option<G1Affine> {
    checked_g1(fq_be(&c[..32])?, fq_be(&c[32..])?)
}

fn be_g2(c: &[u8]) -> Option<G2Affine> {
    let x = Fq2::new(fq_be(&c[..32])?, fq_be(&c[32..64])?);
    let y = Fq2::new(fq_be(&c[64..96])?, fq_be(&c[96..])?);
    checked_g2(x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_srs_validates_and_round_trips() {
        let srs = Srs::insecure_for_testing(33, 7).unwrap();
        assert_eq!(srs.max_degree(), 33);
        srs.validate().unwrap();
        let back = Srs::from_bytes(&srs.to_bytes()).unwrap();
        assert_eq!(back, srs);
        assert_ne!(Srs::insecure_for_testing(33, 8).unwrap(), srs);
        assert_eq!(srs.truncate(5).unwrap().g1, srs.g1[..6]);
    }

    #[test]
    fn a_broken_power_fails_the_pairing_check() {
        let mut srs = Srs::insecure_for_testing(16, 1).unwrap();
        srs.g1[9] = (srs.g1[9] + srs.g1[1]).into_affine();
        assert!(srs.validate().is_err());
        let mut srs = Srs::insecure_for_testing(16, 1).unwrap();
        srs.g2[1] = (srs.g2[1] + srs.g2[0]).into_affine();
        assert!(srs.validate().is_err());
        let mut srs = Srs::insecure_for_testing(16, 1).unwrap();
        srs.g1[0] = srs.g1[1];
        assert!(srs.validate().is_err());
    }

    #[test]
    fn our_format_rejects_corruption() {
        let bytes = Srs::insecure_for_testing(4, 3).unwrap().to_bytes();
        for at in [0, 4, 9, 20, 100, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[at] ^= 1;
            assert!(Srs::from_bytes(&b).is_err(), "flip at {at}");
        }
        assert!(Srs::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        // A consistent checksum over an off-curve point: caught by the point checks.
        let mut b = bytes[..bytes.len() - 32].to_vec();
        b[16 + 64 + 63] ^= 1; // y of [τ]G1
        let digest = Keccak256::digest(&b);
        b.extend_from_slice(&digest);
        assert!(Srs::from_bytes(&b).is_err());
    }
}
