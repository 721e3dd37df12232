//! The gate table compiled for evaluation: what the prover's quotient runs on every row of
//! the cosets and what the Solidity generator turns into Yul, both from [`gates()`].
//!
//! 1. [`expand`]: an expression becomes a sum of monomials over [`Atom`]s (selectors, leaves,
//!    `leaf^5`) with coefficients that are polynomials in α ([`APoly`]). Like terms cancel,
//!    so `(1 − q_pos) + q_pos` is the constant 1 and `Σ_j α^j Σ_k M[j][k]·s_k` becomes
//!    `Σ_k (Σ_j M[j][k]·α^j)·s_k`: the α-polynomial is a per-proof constant, and a row pays
//!    three multiplications where the closed form pays nine.
//! 2. [`factor`]: a Horner scheme over atoms (pull out the atom most monomials share, recurse),
//!    so `a·b − q_pos·a·b` is evaluated as `a·(b·(1 − q_pos))`.
//! 3. [`Program`]: the factored tree as straight-line code with common subexpressions shared
//!    (`pow5(a)` of the full and the partial round, `1 − q_pos` of every arithmetic term).
//!    The prover instantiates it at its α ([`Program::at`]) and runs it over blocks of rows
//!    ([`RowProgram::eval`]); `solidity.rs` prints it.
//!
//! The quotient splits the relation by gate ([`numerator`]): every gate vanishes on `H` by
//! itself, so the gates of degree ≤ [`LOW_DEGREE`] can share the permutation argument's coset
//! evaluations (half the cosets) while the others use all eight.

use super::gates::{gates, Expr, Gate, Leaf, Selector, Term};
use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};
use std::collections::{BTreeMap, HashMap};

/// The highest gate degree (selector included) the proof system supports: the quotient has
/// degree ≤ 5n + 9 (`keys::srs_powers_needed`) and is evaluated on 8n points.
pub const MAX_DEGREE: usize = 6;

/// Gates of at most this degree have a quotient of degree < 4n (n ≥ 16) and are evaluated
/// with the permutation argument on the even cosets only (`keys::coset_stride`).
pub const LOW_DEGREE: usize = 4;

/// A factor of a monomial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Atom {
    /// A selector column (only in the quotient's numerators; the verifier multiplies the
    /// selector's commitment instead).
    Selector(Selector),
    Leaf(Leaf),
    /// `leaf^5`, the Poseidon S-box, kept whole so that it costs three multiplications.
    Pow5(Leaf),
}

/// A polynomial in α with constant coefficients, lowest degree first, no trailing zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct APoly(pub Vec<Fr>);

impl APoly {
    pub fn constant(c: Fr) -> APoly {
        APoly(vec![c]).trimmed()
    }

    fn trimmed(mut self) -> APoly {
        while self.0.last().is_some_and(|c| c.is_zero()) {
            self.0.pop();
        }
        self
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// `Some(c)` when the polynomial does not depend on α.
    pub fn as_constant(&self) -> Option<Fr> {
        match self.0.len() {
            0 => Some(Fr::zero()),
            1 => Some(self.0[0]),
            _ => None,
        }
    }

    fn add(&self, other: &APoly) -> APoly {
        let len = self.0.len().max(other.0.len());
        let at = |p: &APoly, i: usize| p.0.get(i).copied().unwrap_or_else(Fr::zero);
        APoly((0..len).map(|i| at(self, i) + at(other, i)).collect()).trimmed()
    }

    fn mul(&self, other: &APoly) -> APoly {
        if self.is_zero() || other.is_zero() {
            return APoly::default();
        }
        let mut out = vec![Fr::zero(); self.0.len() + other.0.len() - 1];
        for (i, x) in self.0.iter().enumerate() {
            for (j, y) in other.0.iter().enumerate() {
                out[i + j] += *x * y;
            }
        }
        APoly(out).trimmed()
    }

    /// `α^j · self`.
    fn shifted(&self, j: usize) -> APoly {
        if self.is_zero() {
            return APoly::default();
        }
        let mut out = vec![Fr::zero(); j];
        out.extend_from_slice(&self.0);
        APoly(out)
    }

    /// The value at α (Horner).
    pub fn eval(&self, alpha: Fr) -> Fr {
        self.0
            .iter()
            .rev()
            .fold(Fr::zero(), |acc, c| acc * alpha + c)
    }
}

/// `Σ coefficient · monomial`, a monomial being a sorted list of atoms (repeats allowed).
pub type NormalForm = BTreeMap<Vec<Atom>, APoly>;

fn add_term(nf: &mut NormalForm, monomial: Vec<Atom>, c: APoly) {
    let sum = nf.get(&monomial).map_or(c.clone(), |old| old.add(&c));
    if sum.is_zero() {
        nf.remove(&monomial);
    } else {
        nf.insert(monomial, sum);
    }
}

fn add_nf(into: &mut NormalForm, other: NormalForm) {
    for (m, c) in other {
        add_term(into, m, c);
    }
}

fn mul_nf(x: &NormalForm, y: &NormalForm) -> NormalForm {
    let mut out = NormalForm::new();
    for (mx, cx) in x {
        for (my, cy) in y {
            let mut m: Vec<Atom> = mx.iter().chain(my).copied().collect();
            m.sort();
            add_term(&mut out, m, cx.mul(cy));
        }
    }
    out
}

fn constant_nf(c: Fr) -> NormalForm {
    let mut nf = NormalForm::new();
    add_term(&mut nf, Vec::new(), APoly::constant(c));
    nf
}

fn atom_nf(a: Atom) -> NormalForm {
    let mut nf = NormalForm::new();
    nf.insert(vec![a], APoly::constant(Fr::one()));
    nf
}

/// The normal form of an expression.
pub fn expand(e: &Expr) -> NormalForm {
    match e {
        Expr::Const(c) => constant_nf(*c),
        Expr::Leaf(l) => atom_nf(Atom::Leaf(*l)),
        Expr::Neg(x) => mul_nf(&constant_nf(-Fr::one()), &expand(x)),
        Expr::Sum(xs) => {
            let mut out = NormalForm::new();
            for x in xs {
                add_nf(&mut out, expand(x));
            }
            out
        }
        Expr::Product(xs) => xs
            .iter()
            .fold(constant_nf(Fr::one()), |acc, x| mul_nf(&acc, &expand(x))),
        Expr::Pow5(x) => match **x {
            Expr::Leaf(l) => atom_nf(Atom::Pow5(l)),
            // Anything else is multiplied out (correct, if slower than a dedicated atom).
            _ => {
                let inner = expand(x);
                (0..5).fold(constant_nf(Fr::one()), |acc, _| mul_nf(&acc, &inner))
            }
        },
    }
}

/// `Σ_j α^j E_j` of a term, without its selector.
fn term_nf(t: &Term) -> NormalForm {
    let mut out = NormalForm::new();
    for (j, e) in t.constraints.iter().enumerate() {
        for (m, c) in expand(e) {
            add_term(&mut out, m, c.shifted(j));
        }
    }
    out
}

/// The degree of an expression in the wires and fixed columns.
pub fn degree(e: &Expr) -> usize {
    match e {
        Expr::Const(_) => 0,
        Expr::Leaf(_) => 1,
        Expr::Neg(x) => degree(x),
        Expr::Sum(xs) => xs.iter().map(degree).max().unwrap_or(0),
        Expr::Product(xs) => xs.iter().map(degree).sum(),
        Expr::Pow5(x) => 5 * degree(x),
    }
}

/// A gate's degree: its selector (1) plus its highest constraint expression.
pub fn gate_degree(g: &Gate) -> usize {
    g.terms
        .iter()
        .flat_map(|t| t.constraints.iter().filter(|e| !e.is_zero()).map(degree))
        .map(|d| d + 1)
        .max()
        .unwrap_or(0)
}

/// `Σ_{gates} Σ_{terms} selector · Σ_j α^j E_j` over the gates `keep` selects and the
/// selectors the key has (`has`; version 1 has no `q_N`): a quotient numerator, selectors as
/// atoms.
pub fn numerator(keep: impl Fn(&Gate) -> bool, has: impl Fn(Selector) -> bool) -> NormalForm {
    let mut out = NormalForm::new();
    for g in gates().iter().filter(|g| keep(g)) {
        for t in g.terms.iter().filter(|t| has(t.selector)) {
            let nf = mul_nf(&atom_nf(Atom::Selector(t.selector)), &term_nf(t));
            add_nf(&mut out, nf);
        }
    }
    out
}

/// The scalar of `[selector]` in the linearisation, over every gate: `Σ_j α^j E_j`.
pub fn selector_scalar(selector: Selector) -> NormalForm {
    let mut out = NormalForm::new();
    for t in gates()
        .iter()
        .flat_map(|g| &g.terms)
        .filter(|t| t.selector == selector)
    {
        add_nf(&mut out, term_nf(t));
    }
    out
}

/// A normal form factored by a Horner scheme over atoms.
#[derive(Clone, Debug)]
pub enum Tree {
    Coef(APoly),
    Atom(Atom),
    Product(Box<Tree>, Box<Tree>),
    Sum(Vec<Tree>),
}

impl std::fmt::Display for Atom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let leaf = |l: &Leaf| match l {
            Leaf::Wire(k) => ["a", "b", "c"][*k].to_string(),
            Leaf::Next(k) => format!("{}ω", ["a", "b", "c"][*k]),
            Leaf::QPos => "q_pos".to_string(),
        };
        match self {
            Atom::Selector(s) => write!(f, "q_{}", &s.name()[1..]),
            Atom::Leaf(l) => write!(f, "{}", leaf(l)),
            Atom::Pow5(l) => write!(f, "{}^5", leaf(l)),
        }
    }
}

/// A constant for people: small ones (either sign) in decimal, others abbreviated.
fn show_constant(c: &Fr) -> String {
    let small = |x: &Fr| {
        let b = crate::field::to_be_bytes(x);
        b[..24]
            .iter()
            .all(|v| *v == 0)
            .then(|| u64::from_be_bytes(b[24..].try_into().expect("8 bytes")).to_string())
    };
    if let Some(s) = small(c) {
        return s;
    }
    if let Some(s) = small(&-*c) {
        return format!("−{s}");
    }
    let h = crate::field::to_hex(c);
    format!("{}…{}", &h[..6], &h[h.len() - 4..])
}

impl std::fmt::Display for APoly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let terms: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_zero())
            .map(|(k, c)| match (k, show_constant(c).as_str()) {
                (0, s) => s.to_string(),
                (1, "1") => "α".into(),
                (1, "−1") => "−α".into(),
                (1, s) => format!("{s}·α"),
                (2, "1") => "α²".into(),
                (2, "−1") => "−α²".into(),
                (2, s) => format!("{s}·α²"),
                (k, "1") => format!("α^{k}"),
                (k, "−1") => format!("−α^{k}"),
                (k, s) => format!("{s}·α^{k}"),
            })
            .collect();
        match terms.len() {
            0 => write!(f, "0"),
            1 => write!(f, "{}", terms[0]),
            _ => write!(f, "({})", terms.join(" + ")),
        }
    }
}

impl std::fmt::Display for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tree::Coef(p) => write!(f, "{p}"),
            Tree::Atom(a) => write!(f, "{a}"),
            Tree::Product(x, y) => {
                let part = |t: &Tree| match t {
                    Tree::Sum(xs) if xs.len() > 1 => format!("({t})"),
                    _ => t.to_string(),
                };
                match (&**x, &**y) {
                    (Tree::Coef(p), t) | (t, Tree::Coef(p))
                        if p.as_constant() == Some(Fr::one()) =>
                    {
                        write!(f, "{}", part(t))
                    }
                    (Tree::Coef(p), t) | (t, Tree::Coef(p))
                        if p.as_constant() == Some(-Fr::one()) =>
                    {
                        write!(f, "−{}", part(t))
                    }
                    _ => write!(f, "{}·{}", part(x), part(y)),
                }
            }
            Tree::Sum(xs) => {
                let mut out = String::new();
                for (i, x) in xs.iter().enumerate() {
                    let t = x.to_string();
                    match (i, t.strip_prefix('−')) {
                        (0, _) => out.push_str(&t),
                        (_, Some(rest)) => out.push_str(&format!(" − {rest}")),
                        (_, None) => out.push_str(&format!(" + {t}")),
                    }
                }
                write!(f, "{out}")
            }
        }
    }
}

/// Pulls out the atom that most monomials share (ties: the smallest), recursively; what no
/// two monomials share is summed as `coefficient · Π atoms`.
pub fn factor(nf: &NormalForm) -> Tree {
    let mut counts: BTreeMap<Atom, usize> = BTreeMap::new();
    for m in nf.keys() {
        let mut seen: Vec<Atom> = m.clone();
        seen.dedup();
        for a in seen {
            *counts.entry(a).or_default() += 1;
        }
    }
    let best = counts
        .iter()
        .filter(|(_, &c)| c >= 2)
        .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(b.cmp(a)))
        .map(|(a, _)| *a);
    match best {
        Some(x) => {
            let (mut with, mut without) = (NormalForm::new(), NormalForm::new());
            for (m, c) in nf {
                match m.iter().position(|a| *a == x) {
                    Some(i) => {
                        let mut rest = m.clone();
                        rest.remove(i);
                        with.insert(rest, c.clone());
                    }
                    None => {
                        without.insert(m.clone(), c.clone());
                    }
                }
            }
            // `k·x·Y + Y` is `(1 + k·x)·Y`: the arithmetic gate's `(1 − q_pos)·(…)`.
            if let Some(k) = proportional(&with, &without) {
                let one_plus = Tree::Sum(vec![
                    Tree::Coef(APoly::constant(Fr::one())),
                    Tree::Product(
                        Box::new(Tree::Coef(APoly::constant(k))),
                        Box::new(Tree::Atom(x)),
                    ),
                ]);
                return Tree::Product(Box::new(one_plus), Box::new(factor(&without)));
            }
            let pulled = Tree::Product(Box::new(Tree::Atom(x)), Box::new(factor(&with)));
            if without.is_empty() {
                pulled
            } else {
                Tree::Sum(vec![pulled, factor(&without)])
            }
        }
        None => Tree::Sum(
            nf.iter()
                .map(|(m, c)| {
                    m.iter().fold(Tree::Coef(c.clone()), |acc, a| {
                        Tree::Product(Box::new(acc), Box::new(Tree::Atom(*a)))
                    })
                })
                .collect(),
        ),
    }
}

/// `Some(k)` when `with = k·without` for a constant `k` (and both are non-empty).
fn proportional(with: &NormalForm, without: &NormalForm) -> Option<Fr> {
    let (m, p) = without.iter().next()?;
    let lead = *p.0.first()?;
    let q = with.get(m)?;
    let k = *q.0.first()? * lead.inverse()?;
    let scaled = |p: &APoly| p.mul(&APoly::constant(k));
    (with.len() == without.len() && without.iter().all(|(m, p)| with.get(m) == Some(&scaled(p))))
        .then_some(k)
}

/// A value of a [`Program`]: a constant (polynomial in α) or the result of an op.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    Coef(APoly),
    Reg(usize),
}

/// One instruction; operands are registers or α-polynomials.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Load(Atom),
    Mul(Val, Val),
    Add(Val, Val),
    Sub(Val, Val),
    Neg(Val),
}

/// Straight-line code computing named outputs, common subexpressions shared.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub ops: Vec<Op>,
    pub outputs: Vec<Val>,
    seen: HashMap<Op, usize>,
}

impl Program {
    /// One program computing each normal form (factored) in `outputs`, in order.
    pub fn new(forms: &[NormalForm]) -> Program {
        let mut p = Program::default();
        p.outputs = forms.iter().map(|nf| p.tree(&factor(nf))).collect();
        p.prune()
    }

    /// Drops the ops no output reads (a negation folded into a subtraction leaves one).
    fn prune(self) -> Program {
        let mut live = vec![false; self.ops.len()];
        let mark = |v: &Val, live: &mut Vec<bool>| {
            if let Val::Reg(r) = v {
                live[*r] = true;
            }
        };
        for v in &self.outputs {
            mark(v, &mut live);
        }
        for r in (0..self.ops.len()).rev() {
            if live[r] {
                match &self.ops[r] {
                    Op::Load(_) => {}
                    Op::Mul(x, y) | Op::Add(x, y) | Op::Sub(x, y) => {
                        mark(x, &mut live);
                        mark(y, &mut live);
                    }
                    Op::Neg(x) => mark(x, &mut live),
                }
            }
        }
        let mut renumber = vec![usize::MAX; self.ops.len()];
        let mut ops = Vec::new();
        for (r, op) in self.ops.into_iter().enumerate() {
            if live[r] {
                renumber[r] = ops.len();
                ops.push(op);
            }
        }
        let map = |v: Val| match v {
            Val::Reg(r) => Val::Reg(renumber[r]),
            c => c,
        };
        let ops = ops
            .into_iter()
            .map(|op| match op {
                Op::Load(a) => Op::Load(a),
                Op::Mul(x, y) => Op::Mul(map(x), map(y)),
                Op::Add(x, y) => Op::Add(map(x), map(y)),
                Op::Sub(x, y) => Op::Sub(map(x), map(y)),
                Op::Neg(x) => Op::Neg(map(x)),
            })
            .collect();
        Program {
            ops,
            outputs: self.outputs.into_iter().map(map).collect(),
            seen: HashMap::new(),
        }
    }

    fn push(&mut self, op: Op) -> Val {
        if let Some(&r) = self.seen.get(&op) {
            return Val::Reg(r);
        }
        self.ops.push(op.clone());
        self.seen.insert(op, self.ops.len() - 1);
        Val::Reg(self.ops.len() - 1)
    }

    fn constant(v: &Val) -> Option<Fr> {
        match v {
            Val::Coef(p) => p.as_constant(),
            Val::Reg(_) => None,
        }
    }

    fn mul(&mut self, x: Val, y: Val) -> Val {
        let one = Fr::one();
        match (Self::constant(&x), Self::constant(&y)) {
            (Some(c), _) | (_, Some(c)) if c.is_zero() => Val::Coef(APoly::default()),
            (Some(c), _) if c == one => y,
            (_, Some(c)) if c == one => x,
            (Some(c), _) if c == -one => self.neg(y),
            (_, Some(c)) if c == -one => self.neg(x),
            _ => match (x, y) {
                (Val::Coef(p), Val::Coef(q)) => Val::Coef(p.mul(&q)),
                // Coefficients first, so that `c·x` and `x·c` are one op.
                (r @ Val::Reg(_), c @ Val::Coef(_)) => self.push(Op::Mul(c, r)),
                (x, y) => self.push(Op::Mul(x, y)),
            },
        }
    }

    fn neg(&mut self, x: Val) -> Val {
        match x {
            Val::Coef(p) => Val::Coef(p.mul(&APoly::constant(-Fr::one()))),
            r => self.push(Op::Neg(r)),
        }
    }

    /// `Σ terms`: constants folded into one, negated terms subtracted.
    fn sum(&mut self, terms: Vec<Val>) -> Val {
        let mut constant = APoly::default();
        let mut regs: Vec<(bool, Val)> = Vec::new();
        for t in terms {
            match t {
                Val::Coef(p) => constant = constant.add(&p),
                Val::Reg(r) => match &self.ops[r] {
                    // x + (−y) is x − y.
                    Op::Neg(inner) => regs.push((false, inner.clone())),
                    _ => regs.push((true, Val::Reg(r))),
                },
            }
        }
        // A positive term first (or the constant), so the chain starts without a negation.
        if let Some(i) = regs.iter().position(|(plus, _)| *plus) {
            regs.swap(0, i);
        }
        let mut acc: Option<Val> = (!constant.is_zero()).then_some(Val::Coef(constant));
        for (plus, v) in regs {
            acc = Some(match (acc, plus) {
                (None, true) => v,
                (None, false) => self.push(Op::Neg(v)),
                (Some(a), true) => self.push(Op::Add(a, v)),
                (Some(a), false) => self.push(Op::Sub(a, v)),
            });
        }
        acc.unwrap_or(Val::Coef(APoly::default()))
    }

    fn tree(&mut self, t: &Tree) -> Val {
        match t {
            Tree::Coef(p) => Val::Coef(p.clone()),
            Tree::Atom(a) => self.push(Op::Load(*a)),
            Tree::Product(x, y) => {
                let (x, y) = (self.tree(x), self.tree(y));
                self.mul(x, y)
            }
            Tree::Sum(xs) => {
                let vals = xs.iter().map(|x| self.tree(x)).collect();
                self.sum(vals)
            }
        }
    }

    /// The program at a given α: coefficients become field constants.
    pub fn at(&self, alpha: Fr) -> RowProgram {
        let val = |v: &Val| match v {
            Val::Coef(p) => RowVal::Const(p.eval(alpha)),
            Val::Reg(r) => RowVal::Reg(*r),
        };
        let ops: Vec<RowOp> = self
            .ops
            .iter()
            .map(|op| match op {
                Op::Load(a) => RowOp::Load(*a),
                Op::Mul(x, y) => RowOp::Mul(val(x), val(y)),
                Op::Add(x, y) => RowOp::Add(val(x), val(y)),
                Op::Sub(x, y) => RowOp::Sub(val(x), val(y)),
                Op::Neg(x) => RowOp::Neg(val(x)),
            })
            .collect();
        let limbs = |v: &RowVal| match v {
            RowVal::Const(c) => crate::field_simd::to_mont_limbs(c),
            RowVal::Reg(_) => [0; 5],
        };
        let vconst = ops
            .iter()
            .map(|op| match op {
                RowOp::Load(_) => [[0; 5]; 2],
                RowOp::Neg(x) => [limbs(x), [0; 5]],
                RowOp::Mul(x, y) | RowOp::Add(x, y) | RowOp::Sub(x, y) => [limbs(x), limbs(y)],
            })
            .collect();
        RowProgram {
            ops,
            outputs: self.outputs.iter().map(val).collect(),
            vconst,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum RowVal {
    Const(Fr),
    Reg(usize),
}

#[derive(Clone, Copy, Debug)]
pub enum RowOp {
    Load(Atom),
    Mul(RowVal, RowVal),
    Add(RowVal, RowVal),
    Sub(RowVal, RowVal),
    Neg(RowVal),
}

/// A [`Program`] at a known α, run over blocks of rows.
#[derive(Clone, Debug)]
pub struct RowProgram {
    pub ops: Vec<RowOp>,
    pub outputs: Vec<RowVal>,
    /// Each op's constant operands in `field_simd`'s vector form (`[0; 5]` for registers).
    vconst: Vec<[crate::field_simd::Limbs; 2]>,
}

/// Rows per block: each op is a loop over this many rows, so dispatch costs little and a
/// block's registers (`ops × BLOCK × 32` bytes) stay in L2.
pub const BLOCK: usize = 64;

impl RowProgram {
    /// The registers a block needs (`scratch` for [`RowProgram::eval`]).
    pub fn scratch(&self) -> Vec<Fr> {
        vec![Fr::zero(); self.ops.len() * BLOCK]
    }

    /// Output `k` on rows `start .. start + out.len()` (at most [`BLOCK`]) into `out`, with
    /// `load(atom, row)` reading the atoms.
    pub fn eval(
        &self,
        k: usize,
        start: usize,
        out: &mut [Fr],
        scratch: &mut [Fr],
        load: &impl Fn(Atom, usize) -> Fr,
    ) {
        let len = out.len();
        debug_assert!(len <= BLOCK && scratch.len() >= self.ops.len() * BLOCK);
        for (r, op) in self.ops.iter().enumerate() {
            let (done, rest) = scratch.split_at_mut(r * BLOCK);
            let dst = &mut rest[..len];
            let get = |v: &RowVal, i: usize| match v {
                RowVal::Const(c) => *c,
                RowVal::Reg(s) => done[s * BLOCK + i],
            };
            match op {
                RowOp::Load(Atom::Pow5(l)) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let x = load(Atom::Leaf(*l), start + i);
                        *d = x.square().square() * x;
                    }
                }
                RowOp::Load(a) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = load(*a, start + i);
                    }
                }
                RowOp::Mul(RowVal::Const(c), y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = *c * get(y, i);
                    }
                }
                RowOp::Mul(x, y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = get(x, i) * get(y, i);
                    }
                }
                RowOp::Add(x, y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = get(x, i) + get(y, i);
                    }
                }
                RowOp::Sub(x, y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = get(x, i) - get(y, i);
                    }
                }
                RowOp::Neg(x) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = -get(x, i);
                    }
                }
            }
        }
        match self.outputs[k] {
            RowVal::Const(c) => out.fill(c),
            RowVal::Reg(r) => out.copy_from_slice(&scratch[r * BLOCK..r * BLOCK + len]),
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl RowProgram {
    /// Registers of [`RowProgram::eval_simd`] (vectors of eight rows).
    pub fn scratch_simd(&self) -> Vec<crate::field_simd::avx::V> {
        Vec::with_capacity(self.ops.len() * BLOCK / 8)
    }

    /// [`RowProgram::eval`] on eight rows per vector (`field_simd`'s IFMA lanes); `out.len()`
    /// a multiple of 8, at most [`BLOCK`]. `load(atom, row, dst)` writes the atom's values on
    /// rows `row .. row + 8`. The same field elements as `eval`.
    ///
    /// Values enter as arkworks' stored integers (`x·2^256`), times 16 is the vector form
    /// `x·2^260` (four doublings), and leave times 1/16 (one product), so every product in
    /// between is a plain Montgomery product of vector forms.
    ///
    /// # Safety
    /// The CPU has AVX-512F and IFMA.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub unsafe fn eval_simd(
        &self,
        k: usize,
        start: usize,
        out: &mut [Fr],
        scratch: &mut Vec<crate::field_simd::avx::V>,
        load: &impl Fn(Atom, usize, &mut [Fr; 8]),
    ) {
        use crate::field_simd::avx::V;
        let vecs = out.len() / 8;
        debug_assert!(out.len().is_multiple_of(8) && out.len() <= BLOCK);
        let per = BLOCK / 8;
        let zero = V::splat(&[0; 5]);
        scratch.clear();
        scratch.resize(self.ops.len() * per, zero);
        let mut buf = [Fr::zero(); 8];
        let mut load_v = |a: Atom, row: usize| -> V {
            load(a, row, &mut buf);
            let mut cols = [[0u64; 8]; 4];
            for (l, x) in buf.iter().enumerate() {
                for (c, limb) in cols.iter_mut().zip(x.0 .0) {
                    c[l] = limb;
                }
            }
            let v = V::from_packed(&cols);
            let v = v.add(&v);
            let v = v.add(&v);
            let v = v.add(&v);
            v.add(&v)
        };
        for (r, op) in self.ops.iter().enumerate() {
            let (done, rest) = scratch.split_at_mut(r * per);
            let dst = &mut rest[..vecs];
            let [c0, c1] = &self.vconst[r];
            let get = |v: &RowVal, c: &crate::field_simd::Limbs, i: usize| match v {
                RowVal::Const(_) => V::splat(c),
                RowVal::Reg(s) => done[s * per + i],
            };
            match op {
                RowOp::Load(Atom::Pow5(l)) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let x = load_v(Atom::Leaf(*l), start + 8 * i);
                        *d = x.square().square().mul(&x);
                    }
                }
                RowOp::Load(a) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = load_v(*a, start + 8 * i);
                    }
                }
                RowOp::Mul(x, y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = get(x, c0, i).mul(&get(y, c1, i));
                    }
                }
                RowOp::Add(x, y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = get(x, c0, i).add(&get(y, c1, i));
                    }
                }
                RowOp::Sub(x, y) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = get(x, c0, i).sub(&get(y, c1, i));
                    }
                }
                RowOp::Neg(x) => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = zero.sub(&get(x, c0, i));
                    }
                }
            }
        }
        match self.outputs[k] {
            RowVal::Const(c) => out.fill(c),
            RowVal::Reg(reg) => {
                static INV16: std::sync::OnceLock<crate::field_simd::Limbs> =
                    std::sync::OnceLock::new();
                let inv16 = V::splat(INV16.get_or_init(|| {
                    crate::field_simd::to_mont_limbs(&Fr::from(16u64).inverse().expect("nonzero"))
                }));
                for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
                    let mut cols = [[0u64; 8]; 4];
                    scratch[reg * per + i]
                        .mul(&inv16)
                        .canonical()
                        .to_packed(&mut cols);
                    for (l, o) in chunk.iter_mut().enumerate() {
                        *o = Fr::new_unchecked(ark_ff::BigInt(std::array::from_fn(|j| cols[j][l])));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;

    fn random_leaves(rng: &mut impl ark_std::rand::RngCore) -> impl Fn(Atom, usize) -> Fr {
        let vals: Vec<Fr> = (0..16).map(|_| Fr::rand(rng)).collect();
        move |a: Atom, _row: usize| {
            let idx = match a {
                Atom::Selector(Selector::QN) => 14,
                Atom::Selector(s) => s.index(),
                Atom::Leaf(Leaf::Wire(k)) => 7 + k,
                Atom::Leaf(Leaf::Next(k)) => 10 + k,
                Atom::Leaf(Leaf::QPos) => 13,
                Atom::Pow5(_) => unreachable!("loaded from the leaf"),
            };
            vals[idx]
        }
    }

    /// Every gate fits the quotient's degree bound.
    #[test]
    fn gate_degrees_within_bound() {
        for g in gates() {
            let d = gate_degree(g);
            assert!((1..=MAX_DEGREE).contains(&d), "{}: degree {d}", g.name);
        }
        let names: Vec<(&str, usize)> = gates().iter().map(|g| (g.name, gate_degree(g))).collect();
        assert_eq!(names, [("arithmetic", 4), ("Poseidon round", 6)]);
    }

    /// The compiled program computes what the table's expressions do, term by term.
    #[test]
    fn program_matches_the_table() {
        let mut rng = ark_std::test_rng();
        let alpha = Fr::rand(&mut rng);
        let forms: Vec<NormalForm> = Selector::ALL.iter().map(|s| selector_scalar(*s)).collect();
        let all = |_: Selector| true;
        let num = [
            numerator(|g| gate_degree(g) <= LOW_DEGREE, all),
            numerator(|g| gate_degree(g) > LOW_DEGREE, all),
        ];
        let p = Program::new(&forms).at(alpha);
        let q = Program::new(&num).at(alpha);
        for _ in 0..8 {
            let load = random_leaves(&mut rng);
            let leaf = |l: Leaf| load(Atom::Leaf(l), 0);
            let expected = super::super::gates::selector_scalars(alpha, &leaf);
            let mut scratch = p.scratch();
            for (k, want) in expected.iter().enumerate() {
                let mut out = [Fr::zero(); 3];
                p.eval(k, 0, &mut out, &mut scratch, &load);
                assert_eq!(out, [*want; 3], "selector {k}");
            }
            // The two numerators add up to Σ_s s·scalar_s.
            let total: Fr = Selector::ALL
                .iter()
                .map(|s| load(Atom::Selector(*s), 0) * expected[s.index()])
                .sum();
            let mut scratch = q.scratch();
            let mut parts = [Fr::zero(); 2];
            for (k, part) in parts.iter_mut().enumerate() {
                let mut out = [Fr::zero(); 1];
                q.eval(k, 0, &mut out, &mut scratch, &load);
                *part = out[0];
            }
            assert_eq!(parts[0] + parts[1], total);
        }
    }

    /// The vector evaluation gives the scalar one's field elements on every row, for every
    /// program the prover and verifier use, with random and edge values per row.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_evaluation_equals_scalar() {
        if !crate::field_simd::hardware_available() {
            return; // no vector path on this CPU: nothing to compare
        }
        let mut rng = ark_std::test_rng();
        let all = |_: Selector| true;
        let forms: Vec<NormalForm> = Selector::ALL.iter().map(|s| selector_scalar(*s)).collect();
        let num = [
            numerator(|g| gate_degree(g) <= LOW_DEGREE, all),
            numerator(|g| gate_degree(g) > LOW_DEGREE, all),
        ];
        let edge = [
            Fr::zero(),
            Fr::one(),
            -Fr::one(),
            Fr::from(16u64),
            -Fr::from(2u64),
        ];
        // 15 leaves × BLOCK rows, every fifth row an edge value.
        let vals: Vec<Vec<Fr>> = (0..15)
            .map(|j| {
                (0..BLOCK)
                    .map(|r| {
                        if (r + j) % 5 == 0 {
                            edge[(r / 5 + j) % edge.len()]
                        } else {
                            Fr::rand(&mut rng)
                        }
                    })
                    .collect()
            })
            .collect();
        let index = |a: Atom| match a {
            Atom::Selector(Selector::QN) => 14,
            Atom::Selector(s) => s.index(),
            Atom::Leaf(Leaf::Wire(k)) => 7 + k,
            Atom::Leaf(Leaf::Next(k)) => 10 + k,
            Atom::Leaf(Leaf::QPos) => 13,
            Atom::Pow5(_) => unreachable!("loaded from the leaf"),
        };
        let load = |a: Atom, row: usize| vals[index(a)][row];
        let load8 = |a: Atom, row: usize, dst: &mut [Fr; 8]| {
            dst.copy_from_slice(&vals[index(a)][row..row + 8])
        };
        for alpha in [Fr::rand(&mut rng), Fr::one(), -Fr::one()] {
            for program in [Program::new(&forms), Program::new(&num)] {
                let p = program.at(alpha);
                for k in 0..p.outputs.len() {
                    let (mut want, mut got) = ([Fr::zero(); BLOCK], [Fr::zero(); BLOCK]);
                    p.eval(k, 0, &mut want, &mut p.scratch(), &load);
                    // SAFETY: the CPU has the features (checked above).
                    unsafe { p.eval_simd(k, 0, &mut got, &mut p.scratch_simd(), &load8) };
                    assert_eq!(got, want, "output {k}");
                    // A partial block (a multiple of eight rows) too.
                    let mut part = [Fr::zero(); 24];
                    unsafe { p.eval_simd(k, 0, &mut part, &mut p.scratch_simd(), &load8) };
                    assert_eq!(part[..], want[..24], "output {k}, 24 rows");
                }
            }
        }
    }

    /// `(1 − q_pos) + q_pos` cancels: q_C's linearisation scalar is the constant 1, which the
    /// Solidity template relies on (it starts the MSM at `[q_C]`).
    #[test]
    fn q_c_scalar_is_one() {
        let nf = selector_scalar(Selector::QC);
        assert_eq!(nf.len(), 1);
        assert_eq!(nf.get(&Vec::new()), Some(&APoly::constant(Fr::one())));
    }

    /// CSE: the S-box of wire a is computed once for the full and the partial round.
    #[test]
    fn shared_subexpressions() {
        let forms: Vec<NormalForm> = Selector::ALL.iter().map(|s| selector_scalar(*s)).collect();
        let p = Program::new(&forms);
        let pow5a = p
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Load(Atom::Pow5(Leaf::Wire(0)))))
            .count();
        assert_eq!(pow5a, 1);
    }
}
