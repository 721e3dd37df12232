//! The gates as data (`docs/spec/plonk.md` §2.1): one table that the witness check, the
//! linearisation (prover and verifier) and the Solidity generator all read, so a gate is
//! written once.
//!
//! The gate relation is `C_0 + α·C_1 + α²·C_2` with `C_j = Σ_terms selector·E_j`: each term
//! names a fixed selector column and its contribution `E_j` to each of the three constraints,
//! an expression over the wires at this row and the next and `q_pos = q_F + q_P`. That is the
//! shape Maller's linearisation needs: the scalar of `[selector]` in the verifier's `D` is
//! `Σ_j α^j E_j` evaluated at ζ. The prover's quotient and the Solidity verifier run the
//! table compiled to straight-line code (`relation.rs`).
//!
//! Every gate vanishes on the domain by itself (the quotient splits by gate degree), so a
//! column that two gates share on different rows appears in both: `q_C` is the arithmetic
//! constant under `1 − q_pos` and the round constant under `q_pos`.

use crate::poseidon;
use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};
use std::sync::OnceLock;

/// The `t = 3` MDS matrix, row-major (`new[i] = Σ_j M[i][j]·s[j]`).
pub(crate) fn mds() -> [[Fr; 3]; 3] {
    let p = poseidon::params(3).expect("t = 3 is supported");
    std::array::from_fn(|i| std::array::from_fn(|j| p.mds[3 * i + j]))
}

/// The three Poseidon gate terms `P_j = Σ_k M[j][k]·s_k − next_j` for a full or partial round
/// (the closed form the table is tested against).
#[cfg(test)]
fn poseidon_terms(m: &[[Fr; 3]; 3], w: [Fr; 3], next: [Fr; 3], full: bool) -> [Fr; 3] {
    let pow5 = |x: Fr| x.square().square() * x;
    let s = if full {
        [pow5(w[0]), pow5(w[1]), pow5(w[2])]
    } else {
        [pow5(w[0]), w[1], w[2]]
    };
    std::array::from_fn(|j| m[j][0] * s[0] + m[j][1] * s[1] + m[j][2] * s[2] - next[j])
}

/// What an expression reads: at a row for the witness check, at ζ (ζω) for the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leaf {
    /// Wire `a`, `b`, `c` (0, 1, 2) at this row.
    Wire(usize),
    /// The wire at the next row.
    Next(usize),
    /// `q_pos = q_F + q_P` at this row (opened as one evaluation by the verifier).
    QPos,
}

/// An expression over [`Leaf`]s.
#[derive(Clone, Debug)]
pub enum Expr {
    Const(Fr),
    Leaf(Leaf),
    Neg(Box<Expr>),
    Sum(Vec<Expr>),
    Product(Vec<Expr>),
    /// `x^5`, the Poseidon S-box.
    Pow5(Box<Expr>),
}

impl Expr {
    fn zero() -> Expr {
        Expr::Const(Fr::zero())
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Expr::Const(c) if c.is_zero())
    }

    /// The value, with `leaf` giving each leaf's.
    pub fn eval(&self, leaf: &impl Fn(Leaf) -> Fr) -> Fr {
        match self {
            Expr::Const(c) => *c,
            Expr::Leaf(l) => leaf(*l),
            Expr::Neg(x) => -x.eval(leaf),
            Expr::Sum(xs) => xs.iter().map(|x| x.eval(leaf)).sum(),
            Expr::Product(xs) => xs.iter().map(|x| x.eval(leaf)).product(),
            Expr::Pow5(x) => {
                let v = x.eval(leaf);
                v.square().square() * v
            }
        }
    }
}

/// The selector columns of the gate relation, in verifying-key order (spec §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Selector {
    QM,
    QL,
    QR,
    QO,
    QC,
    QF,
    QP,
    /// `q_N`, the coefficient of the next row's `c` in the arithmetic gate (spec v2): a row can
    /// hand its result to the next row, so a dot product takes two terms per row.
    QN,
}

impl Selector {
    pub const ALL: [Selector; 8] = [
        Selector::QM,
        Selector::QL,
        Selector::QR,
        Selector::QO,
        Selector::QC,
        Selector::QF,
        Selector::QP,
        Selector::QN,
    ];

    /// The selectors of a version-1 key (no `q_N`).
    pub const V1: [Selector; 7] = [
        Selector::QM,
        Selector::QL,
        Selector::QR,
        Selector::QO,
        Selector::QC,
        Selector::QF,
        Selector::QP,
    ];

    /// Its index among the verifying key's selector commitments.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its spec name, as the Solidity verifier's constants spell it (`QM`, ...).
    pub fn name(self) -> &'static str {
        ["QM", "QL", "QR", "QO", "QC", "QF", "QP", "QN"][self.index()]
    }
}

/// `selector · E_j` in constraint `C_j`, `j = 0, 1, 2`.
#[derive(Clone, Debug)]
pub struct Term {
    pub selector: Selector,
    pub constraints: [Expr; 3],
}

/// A named gate: its terms.
#[derive(Clone, Debug)]
pub struct Gate {
    pub name: &'static str,
    pub terms: Vec<Term>,
}

fn leaf(l: Leaf) -> Expr {
    Expr::Leaf(l)
}

/// `Σ_k M[j][k]·s_k − w_j(ωX)` for the S-box outputs `s` (spec §2.1).
fn poseidon_constraints(full: bool) -> [Expr; 3] {
    let m = mds();
    let s: [Expr; 3] = std::array::from_fn(|k| {
        let w = leaf(Leaf::Wire(k));
        if full || k == 0 {
            Expr::Pow5(Box::new(w))
        } else {
            w
        }
    });
    std::array::from_fn(|j| {
        let mut sum: Vec<Expr> = (0..3)
            .map(|k| Expr::Product(vec![Expr::Const(m[j][k]), s[k].clone()]))
            .collect();
        sum.push(Expr::Neg(Box::new(leaf(Leaf::Next(j)))));
        Expr::Sum(sum)
    })
}

/// The gate table of spec §2.1.
pub fn gates() -> &'static [Gate] {
    static GATES: OnceLock<Vec<Gate>> = OnceLock::new();
    GATES.get_or_init(|| {
        let not_pos = || {
            Expr::Sum(vec![
                Expr::Const(Fr::one()),
                Expr::Neg(Box::new(leaf(Leaf::QPos))),
            ])
        };
        let arith = |leaves: &[Leaf]| {
            let mut f = vec![not_pos()];
            f.extend(leaves.iter().map(|l| leaf(*l)));
            [Expr::Product(f), Expr::zero(), Expr::zero()]
        };
        let (a, b, c) = (Leaf::Wire(0), Leaf::Wire(1), Leaf::Wire(2));
        vec![
            Gate {
                // Off Poseidon rows: q_M·a·b + q_L·a + q_R·b + q_O·c + q_N·c(ωX) + q_C = 0.
                name: "arithmetic",
                terms: vec![
                    Term {
                        selector: Selector::QM,
                        constraints: arith(&[a, b]),
                    },
                    Term {
                        selector: Selector::QL,
                        constraints: arith(&[a]),
                    },
                    Term {
                        selector: Selector::QR,
                        constraints: arith(&[b]),
                    },
                    Term {
                        selector: Selector::QO,
                        constraints: arith(&[c]),
                    },
                    Term {
                        selector: Selector::QN,
                        constraints: arith(&[Leaf::Next(2)]),
                    },
                    Term {
                        selector: Selector::QC,
                        constraints: arith(&[]),
                    },
                ],
            },
            Gate {
                // On Poseidon rows: the next row is the round's output, MDS·S-box(state) plus
                // the next round's constants, which q_C, q_L, q_R hold (for a, b, c). One gate,
                // so that it vanishes on its own (the quotient splits by gate, `relation.rs`).
                name: "Poseidon round",
                terms: vec![
                    Term {
                        selector: Selector::QF,
                        constraints: poseidon_constraints(true),
                    },
                    Term {
                        selector: Selector::QP,
                        constraints: poseidon_constraints(false),
                    },
                    Term {
                        selector: Selector::QC,
                        constraints: [leaf(Leaf::QPos), Expr::zero(), Expr::zero()],
                    },
                    Term {
                        selector: Selector::QL,
                        constraints: [Expr::zero(), leaf(Leaf::QPos), Expr::zero()],
                    },
                    Term {
                        selector: Selector::QR,
                        constraints: [Expr::zero(), Expr::zero(), leaf(Leaf::QPos)],
                    },
                ],
            },
        ]
    })
}

/// The scalar of `[selector]` in the linearisation: `Σ_j α^j E_j` at the opened values.
pub fn selector_scalars(alpha: Fr, leaf: &impl Fn(Leaf) -> Fr) -> [Fr; 8] {
    let alpha2 = alpha.square();
    let mut out = [Fr::zero(); 8];
    for gate in gates() {
        for term in &gate.terms {
            let [e0, e1, e2] = &term.constraints;
            out[term.selector.index()] +=
                e0.eval(leaf) + alpha * e1.eval(leaf) + alpha2 * e2.eval(leaf);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;

    /// The table is spec §2.1: against the closed forms (which the quotient also uses).
    #[test]
    fn table_matches_the_spec_formulas() {
        let mut rng = ark_std::test_rng();
        for _ in 0..8 {
            let w: [Fr; 3] = std::array::from_fn(|_| Fr::rand(&mut rng));
            let nx: [Fr; 3] = std::array::from_fn(|_| Fr::rand(&mut rng));
            let (qpos, alpha) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
            let leaf = |l: Leaf| match l {
                Leaf::Wire(i) => w[i],
                Leaf::Next(i) => nx[i],
                Leaf::QPos => qpos,
            };
            let s = selector_scalars(alpha, &leaf);
            let gate = Fr::one() - qpos;
            let a2 = alpha.square();
            let (pf, pp) = (
                poseidon_terms(&mds(), w, nx, true),
                poseidon_terms(&mds(), w, nx, false),
            );
            assert_eq!(s[0], gate * w[0] * w[1]);
            assert_eq!(s[1], gate * w[0] + alpha * qpos);
            assert_eq!(s[2], gate * w[1] + a2 * qpos);
            assert_eq!(s[3], gate * w[2]);
            assert_eq!(s[4], Fr::one());
            assert_eq!(s[5], pf[0] + alpha * pf[1] + a2 * pf[2]);
            assert_eq!(s[6], pp[0] + alpha * pp[1] + a2 * pp[2]);
            assert_eq!(s[7], gate * nx[2]);
        }
    }
}
