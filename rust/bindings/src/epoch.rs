//! Epoch proof-of-storage bindings (`circuits/src/epoch.rs`).

use crate::commitment::PyFileCommitment;
use crate::convert::{fr_from_py, frs_from_py, frs_to_py};
use crate::errors::{detached, run_detached, IntoPy};
use crate::plonk::{PyProof, PyProvingKey, PyVerifyingKey};
use crate::srs::PySrs;
use bigfile_circuits::epoch::{self, Catalogue, Files, Statement};
use bigfile_zk::commitment::{self, ChunkOpening, FileCommitment};
use bigfile_zk::error::{Error, Result};
use bigfile_zk::plonk;
use pyo3::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// `(tree root, K)` of the catalogue whose slots hold `leaves`.
#[pyfunction]
pub fn epoch_catalogue<'py>(
    py: Python<'py>,
    leaves: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let leaves = frs_from_py(leaves, "catalogue leaf")?;
    let cat = detached(py, || Catalogue::from_values(&leaves))?;
    frs_to_py(py, &[cat.root(), cat.commitment()])
}

/// The 16 siblings of `slot`'s path in the catalogue of `leaves`.
#[pyfunction]
pub fn epoch_catalogue_path<'py>(
    py: Python<'py>,
    leaves: &Bound<'py, PyAny>,
    slot: u64,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let leaves = frs_from_py(leaves, "catalogue leaf")?;
    let path = detached(py, || {
        let cat = Catalogue::from_values(&leaves)?;
        if slot >= cat.count() {
            return Err(Error::InvalidParameter(format!(
                "slot {slot} is not in a catalogue of {} slots",
                cat.count()
            )));
        }
        cat.siblings(slot)
    })?;
    frs_to_py(py, &path)
}

/// The `m` sampled slots for `(seed, prover)` in a catalogue of `count` slots.
#[pyfunction]
pub fn epoch_slots(
    py: Python<'_>,
    seed: &Bound<'_, PyAny>,
    prover: &Bound<'_, PyAny>,
    m: usize,
    count: u64,
) -> PyResult<Vec<u64>> {
    let (s, p) = (fr_from_py(seed, "seed")?, fr_from_py(prover, "prover")?);
    epoch::slots(s, p, m, count).py(py)
}

/// The `k` chunks challenged in sample `j`'s file of `num_chunks` chunks.
#[pyfunction]
pub fn epoch_chunk_challenges(
    py: Python<'_>,
    seed: &Bound<'_, PyAny>,
    prover: &Bound<'_, PyAny>,
    j: usize,
    k: usize,
    num_chunks: u64,
) -> PyResult<Vec<u64>> {
    let (s, p) = (fr_from_py(seed, "seed")?, fr_from_py(prover, "prover")?);
    epoch::chunk_challenges(s, p, j, k, num_chunks).py(py)
}

/// Keys of the epoch circuit for parameter set `(m, k)`.
#[pyfunction]
pub fn epoch_setup(
    py: Python<'_>,
    m: usize,
    k: usize,
    srs: &PySrs,
) -> PyResult<(PyProvingKey, PyVerifyingKey)> {
    let srs = &srs.0;
    let (pk, vk) = detached(py, || epoch::setup(m, k, srs))?;
    Ok((PyProvingKey(Arc::new(pk)), PyVerifyingKey(vk)))
}

/// Parameter set `(m, k)`'s proving key from a cache file (`ProvingKey.save_cache`), checked
/// against the epoch circuit and `srs` before it is returned.
#[pyfunction]
pub fn epoch_load_key(
    py: Python<'_>,
    path: PathBuf,
    m: usize,
    k: usize,
    srs: &PySrs,
) -> PyResult<PyProvingKey> {
    let srs = &srs.0;
    detached(py, || epoch::load_key(&path, m, k, srs)).map(|pk| PyProvingKey(Arc::new(pk)))
}

/// The provider's files by slot: the data's path, its commitment, its tree file (if any).
struct OnDisk(HashMap<u64, (PathBuf, FileCommitment, Option<PathBuf>)>);

impl Files for OnDisk {
    fn commitment(&mut self, slot: u64) -> Result<FileCommitment> {
        self.0.get(&slot).map(|f| f.1).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "slot {slot} is sampled but no file was given for it"
            ))
        })
    }

    fn open(
        &mut self,
        slot: u64,
        c: &FileCommitment,
        indices: &[u64],
    ) -> Result<Vec<ChunkOpening>> {
        let (path, _, tree) = &self.0[&slot];
        commitment::open_file_many(path, c, indices, tree.as_deref(), &mut |_| Ok(()))
    }
}

/// Prove the epoch statement `(K of leaves, seed, prover)` with parameter set `(m, k)`,
/// reading the sampled files' challenged chunks from `files` (slot → (path, commitment, tree
/// path or None)). Returns the proof with public inputs `[K, seed, prover]`.
#[pyfunction]
#[pyo3(signature = (pk, m, k, leaves, files, seed, prover, on_progress = None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python signature
pub fn epoch_prove(
    py: Python<'_>,
    pk: &PyProvingKey,
    m: usize,
    k: usize,
    leaves: &Bound<'_, PyAny>,
    files: HashMap<u64, (PathBuf, PyRef<'_, PyFileCommitment>, Option<PathBuf>)>,
    seed: &Bound<'_, PyAny>,
    prover: &Bound<'_, PyAny>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<PyProof> {
    let leaves = frs_from_py(leaves, "catalogue leaf")?;
    let (s, p) = (fr_from_py(seed, "seed")?, fr_from_py(prover, "prover")?);
    let mut files = OnDisk(
        files
            .into_iter()
            .map(|(slot, (path, c, tree))| (slot, (path, c.0, tree)))
            .collect(),
    );
    let pk = pk.0.clone();
    let blinding = plonk::random_blinding(&pk, &mut ark_std::rand::rngs::OsRng);
    let (proof, kc) = run_detached(py, on_progress, |report| {
        let cat = Catalogue::from_values(&leaves)?;
        epoch::check_params(m, k)?;
        let w = epoch::witness(&cat, s, p, m, k, &mut files)?;
        let st = Statement {
            catalogue: cat.commitment(),
            seed: s,
            prover: p,
        };
        Ok((
            epoch::prove(&pk, m, k, &st, &w, &blinding, report)?,
            st.catalogue,
        ))
    })?;
    Ok(PyProof::new(proof, vec![kc, s, p]))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(epoch_catalogue, m)?)?;
    m.add_function(wrap_pyfunction!(epoch_catalogue_path, m)?)?;
    m.add_function(wrap_pyfunction!(epoch_slots, m)?)?;
    m.add_function(wrap_pyfunction!(epoch_chunk_challenges, m)?)?;
    m.add_function(wrap_pyfunction!(epoch_setup, m)?)?;
    m.add_function(wrap_pyfunction!(epoch_load_key, m)?)?;
    m.add_function(wrap_pyfunction!(epoch_prove, m)?)?;
    Ok(())
}
