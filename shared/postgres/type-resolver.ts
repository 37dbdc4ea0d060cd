/**
 * Resolves column types through pg_type: domains to their base (keeping the domain), arrays to their element,
 * composites to their attributes and enums to their labels, loading whatever is missing in batched queries.
 */
import type { Client } from 'pg';
import { ValidationError } from '../errors';
import type { SourceType } from './source-table';

interface TypeRow {
  oid: number;
  schema: string;
  name: string;
  typtype: string;
  isArray: boolean;
  elem: number;
  baseType: number;
  baseTypmod: number;
  relid: number;
}

interface AttributeRow {
  name: string;
  type: number;
  typmod: number;
}

// int2vector and oidvector look like arrays in pg_type but print as space-separated lists with lower bound 0.
const VECTOR_TYPES = new Set([22, 30]);
// Composites nest only finitely in PostgreSQL; the bound stops a malformed catalog from recursing forever.
const MAX_DEPTH = 32;

/** Loads and caches catalog rows for types, then builds SourceType trees for (type oid, typmod) pairs. */
export class TypeResolver {
  private readonly types = new Map<number, TypeRow>();
  private readonly labels = new Map<number, string[]>();
  private readonly attributes = new Map<number, AttributeRow[]>();
  private readonly formatted = new Map<string, string>();

  constructor(private readonly client: Client) {}

  /** Resolves every pair (loading the catalog rows they need first); results are in input order. */
  async resolveAll(pairs: ReadonlyArray<{ type: number; typmod: number }>): Promise<SourceType[]> {
    await this.load(pairs.map((p) => p.type));
    const needed: Array<[number, number]> = [];
    for (const pair of pairs) this.collectFormats(pair.type, pair.typmod, needed, 0);
    await this.loadFormats(needed);
    return pairs.map((pair) => this.build(pair.type, pair.typmod, 0));
  }

  private async load(initial: number[]): Promise<void> {
    let pending = [...new Set(initial)].filter((oid) => !this.types.has(oid));
    while (pending.length > 0) {
      const { rows } = await this.client.query<{
        oid: string;
        schema: string;
        name: string;
        typtype: string;
        is_array: boolean;
        elem: string;
        base_type: string;
        base_typmod: number;
        relid: string;
      }>(
        `SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype,
                (t.typlen = -1 AND t.typelem <> 0 AND t.typcategory = 'A') AS is_array,
                t.typelem::int8 AS elem, t.typbasetype::int8 AS base_type, t.typtypmod AS base_typmod,
                t.typrelid::int8 AS relid
           FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE t.oid = ANY($1::oid[])`,
        [pending],
      );
      const next: number[] = [];
      const enums: number[] = [];
      const composites: number[] = [];
      for (const r of rows) {
        const row: TypeRow = {
          oid: Number(r.oid),
          schema: r.schema,
          name: r.name,
          typtype: r.typtype,
          isArray: r.is_array && !VECTOR_TYPES.has(Number(r.oid)),
          elem: Number(r.elem),
          baseType: Number(r.base_type),
          baseTypmod: r.base_typmod,
          relid: Number(r.relid),
        };
        this.types.set(row.oid, row);
        if (row.isArray) next.push(row.elem);
        if (row.typtype === 'd') next.push(row.baseType);
        if (row.typtype === 'e') enums.push(row.oid);
        if (row.typtype === 'c') composites.push(row.relid);
      }
      for (const oid of pending) if (!this.types.has(oid)) throw new ValidationError(`type oid ${oid} does not exist (dropped concurrently?)`);
      if (enums.length > 0) await this.loadEnums(enums);
      if (composites.length > 0) {
        for (const attrs of await this.loadAttributes(composites)) for (const a of attrs) next.push(a.type);
      }
      pending = [...new Set(next)].filter((oid) => !this.types.has(oid));
    }
  }

  private async loadEnums(oids: number[]): Promise<void> {
    const { rows } = await this.client.query<{ oid: string; labels: string[] }>(
      `SELECT e.enumtypid::int8 AS oid, json_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
         FROM pg_catalog.pg_enum e WHERE e.enumtypid = ANY($1::oid[]) GROUP BY e.enumtypid`,
      [oids],
    );
    for (const oid of oids) this.labels.set(oid, []);
    for (const row of rows) this.labels.set(Number(row.oid), row.labels);
  }

  private async loadAttributes(relids: number[]): Promise<AttributeRow[][]> {
    const { rows } = await this.client.query<{ relid: string; attrs: Array<{ name: string; type: number; typmod: number }> }>(
      `SELECT a.attrelid::int8 AS relid,
              json_agg(json_build_object('name', a.attname, 'type', a.atttypid::int8, 'typmod', a.atttypmod) ORDER BY a.attnum) AS attrs
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        GROUP BY a.attrelid`,
      [relids],
    );
    for (const relid of relids) this.attributes.set(relid, []);
    for (const row of rows)
      this.attributes.set(
        Number(row.relid),
        row.attrs.map((a) => ({ name: a.name, type: Number(a.type), typmod: a.typmod })),
      );
    return relids.map((relid) => this.attributes.get(relid) ?? []);
  }

  private collectFormats(oid: number, typmod: number, out: Array<[number, number]>, depth: number): void {
    if (depth > MAX_DEPTH) return;
    out.push([oid, typmod]);
    const row = this.row(oid);
    if (row.isArray) this.collectFormats(row.elem, typmod, out, depth + 1);
    else if (row.typtype === 'd') this.collectFormats(row.baseType, row.baseTypmod, out, depth + 1);
    else if (row.typtype === 'c') for (const a of this.attributes.get(row.relid) ?? []) this.collectFormats(a.type, a.typmod, out, depth + 1);
  }

  private async loadFormats(pairs: Array<[number, number]>): Promise<void> {
    const missing = pairs.filter(([oid, typmod]) => !this.formatted.has(`${oid}/${typmod}`));
    if (missing.length === 0) return;
    const { rows } = await this.client.query<{ oid: string; typmod: number; sql: string }>(
      `SELECT p.oid::int8 AS oid, p.typmod, pg_catalog.format_type(p.oid, p.typmod) AS sql
         FROM unnest($1::oid[], $2::int4[]) AS p(oid, typmod)`,
      [missing.map((p) => p[0]), missing.map((p) => p[1])],
    );
    for (const row of rows) this.formatted.set(`${row.oid}/${row.typmod}`, row.sql);
  }

  private build(oid: number, typmod: number, depth: number): SourceType {
    const row = this.row(oid);
    if (depth > MAX_DEPTH) throw new ValidationError(`type ${row.schema}.${row.name} nests deeper than ${MAX_DEPTH} levels`);
    const common = { oid, schema: row.schema, name: row.name, sql: this.formatted.get(`${oid}/${typmod}`) ?? row.name };
    // A column's typmod belongs to the element of an array type (numeric(5,2)[] stores 5,2 on the column).
    if (row.isArray) return { kind: 'array', ...common, element: this.build(row.elem, typmod, depth + 1) };
    switch (row.typtype) {
      case 'd':
        return { kind: 'domain', ...common, base: this.build(row.baseType, row.baseTypmod, depth + 1) };
      case 'e':
        return { kind: 'enum', ...common, labels: this.labels.get(oid) ?? [] };
      case 'c':
        return {
          kind: 'composite',
          ...common,
          attributes: (this.attributes.get(row.relid) ?? []).map((a) => ({ name: a.name, type: this.build(a.type, a.typmod, depth + 1) })),
        };
      default:
        return { kind: 'base', ...common, typmod, typtype: row.typtype };
    }
  }

  private row(oid: number): TypeRow {
    const row = this.types.get(oid);
    if (row === undefined) throw new ValidationError(`type oid ${oid} was not loaded`);
    return row;
  }
}
