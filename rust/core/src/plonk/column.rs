//! A column of field elements that the proving key keeps: owned, or read in place from a
//! memory-mapped key cache file (`key_cache`), whose bytes are already the in-memory form.

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField};
use rayon::prelude::*;
use std::ops::Deref;
use std::sync::Arc;

// The cache stores each element as its four little-endian `u64` Montgomery limbs, which is
// `Fr`'s memory on a little-endian machine exactly when these hold (arkworks' `Fp` is
// `(BigInt<4>, PhantomData)`, `BigInt<4>` is `([u64; 4])`, neither `repr(C)`: so check).
const _: () = assert!(std::mem::size_of::<Fr>() == 32 && std::mem::align_of::<Fr>() == 8);
const _: () = assert!(std::mem::offset_of!(Fr, 0) == 0);
const _: () = assert!(std::mem::offset_of!(BigInt<4>, 0) == 0);

/// `n` field elements.
#[derive(Clone)]
pub enum Column {
    Owned(Vec<Fr>),
    /// `len` elements at byte `start` of a mapped file: made only by [`Column::mapped`].
    Mapped {
        map: Arc<memmap2::Mmap>,
        start: usize,
        len: usize,
    },
}

impl Column {
    /// `len` elements at byte `start` of `map`, or `None` if they are not all below the
    /// modulus (or do not fit, or are misaligned, or this machine is big-endian).
    pub fn mapped(map: &Arc<memmap2::Mmap>, start: usize, len: usize) -> Option<Column> {
        let end = len.checked_mul(32)?.checked_add(start)?;
        let ptr = map.as_ptr().wrapping_add(start);
        if cfg!(target_endian = "big")
            || end > map.len()
            || !(ptr as usize).is_multiple_of(std::mem::align_of::<Fr>())
        {
            return None;
        }
        // SAFETY: in bounds and aligned (checked above); any 32 bytes are a valid `Fr` by the
        // layout assertions above (its meaning — below the modulus — is checked next). The
        // map is read-only and lives as long as the `Arc` the column keeps.
        let elems = unsafe { std::slice::from_raw_parts(ptr.cast::<Fr>(), len) };
        // `into_bigint` would leave Montgomery form; the stored limbs must be below r.
        let modulus = Fr::MODULUS;
        if elems.par_iter().any(|x| x.0 >= modulus) {
            return None;
        }
        Some(Column::Mapped {
            map: Arc::clone(map),
            start,
            len,
        })
    }
}

impl Deref for Column {
    type Target = [Fr];
    fn deref(&self) -> &[Fr] {
        match self {
            Column::Owned(v) => v,
            // SAFETY: checked by `mapped`, the only constructor; the map outlives `self`.
            Column::Mapped { map, start, len } => unsafe {
                std::slice::from_raw_parts(map.as_ptr().add(*start).cast::<Fr>(), *len)
            },
        }
    }
}

impl From<Vec<Fr>> for Column {
    fn from(v: Vec<Fr>) -> Column {
        Column::Owned(v)
    }
}

impl PartialEq for Column {
    fn eq(&self, other: &Column) -> bool {
        self[..] == other[..]
    }
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Column::Owned(_) => "owned",
            Column::Mapped { .. } => "mapped",
        };
        write!(f, "Column({kind}, {} elements)", self.len())
    }
}
