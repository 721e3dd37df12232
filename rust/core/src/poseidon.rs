//! circomlib-compatible Poseidon over the BN254 scalar field (docs/spec/poseidon.md).
//!
//! Constants are derived from the Grain LFSR of the Poseidon paper at first use of each width
//! (no constant tables in the source), then turned into the optimised form of the paper's
//! appendix B:
//!
//! * constants are moved after the S-box ("post" constants) and pushed backwards through the
//!   linear layers so that a partial round adds a single scalar;
//! * the partial rounds' dense MDS multiplications are factored as `M = S·D` with `S` sparse
//!   (first row, first column, identity elsewhere) and `D = diag(1, M̂)`; `D` commutes with a
//!   partial S-box, so it is pushed into the previous round, leaving one dense matrix `P` at the
//!   end of the first half and a sparse `2t − 1`-multiplication matrix per partial round.
//!
//! The textbook permutation is kept (`permute_textbook`) as the test oracle for the optimised one.

use crate::error::{Error, Result};
use crate::field::{self, Fr};
use ark_ff::{Field, PrimeField, Zero};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Full rounds (4 before and 4 after the partial rounds).
pub const FULL_ROUNDS: usize = 8;
/// Partial rounds for `t = 2..=17` (index `t − 2`), as in circomlib.
pub const PARTIAL_ROUNDS: [usize; 16] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];
/// Largest number of inputs of one hash (`t = 17`).
pub const MAX_INPUTS: usize = 16;

/// The constants of one width, in textbook and optimised form.
pub struct Params {
    pub t: usize,
    pub partial_rounds: usize,
    /// Textbook round constants, `(R_F + R_P)·t`, row-major by round.
    pub round_constants: Vec<Fr>,
    /// MDS matrix, row-major: `new[i] = Σ_j mds[i·t + j]·state[j]`.
    pub mds: Vec<Fr>,
    opt: Optimised,
}

/// The optimised schedule (see module docs).
struct Optimised {
    /// Added to the input before the first round (`t`).
    initial: Vec<Fr>,
    /// Post-S-box constants of each full round (`R_F·t`; the last round's are zero and skipped).
    full_post: Vec<Fr>,
    /// Post-S-box scalar of each partial round (`R_P`).
    partial_post: Vec<Fr>,
    /// Dense matrix that ends the last first-half full round (`t·t`, row-major).
    pre_sparse: Vec<Fr>,
    /// Sparse matrices of the partial rounds: per round `t` first-row entries, then `t − 1`
    /// first-column entries below the diagonal (`(2t − 1)·R_P`).
    sparse: Vec<Fr>,
}

// ---------------------------------------------------------------------------------------------
// Grain LFSR (Poseidon paper, appendix F; the reference script generate_parameters_grain.sage)
// ---------------------------------------------------------------------------------------------

struct Grain {
    /// The 80 state bits; bit 79 is the oldest (`b[i]`), bit 0 the newest.
    state: u128,
}

impl Grain {
    fn new(t: usize, partial_rounds: usize) -> Self {
        // field = 1 (GF(p), 2 bits), sbox = 0 (x^alpha, 4 bits), n = 254 (12 bits),
        // t (12 bits), R_F (10 bits), R_P (10 bits), then 30 one-bits: 80 bits, MSB first.
        let fields: [(u128, u32); 6] = [
            (1, 2),
            (0, 4),
            (254, 12),
            (t as u128, 12),
            (FULL_ROUNDS as u128, 10),
            (partial_rounds as u128, 10),
        ];
        let mut state = 0u128;
        for (value, bits) in fields {
            state = (state << bits) | value;
        }
        state = (state << 30) | ((1u128 << 30) - 1);
        let mut g = Grain { state };
        for _ in 0..160 {
            g.clock();
        }
        g
    }

    /// One LFSR step: `b[i+80] = b[i+62] ⊕ b[i+51] ⊕ b[i+38] ⊕ b[i+23] ⊕ b[i+13] ⊕ b[i]`.
    fn clock(&mut self) -> bool {
        let bit = |i: u32| (self.state >> (79 - i)) & 1;
        let new = bit(62) ^ bit(51) ^ bit(38) ^ bit(23) ^ bit(13) ^ bit(0);
        self.state = ((self.state << 1) | new) & ((1u128 << 80) - 1);
        new == 1
    }

    /// Self-shrinking output: pairs `(b1, b2)`, emit `b2` when `b1 = 1`.
    fn next_bit(&mut self) -> bool {
        loop {
            let b1 = self.clock();
            let b2 = self.clock();
            if b1 {
                return b2;
            }
        }
    }

    /// 254 output bits as a big-endian integer (four little-endian limbs).
    fn next_254(&mut self) -> [u64; 4] {
        let mut limbs = [0u64; 4];
        for i in (0..254).rev() {
            if self.next_bit() {
                limbs[i / 64] |= 1u64 << (i % 64);
            }
        }
        limbs
    }

    /// A uniform field element by rejection (round constants).
    fn next_field_rejecting(&mut self) -> Fr {
        loop {
            if let Ok(x) = field::from_limbs(self.next_254(), "") {
                return x;
            }
        }
    }

    /// A 254-bit sample reduced mod r (MDS samples).
    fn next_field_reduced(&mut self) -> Fr {
        Fr::from_bigint_reduced(self.next_254())
    }
}

trait FromBigintReduced {
    fn from_bigint_reduced(limbs: [u64; 4]) -> Fr;
}

impl FromBigintReduced for Fr {
    fn from_bigint_reduced(limbs: [u64; 4]) -> Fr {
        let mut bytes = [0u8; 32];
        for (i, l) in limbs.iter().enumerate() {
            bytes[8 * i..8 * i + 8].copy_from_slice(&l.to_le_bytes());
        }
        Fr::from_le_bytes_mod_order(&bytes)
    }
}

fn generate(t: usize) -> Params {
    let partial_rounds = PARTIAL_ROUNDS[t - 2];
    let rounds = FULL_ROUNDS + partial_rounds;
    let mut grain = Grain::new(t, partial_rounds);
    let round_constants: Vec<Fr> = (0..rounds * t)
        .map(|_| grain.next_field_rejecting())
        .collect();
    let mds = loop {
        let xy: Vec<Fr> = (0..2 * t).map(|_| grain.next_field_reduced()).collect();
        let distinct = (0..2 * t).all(|i| (0..i).all(|j| xy[i] != xy[j]));
        if !distinct {
            continue;
        }
        let (xs, ys) = xy.split_at(t);
        let mut m = Vec::with_capacity(t * t);
        let mut ok = true;
        for x in xs {
            for y in ys {
                match (*x + y).inverse() {
                    Some(v) => m.push(v),
                    None => ok = false,
                }
            }
        }
        if ok {
            break m;
        }
    };
    let opt = optimise(t, partial_rounds, &round_constants, &mds);
    Params {
        t,
        partial_rounds,
        round_constants,
        mds,
        opt,
    }
}

// ---------------------------------------------------------------------------------------------
// Small dense linear algebra for the precomputation (t <= 17, runs once per width)
// ---------------------------------------------------------------------------------------------

fn mat_vec(m: &[Fr], v: &[Fr]) -> Vec<Fr> {
    let n = v.len();
    (0..n)
        .map(|i| (0..n).map(|j| m[i * n + j] * v[j]).sum())
        .collect()
}

fn mat_mul(a: &[Fr], b: &[Fr], n: usize) -> Vec<Fr> {
    let mut c = vec![Fr::zero(); n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c
}

/// Gauss–Jordan inverse of an `n × n` matrix (MDS matrices and their minors are invertible).
fn mat_inv(m: &[Fr], n: usize) -> Vec<Fr> {
    let mut a = m.to_vec();
    let mut inv = vec![Fr::zero(); n * n];
    for i in 0..n {
        inv[i * n + i] = Fr::from(1u64);
    }
    for col in 0..n {
        let pivot = (col..n)
            .find(|&r| !a[r * n + col].is_zero())
            .expect("MDS matrices and their minors are invertible");
        for j in 0..n {
            a.swap(col * n + j, pivot * n + j);
            inv.swap(col * n + j, pivot * n + j);
        }
        let p = a[col * n + col].inverse().expect("non-zero pivot");
        for j in 0..n {
            a[col * n + j] *= p;
            inv[col * n + j] *= p;
        }
        for r in 0..n {
            if r != col && !a[r * n + col].is_zero() {
                let f = a[r * n + col];
                for j in 0..n {
                    let (av, iv) = (a[col * n + j], inv[col * n + j]);
                    a[r * n + j] -= f * av;
                    inv[r * n + j] -= f * iv;
                }
            }
        }
    }
    inv
}

fn optimise(t: usize, rp: usize, rc: &[Fr], mds: &[Fr]) -> Optimised {
    let rounds = FULL_ROUNDS + rp;
    let half = FULL_ROUNDS / 2;
    let m_inv = mat_inv(mds, t);

    // Post-S-box constants: round r adds M⁻¹·C_{r+1} after its S-box, so that after its
    // linear layer the state carries exactly the next round's pre-S-box constants.
    let mut post: Vec<Vec<Fr>> = (0..rounds)
        .map(|r| {
            if r + 1 < rounds {
                mat_vec(&m_inv, &rc[(r + 1) * t..(r + 2) * t])
            } else {
                vec![Fr::zero(); t]
            }
        })
        .collect();
    // In a partial round only state[0] meets the S-box, so the other post constants can be
    // moved before it, i.e. through the previous linear layer: (0, a_rest) becomes
    // M⁻¹·(0, a_rest) added to the previous round's post constants.
    let mut partial_post = vec![Fr::zero(); rp];
    for r in (half..half + rp).rev() {
        let mut rest = post[r].clone();
        partial_post[r - half] = rest[0];
        rest[0] = Fr::zero();
        let pushed = mat_vec(&m_inv, &rest);
        for (dst, v) in post[r - 1].iter_mut().zip(pushed) {
            *dst += v;
        }
    }

    // Sparse factorisation, last partial round first: L = S·D with D = diag(1, L̂), S =
    // [[l00, wᵀ·L̂⁻¹], [v, I]]; D moves into the previous round's linear layer (D·M).
    let mut sparse_rev = Vec::with_capacity(rp);
    let mut l = mds.to_vec();
    for _ in 0..rp {
        let n = t - 1;
        let hat: Vec<Fr> = (0..n * n).map(|k| l[(1 + k / n) * t + 1 + k % n]).collect();
        let hat_inv = mat_inv(&hat, n);
        let mut row = vec![l[0]];
        for j in 0..n {
            row.push((0..n).map(|k| l[1 + k] * hat_inv[k * n + j]).sum());
        }
        let col: Vec<Fr> = (1..t).map(|i| l[i * t]).collect();
        sparse_rev.push((row, col));
        let mut d = vec![Fr::zero(); t * t];
        d[0] = Fr::from(1u64);
        for i in 0..n {
            for j in 0..n {
                d[(1 + i) * t + 1 + j] = hat[i * n + j];
            }
        }
        l = mat_mul(&d, mds, t);
    }
    let pre_sparse = l;
    let sparse = sparse_rev
        .into_iter()
        .rev()
        .flat_map(|(row, col)| row.into_iter().chain(col))
        .collect();

    let full_post = (0..half)
        .chain(half + rp..rounds)
        .flat_map(|r| post[r].clone())
        .collect();
    Optimised {
        initial: rc[..t].to_vec(),
        full_post,
        partial_post,
        pre_sparse,
        sparse,
    }
}

/// The constants for width `t` (`2..=17`), derived at first use and cached.
pub fn params(t: usize) -> Result<&'static Params> {
    static CACHE: [OnceLock<Params>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];
    if !(2..=MAX_INPUTS + 1).contains(&t) {
        return Err(Error::param(format!(
            "Poseidon width t = {t} is not supported (t must be 2 to 17, i.e. 1 to 16 inputs)"
        )));
    }
    Ok(CACHE[t - 2].get_or_init(|| generate(t)))
}

// ---------------------------------------------------------------------------------------------
// The permutation
// ---------------------------------------------------------------------------------------------

#[inline(always)]
fn sbox(x: &mut Fr) {
    let x2 = x.square();
    *x *= x2.square();
}

#[inline(always)]
fn dense<const T: usize>(m: &[Fr], s: &mut [Fr; T]) {
    let input = *s;
    for (out, row) in s.iter_mut().zip(m.chunks_exact(T)) {
        let row: &[Fr; T] = row.try_into().expect("row of length t");
        *out = Fr::sum_of_products(row, &input);
    }
}

#[inline(always)]
fn add_assign<const T: usize>(s: &mut [Fr; T], c: &[Fr]) {
    for (x, c) in s.iter_mut().zip(c) {
        *x += c;
    }
}

/// The optimised permutation for a fixed width (the width is a constant so loops unroll).
fn permute_opt<const T: usize>(s: &mut [Fr; T], p: &Params) {
    let o = &p.opt;
    let half = FULL_ROUNDS / 2;
    add_assign(s, &o.initial);
    for r in 0..half {
        s.iter_mut().for_each(sbox);
        add_assign(s, &o.full_post[r * T..(r + 1) * T]);
        dense(if r + 1 == half { &o.pre_sparse } else { &p.mds }, s);
    }
    for (k, m) in o.partial_post.iter().zip(o.sparse.chunks_exact(2 * T - 1)) {
        sbox(&mut s[0]);
        s[0] += k;
        let s0 = s[0];
        let row: &[Fr; T] = m[..T].try_into().expect("first row");
        s[0] = Fr::sum_of_products(row, s);
        for (x, c) in s[1..].iter_mut().zip(&m[T..]) {
            *x += s0 * c;
        }
    }
    for r in half..FULL_ROUNDS {
        s.iter_mut().for_each(sbox);
        if r + 1 < FULL_ROUNDS {
            add_assign(s, &o.full_post[r * T..(r + 1) * T]);
        }
        dense(&p.mds, s);
    }
}

/// Poseidon permutation of `state` in place (`t = state.len()`, 2 to 17).
pub fn permute(state: &mut [Fr]) -> Result<()> {
    let p = params(state.len())?;
    macro_rules! dispatch {
        ($($t:literal)*) => {
            match state.len() {
                $($t => permute_opt::<$t>(state.try_into().expect("length checked"), p),)*
                _ => unreachable!("params() checked the width"),
            }
        };
    }
    dispatch!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
    Ok(())
}

fn check_input_count(n: usize) -> Result<()> {
    if n == 0 || n > MAX_INPUTS {
        return Err(Error::param(format!(
            "poseidon takes 1 to {MAX_INPUTS} inputs, got {n}"
        )));
    }
    Ok(())
}

/// circomlib `Poseidon(n)`: `permute([0, inputs…])[0]`, for 1 to 16 inputs.
pub fn hash(inputs: &[Fr]) -> Result<Fr> {
    check_input_count(inputs.len())?;
    let mut state = [Fr::zero(); MAX_INPUTS + 1];
    state[1..=inputs.len()].copy_from_slice(inputs);
    permute(&mut state[..=inputs.len()])?;
    Ok(state[0])
}

/// `Poseidon(a, b)`, the two-to-one compression of binary trees.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    let mut state = [Fr::zero(), a, b];
    permute_opt::<3>(&mut state, params(3).expect("t = 3 is supported"));
    state[0]
}

/// Many hashes of `arity` inputs each, in parallel: `inputs` holds them back to back.
pub fn hash_many(inputs: &[Fr], arity: usize) -> Result<Vec<Fr>> {
    check_input_count(arity)?;
    if !inputs.len().is_multiple_of(arity) {
        return Err(Error::param(format!(
            "{} inputs do not split into hashes of {arity} inputs each",
            inputs.len()
        )));
    }
    params(arity + 1)?; // derive the constants once, outside the parallel section
    let mut out = vec![Fr::zero(); inputs.len() / arity];
    out.par_chunks_mut(64)
        .zip(inputs.par_chunks(64 * arity))
        .for_each(|(o, c)| hash_many_serial(c, arity, o).expect("arity and lengths checked"));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Eight permutations at once (AVX-512 IFMA, `field_simd`); the scalar code above is the oracle
// ---------------------------------------------------------------------------------------------

/// Whether [`permute_x8`] and the batched hashes use the vector path (see `field_simd`).
pub fn simd_enabled() -> bool {
    crate::field_simd::enabled()
}

/// Eight independent permutations of width `T` (lane `k` is `states[k]`), equal to
/// [`permute`] on each state; on the vector path when available.
pub fn permute_x8<const T: usize>(states: &mut [[Fr; T]; 8]) -> Result<()> {
    let p = params(T)?;
    #[cfg(target_arch = "x86_64")]
    if simd_enabled() {
        // SAFETY: `simd_enabled` checked that the CPU has AVX-512F and IFMA.
        unsafe { simd::permute_fr::<T>(states, simd::params_for(p)) };
        return Ok(());
    }
    for s in states.iter_mut() {
        permute_opt::<T>(s, p);
    }
    Ok(())
}

/// Hashes of `arity` inputs each, `inputs` back to back (`8·arity` of them): eight at once.
fn hash_x8(inputs: &[Fr], arity: usize, out: &mut [Fr]) {
    debug_assert!(inputs.len() == 8 * arity && out.len() == 8);
    macro_rules! dispatch {
        ($($t:literal)*) => {
            match arity + 1 {
                $($t => {
                    let mut states = [[Fr::zero(); $t]; 8];
                    for (s, c) in states.iter_mut().zip(inputs.chunks_exact(arity)) {
                        s[1..].copy_from_slice(c);
                    }
                    permute_x8::<$t>(&mut states).expect("arity checked");
                    for (o, s) in out.iter_mut().zip(&states) {
                        *o = s[0];
                    }
                })*
                _ => unreachable!("arity checked"),
            }
        };
    }
    dispatch!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
}

/// `hash` over consecutive groups of `arity` inputs, eight at a time on the vector path
/// (the tail of fewer than eight by the scalar path); single-threaded.
pub fn hash_many_serial(inputs: &[Fr], arity: usize, out: &mut [Fr]) -> Result<()> {
    check_input_count(arity)?;
    if inputs.len() != out.len() * arity {
        return Err(Error::param(format!(
            "{} inputs are not {} hashes of {arity} inputs",
            inputs.len(),
            out.len()
        )));
    }
    let mut at = 0;
    if simd_enabled() {
        for (c, o) in inputs.chunks_exact(8 * arity).zip(out.chunks_exact_mut(8)) {
            hash_x8(c, arity, o);
            at += 8;
        }
    }
    for (c, o) in inputs[at * arity..].chunks_exact(arity).zip(&mut out[at..]) {
        *o = hash(c)?;
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod simd {
    //! The optimised permutation of [`super::permute_opt`] on eight lanes.
    use super::{Params, FULL_ROUNDS, MAX_INPUTS};
    use crate::field::Fr;
    use crate::field_simd::avx::V;
    use crate::field_simd::{to_mont_limbs, Limbs};
    use std::sync::OnceLock;

    /// [`super::Optimised`] and the MDS matrix in the vector form (Montgomery `2^260` limbs).
    pub struct SimdParams {
        initial: Vec<Limbs>,
        full_post: Vec<Limbs>,
        partial_post: Vec<Limbs>,
        pre_sparse: Vec<Limbs>,
        sparse: Vec<Limbs>,
        mds: Vec<Limbs>,
    }

    /// The vector constants of `p`'s width (derived once per width).
    pub fn params_for(p: &Params) -> &'static SimdParams {
        static CACHE: [OnceLock<SimdParams>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];
        CACHE[p.t - 2].get_or_init(|| {
            let conv = |v: &[Fr]| v.iter().map(to_mont_limbs).collect::<Vec<_>>();
            let o = &p.opt;
            SimdParams {
                initial: conv(&o.initial),
                full_post: conv(&o.full_post),
                partial_post: conv(&o.partial_post),
                pre_sparse: conv(&o.pre_sparse),
                sparse: conv(&o.sparse),
                mds: conv(&p.mds),
            }
        })
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn splat_all<const T: usize>(c: &[Limbs]) -> [V; T] {
        core::array::from_fn(|i| V::splat(&c[i]))
    }

    /// `x⁵` for `x < 3r` (then `x² < 2r`, `x⁴ < 2r`, `x⁴·x < 6r²`), result `< 2r`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn sbox(x: &V) -> V {
        x.square().square().mul(x)
    }

    /// `s ← M·s` with one reduction per row (`Σ m·s < T·r·3r < R·r` for `s < 3r`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn dense<const T: usize>(m: &[Limbs], s: &mut [V; T]) {
        let input = *s;
        for (out, row) in s.iter_mut().zip(m.chunks_exact(T)) {
            *out = V::dot(&splat_all::<T>(row), &input);
        }
    }

    /// The permutation; state values `< 2r` in and out (see `field_simd` for the bounds).
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub fn permute<const T: usize>(s: &mut [V; T], p: &SimdParams) {
        let half = FULL_ROUNDS / 2;
        // `< 2r` plus a canonical constant: `< 3r`, enough for the S-box and `dense`.
        for (x, c) in s.iter_mut().zip(&p.initial) {
            *x = x.add_lazy(&V::splat(c));
        }
        for r in 0..half {
            for (i, x) in s.iter_mut().enumerate() {
                *x = sbox(x).add_lazy(&V::splat(&p.full_post[r * T + i]));
            }
            dense(if r + 1 == half { &p.pre_sparse } else { &p.mds }, s);
        }
        for (k, m) in p.partial_post.iter().zip(p.sparse.chunks_exact(2 * T - 1)) {
            // s0 < 3r, the others < 2r: the first row's dot is < (3 + 2(T − 1))·r² < R·r.
            let s0 = sbox(&s[0]).add_lazy(&V::splat(k));
            s[0] = s0;
            let row = splat_all::<T>(&m[..T]);
            let new0 = V::dot(&row, s);
            for (x, c) in s[1..].iter_mut().zip(&m[T..]) {
                // s0·c < 3r·r: product < 2r, and the reduced add keeps x < 2r.
                *x = x.add(&s0.mul(&V::splat(c)));
            }
            s[0] = new0;
        }
        for r in half..FULL_ROUNDS {
            for (i, x) in s.iter_mut().enumerate() {
                *x = sbox(x);
                if r + 1 < FULL_ROUNDS {
                    *x = x.add_lazy(&V::splat(&p.full_post[r * T + i]));
                }
            }
            dense(&p.mds, s);
        }
    }

    /// [`permute`] on arkworks states, converting in and out.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and AVX-512 IFMA.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub unsafe fn permute_fr<const T: usize>(states: &mut [[Fr; T]; 8], p: &SimdParams) {
        let mut s: [V; T] =
            core::array::from_fn(|i| V::from_fr(&core::array::from_fn(|k| states[k][i])));
        permute::<T>(&mut s, p);
        for (i, v) in s.iter().enumerate() {
            for (k, x) in v.to_fr().into_iter().enumerate() {
                states[k][i] = x;
            }
        }
    }
}

/// Textbook permutation, straight from the spec (test oracle).
pub fn permute_textbook(state: &mut [Fr]) -> Result<()> {
    let p = params(state.len())?;
    let t = p.t;
    let half = FULL_ROUNDS / 2;
    for r in 0..FULL_ROUNDS + p.partial_rounds {
        for (x, c) in state.iter_mut().zip(&p.round_constants[r * t..]) {
            *x += c;
        }
        if r < half || r >= half + p.partial_rounds {
            state.iter_mut().for_each(sbox);
        } else {
            sbox(&mut state[0]);
        }
        let next = mat_vec(&p.mds, state);
        state.copy_from_slice(&next);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(x: Fr) -> String {
        field::to_hex(&x)
    }

    fn ints(v: &[u64]) -> Vec<Fr> {
        v.iter().map(|&x| Fr::from(x)).collect()
    }

    #[test]
    fn circomlib_known_answers() {
        assert_eq!(
            hex(hash(&ints(&[1])).unwrap()),
            "0x29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133"
        );
        assert_eq!(
            hex(hash(&ints(&[1, 2])).unwrap()),
            "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
        assert_eq!(
            hex(hash2(Fr::from(1u64), Fr::from(2u64))),
            "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
        assert_eq!(
            hex(hash(&ints(&[1, 2, 3, 4])).unwrap()),
            "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"
        );
        let all: Vec<u64> = (1..=16).collect();
        assert_eq!(
            hash(&ints(&all)).unwrap().into_bigint().to_string(),
            "9989051620750914585850546081941653841776809718687451684622678807385399211877"
        );
    }

    #[test]
    fn first_round_constants_match_circomlib() {
        // Debug aid for the LFSR: circomlib's C[t−2][0] for t = 2 and 3.
        assert_eq!(
            hex(params(2).unwrap().round_constants[0]),
            "0x09c46e9ec68e9bd4fe1faaba294cba38a71aa177534cdd1b6c7dc0dbd0abd7a7"
        );
        assert_eq!(
            hex(params(3).unwrap().round_constants[0]),
            "0x0ee9a592ba9a9518d05986d656f40c2114c4993c11bb29938d21d47304cd8e6e"
        );
    }

    #[test]
    fn arity_is_checked() {
        assert!(hash(&[]).is_err());
        assert!(hash(&[Fr::zero(); 17]).is_err());
        assert!(permute(&mut [Fr::zero(); 1]).is_err());
        assert!(permute(&mut [Fr::zero(); 18]).is_err());
        assert!(hash_many(&[Fr::zero(); 5], 2).is_err());
    }

    fn arb_fr() -> impl Strategy<Value = Fr> {
        prop_oneof![
            Just(Fr::zero()),
            Just(-Fr::from(1u64)),
            any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
        ]
    }

    fn x8_equals_scalar<const T: usize>(seed: &[Fr]) -> std::result::Result<(), TestCaseError> {
        let mut states: [[Fr; T]; 8] = core::array::from_fn(|k| {
            core::array::from_fn(|i| seed[(k * 7 + i * 3) % seed.len()] + Fr::from((k * i) as u64))
        });
        let expected = states.map(|mut s| {
            permute(&mut s).unwrap();
            s
        });
        permute_x8::<T>(&mut states).unwrap();
        for k in 0..8 {
            prop_assert_eq!(states[k], expected[k], "lane {}", k);
        }
        Ok(())
    }

    #[test]
    fn x8_circomlib_known_answers() {
        // Lanes differ, and lanes 3 and 6 hold the circomlib vectors.
        let mut inputs: Vec<Fr> = (0..16).map(|i| Fr::from(1000 + i as u64)).collect();
        inputs[6..8].copy_from_slice(&ints(&[1, 2]));
        inputs[12..14].copy_from_slice(&ints(&[1, 2]));
        let mut out = [Fr::zero(); 8];
        hash_many_serial(&inputs, 2, &mut out).unwrap();
        for (k, o) in out.iter().enumerate() {
            assert_eq!(*o, hash2(inputs[2 * k], inputs[2 * k + 1]), "lane {k}");
        }
        let want = "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a";
        assert_eq!(hex(out[3]), want);
        assert_eq!(hex(out[6]), want);
        let mut inputs4: Vec<Fr> = (0..32).map(|i| Fr::from(i as u64 * 77)).collect();
        inputs4[20..24].copy_from_slice(&ints(&[1, 2, 3, 4]));
        let mut out4 = [Fr::zero(); 8];
        hash_many_serial(&inputs4, 4, &mut out4).unwrap();
        assert_eq!(
            hex(out4[5]),
            "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"
        );
        // The vector path really ran where the CPU has it (else this compares scalar to scalar).
        assert_eq!(simd_enabled(), crate::field_simd::hardware_available());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn x8_equals_scalar_lane_by_lane(seed in proptest::collection::vec(arb_fr(), 1..24)) {
            x8_equals_scalar::<2>(&seed)?;
            x8_equals_scalar::<3>(&seed)?;
            x8_equals_scalar::<5>(&seed)?;
            x8_equals_scalar::<9>(&seed)?;
            x8_equals_scalar::<17>(&seed)?;
        }

        #[test]
        fn hash_many_serial_equals_hash(n in 0usize..30, arity in 1usize..=16, seed in arb_fr()) {
            let inputs: Vec<Fr> = (0..n * arity).map(|i| seed * Fr::from(i as u64 + 1)).collect();
            let mut out = vec![Fr::zero(); n];
            hash_many_serial(&inputs, arity, &mut out).unwrap();
            for (i, h) in out.iter().enumerate() {
                prop_assert_eq!(*h, hash(&inputs[i * arity..(i + 1) * arity]).unwrap());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn optimised_equals_textbook(t in 2usize..=17, seed in proptest::collection::vec(arb_fr(), 17)) {
            let mut a = seed[..t].to_vec();
            let mut b = a.clone();
            permute(&mut a).unwrap();
            permute_textbook(&mut b).unwrap();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn batch_equals_single(n in 1usize..40, arity in 1usize..=16, seed in any::<u64>()) {
            let inputs: Vec<Fr> = (0..n * arity).map(|i| Fr::from(seed) + Fr::from(i as u64)).collect();
            let batch = hash_many(&inputs, arity).unwrap();
            for (i, h) in batch.iter().enumerate() {
                prop_assert_eq!(*h, hash(&inputs[i * arity..(i + 1) * arity]).unwrap());
            }
        }
    }
}
