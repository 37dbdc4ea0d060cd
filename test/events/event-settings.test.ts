/** The event store's settings: defaults when unset, a bad value refused naming the setting. */
import { describe, expect, it } from 'vitest';
import { EVENT_SETTING_NAMES, eventSettingsFromEnv } from '../../shared/events/event-settings';

describe('event store settings', () => {
  it('default to a snapshot every 100 versions and icebridge.<Entity> topics', () => {
    expect(eventSettingsFromEnv({})).toEqual({ snapshotInterval: 100, topicPrefix: 'icebridge.' });
  });

  it('read both from the environment', () => {
    expect(eventSettingsFromEnv({ [EVENT_SETTING_NAMES.snapshotInterval]: ' 25 ', [EVENT_SETTING_NAMES.topicPrefix]: 'prod.cdc-' })).toEqual({
      snapshotInterval: 25,
      topicPrefix: 'prod.cdc-',
    });
  });

  it.each(['0', '-3', '2.5', 'ten', '1000001'])('refuse the snapshot interval %j, naming the setting', (value) => {
    expect(() => eventSettingsFromEnv({ [EVENT_SETTING_NAMES.snapshotInterval]: value })).toThrow(/^ICEBRIDGE_EVENTS_SNAPSHOT_INTERVAL must be/);
  });

  it.each(['topics/', 'a b', 'ünïcode.', 'x'.repeat(201)])('refuse a prefix Kafka cannot name a topic with: %j', (value) => {
    expect(() => eventSettingsFromEnv({ [EVENT_SETTING_NAMES.topicPrefix]: value })).toThrow(/^ICEBRIDGE_EVENTS_TOPIC_PREFIX may hold only/);
  });
});
