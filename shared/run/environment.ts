/** What migrations and verifications need from the outside world, so activities, the CLI and tests can supply it. */
import { isMainThread, workerData } from 'node:worker_threads';
import type { Client } from 'pg';
import { loadResourceSettings } from '../config/resource-settings';
import type { Settings } from '../config/settings';
import { ValidationError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { HadoopCatalog } from '../iceberg/catalog/hadoop-catalog';
import { ResolvingFileIO } from '../iceberg/io';
import { connectWithBackoff } from '../postgres/connect-backoff';
import { connectPostgres } from '../postgres/connection';
import { ConnectionGate } from '../postgres/connection-gate';

/** Source connection and target catalog of a run (a migration or a verification). */
export interface RunEnvironment {
  /** Opens a new connection to the source database (the caller closes it). */
  connectSource(): Promise<Client>;
  /** The warehouse's catalog. */
  catalog: Catalog;
  /**
   * Opens the connection that holds a run's shared snapshot, outside the instance's cap (one per run, idle nearly
   * always; taking a permit would stall a cap of 1 for ever). connectSource when absent.
   */
  connectSnapshotHolder?(): Promise<Client>;
  /** The source's URL, for a replication connection (change capture); absent where only connectSource reaches it. */
  sourceUrl?: string;
}

/** Runs `fn` with a fresh source connection, closing it afterwards whatever happens. */
export async function withSource<T>(env: RunEnvironment, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await env.connectSource();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What the copy worker pool hands its threads so they share this process's limits. */
export interface SharedInstanceLimits {
  connectionGate: SharedArrayBuffer;
}

let instanceGate: ConnectionGate | undefined;

/**
 * The process's cap on source connections (ICEBRIDGE_SOURCE_CONNECTIONS): made in the main thread, attached to
 * by copy worker threads through their workerData, so the cap holds for the instance as a whole.
 */
export function instanceConnectionGate(): ConnectionGate {
  if (!instanceGate) {
    const shared = isMainThread ? undefined : (workerData as Partial<SharedInstanceLimits> | null)?.connectionGate;
    instanceGate = shared instanceof SharedArrayBuffer ? new ConnectionGate(shared) : new ConnectionGate(loadResourceSettings().sourceConnections);
  }
  return instanceGate;
}

/**
 * Opens a source connection under the instance's cap: a permit is taken first (waiting while every one is in
 * use) and given back when the connection ends, whichever way it ends.
 */
export async function connectUnderCap(connect: () => Promise<Client>, gate: ConnectionGate = instanceConnectionGate()): Promise<Client> {
  const release = await gate.acquire();
  let client: Client;
  try {
    client = await connectWithBackoff(connect);
  } catch (error) {
    release();
    throw error;
  }
  client.once('end', release);
  return client;
}

/** The environment the app's settings describe: the source from ICEBRIDGE_SOURCE_URL, the warehouse's catalog. */
export function environmentFromSettings(settings: Readonly<Settings>): RunEnvironment {
  const sourceUrl = settings.sourceUrl;
  return {
    connectSource: async () => {
      if (!sourceUrl) throw new ValidationError('no source database is configured: set ICEBRIDGE_SOURCE_URL');
      return connectUnderCap(() => connectPostgres(sourceUrl, { applicationName: 'icebridge' }));
    },
    connectSnapshotHolder: async () => {
      if (!sourceUrl) throw new ValidationError('no source database is configured: set ICEBRIDGE_SOURCE_URL');
      return connectWithBackoff(() => connectPostgres(sourceUrl, { applicationName: 'icebridge-snapshot' }));
    },
    catalog: new HadoopCatalog(new ResolvingFileIO(settings.storage), settings.warehouse),
    ...(sourceUrl ? { sourceUrl } : {}),
  };
}
