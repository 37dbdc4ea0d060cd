/**
 * The classes in Weaviate, made from the class plans: created when missing, given the properties they lack, and
 * refused (never changed) when a property exists with another data type. Classes are created first and their
 * cross-references added after, so a reference can point at any class, its own included.
 */
import { IcebridgeError } from '../errors';
import { type WeaviateClassPlan, SYSTEM_PROPERTIES } from './class-config';
import type { Embedder } from './embedders';
import type { WeaviateClassDefinition, WeaviateConnection, WeaviatePropertyDefinition } from './weaviate-client';

/** The class holding each sink's checkpoint, one object per sink name. */
export const CHECKPOINT_CLASS = 'IcebridgeCheckpoint';

/** A class in Weaviate that differs from what the configuration makes of it. */
export class WeaviateSchemaError extends IcebridgeError {
  constructor(message: string) {
    super('WEAVIATE_SCHEMA_CONFLICT', message);
  }
}

/** The checkpoint class: the sink's name and the position it holds every change up to. */
export function checkpointClassDefinition(): WeaviateClassDefinition {
  return {
    class: CHECKPOINT_CLASS,
    description: 'icebridge: the source position each Weaviate sink holds every change up to',
    vectorizer: 'none',
    properties: [
      { name: 'sink', dataType: ['text'] },
      { name: 'position', dataType: ['text'], description: 'LSN, X/Y' },
    ],
  };
}

/** The class a plan makes, without its cross-references (`referenceProperties`). */
export function classDefinition(plan: WeaviateClassPlan, embedder: Embedder): WeaviateClassDefinition {
  const module = embedder.serverVectorizer;
  const moduleConfig = (embedded: boolean): Record<string, unknown> | undefined =>
    module ? { [module]: { skip: !embedded, vectorizePropertyName: false } } : undefined;
  const property = (name: string, dataType: string, description: string, embedded = false): WeaviatePropertyDefinition => {
    const definition: WeaviatePropertyDefinition = { name, dataType: [dataType], description };
    const config = moduleConfig(embedded);
    if (config) definition.moduleConfig = config;
    return definition;
  };
  const definition: WeaviateClassDefinition = {
    class: plan.className,
    description: `icebridge: rows of ${plan.table.schema}.${plan.table.name}`,
    vectorizer: module ?? 'none',
    vectorIndexConfig: { distance: 'cosine' },
    properties: [
      ...plan.properties.map((p) => {
        const column = plan.table.columns[p.index]!;
        return property(p.name, p.encoding.dataType, `column ${column.name} (${column.sourceType})`, p.embedded);
      }),
      property(SYSTEM_PROPERTIES.key, 'text', 'the row key (aggregate id)'),
      property(SYSTEM_PROPERTIES.position, 'text', 'LSN of the newest change applied, X/Y'),
      property(SYSTEM_PROPERTIES.embeddingsVersion, 'text', 'the embedder that made the vector, name@version'),
    ],
  };
  if (module) definition.moduleConfig = { [module]: { vectorizeClassName: false } };
  return definition;
}

/** The cross-reference properties of a plan. */
export function referenceProperties(plan: WeaviateClassPlan): WeaviatePropertyDefinition[] {
  return plan.references.map((r) => ({
    name: r.name,
    dataType: [r.targetClass],
    description: `foreign key ${r.reference.name} to ${r.target.schema}.${r.target.name}`,
  }));
}

/** Makes every class (and the checkpoint class) exist with every property; answers the classes it created. Idempotent. */
export async function ensureClasses(connection: WeaviateConnection, plans: readonly WeaviateClassPlan[], embedder: Embedder): Promise<string[]> {
  const existing = new Map((await connection.classes()).map((c) => [c.class ?? '', c]));
  const created: string[] = [];
  const wanted = [checkpointClassDefinition(), ...plans.map((p) => classDefinition(p, embedder))];
  for (const definition of wanted) {
    if (existing.has(definition.class)) continue;
    await connection.createClass(definition);
    created.push(definition.class);
    existing.set(definition.class, { class: definition.class, properties: definition.properties });
  }
  for (const definition of wanted) {
    const plan = plans.find((p) => p.className === definition.class);
    const properties = [...definition.properties, ...(plan ? referenceProperties(plan) : [])];
    const have = new Map((existing.get(definition.class)?.properties ?? []).map((p) => [p.name?.toLowerCase() ?? '', p]));
    for (const property of properties) {
      const found = have.get(property.name.toLowerCase());
      if (found === undefined) {
        await connection.addProperty(definition.class, property);
        continue;
      }
      const same = JSON.stringify(found.dataType ?? []) === JSON.stringify(property.dataType);
      if (!same) {
        throw new WeaviateSchemaError(
          `weaviate: class ${definition.class} has property ${property.name} as ${JSON.stringify(found.dataType)}, the configuration makes it ${JSON.stringify(property.dataType)}: change the class configuration or re-create the class (icebridge never changes a property's type)`,
        );
      }
    }
  }
  return created;
}
