//! Terraform decisions the root module's defaults and its offline tests (`infra/terraform/tests/
//! plan.tftest.hcl`) print: the zones, the log retention, what the scale preset promises, and the
//! fixtures the mocked plan runs with.

use serde::Serialize;

use super::data::Messaging;
use super::presets::Preset;

#[derive(Debug, Clone, Serialize)]
pub struct Terraform {
    /// Zones the subnets span, pinned by name: two at small scale, three above.
    pub availability_zones: Vec<String>,
    /// Retention of every CloudWatch log group, in days.
    pub log_retention_days: u32,
    /// One NAT gateway for the VPC (small scale, cheaper) instead of one per zone.
    pub single_nat_gateway: bool,
    /// Broker instance type: the preset's for Kafka (MSK); Amazon MQ has its own types.
    pub broker_instance_type: String,
    pub expect: Expect,
    pub fixture: Fixture,
}

/// What the plan must show at this scale (the tests assert these values).
#[derive(Debug, Clone, Serialize)]
pub struct Expect {
    pub db_multi_az: bool,
    pub db_read_replicas: u32,
    pub cache_replicas: u32,
    pub cache_shards: u32,
    pub cache_failover: bool,
    /// Kafka: MSK places brokers evenly, so the preset's count rounded up to a multiple of the zones.
    pub kafka_broker_nodes: u32,
    /// RabbitMQ: one broker, or a cluster across zones when the preset asks for more.
    pub rabbitmq_deployment_mode: &'static str,
    /// SNS/SQS: one topic per topic through the broker, one subscribed queue per consuming
    /// workload and topic from the broker, one dead-letter queue per consuming workload and topic.
    pub sns_topics: usize,
    pub sqs_queues: usize,
    pub sqs_dead_letter_queues: usize,
    pub nat_gateways: usize,
}

/// Stand-in ids the module runs of the offline tests pass where the root module would pass another
/// module's outputs (nothing is created: the provider is mocked).
#[derive(Debug, Clone, Serialize)]
pub struct Fixture {
    pub account_id: String,
    pub kms_key_arn: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_id: String,
    /// What the mocked password generator returns (Amazon MQ wants 12 to 250 characters).
    pub password: String,
}

pub fn resolve(
    preset: &Preset,
    scale: &str,
    region: &str,
    messaging: Option<&Messaging>,
) -> Terraform {
    let zone_count = if scale == "small" { 2 } else { 3 };
    let availability_zones: Vec<String> = ["a", "b", "c"][..zone_count]
        .iter()
        .map(|z| format!("{region}{z}"))
        .collect();
    let account_id = "123456789012".to_owned();
    let zones = zone_count as u32;
    let brokers = preset.messaging.brokers;
    let single_nat_gateway = scale == "small";
    let broker_instance_type = match messaging {
        Some(m) if m.is_rabbitmq && scale == "small" => "mq.t3.micro".to_owned(),
        Some(m) if m.is_rabbitmq => "mq.m5.large".to_owned(),
        _ => preset.messaging.instance_type.clone(),
    };
    let sqs = messaging.and_then(|m| m.sqs.as_ref());
    Terraform {
        expect: Expect {
            db_multi_az: preset.database.multi_az,
            db_read_replicas: preset.database.read_replicas,
            cache_replicas: preset.cache.replicas,
            cache_shards: preset.cache.shards,
            cache_failover: preset.cache.replicas > 0 || preset.cache.shards > 1,
            kafka_broker_nodes: brokers.max(zones).div_ceil(zones) * zones,
            rabbitmq_deployment_mode: if brokers > 1 {
                "CLUSTER_MULTI_AZ"
            } else {
                "SINGLE_INSTANCE"
            },
            sns_topics: sqs.map_or(0, |l| l.topics.len()),
            sqs_queues: sqs.map_or(0, |l| l.queues.iter().filter(|q| q.subscribed).count()),
            sqs_dead_letter_queues: sqs.map_or(0, |l| l.queues.len()),
            nat_gateways: if single_nat_gateway { 1 } else { zone_count },
        },
        fixture: Fixture {
            kms_key_arn: format!(
                "arn:aws:kms:{region}:{account_id}:key/00000000-0000-4000-8000-000000000000"
            ),
            account_id,
            vpc_id: "vpc-0123456789abcdef0".into(),
            subnet_ids: (1..=zone_count)
                .map(|i| format!("subnet-0{i}23456789abcdef0"))
                .collect(),
            security_group_id: "sg-0123456789abcdef0".into(),
            password: "offline-plan-not-a-secret".into(),
        },
        availability_zones,
        log_retention_days: 365,
        single_nat_gateway,
        broker_instance_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRESETS: &str = include_str!("../../blueprints/presets.yaml");

    fn at(scale: &str) -> Terraform {
        let preset = super::super::presets::load(PRESETS, scale, &Default::default()).unwrap();
        resolve(&preset, scale, "eu-west-1", None)
    }

    #[test]
    fn zones_follow_the_scale() {
        assert_eq!(at("small").availability_zones, ["eu-west-1a", "eu-west-1b"]);
        assert_eq!(at("large").availability_zones.len(), 3);
        assert_eq!(at("large").fixture.subnet_ids.len(), 3);
    }

    #[test]
    fn kafka_broker_nodes_are_a_multiple_of_the_zones() {
        for scale in ["small", "medium", "large"] {
            let t = at(scale);
            let zones = t.availability_zones.len() as u32;
            assert_eq!(t.expect.kafka_broker_nodes % zones, 0, "{scale}");
            assert!(t.expect.kafka_broker_nodes >= zones, "{scale}");
        }
    }
}
