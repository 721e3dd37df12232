//! arkworks' G1 MSM on this machine: the baseline the project's MSM must beat by 1.5×
//! (issue 3). `cargo run --release --example msm_speed -p bigfile-zk [-- 16 18 20]`
use ark_bn254::{Fr, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use std::time::Instant;

fn main() {
    let logs: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let logs = if logs.is_empty() {
        vec![16, 18, 20]
    } else {
        logs
    };
    let max = 1usize << logs.iter().max().copied().unwrap_or(16);
    let mut rng = StdRng::seed_from_u64(1);
    // Random bases without a full scalar multiplication each: a running sum of a random point.
    let step = G1Projective::generator() * Fr::rand(&mut rng);
    let mut acc = step;
    let bases: Vec<_> = (0..max)
        .map(|_| {
            acc += step;
            acc
        })
        .collect();
    let bases = G1Projective::normalize_batch(&bases);
    let scalars: Vec<Fr> = (0..max).map(|_| Fr::rand(&mut rng)).collect();
    for log in logs {
        let n = 1usize << log;
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            let r = G1Projective::msm(&bases[..n], &scalars[..n]).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            let _ = std::hint::black_box(r);
        }
        println!(
            "arkworks 0.6 G1 MSM 2^{log}: {:.1} ms (best of 3, {} threads)",
            best * 1e3,
            rayon::current_num_threads()
        );
    }
}
