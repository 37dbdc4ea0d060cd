/**
 * Runs a migration through the in-process local host: the same function modules, orchestrations and
 * activities as on Azure, with history kept in a state directory so an interrupted run resumes.
 */
import { createHash } from 'node:crypto';
import type { MigrateDatabaseInput, MigrationProgress } from '../shared/migrate/contracts';
import { type InstanceSnapshot, type MigrationReport, buildMigrationReport, isFinished } from '../shared/migrate/migration-status';
import { redactUrl } from '../shared/postgres/connection';
import { onCopyProgress } from '../shared/telemetry/copy-progress';
import { Orchestrations } from '../orchestrators/names';
import { LocalHost, silentHostLog } from './local-host';
import { ProgressDisplay, type ProgressOutput } from './progress';

/** Options of runMigration. */
export interface RunMigrationOptions {
  /** Everything but the run id; the run id is derived from the command so a repeat resumes. */
  input: Omit<MigrateDatabaseInput, 'runId'>;
  sourceUrl: string;
  warehouse: string;
  stateDir: string;
  /** Where progress goes; nothing is shown when absent. */
  progress?: ProgressOutput;
  maxConcurrentActivities?: number;
}

/**
 * Loads the app's function modules. A dynamic import (not a path for `require`) so the same line works from the
 * compiled JavaScript, under tsx, and under the test runner's own module loader.
 */
export async function loadFunctionModules(): Promise<void> {
  await import('../functions/index.js');
}

/** Runs (or resumes) the migration and returns its final report. */
export async function runMigration(options: RunMigrationOptions): Promise<MigrationReport> {
  // The activities read the source and warehouse from settings, exactly as on Azure.
  process.env.ICEBRIDGE_SOURCE_URL = options.sourceUrl;
  process.env.ICEBRIDGE_WAREHOUSE = options.warehouse;
  const host = await LocalHost.load(loadFunctionModules, {
    stateDir: options.stateDir,
    maxConcurrentActivities: options.maxConcurrentActivities ?? 2,
    log: silentHostLog,
  });
  try {
    const base = `run-${fingerprint(options)}`;
    let instanceId: string | undefined;
    // A finished run is history; the same command then starts the next run. An unfinished one is resumed.
    for (let n = 1; ; n++) {
      const id = `${base}-${n}`;
      const status = host.getStatus(id);
      if (!status) break;
      if (!isFinished(status.runtimeStatus)) {
        instanceId = id;
        break;
      }
    }
    await host.resumeAll();
    if (!instanceId) {
      let n = 1;
      while (host.getStatus(`${base}-${n}`)) n++;
      instanceId = `${base}-${n}`;
      await host.startOrchestration(Orchestrations.migrateDatabase, { ...options.input, runId: instanceId } satisfies MigrateDatabaseInput, instanceId);
    }
    const display = options.progress ? new ProgressDisplay(options.progress) : undefined;
    const startedAt = new Map<string, number>();
    // Rows of partitions still copying, so bars move between partition completions.
    const inFlight = new Map<string, Map<number, number>>();
    const runId = instanceId;
    const stopListening = onCopyProgress((p) => {
      if (p.runId !== runId) return;
      let partitions = inFlight.get(p.table);
      if (!partitions) inFlight.set(p.table, (partitions = new Map()));
      partitions.set(p.partition, p.rows);
    });
    try {
      for (;;) {
        const report = currentReport(host, instanceId);
        if (display) {
          const views = report.details.map((t) => {
            if (!startedAt.has(t.table) && t.phase !== 'pending') startedAt.set(t.table, Date.now());
            const copying = [...(inFlight.get(t.table)?.values() ?? [])].reduce((a, b) => a + b, 0);
            const rows = t.status || t.phase !== 'copying' ? t.rows : Math.max(t.rows, copying);
            return {
              table: t.table, phase: t.status ?? t.phase, rows, estimatedRows: t.estimatedRows,
              partitionsDone: t.partitions.done, partitionsTotal: t.partitions.total, startedAtMs: startedAt.get(t.table) ?? Date.now(),
            };
          });
          if (isFinished(report.runtimeStatus)) display.finish(views);
          else display.update(views);
        }
        if (isFinished(report.runtimeStatus)) return report;
        // Short enough that noticing completion adds little to small runs; the display redraws at the same pace.
        await new Promise((resolve) => setTimeout(resolve, options.progress ? 250 : 50));
      }
    } finally {
      stopListening();
    }
  } finally {
    await host.close();
  }
}

function currentReport(host: LocalHost, instanceId: string): MigrationReport {
  const run = host.getStatus(instanceId);
  if (!run) throw new Error(`instance ${instanceId} disappeared from the state directory`);
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const tables = new Map<string, InstanceSnapshot>();
  for (const [table, id] of Object.entries(progress.tableInstances ?? {})) {
    const status = host.getStatus(id);
    if (status) tables.set(table, status);
  }
  const report = buildMigrationReport(instanceId, run, tables, Date.now());
  if (run.runtimeStatus === 'Failed' && report.lastError === undefined) report.lastError = String((run.output as { message?: string } | undefined)?.message ?? run.output ?? 'failed');
  return report;
}

/** Same command, same fingerprint: source (without its password), warehouse and the request itself. */
function fingerprint(options: RunMigrationOptions): string {
  return createHash('sha256')
    .update(JSON.stringify([redactUrl(options.sourceUrl), options.warehouse, options.input]))
    .digest('hex')
    .slice(0, 12);
}
