//! Rules about pod templates: a workload's selector against its own template, Service
//! `targetPort`s against container ports, addresses in container `env`, and the ConfigMaps and
//! Secrets a pod reads.

use super::load::{as_str, get, labels, scalar, seq_at, str_at};
use super::rules::{Ctx, Pod, fmt_labels, is_external_name, subset};
use crate::blueprint::node::{Loc, Node};
use crate::diagnostic::suggest;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// (code, file, location, message, help)
type Found = (&'static str, String, Loc, String, String);

/// Workload kinds whose `spec.selector` must select their own template (a Job's is generated).
const SELECTING_KINDS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

fn containers(spec: &Node) -> impl Iterator<Item = &Node> {
    seq_at(spec, &["containers"])
        .iter()
        .chain(seq_at(spec, &["initContainers"]))
}

/// A pod's declared container ports: (name, number).
pub(super) fn container_ports(p: &Pod) -> Vec<(Option<String>, u16)> {
    let Some(spec) = p.spec else {
        return Vec::new();
    };
    containers(spec)
        .flat_map(|c| seq_at(c, &["ports"]))
        .filter_map(|port| {
            let n = get(port, &["containerPort"])
                .and_then(scalar)?
                .parse()
                .ok()?;
            Some((str_at(port, &["name"]).map(str::to_owned), n))
        })
        .collect()
}

/// The text of every CI workflow of the repository holding `root` (the nearest
/// `.github/workflows` at or above it): Secrets it names are created out of band by CI.
pub fn ci_text(root: &Path) -> String {
    let abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let Some(dir) = abs
        .ancestors()
        .map(|a| a.join(".github/workflows"))
        .find(|d| d.is_dir())
    else {
        return String::new();
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A character that can be part of a name: a name is mentioned only between other characters.
fn part(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
}

/// Whether `text` names `name` as a whole word (not as part of a longer name).
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

/// The CI text with its words, so that asking whether it names a Secret is a hash lookup:
/// scanning the whole text once per reference was quadratic in a 1000-service tree. The words
/// are collected on the first question: most trees provide every Secret they read and never ask.
pub struct CiText<'t> {
    text: &'t str,
    words: OnceCell<HashSet<&'t str>>,
}

impl<'t> CiText<'t> {
    pub fn new(text: &'t str) -> Self {
        CiText {
            text,
            words: OnceCell::new(),
        }
    }

    /// What [`mentions`] says: a name made only of name characters is mentioned exactly when
    /// it is one of the words between the other characters.
    fn mentions(&self, name: &str) -> bool {
        if !name.is_empty() && name.chars().all(part) {
            let words = self.words.get_or_init(|| {
                let text = self.text;
                text.split(|c| !part(c)).filter(|w| !w.is_empty()).collect()
            });
            words.contains(name)
        } else {
            mentions(self.text, name)
        }
    }
}

impl Ctx<'_> {
    pub fn pod_rules(&mut self, ci: &str) {
        let ci = CiText::new(ci);
        let ci = &ci;
        let mut found = Vec::new();
        self.own_selectors(&mut found);
        self.target_ports(&mut found);
        self.env_addresses(&mut found);
        self.config_refs(ci, &mut found);
        self.probe_ports(&mut found);
        for (c, f, l, m, h) in found {
            self.report(c, &f, l, m, h);
        }
    }

    fn own_selectors(&self, found: &mut Vec<Found>) {
        for p in &self.pods {
            let o = p.owner;
            if !SELECTING_KINDS.contains(&o.kind.as_str()) {
                continue;
            }
            let Some(node) = get(&o.node, &["spec", "selector", "matchLabels"]) else {
                continue;
            };
            let sel = labels(Some(node));
            if !subset(&sel, &p.labels) {
                found.push((
                    "C024",
                    o.file.clone(),
                    node.loc,
                    format!(
                        "{} `{}`: selector {} does not match its pod template's labels ({})",
                        o.kind,
                        o.name,
                        fmt_labels(&sel),
                        fmt_labels(&p.labels)
                    ),
                    "give spec.template.metadata.labels every label of spec.selector.matchLabels (the API server rejects the object otherwise)".into(),
                ));
            }
        }
    }

    fn target_ports(&self, found: &mut Vec<Found>) {
        for s in self.objects("Service") {
            let sel = labels(get(&s.node, &["spec", "selector"]));
            if sel.is_empty() || is_external_name(s) {
                continue; // endpoints managed by hand or outside the cluster
            }
            let pods = self.pods_selected(&sel, &s.namespaces);
            for port in seq_at(&s.node, &["spec", "ports"]) {
                let Some(target) = get(port, &["targetPort"]).or_else(|| get(port, &["port"]))
                else {
                    continue;
                };
                if let Some(f) = target_port_problem(s, target, &pods) {
                    found.push(f);
                }
            }
        }
    }

    fn env_addresses(&self, found: &mut Vec<Found>) {
        for p in &self.pods {
            let Some(spec) = p.spec else { continue };
            for c in containers(spec) {
                for e in seq_at(c, &["env"]) {
                    let (Some(var), Some(v)) = (str_at(e, &["name"]), get(e, &["value"])) else {
                        continue;
                    };
                    let Some(text) = as_str(v) else { continue };
                    let what = format!("{} `{}`: env {var}", p.owner.kind, p.owner.name);
                    if let Some((code, m, h)) =
                        self.address_problem(text, &p.owner.namespaces, &what)
                    {
                        found.push((code, p.owner.file.clone(), v.loc, m, h));
                    }
                }
            }
        }
    }

    fn config_refs(&self, ci: &CiText, found: &mut Vec<Found>) {
        for p in &self.pods {
            let Some(spec) = p.spec else { continue };
            for (kind, r) in refs(spec) {
                let name = as_str(r).unwrap_or_default();
                if name.is_empty() || self.provided(kind, name, &p.owner.namespaces, ci) {
                    continue;
                }
                let mut names = self.names_of(kind);
                names.extend(self.generated(kind));
                let close = suggest(name, &names);
                let help = if close.starts_with("did you mean") {
                    close
                } else {
                    format!(
                        "create {kind} `{name}` in the folder, or make sure it exists in the cluster before the pods start (mark the reference `optional: true` if it may be absent)"
                    )
                };
                found.push((
                    "C006",
                    p.owner.file.clone(),
                    r.loc,
                    format!(
                        "{} `{}` reads {kind} `{name}`, which is not in this folder",
                        p.owner.kind, p.owner.name
                    ),
                    help,
                ));
            }
        }
    }

    /// A probe that names its port (`port: http`) needs a port of that name on its container;
    /// the kubelet fails the probe otherwise.
    fn probe_ports(&self, found: &mut Vec<Found>) {
        for p in &self.pods {
            let Some(spec) = p.spec else { continue };
            for c in containers(spec) {
                let names: Vec<&str> = seq_at(c, &["ports"])
                    .iter()
                    .filter_map(|port| str_at(port, &["name"]))
                    .collect();
                for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                    for how in ["httpGet", "tcpSocket"] {
                        let Some(n) = get(c, &[probe, how, "port"]) else {
                            continue;
                        };
                        let Some(name) = as_str(n).filter(|s| s.parse::<u16>().is_err()) else {
                            continue;
                        };
                        if !names.contains(&name) {
                            let cname = str_at(c, &["name"]).unwrap_or_default();
                            found.push((
                                "C025",
                                p.owner.file.clone(),
                                n.loc,
                                format!(
                                    "{} `{}`: the {probe} of container `{cname}` uses port `{name}`, which the container does not declare",
                                    p.owner.kind, p.owner.name
                                ),
                                if names.is_empty() {
                                    "declare the port in the container's `ports` with this name, or give the probe a number".to_owned()
                                } else {
                                    suggest(name, &names)
                                },
                            ));
                        }
                    }
                }
            }
        }
    }

    fn generated(&self, kind: &str) -> Vec<&str> {
        self.tree
            .generated
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, n)| n.as_str())
            .collect()
    }

    /// Whether the folder makes the ConfigMap / Secret: an object, a kustomize generator, a
    /// SealedSecret / ExternalSecret, or (Secrets) a CI workflow that creates it.
    fn provided(&self, kind: &str, name: &str, ns: &BTreeSet<String>, ci: &CiText) -> bool {
        let made = || {
            kind == "Secret"
                && (!self.named("SealedSecret", name).is_empty()
                    || self.externally_made(name)
                    || ci.mentions(name))
        };
        self.exists(kind, name, ns) || made() || self.generated(kind).contains(&name)
    }
}

/// Every ConfigMap / Secret name node a pod spec reads, unless marked `optional: true`.
fn refs(spec: &Node) -> Vec<(&'static str, &Node)> {
    let mut out: Vec<(&'static str, &Node)> = Vec::new();
    fn add<'a>(
        out: &mut Vec<(&'static str, &'a Node)>,
        kind: &'static str,
        parent: Option<&'a Node>,
        key: &str,
    ) {
        let Some(parent) = parent else { return };
        let optional = get(parent, &["optional"]).and_then(scalar).as_deref() == Some("true");
        if let Some(n) = get(parent, &[key])
            && !optional
        {
            out.push((kind, n));
        }
    }
    for c in containers(spec) {
        for e in seq_at(c, &["envFrom"]) {
            add(&mut out, "ConfigMap", get(e, &["configMapRef"]), "name");
            add(&mut out, "Secret", get(e, &["secretRef"]), "name");
        }
        for e in seq_at(c, &["env"]) {
            add(
                &mut out,
                "ConfigMap",
                get(e, &["valueFrom", "configMapKeyRef"]),
                "name",
            );
            add(
                &mut out,
                "Secret",
                get(e, &["valueFrom", "secretKeyRef"]),
                "name",
            );
        }
    }
    for v in seq_at(spec, &["volumes"]) {
        add(&mut out, "ConfigMap", get(v, &["configMap"]), "name");
        add(&mut out, "Secret", get(v, &["secret"]), "secretName");
        for s in seq_at(v, &["projected", "sources"]) {
            add(&mut out, "ConfigMap", get(s, &["configMap"]), "name");
            add(&mut out, "Secret", get(s, &["secret"]), "name");
        }
    }
    out
}

/// A Service port's target that no selected pod declares. A numeric target is only checked
/// against pods that declare ports (declaring them is optional for numbers); a name must be
/// declared by every selected pod.
fn target_port_problem(s: &super::load::Obj, target: &Node, pods: &[&Pod]) -> Option<Found> {
    let want = scalar(target)?;
    let number = want.parse::<u16>().ok();
    let mut lacking = Vec::new();
    // Declared ports: the name (or number) to suggest → how to show it.
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    for p in pods {
        let ports = container_ports(p);
        for (n, num) in &ports {
            let shown = n
                .as_ref()
                .map_or(num.to_string(), |n| format!("{n} ({num})"));
            known.insert(n.clone().unwrap_or_else(|| num.to_string()), shown);
        }
        let has = match number {
            Some(n) => ports.is_empty() || ports.iter().any(|(_, x)| *x == n),
            None => ports.iter().any(|(name, _)| name.as_deref() == Some(&want)),
        };
        if !has {
            lacking.push(format!("{} `{}`", p.owner.kind, p.owner.name));
        }
    }
    lacking.dedup();
    if lacking.is_empty() {
        return None;
    }
    let names: Vec<&str> = known.keys().map(String::as_str).collect();
    let close = suggest(&want, &names);
    let help = if names.is_empty() {
        "declare the port in the container's `ports` (with this name), or target a declared one"
            .to_owned()
    } else if close.starts_with("did you mean") {
        close
    } else {
        let shown: Vec<&str> = known.values().map(String::as_str).collect();
        format!(
            "target a port the selected pods declare: {}",
            shown.join(", ")
        )
    };
    Some((
        "C021",
        s.file.clone(),
        target.loc,
        format!(
            "Service `{}`: targetPort `{want}` is no container port of {}",
            s.name,
            lacking.join(", ")
        ),
        help,
    ))
}

#[cfg(test)]
mod tests {
    use super::{CiText, mentions};

    #[test]
    fn the_word_set_answers_as_the_scan_does() {
        let text = "kubectl create secret generic orders-db --from-literal=x\n  name: pay.tls\n";
        let ci = CiText::new(text);
        for name in [
            "orders-db",
            "orders",
            "db",
            "pay.tls",
            "pay",
            "x",
            "generic",
            "from",
            "a b",
        ] {
            assert_eq!(ci.mentions(name), mentions(text, name), "{name}");
        }
        assert!(ci.mentions("orders-db") && !ci.mentions("orders"));
    }
}
