//! Files: opening inputs that must be regular files (data files, tree files, SRS and `.ptau`
//! files), and writing outputs atomically (a temporary beside the target, then a rename, so a
//! reader sees the old file or the whole new one, never a partial one).
//!
//! The type is checked before the open, because opening a FIFO for reading blocks until a
//! writer appears, and reading a device such as `/dev/zero` never ends; then again on the open
//! handle (opened non-blocking), so that a path swapped in between is caught too.

use crate::error::{Error, Result};
use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::SystemTime;

/// Open `path` for reading if it is a regular file (symbolic links followed).
pub fn open_regular(path: &Path) -> Result<File> {
    let before = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    check(path, &before)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK) // never wait on a FIFO swapped in after the check
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let after = file.metadata().map_err(|e| Error::io(path, e))?;
    check(path, &after)?;
    Ok(file)
}

/// `Ok` for a regular file, else the error naming what `path` is.
pub fn check(path: &Path, m: &Metadata) -> Result<()> {
    if m.is_file() {
        return Ok(());
    }
    let t = m.file_type();
    let kind = if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Err(Error::NotRegularFile {
        path: path.display().to_string(),
        kind,
    })
}

/// A fresh temporary file beside `dst`: `create_new` never follows or truncates an existing
/// file or symlink, and the name is unique per process, call and time. Errors name `dst`: the
/// temporary name means nothing to users.
pub(crate) fn create_temp_beside(dst: &Path) -> Result<(std::path::PathBuf, File)> {
    let name = dst
        .file_name()
        .ok_or_else(|| Error::param(format!("{} is not a file path", dst.display())))?;
    if dst.is_dir() {
        let e = std::io::Error::new(std::io::ErrorKind::IsADirectory, "Is a directory");
        return Err(Error::io(dst, e));
    }
    // A device, FIFO or socket there (or behind a symlink) is never renamed over: as root,
    // `--out /dev/null` would replace the device node with a regular file.
    if let Ok(meta) = std::fs::metadata(dst) {
        check(dst, &meta)?;
    }
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for attempt in 0..16 {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dst.with_file_name(format!(
            ".{}.tmp-{}-{call}-{nanos}-{attempt}",
            name.to_string_lossy(),
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(dst, e)),
        }
    }
    let e = std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "could not create a unique temporary file",
    );
    Err(Error::io(dst, e))
}

/// Write `bytes` to `dst` atomically: a temporary beside it, synced, then renamed over it.
pub(crate) fn write_atomically(dst: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let (tmp, mut file) = create_temp_beside(dst)?;
    let result = file
        .write_all(bytes)
        .and_then(|_| file.sync_all())
        .and_then(|_| std::fs::rename(&tmp, dst));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| Error::io(dst, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn devices_directories_and_fifos_are_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("bfzk-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let start = Instant::now();
        for (p, what) in [
            (Path::new("/dev/zero"), "a device"),
            (dir.as_path(), "a directory"),
            (fifo.as_path(), "a FIFO"),
        ] {
            let err = open_regular(p).unwrap_err().to_string();
            assert!(err.contains(what), "{err}");
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        let file = dir.join("regular");
        std::fs::write(&file, b"x").unwrap();
        assert!(open_regular(&file).is_ok());
        // Outputs: a FIFO (or a symlink to one) is not renamed over; a regular file is.
        let link = dir.join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for p in [&fifo, &link] {
            let err = write_atomically(p, b"y").unwrap_err().to_string();
            assert!(err.contains("a FIFO"), "{err}");
        }
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        write_atomically(&file, b"y").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"y");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
