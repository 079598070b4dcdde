{%- set svc = service %}{%- set mq = m.messaging %}{%- set ev = svc.events %}{{ header }}
// The {{ mq.broker }} client of the {{ svc.name.raw }} service: the publisher the relay and the dead letters
// go through, and one consumer session. The names are the Python services' (ADR 0004), so both
// languages share one broker: {% if mq.is_kafka %}a topic per event topic, `<topic>.dlq` for dead letters, the
// service's name as its consumer group{% elif mq.is_sqs %}an SNS FIFO topic per sent topic, an SQS FIFO queue of this
// service per consumed topic (subscribed to the SNS topic, raw delivery) and a dead-letter queue
// beside it, named by the settings Terraform and the compose file give{% else %}the topic exchange `events`, `events.dlx` for
// dead letters, and a queue `<service>.<topic>` (with `<service>.<topic>.dlq`) per consumed topic{% endif %}.
{%- if mq.is_kafka %}
import { generateAuthToken } from "aws-msk-iam-sasl-signer-js";
{%- endif %}
import net from "node:net";
{%- if mq.is_sqs %}
import { randomUUID } from "node:crypto";
{%- endif %}
import { setTimeout as sleep } from "node:timers/promises";
{%- if mq.is_kafka %}
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, ProduceAcks, Producer } from "@platformatic/kafka";
{%- elif mq.is_sqs %}
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
{%- else %}
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
{%- endif %}
import type { FastifyBaseLogger } from "fastify";
import type { Settings } from "./config.js";

export const DEAD_LETTER_SUFFIX = ".dlq";
{%- if not mq.is_sqs %}
const DEFAULT_PORT = {{ mq.port }};
{%- endif %}
export const BACKOFF_START_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
// How long a readiness probe of the broker may take.
export const PROBE_TIMEOUT_MS = 1000;
{%- if mq.is_rabbitmq %}
// The topic exchange every service publishes to, and the one dead letters go to (by `<topic>.dlq`).
const EXCHANGE = "events";
const DEAD_LETTER_EXCHANGE = "events.dlx";
// Unacknowledged messages a consumer holds at once.
const PREFETCH = 10;
{%- elif mq.is_kafka %}
// How often the consumer's lag is measured.
const LAG_INTERVAL_MS = 5000;
// How long one fetch waits for messages: well within the request timeout.
const FETCH_WAIT_MS = 1000;
// A consumer that vanished (its broker connection cut) leaves the group after this long, as
// aiokafka's default: its partitions go to the live members.
const SESSION_TIMEOUT_MS = 10_000;
{%- elif mq.is_sqs %}
// Seconds one receive waits for messages (long polling).
const RECEIVE_WAIT_SECONDS = 5;
{%- endif %}

/** The event could not be handed to the broker (it is down or not connected yet). */
export class BrokerUnavailable extends Error {}

/** Capped exponential delays between attempts; a stop ends the wait at once. */
export class Backoff {
  delay: number;
  constructor(private readonly cap: number) {
    this.delay = BACKOFF_START_MS;
  }
  reset(): void {
    this.delay = BACKOFF_START_MS;
  }
  async wait(signal: AbortSignal): Promise<void> {
    await sleep(this.delay, undefined, { signal }).catch(() => undefined);
    this.delay = Math.min(this.delay * 2, this.cap);
  }
}

/** What sends to the broker: the relay's events and the consumers' dead letters. */
export interface Sender {
  readonly connected: boolean;
  send(topic: string, key: string, body: Buffer, headers?: Record<string, string>): Promise<void>;
}

/** What a consumer session hands its messages to. */
export interface Consumption {
  readonly topics: readonly string[];
  /** Take one message; throws when it must not be acknowledged (it then comes again). */
  take(topic: string, body: Buffer): Promise<unknown>;
  /** The session is connected and consuming. */
  ready(): void;
  /** Messages of `topic` not consumed yet. */
  lag(topic: string, partition: string, count: number): void;
}

/** Reject with BrokerUnavailable when `work` takes longer than `ms`. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = sleep(ms, undefined, { ref: false }).then(() => {
    throw new BrokerUnavailable(`${what}: no answer within ${ms} ms`);
  });
  return Promise.race([work, timeout]);
}

/** Whether one of the broker's endpoints accepts a TCP connection within PROBE_TIMEOUT_MS. */
export async function reachable(address: string): Promise<boolean> {
  for (const [host, port] of endpoints(address)) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (answer: boolean) => {
        socket.destroy();
        resolve(answer);
      };
      socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    });
    if (ok) {
      return true;
    }
  }
  return false;
}
{%- if mq.is_rabbitmq %}

/** The broker's URL: `{{ mq.env_var }}` is a host (`rabbitmq`), `host:port`, or a whole `amqp://` /
 * `amqps://` URL; AMQP_USERNAME and AMQP_PASSWORD (cloud: from Secrets Manager) sign in, else
 * the local broker's default user. */
export function amqpUrl(config: Settings): string {
  const address = config.{{ mq.env_var }};
  const url = new URL(address.includes("://") ? address : `amqp://${address}`);
  if (url.port === "" && url.protocol === "amqp:") {
    url.port = String(DEFAULT_PORT);
  }
  if (config.AMQP_USERNAME) {
    url.username = encodeURIComponent(config.AMQP_USERNAME);
    url.password = encodeURIComponent(config.AMQP_PASSWORD);
  }
  return url.toString();
}

/** Where the broker is (an `amqp://` URL); empty means no broker. */
export function brokerAddress(config: Settings): string {
  return config.{{ mq.env_var }} ? amqpUrl(config) : "";
}

function endpoints(address: string): Array<[string, number]> {
  const url = new URL(address);
  return [[url.hostname, Number(url.port || (url.protocol === "amqps:" ? 5671 : DEFAULT_PORT))]];
}

/** A promise that resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
    }
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** The RabbitMQ publisher: one connection with a confirm channel, reconnected in the background. */
export class Publisher implements Sender {
  private channel: ConfirmChannel | null = null;
  private connection: ChannelModel | null = null;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    config: Settings,
    private readonly log: FastifyBaseLogger,
    private readonly signal: AbortSignal,
  ) {
    this.timeoutMs = config.REQUEST_TIMEOUT_SECONDS * 1000;
  }

  get connected(): boolean {
    return this.channel !== null;
  }

  async connectForever(): Promise<void> {
    const backoff = new Backoff(BACKOFF_MAX_MS);
    while (!this.signal.aborted) {
      let connection: ChannelModel | null = null;
      try {
        connection = await amqp.connect(this.url, { timeout: 5000 });
        // A lost connection is reported by `close` (below); `error` alone must not throw.
        connection.on("error", (err: Error) => this.log.warn({ err }, "broker connection error"));
        const channel = await connection.createConfirmChannel();
        channel.on("error", (err: Error) => this.log.warn({ err }, "broker channel error"));
        await channel.assertExchange(EXCHANGE, "topic", { durable: true });
        await channel.assertExchange(DEAD_LETTER_EXCHANGE, "topic", { durable: true });
        const opened = connection;
        connection.once("close", () => {
          this.channel = null;
          this.connection = null;
          if (!this.signal.aborted) {
            this.log.warn("publisher lost the broker; reconnecting");
            void this.connectForever();
          }
        });
        // A channel closed by the broker (not the connection) ends the connection too, so one
        // reconnect path covers both.
        channel.once("close", () => void opened.close().catch(() => undefined));
        this.connection = connection;
        this.channel = channel;
        this.log.info("publisher connected to the broker");
        return;
      } catch (err) {
        await connection?.close().catch(() => undefined);
        this.log.warn({ err: String(err) }, `broker unreachable; the publisher retries in ${backoff.delay / 1000} s`);
        await backoff.wait(this.signal);
      }
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.channel = null;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  /** Hand one message to the broker and wait for its confirmation, or throw BrokerUnavailable
   * (within the request timeout). */
  async send(topic: string, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
    const channel = this.channel;
    if (channel === null) {
      throw new BrokerUnavailable(topic);
    }
    const exchange = topic.endsWith(DEAD_LETTER_SUFFIX) ? DEAD_LETTER_EXCHANGE : EXCHANGE;
    const confirmed = new Promise<void>((resolve, reject) => {
      channel.publish(
        exchange,
        topic,
        body,
        { persistent: true, contentType: "application/json", headers: { ...headers, key } },
        (err: unknown) => (err ? reject(new BrokerUnavailable(`${topic}: ${String(err)}`)) : resolve()),
      );
    });
    await within(confirmed, this.timeoutMs, topic);
  }
}

/** One consumer session: a queue per consumed topic (`<group>.<topic>`, its dead letters in
 * `<group>.<topic>.dlq`), consumed until the connection ends (throws) or `signal` stops it. */
export async function consumeSession(address: string, config: Settings, log: FastifyBaseLogger, signal: AbortSignal, c: Consumption): Promise<void> {
  const group = config.SERVICE_NAME;
  const connection = await amqp.connect(address, { timeout: 5000 });
  try {
    connection.on("error", (err: Error) => log.warn({ err }, "consumer connection error"));
    const closed = new Promise<void>((resolve) => connection.once("close", () => resolve()));
    const channel = await connection.createChannel();
    channel.on("error", (err: Error) => log.warn({ err }, "consumer channel error"));
    channel.once("close", () => void connection.close().catch(() => undefined));
    await channel.prefetch(PREFETCH);
    await channel.assertExchange(EXCHANGE, "topic", { durable: true });
    await channel.assertExchange(DEAD_LETTER_EXCHANGE, "topic", { durable: true });
    const queues: Array<[string, string]> = [];
    for (const topic of c.topics) {
      const name = `${group}.${topic}`;
      // What the broker itself rejects goes to the dead-letter exchange too.
      await channel.assertQueue(name, {
        durable: true,
        arguments: { "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE, "x-dead-letter-routing-key": topic + DEAD_LETTER_SUFFIX },
      });
      await channel.bindQueue(name, EXCHANGE, topic);
      await channel.assertQueue(name + DEAD_LETTER_SUFFIX, { durable: true });
      await channel.bindQueue(name + DEAD_LETTER_SUFFIX, DEAD_LETTER_EXCHANGE, topic + DEAD_LETTER_SUFFIX);
      await channel.consume(name, (message) => {
        if (message !== null) {
          // Acknowledged once handled, duplicate or dead-lettered; requeued when the dead
          // letter could not be sent.
          c.take(topic, message.content).then(
            () => channel.ack(message),
            () => channel.nack(message, false, true),
          ).catch(() => undefined);
        }
      });
      queues.push([topic, name]);
    }
    c.ready();
    log.info(`event consumer connected (group ${group})`);
    const stopped = aborted(signal);
    for (;;) {
      const tick = sleep(PROBE_TIMEOUT_MS, "tick", { ref: false });
      const why = await Promise.race([tick, closed.then(() => "closed"), stopped.then(() => "stopped")]);
      if (why !== "tick") {
        if (why === "closed") {
          throw new Error("the broker closed the connection");
        }
        return;
      }
      for (const [topic, name] of queues) {
        const waiting = await channel.checkQueue(name);
        c.lag(topic, "0", waiting.messageCount);
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}
{%- elif mq.is_kafka %}

/** Where the broker is (`host:port,host:port`); empty means no broker. */
export function brokerAddress(config: Settings): string {
  return config.{{ mq.env_var }};
}

function servers(address: string): string[] {
  return address
    .split(",")
    .map((server) => server.trim())
    .filter((server) => server !== "")
    .map((server) => (server.includes(":") ? server : `${server}:${DEFAULT_PORT}`));
}

function endpoints(address: string): Array<[string, number]> {
  return servers(address).map((server) => {
    const at = server.lastIndexOf(":");
    return [server.slice(0, at), Number(server.slice(at + 1))];
  });
}

/** Client options for the broker's listener: none locally (PLAINTEXT); in the cloud TLS
 * (SASL_SSL, the server's certificate checked) and MSK IAM sign-in (OAUTHBEARER tokens signed
 * with the workload's AWS role), as Terraform's MSK accepts on its IAM port. */
export function kafkaSecurity(config: Settings) {
  const tls = config.KAFKA_SECURITY_PROTOCOL === "SSL" || config.KAFKA_SECURITY_PROTOCOL === "SASL_SSL";
  const iam = config.KAFKA_SASL_MECHANISM === "OAUTHBEARER";
  return {
    ...(tls ? { tls: { rejectUnauthorized: true } } : {}),
    ...(iam ? { sasl: { mechanism: "OAUTHBEARER" as const, token: () => mskIamToken(config.AWS_REGION) } } : {}),
  };
}

/** An MSK IAM token (one per authentication), signed with the default AWS credentials (IRSA's
 * web identity in the cluster). */
async function mskIamToken(region: string): Promise<string> {
  const { token } = await generateAuthToken({ region });
  return token;
}

function clientOptions(address: string, config: Settings) {
  return {
    clientId: config.SERVICE_NAME,
    bootstrapBrokers: servers(address),
    timeout: config.REQUEST_TIMEOUT_SECONDS * 1000,
    connectTimeout: PROBE_TIMEOUT_MS * 5,
    ...kafkaSecurity(config),
  };
}

/** The Kafka publisher: one producer (acks from all in-sync replicas), made once the broker
 * answers; the client reconnects by itself after that. */
export class Publisher implements Sender {
  private producer: Producer | null = null;
  private readonly timeoutMs: number;

  constructor(
    private readonly address: string,
    private readonly config: Settings,
    private readonly log: FastifyBaseLogger,
    private readonly signal: AbortSignal,
  ) {
    this.timeoutMs = config.REQUEST_TIMEOUT_SECONDS * 1000;
  }

  get connected(): boolean {
    return this.producer !== null;
  }

  async connectForever(): Promise<void> {
    const backoff = new Backoff(BACKOFF_MAX_MS);
    while (!this.signal.aborted) {
      const producer = new Producer({ ...clientOptions(this.address, this.config), acks: ProduceAcks.ALL });
      try {
        await within(producer.metadata({ topics: [] }), this.timeoutMs, "metadata");
        this.producer = producer;
        this.log.info("publisher connected to the broker");
        return;
      } catch (err) {
        await producer.close().catch(() => undefined);
        this.log.warn({ err: String(err) }, `broker unreachable; the publisher retries in ${backoff.delay / 1000} s`);
        await backoff.wait(this.signal);
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.close().catch(() => undefined);
  }

  /** Hand one message to the broker (keyed by the aggregate, so its events stay in order) and
   * wait for its acknowledgement, or throw BrokerUnavailable (within the request timeout). */
  async send(topic: string, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
    const producer = this.producer;
    if (producer === null) {
      throw new BrokerUnavailable(topic);
    }
    // Header names and values both as bytes (the client's default serializers pass them through).
    const encoded = new Map(Object.entries(headers).map(([name, value]) => [Buffer.from(name), Buffer.from(value)]));
    const sent = producer.send({ messages: [{ topic, key: Buffer.from(key), value: body, headers: encoded }] });
    try {
      await within(sent, this.timeoutMs, topic);
    } catch (err) {
      sent.catch(() => undefined);
      throw err instanceof BrokerUnavailable ? err : new BrokerUnavailable(`${topic}: ${String(err)}`);
    }
  }
}

/** One consumer session: the consumed topics in the service's consumer group, from the group's
 * committed offsets (the earliest for a new group). An offset is committed only once its message
 * is handled, duplicate or dead-lettered: a crash before that redelivers it, and the processed
 * ids make the redelivery harmless. Ends by throwing when the broker goes, or when `signal` stops it. */
export async function consumeSession(address: string, config: Settings, log: FastifyBaseLogger, signal: AbortSignal, c: Consumption): Promise<void> {
  const group = config.SERVICE_NAME;
  const consumer = new Consumer({
    ...clientOptions(address, config),
    groupId: group,
    autocommit: false,
    maxWaitTime: FETCH_WAIT_MS,
    sessionTimeout: SESSION_TIMEOUT_MS,
  });
  try {
    const stream = await within(
      consumer.consume({
        topics: [...c.topics],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      }),
      config.REQUEST_TIMEOUT_SECONDS * 1000 * 3,
      "joining the consumer group",
    );
    const stop = () => void stream.close().catch(() => undefined);
    signal.addEventListener("abort", stop, { once: true });
    consumer.on("consumer:lag", (offsets: Map<string, bigint[]>) => {
      for (const [topic, partitions] of offsets) {
        partitions.forEach((lag, partition) => c.lag(topic, String(partition), Math.max(Number(lag), 0)));
      }
    });
    consumer.startLagMonitoring({ topics: [...c.topics] }, LAG_INTERVAL_MS);
    c.ready();
    log.info(`event consumer connected (group ${group})`);
    try {
      for await (const message of stream) {
        await c.take(message.topic, message.value);
        await message.commit();
      }
    } finally {
      signal.removeEventListener("abort", stop);
      consumer.stopLagMonitoring();
    }
    if (!signal.aborted) {
      throw new Error("the consumer's stream ended");
    }
  } finally {
    // Forced (its streams too), and bounded: a broker that went away must not hold up the next session.
    const closed = new Promise<void>((resolve) => consumer.close(true, () => resolve()));
    await within(closed, PROBE_TIMEOUT_MS * 5, "closing the consumer").catch(() => undefined);
  }
}
{%- elif mq.is_sqs %}

/** The SQS endpoint (`{{ mq.env_var }}`); empty means no broker. */
export function brokerAddress(config: Settings): string {
  return config.{{ mq.env_var }};
}

function endpoints(address: string): Array<[string, number]> {
  const url = new URL(address);
  return [[url.hostname, Number(url.port || (url.protocol === "https:" ? 443 : 80))]];
}

/** The SNS topic of each sent topic, the SQS queue of each consumed topic and its dead-letter
 * queue: the names the settings hold (the environment; Terraform creates them in the cloud). */
function names(config: Settings): Record<"snsTopics" | "queues" | "deadLetterQueues", Record<string, string>> {
  return {
{%- for table in [["snsTopics", ev.sns_topics], ["queues", ev.sqs_queues], ["deadLetterQueues", ev.sqs_dead_letter_queues]] %}
    {{ table[0] }}: {
{%- for n in table[1] %}
      "{{ n.topic }}": config.{{ n.env_var }},
{%- endfor %}
    },
{%- endfor %}
  };
}

/** An AWS client's options: the local emulator (`endpoint`, else AWS_ENDPOINT_URL) when set, else
 * AWS's endpoint of the region. One try per call (the caller retries with backoff); a long poll
 * fits within the request timeout. */
function awsOptions(config: Settings, endpoint = "") {
  const url = endpoint || config.AWS_ENDPOINT_URL;
  return {
    region: config.AWS_REGION,
    ...(url ? { endpoint: url } : {}),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: PROBE_TIMEOUT_MS,
      requestTimeout: (RECEIVE_WAIT_SECONDS + config.REQUEST_TIMEOUT_SECONDS) * 1000,
    },
  };
}

async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  const reply = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (reply.QueueUrl === undefined) {
    throw new BrokerUnavailable(`no queue ${name}`);
  }
  return reply.QueueUrl;
}

/** Message attributes carrying what Kafka headers carry (error, attempts, topic). */
function attributes(headers: Record<string, string>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { DataType: "String", StringValue: value }]));
}

interface Clients {
  sns: SNSClient;
  sqs: SQSClient;
  arns: Record<string, string>;
  letters: Record<string, string>;
}

/** The SNS/SQS publisher: the topics' ARNs and the dead-letter queues' URLs, looked up once the
 * emulator or AWS answers. */
export class Publisher implements Sender {
  private clients: Clients | null = null;
  private readonly timeoutMs: number;

  constructor(
    private readonly address: string,
    private readonly config: Settings,
    private readonly log: FastifyBaseLogger,
    private readonly signal: AbortSignal,
  ) {
    this.timeoutMs = config.REQUEST_TIMEOUT_SECONDS * 1000;
  }

  get connected(): boolean {
    return this.clients !== null;
  }

  async connectForever(): Promise<void> {
    const backoff = new Backoff(BACKOFF_MAX_MS);
    while (!this.signal.aborted) {
      try {
        this.clients = await within(this.connect(), this.timeoutMs, "connecting");
        this.log.info("publisher connected to the broker");
        return;
      } catch (err) {
        this.log.warn({ err: String(err) }, `broker unreachable; the publisher retries in ${backoff.delay / 1000} s`);
        await backoff.wait(this.signal);
      }
    }
  }

  private async connect(): Promise<Clients> {
    // A topic's ARN is AWS's `arn:<partition>:sns:<region>:<account>:<name>`: the account is the
    // caller's (GetCallerIdentity needs no permission).
    const sts = new STSClient(awsOptions(this.config));
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    const partition = String(identity.Arn).split(":")[1] ?? "aws";
    const prefix = `arn:${partition}:sns:${this.config.AWS_REGION}:${identity.Account ?? ""}`;
    const arns = Object.fromEntries(Object.entries(names(this.config).snsTopics).map(([topic, name]) => [topic, `${prefix}:${name}`]));
    const sqs = new SQSClient(awsOptions(this.config, this.address));
    const letters: Record<string, string> = {};
    for (const [topic, name] of Object.entries(names(this.config).deadLetterQueues)) {
      letters[topic + DEAD_LETTER_SUFFIX] = await queueUrl(sqs, name);
    }
    return { sns: new SNSClient(awsOptions(this.config)), sqs, arns, letters };
  }

  async close(): Promise<void> {
    const clients = this.clients;
    this.clients = null;
    clients?.sns.destroy();
    clients?.sqs.destroy();
  }

  /** Publish one event to its SNS topic, or a dead letter to this service's dead-letter queue of
   * the topic, or throw BrokerUnavailable (within the request timeout). FIFO: the aggregate's
   * events stay in order (one message group per key). Each send has its own deduplication id:
   * SNS's five-minute deduplication is not relied on, the consumers' processed event ids are. */
  async send(topic: string, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
    const clients = this.clients;
    if (clients === null) {
      throw new BrokerUnavailable(topic);
    }
    const message = {
      MessageGroupId: key || topic,
      MessageDeduplicationId: randomUUID(),
      ...(Object.keys(headers).length > 0 ? { MessageAttributes: attributes(headers) } : {}),
    };
    const letters = clients.letters[topic];
    const arn = clients.arns[topic];
    const sent = letters !== undefined
      ? clients.sqs.send(new SendMessageCommand({ QueueUrl: letters, MessageBody: body.toString(), ...message }))
      : arn !== undefined
        ? clients.sns.send(new PublishCommand({ TopicArn: arn, Message: body.toString(), ...message }))
        : Promise.reject(new BrokerUnavailable(`${topic}: no SNS topic or dead-letter queue`));
    try {
      await within(sent, this.timeoutMs, topic);
    } catch (err) {
      sent.catch(() => undefined);
      throw err instanceof BrokerUnavailable ? err : new BrokerUnavailable(`${topic}: ${String(err)}`);
    }
  }
}

/** Long-poll one queue until `signal` stops it; throws when a receive or a delete fails. */
async function poll(sqs: SQSClient, topic: string, url: string, signal: AbortSignal, c: Consumption): Promise<void> {
  while (!signal.aborted) {
    const reply = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: RECEIVE_WAIT_SECONDS }),
      { abortSignal: signal },
    );
    for (const message of reply.Messages ?? []) {
      // Deleted only once handled, duplicate or dead-lettered: a crash before that redelivers it
      // after the visibility timeout (the queue's redrive policy dead-letters one that keeps
      // coming back), and the processed ids make it harmless.
      await c.take(topic, Buffer.from(message.Body ?? ""));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
    const waiting = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
    c.lag(topic, "0", Number(waiting.Attributes?.ApproximateNumberOfMessages ?? 0));
  }
}

/** One consumer session: one long-polling loop per consumed topic's queue; the first to fail
 * ends the session (throws), `signal` stops it. */
export async function consumeSession(address: string, config: Settings, log: FastifyBaseLogger, signal: AbortSignal, c: Consumption): Promise<void> {
  const sqs = new SQSClient(awsOptions(config, address));
  const queues = names(config).queues;
  const session = new AbortController();
  const stop = () => session.abort();
  signal.addEventListener("abort", stop, { once: true });
  try {
    const urls: Array<[string, string]> = [];
    for (const topic of c.topics) {
      urls.push([topic, await queueUrl(sqs, queues[topic] ?? "")]);
    }
    c.ready();
    log.info(`event consumer connected (${urls.length} queues)`);
    const polls = urls.map(([topic, url]) => poll(sqs, topic, url, session.signal, c));
    try {
      await Promise.all(polls);
    } catch (err) {
      if (!signal.aborted) {
        throw err;
      }
    } finally {
      session.abort();
      await Promise.allSettled(polls);
    }
  } finally {
    signal.removeEventListener("abort", stop);
    session.abort();
    sqs.destroy();
  }
}
{%- endif %}
