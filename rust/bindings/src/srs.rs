//! SRS bindings: loading, saving and inspecting a KZG structured reference string.

use crate::convert::{be_int, g1_out, index_arg};
use crate::errors::{detached, py_error, IntoPy};
use bigfile_zk::srs::Srs;
use bigfile_zk::{encoding, kzg};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

/// A KZG structured reference string over BN254 (`docs/spec/srs.md`).
#[pyclass(name = "SRS", module = "bigfile_zk", frozen, eq, weakref)]
#[derive(PartialEq)]
pub(crate) struct PySrs(pub(crate) Srs);

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySrs>()?;
    Ok(())
}
