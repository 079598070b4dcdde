//! The generated documents claim only behaviour that the system test proves (PRODUCT §11.10).
//!
//! Every sentence (or table cell) of a generated Markdown file that speaks of run-time behaviour — it
//! names a status code, retries, timeouts, readiness, caches, migrations, events… — must contain a
//! phrase listed in `tests/system/claims.tsv`, and each phrase names its proof: a system-test check
//! (`check:`), a reasoned gap of `tests/system/GAPS.md` (`gap:`), a test file of this repository
//! (`static:`) or, for text that describes without promising (an ADR's alternatives, a column's
//! domain), `none:` and why. A new claim without a proof fails here; so does a listed phrase that no
//! document says any more, or a proof that does not exist.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use support::project::Project;
use tempfile::TempDir;

/// Words that make a sentence a claim about what the running system does.
const BEHAVIOUR: [&str; 43] = [
    "401",
    "403",
    "404",
    "409",
    "422",
    "429",
    "503",
    "retry",
    "retries",
    "retried",
    "timeout",
    "time out",
    "fall back",
    "falls back",
    "cache-aside",
    "readiness",
    "/readyz",
    "/healthz",
    "reconnect",
    "backoff",
    "applied",
    "applies",
    "waits for",
    "idempot",
    "at least once",
    "exactly once",
    "outbox",
    "traceparent",
    "request-id",
    "request_id",
    "keyset",
    "rate limit",
    "authenticat",
    "authoriz",
    "verif",
    "reject",
    "refuse",
    "circuit",
    "dead-letter",
    "dead letter",
    "replay",
    "trace id",
    "in any order",
];

struct Claim {
    proof: String,
    phrase: String,
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn registry() -> Vec<Claim> {
    let text = fs::read_to_string(repo("tests/system/claims.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (proof, phrase) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("claims.tsv: no tab in {l:?}"));
            Claim {
                proof: proof.to_string(),
                phrase: phrase.to_lowercase(),
            }
        })
        .collect()
}

/// Sentences and table cells of a Markdown text, code blocks left out, wrapped lines joined.
fn units(markdown: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    let mut fenced = false;
    let mut current = String::new();
    let flush = |current: &mut String, blocks: &mut Vec<String>| {
        if !current.trim().is_empty() {
            blocks.push(std::mem::take(current));
        }
        current.clear();
    };
    for line in markdown.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            fenced = !fenced;
            flush(&mut current, &mut blocks);
            continue;
        }
        if fenced {
            continue;
        }
        let starts_block = t.is_empty()
            || t.starts_with('|')
            || t.starts_with('#')
            || t.starts_with("- ")
            || t.starts_with("* ")
            || t.chars().next().is_some_and(|c| c.is_ascii_digit()) && t.contains(". ");
        if starts_block {
            flush(&mut current, &mut blocks);
        }
        if t.starts_with('|') {
            blocks.extend(t.trim_matches('|').split('|').map(|c| c.trim().to_string()));
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(t);
    }
    flush(&mut current, &mut blocks);
    blocks.iter().flat_map(|b| sentences(b)).collect()
}

/// A block split after `.`, `;` or `:` followed by a space and a capital, a backtick or a bracket.
fn sentences(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = block.as_bytes();
    for i in 1..bytes.len().saturating_sub(1) {
        let next = bytes[i + 1];
        if matches!(bytes[i - 1], b'.' | b';' | b':')
            && bytes[i] == b' '
            && (next.is_ascii_uppercase() || matches!(next, b'`' | b'*' | b'('))
        {
            out.push(block[start..i].trim().to_string());
            start = i + 1;
        }
    }
    out.push(block[start..].trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

fn is_claim(unit: &str) -> bool {
    let lower = unit.to_lowercase();
    BEHAVIOUR.iter().any(|w| lower.contains(w))
}

/// The claims of one tree that no listed phrase covers, and the phrases that matched.
fn audit(tree: &Path, claims: &[Claim], matched: &mut BTreeSet<String>) -> Vec<String> {
    let mut uncovered = Vec::new();
    for entry in walkdir(tree) {
        let rel = entry.strip_prefix(tree).unwrap().display().to_string();
        let text = fs::read_to_string(&entry).unwrap();
        for unit in units(&text).into_iter().filter(|u| is_claim(u)) {
            let lower = unit.to_lowercase();
            let hits: Vec<&Claim> = claims
                .iter()
                .filter(|c| lower.contains(&c.phrase))
                .collect();
            if hits.is_empty() {
                uncovered.push(format!("{rel}: {unit}"));
            }
            matched.extend(hits.iter().map(|c| c.phrase.clone()));
        }
    }
    uncovered
}

fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                if !path.ends_with(".codex") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|x| x == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn generate(dir: &Path, example: &str, arch: &str) {
    Project::example(example).arch(arch).generate_into(dir);
}

/// The check names the system test runs (`CHECKS` in tests/system/checks.py).
fn check_names() -> BTreeSet<String> {
    let text = fs::read_to_string(repo("tests/system/checks.py")).unwrap();
    let table = text.split("CHECKS: list").nth(1).expect("CHECKS table");
    let table = &table[..table.find("\n]").expect("end of CHECKS")];
    table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("(\""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect()
}

fn proof_problem(proof: &str, checks: &BTreeSet<String>, gaps: &str) -> Option<String> {
    let (kind, arg) = proof.split_once(':')?;
    match kind {
        "check" => arg
            .split(',')
            .find(|c| !checks.contains(*c))
            .map(|c| format!("no system-test check named {c:?}")),
        "gap" => (!gaps.lines().any(|l| l.starts_with("| ") && l.contains(arg)))
            .then(|| format!("GAPS.md has no row {arg:?}")),
        "static" => (!repo(arg).exists()).then(|| format!("{arg} does not exist")),
        "none" => (arg.trim().len() < 10).then(|| "`none:` needs its reason".to_string()),
        _ => Some(format!("unknown proof kind {kind:?}")),
    }
}

#[test]
fn every_behaviour_the_documents_claim_is_proved_by_the_system_test_or_listed() {
    let claims = registry();
    let checks = check_names();
    assert!(checks.len() >= 10, "could not read CHECKS: {checks:?}");
    let gaps = fs::read_to_string(repo("tests/system/GAPS.md")).unwrap();
    let bad: Vec<String> = claims
        .iter()
        .filter_map(|c| {
            proof_problem(&c.proof, &checks, &gaps).map(|p| format!("{}: {p}", c.phrase))
        })
        .collect();
    assert!(bad.is_empty(), "claims.tsv:\n{}", bad.join("\n"));

    let mut matched = BTreeSet::new();
    let mut uncovered = BTreeSet::new();
    for example in ["ecommerce", "auth-service", "event-orders"] {
        for arch in ["microservices", "monolith"] {
            let dir = TempDir::new().unwrap();
            generate(dir.path(), example, arch);
            for u in audit(dir.path(), &claims, &mut matched) {
                uncovered.insert(format!("{example}/{arch}/{u}"));
            }
        }
    }
    assert!(
        uncovered.is_empty(),
        "{} claims with no proof (add a check, a phrase to tests/system/claims.tsv, or drop the claim):\n{}",
        uncovered.len(),
        uncovered.into_iter().collect::<Vec<_>>().join("\n")
    );
    let stale: Vec<&str> = claims
        .iter()
        .map(|c| c.phrase.as_str())
        .filter(|p| !matched.contains(*p))
        .collect();
    assert!(
        stale.is_empty(),
        "claims.tsv lists phrases no document says: {stale:?}"
    );
}

#[test]
fn a_claim_without_a_proof_is_found() {
    let dir = TempDir::new().unwrap();
    generate(dir.path(), "ecommerce", "microservices");
    let arch = dir.path().join("docs/ARCHITECTURE.md");
    let mut text = fs::read_to_string(&arch).unwrap();
    text.push_str("\nEvery request is retried forever until it succeeds.\n");
    fs::write(&arch, text).unwrap();
    let uncovered = audit(dir.path(), &registry(), &mut BTreeSet::new());
    assert_eq!(
        uncovered,
        ["docs/ARCHITECTURE.md: Every request is retried forever until it succeeds."]
    );
}

#[test]
fn sentences_split_at_their_ends_and_tables_by_cell() {
    let md = "Intro text that wraps\nonto two lines. Then `code` starts one: Another.\n\n| a | b 503 |\n- item one\n- item two\n";
    assert_eq!(
        units(md),
        [
            "Intro text that wraps onto two lines.",
            "Then `code` starts one:",
            "Another.",
            "a",
            "b 503",
            "- item one",
            "- item two"
        ]
    );
}
