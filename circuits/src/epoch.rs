//! The epoch proof-of-storage circuit (`docs/spec/proof-of-storage-epoch.md`): one proof per
//! provider per epoch over its whole catalogue of files.
//!
//! Public inputs, in this order: the catalogue commitment `K`, the epoch seed `s`, the provider
//! `p` (an EVM address as an integer). The catalogue is a binary Poseidon Merkle tree of fixed
//! depth 16 whose leaf at slot `i` is the file commitment `C_i` (`0`: an empty slot), and
//! `K = Poseidon(treeRoot, count)` with `count` (`1 ≤ count ≤ 2^16`) the slots in use. The
//! prover shows, for `m` sampled slots and `k` challenged chunks in each:
//!
//! 1. `K = Poseidon(treeRoot, count)`, `count − 1 < 2^16`;
//! 2. `base = Poseidon(s, p)`; slot `j` is `x_j mod count` for the 64-bit limbs `x_j` of
//!    `Poseidon(base, g)` split exactly as the single-file circuit's challenges
//!    (`slots(s, p, m, count) = storage::challenges(s, p, m, count)`);
//! 3. the slot's leaf opens to `treeRoot` along the slot's 16 bits; `e = [leaf = 0]` (an
//!    is-zero gadget on the opened leaf);
//! 4. a file `(root_f, size_f)` with `leaf = (1 − e)·Poseidon(root_f, meta_f)`: the sampled file
//!    itself, or for an empty slot a dummy file (one zero chunk) whose checks pass trivially;
//! 5. the file's `k` chunks at `storage::challenges(s_j, p, k, L_f)` with the sample seed
//!    `s_j = Poseidon(base, 2^64 + j)`, checked as the single-file circuit does (leaf sponge,
//!    32-level path, node at the file's depth equals `root_f`).

use crate::storage::{self, FileVars, Opening, CHUNK_SIZE};
use ark_bn254::Fr;
use ark_ff::{One, Zero};
use bigfile_zk::commitment::{self, ChunkOpening, FileCommitment, Layout};
use bigfile_zk::error::{Error, Result};
use bigfile_zk::plonk::{self, Builder, Circuit, Proof, ProvingKey, VerifyingKey};
use bigfile_zk::poseidon;

/// The catalogue tree's depth (fixed: the circuit always hashes 16 levels).
pub const CATALOGUE_DEPTH: usize = crate::catalogue::DEPTH;
/// Slots of a catalogue (`2^16`).
pub const MAX_FILES: u64 = crate::catalogue::SLOTS;
/// The shipped parameter sets `(m, k)`: `m` sampled files, `k` chunks challenged in each.
/// The first is the default.
pub const PARAMETER_SETS: [(usize, usize); 2] = [(40, 1), (80, 1)];
/// Sample seeds hash `2^64 + j`, never a group index `g < 2^64` of the slot derivation.
const SAMPLE_TAG: u128 = 1 << 64;

/// The public statement, in the verifier's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement {
    pub catalogue: Fr,
    pub seed: Fr,
    pub prover: Fr,
}

impl Statement {
    pub fn public_inputs(&self) -> [Fr; 3] {
        [self.catalogue, self.seed, self.prover]
    }
}

/// `K = Poseidon(treeRoot, count)`.
pub fn catalogue_commitment(tree_root: Fr, count: u64) -> Fr {
    poseidon::hash2(tree_root, Fr::from(count))
}

fn check_count(count: u64) -> Result<()> {
    if count == 0 || count > MAX_FILES {
        return Err(Error::InvalidParameter(format!(
            "a catalogue of {count} slots is outside 1..={MAX_FILES}"
        )));
    }
    Ok(())
}

/// A provider's catalogue (`storage-catalogue.md`): the same tree the update circuit keeps.
pub use crate::catalogue::Catalogue;

/// The `m` sampled slots for `(seed, prover)` in a catalogue of `count` slots (storage's
/// challenge derivation with `count` in place of the chunk count).
pub fn slots(seed: Fr, prover: Fr, m: usize, count: u64) -> Result<Vec<u64>> {
    check_count(count)?;
    storage::challenges(seed, prover, m, count)
}

/// Sample `j`'s seed `s_j = Poseidon(Poseidon(s, p), 2^64 + j)`.
pub fn sample_seed(seed: Fr, prover: Fr, j: usize) -> Fr {
    poseidon::hash2(
        poseidon::hash2(seed, prover),
        Fr::from(SAMPLE_TAG + j as u128),
    )
}

/// The `k` chunks challenged in sample `j`'s file of `num_chunks` chunks:
/// `storage::challenges(s_j, p, k, num_chunks)`.
pub fn chunk_challenges(
    seed: Fr,
    prover: Fr,
    j: usize,
    k: usize,
    num_chunks: u64,
) -> Result<Vec<u64>> {
    storage::challenges(sample_seed(seed, prover, j), prover, k, num_chunks)
}

/// A sampled file's private part: its tree root, size and the `k` challenged chunks.
#[derive(Clone, Debug)]
pub struct FileWitness {
    pub root: Fr,
    pub file_size: u64,
    pub openings: Vec<Opening>,
}

/// The file an empty slot's sample checks instead: one zero chunk (size 992, depth 0), whose
/// every challenge is chunk 0 with no siblings.
pub fn dummy_file(k: usize) -> FileWitness {
    let data = vec![0u8; CHUNK_SIZE];
    FileWitness {
        root: commitment::leaf_hash(&data),
        file_size: CHUNK_SIZE as u64,
        openings: vec![
            Opening {
                data,
                siblings: vec![]
            };
            k
        ],
    }
}

/// One sample: the slot the prover opens (honestly `slots(…)[j]`), its leaf, its 16 catalogue
/// siblings, and the file (replaced by [`dummy_file`] when `None`: an empty slot's).
#[derive(Clone, Debug)]
pub struct Sample {
    pub slot: u64,
    pub leaf: Fr,
    pub path: Vec<Fr>,
    pub file: Option<FileWitness>,
}

/// What only the prover knows.
#[derive(Clone, Debug)]
pub struct Witness {
    pub tree_root: Fr,
    pub count: u64,
    pub samples: Vec<Sample>,
}

/// Lay out the circuit for `m` samples of `k` chunks. Without a witness (setup) every private
/// value is a placeholder; the rows do not depend on it.
pub fn build(
    b: &mut Builder,
    m: usize,
    k: usize,
    statement: &Statement,
    witness: Option<&Witness>,
) -> Result<()> {
    if m == 0 || k == 0 {
        return Err(Error::InvalidParameter(
            "at least one sample and one challenge per sample".into(),
        ));
    }
    let placeholder;
    let w = match witness {
        Some(w) => w,
        None => {
            placeholder = Witness {
                tree_root: Fr::zero(),
                count: 1,
                samples: vec![
                    Sample {
                        slot: 0,
                        leaf: Fr::zero(),
                        path: vec![Fr::zero(); CATALOGUE_DEPTH],
                        file: None,
                    };
                    m
                ],
            };
            &placeholder
        }
    };
    check_count(w.count)?;
    if w.samples.len() != m {
        return Err(Error::InvalidParameter(format!(
            "{} samples for m = {m}",
            w.samples.len()
        )));
    }
    let dummy = dummy_file(k);

    b.set_range_checks_by_lookup(false);
    let kv = b.public_input(statement.catalogue);
    let s = b.public_input(statement.seed);
    let p = b.public_input(statement.prover);

    // 1. The catalogue commitment.
    b.push_label("catalogue");
    let tree_root = b.input(w.tree_root);
    let count = b.input(Fr::from(w.count));
    let last = b.affine(count, Fr::one(), -Fr::one());
    b.range_check(last, CATALOGUE_DEPTH)?; // 1 ≤ count ≤ 2^16
    let expected = b.poseidon(&[tree_root, count])?;
    b.assert_equal(expected, kv);
    b.pop_label();

    // 2. The slots.
    b.push_label("slots");
    let base = b.poseidon(&[s, p])?;
    b.pop_label();
    let slot_limbs = storage::challenge_limbs(b, base, m, "slots")?;

    let iv = b.constant(commitment::leaf_iv());
    let zero = b.constant(Fr::zero());
    for (j, sample) in w.samples.iter().enumerate() {
        b.push_label(&format!("sample {j}"));
        // 3. The slot's leaf in the catalogue; slot < count.
        b.push_label("catalogue path");
        let bits = storage::reduce_limb(
            b,
            slot_limbs[j],
            last,
            count,
            w.count,
            CATALOGUE_DEPTH,
            Some(sample.slot),
        )?;
        if sample.path.len() != CATALOGUE_DEPTH {
            return Err(Error::InvalidParameter(format!(
                "sample {j}: a catalogue path has {CATALOGUE_DEPTH} siblings, not {}",
                sample.path.len()
            )));
        }
        let leaf = b.input(sample.leaf);
        let mut node = leaf;
        for (bit, sib) in bits.iter().zip(&sample.path) {
            let sib = b.input(*sib);
            node = b.merkle_level(node, *bit, sib);
        }
        b.assert_equal(node, tree_root);
        let empty = b.is_zero(leaf);
        b.pop_label();

        // 4. The file behind the leaf: leaf = (1 − e)·C_f.
        let fw = sample.file.as_ref().unwrap_or(&dummy);
        if fw.openings.len() != k {
            return Err(Error::InvalidParameter(format!(
                "sample {j}: {} chunk openings for k = {k}",
                fw.openings.len()
            )));
        }
        b.push_label("file");
        let file: FileVars = storage::file_gadget(b, fw.root, fw.file_size)?;
        let gone = b.mul(empty, file.commitment);
        let linked = b.sub(file.commitment, gone);
        b.assert_equal(linked, leaf);
        b.pop_label();

        // 5. Its chunks, challenged from the sample seed.
        b.push_label("sample seed");
        let tag = b.constant(Fr::from(SAMPLE_TAG + j as u128));
        let sj = b.poseidon(&[base, tag])?;
        let base_j = b.poseidon(&[sj, p])?;
        b.pop_label();
        let limbs = storage::challenge_limbs(b, base_j, k, "challenges")?;
        for (i, opening) in fw.openings.iter().enumerate() {
            b.push_label(&format!("challenge {i}"));
            storage::chunk_gadget(
                b,
                &file,
                limbs[i],
                opening,
                iv,
                zero,
                &format!("sample {j} challenge {i}"),
            )?;
            b.pop_label();
        }
        b.pop_label();
    }
    Ok(())
}

/// One of the shipped parameter sets.
pub fn check_params(m: usize, k: usize) -> Result<()> {
    if PARAMETER_SETS.contains(&(m, k)) {
        Ok(())
    } else {
        let sets: Vec<String> = PARAMETER_SETS
            .iter()
            .map(|(m, k)| format!("(m = {m}, k = {k})"))
            .collect();
        Err(Error::InvalidParameter(format!(
            "unknown epoch parameter set (m = {m}, k = {k}): the shipped ones are {}",
            sets.join(", ")
        )))
    }
}

/// The circuit of parameter set `(m, k)` (the same shape for every statement and catalogue).
pub fn circuit(m: usize, k: usize) -> Result<Circuit> {
    check_params(m, k)?;
    circuit_unchecked(m, k)
}

/// The circuit for any `(m, k)` (tests and measurements; keys are only made for shipped sets).
pub fn circuit_unchecked(m: usize, k: usize) -> Result<Circuit> {
    let mut b = Builder::new();
    let placeholder = Statement {
        catalogue: Fr::zero(),
        seed: Fr::zero(),
        prover: Fr::zero(),
    };
    build(&mut b, m, k, &placeholder, None)?;
    Ok(b.build()?.0)
}

/// The keys of parameter set `(m, k)` for `srs` (deterministic: the circuit's shape only).
pub fn setup(m: usize, k: usize, srs: &bigfile_zk::srs::Srs) -> Result<(ProvingKey, VerifyingKey)> {
    plonk::setup(&circuit(m, k)?, srs)
}

/// Parameter set `(m, k)`'s proving key from a cache file ([`ProvingKey::save_cache`]),
/// checked against the epoch circuit and `srs` before it is returned.
pub fn load_key(
    path: &std::path::Path,
    m: usize,
    k: usize,
    srs: &bigfile_zk::srs::Srs,
) -> Result<ProvingKey> {
    ProvingKey::load_cache(path, &circuit(m, k)?, srs)
}

/// Whether `pk` is parameter set `(m, k)`'s proving key for `srs`; an error says what differs.
pub fn check_key(pk: &ProvingKey, m: usize, k: usize, srs: &bigfile_zk::srs::Srs) -> Result<()> {
    if let Some(diff) = pk.circuit.difference(&circuit(m, k)?) {
        return Err(Error::InvalidParameter(format!(
            "this proving key is not the epoch circuit for (m = {m}, k = {k}) ({diff})"
        )));
    }
    pk.check_srs(srs)
}

/// Where an honest prover finds the files of its catalogue.
pub trait Files {
    /// The commitment (root, size, layout) of the file in `slot`.
    fn commitment(&mut self, slot: u64) -> Result<FileCommitment>;
    /// The chunks at `indices` of that file, with their paths (checked against `c` here).
    fn open(&mut self, slot: u64, c: &FileCommitment, indices: &[u64])
        -> Result<Vec<ChunkOpening>>;
}

/// The witness of an honest provider: for each sampled slot its catalogue path and, for a
/// non-empty slot, the file (whose commitment must be the slot's leaf) and its challenged
/// chunks. Reads only the sampled files' challenged chunks.
pub fn witness(
    catalogue: &Catalogue,
    seed: Fr,
    prover: Fr,
    m: usize,
    k: usize,
    files: &mut dyn Files,
) -> Result<Witness> {
    check_count(catalogue.count())?;
    let slots = slots(seed, prover, m, catalogue.count())?;
    let mut samples = Vec::with_capacity(m);
    for (j, &slot) in slots.iter().enumerate() {
        let leaf = catalogue.leaf(slot)?;
        let path = catalogue.siblings(slot)?;
        let file = if leaf.is_zero() {
            None
        } else {
            Some(open_sample(seed, prover, j, k, slot, leaf, files)?)
        };
        samples.push(Sample {
            slot,
            leaf,
            path,
            file,
        });
    }
    Ok(Witness {
        tree_root: catalogue.root(),
        count: catalogue.count(),
        samples,
    })
}

fn open_sample(
    seed: Fr,
    prover: Fr,
    j: usize,
    k: usize,
    slot: u64,
    leaf: Fr,
    files: &mut dyn Files,
) -> Result<FileWitness> {
    let c = files.commitment(slot)?;
    if c.commitment != leaf {
        return Err(Error::InvalidParameter(format!(
            "slot {slot}: the file given is not the one in the catalogue"
        )));
    }
    if c.layout != Layout::default() {
        return Err(Error::InvalidParameter(format!(
            "slot {slot}: the epoch circuit proves files committed with 992-byte chunks and \
             arity 2"
        )));
    }
    let indices = chunk_challenges(seed, prover, j, k, c.num_chunks())?;
    let openings = files.open(slot, &c, &indices)?;
    if openings.len() != k {
        return Err(Error::InvalidParameter(format!(
            "slot {slot}: {} openings for {k} challenges",
            openings.len()
        )));
    }
    Ok(FileWitness {
        root: c.root,
        file_size: c.file_size,
        openings: openings
            .into_iter()
            .map(|o| {
                let mut data = o.data;
                data.resize(CHUNK_SIZE, 0);
                Opening {
                    data,
                    siblings: o.proof.siblings,
                }
            })
            .collect(),
    })
}

/// The proof of `witness` for `statement` with parameter set `(m, k)`; the proving key must be
/// that set's (its circuit is compared first).
pub fn prove(
    pk: &ProvingKey,
    m: usize,
    k: usize,
    statement: &Statement,
    witness: &Witness,
    blinding: &[Fr],
    progress: commitment::Progress<'_>,
) -> Result<Proof> {
    check_params(m, k)?;
    let mut b = Builder::new();
    build(&mut b, m, k, statement, Some(witness))?;
    let (circuit, w) = b.build()?;
    if let Some(diff) = pk.circuit.difference(&circuit) {
        return Err(Error::InvalidParameter(format!(
            "this proving key is not the epoch circuit for (m = {m}, k = {k}) ({diff})"
        )));
    }
    plonk::prove_with_progress(pk, &w, blinding, progress)
}
