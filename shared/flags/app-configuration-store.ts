/**
 * Flags in Azure App Configuration, through `@azure/app-configuration`: feature-flag keys and content type, the
 * per-table override under a label, conditional writes with `If-Match` (`onlyIfUnchanged`) or `If-None-Match: *`
 * (add), and an optional sentinel key whose etag says whether anything changed. The store is reached with a
 * connection string, which holds a secret and is never put into a message, or with its endpoint and the app's
 * Microsoft Entra identity.
 */
import type { AppConfigurationClient, ConfigurationSetting } from '@azure/app-configuration';
import { ValidationError, errorMessage } from '../errors';
import { type TokenCredential, defaultAzureCredential } from '../iceberg/io/azure-credential';
import { FEATURE_FLAG_CONTENT_TYPE, FEATURE_FLAG_PREFIX, type FeatureFlag, flagKey, flagNameOfKey, parseFeatureFlag } from './feature-flag';
import { FlagConflictError, type FlagStore, type StoredFlag, type WriteCondition, flagDisplayName } from './flag-store';

/** Options of the App Configuration store: a connection string, or an endpoint and the app's identity. */
export type AppConfigurationStoreOptions = (
  | {
      /** `Endpoint=https://…;Id=…;Secret=…` (kept out of every message). */
      connectionString: string;
    }
  | {
      /** `https://<store>.azconfig.io`: requests carry a Microsoft Entra token (App Configuration Data Owner). */
      endpoint: string;
      /** The identity; defaults to the process's DefaultAzureCredential. */
      credential?: TokenCredential;
    }
) & {
  /** A key operators touch after changing flags elsewhere (the App Configuration refresh convention). */
  sentinelKey?: string;
};

/** The App Configuration-backed store. */
export class AppConfigurationFlagStore implements FlagStore {
  readonly description: string;
  private readonly client: AppConfigurationClient;

  constructor(private readonly options: AppConfigurationStoreOptions) {
    const endpoint = 'connectionString' in options ? /(?:^|;)Endpoint=([^;]+)/i.exec(options.connectionString)?.[1] : options.endpoint;
    if (endpoint === undefined) throw new ValidationError('the App Configuration connection string has no Endpoint=…');
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ValidationError('the App Configuration endpoint is not a valid URL');
    }
    this.description = `App Configuration ${url.host}`;
    const clientOptions = { retryOptions: { maxRetries: 3 } };
    // The SDK is loaded here, on first use: a run with the local flag file never loads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AppConfigurationClient } = require('@azure/app-configuration') as typeof import('@azure/app-configuration');
    if ('connectionString' in options) {
      // Plain http only to this machine (a local stand-in); anything remote must be https.
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new ValidationError(`${this.description}: the endpoint must be https`);
      this.client = new AppConfigurationClient(options.connectionString, { ...clientOptions, allowInsecureConnection: url.protocol === 'http:' });
    } else {
      // A bearer token is never sent in the clear, not even to this machine.
      if (url.protocol !== 'https:') throw new ValidationError(`${this.description}: the endpoint must be https to carry the app's identity`);
      this.client = new AppConfigurationClient(url.origin, options.credential ?? defaultAzureCredential(), clientOptions);
    }
  }

  async list(): Promise<StoredFlag[]> {
    const flags: StoredFlag[] = [];
    try {
      for await (const setting of this.client.listConfigurationSettings({ keyFilter: `${FEATURE_FLAG_PREFIX}*` })) {
        flags.push(this.toStored(setting));
      }
    } catch (error) {
      throw this.failure('list flags', error);
    }
    return flags;
  }

  async get(name: string, label?: string): Promise<StoredFlag | undefined> {
    try {
      return this.toStored(await this.client.getConfigurationSetting({ key: flagKey(name), ...(label === undefined ? {} : { label }) }));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.failure(`read flag ${flagDisplayName(name, label)}`, error);
    }
  }

  async put(flag: FeatureFlag, label: string | undefined, condition: WriteCondition): Promise<StoredFlag> {
    parseFeatureFlag(flag.id, flag);
    const setting = { key: flagKey(flag.id), ...(label === undefined ? {} : { label }), value: JSON.stringify(flag), contentType: FEATURE_FLAG_CONTENT_TYPE };
    let written: ConfigurationSetting;
    try {
      written =
        condition === 'absent'
          ? await this.client.addConfigurationSetting(setting)
          : await this.client.setConfigurationSetting({ ...setting, etag: condition.etag }, { onlyIfUnchanged: true });
    } catch (error) {
      const status = statusOf(error);
      // add answers 412 when the key exists; set answers 412 when the etag moved on.
      if (status === 412) {
        throw new FlagConflictError(
          `flag ${flagDisplayName(flag.id, label)} changed since it was read (${condition === 'absent' ? 'it exists now' : `etag ${condition.etag} is stale`}): read it again and retry`,
        );
      }
      throw this.failure(`write flag ${flagDisplayName(flag.id, label)}`, error);
    }
    return this.toStored(written);
  }

  async version(): Promise<string | undefined> {
    if (this.options.sentinelKey === undefined) return undefined;
    try {
      return (await this.client.getConfigurationSetting({ key: this.options.sentinelKey })).etag;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.failure('read the sentinel key', error);
    }
  }

  private toStored(setting: ConfigurationSetting): StoredFlag {
    const name = flagNameOfKey(setting.key);
    if (name === undefined) throw new ValidationError(`${this.description}: key ${setting.key} is not a feature flag's`);
    let value: unknown;
    try {
      value = JSON.parse(setting.value ?? '');
    } catch (error) {
      throw new ValidationError(`${this.description}: flag ${name} holds a value that is not JSON: ${errorMessage(error)}`);
    }
    return {
      name,
      label: setting.label ?? undefined,
      flag: parseFeatureFlag(name, value),
      etag: setting.etag ?? '',
      lastModified: (setting.lastModified ?? new Date(0)).toISOString(),
    };
  }

  /** An error for a failed call that names the store and the status, never the connection string. */
  private failure(what: string, error: unknown): Error {
    const status = statusOf(error);
    return new ValidationError(`could not ${what} in ${this.description}${status === undefined ? '' : ` (HTTP ${status})`}: ${redact(errorMessage(error))}`, {
      cause: error,
    });
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The SDK's messages can quote request headers; a signature or secret never leaves this module. */
function redact(message: string): string {
  return message.replace(/(Secret=|Signature=|Credential=)[^;&\s"]+/gi, '$1<redacted>');
}
