//! `check [DIR]`: broken cross-references are reported with file, line and help; exit codes.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::Path;

fn bin() -> Command {
    Command::cargo_bin("codex-system-design").unwrap()
}

fn generated(example: &str, arch: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["--example", example, "--type", arch, "-q", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn generated_trees_are_clean() {
    for (ex, arch) in [
        ("ecommerce", "microservices"),
        ("auth-service", "microservices"),
        ("event-orders", "monolith"),
    ] {
        let dir = generated(ex, arch);
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
            "kustomization resource `namespaces.yaml` does not exist",
        ));
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
        .stderr(contains("not UTF-8"));
}
