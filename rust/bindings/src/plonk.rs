//! PLONK bindings: the circuit builder (gadgets run in Rust, one call each), keys, proofs.

use crate::convert::{fr_from_py, fr_to_py, frs_from_py, frs_to_py, json_arg, text_arg};
use crate::errors::{detached, py_error, run_detached, to_py_err, IntoPy};
use crate::srs::PySrs;
use bigfile_zk::plonk::{
    self, AnyProof, Builder, Circuit, Proof, ProvingKey, TableId, Var, VerifyingKey,
};
use bigfile_zk::{field, Error, Fr};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::Arc;

/// The circuit builder. Variables are ints; every gadget lays out its rows in Rust.
#[pyclass(name = "PlonkBuilder", module = "bigfile_zk.plonk", subclass)]
pub struct PyBuilder {
    inner: Builder,
}

impl PyBuilder {
    /// `(coefficient, variable)` terms and an optional constant, checked.
    fn terms(
        &self,
        py: Python<'_>,
        terms: &[(Bound<'_, PyAny>, u32)],
        constant: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Vec<(Fr, Var)>, Fr)> {
        let mut ts = Vec::with_capacity(terms.len());
        for (i, (c, x)) in terms.iter().enumerate() {
            ts.push((
                fr_from_py(c, &format!("terms[{i}] coefficient"))?,
                self.var(py, *x)?,
            ));
        }
        let k = match constant {
            Some(k) => fr_from_py(k, "constant")?,
            None => Fr::from(0u64),
        };
        Ok((ts, k))
    }

    fn var(&self, py: Python<'_>, v: u32) -> PyResult<Var> {
        if (v as usize) < self.inner.num_vars() {
            Ok(Var(v))
        } else {
            Err(py_error(
                py,
                "ParameterError",
                format!(
                    "{v} is not a variable of this builder ({} exist)",
                    self.inner.num_vars()
                ),
            ))
        }
    }

    fn vars(&self, py: Python<'_>, vs: &[u32]) -> PyResult<Vec<Var>> {
        vs.iter().map(|v| self.var(py, *v)).collect()
    }
}

#[pymethods]
impl PyBuilder {
    #[new]
    fn new() -> Self {
        PyBuilder {
            inner: Builder::new(),
        }
    }

    /// A private witness variable holding `value`. It is unconstrained until gadgets or
    /// assertions use it: whatever the circuit does not constrain, a prover may choose freely.
    fn input(&mut self, value: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(self.inner.input(fr_from_py(value, "value")?).0)
    }

    /// The next public input (the verifier passes them in the order they were declared).
    fn public_input(&mut self, value: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(self.inner.public_input(fr_from_py(value, "value")?).0)
    }

    /// The value a variable holds in this run (0s during setup).
    fn value<'py>(&self, py: Python<'py>, v: u32) -> PyResult<Bound<'py, PyAny>> {
        let v = self.var(py, v)?;
        fr_to_py(py, &self.inner.value(v))
    }

    /// The variable fixed to `value` (one row per distinct constant, shared).
    fn constant(&mut self, value: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(self.inner.constant(fr_from_py(value, "value")?).0)
    }

    /// `x + y` (mod r), one row.
    fn add(&mut self, py: Python<'_>, x: u32, y: u32) -> PyResult<u32> {
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        Ok(self.inner.add(x, y).0)
    }

    /// `x − y` (mod r), one row.
    fn sub(&mut self, py: Python<'_>, x: u32, y: u32) -> PyResult<u32> {
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        Ok(self.inner.sub(x, y).0)
    }

    /// `x·y` (mod r), one row.
    fn mul(&mut self, py: Python<'_>, x: u32, y: u32) -> PyResult<u32> {
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        Ok(self.inner.mul(x, y).0)
    }

    /// `mul·x·y + x_coeff·x + y_coeff·y + constant` (mod r), one row (`x` may be `y`).
    #[pyo3(signature = (x, y, mul = None, x_coeff = None, y_coeff = None, constant = None))]
    #[allow(clippy::too_many_arguments)] // the Python signature: keyword coefficients
    fn mul_add(
        &mut self,
        py: Python<'_>,
        x: u32,
        y: u32,
        mul: Option<&Bound<'_, PyAny>>,
        x_coeff: Option<&Bound<'_, PyAny>>,
        y_coeff: Option<&Bound<'_, PyAny>>,
        constant: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u32> {
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        let get = |v: Option<&Bound<'_, PyAny>>, what: &str, default: Fr| {
            v.map_or(Ok(default), |v| fr_from_py(v, what))
        };
        let m = get(mul, "mul", Fr::from(1u64))?;
        let ca = get(x_coeff, "x_coeff", Fr::from(0u64))?;
        let cb = get(y_coeff, "y_coeff", Fr::from(0u64))?;
        let k = get(constant, "constant", Fr::from(0u64))?;
        Ok(self.inner.mul_add(x, y, m, ca, cb, k).0)
    }

    /// `Σ c_i·x_i + constant` (mod r) for `terms = [(c_i, x_i), …]`; one row per term after
    /// the first.
    #[pyo3(signature = (terms, constant = None))]
    fn linear_combination(
        &mut self,
        py: Python<'_>,
        terms: Vec<(Bound<'_, PyAny>, u32)>,
        constant: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u32> {
        let (ts, k) = self.terms(py, &terms, constant)?;
        Ok(self.inner.linear_combination(&ts, k).0)
    }

    /// `Σ c_i·x_i + constant` (mod r) in `⌈len/2⌉` rows: two terms per row with the running
    /// sum handed to the next row (spec v2's `q_N`; the circuit becomes version 2). The result
    /// sits in the next row's `c`, which the next dot product's first row provides.
    #[pyo3(signature = (terms, constant = None))]
    fn dot(
        &mut self,
        py: Python<'_>,
        terms: Vec<(Bound<'_, PyAny>, u32)>,
        constant: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u32> {
        let (ts, k) = self.terms(py, &terms, constant)?;
        Ok(self.inner.dot(&ts, k).0)
    }

    /// Constrain `x = y` (a copy constraint, no row).
    fn assert_equal(&mut self, py: Python<'_>, x: u32, y: u32) -> PyResult<()> {
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        self.inner.assert_equal(x, y);
        Ok(())
    }

    /// Constrain `x = 0` (one row).
    fn assert_zero(&mut self, py: Python<'_>, x: u32) -> PyResult<()> {
        let x = self.var(py, x)?;
        self.inner.assert_zero(x);
        Ok(())
    }

    /// Constrain `x ∈ {0, 1}` (one row); later gadgets then know `x` is boolean.
    fn assert_bool(&mut self, py: Python<'_>, x: u32) -> PyResult<()> {
        let x = self.var(py, x)?;
        self.inner.assert_bool(x);
        Ok(())
    }

    /// `bit ? x : y`. Constrains `bit ∈ {0, 1}` itself (one row) unless the builder already
    /// knows it boolean (an output of `to_bits`, `less_than`, `assert_bool`, ...).
    fn select(&mut self, py: Python<'_>, bit: u32, x: u32, y: u32) -> PyResult<u32> {
        let v = self.vars(py, &[bit, x, y])?;
        Ok(self.inner.select(v[0], v[1], v[2]).0)
    }

    /// `bit ? (y, x) : (x, y)`. Constrains `bit ∈ {0, 1}` itself, as `select`.
    fn cond_swap(&mut self, py: Python<'_>, bit: u32, x: u32, y: u32) -> PyResult<(u32, u32)> {
        let v = self.vars(py, &[bit, x, y])?;
        let (l, r) = self.inner.cond_swap(v[0], v[1], v[2]);
        Ok((l.0, r.0))
    }

    /// The `nbits` little-endian bits of `x` (`1 ≤ nbits ≤ 253`): each bit constrained boolean
    /// and their weighted sum equal to `x`, which also constrains `0 ≤ x < 2^nbits`.
    #[allow(clippy::wrong_self_convention)] // a gadget (it lays out rows), not a conversion
    fn to_bits(&mut self, py: Python<'_>, x: u32, nbits: usize) -> PyResult<Vec<u32>> {
        let x = self.var(py, x)?;
        let bits = self.inner.to_bits(x, nbits).py(py)?;
        Ok(bits.into_iter().map(|v| v.0).collect())
    }

    /// Constrain `0 ≤ x < 2^bits` (`1 ≤ bits ≤ 253`), by 8-bit lookups (default) or bits.
    fn range_check(&mut self, py: Python<'_>, x: u32, bits: usize) -> PyResult<()> {
        let x = self.var(py, x)?;
        self.inner.range_check(x, bits).py(py)
    }

    /// `x < y` as a boolean variable (`1 ≤ bits ≤ 252`). Constrains both operands to
    /// `[0, 2^bits)` itself (no proof exists otherwise), unless the builder already knows them
    /// in range (from `range_check`, `to_bits`, constants): safe without caller-side checks.
    fn less_than(&mut self, py: Python<'_>, x: u32, y: u32, bits: usize) -> PyResult<u32> {
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        Ok(self.inner.less_than(x, y, bits).py(py)?.0)
    }

    /// `Poseidon(inputs)` as `bigfile_zk.poseidon` (circomlib, 1 to 16 inputs); fully
    /// constrained (68 rows for two inputs on the native gate).
    fn poseidon(&mut self, py: Python<'_>, inputs: Vec<u32>) -> PyResult<u32> {
        let v = self.vars(py, &inputs)?;
        Ok(self.inner.poseidon(&v).py(py)?.0)
    }

    /// The circomlib Poseidon permutation of a width-3 state (3 variables), fully constrained.
    fn poseidon_permute(&mut self, py: Python<'_>, state: Vec<u32>) -> PyResult<Vec<u32>> {
        let v = self.vars(py, &state)?;
        let state: [Var; 3] = v.try_into().map_err(|_| {
            py_error(
                py,
                "ParameterError",
                "poseidon_permute takes a state of 3 variables (t = 3)".into(),
            )
        })?;
        Ok(self.inner.poseidon_permute3(state).map(|v| v.0).to_vec())
    }

    /// The root of the tree whose leaf at `index` is `leaf`, given each level's `arity − 1`
    /// siblings (position order, as `MerkleProof`). `index` is decomposed into bits inside,
    /// which constrains `0 ≤ index < arity^depth`; the root is constrained, compare it with
    /// `assert_equal`.
    #[pyo3(signature = (leaf, index, siblings, arity = 2))]
    fn merkle_root(
        &mut self,
        py: Python<'_>,
        leaf: u32,
        index: u32,
        siblings: Vec<Vec<u32>>,
        arity: usize,
    ) -> PyResult<u32> {
        let (leaf, index) = (self.var(py, leaf)?, self.var(py, index)?);
        let sibs: Vec<Vec<Var>> = siblings
            .iter()
            .map(|l| self.vars(py, l))
            .collect::<PyResult<_>>()?;
        Ok(self.inner.merkle_root(leaf, index, &sibs, arity).py(py)?.0)
    }

    /// Register a table of `(x, y)` entries (fixed, part of the key); returns its id for
    /// `lookup`.
    fn add_table(
        &mut self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        entries: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    ) -> PyResult<u32> {
        let name = text_arg(name, "a table name", "ParameterError")?;
        let mut es = Vec::with_capacity(entries.len());
        for (i, (x, y)) in entries.iter().enumerate() {
            es.push((
                fr_from_py(x, &format!("entries[{i}][0]"))?,
                fr_from_py(y, &format!("entries[{i}][1]"))?,
            ));
        }
        Ok(self.inner.add_table(&name, es).py(py)?.0)
    }

    /// Constrain `(x, y)` to be an entry of table `table` (one lookup row).
    fn lookup(&mut self, py: Python<'_>, table: u32, x: u32, y: u32) -> PyResult<()> {
        if table as usize >= self.inner.num_tables() {
            return Err(py_error(
                py,
                "ParameterError",
                format!("{table} is not a table of this builder"),
            ));
        }
        let (x, y) = (self.var(py, x)?, self.var(py, y)?);
        self.inner.lookup(TableId(table), x, y);
        Ok(())
    }

    /// Make the circuit spec version 3 (`plonk.md` §8: packed commitments, one multi-point
    /// opening; five EVM scalar multiplications fewer). `build` refuses it unless the circuit
    /// uses a dot product (`q_N`) and lookups. Call it in the circuit function, so that setup and
    /// proving lay out the same circuit.
    fn set_packed(&mut self, on: bool) {
        self.inner.set_packed(on);
    }

    /// Rows made until the matching `pop_label` carry `label` in error messages.
    fn push_label(&mut self, label: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner
            .push_label(&text_arg(label, "a label", "ParameterError")?);
        Ok(())
    }

    fn pop_label(&mut self) {
        self.inner.pop_label();
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.inner.num_rows()
    }

    #[getter]
    fn num_public(&self) -> usize {
        self.inner.num_public()
    }

    /// Lay out the circuit and its witness.
    fn build(&mut self, py: Python<'_>) -> PyResult<PyCircuit> {
        let (circuit, witness) = self.inner.build().py(py)?;
        Ok(PyCircuit { circuit, witness })
    }
}

/// A laid-out circuit with the witness of the run that made it.
#[pyclass(name = "Circuit", module = "bigfile_zk.plonk", frozen)]
pub struct PyCircuit {
    circuit: Circuit,
    witness: [Vec<Fr>; 3],
}

fn dec(xs: &[Fr]) -> serde_json::Value {
    serde_json::Value::Array(
        xs.iter()
            .map(|x| serde_json::Value::String(field::to_decimal(x)))
            .collect(),
    )
}

impl PyCircuit {
    pub(crate) fn new(circuit: Circuit, witness: [Vec<Fr>; 3]) -> Self {
        PyCircuit { circuit, witness }
    }
}

#[pymethods]
impl PyCircuit {
    #[getter]
    fn k(&self) -> u32 {
        self.circuit.k
    }
    #[getter]
    fn num_public(&self) -> usize {
        self.circuit.num_public
    }
    #[getter]
    fn lookups(&self) -> bool {
        self.circuit.has_lookups()
    }
    /// The spec version the circuit needs (2 when it uses `q_N`, e.g. through `dot`).
    #[getter]
    fn version(&self) -> u8 {
        self.circuit.version()
    }
    fn public_inputs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        frs_to_py(py, &self.witness[0][..self.circuit.num_public])
    }
    /// Check the witness against every constraint (raises `UnsatisfiedError`).
    fn check_witness(&self, py: Python<'_>) -> PyResult<()> {
        self.circuit.check_witness(&self.witness).py(py)
    }
    /// The circuit in the interchange format of `docs/spec/plonk.md` §7.
    fn to_json(&self) -> String {
        let mut obj = serde_json::Map::new();
        let format = format!("bigfile_zk/plonk-circuit/v{}", self.circuit.version());
        obj.insert("format".into(), format.into());
        obj.insert("k".into(), self.circuit.k.into());
        obj.insert("num_public".into(), self.circuit.num_public.into());
        obj.insert("lookups".into(), self.circuit.has_lookups().into());
        for (name, col) in self.circuit.fixed.named() {
            obj.insert(name.into(), dec(col));
        }
        let copies: Vec<serde_json::Value> = self
            .circuit
            .copies
            .iter()
            .map(|c| {
                serde_json::json!(c
                    .iter()
                    .map(|(col, row)| [*col as usize, *row])
                    .collect::<Vec<_>>())
            })
            .collect();
        obj.insert("copies".into(), copies.into());
        serde_json::Value::Object(obj).to_string()
    }
    /// The witness (`a`, `b`, `c` as decimal strings), §7.
    fn witness_json(&self) -> String {
        serde_json::json!({"format": "bigfile_zk/plonk-witness/v1", "a": dec(&self.witness[0]), "b": dec(&self.witness[1]), "c": dec(&self.witness[2])})
            .to_string()
    }
}

#[pyclass(name = "VerifyingKey", module = "bigfile_zk.plonk", frozen, eq)]
#[derive(PartialEq)]
pub struct PyVerifyingKey(pub(crate) VerifyingKey);

#[pymethods]
impl PyVerifyingKey {
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_bytes())
    }
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        VerifyingKey::from_bytes(&data).map(PyVerifyingKey).py(py)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        VerifyingKey::from_json(&json_arg(text)?)
            .map(PyVerifyingKey)
            .py(py)
    }
    /// A self-contained Solidity verifier contract for this key (`docs/spec/solidity.md`).
    /// A key made with the insecure test SRS raises `InsecureSRSError` unless
    /// `allow_insecure_srs`; its contract then has `INSECURE_TEST_SRS = true`.
    #[pyo3(signature = (contract_name = None, *, allow_insecure_srs = false))]
    fn to_solidity(
        &self,
        py: Python<'_>,
        contract_name: Option<&Bound<'_, PyAny>>,
        allow_insecure_srs: bool,
    ) -> PyResult<String> {
        let name = match contract_name {
            Some(n) => text_arg(n, "the contract name", "ParameterError")?,
            None => "PlonkVerifier".to_string(),
        };
        self.0.to_solidity(&name, allow_insecure_srs).py(py)
    }
    /// Whether the key was made with the insecure test SRS (its τ is public: anyone can forge).
    #[getter]
    fn is_insecure(&self) -> bool {
        self.0.is_insecure()
    }
    /// `keccak256` of the key bytes, bound into every proof's transcript.
    fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.digest())
    }
    #[getter]
    fn k(&self) -> u32 {
        self.0.k
    }
    #[getter]
    fn num_public(&self) -> usize {
        self.0.num_public
    }
    #[getter]
    fn lookups(&self) -> bool {
        self.0.lookup.is_some()
    }
    /// The key's spec version (2 when the circuit uses `q_N`).
    #[getter]
    fn version(&self) -> u8 {
        self.0.version()
    }
    fn __repr__(&self) -> String {
        format!(
            "VerifyingKey(rows=2^{}, public_inputs={}, lookups={})",
            self.0.k,
            self.0.num_public,
            if self.0.lookup.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}

#[pyclass(name = "ProvingKey", module = "bigfile_zk.plonk", frozen)]
pub struct PyProvingKey(pub(crate) Arc<ProvingKey>);

#[pymethods]
impl PyProvingKey {
    #[getter]
    fn vk(&self) -> PyVerifyingKey {
        PyVerifyingKey(self.0.vk.clone())
    }
    #[getter]
    fn k(&self) -> u32 {
        self.0.vk.k
    }
    /// Checksummed bytes (a cache: loading skips the setup's MSMs).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let pk = &self.0;
        let bytes = py.detach(|| pk.to_bytes());
        PyBytes::new(py, &bytes)
    }
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        detached(py, || ProvingKey::from_bytes(&data)).map(|pk| PyProvingKey(Arc::new(pk)))
    }
    fn to_json(&self, py: Python<'_>) -> String {
        let pk = &self.0;
        py.detach(|| pk.to_json())
    }
    /// Write the cache encoding to `path` atomically: the prover's columns in the form it uses
    /// them, without the circuit or SRS powers (`plonk_load_key` checks them on load).
    fn save_cache(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let pk = &self.0;
        detached(py, || pk.save_cache(&path))
    }
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = json_arg(text)?;
        detached(py, || ProvingKey::from_json(&text)).map(|pk| PyProvingKey(Arc::new(pk)))
    }
    fn __repr__(&self) -> String {
        format!(
            "ProvingKey(rows=2^{}, public_inputs={})",
            self.0.vk.k, self.0.vk.num_public
        )
    }
}

#[pyclass(name = "Proof", module = "bigfile_zk.plonk", frozen, eq)]
#[derive(PartialEq)]
pub struct PyProof {
    proof: AnyProof,
    public: Vec<Fr>,
}

impl PyProof {
    pub(crate) fn new(proof: Proof, public: Vec<Fr>) -> Self {
        PyProof {
            proof: AnyProof::TwoPoint(proof),
            public,
        }
    }
}

#[pymethods]
impl PyProof {
    /// Versioned bytes (`"BFPF" ‖ version ‖ flags ‖ EVM bytes`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.proof.to_bytes())
    }
    fn to_json(&self) -> String {
        self.proof.to_json()
    }
    #[staticmethod]
    #[pyo3(signature = (text, public_inputs = None))]
    fn from_json(
        py: Python<'_>,
        text: &Bound<'_, PyAny>,
        public_inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let public = match public_inputs {
            Some(p) => frs_from_py(p, "public_inputs")?,
            None => vec![],
        };
        let proof = AnyProof::from_json(&json_arg(text)?).py(py)?;
        Ok(PyProof { proof, public })
    }
    /// ABI-encoded `verifyProof(proof, public_inputs)` call data (selector included): the
    /// `data` of a transaction or `eth_call` to the verifier contract.
    fn to_calldata<'py>(
        &self,
        py: Python<'py>,
        public_inputs: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let public = frs_from_py(public_inputs, "public_inputs")?;
        Ok(PyBytes::new(py, &self.proof.to_calldata(&public)))
    }
    /// The bytes `verifyProof(bytes proof, uint256[] publicInputs)` takes.
    fn to_evm_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.proof.to_evm_bytes())
    }
    #[staticmethod]
    #[pyo3(signature = (data, public_inputs = None))]
    fn from_bytes(
        py: Python<'_>,
        data: Vec<u8>,
        public_inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let public = match public_inputs {
            Some(p) => frs_from_py(p, "public_inputs")?,
            None => vec![],
        };
        let proof = AnyProof::from_bytes(&data).py(py)?;
        Ok(PyProof { proof, public })
    }
    /// The public inputs of the run that made the proof (a convenience: a verifier must use
    /// the values it expects, not these).
    #[getter]
    fn public_inputs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        frs_to_py(py, &self.public)
    }
    #[getter]
    fn lookups(&self) -> bool {
        self.proof.has_lookups()
    }
    /// The encoding's version: 1 (keys of spec versions 1 and 2) or 3 (a version-3 key).
    #[getter]
    fn version(&self) -> u8 {
        self.proof.version()
    }
    fn __len__(&self) -> usize {
        self.proof.to_evm_bytes().len()
    }
}

/// Keys from the circuit's shape (its witness is ignored).
#[pyfunction]
pub fn plonk_setup(
    py: Python<'_>,
    circuit: &PyCircuit,
    srs: &PySrs,
) -> PyResult<(PyProvingKey, PyVerifyingKey)> {
    let (c, s) = (&circuit.circuit, &srs.0);
    let (pk, vk) = detached(py, || plonk::setup(c, s))?;
    Ok((PyProvingKey(Arc::new(pk)), PyVerifyingKey(vk)))
}

/// Whether `pk` is `circuit`'s proving key under `srs`, for a key read from a cache: the same
/// circuit (shape, fixed columns, copies) and every commitment made with `srs`
/// (`ProvingKey::check_srs`: one MSM). Raises `ParameterError` saying what differs.
#[pyfunction]
pub fn plonk_check_key(
    py: Python<'_>,
    pk: &PyProvingKey,
    circuit: &PyCircuit,
    srs: &PySrs,
) -> PyResult<()> {
    let (pk, c, s) = (&pk.0, &circuit.circuit, &srs.0);
    detached(py, || {
        if let Some(diff) = pk.circuit.difference(c) {
            return Err(Error::InvalidParameter(format!(
                "this proving key is not the circuit's ({diff})"
            )));
        }
        pk.check_srs(s)
    })
}

/// `circuit`'s proving key from a cache file (`ProvingKey.save_cache`), checked against
/// `circuit` and `srs` before it is returned (`ProvingKey::read_cache`). Raises
/// `DecodeError` for a damaged file, `ParameterError` for another circuit's or SRS's key.
#[pyfunction]
pub fn plonk_load_key(
    py: Python<'_>,
    path: PathBuf,
    circuit: &PyCircuit,
    srs: &PySrs,
) -> PyResult<PyProvingKey> {
    let (c, s) = (&circuit.circuit, &srs.0);
    detached(py, || ProvingKey::load_cache(&path, c, s)).map(|pk| PyProvingKey(Arc::new(pk)))
}

/// Prove `circuit`'s witness under `pk`; the circuit must be the one `pk` was made from.
#[pyfunction]
#[pyo3(signature = (pk, circuit, blinding = None, on_progress = None))]
pub fn plonk_prove(
    py: Python<'_>,
    pk: &PyProvingKey,
    circuit: &PyCircuit,
    blinding: Option<&Bound<'_, PyAny>>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<PyProof> {
    if let Some(diff) = pk.0.circuit.difference(&circuit.circuit) {
        return Err(py_error(
            py,
            "ParameterError",
            format!(
                "the circuit laid out with these values differs from the one the key was made \
                 for ({diff}); a circuit's rows must not depend on its values"
            ),
        ));
    }
    let blinding = blinding.map(|b| frs_from_py(b, "blinding")).transpose()?;
    let pk = pk.0.clone();
    let w = &circuit.witness;
    let blinding = match blinding {
        Some(b) => b,
        None => plonk::random_blinding(&pk, &mut ark_std::rand::rngs::OsRng),
    };
    let proof = run_detached(py, on_progress, |report| {
        plonk::prove_any_with_progress(&pk, w, &blinding, report)
    })?;
    Ok(PyProof {
        proof,
        public: w[0][..pk.circuit.num_public].to_vec(),
    })
}

/// `True` iff the proof proves the statement (`vk`, `public_inputs`); `False` for any proof
/// that does not. A malformed statement (public inputs that are not field elements, or the wrong
/// number of them) raises, and so does a key made with the insecure test SRS unless
/// `allow_insecure_srs`.
#[pyfunction]
#[pyo3(signature = (vk, proof, public_inputs, *, allow_insecure_srs = false))]
pub fn plonk_verify(
    py: Python<'_>,
    vk: &PyVerifyingKey,
    proof: &PyProof,
    public_inputs: &Bound<'_, PyAny>,
    allow_insecure_srs: bool,
) -> PyResult<bool> {
    let public = frs_from_py(public_inputs, "public_inputs")?;
    let (vk, p) = (&vk.0, &proof.proof);
    if vk.is_insecure() && !allow_insecure_srs {
        return Err(to_py_err(py, insecure_key_error()));
    }
    detached(py, || plonk::verify_any(vk, p, &public))
}

/// Verifying against a test-SRS key without the opt-in.
pub(crate) fn insecure_key_error() -> Error {
    Error::InsecureSrs(
        "the verifying key was made with the insecure test SRS (its τ is public, so anyone can \
         forge a proof it accepts); verify against a key from a ceremony SRS, or pass \
         allow_insecure_srs=True in tests"
            .into(),
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBuilder>()?;
    m.add_class::<PyCircuit>()?;
    m.add_class::<PyVerifyingKey>()?;
    m.add_class::<PyProvingKey>()?;
    m.add_class::<PyProof>()?;
    m.add("PROVE_STEPS", plonk::PROVE_STEPS)?;
    m.add_function(wrap_pyfunction!(plonk_setup, m)?)?;
    m.add_function(wrap_pyfunction!(plonk_check_key, m)?)?;
    m.add_function(wrap_pyfunction!(plonk_load_key, m)?)?;
    m.add_function(wrap_pyfunction!(plonk_prove, m)?)?;
    m.add_function(wrap_pyfunction!(plonk_verify, m)?)?;
    Ok(())
}
