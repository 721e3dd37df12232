//! `bigfile_zk._native`: thin PyO3 bindings over the `bigfile-zk` core.
//!
//! This crate converts and nothing else: Python ints / numpy arrays / bytes in, core calls with
//! the GIL released, typed exceptions out (`bigfile_zk.errors`). Long calls report progress
//! through a callback and poll for Ctrl-C between blocks; panics are caught and turned into
//! `InternalError` so they never unwind into Python.

use bigfile_zk::commitment::{self, ChunkOpening, FileCommitment, Layout};
use bigfile_zk::merkle::{self, IncrementalMerkleTree, MerkleMultiProof, MerkleProof, MerkleTree};
use bigfile_zk::msm;
use bigfile_zk::srs::Srs;
use bigfile_zk::{encoding, kzg};
use bigfile_zk::{field, poseidon, Error, Fr};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyInt, PyString};
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

mod plonk;
mod storage;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

fn py_error(py: Python<'_>, class: &str, msg: String) -> PyErr {
    match py
        .import("bigfile_zk.errors")
        .and_then(|m| m.getattr(class))
    {
        Ok(cls) => match cls.call1((msg.clone(),)) {
            Ok(inst) => PyErr::from_value(inst),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::NonCanonical { .. } => py_error(py, "FieldElementError", msg),
        Error::InvalidParameter(_) => py_error(py, "ParameterError", msg),
        Error::IndexOutOfRange { .. } => py_error(py, "IndexOutOfRangeError", msg),
        Error::Decode { .. } => py_error(py, "DecodeError", msg),
        Error::FileChanged { .. } => py_error(py, "FileChangedError", msg),
        Error::NotRegularFile { .. } => py_error(py, "NotARegularFileError", msg),
        Error::CommitmentMismatch(_) => py_error(py, "CommitmentMismatchError", msg),
        Error::Unsatisfied(_) => py_error(py, "UnsatisfiedError", msg),
        Error::InsecureSrs(_) => py_error(py, "InsecureSRSError", msg),
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        // OSError(errno, strerror, filename) picks the subclass (FileNotFoundError, ...) itself.
        Error::Io { path, source } => match source.raw_os_error() {
            Some(errno) => {
                let strerror = std::io::Error::from_raw_os_error(errno).to_string();
                let strerror = strerror
                    .split(" (os error")
                    .next()
                    .unwrap_or("")
                    .to_string();
                PyOSError::new_err((errno, strerror, path))
            }
            None => PyOSError::new_err(msg),
        },
    }
}

trait IntoPy<T> {
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, e))
    }
}

/// Run `work` without the GIL. It gets a progress callback that re-attaches to call
/// `on_progress(bytes_done)` and to poll for Ctrl-C; a Python exception raised there stops the
/// work and is re-raised. A panic becomes `InternalError`.
fn run_detached<T: Send>(
    py: Python<'_>,
    on_progress: Option<Py<PyAny>>,
    work: impl FnOnce(commitment::Progress) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let mut pending: Option<PyErr> = None;
    let outcome = py.detach(|| {
        let mut report = |done: u64| -> Result<(), Error> {
            Python::attach(|py| {
                let res = py.check_signals().and_then(|_| match &on_progress {
                    Some(cb) => cb.call1(py, (done,)).map(|_| ()),
                    None => Ok(()),
                });
                res.map_err(|e| {
                    pending = Some(e);
                    Error::Interrupted
                })
            })
        };
        catch_unwind(AssertUnwindSafe(|| work(&mut report)))
    });
    // MSM backend fallbacks queued by the work (or earlier) become Python warnings.
    let warned = surface_msm_warnings(py);
    if outcome.as_ref().is_ok_and(|r| r.is_ok()) {
        warned?;
    }
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(pending.take().unwrap_or_else(|| to_py_err(py, e))),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(py_error(
                py,
                "InternalError",
                format!("bigfile_zk internal error (please report it): {what}"),
            ))
        }
    }
}

/// Each queued MSM backend fallback (`bigfile_zk::msm::take_warnings`) as a
/// `bigfile_zk.errors.BackendFallbackWarning`, attributed to the caller.
fn surface_msm_warnings(py: Python<'_>) -> PyResult<()> {
    let warnings = msm::take_warnings();
    if warnings.is_empty() {
        return Ok(());
    }
    let category = py
        .import("bigfile_zk.errors")?
        .getattr("BackendFallbackWarning")?;
    for w in warnings {
        let msg = CString::new(w.replace('\0', " ")).expect("NULs replaced");
        PyErr::warn(py, &category, &msg, 1)?;
    }
    Ok(())
}

/// `run_detached` for work without progress.
fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    run_detached(py, None, |_| work())
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

/// A `str` argument as Rust text. A `str` that is not valid Unicode (a lone surrogate such as
/// `"\ud800"`, which JSON's `\ud800` escape produces) raises `class` (a `bigfile_zk.errors`
/// name) instead of a bare `UnicodeEncodeError`; a non-`str` raises `TypeError`.
fn text_arg(obj: &Bound<'_, PyAny>, what: &str, class: &str) -> PyResult<String> {
    if !obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a str, not {}",
            obj.get_type().name()?
        )));
    }
    obj.extract::<String>().map_err(|_| {
        py_error(
            obj.py(),
            class,
            format!("{what} is not valid Unicode text (it holds a lone surrogate)"),
        )
    })
}

/// JSON text (see [`text_arg`]); malformed text is a `DecodeError`.
fn json_arg(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    text_arg(obj, "the JSON text", "DecodeError")
}

fn fr_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Fr> {
    let py = obj.py();
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int (a field element), not {}",
            obj.get_type().name()?
        )));
    }
    if let Ok(small) = obj.extract::<u64>() {
        return Ok(Fr::from(small));
    }
    let bad = || {
        py_error(
            py,
            "FieldElementError",
            format!(
                "{what} = {} is not a canonical BN254 scalar field element (it must satisfy 0 <= x < r)",
                obj.repr().map(|r| r.to_string()).unwrap_or_default()
            ),
        )
    };
    if obj.lt(0)? {
        return Err(bad());
    }
    let bytes = obj
        .call_method1("to_bytes", (32, "big"))
        .map_err(|_| bad())?;
    let bytes: [u8; 32] = bytes.extract().map_err(|_| bad())?;
    field::from_be_bytes(&bytes, what).map_err(|_| bad())
}

/// An int argument (not a bool); `what` names it in errors.
fn int_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i128> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {}",
            obj.get_type().name()?
        )));
    }
    obj.extract::<i128>().map_err(|_| {
        py_error(
            obj.py(),
            "ParameterError",
            format!("{what} = {obj} is out of range"),
        )
    })
}

/// A leaf or chunk index: a non-negative int.
fn index_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let v = int_arg(obj, what)?;
    u64::try_from(v).map_err(|_| {
        let why = if v < 0 {
            "indices are non-negative"
        } else {
            "indices are below 2^64"
        };
        py_error(
            obj.py(),
            "IndexOutOfRangeError",
            format!("{what} {v} is out of range ({why})"),
        )
    })
}

/// A size-like parameter (arity, chunk size): a non-negative int; `default` when omitted.
fn size_arg(obj: Option<&Bound<'_, PyAny>>, what: &str, default: usize) -> PyResult<usize> {
    let Some(obj) = obj else { return Ok(default) };
    let v = int_arg(obj, what)?;
    usize::try_from(v).map_err(|_| {
        py_error(
            obj.py(),
            "ParameterError",
            format!("{what} {v} is not supported: it must be a positive int"),
        )
    })
}

/// A file layout from optional `chunk_size` / `arity` arguments.
fn layout_arg(
    py: Python<'_>,
    chunk_size: Option<&Bound<'_, PyAny>>,
    arity: Option<&Bound<'_, PyAny>>,
) -> PyResult<Layout> {
    let cs = size_arg(chunk_size, "chunk_size", commitment::DEFAULT_CHUNK_SIZE)?;
    let a = size_arg(arity, "arity", commitment::DEFAULT_ARITY)?;
    Layout::new(cs, a).py(py)
}

fn indices_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    obj.try_iter()?
        .enumerate()
        .map(|(i, x)| index_arg(&x?, &format!("indices[{i}]")))
        .collect()
}

fn fr_to_py<'py>(py: Python<'py>, x: &Fr) -> PyResult<Bound<'py, PyAny>> {
    let limbs = field::to_limbs(x);
    if limbs[1..] == [0, 0, 0] {
        return Ok(limbs[0].into_pyobject(py)?.into_any());
    }
    py.get_type::<PyInt>().call_method1(
        "from_bytes",
        (PyBytes::new(py, &field::to_be_bytes(x)), "big"),
    )
}

fn frs_to_py<'py>(py: Python<'py>, xs: &[Fr]) -> PyResult<Vec<Bound<'py, PyAny>>> {
    xs.iter().map(|x| fr_to_py(py, x)).collect()
}

/// Field elements from a sequence of ints, or from a `uint64` array whose last axis holds 4
/// little-endian limbs (any leading shape; flattened in C order).
fn frs_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Fr>> {
    if let Ok(arr) = obj.extract::<PyReadonlyArrayDyn<'_, u64>>() {
        // A 1-D array of 4 uint64 would otherwise pass as one element: limb arrays are 2-D+.
        if arr.ndim() < 2 {
            return Err(py_error(
                obj.py(),
                "ParameterError",
                format!(
                    "{what}: a uint64 limb array must have shape (n, 4) (got {:?}); pass ints as a \
                     list",
                    arr.shape()
                ),
            ));
        }
        return frs_from_limbs(obj.py(), &arr, what);
    }
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a sequence of ints or a uint64 array of shape (..., 4)"
        )));
    }
    obj.try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be a sequence of ints or a uint64 array of shape (..., 4)"
            ))
        })?
        .enumerate()
        .map(|(i, item)| fr_from_py(&item?, &format!("{what}[{i}]")))
        .collect()
}

fn frs_from_limbs(
    py: Python<'_>,
    arr: &PyReadonlyArrayDyn<'_, u64>,
    what: &str,
) -> PyResult<Vec<Fr>> {
    let shape = arr.shape();
    if shape.last() != Some(&4) {
        return Err(py_error(
            py,
            "ParameterError",
            format!("{what}: a uint64 array must have a last axis of 4 limbs, got shape {shape:?}"),
        ));
    }
    let view = arr.as_array();
    let flat: Vec<u64> = view.iter().copied().collect();
    flat.chunks_exact(4)
        .enumerate()
        .map(|(i, l)| {
            field::from_limbs(
                l.try_into().expect("4 limbs"),
                &format!("{what} element {i}"),
            )
        })
        .collect::<Result<_, _>>()
        .py(py)
}

fn limbs_array<'py>(py: Python<'py>, xs: &[Fr]) -> PyResult<Bound<'py, PyAny>> {
    let flat: Vec<u64> = xs.iter().flat_map(field::to_limbs).collect();
    Ok(PyArray1::from_vec(py, flat)
        .reshape([xs.len(), 4])?
        .into_any())
}

// ---------------------------------------------------------------------------------------------
// Poseidon
// ---------------------------------------------------------------------------------------------

/// circomlib Poseidon of 1 to 16 field elements.
#[pyfunction]
fn poseidon_hash<'py>(py: Python<'py>, inputs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let xs = frs_from_py(inputs, "inputs")?;
    let h = poseidon::hash(&xs).py(py)?;
    fr_to_py(py, &h)
}

/// The Poseidon permutation of a state of width 2 to 17.
#[pyfunction]
fn poseidon_permute<'py>(
    py: Python<'py>,
    state: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let mut xs = frs_from_py(state, "state")?;
    poseidon::permute(&mut xs).py(py)?;
    frs_to_py(py, &xs)
}

/// Many hashes at once: `inputs` is uint64 `(n, arity, 4)`; returns uint64 `(n, 4)`.
#[pyfunction]
fn poseidon_batch<'py>(
    py: Python<'py>,
    inputs: PyReadonlyArrayDyn<'py, u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = inputs.shape().to_vec();
    if shape.len() != 3 || shape[2] != 4 {
        return Err(py_error(
            py,
            "ParameterError",
            format!("poseidon_batch takes a uint64 array of shape (n, arity, 4), got {shape:?}"),
        ));
    }
    let arity = shape[1];
    // `as_slice` also accepts Fortran order (memory order != logical order): C order only.
    let limbs: Vec<u64> = match inputs.as_slice() {
        Ok(s) if inputs.is_c_contiguous() => s.to_vec(),
        _ => inputs.as_array().iter().copied().collect(),
    };
    let out = detached(py, || {
        let xs: Vec<Fr> = limbs
            .chunks_exact(4)
            .enumerate()
            .map(|(i, l)| {
                field::from_limbs(
                    l.try_into().expect("4 limbs"),
                    &format!("inputs[{}][{}]", i / arity.max(1), i % arity.max(1)),
                )
            })
            .collect::<Result<_, _>>()?;
        poseidon::hash_many(&xs, arity)
    })?;
    limbs_array(py, &out)
}

// ---------------------------------------------------------------------------------------------
// Merkle trees
// ---------------------------------------------------------------------------------------------

#[pyclass(name = "MerkleProof", module = "bigfile_zk", frozen, eq)]
#[derive(PartialEq)]
struct PyMerkleProof(MerkleProof);

#[pymethods]
impl PyMerkleProof {
    #[new]
    fn new(
        arity: &Bound<'_, PyAny>,
        index: &Bound<'_, PyAny>,
        leaf: &Bound<'_, PyAny>,
        siblings: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let py = leaf.py();
        let arity = size_arg(Some(arity), "arity", 2)?;
        let index = index_arg(index, "index")?;
        merkle::check_arity(arity).py(py)?;
        let mut flat = Vec::new();
        for (l, level) in siblings.try_iter()?.enumerate() {
            let level = frs_from_py(&level?, &format!("siblings[{l}]"))?;
            if level.len() != arity - 1 {
                return Err(py_error(
                    py,
                    "ParameterError",
                    format!(
                        "siblings[{l}] has {} elements; arity {arity} needs {}",
                        level.len(),
                        arity - 1
                    ),
                ));
            }
            flat.extend(level);
        }
        let depth = (flat.len() / (arity - 1)) as u32;
        if depth > merkle::max_depth(arity) || index as u128 >= merkle::capacity(arity, depth) {
            return Err(py_error(
                py,
                "ParameterError",
                format!(
                    "index {index} does not fit a tree of arity {arity} and depth {depth} \
                     (depth at most {})",
                    merkle::max_depth(arity)
                ),
            ));
        }
        Ok(PyMerkleProof(MerkleProof {
            arity,
            index,
            leaf: fr_from_py(leaf, "leaf")?,
            siblings: flat,
        }))
    }
    #[getter]
    fn arity(&self) -> usize {
        self.0.arity
    }
    #[getter]
    fn index(&self) -> u64 {
        self.0.index
    }
    #[getter]
    fn depth(&self) -> u32 {
        self.0.depth()
    }
    #[getter]
    fn leaf<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fr_to_py(py, &self.0.leaf)
    }
    /// Siblings per level (level 0 first), each level in position order.
    #[getter]
    fn siblings<'py>(&self, py: Python<'py>) -> PyResult<Vec<Vec<Bound<'py, PyAny>>>> {
        self.0
            .siblings
            .chunks(self.0.arity - 1)
            .map(|l| frs_to_py(py, l))
            .collect()
    }
    fn compute_root<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.compute_root().map(|r| fr_to_py(py, &r)).transpose()
    }
    /// Whether the proof leads to `root`; with `depth`, also that the tree has that depth
    /// (without it, an inner node passes as the leaf of a shorter proof to the same root).
    #[pyo3(signature = (root, *, depth = None))]
    fn verify(&self, root: &Bound<'_, PyAny>, depth: Option<u32>) -> PyResult<bool> {
        let root = fr_from_py(root, "root")?;
        Ok(match depth {
            Some(d) => self.0.verify_at_depth(&root, d),
            None => self.0.verify(&root),
        })
    }
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_bytes())
    }
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        MerkleProof::from_bytes(data).map(PyMerkleProof).py(py)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        MerkleProof::from_json(&json_arg(text)?)
            .map(PyMerkleProof)
            .py(py)
    }
    fn __repr__(&self) -> String {
        format!(
            "MerkleProof(arity={}, depth={}, index={}, leaf={})",
            self.0.arity,
            self.0.depth(),
            self.0.index,
            field::to_hex(&self.0.leaf)
        )
    }
}

#[pyclass(name = "MerkleMultiProof", module = "bigfile_zk", frozen, eq)]
#[derive(PartialEq)]
struct PyMerkleMultiProof(MerkleMultiProof);

#[pymethods]
impl PyMerkleMultiProof {
    #[getter]
    fn arity(&self) -> usize {
        self.0.arity
    }
    #[getter]
    fn depth(&self) -> u32 {
        self.0.depth
    }
    #[getter]
    fn indices(&self) -> Vec<u64> {
        self.0.indices.clone()
    }
    #[getter]
    fn leaves<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        frs_to_py(py, &self.0.leaves)
    }
    #[getter]
    fn siblings<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        frs_to_py(py, &self.0.siblings)
    }
    /// Whether the proof leads to `root`; with `depth`, also that the tree has that depth.
    #[pyo3(signature = (root, *, depth = None))]
    fn verify(&self, root: &Bound<'_, PyAny>, depth: Option<u32>) -> PyResult<bool> {
        let ok = depth.is_none_or(|d| d == self.0.depth);
        Ok(ok && self.0.verify(&fr_from_py(root, "root")?))
    }
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_bytes())
    }
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        MerkleMultiProof::from_bytes(data)
            .map(PyMerkleMultiProof)
            .py(py)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        MerkleMultiProof::from_json(&json_arg(text)?)
            .map(PyMerkleMultiProof)
            .py(py)
    }
    fn __repr__(&self) -> String {
        format!(
            "MerkleMultiProof(arity={}, depth={}, indices={:?}, siblings={})",
            self.0.arity,
            self.0.depth,
            self.0.indices,
            self.0.siblings.len()
        )
    }
}

#[pyclass(name = "MerkleTree", module = "bigfile_zk", frozen)]
struct PyMerkleTree(MerkleTree);

#[pymethods]
impl PyMerkleTree {
    #[new]
    #[pyo3(signature = (leaves, arity = None))]
    fn new(
        py: Python<'_>,
        leaves: &Bound<'_, PyAny>,
        arity: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let arity = size_arg(arity, "arity", 2)?;
        let leaves = frs_from_py(leaves, "leaves")?;
        detached(py, || MerkleTree::new(leaves, arity)).map(PyMerkleTree)
    }
    #[getter]
    fn root<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fr_to_py(py, &self.0.root())
    }
    #[getter]
    fn depth(&self) -> u32 {
        self.0.depth()
    }
    #[getter]
    fn arity(&self) -> usize {
        self.0.arity()
    }
    fn __len__(&self) -> usize {
        self.0.len() as usize
    }
    fn leaf<'py>(&self, py: Python<'py>, index: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.0.proof(index_arg(index, "index")?).py(py)?;
        fr_to_py(py, &p.leaf)
    }
    fn proof(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<PyMerkleProof> {
        self.0
            .proof(index_arg(index, "index")?)
            .map(PyMerkleProof)
            .py(py)
    }
    fn multi_proof(
        &self,
        py: Python<'_>,
        indices: &Bound<'_, PyAny>,
    ) -> PyResult<PyMerkleMultiProof> {
        self.0
            .multi_proof(&indices_arg(indices)?)
            .map(PyMerkleMultiProof)
            .py(py)
    }
    fn __repr__(&self) -> String {
        format!(
            "MerkleTree(arity={}, leaves={}, depth={}, root={})",
            self.0.arity(),
            self.0.len(),
            self.0.depth(),
            field::to_hex(&self.0.root())
        )
    }
}

#[pyclass(name = "IncrementalMerkleTree", module = "bigfile_zk")]
struct PyIncrementalMerkleTree(IncrementalMerkleTree);

#[pymethods]
impl PyIncrementalMerkleTree {
    #[new]
    #[pyo3(signature = (arity = None))]
    fn new(py: Python<'_>, arity: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        IncrementalMerkleTree::new(size_arg(arity, "arity", 2)?)
            .map(PyIncrementalMerkleTree)
            .py(py)
    }
    fn append(&mut self, leaf: &Bound<'_, PyAny>) -> PyResult<()> {
        let x = fr_from_py(leaf, "leaf")?;
        self.0.append(x).py(leaf.py())
    }
    /// Append many leaves (ints or a uint64 limb array) without holding the GIL.
    fn extend(&mut self, leaves: &Bound<'_, PyAny>) -> PyResult<()> {
        let xs = frs_from_py(leaves, "leaves")?;
        let tree = &mut self.0;
        detached(leaves.py(), || {
            xs.into_iter().try_for_each(|x| tree.append(x))
        })
    }
    #[getter]
    fn root<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let r = self.0.root().py(py)?;
        fr_to_py(py, &r)
    }
    #[getter]
    fn depth(&self) -> u32 {
        self.0.depth()
    }
    #[getter]
    fn arity(&self) -> usize {
        self.0.arity()
    }
    fn __len__(&self) -> usize {
        self.0.len() as usize
    }
    fn proof(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<PyMerkleProof> {
        self.0
            .proof(index_arg(index, "index")?)
            .map(PyMerkleProof)
            .py(py)
    }
    fn multi_proof(
        &self,
        py: Python<'_>,
        indices: &Bound<'_, PyAny>,
    ) -> PyResult<PyMerkleMultiProof> {
        self.0
            .multi_proof(&indices_arg(indices)?)
            .map(PyMerkleMultiProof)
            .py(py)
    }
}

// ---------------------------------------------------------------------------------------------
// File commitments
// ---------------------------------------------------------------------------------------------

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
struct PyFileCommitment(FileCommitment);

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

// ---------------------------------------------------------------------------------------------
// SRS
// ---------------------------------------------------------------------------------------------

fn be_int<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    py.get_type::<PyInt>()
        .call_method1("from_bytes", (PyBytes::new(py, bytes), "big"))
}

/// A KZG structured reference string over BN254 (`docs/spec/srs.md`).
#[pyclass(name = "SRS", module = "bigfile_zk", frozen, eq, weakref)]
#[derive(PartialEq)]
struct PySrs(Srs);

#[pymethods]
impl PySrs {
    /// Load and validate a snarkjs `.ptau` file (powers up to `max_degree`, default `2^power`).
    #[staticmethod]
    #[pyo3(signature = (path, max_degree = None))]
    fn from_ptau(py: Python<'_>, path: PathBuf, max_degree: Option<usize>) -> PyResult<Self> {
        detached(py, || Srs::from_ptau(&path, max_degree)).map(PySrs)
    }
    /// An SRS whose τ is public (derived from `seed`, `0 <= seed < 256`). Anyone can forge
    /// proofs against it: tests and demos only. Emits `bigfile_zk.errors.InsecureSRSWarning`.
    /// Keys made from it are recognised (`VerifyingKey.is_insecure`) and refused by `verify` and
    /// `to_solidity` unless the caller opts in (`allow_insecure_srs=True`).
    #[staticmethod]
    #[pyo3(signature = (max_degree, seed = 0))]
    fn insecure_for_testing(py: Python<'_>, max_degree: usize, seed: u64) -> PyResult<Self> {
        let category = py
            .import("bigfile_zk.errors")?
            .getattr("InsecureSRSWarning")?;
        PyErr::warn(
            py,
            &category,
            c"using SRS.insecure_for_testing: its secret is public, so proofs made with it prove \
              nothing; load a real ceremony with SRS.from_ptau for production",
            1,
        )?;
        detached(py, || Srs::insecure_for_testing(max_degree, seed)).map(PySrs)
    }
    /// Whether this is an insecure test SRS (`insecure_for_testing`, any seed): its τ is public.
    #[getter]
    fn is_insecure(&self) -> bool {
        self.0.is_insecure()
    }
    /// Load an SRS saved with `save` (checksummed; points checked, pairing check skipped unless
    /// `validate=True`).
    #[staticmethod]
    #[pyo3(signature = (path, *, validate = false))]
    fn load(py: Python<'_>, path: PathBuf, validate: bool) -> PyResult<Self> {
        detached(py, || {
            let srs = Srs::load(&path)?;
            if validate {
                srs.validate()?;
            }
            Ok(srs)
        })
        .map(PySrs)
    }
    /// Write atomically in the compact checksummed format.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let srs = &self.0;
        detached(py, || srs.save(&path))
    }
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_bytes())
    }
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        detached(py, || Srs::from_bytes(&data)).map(PySrs)
    }
    /// Re-run every check, including the pairing check that ties all powers to one τ.
    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        let srs = &self.0;
        detached(py, || srs.validate())
    }
    fn truncate(&self, py: Python<'_>, max_degree: usize) -> PyResult<Self> {
        self.0.truncate(max_degree).map(PySrs).py(py)
    }
    #[getter]
    fn max_degree(&self) -> usize {
        self.0.max_degree()
    }
    /// `[τ^i]G1` as affine `(x, y)` ints.
    fn g1<'py>(
        &self,
        py: Python<'py>,
        i: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let i = index_arg(i, "i")? as usize;
        let p = self.0.g1.get(i).ok_or_else(|| {
            py_error(
                py,
                "IndexOutOfRangeError",
                format!(
                    "power {i} is out of range (max degree {})",
                    self.0.max_degree()
                ),
            )
        })?;
        let b = encoding::g1_to_bytes(p);
        Ok((be_int(py, &b[..32])?, be_int(py, &b[32..])?))
    }
    /// `[1]G2` (`i = 0`) or `[τ]G2` (`i = 1`) as `((x.c0, x.c1), (y.c0, y.c1))`.
    #[allow(clippy::type_complexity)]
    fn g2<'py>(
        &self,
        py: Python<'py>,
        i: &Bound<'py, PyAny>,
    ) -> PyResult<(
        (Bound<'py, PyAny>, Bound<'py, PyAny>),
        (Bound<'py, PyAny>, Bound<'py, PyAny>),
    )> {
        let i = index_arg(i, "i")? as usize;
        let p = self.0.g2.get(i).ok_or_else(|| {
            py_error(
                py,
                "IndexOutOfRangeError",
                format!("G2 point {i} is out of range (0 or 1)"),
            )
        })?;
        let b = encoding::g2_to_bytes_c0_first(p);
        Ok((
            (be_int(py, &b[..32])?, be_int(py, &b[32..64])?),
            (be_int(py, &b[64..96])?, be_int(py, &b[96..])?),
        ))
    }
    /// `[L_i(τ)]G1` for the domain of size `n`, as 64-byte points: computed from the powers
    /// (an inverse FFT over G1), or with `ptau`, read from that file's section 12 (snarkjs
    /// `prepare phase2`) and checked against this SRS.
    #[pyo3(signature = (n, *, ptau = None))]
    fn lagrange_basis<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        ptau: Option<PathBuf>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let srs = &self.0;
        let basis = detached(py, || match &ptau {
            Some(path) => srs.lagrange_from_ptau(path, n),
            None => kzg::lagrange_basis(srs, n),
        })?;
        Ok(basis.iter().map(|p| g1_out(py, p)).collect())
    }
    fn __len__(&self) -> usize {
        self.0.g1.len()
    }
    fn __repr__(&self) -> String {
        format!("SRS(max_degree={})", self.0.max_degree())
    }
}

// ---------------------------------------------------------------------------------------------
// KZG (points cross as 64-byte EVM encodings)
// ---------------------------------------------------------------------------------------------

fn g1_arg(py: Python<'_>, b: &[u8]) -> PyResult<kzg::G1> {
    encoding::g1_from_bytes(b).py(py)
}

fn g1_out<'py>(py: Python<'py>, p: &kzg::G1) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &encoding::g1_to_bytes(p))
}

/// `commit(p)` for coefficients (ints or a uint64 limb array), as 64 bytes.
#[pyfunction]
fn kzg_commit<'py>(
    py: Python<'py>,
    srs: &PySrs,
    coeffs: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let c = frs_from_py(coeffs, "coeffs")?;
    let s = &srs.0;
    let p = detached(py, || kzg::commit(s, &c))?;
    Ok(g1_out(py, &p))
}

/// Commit to values on the radix-2 domain of size `len(evals)`.
#[pyfunction]
fn kzg_commit_evals<'py>(
    py: Python<'py>,
    srs: &PySrs,
    evals: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let e = frs_from_py(evals, "evals")?;
    let s = &srs.0;
    let p = detached(py, || kzg::commit_evals(s, &e))?;
    Ok(g1_out(py, &p))
}

/// `(p(z), proof)`.
#[pyfunction]
fn kzg_open<'py>(
    py: Python<'py>,
    srs: &PySrs,
    coeffs: &Bound<'py, PyAny>,
    z: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyBytes>)> {
    let c = frs_from_py(coeffs, "coeffs")?;
    let z = fr_from_py(z, "z")?;
    let s = &srs.0;
    let (v, p) = detached(py, || kzg::open(s, &c, z))?;
    Ok((fr_to_py(py, &v)?, g1_out(py, &p)))
}

/// Whether `proof` shows that the committed polynomial takes `value` at `z`. Malformed
/// encodings raise DecodeError; a well-formed wrong proof returns False.
#[pyfunction]
fn kzg_verify(
    py: Python<'_>,
    srs: &PySrs,
    commitment: &[u8],
    z: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    proof: &[u8],
) -> PyResult<bool> {
    let (c, p) = (g1_arg(py, commitment)?, g1_arg(py, proof)?);
    let (z, v) = (fr_from_py(z, "z")?, fr_from_py(value, "value")?);
    let s = &srs.0;
    Ok(py.detach(|| kzg::verify(s, &c, z, v, &p)))
}

/// Open several polynomials at one point: `(values, proof)`.
#[pyfunction]
fn kzg_open_many<'py>(
    py: Python<'py>,
    srs: &PySrs,
    polys: &Bound<'py, PyAny>,
    z: &Bound<'py, PyAny>,
) -> PyResult<(Vec<Bound<'py, PyAny>>, Bound<'py, PyBytes>)> {
    let ps = polys
        .try_iter()?
        .enumerate()
        .map(|(i, p)| frs_from_py(&p?, &format!("polys[{i}]")))
        .collect::<PyResult<Vec<_>>>()?;
    let z = fr_from_py(z, "z")?;
    let s = &srs.0;
    let (vs, p) = detached(py, || kzg::open_many(s, &ps, z))?;
    Ok((frs_to_py(py, &vs)?, g1_out(py, &p)))
}

#[pyfunction]
fn kzg_verify_many(
    py: Python<'_>,
    srs: &PySrs,
    commitments: Vec<Vec<u8>>,
    z: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    proof: &[u8],
) -> PyResult<bool> {
    let cs = commitments
        .iter()
        .map(|c| g1_arg(py, c))
        .collect::<PyResult<Vec<_>>>()?;
    let vs = frs_from_py(values, "values")?;
    let (z, p) = (fr_from_py(z, "z")?, g1_arg(py, proof)?);
    let s = &srs.0;
    Ok(py.detach(|| kzg::verify_many(s, &cs, z, &vs, &p)))
}

/// Verify openings `(commitment, z, value, proof)` with one two-pairing check.
#[pyfunction]
fn kzg_batch_verify(py: Python<'_>, srs: &PySrs, openings: &Bound<'_, PyAny>) -> PyResult<bool> {
    let mut os = Vec::new();
    for (i, item) in openings.try_iter()?.enumerate() {
        let item = item?;
        let (c, z, v, p): (Vec<u8>, Bound<'_, PyAny>, Bound<'_, PyAny>, Vec<u8>) =
            item.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "openings[{i}] must be a (commitment: bytes, z: int, value: int, proof: bytes) tuple"
                ))
            })?;
        os.push((
            g1_arg(py, &c)?,
            fr_from_py(&z, "z")?,
            fr_from_py(&v, "value")?,
            g1_arg(py, &p)?,
        ));
    }
    let s = &srs.0;
    Ok(py.detach(|| kzg::batch_verify(s, &os)))
}

// ---------------------------------------------------------------------------------------------
// MSM (points cross as 64-byte EVM encodings) and its backends
// ---------------------------------------------------------------------------------------------

/// Points as concatenated 64-byte encodings, from a sequence of bytes or a `(n, 64)` uint8
/// array (checked later, in parallel, without the GIL).
fn points_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let py = obj.py();
    let kinds = "a sequence of 64-byte points (bytes) or a uint8 array of shape (n, 64)";
    if let Ok(arr) = obj.extract::<PyReadonlyArrayDyn<'_, u8>>() {
        let shape = arr.shape();
        if shape.len() != 2 || shape[1] != 64 {
            return Err(py_error(
                py,
                "ParameterError",
                format!("points: a uint8 array must have shape (n, 64), got {shape:?}"),
            ));
        }
        return Ok(match arr.as_slice() {
            Ok(s) if arr.is_c_contiguous() => s.to_vec(),
            _ => arr.as_array().iter().copied().collect(),
        });
    }
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
    {
        return Err(PyTypeError::new_err(format!("points must be {kinds}")));
    }
    let items = obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("points must be {kinds}")))?;
    let mut flat = Vec::new();
    for (i, item) in items.enumerate() {
        let item = item?;
        let bytes: Vec<u8> = if let Ok(b) = item.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(b) = item.cast::<PyByteArray>() {
            b.to_vec()
        } else {
            return Err(PyTypeError::new_err(format!(
                "points[{i}] must be bytes (a 64-byte G1 point), not {}",
                item.get_type().name()?
            )));
        };
        if bytes.len() != 64 {
            return Err(py_error(
                py,
                "DecodeError",
                format!(
                    "malformed G1 point: points[{i}]: {} bytes (expected 64)",
                    bytes.len()
                ),
            ));
        }
        flat.extend_from_slice(&bytes);
    }
    Ok(flat)
}

type EvmMsm = fn(&[u8], &[Fr]) -> Result<[u8; 64], Error>;

fn run_msm<'py>(
    points: &Bound<'py, PyAny>,
    scalars: &Bound<'py, PyAny>,
    f: EvmMsm,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = points.py();
    let p = points_arg(points)?;
    let s = frs_from_py(scalars, "scalars")?;
    let out = detached(py, || f(&p, &s))?;
    Ok(PyBytes::new(py, &out))
}

/// `Σ scalars[i]·points[i]` on the selected backend, as 64 bytes.
#[pyfunction]
fn msm_g1<'py>(
    points: &Bound<'py, PyAny>,
    scalars: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    run_msm(points, scalars, msm::msm_evm)
}

/// Test and benchmark hook: arkworks' MSM on the same inputs.
#[pyfunction]
fn _msm_arkworks<'py>(
    points: &Bound<'py, PyAny>,
    scalars: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    run_msm(points, scalars, msm::arkworks_msm_evm)
}

/// Select the MSM backend (`"cpu"`, `"gpu"` or a plug-in path); returns the active one.
#[pyfunction]
#[pyo3(signature = (spec, min_size = None))]
fn msm_set_backend(
    py: Python<'_>,
    spec: &str,
    min_size: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let min_size = match min_size {
        None => None,
        Some(m) => Some(size_arg(Some(m), "min_size", 0)?),
    };
    let spec = spec.to_string();
    detached(py, || msm::set_backend(&spec, min_size)).map(|info| info.to_string())
}

/// The active MSM backend: `"cpu"` or `"<plug-in name> (<path>)"`.
#[pyfunction]
fn msm_backend(py: Python<'_>) -> PyResult<String> {
    detached(py, || Ok(msm::backend_info().to_string()))
}

/// MSMs with fewer points run on the CPU whatever the backend.
#[pyfunction]
fn msm_min_size(py: Python<'_>) -> PyResult<usize> {
    detached(py, || Ok(msm::backend_info().min_size))
}

/// `["cpu"]`, plus `"gpu"` when the ICICLE plug-in is found and starts.
#[pyfunction]
fn msm_available(py: Python<'_>) -> PyResult<Vec<String>> {
    detached(py, || Ok(msm::available()))
}

/// Where the `gpu` plug-in is also looked for (the package directory, set at import).
#[pyfunction]
fn _msm_add_search_dir(dir: PathBuf) {
    msm::add_plugin_search_dir(&dir);
}

/// Benchmark hook: best-of-`repeats` seconds for `poseidon::hash_many` over `n` hashes of
/// `arity` inputs already in memory (the pure-Rust rate the Python batch API is compared to).
#[pyfunction]
fn _bench_hash_many(py: Python<'_>, n: usize, arity: usize, repeats: usize) -> PyResult<f64> {
    detached(py, || {
        let inputs: Vec<Fr> = (0..n * arity).map(|i| Fr::from(i as u64 + 1)).collect();
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let start = std::time::Instant::now();
            std::hint::black_box(poseidon::hash_many(&inputs, arity)?);
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(best)
    })
}

/// Benchmark hook: best-of-`repeats` seconds for one single-threaded permutation of width `t`.
#[pyfunction]
fn _bench_permute(py: Python<'_>, t: usize, iterations: usize, repeats: usize) -> PyResult<f64> {
    detached(py, || {
        let mut state: Vec<Fr> = (0..t as u64).map(Fr::from).collect();
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let start = std::time::Instant::now();
            for _ in 0..iterations {
                poseidon::permute(&mut state)?;
            }
            best = best.min(start.elapsed().as_secs_f64() / iterations.max(1) as f64);
        }
        std::hint::black_box(&state);
        Ok(best)
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add(
        "MODULUS",
        py.get_type::<PyInt>().call1((field::modulus_decimal(),))?,
    )?;
    m.add("LEAF_IV", fr_to_py(py, &commitment::leaf_iv())?)?;
    m.add("DEFAULT_CHUNK_SIZE", commitment::DEFAULT_CHUNK_SIZE)?;
    m.add("DEFAULT_ARITY", commitment::DEFAULT_ARITY)?;
    m.add("SPEC_VERSION", commitment::SPEC_VERSION)?;
    m.add("MAX_CHUNKS", commitment::MAX_CHUNKS)?;
    m.add_function(wrap_pyfunction!(poseidon_hash, m)?)?;
    m.add_function(wrap_pyfunction!(poseidon_permute, m)?)?;
    m.add_function(wrap_pyfunction!(poseidon_batch, m)?)?;
    m.add_function(wrap_pyfunction!(commit_file, m)?)?;
    m.add_function(wrap_pyfunction!(commit_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(open_file, m)?)?;
    m.add_function(wrap_pyfunction!(leaf_hash, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_hash_many, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_permute, m)?)?;
    m.add_class::<PyMerkleProof>()?;
    m.add_class::<PyMerkleMultiProof>()?;
    m.add_class::<PyMerkleTree>()?;
    m.add_class::<PyIncrementalMerkleTree>()?;
    m.add_class::<PyFileCommitment>()?;
    m.add_class::<PyChunkOpening>()?;
    m.add_class::<PySrs>()?;
    m.add_function(wrap_pyfunction!(kzg_commit, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_commit_evals, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_open, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_verify, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_open_many, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_verify_many, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_batch_verify, m)?)?;
    plonk::register(m)?;
    storage::register(m)?;
    m.add_function(wrap_pyfunction!(msm_g1, m)?)?;
    m.add_function(wrap_pyfunction!(_msm_arkworks, m)?)?;
    m.add_function(wrap_pyfunction!(msm_set_backend, m)?)?;
    m.add_function(wrap_pyfunction!(msm_backend, m)?)?;
    m.add_function(wrap_pyfunction!(msm_min_size, m)?)?;
    m.add_function(wrap_pyfunction!(msm_available, m)?)?;
    m.add_function(wrap_pyfunction!(_msm_add_search_dir, m)?)?;
    Ok(())
}
