//! The one error type of the commands, and the one place where a run's end becomes an exit code.
//!
//! Every command returns `Result<Outcome, Error>`: an [`Outcome`] is a run that finished and
//! has told its result (possibly findings: exit 1); an [`Error`] stopped it and is printed by
//! [`crate::report`] (as text on stderr, or inside the `--format json` document). Exit codes:
//! 0 ok; 1 an invalid blueprint or answers file, conflicts, stale files, findings; 2 usage, I/O
//! and tool errors.
//!
//! A message whose remedy reads best inline keeps it in the message (`…; pass --force`);
//! [`Error::help`] is the separate `help:` line, printed under the message.

use crate::diagnostic::Diagnostics;
use crate::render::{RenderError, TemplatesError};
use crate::resolve::ResolveError;
use crate::write::WriteError;

/// What `init` says when it has no terminal to ask in.
pub const NO_TERMINAL_HELP: &str = "to run without a terminal, pass --yes (accept every default, optionally with --example NAME) or --answers FILE (answers as YAML or JSON), or use the headline command: codex-system-design --example NAME (or --blueprint FILE) --out DIR";

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; exit 0.
    Done,
    /// Reported findings: blueprint or tree errors (`validate`, `check`), conflicts left in
    /// the tree, stale files under `--check`; exit 1.
    Findings,
    /// `validate` of a file that is no blueprint text (too large, not UTF-8), reported in the
    /// asked format; exit 2 like any unreadable file.
    Unreadable,
}

/// A blueprint with errors (or warnings under `--deny-warnings`) and its text, for the
/// located report.
#[derive(Debug)]
pub struct Invalid {
    pub diagnostics: Diagnostics,
    pub text: String,
}

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the blueprint is not valid; nothing was written")]
    Invalid(Box<Invalid>),
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    /// A blueprint file that is no text (too large, not UTF-8): its located message.
    #[error("{0}")]
    NotText(String),
    /// The blueprint is valid but cannot be resolved (presets and the like).
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A `--templates` folder that cannot be used.
    #[error(transparent)]
    Templates(#[from] TemplatesError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The output folder holds files this tool did not write.
    #[error("{0}; choose an empty or new --out directory, or pass --force")]
    NotOurs(WriteError),
    #[error(
        "{0} exists and differs from the blueprint being generated; run `codex-system-design generate` in that folder to regenerate from it, or pass --force to replace it"
    )]
    BlueprintDiffers(String),
    #[error(
        "{0} has a readable state; `--adopt` is for a tree whose state is missing or unreadable: run without it"
    )]
    AdoptWithState(String),
    #[error("unknown example `{name}`; {suggestion}")]
    UnknownExample { name: String, suggestion: String },
    /// Flags that do not go together, or a flag's bad value.
    #[error("{0}")]
    Usage(String),
    #[error("cannot check {dir}: {reason}")]
    Check { dir: String, reason: String },
    #[error("no built-in template `{path}`; {hint}")]
    NoTemplate { path: String, hint: String },
    /// `templates eject` never overwrites.
    #[error("{0} exists; not overwriting it")]
    Exists(String),
    #[error("{0}")]
    Man(std::io::Error),
    #[error("{file} is not a valid answers file: {reason}")]
    AnswersUnparsable {
        file: String,
        reason: Box<serde_saphyr::Error>,
    },
    #[error("{file} has {count} invalid answer(s); nothing was written\n{list}")]
    AnswersInvalid {
        file: String,
        count: usize,
        list: String,
    },
    /// The answers do not make a blueprint.
    #[error("{0}")]
    Answers(String),
    #[error("`init` asks its questions in a terminal, and {0} is not one")]
    NoTerminal(&'static str),
    #[error("cannot read the answer from the terminal: {0}")]
    Prompt(std::io::Error),
}

impl Error {
    /// An invalid blueprint with its text.
    pub fn invalid(diagnostics: Diagnostics, text: &str) -> Self {
        Error::Invalid(Box::new(Invalid {
            diagnostics,
            text: text.to_owned(),
        }))
    }

    /// An example name that is not built in, with the nearest known one.
    pub fn unknown_example(name: &str) -> Self {
        let names: Vec<&str> = crate::assets::examples()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        Error::UnknownExample {
            name: name.to_owned(),
            suggestion: crate::diagnostic::suggest(name, &names),
        }
    }

    /// The exit code: 1 for an input that is wrong (blueprint, answers), 2 for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) | Error::AnswersUnparsable { .. } | Error::AnswersInvalid { .. } => 1,
            _ => 2,
        }
    }

    /// The line printed under the message (`  help: …`), for errors whose remedy is not
    /// already part of it.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            Error::NoTerminal(_) => Some(NO_TERMINAL_HELP),
            _ => None,
        }
    }
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Done => 0,
            Outcome::Findings => 1,
            Outcome::Unreadable => 2,
        }
    }
}

/// The process's exit code for a command's result.
pub fn exit_code(r: &Result<Outcome, Error>) -> i32 {
    match r {
        Ok(o) => o.exit_code(),
        Err(e) => e.exit_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_input_exits_1_and_everything_else_2() {
        let invalid = Error::invalid(Diagnostics::default(), "");
        assert_eq!(exit_code(&Err(invalid)), 1);
        assert_eq!(exit_code(&Err(Error::Usage("x".into()))), 2);
        assert_eq!(exit_code(&Ok(Outcome::Findings)), 1);
        assert_eq!(exit_code(&Ok(Outcome::Done)), 0);
    }

    #[test]
    fn only_errors_without_an_inline_remedy_have_a_help_line() {
        assert!(Error::NoTerminal("standard input").help().is_some());
        assert!(
            Error::NotOurs(WriteError::NotOurs("x".into()))
                .help()
                .is_none()
        );
    }
}
