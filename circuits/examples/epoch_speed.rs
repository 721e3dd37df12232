//! Rows of the epoch circuit per `(m, k)`, and with `--prove` setup and proving time of the
//! shipped parameter sets on a catalogue of 10,000 small files (the circuit's size does not
//! depend on the catalogue). Peak RSS: run under `/usr/bin/time -v`.
//! `cargo run --release --example epoch_speed -p bigfile-circuits [-- --prove [m k]]`
use ark_bn254::Fr;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_circuits::epoch::{self, Catalogue, Sample, Statement, Witness};
use bigfile_circuits::storage::{Opening, CHUNK_SIZE};
use bigfile_zk::commitment::{self, Layout};
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::plonk::{self, Builder};
use bigfile_zk::srs::Srs;
use std::time::Instant;

/// File `i`: 3 chunks of bytes depending on `i` (its tree, data and commitment).
fn file(i: u64) -> (Vec<u8>, MerkleTree, Fr) {
    let data: Vec<u8> = (0..3 * CHUNK_SIZE as u64 - 5)
        .map(|b| (b * 31 + i * 7 + b / 997) as u8)
        .collect();
    let leaves: Vec<Fr> = data
        .chunks(CHUNK_SIZE)
        .map(|c| commitment::leaf_hash_unpadded(c, CHUNK_SIZE))
        .collect();
    let c = commitment::commit_bytes(&data, Layout::default()).unwrap();
    (data, MerkleTree::new(leaves, 2).unwrap(), c.commitment)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let prove = args.iter().any(|a| a == "--prove");
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if !prove {
        for (m, k) in [
            (1, 1),
            (1, 2),
            (1, 4),
            (24, 2),
            (48, 2),
            (40, 1),
            (41, 1),
            (80, 1),
            (82, 1),
            (83, 1),
        ] {
            let mut b = Builder::new();
            let st = Statement {
                catalogue: Fr::from(0u64),
                seed: Fr::from(0u64),
                prover: Fr::from(0u64),
            };
            epoch::build(&mut b, m, k, &st, None).unwrap();
            println!("m = {m:3} k = {k:2}: {:7} rows", b.num_rows());
        }
        return;
    }
    let sets: Vec<(usize, usize)> = if nums.len() == 2 {
        vec![(nums[0], nums[1])]
    } else {
        epoch::PARAMETER_SETS.to_vec()
    };
    let t = Instant::now();
    let n_files = 10_000u64;
    let files: Vec<(Vec<u8>, MerkleTree, Fr)> = (0..n_files).map(file).collect();
    let leaves: Vec<_> = files.iter().map(|f| f.2).collect();
    let catalogue = Catalogue::from_values(&leaves).unwrap();
    println!(
        "catalogue of {n_files} files: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for (m, k) in sets {
        let st = Statement {
            catalogue: catalogue.commitment(),
            seed: Fr::from(42u64),
            prover: Fr::from(7u64),
        };
        let t = Instant::now();
        let circuit = epoch::circuit_unchecked(m, k).unwrap();
        let srs = Srs::insecure_for_testing(5 * circuit.n() + 9, 1).unwrap();
        let t_srs = t.elapsed();
        let t = Instant::now();
        let (pk, vk) = plonk::setup(&circuit, &srs).unwrap();
        let t_setup = t.elapsed();
        let t = Instant::now();
        let slots = epoch::slots(st.seed, st.prover, m, catalogue.count()).unwrap();
        let samples = slots
            .iter()
            .enumerate()
            .map(|(j, &s)| {
                let (data, tree, c) = &files[s as usize];
                let idx = epoch::chunk_challenges(st.seed, st.prover, j, k, 3).unwrap();
                let c2 = commitment::commit_bytes(data, Layout::default()).unwrap();
                assert_eq!(c2.commitment, *c);
                Sample {
                    slot: s,
                    leaf: *c,
                    path: catalogue.siblings(s).unwrap(),
                    file: Some(epoch::FileWitness {
                        root: tree.root(),
                        file_size: data.len() as u64,
                        openings: idx
                            .iter()
                            .map(|&i| {
                                let a = i as usize * CHUNK_SIZE;
                                let mut d = data[a..(a + CHUNK_SIZE).min(data.len())].to_vec();
                                d.resize(CHUNK_SIZE, 0);
                                Opening {
                                    data: d,
                                    siblings: tree.proof(i).unwrap().siblings,
                                }
                            })
                            .collect(),
                    }),
                }
            })
            .collect();
        let w = Witness {
            tree_root: catalogue.root(),
            count: catalogue.count(),
            samples,
        };
        let mut b = Builder::new();
        epoch::build(&mut b, m, k, &st, Some(&w)).unwrap();
        let rows = b.num_rows();
        let (_, witness) = b.build().unwrap();
        let proof = plonk::prove(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
        let t_prove = t.elapsed();
        assert!(plonk::verify(&vk, &proof, &st.public_inputs()).unwrap());
        println!(
            "m = {m} k = {k}: {rows} rows (n = 2^{}), test SRS {:.1} s, setup {:.1} s, prove {:.1} s",
            circuit.n().trailing_zeros(),
            t_srs.as_secs_f64(),
            t_setup.as_secs_f64(),
            t_prove.as_secs_f64()
        );
    }
}
