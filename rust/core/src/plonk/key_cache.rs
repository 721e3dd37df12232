//! The proving-key cache encoding (`docs/spec/plonk.md` §3.1): what the prover uses, stored in
//! the form it uses it, and checked against the circuit and the SRS on load.
//!
//! `"BFPC" ‖ u8 format (2) ‖ u8 k ‖ u8 m (fixed columns) ‖ u8[8] columns on each quotient
//! coset ‖ u32 LE vk length ‖ vk bytes ‖ a KZG opening (64 bytes) ‖ zeros up to a multiple of 64
//! bytes ‖ the fixed columns' and σ's coefficients (m + 3 columns) ‖ every coset's columns`,
//! each column `n` field elements of four little-endian `u64` limbs in Montgomery form
//! (arkworks' in-memory form; a local cache, not an interchange format). The columns are
//! aligned so that [`ProvingKey::load_cache`] can use the cosets in place from a memory map
//! (they are most of the file). The key holds no SRS powers and no circuit: both come from the
//! caller, and the stored data is checked against them before it is used.

use super::circuit::Circuit;
use super::column::Column;
use super::keys::{coset_stride, srs_powers_checked, ProvingKey, VerifyingKey};
use crate::domain;
use crate::encoding::{g1_from_bytes, g1_to_bytes};
use crate::error::{Error, Result};
use crate::srs::Srs;
use ark_bn254::{Fr, G1Affine};
use ark_ff::{BigInt, FftField, Field, One, PrimeField, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;
use sha3::{Digest, Keccak256};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

pub const PK_CACHE_MAGIC: &[u8; 4] = b"BFPC";
/// 2 since the columns are 64-byte aligned (format 1 had no padding; such files are refused,
/// and the key cache makes the key again).
pub const PK_CACHE_FORMAT: u8 = 2;
/// The columns start at a multiple of this (a cache line; `Fr` needs 8).
const ALIGN: usize = 64;
const WHAT: &str = "cached proving key";
/// Selectors read on the quotient's odd cosets (the Poseidon part): `q_M … q_P`.
const ODD_COSET_COLUMNS: usize = 7;

/// How many columns the key keeps on each of the eight quotient cosets (`keys::fixed_cosets`):
/// all `m + 3` on the cosets of the whole numerator, the seven selectors on the others when the
/// circuit has a Poseidon round (none without one). A key may also keep none at all (above
/// `keys::STORED_COSETS_MAX_N` rows: the prover computes them), stored as eight zeros.
pub(crate) fn coset_layout(n: usize, m: usize, round_gates: bool) -> [usize; 8] {
    std::array::from_fn(|j| {
        if j % coset_stride(n) == 0 {
            m + 3
        } else if round_gates {
            ODD_COSET_COLUMNS
        } else {
            0
        }
    })
}

fn circuit_layout(c: &Circuit) -> (usize, [usize; 8]) {
    let m = c.fixed.named().len();
    let round = c.fixed.q_f.iter().chain(&c.fixed.q_p).any(|x| !x.is_zero());
    (m, coset_layout(c.n(), m, round))
}

fn bad(reason: impl Into<String>) -> Error {
    Error::decode(WHAT, reason.into())
}

fn column_bytes(col: &[Fr]) -> Vec<u8> {
    let mut out = vec![0u8; 32 * col.len()];
    out.par_chunks_exact_mut(32).zip(col).for_each(|(o, x)| {
        for (dst, limb) in o.chunks_exact_mut(8).zip(x.0 .0) {
            dst.copy_from_slice(&limb.to_le_bytes());
        }
    });
    out
}

/// One column of `n` elements; `None` when a limb string is not below the modulus.
fn read_column(r: &mut impl Read, buf: &mut [u8]) -> Result<Vec<Fr>> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => bad("truncated"),
        _ => bad(format!("read failed: {e}")),
    })?;
    buf.par_chunks_exact(32)
        .map(|c| {
            let limbs: [u64; 4] = std::array::from_fn(|i| {
                u64::from_le_bytes(c[8 * i..8 * i + 8].try_into().expect("8"))
            });
            let x = Fr::new_unchecked(BigInt(limbs));
            (!x.is_geq_modulus()).then_some(x)
        })
        .collect::<Option<Vec<Fr>>>()
        .ok_or_else(|| bad(BAD_ELEMENT))
}

/// `(ρ'_0 … ρ'_{count-1}, z)` from `keccak256(tag ‖ vk_bytes ‖ i)`: the combination of the
/// key's polynomials that the cache opens, and the point, both fixed by the verifying key.
fn opening_challenge(vk: &VerifyingKey, count: usize) -> (Vec<Fr>, Fr) {
    let vk = vk.to_bytes();
    let at = |i: usize| {
        let mut h = Keccak256::new();
        h.update(b"bigfile_zk/pk-cache/v1/opening");
        h.update(&vk);
        h.update((i as u32).to_be_bytes());
        Fr::from_be_bytes_mod_order(&h.finalize())
    };
    ((0..count).map(at).collect(), at(count))
}

fn evaluate(p: &[Fr], x: Fr) -> Fr {
    p.iter().rev().fold(Fr::zero(), |acc, c| acc * x + c)
}

const BAD_ELEMENT: &str = "an element is not below the modulus";

/// What precedes the columns, read and checked against the circuit.
struct Header {
    vk: VerifyingKey,
    opening: G1Affine,
    /// Fixed columns.
    m: usize,
    /// Columns kept on each coset (all zero: none kept).
    layout: [usize; 8],
}

impl Header {
    fn read(r: &mut impl Read, circuit: &Circuit) -> Result<Header> {
        circuit.check()?;
        let (m, layout) = circuit_layout(circuit);
        let mut head = [0u8; 19];
        r.read_exact(&mut head)
            .map_err(|_| bad("shorter than its header"))?;
        if &head[..4] != PK_CACHE_MAGIC {
            return Err(bad("does not start with BFPC"));
        }
        if head[4] != PK_CACHE_FORMAT {
            return Err(bad(format!(
                "format {} (this library reads {PK_CACHE_FORMAT})",
                head[4]
            )));
        }
        // The cosets are stored in full or not at all (computed by the prover).
        let layout = if head[7..15] == [0; 8] {
            [0; 8]
        } else {
            layout
        };
        if head[5] as u32 != circuit.k
            || head[6] as usize != m
            || head[7..15] != layout.map(|c| c as u8)
        {
            return Err(bad(format!(
                "its shape (k = {}, {} columns) is not the circuit's (k = {}, {m} columns)",
                head[5], head[6], circuit.k
            )));
        }
        let vk_len = u32::from_le_bytes(head[15..19].try_into().expect("4")) as usize;
        if vk_len > 2048 {
            return Err(bad("verifying key too long"));
        }
        let mut vk = vec![0u8; vk_len];
        r.read_exact(&mut vk).map_err(|_| bad("truncated"))?;
        let vk =
            VerifyingKey::from_bytes(&vk).map_err(|e| bad(format!("its verifying key: {e}")))?;
        let mut pi = [0u8; 64];
        r.read_exact(&mut pi).map_err(|_| bad("truncated"))?;
        let opening = g1_from_bytes(&pi).map_err(|e| bad(format!("its opening: {e}")))?;
        let read = 19 + vk_len + 64;
        let mut pad = vec![0u8; read.next_multiple_of(ALIGN) - read];
        r.read_exact(&mut pad).map_err(|_| bad("truncated"))?;
        if pad.iter().any(|&b| b != 0) {
            return Err(bad("its padding is not zero"));
        }
        if vk.k != circuit.k
            || vk.num_public != circuit.num_public
            || vk.version() != circuit.version()
            || vk.lookup.is_some() != circuit.has_lookups()
        {
            return Err(Error::InvalidParameter(
                "this proving key is not the circuit's (its verifying key's shape differs)".into(),
            ));
        }
        Ok(Header {
            vk,
            opening,
            m,
            layout,
        })
    }

    /// Columns after the header: the fixed ones, σ, the cosets'.
    fn columns(&self) -> usize {
        self.m + 3 + self.layout.iter().sum::<usize>()
    }

    /// The key from the decoded columns, once [`ProvingKey::check_derived`] accepts it.
    fn finish(
        self,
        circuit: &Circuit,
        srs: &Srs,
        fixed: Vec<Vec<Fr>>,
        sigma: [Vec<Fr>; 3],
        cosets: Vec<Vec<Column>>,
        trace: &crate::progress::Trace,
    ) -> Result<ProvingKey> {
        let need = srs_powers_checked(circuit, srs)?;
        let d = domain::domain(circuit.n())?;
        let pk = ProvingKey {
            vk: self.vk,
            sigma_evals: circuit.sigmas(d.group_gen()),
            circuit: circuit.clone(),
            fixed,
            sigma,
            g1: srs.g1[..need].to_vec(),
            cosets,
        };
        trace.mark("σ, SRS powers copied");
        pk.check_derived(srs, &self.opening, trace)?;
        trace.mark("checked");
        Ok(pk)
    }
}

impl ProvingKey {
    /// The fixed columns' and σ's coefficients, in the cache's (and the opening's) order.
    fn coefficient_columns(&self) -> Vec<&[Fr]> {
        self.fixed
            .iter()
            .chain(&self.sigma)
            .map(|c| &c[..])
            .collect()
    }

    /// `[(P'(X) − P'(z))/(X − z)]` for the combination `P' = Σ ρ'_i·p_i` of the fixed and σ
    /// polynomials and the point of [`opening_challenge`]: stored in the cache so that loading
    /// checks the verifying key with two pairings instead of an MSM.
    fn opening(&self) -> Result<G1Affine> {
        let cols = self.coefficient_columns();
        let (rho, z) = opening_challenge(&self.vk, cols.len());
        let p = combine(self.n(), &cols, &rho);
        // Synthetic division by (X − z); the remainder is P'(z).
        let mut q = vec![Fr::zero(); p.len() - 1];
        let mut acc = Fr::zero();
        for i in (1..p.len()).rev() {
            acc = acc * z + p[i];
            q[i - 1] = acc;
        }
        super::keys::commit(&self.g1, &q)
    }

    /// The cache encoding (module docs), written to `w`.
    pub fn write_cache(&self, w: &mut impl Write) -> Result<()> {
        let (m, full) = circuit_layout(&self.circuit);
        let layout = if self.cosets.iter().all(Vec::is_empty) {
            [0; 8]
        } else {
            full
        };
        let io = |e: std::io::Error| Error::param(format!("writing the proving key: {e}"));
        let vk = self.vk.to_bytes();
        let mut head = PK_CACHE_MAGIC.to_vec();
        head.extend_from_slice(&[PK_CACHE_FORMAT, self.vk.k as u8, m as u8]);
        head.extend(layout.iter().map(|&c| c as u8));
        head.extend_from_slice(&(vk.len() as u32).to_le_bytes());
        head.extend_from_slice(&vk);
        head.extend_from_slice(&g1_to_bytes(&self.opening()?));
        head.resize(head.len().next_multiple_of(ALIGN), 0);
        w.write_all(&head).map_err(io)?;
        for col in self
            .fixed
            .iter()
            .chain(&self.sigma)
            .map(|c| &c[..])
            .chain(self.cosets.iter().flatten().map(|c| &c[..]))
        {
            w.write_all(&column_bytes(col)).map_err(io)?;
        }
        Ok(())
    }

    /// [`write_cache`](Self::write_cache) to `path`, atomically (a temporary file, synced, then
    /// renamed): readers see the old file or the whole new one.
    pub fn save_cache(&self, path: &Path) -> Result<()> {
        let (tmp, file) = crate::files::create_temp_beside(path)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let result = self.write_cache(&mut w).and_then(|_| {
            w.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .and_then(|_| std::fs::rename(&tmp, path))
                .map_err(|e| Error::io(path, e))
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Read a cache file written by [`save_cache`](Self::save_cache) for `circuit` and `srs`,
    /// and check it before it is used (as [`read_cache`](Self::read_cache)). The file is
    /// memory-mapped and the coset values (most of it) are used in place, not copied: the map
    /// is private and read-only, and the cache writes files only by renaming a finished
    /// temporary over them, so a mapped file never changes (something that rewrote it in place
    /// would change what the prover reads after the check: a failed proof, not a false one).
    pub fn load_cache(path: &Path, circuit: &Circuit, srs: &Srs) -> Result<ProvingKey> {
        let file = crate::files::open_regular(path)?;
        let named = |e: Error| match e {
            Error::Decode { what, reason } => {
                Error::decode(what, format!("{}: {reason}", path.display()))
            }
            other => other,
        };
        // SAFETY: see above; the map is only read, through `Column::mapped`'s checks.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => Self::from_map(Arc::new(map), circuit, srs).map_err(named),
            // No mapping (e.g. a file system without mmap): read it.
            Err(_) => {
                let mut r = std::io::BufReader::with_capacity(1 << 16, file);
                Self::read_cache(&mut r, circuit, srs).map_err(named)
            }
        }
    }

    fn from_map(map: Arc<memmap2::Mmap>, circuit: &Circuit, srs: &Srs) -> Result<ProvingKey> {
        let trace = crate::progress::Trace::named("key cache");
        let mut r: &[u8] = &map;
        let head = Header::read(&mut r, circuit)?;
        let n = circuit.n();
        let mut at = map.len() - r.len();
        let total = head.columns() * 32 * n;
        if map.len() - at < total {
            return Err(bad("truncated"));
        }
        if map.len() - at > total {
            return Err(bad("trailing bytes"));
        }
        let mut column = || {
            let c = Column::mapped(&map, at, n).ok_or_else(|| bad(BAD_ELEMENT));
            at += 32 * n;
            c
        };
        let fixed: Vec<Vec<Fr>> = (0..head.m)
            .map(|_| column().map(|c| c.to_vec()))
            .collect::<Result<_>>()?;
        let sigma: [Vec<Fr>; 3] = [column()?.to_vec(), column()?.to_vec(), column()?.to_vec()];
        let cosets: Vec<Vec<Column>> = head
            .layout
            .iter()
            .map(|&c| (0..c).map(|_| column()).collect::<Result<_>>())
            .collect::<Result<_>>()?;
        trace.mark("mapped");
        head.finish(circuit, srs, fixed, sigma, cosets, &trace)
    }

    /// Decode the cache encoding from `r` for `circuit` and `srs`, and check it: the key's
    /// circuit is `circuit` itself (the file holds none), its SRS powers are `srs`'s, and
    /// every stored column is checked with one random linear combination each (`ρ` fresh from
    /// the OS): the coefficients against the circuit's columns and `σ`, and each coset's
    /// columns against the coefficients, all by one random evaluation (`μ`, no FFT); and the
    /// verifying key's commitments against the coefficients under `srs` by the stored KZG
    /// opening of a combination the verifying key fixes (two pairings; binding as KZG is, given
    /// `srs`'s secret τ). A key that passes is the one [`setup`](super::setup) makes
    /// (`plonk.md` §3.1).
    pub fn read_cache(r: &mut impl Read, circuit: &Circuit, srs: &Srs) -> Result<ProvingKey> {
        let trace = crate::progress::Trace::named("key cache");
        let head = Header::read(r, circuit)?;
        let mut buf = vec![0u8; 32 * circuit.n()];
        let mut column = || read_column(r, &mut buf);
        let fixed: Vec<Vec<Fr>> = (0..head.m).map(|_| column()).collect::<Result<_>>()?;
        let sigma: [Vec<Fr>; 3] = [column()?, column()?, column()?];
        let cosets: Vec<Vec<Column>> = head
            .layout
            .iter()
            .map(|&c| {
                (0..c)
                    .map(|_| column().map(Column::from))
                    .collect::<Result<_>>()
            })
            .collect::<Result<_>>()?;
        let mut one = [0u8; 1];
        if r.read(&mut one)
            .map_err(|e| bad(format!("read failed: {e}")))?
            != 0
        {
            return Err(bad("trailing bytes"));
        }
        trace.mark("read");
        head.finish(circuit, srs, fixed, sigma, cosets, &trace)
    }

    /// Whether the coefficients, cosets and verifying key are those of `self.circuit` under
    /// `srs` (see [`read_cache`](Self::read_cache)); `self.sigma_evals` is trusted.
    pub(crate) fn check_derived(
        &self,
        srs: &Srs,
        opening: &G1Affine,
        trace: &crate::progress::Trace,
    ) -> Result<()> {
        use ark_ec::{pairing::Pairing, AffineRepr, CurveGroup, VariableBaseMSM};
        use ark_std::UniformRand;
        let wrong = |what: &str| {
            Err(Error::InvalidParameter(format!(
                "this proving key is not the circuit's under this SRS ({what})"
            )))
        };
        if self.vk.g2 != srs.g2 {
            return wrong("its [τ]G2 differs");
        }
        let n = self.n();
        let coeffs = self.coefficient_columns();
        let evals: Vec<&[Fr]> = self
            .circuit
            .fixed
            .named()
            .into_iter()
            .map(|(_, c)| &c[..])
            .chain(self.sigma_evals.iter().map(|c| &c[..]))
            .collect();
        if coeffs.len() != evals.len() || coeffs.iter().chain(&evals).any(|c| c.len() != n) {
            return wrong("its columns have the wrong shape");
        }
        let mut rng = ark_std::rand::rngs::OsRng;
        // 64-bit weights: a wrong column passes a check with probability ≤ 2^-64, and the
        // cosets' combination needs no full field multiplication (`matches_combination`).
        let rho_small: Vec<u64> = coeffs.iter().map(|_| u64::rand(&mut rng)).collect();
        let rho: Vec<Fr> = rho_small.iter().map(|&r| Fr::from(r)).collect();
        let p_odd = combine(n, &coeffs[..ODD_COSET_COLUMNS], &rho);
        let mut p_all = combine(n, &coeffs[ODD_COSET_COLUMNS..], &rho[ODD_COSET_COLUMNS..]);
        p_all.par_iter_mut().zip(&p_odd).for_each(|(a, b)| *a += b);
        trace.mark("check: coefficients combined");
        // Values against coefficients without FFTs (§3.1): for x_r = s·ω^r and μ fresh from the
        // OS, Σ_r μ^r·P(x_r) = (1 − μ^n)·Σ_k p_k·s^k/(1 − μ·ω^k) = (1 − μ^n)·E(s) with
        // e_k = p_k/(1 − μ·ω^k); values differing from P's on a coset make the left side a
        // non-zero polynomial in μ of degree < n, which μ misses but with probability < n/r.
        let d = domain::domain(n)?;
        let probe = Probe::new(n, d.group_gen(), &mut rng);
        let (e_all, e_odd) = (probe.weigh(&p_all), probe.weigh(&p_odd));
        // The coefficients are the circuit's columns interpolated (the coset s = 1, i.e. H).
        let circuit_sum = probe.sum(|r| evals.iter().zip(&rho).map(|(c, w)| *w * c[r]).sum());
        if circuit_sum != probe.expected(&e_all, Fr::one()) {
            return wrong("its coefficients are not the circuit's columns");
        }
        trace.mark("check: coefficients against the circuit");
        // The verifying key commits to them under this SRS: one KZG opening of a combination
        // fixed by the verifying key (keccak), made at setup, checked with two pairings.
        let nsel = self.vk.num_selectors();
        let mut points: Vec<G1Affine> = self.vk.selectors[..nsel].to_vec();
        points.extend(self.vk.lookup.iter().flatten());
        points.extend(&self.vk.sigma);
        if points.len() != rho.len() {
            return wrong("its verifying key has the wrong number of commitments");
        }
        let (rho_v, z) = opening_challenge(&self.vk, points.len());
        let value = evaluate(&combine(n, &coeffs, &rho_v), z);
        let combined = ark_bn254::G1Projective::msm(&points, &rho_v)
            .map_err(|_| Error::param("internal: MSM lengths"))?;
        let g = srs.g1[0].into_group();
        let lhs = (combined - g * value).into_affine();
        let tau_minus_z = (srs.g2[1].into_group() - srs.g2[0].into_group() * z).into_affine();
        let paired = ark_bn254::Bn254::multi_pairing(
            [lhs, (-opening.into_group()).into_affine()],
            [srs.g2[0], tau_minus_z],
        );
        if !paired.is_zero() {
            return wrong("its commitments are not those of its polynomials");
        }
        trace.mark("check: commitments (one opening)");
        // Each coset holds the coefficients' values there.
        let big = Radix2EvaluationDomain::<Fr>::new(8 * n).expect("8n within the 2-adicity");
        let (m, full) = circuit_layout(&self.circuit);
        let layout = if self.cosets.iter().all(Vec::is_empty) {
            [0; 8] // none kept: the prover computes them
        } else {
            full
        };
        if self.cosets.len() != 8 || self.cosets.iter().zip(layout).any(|(c, l)| c.len() != l) {
            return wrong("its cosets have the wrong shape");
        }
        let ok = (0..8).all(|j| {
            let cols: Vec<&[Fr]> = self.cosets[j].iter().map(|c| &c[..]).collect();
            let e = match cols.len() {
                0 => return true,
                c if c == m + 3 => &e_all,
                _ => &e_odd,
            };
            cols.iter().all(|c| c.len() == n)
                && probe.sum(|r| combination_at(&cols, &rho_small, r))
                    == probe.expected(e, Fr::GENERATOR * big.element(j))
        });
        if !ok {
            return wrong("its coset values are not its polynomials'");
        }
        Ok(())
    }
}

/// `Σ_i rs[i]·cols[i]`, element by element (blocks in parallel).
fn combine(n: usize, cols: &[&[Fr]], rs: &[Fr]) -> Vec<Fr> {
    const BLOCK: usize = 1 << 12;
    let mut acc = vec![Fr::zero(); n];
    acc.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
        let (at, len) = (b * BLOCK, out.len());
        for (col, r) in cols.iter().zip(rs) {
            for (o, x) in out.iter_mut().zip(&col[at..at + len]) {
                *o += *r * x;
            }
        }
    });
    acc
}

/// The random evaluation that checks values against coefficients (see `check_derived`):
/// `μ`'s powers and the inverses `1/(1 − μ·ω^k)`.
struct Probe {
    mu_pows: Vec<Fr>,
    inv: Vec<Fr>,
    /// `1 − μ^n`.
    scale: Fr,
}

impl Probe {
    fn new(n: usize, omega: Fr, rng: &mut impl ark_std::rand::RngCore) -> Probe {
        use ark_std::UniformRand;
        loop {
            let mu = Fr::rand(rng);
            let mu_pows = par_powers(mu, n);
            let mut inv: Vec<Fr> = par_powers(omega, n)
                .into_par_iter()
                .map(|w| Fr::one() - mu * w)
                .collect();
            // μ ∈ H (probability n/r) would divide by zero: draw again.
            if inv.iter().any(Fr::is_zero) {
                continue;
            }
            ark_ff::batch_inversion(&mut inv);
            let scale = Fr::one() - mu.pow([n as u64]);
            return Probe {
                mu_pows,
                inv,
                scale,
            };
        }
    }

    /// `e_k = p_k/(1 − μ·ω^k)`.
    fn weigh(&self, p: &[Fr]) -> Vec<Fr> {
        p.par_iter().zip(&self.inv).map(|(a, b)| *a * b).collect()
    }

    /// `Σ_r μ^r·P(s·ω^r) = (1 − μ^n)·E(s)` for `e = weigh(P)`.
    fn expected(&self, e: &[Fr], s: Fr) -> Fr {
        const BLOCK: usize = 1 << 12;
        let s_block = s.pow([BLOCK as u64]);
        // Horner per block, the blocks weighted by s^(block start).
        let parts: Vec<Fr> = e
            .par_chunks(BLOCK)
            .map(|c| c.iter().rev().fold(Fr::zero(), |acc, x| acc * s + x))
            .collect();
        parts
            .iter()
            .rev()
            .fold(Fr::zero(), |acc, x| acc * s_block + x)
            * self.scale
    }

    /// `Σ_r μ^r·v(r)`.
    fn sum(&self, v: impl Fn(usize) -> Fr + Sync) -> Fr {
        self.mu_pows
            .par_iter()
            .enumerate()
            .map(|(r, m)| *m * v(r))
            .sum()
    }
}

/// `1, x, …, x^(n−1)`, computed in parallel blocks.
fn par_powers(x: Fr, n: usize) -> Vec<Fr> {
    const BLOCK: usize = 1 << 12;
    let step = x.pow([BLOCK as u64]);
    let starts: Vec<Fr> = std::iter::successors(Some(Fr::one()), |p| Some(*p * step))
        .take(n.div_ceil(BLOCK))
        .collect();
    let mut out = vec![Fr::zero(); n];
    out.par_chunks_mut(BLOCK)
        .zip(starts)
        .for_each(|(chunk, mut p)| {
            for o in chunk {
                *o = p;
                p *= x;
            }
        });
    out
}

/// `Σ_i rs[i]·cols[i][row]` without field multiplications: an element's Montgomery limbs
/// `a = x·R mod r` are linear in `x`, so the integer `S = Σ rs[i]·a_i` (< 2^324 for up to 16
/// columns, six limbs) reduced mod r is the combination's Montgomery form.
/// `S = lo + hi·2^256` and `hi·2^256 ≡ hi·R` is the Montgomery form of `hi`.
fn combination_at(cols: &[&[Fr]], rs: &[u64], row: usize) -> Fr {
    use ark_ff::BigInteger;
    assert!(cols.len() <= 16 && cols.len() <= rs.len());
    let modulus = <Fr as PrimeField>::MODULUS;
    {
        let mut acc = [0u64; 6];
        for (col, &r) in cols.iter().zip(rs) {
            let limbs = col[row].0 .0;
            let mut carry = 0u128;
            for k in 0..4 {
                let t = acc[k] as u128 + limbs[k] as u128 * r as u128 + carry;
                acc[k] = t as u64;
                carry = t >> 64;
            }
            let t = acc[4] as u128 + carry;
            acc[4] = t as u64;
            acc[5] += (t >> 64) as u64;
        }
        let mut lo = BigInt([acc[0], acc[1], acc[2], acc[3]]);
        while lo >= modulus {
            lo.sub_with_borrow(&modulus);
        }
        let hi = Fr::from(acc[4] as u128 | (acc[5] as u128) << 64);
        let carried = lo.add_with_carry(&hi.0);
        if carried || lo >= modulus {
            lo.sub_with_borrow(&modulus);
        }
        Fr::new_unchecked(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::{rand::SeedableRng, UniformRand};

    #[test]
    fn the_integer_combination_is_the_field_one() {
        let mut rng = ark_std::rand::rngs::StdRng::seed_from_u64(5);
        let n = 64;
        for cols_count in [1, 7, 15, 16] {
            // Random values, and the extremes: r − 1 everywhere with the largest weights.
            for extreme in [false, true] {
                let cols: Vec<Vec<Fr>> = (0..cols_count)
                    .map(|_| {
                        (0..n)
                            .map(|_| {
                                if extreme {
                                    -Fr::from(1u64)
                                } else {
                                    Fr::rand(&mut rng)
                                }
                            })
                            .collect()
                    })
                    .collect();
                let rs: Vec<u64> = (0..cols_count)
                    .map(|_| {
                        if extreme {
                            u64::MAX
                        } else {
                            u64::rand(&mut rng)
                        }
                    })
                    .collect();
                let refs: Vec<&[Fr]> = cols.iter().map(|c| &c[..]).collect();
                let field: Vec<Fr> = rs.iter().map(|&r| Fr::from(r)).collect();
                let expected = combine(n, &refs, &field);
                for (row, e) in expected.iter().enumerate() {
                    assert_eq!(combination_at(&refs, &rs, row), *e);
                }
            }
        }
    }
}
