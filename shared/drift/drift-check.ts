/**
 * The scheduled drift check: the live source against its Iceberg tables and against the latest registry version,
 * recording a new registry version when the source's schema changed, and writing `report.json` + `report.html`
 * under the job's reports folder. `runDriftJob` is what the nightly timer's activity calls.
 */
import type { Client } from 'pg';
import type { Settings } from '../config/settings';
import { ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { redactLocation } from '../iceberg/io';
import { type JobResult, jobReportsLocation, writeJobResult } from '../run/job-results';
import { parsePostgresUrl, redactUrl } from '../postgres/connection';
import { displayIdent } from '../postgres/identifiers';
import { boundedText } from '../text/bounded-text';
import { environmentFromSettings, withSource } from '../run/environment';
import { compareSides, withinScope } from './compare-sides';
import { describeIcebergTables } from './describe-iceberg';
import { describeLiveTables } from './describe-live';
import type { DriftFinding } from './drift-model';
import { type DriftComparison, type DriftReport, reportFindings, writeDriftReport } from './drift-report';
import { readLatestRegistry, recordRegistry } from './registry-store';

/** What `runDriftCheck` needs. */
export interface DriftCheckOptions {
  /** Opens a connection to the source (the check closes it). */
  connectSource(): Promise<Client>;
  /** The source as reports show it: a redacted URL, never a password. */
  sourceLabel: string;
  catalog: Catalog;
  /** The warehouse root, where the registry and the reports live. */
  warehouse: string;
  /** PostgreSQL schema (default `public`). */
  schema?: string;
  /** Iceberg namespace of the migrated tables (default: the schema name). */
  namespace?: string;
  /** Only these tables; default every migrated table of the namespace. */
  tables?: readonly string[];
  /** Record a new registry version when the schema changed (default true). */
  record?: boolean;
  /** Where to write report.json and report.html; none written when absent. */
  reportsFolder?: string;
  now?: () => Date;
}

/** What a drift check found. */
export interface DriftCheckResult {
  findings: DriftFinding[];
  report: DriftReport;
  /** The written report files, when a folder was given. */
  reportFiles?: { json: string; html: string };
  /** The check as a job result has it: `findings` when anything differs, `ok` otherwise. */
  outcome: Pick<JobResult, 'status' | 'summary' | 'figures'>;
}

/** Compares every migrated table (or `tables`) of the source with its Iceberg table and with the latest registry version. */
export async function runDriftCheck(options: DriftCheckOptions): Promise<DriftCheckResult> {
  const now = options.now ?? (() => new Date());
  const schema = options.schema ?? 'public';
  const namespace = [options.namespace ?? schema];
  const io = options.catalog.io;
  const iceberg = await describeIcebergTables(options.catalog, namespace, schema, options.tables);
  const live = await withSource({ connectSource: () => options.connectSource(), catalog: options.catalog }, (client) => describeLiveTables(client, schema));
  const scope = new Set(options.tables ?? iceberg.map((t) => t.name));
  // Nothing to look at is a mistake (a wrong warehouse, namespace or name), never "no drift".
  if (scope.size === 0) {
    throw new ValidationError(
      `no table of ${displayIdent(schema)} was migrated into namespace ${namespace.join('.')} of ${redactLocation(options.warehouse)}: nothing to check`,
    );
  }
  const unknown = [...scope].filter((name) => !live.some((t) => t.name === name) && !iceberg.some((t) => t.name === name));
  if (unknown.length > 0) throw new ValidationError(`neither the source nor the warehouse has table(s) ${unknown.map(displayIdent).join(', ')}`);
  const inScope = live.filter((t) => scope.has(t.name));
  const checkedAt = now().toISOString();
  const warehouseLabel = `iceberg ${redactLocation(options.warehouse)} (${namespace.join('.')})`;
  const comparisons: DriftComparison[] = [
    {
      name: 'iceberg',
      before: warehouseLabel,
      after: options.sourceLabel,
      findings: withinScope(
        compareSides({ kind: 'iceberg', label: warehouseLabel, tables: iceberg }, { kind: 'postgres', label: options.sourceLabel, tables: live }),
        schema,
        scope,
      ),
    },
  ];
  const latest = await readLatestRegistry(io, options.warehouse);
  const registered = latest?.tables.filter((t) => t.schema === schema && (options.tables === undefined || scope.has(t.name)));
  if (latest !== undefined && registered !== undefined) {
    const label = `registry v${latest.version}`;
    comparisons.push({
      name: 'registry',
      before: label,
      after: options.sourceLabel,
      findings: withinScope(
        compareSides({ kind: 'registry', label, tables: registered }, { kind: 'postgres', label: options.sourceLabel, tables: live }),
        schema,
        scope,
      ),
    });
  }
  let registry: DriftReport['registry'];
  if (options.record !== false) {
    registry = await recordRegistry(io, options.warehouse, {
      schema,
      tables: inScope,
      source: options.sourceLabel,
      ...(options.tables ? { scope: options.tables } : {}),
      now,
    });
  } else if (latest !== undefined) registry = { version: latest.version, written: false };
  const report: DriftReport = {
    format: 'icebridge-drift-report',
    checkedAt,
    source: options.sourceLabel,
    schema,
    tables: [...scope].sort(),
    ...(registry ? { registry } : {}),
    comparisons,
  };
  const reportFiles = options.reportsFolder === undefined ? undefined : await writeDriftReport(io, options.reportsFolder, report);
  const findings = reportFindings(report);
  return { findings, report, outcome: driftOutcome(report, findings), ...(reportFiles ? { reportFiles } : {}) };
}

/** Status, one-line summary and figures of a check, as its job result records them. */
export function driftOutcome(report: DriftReport, findings: readonly DriftFinding[]): Pick<JobResult, 'status' | 'summary' | 'figures'> {
  const unsafe = findings.filter((f) => f.severity === 'unsafe').length;
  const stops = findings.filter((f) => f.fix.syncStops).length;
  return {
    status: findings.length > 0 ? 'findings' : 'ok',
    summary:
      findings.length === 0
        ? `no schema drift in ${report.tables.length} table(s) of ${report.schema}`
        : `${findings.length} schema difference(s) in ${report.tables.length} table(s) of ${report.schema}: ${unsafe} unsafe, ${stops} stop change capture`,
    figures: {
      tables: report.tables.length,
      findings: findings.length,
      unsafe,
      syncStops: stops,
      ...(report.registry ? { registryVersion: report.registry.version } : {}),
    },
  };
}

/** What the drift job's activity passes: the app's settings, the schedule slot and the orchestration instance. */
export interface DriftJobInput {
  settings: Readonly<Settings>;
  slot: string;
  instanceId: string;
  /** PostgreSQL schema (default `public`). */
  schema?: string;
  /** Iceberg namespace (default: the schema name). */
  namespace?: string;
  /** Only these tables (default every migrated table). */
  tables?: string[];
  now?: () => Date;
}

/**
 * Runs the drift check for one schedule slot, writes its reports under `jobReportsLocation(warehouse, 'drift',
 * slot)`, records the result with `writeJobResult` (a retry of the slot replaces it) and returns it. A check that
 * cannot finish returns (and records) status `failed` with the redacted error instead of throwing.
 */
export async function runDriftJob(input: DriftJobInput): Promise<JobResult> {
  const now = input.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const env = environmentFromSettings(input.settings);
  const warehouse = input.settings.warehouse;
  const reports = jobReportsLocation(warehouse, 'drift', input.slot);
  const base = { job: 'drift', slot: input.slot, instanceId: input.instanceId, startedAt };
  let result: JobResult;
  try {
    const { outcome } = await runDriftCheck({
      connectSource: () => env.connectSource(),
      sourceLabel: input.settings.sourceUrl === undefined ? 'source' : redactUrl(input.settings.sourceUrl),
      catalog: env.catalog,
      warehouse,
      ...(input.schema ? { schema: input.schema } : {}),
      ...(input.namespace ? { namespace: input.namespace } : {}),
      ...(input.tables ? { tables: input.tables } : {}),
      reportsFolder: reports,
      now,
    });
    result = { ...base, finishedAt: now().toISOString(), ...outcome, reports };
  } catch (error) {
    result = {
      ...base,
      finishedAt: now().toISOString(),
      status: 'failed',
      summary: 'the drift check did not finish',
      figures: {},
      error: redactedError(error, input.settings.sourceUrl),
    };
  }
  await writeJobResult(env.catalog.io, warehouse, result);
  return result;
}

/** The error bounded, and without the source URL or its password should any layer below have let one through. */
function redactedError(error: unknown, sourceUrl: string | undefined): string {
  let message = errorMessage(error);
  if (sourceUrl !== undefined) {
    let password: string | undefined;
    try {
      password = parsePostgresUrl(sourceUrl).password;
    } catch {
      password = undefined;
    }
    for (const secret of [sourceUrl, password]) if (secret !== undefined && secret !== '') message = message.split(secret).join('***');
  }
  return boundedText(message);
}
