//! Security settings: `auth` only where a route serves requests, CORS origins and methods that
//! reach nginx, Python and Istio as printed, and an `identity` whose URLs and audience are
//! plain tokens.

use super::Check;
use crate::blueprint::{Access, Auth, ServiceKind};
use crate::diagnostic::Diagnostic;

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// `https://app.example.com`, `http://localhost:3000`: a scheme, a host and an optional port,
/// nothing else (no path, no wildcard inside a host).
pub fn is_origin(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok
}

/// An http(s) URL without quotes, spaces or template characters.
fn is_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= 300
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!&'()*+,;=%".contains(&b))
        && !s.contains(['\'', '{', '}'])
}

impl Check<'_> {
    pub(super) fn auth_rules(&mut self) {
        let bp = self.bp;
        for (name, s) in &bp.services {
            let serves = s.kind != ServiceKind::Worker && s.image.is_none();
            if s.auth.is_some() && !serves {
                let what = if s.kind == ServiceKind::Worker {
                    "a worker"
                } else {
                    "an existing image"
                };
                self.err(
                    "E0190",
                    format!("services.{name}.auth"),
                    format!("service `{name}` is {what} and serves no generated routes, so `auth` has nothing to protect"),
                    "remove `auth` here; put it on a service with `language:` or on the gateway route that reaches it".into(),
                );
            }
        }
        if let Some(cors) = bp.ingress.as_ref().and_then(|i| i.cors.as_ref()) {
            for (i, o) in cors.origins.iter().enumerate() {
                if !is_origin(o) {
                    self.err(
                        "E0191",
                        format!("ingress.cors.origins[{i}]"),
                        format!("`{o}` is not a browser origin"),
                        "write a scheme, host and optional port, e.g. `https://app.example.com` or `http://localhost:3000`".into(),
                    );
                }
            }
            for (i, m) in cors.methods.iter().enumerate() {
                if !METHODS.contains(&m.as_str()) {
                    self.err(
                        "E0191",
                        format!("ingress.cors.methods[{i}]"),
                        format!("`{m}` is not an HTTP method CORS can allow"),
                        format!("use upper-case methods: {}", METHODS.join(", ")),
                    );
                }
            }
        }
        self.identity_rules();
    }

    /// N0193: some route needs a token, but `identity` names no issuer, so the deployed
    /// services would trust a placeholder (`https://login.<ingress host>`) nobody runs. Local
    /// work is unaffected (compose uses the development issuer), and a first blueprint should
    /// validate clean, hence a note (shown by `validate`, never failing a run), and only for a
    /// blueprint without errors.
    pub(super) fn issuer_rules(&mut self) {
        let bp = self.bp;
        if bp.identity.as_ref().is_some_and(|i| i.issuer.is_some()) {
            return;
        }
        let public = |a: &Option<Auth>| {
            a.as_ref()
                .is_some_and(|a| a.read == Access::Public && a.write == Access::Public)
        };
        let needs_token = bp.services.iter().any(|(name, s)| {
            let serves =
                s.kind != ServiceKind::Worker && s.image.is_none() && !s.entities.is_empty();
            let routes: Vec<_> = bp
                .services
                .values()
                .flat_map(|g| g.routes.iter())
                .filter(|r| &r.to == name)
                .collect();
            let all_routes_public = !routes.is_empty() && routes.iter().all(|r| public(&r.auth));
            serves && !public(&s.auth) && !all_routes_public
        });
        if !needs_token {
            return;
        }
        let path = if bp.identity.is_some() {
            "identity"
        } else {
            "name"
        };
        let loc = self.src.key(path);
        self.push(
            Diagnostic::note(
                "N0193",
                path,
                "routes need a signed-in user, but no `identity.issuer` says who signs the tokens: deployed environments would trust a placeholder issuer",
            )
            .with_help("before deploying, add `identity: { issuer: https://login.example.com/realms/shop, audience: shop-api }` with your identity provider's issuer (local work uses the development issuer either way)")
            .at(loc),
        );
    }

    fn identity_rules(&mut self) {
        let Some(id) = &self.bp.identity else { return };
        for (key, value) in [("issuer", &id.issuer), ("jwks_url", &id.jwks_url)] {
            if let Some(v) = value
                && !is_url(v)
            {
                self.err(
                    "E0192",
                    format!("identity.{key}"),
                    format!("identity `{key}` `{v}` is not an http(s) URL"),
                    "write the issuer's URL, e.g. `https://login.example.com/realms/shop`".into(),
                );
            }
        }
        if let Some(a) = &id.audience
            && !crate::blueprint::is_role_name(a)
            && !is_url(a)
        {
            self.err(
                "E0192",
                "identity.audience".into(),
                format!("identity audience `{a}` is neither a plain name nor a URL"),
                "use letters, digits and `_.:-` (e.g. `shop-api`) or the API's URL".into(),
            );
        }
        if let Some(u) = &id.user_entity
            && !self.bp.entities.contains_key(u)
        {
            let known: Vec<&str> = self.bp.entities.keys().map(String::as_str).collect();
            let help = self.hint(u, &known, "entities");
            self.err(
                "E0123",
                "identity.user_entity".into(),
                format!("identity names user entity `{u}`, which is not declared"),
                help,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert!(is_origin("https://app.example.com"));
        assert!(is_origin("http://localhost:3000"));
        assert!(!is_origin("https://app.example.com/path"));
        assert!(!is_origin("*"));
        assert!(!is_origin("https://a\".com"));
        assert!(!is_origin("ftp://x.com"));
    }
}
