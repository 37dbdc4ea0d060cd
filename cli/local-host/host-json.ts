/** Reads the settings of an app's host.json that the local host honours. */
import { readFile } from 'node:fs/promises';

/** What host.json configures for the local host; absent settings stay undefined. */
export interface HostJsonSettings {
  /** `functionTimeout`; `false` for "-1" (no timeout). */
  functionTimeoutInMs?: number | false;
  /** `extensions.durableTask.maxConcurrentActivityFunctions`. */
  maxConcurrentActivities?: number;
  /** `extensions.durableTask.maxConcurrentOrchestratorFunctions`. */
  maxConcurrentOrchestrations?: number;
  /** `extensions.durableTask.maxOrchestrationActions`. */
  maxOrchestrationActions?: number;
  /** `extensions.http.routePrefix`. */
  routePrefix?: string;
}

/** Parses a .NET TimeSpan text (`hh:mm:ss`, `d.hh:mm:ss`, fractional seconds) into milliseconds; "-1" is false. */
export function parseTimeSpan(text: string): number | false {
  if (text.trim() === '-1') return false;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new Error(`host.json: functionTimeout ${JSON.stringify(text)} is not a time span like 00:10:00`);
  const [, days, hours, minutes, seconds] = match;
  return Math.round(((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000);
}

function positiveInt(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new Error(`host.json: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function section(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Reads `file` (a host.json); unknown settings are ignored, malformed known ones are an error naming them. */
export async function readHostJson(file: string): Promise<HostJsonSettings> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read host.json ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const root = section(parsed);
  const extensions = section(root.extensions);
  const durable = section(extensions.durableTask);
  const http = section(extensions.http);
  const settings: HostJsonSettings = {
    maxConcurrentActivities: positiveInt(durable.maxConcurrentActivityFunctions, 'extensions.durableTask.maxConcurrentActivityFunctions'),
    maxConcurrentOrchestrations: positiveInt(durable.maxConcurrentOrchestratorFunctions, 'extensions.durableTask.maxConcurrentOrchestratorFunctions'),
    maxOrchestrationActions: positiveInt(durable.maxOrchestrationActions, 'extensions.durableTask.maxOrchestrationActions'),
  };
  if (typeof root.functionTimeout === 'string') settings.functionTimeoutInMs = parseTimeSpan(root.functionTimeout);
  if (typeof http.routePrefix === 'string') settings.routePrefix = http.routePrefix;
  return settings;
}
