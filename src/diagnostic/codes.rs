//! The catalogue of diagnostic codes: one line per code, with the severity it is reported at and a
//! short title (SARIF's rule descriptions). docs/diagnostics.md documents each with an example,
//! and `tests/validate.rs` checks that every code here has a doc entry and an invalid fixture.
//!
//! Numbering: `E00xx` reading the file (YAML, schema), `E01xx` cross-reference errors, `E04xx`
//! the output tree and the tool's own inputs (not blueprint diagnostics: printed as
//! `error[E04xx]: …` by the generating commands, exit 2), `W0xxx` warnings, `N03xx` notes. A
//! code is never reused for another meaning.

use super::Severity;

pub struct Code {
    pub code: &'static str,
    pub severity: Severity,
    pub title: &'static str,
}

const fn e(code: &'static str, title: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Error,
        title,
    }
}

const fn w(code: &'static str, title: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Warning,
        title,
    }
}

pub const CODES: &[Code] = &[
    e("E0001", "invalid YAML syntax"),
    e("E0002", "value of the wrong type"),
    e("E0003", "unknown key"),
    e("E0004", "missing required key"),
    e("E0005", "value not allowed here"),
    e("E0006", "unsupported blueprint version"),
    e("E0007", "duplicate YAML key"),
    e(
        "E0008",
        "YAML resource limit exceeded (aliases, nesting, size)",
    ),
    e("E0009", "file too large"),
    e("E0010", "file is not UTF-8"),
    e("E0101", "invalid name"),
    e("E0102", "names collide after case conversion"),
    e("E0103", "reserved name"),
    e("E0104", "same name in two sections"),
    e("E0105", "invalid route path"),
    e("E0106", "routes on a service that is not a gateway"),
    e("E0107", "duplicate route path"),
    e("E0108", "environment variable collision"),
    e("E0109", "invalid ingress host"),
    e("E0110", "unknown service"),
    e("E0111", "service depends on itself"),
    e("E0112", "dependency cycle"),
    e("E0113", "route to a service that serves no HTTP"),
    e("E0114", "the same name twice in a list"),
    e("E0115", "more than one gateway"),
    e("E0120", "unknown database"),
    e("E0121", "unknown cache"),
    e("E0122", "unknown topic"),
    e("E0123", "unknown entity"),
    e("E0124", "entities without a database"),
    e("E0125", "entity owned by two services"),
    e("E0126", "entity owned by no service"),
    e("E0127", "engine not supported by the architecture type"),
    e("E0128", "entity that does not fit a DynamoDB table"),
    e("E0129", "text or json column indexed in a MySQL database"),
    e("E0130", "both `image` and `language`"),
    e("E0131", "unsupported language"),
    e("E0132", "invalid image reference"),
    e(
        "E0133",
        "an existing image's setting on a service with generated code",
    ),
    e(
        "E0134",
        "an existing image where no cluster runs it (monolith, serverless)",
    ),
    e("E0135", "invalid or repeated port of an existing image"),
    e("E0136", "invalid probe"),
    e("E0137", "invalid environment variable of an existing image"),
    e(
        "E0138",
        "security exception without a reason, or an invalid capability",
    ),
    e("E0139", "invalid volume"),
    e("E0140", "invalid field type"),
    e("E0141", "more than one primary key"),
    e("E0142", "`ref` to an unknown entity"),
    e("E0143", "no primary key"),
    e("E0144", "index on an unknown field"),
    e(
        "E0145",
        "constraint that does not apply to the field's type",
    ),
    e("E0146", "bound outside the field's type, or min above max"),
    e("E0147", "pattern outside the portable regex subset"),
    e("E0148", "default that does not fit the field"),
    e("E0150", "traffic names an undeclared version"),
    e("E0151", "traffic weights do not sum to 100"),
    e("E0152", "duplicate version"),
    e("E0156", "monolith modules in more than one language"),
    e("E0160", "grpc-only service in a serverless blueprint"),
    e("E0170", "port collision"),
    e("E0171", "port 0"),
    e("E0180", "control character in a string"),
    e("E0181", "invalid cloud region"),
    e("E0182", "override value of the wrong format or range"),
    e("E0183", "overrides contradict each other"),
    e("E0185", "derived names collide"),
    e("E0186", "derived identifier too long for its service"),
    e("E0190", "`auth` on a service that serves no routes"),
    e("E0191", "invalid CORS origin or method"),
    e("E0192", "invalid identity issuer, JWKS URL or audience"),
    e("E0401", "output folder locked by another run"),
    e("E0402", "special file at a generated path"),
    e(
        "E0403",
        "no state file for a tree that holds generated paths",
    ),
    e("E0404", "state file unreadable"),
    e("E0405", "`--templates` is not a folder"),
    w("W0161", "mesh settings in a monolith"),
    w("W0162", "traffic split without a mesh"),
    w("W0163", "grpc dropped in a serverless blueprint"),
    w(
        "W0164",
        "existing image not deployed (monolith, serverless)",
    ),
    w("W0165", "`language` on a gateway"),
    w("W0201", "database shared by services"),
    w("W0202", "unused database, cache or topic"),
    w("W0203", "topic without publisher or consumer"),
    w("W0206", "privileged port"),
    w("W0207", "dependency that no field refers to"),
    Code {
        code: "N0193",
        severity: Severity::Note,
        title: "token-protected routes without an identity issuer",
    },
    Code {
        code: "N0301",
        severity: Severity::Note,
        title: "reference across databases becomes a logical reference",
    },
];

pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_prefixed_by_severity() {
        for pair in CODES.windows(2) {
            assert_ne!(pair[0].code, pair[1].code);
        }
        for c in CODES {
            let prefix = match c.severity {
                Severity::Error => 'E',
                Severity::Warning => 'W',
                Severity::Note => 'N',
            };
            assert!(c.code.starts_with(prefix), "{}", c.code);
            assert_eq!(c.code.len(), 5);
        }
    }
}
