/**
 * The Kafka client icebridge uses (kafkajs): a producer that waits for every in-sync replica (acks=all) and keeps
 * one request in flight per broker, so messages of one key reach their partition in the order they were sent even
 * without the idempotent producer; topics created when missing. Errors leave here without the SASL password.
 */
import type { Admin, Kafka, KafkaConfig, Producer } from 'kafkajs';
import { errorMessage, redactSecrets } from '../errors';
import type { KafkaSettings } from './kafka-settings';

/** What every caller passes around: the settings and the kafkajs client made from them. */
export interface KafkaConnection {
  settings: KafkaSettings;
  kafka: Kafka;
}

/** Options of `connectKafka`. */
export interface KafkaClientOptions {
  /** Where kafkajs' own warnings and errors go (default: nowhere; callers report failures themselves). */
  log?: (line: string) => void;
  /** How long a connection attempt and a request may take (default 10 s and 30 s). */
  connectionTimeoutInMs?: number;
  requestTimeoutInMs?: number;
  /** Retries of one request inside kafkajs (default 5); the relay's own backoff takes over after them. */
  retries?: number;
}

/** A kafkajs client for the settings (no connection is opened until a producer, consumer or admin connects). */
export function connectKafka(settings: KafkaSettings, options: KafkaClientOptions = {}): KafkaConnection {
  const log = options.log;
  const { Kafka, logLevel } = kafkajs();
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    connectionTimeout: options.connectionTimeoutInMs ?? 10_000,
    requestTimeout: options.requestTimeoutInMs ?? 30_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 5_000 },
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    ...(log ? { logCreator: () => (entry) => log(kafkaErrorText(`${entry.namespace}: ${entry.log.message}`, settings)) } : {}),
  };
  if (settings.sasl) {
    const { mechanism, username, password } = settings.sasl;
    // kafkajs types each mechanism's options apart, so the union is narrowed one mechanism at a time.
    if (mechanism === 'plain') config.sasl = { mechanism, username, password };
    else if (mechanism === 'scram-sha-256') config.sasl = { mechanism, username, password };
    else config.sasl = { mechanism, username, password };
  }
  return { settings, kafka: new Kafka(config) };
}

/**
 * A connected producer: acks=all is passed on every send (`sendOptions`); one request in flight per broker keeps
 * per-partition order across retries when the idempotent producer is off (kafkajs retries a failed request, and a
 * second request in flight could overtake it).
 */
export async function connectProducer(connection: KafkaConnection): Promise<Producer> {
  const producer = connection.kafka.producer({
    idempotent: connection.settings.idempotent,
    maxInFlightRequests: 1,
    // murmur2 of the key, as the Java client partitions: a key lands where every other Kafka producer puts it.
    createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

/** acks=all: a send resolves only once every in-sync replica has the messages. */
export const ACKS_ALL = -1;

/** Runs `work` with a connected admin client and disconnects it, whatever happens. */
export async function withAdmin<T>(connection: KafkaConnection, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = connection.kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Makes sure `topics` exist: CreateTopics with the configured partitions for the missing ones. A cluster that does
 * not answer CreateTopics (librdkafka's mock cluster has no controller to send it to) creates a topic when its
 * metadata is first asked for, with the broker's default partition count; that is the fallback, and a topic still
 * missing after it is an error naming it.
 */
export async function ensureTopics(connection: KafkaConnection, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(connection, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: connection.settings.partitions,
          ...(connection.settings.replicationFactor ? { replicationFactor: connection.settings.replicationFactor } : {}),
        })),
      });
    } catch (error) {
      // Created by another relay at the same time, or a cluster without CreateTopics: the metadata request below
      // either finds the topic or has the broker create it.
      try {
        await admin.fetchTopicMetadata({ topics: missing });
      } catch {
        throw new Error(`cannot create Kafka topics ${missing.join(', ')}: ${kafkaErrorText(errorMessage(error), connection.settings)}`);
      }
    }
  });
}

/** `text` with the SASL password and any URL or connection-string credential replaced by `***`. */
export function kafkaErrorText(text: string, settings: Pick<KafkaSettings, 'sasl'>): string {
  let out = redactSecrets(text);
  const password = settings.sasl?.password;
  if (password) out = out.split(password).join('***');
  return out;
}

/** kafkajs, loaded when a client is first made: commands and functions that never reach Kafka do not load it. */
function kafkajs(): typeof import('kafkajs') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('kafkajs') as typeof import('kafkajs');
}
