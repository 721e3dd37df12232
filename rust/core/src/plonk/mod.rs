//! PLONK over BN254 with KZG (`docs/spec/plonk.md`): 3 wires, a circomlib-Poseidon round gate,
//! log-derivative lookups, Maller's linearisation, one two-pairing check.
//!
//! * [`builder`]: variables, gates and gadgets (Poseidon, Merkle paths, ranges, …);
//! * [`gates`]: the gate relation as a table; [`relation`]: the table compiled (normal form,
//!   factoring, straight-line code) for the quotient and the Solidity verifier;
//! * [`circuit`]: the fixed columns, copy classes, and the witness check;
//! * [`keys`]: setup (keys from the circuit's shape alone) and key encodings;
//! * [`prover`] / [`verifier`]; [`proof`]: the proof, its encodings, the shared linearisation;
//! * [`transcript`]: the keccak-256 Fiat–Shamir transcript;
//! * [`solidity`]: the Solidity verifier of a verifying key (a filled-in template).

pub mod builder;
pub mod circuit;
pub mod column;
pub mod gates;
pub mod key_cache;
pub mod keys;
pub mod packed;
pub mod proof;
pub mod prover;
pub mod relation;
pub mod solidity;
pub mod transcript;
pub mod verifier;

pub use builder::{Builder, TableId, Var};
pub use circuit::{Circuit, Fixed};
pub use gates::Selector;
pub use keys::{setup, ProvingKey, VerifyingKey};
pub use packed::AnyProof;
pub use proof::Proof;
pub use prover::{
    prove, prove_any, prove_any_with_progress, prove_with_blinding, prove_with_progress,
    random_blinding, PROVE_STEPS,
};
pub use verifier::{verify, verify_any};
