/**
 * The outbox rows' life cycle in SQL: claim (a short transaction: lock due rows with FOR UPDATE SKIP LOCKED, lease
 * them and count the attempt, commit), then after the broker's answer mark them published, or put them back with
 * a backoff (or `failed` after the last attempt).
 *
 * Per-key order: only the oldest unpublished row of a (topic, message_key), its head, can start a claim, and the
 * claim takes the key's next pending rows with it. A key's rows are therefore in one relay's hands at a time: the
 * head is locked or leased, and every later row is either in the same claim or has an unpublished older row.
 * A `failed` row stays the head of its key, so the key's later rows wait (never published out of order) until an
 * operator sets it back to pending. Order is the outbox id's order: writers of one key commit in id order (the
 * event store's per-aggregate version makes them take turns).
 */
import type { Client } from 'pg';

/** A claimed row, with the headers its event gives it. */
export interface ClaimedRow {
  /** The outbox id (a decimal string: the column is 64-bit). */
  id: string;
  eventId: string;
  topic: string;
  messageKey: string;
  /** The payload as PostgreSQL's JSON text: numbers keep every digit. */
  payload: string;
  /** The row's own headers, as text. */
  headers: Record<string, string>;
  /** Attempts including this one. */
  attempts: number;
  event: { type: string; aggregateType: string; aggregateId: string; version: string; sourceLsn: string } | undefined;
}

/** Claims up to `limit` rows due now for `leaseInMs`; answers them in id order (an empty list: nothing due). */
export async function claimRows(client: Client, schema: string, limit: number, leaseInMs: number): Promise<ClaimedRow[]> {
  await client.query('BEGIN');
  try {
    const heads = await client.query<{ id: string }>(
      `WITH heads AS (
         SELECT DISTINCT ON (topic, message_key) id FROM ${schema}.outbox
         WHERE status <> 'published' ORDER BY topic, message_key, id)
       SELECT o.id FROM ${schema}.outbox o JOIN heads h ON h.id = o.id
       WHERE o.status = 'pending' AND o.next_attempt_at <= now()
       ORDER BY o.next_attempt_at, o.id
       LIMIT $1
       FOR UPDATE OF o SKIP LOCKED`,
      [limit],
    );
    if (heads.rows.length === 0) {
      await client.query('COMMIT');
      return [];
    }
    const headIds = heads.rows.map((r) => r.id);
    // Cutting the followers in id order takes a prefix of each key's pending rows: never one without the rows before it.
    const followers = await client.query<{ id: string }>(
      `SELECT f.id FROM ${schema}.outbox f
       JOIN ${schema}.outbox h ON h.id = ANY($1::bigint[]) AND f.topic = h.topic AND f.message_key = h.message_key AND f.id > h.id
       WHERE f.status = 'pending'
       ORDER BY f.id
       LIMIT $2
       FOR UPDATE OF f`,
      [headIds, Math.max(0, limit - headIds.length)],
    );
    const ids = [...headIds, ...followers.rows.map((r) => r.id)];
    const claimed = await client.query<{
      id: string;
      event_id: string;
      topic: string;
      message_key: string;
      payload: string;
      headers: string;
      attempts: number;
      event_type: string | null;
      aggregate_type: string | null;
      aggregate_id: string | null;
      version: string | null;
      source_lsn: string | null;
    }>(
      `WITH claimed AS (
         UPDATE ${schema}.outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         WHERE id = ANY($1::bigint[])
         RETURNING id, event_id, topic, message_key, payload, headers, attempts)
       SELECT c.id::text, c.event_id::text, c.topic, c.message_key, c.payload::text AS payload, c.attempts,
              (SELECT coalesce(json_agg(json_build_array(h.key, CASE WHEN jsonb_typeof(h.value) = 'string' THEN h.value #>> '{}' ELSE h.value::text END)), '[]')::text
               FROM jsonb_each(CASE WHEN jsonb_typeof(c.headers) = 'object' THEN c.headers ELSE '{}'::jsonb END) h
               WHERE jsonb_typeof(h.value) <> 'null') AS headers,
              e.event_type, e.aggregate_type, e.aggregate_id, e.version::text AS version, e.source_lsn::text AS source_lsn
       FROM claimed c LEFT JOIN ${schema}.event_store e ON e.id = c.event_id
       ORDER BY c.id`,
      [ids, leaseInMs],
    );
    await client.query('COMMIT');
    return claimed.rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      topic: r.topic,
      messageKey: r.message_key,
      payload: r.payload,
      headers: headerTexts(r.headers),
      attempts: r.attempts,
      event:
        r.event_type === null
          ? undefined
          : { type: r.event_type, aggregateType: r.aggregate_type!, aggregateId: r.aggregate_id!, version: r.version!, sourceLsn: r.source_lsn! },
    }));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Marks rows published (the broker acknowledged them); answers how many were still pending. */
export async function markPublished(client: Client, schema: string, ids: readonly string[]): Promise<number> {
  const result = await client.query(
    `UPDATE ${schema}.outbox SET status = 'published', published_at = now(), last_error = NULL
     WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
    [ids],
  );
  return result.rowCount ?? 0;
}

/** How a failed publish puts rows back. */
export interface FailedPublish {
  /** The rows that were tried: the first claimed row of each key in the failed send. */
  tried: readonly string[];
  /** Later rows of the same keys: given back untried (their attempt is not counted) so a key's order holds. */
  untried: readonly string[];
  /** Secret-free, bounded. */
  error: string;
  maxAttempts: number;
  backoffBaseInMs: number;
  backoffMaxInMs: number;
}

/**
 * Puts rows of a failed send back: the tried ones due again after an exponential backoff with jitter (`failed`
 * after the last attempt), the untried ones due now. Answers how many became `failed`.
 */
export async function markFailed(client: Client, schema: string, failure: FailedPublish): Promise<number> {
  await client.query('BEGIN');
  try {
    const tried = await client.query<{ status: string }>(
      `UPDATE ${schema}.outbox SET
         status = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'pending' END,
         last_error = $3,
         next_attempt_at = now() + make_interval(secs => least($5::double precision, $4::double precision * power(2, greatest(attempts - 1, 0)))
                                                        * (0.5 + random() / 2) / 1000)
       WHERE id = ANY($1::bigint[]) AND status = 'pending'
       RETURNING status`,
      [failure.tried, failure.maxAttempts, failure.error, failure.backoffBaseInMs, failure.backoffMaxInMs],
    );
    await client.query(
      `UPDATE ${schema}.outbox SET attempts = greatest(attempts - 1, 0), next_attempt_at = now()
       WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
      [failure.untried],
    );
    await client.query('COMMIT');
    return tried.rows.filter((r) => r.status === 'failed').length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Records that a relay instance is alive (or stopped) and where it stands, in service_tracking. */
export async function trackService(client: Client, schema: string, instance: string, status: string, detail: Record<string, unknown>): Promise<void> {
  await client.query(
    `INSERT INTO ${schema}.service_tracking (service, instance, last_seen_at, status, detail) VALUES ('outbox-relay', $1, now(), $2, $3::jsonb)
     ON CONFLICT (service, instance) DO UPDATE SET last_seen_at = now(), status = excluded.status, detail = excluded.detail`,
    [instance, status, JSON.stringify(detail)],
  );
}

// PostgreSQL turns each header into text (a non-text value into its exact JSON text), so no number is parsed here.
function headerTexts(json: string): Record<string, string> {
  const pairs = JSON.parse(json) as [string, string][];
  return Object.fromEntries(pairs);
}
