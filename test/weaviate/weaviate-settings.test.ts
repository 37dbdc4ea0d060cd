/** The Weaviate settings: optional as a whole, defaults, and each malformed setting named. */
import { describe, expect, it } from 'vitest';
import { weaviateSettingsFromEnv } from '../../shared/weaviate/weaviate-settings';

describe('the Weaviate settings', () => {
  it('are absent without a URL, and default to the local embedder', () => {
    expect(weaviateSettingsFromEnv({ ICEBRIDGE_WEAVIATE_API_KEY: 'k' })).toBeUndefined();
    expect(weaviateSettingsFromEnv({ ICEBRIDGE_WEAVIATE_URL: 'http://weaviate:8080', ICEBRIDGE_WEAVIATE_CLASS_CONFIG: './c.json' })).toEqual({
      url: 'http://weaviate:8080',
      classConfigPath: './c.json',
      embedder: { kind: 'local' },
    });
    expect(
      weaviateSettingsFromEnv({
        ICEBRIDGE_WEAVIATE_URL: 'https://w',
        ICEBRIDGE_WEAVIATE_EMBEDDER: 'http',
        ICEBRIDGE_WEAVIATE_EMBEDDING_URL: 'https://e/v1/embeddings',
        ICEBRIDGE_WEAVIATE_EMBEDDING_KEY: 'sk',
      }),
    ).toMatchObject({ embedder: { kind: 'http', url: 'https://e/v1/embeddings', key: 'sk', model: 'text-embedding-3-small' } });
  });

  it('name the setting that is wrong', () => {
    expect(() => weaviateSettingsFromEnv({ ICEBRIDGE_WEAVIATE_URL: 'ftp://w' })).toThrow(/ICEBRIDGE_WEAVIATE_URL must be an http/);
    expect(() => weaviateSettingsFromEnv({ ICEBRIDGE_WEAVIATE_URL: 'http://w', ICEBRIDGE_WEAVIATE_EMBEDDER: 'magic' })).toThrow(
      /ICEBRIDGE_WEAVIATE_EMBEDDER must be/,
    );
    expect(() => weaviateSettingsFromEnv({ ICEBRIDGE_WEAVIATE_URL: 'http://w', ICEBRIDGE_WEAVIATE_EMBEDDER: 'http' })).toThrow(
      /needs ICEBRIDGE_WEAVIATE_EMBEDDING_URL/,
    );
  });
});
