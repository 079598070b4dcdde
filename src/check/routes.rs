//! Rules about routing and API versions: Gateway API route backends, VirtualService route
//! weights, and `apiVersion`s that Kubernetes no longer serves.

use super::load::{Obj, as_str, get, scalar, seq_at, str_at};
use super::rules::{Ctx, is_external_name, join_ports, service_ports, split_host};
use crate::blueprint::node::{Loc, Node};

/// (code, file, location, message, help)
type Found = (&'static str, String, Loc, String, String);

const ROUTE_KINDS: [&str; 5] = ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"];

/// API versions Kubernetes stopped serving: (apiVersion, kind or `*`, replacement, removed in).
/// An empty replacement: the kind itself is gone.
const REMOVED: &[(&str, &str, &str, &str)] = &[
    (
        "extensions/v1beta1",
        "Ingress",
        "networking.k8s.io/v1",
        "1.22",
    ),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        "networking.k8s.io/v1",
        "1.16",
    ),
    ("extensions/v1beta1", "PodSecurityPolicy", "", "1.25"),
    ("extensions/v1beta1", "*", "apps/v1", "1.16"),
    ("apps/v1beta1", "*", "apps/v1", "1.16"),
    ("apps/v1beta2", "*", "apps/v1", "1.16"),
    (
        "networking.k8s.io/v1beta1",
        "*",
        "networking.k8s.io/v1",
        "1.22",
    ),
    ("autoscaling/v2beta1", "*", "autoscaling/v2", "1.25"),
    ("autoscaling/v2beta2", "*", "autoscaling/v2", "1.26"),
    ("policy/v1beta1", "PodSecurityPolicy", "", "1.25"),
    ("policy/v1beta1", "*", "policy/v1", "1.25"),
    ("batch/v1beta1", "*", "batch/v1", "1.25"),
    ("batch/v2alpha1", "*", "batch/v1", "1.21"),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        "rbac.authorization.k8s.io/v1",
        "1.22",
    ),
    (
        "rbac.authorization.k8s.io/v1alpha1",
        "*",
        "rbac.authorization.k8s.io/v1",
        "1.22",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "*",
        "apiextensions.k8s.io/v1",
        "1.22",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "*",
        "admissionregistration.k8s.io/v1",
        "1.22",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        "*",
        "apiregistration.k8s.io/v1",
        "1.22",
    ),
    (
        "certificates.k8s.io/v1beta1",
        "*",
        "certificates.k8s.io/v1",
        "1.22",
    ),
    (
        "coordination.k8s.io/v1beta1",
        "*",
        "coordination.k8s.io/v1",
        "1.22",
    ),
    (
        "scheduling.k8s.io/v1beta1",
        "*",
        "scheduling.k8s.io/v1",
        "1.22",
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        "storage.k8s.io/v1",
        "1.27",
    ),
    ("storage.k8s.io/v1beta1", "*", "storage.k8s.io/v1", "1.22"),
    (
        "discovery.k8s.io/v1beta1",
        "*",
        "discovery.k8s.io/v1",
        "1.25",
    ),
    ("events.k8s.io/v1beta1", "*", "events.k8s.io/v1", "1.25"),
    ("node.k8s.io/v1beta1", "*", "node.k8s.io/v1", "1.25"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "*",
        "flowcontrol.apiserver.k8s.io/v1",
        "1.26",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        "flowcontrol.apiserver.k8s.io/v1",
        "1.29",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "*",
        "flowcontrol.apiserver.k8s.io/v1",
        "1.32",
    ),
];

/// The replacement and the release that removed `api` for `kind`, if it was removed.
pub fn removed(api: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    REMOVED
        .iter()
        .find(|(a, k, _, _)| *a == api && (*k == kind || *k == "*"))
        .map(|(_, _, to, since)| (*to, *since))
}

impl Ctx<'_> {
    pub fn route_rules(&mut self) {
        let mut found = Vec::new();
        for kind in ROUTE_KINDS {
            for r in self.objects(kind) {
                for rule in seq_at(&r.node, &["spec", "rules"]) {
                    for b in seq_at(rule, &["backendRefs"]) {
                        found.extend(self.backend_ref(r, b));
                    }
                }
            }
        }
        for ing in self.objects("Ingress") {
            let rules = seq_at(&ing.node, &["spec", "rules"]);
            let paths = rules.iter().flat_map(|r| seq_at(r, &["http", "paths"]));
            let backends = get(&ing.node, &["spec", "defaultBackend", "service"])
                .into_iter()
                .chain(paths.filter_map(|p| get(p, &["backend", "service"])));
            for b in backends {
                found.extend(self.ingress_backend(ing, b));
            }
        }
        for vs in self.objects("VirtualService") {
            found.extend(weights(vs));
        }
        for o in &self.tree.objects {
            found.extend(removed_api(o));
        }
        for (c, f, l, m, h) in found {
            self.report(c, &f, l, m, h);
        }
    }

    /// A Gateway API `backendRefs` entry: a Service (the default kind) that exists, on a port it
    /// exposes.
    fn backend_ref(&self, r: &Obj, b: &Node) -> Option<Found> {
        let kind = str_at(b, &["kind"]).unwrap_or("Service");
        let group = str_at(b, &["group"]).unwrap_or("");
        if kind != "Service" || !group.is_empty() {
            return None;
        }
        let n = get(b, &["name"])?;
        let name = as_str(n)?;
        let ns = str_at(b, &["namespace"]);
        let Some(svc) = self.service(name, &r.namespaces, ns) else {
            if self.made_elsewhere(name, ns) {
                return None;
            }
            return Some((
                "C009",
                r.file.clone(),
                n.loc,
                format!(
                    "{} `{}` routes to `{name}`, which is no Service",
                    r.kind, r.name
                ),
                self.missing_service_help(name),
            ));
        };
        let pn = get(b, &["port"])?;
        let port = scalar(pn).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        let ports = service_ports(svc);
        (!is_external_name(svc) && !ports.contains(&port)).then(|| {
            (
                "C010",
                r.file.clone(),
                pn.loc,
                format!(
                    "{} `{}` routes to port {port} of Service `{name}`, which does not expose it",
                    r.kind, r.name
                ),
                format!("Service `{name}` exposes port(s) {}", join_ports(&ports)),
            )
        })
    }
}

impl Ctx<'_> {
    /// An Ingress `backend.service`: a Service that exists, and the port (by number or by
    /// name) one of its ports.
    fn ingress_backend(&self, ing: &Obj, b: &Node) -> Option<Found> {
        let n = get(b, &["name"])?;
        let name = as_str(n)?;
        let Some(svc) = self.service(name, &ing.namespaces, None) else {
            return (!self.made_elsewhere(name, None)).then(|| {
                (
                    "C009",
                    ing.file.clone(),
                    n.loc,
                    format!(
                        "Ingress `{}` routes to `{name}`, which is no Service",
                        ing.name
                    ),
                    self.missing_service_help(name),
                )
            });
        };
        if is_external_name(svc) {
            return None;
        }
        if let Some(pn) = get(b, &["port", "number"]) {
            let port = scalar(pn).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
            let ports = service_ports(svc);
            return (!ports.contains(&port)).then(|| {
                (
                    "C010",
                    ing.file.clone(),
                    pn.loc,
                    format!("Ingress `{}` routes to port {port} of Service `{name}`, which does not expose it", ing.name),
                    format!("Service `{name}` exposes port(s) {}", join_ports(&ports)),
                )
            });
        }
        let pn = get(b, &["port", "name"])?;
        let port = as_str(pn)?;
        let names: Vec<&str> = seq_at(&svc.node, &["spec", "ports"])
            .iter()
            .filter_map(|p| str_at(p, &["name"]))
            .collect();
        (!names.contains(&port)).then(|| {
            (
                "C010",
                ing.file.clone(),
                pn.loc,
                format!(
                    "Ingress `{}` routes to port `{port}` of Service `{name}`, which has no port of that name",
                    ing.name
                ),
                crate::diagnostic::suggest(port, &names),
            )
        })
    }
}

/// VirtualService routes that split traffic over several destinations whose weights do not add
/// up to 100 (a missing weight counts as 0; one destination takes all traffic).
fn weights(vs: &Obj) -> Vec<Found> {
    let mut out = Vec::new();
    for proto in ["http", "tcp", "tls"] {
        for route in seq_at(&vs.node, &["spec", proto]) {
            let Some(list) = get(route, &["route"]) else {
                continue;
            };
            let dests = seq_at(route, &["route"]);
            if dests.len() < 2 {
                continue;
            }
            let parts: Vec<(String, i64)> = dests
                .iter()
                .map(|d| {
                    let host = str_at(d, &["destination", "host"]).unwrap_or("?");
                    let short = split_host(host).0;
                    let label = match str_at(d, &["destination", "subset"]) {
                        Some(s) => format!("{short}/{s}"),
                        None => short.to_owned(),
                    };
                    let w = get(d, &["weight"]).and_then(scalar);
                    (label, w.and_then(|w| w.parse().ok()).unwrap_or(0))
                })
                .collect();
            let total: i64 = parts.iter().map(|(_, w)| w).sum();
            if total != 100 {
                let shown: Vec<String> = parts.iter().map(|(l, w)| format!("{l}={w}")).collect();
                out.push((
                    "C022",
                    vs.file.clone(),
                    list.loc,
                    format!(
                        "VirtualService `{}`: route weights add up to {total}, not 100 ({})",
                        vs.name,
                        shown.join(", ")
                    ),
                    "give every destination a `weight` so that together they make 100".into(),
                ));
            }
        }
    }
    out
}

fn removed_api(o: &Obj) -> Option<Found> {
    let node = get(&o.node, &["apiVersion"])?;
    let api = as_str(node)?;
    let (to, since) = removed(api, &o.kind)?;
    let help = if to.is_empty() {
        format!(
            "{} was removed without a replacement; delete the object (Pod Security Admission replaces PodSecurityPolicy)",
            o.kind
        )
    } else {
        format!("use `apiVersion: {to}` (check the fields that changed between the versions)")
    };
    Some((
        "C023",
        o.file.clone(),
        node.loc,
        format!(
            "{} `{}` uses `{api}`, which Kubernetes {since} and later no longer serve",
            o.kind, o.name
        ),
        help,
    ))
}

#[cfg(test)]
mod tests {
    use super::removed;

    #[test]
    fn removed_versions_name_their_replacement_and_current_ones_are_kept() {
        assert_eq!(
            removed("extensions/v1beta1", "Ingress"),
            Some(("networking.k8s.io/v1", "1.22"))
        );
        assert_eq!(
            removed("extensions/v1beta1", "Deployment"),
            Some(("apps/v1", "1.16"))
        );
        assert_eq!(
            removed("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
            Some(("autoscaling/v2", "1.26"))
        );
        assert_eq!(
            removed("policy/v1beta1", "PodSecurityPolicy"),
            Some(("", "1.25"))
        );
        assert_eq!(removed("apps/v1", "Deployment"), None);
        assert_eq!(
            removed("networking.istio.io/v1beta1", "VirtualService"),
            None
        );
    }
}
