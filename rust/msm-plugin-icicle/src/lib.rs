//! `bigfile-msm-icicle`: the bigfile_zk MSM plug-in (`docs/spec/msm-plugin.md`, ABI version 1)
//! on Ingonyama ICICLE v3, for NVIDIA GPUs through ICICLE's CUDA backend.
//!
//! The ABI's layouts were chosen to be ICICLE's host layouts: a 32-byte little-endian canonical
//! integer is exactly an ICICLE field element (`[u32; 8]` limbs, least significant first) with
//! `are_*_montgomery_form = false`, and ICICLE also encodes the affine identity as `(0, 0)`. So
//! the host's buffers are handed to ICICLE as they are, without conversion.
//!
//! Run-time configuration:
//! * `ICICLE_BACKEND_INSTALL_DIR`: where the ICICLE CUDA backend is installed (ICICLE's own
//!   variable; default `/opt/icicle/lib/backend`);
//! * `BIGFILE_ZK_ICICLE_DEVICE`: `TYPE[:ID]`, default `CUDA:0`. `CPU` runs ICICLE's CPU
//!   backend, which needs no GPU: for checking a build of this plug-in.

use icicle_bn254::curve::{BaseField, G1Affine, G1Projective, ScalarField};
use icicle_core::msm::{msm, MSMConfig};
use icicle_core::traits::FieldImpl;
use icicle_runtime::memory::HostSlice;
use icicle_runtime::Device;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};

#[cfg(not(target_endian = "little"))]
compile_error!("the zero-copy hand-over to ICICLE assumes a little-endian target");

// The hand-over reinterprets the host's buffers as ICICLE types: their sizes must be the ABI's,
// and their alignment at most the 8 bytes the host guarantees.
const _: () = {
    assert!(std::mem::size_of::<G1Affine>() == 64);
    assert!(std::mem::size_of::<ScalarField>() == 32);
    assert!(std::mem::align_of::<G1Affine>() <= 8);
    assert!(std::mem::align_of::<ScalarField>() <= 8);
};

const ABI_VERSION: u32 = 1;
const OK: i32 = 0;
const EINVAL: i32 = 1;
const EUNAVAILABLE: i32 = 2;
const EDEVICE: i32 = 3;
const EINTERNAL: i32 = 4;

/// The ICICLE release this crate is pinned to (Cargo.toml).
const ICICLE_VERSION: &str = "3.1";
const DEVICE_ENV: &str = "BIGFILE_ZK_ICICLE_DEVICE";

/// `r` and `q` as little-endian u64 limbs, for the canonical-form checks.
const R_LIMBS: [u64; 4] = [
    0x43e1f593f0000001,
    0x2833e84879b97091,
    0xb85045b68181585d,
    0x30644e72e131a029,
];
const Q_LIMBS: [u64; 4] = [
    0x3c208c16d87cfd47,
    0x97816a916871ca8d,
    0xb85045b68181585d,
    0x30644e72e131a029,
];

type Failure = (i32, String);

/// The host serialises calls (spec), so one message for the library is enough.
static LAST_ERROR: Mutex<String> = Mutex::new(String::new());
/// The device chosen by `bigfile_msm_init`.
static DEVICE: OnceLock<Device> = OnceLock::new();
static NAME: OnceLock<CString> = OnceLock::new();

fn guarded(body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        Err((EINTERNAL, format!("panic: {what}")))
    });
    match outcome {
        Ok(()) => OK,
        Err((rc, msg)) => {
            *LAST_ERROR.lock().unwrap_or_else(|e| e.into_inner()) = msg;
            rc
        }
    }
}

/// `(type, id)` from `BIGFILE_ZK_ICICLE_DEVICE` (`CUDA:0` by default).
fn device_spec() -> Result<(String, i32), String> {
    let raw = std::env::var(DEVICE_ENV).unwrap_or_else(|_| "CUDA:0".into());
    let (kind, id) = match raw.split_once(':') {
        Some((k, i)) => (k.trim(), i.trim()),
        None => (raw.trim(), "0"),
    };
    let id: i32 = id
        .parse()
        .map_err(|_| format!("{DEVICE_ENV}={raw:?}: the device id must be an integer"))?;
    if kind.is_empty() {
        return Err(format!(
            "{DEVICE_ENV}={raw:?}: expected TYPE[:ID], e.g. CUDA:0"
        ));
    }
    Ok((kind.to_uppercase(), id))
}

#[no_mangle]
pub extern "C" fn bigfile_msm_abi_version() -> u32 {
    ABI_VERSION
}

/// Called before `init`, so the name reflects the requested device.
#[no_mangle]
pub extern "C" fn bigfile_msm_name() -> *const c_char {
    NAME.get_or_init(|| {
        let device = match device_spec() {
            Ok((kind, id)) => format!("{kind} device {id}"),
            Err(_) => "invalid device".into(),
        };
        CString::new(format!("icicle {ICICLE_VERSION} ({device})")).expect("no NUL")
    })
    .as_ptr()
}

/// Load ICICLE's backends and select the device; `EUNAVAILABLE` if that fails.
#[no_mangle]
pub extern "C" fn bigfile_msm_init() -> i32 {
    guarded(|| {
        let (kind, id) = device_spec().map_err(|e| (EUNAVAILABLE, e))?;
        // CPU is built into ICICLE's frontend; anything else is a run-time backend.
        let loaded = icicle_runtime::load_backend_from_env_or_default();
        let device = Device::new(&kind, id);
        if !icicle_runtime::is_device_available(&device) {
            let dir = std::env::var("ICICLE_BACKEND_INSTALL_DIR")
                .unwrap_or_else(|_| "/opt/icicle/lib/backend (the default)".into());
            let registered = icicle_runtime::get_registered_devices()
                .map(|d| d.join(", "))
                .unwrap_or_else(|e| format!("unknown ({e:?})"));
            return Err((
                EUNAVAILABLE,
                format!(
                    "ICICLE has no {kind} device {id} (backend directory {dir}: {}; registered \
                     device types: {registered})",
                    match loaded {
                        Ok(()) => "loaded".to_string(),
                        Err(e) => format!("not loaded, {e:?}"),
                    }
                ),
            ));
        }
        icicle_runtime::set_device(&device)
            .map_err(|e| (EUNAVAILABLE, format!("set_device({kind}:{id}): {e:?}")))?;
        // A second init (not done by the host) keeps the first device.
        let _ = DEVICE.set(device);
        Ok(())
    })
}

/// Whether every 32-byte little-endian value in `bytes` is below `modulus`; the first index
/// that is not, otherwise.
fn first_non_canonical(bytes: &[u8], modulus: &[u64; 4]) -> Option<usize> {
    bytes.chunks_exact(32).position(|b| {
        let limb = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8"));
        // Compare from the most significant limb down.
        for i in (0..4).rev() {
            match limb(i).cmp(&modulus[i]) {
                std::cmp::Ordering::Less => return false,
                std::cmp::Ordering::Greater => return true,
                std::cmp::Ordering::Equal => {}
            }
        }
        true // equal to the modulus
    })
}

/// `out = Σ scalars[i]·points[i]` on the ICICLE device.
///
/// # Safety
///
/// When `n > 0`, `points` and `scalars` must be readable for `64·n` and `32·n` bytes and
/// aligned to 8 bytes; `out` must be writable for 64 bytes; none may overlap (the spec's
/// contract). Null pointers are refused with `EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn bigfile_msm_g1(
    points: *const u8,
    scalars: *const u8,
    n: usize,
    out: *mut u8,
) -> i32 {
    guarded(|| {
        if out.is_null() {
            return Err((EINVAL, "out is null".into()));
        }
        let mut result = [0u8; 64];
        if n > 0 {
            if points.is_null() || scalars.is_null() {
                return Err((EINVAL, format!("points or scalars is null with n = {n}")));
            }
            // ICICLE counts points with an i32.
            if n > i32::MAX as usize {
                return Err((
                    EDEVICE,
                    format!("n = {n} is more than ICICLE takes (2^31 - 1)"),
                ));
            }
            if points as usize % 8 != 0 || scalars as usize % 8 != 0 {
                return Err((EINVAL, "points and scalars must be 8-byte aligned".into()));
            }
            // SAFETY: the host guarantees these extents for the duration of the call; n is at
            // most 2^31 - 1, so 64·n fits in isize on the 64-bit targets ICICLE supports.
            let (point_bytes, scalar_bytes) = unsafe {
                (
                    std::slice::from_raw_parts(points, 64 * n),
                    std::slice::from_raw_parts(scalars, 32 * n),
                )
            };
            if let Some(i) = first_non_canonical(scalar_bytes, &R_LIMBS) {
                return Err((EINVAL, format!("scalars[{i}] is not below r")));
            }
            if let Some(i) = first_non_canonical(point_bytes, &Q_LIMBS) {
                return Err((
                    EINVAL,
                    format!("points[{}]: a coordinate is not below q", i / 2),
                ));
            }
            // SAFETY: the ABI layouts are ICICLE's host layouts (module docs): G1Affine is
            // `#[repr(C)] { x, y }` of `[u32; 8]` little-endian limbs, 64 bytes, alignment
            // <= 8 (checked at compile time); ScalarField likewise 32 bytes; the host
            // guarantees 8-byte alignment (checked above) and every value canonical (checked
            // above); the slices live only during this call and are only read.
            let (bases, scalars) = unsafe {
                (
                    std::slice::from_raw_parts(points.cast::<G1Affine>(), n),
                    std::slice::from_raw_parts(scalars.cast::<ScalarField>(), n),
                )
            };
            result = device_msm(bases, scalars)?;
        }
        // SAFETY: `out` is non-null and writable for 64 bytes (the spec's contract).
        unsafe { std::ptr::copy_nonoverlapping(result.as_ptr(), out, 64) };
        Ok(())
    })
}

fn device_msm(bases: &[G1Affine], scalars: &[ScalarField]) -> Result<[u8; 64], Failure> {
    let device = DEVICE
        .get()
        .ok_or((EINTERNAL, "bigfile_msm_init was not called".to_string()))?;
    // The active device is per host thread, and the host may call from any thread.
    icicle_runtime::set_device(device).map_err(|e| (EUNAVAILABLE, format!("set_device: {e:?}")))?;
    let mut cfg = MSMConfig::default();
    // Stated explicitly: some v3 releases default to Montgomery form.
    cfg.are_scalars_montgomery_form = false;
    cfg.are_bases_montgomery_form = false;
    cfg.is_async = false;
    let mut sum = vec![G1Projective::zero(); 1];
    msm(
        HostSlice::from_slice(scalars),
        HostSlice::from_slice(bases),
        &cfg,
        HostSlice::from_mut_slice(&mut sum),
    )
    .map_err(|e| {
        (
            EDEVICE,
            format!("icicle msm on {} points: {e:?}", bases.len()),
        )
    })?;
    let mut out = [0u8; 64];
    // z = 0 is the identity: 64 zero bytes, whatever ICICLE's to_affine makes of it.
    if sum[0].z != BaseField::zero() {
        let p: G1Affine = sum[0].into();
        out[..32].copy_from_slice(&p.x.to_bytes_le());
        out[32..].copy_from_slice(&p.y.to_bytes_le());
    }
    Ok(out)
}

/// Copy the last error message into `buf` (see the spec); returns its full length.
///
/// # Safety
///
/// `buf` must be writable for `cap` bytes (it may be null when `cap` is 0).
#[no_mangle]
pub unsafe extern "C" fn bigfile_msm_last_error(buf: *mut c_char, cap: usize) -> usize {
    let msg = LAST_ERROR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if !buf.is_null() && cap > 0 {
        let mut len = msg.len().min(cap - 1);
        while !msg.is_char_boundary(len) {
            len -= 1;
        }
        // SAFETY: `buf` is writable for `cap > len` bytes (caller's contract).
        unsafe {
            std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), len);
            *buf.add(len) = 0;
        }
    }
    msg.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_checks() {
        let mut r = [0u8; 32];
        for (i, l) in R_LIMBS.iter().enumerate() {
            r[8 * i..8 * i + 8].copy_from_slice(&l.to_le_bytes());
        }
        let mut r_minus_1 = r;
        r_minus_1[0] -= 1;
        assert_eq!(first_non_canonical(&r_minus_1, &R_LIMBS), None);
        assert_eq!(
            first_non_canonical(&[r_minus_1, r].concat(), &R_LIMBS),
            Some(1)
        );
        assert_eq!(first_non_canonical(&[0xff; 32], &Q_LIMBS), Some(0));
    }
}
