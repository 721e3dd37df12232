//! KZG bindings (points cross as 64-byte EVM encodings).

use crate::convert::{fr_from_py, fr_to_py, frs_from_py, frs_to_py, g1_arg, g1_out};
use crate::errors::detached;
use crate::srs::PySrs;
use bigfile_zk::kzg;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kzg_commit, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_commit_evals, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_open, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_verify, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_open_many, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_verify_many, m)?)?;
    m.add_function(wrap_pyfunction!(kzg_batch_verify, m)?)?;
    Ok(())
}
