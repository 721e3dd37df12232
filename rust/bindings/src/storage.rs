//! Proof-of-storage bindings (`circuits/src/storage.rs`).

use crate::commitment::PyFileCommitment;
use crate::convert::fr_from_py;
use crate::errors::{detached, run_detached, IntoPy};
use crate::plonk::{PyProof, PyProvingKey, PyVerifyingKey};
use crate::srs::PySrs;
use bigfile_circuits::storage::{self, FileInput};
use bigfile_zk::commitment::Source;
use bigfile_zk::plonk;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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
    let (pk, vk) = detached(py, || storage::setup(k, srs))?;
    Ok((PyProvingKey(Arc::new(pk)), PyVerifyingKey(vk)))
}

/// Raise unless `pk` is parameter set `k`'s proving key for `srs` (e.g. one read from a cache).
#[pyfunction]
pub fn storage_check_key(py: Python<'_>, pk: &PyProvingKey, k: usize, srs: &PySrs) -> PyResult<()> {
    let pk = pk.0.clone();
    let srs = &srs.0;
    detached(py, || storage::check_key(&pk, k, srs))
}

/// Parameter set `k`'s proving key from a cache file (`ProvingKey.save_cache`), checked against
/// the storage circuit and `srs` before it is returned.
#[pyfunction]
pub fn storage_load_key(
    py: Python<'_>,
    path: PathBuf,
    k: usize,
    srs: &PySrs,
) -> PyResult<PyProvingKey> {
    let srs = &srs.0;
    detached(py, || storage::load_key(&path, k, srs)).map(|pk| PyProvingKey(Arc::new(pk)))
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
    let input = FileInput::Path(&path);
    prove_input(
        py,
        pk,
        k,
        input,
        commitment,
        seed,
        prover,
        tree,
        on_progress,
    )
}

/// The statement's public inputs, fresh blinding, and the proof, without the GIL.
#[allow(clippy::too_many_arguments)] // shared body of the two entry points
fn prove_input(
    py: Python<'_>,
    pk: &PyProvingKey,
    k: usize,
    input: FileInput<'_>,
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
        storage::prove(&pk, k, input, &c, s, p, tree.as_deref(), &blinding, report)
    })?;
    Ok(PyProof::new(proof, vec![c.commitment, s, p]))
}

/// A Python binary reader (`seek(offset)` and `read(n)`: an open file, `io.BytesIO`, a
/// network-backed object) as a [`Source`]. The first Python exception it raises is kept and
/// re-raised once the work stops.
struct PyReader {
    obj: Py<PyAny>,
    failed: Mutex<Option<PyErr>>,
    busy: Mutex<()>, // seek + read must not interleave (the reader may release the GIL)
}

impl PyReader {
    fn read_into(&self, py: Python<'_>, buf: &mut [u8], offset: u64) -> PyResult<bool> {
        self.obj.call_method1(py, "seek", (offset,))?;
        let mut filled = 0;
        while filled < buf.len() {
            let data = self.obj.call_method1(py, "read", (buf.len() - filled,))?;
            let data = data.bind(py);
            let bytes = data.cast::<PyBytes>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "reader.read() must return bytes, not {}",
                    data.get_type().name().map_or("?".into(), |n| n.to_string())
                ))
            })?;
            let chunk = bytes.as_bytes();
            if chunk.is_empty() {
                return Ok(false); // end of data
            }
            let n = chunk.len().min(buf.len() - filled);
            buf[filled..filled + n].copy_from_slice(&chunk[..n]);
            filled += n;
        }
        Ok(true)
    }
}

impl Source for PyReader {
    fn read_range(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let _one_at_a_time = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        Python::attach(|py| match self.read_into(py, buf, offset) {
            Ok(true) => Ok(()),
            Ok(false) => Err(std::io::ErrorKind::UnexpectedEof.into()),
            Err(e) => {
                let msg = e.to_string();
                let mut slot = self.failed.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
                Err(std::io::Error::other(format!("the reader raised {msg}")))
            }
        })
    }
}

/// [`storage_prove`] reading the file from a Python reader (`seek`/`read`) named `name`.
#[pyfunction]
#[pyo3(signature = (pk, k, reader, name, commitment, seed, prover, tree = None, on_progress = None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python signature
pub fn storage_prove_reader(
    py: Python<'_>,
    pk: &PyProvingKey,
    k: usize,
    reader: Py<PyAny>,
    name: String,
    commitment: &PyFileCommitment,
    seed: &Bound<'_, PyAny>,
    prover: &Bound<'_, PyAny>,
    tree: Option<PathBuf>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<PyProof> {
    let src = PyReader {
        obj: reader,
        failed: Mutex::new(None),
        busy: Mutex::new(()),
    };
    let name = PathBuf::from(name);
    let input = FileInput::Source(&src, &name);
    let proof = prove_input(
        py,
        pk,
        k,
        input,
        commitment,
        seed,
        prover,
        tree,
        on_progress,
    );
    // The reader's own exception (e.g. a lost connection) beats the I/O error it caused.
    if let Some(e) = src.failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    proof
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(storage_challenges, m)?)?;
    m.add_function(wrap_pyfunction!(storage_setup, m)?)?;
    m.add_function(wrap_pyfunction!(storage_prove, m)?)?;
    m.add_function(wrap_pyfunction!(storage_check_key, m)?)?;
    m.add_function(wrap_pyfunction!(storage_load_key, m)?)?;
    m.add_function(wrap_pyfunction!(storage_prove_reader, m)?)?;
    Ok(())
}
