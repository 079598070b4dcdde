//! Property: mutating a valid blueprint in any way never panics the validator, every diagnostic
//! that names a blueprint path carries a position, and the report is sorted by position.
//! Mutations are the edits people and tools actually make to YAML: lines deleted, repeated,
//! swapped, re-indented, values replaced with hostile tokens, text truncated.

use codex_system_design::blueprint;
use codex_system_design::diagnostic::codes;
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "",
    "[",
    "]",
    "{",
    "}",
    ":",
    "- ",
    "&a",
    "*a",
    "!!binary x",
    "~",
    "null",
    "-1",
    "0",
    "99999999999999999999",
    "1e400",
    "\t",
    "\"",
    "'",
    "# c",
    "../../etc",
    "a/b",
    "CON",
    "kafka",
    "ref Nope",
    "ref User",
    "decimal(2,5)",
    "enum()",
    "uuid pk",
    "users",
    "orders",
    "payments",
    "é",
    "\u{feff}",
    "\u{0}",
    "@",
    "|",
    ">",
    "<<: *a",
    "<<: [*a, *a]",
    "&b [*a, *a]",
    "!custom x",
    "! x",
    "!!int x",
    "!!map",
    ".inf",
    "0x",
    "0o9",
    "---",
    "...",
    "? x",
    "[users, users]",
    "{ v1: 60 }",
    "[http, grpc]",
    "50051",
    "true",
    "gateway",
    "worker",
    "monolith",
    "serverless",
    "v1",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Indent(usize, bool),
    ReplaceValue(usize, usize),
    Insert(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<bool>()).prop_map(|(a, b)| Mutation::Indent(a, b)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Mutation::ReplaceValue(a, t)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        return text.to_owned();
    }
    let n = lines.len();
    match *m {
        Mutation::DeleteLine(i) => {
            lines.remove(i % n);
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
        Mutation::Indent(i, more) => {
            let l = &mut lines[i % n];
            if more {
                l.insert_str(0, "  ");
            } else if let Some(rest) = l.strip_prefix("  ") {
                *l = rest.to_owned();
            }
        }
        Mutation::ReplaceValue(i, t) => {
            let l = &mut lines[i % n];
            match l.find(": ") {
                Some(at) => l.replace_range(at + 2.., TOKENS[t]),
                None => l.push_str(TOKENS[t]),
            }
        }
        Mutation::Insert(at, t) => {
            let joined = lines.join("\n");
            let mut chars: Vec<char> = joined.chars().collect();
            let at = at % (chars.len() + 1);
            chars.splice(at..at, TOKENS[t].chars());
            return chars.into_iter().collect();
        }
        Mutation::Truncate(at) => {
            let joined = lines.join("\n");
            return joined.chars().take(at % (joined.len() + 1)).collect();
        }
    }
    lines.join("\n") + "\n"
}

fn seeds() -> Vec<String> {
    let mut out: Vec<String> = codex_system_design::assets::examples()
        .into_iter()
        .map(|(_, t)| t.to_owned())
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    for e in std::fs::read_dir(dir).unwrap() {
        out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_blueprints_never_panic_and_diagnostics_are_located(
        seed in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seeds();
        let mut text = seeds[seed % seeds.len()].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        let d = blueprint::load(&text, "m.yaml").diagnostics;
        let mut last = (0, 0);
        for x in &d.items {
            prop_assert!(codes::lookup(x.code).is_some(), "undocumented code {}", x.code);
            prop_assert!(x.path.is_empty() || x.line > 0, "no position: {:?}", x);
            prop_assert!((x.line, x.column) >= last, "not sorted: {:?}", d.items);
            last = (x.line, x.column);
            let _ = codex_system_design::diagnostic::human::render(x, Some(&text), true);
        }
        let _ = codex_system_design::diagnostic::sarif::render(&d);
    }
}
