/**
 * `icebridge fanout load|check|status`: the historical load of a migrate --cdc run's tables into the downstream
 * systems (event store, ClickHouse, Weaviate), the check that every system agrees with PostgreSQL and Iceberg, and
 * where each table's load and each system's checkpoint stand. `icebridge sync --fanout` feeds them the changes.
 */
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { type FanoutConsistencyReport, fanoutSummary, writeFanoutReport } from '../../shared/fanout/consistency/check-fanout';
import type { TableLoadProgress } from '../../shared/fanout/historical-load';
import { formatLsn } from '../../shared/cdc/lsn';
import { readLoadCheckpoints } from '../../shared/fanout/load-checkpoints';
import { type FanoutSystems, openFanoutSystems } from '../../shared/fanout-run/fanout-systems';
import { checkRun, loadRun, runTables, slotActive } from '../../shared/fanout-run/fanout-run';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { jobReportsLocation } from '../../shared/run/job-results';
import { withStateDatabase } from '../../shared/state-db/state-connection';
import { type StateDatabaseSettings, stateDatabaseFromEnv } from '../../shared/state-db/state-settings';
import { type FlagSpec, UsageError, intFlag, listFlag, parseOrExit, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';
import { findRun } from './sync';

/** Flags of `icebridge fanout`. */
export const FANOUT_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, description: 'warehouse root the run migrated into (default: ICEBRIDGE_WAREHOUSE)' },
  { name: 'run', value: true, description: "the migrate --cdc run (default: the one run the namespace's tables were migrated by)" },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema name, as migrate)' },
  { name: 'tables', value: true, description: "only these of the run's tables (name or schema.name, comma-separated)" },
  { name: 'dry-run', description: 'load: read and count the rows only, write nothing' },
  { name: 'again', description: 'load: forget earlier loads and load every table again from its current snapshot' },
  { name: 'chunk-rows', value: true, description: 'load: rows handed to the systems at a time (default 5000)' },
  { name: 'report-dir', value: true, description: 'check: where report.json and report.html go (default: the warehouse, .icebridge/reports/fanout/<time>)' },
  { name: 'json', description: 'print JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `The fan-out of a migrate --cdc run to the downstream systems (ICEBRIDGE_FANOUT_SYSTEMS, default every one
configured: the event store in the state database, ClickHouse, Weaviate; Kafka is fed by the outbox relay).
  icebridge fanout load [--dry-run] [--again]   each table's rows as of its Iceberg snapshot into every system
                                                (resumable; refused while the run's sync streams)
  icebridge fanout check [--report-dir d]       every system against PostgreSQL and Iceberg, key by key
  icebridge fanout status                       each table's load, each system's checkpoint
Then icebridge sync --fanout feeds every system the changes after its load.
Exit status: 0 done (check: every system agrees), 1 failed (check: differences found), 2 usage error.`;

/** The usage text of `icebridge fanout`. */
export const FANOUT_USAGE = usage('fanout', SUMMARY, FANOUT_FLAGS, '<load|check|status> [options]');

/** Runs the command; returns the exit status. */
export async function fanoutCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, FANOUT_FLAGS, FANOUT_USAGE, out, err, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { flags, positionals } = parsed;
  let systems: FanoutSystems | undefined;
  try {
    const [action, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected ${JSON.stringify(rest.join(' '))}`);
    if (action !== 'load' && action !== 'check' && action !== 'status') throw new UsageError('expected load, check or status');
    const location = stringFlag(flags, 'warehouse') ?? env.ICEBRIDGE_WAREHOUSE;
    if (location === undefined || location.trim() === '') throw new UsageError('--warehouse is required (or set ICEBRIDGE_WAREHOUSE)');
    const warehouse = resolveWarehouse(location);
    const state = stateOf(env);
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const namespace = stringFlag(flags, 'namespace');
    const runId = stringFlag(flags, 'run') ?? (await findRun(warehouse, namespace ?? 'public', env));
    const runEnv = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));
    const names = listFlag(flags, 'tables');
    const tables = await withSource(runEnv, (client) => runTables(client, runId, names === undefined ? {} : { tables: names })).catch(asUsageError);
    systems = await openFanoutSystems(env, runId).catch(asUsageError);
    if (action === 'status') {
      const status = await statusOf(state, systems);
      out.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
      return 0;
    }
    if (action === 'load') {
      const dryRun = flags['dry-run'] === true;
      if (!dryRun && (await withSource(runEnv, (client) => slotActive(client, runId))))
        throw new UsageError(`the sync of run ${runId} is streaming: stop it, load, then run icebridge sync --fanout`);
      const results = await loadRun({
        catalog: runEnv.catalog,
        ...(namespace === undefined ? {} : { namespace }),
        state,
        systems,
        tables,
        again: flags.again === true,
        dryRun,
        chunkRows: intFlag(flags, 'chunk-rows', 5_000, { max: 1_000_000 }),
        onProgress: (p) => err.write(`fanout load: ${p.table} ${p.rows} rows${p.state === 'loading' ? '' : ` (${p.state})`}\n`),
      });
      const checks = dryRun ? [] : await systems.afterLoad(tables);
      out.write(
        flags.json
          ? `${JSON.stringify({ tables: results, checks }, null, 2)}\n`
          : loadText(results, systems, dryRun) + checks.map((c) => `${c.line}\n`).join(''),
      );
      return checks.every((c) => c.ok) ? 0 : 1;
    }
    const report = await withSource(runEnv, (source) =>
      checkRun({ source, catalog: runEnv.catalog, ...(namespace === undefined ? {} : { namespace }), systems: systems!, tables }),
    );
    const where = stringFlag(flags, 'report-dir') ?? jobReportsLocation(warehouse, 'fanout', report.generatedAt.replace(/[-:.]/g, ''));
    const written = await writeFanoutReport(runEnv.catalog.io, where, report);
    out.write(flags.json ? `${JSON.stringify(reportJson(report, written), null, 2)}\n` : `${fanoutSummary(report)}report: ${written.html}\n`);
    return report.exact ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n\n${FANOUT_USAGE}`);
      return 2;
    }
    err.write(`fanout failed: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    await systems?.close();
  }
}

function stateOf(env: NodeJS.ProcessEnv): StateDatabaseSettings {
  let state: StateDatabaseSettings | undefined;
  try {
    state = stateDatabaseFromEnv(env);
  } catch (error) {
    asUsageError(error);
  }
  if (state === undefined) throw new UsageError('the fan-out keeps its checkpoints in the state database: set ICEBRIDGE_STATE_DATABASE_URL');
  return state;
}

interface FanoutStatus {
  loads: Array<{ table: string; status: string; rows: number; position: string; snapshotId: string }>;
  checkpoints: Record<string, string>;
}

async function statusOf(state: StateDatabaseSettings, systems: FanoutSystems): Promise<FanoutStatus> {
  const loads = await withStateDatabase(state, (client) => readLoadCheckpoints(client, state.schema));
  const checkpoints: Record<string, string> = {};
  for (const sink of systems.sinks) checkpoints[sink.system] = formatLsn(await sink.checkpoint());
  return {
    loads: [...loads.values()].map((l) => ({ table: l.table, status: l.status, rows: l.rows, position: formatLsn(l.position), snapshotId: l.snapshotId })),
    checkpoints,
  };
}

function statusText(status: FanoutStatus): string {
  const lines = ['loads:'];
  if (status.loads.length === 0) lines.push('  none');
  for (const l of status.loads) lines.push(`  ${l.table}: ${l.status}, ${l.rows} rows of snapshot ${l.snapshotId} (position ${l.position})`);
  lines.push('checkpoints:');
  for (const [system, lsn] of Object.entries(status.checkpoints)) lines.push(`  ${system}: ${lsn}`);
  return `${lines.join('\n')}\n`;
}

function loadText(results: readonly TableLoadProgress[], systems: FanoutSystems, dryRun: boolean): string {
  const lines = [`fanout load${dryRun ? ' (dry run: nothing written)' : ''} into ${systems.systems.join(', ')}:`];
  for (const r of results) lines.push(`  ${r.table}: ${r.rows} rows at ${r.position} (snapshot ${r.snapshotId}, ${r.state})`);
  return `${lines.join('\n')}\n`;
}

function reportJson(report: FanoutConsistencyReport, written: { json: string; html: string }): object {
  return { ...report, reports: written };
}
