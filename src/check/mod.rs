//! `check [DIR]`: the cross-references of a tree of Kubernetes, Istio and docker-compose YAML.
//!
//! Input: a folder (a generated tree, hand-edited or not, or any folder of manifests). Output:
//! one [`Finding`] per reference that does not resolve, with file, line and a help line. What is
//! checked: Service / PodDisruptionBudget / NetworkPolicy / AuthorizationPolicy selectors match a
//! pod template; HPA targets, service accounts and ConfigMaps exist; every address in a ConfigMap
//! names a Service and one of its ports; VirtualService and DestinationRule hosts are Services,
//! every subset matches pods and is defined, gateways exist; principals name existing service
//! accounts; compose service names equal Kubernetes Service names and compose addresses and
//! `depends_on` resolve. Namespaces follow kustomize: an object counts in the namespace its
//! outermost kustomization sets.

mod load;
mod rules;

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
    pub help: String,
}

#[derive(Debug)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files: usize,
    pub objects: usize,
    pub compose_files: usize,
}

/// Check the tree under `root`. Errors are I/O errors (unreadable folder or file).
pub fn check(root: &Path) -> std::io::Result<Report> {
    if !root.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is not a directory", root.display()),
        ));
    }
    let tree = load::load(root)?;
    let mut findings: Vec<Finding> = tree
        .broken
        .iter()
        .map(|(file, msg, loc)| Finding {
            file: file.clone(),
            line: loc.map_or(0, |l| l.line),
            col: loc.map_or(0, |l| l.col),
            message: format!("not valid YAML: {msg}"),
            help: "fix the YAML syntax; the file's references cannot be checked until it parses"
                .into(),
        })
        .collect();
    findings.extend(tree.not_utf8.iter().map(|(file, msg, loc)| Finding {
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
    ctx.ingress();
    ctx.istio();
    ctx.compose();
    findings.extend(ctx.finish());
    findings.sort();
    findings.dedup();
    Ok(Report {
        findings,
        files: tree.files,
        objects: tree.objects.len(),
        compose_files: tree.composes.len(),
    })
}

/// Human text: one block per finding, then a summary line.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&format!(
            "error: {}\n  --> {}:{}:{}\n  help: {}\n",
            f.message, f.file, f.line, f.col, f.help
        ));
    }
    if r.findings.is_empty() {
        out.push_str(&format!(
            "checked {} object(s) and {} compose file(s) in {} YAML file(s): every reference resolves\n",
            r.objects, r.compose_files, r.files
        ));
    } else {
        out.push_str(&format!(
            "{} broken reference(s) in {} object(s) and {} compose file(s)\n",
            r.findings.len(),
            r.objects,
            r.compose_files
        ));
    }
    out
}
