//! Regeneration as a user lives it (PRODUCT §6): generate a project, edit the blueprint (and
//! some generated files by hand), run `generate` again, and check that the tree is what a fresh
//! generation would give — except that no hand edit is lost, migrations only ever get appended
//! and conflicts are reported with exit code 1.
//!
//! The assertions compare against a fresh generation of the edited blueprint rather than naming
//! template files, so they hold for whatever template set the binary carries.

mod support;

use predicates::str::contains;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use support::cli::bin;
use support::project::Project;
use support::synth;

/// Every file under `dir` except the state folder (relative path → text).
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == ".codex-system-design" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// A generated project from a built-in example, in `<tmp>/<name>`.
fn project(tmp: &Path, example: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = tmp.join("project");
    bin()
        .args(["--example", example, "-q", "--out"])
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

/// What a fresh generation of `dir/blueprint.yaml` produces.
fn fresh(dir: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(dir.join("blueprint.yaml")).unwrap();
    snapshot(Project::text(text).generate().path())
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    let new = f(text.clone());
    assert_ne!(text, new, "the edit of {} changed nothing", path.display());
    fs::write(path, new).unwrap();
}

fn edit_blueprint(dir: &Path, from: &str, to: &str) {
    edit(&dir.join("blueprint.yaml"), |t| t.replacen(from, to, 1));
}

/// `generate` run inside the project, as a user does.
fn regenerate(dir: &Path) -> assert_cmd::assert::Assert {
    bin().current_dir(dir).args(["generate"]).assert()
}

fn without_migrations(s: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    s.iter()
        .filter(|(k, _)| !k.starts_with("migrations/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn assert_same_tree(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) {
    let (g, w): (Vec<_>, Vec<_>) = (got.keys().collect(), want.keys().collect());
    assert_eq!(
        g, w,
        "the regenerated tree has different files than a fresh one"
    );
    for (path, text) in want {
        assert!(got[path] == *text, "{path} differs from a fresh generation");
    }
}

#[test]
fn adding_a_service_gives_the_tree_a_fresh_generation_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    edit_blueprint(
        &dir,
        "  notifications:\n",
        "  audit:\n    kind: worker\n    language: python\n    consumes: [order.created]\n  notifications:\n",
    );
    regenerate(&dir).success();
    assert_same_tree(&snapshot(&dir), &fresh(&dir));
    bin()
        .current_dir(&dir)
        .args(["generate", "--check"])
        .assert()
        .success();
}

#[test]
fn renaming_a_service_removes_the_old_files_and_creates_the_new_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let before = snapshot(&dir);
    edit(&dir.join("blueprint.yaml"), |t| {
        t.replace("notifications", "notifier")
    });
    regenerate(&dir).success();
    let after = snapshot(&dir);
    assert_same_tree(&after, &fresh(&dir));
    for path in before.keys().filter(|p| p.contains("notifications")) {
        assert!(!after.contains_key(path), "{path} should be gone");
    }
}

#[test]
fn adding_a_field_appends_migration_v002_and_leaves_v001_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let v001 = dir.join("migrations/orders-db/001_init.sql");
    let v001_before = fs::read_to_string(&v001).unwrap();
    edit_blueprint(
        &dir,
        "      total: decimal(12,2) min 0\n      created_at",
        "      total: decimal(12,2) min 0\n      note: text nullable\n      created_at",
    );
    regenerate(&dir).success().stdout(contains(
        "migrations/orders-db/002_add_orders_note.sql (new migration)",
    ));
    assert_eq!(fs::read_to_string(&v001).unwrap(), v001_before);
    let text =
        fs::read_to_string(dir.join("migrations/orders-db/002_add_orders_note.sql")).unwrap();
    let (up, down) = text
        .split_once("-- migrate:up\n")
        .and_then(|(_, rest)| rest.split_once("-- migrate:down\n"))
        .unwrap_or_else(|| panic!("not a dbmate migration: {text}"));
    assert!(
        up.contains("ALTER TABLE \"orders\" ADD COLUMN \"note\" TEXT;"),
        "{up}"
    );
    assert!(
        down.contains("ALTER TABLE \"orders\" DROP COLUMN IF EXISTS \"note\";"),
        "{down}"
    );
    // Everything but the migration history is what a fresh generation gives.
    assert_same_tree(
        &without_migrations(&snapshot(&dir)),
        &without_migrations(&fresh(&dir)),
    );
    // Nothing more to do: no 003, the tree is current.
    let snap = snapshot(&dir);
    regenerate(&dir).success();
    assert_eq!(snapshot(&dir), snap);
    bin()
        .current_dir(&dir)
        .args(["generate", "--check"])
        .assert()
        .success();
}

#[test]
fn narrowing_a_column_and_dropping_an_entity_are_flagged_as_data_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    edit(&dir.join("blueprint.yaml"), |t| {
        t.replace("      name: string(120)\n", "      name: string(60)\n")
            .replace(
                "    entities: [Order, OrderItem]\n",
                "    entities: [Order]\n",
            )
            .replace(
                "  OrderItem:
    fields:
      id: uuid pk
      order_id: ref Order
      product_id: ref Product
      sku: string(64)
      quantity: int min 1
",
                "",
            )
    });
    regenerate(&dir)
        .success()
        .stderr(contains(
            "changes users.name from VARCHAR(120) to VARCHAR(60)",
        ))
        .stderr(contains("drops table order_items"));
    let up = fs::read_to_string(dir.join("migrations/orders-db/002_drop_order_items.sql")).unwrap();
    assert!(up.contains("DROP TABLE IF EXISTS \"order_items\";"), "{up}");
}

#[test]
fn changing_scale_from_small_to_large_gives_the_large_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &["--scale", "small"]);
    edit_blueprint(&dir, "scale: small", "scale: large");
    regenerate(&dir).success();
    assert_same_tree(&snapshot(&dir), &fresh(&dir));
}

#[test]
fn switching_the_mesh_off_removes_untouched_mesh_files_and_keeps_an_edited_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let before = snapshot(&dir);
    edit_blueprint(&dir, "mesh: { enabled: true", "mesh: { enabled: false");
    let want = fresh(&dir);
    let dropped: Vec<&String> = before.keys().filter(|p| !want.contains_key(*p)).collect();
    // Edit one of the files the change drops (with the full template set: an Istio manifest).
    let edited = dropped.first().map(|p| {
        edit(&dir.join(p), |t| format!("{t}# tuned by hand\n"));
        p.to_string()
    });
    let assert = regenerate(&dir).success();
    let after = snapshot(&dir);
    for p in &dropped {
        if Some(p.to_string()) == edited {
            assert!(
                after[*p].ends_with("# tuned by hand\n"),
                "{p} lost its edit"
            );
            let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
            assert!(out.contains(&format!("kept       {p}")), "{out}");
        } else {
            assert!(!after.contains_key(*p), "{p} should be removed");
        }
    }
    let mut after = after;
    if let Some(p) = &edited {
        after.remove(p);
    }
    assert_same_tree(&after, &want);
}

#[test]
fn hand_edit_and_blueprint_change_to_the_same_file_both_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let readme = dir.join("README.md");
    edit(&readme, |t| {
        format!("[![build](https://ci.example.com/badge.svg)]\n{t}")
    });
    edit_blueprint(&dir, "name: shop", "name: storefront");
    regenerate(&dir)
        .success()
        .stdout(contains("merged     README.md"));
    let text = fs::read_to_string(&readme).unwrap();
    assert!(
        text.starts_with("[![build](https://ci.example.com/badge.svg)]\n"),
        "{text}"
    );
    let fresh_readme = &fresh(&dir)["README.md"];
    assert!(fresh_readme.contains("Storefront"));
    assert_eq!(
        text,
        format!("[![build](https://ci.example.com/badge.svg)]\n{fresh_readme}")
    );
}

/// The Python modules whose shape follows the wiring (calls, cache, readiness) change when a
/// service gains a dependency and a cache; a hand edit to each of them survives that change.
#[test]
fn hand_edits_to_python_modules_survive_a_change_of_their_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let app = "services/payments/app/";
    let before = snapshot(&dir);
    let modules: Vec<&String> = before
        .keys()
        .filter(|k| k.starts_with(app) && k.ends_with(".py"))
        .collect();
    let addition = |rel: &str| {
        let stem = &rel[app.len()..rel.len() - 3];
        format!("\n\ndef team_hook_{stem}() -> str:\n    return \"ours\"\n")
    };
    for rel in &modules {
        edit(&dir.join(rel), |t| format!("{t}{}", addition(rel)));
    }
    edit_blueprint(
        &dir,
        "    database: payments-db\n",
        "    database: payments-db\n    depends_on: [orders]\n    cache: sessions\n",
    );
    regenerate(&dir).success();
    let fresh = fresh(&dir);
    let mut reshaped = Vec::new();
    for rel in &modules {
        let got = fs::read_to_string(dir.join(rel)).unwrap();
        assert_eq!(got, format!("{}{}", fresh[*rel], addition(rel)), "{rel}");
        if before[*rel] != fresh[*rel] {
            reshaped.push(&rel[app.len()..]);
        }
    }
    for m in ["config.py", "health.py", "references.py", "clients.py"] {
        assert!(
            reshaped.contains(&m),
            "{m} should change shape: {reshaped:?}"
        );
    }
}

#[test]
fn conflicting_edit_is_marked_reported_and_exits_1_until_resolved() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let readme = dir.join("README.md");
    edit(&readme, |t| t.replace("# Shop\n", "# Shop (our fork)\n"));
    edit_blueprint(&dir, "name: shop", "name: storefront");
    regenerate(&dir)
        .code(1)
        .stderr(contains("conflict   README.md"))
        .stderr(contains("1 file(s) have conflicts"));
    let text = fs::read_to_string(&readme).unwrap();
    assert!(
        text.contains(
            "<<<<<<< yours\n# Shop (our fork)\n=======\n# Storefront\n>>>>>>> generated\n"
        ),
        "{text}"
    );
    // Still unresolved: left alone, still exit 1.
    regenerate(&dir)
        .code(1)
        .stderr(contains("unresolved README.md"));
    assert_eq!(fs::read_to_string(&readme).unwrap(), text);
    // Resolved by hand: accepted and kept.
    edit(&readme, |t| {
        t.replace(
            "<<<<<<< yours\n# Shop (our fork)\n=======\n# Storefront\n>>>>>>> generated\n",
            "# Storefront (our fork)\n",
        )
    });
    regenerate(&dir).success();
    assert!(
        fs::read_to_string(&readme)
            .unwrap()
            .contains("# Storefront (our fork)\n")
    );
    bin()
        .current_dir(&dir)
        .args(["generate", "--check"])
        .assert()
        .success();
}

#[test]
fn conflict_rej_mode_keeps_your_version_and_writes_the_generated_change_aside() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let readme = dir.join("README.md");
    edit(&readme, |t| t.replace("# Shop\n", "# Shop (our fork)\n"));
    edit_blueprint(&dir, "name: shop", "name: storefront");
    bin()
        .current_dir(&dir)
        .args(["generate", "--conflict", "rej"])
        .assert()
        .code(1)
        .stderr(contains("README.md"));
    let text = fs::read_to_string(&readme).unwrap();
    assert!(
        text.contains("# Shop (our fork)\n") && !text.contains("<<<<<<<"),
        "{text}"
    );
    let rej = fs::read_to_string(dir.join("README.md.rej")).unwrap();
    assert!(rej.contains("-# Shop\n+# Storefront\n"), "{rej}");
}

#[test]
fn file_deleted_by_hand_is_recreated_with_a_notice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let want = snapshot(&dir);
    fs::remove_file(dir.join("README.md")).unwrap();
    fs::remove_file(dir.join("migrations/users-db/001_init.sql")).unwrap();
    regenerate(&dir)
        .success()
        .stdout(contains("recreated  README.md (deleted by hand"))
        .stdout(contains("recreated  migrations/users-db/001_init.sql"));
    assert_same_tree(&snapshot(&dir), &want);
}

#[test]
fn files_the_user_added_are_never_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    fs::create_dir_all(dir.join("notes")).unwrap();
    fs::write(dir.join("notes/todo.md"), "mine\n").unwrap();
    fs::write(
        dir.join("migrations/users-db/009_seed.sql"),
        "-- migrate:up\nINSERT 1;\n-- migrate:down\n",
    )
    .unwrap();
    edit(&dir.join("blueprint.yaml"), |t| {
        t.replace("notifications", "notifier")
    });
    regenerate(&dir).success();
    assert_eq!(
        fs::read_to_string(dir.join("notes/todo.md")).unwrap(),
        "mine\n"
    );
    assert_eq!(
        fs::read_to_string(dir.join("migrations/users-db/009_seed.sql")).unwrap(),
        "-- migrate:up\nINSERT 1;\n-- migrate:down\n"
    );
    // A later schema change is numbered after the user's own migration.
    edit_blueprint(
        &dir,
        "      name: string(120)\n",
        "      name: string(120)\n      nick: string(40) nullable\n",
    );
    regenerate(&dir).success();
    assert!(
        dir.join("migrations/users-db/010_add_users_nick.sql")
            .is_file()
    );
}

#[test]
fn check_diff_and_dry_run_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    bin()
        .current_dir(&dir)
        .args(["generate", "--check"])
        .assert()
        .success()
        .stdout(contains("up to date"));
    edit_blueprint(&dir, "name: shop", "name: storefront");
    let state = fs::read(dir.join(".codex-system-design/state.json")).unwrap();
    let snap = snapshot(&dir);
    bin()
        .current_dir(&dir)
        .args(["generate", "--check"])
        .assert()
        .code(1)
        .stdout(contains("updated    README.md"))
        .stderr(contains("do not match the blueprint"));
    bin()
        .current_dir(&dir)
        .args(["generate", "--dry-run"])
        .assert()
        .success()
        .stdout(contains("updated    README.md"))
        .stdout(contains("nothing written"));
    let diff = bin()
        .current_dir(&dir)
        .args(["generate", "--diff"])
        .env_remove("NO_COLOR")
        .assert()
        .success()
        .stdout(contains("--- a/README.md\n+++ b/README.md\n"))
        .stdout(contains("-# Shop\n+# Storefront\n"));
    // Not a terminal: no colour codes.
    assert!(!String::from_utf8_lossy(&diff.get_output().stdout).contains('\x1b'));
    assert_eq!(snapshot(&dir), snap);
    assert_eq!(
        fs::read(dir.join(".codex-system-design/state.json")).unwrap(),
        state
    );
}

#[test]
fn generate_with_file_and_out_regenerates_another_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "auth-service", &[]);
    let bp = tmp.path().join("elsewhere.yaml");
    fs::copy(dir.join("blueprint.yaml"), &bp).unwrap();
    edit(&bp, |t| t.replacen("scale: ", "scale: large\n#", 1));
    bin()
        .args(["generate", "-q", "-f"])
        .arg(&bp)
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
    bin()
        .args(["generate", "--check", "-f"])
        .arg(&bp)
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
}

#[test]
fn no_op_regeneration_rewrites_no_file() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "event-orders", &[]);
    let inodes = |dir: &Path| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (p, _) in snapshot(dir) {
            m.insert(p.clone(), fs::metadata(dir.join(&p)).unwrap().ino());
        }
        m.insert(
            "state".into(),
            fs::metadata(dir.join(".codex-system-design/state.json"))
                .unwrap()
                .ino(),
        );
        m
    };
    let before = inodes(&dir);
    regenerate(&dir).success().stdout(contains("unchanged"));
    // An atomic write replaces the inode; none was replaced.
    assert_eq!(inodes(&dir), before);
}

#[test]
fn state_from_a_newer_tool_is_refused_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    edit(&dir.join(".codex-system-design/state.json"), |t| {
        t.replace("\"format\":3", "\"format\":9")
    });
    let snap = snapshot(&dir);
    regenerate(&dir)
        .code(2)
        .stderr(contains("format 9, newer than this tool understands"))
        .stderr(contains("upgrade codex-system-design"));
    assert_eq!(snapshot(&dir), snap);
}

/// The state without the files' stat stamps (size, modification time), which differ between
/// any two runs.
fn without_stamps(state: &[u8]) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(state) else {
        return state.to_vec();
    };
    if let Some(files) = v.get_mut("files").and_then(|f| f.as_object_mut()) {
        for rec in files.values_mut().filter_map(|r| r.as_object_mut()) {
            rec.remove("size");
            rec.remove("mtime");
        }
    }
    serde_json::to_vec(&v).expect("serializes")
}

/// Every file under `dir`, state included (without its stat stamps).
fn full_snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = raw_snapshot(dir);
    for (rel, bytes) in all.iter_mut() {
        if rel.ends_with("state.json") {
            *bytes = without_stamps(bytes);
        }
    }
    all
}

/// Every file under `dir`, byte for byte.
fn raw_snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    for (rel, bytes) in raw_snapshot(from) {
        let p = to.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
}

#[test]
fn a_run_killed_at_any_point_is_completed_by_the_next_run_without_losing_an_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let start = project(tmp.path(), "ecommerce", &[]);
    edit(&start.join("README.md"), |t| format!("badge\n{t}"));
    edit(&start.join("blueprint.yaml"), |t| {
        t.replace("name: shop", "name: storefront")
            .replace("notifications", "notifier")
            .replace(
                "      total: decimal(12,2) min 0\n",
                "      total: decimal(12,2) min 0\n      note: text nullable\n",
            )
    });
    let reference = tmp.path().join("reference");
    copy_dir(&start, &reference);
    regenerate(&reference).success();
    let want = full_snapshot(&reference);
    assert!(want.keys().any(|k| k.contains("002_add_orders_note")));

    let work = tmp.path().join("work");
    let killed_at = |n: usize| {
        copy_dir(&start, &work);
        let mut run =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("codex-system-design"));
        run.current_dir(&work).args(["generate", "-q"]);
        !completes_unless_killed(run, n)
    };
    // Every point of the first operations (the pending list, the first writes), then every
    // 11th, and every point of the last ones (the state, the clean-up): a kill at each point
    // of the whole run costs minutes and finds nothing these do not (they cover each phase).
    let mut points: Vec<usize> = (1..=40).chain((51..10_000).step_by(11)).collect();
    let mut interrupted = 0;
    let mut i = 0;
    while i < points.len() {
        let n = points[i];
        i += 1;
        if !killed_at(n) {
            let last = (n.saturating_sub(12)..n).filter(|m| *m > 40 && !points.contains(m));
            let tail: Vec<usize> = last.collect();
            points.truncate(i);
            points.extend(tail);
            continue;
        }
        interrupted += 1;
        regenerate(&work).success();
        let got = full_snapshot(&work);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "after a kill at operation {n}"
        );
        for (k, v) in &want {
            assert!(got[k] == *v, "after a kill at operation {n}: {k} differs");
        }
        assert!(String::from_utf8_lossy(&got["README.md"]).starts_with("badge\n"));
    }
    assert!(interrupted >= 50, "only {interrupted} interruption points");
}

mod property {
    //! Random sequences of hand edits, blueprint edits and regenerations never lose a line the
    //! user wrote: it stays in its file, merged or inside a reported conflict.

    use codex_system_design::write::{self, ConflictStyle, Options, Output, Policy};
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::Path;

    const FILES: [&str; 4] = ["a.txt", "d/b.txt", "d/e/c.txt", "f.yaml"];

    #[derive(Debug, Clone)]
    enum Step {
        UserInsert(usize, usize),
        UserReplace(usize, usize),
        UserDelete(usize),
        GenChange(usize, usize),
        GenInsert(usize, usize),
        GenDelete(usize, usize),
        GenDropFile(usize),
        GenAddFile(usize),
        Regenerate(bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        let f = 0..FILES.len();
        let at = 0usize..12;
        prop_oneof![
            3 => (f.clone(), at.clone()).prop_map(|(f, a)| Step::UserInsert(f, a)),
            2 => (f.clone(), at.clone()).prop_map(|(f, a)| Step::UserReplace(f, a)),
            1 => f.clone().prop_map(Step::UserDelete),
            2 => (f.clone(), at.clone()).prop_map(|(f, a)| Step::GenChange(f, a)),
            2 => (f.clone(), at.clone()).prop_map(|(f, a)| Step::GenInsert(f, a)),
            1 => (f.clone(), at).prop_map(|(f, a)| Step::GenDelete(f, a)),
            1 => f.clone().prop_map(Step::GenDropFile),
            1 => f.prop_map(Step::GenAddFile),
            3 => any::<bool>().prop_map(Step::Regenerate),
        ]
    }

    fn lines_of(path: &Path) -> Option<Vec<String>> {
        fs::read_to_string(path)
            .ok()
            .map(|t| t.lines().map(str::to_owned).collect())
    }

    fn write_lines(path: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        fs::write(path, text).unwrap();
    }

    fn regenerate(out: &Path, gen_files: &BTreeMap<usize, Vec<String>>, rej: bool) {
        let outputs: Vec<Output> = gen_files
            .iter()
            .map(|(f, lines)| {
                Output::new(FILES[*f].to_owned(), lines.join("\n") + "\n", Policy::Merge)
            })
            .collect();
        let prev = write::read_state(out).unwrap();
        let opts = Options {
            conflict: if rej {
                ConflictStyle::Rej
            } else {
                ConflictStyle::Markers
            },
            ..Options::default()
        };
        write::write_tree(out, outputs, prev.as_ref(), &opts).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn no_user_line_is_ever_lost(steps in prop::collection::vec(step(), 1..30)) {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path();
            let mut counter = 0;
            let mut next = |kind: &str| { counter += 1; format!("{kind} line {counter}") };
            let mut gen_files: BTreeMap<usize, Vec<String>> = (0..FILES.len())
                .map(|f| (f, (0..6).map(|_| next("generated")).collect()))
                .collect();
            regenerate(out, &gen_files, false);
            for s in steps {
                match s {
                    Step::UserInsert(f, at) | Step::UserReplace(f, at) => {
                        let p = out.join(FILES[f]);
                        if let Some(mut lines) = lines_of(&p) {
                            let at = at.min(lines.len());
                            let line = next("user");
                            if matches!(s, Step::UserReplace(..)) && at < lines.len() {
                                lines[at] = line;
                            } else {
                                lines.insert(at, line);
                            }
                            write_lines(&p, &lines);
                        }
                    }
                    Step::UserDelete(f) => {
                        let _ = fs::remove_file(out.join(FILES[f]));
                    }
                    Step::GenChange(f, at) | Step::GenInsert(f, at) | Step::GenDelete(f, at) => {
                        if let Some(lines) = gen_files.get_mut(&f) {
                            let at = at.min(lines.len());
                            match s {
                                Step::GenChange(..) if at < lines.len() => lines[at] = next("generated"),
                                Step::GenDelete(..) if at < lines.len() => { lines.remove(at); }
                                _ => lines.insert(at, next("generated")),
                            }
                        }
                    }
                    Step::GenDropFile(f) => { gen_files.remove(&f); }
                    Step::GenAddFile(f) => {
                        gen_files.entry(f).or_insert_with(|| vec![next("generated")]);
                    }
                    Step::Regenerate(rej) => {
                        let before: Vec<(usize, String)> = (0..FILES.len())
                            .flat_map(|f| {
                                lines_of(&out.join(FILES[f]))
                                    .unwrap_or_default()
                                    .into_iter()
                                    .filter(|l| l.starts_with("user "))
                                    .map(move |l| (f, l))
                            })
                            .collect();
                        regenerate(out, &gen_files, rej);
                        for (f, line) in before {
                            let after = lines_of(&out.join(FILES[f])).unwrap_or_default();
                            prop_assert!(
                                after.contains(&line),
                                "`{}` lost from {}: {:?}", line, FILES[f], after
                            );
                        }
                    }
                }
            }
        }
    }
}

fn synthetic_project(tmp: &Path, n: usize) -> std::path::PathBuf {
    let bp = tmp.join("synthetic.yaml");
    fs::write(&bp, synth::blueprint(n)).unwrap();
    let out = tmp.join("synthetic");
    bin()
        .arg("--blueprint")
        .arg(&bp)
        .args(["-q", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn two_hundred_services_regenerate_as_a_no_op_then_append_one_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_project(tmp.path(), 200);
    let snap = snapshot(&dir);
    assert!(snap.len() > 400, "{} files", snap.len());
    regenerate(&dir).success().stdout(contains("unchanged"));
    assert_eq!(snapshot(&dir), snap);
    edit_blueprint(
        &dir,
        "  Item137:\n    fields:\n      id: uuid pk\n",
        "  Item137:\n    fields:\n      id: uuid pk\n      sku: string(32) nullable\n",
    );
    regenerate(&dir).success();
    let after = snapshot(&dir);
    let new: Vec<&String> = after.keys().filter(|k| !snap.contains_key(*k)).collect();
    assert_eq!(new, ["migrations/s137-db/002_add_item137s_sku.sql"]);
}

#[test]
fn a_large_run_killed_by_a_signal_is_completed_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let start = synthetic_project(tmp.path(), 60);
    edit(&start.join("README.md"), |t| format!("badge\n{t}"));
    edit(&start.join("blueprint.yaml"), |t| {
        t.replace("name: synthetic", "name: synthetic-two").replace(
            "      qty: int default 0\n",
            "      qty: bigint default 0\n",
        )
    });
    let reference = tmp.path().join("reference");
    copy_dir(&start, &reference);
    regenerate(&reference).success();
    let want = full_snapshot(&reference);
    let work = tmp.path().join("work");
    for delay_ms in [2, 15, 50] {
        copy_dir(&start, &work);
        let mut child =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("codex-system-design"))
                .current_dir(&work)
                .args(["generate", "-q"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        regenerate(&work).success();
        let got = full_snapshot(&work);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "killed after {delay_ms} ms"
        );
        for (k, v) in &want {
            assert!(got[k] == *v, "killed after {delay_ms} ms: {k} differs");
        }
    }
}

mod with_a_migration_template {
    //! When the template set renders `001_init.sql` itself (as the full set does), that file
    //! is written once and never re-rendered; later schema changes still append 002.

    use codex_system_design::pipeline::{self, Source};
    use codex_system_design::render::TemplateSet;
    use codex_system_design::write::{self, ConflictStyle, run};
    use std::fs;
    use std::path::Path;

    // Replaces the built-in V001 template, so the test knows exactly what V001 says.
    const V001_PATH: &str = "common/migrations/__database__/001_init.sql";
    const V001: &str = "{{ header }}\n-- init of {{ database.name.raw }}: {% for e in m.entities %}{% if e.database == database.name.raw %}{{ e.table }}({% for c in e.columns %}{{ c.name }} {% endfor %}) {% endif %}{% endfor %}\n";

    fn generate(out: &Path, blueprint: &str) -> run::Run {
        let mut templates = TemplateSet::embedded();
        templates
            .overlay(vec![(V001_PATH.to_owned(), V001.to_owned())])
            .unwrap();
        let src = Source {
            text: blueprint.to_owned(),
            file: "blueprint.yaml".to_owned(),
        };
        let Ok(mut g) = pipeline::generate(&src, &templates, false) else {
            panic!("the blueprint does not generate");
        };
        let prev = write::read_state(out).unwrap();
        let mut r = run::prepare_run(out, &mut g, prev.as_ref(), ConflictStyle::Markers).unwrap();
        write::apply(out, &mut r.preview, prev.as_ref()).unwrap();
        r
    }

    #[test]
    fn template_v001_is_kept_and_the_change_goes_to_v002() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let bp = codex_system_design::assets::example("ecommerce").unwrap();
        generate(out, bp);
        let v001 = out.join("migrations/users-db/001_init.sql");
        let first = fs::read_to_string(&v001).unwrap();
        assert!(
            first.contains("-- init of users-db: users(id email name created_at )"),
            "{first}"
        );
        // No second init computed next to the template's.
        let mut names: Vec<_> = fs::read_dir(out.join("migrations/users-db"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["001_init.sql"]);

        let edited = bp.replace(
            "      name: string(120)\n",
            "      name: string(120)\n      nick: string(40) nullable\n",
        );
        let r = generate(out, &edited);
        assert_eq!(fs::read_to_string(&v001).unwrap(), first);
        assert_eq!(r.migrations, ["migrations/users-db/002_add_users_nick.sql"]);
        let up =
            fs::read_to_string(out.join("migrations/users-db/002_add_users_nick.sql")).unwrap();
        assert!(
            up.contains("ALTER TABLE \"users\" ADD COLUMN \"nick\" VARCHAR(40);"),
            "{up}"
        );
        // Stable afterwards.
        let r = generate(out, &edited);
        assert!(r.migrations.is_empty());
        assert!(r.preview.stale().next().is_none());
    }

    /// One run of `templates` on `out`, written.
    fn generate_with(out: &Path, blueprint: &str, templates: &TemplateSet) -> run::Run {
        let src = Source {
            text: blueprint.to_owned(),
            file: "blueprint.yaml".to_owned(),
        };
        let Ok(mut g) = pipeline::generate(&src, templates, false) else {
            panic!("the blueprint does not generate");
        };
        let prev = write::read_state(out).unwrap();
        let mut r = run::prepare_run(out, &mut g, prev.as_ref(), ConflictStyle::Markers).unwrap();
        write::apply(out, &mut r.preview, prev.as_ref()).unwrap();
        r
    }

    #[test]
    fn a_tree_of_the_old_layout_is_converted_once_keeping_hand_edits() {
        // The layout of earlier versions: `V001__init.sql` with `V001__init.down.sql`.
        let mut old = TemplateSet::embedded();
        old.sources.retain(|(n, _)| n != V001_PATH);
        old.overlay(vec![
            (
                "common/migrations/__database__/V001__init.sql".to_owned(),
                "{{ header }}\nCREATE TABLE legacy_{{ database.name.snake }} (id int);\n"
                    .to_owned(),
            ),
            (
                "common/migrations/__database__/V001__init.down.sql".to_owned(),
                "{{ header }}\nDROP TABLE legacy_{{ database.name.snake }};\n".to_owned(),
            ),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let bp = codex_system_design::assets::example("ecommerce").unwrap();
        generate_with(out, bp, &old);
        let folder = out.join("migrations/users-db");
        let up = folder.join("V001__init.sql");
        let edited = format!(
            "{}CREATE INDEX by_hand ON legacy_users_db (id);\n",
            fs::read_to_string(&up).unwrap()
        );
        fs::write(&up, &edited).unwrap();
        let down = fs::read_to_string(folder.join("V001__init.down.sql")).unwrap();
        // A migration the user wrote in the old layout, never generated.
        fs::write(
            folder.join("V002__seed.sql"),
            "INSERT INTO legacy_users_db VALUES (1);\n",
        )
        .unwrap();

        let r = generate_with(out, bp, &TemplateSet::embedded());
        let mut names: Vec<_> = fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["001_init.sql", "002_seed.sql", "V002__seed.sql"]);
        let converted = fs::read_to_string(folder.join("001_init.sql")).unwrap();
        let (before, rest) = converted.split_once("-- migrate:up\n").unwrap();
        let (up_block, down_block) = rest.split_once("\n-- migrate:down\n").unwrap();
        assert!(before.contains("V001__init.sql"), "{converted}");
        assert_eq!(up_block, edited, "the hand edit travels with the text");
        assert_eq!(down_block, down);
        // Not the new template's tables: the history that was applied stays the history.
        assert!(!converted.contains("CREATE TABLE \"users\""), "{converted}");
        let seed = fs::read_to_string(folder.join("002_seed.sql")).unwrap();
        assert!(
            seed.contains("-- migrate:up\nINSERT INTO legacy_users_db VALUES (1);\n"),
            "{seed}"
        );
        assert!(seed.contains("-- migrate:down\n"), "{seed}");
        let converted_paths: Vec<&str> = r
            .preview
            .changes
            .iter()
            .filter(|c| c.action == write::Action::Converted)
            .map(|c| c.path.as_str())
            .collect();
        assert!(
            converted_paths.contains(&"migrations/users-db/V001__init.sql"),
            "{converted_paths:?}"
        );
        assert!(converted_paths.contains(&"migrations/users-db/V001__init.down.sql"));
        assert!(!converted_paths.contains(&"migrations/users-db/V002__seed.sql"));
        let notes = r.notes.join("\n");
        assert!(
            notes.contains(
                "migrations/users-db/V002__seed.sql not generated by this tool, left in place"
            ),
            "{notes}"
        );
        assert!(
            notes.contains("INSERT INTO schema_migrations (version) VALUES ('001'), ('002')"),
            "{notes}"
        );
        assert!(!out.join("migrations/orders-db/V001__init.sql").exists());
        assert!(out.join("migrations/orders-db/001_init.sql").is_file());

        // Once: the next run has nothing to convert or write.
        let r = generate_with(out, bp, &TemplateSet::embedded());
        assert!(
            r.preview.stale().next().is_none(),
            "{:?}",
            r.preview.stale().map(|c| &c.path).collect::<Vec<_>>()
        );
        assert_eq!(
            fs::read_to_string(folder.join("001_init.sql")).unwrap(),
            converted
        );
        // A schema change is numbered after the converted history.
        let changed = bp.replace(
            "      name: string(120)\n",
            "      name: string(120)\n      nick: string(40) nullable\n",
        );
        let r = generate_with(out, &changed, &TemplateSet::embedded());
        assert_eq!(r.migrations, ["migrations/users-db/003_add_users_nick.sql"]);
    }
}

/// `generate -v` on `dir`: (stdout, stderr). The timing lines on stderr name the stages run.
fn verbose_regenerate(dir: &Path, extra: &[&str]) -> (String, String) {
    let out = bin()
        .current_dir(dir)
        .args(["generate", "-v"])
        .args(extra)
        .assert()
        .success();
    let o = out.get_output();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn rendered(stderr: &str) -> bool {
    stderr
        .lines()
        .any(|l| l.trim_start().starts_with("render "))
}

#[test]
fn an_untouched_tree_skips_the_render_and_any_change_brings_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "ecommerce", &[]);
    let state = || fs::read_to_string(dir.join(".codex-system-design/state.json")).unwrap();
    let (tree, first_state) = (snapshot(&dir), state());
    assert!(first_state.contains("\"inputs\":\""), "{first_state}");

    // Same inputs, untouched tree: nothing rendered, nothing written, every file unchanged.
    let (stdout, stderr) = verbose_regenerate(&dir, &[]);
    assert!(!rendered(&stderr), "{stderr}");
    assert!(
        stdout.contains(&format!("{} unchanged", tree.len() - 1)),
        "{stdout}"
    );
    assert_eq!(snapshot(&dir), tree);
    assert_eq!(state(), first_state);

    // A hand edit: the full path runs and keeps it.
    let readme = dir.join("services/orders/README.md");
    edit(&readme, |t| format!("{t}Team notes.\n"));
    let (_, stderr) = verbose_regenerate(&dir, &[]);
    assert!(rendered(&stderr), "{stderr}");
    assert!(
        stderr.contains("edited     services/orders/README.md"),
        "{stderr}"
    );
    assert!(
        fs::read_to_string(&readme)
            .unwrap()
            .ends_with("Team notes.\n")
    );

    // A deleted file is noticed and recreated.
    fs::write(
        &readme,
        fs::read_to_string(&readme)
            .unwrap()
            .replace("Team notes.\n", ""),
    )
    .unwrap();
    fs::remove_file(dir.join("deploy/k8s/base/orders/deployment.yaml")).unwrap();
    let (_, stderr) = verbose_regenerate(&dir, &[]);
    assert!(rendered(&stderr), "{stderr}");
    assert_eq!(snapshot(&dir), tree);

    // A changed template (an override folder) renders again, and its change lands.
    let (_, stderr) = verbose_regenerate(&dir, &[]);
    assert!(!rendered(&stderr), "back to untouched: {stderr}");
    let over = tmp.path().join("templates/common/docs");
    fs::create_dir_all(&over).unwrap();
    let builtin = codex_system_design::render::TemplateSet::embedded();
    let (_, source) = builtin
        .sources
        .iter()
        .find(|(n, _)| n == "common/docs/ARCHITECTURE.md")
        .unwrap();
    fs::write(
        over.join("ARCHITECTURE.md"),
        format!("{source}\nLocal addendum.\n"),
    )
    .unwrap();
    let templates = tmp.path().join("templates");
    let (_, stderr) = verbose_regenerate(&dir, &["--templates", templates.to_str().unwrap()]);
    assert!(rendered(&stderr), "{stderr}");
    let arch = fs::read_to_string(dir.join("docs/ARCHITECTURE.md")).unwrap();
    assert!(arch.ends_with("Local addendum.\n"), "{arch}");
}

#[test]
fn a_fresh_generation_killed_part_way_is_completed_by_generate_or_the_same_command() {
    // New files are created in place (not through a temporary file), so a kill can leave one
    // empty or half written; the pending list tells the next run that it is ours to finish.
    let tmp = tempfile::tempdir().unwrap();
    let reference = project(tmp.path(), "auth-service", &[]);
    let want = full_snapshot(&reference);
    let work = tmp.path().join("work");
    let mut interrupted = 0;
    for n in (1..10_000).step_by(13) {
        let _ = fs::remove_dir_all(&work);
        let mut run =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("codex-system-design"));
        run.args(["--example", "auth-service", "-q", "--out"])
            .arg(&work);
        if completes_unless_killed(run, n) {
            break;
        }
        interrupted += 1;
        if !work.join("blueprint.yaml").exists() {
            continue; // killed before anything was written
        }
        // Completed by `generate` in the folder, or by the very command that was killed.
        let again = tmp.path().join("again");
        copy_dir(&work, &again);
        regenerate(&work).success();
        bin()
            .args(["--example", "auth-service", "-q", "--out"])
            .arg(&again)
            .assert()
            .success();
        for dir in [&work, &again] {
            let got = full_snapshot(dir);
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "after a kill at operation {n}"
            );
            for (k, v) in &want {
                assert!(got[k] == *v, "after a kill at operation {n}: {k} differs");
            }
        }
    }
    assert!(interrupted > 10, "only {interrupted} interrupted runs");
}

/// Run `cmd` with the kill switch set to abort it after `n` file operations: `true` when it got
/// to the end first, `false` when it was killed; any other failure fails the test.
fn completes_unless_killed(mut cmd: std::process::Command, n: usize) -> bool {
    let out = cmd
        .env("CODEX_SYSTEM_DESIGN_ABORT_AFTER", n.to_string())
        .output()
        .unwrap();
    if out.status.success() {
        return true;
    }
    assert_eq!(
        out.status.code(),
        None,
        "run {n} failed instead of being killed"
    );
    false
}

#[test]
fn a_run_finding_the_tree_locked_fails_clearly_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "auth-service", &[]);
    edit_blueprint(
        &dir,
        "      locked: bool default false\n",
        "      locked: bool default false\n      nick: string(40) nullable\n",
    );
    let before = full_snapshot(&dir);
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".codex-system-design/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    regenerate(&dir)
        .code(2)
        .stderr(contains("error[E0401]"))
        .stderr(contains("another codex-system-design run"));
    assert_eq!(full_snapshot(&dir), before);
    drop(lock);
    regenerate(&dir).success();
    assert!(
        dir.join("migrations/identity-db/002_add_accounts_nick.sql")
            .exists()
    );
}

#[test]
fn concurrent_runs_on_one_tree_never_both_write_a_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "auth-service", &[]);
    edit_blueprint(
        &dir,
        "      locked: bool default false\n",
        "      locked: bool default false\n      nick: string(40) nullable\n",
    );
    let runs: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("codex-system-design"))
                .current_dir(&dir)
                .args(["generate", "-q"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut succeeded = 0;
    for r in runs {
        let out = r.wait_with_output().unwrap();
        if out.status.success() {
            succeeded += 1;
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{err}");
            assert!(err.contains("error[E0401]"), "{err}");
        }
    }
    assert!(succeeded >= 1);
    let migrations: Vec<String> = fs::read_dir(dir.join("migrations/identity-db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("001_"))
        .collect();
    assert_eq!(migrations, ["002_add_accounts_nick.sql"]);
    regenerate(&dir).success();
    assert_same_tree(
        &without_migrations(&snapshot(&dir)),
        &without_migrations(&fresh(&dir)),
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_or_socket_at_a_generated_path_is_refused_like_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "auth-service", &[]);
    let fifo = dir.join("README.md");
    fs::remove_file(&fifo).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Reading a FIFO blocks until a writer comes: the timeout turns a hang into a failure.
    let timeout = std::time::Duration::from_secs(120);
    let before = snapshot_without(&dir, "README.md");
    bin()
        .current_dir(&dir)
        .arg("generate")
        .timeout(timeout)
        .assert()
        .code(2)
        .stderr(contains("error[E0402]"))
        .stderr(contains("README.md"));
    assert_eq!(snapshot_without(&dir, "README.md"), before);
    fs::remove_file(&fifo).unwrap();
    let socket = dir.join("docs/ARCHITECTURE.md");
    fs::remove_file(&socket).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    bin()
        .current_dir(&dir)
        .arg("generate")
        .timeout(timeout)
        .assert()
        .code(2)
        .stderr(contains("error[E0402]"))
        .stderr(contains("ARCHITECTURE.md"));
    fs::remove_file(&socket).unwrap();
    regenerate(&dir).success();
    assert_same_tree(
        &without_migrations(&snapshot(&dir)),
        &without_migrations(&fresh(&dir)),
    );
}

/// [`snapshot`] of a tree with a special file in it (left out).
fn snapshot_without(dir: &Path, skip: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in walk(dir) {
        let rel = e.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if rel != skip && !rel.starts_with(".codex-system-design") {
            out.insert(rel, fs::read_to_string(&e).unwrap());
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                files.push(e.path());
            }
        }
    }
    files
}

#[test]
fn a_lost_or_corrupt_state_stops_the_run_and_adopt_rebuilds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "auth-service", &[]);
    edit(&dir.join("README.md"), |t| format!("{t}\nmine\n"));
    let state = dir.join(".codex-system-design/state.json");
    let before = snapshot(&dir);
    fs::remove_file(&state).unwrap();
    regenerate(&dir)
        .code(2)
        .stderr(contains("error[E0403]"))
        .stderr(contains("generate --adopt"));
    assert_eq!(snapshot(&dir), before);
    fs::write(&state, "{\"format\": 2, \"files\": {").unwrap();
    regenerate(&dir)
        .code(2)
        .stderr(contains("error[E0404]"))
        .stderr(contains("generate --adopt"));
    assert_eq!(snapshot(&dir), before);
    // The same from the top-level command into that folder.
    bin()
        .args(["--example", "auth-service", "-q", "--out"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(contains("error[E0404]"));
    bin()
        .current_dir(&dir)
        .args(["generate", "--adopt"])
        .assert()
        .success()
        .stdout(contains(
            "README.md (exists and was not generated; not overwritten)",
        ))
        .stdout(contains("kept as yours"));
    // The edited README is the user's now; every other file is tracked again.
    assert_eq!(snapshot(&dir), before);
    let recorded = fs::read_to_string(&state).unwrap();
    assert!(!recorded.contains("\"README.md\""));
    assert!(recorded.contains("\"docs/ARCHITECTURE.md\""));
    regenerate(&dir).success();
    bin()
        .current_dir(&dir)
        .args(["generate", "--adopt"])
        .assert()
        .code(2)
        .stderr(contains("has a readable state"));
    // A blueprint change reaches the adopted files as to any generated file.
    edit_blueprint(&dir, "name: auth", "name: authn");
    regenerate(&dir).success();
    let arch = fs::read_to_string(dir.join("docs/ARCHITECTURE.md")).unwrap();
    assert!(arch.contains("authn"));
}
