/**
 * Where Weaviate is and how its vectors are made, from the environment. Optional: without
 * `ICEBRIDGE_WEAVIATE_URL` nothing is sent to Weaviate. The API key and the embedding endpoint's key are secrets;
 * the URLs are treated as secrets too (a URL may carry credentials) and shown only through `describeWeaviateUrl`.
 */
import { ValidationError } from '../errors';

/** The Weaviate settings, by environment variable. */
export const WEAVIATE_SETTING_NAMES = {
  url: 'ICEBRIDGE_WEAVIATE_URL',
  apiKey: 'ICEBRIDGE_WEAVIATE_API_KEY',
  classConfig: 'ICEBRIDGE_WEAVIATE_CLASS_CONFIG',
  embedder: 'ICEBRIDGE_WEAVIATE_EMBEDDER',
  embeddingUrl: 'ICEBRIDGE_WEAVIATE_EMBEDDING_URL',
  embeddingKey: 'ICEBRIDGE_WEAVIATE_EMBEDDING_KEY',
  embeddingModel: 'ICEBRIDGE_WEAVIATE_EMBEDDING_MODEL',
} as const;

/** Which embedder makes the vectors: the local one, the server's vectorizer module, or an HTTP endpoint. */
export type EmbedderKind = 'local' | 'weaviate' | 'http';

/** The embedder's settings. */
export interface EmbedderSettings {
  kind: EmbedderKind;
  /** OpenAI-compatible embeddings endpoint (kind `http`; a secret). */
  url?: string;
  /** Its bearer key (a secret). */
  key?: string;
  /** The model named in each request and in `embeddings_version` (kind `http`). */
  model?: string;
}

/** A configured Weaviate. */
export interface WeaviateSettings {
  /** Base URL, `http(s)://host:port` (a secret). */
  url: string;
  /** API key sent as a bearer token (a secret). */
  apiKey?: string;
  /** Path of the class configuration JSON (class-config.ts); default: every table with every column. */
  classConfigPath?: string;
  embedder: EmbedderSettings;
}

/** The Weaviate of `env`, or undefined without `ICEBRIDGE_WEAVIATE_URL`; a malformed setting is a ValidationError naming it. */
export function weaviateSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WeaviateSettings | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const url = get(WEAVIATE_SETTING_NAMES.url);
  if (url === undefined) return undefined;
  checkHttpUrl(url, WEAVIATE_SETTING_NAMES.url);
  const kind = (get(WEAVIATE_SETTING_NAMES.embedder) ?? 'local').toLowerCase();
  if (kind !== 'local' && kind !== 'weaviate' && kind !== 'http') {
    throw new ValidationError(`${WEAVIATE_SETTING_NAMES.embedder} must be local, weaviate or http`);
  }
  const embedder: EmbedderSettings = { kind };
  if (kind === 'http') {
    const embeddingUrl = get(WEAVIATE_SETTING_NAMES.embeddingUrl);
    if (embeddingUrl === undefined) throw new ValidationError(`${WEAVIATE_SETTING_NAMES.embedder}=http needs ${WEAVIATE_SETTING_NAMES.embeddingUrl}`);
    checkHttpUrl(embeddingUrl, WEAVIATE_SETTING_NAMES.embeddingUrl);
    embedder.url = embeddingUrl;
    const key = get(WEAVIATE_SETTING_NAMES.embeddingKey);
    if (key !== undefined) embedder.key = key;
    embedder.model = get(WEAVIATE_SETTING_NAMES.embeddingModel) ?? 'text-embedding-3-small';
  }
  const settings: WeaviateSettings = { url, embedder };
  const apiKey = get(WEAVIATE_SETTING_NAMES.apiKey);
  if (apiKey !== undefined) settings.apiKey = apiKey;
  const classConfigPath = get(WEAVIATE_SETTING_NAMES.classConfig);
  if (classConfigPath !== undefined) settings.classConfigPath = classConfigPath;
  return settings;
}

/** A URL as it may be shown: scheme, host and port only (no credentials, path or query). */
export function describeWeaviateUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(invalid URL)';
  }
}

function checkHttpUrl(url: string, name: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`${name} must be an http:// or https:// URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ValidationError(`${name} must be an http:// or https:// URL`);
  // Credentials belong in the key settings, where they are never shown; one inside a URL would travel in logs.
  if (parsed.username || parsed.password) throw new ValidationError(`${name} must not hold credentials: use the key setting`);
}
