//! Terraform layer: the reference check (our stand-in for `terraform validate`) proves it rejects
//! what Terraform would reject, then runs over the Terraform of every built-in example × type ×
//! scale, together with `terraform fmt -check` where a terraform binary is installed.

mod tfcheck;

use codex_system_design::assets;
use codex_system_design::blueprint::edit::set_top_level;
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::TemplateSet;
use std::path::{Path, PathBuf};
use tfcheck::{Module, Strict, check_tree};

const TYPES: [&str; 3] = ["microservices", "monolith", "serverless"];
const SCALES: [&str; 3] = ["small", "medium", "large"];

fn module(files: &[(&str, &str)]) -> Module {
    let mut m = Module::default();
    for (name, text) in files {
        m.add_source(name, text);
    }
    m
}

fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const CHILD_VARS: &str = r#"
variable "name" {
  type = string
}

variable "size" {
  type    = number
  default = 1
}
"#;

const CHILD_OUT: &str = r#"
resource "aws_sqs_queue" "q" {
  name          = var.name
  delay_seconds = var.size
}

output "url" {
  value = aws_sqs_queue.q.url
}
"#;

#[test]
fn declared_references_pass() {
    let m = module(&[(
        "main.tf",
        r#"
variable "name" {
  type = string
  validation {
    condition     = length(var.name) > 0
    error_message = "empty"
  }
}

locals {
  tags = { System = var.name }
  ids  = [for s in aws_subnet.private : s.id]
  map  = { for k, v in local.tags : k => "${v}-${var.name}" }
}

data "aws_region" "current" {}

resource "aws_subnet" "private" {
  count      = 2
  cidr_block = cidrsubnet("10.0.0.0/16", 4, count.index)
  tags       = local.tags
}

resource "aws_security_group" "sg" {
  name = "${var.name}-${data.aws_region.current.name}"
  dynamic "ingress" {
    for_each = local.ids
    content {
      description = ingress.value
    }
  }
  lifecycle {
    ignore_changes = [tags]
  }
}

output "ids" {
  value = aws_subnet.private[*].id
}
"#,
    )]);
    assert_eq!(m.check_local(), Vec::<String>::new());
}

#[test]
fn undeclared_variable_local_data_and_resource_are_rejected() {
    let m = module(&[(
        "main.tf",
        r#"
resource "aws_sqs_queue" "q" {
  name   = "${var.missing}-x"
  tags   = local.nope
  policy = data.aws_iam_policy_document.absent.json
  kms    = aws_kms_key.gone.arn
  other  = module.ghost.id
}
"#,
    )]);
    let problems = m.check_local().join("\n");
    for expected in [
        "variable `var.missing` is not declared",
        "local `local.nope` is not declared",
        "data source `data.aws_iam_policy_document.absent` is not declared",
        "resource `aws_kms_key.gone` is not declared",
        "module `module.ghost` is not declared",
    ] {
        assert!(
            problems.contains(expected),
            "{expected} not in:\n{problems}"
        );
    }
}

#[test]
fn unused_variables_and_locals_are_reported() {
    let m = module(&[(
        "main.tf",
        "variable \"a\" {}\nvariable \"b\" {}\nlocals {\n  x = var.a\n  y = 1\n}\noutput \"o\" {\n  value = local.x\n}\n",
    )]);
    assert_eq!(
        m.unused(),
        ["variable `b` is never used", "local `y` is never used"]
    );
}

#[test]
fn names_bound_by_for_are_out_of_scope_after_it() {
    let m = module(&[(
        "main.tf",
        r#"
locals {
  a = [for s in [1, 2] : s]
  b = s.id
}
"#,
    )]);
    let problems = m.check_local().join("\n");
    assert!(
        problems.contains("resource `s.id` is not declared"),
        "{problems}"
    );
}

#[test]
fn duplicates_and_parse_errors_are_rejected() {
    let m = module(&[
        ("a.tf", "variable \"x\" {}\n"),
        ("b.tf", "variable \"x\" {}\nresource \"a\" {\n"),
    ]);
    let problems = m.check_local().join("\n");
    assert!(
        problems.contains("a.tf:1: variable `x` is declared twice")
            || problems.contains("does not parse")
    );
    assert!(
        problems.contains("b.tf:2: Terraform file does not parse"),
        "{problems}"
    );
    let m = module(&[(
        "a.tf",
        "output \"o\" {\n  value = 1\n}\noutput \"o\" {\n  value = 2\n}\n",
    )]);
    assert!(
        m.check_local()
            .join("\n")
            .contains("output `o` is declared twice")
    );
}

#[test]
fn undeclared_module_input_missing_required_input_and_unknown_output_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("modules/q/variables.tf", CHILD_VARS),
            ("modules/q/main.tf", CHILD_OUT),
            (
                "main.tf",
                r#"
module "ok" {
  source = "./modules/q"
  name   = "a"
}

module "bad" {
  source = "./modules/q"
  colour = "red"
}

output "good" {
  value = module.ok.url
}

output "wrong" {
  value = module.ok.arn
}
"#,
            ),
        ],
    );
    let problems = check_tree(dir.path()).join("\n");
    assert!(
        problems.contains("module `bad` has no variable `colour`"),
        "{problems}"
    );
    assert!(
        problems.contains("module `bad` needs variable `name`"),
        "{problems}"
    );
    assert!(
        problems.contains("module `ok` has no output `arn`"),
        "{problems}"
    );
    assert!(
        !problems.contains("module `ok` has no variable"),
        "{problems}"
    );
    assert!(!problems.contains("`url`"), "{problems}");
    assert_eq!(problems.lines().count(), 3, "{problems}");
}

#[test]
fn tfvars_keys_must_be_root_variables_and_module_sources_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("variables.tf", CHILD_VARS),
            (
                "main.tf",
                "module \"m\" {\n  source = \"./modules/none\"\n}\n",
            ),
            ("outputs.tf", CHILD_OUT),
            (
                "envs/dev.tfvars",
                "name = \"dev\"\nsize = 2\nflavour = \"x\"\n",
            ),
        ],
    );
    let problems = check_tree(dir.path()).join("\n");
    assert!(
        problems.contains("`flavour` in envs/dev.tfvars is no variable of the module"),
        "{problems}"
    );
    assert!(!problems.contains("`size`"), "{problems}");
    assert!(
        problems.contains("module `m`: source `./modules/none` is no folder of `.tf` files"),
        "{problems}"
    );
}

/// Render the blueprint of `example` lowered to `arch` at `scale`; write its Terraform files
/// under `out` and return their paths. `None` when the blueprint cannot be lowered to `arch`
/// (validation refuses it, e.g. grpc services in serverless).
fn generate_terraform(example: &str, arch: &str, scale: &str, out: &Path) -> Option<Vec<PathBuf>> {
    let text = assets::example(example).expect("example exists");
    let text = set_top_level(&set_top_level(text, "type", arch), "scale", scale);
    let src = Source {
        text,
        file: format!("{example}.yaml"),
    };
    let generated = match pipeline::generate(&src, &TemplateSet::embedded(), false) {
        Ok(g) => g,
        Err(codex_system_design::error::Error::Invalid(_)) => return None,
        Err(e) => panic!("{example} {arch} {scale}: {e}"),
    };
    let mut written = Vec::new();
    for (path, content) in &generated.files {
        if let Some(rel) = path.strip_prefix("infra/terraform/") {
            let p = out.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, content).unwrap();
            written.push(p);
        }
    }
    Some(written)
}

fn terraform() -> Option<PathBuf> {
    let candidates = ["/usr/local/bin/terraform", "/usr/bin/terraform"];
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

#[test]
fn every_example_type_and_scale_passes_the_reference_check_and_fmt() {
    let tf = terraform();
    if tf.is_none() {
        eprintln!("note: no terraform binary; `terraform fmt -check` not run");
    }
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    for (example, _) in assets::examples() {
        for &arch in assets::example_types(example) {
            for scale in SCALES {
                let dir = tempfile::tempdir().unwrap();
                let label = format!("{example} {arch} {scale}");
                let Some(files) = generate_terraform(example, arch, scale, dir.path()) else {
                    refused.push(format!("{example} {arch}"));
                    continue;
                };
                if files.is_empty() {
                    failures.push(format!("{label}: no Terraform generated"));
                    continue;
                }
                for p in check_tree(dir.path()) {
                    failures.push(format!("{label}: {p}"));
                }
                if let Some(tf) = &tf {
                    let out = std::process::Command::new(tf)
                        .args(["fmt", "-check", "-recursive", "-list=true", "-no-color"])
                        .current_dir(dir.path())
                        .output()
                        .unwrap();
                    if !out.status.success() {
                        failures.push(format!(
                            "{label}: terraform fmt -check: {}{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every example lowers to every type (http+grpc services become HTTP functions).
    refused.dedup();
    assert!(refused.is_empty(), "refused: {refused:?}");
}

fn render(text: &str) -> Vec<(String, String)> {
    let src = Source {
        text: text.to_owned(),
        file: "blueprint.yaml".into(),
    };
    match pipeline::generate(&src, &TemplateSet::embedded(), false) {
        Ok(g) => g
            .files
            .into_iter()
            .filter(|(p, _)| p.starts_with("infra/terraform/"))
            .collect(),
        Err(_) => panic!("blueprint does not generate"),
    }
}

fn file<'a>(files: &'a [(String, String)], path: &str) -> &'a str {
    files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("{path} not generated"))
}

fn check_rendered(files: &[(String, String)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir
            .path()
            .join(path.strip_prefix("infra/terraform/").unwrap());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut problems = check_tree(dir.path());
    if let Some(tf) = terraform() {
        let out = std::process::Command::new(tf)
            .args(["fmt", "-check", "-recursive", "-list=true", "-no-color"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        if !out.status.success() {
            problems.push(format!("fmt: {}", String::from_utf8_lossy(&out.stdout)));
        }
    }
    problems
}

fn example_as(example: &str, arch: &str, scale: &str) -> String {
    let text = assets::example(example).unwrap();
    set_top_level(&set_top_level(text, "type", arch), "scale", scale)
}

#[test]
fn microservices_get_a_database_per_blueprint_database_an_ecr_repo_per_built_service_and_irsa() {
    let files = render(&example_as("ecommerce", "microservices", "medium"));
    let main = file(&files, "infra/terraform/main.tf");
    for db in ["users_db", "products_db", "orders_db", "payments_db"] {
        assert!(
            main.contains(&format!("module \"database_{db}\" {{")),
            "{db}"
        );
    }
    assert_eq!(
        main.matches("source                     = \"./modules/database\"")
            .count(),
        4
    );
    assert!(main.contains(
        "repositories = [\"shop/users\", \"shop/products\", \"shop/orders\", \"shop/payments\", \"shop/notifications\", \"shop/users-db-migrations\", \"shop/products-db-migrations\", \"shop/orders-db-migrations\", \"shop/payments-db-migrations\"]"
    ));
    assert!(main.contains("system:serviceaccount:${var.kubernetes_namespace}:${each.value}"));
    let db = file(&files, "infra/terraform/modules/database/main.tf");
    assert!(db.contains("manage_master_user_password   = true"));
    assert!(!db.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("password") || l.starts_with("master_password")
    }));
    assert!(db.contains("count               = var.read_replicas"));
    let vars = file(&files, "infra/terraform/variables.tf");
    assert!(vars.contains("default     = \"db.r6g.large\""));
    assert!(
        vars.contains("default     = 1\n"),
        "one read replica at medium scale"
    );
    let msk = file(&files, "infra/terraform/modules/messaging/main.tf");
    assert!(msk.contains("resource \"aws_msk_cluster\" \"this\""));
    for env in ["dev", "staging", "prod"] {
        let tfvars = file(&files, &format!("infra/terraform/envs/{env}.tfvars"));
        assert!(tfvars.contains(&format!("environment          = \"{env}\"")));
        let backend = file(&files, &format!("infra/terraform/envs/{env}.backend.hcl"));
        assert!(backend.contains(&format!("key          = \"shop/{env}/terraform.tfstate\"")));
    }
    assert!(file(&files, "infra/terraform/versions.tf").contains("backend \"s3\" {}"));
}

#[test]
fn scale_sizes_the_cluster_databases_and_caches() {
    let small = render(&example_as("ecommerce", "microservices", "small"));
    let large = render(&example_as("ecommerce", "microservices", "large"));
    let (vs, vl) = (
        file(&small, "infra/terraform/variables.tf"),
        file(&large, "infra/terraform/variables.tf"),
    );
    assert!(vs.contains("default     = [\"t3.small\"]"));
    assert!(vl.contains("default     = [\"m6i.2xlarge\"]"));
    assert!(vs.contains("default     = \"db.t4g.small\""));
    assert!(vl.contains("default     = \"db.r6g.2xlarge\""));
    // small: single instance, single cache node, both marked as deliberate for checkov.
    let db_small = file(&small, "infra/terraform/modules/database/main.tf");
    assert!(db_small.contains("#checkov:skip=CKV_AWS_157:"));
    let db_large = file(&large, "infra/terraform/modules/database/main.tf");
    assert!(!db_large.contains("checkov:skip=CKV_AWS_157"));
    assert!(vl.contains("variable \"cache_shards\"") && vl.contains("default     = 3\n"));
}

#[test]
fn monolith_has_one_database_and_one_app_repository() {
    let files = render(&example_as("ecommerce", "monolith", "small"));
    let main = file(&files, "infra/terraform/main.tf");
    assert_eq!(
        main.matches("source                     = \"./modules/database\"")
            .count(),
        1
    );
    assert!(main.contains("module \"database_shop_db\""));
    assert!(main.contains("repositories = [\"shop/shop-app\", \"shop/shop-db-migrations\"]"));
    assert!(main.contains("module \"cache_sessions\""));
    assert!(
        check_rendered(&files).is_empty(),
        "{:?}",
        check_rendered(&files)
    );
}

#[test]
fn serverless_has_a_function_per_lowered_function_an_aurora_database_per_blueprint_database_and_no_cluster()
 {
    let files = render(&example_as("ecommerce", "serverless", "large"));
    let main = file(&files, "infra/terraform/main.tf");
    for f in [
        "users_api",
        "products_api",
        "orders_api",
        "orders_payment_completed",
        "payments_api",
        "payments_order_created",
        "notifications_user_registered",
        "notifications_order_created",
    ] {
        assert!(main.contains(&format!("module \"function_{f}\" {{")), "{f}");
    }
    assert!(main.contains("route_key = \"ANY /api/orders/{proxy+}\""));
    for d in ["users_db", "products_db", "orders_db", "payments_db"] {
        assert!(main.contains(&format!("module \"database_{d}\" {{")), "{d}");
    }
    assert!(!main.contains("table_") && !main.contains("cache_"));
    assert!(main.contains("module \"queue_notifications_order_created\""));
    assert!(!files.iter().any(|(p, _)| p.contains("modules/cluster/")
        || p.contains("modules/table/")
        || p.contains("modules/cache/")
        || p.contains("modules/registry/")));
    let db = file(&files, "infra/terraform/modules/database/main.tf");
    for needle in [
        "engine             = \"aurora-postgresql\"",
        "instance_class             = \"db.serverless\"",
        "iam_auth    = \"REQUIRED\"",
        "manage_master_user_password   = true",
    ] {
        assert!(db.contains(needle), "{needle}");
    }
    let f = file(&files, "infra/terraform/modules/function/main.tf");
    for needle in [
        "runtime                        = var.runtime",
        "mode = \"Active\"",
        "dead_letter_config",
    ] {
        assert!(f.contains(needle), "{needle}");
    }
    let vars = file(&files, "infra/terraform/variables.tf");
    assert!(vars.contains("default     = 1024\n") && vars.contains("default     = 1000\n"));
    assert!(!file(&files, "infra/terraform/envs/dev.tfvars").contains("kubernetes_namespace"));
}

#[test]
fn sqs_broker_and_a_blueprint_without_data_stores_pass_the_checks_for_every_type() {
    let sqs = assets::example("ecommerce")
        .unwrap()
        .replace("broker: kafka", "broker: sqs");
    let minimal = "version: 1\nname: tiny\ntype: microservices\nscale: small\n\
        cloud: { provider: aws, region: us-east-1 }\nenvironments: [dev]\n\
        services:\n  api:\n    language: python\n";
    for text in [sqs.as_str(), minimal] {
        for arch in TYPES {
            let files = render(&set_top_level(text, "type", arch));
            let problems = check_rendered(&files);
            assert!(problems.is_empty(), "{arch}: {problems:?}");
        }
    }
    let files = render(&sqs);
    let m = file(&files, "infra/terraform/modules/messaging/main.tf");
    assert!(m.contains("resource \"aws_sns_topic\" \"this\""));
    let main = file(&files, "infra/terraform/main.tf");
    // Names come from the model (events::link_sqs); Terraform prefixes them with the environment.
    assert!(main.contains(
        "\"order.created/payments\"        = { topic = \"order.created\", queue = \"payments-order-created.fifo\", dead_letter = \"payments-order-created-dlq.fifo\", subscribed = true }"
    ), "{main}");
    assert!(main.contains("module.messaging.queue_arns[\"order.created/payments\"]"));
    assert!(main.contains("module.messaging.dead_letter_queue_arns[\"order.created/payments\"]"));
    assert!(m.contains("name                       = \"${var.name}-${each.value.queue}\""));
    // The redrive policy dead-letters after the preset's tries (the consumers' own retries).
    assert!(
        m.contains("maxReceiveCount     = var.max_receive_count"),
        "{m}"
    );
    // ecommerce is `scale: medium`, whose preset tries a handler 5 times.
    assert!(
        main.contains("max_receive_count             = 5\n"),
        "{main}"
    );
    let tiny = render(minimal);
    assert!(!tiny.iter().any(|(p, _)| p.contains("modules/database/")
        || p.contains("modules/cache/")
        || p.contains("modules/messaging/")));
}

#[test]
fn an_image_service_before_the_first_built_one_leaves_no_hole_in_the_repositories() {
    let text = assets::example("auth-service").unwrap().replacen(
        "services:\n",
        "services:\n  proxy:\n    image: nginx:1.27\n    port: 8080\n",
        1,
    );
    let files = render(&text);
    let main = file(&files, "infra/terraform/main.tf");
    let line = main
        .lines()
        .find(|l| l.trim_start().starts_with("repositories ="))
        .unwrap();
    assert!(line.contains("= [\"auth/identity\","), "{line}");
    assert!(!line.contains("[,") && !line.contains(", ,"), "{line}");
    assert!(
        check_rendered(&files).is_empty(),
        "{:?}",
        check_rendered(&files)
    );
}

/// The values of `name = value` lines inside `run "<run>" { ... }` of a test file.
fn run_block<'a>(tests: &'a str, run: &str) -> &'a str {
    let start = tests
        .find(&format!("run \"{run}\" {{"))
        .unwrap_or_else(|| panic!("no run {run}"));
    let end = tests[start..]
        .find("\n}\n")
        .map_or(tests.len(), |e| start + e);
    &tests[start..end]
}

#[test]
fn generated_terraform_needs_only_the_aws_provider() {
    for example in ["ecommerce", "auth-service", "event-orders"] {
        for arch in TYPES {
            let files = render(&example_as(example, arch, "medium"));
            for (path, text) in &files {
                for line in text
                    .lines()
                    .filter(|l| l.contains("source") && l.contains("hashicorp/"))
                {
                    assert!(
                        line.contains("\"hashicorp/aws\""),
                        "{example} {arch} {path}: {line}"
                    );
                }
                for other in ["data \"tls_", "resource \"random_", "thumbprint_list"] {
                    assert!(
                        !text.contains(other),
                        "{example} {arch} {path} uses {other}"
                    );
                }
            }
        }
    }
}

#[test]
fn offline_plan_tests_cover_every_environment_and_print_the_scale_presets() {
    for arch in TYPES {
        let files = render(&example_as("ecommerce", arch, "medium"));
        let tests = file(&files, "infra/terraform/tests/plan.tftest.hcl");
        assert!(tests.contains("mock_provider \"aws\" {"), "{arch}");
        for env in ["dev", "staging", "prod"] {
            assert!(
                run_block(tests, &format!("plan_{env}")).contains("command = plan"),
                "{arch} {env}"
            );
        }
        assert!(run_block(tests, "network").contains("source = \"./modules/network\""));
    }
    // The expected counts follow the preset: small and large differ, and the template prints them.
    let small = render(&example_as("ecommerce", "microservices", "small"));
    let large = render(&example_as("ecommerce", "microservices", "large"));
    let db = |files: &[(String, String)]| {
        run_block(
            file(files, "infra/terraform/tests/plan.tftest.hcl"),
            "database",
        )
        .to_owned()
    };
    assert!(db(&small).contains("read_replicas              = 0"));
    assert!(db(&small).contains("length(aws_db_instance.replica) == 0"));
    assert!(db(&large).contains("aws_db_instance.primary.multi_az == true"));
    assert!(!db(&large).contains("length(aws_db_instance.replica) == 0"));
    let kafka = run_block(
        file(&large, "infra/terraform/tests/plan.tftest.hcl"),
        "messaging",
    )
    .to_owned();
    assert!(
        kafka.contains("aws_msk_cluster.this.number_of_broker_nodes =="),
        "{kafka}"
    );
    // RabbitMQ: the broker password comes from Secrets Manager, mocked with a valid length.
    let rabbit = render(&example_as("auth-service", "microservices", "medium"));
    let tests = file(&rabbit, "infra/terraform/tests/plan.tftest.hcl");
    assert!(tests.contains("mock_data \"aws_secretsmanager_random_password\""));
    assert!(run_block(tests, "messaging").contains("aws_mq_broker.this.deployment_mode"));
}
