//! MSM bindings (points cross as 64-byte EVM encodings) and its backends.

use crate::convert::{frs_from_py, points_arg, size_arg};
use crate::errors::detached;
use bigfile_zk::{msm, Error, Fr};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(msm_g1, m)?)?;
    m.add_function(wrap_pyfunction!(_msm_arkworks, m)?)?;
    m.add_function(wrap_pyfunction!(msm_set_backend, m)?)?;
    m.add_function(wrap_pyfunction!(msm_backend, m)?)?;
    m.add_function(wrap_pyfunction!(msm_min_size, m)?)?;
    m.add_function(wrap_pyfunction!(msm_available, m)?)?;
    m.add_function(wrap_pyfunction!(_msm_add_search_dir, m)?)?;
    Ok(())
}
