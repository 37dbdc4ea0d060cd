/**
 * `icebridge schema snapshot` writes a schema registry (the mapped schema of every table, with signatures) to
 * stdout; `icebridge schema diff <left> <right>` compares any two of a live database, a warehouse and a
 * registry file. diff exits 0 when equal, 1 when different and 2 for a usage error or when a side cannot be
 * read (as diff(1) does), so a scheduled drift check can tell "drifted" from "could not look".
 */
import { readFile, stat } from 'node:fs/promises';
import { loadSettings } from '../../shared/config/settings';
import { IcebridgeError, NotFoundError, TableNotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { createFileIO, redactLocation } from '../../shared/iceberg/io';
import { connectPostgres, redactUrl } from '../../shared/postgres/connection';
import { escapeControls } from '../../shared/postgres/identifiers';
import { isPostgresUrl, resolveSourceUrl } from '../../shared/postgres/source-url';
import { type RegistryDiff, diffRegistries } from '../../shared/verify/schema-registry/schema-registry-diff';
import { type SchemaRegistry, parseRegistry, snapshotDatabase, snapshotWarehouse } from '../../shared/verify/schema-registry/schema-registry';
import { type FlagSpec, type ParsedFlags, UsageError, listFlag, parseCommandLine, parseFlags, stringFlag, usage } from '../support/args';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge schema snapshot`. */
export const SNAPSHOT_FLAGS: FlagSpec[] = [
  { name: 'source', value: true, description: 'PostgreSQL URL to capture (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'warehouse', value: true, description: 'capture a warehouse instead: a directory, file://… or abfss://…' },
  { name: 'schema', value: true, description: 'PostgreSQL schema (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace of a warehouse (default: the schema name)' },
  { name: 'tables', value: true, description: 'comma-separated tables (default: every table)' },
  { name: 'help', description: 'show this help' },
];

/** Flags of `icebridge schema diff`. */
export const DIFF_FLAGS: FlagSpec[] = [
  { name: 'schema', value: true, description: 'PostgreSQL schema of database sides (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace of warehouse sides (default: the schema name)' },
  { name: 'tables', value: true, description: 'comma-separated tables to compare (default: every table of either side)' },
  { name: 'json', description: 'print the differences as JSON instead of a table' },
  { name: 'help', description: 'show this help' },
];

const SNAPSHOT_SUMMARY = 'Write the mapped schema of every table, with a signature per table, as JSON to stdout.';
const DIFF_SUMMARY = `Compare <left> (the reference) with <right>: icebridge schema diff <left> <right> [options]
Each side is a postgres:// URL (without a password, it comes from PGPASSWORD or ~/.pgpass), a warehouse
(directory, file://… or abfss://…) or a snapshot file.
Exit status: 0 equal, 1 different, 2 usage error or a side cannot be read.`;

const HELP = `usage: icebridge schema <snapshot|diff> [options]

  snapshot  ${SNAPSHOT_SUMMARY}
  diff      compare two of: a live database, a warehouse, a snapshot file

Run icebridge schema <subcommand> --help for its options.
`;

/** Output streams of the command (process streams by default; tests pass their own). */
export interface SchemaCommandStreams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Runs `icebridge schema …`; returns the exit status. */
export async function schemaCommand(argv: string[], streams: SchemaCommandStreams = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'snapshot') return snapshotCommand(rest, streams);
  if (sub === 'diff') return diffCommand(rest, streams);
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    streams.out.write(HELP);
    return 0;
  }
  streams.err.write(`${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n\n${HELP}`);
  return 2;
}

async function snapshotCommand(argv: string[], { out, err }: SchemaCommandStreams): Promise<number> {
  const help = usage('schema snapshot', SNAPSHOT_SUMMARY, SNAPSHOT_FLAGS);
  let flags: ParsedFlags;
  try {
    flags = parseFlags(argv, SNAPSHOT_FLAGS);
    if (flags.source !== undefined && flags.warehouse !== undefined) throw new UsageError('give one of --source and --warehouse, not both');
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${help}`);
    return 2;
  }
  if (flags.help) {
    out.write(help);
    return 0;
  }
  try {
    const warehouse = stringFlag(flags, 'warehouse');
    const options = sideOptions(flags);
    const registry =
      warehouse !== undefined
        ? await loadWarehouse(resolveWarehouse(warehouse), options)
        : await loadDatabase((await resolveSourceUrl(stringFlag(flags, 'source'), { warn: (m) => err.write(`${m}\n`) }).catch(asUsageError)).url, options);
    out.write(`${JSON.stringify(registry, null, 2)}\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, err, 1);
  }
}

async function diffCommand(argv: string[], { out, err }: SchemaCommandStreams): Promise<number> {
  const help = usage('schema diff', DIFF_SUMMARY, DIFF_FLAGS);
  let flags: ParsedFlags;
  let sides: string[];
  try {
    ({ flags, positionals: sides } = parseCommandLine(argv, DIFF_FLAGS, { positionals: true }));
    if (!flags.help && sides.length !== 2) throw new UsageError(`expected two sides to compare, got ${sides.length}`);
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${help}`);
    return 2;
  }
  if (flags.help) {
    out.write(help);
    return 0;
  }
  try {
    const options = sideOptions(flags);
    const [left, right] = await Promise.all(sides.map((side) => loadSide(side, options, err)));
    const diff = diffRegistries(left!, right!);
    out.write(flags.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff));
    return diff.equal ? 0 : 1;
  } catch (error) {
    return reportFailure(error, err, 2);
  }
}

interface SideOptions {
  schema: string;
  namespace: string;
  tables?: string[];
}

function sideOptions(flags: ParsedFlags): SideOptions {
  const schema = stringFlag(flags, 'schema') ?? 'public';
  const tables = listFlag(flags, 'tables');
  return { schema, namespace: stringFlag(flags, 'namespace') ?? schema, ...(tables ? { tables } : {}) };
}

/** A side by its form: a postgres URL, a warehouse URL or directory, or a registry file. */
async function loadSide(side: string, options: SideOptions, err: NodeJS.WritableStream): Promise<SchemaRegistry> {
  if (isPostgresUrl(side)) return loadDatabase((await resolveSourceUrl(side, { warn: (m) => err.write(`${m}\n`) })).url, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(side)) return loadWarehouse(resolveWarehouse(side), options);
  const info = await stat(side).catch(() => undefined);
  if (info === undefined) throw new UsageError(`${JSON.stringify(side)} does not exist: expected a postgres:// URL, a warehouse location or a snapshot file`);
  if (info.isDirectory()) return loadWarehouse(resolveWarehouse(side), options);
  return loadSnapshotFile(side, options);
}

async function loadDatabase(url: string, options: SideOptions): Promise<SchemaRegistry> {
  const client = await connectPostgres(url, { connectTimeoutInMs: 10_000, applicationName: 'icebridge schema' });
  try {
    return await snapshotDatabase(client, options.schema, { location: redactUrl(url), ...(options.tables ? { tables: options.tables } : {}) });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function loadWarehouse(location: string, options: SideOptions): Promise<SchemaRegistry> {
  const settings = loadSettings({ ...process.env, ICEBRIDGE_WAREHOUSE: location });
  const catalog = new HadoopCatalog(createFileIO(location, settings.storage), location);
  try {
    return await snapshotWarehouse(catalog, [options.namespace], { location: redactLocation(location), ...(options.tables ? { tables: options.tables } : {}) });
  } catch (error) {
    if (error instanceof IcebridgeError) throw error;
    throw new IcebridgeError('WAREHOUSE_UNREADABLE', `cannot read the warehouse ${redactLocation(location)}: ${errorMessage(error)}`);
  }
}

async function loadSnapshotFile(file: string, options: SideOptions): Promise<SchemaRegistry> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    throw new ValidationError(`cannot read ${file} as a schema snapshot: ${error instanceof SyntaxError ? 'not valid JSON' : errorMessage(error)}`);
  }
  const registry = parseRegistry(json, file);
  if (options.tables !== undefined) {
    const wanted = new Set(options.tables);
    registry.tables = Object.fromEntries(Object.entries(registry.tables).filter(([, t]) => wanted.has(t.identifier.name)));
  }
  return registry;
}

/** Prints an error without stack traces; usage-like errors exit 2, the rest with `failureCode`. */
function reportFailure(error: unknown, err: NodeJS.WritableStream, failureCode: number): number {
  // An unknown schema or table is a usage error, as in `icebridge migrate`.
  const usageLike = error instanceof ValidationError || error instanceof TableNotFoundError || error instanceof NotFoundError;
  err.write(`${usageLike ? '' : 'schema: '}${errorMessage(error)}\n`);
  return usageLike ? 2 : failureCode;
}

/** The differences as a terminal table, followed by the suggested SQL. */
export function renderDiff(diff: RegistryDiff): string {
  const header = `left:  ${diff.left.kind} ${diff.left.location} (${diff.left.schema})\nright: ${diff.right.kind} ${diff.right.location} (${diff.right.schema})\n\n`;
  const differing = diff.tables.filter((t) => t.status !== 'equal');
  if (differing.length === 0) return `${header}no differences in ${diff.tables.length} table(s)\n`;
  const rows: string[][] = [['table', 'field', 'difference', 'left', 'right']];
  const sql: string[] = [];
  const side = (s: { type: string; required: boolean } | undefined): string => (s === undefined ? '-' : `${s.type}${s.required ? ' not null' : ''}`);
  for (const t of differing) {
    if (t.status === 'MISSING_TABLE' || t.status === 'EXTRA_TABLE') {
      rows.push([t.table, '', t.status, t.status === 'MISSING_TABLE' ? 'table' : '-', t.status === 'EXTRA_TABLE' ? 'table' : '-']);
    }
    for (const d of t.differences) rows.push([t.table, d.field, d.kind, side(d.expected), side(d.actual)]);
    if (t.columnOrder) rows.push([t.table, '', 'COLUMN_ORDER', t.columnOrder.left.join(', '), t.columnOrder.right.join(', ')]);
    if (t.fixSql) sql.push(`${t.fixSql};`);
    for (const d of t.differences) if (d.fixSql) sql.push(`${d.fixSql};`);
  }
  const safe = rows.map((r) => r.map((cell) => escapeControls(cell)));
  const widths = safe[0]!.map((_, i) => Math.max(...safe.map((r) => r[i]!.length)));
  const lines = safe.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const summary = `\n${differing.length} of ${diff.tables.length} table(s) differ\n`;
  const fixes = sql.length === 0 ? '' : `\nSQL that would bring the PostgreSQL side in line (review before running):\n${sql.join('\n')}\n`;
  return `${header}${lines.join('\n')}\n${summary}${fixes}`;
}
