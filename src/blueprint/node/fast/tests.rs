//! The fast path against the parser: whatever it accepts must come out node for node (values
//! and positions) as granit's event stream builds it.

use super::super::{Node, Value, events};
use super::documents;

/// `Some(reason)` when the two trees differ.
pub(crate) fn difference(a: &Node, b: &Node, path: &str) -> Option<String> {
    if a.loc != b.loc {
        return Some(format!("{path}: at {:?} vs {:?}", a.loc, b.loc));
    }
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} vs {} items", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| difference(p, q, &format!("{path}[{i}]")))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} vs {} entries", x.len(), y.len()));
            }
            x.iter().zip(y).find_map(|((k, p), (l, q))| {
                if k.name != l.name || k.loc != l.loc {
                    return Some(format!(
                        "{path}: key {:?}@{:?} vs {:?}@{:?}",
                        k.name, k.loc, l.name, l.loc
                    ));
                }
                difference(p, q, &format!("{path}.{}", k.name))
            })
        }
        (Value::Float(x), Value::Float(y)) if x.to_bits() == y.to_bits() => None,
        (Value::Int(x), Value::Int(y)) if x == y => None,
        (Value::Bool(x), Value::Bool(y)) if x == y => None,
        (Value::Str(x), Value::Str(y)) if x == y => None,
        (Value::Null, Value::Null) => None,
        (x, y) => Some(format!("{path}: {x:?} vs {y:?}")),
    }
}

/// What the fast path makes of `text`: `None` when it gave up, else whether it agreed.
pub(crate) fn compare(text: &str) -> Option<Result<(), String>> {
    let light = super::syntax(text);
    let Some(fast) = documents(text) else {
        if light == Some(super::Syntax::Plain) {
            return Some(Err(
                "the syntax-only reading took what the full one did not".into(),
            ));
        }
        return None;
    };
    let object = fast.iter().any(|d| match &d.value {
        Value::Map(e) => e
            .iter()
            .any(|(k, _)| k.name == "apiVersion" || k.name == "kind"),
        _ => false,
    });
    let expected = Some(if object {
        super::Syntax::Object
    } else {
        super::Syntax::Plain
    });
    if light != expected {
        return Some(Err(format!(
            "syntax-only {light:?}, full reading found object: {object}"
        )));
    }
    let slow = match events::documents(text, false) {
        Ok(mut d) => {
            d.retain(|n| !matches!(n.value, Value::Null));
            d
        }
        Err(e) => return Some(Err(format!("the parser refuses it: {}", e.message))),
    };
    if fast.len() != slow.len() {
        return Some(Err(format!("{} vs {} documents", fast.len(), slow.len())));
    }
    Some(
        fast.iter()
            .zip(&slow)
            .enumerate()
            .find_map(|(i, (a, b))| difference(a, b, &format!("doc{i}")))
            .map_or(Ok(()), Err),
    )
}

fn agrees(text: &str) {
    match compare(text) {
        None => panic!("the fast path gave up on {text:?}"),
        Some(Err(e)) => panic!("{e} in {text:?}"),
        Some(Ok(())) => {}
    }
}

fn gives_up_or_agrees(text: &str) {
    if let Some(Err(e)) = compare(text) {
        panic!("{e} in {text:?}");
    }
}

#[test]
fn manifests_come_out_as_the_parser_builds_them() {
    for text in [
        "",
        "# only a comment\n",
        "a: 1\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {}\nspec:\n  ports:\n    - port: 80\n      targetPort: http\n  selector:\n    app: s\n",
        "a:\n- x\n- y\nb: [1, \"two\", 'three', null]\nc: []\n",
        "- a: 1\n  b:\n  - 2\n- c\n-   d: e\n",
        "x: 1\n---\ny: 2\n---\n---\nz: 3\n",
        "k: v # comment\n# c\n  # indented comment\nq: 'it''s'\nr: \"a: b # c\"\n",
        "expr: |\n  up == 0\n\n  and x\n\nnext: 1\n",
        "patch: |-\n    - op: add\n      path: /x\nafter: true\n",
        "m:\n  deep:\n    deeper:\n      - [a, b]\n      - \"CMD\"\n",
        "n: -1\nf: 1.5\nt: true\nnl: ~\ne: 1e3\nh: 0x1F\no: 0o17\nurl: http://x:8080/y\n",
        "\"quoted key\": 1\n'single': 2\nplain key: 3\nhttp://a: 4\n",
        "a: x[1]{2},3\nb: -x\nc: ::1\nd: a#b\n",
        "list:\n  - |\n    text\n  - b\n",
        "cmd: [\"python\", \"-c\", \"print('a, b')\"]\n",
        "a:\n  b: 1\n# trailing\n",
        "d: >-\n  one two\n  three\ne: >\n  x\n\n",
        "e:\nf:   # c\n\ng:\n- h:\n  i:\n",
        "on:\n  push:\n    branches: [main]\n  pull_request:\n# comment →\nx: 1\n",
        "q: \"a \\\"b\\\" \\\\ c\\/d\\n\\t\"\n",
        "routes:\n  - { path: /api/a, to: s1 }\n  - {path: /b, to: s2}\n",
        "a: { \"q k\": 'v', n: 1, t: true, f: 1.5, z: ~ } # c\n",
        "x:\n- {a: b}\n- { }\nc: {d: -1}\n",
        "a: {b: {c: d}}\n",
        "ingress: { host: a.example.com, tls: true, cors: { origins: [https://a.example.com, http://localhost:3000] } }\n",
        "routes:\n  - { path: /api/a, to: a, auth: { read: user, write: role(admin) } }\n",
        "a: [[1, 2], {b: c}, [], {}, x:y]\n",
    ] {
        agrees(text);
    }
}

#[test]
fn what_it_does_not_follow_goes_to_the_parser() {
    for text in [
        "a: 1\na: 2\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |+\n  x\n",
        "a: >-\n  x\n\n  y\n",
        "a: >\n  x\n    y\n",
        "a: \"x\\x41\"\n",
        "a: [1,\n  2]\n",
        "a: {b: c, b: d}\n",
        "a: {b: }\n",
        "a: {b: c, }\n",
        "a: b\n  c\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: é\n",
        "# \u{85}\na: 1\n",
        "\u{feff}a: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "--- a\n",
        "a: 1",
        "? a\n: b\n",
        "a: .inf\n",
        "a: 0xFFFFFFFFFFFFFFFFFFFF\n",
        "  a: 1\n",
        "a:\n  - x\n  y: 1\n",
        "a: - x\n",
        "<<: {a: 1}\n",
        "a: |\n\n  x\n",
        "a: |\n  x\n    \n  y\n",
    ] {
        assert!(documents(text).is_none(), "took {text:?}");
    }
}

/// Odd shapes the fast path may take or leave, but never read differently.
#[test]
fn edge_cases_never_disagree() {
    for text in [
        "a: b:\n",
        "a : b\n",
        "a: 'x' y\n",
        "a: \"x\" # c\n",
        "a: [ ]\n",
        "a: [a, ]\n",
        "a: [a b, c]\n",
        "- - a\n",
        "-\n  a: 1\n",
        "a:\n  b: 1\n c: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: |\nb: 1\n",
        "a: |\n  x\n y\n",
        "a: |\n   x\n  y\n",
        "a: |  # c\n  x\n",
        "a: |x\n  x\n",
        "- a\n -b\n",
        "a:#b\n",
        "a: #b\n",
        "a: b #c: d\n",
        "...\n",
        "a: 1\n...\n",
        "---\n- a\n",
        "- a\nb: 1\n",
        "a:\n- b\n  - c\n",
        "a:\n  - b\n  -\n",
        "a: ''\n",
        "a: \"\"\n",
        "a: {b:c}\n",
        "a: { b : c }\n",
        "a: {b: [c]}\n",
        "a: {b: c d}\n",
        "a: {b: 'x' y}\n",
        "a: {? b: c}\n",
        "a: {b: c}}\n",
        "a: {b: c\n",
        "a: {b: x:y}\n",
        "a: {b: x: y}\n",
        "a: {\"b\":c}\n",
        "a: {b: c,d: e}\n",
        "a: {b: c} d\n",
        "a: {-b: c, :d: e}\n",
        "a: {b: c #d}\n",
        "a: [b: c]\n",
        "a: [b:]\n",
        "a: {b: c:d}\n",
        "a: {b: http://x, }\n",
        "a: {b: [c, ]}\n",
        "a: [b, {c: d}}]\n",
        "a: {b: c d: e}\n",
        "a: {b: [c]d}\n",
        "a: {b: c}[d]\n",
        "a: [b:,c]\n",
        "a: {b: :c}\n",
        "a: {b: -c, d: - e}\n",
        "a: [ [ ] , { } ]\n",
        "'': 1\n",
        "\"a\":b\n",
        "a: 'x\n",
        "a: {}\n",
        "a: {} x\n",
        "key with  spaces:   value   with  spaces   \n",
        "a: 1 #\n",
        "a: -.5\nb: +1\nc: 1_000\nd: 012\ne: 1.\n",
    ] {
        gives_up_or_agrees(text);
    }
}

/// Every YAML file under `CODEX_FAST_YAML_CORPUS` (a folder): run with
/// `cargo test --release --lib fast::tests::corpus -- --ignored --nocapture`.
#[test]
#[ignore = "needs a corpus folder"]
#[allow(clippy::print_stdout)] // the summary of a run by hand
fn corpus() {
    let Ok(root) = std::env::var("CODEX_FAST_YAML_CORPUS") else {
        return;
    };
    let (mut taken, mut left, mut bad) = (0, 0, Vec::new());
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) || !entry.file_type().is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        match compare(&text) {
            None => {
                left += 1;
                if std::env::var_os("CODEX_FAST_YAML_SHOW_LEFT").is_some() {
                    println!("left: {}", entry.path().display());
                }
            }
            Some(Ok(())) => taken += 1,
            Some(Err(e)) => bad.push(format!("{}: {e}", entry.path().display())),
        }
    }
    println!(
        "fast path took {taken} files, left {left}, disagreed on {}",
        bad.len()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_syntax_only_reading_agrees_with_the_full_one() {
    use super::{Syntax, syntax};
    assert_eq!(
        syntax("a:\n  b: [1]\n---\nc: |\n  x\n"),
        Some(Syntax::Plain)
    );
    assert_eq!(
        syntax("x: 1\n---\napiVersion: v1\nkind: Service\n"),
        Some(Syntax::Object)
    );
    assert_eq!(syntax("kind: Service\n"), Some(Syntax::Object));
    assert_eq!(syntax("a:\n  kind: Service\n"), Some(Syntax::Plain));
    assert_eq!(syntax("a: 1\na: 2\n"), None);
    assert_eq!(syntax("a: &x 1\n"), None);
    // Large mappings find their duplicates too (the hash set past 16 keys).
    let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
    assert_eq!(syntax(&text), Some(Syntax::Plain));
    assert!(documents(&text).is_some());
    text.push_str("k3: again\n");
    assert_eq!(syntax(&text), None);
    assert!(documents(&text).is_none());
}

/// Blueprints go through the fast path when they can, and come out as the parser reads them:
/// every built-in example, every fixture blueprint and the flow mappings blueprints write.
#[test]
fn blueprints_take_the_fast_path_and_read_as_the_parser_does() {
    let mut texts: Vec<(String, String)> = crate::assets::examples()
        .into_iter()
        .map(|(name, text)| (name.to_owned(), text.to_owned()))
        .collect();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    for entry in walkdir::WalkDir::new(fixtures)
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml") && entry.file_type().is_file() {
            // Some invalid fixtures are not UTF-8 on purpose.
            if let Ok(text) = std::fs::read_to_string(path) {
                texts.push((path.display().to_string(), text));
            }
        }
    }
    let routes = "services:\n  gw:\n    routes:\n      - { path: /api/a, to: a }\n  a: {}\n";
    texts.push(("routes".to_owned(), routes.to_owned()));
    let mut taken = 0;
    for (name, text) in &texts {
        let Some(fast) = super::super::fast_one(text) else {
            continue;
        };
        taken += 1;
        let mut slow = events::documents(text, true).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(slow.len(), 1, "{name}");
        if let Some(d) = difference(&fast, &slow.pop().expect("one"), "") {
            panic!("{name}: {d}");
        }
    }
    for (name, text) in crate::assets::examples() {
        assert!(
            super::super::fast_one(text).is_some(),
            "{name} left the fast path"
        );
    }
    assert!(super::super::fast_one(routes).is_some());
    assert!(taken > texts.len() / 2, "{taken} of {}", texts.len());
    let deep = format!("a: {}{}\n", "[".repeat(40), "]".repeat(40));
    assert!(
        super::super::fast_one(&deep).is_none(),
        "nesting past the limit"
    );
    // A second document, even an empty one, is the parser's to refuse.
    assert!(super::super::fast_one("a: 1\n---\n").is_none());
}
