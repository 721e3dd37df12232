//! The catalogue and its update circuit against the native tree and queue digest.

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_circuits::catalogue::{self, Catalogue, Statement, Witness, DEPTH, OPS, SLOTS};
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::plonk::{self, Builder};
use bigfile_zk::srs::Srs;

fn check(st: &Statement, w: &Witness) -> Result<(), String> {
    let mut b = Builder::new();
    catalogue::build(&mut b, st, Some(w)).map_err(|e| e.to_string())?;
    let (circuit, witness) = b.build().unwrap();
    circuit.check_witness(&witness).map_err(|e| e.to_string())
}

fn c(i: u64) -> Fr {
    Fr::from(1_000_003u64 * (i + 1))
}

/// A catalogue with `n` files in slots `0..n` and the queue digest that added them.
fn filled(n: u64) -> (Catalogue, Fr) {
    let mut cat = Catalogue::new();
    let mut head = Fr::zero();
    for i in 0..n {
        cat.set(i, c(i)).unwrap();
        head = catalogue::queue_next(head, i, c(i));
    }
    (cat, head)
}

#[test]
fn the_tree_is_the_merkle_spec_tree() {
    // The same root as merkle.md's tree of the 2^16 leaves (empty slots 0).
    let (cat, _) = filled(5);
    let mut leaves = vec![Fr::zero(); SLOTS as usize];
    for i in 0..5 {
        leaves[i as usize] = c(i);
    }
    let tree = MerkleTree::new(leaves, 2).unwrap();
    assert_eq!(cat.root(), tree.root());
    assert_eq!(cat.siblings(3).unwrap(), tree.proof(3).unwrap().siblings);
    assert_eq!(
        cat.commitment(),
        bigfile_zk::poseidon::hash2(tree.root(), Fr::from(5u64))
    );
    // Built in bulk from its values: the same tree.
    let bulk = Catalogue::from_values(cat.values()).unwrap();
    assert_eq!((bulk.root(), bulk.count()), (cat.root(), 5));
    assert!(Catalogue::from_values(&vec![Fr::one(); SLOTS as usize + 1]).is_err());
    // The empty catalogue: the all-zero tree and count 0.
    let empty = Catalogue::new();
    assert_eq!(
        empty.root(),
        bigfile_zk::merkle::zero_hashes(2).unwrap()[DEPTH]
    );
    // A slot beyond count + 1 cannot be set.
    let mut cat2 = cat.clone();
    assert!(cat2.set(6, Fr::one()).is_err());
    assert!(cat2.leaf(SLOTS).is_err());
}

#[test]
fn honest_updates_satisfy_the_circuit() {
    let (cat, head) = filled(3);
    // Adds, a removal (value 0), an overwrite of a slot added in the same update, fewer than
    // OPS changes (padding), exactly OPS changes.
    let cases: Vec<Vec<(u64, Fr)>> = vec![
        vec![],
        vec![(3, c(3))],
        vec![(1, Fr::zero()), (3, c(3)), (4, c(4)), (3, Fr::zero())],
        (0..OPS as u64).map(|i| (3 + i, c(3 + i))).collect(),
    ];
    for changes in cases {
        let (st, w, after) = catalogue::apply(&cat, head, &changes).unwrap();
        check(&st, &w).unwrap_or_else(|e| panic!("{changes:?}: {e}"));
        assert_eq!(st.new, after.commitment());
        assert_eq!(st.old, cat.commitment());
    }
    // Too many changes, a slot beyond count: refused before any proving.
    let many: Vec<(u64, Fr)> = (0..=OPS as u64).map(|i| (3 + i, c(i))).collect();
    assert!(catalogue::apply(&cat, head, &many).is_err());
    assert!(catalogue::apply(&cat, head, &[(5, c(5))])
        .unwrap_err()
        .to_string()
        .contains("change 0"));
}

#[test]
fn forged_updates_are_caught() {
    let (cat, head) = filled(4);
    let changes = [(4, c(4)), (1, Fr::zero())];
    let (st, w, _) = catalogue::apply(&cat, head, &changes).unwrap();
    check(&st, &w).unwrap();
    let bump = |x: Fr| x + Fr::one();
    // Another claimed result, another old catalogue, another queue digest before or after.
    for bad in [
        Statement {
            new: bump(st.new),
            ..st
        },
        Statement {
            old: bump(st.old),
            ..st
        },
        Statement {
            old_head: bump(st.old_head),
            ..st
        },
        Statement {
            new_head: bump(st.new_head),
            ..st
        },
    ] {
        assert!(check(&bad, &w).is_err(), "{bad:?}");
    }
    // A result that leaves the removal out (the provider keeps an unpaid... or a paid file
    // out): the catalogue after the add only, with the full queue digest.
    let (only_add, _, _) = catalogue::apply(&cat, head, &changes[..1]).unwrap();
    assert!(check(
        &Statement {
            new: only_add.new,
            ..st
        },
        &w
    )
    .is_err());
    // Witness forgeries: another old leaf, a wrong sibling, another value than queued,
    // another slot, a wrong old count (K binds it), the change marked inactive.
    let mut bad = w.clone();
    bad.changes[1].old_leaf = Fr::zero();
    assert!(check(&st, &bad).is_err());
    let mut bad = w.clone();
    bad.changes[0].siblings[7] = bump(bad.changes[0].siblings[7]);
    assert!(check(&st, &bad).is_err());
    let mut bad = w.clone();
    bad.changes[0].value = c(99);
    assert!(check(&st, &bad).is_err());
    let mut bad = w.clone();
    bad.changes[1].slot = 2;
    bad.changes[1].old_leaf = c(2);
    bad.changes[1].siblings = cat.siblings(2).unwrap();
    assert!(check(&st, &bad).is_err());
    let mut bad = w.clone();
    bad.old_count = 5;
    assert!(check(&st, &bad).is_err());
    let mut bad = w.clone();
    bad.changes.truncate(1);
    assert!(check(&st, &bad).is_err());
}

#[test]
fn a_slot_beyond_count_cannot_be_written() {
    // The circuit itself refuses a write at slot > count, even with a consistent tree:
    // slots stay dense, so `count` bounds the epoch proof's sampling.
    let (cat, head) = filled(2);
    let mut far = cat.clone();
    // Build the "after" tree by hand (Catalogue::set refuses it).
    let mut leaves = vec![Fr::zero(); SLOTS as usize];
    leaves[0] = c(0);
    leaves[1] = c(1);
    leaves[5] = c(5);
    let tree = MerkleTree::new(leaves, 2).unwrap();
    let st = Statement {
        old: cat.commitment(),
        old_head: head,
        new: bigfile_zk::poseidon::hash2(tree.root(), Fr::from(2u64)),
        new_head: catalogue::queue_next(head, 5, c(5)),
    };
    let w = Witness {
        old_root: cat.root(),
        old_count: 2,
        changes: vec![catalogue::Change {
            slot: 5,
            value: c(5),
            old_leaf: Fr::zero(),
            siblings: cat.siblings(5).unwrap(),
        }],
    };
    let err = check(&st, &w).unwrap_err();
    assert!(err.contains("change 0") && err.contains("to_bits"), "{err}");
    assert!(far.set(5, c(5)).is_err());
}

#[test]
fn the_shape_is_fixed_and_a_proof_verifies() {
    let shape = catalogue::circuit().unwrap();
    let (cat, head) = filled(2);
    let (st, w, _) = catalogue::apply(&cat, head, &[(2, c(2)), (0, Fr::zero())]).unwrap();
    let mut b = Builder::new();
    catalogue::build(&mut b, &st, Some(&w)).unwrap();
    let (circuit, witness) = b.build().unwrap();
    assert_eq!(shape.difference(&circuit), None);
    assert!(!shape.has_lookups());
    eprintln!("catalogue update: {} rows, n = {}", b.num_rows(), shape.n());

    let srs =
        Srs::insecure_for_testing(plonk::keys::srs_powers_needed(shape.n(), true), 7).unwrap();
    let (pk, vk) = catalogue::setup(&srs).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let blinding = plonk::random_blinding(&pk, &mut rng);
    let proof = catalogue::prove(&pk, &st, &w, &blinding, &mut |_| Ok(())).unwrap();
    assert!(plonk::verify(&vk, &proof, &st.public_inputs()).unwrap());
    // Each public input changed: refused by the verifier.
    for i in 0..4 {
        let mut pi = st.public_inputs();
        pi[i] += Fr::one();
        assert!(
            !plonk::verify(&vk, &proof, &pi).unwrap(),
            "public input {i}"
        );
    }
    let _ = witness;
}

/// `docs/spec/vectors/catalogue.json` (from the pure-Python reference): four updates from the
/// empty catalogue, replayed natively, each one's honest witness satisfying the circuit.
#[test]
fn spec_vectors() {
    let path = format!(
        "{}/../docs/spec/vectors/catalogue.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap();
    let fr = |x: &serde_json::Value| {
        bigfile_zk::field::from_hex(x.as_str().unwrap(), "vector").expect("canonical hex")
    };
    assert_eq!(v["depth"].as_u64(), Some(DEPTH as u64));
    assert_eq!(v["ops_per_update"].as_u64(), Some(OPS as u64));
    let mut cat = Catalogue::new();
    assert_eq!(cat.root(), fr(&v["empty"]["root"]));
    assert_eq!(cat.commitment(), fr(&v["empty"]["commitment"]));
    let mut head = Fr::zero();
    for (u, update) in v["updates"].as_array().unwrap().iter().enumerate() {
        let changes: Vec<(u64, Fr)> = update["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["slot"].as_u64().unwrap(), fr(&c["value"])))
            .collect();
        for ((slot, value), d) in changes.iter().zip(update["op_digests"].as_array().unwrap()) {
            assert_eq!(catalogue::op_digest(*slot, *value), fr(d));
        }
        let (st, w, after) = catalogue::apply(&cat, head, &changes).unwrap();
        let public: Vec<Fr> = update["public_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(fr)
            .collect();
        assert_eq!(st.public_inputs().to_vec(), public, "update {u}");
        assert_eq!(after.root(), fr(&update["root_after"]));
        assert_eq!(after.count(), update["count_after"].as_u64().unwrap());
        check(&st, &w).unwrap_or_else(|e| panic!("update {u}: {e}"));
        cat = after;
        head = st.new_head;
    }
}
