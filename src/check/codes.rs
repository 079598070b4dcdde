//! The catalogue of `check` finding codes: one line per code with its severity and a short title.
//! The README's `check` section lists the same table (a test keeps the two equal). A code is never
//! reused for another meaning; new rules take the next free number.

use crate::diagnostic::Severity;

pub struct Code {
    pub code: &'static str,
    pub severity: Severity,
    /// Whether the rule compares compose with Kubernetes (run only for generated projects or
    /// with `--parity`).
    pub parity: bool,
    pub title: &'static str,
}

const fn e(code: &'static str, title: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Error,
        parity: false,
        title,
    }
}

const fn w(code: &'static str, title: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Warning,
        parity: false,
        title,
    }
}

const fn p(code: &'static str, title: &'static str) -> Code {
    Code {
        parity: true,
        ..e(code, title)
    }
}

pub const CODES: &[Code] = &[
    e("C001", "file is not valid YAML"),
    e("C002", "kustomization resource does not exist"),
    e("C003", "selector matches no pod"),
    e("C004", "HorizontalPodAutoscaler target does not exist"),
    e("C005", "service account does not exist"),
    w(
        "C006",
        "ConfigMap or Secret is not in the folder (may be created out of band)",
    ),
    e("C007", "address names no Service"),
    e("C008", "address uses a port the Service does not expose"),
    e("C009", "route backend is no Service"),
    e("C010", "route backend port is not exposed by the Service"),
    e("C011", "Istio host is no Service"),
    e("C012", "DestinationRule subset matches no pod"),
    e("C013", "VirtualService subset is not defined"),
    e("C014", "VirtualService gateway does not exist"),
    e(
        "C015",
        "AuthorizationPolicy principal names no ServiceAccount",
    ),
    e("C016", "compose depends_on names no compose service"),
    e("C017", "compose address names no compose service"),
    p("C018", "compose and Kubernetes disagree on a port"),
    p("C019", "compose service has no Kubernetes Service"),
    p("C020", "Kubernetes Service has no compose service"),
    e("C021", "Service targetPort is no container port"),
    e("C022", "VirtualService route weights do not sum to 100"),
    e("C023", "API version removed from Kubernetes"),
    e("C024", "workload selector does not match its pod template"),
    e("C025", "probe port name is no port of its container"),
    e("C026", "Terraform reference is not declared in its module"),
    e("C027", "Terraform module call does not match the module"),
    e("C028", "Terraform file does not parse"),
    w("C029", "tfvars key is no variable of its module"),
    e("C030", "file is not UTF-8"),
];

pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code == code)
}

/// The severity a code is reported at (error for an unknown code, which a test rules out).
pub fn severity(code: &str) -> Severity {
    lookup(code).map_or(Severity::Error, |c| c.severity)
}

pub fn is_parity(code: &str) -> bool {
    lookup(code).is_some_and(|c| c.parity)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code a rule reports is in the catalogue (an unknown one would silently be an error
    /// with no README row), and the catalogue has no duplicates.
    #[test]
    fn every_reported_code_is_catalogued_once() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("rules.rs"),
            include_str!("pods.rs"),
            include_str!("routes.rs"),
        ];
        for src in sources {
            for (i, _) in src.match_indices("\"C0") {
                let code = &src[i + 1..i + 5];
                assert!(
                    lookup(code).is_some(),
                    "{code} is reported but not in CODES"
                );
            }
        }
        let mut seen: Vec<&str> = CODES.iter().map(|c| c.code).collect();
        seen.dedup();
        assert_eq!(seen.len(), CODES.len());
    }
}
