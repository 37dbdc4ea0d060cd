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
    const { rows } = await client.query<Record<string, string | null>>(
      // The rows are picked first (a top-N sort of the plain rows) and only the picked ones are made canonical.
      canonicalRowsSql(layout, `(SELECT * FROM ${from} ORDER BY random() LIMIT ${Math.floor(count)}) AS sampled`),
    );
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

function valuesOf(layout: RowLayout, canonical: ReadonlyArray<string | null>): Record<string, string | null> {
  return Object.fromEntries(layout.columns.map((c, i) => [c.name, canonical[i] ?? null]));
}
