-- The event-sourced core the change feed fans out to: every source row and captured change becomes a domain event
-- in event_store; the transactional outbox carries each event to Kafka (a relay claims pending rows with
-- FOR UPDATE SKIP LOCKED and marks them published only after the broker acknowledged them). Indexes are separate
-- statements: PostgreSQL has no inline INDEX clause in CREATE TABLE.

-- One row per domain event. The id is deterministic (UUIDv5 of table, key and source position), so a replay
-- inserts nothing new; the version counts per aggregate from 1 without gaps.
CREATE TABLE event_store (
  id             uuid PRIMARY KEY,
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  event_type     text NOT NULL,
  version        bigint NOT NULL CHECK (version > 0),
  data           jsonb NOT NULL,
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  source_lsn     pg_lsn NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT event_store_aggregate_version UNIQUE (aggregate_type, aggregate_id, version)
);

CREATE INDEX event_store_type_created ON event_store (aggregate_type, created_at);
CREATE INDEX event_store_source_lsn ON event_store (aggregate_type, source_lsn);
CREATE INDEX event_store_correlation ON event_store ((metadata ->> 'correlationId'));

-- An aggregate's state at a version, so a reader need not fold every event from the first.
CREATE TABLE event_snapshots (
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  version        bigint NOT NULL,
  state          jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (aggregate_type, aggregate_id, version)
);

-- The transactional outbox: written in the same transaction as the event, published by the relay.
CREATE TABLE outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        uuid NOT NULL UNIQUE REFERENCES event_store (id),
  topic           text NOT NULL,
  message_key     text NOT NULL,
  payload         jsonb NOT NULL,
  headers         jsonb NOT NULL DEFAULT '{}'::jsonb,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  published_at    timestamptz
);

-- The relay's claim: pending rows due now, oldest first.
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_topic_status ON outbox (topic, status);

-- Services that consume or produce the feed (relays, sink workers): when each was last seen and where it stands.
CREATE TABLE service_tracking (
  service      text NOT NULL,
  instance     text NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  status       text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (service, instance)
);

-- Where each consumer of the feed stands: a sink's position (it holds every change up to `lsn`), or a historical
-- load's progress through a table (`rows` read of the snapshot named in `detail`), so a rerun resumes.
CREATE TABLE migration_checkpoints (
  consumer   text NOT NULL,
  subject    text NOT NULL,
  lsn        pg_lsn,
  last_key   text,
  rows       bigint NOT NULL DEFAULT 0,
  status     text NOT NULL DEFAULT 'running',
  detail     jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, subject)
);
