/**
 * A row change as a Weaviate object: id `objectId(table, key)`, the mapped properties (value-mapping.ts), its
 * cross-references as beacons, the source key and position, and the vector of its embedded text with the
 * embedder's version.
 */
import { formatLsn } from '../cdc/lsn';
import type { FanoutChange } from '../fanout/fanout-types';
import { aggregateId, objectId, qualifiedName } from '../fanout/identity';
import { type WeaviateClassPlan, SYSTEM_PROPERTIES } from './class-config';
import { type Embedder, embeddingsVersion } from './embedders';
import { ValueRefused, WeaviateValueError } from './value-mapping';
import type { WeaviateObjectInput } from './weaviate-client';

/** The beacon of an object, as Weaviate writes cross-references. */
export function beacon(className: string, id: string): string {
  return `weaviate://localhost/${className}/${id}`;
}

/** The properties of a row (not a delete) under its class plan; a value that cannot be stored exactly throws WeaviateValueError. */
export function objectProperties(plan: WeaviateClassPlan, change: FanoutChange): Record<string, unknown> {
  const row = change.row;
  const key = aggregateId(change.key);
  if (row === undefined) throw new TypeError('a delete has no properties');
  const properties: Record<string, unknown> = {};
  for (const property of plan.properties) {
    const value = row[property.index] ?? null;
    try {
      const encoded = property.encoding.encode(value);
      if (encoded !== undefined) properties[property.name] = encoded;
    } catch (error) {
      if (!(error instanceof ValueRefused)) throw error;
      throw new WeaviateValueError(qualifiedName(plan.table), property.column, key, value, error.message);
    }
  }
  for (const reference of plan.references) {
    const values = reference.indexes.map((i) => row[i] ?? null);
    if (values.some((v) => v === null)) continue;
    properties[reference.name] = [{ beacon: beacon(reference.targetClass, objectId(reference.target, values)) }];
  }
  properties[SYSTEM_PROPERTIES.key] = key;
  properties[SYSTEM_PROPERTIES.position] = formatLsn(change.position);
  return properties;
}

/** The text an object's vector is made of: its class, then each embedded property as `name: value`. */
export function documentText(plan: WeaviateClassPlan, properties: Readonly<Record<string, unknown>>): string {
  const lines = [plan.className];
  for (const property of plan.properties) {
    const value = properties[property.name];
    if (!property.embedded || value === undefined || value === null) continue;
    lines.push(
      `${property.name}: ${Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean)}`,
    );
  }
  return lines.join('\n');
}

/** The objects of upserting changes (no deletes), with their vectors: one embedder call for them all. */
export async function buildObjects(
  plans: ReadonlyMap<string, WeaviateClassPlan>,
  changes: readonly FanoutChange[],
  embedder: Embedder,
): Promise<WeaviateObjectInput[]> {
  const objects: WeaviateObjectInput[] = [];
  const toEmbed: Array<{ object: WeaviateObjectInput; text: string }> = [];
  const version = embeddingsVersion(embedder);
  for (const change of changes) {
    const plan = plans.get(qualifiedName(change.table));
    if (plan === undefined) throw new TypeError(`no Weaviate class for ${qualifiedName(change.table)}`);
    const properties = objectProperties(plan, change);
    const object: WeaviateObjectInput = { class: plan.className, id: objectId(change.table, change.key), properties };
    if (plan.embedded) {
      properties[SYSTEM_PROPERTIES.embeddingsVersion] = version;
      if (!embedder.serverVectorizer) toEmbed.push({ object, text: documentText(plan, properties) });
    }
    objects.push(object);
  }
  if (toEmbed.length > 0) {
    const vectors = await embedder.embed(toEmbed.map((e) => e.text));
    toEmbed.forEach((entry, i) => {
      entry.object.vector = Array.from(vectors[i]!);
    });
  }
  return objects;
}
