//! The proof-of-compute circuit against the quantization spec vectors: the Rust program's
//! forward pass equals the oracle's outputs, the layout satisfies every constraint, a changed
//! witness cell is refused, and small models prove and verify with the statement bound.

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_circuits::compute::{self, program::Program, Params};
use bigfile_zk::field;
use bigfile_zk::plonk::{self, Builder, Selector};
use bigfile_zk::srs::Srs;
use serde_json::Value;

/// The bucket layout wherever it applies (spec §4.2), not only for widely shared requants.
const BUCKETS: Params = Params {
    range_bits: 13,
    max_clamp_table: 1 << 13,
    bucket_min_outputs: 1,
    poseidon_gate: true,
    packed: true,
};

/// Poseidon on arithmetic rows: no degree-6 gate in the circuit (and spec version 2).
const ARITH: Params = Params {
    poseidon_gate: false,
    packed: false,
    ..BUCKETS
};

fn vectors() -> Value {
    spec_vectors("quantization.json")
}

fn spec_vectors(file: &str) -> Value {
    let path = format!("{}/../docs/spec/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn flatten(v: &Value, out: &mut Vec<i64>) {
    match v {
        Value::Array(xs) => xs.iter().for_each(|x| flatten(x, out)),
        x => out.push(x.as_i64().unwrap()),
    }
}

#[test]
fn forward_equals_the_oracle_and_layouts_hold() {
    let v = vectors();
    for m in v["models"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let p = Program::from_json(&m["model"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        for case in m["cases"].as_array().unwrap() {
            let mut x = Vec::new();
            flatten(&case["input"], &mut x);
            let mut want = Vec::new();
            flatten(&case["output"], &mut want);
            let tensors = p.forward(&x).unwrap();
            assert_eq!(tensors.last().unwrap(), &want, "{name}: forward");
            // Both clamp layouts: tables where they fit, and the comparison gadget everywhere.
            let wide = Params {
                max_clamp_table: 1,
                ..Params::default()
            };
            let mut b = Builder::new();
            compute::build(&mut b, &p, Some(&x), 7, Fr::from(0xabcdu64), wide).unwrap();
            let (circuit, witness) = b.build().unwrap();
            circuit
                .check_witness(&witness)
                .unwrap_or_else(|e| panic!("{name} (wide): {e}"));
            // And buckets for every requantization that can have them, with Poseidon on
            // either layout.
            for params in [BUCKETS, ARITH] {
                let mut b = Builder::new();
                compute::build(&mut b, &p, Some(&x), 7, Fr::from(0xabcdu64), params).unwrap();
                let (circuit, witness) = b.build().unwrap();
                circuit
                    .check_witness(&witness)
                    .unwrap_or_else(|e| panic!("{name} ({params:?}): {e}"));
            }
            let mut b = Builder::new();
            let st = compute::build(
                &mut b,
                &p,
                Some(&x),
                7,
                Fr::from(0xabcdu64),
                Params::default(),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            eprintln!(
                "{name}: {} rows (wide clamps: {})",
                b.num_rows(),
                circuit.n()
            );
            let (circuit, witness) = b.build().unwrap();
            circuit
                .check_witness(&witness)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                witness[0][..circuit.num_public].to_vec(),
                st.public_inputs(),
                "{name}"
            );
            let bytes = compute::input_bytes(&x);
            let c = bigfile_zk::commitment::commit_bytes(&bytes, Default::default()).unwrap();
            assert_eq!(
                st.input_commitment, c.commitment,
                "{name}: input commitment"
            );
            if want.len() <= compute::MAX_PUBLIC_OUTPUTS {
                let outs: Vec<Fr> = want.iter().map(|y| compute::fr(*y as i128)).collect();
                assert_eq!(st.outputs, outs, "{name}: outputs");
            }
        }
    }
}

/// The statement vectors (`docs/spec/vectors/compute.json`, spec §1): every model and case of
/// quantization.json, and compute.json's extra models at 12 and 13 outputs, has exactly these
/// public inputs for the vector's job and provider; the hashed ones are `output_hash` of the
/// outputs as field elements.
#[test]
fn statement_vectors() {
    let q = vectors();
    let c = spec_vectors("compute.json");
    let hex = |v: &Value| field::from_hex(v.as_str().unwrap(), "vector").unwrap();
    assert_eq!(
        hex(&c["outputs_iv"]),
        field::from_be_bytes_short(compute::OUTPUTS_IV)
    );
    assert_eq!(c["max_public_outputs"], compute::MAX_PUBLIC_OUTPUTS);
    let models: Vec<&Value> = q["models"]
        .as_array()
        .unwrap()
        .iter()
        .chain(c["extra_models"].as_array().unwrap())
        .collect();
    let (mut public, mut hashed) = (0, 0);
    for vector in c["vectors"].as_array().unwrap() {
        let name = vector["model"].as_str().unwrap();
        let index = vector["case"].as_u64().unwrap() as usize;
        let m = models.iter().find(|m| m["name"] == name).unwrap();
        let case = &m["cases"][index];
        let p = Program::from_json(&m["model"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut x = Vec::new();
        flatten(&case["input"], &mut x);
        let job_hex = vector["job"].as_str().unwrap().trim_start_matches("0x");
        let job = u64::from_str_radix(job_hex, 16).unwrap();
        let provider = hex(&vector["provider"]);
        let want: Vec<Fr> = vector["public_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(hex)
            .collect();
        let mut b = Builder::new();
        let st = compute::build(&mut b, &p, Some(&x), job, provider, Params::default())
            .unwrap_or_else(|e| panic!("{name}/{index}: {e}"));
        assert_eq!(st.public_inputs(), want, "{name}/{index}");
        assert_eq!(st.input_commitment, hex(&vector["input_commitment"]));
        let ys: Vec<Fr> = case["output_field"]
            .as_array()
            .unwrap()
            .iter()
            .map(hex)
            .collect();
        assert_eq!(vector["num_outputs"], ys.len());
        if vector["outputs_hashed"].as_bool().unwrap() {
            assert!(ys.len() > compute::MAX_PUBLIC_OUTPUTS);
            assert_eq!(want[3..], [compute::output_hash(&ys)], "{name}/{index}");
            hashed += 1;
        } else {
            assert_eq!(want[3..], ys, "{name}/{index}");
            public += 1;
        }
    }
    assert!(public > 0 && hashed > 1, "{public} public, {hashed} hashed");
}

#[test]
fn shape_is_independent_of_the_input() {
    let v = vectors();
    for m in v["models"].as_array().unwrap() {
        let p = Program::from_json(&m["model"]).unwrap();
        let mut x = Vec::new();
        flatten(&m["cases"][0]["input"], &mut x);
        let layout = |x: Option<&[i64]>, params: Params| {
            let mut b = Builder::new();
            compute::build(&mut b, &p, x, 1, Fr::one(), params).unwrap();
            let k = b.predicted_k();
            let circuit = b.build().unwrap().0;
            assert_eq!(circuit.k, k, "choose_params predicts k without building");
            circuit
        };
        for params in [Params::default(), BUCKETS, ARITH] {
            let (a, c) = (layout(None, params), layout(Some(&x), params));
            assert_eq!(a.fixed, c.fixed, "{}", m["name"]);
            assert_eq!(a.copies, c.copies, "{}", m["name"]);
        }
    }
}

#[test]
fn proofs_bind_the_statement_and_flips_fail() {
    let v = vectors();
    let srs = Srs::insecure_for_testing(5 * (1 << 14) + 10, 5).unwrap();
    for (name, params) in [
        ("dense_relu", Params::default()),
        ("max_pool_clip", Params::default()),
        ("cnn", BUCKETS),
        ("dense_relu", ARITH),
    ] {
        let m = v["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap();
        let p = Program::from_json(&m["model"]).unwrap();
        let mut x = Vec::new();
        flatten(&m["cases"][0]["input"], &mut x);
        let mut b = Builder::new();
        let st = compute::build(&mut b, &p, Some(&x), 42, Fr::from(99u64), params).unwrap();
        if params == BUCKETS {
            assert!(
                b.tables().any(|(t, _)| t.starts_with("compute/bucket")),
                "{name}: the bucket layout is exercised"
            );
        }
        let (circuit, witness) = b.build().unwrap();
        let round_gates = [Selector::QF, Selector::QP]
            .iter()
            .any(|s| circuit.selector(*s).unwrap().iter().any(|x| !x.is_zero()));
        assert_eq!(round_gates, params.poseidon_gate, "{name}: round-gate rows");
        assert_eq!(
            circuit.version(),
            if params.packed { 3 } else { 2 },
            "{name}: dot products make it version 2, packing version 3"
        );
        let (pk, vk) = plonk::setup(&circuit, &srs).unwrap();
        let proof = plonk::prove_any(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
        let public = st.public_inputs();
        assert!(plonk::verify_any(&vk, &proof, &public).unwrap(), "{name}");
        for i in 0..public.len() {
            let mut other = public.clone();
            other[i] += Fr::one();
            assert!(
                !plonk::verify_any(&vk, &proof, &other).unwrap(),
                "{name}: public input {i} changed"
            );
        }
        // Every constrained witness cell, flipped, is caught by the witness check.
        let n = circuit.n();
        let mut flipped = 0;
        // The arithmetic Poseidon's ≈ 10k extra rows are sampled (its rows are the builder's
        // mul/lin2 rows, flipped whole in the other cases).
        let step = if params.poseidon_gate { 1 } else { 5 };
        for i in (circuit.num_public..n).step_by(step) {
            for col in 0..3 {
                if !circuit.is_constrained(col, i) {
                    continue;
                }
                let mut bad = witness.clone();
                bad[col][i] += Fr::one();
                assert!(
                    circuit.check_witness(&bad).is_err(),
                    "{name}: cell {col},{i} flipped unnoticed"
                );
                flipped += 1;
            }
        }
        assert!(flipped > 1000, "{name}: {flipped}");
        // A wrong output, proved anyway, is refused.
        let mut bad = witness.clone();
        let out_row = circuit.num_public - 1;
        bad[0][out_row] += Fr::one();
        let forged = plonk::prover::prove_any_unchecked(
            &pk,
            &bad,
            &vec![Fr::from(3u64); plonk::prover::blinding_len(true)],
        )
        .unwrap();
        let mut claimed = public.clone();
        claimed[out_row] += Fr::one();
        assert!(
            !plonk::verify_any(&vk, &forged, &claimed).unwrap(),
            "{name}: forged output"
        );
    }
}
