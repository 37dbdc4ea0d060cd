/**
 * The nightly consistency check: a quick verification (schema, counts, aggregates) of every migrated table of the
 * job's namespaces against the live source, and the state of change capture (replication lag of each run's slot,
 * tables stopped), written as `report.json` and a self-contained `report.html` under the run's reports folder, so
 * the history builds up beside the job results. Findings: a table that differs or could not be verified, a
 * stopped table, lag over a threshold.
 */
import { type FanoutJobResult, checkFanoutRuns } from '../fanout-run/fanout-job';
import { CDC_LSN_PROPERTY, formatLsn, parseLsn } from '../cdc/lsn';
import { inspectReplicationSlot } from '../cdc/replication-setup';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { ancestorsOf } from '../iceberg/spec/table-metadata';
import { SOURCE_PROPERTY } from '../migrate/commit-table';
import { handoverName } from '../migrate/handover-names';
import { redactUrl } from '../postgres/connection';
import { type RunEnvironment, withSource } from '../run/environment';
import { appliedLsn, changeCaptureRun } from '../sync/applied-lsn';
import { readTableStop } from '../sync/table-stop';
import type { VerificationReport } from '../verify/contracts';
import { orderedReport } from '../verify/reports/report-json';
import { verifyTables } from '../verify/steps/verify-table';
import { jobReportsLocation } from '../run/job-results';
import { renderConsistencyHtml } from './consistency-report';
import type { JobOutcome, JobRunContext, ScheduledJob } from './scheduled-job';
import { tablesOf } from './maintenance-job';

/** Change capture of one table, as the consistency job found it. */
export interface TableSyncState {
  table: string;
  runId: string;
  slot: string;
  appliedLsn?: string;
  /** The slot exists on the source (a dropped slot means change capture of the run was ended). */
  slotExists: boolean;
  /** WAL bytes written since the slot's confirmed position. */
  lagBytes?: number;
  /** Seconds since the table's newest change-capture commit, counted only while WAL waits for the slot. */
  lagSeconds?: number;
  stopped?: { reason: string; lsn: string; at: string };
}

/** The whole of a consistency run: what `report.json` holds. */
export interface ConsistencyReport {
  job: string;
  slot: string;
  generatedAt: string;
  thresholds: { maxLagBytes: number; maxLagSeconds: number };
  findings: string[];
  syncs: TableSyncState[];
  verification: VerificationReport;
  /** Each run's cross-system check, when downstream systems are configured (each with its own report). */
  fanout?: FanoutJobResult[];
}

/** WAL the slot has not confirmed below this is the sync's normal breathing, not lag that has an age. */
const IDLE_WAL_BYTES = 1024 * 1024;

async function syncStates(env: RunEnvironment, ids: readonly TableIdentifier[], now: Date): Promise<TableSyncState[]> {
  const states: TableSyncState[] = [];
  await withSource(env, async (client) => {
    const wal = parseLsn((await client.query<{ lsn: string }>('SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn);
    for (const id of ids) {
      const { metadata } = await env.catalog.loadTable(id);
      const run = changeCaptureRun(metadata);
      if (run === undefined) continue;
      const slot = handoverName(run.runId);
      const applied = appliedLsn(metadata);
      const stop = readTableStop(metadata, slot);
      const slotState = await inspectReplicationSlot(client, slot);
      const state: TableSyncState = {
        table: [...id.namespace, id.name].join('.'),
        runId: run.runId,
        slot,
        slotExists: slotState.exists,
        ...(applied === undefined ? {} : { appliedLsn: formatLsn(applied) }),
        ...(stop === undefined ? {} : { stopped: stop }),
      };
      if (slotState.exists) {
        state.lagBytes = Number(wal > slotState.confirmedFlushLsn ? wal - slotState.confirmedFlushLsn : 0n);
        const lastWrite = ancestorsOf(metadata, metadata['current-snapshot-id']).find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined);
        state.lagSeconds = state.lagBytes > IDLE_WAL_BYTES && lastWrite !== undefined ? Math.max(0, (now.getTime() - lastWrite['timestamp-ms']) / 1000) : 0;
      }
      states.push(state);
    }
  });
  return states;
}

/** Runs the check over `ids` and returns its report (nothing written). */
export async function checkConsistency(env: RunEnvironment, ids: readonly TableIdentifier[], context: JobRunContext): Promise<ConsistencyReport> {
  const requests = [];
  for (const id of ids) {
    const source = (await env.catalog.loadTable(id)).metadata.properties[SOURCE_PROPERTY];
    // Only tables icebridge migrated name their source; anything else in the namespace is not ours to check.
    const dot = source?.indexOf('.') ?? -1;
    if (source === undefined || dot < 0) continue;
    requests.push({ source: { schema: source.slice(0, dot), name: source.slice(dot + 1) }, target: id });
  }
  const verification = await verifyTables(
    env,
    { source: env.sourceUrl === undefined ? 'the source' : redactUrl(env.sourceUrl), warehouse: context.warehouse, tables: requests },
    { level: 'quick' },
  );
  const syncs = await syncStates(env, ids, context.now);
  const { maxLagBytes, maxLagSeconds } = context.settings;
  const findings: string[] = [];
  for (const t of verification.tables)
    if (t.status !== 'ok') findings.push(`${t.table}: ${t.status === 'error' ? `not verified (${t.error ?? 'error'})` : 'differs'}`);
  for (const s of syncs) {
    if (s.stopped !== undefined) findings.push(`${s.table}: change capture stopped at ${s.stopped.lsn} (${s.stopped.reason})`);
    if ((s.lagBytes ?? 0) > maxLagBytes) findings.push(`${s.table}: replication lag ${s.lagBytes} bytes is over ${maxLagBytes}`);
    if ((s.lagSeconds ?? 0) > maxLagSeconds)
      findings.push(`${s.table}: nothing applied for ${Math.round(s.lagSeconds!)} s while WAL waits (over ${maxLagSeconds} s)`);
  }
  return {
    job: context.job,
    slot: context.slot,
    generatedAt: context.now.toISOString(),
    thresholds: { maxLagBytes, maxLagSeconds },
    findings,
    syncs,
    verification,
  };
}

async function run(env: RunEnvironment, context: JobRunContext): Promise<JobOutcome> {
  const report = await checkConsistency(env, await tablesOf(env.catalog, context.settings.namespaces), context);
  const reports = jobReportsLocation(context.warehouse, context.job, context.slot);
  // The downstream systems (event store, Kafka, ClickHouse, Weaviate), when configured: their own report each.
  const fanout = await checkFanoutRuns(env, context.env, context.settings.namespaces, reports, context.now);
  for (const f of fanout)
    if (f.differences > 0) report.findings.push(`fan-out of run ${f.runId}: ${f.differences} differences (${f.lines.slice(0, 3).join('; ')})`);
  report.fanout = fanout;
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
  await env.catalog.io.write(`${reports}/report.json`, encode(`${JSON.stringify({ ...report, verification: orderedReport(report.verification) }, null, 2)}\n`));
  await env.catalog.io.write(`${reports}/report.html`, encode(renderConsistencyHtml(report)));
  const tables = report.verification.tables;
  const figures = {
    tables: tables.length,
    differing: tables.filter((t) => t.status === 'differs').length,
    unverified: tables.filter((t) => t.status === 'error').length,
    syncedTables: report.syncs.length,
    stoppedTables: report.syncs.filter((s) => s.stopped !== undefined).length,
    maxLagBytes: Math.max(0, ...report.syncs.map((s) => s.lagBytes ?? 0)),
    maxLagSeconds: Math.max(0, ...report.syncs.map((s) => Math.round(s.lagSeconds ?? 0))),
    fanoutDifferences: fanout.reduce((sum, f) => sum + f.differences, 0),
  };
  return {
    status: report.findings.length === 0 ? 'ok' : 'findings',
    summary:
      report.findings.length === 0
        ? `${figures.tables} tables verified exact (quick), ${figures.syncedTables} under change capture, none stopped or lagging`
        : `${report.findings.length} findings: ${report.findings.slice(0, 3).join('; ')}${report.findings.length > 3 ? '; …' : ''}`,
    figures,
    reports,
  };
}

/** The nightly consistency job (thresholds: `ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES`, `..._SECONDS`). */
export const consistencyJob: ScheduledJob = {
  name: 'consistency',
  scheduleSetting: 'ICEBRIDGE_CONSISTENCY_SCHEDULE',
  defaultSchedule: '0 0 2 * * *',
  run,
};
