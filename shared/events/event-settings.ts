/**
 * Event store settings from the environment: how often an aggregate's state is snapshotted and what its outbox
 * topics are named. Both have defaults; a bad value is a ValidationError naming the setting.
 */
import { ValidationError } from '../errors';

/** Event store settings by environment variable. */
export const EVENT_SETTING_NAMES = {
  snapshotInterval: 'ICEBRIDGE_EVENTS_SNAPSHOT_INTERVAL',
  topicPrefix: 'ICEBRIDGE_EVENTS_TOPIC_PREFIX',
} as const;

/** How the event store writes. */
export interface EventSettings {
  /** A snapshot of an aggregate's state is written at every multiple of this version (default 100). */
  snapshotInterval: number;
  /** Outbox topics are `<topicPrefix><Entity>` (default `icebridge.`). */
  topicPrefix: string;
}

/** The defaults. */
export const DEFAULT_EVENT_SETTINGS: Readonly<EventSettings> = Object.freeze({ snapshotInterval: 100, topicPrefix: 'icebridge.' });

/** Characters Kafka allows in a topic name. */
export const TOPIC_CHARACTERS = /^[A-Za-z0-9._-]*$/;
/** Longest topic name Kafka accepts. */
export const MAX_TOPIC_LENGTH = 249;

/** Reads the event store settings; unset ones take their defaults. */
export function eventSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): EventSettings {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const intervalText = get(EVENT_SETTING_NAMES.snapshotInterval);
  const snapshotInterval = intervalText === undefined ? DEFAULT_EVENT_SETTINGS.snapshotInterval : Number(intervalText);
  if (!Number.isSafeInteger(snapshotInterval) || snapshotInterval < 1 || snapshotInterval > 1_000_000) {
    throw new ValidationError(`${EVENT_SETTING_NAMES.snapshotInterval} must be a whole number from 1 to 1000000`);
  }
  const topicPrefix = get(EVENT_SETTING_NAMES.topicPrefix) ?? DEFAULT_EVENT_SETTINGS.topicPrefix;
  if (!TOPIC_CHARACTERS.test(topicPrefix) || topicPrefix.length > 200) {
    throw new ValidationError(`${EVENT_SETTING_NAMES.topicPrefix} may hold only letters, digits, '.', '_' and '-' (Kafka's topic characters), at most 200`);
  }
  return { snapshotInterval, topicPrefix };
}
