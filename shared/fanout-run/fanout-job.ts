/**
 * The fan-out part of the nightly consistency job: for every migrate --cdc run of the job's namespaces, when
 * downstream systems are configured, the cross-system check of the run's tables, its report written beside the
 * job's own (`<reports>/fanout-<run>/report.{json,html}`).
 */
import type { Catalog } from '../iceberg/catalog/catalog';
import type { RunEnvironment } from '../run/environment';
import { withSource } from '../run/environment';
import { changeCaptureRuns } from '../sync/applied-lsn';
import { writeFanoutReport } from '../fanout/consistency/check-fanout';
import { fanoutSystemsOf, openFanoutSystems } from './fanout-systems';
import { checkRun, runTables } from './fanout-run';

/** One run's check, for the job's findings and figures. */
export interface FanoutJobResult {
  runId: string;
  differences: number;
  tables: number;
  systems: string[];
  report: string;
  /** The first differences, as lines naming entity, key and systems. */
  lines: string[];
}

/** Checks every run's fan-out; nothing (an empty list) when no downstream system is configured. */
export async function checkFanoutRuns(
  env: RunEnvironment,
  settings: NodeJS.ProcessEnv,
  namespaces: readonly string[],
  reports: string,
  now: Date,
): Promise<FanoutJobResult[]> {
  if (fanoutSystemsOf(settings).length === 0) return [];
  const results: FanoutJobResult[] = [];
  for (const runId of await runsOf(env.catalog, namespaces)) {
    const systems = await openFanoutSystems(settings, runId);
    try {
      const report = await withSource(env, async (source) => checkRun({ source, catalog: env.catalog, systems, tables: await runTables(source, runId), now }));
      const written = await writeFanoutReport(env.catalog.io, `${reports}/fanout-${runId.replace(/[^A-Za-z0-9._-]/g, '_')}`, report);
      results.push({
        runId,
        differences: report.differenceCount,
        tables: report.tables.length,
        systems: report.systems,
        report: written.html,
        lines: report.tables.flatMap((t) =>
          t.differences.slice(0, 3).map((d) => `${d.entity} key ${d.key}: ${d.kind} in ${d.systems.join(', ')} (${d.detail})`),
        ),
      });
    } finally {
      await systems.close();
    }
  }
  return results;
}

async function runsOf(catalog: Catalog, namespaces: readonly string[]): Promise<string[]> {
  const runs = new Set<string>();
  for (const namespace of namespaces) for (const run of await changeCaptureRuns(catalog, [namespace])) runs.add(run);
  return [...runs].sort();
}
