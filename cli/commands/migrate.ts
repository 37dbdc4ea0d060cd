/** `icebridge migrate`: copy a PostgreSQL schema's tables into Iceberg tables in a warehouse. */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { IcebridgeError, NotFoundError, TableNotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import { createFileIO } from '../../shared/iceberg/io';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { parseMigrationRequest } from '../../shared/migrate/migration-request';
import { parseTableConfig } from '../../shared/run/request-fields';
import { connectPostgres } from '../../shared/postgres/connection';
import { ONE_MACHINE_PARTITION_SIZE_IN_BYTES } from '../../shared/postgres/partition-planner';
import { describeTables } from '../../shared/postgres/introspect';
import { loadSettings } from '../../shared/config/settings';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { type FlagSpec, UsageError, intFlag, listFlag, parseFlags, stringFlag, usage } from '../support/args';
import { DEFAULT_STATE_DIR } from '../support/local-run';
import { runMigration } from '../support/run-migration';
import { type ProgressOutput } from '../support/progress';
import { renderSummary } from '../support/summary';

const MIB = 1024 * 1024;

/** Flags of `icebridge migrate`. */
export const MIGRATE_FLAGS: FlagSpec[] = [
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'warehouse', value: true, required: true, description: 'warehouse root: a directory, file://… or abfss://…' },
  { name: 'schema', value: true, description: 'PostgreSQL schema to migrate (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema name)' },
  { name: 'tables', value: true, description: 'comma-separated tables (default: every table of the schema)' },
  { name: 'concurrency', value: true, description: 'tables migrated at once (default 2)' },
  { name: 'config', value: true, description: 'per-table config file (JSON: target name, partition spec, key, excluded columns)' },
  { name: 'partition-size-mb', value: true, description: `heap megabytes per copy partition (default ${ONE_MACHINE_PARTITION_SIZE_IN_BYTES / MIB})` },
  { name: 'verify', value: true, description: 'verify the committed tables afterwards: quick (default), full or none' },
  { name: 'cdc', description: 'hand over to change capture: a publication and a logical slot the copy meets without a gap' },
  { name: 'state-dir', value: true, description: 'where run history is kept for resuming (default .icebridge/state)' },
  { name: 'json', description: 'print a machine-readable summary instead of the table' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Migrate PostgreSQL tables into Iceberg tables.
The source comes from --source, else ICEBRIDGE_SOURCE_URL, else the libpq variables (PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE) with a missing password read from PGPASSFILE or ~/.pgpass: no password has to be on the
command line. Exit status: 0 every table committed and verified, 1 any failed or differs, 2 usage error.`;

/** The usage text of `icebridge migrate`. */
export const MIGRATE_USAGE = usage('migrate', SUMMARY, MIGRATE_FLAGS);

/** Options of `migrateCommand`. */
export interface MigrateCommandOptions {
  /** Environment the source and storage settings are read from (defaults to `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Clock of the progress display (rates, ETAs, elapsed times); defaults to `Date.now`. */
  now?: () => number;
}

/** Runs the command; returns the exit status (0 all committed and verified, 1 any failed or differs, 2 usage error). */
export async function migrateCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  options: MigrateCommandOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  let flags;
  try {
    flags = parseFlags(argv, MIGRATE_FLAGS);
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  if (flags.help) {
    out.write(MIGRATE_USAGE);
    return 0;
  }
  try {
    const { url: source } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const configPath = stringFlag(flags, 'config');
    const tableConfig = configPath ? parseTableConfig(await readJson(configPath), path.basename(configPath)) : undefined;
    const tables = listFlag(flags, 'tables');
    const request = parseMigrationRequest({
      ...(stringFlag(flags, 'schema') ? { schema: stringFlag(flags, 'schema') } : {}),
      ...(stringFlag(flags, 'namespace') ? { namespace: stringFlag(flags, 'namespace') } : {}),
      ...(tables ? { tables } : {}),
      concurrency: intFlag(flags, 'concurrency', 2, { max: 64 }),
      ...(tableConfig ? { tableConfig } : {}),
      ...(stringFlag(flags, 'verify') ? { verify: stringFlag(flags, 'verify') } : {}),
      ...(flags.cdc ? { cdc: true } : {}),
    });
    const settings = loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: source, ICEBRIDGE_WAREHOUSE: warehouse });
    await preflight(source, warehouse, settings.storage, request.schema, request.tables);
    const report = await runMigration({
      input: {
        sourceSchema: request.schema,
        namespace: request.namespace,
        concurrency: request.concurrency,
        ...(request.tables ? { tables: request.tables } : {}),
        ...(request.tableConfig ? { tableConfig: request.tableConfig } : {}),
        partitionSizeInBytes: intFlag(flags, 'partition-size-mb', ONE_MACHINE_PARTITION_SIZE_IN_BYTES / MIB, { max: 16_384 }) * MIB,
        verify: request.verify,
        ...(request.cdc ? { cdc: true } : {}),
      },
      sourceUrl: source,
      warehouse,
      stateDir: path.resolve(stringFlag(flags, 'state-dir') ?? DEFAULT_STATE_DIR),
      ...(flags.json ? {} : { progress: err }),
      ...(options.now ? { now: options.now } : {}),
    });
    writeReport(report, flags.json === true, out);
    return migrationSucceeded(report) ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof TableNotFoundError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`migration failed: ${errorMessage(error)}\n`);
    return 1;
  }
}

/**
 * Every table committed, no committed row count differs from the source's and, when a verification ran, nothing
 * differs.
 */
export function migrationSucceeded(report: MigrationReport): boolean {
  return (
    report.runtimeStatus === 'Completed' &&
    report.tables.failed === 0 &&
    (report.countsDiffering ?? 0) === 0 &&
    (report.verification === undefined || report.verification.status === 'ok')
  );
}

/** Prints the summary as a table, or as JSON. */
export function writeReport(report: MigrationReport, asJson: boolean, out: ProgressOutput): void {
  out.write(
    asJson
      ? `${JSON.stringify(report, null, 2)}\n`
      : `\n${renderSummary(report)}\n${report.lastError && report.tables.failed === 0 ? `error: ${report.lastError}\n` : ''}`,
  );
}

/** A source that cannot be resolved, or a schema or table that does not exist, is the caller's to fix: a usage error (exit 2). */
export function asUsageError(error: unknown): never {
  if (error instanceof UsageError) throw error;
  if (error instanceof ValidationError || error instanceof NotFoundError || error instanceof TableNotFoundError) throw new UsageError(error.message);
  throw error;
}

/** A local directory becomes an absolute path; URLs stay as they are. */
export function resolveWarehouse(location: string): string {
  if (/^(file|abfss?|wasbs|memory):\/\//.test(location)) return location;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    throw new UsageError(`unsupported warehouse location ${JSON.stringify(location)}: use a directory, file://, or abfss://`);
  return path.resolve(location);
}

/** Fails in seconds, with a clear message, when the database or the warehouse cannot be reached. */
async function preflight(
  source: string,
  warehouse: string,
  storage: ReturnType<typeof loadSettings>['storage'],
  schema: string,
  tables: string[] | undefined,
): Promise<void> {
  const client = await connectPostgres(source, { connectTimeoutInMs: 10_000, applicationName: 'icebridge' });
  try {
    await describeTables(client, schema, tables).catch(asUsageError);
  } finally {
    await client.end().catch(() => undefined);
  }
  const io = createFileIO(warehouse, storage);
  const probe = `${warehouse.replace(/\/+$/, '')}/.icebridge-probe-${randomUUID()}`;
  try {
    await io.write(probe, Buffer.from('probe'));
    await io.delete(probe);
  } catch (error) {
    throw new IcebridgeError('WAREHOUSE_UNREACHABLE', `cannot write to the warehouse ${warehouse}: ${errorMessage(error)}`);
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError(`${file} is not valid JSON`);
  }
}
