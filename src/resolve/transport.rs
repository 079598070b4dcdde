//! How clients reach the broker, the caches and the databases, per environment (ADR 0003).
//!
//! Local work (compose, the system test) talks plaintext to unauthenticated processes on one
//! network; the base ConfigMaps carry those same values. Every blueprint environment is a cloud
//! environment and talks to what Terraform provisions: MSK with IAM over TLS on its IAM port,
//! ElastiCache with TLS and a password user, Amazon MQ over AMQPS, RDS with `verify-full`
//! against the RDS CA. The addresses of managed endpoints are only known after `terraform
//! apply`, and TLS checks the host a client dials, so a cloud workload reads them (with the
//! credentials) from Secrets Manager through an ExternalSecret, never from a ConfigMap.
//! `tests/transport.rs` checks the generated tree against the Terraform.

use super::data::{Data, Database};
use super::services::{EnvVar, Service};
use super::{Environment, Names};
use indexmap::IndexMap;
use serde::Serialize;

/// MSK's listener for IAM-authenticated TLS clients (9092 is plaintext, 9094 TLS only).
pub const MSK_IAM_PORT: u16 = 9098;
/// Amazon MQ for RabbitMQ accepts AMQP over TLS only, on 5671.
pub const AMQPS_PORT: u16 = 5671;
pub const REDIS_PORT: u16 = 6379;
pub const POSTGRES_PORT: u16 = 5432;
pub const MYSQL_PORT: u16 = 3306;
/// Where a cloud pod finds the RDS CA bundle (a ConfigMap the deploy workflow fills).
pub const RDS_CA_DIR: &str = "/etc/ssl/rds";
pub const RDS_CA_FILE: &str = "/etc/ssl/rds/global-bundle.pem";
/// The ConfigMap holding the RDS CA bundle in each cloud namespace.
pub const RDS_CA_CONFIG_MAP: &str = "rds-ca-bundle";
/// The CA bundle of the Lambda runtime (Amazon Linux 2023): RDS Proxy serves an ACM
/// certificate, which chains to Amazon's roots in that store.
pub const LAMBDA_CA_FILE: &str = "/etc/pki/tls/certs/ca-bundle.crt";

/// What a client does in one kind of environment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mode {
    pub kafka_port: u16,
    /// aiokafka's `security_protocol`: `PLAINTEXT` or `SASL_SSL`.
    pub kafka_security_protocol: &'static str,
    /// `OAUTHBEARER` (MSK IAM tokens) or empty.
    pub kafka_sasl_mechanism: &'static str,
    pub redis_scheme: &'static str,
    pub redis_port: u16,
    /// The client signs in with a user name and password (ElastiCache RBAC).
    pub redis_auth: bool,
    pub amqp_scheme: &'static str,
    pub amqp_port: u16,
    pub amqp_auth_from_secret: bool,
    pub postgres_port: u16,
    /// libpq `sslmode`.
    pub db_sslmode: &'static str,
    /// libpq `sslrootcert`; empty when no certificate is checked.
    pub db_sslrootcert: &'static str,
}

pub const LOCAL: Mode = Mode {
    kafka_port: 9092,
    kafka_security_protocol: "PLAINTEXT",
    kafka_sasl_mechanism: "",
    redis_scheme: "redis",
    redis_port: REDIS_PORT,
    redis_auth: false,
    amqp_scheme: "amqp",
    amqp_port: 5672,
    amqp_auth_from_secret: false,
    postgres_port: POSTGRES_PORT,
    db_sslmode: "disable",
    db_sslrootcert: "",
};

pub const CLOUD: Mode = Mode {
    kafka_port: MSK_IAM_PORT,
    kafka_security_protocol: "SASL_SSL",
    kafka_sasl_mechanism: "OAUTHBEARER",
    redis_scheme: "rediss",
    redis_port: REDIS_PORT,
    redis_auth: true,
    amqp_scheme: "amqps",
    amqp_port: AMQPS_PORT,
    amqp_auth_from_secret: true,
    postgres_port: POSTGRES_PORT,
    db_sslmode: "verify-full",
    db_sslrootcert: RDS_CA_FILE,
};

#[derive(Debug, Clone, Serialize)]
pub struct Transport {
    pub local: Mode,
    pub cloud: Mode,
    pub rds_ca_dir: &'static str,
    pub rds_ca_file: &'static str,
    pub rds_ca_config_map: &'static str,
    /// Lambda: `sslmode` and `sslrootcert` of the connection to RDS Proxy.
    pub lambda_db_sslmode: &'static str,
    pub lambda_db_sslrootcert: &'static str,
    /// Keys of the per-environment endpoints secret, with the Terraform value of each.
    pub endpoints: Vec<EndpointValue>,
    /// Per cloud environment (by name): its secret names and each workload's ExternalSecret.
    pub environments: IndexMap<String, CloudEnv>,
    /// Some workload reads cloud settings beyond its ConfigMap (the overlays get transport.yaml).
    pub needed: bool,
    /// Per workload (kebab): Terraform expressions of the ARNs of the Secrets Manager secrets
    /// its ExternalSecret reads (its IAM role may read these and no other); empty for none.
    pub secret_arns: IndexMap<String, Vec<String>>,
    /// Who reads each RDS database's master secret (empty without RDS databases).
    pub credentials_readers: Vec<CredentialsReader>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointValue {
    /// The backing service's name (`kafka`, `sessions`, `rabbitmq`).
    pub key: String,
    /// Spaces after the quoted key, so the `=` line up as `terraform fmt` writes them.
    pub pad: String,
    /// Terraform expression (a string) of the address a cloud client dials.
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CloudEnv {
    pub name: String,
    pub namespace: String,
    /// Secrets Manager name of the endpoints secret: `<system>-<env>/endpoints`.
    pub endpoints_secret: String,
    pub region: String,
    /// Some workload's ConfigMap gets cloud settings (the overlay has ConfigMap patches).
    pub config_patches: bool,
    pub workloads: Vec<WorkloadSecrets>,
    /// Each RDS database's `DATABASE_URL` Secret, kept in sync with its RDS-managed secret.
    pub databases: Vec<DatabaseCredentials>,
}

/// How one database's `DATABASE_URL` reaches the pods in a cloud environment. RDS keeps the
/// master password in a Secrets Manager secret it names itself and rotates; External Secrets
/// reads it (and the address from the endpoints secret) with its own service account and IAM
/// role, and writes the Secret the apps and the migration Job read. The secret's ARN is only
/// known after `terraform apply`: the deploy workflow writes it over `placeholder`.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseCredentials {
    /// The database (kebab): the objects' label.
    pub database: String,
    /// RDS instance identifier (`<system>-<env>-<database>`, as Terraform names it).
    pub identifier: String,
    /// The Kubernetes Secret (`<database>-credentials`), and the name of its ExternalSecret,
    /// SecretStore and service account.
    pub secret: String,
    pub key: &'static str,
    /// The IAM role the service account assumes (Terraform's `aws_iam_role.workload`).
    pub role: String,
    /// The endpoints secret and the property holding `host:port`.
    pub endpoints_secret: String,
    pub endpoint: String,
    /// `remoteRef.key` of the master secret until the deploy workflow sets its ARN.
    pub placeholder: String,
    /// External Secrets template (Go, v2) of the URL: TLS with the server checked, as each
    /// engine's clients and dbmate spell it (ADR 0003, ADR 0007); user and password
    /// percent-encoded.
    pub url_template: String,
}

/// A reader of a database's master secret, for Terraform (one per database, every environment).
#[derive(Debug, Clone, Serialize)]
pub struct CredentialsReader {
    /// Key of `aws_iam_role.workload` and the service account's name (`<database>-credentials`).
    pub name: String,
    /// Name of its policy document and role policy (`<database>_credentials`).
    pub policy: String,
    /// Its database's Terraform module.
    pub module: String,
}

/// What one workload reads in a cloud environment beyond its base ConfigMap.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSecrets {
    pub workload: String,
    /// Its service account: the SecretStore signs in to AWS with its IAM role (IRSA).
    pub service_account: String,
    /// That IAM role's name (Terraform's `aws_iam_role.workload`: `<system>-<env>-<workload>`),
    /// which the deploy workflow writes on the service account.
    pub role: String,
    pub config_map: String,
    /// The Kubernetes Secret its ExternalSecret writes (`<workload>-connections`).
    pub secret: String,
    /// Its SecretStore (`<workload>-secrets-manager`). Not the bare workload name: `check`
    /// takes hosts named like a custom resource as made by an operator.
    pub secret_store: String,
    /// Plain settings the overlay patches into its ConfigMap.
    pub config: Vec<EnvVar>,
    /// Each variable of the Secret and where Secrets Manager keeps it.
    pub refs: Vec<SecretRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretRef {
    pub env: String,
    pub key: String,
    pub property: String,
}

/// External Secrets' (Go) template of a cloud database's URL from `.username`, `.password` and
/// `.address` (`host:port`). PostgreSQL: libpq's `sslmode=verify-full` against the RDS CA.
/// MySQL: `tls=true`, dbmate's (Go) spelling, which checks the certificate against the roots
/// `SSL_CERT_FILE` names (the migration Job points it at the RDS CA); the apps turn it into
/// PyMySQL's TLS against the same bundle, host name checked (`app/db.py`). `urlquery` writes a
/// space as `+`, which a URL's user part takes literally, hence the `replace`.
pub fn cloud_database_url_template(dialect: super::ddl::Dialect, db_name: &str) -> String {
    let part = |v: &str| format!("{{{{ .{v} | urlquery | replace \"+\" \"%20\" }}}}");
    let (scheme, query) = if dialect.is_mysql() {
        ("mysql", "tls=true".to_owned())
    } else {
        (
            "postgresql",
            format!(
                "sslmode={}&sslrootcert={}",
                CLOUD.db_sslmode, CLOUD.db_sslrootcert
            ),
        )
    };
    format!(
        "{scheme}://{}:{}@{{{{ .address }}}}/{db_name}?{query}",
        part("username"),
        part("password")
    )
}

/// The Kubernetes Secret a workload's ExternalSecret writes.
pub fn connections_secret(workload: &str) -> String {
    format!("{workload}-connections")
}

/// `on_kubernetes`: the system runs on EKS (microservices, monolith), where the RDS databases'
/// credentials reach the pods through External Secrets.
pub fn resolve(
    system: &Names,
    region: &str,
    environments: &[Environment],
    deployables: &[Service],
    data: &Data,
    on_kubernetes: bool,
) -> Transport {
    let rds: Vec<&Database> = data
        .databases
        .iter()
        .filter(|d| on_kubernetes && d.engine != "dynamodb")
        .collect();
    Transport {
        local: LOCAL,
        cloud: CLOUD,
        rds_ca_dir: RDS_CA_DIR,
        rds_ca_file: RDS_CA_FILE,
        rds_ca_config_map: RDS_CA_CONFIG_MAP,
        lambda_db_sslmode: "verify-full",
        lambda_db_sslrootcert: LAMBDA_CA_FILE,
        endpoints: endpoints(data, &rds),
        credentials_readers: rds.iter().map(|d| credentials_reader(d)).collect(),
        secret_arns: deployables
            .iter()
            .map(|d| (d.name.kebab.clone(), secret_arns(d, data)))
            .collect(),
        needed: deployables
            .iter()
            .any(|d| workload("", "", region, d, data).is_some()),
        environments: environments
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    cloud_env(system, region, e, deployables, data, &rds),
                )
            })
            .collect(),
    }
}

fn endpoints(data: &Data, rds: &[&Database]) -> Vec<EndpointValue> {
    let mut out: Vec<EndpointValue> = data
        .caches
        .iter()
        .map(|c| {
            let module = format!("module.{}", c.module);
            EndpointValue {
                key: c.host.clone(),
                pad: String::new(),
                value: format!(
                    "\"{}://${{{module}.primary_endpoint}}:${{{module}.port}}/0\"",
                    CLOUD.redis_scheme
                ),
            }
        })
        .collect();
    out.extend(rds.iter().map(|d| {
        let module = format!("module.{}", d.module);
        EndpointValue {
            key: d.host.clone(),
            pad: String::new(),
            value: format!("\"${{{module}.address}}:${{{module}.port}}\""),
        }
    }));
    if let Some(m) = &data.messaging {
        let value = match m.broker {
            "kafka" => "module.messaging.bootstrap_brokers",
            "rabbitmq" => "module.messaging.amqp_endpoint",
            _ => "",
        };
        if !value.is_empty() {
            out.push(EndpointValue {
                key: m.host.clone(),
                pad: String::new(),
                value: value.into(),
            });
        }
    }
    let width = out.iter().map(|e| e.key.len()).max().unwrap_or(0);
    for e in &mut out {
        e.pad = " ".repeat(width - e.key.len());
    }
    out
}

fn uses_broker<'a>(d: &Service, data: &'a Data) -> Option<&'a super::data::Messaging> {
    let uses = !d.publishes.is_empty() || !d.consumes.is_empty();
    data.messaging
        .as_ref()
        .filter(|m| uses && matches!(m.broker, "kafka" | "rabbitmq"))
}

fn secret_arns(d: &Service, data: &Data) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &d.cache {
        out.push(format!("module.{}.auth_secret_arn", c.module));
    }
    if uses_broker(d, data).is_some_and(|m| m.broker == "rabbitmq") {
        out.push("module.messaging.credentials_secret_arn".into());
    }
    if !out.is_empty() || uses_broker(d, data).is_some() {
        out.insert(0, "aws_secretsmanager_secret.endpoints.arn".into());
    }
    out
}

fn cloud_env(
    system: &Names,
    region: &str,
    env: &Environment,
    deployables: &[Service],
    data: &Data,
    rds: &[&Database],
) -> CloudEnv {
    let prefix = format!("{}-{}", system.kebab, env.name);
    let endpoints_secret = format!("{prefix}/endpoints");
    let workloads: Vec<WorkloadSecrets> = deployables
        .iter()
        .filter_map(|d| workload(&prefix, &endpoints_secret, region, d, data))
        .collect();
    let databases = rds
        .iter()
        .map(|d| database_credentials(&prefix, &endpoints_secret, d))
        .collect();
    CloudEnv {
        name: env.name.clone(),
        namespace: env.namespace.clone(),
        endpoints_secret,
        region: region.into(),
        config_patches: workloads.iter().any(|w| !w.config.is_empty()),
        workloads,
        databases,
    }
}

fn database_credentials(prefix: &str, endpoints: &str, d: &Database) -> DatabaseCredentials {
    let identifier = format!("{prefix}-{}", d.name.kebab);
    DatabaseCredentials {
        database: d.name.kebab.clone(),
        placeholder: format!("set-by-the-deploy-workflow/{identifier}"),
        identifier,
        secret: d.secret_name.clone(),
        key: "DATABASE_URL",
        role: format!("{prefix}-{}", d.secret_name),
        endpoints_secret: endpoints.into(),
        endpoint: d.host.clone(),
        url_template: cloud_database_url_template(d.dialect, &d.db_name),
    }
}

fn credentials_reader(d: &Database) -> CredentialsReader {
    CredentialsReader {
        name: d.secret_name.clone(),
        policy: d.secret_name.replace('-', "_"),
        module: d.module.clone(),
    }
}

fn workload(
    prefix: &str,
    endpoints: &str,
    region: &str,
    d: &Service,
    data: &Data,
) -> Option<WorkloadSecrets> {
    let var = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: value.into(),
    };
    let r = |env: &str, key: &str, property: &str| SecretRef {
        env: env.into(),
        key: key.into(),
        property: property.into(),
    };
    let mut config = Vec::new();
    let mut refs = Vec::new();
    if let Some(c) = &d.cache {
        let host = data
            .caches
            .iter()
            .find(|x| x.name.raw == c.name)
            .map(|x| x.host.clone())?;
        let auth = format!("{prefix}-{}-auth", Names::new(&c.name).kebab);
        refs.push(r(c.env_var, endpoints, &host));
        refs.push(r("REDIS_USERNAME", &auth, "username"));
        refs.push(r("REDIS_PASSWORD", &auth, "password"));
    }
    if let Some(m) = uses_broker(d, data) {
        match m.broker {
            "kafka" => {
                refs.push(r(m.env_var, endpoints, &m.host));
                config.push(var(
                    "KAFKA_SECURITY_PROTOCOL",
                    CLOUD.kafka_security_protocol,
                ));
                config.push(var("KAFKA_SASL_MECHANISM", CLOUD.kafka_sasl_mechanism));
                config.push(var("AWS_REGION", region));
            }
            "rabbitmq" => {
                let creds = format!("{prefix}-rabbitmq-credentials");
                refs.push(r(m.env_var, endpoints, &m.host));
                refs.push(r("AMQP_USERNAME", &creds, "username"));
                refs.push(r("AMQP_PASSWORD", &creds, "password"));
            }
            _ => {}
        }
    }
    if data.messaging.as_ref().is_some_and(|m| m.is_sqs) {
        config.extend(sqs_config(prefix, region, d));
    }
    (!refs.is_empty() || !config.is_empty()).then(|| WorkloadSecrets {
        workload: d.name.kebab.clone(),
        service_account: d.service_account.clone(),
        role: format!("{prefix}-{}", d.name.kebab),
        config_map: d.config_map.clone(),
        secret: connections_secret(&d.name.kebab),
        secret_store: format!("{}-secrets-manager", d.name.kebab),
        config,
        refs,
    })
}

/// SNS/SQS in a cloud environment: the region, and the environment's own topic and queue names,
/// as Terraform names them (`<system>-<environment>-<suffix>`). The base ConfigMap already points
/// at AWS's endpoints (`deploy::Workload::config_map_env`).
fn sqs_config(prefix: &str, region: &str, d: &Service) -> Vec<EnvVar> {
    let ev = &d.events;
    let names = ev.sns_topics.iter().chain(&ev.sqs_queues);
    let names = names.chain(&ev.sqs_dead_letter_queues);
    let mut out: Vec<EnvVar> = names
        .map(|n| EnvVar {
            name: n.env_var.clone(),
            value: format!("{prefix}-{}", n.suffix),
        })
        .collect();
    if out.is_empty() {
        return out;
    }
    let var = |name: &str, value: String| EnvVar {
        name: name.into(),
        value,
    };
    out.insert(0, var("AWS_REGION", region.into()));
    out
}

/// SQS's regional endpoint.
pub fn sqs_endpoint(region: &str) -> String {
    format!("https://sqs.{region}.amazonaws.com")
}
