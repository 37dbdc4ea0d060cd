/** What the migration use cases need from the outside world, so activities, the CLI and tests can supply it. */
import type { Client } from 'pg';
import type { HadoopCatalog } from '../iceberg/catalog/hadoop-catalog';

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
