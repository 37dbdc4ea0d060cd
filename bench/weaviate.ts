/**
 * Weaviate sink throughput, against the STAND-IN (test/support/weaviate-standin.ts, an in-memory server in this
 * process): what it measures is icebridge's side (value mapping, the local embedder, JSON, HTTP on loopback and the
 * stand-in's validation), not Weaviate's indexing. Rows of an opportunity table (two embedded texts, a decimal, a
 * timestamp, a list), upserted in batches of 100, then the same batches again (a replay).
 *
 *   npx tsx bench/weaviate.ts [--rows 20000]
 *
 * Not in bench/run.ts: wire it there as `weaviate: path.join(__dirname, 'weaviate.ts')` with a `--weaviate` flag.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { FanoutChange } from '../shared/fanout/fanout-types';
import { LocalHashEmbedder } from '../shared/weaviate/embedders';
import { WeaviateConnection } from '../shared/weaviate/weaviate-client';
import { WeaviateSink } from '../shared/weaviate/weaviate-sink';
import { startWeaviateStandin } from '../test/support/weaviate-standin';
import { OPPORTUNITY, opportunity, upsert } from '../test/weaviate/weaviate-fixtures';

/** Figures of one run. */
export interface WeaviateBenchFigures {
  rows: number;
  upsertsPerSecond: number;
  replayUpsertsPerSecond: number;
  embedsPerSecond: number;
}

const WORDS = ['renewal', 'upsell', 'pilot', 'migration', 'support', 'licence', 'training', 'hardware', 'cloud', 'audit', 'berlin', 'quarterly'];

/** Runs the benchmark and prints its figures, labelled; answers them. */
export async function runWeaviateBench(rows = 20_000): Promise<WeaviateBenchFigures> {
  const standin = await startWeaviateStandin();
  try {
    const embedder = new LocalHashEmbedder();
    const sink = new WeaviateSink({ connection: new WeaviateConnection({ url: standin.url }), embedder, batchSize: 100 });
    await sink.prepare([OPPORTUNITY]);
    const changes: FanoutChange[] = Array.from({ length: rows }, (_v, i) =>
      upsert(
        OPPORTUNITY,
        opportunity(
          i + 1,
          null,
          `${WORDS[i % 12]} ${WORDS[(i * 5) % 12]} deal ${i}`,
          `${WORDS[(i * 7) % 12]} for ${WORDS[(i * 11) % 12]}: ${'details '.repeat(8)}${i}`,
        ),
        BigInt(1000 + i),
      ),
    );
    const texts = changes.map((c) => `${c.row![2] as string}\n${c.row![3] as string}`);
    let began = performance.now();
    await embedder.embed(texts);
    const embedMs = performance.now() - began;
    began = performance.now();
    await sink.apply({ through: undefined, changes });
    const firstMs = performance.now() - began;
    began = performance.now();
    await sink.apply({ through: undefined, changes });
    const replayMs = performance.now() - began;
    const perSecond = (ms: number): number => Math.round(rows / (ms / 1000));
    const figures = { rows, upsertsPerSecond: perSecond(firstMs), replayUpsertsPerSecond: perSecond(replayMs), embedsPerSecond: perSecond(embedMs) };
    console.log(`weaviate sink against the in-memory STAND-IN (not Weaviate), ${rows.toLocaleString('en')} rows, batches of 100, ${cpus().length} cores`);
    console.log(`  upserts:                     ${figures.upsertsPerSecond.toLocaleString('en')} rows/s (${(firstMs / 1000).toFixed(1)} s)`);
    console.log(`  the same rows again:         ${figures.replayUpsertsPerSecond.toLocaleString('en')} rows/s`);
    console.log(`  local embedder alone:        ${figures.embedsPerSecond.toLocaleString('en')} texts/s`);
    return figures;
  } finally {
    await standin.close();
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--rows');
  runWeaviateBench(at > 0 ? Number(process.argv[at + 1]) : 20_000).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
