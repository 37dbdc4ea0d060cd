/**
 * Which telemetry exporter the app starts with. Read from the environment like every other setting; the SDK set-up
 * itself lives outside shared/ (functions/telemetry-setup.ts), since shared/ only speaks the OpenTelemetry API.
 */
import { ValidationError } from '../errors';

/** Where telemetry goes: Application Insights, an OTLP/HTTP collector, or nowhere (the API's no-op, no cost). */
export type TelemetryMode = 'azure-monitor' | 'otlp' | 'none';

/** The telemetry settings. The connection string is kept here and never logged or echoed. */
export interface TelemetrySettings {
  mode: TelemetryMode;
  /** Application Insights connection string (azure-monitor). */
  connectionString?: string;
  /** OTLP/HTTP base URL, e.g. http://collector:4318 (otlp); the exporters' standard variables apply when absent. */
  otlpEndpoint?: string;
}

/** Environment variable names of the telemetry settings. */
export const TELEMETRY_SETTING_NAMES = {
  mode: 'ICEBRIDGE_TELEMETRY',
  connectionString: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
  otlpEndpoint: 'ICEBRIDGE_OTLP_ENDPOINT',
} as const;

const MODES: readonly TelemetryMode[] = ['azure-monitor', 'otlp', 'none'];

/**
 * Reads the telemetry settings: `ICEBRIDGE_TELEMETRY` when set, else `azure-monitor` when a connection string is
 * set, else `none`. Throws ValidationError naming the setting (never its value) when one is wrong.
 */
export function loadTelemetrySettings(env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const connectionString = get(TELEMETRY_SETTING_NAMES.connectionString);
  const otlpEndpoint = get(TELEMETRY_SETTING_NAMES.otlpEndpoint);
  const chosen = get(TELEMETRY_SETTING_NAMES.mode);
  if (chosen !== undefined && !(MODES as readonly string[]).includes(chosen)) {
    throw new ValidationError(`${TELEMETRY_SETTING_NAMES.mode} must be one of ${MODES.join(', ')}`);
  }
  const mode = (chosen as TelemetryMode | undefined) ?? (connectionString !== undefined ? 'azure-monitor' : 'none');
  if (mode === 'azure-monitor' && connectionString === undefined) {
    throw new ValidationError(`${TELEMETRY_SETTING_NAMES.mode}=azure-monitor needs ${TELEMETRY_SETTING_NAMES.connectionString}`);
  }
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(otlpEndpoint)) {
    throw new ValidationError(`${TELEMETRY_SETTING_NAMES.otlpEndpoint} must be an http:// or https:// URL`);
  }
  if (mode === 'azure-monitor') return { mode, connectionString: connectionString! };
  if (mode === 'otlp') return otlpEndpoint === undefined ? { mode } : { mode, otlpEndpoint };
  return { mode };
}
