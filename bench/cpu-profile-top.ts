/**
 * The functions a V8 CPU profile (`node --cpu-prof`, or the migration benchmark's `--profile DIR`) spent most
 * self time in, over every profile in a directory (one per thread) or one file; idle and GC lines included, so the
 * shares add up to the profiled wall time of all threads.
 *
 *   npx tsx bench/cpu-profile-top.ts DIR_OR_FILE [--top 25] [--by-file]   (--by-file: self time per source file)
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name, file and line), or per source file with `byFile`, in ms, over the given profiles. */
export function selfTimes(profiles: readonly CpuProfile[], byFile = false): Map<string, number> {
  const totals = new Map<string, number>();
  for (const profile of profiles) {
    const label = new Map<number, string>();
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame;
      const file =
        url === '' ? '' : ` ${url.replace(/^file:\/\//, '').replace(/^.*?\/(shared|cli|functions|orchestrators|node_modules)\//, '$1/')}:${lineNumber + 1}`;
      label.set(node.id, byFile && file !== '' ? file.replace(/:\d+$/, '').trim() : `${functionName || '(anonymous)'}${file}`);
    }
    // A sample's time is the delta to the next sample; the last one has none and counts nothing.
    for (let i = 0; i < profile.samples.length - 1; i++) {
      const name = label.get(profile.samples[i]!) ?? '?';
      totals.set(name, (totals.get(name) ?? 0) + profile.timeDeltas[i + 1]! / 1000);
    }
  }
  return totals;
}

async function main(): Promise<void> {
  const target = process.argv[2];
  if (target === undefined) throw new Error('usage: tsx bench/cpu-profile-top.ts DIR_OR_FILE [--top N] [--by-file]');
  const at = process.argv.indexOf('--top');
  const top = at > 0 ? Number(process.argv[at + 1]) : 25;
  const files = (await stat(target)).isDirectory()
    ? (await readdir(target, { recursive: true })).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f))
    : [target];
  const profiles = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as CpuProfile));
  const totals = selfTimes(profiles, process.argv.includes('--by-file'));
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(`${files.length} profile(s), ${(all / 1000).toFixed(2)} s sampled over all threads`);
  // Per thread: a thread mostly idle waited (for I/O, PostgreSQL or another thread) rather than computed.
  profiles.forEach((profile, i) => {
    const own = selfTimes([profile]);
    const sampled = [...own.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${path.basename(files[i]!)}: ${(sampled / 1000).toFixed(2)} s sampled, ${((own.get('(idle)') ?? 0) / 1000).toFixed(2)} s idle`);
  });
  console.log('');
  console.log('| self ms | share | function |');
  console.log('|---|---|---|');
  for (const [name, ms] of [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`| ${Math.round(ms)} | ${((ms / all) * 100).toFixed(1)}% | ${name.replace(/\|/g, '\\|')} |`);
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
