/**
 * The outbox relay: publishes the outbox's pending rows to Kafka, each row's event once under normal operation.
 *
 * A round claims up to `batch` due rows (outbox-claims.ts: a short transaction that leases them), sends them in one
 * acks=all request per broker, and marks them published only after the broker acknowledged every one. Several
 * relays at once never claim the same row while its lease holds, and a key's rows are in one relay's hands at a
 * time, sent in id order to one partition (the key decides it), so per-key order holds.
 *
 * Delivery is at least once: a relay that stops between the broker's acknowledgement and the mark (a crash, a lost
 * state database) leaves its rows leased; when the lease ends another relay publishes them again, with the same
 * `event-id` header, which is what consumers dedupe by. A send that fails after the broker wrote part of it does the
 * same. A failed send puts the rows back with an exponential backoff with jitter; the last attempt marks a row
 * `failed`, which holds back its key's later rows until an operator sets it back to pending.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Message, Producer } from 'kafkajs';
import { errorMessage } from '../errors';
import { EVENT_HEADERS } from '../kafka/event-headers';
import { ACKS_ALL, type KafkaConnection, connectProducer, ensureTopics, kafkaErrorText } from '../kafka/kafka-client';
import { connectPostgres } from '../postgres/connection';
import { quotedStateSchema } from '../state-db/state-schema';
import type { StateDatabaseSettings } from '../state-db/state-settings';
import { boundedText } from '../text/bounded-text';
import { type ClaimedRow, claimRows, markFailed, markPublished, trackService } from './outbox-claims';
import type { OutboxSettings } from './outbox-settings';

/** Options of `relayOutbox`. */
export interface RelayOptions {
  /** Where the outbox is: the state database and schema. */
  database: Pick<StateDatabaseSettings, 'url' | 'schema'>;
  kafka: KafkaConnection;
  settings: Pick<OutboxSettings, 'batch' | 'maxAttempts' | 'leaseInMs' | 'backoffBaseInMs' | 'backoffMaxInMs'>;
  /** Stop once nothing is due (a drain); otherwise wait `pollInMs` and look again until stopped. */
  once?: boolean;
  /** How long to wait when nothing is due (default 1 s). */
  pollInMs?: number;
  signal?: AbortSignal;
  /** Stop starting rounds after this time (ms since the epoch): the timer's bound. */
  deadline?: number;
  /** The name in service_tracking (default host:pid:random). */
  instance?: string;
  log?: (line: string) => void;
}

/** What a relay run did. */
export interface RelayResult {
  instance: string;
  /** Rows marked published. */
  published: number;
  /** Failed sends (each puts its rows back). */
  failedSends: number;
  /** Rows marked `failed` after their last attempt. */
  failed: number;
  rounds: number;
  /** Why it stopped. */
  stoppedBy: 'drained' | 'signal' | 'deadline';
  /** The last send's error, secret-free. */
  lastError?: string;
}

/** Relays pending outbox rows to Kafka until drained (`once`), stopped (`signal`) or past `deadline`. */
export async function relayOutbox(options: RelayOptions): Promise<RelayResult> {
  const schema = quotedStateSchema(options.database.schema);
  const instance = options.instance ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const result: RelayResult = { instance, published: 0, failedSends: 0, failed: 0, rounds: 0, stoppedBy: 'drained' };
  const client = await connectPostgres(options.database.url, { statementTimeoutInMs: 60_000, applicationName: 'icebridge-outbox-relay' });
  let producer: Producer | undefined;
  const knownTopics = new Set<string>();
  try {
    await trackService(client, schema, instance, 'running', figures(result));
    for (;;) {
      if (options.signal?.aborted) {
        result.stoppedBy = 'signal';
        break;
      }
      if (options.deadline !== undefined && Date.now() >= options.deadline) {
        result.stoppedBy = 'deadline';
        break;
      }
      const rows = await claimRows(client, schema, options.settings.batch, options.settings.leaseInMs);
      if (rows.length === 0) {
        if (options.once) break;
        await trackService(client, schema, instance, 'idle', figures(result));
        await pause(options.pollInMs ?? 1_000, options.signal);
        continue;
      }
      result.rounds++;
      try {
        producer ??= await connectProducer(options.kafka);
        const topics = [...new Set(rows.map((r) => r.topic))].filter((t) => !knownTopics.has(t));
        if (topics.length > 0) {
          await ensureTopics(options.kafka, topics);
          for (const t of topics) knownTopics.add(t);
        }
        await producer.sendBatch({ acks: ACKS_ALL, topicMessages: topicMessages(rows) });
      } catch (error) {
        result.failedSends++;
        const message = boundedText(kafkaErrorText(errorMessage(error), options.kafka.settings));
        result.lastError = message;
        const { tried, untried } = firstOfEachKey(rows);
        result.failed += await markFailed(client, schema, { ...options.settings, tried, untried, error: message });
        options.log?.(`outbox relay ${instance}: sending ${rows.length} row(s) failed, put back with a backoff: ${message}`);
        // A broken connection is not reused: the next round connects again.
        await producer?.disconnect().catch(() => undefined);
        producer = undefined;
        await trackService(client, schema, instance, 'failing', figures(result));
        continue;
      }
      result.published += await markPublished(
        client,
        schema,
        rows.map((r) => r.id),
      );
      await trackService(client, schema, instance, 'running', figures(result));
    }
    await trackService(client, schema, instance, 'stopped', figures(result));
    return result;
  } finally {
    await producer?.disconnect().catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** The Kafka messages of claimed rows, per topic in id order; the event's own headers override the row's. */
export function topicMessages(rows: readonly ClaimedRow[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const row of rows) {
    const headers: Record<string, string> = { ...row.headers, [EVENT_HEADERS.eventId]: row.eventId };
    if (row.event) {
      headers[EVENT_HEADERS.eventType] = row.event.type;
      headers[EVENT_HEADERS.aggregateType] = row.event.aggregateType;
      headers[EVENT_HEADERS.aggregateId] = row.event.aggregateId;
      headers[EVENT_HEADERS.version] = row.event.version;
      headers[EVENT_HEADERS.sourceLsn] = row.event.sourceLsn;
    }
    let messages = byTopic.get(row.topic);
    if (!messages) byTopic.set(row.topic, (messages = []));
    messages.push({ key: row.messageKey, value: row.payload, headers });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** The first row of each key (tried) and the rest (untried), of a claim in id order. */
function firstOfEachKey(rows: readonly ClaimedRow[]): { tried: string[]; untried: string[] } {
  const seen = new Set<string>();
  const tried: string[] = [];
  const untried: string[] = [];
  for (const row of rows) {
    const key = JSON.stringify([row.topic, row.messageKey]);
    if (seen.has(key)) untried.push(row.id);
    else {
      seen.add(key);
      tried.push(row.id);
    }
  }
  return { tried, untried };
}

function figures(result: RelayResult): Record<string, unknown> {
  return {
    published: result.published,
    failedSends: result.failedSends,
    failed: result.failed,
    rounds: result.rounds,
    ...(result.lastError ? { lastError: result.lastError } : {}),
  };
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
