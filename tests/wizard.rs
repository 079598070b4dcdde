//! `codex-system-design init`: driven in a pseudo-terminal with real keystrokes, and through its
//! non-interactive paths (`--yes`, `--answers`, no terminal).

use assert_cmd::Command;
use codex_system_design::blueprint::{self, Blueprint};
use expectrl::{Eof, Expect, Session};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_codex-system-design");
const DOWN: &str = "\x1b[B";

fn blueprint_in(dir: &Path) -> Blueprint {
    let text = std::fs::read_to_string(dir.join("blueprint.yaml")).expect("blueprint.yaml written");
    let loaded = blueprint::load(&text, "blueprint.yaml");
    assert!(
        !loaded.diagnostics.has_errors(),
        "{text}\n{:#?}",
        loaded.diagnostics.items
    );
    loaded.blueprint.unwrap()
}

/// The wizard in a pseudo-terminal: wait for a prompt, then type.
struct Wizard {
    s: expectrl::session::OsSession,
}

impl Wizard {
    fn start(dir: &Path, args: &[&str]) -> Wizard {
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("init")
            .args(args)
            .current_dir(dir)
            .env("TERM", "xterm");
        let mut s = Session::spawn(cmd).expect("spawn in a pty");
        s.set_expect_timeout(Some(Duration::from_secs(30)));
        Wizard { s }
    }
    /// Wait until `text` is on the screen.
    fn wait(&mut self, text: &str) -> &mut Self {
        if let Err(e) = self.s.expect(text) {
            panic!("waiting for {text:?}: {e}");
        }
        self
    }
    /// Answer the prompt `prompt` with `keys` (`\r` is Enter).
    fn at(&mut self, prompt: &str, keys: &str) -> &mut Self {
        self.wait(prompt);
        // A short pause lets the prompt switch the terminal to raw mode before the keys land.
        std::thread::sleep(Duration::from_millis(30));
        self.s.send(keys).unwrap();
        self
    }
    fn finish(&mut self) -> i32 {
        let _ = self.s.expect(Eof);
        match self.s.get_process().wait().unwrap() {
            expectrl::process::unix::WaitStatus::Exited(_, code) => code,
            other => panic!("wizard did not exit normally: {other:?}"),
        }
    }
}

#[test]
fn wizard_in_a_terminal_refuses_a_bad_name_then_writes_the_answered_blueprint() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wizard::start(dir.path(), &[]);
    w.at("System name", "Bad_Name\r")
        .wait("is not a DNS-1123 label")
        .at("System name", "shop\r")
        .at("One-line description", "Online shop\r")
        .at("Architecture type", "\r")
        .at("Scale", &format!("{DOWN}\r")) // medium → large
        .at("Start from", "\r") // empty
        .at("Service 1 name", "users\r")
        .at("Kind of `users`", "\r")
        .at("Code for `users`", "\r")
        .at("Protocol of `users`", "\r")
        .at("Database of `users`", "\r")
        .at("Name of the new database", "\r")
        .at("Cache of `users`", "\r")
        .at("Entity owned by `users`", "User\r")
        .at("Field of User", "\r") // id: uuid pk
        .at("Field of User", "email: string(255) unique\r")
        .at("Field of User", "\r")
        .at("Entity owned by `users`", "\r")
        .at("Events `users` publishes", "user.registered\r")
        .at("Events `users` consumes", "\r")
        .at("Add another service?", "y")
        .at("Service 2 name", "orders\r")
        .at("Kind of `orders`", "\r")
        .at("Code for `orders`", "\r")
        .at("Protocol of `orders`", &format!("{DOWN}\r")) // grpc
        .at("Database of `orders`", "\r")
        .at("Name of the new database", "\r")
        .at("Cache of `orders`", "\r")
        .at("Entity owned by `orders`", "Order\r")
        .at("Field of Order", "\r")
        .at("Field of Order", "user_id: ref Usr\r")
        .wait("unknown entity")
        .at("Field of Order", "user_id: ref User\r")
        .at("Field of Order", "\r")
        .at("Entity owned by `orders`", "\r")
        .at("Services `orders` calls", " \r") // space picks `users`
        .at("Events `orders` publishes", "\r")
        .at("Events `orders` consumes", "user.registered\r")
        .at("Add another service?", "\r")
        .at("Message broker", "\r")
        .at("Istio service mesh", "\r")
        .at("CI", "\r")
        .wait("Summary")
        .wait("orders")
        .at("Write blueprint.yaml and", "\r")
        .wait("Generated shop");
    assert_eq!(w.finish(), 0);

    let out = dir.path().join("shop");
    let bp = blueprint_in(&out);
    assert_eq!(bp.name, "shop");
    assert_eq!(bp.description, "Online shop");
    assert_eq!(bp.scale, blueprint::Scale::Large);
    let names: Vec<&str> = bp.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["users", "orders"]);
    let orders = &bp.services["orders"];
    assert_eq!(orders.depends_on, ["users"]);
    assert_eq!(orders.protocols, [blueprint::Protocol::Grpc]);
    assert_eq!(orders.consumes, ["user.registered"]);
    assert_eq!(bp.services["users"].publishes, ["user.registered"]);
    assert_eq!(bp.entities["Order"].fields["user_id"], "ref User");
    assert!(
        out.join(".codex-system-design").exists(),
        "the tree was generated"
    );
}

#[test]
fn ctrl_c_in_the_wizard_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wizard::start(dir.path(), &[]);
    w.at("System name", "shop\r")
        .at("One-line description", "\r")
        .at("Architecture type", "\r")
        .at("Scale", "\r")
        .at("Start from", "\r")
        .at("Service 1 name", "\x03")
        .wait("nothing was written");
    assert_eq!(w.finish(), 130);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn declining_the_confirm_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wizard::start(dir.path(), &["--example", "ecommerce"]);
    w.wait("System name")
        .at("shop", "\r") // the example's name is the default
        .at("One-line description", "\r")
        .at("Architecture type", "\r")
        .at("Scale", "\r")
        .at("Start from", "\r") // the --example is the default
        .at("Add services of your own", "\r")
        .at("Message broker", "\r")
        .at("Istio service mesh", "\r")
        .at("CI", "\r")
        .wait("notifications")
        .at("Write blueprint.yaml and", "n")
        .wait("nothing was written");
    assert_eq!(w.finish(), 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn init(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).arg("init");
    c
}

#[test]
fn yes_accepts_every_default_and_generates() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .args(["--yes", "--out", "sys"])
        .assert()
        .success()
        .stdout(predicates::str::contains("Generated my-system"));
    let out = dir.path().join("sys");
    let bp = blueprint_in(&out);
    assert_eq!(bp.name, "my-system");
    assert_eq!(bp.services.keys().collect::<Vec<_>>(), ["api"]);
    assert!(out.join(".codex-system-design").exists());
}

#[test]
fn yes_with_an_example_and_no_generate_writes_only_the_blueprint() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .args([
            "--yes",
            "--example",
            "event-orders",
            "--name",
            "flow",
            "--type",
            "monolith",
        ])
        .arg("--no-generate")
        .assert()
        .success();
    let out = dir.path().join("flow");
    let entries: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(entries.len(), 1, "only blueprint.yaml");
    let bp = blueprint_in(&out);
    assert_eq!(bp.name, "flow");
    assert_eq!(bp.arch, blueprint::ArchType::Monolith);
    assert!(bp.services.contains_key("inventory"));
}

#[test]
fn answers_file_in_yaml_builds_the_described_system() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("answers.yaml"),
        r#"
name: billing
type: serverless
scale: small
services:
  - name: invoices
    database: invoices-db
    entities:
      - name: Invoice
        fields: { id: uuid pk, total: "decimal(12,2)", status: "enum(open, paid) default open" }
    publishes: [invoice.paid]
  - name: mailer
    kind: worker
    consumes: [invoice.paid]
  - name: search
    image: ghcr.io/acme/search:1.4.2
    port: 9000
    depends_on: [invoices]
broker: sqs
ci: none
"#,
    )
    .unwrap();
    init(dir.path())
        .args(["--answers", "answers.yaml", "--no-generate", "-q"])
        .assert()
        .success();
    let bp = blueprint_in(&dir.path().join("billing"));
    assert_eq!(bp.arch, blueprint::ArchType::Serverless);
    assert_eq!(
        bp.entities["Invoice"].fields["status"],
        "enum(open, paid) default open"
    );
    assert_eq!(bp.services["mailer"].kind, blueprint::ServiceKind::Worker);
    let search = &bp.services["search"];
    assert_eq!(search.image.as_deref(), Some("ghcr.io/acme/search:1.4.2"));
    assert_eq!(search.port, Some(9000));
    assert_eq!(bp.messaging.unwrap().broker, blueprint::Broker::Sqs);
    assert_eq!(bp.ci.provider, "none");
}

#[test]
fn answers_file_in_json_works_too_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"name": "shop", "services": [{"name": "users", "database": "users-db"}]}"#,
    )
    .unwrap();
    init(dir.path())
        .args([
            "--answers",
            "a.json",
            "--name",
            "store",
            "--out",
            "o",
            "--no-generate",
        ])
        .assert()
        .success();
    let bp = blueprint_in(&dir.path().join("o"));
    assert_eq!(bp.name, "store");
    assert_eq!(bp.services["users"].database.as_deref(), Some("users-db"));
}

#[test]
fn invalid_answers_are_listed_by_path_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "name: Shop\nservices:\n  - name: users\n    depends_on: [usres]\n",
    )
    .unwrap();
    init(dir.path())
        .args(["--answers", "a.yaml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "name: `Shop` is not a DNS-1123 label",
        ))
        .stderr(predicates::str::contains(
            "services[0].depends_on[0]: unknown service `usres`",
        ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn without_a_terminal_init_fails_at_once_naming_the_non_interactive_flags() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .write_stdin("")
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("standard input is not one"))
        .stderr(predicates::str::contains("--yes"))
        .stderr(predicates::str::contains("--answers FILE"))
        .stderr(predicates::str::contains(
            "--example NAME (or --blueprint FILE)",
        ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn init_refuses_to_replace_a_different_blueprint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("my-system")).unwrap();
    std::fs::write(dir.path().join("my-system/blueprint.yaml"), "version: 1\n").unwrap();
    init(dir.path())
        .arg("--yes")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("exists and differs"));
    let kept = std::fs::read_to_string(dir.path().join("my-system/blueprint.yaml")).unwrap();
    assert_eq!(kept, "version: 1\n");
}

#[test]
fn the_answers_file_documented_in_docs_wizard_md_works() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/wizard.md")).unwrap();
    let yaml: String = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block in docs/wizard.md")
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .args(["--answers", "-", "--no-generate", "-q"])
        .write_stdin(yaml)
        .assert()
        .success();
    let bp = blueprint_in(&dir.path().join("billing"));
    let names: Vec<&str> = bp.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["invoices", "mailer", "search", "edge"]);
    assert_eq!(bp.services["edge"].routes[0].to, "invoices");
}

#[test]
fn a_busy_output_folder_is_replaced_by_another_at_the_prompt_keeping_the_answers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shop")).unwrap();
    std::fs::write(dir.path().join("shop/blueprint.yaml"), "version: 1\n").unwrap();
    let mut w = Wizard::start(dir.path(), &["--example", "ecommerce", "--no-generate"]);
    w.wait("System name")
        .at("shop", "\r")
        .at("One-line description", "\r")
        .at("Architecture type", "\r")
        .at("Scale", "\r")
        .at("Start from", "\r")
        .at("Add services of your own", "\r")
        .at("Message broker", "\r")
        .at("Istio service mesh", "\r")
        .at("CI", "\r")
        .wait("exists and differs")
        .wait("Output directory")
        .at("shop-2", "\r")
        .at("Write blueprint.yaml into shop-2?", "y")
        .wait("Wrote");
    assert_eq!(w.finish(), 0);
    let kept = std::fs::read_to_string(dir.path().join("shop/blueprint.yaml")).unwrap();
    assert_eq!(kept, "version: 1\n");
    assert_eq!(blueprint_in(&dir.path().join("shop-2")).name, "shop");
}

#[test]
fn deny_warnings_stops_before_writing() {
    // A topic with a publisher and no consumer is a warning (W0203), not an error.
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .args(["--answers", "-", "--deny-warnings"])
        .write_stdin("name: shop\nservices:\n  - name: users\n    publishes: [user.registered]\n")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("W0203"))
        .stderr(predicates::str::contains("nothing was written"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn ctrl_c_at_the_final_confirm_writes_nothing_although_everything_was_built() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wizard::start(dir.path(), &["--example", "event-orders"]);
    w.wait("System name")
        .at("orderflow", "\r")
        .at("One-line description", "\r")
        .at("Architecture type", "\r")
        .at("Scale", "\r")
        .at("Start from", "\r")
        .at("Add services of your own", "\r")
        .at("Message broker", "\r")
        .at("Istio service mesh", "\r")
        .at("CI", "\r")
        .wait("Summary")
        .at("Write blueprint.yaml and", "\x03")
        .wait("nothing was written");
    assert_eq!(w.finish(), 130);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_bad_name_flag_is_refused_before_any_question() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .args(["--yes", "--name", "Bad_Name"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--name: `Bad_Name` is not a DNS-1123 label",
        ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_answers_file_can_add_services_to_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let answers = "example: ecommerce\nname: store\nservices:\n  - name: reviews\n    depends_on: [products]\n    consumes: [order.created]\n";
    init(dir.path())
        .args(["--answers", "-", "--no-generate", "-q"])
        .write_stdin(answers)
        .assert()
        .success();
    let out = dir.path().join("store");
    let text = std::fs::read_to_string(out.join("blueprint.yaml")).unwrap();
    assert!(
        text.starts_with("# E-commerce platform"),
        "the example's text is kept"
    );
    let bp = blueprint_in(&out);
    let names: Vec<&str> = bp.services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "gateway",
            "users",
            "products",
            "orders",
            "payments",
            "notifications",
            "reviews"
        ]
    );
    assert_eq!(bp.services["reviews"].depends_on, ["products"]);
}

#[test]
fn an_answers_file_without_a_name_takes_the_example_named_by_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path())
        .args([
            "--answers",
            "-",
            "--example",
            "ecommerce",
            "--no-generate",
            "-q",
        ])
        .write_stdin("services: [{ name: reviews, depends_on: [products] }]\n")
        .assert()
        .success();
    let bp = blueprint_in(&dir.path().join("shop"));
    assert_eq!(bp.name, "shop");
    assert_eq!(bp.services["reviews"].depends_on, ["products"]);
}
