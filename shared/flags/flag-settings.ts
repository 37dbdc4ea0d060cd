/**
 * Which flag store and audit trail a process uses, from its settings: Azure App Configuration when a connection
 * string or an endpoint (reached with the app's identity) is set, else the local flags file (the default,
 * `.icebridge/flags.json`). The audit trail goes next to the local file, or under the warehouse's
 * `.icebridge/audit/flags/` when flags live in App Configuration.
 */
import * as path from 'node:path';
import { ValidationError } from '../errors';
import { type FileIOSettings, createFileIO } from '../iceberg/io';
import { AppConfigurationFlagStore } from './app-configuration-store';
import { FlagAuditTrail } from './audit-trail';
import type { FlagStore } from './flag-store';
import { LocalFlagStore } from './local-flag-store';

/** The settings of flags, by environment variable. */
export const FLAG_SETTING_NAMES = {
  appConfigurationConnectionString: 'ICEBRIDGE_APPCONFIG_CONNECTION_STRING',
  /** The store's endpoint, reached with the app's identity when no connection string is set. */
  appConfigurationEndpoint: 'ICEBRIDGE_APPCONFIG_ENDPOINT',
  sentinelKey: 'ICEBRIDGE_FLAGS_SENTINEL_KEY',
  flagsFile: 'ICEBRIDGE_FLAGS_FILE',
  auditLocation: 'ICEBRIDGE_FLAGS_AUDIT',
  refreshSeconds: 'ICEBRIDGE_FLAGS_REFRESH_SECONDS',
} as const;

/** The default local flags file, relative to the working directory. */
export const DEFAULT_FLAGS_FILE = '.icebridge/flags.json';

/** A process's flags: where they are, where their changes are recorded, and how often they are re-read. */
export interface FlagSetup {
  store: FlagStore;
  audit: FlagAuditTrail;
  refreshIntervalMs: number;
}

/** The flag setup of `env`; `warehouse` and `storage` place the audit trail when flags are in App Configuration. */
export function flagSetupFromEnv(env: NodeJS.ProcessEnv, warehouse?: string, storage: FileIOSettings = {}): FlagSetup {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const connectionString = get(FLAG_SETTING_NAMES.appConfigurationConnectionString);
  const endpoint = get(FLAG_SETTING_NAMES.appConfigurationEndpoint);
  const sentinelKey = get(FLAG_SETTING_NAMES.sentinelKey);
  const refresh = get(FLAG_SETTING_NAMES.refreshSeconds);
  const refreshSeconds = refresh === undefined ? 30 : Number(refresh);
  if (!Number.isFinite(refreshSeconds) || refreshSeconds < 0) {
    throw new ValidationError(`${FLAG_SETTING_NAMES.refreshSeconds} must be a number of seconds, found ${JSON.stringify(refresh)}`);
  }
  let store: FlagStore;
  let auditRoot = get(FLAG_SETTING_NAMES.auditLocation);
  const access = connectionString !== undefined ? { connectionString } : endpoint !== undefined ? { endpoint } : undefined;
  if (access !== undefined) {
    store = new AppConfigurationFlagStore({ ...access, ...(sentinelKey === undefined ? {} : { sentinelKey }) });
    if (auditRoot === undefined) {
      if (warehouse === undefined) {
        throw new ValidationError(`flags in App Configuration need ${FLAG_SETTING_NAMES.auditLocation} or a warehouse for their audit trail`);
      }
      auditRoot = `${warehouse.replace(/\/+$/, '')}/.icebridge/audit/flags`;
    }
  } else {
    const file = path.resolve(get(FLAG_SETTING_NAMES.flagsFile) ?? DEFAULT_FLAGS_FILE);
    store = new LocalFlagStore(file);
    auditRoot ??= path.join(path.dirname(file), 'audit', 'flags');
  }
  return { store, audit: new FlagAuditTrail(createFileIO(auditRoot, storage), auditRoot), refreshIntervalMs: refreshSeconds * 1000 };
}
