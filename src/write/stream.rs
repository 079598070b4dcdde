//! A fresh tree written while it is rendered (issue 23): the render hands over a chunk of files
//! at a time, each chunk is written (on every core), stamped and appended to the pack of merge
//! bases, and its text dropped, so peak memory does not grow with the tree. Only for a run that
//! would create every file: a bare output folder (nothing in it but the blueprint and our own
//! folder, no state, no pending list of an interrupted run), writing (not `--check`, `--diff`,
//! `--dry-run`) and not adopting. There `prepare` could only conclude `Created` for each file,
//! so the result — files, records, stamps, pack contents, migrations — is the one `prepare` and
//! `apply` would give; `tests/incremental.rs` compares the two.

use super::state::{self, PENDING_FILE, STATE_DIR};
use super::{Action, Change, FileRecord, Output, Preview, State, WriteError, atomic};
use std::collections::HashSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Files rendered and written per chunk: enough to keep both cores busy, small enough that the
/// text of a chunk is a few megabytes.
pub const CHUNK: usize = 2048;

/// Whether `out` holds nothing a fresh run could meet: no file but the blueprint and our own
/// folder, which holds no state and no pending list.
pub fn bare(out: &Path) -> bool {
    let Ok(entries) = fs::read_dir(out) else {
        return false;
    };
    let others = entries
        .flatten()
        .any(|e| e.file_name() != STATE_DIR && e.file_name() != "blueprint.yaml");
    !others
        && !out.join(super::STATE_FILE).exists()
        && !out.join(PENDING_FILE).exists()
        && fs::symlink_metadata(out.join(STATE_DIR)).map_or(true, |m| m.is_dir())
}

/// The pack of merge bases, written as it grows and named by its hash once complete.
struct PackFile {
    file: std::io::BufWriter<fs::File>,
    hasher: blake3::Hasher,
    path: PathBuf,
    seen: HashSet<String>,
}

impl PackFile {
    fn create(out: &Path) -> Result<PackFile, WriteError> {
        let path = atomic::safe_join(out, &format!("{}/pack-stream", atomic::TMP_DIR))?;
        let io = |e: std::io::Error| WriteError::Io(path.display().to_string(), e);
        fs::create_dir_all(path.parent().unwrap_or(out)).map_err(io)?;
        let file = fs::File::create(&path).map_err(io)?;
        let mut pack = PackFile {
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            hasher: blake3::Hasher::new(),
            path,
            seen: HashSet::new(),
        };
        pack.put(state::PACK_HEADER.as_bytes())?;
        Ok(pack)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.hasher.update(bytes);
        self.file
            .write_all(bytes)
            .map_err(|e| WriteError::Io(self.path.display().to_string(), e))
    }

    /// Add `content` under `hash` unless the pack has it (the layout of `state::Pack`).
    fn add(&mut self, hash: &str, content: &str) -> Result<(), WriteError> {
        if !self.seen.insert(hash.to_owned()) {
            return Ok(());
        }
        self.put(format!("{hash} {}\n", content.len()).as_bytes())?;
        self.put(content.as_bytes())?;
        self.put(b"\n")
    }

    /// Move the pack to `bases/<name>.pack`; returns the name.
    fn finish(self, out: &Path) -> Result<String, WriteError> {
        let io = |p: &Path, e: std::io::Error| WriteError::Io(p.display().to_string(), e);
        let file = self
            .file
            .into_inner()
            .map_err(|e| io(&self.path, e.into_error()))?;
        file.sync_all().map_err(|e| io(&self.path, e))?;
        let name = self.hasher.finalize().to_hex()[..32].to_owned();
        let target = atomic::safe_join(out, &state::pack_path(&name))?;
        fs::create_dir_all(target.parent().unwrap_or(out)).map_err(|e| io(&target, e))?;
        fs::rename(&self.path, &target).map_err(|e| io(&target, e))?;
        Ok(name)
    }
}

/// A fresh tree being written chunk by chunk; [`Fresh::finish`] writes the state.
pub struct Fresh<'a> {
    out: &'a Path,
    pack: PackFile,
    state: State,
    changes: Vec<Change>,
    produced: HashSet<String>,
    /// Files written so far, removed again when the run fails part way.
    written: Vec<String>,
}

impl<'a> Fresh<'a> {
    /// Start writing into `out`: the pending list first (every path the run may create), so a
    /// run killed part way is completed by the next one.
    pub fn start(out: &'a Path, paths: &[&str]) -> Result<Fresh<'a>, WriteError> {
        atomic::clean_tmp(out);
        state::write_pending(out, paths)?;
        Ok(Fresh {
            out,
            pack: PackFile::create(out)?,
            state: State {
                format: super::STATE_FORMAT,
                tool_version: crate::resolve::TOOL_VERSION.to_owned(),
                ..State::default()
            },
            changes: Vec::new(),
            produced: HashSet::new(),
            written: Vec::new(),
        })
    }

    /// Write one chunk of outputs (their text is dropped once written and packed).
    pub fn write(&mut self, outputs: Vec<Output>) -> Result<(), WriteError> {
        let mut todo = Vec::with_capacity(outputs.len());
        for o in outputs {
            atomic::check_relative(&o.path)?;
            // A path planned twice is written once, as `prepare` does.
            if self.produced.insert(o.path.clone()) {
                todo.push(o);
            }
        }
        let out = self.out;
        let done = crate::parallel::batches(&todo, 32, |batch, joiner: &mut atomic::Joiner| {
            batch
                .iter()
                .map(|o| {
                    let target = joiner.join(out, &o.path)?;
                    atomic::create_new(out, &target, &o.content)?;
                    let meta = fs::symlink_metadata(&target)
                        .map_err(|e| WriteError::Io(target.display().to_string(), e))?;
                    Ok((state::hash(&o.content), state::stamp(&meta)))
                })
                .collect::<Result<Vec<_>, WriteError>>()
        });
        let mut stamps = Vec::with_capacity(todo.len());
        for batch in done {
            stamps.extend(batch?);
        }
        for (o, (hash, (size, mtime))) in todo.into_iter().zip(stamps) {
            self.pack.add(&hash, &o.content)?;
            let rec = FileRecord {
                key: o.key,
                size,
                mtime,
                ..FileRecord::new(hash, o.policy, false)
            };
            self.state.files.insert(o.path.clone(), rec);
            self.written.push(o.path.clone());
            self.changes.push(Change {
                path: o.path,
                action: Action::Created,
                before: None,
                after: None,
                rej: None,
            });
        }
        Ok(())
    }

    /// Name the pack, write the state (last), clear the pending list.
    pub fn finish(
        self,
        schema: crate::migrate::Schema,
        inputs: String,
        source: String,
        overview: crate::resolve::Overview,
    ) -> Result<Preview, WriteError> {
        let Fresh {
            out,
            pack,
            mut state,
            mut changes,
            ..
        } = self;
        state.bases = pack.finish(out)?;
        state.schema = Some(schema);
        state.inputs = inputs;
        state.source = source;
        state.overview = Some(overview);
        state::write_state(out, &state)?;
        state::clear_pending(out);
        atomic::clean_tmp(out);
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Preview {
            changes,
            state,
            objects: state::Pack::default(),
            pack: None,
            stamp: Vec::new(),
            unchanged: false,
        })
    }

    /// A run that failed part way (a template error in a later chunk): remove what it wrote,
    /// so that, as for any failed run, nothing is left.
    pub fn abandon(self) {
        for path in &self.written {
            let _ = atomic::remove(self.out, path);
        }
        state::clear_pending(self.out);
        atomic::clean_tmp(self.out);
    }
}
