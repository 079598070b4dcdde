//! Event delivery decisions (PRODUCT §11.4): which services keep a transactional outbox and a
//! table of handled event ids, which topics a monolith delivers in-process, how often a handler
//! is tried before its event is dead-lettered, and the dead-letter topic of each topic.

use super::data::{Database, Entity, Messaging};
use super::services::Service;
use super::{Names, Preset};
use serde::Serialize;

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
    for s in services.iter_mut() {
        let has_db = s.database.is_some();
        let monolith = !s.modules.is_empty();
        let (in_process, from_broker): (Vec<Names>, Vec<Names>) = s
            .consumes
            .iter()
            .cloned()
            .partition(|t| monolith && s.publishes.contains(t));
        let schema_topic_ids: Vec<usize> = (0..topics.len())
            .filter(|&i| topics[i].entity_id.is_some() && s.consumes.contains(&topics[i].name))
            .collect();
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
        };
        if let Some(db) = &s.database
            && (s.events.outbox || s.events.inbox)
            && let Some(d) = databases.iter_mut().find(|d| d.name.raw == db.name)
        {
            d.events = true;
        }
    }
}

/// Each topic's payload entity: the first entity whose creation publishes it.
pub fn link_topics(messaging: Option<&mut Messaging>, entities: &[Entity]) {
    let Some(mq) = messaging else { return };
    for t in &mut mq.topics {
        t.entity_id = entities
            .iter()
            .position(|e| e.code.publishes.iter().any(|p| p.raw == t.name.raw));
    }
}
