//! The cross-reference rules of `check`. Each rule reads the loaded [`Tree`] and reports what
//! does not resolve, at the position of the offending value.

use super::Finding;
use super::load::{Obj, Tree, as_str, get, labels, map_at, scalar, seq_at, str_at};
use crate::blueprint::node::{Loc, Node};
use crate::diagnostic::suggest;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const POD_KINDS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "Pod",
];

pub(super) struct Pod<'a> {
    pub(super) owner: &'a Obj,
    pub(super) labels: BTreeMap<String, String>,
    pub(super) spec: Option<&'a Node>,
}

pub struct Ctx<'a> {
    pub(super) tree: &'a Tree,
    pub(super) pods: Vec<Pod<'a>>,
    index: Index<'a>,
    out: Vec<Finding>,
}

/// Lookups the rules make once per reference, built once per tree: without them every
/// reference scanned every object, and a 1000-service tree took seconds (issue 19).
#[derive(Default)]
struct Index<'a> {
    /// Objects of each kind, in tree order.
    by_kind: HashMap<&'a str, Vec<&'a Obj>>,
    /// Objects of each kind and name, in tree order.
    by_name: HashMap<&'a str, HashMap<&'a str, Vec<&'a Obj>>>,
    /// Every namespace some object is deployed into.
    namespaces: HashSet<&'a str>,
    /// Short names of the hosts ServiceEntries declare.
    entry_hosts: HashSet<&'a str>,
    /// Names of custom resources (an operator may make Services named after them).
    custom: HashSet<&'a str>,
    /// The Secrets ExternalSecrets write (`spec.target.name`, else their own name).
    external_secrets: HashSet<&'a str>,
    /// Pods (indexes into `Ctx::pods`, ascending) carrying each label: key → value → pods.
    pods_by_label: HashMap<String, HashMap<String, Vec<usize>>>,
}

impl<'a> Index<'a> {
    fn new(tree: &'a Tree, pods: &[Pod<'a>]) -> Self {
        let mut ix = Index::default();
        for o in &tree.objects {
            ix.by_kind.entry(o.kind.as_str()).or_default().push(o);
            let names = ix.by_name.entry(o.kind.as_str()).or_default();
            names.entry(o.name.as_str()).or_default().push(o);
            ix.namespaces
                .extend(o.namespaces.iter().map(String::as_str));
            let api = str_at(&o.node, &["apiVersion"]).unwrap_or_default();
            if !o.name.is_empty() && !is_builtin_api(api) {
                ix.custom.insert(o.name.as_str());
            }
            if o.kind == "ExternalSecret" {
                let target = str_at(&o.node, &["spec", "target", "name"]);
                ix.external_secrets.insert(target.unwrap_or(&o.name));
            }
            if o.kind == "ServiceEntry" {
                let hosts = seq_at(&o.node, &["spec", "hosts"]).iter();
                ix.entry_hosts
                    .extend(hosts.filter_map(as_str).map(|h| split_host(h).0));
            }
        }
        for (i, p) in pods.iter().enumerate() {
            for (k, v) in &p.labels {
                let values = ix.pods_by_label.entry(k.clone()).or_default();
                values.entry(v.clone()).or_default().push(i);
            }
        }
        ix
    }
}

pub(super) fn overlaps(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    a.is_empty() || b.is_empty() || a.intersection(b).next().is_some()
}

pub(super) fn in_ns(o: &Obj, ns: &str) -> bool {
    o.namespaces.is_empty() || o.namespaces.contains(ns)
}

pub(super) fn subset(sel: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub(super) fn fmt_labels(l: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(",")
}

/// `orders`, `orders.shop`, `orders.shop.svc.cluster.local` → (`orders`, namespace if given).
pub(super) fn split_host(host: &str) -> (&str, Option<&str>) {
    let h = host.trim_end_matches(".svc.cluster.local");
    let h = h.trim_end_matches(".svc");
    match h.split_once('.') {
        Some((name, ns)) if !ns.contains('.') => (name, Some(ns)),
        Some(_) => (host, None),
        None => (h, None),
    }
}

impl<'a> Ctx<'a> {
    pub fn new(tree: &'a Tree) -> Self {
        let pods: Vec<Pod<'a>> = tree
            .objects
            .iter()
            .filter(|o| POD_KINDS.contains(&o.kind.as_str()))
            .map(|o| {
                let (meta, spec) = if o.kind == "Pod" {
                    (get(&o.node, &["metadata"]), get(&o.node, &["spec"]))
                } else {
                    (
                        get(&o.node, &["spec", "template", "metadata"]),
                        get(&o.node, &["spec", "template", "spec"]),
                    )
                };
                Pod {
                    owner: o,
                    labels: labels(meta.and_then(|m| get(m, &["labels"]))),
                    spec,
                }
            })
            .collect();
        let index = Index::new(tree, &pods);
        Ctx {
            tree,
            pods,
            index,
            out: Vec::new(),
        }
    }

    pub fn finish(self) -> Vec<Finding> {
        self.out
    }

    pub(super) fn report(
        &mut self,
        code: &'static str,
        file: &str,
        loc: Loc,
        message: String,
        help: String,
    ) {
        self.out.push(Finding {
            code,
            severity: super::codes::severity(code),
            file: file.to_owned(),
            line: loc.line,
            col: loc.col,
            message,
            help,
        });
    }

    pub(super) fn objects(&self, kind: &str) -> impl Iterator<Item = &'a Obj> + use<'a, '_> {
        let list: &[&'a Obj] = self.index.by_kind.get(kind).map_or(&[], Vec::as_slice);
        list.iter().copied()
    }

    /// The objects of `kind` named `name`, in tree order.
    pub(super) fn named(&self, kind: &str, name: &str) -> &[&'a Obj] {
        let list = self.index.by_name.get(kind).and_then(|n| n.get(name));
        list.map_or(&[], Vec::as_slice)
    }

    /// Whether some ExternalSecret writes the Secret `name`.
    pub(super) fn externally_made(&self, name: &str) -> bool {
        self.index.external_secrets.contains(name)
    }

    /// Whether an object of `kind` named `name` is deployed into one of `ns`.
    pub(super) fn exists(&self, kind: &str, name: &str, ns: &BTreeSet<String>) -> bool {
        self.named(kind, name)
            .iter()
            .any(|o| overlaps(&o.namespaces, ns))
    }

    /// The container ports a Service sends to: numeric targets as written, named ones looked
    /// up in the pods it selects, and the port itself when there is no target.
    pub(super) fn target_numbers(&self, s: &Obj) -> Vec<u16> {
        // The selected pods are looked up only for a named target: most are numbers, and a
        // selector-less Service (ExternalName) would scan every pod.
        let pods = std::cell::OnceCell::new();
        let pods = || {
            pods.get_or_init(|| {
                let sel = labels(get(&s.node, &["spec", "selector"]));
                self.pods_selected(&sel, &s.namespaces)
            })
        };
        let mut out = Vec::new();
        for port in seq_at(&s.node, &["spec", "ports"]) {
            let Some(target) = get(port, &["targetPort"])
                .or_else(|| get(port, &["port"]))
                .and_then(scalar)
            else {
                continue;
            };
            match target.parse::<u16>() {
                Ok(n) => out.push(n),
                Err(_) => out.extend(pods().iter().flat_map(|p| {
                    super::pods::container_ports(p)
                        .into_iter()
                        .filter(|(name, _)| name.as_deref() == Some(target.as_ref()))
                        .map(|(_, n)| n)
                })),
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The pods in one of `ns` whose labels include `sel`, in tree order.
    pub(super) fn pods_selected(
        &self,
        sel: &BTreeMap<String, String>,
        ns: &BTreeSet<String>,
    ) -> Vec<&Pod<'a>> {
        let fits = |p: &&Pod| overlaps(&p.owner.namespaces, ns) && subset(sel, &p.labels);
        // The pods carrying the selector's rarest label are the only candidates.
        let rarest = sel.iter().map(|(k, v)| {
            let pods = self.index.pods_by_label.get(k).and_then(|vs| vs.get(v));
            pods.map_or(&[][..], Vec::as_slice)
        });
        match rarest.min_by_key(|c| c.len()) {
            Some(candidates) => candidates
                .iter()
                .map(|&i| &self.pods[i])
                .filter(fits)
                .collect(),
            None => self.pods.iter().filter(fits).collect(),
        }
    }

    pub(super) fn pods_matching(
        &self,
        sel: &BTreeMap<String, String>,
        ns: &BTreeSet<String>,
    ) -> usize {
        self.pods_selected(sel, ns).len()
    }

    pub(super) fn names_of(&self, kind: &str) -> Vec<&'a str> {
        let mut v: Vec<&str> = self.objects(kind).map(|o| o.name.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The Service `name` deployed in one of `ns` (or the given namespace).
    pub(super) fn service(
        &self,
        name: &str,
        ns: &BTreeSet<String>,
        explicit: Option<&str>,
    ) -> Option<&'a Obj> {
        self.named("Service", name)
            .iter()
            .copied()
            .find(|s| match explicit {
                Some(n) => in_ns(s, n),
                None => overlaps(&s.namespaces, ns),
            })
    }

    pub(super) fn missing_service_help(&self, name: &str) -> String {
        let names = self.names_of("Service");
        if names.is_empty() {
            "no Service is defined in this tree; add one with this name".into()
        } else {
            suggest(name, &names)
        }
    }

    // ------------------------------------------------------------ selectors

    pub fn selectors(&mut self) {
        let mut todo: Vec<(&Obj, &Node, BTreeMap<String, String>, &str)> = Vec::new();
        for s in self.objects("Service") {
            if let Some(sel) = get(&s.node, &["spec", "selector"]) {
                todo.push((s, sel, labels(Some(sel)), "selector"));
            }
        }
        for p in self.objects("PodDisruptionBudget") {
            if let Some(sel) = get(&p.node, &["spec", "selector", "matchLabels"]) {
                todo.push((p, sel, labels(Some(sel)), "selector"));
            }
        }
        for n in self.objects("NetworkPolicy") {
            if let Some(sel) = get(&n.node, &["spec", "podSelector", "matchLabels"]) {
                todo.push((n, sel, labels(Some(sel)), "podSelector"));
            }
            for dir in ["ingress", "egress"] {
                let peer_key = if dir == "ingress" { "from" } else { "to" };
                for rule in seq_at(&n.node, &["spec", dir]) {
                    for peer in seq_at(rule, &[peer_key]) {
                        if get(peer, &["namespaceSelector"]).is_some() {
                            continue;
                        }
                        if let Some(sel) = get(peer, &["podSelector", "matchLabels"]) {
                            todo.push((n, sel, labels(Some(sel)), "peer podSelector"));
                        }
                    }
                }
            }
        }
        for a in self
            .objects("AuthorizationPolicy")
            .chain(self.objects("PeerAuthentication"))
        {
            if let Some(sel) = get(&a.node, &["spec", "selector", "matchLabels"]) {
                todo.push((a, sel, labels(Some(sel)), "selector"));
            }
        }
        for (o, node, sel, what) in todo {
            if !sel.is_empty() && self.pods_matching(&sel, &o.namespaces) == 0 {
                self.report(
                    "C003",
                    &o.file,
                    node.loc,
                    format!(
                        "{} `{}`: {what} {} matches no pod",
                        o.kind,
                        o.name,
                        fmt_labels(&sel)
                    ),
                    "make the selector equal to the labels of a Deployment's pod template (spec.template.metadata.labels), or remove the object".into(),
                );
            }
        }
    }

    // ------------------------------------------------------------ workloads

    pub fn workload_refs(&mut self) {
        let mut found = Vec::new();
        for h in self.objects("HorizontalPodAutoscaler") {
            let Some(t) = get(&h.node, &["spec", "scaleTargetRef"]) else {
                continue;
            };
            let kind = str_at(t, &["kind"]).unwrap_or_default();
            let name = str_at(t, &["name"]).unwrap_or_default();
            let exists = self.exists(kind, name, &h.namespaces);
            if !exists {
                let names = self.names_of(kind);
                found.push((
                    "C004",
                    h.file.clone(),
                    get(t, &["name"]).map_or(t.loc, |n| n.loc),
                    format!(
                        "HorizontalPodAutoscaler `{}` scales {kind} `{name}`, which does not exist",
                        h.name
                    ),
                    suggest(name, &names),
                ));
            }
        }
        for p in &self.pods {
            let Some(spec) = p.spec else { continue };
            let ns = &p.owner.namespaces;
            let who = format!("{} `{}`", p.owner.kind, p.owner.name);
            if let Some(sa) = get(spec, &["serviceAccountName"]) {
                let name = as_str(sa).unwrap_or_default();
                let exists = name == "default" || self.exists("ServiceAccount", name, ns);
                if !exists {
                    found.push((
                        "C005",
                        p.owner.file.clone(),
                        sa.loc,
                        format!("{who} runs as service account `{name}`, which does not exist"),
                        suggest(name, &self.names_of("ServiceAccount")),
                    ));
                }
            }
        }
        for (c, f, l, m, h) in found {
            self.report(c, &f, l, m, h);
        }
    }

    // ------------------------------------------------------------ addresses in ConfigMaps

    pub fn addresses(&mut self) {
        let mut found = Vec::new();
        for cm in self.objects("ConfigMap") {
            for (key, value) in map_at(&cm.node, &["data"]) {
                let Some(text) = as_str(value) else { continue };
                let what = format!("ConfigMap `{}`: {}", cm.name, key.name);
                if let Some((code, m, h)) = self.address_problem(text, &cm.namespaces, &what) {
                    found.push((code, cm.file.clone(), value.loc, m, h));
                }
            }
        }
        for (c, f, l, m, h) in found {
            self.report(c, &f, l, m, h);
        }
    }

    /// What is wrong with an address value (`http://orders:8080`) used in namespaces `ns`, if
    /// anything: (code, message, help). `what` names the place, e.g. "ConfigMap `x`: KEY".
    pub(super) fn address_problem(
        &self,
        text: &str,
        ns: &BTreeSet<String>,
        what: &str,
    ) -> Option<(&'static str, String, String)> {
        let (host, port) = address(text)?;
        let (name, explicit) = split_host(host);
        if name.contains('.') || name == "localhost" || self.made_elsewhere(name, explicit) {
            return None; // an external host name, the pod itself, or made by an operator
        }
        let Some(s) = self.service(name, ns, explicit) else {
            return Some((
                "C007",
                format!("{what} points at `{host}`, which is no Service"),
                self.missing_service_help(name),
            ));
        };
        let p = port?;
        (!is_external_name(s) && !service_ports(s).contains(&p)).then(|| {
            (
                "C008",
                format!("{what} uses port {p} of Service `{name}`, which does not expose it"),
                format!(
                    "Service `{name}` exposes port(s) {}",
                    join_ports(&service_ports(s))
                ),
            )
        })
    }

    /// Whether the host `name` exists though no Service of that name is in the folder: an
    /// operator creates it at run time (its name is, or starts with, the name of a custom
    /// resource in the folder: a Strimzi `Kafka` named `events` makes `events-kafka-bootstrap`;
    /// a CloudNativePG `Cluster` named `db` makes `db-rw`), or an Istio ServiceEntry declares it.
    pub(super) fn made_elsewhere(&self, name: &str, namespace: Option<&str>) -> bool {
        // A namespace no object of the folder is in (`otel.observability`): not this folder's.
        if let Some(ns) = namespace
            && !self.index.namespaces.contains(ns)
        {
            return true;
        }
        // `name` itself, or a prefix of it followed by `-`, names a custom resource.
        let custom = |n: &str| self.index.custom.contains(n);
        self.index.entry_hosts.contains(name)
            || custom(name)
            || name.match_indices('-').any(|(i, _)| custom(&name[..i]))
    }

    // ------------------------------------------------------------ Istio

    pub fn istio(&mut self) {
        let mut found = Vec::new();
        let mut subsets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for dr in self.objects("DestinationRule") {
            let Some(hnode) = get(&dr.node, &["spec", "host"]) else {
                continue;
            };
            let host = as_str(hnode).unwrap_or_default();
            let (name, ns) = split_host(host);
            let svc = self.service(name, &dr.namespaces, ns);
            if svc.is_none()
                && !name.contains('.')
                && !name.contains('*')
                && !self.made_elsewhere(name, ns)
            {
                found.push((
                    "C011",
                    dr.file.clone(),
                    hnode.loc,
                    format!("DestinationRule `{}`: host `{host}` is no Service", dr.name),
                    self.missing_service_help(name),
                ));
            }
            let svc_sel = svc
                .map(|s| labels(get(&s.node, &["spec", "selector"])))
                .unwrap_or_default();
            for s in seq_at(&dr.node, &["spec", "subsets"]) {
                let sname = str_at(s, &["name"]).unwrap_or_default().to_owned();
                subsets
                    .entry(name.to_owned())
                    .or_default()
                    .insert(sname.clone());
                let mut sel = svc_sel.clone();
                sel.extend(labels(get(s, &["labels"])));
                if svc.is_some() && self.pods_matching(&sel, &dr.namespaces) == 0 {
                    found.push(("C012", 
                        dr.file.clone(),
                        get(s, &["labels"]).map_or(s.loc, |n| n.loc),
                        format!(
                            "DestinationRule `{}`: subset `{sname}` selects {}, which matches no pod of Service `{name}`",
                            dr.name,
                            fmt_labels(&sel)
                        ),
                        "give a Deployment behind the Service these labels (Istio needs a `version` label on the pod template per subset)".into(),
                    ));
                }
            }
        }
        let gateways = self.names_of("Gateway");
        for vs in self.objects("VirtualService") {
            let bound: Vec<&Node> = seq_at(&vs.node, &["spec", "gateways"]).iter().collect();
            let mesh_bound = bound.is_empty() || bound.iter().any(|g| as_str(g) == Some("mesh"));
            for g in &bound {
                let gname = as_str(g).unwrap_or_default();
                let short = gname.rsplit('/').next().unwrap_or(gname);
                if gname != "mesh" && !gateways.contains(&short) {
                    found.push((
                        "C014",
                        vs.file.clone(),
                        g.loc,
                        format!(
                            "VirtualService `{}`: gateway `{gname}` does not exist",
                            vs.name
                        ),
                        suggest(short, &gateways),
                    ));
                }
            }
            if mesh_bound {
                for h in seq_at(&vs.node, &["spec", "hosts"]) {
                    let host = as_str(h).unwrap_or_default();
                    let (name, ns) = split_host(host);
                    if !name.contains('.')
                        && !name.contains('*')
                        && self.service(name, &vs.namespaces, ns).is_none()
                        && !self.made_elsewhere(name, ns)
                    {
                        found.push((
                            "C011",
                            vs.file.clone(),
                            h.loc,
                            format!("VirtualService `{}`: host `{host}` is no Service", vs.name),
                            self.missing_service_help(name),
                        ));
                    }
                }
            }
            for proto in ["http", "tcp", "tls", "grpc"] {
                for route in seq_at(&vs.node, &["spec", proto]) {
                    for dest in seq_at(route, &["route"]) {
                        let Some(d) = get(dest, &["destination"]) else {
                            continue;
                        };
                        let Some(hnode) = get(d, &["host"]) else {
                            continue;
                        };
                        let host = as_str(hnode).unwrap_or_default();
                        let (name, ns) = split_host(host);
                        if name.contains('.') {
                            continue;
                        }
                        let Some(svc) = self.service(name, &vs.namespaces, ns) else {
                            if self.made_elsewhere(name, ns) {
                                continue;
                            }
                            found.push((
                                "C009",
                                vs.file.clone(),
                                hnode.loc,
                                format!(
                                    "VirtualService `{}` routes to `{host}`, which is no Service",
                                    vs.name
                                ),
                                self.missing_service_help(name),
                            ));
                            continue;
                        };
                        if let Some(pn) = get(d, &["port", "number"]) {
                            let p = scalar(pn).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
                            if !is_external_name(svc) && !service_ports(svc).contains(&p) {
                                found.push(("C010", 
                                    vs.file.clone(),
                                    pn.loc,
                                    format!("VirtualService `{}` routes to port {p} of Service `{name}`, which does not expose it", vs.name),
                                    format!("Service `{name}` exposes port(s) {}", join_ports(&service_ports(svc))),
                                ));
                            }
                        }
                        if let Some(sn) = get(d, &["subset"]) {
                            let sub = as_str(sn).unwrap_or_default();
                            let known = subsets.get(name);
                            if !known.is_some_and(|k| k.contains(sub)) {
                                let names: Vec<&str> = known
                                    .map(|k| k.iter().map(String::as_str).collect())
                                    .unwrap_or_default();
                                found.push(("C013", 
                                    vs.file.clone(),
                                    sn.loc,
                                    format!("VirtualService `{}` routes to subset `{sub}` of `{name}`, which no DestinationRule defines", vs.name),
                                    if names.is_empty() { format!("add a DestinationRule for host `{name}` with this subset") } else { suggest(sub, &names) },
                                ));
                            }
                        }
                    }
                }
            }
        }
        // AuthorizationPolicy principals: cluster.local/ns/<ns>/sa/<sa>
        // Only namespaces whose service accounts this folder creates: a folder that merely places
        // an object in another namespace (an EnvoyFilter on istio-system's gateway) does not own
        // that namespace's accounts.
        let mut sa_ns: BTreeSet<&str> = BTreeSet::new();
        let mut sa_anywhere = false; // an account placed in no namespace counts in each
        for o in self.objects("ServiceAccount") {
            sa_anywhere |= o.namespaces.is_empty();
            sa_ns.extend(o.namespaces.iter().map(String::as_str));
        }
        let known_ns = &self.index.namespaces;
        for ap in self.objects("AuthorizationPolicy") {
            for rule in seq_at(&ap.node, &["spec", "rules"]) {
                for from in seq_at(rule, &["from"]) {
                    for p in seq_at(from, &["source", "principals"]) {
                        let text = as_str(p).unwrap_or_default();
                        let parts: Vec<&str> = text.split('/').collect();
                        let [_, "ns", ns, "sa", sa] = parts.as_slice() else {
                            continue;
                        };
                        let owned = sa_ns.contains(ns) || (sa_anywhere && known_ns.contains(ns));
                        if !owned || ns.contains('*') || sa.contains('*') {
                            continue; // another namespace (e.g. istio-system): not in this tree
                        }
                        let exists = self
                            .named("ServiceAccount", sa)
                            .iter()
                            .any(|o| in_ns(o, ns));
                        if !exists {
                            found.push(("C015", 
                                ap.file.clone(),
                                p.loc,
                                format!("AuthorizationPolicy `{}` allows `{text}`, but there is no ServiceAccount `{sa}` in namespace `{ns}`", ap.name),
                                suggest(sa, &self.names_of("ServiceAccount")),
                            ));
                        }
                    }
                }
            }
        }
        for (c, f, l, m, h) in found {
            self.report(c, &f, l, m, h);
        }
    }

    // ------------------------------------------------------------ compose

    pub fn compose(&mut self) {
        let mut found = Vec::new();
        let k8s_services: Vec<&Obj> = self.objects("Service").collect();
        let mut targets: HashMap<*const Obj, Vec<u16>> = HashMap::new();
        for c in &self.tree.composes {
            let services = map_at(&c.node, &["services"]);
            let names: Vec<&str> = services.iter().map(|(k, _)| k.name.as_str()).collect();
            let name_set: HashSet<&str> = names.iter().copied().collect();
            for (key, svc) in services {
                for dep in depends_on(svc) {
                    let d = dep.0;
                    if !name_set.contains(d.as_str()) {
                        found.push(("C016", 
                            c.file.clone(),
                            dep.1,
                            format!("compose service `{}` depends on `{d}`, which is no compose service", key.name),
                            suggest(&d, &names),
                        ));
                    }
                }
                for (var, value) in environment(svc) {
                    let Some((host, port)) = address(&value.0) else {
                        continue;
                    };
                    if host.contains('.') || host == "localhost" || host == key.name {
                        continue;
                    }
                    if !name_set.contains(host) {
                        found.push(("C017", 
                            c.file.clone(),
                            value.1,
                            format!("compose service `{}`: {var} points at `{host}`, which is no compose service", key.name),
                            suggest(host, &names),
                        ));
                    } else if let (Some(p), Some(k)) = (port, self.named("Service", host).first()) {
                        // compose dials the container itself: the port the Service targets.
                        // Every service dials the same few (the broker, the collector): each
                        // Service's ports are worked out once.
                        let ports = targets
                            .entry(std::ptr::from_ref::<Obj>(k))
                            .or_insert_with(|| self.target_numbers(k));
                        if !ports.is_empty() && !ports.contains(&p) {
                            found.push(("C018", 
                                c.file.clone(),
                                value.1,
                                format!("compose service `{}`: {var} uses port {p} of `{host}`, but its Kubernetes Service targets container port {}", key.name, join_ports(ports)),
                                "use in compose the container port the Kubernetes Service targets (compose has no Service in front of the container)".into(),
                            ));
                        }
                    }
                }
                let local_only = get(svc, &["labels"]).is_some_and(|l| {
                    labels(Some(l))
                        .keys()
                        .any(|k| k == "io.codex-system-design.local-only")
                        || seq_at(svc, &["labels"]).iter().any(|s| {
                            as_str(s)
                                .is_some_and(|t| t.starts_with("io.codex-system-design.local-only"))
                        })
                });
                // A workload whose containers declare no port (a load generator) has no Service.
                let portless = |d: &&Obj| {
                    seq_at(&d.node, &["spec", "template", "spec", "containers"])
                        .iter()
                        .all(|c| seq_at(c, &["ports"]).is_empty())
                };
                let deployments = self.named("Deployment", &key.name);
                let portless_workload = !deployments.is_empty() && deployments.iter().all(portless);
                if !k8s_services.is_empty()
                    && !local_only
                    && !portless_workload
                    && self.named("Service", &key.name).is_empty()
                {
                    let k8s_names: Vec<&str> =
                        k8s_services.iter().map(|s| s.name.as_str()).collect();
                    found.push(("C019", 
                        c.file.clone(),
                        key.loc,
                        format!("compose service `{}` has no Kubernetes Service of the same name", key.name),
                        format!(
                            "{}; or label it `io.codex-system-design.local-only` if it exists only locally",
                            suggest(&key.name, &k8s_names)
                        ),
                    ));
                }
            }
            if !services.is_empty() {
                // Services of other namespaces (say, a monitoring stack) are not the system's.
                let system_ns: BTreeSet<String> = k8s_services
                    .iter()
                    .filter(|s| name_set.contains(s.name.as_str()))
                    .flat_map(|s| s.namespaces.iter().cloned())
                    .collect();
                let mut seen = BTreeSet::new();
                for s in &k8s_services {
                    if seen.insert(s.name.as_str())
                        && !name_set.contains(s.name.as_str())
                        && overlaps(&s.namespaces, &system_ns)
                    {
                        let loc = get(&s.node, &["metadata", "name"]).map_or(s.node.loc, |n| n.loc);
                        found.push(("C020", 
                            s.file.clone(),
                            loc,
                            format!("Kubernetes Service `{}` has no compose service of the same name in {}", s.name, c.file),
                            suggest(&s.name, &names),
                        ));
                    }
                }
            }
        }
        for (c, f, l, m, h) in found {
            self.report(c, &f, l, m, h);
        }
    }
}

pub(super) fn service_ports(s: &Obj) -> Vec<u16> {
    seq_at(&s.node, &["spec", "ports"])
        .iter()
        .filter_map(|p| get(p, &["port"]).and_then(scalar))
        .filter_map(|p| p.parse().ok())
        .collect()
}

pub(super) fn is_external_name(s: &Obj) -> bool {
    str_at(&s.node, &["spec", "type"]) == Some("ExternalName")
}

/// Kubernetes' own API groups, Istio's and Gateway API's: their objects make no Services.
fn is_builtin_api(api: &str) -> bool {
    let Some((group, _)) = api.rsplit_once('/') else {
        return true; // the core group: `v1`
    };
    !group.contains('.') || group.ends_with(".k8s.io") || group.ends_with("istio.io")
}

pub(super) fn join_ports(p: &[u16]) -> String {
    if p.is_empty() {
        return "none".into();
    }
    let v: Vec<String> = p.iter().map(u16::to_string).collect();
    v.join(", ")
}

/// `scheme://[user@]host[:port][/path]` or `host:port` → (host, port). Plain words are not
/// addresses.
pub fn address(value: &str) -> Option<(&str, Option<u16>)> {
    let (rest, had_scheme) = match value.split_once("://") {
        Some((_, r)) => (r, true),
        None => (value, false),
    };
    let rest = rest.split('/').next()?;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
        None => (rest, None),
    };
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !host.chars().all(|c| c.is_ascii_digit() || c == '.');
    // Without a scheme, `postgres:16` or `redis:7` is an image tag, not an address: services
    // listen on 80 and above.
    let tag_like = !had_scheme && port.is_some_and(|p| p < 80);
    (valid && !tag_like && (had_scheme || port.is_some())).then_some((host, port))
}

fn depends_on(svc: &Node) -> Vec<(String, Loc)> {
    let node = get(svc, &["depends_on"]);
    match node.map(|n| &n.value) {
        Some(crate::blueprint::node::Value::Seq(items)) => items
            .iter()
            .filter_map(|i| as_str(i).map(|s| (s.to_owned(), i.loc)))
            .collect(),
        Some(crate::blueprint::node::Value::Map(entries)) => entries
            .iter()
            .map(|(k, _)| (k.name.clone(), k.loc))
            .collect(),
        _ => Vec::new(),
    }
}

fn environment(svc: &Node) -> Vec<(String, (String, Loc))> {
    let node = get(svc, &["environment"]);
    match node.map(|n| &n.value) {
        Some(crate::blueprint::node::Value::Map(entries)) => entries
            .iter()
            .filter_map(|(k, v)| scalar(v).map(|s| (k.name.clone(), (s, v.loc))))
            .collect(),
        Some(crate::blueprint::node::Value::Seq(items)) => items
            .iter()
            .filter_map(|i| {
                let t = as_str(i)?;
                let (k, v) = t.split_once('=')?;
                Some((k.to_owned(), (v.to_owned(), i.loc)))
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_recognised_and_plain_values_are_not() {
        assert_eq!(address("http://users:8080"), Some(("users", Some(8080))));
        assert_eq!(
            address("postgresql://u:p@orders-db:5432/orders"),
            Some(("orders-db", Some(5432)))
        );
        assert_eq!(
            address("redis://sessions:6379/0"),
            Some(("sessions", Some(6379)))
        );
        assert_eq!(address("kafka:9092"), Some(("kafka", Some(9092))));
        assert_eq!(address("INFO"), None);
        assert_eq!(address("8080"), None);
        assert_eq!(address("CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"), None);
        assert_eq!(address("10.0.0.1:80"), None);
        assert_eq!(address("postgres:16"), None);
        assert_eq!(address("web:80"), Some(("web", Some(80))));
        assert_eq!(address("http://web:8"), Some(("web", Some(8))));
    }

    #[test]
    fn cluster_host_names_split_into_service_and_namespace() {
        assert_eq!(split_host("orders"), ("orders", None));
        assert_eq!(split_host("orders.shop-dev"), ("orders", Some("shop-dev")));
        assert_eq!(
            split_host("orders.shop-dev.svc.cluster.local"),
            ("orders", Some("shop-dev"))
        );
        assert_eq!(split_host("api.example.com"), ("api.example.com", None));
    }
}
