//! Regeneration state under `.codex-system-design/`: `state.json` (format 2) records, for every
//! generated file, the hash of what was generated, its ownership policy and whether its last
//! merge left a conflict, plus the resolved database schema the tree came from (the baseline for
//! the next migration). The generated contents themselves, the merge bases of the next run, live
//! in one pack (`bases/<name>.pack`, named by the blake3 of its text), written before the state
//! that names it; the previous pack is removed only after the new state is in place, so an
//! interrupted run never loses a merge base.
//!
//! A pack is a header line, then for every content its blake3 hash and byte length on one line,
//! the content, and a newline. Writing it is a copy (JSON escaping 12 MB of text cost a tenth of
//! a 200-service generation); packs of earlier versions (`<name>.json`, a JSON object) are still
//! read.

use super::WriteError;
use super::atomic::{self, safe_join};
use crate::migrate::Schema;
use crate::plan::Policy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

pub const STATE_DIR: &str = ".codex-system-design";
pub const STATE_FILE: &str = ".codex-system-design/state.json";
pub const BASES_DIR: &str = ".codex-system-design/bases";
/// Paths a run is about to create, written before it creates them and removed after the state:
/// if the run is killed, the next one knows those files (complete or not) are its own.
pub const PENDING_FILE: &str = ".codex-system-design/pending";
pub const STATE_FORMAT: u32 = 2;
/// The advisory lock a writing run holds (see [`super::lock`]); empty, kept between runs.
pub const LOCK_FILE: &str = ".codex-system-design/lock";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format: u32,
    pub tool_version: String,
    /// Output path → what was generated for it.
    pub files: BTreeMap<String, FileRecord>,
    /// The resolved schema of every database at the last generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    /// Name of the pack holding the generated contents (`bases/<name>.pack`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bases: String,
    /// Fingerprint of what the last generation rendered from (resolved model, templates, tool
    /// version), stored only when every generated file's record is exactly that render; see
    /// `pipeline::fingerprint`. Empty: unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub inputs: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileRecord {
    /// blake3 of the generated content (also its object name).
    pub hash: String,
    #[serde(default, skip_serializing_if = "is_merge")]
    pub policy: Policy,
    /// The last merge left conflict markers (or a `.rej`) for the user to resolve.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conflicted: bool,
}

fn is_merge(p: &Policy) -> bool {
    *p == Policy::Merge
}

/// Format 1 (hash only, no stored contents) is still read: its files have no merge base.
#[derive(Deserialize)]
struct AnyFormat {
    format: u32,
}

#[derive(Deserialize)]
struct StateV1 {
    tool_version: String,
    files: BTreeMap<String, String>,
}

pub fn hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

pub fn read_state(out: &Path) -> Result<Option<State>, WriteError> {
    let p = out.join(STATE_FILE);
    let bad = |e: String| WriteError::BadState(p.display().to_string(), e);
    let Some(text) = atomic::read_regular(&p)? else {
        return Ok(None);
    };
    let any: AnyFormat = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    match any.format {
        1 => {
            let v1: StateV1 = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            let files = v1
                .files
                .into_iter()
                .map(|(path, hash)| {
                    let policy = Policy::for_path(&path);
                    (
                        path,
                        FileRecord {
                            hash,
                            policy,
                            conflicted: false,
                        },
                    )
                })
                .collect();
            Ok(Some(State {
                format: STATE_FORMAT,
                tool_version: v1.tool_version,
                files,
                schema: None,
                bases: String::new(),
                inputs: String::new(),
            }))
        }
        STATE_FORMAT => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| bad(e.to_string())),
        n => Err(WriteError::FutureState(
            p.display().to_string(),
            n,
            STATE_FORMAT,
        )),
    }
}

/// The merge bases of the last generation, read from disk on first use.
pub struct Bases {
    path: Option<std::path::PathBuf>,
    loaded: std::cell::OnceCell<BTreeMap<String, String>>,
}

impl Bases {
    pub fn open(out: &Path, state: Option<&State>) -> Bases {
        let path = state
            .filter(|s| !s.bases.is_empty())
            .map(|s| out.join(pack_path(&s.bases)));
        Bases {
            path,
            loaded: std::cell::OnceCell::new(),
        }
    }

    /// The content generated with this hash, if the pack has it (and it is intact).
    pub fn get(&self, hash: &str) -> Option<&str> {
        let map = self.loaded.get_or_init(|| {
            let Some(path) = &self.path else {
                return BTreeMap::new();
            };
            match atomic::read_regular(path) {
                Ok(Some(text)) => unpack(&text).unwrap_or_default(),
                // Written by an earlier version.
                _ => atomic::read_regular(&path.with_extension("json"))
                    .ok()
                    .flatten()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
            }
        });
        map.get(hash)
            .map(String::as_str)
            .filter(|text| self::hash(text) == hash)
    }
}

pub fn pack_path(name: &str) -> String {
    format!("{BASES_DIR}/{name}.pack")
}

const PACK_HEADER: &str = "codex-system-design pack 1\n";

/// A pack being built: every content once, in the order added.
#[derive(Debug)]
pub struct Pack {
    text: String,
    hashes: std::collections::HashSet<String>,
}

impl Default for Pack {
    fn default() -> Self {
        Pack {
            text: PACK_HEADER.to_owned(),
            hashes: Default::default(),
        }
    }
}

impl Pack {
    /// Add `content` under `hash` unless the pack has it already.
    pub fn add(&mut self, hash: &str, content: &str) {
        if !self.hashes.insert(hash.to_owned()) {
            return;
        }
        self.text.push_str(&format!("{hash} {}\n", content.len()));
        self.text.push_str(content);
        self.text.push('\n');
    }

    pub fn contains(&self, hash: &str) -> bool {
        self.hashes.contains(hash)
    }

    /// The pack's name (the blake3 of its text) and text.
    pub fn finish(self) -> (String, String) {
        (hash(&self.text)[..32].to_owned(), self.text)
    }
}

/// The contents of a pack by hash; `None` when the text is not a whole pack.
fn unpack(text: &str) -> Option<BTreeMap<String, String>> {
    let mut rest = text.strip_prefix(PACK_HEADER)?;
    let mut map = BTreeMap::new();
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n')?;
        let (hash, len) = line.split_once(' ')?;
        let len: usize = len.parse().ok()?;
        let content = after.get(..len)?;
        rest = after.get(len..)?.strip_prefix('\n')?;
        map.insert(hash.to_owned(), content.to_owned());
    }
    Some(map)
}

/// The paths of an interrupted run's [`PENDING_FILE`] (empty when there is none).
pub fn read_pending(out: &Path) -> std::collections::BTreeSet<String> {
    atomic::read_regular(&out.join(PENDING_FILE))
        .ok()
        .flatten()
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

pub fn write_pending(out: &Path, paths: &[&str]) -> Result<(), WriteError> {
    let mut text = paths.join("\n");
    text.push('\n');
    atomic::write_in(Some(out), &safe_join(out, PENDING_FILE)?, &text)
}

pub fn clear_pending(out: &Path) {
    let _ = fs::remove_file(out.join(PENDING_FILE));
}

/// Whether every file the state records is on disk exactly as recorded and none is in
/// conflict: then a generation from unchanged inputs would change nothing. Files are read on
/// every core; anything odd (a missing file, a symlink) answers "no".
pub fn tree_intact(out: &Path, state: &State) -> bool {
    let files: Vec<(&String, &FileRecord)> = state.files.iter().collect();
    crate::parallel::batches(&files, 64, |batch, reader: &mut atomic::Reader| {
        batch.iter().all(|(path, rec)| {
            !rec.conflicted
                && matches!(reader.read(out, path), Ok(Some(text)) if hash(&text) == rec.hash)
        })
    })
    .into_iter()
    .all(|ok| ok)
}

/// Store a pack (no-op when it is already there).
pub fn write_pack(out: &Path, name: &str, text: &str) -> Result<(), WriteError> {
    let target = safe_join(out, &pack_path(name))?;
    if target.exists() {
        return Ok(());
    }
    atomic::write_in(Some(out), &target, text)
}

/// Write the state (skipped when the file already holds exactly this text).
pub fn write_state(out: &Path, state: &State) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(state).expect("state serializes") + "\n";
    let target = safe_join(out, STATE_FILE)?;
    if atomic::read_regular(&target).is_ok_and(|t| t.as_deref() == Some(text.as_str())) {
        return Ok(());
    }
    atomic::write_in(Some(out), &target, &text)
}

/// Remove packs the state no longer names (after the state is written).
pub fn collect_garbage(out: &Path, state: &State) {
    let live = format!("{}.pack", state.bases);
    let Ok(entries) = fs::read_dir(out.join(BASES_DIR)) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy() != live {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_gives_back_every_content_and_a_cut_pack_gives_nothing() {
        let contents = ["", "a\n", "two\nlines\n\n", "é 12\n34 x\n", "no newline"];
        let hashes: Vec<String> = contents.iter().map(|c| hash(c)).collect();
        let mut pack = Pack::default();
        for (h, c) in hashes.iter().zip(contents) {
            pack.add(h, c);
            pack.add(h, c);
        }
        let (name, text) = pack.finish();
        assert_eq!(name.len(), 32);
        let back = unpack(&text).unwrap();
        assert_eq!(back.len(), contents.len());
        for (h, c) in hashes.iter().zip(contents) {
            assert_eq!(back[h], c);
        }
        for cut in [1, 10, text.len() / 2, text.len() - 1] {
            assert!(unpack(&text[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn bases_are_read_from_a_pack_or_from_an_earlier_versions_json() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::create_dir_all(out.join(BASES_DIR)).unwrap();
        let (content, h) = ("base text\n", hash("base text\n"));
        let mut pack = Pack::default();
        pack.add(&h, content);
        let (name, text) = pack.finish();
        let map = BTreeMap::from([(h.as_str(), content)]);
        fs::write(out.join(pack_path(&name)), text).unwrap();
        let state = |bases: &str| State {
            bases: bases.to_owned(),
            ..Default::default()
        };
        assert_eq!(Bases::open(out, Some(&state(&name))).get(&h), Some(content));
        let json = serde_json::to_string(&map).unwrap();
        fs::write(out.join(BASES_DIR).join("old.json"), json).unwrap();
        assert_eq!(Bases::open(out, Some(&state("old"))).get(&h), Some(content));
        assert_eq!(Bases::open(out, Some(&state("gone"))).get(&h), None);
    }
}
