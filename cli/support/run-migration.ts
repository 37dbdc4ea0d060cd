/**
 * Runs a migration through the in-process local host: the same function modules, orchestrations and
 * activities as on Azure, with history kept in a state directory so an interrupted run resumes.
 */
import type { MigrateDatabaseInput, MigrationProgress } from '../../shared/migrate/contracts';
import { copyWorkerCount } from '../../shared/migrate/copy-resources';
import { type MigrationReport, buildMigrationReport } from '../../shared/migrate/migration-status';
import { failureMessage, isFinished, tablesStarted } from '../../shared/run/instance-status';
import { onCopyProgress } from '../../shared/telemetry/copy-progress';
import { Orchestrations } from '../../orchestrators/names';
import type { LocalHost } from '../local-host';
import { type LocalRunOptions, commandFingerprint, startOrResume, tableReads, untilNextLook, withLocalHost } from './local-run';
import { ProgressDisplay, type ProgressOutput } from './progress';

/** Options of runMigration. */
export interface RunMigrationOptions extends LocalRunOptions {
  /** Everything but the run id; the run id is derived from the command so a repeat resumes. */
  input: Omit<MigrateDatabaseInput, 'runId'>;
  /** Where progress goes; nothing is shown when absent. */
  progress?: ProgressOutput;
  /** Clock of the progress display; defaults to `Date.now`. */
  now?: () => number;
}

/** Runs (or resumes) the migration and returns its final report. */
export async function runMigration(options: RunMigrationOptions): Promise<MigrationReport> {
  // Every worker the pool may hold: a table's partitions fan out to all of them.
  return withLocalHost({ ...options, warmWorkers: copyWorkerCount() }, async (host) => {
    const instanceId = await startOrResume(
      host,
      `run-${commandFingerprint(options, options.input)}`,
      Orchestrations.migrateDatabase,
      (runId) => ({ ...options.input, runId }) satisfies MigrateDatabaseInput,
    );
    const now = options.now ?? Date.now;
    const display = options.progress ? new ProgressDisplay(options.progress, now) : undefined;
    const startedAt = new Map<string, number>();
    // The plan's warnings (a source that cannot share one snapshot) are said at the start, not only at the end.
    let warned = false;
    // Rows of partitions still copying, so bars move between partition completions.
    const inFlight = new Map<string, Map<number, number>>();
    const runId = instanceId;
    const stopListening = onCopyProgress((p) => {
      if (p.runId !== runId) return;
      let partitions = inFlight.get(p.table);
      if (!partitions) inFlight.set(p.table, (partitions = new Map<number, number>()));
      partitions.set(p.partition, p.rows);
    });
    try {
      for (;;) {
        const report = currentReport(host, instanceId);
        if (display && options.progress && !warned && report.phase !== 'planning' && report.phase !== 'pending') {
          warned = true;
          for (const warning of report.warnings?.shown ?? []) options.progress.write(`warning: ${warning}\n`);
        }
        if (display) {
          // A table whose instance has not started yet has no name to show.
          const views = report.details
            .filter((t) => t.table !== '')
            .map((t) => {
              if (!startedAt.has(t.table) && t.phase !== 'pending') startedAt.set(t.table, now());
              const copying = [...(inFlight.get(t.table)?.values() ?? [])].reduce((a, b) => a + b, 0);
              const rows = t.status || t.phase !== 'copying' ? t.rows : Math.max(t.rows, copying);
              return {
                table: t.table,
                phase: t.status ?? t.phase,
                rows,
                estimatedRows: t.estimatedRows,
                partitionsDone: t.partitions.done,
                partitionsTotal: t.partitions.total,
                startedAtMs: startedAt.get(t.table) ?? now(),
              };
            });
          if (isFinished(report.runtimeStatus)) display.finish(views);
          else display.update(views);
        }
        if (isFinished(report.runtimeStatus)) return report;
        // Without a display nothing needs the figures before the end: wait for it instead of reading every table.
        if (!display) await host.waitForCompletion(instanceId, { timeoutInMs: 2 ** 31 - 1 });
        // The display redraws four times a second; each redraw reads every started table's status.
        else await untilNextLook(host, instanceId, 250);
      }
    } finally {
      stopListening();
    }
  });
}

function currentReport(host: LocalHost, instanceId: string): MigrationReport {
  const run = host.getStatus(instanceId, { showInput: false });
  if (!run) throw new Error(`instance ${instanceId} disappeared from the state directory`);
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const started = tablesStarted(run.customStatus);
  const verification = progress.verificationId === undefined ? undefined : host.getStatus(progress.verificationId, { showInput: false });
  const report = buildMigrationReport(instanceId, run, tableReads(host, instanceId, started), { offset: 0, limit: started }, Date.now(), verification);
  if (run.runtimeStatus === 'Failed' && report.lastError === undefined) report.lastError = failureMessage(run.output);
  return report;
}
