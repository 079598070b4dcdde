//! Scale presets: data in `blueprints/presets.yaml`, merged with the blueprint's `overrides`.

use super::ResolveError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub replicas: Range,
    /// 0 means no PodDisruptionBudget.
    pub pdb_min_available: u32,
    pub topology_spread: bool,
    pub resources: Resources,
    pub database: DatabaseSize,
    pub cache: CacheSize,
    pub messaging: MessagingSize,
    pub cluster: ClusterSize,
    pub function: FunctionSize,
    pub resilience: Resilience,
    pub targets: Targets,
    pub edge: Edge,
}

/// Limits at the edge (the gateway): requests per second per client address, and the burst
/// let through above that rate before answering 429.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub rate_limit_rps: u32,
    pub rate_limit_burst: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSize {
    pub instance_class: String,
    pub multi_az: bool,
    pub read_replicas: u32,
    pub storage_gb: u32,
    pub max_storage_gb: u32,
    pub backup_days: u32,
    /// PostgreSQL `statement_timeout` of every service connection (milliseconds).
    pub statement_timeout_ms: u32,
    /// SQLAlchemy pool per service process: kept connections and extra ones under load.
    pub pool_size: u32,
    pub max_overflow: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSize {
    pub node_type: String,
    pub replicas: u32,
    pub shards: u32,
    /// Lifetime of a cached row (cache-aside reads by id), in seconds.
    pub ttl_seconds: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagingSize {
    pub brokers: u32,
    pub partitions: u32,
    pub instance_type: String,
    /// Tries of an event handler before the event goes to the dead letters.
    pub max_attempts: u32,
    /// Days a consumer remembers a handled event id (redelivery without a second effect).
    pub processed_retention_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSize {
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub desired_nodes: u32,
    pub instance_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSize {
    pub memory_mb: u32,
    pub reserved_concurrency: u32,
    pub timeout_s: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resilience {
    pub timeout: String,
    pub retries: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub rps: u32,
    pub p95_ms: u32,
    pub availability: String,
    pub rto: String,
    pub rpo: String,
}

/// The preset for `scale` with `overrides` merged in (objects merge key by key, other values
/// replace). Errors name the offending key.
pub fn load(
    source: &str,
    scale: &str,
    overrides: &serde_json::Map<String, Value>,
) -> Result<Preset, ResolveError> {
    let all: Value =
        serde_saphyr::from_str(source).map_err(|e| ResolveError::Presets(Box::new(e)))?;
    let mut base = all
        .get(scale)
        .cloned()
        .ok_or_else(|| ResolveError::NoPreset(scale.to_owned()))?;
    merge(&mut base, &Value::Object(overrides.clone()));
    serde_json::from_value(base).map_err(ResolveError::Overrides)
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRESETS: &str = include_str!("../../blueprints/presets.yaml");

    #[test]
    fn every_scale_has_a_complete_preset() {
        for scale in ["small", "medium", "large"] {
            load(PRESETS, scale, &serde_json::Map::new()).unwrap();
        }
    }

    #[test]
    fn overrides_replace_single_keys_and_keep_the_rest() {
        let o = serde_json::json!({"replicas": {"min": 4}});
        let p = load(PRESETS, "medium", o.as_object().unwrap()).unwrap();
        assert_eq!(p.replicas.min, 4);
        assert_eq!(p.replicas.max, 10);
    }

    #[test]
    fn unknown_override_key_is_an_error_naming_it() {
        let o = serde_json::json!({"replicaz": 3});
        let e = load(PRESETS, "small", o.as_object().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("replicaz"), "{e}");
    }
}
