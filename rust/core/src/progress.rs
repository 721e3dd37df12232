//! The progress callback long operations (hashing a file, proving) report through.

use crate::error::Result;

/// Progress callback: called with the units processed so far (bytes, steps); an error it
/// returns (e.g. Ctrl-C seen by the Python bindings) stops the work.
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> Result<()>;
