//! Proof-of-storage bindings (`circuits/src/storage.rs`).

use super::plonk::{PyProof, PyProvingKey, PyVerifyingKey};
use super::{fr_from_py, run_detached, IntoPy, PyFileCommitment, PySrs};
use bigfile_circuits::storage;
use bigfile_zk::plonk;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// The challenged chunk indices for `(seed, prover)` in a file of `num_chunks` chunks.
#[pyfunction]
pub fn storage_challenges(
    py: Python<'_>,
    seed: &Bound<'_, PyAny>,
    prover: &Bound<'_, PyAny>,
    k: usize,
    num_chunks: u64,
) -> PyResult<Vec<u64>> {
    let (s, p) = (fr_from_py(seed, "seed")?, fr_from_py(prover, "prover")?);
    storage::challenges(s, p, k, num_chunks).py(py)
}

/// Keys of the storage circuit for `k` challenges.
#[pyfunction]
pub fn storage_setup(
    py: Python<'_>,
    k: usize,
    srs: &PySrs,
) -> PyResult<(PyProvingKey, PyVerifyingKey)> {
    let srs = &srs.0;
    let (pk, vk) = super::detached(py, || storage::setup(k, srs))?;
    Ok((PyProvingKey(Arc::new(pk)), PyVerifyingKey(vk)))
}

/// Raise unless `pk` is parameter set `k`'s proving key (e.g. one read from a cache).
#[pyfunction]
pub fn storage_check_key(py: Python<'_>, pk: &PyProvingKey, k: usize) -> PyResult<()> {
    let pk = pk.0.clone();
    super::detached(py, || storage::check_key(&pk, k))
}

/// Prove that the file at `path` matches `commitment` for this challenge.
#[pyfunction]
#[pyo3(signature = (pk, k, path, commitment, seed, prover, tree = None, on_progress = None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python signature
pub fn storage_prove(
    py: Python<'_>,
    pk: &PyProvingKey,
    k: usize,
    path: PathBuf,
    commitment: &PyFileCommitment,
    seed: &Bound<'_, PyAny>,
    prover: &Bound<'_, PyAny>,
    tree: Option<PathBuf>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<PyProof> {
    let (s, p) = (fr_from_py(seed, "seed")?, fr_from_py(prover, "prover")?);
    let c = commitment.0;
    let pk = pk.0.clone();
    let blinding = plonk::random_blinding(&pk, &mut ark_std::rand::rngs::OsRng);
    let proof = run_detached(py, on_progress, |report| {
        storage::prove_file(&pk, k, &path, &c, s, p, tree.as_deref(), &blinding, report)
    })?;
    Ok(PyProof::new(proof, vec![c.commitment, s, p]))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(storage_challenges, m)?)?;
    m.add_function(wrap_pyfunction!(storage_setup, m)?)?;
    m.add_function(wrap_pyfunction!(storage_prove, m)?)?;
    m.add_function(wrap_pyfunction!(storage_check_key, m)?)?;
    Ok(())
}
