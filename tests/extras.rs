//! Template overrides, ejection, completions and the man page, through the real binary.

mod support;

use predicates::str::contains;
use support::cli::bin;

#[test]
fn user_templates_replace_and_add_files() {
    let tmp = tempfile::tempdir().unwrap();
    let tpl = tmp.path().join("tpl");
    bin()
        .args(["templates", "eject", "common/README.md", "--to"])
        .arg(&tpl)
        .assert()
        .success();
    let ejected = std::fs::read_to_string(tpl.join("common/README.md")).unwrap();
    assert!(
        ejected.contains("{{ header }}"),
        "eject copies the template source"
    );
    std::fs::write(tpl.join("common/README.md"), "# Custom {{ m.name.raw }}\n").unwrap();
    std::fs::create_dir_all(tpl.join("common/extra")).unwrap();
    std::fs::write(tpl.join("common/extra/scale.txt"), "{{ m.scale }}\n").unwrap();
    let out = tmp.path().join("out");
    bin()
        .args(["-q", "--scale", "large", "--templates"])
        .arg(&tpl)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "# Custom shop\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("extra/scale.txt")).unwrap(),
        "large\n"
    );
    bin()
        .args(["templates", "list", "--templates"])
        .arg(&tpl)
        .assert()
        .success()
        .stdout(contains("common/README.md  (overridden)"))
        .stdout(contains("common/extra/scale.txt  (added)"));
}

#[test]
fn broken_user_template_names_file_and_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let tpl = tmp.path().join("tpl/common");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(tpl.join("bad.yaml"), "a: 1\nb: {{ m.name.raw | nosuch }}\n").unwrap();
    let out = tmp.path().join("out");
    bin()
        .arg("--templates")
        .arg(tmp.path().join("tpl"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("Unknown filter `nosuch`"))
        .stderr(contains("common/bad.yaml:2:"));
    assert!(!out.exists());
}

#[test]
fn eject_refuses_to_overwrite_and_suggests_on_typos() {
    let tmp = tempfile::tempdir().unwrap();
    bin()
        .args(["templates", "eject", "common/README.md", "--to"])
        .arg(tmp.path())
        .assert()
        .success();
    bin()
        .args(["templates", "eject", "common/README.md", "--to"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(contains("not overwriting"));
    bin()
        .args(["templates", "eject", "common/READMe.md", "--to"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(contains("did you mean `common/README.md`"));
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef"),
        ("fish", "complete -c codex-system-design"),
    ] {
        bin()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(contains(marker));
    }
    bin()
        .arg("man")
        .assert()
        .success()
        .stdout(contains(".TH codex-system-design 1"));
}
