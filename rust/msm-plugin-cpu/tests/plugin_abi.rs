//! The plug-in interface end to end: this package's cdylib (built by cargo before these tests)
//! loaded through the core's loader, compared with the CPU path, and every failure the host
//! must survive (missing file, not a plug-in, wrong ABI version, init failure, bad input, bad
//! output, panics, a wrong answer at the self-test).
//!
//! Each scenario that needs a misbehaving plug-in loads its own copy of the library (a
//! separate instance, with its own fault switch), because a path is loaded once per process.

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInteger, PrimeField, UniformRand, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use bigfile_zk::msm::plugin::{self, code, PluginError};
use bigfile_zk::msm::{self, Plugin};
use std::path::{Path, PathBuf};

use bigfile_msm_cpu::fault::{
    ABI_VERSION, DEVICE_ERROR, INIT_FAILS, NONE, NON_CANONICAL, OFF_CURVE, PANIC, WRONG_ANSWER,
};

fn lib_name() -> String {
    format!(
        "{}bigfile_msm_cpu{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The cdylib cargo built for this test run: next to this test executable in
/// `<target>/<profile>/deps/` (cargo uplifts it to `<profile>/` only for `cargo build`, so that
/// copy may be stale and comes second), wherever the target directory is.
fn built_plugin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    for dir in [deps, deps.parent().expect("profile dir")] {
        let p = dir.join(lib_name());
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{} not found next to {}; cargo builds it before this package's tests",
        lib_name(),
        exe.display()
    );
}

/// A private copy of the plug-in, loaded as a separate instance, with `fault` set before the
/// host loads it (the returned handle keeps it loaded and is used to change the fault later).
fn copy_with_fault(tag: &str, fault: u32) -> (PathBuf, libloading::Library) {
    let dir = std::env::temp_dir().join(format!("bigfile-msm-cpu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}-{}", lib_name()));
    std::fs::copy(built_plugin(), &path).unwrap();
    // SAFETY: our own plug-in; its initialisers do nothing.
    let lib = unsafe { libloading::Library::new(&path) }.unwrap();
    set_fault(&lib, fault);
    (path, lib)
}

fn set_fault(lib: &libloading::Library, mode: u32) {
    // SAFETY: the test hook's signature is `extern "C" fn(u32)`.
    unsafe {
        let f = lib
            .get::<unsafe extern "C" fn(u32)>(b"bigfile_msm_cpu_test_fault\0")
            .unwrap();
        f(mode);
    }
}

fn random_inputs(n: usize, seed: u64) -> (Vec<G1Affine>, Vec<Fr>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let g = G1Projective::generator();
    let pts: Vec<G1Projective> = (0..n).map(|_| g * Fr::rand(&mut rng)).collect();
    let scalars = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    (G1Projective::normalize_batch(&pts), scalars)
}

fn cpu(bases: &[G1Affine], scalars: &[Fr]) -> G1Affine {
    msm::cpu_msm(bases, scalars).unwrap().into_affine()
}

fn on_plugin(p: &Plugin, bases: &[G1Affine], scalars: &[Fr]) -> G1Affine {
    p.msm(bases, scalars).unwrap().into_affine()
}

#[test]
fn equals_the_cpu_on_random_and_edge_inputs() {
    let p = plugin::load(&built_plugin()).unwrap();
    assert!(p.name().starts_with("bigfile-msm-cpu "), "{}", p.name());
    // n = 0 and n = 1.
    assert!(on_plugin(p, &[], &[]).is_zero());
    let (b, s) = random_inputs(1, 1);
    assert_eq!(on_plugin(p, &b, &s), cpu(&b, &s));
    for (n, seed) in [(2, 2), (3, 3), (17, 4), (256, 5), (1000, 6), (5000, 7)] {
        let (mut b, mut s) = random_inputs(n, seed);
        assert_eq!(on_plugin(p, &b, &s), cpu(&b, &s), "n = {n}");
        // Identity points, zero scalars, r − 1, and a repeated point.
        b[0] = G1Affine::identity();
        s[n / 2] = Fr::zero();
        s[n - 1] = -Fr::from(1u64);
        if n > 2 {
            b[1] = b[2];
        }
        assert_eq!(
            on_plugin(p, &b, &s),
            cpu(&b, &s),
            "n = {n} with edge values"
        );
    }
    // All identities, all zero scalars: the identity.
    let (b, s) = random_inputs(64, 8);
    assert!(on_plugin(p, &vec![G1Affine::identity(); 64], &s).is_zero());
    assert!(on_plugin(p, &b, &vec![Fr::zero(); 64]).is_zero());
    // Unequal lengths never reach the plug-in.
    assert!(matches!(p.msm(&b, &s[..3]), Err(PluginError::Input(_))));
    // Loading the same path again gives the same instance.
    assert!(std::ptr::eq(p, plugin::load(&built_plugin()).unwrap()));
}

fn abi_point(p: &G1Affine) -> [u8; 64] {
    plugin::point_to_abi(p)
}

fn expect_code(r: Result<[u8; 64], PluginError>, want: i32, mentions: &str) {
    match r {
        Err(PluginError::Call { code, message, .. }) => {
            assert_eq!(code, want, "{message}");
            assert!(message.contains(mentions), "{message:?} lacks {mentions:?}");
        }
        other => panic!("expected code {want}, got {other:?}"),
    }
}

#[test]
fn bad_input_is_refused_with_einval() {
    let p = plugin::load(&built_plugin()).unwrap();
    let (b, s) = random_inputs(2, 9);
    let points: Vec<u8> = b.iter().flat_map(abi_point).collect();
    let scalars: Vec<u8> = s.iter().flat_map(plugin::scalar_to_abi).collect();
    let ok = p.msm_raw(&points, &scalars).unwrap();
    assert_eq!(plugin::point_from_abi(&ok).unwrap(), cpu(&b, &s));

    let mut bad = scalars.clone();
    bad[32..].copy_from_slice(&Fr::MODULUS.to_bytes_le());
    expect_code(p.msm_raw(&points, &bad), code::EINVAL, "scalars[1]");

    let mut off = points.clone();
    off[64 + 32] ^= 1;
    expect_code(p.msm_raw(&off, &scalars), code::EINVAL, "points[1]");

    let mut big = points.clone();
    big[..32].fill(0xff);
    expect_code(p.msm_raw(&big, &scalars), code::EINVAL, "points[0]");

    assert!(matches!(
        p.msm_raw(&points, &scalars[..32]),
        Err(PluginError::Input(_))
    ));
    assert!(matches!(
        p.msm_raw(&points[..63], &scalars[..32]),
        Err(PluginError::Input(_))
    ));

    // Null pointers, through the raw symbol.
    // SAFETY: our plug-in, with the spec's signatures; the pointers passed are null or valid.
    unsafe {
        let lib = libloading::Library::new(built_plugin()).unwrap();
        type G1 = unsafe extern "C" fn(*const u8, *const u8, usize, *mut u8) -> i32;
        let g1 = lib.get::<G1>(b"bigfile_msm_g1\0").unwrap();
        let mut out = [0u8; 64];
        let null = std::ptr::null();
        assert_eq!(
            g1(null, scalars.as_ptr(), 1, out.as_mut_ptr()),
            code::EINVAL
        );
        assert_eq!(g1(points.as_ptr(), null, 1, out.as_mut_ptr()), code::EINVAL);
        assert_eq!(
            g1(points.as_ptr(), scalars.as_ptr(), 1, std::ptr::null_mut()),
            code::EINVAL
        );
        out[0] = 7;
        assert_eq!(g1(null, null, 0, out.as_mut_ptr()), code::OK);
        assert_eq!(out, [0u8; 64]);
        // last_error: length query, truncation at cap − 1 plus NUL.
        assert_eq!(g1(null, null, 0, std::ptr::null_mut()), code::EINVAL);
        type LastError = unsafe extern "C" fn(*mut std::ffi::c_char, usize) -> usize;
        let last = lib.get::<LastError>(b"bigfile_msm_last_error\0").unwrap();
        let len = last(std::ptr::null_mut(), 0);
        assert_eq!(len, "out is null".len());
        let mut buf = [0x55u8; 4];
        assert_eq!(last(buf.as_mut_ptr().cast(), buf.len()), len);
        assert_eq!(&buf, b"out\0");
    }
}

#[test]
fn missing_file_and_non_plugins_are_refused() {
    let e = plugin::load(Path::new("/nonexistent/libbigfile_msm_nothing.so")).unwrap_err();
    assert!(matches!(e, PluginError::Load { .. }), "{e}");

    // A file that is not a library at all.
    let not_lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let e = plugin::load(&not_lib).unwrap_err();
    assert!(matches!(e, PluginError::Load { .. }), "{e}");

    // A real library without the symbols: the C library.
    #[cfg(any(target_os = "linux", target_os = "macos", windows))]
    {
        #[cfg(target_os = "linux")]
        let libc = Path::new("libc.so.6");
        #[cfg(target_os = "macos")]
        let libc = Path::new("/usr/lib/libSystem.B.dylib");
        #[cfg(windows)]
        let libc = Path::new("kernel32.dll");
        let e = plugin::load(libc).unwrap_err();
        assert!(
            matches!(
                e,
                PluginError::MissingSymbol {
                    symbol: "bigfile_msm_abi_version",
                    ..
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn wrong_abi_version_init_failure_and_wrong_answers_are_refused() {
    let (path, _lib) = copy_with_fault("abi", ABI_VERSION);
    match plugin::load(&path).unwrap_err() {
        PluginError::AbiVersion {
            found, expected, ..
        } => assert_eq!((found, expected), (2, 1)),
        e => panic!("{e}"),
    }

    let (path, lib) = copy_with_fault("init", INIT_FAILS);
    let e = plugin::load(&path).unwrap_err();
    assert!(
        matches!(&e, PluginError::Call { op: "init", code: code::EUNAVAILABLE, message, .. }
            if message.contains("init refused")),
        "{e}"
    );
    // A refused library stays refused (its init is not run twice).
    set_fault(&lib, NONE);
    assert_eq!(plugin::load(&path).unwrap_err(), e);

    let (path, _lib) = copy_with_fault("wrong", WRONG_ANSWER);
    assert!(matches!(
        plugin::load(&path).unwrap_err(),
        PluginError::SelfTest { .. }
    ));
}

#[test]
fn runtime_failures_are_reported() {
    let (path, lib) = copy_with_fault("runtime", NONE);
    let p = plugin::load(&path).unwrap();
    let (b, s) = random_inputs(40, 10);
    assert_eq!(on_plugin(p, &b, &s), cpu(&b, &s));

    set_fault(&lib, DEVICE_ERROR);
    let e = p.msm(&b, &s).unwrap_err();
    assert!(
        matches!(
            e,
            PluginError::Call {
                code: code::EDEVICE,
                ..
            }
        ),
        "{e}"
    );
    assert!(!e.is_fatal());

    for mode in [OFF_CURVE, NON_CANONICAL] {
        set_fault(&lib, mode);
        let e = p.msm(&b, &s).unwrap_err();
        assert!(matches!(e, PluginError::BadOutput { .. }), "{e}");
        assert!(e.is_fatal());
        // Also when the true result is the identity.
        let e = p.msm(&b, &vec![Fr::zero(); b.len()]).unwrap_err();
        assert!(matches!(e, PluginError::BadOutput { .. }), "{e}");
    }

    set_fault(&lib, PANIC);
    let e = p.msm(&b, &s).unwrap_err();
    assert!(
        matches!(&e, PluginError::Call { code: code::EINTERNAL, message, .. }
            if message.contains("panic")),
        "{e}"
    );

    set_fault(&lib, NONE);
    assert_eq!(on_plugin(p, &b, &s), cpu(&b, &s));
}

/// Everything touching the process-wide backend, in one test (tests run in parallel).
#[test]
fn dispatch_selection_and_fallback() {
    let (path, lib) = copy_with_fault("dispatch", NONE);
    let spec = path.to_str().unwrap();
    let (b, s) = random_inputs(64, 11);
    let want = cpu(&b, &s);
    msm::take_warnings();

    let info = msm::set_backend(spec, Some(0)).unwrap();
    assert!(info.name.starts_with("bigfile-msm-cpu"), "{info}");
    assert_eq!(info.path.as_deref(), Some(path.as_path()));
    assert_eq!(info.min_size, 0);
    assert_eq!(msm::msm(&b, &s).unwrap().into_affine(), want);
    assert!(msm::take_warnings().is_empty());

    // A device error: this MSM on the CPU, the plug-in kept.
    set_fault(&lib, DEVICE_ERROR);
    assert_eq!(msm::msm(&b, &s).unwrap().into_affine(), want);
    let w = msm::take_warnings();
    assert!(w.len() == 1 && w[0].contains("EDEVICE"), "{w:?}");
    assert_eq!(msm::backend_info().path.as_deref(), Some(path.as_path()));

    // Below min_size the plug-in is not called at all.
    msm::set_backend(spec, Some(1000)).unwrap();
    assert_eq!(msm::msm(&b, &s).unwrap().into_affine(), want);
    assert!(msm::take_warnings().is_empty());

    // A bad point: the right answer anyway, and the CPU from now on.
    msm::set_backend(spec, Some(0)).unwrap();
    set_fault(&lib, OFF_CURVE);
    assert_eq!(msm::msm(&b, &s).unwrap().into_affine(), want);
    let w = msm::take_warnings();
    assert!(w.len() == 1 && w[0].contains("invalid point"), "{w:?}");
    assert_eq!(msm::backend_info().name, "cpu");
    set_fault(&lib, NONE);

    // Missing plug-in: the CPU, with a warning naming it.
    let info = msm::set_backend("/nonexistent/libbigfile_msm_x.so", None).unwrap();
    assert_eq!(info.name, "cpu");
    assert_eq!(info.min_size, 0, "min_size kept when not given");
    let w = msm::take_warnings();
    assert!(
        w.len() == 1 && w[0].contains("libbigfile_msm_x.so"),
        "{w:?}"
    );

    // Unknown names are errors, not fallbacks.
    assert!(msm::set_backend("tpu", None).is_err());
    assert_eq!(msm::set_backend("cpu", None).unwrap().to_string(), "cpu");
    assert_eq!(msm::msm(&b, &s).unwrap().into_affine(), want);
    assert!(msm::take_warnings().is_empty());
}
