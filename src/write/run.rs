//! One regeneration run as the CLI drives it: the render plus the migrations the schema change
//! calls for, prepared against the tree, then written (or only reported for `--check`,
//! `--diff`, `--dry-run`). Also the human report and the unified diff.

use super::{Action, ConflictStyle, Options, Output, Preview, State, WriteError, outputs, prepare};
use crate::migrate::{self, Known, Schema};
use crate::plan::Policy;
use crate::render::{Generated, RenderError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::Path;

pub struct Run {
    pub preview: Preview,
    /// Paths of the migrations this run adds.
    pub migrations: Vec<String>,
    /// Changes in those migrations that can lose data.
    pub warnings: Vec<String>,
    /// Other things the user should know.
    pub notes: Vec<String>,
}

pub fn prepare_run(
    out: &Path,
    g: &mut Generated,
    previous: Option<&State>,
    conflict: ConflictStyle,
) -> Result<Run, WriteError> {
    if let (true, Some(state)) = (g.reused, previous) {
        return Ok(unchanged(state));
    }
    // The rendered text moves into the outputs: a large tree is not held twice.
    let mut outs = outputs(&g.plan, std::mem::take(&mut g.files), &g.keys, &g.trusted);
    let schema = match g.schema.take() {
        Some(schema) => schema,
        None => Schema::from_model(g.model()),
    };
    let dirs: BTreeSet<String> = schema.databases.keys().cloned().collect();
    let mut known = Known::default();
    let mut untracked = Vec::new();
    // Each path is matched against the migration folders by its own prefixes (a hash lookup
    // each), not every folder against every path: 140 000 look-ups at 1 000 services.
    let lookup: HashSet<&str, crate::blueprint::FnvBuild> =
        dirs.iter().map(String::as_str).collect();
    let dir_of = |path: &str| -> Option<String> {
        path.match_indices('/')
            .map(|(i, _)| &path[..i])
            .find(|d| lookup.contains(*d))
            .map(str::to_owned)
    };
    if let Some(s) = previous {
        for p in s.files.keys() {
            if let Some(dir) = dir_of(p) {
                known.existing.insert(p.clone());
                known.history.insert(dir);
            }
        }
    }
    let legacy = convert_legacy(out, &dirs, previous);
    for o in &outs {
        if let Some(dir) = dir_of(&o.path) {
            known.templated.insert(dir);
        }
    }
    // A folder with a history in the old layout keeps that history: its first migration is the
    // converted one, not a new render.
    outs.retain(|o| {
        !(o.path.ends_with(".sql") && dir_of(&o.path).is_some_and(|d| legacy.dirs.contains(&d)))
    });
    for o in &outs {
        if dir_of(&o.path).is_some() {
            known.existing.insert(o.path.clone());
        }
    }
    for c in &legacy.outputs {
        known.existing.insert(c.path.clone());
    }
    for dir in &dirs {
        if let Ok(entries) = std::fs::read_dir(out.join(dir)) {
            for e in entries.flatten() {
                let p = format!("{dir}/{}", e.file_name().to_string_lossy());
                let tracked = previous.is_some_and(|s| s.files.contains_key(&p));
                if known.existing.insert(p.clone()) && !tracked {
                    untracked.push(p);
                }
            }
        }
    }
    let mut notes = legacy.notes;
    let prev_schema = previous.and_then(|s| s.schema.as_ref());
    if prev_schema.is_none() && !known.history.is_empty() {
        notes.push(
            "the last generation recorded no schema; from this run on, entity changes produce new migrations"
                .to_owned(),
        );
    }
    let mut migrations = Vec::new();
    let mut warnings = Vec::new();
    let pending = super::state::read_pending(out);
    for mut m in migrate::plan(prev_schema, &schema, &known) {
        adopt_interrupted(out, &untracked, &pending, &mut m);
        migrations.push(m.path.clone());
        warnings.append(&mut m.warnings);
        outs.push(Output::new(m.path, m.content, Policy::WriteOnce));
    }
    // Converted files first: they win over any render at the same path.
    let mut all = legacy.outputs;
    all.append(&mut outs);
    let outs = all;
    let opts = Options {
        conflict,
        history_dirs: dirs,
        retired: legacy.retired,
    };
    let mut preview = prepare(out, outs, previous, &opts)?;
    preview.state.schema = Some(schema);
    // The fingerprint is kept only when every regenerated file's record is this render: a
    // later run from the same inputs may then trust the records instead of rendering. Only
    // these outcomes leave a record that is not (or no) clean copy of the render.
    let records_are_render = !preview.changes.iter().any(|c| {
        matches!(
            c.action,
            Action::Unresolved | Action::NotOurs | Action::Conflicted
        )
    });
    if records_are_render {
        preview.state.inputs = g.inputs.clone();
        preview.state.source = g.source.clone();
        preview.state.overview = Some(g.overview.clone());
    }
    Ok(Run {
        preview,
        migrations,
        warnings,
        notes,
    })
}

/// The run of a fresh generation into a bare folder (see [`super::stream`]): rendered and
/// written chunk by chunk, the text of one chunk held at a time. The result is what
/// [`prepare_run`] and `apply` give there: every file created, the migrations a new schema
/// calls for, the state last. A failure part way removes what was written. `chunk`: files per
/// chunk ([`super::stream::CHUNK`]).
/// Generic in its error so that `write` does not import the top-level error (which wraps
/// `WriteError`): the caller's error takes both render and write failures.
pub fn stream_fresh<E: From<RenderError> + From<WriteError>>(
    out: &Path,
    g: &mut Generated,
    chunk: usize,
) -> Result<Run, E> {
    let schema = Schema::from_model(g.model());
    let migrations = fresh_migrations(&g.plan, &schema);
    let mut paths: Vec<&str> = g.plan.iter().map(|f| f.path.as_str()).collect();
    paths.extend(migrations.iter().map(|m| m.path.as_str()));
    let mut fresh = super::stream::Fresh::start(out, &paths)?;
    let policies: Vec<Policy> = g.plan.iter().map(|f| f.policy).collect();
    // The render drops the model once it has its template values: the writer needs no more
    // of it than the schema above (issue 23: ~50 MB of the peak at 1 000 services).
    let written = g.stream(chunk, true, |at, texts, keys| {
        let outs = texts
            .into_iter()
            .zip(keys)
            .enumerate()
            .map(|(i, ((path, content), key))| Output {
                key: key.clone(),
                ..Output::new(path, content, policies[at + i])
            })
            .collect();
        fresh.write(outs).map_err(E::from)
    });
    let written = written.and_then(|()| {
        let outs = migrations
            .iter()
            .map(|m| Output::new(m.path.clone(), m.content.clone(), Policy::WriteOnce))
            .collect();
        Ok(fresh.write(outs)?)
    });
    if let Err(e) = written {
        fresh.abandon();
        return Err(e);
    }
    let preview = fresh.finish(
        schema,
        g.inputs.clone(),
        g.source.clone(),
        g.overview.clone(),
    )?;
    let mut warnings = Vec::new();
    let mut paths = Vec::new();
    for m in migrations {
        warnings.extend(m.warnings);
        paths.push(m.path);
    }
    Ok(Run {
        preview,
        migrations: paths,
        warnings,
        notes: Vec::new(),
    })
}

/// The migrations [`prepare_run`] adds in a fresh tree: an initial one for a database with
/// tables whose folder no template fills.
fn fresh_migrations(plan: &[crate::plan::PlannedFile], schema: &Schema) -> Vec<migrate::Migration> {
    let dirs: BTreeSet<&str> = schema.databases.keys().map(String::as_str).collect();
    let mut known = Known::default();
    for f in plan {
        let dir = f
            .path
            .match_indices('/')
            .map(|(i, _)| &f.path[..i])
            .find(|d| dirs.contains(d));
        if let Some(dir) = dir {
            known.templated.insert(dir.to_owned());
            known.existing.insert(f.path.clone());
        }
    }
    migrate::plan(None, schema, &known)
}

/// The run for a tree that `pipeline::generate_reusing` found untouched since a
/// generation from the same inputs: every recorded file unchanged, the state as it is.
fn unchanged(state: &State) -> Run {
    let changes = state
        .files
        .keys()
        .map(|path| super::Change {
            path: path.clone(),
            action: Action::Unchanged,
            before: None,
            after: None,
            rej: None,
        })
        .collect();
    Run {
        preview: Preview {
            changes,
            // Not written: `apply` leaves the state file of an unchanged tree as it is.
            state: State::default(),
            objects: Default::default(),
            pack: None,
            stamp: Vec::new(),
            unchanged: true,
        },
        migrations: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
    }
}

/// A run killed after writing a migration but before recording it left the file on disk; use
/// its name again (its text is the same) instead of numbering a duplicate after it.
fn adopt_interrupted(
    out: &Path,
    untracked: &[String],
    pending: &BTreeSet<String>,
    m: &mut migrate::Migration,
) {
    // `migrations/db/002_add_x.sql` → (`migrations/db`, `add_x.sql`)
    let split = |p: &str| -> Option<(String, String)> {
        let (dir, name) = p.rsplit_once('/')?;
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        let slug = name.get(digits..)?.strip_prefix('_')?;
        (digits > 0).then(|| (dir.to_owned(), slug.to_owned()))
    };
    let Some(target) = split(&m.path) else {
        return;
    };
    // A file it was creating (pending) may be cut short.
    let fits = |path: &str| match super::atomic::read_regular(&out.join(path)) {
        Ok(Some(t)) => t == m.content || pending.contains(path),
        _ => false,
    };
    if let Some(p) = untracked
        .iter()
        .find(|p| split(p).as_ref() == Some(&target) && fits(p))
    {
        m.path = p.clone();
    }
}

/// What converting the old migration layout adds to a run.
#[derive(Default)]
struct Legacy {
    /// The dbmate files to write.
    outputs: Vec<Output>,
    /// Generated legacy files whose text is now in those: removed once the new state is written.
    retired: BTreeSet<String>,
    /// Folders that hold legacy files.
    dirs: BTreeSet<String>,
    notes: Vec<String>,
}

/// Trees generated before dbmate hold `V00N__x.sql` + `V00N__x.down.sql` pairs, which dbmate
/// ignores. Each pair becomes the dbmate file `00N_x.sql`, from the text on disk (hand edits
/// included); the generated pair is then removed, a pair the user wrote is left for them to
/// delete. A file already at the new name with other text is never overwritten: the pair
/// stays and a note says so.
fn convert_legacy(out: &Path, dirs: &BTreeSet<String>, previous: Option<&State>) -> Legacy {
    let mut l = Legacy::default();
    let recorded = |p: &str| previous.is_some_and(|s| s.files.contains_key(p));
    let pending = super::state::read_pending(out);
    let mut versions = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(out.join(dir)) else {
            continue;
        };
        let mut files = BTreeMap::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('V')
                && name.ends_with(".sql")
                && let Ok(Some(text)) = super::atomic::read_regular(&e.path())
            {
                files.insert(name, text);
            }
        }
        let conversions = migrate::convert_legacy(dir, &files);
        if conversions.is_empty() {
            continue;
        }
        l.dirs.insert(dir.clone());
        for c in conversions {
            let names = c.from.join(" + ");
            let on_disk = super::atomic::read_regular(&out.join(&c.path))
                .ok()
                .flatten();
            let clash = on_disk
                .as_ref()
                .is_some_and(|t| *t != c.content && !pending.contains(&c.path));
            if recorded(&c.path) && on_disk.as_ref() == Some(&c.content) {
                l.notes.push(format!(
                    "{names}: left over from the conversion to dbmate's layout (dbmate ignores them; their text is in {}): delete them",
                    c.path
                ));
                continue;
            }
            if recorded(&c.path) || clash {
                l.notes.push(format!(
                    "{names}: old migration layout, which dbmate ignores; {} already exists with other text, so nothing was converted: merge them into it by hand and delete the old files",
                    c.path
                ));
                continue;
            }
            let (ours, theirs): (Vec<&String>, Vec<&String>) =
                c.from.iter().partition(|p| recorded(p));
            l.retired.extend(ours.into_iter().cloned());
            l.notes.push(format!(
                "{names} → {}: converted to the layout of dbmate, the migration runner (text kept as it was){}",
                c.path,
                if theirs.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} not generated by this tool, left in place: delete it",
                        theirs
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" and ")
                    )
                }
            ));
            versions.push(
                c.path
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .split('_')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
            l.outputs
                .push(Output::new(c.path, c.content, Policy::WriteOnce));
        }
    }
    if !versions.is_empty() {
        versions.sort();
        versions.dedup();
        let values: Vec<String> = versions.iter().map(|v| format!("('{v}')")).collect();
        l.notes.push(format!(
            "a database that already has the converted migrations applied (without dbmate) needs them recorded once before the first `dbmate up`: CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations (version) VALUES {} ON CONFLICT DO NOTHING;",
            values.join(", ")
        ));
    }
    l
}

/// The per-file lines and notes, for people (migration warnings are printed apart, on stderr).
pub fn report(run: &Run, first: bool) -> String {
    let p = &run.preview;
    let mut s = String::new();
    for c in &p.changes {
        let note = match c.action {
            Action::Unchanged | Action::Forgotten | Action::Edited => continue,
            Action::Created if first => continue,
            Action::Created if run.migrations.contains(&c.path) => " (new migration)",
            Action::Recreated => " (deleted by hand; generated again)",
            Action::Merged => " (your edits kept, the new render merged in)",
            Action::Conflicted if c.rej.is_some() => {
                " (your version kept; the generated change is in the .rej file)"
            }
            Action::Conflicted => " (resolve the <<<<<<< yours / >>>>>>> generated markers)",
            Action::Unresolved => " (an earlier conflict is still unresolved; left as it is)",
            Action::Removed => " (no longer produced)",
            Action::Converted => " (old migration layout; its text moved to the dbmate file)",
            Action::Kept => " (no longer produced but edited by hand; kept, no longer tracked)",
            Action::NotOurs => " (exists and was not generated; not overwritten)",
            _ => "",
        };
        let _ = writeln!(s, "  {:<10} {}{note}", c.action.label(), c.path);
    }
    for n in &run.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// `3 created, 1 merged, …` (zero counts left out).
pub fn counts(p: &Preview) -> String {
    let order = [
        Action::Created,
        Action::Recreated,
        Action::Updated,
        Action::Merged,
        Action::Conflicted,
        Action::Unresolved,
        Action::Removed,
        Action::Converted,
        Action::Kept,
        Action::NotOurs,
        Action::Unchanged,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|a| {
            let n = p.count(*a)
                + if *a == Action::Unchanged {
                    p.count(Action::Edited)
                } else {
                    0
                };
            (n > 0).then(|| format!("{n} {}", a.label()))
        })
        .collect();
    if parts.is_empty() {
        "nothing to do".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Unified diff of every file the run would change, coloured when asked.
pub fn diff(p: &Preview, color: bool) -> String {
    let mut s = String::new();
    for c in &p.changes {
        let (before, after) = match (c.action, &c.after) {
            (Action::Removed, _) => (c.before.as_deref().unwrap_or_default(), ""),
            (_, Some(a)) => (c.before.as_deref().unwrap_or_default(), a.as_str()),
            _ => continue,
        };
        let old = if c.before.is_some() {
            format!("a/{}", c.path)
        } else {
            "/dev/null".to_owned()
        };
        let new = if c.action == Action::Removed {
            "/dev/null".to_owned()
        } else {
            format!("b/{}", c.path)
        };
        let text = similar::TextDiff::from_lines(before, after)
            .unified_diff()
            .header(&old, &new)
            .to_string();
        for line in text.lines() {
            let code = match line.as_bytes().first() {
                _ if !color => None,
                Some(b'+') if !line.starts_with("+++") => Some("32"),
                Some(b'-') if !line.starts_with("---") => Some("31"),
                Some(b'@') => Some("36"),
                Some(b'+' | b'-') => Some("1"),
                _ => None,
            };
            match code {
                Some(code) => {
                    let _ = writeln!(s, "\x1b[{code}m{line}\x1b[0m");
                }
                None => {
                    let _ = writeln!(s, "{line}");
                }
            }
        }
    }
    s
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
pub fn use_color() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}
