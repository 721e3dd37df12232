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
    plonk::verify(&vk, &proof, &witness[0][..circuit.num_public]).unwrap()
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
    for gate in [true, false] {
        let mut b = Builder::new();
        b.set_poseidon_gate(gate);
        let s = [Fr::from(3u64), Fr::from(4u64), Fr::from(5u64)];
        let vars = s.map(|v| b.input(v));
        let out = b.poseidon_permute3(vars);
        let mut expected = s;
        poseidon::permute(&mut expected).unwrap();
        assert_eq!(out.map(|v| b.value(v)), expected);
        check(&mut b).unwrap();
    }
}

/// Poseidon on arithmetic rows (`set_poseidon_gate(false)`; the permutation alone is in
/// `permute3_matches`): the same sponge, hash and Merkle level as the round gate, no
/// `q_F`/`q_P` row anywhere, and a circuit that proves (the prover's path without the degree-6
/// part) and refuses a wrong public output.
#[test]
fn poseidon_without_the_round_gate() {
    let mut b = Builder::new();
    b.set_poseidon_gate(false);
    let s = [Fr::from(3u64), Fr::from(4u64), Fr::from(5u64)];
    let vars = s.map(|v| b.input(v));
    let absorbed = b.poseidon_absorb3(vars, vars[0], vars[1]);
    let mut expected = [s[0], s[1] + s[0], s[2] + s[1]];
    poseidon::permute(&mut expected).unwrap();
    assert_eq!(absorbed.map(|v| b.value(v)), expected);
    let h = b.poseidon(&[vars[0], vars[1]]).unwrap();
    assert_eq!(b.value(h), poseidon::hash(&[s[0], s[1]]).unwrap());
    let bit = b.input(Fr::one());
    let level = b.merkle_level(vars[0], bit, vars[1]);
    assert_eq!(b.value(level), poseidon::hash(&[s[1], s[0]]).unwrap());
    let public = b.public_input(b.value(level));
    b.assert_equal(level, public);
    let (circuit, witness) = b.build().unwrap();
    for sel in [plonk::Selector::QF, plonk::Selector::QP] {
        assert!(circuit.selector(sel).unwrap().iter().all(Fr::is_zero));
    }
    circuit.check_witness(&witness).unwrap();
    let srs = Srs::insecure_for_testing(5 * circuit.n() + 9, 3).unwrap();
    let (pk, vk) = plonk::setup(&circuit, &srs).unwrap();
    let proof = plonk::prove(&pk, &witness, &mut StdRng::seed_from_u64(1)).unwrap();
    let good = witness[0][..circuit.num_public].to_vec();
    assert!(plonk::verify(&vk, &proof, &good).unwrap());
    let mut bad = good.clone();
    bad[0] += Fr::one();
    assert!(!plonk::verify(&vk, &proof, &bad).unwrap());
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

/// Gadgets constrain their own inputs: no caller-side check is needed for soundness.
#[test]
fn gadgets_constrain_their_own_inputs() {
    // less_than: without operand range checks, x − y + 2^bits wraps mod r and `r − 1 < 5`
    // would prove true with bits = 8.
    let mut b = Builder::new();
    let x = b.public_input(-Fr::one());
    let five = b.input(Fr::from(5u64));
    let lt = b.less_than(x, five, 8).unwrap();
    let one = b.constant(Fr::one());
    b.assert_equal(lt, one); // the claim "r − 1 < 5"
    let err = check(&mut b).unwrap_err();
    assert!(err.contains("less_than/range_check(8)"), "{err}");
    // The same with the honest witness for a wrapped value: the operand's own check fails.
    let mut b = Builder::new();
    let big = b.input(Fr::from(300u64));
    let y = b.input(Fr::from(5u64));
    b.less_than(big, y, 8).unwrap();
    assert!(check(&mut b).unwrap_err().contains("less_than"));

    // select / cond_swap / merkle_level with a non-boolean selector: unsatisfiable.
    type Gadget = fn(&mut Builder, Var, Var, Var);
    let gadgets: [(&str, Gadget); 3] = [
        ("select", |b, s, x, y| {
            b.select(s, x, y);
        }),
        ("cond_swap", |b, s, x, y| {
            b.cond_swap(s, x, y);
        }),
        ("merkle_level", |b, s, x, y| {
            b.merkle_level(x, s, y);
        }),
    ];
    for (name, gadget) in gadgets {
        let mut b = Builder::new();
        let s = b.input(Fr::from(2u64));
        let (x, y) = (b.input(Fr::from(5u64)), b.input(Fr::from(9u64)));
        gadget(&mut b, s, x, y);
        let err = check(&mut b).unwrap_err();
        assert!(err.contains("assert_bool"), "{name}: {err}");
    }
}

/// A check already made is not made twice: known booleans and ranges cost no rows.
#[test]
fn known_facts_cost_no_rows() {
    let mut b = Builder::new();
    let x = b.input(Fr::from(7u64));
    let bits = b.to_bits(x, 8).unwrap();
    let (p, q) = (b.input(Fr::from(1u64)), b.input(Fr::from(2u64)));
    let before = b.num_rows();
    b.select(bits[0], p, q);
    assert_eq!(b.num_rows() - before, 3, "select on a to_bits output");
    let y = b.input(Fr::from(9u64));
    b.range_check(y, 8).unwrap();
    let before = b.num_rows();
    let lt = b.less_than(x, y, 8).unwrap();
    let after_checked = b.num_rows() - before;
    let before = b.num_rows();
    b.select(lt, p, q);
    assert_eq!(b.num_rows() - before, 3, "select on a less_than output");
    // Unchecked operands pay for their range checks, and once only.
    let (u, v) = (b.input(Fr::from(3u64)), b.input(Fr::from(4u64)));
    let before = b.num_rows();
    b.less_than(u, v, 8).unwrap();
    assert!(b.num_rows() - before > after_checked);
    let before = b.num_rows();
    b.less_than(u, v, 8).unwrap();
    assert_eq!(b.num_rows() - before, after_checked);
    // A wider known range does not satisfy a narrower one.
    let w = b.input(Fr::from(3u64));
    b.range_check(w, 16).unwrap();
    let before = b.num_rows();
    b.ensure_range(w, 8).unwrap();
    assert!(b.num_rows() > before);
    check(&mut b).unwrap();
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

mod random_circuits {
    use super::*;
    use bigfile_zk::plonk::prover::prove_unchecked;
    use proptest::prelude::*;

    /// A circuit from random operations on a growing pool of variables.
    fn circuit_from(ops: &[(u8, u64, u64)], p0: u64, s0: u64) -> Builder {
        let mut b = Builder::new();
        let mut pool = vec![b.public_input(Fr::from(p0)), b.input(Fr::from(s0))];
        let mut table = None;
        for (i, &(op, x, y)) in ops.iter().enumerate() {
            let (u, v) = (pool[x as usize % pool.len()], pool[y as usize % pool.len()]);
            match op % 8 {
                0 => pool.push(b.add(u, v)),
                1 => pool.push(b.mul(u, v)),
                2 => pool.push(b.lin2(u, Fr::from(x), v, Fr::from(y), Fr::from(i as u64))),
                3 => {
                    let bit = b.input(Fr::from(x % 2));
                    b.assert_bool(bit);
                    pool.push(b.select(bit, u, v));
                }
                4 => {
                    let t = *table.get_or_insert_with(|| {
                        b.add_table(
                            "sq",
                            (0..8u64).map(|j| (Fr::from(j), Fr::from(j * j))).collect(),
                        )
                        .unwrap()
                    });
                    let k = x % 8;
                    let (kv, sq) = (b.input(Fr::from(k)), b.input(Fr::from(k * k)));
                    b.lookup(t, kv, sq);
                    pool.push(sq);
                }
                5 => pool.push(b.poseidon(&[u, v]).unwrap()),
                6 => pool.push(b.mul_add(
                    u,
                    v,
                    Fr::from(x % 5),
                    Fr::from(y % 3),
                    -Fr::from(x % 7),
                    Fr::from(i as u64),
                )),
                _ => {
                    // A dot product of 2..=5 pool variables (spec v2's q_N rows).
                    let len = 2 + (x % 4) as usize;
                    let terms: Vec<(Fr, Var)> = (0..len)
                        .map(|j| {
                            let c = Fr::from(y.wrapping_add(j as u64) % 1000) - Fr::from(500u64);
                            (c, pool[(x as usize + 3 * j) % pool.len()])
                        })
                        .collect();
                    pool.push(b.dot(&terms, Fr::from(i as u64)));
                }
            }
        }
        let last = *pool.last().unwrap();
        let out = b.public_input(b.value(last));
        b.assert_equal(last, out);
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Random satisfied circuits verify; every constrained witness cell, flipped, is
        /// refused by the witness check; a sample of the flips, proved anyway, fail to verify.
        #[test]
        fn satisfied_verify_and_flips_fail(
            ops in prop::collection::vec((0u8..8, any::<u64>(), any::<u64>()), 1..6),
            p0 in any::<u64>(), s0 in any::<u64>(), pick in any::<u64>(),
        ) {
            let mut b = circuit_from(&ops, p0, s0);
            let (circuit, witness) = b.build().unwrap();
            prop_assert!(circuit.check_witness(&witness).is_ok());
            let (pk, vk) = plonk::setup(&circuit, srs()).unwrap();
            let proof = plonk::prove(&pk, &witness, &mut StdRng::seed_from_u64(pick)).unwrap();
            let public = witness[0][..circuit.num_public].to_vec();
            prop_assert!(plonk::verify(&vk, &proof, &public).unwrap());
            let cells: Vec<(usize, usize)> = (0..circuit.n())
                .flat_map(|i| (0..3).map(move |col| (col, i)))
                .filter(|&(col, i)| circuit.is_constrained(col, i))
                .collect();
            for &(col, i) in &cells {
                // A public-input cell copied nowhere only changes the statement (checked below).
                let statement_only = col == 0
                    && i < circuit.num_public
                    && !circuit.copies.iter().any(|cl| cl.contains(&(0, i)));
                let mut bad = witness.clone();
                bad[col][i] += Fr::one();
                prop_assert!(statement_only || circuit.check_witness(&bad).is_err(), "cell {col},{i}");
            }
            let (col, i) = cells[pick as usize % cells.len()];
            let mut bad = witness.clone();
            bad[col][i] += Fr::one();
            let blinding = vec![Fr::from(pick); if pk.circuit.has_lookups() { 18 } else { 12 }];
            let forged = prove_unchecked(&pk, &bad, &blinding).unwrap();
            // Public-input cells change the statement: verify against the original inputs.
            prop_assert!(!plonk::verify(&vk, &forged, &public).unwrap(), "flip of {col},{i} verified");
        }
    }
}

/// `x ← x·x + c` is one row per step (the whole arithmetic row, output in `c`), and a wrong
/// output is refused.
#[test]
fn mul_add_is_one_row() {
    let mut b = Builder::new();
    let x0 = b.input(Fr::from(3u64));
    let before = b.num_rows();
    let mut x = x0;
    let mut v = Fr::from(3u64);
    for _ in 0..100 {
        x = b.mul_add(x, x, Fr::one(), Fr::zero(), Fr::zero(), Fr::from(7u64));
        v = v * v + Fr::from(7u64);
    }
    assert_eq!(b.num_rows() - before, 100);
    assert_eq!(b.value(x), v);
    // Every coefficient: 5·x·y + 2·x − 4·y + 11.
    let (p, q) = (b.input(Fr::from(6u64)), b.input(Fr::from(10u64)));
    let r = b.mul_add(
        p,
        q,
        Fr::from(5u64),
        Fr::from(2u64),
        -Fr::from(4u64),
        Fr::from(11u64),
    );
    assert_eq!(b.value(r), Fr::from(5 * 60 + 12 + 11u64) - Fr::from(40u64));
    let out = b.public_input(v);
    b.assert_equal(x, out);
    assert!(prove_and_verify(&mut b));
    let (circuit, mut witness) = b.build().unwrap();
    let row = before + 99; // the last step's row: its output cell
    witness[2][row] += Fr::one();
    assert!(circuit.check_witness(&witness).is_err());
}

#[test]
fn is_zero_is_equal_and_sponge() {
    let mut b = Builder::new();
    let (z, nz) = (b.input(Fr::zero()), b.input(Fr::from(7u64)));
    let (a, b2) = (b.is_zero(z), b.is_zero(nz));
    let (e1, e2) = (b.is_equal(nz, nz), b.is_equal(nz, z));
    assert_eq!(
        [a, b2, e1, e2].map(|v| b.value(v)),
        [1u64, 0, 1, 0].map(Fr::from)
    );
    // The sponge equals the file commitment's leaf hash on a 62-byte chunk.
    let chunk: Vec<u8> = (0..62u8).collect();
    let e0 = bigfile_zk::field::from_be_bytes_short(&chunk[..31]);
    let e1v = bigfile_zk::field::from_be_bytes_short(&chunk[31..]);
    let iv = b.constant(bigfile_zk::commitment::leaf_iv());
    let zero = b.constant(Fr::zero());
    let (x0, x1) = (b.input(e0), b.input(e1v));
    let out = b.poseidon_absorb3([iv, zero, zero], x0, x1);
    assert_eq!(b.value(out[0]), bigfile_zk::commitment::leaf_hash(&chunk));
    check(&mut b).unwrap();
    // A lying is_zero output is caught.
    let (circuit, mut w) = b.build().unwrap();
    let row = circuit
        .labels
        .iter()
        .find(|(_, l)| l == "is_zero")
        .unwrap()
        .0;
    w[2][row + 1] = Fr::zero(); // out of is_zero(0) claimed 0
    assert!(circuit.check_witness(&w).is_err());
}

/// Spec v2: `dot` takes two terms per row, chains back to back without extra rows, makes the
/// circuit version 2, and proves; version-1 circuits stay version 1.
#[test]
fn dot_products_two_terms_per_row() {
    let mut b = Builder::new();
    let xs: Vec<Var> = (0..7u64).map(|i| b.input(Fr::from(i + 2))).collect();
    let _ = b.constant(Fr::from(3u64));
    let before = b.num_rows();
    let terms = |shift: u64| -> Vec<(Fr, Var)> {
        xs.iter()
            .enumerate()
            .map(|(i, x)| (Fr::from(i as u64 + shift) - Fr::from(5u64), *x))
            .collect()
    };
    let d0 = b.dot(&terms(0), Fr::from(11u64));
    let d1 = b.dot(&terms(1), -Fr::from(4u64));
    let d2 = b.dot(&terms(2)[..4], Fr::zero());
    // 4 + 4 + 2 chain rows; d0's and d1's results sit in the next chain's first row.
    assert_eq!(b.num_rows() - before, 10);
    let expect = |t: &[(Fr, Var)], k: Fr| k + t.iter().map(|(c, x)| *c * b.value(*x)).sum::<Fr>();
    assert_eq!(b.value(d0), expect(&terms(0), Fr::from(11u64)));
    assert_eq!(b.value(d1), expect(&terms(1), -Fr::from(4u64)));
    assert_eq!(b.value(d2), expect(&terms(2)[..4], Fr::zero()));
    let s = b.add(d0, d1);
    let total = b.add(s, d2);
    let out = b.public_input(b.value(total));
    b.assert_equal(total, out);
    let (circuit, witness) = b.build().unwrap();
    assert_eq!(circuit.version(), 2);
    circuit.check_witness(&witness).unwrap();
    let (pk, vk) = plonk::setup(&circuit, srs()).unwrap();
    assert_eq!(vk.version(), 2);
    assert_eq!(plonk::VerifyingKey::from_bytes(&vk.to_bytes()).unwrap(), vk);
    let pk2 = plonk::ProvingKey::from_bytes(&pk.to_bytes()).unwrap();
    let proof = plonk::prove(&pk2, &witness, &mut StdRng::seed_from_u64(3)).unwrap();
    assert!(plonk::verify(&vk, &proof, &witness[0][..1]).unwrap());
    assert!(!plonk::verify(&vk, &proof, &[witness[0][0] + Fr::one()]).unwrap());
    // A wrong running sum is named by the witness check and, proved anyway, refused.
    let row = (0..circuit.n())
        .find(|&i| circuit.fixed.q_n.as_ref().unwrap()[i] != Fr::zero())
        .unwrap();
    let mut bad = witness.clone();
    bad[2][row + 1] += Fr::one();
    let err = circuit.check_witness(&bad).unwrap_err().to_string();
    assert!(err.contains("arithmetic (q_L, q_R, q_N"), "{err}");
    let forged =
        bigfile_zk::plonk::prover::prove_unchecked(&pk, &bad, &[Fr::from(5u64); 12]).unwrap();
    assert!(!plonk::verify(&vk, &forged, &witness[0][..1]).unwrap());

    // Without dot products a circuit is version 1 (its keys and proofs are unchanged).
    let mut b = Builder::new();
    let x = b.input(Fr::from(3u64));
    let y = b.mul(x, x);
    let _ = b.linear_combination(&[(Fr::one(), x), (Fr::one(), y), (Fr::one(), x)], Fr::one());
    let (circuit, _) = b.build().unwrap();
    assert_eq!(circuit.version(), 1);
    assert!(circuit.fixed.q_n.is_none());
}

/// Spec v2 structural rules: q_n never on the last row, a Poseidon row or a public-input row,
/// and a present q_n column is not all zero; a version-2 key's [q_N] is not the identity.
#[test]
fn q_n_rules() {
    let mut b = Builder::new();
    let xs: Vec<Var> = (0..4u64).map(|i| b.input(Fr::from(i))).collect();
    let _ = b.poseidon(&xs[..2]).unwrap();
    let terms: Vec<(Fr, Var)> = xs.iter().map(|x| (Fr::one(), *x)).collect();
    let _ = b.dot(&terms, Fr::zero());
    let _ = b.public_input(Fr::one());
    let (circuit, _) = b.build().unwrap();
    circuit.check().unwrap();
    let n = circuit.n();
    let set = |row: usize| {
        let mut c = circuit.clone();
        c.fixed.q_n.as_mut().unwrap()[row] = -Fr::one();
        c.check().map_err(|e| e.to_string())
    };
    let poseidon_row = (0..n).find(|&i| circuit.fixed.q_f[i] == Fr::one()).unwrap();
    for row in [n - 1, poseidon_row, 0] {
        let err = set(row).unwrap_err();
        assert!(err.contains("q_n"), "{err}");
    }
    let mut zero = circuit.clone();
    zero.fixed.q_n = Some(vec![Fr::zero(); n]);
    assert!(zero.check().unwrap_err().to_string().contains("all zero"));
    // A version-2 key encoding whose [q_N] is the identity is not canonical.
    let (_, vk) = plonk::setup(&circuit, srs()).unwrap();
    let mut bytes = vk.to_bytes();
    let qn = 11 + 7 * 64;
    bytes[qn..qn + 64].fill(0);
    let err = plonk::VerifyingKey::from_bytes(&bytes)
        .unwrap_err()
        .to_string();
    assert!(err.contains("identity"), "{err}");
}
