//! The proof-of-compute circuit (`docs/spec/proof-of-compute.md`): the integer program of a
//! quantized model (`program`), laid out on the PLONK builder with the model's constants in
//! fixed columns, the input bound to its BigFile file commitment, and the statement
//! `[C_x, job, provider, outputs…]` (or `[C_x, job, provider, H_y]` past 12 outputs).
//!
//! Layouts (row costs in the spec, §3): linear layers are `dot` chains (spec v2's `q_N`, two
//! multiply-accumulates per row) with `M` folded into the coefficients and the zero points and
//! the rounding half into the constant; every requantization proves one shift by remainder
//! limbs in range tables and the clamp by a table over the layer's possible values (§4), or,
//! where that range is too wide for a table, by two comparison flags and a range check.

pub mod program;

use ark_bn254::Fr;
use ark_ff::{Field, One, PrimeField, Zero};
use bigfile_zk::commitment::{self, Layout};
use bigfile_zk::error::{Error, Result};
use bigfile_zk::field;
use bigfile_zk::merkle;
use bigfile_zk::plonk::{Builder, TableId, Var};
use program::{linear_terms, max_windows, Op, Program, Requant};
use std::collections::HashMap;

/// At most this many outputs are public inputs; more are hashed (spec §1).
pub const MAX_PUBLIC_OUTPUTS: usize = 12;

/// The sponge IV of the output hash.
pub const OUTPUTS_IV: &[u8] = b"bigfile_zk/outputs/v1";

/// Layout parameters (chosen by the compiler; part of the circuit's shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Width of the remainder limbs' range table (`2^bits` entries).
    pub range_bits: u32,
    /// The widest clamp table a layer may have; wider ranges use the comparison gadget.
    pub max_clamp_table: u64,
    /// A requantization shared by at least this many outputs of a node (a conv channel, a
    /// pool) uses the bucket layout (spec §4.2: two lookups, tables of its own); `u32::MAX`
    /// never does.
    pub bucket_min_outputs: u32,
    /// Poseidon (the input commitment, the output hash) on its round gate, or on arithmetic
    /// rows: ≈ 570 more rows a permutation, but without the degree-6 gate the prover skips
    /// half the quotient's cosets and 2n of its two largest MSMs, and the EVM verifier one
    /// scalar multiplication (`[q_F]`, `[q_P]` go, `[q_M]` comes; `Builder::set_poseidon_gate`).
    pub poseidon_gate: bool,
    /// PLONK spec version 3 (`plonk.md` §8, `Builder::set_packed`): the witness committed
    /// packed and opened at once, five EVM scalar multiplications (≈ 32k gas) fewer per
    /// verification for about `4n` more prover MSM points. Version 2 otherwise.
    pub packed: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            range_bits: 13,
            max_clamp_table: 1 << 13,
            bucket_min_outputs: 64,
            poseidon_gate: true,
            packed: true,
        }
    }
}

/// The public statement, in the verifier's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub input_commitment: Fr,
    pub job: Fr,
    pub provider: Fr,
    /// The outputs as field elements, or their hash when there are more than 12.
    pub outputs: Vec<Fr>,
}

impl Statement {
    pub fn public_inputs(&self) -> Vec<Fr> {
        let mut v = vec![self.input_commitment, self.job, self.provider];
        v.extend(&self.outputs);
        v
    }
}

/// A signed integer as a field element (`v` or `r + v`, quantization.md §6).
pub fn fr(v: i128) -> Fr {
    if v >= 0 {
        Fr::from(v as u128)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

fn pow2(k: u32) -> Fr {
    Fr::from(2u64).pow([k as u64])
}

/// `a_q = ⌈(q·2^s − 2^(s−1)) / M⌉`: the least accumulator whose requantization (before the
/// zero point and the clamp) is `q` (spec §4.2).
fn bucket_start(rq: &Requant, q: i64) -> i128 {
    let num = ((q as i128) << rq.shift) - (1i128 << (rq.shift - 1));
    let m = rq.multiplier as i128;
    num.div_euclid(m) + i128::from(num.rem_euclid(m) != 0)
}

/// `D = ⌊2^s / M⌋`: every bucket `[a_q, a_{q+1})` is `D` or `D + 1` wide.
fn bucket_width(rq: &Requant) -> i128 {
    (1i128 << rq.shift) / rq.multiplier as i128
}

/// The input's canonical bytes (C order, int8 as two's complement).
pub fn input_bytes(x: &[i64]) -> Vec<u8> {
    x.iter().map(|v| *v as u8).collect()
}

/// Per-tensor integer intervals, from the declared input range through every node (one
/// interval per tensor: looser than the compiler's per-element report, and sound).
fn intervals(p: &Program) -> Vec<(i64, i64)> {
    let mut iv = vec![p.input_range];
    for node in &p.nodes {
        let x = iv[node.inputs[0]];
        let out = match &node.op {
            Op::Dense { requant, .. } | Op::Conv2d { requant, .. } => {
                let lo = requant.iter().map(|r| r.clamp.0).min().unwrap_or(0);
                let hi = requant.iter().map(|r| r.clamp.1).max().unwrap_or(0);
                (lo, hi)
            }
            Op::AvgPool { requant, .. }
            | Op::GlobalAvgPool { requant, .. }
            | Op::Add { requant, .. } => requant.clamp,
            Op::MaxPool { .. } | Op::Reshape => x,
            Op::Clamp { clamp: (lo, hi) } => (x.0.max(*lo).min(*hi), x.1.min(*hi).max(*lo)),
        };
        iv.push(out);
    }
    iv
}

/// `[min, max]` of `k + Σ c·x` over `x ∈ [lo, hi]`.
fn span(terms: &[(i64, usize)], k: i64, (lo, hi): (i64, i64)) -> (i128, i128) {
    let (mut a, mut b) = (k as i128, k as i128);
    for (c, _) in terms {
        let (p, q) = (*c as i128 * lo as i128, *c as i128 * hi as i128);
        a += p.min(q);
        b += p.max(q);
    }
    (a, b)
}

/// Tables, made on first use and shared (the builder tags each one).
#[derive(Default)]
struct Tables {
    ids: HashMap<String, TableId>,
}

impl Tables {
    fn get(
        &mut self,
        b: &mut Builder,
        key: String,
        entries: impl FnOnce() -> Vec<(Fr, Fr)>,
    ) -> Result<TableId> {
        if let Some(t) = self.ids.get(&key) {
            return Ok(*t);
        }
        let t = b.add_table(&key, entries())?;
        self.ids.insert(key, t);
        Ok(t)
    }

    /// `{(v, 0) : 0 ≤ v < 2^bits}`.
    fn range(&mut self, b: &mut Builder, bits: u32) -> Result<TableId> {
        self.get(b, format!("compute/range{bits}"), || {
            (0..1u64 << bits)
                .map(|v| (Fr::from(v), Fr::zero()))
                .collect()
        })
    }

    /// `{(clamp(u, lo, hi), u) : u ∈ [a, b]}`: the output first, so that a lookup row
    /// `(y, tag, u)` leaves `u` in `c` for the requantization's linking row above it.
    fn clamp_by_output(
        &mut self,
        b: &mut Builder,
        (a, z): (i64, i64),
        (lo, hi): (i64, i64),
    ) -> Result<TableId> {
        self.get(
            b,
            format!("compute/clamp-out[{a},{z}]->[{lo},{hi}]"),
            || {
                (a..=z)
                    .map(|u| (fr(u.clamp(lo, hi) as i128), fr(u as i128)))
                    .collect()
            },
        )
    }

    /// The bucket tables of a requantization (spec §4.2) over `q ∈ [q_lo, q_hi]`:
    /// `C = {(clamp(q + z), 2·a_q + δ_q)}` with `a_q = ⌈(q·2^s − h)/M⌉` the least accumulator
    /// that requantizes to `q`, and `δ_q = a_{q+1} − a_q − D ∈ {0, 1}` for `D = ⌊2^s/M⌋`; and
    /// `R_D = {(ρ, δ) : δ ∈ {0, 1}, 0 ≤ ρ < D + δ}`.
    fn bucket(
        &mut self,
        b: &mut Builder,
        rq: &Requant,
        (q_lo, q_hi): (i64, i64),
    ) -> Result<(TableId, TableId)> {
        let d = bucket_width(rq);
        let c = self.get(
            b,
            format!(
                "compute/bucket[M={},s={},z={}]->[{},{}]@[{q_lo},{q_hi}]",
                rq.multiplier, rq.shift, rq.zero_point, rq.clamp.0, rq.clamp.1
            ),
            || {
                (q_lo..=q_hi)
                    .map(|q| {
                        let (a, delta) = (
                            bucket_start(rq, q),
                            bucket_start(rq, q + 1) - bucket_start(rq, q) - d,
                        );
                        let y = (q + rq.zero_point).clamp(rq.clamp.0, rq.clamp.1);
                        (fr(y as i128), fr(2 * a + delta))
                    })
                    .collect()
            },
        )?;
        let r = self.get(b, format!("compute/remainder{d}"), || {
            (0..=1)
                .flat_map(|delta| (0..d + delta).map(move |rho| (fr(rho), fr(delta))))
                .collect()
        })?;
        Ok((c, r))
    }

    /// `{(u, clamp(u, lo, hi)) : u ∈ [a, b]}`.
    fn clamp(
        &mut self,
        b: &mut Builder,
        (a, z): (i64, i64),
        (lo, hi): (i64, i64),
    ) -> Result<TableId> {
        self.get(b, format!("compute/clamp[{a},{z}]->[{lo},{hi}]"), || {
            (a..=z)
                .map(|u| (fr(u as i128), fr(u.clamp(lo, hi) as i128)))
                .collect()
        })
    }
}

struct Layouter<'a> {
    b: &'a mut Builder,
    tables: Tables,
    params: Params,
}

impl Layouter<'_> {
    /// The limbs of `0 ≤ x_int < 2^bits`, `range_bits` wide (the top one narrower): variables
    /// only, so that the row reading the value can come first (it may host a `dot` result).
    fn limbs(&mut self, x_int: i128, bits: u32) -> Vec<(Fr, Var, u32)> {
        let k = self.params.range_bits;
        let mut out = Vec::new();
        let mut at = 0;
        while at < bits {
            let width = k.min(bits - at);
            let limb = (x_int >> at) & ((1i128 << width) - 1);
            out.push((pow2(at), self.b.input(fr(limb)), width));
            at += width;
        }
        out
    }

    /// One lookup per limb, into the range table of its width.
    fn check_limbs(&mut self, limbs: &[(Fr, Var, u32)]) -> Result<()> {
        for &(_, v, width) in limbs {
            let t = self.tables.range(self.b, width)?;
            let zero = self.b.constant(Fr::zero());
            self.b.lookup(t, v, zero);
        }
        Ok(())
    }

    /// `y = clamp(((acc·M + 2^(s−1)) >> s) + z, lo, hi)` for `acc = k + Σ c·x`, by buckets
    /// (spec §4.2): the remainder row `(ρ, tag, δ)` in `R_D`, the chain
    /// `2k + Σ 2c·x − 2ρ + δ` (ρ in its first row's `c`, δ a term), and the clamp row
    /// `(y, tag, key)` in `C` reading the chain's result as its `c`: two lookups, and half a
    /// row for δ when the number of terms is even.
    fn requant_bucket(
        &mut self,
        terms: &[(i64, Var)],
        k: i64,
        acc: i128,
        rq: &Requant,
        q_range: (i64, i64),
    ) -> Result<Var> {
        let m = rq.multiplier as i128;
        let q = ((acc * m + (1i128 << (rq.shift - 1))) >> rq.shift) as i64;
        let a = bucket_start(rq, q);
        let delta = bucket_start(rq, q + 1) - a - bucket_width(rq);
        let y_int = (q + rq.zero_point).clamp(rq.clamp.0, rq.clamp.1);
        let (c, r) = self.tables.bucket(self.b, rq, q_range)?;
        let rho = self.b.input(fr(acc - a));
        let dv = self.b.input(fr(delta));
        self.b.lookup(r, rho, dv);
        // The clamp table's tag exists before the chain, so the lookup row follows it.
        self.b.table_tag(c);
        let mut chain: Vec<(Fr, Var)> = terms
            .iter()
            .map(|(w, x)| (fr(2 * *w as i128), *x))
            .collect();
        chain.push((Fr::one(), dv));
        let key = self.b.dot_from((-fr(2), rho), &chain, fr(2 * k as i128));
        debug_assert_eq!(self.b.value(key), fr(2 * a + delta));
        let y = self.b.input(fr(y_int as i128));
        self.b.lookup(c, y, key);
        Ok(y)
    }

    /// `y = clamp(((v >> s) + z), lo, hi)` for `v = acc·M + 2^(s−1)` held by `v`, with `u = q + z`
    /// known to lie in `u_range` for every input (spec §4).
    fn requant(&mut self, v: Var, v_int: i128, rq: &Requant, u_range: (i64, i64)) -> Result<Var> {
        let s = rq.shift;
        let q = v_int >> s;
        let rho = v_int - (q << s);
        let u_int = q as i64 + rq.zero_point;
        let y_int = u_int.clamp(rq.clamp.0, rq.clamp.1);
        let u = self.b.input(fr(u_int as i128));
        let y = self.b.input(fr(y_int as i128));
        let limbs = self.limbs(rho, s);
        let width = (u_range.1 - u_range.0 + 1) as u64;
        if limbs.len() <= 2 && width <= self.params.max_clamp_table {
            // Two rows and the limbs: (ρ_0, ρ_1, v) with v − ρ_0 − 2^k·ρ_1 − 2^s·(u' − z) = 0,
            // u' the next row's c, which is the clamp lookup (y, tag, u). v sits where the dot
            // chain left it; the tag constant exists before, so the two rows are adjacent.
            let t = self.tables.clamp_by_output(self.b, u_range, rq.clamp)?;
            self.b.table_tag(t);
            let (c1, r1) = limbs
                .get(1)
                .map_or((Fr::zero(), None), |(c, x, _)| (*c, Some(*x)));
            self.b.gate_with_next(
                [Some(limbs[0].1), r1, Some(v)],
                [
                    Fr::zero(),
                    -Fr::one(),
                    -c1,
                    Fr::one(),
                    pow2(s) * fr(rq.zero_point as i128),
                ],
                -pow2(s),
            );
            self.b.lookup(t, y, u);
            self.check_limbs(&limbs)?;
            return Ok(y);
        }
        // v = ρ + 2^s·(u − z), first: its row holds v where the dot chain left it.
        let mut terms = vec![(Fr::one(), v)];
        terms.extend(limbs.iter().map(|(c, x, _)| (-*c, *x)));
        terms.push((-pow2(s), u));
        self.b
            .assert_linear(&terms, pow2(s) * fr(rq.zero_point as i128));
        self.check_limbs(&limbs)?;
        if width <= self.params.max_clamp_table {
            let t = self.tables.clamp(self.b, u_range, rq.clamp)?;
            self.b.lookup(t, u, y);
        } else {
            self.wide_clamp(u, u_int, y, y_int, u_range, rq.clamp)?;
        }
        Ok(y)
    }

    /// `y = clamp(u, lo, hi)` for `u` in a range too wide for a table: flags `above = [t > W]`,
    /// `below = [t < 0]` for `t = u − lo`, `W = hi − lo`; `y − lo = t + above·(W − t) − below·t`
    /// in `[0, W]` (a table), and `g = above·(t − W − 1) + below·(−t − 1)` a `B`-bit range
    /// check (both flags set makes `g < 0`; neither makes `y = u`, in range).
    fn wide_clamp(
        &mut self,
        u: Var,
        u_int: i64,
        y: Var,
        y_int: i64,
        u_range: (i64, i64),
        (lo, hi): (i64, i64),
    ) -> Result<()> {
        let w = hi - lo;
        let t_int = u_int - lo;
        let (above_i, below_i) = ((t_int > w) as i64, (t_int < 0) as i64);
        let t = self.b.affine(u, Fr::one(), -fr(lo as i128));
        let above = self.b.input(fr(above_i as i128));
        let below = self.b.input(fr(below_i as i128));
        self.b.assert_bool(above);
        self.b.assert_bool(below);
        let pa = self.b.mul(above, t);
        let pb = self.b.mul(below, t);
        // y − lo = t + W·above − pa − pb
        self.b.assert_linear(
            &[
                (Fr::one(), t),
                (fr(w as i128), above),
                (-Fr::one(), pa),
                (-Fr::one(), pb),
                (-Fr::one(), y),
            ],
            fr(lo as i128),
        );
        let inside = self.tables.clamp(self.b, (lo, hi), (lo, hi))?;
        let y2 = self.b.input(fr(y_int as i128));
        self.b.assert_equal(y, y2);
        self.b.lookup(inside, y, y2);
        let g_int = above_i * (t_int - w - 1) + below_i * (-t_int - 1);
        let g = self.b.dot(
            &[
                (Fr::one(), pa),
                (-fr(w as i128 + 1), above),
                (-Fr::one(), pb),
                (-Fr::one(), below),
            ],
            Fr::zero(),
        );
        let spread = (u_range.1 - lo).max(lo - u_range.0).max(1) as u128;
        let bits = 128 - spread.leading_zeros();
        let limbs = self.limbs(g_int as i128, bits);
        let mut terms = vec![(Fr::one(), g)];
        terms.extend(limbs.iter().map(|(c, x, _)| (-*c, *x)));
        self.b.assert_linear(&terms, Fr::zero());
        self.check_limbs(&limbs)
    }

    /// `max(a, b)` of two 8-bit integers: a flag, `m = b + β·(a − b)`, `(2β − 1)·(a − b) ≥ 0`.
    fn max2(&mut self, (a, ai): (Var, i64), (bv, bi): (Var, i64)) -> Result<(Var, i64)> {
        let beta_i = (ai >= bi) as i64;
        let beta = self.b.input(fr(beta_i as i128));
        self.b.assert_bool(beta);
        let d = self.b.sub(a, bv);
        let bd = self.b.mul(beta, d);
        let m = self.b.add(bv, bd);
        let e = self.b.lin2(bd, fr(2), d, -Fr::one(), Fr::zero());
        debug_assert_eq!(self.b.value(e), fr(((2 * beta_i - 1) * (ai - bi)) as i128));
        let t = self.tables.range(self.b, 9)?;
        let zero = self.b.constant(Fr::zero());
        self.b.lookup(t, e, zero);
        Ok((m, ai.max(bi)))
    }
}

/// The layout parameters that give the smallest circuit (fewest rows at the smallest `2^k`,
/// tables included): the row count and the table sizes pull in opposite directions (wider
/// limbs mean fewer lookups but a bigger range table; wider clamp tables spare the comparison
/// gadget; shared bucket tables spare remainder limbs). Lays out the shape a few times.
pub fn choose_params(p: &Program) -> Result<Params> {
    let size = |params: Params| -> Result<(u32, usize)> {
        let mut b = Builder::new();
        build(&mut b, p, None, 0, Fr::zero(), params)?;
        Ok((b.predicted_k(), b.num_rows()))
    };
    let mut best: Option<((u32, usize), Params)> = None;
    for range_bits in [10u32, 12, 13, 14] {
        for table_log in [10u32, 12, 13, 14] {
            for bucket_min_outputs in [u32::MAX, 16] {
                let params = Params {
                    range_bits,
                    max_clamp_table: 1 << table_log,
                    bucket_min_outputs,
                    poseidon_gate: true,
                    packed: true,
                };
                let key = size(params)?;
                if best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, params));
                }
            }
        }
    }
    let ((k, _), params) = best.expect("candidates");
    // Without the round gate when that fits the same 2^k: a faster proof, a cheaper verifier.
    let arith = Params {
        poseidon_gate: false,
        ..params
    };
    Ok(if size(arith)?.0 == k { arith } else { params })
}

/// Lay out the model on `b`. `x = None` lays out the shape only (setup): the placeholder input
/// is the lowest value of the declared range. Returns the statement of this input.
pub fn build(
    b: &mut Builder,
    p: &Program,
    x: Option<&[i64]>,
    job: u64,
    provider: Fr,
    params: Params,
) -> Result<Statement> {
    let len: usize = p.input_shape.iter().product();
    let placeholder = vec![p.input_range.0; len];
    let x = x.unwrap_or(&placeholder);
    let tensors = p.forward(x)?;
    let bytes = input_bytes(x);
    let layout = Layout::default();
    let c_x = commitment::commit_bytes(&bytes, layout)?.commitment;
    let limbs = provider.into_bigint().0;
    if limbs[3] != 0 || limbs[2] >> 32 != 0 {
        return Err(Error::InvalidParameter(
            "provider is an EVM address: below 2^160".into(),
        ));
    }

    // Tags in b, for every table of the circuit (one convention per circuit): a lookup leaves
    // its value in c, where the requantization's linking row above it reads it.
    b.set_lookup_tag_column(1)?;
    b.set_poseidon_gate(params.poseidon_gate);
    b.set_packed(params.packed);
    // Public inputs first, in the statement's order.
    let pc = b.public_input(c_x);
    let pj = b.public_input(Fr::from(job));
    let pp = b.public_input(provider);
    b.push_label("statement");
    b.range_check(pj, 64)?;
    b.range_check(pp, 160)?;
    b.pop_label();

    let mut l = Layouter {
        b,
        tables: Tables::default(),
        params,
    };
    let iv = intervals(p);

    // The input: each value x ↦ its byte by one lookup (which also checks the declared
    // range), the bytes packed 31 to an element, the file commitment recomputed.
    l.b.push_label("input");
    let (lo, hi) = p.input_range;
    let byte_table = l.tables.get(l.b, format!("compute/input[{lo},{hi}]"), || {
        (lo..=hi)
            .map(|v| (fr(v as i128), Fr::from(v as u8 as u64)))
            .collect()
    })?;
    let mut vars: Vec<Vec<Var>> = Vec::with_capacity(p.nodes.len() + 1);
    let xs: Vec<Var> = x.iter().map(|v| l.b.input(fr(*v as i128))).collect();
    let byte_vars: Vec<Var> = xs
        .iter()
        .zip(&bytes)
        .map(|(xv, byte)| {
            let bv = l.b.input(Fr::from(*byte as u64));
            l.b.lookup(byte_table, *xv, bv);
            bv
        })
        .collect();
    let root = commit_in_circuit(l.b, &byte_vars, layout)?;
    let meta = commitment::meta(bytes.len() as u64, &layout, commitment::SPEC_VERSION);
    let meta_v = l.b.constant(meta);
    let c = l.b.poseidon(&[root, meta_v])?;
    l.b.assert_equal(c, pc);
    l.b.pop_label();
    vars.push(xs);

    for (ni, node) in p.nodes.iter().enumerate() {
        l.b.push_label(&node.name);
        let ins = &vars[node.inputs[0]];
        let x_int = &tensors[node.inputs[0]];
        let out: Vec<Var> = match &node.op {
            Op::Dense { .. }
            | Op::Conv2d { .. }
            | Op::AvgPool { .. }
            | Op::GlobalAvgPool { .. } => {
                let groups = linear_terms(p, node);
                // The node's u range: over every output element, from the input's interval.
                let mut u_range = (i64::MAX, i64::MIN);
                for (terms, k, rq) in &groups {
                    let (a, z) = span(terms, *k, iv[node.inputs[0]]);
                    let h = 1i128 << (rq.shift - 1);
                    let m = rq.multiplier as i128;
                    u_range.0 = u_range
                        .0
                        .min(((a * m + h) >> rq.shift) as i64 + rq.zero_point);
                    u_range.1 = u_range
                        .1
                        .max(((z * m + h) >> rq.shift) as i64 + rq.zero_point);
                }
                // Outputs per distinct requantization: the bucket layout pays for its tables
                // only when shared (a conv channel, a pool).
                let mut shared: HashMap<(i64, u32, i64, (i64, i64)), u32> = HashMap::new();
                for (_, _, rq) in &groups {
                    *shared
                        .entry((rq.multiplier, rq.shift, rq.zero_point, rq.clamp))
                        .or_default() += 1;
                }
                let mut out = Vec::with_capacity(groups.len());
                for (terms, k, rq) in &groups {
                    let acc = *k as i128
                        + terms
                            .iter()
                            .map(|(c, i)| *c as i128 * x_int[*i] as i128)
                            .sum::<i128>();
                    let (lo_acc, hi_acc) = span(terms, *k, iv[node.inputs[0]]);
                    let h = 1i128 << (rq.shift - 1);
                    let q_range = (
                        ((lo_acc * rq.multiplier as i128 + h) >> rq.shift) as i64,
                        ((hi_acc * rq.multiplier as i128 + h) >> rq.shift) as i64,
                    );
                    let key = (rq.multiplier, rq.shift, rq.zero_point, rq.clamp);
                    if shared[&key] >= l.params.bucket_min_outputs
                        && bucket_width(rq) >= 1
                        && (q_range.1 - q_range.0 + 1) as u64 <= l.params.max_clamp_table
                    {
                        let ts: Vec<(i64, Var)> =
                            terms.iter().map(|(c, i)| (*c, ins[*i])).collect();
                        out.push(l.requant_bucket(&ts, *k, acc, rq, q_range)?);
                        continue;
                    }
                    let m = rq.multiplier as i128;
                    let h = 1i128 << (rq.shift - 1);
                    let coeffs: Vec<(Fr, Var)> = terms
                        .iter()
                        .map(|(c, i)| (fr(*c as i128 * m), ins[*i]))
                        .collect();
                    let v_int = (*k as i128
                        + terms
                            .iter()
                            .map(|(c, i)| *c as i128 * x_int[*i] as i128)
                            .sum::<i128>())
                        * m
                        + h;
                    let constant = fr(*k as i128 * m + h);
                    let v = if coeffs.is_empty() {
                        l.b.constant(constant)
                    } else {
                        l.b.dot(&coeffs, constant)
                    };
                    out.push(l.requant(v, v_int, rq, u_range)?);
                }
                out
            }
            Op::MaxPool { kernel, stride } => {
                let mut out = Vec::new();
                for w in max_windows(p.shape(node.inputs[0]), &node.shape, *kernel, *stride) {
                    let mut acc = (ins[w[0]], x_int[w[0]]);
                    for &i in &w[1..] {
                        acc = l.max2((ins[i], x_int[i]), acc)?;
                    }
                    out.push(acc.0);
                }
                out
            }
            Op::Add {
                zero_points: [z1, z2],
                multipliers: [m1, m2],
                requant,
            } => {
                let ys = &vars[node.inputs[1]];
                let y_int = &tensors[node.inputs[1]];
                let (a1, b1) = iv[node.inputs[0]];
                let (a2, b2) = iv[node.inputs[1]];
                let h = 1i128 << (requant.shift - 1);
                let k = -(*z1 as i128) * *m1 as i128 - *z2 as i128 * *m2 as i128 + h;
                let lo_v = (a1 as i128) * *m1 as i128 + a2 as i128 * *m2 as i128 + k;
                let hi_v = (b1 as i128) * *m1 as i128 + b2 as i128 * *m2 as i128 + k;
                let u_range = (
                    ((lo_v >> requant.shift) as i64) + requant.zero_point,
                    ((hi_v >> requant.shift) as i64) + requant.zero_point,
                );
                let mut out = Vec::new();
                for i in 0..ins.len() {
                    let v_int =
                        (x_int[i] as i128) * *m1 as i128 + (y_int[i] as i128) * *m2 as i128 + k;
                    let v = l.b.dot(
                        &[(fr(*m1 as i128), ins[i]), (fr(*m2 as i128), ys[i])],
                        fr(k),
                    );
                    out.push(l.requant(v, v_int, requant, u_range)?);
                }
                out
            }
            Op::Clamp { clamp } => {
                let (a, z) = iv[node.inputs[0]];
                let t = l.tables.clamp(l.b, (a, z), *clamp)?;
                ins.iter()
                    .zip(x_int)
                    .map(|(v, xi)| {
                        let y = l.b.input(fr((*xi).clamp(clamp.0, clamp.1) as i128));
                        l.b.lookup(t, *v, y);
                        y
                    })
                    .collect()
            }
            Op::Reshape => ins.clone(),
        };
        debug_assert_eq!(out.len(), tensors[ni + 1].len());
        // The layout follows the forward pass value for value.
        if out
            .iter()
            .zip(&tensors[ni + 1])
            .any(|(v, t)| l.b.value(*v) != fr(*t as i128))
        {
            return Err(Error::InvalidParameter(format!(
                "internal: node {} laid out a value the program does not compute",
                node.name
            )));
        }
        vars.push(out);
        l.b.pop_label();
    }

    // The outputs, public or hashed.
    let ys = vars.last().expect("at least one node").clone();
    let out_ints = tensors.last().expect("at least one node");
    let outputs = if ys.len() <= MAX_PUBLIC_OUTPUTS {
        ys.iter()
            .zip(out_ints)
            .map(|(v, y)| {
                let pv = l.b.public_input(fr(*y as i128));
                l.b.assert_equal(*v, pv);
                fr(*y as i128)
            })
            .collect()
    } else {
        l.b.push_label("output hash");
        let iv_out = l.b.constant(field::from_be_bytes_short(OUTPUTS_IV));
        let zero = l.b.constant(Fr::zero());
        let mut state = [iv_out, zero, zero];
        for pair in ys.chunks(2) {
            let e1 = pair.get(1).copied().unwrap_or(zero);
            state = l.b.poseidon_absorb3(state, pair[0], e1);
        }
        let hv = l.b.value(state[0]);
        debug_assert_eq!(
            hv,
            output_hash(&ys.iter().map(|v| l.b.value(*v)).collect::<Vec<_>>())
        );
        let ph = l.b.public_input(hv);
        l.b.assert_equal(state[0], ph);
        l.b.pop_label();
        vec![hv]
    };
    Ok(Statement {
        input_commitment: c_x,
        job: Fr::from(job),
        provider,
        outputs,
    })
}

/// The output hash of the statement past 12 outputs: the leaf sponge of `file-commitment.md`
/// with the IV `OUTPUTS_IV` over the outputs (an odd count padded with 0), `state[0]`.
pub fn output_hash(ys: &[Fr]) -> Fr {
    let mut state = [
        field::from_be_bytes_short(OUTPUTS_IV),
        Fr::zero(),
        Fr::zero(),
    ];
    for pair in ys.chunks(2) {
        state[1] += pair[0];
        state[2] += pair.get(1).copied().unwrap_or_default();
        bigfile_zk::poseidon::permute(&mut state).expect("t = 3");
    }
    state[0]
}

/// The Merkle root of the input's file commitment (`file-commitment.md`, default layout):
/// bytes packed 31 to a big-endian element (chunks zero-padded), the leaf sponge per chunk,
/// the binary tree with all-padding subtrees as the zero hashes.
fn commit_in_circuit(b: &mut Builder, bytes: &[Var], layout: Layout) -> Result<Var> {
    let zero = b.constant(Fr::zero());
    let iv = b.constant(commitment::leaf_iv());
    let mut leaves = Vec::new();
    for chunk in bytes.chunks(layout.chunk_size) {
        let mut elements = Vec::new();
        for e in 0..layout.chunk_size / commitment::ELEMENT_BYTES {
            let from = e * commitment::ELEMENT_BYTES;
            let part: Vec<(Fr, Var)> = (0..commitment::ELEMENT_BYTES)
                .filter(|i| from + i < chunk.len())
                .map(|i| {
                    (
                        pow2(8 * (commitment::ELEMENT_BYTES - 1 - i) as u32),
                        chunk[from + i],
                    )
                })
                .collect();
            elements.push(match part.len() {
                0 => zero,
                _ => b.dot(&part, Fr::zero()),
            });
        }
        let mut state = [iv, zero, zero];
        for pair in elements.chunks(2) {
            state = b.poseidon_absorb3(state, pair[0], pair[1]);
        }
        leaves.push(state[0]);
    }
    let zeros = merkle::zero_hashes(layout.arity)?;
    let mut level = 0;
    while leaves.len() > 1 {
        let pad = b.constant(zeros[level]);
        leaves = leaves
            .chunks(2)
            .map(|pair| b.poseidon(&[pair[0], pair.get(1).copied().unwrap_or(pad)]))
            .collect::<Result<_>>()?;
        level += 1;
    }
    Ok(leaves[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Exhaustively, on small parameters: for every accumulator, the witnesses `(ρ, δ)` that the
    /// remainder table admits and whose key `2·acc − 2ρ + δ` the clamp table holds give exactly
    /// one output, the oracle's (spec §4.2's argument, checked rather than argued).
    #[test]
    fn bucket_tables_admit_only_the_oracle_output() {
        let mut checked = 0;
        for shift in 1..=9u32 {
            for multiplier in 1..=(1i64 << shift) {
                for (zero_point, clamp) in [(0, (0, 255)), (-3, (-8, 5)), (7, (-128, 127))] {
                    let rq = Requant {
                        multiplier,
                        shift,
                        zero_point,
                        clamp,
                    };
                    let (acc_lo, acc_hi) = (-150i128, 170i128);
                    let h = 1i128 << (shift - 1);
                    let m = multiplier as i128;
                    let q_range = (
                        ((acc_lo * m + h) >> shift) as i64,
                        ((acc_hi * m + h) >> shift) as i64,
                    );
                    let d = bucket_width(&rq);
                    let clamp_table: HashMap<i128, i128> = (q_range.0..=q_range.1)
                        .map(|q| {
                            let a = bucket_start(&rq, q);
                            let delta = bucket_start(&rq, q + 1) - a - d;
                            assert!(delta == 0 || delta == 1, "{rq:?} q={q}");
                            let y = (q + zero_point).clamp(clamp.0, clamp.1) as i128;
                            (2 * a + delta, y)
                        })
                        .collect();
                    for acc in acc_lo..=acc_hi {
                        let mut outputs = HashSet::new();
                        for delta in 0..=1 {
                            for rho in 0..d + delta {
                                if let Some(y) = clamp_table.get(&(2 * acc - 2 * rho + delta)) {
                                    outputs.insert(*y);
                                }
                            }
                        }
                        let want = rq.apply(acc * m) as i128;
                        assert_eq!(outputs, HashSet::from([want]), "{rq:?} acc={acc}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100_000);
    }
}
