/**
 * Reads what the dashboard shows from the product's own sources: the Durable instances of migrations,
 * verifications and syncs (the same reports their status endpoints answer), the flag store and its audit trail,
 * and the scheduled jobs' results in the warehouse.
 */
import type { InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { flagSetupFromEnv } from '../../shared/flags/flag-settings';
import { environmentFromSettings } from '../../shared/run/environment';
import { buildMigrationReport } from '../../shared/migrate/migration-status';
import { listJobResults } from '../../shared/run/job-results';
import { type InstanceSnapshot, failureMessage, isFinished, shortReason, tablesStarted } from '../../shared/run/instance-status';
import type { MigrationProgress } from '../../shared/migrate/contracts';
import type { SyncStatus } from '../../shared/run/sync-run';
import { mapBounded } from '../../shared/concurrency';
import {
  type DashboardData,
  type DashboardMigration,
  type DashboardSync,
  type DashboardTable,
  FLAG_CHANGES_SHOWN,
  JOB_RESULTS_SHOWN,
  type OperatorAuthMode,
  RUNS_SHOWN,
  readSection,
  runEtaSeconds,
  tableFigures,
  verificationRow,
} from '../../shared/dashboard/dashboard-data';
import { retryRunId, retryState } from '../../shared/dashboard/table-retry';
import { Orchestrations } from '../../orchestrators/names';
import { MAX_TABLES_PER_PAGE, STATUS_READS_AT_ONCE, findInstance, readTables, snapshotOf } from './durable-instances';
import { OPERATOR_SETTING_NAMES } from './operator-auth';

/** Days of runs listed when the request does not say. */
export const DEFAULT_WINDOW_DAYS = 7;

/** Root instances (not a run's tables or verification) of one orchestration, newest first, at most RUNS_SHOWN. */
function rootsOf(all: df.DurableOrchestrationStatus[], name: string): df.DurableOrchestrationStatus[] {
  return all
    .filter((s) => s.name === name && !s.instanceId.includes(':'))
    .sort((a, b) => new Date(b.createdTime).getTime() - new Date(a.createdTime).getTime())
    .slice(0, RUNS_SHOWN);
}

async function migrationOf(
  client: df.DurableClient,
  root: df.DurableOrchestrationStatus,
  context: InvocationContext,
  nowMs: number,
): Promise<DashboardMigration> {
  const id = root.instanceId;
  const page = { offset: 0, limit: MAX_TABLES_PER_PAGE };
  const tables = await readTables(client, id, 0, Math.min(page.limit, tablesStarted(root.customStatus)), context);
  const progress = (root.customStatus ?? {}) as Partial<MigrationProgress>;
  let verification: InstanceSnapshot | undefined;
  if (progress.verificationId !== undefined) {
    try {
      const status = await findInstance(client, progress.verificationId);
      verification = status && snapshotOf(status);
    } catch (error) {
      // As the run's status endpoint does: the verification then shows as running with no figures.
      context.error(`dashboard: reading ${progress.verificationId} failed: ${errorMessage(error)}`);
    }
  }
  const report = buildMigrationReport(id, snapshotOf(root), tables, page, nowMs, verification);
  const instances = new Map(tables.map((t) => [t.index, t.status]));
  const details = await mapBounded(report.details, STATUS_READS_AT_ONCE, async (table): Promise<DashboardTable> => {
    const row: DashboardTable = { ...table, ...tableFigures(table, table.index === undefined ? undefined : instances.get(table.index), nowMs) };
    if (table.status === 'failed' && isFinished(report.runtimeStatus)) {
      const retryId = retryRunId(id, table.table);
      const retry = await findInstance(client, retryId);
      row.retry = { id: retryId, state: retryState(retry && snapshotOf(retry), table.table) };
    }
    return row;
  });
  const eta = runEtaSeconds(report);
  return { ...report, details, ...(eta === undefined ? {} : { etaSeconds: eta }), reportReady: verification?.runtimeStatus === 'Completed' };
}

function syncOf(root: df.DurableOrchestrationStatus): DashboardSync {
  const runtimeStatus = String(root.runtimeStatus);
  const sync: DashboardSync = { id: root.instanceId, runtimeStatus, ...((root.customStatus ?? {}) as Partial<SyncStatus>) };
  if (runtimeStatus === 'Failed') sync.error = failureMessage(root.output);
  if (runtimeStatus === 'Terminated') sync.error = `terminated: ${failureMessage(root.output)}`;
  return sync;
}

/** Who the page's changing buttons need: the local token under `icebridge serve`, else a signed-in operator. */
export function operatorAuthMode(env: NodeJS.ProcessEnv = process.env): OperatorAuthMode {
  return env[OPERATOR_SETTING_NAMES.localToken]?.trim() ? 'local-token' : 'signed-in';
}

/** Everything the dashboard shows: runs created within `windowDays`, flags, job results. */
export async function readDashboard(client: df.DurableClient, context: InvocationContext, windowDays: number, now: Date = new Date()): Promise<DashboardData> {
  const describe = (what: string) => (error: unknown) => {
    context.error(`dashboard: reading ${what} failed: ${errorMessage(error)}`);
    return `${what} could not be read: ${shortReason(errorMessage(error), 300)}`;
  };
  const settings = loadSettings();
  const listing = readSection(async () => {
    // Inputs can be large and the list does not need them; the filter type does not name the option the client honours.
    const filter = { createdTimeFrom: new Date(now.getTime() - windowDays * 86_400_000), showInput: false } as df.OrchestrationFilter;
    return client.getStatusBy(filter);
  }, describe('the runs'));
  const runs = async <T>(read: (all: df.DurableOrchestrationStatus[]) => T | Promise<T>): Promise<T> => {
    const all = await listing;
    if (!all.ok) throw new Error(all.error);
    return read(all.value);
  };
  const [migrations, verifications, syncs, flags, jobs] = await Promise.all([
    readSection(
      () => runs((all) => mapBounded(rootsOf(all, Orchestrations.migrateDatabase), 2, (root) => migrationOf(client, root, context, now.getTime()))),
      describe('the migrations'),
    ),
    readSection(
      // A migration's own verification (`<id>:verify`) is listed too: its report is what a table drills down to.
      () =>
        runs((all) =>
          all
            .filter((s) => s.name === Orchestrations.verifyDatabase && (!s.instanceId.includes(':') || /^[^:]+:verify$/.test(s.instanceId)))
            .sort((a, b) => new Date(b.createdTime).getTime() - new Date(a.createdTime).getTime())
            .slice(0, RUNS_SHOWN)
            .map((s) => verificationRow(s.instanceId, snapshotOf(s))),
        ),
      describe('the verifications'),
    ),
    readSection(() => runs((all) => rootsOf(all, Orchestrations.syncDatabase).map(syncOf)), describe('the syncs')),
    readSection(async () => {
      const setup = flagSetupFromEnv(process.env, settings.warehouse, settings.storage);
      const [stored, history] = await Promise.all([setup.store.list(), setup.audit.history({ limit: FLAG_CHANGES_SHOWN })]);
      return { store: setup.store.description, flags: stored, history: history.reverse() };
    }, describe('the flags')),
    readSection(
      () => listJobResults(environmentFromSettings(settings).catalog.io, settings.warehouse, { limit: JOB_RESULTS_SHOWN }),
      describe('the job results'),
    ),
  ]);
  return { generatedAt: now.toISOString(), windowDays, operatorAuth: operatorAuthMode(), migrations, verifications, syncs, flags, jobs };
}
