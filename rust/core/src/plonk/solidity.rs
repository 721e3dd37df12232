//! The Solidity verifier of a verifying key (`docs/spec/solidity.md`): the readable template
//! `PlonkVerifier.template.sol` with the key's constants filled in. The template holds all
//! the logic; this file only substitutes `{{NAME}}` placeholders and keeps or drops the
//! `//#if LOOKUPS … //#else … //#endif` blocks.

use super::gates::mds;
use super::keys::VerifyingKey;
use super::proof::Proof;
use crate::encoding::{g1_to_bytes, g2_to_bytes};
use crate::error::{Error, Result};
use crate::field;
use ark_ff::{Field, One};
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

/// Keep the lines of the branch that applies; drop the directive lines themselves.
fn select_blocks(template: &str, lookups: bool) -> String {
    let mut out = String::with_capacity(template.len());
    // `None` outside a block, else whether the current branch is kept.
    let mut keep: Option<bool> = None;
    for line in template.lines() {
        match line.trim() {
            "//#if LOOKUPS" => {
                assert!(keep.is_none(), "nested //#if in the verifier template");
                keep = Some(lookups);
            }
            "//#else" => keep = Some(!keep.expect("//#else outside //#if")),
            "//#endif" => {
                assert!(keep.is_some(), "//#endif outside //#if");
                keep = None;
            }
            _ if keep != Some(false) => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    assert!(
        keep.is_none(),
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
        let m = mds();
        for (j, row) in m.iter().enumerate() {
            for (k, x) in row.iter().enumerate() {
                values.push((format!("M{j}{k}"), hex_fr(x)));
            }
        }
        let names = ["QM", "QL", "QR", "QO", "QC", "QF", "QP", "S1", "S2", "S3"];
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

        let mut out = select_blocks(TEMPLATE, self.lookup.is_some());
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

/// The Solidity signature of the verifier's entry point.
pub const VERIFY_SIGNATURE: &str = "verifyProof(bytes,uint256[])";

impl Proof {
    /// ABI-encoded call data of `verifyProof(proof, public)` (selector included), in the
    /// canonical layout of `docs/spec/solidity.md`: selector ‖ 0x40 ‖ offset of the inputs ‖
    /// proof length ‖ proof ‖ ℓ ‖ inputs (the proof is a multiple of 32 bytes, so no padding).
    pub fn to_calldata(&self, public: &[ark_bn254::Fr]) -> Vec<u8> {
        let proof = self.to_evm_bytes();
        let word = |v: usize| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&(v as u64).to_be_bytes());
            w
        };
        let mut out = Keccak256::digest(VERIFY_SIGNATURE.as_bytes())[..4].to_vec();
        out.extend(word(0x40));
        out.extend(word(0x60 + proof.len()));
        out.extend(word(proof.len()));
        out.extend(&proof);
        out.extend(word(public.len()));
        for x in public {
            out.extend(field::to_be_bytes(x));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_selected() {
        let t = "a\n  //#if LOOKUPS\nb\n  //#else\nc\n//#endif\nd\n";
        assert_eq!(select_blocks(t, true), "a\nb\nd\n");
        assert_eq!(select_blocks(t, false), "a\nc\nd\n");
        assert_eq!(select_blocks("//#if LOOKUPS\nx\n//#endif\n", false), "");
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
