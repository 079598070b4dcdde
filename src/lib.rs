//! codex-system-design: an architecture blueprint → a complete, validated system tree.
//!
//! Pipeline: [`blueprint`] (parse with positions, schema, cross-reference validation) →
//! [`resolve`] (one model with every default, name and wiring) → [`plan`] (the files to write) →
//! [`render`] (Tera, pure) → [`write`] (atomic writes, state). [`pipeline`] strings the stages
//! together for the CLI in [`cli`].

// Output goes through `out!`/`err!` (a closed pipe must not panic): keep std's macros out.
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// `out!`, `outln!`, `err!`, `errln!`: `print!`, `println!`, `eprint!`, `eprintln!` for the
/// tool's own output. std's versions panic when the reader of a pipe has gone
/// (`codex-system-design … | head`); these end the process quietly instead (see [`stdio`]).
/// Declared first so every module sees them.
macro_rules! out {
    ($($t:tt)*) => { $crate::stdio::stdout(format_args!($($t)*)) };
}
macro_rules! outln {
    () => { $crate::stdio::stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::stdio::stdout(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! err {
    ($($t:tt)*) => { $crate::stdio::stderr(format_args!($($t)*)) };
}
macro_rules! errln {
    () => { $crate::stdio::stderr(format_args!("\n")) };
    ($($t:tt)*) => { $crate::stdio::stderr(format_args!("{}\n", format_args!($($t)*))) };
}

pub mod assets;
pub mod blueprint;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod error;
pub mod escape;
pub mod extras;
pub mod migrate;
pub mod naming;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod planview;
pub mod progress;
pub mod render;
pub mod report;
pub mod resolve;
pub mod slices;
pub mod stdio;
pub mod wizard;
pub mod write;
