//! Atomic file operations inside the output directory: every write goes to a temporary file
//! under `.codex-system-design/tmp/` and is renamed over the target, so a reader (or a run
//! killed half-way) sees either the old file or the new one, never a torn one. Paths are checked
//! to stay inside the output directory and never to pass through a symbolic link; a special file
//! (FIFO, socket, device) where a file is read or written is refused the same way.

use super::WriteError;
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub const TMP_DIR: &str = ".codex-system-design/tmp";

/// Test hook: `CODEX_SYSTEM_DESIGN_ABORT_AFTER=N` aborts the process (as a kill would) after N
/// file operations, so tests can interrupt a run at every point and check the next run recovers.
const ABORT_ENV: &str = "CODEX_SYSTEM_DESIGN_ABORT_AFTER";
static OPS: AtomicU64 = AtomicU64::new(0);

fn tick() {
    static LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let limit = LIMIT.get_or_init(|| std::env::var(ABORT_ENV).ok().and_then(|v| v.parse().ok()));
    if let Some(limit) = limit
        && OPS.fetch_add(1, Ordering::SeqCst) + 1 >= *limit
    {
        std::process::abort();
    }
}

/// Refuse relative paths that could leave the output directory.
pub fn check_relative(path: &str) -> Result<(), WriteError> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(())
    } else {
        Err(WriteError::Escapes(path.to_owned()))
    }
}

/// Join and make sure no existing ancestor inside `out` is a symlink.
pub fn safe_join(out: &Path, rel: &str) -> Result<PathBuf, WriteError> {
    Joiner::default().join(out, rel)
}

/// [`safe_join`] for the many paths of one run: each existing folder is checked once, not
/// once per file under it (on a large tree that is most of the system calls).
#[derive(Default)]
pub struct Joiner {
    checked: std::collections::HashSet<PathBuf>,
}

impl Joiner {
    pub fn join(&mut self, out: &Path, rel: &str) -> Result<PathBuf, WriteError> {
        check_relative(rel)?;
        let mut p = out.to_path_buf();
        let mut parts = rel.split('/').peekable();
        let mut exists = true;
        while let Some(part) = parts.next() {
            p.push(part);
            let is_dir = parts.peek().is_some();
            if !exists || (is_dir && self.checked.contains(&p)) {
                continue;
            }
            match fs::symlink_metadata(&p) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(WriteError::Symlink(p.display().to_string()));
                }
                Ok(_) if is_dir => {
                    self.checked.insert(p.clone());
                }
                Ok(_) => {}
                // Nothing below a missing folder exists either.
                Err(_) => exists = false,
            }
        }
        Ok(p)
    }
}

/// Read a file of the tree: `None` when absent; a symbolic link or a special file (FIFO,
/// socket, device) is refused before it is opened (opening a FIFO blocks until a writer comes).
pub fn read_regular(p: &Path) -> Result<Option<String>, WriteError> {
    match fs::symlink_metadata(p) {
        Ok(meta) if meta.file_type().is_symlink() => {
            Err(WriteError::Symlink(p.display().to_string()))
        }
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            Err(WriteError::Special(p.display().to_string()))
        }
        Ok(_) => read_if_exists(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WriteError::Io(p.display().to_string(), e)),
    }
}

pub fn read_if_exists(p: &Path) -> Result<Option<String>, WriteError> {
    match fs::read(p) {
        // UTF-8 checked in place (no copy); only a file that is not UTF-8 is converted.
        Ok(bytes) => {
            Ok(Some(String::from_utf8(bytes).unwrap_or_else(|e| {
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            })))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WriteError::Io(p.display().to_string(), e)),
    }
}

/// Write `content` to `target` atomically. When `out` is given, the temporary file is made in
/// its `.codex-system-design/tmp/` (cleaned at the start of every run) so a kill never leaves
/// stray files among the user's; otherwise, or across file systems, next to the target.
pub fn write_in(out: Option<&Path>, target: &Path, content: &str) -> Result<(), WriteError> {
    let io = |e: std::io::Error| WriteError::Io(target.display().to_string(), e);
    let dir = target.parent().unwrap_or(Path::new("."));
    let tmp_dir = out.map_or_else(|| dir.to_path_buf(), |o| o.join(TMP_DIR));
    // Folders are made only when missing: on a slow disk a `mkdir` per file costs more than
    // the write itself.
    let mut tmp = match tempfile::NamedTempFile::new_in(&tmp_dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(&tmp_dir).map_err(io)?;
            tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io)?
        }
        other => other.map_err(io)?,
    };
    tmp.write_all(content.as_bytes()).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600; generated files are ordinary, shell scripts executable.
        let mode = if target.extension().is_some_and(|e| e == "sh") {
            0o755
        } else {
            0o644
        };
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io)?;
    }
    tick();
    let tmp = match tmp.persist(target) {
        Ok(_) => return Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io)?;
            e.file
        }
        Err(e) => {
            // Another file system under the output folder: a temporary file beside the target.
            if out.is_some() && e.error.raw_os_error() == Some(18) {
                return write_in(None, target, content);
            }
            return Err(io(e.error));
        }
    };
    tmp.persist(target).map(|_| ()).map_err(|e| io(e.error))
}

/// Write a file that does not exist yet, directly (no temporary file and rename: for a fresh
/// tree that halves the file-system work). Only for paths listed in the run's pending file
/// first, so that a run killed half way through one is known to be ours; see `apply`. Falls
/// back to [`write_in`] when the file appeared meanwhile.
pub fn create_new(out: &Path, target: &Path, content: &str) -> Result<(), WriteError> {
    let io = |e: std::io::Error| WriteError::Io(target.display().to_string(), e);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let exec = target.extension().is_some_and(|e| e == "sh");
        options.mode(if exec { 0o755 } else { 0o644 });
    }
    let open = |o: &fs::OpenOptions| o.open(target);
    let file = match open(&options) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = target.parent().unwrap_or(Path::new("."));
            fs::create_dir_all(dir).map_err(io)?;
            open(&options)
        }
        other => other,
    };
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return write_in(Some(out), target, content);
        }
        Err(e) => return Err(io(e)),
    };
    tick();
    file.write_all(content.as_bytes()).map_err(io)
}

/// Atomic write with the temporary file beside the target.
pub fn atomic_write(target: &Path, content: &str) -> Result<(), WriteError> {
    write_in(None, target, content)
}

/// Delete a file, then its parent folders up to `out` while they are empty.
pub fn remove(out: &Path, rel: &str) -> Result<(), WriteError> {
    let target = safe_join(out, rel)?;
    tick();
    match fs::remove_file(&target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(WriteError::Io(target.display().to_string(), e)),
    }
    let mut dir = target.parent();
    while let Some(d) = dir {
        if d == out || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// Remove temporary files a killed run left behind.
pub fn clean_tmp(out: &Path) {
    let _ = fs::remove_dir_all(out.join(TMP_DIR));
}

/// Reads files of the tree for `prepare`, checking each folder once: a folder that does not
/// exist answers "no file" for everything in it without a system call per file, and every
/// existing one is checked once not to be a symbolic link.
#[derive(Default)]
pub struct Reader {
    dirs: std::collections::HashMap<String, bool>,
}

impl Reader {
    pub fn read(&mut self, out: &Path, rel: &str) -> Result<Option<String>, WriteError> {
        check_relative(rel)?;
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        if !self.dir_exists(out, dir)? {
            return Ok(None);
        }
        read_regular(&out.join(rel))
    }

    /// Whether a regular file is at `rel` (`Some` of an empty text), without reading it;
    /// symbolic links and special files are refused as by [`Reader::read`].
    pub fn exists(&mut self, out: &Path, rel: &str) -> Result<Option<String>, WriteError> {
        check_relative(rel)?;
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        if !self.dir_exists(out, dir)? {
            return Ok(None);
        }
        let p = out.join(rel);
        match fs::symlink_metadata(&p) {
            Ok(meta) if meta.file_type().is_symlink() => {
                Err(WriteError::Symlink(p.display().to_string()))
            }
            Ok(meta) if meta.is_file() => Ok(Some(String::new())),
            Ok(meta) if meta.is_dir() => read_if_exists(&p),
            Ok(_) => Err(WriteError::Special(p.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(WriteError::Io(p.display().to_string(), e)),
        }
    }

    fn dir_exists(&mut self, out: &Path, dir: &str) -> Result<bool, WriteError> {
        if let Some(known) = self.dirs.get(dir) {
            return Ok(*known);
        }
        let parent_ok = match dir.rsplit_once('/') {
            Some((parent, _)) => self.dir_exists(out, parent)?,
            None => true,
        };
        let exists = parent_ok
            && match fs::symlink_metadata(out.join(dir)) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(WriteError::Symlink(out.join(dir).display().to_string()));
                }
                Ok(meta) => meta.is_dir(),
                Err(_) => false,
            };
        self.dirs.insert(dir.to_owned(), exists);
        Ok(exists)
    }
}
