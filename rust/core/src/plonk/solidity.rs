//! The Solidity verifier of a verifying key (`docs/spec/solidity.md`): the readable template
//! `PlonkVerifier.template.sol` with the key's constants filled in. The template holds the
//! protocol; this file substitutes `{{NAME}}` placeholders, keeps or drops the
//! `//#if LOOKUPS … //#else … //#endif` blocks, and prints the gate table's linearisation
//! scalars as Yul (`gateScalars`, from the program `relation.rs` compiles).

use super::gates::{Leaf, Selector};
use super::keys::VerifyingKey;
use super::proof::Proof;
use super::relation::{self, APoly, Atom, Op, Program, Val};
use crate::encoding::{g1_to_bytes, g2_to_bytes};
use crate::error::{Error, Result};
use crate::field;
use ark_ff::{Field, One, Zero};
use sha3::{Digest, Keccak256};

const TEMPLATE: &str = include_str!("PlonkVerifier.template.sol");

/// Solidity keywords and reserved words a contract cannot be named.
const RESERVED: &[&str] = &[
    "abstract",
    "address",
    "after",
    "alias",
    "anonymous",
    "apply",
    "as",
    "assembly",
    "auto",
    "bool",
    "break",
    "byte",
    "bytes",
    "calldata",
    "case",
    "catch",
    "constant",
    "constructor",
    "continue",
    "contract",
    "copyof",
    "default",
    "define",
    "delete",
    "do",
    "else",
    "emit",
    "enum",
    "error",
    "event",
    "external",
    "fallback",
    "false",
    "final",
    "for",
    "function",
    "if",
    "immutable",
    "implements",
    "import",
    "in",
    "indexed",
    "inline",
    "interface",
    "internal",
    "is",
    "let",
    "library",
    "macro",
    "mapping",
    "match",
    "memory",
    "modifier",
    "mutable",
    "new",
    "null",
    "of",
    "override",
    "partial",
    "payable",
    "pragma",
    "private",
    "promise",
    "public",
    "pure",
    "receive",
    "reference",
    "relocatable",
    "return",
    "returns",
    "revert",
    "sealed",
    "sizeof",
    "static",
    "storage",
    "string",
    "struct",
    "supports",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typedef",
    "typeof",
    "uint",
    "int",
    "unchecked",
    "using",
    "var",
    "view",
    "virtual",
    "while",
];

fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_start || !ok_rest || name.len() > 64 || RESERVED.contains(&name) {
        return Err(Error::param(format!(
            "contract name {name:?} is not a Solidity identifier (letters, digits, _; not a \
             keyword; at most 64 characters)"
        )));
    }
    Ok(())
}

fn word(b: &[u8]) -> String {
    super::keys::hex(b)
}

/// Keep the lines of the branch that applies (`//#if FLAG … //#else … //#endif`, flags
/// `LOOKUPS` and `V2`); drop the directive lines themselves.
fn select_blocks(template: &str, flags: &[(&str, bool)]) -> String {
    let mut out = String::with_capacity(template.len());
    // One entry per open `//#if`: whether its current branch is kept, given the blocks around.
    let mut stack: Vec<(bool, bool)> = Vec::new(); // (this branch's flag value, outer kept)
    let kept = |stack: &[(bool, bool)]| stack.last().is_none_or(|(on, outer)| *on && *outer);
    for line in template.lines() {
        let directive = line.trim();
        match directive {
            _ if directive.starts_with("//#if ") => {
                let flag = &directive["//#if ".len()..];
                let (_, on) = flags
                    .iter()
                    .find(|(name, _)| *name == flag)
                    .unwrap_or_else(|| panic!("unknown template flag {flag}"));
                let outer = kept(&stack);
                stack.push((*on, outer));
            }
            "//#else" => {
                let top = stack.last_mut().expect("//#else outside //#if");
                top.0 = !top.0;
            }
            "//#endif" => {
                stack.pop().expect("//#endif outside //#if");
            }
            _ if kept(&stack) => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    assert!(
        stack.is_empty(),
        "unterminated //#if in the verifier template"
    );
    out
}

impl VerifyingKey {
    /// A self-contained Solidity verifier for this key: contract `contract_name` with
    /// `verifyProof(bytes calldata proof, uint256[] calldata publicInputs) external view
    /// returns (bool)`.
    ///
    /// A key made with the insecure test SRS (τ public: anyone can forge proofs) is refused unless
    /// `allow_insecure_srs`; its contract then says so in `INSECURE_TEST_SRS` and its title.
    pub fn to_solidity(&self, contract_name: &str, allow_insecure_srs: bool) -> Result<String> {
        check_name(contract_name)?;
        let insecure = self.is_insecure();
        if insecure && !allow_insecure_srs {
            return Err(Error::InsecureSrs(
                "this verifying key was made with the insecure test SRS (its τ is public, so \
                 anyone can forge proofs the verifier accepts); use a ceremony SRS, or opt in \
                 explicitly for tests (allow_insecure_srs)"
                    .into(),
            ));
        }
        let hex_fr = |x: &ark_bn254::Fr| field::to_hex(x);
        let n = ark_bn254::Fr::from(self.n() as u64);
        let omega = self.omega();
        let mut values: Vec<(String, String)> = vec![
            ("CONTRACT_NAME".into(), contract_name.into()),
            ("INSECURE_TEST_SRS".into(), insecure.to_string()),
            ("VK_DIGEST".into(), word(&self.digest())),
            ("NUM_PUBLIC".into(), self.num_public.to_string()),
            ("LOG_N".into(), self.k.to_string()),
            ("N_INV".into(), hex_fr(&n.inverse().expect("n ≠ 0"))),
            ("OMEGA".into(), hex_fr(&omega)),
            ("OMEGA_INV".into(), hex_fr(&omega.inverse().expect("ω ≠ 0"))),
        ];
        debug_assert!(omega.pow([self.n() as u64]).is_one());
        values.push(("GATE_SCALARS".into(), gate_scalars_yul(self.version())));
        let names = [
            "QM", "QL", "QR", "QO", "QC", "QF", "QP", "QN", "S1", "S2", "S3",
        ];
        let points = self.selectors.iter().chain(&self.sigma);
        let lookup_names = ["QK", "T1", "T2", "T3"];
        let lookup_points = self.lookup.iter().flatten();
        for (name, p) in names
            .iter()
            .zip(points)
            .chain(lookup_names.iter().zip(lookup_points))
        {
            let b = g1_to_bytes(p);
            values.push((format!("{name}_X"), word(&b[..32])));
            values.push((format!("{name}_Y"), word(&b[32..])));
        }
        for (prefix, p) in [("G2", &self.g2[0]), ("TAU_G2", &self.g2[1])] {
            let b = g2_to_bytes(p);
            for (i, part) in ["X1", "X0", "Y1", "Y0"].iter().enumerate() {
                values.push((format!("{prefix}_{part}"), word(&b[32 * i..32 * (i + 1)])));
            }
        }

        let flags = [
            ("LOOKUPS", self.lookup.is_some()),
            ("V2", self.version() >= 2),
            ("PACKED", self.packed),
        ];
        let mut out = select_blocks(TEMPLATE, &flags);
        for (name, value) in &values {
            out = out.replace(&format!("{{{{{name}}}}}"), value);
        }
        assert!(
            !out.contains("{{"),
            "the verifier template has a placeholder without a value"
        );
        Ok(out)
    }
}

/// The memory slot of a selector's scalar in the template (`S_QM` …).
fn slot(s: Selector) -> String {
    format!("S_{}", s.name())
}

/// A field constant as a Yul literal: decimal when small, else 32-byte hex.
fn literal(c: &ark_bn254::Fr) -> String {
    let small = field::to_be_bytes(c)[..24].iter().all(|b| *b == 0);
    if small {
        let b = field::to_be_bytes(c);
        u64::from_be_bytes(b[24..].try_into().expect("8 bytes")).to_string()
    } else {
        field::to_hex(c)
    }
}

/// Yul for the selector scalars of the linearisation (`Σ_j α^j E_j` at ζ for every selector
/// of the gate table), the body of the template's `gateScalars(e)`.
///
/// Stack depth is what limits generated Yul (16 slots): a value used once is inlined, a value
/// used more than once (and every non-constant α-polynomial used more than once) is stored in
/// a memory slot at `M_GATE` and re-read, and chains are nested on the right (`addmod(y, x, R)`
/// for `x + y`), so an expression of `t` terms needs about `t` slots, and only `e` lives on the
/// stack. q_C's scalar must be the constant 1: the template's MSM starts at `[q_C]`.
fn gate_scalars_yul(version: u8) -> String {
    use std::collections::HashMap;
    // A version-1 key has no [q_N]: its scalar is neither computed nor stored.
    let wanted = |s: Selector| s != Selector::QC && (version >= 2 || s != Selector::QN);
    let forms: Vec<_> = Selector::ALL
        .iter()
        .map(|s| relation::selector_scalar(*s))
        .collect();
    let program = Program::new(&forms);
    let one = APoly::constant(ark_bn254::Fr::one());
    assert!(
        matches!(&program.outputs[Selector::QC.index()], Val::Coef(p) if *p == one),
        "the gate table gives q_C a scalar other than 1; the verifier template assumes 1"
    );
    // How often each register and each α-polynomial is read.
    let mut uses = vec![0usize; program.ops.len()];
    let mut poly_uses: HashMap<APoly, usize> = HashMap::new();
    {
        let mut count = |v: &Val| match v {
            Val::Reg(r) => uses[*r] += 1,
            Val::Coef(p) if p.as_constant().is_none() => {
                *poly_uses.entry(p.clone()).or_default() += 1
            }
            Val::Coef(_) => {}
        };
        for op in &program.ops {
            match op {
                Op::Load(_) => {}
                Op::Mul(x, y) | Op::Add(x, y) | Op::Sub(x, y) => {
                    count(x);
                    count(y);
                }
                Op::Neg(x) => count(x),
            }
        }
        for s in Selector::ALL.into_iter().filter(|s| wanted(*s)) {
            count(&program.outputs[s.index()]);
        }
    }
    let mut out = String::new();
    let mut slots = 0usize;
    let mut store = |expr: String, out: &mut String| -> String {
        let at = format!("add(M_GATE, {:#04x})", 32 * slots);
        slots += 1;
        out.push_str(&format!("                mstore({at}, {expr})\n"));
        format!("mload({at})")
    };
    let alpha = "mload(M_ALPHA)".to_string();
    let alpha2 = if poly_uses.keys().any(|p| p.0.len() > 2) {
        store(format!("mulmod({alpha}, {alpha}, R)"), &mut out)
    } else {
        String::new()
    };
    // An α-polynomial: ±α, ±α² or c·α^k (k ≤ 2) directly, else Horner.
    let poly = |p: &APoly| -> String {
        let nonzero: Vec<usize> = (0..p.0.len()).filter(|i| !p.0[*i].is_zero()).collect();
        if let [k @ 1..=2] = nonzero[..] {
            let (c, power) = (p.0[k], [&alpha, &alpha, &alpha2][k]);
            return if c.is_one() {
                power.to_string()
            } else if (-c).is_one() {
                format!("sub(R, {power})")
            } else {
                format!("mulmod({}, {power}, R)", literal(&c))
            };
        }
        p.0.iter().rev().fold(String::new(), |acc, c| {
            if acc.is_empty() {
                literal(c)
            } else {
                format!("addmod({}, mulmod({alpha}, {acc}, R), R)", literal(c))
            }
        })
    };
    let mut polys: HashMap<APoly, String> = HashMap::new();
    for (p, n) in &poly_uses {
        if *n > 1 {
            // Sorted below for a deterministic contract; stored on first emission.
            polys.insert(p.clone(), String::new());
        }
    }
    let mut shared: Vec<APoly> = polys.keys().cloned().collect();
    shared.sort();
    for p in shared {
        let at = store(poly(&p), &mut out);
        polys.insert(p, at);
    }
    let load = |l: Leaf| {
        let slot = match l {
            Leaf::Wire(k) => ["EV_A", "EV_B", "EV_C"][k],
            Leaf::Next(k) => ["EV_AW", "EV_BW", "EV_CW"][k],
            Leaf::QPos => "EV_QPOS",
        };
        format!("calldataload(add(e, {slot}))")
    };
    // Each register's Yul: its expression, or the `mload` of its slot.
    let mut code: Vec<String> = Vec::with_capacity(program.ops.len());
    for (r, op) in program.ops.iter().enumerate() {
        let val = |v: &Val| -> String {
            match v {
                Val::Reg(x) => code[*x].clone(),
                Val::Coef(p) => match p.as_constant() {
                    Some(c) => literal(&c),
                    None => polys.get(p).cloned().unwrap_or_else(|| poly(p)),
                },
            }
        };
        // Right-nested: the (possibly long) first operand goes last.
        let e = match op {
            Op::Load(Atom::Leaf(l)) => load(*l),
            Op::Load(Atom::Pow5(l)) => format!("pow5({})", load(*l)),
            Op::Load(Atom::Selector(_)) => unreachable!("selector scalars hold no selector atom"),
            Op::Mul(x, y) => format!("mulmod({}, {}, R)", val(y), val(x)),
            Op::Add(x, y) => format!("addmod({}, {}, R)", val(y), val(x)),
            Op::Sub(x, y) => format!("addmod(sub(R, {}), {}, R)", val(y), val(x)),
            Op::Neg(x) => format!("mod(sub(R, {}), R)", val(x)),
        };
        // Loads of leaves are cheaper to repeat than to store.
        let e = if uses[r] > 1 && !matches!(op, Op::Load(Atom::Leaf(_))) {
            store(e, &mut out)
        } else {
            e
        };
        code.push(e);
    }
    for s in Selector::ALL.into_iter().filter(|s| wanted(*s)) {
        let math = relation::factor(&forms[s.index()]);
        out.push_str(&format!("                // {} = {math}\n", slot(s)));
        let v = match &program.outputs[s.index()] {
            Val::Reg(x) => code[*x].clone(),
            Val::Coef(p) => polys.get(p).cloned().unwrap_or_else(|| poly(p)),
        };
        out.push_str(&format!("                mstore({}, {v})\n", slot(s)));
    }
    out.trim_end().to_string()
}

/// The Solidity signature of the verifier's entry point.
pub const VERIFY_SIGNATURE: &str = "verifyProof(bytes,uint256[])";

/// ABI-encoded call data of `verifyProof(proof, public)` (selector included), in the canonical
/// layout of `docs/spec/solidity.md`: selector ‖ 0x40 ‖ offset of the inputs ‖ proof length ‖
/// proof ‖ ℓ ‖ inputs (the proof is a multiple of 32 bytes, so no padding).
pub fn calldata(proof: &[u8], public: &[ark_bn254::Fr]) -> Vec<u8> {
    let word = |v: usize| {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&(v as u64).to_be_bytes());
        w
    };
    let mut out = Keccak256::digest(VERIFY_SIGNATURE.as_bytes())[..4].to_vec();
    out.extend(word(0x40));
    out.extend(word(0x60 + proof.len()));
    out.extend(word(proof.len()));
    out.extend(proof);
    out.extend(word(public.len()));
    for x in public {
        out.extend(field::to_be_bytes(x));
    }
    out
}

impl Proof {
    /// [`calldata`] of this proof.
    pub fn to_calldata(&self, public: &[ark_bn254::Fr]) -> Vec<u8> {
        calldata(&self.to_evm_bytes(), public)
    }
}

impl super::packed::AnyProof {
    /// [`calldata`] of this proof.
    pub fn to_calldata(&self, public: &[ark_bn254::Fr]) -> Vec<u8> {
        calldata(&self.to_evm_bytes(), public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated `gateScalars` body stores every selector's scalar but q_C's (1, the MSM's
    /// start) and keeps only `e` on the stack.
    #[test]
    fn gate_scalars_cover_every_selector() {
        for version in [1, 2] {
            let yul = gate_scalars_yul(version);
            for s in Selector::ALL {
                let stored = yul.contains(&format!("mstore({}, ", slot(s)));
                let want = s != Selector::QC && (version == 2 || s != Selector::QN);
                assert_eq!(stored, want, "v{version} {}", s.name());
            }
        }
        let yul = gate_scalars_yul(2);
        assert!(!yul.contains("let "), "{yul}");
        assert!(yul.contains("// S_QM = a·b·(1 − q_pos)"), "{yul}");
    }

    #[test]
    fn blocks_are_selected() {
        let t = "a\n  //#if LOOKUPS\nb\n  //#else\nc\n//#endif\nd\n";
        let on = [("LOOKUPS", true)];
        let off = [("LOOKUPS", false)];
        assert_eq!(select_blocks(t, &on), "a\nb\nd\n");
        assert_eq!(select_blocks(t, &off), "a\nc\nd\n");
        assert_eq!(select_blocks("//#if LOOKUPS\nx\n//#endif\n", &off), "");
        let nested = "//#if A\na\n//#if B\nab\n//#else\nanb\n//#endif\n//#else\nna\n//#if B\nnab\n//#endif\n//#endif\n";
        let f = |a, b| select_blocks(nested, &[("A", a), ("B", b)]);
        assert_eq!(f(true, true), "a\nab\n");
        assert_eq!(f(true, false), "a\nanb\n");
        assert_eq!(f(false, true), "na\nnab\n");
        assert_eq!(f(false, false), "na\n");
    }

    #[test]
    fn contract_names_are_identifiers() {
        for good in ["Verifier", "_V1", "MerkleVerifier_2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1V",
            "a-b",
            "contract",
            "Verifier;",
            "é",
            &"x".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
