//! The real binary, for the tests that are about the command line (arguments, exit codes,
//! messages, what reaches stdout and stderr). Everything else generates in process
//! ([`super::project`]).

use assert_cmd::Command;

/// `codex-system-design`, with the environment as the test runner has it.
pub fn bin() -> Command {
    Command::cargo_bin("codex-system-design").unwrap()
}
