//! Rows, setup and proving time of the storage circuit per parameter set, on a small file
//! (the circuit's size does not depend on the file).
//! `cargo run --release --example storage_speed -p bigfile-circuits [-- 4 16 64]`
use ark_bn254::Fr;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_circuits::storage::{self, Opening, Statement, Witness, CHUNK_SIZE};
use bigfile_zk::commitment::{self, Layout};
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::plonk::{self, Builder};
use bigfile_zk::srs::Srs;
use std::time::Instant;

fn main() {
    let ks: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let data: Vec<u8> = (0..100 * CHUNK_SIZE + 7).map(|i| (i % 251) as u8).collect();
    let leaves: Vec<Fr> = data
        .chunks(CHUNK_SIZE)
        .map(|c| commitment::leaf_hash_unpadded(c, CHUNK_SIZE))
        .collect();
    let tree = MerkleTree::new(leaves.clone(), 2).unwrap();
    let c = commitment::commit_bytes(&data, Layout::default()).unwrap();
    for k in if ks.is_empty() { vec![4, 16] } else { ks } {
        let st = Statement {
            commitment: c.commitment,
            seed: Fr::from(42u64),
            prover: Fr::from(7u64),
        };
        let idx = storage::challenges(st.seed, st.prover, k, leaves.len() as u64).unwrap();
        let w = Witness {
            root: tree.root(),
            file_size: data.len() as u64,
            openings: idx
                .iter()
                .map(|&i| {
                    let s = i as usize * CHUNK_SIZE;
                    let mut d = data[s..(s + CHUNK_SIZE).min(data.len())].to_vec();
                    d.resize(CHUNK_SIZE, 0);
                    Opening {
                        data: d,
                        siblings: tree.proof(i).unwrap().siblings,
                    }
                })
                .collect(),
        };
        let mut b = Builder::new();
        storage::build(&mut b, k, &st, None).unwrap();
        let rows = b.num_rows();
        let (circuit, _) = b.build().unwrap();
        let srs = Srs::insecure_for_testing(5 * circuit.n() + 9, 1).unwrap();
        let t = Instant::now();
        let (pk, vk) = plonk::setup(&circuit, &srs).unwrap();
        let t_setup = t.elapsed();
        let t = Instant::now();
        let mut b = Builder::new();
        storage::build(&mut b, k, &st, Some(&w)).unwrap();
        let (_, witness) = b.build().unwrap();
        let proof = plonk::prove(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
        let t_prove = t.elapsed();
        assert!(plonk::verify(&vk, &proof, &st.public_inputs()).unwrap());
        println!(
            "k = {k}: {rows} rows (2^{}), setup {:.2} s, witness + prove {:.2} s",
            circuit.k,
            t_setup.as_secs_f64(),
            t_prove.as_secs_f64()
        );
    }
}
