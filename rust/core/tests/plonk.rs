//! PLONK end to end on hand-made circuits: completeness, and rejection of every forged thing.
#![allow(clippy::needless_range_loop)] // row/column index arithmetic reads best as indices

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_zk::plonk::{self, proof::Proof, prover::prove_unchecked, Circuit, Fixed};
use bigfile_zk::poseidon;
use bigfile_zk::srs::Srs;
use std::sync::OnceLock;

fn srs() -> &'static Srs {
    static SRS: OnceLock<Srs> = OnceLock::new();
    SRS.get_or_init(|| Srs::insecure_for_testing(5 * 128 + 16, 7).unwrap())
}

fn f(x: i64) -> Fr {
    if x >= 0 {
        Fr::from(x as u64)
    } else {
        -Fr::from((-x) as u64)
    }
}

/// An empty circuit of 2^k rows (all selectors zero).
fn empty(k: u32, num_public: usize, lookups: bool) -> Circuit {
    let n = 1usize << k;
    let z = || vec![Fr::zero(); n];
    let mut q_l = z();
    for v in q_l.iter_mut().take(num_public) {
        *v = Fr::one();
    }
    Circuit {
        k,
        num_public,
        fixed: Fixed {
            q_m: z(),
            q_l,
            q_r: z(),
            q_o: z(),
            q_c: z(),
            q_f: z(),
            q_p: z(),
            q_n: None,
            lookup: lookups.then(|| [z(), z(), z(), z()]),
        },
        copies: vec![],
        labels: vec![],
        packed: false,
    }
}

/// Public x, y; row 2: x·y = c; row 3: c + 5 = out, with copies a2 = a0, b2 = a1, a3 = c2.
fn arithmetic() -> (Circuit, [Vec<Fr>; 3]) {
    let mut c = empty(3, 2, false);
    c.fixed.q_m[2] = f(1);
    c.fixed.q_o[2] = f(-1);
    c.fixed.q_l[3] = f(1);
    c.fixed.q_c[3] = f(5);
    c.fixed.q_o[3] = f(-1);
    c.copies = vec![
        vec![(0, 0), (0, 2)],
        vec![(0, 1), (1, 2)],
        vec![(2, 2), (0, 3)],
    ];
    c.labels = vec![(2, "mul".into()), (3, "add5".into())];
    let mut w: [Vec<Fr>; 3] = std::array::from_fn(|_| vec![Fr::zero(); 8]);
    let (x, y) = (f(3), f(11));
    w[0][0] = x;
    w[0][1] = y;
    w[0][2] = x;
    w[1][2] = y;
    w[2][2] = x * y;
    w[0][3] = x * y;
    w[2][3] = x * y + f(5);
    (c, w)
}

/// One circomlib Poseidon(2) permutation of (0, 1, 2) on rows 0..=65 (spec §2.1 layout).
fn poseidon_circuit() -> (Circuit, [Vec<Fr>; 3], [Fr; 3]) {
    let mut c = empty(7, 0, false);
    let p = poseidon::params(3).unwrap();
    let rc = |r: usize| {
        [
            p.round_constants[3 * r],
            p.round_constants[3 * r + 1],
            p.round_constants[3 * r + 2],
        ]
    };
    let rounds = 65;
    let mut w: [Vec<Fr>; 3] = std::array::from_fn(|_| vec![Fr::zero(); 128]);
    let input = [f(0), f(1), f(2)];
    let mut u: [Fr; 3] = std::array::from_fn(|i| input[i] + rc(0)[i]);
    for r in 0..rounds {
        let full = !(4..61).contains(&r);
        if full {
            c.fixed.q_f[r] = f(1);
        } else {
            c.fixed.q_p[r] = f(1);
        }
        let next_c = if r + 1 < rounds {
            rc(r + 1)
        } else {
            [Fr::zero(); 3]
        };
        c.fixed.q_c[r] = next_c[0];
        c.fixed.q_l[r] = next_c[1];
        c.fixed.q_r[r] = next_c[2];
        for i in 0..3 {
            w[i][r] = u[i];
        }
        let pow5 = |x: Fr| x * x * x * x * x;
        let s = if full {
            [pow5(u[0]), pow5(u[1]), pow5(u[2])]
        } else {
            [pow5(u[0]), u[1], u[2]]
        };
        u = std::array::from_fn(|j| {
            (0..3).map(|k| p.mds[3 * j + k] * s[k]).sum::<Fr>() + next_c[j]
        });
    }
    for i in 0..3 {
        w[i][rounds] = u[i];
    }
    c.labels = vec![(0, "poseidon".into()), (66, "free".into())];
    (c, w, u)
}

/// Tables: 3-bit range (v, 0, 1) and squares (x, x², 2); two lookups.
fn lookup_circuit() -> (Circuit, [Vec<Fr>; 3]) {
    let mut c = empty(4, 1, true);
    let l = c.fixed.lookup.as_mut().unwrap();
    let mut rows: Vec<[Fr; 3]> = (0..8).map(|v| [f(v), f(0), f(1)]).collect();
    rows.extend((0..4).map(|x| [f(x), f(x * x), f(2)]));
    for i in 0..16 {
        let t = rows[i.min(rows.len() - 1)];
        l[1][i] = t[0];
        l[2][i] = t[1];
        l[3][i] = t[2];
    }
    l[0][2] = f(1);
    l[0][3] = f(1);
    l[0][4] = f(1);
    let mut w: [Vec<Fr>; 3] = std::array::from_fn(|_| vec![Fr::zero(); 16]);
    w[0][0] = f(5);
    for (row, t) in [
        (2, [f(5), f(0), f(1)]),
        (3, [f(3), f(9), f(2)]),
        (4, [f(5), f(0), f(1)]),
    ] {
        for i in 0..3 {
            w[i][row] = t[i];
        }
    }
    c.copies = vec![vec![(0, 0), (0, 2)]];
    (c, w)
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(42)
}

fn prove_ok(c: &Circuit, w: &[Vec<Fr>; 3]) -> (plonk::VerifyingKey, Proof, Vec<Fr>) {
    let (pk, vk) = plonk::setup(c, srs()).unwrap();
    let proof = plonk::prove(&pk, w, &mut rng()).unwrap();
    let public = w[0][..c.num_public].to_vec();
    assert!(
        plonk::verify(&vk, &proof, &public).unwrap(),
        "honest proof rejected"
    );
    (vk, proof, public)
}

fn other_point(p: &G1Affine) -> G1Affine {
    (p.into_group() + G1Projective::from(G1Affine::generator())).into_affine()
}

/// Every point and every scalar of the EVM encoding mutated, one at a time, is rejected.
fn assert_every_mutation_rejected(vk: &plonk::VerifyingKey, proof: &Proof, public: &[Fr]) {
    let lookups = proof.has_lookups();
    let bytes = proof.to_evm_bytes();
    let np = if lookups { 9 } else { 7 };
    for i in 0..np {
        let p = bigfile_zk::encoding::g1_from_bytes(&bytes[64 * i..64 * i + 64]).unwrap();
        let mut b = bytes.clone();
        b[64 * i..64 * i + 64]
            .copy_from_slice(&bigfile_zk::encoding::g1_to_bytes(&other_point(&p)));
        let forged = Proof::from_evm_bytes(&b, lookups).unwrap();
        assert!(
            !plonk::verify(vk, &forged, public).unwrap(),
            "point {i} mutated and accepted"
        );
        // The identity is refused by the decoder and by the verifier.
        b[64 * i..64 * i + 64].fill(0);
        assert!(Proof::from_evm_bytes(&b, lookups).is_err());
    }
    let ns = (bytes.len() - 64 * np) / 32;
    for j in 0..ns {
        let mut forged = proof.clone();
        let mut s = forged.evals.to_vec();
        s[j] += Fr::one();
        let mut b = bytes[..64 * np].to_vec();
        for x in &s {
            b.extend_from_slice(&bigfile_zk::field::to_be_bytes(x));
        }
        forged = Proof::from_evm_bytes(&b, lookups).unwrap();
        assert!(
            !plonk::verify(vk, &forged, public).unwrap(),
            "scalar {j} mutated and accepted"
        );
    }
    // Truncated and over-long encodings are decode errors.
    assert!(Proof::from_evm_bytes(&bytes[..bytes.len() - 1], lookups).is_err());
    let mut long = bytes.clone();
    long.push(0);
    assert!(Proof::from_evm_bytes(&long, lookups).is_err());
}

#[test]
fn arithmetic_circuit_proves_and_rejects_forgeries() {
    let (c, w) = arithmetic();
    let (vk, proof, public) = prove_ok(&c, &w);
    assert_eq!(proof.to_evm_bytes().len(), 768);
    assert_eq!(Proof::from_bytes(&proof.to_bytes()).unwrap(), proof);
    assert_eq!(plonk::VerifyingKey::from_bytes(&vk.to_bytes()).unwrap(), vk);
    assert_every_mutation_rejected(&vk, &proof, &public);
    // Public inputs changed, swapped, or of the wrong count.
    assert!(!plonk::verify(&vk, &proof, &[public[0] + Fr::one(), public[1]]).unwrap());
    assert!(!plonk::verify(&vk, &proof, &[public[1], public[0]]).unwrap());
    // The wrong count is a malformed statement: the caller's error, not `false`.
    assert!(plonk::verify(&vk, &proof, &public[..1]).is_err());
    let mut three = public.clone();
    three.push(Fr::one());
    assert!(plonk::verify(&vk, &proof, &three).is_err());
    // ≥ r as bytes.
    let r_bytes = {
        let mut b = [0u8; 32];
        b.copy_from_slice(&hex_r());
        b
    };
    let pb: Vec<[u8; 32]> = public.iter().map(bigfile_zk::field::to_be_bytes).collect();
    let bytes = proof.to_evm_bytes();
    assert!(plonk::verifier::verify_bytes(&vk, &bytes, &pb).unwrap());
    // A public input ≥ r, or the wrong count, is an error; malformed proof bytes are `false`.
    assert!(plonk::verifier::verify_bytes(&vk, &bytes, &[r_bytes, pb[1]]).is_err());
    assert!(plonk::verifier::verify_bytes(&vk, &bytes, &pb[..1]).is_err());
    assert!(!plonk::verifier::verify_bytes(&vk, &bytes[1..], &pb).unwrap());
    let mut flipped = bytes.clone();
    flipped[700] ^= 1;
    assert!(!plonk::verifier::verify_bytes(&vk, &flipped, &pb).unwrap());
}

/// A `Proof` whose lookup parts do not all match the key is `false`, never a skipped lookup
/// argument or a panic (its fields are public, so a caller can build any mix).
#[test]
fn proof_shape_must_match_the_key() {
    let (c, w) = lookup_circuit();
    let (vk, proof, public) = prove_ok(&c, &w);
    let mut no_lookup_evals = proof.clone();
    no_lookup_evals.evals.lookup = None;
    let mut no_phi = proof.clone();
    no_phi.phi = None;
    let mut no_m = proof.clone();
    no_m.m = None;
    let mut none = proof.clone();
    (none.m, none.phi, none.evals.lookup) = (None, None, None);
    for bad in [&no_lookup_evals, &no_phi, &no_m, &none] {
        assert!(!plonk::verify(&vk, bad, &public).unwrap());
    }
    // And lookup parts on a proof for a key without lookups.
    let (c2, w2) = arithmetic();
    let (vk2, proof2, public2) = prove_ok(&c2, &w2);
    let mut extra = proof2.clone();
    extra.phi = Some(proof2.z);
    assert!(!plonk::verify(&vk2, &extra, &public2).unwrap());
    let mut extra = proof2.clone();
    extra.evals.lookup = Some((Fr::one(), Fr::one()));
    assert!(!plonk::verify(&vk2, &extra, &public2).unwrap());
    assert!(plonk::verify(&vk2, &proof2, &public2).unwrap());
}

fn hex_r() -> Vec<u8> {
    let r = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
    (0..32)
        .map(|i| u8::from_str_radix(&r[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn another_circuits_key_rejects() {
    let (c, w) = arithmetic();
    let (_, proof, public) = prove_ok(&c, &w);
    let mut c2 = c.clone();
    c2.fixed.q_c[3] = f(6);
    let (_, vk2) = plonk::setup(&c2, srs()).unwrap();
    assert!(!plonk::verify(&vk2, &proof, &public).unwrap());
}

#[test]
fn unsatisfied_witnesses_are_refused_and_their_proofs_fail() {
    let (c, w) = arithmetic();
    let (pk, vk) = plonk::setup(&c, srs()).unwrap();
    let blinding = vec![Fr::from(9u64); 12];
    // Gate: the product is wrong (and the copy a3 = c2 then breaks too; the gate is first).
    let mut bad = w.clone();
    bad[2][2] += Fr::one();
    let err = plonk::prove_with_blinding(&pk, &bad, &blinding)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("row 2 (mul)") && err.contains("arithmetic"),
        "{err}"
    );
    let forged = prove_unchecked(&pk, &bad, &blinding).unwrap();
    assert!(!plonk::verify(&vk, &forged, &bad[0][..2]).unwrap());
    // Copy: a2 differs from the public x (while row 2's gate still holds).
    let mut bad = w.clone();
    bad[0][2] = f(4);
    bad[2][2] = f(44);
    bad[0][3] = f(44);
    bad[2][3] = f(49);
    let err = plonk::prove_with_blinding(&pk, &bad, &blinding)
        .unwrap_err()
        .to_string();
    assert!(err.contains("copy constraint"), "{err}");
    let forged = prove_unchecked(&pk, &bad, &blinding).unwrap();
    assert!(!plonk::verify(&vk, &forged, &bad[0][..2]).unwrap());
}

#[test]
fn poseidon_gate_computes_circomlib_permutation() {
    let (c, w, out) = poseidon_circuit();
    let mut state = [f(0), f(1), f(2)];
    poseidon::permute(&mut state).unwrap();
    assert_eq!(out, state);
    let (vk, proof, public) = prove_ok(&c, &w);
    assert!(plonk::verify(&vk, &proof, &public).unwrap());
    // A wrong state in the middle is refused, naming the row.
    let (pk, vk) = plonk::setup(&c, srs()).unwrap();
    let mut bad = w.clone();
    bad[1][30] += Fr::one();
    let err = plonk::prove_with_blinding(&pk, &bad, &[Fr::one(); 12])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("row 29 (poseidon)") && err.contains("Poseidon round (q_P"),
        "{err}"
    );
    let forged = prove_unchecked(&pk, &bad, &[Fr::one(); 12]).unwrap();
    assert!(!plonk::verify(&vk, &forged, &[]).unwrap());
}

#[test]
fn lookups_prove_and_reject() {
    let (c, w) = lookup_circuit();
    let (vk, proof, public) = prove_ok(&c, &w);
    assert_eq!(proof.to_evm_bytes().len(), 960);
    assert_eq!(plonk::VerifyingKey::from_bytes(&vk.to_bytes()).unwrap(), vk);
    assert_every_mutation_rejected(&vk, &proof, &public);
    // 9 is not a 3-bit value (nor tagged 2 with b = 0): refused, and its proof fails.
    let (pk, vk) = plonk::setup(&c, srs()).unwrap();
    let mut bad = w.clone();
    bad[0][0] = f(9);
    bad[0][2] = f(9);
    let blinding = vec![Fr::from(3u64); 18];
    let err = plonk::prove_with_blinding(&pk, &bad, &blinding)
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 2") && err.contains("lookup"), "{err}");
    let forged = prove_unchecked(&pk, &bad, &blinding).unwrap();
    assert!(!plonk::verify(&vk, &forged, &[f(9)]).unwrap());
    // The right value with the wrong tag is refused too.
    let mut bad = w.clone();
    bad[2][3] = f(1);
    assert!(plonk::prove_with_blinding(&pk, &bad, &blinding).is_err());
    let forged = prove_unchecked(&pk, &bad, &blinding).unwrap();
    assert!(!plonk::verify(&vk, &forged, &public).unwrap());
}

#[test]
fn setup_is_deterministic_and_checks_the_srs() {
    let (c, _) = arithmetic();
    let (_, vk1) = plonk::setup(&c, srs()).unwrap();
    let (_, vk2) = plonk::setup(&c, srs()).unwrap();
    assert_eq!(vk1.to_bytes(), vk2.to_bytes());
    // 8 rows without the Poseidon round gate: 3n + 9 = 33; with it, 5n + 9 = 49.
    let small = Srs::insecure_for_testing(32, 1).unwrap();
    let err = plonk::setup(&c, &small).unwrap_err().to_string();
    assert!(err.contains("max degree 33 (3n + 9)"), "{err}");
    assert!(plonk::setup(&c, &Srs::insecure_for_testing(33, 1).unwrap()).is_ok());
    let (pc, pw, _) = poseidon_circuit();
    assert!(pc.has_round_gates() && !c.has_round_gates());
    let need = 5 * pc.n() + 9;
    let err = plonk::setup(&pc, &Srs::insecure_for_testing(need - 1, 1).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("max degree {need} (5n + 9)")),
        "{err}"
    );
    // Both prove at their bound exactly (the quotient and W_ζ fit the powers).
    for (c, w) in [(c, arithmetic().1), (pc, pw)] {
        let need = plonk::keys::srs_powers_for(&c);
        let exact = Srs::insecure_for_testing(need - 1, 4).unwrap();
        let (pk, vk) = plonk::setup(&c, &exact).unwrap();
        let proof = plonk::prove(&pk, &w, &mut rng()).unwrap();
        let public: Vec<Fr> = (0..c.num_public).map(|i| w[0][i]).collect();
        assert!(plonk::verify(&vk, &proof, &public).unwrap());
    }
}

#[test]
fn keys_and_proofs_round_trip_through_bytes_and_json() {
    let (c, w) = lookup_circuit();
    let (pk, vk) = plonk::setup(&c, srs()).unwrap();
    let blinding = vec![Fr::from(11u64); 18];
    let proof = plonk::prove_with_blinding(&pk, &w, &blinding).unwrap();
    // The proving key: same proofs after a round trip; corruption and truncation refused.
    let bytes = pk.to_bytes();
    let pk2 = plonk::ProvingKey::from_bytes(&bytes).unwrap();
    assert_eq!(pk2.vk, vk);
    assert_eq!(
        plonk::prove_with_blinding(&pk2, &w, &blinding).unwrap(),
        proof
    );
    let mut bad = bytes.clone();
    bad[bytes.len() / 2] ^= 1;
    assert!(plonk::ProvingKey::from_bytes(&bad).is_err());
    assert!(plonk::ProvingKey::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let pk3 = plonk::ProvingKey::from_json(&pk.to_json()).unwrap();
    assert_eq!(
        plonk::prove_with_blinding(&pk3, &w, &blinding).unwrap(),
        proof
    );
    assert!(plonk::ProvingKey::from_json(&pk.to_json().replace("\"k\":4", "\"k\":5")).is_err());
    // Verifying key and proof JSON.
    let json = vk.to_json();
    assert_eq!(plonk::VerifyingKey::from_json(&json).unwrap(), vk);
    let tampered = json.replace("\"num_public\":1", "\"num_public\":2");
    assert_ne!(tampered, json);
    assert!(plonk::VerifyingKey::from_json(&tampered).is_err());
    let pj = proof.to_json();
    assert_eq!(Proof::from_json(&pj).unwrap(), proof);
    assert!(Proof::from_json(&pj.replace("\"lookups\":true", "\"lookups\":false")).is_err());
    assert!(Proof::from_json("{}").is_err());
}

/// A key read from an untrusted cache: `check_srs` accepts exactly the keys `setup` makes
/// with this SRS, and refuses another SRS's key and keys with a planted commitment or τ.
#[test]
fn check_srs_pins_a_key_to_its_srs() {
    for (circuit, _) in [arithmetic(), lookup_circuit()] {
        let (pk, _) = plonk::setup(&circuit, srs()).unwrap();
        let loaded = plonk::ProvingKey::from_bytes(&pk.to_bytes()).unwrap();
        loaded.check_srs(srs()).unwrap();
        let other = Srs::insecure_for_testing(5 * 128 + 16, 8).unwrap();
        assert!(loaded.check_srs(&other).is_err(), "another SRS");
        let (pk_other, _) = plonk::setup(&circuit, &other).unwrap();
        assert!(
            pk_other.check_srs(srs()).is_err(),
            "a key made with another SRS"
        );
        let commitments = 7 + 3 + if pk.vk.lookup.is_some() { 4 } else { 0 };
        for i in 0..commitments {
            let mut bad = loaded.clone();
            let slot = match i {
                0..=6 => &mut bad.vk.selectors[i],
                7..=9 => &mut bad.vk.sigma[i - 7],
                _ => &mut bad.vk.lookup.as_mut().unwrap()[i - 10],
            };
            *slot = other_point(slot);
            assert!(bad.check_srs(srs()).is_err(), "commitment {i} planted");
        }
        let mut bad = loaded.clone();
        bad.vk.g2[1] = other.g2[1];
        assert!(bad.check_srs(srs()).is_err(), "[τ]G2 planted");
    }
}

#[test]
fn bfpk_keys_carry_the_powers_their_circuit_needs_and_older_ones_still_decode() {
    use sha3::{Digest, Keccak256};
    let (c, w) = arithmetic();
    let (pk, _) = plonk::setup(&c, srs()).unwrap();
    let need = plonk::keys::srs_powers_for(&c);
    assert_eq!(need, 3 * c.n() + 10);
    let bytes = pk.to_bytes();
    // Before the 3n + 10 bound, a key without the round gate carried 5n + 10 powers: rewrite
    // this one so (count, the extra powers, the checksum), as such a file would be.
    let body = &bytes[..bytes.len() - 32];
    let at = body.len() - 64 * need - 4;
    assert_eq!(&body[at..at + 4], &(need as u32).to_be_bytes());
    let old = 5 * c.n() + 10;
    let mut legacy = body.to_vec();
    legacy[at..at + 4].copy_from_slice(&(old as u32).to_be_bytes());
    for p in &srs().g1[need..old] {
        legacy.extend_from_slice(&bigfile_zk::encoding::g1_to_bytes(p));
    }
    let sum = Keccak256::digest(&legacy);
    legacy.extend_from_slice(&sum);
    let decoded = plonk::ProvingKey::from_bytes(&legacy).unwrap();
    assert_eq!(decoded.to_bytes(), bytes, "read, the extra powers dropped");
    let blinding = vec![Fr::from(3u64); 12];
    assert_eq!(
        plonk::prove_with_blinding(&decoded, &w, &blinding).unwrap(),
        plonk::prove_with_blinding(&pk, &w, &blinding).unwrap()
    );
    // Any other count is refused.
    let mut odd = body.to_vec();
    odd[at..at + 4].copy_from_slice(&((need + 1) as u32).to_be_bytes());
    odd.extend_from_slice(&bigfile_zk::encoding::g1_to_bytes(&srs().g1[need]));
    let sum = Keccak256::digest(&odd);
    odd.extend_from_slice(&sum);
    assert!(plonk::ProvingKey::from_bytes(&odd).is_err());
}
