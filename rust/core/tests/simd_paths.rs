//! The AVX-512 IFMA path (field_simd) against the scalar arkworks path: file commitments,
//! leaves and Merkle trees must be byte-identical whichever path runs. The switch is
//! process-wide, so the tests that flip it hold one lock.
use bigfile_zk::commitment::{commit_bytes, leaf_hash, leaf_hashes, Layout};
use bigfile_zk::field_simd;
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::{poseidon, Fr};
use std::sync::Mutex;

static SWITCH: Mutex<()> = Mutex::new(());

/// `f` on the scalar path, then on the default path (vector where available).
fn both<T>(f: impl Fn() -> T) -> (T, T) {
    let _guard = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    field_simd::set_enabled(false);
    assert!(!poseidon::simd_enabled());
    let scalar = f();
    field_simd::set_enabled(true);
    assert_eq!(poseidon::simd_enabled(), field_simd::hardware_available());
    (scalar, f())
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn vector_path_runs_where_the_cpu_has_it() {
    // Otherwise every comparison below would be scalar against scalar.
    if std::env::var_os(field_simd::ENV_NO_SIMD).is_none() {
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            field_simd::hardware_available(),
            is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
        );
    }
}

#[test]
fn commitments_agree_across_sizes_and_layouts() {
    let c = 992usize;
    let mut sizes = vec![1, 61, 62, 63, 991, 992, 993, 8 * c - 1, 8 * c, 8 * c + 1];
    // odd chunk counts, ≥ 17 chunks, ragged tails of every length 1..7 after full groups
    for chunks in [3usize, 7, 9, 15, 17, 23, 31, 33, 65, 129, 8 * 37 + 5] {
        sizes.extend([chunks * c, chunks * c - 500, chunks * c - 991]);
    }
    for (i, &len) in sizes.iter().enumerate() {
        let data = pattern(len, i as u64);
        let (s, v) = both(|| commit_bytes(&data, Layout::default()).unwrap());
        assert_eq!(s, v, "{len} bytes");
    }
    // other layouts, including several streamed blocks (16-chunk blocks at 65472/16)
    let layouts = [
        (Layout::new(62, 2).unwrap(), 62 * 77 + 1),
        (Layout::new(62 * 5, 4).unwrap(), 62 * 5 * 41 - 3),
        (Layout::new(992, 8).unwrap(), 992 * 100),
        (Layout::new(992, 16).unwrap(), 992 * 300 + 7),
        (Layout::new(65472, 16).unwrap(), 65472 * 37 + 11),
    ];
    for (layout, len) in layouts {
        let data = pattern(len, len as u64);
        let (s, v) = both(|| commit_bytes(&data, layout).unwrap());
        assert_eq!(s, v, "{layout:?} {len} bytes");
    }
    // An empty file is refused on both paths.
    let (s, v) = both(|| commit_bytes(&[], Layout::default()).is_err());
    assert!(s && v);
}

#[test]
fn leaves_agree_with_the_single_leaf_sponge() {
    for (chunk_size, chunks) in [(62usize, 8usize), (62, 19), (992, 17), (65472, 9)] {
        let mut data = pattern(chunk_size * chunks, chunk_size as u64);
        // extreme bytes in one chunk: all 0xff (each element 2^248 − 1), one all zero
        data[..chunk_size].fill(0xff);
        data[chunk_size..2 * chunk_size].fill(0);
        let one: Vec<Fr> = data.chunks(chunk_size).map(leaf_hash).collect();
        let (s, v) = both(|| leaf_hashes(&data, chunk_size));
        assert_eq!(s, one);
        assert_eq!(v, one, "{chunk_size} × {chunks}");
        // a changed byte in any lane changes exactly that leaf
        let mut changed = data.clone();
        changed[5 * chunk_size + chunk_size / 2] ^= 1;
        let w = leaf_hashes(&changed, chunk_size);
        for (k, (a, b)) in w.iter().zip(&one).enumerate() {
            assert_eq!(a == b, k != 5, "leaf {k}");
        }
    }
}

#[test]
fn merkle_trees_agree() {
    for arity in [2usize, 4, 8, 16] {
        for n in [1usize, 7, 8, 9, 8 * arity - 1, 8 * arity + 3, 1000] {
            let leaves: Vec<Fr> = (0..n as u64)
                .map(|i| Fr::from(i * i + 1) - Fr::from(7u64))
                .collect();
            let (s, v) = both(|| MerkleTree::new(leaves.clone(), arity).unwrap());
            for l in 0..=s.depth() {
                assert_eq!(
                    s.level(l),
                    v.level(l),
                    "arity {arity}, {n} leaves, level {l}"
                );
            }
        }
    }
}

#[test]
fn ffts_agree_on_every_coset() {
    use ark_ff::{FftField, UniformRand};
    use ark_std::rand::{rngs::StdRng, SeedableRng};
    use bigfile_zk::fft;
    let mut rng = StdRng::seed_from_u64(3);
    for log in [6u32, 7, 10, 13] {
        let x: Vec<Fr> = (0..1usize << log).map(|_| Fr::rand(&mut rng)).collect();
        for shift in [Fr::from(1u64), Fr::GENERATOR, Fr::rand(&mut rng)] {
            let (s, v) = both(|| {
                let (mut f, mut i) = (x.clone(), x.clone());
                fft::coset_fft_in_place(&mut f, shift);
                fft::coset_ifft_in_place(&mut i, shift);
                (f, i)
            });
            assert!(s == v, "2^{log}: the paths differ");
        }
    }
}
