//! Service code, API contracts, migrations and tests generated for each architecture type.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use support::project::{Project, Tree};

fn generate(example: &str, arch: &str) -> (Tree, PathBuf) {
    let tree = Project::example(example)
        .arch(arch)
        .scale("small")
        .generate();
    let out = tree.path().to_path_buf();
    (tree, out)
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn microservices_get_an_app_tests_dockerfile_and_contract_per_service() {
    let (_d, out) = generate("ecommerce", "microservices");
    for svc in ["users", "products", "orders", "payments", "notifications"] {
        for f in [
            "app/main.py",
            "app/models.py",
            "app/health.py",
            "tests/test_api.py",
            "tests/conftest.py",
            "Dockerfile",
            "openapi.yaml",
            "requirements.txt",
        ] {
            assert!(
                out.join("services").join(svc).join(f).is_file(),
                "{svc}/{f}"
            );
        }
    }
    assert!(
        !out.join("services/gateway").exists(),
        "gateways get no code"
    );
}

#[test]
fn nested_entity_routes_are_registered_before_the_parent_item_route() {
    let (_d, out) = generate("ecommerce", "microservices");
    let routes = read(&out, "services/orders/app/routes.py");
    let nested = routes.find("path=\"/api/orders/order-items\"").unwrap();
    let parent = routes.find("path=\"/api/orders\"").unwrap();
    assert!(nested < parent, "{routes}");
    let api = read(&out, "services/orders/openapi.yaml");
    assert!(api.contains("  /api/orders/order-items/{id}:"), "{api}");
    assert!(api.contains("  /api/orders:"));
}

#[test]
fn requirements_are_pinned_and_follow_the_broker_and_cache() {
    let (_d, out) = generate("ecommerce", "microservices");
    let users = read(&out, "services/users/requirements.txt");
    assert!(users.contains("aiokafka==") && users.contains("redis=="));
    let products = read(&out, "services/products/requirements.txt");
    assert!(!products.contains("aiokafka") && !products.contains("redis"));
    for line in products.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.contains("=="), "unpinned: {line}");
    }
    let (_d2, auth) = generate("auth-service", "microservices");
    assert!(read(&auth, "services/identity/requirements.txt").contains("aio-pika=="));
}

/// The pins of requirements.txt, and the `dependencies` of pyproject.toml, in order.
fn pins(root: &Path, service: &str) -> (Vec<String>, Vec<String>) {
    let req = read(root, &format!("{service}/requirements.txt"));
    let lines = req
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let toml = read(root, &format!("{service}/pyproject.toml"));
    let deps = toml
        .split("dependencies = [")
        .nth(1)
        .and_then(|rest| rest.split("\n]").next())
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().trim_end_matches(',').trim_matches('"').to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    (lines, deps)
}

#[test]
fn pyproject_declares_the_requirements_pins_and_a_test_extra() {
    for arch in ["microservices", "monolith"] {
        let (_d, out) = generate("ecommerce", arch);
        let services = fs::read_dir(out.join("services")).unwrap();
        for svc in services {
            let rel = format!("services/{}", svc.unwrap().file_name().to_string_lossy());
            let (lines, deps) = pins(&out, &rel);
            assert!(lines.len() > 5, "{rel}: {lines:?}");
            assert_eq!(lines, deps, "{rel}");
            let toml = read(&out, &format!("{rel}/pyproject.toml"));
            assert!(toml.contains("[project.optional-dependencies]\ntest = [\n    \"pytest=="));
            assert!(toml.contains("build-backend = \"setuptools.build_meta\""));
            assert!(out.join(&rel).join("tests/test_dependencies.py").is_file());
        }
    }
    let ci = read(
        &generate("ecommerce", "microservices").1,
        ".github/workflows/ci.yml",
    );
    assert!(
        ci.contains("pip install -e '.[test]'"),
        "CI installs from pyproject.toml"
    );
}

#[test]
fn migrations_have_foreign_keys_only_within_a_database() {
    let (_d, out) = generate("ecommerce", "microservices");
    let file = read(&out, "migrations/orders-db/001_init.sql");
    let (orders, down) = file.split_once("-- migrate:down").unwrap();
    assert!(orders.contains("FOREIGN KEY (\"order_id\") REFERENCES \"orders\" (\"id\")"));
    assert!(orders.contains("COMMENT ON COLUMN \"orders\".\"user_id\" IS 'Logical reference"));
    assert!(orders.contains("CHECK (\"status\" IN ('pending', 'paid', 'shipped', 'cancelled'))"));
    let payments = read(&out, "migrations/payments-db/001_init.sql");
    assert!(!payments.contains("FOREIGN KEY"), "{payments}");
    let items = down.find("DROP TABLE IF EXISTS \"order_items\"").unwrap();
    let parents = down.find("DROP TABLE IF EXISTS \"orders\"").unwrap();
    assert!(items < parents, "children are dropped first");
}

#[test]
fn monolith_keys_are_real_foreign_keys_in_its_one_database() {
    let (_d, out) = generate("ecommerce", "monolith");
    let sql = read(&out, "migrations/shop-db/001_init.sql");
    assert!(sql.contains("FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\")"));
    for module in ["users", "products", "orders", "payments", "notifications"] {
        let path = format!("services/shop-app/app/modules/{module}/models.py");
        assert!(out.join(&path).is_file(), "{path}");
    }
    assert!(!out.join("services/orders").exists());
    let main = read(&out, "services/shop-app/app/main.py");
    assert!(main.contains("    \"orders\",\n"));
}

#[test]
fn grpc_services_get_a_buf_style_proto() {
    let (_d, out) = generate("auth-service", "microservices");
    let proto = read(&out, "proto/tokens/v1/tokens.proto");
    assert!(proto.contains("package tokens.v1;"));
    assert!(proto.contains("service TokensService {"));
    assert!(proto.contains("rpc ListTokens(ListTokensRequest) returns (ListTokensResponse);"));
    assert!(proto.contains("import \"google/protobuf/timestamp.proto\";"));
    assert!(
        !out.join("proto/identity").exists(),
        "http-only services have no proto"
    );
}

/// A Python service declaring grpc serves its contract (app/grpc_api.py): the copy its image is
/// built with is the root's, its server starts with the app on GRPC_PORT, the packages are
/// pinned, its tests bind any free port; its HTTP-only neighbours get none of it.
#[test]
fn a_python_grpc_service_serves_the_same_proto_from_its_own_folder() {
    let tree = Project::fixture("polyglot/polyglot-grpc.yaml").generate();
    assert_eq!(
        tree.read("services/inventory/proto/inventory/v1/inventory.proto"),
        tree.read("proto/inventory/v1/inventory.proto")
    );
    assert!(
        tree.read("services/inventory/Dockerfile")
            .contains("COPY proto ./proto\n")
    );
    let grpc = tree.read("services/inventory/app/grpc_api.py");
    assert!(grpc.contains("SERVICE = \"inventory.v1.InventoryService\""));
    assert!(grpc.contains("PROTO = \"proto/inventory/v1/inventory.proto\""));
    assert!(grpc.contains("        create=\"CreateStock\","), "{grpc}");
    assert!(
        grpc.contains("\"STOCK_STATE_COUNTING\": \"counting\","),
        "{grpc}"
    );
    assert!(grpc.contains("timestamps=(\"counted_at\","), "{grpc}");
    assert!(grpc.contains("structs=(\"attributes\",)"), "{grpc}");
    let main = tree.read("services/inventory/app/main.py");
    assert!(main.contains("await grpc_api.start(app, int(get_settings().grpc_port))"));
    assert!(main.contains("await grpc_server.stop()"));
    let requirements = tree.read("services/inventory/requirements.txt");
    for pin in ["grpcio==", "grpcio-tools==", "grpcio-health-checking=="] {
        assert!(requirements.contains(pin), "{pin}");
    }
    assert!(
        tree.read("services/inventory/tests/conftest.py")
            .contains("os.environ[\"GRPC_PORT\"] = \"0\"")
    );
    assert!(
        tree.read("services/inventory/tests/test_grpc.py")
            .contains("def test_stock_rpcs_answer_through_the_http_routes(")
    );
    for f in ["app/grpc_api.py", "tests/test_grpc.py", "proto"] {
        assert!(!tree.path().join("services/orders").join(f).exists(), "{f}");
    }
    assert!(!tree.read("services/orders/app/main.py").contains("grpc"));
    assert!(
        !tree
            .read("services/orders/requirements.txt")
            .contains("grpcio-tools")
    );
}

#[test]
fn enum_columns_become_prefixed_proto_enums_with_an_unspecified_zero() {
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("bp.yaml");
    fs::write(
        &bp,
        "version: 1\nname: pay\ntype: microservices\nservices:\n  payments:\n    language: python\n    protocol: grpc\n    database: pay-db\n    entities: [Payment]\nentities:\n  Payment:\n    fields:\n      id: uuid pk\n      status: enum(authorized, captured)\ndatabases: { pay-db: { engine: postgres } }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    support::cli::bin()
        .args(["generate", "-f"])
        .arg(&bp)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let proto = read(&out, "proto/payments/v1/payments.proto");
    assert!(
        proto.contains("  PAYMENT_STATUS_UNSPECIFIED = 0;"),
        "{proto}"
    );
    assert!(proto.contains("  PAYMENT_STATUS_CAPTURED = 2;"));
    assert!(proto.contains("  PaymentStatus status = 2;"));
}

#[test]
fn serverless_gets_a_handler_module_and_a_test_per_function() {
    let (_d, out) = generate("ecommerce", "serverless");
    for f in [
        "functions/users_api.py",
        "functions/orders_payment_completed.py",
        "functions/tests/test_users_api.py",
        "functions/tests/test_orders_payment_completed.py",
        "functions/app/modules/orders/models.py",
        "functions/requirements.txt",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(read(&out, "functions/users_api.py").contains("handler = Mangum(app"));
    assert!(read(&out, "functions/orders_payment_completed.py").contains("batchItemFailures"));
    assert!(!out.join("services").exists());
}

#[test]
fn load_and_e2e_tests_cover_every_public_entity() {
    let (_d, out) = generate("auth-service", "microservices");
    let locust = read(&out, "tests/load/locustfile.py");
    assert!(locust.contains("\"/api/identity/accounts\""));
    assert!(locust.contains("\"/api/tokens\""));
    assert!(!locust.contains("audit-events"), "workers are not public");
    let e2e = read(&out, "tests/e2e/test_gateway.py");
    assert!(e2e.contains("pytest.mark.skipif(not GATEWAY"));
}

#[test]
fn service_code_is_byte_identical_across_runs() {
    let (_a, one) = generate("event-orders", "microservices");
    let (_b, two) = generate("event-orders", "microservices");
    for rel in [
        "services/inventory/app/models.py",
        "services/orders/tests/test_api.py",
        "services/shipping/openapi.yaml",
        "migrations/shipping-db/001_init.sql",
    ] {
        assert_eq!(read(&one, rel), read(&two, rel), "{rel}");
    }
}

#[test]
fn events_tables_live_where_services_publish_or_consume() {
    let (_t, root) = generate("ecommerce", "microservices");
    // orders publishes and consumes: outbox and processed ids in its own database.
    let orders = read(&root, "migrations/orders-db/001_init.sql");
    assert!(orders.contains("CREATE TABLE \"outbox\""), "{orders}");
    assert!(orders.contains("CREATE TABLE \"processed_events\""));
    // products neither publishes nor consumes: no event tables.
    let products = read(&root, "migrations/products-db/001_init.sql");
    assert!(!products.contains("outbox"), "{products}");
    // notifications consumes without a database: handled ids in memory.
    let events = read(&root, "services/notifications/app/events.py");
    assert!(events.contains("_seen: OrderedDict"), "{events}");
    assert!(!events.contains("class OutboxEvent"));
    let events = read(&root, "services/orders/app/events.py");
    assert!(events.contains("class OutboxEvent(Base)"));
    assert!(events.contains("FROM_BROKER: tuple[str, ...] = (\"payment.completed\",)"));
    let crud = read(&root, "services/orders/app/crud.py");
    assert!(crud.contains("enqueue(repo.session, topic"), "{crud}");
    let tf = read(&root, "infra/terraform/main.tf");
    assert!(
        tf.contains("\"order.created\", \"order.created.dlq\""),
        "{tf}"
    );
}

#[test]
fn a_monolith_delivers_its_own_topics_in_process() {
    let (_t, root) = generate("ecommerce", "monolith");
    let events = read(&root, "services/shop-app/app/events.py");
    assert!(
        events.contains(
            "IN_PROCESS: tuple[str, ...] = (\"payment.completed\", \"order.created\", \"user.registered\")"
        ),
        "{events}"
    );
    assert!(events.contains("FROM_BROKER: tuple[str, ...] = ()"));
    assert!(read(&root, "docs/adr/0009-event-delivery.md").contains("delivered in-process"));
}

fn python_files(dir: &Path, acc: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            python_files(&p, acc);
        } else if p.extension().is_some_and(|x| x == "py") {
            acc.push(p);
        }
    }
}

/// ruff format (which conformance runs) allows at most two blank lines between top-level
/// statements. Here without a venv: event-orders' orders service has two entities, the first
/// without indexes, the shape that once got three.
#[test]
fn generated_python_never_has_three_blank_lines() {
    for (example, arch) in [
        ("event-orders", "microservices"),
        ("event-orders", "monolith"),
    ] {
        let (_d, out) = generate(example, arch);
        let mut files = Vec::new();
        python_files(&out.join("services"), &mut files);
        assert!(files.len() > 10, "{example} {arch}: {} files", files.len());
        for f in files {
            let text = fs::read_to_string(&f).unwrap();
            assert!(
                !text.contains("\n\n\n\n"),
                "{}: three blank lines in a row",
                f.display()
            );
        }
    }
}

/// The token the generated tests, the e2e suite and the load test use to be allowed everything
/// holds the admin role and every role a route requires: the admin role alone does not pass
/// `role(front-desk)`, so their writes to that route would be refused (403).
#[test]
fn test_tokens_hold_every_role_a_route_requires() {
    let tree = Project::fixture("valid/mysql-monolith.yaml").generate();
    let roles = "[\n    \"admin\",\n    \"front-desk\",\n]";
    let conftest = tree.read("services/bookings-app/tests/conftest.py");
    assert!(
        conftest.contains(&format!("TEST_ROLES = {roles}")),
        "{conftest}"
    );
    assert!(
        conftest.contains("self.headers(\"admin\", tuple(TEST_ROLES))"),
        "{conftest}"
    );
    let list = "[\n    \"admin\",\n    \"front-desk\",\n]";
    let e2e = tree.read("tests/e2e/test_gateway.py");
    assert!(e2e.contains(&format!("ROLES = {list}")), "{e2e}");
    assert!(e2e.contains("bearer(\"e2e-admin\", ROLES)"), "{e2e}");
    let load = tree.read("tests/load/locustfile.py");
    assert!(load.contains(&format!("ROLES = {list}")), "{load}");
    assert!(load.contains("\"roles\": ROLES"), "{load}");
}
