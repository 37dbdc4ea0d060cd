/** What the outbox holds: rows by topic and status, the oldest pending row's age, and keys held back by a failed row. */
import type { Client } from 'pg';
import { quotedStateSchema } from '../state-db/state-schema';

/** One topic's counts. */
export interface TopicStatus {
  topic: string;
  pending: number;
  published: number;
  failed: number;
  /** Seconds since the oldest pending row was written (0 without pending rows). */
  oldestPendingSeconds: number;
  /** Keys whose oldest unpublished row is `failed`: their later rows wait for it. */
  blockedKeys: number;
}

/** The outbox's status per topic, topics in name order. */
export async function outboxStatus(client: Client, schema: string): Promise<TopicStatus[]> {
  const s = quotedStateSchema(schema);
  const result = await client.query<{ topic: string; pending: string; published: string; failed: string; oldest: string | null; blocked: string }>(
    `WITH heads AS (
       SELECT DISTINCT ON (topic, message_key) topic, status FROM ${s}.outbox WHERE status <> 'published' ORDER BY topic, message_key, id)
     SELECT o.topic,
            count(*) FILTER (WHERE o.status = 'pending')::text AS pending,
            count(*) FILTER (WHERE o.status = 'published')::text AS published,
            count(*) FILTER (WHERE o.status = 'failed')::text AS failed,
            extract(epoch FROM now() - min(o.created_at) FILTER (WHERE o.status = 'pending'))::text AS oldest,
            (SELECT count(*) FROM heads h WHERE h.topic = o.topic AND h.status = 'failed')::text AS blocked
     FROM ${s}.outbox o GROUP BY o.topic ORDER BY o.topic`,
  );
  return result.rows.map((r) => ({
    topic: r.topic,
    pending: Number(r.pending),
    published: Number(r.published),
    failed: Number(r.failed),
    oldestPendingSeconds: r.oldest === null ? 0 : Math.max(0, Math.round(Number(r.oldest))),
    blockedKeys: Number(r.blocked),
  }));
}
