-- The icebridge state schema: where migrations stand, per-table checkpoints, and the transaction log of every
-- action. The runner sets search_path to the configured schema, so names here are unqualified; it runs this file
-- in one transaction and records it in schema_migrations.

-- One row per migration run (the run id is the orchestration's instance id).
CREATE TABLE migration_runs (
  run_id      text PRIMARY KEY,
  status      text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Where each table of a run stands: copied rows, and the replication position it holds everything up to.
CREATE TABLE table_checkpoints (
  run_id      text NOT NULL,
  table_name  text NOT NULL,
  status      text NOT NULL,
  rows        bigint,
  lsn         pg_lsn,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, table_name)
);

CREATE INDEX table_checkpoints_table_updated ON table_checkpoints (table_name, updated_at DESC);

-- Every action that changes what icebridge or its users see: migration start and end, flag flips, rollbacks,
-- restores, drift found, scheduled job results. Rows are appended, never updated. `kind` is free text (the
-- product validates it) so later kinds need no migration.
CREATE TABLE transaction_log (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  kind           text NOT NULL,
  actor          text NOT NULL,
  reason         text,
  subject        text,
  before         jsonb,
  after          jsonb,
  correlation_id text
);

-- The dashboard's history queries: newest first, overall, by kind, by subject (a table or a flag), by correlation.
CREATE INDEX transaction_log_at ON transaction_log (at DESC, id DESC);
CREATE INDEX transaction_log_kind_at ON transaction_log (kind, at DESC, id DESC);
CREATE INDEX transaction_log_subject_at ON transaction_log (subject, at DESC, id DESC) WHERE subject IS NOT NULL;
CREATE INDEX transaction_log_correlation ON transaction_log (correlation_id) WHERE correlation_id IS NOT NULL;
