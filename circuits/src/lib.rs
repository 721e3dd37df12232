//! Circuits on the bigfile_zk PLONK builder, kept apart from the proof system (`rust/`).
//!
//! * [`storage`]: proof-of-storage — challenged chunks of a committed file
//!   (`docs/spec/proof-of-storage.md`).
//! * [`catalogue`]: a storage provider's catalogue of files and the circuit that updates it
//!   (`docs/spec/storage-catalogue.md`).
//! * [`epoch`]: epoch proof-of-storage — one proof over a provider's catalogue of files, sampled
//!   files and chunks (`docs/spec/proof-of-storage-epoch.md`).
//! * [`compute`]: proof-of-compute — a quantized model's integer program on a committed input
//!   (`docs/spec/proof-of-compute.md`, `docs/spec/quantization.md`).

pub mod catalogue;
pub mod compute;
pub mod epoch;
pub mod storage;
