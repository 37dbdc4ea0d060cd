/**
 * Maintenance of the warehouse's tables, table by table: compact (delete files and small files, compactTable's own
 * rules), expire snapshots older than the retention except those something still needs (snapshot-holds.ts), then
 * remove orphan files older than the safety window. Each step is idempotent, so a run repeated after a crash does
 * what is left. Used by the nightly job and by `icebridge maintain` (which can only list what it would do).
 */
import { errorMessage } from '../errors';
import { boundedText } from '../text/bounded-text';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { compactTable } from '../iceberg/maintenance/compact';
import { removeOrphanFiles } from '../iceberg/maintenance/orphan-files';
import { planSnapshotExpiry } from '../iceberg/maintenance/snapshot-retention';
import { expireSnapshots } from '../iceberg/transaction/snapshot-management';
import { setProperties } from '../iceberg/transaction/table-evolution';
import { CDC_RUN_PROPERTY, changeCaptureRun } from '../sync/applied-lsn';
import { SYNC_CARRIED_PROPERTIES } from '../sync/auto-compact';
import type { JobSettings } from './job-settings';
import { jobReportsLocation } from '../run/job-results';
import type { JobHubClient, JobOutcome, JobPreparation, JobRunContext, RestoreHold, ScheduledJob } from './scheduled-job';
import { neededSnapshots } from './snapshot-holds';

const DAY_MS = 86_400_000;

/** What to maintain and how. */
export interface MaintainOptions {
  tables: TableIdentifier[];
  now: Date;
  retentionDays: number;
  retainLast: number;
  orphanDays: number;
  restoreHolds?: readonly RestoreHold[];
  /** Plan and list, change nothing (no compaction, no expiry, no deletion). */
  dryRun?: boolean;
  /** Skip compaction (the CLI's dry run cannot plan it without writing). */
  compact?: boolean;
}

/** One table's maintenance. */
export interface TableMaintenance {
  table: string;
  compacted: boolean;
  rewrittenDataFiles: number;
  expiredSnapshots: string[];
  /** Old snapshots kept because something needs them, with why. */
  keptSnapshots: Array<{ snapshotId: string; reason: string }>;
  /** Manifest lists, manifests and data files the expiry deleted. */
  expiredFiles: number;
  orphanFiles: string[];
  orphanBytes: number;
  youngOrphans: number;
  /** Unreferenced files of a migration that has not committed yet, kept. */
  uncommittedFiles: number;
  error?: string;
}

/** Maintains each table in turn; a table that fails is reported with its error and the others go on. */
export async function maintainTables(catalog: Catalog, options: MaintainOptions): Promise<TableMaintenance[]> {
  const out: TableMaintenance[] = [];
  for (const id of options.tables) {
    const report: TableMaintenance = {
      table: [...id.namespace, id.name].join('.'),
      compacted: false,
      rewrittenDataFiles: 0,
      expiredSnapshots: [],
      keptSnapshots: [],
      expiredFiles: 0,
      orphanFiles: [],
      orphanBytes: 0,
      youngOrphans: 0,
      uncommittedFiles: 0,
    };
    try {
      if (!options.dryRun && options.compact !== false) {
        const compacted = await compactTable(catalog, id, { carriedProperties: SYNC_CARRIED_PROPERTIES });
        report.compacted = compacted.compacted;
        report.rewrittenDataFiles = compacted.rewrittenDataFiles;
      }
      let { metadata } = await catalog.loadTable(id);
      const run = changeCaptureRun(metadata);
      if (run !== undefined && metadata.properties[CDC_RUN_PROPERTY] === undefined) {
        // Recorded before expiry, so the run is still known once the snapshots down to the hand-over are gone (a
        // dry run plans as if it were).
        metadata = options.dryRun
          ? { ...metadata, properties: { ...metadata.properties, [CDC_RUN_PROPERTY]: run.runId } }
          : (await setProperties(catalog, id, { [CDC_RUN_PROPERTY]: run.runId })).metadata;
      }
      const plan = planSnapshotExpiry(metadata, {
        cutoffMs: options.now.getTime() - options.retentionDays * DAY_MS,
        retainLast: options.retainLast,
        needed: neededSnapshots(metadata, id, options.restoreHolds),
      });
      report.keptSnapshots = plan.kept.map((k) => ({ snapshotId: k.snapshotId.toString(), reason: k.reason }));
      if (plan.expire.length > 0 && !options.dryRun) {
        const expired = await expireSnapshots(catalog, id, { snapshotIds: plan.expire });
        report.expiredSnapshots = expired.expiredSnapshotIds.map(String);
        report.expiredFiles = expired.deletedFiles.length;
      } else report.expiredSnapshots = plan.expire.map(String);
      const orphans = await removeOrphanFiles(catalog, id, { olderThanMs: options.now.getTime() - options.orphanDays * DAY_MS, dryRun: options.dryRun });
      report.orphanFiles = orphans.removed;
      report.orphanBytes = orphans.bytes;
      report.youngOrphans = orphans.young;
      report.uncommittedFiles = orphans.uncommitted;
    } catch (error) {
      report.error = errorMessage(error);
    }
    out.push(report);
  }
  return out;
}

/** The tables of the namespaces, in order. */
export async function tablesOf(catalog: Catalog, namespaces: readonly string[]): Promise<TableIdentifier[]> {
  const ids: TableIdentifier[] = [];
  for (const namespace of namespaces) ids.push(...(await catalog.listTables(namespace.split('.'))));
  return ids;
}

/** The restoreDatabase orchestration's name, as the task hub knows it (orchestrators/names.ts). */
const RESTORE_ORCHESTRATION = 'restoreDatabase';

async function prepare(client: JobHubClient, settings: JobSettings, now: Date): Promise<JobPreparation> {
  // A purge that fails is no reason to leave the tables unmaintained; not knowing the restores in progress is.
  let purge: Pick<JobPreparation, 'historyPurged' | 'historyPurgeError'>;
  try {
    purge = { historyPurged: await client.purgeFinishedBefore(new Date(now.getTime() - settings.historyDays * DAY_MS)) };
  } catch (error) {
    purge = { historyPurgeError: boundedText(errorMessage(error)) };
  }
  const restoreHolds: RestoreHold[] = [];
  for (const input of await client.unfinishedInputs(RESTORE_ORCHESTRATION)) {
    const restore = input as Partial<{ namespace: string; tables: string[]; asOf: RestoreHold['asOf'] }> | null;
    if (restore?.namespace === undefined || restore.asOf === undefined) continue;
    restoreHolds.push({ namespace: restore.namespace, asOf: restore.asOf, ...(restore.tables ? { tables: restore.tables } : {}) });
  }
  return { ...purge, restoreHolds };
}

async function run(env: { catalog: Catalog }, context: JobRunContext): Promise<JobOutcome> {
  const { settings } = context;
  const tables = await maintainTables(env.catalog, {
    tables: await tablesOf(env.catalog, settings.namespaces),
    now: context.now,
    retentionDays: settings.retentionDays,
    retainLast: settings.retainLast,
    orphanDays: settings.orphanDays,
    restoreHolds: context.prepared.restoreHolds ?? [],
  });
  const sum = (f: (t: TableMaintenance) => number): number => tables.reduce((s, t) => s + f(t), 0);
  const figures = {
    tables: tables.length,
    failedTables: sum((t) => (t.error === undefined ? 0 : 1)),
    compactedTables: sum((t) => (t.compacted ? 1 : 0)),
    expiredSnapshots: sum((t) => t.expiredSnapshots.length),
    keptSnapshots: sum((t) => t.keptSnapshots.length),
    expiredFiles: sum((t) => t.expiredFiles),
    orphanFiles: sum((t) => t.orphanFiles.length),
    orphanBytes: sum((t) => t.orphanBytes),
    historyPurged: context.prepared.historyPurged ?? 0,
  };
  const failed = tables.filter((t) => t.error !== undefined);
  const purgeError = context.prepared.historyPurgeError;
  const reports = jobReportsLocation(context.warehouse, context.job, context.slot);
  await env.catalog.io.write(
    `${reports}/report.json`,
    new TextEncoder().encode(`${JSON.stringify({ job: context.job, slot: context.slot, figures, tables }, null, 2)}\n`),
  );
  return {
    reports,
    status: failed.length > 0 || purgeError !== undefined ? 'findings' : 'ok',
    summary:
      `${figures.tables} tables: ${figures.compactedTables} compacted, ${figures.expiredSnapshots} snapshots expired ` +
      `(${figures.keptSnapshots} old ones kept as needed), ${figures.orphanFiles} orphan files removed, ` +
      `${figures.historyPurged} instance histories purged` +
      (failed.length > 0 ? `; failed: ${failed.map((t) => `${t.table} (${t.error})`).join(', ')}` : '') +
      (purgeError === undefined ? '' : `; the history purge failed: ${purgeError}`),
    figures,
  };
}

/** The nightly maintenance job (its settings: JOB_SETTING_NAMES, `ICEBRIDGE_MAINTENANCE_*`). */
export const maintenanceJob: ScheduledJob = {
  name: 'maintenance',
  scheduleSetting: 'ICEBRIDGE_MAINTENANCE_SCHEDULE',
  defaultSchedule: '0 30 3 * * *',
  prepare,
  run,
};
