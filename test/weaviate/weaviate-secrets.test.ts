/**
 * The Weaviate settings' secrets (the API key, the embedding key, and both URLs, which may carry credentials in a
 * query) never appear in an error: a refused key, a closed port, a malformed setting. Against the Weaviate
 * STAND-IN (test/support/weaviate-standin.ts) and a local endpoint.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/support/free-port';
import { HttpEmbedder } from '../../shared/weaviate/embedders';
import { WeaviateConnection } from '../../shared/weaviate/weaviate-client';
import { WEAVIATE_SETTING_NAMES, weaviateSettingsFromEnv } from '../../shared/weaviate/weaviate-settings';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';

const CANARY = 'c4n4ry0f7he2we4v1a7e5e7t1ng5';
let standin: WeaviateStandin | undefined;
afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

async function failure(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).stack)}`;
  }
  throw new Error('expected a failure');
}

describe('the Weaviate secrets', () => {
  it('ICEBRIDGE_WEAVIATE_API_KEY: a refused key and an unreachable server name neither the key nor the URL query', async () => {
    standin = await startWeaviateStandin({ apiKey: 'the-right-key' });
    const refused = await failure(() => new WeaviateConnection({ url: `${standin!.url}/?token=${CANARY}`, apiKey: CANARY }).classes());
    expect(refused).toMatch(/weaviate at http:\/\/127\.0\.0\.1:\d+: read the schema failed: usage error \(401\)/);
    expect(refused).not.toContain(CANARY);
    const port = await freePort();
    const unreachable = await failure(() => new WeaviateConnection({ url: `http://127.0.0.1:${port}`, apiKey: CANARY }).meta());
    expect(unreachable).toMatch(/cannot be reached/);
    expect(unreachable).not.toContain(CANARY);
  });

  it('ICEBRIDGE_WEAVIATE_URL and ICEBRIDGE_WEAVIATE_EMBEDDING_URL: credentials in a URL are refused without being shown', async () => {
    for (const name of [WEAVIATE_SETTING_NAMES.url, WEAVIATE_SETTING_NAMES.embeddingUrl]) {
      const env = {
        [WEAVIATE_SETTING_NAMES.url]: 'http://127.0.0.1:8080',
        [WEAVIATE_SETTING_NAMES.embedder]: 'http',
        [WEAVIATE_SETTING_NAMES.embeddingUrl]: 'http://127.0.0.1:9/v1/embeddings',
        [name]: `https://user:${CANARY}@weaviate.example.com`,
      };
      const message = await failure(() => weaviateSettingsFromEnv(env));
      expect(message).toContain(name);
      expect(message).not.toContain(CANARY);
    }
  });

  it('ICEBRIDGE_WEAVIATE_EMBEDDING_KEY: an endpoint that refuses and echoes it, or cannot be reached, shows neither key nor query', async () => {
    const server = createServer((req, res) => res.writeHead(403).end(`denied ${req.headers.authorization ?? ''} ${req.url ?? ''}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/embeddings?api-key=${CANARY}`;
      const refused = await failure(() => new HttpEmbedder({ url, key: CANARY, model: 'm' }).embed(['x']));
      expect(refused).toMatch(/answered 403/);
      expect(refused).not.toContain(CANARY);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    const closed = await failure(() => new HttpEmbedder({ url: `http://127.0.0.1:${'9'}/e?key=${CANARY}`, key: CANARY, model: 'm' }).embed(['x']));
    expect(closed).toMatch(/cannot be reached/);
    expect(closed).not.toContain(CANARY);
  });
});
