/**
 * Drift between two environments: two live databases (staging against production), two registry versions, or a
 * registry version against the live source. Each returns one comparison in the report's shape.
 */
import type { Client } from 'pg';
import { ValidationError } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import { displayIdent } from '../postgres/identifiers';
import { compareSides, withinScope } from './compare-sides';
import { describeLiveTables } from './describe-live';
import type { DriftTable } from './drift-model';
import type { DriftComparison } from './drift-report';
import { readRegistryVersion } from './registry-store';

/** One database to compare: a connection (the caller closes it) and its redacted URL. */
export interface LiveDatabase {
  client: Client;
  label: string;
}

/** Compares `after`'s tables of `schema` with `before`'s (the reference); `tables` limits both. */
export async function compareDatabases(before: LiveDatabase, after: LiveDatabase, schema: string, tables?: readonly string[]): Promise<DriftComparison> {
  const [left, right] = await Promise.all([describeLiveTables(before.client, schema, tables), describeLiveTables(after.client, schema, tables)]);
  const unknown = (tables ?? []).filter((name) => !left.some((t) => t.name === name) && !right.some((t) => t.name === name));
  if (unknown.length > 0) throw new ValidationError(`neither database has table(s) ${unknown.map(displayIdent).join(', ')}`);
  return {
    name: 'environments',
    before: before.label,
    after: after.label,
    findings: compareSides({ kind: 'postgres', label: before.label, tables: left }, { kind: 'postgres', label: after.label, tables: right }),
  };
}

/**
 * Compares registry version `to` with version `from` for `schema`; or, when `to` is a database, the live tables with
 * version `from`, where a table neither recorded nor named in `tables` is not reported as added.
 */
export async function compareRegistryVersions(
  io: FileIO,
  warehouse: string,
  schema: string,
  from: number,
  to: number | LiveDatabase,
  tables?: readonly string[],
): Promise<DriftComparison> {
  const wanted = tables === undefined ? undefined : new Set(tables);
  const pick = (all: readonly DriftTable[]): DriftTable[] => all.filter((t) => t.schema === schema && (wanted === undefined || wanted.has(t.name)));
  const reference = await readRegistryVersion(io, warehouse, from);
  const before = { kind: 'registry' as const, label: `registry v${from}`, tables: pick(reference.tables) };
  if (typeof to === 'number') {
    const checked = await readRegistryVersion(io, warehouse, to);
    const after = { kind: 'registry' as const, label: `registry v${to}`, tables: pick(checked.tables) };
    return { name: 'versions', before: before.label, after: after.label, findings: compareSides(before, after) };
  }
  // Every live table is a candidate for a renamed one; only the recorded (or named) ones can be added.
  const live = await describeLiveTables(to.client, schema);
  const findings = compareSides(before, { kind: 'postgres', label: to.label, tables: live });
  return { name: 'registry', before: before.label, after: to.label, findings: withinScope(findings, schema, tables ?? before.tables.map((t) => t.name)) };
}
