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

const MONOLITH: &str = "valid/typescript-monolith.yaml";

/// Every file under `dir` of a tree, relative to the tree, sorted.
fn files_under(tree: &support::project::Tree, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tree.path().join(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(tree.path()).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// A monolith of TypeScript services is one Node.js app: the service files of a TypeScript
/// service, a module file per service that `src/entities.ts` lists, and no Python app, no
/// folder per service.
#[test]
fn a_typescript_monolith_is_one_node_app_with_a_module_per_service() {
    let tree = Project::fixture(MONOLITH).generate();
    let app = "services/library-app";
    let mut expected = vec![
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "Dockerfile",
        "openapi.yaml",
        "src/app.ts",
        "src/entities.ts",
        "src/modules/authors.ts",
        "src/modules/books.ts",
        "test/api.test.ts",
    ];
    expected.sort_unstable();
    for f in &expected {
        assert!(exists(&tree, &format!("{app}/{f}")), "{f}");
    }
    let services = std::fs::read_dir(tree.path().join("services"))
        .unwrap()
        .count();
    assert_eq!(services, 1, "one app, no folder per service");
    let python: Vec<String> = files_under(&tree, app)
        .into_iter()
        .filter(|f| f.ends_with(".py") || f.ends_with("requirements.txt") || f.ends_with(".toml"))
        .collect();
    assert!(python.is_empty(), "{python:?}");
    let entities = tree.read(&format!("{app}/src/entities.ts"));
    assert!(
        entities.contains("import { entities as authorsEntities } from \"./modules/authors.js\";")
    );
    assert!(entities.contains("  ...authorsEntities,\n  ...booksEntities,\n"));
    let books = tree.read(&format!("{app}/src/modules/books.ts"));
    assert!(books.contains("table: \"books\","), "{books}");
    assert!(!books.contains("table: \"authors\","));
    let package: Value = serde_json::from_str(&tree.read(&format!("{app}/package.json"))).unwrap();
    assert_eq!(package["name"], "library-app");
    // One app: no typed clients (a dependency between modules is a foreign key), and readiness
    // checks no other service.
    let clients = tree.read(&format!("{app}/src/clients.ts"));
    assert!(clients.contains("export type Clients = Record<string, never>;"));
    let health = tree.read(&format!("{app}/src/health.ts"));
    assert!(health.contains("const DEPENDENCIES: Record<string, keyof Settings> = {\n};"));
}

/// `books` depends on `authors`: inside one app that is a foreign key, and the generated test
/// creates an author first, then checks an unknown author (422) and a referenced one (409).
#[test]
fn a_dependency_between_modules_is_a_foreign_key_the_tests_exercise() {
    let tree = Project::fixture(MONOLITH).generate();
    let sql = tree.read("migrations/library-db/001_init.sql");
    assert!(
        sql.contains("FOREIGN KEY (\"author_id\") REFERENCES \"authors\" (\"id\")"),
        "{sql}"
    );
    let test = tree.read("services/library-app/test/api.test.ts");
    let fk = test
        .split("test(\"book: `author_id` names an existing author (a foreign key)\"")
        .nth(1)
        .expect("a foreign-key test for books");
    assert!(fk.contains("url: \"/api/authors\""), "{fk}");
    assert!(fk.contains("author_id: \"00000000-0000-4000-8000-00000000dead\""));
    assert!(fk.contains("assert.equal(unknown.statusCode, 422"));
    assert!(fk.contains("assert.equal(blocked.statusCode, 409"));
}

/// The tests' admin token holds every role a route requires (the admin role alone does not pass
/// a `role(…)` rule).
#[test]
fn the_tests_admin_holds_the_roles_the_routes_require() {
    let tree = Project::fixture(MONOLITH)
        .edit(|b| b.replace("write: role(admin)", "write: role(librarian)"))
        .generate();
    let support = tree.read("services/library-app/test/support.ts");
    assert!(
        support.contains("const TEST_ROLES: string[] = [\"admin\",\"librarian\"];"),
        "{support}"
    );
    assert!(
        support.contains("token(\"admin\", TEST_ROLES)"),
        "{support}"
    );
    let plain = Project::fixture(MONOLITH).generate();
    let support = plain.read("services/library-app/test/support.ts");
    assert!(
        support.contains("const TEST_ROLES: string[] = [\"admin\"];"),
        "{support}"
    );
}

/// The app is deployed like the Python monolith: the same Kubernetes, Terraform and migration
/// files, byte for byte; compose differs in the health check's runtime only, CI in the job.
#[test]
fn the_typescript_monolith_deploys_like_the_python_one() {
    let ts = Project::fixture(MONOLITH).generate();
    let py = Project::fixture(MONOLITH)
        .edit(|b| b.replace("language: typescript", "language: python"))
        .generate();
    for dir in ["deploy/k8s", "infra", "migrations"] {
        let files = files_under(&ts, dir);
        assert_eq!(files, files_under(&py, dir), "{dir}");
        for f in files {
            assert_eq!(
                ts.read(&f),
                py.read(&f),
                "{f} differs between the languages"
            );
        }
    }
    assert_eq!(
        ts.read("services/library-app/openapi.yaml"),
        py.read("services/library-app/openapi.yaml")
    );
    let compose = ts.read("deploy/compose/docker-compose.yml");
    assert!(compose.contains("test: [\"CMD\", \"node\", \"-e\""));
    let python_compose = py.read("deploy/compose/docker-compose.yml");
    let normalise = |c: &str| -> String {
        c.lines()
            .filter(|l| !l.trim_start().starts_with("test: [\"CMD\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(normalise(&compose), normalise(&python_compose));
    let ci = ts.read(".github/workflows/ci.yml");
    assert!(ci.contains("\n  node-service:\n") && ci.contains("path: services/library-app"));
    assert!(!ci.contains("python -m pytest"));
}

/// A monolith is one app in one language: a TypeScript module beside a Python one is refused
/// (E0156) and nothing is generated.
#[test]
fn a_monolith_mixing_languages_is_refused() {
    let mixed = Project::fixture(MONOLITH)
        .edit(|b| b.replacen("language: typescript", "language: python", 1));
    let Err(codex_system_design::error::Error::Invalid(invalid)) = mixed.try_generate() else {
        panic!("a mixed monolith does not generate");
    };
    let codes: Vec<&str> = invalid.diagnostics.items.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0156"]);
    // The same services as microservices are fine.
    Project::fixture(MONOLITH)
        .edit(|b| b.replacen("language: typescript", "language: python", 1))
        .arch("microservices")
        .generate();
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
    let broker = tree.read("services/reviews/src/broker.ts");
    assert!(python.contains("\"events.dlx\"") && broker.contains("\"events.dlx\""));
    assert!(
        python.contains("name = f\"{group}.{topic}\"") && broker.contains("`${group}.${topic}`")
    );
    assert!(broker.contains("from \"amqplib\"") && !broker.contains("@platformatic/kafka"));
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

#[test]
fn a_typescript_grpc_service_serves_the_same_proto_from_its_own_folder() {
    let tree = Project::fixture("polyglot/polyglot-grpc.yaml").generate();
    // The contract at the root and the copy its image is built with are one text.
    assert_eq!(
        tree.read("services/catalog/proto/catalog/v1/catalog.proto"),
        tree.read("proto/catalog/v1/catalog.proto")
    );
    assert!(
        tree.read("services/catalog/Dockerfile")
            .contains("COPY proto ./proto\n")
    );
    let grpc = tree.read("services/catalog/src/grpc.ts");
    assert!(grpc.contains("export const SERVICE = \"catalog.v1.CatalogService\";"));
    assert!(grpc.contains("\"../../proto/catalog/v1/catalog.proto\""));
    assert!(grpc.contains("get: \"GetProduct\","), "{grpc}");
    assert!(grpc.contains("PRODUCT_STATUS_ACTIVE: \"active\""), "{grpc}");
    let main = tree.read("services/catalog/src/main.ts");
    assert!(main.contains("await startGrpc(app, Number(config.GRPC_PORT));"));
    assert!(
        tree.read("services/catalog/src/config.ts")
            .contains("GRPC_PORT: env(\"GRPC_PORT\"")
    );
    assert!(exists(&tree, "services/catalog/test/grpc.test.ts"));
    // Its HTTP-only neighbours get none of it.
    for f in ["src/grpc.ts", "test/grpc.test.ts", "proto"] {
        assert!(!exists(&tree, &format!("services/reviews/{f}")), "{f}");
    }
    assert!(!tree.read("services/reviews/src/main.ts").contains("grpc"));
}

/// gRPC alone, in either language: the same app, its routes on loopback only (its RPCs reach them
/// in process), the image's HEALTHCHECK on that port; the cluster sees the gRPC port alone and
/// probes it; callers dial its gRPC address.
#[test]
fn a_service_speaking_grpc_alone_serves_it_with_its_routes_on_loopback() {
    let tree = Project::fixture("polyglot/polyglot-grpc-only.yaml").generate();
    let main = tree.read("services/ledger/src/main.ts");
    assert!(main.contains("await app.listen({ host: \"127.0.0.1\", port: Number(config.PORT) });"));
    assert!(main.contains("await startGrpc(app, Number(config.GRPC_PORT));"));
    assert!(
        tree.read("services/ledger/Dockerfile")
            .contains("fetch('http://127.0.0.1:8080/healthz')")
    );
    let config = tree.read("services/ledger/src/config.ts");
    assert!(
        config.contains("PORT: env(\"PORT\", \"8080\"),"),
        "{config}"
    );
    assert!(config.contains("GRPC_PORT: env(\"GRPC_PORT\", \"50051\"),"));
    let docker = tree.read("services/payments/Dockerfile");
    assert!(
        docker.contains("\"--host\", \"127.0.0.1\", \"--port\", \"8080\""),
        "{docker}"
    );
    assert!(docker.contains("EXPOSE 50051\n"));
    assert!(
        tree.read("services/payments/app/main.py")
            .contains("await grpc_api.start(")
    );
    for svc in ["payments", "ledger"] {
        let service = tree.read(&format!("deploy/k8s/base/{svc}/service.yaml"));
        assert!(
            service.contains("port: 50051") && !service.contains("8080"),
            "{service}"
        );
        let deployment = tree.read(&format!("deploy/k8s/base/{svc}/deployment.yaml"));
        assert!(
            deployment.contains("grpc:\n              port: 50051"),
            "{deployment}"
        );
    }
    assert!(
        tree.read("services/orders/app/config.py")
            .contains("payments_grpc_addr: str = \"payments:50051\"")
    );
}

/// Kafka and SNS/SQS: the TypeScript services' broker client is the blueprint's broker's, reading
/// the variables compose and the cloud overlays give (the Python services' names), so a Python
/// and a TypeScript service share one broker whichever it is; the outbox, handled ids and dead
/// letters are the same code for every broker.
#[test]
fn typescript_events_go_through_kafka_and_sqs_on_the_python_services_names() {
    let kafka = Project::fixture("polyglot/polyglot-kafka.yaml").generate();
    let broker = kafka.read("services/reviews/src/broker.ts");
    assert!(broker.contains("from \"@platformatic/kafka\""), "{broker}");
    assert!(!broker.contains("amqplib") && !broker.contains("@aws-sdk/client-sqs"));
    assert!(
        broker.contains("groupId: group") && broker.contains("const group = config.SERVICE_NAME;")
    );
    assert!(
        broker.contains("mode: MessagesStreamModes.COMMITTED")
            && broker.contains("await message.commit();")
    );
    assert!(broker.contains("mechanism: \"OAUTHBEARER\"") && broker.contains("generateAuthToken"));
    let python = kafka.read("services/users/app/events.py");
    assert!(
        python.contains("group_id=group") && python.contains("group = get_settings().service_name")
    );
    let config = kafka.read("services/reviews/src/config.ts");
    for var in [
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "AWS_REGION",
    ] {
        assert!(config.contains(&format!("{var}: env(\"{var}\"")), "{var}");
    }
    let events = kafka.read("services/reviews/src/events.ts");
    assert!(events.contains("ON CONFLICT DO NOTHING RETURNING event_id"));
    assert!(
        events
            .contains("await this.sender.send(topic + DEAD_LETTER_SUFFIX, topic, body, headers);")
    );

    let sqs = Project::fixture("polyglot/polyglot-sqs.yaml").generate();
    let broker = sqs.read("services/reviews/src/broker.ts");
    assert!(broker.contains("from \"@aws-sdk/client-sqs\"") && !broker.contains("amqplib"));
    assert!(
        broker.contains("\"user.registered\": config.SQS_QUEUE_USER_REGISTERED,"),
        "{broker}"
    );
    assert!(broker.contains("\"user.registered\": config.SQS_DLQ_USER_REGISTERED,"));
    let catalog = sqs.read("services/catalog/src/broker.ts");
    assert!(
        catalog.contains("\"product.added\": config.SNS_TOPIC_PRODUCT_ADDED,"),
        "{catalog}"
    );
    assert!(catalog.contains("MessageGroupId: key || topic"));
    // The queue the compose file's provisioning creates is the one the service reads by default.
    let config = sqs.read("services/reviews/src/config.ts");
    let compose = sqs.read("deploy/compose/docker-compose.yml");
    let queue = "polyglot-sqs-local-reviews-user-registered.fifo";
    assert!(
        config.contains(&format!(
            "SQS_QUEUE_USER_REGISTERED: env(\"SQS_QUEUE_USER_REGISTERED\", \"{queue}\")"
        )),
        "{config}"
    );
    assert!(
        compose.contains(queue),
        "the compose file does not name {queue}"
    );
}

/// A TypeScript monolith's own topic (a module publishes it, another consumes it) never goes
/// through the broker: the relay hands it to the handler, the consumer has no queue for it, and
/// the app's tests drive that path against the real database (issue 21).
#[test]
fn a_typescript_monolith_delivers_its_own_topics_in_process() {
    let tree = Project::fixture(MONOLITH).generate();
    let app = "services/library-app";
    let events = tree.read(&format!("{app}/src/events.ts"));
    assert!(
        events.contains("export const IN_PROCESS: readonly string[] = [\"author.registered\"];")
    );
    assert!(events.contains("const FROM_BROKER: readonly string[] = [];"));
    assert!(events.contains("if (IN_PROCESS.includes(topic)) {"));
    assert!(events.contains("topics: FROM_BROKER,"));
    assert!(events.contains("\"author.registered\": onAuthorRegistered,"));
    let entities = tree.read(&format!("{app}/src/modules/authors.ts"));
    assert!(
        entities.contains("publishes: [\"author.registered\"],"),
        "{entities}"
    );
    assert!(
        tree.read(&format!("{app}/src/app.ts"))
            .contains("outbox: events")
    );
    let test = tree.read(&format!("{app}/test/events.test.ts"));
    assert!(
        test.contains("author.registered: this app's own event goes from the outbox to its handler once, never to the broker"),
        "{test}"
    );
    let sql = tree.read("migrations/library-db/001_init.sql");
    assert!(
        sql.contains("CREATE TABLE \"outbox\"")
            && sql.contains("CREATE TABLE \"processed_events\"")
    );
    // A service's topics all come from the broker.
    let services = Project::fixture(FIXTURE).generate();
    let reviews = services.read("services/reviews/src/events.ts");
    assert!(reviews.contains("export const IN_PROCESS: readonly string[] = [];"));
    assert!(reviews.contains(
        "const FROM_BROKER: readonly string[] = [\"user.registered\", \"product.added\"];"
    ));
}

/// On MySQL a TypeScript service keeps its outbox and handled ids as Python's do: event ids as
/// 32 hex digits, one relay per database through a named lock (GET_LOCK, released before the
/// connection goes back to the pool), handled ids recorded with INSERT IGNORE and ROW_COUNT().
#[test]
fn typescript_events_on_mysql_use_a_named_lock_and_insert_ignore() {
    let tree = Project::fixture("polyglot/polyglot-mysql.yaml").generate();
    let catalog = tree.read("services/catalog/src/events.ts");
    assert!(
        catalog.contains("GET_LOCK(LEFT(CONCAT(?, DATABASE()), 64), 0)"),
        "{catalog}"
    );
    assert!(catalog.contains("RELEASE_LOCK(LEFT(CONCAT(?, DATABASE()), 64))"));
    assert!(!catalog.contains("pg_try_advisory_xact_lock"));
    assert!(catalog.contains("storedUuid(event.event_id),"));
    let reviews = tree.read("services/reviews/src/events.ts");
    assert!(
        reviews.contains("INSERT IGNORE INTO processed_events (event_id, topic) VALUES (?, ?)")
    );
    assert!(reviews.contains("SELECT ROW_COUNT() AS n"));
    assert!(!reviews.contains("ON CONFLICT"));
    let db = tree.read("services/reviews/src/db.ts");
    assert!(db.contains("export const storedUuid = (id: string): string => id.replaceAll(\"-\", \"\").toLowerCase();"));
    let sql = tree.read("migrations/catalog-db/001_init.sql");
    assert!(sql.contains("CREATE TABLE `outbox`"), "{sql}");
    // The PostgreSQL services keep the advisory lock and ON CONFLICT.
    let pg = Project::fixture(FIXTURE).generate();
    assert!(
        pg.read("services/catalog/src/events.ts")
            .contains("pg_try_advisory_xact_lock($1)")
    );
    assert!(
        pg.read("services/catalog/src/db.ts")
            .contains("export const storedUuid = (id: string): string => id;")
    );
}

/// Through Kafka or SNS/SQS a TypeScript monolith's own topic still goes from the outbox to its
/// handler; the broker's client (the services' own) carries the dead letters and any topic the
/// app consumes from outside.
#[test]
fn a_typescript_monolith_through_kafka_or_sqs_keeps_its_own_topics_in_process() {
    for (broker, client) in [
        ("kafka", "@platformatic/kafka"),
        ("sqs", "@aws-sdk/client-sqs"),
    ] {
        let tree = Project::fixture(&format!("valid/typescript-monolith-{broker}.yaml")).generate();
        let app = format!("services/library-{broker}-app");
        let events = tree.read(&format!("{app}/src/events.ts"));
        assert!(
            events
                .contains("export const IN_PROCESS: readonly string[] = [\"author.registered\"];"),
            "{broker}"
        );
        assert!(
            events.contains("const FROM_BROKER: readonly string[] = [];"),
            "{broker}"
        );
        let client_file = tree.read(&format!("{app}/src/broker.ts"));
        assert!(
            client_file.contains(&format!("from \"{client}\"")),
            "{broker}"
        );
        assert!(!client_file.contains("amqplib"), "{broker}");
    }
}

/// A TypeScript worker without a database (polyglot-kafka's notifier) is generated: its tests
/// build the app without one (a typed `undefined`, so `db?.end()` type-checks), its API test
/// has no entity to walk, and it keeps handled event ids in memory.
#[test]
fn a_typescript_worker_without_a_database_is_generated() {
    let tree = Project::fixture("polyglot/polyglot-kafka.yaml").generate();
    let dir = "services/notifier";
    let support = tree.read(&format!("{dir}/test/support.ts"));
    assert!(
        support.contains("export const db: Db | undefined = undefined;"),
        "{support}"
    );
    assert!(!support.contains("readdirSync"), "{support}");
    let api = tree.read(&format!("{dir}/test/api.test.ts"));
    assert!(
        api.contains("no entities: no CRUD routes are served"),
        "{api}"
    );
    let app = tree.read(&format!("{dir}/src/app.ts"));
    assert!(!app.contains("createDb"), "{app}");
    let events = tree.read(&format!("{dir}/src/events.ts"));
    assert!(events.contains("in memory"), "{events}");
}

#[test]
fn a_typescript_frontend_is_the_api_app_as_in_python() {
    let as_kind = |kind: &str| {
        Project::fixture("polyglot/polyglot-kafka.yaml")
            .edit(|b| {
                b.replace(
                    "    kind: worker\n    language: typescript",
                    &format!("    kind: {kind}\n    language: typescript"),
                )
            })
            .generate()
    };
    let (frontend, api) = (as_kind("frontend"), as_kind("api"));
    for file in [
        "src/app.ts",
        "src/main.ts",
        "src/health.ts",
        "Dockerfile",
        "package.json",
    ] {
        let path = format!("services/notifier/{file}");
        assert_eq!(frontend.read(&path), api.read(&path), "{path}");
    }
}

/// A TypeScript worker in a serverless system is its queue functions alone, as a Python one: no
/// HTTP function, and without a database no RDS IAM sign-in or SQL settings.
#[test]
fn a_typescript_worker_function_is_its_queue_functions_alone() {
    let tree = Project::fixture("polyglot/polyglot-serverless.yaml").generate();
    let dir = "services/notifier";
    let handlers = tree.read(&format!("{dir}/src/handlers.ts"));
    assert!(handlers.contains("queueFunction("), "{handlers}");
    assert!(!handlers.contains("httpFunction"), "{handlers}");
    assert!(!tree.path().join(dir).join("src/iam.ts").exists());
    assert!(tree.path().join("services/reviews/src/iam.ts").exists());
    let support = tree.read(&format!("{dir}/test/support.ts"));
    assert!(
        support.contains("export const db: Db | undefined = undefined;"),
        "{support}"
    );
    let main = tree.read("infra/terraform/main.tf");
    assert!(main.contains("handler                 = \"notifier_user_registered.handler\""));
    assert!(!main.contains("\"notifier_api.handler\""));
}

/// A TypeScript frontend function is an api's functions, as a Python one (E0153 refused it).
#[test]
fn a_typescript_frontend_function_is_an_api_function() {
    let tree = Project::fixture("polyglot/polyglot-serverless.yaml")
        .edit(|b| b.replace("    kind: worker\n", "    kind: frontend\n"))
        .generate();
    let handlers = tree.read("services/notifier/src/handlers.ts");
    assert!(
        handlers.contains("export const notifier_api = httpFunction("),
        "{handlers}"
    );
    assert!(handlers.contains("queueFunction("), "{handlers}");
}
