/**
 * What the event store holds of one table, for the consistency check: every live aggregate (its last event is not
 * a deletion) with the source position of its newest event, and the store's own problems per aggregate: versions
 * with holes (they must run 1..n) and versions out of step with source positions (a later version must not come
 * from an earlier source position).
 *
 * PostgreSQL does the per-aggregate work in one ordered pass over the (aggregate_type, aggregate_id, version)
 * index, and the client reads one summary row per aggregate through a cursor, a page at a time: memory holds the
 * live map, never the events.
 */
import type { ClientBase } from 'pg';
import { type Lsn, parseLsn } from '../cdc/lsn';
import type { FanoutTable, SystemFinding, SystemInventory } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { quotedStateSchema } from '../state-db/state-schema';

/** Summary rows fetched per round trip unless told otherwise. */
const PAGE_ROWS = 10_000;

/** Options of `eventStoreInventory`. */
export interface EventInventoryOptions {
  /** Aggregates read per round trip (default 10,000). */
  pageRows?: number;
}
/** Findings listed by key; beyond it they are only counted (the figures keep the totals). */
export const MAX_LISTED_FINDINGS = 1_000;

interface AggregateRow {
  aggregate_id: string;
  events: string;
  last_version: string;
  live: boolean;
  newest_lsn: string;
  first_gap: string | null;
  first_disorder: string | null;
}

/** The inventory of `table`'s aggregates in the event store of state schema `schema`, read in a read-only transaction of its own on `client`. */
export async function eventStoreInventory(
  client: ClientBase,
  schema: string,
  table: FanoutTable,
  options: EventInventoryOptions = {},
): Promise<SystemInventory> {
  const s = quotedStateSchema(schema);
  const pageRows = options.pageRows ?? PAGE_ROWS;
  if (!Number.isSafeInteger(pageRows) || pageRows < 1) throw new RangeError('pageRows must be a whole number from 1');
  const live = new Map<string, Lsn>();
  const findings: SystemFinding[] = [];
  let newest: Lsn | undefined;
  let events = 0;
  let aggregates = 0;
  let gaps = 0;
  let disordered = 0;
  const note = (key: string, problem: string): void => {
    if (findings.length < MAX_LISTED_FINDINGS) findings.push({ key, problem });
  };
  const cursor = 'icebridge_event_inventory';
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // Per aggregate: the newest event's position and kind, and the first version where the run 1..n breaks or
    // where a version's source position is before its predecessor's.
    await client.query(
      `DECLARE ${cursor} NO SCROLL CURSOR FOR
       SELECT aggregate_id, count(*) AS events, max(version) AS last_version,
              bool_or(is_last AND NOT deleted) AS live,
              max(source_lsn) FILTER (WHERE is_last)::text AS newest_lsn,
              min(version) FILTER (WHERE version <> coalesce(previous_version, 0) + 1) AS first_gap,
              min(version) FILTER (WHERE source_lsn < previous_lsn) AS first_disorder
         FROM (SELECT aggregate_id, version, source_lsn, event_type LIKE '%Deleted' AS deleted,
                      lag(version) OVER w AS previous_version, lag(source_lsn) OVER w AS previous_lsn,
                      lead(version) OVER w IS NULL AS is_last
                 FROM ${s}.event_store WHERE aggregate_type = $1
               WINDOW w AS (PARTITION BY aggregate_id ORDER BY version)) e
        GROUP BY aggregate_id`,
      [table.entity],
    );
    for (;;) {
      const page = await client.query<AggregateRow>(`FETCH FORWARD ${pageRows} FROM ${cursor}`);
      for (const row of page.rows) {
        aggregates++;
        events += Number(row.events);
        const position = parseLsn(row.newest_lsn);
        if (newest === undefined || position > newest) newest = position;
        if (row.live) live.set(row.aggregate_id, position);
        if (row.first_gap !== null || Number(row.events) !== Number(row.last_version)) {
          gaps++;
          note(
            row.aggregate_id,
            `version gap: ${row.events} events up to version ${row.last_version}, the run 1..n breaks at version ${row.first_gap ?? row.last_version}`,
          );
        }
        if (row.first_disorder !== null) {
          disordered++;
          note(row.aggregate_id, `events out of order: version ${row.first_disorder} comes from an earlier source position than the version before it`);
        }
      }
      if (page.rows.length < pageRows) break;
    }
    await client.query(`CLOSE ${cursor}`);
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
  return {
    system: 'event-store',
    table: qualifiedName(table),
    live,
    newest,
    findings,
    figures: { events, aggregates, liveAggregates: live.size, aggregatesWithGaps: gaps, aggregatesOutOfOrder: disordered },
  };
}
