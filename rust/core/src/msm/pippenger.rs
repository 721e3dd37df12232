//! The CPU MSM on BN254 G1: Pippenger's bucket method with
//! - the GLV endomorphism: each 254-bit scalar becomes two signed halves below 2^126 on `P` and
//!   `φ(P) = λ·P` ([`glv`]), which halves the number of windows;
//! - signed (Booth) digits, so a window of `c` bits needs `2^(c−1)` buckets ([`digits`]);
//! - sorted buckets ([`sorted`]): per window, a counting sort of the points by bucket, then each
//!   bucket summed by a pairwise tree of affine additions whose levels share one inversion per
//!   block of buckets (~6 field multiplications per addition, nothing to schedule), and the
//!   buckets weighted through two affine marginal sums instead of a running sum per bucket;
//! - rayon tasks = whole windows (or window halves when their count is odd); the windows' sums
//!   are combined by Horner's rule.
//!
//! The previous accumulation, affine buckets scheduled into batches with a collision queue
//! ([`batch_affine`]), stays selectable (`Params::sorted == false`) for comparisons. Small inputs
//! (below 1024 points), where a batch would share its inversion among too few additions, take
//! the same windows with XYZZ buckets instead. See [`Params::for_size`].
//!
//! `msm_speed` (2 threads) puts this at ~1.9–2.3× arkworks 0.6's `VariableBaseMSM` from 2^16 to
//! 2^20 points (CPU-time ratio, load 1.4–4.6; the scheduled batches measured 1.6–1.8× in the same
//! runs; wall-time ratios swing with the machine's load): both spend most of their time in `Fq`
//! multiplications (≈ 13.7 ns each here), ~6 per addition here against ~10 there.

pub mod batch_affine;
pub mod digits;
pub mod glv;
#[cfg(target_arch = "x86_64")]
pub mod simd;
pub mod sorted;

use ark_bn254::{g1::Config, Fr, G1Affine, G1Projective};
use ark_ec::short_weierstrass::Bucket;
use ark_ec::{AdditiveGroup, AffineRepr};
use ark_ff::Zero;
use batch_affine::{Accumulator, Pt};
use rayon::prelude::*;
use sorted::Sorter;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `Σ scalars[i]·bases[i]`; `bases.len() == scalars.len()` is the caller's duty.
pub fn msm(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    msm_with_progress(bases, scalars, &|_, _| true).expect("the callback never cancels")
}

/// [`msm`] reporting `progress(done, total)` a few dozen times (from any thread); returns `None`
/// as soon as possible after `progress` returns `false`.
pub fn msm_with_progress(
    bases: &[G1Affine],
    scalars: &[Fr],
    progress: &(dyn Fn(u64, u64) -> bool + Sync),
) -> Option<G1Projective> {
    msm_with_params(bases, scalars, Params::for_size(bases.len()), progress)
}

/// Tuning knobs (public for the benchmark's sweeps; [`Params::for_size`] is what [`msm`] uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Window width in bits.
    pub c: u32,
    /// Additions per shared inversion (the sorted path: points per block); 0 selects the
    /// XYZZ-bucket path.
    pub batch: usize,
    /// Point chunks per window (each chunk its own bucket set, each reduced on its own).
    pub splits: usize,
    /// Parts of a window's bucket range (not the XYZZ path): each task scans all points of
    /// its chunk but keeps only the digits of its part, so a thread's buckets are a fraction of
    /// the window's (L2-sized) while the reduction work is not duplicated. Power of two.
    pub bucket_splits: usize,
    /// Sorted-bucket accumulation ([`sorted`]) instead of the scheduled batch ([`batch_affine`]).
    pub sorted: bool,
    /// The sorted path's field arithmetic on eight lanes of AVX-512 IFMA ([`simd`]) when the
    /// CPU has it (ignored otherwise, and by the other paths).
    pub simd: bool,
}

impl Params {
    /// Measured with `examples/msm_speed.rs` on 2 Zen 4 cores (sweeps over c, batch and splits).
    pub fn for_size(n: usize) -> Params {
        let log = n.max(1).ilog2();
        if n < SMALL_N {
            return Params {
                c: log.saturating_sub(1).clamp(2, 9),
                batch: 0,
                splits: 1,
                bucket_splits: 1,
                sorted: false,
                simd: false,
            };
        }
        // Window width: the cost is (windows ≈ 127/c) × (2n − 2^(c−1) additions + 2^(c−1)
        // buckets to reduce at ~4 additions' price each). Only the window count matters beyond
        // that (c = 13 and 14 both take 10 windows, 15 takes 9, 16 to 18 take 8). With the
        // weights through marginal sums (~2 additions per bucket), c = 16 (8 windows, 2^15
        // buckets) wins from 2^16 points on (2^16: ~1.05× faster than c = 13, 2^17: ~1.1×).
        let c = match log {
            ..=11 => 10,
            12..=13 => 11,
            14..=15 => 12,
            _ => 16,
        };
        Params {
            c,
            // Points per block of the sorted accumulation: a block's tree levels (points, scratch
            // and pair products, ~1.2 MiB for 8192 points) about fill the L2, and each level's
            // inversion is shared by thousands of additions.
            batch: 8192,
            // Whole windows per task, so that the reduction is not duplicated, when their number is
            // even (2 threads); an odd count gets each window split in two halves of points.
            splits: if digits::window_count(c).is_multiple_of(2) {
                1
            } else {
                2
            },
            bucket_splits: 1,
            sorted: true,
            simd: true,
        }
    }
}

/// Below this many points the XYZZ path wins: a window's batch would be too small to amortise
/// its inversion.
const SMALL_N: usize = 1 << 10;

/// How often tasks report progress (and look for a cancellation): about this many times per run.
const PROGRESS_CALLS: u64 = 64;

#[doc(hidden)]
pub fn msm_with_params(
    bases: &[G1Affine],
    scalars: &[Fr],
    params: Params,
    progress: &(dyn Fn(u64, u64) -> bool + Sync),
) -> Option<G1Projective> {
    assert_eq!(bases.len(), scalars.len(), "as many scalars as points");
    let simd = params.simd
        && params.sorted
        && params.batch != 0
        && cfg!(target_arch = "x86_64")
        && crate::field_simd::enabled();
    let (points, mags) = glv_expand(bases, scalars, simd);
    let c = params.c;
    let w = digits::window_count(c);
    let n = points.len();
    let splits = params.splits.clamp(1, n.max(1));
    let chunk = n.div_ceil(splits).max(1);
    let num_buckets = 1usize << (c - 1);
    let parts = if params.batch == 0 {
        1
    } else {
        params
            .bucket_splits
            .clamp(1, num_buckets)
            .next_power_of_two()
    };
    let part_len = num_buckets / parts;
    // Progress in points scanned by window tasks.
    let total = w as u64 * n as u64 * parts as u64;
    let step = (total / PROGRESS_CALLS).max(1) as usize;
    let done = AtomicU64::new(0);
    let cancelled = AtomicBool::new(false);
    // Reports `units` more work done (0: only asks); false once cancelled.
    let report = |units: usize| -> bool {
        if cancelled.load(Ordering::Relaxed) {
            return false;
        }
        if units == 0 {
            return true;
        }
        let d = done.fetch_add(units as u64, Ordering::Relaxed) + units as u64;
        if !progress(d, total) {
            cancelled.store(true, Ordering::Relaxed);
            return false;
        }
        true
    };
    let chunks = n.div_ceil(chunk);
    let tasks: Vec<(u32, usize, usize)> = (0..w)
        .flat_map(|j| (0..chunks).flat_map(move |s| (0..parts).map(move |h| (j, s, h))))
        .collect();
    let sums: Vec<(u32, Option<Bucket<Config>>)> = if params.batch == 0 {
        tasks
            .par_iter()
            .map_init(
                || vec![Bucket::<Config>::ZERO; num_buckets],
                |buckets, &(j, s, _)| {
                    let range = s * chunk..((s + 1) * chunk).min(n);
                    let r = window_xyzz(
                        buckets,
                        &points[range.clone()],
                        &mags[range],
                        j,
                        c,
                        step,
                        &report,
                    );
                    (j, r)
                },
            )
            .collect()
    } else if params.sorted {
        tasks
            .par_iter()
            .map_init(
                || Sorter::new(params.batch, simd),
                |sorter, &(j, s, h)| {
                    let range = s * chunk..((s + 1) * chunk).min(n);
                    let lo = (h * part_len) as u32;
                    let (mut pending, mut flushed) = (0usize, 0usize);
                    let mut tick = |units: usize| -> bool {
                        pending += units;
                        if pending < step {
                            return report(0);
                        }
                        flushed += pending;
                        report(std::mem::take(&mut pending))
                    };
                    let r = sorter.window(
                        &points[range.clone()],
                        &mags[range.clone()],
                        (j, c),
                        (lo, part_len),
                        &mut tick,
                    );
                    // Every point of the chunk counts as scanned, digits in range or not.
                    let r = r
                        .filter(|_| report(range.len() - flushed))
                        .map(|(weighted, mut total)| weighted + &times(&mut total, lo));
                    (j, r)
                },
            )
            .collect()
    } else {
        tasks
            .par_iter()
            .map_init(
                || Accumulator::new(part_len, params.batch),
                |acc, &(j, s, h)| {
                    let range = s * chunk..((s + 1) * chunk).min(n);
                    let r = window_affine(
                        acc,
                        &points[range.clone()],
                        &mags[range],
                        (j, c),
                        (h * part_len) as u32,
                        step,
                        &report,
                    );
                    (j, r)
                },
            )
            .collect()
    };
    let mut windows = vec![Bucket::<Config>::ZERO; w as usize];
    for (j, s) in sums {
        windows[j as usize] += &s?;
    }
    // Horner from the top window: Σ_j 2^(j·c)·window_j.
    let mut acc = G1Projective::zero();
    for s in windows.into_iter().rev() {
        for _ in 0..c {
            acc.double_in_place();
        }
        acc += G1Projective::from(s);
    }
    Some(acc)
}

/// The GLV points `±P_i, ±φ(P_i)` (signs folded in) and the magnitudes of their half-scalars,
/// the points scaled for the vector path if `simd` ([`simd::scale`]). Identity bases and zero
/// halves get magnitude 0, whose digits are all 0.
fn glv_expand(bases: &[G1Affine], scalars: &[Fr], simd: bool) -> (Vec<Pt>, Vec<u128>) {
    const CHUNK: usize = 1 << 12;
    let n = bases.len();
    let mut points = vec![Pt::default(); 2 * n];
    let mut mags = vec![0u128; 2 * n];
    points
        .par_chunks_mut(2 * CHUNK)
        .zip(mags.par_chunks_mut(2 * CHUNK))
        .zip(bases.par_chunks(CHUNK).zip(scalars.par_chunks(CHUNK)))
        .for_each(|((pts, ms), (bs, ss))| {
            for (i, (b, s)) in bs.iter().zip(ss).enumerate() {
                if b.is_zero() {
                    continue;
                }
                let ((neg1, k1), (neg2, k2)) = glv::decompose(s);
                let mut p = Pt { x: b.x, y: b.y };
                let mut phi = Pt {
                    x: b.x * glv::BETA,
                    y: b.y,
                };
                #[cfg(target_arch = "x86_64")]
                if simd {
                    (p, phi) = (simd::scale(p), simd::scale(phi));
                }
                pts[2 * i] = if neg1 { -p } else { p };
                pts[2 * i + 1] = if neg2 { -phi } else { phi };
                ms[2 * i] = k1;
                ms[2 * i + 1] = k2;
            }
        });
    (points, mags)
}

/// Window `j` (of width `c`) of `Σ m_i·P_i` over one chunk, with batch-affine buckets, restricted
/// to the digits `|d| − 1 ∈ [lo, lo + acc.num_buckets())`. `None` if cancelled.
fn window_affine(
    acc: &mut Accumulator,
    points: &[Pt],
    mags: &[u128],
    (j, c): (u32, u32),
    lo: u32,
    step: usize,
    report: &(dyn Fn(usize) -> bool + Sync),
) -> Option<Bucket<Config>> {
    let len = acc.num_buckets() as u32;
    for (pts, ms) in points.chunks(step).zip(mags.chunks(step)) {
        if !report(0) {
            acc.clear();
            return None;
        }
        for (p, &m) in pts.iter().zip(ms) {
            let d = digits::digit(m, j, c);
            // d = 0 wraps to u32::MAX and is skipped with the other parts' digits.
            let k = (d.unsigned_abs().wrapping_sub(1)).wrapping_sub(lo);
            if k < len {
                acc.add(k, if d < 0 { -*p } else { *p });
            }
        }
        if !report(pts.len()) {
            acc.clear();
            return None;
        }
    }
    acc.finish();
    // Σ (lo + i + 1)·B_i = Σ (i + 1)·B_i + lo·Σ B_i.
    let (weighted, mut total) = acc.reduce();
    Some(weighted + &times(&mut total, lo))
}

/// `k·b` by double-and-add (`k` is a bucket offset: below 2^30), consuming `b`.
fn times(b: &mut Bucket<Config>, mut k: u32) -> Bucket<Config> {
    let mut acc = Bucket::<Config>::ZERO;
    while k != 0 {
        if k & 1 == 1 {
            acc += &*b;
        }
        k >>= 1;
        if k != 0 {
            b.double_in_place();
        }
    }
    acc
}

/// Window `j` over one chunk with XYZZ buckets (small inputs). `None` if cancelled.
fn window_xyzz(
    buckets: &mut [Bucket<Config>],
    points: &[Pt],
    mags: &[u128],
    j: u32,
    c: u32,
    step: usize,
    report: &(dyn Fn(usize) -> bool + Sync),
) -> Option<Bucket<Config>> {
    for (pts, ms) in points.chunks(step).zip(mags.chunks(step)) {
        if !report(0) {
            buckets.fill(Bucket::ZERO);
            return None;
        }
        for (p, &m) in pts.iter().zip(ms) {
            let d = digits::digit(m, j, c);
            if d != 0 {
                let b = &mut buckets[(d.unsigned_abs() - 1) as usize];
                if d > 0 {
                    *b += p.to_affine();
                } else {
                    *b -= p.to_affine();
                }
            }
        }
        if !report(pts.len()) {
            buckets.fill(Bucket::ZERO);
            return None;
        }
    }
    let mut running = Bucket::<Config>::ZERO;
    let mut sum = Bucket::<Config>::ZERO;
    for b in buckets.iter_mut().rev() {
        running += &*b;
        sum += &running;
        *b = Bucket::ZERO;
    }
    Some(sum)
}
