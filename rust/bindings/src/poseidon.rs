//! Poseidon bindings: hashes, the permutation, batches, and the benchmark hooks.

use crate::convert::{fr_to_py, frs_from_py, frs_to_py, limbs_array};
use crate::errors::{detached, py_error, IntoPy};
use bigfile_zk::{field, poseidon, Fr};
use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

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

/// Benchmark hook: best-of-`repeats` seconds per permutation (`t = 3`) when eight run at
/// once through `poseidon::permute_x8` (the vector path when enabled), single-threaded.
#[pyfunction]
fn _bench_permute_x8(py: Python<'_>, iterations: usize, repeats: usize) -> PyResult<f64> {
    detached(py, || {
        let mut states: [[Fr; 3]; 8] =
            core::array::from_fn(|k| core::array::from_fn(|i| Fr::from((3 * k + i) as u64)));
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let start = std::time::Instant::now();
            for _ in 0..iterations {
                poseidon::permute_x8::<3>(&mut states)?;
            }
            best = best.min(start.elapsed().as_secs_f64() / (8 * iterations.max(1)) as f64);
        }
        std::hint::black_box(&states);
        Ok(best)
    })
}

/// Whether batched Poseidon runs on the AVX-512 IFMA path in this process (CPU features and
/// `BIGFILE_ZK_NO_SIMD`).
#[pyfunction]
fn _simd_enabled() -> bool {
    poseidon::simd_enabled()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_bench_permute_x8, m)?)?;
    m.add_function(wrap_pyfunction!(_simd_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(poseidon_hash, m)?)?;
    m.add_function(wrap_pyfunction!(poseidon_permute, m)?)?;
    m.add_function(wrap_pyfunction!(poseidon_batch, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_hash_many, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_permute, m)?)?;
    Ok(())
}
