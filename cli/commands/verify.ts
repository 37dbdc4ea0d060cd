/**
 * `icebridge verify`: prove migrated tables exact against their source. quick = schema, counts, aggregates;
 * full adds every row. Exit 0 only when nothing differs, 1 when anything does (or cannot be checked), 2 for
 * usage errors.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { loadSettings } from '../../shared/config/settings';
import { TableNotFoundError, errorMessage } from '../../shared/errors';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { describeTables } from '../../shared/postgres/introspect';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import type { VerifyLevel } from '../../shared/verify/contracts';
import { renderHtmlReport } from '../../shared/verify/reports/report-html';
import { renderJsonReport } from '../../shared/verify/reports/report-json';
import { writeTerminalReport } from '../../shared/verify/reports/report-terminal';
import { type FlagSpec, UsageError, intFlag, listFlag, parseFlags, stringFlag, usage } from '../support/args';
import { DEFAULT_STATE_DIR } from '../support/local-run';
import { runVerification } from '../support/run-verification';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge verify`. */
export const VERIFY_FLAGS: FlagSpec[] = [
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'warehouse', value: true, required: true, description: 'warehouse root the tables were migrated to' },
  { name: 'schema', value: true, description: 'PostgreSQL schema (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema name)' },
  { name: 'tables', value: true, description: 'comma-separated tables (default: every table of the schema)' },
  { name: 'level', value: true, description: 'quick (schema, counts, aggregates) or full (adds every row); default quick' },
  { name: 'json', description: 'print the report as JSON' },
  { name: 'report', value: true, description: 'also write a self-contained HTML report to this file' },
  { name: 'concurrency', value: true, description: 'tables verified at once (default 2)' },
  { name: 'state-dir', value: true, description: 'where run history is kept for resuming (default .icebridge/state)' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Verify migrated Iceberg tables against their PostgreSQL source.
The source comes from --source, else ICEBRIDGE_SOURCE_URL, else the libpq variables and ~/.pgpass (as migrate).
Exit status: 0 nothing differs, 1 anything differs or cannot be checked, 2 usage error.`;

/** Runs the command; returns the exit status. */
export async function verifyCommand(argv: string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, VERIFY_FLAGS);
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${usage('verify', SUMMARY, VERIFY_FLAGS)}`);
    return 2;
  }
  if (flags.help) {
    out.write(usage('verify', SUMMARY, VERIFY_FLAGS));
    return 0;
  }
  try {
    const { url: source } = await resolveSourceUrl(stringFlag(flags, 'source'), { warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const level = (stringFlag(flags, 'level') ?? 'quick') as VerifyLevel;
    if (level !== 'quick' && level !== 'full') throw new UsageError('--level must be quick or full');
    const schema = stringFlag(flags, 'schema') ?? 'public';
    const namespace = stringFlag(flags, 'namespace') ?? schema;
    const env = environmentFromSettings(loadSettings({ ...process.env, ICEBRIDGE_SOURCE_URL: source, ICEBRIDGE_WAREHOUSE: warehouse }));
    const tables = listFlag(flags, 'tables');
    // Unknown schema or tables are a usage error, named before anything runs.
    await withSource(env, (client) => describeTables(client, schema, tables)).catch(asUsageError);
    const status = await runVerification({
      input: { sourceSchema: schema, namespace, level, concurrency: intFlag(flags, 'concurrency', 2, { max: 64 }), ...(tables ? { tables } : {}) },
      sourceUrl: source,
      warehouse,
      stateDir: path.resolve(stringFlag(flags, 'state-dir') ?? DEFAULT_STATE_DIR),
      ...(flags.json ? {} : { progress: err }),
      io: env.catalog.io,
    });
    const report = status.report;
    if (!report) throw new Error(status.lastError ?? `the verification ended ${status.runtimeStatus}`);
    if (flags.json) out.write(renderJsonReport(report));
    else writeTerminalReport(report, out);
    const reportPath = stringFlag(flags, 'report');
    if (reportPath) {
      await writeFile(reportPath, renderHtmlReport(report));
      err.write(`HTML report written to ${path.resolve(reportPath)}\n`);
    }
    return report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof TableNotFoundError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`verification failed: ${errorMessage(error)}\n`);
    return 1;
  }
}
