//! Our G1 MSM against arkworks 0.6's `VariableBaseMSM`, side by side on the same inputs in the
//! same run (the issue-3 target is ours ≥ 1.5× faster at 2^16, 2^18, 2^20 on 2 threads).
//!
//! `cargo run --release --example msm_speed -p bigfile-zk [-- 16 18 20] [reps=5]`
//!
//! Tuning sweeps (comma lists, every combination is timed against the same arkworks run):
//! `... -- 18 c=13,14,15 batch=512,1024,2048 splits=1,2 parts=1,2 sorted=0,1 simd=0,1`
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

/// CPU time of the process so far, exited threads included (arkworks runs each MSM on a fresh
/// thread pool), in seconds: utime + stime of /proc/self/stat, in 1/100 s ticks. Unlike wall time
/// it barely moves when another job shares the cores, so its mean is reported beside the best wall
/// time.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

/// (wall, cpu) seconds of one call.
fn time<T>(f: impl FnOnce() -> T) -> (f64, f64) {
    let (t, c) = (Instant::now(), cpu_s());
    std::hint::black_box(f());
    (t.elapsed().as_secs_f64(), cpu_s() - c)
}

/// (best wall, total cpu)
fn fold(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0.min(b.0), a.1 + b.1)
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
    let (cs, batches, splits, parts, sorteds) = (
        list(&args, "c="),
        list(&args, "batch="),
        list(&args, "splits="),
        list(&args, "parts="),
        list(&args, "sorted="),
    );
    let simds = list(&args, "simd=");
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
    println!(
        "| n | ours (ms) | arkworks (ms) | arkworks / ours | mean CPU ms ours / arkworks | params |"
    );
    println!("|---|---|---|---|---|---|");
    for log in logs {
        let n = 1usize << log;
        let (b, s) = (&bases[..n], &scalars[..n]);
        let default = Params::for_size(n);
        let or = |v: &Vec<usize>, d: usize| if v.is_empty() { vec![d] } else { v.clone() };
        let mut variants = vec![];
        for c in or(&cs, default.c as usize) {
            for batch in or(&batches, default.batch) {
                for sp in or(&splits, default.splits) {
                    for pa in or(&parts, default.bucket_splits) {
                        for (so, si) in
                            or(&sorteds, default.sorted as usize)
                                .into_iter()
                                .flat_map(|so| {
                                    or(&simds, default.simd as usize)
                                        .into_iter()
                                        .map(move |si| (so, si))
                                })
                        {
                            variants.push(Params {
                                c: c as u32,
                                batch,
                                splits: sp,
                                bucket_splits: pa,
                                sorted: so != 0,
                                simd: si != 0,
                            });
                        }
                    }
                }
            }
        }
        let expected = G1Projective::msm(b, s).unwrap();
        for p in &variants {
            let ours = pippenger::msm_with_params(b, s, *p, &|_, _| true).unwrap();
            assert_eq!(ours, expected, "2^{log} with {p:?} disagrees with arkworks");
        }
        // Interleave the contenders so that a disturbance hits both alike.
        const INF: (f64, f64) = (f64::INFINITY, 0.0);
        let mut t_ark = INF;
        let mut t_ours = vec![INF; variants.len()];
        for _ in 0..reps {
            if !args.iter().any(|a| a == "ours-only") {
                t_ark = fold(t_ark, time(|| G1Projective::msm(b, s).unwrap()));
            }
            for (t, p) in t_ours.iter_mut().zip(&variants) {
                *t = fold(
                    *t,
                    time(|| pippenger::msm_with_params(b, s, *p, &|_, _| true)),
                );
            }
        }
        for (t, p) in t_ours.iter().zip(&variants) {
            println!(
                "| 2^{log} | {:.1} | {:.1} | {:.2}x | {:.0} / {:.0} ({:.2}x) | c={} batch={} splits={} parts={} sorted={} simd={} |",
                t.0 * 1e3,
                t_ark.0 * 1e3,
                t_ark.0 / t.0,
                t.1 * 1e3 / reps as f64,
                t_ark.1 * 1e3 / reps as f64,
                t_ark.1 / t.1,
                p.c,
                p.batch,
                p.splits,
                p.bucket_splits,
                p.sorted as u8,
                p.simd as u8
            );
        }
    }
}
