/**
 * The Kafka headers every event message carries. The outbox relay sets them from the event's row in event_store
 * (overriding any of the same name in the outbox row's own headers), so a consumer can dedupe by event id and the
 * topic inventory can check versions and positions without parsing payloads.
 */

/** Header names, in one place for the relay, the inventory and consumers. */
export const EVENT_HEADERS = {
  /** The event's id (UUIDv5, see shared/fanout/identity.ts): the same event published twice has the same id. */
  eventId: 'event-id',
  eventType: 'event-type',
  aggregateType: 'aggregate-type',
  aggregateId: 'aggregate-id',
  /** The aggregate's version after the event (1, 2, ... without gaps). */
  version: 'event-version',
  /** The source position (pg_lsn text, `X/Y`) of the change the event came from. */
  sourceLsn: 'source-lsn',
} as const;
