//! Event delivery decisions (PRODUCT §11.4): which services keep a transactional outbox and a
//! table of handled event ids, which topics a monolith delivers in-process, how often a handler
//! is tried before its event is dead-lettered, and the dead-letter topic of each topic.

use super::data::{Database, Entity, Messaging, Topic};
use super::services::{EnvVar, Service};
use super::{Names, Preset};
use serde::Serialize;
use std::collections::HashMap;

/// How one service publishes and consumes events.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventsCode {
    /// Published events are written to its database's `outbox` table in the transaction of
    /// the row they describe, and a relay sends them (a publisher with a database).
    pub outbox: bool,
    /// Handled event ids are kept in its database's `processed_events` table (a consumer with
    /// a database); without one they are kept in memory (bounded).
    pub inbox: bool,
    /// Topics it both publishes and consumes (a monolith's modules): the relay hands them to
    /// the handlers in-process, with or without a broker.
    pub in_process: Vec<Names>,
    /// Topics it consumes from the broker (the rest).
    pub from_broker: Vec<Names>,
    /// Where its consumers send what they cannot handle: `<topic>.dlq` of each consumed topic.
    pub dead_letters: Vec<String>,
    /// Indices into `Model::messaging.topics` of the consumed topics with a payload schema
    /// (checked before handling).
    pub schema_topic_ids: Vec<usize>,
    /// The same topics by name.
    pub schema_topics: Vec<String>,
    /// Tries of a handler before the event goes to the dead letters (scale preset).
    pub max_attempts: u32,
    /// Days a handled event id is kept (redeliveries older than that are not recognised).
    pub retention_days: u32,
    /// SNS/SQS only (empty for the other brokers): the SNS topic of each topic it sends to the
    /// broker, the queue of each topic it consumes from the broker, and the dead-letter queue
    /// of each topic it consumes. The code reads each name from its variable.
    pub sns_topics: Vec<AwsName>,
    pub sqs_queues: Vec<AwsName>,
    pub sqs_dead_letter_queues: Vec<AwsName>,
}

/// One SNS topic or SQS queue a workload uses, under the name its variable carries.
#[derive(Debug, Clone, Serialize)]
pub struct AwsName {
    /// The blueprint topic it carries.
    pub topic: String,
    /// The environment variable holding the name, and the settings attribute it fills.
    pub env_var: String,
    pub setting: String,
    /// The name after the `<system>-<environment>-` prefix (Terraform's `local.prefix`).
    pub suffix: String,
    /// The name locally (compose, the base ConfigMap): `<system>-local-<suffix>`.
    pub local: String,
}

/// What Terraform and the local provisioning create for SNS/SQS, in one place: an SNS FIFO
/// topic per topic that goes through the broker, and per consuming workload and topic a FIFO
/// queue subscribed to it (raw delivery) with a redrive policy to its dead-letter queue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SqsLayout {
    /// Prefix of every name locally (`<system>-local`).
    pub local_prefix: String,
    pub topics: Vec<SnsTopic>,
    pub queues: Vec<SqsQueue>,
    /// A message received this often without being deleted (its consumer crashed on it each
    /// time) goes to the dead-letter queue: the scale preset's handler tries.
    pub max_receive_count: u32,
    /// Longer than a consumer needs for every try of a handler with its backoff.
    pub visibility_timeout_seconds: u32,
    /// Dead letters are kept 14 days, queued events 4 (SQS allows 1 minute to 14 days).
    pub dead_letter_retention_seconds: u32,
    pub retention_seconds: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnsTopic {
    pub topic: String,
    /// Spaces after the quoted topic, so the `=` of a Terraform map line up (`terraform fmt`).
    pub pad: String,
    pub suffix: String,
    pub local: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SqsQueue {
    /// `<topic>/<workload>`: the key of Terraform's maps.
    pub key: String,
    /// Spaces after the quoted key, so the `=` of a Terraform map line up.
    pub pad: String,
    pub topic: String,
    /// The local name of the topic's SNS topic (the provisioning script subscribes to it).
    pub topic_local: String,
    pub workload: String,
    pub suffix: String,
    pub local: String,
    pub dead_letter_suffix: String,
    pub dead_letter_local: String,
    /// Subscribed to the topic's SNS topic. False for a topic a monolith delivers in-process:
    /// only its dead-letter queue exists then (where its poison events go).
    pub subscribed: bool,
}

/// SQS and SNS names are at most 80 characters (`.fifo` included) of letters, digits, `-`
/// and `_`.
const AWS_NAME_MAX: usize = 80;
const FIFO: &str = ".fifo";
pub const SQS_VISIBILITY_TIMEOUT_SECONDS: u32 = 60;
/// The AWS SDK's own variable for one endpoint of every service (the local emulator).
pub const AWS_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL";

/// The suffix of a FIFO topic or queue name made of `parts`, short enough that the longest
/// prefix (`prefix_len` characters and a `-`) still fits AWS's limit: a longer one keeps its
/// start and ends with a hash of the whole, so two names never meet.
fn aws_suffix(parts: &[&str], prefix_len: usize) -> String {
    let base: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let room = AWS_NAME_MAX
        .saturating_sub(prefix_len + 1 + FIFO.len())
        .max(16);
    if base.len() <= room {
        return format!("{base}{FIFO}");
    }
    let hash = blake3::hash(base.as_bytes()).to_hex();
    format!("{}-{}{FIFO}", &base[..room - 9], &hash[..8])
}

/// The SNS/SQS names of every workload's events (filled into `events` and its environment)
/// and the layout Terraform creates. `prefix_len` is the longest `<system>-<environment>`.
pub fn link_sqs(
    workloads: &mut [Service],
    topics: &[Topic],
    endpoint: &str,
    system: &str,
    prefix_len: usize,
    preset: &Preset,
) -> SqsLayout {
    let local_prefix = format!("{system}-local");
    let prefix_len = prefix_len.max(local_prefix.len());
    let name = |parts: &[&str]| {
        let suffix = aws_suffix(parts, prefix_len);
        let local = format!("{local_prefix}-{suffix}");
        (suffix, local)
    };
    let mut layout = SqsLayout {
        max_receive_count: preset.messaging.max_attempts,
        visibility_timeout_seconds: SQS_VISIBILITY_TIMEOUT_SECONDS,
        dead_letter_retention_seconds: 14 * 24 * 3600,
        retention_seconds: 4 * 24 * 3600,
        ..Default::default()
    };
    let mut via_broker: Vec<String> = Vec::new();
    for w in workloads.iter_mut() {
        let in_process = |t: &Names| w.events.in_process.contains(t);
        let sent: Vec<Names> = w
            .publishes
            .iter()
            .filter(|t| !in_process(t))
            .cloned()
            .collect();
        let aws = |t: &Names, var: &str, (suffix, local): (String, String)| {
            let env_var = format!("{var}_{}", t.upper);
            AwsName {
                topic: t.raw.clone(),
                setting: super::setting_name(&env_var),
                env_var,
                suffix,
                local,
            }
        };
        w.events.sns_topics = sent
            .iter()
            .map(|t| aws(t, "SNS_TOPIC", name(&[&t.kebab])))
            .collect();
        let workload = w.name.kebab.clone();
        for t in &w.consumes {
            let subscribed = !in_process(t);
            let queue = aws(t, "SQS_QUEUE", name(&[&workload, &t.kebab]));
            let dead = aws(t, "SQS_DLQ", name(&[&workload, &t.kebab, "dlq"]));
            layout.queues.push(SqsQueue {
                key: format!("{}/{workload}", t.raw),
                pad: String::new(),
                topic: t.raw.clone(),
                topic_local: name(&[&t.kebab]).1,
                workload: workload.clone(),
                suffix: queue.suffix.clone(),
                local: queue.local.clone(),
                dead_letter_suffix: dead.suffix.clone(),
                dead_letter_local: dead.local.clone(),
                subscribed,
            });
            if subscribed {
                w.events.sqs_queues.push(queue);
            }
            w.events.sqs_dead_letter_queues.push(dead);
        }
        via_broker.extend(sent.iter().map(|t| t.raw.clone()));
        via_broker.extend(w.events.from_broker.iter().map(|t| t.raw.clone()));
        // Every AWS client of the workload (SNS, SQS, STS) goes to the local emulator; the cloud
        // overlays set it empty (AWS's own endpoints).
        let mut vars = Vec::new();
        if !sent.is_empty() || !w.consumes.is_empty() {
            vars.push(EnvVar {
                name: AWS_ENDPOINT_ENV.into(),
                value: endpoint.into(),
            });
        }
        let names = w.events.sns_topics.iter();
        let names = names
            .chain(&w.events.sqs_queues)
            .chain(&w.events.sqs_dead_letter_queues);
        vars.extend(names.map(|n| EnvVar {
            name: n.env_var.clone(),
            value: n.local.clone(),
        }));
        w.env.extend(vars);
    }
    for t in topics.iter().filter(|t| via_broker.contains(&t.name.raw)) {
        let (suffix, local) = name(&[&t.name.kebab]);
        let topic = t.name.raw.clone();
        layout.topics.push(SnsTopic {
            topic,
            pad: String::new(),
            suffix,
            local,
        });
    }
    let width = layout
        .topics
        .iter()
        .map(|t| t.topic.len())
        .max()
        .unwrap_or(0);
    for t in &mut layout.topics {
        t.pad = " ".repeat(width - t.topic.len());
    }
    let width = layout.queues.iter().map(|q| q.key.len()).max().unwrap_or(0);
    for q in &mut layout.queues {
        q.pad = " ".repeat(width - q.key.len());
    }
    layout.local_prefix = local_prefix;
    layout
}

/// The dead-letter topic (Kafka) or queue routing key (RabbitMQ) of a topic.
pub fn dead_letter(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// Fill `events` of every service and mark the databases that hold the event tables.
pub fn link(
    services: &mut [Service],
    databases: &mut [Database],
    preset: &Preset,
    messaging: Option<&Messaging>,
) {
    let topics = messaging.map(|mq| mq.topics.as_slice()).unwrap_or_default();
    // Looked up by name: scanning every topic and database per service was quadratic in the
    // size of the system.
    let topic_index: HashMap<&str, usize> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.raw.as_str(), i))
        .collect();
    let database_index: HashMap<String, usize> = databases
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.raw.clone(), i))
        .collect();
    for s in services.iter_mut() {
        let has_db = s.database.is_some();
        let monolith = !s.modules.is_empty();
        let (in_process, from_broker): (Vec<Names>, Vec<Names>) = s
            .consumes
            .iter()
            .cloned()
            .partition(|t| monolith && s.publishes.contains(t));
        let mut schema_topic_ids: Vec<usize> = s
            .consumes
            .iter()
            .filter_map(|t| topic_index.get(t.raw.as_str()).copied())
            .filter(|&i| topics[i].entity_id.is_some())
            .collect();
        schema_topic_ids.sort_unstable();
        schema_topic_ids.dedup();
        s.events = EventsCode {
            schema_topics: schema_topic_ids
                .iter()
                .map(|&i| topics[i].name.raw.clone())
                .collect(),
            schema_topic_ids,
            outbox: has_db && !s.publishes.is_empty(),
            inbox: has_db && !s.consumes.is_empty(),
            dead_letters: s.consumes.iter().map(|t| dead_letter(&t.raw)).collect(),
            in_process,
            from_broker,
            max_attempts: preset.messaging.max_attempts,
            retention_days: preset.messaging.processed_retention_days,
            ..Default::default()
        };
        if let Some(db) = &s.database
            && (s.events.outbox || s.events.inbox)
            && let Some(&i) = database_index.get(&db.name)
        {
            databases[i].events = true;
        }
    }
}

/// Each topic's payload entity: the first entity whose creation publishes it.
pub fn link_topics(messaging: Option<&mut Messaging>, entities: &[Entity]) {
    let Some(mq) = messaging else { return };
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entities.iter().enumerate() {
        for p in &e.code.publishes {
            first.entry(p.raw.as_str()).or_insert(i);
        }
    }
    for t in &mut mq.topics {
        t.entity_id = first.get(t.name.raw.as_str()).copied();
    }
}

#[cfg(test)]
mod tests {
    use crate::resolve::Model;

    fn model(arch: &str, system: &str) -> Model {
        let src = crate::assets::example("event-orders")
            .unwrap()
            .replace("type: microservices", &format!("type: {arch}"))
            .replace("name: orderflow", &format!("name: {system}"));
        let bp = crate::blueprint::load(&src, "t.yaml").blueprint.unwrap();
        crate::resolve::resolve(&bp, crate::assets::presets()).unwrap()
    }

    /// A workload's variable, which compose (`local_env`) must carry with the same value.
    fn env<'a>(m: &'a Model, workload: &str, var: &str) -> Option<&'a str> {
        let d = m.deployables.iter().find(|d| d.name.kebab == workload)?;
        let value = |list: &'a [crate::resolve::services::EnvVar]| {
            list.iter()
                .find(|e| e.name == var)
                .map(|e| e.value.as_str())
        };
        assert_eq!(value(&d.env), value(&d.local_env), "{workload} {var}");
        value(&d.env)
    }

    #[test]
    fn every_consumer_of_a_topic_gets_its_own_queue_subscribed_to_one_sns_topic() {
        let m = model("microservices", "orderflow");
        let l = m.messaging.as_ref().unwrap().sqs.as_ref().unwrap();
        let topics: Vec<&str> = l.topics.iter().map(|t| t.local.as_str()).collect();
        assert_eq!(
            topics,
            [
                "orderflow-local-order-placed.fifo",
                "orderflow-local-stock-reserved.fifo",
                "orderflow-local-shipment-dispatched.fifo"
            ]
        );
        // stock.reserved has two consumers: two queues, both subscribed, each with a DLQ.
        let stock: Vec<&str> = l
            .queues
            .iter()
            .filter(|q| q.topic == "stock.reserved")
            .map(|q| q.suffix.as_str())
            .collect();
        assert_eq!(
            stock,
            ["orders-stock-reserved.fifo", "shipping-stock-reserved.fifo"]
        );
        assert!(l.queues.iter().all(|q| q.subscribed));
        assert_eq!(l.max_receive_count, m.preset.messaging.max_attempts);
        // The services read exactly these names.
        assert_eq!(
            env(&m, "shipping", "SQS_QUEUE_STOCK_RESERVED"),
            Some("orderflow-local-shipping-stock-reserved.fifo")
        );
        assert_eq!(
            env(&m, "shipping", "SQS_DLQ_STOCK_RESERVED"),
            Some("orderflow-local-shipping-stock-reserved-dlq.fifo")
        );
        assert_eq!(
            env(&m, "inventory", "SNS_TOPIC_STOCK_RESERVED"),
            Some("orderflow-local-stock-reserved.fifo")
        );
        assert_eq!(
            env(&m, "orders", "AWS_ENDPOINT_URL"),
            Some("http://moto:5000")
        );
    }

    #[test]
    fn a_monolith_keeps_in_process_topics_off_the_broker_but_has_their_dead_letter_queues() {
        let m = model("monolith", "orderflow");
        let l = m.messaging.as_ref().unwrap().sqs.as_ref().unwrap();
        assert!(l.topics.is_empty(), "{:?}", l.topics);
        assert_eq!(l.queues.len(), 3);
        assert!(l.queues.iter().all(|q| !q.subscribed));
        let app = &m.deployables[0];
        assert!(app.events.sns_topics.is_empty() && app.events.sqs_queues.is_empty());
        assert_eq!(app.events.sqs_dead_letter_queues.len(), 3);
    }

    #[test]
    fn long_names_fit_aws_limit_with_every_environment_prefix_and_stay_distinct() {
        let system = "a-very-long-system-name-that-keeps-going-and-going";
        let m = model("microservices", system);
        let l = m.messaging.as_ref().unwrap().sqs.as_ref().unwrap();
        let longest_env = m.environments.iter().map(|e| e.name.len()).max().unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for q in &l.queues {
            for suffix in [&q.suffix, &q.dead_letter_suffix] {
                let cloud = system.len() + 1 + longest_env + 1 + suffix.len();
                assert!(cloud <= 80, "{suffix}: {cloud}");
                assert!(suffix.ends_with(".fifo"));
                assert!(seen.insert(suffix.clone()), "{suffix} twice");
            }
            assert!(q.local.len() <= 80, "{}", q.local);
        }
    }
}
