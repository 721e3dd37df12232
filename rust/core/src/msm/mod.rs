//! Multi-scalar multiplication on BN254 G1: `Σ s_i·P_i`.
//!
//! Every MSM of the crate (KZG commitments, SRS checks, the prover) goes through [`msm`], so that
//! the implementation can change in one place. It runs on a **backend**: the CPU ([`pippenger`],
//! the default) or a plug-in loaded at run time ([`plugin`], `docs/spec/msm-plugin.md`), e.g.
//! the ICICLE GPU plug-in. The backend is chosen by [`set_backend`] or, if that is never
//! called, by the environment variable `BIGFILE_ZK_MSM` (`cpu`, `gpu` or a library path), read
//! once.
//!
//! A plug-in is never needed and never trusted blindly: if it is absent, refuses to start,
//! fails its self-test or fails an MSM, the CPU computes instead and a warning is queued.
//! The core has no logging: callers collect the warnings with [`take_warnings`] (the Python
//! bindings turn them into `bigfile_zk.errors.BackendFallbackWarning`).

pub mod pippenger;
pub mod plugin;

pub use plugin::{Plugin, PluginError};

use crate::error::{Error, Result};
use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

/// Environment variable selecting the backend: `cpu` (default), `gpu`, or a plug-in path.
pub const ENV_BACKEND: &str = "BIGFILE_ZK_MSM";
/// Environment variable naming the first directory searched for the `gpu` plug-in.
pub const ENV_PLUGIN_DIR: &str = "BIGFILE_ZK_MSM_PLUGIN_DIR";
/// Environment variable overriding [`DEFAULT_MIN_SIZE`].
pub const ENV_MIN_SIZE: &str = "BIGFILE_ZK_MSM_MIN_SIZE";
/// MSMs with fewer points stay on the CPU: below this, a device round trip costs more than the
/// MSM itself.
pub const DEFAULT_MIN_SIZE: usize = 1 << 12;
/// The `gpu` plug-in's library name, without the platform's prefix and suffix
/// (`libbigfile_msm_icicle.so` on Linux).
pub const GPU_PLUGIN: &str = "bigfile_msm_icicle";

/// `Σ scalars[i]·bases[i]` on the selected backend (the CPU unless a plug-in was chosen and
/// works; see the module docs).
pub fn msm(bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective> {
    check_lengths(bases, scalars)?;
    let (backend, min_size) = {
        let state = state();
        (state.backend, state.min_size)
    };
    if let Backend::Plugin(p) = backend {
        if bases.len() >= min_size.max(1) {
            match p.msm(bases, scalars) {
                Ok(r) => return Ok(r),
                Err(e) => runtime_failure(p, e),
            }
        }
    }
    Ok(pippenger::msm(bases, scalars))
}

/// `Σ scalars[i]·bases[i]` on the CPU, whatever the backend (what CPU plug-ins call).
pub fn cpu_msm(bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective> {
    check_lengths(bases, scalars)?;
    Ok(pippenger::msm(bases, scalars))
}

/// arkworks' `VariableBaseMSM`, the baseline the CPU MSM is measured and tested against.
pub fn arkworks_msm(bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective> {
    check_lengths(bases, scalars)?;
    Ok(G1Projective::msm(bases, scalars).expect("equal lengths"))
}

fn check_lengths(bases: &[G1Affine], scalars: &[Fr]) -> Result<()> {
    check_counts(bases.len(), scalars.len())
}

fn check_counts(points: usize, scalars: usize) -> Result<()> {
    if points != scalars {
        return Err(Error::param(format!(
            "an MSM needs as many scalars as points: {points} points, {scalars} scalars"
        )));
    }
    Ok(())
}

/// Decode `n` concatenated 64-byte EVM G1 encodings (`x ‖ y` big-endian, identity = zeros),
/// checking each (in parallel); an error names the first bad index.
pub fn points_from_evm_bytes(bytes: &[u8]) -> Result<Vec<G1Affine>> {
    if !bytes.len().is_multiple_of(64) {
        return Err(Error::param(format!(
            "points: {} bytes is not a whole number of 64-byte points",
            bytes.len()
        )));
    }
    bytes
        .par_chunks_exact(64)
        .enumerate()
        .map(|(i, b)| {
            crate::encoding::g1_from_bytes(b).map_err(|e| {
                let why = match e {
                    Error::Decode { reason, .. } => reason,
                    other => other.to_string(),
                };
                Error::decode("G1 point", format!("points[{i}]: {why}"))
            })
        })
        .collect()
}

/// [`msm`] on EVM encodings: `points` is `64·n` bytes (checked as [`points_from_evm_bytes`]
/// does), the result a 64-byte EVM point. What the Python bindings call.
pub fn msm_evm(points: &[u8], scalars: &[Fr]) -> Result<[u8; 64]> {
    evm(points, scalars, msm)
}

/// [`arkworks_msm`] on EVM encodings (benchmarks and tests).
pub fn arkworks_msm_evm(points: &[u8], scalars: &[Fr]) -> Result<[u8; 64]> {
    evm(points, scalars, arkworks_msm)
}

fn evm(
    points: &[u8],
    scalars: &[Fr],
    f: fn(&[G1Affine], &[Fr]) -> Result<G1Projective>,
) -> Result<[u8; 64]> {
    // Counts first: cheaper than decoding, and a clearer message.
    if points.len().is_multiple_of(64) {
        check_counts(points.len() / 64, scalars.len())?;
    }
    let bases = points_from_evm_bytes(points)?;
    Ok(crate::encoding::g1_to_bytes(
        &f(&bases, scalars)?.into_affine(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Backend selection
// ---------------------------------------------------------------------------------------------

/// Where MSMs run.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Cpu,
    Plugin(&'static Plugin),
}

/// What [`backend`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendInfo {
    /// `"cpu"`, or the plug-in's own name.
    pub name: String,
    /// The plug-in's library, `None` for the CPU.
    pub path: Option<PathBuf>,
    /// MSMs with fewer points run on the CPU.
    pub min_size: usize,
}

impl std::fmt::Display for BackendInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            None => write!(f, "cpu"),
            Some(p) => write!(f, "{} ({})", self.name, p.display()),
        }
    }
}

#[derive(Clone, Copy)]
struct State {
    backend: Backend,
    min_size: usize,
}

/// `None` until the first MSM or selection: the environment is read then, once.
static STATE: RwLock<Option<State>> = RwLock::new(None);
static WARNINGS: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// Unread warnings kept (the oldest are dropped), so that a caller that never reads them does
/// not leak.
const MAX_WARNINGS: usize = 64;
static SEARCH_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn state() -> State {
    if let Some(s) = *STATE.read().unwrap_or_else(|e| e.into_inner()) {
        return s;
    }
    let mut guard = STATE.write().unwrap_or_else(|e| e.into_inner());
    *guard.get_or_insert_with(state_from_env)
}

fn env_min_size() -> usize {
    match std::env::var(ENV_MIN_SIZE) {
        Err(_) => DEFAULT_MIN_SIZE,
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            warn(format!(
                "{ENV_MIN_SIZE}={v:?} is not a number of points; using {DEFAULT_MIN_SIZE}"
            ));
            DEFAULT_MIN_SIZE
        }),
    }
}

fn state_from_env() -> State {
    let min_size = env_min_size();
    let backend = match std::env::var(ENV_BACKEND) {
        Err(_) => Backend::Cpu,
        Ok(v) if v.trim().is_empty() => Backend::Cpu,
        Ok(v) => match BackendRequest::parse(&v) {
            Ok(request) => resolve(&request, &format!("{ENV_BACKEND}={v}")),
            Err(e) => {
                warn(format!("{ENV_BACKEND}: {e}; using the CPU"));
                Backend::Cpu
            }
        },
    };
    State { backend, min_size }
}

/// A backend asked for by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendRequest {
    Cpu,
    /// The ICICLE plug-in, found by [`gpu_plugin_candidates`].
    Gpu,
    /// A plug-in library at this path.
    Path(PathBuf),
}

impl BackendRequest {
    /// `cpu`, `gpu` (any case), or a path: anything with a path separator or ending in a
    /// shared-library suffix. Everything else is refused rather than guessed at.
    pub fn parse(spec: &str) -> Result<Self> {
        let s = spec.trim();
        if s.eq_ignore_ascii_case("cpu") {
            return Ok(Self::Cpu);
        }
        if s.eq_ignore_ascii_case("gpu") {
            return Ok(Self::Gpu);
        }
        let looks_like_path = s.contains('/')
            || s.contains(std::path::MAIN_SEPARATOR)
            || [".so", ".dylib", ".dll"].iter().any(|ext| s.ends_with(ext))
            || s.contains(".so.");
        if looks_like_path {
            return Ok(Self::Path(PathBuf::from(s)));
        }
        Err(Error::param(format!(
            "unknown MSM backend {spec:?}: expected \"cpu\", \"gpu\" or the path of a plug-in \
             library"
        )))
    }
}

/// The plug-in for `request`, or the CPU with a queued warning saying why.
fn resolve(request: &BackendRequest, origin: &str) -> Backend {
    let outcome = match request {
        BackendRequest::Cpu => return Backend::Cpu,
        BackendRequest::Path(p) => plugin::load(p).map_err(|e| e.to_string()),
        BackendRequest::Gpu => load_gpu(),
    };
    match outcome {
        Ok(p) => Backend::Plugin(p),
        Err(why) => {
            warn(format!("{origin}: {why}; using the CPU for MSMs"));
            Backend::Cpu
        }
    }
}

fn load_gpu() -> std::result::Result<&'static Plugin, String> {
    let mut tried = Vec::new();
    for path in gpu_plugin_candidates() {
        match plugin::load(&path) {
            Ok(p) => return Ok(p),
            // Not there: try the next place. Present but unusable: that is the answer.
            Err(PluginError::Load { .. }) if path.components().count() > 1 && !path.exists() => {
                tried.push(path.display().to_string())
            }
            Err(PluginError::Load { reason, .. }) if path.components().count() == 1 => tried.push(
                format!("{} on the library search path ({reason})", path.display()),
            ),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "the GPU (ICICLE) MSM plug-in is not installed; looked for {} (build it from \
         rust/msm-plugin-icicle, see its README, and put it in ${ENV_PLUGIN_DIR})",
        tried.join(", ")
    ))
}

/// Where `gpu` looks, in order: `$BIGFILE_ZK_MSM_PLUGIN_DIR`, the directories registered with
/// [`add_plugin_search_dir`] (the Python package's), then the bare library name for the
/// system loader's search path.
pub fn gpu_plugin_candidates() -> Vec<PathBuf> {
    let file = format!(
        "{}{GPU_PLUGIN}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let mut dirs: Vec<PathBuf> = std::env::var_os(ENV_PLUGIN_DIR)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.extend(
        SEARCH_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned(),
    );
    let mut out: Vec<PathBuf> = dirs.into_iter().map(|d| d.join(&file)).collect();
    out.push(PathBuf::from(file));
    out
}

/// Also look for the `gpu` plug-in in `dir` (after `$BIGFILE_ZK_MSM_PLUGIN_DIR`).
pub fn add_plugin_search_dir(dir: &Path) {
    let mut dirs = SEARCH_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    if !dirs.iter().any(|d| d == dir) {
        dirs.push(dir.to_path_buf());
    }
}

/// Select the backend for every later MSM of the process (overriding `BIGFILE_ZK_MSM`), and
/// optionally the size below which MSMs stay on the CPU. An unknown `spec` is an error; a
/// plug-in that cannot be used selects the CPU and queues a warning ([`take_warnings`]).
/// Returns what is now active.
pub fn set_backend(spec: &str, min_size: Option<usize>) -> Result<BackendInfo> {
    let request = BackendRequest::parse(spec)?;
    let backend = resolve(&request, &format!("MSM backend {spec:?}"));
    let mut guard = STATE.write().unwrap_or_else(|e| e.into_inner());
    let min_size = min_size
        .or(guard.map(|s| s.min_size))
        .unwrap_or_else(env_min_size);
    *guard = Some(State { backend, min_size });
    drop(guard);
    Ok(backend_info())
}

/// The active backend (reads the environment if nothing was selected yet).
pub fn backend_info() -> BackendInfo {
    let s = state();
    match s.backend {
        Backend::Cpu => BackendInfo {
            name: "cpu".into(),
            path: None,
            min_size: s.min_size,
        },
        Backend::Plugin(p) => BackendInfo {
            name: p.name().to_string(),
            path: Some(p.path().to_path_buf()),
            min_size: s.min_size,
        },
    }
}

/// The backends that can be selected here: `"cpu"`, plus `"gpu"` if the ICICLE plug-in is
/// found and starts (this loads and initialises it).
pub fn available() -> Vec<String> {
    let mut out = vec!["cpu".to_string()];
    if load_gpu().is_ok() {
        out.push("gpu".into());
    }
    out
}

/// Drain the queued fallback warnings (oldest first).
pub fn take_warnings() -> Vec<String> {
    WARNINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain(..)
        .collect()
}

fn warn(msg: String) {
    let mut w = WARNINGS.lock().unwrap_or_else(|e| e.into_inner());
    if w.len() == MAX_WARNINGS {
        w.pop_front();
    }
    w.push_back(msg);
}

/// A plug-in failed one MSM: warn, and stop using it if it is broken (not merely out of
/// device memory for this size).
fn runtime_failure(p: &'static Plugin, e: PluginError) {
    if e.is_fatal() {
        let mut guard = STATE.write().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = guard.as_mut() {
            if matches!(s.backend, Backend::Plugin(q) if std::ptr::eq(q, p)) {
                s.backend = Backend::Cpu;
            }
        }
        warn(format!(
            "{e}; computed on the CPU, and the CPU is used for MSMs from now on"
        ));
    } else {
        warn(format!("{e}; this MSM was computed on the CPU"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parsing() {
        assert_eq!(BackendRequest::parse(" CPU ").unwrap(), BackendRequest::Cpu);
        assert_eq!(BackendRequest::parse("gpu").unwrap(), BackendRequest::Gpu);
        assert_eq!(
            BackendRequest::parse("./libx.so").unwrap(),
            BackendRequest::Path("./libx.so".into())
        );
        assert_eq!(
            BackendRequest::parse("libx.so.1").unwrap(),
            BackendRequest::Path("libx.so.1".into())
        );
        let e = BackendRequest::parse("tpu").unwrap_err().to_string();
        assert!(e.contains("\"tpu\""), "{e}");
    }

    #[test]
    fn gpu_candidates_end_with_the_bare_name() {
        let c = gpu_plugin_candidates();
        let last = c.last().unwrap();
        assert_eq!(last.components().count(), 1);
        assert!(last.to_string_lossy().contains(GPU_PLUGIN));
    }

    #[test]
    fn evm_points_decode_and_name_the_bad_index() {
        use ark_ec::AffineRepr;
        let g = crate::encoding::g1_to_bytes(&G1Affine::generator());
        let mut bytes = [g, [0u8; 64], g].concat();
        let pts = points_from_evm_bytes(&bytes).unwrap();
        assert_eq!(pts.len(), 3);
        assert!(pts[1].is_zero());
        bytes[2 * 64 + 63] ^= 1;
        let e = points_from_evm_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("points[2]"), "{e}");
        assert!(points_from_evm_bytes(&bytes[..100]).is_err());
    }

    #[test]
    fn length_mismatch_is_refused() {
        assert!(msm(&[G1Affine::default()], &[]).is_err());
        assert!(arkworks_msm(&[], &[Fr::from(1u64)]).is_err());
    }
}
