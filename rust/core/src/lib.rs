//! # bigfile_zk core
//!
//! Pure Rust (no Python inside): the proving layer of BigFile. This crate holds the primitives
//! every proof builds on:
//!
//! * [`field`]: BN254 scalar field elements and their canonical encodings;
//! * [`poseidon`]: circomlib-compatible Poseidon (1 to 16 inputs), optimised form;
//! * [`merkle`]: Poseidon Merkle trees of arity 2, 4, 8 and 16, proofs, multi-proofs and an
//!   append-only tree;
//! * [`commitment`]: streaming file commitments (`docs/spec/file-commitment.md`);
//! * [`msm`]: multi-scalar multiplication on G1;
//! * [`plonk`]: the PLONK proof system;
//! * [`srs`]: KZG structured reference strings (snarkjs `.ptau`, our own format, test SRS).
//!
//! The specs in `docs/spec/` are normative; the pure-Python reference
//! (`python/bigfile_zk/reference/`) implements them independently and the tests compare both.

pub mod commitment;
pub mod domain;
pub mod encoding;
pub mod error;
pub mod fft;
pub mod field;
pub mod field_simd;
pub mod files;
pub mod kzg;
pub mod merkle;
pub mod msm;
pub mod plonk;
pub mod poseidon;
pub mod progress;
pub mod srs;

pub use error::{Error, Result};
pub use field::Fr;
