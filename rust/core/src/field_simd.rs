//! Eight BN254 scalar field elements at once on AVX-512 IFMA (`vpmadd52{lo,hi}uq`).
//!
//! Representation: each element is five 52-bit limbs (radix 2^52, 260 bits), little-endian, in
//! Montgomery form with `R = 2^260` (not arkworks' `2^256`): element `a` is held as any integer
//! `x ≡ a·2^260 (mod r)`, not necessarily reduced. A vector holds limb `i` of eight lanes in one
//! 512-bit register. Conversions go through the canonical integer (`[u64; 4]`), so nothing here
//! depends on arkworks' internal representation: in, `x = mont(a, 2^520 mod r) = a·2^260`; out,
//! `a = mont(x, 1)` followed by one conditional subtraction.
//!
//! Bounds (`r < 2^254`, so `R > 64·r`): a Montgomery product of `a·b < R·r` is `< a·b/R + r`;
//! for the inputs below (`< 8r` each, or sums of products of canonical constants and values
//! `< 3r`) that is `< 2r`. Every limb fed to IFMA must be `< 2^52` (the instructions read only
//! the low 52 bits), so every operation returns normalised limbs. The value invariants:
//!
//! * [`mul`](avx::V::mul), [`square`](avx::V::square), `dot`: inputs with `a·b < R·r` (e.g. both
//!   `< 8r`; `dot` needs the sum of the products `< R·r`), output `< 2r`;
//! * `add`, `sub`: inputs `< 2r`, output `< 2r` (one conditional subtraction of `2r`);
//! * `add_lazy`: no reduction, the caller keeps the sum `< 8r` (e.g. `< 2r` plus a constant).
//!
//! The scalar arkworks arithmetic is the fallback (no IFMA, or `BIGFILE_ZK_NO_SIMD=1`) and the
//! test oracle: the proptests compare every lane with arkworks.

// Layer 1 beside `field` (tests/layers.rs): arkworks directly, nothing from this crate.
use ark_bn254::Fr;
use ark_ff::{BigInt, Field, PrimeField};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Lanes per vector.
pub const LANES: usize = 8;
/// Set to anything but `0` or empty to force the scalar path (read once per process).
pub const ENV_NO_SIMD: &str = "BIGFILE_ZK_NO_SIMD";

/// Five 52-bit limbs, little-endian.
pub type Limbs = [u64; 5];

const MASK: u64 = (1 << 52) - 1;

/// `r` as four little-endian 64-bit limbs.
const MODULUS_LIMBS: [u64; 4] = <Fr as PrimeField>::MODULUS.0;

/// Canonical 4×64 limbs (`< 2^256`) to radix 2^52.
pub const fn to_radix52(x: [u64; 4]) -> Limbs {
    [
        x[0] & MASK,
        (x[0] >> 52 | x[1] << 12) & MASK,
        (x[1] >> 40 | x[2] << 24) & MASK,
        (x[2] >> 28 | x[3] << 36) & MASK,
        x[3] >> 16,
    ]
}

/// Radix 2^52 (normalised limbs, value `< 2^256`) to 4×64 limbs.
pub const fn from_radix52(l: Limbs) -> [u64; 4] {
    [
        l[0] | l[1] << 52,
        l[1] >> 12 | l[2] << 40,
        l[2] >> 24 | l[3] << 28,
        l[3] >> 36 | l[4] << 16,
    ]
}

/// `2m` in radix 2^52 (`2m < 2^255`).
const fn twice(m: [u64; 4]) -> Limbs {
    to_radix52([
        m[0] << 1,
        m[1] << 1 | m[0] >> 63,
        m[2] << 1 | m[1] >> 63,
        m[3] << 1 | m[2] >> 63,
    ])
}

/// `−m⁻¹ mod 2^52` for odd `m` (Newton's iteration: each step doubles the correct low bits).
const fn neg_inv52(m0: u64) -> u64 {
    let mut inv = 1u64; // m is odd: correct to 1 bit
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg() & MASK
}

/// A BN254 prime below `2^255` (so that `R = 2^260 > 32·m`) for the vector arithmetic: the
/// scalar field `r` ([`FrMod`]) or the base field `q` ([`FqMod`], the MSM's coordinates).
pub trait Modulus: Copy + 'static {
    /// The modulus, canonical 4×64 limbs.
    const LIMBS: [u64; 4];
    /// The modulus in radix 2^52.
    const P: Limbs = to_radix52(Self::LIMBS);
    /// Twice the modulus in radix 2^52.
    const TWO_P: Limbs = twice(Self::LIMBS);
    /// `−m⁻¹ mod 2^52`.
    const N0: u64 = neg_inv52(Self::LIMBS[0]);
}

/// The scalar field `F_r`.
#[derive(Clone, Copy, Debug)]
pub struct FrMod;
impl Modulus for FrMod {
    const LIMBS: [u64; 4] = MODULUS_LIMBS;
}

/// The base field `F_q` (G1 coordinates).
#[derive(Clone, Copy, Debug)]
pub struct FqMod;
impl Modulus for FqMod {
    const LIMBS: [u64; 4] = <ark_bn254::Fq as PrimeField>::MODULUS.0;
}

/// `r` in radix 2^52.
pub const P: Limbs = FrMod::P;

/// `2^520 mod r`: multiplying a canonical integer by it enters Montgomery form.
fn r2() -> &'static Limbs {
    static R2: OnceLock<Limbs> = OnceLock::new();
    R2.get_or_init(|| to_radix52(Fr::from(2u64).pow([520]).into_bigint().0))
}

/// The Montgomery form `a·2^260 mod r` of `a`, as canonical radix-2^52 limbs (constants).
pub fn to_mont_limbs(a: &Fr) -> Limbs {
    static R: OnceLock<Fr> = OnceLock::new();
    let r = R.get_or_init(|| Fr::from(2u64).pow([260]));
    to_radix52((*a * r).into_bigint().0)
}

/// Canonical radix-2^52 limbs of `a` (not Montgomery form).
pub fn to_canonical_limbs(a: &Fr) -> Limbs {
    to_radix52(a.into_bigint().0)
}

/// Element from normalised limbs of an integer `<= r` (reduces `r` to 0).
fn from_reduced_limbs(l: Limbs) -> Fr {
    let mut x = from_radix52(l);
    if x == MODULUS_LIMBS {
        x = [0; 4];
    }
    Fr::from_bigint(BigInt(x)).expect("an integer below r")
}

static FORCE_SCALAR: AtomicBool = AtomicBool::new(false);

/// Whether this CPU has AVX-512F and IFMA and the environment allows their use (cached).
pub fn hardware_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let disabled = std::env::var_os(ENV_NO_SIMD).is_some_and(|v| !v.is_empty() && v != "0");
        !disabled && detect()
    })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> bool {
    false
}

/// Whether batched hashing uses the 8-lane path now.
#[inline]
pub fn enabled() -> bool {
    !FORCE_SCALAR.load(Ordering::Relaxed) && hardware_available()
}

/// Process-wide switch (tests and benches): `false` forces the scalar path, `true` returns to
/// the default (the vector path where the CPU and the environment allow it). Both paths give
/// identical results, so flipping it while other threads hash changes only their speed.
pub fn set_enabled(on: bool) {
    FORCE_SCALAR.store(!on, Ordering::Relaxed);
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx {
    //! The vector arithmetic. Every function carries `#[target_feature(enable = "avx512f,
    //! avx512ifma")]`; calling one is sound only once [`super::hardware_available`] (or
    //! [`super::detect`]) said the CPU has both features, which every `unsafe` entry point
    //! below checks or documents.
    use super::Fr;
    use super::{from_reduced_limbs, r2, FqMod, FrMod, Limbs, Modulus, MASK};
    use core::arch::x86_64::*;
    use core::marker::PhantomData;

    /// Eight elements of `F_m`: limb `i` of every lane in `self.0[i]` (see the module docs).
    #[derive(Clone, Copy)]
    pub struct Vm<M>(pub [__m512i; 5], PhantomData<M>);

    /// Eight scalar-field elements.
    pub type V = Vm<FrMod>;
    /// Eight base-field elements (G1 coordinates).
    pub type Vq = Vm<FqMod>;

    #[inline(always)]
    fn v<M>(limbs: [__m512i; 5]) -> Vm<M> {
        Vm(limbs, PhantomData)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn splat(x: u64) -> __m512i {
        _mm512_set1_epi64(x as i64)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn lo(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
        _mm512_madd52lo_epu64(acc, a, b)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn hi(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
        _mm512_madd52hi_epu64(acc, a, b)
    }

    /// Montgomery reduction of ten 64-bit columns `t = Σ t_k·2^{52k}` (`t < R·r`, columns
    /// `< 2^63`): returns `t/R mod r` as a value `< t/R + r`, limbs normalised.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn reduce<M: Modulus>(mut t: [__m512i; 10]) -> Vm<M> {
        let zero = _mm512_setzero_si512();
        let n0 = splat(M::N0);
        let mask = splat(MASK);
        for i in 0..5 {
            // m = t_i·(−r⁻¹) mod 2^52 (only the low 52 bits of t_i matter), so that
            // t + m·r·2^{52i} is divisible by 2^{52(i+1)}; move t_i's carry up.
            let m = lo(zero, t[i], n0);
            for (j, &pj) in M::P.iter().enumerate() {
                let pj = splat(pj);
                t[i + j] = lo(t[i + j], m, pj);
                t[i + j + 1] = hi(t[i + j + 1], m, pj);
            }
            t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
        }
        for k in 5..9 {
            t[k + 1] = _mm512_add_epi64(t[k + 1], _mm512_srli_epi64::<52>(t[k]));
            t[k] = _mm512_and_si512(t[k], mask);
        }
        v([t[5], t[6], t[7], t[8], t[9]])
    }

    /// Add the 10-column product `a·b` into `t` (each product adds < 10·2^52 to a column).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul_acc<M>(t: &mut [__m512i; 10], a: &Vm<M>, b: &Vm<M>) {
        for i in 0..5 {
            for j in 0..5 {
                t[i + j] = lo(t[i + j], a.0[i], b.0[j]);
                t[i + j + 1] = hi(t[i + j + 1], a.0[i], b.0[j]);
            }
        }
    }

    impl<M: Modulus> Vm<M> {
        /// The same limbs in every lane.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn splat(l: &Limbs) -> Self {
            v(l.map(|x| splat(x)))
        }

        /// Lanes from normalised limbs (`lanes[k]` = lane `k`), unconverted.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn from_lanes(lanes: &[Limbs; 8]) -> Self {
            v(core::array::from_fn(|i| {
                let col: [u64; 8] = core::array::from_fn(|k| lanes[k][i]);
                // SAFETY: `col` is 64 readable bytes; loadu has no alignment requirement.
                unsafe { _mm512_loadu_si512(col.as_ptr().cast()) }
            }))
        }

        /// The limbs of every lane, unconverted.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn to_lanes(self) -> [Limbs; 8] {
            let mut cols = [[0u64; 8]; 5];
            for (col, v) in cols.iter_mut().zip(&self.0) {
                // SAFETY: `col` is 64 writable bytes; storeu has no alignment requirement.
                unsafe { _mm512_storeu_si512(col.as_mut_ptr().cast(), *v) }
            }
            core::array::from_fn(|k| core::array::from_fn(|i| cols[i][k]))
        }

        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn mul(&self, b: &Self) -> Self {
            let mut t = [_mm512_setzero_si512(); 10];
            mul_acc(&mut t, self, b);
            reduce(t)
        }

        /// Squaring: the ten cross products once, doubled, then the five squares.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn square(&self) -> Self {
            let a = &self.0;
            let mut t = [_mm512_setzero_si512(); 10];
            for i in 0..5 {
                for j in i + 1..5 {
                    t[i + j] = lo(t[i + j], a[i], a[j]);
                    t[i + j + 1] = hi(t[i + j + 1], a[i], a[j]);
                }
            }
            for c in t.iter_mut() {
                *c = _mm512_slli_epi64::<1>(*c); // < 2·8·2^52: no overflow
            }
            for i in 0..5 {
                t[2 * i] = lo(t[2 * i], a[i], a[i]);
                t[2 * i + 1] = hi(t[2 * i + 1], a[i], a[i]);
            }
            reduce(t)
        }

        /// `Σ c_k·x_k` with a single reduction (`N ≤ 17` terms: columns stay below
        /// `17·10·2^52 + 11·2^52 < 2^60`); the sum of the products must be `< R·r`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn dot<const N: usize>(c: &[Self; N], x: &[Self; N]) -> Self {
            let mut t = [_mm512_setzero_si512(); 10];
            for (c, x) in c.iter().zip(x) {
                mul_acc(&mut t, c, x);
            }
            reduce(t)
        }

        /// Limb-wise sum with carries propagated, no reduction.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn add_lazy(&self, b: &Self) -> Self {
            let mask = splat(MASK);
            let mut c: [__m512i; 5] = core::array::from_fn(|i| _mm512_add_epi64(self.0[i], b.0[i]));
            for k in 0..4 {
                c[k + 1] = _mm512_add_epi64(c[k + 1], _mm512_srli_epi64::<52>(c[k]));
                c[k] = _mm512_and_si512(c[k], mask);
            }
            v(c)
        }

        /// `x − k` if that is non-negative, else `x` (normalised limbs, `x < 2k`; `k` is `2r`
        /// for the lazy `< 2r` form, `r` for the canonical one).
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn sub_if_ge(c: Self, k: &Limbs) -> Self {
            let mask = splat(MASK);
            let mut d: [__m512i; 5] =
                core::array::from_fn(|i| _mm512_sub_epi64(c.0[i], splat(k[i])));
            for j in 0..4 {
                // Each d_j is in (−2^52, 2^53): the arithmetic shift is its signed carry.
                d[j + 1] = _mm512_add_epi64(d[j + 1], _mm512_srai_epi64::<52>(d[j]));
                d[j] = _mm512_and_si512(d[j], mask);
            }
            let negative = _mm512_cmplt_epi64_mask(d[4], _mm512_setzero_si512());
            v(core::array::from_fn(|i| {
                _mm512_mask_blend_epi64(negative, d[i], c.0[i])
            }))
        }

        /// `x − 2r` if that is non-negative, else `x` (normalised `x < 4r` → `< 2r`).
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn sub_2p_if_ge(c: Self) -> Self {
            Self::sub_if_ge(c, &M::TWO_P)
        }

        /// `a + b` for `a, b < 2r`, result `< 2r`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn add(&self, b: &Self) -> Self {
            Self::sub_2p_if_ge(self.add_lazy(b))
        }

        /// `a − b` for `a, b < 2r`, result `< 2r`: `a + (2r − b)` with `0 < 2r − b ≤ 2r`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn sub(&self, b: &Self) -> Self {
            let mask = splat(MASK);
            let mut d: [__m512i; 5] =
                core::array::from_fn(|i| _mm512_sub_epi64(splat(M::TWO_P[i]), b.0[i]));
            for k in 0..4 {
                d[k + 1] = _mm512_add_epi64(d[k + 1], _mm512_srai_epi64::<52>(d[k]));
                d[k] = _mm512_and_si512(d[k], mask);
            }
            Self::sub_2p_if_ge(self.add_lazy(&v(d)))
        }
    }

    impl<M: Modulus> Vm<M> {
        /// `x − m` if that is non-negative, else `x` (normalised `x < 2m` → canonical `< m`).
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn canonical(&self) -> Self {
            Self::sub_if_ge(*self, &M::P)
        }

        /// Lanes from 4×64 limbs (`cols[k]` = limb `k` of the eight lanes; values `< 2^256`),
        /// unconverted: the inverse of [`Self::to_packed`].
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn from_packed(cols: &[[u64; 8]; 4]) -> Self {
            // SAFETY: each row is 64 readable bytes; loadu has no alignment requirement.
            let x: [__m512i; 4] =
                core::array::from_fn(|k| unsafe { _mm512_loadu_si512(cols[k].as_ptr().cast()) });
            let mask = splat(MASK);
            v([
                _mm512_and_si512(x[0], mask),
                _mm512_and_si512(
                    _mm512_or_si512(_mm512_srli_epi64::<52>(x[0]), _mm512_slli_epi64::<12>(x[1])),
                    mask,
                ),
                _mm512_and_si512(
                    _mm512_or_si512(_mm512_srli_epi64::<40>(x[1]), _mm512_slli_epi64::<24>(x[2])),
                    mask,
                ),
                _mm512_and_si512(
                    _mm512_or_si512(_mm512_srli_epi64::<28>(x[2]), _mm512_slli_epi64::<36>(x[3])),
                    mask,
                ),
                _mm512_srli_epi64::<16>(x[3]),
            ])
        }

        /// The lanes as 4×64 limbs (`cols[k]` = limb `k` of the eight lanes); normalised limbs
        /// of values `< 2^256` (e.g. after [`Self::canonical`]).
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn to_packed(self, cols: &mut [[u64; 8]; 4]) {
            let l = &self.0;
            let x = [
                _mm512_or_si512(l[0], _mm512_slli_epi64::<52>(l[1])),
                _mm512_or_si512(_mm512_srli_epi64::<12>(l[1]), _mm512_slli_epi64::<40>(l[2])),
                _mm512_or_si512(_mm512_srli_epi64::<24>(l[2]), _mm512_slli_epi64::<28>(l[3])),
                _mm512_or_si512(_mm512_srli_epi64::<36>(l[3]), _mm512_slli_epi64::<16>(l[4])),
            ];
            for (col, x) in cols.iter_mut().zip(x) {
                // SAFETY: `col` is 64 writable bytes; storeu has no alignment requirement.
                unsafe { _mm512_storeu_si512(col.as_mut_ptr().cast(), x) }
            }
        }
    }

    impl Vm<FrMod> {
        /// Canonical integers (normalised limbs, `< 2^256`) into Montgomery form (`< 2r`).
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn from_canonical(lanes: &[Limbs; 8]) -> V {
            V::from_lanes(lanes).mul(&V::splat(r2()))
        }

        /// Eight arkworks elements.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn from_fr(x: &[Fr; 8]) -> V {
            V::from_canonical(&x.each_ref().map(super::to_canonical_limbs))
        }

        /// Back to arkworks elements (leaves Montgomery form, reduces fully).
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub fn to_fr(self) -> [Fr; 8] {
            let mut one = [_mm512_setzero_si512(); 10];
            one[..5].copy_from_slice(&self.0);
            // t = x < 2^260 ≤ R·r: the result is < x/R + r < r + 1, i.e. at most r.
            reduce::<FrMod>(one).to_lanes().map(from_reduced_limbs)
        }
    }
}

/// The eight-lane operations on arkworks values (tests, benches; converts in and out on every
/// call). `None` when the vector path is unavailable.
pub mod lanes {
    use super::Fr;

    #[cfg(target_arch = "x86_64")]
    fn run(f: impl FnOnce() -> [Fr; 8]) -> Option<[Fr; 8]> {
        super::hardware_available().then(f)
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn run(_f: impl FnOnce() -> [Fr; 8]) -> Option<[Fr; 8]> {
        None
    }

    macro_rules! binary {
        ($(#[$doc:meta] $name:ident)*) => {$(
            #[$doc]
            pub fn $name(a: &[Fr; 8], b: &[Fr; 8]) -> Option<[Fr; 8]> {
                #[cfg(target_arch = "x86_64")]
                {
                    use super::avx::V;
                    // SAFETY: `run` calls the closure only when the CPU has AVX-512F and IFMA.
                    run(|| unsafe { V::from_fr(a).$name(&V::from_fr(b)).to_fr() })
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    let _ = (a, b);
                    run(|| unreachable!())
                }
            }
        )*};
    }
    binary! {
        /// Lane-wise product.
        mul
        /// Lane-wise sum.
        add
        /// Lane-wise difference.
        sub
    }

    /// Lane-wise square.
    pub fn square(a: &[Fr; 8]) -> Option<[Fr; 8]> {
        #[cfg(target_arch = "x86_64")]
        {
            use super::avx::V;
            // SAFETY: as in `mul`.
            run(|| unsafe { V::from_fr(a).square().to_fr() })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = a;
            run(|| unreachable!())
        }
    }

    /// A chain of `k` operations mixing the lazy and reduced forms: checks the bounds hold
    /// along real sequences, not only for fresh conversions. Mirrors [`chain_oracle`].
    pub fn chain(a: &[Fr; 8], b: &[Fr; 8], k: usize) -> Option<[Fr; 8]> {
        #[cfg(target_arch = "x86_64")]
        {
            use super::avx::V;
            // SAFETY: as in `mul`.
            run(|| unsafe {
                let (mut x, y) = (V::from_fr(a), V::from_fr(b));
                for i in 0..k {
                    x = match i % 5 {
                        0 => x.add(&y).square(),
                        1 => x.sub(&y).mul(&y),
                        2 => V::dot(&[x, y, x], &[y, x.add_lazy(&y), x]),
                        3 => x.add_lazy(&y).add_lazy(&y).mul(&x.add_lazy(&y)),
                        _ => y.sub(&x).add(&x.mul(&y)),
                    };
                }
                x.to_fr()
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (a, b, k);
            run(|| unreachable!())
        }
    }

    /// `a + k·b − k·c` by `k` reduced additions then `k` subtractions, each run followed by a
    /// product by one: only the reductions of `add` and `sub` keep the value within five
    /// 52-bit limbs (unreduced, 100 additions of `≈ r` pass `2^260`).
    pub fn long_sum(a: &[Fr; 8], b: &[Fr; 8], c: &[Fr; 8], k: usize) -> Option<[Fr; 8]> {
        #[cfg(target_arch = "x86_64")]
        {
            use super::avx::V;
            // SAFETY: as in `mul`.
            run(|| unsafe {
                let (mut x, y, z) = (V::from_fr(a), V::from_fr(b), V::from_fr(c));
                // IFMA reads 52 bits of each limb: a product by one exposes any overflow.
                let one = V::from_fr(&[Fr::from(1u64); 8]);
                for _ in 0..k {
                    x = x.add(&y);
                }
                x = x.mul(&one);
                for _ in 0..k {
                    x = x.sub(&z);
                }
                x.mul(&one).to_fr()
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (a, b, c, k);
            run(|| unreachable!())
        }
    }

    /// [`chain`] in arkworks, one lane.
    pub fn chain_oracle(mut x: Fr, y: Fr, k: usize) -> Fr {
        use ark_ff::Field;
        for i in 0..k {
            x = match i % 5 {
                0 => (x + y).square(),
                1 => (x - y) * y,
                2 => x * y + y * (x + y) + x * x,
                3 => (x + y + y) * (x + y),
                _ => y - x + x * y,
            };
        }
        x
    }
}

/// Micro-benchmarks (the `simd_bench` example, bindings' bench hooks): nanoseconds per
/// multiplication, best of `repeats`, for four independent chains of `n` products (enough
/// independent work to measure throughput rather than latency).
pub mod bench {
    use super::Fr;
    use std::time::Instant;

    /// Scalar arkworks multiplications.
    pub fn scalar_mul_ns(n: usize, repeats: usize) -> f64 {
        let mut best = f64::INFINITY;
        let c = Fr::from(0x1234_5678_9abc_def1u64);
        for _ in 0..repeats.max(1) {
            let mut x = [
                Fr::from(3u64),
                Fr::from(5u64),
                Fr::from(7u64),
                Fr::from(11u64),
            ];
            let t = Instant::now();
            for _ in 0..n {
                for v in x.iter_mut() {
                    *v *= c;
                }
            }
            std::hint::black_box(&x);
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / (4 * n) as f64);
        }
        best
    }

    /// Vector multiplications, per lane (`None` without the vector path).
    pub fn simd_mul_ns(n: usize, repeats: usize) -> Option<f64> {
        #[cfg(target_arch = "x86_64")]
        if super::hardware_available() {
            // SAFETY: the CPU has AVX-512F and IFMA (checked just above).
            return Some(unsafe { simd_mul_ns_avx(n, repeats) });
        }
        let _ = (n, repeats);
        None
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn simd_mul_ns_avx(n: usize, repeats: usize) -> f64 {
        use super::avx::V;
        let c = V::from_fr(&[Fr::from(0x1234_5678_9abc_def1u64); 8]);
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let mut x: [V; 4] = core::array::from_fn(|i| {
                V::from_fr(&core::array::from_fn(|k| Fr::from((i * 8 + k) as u64)))
            });
            let t = Instant::now();
            for _ in 0..n {
                for v in x.iter_mut() {
                    *v = v.mul(&c);
                }
            }
            std::hint::black_box(&x);
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / (4 * 8 * n) as f64);
        }
        best
    }
}

/// Issue 15's prover question, measured: element-wise products `c[i] = a[i]·b[i]` and radix-2
/// butterflies `(a + w·b, a − w·b)` over arrays of arkworks elements, scalar against the vector
/// path *including* the conversion from and back to arkworks' form (nanoseconds per element,
/// best of `repeats`, one thread). Not used by the prover.
pub mod prover_bench {
    use super::Fr;
    use std::time::Instant;

    fn inputs(n: usize) -> (Vec<Fr>, Vec<Fr>) {
        let a = (0..n as u64)
            .map(|i| Fr::from(i * i + 3) - Fr::from(i << 40))
            .collect();
        let b = (0..n as u64)
            .map(|i| Fr::from(i + 1).square() - Fr::from(7u64))
            .collect();
        (a, b)
    }
    use ark_ff::Field;

    fn best(repeats: usize, mut f: impl FnMut()) -> f64 {
        (0..repeats.max(1))
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// `(scalar, vector)` ns per element-wise product; the vector result is checked equal.
    pub fn mul(n: usize, repeats: usize) -> (f64, Option<f64>) {
        let (a, b) = inputs(n);
        let mut c = vec![Fr::from(0u64); n];
        let s = best(repeats, || {
            for ((c, a), b) in c.iter_mut().zip(&a).zip(&b) {
                *c = *a * b;
            }
        });
        let expected = c.clone();
        #[cfg(target_arch = "x86_64")]
        if super::hardware_available() {
            let v = best(repeats, || {
                // SAFETY: the CPU has AVX-512F and IFMA (checked above).
                unsafe { avx::mul(&a, &b, &mut c) }
            });
            assert!(c == expected, "vector products differ from arkworks");
            return (s * 1e9 / n as f64, Some(v * 1e9 / n as f64));
        }
        (s * 1e9 / n as f64, None)
    }

    /// `(scalar, vector)` ns per butterfly; the vector result is checked equal.
    pub fn butterfly(n: usize, repeats: usize) -> (f64, Option<f64>) {
        let (a0, b0) = inputs(n);
        let w: Vec<Fr> = (0..n as u64).map(|i| Fr::from(5u64).pow([i])).collect();
        let (mut a, mut b) = (a0.clone(), b0.clone());
        let s = best(repeats, || {
            a.copy_from_slice(&a0);
            b.copy_from_slice(&b0);
            for ((a, b), w) in a.iter_mut().zip(b.iter_mut()).zip(&w) {
                let t = *b * w;
                (*a, *b) = (*a + t, *a - t);
            }
        });
        let expected = (a.clone(), b.clone());
        #[cfg(target_arch = "x86_64")]
        if super::hardware_available() {
            let v = best(repeats, || {
                a.copy_from_slice(&a0);
                b.copy_from_slice(&b0);
                // SAFETY: as in `mul`.
                unsafe { avx::butterfly(&mut a, &mut b, &w) }
            });
            assert!(
                (a, b) == expected,
                "vector butterflies differ from arkworks"
            );
            return (s * 1e9 / n as f64, Some(v * 1e9 / n as f64));
        }
        (s * 1e9 / n as f64, None)
    }

    #[cfg(target_arch = "x86_64")]
    mod avx {
        //! Arkworks' form is `x·2^256` (canonical, `< r`); repacking its limbs to radix 2^52
        //! costs only shifts. `(a·2^256)·(16·b·2^256)/2^260 = a·b·2^256`: scaling one operand
        //! by 16 (four carried doublings, `< 16r`, product `< 16r² < R·r`) makes the vector
        //! Montgomery product land directly in arkworks' form, `< 2r`, then one subtraction.
        use super::super::avx::V;
        use super::super::{from_radix52, to_radix52, Limbs, MODULUS_LIMBS};
        use super::Fr;
        use ark_ff::BigInt;

        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn load(x: &[Fr]) -> V {
            // `.0.0` is arkworks' Montgomery representation (a public, doc-hidden field).
            V::from_lanes(&core::array::from_fn::<Limbs, 8, _>(|k| {
                to_radix52(x[k].0 .0)
            }))
        }

        /// From a vector of values `< 2r` in arkworks' form to canonical arkworks elements.
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn store(v: &V, out: &mut [Fr]) {
            for (o, l) in out.iter_mut().zip(v.to_lanes()) {
                let mut x = from_radix52(l);
                if !lt(&x, &MODULUS_LIMBS) {
                    let mut borrow = false;
                    for (xi, ri) in x.iter_mut().zip(MODULUS_LIMBS) {
                        let (d, b1) = xi.overflowing_sub(ri);
                        let (d, b2) = d.overflowing_sub(borrow as u64);
                        (*xi, borrow) = (d, b1 || b2);
                    }
                }
                *o = Fr::new_unchecked(BigInt(x));
            }
        }

        fn lt(a: &[u64; 4], b: &[u64; 4]) -> bool {
            a.iter().rev().cmp(b.iter().rev()) == core::cmp::Ordering::Less
        }

        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn times16(v: &V) -> V {
            let v2 = v.add_lazy(v);
            let v4 = v2.add_lazy(&v2);
            let v8 = v4.add_lazy(&v4);
            v8.add_lazy(&v8)
        }

        /// # Safety
        /// The CPU must have AVX-512F and AVX-512 IFMA.
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub unsafe fn mul(a: &[Fr], b: &[Fr], c: &mut [Fr]) {
            for ((a, b), c) in a
                .chunks_exact(8)
                .zip(b.chunks_exact(8))
                .zip(c.chunks_exact_mut(8))
            {
                store(&load(a).mul(&times16(&load(b))), c);
            }
        }

        /// # Safety
        /// The CPU must have AVX-512F and AVX-512 IFMA.
        #[target_feature(enable = "avx512f,avx512ifma")]
        pub unsafe fn butterfly(a: &mut [Fr], b: &mut [Fr], w: &[Fr]) {
            for ((a, b), w) in a
                .chunks_exact_mut(8)
                .zip(b.chunks_exact_mut(8))
                .zip(w.chunks_exact(8))
            {
                let (x, t) = (load(a), load(b).mul(&times16(&load(w))));
                store(&x.add(&t), a);
                store(&x.sub(&t), b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{One, Zero};
    use proptest::prelude::*;

    #[test]
    fn constants() {
        assert_eq!(from_radix52(P), MODULUS_LIMBS);
        // N0·r ≡ −1 (mod 2^52)
        assert_eq!(FrMod::N0.wrapping_mul(P[0]) & MASK, MASK);
        assert_eq!(FqMod::N0.wrapping_mul(FqMod::P[0]) & MASK, MASK);
        assert_eq!(from_radix52(FqMod::P), FqMod::LIMBS);
        assert!(P.iter().all(|&l| l <= MASK));
        assert!(FrMod::TWO_P.iter().all(|&l| l <= MASK));
        // 2r as an integer, limb by limb with carries
        let mut carry = 0u64;
        for (tp, p) in FrMod::TWO_P.iter().zip(P) {
            let s = 2 * p + carry;
            assert_eq!(*tp, s & MASK);
            carry = s >> 52;
        }
        assert_eq!(carry, 0);
    }

    /// Edge values: 0, 1, r − 1, around 2^252, 2^254 (as far as below r), limb boundaries.
    fn edges() -> Vec<Fr> {
        let mut v = vec![Fr::zero(), Fr::one(), -Fr::one(), -Fr::from(2u64)];
        let two = Fr::from(2u64);
        for k in [
            51u64, 52, 53, 63, 64, 103, 104, 155, 156, 207, 208, 251, 252, 253,
        ] {
            let p = two.pow([k]);
            v.extend([p, p - Fr::one(), p + Fr::one()]);
        }
        // limb patterns: all-ones 52-bit limbs below r, alternating limbs
        v.push(from_reduced_limbs([MASK, MASK, MASK, MASK, 0]));
        v.push(from_reduced_limbs([MASK, 0, MASK, 0, 0]));
        v.push(from_reduced_limbs([0, MASK, 0, MASK, 1]));
        v.push(from_reduced_limbs([P[0], P[1], P[2], P[3], P[4] - 1]));
        // r − 2^k
        for k in [52u64, 104, 200] {
            v.push(-two.pow([k]));
        }
        v
    }

    fn arb_fr() -> impl Strategy<Value = Fr> {
        let e = edges();
        prop_oneof![
            3 => any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
            1 => proptest::sample::select(e),
        ]
    }

    fn arb_lanes() -> impl Strategy<Value = [Fr; 8]> {
        proptest::array::uniform8(arb_fr())
    }

    fn check(
        a: &[Fr; 8],
        b: &[Fr; 8],
        got: Option<[Fr; 8]>,
        f: impl Fn(Fr, Fr) -> Fr,
    ) -> std::result::Result<(), TestCaseError> {
        match got {
            Some(g) => {
                for k in 0..8 {
                    prop_assert_eq!(g[k], f(a[k], b[k]), "lane {}", k);
                }
            }
            None => prop_assert!(!hardware_available()),
        }
        Ok(())
    }

    #[test]
    fn every_pair_of_edges() {
        let e = edges();
        for chunk in e.chunks(8) {
            let mut a = [Fr::zero(); 8];
            a[..chunk.len()].copy_from_slice(chunk);
            for x in &e {
                let b = [*x; 8];
                for (got, f) in [
                    (lanes::mul(&a, &b), (|x, y| x * y) as fn(Fr, Fr) -> Fr),
                    (lanes::add(&a, &b), |x, y| x + y),
                    (lanes::sub(&a, &b), |x, y| x - y),
                    (lanes::sub(&b, &a).map(|v| v.map(|z| -z)), |x, y| x - y),
                    (lanes::square(&a), |x, _| x.square()),
                ] {
                    check(&a, &b, got, f).unwrap();
                }
            }
        }
    }

    #[test]
    fn path_matches_the_cpu() {
        // On this project's CI machines the vector path must really run (otherwise the
        // proptests below would compare nothing); elsewhere it must be off.
        if std::env::var_os(ENV_NO_SIMD).is_none() {
            assert_eq!(hardware_available(), detect());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn lanes_equal_arkworks(a in arb_lanes(), b in arb_lanes()) {
            check(&a, &b, lanes::mul(&a, &b), |x, y| x * y)?;
            check(&a, &b, lanes::square(&a), |x, _| x.square())?;
            check(&a, &b, lanes::add(&a, &b), |x, y| x + y)?;
            check(&a, &b, lanes::sub(&a, &b), |x, y| x - y)?;
        }

        #[test]
        fn long_sums_equal_arkworks(a in arb_lanes(), b in arb_lanes(), c in arb_lanes(), k in 100usize..300) {
            let got = lanes::long_sum(&a, &b, &c, k);
            let kk = Fr::from(k as u64);
            match got {
                Some(g) => for i in 0..8 {
                    prop_assert_eq!(g[i], a[i] + kk * b[i] - kk * c[i], "lane {}", i);
                },
                None => prop_assert!(!hardware_available()),
            }
        }

        #[test]
        fn chains_equal_arkworks(a in arb_lanes(), b in arb_lanes(), k in 1usize..40) {
            check(&a, &b, lanes::chain(&a, &b, k), |x, y| lanes::chain_oracle(x, y, k))?;
        }
    }
}
