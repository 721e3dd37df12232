//! Core results and panics as Python exceptions (`bigfile_zk.errors`), and running core work
//! with the GIL released (progress callbacks, Ctrl-C, queued MSM backend warnings).

use bigfile_zk::{commitment, msm, Error};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError};
use pyo3::prelude::*;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub(crate) fn py_error(py: Python<'_>, class: &str, msg: String) -> PyErr {
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

pub(crate) fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
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

pub(crate) trait IntoPy<T> {
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
pub(crate) fn run_detached<T: Send>(
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
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    run_detached(py, None, |_| work())
}
