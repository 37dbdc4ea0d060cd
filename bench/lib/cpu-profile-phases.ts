/**
 * Where a sync's CPU goes, from a V8 CPU profile (`--cpu-prof`): every sample is given to the innermost frame of
 * its stack that belongs to a phase of the sync (stream and decode, the batch's fold, the key index, delete files,
 * data files, the commit); samples with no such frame go to the nearest source file of ours or package, so async
 * continuations (whose stacks lose their caller) still land somewhere readable.
 */
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (process.hrtime's, on Linux). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One line of the breakdown. */
export interface PhaseTime {
  phase: string;
  ms: number;
}

/** Phases by source path, most specific first: a frame takes the first that matches. */
const PHASES: ReadonlyArray<{ phase: string; match: string }> = [
  { phase: 'key index (lookups, indexing new files)', match: 'shared/sync/key-index.ts' },
  { phase: 'delete files', match: 'shared/iceberg/writer/delete-writer.ts' },
  { phase: 'data files (writer, Parquet encoding)', match: 'shared/iceberg/writer/' },
  { phase: 'commit (manifests, metadata, catalog)', match: 'shared/iceberg/transaction/' },
  { phase: 'commit (manifests, metadata, catalog)', match: 'shared/iceberg/catalog/' },
  { phase: 'batch fold (apply-changes: net effect, old rows)', match: 'shared/sync/apply-changes.ts' },
  { phase: 'stream + decode (shared/cdc)', match: 'shared/cdc/' },
  { phase: 'sync loop', match: 'shared/sync/sync-loop.ts' },
];

// A Map, not an object: a frame named `constructor` or `toString` must not find Object.prototype's.
const SPECIAL = new Map<string, string>([
  ['(garbage collector)', 'garbage collection'],
  ['(idle)', 'idle (waiting: server, disk, timers)'],
  ['(program)', 'native / runtime (program)'],
  ['(root)', 'native / runtime (program)'],
]);

/**
 * The bucket of a frame with no phase, and its rank: our source file first, then a package, then Node's own
 * modules (a zlib or fs call is better named by the file of ours that made it).
 */
function fallback(url: string): { name: string; rank: number } | undefined {
  const shared = url.indexOf('/shared/');
  if (shared >= 0) return { name: `other: ${url.slice(shared + 1)}`, rank: 0 };
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return { name: `package: ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`, rank: 1 };
  }
  if (url.startsWith('node:')) return { name: 'node built-ins', rank: 2 };
  return undefined;
}

/** Sums a profile's sample time per phase from `fromUs` on (monotonic microseconds), largest first. */
export function phaseTimes(profile: CpuProfile, fromUs = 0): PhaseTime[] {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const bucketOf = new Map<number, string>();
  const bucket = (id: number): string => {
    const known = bucketOf.get(id);
    if (known !== undefined) return known;
    const leaf = byId.get(id)!;
    let found: string | undefined = SPECIAL.get(leaf.callFrame.functionName);
    let nearest: { name: string; rank: number } | undefined;
    for (let at: number | undefined = id; found === undefined && at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      found = PHASES.find((p) => url.includes(p.match))?.phase;
      const other = fallback(url);
      if (other && (nearest === undefined || other.rank < nearest.rank)) nearest = other;
    }
    const result = found ?? nearest?.name ?? 'native / runtime (program)';
    bucketOf.set(id, result);
    return result;
  };
  const totals = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    // Module loading and the work before the drain's clock started are not the drain's.
    if (at < fromUs) return;
    const name = bucket(id);
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals.entries()].map(([phase, ms]) => ({ phase, ms })).sort((a, b) => b.ms - a.ms);
}

/**
 * The breakdown of the main thread's profile in `dir`, from `fromUs` on. Node names the files
 * CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile; the main thread is thread 0.
 */
export async function phaseTimesInDir(dir: string, fromUs = 0): Promise<PhaseTime[] | undefined> {
  const main = (await readdir(dir).catch(() => [] as string[])).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (main === undefined) return undefined;
  return phaseTimes(JSON.parse(await readFile(path.join(dir, main), 'utf8')) as CpuProfile, fromUs);
}
