//! Issue 18: every cloud-environment client setting (broker, cache, database) matches the
//! Terraform that provisions it — ports, TLS and the way of signing in — read from the generated
//! tree for every built-in example × type: the Kubernetes overlays (ConfigMap patches and
//! ExternalSecrets) and the deploy workflow on one side, the Terraform resources on the other;
//! for serverless, the Lambda environment in Terraform against RDS Proxy. Mutations show the
//! check catches a plaintext client, a wrong port and a credential in a ConfigMap.

use codex_system_design::assets;
use codex_system_design::blueprint::edit::set_top_level;
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::TemplateSet;
use hcl_edit::structure::{Block, Body};
use serde_json::Value;
use std::collections::BTreeMap;

const EXAMPLES: [&str; 4] = ["ecommerce", "event-orders", "auth-service", "polyglot-shop"];

type Files = BTreeMap<String, String>;

fn generate(example: &str, ty: &str) -> Files {
    let text = set_top_level(assets::example(example).unwrap(), "type", ty);
    let src = Source {
        text,
        file: format!("{example}.yaml"),
    };
    match pipeline::generate(&src, &TemplateSet::embedded(), false) {
        Ok(g) => g.files.into_iter().collect(),
        Err(_) => panic!("{example} does not lower to {ty}"),
    }
}

fn hcl(files: &Files, path: &str) -> Body {
    let text = files.get(path).unwrap_or_else(|| panic!("{path} missing"));
    hcl_edit::parser::parse_body(text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn resource<'a>(body: &'a Body, kind: &str, name: &str) -> Option<&'a Block> {
    body.get_blocks("resource")
        .find(|b| b.has_exact_labels(&[kind, name]))
}

fn nested<'a>(block: &'a Block, ident: &'a str) -> Option<&'a Block> {
    block.body.get_blocks(ident).next()
}

/// An attribute's expression as written (`"TLS"`, `true`, `module.x.y`).
fn attr(body: &Body, key: &str) -> Option<String> {
    body.get_attribute(key)
        .map(|a| a.value.to_string().trim().to_owned())
}

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(text).unwrap()
}

/// The client settings of one workload in one cloud environment, as its pods see them:
/// the base ConfigMap, the overlay's ConfigMap patches, then its ExternalSecret's keys.
#[derive(Debug, Default)]
struct Client {
    plain: BTreeMap<String, String>,
    /// Secret variable → (Secrets Manager name, property).
    secret: BTreeMap<String, (String, String)>,
}

fn clients(files: &Files, env: &str) -> BTreeMap<String, Client> {
    let mut out: BTreeMap<String, Client> = BTreeMap::new();
    for (path, text) in files {
        let Some(rest) = path.strip_prefix("deploy/k8s/base/") else {
            continue;
        };
        let Some(workload) = rest.strip_suffix("/config-map.yaml") else {
            continue;
        };
        let doc = &yaml_docs(text)[0];
        let c = out.entry(workload.to_owned()).or_default();
        for (k, v) in doc["data"].as_object().unwrap() {
            c.plain.insert(k.clone(), v.as_str().unwrap().to_owned());
        }
    }
    let kustomization =
        &yaml_docs(&files[&format!("deploy/k8s/overlays/{env}/kustomization.yaml")])[0];
    for p in kustomization["patches"].as_array().into_iter().flatten() {
        if p["target"]["kind"] != "ConfigMap" {
            continue;
        }
        let workload = p["target"]["name"]
            .as_str()
            .unwrap()
            .trim_end_matches("-config");
        let ops: Vec<Value> = serde_saphyr::from_str(p["patch"].as_str().unwrap()).unwrap();
        for op in ops {
            let key = op["path"].as_str().unwrap().trim_start_matches("/data/");
            out.entry(workload.to_owned())
                .or_default()
                .plain
                .insert(key.to_owned(), op["value"].as_str().unwrap().to_owned());
        }
    }
    if let Some(text) = files.get(&format!("deploy/k8s/overlays/{env}/transport.yaml")) {
        for doc in yaml_docs(text) {
            if doc["kind"] != "ExternalSecret" {
                continue;
            }
            let target = doc["spec"]["target"]["name"].as_str().unwrap();
            let workload = target.trim_end_matches("-connections");
            for d in doc["spec"]["data"].as_array().unwrap() {
                let r = &d["remoteRef"];
                out.entry(workload.to_owned()).or_default().secret.insert(
                    d["secretKey"].as_str().unwrap().to_owned(),
                    (
                        r["key"].as_str().unwrap().to_owned(),
                        r["property"].as_str().unwrap().to_owned(),
                    ),
                );
            }
        }
    }
    out
}

/// The Deployments' `envFrom` must load the ExternalSecret's Secret after the ConfigMap, so its
/// values win (Kubernetes: the last source of a duplicate key wins).
fn loads_connections_last(files: &Files, workload: &str) -> bool {
    let text = &files[&format!("deploy/k8s/base/{workload}/deployment.yaml")];
    yaml_docs(text).iter().all(|d| {
        let from = &d["spec"]["template"]["spec"]["containers"][0]["envFrom"];
        from.as_array().and_then(|a| a.last()).is_some_and(|last| {
            last["secretRef"]["name"] == format!("{workload}-connections").as_str()
        })
    })
}

/// The endpoints secret of the root module: key → Terraform expression.
fn endpoints(main: &Body) -> BTreeMap<String, String> {
    let version = resource(main, "aws_secretsmanager_secret_version", "endpoints")
        .expect("the endpoints secret version");
    let text = attr(&version.body, "secret_string").unwrap();
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().trim_matches('"').to_owned(), v.trim().to_owned()))
        .collect()
}

fn ingress_port(body: &Body, rule: &str) -> String {
    let r = resource(body, "aws_vpc_security_group_ingress_rule", rule).unwrap();
    attr(&r.body, "from_port").unwrap()
}

/// `{system}-{env}`: the `local.prefix` of the root module for one environment.
fn prefix(files: &Files, env: &str) -> String {
    let base = &files["infra/terraform/variables.tf"];
    let name = base
        .lines()
        .skip_while(|l| !l.starts_with("variable \"name\""))
        .find_map(|l| l.trim().strip_prefix("default"))
        .unwrap()
        .trim()
        .trim_start_matches('=')
        .trim()
        .trim_matches('"')
        .to_owned();
    format!("{name}-{env}")
}

fn environments(files: &Files) -> Vec<String> {
    files
        .keys()
        .filter_map(|p| p.strip_prefix("deploy/k8s/overlays/"))
        .filter_map(|p| p.strip_suffix("/kustomization.yaml"))
        .map(str::to_owned)
        .collect()
}

/// Every problem found for one generated tree (empty when client and Terraform agree).
fn problems(files: &Files) -> Vec<String> {
    let mut out = Vec::new();
    if files.contains_key("functions/app/db.py") {
        serverless(files, &mut out);
        return out;
    }
    let main = hcl(files, "infra/terraform/main.tf");
    for env in environments(files) {
        let prefix = prefix(files, &env);
        for (w, c) in clients(files, &env) {
            let mut fail = |what: String| out.push(format!("{env}/{w}: {what}"));
            let uses_secrets = !c.secret.is_empty();
            if uses_secrets && !loads_connections_last(files, &w) {
                fail("pods do not load <workload>-connections after the ConfigMap".into());
            }
            for key in c.plain.keys() {
                if key.contains("PASSWORD") || key.contains("SECRET") || key == "DATABASE_URL" {
                    fail(format!("credential {key} in a ConfigMap"));
                }
            }
            for v in c.plain.values() {
                if v.contains('@') && v.contains("://") {
                    fail(format!("credentials in a ConfigMap address: {v}"));
                }
            }
            if c.plain.contains_key("KAFKA_BOOTSTRAP_SERVERS") {
                kafka(files, &main, &c, &mut fail);
            }
            if c.plain.contains_key("REDIS_URL") {
                redis(files, &main, &prefix, &c, &mut fail);
                redis_client(files, &w, &mut fail);
            }
            if c.plain.contains_key("AMQP_HOST") {
                amqp(files, &main, &prefix, &c, &mut fail);
            }
        }
    }
    database(files, &mut out);
    out
}

fn endpoint_of(main: &Body, c: &Client, var: &str, fail: &mut impl FnMut(String)) -> String {
    let Some((key, property)) = c.secret.get(var) else {
        fail(format!("{var} does not come from Secrets Manager"));
        return String::new();
    };
    if !key.ends_with("/endpoints") {
        fail(format!("{var} from {key}, not the endpoints secret"));
    }
    endpoints(main).get(property).cloned().unwrap_or_else(|| {
        fail(format!(
            "{var}: Terraform's endpoints secret has no `{property}`"
        ));
        String::new()
    })
}

fn kafka(files: &Files, main: &Body, c: &Client, fail: &mut impl FnMut(String)) {
    let msg = hcl(files, "infra/terraform/modules/messaging/main.tf");
    let cluster = resource(&msg, "aws_msk_cluster", "this").unwrap();
    let auth = nested(cluster, "client_authentication").unwrap();
    let iam = nested(auth, "sasl").and_then(|s| attr(&s.body, "iam"));
    let transit = nested(cluster, "encryption_info")
        .and_then(|e| nested(e, "encryption_in_transit"))
        .and_then(|t| attr(&t.body, "client_broker"));
    let plain = |k: &str| c.plain.get(k).map(String::as_str).unwrap_or("PLAINTEXT");
    if transit.as_deref() == Some("\"TLS\"") && !plain("KAFKA_SECURITY_PROTOCOL").ends_with("SSL") {
        fail("MSK takes TLS only, the client is not on TLS".into());
    }
    if iam.as_deref() == Some("true") && plain("KAFKA_SASL_MECHANISM") != "OAUTHBEARER" {
        fail("MSK signs clients in with IAM, the client does not (OAUTHBEARER)".into());
    }
    if attr(&auth.body, "unauthenticated").as_deref() != Some("false") {
        fail("MSK accepts unauthenticated clients".into());
    }
    let value = endpoint_of(main, c, "KAFKA_BOOTSTRAP_SERVERS", fail);
    if value.is_empty() {
        return;
    }
    let out = hcl(files, "infra/terraform/modules/messaging/outputs.tf");
    let listener = out
        .get_blocks("output")
        .find(|b| value.ends_with(&format!(".{}", b.labels[0].as_str())))
        .and_then(|b| attr(&b.body, "value"))
        .unwrap_or_default();
    let port = ingress_port(&msg, "kafka");
    // MSK's bootstrap strings by listener: 9098 is the IAM (TLS) one.
    let wanted = match port.as_str() {
        "9098" => "bootstrap_brokers_sasl_iam",
        "9094" => "bootstrap_brokers_tls",
        _ => "bootstrap_brokers",
    };
    if !listener.ends_with(wanted) {
        fail(format!(
            "brokers {listener}, the security group opens {port} ({wanted})"
        ));
    }
}

fn redis(files: &Files, main: &Body, prefix: &str, c: &Client, fail: &mut impl FnMut(String)) {
    let cache = hcl(files, "infra/terraform/modules/cache/main.tf");
    let group = resource(&cache, "aws_elasticache_replication_group", "this").unwrap();
    let value = endpoint_of(main, c, "REDIS_URL", fail);
    if attr(&group.body, "transit_encryption_enabled").as_deref() == Some("true")
        && !value.starts_with("\"rediss://")
    {
        fail(format!(
            "ElastiCache requires TLS, the client URL is {value}"
        ));
    }
    let port = attr(&group.body, "port").unwrap();
    if ingress_port(&cache, "redis") != port || !value.contains(".port}") {
        fail(format!(
            "cache port {port} differs from the client's or the security group's"
        ));
    }
    let user = resource(&cache, "aws_elasticache_user", "app").unwrap();
    let mode = nested(user, "authentication_mode").and_then(|m| attr(&m.body, "type"));
    let secret = resource(&cache, "aws_secretsmanager_secret", "auth")
        .and_then(|s| attr(&s.body, "name"))
        .unwrap_or_default();
    let module_name = c
        .secret
        .get("REDIS_USERNAME")
        .map(|(k, _)| k.trim_end_matches("-auth").to_owned())
        .unwrap_or_default();
    if mode.as_deref() != Some("\"password\"") {
        fail(format!(
            "ElastiCache user signs in by {mode:?}, the client by password"
        ));
    }
    for var in ["REDIS_USERNAME", "REDIS_PASSWORD"] {
        match c.secret.get(var) {
            Some((k, _)) if secret == "\"${var.name}-auth\"" && k.starts_with(prefix) => {}
            other => fail(format!(
                "{var} from {other:?}, Terraform keeps it in {secret}"
            )),
        }
    }
    let in_main = main
        .get_blocks("module")
        .filter_map(|b| attr(&b.body, "name"))
        .any(|n| n.replace("${local.prefix}", prefix).trim_matches('"') == module_name);
    if !in_main {
        fail(format!("no cache module is named {module_name}"));
    }
}

/// The workload's own Redis client signs in with the user and password the ExternalSecret gives
/// (REDIS_USERNAME, REDIS_PASSWORD) and keeps the certificate check of `rediss://`: redis-py in
/// a Python service (`app/cache.py`), ioredis in a TypeScript one (`src/cache.ts`, `src/app.ts`).
fn redis_client(files: &Files, workload: &str, fail: &mut impl FnMut(String)) {
    let code = |rel: &str| {
        files
            .get(&format!("services/{workload}/{rel}"))
            .map(String::as_str)
    };
    let signs_in = if let Some(cache) = code("src/cache.ts") {
        let app = code("src/app.ts").unwrap_or_default();
        app.contains("connect(config.REDIS_URL, config.REDIS_USERNAME, config.REDIS_PASSWORD)")
            && cache.contains("username: username || undefined,")
            && cache.contains("password: password || undefined,")
            && !cache.contains("rejectUnauthorized: false")
    } else if let Some(cache) = code("app/cache.py") {
        cache.contains("username=settings.redis_username or None,")
            && cache.contains("password=settings.redis_password or None,")
            && !cache.contains("ssl_cert_reqs")
    } else {
        // A monolith's app: its modules share one cache module, checked by the Python tests.
        return;
    };
    if !signs_in {
        fail(
            "the Redis client does not sign in with REDIS_USERNAME/REDIS_PASSWORD over checked TLS"
                .into(),
        );
    }
}

fn amqp(files: &Files, main: &Body, prefix: &str, c: &Client, fail: &mut impl FnMut(String)) {
    let msg = hcl(files, "infra/terraform/modules/messaging/main.tf");
    let value = endpoint_of(main, c, "AMQP_HOST", fail);
    let port = ingress_port(&msg, "amqps");
    if value != "module.messaging.amqp_endpoint" || port != "5671" {
        fail(format!(
            "AMQP client {value}, Amazon MQ listens on AMQPS {port}"
        ));
    }
    let secret = resource(&msg, "aws_secretsmanager_secret", "broker")
        .and_then(|s| attr(&s.body, "name"))
        .unwrap_or_default();
    for var in ["AMQP_USERNAME", "AMQP_PASSWORD"] {
        let want = secret.replace("${var.name}", prefix);
        match c.secret.get(var) {
            Some((k, _)) if format!("\"{k}\"") == want => {}
            other => fail(format!(
                "{var} from {other:?}, Terraform keeps it in {want}"
            )),
        }
    }
}

/// RDS: TLS forced by the parameter group of each engine, and the URL External Secrets builds
/// (RDS's own address from the endpoints secret) checks the certificate against the CA bundle the pods mount: PostgreSQL's `verify-full` with
/// `sslrootcert`, MySQL's `tls=true`, which the apps turn into PyMySQL's TLS against the bundle
/// (host name checked) and dbmate checks against `SSL_CERT_FILE`.
fn database(files: &Files, out: &mut Vec<String>) {
    let Some(db) = files.get("infra/terraform/modules/database/main.tf") else {
        return;
    };
    let body = hcl_edit::parser::parse_body(db).unwrap();
    let forced = |group: &str, name: &str, value: &str| {
        resource(&body, "aws_db_parameter_group", group).is_some_and(|g| {
            g.body.get_blocks("parameter").any(|p| {
                attr(&p.body, "name").as_deref() == Some(name)
                    && attr(&p.body, "value").as_deref() == Some(value)
            })
        })
    };
    if !forced("this", "\"rds.force_ssl\"", "\"1\"") {
        out.push("RDS PostgreSQL does not force TLS".into());
    }
    if !forced("mysql", "\"require_secure_transport\"", "\"1\"") {
        out.push("RDS MySQL does not force TLS".into());
    }
    let port = ingress_port(&body, "postgres");
    let locals = body.get_blocks("locals").next().map(|l| l.body.clone());
    let port_of = locals.and_then(|l| attr(&l, "port")).unwrap_or_default();
    if port != "local.port" || port_of != "local.mysql ? 3306 : 5432" {
        out.push(format!("database port: security group {port} ({port_of})"));
    }
    let main = hcl_edit::parser::parse_body(&files["infra/terraform/main.tf"]).unwrap();
    for (url, address) in database_urls(files) {
        // The address is RDS's own, host and port, as Terraform publishes it.
        let published = endpoints(&main).get(&address).cloned().unwrap_or_default();
        let rds = published.starts_with("\"${module.database_")
            && published.contains(".address}:${module.database_")
            && published.ends_with(".port}\"");
        if !rds {
            out.push(format!(
                "database address {address}: {published:?} is not RDS's"
            ));
        }
        if url.starts_with("postgresql://") {
            postgres_url(files, &url, out);
        } else if url.starts_with("mysql://") {
            mysql_url(files, &url, out);
        } else {
            out.push(format!("DATABASE_URL of an unknown engine: {url}"));
        }
    }
}

/// Each cloud database's URL template (External Secrets) with the endpoints-secret property
/// it takes the address from.
fn database_urls(files: &Files) -> Vec<(String, String)> {
    let credentials = files.iter().filter(|(p, _)| {
        p.starts_with("deploy/k8s/migrations/overlays/") && p.ends_with("/credentials.yaml")
    });
    let mut out = Vec::new();
    for (_, text) in credentials {
        for es in yaml_docs(text)
            .into_iter()
            .filter(|d| d["kind"] == "ExternalSecret")
        {
            let url = es["spec"]["target"]["template"]["data"]["DATABASE_URL"]
                .as_str()
                .unwrap_or_default();
            let address = es["spec"]["data"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["secretKey"] == "address")
                .and_then(|d| d["remoteRef"]["property"].as_str())
                .unwrap_or_default();
            out.push((url.to_owned(), address.to_owned()));
        }
    }
    out
}

fn postgres_url(files: &Files, url: &str, out: &mut Vec<String>) {
    let Some(ca) = url
        .split("sslrootcert=")
        .nth(1)
        .map(|r| r.split('&').next().unwrap_or(r))
    else {
        out.push(format!("DATABASE_URL checks no CA: {url}"));
        return;
    };
    if !url.contains("sslmode=verify-full") {
        out.push(format!("DATABASE_URL does not verify the server: {url}"));
    }
    ca_mounted(files, ca, out);
}

fn mysql_url(files: &Files, url: &str, out: &mut Vec<String>) {
    if !url.ends_with("?tls=true") || !url.contains("@{{ .address }}/") {
        out.push(format!("MySQL DATABASE_URL asks for no TLS: {url}"));
    }
    let ca = "/etc/ssl/rds/global-bundle.pem";
    // Python (PyMySQL) and TypeScript (mysql2) apps on MySQL: each turns `tls=true` into TLS
    // against the mounted bundle with the host name checked.
    let python = |t: &str| {
        t.contains(&format!("RDS_CA_FILE = \"{ca}\""))
            && t.contains("tls = parsed.query.get(\"tls\") == \"true\"")
            && t.contains("args[\"ssl\"] = {\"ca\": RDS_CA_FILE, \"check_hostname\": True}")
    };
    let typescript = |t: &str| {
        t.contains(&format!("export const RDS_CA_FILE = \"{ca}\";"))
            && t.contains("const tls = u.searchParams.get(\"tls\") === \"true\";")
            && t.contains("ssl: { ca: readFileSync(RDS_CA_FILE, \"utf8\"), rejectUnauthorized: true, verifyIdentity: true }")
    };
    let apps: Vec<(&String, &String, bool)> = files
        .iter()
        .filter_map(|(p, t)| {
            if p.ends_with("/app/db.py") && t.contains("mysql+pymysql") {
                Some((p, t, python(t)))
            } else if p.ends_with("/src/db.ts") && t.contains("from \"mysql2/promise\"") {
                Some((p, t, typescript(t)))
            } else {
                None
            }
        })
        .collect();
    if apps.is_empty() {
        out.push("a MySQL URL, but no app reaches MySQL".into());
    }
    for (path, _, verified) in apps {
        if !verified {
            out.push(format!(
                "{path}: tls=true does not check the server against {ca}"
            ));
        }
    }
    let jobs: Vec<&String> = files
        .iter()
        .filter(|(p, _)| p.starts_with("deploy/k8s/migrations/base/") && p.ends_with(".yaml"))
        .map(|(_, t)| t)
        .filter(|t| t.contains("kind: Job"))
        .collect();
    let mysql_jobs = jobs
        .iter()
        .filter(|t| t.contains(&format!("name: SSL_CERT_FILE\n              value: {ca}")))
        .count();
    let mysql_modules = files["infra/terraform/main.tf"]
        .matches("engine                     = \"mysql\"")
        .count();
    if mysql_jobs != mysql_modules || mysql_jobs == 0 {
        out.push(format!(
            "{mysql_jobs} migration Job(s) trust the RDS CA for dbmate, {mysql_modules} RDS MySQL database(s)"
        ));
    }
    ca_mounted(files, ca, out);
}

fn ca_mounted(files: &Files, ca: &str, out: &mut Vec<String>) {
    let dir = ca.rsplit_once('/').map(|(d, _)| d).unwrap_or_default();
    for (path, text) in files {
        let is_db_pod = (path.starts_with("deploy/k8s/base/")
            && path.ends_with("/deployment.yaml")
            || path.starts_with("deploy/k8s/migrations/base/"))
            && text.contains("key: DATABASE_URL");
        if is_db_pod && !text.contains(&format!("mountPath: {dir}")) {
            out.push(format!("{path}: the RDS CA ({ca}) is not mounted"));
        }
    }
}

/// Serverless: each function reaches RDS Proxy with TLS, checking the certificate.
fn serverless(files: &Files, out: &mut Vec<String>) {
    let main = &files["infra/terraform/main.tf"];
    let Some(db) = files.get("infra/terraform/modules/database/main.tf") else {
        return;
    };
    let body = hcl_edit::parser::parse_body(db).unwrap();
    let proxy = resource(&body, "aws_db_proxy", "this").unwrap();
    if attr(&proxy.body, "require_tls").as_deref() != Some("true") {
        out.push("RDS Proxy does not require TLS".into());
    }
    let hosts = main.matches("name = \"DB_HOST\"").count();
    let modes = main
        .matches("{ name = \"DB_SSLMODE\", value = \"verify-full\" }")
        .count();
    let cas = main.matches("name = \"DB_SSLROOTCERT\"").count();
    if hosts != modes || hosts != cas {
        out.push(format!(
            "{hosts} function(s) reach the proxy, {modes} with verify-full, {cas} with a CA"
        ));
    }
    let code = &files["functions/app/db.py"];
    if !code.contains("\"sslmode\": settings.db_sslmode") {
        out.push("functions/app/db.py ignores DB_SSLMODE".into());
    }
}

/// No secret value leaves Secrets Manager through Terraform's outputs, and the local compose
/// file is the only place with a password of its own.
fn secrets_stay_put(files: &Files) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with("outputs.tf")) {
        let body = hcl_edit::parser::parse_body(text).unwrap();
        for o in body.get_blocks("output") {
            let value = attr(&o.body, "value").unwrap_or_default();
            if value.contains("secret_string") || value.contains("password") {
                out.push(format!(
                    "{path}: output {} gives a secret",
                    o.labels[0].as_str()
                ));
            }
        }
    }
    let compose = files.get("deploy/compose/docker-compose.yml");
    let passwords: Vec<&str> = compose
        .into_iter()
        .flat_map(|t| t.lines())
        .filter_map(|l| l.trim().strip_prefix("POSTGRES_PASSWORD:"))
        .map(str::trim)
        .collect();
    for (path, text) in files {
        if path.starts_with("deploy/compose/") || path.starts_with(".codex-system-design/") {
            continue;
        }
        for p in &passwords {
            if text.contains(p) {
                out.push(format!("{path} holds the local password {p}"));
            }
        }
        if text.contains("POSTGRES_PASSWORD") {
            out.push(format!("{path} sets a PostgreSQL password"));
        }
    }
    out
}

#[test]
fn cloud_clients_match_the_terraform_that_provisions_them() {
    let mut all = Vec::new();
    let mut seen = BTreeMap::<&str, usize>::new();
    for ex in EXAMPLES {
        for ty in assets::example_types(ex) {
            let files = generate(ex, ty);
            for p in problems(&files).into_iter().chain(secrets_stay_put(&files)) {
                all.push(format!("{ex} × {ty}: {p}"));
            }
            for (k, v) in [
                ("kafka", "KAFKA_SASL_MECHANISM"),
                ("redis", "REDIS_USERNAME"),
                ("amqp", "AMQP_PASSWORD"),
            ] {
                if files.values().any(|t| t.contains(v)) {
                    *seen.entry(k).or_default() += 1;
                }
            }
        }
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
    // Every kind of client is exercised by some example.
    assert_eq!(seen.len(), 3, "{seen:?}");
}

fn mutated(files: &Files, path: &str, from: &str, to: &str) -> Files {
    let mut f = files.clone();
    let text = f.get_mut(path).unwrap();
    assert!(text.contains(from), "{path} has no {from:?}");
    *text = text.replace(from, to);
    f
}

#[test]
fn a_plaintext_or_misrouted_client_is_caught() {
    let files = generate("ecommerce", "microservices");
    assert!(problems(&files).is_empty());
    let k = "deploy/k8s/overlays/prod/kustomization.yaml";
    let plaintext = mutated(&files, k, "\"SASL_SSL\"", "\"PLAINTEXT\"");
    assert!(problems(&plaintext).iter().any(|p| p.contains("TLS only")));
    let no_iam = mutated(&files, k, "\"OAUTHBEARER\"", "\"PLAIN\"");
    assert!(problems(&no_iam).iter().any(|p| p.contains("IAM")));
    let tf = "infra/terraform/modules/messaging/outputs.tf";
    let tls_port = mutated(
        &files,
        tf,
        "bootstrap_brokers_sasl_iam",
        "bootstrap_brokers",
    );
    assert!(problems(&tls_port).iter().any(|p| p.contains("opens 9098")));
    let main = "infra/terraform/main.tf";
    let plain_redis = mutated(&files, main, "\"rediss://", "\"redis://");
    assert!(
        problems(&plain_redis)
            .iter()
            .any(|p| p.contains("requires TLS"))
    );
    let cache = "infra/terraform/modules/cache/main.tf";
    let iam = mutated(
        &files,
        cache,
        "type      = \"password\"",
        "type      = \"iam\"",
    );
    assert!(problems(&iam).iter().any(|p| p.contains("signs in by")));
    let base = "deploy/k8s/base/users/config-map.yaml";
    let leak = mutated(&files, base, "data:\n", "data:\n  REDIS_PASSWORD: \"x\"\n");
    assert!(problems(&leak).iter().any(|p| p.contains("credential")));
    let creds = "deploy/k8s/migrations/overlays/prod/credentials.yaml";
    let lax = mutated(&files, creds, "sslmode=verify-full", "sslmode=require");
    assert!(problems(&lax).iter().any(|p| p.contains("does not verify")));
    let elsewhere = mutated(
        &files,
        main,
        "${module.database_orders_db.address}:${module.database_orders_db.port}",
        "orders-db.internal:5432",
    );
    assert!(
        problems(&elsewhere)
            .iter()
            .any(|p| p.contains("orders-db") && p.contains("is not RDS's"))
    );
    assert!(secrets_stay_put(&files).is_empty());
    let weak = mutated(
        &files,
        "infra/terraform/modules/database/main.tf",
        "\"require_secure_transport\"\n    value = \"1\"",
        "\"require_secure_transport\"\n    value = \"0\"",
    );
    assert!(
        problems(&weak)
            .iter()
            .any(|p| p.contains("MySQL does not force TLS"))
    );
    let out = "infra/terraform/modules/cache/outputs.tf";
    let given = mutated(
        &files,
        out,
        "aws_secretsmanager_secret.auth.arn",
        "aws_secretsmanager_secret_version.auth.secret_string",
    );
    assert!(
        secrets_stay_put(&given)
            .iter()
            .any(|p| p.contains("gives a secret"))
    );
    let ci = ".github/workflows/ci.yml";
    let pw = mutated(
        &files,
        ci,
        "POSTGRES_HOST_AUTH_METHOD: trust",
        "POSTGRES_PASSWORD: app",
    );
    assert!(
        secrets_stay_put(&pw)
            .iter()
            .any(|p| p.contains("PostgreSQL password"))
    );
}

#[test]
fn a_mysql_client_without_tls_is_caught() {
    let files = generate("polyglot-shop", "microservices");
    assert!(problems(&files).is_empty(), "{:?}", problems(&files));
    let creds = "deploy/k8s/migrations/overlays/dev/credentials.yaml";
    let plain = mutated(&files, creds, "?tls=true\"", "\"");
    assert!(
        problems(&plain)
            .iter()
            .any(|p| p.contains("asks for no TLS"))
    );
    let db = "services/orders/app/db.py";
    let unchecked = mutated(
        &files,
        db,
        "\"check_hostname\": True",
        "\"check_hostname\": False",
    );
    assert!(
        problems(&unchecked)
            .iter()
            .any(|p| p.contains("orders/app/db.py: tls=true does not check the server"))
    );
    // The TypeScript catalog on MySQL: mysql2 without the host name check.
    let ts = "services/catalog/src/db.ts";
    let unchecked = mutated(&files, ts, "verifyIdentity: true", "verifyIdentity: false");
    assert!(
        problems(&unchecked)
            .iter()
            .any(|p| p.contains("catalog/src/db.ts: tls=true does not check the server"))
    );
    let job = "deploy/k8s/migrations/base/orders-db.yaml";
    let untrusted = mutated(&files, job, "name: SSL_CERT_FILE", "name: SSL_CERT_DIR");
    assert!(
        problems(&untrusted)
            .iter()
            .any(|p| p.contains("trust the RDS CA"))
    );
}

/// A cache client that drops the ElastiCache user or the certificate check is caught, in
/// Python (ecommerce's users) and in TypeScript (polyglot-shop's catalog).
#[test]
fn a_redis_client_without_auth_or_checked_tls_is_caught() {
    let files = generate("polyglot-shop", "microservices");
    assert!(problems(&files).is_empty(), "{:?}", problems(&files));
    let app = "services/catalog/src/app.ts";
    let anonymous = mutated(
        &files,
        app,
        "connect(config.REDIS_URL, config.REDIS_USERNAME, config.REDIS_PASSWORD)",
        "connect(config.REDIS_URL, \"\", \"\")",
    );
    let sign_in = |p: &String| p.contains("catalog: the Redis client does not sign in");
    assert!(problems(&anonymous).iter().any(sign_in));
    let cache = "services/catalog/src/cache.ts";
    let unchecked = mutated(
        &files,
        cache,
        "retryStrategy:",
        "tls: { rejectUnauthorized: false },\n    retryStrategy:",
    );
    assert!(problems(&unchecked).iter().any(sign_in));
    let py = generate("ecommerce", "microservices");
    let path = py
        .keys()
        .find(|p| {
            p.ends_with("/app/cache.py") && {
                let w = p.split('/').nth(1).unwrap_or_default();
                py.get(&format!("deploy/k8s/base/{w}/config-map.yaml"))
                    .is_some_and(|c| c.contains("REDIS_URL"))
            }
        })
        .expect("an ecommerce service with a cache")
        .clone();
    let anonymous = mutated(
        &py,
        &path,
        "password=settings.redis_password or None,",
        "password=None,",
    );
    assert!(
        problems(&anonymous)
            .iter()
            .any(|p| p.contains("the Redis client does not sign in"))
    );
}

#[test]
fn rabbitmq_and_serverless_mistakes_are_caught() {
    let files = generate("auth-service", "microservices");
    assert!(problems(&files).is_empty());
    let msg = "infra/terraform/modules/messaging/main.tf";
    let plain = mutated(
        &files,
        msg,
        "from_port                    = 5671",
        "from_port                    = 5672",
    );
    assert!(problems(&plain).iter().any(|p| p.contains("AMQPS")));
    let sls = generate("ecommerce", "serverless");
    assert!(problems(&sls).is_empty());
    let lax = mutated(
        &sls,
        "infra/terraform/main.tf",
        "value = \"verify-full\"",
        "value = \"require\"",
    );
    assert!(problems(&lax).iter().any(|p| p.contains("verify-full")));
}

/// CI runs each service's tests and migrations on its own engine: a MySQL service against the
/// job's MySQL, a PostgreSQL one against its PostgreSQL.
#[test]
fn ci_tests_each_service_on_its_own_engine() {
    let files = generate("polyglot-shop", "microservices");
    let ci = &files[".github/workflows/ci.yml"];
    let doc: Value = serde_saphyr::from_str(ci).unwrap();
    let mut seen = Vec::new();
    // Python services in `service`, TypeScript ones in `node-service`: each job starts MySQL
    // for its MySQL services and hands each service its own engine's URL.
    for name in ["service", "node-service"] {
        let job = &doc["jobs"][name];
        assert!(
            job["services"]["mysql"]["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("mysql:8")),
            "{name}: {ci}"
        );
        assert_eq!(job["env"]["DATABASE_URL"], "${{ matrix.database_url }}");
        for entry in job["strategy"]["matrix"]["include"].as_array().unwrap() {
            let name = entry["name"].as_str().unwrap();
            let want = match name {
                "orders" | "catalog" => "mysql://",
                _ => "postgresql://",
            };
            let url = entry["database_url"].as_str().unwrap();
            assert!(url.starts_with(want), "{name}: {url}");
            assert!(entry["migrate_url"].as_str().unwrap().starts_with(want));
            seen.push(name.to_owned());
        }
    }
    seen.sort();
    assert_eq!(seen, ["catalog", "orders", "payments"]);
    let only_postgres = generate("ecommerce", "microservices");
    assert!(!only_postgres[".github/workflows/ci.yml"].contains("mysql"));
}
