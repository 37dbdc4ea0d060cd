/**
 * What Weaviate holds of one table, for the consistency check: every object of the table's class, paged with the
 * GraphQL cursor (`after`), as its key and source position, and what is wrong inside Weaviate itself: an object
 * without the vector its class should have, or with a vector made by another embedder than the current one.
 */
import { type Lsn, maxLsn, parseLsn } from '../cdc/lsn';
import type { SystemFinding, SystemInventory } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { type WeaviateClassPlan, SYSTEM_PROPERTIES } from './class-config';
import { type Embedder, embeddingsVersion } from './embedders';
import type { StoredObject, WeaviateConnection } from './weaviate-client';

/** Options of `weaviateInventory`. */
export interface WeaviateInventoryOptions {
  /** Objects per page (default 500). */
  pageSize?: number;
}

/** Every object of a class, page by page in id order, with its vector when asked. */
export async function* classObjects(connection: WeaviateConnection, className: string, withVector: boolean, pageSize = 500): AsyncGenerator<StoredObject> {
  const properties = [SYSTEM_PROPERTIES.key, SYSTEM_PROPERTIES.position, SYSTEM_PROPERTIES.embeddingsVersion];
  let after: string | undefined;
  for (;;) {
    const options = { limit: pageSize, withVector, ...(after === undefined ? {} : { after }) };
    const page = await connection.getObjects(className, properties, options);
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!.id;
  }
}

/** The inventory of the table of `plan` in Weaviate (system `weaviate`). */
export async function weaviateInventory(
  connection: WeaviateConnection,
  plan: WeaviateClassPlan,
  embedder: Embedder,
  options: WeaviateInventoryOptions = {},
): Promise<SystemInventory> {
  const live = new Map<string, Lsn>();
  const findings: SystemFinding[] = [];
  const versions = new Map<string, number>();
  const current = embeddingsVersion(embedder);
  let objects = 0;
  let withVector = 0;
  let newest: Lsn | undefined;
  // A class never created (or dropped) holds nothing: every row is missing, which the check sees from `live`.
  if (!(await connection.classes()).some((c) => c.class === plan.className)) {
    findings.push({ key: `class ${plan.className}`, problem: `class ${plan.className} does not exist in Weaviate` });
    return {
      system: 'weaviate',
      table: qualifiedName(plan.table),
      live,
      newest,
      findings,
      figures: { class: plan.className, objects: 0, embeddingsVersion: current },
    };
  }
  for await (const object of classObjects(connection, plan.className, plan.embedded, options.pageSize)) {
    objects++;
    const key = object.properties[SYSTEM_PROPERTIES.key];
    const position = object.properties[SYSTEM_PROPERTIES.position];
    if (typeof key !== 'string' || typeof position !== 'string') {
      findings.push({
        key: `object ${object.id}`,
        problem: `an object of class ${plan.className} without ${SYSTEM_PROPERTIES.key} or ${SYSTEM_PROPERTIES.position}: not written by icebridge`,
      });
      continue;
    }
    const lsn = parseLsn(position);
    live.set(key, lsn);
    newest = newest === undefined ? lsn : maxLsn(newest, lsn);
    if (!plan.embedded) continue;
    const hasVector = object.vector !== undefined && object.vector.length > 0;
    if (hasVector) withVector++;
    else findings.push({ key, problem: 'no vector' });
    const version = object.properties[SYSTEM_PROPERTIES.embeddingsVersion];
    const shown = typeof version === 'string' ? version : '(none)';
    versions.set(shown, (versions.get(shown) ?? 0) + 1);
    if (version !== current) findings.push({ key, problem: `embeddings_version ${shown}, current ${current}` });
    else if (hasVector && embedder.dimensions > 0 && object.vector!.length !== embedder.dimensions) {
      findings.push({ key, problem: `a vector of ${object.vector!.length} dimensions, the embedder makes ${embedder.dimensions}` });
    }
  }
  // The server's own count: a cursor that skipped objects shows as a difference.
  const counted = await connection.count(plan.className);
  if (counted !== objects) findings.push({ key: `class ${plan.className}`, problem: `Aggregate counts ${counted} objects, the cursor read ${objects}` });
  const figures: Record<string, number | string> = {
    class: plan.className,
    objects,
    counted,
    embeddingsVersion: current,
  };
  if (plan.embedded) {
    figures.withVector = withVector;
    figures.versionsSeen = [...versions].map(([v, n]) => `${v} (${n})`).join(', ');
  }
  return { system: 'weaviate', table: qualifiedName(plan.table), live, newest, findings, figures };
}
