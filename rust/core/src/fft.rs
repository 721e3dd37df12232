//! Radix-2 FFTs over `F_r` on a coset `shift·H` (`|H| = n`, a power of two): ark-poly's, or on
//! AVX-512 IFMA a six-step FFT on eight lanes. ark-poly is the fallback (no IFMA, `n < 64`,
//! `BIGFILE_ZK_NO_SIMD=1`) and the oracle of the tests; both give the same field elements.
//!
//! **No conversions.** The transform is linear, so it can act on arkworks' stored integers
//! (`x·2^256 mod r`) read as the vector form of `field_simd` (`y·2^260`, i.e. `y = x/16`): with
//! every twiddle and scale in true vector form, the outputs' stored integers are again
//! arkworks' Montgomery forms of the true outputs. Only the limbs are repacked (4×64 ↔ 5×52).
//!
//! **Six steps.** With `n = N1·N2`, `x` read as an `N1 × N2` matrix (`x[j1·N2 + j2]`),
//! `ω1 = ω^{N2}`, `ω2 = ω^{N1}`:
//!
//! ```text
//! X[k1 + N1·k2] = Σ_{j2} ω2^{j2·k2} · ω^{j2·k1} · Σ_{j1} x[j1·N2 + j2]·ω1^{j1·k1}
//! ```
//!
//! Pass 1 takes eight adjacent columns at a time (one vector per row, lanes = columns), does the
//! eight size-`N1` column transforms at once, multiplies by `ω^{j2·k1}` and writes row `k1` back
//! in place. Pass 2 takes eight adjacent rows (lane `ℓ` from row `8h + ℓ`: the transposition is
//! in the load), does their size-`N2` transforms and writes `X[8h + ℓ + N1·k2]`, eight adjacent
//! outputs, into a second buffer. Every butterfly thus pairs two vectors with one twiddle for
//! all lanes, and each pass's working set (`N1` or `N2` vectors of 320 bytes) stays in L2.

use ark_bn254::Fr;
use ark_ff::One;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

/// Smallest `log2 n` for the vector path (an 8 × 8 matrix of elements).
const MIN_LOG_SIMD: u32 = 6;

/// `x` ← the evaluations on `shift·H` of the polynomial with coefficients `x` (`|x| = n`).
pub fn coset_fft_in_place(x: &mut Vec<Fr>, shift: Fr) {
    let n = x.len();
    assert!(n.is_power_of_two(), "FFT sizes are powers of two, not {n}");
    #[cfg(target_arch = "x86_64")]
    if use_simd(n) {
        // SAFETY: `use_simd` checked that the CPU has AVX-512F and IFMA.
        return unsafe { simd::coset_fft(x, shift) };
    }
    let d = Radix2EvaluationDomain::<Fr>::new(n).expect("power of two");
    if shift.is_one() {
        d.fft_in_place(x);
    } else {
        d.get_coset(shift).expect("nonzero shift").fft_in_place(x);
    }
}

/// `x` ← the coefficients of the polynomial with the evaluations `x` on `shift·H`.
pub fn coset_ifft_in_place(x: &mut Vec<Fr>, shift: Fr) {
    let n = x.len();
    assert!(n.is_power_of_two(), "FFT sizes are powers of two, not {n}");
    #[cfg(target_arch = "x86_64")]
    if use_simd(n) {
        // SAFETY: as above.
        return unsafe { simd::coset_ifft(x, shift) };
    }
    let d = Radix2EvaluationDomain::<Fr>::new(n).expect("power of two");
    if shift.is_one() {
        d.ifft_in_place(x);
    } else {
        d.get_coset(shift).expect("nonzero shift").ifft_in_place(x);
    }
}

/// Evaluations on `H` (`|x| = n`).
pub fn fft_in_place(x: &mut Vec<Fr>) {
    coset_fft_in_place(x, Fr::one())
}

/// Coefficients from evaluations on `H`.
pub fn ifft_in_place(x: &mut Vec<Fr>) {
    coset_ifft_in_place(x, Fr::one())
}

#[cfg(target_arch = "x86_64")]
fn use_simd(n: usize) -> bool {
    n >= 1 << MIN_LOG_SIMD && crate::field_simd::enabled()
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use super::Fr;
    use crate::field_simd::avx::V;
    use crate::field_simd::{to_mont_limbs, Limbs};
    use ark_ff::{BigInt, FftField, Field, One};
    use rayon::prelude::*;

    /// A pointer shared by tasks that touch disjoint elements (each task's are listed where it
    /// is used).
    #[derive(Clone, Copy)]
    struct Shared(*mut Fr);
    impl Shared {
        /// A method, so that closures capture the whole `Shared` (not its raw pointer field).
        fn get(self) -> *mut Fr {
            self.0
        }
    }
    // SAFETY: only dereferenced at indices that no other task reads or writes concurrently.
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}

    /// Eight elements `p[0], p[s], …, p[7s]` as a vector (their stored integers, unconverted).
    ///
    /// # Safety
    /// The eight elements are readable; the CPU has AVX-512F and IFMA.
    #[inline]
    #[allow(clippy::needless_range_loop)] // lanes and limbs by index
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn load8(p: *const Fr, s: usize) -> V {
        let mut cols = [[0u64; 8]; 4];
        for l in 0..8 {
            let e = &(*p.add(l * s)).0 .0;
            for k in 0..4 {
                cols[k][l] = e[k];
            }
        }
        V::from_packed(&cols)
    }

    /// The lanes of `v` (`< 2r`), reduced, into `p[0], p[1], …, p[7]`.
    ///
    /// # Safety
    /// The eight elements are writable; the CPU has AVX-512F and IFMA.
    #[inline]
    #[allow(clippy::needless_range_loop)] // lanes by index
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn store8(v: V, p: *mut Fr) {
        let mut cols = [[0u64; 8]; 4];
        v.canonical().to_packed(&mut cols);
        for l in 0..8 {
            // `write`: pass 2's destination is not initialised yet.
            p.add(l).write(Fr::new_unchecked(BigInt([
                cols[0][l], cols[1][l], cols[2][l], cols[3][l],
            ])));
        }
    }

    /// `(a^{e0}, a^{e0+1}, …, a^{e0+7})` in vector form.
    fn lane_powers(a: Fr, e0: u64) -> [Limbs; 8] {
        let mut p = a.pow([e0]);
        core::array::from_fn(|_| {
            let l = to_mont_limbs(&p);
            p *= a;
            l
        })
    }

    /// `root^j` for `j < len`, in vector form.
    fn twiddles(root: Fr, len: usize) -> Vec<Limbs> {
        let mut w = Fr::one();
        (0..len)
            .map(|_| {
                let l = to_mont_limbs(&w);
                w *= root;
                l
            })
            .collect()
    }

    /// In-place decimation-in-frequency transform of `s` (`|s| = N`, a power of two) with the
    /// primitive `N`-th root whose powers `tw[j] = root^j` (`j < N/2`) are given: natural order
    /// in, bit-reversed order out. Values `< 2r` in and out.
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn dif(s: &mut [V], tw: &[Limbs]) {
        let n = s.len();
        let mut h = n / 2;
        let mut step = 1;
        while h >= 1 {
            for block in s.chunks_exact_mut(2 * h) {
                let (lo, hi) = block.split_at_mut(h);
                // The first butterfly's twiddle is 1.
                let (a, b) = (lo[0], hi[0]);
                lo[0] = a.add(&b);
                hi[0] = a.sub(&b);
                for i in 1..h {
                    let (a, b) = (lo[i], hi[i]);
                    lo[i] = a.add(&b);
                    hi[i] = a.sub(&b).mul(&V::splat(&tw[i * step]));
                }
            }
            h /= 2;
            step *= 2;
        }
    }

    /// `reverse_bits` of `i` in `bits` bits.
    #[inline]
    fn bitrev(i: usize, bits: u32) -> usize {
        if bits == 0 {
            0
        } else {
            i.reverse_bits() >> (usize::BITS - bits)
        }
    }

    /// Pass 1 for columns `8g..8g+8` of the `n1 × n2` matrix at `x`, in place (see the module
    /// docs), with `s` as scratch.
    ///
    /// # Safety
    /// `x` points to `n1·n2` elements, and no other thread touches these columns; the CPU has
    /// AVX-512F and IFMA.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn pass1(x: *mut Fr, g: usize, (n1, n2): (usize, usize), s: &mut Vec<V>, c: &Consts) {
        s.clear();
        let col = x.add(8 * g);
        let mut f = V::from_lanes(&lane_powers(c.pre, 8 * g as u64));
        for j1 in 0..n1 {
            let v = load8(col.add(j1 * n2), 1);
            s.push(if c.with_pre {
                let v = v.mul(&f);
                f = f.mul(&c.pre_step);
                v
            } else {
                v
            });
        }
        dif(s, &c.tw);
        // The six-step twiddle ω^{j2·k1} and the scale: t = scale·root^{(8g+ℓ)·k1}.
        let step = V::from_lanes(&lane_powers(c.root, 8 * g as u64));
        let mut t = V::splat(&c.scale);
        for k1 in 0..n1 {
            let v = s[bitrev(k1, n1.trailing_zeros())].mul(&t);
            t = t.mul(&step);
            store8(v, col.add(k1 * n2));
        }
    }

    /// Pass 2 for rows `8h..8h+8` of the `n1 × n2` matrix at `x` into `out` (`X[8h + ℓ + n1·k2]`).
    ///
    /// # Safety
    /// `x` points to `n1·n2` readable elements, `out` to as many writable ones, and no other
    /// thread writes those rows or outputs `8h..8h+8 (mod n1)`; the CPU has AVX-512F and IFMA.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn pass2(
        x: *const Fr,
        out: *mut Fr,
        h: usize,
        (n1, n2): (usize, usize),
        s: &mut Vec<V>,
        c: &Consts,
    ) {
        s.clear();
        let rows = x.add(8 * h * n2);
        for j2 in 0..n2 {
            s.push(load8(rows.add(j2), n2));
        }
        dif(s, &c.tw);
        let mut f = V::from_lanes(&lane_powers(c.pre, 8 * h as u64));
        for k2 in 0..n2 {
            let mut v = s[bitrev(k2, n2.trailing_zeros())];
            if c.with_pre {
                v = v.mul(&f);
                f = f.mul(&c.pre_step);
            }
            store8(v, out.add(8 * h + n1 * k2));
        }
    }

    /// A pass's constants: the inner transform's twiddles, the per-element factor `pre^i`
    /// (pass 1: the coset shift on the input; pass 2: its inverse on the output) and its step
    /// between vectors, the six-step root and the scale (pass 1 only).
    struct Consts {
        tw: Vec<Limbs>,
        pre: Fr,
        with_pre: bool,
        pre_step: V,
        root: Fr,
        scale: Limbs,
    }

    fn root(n: usize) -> Fr {
        Fr::get_root_of_unity(n as u64).expect("a power of two within the 2-adicity")
    }

    /// [`super::coset_fft_in_place`] on the vector path (`|x| ≥ 64`).
    ///
    /// # Safety
    /// The CPU has AVX-512F and IFMA.
    pub(super) unsafe fn coset_fft(x: &mut Vec<Fr>, shift: Fr) {
        six_step(x, root(x.len()), shift, Fr::one(), Fr::one())
    }

    /// [`super::coset_ifft_in_place`] on the vector path (`|x| ≥ 64`).
    ///
    /// # Safety
    /// The CPU has AVX-512F and IFMA.
    pub(super) unsafe fn coset_ifft(x: &mut Vec<Fr>, shift: Fr) {
        let inv = |v: Fr| v.inverse().expect("nonzero");
        let scale = inv(Fr::from(x.len() as u64));
        six_step(x, inv(root(x.len())), Fr::one(), inv(shift), scale)
    }

    /// `x[j] ← post^j · scale · Σ_i pre^i·x[i]·root^{ij}` for the primitive `n`-th root `root`
    /// (`n = |x| ≥ 64`): a coset FFT is `(ω, shift, 1, 1)`, a coset inverse FFT
    /// `(ω⁻¹, 1, shift⁻¹, 1/n)`.
    ///
    /// # Safety
    /// The CPU has AVX-512F and IFMA.
    unsafe fn six_step(x: &mut Vec<Fr>, root: Fr, pre: Fr, post: Fr, scale: Fr) {
        let n = x.len();
        let log = n.trailing_zeros();
        let dims = (1usize << (log / 2), 1usize << (log - log / 2));
        let (n1, n2) = dims;
        let consts = |inner: Fr, len: usize, pre: Fr, step_exp: usize, scale: Fr| Consts {
            tw: twiddles(inner, len / 2),
            pre,
            with_pre: !pre.is_one(),
            pre_step: V::splat(&to_mont_limbs(&pre.pow([step_exp as u64]))),
            root,
            scale: to_mont_limbs(&scale),
        };

        let c1 = consts(root.pow([n2 as u64]), n1, pre, n2, scale);
        let base = Shared(x.as_mut_ptr());
        (0..n2 / 8).into_par_iter().for_each_init(
            || Vec::with_capacity(n1),
            // SAFETY: task `g` alone touches columns 8g..8g+8; the caller checked the CPU.
            |s, g| unsafe { pass1(base.get(), g, dims, s, &c1) },
        );

        let c2 = consts(root.pow([n1 as u64]), n2, post, n1, Fr::one());
        let mut out: Vec<Fr> = Vec::with_capacity(n);
        let (src, dst) = (Shared(x.as_mut_ptr()), Shared(out.as_mut_ptr()));
        (0..n1 / 8).into_par_iter().for_each_init(
            || Vec::with_capacity(n2),
            // SAFETY: pass 1 is over, so rows are only read; task `h` alone writes outputs
            // 8h..8h+8 (mod n1), all inside `out`'s capacity.
            |s, h| unsafe { pass2(src.get(), dst.get(), h, dims, s, &c2) },
        );
        // SAFETY: every index below n was written (k2 < n2, ℓ < 8, h < n1/8).
        unsafe { out.set_len(n) };
        *x = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{FftField, Field, UniformRand, Zero};
    use ark_std::rand::{rngs::StdRng, SeedableRng};

    fn oracle(x: &[Fr], shift: Fr, inverse: bool) -> Vec<Fr> {
        let d = Radix2EvaluationDomain::<Fr>::new(x.len())
            .unwrap()
            .get_coset(shift)
            .unwrap();
        if inverse {
            d.ifft(x)
        } else {
            d.fft(x)
        }
    }

    /// The vector path itself where the CPU has it (whatever the process-wide switch says),
    /// else the public functions.
    fn ours(x: &[Fr], shift: Fr, inverse: bool) -> Vec<Fr> {
        let mut y = x.to_vec();
        #[cfg(target_arch = "x86_64")]
        if crate::field_simd::hardware_available() && x.len() >= 1 << MIN_LOG_SIMD {
            // SAFETY: the CPU has the features.
            unsafe {
                if inverse {
                    simd::coset_ifft(&mut y, shift)
                } else {
                    simd::coset_fft(&mut y, shift)
                }
            }
            return y;
        }
        if inverse {
            coset_ifft_in_place(&mut y, shift)
        } else {
            coset_fft_in_place(&mut y, shift)
        }
        y
    }

    #[test]
    fn equals_ark_poly_on_every_size_and_coset() {
        let mut rng = StdRng::seed_from_u64(7);
        for log in 0..=13u32 {
            let n = 1usize << log;
            let random: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            // Edge values: the largest element everywhere, and one impulse (each output is
            // then a single twiddle, so a wrong twiddle shows at its index).
            let top = vec![-Fr::one(); n];
            let mut impulse = vec![Fr::zero(); n];
            impulse[n / 2 + n / 8] = Fr::from(3u64);
            for x in [random, top, impulse] {
                for shift in [Fr::one(), Fr::GENERATOR, Fr::rand(&mut rng)] {
                    let y = ours(&x, shift, false);
                    assert_eq!(y, oracle(&x, shift, false), "fft n={n}");
                    let z = ours(&x, shift, true);
                    assert_eq!(z, oracle(&x, shift, true), "ifft n={n}");
                    assert_eq!(ours(&z, shift, false), x, "round trip n={n}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "powers of two")]
    fn refuses_other_sizes() {
        coset_fft_in_place(&mut vec![Fr::one(); 12], Fr::one());
    }

    #[test]
    fn root_is_the_domains() {
        let d = Radix2EvaluationDomain::<Fr>::new(1 << 10).unwrap();
        assert_eq!(
            Fr::get_root_of_unity(1 << 10).unwrap(),
            d.group_gen(),
            "the vector path and ark-poly must use the same ω"
        );
        assert!(d.group_gen().pow([1u64 << 9]) != Fr::one());
    }
}
