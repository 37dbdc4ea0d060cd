/**
 * Settings that size the work of one instance to its resources: how many activities the Functions host runs at
 * once, how much memory the instance has, and how many PostgreSQL connections it may hold. Read from the
 * environment like the app's other settings; a wrong value is a ValidationError naming the setting.
 */
import { totalmem } from 'node:os';
import { ValidationError } from '../errors';

/** Resource settings of one instance. */
export interface ResourceSettings {
  /** Activities the host runs at once (host.json `maxConcurrentActivityFunctions`). */
  activitySlots: number;
  /** Memory of the instance in MB (Flex Consumption: 2048 or 4096). */
  instanceMemoryMb: number;
  /** PostgreSQL connections this instance holds at most, across all its threads. */
  sourceConnections: number;
}

/** Environment variable names of the resource settings. */
export const RESOURCE_SETTING_NAMES = {
  activitySlots: 'ICEBRIDGE_ACTIVITY_SLOTS',
  instanceMemoryMb: 'ICEBRIDGE_INSTANCE_MEMORY_MB',
  sourceConnections: 'ICEBRIDGE_SOURCE_CONNECTIONS',
} as const;

/** host.json's `maxConcurrentActivityFunctions`; keep in step with it. */
export const DEFAULT_ACTIVITY_SLOTS = 4;
/** On Azure: the smaller Flex Consumption instance (the machine's own figure there is the host's, not the instance's). */
export const DEFAULT_INSTANCE_MEMORY_MB = 2048;

/**
 * Reads the resource settings. The instance's memory defaults to 2048 MB on Azure and to the machine's memory
 * elsewhere. Source connections default to the activity slots plus two: every activity holds
 * at most one connection at a time, and the planner or a status read may need one beside them.
 */
export function loadResourceSettings(env: NodeJS.ProcessEnv = process.env, machineMemoryMb = Math.floor(totalmem() / (1024 * 1024))): ResourceSettings {
  const activitySlots = wholeNumber(env, RESOURCE_SETTING_NAMES.activitySlots, 1, 256) ?? DEFAULT_ACTIVITY_SLOTS;
  // Off Azure (the CLI, serve, func start) the instance is this machine; a tight heap there only costs time.
  const defaultMemoryMb = env.WEBSITE_INSTANCE_ID ? DEFAULT_INSTANCE_MEMORY_MB : Math.max(DEFAULT_INSTANCE_MEMORY_MB, machineMemoryMb);
  const instanceMemoryMb = wholeNumber(env, RESOURCE_SETTING_NAMES.instanceMemoryMb, 512, 1 << 20) ?? defaultMemoryMb;
  const sourceConnections = wholeNumber(env, RESOURCE_SETTING_NAMES.sourceConnections, 1, 1000) ?? activitySlots + 2;
  return { activitySlots, instanceMemoryMb, sourceConnections };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be a whole number ${min}..${max}`);
  }
  return value;
}
