//! Reporting, below both the CLI and the wizard: a command's errors (human text on stderr, or
//! the `--format json` document) and the end of a generating command (the top-level command,
//! `generate`, `init`): the prepared changes written (or only compared), then told either to
//! people — the summary on stdout, problems on stderr, with `--verbose` every file's action and
//! the stage timings on stderr — or as one JSON document on stdout (`--format json`, shape in
//! [`Summary`]) and nothing else there. Exit codes are the same in both forms (see
//! [`crate::error`]).

use crate::diagnostic::{Diagnostics, human, json};
use crate::error::{self, Error, Outcome};
use crate::pipeline::{Generated, Source};
use crate::progress::{Stage, Tracker, stderr_is_live_terminal};
use crate::write::{self, Action, Preview, run};
use indexmap::IndexMap;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// What `generate` does with the prepared changes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mode {
    pub check: bool,
    pub diff: bool,
    pub dry_run: bool,
    pub conflict: write::ConflictStyle,
    /// `generate --adopt`: no state is trusted; files that match the render are adopted.
    pub adopt: bool,
    /// No state and no `--force`/`--adopt`: files already at generated paths stop the run
    /// (E0403) rather than being adopted or set aside without a word.
    pub refuse_untracked: bool,
}

/// How a command reports, and what it has learnt so far for the JSON document.
pub struct Reporter {
    quiet: bool,
    verbose: bool,
    json: bool,
    pub tracker: Tracker,
    diagnostics: Diagnostics,
    /// Filled in as the run learns them.
    pub blueprint: Option<String>,
    pub out: Option<String>,
    mode: &'static str,
}

impl Reporter {
    pub fn new(quiet: bool, verbose: bool, json: bool) -> Self {
        Reporter {
            quiet,
            verbose,
            json,
            tracker: Tracker::new(!quiet && stderr_is_live_terminal()),
            diagnostics: Diagnostics::default(),
            blueprint: None,
            out: None,
            mode: "write",
        }
    }

    /// For a command that prints its own results: errors as text, no progress indicator.
    pub fn plain() -> Self {
        Reporter::new(true, false, false)
    }

    /// What the run was asked to do, for the JSON document (known before anything can fail).
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = if mode.check {
            "check"
        } else if mode.diff || mode.dry_run {
            "dry_run"
        } else {
            "write"
        };
    }

    /// The end of every command: an error told (as text, or as the JSON document), and the
    /// exit code.
    pub fn conclude(&mut self, r: Result<Outcome, Error>) -> i32 {
        let code = error::exit_code(&r);
        if let Err(e) = r {
            self.tracker.finish();
            if self.json {
                self.error_document(e, code);
            } else {
                print_error(&e);
            }
        }
        code
    }

    fn error_document(&mut self, e: Error, code: i32) {
        let status = match e {
            Error::Invalid(i) => {
                self.diagnostics = i.diagnostics;
                let s = Summary {
                    error: Some("the blueprint is not valid; nothing was written".to_owned()),
                    ..self.summary("invalid", code)
                };
                return s.print();
            }
            _ => "error",
        };
        let s = Summary {
            error: Some(e.to_string()),
            ..self.summary(status, code)
        };
        s.print();
    }

    /// Warnings of a valid blueprint: on stderr for people (errors and warnings; notes are for
    /// `validate`), every diagnostic in the JSON document.
    pub fn warnings(&mut self, d: &Diagnostics, src: &Source) {
        self.diagnostics = d.clone();
        if !self.json && !self.quiet && d.error_count() + d.warning_count() > 0 {
            self.tracker.eprint(&text_report(d, Some(&src.text)));
        }
    }

    fn summary(&self, status: &'static str, exit_code: i32) -> Summary {
        Summary {
            status,
            exit_code,
            name: None,
            arch: None,
            scale: None,
            out: self.out.clone(),
            blueprint: self.blueprint.clone(),
            mode: self.mode,
            written: false,
            counts: counts(&[]),
            files: Vec::new(),
            conflicts: Vec::new(),
            migrations: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
            diagnostics: json::value(&self.diagnostics),
            error: None,
        }
    }
}

/// An error as text on stderr: an invalid blueprint as its located diagnostics, then the
/// message; a message that starts with its code (`E0401: …`) as `error[E0401]: …`, like a
/// blueprint diagnostic; the help line under it.
pub fn print_error(e: &Error) {
    if let Error::Invalid(i) = e {
        err!("{}", text_report(&i.diagnostics, Some(&i.text)));
    }
    let msg = e.to_string();
    match coded(&msg) {
        Some((code, rest)) => errln!("error[{code}]: {rest}"),
        None => errln!("error: {msg}"),
    }
    if let Some(help) = e.help() {
        errln!("  help: {help}");
    }
}

/// A message of a tree or tool error that starts with its code (`E0401: …`): the code and the
/// rest.
fn coded(msg: &str) -> Option<(&str, &str)> {
    let (code, rest) = msg.split_once(": ")?;
    let ok =
        code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit());
    ok.then_some((code, rest))
}

/// Human text for a set of diagnostics, with a closing count line; coloured when stderr is a
/// terminal and `NO_COLOR` is unset.
pub fn text_report(d: &Diagnostics, source: Option<&str>) -> String {
    human::report(d, source, human::color_for_stderr())
}

/// Warnings of a valid blueprint on stderr, for a command without a [`Reporter`] summary.
pub fn print_warnings(d: &Diagnostics, src: &Source, quiet: bool) {
    // Notes alone (logical references and the like) are for `validate`, not every generation.
    if !quiet && d.error_count() + d.warning_count() > 0 {
        err!("{}", text_report(d, Some(&src.text)));
    }
}

/// A `blueprint.yaml` already at `bp_path` is replaced only when it is the same text or with
/// `--force`: it is the user's source of truth.
pub fn check_blueprint_file(bp_path: &Path, text: &str, force: bool) -> Result<(), Error> {
    match write::atomic::read_regular(bp_path)? {
        Some(existing) if existing != text && !force => {
            Err(Error::BlueprintDiffers(bp_path.display().to_string()))
        }
        _ => Ok(()),
    }
}

/// The target of a new tree: the state of an earlier generation when there is one.
pub fn check_target(out: &Path, force: bool) -> Result<Option<write::State>, Error> {
    write::check_target(out, force).map_err(|e| match e {
        e @ write::WriteError::NotOurs(_) => Error::NotOurs(e),
        e => Error::Write(e),
    })
}

/// `--format json` of a generating command: one object, every key always present (`null` or
/// empty when it does not apply). Documented in the README and in `generate --help`.
#[derive(Serialize)]
struct Summary {
    /// `ok`, `conflicts`, `stale` (`--check`), `invalid` (blueprint errors) or `error`.
    status: &'static str,
    exit_code: i32,
    name: Option<String>,
    #[serde(rename = "type")]
    arch: Option<String>,
    scale: Option<String>,
    out: Option<String>,
    blueprint: Option<String>,
    /// `write`, `dry_run` or `check`.
    mode: &'static str,
    /// Whether the tree was written (false for `--dry-run`, `--check` and failures).
    written: bool,
    /// Files per action, every action present.
    counts: IndexMap<String, usize>,
    files: Vec<FileAction>,
    /// Paths left with conflicts (this run's and earlier unresolved ones).
    conflicts: Vec<String>,
    /// Migrations this run adds.
    migrations: Vec<String>,
    /// Migration changes that can lose data.
    warnings: Vec<String>,
    notes: Vec<String>,
    /// The blueprint's diagnostics, as `validate --format json` prints them.
    diagnostics: serde_json::Value,
    error: Option<String>,
}

#[derive(Serialize)]
struct FileAction {
    path: String,
    action: String,
}

impl Summary {
    fn print(&self) {
        outln!(
            "{}",
            serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
        );
    }
}

/// Every action, in the order the summary counts them.
const ACTIONS: [Action; 13] = [
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
    Action::Edited,
    Action::Unchanged,
    Action::Forgotten,
];

/// The action's JSON name (`not_ours`), as the write stage serialises it.
fn action_name(a: Action) -> String {
    match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => s,
        _ => a.label().replace(' ', "_"),
    }
}

fn counts(files: &[FileAction]) -> IndexMap<String, usize> {
    let mut m: IndexMap<String, usize> = ACTIONS.iter().map(|a| (action_name(*a), 0)).collect();
    for f in files {
        *m.entry(f.action.clone()).or_default() += 1;
    }
    m
}

/// Every file and its action, for `--verbose` (stderr).
fn file_lines(p: &Preview) -> String {
    let mut s = format!("files ({}):\n", p.changes.len());
    for c in &p.changes {
        let rej = if c.rej.is_some() { " (+ .rej)" } else { "" };
        let _ = writeln!(s, "  {:<10} {}{rej}", c.action.label(), c.path);
    }
    s
}

/// Write (or, for `--check`, `--diff` and `--dry-run`, only compare) and report.
pub fn finish_write(
    out: &Path,
    g: &mut Generated,
    state: Option<&write::State>,
    rep: &mut Reporter,
    mode: Mode,
) -> Result<Outcome, Error> {
    rep.out = Some(out.display().to_string());
    rep.set_mode(mode);
    let preview_only = mode.check || mode.diff || mode.dry_run;
    // A writing run holds the tree's lock from here to its end, and reads the state again
    // under it: a run that finished meanwhile is the baseline, not the state read before.
    let (_lock, locked_state);
    let state = if preview_only {
        state
    } else {
        _lock = write::lock(out)?;
        locked_state = state_under_lock(out, g, state, mode)?;
        locked_state.as_deref()
    };
    // A fresh tree in a bare folder is rendered and written chunk by chunk (issue 23).
    let stream = g.deferred.is_some()
        && !preview_only
        && !mode.adopt
        && state.is_none()
        && write::stream::bare(out);
    if stream {
        // What a fresh run compares: only that the folder is bare.
        rep.tracker
            .stage(Stage::Compare, &format!("checking {}", out.display()));
        rep.tracker.stage(
            Stage::Write,
            &format!("rendering and writing {} files", g.plan.len()),
        );
        let r = run::stream_fresh::<crate::error::Error>(out, g, write::stream::CHUNK)?;
        if !rep.json {
            for w in &r.warnings {
                rep.tracker.eprint(&format!("warning: {w}\n"));
            }
        }
        return report_run(out, g, &r, state, rep, mode);
    }
    // Still in the render stage `generate_deferred` started.
    g.render_deferred()?;
    // A reused generation planned nothing: its files are the state's.
    let files = match state {
        Some(s) if g.reused => s.files.len(),
        _ => g.plan.len(),
    };
    rep.tracker.stage(
        Stage::Compare,
        &format!("comparing {files} files with {}", out.display()),
    );
    let mut r = run::prepare_run(out, g, state, mode.conflict)?;
    if mode.adopt {
        r.notes.push(format!(
            "state rebuilt: {} file(s) matching a fresh render adopted as generated; {} that differ kept as yours (not ours, no longer tracked)",
            r.preview.count(Action::Unchanged),
            r.preview.count(Action::NotOurs)
        ));
    }
    let p = &r.preview;
    if mode.refuse_untracked && state.is_none() {
        refuse_untracked(out, p)?;
    }
    if !rep.json {
        for w in &r.warnings {
            rep.tracker.eprint(&format!("warning: {w}\n"));
        }
    }
    if !preview_only {
        let n = p
            .changes
            .iter()
            .filter(|c| c.after.is_some() || c.action == Action::Removed)
            .count();
        rep.tracker
            .stage(Stage::Write, &format!("writing {n} files"));
        write::apply(out, &mut r.preview, state)?;
    }
    report_run(out, g, &r, state, rep, mode)
}

/// Report a run that has been prepared (and, unless only previewing, written).
fn report_run(
    out: &Path,
    g: &Generated,
    r: &run::Run,
    state: Option<&write::State>,
    rep: &mut Reporter,
    mode: Mode,
) -> Result<Outcome, Error> {
    let preview_only = mode.check || mode.diff || mode.dry_run;
    let p = &r.preview;
    rep.tracker.finish();
    let stale = p.stale().count();
    let (status, code) = if mode.check && stale > 0 {
        ("stale", 1)
    } else if p.has_conflicts() && !mode.check {
        ("conflicts", 1)
    } else {
        ("ok", 0)
    };
    if rep.verbose {
        err!("{}{}", file_lines(p), rep.tracker.report());
    }
    if rep.json {
        let s = Summary {
            written: !preview_only,
            ..rep.summary(status, code).with_run(&g.overview, r)
        };
        s.print();
        return Ok(if code == 0 {
            Outcome::Done
        } else {
            Outcome::Findings
        });
    }
    Ok(if preview_only {
        human_preview(out, r, rep.quiet, mode)
    } else {
        human_written(out, g, r, state.is_none(), rep.quiet)
    })
}

/// The state read again under the tree's lock (none for `--adopt`); a render skipped on the
/// strength of the state read before is refused when that state has changed since.
fn state_under_lock<'a>(
    out: &Path,
    g: &Generated,
    before: Option<&'a write::State>,
    mode: Mode,
) -> Result<Option<std::borrow::Cow<'a, write::State>>, Error> {
    use std::borrow::Cow;
    if mode.adopt {
        return Ok(None);
    }
    // Unchanged since it was read (same file, size and time): no need to parse it again (nor
    // to copy it: tens of thousands of records at 1 000 services).
    let unchanged = before.is_some_and(|b| {
        let now = write::state::state_file_id(out);
        b.read_from.0.is_some() && now.0 == b.read_from.0
    });
    if unchanged {
        return Ok(before.map(Cow::Borrowed));
    }
    let now = write::read_state(out)?;
    // Files left unrendered were judged against `before`: only valid if it is still the state.
    let judged = g.reused || g.trusted.iter().any(|t| *t);
    if judged && now.as_ref() != before {
        return Err(Error::Write(write::WriteError::Locked(
            out.display().to_string(),
            "its state, changed by a run that finished meanwhile".to_owned(),
        )));
    }
    Ok(now.map(Cow::Owned))
}

/// Without a state (and without `--force` or `--adopt`), files already at generated paths stop
/// the run (E0403) rather than being adopted or set aside without a word.
fn refuse_untracked(out: &Path, p: &Preview) -> Result<(), Error> {
    let found: Vec<&str> = p
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::NotOurs | Action::Unchanged))
        .map(|c| c.path.as_str())
        .collect();
    match found.first() {
        None => Ok(()),
        Some(first) => Err(Error::Write(write::WriteError::NoState(
            out.display().to_string(),
            format!(
                "{} generated paths already hold files (`{first}`{})",
                found.len(),
                if found.len() > 1 { ", …" } else { "" }
            ),
        ))),
    }
}

impl Summary {
    /// The system and what the run did to each file.
    fn with_run(self, m: &crate::resolve::Overview, r: &run::Run) -> Summary {
        let p = &r.preview;
        let files: Vec<FileAction> = p
            .changes
            .iter()
            .map(|c| FileAction {
                path: c.path.clone(),
                action: action_name(c.action),
            })
            .collect();
        Summary {
            name: Some(m.name.clone()),
            arch: Some(m.arch.clone()),
            scale: Some(m.scale.clone()),
            counts: counts(&files),
            conflicts: p
                .changes
                .iter()
                .filter(|c| c.action.is_conflict())
                .map(|c| c.path.clone())
                .collect(),
            files,
            migrations: r.migrations.clone(),
            warnings: r.warnings.clone(),
            notes: r.notes.clone(),
            ..self
        }
    }
}

/// `--check`, `--diff`, `--dry-run` for people.
fn human_preview(out: &Path, r: &run::Run, quiet: bool, mode: Mode) -> Outcome {
    let p = &r.preview;
    if mode.diff {
        out!("{}", run::diff(p, run::use_color()));
    }
    if mode.dry_run {
        out!("{}", run::report(r, false));
        outln!(
            "Dry run for {}: {} (nothing written)",
            out.display(),
            run::counts(p)
        );
    }
    if mode.check {
        let stale: Vec<_> = p.stale().collect();
        if !stale.is_empty() {
            if !mode.dry_run {
                for c in &stale {
                    outln!("  {:<10} {}", c.action.label(), c.path);
                }
            }
            errln!(
                "error: {} file(s) in {} do not match the blueprint; run `codex-system-design generate` to update them",
                stale.len(),
                out.display()
            );
            return Outcome::Findings;
        }
        if !quiet && !mode.diff {
            outln!("{} is up to date with its blueprint", out.display());
        }
        return Outcome::Done;
    }
    if p.has_conflicts() {
        Outcome::Findings
    } else {
        Outcome::Done
    }
}

/// The summary of a written tree for people.
fn human_written(out: &Path, g: &Generated, r: &run::Run, first: bool, quiet: bool) -> Outcome {
    let p = &r.preview;
    let report = run::report(r, first);
    if p.has_conflicts() {
        err!("{report}");
        errln!(
            "error: {} file(s) have conflicts between your edits and the new render; resolve them, then run `codex-system-design generate` again",
            p.changes.iter().filter(|c| c.action.is_conflict()).count()
        );
        return Outcome::Findings;
    }
    if !quiet {
        out!("{report}");
        let m = &g.overview;
        outln!(
            "Generated {} ({}, scale {}) into {}: {}",
            m.name,
            m.arch,
            m.scale,
            out.display(),
            run::counts(p)
        );
        outln!("Services: {}", service_list(m));
        outln!("{}", next_steps(out, m));
    }
    Outcome::Done
}

/// What to do with the tree: run it locally where the type has a local stack (compose), else
/// test the functions and plan the infrastructure.
fn next_steps(out: &Path, m: &crate::resolve::Overview) -> String {
    let run = if m.is_serverless {
        "(cd functions && pip install -r requirements-dev.txt && pytest)   # DATABASE_URL: a PostgreSQL\n  \
         (cd infra/terraform && terraform init -backend=false && terraform validate)"
    } else {
        "docker compose -f deploy/compose/docker-compose.yml up --build"
    };
    format!(
        "Next steps:\n  cd {}\n  {run}\n  edit blueprint.yaml, then run `codex-system-design generate`",
        out.display()
    )
}

/// The services for the summary line: all of them when there are a dozen or fewer, else the
/// first ten and a count, so a large system does not flood the terminal.
fn service_list(m: &crate::resolve::Overview) -> String {
    const SHOWN: usize = 10;
    let names: Vec<&str> = m.services.iter().map(String::as_str).collect();
    if names.len() <= SHOWN + 2 {
        return names.join(", ");
    }
    format!(
        "{}, … and {} more",
        names[..SHOWN].join(", "),
        names.len() - SHOWN
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_name_every_action_once_in_snake_case() {
        let files = vec![
            FileAction {
                path: "a".into(),
                action: "not_ours".into(),
            },
            FileAction {
                path: "b".into(),
                action: "created".into(),
            },
        ];
        let c = counts(&files);
        assert_eq!(c.len(), ACTIONS.len());
        assert_eq!(c["not_ours"], 1);
        assert_eq!(c["created"], 1);
        assert_eq!(c["unchanged"], 0);
        assert_eq!(c.keys().next().map(String::as_str), Some("created"));
    }
}
