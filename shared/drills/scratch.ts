/**
 * The scratch objects of a drill: a PostgreSQL schema `icebridge_drill_<stamp>` and the Iceberg namespace of the
 * same name, both made by the drill and refused when they exist already, so removing them can only remove what the
 * drill itself made. Removal drops the schema (resolved in pg_catalog first), purges every table of the namespace
 * with its audit entries, deletes whatever files remain under the namespace and the drill's run markers.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { ValidationError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { quoteIdent, quoteQualified } from '../postgres/identifiers';
import { TableAuditTrail } from '../restore/table-audit';
import { type RunEnvironment, withSource } from '../run/environment';

/** Every scratch name starts so; cleanup refuses any other name. */
export const SCRATCH_PREFIX = 'icebridge_drill_';

/** A drill's scratch schema and namespace (the same name), and the migration runs it made. */
export interface Scratch {
  /** The PostgreSQL schema and the Iceberg namespace's only level. */
  name: string;
  /** Run ids of the migrations the drill started: their markers under `.icebridge/runs/` go with the scratch. */
  runs: string[];
}

/** A fresh scratch name: the time to the second and random bits, so drills run at once never share one. */
export function scratchName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${SCRATCH_PREFIX}${stamp}_${randomBytes(3).toString('hex')}`;
}

/** Creates the schema; refuses a namespace that already holds tables (it would not be the drill's to remove). */
export async function createScratch(env: RunEnvironment, name: string): Promise<Scratch> {
  checkScratchName(name);
  const existing = await env.catalog.listTables([name]);
  if (existing.length > 0) throw new ValidationError(`the Iceberg namespace ${name} already holds tables: not a drill's to use`);
  // No IF NOT EXISTS: a schema of that name that exists already is not ours, and CREATE fails on it.
  await withSource(env, (client) => client.query(`CREATE SCHEMA ${quoteIdent(name)}`));
  return { name, runs: [] };
}

/** Runs SQL in the scratch schema (search_path set to it only), for the drill's own tables. */
export async function inScratch<T>(env: RunEnvironment, scratch: Scratch, fn: (client: Client, table: (name: string) => string) => Promise<T>): Promise<T> {
  return withSource(env, async (client) => {
    await client.query('SELECT pg_catalog.set_config($1, $2, false)', ['search_path', quoteIdent(scratch.name)]);
    return fn(client, (table) => quoteQualified(scratch.name, table));
  });
}

/** What removing the scratch found and removed. */
export interface ScratchRemoval {
  schemaDropped: boolean;
  tablesDropped: number;
  filesDeleted: number;
}

/** Removes the scratch schema, namespace, table audit entries and run markers; what is already gone is skipped. */
export async function removeScratch(env: RunEnvironment, scratch: Scratch): Promise<ScratchRemoval> {
  checkScratchName(scratch.name);
  const schemaDropped = await withSource(env, async (client) => {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = $1', [scratch.name]);
    if (rows.length === 0) return false;
    await client.query(`DROP SCHEMA ${quoteIdent(rows[0]!.nspname)} CASCADE`);
    return true;
  });
  const catalog = env.catalog;
  const tables = await catalog.listTables([scratch.name]);
  let filesDeleted = 0;
  for (const table of tables) {
    await catalog.dropTable(table, { purge: true });
    filesDeleted += await deleteUnder(catalog, `${new TableAuditTrail(catalog, table).location}/`);
  }
  filesDeleted += await deleteUnder(catalog, namespacePrefix(catalog, scratch.name));
  for (const runId of scratch.runs) filesDeleted += await deleteUnder(catalog, `${catalog.tableLocation({ namespace: ['.icebridge', 'runs'], name: runId })}/`);
  return { schemaDropped, tablesDropped: tables.length, filesDeleted };
}

/** The location every table of the namespace lives under, ending in `/`. */
export function namespacePrefix(catalog: Catalog, namespace: string): string {
  const location = catalog.tableLocation({ namespace: [namespace], name: 'table' });
  return location.slice(0, location.lastIndexOf('/') + 1);
}

async function deleteUnder(catalog: Catalog, prefix: string): Promise<number> {
  const files: string[] = [];
  for await (const file of catalog.io.list(prefix)) files.push(file.location);
  for (const file of files) await catalog.io.delete(file);
  return files.length;
}

function checkScratchName(name: string): void {
  if (!new RegExp(`^${SCRATCH_PREFIX}[a-z0-9_]+$`).test(name) || Buffer.byteLength(name) > 63) {
    throw new ValidationError(`not a drill's scratch name: ${JSON.stringify(name)}`);
  }
}
