//! A circuit as the proof system sees it (`docs/spec/plonk.md` §2): the fixed columns, the copy
//! classes, and the witness check that names the first failing constraint.

use super::gates::{gates, Gate, Leaf, Selector};
use crate::error::{Error, Result};
use crate::field;
use ark_bn254::Fr;
use ark_ff::{One, Zero};
use rayon::prelude::*;
use std::collections::HashSet;

/// Smallest and largest `k` (`n = 2^k` rows).
pub const MIN_K: u32 = 3;
pub const MAX_K: u32 = 25;

/// The wire columns a cell can live in.
pub const WIRES: [&str; 3] = ["a", "b", "c"];

/// A cell `(column, row)`; column 0, 1, 2 is `a, b, c`.
pub type Cell = (u8, usize);

/// The fixed columns of the spec, in verifying-key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fixed {
    pub q_m: Vec<Fr>,
    pub q_l: Vec<Fr>,
    pub q_r: Vec<Fr>,
    pub q_o: Vec<Fr>,
    pub q_c: Vec<Fr>,
    pub q_f: Vec<Fr>,
    pub q_p: Vec<Fr>,
    /// `q_N` (spec v2, the next row's `c`); present iff some row uses it, which makes the
    /// circuit, its keys and its verifier version 2.
    pub q_n: Option<Vec<Fr>>,
    /// Lookup columns `q_K, T1, T2, T3`; present iff the circuit uses lookups.
    pub lookup: Option<[Vec<Fr>; 4]>,
}

impl Fixed {
    /// The fixed columns in VK order with their spec names: the selectors (`q_n` in version
    /// 2), then the lookup columns.
    pub fn named(&self) -> Vec<(&'static str, &Vec<Fr>)> {
        let mut v = vec![
            ("q_m", &self.q_m),
            ("q_l", &self.q_l),
            ("q_r", &self.q_r),
            ("q_o", &self.q_o),
            ("q_c", &self.q_c),
            ("q_f", &self.q_f),
            ("q_p", &self.q_p),
        ];
        if let Some(q_n) = &self.q_n {
            v.push(("q_n", q_n));
        }
        if let Some(l) = &self.lookup {
            for (name, col) in ["q_k", "t1", "t2", "t3"].into_iter().zip(l.iter()) {
                v.push((name, col));
            }
        }
        v
    }
}

/// A circuit: `n = 2^k` rows of fixed columns, the copy classes, the public-input count, and
/// optional labels naming the gadget that made each row (for error messages).
#[derive(Clone, Debug)]
pub struct Circuit {
    pub k: u32,
    pub num_public: usize,
    pub fixed: Fixed,
    /// Classes of cells that must hold equal values, each of at least two cells (§3).
    pub copies: Vec<Vec<Cell>>,
    /// `(first_row, label)`, sorted by row: rows from `first_row` up to the next entry belong to
    /// the gadget `label`.
    pub labels: Vec<(usize, String)>,
    /// Spec version 3 (§8): the witness polynomials committed packed and opened at once, which
    /// saves the EVM verifier five scalar multiplications. Only for circuits that use `q_N`
    /// and lookups; the builder's choice, never inferred.
    pub packed: bool,
}

impl Circuit {
    pub fn n(&self) -> usize {
        1 << self.k
    }

    pub fn has_lookups(&self) -> bool {
        self.fixed.lookup.is_some()
    }

    /// Whether some row has the degree-6 Poseidon round gate (`q_F` or `q_P`), which sets the
    /// quotient's degree and so the SRS size (`keys::srs_powers_needed`).
    pub fn has_round_gates(&self) -> bool {
        use ark_ff::Zero;
        [&self.fixed.q_f, &self.fixed.q_p]
            .iter()
            .any(|c| c.iter().any(|x| !x.is_zero()))
    }

    /// The spec version: 3 when packed (§8), else 2 when it uses `q_N`, else 1.
    pub fn version(&self) -> u8 {
        if self.packed {
            3
        } else if self.fixed.q_n.is_some() {
            2
        } else {
            1
        }
    }

    /// Selector `s`'s column (`None`: `q_N` of a version-1 circuit, all zero).
    pub fn selector(&self, s: Selector) -> Option<&Vec<Fr>> {
        let f = &self.fixed;
        Some(match s {
            Selector::QM => &f.q_m,
            Selector::QL => &f.q_l,
            Selector::QR => &f.q_r,
            Selector::QO => &f.q_o,
            Selector::QC => &f.q_c,
            Selector::QF => &f.q_f,
            Selector::QP => &f.q_p,
            Selector::QN => return f.q_n.as_ref(),
        })
    }

    /// Whether some constraint reads cell `(col, row)` (spec §2): its gate (`q_M`, `q_L`/`q_R`,
    /// `q_O`), `q_N` of the row above (for `c`), a lookup, a copy class, or a Poseidon round on
    /// this row or the row above. Soundness tests flip exactly these cells.
    pub fn is_constrained(&self, col: usize, row: usize) -> bool {
        let n = self.n();
        let f = &self.fixed;
        let above = (row + n - 1) % n;
        let pos = |r: usize| !f.q_f[r].is_zero() || !f.q_p[r].is_zero();
        let gate = match col {
            0 => !f.q_m[row].is_zero() || !f.q_l[row].is_zero(),
            1 => !f.q_m[row].is_zero() || !f.q_r[row].is_zero(),
            _ => !f.q_o[row].is_zero() || f.q_n.as_ref().is_some_and(|q| !q[above].is_zero()),
        };
        let lookup = f.lookup.as_ref().is_some_and(|l| !l[0][row].is_zero());
        let copied = self.copies.iter().any(|cl| cl.contains(&(col as u8, row)));
        gate || lookup || copied || pos(row) || pos(above)
    }

    /// The label of the gadget that owns `row` ("" when none).
    pub fn label_of(&self, row: usize) -> &str {
        match self.labels.partition_point(|(r, _)| *r <= row) {
            0 => "",
            i => &self.labels[i - 1].1,
        }
    }

    fn at(&self, row: usize) -> String {
        match self.label_of(row) {
            "" => format!("row {row}"),
            l => format!("row {row} ({l})"),
        }
    }

    /// Parse the interchange format of `docs/spec/plonk.md` §7 (decimal strings).
    pub fn from_json(v: &serde_json::Value) -> Result<Circuit> {
        const WHAT: &str = "circuit JSON";
        let bad = |r: String| Error::decode(WHAT, r);
        let (v2, packed) = match v["format"].as_str() {
            Some("bigfile_zk/plonk-circuit/v1") => (false, false),
            Some("bigfile_zk/plonk-circuit/v2") => (true, false),
            Some("bigfile_zk/plonk-circuit/v3") => (true, true),
            _ => {
                return Err(bad(
                    "format is not bigfile_zk/plonk-circuit/v1, /v2 or /v3".into()
                ))
            }
        };
        let int = |key: &str| {
            v[key]
                .as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(|| bad(format!("{key} is not an integer below 2^32")))
        };
        let k = int("k")?;
        let num_public = int("num_public")? as usize;
        let lookups = v["lookups"]
            .as_bool()
            .ok_or_else(|| bad("lookups is not a boolean".into()))?;
        // Exactly the keys of §7: an unknown key is an error, not ignored.
        let mut keys: Vec<&str> = vec!["format", "k", "num_public", "lookups", "copies"];
        keys.extend(["q_m", "q_l", "q_r", "q_o", "q_c", "q_f", "q_p"]);
        if v2 {
            keys.push("q_n");
        }
        if lookups {
            keys.extend(["q_k", "t1", "t2", "t3"]);
        }
        match v.as_object() {
            Some(o) if o.len() == keys.len() && keys.iter().all(|k| o.contains_key(*k)) => {}
            _ => return Err(bad(format!("the keys must be exactly {keys:?}"))),
        }
        let col = |key: &str| -> Result<Vec<Fr>> {
            v[key]
                .as_array()
                .ok_or_else(|| bad(format!("{key} is not a list")))?
                .iter()
                .map(|x| {
                    x.as_str()
                        .ok_or_else(|| bad(format!("{key} holds a non-string")))
                        .and_then(|s| field::from_decimal(s, key))
                })
                .collect()
        };
        let fixed = Fixed {
            q_m: col("q_m")?,
            q_l: col("q_l")?,
            q_r: col("q_r")?,
            q_o: col("q_o")?,
            q_c: col("q_c")?,
            q_f: col("q_f")?,
            q_p: col("q_p")?,
            q_n: if v2 { Some(col("q_n")?) } else { None },
            lookup: if lookups {
                Some([col("q_k")?, col("t1")?, col("t2")?, col("t3")?])
            } else {
                None
            },
        };
        let copies = v["copies"]
            .as_array()
            .ok_or_else(|| bad("copies is not a list".into()))?
            .iter()
            .map(|class| {
                class
                    .as_array()
                    .ok_or_else(|| bad("a copy class is not a list".into()))?
                    .iter()
                    .map(|cell| match cell.as_array().map(|a| a.as_slice()) {
                        Some([c, r]) => match (c.as_u64(), r.as_u64()) {
                            (Some(c), Some(r)) if c < 3 && r < 1 << MAX_K => {
                                Ok((c as u8, r as usize))
                            }
                            _ => Err(bad(format!("bad cell {cell}"))),
                        },
                        _ => Err(bad(format!("a cell is [col, row], not {cell}"))),
                    })
                    .collect::<Result<Vec<Cell>>>()
            })
            .collect::<Result<_>>()?;
        let circuit = Circuit {
            k,
            num_public,
            fixed,
            copies,
            labels: vec![],
            packed,
        };
        circuit.check()?;
        Ok(circuit)
    }

    /// Where `other` differs from this circuit (`None` when they are the same circuit).
    pub fn difference(&self, other: &Circuit) -> Option<String> {
        if (self.k, self.num_public) != (other.k, other.num_public) {
            return Some(format!(
                "2^{} rows and {} public inputs vs 2^{} and {}",
                self.k, self.num_public, other.k, other.num_public
            ));
        }
        let (mine, theirs) = (self.fixed.named(), other.fixed.named());
        if self.version() != other.version() {
            return Some(format!(
                "spec version {} vs {} (q_n, packed opening)",
                self.version(),
                other.version()
            ));
        }
        if mine.len() != theirs.len() {
            return Some("one uses lookups and the other does not".into());
        }
        for ((name, a), (_, b)) in mine.iter().zip(&theirs) {
            if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
                return Some(format!("column {name} differs at {}", self.at(i)));
            }
        }
        if self.copies != other.copies {
            return Some("the copy constraints differ".into());
        }
        None
    }

    /// Structural checks: sizes, 0/1 selectors, public-input rows, cells in range, and the
    /// positions Poseidon rows may not take.
    pub fn check(&self) -> Result<()> {
        if !(MIN_K..=MAX_K).contains(&self.k) {
            return Err(Error::param(format!(
                "a circuit has 2^k rows with {MIN_K} <= k <= {MAX_K}, not k = {}",
                self.k
            )));
        }
        let n = self.n();
        for (name, col) in self.fixed.named() {
            if col.len() != n {
                return Err(Error::param(format!(
                    "fixed column {name} has {} values, the circuit has {n} rows",
                    col.len()
                )));
            }
        }
        if self.num_public >= n {
            return Err(Error::param(format!(
                "{} public inputs do not fit {n} rows",
                self.num_public
            )));
        }
        let bit = |x: &Fr| x.is_zero() || x.is_one();
        let f = &self.fixed;
        for i in 0..n {
            if !bit(&f.q_f[i]) || !bit(&f.q_p[i]) || (f.q_f[i].is_one() && f.q_p[i].is_one()) {
                return Err(Error::param(format!(
                    "{}: q_f and q_p must be 0/1 and not both set",
                    self.at(i)
                )));
            }
            let pos = f.q_f[i].is_one() || f.q_p[i].is_one();
            if pos && (i == n - 1 || !f.q_m[i].is_zero() || !f.q_o[i].is_zero()) {
                return Err(Error::param(format!(
                    "{}: a Poseidon row cannot be the last row or use q_m/q_o",
                    self.at(i)
                )));
            }
            if let Some(q_n) = &f.q_n {
                if !q_n[i].is_zero() && (pos || i == n - 1 || i < self.num_public) {
                    return Err(Error::param(format!(
                        "{}: q_n (the next row's c) cannot be set on a Poseidon row, the last row \
                         or a public-input row",
                        self.at(i)
                    )));
                }
            }
            if let Some(l) = &f.lookup {
                if !bit(&l[0][i]) {
                    return Err(Error::param(format!("{}: q_k must be 0 or 1", self.at(i))));
                }
            }
            if i < self.num_public {
                let ok = f.q_l[i].is_one()
                    && [&f.q_m, &f.q_r, &f.q_o, &f.q_c, &f.q_f, &f.q_p]
                        .iter()
                        .all(|c| c[i].is_zero())
                    && f.lookup.as_ref().is_none_or(|l| l[0][i].is_zero());
                if !ok {
                    return Err(Error::param(format!(
                        "row {i} is a public-input row: q_l = 1 and every other selector 0"
                    )));
                }
            }
        }
        if f.q_n
            .as_ref()
            .is_some_and(|q| q.iter().all(|x| x.is_zero()))
        {
            // Canonical encoding: a version-2 circuit is one that uses q_n.
            return Err(Error::param(
                "q_n is all zero: a circuit without q_n is version 1 (leave q_n out)",
            ));
        }
        if self.packed && (f.q_n.is_none() || f.lookup.is_none()) {
            return Err(Error::param(
                "a packed (version-3) circuit must use q_n and lookups (spec §8)",
            ));
        }
        if let Some(l) = &f.lookup {
            if l[3].iter().all(|t| t.is_zero()) {
                return Err(Error::param("a lookup circuit needs a non-empty table"));
            }
        }
        // One bit per cell (a hash set of 3n cells took ≈ 0.4 s at 2^20 rows).
        let mut seen = vec![false; 3 * n];
        for (i, class) in self.copies.iter().enumerate() {
            // §3: a class holds at least two cells (a one-cell class constrains nothing, and an
            // empty one has no representative to compare with).
            if class.len() < 2 {
                return Err(Error::param(format!(
                    "copy class {i} has {} cell(s); a class holds at least two",
                    class.len()
                )));
            }
            for &(col, row) in class {
                if col > 2 || row >= n {
                    return Err(Error::param(format!(
                        "copy constraint on cell ({col}, {row}) outside 3 wires x {n} rows"
                    )));
                }
                if std::mem::replace(&mut seen[col as usize * n + row], true) {
                    return Err(Error::param(format!(
                        "cell {}[{row}] is in two copy classes",
                        WIRES[col as usize]
                    )));
                }
            }
        }
        Ok(())
    }

    /// Check a witness against every gate, copy class and lookup; the error names the first
    /// failure, its row and the gadget that made the row.
    pub fn check_witness(&self, w: &[Vec<Fr>; 3]) -> Result<()> {
        self.check()?; // the fields are public: never index into an unchecked circuit
        let n = self.n();
        if w.iter().any(|col| col.len() != n) {
            return Err(Error::param(format!(
                "a witness has three columns of {n} values (got {}, {}, {})",
                w[0].len(),
                w[1].len(),
                w[2].len()
            )));
        }
        let f = &self.fixed;
        let zeros = vec![Fr::zero(); n];
        let selector = |s: Selector| self.selector(s).unwrap_or(&zeros);
        // Public-input rows read `a = x_i` (the PI term), which defines the inputs. The rows
        // are checked in parallel; the error is the first failing row's, as a serial scan's.
        let row_error = |i: usize| -> Option<Error> {
            let nx = (i + 1) % n;
            let at_row = |l: Leaf| match l {
                Leaf::Wire(k) => w[k][i],
                Leaf::Next(k) => w[k][nx],
                Leaf::QPos => f.q_f[i] + f.q_p[i],
            };
            // Each gate's value in constraint C_j, from the terms whose selector is set on this
            // row (most rows set one or two); a failure names the gates that do not vanish.
            let gate_value = |g: &Gate, j: usize| -> Fr {
                g.terms
                    .iter()
                    .filter(|t| !t.constraints[j].is_zero())
                    .filter(|t| !selector(t.selector)[i].is_zero())
                    .map(|t| selector(t.selector)[i] * t.constraints[j].eval(&at_row))
                    .sum()
            };
            for j in 0..3 {
                let value: Fr = gates().iter().map(|g| gate_value(g, j)).sum();
                if !value.is_zero() {
                    // "Poseidon round (q_P)": the gate and its terms that are set on the row.
                    let active: Vec<String> = gates()
                        .iter()
                        .filter(|g| !gate_value(g, j).is_zero())
                        .map(|g| {
                            let set: Vec<String> = g
                                .terms
                                .iter()
                                .filter(|t| !t.constraints[j].is_zero())
                                .filter(|t| !selector(t.selector)[i].is_zero())
                                .map(|t| format!("q_{}", &t.selector.name()[1..]))
                                .collect();
                            format!("{} ({})", g.name, set.join(", "))
                        })
                        .collect();
                    return Some(Error::Unsatisfied(format!(
                        "{}: {} constraint C{j} = {} ≠ 0 (a, b, c = {}, {}, {}; next row's {} = {})",
                        self.at(i),
                        active.join(" + "),
                        field::to_hex(&value),
                        field::to_hex(&w[0][i]),
                        field::to_hex(&w[1][i]),
                        field::to_hex(&w[2][i]),
                        WIRES[j],
                        field::to_hex(&w[j][nx]),
                    )));
                }
            }
            None
        };
        if let Some(e) = (self.num_public..n)
            .into_par_iter()
            .with_min_len(1 << 12)
            .find_map_first(row_error)
        {
            return Err(e);
        }
        for class in &self.copies {
            let (c0, r0) = class[0];
            let v0 = w[c0 as usize][r0];
            for &(col, row) in &class[1..] {
                if w[col as usize][row] != v0 {
                    return Err(Error::Unsatisfied(format!(
                        "copy constraint: {}[{row}] ({}) ≠ {}[{r0}] ({})",
                        WIRES[col as usize],
                        self.label_of(row),
                        WIRES[c0 as usize],
                        self.label_of(r0)
                    )));
                }
            }
        }
        if let Some(l) = &f.lookup {
            let table: HashSet<[Fr; 3]> = (0..n).map(|i| [l[1][i], l[2][i], l[3][i]]).collect();
            for i in 0..n {
                if l[0][i].is_one() && !table.contains(&[w[0][i], w[1][i], w[2][i]]) {
                    return Err(Error::Unsatisfied(format!(
                        "{}: lookup of (a, b, c) = ({}, {}, {}) is not in the table",
                        self.at(i),
                        field::to_hex(&w[0][i]),
                        field::to_hex(&w[1][i]),
                        field::to_hex(&w[2][i])
                    )));
                }
            }
        }
        Ok(())
    }

    /// `σ` as values `σ_col(ω^i)` (§2.2): within a class sorted by `col·n + row`, each cell maps
    /// to the identity of the next, the last to the first.
    pub fn sigmas(&self, omega: Fr) -> [Vec<Fr>; 3] {
        let n = self.n();
        let powers: Vec<Fr> = std::iter::successors(Some(Fr::one()), |x| Some(*x * omega))
            .take(n)
            .collect();
        let ks = shifts();
        let id = |(col, row): Cell| ks[col as usize] * powers[row];
        let mut s: [Vec<Fr>; 3] =
            std::array::from_fn(|col| powers.iter().map(|p| ks[col] * p).collect::<Vec<_>>());
        for class in &self.copies {
            let mut cells = class.clone();
            cells.sort_by_key(|&(col, row)| col as usize * n + row);
            for j in 0..cells.len() {
                let (col, row) = cells[j];
                s[col as usize][row] = id(cells[(j + 1) % cells.len()]);
            }
        }
        s
    }
}

/// The coset shifts `k_0, k_1, k_2 = 1, 5, 25`.
pub fn shifts() -> [Fr; 3] {
    [Fr::one(), Fr::from(5u64), Fr::from(25u64)]
}
