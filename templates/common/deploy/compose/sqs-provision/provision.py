{{ header }}
{%- set l = m.messaging.sqs %}
{%- set p = m.deploy.sqs_provision %}
"""Creates on the local AWS emulator what infra/terraform/modules/messaging creates in the cloud.

An SNS FIFO topic per topic that goes through the broker; per consuming service and topic a
FIFO queue subscribed to it (raw delivery) with a redrive policy to its dead-letter queue
(after {{ l.max_receive_count }} receives); a dead-letter queue alone for a topic a monolith
delivers in-process. The names are the ones the services read from their environment
(compose), as Terraform's are with the `<system>-<environment>` prefix instead of `{{ l.local_prefix }}`.

Run once by compose (`{{ p.name }}`) before the apps start; creating what exists already
changes nothing.
"""

import json

import boto3

{% if l.topics -%}
TOPICS = [
{%- for t in l.topics %}
    "{{ t.local }}",
{%- endfor %}
]
{%- else -%}
TOPICS: list[str] = []
{%- endif %}
# (SNS topic or None, queue or None, dead-letter queue)
QUEUES = [
{%- for q in l.queues %}
    (
        {% if q.subscribed %}"{{ q.topic_local }}"{% else %}None{% endif %},
        {% if q.subscribed %}"{{ q.local }}"{% else %}None{% endif %},
        "{{ q.dead_letter_local }}",
    ),
{%- endfor %}
]
MAX_RECEIVE_COUNT = {{ l.max_receive_count }}
VISIBILITY_TIMEOUT_SECONDS = {{ l.visibility_timeout_seconds }}
RETENTION_SECONDS = {{ l.retention_seconds }}
DEAD_LETTER_RETENTION_SECONDS = {{ l.dead_letter_retention_seconds }}


def queue_arn(sqs, url: str) -> str:
    reply = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return reply["Attributes"]["QueueArn"]


def main() -> None:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    fifo = {"FifoTopic": "true"}
    arns = {t: sns.create_topic(Name=t, Attributes=fifo)["TopicArn"] for t in TOPICS}
    for topic, queue, dead_letter in QUEUES:
        attributes = {
            "FifoQueue": "true",
            "MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS),
        }
        dlq = sqs.create_queue(QueueName=dead_letter, Attributes=attributes)["QueueUrl"]
        if topic is None or queue is None:
            continue
        redrive = {
            "deadLetterTargetArn": queue_arn(sqs, dlq),
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        }
        attributes = {
            "FifoQueue": "true",
            "MessageRetentionPeriod": str(RETENTION_SECONDS),
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(redrive),
        }
        url = sqs.create_queue(QueueName=queue, Attributes=attributes)["QueueUrl"]
        subscribed = {
            s["Endpoint"]
            for s in sns.list_subscriptions_by_topic(TopicArn=arns[topic])[
                "Subscriptions"
            ]
        }
        endpoint = queue_arn(sqs, url)
        if endpoint not in subscribed:
            sns.subscribe(
                TopicArn=arns[topic],
                Protocol="sqs",
                Endpoint=endpoint,
                Attributes={"RawMessageDelivery": "true"},
            )
    print(f"{len(arns)} SNS topics, {len(QUEUES)} dead-letter queues ready")


if __name__ == "__main__":
    main()
