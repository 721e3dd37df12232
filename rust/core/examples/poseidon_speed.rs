//! Quick single-thread Poseidon timing: `cargo run --release --example poseidon_speed`.
use bigfile_zk::{poseidon, Fr};
use std::time::Instant;

fn main() {
    for t in [3usize, 5, 9, 17] {
        let mut state: Vec<Fr> = (0..t as u64).map(Fr::from).collect();
        poseidon::permute(&mut state).unwrap();
        let n = 200_000 / t;
        let start = Instant::now();
        for _ in 0..n {
            poseidon::permute(&mut state).unwrap();
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("t = {t:2}: {us:.2} µs per permutation");
    }
}
