/**
 * Application settings, read once from the environment (App Settings on Azure, local.settings.json locally),
 * validated and frozen. Secrets stay inside this object: `describeSettings` is what may be logged.
 */
import * as path from 'node:path';
import { ValidationError } from '../errors';
import type { FileIOSettings } from '../iceberg/io';
import type { AzureAccountSettings } from '../iceberg/io/azure-clients';
import { isPostgresUrl } from '../postgres/source-url';

/** Every setting the app reads. */
export interface Settings {
  /** Warehouse root location: a local path, file://, or abfss://<fs>@<account>.dfs.core.windows.net/<path>. */
  warehouse: string;
  /** Storage credentials for abfss:// warehouses: keys, connection strings or the app's identity. */
  storage: FileIOSettings;
  /** Durable Functions task hub name. */
  taskHub: string;
  /** PostgreSQL connection URL of the source database (a secret: it may hold a password). */
  sourceUrl?: string;
}

/** Environment variable names, in one place so docs and the sample settings file can list them. */
export const SETTING_NAMES = {
  warehouse: 'ICEBRIDGE_WAREHOUSE',
  storageConnectionString: 'ICEBRIDGE_STORAGE_CONNECTION_STRING',
  storageAccount: 'ICEBRIDGE_STORAGE_ACCOUNT',
  storageKey: 'ICEBRIDGE_STORAGE_KEY',
  storageBlobEndpoint: 'ICEBRIDGE_STORAGE_BLOB_ENDPOINT',
  taskHub: 'ICEBRIDGE_TASK_HUB',
  sourceUrl: 'ICEBRIDGE_SOURCE_URL',
} as const;

/** Durable's task hub rule: 3-45 characters, letters and digits only, starting with a letter. */
export const TASK_HUB_PATTERN = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

/** Where the app runs, as far as settings care: on Azure, under a Functions host locally, or neither (the CLI). */
export type HostKind = 'azure' | 'functions-host' | 'cli';

/** Azure sets WEBSITE_INSTANCE_ID on every instance; any Functions host (func start, serve) sets FUNCTIONS_WORKER_RUNTIME. */
export function hostKind(env: NodeJS.ProcessEnv): HostKind {
  if (env.WEBSITE_INSTANCE_ID?.trim()) return 'azure';
  if (env.FUNCTIONS_WORKER_RUNTIME?.trim()) return 'functions-host';
  return 'cli';
}

/**
 * Reads and validates settings; throws ValidationError naming the setting (never its value) when one is wrong.
 * A relative local warehouse is resolved against the app root (`AzureWebJobsScriptRoot`, else the working
 * directory), as `func start` and `icebridge serve` run there; on Azure only `abfss://` is accepted, since the
 * instance's disk is neither shared nor kept. Under a Functions host the task hub must be set: host.json reads
 * it as `%ICEBRIDGE_TASK_HUB%`, which has no default.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Readonly<Settings> {
  const kind = hostKind(env);
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const accounts: AzureAccountSettings[] = [];
  const connectionString = get(SETTING_NAMES.storageConnectionString);
  if (connectionString) accounts.push({ connectionString });
  const accountName = get(SETTING_NAMES.storageAccount);
  const accountKey = get(SETTING_NAMES.storageKey);
  if (accountKey && !accountName) {
    throw new ValidationError(`${SETTING_NAMES.storageAccount} and ${SETTING_NAMES.storageKey} must be set together`);
  }
  if (accountName) {
    const blobEndpoint = get(SETTING_NAMES.storageBlobEndpoint);
    // An account without a key is reached with the app's Microsoft Entra identity (managed identity on Azure).
    const credential = accountKey ? { accountName, accountKey } : { accountName, identity: true as const };
    accounts.push(blobEndpoint ? { ...credential, blobEndpoint } : credential);
  }
  const configured = get(SETTING_NAMES.warehouse);
  if (kind === 'azure' && !/^abfss:\/\//.test(configured ?? '')) {
    throw new ValidationError(
      `${SETTING_NAMES.warehouse} must be an abfss://<filesystem>@<account>.dfs.core.windows.net/<path> location on Azure: ${configured === undefined ? 'it is not set' : 'a local path or other location would be lost with the instance'}`,
    );
  }
  const warehouse = resolveLocalWarehouse(configured ?? '.icebridge/warehouse', get('AzureWebJobsScriptRoot'));
  if (/^abfss?:\/\/|^wasbs:\/\//.test(warehouse) && accounts.length === 0) {
    throw new ValidationError(
      `the warehouse is on Azure but no storage credentials are set: set ${SETTING_NAMES.storageAccount} (alone, to use the app's identity, or with ${SETTING_NAMES.storageKey}), or ${SETTING_NAMES.storageConnectionString}`,
    );
  }
  const configuredHub = get(SETTING_NAMES.taskHub);
  if (configuredHub === undefined && kind !== 'cli') {
    throw new ValidationError(
      `${SETTING_NAMES.taskHub} is not set: host.json names the Durable task hub after it (3-45 letters and digits, starting with a letter)`,
    );
  }
  const taskHub = configuredHub ?? 'icebridge';
  if (!TASK_HUB_PATTERN.test(taskHub)) {
    throw new ValidationError(`${SETTING_NAMES.taskHub} must be 3-45 letters and digits starting with a letter`);
  }
  const sourceUrl = get(SETTING_NAMES.sourceUrl);
  if (sourceUrl !== undefined && !isPostgresUrl(sourceUrl)) {
    throw new ValidationError(`${SETTING_NAMES.sourceUrl} must be a postgres:// or postgresql:// URL`);
  }
  return deepFreeze({ warehouse, storage: accounts.length > 0 ? { azure: { accounts } } : {}, taskHub, ...(sourceUrl ? { sourceUrl } : {}) });
}

/** A loggable view of the settings: locations and names, credentials replaced by what kind they are. */
export function describeSettings(settings: Readonly<Settings>): Record<string, string> {
  const accounts = settings.storage.azure?.accounts ?? [];
  return {
    warehouse: settings.warehouse,
    taskHub: settings.taskHub,
    source: settings.sourceUrl ? 'set' : 'not set',
    storageCredentials: accounts.length === 0 ? 'none' : accounts.map(describeAccount).join(', '),
  };
}

function describeAccount(account: AzureAccountSettings): string {
  if ('connectionString' in account) return 'connection string';
  return 'identity' in account ? `identity for ${account.accountName}` : `account key for ${account.accountName}`;
}

/** A local path becomes absolute against the app root; URLs (file://, abfss://, memory://) stay as they are. */
function resolveLocalWarehouse(location: string, appRoot: string | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  return path.resolve(appRoot ?? process.cwd(), location);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
