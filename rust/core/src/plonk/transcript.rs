//! The Fiat–Shamir transcript of `docs/spec/plonk.md` §4: a chained keccak-256 state that binds
//! the verifying-key digest, every public input, and every prover message in order.

use crate::encoding::g1_to_bytes;
use crate::field;
use ark_bn254::{Fr, G1Affine};
use ark_ff::PrimeField;
use sha3::{Digest, Keccak256};

const TAG: &[u8] = b"bigfile_zk/plonk/v1";

#[derive(Clone, Debug)]
pub struct Transcript {
    h: [u8; 32],
}

impl Transcript {
    pub fn new(vk_digest: &[u8; 32], public: &[Fr]) -> Self {
        let mut k = Keccak256::new();
        k.update(TAG);
        k.update(vk_digest);
        for x in public {
            k.update(field::to_be_bytes(x));
        }
        Transcript {
            h: k.finalize().into(),
        }
    }

    /// One round's messages, absorbed as a single hash of `h ‖ points ‖ scalars`.
    pub fn absorb(&mut self, points: &[G1Affine], scalars: &[Fr]) {
        let mut k = Keccak256::new();
        k.update(self.h);
        for p in points {
            k.update(g1_to_bytes(p));
        }
        for x in scalars {
            k.update(field::to_be_bytes(x));
        }
        self.h = k.finalize().into();
    }

    /// `keccak256(h ‖ j) mod r`.
    pub fn challenge(&self, j: u8) -> Fr {
        let mut k = Keccak256::new();
        k.update(self.h);
        k.update([j]);
        Fr::from_be_bytes_mod_order(&k.finalize())
    }
}
