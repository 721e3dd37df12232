//! The proving-key cache encoding: a loaded key is the setup's (same proofs, byte for byte), and
//! every damaged, truncated, foreign-SRS or foreign-circuit file is refused.

use ark_bn254::Fr;
use bigfile_zk::plonk::{self, Builder, Circuit, ProvingKey};
use bigfile_zk::srs::Srs;
use bigfile_zk::Error;
use std::sync::OnceLock;

fn srs() -> &'static Srs {
    static SRS: OnceLock<Srs> = OnceLock::new();
    SRS.get_or_init(|| Srs::insecure_for_testing(5 * 256 + 9, 3).unwrap())
}

/// A circuit with a public input, arithmetic, and optionally Poseidon rounds (the gate) and a
/// lookup; `c` is a constant baked into its fixed columns.
fn circuit(poseidon: bool, lookup: bool, c: u64) -> (Circuit, [Vec<Fr>; 3]) {
    let mut b = Builder::new();
    let x = b.public_input(Fr::from(3u64));
    if c == 0 {
        // Only multiplications (a version-1 circuit of 32 rows without the round gate).
        let mut y = x;
        for _ in 0..20 {
            y = b.mul(y, y);
        }
        return b.build().unwrap();
    }
    let y = b.input(Fr::from(5u64));
    let s = b.mul_add(
        x,
        y,
        Fr::from(1u64),
        Fr::from(2u64),
        Fr::from(0u64),
        Fr::from(c),
    );
    let t = b.dot(
        &[
            (Fr::from(7u64), s),
            (Fr::from(9u64), y),
            (Fr::from(4u64), x),
        ],
        Fr::from(1u64),
    );
    if poseidon {
        b.set_poseidon_gate(true);
        b.poseidon(&[s, t]).unwrap();
    }
    if lookup {
        b.set_range_checks_by_lookup(true);
        b.range_check(y, 8).unwrap();
    }
    let (circuit, w) = b.build().unwrap();
    (circuit, w)
}

fn cache_bytes(pk: &ProvingKey) -> Vec<u8> {
    let mut out = Vec::new();
    pk.write_cache(&mut out).unwrap();
    out
}

/// Both loaders: `read_cache` from the bytes and `load_cache` from a file of them (memory
/// mapped, the coset columns used in place). They must agree: the same key, or both refusing
/// with the same reason (the file's path prefixed). Returns the mapped one's answer.
fn load(bytes: &[u8], c: &Circuit, srs: &Srs) -> Result<ProvingKey, Error> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let streamed = ProvingKey::read_cache(&mut &bytes[..], c, srs);
    let path = std::env::temp_dir().join(format!(
        "bfzk-key-load-{}-{}.pkc",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, bytes).unwrap();
    let mapped = ProvingKey::load_cache(&path, c, srs);
    std::fs::remove_file(&path).unwrap();
    match (&streamed, &mapped) {
        (Ok(a), Ok(b)) => assert_eq!(cache_bytes(a), cache_bytes(b)),
        (Err(a), Err(b)) => {
            let (a, b) = (a.to_string(), b.to_string());
            let unnamed = b.replace(&format!("{}: ", path.display()), "");
            assert_eq!(a, unnamed, "the loaders disagree");
        }
        _ => panic!(
            "one loader accepted, the other refused: {:?} / {:?}",
            streamed.as_ref().err().map(|e| e.to_string()),
            mapped.as_ref().err().map(|e| e.to_string())
        ),
    }
    mapped
}

#[test]
fn a_loaded_key_is_the_setup_key_and_proves_the_same_bytes() {
    let mut shapes = vec![];
    for (poseidon, lookup, k) in [
        (false, false, 0),
        (false, false, 11),
        (true, false, 11),
        (false, true, 11),
        (true, true, 11),
    ] {
        let (c, w) = circuit(poseidon, lookup, k);
        shapes.push((c.version(), c.k));
        let (pk, vk) = plonk::setup(&c, srs()).unwrap();
        let bytes = cache_bytes(&pk);
        let loaded = load(&bytes, &c, srs()).unwrap();
        assert_eq!(loaded.vk, vk);
        assert_eq!(cache_bytes(&loaded), bytes);
        assert_eq!(loaded.to_bytes(), pk.to_bytes()); // circuit, SRS powers
        let blinding: Vec<Fr> = (0..plonk::prover::blinding_len(lookup) as u64)
            .map(|i| Fr::from(1000 + i))
            .collect();
        let a = plonk::prove_with_blinding(&pk, &w, &blinding).unwrap();
        let b = plonk::prove_with_blinding(&loaded, &w, &blinding).unwrap();
        assert_eq!(
            a.to_bytes(),
            b.to_bytes(),
            "poseidon {poseidon}, lookup {lookup}"
        );
        assert!(plonk::verify(&vk, &b, &w[0][..c.num_public]).unwrap());
        // Through a file, written atomically.
        let dir = std::env::temp_dir().join(format!("bfzk-key-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.pkc");
        pk.save_cache(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(
            cache_bytes(&ProvingKey::load_cache(&path, &c, srs()).unwrap()),
            bytes
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1); // no temporary left
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // Both versions; n < 16 (all eight cosets whole) and n ≥ 16 without the round gate.
    assert_eq!(shapes, [(1, 5), (2, 3), (2, 7), (2, 8), (2, 8)]);
}

#[test]
fn a_key_without_stored_cosets_proves_the_same_bytes_and_caches_lean() {
    for (poseidon, lookup, k) in [(false, false, 0), (true, false, 11), (true, true, 11)] {
        let (c, w) = circuit(poseidon, lookup, k);
        let (pk, vk) = plonk::setup(&c, srs()).unwrap();
        assert!(pk.stores_cosets()); // a small key keeps them
        let mut lean = plonk::setup(&c, srs()).unwrap().0;
        lean.drop_cosets();
        assert!(!lean.stores_cosets());
        let blinding: Vec<Fr> = (0..plonk::prover::blinding_len(lookup) as u64)
            .map(|i| Fr::from(7 + i))
            .collect();
        let a = plonk::prove_with_blinding(&pk, &w, &blinding).unwrap();
        let b = plonk::prove_with_blinding(&lean, &w, &blinding).unwrap();
        assert_eq!(
            a.to_bytes(),
            b.to_bytes(),
            "poseidon {poseidon}, lookup {lookup}"
        );
        // The lean cache: header layout all zeros, no coset columns; loads lean, same proofs.
        let full = cache_bytes(&pk);
        let bytes = cache_bytes(&lean);
        assert_eq!(&bytes[7..15], &[0u8; 8]);
        assert!(bytes.len() < full.len());
        let loaded = load(&bytes, &c, srs()).unwrap();
        assert!(!loaded.stores_cosets());
        assert_eq!(loaded.vk, vk);
        let d = plonk::prove_with_blinding(&loaded, &w, &blinding).unwrap();
        assert_eq!(a.to_bytes(), d.to_bytes());
        // A full cache whose header claims no cosets (its coset columns then trail), and a
        // lean one whose header claims them (truncated), are refused.
        let mut claims_lean = full.clone();
        claims_lean[7..15].copy_from_slice(&[0; 8]);
        assert!(load(&claims_lean, &c, srs()).is_err());
        let mut claims_full = bytes.clone();
        claims_full[7..15].copy_from_slice(&full[7..15]);
        assert!(load(&claims_full, &c, srs()).is_err());
    }
}

#[test]
fn every_damaged_byte_is_refused() {
    let (c, _) = circuit(true, true, 11);
    let (pk, _) = plonk::setup(&c, srs()).unwrap();
    let bytes = cache_bytes(&pk);
    // The header, the verifying key, and a spread of positions over every column (coefficients,
    // σ, the cosets): one flipped bit anywhere changes a checked value.
    let mut positions: Vec<usize> = (0..64).chain([bytes.len() - 1]).collect();
    positions.extend((0..97).map(|i| 64 + i * (bytes.len() - 65) / 97));
    for at in positions {
        for bit in [0u8, 5] {
            let mut bad = bytes.clone();
            bad[at] ^= 1 << bit;
            assert!(
                load(&bad, &c, srs()).is_err(),
                "flipped bit {bit} of byte {at} of {} accepted",
                bytes.len()
            );
        }
    }
    for len in [
        0,
        3,
        18,
        19,
        100,
        bytes.len() / 2,
        bytes.len() - 32,
        bytes.len() - 1,
    ] {
        let err = load(&bytes[..len], &c, srs()).unwrap_err().to_string();
        assert!(
            err.contains("truncated") || err.contains("header"),
            "{len}: {err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = load(&longer, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("trailing"), "{err}");
    // Whole columns moved: the last two stored columns (both on the last coset) swapped, and
    // the last column replaced by its neighbour's values. Each is some polynomial's values,
    // just not this one's at these points.
    let col = 32 * c.n();
    let end = bytes.len();
    let mut swapped = bytes.clone();
    let (left, right) = swapped[end - 2 * col..].split_at_mut(col);
    left.swap_with_slice(right);
    assert!(load(&swapped, &c, srs()).is_err(), "columns swapped");
    let mut copied = bytes.clone();
    copied.copy_within(end - 2 * col..end - col, end - col);
    assert!(load(&copied, &c, srs()).is_err(), "column copied");
    // The padding before the columns (zeros up to a multiple of 64 bytes) is checked.
    let vk_len = u32::from_le_bytes(bytes[15..19].try_into().unwrap()) as usize;
    let pad = 19 + vk_len + 64;
    assert!(!pad.is_multiple_of(64), "this key has padding to damage");
    let mut padded = bytes.clone();
    padded[pad] = 1;
    let err = load(&padded, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("padding"), "{err}");
    // The previous format (1, no padding) is refused by its format byte.
    let mut old = bytes.clone();
    old[4] = 1;
    let err = load(&old, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("format 1"), "{err}");
    // An element that is not below the modulus (the last coset value).
    let mut big = bytes.clone();
    let end = big.len();
    big[end - 32..].fill(0xff);
    let err = load(&big, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("modulus"), "{err}");
}

#[test]
fn another_srs_or_circuit_is_refused() {
    let (c, _) = circuit(true, false, 11);
    let (pk, _) = plonk::setup(&c, srs()).unwrap();
    let bytes = cache_bytes(&pk);
    // The same circuit's key made with another SRS (whoever planted it may know its τ).
    let other_srs = Srs::insecure_for_testing(5 * 256 + 9, 4).unwrap();
    let err = load(&bytes, &c, &other_srs).unwrap_err().to_string();
    assert!(err.contains("SRS"), "{err}");
    let planted = cache_bytes(&plonk::setup(&c, &other_srs).unwrap().0);
    let err = load(&planted, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("[τ]G2"), "{err}");
    // That key claiming this SRS's [τ]G2 (the G2 points end the verifying key): its
    // commitments are not this τ's.
    let vk_end = 19 + u32::from_le_bytes(bytes[15..19].try_into().unwrap()) as usize;
    let mut claimed = planted.clone();
    claimed[vk_end - 256..vk_end].copy_from_slice(&bytes[vk_end - 256..vk_end]);
    let err = load(&claimed, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("commitments"), "{err}");
    // The stored opening is checked: another key's is refused.
    let mut other_opening = bytes.clone();
    other_opening[vk_end..vk_end + 64].copy_from_slice(&planted[vk_end..vk_end + 64]);
    let err = load(&other_opening, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("commitments"), "{err}");
    let small = Srs::insecure_for_testing(5 * c.n(), 3).unwrap();
    let err = load(&bytes, &c, &small).unwrap_err().to_string();
    assert!(err.contains("needs an SRS"), "{err}");
    // Same shape, another constant: the circuit's columns differ.
    let (c2, _) = circuit(true, false, 12);
    assert_eq!(c2.n(), c.n());
    let err = load(&bytes, &c2, srs()).unwrap_err().to_string();
    assert!(err.contains("not the circuit's columns"), "{err}");
    // And a key of another shape.
    let (c3, _) = circuit(false, true, 11);
    let err = load(&bytes, &c3, srs()).unwrap_err().to_string();
    assert!(err.contains("not the circuit"), "{err}");
    // A key whose verifying key was swapped for another circuit's of the same shape.
    let other = cache_bytes(&plonk::setup(&c2, srs()).unwrap().0);
    let vk_len = u32::from_le_bytes(bytes[15..19].try_into().unwrap()) as usize;
    let mut swapped = bytes.clone();
    swapped[19..19 + vk_len].copy_from_slice(&other[19..19 + vk_len]);
    let err = load(&swapped, &c, srs()).unwrap_err().to_string();
    assert!(err.contains("commitments"), "{err}");
}
