/**
 * A STAND-IN for Weaviate, not Weaviate: no Weaviate server can be installed here, so the Weaviate tests run
 * against this in-memory HTTP server (node:http). It implements exactly the calls icebridge makes, with the request
 * and response shapes of Weaviate's REST API (openapi-specs/schema.json of weaviate/weaviate) and its GraphQL:
 *   GET /v1/meta; GET/POST /v1/schema, GET /v1/schema/{class}, POST /v1/schema/{class}/properties;
 *   POST /v1/batch/objects (per-object results, `result.errors.error[].message`);
 *   GET/HEAD/PUT/DELETE /v1/objects/{class}/{id} (`?include=vector`);
 *   POST /v1/graphql: Get {Class(limit, after, nearVector {vector distance}) {props _additional {id vector distance}}}
 *   and Aggregate {Class {meta {count}}}.
 * It validates as Weaviate does where a wrong call would otherwise pass: an unknown class or property, a value of
 * the wrong type, a bad beacon or a reference to a class the property does not name is a 422 or a per-object
 * error, an unknown GraphQL field an error. What it does not model: persistence, tenants, replication, filters,
 * HNSW (nearVector is an exact scan by cosine distance), and Weaviate's vectorizer modules (a module listed in
 * `modules` embeds with the `vectorize` function given).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PRIMITIVES, answerGraphql } from './weaviate-standin-graphql';

/** A class as the stand-in keeps it. */
export interface StandinClass {
  class: string;
  vectorizer: string;
  properties: Array<{ name: string; dataType: string[]; moduleConfig?: Record<string, { skip?: boolean }> }>;
  [other: string]: unknown;
}

/** An object as the stand-in keeps it. */
export interface StandinObject {
  class: string;
  id: string;
  properties: Record<string, unknown>;
  vector?: number[];
  creationTimeUnix: number;
  lastUpdateTimeUnix: number;
}

/** Options of the stand-in. */
export interface WeaviateStandinOptions {
  /** Requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  version?: string;
  /** Modules listed by /v1/meta; a `text2vec-*` one vectorizes with `vectorize`. */
  modules?: Record<string, unknown>;
  vectorize?: (text: string) => number[];
}

/** A running stand-in. */
export interface WeaviateStandin {
  url: string;
  classes: Map<string, StandinClass>;
  /** Objects by class, then id. */
  objects: Map<string, Map<string, StandinObject>>;
  /** Every request, as `METHOD /path`. */
  requests: string[];
  /** Makes the batch refuse an object: return the error message, or undefined to accept it. */
  rejectObject: ((object: { class: string; id: string; properties: Record<string, unknown> }) => string | undefined) | undefined;
  close(): Promise<void>;
}

const CLASS_NAME = /^[A-Z][_0-9A-Za-z]*$/;
const PROPERTY_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,230}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BEACON = /^weaviate:\/\/localhost\/([A-Z][_0-9A-Za-z]*)\/([0-9a-f-]{36})$/i;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the stand-in on a free loopback port. */
export async function startWeaviateStandin(options: WeaviateStandinOptions = {}): Promise<WeaviateStandin> {
  const state: WeaviateStandin = { url: '', classes: new Map(), objects: new Map(), requests: [], rejectObject: undefined, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    void handle(state, options, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

async function handle(state: WeaviateStandin, options: WeaviateStandinOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://standin');
  const method = req.method ?? 'GET';
  state.requests.push(`${method} ${url.pathname}`);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const send = (status: number, body?: unknown): void => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(method === 'HEAD' ? undefined : text);
  };
  try {
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      throw new HttpError(401, 'anonymous access not enabled, please provide an auth scheme such as OIDC');
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      throw new HttpError(400, 'the request body is not JSON');
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'v1') throw new HttpError(404, 'not found');
    const [, resource, a, b] = parts;
    if (resource === 'meta' && method === 'GET')
      return send(200, { hostname: 'http://[::]:8080', version: options.version ?? '1.24.10', modules: options.modules ?? {} });
    if (resource === 'schema') return send(...schemaCall(state, options, method, a, b, body));
    if (resource === 'batch' && a === 'objects' && method === 'POST') return send(200, batchObjects(state, options, body));
    if (resource === 'objects' && a !== undefined && b !== undefined)
      return send(...objectCall(state, options, method, a, b, body, url.searchParams.get('include')));
    if (resource === 'graphql' && method === 'POST') return send(200, answerGraphql(state, body));
    throw new HttpError(404, `no route for ${method} ${url.pathname}`);
  } catch (error) {
    if (error instanceof HttpError) return send(error.status, { error: [{ message: error.message }] });
    return send(500, { error: [{ message: String(error) }] });
  }
}

function schemaCall(
  state: WeaviateStandin,
  options: WeaviateStandinOptions,
  method: string,
  className: string | undefined,
  sub: string | undefined,
  body: unknown,
): [number, unknown] {
  if (className === undefined && method === 'GET') return [200, { classes: [...state.classes.values()] }];
  if (className === undefined && method === 'POST') {
    const definition = body as StandinClass;
    if (typeof definition?.class !== 'string' || !CLASS_NAME.test(definition.class))
      throw new HttpError(422, `'${String(definition?.class)}' is not a valid class name`);
    if ([...state.classes.keys()].some((k) => k.toLowerCase() === definition.class.toLowerCase()))
      throw new HttpError(422, `class name "${definition.class}" already exists`);
    const vectorizer = definition.vectorizer ?? 'none';
    if (vectorizer !== 'none' && !(vectorizer in (options.modules ?? {}))) throw new HttpError(422, `vectorizer: no module with name "${vectorizer}" present`);
    const properties = definition.properties ?? [];
    const names = new Set<string>();
    for (const property of properties) {
      checkProperty(state, property, definition.class);
      if (names.has(property.name.toLowerCase()))
        throw new HttpError(422, `class "${definition.class}": conflict for property "${property.name}": already in use or provided multiple times`);
      names.add(property.name.toLowerCase());
    }
    const stored: StandinClass = { ...definition, vectorizer, properties: properties.map((p) => ({ ...p })) };
    state.classes.set(definition.class, stored);
    state.objects.set(definition.class, new Map());
    return [200, stored];
  }
  const known = className === undefined ? undefined : state.classes.get(className);
  if (known === undefined) throw new HttpError(404, `class "${className}" not found`);
  if (sub === undefined && method === 'GET') return [200, known];
  if (sub === 'properties' && method === 'POST') {
    const property = body as StandinClass['properties'][number];
    checkProperty(state, property, known.class);
    if (known.properties.some((p) => p.name.toLowerCase() === property.name.toLowerCase()))
      throw new HttpError(422, `class "${known.class}": conflict for property "${property.name}": already in use or provided multiple times`);
    known.properties.push({ ...property });
    return [200, property];
  }
  throw new HttpError(405, 'method not allowed');
}

function checkProperty(state: WeaviateStandin, property: { name?: unknown; dataType?: unknown }, ownClass: string): void {
  if (typeof property?.name !== 'string' || !PROPERTY_NAME.test(property.name))
    throw new HttpError(422, `'${String(property?.name)}' is not a valid property name`);
  if (['id', '_id', '_additional', 'meta'].includes(property.name.toLowerCase())) throw new HttpError(422, `'${property.name}' is a reserved property name`);
  const types = property.dataType;
  if (!Array.isArray(types) || types.length === 0) throw new HttpError(422, `property '${property.name}': dataType must not be empty`);
  for (const type of types as unknown[]) {
    if (typeof type !== 'string') throw new HttpError(422, `property '${property.name}': invalid dataType`);
    if (PRIMITIVES.has(type) && types.length === 1) continue;
    if (CLASS_NAME.test(type) && (state.classes.has(type) || type === ownClass)) continue;
    throw new HttpError(
      422,
      `property '${property.name}': data type "${type}": no such class with name '${type}' found in the schema. Check your schema files for which classes are available`,
    );
  }
}

interface BatchObjectInput {
  class?: string;
  id?: string;
  properties?: Record<string, unknown>;
  vector?: number[];
}

function batchObjects(state: WeaviateStandin, options: WeaviateStandinOptions, body: unknown): unknown[] {
  const objects = (body as { objects?: BatchObjectInput[] })?.objects;
  if (!Array.isArray(objects)) throw new HttpError(422, 'objects must be a list');
  return objects.map((object) => {
    const error = storeObject(state, options, object);
    return { ...object, creationTimeUnix: Date.now(), result: error === undefined ? {} : { errors: { error: [{ message: error }] } } };
  });
}

/** Validates and stores (replaces) an object; answers the error message of a refused one. */
function storeObject(state: WeaviateStandin, options: WeaviateStandinOptions, object: BatchObjectInput): string | undefined {
  const known = typeof object.class === 'string' ? state.classes.get(object.class) : undefined;
  if (known === undefined) return `class ${String(object.class)} not present in schema`;
  if (typeof object.id !== 'string' || !UUID.test(object.id)) return `invalid UUID '${String(object.id)}'`;
  const properties = object.properties ?? {};
  for (const [name, value] of Object.entries(properties)) {
    const property = known.properties.find((p) => p.name === name);
    if (property === undefined) {
      return `no such prop with name '${name}' found in class '${known.class}' in the schema. Check your schema files for which properties in this class are available`;
    }
    const problem = valueProblem(property.dataType, value);
    if (problem !== undefined) return `invalid ${property.dataType.join(',')} property '${name}' on class '${known.class}': ${problem}`;
  }
  const rejected = state.rejectObject?.({ class: known.class, id: object.id, properties });
  if (rejected !== undefined) return rejected;
  let vector = object.vector;
  if (vector !== undefined && (!Array.isArray(vector) || !vector.every((v) => typeof v === 'number'))) return 'vector must be a list of numbers';
  if (vector === undefined && known.vectorizer !== 'none' && options.vectorize) {
    const text = known.properties
      .filter((p) => p.moduleConfig?.[known.vectorizer]?.skip !== true && typeof properties[p.name] === 'string')
      .map((p) => String(properties[p.name]))
      .join(' ');
    vector = options.vectorize(text);
  }
  const objects = state.objects.get(known.class)!;
  if (vector !== undefined) {
    const other = [...objects.values()].find((o) => o.vector !== undefined && o.id !== object.id);
    if (other?.vector && other.vector.length !== vector.length) {
      return `new node has a vector with length ${vector.length}. Existing nodes have vectors with length ${other.vector.length}`;
    }
  }
  const now = Date.now();
  const stored: StandinObject = {
    class: known.class,
    id: object.id.toLowerCase(),
    properties: structuredClone(properties),
    creationTimeUnix: objects.get(object.id)?.creationTimeUnix ?? now,
    lastUpdateTimeUnix: now,
  };
  if (vector !== undefined) stored.vector = [...vector];
  objects.set(stored.id, stored);
  return undefined;
}

function valueProblem(dataType: string[], value: unknown): string | undefined {
  const type = dataType[0]!;
  if (!PRIMITIVES.has(type)) {
    if (!Array.isArray(value)) return 'a cross-reference is a list of beacons';
    for (const item of value as Array<{ beacon?: unknown }>) {
      const m = typeof item?.beacon === 'string' ? BEACON.exec(item.beacon) : null;
      if (!m) return `invalid beacon ${JSON.stringify(item?.beacon)}`;
      if (!dataType.includes(m[1]!)) return `class '${m[1]}' is not among the classes of the reference (${dataType.join(', ')})`;
    }
    return undefined;
  }
  const element = type.endsWith('[]') ? type.slice(0, -2) : undefined;
  if (element !== undefined) {
    if (!Array.isArray(value)) return `expected a list of ${element}`;
    for (const item of value) {
      const problem = scalarProblem(element, item);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return scalarProblem(type, value);
}

function scalarProblem(type: string, value: unknown): string | undefined {
  switch (type) {
    case 'text':
      return typeof value === 'string' ? undefined : `requires a string, got ${typeof value}`;
    case 'int':
      // Weaviate reads an int as int64; a JSON number past 2^53 has already lost digits on the way here.
      return typeof value === 'number' && Number.isSafeInteger(value) ? undefined : `requires an integer, got ${JSON.stringify(value)}`;
    case 'number':
      return typeof value === 'number' ? undefined : `requires a float, got ${typeof value}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `requires a bool, got ${typeof value}`;
    case 'date':
      return typeof value === 'string' && RFC3339.test(value) ? undefined : `requires a string with a RFC3339 formatted date, got ${JSON.stringify(value)}`;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? undefined : `requires a uuid, got ${JSON.stringify(value)}`;
    case 'blob':
      return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? undefined : 'requires a base64 string';
    default:
      return `unknown data type ${type}`;
  }
}

function objectCall(
  state: WeaviateStandin,
  options: WeaviateStandinOptions,
  method: string,
  className: string,
  id: string,
  body: unknown,
  include: string | null,
): [number, unknown] {
  if (!state.classes.has(className)) {
    if (method === 'PUT') throw new HttpError(422, `class ${className} not present in schema`);
    return [404, undefined];
  }
  const objects = state.objects.get(className)!;
  const found = objects.get(id.toLowerCase());
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (found === undefined) return [404, undefined];
      return method === 'HEAD' ? [204, undefined] : [200, restObject(state, found, include?.split(',').includes('vector') ?? false)];
    case 'DELETE':
      if (found === undefined) return [404, undefined];
      objects.delete(found.id);
      return [204, undefined];
    case 'PUT': {
      if (found === undefined) throw new HttpError(404, `object ${className}/${id} not found`);
      const error = storeObject(state, options, { ...(body as BatchObjectInput), class: className, id });
      if (error !== undefined) throw new HttpError(422, error);
      return [200, restObject(state, objects.get(id.toLowerCase())!, true)];
    }
    default:
      throw new HttpError(405, 'method not allowed');
  }
}

function restObject(state: WeaviateStandin, object: StandinObject, withVector: boolean): Record<string, unknown> {
  const known = state.classes.get(object.class)!;
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(object.properties)) {
    const property = known.properties.find((p) => p.name === name);
    // Weaviate answers each beacon with its REST address beside it.
    properties[name] =
      property && !PRIMITIVES.has(property.dataType[0]!) && Array.isArray(value)
        ? (value as Array<{ beacon: string }>).map((r) => ({ beacon: r.beacon, href: r.beacon.replace('weaviate://localhost', '/v1/objects') }))
        : value;
  }
  const out: Record<string, unknown> = {
    class: object.class,
    id: object.id,
    properties,
    creationTimeUnix: object.creationTimeUnix,
    lastUpdateTimeUnix: object.lastUpdateTimeUnix,
  };
  if (withVector) out.vector = object.vector ?? [];
  return out;
}
