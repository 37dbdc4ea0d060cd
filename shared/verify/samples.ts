/**
 * Samples: random rows chosen by PostgreSQL, shown beside the Iceberg side's row of the same key (the same
 * row text for a keyless table), as canonical texts, for a person to eyeball.
 */
import type { Client } from 'pg';
import type { SampleRow } from './contracts';
import { type RowLayout, canonicalRowsSql, keyRecord, keyTextOf } from './row-check';

/** Samples being matched against the Iceberg side. */
export class SampleSet {
  private readonly targets = new Map<string, Record<string, string | null>>();
  private readonly wanted: Set<string>;

  private constructor(private readonly layout: RowLayout, private readonly sources: Array<{ keyText: string; key: Record<string, string | null>; values: Record<string, string | null> }>) {
    this.wanted = new Set(sources.map((s) => s.keyText));
  }

  /** Picks `count` random rows in PostgreSQL. */
  static async pick(client: Client, layout: RowLayout, from: string, count: number): Promise<SampleSet> {
    if (count <= 0) return new SampleSet(layout, []);
    const n = Math.floor(count);
    const pickFrom = async (source: string): Promise<Array<Record<string, string | null>>> => (await client.query<Record<string, string | null>>(
      // The rows are picked first (a top-N sort of the plain rows) and only the picked ones are made canonical.
      canonicalRowsSql(layout, `(SELECT * FROM ${source} ORDER BY random() LIMIT ${n}) AS sampled`),
    )).rows;
    // A big table is sampled by pages first (TABLESAMPLE SYSTEM reads only those): ORDER BY random() over every
    // row cost a full scan, about a second per 2,000,000 rows, for five rows to look at.
    const percent = await samplePercent(client, from, n);
    let rows = percent === undefined ? [] : await pickFrom(`${from} TABLESAMPLE SYSTEM (${percent})`);
    if (rows.length < n) rows = await pickFrom(from);
    return new SampleSet(layout, rows.map((r) => {
      const canonical = layout.columns.map((_c, i) => r[`c${i}`] ?? null);
      return { keyText: r.kt!, key: keyRecord(layout, canonical, r.rt!), values: valuesOf(layout, canonical) };
    }));
  }

  /** Offers one Iceberg row; kept when it is the first with a sampled key. */
  offer(canonical: ReadonlyArray<string | null>, rowText: string): void {
    if (this.wanted.size === 0) return;
    const keyText = keyTextOf(this.layout, canonical, rowText);
    if (this.targets.has(keyText) || !this.wanted.has(keyText)) return;
    this.targets.set(keyText, valuesOf(this.layout, canonical));
  }

  /** Both sides side by side. */
  rows(): SampleRow[] {
    return this.sources.map((s) => ({ key: s.key, source: s.values, target: this.targets.get(s.keyText) ?? null }));
  }
}

/** Tables from this many estimated rows on are sampled by pages. */
const PAGE_SAMPLING_ROWS = 100_000;
/** Rows the page sample aims at per row picked, so a short sample is rare. */
const SAMPLED_PER_PICKED = 200;

/** The TABLESAMPLE percentage for `from` when it names one big enough table, else undefined. */
async function samplePercent(client: Client, from: string, count: number): Promise<number | undefined> {
  const relation = /^(?:ONLY )?("(?:[^"]|"")+"\."(?:[^"]|"")+")$/.exec(from)?.[1];
  if (relation === undefined) return undefined;
  // to_regclass, not ::regclass: a failed cast would abort the snapshot transaction every other check runs in.
  const { rows } = await client.query<{ n: number | null }>('SELECT c.reltuples::float8 AS n FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)', [relation]);
  const estimate = rows[0]?.n ?? 0;
  if (estimate < PAGE_SAMPLING_ROWS) return undefined;
  return Math.min(100, (100 * count * SAMPLED_PER_PICKED) / estimate);
}

function valuesOf(layout: RowLayout, canonical: ReadonlyArray<string | null>): Record<string, string | null> {
  return Object.fromEntries(layout.columns.map((c, i) => [c.name, canonical[i] ?? null]));
}
