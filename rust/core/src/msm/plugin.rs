//! MSM plug-ins: shared libraries with the C ABI of `docs/spec/msm-plugin.md`, loaded at run
//! time with `libloading`, so that no plug-in (and no GPU toolkit) is needed to build.
//!
//! [`load`] opens a library once per path and process, checks it (symbols, ABI version, init,
//! a self-test against the CPU) and keeps it loaded for good; [`Plugin::msm`] runs one MSM and
//! validates the point it returns. The layout helpers ([`point_to_abi`], ...) are public so that
//! Rust plug-ins (`rust/msm-plugin-cpu`) share the host's exact encoding.

use ark_bn254::{Fq, Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInt, BigInteger, Field as _, PrimeField, Zero};
use rayon::prelude::*;
use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The ABI version this build speaks (`bigfile_msm_abi_version()` must return it).
pub const ABI_VERSION: u32 = 1;
/// Bytes per G1 point (`x ‖ y`, each 32 bytes little-endian, canonical).
pub const POINT_BYTES: usize = 64;
/// Bytes per scalar (32 bytes little-endian, canonical).
pub const SCALAR_BYTES: usize = 32;

/// Return codes of `bigfile_msm_init` / `bigfile_msm_g1`.
pub mod code {
    pub const OK: i32 = 0;
    pub const EINVAL: i32 = 1;
    pub const EUNAVAILABLE: i32 = 2;
    pub const EDEVICE: i32 = 3;
    pub const EINTERNAL: i32 = 4;

    /// The spec's name for a code.
    pub fn name(code: i32) -> &'static str {
        match code {
            OK => "OK",
            EINVAL => "EINVAL",
            EUNAVAILABLE => "EUNAVAILABLE",
            EDEVICE => "EDEVICE",
            EINTERNAL => "EINTERNAL",
            _ => "unknown code",
        }
    }
}

/// Why a plug-in could not be loaded or could not compute an MSM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("cannot load the MSM plug-in {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("{path} is not an MSM plug-in: it does not export `{symbol}`")]
    MissingSymbol { path: String, symbol: &'static str },
    #[error("the MSM plug-in {path} speaks ABI version {found}; this bigfile_zk needs {expected}")]
    AbiVersion {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error("MSM plug-in {name}: {op} failed with code {code} ({}): {message}", code::name(*.code))]
    Call {
        name: String,
        op: &'static str,
        code: i32,
        message: String,
    },
    #[error("MSM plug-in {name} returned an invalid point: {reason}")]
    BadOutput { name: String, reason: String },
    #[error("MSM plug-in {name} failed its self-test: it disagrees with the CPU on a small MSM")]
    SelfTest { name: String },
    #[error("MSM plug-in input: {0}")]
    Input(String),
}

impl PluginError {
    /// Whether the plug-in is broken (rather than the device busy or short of memory for one
    /// MSM): the host then stops using it.
    pub fn is_fatal(&self) -> bool {
        match self {
            PluginError::Call { code, .. } => !matches!(*code, code::EUNAVAILABLE | code::EDEVICE),
            PluginError::Input(_) => false,
            _ => true,
        }
    }
}

type AbiVersionFn = unsafe extern "C" fn() -> u32;
type NameFn = unsafe extern "C" fn() -> *const c_char;
type InitFn = unsafe extern "C" fn() -> i32;
type G1Fn = unsafe extern "C" fn(*const u8, *const u8, usize, *mut u8) -> i32;
type LastErrorFn = unsafe extern "C" fn(*mut c_char, usize) -> usize;

/// A loaded, initialised and self-tested plug-in. Lives until the process exits.
pub struct Plugin {
    path: PathBuf,
    name: String,
    g1: G1Fn,
    last_error: LastErrorFn,
    /// The ABI promises plug-ins that calls never overlap.
    lock: Mutex<()>,
    // Keeps the code behind the function pointers mapped; never dropped (see `load`).
    _lib: libloading::Library,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

/// Open, check, initialise and self-test the plug-in at `path` (a path, or a bare file name
/// for the system's library search path). Each path is loaded at most once per process and
/// never unloaded: GPU runtimes rarely survive `dlclose`, and the function pointers stay valid.
///
/// A library that was opened but refused (ABI version, init, self-test) stays refused for the
/// process: its `bigfile_msm_init` must not run twice. A file that could not be opened at all
/// is looked for again next time.
pub fn load(path: &Path) -> Result<&'static Plugin, PluginError> {
    type Loaded = HashMap<PathBuf, Result<&'static Plugin, PluginError>>;
    static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(known) = loaded.get(&key) {
        return known.clone();
    }
    let outcome = open(path).and_then(|p| {
        let p: &'static Plugin = Box::leak(Box::new(p));
        p.self_test().map(|()| p)
    });
    if !matches!(outcome, Err(PluginError::Load { .. })) {
        loaded.insert(key, outcome.clone());
    }
    outcome
}

fn open(path: &Path) -> Result<Plugin, PluginError> {
    let shown = path.display().to_string();
    // A bare name is searched for by the loader; anything else must exist (a clearer error
    // than the loader's).
    if path.components().count() > 1 && !path.exists() {
        return Err(PluginError::Load {
            path: shown,
            reason: "no such file".into(),
        });
    }
    // SAFETY: loading a library runs its initialisers. That is the point of a plug-in, and the
    // spec asks plug-ins to do nothing in them; the user chose this library.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| PluginError::Load {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    // Once opened, the library stays mapped even if it is refused: unloading code that may
    // have started threads (in init) is not safe.
    let lib = std::mem::ManuallyDrop::new(lib);
    macro_rules! sym {
        ($t:ty, $name:literal) => {{
            // SAFETY: the spec fixes the symbol's C signature, which `$t` spells; the pointer
            // is copied out but `lib` (hence the code) is never unloaded.
            let s = unsafe { lib.get::<$t>(concat!($name, "\0").as_bytes()) };
            *s.map_err(|_| PluginError::MissingSymbol {
                path: shown.clone(),
                symbol: $name,
            })?
        }};
    }
    let abi_version = sym!(AbiVersionFn, "bigfile_msm_abi_version");
    let name_fn = sym!(NameFn, "bigfile_msm_name");
    let init = sym!(InitFn, "bigfile_msm_init");
    let g1 = sym!(G1Fn, "bigfile_msm_g1");
    let last_error = sym!(LastErrorFn, "bigfile_msm_last_error");

    // SAFETY: no arguments; the spec requires the function to be callable at any time.
    let found = unsafe { abi_version() };
    if found != ABI_VERSION {
        return Err(PluginError::AbiVersion {
            path: shown,
            found,
            expected: ABI_VERSION,
        });
    }
    // SAFETY: the spec requires a NUL-terminated string valid while the library is loaded (or
    // null, which we check); we copy it at once.
    let name = unsafe {
        let p = name_fn();
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p)
                .to_string_lossy()
                .chars()
                .take(255)
                .collect()
        }
    };
    let name = if name.trim().is_empty() {
        path.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.clone())
    } else {
        name
    };
    let plugin = Plugin {
        path: path.to_path_buf(),
        name,
        g1,
        last_error,
        lock: Mutex::new(()),
        _lib: std::mem::ManuallyDrop::into_inner(lib),
    };
    // SAFETY: called once, before any MSM, as the spec requires (we hold the only reference).
    let rc = unsafe { init() };
    if rc != code::OK {
        let err = plugin.call_error("init", rc);
        // The plug-in is refused but stays loaded (see above).
        std::mem::forget(plugin);
        return Err(err);
    }
    Ok(plugin)
}

impl Plugin {
    /// The name the plug-in gives itself (or its file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn call_error(&self, op: &'static str, rc: i32) -> PluginError {
        let mut buf = vec![0u8; 1024];
        // SAFETY: `buf` is writable for `buf.len()` bytes, as the spec's `cap` says; called
        // right after the failure, before any other call (callers hold the lock or are `open`).
        let len = unsafe { (self.last_error)(buf.as_mut_ptr().cast(), buf.len()) };
        let end = len.min(buf.len() - 1);
        let message = String::from_utf8_lossy(&buf[..end]).trim().to_string();
        PluginError::Call {
            name: self.name.clone(),
            op,
            code: rc,
            message: if message.is_empty() {
                "no message".into()
            } else {
                message
            },
        }
    }

    /// `Σ scalars[i]·bases[i]` on the plug-in, its result checked (canonical, on the curve).
    pub fn msm(&self, bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective, PluginError> {
        if bases.len() != scalars.len() {
            return Err(PluginError::Input(format!(
                "{} points but {} scalars",
                bases.len(),
                scalars.len()
            )));
        }
        let points = encode_points(bases);
        let scalars = encode_scalars(scalars);
        let out = self.call(&points, &scalars, bases.len())?;
        point_from_abi(&out)
            .map(|p| p.into_group())
            .map_err(|reason| PluginError::BadOutput {
                name: self.name.clone(),
                reason,
            })
    }

    /// The raw call on encoded bytes (`64·n` and `32·n` bytes, the spec's layouts), without
    /// checking the inputs: for testing plug-ins' own input checks. The result is returned as
    /// the plug-in wrote it.
    pub fn msm_raw(&self, points: &[u8], scalars: &[u8]) -> Result<[u8; 64], PluginError> {
        if !points.len().is_multiple_of(POINT_BYTES)
            || !scalars.len().is_multiple_of(SCALAR_BYTES)
            || points.len() / POINT_BYTES != scalars.len() / SCALAR_BYTES
        {
            return Err(PluginError::Input(format!(
                "{} bytes of points and {} bytes of scalars are not n points and n scalars",
                points.len(),
                scalars.len()
            )));
        }
        self.call(
            &aligned(points),
            &aligned(scalars),
            points.len() / POINT_BYTES,
        )
    }

    fn call(&self, points: &[u64], scalars: &[u64], n: usize) -> Result<[u8; 64], PluginError> {
        debug_assert!(points.len() == 8 * n && scalars.len() == 4 * n);
        let mut out = [0u64; 8];
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `points` holds 64·n bytes and `scalars` 32·n bytes, both 8-byte aligned, and
        // `out` 64 writable bytes, all valid for the whole call and not aliased; the lock
        // serialises calls as the spec promises.
        let rc = unsafe {
            (self.g1)(
                points.as_ptr().cast(),
                scalars.as_ptr().cast(),
                n,
                out.as_mut_ptr().cast(),
            )
        };
        if rc != code::OK {
            return Err(self.call_error("bigfile_msm_g1", rc));
        }
        let mut bytes = [0u8; 64];
        for (dst, limb) in bytes.chunks_exact_mut(8).zip(out) {
            // `out` holds the plug-in's bytes; reinterpret them in memory order.
            dst.copy_from_slice(&limb.to_ne_bytes());
        }
        Ok(bytes)
    }

    /// A fixed small MSM (identity point, zero scalar, `r − 1`, repeated points) that must
    /// match the CPU exactly; catches layout mistakes (Montgomery form, byte order).
    fn self_test(&self) -> Result<(), PluginError> {
        let (bases, scalars) = self_test_inputs();
        let expected = super::pippenger::msm(&bases, &scalars).into_affine();
        match self.msm(&bases, &scalars) {
            Ok(p) if p.into_affine() == expected => Ok(()),
            Ok(_) => Err(PluginError::SelfTest {
                name: self.name.clone(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// The self-test's inputs: 24 points `k·G` (one the identity, two equal) and scalars that
/// cover 0, 1, `r − 1` and full-size values.
fn self_test_inputs() -> (Vec<G1Affine>, Vec<Fr>) {
    let g = G1Projective::generator();
    let mut pts: Vec<G1Projective> = (1..=24u64).map(|k| g * Fr::from(k * k + 7)).collect();
    pts[5] = G1Projective::zero();
    pts[9] = pts[8];
    let bases = G1Projective::normalize_batch(&pts);
    let mut x = Fr::from(0x9e37_79b9_7f4a_7c15u64);
    let scalars = (0..24)
        .map(|i| match i {
            0 => Fr::zero(),
            1 => Fr::from(1u64),
            2 => -Fr::from(1u64),
            _ => {
                x = x.square() + Fr::from(i as u64);
                x
            }
        })
        .collect();
    (bases, scalars)
}

fn aligned(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

fn le_limbs<F: PrimeField<BigInt = BigInt<4>>>(x: &F) -> [u64; 4] {
    // `to_le` makes the in-memory bytes little-endian on any target.
    x.into_bigint().0.map(u64::to_le)
}

/// Points in the ABI layout as 8-byte-aligned limbs (parallel: this is O(n) field
/// conversions, small next to the MSM but not nothing at 2^20).
fn encode_points(bases: &[G1Affine]) -> Vec<u64> {
    let mut out = vec![0u64; 8 * bases.len()];
    out.par_chunks_mut(8).zip(bases).for_each(|(dst, p)| {
        if let Some((x, y)) = p.xy() {
            dst[..4].copy_from_slice(&le_limbs(&x));
            dst[4..].copy_from_slice(&le_limbs(&y));
        }
    });
    out
}

fn encode_scalars(scalars: &[Fr]) -> Vec<u64> {
    let mut out = vec![0u64; 4 * scalars.len()];
    out.par_chunks_mut(4)
        .zip(scalars)
        .for_each(|(dst, s)| dst.copy_from_slice(&le_limbs(s)));
    out
}

/// The 64-byte ABI encoding of a point (identity = zeros).
pub fn point_to_abi(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if let Some((x, y)) = p.xy() {
        out[..32].copy_from_slice(&x.into_bigint().to_bytes_le());
        out[32..].copy_from_slice(&y.into_bigint().to_bytes_le());
    }
    out
}

/// The 32-byte ABI encoding of a scalar.
pub fn scalar_to_abi(s: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&s.into_bigint().to_bytes_le());
    out
}

fn bigint_le(b: &[u8]) -> BigInt<4> {
    BigInt::new(std::array::from_fn(|i| {
        u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"))
    }))
}

/// Decode a 64-byte ABI point strictly: canonical coordinates, on the curve or all zeros.
pub fn point_from_abi(b: &[u8; 64]) -> Result<G1Affine, String> {
    if b.iter().all(|&x| x == 0) {
        return Ok(G1Affine::identity());
    }
    let coord = |i: usize, what: &str| {
        Fq::from_bigint(bigint_le(&b[32 * i..32 * i + 32]))
            .ok_or_else(|| format!("{what} is not below the base-field modulus q"))
    };
    let p = G1Affine::new_unchecked(coord(0, "x")?, coord(1, "y")?);
    if !p.is_on_curve() {
        return Err("not on the BN254 curve (and not the all-zero identity)".into());
    }
    Ok(p)
}

/// Decode a 32-byte ABI scalar strictly (`< r`).
pub fn scalar_from_abi(b: &[u8; 32]) -> Result<Fr, String> {
    Fr::from_bigint(bigint_le(b)).ok_or_else(|| "not below the scalar-field modulus r".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_spec_example() {
        // docs/spec/msm-plugin.md: [G, 2G]·[1, 1] = 3G, little-endian canonical coordinates.
        let g = G1Affine::generator();
        let mut g_bytes = [0u8; 64];
        g_bytes[0] = 1;
        g_bytes[32] = 2;
        assert_eq!(point_to_abi(&g), g_bytes);
        let three = (g * Fr::from(3u64)).into_affine();
        let hex: String = point_to_abi(&three)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "f0ab15199655d3f279e6b81547d8159315bdb6b1bc3202f43fea6bc59abf6907\
             6122fed93dfff1cd575b9c0bb4639e317564088d7cdb4f55299448e0be99b72a"
        );
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(scalar_to_abi(&Fr::from(1u64)), one);
        // The limb encoders write the same bytes as the byte encoders.
        let limbs = encode_points(&[three, G1Affine::identity()]);
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_ne_bytes()).collect();
        assert_eq!(bytes[..64], point_to_abi(&three));
        assert!(bytes[64..].iter().all(|&b| b == 0));
        let s = -Fr::from(5u64);
        let limbs = encode_scalars(&[s]);
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_ne_bytes()).collect();
        assert_eq!(bytes, scalar_to_abi(&s));
    }

    #[test]
    fn strict_decoding() {
        let g = G1Affine::generator();
        assert_eq!(point_from_abi(&point_to_abi(&g)).unwrap(), g);
        assert!(point_from_abi(&[0u8; 64]).unwrap().is_zero());
        let mut off = point_to_abi(&g);
        off[32] = 3;
        assert!(point_from_abi(&off).unwrap_err().contains("curve"));
        // x = q + 1 would be 1 mod q: refused, not reduced.
        let mut big = point_to_abi(&g);
        let q_plus_1 = Fq::MODULUS.to_bytes_le();
        big[..32].copy_from_slice(&q_plus_1);
        big[0] += 1;
        assert!(point_from_abi(&big).unwrap_err().contains("modulus"));
        let r: [u8; 32] = Fr::MODULUS.to_bytes_le().try_into().unwrap();
        assert!(scalar_from_abi(&r).is_err());
        let s = -Fr::from(1u64);
        assert_eq!(scalar_from_abi(&scalar_to_abi(&s)).unwrap(), s);
    }

    #[test]
    fn missing_library_is_a_load_error() {
        let e = load(Path::new("/nonexistent/dir/libnothing.so")).unwrap_err();
        assert!(matches!(e, PluginError::Load { .. }), "{e}");
        assert!(e.to_string().contains("no such file"), "{e}");
        assert!(e.is_fatal());
    }
}
