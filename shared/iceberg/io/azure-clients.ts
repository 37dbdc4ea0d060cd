import type { BlobServiceClient } from '@azure/storage-blob';
import type { DataLakeServiceClient } from '@azure/storage-file-datalake';
import { ValidationError } from '../../errors';
import { type TokenCredential, defaultAzureCredential } from './azure-credential';

/** Credentials for one storage account: a connection string, an account name and key, or the app's identity. */
export type AzureAccountSettings =
  | {
      /** Full connection string; its AccountName (or BlobEndpoint host) says which account it serves. */
      connectionString: string;
    }
  | {
      accountName: string;
      accountKey: string;
      /** Blob endpoint override, e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`. */
      blobEndpoint?: string;
    }
  | {
      accountName: string;
      /** Requests carry a Microsoft Entra token of the app's identity (Storage Blob Data Contributor on the account). */
      identity: true;
      /** Blob endpoint override; must be https, as bearer tokens are never sent in the clear. */
      blobEndpoint?: string;
    };

/** Azure storage settings: credentials per account, and transfer and retry tuning. */
export interface AzureStorageSettings {
  /** One entry per storage account; a location's account name selects the entry. */
  accounts: readonly AzureAccountSettings[];
  /** Bytes buffered per staged block when streaming; also the largest whole-file write sent in one request. */
  blockSizeInBytes?: number;
  /** Deadline for one request (a block, a download, a listing page) before it fails as a retryable timeout. */
  operationTimeoutInMs?: number;
  /** Attempts per request, first one included. */
  maxTries?: number;
  /** Base delay of the exponential retry backoff. */
  retryDelayInMs?: number;
  /** Upper bound of one retry delay. */
  maxRetryDelayInMs?: number;
  /** Blobs asked for per listing request; the service caps it at 5000. */
  listPageSize?: number;
  /** The identity of `identity` accounts; defaults to the process's DefaultAzureCredential, made on first use. */
  credential?: TokenCredential;
}

/** Settings with every default filled in. */
export interface ResolvedAzureTuning {
  blockSizeInBytes: number;
  operationTimeoutInMs: number;
  maxTries: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
  listPageSize: number;
}

const DEFAULT_TUNING: ResolvedAzureTuning = {
  blockSizeInBytes: 8 * 1024 * 1024,
  operationTimeoutInMs: 30_000,
  maxTries: 4,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 2_000,
  listPageSize: 5_000,
};
const MAX_BLOCK_SIZE_IN_BYTES = 4000 * 1024 * 1024;
const DEVELOPMENT_ACCOUNT = 'devstoreaccount1';

type AccountEntry =
  | { accountName: string; connectionString: string }
  | { accountName: string; accountKey: string; blobEndpoint?: string }
  | { accountName: string; identity: true; blobEndpoint?: string };

/** The part of the SDKs' pipeline options we set; both storage packages accept it. */
interface PipelineOptions {
  retryOptions: { maxTries: number; retryDelayInMs: number; maxRetryDelayInMs: number };
}

/** Blob-endpoint clients for one account: one with retries, one that sends each request exactly once. */
export interface AccountClients {
  blob: BlobServiceClient;
  /**
   * For conditional commits: a retried `If-None-Match: *` request whose first attempt landed would fail as
   * "already exists" against its own write, so commit requests are never retried inside the SDK.
   */
  blobOnce: BlobServiceClient;
}

/** Resolves a location's account to authenticated SDK clients, built once per account and endpoint. */
export class AzureClients {
  readonly tuning: ResolvedAzureTuning;
  private readonly accounts = new Map<string, AccountEntry>();
  private readonly cache = new Map<string, AccountClients>();
  private readonly dataLakeCache = new Map<string, DataLakeServiceClient>();
  private readonly credential: TokenCredential | undefined;

  constructor(settings: AzureStorageSettings) {
    this.tuning = resolveTuning(settings);
    this.credential = settings.credential;
    settings.accounts.forEach((account, index) => {
      const entry = toEntry(account, index);
      if (this.accounts.has(entry.accountName)) {
        throw new ValidationError(`Azure settings list storage account '${entry.accountName}' more than once`);
      }
      this.accounts.set(entry.accountName, entry);
    });
  }

  /** Blob clients for `accountName`; throws ValidationError when no credentials are configured for it. */
  forAccount(accountName: string, endpointSuffix: string): AccountClients {
    const key = `${accountName}|${endpointSuffix}`;
    let clients = this.cache.get(key);
    if (clients === undefined) {
      const entry = this.entry(accountName);
      clients = {
        blob: createBlobClient(entry, endpointSuffix, this.pipelineOptions(this.tuning.maxTries), () => this.tokenCredential()),
        blobOnce: createBlobClient(entry, endpointSuffix, this.pipelineOptions(1), () => this.tokenCredential()),
      };
      this.cache.set(key, clients);
    }
    return clients;
  }

  /** Data Lake client for `accountName`; only meaningful on accounts with hierarchical namespace. */
  dataLakeForAccount(accountName: string, endpointSuffix: string): DataLakeServiceClient {
    const key = `${accountName}|${endpointSuffix}`;
    let client = this.dataLakeCache.get(key);
    if (client === undefined) {
      const entry = this.entry(accountName);
      const options = this.pipelineOptions(this.tuning.maxTries);
      client = guardSecrets(entry.accountName, () => {
        if ('connectionString' in entry) {
          return dataLakeSdk().DataLakeServiceClient.fromConnectionString(entry.connectionString, options);
        }
        // The SDK derives the dfs endpoint from a blob endpoint URL by swapping the service label.
        const url = entry.blobEndpoint ?? `https://${entry.accountName}.dfs.${endpointSuffix}`;
        const { DataLakeServiceClient, StorageSharedKeyCredential } = dataLakeSdk();
        if ('identity' in entry) return new DataLakeServiceClient(url, this.tokenCredential(), options);
        return new DataLakeServiceClient(url, new StorageSharedKeyCredential(entry.accountName, entry.accountKey), options);
      });
      this.dataLakeCache.set(key, client);
    }
    return client;
  }

  /** The injected credential, else the process's own: made only when an identity account is first used. */
  private tokenCredential(): TokenCredential {
    return this.credential ?? defaultAzureCredential();
  }

  private entry(accountName: string): AccountEntry {
    const entry = this.accounts.get(accountName);
    if (entry === undefined) {
      throw new ValidationError(`No Azure credentials are configured for storage account '${accountName}'`);
    }
    return entry;
  }

  private pipelineOptions(maxTries: number): PipelineOptions {
    return {
      retryOptions: {
        maxTries,
        retryDelayInMs: this.tuning.retryDelayInMs,
        maxRetryDelayInMs: this.tuning.maxRetryDelayInMs,
      },
    };
  }
}

/** Parses `key=value;...` pairs; keys compared case-insensitively, values may themselves contain '='. */
export function parseConnectionString(connectionString: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const pair of connectionString.split(';')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    parts.set(pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim());
  }
  return parts;
}

/** Which account a connection string serves, without ever putting the string itself into an error. */
export function accountNameOfConnectionString(connectionString: string, index = 0): string {
  const parts = parseConnectionString(connectionString);
  const explicit = parts.get('accountname');
  if (explicit) return explicit;
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return DEVELOPMENT_ACCOUNT;
  const endpoint = parts.get('blobendpoint');
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      // Emulator endpoints carry the account as the first path segment; real ones as the first host label.
      const fromPath = url.pathname.split('/').find((segment) => segment !== '');
      const isIpHost = /^[\d.]+$|^\[/.test(url.hostname) || url.hostname === 'localhost';
      const name = isIpHost ? fromPath : url.hostname.split('.')[0];
      if (name) return name;
    } catch {
      // Fall through to the error below, which does not echo the endpoint.
    }
  }
  throw new ValidationError(`Azure account #${index + 1}: the connection string names no AccountName or BlobEndpoint`);
}

function toEntry(account: AzureAccountSettings, index: number): AccountEntry {
  if ('connectionString' in account) {
    if (typeof account.connectionString !== 'string' || account.connectionString.trim() === '') {
      throw new ValidationError(`Azure account #${index + 1}: the connection string is empty`);
    }
    const accountName = accountNameOfConnectionString(account.connectionString, index);
    return { accountName, connectionString: account.connectionString };
  }
  if ('identity' in account) {
    if (!account.accountName || account.identity !== true) {
      throw new ValidationError(`Azure account #${index + 1}: an identity account needs its accountName`);
    }
    // Bearer tokens only travel over TLS: the SDK refuses them on http:// at the first request, so say it now.
    if (account.blobEndpoint !== undefined && checkedUrl(account.accountName, account.blobEndpoint).protocol !== 'https:') {
      throw new ValidationError(`Azure account '${account.accountName}': the app's identity needs an https blob endpoint (tokens are never sent in the clear)`);
    }
    return { accountName: account.accountName, identity: true, blobEndpoint: account.blobEndpoint };
  }
  if (!account.accountName || !account.accountKey) {
    throw new ValidationError(`Azure account #${index + 1}: both accountName and accountKey are required`);
  }
  if (account.blobEndpoint !== undefined) checkedUrl(account.accountName, account.blobEndpoint);
  return { accountName: account.accountName, accountKey: account.accountKey, blobEndpoint: account.blobEndpoint };
}

function checkedUrl(accountName: string, blobEndpoint: string): URL {
  try {
    return new URL(blobEndpoint);
  } catch {
    throw new ValidationError(`Azure account '${accountName}': blobEndpoint is not a valid URL`);
  }
}

function createBlobClient(entry: AccountEntry, endpointSuffix: string, options: PipelineOptions, credential: () => TokenCredential): BlobServiceClient {
  return guardSecrets(entry.accountName, () => {
    const { BlobServiceClient, StorageSharedKeyCredential } = blobSdk();
    if ('connectionString' in entry) return BlobServiceClient.fromConnectionString(entry.connectionString, options);
    const url = entry.blobEndpoint ?? `https://${entry.accountName}.blob.${endpointSuffix}`;
    if ('identity' in entry) return new BlobServiceClient(url, credential(), options);
    return new BlobServiceClient(url, new StorageSharedKeyCredential(entry.accountName, entry.accountKey), options);
  });
}

/** SDK constructor errors may quote the connection string; replace them with one that cannot. */
function guardSecrets<T>(accountName: string, build: () => T): T {
  try {
    return build();
  } catch {
    throw new ValidationError(`Azure credentials for storage account '${accountName}' are malformed`);
  }
}

function resolveTuning(settings: AzureStorageSettings): ResolvedAzureTuning {
  const tuning: ResolvedAzureTuning = {
    blockSizeInBytes: settings.blockSizeInBytes ?? DEFAULT_TUNING.blockSizeInBytes,
    operationTimeoutInMs: settings.operationTimeoutInMs ?? DEFAULT_TUNING.operationTimeoutInMs,
    maxTries: settings.maxTries ?? DEFAULT_TUNING.maxTries,
    retryDelayInMs: settings.retryDelayInMs ?? DEFAULT_TUNING.retryDelayInMs,
    maxRetryDelayInMs: settings.maxRetryDelayInMs ?? DEFAULT_TUNING.maxRetryDelayInMs,
    listPageSize: settings.listPageSize ?? DEFAULT_TUNING.listPageSize,
  };
  const positive = (name: keyof ResolvedAzureTuning, max = Number.MAX_SAFE_INTEGER): void => {
    const value = tuning[name];
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new ValidationError(`Azure setting ${name} must be an integer between 1 and ${max} (got ${value})`);
    }
  };
  positive('blockSizeInBytes', MAX_BLOCK_SIZE_IN_BYTES);
  positive('operationTimeoutInMs');
  positive('maxTries', 20);
  positive('retryDelayInMs');
  positive('maxRetryDelayInMs');
  positive('listPageSize', 5_000);
  return tuning;
}

// The storage SDKs are loaded when the first client is made: a run on a local warehouse (and every CLI command and
// copy thread that never reaches Azure) does not pay the tenth of a second their modules take to load.
/* eslint-disable @typescript-eslint/no-require-imports */
function blobSdk(): typeof import('@azure/storage-blob') {
  return require('@azure/storage-blob') as typeof import('@azure/storage-blob');
}

function dataLakeSdk(): typeof import('@azure/storage-file-datalake') {
  return require('@azure/storage-file-datalake') as typeof import('@azure/storage-file-datalake');
}
/* eslint-enable @typescript-eslint/no-require-imports */
