/**
 * A smoke check of a class's vectors after a load: for a few sampled objects, a nearVector search with the
 * object's own vector (the embedder's vector of its text, made again here; the stored one when Weaviate makes the
 * vectors) must find the object itself first, at distance ~0. It fails when a stored vector is not the one of
 * its text (cut, changed, made by another embedder) or the index does not find what it holds.
 */
import { type WeaviateClassPlan, SYSTEM_PROPERTIES } from './class-config';
import type { Embedder } from './embedders';
import { documentText } from './weaviate-objects';
import type { WeaviateConnection } from './weaviate-client';

/** The result of the check. */
export interface SimilarityReport {
  className: string;
  sampled: number;
  passed: number;
  /** Each sampled object that was not found first at distance ~0, with what was found. */
  failures: Array<{ key: string; problem: string }>;
}

/** Options of `similarityCheck`. */
export interface SimilarityCheckOptions {
  /** Objects sampled (default 5), spread evenly over the first `window` objects (default 200) by id. */
  samples?: number;
  window?: number;
  /** The largest distance that counts as the object itself (default 1e-4). */
  maxDistance?: number;
}

/** Runs the check on the class of `plan`; an empty report for a class without vectors. */
export async function similarityCheck(
  connection: WeaviateConnection,
  plan: WeaviateClassPlan,
  embedder: Embedder,
  options: SimilarityCheckOptions = {},
): Promise<SimilarityReport> {
  const samples = options.samples ?? 5;
  const maxDistance = options.maxDistance ?? 1e-4;
  const report: SimilarityReport = { className: plan.className, sampled: 0, passed: 0, failures: [] };
  if (!plan.embedded) return report;
  const embedded = plan.properties.filter((p) => p.embedded).map((p) => p.name);
  const window = await connection.getObjects(plan.className, [SYSTEM_PROPERTIES.key, ...embedded], {
    limit: Math.min(options.window ?? 200, 1000),
    withVector: true,
  });
  const step = Math.max(1, Math.floor(window.length / samples));
  const chosen = window.filter((_o, i) => i % step === 0).slice(0, samples);
  const remade = embedder.serverVectorizer ? undefined : await embedder.embed(chosen.map((o) => documentText(plan, o.properties)));
  report.sampled = chosen.length;
  for (const [i, sample] of chosen.entries()) {
    const stored = sample.properties[SYSTEM_PROPERTIES.key];
    const key = typeof stored === 'string' ? stored : sample.id;
    const vector = remade ? Array.from(remade[i]!) : sample.vector;
    if (vector === undefined || vector.length === 0) {
      report.failures.push({ key, problem: 'no vector' });
      continue;
    }
    const found = await connection.getObjects(plan.className, [SYSTEM_PROPERTIES.key], { limit: 3, nearVector: vector });
    const first = found[0];
    const self = found.find((o) => o.id === sample.id);
    // Identical texts have identical vectors: the object may share first place, at distance ~0.
    if (self !== undefined && (self.distance ?? Infinity) <= maxDistance) {
      report.passed++;
    } else {
      const shown = first ? `${first.id === sample.id ? 'itself' : `object ${first.id}`} at distance ${first.distance ?? '?'}` : 'nothing';
      report.failures.push({
        key,
        problem: `nearVector with its own vector found ${shown} first${self ? `, itself at distance ${self.distance ?? '?'}` : ', not itself among the first 3'}`,
      });
    }
  }
  return report;
}
