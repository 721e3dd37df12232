//! The sorted accumulation's tree level ([`super::sorted`]) with its field arithmetic on eight
//! lanes of AVX-512 IFMA ([`crate::field_simd`], radix 2^52, Montgomery `R = 2^260`).
//!
//! **Scaled points.** The vector arithmetic's Montgomery form of `x` is `x·2^260 mod q`; arkworks
//! stores `x` as `x·2^256 mod q`. So a point enters the vector path as `(16x, 16y)` in arkworks
//! terms ([`scale`]): its stored integers are then exactly the vector form of `(x, y)`, read and
//! written as they are, with no conversion per addition. Equality, negation and the additions
//! of arkworks act on the stored integers modulo `q` whatever the scale, so the sort, the gather
//! (signs) and the pair tests of [`super::sorted`] work on scaled points unchanged; only the
//! bucket values leaving the tree are unscaled ([`unscale`]).
//!
//! A level's pairs with distinct `x` (all but a negligible few) go through the lanes: lane `ℓ`
//! takes pairs `ℓ, ℓ + 8, ℓ + 16, …`, with its own running product of denominators (Montgomery's
//! trick), the eight lane products inverted together in arkworks; then the same ~6
//! multiplications per addition as the scalar level, eight at a time. Doublings (`P == Q`) take
//! arkworks on unscaled values; `P == −Q` drops both, as in the scalar level.

use super::batch_affine::Pt;
use crate::field_simd::avx::Vq;
use ark_bn254::Fq;
use ark_ff::{AdditiveGroup, BigInt, Field, PrimeField};
use std::sync::OnceLock;

/// `2^-4 mod q` (unscaling).
fn inv16() -> Fq {
    static INV16: OnceLock<Fq> = OnceLock::new();
    *INV16.get_or_init(|| Fq::from(16u64).inverse().expect("16 is invertible"))
}

/// `(16x, 16y)`: the point's coordinates as the vector path stores them.
#[inline]
pub fn scale(p: Pt) -> Pt {
    let s = |mut v: Fq| {
        for _ in 0..4 {
            v.double_in_place();
        }
        v
    };
    Pt {
        x: s(p.x),
        y: s(p.y),
    }
}

/// The inverse of [`scale`].
#[inline]
pub fn unscale(p: Pt) -> Pt {
    let i = inv16();
    Pt {
        x: p.x * i,
        y: p.y * i,
    }
}

/// Scratch of the vector level, reused across levels and windows.
#[derive(Default)]
pub struct Scratch {
    /// (source index in `cur`, destination index in `next`) of the pairs with distinct `x`.
    pairs: Vec<(u32, u32)>,
    /// The same for doublings.
    doublings: Vec<(u32, u32)>,
    /// Per group of eight pairs: each lane's product of its earlier denominators.
    prods: Vec<Vq>,
}

/// One tree level on scaled points, as [`super::sorted`]'s `level`: the points `0+1, 2+3, …` of
/// every segment of `cur` are added into `next`, an odd last point copied; returns the number of
/// points in `next` and whether a segment still has two or more.
///
/// # Safety
/// The CPU has AVX-512F and IFMA ([`crate::field_simd::hardware_available`]).
#[target_feature(enable = "avx512f,avx512ifma")]
pub unsafe fn level(
    cur: &[Pt],
    segs: &[u32],
    next: &mut [Pt],
    next_segs: &mut Vec<u32>,
    s: &mut Scratch,
) -> (usize, bool) {
    s.pairs.clear();
    s.doublings.clear();
    let (pairs, doublings) = (&mut s.pairs, &mut s.doublings);
    let (out, more) = super::sorted::walk_level(cur, segs, next, next_segs, |i, dst, doubling| {
        let list = if doubling {
            &mut *doublings
        } else {
            &mut *pairs
        };
        list.push((i as u32, dst as u32));
    });
    for &(src, dst) in &s.doublings {
        let p = unscale(cur[src as usize]);
        let xx = p.x.square();
        let lambda = (xx.double() + xx) * p.y.double().inverse().expect("y ≠ 0 on G1");
        let x3 = lambda.square() - p.x.double();
        let y3 = lambda * (p.x - x3) - p.y;
        next[dst as usize] = scale(Pt { x: x3, y: y3 });
    }
    if !s.pairs.is_empty() {
        add_pairs(cur, next, &s.pairs, &mut s.prods);
    }
    (out, more)
}

/// Eight lanes of a group: coordinates of `cur[src]` and `cur[src + 1]` for the group's pairs
/// (a short last group repeats its first pair in the spare lanes).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
#[allow(clippy::needless_range_loop)] // limb k of lane `lane`: a transposition
fn load(cur: &[Pt], group: &[(u32, u32)], with_y: bool) -> [Vq; 4] {
    let mut cols = [[[0u64; 8]; 4]; 4];
    for lane in 0..8 {
        let (src, _) = group[if lane < group.len() { lane } else { 0 }];
        let (p, q) = (&cur[src as usize], &cur[src as usize + 1]);
        for k in 0..4 {
            cols[0][k][lane] = p.x.0 .0[k];
            cols[1][k][lane] = q.x.0 .0[k];
        }
        if with_y {
            for k in 0..4 {
                cols[2][k][lane] = p.y.0 .0[k];
                cols[3][k][lane] = q.y.0 .0[k];
            }
        }
    }
    [
        Vq::from_packed(&cols[0]),
        Vq::from_packed(&cols[1]),
        Vq::from_packed(&cols[2]),
        Vq::from_packed(&cols[3]),
    ]
}

/// `next[dst] = cur[src] + cur[src + 1]` for every pair (distinct `x`).
#[target_feature(enable = "avx512f,avx512ifma")]
fn add_pairs(cur: &[Pt], next: &mut [Pt], pairs: &[(u32, u32)], prods: &mut Vec<Vq>) {
    let groups = pairs.len().div_ceil(8);
    let one = Vq::splat(&vector_form(Fq::ONE));
    prods.clear();
    let mut acc = one;
    for group in pairs.chunks(8) {
        let [px, qx, _, _] = load(cur, group, false);
        prods.push(acc);
        acc = acc.mul(&qx.sub(&px));
    }
    let mut inv = invert_lanes(&acc);
    let mut cols = [[[0u64; 8]; 4]; 2];
    for g in (0..groups).rev() {
        let group = &pairs[8 * g..(8 * g + 8).min(pairs.len())];
        let [px, qx, py, qy] = load(cur, group, true);
        // Here each lane's inv = 1/(its denominators up to this group's).
        let inv_j = inv.mul(&prods[g]);
        inv = inv.mul(&qx.sub(&px));
        let lambda = qy.sub(&py).mul(&inv_j);
        let x3 = lambda.square().sub(&px).sub(&qx);
        let y3 = lambda.mul(&px.sub(&x3)).sub(&py);
        x3.canonical().to_packed(&mut cols[0]);
        y3.canonical().to_packed(&mut cols[1]);
        for (lane, &(_, dst)) in group.iter().enumerate() {
            let limbs =
                |c: &[[u64; 8]; 4]| BigInt([c[0][lane], c[1][lane], c[2][lane], c[3][lane]]);
            next[dst as usize] = Pt {
                x: Fq::new_unchecked(limbs(&cols[0])),
                y: Fq::new_unchecked(limbs(&cols[1])),
            };
        }
    }
}

/// The vector form `x·2^260 mod q` of `x` (radix 2^52, canonical).
fn vector_form(x: Fq) -> crate::field_simd::Limbs {
    static R: OnceLock<Fq> = OnceLock::new();
    let r = R.get_or_init(|| Fq::from(2u64).pow([260]));
    crate::field_simd::to_radix52((x * r).into_bigint().0)
}

/// The lane-wise inverses (vector form in and out; every lane non-zero).
#[target_feature(enable = "avx512f,avx512ifma")]
#[allow(clippy::needless_range_loop)] // a transposition, as in `load`
fn invert_lanes(a: &Vq) -> Vq {
    // A lane holds X = x·2^260 (mod q) as an integer; as an arkworks value X, its inverse times
    // 2^520 is the vector form 2^260/x of 1/x.
    let mut cols = [[0u64; 8]; 4];
    a.canonical().to_packed(&mut cols);
    let mut vals: [Fq; 8] = core::array::from_fn(|lane| {
        Fq::from_bigint(BigInt([
            cols[0][lane],
            cols[1][lane],
            cols[2][lane],
            cols[3][lane],
        ]))
        .expect("canonical")
    });
    ark_ff::batch_inversion(&mut vals);
    static R2: OnceLock<Fq> = OnceLock::new();
    let r2 = R2.get_or_init(|| Fq::from(2u64).pow([520]));
    for (lane, v) in vals.iter().enumerate() {
        let l = (*v * r2).into_bigint().0;
        for k in 0..4 {
            cols[k][lane] = l[k];
        }
    }
    Vq::from_packed(&cols)
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // lanes and limbs by index
mod tests {
    use super::*;
    use ark_ff::{One, UniformRand, Zero};
    use ark_std::rand::{rngs::StdRng, SeedableRng};
    use proptest::prelude::*;

    fn lanes_in(x: &[Fq; 8]) -> Vq {
        let mut cols = [[0u64; 8]; 4];
        for (lane, v) in x.iter().enumerate() {
            let l = crate::field_simd::from_radix52(vector_form(*v));
            for k in 0..4 {
                cols[k][lane] = l[k];
            }
        }
        // SAFETY: the tests below run only where the CPU has the features.
        unsafe { Vq::from_packed(&cols) }
    }

    fn lanes_out(v: Vq) -> [Fq; 8] {
        let mut cols = [[0u64; 8]; 4];
        // SAFETY: as above.
        unsafe { v.canonical().to_packed(&mut cols) };
        let unr = Fq::from(2u64).pow([260]).inverse().unwrap();
        core::array::from_fn(|lane| {
            let int = BigInt([cols[0][lane], cols[1][lane], cols[2][lane], cols[3][lane]]);
            Fq::from_bigint(int).expect("canonical") * unr
        })
    }

    fn edges() -> Vec<Fq> {
        let two = Fq::from(2u64);
        let mut v = vec![Fq::zero(), Fq::one(), -Fq::one(), -two];
        for k in [51u64, 52, 53, 64, 104, 156, 208, 252, 253] {
            let p = two.pow([k]);
            v.extend([p, p - Fq::one(), -p]);
        }
        v
    }

    fn arb() -> impl Strategy<Value = [Fq; 8]> {
        let e = edges();
        proptest::array::uniform8(prop_oneof![
            3 => any::<[u8; 32]>().prop_map(|b| Fq::from_le_bytes_mod_order(&b)),
            1 => proptest::sample::select(e),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Every lane of the base-field arithmetic equals arkworks, chained as the level chains
        /// it (products of sums and differences, then a canonical result).
        #[test]
        fn prop_fq_lanes_match_arkworks(a in arb(), b in arb()) {
            if !crate::field_simd::hardware_available() {
                return Ok(());
            }
            // SAFETY: checked just above.
            let (va, vb) = (lanes_in(&a), lanes_in(&b));
            let got = unsafe {
                [
                    va.mul(&vb),
                    va.square(),
                    va.sub(&vb),
                    va.add(&vb),
                    va.sub(&vb).mul(&va.add(&vb)).sub(&vb.square()),
                    va.mul(&vb).square().sub(&va).sub(&vb).mul(&va.sub(&vb.mul(&va))),
                ]
            };
            for k in 0..8 {
                let (x, y) = (a[k], b[k]);
                let want = [
                    x * y,
                    x.square(),
                    x - y,
                    x + y,
                    (x - y) * (x + y) - y.square(),
                    ((x * y).square() - x - y) * (x - y * x),
                ];
                for (g, w) in got.iter().zip(want) {
                    prop_assert_eq!(lanes_out(*g)[k], w);
                }
            }
            let inv = unsafe { invert_lanes(&va) };
            for k in 0..8 {
                if !a[k].is_zero() {
                    prop_assert_eq!(lanes_out(inv)[k], a[k].inverse().unwrap());
                }
            }
        }
    }

    #[test]
    fn scaled_points_are_the_vector_form() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..32 {
            let p = Pt {
                x: Fq::rand(&mut rng),
                y: Fq::rand(&mut rng),
            };
            let s = scale(p);
            // The stored integers of the scaled point are the vector forms of x and y.
            assert_eq!(s.x.0 .0, crate::field_simd::from_radix52(vector_form(p.x)));
            assert_eq!(s.y.0 .0, crate::field_simd::from_radix52(vector_form(p.y)));
            let u = unscale(s);
            assert_eq!((u.x, u.y), (p.x, p.y));
        }
    }
}
