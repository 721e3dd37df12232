//! The epoch circuit: honest catalogues prove; forged catalogues, statements and files fail,
//! both as witnesses (the circuit's rows) and as forced proofs (the verifier).

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_circuits::epoch::{self, Catalogue, Files, Statement, Witness, CATALOGUE_DEPTH};
use bigfile_circuits::storage::CHUNK_SIZE;
use bigfile_zk::commitment::{self, ChunkOpening, FileCommitment, Layout};
use bigfile_zk::error::Result;
use bigfile_zk::plonk::{self, Builder, ProvingKey, VerifyingKey};
use bigfile_zk::srs::Srs;
use std::path::Path;
use std::sync::OnceLock;

/// The small `(m, k)` the proof tests use: the same gadgets as the shipped sets, 2^15 rows.
const M: usize = 2;
const K: usize = 2;

/// File `i`: the byte rule of the spec's vectors (`docs/spec/proof-of-storage-epoch.md`).
fn file_bytes(i: u64, size: usize) -> Vec<u8> {
    (0..size as u64)
        .map(|b| ((b * 7 + i * 13 + b / 991) % 256) as u8)
        .collect()
}

/// A provider's files in memory, by slot.
struct Mem {
    files: Vec<Option<Vec<u8>>>,
}

impl Mem {
    /// `sizes[i]` bytes in slot `i`; `None`: a removed file (empty slot).
    fn new(sizes: &[Option<usize>]) -> Self {
        Mem {
            files: sizes
                .iter()
                .enumerate()
                .map(|(i, s)| s.map(|s| file_bytes(i as u64, s)))
                .collect(),
        }
    }

    fn commitment_of(&self, slot: usize) -> Option<FileCommitment> {
        self.files[slot]
            .as_ref()
            .map(|d| commitment::commit_bytes(d, Layout::default()).unwrap())
    }

    fn catalogue(&self) -> Catalogue {
        let leaves: Vec<Fr> = (0..self.files.len())
            .map(|i| self.commitment_of(i).map_or(Fr::zero(), |c| c.commitment))
            .collect();
        Catalogue::from_values(&leaves).unwrap()
    }
}

impl Files for Mem {
    fn commitment(&mut self, slot: u64) -> Result<FileCommitment> {
        Ok(self.commitment_of(slot as usize).expect("a file"))
    }

    fn open(
        &mut self,
        slot: u64,
        c: &FileCommitment,
        indices: &[u64],
    ) -> Result<Vec<ChunkOpening>> {
        let data = self.files[slot as usize].clone().unwrap();
        commitment::open_many(&data, Path::new("mem"), c, indices, None, &mut |_| Ok(()))
    }
}

fn statement(cat: &Catalogue, seed: u64) -> Statement {
    Statement {
        catalogue: cat.commitment(),
        seed: Fr::from(seed),
        prover: Fr::from(0xabcdef_u64),
    }
}

fn honest(mem: &mut Mem, st: &Statement, m: usize, k: usize) -> Witness {
    epoch::witness(&mem.catalogue(), st.seed, st.prover, m, k, mem).unwrap()
}

fn check(st: &Statement, w: &Witness, m: usize, k: usize) -> std::result::Result<(), String> {
    let mut b = Builder::new();
    epoch::build(&mut b, m, k, st, Some(w)).map_err(|e| e.to_string())?;
    let (circuit, witness) = b.build().unwrap();
    circuit.check_witness(&witness).map_err(|e| e.to_string())
}

fn keys() -> &'static (ProvingKey, VerifyingKey) {
    static KEYS: OnceLock<(ProvingKey, VerifyingKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let circuit = epoch::circuit_unchecked(M, K).unwrap();
        let srs = Srs::insecure_for_testing(5 * circuit.n() + 9, 3).unwrap();
        plonk::setup(&circuit, &srs).unwrap()
    })
}

/// A proof of `w` for `st` even if `w` does not satisfy the circuit (the verifier must refuse).
fn forced_proof(st: &Statement, w: &Witness) -> plonk::Proof {
    let mut b = Builder::new();
    epoch::build(&mut b, M, K, st, Some(w)).unwrap();
    let (_, witness) = b.build().unwrap();
    let blinding = vec![Fr::from(3u64); plonk::prover::blinding_len(false)];
    plonk::prover::prove_unchecked(&keys().0, &witness, &blinding).unwrap()
}

fn verifies(proof: &plonk::Proof, st: &Statement) -> bool {
    plonk::verify(&keys().1, proof, &st.public_inputs()).unwrap()
}

/// A seed whose samples hit slots satisfying `pred` (searching natively; cheap).
fn seed_where(count: u64, m: usize, pred: impl Fn(&[u64]) -> bool) -> u64 {
    (1..10_000u64)
        .find(|&s| pred(&epoch::slots(Fr::from(s), Fr::from(0xabcdef_u64), m, count).unwrap()))
        .expect("a seed")
}

fn sizes() -> Vec<Option<usize>> {
    // 6 slots: files of 1, 2, 3, 5 and 9 chunks (partial last chunks) and a removed file.
    vec![
        Some(10),
        Some(2 * CHUNK_SIZE),
        None,
        Some(3 * CHUNK_SIZE - 1),
        Some(5 * CHUNK_SIZE + 17),
        Some(8 * CHUNK_SIZE + 1),
    ]
}

#[test]
fn honest_witnesses_satisfy_the_circuit() {
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    for seed in 1..6 {
        let st = statement(&cat, seed);
        let w = honest(&mut mem, &st, 3, 2);
        check(&st, &w, 3, 2).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
    // A sample on the removed file's slot: the dummy file answers it.
    let seed = seed_where(6, 3, |s| s.contains(&2));
    let st = statement(&cat, seed);
    let w = honest(&mut mem, &st, 3, 2);
    assert!(w.samples.iter().any(|s| s.slot == 2 && s.file.is_none()));
    check(&st, &w, 3, 2).unwrap();
    // One file, and a full catalogue of 2^16 slots.
    let mut one = Mem::new(&[Some(100)]);
    let st = statement(&one.catalogue(), 9);
    check(&st, &honest(&mut one, &st, 2, 1), 2, 1).unwrap();
    let mut full_sizes = vec![None; 1 << 16];
    full_sizes[(1 << 16) - 1] = Some(50);
    let mut full_mem = Mem::new(&full_sizes);
    let full = full_mem.catalogue();
    assert_eq!(full.count(), epoch::MAX_FILES);
    let seed = seed_where(1 << 16, 2, |s| s.iter().all(|&x| x != (1 << 16) - 1));
    let st = statement(&full, seed);
    check(&st, &honest(&mut full_mem, &st, 2, 1), 2, 1).unwrap();
    // The last slot's path opens its leaf to the root natively.
    let slot = (1u64 << 16) - 1;
    let mut node = full.leaf(slot).unwrap();
    for (l, sib) in full.siblings(slot).unwrap().iter().enumerate() {
        node = if (slot >> l) & 1 == 1 {
            bigfile_zk::merkle::hash_node(&[*sib, node])
        } else {
            bigfile_zk::merkle::hash_node(&[node, *sib])
        };
    }
    assert_eq!(node, full.root());
    assert!(Catalogue::from_values(&vec![Fr::zero(); (1 << 16) + 1]).is_err());
    // The empty catalogue exists (registries start from it) but has nothing to sample.
    let empty = Catalogue::new();
    let none = epoch::witness(&empty, Fr::one(), Fr::one(), 40, 1, &mut Mem::new(&[]));
    assert!(none.unwrap_err().to_string().contains("0 slots"));
}

#[test]
fn the_shape_does_not_depend_on_the_catalogue() {
    let setup = epoch::circuit_unchecked(3, 2).unwrap();
    assert!(!setup.has_lookups());
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    for seed in [1, seed_where(6, 3, |s| s.contains(&2))] {
        let st = statement(&cat, seed);
        let w = honest(&mut mem, &st, 3, 2);
        let mut b = Builder::new();
        epoch::build(&mut b, 3, 2, &st, Some(&w)).unwrap();
        assert_eq!(setup.difference(&b.build().unwrap().0), None);
    }
    // The shipped sets fit the sizes the spec states.
    for ((m, k), log_n) in epoch::PARAMETER_SETS.into_iter().zip([18, 19]) {
        assert_eq!(epoch::circuit(m, k).unwrap().n(), 1 << log_n);
    }
    assert!(epoch::circuit(2, 2).is_err());
}

#[test]
fn honest_proof_verifies_and_only_for_its_statement() {
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    let st = statement(&cat, 77);
    let w = honest(&mut mem, &st, M, K);
    let mut b = Builder::new();
    epoch::build(&mut b, M, K, &st, Some(&w)).unwrap();
    let (_, witness) = b.build().unwrap();
    let proof = plonk::prove(&keys().0, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
    assert!(verifies(&proof, &st));
    let another_k = Statement {
        catalogue: st.catalogue + Fr::one(),
        ..st
    };
    let another_seed = Statement {
        seed: st.seed + Fr::one(),
        ..st
    };
    let another_prover = Statement {
        prover: st.prover + Fr::one(),
        ..st
    };
    for other in [another_k, another_seed, another_prover] {
        assert!(!verifies(&proof, &other));
        // Nor does the honest witness satisfy the circuit for the other statement.
        assert!(check(&other, &w, M, K).is_err());
    }
}

#[test]
fn a_missing_or_corrupt_chunk_is_caught() {
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    // Both samples on real files.
    let seed = seed_where(6, M, |s| !s.contains(&2));
    let st = statement(&cat, seed);
    let w = honest(&mut mem, &st, M, K);
    // A flipped byte of a challenged chunk.
    let mut bad = w.clone();
    bad.samples[1].file.as_mut().unwrap().openings[0].data[100] ^= 1;
    let err = check(&st, &bad, M, K).unwrap_err();
    assert!(err.contains("sample 1"), "{err}");
    assert!(!verifies(&forced_proof(&st, &bad), &st));
    // A chunk the provider no longer has, answered with another chunk of the same file.
    let mut bad = w.clone();
    let f = bad.samples[0].file.as_mut().unwrap();
    f.openings[1].data = vec![0; CHUNK_SIZE];
    assert!(check(&st, &bad, M, K).is_err());
    assert!(!verifies(&forced_proof(&st, &bad), &st));
    // A wrong file size (binds another commitment).
    let mut bad = w.clone();
    bad.samples[0].file.as_mut().unwrap().file_size += 1;
    assert!(check(&st, &bad, M, K).is_err());
}

#[test]
fn a_file_not_in_the_catalogue_is_caught() {
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    let seed = seed_where(6, M, |s| !s.contains(&2) && s[0] != 4);
    let st = statement(&cat, seed);
    let w = honest(&mut mem, &st, M, K);
    // Sample 0 answered with another file (slot 4's, a real one but at another slot), under
    // the catalogue's leaf, or under its own commitment as leaf.
    let slot = w.samples[0].slot;
    let other = Statement { ..st };
    let mut alt = Mem::new(&sizes());
    alt.files[slot as usize] = alt.files[4].clone();
    let w_alt = epoch::witness(&alt.catalogue(), st.seed, st.prover, M, K, &mut alt).unwrap();
    let mut bad = w.clone();
    bad.samples[0].file = w_alt.samples[0].file.clone();
    assert!(check(&other, &bad, M, K).is_err());
    assert!(!verifies(&forced_proof(&st, &bad), &st));
    bad.samples[0].leaf = w_alt.samples[0].leaf;
    assert!(check(&other, &bad, M, K).is_err());
    // The honest witness builder refuses a file that is not the slot's.
    struct Wrong(Mem);
    impl Files for Wrong {
        fn commitment(&mut self, _: u64) -> Result<FileCommitment> {
            self.0.commitment(4)
        }
        fn open(&mut self, _: u64, c: &FileCommitment, i: &[u64]) -> Result<Vec<ChunkOpening>> {
            self.0.open(4, c, i)
        }
    }
    let err = epoch::witness(
        &cat,
        st.seed,
        st.prover,
        M,
        K,
        &mut Wrong(Mem::new(&sizes())),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not the one in the catalogue"), "{err}");
}

#[test]
fn a_slot_at_or_beyond_count_is_refused() {
    // Slots count..2^16 hold 0 in the tree: a valid Merkle opening of an "empty" leaf. A
    // provider must not dodge a sample by opening one of them.
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    let count = cat.count();
    let st = statement(&cat, 3);
    let w = honest(&mut mem, &st, M, K);
    let slot = w.samples[0].slot;
    let beyond = slot + count; // the same limb, one quotient less
    let padded = {
        let mut leaves = cat.values().to_vec();
        leaves.resize(beyond as usize + 1, Fr::zero());
        Catalogue::from_values(&leaves).unwrap()
    };
    assert_eq!(padded.root(), cat.root()); // the same tree, another count
    let mut bad = w.clone();
    bad.samples[0].slot = beyond;
    bad.samples[0].leaf = Fr::zero();
    bad.samples[0].path = padded.siblings(beyond).unwrap();
    bad.samples[0].file = None;
    let err = check(&st, &bad, M, K).unwrap_err();
    assert!(err.contains("sample 0"), "{err}");
    assert!(!verifies(&forced_proof(&st, &bad), &st));
    // The last slot is in range (`slot = count − 1` with the honest quotient is fine).
    assert!(cat.siblings(1 << 16).is_err());
    assert_eq!(padded.siblings(beyond).unwrap().len(), CATALOGUE_DEPTH);
}

#[test]
fn an_empty_claim_for_a_filled_slot_is_caught() {
    let mut mem = Mem::new(&sizes());
    let cat = mem.catalogue();
    let seed = seed_where(6, M, |s| s[0] != 2);
    let st = statement(&cat, seed);
    let w = honest(&mut mem, &st, M, K);
    // Leaf 0 on a filled slot's path: the path does not open to the tree root.
    let mut bad = w.clone();
    bad.samples[0].leaf = Fr::zero();
    bad.samples[0].file = None;
    assert!(check(&st, &bad, M, K).is_err());
    assert!(!verifies(&forced_proof(&st, &bad), &st));
    // The real leaf but the dummy file: the leaf is not the dummy's commitment.
    let mut bad = w.clone();
    bad.samples[0].file = None;
    assert!(check(&st, &bad, M, K).is_err());
}

#[test]
fn an_old_catalogue_is_refused_after_a_file_is_added() {
    let mut mem = Mem::new(&sizes());
    let old = mem.catalogue();
    let st_old = statement(&old, 11);
    let w_old = honest(&mut mem, &st_old, M, K);
    let mut b = Builder::new();
    epoch::build(&mut b, M, K, &st_old, Some(&w_old)).unwrap();
    let proof = plonk::prove(
        &keys().0,
        &b.build().unwrap().1,
        &mut StdRng::seed_from_u64(2),
    )
    .unwrap();
    assert!(verifies(&proof, &st_old));
    let mut more = sizes();
    more.push(Some(4 * CHUNK_SIZE));
    let mut mem_new = Mem::new(&more);
    let new = mem_new.catalogue();
    assert_ne!(new.commitment(), old.commitment());
    let st_new = Statement {
        catalogue: new.commitment(),
        ..st_old
    };
    assert!(!verifies(&proof, &st_new));
    assert!(check(&st_new, &w_old, M, K).is_err());
    // The new catalogue with the old count (dropping the new file from K) is another K too.
    let stale_count = Statement {
        catalogue: epoch::catalogue_commitment(new.root(), old.count()),
        ..st_old
    };
    let w_new = honest(&mut mem_new, &statement(&new, 11), M, K);
    assert!(check(&stale_count, &w_new, M, K).is_err());
}

/// `docs/spec/vectors/epoch.json` (from the pure-Python reference): catalogue commitments,
/// slots, sample seeds and chunk challenges, and whole statements whose honest witnesses
/// satisfy the circuit.
#[test]
fn spec_vectors() {
    let path = format!(
        "{}/../docs/spec/vectors/epoch.json",
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
    let ints = |x: &serde_json::Value| -> Vec<u64> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .collect()
    };
    for case in v["slots"].as_array().unwrap() {
        let (seed, prover) = (fr(&case["seed"]), address(&case["prover"]));
        let m = case["m"].as_u64().unwrap() as usize;
        let count = case["count"].as_u64().unwrap();
        assert_eq!(
            epoch::slots(seed, prover, m, count).unwrap(),
            ints(&case["slots"])
        );
        for (j, s) in case["sample_seeds"].as_array().unwrap().iter().enumerate() {
            assert_eq!(epoch::sample_seed(seed, prover, j), fr(s));
        }
    }
    for case in v["catalogues"].as_array().unwrap() {
        let sizes: Vec<Option<usize>> = case["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_u64().map(|s| s as usize))
            .collect();
        let mut mem = Mem::new(&sizes);
        let cat = mem.catalogue();
        let leaves: Vec<Fr> = case["leaves"].as_array().unwrap().iter().map(fr).collect();
        assert_eq!(cat.values(), leaves.as_slice());
        assert_eq!(cat.root(), fr(&case["tree_root"]));
        assert_eq!(cat.commitment(), fr(&case["commitment"]));
        for st in case["statements"].as_array().unwrap() {
            let (m, k) = (
                st["m"].as_u64().unwrap() as usize,
                st["k"].as_u64().unwrap() as usize,
            );
            let statement = Statement {
                catalogue: cat.commitment(),
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
            let slots = epoch::slots(statement.seed, statement.prover, m, cat.count()).unwrap();
            assert_eq!(slots, ints(&st["slots"]));
            for (j, (&slot, chunks)) in slots
                .iter()
                .zip(st["chunks"].as_array().unwrap())
                .enumerate()
            {
                match mem.commitment_of(slot as usize) {
                    None => assert!(chunks.is_null()),
                    Some(c) => assert_eq!(
                        epoch::chunk_challenges(
                            statement.seed,
                            statement.prover,
                            j,
                            k,
                            c.num_chunks()
                        )
                        .unwrap(),
                        ints(chunks)
                    ),
                }
            }
            let w = honest(&mut mem, &statement, m, k);
            check(&statement, &w, m, k).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
