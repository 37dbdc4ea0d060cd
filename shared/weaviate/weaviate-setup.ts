/** A Weaviate sink from settings: the connection, the embedder the server and the settings call for, the class configuration. */
import { ValidationError } from '../errors';
import { loadClassConfig } from './class-config';
import { embedderFor } from './embedders';
import { WeaviateConnection } from './weaviate-client';
import { type WeaviateSettings, WEAVIATE_SETTING_NAMES, weaviateSettingsFromEnv } from './weaviate-settings';
import { WeaviateSink } from './weaviate-sink';

/** An opened Weaviate. */
export interface OpenedWeaviate {
  connection: WeaviateConnection;
  sink: WeaviateSink;
}

/** Opens Weaviate as `settings` say (reads `/v1/meta` to choose the embedder). */
export async function openWeaviate(settings: WeaviateSettings): Promise<OpenedWeaviate> {
  const connection = new WeaviateConnection({ url: settings.url, ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }) });
  const [meta, config] = await Promise.all([connection.meta(), loadClassConfig(settings.classConfigPath)]);
  const embedder = embedderFor(settings.embedder, meta.modules, meta.version);
  return { connection, sink: new WeaviateSink({ connection, embedder, config }) };
}

/** Opens the Weaviate of `env`; a ValidationError when none is configured. */
export function openWeaviateFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<OpenedWeaviate> {
  const settings = weaviateSettingsFromEnv(env);
  if (settings === undefined) return Promise.reject(new ValidationError(`no Weaviate is configured: set ${WEAVIATE_SETTING_NAMES.url}`));
  return openWeaviate(settings);
}
