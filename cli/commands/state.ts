/**
 * `icebridge state list` shows the runs kept in a state directory (from the status records beside the journals,
 * without reading journals); `icebridge state prune` deletes finished runs older than a duration, and on request
 * unfinished or damaged ones. A run is a root instance and its sub-orchestrations; it is deleted whole.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { deleteStoredFiles, listStoredInstances, type StoredInstance } from '../local-host/instance-summary';
import { inTree, rootOf } from '../local-host/instance-tree';
import { isTerminal } from '../local-host/instance';
import { DEFAULT_MAX_JOURNAL_BYTES, formatBytes, loadJournal } from '../local-host/journal-reader';
import type { RuntimeStatus } from '../local-host/journal';
import { UsageError } from '../support/args';
import { DEFAULT_STATE_DIR } from '../support/local-run';

/** Whether a recorded status is one no further episode follows. */
const finished = (status: string | undefined): boolean => status !== undefined && isTerminal(status as RuntimeStatus);

const HELP = `usage: icebridge state <list|prune> [options]

  list   list the runs kept in the state directory
         [--state-dir dir] [--json]
  prune  delete runs (a run and all its sub-instances) from the state directory
         (--older-than <duration> | --all-finished) [--include-unfinished] [--damaged] [--dry-run] [--state-dir dir]

options:
  --state-dir <dir>       the state directory (default ${DEFAULT_STATE_DIR})
  --json                  print the runs as JSON
  --older-than <duration> runs last updated longer ago than this: 30m, 12h, 7d (also s, w)
  --all-finished          every finished run (Completed, Failed, Terminated), whatever its age
  --include-unfinished    also delete unfinished runs that match (they can then never resume)
  --damaged               also delete runs with a damaged or oversized journal (every journal is checked)
  --dry-run               print what would be deleted, delete nothing
  -h, --help              show this help

Exit status: 0 done, 1 a file could not be deleted, 2 usage error.
`;

/** Output streams of the command (process streams by default; tests pass their own). */
export interface StateCommandStreams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** One run: a root instance and its sub-instances as the state directory holds them. */
export interface StoredRun {
  id: string;
  orchestration: string;
  status: string;
  createdTime: string;
  lastUpdatedTime: string;
  sizeInBytes: number;
  instances: number;
  problems: string[];
  members: StoredInstance[];
}

const UNITS_IN_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `30m`, `12h`, `7d` (also `s`, `w`; integers only) into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!match) throw new UsageError(`--older-than ${JSON.stringify(text)} is not a duration like 30m, 12h or 7d`);
  return Number(match[1]) * UNITS_IN_MS[match[2]!]!;
}

/** Groups stored instances into runs (each sub-instance goes with the root its id or its parents lead to). */
export function groupRuns(stored: readonly StoredInstance[]): StoredRun[] {
  const byId = new Map(stored.map((entry) => [entry.instanceId, entry]));
  const parentOf = (id: string): string | undefined => byId.get(id)?.summary?.meta.parent?.instanceId;
  const rootOfId = (id: string): string => rootOf(id, parentOf, (other) => byId.has(other));
  // `R:table:0` belongs to `R` when `R` is there, even if its own record (and so its parent) is lost.
  const hasStoredPrefix = (id: string): boolean =>
    id
      .split(':')
      .slice(0, -1)
      .some((_, i, parts) => byId.has(parts.slice(0, i + 1).join(':')));
  const roots = stored.filter((entry) => rootOfId(entry.instanceId) === entry.instanceId && !hasStoredPrefix(entry.instanceId));
  const runs: StoredRun[] = [];
  for (const root of roots) {
    const members = stored.filter((entry) => inTree(entry.instanceId, root.instanceId, rootOfId));
    const problems = members.flatMap((entry) => (entry.problem ? [entry.problem] : entry.summary ? [] : [`${entry.journalFile} has no status record`]));
    const updated = members.map((entry) => entry.summary?.status.lastUpdatedTime ?? entry.modifiedTime).sort();
    const unfinished = members.some((entry) => !finished(entry.summary?.status.runtimeStatus));
    runs.push({
      id: root.instanceId,
      orchestration: root.summary?.meta.name ?? '?',
      status:
        problems.length > 0
          ? 'Damaged'
          : (root.summary?.status.runtimeStatus ?? '?') + (unfinished && finished(root.summary?.status.runtimeStatus) ? ' (sub-instances unfinished)' : ''),
      createdTime: root.summary?.meta.createdTime ?? root.modifiedTime,
      lastUpdatedTime: updated[updated.length - 1] ?? root.modifiedTime,
      sizeInBytes: members.reduce((sum, entry) => sum + entry.sizeInBytes, 0),
      instances: members.length,
      problems,
      members,
    });
  }
  return runs.sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.id.localeCompare(b.id));
}

function isFinishedRun(run: StoredRun): boolean {
  return run.problems.length === 0 && run.members.every((entry) => finished(entry.summary?.status.runtimeStatus));
}

async function readRuns(stateDir: string): Promise<StoredRun[]> {
  return groupRuns(await listStoredInstances(path.join(path.resolve(stateDir), 'instances'), { maxJournalBytes: DEFAULT_MAX_JOURNAL_BYTES, repair: false }));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

async function listCommand(argv: string[], streams: StateCommandStreams): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    streams.out.write(HELP);
    return 0;
  }
  const runs = await readRuns(values['state-dir'] ?? DEFAULT_STATE_DIR);
  if (values.json) {
    streams.out.write(
      `${JSON.stringify(
        runs.map(({ members: _members, ...run }) => run),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (runs.length === 0) {
    streams.out.write('no runs\n');
    return 0;
  }
  const rows = [['ID', 'ORCHESTRATION', 'STATUS', 'CREATED', 'LAST UPDATED', 'INSTANCES', 'SIZE']];
  for (const run of runs)
    rows.push([run.id, run.orchestration, run.status, run.createdTime, run.lastUpdatedTime, String(run.instances), formatBytes(run.sizeInBytes)]);
  streams.out.write(table(rows));
  for (const run of runs) for (const problem of run.problems) streams.out.write(`\n${run.id}: ${problem}\n`);
  return 0;
}

/** Reads every journal of a run (streamed, read only) to find damage a status record cannot show. */
async function findDamage(run: StoredRun): Promise<void> {
  for (const entry of run.members) {
    if (entry.problem) continue;
    try {
      await loadJournal(entry.instanceId, entry.journalFile, { maxBytes: DEFAULT_MAX_JOURNAL_BYTES, minBytes: entry.summary?.journalBytes, readOnly: true });
    } catch (error) {
      run.problems.push(error instanceof Error ? error.message : String(error));
      run.status = 'Damaged';
    }
  }
}

async function pruneCommand(argv: string[], streams: StateCommandStreams): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'state-dir': { type: 'string' },
      'older-than': { type: 'string' },
      'all-finished': { type: 'boolean' },
      'include-unfinished': { type: 'boolean' },
      damaged: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    streams.out.write(HELP);
    return 0;
  }
  const olderThan = values['older-than'] === undefined ? undefined : parseDuration(values['older-than']);
  if (olderThan !== undefined && values['all-finished']) throw new UsageError('give --older-than or --all-finished, not both');
  if (olderThan === undefined && !values['all-finished'] && !values.damaged)
    throw new UsageError('prune needs --older-than <duration>, --all-finished or --damaged');
  const cutoff = olderThan === undefined ? undefined : Date.now() - olderThan;
  const runs = await readRuns(values['state-dir'] ?? DEFAULT_STATE_DIR);
  if (values.damaged) for (const run of runs) await findDamage(run);
  const selected = runs.filter((run) => {
    if (run.problems.length > 0) return values.damaged === true;
    const byAge = values['all-finished'] || (cutoff !== undefined && Date.parse(run.lastUpdatedTime) < cutoff);
    if (!byAge) return false;
    return isFinishedRun(run) || values['include-unfinished'] === true;
  });
  const verb = values['dry-run'] ? 'would delete' : 'deleted';
  let failed = 0;
  for (const run of selected) {
    if (!values['dry-run']) {
      try {
        for (const entry of run.members) await deleteStoredFiles(entry.journalFile);
      } catch (error) {
        failed++;
        streams.err.write(`cannot delete ${run.id}: ${error instanceof Error ? error.message : String(error)}\n`);
        continue;
      }
    }
    streams.out.write(
      `${verb} ${run.id} (${run.orchestration}, ${run.status}, ${run.instances} instance${run.instances === 1 ? '' : 's'}, ${formatBytes(run.sizeInBytes)})\n`,
    );
  }
  const kept = runs.length - selected.length;
  streams.out.write(`${verb} ${selected.length - failed} run(s), ${formatBytes(selected.reduce((sum, run) => sum + run.sizeInBytes, 0))}; kept ${kept}\n`);
  return failed > 0 ? 1 : 0;
}

/** Runs `icebridge state …`; returns the exit status. */
export async function stateCommand(argv: string[], streams: StateCommandStreams = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    streams.out.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  try {
    if (sub === 'list') return await listCommand(rest, streams);
    if (sub === 'prune') return await pruneCommand(rest, streams);
    throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
  } catch (error) {
    // parseArgs reports unknown or malformed flags as TypeErrors with an ERR_PARSE_ARGS_* code.
    const parseError = error instanceof TypeError && String((error as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || parseError) {
      streams.err.write(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}
