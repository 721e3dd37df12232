//! The circuit builder: variables, gates and gadgets that lay out a [`Circuit`] and its witness.
//!
//! A circuit is a function over a [`Builder`]. Run it once without values (setup: every input
//! reads 0) and once with them (proving); gadgets compute every intermediate value as they go,
//! and must lay out the same rows whatever the values are, so that both runs give the same
//! circuit (the prover checks this).
//!
//! Cells hold variables; two cells holding the same variable (or variables joined by
//! [`Builder::assert_equal`]) are copy-constrained. Rows carry the label stack of the gadgets
//! that made them, so an unsatisfied constraint is reported as, e.g.,
//! `row 1207 (merkle/level 3/poseidon)`.
//!
//! Gadgets constrain their own inputs: one that is sound only for a boolean selector or for
//! operands of a bounded size (`select`, `cond_swap`, `merkle_level`, `less_than`) adds the check
//! itself, unless rows laid out earlier already prove it (the builder remembers which variables
//! are known boolean or below `2^bits`: outputs of `to_bits`, `assert_bool`, `range_check`,
//! `is_zero`, `less_than`, and constants), so a circuit that checked them pays nothing twice.

use super::circuit::{Circuit, Fixed, MIN_K};
use super::gates::mds;
use crate::error::{Error, Result};
use crate::poseidon;
use ark_bn254::Fr;
use ark_ff::{BigInteger, Field, One, PrimeField, Zero};
use std::collections::HashMap;

/// A circuit variable (an index into the builder's values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub u32);

/// A lookup table of the builder (its tag is `id + 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Arith,
    Full,
    Partial,
}

#[derive(Clone, Debug)]
struct Row {
    cells: [Option<Var>; 3],
    /// `q_M, q_L, q_R, q_O, q_C`.
    q: [Fr; 5],
    /// `q_N`, the coefficient of the next row's `c` (spec v2).
    q_n: Fr,
    kind: Kind,
    lookup: bool,
    label: u32,
}

struct Table {
    name: String,
    entries: Vec<(Fr, Fr)>,
}

/// Builds a circuit and its witness at once.
pub struct Builder {
    values: Vec<Fr>,
    parent: Vec<u32>,
    rows: Vec<Row>,
    public: Vec<Var>,
    constants: HashMap<Fr, Var>,
    labels: Vec<String>,
    label_index: HashMap<String, u32>,
    stack: Vec<String>,
    current_label: u32,
    tables: Vec<Table>,
    range8: Option<TableId>,
    /// Range checks by 8-bit lookups (default) or by bits (keeps a circuit lookup-free, which
    /// saves the verifier 6 EVM scalar multiplications).
    lookup_ranges: bool,
    /// Poseidon on its round gate (default: 66 rows a permutation, but a degree-6 gate, so an
    /// 8n quotient domain and a 5n quotient) or on arithmetic rows (≈ 640 rows, and a circuit
    /// without the gate proves on 4n: see `set_poseidon_gate`).
    poseidon_gate: bool,
    /// `x → bits` where rows already constrain `0 ≤ x < 2^bits` (`bits = 1`: boolean). Depends
    /// only on which gadgets ran, never on values, so setup and proving lay out the same rows.
    known_bits: HashMap<Var, usize>,
    /// The result of the last dot product, which must sit in the `c` cell of the next row
    /// (its chain's last row reads it there through `q_N`).
    pending_c: Option<Var>,
    /// The wire that holds a lookup's table tag: 2 (`c`, the default) or 1 (`b`, which leaves
    /// `c` to a value the row before can read through `q_N`). One per circuit, so that no
    /// table's entries can match another table's lookups.
    tag_column: usize,
    /// Spec version 3 (packed commitments, one multi-point opening; `set_packed`).
    packed: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            values: Vec::new(),
            parent: Vec::new(),
            rows: Vec::new(),
            public: Vec::new(),
            constants: HashMap::new(),
            labels: vec![String::new()],
            label_index: HashMap::from([(String::new(), 0)]),
            stack: Vec::new(),
            current_label: 0,
            tables: Vec::new(),
            range8: None,
            lookup_ranges: true,
            poseidon_gate: true,
            known_bits: HashMap::new(),
            pending_c: None,
            tag_column: 2,
            packed: false,
        }
    }

    // -- variables and labels ------------------------------------------------------------------

    /// A private input (or any witness value the circuit constrains later).
    pub fn input(&mut self, value: Fr) -> Var {
        let v = Var(self.values.len() as u32);
        self.values.push(value);
        self.parent.push(v.0);
        v
    }

    /// A public input; the `i`-th call is the `i`-th public input the verifier passes.
    pub fn public_input(&mut self, value: Fr) -> Var {
        let v = self.input(value);
        self.public.push(v);
        v
    }

    pub fn value(&self, v: Var) -> Fr {
        self.values[v.0 as usize]
    }

    pub fn num_vars(&self) -> usize {
        self.values.len()
    }

    pub fn num_tables(&self) -> usize {
        self.tables.len()
    }

    /// The `k` that [`Builder::build`] would give now (rows, a pending result row and the
    /// tables, padded), without laying anything out.
    pub fn predicted_k(&self) -> u32 {
        let used = self.public.len() + self.rows.len() + usize::from(self.pending_c.is_some());
        let table: usize = self.tables.iter().map(|t| t.entries.len()).sum();
        used.max(table)
            .max(1 << MIN_K)
            .next_power_of_two()
            .trailing_zeros()
    }

    /// The lookup tables' names and sizes, in registration order.
    pub fn tables(&self) -> impl Iterator<Item = (&str, usize)> {
        self.tables
            .iter()
            .map(|t| (t.name.as_str(), t.entries.len()))
    }

    pub fn num_rows(&self) -> usize {
        self.rows.len() + self.public.len()
    }

    pub fn num_public(&self) -> usize {
        self.public.len()
    }

    /// Rows made until the matching [`Builder::pop_label`] carry `label` (nested with `/`).
    pub fn push_label(&mut self, label: &str) {
        self.stack.push(label.to_string());
        self.refresh_label();
    }

    pub fn pop_label(&mut self) {
        self.stack.pop();
        self.refresh_label();
    }

    fn refresh_label(&mut self) {
        let full = self.stack.join("/");
        let next = self.labels.len() as u32;
        self.current_label = *self.label_index.entry(full.clone()).or_insert_with(|| {
            self.labels.push(full);
            next
        });
    }

    fn labelled<T>(&mut self, label: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.push_label(label);
        let out = f(self);
        self.pop_label();
        out
    }

    fn find(&mut self, v: Var) -> u32 {
        let mut x = v.0;
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    // -- raw gates -----------------------------------------------------------------------------

    /// A row with no gate whose `c` holds a dot product's result (read by `q_N` above it).
    fn result_row(&self, res: Var) -> Row {
        Row {
            cells: [None, None, Some(res)],
            q: [Fr::zero(); 5],
            q_n: Fr::zero(),
            kind: Kind::Arith,
            lookup: false,
            label: self.current_label,
        }
    }

    /// Every row goes through here: a pending dot-product result takes this row's `c` cell if
    /// the row does not read `c` itself (an arithmetic row with `q_O = 0` and no `c`), else a
    /// row of its own (no gate) before it.
    fn push_row(&mut self, mut row: Row) {
        if let Some(res) = self.pending_c.take() {
            let hosts = row.kind == Kind::Arith
                && !row.lookup
                && row.cells[2].is_none()
                && row.q[3].is_zero();
            if row.cells[2] == Some(res) {
                // The row reads the result in its own c (e.g. `assert_linear`): nothing to add.
            } else if hosts {
                row.cells[2] = Some(res);
            } else {
                let r = self.result_row(res);
                self.rows.push(r);
            }
        }
        self.rows.push(row);
    }

    /// One arithmetic row `q_M·a·b + q_L·a + q_R·b + q_O·c + q_C = 0` over these cells.
    pub fn gate(&mut self, cells: [Option<Var>; 3], q: [Fr; 5]) {
        self.push_row(Row {
            cells,
            q,
            q_n: Fr::zero(),
            kind: Kind::Arith,
            lookup: false,
            label: self.current_label,
        });
    }

    /// Constrain `Σ c_i·x_i + k = 0`: one row for up to three terms, then two more per row,
    /// the running sum handed down `c` by `q_N` (spec v2) and the last row's relation zero.
    /// A term that is the pending result of the last `dot` goes first, into `c` of the first
    /// row, where it already sits (no extra row).
    pub fn assert_linear(&mut self, terms: &[(Fr, Var)], k: Fr) {
        let mut terms = terms.to_vec();
        if let Some(p) = self.pending_c {
            if let Some(i) = terms.iter().position(|(_, x)| *x == p) {
                let t = terms.remove(i);
                terms.insert(0, t);
            }
        }
        let zero = || Fr::zero();
        // First row: c = terms[0], a = terms[1], b = terms[2].
        let (c0, x0) = terms
            .first()
            .copied()
            .unwrap_or((zero(), self.constant(Fr::zero())));
        let rest = if terms.is_empty() {
            &terms[..]
        } else {
            &terms[1..]
        };
        let mut acc = (c0, x0);
        let mut acc_value = c0 * self.value(x0);
        let mut chunks = rest.chunks(2).peekable();
        let mut first = true;
        loop {
            let pair = chunks.next().unwrap_or(&[]);
            let last = chunks.peek().is_none();
            let (ca, xa) = pair.first().map_or((zero(), None), |(c, x)| (*c, Some(*x)));
            let (cb, xb) = pair.get(1).map_or((zero(), None), |(c, x)| (*c, Some(*x)));
            let sum = acc_value
                + xa.map_or(zero(), |x| ca * self.value(x))
                + xb.map_or(zero(), |x| cb * self.value(x));
            let q_c = if first { k } else { zero() };
            if last {
                self.push_row(Row {
                    cells: [xa, xb, Some(acc.1)],
                    q: [zero(), ca, cb, acc.0, q_c],
                    q_n: zero(),
                    kind: Kind::Arith,
                    lookup: false,
                    label: self.current_label,
                });
                return;
            }
            let next = self.input(sum + q_c);
            self.push_row(Row {
                cells: [xa, xb, Some(acc.1)],
                q: [zero(), ca, cb, acc.0, q_c],
                q_n: -Fr::one(),
                kind: Kind::Arith,
                lookup: false,
                label: self.current_label,
            });
            acc = (Fr::one(), next);
            acc_value = sum + q_c;
            first = false;
        }
    }

    /// `k + Σ c_i·x_i` in `⌈len/2⌉` rows (spec v2): row `j` holds `x_{2j}, x_{2j+1}` in `a, b`
    /// with their coefficients in `q_L, q_R`, the running sum in `c` (`q_O = 1`; the first row
    /// adds `k` by `q_C` instead), and hands the new sum to the next row's `c` by `q_N = −1`.
    /// The result sits in the `c` cell of the row after the chain, which is the next dot
    /// product's first row when one follows (a layer's outputs cost no extra row), else a row
    /// of its own. Fewer than two terms use one ordinary row. The circuit becomes version 2.
    pub fn dot(&mut self, terms: &[(Fr, Var)], k: Fr) -> Var {
        if terms.len() < 2 {
            return self.linear_combination(terms, k);
        }
        self.dot_chain(None, terms, k)
    }

    /// `k + c_0·x_0 + Σ c_i·x_i` like [`Builder::dot`], with the first term in the first row's
    /// `c` cell (`q_O = c_0`) instead of a row's `a`/`b`: a term for free, in `⌈len/2⌉` rows
    /// for the other `len` terms (at least one). The result is left where `dot` leaves it.
    pub fn dot_from(&mut self, first: (Fr, Var), terms: &[(Fr, Var)], k: Fr) -> Var {
        assert!(!terms.is_empty(), "dot_from needs a term besides the first");
        self.dot_chain(Some(first), terms, k)
    }

    fn dot_chain(&mut self, first: Option<(Fr, Var)>, terms: &[(Fr, Var)], k: Fr) -> Var {
        let mut acc: Option<Var> = None;
        for pair in terms.chunks(2) {
            let (c0, x0) = pair[0];
            let (c1, x1) = pair
                .get(1)
                .map_or((Fr::zero(), None), |(c, x)| (*c, Some(*x)));
            let (c_cell, q_o, q_c, prev) = match (acc, first) {
                (Some(v), _) => (Some(v), Fr::one(), Fr::zero(), self.value(v)),
                (None, Some((cf, xf))) => (Some(xf), cf, k, k + cf * self.value(xf)),
                (None, None) => (None, Fr::zero(), k, k),
            };
            let sum = prev + c0 * self.value(x0) + x1.map_or(Fr::zero(), |x| c1 * self.value(x));
            let next = self.input(sum);
            self.push_row(Row {
                cells: [Some(x0), x1, c_cell],
                q: [Fr::zero(), c0, c1, q_o, q_c],
                q_n: -Fr::one(),
                kind: Kind::Arith,
                lookup: false,
                label: self.current_label,
            });
            acc = Some(next);
        }
        let out = acc.expect("at least one row");
        self.pending_c = Some(out);
        out
    }

    /// `out = ca·x + cb·y + k` in one row.
    pub fn lin2(&mut self, x: Var, ca: Fr, y: Var, cb: Fr, k: Fr) -> Var {
        let out = self.input(ca * self.value(x) + cb * self.value(y) + k);
        self.gate(
            [Some(x), Some(y), Some(out)],
            [Fr::zero(), ca, cb, -Fr::one(), k],
        );
        out
    }

    /// `out = c·x + k` in one row.
    pub fn affine(&mut self, x: Var, c: Fr, k: Fr) -> Var {
        let out = self.input(c * self.value(x) + k);
        self.gate(
            [Some(x), None, Some(out)],
            [Fr::zero(), c, Fr::zero(), -Fr::one(), k],
        );
        out
    }

    pub fn add(&mut self, x: Var, y: Var) -> Var {
        self.lin2(x, Fr::one(), y, Fr::one(), Fr::zero())
    }

    pub fn sub(&mut self, x: Var, y: Var) -> Var {
        self.lin2(x, Fr::one(), y, -Fr::one(), Fr::zero())
    }

    /// `x·y`.
    pub fn mul(&mut self, x: Var, y: Var) -> Var {
        let out = self.input(self.value(x) * self.value(y));
        self.gate(
            [Some(x), Some(y), Some(out)],
            [Fr::one(), Fr::zero(), Fr::zero(), -Fr::one(), Fr::zero()],
        );
        out
    }

    /// `out = m·x·y + ca·x + cb·y + k` in one row (`x = y` allowed: `x ← x·x + k` is one row),
    /// the whole arithmetic row of spec §2.1 with its output in `c`.
    pub fn mul_add(&mut self, x: Var, y: Var, m: Fr, ca: Fr, cb: Fr, k: Fr) -> Var {
        let (vx, vy) = (self.value(x), self.value(y));
        let out = self.input(m * vx * vy + ca * vx + cb * vy + k);
        self.gate([Some(x), Some(y), Some(out)], [m, ca, cb, -Fr::one(), k]);
        out
    }

    /// `Σ c_i·x_i + k`, two terms in the first row and one more per row after.
    pub fn linear_combination(&mut self, terms: &[(Fr, Var)], k: Fr) -> Var {
        match terms {
            [] => self.constant(k),
            [(c, x)] => self.affine(*x, *c, k),
            [(c0, x0), (c1, x1), rest @ ..] => {
                let k0 = if rest.is_empty() { k } else { Fr::zero() };
                let mut acc = self.lin2(*x0, *c0, *x1, *c1, k0);
                for (j, (c, x)) in rest.iter().enumerate() {
                    let kj = if j + 1 == rest.len() { k } else { Fr::zero() };
                    acc = self.lin2(acc, Fr::one(), *x, *c, kj);
                }
                acc
            }
        }
    }

    /// The variable fixed to `value` (one row per distinct constant, shared).
    pub fn constant(&mut self, value: Fr) -> Var {
        if let Some(v) = self.constants.get(&value) {
            return *v;
        }
        let v = self.input(value);
        self.labelled("constant", |b| {
            b.gate(
                [Some(v), None, None],
                [Fr::zero(), Fr::one(), Fr::zero(), Fr::zero(), -value],
            )
        });
        self.constants.insert(value, v);
        let bits = value.into_bigint().num_bits().max(1) as usize;
        self.note_bits(v, bits);
        v
    }

    // -- what the rows prove about variables ---------------------------------------------------

    /// The least `bits` such that rows laid out so far constrain `0 ≤ x < 2^bits`, if any.
    pub fn known_bits(&self, x: Var) -> Option<usize> {
        self.known_bits.get(&x).copied()
    }

    /// Whether rows laid out so far constrain `x` to be 0 or 1.
    pub fn is_known_bool(&self, x: Var) -> bool {
        self.known_bits(x) == Some(1)
    }

    fn note_bits(&mut self, x: Var, bits: usize) {
        let e = self.known_bits.entry(x).or_insert(bits);
        *e = (*e).min(bits);
    }

    /// Constrain `bit` to be boolean, unless rows already do (then no row is added).
    pub fn ensure_bool(&mut self, bit: Var) {
        if !self.is_known_bool(bit) {
            self.assert_bool(bit);
        }
    }

    /// Constrain `0 ≤ x < 2^bits`, unless rows already do (then no row is added).
    pub fn ensure_range(&mut self, x: Var, bits: usize) -> Result<()> {
        match self.known_bits(x) {
            Some(known) if known <= bits => Ok(()),
            _ => self.range_check(x, bits),
        }
    }

    // -- assertions ----------------------------------------------------------------------------

    /// `x = y` as a copy constraint (no row).
    pub fn assert_equal(&mut self, x: Var, y: Var) {
        let (rx, ry) = (self.find(x), self.find(y));
        if rx != ry {
            self.parent[rx.max(ry) as usize] = rx.min(ry);
        }
    }

    pub fn assert_zero(&mut self, x: Var) {
        self.labelled("assert_zero", |b| {
            b.gate(
                [Some(x), None, None],
                [Fr::zero(), Fr::one(), Fr::zero(), Fr::zero(), Fr::zero()],
            )
        });
    }

    /// `x·x − x = 0`.
    pub fn assert_bool(&mut self, x: Var) {
        self.labelled("assert_bool", |b| {
            b.gate(
                [Some(x), Some(x), None],
                [Fr::one(), -Fr::one(), Fr::zero(), Fr::zero(), Fr::zero()],
            )
        });
        self.note_bits(x, 1);
    }

    /// `x == 0` as a boolean (3 rows: `t = x·inv`, `out = 1 − t`, `x·out = 0`; `out` is
    /// boolean by these rows alone: `x ≠ 0` forces `out = 0`, `x = 0` forces `t = 0, out = 1`).
    pub fn is_zero(&mut self, x: Var) -> Var {
        let out = self.labelled("is_zero", |b| {
            let inv = b.value(x).inverse().unwrap_or_default();
            let inv = b.input(inv);
            let t = b.mul(x, inv);
            let out = b.affine(t, -Fr::one(), Fr::one());
            b.gate(
                [Some(x), Some(out), None],
                [Fr::one(), Fr::zero(), Fr::zero(), Fr::zero(), Fr::zero()],
            );
            out
        });
        self.note_bits(out, 1);
        out
    }

    /// `x == y` as a boolean (4 rows).
    pub fn is_equal(&mut self, x: Var, y: Var) -> Var {
        let d = self.sub(x, y);
        self.is_zero(d)
    }

    // -- selection -----------------------------------------------------------------------------

    /// `bit ? x : y`, 3 rows; `bit` is constrained boolean here (one more row) unless rows
    /// already do.
    pub fn select(&mut self, bit: Var, x: Var, y: Var) -> Var {
        self.labelled("select", |b| {
            b.ensure_bool(bit);
            let d = b.sub(x, y);
            let t = b.mul(bit, d);
            b.add(t, y)
        })
    }

    /// `bit ? (y, x) : (x, y)`, 4 rows; `bit` is constrained boolean (as in `select`).
    pub fn cond_swap(&mut self, bit: Var, x: Var, y: Var) -> (Var, Var) {
        self.labelled("cond_swap", |b| {
            let l = b.select(bit, y, x);
            let sum = b.add(x, y);
            let r = b.sub(sum, l);
            (l, r)
        })
    }

    // -- bits and ranges -----------------------------------------------------------------------

    /// Little-endian bits of `x`, `nbits ≤ 253` (so that the decomposition is unique).
    pub fn to_bits(&mut self, x: Var, nbits: usize) -> Result<Vec<Var>> {
        if nbits == 0 || nbits > 253 {
            return Err(Error::param(format!(
                "to_bits takes 1 to 253 bits (a unique decomposition), not {nbits}"
            )));
        }
        Ok(self.labelled("to_bits", |b| {
            let big = b.value(x).into_bigint();
            let bits: Vec<Var> = (0..nbits)
                .map(|i| {
                    let v = b.input(Fr::from(big.get_bit(i) as u64));
                    b.assert_bool(v);
                    v
                })
                .collect();
            let terms: Vec<(Fr, Var)> = bits
                .iter()
                .enumerate()
                .map(|(i, v)| (Fr::from(2u64).pow([i as u64]), *v))
                .collect();
            let acc = b.linear_combination(&terms, Fr::zero());
            b.assert_equal(acc, x);
            b.note_bits(x, nbits);
            bits
        }))
    }

    /// Whether `range_check` (and `less_than`) use 8-bit lookups (the default: ≈ 2 rows per
    /// byte) or a bit decomposition (2 rows per bit, but no lookup argument in the proof: the
    /// EVM verifier then needs 18 scalar multiplications instead of 24).
    pub fn set_range_checks_by_lookup(&mut self, on: bool) {
        self.lookup_ranges = on;
    }

    /// Whether Poseidon uses its round gate (the default) or arithmetic rows. A circuit with no
    /// round-gate row has `q_F = q_P = 0`: its quotient has degree ≤ 3n + 8, the prover skips
    /// the degree-6 part (half the quotient's cosets, 2n of each of its two largest MSMs) and
    /// the EVM verifier skips the two identity selector commitments (the S-boxes' products use
    /// `q_M`, which then costs one unless other rows use it anyway). Worth it when the extra
    /// ≈ 570 rows per permutation do not cross a power of two.
    pub fn set_poseidon_gate(&mut self, on: bool) {
        self.poseidon_gate = on;
    }

    /// Build a spec-version-3 circuit (`plonk.md` §8): its witness polynomials are committed
    /// packed and opened together, so its EVM verifier does five scalar multiplications fewer
    /// (≈ 32k gas) for about `4n` more prover MSM points. `build` refuses it unless the circuit
    /// uses `q_N` (a dot product) and lookups.
    pub fn set_packed(&mut self, on: bool) {
        self.packed = on;
    }

    /// Register a 2-column lookup table `(x, y)`; lookups of it are `(x, y, tag)`.
    pub fn add_table(&mut self, name: &str, entries: Vec<(Fr, Fr)>) -> Result<TableId> {
        if entries.is_empty() {
            return Err(Error::param(format!("lookup table {name:?} is empty")));
        }
        if self.tables.iter().any(|t| t.name == name) {
            return Err(Error::param(format!(
                "lookup table {name:?} exists already"
            )));
        }
        self.tables.push(Table {
            name: name.to_string(),
            entries,
        });
        Ok(TableId(self.tables.len() as u32 - 1))
    }

    /// Put every table's tag in wire `col` (1: `b`, 2: `c`, the default), before any table is
    /// made. With tags in `b`, a lookup row `(x, tag, y)` has `y` in `c`, where the row before
    /// can read it (`gate_with_next`).
    pub fn set_lookup_tag_column(&mut self, col: usize) -> Result<()> {
        if !(1..=2).contains(&col) {
            return Err(Error::param("the lookup tag column is 1 (b) or 2 (c)"));
        }
        if !self.tables.is_empty() {
            return Err(Error::param(
                "the lookup tag column is chosen before any table is made",
            ));
        }
        self.tag_column = col;
        Ok(())
    }

    /// The constant variable holding `table`'s tag (made now if it is not yet), so that a
    /// `lookup` into it adds exactly one row.
    pub fn table_tag(&mut self, table: TableId) -> Var {
        self.constant(Fr::from(table.0 as u64 + 1))
    }

    /// One arithmetic row `q_M·a·b + q_L·a + q_R·b + q_O·c + q_N·c' + q_C = 0` where `c'` is the
    /// next row's `c` (spec v2). The caller pushes that next row right after (for example a
    /// lookup with tags in `b`); the witness check names the row if it does not hold.
    pub fn gate_with_next(&mut self, cells: [Option<Var>; 3], q: [Fr; 5], q_n: Fr) {
        self.push_row(Row {
            cells,
            q,
            q_n,
            kind: Kind::Arith,
            lookup: false,
            label: self.current_label,
        });
    }

    /// Assert `(x, y)` is an entry of `table` (one lookup row: `(x, y, tag)`, or `(x, tag, y)`
    /// with tags in `b`).
    pub fn lookup(&mut self, table: TableId, x: Var, y: Var) {
        let tag = self.table_tag(table);
        let cells = if self.tag_column == 1 {
            [Some(x), Some(tag), Some(y)]
        } else {
            [Some(x), Some(y), Some(tag)]
        };
        self.push_row(Row {
            cells,
            q: [Fr::zero(); 5],
            q_n: Fr::zero(),
            kind: Kind::Arith,
            lookup: true,
            label: self.current_label,
        });
    }

    fn range8_table(&mut self) -> TableId {
        if let Some(t) = self.range8 {
            return t;
        }
        let t = self
            .add_table(
                "range8",
                (0..256u64).map(|v| (Fr::from(v), Fr::zero())).collect(),
            )
            .expect("first registration");
        self.range8 = Some(t);
        t
    }

    /// Assert `0 ≤ x < 2^bits` (`1 ≤ bits ≤ 253`) with 8-bit limb lookups: about 2 rows per
    /// byte, plus 2 for a partial top limb.
    pub fn range_check(&mut self, x: Var, bits: usize) -> Result<()> {
        if bits == 0 || bits > 253 {
            return Err(Error::param(format!(
                "range_check takes 1 to 253 bits, not {bits}"
            )));
        }
        if !self.lookup_ranges {
            return self.to_bits(x, bits).map(|_| ());
        }
        let table = self.range8_table();
        let zero = self.constant(Fr::zero());
        self.labelled(&format!("range_check({bits})"), |b| {
            let big = b.value(x).into_bigint();
            let limbs = bits.div_ceil(8);
            let mut terms = Vec::with_capacity(limbs);
            for i in 0..limbs {
                let byte = (0..8).fold(0u64, |acc, j| acc | ((big.get_bit(8 * i + j) as u64) << j));
                let v = b.input(Fr::from(byte));
                b.lookup(table, v, zero);
                let top_bits = bits - 8 * i;
                if top_bits < 8 {
                    // v < 2^top_bits  ⇔  v·2^(8 − top_bits) < 2^8.
                    let shifted = b.affine(v, Fr::from(1u64 << (8 - top_bits)), Fr::zero());
                    b.lookup(table, shifted, zero);
                }
                terms.push((Fr::from(2u64).pow([8 * i as u64]), v));
            }
            let acc = b.linear_combination(&terms, Fr::zero());
            b.assert_equal(acc, x);
        });
        self.note_bits(x, bits);
        Ok(())
    }

    /// `x < y` as a boolean variable (`1 ≤ bits ≤ 252`). Both operands are constrained to
    /// `[0, 2^bits)` here (a proof for values outside that range cannot be made), unless rows
    /// already do: without that, `x − y + 2^bits` wraps modulo r and e.g. `r − 1 < 5` would
    /// prove true.
    pub fn less_than(&mut self, x: Var, y: Var, bits: usize) -> Result<Var> {
        if bits == 0 || bits > 252 {
            return Err(Error::param(format!(
                "less_than compares values of 1 to 252 bits, not {bits}"
            )));
        }
        let two_k = Fr::from(2u64).pow([bits as u64]);
        self.push_label("less_than");
        let operands = self
            .ensure_range(x, bits)
            .and_then(|_| self.ensure_range(y, bits));
        if let Err(e) = operands {
            self.pop_label();
            return Err(e);
        }
        // z = x − y + 2^bits ∈ [0, 2^(bits+1)); its bit `bits` is set iff x ≥ y.
        let z = self.lin2(x, Fr::one(), y, -Fr::one(), two_k);
        let top_value = Fr::from(self.value(z).into_bigint().get_bit(bits) as u64);
        let top = self.input(top_value);
        self.assert_bool(top);
        let low = self.lin2(z, Fr::one(), top, -two_k, Fr::zero());
        let out = self.range_check(low, bits);
        let lt = self.affine(top, -Fr::one(), Fr::one());
        self.note_bits(lt, 1);
        self.pop_label();
        out.map(|_| lt)
    }

    // -- Poseidon ------------------------------------------------------------------------------

    /// The circomlib Poseidon permutation of a width-3 state on the native gate: 3 rows to add
    /// the first round constants, 65 round rows and the output row.
    pub fn poseidon_permute3(&mut self, state: [Var; 3]) -> [Var; 3] {
        self.labelled("poseidon", |b| {
            let c0 = round_constants(3, 0);
            let u0: [Var; 3] = std::array::from_fn(|i| b.affine(state[i], Fr::one(), c0[i]));
            b.poseidon_rounds(u0)
        })
    }

    /// One absorption of a width-3 sponge (rate 2): `permute(state + (0, e0, e1))` in 69 rows
    /// (the additions share the rows that add the first round constants).
    pub fn poseidon_absorb3(&mut self, state: [Var; 3], e0: Var, e1: Var) -> [Var; 3] {
        self.labelled("poseidon", |b| {
            let c0 = round_constants(3, 0);
            let u0 = b.affine(state[0], Fr::one(), c0[0]);
            let u1 = b.lin2(state[1], Fr::one(), e0, Fr::one(), c0[1]);
            let u2 = b.lin2(state[2], Fr::one(), e1, Fr::one(), c0[2]);
            b.poseidon_rounds([u0, u1, u2])
        })
    }

    /// Rows of one width-3 permutation from `u_0 = state + C_0` (spec §2.1 layout).
    fn poseidon_rounds(&mut self, u0: [Var; 3]) -> [Var; 3] {
        if !self.poseidon_gate {
            let out = self.poseidon_arith_rounds(&u0);
            return [out[0], out[1], out[2]];
        }
        let p = poseidon::params(3).expect("t = 3");
        let m = mds();
        let rounds = poseidon::FULL_ROUNDS + p.partial_rounds;
        let half = poseidon::FULL_ROUNDS / 2;
        let mut u = u0;
        for r in 0..rounds {
            let full = r < half || r >= rounds - half;
            let next_c = if r + 1 < rounds {
                round_constants(3, r + 1)
            } else {
                [Fr::zero(); 3]
            };
            let w: [Fr; 3] = std::array::from_fn(|i| self.value(u[i]));
            let pow5 = |x: Fr| x.square().square() * x;
            let s = if full {
                [pow5(w[0]), pow5(w[1]), pow5(w[2])]
            } else {
                [pow5(w[0]), w[1], w[2]]
            };
            self.push_row(Row {
                cells: u.map(Some),
                q: [Fr::zero(), next_c[1], next_c[2], Fr::zero(), next_c[0]],
                q_n: Fr::zero(),
                kind: if full { Kind::Full } else { Kind::Partial },
                lookup: false,
                label: self.current_label,
            });
            u = std::array::from_fn(|j| {
                let v = m[j][0] * s[0] + m[j][1] * s[1] + m[j][2] * s[2] + next_c[j];
                self.input(v)
            });
        }
        // The output row: the last transition's "next row", with no gate of its own.
        self.gate(u.map(Some), [Fr::zero(); 5]);
        u
    }

    /// `poseidon(inputs)` exactly as `bigfile_zk.poseidon` (1 to 16 inputs). Two inputs use the
    /// native gate (68 rows); other widths are built from arithmetic rows (slower, correct).
    pub fn poseidon(&mut self, inputs: &[Var]) -> Result<Var> {
        if inputs.is_empty() || inputs.len() > poseidon::MAX_INPUTS {
            return Err(Error::param(format!(
                "Poseidon takes 1 to {} inputs, not {}",
                poseidon::MAX_INPUTS,
                inputs.len()
            )));
        }
        if inputs.len() == 2 {
            return Ok(self.labelled("poseidon", |b| {
                let c0 = round_constants(3, 0);
                let cap = b.constant(c0[0]);
                let x = b.affine(inputs[0], Fr::one(), c0[1]);
                let y = b.affine(inputs[1], Fr::one(), c0[2]);
                b.poseidon_rounds([cap, x, y])[0]
            }));
        }
        let zero = self.constant(Fr::zero());
        let mut state = vec![zero];
        state.extend_from_slice(inputs);
        Ok(self.labelled("poseidon(generic)", |b| b.poseidon_generic(&state)[0]))
    }

    /// A permutation of any width from arithmetic rows: S-box in 3 rows, each MDS output as a
    /// linear combination (round constants folded in).
    fn poseidon_generic(&mut self, state: &[Var]) -> Vec<Var> {
        let t = state.len();
        let p = poseidon::params(t).expect("1 to 16 inputs");
        let c = |r: usize, i: usize| p.round_constants[r * t + i];
        let u: Vec<Var> = (0..t)
            .map(|i| self.affine(state[i], Fr::one(), c(0, i)))
            .collect();
        self.poseidon_arith_rounds(&u)
    }

    /// The rounds of a permutation of any width on arithmetic rows, from `u_0 = state + C_0`:
    /// the S-box in 3 rows, each MDS output a linear combination with the next round's
    /// constant folded in.
    fn poseidon_arith_rounds(&mut self, u0: &[Var]) -> Vec<Var> {
        let t = u0.len();
        let p = poseidon::params(t).expect("1 to 16 inputs");
        let rounds = poseidon::FULL_ROUNDS + p.partial_rounds;
        let half = poseidon::FULL_ROUNDS / 2;
        let c = |r: usize, i: usize| p.round_constants[r * t + i];
        let mut u = u0.to_vec();
        for r in 0..rounds {
            let full = r < half || r >= rounds - half;
            let s: Vec<Var> = (0..t)
                .map(|i| {
                    if full || i == 0 {
                        self.pow5(u[i])
                    } else {
                        u[i]
                    }
                })
                .collect();
            u = (0..t)
                .map(|j| {
                    let terms: Vec<(Fr, Var)> = (0..t).map(|k| (p.mds[j * t + k], s[k])).collect();
                    let k = if r + 1 < rounds {
                        c(r + 1, j)
                    } else {
                        Fr::zero()
                    };
                    self.linear_combination(&terms, k)
                })
                .collect();
        }
        u
    }

    fn pow5(&mut self, x: Var) -> Var {
        let x2 = self.mul(x, x);
        let x4 = self.mul(x2, x2);
        self.mul(x4, x)
    }

    // -- Merkle --------------------------------------------------------------------------------

    /// The root of the tree whose leaf at `index` is `leaf`, given the path's siblings
    /// (`siblings[l]` = the `arity − 1` siblings of level `l`, position order, as in
    /// `docs/spec/merkle.md`). `index` is decomposed into `depth·log2(arity)` bits, which also
    /// asserts `index < arity^depth`.
    pub fn merkle_root(
        &mut self,
        leaf: Var,
        index: Var,
        siblings: &[Vec<Var>],
        arity: usize,
    ) -> Result<Var> {
        if ![2, 4, 8, 16].contains(&arity) {
            return Err(Error::param(format!(
                "Merkle arity must be 2, 4, 8 or 16, not {arity}"
            )));
        }
        if let Some(l) = siblings.iter().position(|s| s.len() != arity - 1) {
            return Err(Error::param(format!(
                "level {l} has {} siblings, arity {arity} needs {}",
                siblings[l].len(),
                arity - 1
            )));
        }
        let lg = arity.trailing_zeros() as usize;
        let depth = siblings.len();
        if depth == 0 || depth * lg > 253 {
            return Err(Error::param(format!(
                "a Merkle path of {depth} levels of arity {arity} is outside 1..={}",
                253 / lg
            )));
        }
        self.push_label("merkle");
        let bits = self.to_bits(index, depth * lg)?;
        let mut cur = leaf;
        for (l, sibs) in siblings.iter().enumerate() {
            self.push_label(&format!("level {l}"));
            let pos = &bits[l * lg..(l + 1) * lg];
            cur = if arity == 2 {
                self.merkle_level(cur, pos[0], sibs[0])
            } else {
                let children = self.place(cur, pos, sibs);
                self.poseidon(&children)?
            };
            self.pop_label();
        }
        self.pop_label();
        Ok(cur)
    }

    /// One binary Merkle level, `Poseidon(bit ? (sib, cur) : (cur, sib))`, in 70 rows (71 when
    /// `bit` is not already known boolean: it is constrained here): the swap
    /// `t = bit·(sib − cur)` (2 rows) is folded into the rows that add the first round
    /// constants (`cur + t + C_0[1]`, `sib − t + C_0[2]`), then the 66 permutation rows.
    pub fn merkle_level(&mut self, cur: Var, bit: Var, sib: Var) -> Var {
        self.ensure_bool(bit);
        self.labelled("poseidon", |b| {
            let c0 = round_constants(3, 0);
            let cap = b.constant(c0[0]);
            let d = b.sub(sib, cur);
            let t = b.mul(bit, d);
            let left = b.lin2(cur, Fr::one(), t, Fr::one(), c0[1]);
            let right = b.lin2(sib, Fr::one(), t, -Fr::one(), c0[2]);
            b.poseidon_rounds([cap, left, right])[0]
        })
    }

    /// The `arity` children with `cur` inserted at position `pos` (little-endian bits) among
    /// `sibs` (position order, `cur` excluded).
    fn place(&mut self, cur: Var, pos: &[Var], sibs: &[Var]) -> Vec<Var> {
        if pos.len() == 1 {
            let (l, r) = self.cond_swap(pos[0], cur, sibs[0]);
            return vec![l, r];
        }
        // One-hot e_j = [pos = j]; child_j = e_j·cur + (1 − Σ_{i≤j} e_i)·sib_j
        //                                   + (Σ_{i<j} e_i)·sib_{j−1}.
        let arity = 1 << pos.len();
        let one = self.constant(Fr::one());
        let mut onehot = vec![one];
        for &bit in pos {
            let mut next = Vec::with_capacity(onehot.len() * 2);
            let mut high = Vec::with_capacity(onehot.len());
            for &e in &onehot {
                let hi = self.mul(e, bit);
                next.push(self.sub(e, hi));
                high.push(hi);
            }
            next.extend(high);
            onehot = next;
        }
        let mut before = self.constant(Fr::zero()); // Σ_{i<j} e_i
        let mut out = Vec::with_capacity(arity);
        for j in 0..arity {
            let upto = self.add(before, onehot[j]); // Σ_{i≤j} e_i
            let mut child = self.mul(onehot[j], cur);
            if j < arity - 1 {
                let keep = self.affine(upto, -Fr::one(), Fr::one());
                let t = self.mul(keep, sibs[j]);
                child = self.add(child, t);
            }
            if j > 0 {
                let t = self.mul(before, sibs[j - 1]);
                child = self.add(child, t);
            }
            out.push(child);
            before = upto;
        }
        out
    }

    // -- layout --------------------------------------------------------------------------------

    /// Lay out the circuit (public-input rows first, padded to a power of two that also fits
    /// the lookup table) and its witness.
    pub fn build(&mut self) -> Result<(Circuit, [Vec<Fr>; 3])> {
        if let Some(res) = self.pending_c.take() {
            // The last dot product's result row (building twice lays out the same rows).
            let r = self.result_row(res);
            self.rows.push(r);
        }
        let ell = self.public.len();
        let table: Vec<[Fr; 3]> = self
            .tables
            .iter()
            .enumerate()
            .flat_map(|(i, t)| {
                let tag = Fr::from(i as u64 + 1);
                let mid = self.tag_column == 1;
                t.entries
                    .iter()
                    .map(move |(x, y)| if mid { [*x, tag, *y] } else { [*x, *y, tag] })
            })
            .collect();
        let used = ell + self.rows.len();
        let n = used.max(table.len()).max(1 << MIN_K).next_power_of_two();
        let k = n.trailing_zeros();
        if k > super::circuit::MAX_K {
            return Err(Error::param(format!(
                "the circuit needs {used} rows (2^{k}); the largest supported is 2^{}",
                super::circuit::MAX_K
            )));
        }
        let lookups = !table.is_empty();
        let z = || vec![Fr::zero(); n];
        let mut fixed = Fixed {
            q_m: z(),
            q_l: z(),
            q_r: z(),
            q_o: z(),
            q_c: z(),
            q_f: z(),
            q_p: z(),
            q_n: self.rows.iter().any(|r| !r.q_n.is_zero()).then(z),
            lookup: lookups.then(|| [z(), z(), z(), z()]),
        };
        let mut witness: [Vec<Fr>; 3] = [z(), z(), z()];
        let mut cells_of: HashMap<u32, Vec<(u8, usize)>> = HashMap::new();
        let mut labels: Vec<(usize, String)> = Vec::new();
        let public = self.public.clone();
        for (i, v) in public.iter().enumerate() {
            fixed.q_l[i] = Fr::one();
            witness[0][i] = self.value(*v);
            let root = self.find(*v);
            cells_of.entry(root).or_default().push((0, i));
        }
        if ell > 0 {
            labels.push((0, "public input".into()));
        }
        let rows = std::mem::take(&mut self.rows);
        let mut last_label = u32::MAX;
        for (j, row) in rows.iter().enumerate() {
            let i = ell + j;
            if row.label != last_label {
                labels.push((i, self.labels[row.label as usize].clone()));
                last_label = row.label;
            }
            fixed.q_m[i] = row.q[0];
            fixed.q_l[i] = row.q[1];
            fixed.q_r[i] = row.q[2];
            fixed.q_o[i] = row.q[3];
            fixed.q_c[i] = row.q[4];
            if let Some(q_n) = fixed.q_n.as_mut() {
                q_n[i] = row.q_n;
            }
            match row.kind {
                Kind::Arith => {}
                Kind::Full => fixed.q_f[i] = Fr::one(),
                Kind::Partial => fixed.q_p[i] = Fr::one(),
            }
            if row.lookup {
                fixed.lookup.as_mut().expect("tables exist")[0][i] = Fr::one();
            }
            for (col, cell) in row.cells.iter().enumerate() {
                if let Some(v) = cell {
                    witness[col][i] = self.value(*v);
                    let root = self.find(*v);
                    cells_of.entry(root).or_default().push((col as u8, i));
                }
            }
        }
        self.rows = rows;
        if used < n {
            labels.push((used, "padding".into()));
        }
        if let Some(l) = fixed.lookup.as_mut() {
            let last = *table.last().expect("non-empty");
            for col in 0..3 {
                l[col + 1] = (0..n).map(|i| table.get(i).unwrap_or(&last)[col]).collect();
            }
        }
        let mut copies: Vec<Vec<(u8, usize)>> =
            cells_of.into_values().filter(|c| c.len() > 1).collect();
        copies.iter_mut().for_each(|c| c.sort());
        copies.sort();
        let circuit = Circuit {
            k,
            num_public: ell,
            fixed,
            copies,
            labels,
            packed: self.packed,
        };
        if self.packed {
            circuit.check()?;
        }
        Ok((circuit, witness))
    }
}

/// Round `r`'s constants of width `t`.
fn round_constants(t: usize, r: usize) -> [Fr; 3] {
    let p = poseidon::params(t).expect("width");
    std::array::from_fn(|i| p.round_constants[r * t + i])
}
