/**
 * What makes an object's vector. Three embedders:
 * - `LocalHashEmbedder` (the default): feature hashing of word unigrams and character trigrams into 256
 *   dimensions, L2-normalised. No model, no download, deterministic; it measures lexical overlap only (shared words
 *   and spellings), not meaning: "car" and "automobile" are unrelated to it.
 * - the server's own vectorizer module, when `/v1/meta` lists one (`serverVectorizer`): icebridge sends no vector.
 * - `HttpEmbedder`: any OpenAI-compatible endpoint (`{input, model}` -> `{data: [{embedding}]}`).
 * Each object records which embedder made its vector (`embeddingsVersion`), so a change of embedder is visible.
 */
import { IcebridgeError } from '../errors';
import { boundedText } from '../text/bounded-text';
import type { EmbedderSettings } from './weaviate-settings';
import { describeWeaviateUrl } from './weaviate-settings';

/** Turns texts into vectors. */
export interface Embedder {
  readonly name: string;
  readonly version: string;
  /** Vector length (0 when the server makes the vectors, or until an endpoint has answered). */
  readonly dimensions: number;
  /** The server's vectorizer module when Weaviate makes the vectors itself: then no vector is sent. */
  readonly serverVectorizer?: string;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** `name@version`, recorded on every object as `embeddings_version`. */
export function embeddingsVersion(embedder: Pick<Embedder, 'name' | 'version'>): string {
  return `${embedder.name}@${embedder.version}`;
}

/** An embedder that failed (an endpoint down, an answer of the wrong shape). */
export class EmbedderError extends IcebridgeError {
  constructor(message: string, retryable: boolean) {
    super('WEAVIATE_EMBEDDER_FAILED', message, { retryable });
  }
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Feature hashing of word unigrams and character trigrams: lexical similarity, no semantics. */
export class LocalHashEmbedder implements Embedder {
  readonly name = 'icebridge-hash';
  readonly version = '1';
  constructor(readonly dimensions = 256) {}

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((text) => this.embedOne(text)));
  }

  /** One text's vector (all zeros for a text without words). */
  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimensions);
    for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
      const word = match[0];
      this.add(vector, `w:${word}`, 1);
      const padded = `^${word}$`;
      for (const tri of trigrams(padded)) this.add(vector, `c:${tri}`, 0.5);
    }
    let norm = 0;
    for (const v of vector) norm += v * v;
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
    }
    return vector;
  }

  private add(vector: Float32Array, feature: string, weight: number): void {
    const hash = fnv1a(feature);
    // The sign from another bit than the index keeps collisions from only ever adding up (unbiased hashing).
    vector[hash % this.dimensions]! += hash & 0x80000000 ? -weight : weight;
  }
}

function* trigrams(text: string): Generator<string> {
  const chars = Array.from(text);
  for (let i = 0; i + 3 <= chars.length; i++) yield chars.slice(i, i + 3).join('');
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Weaviate's own vectorizer module: the server embeds the class's embedded properties; nothing is computed here. */
export class ServerVectorizer implements Embedder {
  readonly dimensions = 0;
  constructor(
    readonly serverVectorizer: string,
    readonly version: string,
  ) {}
  get name(): string {
    return this.serverVectorizer;
  }
  embed(): Promise<Float32Array[]> {
    return Promise.reject(new EmbedderError(`the vectors are made by Weaviate's ${this.serverVectorizer} module, not here`, false));
  }
}

/** Options of the HTTP embedder. */
export interface HttpEmbedderOptions {
  url: string;
  key?: string;
  model: string;
  /** Texts per request (default 96). */
  batchSize?: number;
  timeoutInMs?: number;
}

/** An OpenAI-compatible embeddings endpoint. The key is sent as a bearer token and never shown. */
export class HttpEmbedder implements Embedder {
  readonly name: string;
  readonly version: string;
  private learned = 0;
  constructor(private readonly options: HttpEmbedderOptions) {
    this.name = `http:${options.model}`;
    this.version = describeWeaviateUrl(options.url).replace(/^https?:\/\//, '');
  }
  get dimensions(): number {
    return this.learned;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const size = this.options.batchSize ?? 96;
    for (let start = 0; start < texts.length; start += size) out.push(...(await this.request(texts.slice(start, start + size))));
    return out;
  }

  private async request(input: readonly string[]): Promise<Float32Array[]> {
    const where = `the embedding endpoint ${describeWeaviateUrl(this.options.url)}`;
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.key ? { authorization: `Bearer ${this.options.key}` } : {}) },
        body: JSON.stringify({ input, model: this.options.model }),
        signal: AbortSignal.timeout(this.options.timeoutInMs ?? 60_000),
      });
    } catch (error) {
      throw new EmbedderError(`${where} cannot be reached (${(error as Error).name})`, true);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new EmbedderError(`${where} answered ${response.status}: ${boundedText(this.scrub(text))}`, response.status >= 500 || response.status === 429);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new EmbedderError(`${where} answered something other than JSON`, false);
    }
    const data = (body as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length !== input.length)
      throw new EmbedderError(`${where} answered ${Array.isArray(data) ? data.length : 'no'} embeddings for ${input.length} texts`, false);
    const vectors = new Array<Float32Array>(input.length);
    data.forEach((item: { embedding?: unknown; index?: unknown }, position) => {
      const index = typeof item.index === 'number' ? item.index : position;
      if (!Array.isArray(item.embedding) || !item.embedding.every((v) => typeof v === 'number') || index < 0 || index >= input.length) {
        throw new EmbedderError(`${where} answered an embedding of the wrong shape`, false);
      }
      vectors[index] = Float32Array.from(item.embedding as number[]);
    });
    const dimensions = vectors[0]?.length ?? 0;
    if (vectors.some((v) => v === undefined || v.length !== dimensions)) throw new EmbedderError(`${where} answered embeddings of different lengths`, false);
    this.learned = dimensions;
    return vectors;
  }

  // An endpoint may echo the request's headers in an error; the key must not travel on in our message.
  private scrub(text: string): string {
    return this.options.key ? text.split(this.options.key).join('***') : text;
  }
}

/** The embedder the settings ask for; `modules` is what the server's `/v1/meta` lists, `serverVersion` its version. */
export function embedderFor(settings: EmbedderSettings, modules: Readonly<Record<string, unknown>>, serverVersion: string): Embedder {
  if (settings.kind === 'http') {
    const options: HttpEmbedderOptions = { url: settings.url!, model: settings.model ?? 'text-embedding-3-small' };
    if (settings.key !== undefined) options.key = settings.key;
    return new HttpEmbedder(options);
  }
  if (settings.kind === 'weaviate') {
    const vectorizer = Object.keys(modules).find((name) => /^(text2vec|multi2vec)-/.test(name));
    if (vectorizer === undefined) {
      throw new EmbedderError('ICEBRIDGE_WEAVIATE_EMBEDDER=weaviate, but the server lists no text2vec or multi2vec module in /v1/meta', false);
    }
    return new ServerVectorizer(vectorizer, serverVersion);
  }
  return new LocalHashEmbedder();
}
