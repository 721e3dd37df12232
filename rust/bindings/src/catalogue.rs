//! Catalogue bindings (`circuits/src/catalogue.rs`): a provider's catalogue and its update
//! proofs.

use crate::convert::{fr_from_py, fr_to_py, frs_from_py, frs_to_py, index_arg};
use crate::errors::{detached, run_detached, IntoPy};
use crate::plonk::{PyProof, PyProvingKey, PyVerifyingKey};
use crate::srs::PySrs;
use bigfile_circuits::catalogue::{self, Catalogue};
use bigfile_zk::plonk;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// A provider's catalogue as its tree: slot values (file commitments, `0` = empty), depth 16.
/// (`bigfile_zk.epoch.Catalogue` is the file-level object; this is its tree, for updates.)
#[pyclass(name = "CatalogueTree", module = "bigfile_zk")]
#[derive(Clone)]
pub struct PyCatalogue(pub(crate) Catalogue);

#[pymethods]
impl PyCatalogue {
    /// The catalogue whose slots `0..len(values)` hold `values` (default: empty).
    #[new]
    #[pyo3(signature = (values = None))]
    fn new(py: Python<'_>, values: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let values = match values {
            Some(v) => frs_from_py(v, "values")?,
            None => vec![],
        };
        Ok(PyCatalogue(detached(py, || {
            Catalogue::from_values(&values)
        })?))
    }
    #[getter]
    fn root<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fr_to_py(py, &self.0.root())
    }
    #[getter]
    fn count(&self) -> u64 {
        self.0.count()
    }
    /// `K = Poseidon(root, count)`.
    #[getter]
    fn commitment<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fr_to_py(py, &self.0.commitment())
    }
    /// The values of slots `0..count`.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        frs_to_py(py, self.0.values())
    }
    fn leaf<'py>(&self, py: Python<'py>, slot: &Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.0.leaf(index_arg(slot, "slot")?).py(py)?;
        fr_to_py(py, &v)
    }
    fn siblings<'py>(
        &self,
        py: Python<'py>,
        slot: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let s = self.0.siblings(index_arg(slot, "slot")?).py(py)?;
        frs_to_py(py, &s)
    }
    /// Write `value` at an existing slot or at slot `count`.
    fn set(
        &mut self,
        py: Python<'_>,
        slot: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (slot, value) = (index_arg(slot, "slot")?, fr_from_py(value, "value")?);
        self.0.set(slot, value).py(py)
    }
    fn copy(&self) -> Self {
        self.clone()
    }
}

/// The queue digest after the change `(slot, value)`.
#[pyfunction]
pub fn catalogue_queue_next<'py>(
    py: Python<'py>,
    head: &Bound<'_, PyAny>,
    slot: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let h = catalogue::queue_next(
        fr_from_py(head, "head")?,
        index_arg(slot, "slot")?,
        fr_from_py(value, "value")?,
    );
    fr_to_py(py, &h)
}

/// Keys of the catalogue update circuit.
#[pyfunction]
pub fn catalogue_update_setup(
    py: Python<'_>,
    srs: &PySrs,
) -> PyResult<(PyProvingKey, PyVerifyingKey)> {
    let srs = &srs.0;
    let (pk, vk) = detached(py, || catalogue::setup(srs))?;
    Ok((PyProvingKey(Arc::new(pk)), PyVerifyingKey(vk)))
}

/// The update circuit's proving key from a cache file (`ProvingKey.save_cache`), checked
/// against the circuit and `srs` before it is returned.
#[pyfunction]
pub fn catalogue_load_key(py: Python<'_>, path: PathBuf, srs: &PySrs) -> PyResult<PyProvingKey> {
    let srs = &srs.0;
    detached(py, || catalogue::load_key(&path, srs)).map(|pk| PyProvingKey(Arc::new(pk)))
}

/// Apply `changes` (`[(slot, value)]`, queue order) to `catalogue` from queue digest
/// `old_head` and prove it: the proof (public inputs `[K_old, h_old, K_new, h_new]`) and the
/// catalogue after.
#[pyfunction]
#[pyo3(signature = (pk, catalogue, old_head, changes, on_progress = None))]
pub fn catalogue_update_prove(
    py: Python<'_>,
    pk: &PyProvingKey,
    catalogue: &PyCatalogue,
    old_head: &Bound<'_, PyAny>,
    changes: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<(PyProof, PyCatalogue)> {
    let head = fr_from_py(old_head, "old_head")?;
    let changes = changes
        .iter()
        .enumerate()
        .map(|(j, (s, v))| {
            Ok((
                index_arg(s, &format!("changes[{j}] slot"))?,
                fr_from_py(v, &format!("changes[{j}] value"))?,
            ))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let (st, w, after) = catalogue::apply(&catalogue.0, head, &changes).py(py)?;
    let pk = pk.0.clone();
    let blinding = plonk::random_blinding(&pk, &mut ark_std::rand::rngs::OsRng);
    let proof = run_detached(py, on_progress, |report| {
        catalogue::prove(&pk, &st, &w, &blinding, report)
    })?;
    Ok((
        PyProof::new(proof, st.public_inputs().to_vec()),
        PyCatalogue(after),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCatalogue>()?;
    m.add_function(wrap_pyfunction!(catalogue_queue_next, m)?)?;
    m.add_function(wrap_pyfunction!(catalogue_update_setup, m)?)?;
    m.add_function(wrap_pyfunction!(catalogue_load_key, m)?)?;
    m.add_function(wrap_pyfunction!(catalogue_update_prove, m)?)?;
    Ok(())
}
