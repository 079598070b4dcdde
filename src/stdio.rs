//! Writing to stdout and stderr (the crate's `out!`, `outln!`, `err!`, `errln!`) without panicking on a closed pipe. std's `print!` panics when the
//! reader has gone (`codex-system-design model -f bp.yaml | head`); here a broken pipe ends the
//! process at once, quietly, with the status a shell gives a process killed by SIGPIPE (141), so
//! a script under `set -o pipefail` still sees the output was cut. Any other write error is
//! ignored, where `print!` would have panicked on it for no benefit.

use std::io::Write as _;

/// The exit status of a process ended by SIGPIPE, as shells report it (128 + 13).
pub const BROKEN_PIPE_STATUS: i32 = 141;

pub fn stdout(args: std::fmt::Arguments) {
    finish(std::io::stdout().lock().write_fmt(args));
}

pub fn stderr(args: std::fmt::Arguments) {
    finish(std::io::stderr().lock().write_fmt(args));
}

fn finish(result: std::io::Result<()>) {
    if let Err(e) = result
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(BROKEN_PIPE_STATUS);
    }
}
