//! The contract of an existing image (`image:` services): the ports it listens on, how it is
//! probed, the environment it reads, the user and filesystem it needs, its volumes and its
//! command. Every field is optional; a service that sets none keeps the contract of the
//! generated services (`http` on 8080, `/healthz` and `/readyz`, `X_URL` addresses, UID 10001
//! with a read-only root).

use indexmap::IndexMap;

/// What a port speaks: Istio and the Service's `appProtocol` need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProtocol {
    Http,
    Grpc,
    Tcp,
}

impl PortProtocol {
    pub const NAMES: [&'static str; 3] = ["http", "grpc", "tcp"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "http" => Some(Self::Http),
            "grpc" => Some(Self::Grpc),
            "tcp" => Some(Self::Tcp),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// `ports: [{ name, port, container_port, protocol }]`.
#[derive(Debug, Clone)]
pub struct PortSpec {
    /// Default: the protocol's name.
    pub name: Option<String>,
    /// The Service port other workloads dial.
    pub port: u16,
    /// Where the container listens; default: `port`.
    pub container_port: Option<u16>,
    pub protocol: PortProtocol,
}

/// A port named by a probe or an `env` reference: a declared port's name or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Name(String),
    Number(u16),
}

/// One probe: an HTTP GET, a TCP connect, a gRPC health check or a command in the container.
#[derive(Debug, Clone)]
pub enum ProbeSpec {
    Http { path: String, port: Option<PortRef> },
    Tcp(Option<PortRef>),
    Grpc(Option<PortRef>),
    Exec(Vec<String>),
}

/// `probes:`. `none`: the image is not probed at all.
#[derive(Debug, Clone)]
pub enum Probes {
    None,
    Each {
        startup: Option<ProbeSpec>,
        liveness: Option<ProbeSpec>,
        readiness: Option<ProbeSpec>,
    },
}

/// How a reference is written into an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressForm {
    /// `host:port`
    #[default]
    Address,
    /// `http://host:port` (a service), `redis://host:port/0` (a cache)
    Url,
}

/// A value of `env:`: a literal, or the address of a declared service or cache.
#[derive(Debug, Clone)]
pub enum EnvValue {
    Literal(String),
    Service {
        service: String,
        port: Option<PortRef>,
        form: AddressForm,
    },
    Cache {
        cache: String,
        form: AddressForm,
    },
}

/// `security:` exceptions to the hardened defaults, with the reason a reviewer (and checkov) reads.
#[derive(Debug, Clone, Default)]
pub struct Security {
    pub user: Option<u32>,
    pub group: Option<u32>,
    pub read_only_root: Option<bool>,
    /// Linux capabilities added back after dropping all (`NET_BIND_SERVICE`).
    pub capabilities: Vec<String>,
    pub reason: Option<String>,
}

/// `volumes: [{ name, path, size, persistent }]`.
#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub path: String,
    /// A Kubernetes quantity (`64Mi`, `1Gi`).
    pub size: Option<String>,
    pub persistent: bool,
}

/// Everything an existing image may declare about itself.
#[derive(Debug, Clone, Default)]
pub struct Container {
    /// `None`: the generated contract's ports; `Some([])`: the image listens on nothing.
    pub ports: Option<Vec<PortSpec>>,
    pub probes: Option<Probes>,
    pub env: IndexMap<String, EnvValue>,
    pub security: Option<Security>,
    pub volumes: Vec<Volume>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
}

impl Container {
    /// Whether the blueprint declared any of it.
    pub fn is_declared(&self) -> bool {
        self.ports.is_some()
            || self.probes.is_some()
            || !self.env.is_empty()
            || self.security.is_some()
            || !self.volumes.is_empty()
            || self.command.is_some()
            || self.args.is_some()
    }
}

/// A port as the system sees it: declared under `ports`, or the generated contract's
/// (`http` on `port` or 8080, `grpc` on 50051, or on `port` when grpc is all it speaks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectivePort {
    pub name: String,
    pub port: u16,
    pub container_port: u16,
    pub protocol: PortProtocol,
}

/// The generated services' ports.
pub const HTTP_PORT: u16 = 8080;
pub const GRPC_PORT: u16 = 50051;

impl super::Service {
    /// Every port of the service, in declaration order (`http` before `grpc` for the generated
    /// contract). Validation and resolve both read ports through this one function.
    pub fn effective_ports(&self) -> Vec<EffectivePort> {
        if let Some(ports) = &self.container.ports {
            return ports
                .iter()
                .map(|p| EffectivePort {
                    name: p
                        .name
                        .clone()
                        .unwrap_or_else(|| p.protocol.as_str().to_owned()),
                    port: p.port,
                    container_port: p.container_port.unwrap_or(p.port),
                    protocol: p.protocol,
                })
                .collect();
        }
        let grpc = self.protocols.contains(&super::Protocol::Grpc);
        let http = self.protocols.is_empty() || self.protocols.contains(&super::Protocol::Http);
        let mut out = Vec::new();
        let mut push = |name: &str, port: u16, protocol| {
            out.push(EffectivePort {
                name: name.to_owned(),
                port,
                container_port: port,
                protocol,
            });
        };
        if http {
            push("http", self.port.unwrap_or(HTTP_PORT), PortProtocol::Http);
        }
        if grpc {
            let p = if http {
                GRPC_PORT
            } else {
                self.port.unwrap_or(GRPC_PORT)
            };
            push("grpc", p, PortProtocol::Grpc);
        }
        out
    }

    /// The port others reach it on by default: the first http port, else the first port.
    pub fn main_port(&self) -> Option<EffectivePort> {
        let ports = self.effective_ports();
        ports
            .iter()
            .find(|p| p.protocol == PortProtocol::Http)
            .or(ports.first())
            .cloned()
    }

    /// Whether it answers HTTP (a gateway route can reach it).
    pub fn serves_http(&self) -> bool {
        self.kind != super::ServiceKind::Worker
            && self
                .effective_ports()
                .iter()
                .any(|p| p.protocol == PortProtocol::Http)
    }

    /// The variable a `depends_on` entry naming this service becomes in its caller:
    /// `ORDERS_URL` (http), `ORDERS_GRPC_ADDR` (grpc), `ORDERS_ADDR` (plain tcp).
    pub fn address_var(&self, upper: &str) -> String {
        match self.main_port().map(|p| p.protocol) {
            Some(PortProtocol::Http) | None => format!("{upper}_URL"),
            Some(PortProtocol::Grpc) => format!("{upper}_GRPC_ADDR"),
            Some(PortProtocol::Tcp) => format!("{upper}_ADDR"),
        }
    }
}
