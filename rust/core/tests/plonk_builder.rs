//! The circuit builder's gadgets against the native implementations, and proofs of circuits
//! made with it.

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_zk::merkle::MerkleTree;
use bigfile_zk::plonk::{self, Builder, Var};
use bigfile_zk::poseidon;
use bigfile_zk::srs::Srs;
use std::sync::OnceLock;

fn srs() -> &'static Srs {
    static SRS: OnceLock<Srs> = OnceLock::new();
    SRS.get_or_init(|| Srs::insecure_for_testing(5 * 2048 + 16, 3).unwrap())
}

fn prove_and_verify(b: &mut Builder) -> bool {
    let (circuit, witness) = b.build().unwrap();
    let (pk, vk) = plonk::setup(&circuit, srs()).unwrap();
    let proof = plonk::prove(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
    plonk::verify(&vk, &proof, &witness[0][..circuit.num_public])
}

fn check(b: &mut Builder) -> Result<(), String> {
    let (circuit, witness) = b.build().unwrap();
    circuit.check().map_err(|e| e.to_string())?;
    circuit.check_witness(&witness).map_err(|e| e.to_string())
}

#[test]
fn poseidon2_gadget_is_circomlib_and_costs_68_rows() {
    let mut b = Builder::new();
    let x = b.public_input(Fr::from(1u64));
    let y = b.input(Fr::from(2u64));
    let _ = b.constant(Fr::zero()); // share the capacity constant's row out of the count
    let before = b.num_rows();
    let h = b.poseidon(&[x, y]).unwrap();
    // 2 rows adding round constants, 65 rounds, 1 output row (+1 for the cached C_0[0] row).
    assert_eq!(b.num_rows() - before, 69);
    assert_eq!(b.value(h), poseidon::hash2(Fr::from(1u64), Fr::from(2u64)));
    let expected = b.public_input(b.value(h));
    b.assert_equal(h, expected);
    assert!(prove_and_verify(&mut b));
}

#[test]
fn poseidon_other_widths_match() {
    for n in [1usize, 3, 4] {
        let mut b = Builder::new();
        let vals: Vec<Fr> = (0..n).map(|i| Fr::from(i as u64 + 7)).collect();
        let vars: Vec<Var> = vals.iter().map(|v| b.input(*v)).collect();
        let h = b.poseidon(&vars).unwrap();
        assert_eq!(b.value(h), poseidon::hash(&vals).unwrap(), "{n} inputs");
        check(&mut b).unwrap();
    }
    assert!(Builder::new().poseidon(&[]).is_err());
}

#[test]
fn permute3_matches() {
    let mut b = Builder::new();
    let s = [Fr::from(3u64), Fr::from(4u64), Fr::from(5u64)];
    let vars = s.map(|v| b.input(v));
    let out = b.poseidon_permute3(vars);
    let mut expected = s;
    poseidon::permute(&mut expected).unwrap();
    assert_eq!(out.map(|v| b.value(v)), expected);
    check(&mut b).unwrap();
}

fn merkle_case(arity: usize, leaves: usize, index: usize) -> (Builder, Var) {
    let values: Vec<Fr> = (0..leaves).map(|i| Fr::from(i as u64 * 31 + 1)).collect();
    let tree = MerkleTree::new(values.clone(), arity).unwrap();
    let proof = tree.proof(index as u64).unwrap();
    let mut b = Builder::new();
    let root = b.public_input(tree.root());
    let leaf = b.input(values[index]);
    let idx = b.input(Fr::from(index as u64));
    let sibs: Vec<Vec<Var>> = proof
        .siblings
        .chunks(arity - 1)
        .map(|level| level.iter().map(|s| b.input(*s)).collect())
        .collect();
    let computed = b.merkle_root(leaf, idx, &sibs, arity).unwrap();
    assert_eq!(b.value(computed), tree.root(), "arity {arity}");
    b.assert_equal(computed, root);
    (b, computed)
}

#[test]
fn merkle_paths_of_every_arity() {
    for (arity, leaves) in [(2, 13), (4, 17), (8, 9), (16, 17)] {
        for index in [0, leaves - 1, leaves / 2] {
            let (mut b, _) = merkle_case(arity, leaves, index);
            check(&mut b).unwrap();
        }
    }
    let (mut b, _) = merkle_case(2, 8, 5);
    assert!(prove_and_verify(&mut b));
}

#[test]
fn merkle_wrong_sibling_names_the_gadget() {
    let values: Vec<Fr> = (0..8).map(|i| Fr::from(i as u64)).collect();
    let tree = MerkleTree::new(values.clone(), 2).unwrap();
    let proof = tree.proof(3).unwrap();
    let mut b = Builder::new();
    let root = b.public_input(tree.root());
    let leaf = b.input(values[3]);
    let idx = b.input(Fr::from(3u64));
    let mut sibs: Vec<Vec<Var>> = proof
        .siblings
        .chunks(1)
        .map(|l| l.iter().map(|s| b.input(*s)).collect())
        .collect();
    sibs[1][0] = b.input(Fr::from(999u64));
    let computed = b.merkle_root(leaf, idx, &sibs, 2).unwrap();
    b.assert_equal(computed, root);
    let err = check(&mut b).unwrap_err();
    assert!(
        err.contains("copy constraint") && err.contains("merkle/level 2/poseidon"),
        "{err}"
    );
}

#[test]
fn ranges_bits_and_comparisons() {
    let mut b = Builder::new();
    let x = b.input(Fr::from(200u64));
    b.range_check(x, 8).unwrap();
    b.range_check(x, 13).unwrap();
    let big = b.input(Fr::from(u64::MAX));
    b.range_check(big, 64).unwrap();
    let bits = b.to_bits(x, 10).unwrap();
    let got: Vec<u64> = bits
        .iter()
        .map(|v| if b.value(*v).is_one() { 1 } else { 0 })
        .collect();
    assert_eq!(got, vec![0, 0, 0, 1, 0, 0, 1, 1, 0, 0]);
    let y = b.input(Fr::from(201u64));
    let lt = b.less_than(x, y, 16).unwrap();
    let ge = b.less_than(y, x, 16).unwrap();
    let eq = b.less_than(x, x, 16).unwrap();
    assert_eq!(
        (b.value(lt), b.value(ge), b.value(eq)),
        (Fr::one(), Fr::zero(), Fr::zero())
    );
    check(&mut b).unwrap();
    assert!(prove_and_verify(&mut b));

    // Out of range: a top-limb lookup fails, or the limbs do not add up to the (public) value.
    for (value, bits) in [(256u64, 8usize), (1 << 13, 13), (5, 2)] {
        let mut b = Builder::new();
        let x = b.public_input(Fr::from(value));
        b.range_check(x, bits).unwrap();
        let err = check(&mut b).unwrap_err();
        assert!(
            err.contains(&format!("range_check({bits})")),
            "{value}/{bits}: {err}"
        );
    }
    let mut b = Builder::new();
    let x = b.public_input(-Fr::one());
    b.range_check(x, 253).unwrap();
    assert!(check(&mut b).is_err(), "r − 1 is not a 253-bit value");
    assert!(Builder::new().to_bits(Var(0), 254).is_err());
}

#[test]
fn select_swap_and_asserts() {
    let mut b = Builder::new();
    let (one, zero) = (b.input(Fr::one()), b.input(Fr::zero()));
    b.assert_bool(one);
    b.assert_bool(zero);
    let (x, y) = (b.input(Fr::from(5u64)), b.input(Fr::from(9u64)));
    let s1 = b.select(one, x, y);
    let s0 = b.select(zero, x, y);
    let (l, r) = b.cond_swap(one, x, y);
    assert_eq!(
        [s1, s0, l, r].map(|v| b.value(v)),
        [5u64, 9, 9, 5].map(Fr::from)
    );
    let d = b.sub(x, x);
    b.assert_zero(d);
    check(&mut b).unwrap();
    let mut b = Builder::new();
    let two = b.input(Fr::from(2u64));
    b.assert_bool(two);
    assert!(check(&mut b).unwrap_err().contains("assert_bool"));
}

/// The circuit's shape must not depend on the values: setup (zeros) and proving agree.
#[test]
fn shape_is_independent_of_values() {
    let make = |v: u64| {
        let mut b = Builder::new();
        let x = b.public_input(Fr::from(v));
        let y = b.input(Fr::from(v + 1));
        let h = b.poseidon(&[x, y]).unwrap();
        b.range_check(y, 16).unwrap();
        let lt = b.less_than(x, y, 16).unwrap();
        b.assert_bool(lt);
        let _ = h;
        b.build().unwrap().0
    };
    let (a, c) = (make(0), make(1234));
    assert_eq!(a.fixed, c.fixed);
    assert_eq!(a.copies, c.copies);
}
