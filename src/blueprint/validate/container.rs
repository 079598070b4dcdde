//! An existing image's own contract (`ports`, `probes`, `env`, `security`, `volumes`,
//! `command`, `args`): only on `image:` services (E0133), not where no cluster runs it (E0134,
//! W0164), and each part coherent: ports (E0135), probes (E0136), environment (E0137), security
//! exceptions with a reason (E0138), volumes (E0139).

use super::Check;
use super::names::is_dns_label;
use crate::blueprint::container::*;
use crate::blueprint::{ArchType, Service};
use heck::ToShoutySnakeCase;
use std::collections::BTreeSet;

/// Keys of a service that describe an existing image, in the order they are reported.
const CONTAINER_KEYS: [&str; 7] = [
    "ports", "probes", "env", "security", "volumes", "command", "args",
];

/// Variables every deployed service gets from the tool, which `env` may not redefine.
const GENERATED_VARS: [&str; 4] = [
    "SERVICE_NAME",
    "LOG_LEVEL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
];

/// An IANA service name, what Kubernetes allows as a port name: at most 15 characters,
/// lowercase letters, digits and `-`, at least one letter, no `-` at either end or twice.
fn is_port_name(s: &str) -> bool {
    is_dns_label(s, 15) && s.bytes().any(|b| b.is_ascii_lowercase()) && !s.contains("--")
}

/// Words YAML 1.1 readers (kubectl's among them) take for a boolean or null, even as a key.
const YAML_11_WORDS: [&str; 11] = [
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
];

/// A POSIX-portable environment variable name that stays a string in every YAML reader.
fn is_env_name(s: &str) -> bool {
    !YAML_11_WORDS.contains(&s.to_ascii_lowercase().as_str())
        && !s.is_empty()
        && s.len() <= 128
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An absolute path of plain segments (it reaches YAML, compose's `tmpfs`/`volumes` syntax).
fn is_mount_path(s: &str) -> bool {
    s.len() <= 200
        && s.starts_with('/')
        && s[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// An HTTP probe path: `/`, then URL-safe characters (no spaces, quotes or `#`).
fn is_probe_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/?=&%+:@".contains(&b))
}

/// A size in binary units, as Kubernetes quantities and compose's tmpfs sizes both read it.
fn is_size(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    !digits.is_empty()
        && digits.len() <= 6
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
        && ["Ki", "Mi", "Gi", "Ti"].contains(&unit)
}

/// A Linux capability as Kubernetes writes it (`NET_BIND_SERVICE`, no `CAP_` prefix).
fn is_capability(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s != "ALL"
        && !s.starts_with("CAP_")
        && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

impl Check<'_> {
    pub(super) fn container_rules(&mut self) {
        let bp = self.bp;
        let no_cluster = matches!(bp.arch, ArchType::Monolith | ArchType::Serverless);
        let all_images = bp.services.values().all(|s| s.image.is_some());
        for (name, s) in &bp.services {
            let p = format!("services.{name}");
            self.calls_to_portless(name, s);
            if s.image.is_none() {
                if let Some(key) = CONTAINER_KEYS
                    .iter()
                    .find(|k| self.src.has(&format!("{p}.{k}")))
                {
                    self.err_key(
                        "E0133",
                        format!("{p}.{key}"),
                        format!("`{key}` describes an existing image, but `{name}` has generated code"),
                        "the generated code's contract is fixed (ports from `port`/`protocol`, /healthz and /readyz, X_URL addresses); add `image:` if this is an existing image, or remove the key".into(),
                    );
                }
                continue;
            }
            if no_cluster {
                self.image_without_cluster(name, s, all_images);
                continue;
            }
            self.ports_of_image(name, s);
            self.probes_of_image(name, s);
            self.env_of_image(name, s);
            self.security_of_image(name, s);
            self.volumes_of_image(name, s);
        }
    }

    /// `depends_on` wires an address: a service that listens on nothing (`ports: []`) has none.
    fn calls_to_portless(&mut self, name: &str, s: &Service) {
        for (i, dep) in s.depends_on.iter().enumerate() {
            if self
                .bp
                .services
                .get(dep)
                .is_some_and(|d| d.effective_ports().is_empty())
            {
                self.err(
                    "E0135",
                    format!("services.{name}.depends_on[{i}]"),
                    format!("`{name}` depends on `{dep}`, which listens on no port"),
                    format!("give `{dep}` a port under `ports`, or remove it from `depends_on`"),
                );
            }
        }
    }

    /// A monolith is one generated app and serverless is functions: an existing image has no
    /// workload to run in. Refused when it describes how it runs (or nothing else is left to
    /// generate); otherwise warned about, so it is never dropped without a word.
    fn image_without_cluster(&mut self, name: &str, s: &Service, all_images: bool) {
        let arch = self.bp.arch.as_str();
        let help = format!(
            "a {arch} system deploys only generated code; use `--type microservices` to run `{name}` as its own workload, or remove it and run it beside the system"
        );
        if s.container.is_declared() || all_images {
            self.err(
                "E0134",
                format!("services.{name}.image"),
                format!("service `{name}` is an existing image, which a {arch} system cannot run"),
                help,
            );
        } else {
            self.warn(
                "W0164",
                format!("services.{name}.image"),
                format!(
                    "service `{name}` is an existing image and is not deployed in a {arch} system"
                ),
                help,
            );
        }
    }

    fn ports_of_image(&mut self, name: &str, s: &Service) {
        let p = format!("services.{name}");
        if s.container.ports.is_none() {
            return;
        }
        for key in ["port", "protocol"] {
            if self.src.has(&format!("{p}.{key}")) {
                self.err_key(
                    "E0135",
                    format!("{p}.{key}"),
                    format!("service `{name}` has both `{key}` and `ports`"),
                    "with `ports`, give each port its number and protocol there and remove this key".into(),
                );
            }
        }
        let (mut names, mut ports, mut inside) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let caps = s.container.security.as_ref().map(|x| &x.capabilities);
        let may_bind_low = caps.is_some_and(|c| c.iter().any(|c| c == "NET_BIND_SERVICE"));
        for (i, port) in s.effective_ports().iter().enumerate() {
            let ip = format!("{p}.ports[{i}]");
            if !is_port_name(&port.name) {
                self.err(
                    "E0135",
                    format!("{ip}.name"),
                    format!("port name `{}` is not a valid port name", port.name),
                    "use at most 15 lowercase letters, digits and `-`, with a letter (e.g. `http`, `grpc`, `metrics`)".into(),
                );
            } else if !names.insert(port.name.clone()) {
                self.err(
                    "E0135",
                    ip.clone(),
                    format!("two ports of `{name}` are named `{}`", port.name),
                    "give each port its own `name` (the default is the protocol)".into(),
                );
            }
            if port.port == 0 || port.container_port == 0 {
                self.err(
                    "E0135",
                    ip.clone(),
                    format!("a port of `{name}` is 0"),
                    "use a port from 1 to 65535".into(),
                );
                continue;
            }
            if !ports.insert(port.port) {
                self.err(
                    "E0135",
                    format!("{ip}.port"),
                    format!("port {} of `{name}` is declared twice", port.port),
                    "each Service port is declared once".into(),
                );
            }
            if !inside.insert(port.container_port) {
                self.err(
                    "E0135",
                    ip.clone(),
                    format!(
                        "container port {} of `{name}` is declared twice",
                        port.container_port
                    ),
                    "each container port is declared once".into(),
                );
            }
            if port.container_port < 1024 && !may_bind_low {
                self.warn(
                    "W0206",
                    ip,
                    format!("service `{name}` listens on privileged port {}", port.container_port),
                    "the container runs without capabilities; add `security: { capabilities: [NET_BIND_SERVICE], reason: ... }`, or set `container_port` to 1024 or above (`port` can stay below)".into(),
                );
            }
        }
    }

    /// Whether `r` names a port of `s` (a declared name, or a container port number).
    fn port_known(s: &Service, r: &PortRef) -> bool {
        s.effective_ports().iter().any(|p| match r {
            PortRef::Name(n) => &p.name == n,
            PortRef::Number(n) => p.container_port == *n,
        })
    }

    fn probes_of_image(&mut self, name: &str, s: &Service) {
        let Some(Probes::Each {
            startup,
            liveness,
            readiness,
        }) = &s.container.probes
        else {
            return;
        };
        let p = format!("services.{name}.probes");
        let per_kind = ["startup", "liveness", "readiness"]
            .iter()
            .any(|k| self.src.has(&format!("{p}.{k}")));
        let mut seen = BTreeSet::new();
        for (kind, spec) in [
            ("startup", startup),
            ("liveness", liveness),
            ("readiness", readiness),
        ] {
            let Some(spec) = spec else { continue };
            let path = if per_kind {
                format!("{p}.{kind}")
            } else {
                p.clone()
            };
            if !seen.insert(path.clone()) {
                continue; // one spec for all three: report it once
            }
            let (port, key) = match spec {
                ProbeSpec::Http { path: hp, port } => {
                    if !is_probe_path(hp) {
                        self.err(
                            "E0136",
                            format!("{path}.http"),
                            format!("probe path `{hp}` is not a URL path"),
                            "write it as `/healthz` (letters, digits and `-._~/?=&%+:@`)".into(),
                        );
                    }
                    (port.as_ref(), "port")
                }
                ProbeSpec::Tcp(port) => (port.as_ref(), "tcp"),
                ProbeSpec::Grpc(port) => (port.as_ref(), "grpc"),
                ProbeSpec::Exec(cmd) => {
                    if cmd.is_empty() || cmd.iter().any(String::is_empty) {
                        self.err(
                            "E0136",
                            format!("{path}.exec"),
                            "an `exec` probe needs a command".into(),
                            "write the command and its arguments as a list, e.g. `exec: [/bin/grpc_health_probe, -addr=:8080]`".into(),
                        );
                    }
                    (None, "exec")
                }
            };
            if let Some(r) = port
                && !Self::port_known(s, r)
            {
                let shown = match r {
                    PortRef::Name(n) => n.clone(),
                    PortRef::Number(n) => n.to_string(),
                };
                let known: Vec<String> = s
                    .effective_ports()
                    .iter()
                    .map(|p| format!("{} ({})", p.name, p.container_port))
                    .collect();
                self.err(
                    "E0136",
                    format!("{path}.{key}"),
                    format!("the probe names port `{shown}`, which `{name}` does not declare"),
                    format!("name one of its ports: {}", known.join(", ")),
                );
            }
        }
    }

    fn env_of_image(&mut self, name: &str, s: &Service) {
        let bp = self.bp;
        let p = format!("services.{name}.env");
        let mut taken: BTreeSet<String> = GENERATED_VARS.iter().map(|v| (*v).to_owned()).collect();
        if s.container.ports.is_none() {
            taken.extend(["PORT".to_owned(), "GRPC_PORT".to_owned()]);
        }
        if s.cache.is_some() {
            taken.insert("REDIS_URL".into());
        }
        if s.database.is_some() {
            taken.insert("DATABASE_URL".into());
        }
        for dep in &s.depends_on {
            if let Some(d) = bp.services.get(dep) {
                taken.insert(d.address_var(&dep.to_shouty_snake_case()));
            }
        }
        for (var, value) in &s.container.env {
            let vp = format!("{p}.{var}");
            if !is_env_name(var) {
                self.err_key(
                    "E0137",
                    vp.clone(),
                    format!("`{var}` is not an environment variable name"),
                    "use letters, digits and `_`, not starting with a digit, and not a word YAML reads as a boolean or null (`ON`, `NO`, `NULL`, …)".into(),
                );
            } else if taken.contains(var) {
                self.err_key(
                    "E0137",
                    vp.clone(),
                    format!("`{var}` is already set for `{name}` by the tool"),
                    "the tool sets SERVICE_NAME, LOG_LEVEL, the OTEL_ variables, PORT/GRPC_PORT (without `ports`) and the `depends_on`, cache and database addresses; choose another name or drop the `depends_on` entry and name the address here".into(),
                );
            }
            self.env_reference(name, &vp, value);
        }
    }

    fn env_reference(&mut self, name: &str, vp: &str, value: &EnvValue) {
        let bp = self.bp;
        match value {
            EnvValue::Literal(_) => {}
            EnvValue::Service {
                service,
                port,
                form,
            } => {
                let Some(target) = bp.services.get(service) else {
                    let known = super::names(&bp.services);
                    let help = self.hint(service, &known, "services");
                    self.err(
                        "E0110",
                        format!("{vp}.service"),
                        format!("`{name}` is given the address of unknown service `{service}`"),
                        help,
                    );
                    return;
                };
                if service == name {
                    self.err(
                        "E0137",
                        format!("{vp}.service"),
                        format!("`{name}` is given its own address"),
                        "a service does not call itself through the network; remove it".into(),
                    );
                }
                let chosen = match port {
                    Some(r) => target.effective_ports().into_iter().find(|p| match r {
                        PortRef::Name(n) => &p.name == n,
                        PortRef::Number(n) => p.port == *n,
                    }),
                    None => target.main_port(),
                };
                match chosen {
                    None => {
                        let known: Vec<String> = target.effective_ports().iter().map(|p| format!("{} ({})", p.name, p.port)).collect();
                        self.err(
                            "E0137",
                            format!("{vp}.port"),
                            format!("`{service}` has no such port"),
                            format!("name one of its ports: {}", known.join(", ")),
                        );
                    }
                    Some(p) if *form == AddressForm::Url && p.protocol != PortProtocol::Http => self.err(
                        "E0137",
                        format!("{vp}.form"),
                        format!("port `{}` of `{service}` speaks {}, not HTTP, so it has no `http://` URL", p.name, p.protocol.as_str()),
                        "use `form: address` (host:port), or name an http port".into(),
                    ),
                    Some(_) => {}
                }
            }
            EnvValue::Cache { cache, .. } => {
                if !bp.caches.contains_key(cache) {
                    let known = super::names(&bp.caches);
                    let help = self.hint(cache, &known, "caches");
                    self.err(
                        "E0121",
                        format!("{vp}.cache"),
                        format!("`{name}` is given the address of unknown cache `{cache}`"),
                        help,
                    );
                }
            }
        }
    }

    fn security_of_image(&mut self, name: &str, s: &Service) {
        let Some(sec) = &s.container.security else {
            return;
        };
        let p = format!("services.{name}.security");
        for (i, c) in sec.capabilities.iter().enumerate() {
            if !is_capability(c) {
                self.err(
                    "E0138",
                    format!("{p}.capabilities[{i}]"),
                    format!("`{c}` is not a capability name"),
                    "write it as Kubernetes does, e.g. `NET_BIND_SERVICE` (no `CAP_` prefix, never `ALL`)".into(),
                );
            }
        }
        self.duplicates(
            &format!("{p}.capabilities"),
            &sec.capabilities,
            "E0138",
            "capability",
        );
        let exception = sec.user.is_some()
            || sec.group.is_some()
            || sec.read_only_root == Some(false)
            || !sec.capabilities.is_empty();
        let reason = sec.reason.as_deref().map(str::trim).unwrap_or_default();
        if exception && reason.is_empty() {
            self.err_key(
                "E0138",
                p.clone(),
                format!("`{name}` relaxes the container defaults without a `reason`"),
                "add `reason: ...` saying why the image needs it; it is written next to the setting for reviewers and scanners (checkov)".into(),
            );
        }
        if reason.len() > 300 {
            self.err(
                "E0138",
                format!("{p}.reason"),
                "the reason is longer than 300 characters".into(),
                "keep it to a sentence; link to a document for more".into(),
            );
        }
    }

    fn volumes_of_image(&mut self, name: &str, s: &Service) {
        let p = format!("services.{name}.volumes");
        let (mut names, mut paths) = (BTreeSet::new(), BTreeSet::new());
        for (i, v) in s.container.volumes.iter().enumerate() {
            let vp = format!("{p}[{i}]");
            if !is_dns_label(&v.name, 40) || v.name == "tmp" {
                self.err(
                    "E0139",
                    format!("{vp}.name"),
                    format!("volume name `{}` is not allowed", v.name),
                    "use a DNS-1123 label of at most 40 characters other than `tmp` (the scratch volume every container gets)".into(),
                );
            } else if !names.insert(v.name.as_str()) {
                self.err(
                    "E0139",
                    format!("{vp}.name"),
                    format!("two volumes of `{name}` are named `{}`", v.name),
                    "give each volume its own name".into(),
                );
            }
            if !is_mount_path(&v.path) || v.path == "/tmp" {
                self.err(
                    "E0139",
                    format!("{vp}.path"),
                    format!("`{}` is not a mount path for a volume", v.path),
                    "write an absolute path of letters, digits and `-_.` (not `/tmp`, which every container already has)".into(),
                );
            } else if !paths.insert(v.path.as_str()) {
                self.err(
                    "E0139",
                    format!("{vp}.path"),
                    format!("two volumes of `{name}` are mounted at `{}`", v.path),
                    "mount each volume at its own path".into(),
                );
            }
            if let Some(size) = &v.size
                && !is_size(size)
            {
                self.err(
                    "E0139",
                    format!("{vp}.size"),
                    format!("`{size}` is not a size"),
                    "write a whole number with a binary unit: `64Mi`, `1Gi`".into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_port_name("http") && is_port_name("grpc-web") && !is_port_name("8080"));
        assert!(!is_port_name("a-very-long-port-name") && !is_port_name("a--b"));
        assert!(
            is_env_name("PRODUCT_CATALOG_SERVICE_ADDR")
                && !is_env_name("1X")
                && !is_env_name("A-B")
        );
        assert!(!is_env_name("ON") && !is_env_name("No") && is_env_name("ONE"));
        assert!(
            is_mount_path("/var/cache/nginx")
                && !is_mount_path("/a/../b")
                && !is_mount_path("/a:rw")
        );
        assert!(is_probe_path("/_healthz") && !is_probe_path("/a b") && !is_probe_path("x"));
        assert!(
            is_size("64Mi")
                && is_size("1Gi")
                && !is_size("1G")
                && !is_size("0Mi")
                && !is_size("Mi")
        );
        assert!(
            is_capability("NET_BIND_SERVICE") && !is_capability("ALL") && !is_capability("cap_x")
        );
    }
}
