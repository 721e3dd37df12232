//! Setup (`docs/spec/plonk.md` §3): keys from the circuit's shape alone, deterministically.

use super::circuit::Circuit;
use super::column::Column;
use crate::domain;
use crate::encoding::{g1_from_bytes, g1_to_bytes, g2_from_bytes, g2_to_bytes};
use crate::error::{Error, Result};
use crate::srs::Srs;
use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{FftField, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;
use sha3::{Digest, Keccak256};

pub const VK_MAGIC: &[u8; 4] = b"BFVK";
pub const PK_MAGIC: &[u8; 4] = b"BFPK";
/// The newest spec version this library writes; keys of every version up to it are read.
/// Version 2 adds `q_N`; a circuit (and so its keys) is version 2 exactly when it uses `q_N`,
/// so version-1 circuits keep their keys, digests and proofs. Version 3 (§8) is version 2's
/// columns with packed commitments and one multi-point opening, by the builder's choice.
pub const VERSION: u8 = 3;

/// Powers of τ the SRS must hold for a circuit of `n` rows: the quotient has degree `5n + 9`
/// with the degree-6 Poseidon round gate (`round_gates`), `3n + 8` without it (spec §3); the
/// linearised opening `W_ζ` then needs one power fewer than `t` has coefficients.
pub fn srs_powers_needed(n: usize, round_gates: bool) -> usize {
    if round_gates {
        5 * n + 10
    } else {
        3 * n + 10
    }
}

/// Powers the SRS must hold for a key: [`srs_powers_needed`], and in version 3 (`packed`)
/// at least `4n + 12` for the packed `C1` of degree `4n + 11` (§8).
pub fn srs_powers_required(n: usize, round_gates: bool, packed: bool) -> usize {
    let quotient = srs_powers_needed(n, round_gates);
    if packed {
        quotient.max(4 * n + 12)
    } else {
        quotient
    }
}

/// The SRS powers `circuit` needs ([`srs_powers_required`]).
pub fn srs_powers_for(circuit: &Circuit) -> usize {
    srs_powers_required(circuit.n(), circuit.has_round_gates(), circuit.packed)
}

/// [`srs_powers_for`] `circuit`, or the error naming both sizes when `srs` has fewer.
pub(crate) fn srs_powers_checked(circuit: &Circuit, srs: &Srs) -> Result<usize> {
    let need = srs_powers_for(circuit);
    if srs.g1.len() < need {
        return Err(Error::param(format!(
            "a circuit of 2^{} rows needs an SRS of max degree {} ({}), this one has {}",
            circuit.k,
            need - 1,
            srs_rule(circuit.has_round_gates(), circuit.packed),
            srs.max_degree()
        )));
    }
    Ok(need)
}

/// The SRS degree bound as the error messages state it.
pub(crate) fn srs_rule(round_gates: bool, packed: bool) -> &'static str {
    match (round_gates, packed) {
        (true, _) => "5n + 9",
        (false, true) => "4n + 11",
        (false, false) => "3n + 9",
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    pub k: u32,
    pub num_public: usize,
    /// `[q_M], [q_L], [q_R], [q_O], [q_C], [q_F], [q_P], [q_N]` (`[q_N]` is the identity in a
    /// version-1 key, whose encoding leaves it out).
    pub selectors: [G1Affine; 8],
    pub sigma: [G1Affine; 3],
    /// `[q_K], [T1], [T2], [T3]` for lookup circuits.
    pub lookup: Option<[G1Affine; 4]>,
    /// `[1]G2, [τ]G2`.
    pub g2: [G2Affine; 2],
    /// Version 3 (§8): packed commitments and one multi-point opening.
    pub packed: bool,
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

    /// 3 when packed, else 2 when the key has `[q_N]`, else 1.
    pub fn version(&self) -> u8 {
        if self.packed {
            3
        } else if self.selectors[7].is_zero() {
            1
        } else {
            2
        }
    }

    /// How many selector commitments the encoding holds (7, or 8 from version 2 on).
    pub fn num_selectors(&self) -> usize {
        if self.version() == 1 {
            7
        } else {
            8
        }
    }

    /// The SRS powers a proof against this key needs.
    pub fn srs_powers(&self, round_gates: bool) -> usize {
        srs_powers_required(self.n(), round_gates, self.packed)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(11 + 15 * 64 + 256);
        out.extend_from_slice(VK_MAGIC);
        out.push(self.version());
        out.push(self.k as u8);
        out.extend_from_slice(&(self.num_public as u32).to_be_bytes());
        out.push(self.lookup.is_some() as u8);
        let lookup = self.lookup.iter().flatten();
        let selectors = &self.selectors[..self.num_selectors()];
        for p in selectors.iter().chain(&self.sigma).chain(lookup) {
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
        let version = b[4];
        if !(1..=VERSION).contains(&version) {
            return Err(bad(format!(
                "version {version} (this library reads 1..={VERSION})"
            )));
        }
        let nsel = if version == 1 { 7 } else { 8 };
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
        let points = nsel + 3 + if lookups { 4 } else { 0 };
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
        // Canonical: version 2 is the version of keys with a q_N column, and version 3 (§8)
        // requires q_N and lookups.
        if version >= 2 && g1[7].is_zero() {
            return Err(bad(format!(
                "version {version} with [q_N] the identity (a key without q_N is version 1)"
            )));
        }
        if version == 3 && !lookups {
            return Err(bad("version 3 without lookups".into()));
        }
        let mut selectors = [G1Affine::zero(); 8];
        selectors[..nsel].copy_from_slice(&g1[..nsel]);
        Ok(VerifyingKey {
            k,
            num_public,
            selectors,
            sigma: g1[nsel..nsel + 3].try_into().expect("3"),
            lookup: lookups.then(|| g1[nsel + 3..nsel + 7].try_into().expect("4")),
            g2,
            packed: version == 3,
        })
    }

    /// Whether the key was made with an insecure test SRS (`Srs::insecure_for_testing`): its τ
    /// is public, so proofs against this key prove nothing.
    pub fn is_insecure(&self) -> bool {
        crate::srs::is_insecure_tau_g2(&self.g2[1])
    }

    /// `keccak256(vk_bytes)`, bound into every transcript.
    pub fn digest(&self) -> [u8; 32] {
        Keccak256::digest(self.to_bytes()).into()
    }
}

impl VerifyingKey {
    /// `{"type": "bigfile_zk.plonk.VerifyingKey", "version", "k", "num_public", "lookups",
    /// "digest", "bytes"}`: the binary encoding in hex, with its fields spelled out for readers.
    /// The decoder trusts only `bytes` and checks that the other fields agree with it.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "type": "bigfile_zk.plonk.VerifyingKey",
            "version": self.version(),
            "k": self.k,
            "num_public": self.num_public,
            "lookups": self.lookup.is_some(),
            "digest": hex(&self.digest()),
            "bytes": hex(&self.to_bytes()),
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::decode("verifying key JSON", e.to_string()))?;
        let vk = Self::from_bytes(&json_bytes(&v, "verifying key JSON")?)?;
        if v != serde_json::from_str::<serde_json::Value>(&vk.to_json()).expect("valid") {
            return Err(Error::decode(
                "verifying key JSON",
                "the fields do not match the key bytes",
            ));
        }
        Ok(vk)
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// The `"bytes"` field of a JSON encoding: `0x` + an even number of lower-case hex digits.
pub(crate) fn json_bytes(v: &serde_json::Value, what: &'static str) -> Result<Vec<u8>> {
    let s = v["bytes"]
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .ok_or_else(|| Error::decode(what, "no \"bytes\" field of 0x-hex"))?;
    if s.len() % 2 != 0
        || !s
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return Err(Error::decode(what, "\"bytes\" is not lower-case hex"));
    }
    Ok((0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("checked"))
        .collect())
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
    /// The fixed columns on the quotient's eight cosets (`prover::fixed_cosets`).
    /// Owned, or read in place from a key cache file ([`Column`]).
    pub(crate) cosets: Vec<Vec<Column>>,
}

impl ProvingKey {
    /// Whether the key keeps its fixed columns on the quotient's cosets (setup does up to
    /// [`STORED_COSETS_MAX_N`] rows); without them the prover computes each coset's columns
    /// when it visits it: the same proofs, less memory, more FFTs per proof.
    pub fn stores_cosets(&self) -> bool {
        !self.cosets.iter().all(Vec::is_empty)
    }

    /// Drop the stored coset values (see [`stores_cosets`](Self::stores_cosets)): ≈ 2–2.8 KB
    /// per row less, for ≈ 60–90 more size-`n` FFTs per proof.
    pub fn drop_cosets(&mut self) {
        self.cosets = vec![Vec::new(); 8];
    }

    pub fn n(&self) -> usize {
        self.vk.n()
    }

    /// Where the lookup columns start in `fixed` (after the selectors).
    pub(crate) fn lookup_offset(&self) -> usize {
        self.vk.num_selectors()
    }

    /// Check that this key was made with `srs`: its G1 powers and `[1]G2, [τ]G2` are the
    /// SRS's, and every commitment of its verifying key is its polynomial's commitment under
    /// them (all at once: one random linear combination, one MSM). For keys read from a cache
    /// that others can write: the checksum in the bytes stops corruption, not forgery. Together
    /// with comparing `self.circuit` with the expected circuit this pins the whole key.
    pub fn check_srs(&self, srs: &Srs) -> Result<()> {
        use ark_ec::{CurveGroup, VariableBaseMSM};
        use ark_std::UniformRand;
        let wrong = |what: &str| {
            Err(Error::InvalidParameter(format!(
                "this proving key was not made with this SRS ({what})"
            )))
        };
        let need = srs_powers_for(&self.circuit);
        if srs.g1.len() < need || self.g1.len() != need || self.g1[..] != srs.g1[..need] {
            return wrong("its G1 powers differ");
        }
        if self.vk.g2 != srs.g2 {
            return wrong("its [τ]G2 differs");
        }
        let nsel = self.vk.num_selectors();
        let mut pairs: Vec<(G1Affine, &Vec<Fr>)> = self
            .vk
            .selectors
            .iter()
            .copied()
            .zip(&self.fixed[..nsel])
            .collect();
        if let Some(lookup) = &self.vk.lookup {
            pairs.extend(lookup.iter().copied().zip(&self.fixed[nsel..nsel + 4]));
        }
        pairs.extend(self.vk.sigma.iter().copied().zip(&self.sigma));
        let mut rng = ark_std::rand::rngs::OsRng;
        let rho: Vec<Fr> = pairs.iter().map(|_| Fr::rand(&mut rng)).collect();
        let mut combined = vec![Fr::zero(); self.n()];
        for ((_, poly), r) in pairs.iter().zip(&rho) {
            if poly.len() > combined.len() {
                return wrong("a polynomial is too long");
            }
            combined
                .par_iter_mut()
                .zip(poly.par_iter())
                .for_each(|(acc, c)| *acc += *r * c);
        }
        let points: Vec<G1Affine> = pairs.iter().map(|(p, _)| *p).collect();
        let expected = ark_bn254::G1Projective::msm(&points, &rho)
            .map_err(|_| Error::param("internal: MSM lengths"))?;
        let actual = crate::msm::msm(&self.g1[..combined.len()], &combined)?;
        if expected.into_affine() != actual.into_affine() {
            return wrong("its commitments are not those of its polynomials");
        }
        Ok(())
    }

    /// `"BFPK" ‖ version ‖ vk bytes ‖ the circuit (fixed columns as 32-byte scalars, copy
    /// classes, gadget labels) ‖ the SRS powers it uses ‖ keccak256 of everything before`.
    /// A cache for provers: loading skips the setup's MSMs (the checksum catches corruption).
    pub fn to_bytes(&self) -> Vec<u8> {
        let c = &self.circuit;
        let mut out = PK_MAGIC.to_vec();
        out.push(self.vk.version());
        let vk = self.vk.to_bytes();
        out.extend_from_slice(&(vk.len() as u32).to_be_bytes());
        out.extend_from_slice(&vk);
        for (_, col) in c.fixed.named() {
            for x in col {
                out.extend_from_slice(&crate::field::to_be_bytes(x));
            }
        }
        out.extend_from_slice(&(c.copies.len() as u32).to_be_bytes());
        for class in &c.copies {
            out.extend_from_slice(&(class.len() as u32).to_be_bytes());
            for &(col, row) in class {
                out.push(col);
                out.extend_from_slice(&(row as u32).to_be_bytes());
            }
        }
        out.extend_from_slice(&(c.labels.len() as u32).to_be_bytes());
        for (row, label) in &c.labels {
            out.extend_from_slice(&(*row as u32).to_be_bytes());
            out.extend_from_slice(&(label.len() as u32).to_be_bytes());
            out.extend_from_slice(label.as_bytes());
        }
        out.extend_from_slice(&(self.g1.len() as u32).to_be_bytes());
        for p in &self.g1 {
            out.extend_from_slice(&g1_to_bytes(p));
        }
        let sum = Keccak256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// `{"type": "bigfile_zk.plonk.ProvingKey", "version", "k", "num_public", "bytes"}`
    /// (the binary form in hex: a proving key is a multi-megabyte cache, not a document).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "type": "bigfile_zk.plonk.ProvingKey",
            "version": self.vk.version(),
            "k": self.vk.k,
            "num_public": self.vk.num_public,
            "bytes": hex(&self.to_bytes()),
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        const WHAT: &str = "proving key JSON";
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::decode(WHAT, e.to_string()))?;
        if v["type"] != "bigfile_zk.plonk.ProvingKey" {
            return Err(Error::decode(WHAT, "not a bigfile_zk.plonk.ProvingKey"));
        }
        let pk = Self::from_bytes(&json_bytes(&v, WHAT)?)?;
        if v["version"] != pk.vk.version()
            || v["k"] != pk.vk.k
            || v["num_public"] != pk.vk.num_public
        {
            return Err(Error::decode(WHAT, "the fields do not match the key bytes"));
        }
        Ok(pk)
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        const WHAT: &str = "proving key";
        let bad = |r: &str| Error::decode(WHAT, r.to_string());
        if b.len() < 4 + 1 + 4 + 32 || &b[..4] != PK_MAGIC {
            return Err(bad("does not start with the BFPK header"));
        }
        if !(1..=VERSION).contains(&b[4]) {
            return Err(bad("unknown version"));
        }
        let (body, sum) = b.split_at(b.len() - 32);
        if Keccak256::digest(body).as_slice() != sum {
            return Err(bad("checksum mismatch (truncated or corrupted)"));
        }
        let mut r = Reader { b: body, at: 5 };
        let vk_len = r.u32()? as usize;
        let vk = VerifyingKey::from_bytes(r.take(vk_len)?)?;
        if vk.version() != b[4] {
            return Err(bad("the key's version differs from its verifying key's"));
        }
        let n = vk.n();
        let ncols = vk.num_selectors() + if vk.lookup.is_some() { 4 } else { 0 };
        let mut cols: Vec<Vec<Fr>> = Vec::with_capacity(ncols);
        for _ in 0..ncols {
            let raw = r.take(32 * n)?;
            cols.push(
                raw.par_chunks(32)
                    .map(crate::encoding::scalar_from_bytes)
                    .collect::<Result<_>>()?,
            );
        }
        let mut copies = Vec::new();
        for _ in 0..r.u32()? {
            let len = r.u32()? as usize;
            let mut class = Vec::with_capacity(len.min(n));
            for _ in 0..len {
                let col = r.take(1)?[0];
                class.push((col, r.u32()? as usize));
            }
            copies.push(class);
        }
        let mut labels = Vec::new();
        for _ in 0..r.u32()? {
            let row = r.u32()? as usize;
            let len = r.u32()? as usize;
            let text =
                std::str::from_utf8(r.take(len)?).map_err(|_| bad("a label is not UTF-8"))?;
            labels.push((row, text.to_string()));
        }
        let np = r.u32()? as usize;
        let round_gates = cols[5..7].iter().any(|c| c.iter().any(|x| !x.is_zero()));
        let need = vk.srs_powers(round_gates);
        // Keys written before circuits without the round gate needed only 3n + 10 powers carry
        // 5n + 10: still read, the powers past `need` dropped.
        if np != need && np != srs_powers_needed(n, true).max(need) {
            return Err(bad("wrong number of SRS powers for the circuit size"));
        }
        // Decoding checks every point (on the curve): 1.3M points at 2^18 rows, in parallel.
        let mut g1: Vec<G1Affine> = r
            .take(np.checked_mul(64).ok_or_else(|| bad("truncated"))?)?
            .par_chunks(64)
            .map(g1_from_bytes)
            .collect::<Result<_>>()?;
        g1.truncate(need);
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        let mut it = cols.into_iter();
        let mut next = || it.next().expect("counted");
        let fixed = super::circuit::Fixed {
            q_m: next(),
            q_l: next(),
            q_r: next(),
            q_o: next(),
            q_c: next(),
            q_f: next(),
            q_p: next(),
            q_n: (vk.version() >= 2).then(&mut next),
            lookup: vk
                .lookup
                .is_some()
                .then(|| [next(), next(), next(), next()]),
        };
        let circuit = Circuit {
            k: vk.k,
            num_public: vk.num_public,
            fixed,
            copies,
            labels,
            packed: vk.packed,
        };
        circuit.check()?;
        let d = domain::domain(n)?;
        let sigma_evals = circuit.sigmas(d.group_gen());
        let fixed: Vec<Vec<Fr>> = circuit
            .fixed
            .named()
            .par_iter()
            .map(|(_, c)| interpolate(c))
            .collect();
        let sigma: [Vec<Fr>; 3] = std::array::from_fn(|i| interpolate(&sigma_evals[i]));
        let cosets = fixed_cosets(n, &fixed, &sigma);
        Ok(ProvingKey {
            vk,
            circuit,
            fixed,
            sigma_evals,
            sigma,
            g1,
            cosets,
        })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| Error::decode("proving key", "truncated"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4")))
    }
}

/// Derive both keys from the circuit's shape and the SRS (no witness).
pub fn setup(circuit: &Circuit, srs: &Srs) -> Result<(ProvingKey, VerifyingKey)> {
    circuit.check()?;
    let n = circuit.n();
    let need = srs_powers_checked(circuit, srs)?;
    let trace = crate::progress::Trace::named("setup");
    let d = domain::domain(n)?;
    let g1 = srs.g1[..need].to_vec();
    let sigma_evals = circuit.sigmas(d.group_gen());
    trace.mark("SRS powers copied, σ");
    let cols: Vec<&Vec<Fr>> = circuit
        .fixed
        .named()
        .into_iter()
        .map(|(_, c)| c)
        .chain(sigma_evals.iter())
        .collect();
    let coeffs: Vec<Vec<Fr>> = cols.par_iter().map(|c| interpolate(c)).collect();
    let comms: Vec<G1Affine> = coeffs
        .iter()
        .map(|c| commit(&g1, c))
        .collect::<Result<_>>()?;
    trace.mark("columns interpolated and committed");
    let nf = coeffs.len() - 3;
    let nsel = if circuit.version() == 1 { 7 } else { 8 };
    let mut selectors = [G1Affine::zero(); 8];
    selectors[..nsel].copy_from_slice(&comms[..nsel]);
    let vk = VerifyingKey {
        k: circuit.k,
        num_public: circuit.num_public,
        selectors,
        sigma: comms[nf..].try_into().expect("3"),
        lookup: circuit
            .has_lookups()
            .then(|| comms[nsel..nsel + 4].try_into().expect("4")),
        g2: srs.g2,
        packed: circuit.packed,
    };
    if vk.version() != circuit.version() {
        // [q_N] of a non-zero q_N column is the identity only if τ is a root of it.
        return Err(Error::param(
            "q_n commits to the identity under this SRS; use another SRS",
        ));
    }
    let mut fixed = coeffs;
    let sigma: [Vec<Fr>; 3] = fixed.split_off(nf).try_into().expect("3");
    let cosets = fixed_cosets(n, &fixed, &sigma);
    trace.mark("cosets");
    Ok((
        ProvingKey {
            cosets,
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
    // Trailing zeros cost an MSM nothing but time (a quotient without the degree-6 gate has
    // 2n of them, and so has its opening).
    let len = coeffs
        .iter()
        .rposition(|c| !c.is_zero())
        .map_or(0, |i| i + 1);
    if len == 0 {
        return Ok(G1Affine::zero());
    }
    Ok(crate::msm::msm(&g1[..len], &coeffs[..len])?.into_affine())
}

/// 2 when the non-Poseidon part of the quotient fits the even cosets (`3n + 8 < 4n`), else 1.
pub(crate) fn coset_stride(n: usize) -> usize {
    if n >= 16 {
        2
    } else {
        1
    }
}

/// Whether any row carries the Poseidon round gate (`q_F` or `q_P` nonzero). Without one the
/// degree-6 part of the numerator is identically zero and the quotient has degree ≤ 3n + 8.
pub(crate) fn has_round_gates(fixed: &[Vec<Fr>]) -> bool {
    fixed[5..7].iter().any(|c| c.iter().any(|x| !x.is_zero()))
}

/// The largest circuit (rows) whose proving key keeps its fixed columns on the quotient's
/// cosets by default. They cost ≈ 1.2–2.8 KB per row and save ≈ 30–90 size-`n` FFTs per proof;
/// with the vector FFT those are cheap (at 2^20 rows, a chain of `x·x + c`: 16.4 s and 3.8 KiB
/// per row with them, 18.9 s and 2.6 KiB without), so keys keep them up to 2^19 rows and
/// memory wins from 2^20 (issue 15: ≤ 3 KiB per row there, so that 2^22 rows fit in 24 GiB).
/// `BIGFILE_ZK_LEAN_KEYS=1` makes every new key lean (the same proofs, less memory).
pub const STORED_COSETS_MAX_N: usize = 1 << 19;

/// Whether a key of `n` rows made now keeps its coset values ([`STORED_COSETS_MAX_N`],
/// `BIGFILE_ZK_LEAN_KEYS`).
fn stores_cosets(n: usize) -> bool {
    let lean = std::env::var_os("BIGFILE_ZK_LEAN_KEYS").is_some_and(|v| !v.is_empty() && v != "0");
    n <= STORED_COSETS_MAX_N && !lean
}

/// The fixed columns on the quotient's cosets `g·ω_{8n}^j·H`, computed once per proving key
/// (none above [`STORED_COSETS_MAX_N`] rows: see [`fixed_coset`]).
pub(crate) fn fixed_cosets(n: usize, fixed: &[Vec<Fr>], sigma: &[Vec<Fr>; 3]) -> Vec<Vec<Column>> {
    if !stores_cosets(n) {
        return vec![Vec::new(); 8];
    }
    (0..8)
        .map(|j| fixed_coset(n, j, fixed, sigma, false))
        .collect()
}

/// The fixed columns on coset `j`: for the cosets that carry the whole numerator every fixed
/// column with `σ` after them; on the others (the Poseidon round's part only) the seven
/// selectors `q_M … q_P` in VK order, or nothing without a round gate. With `skip_zero` an
/// all-zero column is left empty (its values are all zero) instead of transformed.
pub(crate) fn fixed_coset(
    n: usize,
    j: usize,
    fixed: &[Vec<Fr>],
    sigma: &[Vec<Fr>; 3],
    skip_zero: bool,
) -> Vec<Column> {
    let big = Radix2EvaluationDomain::<Fr>::new(8 * n).expect("8n within the 2-adicity");
    let shift = Fr::GENERATOR * big.element(j);
    let polys: Vec<&Vec<Fr>> = if j.is_multiple_of(coset_stride(n)) {
        fixed.iter().chain(sigma.iter()).collect()
    } else if !has_round_gates(fixed) {
        // No degree-6 part: the quotient never visits this coset.
        Vec::new()
    } else {
        // Only the Poseidon round's q_L, q_R, q_C, q_F, q_P are read on the other cosets; the
        // seven selectors are kept so that the indices stay the same.
        fixed.iter().take(7).collect()
    };
    polys
        .par_iter()
        .map(|c| {
            Column::from(if skip_zero && c.iter().all(Zero::is_zero) {
                Vec::new()
            } else {
                domain::on_coset(n, shift, c)
            })
        })
        .collect()
}

/// Coefficients from values on `H` (`|c|` a power of two, as every column here).
fn interpolate(c: &[Fr]) -> Vec<Fr> {
    let mut v = c.to_vec();
    crate::fft::ifft_in_place(&mut v);
    v
}
