//! Byte encodings of BN254 points and scalars, the layer every format above shares (SRS files,
//! KZG openings, PLONK keys and proofs, the MSM's EVM entry point, the transcript).
//!
//! * G1: 64 bytes `x ‖ y`, 32-byte big-endian each (the EVM / EIP-196 encoding); the identity
//!   is 64 zero bytes.
//! * G2: 128 bytes in EIP-197 order `x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0` ([`g2_to_bytes`]), or in
//!   arkworks' coefficient order `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1` ([`g2_to_bytes_c0_first`], the
//!   SRS file format and its Fiat–Shamir hash, fixed by `docs/spec/srs.md`).
//! * Scalars: 32 bytes big-endian, `< r`.
//!
//! Decoders are strict: exact lengths, canonical coordinates (`< q`), points on the curve, G2
//! in the prime-order subgroup.

use crate::error::{Error, Result};
use crate::field;
use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, PrimeField};

fn fq_bytes(x: &Fq) -> Vec<u8> {
    x.into_bigint().to_bytes_be()
}

/// 64 bytes `x ‖ y` big-endian; the identity is 64 zero bytes.
pub fn g1_to_bytes(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if let Some((x, y)) = p.xy() {
        out[..32].copy_from_slice(&fq_bytes(&x));
        out[32..].copy_from_slice(&fq_bytes(&y));
    }
    out
}

/// 128 bytes `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1` (the SRS file order); the identity is zeros.
pub fn g2_to_bytes_c0_first(p: &G2Affine) -> [u8; 128] {
    let mut out = [0u8; 128];
    if let Some((x, y)) = p.xy() {
        for (i, c) in [x.c0, x.c1, y.c0, y.c1].iter().enumerate() {
            out[32 * i..32 * i + 32].copy_from_slice(&fq_bytes(c));
        }
    }
    out
}

/// 128 bytes `x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0` (EIP-197 order); the identity is zeros.
pub fn g2_to_bytes(p: &G2Affine) -> [u8; 128] {
    let b = g2_to_bytes_c0_first(p);
    let mut out = [0u8; 128];
    for (dst, src) in [(0, 32), (32, 0), (64, 96), (96, 64)] {
        out[dst..dst + 32].copy_from_slice(&b[src..src + 32]);
    }
    out
}

fn fq_from_be(b: &[u8], what: &'static str) -> Result<Fq> {
    let limbs = BigInt::<4>::new(std::array::from_fn(|i| {
        u64::from_be_bytes(b[32 - 8 * (i + 1)..32 - 8 * i].try_into().expect("8"))
    }));
    Fq::from_bigint(limbs)
        .ok_or_else(|| Error::decode(what, "a coordinate is not below the base-field modulus q"))
}

/// Decode a 64-byte G1 point: canonical coordinates, on the curve (or all zeros: identity).
pub fn g1_from_bytes(b: &[u8]) -> Result<G1Affine> {
    const WHAT: &str = "G1 point";
    if b.len() != 64 {
        return Err(Error::decode(
            WHAT,
            format!("{} bytes (expected 64)", b.len()),
        ));
    }
    if b.iter().all(|&x| x == 0) {
        return Ok(G1Affine::identity());
    }
    let p = G1Affine::new_unchecked(fq_from_be(&b[..32], WHAT)?, fq_from_be(&b[32..], WHAT)?);
    if !p.is_on_curve() {
        return Err(Error::decode(WHAT, "not on the BN254 curve"));
    }
    Ok(p)
}

/// Decode a 128-byte G2 point (EIP-197 order): canonical, on the twist, in the subgroup.
pub fn g2_from_bytes(b: &[u8]) -> Result<G2Affine> {
    const WHAT: &str = "G2 point";
    if b.len() != 128 {
        return Err(Error::decode(
            WHAT,
            format!("{} bytes (expected 128)", b.len()),
        ));
    }
    if b.iter().all(|&x| x == 0) {
        return Ok(G2Affine::identity());
    }
    let c = |i: usize| fq_from_be(&b[32 * i..32 * i + 32], WHAT);
    let p = G2Affine::new_unchecked(Fq2::new(c(1)?, c(0)?), Fq2::new(c(3)?, c(2)?));
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Error::decode(WHAT, "not in the BN254 G2 subgroup"));
    }
    Ok(p)
}

/// 32-byte big-endian scalar, `< r`.
pub fn scalar_from_bytes(b: &[u8]) -> Result<Fr> {
    field::from_be_slice(b, "scalar").map_err(|e| Error::decode("scalar", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip_and_reject() {
        use ark_ec::{CurveGroup, PrimeGroup};
        let p = (ark_bn254::G1Projective::generator() * Fr::from(7u64)).into_affine();
        let g2 = ark_bn254::G2Projective::generator();
        let srs_g2 = [g2.into_affine(), (g2 * Fr::from(9u64)).into_affine()];
        assert_eq!(g1_from_bytes(&g1_to_bytes(&p)).unwrap(), p);
        assert_eq!(g2_from_bytes(&g2_to_bytes(&srs_g2[1])).unwrap(), srs_g2[1]);
        assert!(g1_from_bytes(&[0u8; 64]).unwrap().is_zero());
        let mut b = g1_to_bytes(&p);
        b[63] ^= 1;
        assert!(g1_from_bytes(&b).is_err());
        assert!(g1_from_bytes(&[0xffu8; 64]).is_err());
        assert!(g1_from_bytes(&b[..63]).is_err());
        let mut b = g2_to_bytes(&srs_g2[1]);
        b[127] ^= 1;
        assert!(g2_from_bytes(&b).is_err());
        // EIP-197 order: the generator's x.c1 comes first.
        let g = g2_to_bytes(&srs_g2[0]);
        assert_eq!(
            field::to_hex(&field::from_be_slice(&g[..32], "").unwrap_or_default())[..10],
            *"0x198e9393"
        );
    }
}
