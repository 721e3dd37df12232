//! Commitment throughput, scalar against the AVX-512 IFMA path (issue 15), interleaved:
//!
//!     cargo run --release -p bigfile-zk --example simd_bench -- [MiB] [rounds]
//!
//! Prints ns per field multiplication, per permutation (t = 3, per lane), a 2^16-leaf binary
//! Merkle tree and `commit_bytes` MB/s on `MiB` of pseudo-random bytes (default 64), each
//! with the vector path off and on, alternating `rounds` times (best of each).
use bigfile_zk::commitment::{commit_bytes, Layout};
use bigfile_zk::field_simd::{self, bench};
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::poseidon;
use bigfile_zk::Fr;
use std::time::Instant;

fn best(rounds: usize, mut f: impl FnMut(bool) -> f64) -> (f64, f64) {
    let (mut off, mut on) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        field_simd::set_enabled(false);
        off = off.min(f(false));
        field_simd::set_enabled(true);
        on = on.min(f(true));
    }
    (off, on)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let mib = args.first().copied().unwrap_or(64);
    let rounds = args.get(1).copied().unwrap_or(3);
    println!(
        "vector path available: {}",
        field_simd::hardware_available()
    );
    let s = bench::scalar_mul_ns(2_000_000, 3);
    let v = bench::simd_mul_ns(500_000, 3);
    println!("mul ns: scalar {s:.2}, 8-lane per lane {v:?}");

    let (off, on) = best(rounds, |_| {
        let n = 4000;
        let mut states: Vec<[[Fr; 3]; 8]> = (0..n)
            .map(|i| core::array::from_fn(|k| [Fr::from((i * 8 + k) as u64); 3]))
            .collect();
        let t = Instant::now();
        for s in states.iter_mut() {
            poseidon::permute_x8::<3>(s).unwrap();
        }
        t.elapsed().as_secs_f64() * 1e9 / (8 * n) as f64
    });
    println!(
        "permutation t=3 ns per lane (1 thread): scalar {off:.0}, simd {on:.0}, x{:.2}",
        off / on
    );

    for n in [1usize << 12, 1 << 16] {
        let (s, v) = field_simd::prover_bench::mul(n, 5);
        println!("prover: element-wise mul, {n} elements, ns/element: scalar {s:.1}, simd {v:?} (incl. conversion)");
        let (s, v) = field_simd::prover_bench::butterfly(n, 5);
        println!("prover: radix-2 butterfly, {n} elements, ns/element: scalar {s:.1}, simd {v:?} (incl. conversion)");
    }

    let leaves: Vec<Fr> = (0..1u64 << 16).map(Fr::from).collect();
    let (off, on) = best(rounds, |_| {
        let t = Instant::now();
        let tree = MerkleTree::new(leaves.clone(), 2).unwrap();
        std::hint::black_box(tree.root());
        t.elapsed().as_secs_f64() * 1e3
    });
    println!(
        "Merkle 2^16 leaves arity 2 ms: scalar {off:.1}, simd {on:.1}, x{:.2}",
        off / on
    );

    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..mib << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let (toff, ton) = best(rounds, |_| {
        let t = Instant::now();
        std::hint::black_box(commit_bytes(&data, Layout::default()).unwrap());
        t.elapsed().as_secs_f64()
    });
    let mb = data.len() as f64 / 1e6;
    println!(
        "commit_bytes {mib} MiB: scalar {:.1} MB/s, simd {:.1} MB/s, x{:.2}",
        mb / toff,
        mb / ton,
        toff / ton
    );
}
