//! Per-service rules: `image` or `language`, ports, versions and traffic weights; the ingress
//! host; and the rules that depend on the architecture type (grpc in serverless, a mesh in a
//! monolith, traffic splitting without a mesh).

use super::Check;
use super::names::is_dns_label;
use crate::blueprint::{ArchType, Protocol, Service, ServiceKind, schema};
use crate::diagnostic::suggest;

/// The port the generated code serves grpc on when a service speaks both protocols.
const GRPC_PORT: u16 = 50051;

/// A container image reference: `[host[:port]/]path[:tag][@sha256:digest]`, lowercase path.
pub fn is_image_ref(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 || s.starts_with(['/', ':', '@', '.', '-']) {
        return false;
    }
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(alg, hex)| {
            !alg.is_empty()
                && alg.bytes().all(|b| b.is_ascii_alphanumeric())
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !ok {
            return false;
        }
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    let path_ok = !path.is_empty()
        && !path.contains("//")
        && !path.ends_with('/')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/:".contains(&b))
        // `:` only as the registry's port (`host:5000/app`): `app:1:2` has two tags.
        && path
            .split('/')
            .enumerate()
            .all(|(i, seg)| !seg.contains(':') || (i == 0 && path.contains('/') && seg.matches(':').count() == 1));
    let tag_ok = tag.is_none_or(|t| {
        !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    });
    path_ok && tag_ok
}

/// A host name for the ingress (`shop.example.com`, `*.example.com`).
fn is_host(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

impl Check<'_> {
    pub(super) fn service_rules(&mut self) {
        let bp = self.bp;
        if let Some(ing) = &bp.ingress
            && (!ing.host.is_empty() || self.src.value("ingress.host") != self.src.value("ingress"))
            && !is_host(&ing.host)
        {
            self.err(
                "E0109",
                "ingress.host".into(),
                format!("ingress host `{}` is not a valid host name", ing.host),
                "use a lowercase DNS name such as `shop.example.com`".into(),
            );
        }
        for (name, s) in &bp.services {
            self.image_or_language(name, s);
            self.ports(name, s);
            self.traffic(name, s);
        }
    }

    /// A monolith is one app: every service with code is a module of it, in one language
    /// (the first such service's). Each service written in another is reported.
    fn one_language(&mut self) {
        let coded = |s: &&Service| s.image.is_none() && s.kind != ServiceKind::Gateway;
        let language = |s: &Service| s.language.clone().unwrap_or_else(|| "python".into());
        let mut coded_services = self.bp.services.iter().filter(|(_, s)| coded(s));
        let Some((first, s)) = coded_services.next() else {
            return;
        };
        let app_language = language(s);
        for (name, s) in coded_services {
            let lang = language(s);
            if lang == app_language || !schema::LANGUAGES.contains(&lang.as_str()) {
                continue;
            }
            let path = if s.language.is_some() {
                format!("services.{name}.language")
            } else {
                format!("services.{name}")
            };
            self.err(
                "E0156",
                path,
                format!(
                    "service `{name}` is written in {lang}, but the monolith's first module, `{first}`, is {app_language}: a monolith is one app in one language"
                ),
                format!(
                    "write `language: {app_language}` here, or `language: {lang}` on every service; `--type microservices` mixes languages"
                ),
            );
        }
    }

    fn image_or_language(&mut self, name: &str, s: &Service) {
        let p = format!("services.{name}");
        if let (Some(_), Some(_)) = (&s.image, &s.language) {
            self.err(
                "E0130",
                format!("{p}.language"),
                format!("service `{name}` has both `image` and `language`"),
                "keep `image` for an existing image (infrastructure only, no code) or `language` for generated code".into(),
            );
        }
        if let Some(lang) = &s.language
            && !schema::LANGUAGES.contains(&lang.as_str())
        {
            self.err(
                "E0131",
                format!("{p}.language"),
                format!("language `{lang}` is not supported"),
                suggest(lang, schema::LANGUAGES),
            );
        }
        if s.language.is_some() && s.kind == ServiceKind::Gateway {
            self.warn(
                "W0165",
                format!("{p}.language"),
                format!(
                    "service `{name}` is a gateway, which has no code: its `language` has no effect"
                ),
                "a gateway is the generated proxy's routes and rules; remove `language`".into(),
            );
        }
        if let Some(img) = &s.image
            && !is_image_ref(img)
        {
            self.err(
                "E0132",
                format!("{p}.image"),
                format!("`{img}` is not a container image reference"),
                "write `registry/path:tag`, e.g. `ghcr.io/acme/recommendations:1.4.2` (lowercase path, no spaces)".into(),
            );
        }
    }

    fn ports(&mut self, name: &str, s: &Service) {
        let Some(port) = s.port else { return };
        let path = format!("services.{name}.port");
        let both = s.protocols.contains(&Protocol::Http) && s.protocols.contains(&Protocol::Grpc);
        if port == 0 {
            self.err(
                "E0171",
                path,
                format!("service `{name}` has port 0"),
                "use a port from 1024 to 65535, e.g. 8080".into(),
            );
        } else if both && port == GRPC_PORT {
            self.err(
                "E0170",
                path,
                format!(
                    "service `{name}` serves http on port {port}, which its grpc server also uses"
                ),
                format!(
                    "with `protocol: [http, grpc]`, `port` is the http port and grpc listens on {GRPC_PORT}; choose another http port, e.g. 8080"
                ),
            );
        } else if port < 1024 {
            self.warn(
                "W0206",
                path,
                format!("service `{name}` listens on privileged port {port}"),
                "containers run as non-root without capabilities and cannot bind below 1024; use e.g. 8080 (the Service can still expose 80)".into(),
            );
        }
    }

    fn traffic(&mut self, name: &str, s: &Service) {
        let vp = format!("services.{name}.versions");
        for (i, v) in s.versions.iter().enumerate() {
            if !is_dns_label(v, 20) {
                self.err(
                    "E0101",
                    format!("{vp}[{i}]"),
                    format!("version name `{v}` is not a DNS-1123 label"),
                    "use lowercase letters, digits and `-`, e.g. `v2`".into(),
                );
            }
        }
        self.duplicates(&vp, &s.versions, "E0152", "version");
        if s.traffic.is_empty() {
            return;
        }
        let p = format!("services.{name}.traffic");
        let versions: Vec<&str> = if s.versions.is_empty() {
            vec!["v1"]
        } else {
            s.versions.iter().map(String::as_str).collect()
        };
        for v in s.traffic.keys() {
            if !versions.contains(&v.as_str()) {
                self.err_key(
                    "E0150",
                    format!("{p}.{v}"),
                    format!("traffic names version `{v}`, which `{name}` does not declare"),
                    format!(
                        "declared versions: {} — add `{v}` to `versions` or {}",
                        versions.join(", "),
                        suggest(v, &versions)
                    ),
                );
            }
        }
        let sum: u32 = s.traffic.values().sum();
        if sum != 100 {
            let parts: Vec<String> = s.traffic.iter().map(|(k, w)| format!("{k}: {w}")).collect();
            self.err(
                "E0151",
                p,
                format!("traffic weights of `{name}` sum to {sum}, not 100"),
                format!(
                    "the weights ({}) must add up to exactly 100",
                    parts.join(", ")
                ),
            );
        }
    }

    pub(super) fn type_rules(&mut self) {
        let bp = self.bp;
        match bp.arch {
            ArchType::Serverless => {
                for (name, s) in &bp.services {
                    if !s.protocols.contains(&Protocol::Grpc) {
                        continue;
                    }
                    if s.protocols.contains(&Protocol::Http) {
                        // Lowered as an http function; only the grpc side is lost.
                        self.warn(
                            "W0163",
                            format!("services.{name}.protocol"),
                            format!("service `{name}` also serves grpc, which serverless functions cannot; only its http API is generated"),
                            "use `protocol: http`, or `--type microservices` to keep grpc".into(),
                        );
                    } else {
                        self.err(
                            "E0160",
                            format!("services.{name}.protocol"),
                            format!("service `{name}` uses grpc, which serverless functions cannot serve"),
                            "use `protocol: http` or `--type microservices`".into(),
                        );
                    }
                }
            }
            ArchType::Monolith => {
                if bp.mesh.enabled && self.src.value("mesh") != Default::default() {
                    self.warn(
                        "W0161",
                        "mesh".into(),
                        "a monolith has no service mesh; `mesh` is ignored".into(),
                        "remove `mesh` or use `--type microservices`".into(),
                    );
                }
                self.one_language();
            }
            ArchType::Microservices => {
                if !bp.mesh.enabled {
                    for (name, s) in &bp.services {
                        if !s.traffic.is_empty() {
                            self.warn(
                                "W0162",
                                format!("services.{name}.traffic"),
                                format!("traffic of `{name}` is split between versions, but the mesh is disabled"),
                                "without Istio the weights are not enforced; set `mesh: { enabled: true }` or remove `traffic`".into(),
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        for ok in [
            "ghcr.io/acme/recommendations:1.4.2",
            "nginx",
            "localhost:5000/app:latest",
            "acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_image_ref(ok), "{ok}");
        }
        for bad in [
            "",
            "Acme/App:1",
            "acme/app:",
            "../../etc",
            "a b",
            "acme//app",
            "app@sha256:xyz",
            "acme/app:1.0:2.0",
            "app:1:2",
            "localhost:5000:1/app",
        ] {
            assert!(!is_image_ref(bad), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert!(is_host("shop.example.com") && is_host("*.example.com"));
        assert!(!is_host("Shop.example.com") && !is_host("a..b") && !is_host("-a.com"));
    }

    fn located(text: &str) -> Vec<(&'static str, String)> {
        crate::blueprint::load(text, "t.yaml")
            .diagnostics
            .items
            .into_iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .map(|d| (d.code, d.path))
            .collect()
    }

    const MONOLITH: &str = "version: 1\nname: shop\ntype: monolith\nservices:\n  gateway: { kind: gateway, routes: [{ path: /api/a, to: a }] }\n  a: { LANG_A database: db, entities: [A] }\n  b: { LANG_B database: db, entities: [B] }\nentities:\n  A: { fields: { id: uuid pk } }\n  B: { fields: { id: uuid pk, a_id: ref A } }\ndatabases: { db: {} }\n";

    fn monolith(a: &str, b: &str) -> String {
        MONOLITH.replace("LANG_A", a).replace("LANG_B", b)
    }

    /// A monolith's modules share the first one's language: each other one is reported where
    /// its language is written, or at the service when it is Python by default.
    #[test]
    fn a_monolith_is_one_language() {
        let ts = "language: typescript,";
        assert!(located(&monolith(ts, ts)).is_empty());
        assert!(located(&monolith("", "language: python,")).is_empty());
        assert_eq!(
            located(&monolith("", ts)),
            [("E0156", "services.b.language".to_owned())]
        );
        assert_eq!(
            located(&monolith(ts, "")),
            [("E0156", "services.b".to_owned())]
        );
        // The same services as microservices may mix languages.
        let micro = monolith(ts, "").replace("type: monolith", "type: microservices");
        assert!(located(&micro).is_empty(), "{:?}", located(&micro));
        // Serverless functions may be TypeScript too; one language is the monolith's rule.
        let serverless = monolith(ts, "").replace("type: monolith", "type: serverless");
        let found = located(&serverless);
        assert!(!found.iter().any(|(c, _)| *c == "E0156"), "{found:?}");
    }
}
