//! The built plug-in, loaded through bigfile_zk's own loader (which also runs its self-test),
//! against bigfile_zk's CPU MSM. Needs a working ICICLE device: run with
//! `BIGFILE_ZK_ICICLE_DEVICE=CPU cargo test --release` on any machine (ICICLE's CPU backend), or
//! with the CUDA backend installed (`ICICLE_BACKEND_INSTALL_DIR`) for the GPU.

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_std::{rand::rngs::StdRng, rand::SeedableRng, UniformRand, Zero};
use bigfile_zk::msm::{self, plugin};
use std::path::PathBuf;

fn built_plugin() -> PathBuf {
    let name = format!(
        "{}bigfile_msm_icicle{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps, deps.parent().unwrap()]
        .iter()
        .map(|d| d.join(&name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} not found near {}", exe.display()))
}

#[test]
fn matches_the_cpu() {
    let p = plugin::load(&built_plugin()).unwrap_or_else(|e| panic!("{e}"));
    println!("loaded {}", p.name());
    let mut rng = StdRng::seed_from_u64(1);
    let g = G1Projective::generator();
    for n in [0usize, 1, 2, 100, 4096, 1 << 16] {
        let pts: Vec<G1Projective> = (0..n).map(|_| g * Fr::rand(&mut rng)).collect();
        let mut bases = G1Projective::normalize_batch(&pts);
        let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        if n > 2 {
            bases[0] = G1Affine::identity();
            scalars[1] = Fr::zero();
            scalars[2] = -Fr::from(1u64);
        }
        let want = msm::cpu_msm(&bases, &scalars).unwrap().into_affine();
        let got = p.msm(&bases, &scalars).unwrap().into_affine();
        assert_eq!(got, want, "n = {n}");
    }
}
