//! Proof-of-compute (`circuits/src/compute`): a quantized model's circuit and witness, laid out
//! from its program JSON (`QuantizedModel.to_dict()`), for the `plonk` setup/prove/verify calls.

use crate::convert::{fr_from_py, frs_to_py, text_arg};
use crate::errors::{detached, IntoPy};
use crate::plonk::PyCircuit;
use bigfile_circuits::compute::{self, program::Program, Params};
use bigfile_zk::plonk::Builder;
use bigfile_zk::Error;
use pyo3::prelude::*;

fn program(text: &str) -> Result<Program, Error> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Decode {
        what: "quantized model JSON",
        reason: e.to_string(),
    })?;
    Program::from_json(&v)
}

/// The layout parameters that give the smallest circuit:
/// `(range_bits, max_clamp_table, bucket_min_outputs, poseidon_gate, packed)`.
#[pyfunction]
pub fn compute_params(
    py: Python<'_>,
    program_json: &Bound<'_, PyAny>,
) -> PyResult<(u32, u64, u32, bool, bool)> {
    let text = text_arg(program_json, "program_json", "str")?;
    let p = detached(py, || {
        let p = program(&text)?;
        compute::choose_params(&p)
    })?;
    Ok((
        p.range_bits,
        p.max_clamp_table,
        p.bucket_min_outputs,
        p.poseidon_gate,
        p.packed,
    ))
}

/// The circuit of a program (with the witness of `input`, or the shape only when `None`), its
/// statement `[C_x, job, provider, outputs…]` and its row count (before padding). `params` as
/// `compute_params` returns them.
#[pyfunction]
#[pyo3(signature = (program_json, input, job, provider, params))]
pub fn compute_circuit<'py>(
    py: Python<'py>,
    program_json: &Bound<'py, PyAny>,
    input: Option<Vec<i64>>,
    job: u64,
    provider: &Bound<'py, PyAny>,
    params: (u32, u64, u32, bool, bool),
) -> PyResult<(PyCircuit, Vec<Bound<'py, PyAny>>, usize)> {
    let text = text_arg(program_json, "program_json", "str")?;
    let provider = fr_from_py(provider, "provider")?;
    let (range_bits, max_clamp_table, bucket_min_outputs, poseidon_gate, packed) = params;
    if !(1..=20).contains(&range_bits)
        || max_clamp_table == 0
        || max_clamp_table > 1 << 24
        || bucket_min_outputs == 0
    {
        return Err(Error::InvalidParameter(
            "range_bits is 1..=20, max_clamp_table 1..=2^24 and bucket_min_outputs ≥ 1".into(),
        ))
        .py(py);
    }
    let params = Params {
        range_bits,
        max_clamp_table,
        bucket_min_outputs,
        poseidon_gate,
        packed,
    };
    let (circuit, witness, statement, rows) = detached(py, || {
        let p = program(&text)?;
        let mut b = Builder::new();
        let st = compute::build(&mut b, &p, input.as_deref(), job, provider, params)?;
        let rows = b.num_rows();
        let (c, w) = b.build()?;
        Ok((c, w, st, rows))
    })?;
    Ok((
        PyCircuit::new(circuit, witness),
        frs_to_py(py, &statement.public_inputs())?,
        rows,
    ))
}

/// The statement's output hash past 12 outputs (`compute::output_hash`).
#[pyfunction]
pub fn compute_output_hash<'py>(
    py: Python<'py>,
    outputs: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let ys = crate::convert::frs_from_py(outputs, "outputs")?;
    crate::convert::fr_to_py(py, &compute::output_hash(&ys))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compute_params, m)?)?;
    m.add_function(wrap_pyfunction!(compute_circuit, m)?)?;
    m.add_function(wrap_pyfunction!(compute_output_hash, m)?)?;
    Ok(())
}
