/**
 * The GraphQL of the Weaviate STAND-IN (weaviate-standin.ts; not Weaviate): Get with limit, after, nearVector and
 * _additional { id vector distance }, and Aggregate meta { count }, answered as Weaviate answers them, errors
 * included (an unknown class or field, `after` combined with a search).
 */
import { type GqlField, type GqlValue, parseQuery } from './graphql-subset';
import type { StandinClass, StandinObject, WeaviateStandin } from './weaviate-standin';

/** The data types that are not cross-references. */
export const PRIMITIVES = new Set(['text', 'int', 'number', 'boolean', 'date', 'uuid', 'blob', 'text[]', 'int[]', 'number[]', 'boolean[]', 'date[]', 'uuid[]']);

/** Answers a GraphQL request body: `{data}`, or `{data, errors}` as Weaviate does. */
export function answerGraphql(state: WeaviateStandin, body: unknown): unknown {
  const query = (body as { query?: unknown })?.query;
  if (typeof query !== 'string') return { errors: [{ message: 'no query' }] };
  let document: GqlField[];
  try {
    document = parseQuery(query);
  } catch (error) {
    return { errors: [{ message: (error as Error).message }] };
  }
  const data: Record<string, unknown> = {};
  const errors: Array<{ message: string }> = [];
  for (const root of document) {
    const answer: Record<string, unknown> = {};
    for (const field of root.selections ?? []) {
      try {
        if (root.name === 'Get') answer[field.name] = getClass(state, field);
        else if (root.name === 'Aggregate') answer[field.name] = aggregateClass(state, field);
        else throw new Error(`Cannot query field "${root.name}" on type "WeaviateObj".`);
      } catch (error) {
        answer[field.name] = null;
        errors.push({ message: (error as Error).message });
      }
    }
    data[root.name] = answer;
  }
  return errors.length > 0 ? { data, errors } : { data };
}

function getClass(state: WeaviateStandin, field: GqlField): unknown[] {
  const known = state.classes.get(field.name);
  if (known === undefined) throw new Error(`Cannot query field "${field.name}" on type "GetObjectsObj".`);
  const args = field.args;
  for (const name of Object.keys(args)) {
    if (!['limit', 'after', 'nearVector', 'offset'].includes(name))
      throw new Error(`Unknown argument "${name}" on field "${field.name}" of type "GetObjectsObj".`);
  }
  const limit = args.limit === undefined ? 10 : numberArg(args.limit, 'limit');
  const after = args.after === undefined ? undefined : stringArg(args.after, 'after');
  if (after !== undefined && (args.nearVector !== undefined || args.offset !== undefined)) {
    throw new Error(
      "explorer: list class: search: invalid pagination params: cursor api: invalid 'after' parameter: other params cannot be set along with after and limit",
    );
  }
  if (after !== undefined && args.limit === undefined) throw new Error("explorer: cursor api: invalid 'after' parameter: limit parameter must be set");
  let objects = [...state.objects.get(known.class)!.values()];
  const distances = new Map<string, number>();
  if (args.nearVector !== undefined) {
    const near = args.nearVector as { vector?: GqlValue; distance?: GqlValue };
    if (!Array.isArray(near.vector) || !near.vector.every((v) => typeof v === 'number')) throw new Error('nearVector: vector must be a list of numbers');
    const vector = near.vector as number[];
    objects = objects.filter((o) => o.vector !== undefined && o.vector.length > 0);
    for (const o of objects) {
      if (o.vector!.length !== vector.length) throw new Error(`vector search: vector lengths don't match: ${vector.length} vs ${o.vector!.length}`);
      distances.set(o.id, cosineDistance(vector, o.vector!));
    }
    const maxDistance = near.distance === undefined ? Infinity : numberArg(near.distance, 'distance');
    objects = objects.filter((o) => distances.get(o.id)! <= maxDistance).sort((x, y) => distances.get(x.id)! - distances.get(y.id)! || (x.id < y.id ? -1 : 1));
  } else {
    // The cursor walks objects in the order of their ids.
    objects.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    if (after !== undefined) objects = objects.filter((o) => o.id > after.toLowerCase());
  }
  const offset = args.offset === undefined ? 0 : numberArg(args.offset, 'offset');
  return objects.slice(offset, offset + limit).map((o) => selectObject(known, o, field.selections ?? [], distances.get(o.id)));
}

function selectObject(known: StandinClass, object: StandinObject, selections: GqlField[], distance: number | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const selection of selections) {
    if (selection.name === '_additional') {
      const extra: Record<string, unknown> = {};
      for (const item of selection.selections ?? []) {
        if (item.name === 'id') extra.id = object.id;
        else if (item.name === 'vector') extra.vector = object.vector ?? [];
        else if (item.name === 'distance') extra.distance = distance ?? null;
        else if (item.name === 'creationTimeUnix') extra.creationTimeUnix = String(object.creationTimeUnix);
        else throw new Error(`Cannot query field "${item.name}" on type "${known.class}AdditionalProperties".`);
      }
      out._additional = extra;
      continue;
    }
    const property = known.properties.find((p) => p.name === selection.name);
    if (property === undefined) throw new Error(`Cannot query field "${selection.name}" on type "${known.class}".`);
    if (!PRIMITIVES.has(property.dataType[0]!) && selection.selections === undefined) {
      throw new Error(`Field "${selection.name}" of type "[${known.class}${selection.name}Obj]" must have a selection of subfields.`);
    }
    out[selection.name] = object.properties[selection.name] ?? null;
  }
  return out;
}

function aggregateClass(state: WeaviateStandin, field: GqlField): unknown[] {
  const known = state.classes.get(field.name);
  if (known === undefined) throw new Error(`Cannot query field "${field.name}" on type "AggregateObjectsObj".`);
  const meta = field.selections?.find((s) => s.name === 'meta');
  if (meta === undefined || !meta.selections?.every((s) => s.name === 'count')) throw new Error(`the stand-in answers only meta { count } of Aggregate`);
  return [{ meta: { count: state.objects.get(known.class)!.size } }];
}

function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
}

function numberArg(value: GqlValue, name: string): number {
  if (typeof value !== 'number') throw new Error(`Argument "${name}" has invalid value ${JSON.stringify(value)}.`);
  return value;
}

function stringArg(value: GqlValue, name: string): string {
  if (typeof value !== 'string') throw new Error(`Argument "${name}" has invalid value ${JSON.stringify(value)}.`);
  return value;
}
