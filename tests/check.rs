//! `check [DIR]`: broken cross-references are reported with file, line and help; exit codes.

mod support;

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::path::Path;
use support::cli::bin;
use support::project::{Project, Tree};

fn generated(example: &str, arch: &str) -> Tree {
    Project::example(example).arch(arch).generate()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn generated_trees_are_clean() {
    let mut trees: Vec<Tree> = Vec::new();
    for ex in ["ecommerce", "auth-service", "event-orders"] {
        for arch in ["microservices", "monolith", "serverless"] {
            trees.push(generated(ex, arch));
        }
    }
    trees.push(generated("polyglot-shop", "microservices"));
    trees.push(generated("serverless-notes", "serverless"));
    // The fixtures the system test runs: TypeScript in every type (its events through each broker,
    // and on MySQL), MySQL in a monolith.
    for fixture in [
        "polyglot/polyglot.yaml",
        "polyglot/polyglot-mysql.yaml",
        "polyglot/polyglot-kafka.yaml",
        "polyglot/polyglot-sqs.yaml",
        "polyglot/polyglot-serverless.yaml",
        "polyglot/polyglot-serverless-dynamodb.yaml",
        "valid/mysql-monolith.yaml",
        "valid/typescript-monolith.yaml",
    ] {
        trees.push(Project::fixture(fixture).generate());
    }
    for dir in &trees {
        bin()
            .arg("check")
            .arg(dir.path())
            .assert()
            .code(0)
            .stdout(contains("every reference resolves"));
    }
}

#[test]
fn checking_the_current_folder_places_overlay_namespaces_like_checking_its_path() {
    let dir = generated("ecommerce", "microservices");
    // `check` with no argument walks `./deploy/...`; the overlays still place every object.
    bin()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .code(0)
        .stdout(contains("every reference resolves"));
    bin()
        .current_dir(dir.path().join("deploy"))
        .args(["check", "../deploy/./k8s/.."])
        .assert()
        .code(0)
        .stdout(contains("every reference resolves"));
}

#[test]
fn hand_edited_subset_label_is_reported_at_its_line() {
    let dir = generated("ecommerce", "microservices");
    let dr = dir.path().join("deploy/istio/dev/destination-rules.yaml");
    edit(&dr, "version: v2", "version: v3");
    let line = std::fs::read_to_string(&dr)
        .unwrap()
        .lines()
        .position(|l| l.contains("version: v3"))
        .unwrap()
        + 1;
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("subset `v2` selects"))
        .stderr(contains(format!(
            "deploy/istio/dev/destination-rules.yaml:{}",
            line
        )))
        .stderr(contains("help:"));
}

#[test]
fn renamed_service_breaks_hosts_addresses_and_compose() {
    let dir = generated("ecommerce", "microservices");
    edit(
        &dir.path().join("deploy/k8s/base/users/service.yaml"),
        "name: users\n",
        "name: user\n",
    );
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("USERS_URL points at `users`, which is no Service"))
        .stderr(contains(
            "VirtualService `users`: host `users` is no Service",
        ))
        .stderr(contains(
            "compose service `users` has no Kubernetes Service",
        ))
        .stderr(contains("did you mean"));
}

#[test]
fn wrong_port_in_config_map_is_reported() {
    let dir = generated("ecommerce", "microservices");
    edit(
        &dir.path().join("deploy/k8s/base/orders/config-map.yaml"),
        "http://products:8080",
        "http://products:9999",
    );
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("uses port 9999 of Service `products`"));
}

#[test]
fn plain_manifest_folder_with_a_dangling_selector_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: wbe\n  template:\n    metadata:\n      labels:\n        app: wbe\n    spec:\n      serviceAccountName: web\n      containers:\n        - name: web\n          image: nginx:1.27\n",
    )
    .unwrap();
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("app.yaml:7:"))
        .stderr(contains("selector app=web matches no pod"))
        .stderr(contains("service account `web`, which does not exist"));
}

#[test]
fn invalid_yaml_is_a_finding_and_missing_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "a: [1, 2\n").unwrap();
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("error[C001]"))
        .stderr(contains("bad.yaml"))
        .stderr(contains("not valid YAML"));
    bin()
        .arg("check")
        .arg(dir.path().join("missing"))
        .assert()
        .code(2)
        .stderr(contains("not a directory"));
}

#[test]
fn monolith_ingress_backend_and_missing_kustomize_resource_are_reported() {
    let dir = generated("ecommerce", "monolith");
    edit(
        &dir.path().join("deploy/k8s/base/ingress.yaml"),
        "name: shop-app",
        "name: shop-api",
    );
    edit(
        &dir.path().join("deploy/k8s/base/kustomization.yaml"),
        "  - namespace.yaml",
        "  - namespaces.yaml",
    );
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains(
            "Ingress `shop-gateway` routes to `shop-api`, which is no Service",
        ))
        .stderr(contains("did you mean `shop-app`?"))
        .stderr(contains(
            "error[C002]: kustomization resource `namespaces.yaml` does not exist",
        ));
}

/// One folder per rule under tests/fixtures/check/<rule>/: `bad/` triggers exactly the listed
/// codes (and exits 1 when one is an error), `good/` — the same objects written correctly,
/// including the forms that must not raise a false alarm — is clean.
#[test]
fn each_rule_fires_on_its_bad_fixture_and_its_good_fixture_is_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check");
    let table: &[(&str, &[&str], i32)] = &[
        ("env-address", &["C007", "C008"], 1),
        ("target-port", &["C021"], 1),
        ("own-selector", &["C024"], 1),
        ("weights", &["C022"], 1),
        ("routes", &["C009", "C010"], 1),
        ("removed-api", &["C023"], 1),
        ("config-refs", &["C006"], 0),
        ("operator", &["C007"], 1),
        ("namespaces", &["C007", "C008"], 1),
        ("istio", &["C003", "C011", "C015"], 1),
        ("workloads", &["C004", "C005"], 1),
        ("istio-routes", &["C012", "C013", "C014"], 1),
        ("compose", &["C016", "C017"], 1),
        ("probes", &["C025"], 1),
        ("terraform", &["C026", "C027", "C029"], 1),
        ("terraform-syntax", &["C028"], 1),
        // Only a chart's `templates/` (Go templates) is skipped; other YAML is still read.
        ("helm", &["C001"], 1),
    ];
    for (rule, codes, exit) in table {
        let out = bin()
            .arg("check")
            .arg(root.join(rule).join("bad"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*exit), "{rule}/bad:\n{text}");
        let mut seen: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once("]: ").map(|(head, _)| head))
            .filter_map(|h| h.split_once('[').map(|(_, code)| code))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(&seen, codes, "{rule}/bad:\n{text}");
        assert!(text.contains("help: "), "{rule}/bad lacks help:\n{text}");
        bin()
            .arg("check")
            .arg(root.join(rule).join("good"))
            .assert()
            .code(0)
            .stdout(contains("every reference resolves"));
    }
}

#[test]
fn findings_carry_code_severity_and_position() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check");
    bin()
        .arg("check")
        .arg(root.join("target-port/bad"))
        .assert()
        .code(1)
        .stderr(contains(
            "error[C021]: Service `web`: targetPort `htp` is no container port of Deployment `web`\n  --> app.yaml:11:19\n  help: did you mean `http`?",
        ));
    bin()
        .arg("check")
        .arg(root.join("config-refs/bad"))
        .assert()
        .code(0)
        .stderr(contains(
            "warning[C006]: Deployment `web` reads Secret `web-tls`",
        ))
        .stderr(contains("0 error(s) and 4 warning(s)"));
}

#[test]
fn compose_parity_runs_in_generated_projects_or_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  ports:\n    - port: 80\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  site:\n    image: nginx:1.27\n    environment:\n      WEB_URL: http://web:8080\n  web:\n    image: nginx:1.27\n",
    )
    .unwrap();
    // A hand-made folder whose compose file was never meant to mirror the cluster: no alarm.
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(contains("every reference resolves"));
    bin()
        .args(["check", "--parity"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains(
            "error[C018]: compose service `site`: WEB_URL uses port 8080 of `web`",
        ))
        .stderr(contains("error[C019]: compose service `site`"))
        .stderr(contains("error[C020]: Kubernetes Service `api`"));
    // The state folder of a generated project turns the comparison on.
    std::fs::create_dir(dir.path().join(".codex-system-design")).unwrap();
    std::fs::write(dir.path().join(".codex-system-design/state.json"), "{}").unwrap();
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("[C019]"));
}

#[test]
fn generated_secrets_written_by_external_secrets_or_ci_are_not_reported() {
    let dir = generated("ecommerce", "microservices");
    let rename = |rel: &str| {
        let path = dir.path().join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("orders-db-credentials"), "{rel}");
        std::fs::write(
            &path,
            text.replace("orders-db-credentials", "orders-db-creds"),
        )
        .unwrap();
    };
    for env in ["dev", "staging", "prod"] {
        rename(&format!(
            "deploy/k8s/migrations/overlays/{env}/credentials.yaml"
        ));
    }
    // No ExternalSecret writes it now, but the deploy workflow still names it: made by CI.
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicates::str::contains("orders-db-credentials").not());
    rename(".github/workflows/deploy.yml");
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(contains(
            "warning[C006]: Job `orders-db-migrate` reads Secret `orders-db-credentials`, which is not in this folder",
        ));
}

#[test]
fn readme_lists_every_check_code_with_its_severity() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for c in codex_system_design::check::codes::CODES {
        let row = format!("| {} | {} |", c.code, c.severity.as_str());
        assert!(readme.contains(&row), "README lacks the row `{row} …`");
        // Each code is exercised by a test of this file (most through the fixture table).
        let quoted = format!("\"{}\"", c.code);
        let bracketed = format!("[{}]", c.code);
        let this = include_str!("check.rs");
        assert!(
            this.contains(&quoted) || this.contains(&bracketed),
            "no test here reports {}",
            c.code
        );
    }
}

#[test]
fn json_and_sarif_formats_carry_codes_severities_and_positions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check");
    let out = bin()
        .args(["check", "--format", "json"])
        .arg(root.join("config-refs/bad"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["code"], "C006");
    assert_eq!(items[0]["severity"], "warning");
    assert_eq!(items[0]["file"], "app.yaml");
    assert!(items[0]["line"].as_u64().unwrap() > 0);
    let out = bin()
        .args(["check", "--format", "sarif"])
        .arg(root.join("target-port/bad"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "C021");
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["shortDescription"]["text"],
        "Service targetPort is no container port"
    );
    assert_eq!(run["results"][0]["level"], "error");
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
}

#[test]
fn a_manifest_that_is_not_utf8_is_reported_not_skipped() {
    let dir = generated("auth-service", "microservices");
    let path = dir.path().join("deploy/k8s/base/identity/service.yaml");
    assert!(path.exists());
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    bytes.splice(at..at, b"# caf\xe9\n".iter().copied());
    std::fs::write(&path, bytes).unwrap();
    bin()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("deploy/k8s/base/identity/service.yaml:2:6"))
        .stderr(contains("error[C030]"))
        .stderr(contains("not UTF-8"));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A hand-written project (kustomize base and overlays, plain manifests, Istio, compose,
/// Terraform calling a local module) is clean as written, and each everyday slip in it is
/// reported with its code.
#[test]
fn real_world_project_is_clean_and_its_usual_slips_are_reported() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/real-world");
    bin()
        .arg("check")
        .arg(&src)
        .assert()
        .code(0)
        .stdout(contains("every reference resolves"));
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&src, dir.path());
    let p = |rel: &str| dir.path().join(rel);
    let slips = [
        (
            "deploy/base/checkout/checkout.yaml",
            "catalog:8080",
            "catalog:8081",
            "C008",
        ),
        (
            "deploy/overlays/prod/kustomization.yaml",
            "- namespace.yaml",
            "- ns.yaml",
            "C002",
        ),
        (
            "deploy/base/mesh/catalog-routing.yaml",
            "subset: v1",
            "subset: v2",
            "C013",
        ),
        (
            "deploy/base/catalog/deployment.yaml",
            "port: http",
            "port: web",
            "C025",
        ),
        (
            "infra/main.tf",
            "= var.private_subnet_ids",
            "= var.private_subnets",
            "C026",
        ),
        (
            "infra/outputs.tf",
            "catalog_db.endpoint",
            "catalog_db.address",
            "C027",
        ),
    ];
    for (file, from, to, _) in slips {
        edit(&p(file), from, to);
    }
    let out = bin().arg("check").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for (file, _, _, code) in slips {
        let wanted = format!("error[{code}]");
        let at = text
            .split(&wanted)
            .nth(1)
            .unwrap_or_else(|| panic!("no {code} in:\n{text}"));
        assert!(
            at.lines().nth(1).unwrap_or_default().contains(file),
            "{code}:\n{text}"
        );
    }
}
