//! Parse + validate arbitrary bytes exactly as `validate` does: decode (size, UTF-8), parse with
//! the YAML budgets, read the schema, run every rule, render every output format. Must never
//! panic; every diagnostic with a blueprint path must carry a position.
//!
//! Seed corpus: `cp blueprints/*.yaml tests/fixtures/*/*.yaml fuzz/corpus/parse_validate/`.
//! Crashes found go to `tests/fixtures/invalid/` as regression fixtures.

#![no_main]

use codex_system_design::blueprint;
use codex_system_design::diagnostic::{human, json, sarif};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = match blueprint::decode(data, "fuzz.yaml") {
        Ok(text) => {
            let loaded = blueprint::load(&text, "fuzz.yaml");
            let _ = human::report(&loaded.diagnostics, Some(&text), false);
            loaded.diagnostics
        }
        Err(d) => d,
    };
    for x in &d.items {
        assert!(x.path.is_empty() || x.line > 0, "{x:?}");
    }
    let _ = json::render(&d);
    let _ = sarif::render(&d);
});
