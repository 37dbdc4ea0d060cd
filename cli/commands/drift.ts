/**
 * `icebridge drift`: schema drift of a PostgreSQL source against its Iceberg tables and the schema registry kept in
 * the warehouse (default), against a second environment (`--against`), or between two registry versions
 * (`--from-version N --to-version M`). Exit status: 0 no drift, 1 drift found, 2 usage error or a side cannot be read
 * (as `icebridge schema diff` does), so a scheduled check tells "drifted" from "could not look".
 */
import type { Client } from 'pg';
import { loadSettings } from '../../shared/config/settings';
import { NotFoundError, TableNotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import { redactLocation } from '../../shared/iceberg/io';
import { connectPostgres, redactUrl } from '../../shared/postgres/connection';
import { escapeControls } from '../../shared/postgres/identifiers';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { environmentFromSettings } from '../../shared/run/environment';
import { runDriftCheck } from '../../shared/drift/drift-check';
import type { DriftComparison, DriftReport } from '../../shared/drift/drift-report';
import { compareDatabases, compareRegistryVersions } from '../../shared/drift/drift-sources';
import { type FlagSpec, type ParsedFlags, UsageError, intFlag, listFlag, parseOrExit, stringFlag, usage } from '../support/args';
import { resolveWarehouse } from './migrate';

/** Flags of `icebridge drift`. */
export const DRIFT_FLAGS: FlagSpec[] = [
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'warehouse', value: true, description: 'warehouse of the migrated tables and the schema registry: a directory, file://… or abfss://…' },
  { name: 'schema', value: true, description: 'PostgreSQL schema (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace of the migrated tables (default: the schema name)' },
  { name: 'tables', value: true, description: 'comma-separated tables (default: every migrated table; with --against, every table)' },
  { name: 'against', value: true, description: 'a second database (postgres:// URL) to compare with --source, the reference' },
  { name: 'from-version', value: true, description: 'registry version used as the reference' },
  { name: 'to-version', value: true, description: 'registry version checked against --from-version (default: the live --source)' },
  { name: 'record', description: 'record the source schema as a new registry version when it changed' },
  { name: 'json', description: 'print the report as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Report schema drift, each difference with its severity for the Iceberg copy (safe: Iceberg takes it on by
a schema update; unsafe: it cannot without rewriting or losing data), whether icebridge sync stops the table on
it, and the SQL or Iceberg schema update that brings the two sides back in line (never run by icebridge).
  default              the live --source against its Iceberg tables and the latest registry version (--warehouse)
  --against <url>      two databases: --source is the reference, <url> is checked
  --from-version N     registry version N against the live --source, or against --to-version M
Exit status: 0 no drift, 1 drift found, 2 usage error or a side cannot be read.`;

/** The usage text of `icebridge drift`. */
export const DRIFT_USAGE = usage('drift', SUMMARY, DRIFT_FLAGS);

/** Where the command writes (process streams by default; tests pass their own). */
export interface DriftStreams {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** Runs `icebridge drift`; returns the exit status. */
export async function driftCommand(
  argv: string[],
  streams: DriftStreams = { out: process.stdout, err: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, DRIFT_FLAGS, DRIFT_USAGE, streams.out, streams.err, { check: checkFlags });
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const report = await buildReport(flags, streams, env);
    streams.out.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return report.comparisons.some((c) => c.findings.length > 0) ? 1 : 0;
  } catch (error) {
    const usageLike = error instanceof ValidationError || error instanceof TableNotFoundError || error instanceof NotFoundError;
    streams.err.write(`${usageLike ? '' : 'drift: '}${errorMessage(error)}\n`);
    return 2;
  }
}

function checkFlags(flags: ParsedFlags): void {
  const against = flags.against !== undefined;
  const versions = flags['from-version'] !== undefined;
  if (against && versions) throw new UsageError('give --against or --from-version, not both');
  if (flags['to-version'] !== undefined && !versions) throw new UsageError('--to-version needs --from-version');
  if ((against || versions) && flags.record) throw new UsageError('--record records the source against the warehouse: leave out --against and --from-version');
  if (!against && flags.warehouse === undefined) throw new UsageError('--warehouse is required (except with --against)');
}

async function buildReport(flags: ParsedFlags, { err }: DriftStreams, env: NodeJS.ProcessEnv): Promise<DriftReport> {
  const schema = stringFlag(flags, 'schema') ?? 'public';
  const tables = listFlag(flags, 'tables');
  const checkedAt = new Date().toISOString();
  const warn = (m: string): void => void err.write(`${m}\n`);
  const source = async (): Promise<{ url: string; label: string }> => {
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn });
    return { url, label: redactUrl(url) };
  };
  const warehouseFlag = stringFlag(flags, 'warehouse');
  const warehouse = warehouseFlag === undefined ? undefined : resolveWarehouse(warehouseFlag);
  const settings = warehouse === undefined ? undefined : loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse });
  const oneComparison = (comparison: DriftComparison, label: string): DriftReport => ({
    format: 'icebridge-drift-report',
    checkedAt,
    source: label,
    schema,
    tables: [...new Set(tables ?? [])],
    comparisons: [comparison],
  });

  const against = stringFlag(flags, 'against');
  if (against !== undefined) {
    const reference = await source();
    const other = await resolveSourceUrl(against, { env, warn });
    return withClient(reference.url, (a) =>
      withClient(other.url, async (b) =>
        oneComparison(
          await compareDatabases({ client: a, label: reference.label }, { client: b, label: redactUrl(other.url) }, schema, tables),
          reference.label,
        ),
      ),
    );
  }
  const { catalog } = environmentFromSettings(settings!);
  if (flags['from-version'] !== undefined) {
    const from = intFlag(flags, 'from-version', 1, { max: 999_999 });
    if (flags['to-version'] !== undefined) {
      const to = intFlag(flags, 'to-version', 1, { max: 999_999 });
      return oneComparison(await compareRegistryVersions(catalog.io, warehouse!, schema, from, to, tables), redactLocation(warehouse!));
    }
    const live = await source();
    return withClient(live.url, async (client) =>
      oneComparison(await compareRegistryVersions(catalog.io, warehouse!, schema, from, { client, label: live.label }, tables), live.label),
    );
  }
  const live = await source();
  const namespace = stringFlag(flags, 'namespace');
  const { report } = await runDriftCheck({
    connectSource: () => connectPostgres(live.url, { connectTimeoutInMs: 10_000, applicationName: 'icebridge drift' }),
    sourceLabel: live.label,
    catalog,
    warehouse: warehouse!,
    schema,
    ...(namespace ? { namespace } : {}),
    ...(tables ? { tables } : {}),
    record: flags.record === true,
  });
  return report;
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectPostgres(url, { connectTimeoutInMs: 10_000, applicationName: 'icebridge drift' });
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The report for a terminal: per comparison, one block per finding with its fix. */
export function renderReport(report: DriftReport): string {
  const lines: string[] = [];
  for (const c of report.comparisons) {
    lines.push(`${c.before} -> ${c.after}`);
    if (c.findings.length === 0) lines.push('  no drift');
    for (const f of c.findings) {
      const where = f.column === undefined ? f.table : `${f.table}.${f.column}`;
      lines.push(
        `  ${f.severity.toUpperCase().padEnd(6)} ${f.kind} ${where}: ${f.before ?? '(none)'} -> ${f.after ?? '(none)'}${f.fix.syncStops ? ' [sync stops]' : ''}`,
      );
      if (f.fix.sql !== undefined) lines.push(`    sql${f.fix.sqlSide === 'before' ? ' (on the reference)' : ''}: ${f.fix.sql.replace(/\n\s*/g, ' ')};`);
      if (f.fix.iceberg !== undefined) lines.push(`    iceberg: ${f.fix.iceberg}`);
      lines.push(`    ${f.fix.note}`);
    }
    lines.push('');
  }
  const total = report.comparisons.reduce((n, c) => n + c.findings.length, 0);
  const unsafe = report.comparisons.reduce((n, c) => n + c.findings.filter((f) => f.severity === 'unsafe').length, 0);
  lines.push(total === 0 ? 'no drift' : `${total} difference(s), ${unsafe} unsafe`);
  if (report.registry) lines.push(`registry: v${report.registry.version}${report.registry.written ? ' (recorded now)' : ''}`);
  return `${lines.map((l) => escapeControls(l)).join('\n')}\n`;
}
