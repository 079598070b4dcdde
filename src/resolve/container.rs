//! How each workload's container runs: its probes, its user and filesystem, capabilities,
//! volumes and command. Generated services and images that declare nothing get the tool's
//! contract (probes on `/healthz` and `/readyz`, UID 10001, read-only root, no capabilities);
//! an existing image gets what its blueprint entry declares (`blueprint::container`), with the
//! reason for every relaxed default written where reviewers and checkov read it.

use crate::blueprint::container::{EffectivePort, PortProtocol, PortRef, ProbeSpec, Probes};
use crate::blueprint::{self, container::Container};
use serde::Serialize;

/// UID/GID of the tool's containers (non-root, above 10000).
pub const RUN_AS_USER: u32 = 10001;

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// `startupProbe`, `livenessProbe` or `readinessProbe`.
    pub kind: &'static str,
    /// `httpGet`, `tcpSocket`, `grpc` or `exec`.
    pub handler: &'static str,
    pub path: Option<String>,
    /// A port name or number (`grpc` probes take a number only).
    pub port: Option<String>,
    pub command: Vec<String>,
    pub period_seconds: u32,
    pub timeout_seconds: Option<u32>,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Security {
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub run_as_non_root: bool,
    pub read_only_root: bool,
    pub add_capabilities: Vec<String>,
    /// checkov skip annotations (`CKV_K8S_40=reason`) for the relaxed defaults, in order.
    pub checkov_skips: Vec<String>,
    /// compose's `user:` (`1000:1000`), when the blueprint sets a user.
    pub compose_user: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    pub name: String,
    pub path: String,
    pub size: String,
    pub persistent: bool,
    /// PersistentVolumeClaim (Kubernetes) and named volume (compose) of a persistent volume.
    pub claim: String,
}

/// Everything about the container that is not wiring.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerRun {
    pub probes: Vec<Probe>,
    pub security: Security,
    pub volumes: Vec<Volume>,
    /// Some volume is persistent (a PersistentVolumeClaim file is written).
    pub has_claims: bool,
    /// Overrides of the image's entrypoint and arguments.
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// compose healthcheck from an `exec` readiness probe (an image has no shell contract).
    pub compose_healthcheck: Option<Vec<String>>,
}

/// The container of one service; `ports` are its effective ports (after the type's lowering).
pub fn resolve(service: &str, c: &Container, ports: &[EffectivePort]) -> ContainerRun {
    let probes = match &c.probes {
        Some(Probes::None) => Vec::new(),
        Some(Probes::Each {
            startup,
            liveness,
            readiness,
        }) => [
            ("startupProbe", startup),
            ("livenessProbe", liveness),
            ("readinessProbe", readiness),
        ]
        .into_iter()
        .filter_map(|(kind, spec)| spec.as_ref().map(|s| declared(kind, s, ports)))
        .collect(),
        None => default_probes(ports),
    };
    let compose_healthcheck = probes
        .iter()
        .find(|p| p.kind == "readinessProbe" && p.handler == "exec")
        .map(|p| p.command.clone());
    let mut security = security(c.security.as_ref());
    // The blueprint chose no probe of this kind for the image: checkov asks for one.
    for (kind, check) in [
        ("livenessProbe", "CKV_K8S_8"),
        ("readinessProbe", "CKV_K8S_9"),
    ] {
        if !probes.iter().any(|p| p.kind == kind) {
            security.checkov_skips.push(format!(
                "{check}=the blueprint declares no {kind} for this existing image"
            ));
        }
    }
    ContainerRun {
        probes,
        security,
        has_claims: c.volumes.iter().any(|v| v.persistent),
        volumes: c
            .volumes
            .iter()
            .map(|v| Volume {
                claim: format!("{service}-{}", v.name),
                name: v.name.clone(),
                path: v.path.clone(),
                size: v
                    .size
                    .clone()
                    .unwrap_or_else(|| if v.persistent { "1Gi" } else { "64Mi" }.into()),
                persistent: v.persistent,
            })
            .collect(),
        command: c.command.clone(),
        args: c.args.clone(),
        compose_healthcheck,
    }
}

/// The tool's own probes: HTTP `/healthz` (start-up, liveness) and `/readyz` on the main http
/// port; without one, a TCP connect and a gRPC health check; a plain TCP port, TCP connects.
fn default_probes(ports: &[EffectivePort]) -> Vec<Probe> {
    let http = ports.iter().find(|p| p.protocol == PortProtocol::Http);
    let probe = |kind, handler, path: Option<&str>, port: String, period, timeout, failure| Probe {
        kind,
        handler,
        path: path.map(str::to_owned),
        port: Some(port),
        command: Vec::new(),
        period_seconds: period,
        timeout_seconds: timeout,
        failure_threshold: failure,
    };
    if let Some(h) = http {
        return vec![
            probe(
                "startupProbe",
                "httpGet",
                Some("/healthz"),
                h.name.clone(),
                5,
                None,
                30,
            ),
            probe(
                "livenessProbe",
                "httpGet",
                Some("/healthz"),
                h.name.clone(),
                10,
                Some(2),
                3,
            ),
            probe(
                "readinessProbe",
                "httpGet",
                Some("/readyz"),
                h.name.clone(),
                5,
                Some(2),
                3,
            ),
        ];
    }
    let Some(first) = ports.first() else {
        return Vec::new();
    };
    let ready = if first.protocol == PortProtocol::Grpc {
        probe(
            "readinessProbe",
            "grpc",
            None,
            first.container_port.to_string(),
            5,
            None,
            3,
        )
    } else {
        probe(
            "readinessProbe",
            "tcpSocket",
            None,
            first.name.clone(),
            5,
            None,
            3,
        )
    };
    vec![
        probe(
            "startupProbe",
            "tcpSocket",
            None,
            first.name.clone(),
            5,
            None,
            30,
        ),
        probe(
            "livenessProbe",
            "tcpSocket",
            None,
            first.name.clone(),
            10,
            None,
            3,
        ),
        ready,
    ]
}

/// A probe the blueprint declares; timings are the tool's (start-up allows 150 s).
fn declared(kind: &'static str, spec: &ProbeSpec, ports: &[EffectivePort]) -> Probe {
    let (period, timeout, failure) = match kind {
        "startupProbe" => (5, Some(2), 30),
        "livenessProbe" => (10, Some(2), 3),
        _ => (5, Some(2), 3),
    };
    let find = |r: &PortRef| {
        ports.iter().find(|p| match r {
            PortRef::Name(n) => &p.name == n,
            PortRef::Number(n) => p.container_port == *n,
        })
    };
    let first_of = |protocol| {
        ports
            .iter()
            .find(|p| p.protocol == protocol)
            .or(ports.first())
    };
    let by_name = |r: Option<&PortRef>, protocol| {
        r.map_or_else(|| first_of(protocol), find)
            .map(|p| p.name.clone())
    };
    let (handler, path, port, command) = match spec {
        ProbeSpec::Http { path, port } => (
            "httpGet",
            Some(path.clone()),
            by_name(port.as_ref(), PortProtocol::Http),
            Vec::new(),
        ),
        ProbeSpec::Tcp(port) => (
            "tcpSocket",
            None,
            by_name(port.as_ref(), PortProtocol::Tcp),
            Vec::new(),
        ),
        // Kubernetes' grpc probe takes a port number, never a name.
        ProbeSpec::Grpc(port) => (
            "grpc",
            None,
            port.as_ref()
                .map_or_else(|| first_of(PortProtocol::Grpc), find)
                .map(|p| p.container_port.to_string()),
            Vec::new(),
        ),
        ProbeSpec::Exec(cmd) => ("exec", None, None, cmd.clone()),
    };
    Probe {
        kind,
        handler,
        path,
        port,
        command,
        period_seconds: period,
        timeout_seconds: timeout,
        failure_threshold: failure,
    }
}

/// The hardened defaults, relaxed only where the blueprint says so, each relaxation carrying its
/// reason into the checkov skip of the rule it breaks.
fn security(s: Option<&blueprint::container::Security>) -> Security {
    let mut out = Security {
        run_as_user: RUN_AS_USER,
        run_as_group: RUN_AS_USER,
        run_as_non_root: true,
        read_only_root: true,
        add_capabilities: Vec::new(),
        checkov_skips: Vec::new(),
        compose_user: None,
    };
    let Some(s) = s else {
        return out;
    };
    let reason = s.reason.clone().unwrap_or_default();
    let reason = reason.trim();
    let mut skip = |check: &str| out.checkov_skips.push(format!("{check}={reason}"));
    if let Some(u) = s.user {
        if u < 10000 {
            skip("CKV_K8S_40");
        }
        if u == 0 {
            skip("CKV_K8S_23");
        }
    }
    if s.read_only_root == Some(false) {
        skip("CKV_K8S_22");
    }
    if !s.capabilities.is_empty() {
        skip("CKV_K8S_25");
    }
    // Capabilities checkov names on their own.
    for (cap, check) in [("NET_RAW", "CKV_K8S_28"), ("SYS_ADMIN", "CKV_K8S_39")] {
        if s.capabilities.iter().any(|c| c == cap) {
            skip(check);
        }
    }
    if let Some(u) = s.user {
        out.run_as_user = u;
        out.run_as_group = s.group.unwrap_or(u);
        out.run_as_non_root = u != 0;
    } else if let Some(g) = s.group {
        out.run_as_group = g;
    }
    if s.user.is_some() || s.group.is_some() {
        out.compose_user = Some(format!("{}:{}", out.run_as_user, out.run_as_group));
    }
    out.read_only_root = s.read_only_root.unwrap_or(true);
    out.add_capabilities = s.capabilities.clone();
    out
}
