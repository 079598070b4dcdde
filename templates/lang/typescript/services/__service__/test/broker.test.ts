{%- set svc = service %}{%- set mq = m.messaging %}{{ header }}
// The {{ mq.broker }} client without a broker: the address it reads, what it sends before it is
// connected, the readiness probe{% if mq.is_kafka %} and the listener's security settings{% elif mq.is_rabbitmq %} and the sign-in{% endif %}. The system test runs the real broker.
import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { {% if mq.is_rabbitmq %}amqpUrl, {% endif %}brokerAddress, BrokerUnavailable, {% if mq.is_kafka %}kafkaSecurity, {% endif %}Publisher, reachable } from "../src/broker.js";
import { config } from "./support.js";

// A loopback port nothing listens on (the discard port).
const CLOSED = {% if mq.is_kafka %}"127.0.0.1:9"{% elif mq.is_sqs %}"http://127.0.0.1:9"{% else %}"amqp://127.0.0.1:9"{% endif %};

test("the broker's address is read from {{ mq.env_var }}", () => {
  assert.notEqual(config.{{ mq.env_var }}, "");
  assert.notEqual(brokerAddress(config), "");
  assert.equal(brokerAddress({ ...config, {{ mq.env_var }}: "" }), "");
});

test("the readiness probe finds no broker where none listens", async () => {
  assert.equal(await reachable(CLOSED), false);
});

test("the publisher refuses to send before it is connected", async () => {
  const publisher = new Publisher(CLOSED, config, Fastify({ logger: false }).log, AbortSignal.abort());
  assert.equal(publisher.connected, false);
  await assert.rejects(publisher.send("some.topic", "key", Buffer.from("{}")), BrokerUnavailable);
});
{%- if mq.is_kafka %}

test("the listener is plaintext locally; SASL_SSL with OAUTHBEARER is TLS and MSK IAM tokens", () => {
  assert.deepEqual(kafkaSecurity({ ...config, KAFKA_SECURITY_PROTOCOL: "PLAINTEXT", KAFKA_SASL_MECHANISM: "" }), {});
  const cloud = kafkaSecurity({ ...config, KAFKA_SECURITY_PROTOCOL: "SASL_SSL", KAFKA_SASL_MECHANISM: "OAUTHBEARER" });
  assert.deepEqual(cloud.tls, { rejectUnauthorized: true });
  assert.equal(cloud.sasl?.mechanism, "OAUTHBEARER");
  assert.equal(typeof cloud.sasl?.token, "function");
});
{%- elif mq.is_rabbitmq %}

test("AMQP_USERNAME and AMQP_PASSWORD sign in, escaped; a bare host gets the AMQP port", () => {
  const url = new URL(amqpUrl({ ...config, {{ mq.env_var }}: "mq.example", AMQP_USERNAME: "u@x", AMQP_PASSWORD: "p:w/" }));
  assert.equal(url.hostname, "mq.example");
  assert.equal(url.port, "{{ mq.port }}");
  assert.equal(decodeURIComponent(url.username), "u@x");
  assert.equal(decodeURIComponent(url.password), "p:w/");
});
{%- endif %}
