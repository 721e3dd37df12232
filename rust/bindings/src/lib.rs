//! `bigfile_zk._native`: thin PyO3 bindings over the `bigfile-zk` core.
//!
//! This crate converts and nothing else: Python ints / numpy arrays / bytes in, core calls with
//! the GIL released, typed exceptions out (`bigfile_zk.errors`). Long calls report progress
//! through a callback and poll for Ctrl-C between blocks; panics are caught and turned into
//! `InternalError` so they never unwind into Python.
//!
//! One module per core concern: `errors` (exceptions, releasing the GIL) and `convert` (Python ↔
//! Rust values) serve the rest, each of which registers its own classes, functions and constants.

use pyo3::prelude::*;

mod catalogue;
mod commitment;
mod compute;
mod convert;
mod epoch;
mod errors;
mod kzg;
mod merkle;
mod msm;
mod plonk;
mod poseidon;
mod srs;
mod storage;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    convert::register(m)?;
    poseidon::register(m)?;
    merkle::register(m)?;
    commitment::register(m)?;
    srs::register(m)?;
    kzg::register(m)?;
    plonk::register(m)?;
    storage::register(m)?;
    catalogue::register(m)?;
    epoch::register(m)?;
    compute::register(m)?;
    msm::register(m)?;
    Ok(())
}
