/** What the migration use cases need from the outside world, so activities, the CLI and tests can supply it. */
import type { Client } from 'pg';
import type { Settings } from '../config/settings';
import { ValidationError } from '../errors';
import { HadoopCatalog } from '../iceberg/catalog/hadoop-catalog';
import { ResolvingFileIO } from '../iceberg/io';
import { connectPostgres } from '../postgres/connection';

/** Source connection and target catalog of a migration. */
export interface MigrationEnvironment {
  /** Opens a new connection to the source database (the caller closes it). */
  connectSource(): Promise<Client>;
  /** The warehouse's catalog. */
  catalog: HadoopCatalog;
}

/** Runs `fn` with a fresh source connection, closing it afterwards whatever happens. */
export async function withSource<T>(env: MigrationEnvironment, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await env.connectSource();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The environment the app's settings describe: the source from ICEBRIDGE_SOURCE_URL, the warehouse's catalog. */
export function environmentFromSettings(settings: Readonly<Settings>): MigrationEnvironment {
  const sourceUrl = settings.sourceUrl;
  return {
    connectSource: async () => {
      if (!sourceUrl) throw new ValidationError('no source database is configured: set ICEBRIDGE_SOURCE_URL');
      return connectPostgres(sourceUrl, { applicationName: 'icebridge' });
    },
    catalog: new HadoopCatalog(new ResolvingFileIO(settings.storage), settings.warehouse),
  };
}
