//! Poseidon Merkle trees of arity 2, 4, 8 and 16 (docs/spec/merkle.md).
//!
//! * [`MerkleTree`]: all levels in memory, built level by level in parallel;
//! * [`MerkleProof`] / [`MerkleMultiProof`]: single and shared-sibling proofs, with byte and JSON
//!   encodings whose decoders validate everything;
//! * [`IncrementalMerkleTree`]: append-only, same roots and proofs as the full tree;
//! * [`Frontier`]: the right edge only (`O(depth·arity)` memory), for streaming commitments.
//!
//! Depth is the least `d` with `arity^d >= n`; missing positions hold `0`, and a subtree made
//! only of padding is never hashed (its root is a precomputed zero hash).

use crate::error::{Error, Result};
use crate::field::{self, Fr};
use crate::poseidon;
use ark_ff::Zero;
use rayon::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The supported arities.
pub const ARITIES: [usize; 4] = [2, 4, 8, 16];

fn check_depth(arity: usize, depth: u32) -> Result<()> {
    if depth > max_depth(arity) {
        return Err(Error::param(format!(
            "depth {depth} is larger than {} for arity {arity}",
            max_depth(arity)
        )));
    }
    Ok(())
}

/// Check that `arity` is one of [`ARITIES`].
pub fn check_arity(arity: usize) -> Result<()> {
    if ARITIES.contains(&arity) {
        Ok(())
    } else {
        Err(Error::param(format!(
            "Merkle arity {arity} is not supported (use 2, 4, 8 or 16)"
        )))
    }
}

/// Largest depth with `arity^depth <= 2^64` (positions fit in a `u64` index space).
pub fn max_depth(arity: usize) -> u32 {
    64 / arity.trailing_zeros()
}

/// Number of leaf positions of a tree of this depth (`arity^depth`, may be `2^64`).
pub fn capacity(arity: usize, depth: u32) -> u128 {
    (arity as u128).pow(depth)
}

/// The least `d >= 0` with `arity^d >= n` (`n >= 1`).
pub fn depth_for(n: u64, arity: usize) -> u32 {
    let mut d = 0;
    while capacity(arity, d) < n as u128 {
        d += 1;
    }
    d
}

/// One node: Poseidon over its children (`t = arity + 1`).
#[inline]
pub fn hash_node(children: &[Fr]) -> Fr {
    if children.len() == 2 {
        poseidon::hash2(children[0], children[1])
    } else {
        poseidon::hash(children).expect("arity is 2..=16")
    }
}

/// `Z_0 = 0`, `Z_{l+1} = H(Z_l, …, Z_l)`: roots of all-padding subtrees, up to
/// [`max_depth`] (cached per arity).
pub fn zero_hashes(arity: usize) -> Result<&'static [Fr]> {
    check_arity(arity)?;
    static CACHE: [OnceLock<Vec<Fr>>; 4] = [const { OnceLock::new() }; 4];
    let slot = ARITIES.iter().position(|&a| a == arity).expect("checked");
    Ok(CACHE[slot].get_or_init(|| {
        let mut z = vec![Fr::zero()];
        for _ in 0..max_depth(arity) {
            let last = *z.last().expect("non-empty");
            z.push(hash_node(&vec![last; arity]));
        }
        z
    }))
}

/// The node above `nodes` (one level up), padding missing children with `zero`.
/// Full groups are hashed eight at a time where the vector path is available.
fn parent_level(nodes: &[Fr], arity: usize, zero: Fr) -> Vec<Fr> {
    let full = nodes.len() / arity;
    let mut out = vec![Fr::zero(); nodes.len().div_ceil(arity)];
    out[..full]
        .par_chunks_mut(64)
        .zip(nodes[..full * arity].par_chunks(64 * arity))
        .for_each(|(o, c)| poseidon::hash_many_serial(c, arity, o).expect("arity checked"));
    if full < out.len() {
        let mut padded = nodes[full * arity..].to_vec();
        padded.resize(arity, zero);
        out[full] = hash_node(&padded);
    }
    out
}

/// Levels `1..=depth` of a subtree of exactly `depth` levels over `leaves`
/// (`leaves.len() <= arity^depth`), built in parallel; the last level holds the root.
pub fn subtree_levels(leaves: &[Fr], arity: usize, depth: u32) -> Result<Vec<Vec<Fr>>> {
    check_arity(arity)?;
    check_depth(arity, depth)?;
    if leaves.len() as u128 > capacity(arity, depth) {
        return Err(Error::param(format!(
            "{} leaves do not fit in a subtree of depth {depth}",
            leaves.len()
        )));
    }
    let zeros = zero_hashes(arity)?;
    let mut levels: Vec<Vec<Fr>> = Vec::with_capacity(depth as usize);
    for &zero in &zeros[..depth as usize] {
        let below = levels.last().map_or(leaves, Vec::as_slice);
        let next = if below.is_empty() {
            Vec::new()
        } else {
            parent_level(below, arity, zero)
        };
        levels.push(next);
    }
    Ok(levels)
}

/// Root of a subtree of exactly `depth` levels over `leaves` (padding with zeros).
pub fn subtree_root(leaves: &[Fr], arity: usize, depth: u32) -> Result<Fr> {
    let levels = subtree_levels(leaves, arity, depth)?;
    let top = levels.last().map_or(leaves, Vec::as_slice);
    Ok(top
        .first()
        .copied()
        .unwrap_or(zero_hashes(arity)?[depth as usize]))
}

// ---------------------------------------------------------------------------------------------
// Full tree
// ---------------------------------------------------------------------------------------------

/// A Merkle tree with every level in memory.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    arity: usize,
    /// `levels[0]` are the `n` leaves; `levels[l]` has `ceil(n / arity^l)` nodes.
    levels: Vec<Vec<Fr>>,
}

impl MerkleTree {
    /// Build the tree over `leaves` (at least one) in parallel.
    pub fn new(leaves: Vec<Fr>, arity: usize) -> Result<Self> {
        check_arity(arity)?;
        if leaves.is_empty() {
            return Err(Error::param("a Merkle tree needs at least one leaf"));
        }
        let depth = depth_for(leaves.len() as u64, arity);
        let zeros = zero_hashes(arity)?;
        let mut levels = vec![leaves];
        for l in 0..depth as usize {
            let next = parent_level(&levels[l], arity, zeros[l]);
            levels.push(next);
        }
        Ok(MerkleTree { arity, levels })
    }

    pub fn arity(&self) -> usize {
        self.arity
    }

    pub fn depth(&self) -> u32 {
        (self.levels.len() - 1) as u32
    }

    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn root(&self) -> Fr {
        self.levels[self.levels.len() - 1][0]
    }

    pub fn leaves(&self) -> &[Fr] {
        &self.levels[0]
    }

    /// The nodes of level `l` (`0` = leaves), without padding.
    pub fn level(&self, l: u32) -> &[Fr] {
        &self.levels[l as usize]
    }

    fn node(&self, level: usize, pos: u64) -> Fr {
        match self.levels[level].get(pos as usize) {
            Some(v) => *v,
            None => zero_hashes(self.arity).expect("valid arity")[level],
        }
    }

    /// Inclusion proof of leaf `index` (`< len()`).
    pub fn proof(&self, index: u64) -> Result<MerkleProof> {
        check_index(index, self.len())?;
        Ok(build_proof(self.arity, self.depth(), index, |l, p| {
            self.node(l, p)
        }))
    }

    /// One proof for several leaves, sharing siblings.
    pub fn multi_proof(&self, indices: &[u64]) -> Result<MerkleMultiProof> {
        for &i in indices {
            check_index(i, self.len())?;
        }
        build_multi_proof(self.arity, self.depth(), indices, |l, p| self.node(l, p))
    }
}

fn check_index(index: u64, len: u64) -> Result<()> {
    if index >= len {
        return Err(Error::IndexOutOfRange {
            what: "leaf index",
            index,
            len,
        });
    }
    Ok(())
}

fn build_proof(
    arity: usize,
    depth: u32,
    index: u64,
    node: impl Fn(usize, u64) -> Fr,
) -> MerkleProof {
    let a = arity as u64;
    let mut siblings = Vec::with_capacity(depth as usize * (arity - 1));
    let mut pos = index;
    for l in 0..depth as usize {
        let first = pos - pos % a;
        // `first + j` never overflows (positions are < 2^64); `first + a` can.
        for p in (0..a).map(|j| first + j) {
            if p != pos {
                siblings.push(node(l, p));
            }
        }
        pos /= a;
    }
    MerkleProof {
        arity,
        index,
        leaf: node(0, index),
        siblings,
    }
}

// ---------------------------------------------------------------------------------------------
// Single proof
// ---------------------------------------------------------------------------------------------

const PROOF_MAGIC: &[u8; 4] = b"BFMP";
const MULTI_MAGIC: &[u8; 4] = b"BFMM";
const ENCODING_VERSION: u8 = 1;

/// An inclusion proof for one leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleProof {
    pub arity: usize,
    pub index: u64,
    pub leaf: Fr,
    /// `depth·(arity − 1)` siblings, level 0 first, each level in position order.
    pub siblings: Vec<Fr>,
}

impl MerkleProof {
    pub fn depth(&self) -> u32 {
        (self.siblings.len() / (self.arity - 1)) as u32
    }

    /// The root this proof leads to, or `None` if its shape is invalid.
    pub fn compute_root(&self) -> Option<Fr> {
        if check_arity(self.arity).is_err() || !self.siblings.len().is_multiple_of(self.arity - 1) {
            return None;
        }
        let depth = self.depth();
        if depth > max_depth(self.arity) || self.index as u128 >= capacity(self.arity, depth) {
            return None;
        }
        let a = self.arity as u64;
        let mut cur = self.leaf;
        let mut pos = self.index;
        let mut children = vec![Fr::zero(); self.arity];
        for level in self.siblings.chunks_exact(self.arity - 1) {
            let at = (pos % a) as usize;
            children[..at].copy_from_slice(&level[..at]);
            children[at] = cur;
            children[at + 1..].copy_from_slice(&level[at..]);
            cur = hash_node(&children);
            pos /= a;
        }
        Some(cur)
    }

    /// Whether the proof leads to `root`. Never fails for a well-formed but wrong proof.
    ///
    /// The depth comes from the proof: a verifier that knows its tree's depth should use
    /// [`verify_at_depth`](Self::verify_at_depth), since an inner node is the "leaf" of a
    /// shorter proof to the same root.
    pub fn verify(&self, root: &Fr) -> bool {
        self.compute_root() == Some(*root)
    }

    /// [`verify`](Self::verify) for a tree of known depth.
    pub fn verify_at_depth(&self, root: &Fr, depth: u32) -> bool {
        self.depth() == depth && self.verify(root)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + 32 * self.siblings.len());
        out.extend_from_slice(PROOF_MAGIC);
        out.extend_from_slice(&[ENCODING_VERSION, self.arity as u8, self.depth() as u8, 0]);
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&field::to_be_bytes(&self.leaf));
        for s in &self.siblings {
            out.extend_from_slice(&field::to_be_bytes(s));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "Merkle proof bytes";
        let (arity, depth) = read_header(bytes, PROOF_MAGIC, WHAT)?;
        if bytes.len() < 48 {
            return Err(Error::decode(
                WHAT,
                format!("{} bytes is too short", bytes.len()),
            ));
        }
        let expected = 48 + 32 * depth as usize * (arity - 1);
        if bytes.len() != expected {
            return Err(Error::decode(
                WHAT,
                format!(
                    "length {} (arity {arity}, depth {depth} needs {expected} bytes)",
                    bytes.len()
                ),
            ));
        }
        let index = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
        check_position(index, arity, depth, WHAT)?;
        let leaf = decode_element(&bytes[16..48], WHAT, "leaf")?;
        let siblings = bytes[48..]
            .chunks_exact(32)
            .enumerate()
            .map(|(i, c)| decode_element(c, WHAT, &format!("sibling {i}")))
            .collect::<Result<_>>()?;
        Ok(MerkleProof {
            arity,
            index,
            leaf,
            siblings,
        })
    }

    pub fn to_json(&self) -> String {
        let levels: Vec<Vec<String>> = self
            .siblings
            .chunks(self.arity - 1)
            .map(|l| l.iter().map(field::to_hex).collect())
            .collect();
        json!({
            "type": "bigfile_zk.MerkleProof",
            "version": ENCODING_VERSION,
            "arity": self.arity,
            "depth": self.depth(),
            "index": self.index,
            "leaf": field::to_hex(&self.leaf),
            "siblings": levels,
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        const WHAT: &str = "Merkle proof JSON";
        let v = parse_json_object(
            text,
            WHAT,
            "bigfile_zk.MerkleProof",
            &["version", "arity", "depth", "index", "leaf", "siblings"],
        )?;
        check_json_version(&v, WHAT)?;
        let (arity, depth) = json_arity_depth(&v, WHAT)?;
        let index = json_u64(&v, "index", WHAT)?;
        check_position(index, arity, depth, WHAT)?;
        let leaf = json_element(json_get(&v, "leaf", WHAT)?, WHAT, "leaf")?;
        let levels = json_array(&v, "siblings", WHAT)?;
        if levels.len() != depth as usize {
            return Err(Error::decode(
                WHAT,
                format!("{} sibling levels for depth {depth}", levels.len()),
            ));
        }
        let mut siblings = Vec::with_capacity(depth as usize * (arity - 1));
        for (l, level) in levels.iter().enumerate() {
            let level = level
                .as_array()
                .filter(|a| a.len() == arity - 1)
                .ok_or_else(|| {
                    Error::decode(
                        WHAT,
                        format!("sibling level {l} must be a list of {} elements", arity - 1),
                    )
                })?;
            for (j, s) in level.iter().enumerate() {
                siblings.push(json_element(s, WHAT, &format!("sibling [{l}][{j}]"))?);
            }
        }
        Ok(MerkleProof {
            arity,
            index,
            leaf,
            siblings,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Multi proof
// ---------------------------------------------------------------------------------------------

/// One proof for several leaves; siblings shared between paths are sent once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleMultiProof {
    pub arity: usize,
    pub depth: u32,
    /// Strictly increasing leaf indices.
    pub indices: Vec<u64>,
    pub leaves: Vec<Fr>,
    /// Siblings in the order of docs/spec/merkle.md (level by level, by position).
    pub siblings: Vec<Fr>,
}

/// Walk the levels of a multi-proof: for each level and each parent (in order) of the known
/// positions, call `visit(level, parent, known)` with `known` the sorted positions known at
/// that level.
fn multi_walk(
    arity: usize,
    depth: u32,
    indices: &[u64],
    mut visit: impl FnMut(usize, u64, &[u64]),
) {
    let a = arity as u64;
    let mut known: Vec<u64> = indices.to_vec();
    for l in 0..depth as usize {
        let mut parents: Vec<u64> = known.iter().map(|p| p / a).collect();
        parents.dedup();
        for &q in &parents {
            visit(l, q, &known);
        }
        known = parents;
    }
}

/// The number of siblings a multi-proof for `indices` (sorted, distinct) carries: per level,
/// `arity` children for each distinct parent minus the known ones. One linear pass per level,
/// so decoding a hostile index list stays cheap.
pub fn multi_proof_sibling_count(arity: usize, depth: u32, indices: &[u64]) -> usize {
    let a = arity as u64;
    let mut known = indices.to_vec();
    let mut count = 0usize;
    for _ in 0..depth {
        let mut parents: Vec<u64> = Vec::with_capacity(known.len());
        for &p in &known {
            if parents.last() != Some(&(p / a)) {
                parents.push(p / a);
                count += arity;
            }
            count -= 1;
        }
        known = parents;
    }
    count
}

fn check_indices(indices: &[u64]) -> Result<()> {
    if indices.is_empty() {
        return Err(Error::param("a multi-proof needs at least one index"));
    }
    if indices.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::param(
            "multi-proof indices must be strictly increasing (sorted, no repeats)",
        ));
    }
    Ok(())
}

fn build_multi_proof(
    arity: usize,
    depth: u32,
    indices: &[u64],
    node: impl Fn(usize, u64) -> Fr,
) -> Result<MerkleMultiProof> {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    check_indices(&sorted)?;
    let mut siblings = Vec::new();
    multi_walk(arity, depth, &sorted, |l, q, known| {
        let first = q * arity as u64;
        for p in (0..arity as u64).map(|j| first + j) {
            if known.binary_search(&p).is_err() {
                siblings.push(node(l, p));
            }
        }
    });
    Ok(MerkleMultiProof {
        arity,
        depth,
        leaves: sorted.iter().map(|&i| node(0, i)).collect(),
        indices: sorted,
        siblings,
    })
}

impl MerkleMultiProof {
    /// The root the proof leads to, or `None` if its shape is invalid.
    pub fn compute_root(&self) -> Option<Fr> {
        let shape_ok = check_arity(self.arity).is_ok()
            && self.depth <= max_depth(self.arity)
            && check_indices(&self.indices).is_ok()
            && self.leaves.len() == self.indices.len()
            && (*self.indices.last()? as u128) < capacity(self.arity, self.depth)
            && self.siblings.len()
                == multi_proof_sibling_count(self.arity, self.depth, &self.indices);
        if !shape_ok {
            return None;
        }
        let a = self.arity as u64;
        let mut known: Vec<(u64, Fr)> = self
            .indices
            .iter()
            .copied()
            .zip(self.leaves.clone())
            .collect();
        let mut sib = self.siblings.iter();
        let mut children = vec![Fr::zero(); self.arity];
        for _ in 0..self.depth {
            let mut next: Vec<(u64, Fr)> = Vec::new();
            let mut k = known.iter().peekable();
            while let Some(&&(p0, _)) = k.peek() {
                let q = p0 / a;
                for (j, child) in children.iter_mut().enumerate() {
                    let pos = q * a + j as u64;
                    *child = match k.peek() {
                        Some(&&(p, v)) if p == pos => {
                            k.next();
                            v
                        }
                        _ => *sib.next()?,
                    };
                }
                next.push((q, hash_node(&children)));
            }
            known = next;
        }
        // Every sibling must have been used: trailing ones would let two encodings verify.
        match (known.as_slice(), sib.next()) {
            ([(0, root)], None) => Some(*root),
            _ => None,
        }
    }

    /// Whether the proof leads to `root`. Never fails for a well-formed but wrong proof.
    pub fn verify(&self, root: &Fr) -> bool {
        self.compute_root() == Some(*root)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MULTI_MAGIC);
        out.extend_from_slice(&[ENCODING_VERSION, self.arity as u8, self.depth as u8, 0]);
        out.extend_from_slice(&(self.indices.len() as u32).to_be_bytes());
        for i in &self.indices {
            out.extend_from_slice(&i.to_be_bytes());
        }
        for x in &self.leaves {
            out.extend_from_slice(&field::to_be_bytes(x));
        }
        out.extend_from_slice(&(self.siblings.len() as u32).to_be_bytes());
        for x in &self.siblings {
            out.extend_from_slice(&field::to_be_bytes(x));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "Merkle multi-proof bytes";
        let (arity, depth) = read_header(bytes, MULTI_MAGIC, WHAT)?;
        let mut r = Reader {
            bytes,
            at: 8,
            what: WHAT,
        };
        let m = r.u32()? as usize;
        if m == 0 {
            return Err(Error::decode(WHAT, "no indices"));
        }
        // Bound the allocation by what the input can hold before trusting the count.
        r.need(m.saturating_mul(40))?;
        let indices: Vec<u64> = (0..m).map(|_| r.u64()).collect::<Result<_>>()?;
        check_indices(&indices).map_err(|e| Error::decode(WHAT, e.to_string()))?;
        check_position(*indices.last().expect("m > 0"), arity, depth, WHAT)?;
        let leaves = (0..m)
            .map(|i| r.element(&format!("leaf {i}")))
            .collect::<Result<_>>()?;
        let s = r.u32()? as usize;
        let expected = multi_proof_sibling_count(arity, depth, &indices);
        if s != expected {
            return Err(Error::decode(
                WHAT,
                format!("{s} siblings, but these indices need {expected}"),
            ));
        }
        r.need(s * 32)?;
        let siblings = (0..s)
            .map(|i| r.element(&format!("sibling {i}")))
            .collect::<Result<_>>()?;
        if r.at != bytes.len() {
            return Err(Error::decode(
                WHAT,
                format!("{} trailing bytes", bytes.len() - r.at),
            ));
        }
        Ok(MerkleMultiProof {
            arity,
            depth,
            indices,
            leaves,
            siblings,
        })
    }

    pub fn to_json(&self) -> String {
        json!({
            "type": "bigfile_zk.MerkleMultiProof",
            "version": ENCODING_VERSION,
            "arity": self.arity,
            "depth": self.depth,
            "indices": self.indices,
            "leaves": self.leaves.iter().map(field::to_hex).collect::<Vec<_>>(),
            "siblings": self.siblings.iter().map(field::to_hex).collect::<Vec<_>>(),
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        const WHAT: &str = "Merkle multi-proof JSON";
        let v = parse_json_object(
            text,
            WHAT,
            "bigfile_zk.MerkleMultiProof",
            &["version", "arity", "depth", "indices", "leaves", "siblings"],
        )?;
        check_json_version(&v, WHAT)?;
        let (arity, depth) = json_arity_depth(&v, WHAT)?;
        let indices: Vec<u64> = json_array(&v, "indices", WHAT)?
            .iter()
            .map(|x| {
                x.as_u64()
                    .ok_or_else(|| Error::decode(WHAT, format!("index {x} is not a u64")))
            })
            .collect::<Result<_>>()?;
        check_indices(&indices).map_err(|e| Error::decode(WHAT, e.to_string()))?;
        check_position(*indices.last().expect("non-empty"), arity, depth, WHAT)?;
        let elements = |key: &str| -> Result<Vec<Fr>> {
            json_array(&v, key, WHAT)?
                .iter()
                .enumerate()
                .map(|(i, x)| json_element(x, WHAT, &format!("{key}[{i}]")))
                .collect()
        };
        let leaves = elements("leaves")?;
        let siblings = elements("siblings")?;
        if leaves.len() != indices.len() {
            return Err(Error::decode(
                WHAT,
                format!("{} leaves for {} indices", leaves.len(), indices.len()),
            ));
        }
        let expected = multi_proof_sibling_count(arity, depth, &indices);
        if siblings.len() != expected {
            return Err(Error::decode(
                WHAT,
                format!(
                    "{} siblings, but these indices need {expected}",
                    siblings.len()
                ),
            ));
        }
        Ok(MerkleMultiProof {
            arity,
            depth,
            indices,
            leaves,
            siblings,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers
// ---------------------------------------------------------------------------------------------

fn read_header(bytes: &[u8], magic: &[u8; 4], what: &'static str) -> Result<(usize, u32)> {
    if bytes.len() < 8 {
        return Err(Error::decode(
            what,
            format!("{} bytes is too short", bytes.len()),
        ));
    }
    if &bytes[..4] != magic {
        return Err(Error::decode(
            what,
            format!(
                "bad magic {:?} (expected {:?})",
                &bytes[..4],
                std::str::from_utf8(magic).unwrap_or("")
            ),
        ));
    }
    if bytes[4] != ENCODING_VERSION {
        return Err(Error::decode(
            what,
            format!("unsupported version {}", bytes[4]),
        ));
    }
    let arity = bytes[5] as usize;
    check_arity(arity).map_err(|e| Error::decode(what, e.to_string()))?;
    let depth = bytes[6] as u32;
    if depth > max_depth(arity) {
        return Err(Error::decode(
            what,
            format!(
                "depth {depth} is larger than {} for arity {arity}",
                max_depth(arity)
            ),
        ));
    }
    if bytes[7] != 0 {
        return Err(Error::decode(what, "reserved byte is not zero"));
    }
    Ok((arity, depth))
}

fn check_position(index: u64, arity: usize, depth: u32, what: &'static str) -> Result<()> {
    if index as u128 >= capacity(arity, depth) {
        return Err(Error::decode(
            what,
            format!("index {index} is outside a tree of arity {arity} and depth {depth}"),
        ));
    }
    Ok(())
}

fn decode_element(bytes: &[u8], what: &'static str, name: &str) -> Result<Fr> {
    field::from_be_slice(bytes, name).map_err(|e| Error::decode(what, e.to_string()))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl Reader<'_> {
    fn need(&self, n: usize) -> Result<()> {
        if self.bytes.len() - self.at < n {
            return Err(Error::decode(
                self.what,
                format!(
                    "truncated: {} bytes at offset {}",
                    self.bytes.len() - self.at,
                    self.at
                ),
            ));
        }
        Ok(())
    }
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        self.need(n)?;
        self.at += n;
        Ok(&self.bytes[self.at - n..self.at])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn element(&mut self, name: &str) -> Result<Fr> {
        let what = self.what;
        decode_element(self.take(32)?, what, name)
    }
}

/// Parse a JSON object with `"type": ty` and exactly the keys `keys` (besides `"type"`).
pub(crate) fn parse_json_object(
    text: &str,
    what: &'static str,
    ty: &str,
    keys: &[&str],
) -> Result<Value> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| Error::decode(what, format!("not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| Error::decode(what, "not a JSON object"))?;
    if obj.get("type").and_then(Value::as_str) != Some(ty) {
        return Err(Error::decode(what, format!("\"type\" must be {ty:?}")));
    }
    if let Some(k) = obj
        .keys()
        .find(|k| *k != "type" && !keys.contains(&k.as_str()))
    {
        return Err(Error::decode(what, format!("unknown key {k:?}")));
    }
    if let Some(k) = keys.iter().find(|k| !obj.contains_key(**k)) {
        return Err(Error::decode(what, format!("missing key {k:?}")));
    }
    Ok(v)
}

fn check_json_version(v: &Value, what: &'static str) -> Result<()> {
    if v.get("version").and_then(Value::as_u64) != Some(ENCODING_VERSION as u64) {
        return Err(Error::decode(what, "unsupported \"version\" (expected 1)"));
    }
    Ok(())
}

pub(crate) fn check_json_version_pub(v: &Value, what: &'static str) -> Result<()> {
    check_json_version(v, what)
}

pub(crate) fn json_get<'a>(v: &'a Value, key: &str, what: &'static str) -> Result<&'a Value> {
    v.get(key)
        .ok_or_else(|| Error::decode(what, format!("missing key {key:?}")))
}

pub(crate) fn json_u64(v: &Value, key: &str, what: &'static str) -> Result<u64> {
    json_get(v, key, what)?
        .as_u64()
        .ok_or_else(|| Error::decode(what, format!("{key:?} must be a non-negative integer")))
}

fn json_array<'a>(v: &'a Value, key: &str, what: &'static str) -> Result<&'a Vec<Value>> {
    json_get(v, key, what)?
        .as_array()
        .ok_or_else(|| Error::decode(what, format!("{key:?} must be a list")))
}

pub(crate) fn json_element(v: &Value, what: &'static str, name: &str) -> Result<Fr> {
    let s = v
        .as_str()
        .ok_or_else(|| Error::decode(what, format!("{name} must be a 0x-hex string")))?;
    field::from_hex(s, name).map_err(|e| match e {
        Error::Decode { reason, .. } => Error::decode(what, reason),
        other => Error::decode(what, other.to_string()),
    })
}

fn json_arity_depth(v: &Value, what: &'static str) -> Result<(usize, u32)> {
    let arity = json_u64(v, "arity", what)? as usize;
    check_arity(arity).map_err(|e| Error::decode(what, e.to_string()))?;
    let depth = json_u64(v, "depth", what)?;
    if depth > max_depth(arity) as u64 {
        return Err(Error::decode(what, format!("depth {depth} is too large")));
    }
    Ok((arity, depth as u32))
}

// ---------------------------------------------------------------------------------------------
// Append-only trees
// ---------------------------------------------------------------------------------------------

/// An append-only tree whose root and proofs equal [`MerkleTree`]'s over the same leaves.
#[derive(Clone, Debug)]
pub struct IncrementalMerkleTree {
    arity: usize,
    /// `complete[0]` are the leaves; `complete[l + 1]` the hashes of complete groups of
    /// `complete[l]`.
    complete: Vec<Vec<Fr>>,
}

impl IncrementalMerkleTree {
    pub fn new(arity: usize) -> Result<Self> {
        check_arity(arity)?;
        Ok(IncrementalMerkleTree {
            arity,
            complete: vec![Vec::new()],
        })
    }

    pub fn arity(&self) -> usize {
        self.arity
    }

    pub fn len(&self) -> u64 {
        self.complete[0].len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.complete[0].is_empty()
    }

    /// Append a leaf: `1/(arity − 1)` hashes amortised.
    pub fn append(&mut self, leaf: Fr) -> Result<()> {
        if self.len() as u128 >= capacity(self.arity, max_depth(self.arity)) {
            return Err(Error::param("the tree is full"));
        }
        self.complete[0].push(leaf);
        let mut l = 0;
        while self.complete[l].len().is_multiple_of(self.arity) {
            let level = &self.complete[l];
            let node = hash_node(&level[level.len() - self.arity..]);
            if self.complete.len() == l + 1 {
                self.complete.push(Vec::new());
            }
            self.complete[l + 1].push(node);
            l += 1;
        }
        Ok(())
    }

    pub fn depth(&self) -> u32 {
        depth_for(self.len().max(1), self.arity)
    }

    /// The incomplete last node of each level (`None` where the level has none).
    fn right_edge(&self) -> Vec<Option<Fr>> {
        let depth = self.depth() as usize;
        let zeros = zero_hashes(self.arity).expect("valid arity");
        let mut edge = vec![None; depth + 1];
        for l in 0..depth {
            let stored = self.complete[l].len();
            let start = stored - stored % self.arity;
            if start == stored && edge[l].is_none() {
                continue; // nothing pending at this level
            }
            let mut group: Vec<Fr> = self.complete[l][start..].to_vec();
            group.extend(edge[l]);
            group.resize(self.arity, zeros[l]);
            edge[l + 1] = Some(hash_node(&group));
        }
        edge
    }

    fn node_with_edge(&self, edge: &[Option<Fr>], level: usize, pos: u64) -> Fr {
        let stored = self.complete.get(level).map_or(0, Vec::len) as u64;
        if pos < stored {
            self.complete[level][pos as usize]
        } else if pos == stored && edge[level].is_some() {
            edge[level].expect("checked")
        } else {
            zero_hashes(self.arity).expect("valid arity")[level]
        }
    }

    /// The root over the leaves so far (an empty tree has no root).
    pub fn root(&self) -> Result<Fr> {
        if self.is_empty() {
            return Err(Error::param(
                "an empty tree has no root; append a leaf first",
            ));
        }
        let edge = self.right_edge();
        Ok(self.node_with_edge(&edge, self.depth() as usize, 0))
    }

    pub fn proof(&self, index: u64) -> Result<MerkleProof> {
        check_index(index, self.len())?;
        let edge = self.right_edge();
        Ok(build_proof(self.arity, self.depth(), index, |l, p| {
            self.node_with_edge(&edge, l, p)
        }))
    }

    pub fn multi_proof(&self, indices: &[u64]) -> Result<MerkleMultiProof> {
        for &i in indices {
            check_index(i, self.len())?;
        }
        let edge = self.right_edge();
        build_multi_proof(self.arity, self.depth(), indices, |l, p| {
            self.node_with_edge(&edge, l, p)
        })
    }
}

/// The right edge of a tree being streamed: at most `arity − 1` pending nodes per level.
/// Leaves (or aligned subtrees) go in; the root of the minimal-depth tree comes out.
#[derive(Clone, Debug)]
pub struct Frontier {
    arity: usize,
    pending: Vec<Vec<Fr>>,
    /// Leaves pushed so far (`u128`: a full depth-64 tree has 2^64).
    leaves: u128,
}

impl Frontier {
    pub fn new(arity: usize) -> Result<Self> {
        check_arity(arity)?;
        Ok(Frontier {
            arity,
            pending: Vec::new(),
            leaves: 0,
        })
    }

    /// Leaves pushed so far.
    pub fn len(&self) -> u128 {
        self.leaves
    }

    pub fn is_empty(&self) -> bool {
        self.leaves == 0
    }

    /// Push the root of a complete subtree of height `level` (`level = 0`: a leaf). The number
    /// of leaves pushed so far must be a multiple of `arity^level`.
    pub fn push(&mut self, level: u32, node: Fr) -> Result<()> {
        self.push_reporting(level, node, &mut |_, _, _| {})
    }

    /// [`push`](Self::push), reporting `(level, position, value)` of the pushed node and of
    /// every node it completes (to store a tree while streaming it).
    pub fn push_reporting(
        &mut self,
        level: u32,
        node: Fr,
        report: &mut dyn FnMut(u32, u64, Fr),
    ) -> Result<()> {
        check_depth(self.arity, level)?;
        let span = capacity(self.arity, level);
        if !self.leaves.is_multiple_of(span) {
            return Err(Error::param(format!(
                "a subtree of height {level} must start at a multiple of {span} leaves, not {}",
                self.leaves
            )));
        }
        if self.leaves + span > capacity(self.arity, max_depth(self.arity)) {
            return Err(Error::param("the tree is full"));
        }
        self.leaves += span;
        let mut l = level as usize;
        let mut node = node;
        loop {
            let pos = (self.leaves / capacity(self.arity, l as u32) - 1) as u64;
            report(l as u32, pos, node);
            if self.pending.len() <= l {
                self.pending.resize(l + 1, Vec::new());
            }
            self.pending[l].push(node);
            if self.pending[l].len() < self.arity {
                return Ok(());
            }
            node = hash_node(&self.pending[l]);
            self.pending[l].clear();
            l += 1;
        }
    }

    /// Root of the tree of exactly `depth` levels over the leaves pushed (padding with zeros).
    pub fn root_at_depth(&self, depth: u32) -> Result<Fr> {
        self.root_at_depth_reporting(depth, &mut |_, _, _| {})
    }

    /// [`root_at_depth`](Self::root_at_depth), reporting the incomplete right-edge nodes it
    /// computes (each is the last node of its level).
    pub fn root_at_depth_reporting(
        &self,
        depth: u32,
        report: &mut dyn FnMut(u32, u64, Fr),
    ) -> Result<Fr> {
        check_depth(self.arity, depth)?;
        if self.leaves > capacity(self.arity, depth) {
            return Err(Error::param(format!(
                "{} leaves do not fit in depth {depth}",
                self.leaves
            )));
        }
        let zeros = zero_hashes(self.arity)?;
        let mut carry: Option<Fr> = None;
        for (l, &zero) in zeros[..depth as usize].iter().enumerate() {
            let mut group = self.pending.get(l).cloned().unwrap_or_default();
            group.extend(carry);
            carry = if group.is_empty() {
                None
            } else {
                group.resize(self.arity, zero);
                let node = hash_node(&group);
                let span = capacity(self.arity, l as u32 + 1);
                report(l as u32 + 1, (self.leaves.div_ceil(span) - 1) as u64, node);
                Some(node)
            };
        }
        // A full tree of exactly `depth` levels leaves its root pending at level `depth`.
        Ok(carry
            .or_else(|| {
                self.pending
                    .get(depth as usize)
                    .and_then(|p| p.first().copied())
            })
            .unwrap_or(zeros[depth as usize]))
    }

    /// Root of the minimal-depth tree (as [`MerkleTree`] would compute it).
    pub fn root(&self) -> Result<Fr> {
        if self.leaves == 0 {
            return Err(Error::param("an empty tree has no root"));
        }
        let depth = (0..=max_depth(self.arity))
            .find(|&d| capacity(self.arity, d) >= self.leaves)
            .expect("at most arity^max_depth leaves");
        self.root_at_depth(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize, seed: u64) -> Vec<Fr> {
        (0..n as u64)
            .map(|i| Fr::from(seed * 1000 + i + 1))
            .collect()
    }

    #[test]
    fn depth_rule() {
        assert_eq!(depth_for(1, 2), 0);
        assert_eq!(depth_for(2, 2), 1);
        assert_eq!(depth_for(3, 2), 2);
        assert_eq!(depth_for(16, 16), 1);
        assert_eq!(depth_for(17, 16), 2);
        assert_eq!(max_depth(2), 64);
        assert_eq!(max_depth(16), 16);
    }

    #[test]
    fn small_tree_by_hand() {
        let l = leaves(3, 0);
        let t = MerkleTree::new(l.clone(), 2).unwrap();
        let expected = hash_node(&[hash_node(&[l[0], l[1]]), hash_node(&[l[2], Fr::zero()])]);
        assert_eq!(t.root(), expected);
        assert_eq!(MerkleTree::new(vec![l[0]], 4).unwrap().root(), l[0]);
    }

    #[test]
    fn errors() {
        assert!(MerkleTree::new(vec![], 2).is_err());
        assert!(MerkleTree::new(leaves(3, 0), 3).is_err());
        let t = MerkleTree::new(leaves(3, 0), 2).unwrap();
        assert!(matches!(t.proof(3), Err(Error::IndexOutOfRange { .. })));
        assert!(t.multi_proof(&[]).is_err());
        assert!(MerkleProof::from_bytes(&[]).is_err());
        assert!(IncrementalMerkleTree::new(2).unwrap().root().is_err());
    }

    #[test]
    fn multi_proof_sibling_counts_at_full_depth_and_extra_siblings() {
        // Regression: `first + arity` overflowed at the last group of a 2^64-position tree.
        assert_eq!(multi_proof_sibling_count(2, 64, &[u64::MAX]), 64);
        assert_eq!(multi_proof_sibling_count(4, 32, &[u64::MAX]), 96);
        assert_eq!(multi_proof_sibling_count(16, 16, &[u64::MAX]), 240);
        assert_eq!(
            multi_proof_sibling_count(2, 3, &[0, 1, 2, 3, 4, 5, 6, 7]),
            0
        );
        assert_eq!(multi_proof_sibling_count(2, 3, &[0, 7]), 4);
        // Regression: trailing siblings were ignored, so two encodings verified.
        let tree = MerkleTree::new(leaves(5, 1), 2).unwrap();
        let mut mp = tree.multi_proof(&[1, 3]).unwrap();
        assert!(mp.verify(&tree.root()));
        mp.siblings.push(Fr::from(9u64));
        assert!(!mp.verify(&tree.root()));
        assert!(MerkleMultiProof::from_bytes(&mp.to_bytes()).is_err());
    }

    #[test]
    fn an_inner_node_is_not_a_leaf_at_the_known_depth() {
        let l = leaves(4, 2);
        let tree = MerkleTree::new(l.clone(), 2).unwrap();
        let short = MerkleProof {
            arity: 2,
            index: 0,
            leaf: hash_node(&l[..2]),
            siblings: vec![hash_node(&l[2..])],
        };
        assert!(short.verify(&tree.root())); // by the proof's own depth...
        assert!(!short.verify_at_depth(&tree.root(), 2)); // ...but not at the tree's
        assert!(tree.proof(0).unwrap().verify_at_depth(&tree.root(), 2));
    }

    #[test]
    fn depths_past_the_maximum_are_errors_not_panics() {
        let mut f = Frontier::new(2).unwrap();
        assert!(f.push(65, Fr::zero()).is_err());
        assert!(f.push(64, Fr::zero()).is_ok()); // a whole 2^64-leaf tree in one node
        assert_eq!(f.len(), 1u128 << 64);
        assert!(f.push(0, Fr::zero()).is_err()); // full
        assert!(f.root_at_depth(65).is_err());
        assert!(subtree_levels(&[], 2, 65).is_err());
        assert!(Frontier::new(16).unwrap().push(17, Fr::zero()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn proofs_incremental_and_frontier_agree(
            arity_ix in 0usize..4, n in 1usize..70, seed in 0u64..1000, pick in any::<u64>()
        ) {
            let arity = ARITIES[arity_ix];
            let l = leaves(n, seed);
            let tree = MerkleTree::new(l.clone(), arity).unwrap();
            let mut inc = IncrementalMerkleTree::new(arity).unwrap();
            let mut frontier = Frontier::new(arity).unwrap();
            for x in &l {
                inc.append(*x).unwrap();
                frontier.push(0, *x).unwrap();
            }
            prop_assert_eq!(inc.root().unwrap(), tree.root());
            prop_assert_eq!(frontier.root().unwrap(), tree.root());
            let i = pick % n as u64;
            let p = tree.proof(i).unwrap();
            prop_assert!(p.verify(&tree.root()));
            prop_assert_eq!(&inc.proof(i).unwrap(), &p);
            prop_assert_eq!(MerkleProof::from_bytes(&p.to_bytes()).unwrap(), p.clone());
            prop_assert_eq!(MerkleProof::from_json(&p.to_json()).unwrap(), p.clone());
            let mut bad = p.clone();
            bad.leaf += Fr::from(1u64);
            prop_assert!(!bad.verify(&tree.root()));

            let idx: Vec<u64> = [i, (i * 7 + 3) % n as u64, 0].to_vec();
            let mp = tree.multi_proof(&idx).unwrap();
            prop_assert!(mp.verify(&tree.root()));
            prop_assert_eq!(&inc.multi_proof(&idx).unwrap(), &mp);
            prop_assert_eq!(MerkleMultiProof::from_bytes(&mp.to_bytes()).unwrap(), mp.clone());
            prop_assert_eq!(MerkleMultiProof::from_json(&mp.to_json()).unwrap(), mp.clone());
            if !mp.siblings.is_empty() {
                let mut bad = mp.clone();
                bad.siblings[0] += Fr::from(1u64);
                prop_assert!(!bad.verify(&tree.root()));
            }
        }

        #[test]
        fn aligned_subtrees_match_leaves(arity_ix in 0usize..4, batches in 1usize..4, tail in 0usize..20) {
            let arity = ARITIES[arity_ix];
            let span = arity * arity;
            let l = leaves(batches * span + tail, 7);
            let mut f = Frontier::new(arity).unwrap();
            for b in l[..batches * span].chunks(span) {
                f.push(2, subtree_root(b, arity, 2).unwrap()).unwrap();
            }
            for x in &l[batches * span..] {
                f.push(0, *x).unwrap();
            }
            prop_assert_eq!(f.root().unwrap(), MerkleTree::new(l, arity).unwrap().root());
        }

        #[test]
        fn truncated_or_mutated_bytes_never_verify_wrongly(n in 2usize..40, cut in any::<usize>(), flip in any::<usize>()) {
            let tree = MerkleTree::new(leaves(n, 3), 2).unwrap();
            let bytes = tree.proof((n - 1) as u64).unwrap().to_bytes();
            let cut = cut % bytes.len();
            prop_assert!(MerkleProof::from_bytes(&bytes[..cut]).is_err());
            let mut m = bytes.clone();
            let at = flip % m.len();
            m[at] ^= 1;
            if let Ok(p) = MerkleProof::from_bytes(&m) {
                prop_assert!(!p.verify(&tree.root()) || p.to_bytes() == bytes);
            }
        }
    }
}
