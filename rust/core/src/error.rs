//! The one error type of the core. Every variant names the bad value, so that the Python
//! bindings can turn it into a precise exception without adding context of their own.

use std::path::Path;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value that should be a field element is not in `0..r`.
    #[error("{what} = {value} is not a canonical BN254 scalar field element (it must be < r)")]
    NonCanonical { what: String, value: String },

    /// A parameter outside its allowed set (arity, input count, chunk size, ...).
    #[error("{0}")]
    InvalidParameter(String),

    /// An index past the end of a tree or file.
    #[error("{what} {index} is out of range ({len} available)")]
    IndexOutOfRange {
        what: &'static str,
        index: u64,
        len: u64,
    },

    /// A byte or JSON encoding that does not decode to a valid object.
    #[error("malformed {what}: {reason}")]
    Decode { what: &'static str, reason: String },

    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// An input that must be a regular file is a FIFO, a device, a directory, ...
    #[error("{path}: not a regular file ({kind}); a regular file is needed")]
    NotRegularFile { path: String, kind: &'static str },

    /// The file was modified while it was being read.
    #[error(
        "{path} changed while it was being read ({reason}); commit it again once it is stable"
    )]
    FileChanged { path: String, reason: String },

    /// Data that does not match the commitment it is checked against.
    #[error("{0}")]
    CommitmentMismatch(String),

    /// A witness that does not satisfy its circuit (names the constraint, row and gadget).
    #[error("unsatisfied circuit: {0}")]
    Unsatisfied(String),

    /// The insecure test SRS (τ public) where security matters, without an explicit opt-in.
    #[error("{0}")]
    InsecureSrs(String),

    /// A progress callback asked to stop (e.g. Ctrl-C in Python).
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub(crate) fn param(msg: impl Into<String>) -> Self {
        Error::InvalidParameter(msg.into())
    }

    pub(crate) fn decode(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Decode {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
