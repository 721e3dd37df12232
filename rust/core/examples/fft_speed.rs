//! FFT timings: ark-poly against `bigfile_zk::fft` (the vector path where the CPU has IFMA).
//! `cargo run --release --example fft_speed -- [log sizes…]` (default 16 18 20).

use ark_bn254::Fr;
use ark_ff::{FftField, UniformRand};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use std::time::Instant;

fn best(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let logs: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a log size"))
        .collect();
    let logs = if logs.is_empty() {
        vec![16, 18, 20]
    } else {
        logs
    };
    let mut rng = StdRng::seed_from_u64(1);
    println!("| n | ark-poly coset FFT | ours | ark-poly coset iFFT | ours |");
    println!("|---|---|---|---|---|");
    for log in logs {
        let n = 1usize << log;
        let x: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let g = Fr::GENERATOR;
        let d = Radix2EvaluationDomain::<Fr>::new(n)
            .unwrap()
            .get_coset(g)
            .unwrap();
        let rounds = if log <= 18 { 5 } else { 3 };
        let ark_f = best(rounds, || {
            let mut y = x.clone();
            d.fft_in_place(&mut y);
        });
        let ours_f = best(rounds, || {
            let mut y = x.clone();
            bigfile_zk::fft::coset_fft_in_place(&mut y, g);
        });
        let ark_i = best(rounds, || {
            let mut y = x.clone();
            d.ifft_in_place(&mut y);
        });
        let ours_i = best(rounds, || {
            let mut y = x.clone();
            bigfile_zk::fft::coset_ifft_in_place(&mut y, g);
        });
        let ms = |s: f64| format!("{:.1} ms", s * 1e3);
        println!(
            "| 2^{log} | {} | {} | {} | {} |",
            ms(ark_f),
            ms(ours_f),
            ms(ark_i),
            ms(ours_i)
        );
    }
}
