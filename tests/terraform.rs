//! Terraform layer: the reference check (our stand-in for `terraform validate`) proves it rejects
//! what Terraform would reject, then runs over the Terraform of every built-in example × type ×
//! scale, together with `terraform fmt -check` where a terraform binary is installed.

mod tfcheck;

use codex_system_design::assets;
use codex_system_design::cli::set_top_level;
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::TemplateSet;
use std::path::{Path, PathBuf};
use tfcheck::{Module, check_tree};

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
  name = var.name
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
        "undeclared variable `var.missing`",
        "undeclared local `local.nope`",
        "undeclared data source `data.aws_iam_policy_document.absent`",
        "undeclared resource `aws_kms_key.gone`",
        "undeclared module `module.ghost`",
    ] {
        assert!(
            problems.contains(expected),
            "{expected} not in:\n{problems}"
        );
    }
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
        problems.contains("undeclared resource `s.id`"),
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
        problems.contains("variable `x` is declared twice") || problems.contains("parse error")
    );
    assert!(problems.contains("b.tf: parse error"), "{problems}");
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
            (
                "envs/dev.tfvars",
                "name = \"dev\"\nsize = 2\nflavour = \"x\"\n",
            ),
        ],
    );
    let problems = check_tree(dir.path()).join("\n");
    assert!(
        problems.contains("envs/dev.tfvars: `flavour` is not a variable"),
        "{problems}"
    );
    assert!(!problems.contains("`size`"), "{problems}");
    assert!(
        problems.contains("source `./modules/none` is not a module folder"),
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
        Err(pipeline::Failure::Invalid(_)) => return None,
        Err(pipeline::Failure::Other(e)) => panic!("{example} {arch} {scale}: {e}"),
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
        for arch in TYPES {
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
    // Only the grpc example cannot be lowered to functions.
    refused.dedup();
    assert_eq!(refused, ["auth-service serverless"]);
}
