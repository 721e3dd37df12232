//! Merkle tree bindings: proofs, multi-proofs, trees and incremental trees.

use crate::convert::{
    fr_from_py, fr_to_py, frs_from_py, frs_to_py, index_arg, indices_arg, json_arg, size_arg,
};
use crate::errors::{detached, py_error, IntoPy};
use bigfile_zk::field;
use bigfile_zk::merkle::{self, IncrementalMerkleTree, MerkleMultiProof, MerkleProof, MerkleTree};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

#[pyclass(name = "MerkleProof", module = "bigfile_zk", frozen, eq)]
#[derive(PartialEq)]
pub(crate) struct PyMerkleProof(pub(crate) MerkleProof);

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMerkleProof>()?;
    m.add_class::<PyMerkleMultiProof>()?;
    m.add_class::<PyMerkleTree>()?;
    m.add_class::<PyIncrementalMerkleTree>()?;
    Ok(())
}
