/** Outbox rows for the Kafka tests: events in event_store and their outbox rows, keys interleaved as a feed writes them. */
import type { Client } from 'pg';
import { formatLsn } from '../../shared/cdc/lsn';
import { uuidV5 } from '../../shared/fanout/identity';
import { quotedStateSchema } from '../../shared/state-db/state-schema';

/** One event of a fixture. */
export interface FixtureEvent {
  eventId: string;
  key: string;
  version: number;
  lsn: bigint;
  type: string;
}

/** Options of `insertOutboxRows`. */
export interface OutboxFixture {
  schema: string;
  topic: string;
  keys: number;
  versions: number;
  /** The aggregate type (default `Film`). */
  aggregateType?: string;
  /** Event type of a key's last version (default `<type>Updated`, `<type>Created` for version 1). */
  lastType?: (key: string) => string;
  /** A text distinguishing fixtures in one database (event ids differ). */
  label?: string;
}

/**
 * Inserts `keys` x `versions` events and their outbox rows, version by version (every key's version 1, then every
 * key's version 2, ...), so the ids of one key's rows interleave with other keys'. Answers the events in id order.
 */
export async function insertOutboxRows(client: Client, fixture: OutboxFixture): Promise<FixtureEvent[]> {
  const s = quotedStateSchema(fixture.schema);
  const type = fixture.aggregateType ?? 'Film';
  const events: FixtureEvent[] = [];
  for (let version = 1; version <= fixture.versions; version++) {
    for (let k = 0; k < fixture.keys; k++) {
      const key = String(k + 1);
      const lsn = BigInt(version * 1_000_000 + k);
      const last = version === fixture.versions && fixture.lastType ? fixture.lastType(key) : version === 1 ? `${type}Created` : `${type}Updated`;
      events.push({ eventId: uuidV5(JSON.stringify([fixture.label ?? fixture.topic, key, version])), key, version, lsn, type: last });
    }
  }
  const chunk = 5_000;
  for (let at = 0; at < events.length; at += chunk) {
    const part = events.slice(at, at + chunk);
    await client.query(
      `INSERT INTO ${s}.event_store (id, aggregate_type, aggregate_id, event_type, version, data, source_lsn)
       SELECT id, $2, aggregate_id, event_type, version, jsonb_build_object('key', aggregate_id, 'version', version, 'big', 12345678901234567890), lsn
       FROM unnest($1::uuid[], $3::text[], $4::text[], $5::bigint[], $6::pg_lsn[]) AS e(id, aggregate_id, event_type, version, lsn)`,
      [part.map((e) => e.eventId), type, part.map((e) => e.key), part.map((e) => e.type), part.map((e) => e.version), part.map((e) => formatLsn(e.lsn))],
    );
    await client.query(
      `INSERT INTO ${s}.outbox (event_id, topic, message_key, payload, headers)
       SELECT e.id, $2, e.aggregate_id, e.data, jsonb_build_object('source', 'fixture')
       FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n) JOIN ${s}.event_store e ON e.id = u.id
       ORDER BY u.n`,
      [part.map((e) => e.eventId), fixture.topic],
    );
  }
  return events;
}
