//! Our G1 MSM against arkworks 0.6's `VariableBaseMSM`, side by side on the same inputs in the
//! same run (the issue-3 target is ours ≥ 1.5× faster at 2^16, 2^18, 2^20 on 2 threads).
//!
//! `cargo run --release --example msm_speed -p bigfile-zk [-- 16 18 20] [reps=5]`
//!
//! Tuning sweeps (comma lists, every combination is timed against the same arkworks run):
//! `... -- 18 c=13,14,15 batch=512,1024,2048 splits=1,2`
use ark_bn254::{Fr, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_zk::msm::pippenger::{self, Params};
use std::time::Instant;

fn list(args: &[String], key: &str) -> Vec<usize> {
    args.iter()
        .filter_map(|a| a.strip_prefix(key))
        .flat_map(|v| v.split(',').map(|x| x.parse().expect("a number")))
        .collect::<Vec<usize>>()
}

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let logs: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let logs = if logs.is_empty() {
        vec![16, 18, 20]
    } else {
        logs
    };
    let reps = list(&args, "reps=").first().copied().unwrap_or(5);
    let (cs, batches, splits) = (
        list(&args, "c="),
        list(&args, "batch="),
        list(&args, "splits="),
    );
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
    println!(
        "{} rayon threads, best of {reps}; load {}",
        rayon::current_num_threads(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!("| n | ours (ms) | arkworks (ms) | arkworks / ours | params |");
    println!("|---|---|---|---|---|");
    for log in logs {
        let n = 1usize << log;
        let (b, s) = (&bases[..n], &scalars[..n]);
        let default = Params::for_size(n);
        let mut variants = vec![];
        for &c in if cs.is_empty() {
            vec![default.c as usize]
        } else {
            cs.clone()
        }
        .iter()
        {
            for &batch in if batches.is_empty() {
                vec![default.batch]
            } else {
                batches.clone()
            }
            .iter()
            {
                for &sp in if splits.is_empty() {
                    vec![default.splits]
                } else {
                    splits.clone()
                }
                .iter()
                {
                    variants.push(Params {
                        c: c as u32,
                        batch,
                        splits: sp,
                    });
                }
            }
        }
        let expected = G1Projective::msm(b, s).unwrap();
        for p in &variants {
            let ours = pippenger::msm_with_params(b, s, *p, &|_, _| true).unwrap();
            assert_eq!(ours, expected, "2^{log} with {p:?} disagrees with arkworks");
        }
        // Interleave the contenders so that a disturbance hits both alike.
        let mut t_ark = f64::INFINITY;
        let mut t_ours = vec![f64::INFINITY; variants.len()];
        for _ in 0..reps {
            if !args.iter().any(|a| a == "ours-only") {
                t_ark = t_ark.min(best_of(1, || G1Projective::msm(b, s).unwrap()));
            }
            for (t, p) in t_ours.iter_mut().zip(&variants) {
                *t = t.min(best_of(1, || {
                    pippenger::msm_with_params(b, s, *p, &|_, _| true)
                }));
            }
        }
        for (t, p) in t_ours.iter().zip(&variants) {
            println!(
                "| 2^{log} | {:.1} | {:.1} | {:.2}x | c={} batch={} splits={} |",
                t * 1e3,
                t_ark * 1e3,
                t_ark / t,
                p.c,
                p.batch,
                p.splits
            );
        }
    }
}
