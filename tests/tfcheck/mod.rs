//! The Terraform reference check of the test suite, standing in for `terraform validate` (which
//! needs provider binaries from the unreachable registry).
//!
//! The reading and the rules are `check`'s own (`codex_system_design::check::terraform`: every
//! reference declared, module calls against the called module's variables and outputs, tfvars
//! keys). On top of them this adds what only generated code must satisfy, from the same
//! reading: nothing declared twice, no unknown top-level block or attribute, no bare name, no
//! unused variable or local, only local module sources.

use codex_system_design::check::Finding;
pub use codex_system_design::check::terraform::Module;
use codex_system_design::check::terraform::{At, findings, modules};
use std::path::Path;

fn show(f: &Finding) -> String {
    format!("{}:{}: {}", f.file, f.line, f.message)
}

fn show_at(at: &At, what: &str) -> String {
    format!("{}:{}: {what}", at.0, at.1)
}

pub trait Strict {
    /// Problems inside this module alone: `check`'s findings and the stricter rules.
    fn check_local(&self) -> Vec<String>;
    /// Rules for generated code only: duplicates, unknown blocks, bare names.
    fn strict(&self) -> Vec<String>;
    /// Variables and locals nothing refers to: legal Terraform, dead code in generated output.
    fn unused(&self) -> Vec<String>;
}

impl Strict for Module {
    fn check_local(&self) -> Vec<String> {
        let mut out: Vec<String> = self.broken.iter().map(show).collect();
        out.extend(self.undeclared_refs().iter().map(show));
        out.extend(self.strict());
        out
    }

    fn strict(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (what, at) in &self.duplicates {
            out.push(show_at(at, &format!("{what} is declared twice")));
        }
        for (what, at) in &self.unknown {
            out.push(show_at(at, &format!("unexpected {what}")));
        }
        for (parts, at) in &self.refs {
            if let [name] = parts.as_slice() {
                out.push(show_at(at, &format!("bare name `{name}`")));
            }
        }
        out
    }

    fn unused(&self) -> Vec<String> {
        let used = |kind: &str, name: &str| {
            self.refs
                .iter()
                .any(|(p, _)| p.len() > 1 && p[0] == kind && p[1] == name)
        };
        let mut out: Vec<String> = self
            .variables
            .keys()
            .filter(|v| !used("var", v))
            .map(|v| format!("variable `{v}` is never used"))
            .collect();
        out.extend(
            self.locals
                .iter()
                .filter(|l| !used("local", l))
                .map(|l| format!("local `{l}` is never used")),
        );
        out
    }
}

/// Every module under `root`: `check`'s Terraform findings, then per module the stricter rules,
/// unused names and module calls that leave the tree.
pub fn check_tree(root: &Path) -> Vec<String> {
    let mods = modules(root);
    let mut out: Vec<String> = findings(root, &mods).iter().map(show).collect();
    for (dir, m) in &mods {
        let rel = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
        out.extend(m.strict());
        out.extend(m.unused().into_iter().map(|p| format!("{rel}: {p}")));
        for (name, call) in &m.calls {
            if !call.source.starts_with("./") && !call.source.starts_with("../") {
                let what = format!("module `{name}` has a non-local source `{}`", call.source);
                out.push(show_at(&call.at, &what));
            }
        }
    }
    out
}
