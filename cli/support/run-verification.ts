/** Runs a verification through the in-process local host, as verifyDatabase runs on Azure. */
import type { VerificationReport, VerifyDatabaseInput } from '../../shared/verify/contracts';
import { loadSettings } from '../../shared/config/settings';
import { rangeWorkerThreads } from '../../shared/migrate/copy-worker-pool';
import { sourceOnThisMachine } from '../../shared/postgres/connection';
import { defaultRangesAtOnce } from '../../shared/verify/steps/plan-verification';
import type { FileIO } from '../../shared/iceberg/io';
import { environmentFromSettings } from '../../shared/run/environment';
import { type VerificationStatus, buildVerificationStatus, completedReport } from '../../shared/verify/status/verification-status';
import { type InstanceSnapshot, isFinished, tablesStarted } from '../../shared/run/instance-status';
import { Orchestrations } from '../../orchestrators/names';
import type { LocalHost } from '../local-host';
import { type LocalRunOptions, commandFingerprint, startOrResume, tableReads, untilNextLook, withLocalHost } from './local-run';

/** Options of runVerification. */
export interface RunVerificationOptions extends LocalRunOptions {
  /** Everything but the id; the id is derived from the command so a repeat resumes an interrupted run. */
  input: Omit<VerifyDatabaseInput, 'verificationId'>;
  /** Where a line per finished table goes; nothing is shown when absent. */
  progress?: NodeJS.WritableStream;
  /** Reads the table reports the verification kept in the warehouse (default: storage as the settings describe it). */
  io?: FileIO;
}

/** Runs (or resumes) the verification and returns its final status, with the whole report when it completed. */
export async function runVerification(options: RunVerificationOptions): Promise<VerificationStatus> {
  // As many workers as a table's key ranges run at once, as planVerification counts them.
  const warmWorkers = defaultRangesAtOnce(rangeWorkerThreads(options.warehouse), sourceOnThisMachine(options.sourceUrl));
  return withLocalHost({ ...options, warmWorkers }, async (host) => {
    const id = await startOrResume(
      host,
      `verify-${commandFingerprint(options, options.input)}`,
      Orchestrations.verifyDatabase,
      (verificationId) => ({ ...options.input, verificationId }) satisfies VerifyDatabaseInput,
    );
    const shown = new Set<string>();
    for (;;) {
      const status = currentStatus(host, id);
      if (options.progress) {
        for (const table of status.details) {
          if (table.status === undefined || shown.has(table.table)) continue;
          shown.add(table.table);
          options.progress.write(`verified ${table.table}: ${table.status} (${status.tables.done}/${status.tables.total})\n`);
        }
      }
      if (isFinished(status.runtimeStatus)) {
        const report = await completedReport(options.io ?? environmentFromSettings(loadSettings()).catalog.io, runOf(host, id));
        return report ? currentStatus(host, id, report) : status;
      }
      // Each look reads every started table's status: four times a second is enough for a line per table.
      await untilNextLook(host, id, 250);
    }
  });
}

function runOf(host: LocalHost, id: string): InstanceSnapshot {
  const run = host.getStatus(id, { showInput: false });
  if (!run) throw new Error(`instance ${id} disappeared from the state directory`);
  return run;
}

function currentStatus(host: LocalHost, id: string, report?: VerificationReport): VerificationStatus {
  const run = runOf(host, id);
  const started = tablesStarted(run.customStatus);
  return buildVerificationStatus(id, run, tableReads(host, id, started), { offset: 0, limit: started }, Date.now(), report);
}
