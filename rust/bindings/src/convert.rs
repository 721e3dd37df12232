//! Python ↔ Rust conversions: ints and uint64 limb arrays ↔ field elements, index / size /
//! layout arguments, text and JSON, and 64-byte EVM point encodings.

use crate::errors::{py_error, IntoPy};
use bigfile_zk::commitment::{self, Layout};
use bigfile_zk::{encoding, field, kzg, Fr};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyInt, PyString};

/// A `str` argument as Rust text. A `str` that is not valid Unicode (a lone surrogate such as
/// `"\ud800"`, which JSON's `\ud800` escape produces) raises `class` (a `bigfile_zk.errors`
/// name) instead of a bare `UnicodeEncodeError`; a non-`str` raises `TypeError`.
pub(crate) fn text_arg(obj: &Bound<'_, PyAny>, what: &str, class: &str) -> PyResult<String> {
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
pub(crate) fn json_arg(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    text_arg(obj, "the JSON text", "DecodeError")
}

pub(crate) fn fr_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Fr> {
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
pub(crate) fn index_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
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
pub(crate) fn size_arg(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    default: usize,
) -> PyResult<usize> {
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
pub(crate) fn layout_arg(
    py: Python<'_>,
    chunk_size: Option<&Bound<'_, PyAny>>,
    arity: Option<&Bound<'_, PyAny>>,
) -> PyResult<Layout> {
    let cs = size_arg(chunk_size, "chunk_size", commitment::DEFAULT_CHUNK_SIZE)?;
    let a = size_arg(arity, "arity", commitment::DEFAULT_ARITY)?;
    Layout::new(cs, a).py(py)
}

pub(crate) fn indices_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    obj.try_iter()?
        .enumerate()
        .map(|(i, x)| index_arg(&x?, &format!("indices[{i}]")))
        .collect()
}

pub(crate) fn fr_to_py<'py>(py: Python<'py>, x: &Fr) -> PyResult<Bound<'py, PyAny>> {
    let limbs = field::to_limbs(x);
    if limbs[1..] == [0, 0, 0] {
        return Ok(limbs[0].into_pyobject(py)?.into_any());
    }
    py.get_type::<PyInt>().call_method1(
        "from_bytes",
        (PyBytes::new(py, &field::to_be_bytes(x)), "big"),
    )
}

pub(crate) fn frs_to_py<'py>(py: Python<'py>, xs: &[Fr]) -> PyResult<Vec<Bound<'py, PyAny>>> {
    xs.iter().map(|x| fr_to_py(py, x)).collect()
}

/// Field elements from a sequence of ints, or from a `uint64` array whose last axis holds 4
/// little-endian limbs (any leading shape; flattened in C order).
pub(crate) fn frs_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Fr>> {
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

pub(crate) fn limbs_array<'py>(py: Python<'py>, xs: &[Fr]) -> PyResult<Bound<'py, PyAny>> {
    let flat: Vec<u64> = xs.iter().flat_map(field::to_limbs).collect();
    Ok(PyArray1::from_vec(py, flat)
        .reshape([xs.len(), 4])?
        .into_any())
}

pub(crate) fn be_int<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    py.get_type::<PyInt>()
        .call_method1("from_bytes", (PyBytes::new(py, bytes), "big"))
}

pub(crate) fn g1_arg(py: Python<'_>, b: &[u8]) -> PyResult<kzg::G1> {
    encoding::g1_from_bytes(b).py(py)
}

pub(crate) fn g1_out<'py>(py: Python<'py>, p: &kzg::G1) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &encoding::g1_to_bytes(p))
}

/// Points as concatenated 64-byte encodings, from a sequence of bytes or a `(n, 64)` uint8
/// array (checked later, in parallel, without the GIL).
pub(crate) fn points_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add(
        "MODULUS",
        py.get_type::<PyInt>().call1((field::modulus_decimal(),))?,
    )?;
    Ok(())
}
