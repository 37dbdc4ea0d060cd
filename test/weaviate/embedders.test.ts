/**
 * The embedders: the local feature-hashing one, an OpenAI-compatible endpoint (a local node:http server answering
 * that API's documented shape), and Weaviate's own vectorizer module on the Weaviate STAND-IN.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpEmbedder, LocalHashEmbedder, ServerVectorizer, embedderFor, embeddingsVersion } from '../../shared/weaviate/embedders';
import { WeaviateConnection } from '../../shared/weaviate/weaviate-client';
import { WeaviateSink } from '../../shared/weaviate/weaviate-sink';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';
import { ACCOUNT, upsert } from './weaviate-fixtures';

const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('the local embedder', () => {
  it('is deterministic, L2-normalised, and lexical: shared words and spellings are close, others are not', async () => {
    const embedder = new LocalHashEmbedder();
    const [a, a2, b, c] = await embedder.embed([
      'three year licence renewal',
      'three year licence renewal',
      'renewal of a three year licence',
      'hardware audit in Berlin',
    ]);
    expect(a).toHaveLength(256);
    expect(Array.from(a!)).toEqual(Array.from(a2!));
    expect(cosine(a!, a!)).toBeCloseTo(1, 5);
    expect(cosine(a!, b!)).toBeGreaterThan(0.6);
    expect(cosine(a!, c!)).toBeLessThan(0.3);
    expect(embeddingsVersion(embedder)).toBe('icebridge-hash@1');
  });
});

describe('the HTTP embedder', () => {
  it('sends {input, model} with the key as a bearer token and reads {data: [{embedding, index}]} in index order', async () => {
    const seen: Array<{ auth: string | undefined; body: { input: string[]; model: string } }> = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as { input: string[]; model: string };
        seen.push({ auth: req.headers.authorization, body });
        const data = body.input.map((t, index) => ({ object: 'embedding', index, embedding: [t.length, 1, 0] })).reverse();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: body.model }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/embeddings`;
    const embedder = new HttpEmbedder({ url, key: 'sk-secret-key', model: 'm1', batchSize: 2 });
    const vectors = await embedder.embed(['a', 'bb', 'ccc']);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [1, 1, 0],
      [2, 1, 0],
      [3, 1, 0],
    ]);
    expect(seen.map((s) => s.body.input)).toEqual([['a', 'bb'], ['ccc']]);
    expect(seen[0]).toMatchObject({ auth: 'Bearer sk-secret-key', body: { model: 'm1' } });
    expect(embedder.dimensions).toBe(3);
    expect(embeddingsVersion(embedder)).toBe(`http:m1@${url.replace(/^http:\/\//, '').replace('/v1/embeddings', '')}`);
  });

  it('names the endpoint without its key when it fails, even when the answer echoes the key', async () => {
    const server = createServer((req, res) => {
      res.writeHead(401).end(`bad key ${req.headers.authorization ?? ''}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/embeddings`;
    const error = (await new HttpEmbedder({ url, key: 'sk-secret-key', model: 'm1' }).embed(['a']).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/the embedding endpoint http:\/\/127\.0\.0\.1:\d+ answered 401/);
    expect(error.message).not.toContain('sk-secret-key');
  });
});

describe("Weaviate's vectorizer module", () => {
  let standin: WeaviateStandin;
  afterEach(async () => {
    await standin.close();
  });

  it('is chosen from /v1/meta; the sink then sends no vector and the server makes it', async () => {
    const local = new LocalHashEmbedder(8);
    standin = await startWeaviateStandin({
      modules: { 'text2vec-openai': { documentationHref: 'x', name: 'OpenAI Module' } },
      vectorize: (t) => Array.from(local.embedOne(t)),
    });
    const connection = new WeaviateConnection({ url: standin.url });
    const meta = await connection.meta();
    const embedder = embedderFor({ kind: 'weaviate' }, meta.modules, meta.version);
    expect(embedder).toBeInstanceOf(ServerVectorizer);
    expect(embeddingsVersion(embedder)).toBe('text2vec-openai@1.24.10');
    let sentVector = false;
    const sink = new WeaviateSink({ connection, embedder });
    await sink.prepare([ACCOUNT]);
    expect(standin.classes.get('Account')).toMatchObject({ vectorizer: 'text2vec-openai' });
    const original = connection.upsert.bind(connection);
    connection.upsert = (objects) => {
      sentVector ||= objects.some((o) => o.vector !== undefined);
      return original(objects);
    };
    await sink.apply({ through: 1n, changes: [upsert(ACCOUNT, [1n, 'Contoso'], 1n)] });
    expect(sentVector).toBe(false);
    expect([...standin.objects.get('Account')!.values()][0]!.vector).toHaveLength(8);
    expect(() => embedderFor({ kind: 'weaviate' }, {}, '1.24.10')).toThrow(/lists no text2vec or multi2vec module/);
  });
});
