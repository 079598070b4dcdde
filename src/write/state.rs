//! Regeneration state under `.codex-system-design/`: `state.json` (format 2) records, for every
//! generated file, the hash of what was generated, its ownership policy and whether its last
//! merge left a conflict, plus the resolved database schema the tree came from (the baseline for
//! the next migration). The generated contents themselves live in a content-addressed store
//! (`objects/ab/cdef…`, named by blake3 hash) — the merge base of the next run. Objects are
//! immutable and written before the state that refers to them; unreferenced ones are removed
//! only after the new state is in place, so an interrupted run never loses a merge base.

use super::WriteError;
use super::atomic::{self, safe_join};
use crate::migrate::Schema;
use crate::plan::Policy;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

pub const STATE_DIR: &str = ".codex-system-design";
pub const STATE_FILE: &str = ".codex-system-design/state.json";
pub const OBJECTS_DIR: &str = ".codex-system-design/objects";
pub const STATE_FORMAT: u32 = 2;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format: u32,
    pub tool_version: String,
    /// Output path → what was generated for it.
    pub files: BTreeMap<String, FileRecord>,
    /// The resolved schema of every database at the last generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
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
    let text = match fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(WriteError::Io(p.display().to_string(), e)),
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

pub fn object_path(hash: &str) -> String {
    format!("{OBJECTS_DIR}/{}/{}", &hash[..2], &hash[2..])
}

/// The content generated with this hash, if the store has it (and it is intact).
pub fn read_object(out: &Path, hash: &str) -> Option<String> {
    if hash.len() < 3 {
        return None;
    }
    let text = fs::read_to_string(out.join(object_path(hash))).ok()?;
    (self::hash(&text) == hash).then_some(text)
}

/// Store a content (no-op when it is already there).
pub fn write_object(out: &Path, hash: &str, content: &str) -> Result<(), WriteError> {
    let target = safe_join(out, &object_path(hash))?;
    if target.exists() {
        return Ok(());
    }
    atomic::write_in(Some(out), &target, content)
}

/// Write the state (skipped when the file already holds exactly this text).
pub fn write_state(out: &Path, state: &State) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(state).expect("state serializes") + "\n";
    let target = safe_join(out, STATE_FILE)?;
    if fs::read_to_string(&target).is_ok_and(|t| t == text) {
        return Ok(());
    }
    atomic::write_in(Some(out), &target, &text)
}

/// Remove objects the state no longer refers to (after the state is written).
pub fn collect_garbage(out: &Path, state: &State) {
    let live: BTreeSet<&str> = state.files.values().map(|r| r.hash.as_str()).collect();
    let Ok(dirs) = fs::read_dir(out.join(OBJECTS_DIR)) else {
        return;
    };
    for d in dirs.flatten() {
        let prefix = d.file_name().to_string_lossy().into_owned();
        let Ok(files) = fs::read_dir(d.path()) else {
            continue;
        };
        let mut left = 0;
        for f in files.flatten() {
            let name = format!("{prefix}{}", f.file_name().to_string_lossy());
            if live.contains(name.as_str()) || fs::remove_file(f.path()).is_err() {
                left += 1;
            }
        }
        if left == 0 {
            let _ = fs::remove_dir(d.path());
        }
    }
}
