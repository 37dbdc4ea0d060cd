/**
 * The calls icebridge makes to Weaviate, through `weaviate-ts-client` 2.2 (REST and GraphQL; the v3 client needs
 * Node 22 and gRPC): typed in, typed out, and every failure a WeaviateRequestError naming the call and the status
 * without the API key or the URL's secrets.
 */
import type { WeaviateClass, WeaviateClient, WeaviateObject } from 'weaviate-ts-client';
import { IcebridgeError } from '../errors';
import { boundedText } from '../text/bounded-text';
import { describeWeaviateUrl } from './weaviate-settings';

/** A failed call to Weaviate. */
export class WeaviateRequestError extends IcebridgeError {
  /** The HTTP status when the server answered one. */
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined) {
    super('WEAVIATE_REQUEST_FAILED', message, { retryable: status === undefined || status >= 500 || status === 429 });
    this.status = status;
  }
}

/** What `/v1/meta` tells. */
export interface WeaviateMeta {
  version: string;
  modules: Record<string, unknown>;
}

/** A property of a class definition. */
export interface WeaviatePropertyDefinition {
  name: string;
  dataType: string[];
  description?: string;
  moduleConfig?: Record<string, unknown>;
}

/** A class definition as `/v1/schema` takes it. */
export interface WeaviateClassDefinition {
  class: string;
  description?: string;
  vectorizer: string;
  moduleConfig?: Record<string, unknown>;
  vectorIndexConfig?: Record<string, unknown>;
  properties: WeaviatePropertyDefinition[];
}

/** An object to upsert. */
export interface WeaviateObjectInput {
  class: string;
  id: string;
  properties: Record<string, unknown>;
  vector?: number[];
}

/** An object read back. */
export interface StoredObject {
  id: string;
  properties: Record<string, unknown>;
  vector: number[] | undefined;
  distance?: number;
}

/** Options of a GraphQL Get. */
export interface GetObjectsOptions {
  limit: number;
  after?: string;
  nearVector?: readonly number[];
  withVector?: boolean;
}

/** Where Weaviate is. */
export interface WeaviateConnectionOptions {
  url: string;
  apiKey?: string;
}

/** A connection to one Weaviate. */
export class WeaviateConnection {
  private readonly client: WeaviateClient;
  private readonly shown: string;
  private readonly secrets: string[];

  constructor(options: WeaviateConnectionOptions) {
    const url = new URL(options.url);
    const host = `${url.host}${url.pathname.replace(/\/+$/, '')}`;
    // The client (with its GraphQL and HTTP libraries) is loaded here, on first use, not by every command.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: weaviate, ApiKey } = require('weaviate-ts-client') as typeof import('weaviate-ts-client');
    this.client = weaviate.client({ scheme: url.protocol.replace(':', ''), host, ...(options.apiKey ? { apiKey: new ApiKey(options.apiKey) } : {}) });
    this.shown = describeWeaviateUrl(options.url);
    this.secrets = [options.apiKey, url.password, url.search.slice(1)].filter((s): s is string => !!s && s.length >= 4);
  }

  /** The server's version and modules. */
  async meta(): Promise<WeaviateMeta> {
    const meta = await this.call('read /v1/meta', () => this.client.misc.metaGetter().do() as Promise<{ version?: string; modules?: Record<string, unknown> }>);
    return { version: meta.version ?? 'unknown', modules: meta.modules ?? {} };
  }

  /** Every class of the schema. */
  async classes(): Promise<WeaviateClass[]> {
    const schema = await this.call('read the schema', () => this.client.schema.getter().do());
    return schema.classes ?? [];
  }

  /** Creates a class. */
  async createClass(definition: WeaviateClassDefinition): Promise<void> {
    await this.call(`create class ${definition.class}`, () => this.client.schema.classCreator().withClass(definition).do());
  }

  /** Adds a property to a class. */
  async addProperty(className: string, property: WeaviatePropertyDefinition): Promise<void> {
    await this.call(`add property ${property.name} to class ${className}`, () =>
      this.client.schema.propertyCreator().withClassName(className).withProperty(property).do(),
    );
  }

  /** Upserts objects in one batch; answers the errors of each object that failed, by id. */
  async upsert(objects: readonly WeaviateObjectInput[]): Promise<Map<string, string[]>> {
    const results = await this.call(`write ${objects.length} objects`, () =>
      this.client.batch
        .objectsBatcher()
        .withObjects(...(objects as WeaviateObject[]))
        .do(),
    );
    const failed = new Map<string, string[]>();
    results.forEach((result, i) => {
      const errors = result.result?.errors?.error?.map((e) => e.message ?? 'unknown error') ?? [];
      if (errors.length > 0) failed.set(result.id ?? objects[i]!.id, errors);
    });
    if (results.length !== objects.length) failed.set('(batch)', [`${results.length} results for ${objects.length} objects`]);
    return failed;
  }

  /** One object, or undefined when there is none. */
  async object(className: string, id: string, withVector = false): Promise<StoredObject | undefined> {
    try {
      const getter = this.client.data.getterById().withClassName(className).withId(id);
      const found = await this.call(`read object ${className}/${id}`, () => (withVector ? getter.withVector() : getter).do());
      return { id: found.id ?? id, properties: (found.properties ?? {}) as Record<string, unknown>, vector: found.vector };
    } catch (error) {
      if (error instanceof WeaviateRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Deletes one object; answers false when there was none. */
  async deleteObject(className: string, id: string): Promise<boolean> {
    try {
      await this.call(`delete object ${className}/${id}`, () => this.client.data.deleter().withClassName(className).withId(id).do());
      return true;
    } catch (error) {
      if (error instanceof WeaviateRequestError && error.status === 404) return false;
      throw error;
    }
  }

  /** A page of a class's objects by GraphQL Get: after a cursor, or nearest to a vector. */
  async getObjects(className: string, properties: readonly string[], options: GetObjectsOptions): Promise<StoredObject[]> {
    const additional = ['id', ...(options.withVector ? ['vector'] : []), ...(options.nearVector ? ['distance'] : [])];
    const fields = `${properties.join(' ')} _additional { ${additional.join(' ')} }`;
    let query = this.client.graphql.get().withClassName(className).withFields(fields).withLimit(options.limit);
    if (options.after !== undefined) query = query.withAfter(options.after);
    if (options.nearVector !== undefined) query = query.withNearVector({ vector: Array.from(options.nearVector) });
    const answer = await this.call(`query class ${className}`, () => query.do());
    const rows = (answer.data as { Get?: Record<string, unknown> } | undefined)?.Get?.[className];
    if (!Array.isArray(rows)) throw new WeaviateRequestError(`weaviate at ${this.shown}: query class ${className} answered no objects list`, undefined);
    return rows.map((row: Record<string, unknown>) => {
      const { _additional: extra, ...props } = row as { _additional?: { id?: string; vector?: number[] | null; distance?: number } };
      const stored: StoredObject = { id: extra?.id ?? '', properties: props, vector: extra?.vector ?? undefined };
      if (typeof extra?.distance === 'number') stored.distance = extra.distance;
      return stored;
    });
  }

  /** The number of objects of a class (GraphQL Aggregate meta count). */
  async count(className: string): Promise<number> {
    const answer = await this.call(`count class ${className}`, () =>
      this.client.graphql.aggregate().withClassName(className).withFields('meta { count }').do(),
    );
    const rows = (answer.data as { Aggregate?: Record<string, Array<{ meta?: { count?: number } }>> } | undefined)?.Aggregate?.[className];
    return rows?.[0]?.meta?.count ?? 0;
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const raw = error instanceof Error ? error.message : String(error);
      const status = /usage error \((\d{3})\)/.exec(raw)?.[1] ?? /"status":\s*(\d{3})/.exec(raw)?.[1];
      let message = raw;
      for (const secret of this.secrets) message = message.split(secret).join('***');
      // A failure to connect is a TypeError whose message says nothing of where; say it, without secrets.
      const detail = error instanceof TypeError ? `cannot be reached (${message})` : boundedText(message);
      throw new WeaviateRequestError(`weaviate at ${this.shown}: ${what} failed: ${detail}`, status === undefined ? undefined : Number(status));
    }
  }
}
