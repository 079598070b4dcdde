//! Cross-reference rules of PRODUCT §4 over a typed blueprint. Pure: reads the blueprint and the
//! source map, pushes diagnostics; never stops at the first problem. Codes are stable, listed in
//! [`crate::diagnostic::codes`] and documented in docs/diagnostics.md.
//!
//! Every rule is linear (or `n log n`) in the size of the blueprint: names are looked up in maps
//! and sets built once, and did-you-mean hints, the only quadratic part, are computed for a
//! bounded number of unknown names per run.
//!
//! One file per concern: [`names`] (formats, reserved names, collisions), [`graph`] (services,
//! routes and the dependency graph), [`data`] (entities, fields, ownership, references to
//! datastores and topics), [`services`] (image/language, ports, versions and traffic, type rules),
//! [`usage`] (unused and shared resources).

mod auth;
mod container;
mod data;
mod derived;
mod graph;
mod names;
mod services;
mod usage;

use super::fields::{self, FieldSpec};
use super::{Blueprint, SourceMap};
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use indexmap::IndexMap;
use std::collections::{BTreeSet, HashMap};

pub use names::is_dns_label;

pub fn check(bp: &Blueprint, src: &SourceMap, diags: &mut Diagnostics) {
    let specs = parsed_specs(bp);
    let mut v = Check {
        bp,
        src,
        diags,
        specs: &specs,
        hints_left: HINT_BUDGET,
    };
    v.names();
    v.services_and_routes();
    v.dependency_cycles();
    v.references();
    v.entities();
    v.engines();
    v.ownership();
    v.service_rules();
    v.container_rules();
    v.auth_rules();
    v.usage();
    v.type_rules();
    v.derived();
    // Advice for deploying: only worth reading once the blueprint is valid.
    if !v.diags.has_errors() {
        v.issuer_rules();
    }
}

/// Did-you-mean hints computed per run; beyond this, help lines name the section to look in.
/// Keeps a blueprint with thousands of unknown names linear.
const HINT_BUDGET: usize = 200;

struct Check<'a> {
    bp: &'a Blueprint,
    src: &'a SourceMap,
    diags: &'a mut Diagnostics,
    /// Each distinct field spec, parsed once: several rules read the fields, and the same
    /// spec (`uuid pk`, `string(255)`) recurs across entities.
    specs: &'a Specs<'a>,
    hints_left: usize,
}

/// FNV, as the source map: the rules look a spec up per field and per rule, and SipHash's
/// DoS resistance buys nothing for keys from the user's own file.
type Specs<'a> = HashMap<&'a str, Result<FieldSpec, String>, super::FnvBuild>;

fn parsed_specs(bp: &Blueprint) -> Specs<'_> {
    let mut specs = Specs::default();
    for spec in bp.entities.values().flat_map(|e| e.fields.values()) {
        specs
            .entry(spec.as_str())
            .or_insert_with(|| fields::parse(spec));
    }
    specs
}

fn names<T>(m: &IndexMap<String, T>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

impl<'a> Check<'a> {
    /// The parsed field spec (every spec of the blueprint is in `specs`).
    fn spec(&self, spec: &str) -> &'a Result<FieldSpec, String> {
        let specs: &'a Specs<'a> = self.specs;
        &specs[spec]
    }

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// An error at the value of `path`.
    fn err(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.value(&path);
        self.push(Diagnostic::error(code, path, msg).with_help(help).at(loc));
    }

    /// A warning at the value of `path`.
    fn warn(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.value(&path);
        self.push(Diagnostic::warning(code, path, msg).with_help(help).at(loc));
    }

    /// An error at the key of `path` (a name that is wrong in itself).
    fn err_key(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.key(&path);
        self.push(Diagnostic::error(code, path, msg).with_help(help).at(loc));
    }

    /// A warning at the key of `path`.
    fn warn_key(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.key(&path);
        self.push(Diagnostic::warning(code, path, msg).with_help(help).at(loc));
    }

    /// "did you mean `x`?" while the hint budget lasts.
    fn hint(&mut self, word: &str, known: &[&str], section: &str) -> String {
        if self.hints_left == 0 {
            return format!("see the names declared under `{section}`");
        }
        self.hints_left -= 1;
        suggest(word, known)
    }

    /// Report the second and later occurrences of a name in the list at `path`.
    fn duplicates(&mut self, path: &str, list: &[String], code: &'static str, what: &str) {
        let mut seen = BTreeSet::new();
        for (i, item) in list.iter().enumerate() {
            if !seen.insert(item.as_str()) {
                self.err(
                    code,
                    format!("{path}[{i}]"),
                    format!("{what} `{item}` is listed twice in `{path}`"),
                    "remove the repeated entry".into(),
                );
            }
        }
    }
}
