//! Proof-of-compute size and timing for a `QuantizedModel` JSON (as `to_dict()` writes it).
//! `cargo run --release --example compute_speed -p bigfile-circuits -- model.json input.json
//! [range_bits] [max_clamp_table] [poseidon_gate] [packed]` (`packed`: spec version 3 or 2; `-`
//! keeps the value `choose_params` picked)
use ark_bn254::Fr;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_circuits::compute::{self, program::Program};
use bigfile_zk::plonk::{self, Builder};
use bigfile_zk::srs::Srs;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&args[1]).unwrap()).unwrap();
    let x: Vec<i64> = serde_json::from_str(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let p0 = Program::from_json(&model).unwrap();
    let t = Instant::now();
    let mut params = compute::choose_params(&p0).unwrap();
    println!("choose_params: {params:?} in {:.2?}", t.elapsed());
    // "-" keeps the chosen value.
    let arg = |i: usize| args.get(i).filter(|a| *a != "-");
    if let Some(b) = arg(3) {
        params.range_bits = b.parse().unwrap();
    }
    if let Some(t) = arg(4) {
        params.max_clamp_table = t.parse().unwrap();
    }
    if let Some(g) = arg(5) {
        params.poseidon_gate = g.parse().unwrap();
    }
    if let Some(v) = arg(6) {
        params.packed = v.parse().unwrap();
    }
    let p = Program::from_json(&model).unwrap();
    let t = Instant::now();
    let mut b = Builder::new();
    let st = compute::build(&mut b, &p, Some(&x), 1, Fr::from(2u64), params).unwrap();
    let rows = b.num_rows();
    let (circuit, witness) = b.build().unwrap();
    let t_build = t.elapsed();
    let n = circuit.n();
    println!(
        "{}: {rows} rows, n = 2^{} ({}), version {}, {} public inputs",
        args[1],
        circuit.k,
        n,
        circuit.version(),
        st.public_inputs().len()
    );
    // Rows per gadget label (the top-level part: "input", a node's name, …).
    let mut per: Vec<(String, usize)> = Vec::new();
    for (i, (row, label)) in circuit.labels.iter().enumerate() {
        let end = circuit
            .labels
            .get(i + 1)
            .map_or(rows + circuit.num_public, |(r, _)| *r);
        let top = label.split('/').next().unwrap_or("").to_string();
        match per.iter_mut().find(|(l, _)| *l == top) {
            Some((_, c)) => *c += end - row,
            None => per.push((top, end - row)),
        }
    }
    println!("rows by part: {per:?}");
    // Just the powers the circuit needs (5n + 10 with the Poseidon round gate, else 4n + 12 in
    // version 3, 3n + 10 in version 2).
    let srs = Srs::insecure_for_testing(plonk::keys::srs_powers_for(&circuit) - 1, 1).unwrap();
    let t = Instant::now();
    let (pk, vk) = plonk::setup(&circuit, &srs).unwrap();
    let t_setup = t.elapsed();
    let t = Instant::now();
    let proof = plonk::prove_any(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
    let t_prove = t.elapsed();
    let t = Instant::now();
    let ok = plonk::verify_any(&vk, &proof, &st.public_inputs()).unwrap();
    println!(
        "build {t_build:.2?}, setup {t_setup:.2?}, prove {t_prove:.2?}, verify {:.2?} ({ok}), proof {} bytes",
        t.elapsed(),
        proof.to_evm_bytes().len()
    );
    assert!(ok);
}
