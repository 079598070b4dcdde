//! What the generating commands tell, through the real binary: the `--format json` summary,
//! `--verbose`, the progress indicator (only in a terminal) and colour (only in a terminal, never
//! with `NO_COLOR`).

mod support;

use assert_cmd::Command;
use expectrl::{Eof, Expect, Session};
use predicates::str::contains;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_codex-system-design");

fn bin() -> Command {
    let mut c = support::cli::bin();
    c.env_remove("NO_COLOR");
    c
}

/// Stdout must be exactly one JSON document.
fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(out)
        )
    })
}

/// The generated files on disk (without the blueprint and the state folder).
fn generated_files(dir: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| p != "blueprint.yaml" && !p.starts_with(".codex-system-design/"))
        .collect()
}

fn files_with(v: &Value, action: &str) -> BTreeSet<String> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["action"] == action)
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn json_summary_counts_a_fresh_generation_then_a_no_op_regeneration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("shop");
    let fresh = bin()
        .args([
            "--type",
            "microservices",
            "--scale",
            "medium",
            "--format",
            "json",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(fresh.stderr.is_empty(), "{:?}", fresh.stderr);
    let v = json(&fresh.stdout);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["name"], "shop");
    assert_eq!(v["type"], "microservices");
    assert_eq!(v["scale"], "medium");
    assert_eq!(v["mode"], "write");
    assert_eq!(v["written"], true);
    assert_eq!(v["out"], out.display().to_string());
    assert_eq!(v["error"], Value::Null);
    let on_disk = generated_files(&out);
    assert!(on_disk.len() > 100, "{}", on_disk.len());
    assert_eq!(files_with(&v, "created"), on_disk);
    assert_eq!(v["files"].as_array().unwrap().len(), on_disk.len());
    assert_eq!(v["counts"]["created"], on_disk.len());
    let total: u64 = v["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, on_disk.len() as u64);
    assert_eq!(v["conflicts"], serde_json::json!([]));
    // The example's notes (logical references) travel in the document, shaped as `validate` has them.
    for d in v["diagnostics"].as_array().unwrap() {
        assert!(d["code"].is_string() && d["severity"].is_string(), "{d}");
    }

    let again = bin()
        .args(["generate", "--format", "json", "-f"])
        .arg(out.join("blueprint.yaml"))
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&again.stdout);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["counts"]["created"], 0);
    assert_eq!(v["counts"]["updated"], 0);
    assert_eq!(v["counts"]["unchanged"], on_disk.len());
    assert_eq!(files_with(&v, "unchanged"), on_disk);
}

#[test]
fn json_summary_of_a_stale_tree_under_check_exits_1_and_names_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("shop");
    bin().args(["-q", "--out"]).arg(&out).assert().success();
    std::fs::remove_file(out.join("README.md")).unwrap();
    let edited = out.join("deploy/compose/docker-compose.yml");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, format!("# mine\n{text}")).unwrap();
    let run = bin()
        .current_dir(&out)
        .args(["generate", "--check", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v = json(&run.stdout);
    assert_eq!(v["status"], "stale");
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["mode"], "check");
    assert_eq!(v["written"], false);
    assert_eq!(
        files_with(&v, "recreated"),
        BTreeSet::from(["README.md".to_owned()])
    );
    assert_eq!(
        files_with(&v, "edited"),
        BTreeSet::from(["deploy/compose/docker-compose.yml".to_owned()])
    );
    assert_eq!(v["counts"]["recreated"], 1);
    assert!(!out.join("README.md").exists(), "--check writes nothing");
}

#[test]
fn json_summary_of_an_invalid_blueprint_carries_its_diagnostics() {
    let tmp = tempfile::tempdir().unwrap();
    let bp = tmp.path().join("blueprint.yaml");
    std::fs::write(
        &bp,
        "version: 1\nname: shop\nservices:\n  orders:\n    language: python\n    depends_on: [paymnts]\n",
    )
    .unwrap();
    let run = bin()
        .args(["generate", "--dry-run", "--format", "json", "-f"])
        .arg(&bp)
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v = json(&run.stdout);
    assert_eq!(v["status"], "invalid");
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["mode"], "dry_run");
    assert_eq!(v["written"], false);
    assert_eq!(v["name"], Value::Null);
    assert_eq!(v["files"], serde_json::json!([]));
    let unknown = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E0110")
        .expect("the unknown dependency is reported");
    assert_eq!(unknown["line"], 6);
    assert_eq!(unknown["path"], "services.orders.depends_on[0]");
    assert!(unknown["help"].is_string(), "{unknown}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn json_summary_of_an_io_failure_exits_2_with_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let run = bin()
        .current_dir(tmp.path())
        .args(["generate", "--format", "json", "-f", "missing.yaml"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let v = json(&run.stdout);
    assert_eq!(v["status"], "error");
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"].as_str().unwrap().contains("missing.yaml"), "{v}");
}

#[test]
fn json_and_diff_both_want_stdout_and_are_refused_together() {
    bin()
        .args(["generate", "--diff", "--format", "json"])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
}

#[test]
fn verbose_lists_every_file_and_the_stage_timings_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("shop");
    let run = bin()
        .args(["-v", "--out"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8(run.stderr).unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    let n = generated_files(&out).len();
    assert!(err.contains(&format!("files ({n}):\n")), "{err}");
    assert!(err.contains("\n  created    README.md\n"), "{err}");
    assert!(
        err.contains("\n  created    deploy/k8s/base/kustomization.yaml\n"),
        "{err}"
    );
    let stages = [
        "parse+validate",
        "resolve",
        "plan",
        "render",
        "compare",
        "write",
        "total",
    ];
    let timings = &err[err.find("timings:\n").expect("timings on stderr")..];
    for stage in stages {
        let line = timings
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{stage} ")))
            .unwrap_or_else(|| panic!("no `{stage}` timing in\n{timings}"));
        // Wall time, CPU time and resident memory (the peak on the total line).
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cols[2..],
            ["ms", cols[3], "ms", "CPU", cols[6], "MiB"],
            "{line}"
        );
        for n in [cols[1], cols[3], cols[6]] {
            assert!(n.parse::<f64>().is_ok(), "{line}");
        }
    }
    // The summary stays on stdout, as without -v.
    assert!(stdout.starts_with("Generated shop "), "{stdout}");
    assert!(!stdout.contains("timings"), "{stdout}");

    bin()
        .current_dir(&out)
        .args(["generate", "--verbose"])
        .assert()
        .success()
        .stderr(contains("\n  unchanged  README.md\n"))
        .stderr(contains("timings:\n  parse+validate "));
}

#[test]
fn quiet_and_verbose_are_refused_together() {
    for args in [
        &["-q", "-v"][..],
        &["generate", "--quiet", "--verbose"],
        &["init", "--yes", "-q", "-v"],
    ] {
        let tmp = tempfile::tempdir().unwrap();
        bin()
            .current_dir(tmp.path())
            .args(args)
            .assert()
            .code(2)
            .stderr(contains("cannot be used with"));
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{args:?}"
        );
    }
}

/// A blueprint whose generation takes well over the indicator's delay, even in a release build.
fn long_blueprint(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("big.yaml");
    std::fs::write(&path, support::synth::blueprint(60)).unwrap();
    path
}

/// Everything a run prints in a pseudo-terminal (stdout and stderr together) and its exit code.
fn in_terminal(dir: &Path, args: &[&str], no_color: bool) -> (String, i32) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(120)));
    let seen = s.expect(Eof).expect("the run ends");
    let text = String::from_utf8_lossy(seen.get(0).unwrap_or_default()).into_owned();
    let code = match s.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    };
    (text, code)
}

#[test]
fn progress_indicator_is_drawn_in_a_terminal_but_never_into_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let bp = long_blueprint(tmp.path());
    let bp = bp.to_str().unwrap();

    let (screen, code) = in_terminal(tmp.path(), &["--blueprint", bp, "--out", "tty"], false);
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains(" files ("),
        "the indicator names the stage:\n{screen}"
    );
    assert!(screen.contains("\x1b[2K"), "the indicator redraws its line");
    // It is cleared before the summary, which starts on a clean line.
    assert!(screen.contains("\x1b[2KGenerated synthetic "), "{screen}");
    // 61 services: the summary names the first ten and counts the rest.
    assert!(
        screen.contains(
            "Services: gateway, s001, s002, s003, s004, s005, s006, s007, s008, s009, … and 51 more"
        ),
        "{screen}"
    );

    let (screen, code) = in_terminal(
        tmp.path(),
        &["-q", "--blueprint", bp, "--out", "quiet"],
        false,
    );
    assert_eq!(code, 0, "{screen}");
    assert_eq!(screen, "", "--quiet draws nothing");

    let piped = bin()
        .args(["--blueprint", bp, "--out"])
        .arg(tmp.path().join("piped"))
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&piped.stderr);
    let stdout = String::from_utf8_lossy(&piped.stdout);
    for text in [&*err, &*stdout] {
        assert!(!text.contains('\r') && !text.contains('\x1b'), "{text:?}");
        assert!(
            !text.contains("rendering") && !text.contains("files ("),
            "{text}"
        );
    }
}

#[test]
fn diagnostics_are_coloured_in_a_terminal_unless_no_color_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("blueprint.yaml"),
        "version: 1\nname: shop\nservices:\n  orders:\n    language: python\n    depends_on: [paymnts]\n",
    )
    .unwrap();
    let (screen, code) = in_terminal(tmp.path(), &["generate"], false);
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("\x1b[1;31merror[E0110]\x1b[0m"),
        "{screen:?}"
    );
    let (screen, code) = in_terminal(tmp.path(), &["generate"], true);
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("error[E0110]"), "{screen}");
    assert!(!screen.contains('\x1b'), "{screen:?}");
}

/// Whether `text` holds an SGR (colour or bold) escape; the indicator's line clearing is not one.
fn has_colour(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|rest| {
        let params = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
        params.starts_with('m')
    })
}

#[test]
fn summary_plan_and_check_print_no_colour_even_in_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let (screen, code) = in_terminal(tmp.path(), &["--out", "shop"], false);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Generated shop"), "{screen}");
    assert!(!has_colour(&screen), "{screen:?}");
    let shop = tmp.path().join("shop");
    for args in [&["plan"][..], &["check"], &["generate", "--check"]] {
        let (screen, code) = in_terminal(&shop, args, false);
        assert_eq!(code, 0, "{args:?}: {screen}");
        assert!(!has_colour(&screen), "{args:?}: {screen:?}");
    }
}

#[test]
fn wizard_prompts_are_coloured_in_a_terminal_unless_no_color_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    for no_color in [false, true] {
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("init")
            .current_dir(tmp.path())
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let mut s = Session::spawn(cmd).expect("spawn in a pty");
        s.set_expect_timeout(Some(Duration::from_secs(30)));
        let prompt = s.expect("(my-system)").expect("the first question");
        let screen = String::from_utf8_lossy(prompt.before()).into_owned();
        assert_eq!(
            has_colour(&screen),
            !no_color,
            "NO_COLOR={no_color}: {screen:?}"
        );
        s.send("\x03").unwrap();
        let _ = s.expect(Eof);
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
