//! The progress callback long operations (hashing a file, proving) report through.

use crate::error::Result;

/// Progress callback: called with the units processed so far (bytes, steps); an error it
/// returns (e.g. Ctrl-C seen by the Python bindings) stops the work.
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> Result<()>;

/// Phase timings on stderr when `BIGFILE_ZK_TRACE` is set (for profiling the prover).
pub(crate) struct Trace(Option<std::time::Instant>, &'static str);

/// `  (rss … MiB, peak … MiB)` from `/proc/self/status` where there is one (Linux), else "".
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(peak)) => format!("  (rss {} MiB, peak {} MiB)", rss / 1024, peak / 1024),
        _ => String::new(),
    }
}

impl Trace {
    pub(crate) fn new() -> Self {
        Self::named("prover")
    }

    /// Timings on stderr when `BIGFILE_ZK_TRACE` is set.
    pub(crate) fn named(name: &'static str) -> Self {
        let start = std::env::var_os("BIGFILE_ZK_TRACE").map(|_| std::time::Instant::now());
        Trace(start, name)
    }

    pub(crate) fn mark(&self, what: &str) {
        if let Some(t) = self.0 {
            eprintln!(
                "[bigfile_zk {}] {:>9.3} s  {what}{}",
                self.1,
                t.elapsed().as_secs_f64(),
                memory()
            );
        }
    }
}
