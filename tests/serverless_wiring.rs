//! Serverless: each function's Terraform environment is exactly what its code requires, every
//! variable Terraform sets is read by the code, and each function's IAM policy allows only what its
//! code does. Read from the generated files (Terraform, the function modules, the settings class
//! and the code using it), both directions, for every built-in example; mutations of the
//! generated Terraform show that the check finds a missing variable, an extra one and an extra
//! action.

use codex_system_design::assets;
use codex_system_design::blueprint::edit::set_top_level;
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::TemplateSet;
use std::collections::{BTreeMap, BTreeSet};

const EXAMPLES: [&str; 4] = [
    "ecommerce",
    "event-orders",
    "auth-service",
    "serverless-notes",
];

type Files = BTreeMap<String, String>;

fn generate(example: &str) -> Files {
    let text = set_top_level(assets::example(example).unwrap(), "type", "serverless");
    let src = Source {
        text,
        file: format!("{example}.yaml"),
    };
    match pipeline::generate(&src, &TemplateSet::embedded(), false) {
        Ok(g) => g.files.into_iter().collect(),
        Err(_) => panic!("{example} does not lower to serverless"),
    }
}

/// The lines of the top-level block starting with `header` (up to its closing `}` in column 0).
fn block<'a>(text: &'a str, header: &str) -> Option<Vec<&'a str>> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(header));
    lines.next()?;
    Some(lines.take_while(|l| *l != "}").collect())
}

/// Every `"…"` string on a line.
fn quoted(line: &str) -> Vec<String> {
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The fixture mixing Python and TypeScript functions (its TypeScript services are packages of
/// their own under `services/`).
const MIXED: &str = "tests/fixtures/polyglot/polyglot-serverless.yaml";
/// The same mix on DynamoDB (serverless-notes with its `notes` and `topics` in TypeScript).
const MIXED_DYNAMODB: &str = "tests/fixtures/polyglot/polyglot-serverless-dynamodb.yaml";

fn generate_file(path: &str) -> Files {
    let src = Source {
        text: std::fs::read_to_string(path).unwrap(),
        file: path.to_owned(),
    };
    match pipeline::generate(&src, &TemplateSet::embedded(), false) {
        Ok(g) => g.files.into_iter().collect(),
        Err(_) => panic!("{path} does not generate"),
    }
}

/// What Terraform gives one function: handler, environment names, IAM actions, queue trigger.
#[derive(Debug, Default)]
struct Deployed {
    handler: String,
    runtime: String,
    env: BTreeSet<String>,
    actions: BTreeSet<String>,
    queue: bool,
    /// DynamoDB tables (resource labels) whose names its environment holds, and those its
    /// policy names (a table's ARN or one of its indexes).
    env_tables: BTreeSet<String>,
    policy_tables: BTreeSet<String>,
}

/// The `aws_dynamodb_table.<label>` labels on a line.
fn table_labels(line: &str) -> Vec<String> {
    line.split("aws_dynamodb_table.")
        .skip(1)
        .map(|r| {
            r.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn deployed(main: &str) -> BTreeMap<String, Deployed> {
    let mut out = BTreeMap::new();
    for start in main.lines().filter(|l| l.starts_with("module \"function_")) {
        let name = quoted(start)[0].trim_start_matches("function_").to_owned();
        let mut d = Deployed::default();
        for line in block(main, start).unwrap() {
            let t = line.trim();
            if t.starts_with("handler ") {
                d.handler = quoted(t)[0].clone();
            } else if t.starts_with("runtime ") {
                d.runtime = quoted(t)[0].clone();
            } else if t.starts_with("{ name = ") {
                d.env.insert(quoted(t)[0].clone());
                d.env_tables.extend(table_labels(t));
            } else if t.starts_with("queue_arn ") {
                d.queue = true;
            } else if t.starts_with("policy_json ") {
                let policy = format!("data \"aws_iam_policy_document\" \"{name}\" {{");
                for l in block(main, &policy).expect("policy document of the function") {
                    if l.trim().starts_with("actions ") {
                        d.actions.extend(quoted(l));
                    }
                    if l.trim().starts_with("resources ") {
                        d.policy_tables.extend(table_labels(l));
                    }
                }
            }
        }
        out.insert(name, d);
    }
    out
}

/// The variables a function module requires (its `ENVIRONMENT` tuple).
fn required(module: &str) -> BTreeSet<String> {
    block(module, "ENVIRONMENT = (")
        .unwrap_or_default()
        .iter()
        .take_while(|l| **l != ")")
        .flat_map(|l| quoted(l))
        .collect()
}

/// The fields of the settings class.
fn settings_fields(config: &str) -> BTreeSet<String> {
    block(config, "class Settings(BaseSettings):")
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| !l.starts_with(['#', ' ', '"']))
        .filter_map(|l| l.split_once(':').map(|(f, _)| f.to_owned()))
        .collect()
}

/// The code reads `field` when a module other than config.py names it (`settings.field` or, for
/// a looked-up address, `"field"`).
fn read_by_code(files: &Files, field: &str) -> bool {
    files
        .iter()
        .filter(|(p, _)| p.starts_with("functions/") && p.ends_with(".py"))
        .filter(|(p, _)| *p != "functions/app/config.py" && !p.starts_with("functions/tests/"))
        .any(|(_, t)| t.contains(&format!(".{field}")) || t.contains(&format!("\"{field}\"")))
}

/// The `settings.<field>` / `get_settings().<field>` reads of one module of the app.
fn settings_reads(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for part in text
        .split("settings.")
        .skip(1)
        .chain(text.split("settings().").skip(1))
    {
        let field: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !field.is_empty() {
            out.insert(field);
        }
    }
    out
}

/// The variables the code a function runs reads, from that code: logging (app/main.py) always;
/// for an HTTP function, the database connection (app/db.py, but DATABASE_URL, which only local
/// runs set) when its routes use the CRUD router, the bus (app/events.py) when they publish, and
/// the address of each service they look references up on (app/references.py).
fn code_reads(files: &Files, module: &str) -> BTreeSet<String> {
    let app = |name: &str| files[&format!("functions/app/{name}")].as_str();
    let mut fields = settings_reads(app("main.py"));
    let text = &files[&format!("functions/{module}.py")];
    if let Some(service) = text
        .split("create_app(\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
    {
        let routes = &files[&format!("functions/app/modules/{service}/routes.py")];
        if routes.contains("crud_router(") {
            fields.extend(settings_reads(app("db.py")));
            fields.remove("database_url");
            // DynamoDB: each table names the settings field holding its name.
            let models = &files[&format!("functions/app/modules/{service}/models.py")];
            fields.extend(table_settings(models));
        }
        if routes.contains("publishes=(\"") {
            fields.extend(settings_reads(app("events.py")));
        }
        for r in routes.split("Ref(").skip(1) {
            let args = quoted(r.split(')').next().unwrap());
            let key = format!("    \"{}\": \"", args[2]);
            let address = app("references.py")
                .split(&key)
                .nth(1)
                .expect("address of the callee");
            fields.insert(address.split('"').next().unwrap().to_owned());
        }
    }
    fields.iter().map(|f| f.to_uppercase()).collect()
}

/// The settings fields a service's DynamoDB models name: `setting="note_table"` and the table
/// arguments of `RefCheck(…)` / `Referrer(…)` (the quoted `*_table` names).
fn table_settings(models: &str) -> BTreeSet<String> {
    models
        .lines()
        .filter(|l| l.contains("setting=") || l.contains("RefCheck(") || l.contains("Referrer("))
        .flat_map(quoted)
        .filter(|q| q.ends_with("_table"))
        .collect()
}

/// The actions a function's code performs, from what it requires and how it is triggered: item
/// reads and writes where it names a table, `Query` where its models name an index (a user's
/// rows, rows still referring to a row).
fn expected_actions(code_env: &BTreeSet<String>, queue: bool, queries: bool) -> BTreeSet<String> {
    let mut a = BTreeSet::new();
    if code_env.iter().any(|v| v.ends_with("_TABLE")) {
        for x in [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Scan",
        ] {
            a.insert(x.to_owned());
        }
        if queries {
            a.insert("dynamodb:Query".to_owned());
        }
    }
    if code_env.contains("DB_HOST") {
        a.insert("rds-db:connect".to_owned());
    }
    if code_env.contains("EVENT_BUS_NAME") {
        a.insert("events:PutEvents".to_owned());
    }
    if queue {
        for x in [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        ] {
            a.insert(x.to_owned());
        }
    }
    a
}

/// A TypeScript function: the package whose handlers.ts exports `module`, the variables it
/// requires there (the list given to `httpFunction` / `queueFunction`) and the variables its code
/// reads (an HTTP function: every setting of config.ts but DATABASE_URL, which only local runs
/// set; a queue function: what its logging reads in lambda.ts).
struct TsFunction {
    package: String,
    required: BTreeSet<String>,
    reads: BTreeSet<String>,
    bundled: bool,
}

fn ts_function(files: &Files, module: &str) -> Option<TsFunction> {
    let export = format!("export const {module} = ");
    let (path, text) = files
        .iter()
        .find(|(p, t)| p.ends_with("/src/handlers.ts") && t.contains(&export))?;
    let package = path.trim_end_matches("/src/handlers.ts").to_owned();
    let call = text.split(&export).nth(1)?.split(");").next()?;
    let list = call.split('[').nth(1)?.split(']').next()?;
    let required = quoted(list).into_iter().collect();
    let read_env = |t: &str| -> BTreeSet<String> {
        let mut out: BTreeSet<String> = t
            .split("env(\"")
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .map(str::to_owned)
            .collect();
        out.extend(t.split("process.env.").skip(1).map(|r| {
            r.chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect::<String>()
        }));
        out
    };
    let lambda = &files[&format!("{package}/src/lambda.ts")];
    let log = lambda
        .split("export function log(")
        .nth(1)?
        .split("\n}\n")
        .next()?;
    let mut reads = read_env(log);
    if call.starts_with("httpFunction(") {
        reads.extend(read_env(&files[&format!("{package}/src/config.ts")]));
        reads.remove("DATABASE_URL");
    }
    let bundled =
        files[&format!("{package}/scripts/bundle.mjs")].contains(&format!("\"{module}\""));
    Some(TsFunction {
        package,
        required,
        reads,
        bundled,
    })
}

fn ts_problems(files: &Files, name: &str, d: &Deployed, out: &mut Vec<String>) {
    let module = d.handler.trim_end_matches(".handler");
    let Some(f) = ts_function(files, module) else {
        out.push(format!("{name}: no TypeScript handler exports {module}"));
        return;
    };
    if !f.bundled {
        out.push(format!(
            "{name}: {}/scripts/bundle.mjs builds no {module} bundle",
            f.package
        ));
    }
    for v in f.reads.difference(&f.required) {
        out.push(format!(
            "{name} reads {v}, which its handler does not require"
        ));
    }
    for v in f.required.difference(&d.env) {
        out.push(format!("{name} reads {v}, which Terraform does not set"));
    }
    for v in d.env.difference(&f.required) {
        out.push(format!(
            "Terraform sets {v} on {name}, which its code does not require"
        ));
    }
    for v in d.env.difference(&f.reads) {
        out.push(format!("Terraform sets {v} on {name}, which nothing reads"));
    }
    // DynamoDB: its src/tables.ts names an owner's index (a user's rows) or a referring table's
    // index (rows still referring to a row being deleted).
    let tables = files.get(&format!("{}/src/tables.ts", f.package));
    let queries = tables.is_some_and(|t| t.contains("owner: true") || t.contains(", index: \""));
    if d.env_tables != d.policy_tables {
        out.push(format!(
            "{name} is given tables {:?} but its policy names {:?}",
            d.env_tables, d.policy_tables
        ));
    }
    let want = expected_actions(&f.required, d.queue, queries);
    for a in d.actions.difference(&want) {
        out.push(format!("{name} may {a}, which its code never does"));
    }
    for a in want.difference(&d.actions) {
        out.push(format!("{name} needs {a}, which its policy does not allow"));
    }
}

fn problems(files: &Files) -> Vec<String> {
    let main = &files["infra/terraform/main.tf"];
    let mut out = Vec::new();
    let functions = deployed(main);
    assert!(!functions.is_empty(), "no function in main.tf");
    for (name, d) in &functions {
        match d.runtime.as_str() {
            "python3.12" => {}
            "nodejs22.x" => {
                ts_problems(files, name, d, &mut out);
                continue;
            }
            other => {
                out.push(format!("{name}: runtime {other:?}"));
                continue;
            }
        }
        let fields = settings_fields(&files["functions/app/config.py"]);
        let module = d.handler.trim_end_matches(".handler");
        let path = format!("functions/{module}.py");
        let code = required(files.get(&path).unwrap_or_else(|| panic!("{path} missing")));
        assert!(code.contains("SERVICE_NAME"), "{path}: no ENVIRONMENT");
        for v in code_reads(files, module).difference(&code) {
            out.push(format!(
                "{name} reads {v}, which its ENVIRONMENT does not require"
            ));
        }
        for v in code.difference(&d.env) {
            out.push(format!("{name} reads {v}, which Terraform does not set"));
        }
        for v in d.env.difference(&code) {
            out.push(format!(
                "Terraform sets {v} on {name}, which its code does not require"
            ));
        }
        for v in &d.env {
            let field = v.to_lowercase();
            if !fields.contains(&field) || !read_by_code(files, &field) {
                out.push(format!("Terraform sets {v} on {name}, which nothing reads"));
            }
        }
        let models = files[&path]
            .split("create_app(\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|service| files.get(&format!("functions/app/modules/{service}/models.py")));
        // Item and index actions on exactly the tables whose names the function is given.
        if d.env_tables != d.policy_tables {
            out.push(format!(
                "{name} is given tables {:?} but its policy names {:?}",
                d.env_tables, d.policy_tables
            ));
        }
        let queries = models.is_some_and(|m| m.contains("Index(") || m.contains("Referrer("));
        let want = expected_actions(&code, d.queue, queries);
        for a in d.actions.difference(&want) {
            out.push(format!("{name} may {a}, which its code never does"));
        }
        for a in want.difference(&d.actions) {
            out.push(format!("{name} needs {a}, which its policy does not allow"));
        }
    }
    out
}

#[test]
fn every_function_gets_exactly_the_environment_and_actions_its_code_uses() {
    for example in EXAMPLES {
        let files = generate(example);
        let found = problems(&files);
        assert!(found.is_empty(), "{example}:\n{}", found.join("\n"));
    }
}

#[test]
fn typescript_functions_get_exactly_the_environment_and_actions_their_code_uses() {
    let files = generate_file(MIXED);
    let runtimes: BTreeSet<String> = deployed(&files["infra/terraform/main.tf"])
        .values()
        .map(|d| d.runtime.clone())
        .collect();
    assert_eq!(
        runtimes,
        BTreeSet::from(["nodejs22.x".into(), "python3.12".into()])
    );
    let found = problems(&files);
    assert!(found.is_empty(), "{MIXED}:\n{}", found.join("\n"));
}

#[test]
fn typescript_functions_on_dynamodb_get_exactly_the_environment_and_actions_their_code_uses() {
    let files = generate_file(MIXED_DYNAMODB);
    let notes = &deployed(&files["infra/terraform/main.tf"])["notes_api"];
    assert_eq!(notes.runtime, "nodejs22.x");
    assert!(
        notes.actions.contains("dynamodb:Query"),
        "{:?}",
        notes.actions
    );
    let found = problems(&files);
    assert!(found.is_empty(), "{MIXED_DYNAMODB}:\n{}", found.join("\n"));
    // Its code reads each table's name from the variable Terraform sets.
    let config = &files["services/notes/src/config.ts"];
    assert!(
        config.contains("NOTE_TABLE: env(\"NOTE_TABLE\""),
        "{config}"
    );
    assert!(
        !config.contains("DATABASE_URL"),
        "no SQL settings: {config}"
    );
}

#[test]
fn a_typescript_function_on_dynamodb_querying_without_its_policy_is_found() {
    let mut files = generate_file(MIXED_DYNAMODB);
    mutate(
        &mut files,
        "    actions   = [\"dynamodb:Query\"]\n",
        "    actions   = []\n",
    );
    let found = problems(&files);
    assert!(
        found.contains(
            &"notes_api needs dynamodb:Query, which its policy does not allow".to_owned()
        ),
        "{found:?}"
    );
}

#[test]
fn a_typescript_function_missing_a_variable_or_its_bundle_is_found() {
    let mut files = generate_file(MIXED);
    mutate(
        &mut files,
        "    { name = \"CATALOG_URL\", value = module.api.endpoint },\n",
        "",
    );
    let bundle = files
        .get_mut("services/catalog/scripts/bundle.mjs")
        .unwrap();
    *bundle = bundle.replace("\"catalog_api\"", "\"catalog_http\"");
    assert_eq!(
        problems(&files),
        [
            "catalog_api: services/catalog/scripts/bundle.mjs builds no catalog_api bundle",
            "reviews_api reads CATALOG_URL, which Terraform does not set",
        ]
    );
}

/// The Terraform is the model's, not the language's: the mixed fixture (a TypeScript function
/// publishing, one consuming, a TypeScript worker) and the same blueprint all in Python differ in
/// the runtime only.
#[test]
fn a_function_written_in_typescript_changes_only_its_runtime_in_the_terraform() {
    let mixed = only_the_runtime_differs_from_all_python(MIXED);
    assert!(mixed.contains("notifier_user_registered.handler"));
}

/// On DynamoDB too: the tables, their indexes and each function's policy are the model's, so the
/// Terraform of TypeScript functions differs from the all-Python variant's in the runtime only.
#[test]
fn a_function_on_dynamodb_written_in_typescript_changes_only_its_runtime_in_the_terraform() {
    let mixed = only_the_runtime_differs_from_all_python(MIXED_DYNAMODB);
    assert!(mixed.contains("aws_dynamodb_table"));
}

/// Asserts that the fixture's Terraform differs from its all-Python variant's in the runtime only
/// (and does differ); returns the fixture's `main.tf`.
fn only_the_runtime_differs_from_all_python(fixture: &str) -> String {
    let text = std::fs::read_to_string(fixture).unwrap();
    let python = Source {
        text: text.replace("language: typescript", "language: python"),
        file: "all-python.yaml".into(),
    };
    let Ok(python) = pipeline::generate(&python, &TemplateSet::embedded(), false) else {
        panic!("the all-Python variant of {fixture} does not generate");
    };
    let python: Files = python.files.into_iter().collect();
    let mixed = generate_file(fixture);
    let main = |files: &Files| files["infra/terraform/main.tf"].replace("nodejs22.x", "python3.12");
    assert_ne!(
        python["infra/terraform/main.tf"],
        mixed["infra/terraform/main.tf"]
    );
    assert_eq!(main(&python), main(&mixed));
    mixed["infra/terraform/main.tf"].clone()
}

fn mutate(files: &mut Files, from: &str, to: &str) {
    let main = files.get_mut("infra/terraform/main.tf").unwrap();
    assert!(main.contains(from), "mutation target {from:?} not found");
    *main = main.replacen(from, to, 1);
}

#[test]
fn a_variable_terraform_does_not_set_is_found() {
    let mut files = generate("ecommerce");
    mutate(
        &mut files,
        "    { name = \"DB_USER\", value = \"orders_db\" },\n",
        "",
    );
    assert_eq!(
        problems(&files),
        ["orders_api reads DB_USER, which Terraform does not set"]
    );
}

#[test]
fn a_variable_the_code_reads_but_does_not_require_is_found() {
    let mut files = generate("ecommerce");
    let module = files.get_mut("functions/orders_api.py").unwrap();
    *module = module.replacen("    \"USERS_URL\",\n", "", 1);
    mutate(
        &mut files,
        "    { name = \"USERS_URL\", value = module.api.endpoint },\n",
        "",
    );
    assert_eq!(
        problems(&files),
        ["orders_api reads USERS_URL, which its ENVIRONMENT does not require"]
    );
}

#[test]
fn a_variable_nothing_reads_is_found() {
    let mut files = generate("ecommerce");
    mutate(
        &mut files,
        "    { name = \"LOG_LEVEL\", value = \"INFO\" },\n",
        "    { name = \"LOG_LEVEL\", value = \"INFO\" },\n    { name = \"REDIS_URL\", value = \"x\" },\n",
    );
    let found = problems(&files);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0]
            .starts_with("Terraform sets REDIS_URL on users_api, which its code does not require")
    );
    assert!(found[1].starts_with("Terraform sets REDIS_URL on users_api, which nothing reads"));
}

#[test]
fn a_table_the_function_is_not_given_is_found_in_its_policy() {
    let mut files = generate("serverless-notes");
    mutate(
        &mut files,
        "resources = [aws_dynamodb_table.table_topic.arn]",
        "resources = [aws_dynamodb_table.table_topic.arn, aws_dynamodb_table.table_user.arn]",
    );
    assert_eq!(
        problems(&files),
        [
            "topics_api is given tables {\"table_topic\"} but its policy names {\"table_topic\", \"table_user\"}"
        ]
    );
}

#[test]
fn an_action_the_code_never_performs_is_found() {
    let mut files = generate("ecommerce");
    mutate(
        &mut files,
        "actions   = [\"rds-db:connect\"]",
        "actions   = [\"rds-db:connect\", \"dynamodb:PutItem\"]",
    );
    assert_eq!(
        problems(&files),
        ["users_api may dynamodb:PutItem, which its code never does"]
    );
}

/// `(method, path, authorization)` of every route of the generated HTTP API.
fn api_routes(main: &str) -> Vec<(String, String, String)> {
    main.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("{ route_key = "))
        .map(|l| {
            let q = quoted(l);
            let (method, path) = q[0].split_once(' ').expect("METHOD /path");
            (method.to_owned(), path.to_owned(), q[1].clone())
        })
        .collect()
}

/// The operations the blueprint makes public (`auth: { read: public }` …): `(method, path)`.
fn public_operations(example: &str) -> BTreeSet<(String, String)> {
    let text = set_top_level(assets::example(example).unwrap(), "type", "serverless");
    let src = Source {
        text,
        file: format!("{example}.yaml"),
    };
    let (bp, _) = pipeline::load(&src, false).unwrap();
    let model = pipeline::model(&bp).unwrap();
    let mut out = BTreeSet::new();
    for e in &model.entities {
        let p = &e.code.api_path;
        let public = |r: &Option<codex_system_design::resolve::auth::Rule>| {
            r.as_ref().is_some_and(|r| r.kind == "public")
        };
        if public(&e.code.auth.read) {
            out.insert(("GET".to_owned(), p.clone()));
            out.insert(("GET".to_owned(), format!("{p}/{{id}}")));
        }
        if public(&e.code.auth.write) {
            out.insert(("POST".to_owned(), p.clone()));
            out.insert(("PATCH".to_owned(), format!("{p}/{{id}}")));
            out.insert(("DELETE".to_owned(), format!("{p}/{{id}}")));
        }
    }
    out
}

#[test]
fn public_operations_skip_the_authorizer_and_every_other_route_needs_a_token() {
    let mut seen_public = 0;
    for example in EXAMPLES {
        let files = generate(example);
        let routes = api_routes(&files["infra/terraform/main.tf"]);
        let public = public_operations(example);
        let unauthorized: BTreeSet<(String, String)> = routes
            .iter()
            .filter(|r| r.2 == "NONE")
            .map(|r| (r.0.clone(), r.1.clone()))
            .collect();
        assert_eq!(
            unauthorized, public,
            "{example}: routes without the authorizer"
        );
        for (method, path, auth) in &routes {
            assert!(
                auth == "NONE" || auth == "JWT",
                "{example}: {method} {path}: {auth}"
            );
            if method == "ANY" {
                assert_eq!(
                    auth, "JWT",
                    "{example}: ANY {path} must carry the authorizer"
                );
            }
        }
        seen_public += public.len();
    }
    assert!(seen_public > 0, "no example has a public operation");
}
