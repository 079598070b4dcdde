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
/// Format 3 adds each file's render key and stat stamp, and packs of merge bases added since
/// the main one; format 2 is read as is (no keys, no stamps: every file is checked once).
pub const STATE_FORMAT: u32 = 3;
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
    /// Smaller packs written since (`bases/<name>.pack`, oldest first): a run that renders a
    /// few files adds one instead of rewriting the main pack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<String>,
    /// Fingerprint of what the last generation rendered from (resolved model, templates, tool
    /// version), stored only when every generated file's record is exactly that render; see
    /// `pipeline::fingerprint`. Empty: unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub inputs: String,
    /// `slices::source_digest` of the blueprint, build and templates `inputs` came from: when it
    /// is unchanged so is `inputs`, and a no-op need not work the fingerprint out. Empty: unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// What the summary of a run prints about the system, recorded with `source`: a no-op
    /// from the same source reports from it instead of resolving the blueprint. None: unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overview: Option<crate::resolve::Overview>,
    /// Which state file this was read from (not part of the state: equal states compare equal).
    #[serde(skip)]
    pub read_from: ReadFrom,
}

/// The identity of the state file a [`State`] was read from: device, inode, size and
/// modification time. A run that re-reads the state under the lock skips the parse when the
/// file is still that one (the state is replaced by rename, so a rewrite is a new inode).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadFrom(pub Option<(u64, u64, u64, i64)>);

impl PartialEq for ReadFrom {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The identity of the state file now, if there is one.
pub fn state_file_id(out: &Path) -> ReadFrom {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        ReadFrom(
            fs::symlink_metadata(out.join(STATE_FILE))
                .ok()
                .filter(|m| m.is_file())
                .map(|m| (m.dev(), m.ino(), m.len(), stamp(&m).1)),
        )
    }
    #[cfg(not(unix))]
    {
        let _ = out;
        ReadFrom(None)
    }
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
    /// `slices::Index::key` of the render recorded in `hash`: while it is the same, so is the
    /// render, and the file need not be rendered again.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// Size and modification time (nanoseconds) of the file when its content was known to be
    /// `hash`; 0: not known. See [`stat_clean`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size: u64,
    #[serde(default, skip_serializing_if = "is_zero_i")]
    pub mtime: i64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i(n: &i64) -> bool {
    *n == 0
}

impl FileRecord {
    pub fn new(hash: String, policy: Policy, conflicted: bool) -> FileRecord {
        FileRecord {
            hash,
            policy,
            conflicted,
            key: String::new(),
            size: 0,
            mtime: 0,
        }
    }
}

fn is_merge(p: &Policy) -> bool {
    *p == Policy::Merge
}

/// Format 1 (hash only, no stored contents) is still read: its files have no merge base.
#[derive(Deserialize)]
struct AnyFormat {
    format: u32,
}

/// The format of a state this tool wrote (`{"format":N,` first, as `State` serializes it),
/// read without scanning the megabytes after it; None for any other shape (then the whole
/// text is parsed for it).
fn leading_format(text: &str) -> Option<u32> {
    let rest = text.strip_prefix("{\"format\":")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if rest.as_bytes().get(digits) != Some(&b',') {
        return None;
    }
    rest[..digits].parse().ok()
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
    let id = state_file_id(out);
    Ok(read_state_text(out)?.map(|s| State { read_from: id, ..s }))
}

fn read_state_text(out: &Path) -> Result<Option<State>, WriteError> {
    let p = out.join(STATE_FILE);
    let bad = |e: String| WriteError::BadState(p.display().to_string(), e);
    let Some(text) = atomic::read_regular(&p)? else {
        return Ok(None);
    };
    let format = match leading_format(&text) {
        Some(n) => n,
        None => {
            let any: AnyFormat = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            any.format
        }
    };
    match format {
        1 => {
            let v1: StateV1 = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            let files = v1
                .files
                .into_iter()
                .map(|(path, hash)| {
                    let policy = Policy::for_path(&path);
                    (path, FileRecord::new(hash, policy, false))
                })
                .collect();
            Ok(Some(State {
                format: STATE_FORMAT,
                tool_version: v1.tool_version,
                files,
                schema: None,
                bases: String::new(),
                packs: Vec::new(),
                inputs: String::new(),
                source: String::new(),
                overview: None,
                read_from: ReadFrom::default(),
            }))
        }
        2 | STATE_FORMAT => serde_json::from_str(&text)
            .map(|s: State| {
                Some(State {
                    format: STATE_FORMAT,
                    ..s
                })
            })
            .map_err(|e| bad(e.to_string())),
        n => Err(WriteError::FutureState(
            p.display().to_string(),
            n,
            STATE_FORMAT,
        )),
    }
}

/// The merge bases of the last generation, read from disk on first use: the main pack and
/// those added since, the newest searched first.
pub struct Bases {
    packs: Vec<(
        std::path::PathBuf,
        std::cell::OnceCell<BTreeMap<String, String>>,
    )>,
}

impl Bases {
    pub fn open(out: &Path, state: Option<&State>) -> Bases {
        let names = state
            .map(|s| {
                std::iter::once(&s.bases)
                    .chain(&s.packs)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let packs = names
            .into_iter()
            .rev()
            .filter(|n| !n.is_empty())
            .map(|n| (out.join(pack_path(n)), std::cell::OnceCell::new()))
            .collect();
        Bases { packs }
    }

    /// The content generated with this hash, if a pack has it (and it is intact).
    pub fn get(&self, hash: &str) -> Option<&str> {
        self.packs.iter().find_map(|(path, cell)| {
            cell.get_or_init(|| load_pack(path))
                .get(hash)
                .map(String::as_str)
                .filter(|text| self::hash(text) == hash)
        })
    }
}

fn load_pack(path: &Path) -> BTreeMap<String, String> {
    match atomic::read_regular(path) {
        Ok(Some(text)) => unpack(&text).unwrap_or_default(),
        // Written by an earlier version.
        _ => atomic::read_regular(&path.with_extension("json"))
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
    }
}

pub fn pack_path(name: &str) -> String {
    format!("{BASES_DIR}/{name}.pack")
}

pub(crate) const PACK_HEADER: &str = "codex-system-design pack 1\n";

/// A pack being built: every content once, in the order added.
#[derive(Debug)]
pub struct Pack {
    text: String,
    /// Where each content is in `text`.
    at: std::collections::HashMap<String, std::ops::Range<usize>>,
}

impl Default for Pack {
    fn default() -> Self {
        Pack {
            text: PACK_HEADER.to_owned(),
            at: Default::default(),
        }
    }
}

impl Pack {
    /// Add `content` under `hash` unless the pack has it already.
    pub fn add(&mut self, hash: &str, content: &str) {
        if self.at.contains_key(hash) {
            return;
        }
        self.text.push_str(&format!("{hash} {}\n", content.len()));
        let start = self.text.len();
        self.text.push_str(content);
        self.at.insert(hash.to_owned(), start..self.text.len());
        self.text.push('\n');
    }

    pub fn contains(&self, hash: &str) -> bool {
        self.at.contains_key(hash)
    }

    pub fn get(&self, hash: &str) -> Option<&str> {
        self.at.get(hash).map(|r| &self.text[r.clone()])
    }

    /// The pack of only the contents whose hash is in `keep`, in the same order.
    pub fn retain(self, keep: &std::collections::BTreeSet<&String>) -> Pack {
        if self.at.keys().all(|h| keep.contains(h)) {
            return self;
        }
        let mut order: Vec<(&String, &std::ops::Range<usize>)> =
            self.at.iter().filter(|(h, _)| keep.contains(h)).collect();
        order.sort_by_key(|(_, r)| r.start);
        let mut out = Pack::default();
        for (h, r) in order {
            out.add(h, &self.text[r.clone()]);
        }
        out
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
/// conflict: then a generation from unchanged inputs would change nothing. Files are checked
/// by [`stat_clean`] first and read only when that cannot tell, on every core; anything odd (a
/// missing file, a symlink) answers "no".
pub fn tree_intact(out: &Path, state: &State) -> bool {
    let since = state_time(out);
    let files: Vec<(&String, &FileRecord)> = state.files.iter().collect();
    crate::parallel::batches(&files, 256, |batch, reader: &mut atomic::Reader| {
        batch.iter().all(|(path, rec)| {
            !rec.conflicted
                && (stat_clean(out, path, rec, since)
                    || matches!(reader.read(out, path), Ok(Some(text)) if hash(&text) == rec.hash))
        })
    })
    .into_iter()
    .all(|ok| ok)
}

/// The modification time of the state file (nanoseconds), 0 when unknown: the moment the last
/// run finished writing.
pub fn state_time(out: &Path) -> i64 {
    fs::symlink_metadata(out.join(STATE_FILE)).map_or(0, |m| stamp(&m).1)
}

/// A file's size and modification time in nanoseconds.
pub fn stamp(meta: &fs::Metadata) -> (u64, i64) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    (meta.len(), mtime)
}

/// Whether `path` certainly still holds the content its record was stamped with, told by its
/// size and modification time alone (like git's index). Stamps are taken right after the run
/// wrote or compared the file and the state is written after them, so a stamp is older than the
/// state file unless the file changed in the same clock tick as the state was written — where an
/// edit would keep the time (file systems store times at a tick's resolution). Such a *racily
/// clean* stamp (time not strictly before `since`, the state file's time) is not trusted: the
/// caller reads and hashes the file instead. Edits that restore both size and time (`touch -d`)
/// go unseen, as in git.
pub fn stat_clean(out: &Path, path: &str, rec: &FileRecord, since: i64) -> bool {
    if rec.mtime == 0 || rec.mtime >= since || atomic::check_relative(path).is_err() {
        return false;
    }
    fs::symlink_metadata(out.join(path))
        .is_ok_and(|m| m.is_file() && stamp(&m) == (rec.size, rec.mtime))
}

/// Store a pack (no-op when it is already there).
pub fn write_pack(out: &Path, name: &str, text: &str) -> Result<(), WriteError> {
    let target = safe_join(out, &pack_path(name))?;
    if target.exists() {
        return Ok(());
    }
    atomic::write_in(Some(out), &target, text)
}

/// Write the state (skipped when the file already holds exactly this text). Compact JSON, one
/// line: at 1 000 services the indented form was 19 MB against 13, and every regeneration reads
/// it whole before anything else (issue 23); `jq .` shows it indented.
pub fn write_state(out: &Path, state: &State) -> Result<(), WriteError> {
    let text = serde_json::to_string(state).expect("state serializes") + "\n";
    let target = safe_join(out, STATE_FILE)?;
    if atomic::read_regular(&target).is_ok_and(|t| t.as_deref() == Some(text.as_str())) {
        return Ok(());
    }
    atomic::write_in(Some(out), &target, &text)
}

/// Remove packs the state no longer names (after the state is written).
pub fn collect_garbage(out: &Path, state: &State) {
    let live: Vec<String> = std::iter::once(&state.bases)
        .chain(&state.packs)
        .map(|n| format!("{n}.pack"))
        .collect();
    let Ok(entries) = fs::read_dir(out.join(BASES_DIR)) else {
        return;
    };
    for e in entries.flatten() {
        if !live.contains(&e.file_name().to_string_lossy().into_owned()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_read_from_the_head_of_a_state_this_tool_wrote() {
        let compact = serde_json::to_string(&State {
            format: STATE_FORMAT,
            ..State::default()
        })
        .unwrap();
        assert_eq!(leading_format(&compact), Some(STATE_FORMAT));
        assert_eq!(leading_format("{\"format\":12,\"files\":{}}"), Some(12));
        // Any other shape is parsed whole.
        assert_eq!(leading_format("{\n  \"format\": 3,\n}"), None);
        assert_eq!(leading_format("{\"format\":3}"), None);
        assert_eq!(leading_format("{\"format\":\"3\",}"), None);
    }

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
    fn a_stamp_is_trusted_only_when_it_matches_and_is_older_than_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("a.txt"), "one\n").unwrap();
        let (size, mtime) = stamp(&fs::metadata(out.join("a.txt")).unwrap());
        let rec = FileRecord {
            size,
            mtime,
            ..FileRecord::new(hash("one\n"), Policy::Merge, false)
        };
        assert!(stat_clean(out, "a.txt", &rec, mtime + 1));
        // Racily clean: stamped in the tick the state was written, an edit could keep the time.
        assert!(!stat_clean(out, "a.txt", &rec, mtime));
        assert!(!stat_clean(
            out,
            "a.txt",
            &FileRecord {
                mtime: 0,
                ..rec.clone()
            },
            i64::MAX
        ));
        assert!(!stat_clean(out, "../a.txt", &rec, i64::MAX));
        fs::write(out.join("a.txt"), "one!\n").unwrap();
        assert!(
            !stat_clean(out, "a.txt", &rec, i64::MAX),
            "a size change is seen"
        );
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
