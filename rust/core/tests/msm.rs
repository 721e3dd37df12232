//! Our MSM (`msm::pippenger`) against arkworks' `VariableBaseMSM` as the oracle, plus the pieces
//! it is built from: the GLV split and the signed-digit recoding.

use ark_bn254::{g1::Config, Fr, G1Affine, G1Projective};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInteger, Field, PrimeField, UniformRand, Zero};
use ark_std::rand::{rngs::StdRng, Rng, SeedableRng};
use bigfile_zk::msm::pippenger::{self, digits, glv, Params};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

fn oracle(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    G1Projective::msm(bases, scalars).unwrap()
}

/// `n` distinct pseudo-random points (a running sum of a random point: cheap to make).
fn points(n: usize, seed: u64) -> Vec<G1Affine> {
    let mut rng = StdRng::seed_from_u64(seed);
    let step = G1Projective::generator() * Fr::rand(&mut rng);
    let mut acc = step;
    let v: Vec<_> = (0..n)
        .map(|_| {
            acc += step;
            acc
        })
        .collect();
    G1Projective::normalize_batch(&v)
}

fn scalars(n: usize, seed: u64) -> Vec<Fr> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| Fr::rand(&mut rng)).collect()
}

fn pow2(k: u32) -> Fr {
    Fr::from(2u64).pow([k as u64])
}

/// Scalars that stress the recoding: tiny, near r, powers of two, all-ones bit runs (carries
/// through every signed digit, including the top one), and all-ones GLV halves.
fn special_scalars() -> Vec<Fr> {
    let mut v = vec![
        Fr::zero(),
        Fr::from(1u64),
        Fr::from(2u64),
        Fr::from(3u64),
        -Fr::from(1u64),
        -Fr::from(2u64),
        glv::LAMBDA,
        -glv::LAMBDA,
        Fr::from(u64::MAX),
        Fr::from(u128::MAX),
        Fr::from(2u64).inverse().unwrap(), // (r + 1) / 2
    ];
    for k in [1, 12, 13, 63, 64, 126, 127, 128, 200, 252, 253] {
        v.push(pow2(k));
        v.push(pow2(k) - Fr::from(1u64)); // k ones
        v.push(-pow2(k));
    }
    // Halves with all-ones bit patterns: k1 = k2 = 2^125 − 1 and sign variants (each is its own
    // split: the basis vectors are longer than the Babai box).
    let ones = pow2(125) - Fr::from(1u64);
    v.push(ones + glv::LAMBDA * ones);
    v.push(ones - glv::LAMBDA * ones);
    v.push(-ones - glv::LAMBDA * ones);
    v.push(ones * Fr::from(2u64) + Fr::from(1u64) + glv::LAMBDA * ones);
    v
}

// ---------------------------------------------------------------------------------------------
// GLV split and endomorphism

fn check_decomposition(k: Fr) {
    let ((n1, k1), (n2, k2)) = glv::decompose(&k);
    assert!(k1 < 1u128 << glv::HALF_BITS, "|k1| too large for {k}");
    assert!(k2 < 1u128 << glv::HALF_BITS, "|k2| too large for {k}");
    let f = |neg: bool, m: u128| if neg { -Fr::from(m) } else { Fr::from(m) };
    assert_eq!(
        f(n1, k1) + glv::LAMBDA * f(n2, k2),
        k,
        "k1 + λ·k2 ≠ k for {k}"
    );
}

#[test]
fn glv_decomposition_recomposes_within_bounds() {
    for k in special_scalars() {
        check_decomposition(k);
    }
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20_000 {
        check_decomposition(Fr::rand(&mut rng));
    }
    // Around multiples of r/λ-ish boundaries: consecutive scalars from random starts.
    for _ in 0..20 {
        let start = Fr::rand(&mut rng);
        for i in 0..50u64 {
            check_decomposition(start + Fr::from(i));
        }
    }
}

/// Ours rounds `β = (k, 0)·N⁻¹` to nearest on arkworks' basis `N`; arkworks'
/// `scalar_decomposition` truncates negative quotients toward zero instead (`num-bigint`'s
/// `div_rem`), so its halves can reach 127 bits. Both are `(k, 0) − β·N` on the same basis: they
/// may differ by at most one basis vector per coordinate, never more. Returns whether they agree.
fn compare_with_arkworks(k: Fr) -> bool {
    let ((n1, k1), (n2, k2)) = glv::decompose(&k);
    let ((p1, a1), (p2, a2)) = <Config as GLVConfig>::scalar_decomposition(k);
    let f = |neg: bool, m: u128| if neg { -Fr::from(m) } else { Fr::from(m) };
    let g = |pos: bool, m: Fr| if pos { m } else { -m };
    let (d1, d2) = (f(n1, k1) - g(p1, a1), f(n2, k2) - g(p2, a2));
    let n = <Config as GLVConfig>::SCALAR_DECOMP_COEFFS.map(|(pos, m)| g(pos, Fr::from(m)));
    let small = [-Fr::from(1u64), Fr::zero(), Fr::from(1u64)];
    let within_one = small.iter().any(|&e1| {
        small
            .iter()
            .any(|&e2| (d1, d2) == (e1 * n[0] + e2 * n[2], e1 * n[1] + e2 * n[3]))
    });
    assert!(
        within_one,
        "split of {k} is more than one basis vector from arkworks'"
    );
    d1.is_zero() && d2.is_zero()
}

#[test]
fn glv_decomposition_is_arkworks_up_to_rounding() {
    let mut agree = 0;
    for k in special_scalars() {
        compare_with_arkworks(k);
    }
    let mut rng = StdRng::seed_from_u64(6);
    for _ in 0..2000 {
        agree += compare_with_arkworks(Fr::rand(&mut rng)) as u32;
    }
    // Both round the same way whenever arkworks' truncations happen to round to nearest.
    assert!(
        agree > 200,
        "only {agree} of 2000 splits agree with arkworks'"
    );
}

#[test]
fn glv_halves_are_about_half_the_bits() {
    // The 126-bit bound is what the window count relies on; the halves of random scalars do use
    // nearly all of it (this also catches a split that degenerates to k1 = k, k2 = 0).
    let mut rng = StdRng::seed_from_u64(8);
    let mut widest = 0;
    for _ in 0..2000 {
        let ((_, k1), (_, k2)) = glv::decompose(&Fr::rand(&mut rng));
        widest = widest.max(128 - k1.max(k2).leading_zeros());
    }
    assert!(
        (125..=127).contains(&widest),
        "widest half has {widest} bits"
    );
}

#[test]
fn endomorphism_is_multiplication_by_lambda() {
    for p in points(5, 3).into_iter().chain([G1Affine::generator()]) {
        let phi = G1Affine::new(p.x * glv::BETA, p.y);
        assert_eq!(phi, (p * glv::LAMBDA).into_affine());
    }
    assert_eq!(glv::LAMBDA.pow([3]), Fr::from(1u64));
    assert_ne!(glv::LAMBDA, Fr::from(1u64));
}

// ---------------------------------------------------------------------------------------------
// Signed digits

fn check_digits(m: u128, c: u32) {
    let w = digits::window_count(c);
    assert!(w * c > glv::HALF_BITS, "the top window needs a spare bit");
    let mut sum = Fr::zero();
    let radix = pow2(c);
    for i in (0..w).rev() {
        let d = digits::digit(m, i, c);
        assert!(
            d.unsigned_abs() <= 1 << (c - 1),
            "digit {d} out of range (c = {c})"
        );
        let df = if d < 0 {
            -Fr::from(d.unsigned_abs())
        } else {
            Fr::from(d as u64)
        };
        sum = sum * radix + df;
    }
    assert_eq!(
        sum,
        Fr::from(m),
        "digits of {m:#x} (c = {c}) do not recompose"
    );
}

#[test]
fn signed_digits_recompose() {
    let max = (1u128 << glv::HALF_BITS) - 1;
    let mut rng = StdRng::seed_from_u64(9);
    for c in 2..=20 {
        let mut ms = vec![0, 1, 2, max, max - 1, max >> 1, 1 << 126, (1 << 126) + 1];
        // Runs of ones at every window boundary: every digit carries.
        for k in 1..=glv::HALF_BITS {
            ms.push((1u128 << k) - 1);
            ms.push(1u128 << (k - 1));
        }
        // Windows of exactly 2^(c-1) and 2^(c-1) - 1 (the digit range's edges).
        let (mut a, mut b) = (0u128, 0u128);
        for i in 0..digits::window_count(c) {
            if i * c + c <= glv::HALF_BITS {
                a |= 1u128 << (i * c + c - 1);
                b |= ((1u128 << (c - 1)) - 1) << (i * c);
            }
        }
        ms.extend([a, b, a | b]);
        ms.extend((0..200).map(|_| rng.gen::<u128>() & max));
        for m in ms {
            check_digits(m, c);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// MSM against arkworks

/// Every code path: the default parameters, the XYZZ path, batch-affine with tiny batches
/// (a batch of 1 flushes after every addition; 2–3 make queues and overflow spills frequent), and
/// sorted buckets with tiny blocks (2–5 points: buckets cut into pieces across blocks, trees of
/// every shape) as well as large ones (whole buckets, deep trees).
fn param_sets(n: usize) -> Vec<Params> {
    let mut v = vec![Params::for_size(n)];
    for c in [2, 5, 9, 13] {
        v.push(Params {
            c,
            batch: 0,
            splits: 2,
            bucket_splits: 1,
            sorted: false,
            simd: false,
        });
        for (batch, sorted) in [
            (1, false),
            (2, false),
            (3, false),
            (64, false),
            (2, true),
            (3, true),
            (5, true),
            (64, true),
            (8192, true),
        ] {
            for (splits, bucket_splits) in [(1, 1), (3, 1), (1, 2), (2, 4)] {
                // The sorted path with and without the vector arithmetic.
                for simd in [false, sorted] {
                    v.push(Params {
                        c,
                        batch,
                        splits,
                        bucket_splits,
                        sorted,
                        simd,
                    });
                }
            }
        }
    }
    v
}

fn check_all_paths(bases: &[G1Affine], scalars: &[Fr], what: &str) {
    let expected = oracle(bases, scalars);
    assert_eq!(pippenger::msm(bases, scalars), expected, "{what}: default");
    for p in param_sets(bases.len()) {
        let got = pippenger::msm_with_params(bases, scalars, p, &|_, _| true).unwrap();
        assert_eq!(got, expected, "{what}: {p:?}");
    }
}

#[test]
fn empty_and_single() {
    assert!(pippenger::msm(&[], &[]).is_zero());
    let p = points(1, 1);
    for s in special_scalars() {
        check_all_paths(&p, &[s], "n = 1");
    }
    check_all_paths(&[G1Affine::zero()], &[Fr::from(5u64)], "n = 1, identity");
}

#[test]
fn random_inputs_at_many_sizes() {
    // Non-powers of two, and sizes around the small-input threshold and batch sizes.
    for (i, n) in [
        2usize, 3, 7, 31, 100, 255, 513, 1000, 1023, 1024, 1025, 1500, 2049, 4099,
    ]
    .into_iter()
    .enumerate()
    {
        let (b, s) = (points(n, i as u64), scalars(n, 100 + i as u64));
        let expected = oracle(&b, &s);
        assert_eq!(pippenger::msm(&b, &s), expected, "n = {n}");
        if n <= 255 {
            check_all_paths(&b, &s, &format!("random, n = {n}"));
        } else {
            for p in [
                Params {
                    c: 9,
                    batch: 64,
                    splits: 2,
                    bucket_splits: 2,
                    sorted: false,
                    simd: false,
                },
                Params {
                    c: 9,
                    batch: 64,
                    splits: 2,
                    bucket_splits: 2,
                    sorted: true,
                    simd: true,
                },
                Params {
                    c: 7,
                    batch: 0,
                    splits: 2,
                    bucket_splits: 1,
                    sorted: false,
                    simd: false,
                },
            ] {
                let got = pippenger::msm_with_params(&b, &s, p, &|_, _| true);
                assert_eq!(got, Some(expected), "n = {n}, {p:?}");
            }
        }
    }
}

#[test]
fn large_input_runs_the_parallel_batch_affine_path() {
    let n = (1 << 16) + 3;
    assert!(Params::for_size(n).batch > 0);
    let (b, s) = (points(n, 11), scalars(n, 12));
    assert_eq!(pippenger::msm(&b, &s), oracle(&b, &s));
}

#[test]
fn special_scalars_on_random_points() {
    let s = special_scalars();
    let b = points(s.len(), 21);
    check_all_paths(&b, &s, "special scalars");
    // Each special scalar on many points at once: whole windows of equal digits.
    let b = points(300, 22);
    for k in special_scalars() {
        let s = vec![k; b.len()];
        assert_eq!(pippenger::msm(&b, &s), oracle(&b, &s), "all scalars = {k}");
        for sorted in [false, true] {
            let p = Params {
                c: 9,
                batch: 16,
                splits: 2,
                bucket_splits: 4,
                sorted,
                simd: sorted,
            };
            let got = pippenger::msm_with_params(&b, &s, p, &|_, _| true).unwrap();
            assert_eq!(got, oracle(&b, &s), "all scalars = {k}, {p:?}");
        }
    }
}

#[test]
fn zero_scalars() {
    let b = points(1500, 31);
    let zeros = vec![Fr::zero(); b.len()];
    assert!(pippenger::msm(&b, &zeros).is_zero());
    check_all_paths(&b[..200], &zeros[..200], "all zero");
    let mut s = scalars(b.len(), 32);
    for i in (0..s.len()).step_by(3) {
        s[i] = Fr::zero();
    }
    assert_eq!(pippenger::msm(&b, &s), oracle(&b, &s));
    check_all_paths(&b[..300], &s[..300], "some zero");
}

#[test]
fn repeated_points_force_doublings() {
    let p = points(3, 41);
    // The same point and scalar many times: every addition into its buckets is P + P, then
    // 2P + P, ...; in the batch path most of them wait in the queue or spill.
    for n in [2, 3, 64, 2000] {
        let b = vec![p[0]; n];
        for k in [Fr::from(1u64), -Fr::from(1u64), scalars(1, 42)[0]] {
            let s = vec![k; n];
            assert_eq!(pippenger::msm(&b, &s), oracle(&b, &s), "{n} × same point");
            if n <= 64 {
                check_all_paths(&b, &s, "same point, same scalar");
            }
        }
    }
    // [P, P, 2P, 4P]: doublings of bucket values built by doublings.
    let two = (p[0] + p[0]).into_affine();
    let four = (two + two).into_affine();
    let b = [p[0], p[0], two, four, p[1], p[1]];
    check_all_paths(&b, &[Fr::from(7u64); 6], "P, P, 2P, 4P");
    // All bases identical, random scalars.
    let b = vec![p[2]; 1200];
    let s = scalars(b.len(), 43);
    assert_eq!(pippenger::msm(&b, &s), oracle(&b, &s), "identical bases");
    check_all_paths(&b[..100], &s[..100], "identical bases");
}

#[test]
fn opposite_points_cancel() {
    let p = points(50, 51);
    let k = scalars(50, 52);
    // P and −P with equal scalars: the bucket meets −(its value) and empties; the sum is 0.
    let mut b = p.clone();
    b.extend(p.iter().map(|q| -*q));
    let mut s = k.clone();
    s.extend(k.iter().copied());
    assert!(oracle(&b, &s).is_zero());
    check_all_paths(&b, &s, "P and −P");
    // The same with P and scalar −k: pairs (P, k), (P, −k).
    let b2: Vec<_> = p.iter().chain(p.iter()).copied().collect();
    let s2: Vec<_> = k.iter().copied().chain(k.iter().map(|x| -*x)).collect();
    check_all_paths(&b2, &s2, "k and −k");
    // Interleaved P, −P, P: the bucket empties and refills.
    let b3 = [p[0], -p[0], p[0], -p[0], -p[0], p[1]];
    check_all_paths(&b3, &[Fr::from(9u64); 6], "P, −P, P, −P, −P");
    // Large: thousands of cancelling pairs plus a remainder.
    let big = points(3000, 53);
    let ks = scalars(3000, 54);
    let mut bb = big.clone();
    bb.extend(big[..2000].iter().map(|q| -*q));
    let mut ss = ks.clone();
    ss.extend(ks[..2000].iter().copied());
    assert_eq!(pippenger::msm(&bb, &ss), oracle(&bb, &ss));
}

/// Sorted buckets: the same scalar on every point puts all of them in the same bucket of every
/// window, in input order, so the input fixes the tree: `B ++ B` with `|B| = 2^(L−1)` makes the
/// two halves' sums meet at level `L` (a doubling), `B ++ −B` cancels there, and extra points
/// leave odd leftovers at every level.
#[test]
fn sorted_trees_double_and_cancel_at_every_level() {
    let pool = points(64, 91);
    let k = scalars(1, 92)[0];
    let mut cases: Vec<(String, Vec<G1Affine>)> = Vec::new();
    for level in 1..=6u32 {
        let half = &pool[..1 << (level - 1)];
        let neg: Vec<_> = half.iter().map(|p| -*p).collect();
        for extra in [0usize, 1, 3, 7] {
            let tail = &pool[32..32 + extra];
            let mut doubled = half.to_vec();
            doubled.extend_from_slice(half);
            doubled.extend_from_slice(tail);
            cases.push((format!("B ++ B, level {level}, +{extra}"), doubled));
            let mut cancelled = half.to_vec();
            cancelled.extend_from_slice(&neg);
            cancelled.extend_from_slice(tail);
            cases.push((format!("B ++ -B, level {level}, +{extra}"), cancelled));
            // Both, one after the other: a cancellation next to a doubling in the same level.
            let mut both = half.to_vec();
            both.extend_from_slice(&neg);
            both.extend_from_slice(half);
            both.extend_from_slice(half);
            both.extend_from_slice(tail);
            cases.push((format!("B, -B, B, B, level {level}, +{extra}"), both));
        }
    }
    // Buckets of 1, 2, 3 and many points, with every odd size up to 33.
    for m in 1..=33 {
        cases.push((format!("{m} distinct"), pool[..m].to_vec()));
    }
    cases.push(("64 distinct".into(), pool.clone()));
    // The same point many times: doublings at every level, leftovers that are multiples of P.
    for m in [2usize, 3, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33] {
        cases.push((format!("{m} × P"), vec![pool[0]; m]));
    }
    for (what, b) in &cases {
        for s in [vec![k; b.len()], vec![Fr::from(1u64); b.len()]] {
            let expected = oracle(b, &s);
            for (c, block) in [(5, 8192), (9, 8192), (13, 8192), (9, 2), (9, 3), (9, 7)] {
                let p = Params {
                    c,
                    batch: block,
                    splits: 1,
                    bucket_splits: 1,
                    sorted: true,
                    simd: true,
                };
                let got = pippenger::msm_with_params(b, &s, p, &|_, _| true).unwrap();
                assert_eq!(got, expected, "{what}: {p:?}");
            }
        }
    }
}

/// Sorted buckets with many buckets per block and a few buckets larger than a block.
#[test]
fn sorted_blocks_cut_large_buckets() {
    let n = 3000;
    let b = points(n, 93);
    let mut s = scalars(n, 94);
    // A third of the points share one scalar: one bucket per window far larger than a block.
    let k = s[0];
    for x in s.iter_mut().step_by(3) {
        *x = k;
    }
    let expected = oracle(&b, &s);
    for (c, block) in [(6, 64), (9, 100), (9, 1000), (11, 257), (13, 4096)] {
        for (splits, bucket_splits) in [(1, 1), (2, 1), (1, 4)] {
            let p = Params {
                c,
                batch: block,
                splits,
                bucket_splits,
                sorted: true,
                simd: true,
            };
            let got = pippenger::msm_with_params(&b, &s, p, &|_, _| true).unwrap();
            assert_eq!(got, expected, "{p:?}");
        }
    }
}

#[test]
fn identity_bases() {
    let mut b = points(1100, 61);
    let s = scalars(b.len(), 62);
    for i in (0..b.len()).step_by(7) {
        b[i] = G1Affine::zero();
    }
    assert_eq!(pippenger::msm(&b, &s), oracle(&b, &s));
    check_all_paths(&b[..100], &s[..100], "identity among bases");
    let all_zero = vec![G1Affine::zero(); 40];
    check_all_paths(&all_zero, &s[..40], "all identity");
}

#[test]
fn progress_reports_and_cancels() {
    let n = 5000;
    let (b, s) = (points(n, 71), scalars(n, 72));
    let expected = oracle(&b, &s);
    let calls = Mutex::new(Vec::new());
    let got = pippenger::msm_with_progress(&b, &s, &|done, total| {
        calls.lock().unwrap().push((done, total));
        true
    });
    assert_eq!(got, Some(expected));
    let calls = calls.into_inner().unwrap();
    assert!((5..=100).contains(&calls.len()), "{} calls", calls.len());
    let total = calls[0].1;
    assert!(calls.iter().all(|&(d, t)| t == total && d <= total));
    let last = calls.iter().map(|c| c.0).max().unwrap();
    assert_eq!(last, total, "the final report says done");

    // Cancel on the third call: the run stops early and returns None.
    let count = AtomicU64::new(0);
    let got =
        pippenger::msm_with_progress(&b, &s, &|_, _| count.fetch_add(1, Ordering::Relaxed) < 2);
    assert_eq!(got, None);
    assert!(count.load(Ordering::Relaxed) < calls.len() as u64);

    // Small inputs (XYZZ path) report and cancel too.
    let got = pippenger::msm_with_progress(&b[..10], &s[..10], &|_, _| false);
    assert_eq!(got, None);
}

// ---------------------------------------------------------------------------------------------
// Property-based: small random instances with collisions, negations, identities and special
// scalars, on random parameters.

fn base_pool() -> Vec<G1Affine> {
    let mut v = points(6, 81);
    let neg: Vec<_> = v.iter().map(|p| -*p).collect();
    v.extend(neg);
    v.push((v[0] + v[0]).into_affine());
    v.push(G1Affine::zero());
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_matches_arkworks(
        picks in prop::collection::vec((0usize..14, 0usize..64, any::<u64>()), 0..200),
        c in 2u32..14,
        batch in prop::sample::select(vec![0usize, 1, 2, 5, 32, 257]),
        splits in 1usize..4,
        bucket_splits in prop::sample::select(vec![1usize, 2, 4, 64]),
        sorted in any::<bool>(),
        simd in any::<bool>(),
    ) {
        let pool = base_pool();
        let specials = special_scalars();
        let mut rng = StdRng::seed_from_u64(picks.len() as u64);
        let bases: Vec<_> = picks.iter().map(|&(i, _, _)| pool[i]).collect();
        let scalars: Vec<_> = picks.iter().map(|&(_, j, x)| match j {
            0..=31 => specials[j % specials.len()],
            32..=40 => Fr::from(x),
            _ => Fr::rand(&mut rng),
        }).collect();
        let expected = oracle(&bases, &scalars);
        let p = Params { c, batch, splits, bucket_splits, sorted, simd };
        prop_assert_eq!(pippenger::msm_with_params(&bases, &scalars, p, &|_, _| true), Some(expected));
        prop_assert_eq!(pippenger::msm(&bases, &scalars), expected);
    }

    #[test]
    fn prop_glv_decomposition(limbs in any::<[u64; 4]>()) {
        let k = Fr::from_le_bytes_mod_order(&ark_ff::BigInt::<4>(limbs).to_bytes_le());
        check_decomposition(k);
    }
}
