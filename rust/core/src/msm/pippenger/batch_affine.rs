//! Bucket accumulation in affine coordinates with batched inversions.
//!
//! Adding `P = (x2, y2)` into an affine bucket `B = (x1, y1)` needs `λ = (y2 − y1)/(x2 − x1)`; the
//! divisions of a whole batch share one field inversion (Montgomery's trick), which leaves
//! 5 multiplications and 1 squaring per addition against about 10 for a mixed XYZZ addition.
//!
//! The price is a schedule: a bucket may take part in one addition per batch (its value is only
//! known once the batch is done), so a point whose bucket is already pending waits in a queue and
//! enters a later batch. The degenerate cases are settled when a point is scheduled, while the
//! bucket value is still final: `P == B` becomes a doubling (`λ = 3x1²/2y1`, `y1 ≠ 0` on a curve of
//! odd order), `P == −B` empties the bucket at once. Should the queue grow (inputs with many equal
//! digits, e.g. the same point and scalar many times), its points go to projective (XYZZ)
//! overflow buckets instead, which are folded in during the reduction.

use ark_bn254::{g1::Config, Fq, G1Affine};
use ark_ec::short_weierstrass::Bucket;
use ark_ff::{AdditiveGroup, Field};

/// An affine point without an infinity flag (emptiness is tracked beside it). 64-byte alignment
/// keeps a bucket in one cache line: bucket reads are random accesses.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
#[repr(C, align(64))]
pub struct Pt {
    pub x: Fq,
    pub y: Fq,
}

impl std::ops::Neg for Pt {
    type Output = Pt;

    #[inline(always)]
    fn neg(self) -> Pt {
        Pt {
            x: self.x,
            y: -self.y,
        }
    }
}

impl Pt {
    #[inline(always)]
    pub fn to_affine(self) -> G1Affine {
        G1Affine::new_unchecked(self.x, self.y)
    }
}

/// One scheduled addition `bucket[idx] += (x2, ·)` with `λ = num/den`.
#[derive(Clone, Copy)]
struct Entry {
    den: Fq,
    num: Fq,
    /// `x2` of the addend (`x1` for a doubling): `x3 = λ² − x1 − x2`.
    x2: Fq,
    /// `den` times the previous entries' (Montgomery's trick).
    prod: Fq,
    idx: u32,
}

const EMPTY: u8 = 0;
const FULL: u8 = 1;
/// Full and the target of an addition in the current batch.
const PENDING: u8 = 2;

/// The buckets of one window for one task, plus the batch being built.
pub struct Accumulator {
    batch_size: usize,
    queue_max: usize,
    buckets: Vec<Pt>,
    state: Vec<u8>,
    /// The current batch.
    batch: Vec<Entry>,
    queue: Vec<(u32, Pt)>,
    spare: Vec<(u32, Pt)>,
    /// Lazily allocated XYZZ buckets for the queue's overflow.
    overflow: Vec<Bucket<Config>>,
    overflow_used: bool,
}

impl Accumulator {
    pub fn new(num_buckets: usize, batch_size: usize) -> Self {
        Accumulator {
            batch_size,
            queue_max: batch_size,
            buckets: vec![Pt::default(); num_buckets],
            state: vec![EMPTY; num_buckets],
            batch: Vec::with_capacity(batch_size),
            queue: Vec::new(),
            spare: Vec::new(),
            overflow: Vec::new(),
            overflow_used: false,
        }
    }

    pub fn num_buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Schedules `bucket[k] += p`.
    #[inline(always)]
    pub fn add(&mut self, k: u32, p: Pt) {
        self.insert(k, p);
        if self.batch.len() == self.batch_size {
            self.flush();
            self.drain_queue();
        }
    }

    #[inline(always)]
    fn insert(&mut self, k: u32, p: Pt) {
        let ku = k as usize;
        match self.state[ku] {
            EMPTY => {
                self.buckets[ku] = p;
                self.state[ku] = FULL;
            }
            PENDING => {
                self.queue.push((k, p));
                if self.queue.len() > self.queue_max {
                    self.spill_queue();
                }
            }
            _ => {
                let b = self.buckets[ku];
                let (den, num, x2) = if b.x != p.x {
                    (p.x - b.x, p.y - b.y, p.x)
                } else if b.y == p.y {
                    let x1sq = b.x.square();
                    (b.y.double(), x1sq.double() + x1sq, b.x)
                } else {
                    // p == −b: the bucket becomes the identity.
                    self.state[ku] = EMPTY;
                    return;
                };
                let prod = match self.batch.last() {
                    Some(last) => last.prod * den,
                    None => den,
                };
                self.state[ku] = PENDING;
                self.batch.push(Entry {
                    den,
                    num,
                    x2,
                    prod,
                    idx: k,
                });
            }
        }
    }

    /// Performs the scheduled additions with one inversion.
    fn flush(&mut self) {
        let Some(last) = self.batch.last() else {
            return;
        };
        // Every denominator is non-zero (x2 ≠ x1, or 2·y1 with y1 ≠ 0), so is their product.
        let mut inv = last.prod.inverse().expect("non-zero product");
        for j in (0..self.batch.len()).rev() {
            // Here inv = 1/(den_0·…·den_j).
            let e = self.batch[j];
            let inv_j = if j > 0 {
                inv * self.batch[j - 1].prod
            } else {
                inv
            };
            inv *= e.den;
            let lambda = e.num * inv_j;
            let k = e.idx as usize;
            let b = &mut self.buckets[k];
            // λ·λ: a multiplication is faster than arkworks' squaring here.
            let x3 = lambda * lambda - b.x - e.x2;
            b.y = lambda * (b.x - x3) - b.y;
            b.x = x3;
            self.state[k] = FULL;
        }
        self.batch.clear();
    }

    /// Re-schedules the queued points (those that still collide go back to the queue).
    fn drain_queue(&mut self) {
        if self.queue.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.spare);
        std::mem::swap(&mut pending, &mut self.queue);
        for &(k, p) in &pending {
            self.insert(k, p);
            if self.batch.len() == self.batch_size {
                self.flush();
            }
        }
        pending.clear();
        self.spare = pending;
    }

    /// Moves every queued point into the XYZZ overflow buckets.
    fn spill_queue(&mut self) {
        if self.overflow.is_empty() {
            self.overflow = vec![Bucket::ZERO; self.buckets.len()];
        }
        self.overflow_used = true;
        for &(k, p) in &self.queue {
            self.overflow[k as usize] += p.to_affine();
        }
        self.queue.clear();
    }

    /// Completes every scheduled addition.
    pub fn finish(&mut self) {
        self.flush();
        self.drain_queue();
        self.flush();
        if !self.queue.is_empty() {
            self.spill_queue();
        }
    }

    /// Drops everything accumulated (after a cancellation), ready for another window.
    pub fn clear(&mut self) {
        self.state.fill(EMPTY);
        self.batch.clear();
        self.queue.clear();
        if self.overflow_used {
            self.overflow.fill(Bucket::ZERO);
            self.overflow_used = false;
        }
    }

    /// `(Σ (k+1)·bucket[k], Σ bucket[k])` by a running sum from the top bucket down, then
    /// empties the buckets. Call after [`Accumulator::finish`].
    pub fn reduce(&mut self) -> (Bucket<Config>, Bucket<Config>) {
        let mut running = Bucket::<Config>::ZERO;
        let mut sum = Bucket::<Config>::ZERO;
        let overflow = self.overflow_used;
        for k in (0..self.buckets.len()).rev() {
            if self.state[k] != EMPTY {
                running += self.buckets[k].to_affine();
            }
            if overflow && !self.overflow[k].is_zero() {
                running += &self.overflow[k];
                self.overflow[k] = Bucket::ZERO;
            }
            sum += &running;
        }
        self.state.fill(EMPTY);
        self.overflow_used = false;
        (sum, running)
    }
}
