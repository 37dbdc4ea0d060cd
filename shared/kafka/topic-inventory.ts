/**
 * What Kafka holds of one fanned-out table, for the consistency check: the topic read end to end (from the low to
 * the high watermark of every partition, the high watermarks taken when the read starts, so the answer is exact
 * for that moment whatever producers do meanwhile), each key's events checked in partition order.
 *
 * A key is live when its last event is not a deletion; its position is that event's source LSN. Findings name the
 * key: versions missing (a gap, or a first version above 1), a version at or below one already seen (out of
 * order), one key in two partitions. The same event id seen again is the relay's at-least-once redelivery: counted
 * as a duplicate, not a finding. Memory: one entry per key and one per event id read.
 */
import type { Lsn } from '../cdc/lsn';
import { parseLsn } from '../cdc/lsn';
import type { FanoutTable, SystemFinding, SystemInventory } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { EVENT_HEADERS } from './event-headers';
import type { KafkaConnection } from './kafka-client';
import { type TopicMessage, readTopic } from './topic-reader';

/** Options of `topicInventory`. */
export interface TopicInventoryOptions {
  /** The topic holding the table's events. */
  topic: string;
  /** Count only messages whose `aggregate-type` header is this (a topic shared by several tables); default: all. */
  aggregateType?: string;
  /** Whether an event type ends its aggregate (default: a type ending in `Deleted`); a tombstone always does. */
  isDeletion?: (eventType: string) => boolean;
  signal?: AbortSignal;
}

interface KeyState {
  partition: number;
  version: number;
  lsn: Lsn;
  deleted: boolean;
}

/** Findings past this many are counted, not listed: a broken topic must not make the report unbounded. */
const FINDINGS_LISTED = 1_000;

/** The inventory (system `kafka`) of `table` in `options.topic`. */
export async function topicInventory(connection: KafkaConnection, table: FanoutTable, options: TopicInventoryOptions): Promise<SystemInventory> {
  const isDeletion = options.isDeletion ?? ((type: string) => /Deleted$/.test(type));
  const keys = new Map<string, KeyState>();
  const eventIds = new Set<string>();
  const findings: SystemFinding[] = [];
  let unlisted = 0;
  const find = (key: string, problem: string): void => {
    if (findings.length < FINDINGS_LISTED) findings.push({ key, problem });
    else unlisted++;
  };
  let newest: Lsn | undefined;
  let messages = 0;
  let duplicates = 0;
  let otherMessages = 0;

  const onMessage = (m: TopicMessage): void => {
    const where = `partition ${m.partition} offset ${m.offset}`;
    const h = m.headers;
    if (options.aggregateType !== undefined && h[EVENT_HEADERS.aggregateType] !== options.aggregateType) {
      otherMessages++;
      return;
    }
    messages++;
    const key = h[EVENT_HEADERS.aggregateId] ?? m.key ?? '';
    const eventId = h[EVENT_HEADERS.eventId];
    if (eventId !== undefined) {
      if (eventIds.has(eventId)) {
        duplicates++;
        return;
      }
      eventIds.add(eventId);
    }
    const versionText = h[EVENT_HEADERS.version];
    const lsnText = h[EVENT_HEADERS.sourceLsn];
    if (versionText === undefined || !/^\d+$/.test(versionText) || lsnText === undefined) {
      find(key, `the message at ${where} has no ${EVENT_HEADERS.version} or ${EVENT_HEADERS.sourceLsn} header`);
      return;
    }
    const version = Number(versionText);
    const lsn = parseLsn(lsnText);
    if (newest === undefined || lsn > newest) newest = lsn;
    const deleted = m.value === null || isDeletion(h[EVENT_HEADERS.eventType] ?? '');
    const before = keys.get(key);
    if (before === undefined) {
      if (version > 1) find(key, `versions 1 to ${version - 1} are missing: the first event read is version ${version} (${where})`);
      keys.set(key, { partition: m.partition, version, lsn, deleted });
      return;
    }
    if (before.partition !== m.partition) {
      find(key, `events in partitions ${before.partition} and ${m.partition}: their order is not kept (${where})`);
    }
    if (version === before.version + 1) {
      // In order.
    } else if (version > before.version + 1) {
      find(key, `versions ${before.version + 1} to ${version - 1} are missing between version ${before.version} and ${version} (${where})`);
    } else {
      find(key, `version ${version} comes after version ${before.version}: out of order (${where})`);
    }
    keys.set(key, { partition: m.partition, version: Math.max(version, before.version), lsn, deleted });
  };

  const watermarks = await readTopic(connection, options.topic, onMessage, options.signal ? { signal: options.signal } : {});
  const live = new Map<string, Lsn>();
  for (const [key, state] of keys) if (!state.deleted) live.set(key, state.lsn);
  if (unlisted > 0) findings.push({ key: '', problem: `${unlisted} more finding(s) not listed` });
  return {
    system: 'kafka',
    table: qualifiedName(table),
    live,
    newest,
    findings,
    figures: {
      topic: options.topic,
      partitions: watermarks.length,
      messages,
      duplicates,
      keys: keys.size,
      deletedKeys: keys.size - live.size,
      ...(options.aggregateType !== undefined ? { otherMessages } : {}),
      lowWatermarks: watermarks.map((w) => `${w.partition}:${w.low}`).join(','),
      highWatermarks: watermarks.map((w) => `${w.partition}:${w.high}`).join(','),
    },
  };
}
