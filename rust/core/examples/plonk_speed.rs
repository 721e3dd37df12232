//! PLONK prover timing on a chain of Poseidon(2) hashes filling 2^k rows.
//! `cargo run --release --example plonk_speed -p bigfile-zk [-- 16]`
use ark_bn254::Fr;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_zk::plonk::{self, Builder};
use bigfile_zk::srs::Srs;
use std::time::Instant;

fn main() {
    let logs: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    for log in if logs.is_empty() { vec![16] } else { logs } {
        let n = 1usize << log;
        let perms = (n - 100) / 68;
        let t = Instant::now();
        let mut b = Builder::new();
        let (mut x, mut y) = (b.input(Fr::from(1u64)), b.input(Fr::from(2u64)));
        for _ in 0..perms {
            let h = b.poseidon(&[x, y]).unwrap();
            x = y;
            y = h;
        }
        let out = b.public_input(b.value(y));
        b.assert_equal(y, out);
        let (circuit, witness) = b.build().unwrap();
        let t_build = t.elapsed();
        let srs = Srs::insecure_for_testing(5 * n + 9, 1).unwrap();
        let t = Instant::now();
        let (pk, vk) = plonk::setup(&circuit, &srs).unwrap();
        let t_setup = t.elapsed();
        let t = Instant::now();
        let proof = plonk::prove(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
        let t_prove = t.elapsed();
        let t = Instant::now();
        assert!(plonk::verify(&vk, &proof, &[witness[0][0]]).unwrap());
        let t_verify = t.elapsed();
        println!(
            "2^{log} rows ({perms} Poseidon(2)): build {:.0} ms, setup {:.2} s, prove {:.2} s, \
             verify {:.1} ms",
            t_build.as_secs_f64() * 1e3,
            t_setup.as_secs_f64(),
            t_prove.as_secs_f64(),
            t_verify.as_secs_f64() * 1e3
        );
    }
}
