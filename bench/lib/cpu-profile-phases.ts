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

const SPECIAL: Record<string, string> = {
  '(garbage collector)': 'garbage collection',
  '(idle)': 'idle (waiting: server, disk, timers)',
  '(program)': 'native / runtime (program)',
  '(root)': 'native / runtime (program)',
};

/** The bucket of a frame with no phase: our source file, or the package, or the runtime. */
function fallback(url: string): string | undefined {
  const shared = url.indexOf('/shared/');
  if (shared >= 0) return `other: ${url.slice(shared + 1)}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return `package: ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return 'node built-ins';
  return undefined;
}

/** Sums a profile's sample time per phase, largest first. */
export function phaseTimes(profile: CpuProfile): PhaseTime[] {
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
    let found: string | undefined = SPECIAL[leaf.callFrame.functionName];
    let nearest: string | undefined;
    for (let at: number | undefined = id; found === undefined && at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      found = PHASES.find((p) => url.includes(p.match))?.phase;
      nearest ??= fallback(url);
    }
    const result = found ?? nearest ?? 'native / runtime (program)';
    bucketOf.set(id, result);
    return result;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = bucket(id);
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals.entries()].map(([phase, ms]) => ({ phase, ms })).sort((a, b) => b.ms - a.ms);
}

/** The breakdown of the main thread's profile in `dir` (the largest .cpuprofile there). */
export async function phaseTimesInDir(dir: string): Promise<PhaseTime[] | undefined> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  let best: { profile: CpuProfile; samples: number } | undefined;
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    if (!best || profile.samples.length > best.samples) best = { profile, samples: profile.samples.length };
  }
  return best ? phaseTimes(best.profile) : undefined;
}
