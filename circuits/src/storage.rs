//! The proof-of-storage circuit (`docs/spec/proof-of-storage.md`).
//!
//! Public inputs, in this order: the file commitment `C`, the challenge seed `s`, the prover's
//! identity `p` (an EVM address as an integer). The prover shows that it knows, for each of
//! `k` challenged chunks, the chunk's bytes and its Merkle path to the root bound in `C`:
//!
//! 1. `C = Poseidon(root, meta)` with `meta = size + 992·2^64 + 2·2^96 + 1·2^128`; the number
//!    of chunks `L = ceil(size / 992)` (`1 ≤ L ≤ 2^32`) and the tree depth
//!    `d = bit_length(L − 1)` are derived in the circuit, so one key serves every file size;
//! 2. `base = Poseidon(s, p)`; for every group `g` of three challenges
//!    `h_g = Poseidon(base, g)`, split canonically into 64-bit limbs
//!    `h_g = top·2^192 + x_2·2^128 + x_1·2^64 + x_0` (`top < r_top = ⌊r / 2^192⌋`), and
//!    challenge `j = 3g + i` is `idx_j = x_i mod L` (bias ≤ 2^−32);
//! 3. the chunk's 32 elements are hashed into its leaf by the sponge of `file-commitment.md`,
//!    the path is hashed up all 32 levels with `idx_j`'s bits, and the node at level `d` must
//!    equal `root`.
//!
//! The circuit has no lookups (range checks are bit decompositions), so that its EVM verifier
//! needs 18 scalar multiplications, not 24 (≈ 37k gas less).

use ark_bn254::Fr;
use ark_ff::{Field, One, PrimeField, Zero};
use bigfile_zk::commitment::{
    self, ChunkOpening, FileCommitment, Layout, Progress, Source, TreeFile, DEFAULT_CHUNK_SIZE,
    ELEMENT_BYTES, MAX_CHUNKS,
};
use bigfile_zk::error::{Error, Result};
use bigfile_zk::field;
use bigfile_zk::plonk::{self, Builder, Circuit, Proof, ProvingKey, Var, VerifyingKey};
use bigfile_zk::poseidon;

/// The tree depth the circuit always hashes (2^32 chunks of 992 bytes: 3.875 TiB).
pub const MAX_DEPTH: usize = 32;
/// The shipped parameter sets (challenges per proof).
pub const PARAMETER_SETS: [usize; 3] = [4, 16, 64];
/// Chunk bytes and elements of the one layout the circuit supports (992 bytes, arity 2).
pub const CHUNK_SIZE: usize = DEFAULT_CHUNK_SIZE;
const ELEMENTS: usize = CHUNK_SIZE / ELEMENT_BYTES;

/// The public statement, in the verifier's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement {
    pub commitment: Fr,
    pub seed: Fr,
    pub prover: Fr,
}

impl Statement {
    pub fn public_inputs(&self) -> [Fr; 3] {
        [self.commitment, self.seed, self.prover]
    }
}

/// One challenged chunk: its bytes (padded to 992) and the siblings of its path, level 0 first
/// (exactly the tree's depth; the circuit pads to 32 levels).
#[derive(Clone, Debug)]
pub struct Opening {
    pub data: Vec<u8>,
    pub siblings: Vec<Fr>,
}

/// What only the prover knows.
#[derive(Clone, Debug)]
pub struct Witness {
    pub root: Fr,
    pub file_size: u64,
    pub openings: Vec<Opening>,
}

/// The challenged chunk indices for `(seed, prover)` in a file of `num_chunks` chunks,
/// computed natively exactly as the circuit does.
pub fn challenges(seed: Fr, prover: Fr, k: usize, num_chunks: u64) -> Result<Vec<u64>> {
    if num_chunks == 0 || num_chunks > MAX_CHUNKS {
        return Err(Error::InvalidParameter(format!(
            "a file of {num_chunks} chunks is outside 1..={MAX_CHUNKS}"
        )));
    }
    let base = poseidon::hash2(seed, prover);
    Ok((0..k as u64)
        .map(|j| {
            let h = poseidon::hash2(base, Fr::from(j / 3)).into_bigint();
            h.0[(j % 3) as usize] % num_chunks
        })
        .collect())
}

fn pow2(k: u64) -> Fr {
    Fr::from(2u64).pow([k])
}

/// Lay out the circuit for `k` challenges. Without a witness (setup) every private value is a
/// placeholder; the rows do not depend on it.
pub fn build(
    b: &mut Builder,
    k: usize,
    statement: &Statement,
    witness: Option<&Witness>,
) -> Result<()> {
    if k == 0 {
        return Err(Error::InvalidParameter("at least one challenge".into()));
    }
    let placeholder;
    let w = match witness {
        Some(w) => w,
        None => {
            placeholder = Witness {
                root: Fr::zero(),
                file_size: 1,
                openings: vec![
                    Opening {
                        data: vec![0; CHUNK_SIZE],
                        siblings: vec![],
                    };
                    k
                ],
            };
            &placeholder
        }
    };
    if w.openings.len() != k {
        return Err(Error::InvalidParameter(format!(
            "{} chunk openings for {k} challenges",
            w.openings.len()
        )));
    }
    b.set_range_checks_by_lookup(false);
    let c = b.public_input(statement.commitment);
    let s = b.public_input(statement.seed);
    let p = b.public_input(statement.prover);

    // 1. The commitment, the chunk count L and the depth d.
    b.push_label("commitment");
    let file = file_gadget(b, w.root, w.file_size)?;
    b.assert_equal(file.commitment, c);
    b.pop_label();

    // 2. The challenge base.
    b.push_label("challenge");
    let base = b.poseidon(&[s, p])?;
    b.pop_label();

    let limbs = challenge_limbs(b, base, k, "challenges")?;
    let iv = b.constant(commitment::leaf_iv());
    let zero = b.constant(Fr::zero());
    for (j, opening) in w.openings.iter().enumerate() {
        b.push_label(&format!("challenge {j}"));
        chunk_gadget(
            b,
            &file,
            limbs[j],
            opening,
            iv,
            zero,
            &format!("challenge {j}"),
        )?;
        b.pop_label();
    }
    Ok(())
}

/// A file's variables in the circuit: its tree root, `L − 1`, `L`, the one-hot depth
/// (`depth_is[l] = [d = l]`, `l = 0..=32`) and the commitment `Poseidon(root, meta)` computed
/// from them (not yet tied to anything: the caller asserts what it must equal).
pub struct FileVars {
    pub root: Var,
    pub last: Var,
    pub count: Var,
    pub depth_is: Vec<Var>,
    pub commitment: Var,
    /// `L`, host-side (for the witness of the index reductions).
    pub num_chunks: u64,
}

/// Spec §1 for one file: the size split `(L − 1)·992 + rem` (`1 ≤ rem ≤ 992`, `L − 1 < 2^32`),
/// `meta`, `C = Poseidon(root, meta)` and the depth `d = bit_length(L − 1)` by a prefix OR.
pub fn file_gadget(b: &mut Builder, root: Fr, file_size: u64) -> Result<FileVars> {
    let layout = Layout::default();
    let num_chunks = layout.num_chunks(file_size)?;
    let root = b.input(root);
    let last = b.input(Fr::from(num_chunks - 1)); // L − 1
    let rem = b.input(Fr::from(file_size - (num_chunks - 1) * CHUNK_SIZE as u64)); // 1..=992
    let rem_m1 = b.affine(rem, Fr::one(), -Fr::one());
    b.range_check(rem_m1, 10)?;
    let slack = b.affine(rem_m1, -Fr::one(), Fr::from(CHUNK_SIZE as u64 - 1));
    b.range_check(slack, 10)?; // rem − 1 ≤ 991
    let size = b.lin2(
        last,
        Fr::from(CHUNK_SIZE as u64),
        rem,
        Fr::one(),
        Fr::zero(),
    );
    let meta_const = commitment::meta(0, &layout, commitment::SPEC_VERSION);
    let meta = b.affine(size, Fr::one(), meta_const);
    let expected = b.poseidon(&[root, meta])?;
    let count = b.affine(last, Fr::one(), Fr::one()); // L
                                                      // o_i = [L − 1 ≥ 2^i], by a prefix OR from the top bit; d = Σ o_i; [d = l] = o_{l−1} − o_l.
    let bits = b.to_bits(last, MAX_DEPTH)?;
    let mut ors = vec![bits[MAX_DEPTH - 1]];
    for i in (0..MAX_DEPTH - 1).rev() {
        // o_i = o_{i+1} ∨ b_i = o + b − o·b, one row.
        let prev = *ors.last().expect("non-empty");
        let (o, bit) = (b.value(prev), b.value(bits[i]));
        let or = b.input(o + bit - o * bit);
        b.gate(
            [Some(prev), Some(bits[i]), Some(or)],
            [-Fr::one(), Fr::one(), Fr::one(), -Fr::one(), Fr::zero()],
        );
        ors.push(or);
    }
    ors.reverse(); // ors[i] = o_i
    let one = b.constant(Fr::one());
    let depth_is: Vec<Var> = (0..=MAX_DEPTH)
        .map(|l| {
            let above = if l == 0 { one } else { ors[l - 1] };
            if l == MAX_DEPTH {
                above
            } else {
                b.sub(above, ors[l])
            }
        })
        .collect();
    Ok(FileVars {
        root,
        last,
        count,
        depth_is,
        commitment: expected,
        num_chunks,
    })
}

/// Spec §2's 64-bit limbs: for each group `g` of three, `h_g = Poseidon(base, g)` split
/// canonically as `top·2^192 + x_2·2^128 + x_1·2^64 + x_0` (`top < r_top`); returns the
/// `x_i` of the first `k` (challenge `3g + i` takes `x_i`). `label` names the groups' rows.
pub fn challenge_limbs(b: &mut Builder, base: Var, k: usize, label: &str) -> Result<Vec<Var>> {
    let r_top = Fr::from(Fr::MODULUS.0[3]);
    let mut limbs: Vec<Var> = Vec::with_capacity(k + 2);
    for g in 0..k.div_ceil(3) {
        b.push_label(&format!("{label} {}..{}", 3 * g, (3 * g + 3).min(k)));
        // h = top·2^192 + x_2·2^128 + x_1·2^64 + x_0 with top < r_top: the only split of h.
        let gv = b.constant(Fr::from(g as u64));
        let h = b.poseidon(&[base, gv])?;
        let hv = b.value(h).into_bigint();
        let x: Vec<Var> = (0..4).map(|i| b.input(Fr::from(hv.0[i]))).collect();
        for &xi in &x[..3] {
            b.range_check(xi, 64)?;
        }
        b.range_check(x[3], 62)?;
        let gap = b.affine(x[3], -Fr::one(), r_top - Fr::one());
        b.range_check(gap, 62)?;
        let terms: Vec<(Fr, Var)> = (0..4).map(|i| (pow2(64 * i as u64), x[i])).collect();
        let recomposed = b.linear_combination(&terms, Fr::zero());
        b.assert_equal(recomposed, h);
        limbs.extend_from_slice(&x[..3]);
        b.pop_label();
    }
    limbs.truncate(k);
    Ok(limbs)
}

/// `x mod n` for a 64-bit limb `x` (`x = q·n + idx`, `q < 2^64`), with `n − 1 = last`
/// (`n ≤ 2^bits`): returns `idx`'s `bits` little-endian bits (which show `idx < 2^bits`); the
/// rows also show `idx ≤ last`. Bias of `idx`: at most `n / 2^64`. The witness is `x mod n`,
/// or `claimed` (tests: a wrong claim must fail the rows).
pub fn reduce_limb(
    b: &mut Builder,
    limb: Var,
    last: Var,
    count: Var,
    n: u64,
    bits: usize,
    claimed: Option<u64>,
) -> Result<Vec<Var>> {
    let x = b.value(limb).into_bigint().0[0];
    let idx_val = claimed.unwrap_or(x % n);
    let q_val = x.saturating_sub(idx_val) / n;
    let q = b.input(Fr::from(q_val));
    let idx = b.input(Fr::from(idx_val));
    b.range_check(q, 64)?;
    // The path's bits; they also show idx < 2^bits.
    let idx_bits = b.to_bits(idx, bits)?;
    // idx < n ⇔ (n − 1) − idx ∈ [0, 2^bits), given idx < 2^bits and n ≤ 2^bits.
    let room = b.lin2(last, Fr::one(), idx, -Fr::one(), Fr::zero());
    b.range_check(room, bits)?;
    let ql = b.mul(q, count);
    let lo_again = b.add(ql, idx);
    b.assert_equal(lo_again, limb);
    Ok(idx_bits)
}

/// Spec §2–3 for one challenge of `file`: `idx = limb mod L`, the chunk's leaf by the sponge,
/// its path hashed up all 32 levels with `idx`'s bits, and the node at level `d` equal to the
/// file's root. `what` names the challenge in errors.
pub fn chunk_gadget(
    b: &mut Builder,
    file: &FileVars,
    limb: Var,
    opening: &Opening,
    iv: Var,
    zero: Var,
    what: &str,
) -> Result<()> {
    let idx_bits = reduce_limb(
        b,
        limb,
        file.last,
        file.count,
        file.num_chunks,
        MAX_DEPTH,
        None,
    )?;

    // The leaf: the sponge over the chunk's 32 elements.
    if opening.data.len() != CHUNK_SIZE {
        return Err(Error::InvalidParameter(format!(
            "{what}: a chunk is {CHUNK_SIZE} bytes (padded), not {}",
            opening.data.len()
        )));
    }
    b.push_label("leaf");
    let mut state = [iv, zero, zero];
    for pair in opening.data.chunks(2 * ELEMENT_BYTES) {
        let e0 = b.input(field::from_be_bytes_short(&pair[..ELEMENT_BYTES]));
        let e1 = b.input(field::from_be_bytes_short(&pair[ELEMENT_BYTES..]));
        state = b.poseidon_absorb3(state, e0, e1);
    }
    b.pop_label();
    debug_assert_eq!(opening.data.len() / ELEMENT_BYTES, ELEMENTS);

    // The path, hashed up all 32 levels; the node at level d is the root.
    if opening.siblings.len() > MAX_DEPTH {
        return Err(Error::InvalidParameter(format!(
            "{what}: a path of {} levels exceeds {MAX_DEPTH}",
            opening.siblings.len()
        )));
    }
    b.push_label("path");
    let mut nodes = vec![state[0]];
    for (l, bit) in idx_bits.iter().enumerate() {
        let sib = b.input(opening.siblings.get(l).copied().unwrap_or_default());
        let cur = *nodes.last().expect("non-empty");
        nodes.push(b.merkle_level(cur, *bit, sib));
    }
    let mut picked = Vec::with_capacity(MAX_DEPTH + 1);
    for (l, node) in nodes.iter().enumerate() {
        picked.push(b.mul(file.depth_is[l], *node));
    }
    let terms: Vec<(Fr, Var)> = picked.into_iter().map(|v| (Fr::one(), v)).collect();
    let at_depth = b.linear_combination(&terms, Fr::zero());
    b.assert_equal(at_depth, file.root);
    b.pop_label();
    Ok(())
}

/// The circuit of parameter set `k` (its shape: the same for every statement and file).
pub fn circuit(k: usize) -> Result<Circuit> {
    check_k(k)?;
    let mut b = Builder::new();
    let placeholder = Statement {
        commitment: Fr::zero(),
        seed: Fr::zero(),
        prover: Fr::zero(),
    };
    build(&mut b, k, &placeholder, None)?;
    Ok(b.build()?.0)
}

/// The keys of parameter set `k` for `srs` (deterministic: the circuit's shape only).
pub fn setup(k: usize, srs: &bigfile_zk::srs::Srs) -> Result<(ProvingKey, VerifyingKey)> {
    plonk::setup(&circuit(k)?, srs)
}

/// Parameter set `k`'s proving key from a cache file ([`ProvingKey::save_cache`]), checked
/// against the storage circuit and `srs` before it is returned ([`ProvingKey::read_cache`]).
pub fn load_key(
    path: &std::path::Path,
    k: usize,
    srs: &bigfile_zk::srs::Srs,
) -> Result<ProvingKey> {
    ProvingKey::load_cache(path, &circuit(k)?, srs)
}

/// Whether `pk` is parameter set `k`'s proving key for `srs` (e.g. one loaded from a cache
/// written by another version, or by someone else): the storage circuit exactly, and every
/// commitment made with `srs` ([`ProvingKey::check_srs`]); an error says what differs.
pub fn check_key(pk: &ProvingKey, k: usize, srs: &bigfile_zk::srs::Srs) -> Result<()> {
    if let Some(diff) = pk.circuit.difference(&circuit(k)?) {
        return Err(Error::InvalidParameter(format!(
            "this proving key is not the storage circuit for k = {k} ({diff})"
        )));
    }
    pk.check_srs(srs)
}

/// One of the shipped parameter sets.
pub fn check_k(k: usize) -> Result<()> {
    if PARAMETER_SETS.contains(&k) {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "unknown parameter set k = {k}: the shipped ones are k = 4, 16 and 64 challenges"
        )))
    }
}

/// Where the committed file's bytes are read from.
#[derive(Clone, Copy)]
pub enum FileInput<'a> {
    /// A file on disk, checked not to change while it is read.
    Path(&'a std::path::Path),
    /// Any [`Source`] (e.g. a Python reader), named in errors by the path.
    Source(&'a dyn Source, &'a std::path::Path),
}

/// Prove storage of the committed file for `(seed, prover)`, reading only the challenged
/// chunks with a tree file (and the whole file once without one). Errors name the first
/// chunk that no longer matches the commitment. `progress`: see [`reading_total`].
#[allow(clippy::too_many_arguments)] // the statement, the file, and how to prove: all needed
pub fn prove(
    pk: &ProvingKey,
    k: usize,
    file: FileInput<'_>,
    c: &FileCommitment,
    seed: Fr,
    prover: Fr,
    tree: Option<&std::path::Path>,
    blinding: &[Fr],
    progress: Progress<'_>,
) -> Result<Proof> {
    check_layout(k, c)?;
    let indices = challenges(seed, prover, k, c.num_chunks())?;
    let openings = match file {
        FileInput::Path(path) => commitment::open_file_many(path, c, &indices, tree, progress)?,
        FileInput::Source(src, name) => {
            let tree = tree.map(|t| TreeFile::open(t, c)).transpose()?;
            commitment::open_many(src, name, c, &indices, tree.as_ref(), progress)?
        }
    };
    let read = reading_total(k, c, tree.is_some());
    prove_openings(pk, k, c, seed, prover, openings, blinding, &mut |step| {
        progress(read + step)
    })
}

/// What the reading phase of [`prove`] counts up to: `k` openings with a tree file, the
/// file's bytes without one. The proving phase then reports `reading_total + step` for
/// `step` in `1..=plonk::PROVE_STEPS`.
pub fn reading_total(k: usize, c: &FileCommitment, with_tree: bool) -> u64 {
    if with_tree {
        k as u64
    } else {
        c.file_size
    }
}

fn check_layout(k: usize, c: &FileCommitment) -> Result<()> {
    check_k(k)?;
    if c.layout != Layout::default() {
        return Err(Error::InvalidParameter(format!(
            "the storage circuit proves files committed with 992-byte chunks and arity 2, \
             not chunk_size {} / arity {}",
            c.layout.chunk_size, c.layout.arity
        )));
    }
    Ok(())
}

/// The proof for verified openings of the challenged chunks (in challenge order).
#[allow(clippy::too_many_arguments)] // the statement, the openings, and how to prove
fn prove_openings(
    pk: &ProvingKey,
    k: usize,
    c: &FileCommitment,
    seed: Fr,
    prover: Fr,
    openings: Vec<ChunkOpening>,
    blinding: &[Fr],
    progress: Progress<'_>,
) -> Result<Proof> {
    let statement = Statement {
        commitment: c.commitment,
        seed,
        prover,
    };
    let openings = openings
        .into_iter()
        .map(|o| {
            let mut data = o.data;
            data.resize(CHUNK_SIZE, 0);
            Opening {
                data,
                siblings: o.proof.siblings,
            }
        })
        .collect();
    let witness = Witness {
        root: c.root,
        file_size: c.file_size,
        openings,
    };
    let mut b = Builder::new();
    build(&mut b, k, &statement, Some(&witness))?;
    let (circuit, w) = b.build()?;
    if let Some(diff) = pk.circuit.difference(&circuit) {
        return Err(Error::InvalidParameter(format!(
            "this proving key is not the storage circuit for k = {k} ({diff})"
        )));
    }
    plonk::prove_with_progress(pk, &w, blinding, progress)
}
