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

/// A sparse file of `n` chunks, all zero except the last one: `last_len` bytes of 0xff (so its
/// leaf, and every node on the right edge, differ from the zero chunks'). Nodes are computed in
/// O(depth): full subtrees of zero chunks are all alike.
struct ZeroFile {
    n: u64,
    last_len: usize,
    last_leaf: Fr,
    full: Vec<Fr>,
}

impl ZeroFile {
    fn new(n: u64, last_len: usize) -> Self {
        let mut full = vec![commitment::leaf_hash_unpadded(&[0; CHUNK_SIZE], CHUNK_SIZE)];
        for l in 0..64 {
            full.push(bigfile_zk::merkle::hash_node(&[full[l], full[l]]));
        }
        let last_leaf = commitment::leaf_hash_unpadded(&vec![0xff; last_len], CHUNK_SIZE);
        ZeroFile {
            n,
            last_len,
            last_leaf,
            full,
        }
    }

    fn size(&self) -> u64 {
        (self.n - 1) * CHUNK_SIZE as u64 + self.last_len as u64
    }

    fn node(&self, level: u32, pos: u64) -> Fr {
        let span = 1u128 << level;
        let (start, n) = (pos as u128 * span, self.n as u128);
        if start >= n {
            bigfile_zk::merkle::zero_hashes(2).unwrap()[level as usize]
        } else if start + span < n {
            self.full[level as usize]
        } else if level == 0 {
            self.last_leaf // the subtree holds the last chunk
        } else {
            let (l, r) = (
                self.node(level - 1, 2 * pos),
                self.node(level - 1, 2 * pos + 1),
            );
            bigfile_zk::merkle::hash_node(&[l, r])
        }
    }

    /// Chunk `i`'s padded bytes and its `depth` siblings.
    fn opening(&self, i: u64, depth: u32) -> Opening {
        let mut data = vec![0u8; CHUNK_SIZE];
        if i == self.n - 1 {
            data[..self.last_len].fill(0xff);
        }
        Opening {
            data,
            siblings: (0..depth).map(|l| self.node(l, (i >> l) ^ 1)).collect(),
        }
    }
}

#[test]
fn the_maximum_depth_and_beyond() {
    let k = 2;
    // 2^31 + 1 chunks: depth 32 with an almost empty right half; 2^32 chunks: the maximum,
    // a full tree of depth 32 (a 4 TiB file). Both end in a partial, non-zero chunk.
    for n in [(1u64 << 31) + 1, 1u64 << 32] {
        let f = ZeroFile::new(n, 7);
        let depth = 64 - (n - 1).leading_zeros();
        assert_eq!(depth, 32);
        let root = f.node(depth, 0);
        let c = commitment::FileCommitment::from_root(root, f.size(), Layout::default()).unwrap();
        let st = Statement {
            commitment: c.commitment,
            seed: Fr::from(99u64),
            prover: Fr::from(0x1234u64),
        };
        let honest = storage::challenges(st.seed, st.prover, k, n).unwrap();
        let w = Witness {
            root,
            file_size: f.size(),
            openings: honest.iter().map(|&i| f.opening(i, depth)).collect(),
        };
        check(&st, Some(&w), k).unwrap_or_else(|e| panic!("{n} chunks: {e}"));
        // The last chunk, a real chunk of the file with its real path, does not answer
        // another challenge.
        if honest[0] != n - 1 {
            let mut wrong = w.clone();
            wrong.openings[0] = f.opening(n - 1, depth);
            assert!(
                check(&st, Some(&wrong), k).is_err(),
                "{n}: wrong chunk passed"
            );
        }
        // Nor does the challenged chunk with a path for depth 31, or a wrong last sibling.
        let mut short = w.clone();
        short.openings[1].siblings.pop();
        assert!(check(&st, Some(&short), k).is_err());
        let mut top = w.clone();
        top.openings[1].siblings[31] += Fr::one();
        assert!(check(&st, Some(&top), k).is_err());
        // A file one byte longer (another size in the commitment) is another statement.
        let mut longer = w.clone();
        longer.file_size += 1;
        assert!(check(&st, Some(&longer), k).is_err());
    }
    // 2^32 + 1 chunks exceed the maximum: there are no challenges for such a file, it cannot
    // be committed to, and the circuit builder refuses its size (all host-side refusals: a
    // statement about it cannot even be formed).
    let f = ZeroFile::new((1u64 << 32) + 1, 7);
    assert!(storage::challenges(Fr::from(1u64), Fr::from(2u64), k, f.n).is_err());
    let root = f.node(33, 0);
    assert!(commitment::FileCommitment::from_root(root, f.size(), Layout::default()).is_err());
    let st = Statement {
        commitment: Fr::from(5u64),
        seed: Fr::from(1u64),
        prover: Fr::from(2u64),
    };
    let w = Witness {
        root,
        file_size: f.size(),
        openings: vec![f.opening(0, 32); k],
    };
    let mut b = Builder::new();
    assert!(storage::build(&mut b, k, &st, Some(&w)).is_err());
}

/// `docs/spec/vectors/storage.json` (from the pure-Python reference): challenges, and whole
/// statements whose honest witnesses satisfy the circuit.
#[test]
fn spec_vectors() {
    let path = format!(
        "{}/../docs/spec/vectors/storage.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap();
    let fr = |x: &serde_json::Value| {
        bigfile_zk::field::from_hex(x.as_str().unwrap(), "vector").expect("canonical hex")
    };
    let address = |x: &serde_json::Value| {
        let s = x.as_str().unwrap().trim_start_matches("0x");
        bigfile_zk::field::from_hex(&format!("0x{s:0>64}"), "address").unwrap()
    };
    let indices = |x: &serde_json::Value| -> Vec<u64> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .collect()
    };
    for case in v["challenges"].as_array().unwrap() {
        let (seed, prover) = (fr(&case["seed"]), address(&case["prover"]));
        let k = case["k"].as_u64().unwrap() as usize;
        let n = case["num_chunks"].as_u64().unwrap();
        assert_eq!(
            storage::challenges(seed, prover, k, n).unwrap(),
            indices(&case["indices"])
        );
    }
    for st in v["statements"].as_array().unwrap() {
        let size = st["size"].as_u64().unwrap() as usize;
        let f = file(size); // the same byte rule as the vectors'
        let c = commitment::commit_bytes(&f.data, Layout::default()).unwrap();
        assert_eq!(c.commitment, fr(&st["commitment"]), "{size} bytes");
        assert_eq!(c.root, fr(&st["root"]));
        let statement = Statement {
            commitment: c.commitment,
            seed: fr(&st["seed"]),
            prover: address(&st["prover"]),
        };
        let public: Vec<Fr> = st["public_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(fr)
            .collect();
        assert_eq!(statement.public_inputs().to_vec(), public);
        let n = c.num_chunks();
        assert_eq!(
            storage::challenges(statement.seed, statement.prover, 4, n).unwrap(),
            indices(&st["indices_k4"])
        );
        check(&statement, Some(&witness(&f, &statement, 4)), 4)
            .unwrap_or_else(|e| panic!("{size} bytes: {e}"));
    }
}

/// Refactoring guard: the k = 4 verifying key (circuit shape and order of gates) is the one
/// of the version before `storage.rs` was split into gadgets shared with `epoch.rs`.
#[test]
fn the_k4_verifying_key_is_unchanged() {
    let srs = bigfile_zk::srs::Srs::insecure_for_testing(5 * (1 << 14) + 9, 1).unwrap();
    let (_, vk) = storage::setup(4, &srs).unwrap();
    let hex: String = vk.digest().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "fd178b162a147d62612b21034ee9f00b3fba786b36e19c1d6405fb77e0602ead"
    );
}
