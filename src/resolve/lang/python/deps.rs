//! The Python packages a generated service needs, pinned: one list that `pyproject.toml`
//! (dependencies and the `test` extra), `requirements.txt` (the lock the image installs) and
//! `requirements-dev.txt` all print, so the files cannot drift apart. The conformance venv
//! (`tools/conformance/install.sh`) pins the same versions; a test keeps it in step.

use serde::Serialize;

/// Every service: web framework, settings, database, metrics, client, tracing.
pub const BASE: &[&str] = &[
    "fastapi==0.165.0",
    "uvicorn==0.54.0",
    "pydantic==2.14.4",
    "pydantic-settings==2.16.3",
    "SQLAlchemy==2.1.9",
    POSTGRES,
    "prometheus-client==0.26.0",
    "httpx==0.28.1",
    // Event envelopes are checked against their topic's JSON Schema (events.py).
    "jsonschema==4.26.0",
    "PyYAML==6.0.4",
    "opentelemetry-api==1.45.2",
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-exporter-otlp-proto-grpc==1.45.2",
    // Bearer tokens: signature from the issuer's JWKS, issuer, audience, expiry (app/auth.py).
    "PyJWT[crypto]==2.15.1",
];
/// The database driver under SQLAlchemy: psycopg 3 for PostgreSQL (every service without a
/// MySQL database keeps it, as before), PyMySQL for MySQL and MariaDB (synchronous like the
/// rest of the data access; the `rsa` extra signs in to MySQL 8's `caching_sha2_password`
/// over a plaintext local connection). See ADR 0007.
pub const POSTGRES: &str = "psycopg[binary]==3.3.9";
pub const MYSQL: &str = "PyMySQL[rsa]==1.2.4";
/// A service with `cache:`.
pub const REDIS: &str = "redis==8.1.0";
/// The broker client of a service that publishes or consumes, by broker.
pub const KAFKA: &str = "aiokafka==0.14.0";
/// With Kafka: MSK IAM sign-in (OAUTHBEARER tokens) in the cloud environments (ADR 0003).
pub const KAFKA_IAM: &str = "aws-msk-iam-sasl-signer-python==1.0.2";
pub const RABBITMQ: &str = "aio-pika==10.2.1";
pub const SQS: &str = "boto3==1.44.18";
/// A service that serves gRPC (`app/grpc_api.py`): the server (grpcio, also the OTLP exporter's
/// transport), the compiler that reads its `.proto` when it starts (grpcio-tools: no generated
/// stubs to keep in step with the contract) and the standard health service.
pub const GRPC: &[&str] = &[
    "grpcio==1.85.4",
    "grpcio-tools==1.85.1",
    "grpcio-health-checking==1.85.1",
];
/// The `test` extra (and requirements-dev.txt): the test runner and the linter CI runs.
pub const TEST: &[&str] = &["pytest==9.2.0", "ruff==0.17.6"];

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PythonDeps {
    /// `[project] dependencies`, and the lines of requirements.txt, in this order.
    pub runtime: Vec<String>,
    /// `[project.optional-dependencies] test`.
    pub test: Vec<String>,
}

/// The packages of a service with (or without) a MySQL database, a cache, a broker client
/// (`kafka`, `rabbitmq`, `sqs`; `None` when it neither publishes nor consumes) and a gRPC API.
pub fn for_service(mysql: bool, cache: bool, broker: Option<&str>, grpc: bool) -> PythonDeps {
    let driver = if mysql { MYSQL } else { POSTGRES };
    let mut runtime: Vec<String> = BASE
        .iter()
        .map(|s| if *s == POSTGRES { driver } else { s })
        .map(|s| s.to_owned())
        .collect();
    if cache {
        runtime.push(REDIS.into());
    }
    match broker {
        Some("kafka") => runtime.extend([KAFKA.into(), KAFKA_IAM.into()]),
        Some("rabbitmq") => runtime.push(RABBITMQ.into()),
        Some("sqs") => runtime.push(SQS.into()),
        _ => {}
    }
    if grpc {
        runtime.extend(GRPC.iter().map(|s| (*s).to_owned()));
    }
    PythonDeps {
        runtime,
        test: TEST.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_and_version(pin: &str) -> (String, String) {
        let (name, version) = pin.split_once("==").expect("pinned with ==");
        let name = name.split('[').next().unwrap_or(name);
        (name.to_lowercase(), version.to_owned())
    }

    #[test]
    fn broker_and_cache_add_their_client() {
        let plain = for_service(false, false, None, false);
        assert_eq!(plain.runtime.len(), BASE.len());
        let full = for_service(false, true, Some("kafka"), false);
        assert!(full.runtime.contains(&REDIS.to_owned()));
        assert!(full.runtime.contains(&KAFKA.to_owned()));
        assert!(full.runtime.contains(&KAFKA_IAM.to_owned()));
        assert!(
            for_service(false, false, Some("rabbitmq"), false)
                .runtime
                .contains(&RABBITMQ.to_owned())
        );
        assert!(
            for_service(false, false, Some("sqs"), false)
                .runtime
                .contains(&SQS.to_owned())
        );
        assert_eq!(plain.test, ["pytest==9.2.0", "ruff==0.17.6"]);
        assert!(plain.runtime.contains(&POSTGRES.to_owned()));
        let mysql = for_service(true, false, None, false).runtime;
        assert!(mysql.contains(&MYSQL.to_owned()) && !mysql.contains(&POSTGRES.to_owned()));
        assert_eq!(mysql.len(), BASE.len());
        let grpc = for_service(false, false, None, true).runtime;
        assert_eq!(grpc.len(), BASE.len() + GRPC.len());
        assert!(
            grpc.iter()
                .any(|p| p.starts_with("grpcio-health-checking=="))
        );
    }

    #[test]
    fn every_pin_is_exact_and_the_conformance_venv_pins_the_same_version() {
        let install = include_str!("../../../../tools/conformance/install.sh");
        let all = BASE
            .iter()
            .chain([MYSQL, REDIS, KAFKA, KAFKA_IAM, RABBITMQ].iter())
            .chain(GRPC.iter())
            .chain(TEST.iter());
        for pin in all {
            let (name, version) = name_and_version(pin);
            let found = install
                .split(|c: char| c.is_whitespace() || c == '"')
                .filter(|w| w.contains("=="))
                .map(name_and_version)
                .find(|(n, _)| *n == name);
            assert_eq!(
                found.map(|(_, v)| v),
                Some(version),
                "{pin}: install.sh pins another version (or none)"
            );
        }
    }
}
