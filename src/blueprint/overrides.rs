//! `overrides:` read with positions, like the rest of the blueprint. The shape is the scale
//! presets' own (`blueprints/presets.yaml`): every key must exist there (E0003), every value
//! must have the preset's type (E0002), strings must have their format (E0182: instance types,
//! Kubernetes quantities, durations, percentages) and numbers their range; then the preset of the
//! blueprint's scale merged with the overrides must be coherent (E0183: HPA min ≤ max, a
//! PodDisruptionBudget below the replicas, node group min ≤ desired ≤ max, storage ≤ its
//! ceiling). Values that reach Terraform or Kubernetes are thereby known to be plain tokens.

use super::node::{Loc, Node, Value};
use super::{Scale, SourceMap};
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use serde_json::{Map, Value as J};
use std::sync::OnceLock;

/// The presets as JSON, parsed once.
fn presets() -> &'static J {
    static P: OnceLock<J> = OnceLock::new();
    P.get_or_init(|| serde_saphyr::from_str(crate::assets::presets()).unwrap_or(J::Null))
}

/// Read `overrides` (node `n`): a JSON map of the values that passed, diagnostics for the rest.
pub fn read(
    n: &Node,
    scale: Scale,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Map<String, J> {
    let shape = presets().get(scale.as_str()).cloned().unwrap_or(J::Null);
    let mut r = Reader { sources, diags };
    let out = match r.value(n, "overrides", &shape) {
        Some(J::Object(m)) => m,
        _ => Map::new(),
    };
    let mut effective = shape;
    merge(&mut effective, &J::Object(out.clone()));
    r.coherence(&effective);
    out
}

/// The preset of `scale` with the (already read) overrides merged in.
pub fn effective(scale: Scale, overrides: &Map<String, J>) -> J {
    let mut p = presets().get(scale.as_str()).cloned().unwrap_or(J::Null);
    merge(&mut p, &J::Object(overrides.clone()));
    p
}

fn merge(base: &mut J, over: &J) {
    match (base, over) {
        (J::Object(b), J::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(J::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

struct Reader<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
}

impl Reader<'_> {
    fn error(&mut self, code: &'static str, path: &str, loc: Loc, msg: String, help: String) {
        self.diags
            .push(Diagnostic::error(code, path, msg).with_help(help).at(loc));
    }

    /// `n` checked against the preset value `shape`; `None` when it does not fit.
    fn value(&mut self, n: &Node, path: &str, shape: &J) -> Option<J> {
        match shape {
            J::Object(keys) => {
                let Value::Map(entries) = &n.value else {
                    return self.wrong(n, path, "a mapping");
                };
                let mut out = Map::new();
                for (k, v) in entries {
                    let p = format!("{path}.{}", k.name);
                    self.sources.record(&p, v.loc, Some(k.loc));
                    match keys.get(&k.name) {
                        Some(s) => {
                            if let Some(x) = self.value(v, &p, s) {
                                out.insert(k.name.clone(), x);
                            }
                        }
                        None => {
                            let known: Vec<&str> = keys.keys().map(String::as_str).collect();
                            let place = path.to_owned();
                            self.error(
                                "E0003",
                                &p,
                                k.loc,
                                format!("unknown key `{}` in `{place}`", k.name),
                                suggest(&k.name, &known),
                            );
                        }
                    }
                }
                Some(J::Object(out))
            }
            J::Bool(_) => match n.value {
                Value::Bool(b) => Some(J::Bool(b)),
                _ => self.wrong(n, path, "`true` or `false`"),
            },
            J::Number(_) => match n.value {
                Value::Int(i) => {
                    let (lo, hi) = range(path);
                    if (lo..=hi).contains(&i) {
                        Some(J::from(i))
                    } else {
                        self.error(
                            "E0182",
                            path,
                            n.loc,
                            format!("`{path}` is {i}, out of range"),
                            format!("use a whole number from {lo} to {hi}"),
                        );
                        None
                    }
                }
                _ => self.wrong(n, path, "a whole number"),
            },
            J::String(_) => {
                let text = match &n.value {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) if f.is_finite() => f.to_string(),
                    _ => return self.wrong(n, path, "a string"),
                };
                let (ok, help) = format_of(path);
                if ok(&text) {
                    Some(J::String(text))
                } else {
                    self.error(
                        "E0182",
                        path,
                        n.loc,
                        format!("`{text}` is not a valid `{path}`"),
                        help.to_owned(),
                    );
                    None
                }
            }
            _ => None,
        }
    }

    fn wrong(&mut self, n: &Node, path: &str, expected: &str) -> Option<J> {
        self.error(
            "E0002",
            path,
            n.loc,
            format!("`{path}` must be {expected}, found {}", n.value.kind()),
            format!("write {expected} here, as in `blueprints/presets.yaml`"),
        );
        None
    }

    /// Relations between values of the merged preset, reported at the override that breaks them.
    fn coherence(&mut self, p: &J) {
        let num = |path: &str| -> i64 {
            path.split('.')
                .try_fold(p, |v, k| v.get(k))
                .and_then(J::as_i64)
                .unwrap_or(0)
        };
        let rules: [(&str, &str, bool, &str); 5] = [
            (
                "replicas.min",
                "replicas.max",
                num("replicas.min") > num("replicas.max"),
                "the HorizontalPodAutoscaler's minimum replicas exceed its maximum",
            ),
            (
                "pdb_min_available",
                "replicas.min",
                num("pdb_min_available") > 0 && num("pdb_min_available") >= num("replicas.min"),
                "the PodDisruptionBudget keeps at least as many pods as the minimum replicas, so no node can ever be drained",
            ),
            (
                "cluster.min_nodes",
                "cluster.desired_nodes",
                num("cluster.min_nodes") > num("cluster.desired_nodes"),
                "the node group's minimum size exceeds its desired size",
            ),
            (
                "cluster.desired_nodes",
                "cluster.max_nodes",
                num("cluster.desired_nodes") > num("cluster.max_nodes"),
                "the node group's desired size exceeds its maximum",
            ),
            (
                "database.storage_gb",
                "database.max_storage_gb",
                num("database.storage_gb") > num("database.max_storage_gb"),
                "the database's storage exceeds its autoscaling ceiling",
            ),
        ];
        for (a, b, broken, why) in rules {
            if !broken {
                continue;
            }
            // Report at whichever side the blueprint wrote (the first when both).
            let (pa, pb) = (format!("overrides.{a}"), format!("overrides.{b}"));
            let at = if self.sources.has(&pa) || !self.sources.has(&pb) {
                pa
            } else {
                pb
            };
            let loc = self.sources.value(&at);
            self.error(
                "E0183",
                &at,
                loc,
                format!("`{a}` is {} and `{b}` is {}: {why}", num(a), num(b)),
                format!("lower `{a}` or raise `{b}` (merged with the scale preset)"),
            );
        }
    }
}

/// Allowed range of a numeric override.
fn range(path: &str) -> (i64, i64) {
    let key = path.strip_prefix("overrides.").unwrap_or(path);
    match key {
        "replicas.min"
        | "replicas.max"
        | "messaging.brokers"
        | "messaging.partitions"
        | "cache.shards"
        | "cluster.min_nodes"
        | "cluster.max_nodes"
        | "cluster.desired_nodes" => (1, 1000),
        "function.memory_mb" => (128, 10240),
        "function.timeout_s" => (1, 900),
        "database.backup_days" => (1, 35),
        "database.storage_gb" | "database.max_storage_gb" => (20, 65536),
        "database.read_replicas" => (0, 15),
        "cache.replicas" => (0, 5),
        _ => (0, 1_000_000),
    }
}

type Format = (fn(&str) -> bool, &'static str);

/// The format a string override must have, with the help line shown when it does not.
fn format_of(path: &str) -> Format {
    let key = path.strip_prefix("overrides.").unwrap_or(path);
    match key {
        "database.instance_class" => (
            |s| s.starts_with("db.") && is_instance_type(s),
            "an RDS instance class such as `db.r6g.large`",
        ),
        "cache.node_type" => (
            |s| s.starts_with("cache.") && is_instance_type(s),
            "an ElastiCache node type such as `cache.r6g.large`",
        ),
        "messaging.instance_type" => (
            |s| s.starts_with("kafka.") && is_instance_type(s),
            "an MSK broker type such as `kafka.m5.large`",
        ),
        "cluster.instance_type" => (
            |s| !s.starts_with("db.") && !s.starts_with("cache.") && is_instance_type(s),
            "an EC2 instance type such as `m6i.large`",
        ),
        "resources.cpu_request" | "resources.cpu_limit" => {
            (is_cpu, "a CPU quantity such as `250m`, `1` or `1.5`")
        }
        "resources.memory_request" | "resources.memory_limit" => {
            (is_memory, "a memory quantity such as `256Mi` or `1Gi`")
        }
        "resilience.timeout" => (
            |s| super::schema::parse_duration(s).is_some(),
            "a duration such as `500ms`, `3s` or `1m` (at most 10m)",
        ),
        "targets.availability" => (is_percent, "a percentage such as `99.9`"),
        "targets.rto" | "targets.rpo" => (
            |s| {
                s.len() >= 2
                    && s.len() <= 6
                    && s.ends_with(['s', 'm', 'h', 'd'])
                    && s[..s.len() - 1].bytes().all(|b| b.is_ascii_digit())
            },
            "a duration such as `15m`, `1h` or `1d`",
        ),
        _ => (|_| false, "this key takes no string"),
    }
}

/// `m6i.large`, `db.r6g.2xlarge`, `c7gd.metal-24xl`: dot-separated lowercase tokens.
pub fn is_instance_type(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    s.len() <= 40
        && (2..=4).contains(&parts.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && !p.ends_with('-')
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn is_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    !int.is_empty()
        && int.len() <= 6
        && !frac.is_empty()
        && frac.len() <= 3
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_cpu(s: &str) -> bool {
    match s.strip_suffix('m') {
        Some(n) => !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()),
        None => is_decimal(s),
    }
}

fn is_memory(s: &str) -> bool {
    let n = ["Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T"]
        .iter()
        .find_map(|u| s.strip_suffix(u))
        .unwrap_or(s);
    !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit())
}

fn is_percent(s: &str) -> bool {
    is_decimal(s) && s.parse::<f64>().is_ok_and(|v| v > 0.0 && v <= 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        for ok in [
            "m6i.large",
            "db.r6g.2xlarge",
            "cache.t4g.small",
            "c7gd.metal-24xl",
        ] {
            assert!(is_instance_type(ok), "{ok}");
        }
        for bad in [
            "",
            "large",
            "m6i.large\"",
            "m6i..large",
            "M6i.large",
            "a.b.c.d.e",
        ] {
            assert!(!is_instance_type(bad), "{bad}");
        }
        assert!(is_cpu("250m") && is_cpu("1") && is_cpu("1.5") && !is_cpu("1e3") && !is_cpu("m"));
        assert!(is_memory("256Mi") && is_memory("1Gi") && is_memory("512") && !is_memory("1GB"));
        assert!(is_percent("99.95") && !is_percent("101") && !is_percent("abc"));
    }
}
