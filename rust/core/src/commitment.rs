//! Streaming file commitments (docs/spec/file-commitment.md).
//!
//! bytes → 992-byte chunks → 32 elements of 31 bytes → a `t = 3` Poseidon sponge per chunk (the
//! leaf) → a Poseidon Merkle tree → `commitment = H(root, meta)` where `meta` binds the length and
//! the layout. The file is read once, in blocks of whole aligned subtrees: a reader thread fills
//! the next block while the leaves and the block's subtree are hashed in parallel, and only the
//! tree's right edge is kept, so memory stays at a few blocks whatever the file size.

use crate::error::{Error, Result};
use crate::field::{self, Fr};
use crate::merkle::{self, Frontier, MerkleProof};
use crate::poseidon;
use ark_ff::Zero;
use rayon::prelude::*;
use serde_json::json;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::SystemTime;

pub const SPEC_VERSION: u8 = 1;
pub const DEFAULT_CHUNK_SIZE: usize = 992;
pub const DEFAULT_ARITY: usize = 2;
/// Bytes per field element.
pub const ELEMENT_BYTES: usize = 31;
/// Bytes absorbed per permutation of the leaf sponge (two elements).
pub const BLOCK_BYTES: usize = 2 * ELEMENT_BYTES;
pub const MAX_CHUNK_SIZE: usize = 65472;
/// Most chunks one commitment may have (the proof-of-storage circuit's maximum tree).
pub const MAX_CHUNKS: u64 = 1 << 32;
/// `b"bigfile_zk/leaf/v1"` as a big-endian integer: the leaf sponge's initial capacity.
pub const LEAF_IV_BYTES: &[u8] = b"bigfile_zk/leaf/v1";
/// Target bytes per streamed block (rounded to whole aligned subtrees).
const BLOCK_TARGET: usize = 8 << 20;

/// The leaf sponge's initial capacity element.
pub fn leaf_iv() -> Fr {
    field::from_be_bytes_short(LEAF_IV_BYTES)
}

/// How a file is cut into chunks and leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub chunk_size: usize,
    pub arity: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            chunk_size: DEFAULT_CHUNK_SIZE,
            arity: DEFAULT_ARITY,
        }
    }
}

impl Layout {
    pub fn new(chunk_size: usize, arity: usize) -> Result<Self> {
        merkle::check_arity(arity)?;
        if chunk_size == 0 || !chunk_size.is_multiple_of(BLOCK_BYTES) || chunk_size > MAX_CHUNK_SIZE
        {
            return Err(Error::param(format!(
                "chunk_size {chunk_size} is not supported: it must be a multiple of \
                 {BLOCK_BYTES} bytes between {BLOCK_BYTES} and {MAX_CHUNK_SIZE}"
            )));
        }
        Ok(Layout { chunk_size, arity })
    }

    /// Chunks of a file of `file_size` bytes, checking the limits.
    pub fn num_chunks(&self, file_size: u64) -> Result<u64> {
        if file_size == 0 {
            return Err(Error::param(
                "the file is empty: there is nothing to commit to (or to prove later)",
            ));
        }
        let n = file_size.div_ceil(self.chunk_size as u64);
        if n > MAX_CHUNKS {
            return Err(Error::param(format!(
                "a {file_size}-byte file has {n} chunks of {} bytes; at most {MAX_CHUNKS} are \
                 supported (files up to {} bytes)",
                self.chunk_size,
                MAX_CHUNKS * self.chunk_size as u64
            )));
        }
        Ok(n)
    }

    /// Chunks per streamed block: a whole number of aligned subtrees near [`BLOCK_TARGET`].
    fn block_chunks(&self) -> (usize, u32) {
        let mut height = 0u32;
        while self.arity.pow(height + 1) * self.chunk_size <= BLOCK_TARGET {
            height += 1;
        }
        (self.arity.pow(height), height)
    }
}

/// The leaf of one chunk padded to `chunk_size` bytes.
pub fn leaf_hash(chunk: &[u8]) -> Fr {
    debug_assert!(chunk.len().is_multiple_of(BLOCK_BYTES));
    let mut state = [leaf_iv(), Fr::zero(), Fr::zero()];
    for block in chunk.chunks_exact(BLOCK_BYTES) {
        state[1] += field::from_be_bytes_short(&block[..ELEMENT_BYTES]);
        state[2] += field::from_be_bytes_short(&block[ELEMENT_BYTES..]);
        poseidon::permute(&mut state).expect("t = 3");
    }
    state[0]
}

/// Leaves of consecutive padded chunks (`data.len()` a multiple of `chunk_size`), in
/// parallel, eight chunks at a time on the vector path (the last group of fewer than eight by
/// the scalar path).
pub fn leaf_hashes(data: &[u8], chunk_size: usize) -> Vec<Fr> {
    debug_assert!(data.len().is_multiple_of(chunk_size) && chunk_size.is_multiple_of(BLOCK_BYTES));
    let mut out = vec![Fr::zero(); data.len() / chunk_size];
    let simd = crate::field_simd::enabled();
    out.par_chunks_mut(8)
        .zip(data.par_chunks(8 * chunk_size))
        .for_each(|(o, c)| {
            #[cfg(target_arch = "x86_64")]
            if simd && o.len() == 8 {
                // SAFETY: `enabled()` said the CPU has AVX-512F and IFMA.
                unsafe { simd::leaf_hash_x8(c, chunk_size, o) };
                return;
            }
            let _ = simd;
            for (leaf, chunk) in o.iter_mut().zip(c.chunks_exact(chunk_size)) {
                *leaf = leaf_hash(chunk);
            }
        });
    out
}

#[cfg(target_arch = "x86_64")]
mod simd {
    //! The leaf sponge of [`super::leaf_hash`] on eight chunks at once.
    use super::{leaf_iv, BLOCK_BYTES, ELEMENT_BYTES};
    use crate::field::Fr;
    use crate::field_simd::avx::V;
    use crate::field_simd::{to_mont_limbs, to_radix52, Limbs};
    use crate::poseidon;

    /// A 31-byte big-endian integer in radix 2^52 (canonical: `< 2^248 < r`).
    fn be31(bytes: &[u8]) -> Limbs {
        let mut buf = [0u8; 32];
        buf[1..].copy_from_slice(&bytes[..ELEMENT_BYTES]);
        to_radix52(core::array::from_fn(|i| {
            u64::from_be_bytes(buf[24 - 8 * i..32 - 8 * i].try_into().expect("8 bytes"))
        }))
    }

    /// Leaves of the eight padded chunks `chunks[k·chunk_size..(k+1)·chunk_size]` into `out`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and AVX-512 IFMA.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub unsafe fn leaf_hash_x8(chunks: &[u8], chunk_size: usize, out: &mut [Fr]) {
        assert!(chunks.len() == 8 * chunk_size && out.len() == 8);
        let p = poseidon::simd::params_for(poseidon::params(3).expect("t = 3 is supported"));
        let zero = V::splat(&[0; 5]);
        let mut s = [V::splat(&to_mont_limbs(&leaf_iv())), zero, zero];
        for b in (0..chunk_size).step_by(BLOCK_BYTES) {
            let element = |off: usize| {
                V::from_canonical(&core::array::from_fn(|k| {
                    be31(&chunks[k * chunk_size + b + off..])
                }))
            };
            // State values < 2r and fresh elements < 2r: the reduced add keeps them < 2r.
            s[1] = s[1].add(&element(0));
            s[2] = s[2].add(&element(ELEMENT_BYTES));
            poseidon::simd::permute::<3>(&mut s, p);
        }
        out.copy_from_slice(&s[0].to_fr());
    }
}

/// Leaf of a chunk given without padding (the last chunk of a file may be short).
pub fn leaf_hash_unpadded(data: &[u8], chunk_size: usize) -> Fr {
    if data.len() == chunk_size {
        return leaf_hash(data);
    }
    let mut padded = data.to_vec();
    padded.resize(chunk_size, 0);
    leaf_hash(&padded)
}

/// `file_size + chunk_size·2^64 + arity·2^96 + version·2^128`.
pub fn meta(file_size: u64, layout: &Layout, version: u8) -> Fr {
    let mut limbs = [0u64; 4];
    limbs[0] = file_size;
    limbs[1] = layout.chunk_size as u64 | (layout.arity as u64) << 32;
    limbs[2] = version as u64;
    field::from_limbs(limbs, "meta").expect("< 2^136")
}

/// A commitment to a file: its Merkle root bound to its length and layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileCommitment {
    /// `H(root, meta)`: the one value to register and prove against.
    pub commitment: Fr,
    /// Merkle root over the chunk leaves.
    pub root: Fr,
    pub file_size: u64,
    pub layout: Layout,
    pub spec_version: u8,
}

impl FileCommitment {
    /// Bind a tree root to a length and layout.
    pub fn from_root(root: Fr, file_size: u64, layout: Layout) -> Result<Self> {
        layout.num_chunks(file_size)?;
        Ok(FileCommitment {
            commitment: poseidon::hash2(root, meta(file_size, &layout, SPEC_VERSION)),
            root,
            file_size,
            layout,
            spec_version: SPEC_VERSION,
        })
    }

    pub fn num_chunks(&self) -> u64 {
        self.file_size.div_ceil(self.layout.chunk_size as u64)
    }

    pub fn depth(&self) -> u32 {
        merkle::depth_for(self.num_chunks(), self.layout.arity)
    }

    /// Length of chunk `index` without padding.
    pub fn chunk_len(&self, index: u64) -> Result<usize> {
        let n = self.num_chunks();
        if index >= n {
            return Err(Error::IndexOutOfRange {
                what: "chunk index",
                index,
                len: n,
            });
        }
        let start = index * self.layout.chunk_size as u64;
        Ok((self.file_size - start).min(self.layout.chunk_size as u64) as usize)
    }

    pub fn to_bytes(&self) -> [u8; 84] {
        let mut out = [0u8; 84];
        out[..4].copy_from_slice(b"BFFC");
        out[4] = self.spec_version;
        out[5] = self.layout.arity as u8;
        out[8..12].copy_from_slice(&(self.layout.chunk_size as u32).to_be_bytes());
        out[12..20].copy_from_slice(&self.file_size.to_be_bytes());
        out[20..52].copy_from_slice(&field::to_be_bytes(&self.root));
        out[52..84].copy_from_slice(&field::to_be_bytes(&self.commitment));
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "file commitment bytes";
        let err = |why: String| Error::decode(WHAT, why);
        if bytes.len() != 84 {
            return Err(err(format!("{} bytes (expected 84)", bytes.len())));
        }
        if &bytes[..4] != b"BFFC" {
            return Err(err("bad magic (expected \"BFFC\")".into()));
        }
        if bytes[6..8] != [0, 0] {
            return Err(err("reserved bytes are not zero".into()));
        }
        let chunk_size = u32::from_be_bytes(bytes[8..12].try_into().expect("4")) as usize;
        let file_size = u64::from_be_bytes(bytes[12..20].try_into().expect("8"));
        let root = field::from_be_slice(&bytes[20..52], "root").map_err(|e| err(e.to_string()))?;
        let commitment =
            field::from_be_slice(&bytes[52..84], "commitment").map_err(|e| err(e.to_string()))?;
        Self::checked(
            WHAT,
            bytes[4],
            bytes[5] as usize,
            chunk_size,
            file_size,
            root,
            commitment,
        )
    }

    /// Rebuild from decoded fields, checking everything, including the commitment itself.
    fn checked(
        what: &'static str,
        version: u8,
        arity: usize,
        chunk_size: usize,
        file_size: u64,
        root: Fr,
        commitment: Fr,
    ) -> Result<Self> {
        let err = |e: Error| Error::decode(what, e.to_string());
        if version != SPEC_VERSION {
            return Err(Error::decode(
                what,
                format!("unsupported spec version {version}"),
            ));
        }
        let layout = Layout::new(chunk_size, arity).map_err(err)?;
        let c = Self::from_root(root, file_size, layout).map_err(err)?;
        if c.commitment != commitment {
            return Err(Error::decode(
                what,
                "commitment is not H(root, meta) for this root, size and layout",
            ));
        }
        Ok(c)
    }

    pub fn to_json(&self) -> String {
        json!({
            "type": "bigfile_zk.FileCommitment",
            "spec_version": self.spec_version,
            "commitment": field::to_hex(&self.commitment),
            "root": field::to_hex(&self.root),
            "file_size": self.file_size,
            "chunk_size": self.layout.chunk_size,
            "arity": self.layout.arity,
            "num_chunks": self.num_chunks(),
            "depth": self.depth(),
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        const WHAT: &str = "file commitment JSON";
        let keys = [
            "spec_version",
            "commitment",
            "root",
            "file_size",
            "chunk_size",
            "arity",
            "num_chunks",
            "depth",
        ];
        let v = merkle::parse_json_object(text, WHAT, "bigfile_zk.FileCommitment", &keys)?;
        let num = |k: &str| merkle::json_u64(&v, k, WHAT);
        let elem = |k: &str| merkle::json_element(merkle::json_get(&v, k, WHAT)?, WHAT, k);
        let version = u8::try_from(num("spec_version")?)
            .map_err(|_| Error::decode(WHAT, "spec_version out of range"))?;
        let c = Self::checked(
            WHAT,
            version,
            num("arity")? as usize,
            num("chunk_size")? as usize,
            num("file_size")?,
            elem("root")?,
            elem("commitment")?,
        )?;
        if num("num_chunks")? != c.num_chunks() || num("depth")? != c.depth() as u64 {
            return Err(Error::decode(
                WHAT,
                "num_chunks/depth disagree with file_size",
            ));
        }
        Ok(c)
    }

    /// Whether `opening` is chunk `opening.index` of the committed file.
    pub fn verify_opening(&self, opening: &ChunkOpening) -> bool {
        let p = &opening.proof;
        self.chunk_len(opening.index).ok() == Some(opening.data.len())
            && p.index == opening.index
            && p.arity == self.layout.arity
            && p.depth() == self.depth()
            && leaf_hash_unpadded(&opening.data, self.layout.chunk_size) == p.leaf
            && p.verify(&self.root)
            && Self::from_root(self.root, self.file_size, self.layout)
                .is_ok_and(|c| c.commitment == self.commitment)
    }
}

/// One chunk's raw bytes (no padding) and its Merkle proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkOpening {
    pub index: u64,
    pub data: Vec<u8>,
    pub proof: MerkleProof,
}

impl ChunkOpening {
    /// `{"type": "bigfile_zk.ChunkOpening", "version": 1, "index", "data": "0x…", "proof": {…}}`
    /// with the proof as in `MerkleProof::to_json`.
    pub fn to_json(&self) -> String {
        let proof: serde_json::Value =
            serde_json::from_str(&self.proof.to_json()).expect("our own JSON");
        let data: String = self.data.iter().map(|b| format!("{b:02x}")).collect();
        json!({
            "type": "bigfile_zk.ChunkOpening",
            "version": 1,
            "index": self.index,
            "data": format!("0x{data}"),
            "proof": proof,
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        const WHAT: &str = "chunk opening JSON";
        let v = merkle::parse_json_object(
            text,
            WHAT,
            "bigfile_zk.ChunkOpening",
            &["version", "index", "data", "proof"],
        )?;
        merkle::check_json_version_pub(&v, WHAT)?;
        let index = merkle::json_u64(&v, "index", WHAT)?;
        let hex = merkle::json_get(&v, "data", WHAT)?
            .as_str()
            .and_then(|s| s.strip_prefix("0x"))
            .filter(|h| h.len() % 2 == 0 && h.len() / 2 <= MAX_CHUNK_SIZE)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                Error::decode(
                    WHAT,
                    format!("\"data\" must be 0x-hex of at most {MAX_CHUNK_SIZE} bytes"),
                )
            })?;
        let data = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits"))
            .collect();
        let proof = MerkleProof::from_json(&merkle::json_get(&v, "proof", WHAT)?.to_string())?;
        if proof.index != index {
            return Err(Error::decode(
                WHAT,
                format!("the proof is for index {}, not {index}", proof.index),
            ));
        }
        Ok(ChunkOpening { index, data, proof })
    }
}

pub use crate::progress::Progress;

/// Reports `(level, position, value)` of tree nodes as they are computed.
type NodeReport<'a> = &'a mut dyn FnMut(u32, u64, Fr);

/// Hash `count` chunks from `reader` into the frontier, in blocks of aligned subtrees. The
/// frontier must be aligned to the block size (true at the start of a file or subtree).
/// Every node computed is passed to `report` (levels below the block height only for full
/// blocks; the frontier reports the rest).
fn absorb_chunks<R: Read + Send>(
    reader: R,
    count: u64,
    bytes_total: u64,
    layout: &Layout,
    frontier: &mut Frontier,
    progress: Progress,
    report: NodeReport,
) -> Result<()> {
    let (block_chunks, block_height) = layout.block_chunks();
    let block_bytes = block_chunks * layout.chunk_size;
    let a = layout.arity as u64;
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(1);
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| -> Result<()> {
        // Owned by this closure so that an early return (error, Ctrl-C) drops it before the
        // scope joins the reader, whose blocked `send` then fails and lets it exit.
        let rx = rx;
        // Reader thread: fill the next block while this thread hashes the current one.
        scope.spawn(move || {
            let mut reader = reader;
            let mut left = bytes_total;
            while left > 0 {
                let want = left.min(block_bytes as u64) as usize;
                let mut buf = recycle_rx.try_recv().unwrap_or_default();
                buf.resize(want, 0);
                let res = reader.read_exact(&mut buf).map(|_| buf);
                let failed = res.is_err();
                if tx.send(res).is_err() || failed {
                    return;
                }
                left -= want as u64;
            }
        });
        let mut done_chunks = 0u64;
        let mut done_bytes = 0u64;
        while done_chunks < count {
            let mut buf = rx
                .recv()
                .map_err(|_| Error::param("reader stopped early"))?
                .map_err(|e| Error::Io {
                    path: String::new(),
                    source: e,
                })?;
            done_bytes += buf.len() as u64;
            let chunks = (buf.len().div_ceil(layout.chunk_size)) as u64;
            buf.resize(chunks as usize * layout.chunk_size, 0); // zero-pad the last chunk
            let leaves = leaf_hashes(&buf, layout.chunk_size);
            if leaves.len() == block_chunks {
                let block = done_chunks / block_chunks as u64;
                let levels = merkle::subtree_levels(&leaves, layout.arity, block_height)?;
                let below_top =
                    std::iter::once(&leaves).chain(&levels[..levels.len().saturating_sub(1)]);
                for (l, nodes) in below_top.enumerate() {
                    let first = block * a.pow(block_height - l as u32);
                    for (j, v) in nodes.iter().enumerate() {
                        report(l as u32, first + j as u64, *v);
                    }
                }
                let root = levels.last().map_or(leaves[0], |top| top[0]);
                frontier.push_reporting(block_height, root, report)?;
            } else {
                for leaf in leaves {
                    frontier.push_reporting(0, leaf, report)?;
                }
            }
            done_chunks += chunks;
            let _ = recycle_tx.send(buf);
            progress(done_bytes)?;
        }
        Ok(())
    })
}

/// Commitment to `file_size` bytes read from `reader`.
pub fn commit_reader<R: Read + Send>(
    reader: R,
    file_size: u64,
    layout: Layout,
    progress: Progress,
) -> Result<FileCommitment> {
    commit_reader_reporting(reader, file_size, layout, progress, &mut |_, _, _| {})
}

fn commit_reader_reporting<R: Read + Send>(
    reader: R,
    file_size: u64,
    layout: Layout,
    progress: Progress,
    report: NodeReport,
) -> Result<FileCommitment> {
    let n = layout.num_chunks(file_size)?;
    let mut frontier = Frontier::new(layout.arity)?;
    absorb_chunks(
        reader,
        n,
        file_size,
        &layout,
        &mut frontier,
        progress,
        report,
    )?;
    let depth = merkle::depth_for(n, layout.arity);
    let root = frontier.root_at_depth_reporting(depth, report)?;
    FileCommitment::from_root(root, file_size, layout)
}

/// Commitment to bytes in memory.
pub fn commit_bytes(data: &[u8], layout: Layout) -> Result<FileCommitment> {
    commit_reader(data, data.len() as u64, layout, &mut |_| Ok(()))
}

/// What identifies a file's version on disk.
#[derive(PartialEq, Eq, Debug)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(file: &File, path: &Path) -> Result<Stamp> {
    let m = file.metadata().map_err(|e| Error::io(path, e))?;
    crate::files::check(path, &m)?;
    Ok(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
    })
}

fn changed(path: &Path, reason: impl Into<String>) -> Error {
    Error::FileChanged {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Run `work` on the open file, then check that the file did not change meanwhile.
fn with_stable_file<T>(path: &Path, work: impl FnOnce(&File, u64) -> Result<T>) -> Result<T> {
    let file = crate::files::open_regular(path)?;
    let before = stamp(&file, path)?;
    let out = work(&file, before.len).map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof => {
            changed(path, "it became shorter")
        }
        Error::Io { path: p, source } if p.is_empty() => Error::io(path, source),
        other => other,
    })?;
    let after = stamp(&file, path)?;
    if after.len != before.len {
        return Err(changed(
            path,
            format!("its size went from {} to {} bytes", before.len, after.len),
        ));
    }
    if after.modified != before.modified {
        return Err(changed(path, "its modification time changed"));
    }
    Ok(out)
}

/// Commitment to the file at `path`, streaming it with bounded memory. With `tree`, the
/// tree's upper levels are also written there (see [`TreeFile`]); the tree file appears only
/// once the commitment is complete and the file is known not to have changed.
pub fn commit_file(
    path: &Path,
    layout: Layout,
    tree: Option<&Path>,
    progress: Progress,
) -> Result<FileCommitment> {
    let (c, writer) = with_stable_file(path, |file, len| {
        let mut writer = match tree {
            Some(t) => {
                refuse_same_file(file, path, t)?;
                Some(TreeWriter::create(t, len, layout)?)
            }
            None => None,
        };
        let c = match writer.as_mut() {
            Some(w) => commit_reader_reporting(file, len, layout, progress, &mut |l, p, v| {
                w.node(l, p, v)
            })?,
            None => commit_reader(file, len, layout, progress)?,
        };
        // The size said `len`; a file that grew meanwhile has more to read.
        let mut probe = [0u8; 1];
        if (&*file).read(&mut probe).map_err(|e| Error::io(path, e))? != 0 {
            return Err(changed(path, "it grew"));
        }
        Ok((c, writer))
    })?;
    if let Some(w) = writer {
        w.finish(&c)?;
    }
    Ok(c)
}

/// Refuse a tree path that names the file being committed (renaming over it would destroy it).
fn refuse_same_file(file: &File, path: &Path, tree: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let data = file.metadata().map_err(|e| Error::io(path, e))?;
    if let Ok(t) = std::fs::metadata(tree) {
        if t.dev() == data.dev() && t.ino() == data.ino() {
            return Err(Error::param(format!(
                "the tree file {} is the file being committed ({}); choose another path",
                tree.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tree files: the upper levels of a committed file's tree, so that opening a chunk reads a few
// chunks instead of the whole file.
// ---------------------------------------------------------------------------------------------

const TREE_MAGIC: &[u8; 4] = b"BFZT";
const TREE_HEADER: u64 = 84;

/// The lowest stored level: the least `L` with `arity^L >= 16`, so the file holds about two
/// nodes per 16 chunks over all stored levels (≈ 0.4 % of the data at the default layout), and
/// an opening re-hashes at most `arity^L` chunks.
pub fn tree_min_level(arity: usize) -> u32 {
    let mut l = 0;
    while arity.pow(l) < 16 {
        l += 1;
    }
    l
}

/// Byte offset of each stored level `L..=depth` (index `l − L`), and the total file length.
fn tree_offsets(n: u64, layout: &Layout) -> (u32, Vec<u64>, u64) {
    let depth = merkle::depth_for(n, layout.arity);
    let min = tree_min_level(layout.arity);
    let mut offsets = Vec::new();
    let mut at = TREE_HEADER;
    for l in min..=depth {
        offsets.push(at);
        at += 32 * (n as u128).div_ceil(merkle::capacity(layout.arity, l)) as u64;
    }
    (min, offsets, at)
}

fn tree_header(c: &FileCommitment, min_level: u32) -> [u8; TREE_HEADER as usize] {
    let mut h = c.to_bytes();
    h[..4].copy_from_slice(TREE_MAGIC);
    h[6] = min_level as u8;
    h
}

/// Writes a tree file while the file is streamed: nodes of levels `>= L` go to their place
/// (`offset(level) + 32·position`) in a temporary file, renamed over `path` on success.
struct TreeWriter {
    file: File,
    tmp: std::path::PathBuf,
    dst: std::path::PathBuf,
    min_level: u32,
    offsets: Vec<u64>,
    /// Per stored level: the first position of the buffered run and its bytes.
    runs: Vec<(u64, Vec<u8>)>,
    error: Option<std::io::Error>,
}

impl TreeWriter {
    fn create(dst: &Path, file_size: u64, layout: Layout) -> Result<Self> {
        let n = layout.num_chunks(file_size)?;
        let (min_level, offsets, total) = tree_offsets(n, &layout);
        let (tmp, file) = crate::files::create_temp_beside(dst)?;
        file.set_len(total).map_err(|e| Error::io(dst, e))?;
        Ok(TreeWriter {
            file,
            tmp,
            dst: dst.to_path_buf(),
            runs: vec![(0, Vec::new()); offsets.len()],
            min_level,
            offsets,
            error: None,
        })
    }

    fn node(&mut self, level: u32, pos: u64, value: Fr) {
        if level < self.min_level || (level - self.min_level) as usize >= self.offsets.len() {
            return;
        }
        let i = (level - self.min_level) as usize;
        let (start, bytes) = &self.runs[i];
        if bytes.len() >= 1 << 20 || (!bytes.is_empty() && *start + bytes.len() as u64 / 32 != pos)
        {
            self.flush(i);
        }
        let run = &mut self.runs[i];
        if run.1.is_empty() {
            run.0 = pos;
        }
        run.1.extend_from_slice(&field::to_be_bytes(&value));
    }

    fn flush(&mut self, i: usize) {
        use std::os::unix::fs::FileExt;
        let (start, bytes) = std::mem::take(&mut self.runs[i]);
        if bytes.is_empty() || self.error.is_some() {
            return;
        }
        if let Err(e) = self.file.write_all_at(&bytes, self.offsets[i] + 32 * start) {
            self.error = Some(e);
        }
    }

    fn finish(mut self, c: &FileCommitment) -> Result<()> {
        use std::os::unix::fs::FileExt;
        for i in 0..self.runs.len() {
            self.flush(i);
        }
        let dst = self.dst.clone();
        let result = match self.error.take() {
            Some(e) => Err(e),
            None => self
                .file
                .write_all_at(&tree_header(c, self.min_level), 0)
                .and_then(|_| self.file.sync_all())
                .and_then(|_| std::fs::rename(&self.tmp, &self.dst)),
        };
        result.map_err(|e| Error::io(&dst, e))
    }
}

impl Drop for TreeWriter {
    fn drop(&mut self) {
        // After a successful rename the temporary name no longer exists; otherwise this removes
        // the partial file, so a failed or interrupted commit never leaves one behind.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// A tree file opened for reading, checked against its commitment.
pub struct TreeFile {
    file: File,
    path: std::path::PathBuf,
    arity: usize,
    chunks: u64,
    min_level: u32,
    offsets: Vec<u64>,
}

impl TreeFile {
    pub fn open(path: &Path, c: &FileCommitment) -> Result<Self> {
        use std::os::unix::fs::FileExt;
        const WHAT: &str = "tree file";
        let file = crate::files::open_regular(path)?;
        let (min_level, offsets, total) = tree_offsets(c.num_chunks(), &c.layout);
        let mut header = [0u8; TREE_HEADER as usize];
        file.read_exact_at(&mut header, 0)
            .map_err(|_| Error::decode(WHAT, format!("{} is too short", path.display())))?;
        if header != tree_header(c, min_level) {
            return Err(Error::decode(
                WHAT,
                format!("{} is not the tree of this commitment", path.display()),
            ));
        }
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len != total {
            return Err(Error::decode(
                WHAT,
                format!(
                    "{} is {len} bytes; this commitment's tree is {total}",
                    path.display()
                ),
            ));
        }
        Ok(TreeFile {
            file,
            path: path.to_path_buf(),
            arity: c.layout.arity,
            chunks: c.num_chunks(),
            min_level,
            offsets,
        })
    }

    /// Whether level `level` is stored.
    fn has(&self, level: u32) -> bool {
        level >= self.min_level && ((level - self.min_level) as usize) < self.offsets.len()
    }

    fn node(&self, level: u32, pos: u64) -> Result<Fr> {
        use std::os::unix::fs::FileExt;
        // Positions past the level's last node are padding: all-zero subtrees, not stored.
        if pos as u128 >= (self.chunks as u128).div_ceil(merkle::capacity(self.arity, level)) {
            return Ok(merkle::zero_hashes(self.arity)?[level as usize]);
        }
        let mut b = [0u8; 32];
        let at = self.offsets[(level - self.min_level) as usize] + 32 * pos;
        self.file
            .read_exact_at(&mut b, at)
            .map_err(|e| Error::io(&self.path, e))?;
        field::from_be_bytes(&b, "stored node").map_err(|_| {
            Error::decode(
                "tree file",
                format!(
                    "{}: the node at level {level}, position {pos} is not a canonical field \
                     element (corrupt file?)",
                    self.path.display()
                ),
            )
        })
    }
}

/// The chunks `first..last` and bytes `start..end` under the node at (`level`, `pos`), or
/// `None` for a padding subtree.
fn subtree_span(c: &FileCommitment, level: u32, pos: u64) -> Option<(u64, u64, u64, u64)> {
    let n = c.num_chunks() as u128;
    let span = merkle::capacity(c.layout.arity, level);
    let first = pos as u128 * span;
    if first >= n {
        return None;
    }
    let last = (first + span).min(n) as u64;
    let first = first as u64;
    let start = first * c.layout.chunk_size as u64;
    let end = (last * c.layout.chunk_size as u64).min(c.file_size);
    Some((first, last, start, end))
}

/// Random read access to a committed file's bytes: a [`File`], or anything else that can read
/// a range (the Python bindings wrap a Python reader).
pub trait Source: Sync {
    /// Fill `buf` with the bytes starting at `offset` (an error if there are fewer).
    fn read_range(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

impl Source for File {
    fn read_range(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

/// Bytes in memory.
impl Source for Vec<u8> {
    fn read_range(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match self.get(start..).and_then(|rest| rest.get(..buf.len())) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(std::io::ErrorKind::UnexpectedEof.into()),
        }
    }
}

/// Bytes `pos..end` of a [`Source`] as a sequential reader (for the streaming hasher).
struct RangeReader<'a> {
    src: &'a dyn Source,
    pos: u64,
    end: u64,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.end - self.pos).min(buf.len() as u64) as usize;
        self.src.read_range(&mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

fn io_err(e: std::io::Error) -> Error {
    Error::Io {
        path: String::new(),
        source: e,
    }
}

/// Root of the subtree of height `level` at position `pos`, read from `src`.
fn subtree_from(
    src: &dyn Source,
    c: &FileCommitment,
    level: u32,
    pos: u64,
    progress: Progress,
) -> Result<Fr> {
    let Some((first, last, start, end)) = subtree_span(c, level, pos) else {
        return Ok(merkle::zero_hashes(c.layout.arity)?[level as usize]);
    };
    let mut frontier = Frontier::new(c.layout.arity)?;
    let noop: NodeReport = &mut |_, _, _| {};
    absorb_chunks(
        RangeReader {
            src,
            pos: start,
            end,
        },
        last - first,
        end - start,
        &c.layout,
        &mut frontier,
        progress,
        noop,
    )?;
    frontier.root_at_depth(level)
}

/// Open chunk `index` of the committed file: its bytes and Merkle proof.
///
/// With a tree file (written by [`commit_file`]) the stored levels are read from it and only
/// the chunks under the lowest stored node around `index` are read and hashed (so only those
/// chunks are checked against the commitment); without one the siblings are recomputed from
/// the whole file (one full read, bounded memory, and the whole file is checked). The opening
/// is verified against the commitment before it is returned; a mismatch names the chunks that
/// changed when a tree file can tell.
pub fn open_file(
    path: &Path,
    c: &FileCommitment,
    index: u64,
    tree: Option<&Path>,
    progress: Progress,
) -> Result<ChunkOpening> {
    c.chunk_len(index)?;
    let tree = tree.map(|t| TreeFile::open(t, c)).transpose()?;
    with_stable_file(path, |file, len| {
        check_len(path, c, len)?;
        let mut done = 0u64;
        let opening = open_with_tree(file, c, index, tree.as_ref(), &mut |level, p| {
            let base = done;
            done += subtree_span(c, level, p).map_or(0, |(_, _, s, e)| e - s);
            subtree_from(file, c, level, p, &mut |b| progress(base + b))
        })?;
        checked(path, c, opening, tree.as_ref())
    })
}

/// Open several chunks at once (e.g. a storage challenge's): like [`open_file`] for each
/// index, but without a tree file the whole file is read and hashed **once** for all of them
/// (instead of once per index), and the result is checked against the commitment's root.
/// Openings come back in the order of `indices`; repeated indices are allowed. `progress`
/// counts openings with a tree file, bytes hashed without.
pub fn open_file_many(
    path: &Path,
    c: &FileCommitment,
    indices: &[u64],
    tree: Option<&Path>,
    progress: Progress,
) -> Result<Vec<ChunkOpening>> {
    let tree = tree.map(|t| TreeFile::open(t, c)).transpose()?;
    with_stable_file(path, |file, len| {
        check_len(path, c, len)?;
        open_many_inner(file, path, c, indices, tree.as_ref(), progress)
    })
}

/// [`open_file_many`] on any [`Source`] holding the committed `c.file_size` bytes (`name`
/// names it in errors). Nothing checks that the source stays unchanged meanwhile, but every
/// opening is verified against the commitment.
pub fn open_many(
    src: &dyn Source,
    name: &Path,
    c: &FileCommitment,
    indices: &[u64],
    tree: Option<&TreeFile>,
    progress: Progress,
) -> Result<Vec<ChunkOpening>> {
    open_many_inner(src, name, c, indices, tree, progress).map_err(|e| match e {
        Error::Io { path, source } if path.is_empty() => Error::io(name, source),
        other => other,
    })
}

fn open_many_inner(
    src: &dyn Source,
    name: &Path,
    c: &FileCommitment,
    indices: &[u64],
    tree: Option<&TreeFile>,
    progress: Progress,
) -> Result<Vec<ChunkOpening>> {
    for &i in indices {
        c.chunk_len(i)?;
    }
    if let Some(t) = tree {
        let mut openings = Vec::with_capacity(indices.len());
        for (n, &i) in indices.iter().enumerate() {
            let o = open_with_tree(src, c, i, Some(t), &mut |level, p| {
                subtree_from(src, c, level, p, &mut |_| Ok(()))
            })?;
            openings.push(checked(name, c, o, Some(t))?);
            progress(n as u64 + 1)?;
        }
        return Ok(openings);
    }
    // No tree: stream the file once, keeping the sibling nodes every path needs.
    let a = c.layout.arity as u64;
    let mut wanted: std::collections::HashMap<(u32, u64), Option<Fr>> = Default::default();
    for &i in indices {
        let mut pos = i;
        for level in 0..c.depth() {
            let first = pos - pos % a;
            for p in (0..a).map(|j| first + j).filter(|&p| p != pos) {
                if subtree_span(c, level, p).is_some() {
                    wanted.insert((level, p), None);
                }
            }
            pos /= a;
        }
    }
    let whole = commit_reader_reporting(
        RangeReader {
            src,
            pos: 0,
            end: c.file_size,
        },
        c.file_size,
        c.layout,
        progress,
        &mut |level, pos, node| {
            if let Some(slot) = wanted.get_mut(&(level, pos)) {
                *slot = Some(node);
            }
        },
    )?;
    if whole.root != c.root {
        return Err(Error::CommitmentMismatch(format!(
            "{} no longer matches the commitment {} (its Merkle root differs; commit it with \
             a tree file to locate the changed chunks)",
            name.display(),
            field::to_hex(&c.commitment)
        )));
    }
    indices
        .iter()
        .map(|&i| {
            let o = open_with_tree(src, c, i, None, &mut |level, p| {
                wanted.get(&(level, p)).copied().flatten().ok_or_else(|| {
                    Error::param(format!("internal: node ({level}, {p}) was not reported"))
                })
            })?;
            checked(name, c, o, None)
        })
        .collect()
}

fn check_len(path: &Path, c: &FileCommitment, len: u64) -> Result<()> {
    if len != c.file_size {
        return Err(Error::CommitmentMismatch(format!(
            "{} is {len} bytes but the commitment is for {} bytes",
            path.display(),
            c.file_size
        )));
    }
    Ok(())
}

/// Chunk `index`'s bytes and path: siblings at stored levels come from `tree`, the others
/// from `subtree(level, position)` (zero hashes for padding). Not yet checked.
fn open_with_tree(
    src: &dyn Source,
    c: &FileCommitment,
    index: u64,
    tree: Option<&TreeFile>,
    subtree: &mut dyn FnMut(u32, u64) -> Result<Fr>,
) -> Result<ChunkOpening> {
    let mut data = vec![0u8; c.chunk_len(index)?];
    src.read_range(&mut data, index * c.layout.chunk_size as u64)
        .map_err(io_err)?;
    let a = c.layout.arity as u64;
    let zeros = merkle::zero_hashes(c.layout.arity)?;
    let mut siblings = Vec::new();
    let mut pos = index;
    for level in 0..c.depth() {
        let first = pos - pos % a;
        // `first + j`, not `first..first + a`: the range end may be 2^64 (depth-64 trees).
        for p in (0..a).map(|j| first + j).filter(|&p| p != pos) {
            let node = match tree {
                Some(t) if t.has(level) => t.node(level, p)?,
                _ if subtree_span(c, level, p).is_none() => zeros[level as usize],
                _ => subtree(level, p)?,
            };
            siblings.push(node);
        }
        pos /= a;
    }
    Ok(ChunkOpening {
        index,
        proof: MerkleProof {
            arity: c.layout.arity,
            index,
            leaf: leaf_hash_unpadded(&data, c.layout.chunk_size),
            siblings,
        },
        data,
    })
}

/// `opening` if it verifies against the commitment, else an error saying what changed.
fn checked(
    path: &Path,
    c: &FileCommitment,
    opening: ChunkOpening,
    tree: Option<&TreeFile>,
) -> Result<ChunkOpening> {
    if c.verify_opening(&opening) {
        Ok(opening)
    } else {
        Err(diagnose_mismatch(path, c, &opening, tree))
    }
}

/// Explain a failed opening: which chunks changed, or a corrupt tree file.
fn diagnose_mismatch(
    path: &Path,
    c: &FileCommitment,
    opening: &ChunkOpening,
    tree: Option<&TreeFile>,
) -> Error {
    let generic = || {
        Error::CommitmentMismatch(format!(
            "{} no longer matches the commitment {} (its Merkle root differs)",
            path.display(),
            field::to_hex(&c.commitment)
        ))
    };
    let Some(t) = tree.filter(|t| t.has(t.min_level)) else {
        return generic();
    };
    // Recompute the path's node at the lowest stored level from the file's chunks and compare
    // it with the stored one: a difference pins the change to those chunks.
    let l = t.min_level;
    let a = c.layout.arity;
    let below = MerkleProof {
        arity: a,
        index: opening.index % merkle::capacity(a, l) as u64,
        leaf: opening.proof.leaf,
        siblings: opening.proof.siblings[..l as usize * (a - 1)].to_vec(),
    };
    let group = opening.index / merkle::capacity(a, l) as u64;
    match (below.compute_root(), t.node(l, group)) {
        (Some(from_file), Ok(stored)) if from_file != stored => {
            let span = merkle::capacity(a, l) as u64;
            let first = group * span;
            let last = (first + span).min(c.num_chunks()) - 1;
            Error::CommitmentMismatch(format!(
                "{} no longer matches the commitment {}: chunks {first}..={last} (bytes {}..{}) \
                 changed",
                path.display(),
                field::to_hex(&c.commitment),
                first * c.layout.chunk_size as u64,
                ((last + 1) * c.layout.chunk_size as u64).min(c.file_size)
            ))
        }
        (_, Err(e)) => e,
        _ => Error::decode(
            "tree file",
            format!(
                "{} does not lead to the commitment's root (corrupt?)",
                t.path.display()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 7 + 3) % 256) as u8).collect()
    }

    /// The spec, written the slow obvious way: leaves, then a full tree.
    fn commit_naive(data: &[u8], layout: Layout) -> FileCommitment {
        let leaves: Vec<Fr> = data
            .chunks(layout.chunk_size)
            .map(|c| leaf_hash_unpadded(c, layout.chunk_size))
            .collect();
        let root = merkle::MerkleTree::new(leaves, layout.arity)
            .unwrap()
            .root();
        FileCommitment::from_root(root, data.len() as u64, layout).unwrap()
    }

    #[test]
    fn streaming_equals_naive_across_block_boundaries() {
        // Small blocks are not configurable, so use a layout whose blocks are small: 65472-byte
        // chunks with arity 16 make 16-chunk (1 MiB) blocks.
        let layout = Layout::new(65472, 16).unwrap();
        for len in [
            1usize,
            65472,
            65473,
            16 * 65472,
            16 * 65472 + 1,
            40 * 65472 - 5,
        ] {
            let data = pattern(len);
            assert_eq!(
                commit_bytes(&data, layout).unwrap(),
                commit_naive(&data, layout),
                "{len}"
            );
        }
        let layout = Layout::default();
        for len in [1usize, 31, 62, 991, 992, 993, 5000] {
            let data = pattern(len);
            assert_eq!(
                commit_bytes(&data, layout).unwrap(),
                commit_naive(&data, layout),
                "{len}"
            );
        }
    }

    #[test]
    fn interrupting_a_multi_block_stream_returns_promptly() {
        // Regression: with the reader blocked on a full channel, an early return used to wait
        // forever for it. 16-chunk blocks, 5 blocks; stop at the first progress report.
        let layout = Layout::new(65472, 16).unwrap();
        let data = pattern(5 * 16 * 65472);
        let r = commit_reader(&data[..], data.len() as u64, layout, &mut |_| {
            Err(Error::Interrupted)
        });
        assert!(matches!(r, Err(Error::Interrupted)));
    }

    #[test]
    fn length_is_bound() {
        let layout = Layout::default();
        let a = commit_bytes(&[1, 2, 3], layout).unwrap();
        let b = commit_bytes(&[1, 2, 3, 0], layout).unwrap();
        assert_eq!(a.root, b.root); // same padded chunk ...
        assert_ne!(a.commitment, b.commitment); // ... but not the same commitment
    }

    #[test]
    fn parameters_and_encodings() {
        assert!(Layout::new(100, 2).is_err());
        assert!(Layout::new(62, 3).is_err());
        assert!(Layout::new(0, 2).is_err());
        assert!(commit_bytes(&[], Layout::default()).is_err());
        let c = commit_bytes(&pattern(5000), Layout::default()).unwrap();
        assert_eq!(FileCommitment::from_bytes(&c.to_bytes()).unwrap(), c);
        assert_eq!(FileCommitment::from_json(&c.to_json()).unwrap(), c);
        let mut b = c.to_bytes();
        b[19] ^= 1; // file size
        assert!(FileCommitment::from_bytes(&b).is_err());
        assert_eq!(
            leaf_iv(),
            field::from_hex("0x62696766696c655f7a6b2f6c6561662f7631", "").unwrap()
        );
    }

    #[test]
    fn open_file_round_trip_and_detects_changes() {
        let dir = std::env::temp_dir().join(format!("bfzk-core-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        let data = pattern(992 * 9 + 17);
        std::fs::write(&path, &data).unwrap();
        let layout = Layout::default();
        let c = commit_file(&path, layout, None, &mut |_| Ok(())).unwrap();
        assert_eq!(c, commit_bytes(&data, layout).unwrap());
        for i in [0u64, 4, 9] {
            let o = open_file(&path, &c, i, None, &mut |_| Ok(())).unwrap();
            assert!(c.verify_opening(&o));
            assert_eq!(ChunkOpening::from_json(&o.to_json()).unwrap(), o);
            let mut bad = o.clone();
            bad.data[0] ^= 1;
            assert!(!c.verify_opening(&bad));
        }
        assert!(matches!(
            open_file(&path, &c, 10, None, &mut |_| Ok(())),
            Err(Error::IndexOutOfRange { .. })
        ));
        let mut changed = data.clone();
        changed[992 * 3] ^= 0xff;
        std::fs::write(&path, &changed).unwrap();
        assert!(matches!(
            open_file(&path, &c, 0, None, &mut |_| Ok(())),
            Err(Error::CommitmentMismatch(_))
        ));
        assert!(matches!(
            commit_file(&dir.join("missing"), layout, None, &mut |_| Ok(())),
            Err(Error::Io { .. })
        ));
        // An interrupting progress callback stops the work.
        let r = commit_file(&path, layout, None, &mut |_| Err(Error::Interrupted));
        assert!(matches!(r, Err(Error::Interrupted)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn open_file_many_equals_single_openings() {
        let dir = std::env::temp_dir().join(format!("bfzk-many-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        let tree = dir.join("f.bfzt");
        // Sizes around leaf and power-of-two boundaries, several layouts (streamed blocks).
        let cases = [
            (Layout::default(), 1usize),
            (Layout::default(), 992),
            (Layout::default(), 993),
            (Layout::default(), 992 * 64),
            (Layout::default(), 992 * 64 + 1),
            (Layout::default(), 992 * 300 - 5),
            (Layout::new(62, 4).unwrap(), 62 * 37 + 1),
            (Layout::new(65472, 16).unwrap(), 65472 * 17 + 3),
        ];
        for (layout, len) in cases {
            let data = pattern(len);
            std::fs::write(&path, &data).unwrap();
            let c = commit_file(&path, layout, Some(&tree), &mut |_| Ok(())).unwrap();
            let n = c.num_chunks();
            let indices: Vec<u64> = [0, n / 3, n - 1, 0, n / 2].to_vec();
            let single: Vec<_> = indices
                .iter()
                .map(|&i| open_file(&path, &c, i, None, &mut |_| Ok(())).unwrap())
                .collect();
            for t in [None, Some(tree.as_path())] {
                let many = open_file_many(&path, &c, &indices, t, &mut |_| Ok(())).unwrap();
                assert_eq!(many, single, "{len} bytes, {layout:?}, tree {t:?}");
            }
            assert!(matches!(
                open_file_many(&path, &c, &[0, n], None, &mut |_| Ok(())),
                Err(Error::IndexOutOfRange { .. })
            ));
            // One changed byte anywhere fails the tree-less opening, even far from the indices.
            let mut changed = data.clone();
            changed[len - 1] ^= 1;
            std::fs::write(&path, &changed).unwrap();
            assert!(matches!(
                open_file_many(&path, &c, &[0], None, &mut |_| Ok(())),
                Err(Error::CommitmentMismatch(_))
            ));
            // With a tree file, only the opened chunk's stored group is read: a change in the
            // last chunk is found when the last chunk is opened.
            assert!(matches!(
                open_file_many(&path, &c, &[n - 1], Some(&tree), &mut |_| Ok(())),
                Err(Error::CommitmentMismatch(_))
            ));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn open_many_across_full_blocks_of_the_default_layout() {
        // More than one streamed block (8192 chunks at the default layout) plus a partial
        // one: the full-block node reports must supply the siblings, as for any file > 8 MB
        // proved without a tree file. An in-memory source, checked against a naive tree.
        let layout = Layout::default();
        let (block_chunks, _) = layout.block_chunks();
        let data = pattern((2 * block_chunks + 3) * layout.chunk_size - 100);
        let c = commit_bytes(&data, layout).unwrap();
        let tree = naive_tree(&data, layout);
        let n = c.num_chunks();
        let b = block_chunks as u64;
        let indices = [0, b - 1, b, 2 * b - 1, 2 * b, n - 1, 12345 % n];
        let name = Path::new("memory");
        let many = open_many(&data, name, &c, &indices, None, &mut |_| Ok(())).unwrap();
        for (o, &i) in many.iter().zip(&indices) {
            assert_eq!(o.proof, tree.proof(i).unwrap(), "index {i}");
        }
        let mut changed = data.clone();
        changed[b as usize * layout.chunk_size + 5] ^= 1;
        assert!(matches!(
            open_many(&changed, name, &c, &[0], None, &mut |_| Ok(())),
            Err(Error::CommitmentMismatch(_))
        ));
        // A source shorter than the commitment: an I/O error naming the source.
        let short = data[..data.len() - 1].to_vec();
        match open_many(&short, name, &c, &[0], None, &mut |_| Ok(())) {
            Err(Error::Io { path, .. }) => assert_eq!(path, "memory"),
            other => panic!("{other:?}"),
        }
    }

    fn naive_tree(data: &[u8], layout: Layout) -> merkle::MerkleTree {
        let leaves = data
            .chunks(layout.chunk_size)
            .map(|c| leaf_hash_unpadded(c, layout.chunk_size))
            .collect();
        merkle::MerkleTree::new(leaves, layout.arity).unwrap()
    }

    #[test]
    fn tree_file_stores_exactly_the_upper_levels_and_opens_from_them() {
        let dir = std::env::temp_dir().join(format!("bfzk-tree-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // (layout, chunks): several streamed blocks for the big-chunk layouts (block heights 3
        // and 1), a partial last block, and a file smaller than one stored node.
        let cases = [
            (Layout::new(65472, 4).unwrap(), 64 * 2 + 37),
            (Layout::new(65472, 16).unwrap(), 16 * 3 + 5),
            (Layout::default(), 100),
            (Layout::new(62, 8).unwrap(), 5),
        ];
        for (layout, chunks) in cases {
            let data = pattern(chunks * layout.chunk_size - 7);
            let path = dir.join("f.bin");
            let tree_path = dir.join("f.bfzt");
            std::fs::write(&path, &data).unwrap();
            let c = commit_file(&path, layout, Some(&tree_path), &mut |_| Ok(())).unwrap();
            assert_eq!(c, commit_bytes(&data, layout).unwrap());

            // Every stored node is the naive tree's node.
            let naive = naive_tree(&data, layout);
            let t = TreeFile::open(&tree_path, &c).unwrap();
            for l in t.min_level..=c.depth() {
                for (p, v) in naive.level(l).iter().enumerate() {
                    assert_eq!(t.node(l, p as u64).unwrap(), *v, "level {l} pos {p}");
                }
            }
            // Openings with the tree equal openings without it.
            for i in [0, chunks as u64 / 2, chunks as u64 - 1] {
                let with = open_file(&path, &c, i, Some(&tree_path), &mut |_| Ok(())).unwrap();
                let without = open_file(&path, &c, i, None, &mut |_| Ok(())).unwrap();
                assert_eq!(with, without);
                assert_eq!(with.proof, naive.proof(i).unwrap());
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tree_file_errors_name_the_problem() {
        let dir = std::env::temp_dir().join(format!("bfzk-tree-err-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let layout = Layout::default();
        let path = dir.join("f.bin");
        let tree_path = dir.join("f.bfzt");
        let data = pattern(992 * 100);
        std::fs::write(&path, &data).unwrap();
        let c = commit_file(&path, layout, Some(&tree_path), &mut |_| Ok(())).unwrap();
        let open = |i: u64| open_file(&path, &c, i, Some(&tree_path), &mut |_| Ok(()));

        // A changed byte in chunk 37 is pinned to its 16-chunk group.
        let mut changed = data.clone();
        changed[992 * 37 + 5] ^= 1;
        std::fs::write(&path, &changed).unwrap();
        match open(40) {
            Err(Error::CommitmentMismatch(m)) => assert!(m.contains("chunks 32..=47"), "{m}"),
            other => panic!("{other:?}"),
        }
        std::fs::write(&path, &data).unwrap();
        assert!(open(40).is_ok());

        // A corrupted stored node is reported as a bad tree file.
        let mut bytes = std::fs::read(&tree_path).unwrap();
        let good = bytes.clone();
        let last = bytes.len() - 40; // inside the stored levels, above the group of chunk 0
        bytes[last] ^= 1;
        std::fs::write(&tree_path, &bytes).unwrap();
        let r = (0..100).map(open).find(|r| r.is_err());
        assert!(matches!(r, Some(Err(Error::Decode { .. }))), "{r:?}");

        // Truncated, or another commitment's tree: refused up front.
        std::fs::write(&tree_path, &good[..good.len() - 1]).unwrap();
        assert!(matches!(open(0), Err(Error::Decode { .. })));
        let other = commit_bytes(&pattern(992 * 100 + 1), layout).unwrap();
        std::fs::write(&tree_path, &good).unwrap();
        assert!(matches!(
            open_file(&path, &other, 0, Some(&tree_path), &mut |_| Ok(())),
            Err(Error::Decode { .. }) | Err(Error::CommitmentMismatch(_))
        ));

        // The tree path may not be the committed file itself (the rename would replace it).
        let r = commit_file(&path, layout, Some(&path), &mut |_| Ok(()));
        assert!(matches!(r, Err(Error::InvalidParameter(_))), "{r:?}");
        assert_eq!(std::fs::read(&path).unwrap(), data);

        // A commit that fails after hashing (the file changed) leaves the old tree file alone.
        let before = std::fs::read(&tree_path).unwrap();
        let big = dir.join("big.bin");
        std::fs::write(&big, pattern(3 * 8 * 1024 * 1024)).unwrap();
        let mut first = true;
        let r = commit_file(&big, layout, Some(&tree_path), &mut |_| {
            if std::mem::take(&mut first) {
                let f = std::fs::OpenOptions::new().append(true).open(&big).unwrap();
                f.set_len(3 * 8 * 1024 * 1024 + 1).unwrap();
            }
            Ok(())
        });
        assert!(matches!(r, Err(Error::FileChanged { .. })), "{r:?}");
        assert_eq!(std::fs::read(&tree_path).unwrap(), before);

        // An interrupted commit leaves neither the tree file nor a temporary behind.
        let fresh = dir.join("g.bfzt");
        let r = commit_file(&path, layout, Some(&fresh), &mut |_| {
            Err(Error::Interrupted)
        });
        assert!(matches!(r, Err(Error::Interrupted)));
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("g.bfzt"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
