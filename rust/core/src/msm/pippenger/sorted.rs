//! Bucket accumulation by sorting: per window, the points are counting-sorted by bucket, then
//! every bucket's points are summed by a pairwise tree in affine coordinates, one level at a time,
//! with one batched inversion per level shared by all the buckets of a block.
//!
//! Unlike [`super::batch_affine`], nothing has to be scheduled: the pairs of a level are disjoint
//! by construction, so there is no collision to detect, no queue and no bucket state. A level
//! pairs the points `0+1, 2+3, …` of each bucket (an odd last point is carried over as it is),
//! which halves every bucket; levels repeat until each bucket holds at most one point. The
//! degenerate pairs are exact: `P == Q` is a doubling (`λ = 3x²/2y`, `y ≠ 0` on a curve of odd
//! order), `P == −Q` drops both points.
//!
//! Buckets are taken from the top one down, in blocks of about `block` points (a bucket larger
//! than a block is cut into pieces), so that a block's points and its scratch stay in L2; each
//! finished bucket goes straight into the running sum `Σ (k+1)·B_k`, so no bucket array is kept.

use super::batch_affine::Pt;
use super::digits;
use ark_bn254::{g1::Config, Fq};
use ark_ec::short_weierstrass::Bucket;
use ark_ff::{AdditiveGroup, Field, One};

/// The sign bit of a sorted entry (the rest is the point's index).
const NEG: u32 = 1 << 31;

/// How many entries ahead the gather prefetches.
const PREFETCH: usize = 16;

#[inline(always)]
fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, on an address taken from a reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            r as *const T as *const i8,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Per-thread scratch, reused across windows.
pub struct Sorter {
    block: usize,
    /// Bucket starts in `perm`, buckets in descending order (`len + 1` entries).
    offsets: Vec<u32>,
    cursor: Vec<u32>,
    /// Point indices (with [`NEG`]) sorted by descending bucket.
    perm: Vec<u32>,
    /// The current tree level of a block: its points and segment starts (one segment per bucket
    /// or bucket piece, plus the end), and each segment's bucket.
    cur: Vec<Pt>,
    segs: Vec<u32>,
    seg_bucket: Vec<u32>,
    next: Vec<Pt>,
    next_segs: Vec<u32>,
    /// Per pair of a level: the product of the previous pairs' denominators, and (source index
    /// in `cur`, destination index in `next`).
    prods: Vec<Fq>,
    pairs: Vec<(u32, u32)>,
    /// The window's bucket values (pieces of a bucket separately), by descending bucket.
    found_k: Vec<u32>,
    found: Vec<Pt>,
    /// The vector path's scratch: `Some` when the points are scaled for it ([`super::simd`]).
    #[cfg(target_arch = "x86_64")]
    simd: Option<super::simd::Scratch>,
}

/// Windows with fewer buckets take the plain running sum (see [`Sorter::weigh`]).
const MARGINALS_FROM: usize = 64;

/// `Σ (k+1)·B_k` and `Σ B_k` over buckets fed from the top one down.
struct Running {
    running: Bucket<Config>,
    sum: Bucket<Config>,
    /// Buckets `0..open` are not closed yet (closing `b`: `sum += running` once `B_b` is in).
    open: usize,
}

impl Running {
    #[inline]
    fn feed(&mut self, k: usize, p: Pt) {
        while self.open > k + 1 {
            self.sum += &self.running;
            self.open -= 1;
        }
        self.running += p.to_affine();
    }

    fn finish(mut self) -> (Bucket<Config>, Bucket<Config>) {
        while self.open > 0 {
            self.sum += &self.running;
            self.open -= 1;
        }
        (self.sum, self.running)
    }
}

impl Sorter {
    /// `block`: points reduced together (each tree level of a block shares one inversion).
    /// `simd`: the points will be scaled for the vector path ([`super::simd::scale`]); panics
    /// if the CPU lacks it ([`crate::field_simd::hardware_available`]), since the scaled
    /// points would then be summed wrongly.
    pub fn new(block: usize, simd: bool) -> Self {
        assert!(
            !simd || crate::field_simd::hardware_available(),
            "the vector MSM path needs AVX-512 IFMA"
        );
        Sorter {
            block: block.max(2),
            offsets: Vec::new(),
            cursor: Vec::new(),
            perm: Vec::new(),
            cur: Vec::new(),
            segs: Vec::new(),
            seg_bucket: Vec::new(),
            next: Vec::new(),
            next_segs: Vec::new(),
            prods: Vec::new(),
            pairs: Vec::new(),
            found_k: Vec::new(),
            found: Vec::new(),
            #[cfg(target_arch = "x86_64")]
            simd: simd.then(super::simd::Scratch::default),
        }
    }

    /// A bucket value leaving the tree, unscaled if the points were scaled.
    #[inline]
    fn point(&self, p: Pt) -> Pt {
        #[cfg(target_arch = "x86_64")]
        if self.simd.is_some() {
            return super::simd::unscale(p);
        }
        p
    }

    /// Window `j` (width `c`) of `Σ m_i·P_i`, restricted to the digits with
    /// `|d| − 1 ∈ [lo, lo + len)`: returns `(Σ (k+1)·B_k, Σ B_k)` over those buckets, `B_k` for
    /// digit `lo + k + 1`. `tick(units)` is called with the points done so far (`0`: only asks);
    /// `None` once it returns false.
    pub fn window(
        &mut self,
        points: &[Pt],
        mags: &[u128],
        (j, c): (u32, u32),
        (lo, len): (u32, usize),
        tick: &mut dyn FnMut(usize) -> bool,
    ) -> Option<(Bucket<Config>, Bucket<Config>)> {
        self.sort(mags, (j, c), (lo, len));
        let total = self.offsets[len] as usize;
        self.found_k.clear();
        self.found.clear();
        // t: the bucket being cut into blocks (descending order), pos: the next entry of perm.
        let (mut t, mut pos) = (0usize, 0usize);
        while pos < total {
            if !tick(0) {
                return None;
            }
            let start = pos;
            self.cur.clear();
            self.segs.clear();
            self.seg_bucket.clear();
            while t < len {
                let end = self.offsets[t + 1] as usize;
                if pos == end {
                    t += 1;
                    continue;
                }
                let room = start + self.block - pos;
                if room == 0 || (end - pos > room && pos > start) {
                    break;
                }
                let take = (end - pos).min(room);
                self.segs.push((pos - start) as u32);
                self.seg_bucket.push((len - 1 - t) as u32);
                pos += take;
            }
            self.segs.push((pos - start) as u32);
            self.gather(points, start..pos);
            self.reduce_block();
            for (s, &k) in self.seg_bucket.iter().enumerate() {
                if self.segs[s + 1] > self.segs[s] {
                    self.found_k.push(k);
                    self.found.push(self.cur[self.segs[s] as usize]);
                }
            }
            if !tick(pos - start) {
                return None;
            }
        }
        Some(self.weigh(len))
    }

    /// `(Σ (k+1)·B_k, Σ B_k)` over the found bucket values (descending `k`, a bucket possibly in
    /// several pieces). With `k = a·H + b` (`H = 2^h`, `h ≈ log2(len)/2`):
    /// `Σ (k+1)·B_k = H·Σ_a a·T_a + Σ_b (b+1)·S_b` where `T_a = Σ_b B_(a,b)` and
    /// `S_b = Σ_a B_(a,b)`. Both marginal sums are affine trees (one addition per bucket each,
    /// ~12 multiplications per bucket in all), and only the `len/H + H` marginals go through
    /// XYZZ running sums, instead of two XYZZ additions (~24 multiplications) per bucket.
    fn weigh(&mut self, len: usize) -> (Bucket<Config>, Bucket<Config>) {
        self.cur.clear();
        self.cur.extend_from_slice(&self.found);
        if len < MARGINALS_FROM {
            return self.running(len, |k| k);
        }
        let h = len.trailing_zeros() / 2;
        // T: groups of consecutive k, already in (descending) order.
        let (wt, total) = self.running(len >> h, |k| k >> h);
        // S: counting sort by b = k mod H, descending.
        let mask = (1u32 << h) - 1;
        let hl = 1usize << h;
        self.cursor.clear();
        self.cursor.resize(hl + 1, 0);
        for &k in &self.found_k {
            self.cursor[hl - (k & mask) as usize] += 1;
        }
        for t in 0..hl {
            self.cursor[t + 1] += self.cursor[t];
        }
        self.cur.clear();
        self.cur.resize(self.found.len(), Pt::default());
        self.perm.clear();
        self.perm.resize(self.found.len(), 0);
        for (&k, p) in self.found_k.iter().zip(&self.found) {
            let t = hl - 1 - (k & mask) as usize;
            let at = self.cursor[t] as usize;
            self.cursor[t] += 1;
            self.cur[at] = *p;
            self.perm[at] = k & mask;
        }
        std::mem::swap(&mut self.found_k, &mut self.perm);
        let (ws, _) = self.running(hl, |k| k);
        // H·(Σ (a+1)·T_a − Σ T_a) + Σ (b+1)·S_b.
        let mut high = wt;
        high -= &total;
        for _ in 0..h {
            high.double_in_place();
        }
        (high + &ws, total)
    }

    /// Sums the points of `cur` (keys in `found_k`, by descending `group(key)`) per group by
    /// affine trees, then `(Σ (g+1)·G_g, Σ G_g)` over the `groups` group sums by a running sum.
    fn running(
        &mut self,
        groups: usize,
        group: impl Fn(u32) -> u32,
    ) -> (Bucket<Config>, Bucket<Config>) {
        self.segs.clear();
        self.seg_bucket.clear();
        for (i, &k) in self.found_k.iter().enumerate() {
            let g = group(k);
            if self.seg_bucket.last() != Some(&g) {
                self.segs.push(i as u32);
                self.seg_bucket.push(g);
            }
        }
        self.segs.push(self.found_k.len() as u32);
        self.reduce_block();
        let mut acc = Running {
            running: Bucket::ZERO,
            sum: Bucket::ZERO,
            open: groups,
        };
        for (s, &g) in self.seg_bucket.iter().enumerate() {
            if self.segs[s + 1] > self.segs[s] {
                acc.feed(g as usize, self.point(self.cur[self.segs[s] as usize]));
            }
        }
        acc.finish()
    }

    /// `cur` = the points of `perm[range]`, signs applied.
    fn gather(&mut self, points: &[Pt], range: std::ops::Range<usize>) {
        // Random reads, mostly cache (and TLB) misses: no branch in this loop so that they
        // overlap, plus a prefetch some entries ahead; the signs after, on cached points.
        let entries = &self.perm[range.start..];
        let count = range.len();
        self.cur.clear();
        self.cur.extend((0..count).map(|i| {
            if let Some(&f) = entries.get(i + PREFETCH) {
                prefetch(&points[(f & !NEG) as usize]);
            }
            points[(entries[i] & !NEG) as usize]
        }));
        for (p, &e) in self.cur.iter_mut().zip(&entries[..count]) {
            if e & NEG != 0 {
                p.y = -p.y;
            }
        }
    }

    /// Counting sort of the points with a digit in range by descending bucket.
    fn sort(&mut self, mags: &[u128], (j, c): (u32, u32), (lo, len): (u32, usize)) {
        let key = |m: u128| -> (u32, bool) {
            let d = digits::digit(m, j, c);
            // d = 0 wraps to u32::MAX and is skipped with the other parts' digits.
            ((d.unsigned_abs().wrapping_sub(1)).wrapping_sub(lo), d < 0)
        };
        self.offsets.clear();
        self.offsets.resize(len + 1, 0);
        for &m in mags {
            let (k, _) = key(m);
            if (k as usize) < len {
                // Descending position len − 1 − k, counted at its successor.
                self.offsets[len - k as usize] += 1;
            }
        }
        for t in 0..len {
            self.offsets[t + 1] += self.offsets[t];
        }
        self.cursor.clear();
        self.cursor.extend_from_slice(&self.offsets[..len]);
        self.perm.resize(self.offsets[len] as usize, 0);
        for (i, &m) in mags.iter().enumerate() {
            let (k, neg) = key(m);
            if (k as usize) < len {
                let t = len - 1 - k as usize;
                let at = self.cursor[t];
                self.cursor[t] = at + 1;
                self.perm[at as usize] = i as u32 | if neg { NEG } else { 0 };
            }
        }
    }

    /// Halves every segment of `cur` by pairwise affine additions until each holds at most one
    /// point (result in `cur`/`segs`).
    fn reduce_block(&mut self) {
        let n = self.cur.len();
        if self.next.len() < n {
            self.next.resize(n, Pt::default());
        }
        if self.pairs.len() < n / 2 {
            self.prods.resize(n / 2, Fq::one());
            self.pairs.resize(n / 2, (0, 0));
        }
        let mut len = n;
        loop {
            #[cfg(target_arch = "x86_64")]
            if let Some(scratch) = self.simd.as_mut() {
                // SAFETY: `new` checked that the CPU has the vector path's features.
                let (out, more) = unsafe {
                    super::simd::level(
                        &self.cur[..len],
                        &self.segs,
                        &mut self.next,
                        &mut self.next_segs,
                        scratch,
                    )
                };
                std::mem::swap(&mut self.cur, &mut self.next);
                std::mem::swap(&mut self.segs, &mut self.next_segs);
                len = out;
                if !more {
                    return;
                }
                continue;
            }
            let (out, more) = level(
                &self.cur[..len],
                &self.segs,
                &mut self.next,
                &mut self.next_segs,
                &mut self.prods,
                &mut self.pairs,
            );
            std::mem::swap(&mut self.cur, &mut self.next);
            std::mem::swap(&mut self.segs, &mut self.next_segs);
            len = out;
            if !more {
                return;
            }
        }
    }
}

/// Walks one tree level: the points `0+1, 2+3, …` of every segment of `cur` (`segs`: starts,
/// then the end) pair up into `next`, an odd last point copied, `next_segs` the new segments.
/// `pair(i, dst, doubling)` is called for each pair that makes a point (`cur[i] + cur[i + 1]`
/// into `next[dst]`; `doubling` when the two are equal); `P + (−P)` drops both. Returns the
/// number of points in `next` and whether a segment still has two or more. Shared by the
/// scalar level below and the vector one ([`super::simd`]).
pub(super) fn walk_level(
    cur: &[Pt],
    segs: &[u32],
    next: &mut [Pt],
    next_segs: &mut Vec<u32>,
    mut pair: impl FnMut(usize, usize, bool),
) -> (usize, bool) {
    next_segs.clear();
    let mut more = false;
    let mut out = 0usize;
    for w in segs.windows(2) {
        let (lo, hi) = (w[0] as usize, w[1] as usize);
        let first = out;
        next_segs.push(first as u32);
        let mut i = lo;
        while i + 1 < hi {
            let (p, q) = (&cur[i], &cur[i + 1]);
            if p.x != q.x {
                pair(i, out, false);
            } else if p.y == q.y {
                pair(i, out, true);
            } else {
                // q == −p: both go.
                i += 2;
                continue;
            }
            out += 1;
            i += 2;
        }
        if i < hi {
            next[out] = cur[i];
            out += 1;
        }
        more |= out - first > 1;
    }
    next_segs.push(out as u32);
    (out, more)
}

/// One tree level ([`walk_level`]) in arkworks arithmetic, the pairs' denominators sharing one
/// inversion.
fn level(
    cur: &[Pt],
    segs: &[u32],
    next: &mut [Pt],
    next_segs: &mut Vec<u32>,
    prods: &mut [Fq],
    pairs: &mut [(u32, u32)],
) -> (usize, bool) {
    let mut acc = Fq::one();
    let mut k = 0usize;
    let (out, more) = walk_level(cur, segs, next, next_segs, |i, dst, doubling| {
        let (p, q) = (&cur[i], &cur[i + 1]);
        let den = if doubling { p.y.double() } else { q.x - p.x };
        prods[k] = acc;
        acc *= den;
        pairs[k] = (i as u32, dst as u32);
        k += 1;
    });
    if k > 0 {
        // Every denominator is non-zero, so is their product.
        let mut inv = acc.inverse().expect("non-zero product");
        for (&(src, dst), &prod) in pairs[..k].iter().zip(&prods[..k]).rev() {
            // Here inv = 1/(den_0·…·den_j).
            let (p, q) = (&cur[src as usize], &cur[src as usize + 1]);
            let inv_j = inv * prod;
            let lambda = if p.x != q.x {
                inv *= q.x - p.x;
                (q.y - p.y) * inv_j
            } else {
                inv *= p.y.double();
                let xx = p.x.square();
                (xx.double() + xx) * inv_j
            };
            // λ·λ: a multiplication is faster than arkworks' squaring here.
            let x3 = lambda * lambda - p.x - q.x;
            let y3 = lambda * (p.x - x3) - p.y;
            next[dst as usize] = Pt { x: x3, y: y3 };
        }
    }
    (out, more)
}
