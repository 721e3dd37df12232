//! BN254 scalar field elements and their canonical encodings.
//!
//! Encodings (docs/spec/poseidon.md): 32 bytes big-endian (EVM `uint256`), `0x` + 64 hex digits,
//! and four little-endian `u64` limbs (numpy batch APIs). Every decoder rejects values `>= r`
//! instead of reducing them: a silent reduction would let two encodings mean one element.

use crate::error::{Error, Result};
use ark_ff::{BigInteger, PrimeField};

pub use ark_bn254::Fr;

/// `r` as four little-endian limbs.
pub const MODULUS_LIMBS: [u64; 4] = <Fr as PrimeField>::MODULUS.0;

/// Decimal string of `r`, for error messages and docs.
pub fn modulus_decimal() -> String {
    <Fr as PrimeField>::MODULUS.to_string()
}

/// Element from little-endian limbs; `what` names the value in the error.
pub fn from_limbs(limbs: [u64; 4], what: &str) -> Result<Fr> {
    Fr::from_bigint(ark_ff::BigInt(limbs)).ok_or_else(|| Error::NonCanonical {
        what: what.to_string(),
        value: ark_ff::BigInt(limbs).to_string(),
    })
}

/// Little-endian limbs of the canonical integer.
pub fn to_limbs(x: &Fr) -> [u64; 4] {
    x.into_bigint().0
}

/// Element from 32 big-endian bytes.
pub fn from_be_bytes(bytes: &[u8; 32], what: &str) -> Result<Fr> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        *limb = u64::from_be_bytes(bytes[start..start + 8].try_into().expect("8 bytes"));
    }
    from_limbs(limbs, what)
}

/// Element from a big-endian byte slice that must be exactly 32 bytes long.
pub fn from_be_slice(bytes: &[u8], what: &str) -> Result<Fr> {
    let arr: &[u8; 32] = bytes.try_into().map_err(|_| Error::NonCanonical {
        what: what.to_string(),
        value: format!("a {}-byte string (32 bytes expected)", bytes.len()),
    })?;
    from_be_bytes(arr, what)
}

/// 32 big-endian bytes of the canonical integer.
pub fn to_be_bytes(x: &Fr) -> [u8; 32] {
    let v = x.into_bigint().to_bytes_be();
    let mut out = [0u8; 32];
    out.copy_from_slice(&v);
    out
}

/// Element from big-endian bytes of at most 31 bytes (always `< 2^248 < r`, never fails).
pub fn from_be_bytes_short(bytes: &[u8]) -> Fr {
    debug_assert!(bytes.len() <= 31);
    let mut buf = [0u8; 32];
    buf[32 - bytes.len()..].copy_from_slice(bytes);
    from_be_bytes(&buf, "").expect("< 2^248 is canonical")
}

/// The canonical integer in decimal.
pub fn to_decimal(x: &Fr) -> String {
    x.into_bigint().to_string()
}

/// `"0x"` + 64 lower-case hex digits.
pub fn to_hex(x: &Fr) -> String {
    let mut s = String::with_capacity(66);
    s.push_str("0x");
    for b in to_be_bytes(x) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parse `0x`-prefixed hex (lower-case prefix, 1 to 64 digits of any case) into a canonical
/// element. A malformed string is [`Error::Decode`]; a value `>= r` is [`Error::NonCanonical`].
pub fn from_hex(s: &str, what: &str) -> Result<Fr> {
    let digits = s
        .strip_prefix("0x")
        .filter(|d| (1..=64).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| Error::Decode {
            what: "hex field element",
            reason: format!("{what} = {s:?} is not \"0x\" followed by 1 to 64 hex digits"),
        })?;
    let mut bytes = [0u8; 32];
    let padded = format!("{digits:0>64}");
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&padded[2 * i..2 * i + 2], 16).expect("checked hex digits");
    }
    from_be_bytes(&bytes, what)
}

/// Parse a decimal string into a canonical element.
pub fn from_decimal(s: &str, what: &str) -> Result<Fr> {
    let bad = || Error::NonCanonical {
        what: what.to_string(),
        value: format!("{s:?}"),
    };
    // Canonical: digits only, no leading zero (but "0" itself), as the interchange formats say.
    let leading_zero = s.len() > 1 && s.starts_with('0');
    if s.is_empty() || s.len() > 78 || leading_zero || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // Accumulate in limbs with overflow detection, then check `< r`.
    let mut limbs = [0u64; 4];
    for d in s.bytes() {
        let mut carry = (d - b'0') as u128;
        for limb in limbs.iter_mut() {
            let v = (*limb as u128) * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return Err(bad());
        }
    }
    from_limbs(limbs, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, One, Zero};

    #[test]
    fn encodings_round_trip_and_reject_r() {
        let x = -Fr::one();
        assert_eq!(from_be_bytes(&to_be_bytes(&x), "x").unwrap(), x);
        assert_eq!(from_hex(&to_hex(&x), "x").unwrap(), x);
        assert_eq!(from_limbs(to_limbs(&x), "x").unwrap(), x);
        assert!(from_limbs(MODULUS_LIMBS, "x").is_err());
        assert!(from_decimal(&modulus_decimal(), "x").is_err());
        assert!(from_decimal("07", "x").is_err() && from_decimal("", "x").is_err());
        assert_eq!(from_decimal("0", "x").unwrap(), Fr::from(0u64));
        let r_minus_1 = from_decimal(
            "21888242871839275222246405745257275088548364400416034343698204186575808495616",
            "x",
        )
        .unwrap();
        assert_eq!(r_minus_1, x);
        assert!(from_hex("0x", "x").is_err());
        assert!(from_hex("0x+1", "x").is_err());
        assert!(from_hex("0x\u{e9}", "x").is_err());
        assert!(from_hex("0X1", "x").is_err());
        assert!(from_hex("12", "x").is_err());
        assert!(from_hex(&format!("0x{}", "f".repeat(64)), "x").is_err());
        assert_eq!(from_hex("0x0", "x").unwrap(), Fr::zero());
        assert_eq!(
            Fr::from(2u64).inverse().unwrap() * Fr::from(2u64),
            Fr::one()
        );
    }

    #[test]
    fn short_bytes_are_big_endian() {
        assert_eq!(from_be_bytes_short(&[1, 0]), Fr::from(256u64));
        assert_eq!(from_be_bytes_short(&[]), Fr::zero());
    }
}
