//! TypeScript services (issue 21): a `language: typescript` service gets the templates of
//! `templates/lang/typescript/` instead of the Python ones, the same OpenAPI contract and
//! migrations as if it were Python, a lockfile that pins exactly the packages its package.json
//! names, and the Node.js wiring in compose and CI. Their runtime behaviour is proven by their
//! own tests (`node --test`, run by the conformance script against PostgreSQL).

mod support;

use serde_json::Value;
use support::project::Project;

const FIXTURE: &str = "polyglot/polyglot.yaml";

fn exists(tree: &support::project::Tree, rel: &str) -> bool {
    tree.path().join(rel).exists()
}

#[test]
fn a_typescript_service_gets_node_files_and_no_python_ones() {
    let tree = Project::fixture(FIXTURE).generate();
    for f in [
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "eslint.config.js",
        "Dockerfile",
        "src/app.ts",
        "src/crud.ts",
        "test/api.test.ts",
    ] {
        assert!(exists(&tree, &format!("services/catalog/{f}")), "{f}");
    }
    for f in [
        "app/main.py",
        "pyproject.toml",
        "requirements.txt",
        "tests/conftest.py",
    ] {
        assert!(!exists(&tree, &format!("services/catalog/{f}")), "{f}");
    }
    // The Python service next to it keeps its Python files.
    assert!(exists(&tree, "services/users/app/main.py"));
    assert!(!exists(&tree, "services/users/package.json"));
    // Only the service whose entities refer to another service's rows tests those checks.
    assert!(exists(&tree, "services/reviews/test/references.test.ts"));
    assert!(!exists(&tree, "services/catalog/test/references.test.ts"));
}

#[test]
fn the_contract_and_migrations_are_the_same_whatever_the_language() {
    let ts = Project::fixture(FIXTURE).generate();
    let py = Project::fixture(FIXTURE)
        .edit(|b| b.replace("language: typescript", "language: python"))
        .generate();
    for rel in [
        "services/catalog/openapi.yaml",
        "services/reviews/openapi.yaml",
        "migrations/catalog-db/001_init.sql",
        "migrations/reviews-db/001_init.sql",
    ] {
        assert_eq!(
            ts.read(rel),
            py.read(rel),
            "{rel} differs between the languages"
        );
    }
}

#[test]
fn the_lockfile_pins_exactly_what_package_json_names() {
    let tree = Project::fixture(FIXTURE).generate();
    let package: Value = serde_json::from_str(&tree.read("services/catalog/package.json")).unwrap();
    let lock: Value =
        serde_json::from_str(&tree.read("services/catalog/package-lock.json")).unwrap();
    assert_eq!(lock["name"], "catalog");
    let root = &lock["packages"][""];
    assert_eq!(root["name"], "catalog");
    for section in ["dependencies", "devDependencies"] {
        assert_eq!(root[section], package[section], "{section}");
        for (name, version) in package[section].as_object().unwrap() {
            let locked = &lock["packages"][format!("node_modules/{name}")]["version"];
            assert_eq!(locked, version, "{name} is locked at another version");
        }
    }
}

#[test]
fn compose_and_ci_run_typescript_services_with_node() {
    let tree = Project::fixture(FIXTURE).generate();
    let compose = tree.read("deploy/compose/docker-compose.yml");
    let catalog = compose.split("\n  catalog:\n").nth(1).unwrap();
    let catalog = catalog.split("\n  reviews:\n").next().unwrap();
    assert!(catalog.contains("\"node\", \"-e\""), "{catalog}");
    let ci = tree.read(".github/workflows/ci.yml");
    let node_job = ci
        .split("\n  node-service:\n")
        .nth(1)
        .expect("a Node.js job");
    let node_job = node_job.split("\n  manifests:\n").next().unwrap();
    assert!(node_job.contains("npm ci") && node_job.contains("npm test"));
    assert!(node_job.contains("path: services/catalog") && !node_job.contains("services/users"));
    let python_job = ci.split("\n  node-service:\n").next().unwrap();
    assert!(python_job.contains("path: services/users"));
    assert!(!python_job.contains("services/catalog"));
}

#[test]
fn the_dockerfile_builds_in_two_stages_and_runs_as_non_root() {
    let tree = Project::fixture(FIXTURE).generate();
    let docker = tree.read("services/catalog/Dockerfile");
    let stages = docker
        .lines()
        .filter(|l| l.starts_with("FROM node:"))
        .count();
    assert_eq!(stages, 2, "{docker}");
    assert!(docker.contains("npm ci --ignore-scripts"));
    assert!(docker.contains("USER 10001:10001"));
}

/// polyglot-shop's catalog is TypeScript on MySQL with a Redis cache: its data layer is mysql2
/// (not pg), it keeps Python's storage forms, its reads by id go through ioredis, and the same
/// service on PostgreSQL without a cache has neither.
#[test]
fn a_typescript_service_on_mysql_with_a_cache_uses_mysql2_and_ioredis() {
    let tree = Project::example("polyglot-shop").generate();
    let db = tree.read("services/catalog/src/db.ts");
    assert!(db.contains("from \"mysql2/promise\""), "{db}");
    assert!(!db.contains("from \"pg\""));
    // UUIDs as 32 hex digits (Python's Uuid(native_uuid=False)) and instants in UTC.
    assert!(db.contains("replaceAll(\"-\", \"\")"));
    assert!(db.contains("SET SESSION time_zone = '+00:00'"));
    let entities = tree.read("services/catalog/src/entities.ts");
    assert!(entities.contains("uuid: [\"id\"],"), "{entities}");
    assert!(entities.contains("json: [\"tags\"],"));
    assert!(entities.contains("cachePrefix: \"catalog:products\","));
    let app = tree.read("services/catalog/src/app.ts");
    assert!(
        app.contains("connect(config.REDIS_URL, config.REDIS_USERNAME, config.REDIS_PASSWORD)")
    );
    let cache_test = tree.read("services/catalog/test/cache.test.ts");
    assert!(cache_test.contains("product: reads by id go through the cache"));
    assert!(cache_test.contains("never answers"));
    let support = tree.read("services/catalog/test/support.ts");
    assert!(support.contains("mysql://root@localhost:3306/catalog_db"));

    let plain = Project::fixture(FIXTURE).generate();
    let db = plain.read("services/catalog/src/db.ts");
    assert!(db.contains("from \"pg\"") && !db.contains("mysql2"));
    let entities = plain.read("services/catalog/src/entities.ts");
    assert!(entities.contains("cachePrefix: null,"));
    assert!(
        !plain
            .read("services/catalog/src/app.ts")
            .contains("REDIS_URL")
    );
}

/// Events both ways through RabbitMQ: the TypeScript catalog writes `product.added` to its outbox
/// in the row's transaction, the TypeScript reviews service consumes the Python users service's
/// `user.registered` and the catalog's topic against their schemas, with the Python services'
/// queue names and metric names; a TypeScript service without events has none of it.
#[test]
fn typescript_services_publish_and_consume_events_like_python_ones() {
    let tree = Project::fixture(FIXTURE).generate();
    let entities = tree.read("services/catalog/src/entities.ts");
    assert!(
        entities.contains("publishes: [\"product.added\"],"),
        "{entities}"
    );
    let events = tree.read("services/catalog/src/events.ts");
    assert!(events.contains("INSERT INTO outbox (event_id, topic, aggregate_key, payload)"));
    assert!(events.contains("pg_try_advisory_xact_lock"));
    let app = tree.read("services/catalog/src/app.ts");
    assert!(app.contains("outbox: events"), "{app}");
    let reviews = tree.read("services/reviews/src/events.ts");
    assert!(reviews.contains("ON CONFLICT DO NOTHING RETURNING event_id"));
    assert!(reviews.contains("\"user.registered\": onUserRegistered,"));
    for metric in [
        "events_published_total",
        "events_outbox_backlog",
        "events_consumed_total",
        "events_consumer_lag",
    ] {
        assert!(reviews.contains(&format!("name: \"{metric}\"")), "{metric}");
    }
    // The same exchanges and queue names as aio-pika's side, so both languages share a broker.
    let python = tree.read("services/users/app/events.py");
    assert!(python.contains("\"events.dlx\"") && reviews.contains("\"events.dlx\""));
    assert!(
        python.contains("name = f\"{group}.{topic}\"") && reviews.contains("`${group}.${topic}`")
    );
    let schemas = tree.read("services/reviews/src/event-schemas.ts");
    assert!(schemas.contains("\"urn:polyglot:events:user.registered\""));
    assert!(schemas.contains("\"urn:polyglot:events:product.added\""));
    assert!(exists(&tree, "services/reviews/test/events.test.ts"));
    let health = tree.read("services/reviews/src/health.ts");
    assert!(health.contains("\"broker\"") && health.contains("checks.broker = status"));

    let quiet = Project::example("polyglot-shop").generate();
    assert!(!exists(&quiet, "services/catalog/src/events.ts"));
    assert!(!exists(&quiet, "services/catalog/test/events.test.ts"));
    assert!(!quiet.read("services/catalog/src/app.ts").contains("Events"));
}
