//! Reading an existing image's contract (`ports`, `probes`, `env`, `security`, `volumes`,
//! `command`, `args` of a service); the rules between them are in `validate/container.rs`.

use super::super::container::*;
use super::super::node::{Node, Value};
use super::{Reader, join};
use crate::diagnostic::Diagnostic;

const PROBE_KINDS: [&str; 3] = ["startup", "liveness", "readiness"];
const PROBE_KEYS: [&str; 5] = ["http", "tcp", "grpc", "exec", "port"];

impl Reader<'_> {
    pub(super) fn container(&mut self, c: &mut Container, key: &str, v: &Node, p: &str) {
        match key {
            "ports" => c.ports = Some(self.ports(v, p)),
            "probes" => c.probes = self.probes(v, p),
            "env" => c.env = self.named_map(v, p, Reader::env_value),
            "security" => c.security = self.security(v, p),
            "volumes" => c.volumes = self.volumes(v, p),
            "command" => c.command = Some(self.string_list(v, p)),
            _ => c.args = Some(self.string_list(v, p)),
        }
    }

    /// The entries of a list at `path`, each with its own path recorded.
    fn items<'n>(&mut self, n: &'n Node, path: &str, what: &str) -> Vec<(String, &'n Node)> {
        let Value::Seq(items) = &n.value else {
            self.wrong_type(n, path, what);
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let ip = format!("{path}[{i}]");
                self.sources.record(&ip, item.loc, None);
                (ip, item)
            })
            .collect()
    }

    fn port_number(&mut self, n: &Node, path: &str) -> Option<u16> {
        self.uint(n, path, 65535)
            .and_then(|x| u16::try_from(x).ok())
    }

    fn ports(&mut self, n: &Node, path: &str) -> Vec<PortSpec> {
        let mut out = Vec::new();
        for (ip, item) in self.items(n, path, "a list of `{ name, port, protocol }` ports") {
            let keys = ["name", "port", "container_port", "protocol"];
            let Some(entries) = self.map(item, &ip, &keys) else {
                continue;
            };
            let mut spec = PortSpec {
                name: None,
                port: 0,
                container_port: None,
                protocol: PortProtocol::Http,
            };
            let mut has_port = false;
            for (k, v) in entries {
                let kp = join(&ip, k);
                match k {
                    "name" => spec.name = self.string(v, &kp),
                    "port" => {
                        has_port = true;
                        spec.port = self.port_number(v, &kp).unwrap_or(0);
                    }
                    "container_port" => spec.container_port = self.port_number(v, &kp),
                    _ => {
                        spec.protocol = self
                            .choice(v, &kp, &PortProtocol::NAMES, PortProtocol::parse)
                            .unwrap_or(PortProtocol::Http);
                    }
                }
            }
            if !has_port {
                self.missing(
                    &ip,
                    "port",
                    "add `port: 8080` (the port other services dial)",
                );
                continue;
            }
            out.push(spec);
        }
        out
    }

    fn port_ref(&mut self, n: &Node, path: &str) -> Option<PortRef> {
        match &n.value {
            Value::Int(_) => self.port_number(n, path).map(PortRef::Number),
            Value::Str(s) => Some(PortRef::Name(s.clone())),
            _ => {
                self.wrong_type(n, path, "a port number or the name of a declared port");
                None
            }
        }
    }

    fn probes(&mut self, n: &Node, path: &str) -> Option<Probes> {
        if let Value::Str(s) = &n.value {
            if s == "none" {
                return Some(Probes::None);
            }
            self.wrong_type(n, path, "`none` or a mapping of probes");
            return None;
        }
        let Value::Map(entries) = &n.value else {
            self.wrong_type(n, path, "`none` or a mapping of probes");
            return None;
        };
        let per_kind = entries
            .iter()
            .any(|(k, _)| PROBE_KINDS.contains(&k.name.as_str()));
        if !per_kind {
            // One check for all three probes.
            let spec = self.probe(n, path);
            return Some(Probes::Each {
                startup: spec.clone(),
                liveness: spec.clone(),
                readiness: spec,
            });
        }
        let (mut startup, mut liveness, mut readiness) = (None, None, None);
        for (k, v) in self.map(n, path, &PROBE_KINDS)? {
            let spec = self.probe(v, &join(path, k));
            match k {
                "startup" => startup = spec,
                "liveness" => liveness = spec,
                _ => readiness = spec,
            }
        }
        Some(Probes::Each {
            startup,
            liveness,
            readiness,
        })
    }

    /// `{ http: /path, port: http }`, `{ tcp: 7070 }`, `{ grpc: grpc }` or `{ exec: [cmd, …] }`.
    fn probe(&mut self, n: &Node, path: &str) -> Option<ProbeSpec> {
        let entries = self.map(n, path, &PROBE_KEYS)?;
        let checks: Vec<&str> = entries
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "port")
            .collect();
        if checks.len() != 1 {
            self.push(
                Diagnostic::error(
                    "E0136",
                    path,
                    format!("a probe needs exactly one check, found {}", checks.len()),
                )
                .with_help("write one of `http: /path`, `tcp: PORT`, `grpc: PORT` or `exec: [command, …]` (PORT: a number or a declared port's name)")
                .at(n.loc),
            );
            return None;
        }
        let port = entries
            .iter()
            .find(|(k, _)| *k == "port")
            .and_then(|(_, v)| self.port_ref(v, &join(path, "port")));
        let (k, v) = entries.into_iter().find(|(k, _)| *k != "port")?;
        let kp = join(path, k);
        if k != "http" && port.is_some() {
            self.push(
                Diagnostic::error(
                    "E0136",
                    join(path, "port"),
                    "`port` goes with an `http` probe only",
                )
                .with_help(format!(
                    "write the port as the value of `{k}`, e.g. `{k}: 7070`"
                ))
                .at(self.sources.value(&join(path, "port"))),
            );
        }
        match k {
            "http" => Some(ProbeSpec::Http {
                path: self.string(v, &kp)?,
                port,
            }),
            "tcp" => Some(ProbeSpec::Tcp(self.port_ref(v, &kp))),
            "grpc" => Some(ProbeSpec::Grpc(self.port_ref(v, &kp))),
            _ => Some(ProbeSpec::Exec(self.string_list(v, &kp))),
        }
    }

    /// A literal (`"1"`, `info`) or `{ service: NAME, port, form }` / `{ cache: NAME, form }`.
    fn env_value(&mut self, n: &Node, path: &str) -> Option<EnvValue> {
        match &n.value {
            Value::Str(_) | Value::Int(_) => return self.string(n, path).map(EnvValue::Literal),
            Value::Map(_) => {}
            _ => {
                self.wrong_type(
                    n,
                    path,
                    "a string (quote `true` and decimals) or `{ service: NAME }` / `{ cache: NAME }`",
                );
                return None;
            }
        }
        let entries = self.map(n, path, &["service", "cache", "port", "form"])?;
        let (mut service, mut cache, mut port, mut form) = (None, None, None, AddressForm::Address);
        for (k, v) in entries {
            let kp = join(path, k);
            match k {
                "service" => service = self.string(v, &kp),
                "cache" => cache = self.string(v, &kp),
                "port" => port = self.port_ref(v, &kp),
                _ => {
                    form = self
                        .choice(v, &kp, &["address", "url"], |x| match x {
                            "address" => Some(AddressForm::Address),
                            "url" => Some(AddressForm::Url),
                            _ => None,
                        })
                        .unwrap_or_default();
                }
            }
        }
        match (service, cache) {
            (Some(service), None) => Some(EnvValue::Service {
                service,
                port,
                form,
            }),
            (None, Some(cache)) => Some(EnvValue::Cache { cache, form }),
            _ => {
                self.push(
                    Diagnostic::error(
                        "E0137",
                        path,
                        "an address in `env` names one `service` or one `cache`",
                    )
                    .with_help("write `{ service: NAME }` (optionally `port: NAME` and `form: url`) or `{ cache: NAME }`")
                    .at(n.loc),
                );
                None
            }
        }
    }

    fn security(&mut self, n: &Node, path: &str) -> Option<Security> {
        let keys = ["user", "group", "read_only_root", "capabilities", "reason"];
        let mut s = Security::default();
        for (k, v) in self.map(n, path, &keys)? {
            let kp = join(path, k);
            match k {
                "user" => s.user = self.uint(v, &kp, 2_147_483_647).map(|x| x as u32),
                "group" => s.group = self.uint(v, &kp, 2_147_483_647).map(|x| x as u32),
                "read_only_root" => s.read_only_root = self.boolean(v, &kp),
                "capabilities" => s.capabilities = self.string_list(v, &kp),
                _ => s.reason = self.string(v, &kp),
            }
        }
        Some(s)
    }

    fn volumes(&mut self, n: &Node, path: &str) -> Vec<Volume> {
        let mut out = Vec::new();
        for (ip, item) in self.items(n, path, "a list of `{ name, path }` volumes") {
            let keys = ["name", "path", "size", "persistent"];
            let Some(entries) = self.map(item, &ip, &keys) else {
                continue;
            };
            let mut vol = Volume {
                name: String::new(),
                path: String::new(),
                size: None,
                persistent: false,
            };
            let (mut has_name, mut has_path) = (false, false);
            for (k, v) in entries {
                let kp = join(&ip, k);
                match k {
                    "name" => {
                        has_name = true;
                        vol.name = self.string(v, &kp).unwrap_or_default();
                    }
                    "path" => {
                        has_path = true;
                        vol.path = self.string(v, &kp).unwrap_or_default();
                    }
                    "size" => vol.size = self.string(v, &kp),
                    _ => vol.persistent = self.boolean(v, &kp).unwrap_or(false),
                }
            }
            if !has_name {
                self.missing(&ip, "name", "add `name: data` (a DNS-1123 label)");
            }
            if !has_path {
                self.missing(&ip, "path", "add `path: /data` (where it is mounted)");
            }
            if has_name && has_path {
                out.push(vol);
            }
        }
        out
    }
}
