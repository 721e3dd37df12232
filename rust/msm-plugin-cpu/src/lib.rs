//! `bigfile-msm-cpu`: an MSM plug-in (`docs/spec/msm-plugin.md`) that runs the bigfile_zk CPU
//! MSM behind the C ABI.
//!
//! It exists to test the plug-in interface where there is no GPU (CI): the host's loader,
//! layouts, validation and fallbacks are exercised against it exactly as against the ICICLE
//! plug-in. It checks every input strictly, as the spec recommends.
//!
//! For tests only, `bigfile_msm_cpu_test_fault(mode)` makes this library instance misbehave in
//! one of the ways the host must survive (see [`fault`]).

use ark_bn254::{Fr, G1Affine};
use ark_ec::{AffineRepr, CurveGroup};
use bigfile_zk::msm::plugin::{self as abi, code};
use rayon::prelude::*;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Test-only misbehaviours, selected with `bigfile_msm_cpu_test_fault`.
pub mod fault {
    pub const NONE: u32 = 0;
    /// `bigfile_msm_abi_version` returns the wrong version.
    pub const ABI_VERSION: u32 = 1;
    /// `bigfile_msm_init` fails with `EUNAVAILABLE`.
    pub const INIT_FAILS: u32 = 2;
    /// `bigfile_msm_g1` fails with `EDEVICE` (e.g. out of device memory).
    pub const DEVICE_ERROR: u32 = 3;
    /// `bigfile_msm_g1` writes a point off the curve.
    pub const OFF_CURVE: u32 = 4;
    /// `bigfile_msm_g1` writes a coordinate `≥ q`.
    pub const NON_CANONICAL: u32 = 5;
    /// `bigfile_msm_g1` writes a valid but wrong point (the right one plus `G`).
    pub const WRONG_ANSWER: u32 = 6;
    /// `bigfile_msm_g1` panics (caught: `EINTERNAL`).
    pub const PANIC: u32 = 7;
}

static FAULT: AtomicU32 = AtomicU32::new(fault::NONE);
/// The host serialises calls, so one message for the library is enough.
static LAST_ERROR: Mutex<String> = Mutex::new(String::new());

const NAME: &[u8] = concat!(
    "bigfile-msm-cpu ",
    env!("CARGO_PKG_VERSION"),
    " (bigfile_zk CPU MSM)\0"
)
.as_bytes();

type Failure = (i32, String);

fn faulty(mode: u32) -> bool {
    FAULT.load(Ordering::Relaxed) == mode
}

/// Run `body`, turning a failure or a panic into a code and the last-error message.
fn guarded(body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        Err((code::EINTERNAL, format!("panic: {what}")))
    });
    match outcome {
        Ok(()) => code::OK,
        Err((rc, msg)) => {
            *LAST_ERROR.lock().unwrap_or_else(|e| e.into_inner()) = msg;
            rc
        }
    }
}

/// The ABI version (1), or a wrong one under the `ABI_VERSION` test fault.
#[no_mangle]
pub extern "C" fn bigfile_msm_abi_version() -> u32 {
    if faulty(fault::ABI_VERSION) {
        abi::ABI_VERSION + 1
    } else {
        abi::ABI_VERSION
    }
}

/// A static NUL-terminated name.
#[no_mangle]
pub extern "C" fn bigfile_msm_name() -> *const c_char {
    NAME.as_ptr().cast()
}

/// Nothing to prepare on the CPU.
#[no_mangle]
pub extern "C" fn bigfile_msm_init() -> i32 {
    guarded(|| {
        if faulty(fault::INIT_FAILS) {
            return Err((
                code::EUNAVAILABLE,
                "test fault: init refused (no device)".into(),
            ));
        }
        Ok(())
    })
}

/// `out = Σ scalars[i]·points[i]` (layouts in `docs/spec/msm-plugin.md`).
///
/// # Safety
///
/// When `n > 0`, `points` and `scalars` must be readable for `64·n` and `32·n` bytes; `out`
/// must be writable for 64 bytes; none may overlap. Null pointers are refused with `EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn bigfile_msm_g1(
    points: *const u8,
    scalars: *const u8,
    n: usize,
    out: *mut u8,
) -> i32 {
    guarded(|| {
        if out.is_null() {
            return Err((code::EINVAL, "out is null".into()));
        }
        let too_big = || (code::EINVAL, format!("n = {n} points do not fit in memory"));
        let point_bytes = n.checked_mul(abi::POINT_BYTES).ok_or_else(too_big)?;
        if point_bytes > isize::MAX as usize {
            return Err(too_big());
        }
        let (points, scalars): (&[u8], &[u8]) = if n == 0 {
            (&[], &[])
        } else {
            if points.is_null() || scalars.is_null() {
                return Err((
                    code::EINVAL,
                    format!("points or scalars is null with n = {n}"),
                ));
            }
            // SAFETY: the caller guarantees these extents (the spec's contract), non-null
            // checked above, and the sizes fit in isize.
            unsafe {
                (
                    std::slice::from_raw_parts(points, point_bytes),
                    std::slice::from_raw_parts(scalars, n * abi::SCALAR_BYTES),
                )
            }
        };
        let result = msm(points, scalars)?;
        // SAFETY: `out` is non-null and writable for 64 bytes (the spec's contract).
        unsafe { std::ptr::copy_nonoverlapping(result.as_ptr(), out, result.len()) };
        Ok(())
    })
}

fn msm(points: &[u8], scalars: &[u8]) -> Result<[u8; 64], Failure> {
    let bases: Vec<G1Affine> = points
        .par_chunks_exact(abi::POINT_BYTES)
        .enumerate()
        .map(|(i, b)| {
            abi::point_from_abi(b.try_into().expect("64 bytes"))
                .map_err(|e| (code::EINVAL, format!("points[{i}]: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let scalars: Vec<Fr> = scalars
        .par_chunks_exact(abi::SCALAR_BYTES)
        .enumerate()
        .map(|(i, b)| {
            abi::scalar_from_abi(b.try_into().expect("32 bytes"))
                .map_err(|e| (code::EINVAL, format!("scalars[{i}]: {e}")))
        })
        .collect::<Result<_, _>>()?;
    if faulty(fault::DEVICE_ERROR) {
        return Err((code::EDEVICE, "test fault: out of device memory".into()));
    }
    if faulty(fault::PANIC) {
        // Unwinds like a panic but skips the panic hook: no backtrace in the test logs.
        std::panic::resume_unwind(Box::new("test fault: panic inside the plug-in"));
    }
    let mut r =
        bigfile_zk::msm::cpu_msm(&bases, &scalars).map_err(|e| (code::EINTERNAL, e.to_string()))?;
    if faulty(fault::WRONG_ANSWER) {
        r += G1Affine::generator();
    }
    let mut enc = abi::point_to_abi(&r.into_affine());
    if faulty(fault::OFF_CURVE) {
        // y += 1 (or, for the identity, the point (1, 1)): never on y² = x³ + 3.
        enc[0] |= u8::from(enc.iter().all(|&b| b == 0));
        enc[32] ^= 1;
    }
    if faulty(fault::NON_CANONICAL) {
        enc[..32].fill(0xff);
    }
    Ok(enc)
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
        // Cut at a character boundary so that the copy stays valid UTF-8.
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

/// Test hook: make this library instance misbehave ([`fault`]); `0` restores it.
#[no_mangle]
pub extern "C" fn bigfile_msm_cpu_test_fault(mode: u32) {
    FAULT.store(mode, Ordering::Relaxed);
}
