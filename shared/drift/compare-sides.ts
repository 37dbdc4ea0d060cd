/**
 * Compares two sides of a drift check table by table and column by column. `before` is the reference (an Iceberg
 * table's schema, a registry version, the reference environment), `after` is checked against it; each finding's
 * SQL brings the checked side back to the reference (or, for what only the checked side has, carries it to a
 * reference database), never by dropping anything, and its Iceberg update takes the change on instead.
 *
 * Types compare as PostgreSQL types (typmods included) when both sides know them, otherwise as the Iceberg types
 * the project's mapping gives; severity is judged by the Iceberg copy: whatever it can take on by a schema update
 * without rewriting data (an optional column, int→long, float→double, a wider decimal, optional instead of
 * required, a rename) is safe; a dropped table or column, or a type it cannot promote to, is unsafe.
 */
import { canPromote } from '../iceberg/transaction/update-schema';
import { displayIdent, displayQualified } from '../postgres/identifiers';
import { typeKey } from '../sync/evolve-table';
import { typeText } from '../verify/schema-registry/schema-registry';
import type { DriftColumn, DriftFinding, DriftFix, DriftSide, DriftTable, ReplicaIdentity } from './drift-model';
import {
  addColumnSql,
  addPrimaryKeySql,
  createTableSql,
  defaultSql,
  icebergAddColumn,
  icebergMakeOptional,
  icebergRenameColumn,
  icebergUpdateColumn,
  nullabilitySql,
  renameColumnSql,
  renameTableSql,
  replicaIdentitySql,
  retypeSql,
} from './drift-fixes';

/** Compares `after` with the reference `before`; findings in table order, then column order. */
export function compareSides(before: DriftSide, after: DriftSide): DriftFinding[] {
  const afterByName = new Map(after.tables.map((t) => [t.name, t]));
  const beforeNames = new Set(before.tables.map((t) => t.name));
  const onlyBefore = before.tables.filter((t) => !afterByName.has(t.name));
  const onlyAfter = after.tables.filter((t) => !beforeNames.has(t.name));
  const findings: DriftFinding[] = [];
  const renamedTo = new Set<string>();
  for (const table of onlyBefore) {
    const match = uniqueRename(table, onlyBefore, onlyAfter);
    if (match !== undefined) {
      renamedTo.add(match.name);
      findings.push(tableRenamed(table, match, after));
    } else findings.push(tableDropped(table, after));
  }
  for (const table of onlyAfter) if (!renamedTo.has(table.name)) findings.push(tableAdded(table, before));
  for (const table of before.tables) {
    const other = afterByName.get(table.name);
    if (other !== undefined) findings.push(...compareTables(table, other, before, after));
  }
  return findings;
}

/**
 * The findings without tables added outside `scope` (the tables looked at): a source table the warehouse never held
 * and nobody asked about is not drift of the copy, only a candidate for a renamed table.
 */
export function withinScope(findings: DriftFinding[], schema: string, scope: Iterable<string>): DriftFinding[] {
  const shown = new Set([...scope].map((name) => displayQualified(schema, name)));
  return findings.filter((f) => f.kind !== 'table-added' || shown.has(f.table));
}

/** Compares one table both sides have. */
export function compareTables(before: DriftTable, after: DriftTable, beforeSide: DriftSide, afterSide: DriftSide): DriftFinding[] {
  const table = displayQualified(after.schema, after.name);
  const sqlAfter = afterSide.kind !== 'iceberg';
  const afterByName = new Map(after.columns.map((c) => [c.name, c]));
  const beforeNames = new Set(before.columns.map((c) => c.name));
  const findings: DriftFinding[] = [];
  const renamed = new Set<string>();
  before.columns.forEach((column, position) => {
    const now = afterByName.get(column.name);
    if (now !== undefined) {
      findings.push(...compareColumns(table, after, column, now, sqlAfter));
      return;
    }
    // As the sync judges a Relation message: the column now in its place, new and of the same type, is a rename.
    const there = after.columns[position];
    if (there !== undefined && !beforeNames.has(there.name) && sameType(column, there) && column.notNull === there.notNull) {
      renamed.add(there.name);
      findings.push({
        table,
        column: column.name,
        kind: 'column-renamed',
        severity: 'safe',
        before: column.name,
        after: there.name,
        fix: {
          ...sql(sqlAfter, renameColumnSql(after, there.name, column.name)),
          iceberg: icebergRenameColumn(column, there.name),
          syncStops: true,
          note: `the Iceberg table can rename the column and keep its data; icebridge sync stops the table until both sides agree`,
        },
      });
      return;
    }
    findings.push({
      table,
      column: column.name,
      kind: 'column-dropped',
      severity: 'unsafe',
      before: describeColumn(column),
      after: null,
      fix: {
        ...sql(sqlAfter, addColumnSql(after, column)),
        syncStops: true,
        note: 'the Iceberg table keeps the column and its data (icebridge never deletes a column); a later copy writes null into it, and fails if it is required',
      },
    });
  });
  for (const column of after.columns) {
    if (beforeNames.has(column.name) || renamed.has(column.name)) continue;
    const stopsSync =
      (column.default !== undefined && column.default !== null) ||
      (column.identity !== undefined && column.identity !== null) ||
      // The sync keys rows by the replica identity's columns; a table with none (FULL) matches rows by all of them.
      (after.replicaIdentity !== undefined && after.replicaIdentity.columns.length === 0);
    const promote = beforeSide.kind === 'postgres' ? addColumnSql(before, column) : undefined;
    findings.push({
      table,
      column: column.name,
      kind: 'column-added',
      severity: 'safe',
      before: null,
      after: describeColumn(column),
      fix: {
        ...(promote !== undefined ? { sql: promote, sqlSide: 'before' as const } : {}),
        iceberg: icebergAddColumn(column),
        syncStops: stopsSync,
        note: stopsSync
          ? 'icebridge sync adds the column itself, except to a table without a key, or one holding rows when the column has a default or is an identity: then it stops the table (Iceberg v2 has no initial default for existing rows)'
          : 'icebridge sync and the next migration add the column to the Iceberg table themselves',
      },
    });
  }
  findings.push(...compareKeys(table, before, after, sqlAfter));
  return findings;
}

function compareColumns(table: string, after: DriftTable, before: DriftColumn, now: DriftColumn, sqlAfter: boolean): DriftFinding[] {
  const findings: DriftFinding[] = [];
  if (!sameType(before, now)) {
    const sameIceberg = typeKey(before.icebergType) === typeKey(now.icebergType);
    const widened = !sameIceberg && canPromote(before.icebergType, now.icebergType);
    const revert = sql(sqlAfter, retypeSql(after, now.name, before));
    let fix: DriftFix;
    if (sameIceberg)
      fix = { ...revert, syncStops: true, note: `the Iceberg type stays ${typeText(now.icebergType)}; icebridge sync stops the table on any change of type` };
    else if (widened)
      fix = {
        ...revert,
        iceberg: icebergUpdateColumn(before, now),
        syncStops: true,
        note: 'Iceberg widens the column in place; icebridge sync stops the table until the update is made',
      };
    else
      fix = {
        ...revert,
        syncStops: true,
        note: `Iceberg cannot change ${typeText(before.icebergType)} to ${typeText(now.icebergType)} without rewriting the table: revert the type, or migrate the table again into a new Iceberg table`,
      };
    findings.push({
      table,
      column: now.name,
      kind: widened ? 'type-widened' : 'type-changed',
      severity: sameIceberg || widened ? 'safe' : 'unsafe',
      before: describeType(before),
      after: describeType(now),
      fix,
    });
  }
  if (before.notNull !== now.notNull) {
    findings.push({
      table,
      column: now.name,
      kind: 'nullability-changed',
      severity: 'safe',
      before: before.notNull ? 'not null' : 'null',
      after: now.notNull ? 'not null' : 'null',
      fix: {
        ...sql(sqlAfter, nullabilitySql(after, now.name, before.notNull)),
        ...(before.notNull ? { iceberg: icebergMakeOptional(before) } : {}),
        syncStops: false,
        note: before.notNull
          ? 'the column now takes nulls, which a required Iceberg column refuses: make it optional before the first null arrives'
          : 'an optional Iceberg column holds the values as they are',
      },
    });
  }
  if (before.default !== undefined && now.default !== undefined && before.default !== now.default) {
    findings.push({
      table,
      column: now.name,
      kind: 'default-changed',
      severity: 'safe',
      before: before.default ?? 'no default',
      after: now.default ?? 'no default',
      fix: {
        ...sql(sqlAfter, defaultSql(after, now.name, before.default)),
        syncStops: false,
        note: 'defaults are PostgreSQL only: the Iceberg copy receives the values',
      },
    });
  }
  return findings;
}

function compareKeys(table: string, before: DriftTable, after: DriftTable, sqlAfter: boolean): DriftFinding[] {
  const findings: DriftFinding[] = [];
  if (before.primaryKey !== undefined && after.primaryKey !== undefined && keyText(before.primaryKey) !== keyText(after.primaryKey)) {
    findings.push({
      table,
      kind: 'primary-key-changed',
      severity: 'unsafe',
      before: keyText(before.primaryKey),
      after: keyText(after.primaryKey),
      fix: {
        ...sql(sqlAfter && before.primaryKey !== null && after.primaryKey === null, before.primaryKey ? addPrimaryKeySql(after, before.primaryKey) : undefined),
        syncStops: false,
        note: 'the Iceberg table identifies rows by the key it was migrated with, and verification compares rows by key: restore the key, or migrate the table again',
      },
    });
  }
  if (
    before.replicaIdentity !== undefined &&
    after.replicaIdentity !== undefined &&
    identityText(before.replicaIdentity) !== identityText(after.replicaIdentity)
  ) {
    const revert = before.replicaIdentity.mode !== after.replicaIdentity.mode ? replicaIdentitySql(after, before.replicaIdentity) : undefined;
    findings.push({
      table,
      kind: 'replica-identity-changed',
      severity: 'unsafe',
      before: identityText(before.replicaIdentity),
      after: identityText(after.replicaIdentity),
      fix: {
        ...sql(sqlAfter, revert),
        syncStops: true,
        note: 'icebridge sync matches changed rows by the replica identity and stops the table when it changes',
      },
    });
  }
  return findings;
}

function tableDropped(table: DriftTable, after: DriftSide): DriftFinding {
  return {
    table: displayQualified(table.schema, table.name),
    kind: 'table-dropped',
    severity: 'unsafe',
    before: describeTable(table),
    after: null,
    fix: {
      ...sql(after.kind !== 'iceberg', createTableSql(table.schema, table)),
      syncStops: true,
      note: 'the Iceberg table keeps its data; the source table is gone, so change capture and verification of it stop',
    },
  };
}

function tableAdded(table: DriftTable, before: DriftSide): DriftFinding {
  const promote = before.kind === 'postgres' ? createTableSql(table.schema, table) : undefined;
  return {
    table: displayQualified(table.schema, table.name),
    kind: 'table-added',
    severity: 'safe',
    before: null,
    after: describeTable(table),
    fix: {
      ...(promote !== undefined ? { sql: promote, sqlSide: 'before' as const } : {}),
      syncStops: false,
      note: `not migrated: icebridge migrate --tables ${displayIdent(table.name)} copies it`,
    },
  };
}

function tableRenamed(table: DriftTable, to: DriftTable, after: DriftSide): DriftFinding {
  return {
    table: displayQualified(table.schema, table.name),
    kind: 'table-renamed',
    severity: 'unsafe',
    before: table.name,
    after: to.name,
    fix: {
      ...sql(after.kind !== 'iceberg', renameTableSql(to, table.name)),
      syncStops: true,
      note: 'the Iceberg table still names the old source table, so change capture and verification of it stop until both sides agree',
    },
  };
}

/** The only table of `candidates` with exactly the columns of `table`, when no other table of `peers` also matches it. */
function uniqueRename(table: DriftTable, peers: readonly DriftTable[], candidates: readonly DriftTable[]): DriftTable | undefined {
  const matches = candidates.filter((c) => sameColumns(table, c));
  if (matches.length !== 1) return undefined;
  return peers.filter((p) => sameColumns(p, matches[0]!)).length === 1 ? matches[0] : undefined;
}

function sameColumns(a: DriftTable, b: DriftTable): boolean {
  return (
    a.columns.length > 0 &&
    a.columns.length === b.columns.length &&
    a.columns.every((c, i) => {
      const d = b.columns[i]!;
      return c.name === d.name && sameType(c, d) && c.notNull === d.notNull;
    })
  );
}

/** PostgreSQL types when both sides know them, otherwise the Iceberg types. */
function sameType(a: DriftColumn, b: DriftColumn): boolean {
  if (a.pgType !== null && b.pgType !== null) return a.pgType === b.pgType;
  return typeKey(a.icebergType) === typeKey(b.icebergType);
}

function sql(allowed: boolean, statement: string | undefined): Pick<DriftFix, 'sql' | 'sqlSide'> {
  return allowed && statement !== undefined ? { sql: statement, sqlSide: 'after' } : {};
}

function describeType(column: DriftColumn): string {
  return column.pgType === null ? `iceberg ${typeText(column.icebergType)}` : `${column.pgType} (iceberg ${typeText(column.icebergType)})`;
}

function describeColumn(column: DriftColumn): string {
  return `${describeType(column)}${column.notNull ? ' not null' : ''}`;
}

function describeTable(table: DriftTable): string {
  return `${table.columns.length} column(s): ${table.columns.map((c) => displayIdent(c.name)).join(', ')}`;
}

function keyText(key: readonly string[] | null): string {
  return key === null ? 'none' : `(${key.map(displayIdent).join(', ')})`;
}

function identityText(identity: ReplicaIdentity): string {
  return identity.mode === 'full' || identity.mode === 'nothing' ? identity.mode : `${identity.mode} ${keyText(identity.columns)}`;
}
