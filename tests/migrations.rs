//! PRODUCT §11.2: every deployment applies the migrations itself, with dbmate, before new code
//! serves; the migration files are in the layout dbmate reads as is.

mod support;

use codex_system_design::error::Outcome;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use support::project::{Project, Tree};

fn generate(arch: &str) -> (Tree, PathBuf) {
    let tree = Project::example("ecommerce")
        .arch(arch)
        .scale("medium")
        .generate();
    let out = tree.path().to_path_buf();
    (tree, out)
}

fn yaml(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The databases: the folders under `migrations/`.
fn databases(out: &Path) -> Vec<String> {
    let mut dbs: Vec<String> = fs::read_dir(out.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    dbs.sort();
    assert!(!dbs.is_empty());
    dbs
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[test]
fn every_migration_is_one_dbmate_file_with_an_up_then_a_down_block() {
    for arch in ["microservices", "monolith", "serverless"] {
        let (_tmp, out) = generate(arch);
        for db in databases(&out) {
            let names: Vec<String> = fs::read_dir(out.join("migrations").join(&db))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            assert_eq!(names, ["001_init.sql"], "{arch} {db}");
            let text =
                fs::read_to_string(out.join("migrations").join(&db).join(&names[0])).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let up = lines.iter().position(|l| *l == "-- migrate:up");
            let down = lines.iter().position(|l| *l == "-- migrate:down");
            assert!(
                matches!((up, down), (Some(u), Some(d)) if u < d),
                "{arch} {db}: {text}"
            );
            let (up_block, down_block) = text.split_once("-- migrate:down").unwrap();
            assert!(up_block.contains("CREATE TABLE"), "{arch} {db}");
            assert!(down_block.contains("DROP TABLE IF EXISTS"), "{arch} {db}");
            assert!(!down_block.contains("CREATE TABLE"), "{arch} {db}");
        }
    }
}

#[test]
fn compose_runs_a_migrate_service_per_database_that_every_app_of_it_waits_for() {
    for arch in ["microservices", "monolith"] {
        let (_tmp, out) = generate(arch);
        let compose = yaml(&out.join("deploy/compose/docker-compose.yml"));
        let services = compose["services"].as_object().unwrap();
        let dbs = databases(&out);
        if arch == "monolith" {
            assert_eq!(dbs.len(), 1);
        }
        for db in &dbs {
            let name = format!("{db}-migrate");
            let s = services
                .get(&name)
                .unwrap_or_else(|| panic!("{arch}: no compose service {name}"));
            let image = str_of(&s["image"]);
            assert!(
                image.starts_with("ghcr.io/amacneil/dbmate:2.") && !image.ends_with(":latest"),
                "{image}"
            );
            let command: Vec<&str> = s["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(str_of)
                .collect();
            assert_eq!(
                command,
                [
                    "--wait",
                    "--no-dump-schema",
                    "--migrations-dir",
                    "/db/migrations",
                    "up"
                ]
            );
            let volumes: Vec<&str> = s["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .map(str_of)
                .collect();
            assert_eq!(
                volumes,
                [format!("../../migrations/{db}:/db/migrations:ro")]
            );
            assert!(
                out.join("migrations")
                    .join(db)
                    .join("001_init.sql")
                    .is_file()
            );
            assert_eq!(s["depends_on"][db.as_str()]["condition"], "service_healthy");
            let url = str_of(&s["environment"]["DATABASE_URL"]);
            assert!(url.ends_with("?sslmode=disable"), "{url}");
            // The apps' URL, and every app with that URL waits for the run to complete.
            let app_url = url.trim_end_matches("?sslmode=disable");
            let apps: Vec<(&String, &Value)> = services
                .iter()
                .filter(|(_, a)| a["environment"]["DATABASE_URL"].as_str() == Some(app_url))
                .collect();
            assert!(!apps.is_empty(), "{arch}: no app uses {app_url}");
            for (app, a) in apps {
                assert_eq!(
                    a["depends_on"][name.as_str()]["condition"],
                    "service_completed_successfully",
                    "{arch}: {app} does not wait for {name}"
                );
            }
        }
        // No app reaches a database without its migrate service.
        for (app, a) in services {
            if let Some(url) = a["environment"]["DATABASE_URL"].as_str()
                && !app.ends_with("-migrate")
            {
                let host = url.split('@').nth(1).unwrap().split(':').next().unwrap();
                assert_eq!(
                    a["depends_on"][format!("{host}-migrate").as_str()]["condition"],
                    "service_completed_successfully",
                    "{arch}: {app}"
                );
            }
        }
    }
}

/// The steps of a deploy job, by name.
fn step_names(job: &Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn step<'a>(job: &'a Value, prefix: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no step {prefix}"))
}

#[test]
fn kubernetes_runs_a_migration_job_per_database_and_the_deploy_waits_for_it_before_the_rollout() {
    for arch in ["microservices", "monolith"] {
        let (_tmp, out) = generate(arch);
        let dbs = databases(&out);
        let base = out.join("deploy/k8s/migrations/base");
        let kustomization = yaml(&base.join("kustomization.yaml"));
        let resources: BTreeSet<&str> = kustomization["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(str_of)
            .collect();
        let mut repositories = Vec::new();
        for db in &dbs {
            assert!(
                resources.contains(format!("{db}.yaml").as_str()),
                "{arch} {db}"
            );
            let job = yaml(&base.join(format!("{db}.yaml")));
            assert_eq!(job["kind"], "Job");
            assert_eq!(job["metadata"]["name"], format!("{db}-migrate").as_str());
            let pod = &job["spec"]["template"];
            assert_eq!(
                pod["metadata"]["annotations"]["sidecar.istio.io/inject"],
                "false"
            );
            assert_eq!(pod["spec"]["restartPolicy"], "Never");
            assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
            let c = &pod["spec"]["containers"][0];
            assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
            assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
            let secret = &c["env"][0]["valueFrom"]["secretKeyRef"];
            assert_eq!(c["env"][0]["name"], "DATABASE_URL");
            assert_eq!(secret["name"], format!("{db}-credentials").as_str());
            assert_eq!(secret["key"], "DATABASE_URL");
            let image = str_of(&c["image"]);
            repositories.push(image.split(':').next().unwrap().to_owned());
        }
        // Its image is dbmate with the folder baked in, built by the deploy workflow.
        let dockerfile = fs::read_to_string(out.join("deploy/k8s/migrations/Dockerfile")).unwrap();
        assert!(
            dockerfile.contains("FROM ghcr.io/amacneil/dbmate:2."),
            "{dockerfile}"
        );
        assert!(
            dockerfile.contains("COPY *.sql /db/migrations/"),
            "{dockerfile}"
        );
        let deploy = yaml(&out.join(".github/workflows/deploy.yml"));
        let matrix = deploy["jobs"]["images"]["strategy"]["matrix"]["include"]
            .as_array()
            .unwrap();
        for (db, repo) in dbs.iter().zip(&repositories) {
            assert!(
                matrix.iter().any(|m| m["image"] == repo.as_str()
                    && m["path"] == format!("migrations/{db}").as_str()
                    && m["dockerfile"] == "deploy/k8s/migrations/Dockerfile"),
                "{arch}: {repo} is not built"
            );
        }
        let terraform = fs::read_to_string(out.join("infra/terraform/main.tf")).unwrap();
        for repo in &repositories {
            assert!(
                terraform.contains(&format!("\"{repo}\"")),
                "{repo} has no ECR repository"
            );
        }
        // Per environment: the Jobs go first, are awaited, and a failure stops the deploy.
        let envs: Vec<String> = fs::read_dir(out.join("deploy/k8s/overlays"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!envs.is_empty());
        for env in envs {
            let overlay = yaml(&out.join(format!(
                "deploy/k8s/migrations/overlays/{env}/kustomization.yaml"
            )));
            assert_eq!(overlay["resources"][0], "../../base");
            let job = &deploy["jobs"][format!("deploy-{env}").as_str()];
            let names = step_names(job);
            let migrate = names
                .iter()
                .position(|n| n.starts_with("Migrate databases"));
            let rollout = names.iter().position(|n| n.starts_with("kustomize apply"));
            let secrets = names
                .iter()
                .position(|n| n.starts_with("Database credentials"));
            assert!(
                matches!((secrets, migrate, rollout), (Some(s), Some(m), Some(r)) if s < m && m < r),
                "{arch} {env}: {names:?}"
            );
            let m = step(job, "Migrate databases");
            assert_eq!(
                m["working-directory"],
                format!("deploy/k8s/migrations/overlays/{env}").as_str()
            );
            let run = str_of(&m["run"]);
            assert!(run.contains("kubectl apply -k ."), "{run}");
            for db in &dbs {
                assert!(run.contains(&format!(" {db}-migrate")), "{run}");
            }
            assert!(run.contains("wait --for=condition=complete"), "{run}");
            assert!(run.contains("exit 1"), "{run}");
        }
    }
}

#[test]
fn serverless_deploy_creates_the_databases_then_migrates_them_before_updating_the_functions() {
    let (_tmp, out) = generate("serverless");
    let dbs = databases(&out);
    let deploy = yaml(&out.join(".github/workflows/deploy.yml"));
    let jobs = deploy["jobs"].as_object().unwrap();
    let deploys: Vec<&Value> = jobs
        .iter()
        .filter(|(k, _)| k.starts_with("deploy-"))
        .map(|(_, v)| v)
        .collect();
    assert!(!deploys.is_empty());
    for job in deploys {
        let names = step_names(job);
        let migrate = names
            .iter()
            .position(|n| n.starts_with("Migrate databases"));
        let databases = names
            .iter()
            .position(|n| n.starts_with("terraform apply, databases only"));
        let apply = names
            .iter()
            .position(|n| n.starts_with("terraform apply ("));
        assert!(
            matches!((databases, migrate, apply), (Some(d), Some(m), Some(a)) if d < m && m < a),
            "{names:?}"
        );
        let targets = str_of(&step(job, "terraform apply, databases only")["run"]);
        for db in &dbs {
            let module = format!("-target=module.database_{}", db.replace('-', "_"));
            assert!(targets.contains(&module), "{module}: {targets}");
        }
        let run = str_of(&step(job, "Migrate databases")["run"]);
        assert!(run.contains("ghcr.io/amacneil/dbmate:2."), "{run}");
        assert!(
            run.contains("migrate\n") || run.contains(" migrate\n"),
            "{run}"
        );
        for db in &dbs {
            assert!(run.contains(&format!(" migrations/{db}\n")), "{db}: {run}");
        }
    }
}

#[test]
fn ci_and_the_service_tests_apply_the_dbmate_files() {
    let (_tmp, out) = generate("microservices");
    let ci = fs::read_to_string(out.join(".github/workflows/ci.yml")).unwrap();
    assert!(ci.contains("ghcr.io/amacneil/dbmate:2."), "{ci}");
    assert!(!ci.contains("V*.sql"), "{ci}");
    let conftest = fs::read_to_string(out.join("services/orders/tests/conftest.py")).unwrap();
    assert!(conftest.contains("\"-- migrate:up\""), "{conftest}");
    assert!(conftest.contains("\"-- migrate:down\""), "{conftest}");
    assert!(conftest.contains("glob(\"[0-9]*_*.sql\")"), "{conftest}");
}

/// The statement block of `table` in a migration: from its `CREATE TABLE` to the blank line.
fn create_block(sql: &str, table: &str) -> String {
    let start = sql
        .find(&format!("CREATE TABLE \"{table}\" ("))
        .unwrap_or_else(|| panic!("no CREATE TABLE {table} in:\n{sql}"));
    let rest = &sql[start..];
    rest[..rest.find("\n\n").unwrap_or(rest.len())].to_owned()
}

/// A table added after the first generation is created by its 002 migration exactly as a fresh
/// 001 creates it: identity key, CHECKs, comments and indexes (one source: resolve::ddl).
#[test]
fn a_table_added_later_is_created_as_a_fresh_first_migration_creates_it() {
    let (tree, _) = generate("microservices");
    tree.edit_blueprint(|text| {
        text.replacen("    entities: [Product]\n", "    entities: [Product, Review]\n", 1)
            .replacen(
                "  Product:\n",
                "  Review:\n    fields:\n      id: int pk\n      rating: enum(one, two, three)\n      author_id: ref User\n      body: string(500)\n      created_at: timestamp default now\n    indexes: [[created_at]]\n  Product:\n",
                1,
            )
    });
    assert_eq!(tree.regenerate(), Outcome::Done);
    let later = tree.read("migrations/products-db/002_create_reviews.sql");
    let first = Project::text(tree.read("blueprint.yaml"))
        .generate()
        .read("migrations/products-db/001_init.sql");
    let block = create_block(&later, "reviews");
    assert_eq!(block, create_block(&first, "reviews"));
    for part in [
        "\"id\" INTEGER GENERATED BY DEFAULT AS IDENTITY NOT NULL",
        "CHECK (\"rating\" IN ('one', 'two', 'three'))",
        "COMMENT ON COLUMN \"reviews\".\"author_id\" IS 'Logical reference",
        "CREATE INDEX",
    ] {
        assert!(block.contains(part), "{part} missing from:\n{block}");
    }
}

#[test]
fn fields_named_like_sql_keywords_are_quoted_in_every_migration() {
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("blueprint.yaml");
    let text = codex_system_design::assets::example("auth-service").unwrap();
    let with = |extra: &str| {
        text.replacen(
            "      locked: bool default false\n",
            &format!("      locked: bool default false\n{extra}"),
            1,
        )
    };
    let generate = || {
        support::cli::bin()
            .args(["generate", "-q", "-f"])
            .arg(&bp)
            .assert()
            .success();
    };
    fs::write(&bp, with("      order: int nullable\n")).unwrap();
    generate();
    fs::write(
        &bp,
        with("      order: int nullable\n      full: bool default false\n      current_date: date nullable\n"),
    )
    .unwrap();
    generate();
    let dir = dir.path().join("migrations/identity-db");
    let init = fs::read_to_string(dir.join("001_init.sql")).unwrap();
    assert!(init.contains("    \"order\" INTEGER,"), "{init}");
    let added = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("002_"))
        .expect("a 002 migration");
    let sql = fs::read_to_string(added).unwrap();
    for name in ["full", "current_date"] {
        assert!(sql.contains(&format!("ADD COLUMN \"{name}\" ")), "{sql}");
        assert!(
            sql.contains(&format!("DROP COLUMN IF EXISTS \"{name}\";")),
            "{sql}"
        );
    }
    assert!(
        !sql.contains(" full ") && !sql.contains(" current_date "),
        "{sql}"
    );
}

/// A database whose services start publishing gets the event tables (outbox, processed ids) in
/// its next migration, as a fresh first migration would create them.
#[test]
fn a_database_that_starts_publishing_gets_the_event_tables_in_a_later_migration() {
    let (_tmp, out) = generate("microservices");
    assert!(
        !fs::read_to_string(out.join("migrations/products-db/001_init.sql"))
            .unwrap()
            .contains("\"outbox\"")
    );
    let blueprint = out.join("blueprint.yaml");
    let text = fs::read_to_string(&blueprint)
        .unwrap()
        .replacen(
            "    entities: [Product]\n",
            "    entities: [Product]\n    publishes: [product.listed]\n",
            1,
        )
        .replacen(
            "    user.registered: {}\n",
            "    user.registered: {}\n    product.listed: {}\n",
            1,
        );
    fs::write(&blueprint, text).unwrap();
    support::cli::bin()
        .current_dir(&out)
        .args(["generate", "-q"])
        .assert()
        .success();
    let later = fs::read_dir(out.join("migrations/products-db"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("002_"))
        .expect("a 002 migration");
    let later = fs::read_to_string(later).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    support::cli::bin()
        .arg("--blueprint")
        .arg(&blueprint)
        .args(["-q", "--out"])
        .arg(fresh.path())
        .assert()
        .success();
    let first =
        fs::read_to_string(fresh.path().join("migrations/products-db/001_init.sql")).unwrap();
    for table in ["outbox", "processed_events"] {
        assert_eq!(create_block(&later, table), create_block(&first, table));
    }
}
