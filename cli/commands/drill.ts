/** `icebridge drill`: run the rollback drills on scratch objects, to prove the recovery paths before cutover. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import type { DrillEnvironment } from '../../shared/drills/drill-environment';
import type { DrillStep } from '../../shared/drills/drill-steps';
import { DRILLS, type DrillName, type DrillResult, isDrillName, runDrill } from '../../shared/drills/run-drill';
import { redactUrl } from '../../shared/postgres/connection';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { environmentFromSettings } from '../../shared/run/environment';
import { type FlagSpec, UsageError, parseCommandLine, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { runMigration } from '../support/run-migration';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge drill`. */
export const DRILL_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root: a directory, file://… or abfss://…' },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'keep', description: 'keep the scratch schema, namespace and flags file for inspection' },
  { name: 'json', description: 'print the results as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Run rollback drills: snapshot-rollback, point-in-time, partial-failure, or all (in that order). Each
works only on a scratch PostgreSQL schema icebridge_drill_<stamp> and the Iceberg namespace of the same name, both
made by the drill and removed afterwards even when a step fails (unless --keep), and on a scratch flags file in a
temporary directory: never on your tables or your flags. Every step is printed with its outcome and time.
Exit status: 0 every drill passed, 1 a step failed (named), 2 usage error.`;

/** The usage text of `icebridge drill`. */
export const DRILL_USAGE = usage('drill', SUMMARY, DRILL_FLAGS, `<${[...Object.keys(DRILLS), 'all'].join('|')}> [options]`);

/** Runs the command; returns the exit status. */
export async function drillCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, DRILL_FLAGS, { positionals: true });
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${DRILL_USAGE}`);
    return 2;
  }
  const { flags, positionals } = parsed;
  if (flags.help) {
    out.write(DRILL_USAGE);
    return 0;
  }
  const [which, ...extra] = positionals;
  if (which === undefined || extra.length > 0 || !(which === 'all' || isDrillName(which))) {
    err.write(`${which === undefined ? 'name a drill' : `unknown drill ${JSON.stringify(positionals.join(' '))}`}\n\n${DRILL_USAGE}`);
    return 2;
  }
  const names: DrillName[] = which === 'all' ? (Object.keys(DRILLS) as DrillName[]) : [which];
  let tempDir: string | undefined;
  try {
    const { url: source } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const settings = loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: source, ICEBRIDGE_WAREHOUSE: warehouse });
    tempDir = await mkdtemp(path.join(tmpdir(), 'icebridge-drill-'));
    const stateDir = path.join(tempDir, 'state');
    const results: DrillResult[] = [];
    for (const name of names) {
      if (!flags.json) out.write(`drill ${name} (source ${redactUrl(source)}, warehouse ${warehouse})\n`);
      const drillDir = path.join(tempDir, name);
      const drill: DrillEnvironment = {
        env: environmentFromSettings(settings),
        migrate: (request) =>
          runMigration({
            input: { sourceSchema: request.schema, namespace: request.namespace, tables: request.tables, concurrency: 2, verify: 'none' },
            sourceUrl: source,
            warehouse,
            stateDir,
          }),
        tempDir: drillDir,
        actor: userInfo().username,
      };
      const result = await runDrill(name, drill, { keep: flags.keep === true, ...(flags.json ? {} : { onStep: (s) => out.write(describeStep(s)) }) });
      results.push(result);
      if (!flags.json) out.write(describeResult(result, drillDir));
    }
    if (flags.json) out.write(`${JSON.stringify({ passed: results.every((r) => r.passed), drills: results }, null, 2)}\n`);
    return results.every((r) => r.passed) ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`drill failed: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    if (tempDir !== undefined && flags.keep !== true) await rm(tempDir, { recursive: true, force: true });
    else if (tempDir !== undefined) err.write(`kept the drills' flags files and run history in ${tempDir}\n`);
  }
}

function describeStep(step: DrillStep): string {
  const time = (step.ms < 1000 ? `${step.ms} ms` : `${(step.ms / 1000).toFixed(1)} s`).padStart(8);
  return `  ${step.outcome === 'passed' ? 'ok  ' : 'FAIL'} ${time}  ${step.name}${step.detail ? `: ${step.detail}` : ''}\n`;
}

function describeResult(result: DrillResult, drillDir: string): string {
  const kept = result.scratch.kept ? `; kept schema and namespace ${result.scratch.name}, flags under ${drillDir}` : '';
  return result.passed ? `drill ${result.drill}: passed${kept}\n\n` : `drill ${result.drill}: FAILED at "${result.failedStep}"${kept}\n\n`;
}
