//! `check [DIR]`: the cross-references of a tree of Kubernetes, Istio and docker-compose YAML.
//!
//! Input: a folder (a generated tree, hand-edited or not, or any folder of manifests). Output:
//! one [`Finding`] per reference that does not resolve, with file, line and a help line. What is
//! checked: Service / PodDisruptionBudget / NetworkPolicy / AuthorizationPolicy selectors match a
//! pod template; HPA targets, service accounts and ConfigMaps exist; every address in a ConfigMap
//! names a Service and one of its ports; VirtualService and DestinationRule hosts are Services,
//! every subset matches pods and is defined, gateways exist; principals name existing service
//! accounts; compose service names equal Kubernetes Service names and compose addresses and
//! `depends_on` resolve; and (see `pods`, `routes`) Service target ports, addresses in container
//! env, ConfigMap/Secret references, Gateway API backends, route weights and removed API
//! versions; and (see `terraform`) Terraform references and module calls. Every finding has a
//! code from [`codes::CODES`] and a severity. Namespaces follow
//! kustomize: an object counts in the namespace its outermost kustomization sets.

pub mod codes;
mod load;
mod pods;
mod routes;
mod rules;
mod syntax;
pub mod terraform;

pub use crate::diagnostic::Severity;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
    pub help: String,
    /// Stable code (`C001`…), listed in [`codes::CODES`] and the README.
    pub code: &'static str,
    pub severity: Severity,
}

/// What to check beyond the cross-references every folder gets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Compare compose with Kubernetes (C018–C020) even outside a generated project.
    pub parity: bool,
    /// The caller exits once it has the report (the command line): the parsed tree is left to
    /// the operating system instead of being freed node by node (a tenth of a second of a
    /// 1 000-service tree's run).
    pub exiting: bool,
}

#[derive(Debug)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files: usize,
    pub objects: usize,
    pub compose_files: usize,
    pub terraform_modules: usize,
}

/// Whether `root` is (inside) a generated project: only there are compose and Kubernetes meant
/// to describe the same services, so only there do the parity rules run by default.
pub fn is_generated_project(root: &Path) -> bool {
    let abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    abs.ancestors()
        .any(|a| a.join(".codex-system-design/state.json").is_file())
}

/// Check the tree under `root`. Errors are I/O errors (unreadable folder or file).
pub fn check(root: &Path, opts: Options) -> std::io::Result<Report> {
    if !root.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is not a directory", root.display()),
        ));
    }
    let mut clock = Clock::new();
    // Terraform and YAML share nothing until the findings are merged.
    let (tree, (tf, tf_modules)) = std::thread::scope(|s| {
        let tf = s.spawn(|| {
            let start = std::time::Instant::now();
            let r = terraform::check(root);
            (r, start.elapsed())
        });
        let tree = load::load(root);
        clock.lap("yaml (walk, parse, sort)");
        let (r, took) = tf.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        clock.note("terraform (own thread)", took);
        clock.lap("waiting for terraform");
        (tree, r)
    });
    let tree = tree?;
    let mut findings: Vec<Finding> = tree
        .broken
        .iter()
        .map(|(file, msg, loc)| Finding {
            code: "C001",
            severity: Severity::Error,
            file: file.clone(),
            line: loc.map_or(0, |l| l.line),
            col: loc.map_or(0, |l| l.col),
            message: format!("not valid YAML: {msg}"),
            help: "fix the YAML syntax; the file's references cannot be checked until it parses"
                .into(),
        })
        .collect();
    findings.extend(tree.not_utf8.iter().map(|(file, msg, loc)| Finding {
        code: "C030",
        severity: Severity::Error,
        file: file.clone(),
        line: loc.line,
        col: loc.col,
        message: msg.clone(),
        help: "save it as UTF-8; its references cannot be checked until it reads".into(),
    }));
    findings.extend(
        tree.missing_resources
            .iter()
            .map(|(file, entry, loc)| Finding {
                code: "C002",
                severity: Severity::Error,
                file: file.clone(),
                line: loc.line,
                col: loc.col,
                message: format!("kustomization resource `{entry}` does not exist"),
                help: "remove the entry or restore the file or folder it names".into(),
            }),
    );
    let mut ctx = rules::Ctx::new(&tree);
    ctx.selectors();
    ctx.workload_refs();
    ctx.addresses();
    ctx.istio();
    ctx.compose();
    ctx.pod_rules(&pods::ci_text(root));
    ctx.route_rules();
    clock.lap("rules");
    findings.extend(tf);
    let parity = opts.parity || is_generated_project(root);
    findings.extend(
        ctx.finish()
            .into_iter()
            .filter(|f| parity || !codes::is_parity(f.code)),
    );
    findings.sort();
    findings.dedup();
    clock.lap("findings");
    let report = Report {
        findings,
        files: tree.files,
        objects: tree.objects.len(),
        compose_files: tree.composes.len(),
        terraform_modules: tf_modules,
    };
    if opts.exiting {
        std::mem::forget(tree);
    } else {
        drop(tree);
    }
    clock.lap("freeing the tree");
    Ok(report)
}

/// Phase times on stderr when `CODEX_SYSTEM_DESIGN_CHECK_TIMES` is set: where `check` spends
/// its time, without a profiler.
struct Clock {
    on: bool,
    last: std::time::Instant,
}

impl Clock {
    fn new() -> Self {
        Clock {
            on: std::env::var_os("CODEX_SYSTEM_DESIGN_CHECK_TIMES").is_some(),
            last: std::time::Instant::now(),
        }
    }

    fn lap(&mut self, what: &str) {
        let now = std::time::Instant::now();
        self.note(what, now - self.last);
        self.last = now;
    }

    fn note(&self, what: &str, took: std::time::Duration) {
        if self.on {
            errln!("check: {what}: {:.1} ms", took.as_secs_f64() * 1000.0);
        }
    }
}

impl Report {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// Human text: one block per finding, then a summary line.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&format!(
            "{}[{}]: {}\n  --> {}:{}:{}\n  help: {}\n",
            f.severity.as_str(),
            f.code,
            f.message,
            f.file,
            f.line,
            f.col,
            f.help
        ));
    }
    if r.findings.is_empty() {
        out.push_str(&format!(
            "checked {} object(s) and {} compose file(s) in {} YAML file(s) and {} Terraform module(s): every reference resolves\n",
            r.objects, r.compose_files, r.files, r.terraform_modules
        ));
    } else {
        out.push_str(&format!(
            "{} error(s) and {} warning(s) in {} object(s), {} compose file(s) and {} Terraform module(s)\n",
            r.errors(),
            r.warnings(),
            r.objects,
            r.compose_files,
            r.terraform_modules
        ));
    }
    out
}

/// The findings as the diagnostics `validate` prints (no blueprint path), for `--format json` and
/// `--format sarif`.
pub fn diagnostics(r: &Report) -> crate::diagnostic::Diagnostics {
    let mut d = crate::diagnostic::Diagnostics::default();
    for f in &r.findings {
        d.push(crate::diagnostic::Diagnostic {
            severity: f.severity,
            code: f.code,
            message: f.message.clone(),
            path: String::new(),
            file: f.file.clone(),
            line: f.line,
            column: f.col,
            help: Some(f.help.clone()),
        });
    }
    d
}

/// SARIF 2.1.0 with `check`'s rule titles; the rules are documented in the README.
pub fn sarif(r: &Report) -> String {
    let doc = crate::diagnostic::sarif::to_value_with(&diagnostics(r), &|id| {
        serde_json::json!({
            "id": id,
            "shortDescription": { "text": codes::lookup(id).map_or("", |c| c.title) },
            "helpUri": "https://github.com/codex-system-design/codex-system-design/blob/main/README.md#deploy-layers-and-check",
        })
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
