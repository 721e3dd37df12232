//! The proof-of-storage circuit against native commitments and challenges.

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use bigfile_circuits::storage::{self, Opening, Statement, Witness, CHUNK_SIZE};
use bigfile_zk::commitment::{self, Layout};
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::plonk::Builder;

struct File {
    data: Vec<u8>,
    tree: MerkleTree,
    commitment: Fr,
}

fn file(size: usize) -> File {
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 991) as u8).collect();
    let leaves: Vec<Fr> = data
        .chunks(CHUNK_SIZE)
        .map(|c| commitment::leaf_hash_unpadded(c, CHUNK_SIZE))
        .collect();
    let tree = MerkleTree::new(leaves, 2).unwrap();
    let c = commitment::commit_bytes(&data, Layout::default()).unwrap();
    assert_eq!(c.root, tree.root());
    File {
        data,
        tree,
        commitment: c.commitment,
    }
}

fn witness(f: &File, statement: &Statement, k: usize) -> Witness {
    let n = f.data.len().div_ceil(CHUNK_SIZE) as u64;
    let idx = storage::challenges(statement.seed, statement.prover, k, n).unwrap();
    Witness {
        root: f.tree.root(),
        file_size: f.data.len() as u64,
        openings: idx
            .iter()
            .map(|&i| {
                let start = i as usize * CHUNK_SIZE;
                let mut data = f.data[start..(start + CHUNK_SIZE).min(f.data.len())].to_vec();
                data.resize(CHUNK_SIZE, 0);
                Opening {
                    data,
                    siblings: f.tree.proof(i).unwrap().siblings,
                }
            })
            .collect(),
    }
}

fn statement(f: &File) -> Statement {
    Statement {
        commitment: f.commitment,
        seed: Fr::from(123456789u64),
        prover: Fr::from(0xabcdef_u64),
    }
}

fn check(st: &Statement, w: Option<&Witness>, k: usize) -> Result<(), String> {
    let mut b = Builder::new();
    storage::build(&mut b, k, st, w).map_err(|e| e.to_string())?;
    let (circuit, witness) = b.build().unwrap();
    circuit.check_witness(&witness).map_err(|e| e.to_string())
}

#[test]
fn honest_witnesses_satisfy_the_circuit_at_every_depth() {
    // 1 byte (1 chunk, depth 0), an exact chunk, a partial last chunk, a power of two, + 1.
    for size in [
        1,
        CHUNK_SIZE,
        5 * CHUNK_SIZE + 100,
        8 * CHUNK_SIZE,
        8 * CHUNK_SIZE + 1,
    ] {
        let f = file(size);
        let st = statement(&f);
        let w = witness(&f, &st, 2);
        check(&st, Some(&w), 2).unwrap_or_else(|e| panic!("size {size}: {e}"));
    }
}

#[test]
fn the_shape_does_not_depend_on_the_file() {
    let shape = |w: Option<&Witness>, st: &Statement| {
        let mut b = Builder::new();
        storage::build(&mut b, 2, st, w).unwrap();
        b.build().unwrap().0
    };
    let (f1, f2) = (file(3 * CHUNK_SIZE), file(17 * CHUNK_SIZE + 5));
    let (s1, s2) = (statement(&f1), statement(&f2));
    let setup = shape(None, &s1);
    // No lookups: the EVM verifier stays at 18 scalar multiplications.
    assert!(!setup.has_lookups());
    for (f, st) in [(&f1, &s1), (&f2, &s2)] {
        let c = shape(Some(&witness(f, st, 2)), st);
        assert_eq!(setup.difference(&c), None);
    }
}

#[test]
fn cheating_is_caught() {
    let f = file(6 * CHUNK_SIZE + 10);
    let st = statement(&f);
    let w = witness(&f, &st, 2);
    // One changed byte of a challenged chunk.
    let mut bad = w.clone();
    bad.openings[1].data[500] ^= 1;
    assert!(check(&st, Some(&bad), 2)
        .unwrap_err()
        .contains("challenge 1"));
    // Another seed or another prover: the openings answer other challenges.
    for other in [
        Statement {
            seed: st.seed + Fr::one(),
            ..st
        },
        Statement {
            prover: st.prover + Fr::one(),
            ..st
        },
    ] {
        let ok_idx = storage::challenges(st.seed, st.prover, 2, 7).unwrap();
        let new_idx = storage::challenges(other.seed, other.prover, 2, 7).unwrap();
        if ok_idx != new_idx {
            assert!(check(&other, Some(&w), 2).is_err());
        }
    }
    // A wrong file size (binds another commitment).
    let mut bad = w.clone();
    bad.file_size += 1;
    assert!(check(&st, Some(&bad), 2).is_err());
    // A wrong commitment.
    let other = Statement {
        commitment: st.commitment + Fr::one(),
        ..st
    };
    assert!(check(&other, Some(&w), 2).is_err());
    // A sibling of the wrong subtree.
    let mut bad = w.clone();
    bad.openings[0].siblings[0] += Fr::one();
    assert!(check(&st, Some(&bad), 2).is_err());
    // Levels above the depth are free (padding), so changing one there is harmless.
    let mut pad = w.clone();
    pad.openings[0].siblings.push(Fr::from(5u64));
    check(&st, Some(&pad), 2).unwrap();
    assert!(storage::challenges(Fr::zero(), Fr::zero(), 1, 0).is_err());
}
