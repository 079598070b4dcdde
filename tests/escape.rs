//! Hostile strings in every free-text blueprint value: the generated tree still parses in each
//! file's language and has exactly the structure it has with plain text (no new statement,
//! key, block, interpolation or Markdown construct).
//!
//! Each render is compared with a render of the same blueprint holding plain words instead:
//! Python and TOML through python3 (`ast`, `tomllib`), YAML and JSON through serde, HCL through
//! hcl-edit, nginx by its block and statement tokens, Markdown by its line kinds and unescaped
//! inline markers, proto by its non-comment lines. A file the hostile value changes must be of
//! one of these kinds, so no output language goes unchecked.
//!
//! The descriptions are what validation lets through as free text. The region, the ingress host
//! and the instance types are set on the blueprint and the model after validation (which would
//! refuse them) to check the escaping on its own.

use codex_system_design::blueprint::{self, Blueprint};
use codex_system_design::render::{Renderer, TemplateSet};
use codex_system_design::resolve;
use hcl_edit::visit::{self, Visit};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

const HOSTILE: &[&str] = &[
    "\"\"\"",
    "\"",
    "'''",
    "${file(\"/etc/hostname\")}",
    "%{ if true }x%{ endif }",
    "';DROP TABLE users;--",
    "\nimport os\nos.system('id')\n",
    "# comment",
    "{{ m.name }}",
    "`id`",
    "$(id)",
    "\\",
    "${{ secrets.TOKEN }}",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "- item",
    "*/ --> ]]>",
];

fn hostile_text() -> String {
    HOSTILE.join(" ")
}

fn load(example: &str, arch: &str) -> Blueprint {
    let text: String = codex_system_design::assets::example(example)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("type:") {
                format!("type: {arch}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let loaded = blueprint::load(&text, "bp.yaml");
    assert!(
        !loaded.diagnostics.has_errors(),
        "{:?}",
        loaded.diagnostics.items
    );
    loaded.blueprint.unwrap()
}

/// Free text everywhere validation takes it: the system's and every service's description.
fn with_descriptions(bp: &Blueprint, text: &str) -> Blueprint {
    let mut bp = bp.clone();
    bp.description = text.to_owned();
    for s in bp.services.values_mut() {
        s.description = text.to_owned();
    }
    bp
}

/// Render `bp`; `tokens` also replaces the values validation would refuse (region, ingress
/// host, instance types) to test the escapers alone.
fn render(bp: &Blueprint, tokens: Option<&str>) -> BTreeMap<String, String> {
    let mut bp = bp.clone();
    if let Some(t) = tokens {
        bp.cloud.region = format!("eu-west-1{t}");
        if let Some(i) = &mut bp.ingress {
            i.host = format!("shop.example.com{t}");
        }
    }
    let mut model = resolve::resolve(&bp, codex_system_design::assets::presets()).unwrap();
    if let Some(t) = tokens {
        model.preset.database.instance_class = format!("db.r6g.large{t}");
        model.preset.cache.node_type = format!("cache.r6g.large{t}");
        model.preset.cluster.instance_type = format!("m6i.large{t}");
        model.preset.messaging.instance_type = format!("kafka.m5.large{t}");
    }
    let set = TemplateSet::embedded();
    let planned = set.plan(&model);
    Renderer::new(&set)
        .unwrap()
        .render_all(&model, &planned)
        .unwrap()
        .into_iter()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Structure of a file per language; equal structures mean no injected construct.

fn mask(v: &mut Value) {
    match v {
        Value::String(s) => *s = "S".into(),
        Value::Array(a) => a.iter_mut().for_each(mask),
        Value::Object(o) => o.values_mut().for_each(mask),
        _ => {}
    }
}

fn yaml_structure(text: &str) -> Result<String, String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push(current);
    let mut out = Vec::new();
    for d in docs {
        if d.lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        let mut v: Value = serde_saphyr::from_str(&d).map_err(|e| e.to_string())?;
        mask(&mut v);
        out.push(v.to_string());
    }
    Ok(out.join("\n---\n"))
}

fn json_structure(text: &str) -> Result<String, String> {
    let mut v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    mask(&mut v);
    Ok(v.to_string())
}

#[derive(Default)]
struct HclShape(Vec<String>);

impl Visit for HclShape {
    fn visit_block(&mut self, node: &hcl_edit::structure::Block) {
        self.0.push(format!("block {}", node.ident.as_str()));
        visit::visit_block(self, node);
    }
    fn visit_attr(&mut self, node: &hcl_edit::structure::Attribute) {
        self.0.push(format!("attr {}", node.key.as_str()));
        visit::visit_attr(self, node);
    }
    fn visit_func_call(&mut self, node: &hcl_edit::expr::FuncCall) {
        self.0.push(format!("call {}", node.name.name.as_str()));
        visit::visit_func_call(self, node);
    }
    fn visit_interpolation(&mut self, node: &hcl_edit::template::Interpolation) {
        self.0.push("${}".into());
        visit::visit_interpolation(self, node);
    }
    fn visit_directive(&mut self, node: &hcl_edit::template::Directive) {
        self.0.push("%{}".into());
        visit::visit_directive(self, node);
    }
    fn visit_traversal(&mut self, node: &hcl_edit::expr::Traversal) {
        self.0.push("traversal".into());
        visit::visit_traversal(self, node);
    }
}

fn hcl_structure(text: &str) -> Result<String, String> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| e.to_string())?;
    let mut shape = HclShape::default();
    shape.visit_body(&body);
    Ok(shape.0.join("\n"))
}

/// nginx: the `{`, `}` and `;` outside quoted strings and comments.
fn nginx_structure(text: &str) -> Result<String, String> {
    let mut out = String::new();
    for line in text.lines() {
        let mut quoted = false;
        let mut escaped = false;
        for c in line.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '#' if !quoted => break,
                '{' | '}' | ';' if !quoted => out.push(c),
                _ => {}
            }
        }
        if quoted {
            return Err(format!("unterminated string: {line}"));
        }
    }
    Ok(out)
}

/// Markdown: the kind of each line and the unescaped inline markers.
fn markdown_structure(text: &str) -> Result<String, String> {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        let kind = if t.is_empty() {
            'B'
        } else if t.starts_with('#') {
            'H'
        } else if t.starts_with("```") {
            'F'
        } else if t.starts_with('|') {
            'T'
        } else if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ") {
            'L'
        } else if t.starts_with('>') {
            'Q'
        } else if t.chars().take_while(char::is_ascii_digit).count() > 0
            && t.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(". ")
        {
            'O'
        } else {
            'P'
        };
        out.push(kind);
        let mut prev = ' ';
        for c in line.chars() {
            if "`[]<>*_|".contains(c) && prev != '\\' {
                out.push(c);
            }
            prev = if prev == '\\' { ' ' } else { c };
        }
        out.push('\n');
    }
    Ok(out)
}

fn proto_structure(text: &str) -> Result<String, String> {
    Ok(text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Python (`ast`, string constants masked) and TOML (`tomllib`, strings masked) through one
/// python3 process: path → structure or `ERROR …`.
fn python_structures(files: &BTreeMap<&str, &str>) -> BTreeMap<String, String> {
    const SCRIPT: &str = r#"
import ast, json, sys, tomllib
def mask(v):
    if isinstance(v, dict): return {k: mask(x) for k, x in v.items()}
    if isinstance(v, list): return [mask(x) for x in v]
    return "S" if isinstance(v, str) else v
class Mask(ast.NodeTransformer):
    def visit_Constant(self, node):
        if isinstance(node.value, (str, bytes)): node.value = "S"
        return node
out = {}
for path, src in json.load(sys.stdin).items():
    try:
        if path.endswith(".toml"):
            out[path] = json.dumps(mask(tomllib.loads(src)), sort_keys=True)
        else:
            out[path] = ast.dump(Mask().visit(ast.parse(src, path)))
    except Exception as e:
        out[path] = "ERROR " + type(e).__name__ + ": " + str(e)
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed to check generated Python and TOML");
    let input = serde_json::to_vec(files).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kind(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("py") => "python",
        Some("toml") => "toml",
        Some("yaml" | "yml") => "yaml",
        Some("json") => "json",
        Some("tf" | "hcl" | "tfvars") => "hcl",
        Some("conf") if name == "nginx.conf" => "nginx",
        Some("md") => "markdown",
        Some("proto") => "proto",
        _ => "other",
    }
}

/// Every file that differs between the two renders, checked; the problems found.
fn compare(plain: &BTreeMap<String, String>, hostile: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    assert_eq!(
        plain.keys().collect::<Vec<_>>(),
        hostile.keys().collect::<Vec<_>>(),
        "the file list changed"
    );
    let changed: Vec<&str> = hostile
        .iter()
        .filter(|(p, t)| plain[*p] != **t)
        .map(|(p, _)| p.as_str())
        .collect();
    assert!(!changed.is_empty(), "the hostile values reached no file");
    let mut py_plain = BTreeMap::new();
    let mut py_hostile = BTreeMap::new();
    for p in &changed {
        let (a, b) = (plain[*p].as_str(), hostile[*p].as_str());
        let shapes = match kind(p) {
            "python" | "toml" => {
                py_plain.insert(*p, a);
                py_hostile.insert(*p, b);
                continue;
            }
            "yaml" => (yaml_structure(a), yaml_structure(b)),
            "json" => (json_structure(a), json_structure(b)),
            "hcl" => (hcl_structure(a), hcl_structure(b)),
            "nginx" => (nginx_structure(a), nginx_structure(b)),
            "markdown" => (markdown_structure(a), markdown_structure(b)),
            "proto" => (proto_structure(a), proto_structure(b)),
            _ => {
                problems.push(format!(
                    "{p}: a hostile value reached a file of no checked kind"
                ));
                continue;
            }
        };
        match shapes {
            (Ok(x), Ok(y)) if x == y => {}
            (Ok(_), Ok(_)) => problems.push(format!("{p}: structure changed")),
            (Err(e), _) => problems.push(format!("{p}: the plain render does not parse: {e}")),
            (_, Err(e)) => problems.push(format!("{p}: does not parse: {e}")),
        }
    }
    if !py_plain.is_empty() {
        let (a, b) = (python_structures(&py_plain), python_structures(&py_hostile));
        for (p, shape) in &b {
            if shape.starts_with("ERROR") {
                problems.push(format!("{p}: {shape}"));
            } else if a.get(p) != Some(shape) {
                problems.push(format!("{p}: structure changed"));
            }
        }
    }
    problems
}

fn check(example: &str, arch: &str, text: &str, tokens: bool) -> Vec<String> {
    let bp = load(example, arch);
    let plain = render(
        &with_descriptions(&bp, "Plain words"),
        tokens.then_some("x"),
    );
    let hostile = render(&with_descriptions(&bp, text), tokens.then_some(text));
    compare(&plain, &hostile)
}

#[test]
fn hostile_descriptions_pass_validation() {
    let yaml_string = serde_json::to_string(&hostile_text()).unwrap();
    let text = format!(
        "version: 1\nname: shop\ndescription: {yaml_string}\nservices:\n  users:\n    description: {yaml_string}\n"
    );
    let loaded = blueprint::load(&text, "bp.yaml");
    assert!(
        !loaded.diagnostics.has_errors(),
        "{:?}",
        loaded.diagnostics.items
    );
    let bp = loaded.blueprint.unwrap();
    assert_eq!(bp.description, hostile_text());
}

#[test]
fn hostile_descriptions_inject_nothing_in_any_architecture() {
    for arch in ["microservices", "monolith", "serverless"] {
        let problems = check("ecommerce", arch, &hostile_text(), false);
        assert!(problems.is_empty(), "{arch}:\n{}", problems.join("\n"));
    }
}

#[test]
fn hostile_region_host_and_instance_types_are_escaped_where_they_land() {
    // A single line: these values are one-line tokens even in the bypass.
    let text = HOSTILE
        .iter()
        .map(|h| h.replace('\n', " "))
        .collect::<Vec<_>>()
        .join(" ");
    for arch in ["microservices", "serverless"] {
        let problems = check("ecommerce", arch, &text, true);
        let problems: Vec<_> = problems
            .into_iter()
            .filter(|p| !p.contains(".md:"))
            .collect();
        assert!(problems.is_empty(), "{arch}:\n{}", problems.join("\n"));
    }
}

#[test]
fn the_checks_catch_an_unescaped_value() {
    // Without escaping, a description closes the docstring of the service's main module.
    let plain = BTreeMap::from([(
        "app/main.py".to_owned(),
        "\"\"\"Plain words.\"\"\"\nx = 1\n".to_owned(),
    )]);
    let hostile = BTreeMap::from([(
        "app/main.py".to_owned(),
        "\"\"\"a\"\"\"\nimport os\n\"\"\".\"\"\"\nx = 1\n".to_owned(),
    )]);
    assert_eq!(
        compare(&plain, &hostile),
        ["app/main.py: structure changed"]
    );
    let plain = BTreeMap::from([("v.tf".to_owned(), "x = \"a\"\n".to_owned())]);
    let hostile = BTreeMap::from([(
        "v.tf".to_owned(),
        "x = \"a${file(\"/etc/hostname\")}\"\n".to_owned(),
    )]);
    assert_eq!(compare(&plain, &hostile), ["v.tf: structure changed"]);
}

mod fuzz {
    use super::*;
    use codex_system_design::diagnostic::Severity;
    use proptest::prelude::*;

    /// A blueprint with a slot for every kind of string it holds.
    const SLOTS: &str = "version: 1
name: shop
description: @DESC@
cloud: { provider: aws, region: @REGION@ }
ingress: { host: @HOST@, tls: true }
services:
  gateway:
    kind: gateway
    routes:
      - { path: @PATH@, to: orders }
  orders:
    description: @DESC@
    database: orders-db
    entities: [Order]
    versions: [@VERSION@]
  recommender:
    image: @IMAGE@
  @SERVICE@: {}
entities:
  Order:
    fields:
      id: uuid pk
      @FIELD@: string(40)
databases:
  orders-db: {}
overrides:
  cluster: { instance_type: @INSTANCE@ }
  resources: { memory_limit: @MEMORY@ }
";

    const PLAIN: &[(&str, &str)] = &[
        ("@DESC@", "Plain words"),
        ("@REGION@", "eu-west-1"),
        ("@HOST@", "shop.example.com"),
        ("@PATH@", "/api/orders"),
        ("@VERSION@", "v1"),
        ("@IMAGE@", "ghcr.io/acme/rec:1.0"),
        ("@SERVICE@", "extra"),
        ("@FIELD@", "title"),
        ("@INSTANCE@", "m6i.large"),
        ("@MEMORY@", "512Mi"),
    ];

    /// The blueprint with `slot` holding `value` and every other slot its plain value.
    fn blueprint_with(slot: &str, value: &str) -> String {
        let mut text = SLOTS.to_owned();
        for (s, plain) in PLAIN {
            let v = if *s == slot { value } else { plain };
            text = text.replace(s, &serde_json::to_string(v).unwrap());
        }
        text
    }

    /// A mix of hostile fragments, printable characters and control characters.
    fn hostile_string(controls: bool) -> impl Strategy<Value = String> {
        let control = if controls {
            "[\0\r\t\u{7f}\u{1b}\u{85}\u{2028}\u{202e}]"
        } else {
            "[ ]"
        };
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(HOSTILE.to_vec()).prop_map(str::to_owned),
                "[ -~]{0,6}",
                "[\"'`$%{}#\\\\;<>\\[\\]\n-]{1,4}",
                control,
            ],
            1..6,
        )
        .prop_map(|v| v.concat())
    }

    #[test]
    fn the_slotted_blueprint_is_valid_with_plain_values() {
        let d = blueprint::load(&blueprint_with("", ""), "bp.yaml").diagnostics;
        assert!(!d.has_errors(), "{:?}", d.items);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5, failure_persistence: None, ..ProptestConfig::default() })]

        /// In a name, path, host, region, image, version or override, a hostile string is
        /// refused with a located error, or it is a plain token; in a description it is
        /// accepted (control characters aside) and renders safely.
        #[test]
        fn hostile_strings_are_refused_with_a_location_or_render_safely(
            desc in hostile_string(false),
            token in hostile_string(true),
        ) {
            for (slot, _) in PLAIN {
                let d = blueprint::load(&blueprint_with(slot, &token), "bp.yaml").diagnostics;
                let errors: Vec<_> = d.items.iter().filter(|x| x.severity == Severity::Error).collect();
                for e in &errors {
                    prop_assert!(e.line > 0 && e.column > 0, "{slot}: unlocated {}", e.message);
                }
                let controls = blueprint::text::first_forbidden(&token, true).is_some();
                if *slot == "@DESC@" {
                    prop_assert_eq!(errors.is_empty(), !controls, "{:?}", errors);
                } else if errors.is_empty() {
                    prop_assert!(
                        token.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/:@*".contains(c)),
                        "{slot} `{token}` accepted"
                    );
                }
            }
            prop_assume!(!desc.trim().is_empty());
            static PLAIN_RENDER: std::sync::OnceLock<(Blueprint, BTreeMap<String, String>)> =
                std::sync::OnceLock::new();
            let (bp, plain) = PLAIN_RENDER.get_or_init(|| {
                let bp = load("auth-service", "microservices");
                let plain = render(&with_descriptions(&bp, "Plain words"), None);
                (bp, plain)
            });
            let hostile = render(&with_descriptions(bp, &desc), None);
            let problems = compare(plain, &hostile);
            prop_assert!(problems.is_empty(), "{desc:?}:\n{}", problems.join("\n"));
        }
    }
}

#[test]
fn a_wildcard_host_is_a_quoted_host_and_moves_one_level_down_per_environment() {
    let mut bp = load("ecommerce", "microservices");
    bp.ingress.as_mut().unwrap().host = "*.example.com".into();
    let files = render(&bp, None);
    let mut seen = 0;
    for (path, text) in &files {
        if kind(path) == "yaml" {
            yaml_structure(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        assert!(!text.contains("dev.*."), "{path}: `dev.*.example.com`");
        if text.contains("*.dev.example.com") {
            seen += 1;
        }
    }
    assert!(seen > 0, "no environment host `*.dev.example.com`");
}

#[test]
fn diagnostics_never_print_a_control_character() {
    let text = "version: 1\nname: shop\nservices:\n  \"us\\u001b[31mers\": {}\n";
    let d = blueprint::load(text, "bp.yaml").diagnostics;
    assert!(d.items.iter().any(|x| x.code == "E0180"));
    for x in &d.items {
        let all = format!("{} {} {:?}", x.message, x.path, x.help);
        assert!(!all.contains('\u{1b}'), "{all}");
        assert!(
            x.message.contains("\\u{1b}") || x.path.contains("\\u{1b}"),
            "{all}"
        );
    }
    // A raw control character in the file: the quoted source line shows U+FFFD instead.
    let raw = "version: 1\nname: shop\nservices:\n  users:\n    description: a\u{1b}[31mb\n";
    let d = blueprint::load(raw, "bp.yaml").diagnostics;
    let shown = codex_system_design::diagnostic::human::report(&d, Some(raw), false);
    assert!(d.has_errors() && !shown.contains('\u{1b}'), "{shown}");
    assert!(shown.contains('\u{fffd}'), "{shown}");
}
