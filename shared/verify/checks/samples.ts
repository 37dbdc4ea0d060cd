/**
 * Samples: random rows chosen by PostgreSQL, shown beside the Iceberg side's row of the same key (the same
 * row text for a keyless table), as canonical texts, for a person to eyeball.
 */
import type { Client } from 'pg';
import { boundedHex, boundedText } from '../../text/bounded-text';
import type { Row, Value } from '../../iceberg/spec/values';
import { CanonicalRows, canonicalFormatter, jsonArray } from '../canonical/canonical-text';
import type { SampleRow } from '../contracts';
import { ROW_KEY, type RowLayout, type RowSource, keyRecord, shownRowsSql } from './row-check';

/** The probe of a NULL key: a NUL character, which no PostgreSQL text holds. */
const NULL_PROBE = '\u0000';
/** The probe of a row whose integer key is plainly not sampled (no key's text is empty). */
const NOT_SAMPLED = '';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Samples being matched against the Iceberg side. */
export class SampleSet {
  private readonly targets = new Map<string, Record<string, string | null>>();
  private readonly wanted: Set<string>;
  private readonly canonical: CanonicalRows;
  /** Each column's value as shown (bounded-text.ts), null for null. */
  private readonly shown: Array<(value: Value) => string | null>;
  /** The text a row is matched by: its key's canonical text (a JSON array of them for a key of several columns) or, keyless, its row text. */
  private readonly probe: (row: Row) => string;

  private constructor(
    private readonly layout: RowLayout,
    private readonly sources: Array<{ probe: string; key: Record<string, string | null>; values: Record<string, string | null> }>,
  ) {
    this.wanted = new Set(sources.map((s) => s.probe));
    this.canonical = new CanonicalRows(layout.columns.map((c) => c.type));
    // A binary value is shown from its bytes: no hex text of a long one is made whole.
    this.shown = layout.columns.map((c) => {
      const format = canonicalFormatter(c.type);
      const bytes = c.type === 'binary' || (typeof c.type === 'string' && c.type.startsWith('fixed'));
      return (v: Value) => {
        if (bytes && v instanceof Uint8Array) return boundedHex(v);
        const text = format(v);
        return text === null ? null : boundedText(text);
      };
    });
    const keys = layout.keyIndexes;
    const keyType = keys.length === 1 ? layout.columns[keys[0]!]!.type : undefined;
    if (keyType === 'int' || keyType === 'long') {
      // An integer key is matched by its value first: no text is made for the rows that are not sampled.
      const format = canonicalFormatter(keyType);
      const numbers = new Set([...this.wanted].map(Number).filter(Number.isSafeInteger));
      this.probe = (row) => {
        const value = row[keys[0]!] ?? null;
        if (
          typeof value === 'bigint' ? value <= MAX_SAFE && value >= -MAX_SAFE && !numbers.has(Number(value)) : typeof value === 'number' && !numbers.has(value)
        )
          return NOT_SAMPLED;
        return format(value) ?? NULL_PROBE;
      };
    } else if (keyType !== undefined) {
      // Probes are shown texts, as PostgreSQL's picked rows come (bounded-text.ts).
      const format = canonicalFormatter(keyType);
      this.probe = (row) => {
        const text = format(row[keys[0]!] ?? null);
        return text === null ? NULL_PROBE : boundedText(text);
      };
    } else {
      const formats = keys.map((i) => canonicalFormatter(layout.columns[i]!.type));
      this.probe =
        keys.length === 0
          ? (row) => boundedText(this.canonical.text(this.canonical.values(row)))
          : (row) => boundedText(jsonArray(keys.map((i, j) => formats[j]!(row[i] ?? null))));
    }
  }

  /** Picks `count` random rows of `source` in PostgreSQL. */
  static async pick(client: Client, layout: RowLayout, source: RowSource, count: number): Promise<SampleSet> {
    if (count <= 0) return new SampleSet(layout, []);
    const n = Math.floor(count);
    const where = source.where === undefined ? '' : ` WHERE ${source.where}`;
    const pickFrom = async (rows: string): Promise<Array<Record<string, string | null>>> =>
      (
        await client.query<Record<string, string | null>>(
          // The rows are picked first (a top-N sort of the plain rows) and only the picked ones are made canonical.
          shownRowsSql(layout, `(SELECT * FROM ${rows}${where} ORDER BY random() LIMIT ${n}) AS sampled`),
          [...source.params],
        )
      ).rows;
    // A big table is sampled by pages first (TABLESAMPLE SYSTEM reads only those): ORDER BY random() over every
    // row cost a full scan, about a second per 2,000,000 rows, for five rows to look at. A short sample is
    // sampled again with ten times the pages before every row is read.
    const percent = await samplePercent(client, source, n);
    const percents = percent === undefined ? [] : [percent, ...(percent * 10 < MAX_PAGE_PERCENT ? [percent * 10] : [])];
    let rows: Array<Record<string, string | null>> = [];
    for (const p of percents) if (rows.length < n) rows = await pickFrom(`${source.relation} TABLESAMPLE SYSTEM (${p})`);
    if (rows.length < n) rows = await pickFrom(source.relation);
    const keys = layout.keyIndexes;
    return new SampleSet(
      layout,
      rows.map((r) => {
        const canonical = layout.columns.map((_c, i) => r[`c${i}`] ?? null);
        const probe = keys.length === 1 ? (canonical[keys[0]!] ?? NULL_PROBE) : r.kt!;
        return { probe, key: keyRecord(layout, canonical, r.rt!), values: valuesOf(layout, canonical) };
      }),
    );
  }

  /**
   * The samples another activity picked (their source side, as rows() gave them), to be matched against this
   * activity's share of the Iceberg side: a table split into scan ranges picks its samples once, and every
   * range looks for them in its own data files.
   */
  static of(layout: RowLayout, picked: readonly SampleRow[]): SampleSet {
    const keys = layout.keyIndexes;
    const names = keys.map((i) => layout.columns[i]!.name);
    // The probe pick() matched by, rebuilt from the key shown: a composite key's probe is the JSON array of its
    // shown values, which is the picked row's key text whenever no key value was long enough to be cut.
    const probeOf = (key: Record<string, string | null>): string => {
      if (keys.length === 0) return key[ROW_KEY] ?? NULL_PROBE;
      if (keys.length === 1) return key[names[0]!] ?? NULL_PROBE;
      return boundedText(jsonArray(names.map((n) => key[n] ?? null)));
    };
    return new SampleSet(
      layout,
      picked.map((s) => ({ probe: probeOf(s.key), key: s.key, values: s.source ?? {} })),
    );
  }

  /** The Iceberg side's row of each sample, in the samples' order (null where this read did not meet it). */
  targetRows(): Array<Record<string, string | null> | null> {
    return this.sources.map((s) => this.targets.get(s.probe) ?? null);
  }

  /** Offers one Iceberg row as our reader returns it; kept when it is the first with a sampled key. */
  offer(row: Row): void {
    if (this.targets.size === this.wanted.size) return;
    const probe = this.probe(row);
    if (this.targets.has(probe) || !this.wanted.has(probe)) return;
    this.targets.set(
      probe,
      valuesOf(
        this.layout,
        this.shown.map((show, i) => show(row[i] ?? null)),
      ),
    );
  }

  /** Both sides side by side. */
  rows(): SampleRow[] {
    return this.sources.map((s) => ({ key: s.key, source: s.values, target: this.targets.get(s.probe) ?? null }));
  }
}

/** Tables from this many estimated rows on are sampled by pages. */
const PAGE_SAMPLING_ROWS = 100_000;
/** Rows the page sample aims at per row picked, so a short sample is rare. */
const SAMPLED_PER_PICKED = 200;

/** Pages are sampled below this percentage only: from there on, reading the rows (of a range: by its key) costs about as much. */
const MAX_PAGE_PERCENT = 10;

/**
 * The TABLESAMPLE percentage for `source` when its relation is one big enough table, else undefined: the share of
 * pages whose rows hold about SAMPLED_PER_PICKED × `count` of the rows `source` keeps. A key range's rows are a
 * share of the table's (its estimate), and a page sample of the whole table keeps only that share of its rows.
 */
async function samplePercent(client: Client, source: RowSource, count: number): Promise<number | undefined> {
  const relation = /^(?:ONLY )?("(?:[^"]|"")+"\."(?:[^"]|"")+")$/.exec(source.relation)?.[1];
  if (relation === undefined) return undefined;
  // to_regclass, not ::regclass: a failed cast would abort the snapshot transaction every other check runs in.
  const { rows } = await client.query<{ n: number | null }>(
    'SELECT c.reltuples::float8 AS n FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)',
    [relation],
  );
  const estimate = rows[0]?.n ?? 0;
  if (estimate < PAGE_SAMPLING_ROWS) return undefined;
  const kept = source.estimatedRows === undefined ? estimate : Math.max(1, Math.min(estimate, source.estimatedRows));
  const percent = (100 * count * SAMPLED_PER_PICKED) / kept;
  return percent < MAX_PAGE_PERCENT ? percent : undefined;
}

function valuesOf(layout: RowLayout, canonical: ReadonlyArray<string | null>): Record<string, string | null> {
  return Object.fromEntries(layout.columns.map((c, i) => [c.name, canonical[i] ?? null]));
}
