//! File commitment bindings: commitments, chunk openings, committing and opening files.

use crate::convert::{fr_to_py, index_arg, json_arg, layout_arg};
use crate::errors::{detached, py_error, run_detached, IntoPy};
use crate::merkle::PyMerkleProof;
use bigfile_zk::commitment::{self, ChunkOpening, FileCommitment};
use bigfile_zk::field;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

#[pyclass(name = "ChunkOpening", module = "bigfile_zk", frozen, eq)]
#[derive(PartialEq)]
struct PyChunkOpening(ChunkOpening);

#[pymethods]
impl PyChunkOpening {
    /// An opening received from elsewhere (e.g. decoded from JSON by hand).
    #[new]
    fn new(
        py: Python<'_>,
        index: &Bound<'_, PyAny>,
        data: Vec<u8>,
        proof: &PyMerkleProof,
    ) -> PyResult<Self> {
        let index = index_arg(index, "index")?;
        if proof.0.index != index {
            return Err(py_error(
                py,
                "ParameterError",
                format!("the proof is for index {}, not {index}", proof.0.index),
            ));
        }
        Ok(PyChunkOpening(ChunkOpening {
            index,
            data,
            proof: proof.0.clone(),
        }))
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        ChunkOpening::from_json(&json_arg(text)?)
            .map(PyChunkOpening)
            .py(py)
    }
    #[getter]
    fn index(&self) -> u64 {
        self.0.index
    }
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.data)
    }
    #[getter]
    fn proof(&self) -> PyMerkleProof {
        PyMerkleProof(self.0.proof.clone())
    }
    fn verify(&self, commitment: &PyFileCommitment) -> bool {
        commitment.0.verify_opening(&self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "ChunkOpening(index={}, {} bytes)",
            self.0.index,
            self.0.data.len()
        )
    }
}

#[pyclass(name = "FileCommitment", module = "bigfile_zk", frozen, eq)]
#[derive(PartialEq)]
pub(crate) struct PyFileCommitment(pub(crate) FileCommitment);

#[pymethods]
impl PyFileCommitment {
    /// `H(root, meta)`: the value to register on chain and prove against.
    #[getter]
    fn commitment<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fr_to_py(py, &self.0.commitment)
    }
    /// Merkle root over the chunk leaves.
    #[getter]
    fn root<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fr_to_py(py, &self.0.root)
    }
    #[getter]
    fn file_size(&self) -> u64 {
        self.0.file_size
    }
    #[getter]
    fn chunk_size(&self) -> usize {
        self.0.layout.chunk_size
    }
    #[getter]
    fn arity(&self) -> usize {
        self.0.layout.arity
    }
    #[getter]
    fn spec_version(&self) -> u8 {
        self.0.spec_version
    }
    #[getter]
    fn num_chunks(&self) -> u64 {
        self.0.num_chunks()
    }
    #[getter]
    fn depth(&self) -> u32 {
        self.0.depth()
    }
    fn chunk_len(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<usize> {
        self.0.chunk_len(index_arg(index, "index")?).py(py)
    }
    fn verify(&self, opening: &PyChunkOpening) -> bool {
        self.0.verify_opening(&opening.0)
    }
    /// Chunk `index` of the file at `path` with its proof (see `bigfile_zk.open_file`).
    #[pyo3(signature = (path, index, *, tree = None, progress = None))]
    fn open<'py>(
        slf: Bound<'py, Self>,
        path: Bound<'py, PyAny>,
        index: Bound<'py, PyAny>,
        tree: Option<Bound<'py, PyAny>>,
        progress: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("tree", tree)?;
        kwargs.set_item("progress", progress)?;
        py.import("bigfile_zk._api")?
            .getattr("open_file")?
            .call((path, slf, index), Some(&kwargs))
    }
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_bytes())
    }
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        FileCommitment::from_bytes(data)
            .map(PyFileCommitment)
            .py(py)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        FileCommitment::from_json(&json_arg(text)?)
            .map(PyFileCommitment)
            .py(py)
    }
    fn __hash__(&self) -> u64 {
        field::to_limbs(&self.0.commitment)[0]
    }
    fn __repr__(&self) -> String {
        format!(
            "FileCommitment(commitment={}, file_size={}, chunk_size={}, arity={}, num_chunks={}, depth={})",
            field::to_hex(&self.0.commitment),
            self.0.file_size,
            self.0.layout.chunk_size,
            self.0.layout.arity,
            self.0.num_chunks(),
            self.0.depth()
        )
    }
}

/// Streamed commitment to the file at `path`; `on_progress(bytes_done)` is called per block.
#[pyfunction]
/// With `tree`, also writes the tree's upper levels there (atomically) for fast openings.
#[pyo3(signature = (path, chunk_size = None, arity = None, on_progress = None, tree = None))]
fn commit_file(
    py: Python<'_>,
    path: PathBuf,
    chunk_size: Option<&Bound<'_, PyAny>>,
    arity: Option<&Bound<'_, PyAny>>,
    on_progress: Option<Py<PyAny>>,
    tree: Option<PathBuf>,
) -> PyResult<PyFileCommitment> {
    let layout = layout_arg(py, chunk_size, arity)?;
    run_detached(py, on_progress, |progress| {
        commitment::commit_file(&path, layout, tree.as_deref(), progress)
    })
    .map(PyFileCommitment)
}

/// Commitment to bytes in memory.
#[pyfunction]
#[pyo3(signature = (data, chunk_size = None, arity = None))]
fn commit_bytes(
    py: Python<'_>,
    data: Vec<u8>,
    chunk_size: Option<&Bound<'_, PyAny>>,
    arity: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyFileCommitment> {
    let layout = layout_arg(py, chunk_size, arity)?;
    detached(py, || commitment::commit_bytes(&data, layout)).map(PyFileCommitment)
}

/// Open chunk `index` of the file at `path` against `commitment`.
#[pyfunction]
/// With `tree` (written by `commit_file`), reads only the chunks near `index`.
#[pyo3(signature = (path, commitment, index, on_progress = None, tree = None))]
fn open_file(
    py: Python<'_>,
    path: PathBuf,
    commitment: &PyFileCommitment,
    index: &Bound<'_, PyAny>,
    on_progress: Option<Py<PyAny>>,
    tree: Option<PathBuf>,
) -> PyResult<PyChunkOpening> {
    let index = index_arg(index, "index")?;
    let c = commitment.0;
    run_detached(py, on_progress, |progress| {
        commitment::open_file(&path, &c, index, tree.as_deref(), progress)
    })
    .map(PyChunkOpening)
}

/// The leaf of one chunk (`data` without padding, at most `chunk_size` bytes).
#[pyfunction]
#[pyo3(signature = (data, chunk_size = None))]
fn leaf_hash<'py>(
    py: Python<'py>,
    data: &[u8],
    chunk_size: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let chunk_size = layout_arg(py, chunk_size, None)?.chunk_size;
    if data.len() > chunk_size {
        return Err(py_error(
            py,
            "ParameterError",
            format!("a chunk has at most {chunk_size} bytes, got {}", data.len()),
        ));
    }
    fr_to_py(py, &commitment::leaf_hash_unpadded(data, chunk_size))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("LEAF_IV", fr_to_py(py, &commitment::leaf_iv())?)?;
    m.add("DEFAULT_CHUNK_SIZE", commitment::DEFAULT_CHUNK_SIZE)?;
    m.add("DEFAULT_ARITY", commitment::DEFAULT_ARITY)?;
    m.add("SPEC_VERSION", commitment::SPEC_VERSION)?;
    m.add("MAX_CHUNKS", commitment::MAX_CHUNKS)?;
    m.add_function(wrap_pyfunction!(commit_file, m)?)?;
    m.add_function(wrap_pyfunction!(commit_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(open_file, m)?)?;
    m.add_function(wrap_pyfunction!(leaf_hash, m)?)?;
    m.add_class::<PyFileCommitment>()?;
    m.add_class::<PyChunkOpening>()?;
    Ok(())
}
