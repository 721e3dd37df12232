//! Circuits on the bigfile_zk PLONK builder, kept apart from the proof system (`rust/`).
//!
//! * [`storage`]: proof-of-storage — challenged chunks of a committed file
//!   (`docs/spec/proof-of-storage.md`).

pub mod storage;
