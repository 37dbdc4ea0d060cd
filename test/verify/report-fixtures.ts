/**
 * Hand-made verification results for the report tests: one table of each outcome, together showing every kind of
 * difference, plus a table whose name is an HTML injection attempt.
 */
import { boundedHex, boundedText } from '../../shared/text/bounded-text';
import type { TableVerification, VerificationReport } from '../../shared/verify/contracts';

/** A table name that would run script if it reached the page unescaped. */
export const HOSTILE_NAME = '<script>alert(1)</script>';

/** A table that verified exact, with aggregates and samples. */
export const OK_TABLE: TableVerification = {
  table: 'customers',
  target: 'public.customers',
  level: 'full',
  status: 'ok',
  schema: [],
  counts: { source: '1200000', targetManifest: '1200000', targetRead: '1200000', ok: true },
  aggregates: [
    { column: 'id', aggregate: 'count', source: '1200000', target: '1200000', ok: true },
    { column: 'id', aggregate: 'min', source: '1', target: '1', ok: true },
    { column: 'country', aggregate: 'group:NL', source: '4100', target: '4100', ok: true },
  ],
  rows: { compared: '1200000', differing: '0', differences: [] },
  samples: [{ key: { id: '17' }, source: { id: '17', name: 'Ada', note: null }, target: { id: '17', name: 'Ada', note: null } }],
  durationMs: 5321,
};

/** Differing rows of every row kind, a count mismatch and an aggregate mismatch. */
export const ROWS_TABLE: TableVerification = {
  table: 'orders',
  target: 'public.orders',
  level: 'full',
  status: 'differs',
  schema: [],
  counts: { source: '5000', targetManifest: '4999', targetRead: '4999', ok: false },
  aggregates: [
    { column: 'amount', aggregate: 'sum', source: '123456.78', target: '123456.77', ok: false },
    { column: 'amount', aggregate: 'nulls', source: '0', target: '0', ok: true },
  ],
  rows: {
    compared: '5000',
    differing: '3',
    rangesNotExamined: '2',
    differences: [
      {
        key: { id: '42' },
        kind: 'VALUE_MISMATCH',
        columns: [
          { column: 'ordered_at', source: '2024-03-01 10:00:00.000001', target: '2024-03-01 10:00:00.000002' },
          { column: 'note', source: null, target: 'NULL' },
        ],
      },
      { key: { id: '43' }, kind: 'MISSING_IN_TARGET', columns: [{ column: 'amount', source: '10.00', target: null }] },
      { key: { id: '9001' }, kind: 'EXTRA_IN_TARGET', columns: [{ column: 'amount', source: null, target: '0.01' }] },
    ],
  },
  samples: [{ key: { id: '42' }, source: { id: '42', amount: '1.00' }, target: { id: '42', amount: '1.01' } }],
  durationMs: 812,
};

/** Schema drift of every schema kind, with the SQL to fix it. */
export const SCHEMA_TABLE: TableVerification = {
  table: 'payments',
  target: 'public.payments',
  level: 'full',
  status: 'differs',
  schema: [
    {
      kind: 'TYPE_MISMATCH',
      field: 'amount',
      expected: { type: 'decimal(12,2)', required: true },
      actual: { type: 'double', required: true },
      fixSql: 'ALTER TABLE "public"."payments" ALTER COLUMN "amount" TYPE double precision;',
    },
    {
      kind: 'MISSING_FIELD',
      field: 'currency',
      expected: { type: 'string', required: false },
      fixSql: 'ALTER TABLE "public"."payments" DROP COLUMN "currency";',
    },
    {
      kind: 'EXTRA_FIELD',
      field: 'legacy_ref',
      actual: { type: 'long', required: false },
      fixSql: 'ALTER TABLE "public"."payments" ADD COLUMN "legacy_ref" bigint;',
    },
    { kind: 'NULLABILITY_MISMATCH', field: 'paid_at', expected: { type: 'timestamptz', required: false }, actual: { type: 'timestamptz', required: true } },
  ],
  counts: { source: '300', targetManifest: '300', ok: true },
  aggregates: [{ column: 'amount', aggregate: 'max', source: '99.99', target: '99.99', ok: true }],
  rows: { compared: '300', differing: '0', differences: [] },
  samples: [],
  durationMs: 95,
};

/** A table that could not be verified. */
export const ERROR_TABLE: TableVerification = {
  table: 'audit_log',
  target: 'public.audit_log',
  level: 'full',
  status: 'error',
  error: 'data file data/00001.parquet could not be read: unexpected end of file',
  schema: [],
  aggregates: [],
  samples: [],
  durationMs: 12,
};

/** A clean table whose name and values try to inject markup. */
export const HOSTILE_TABLE: TableVerification = {
  table: HOSTILE_NAME,
  target: `public."${HOSTILE_NAME}"`,
  level: 'full',
  status: 'ok',
  schema: [],
  counts: { source: '1', targetManifest: '1', ok: true },
  aggregates: [{ column: '<img src=x onerror=alert(2)>', aggregate: 'group:<b>bold</b>', source: '1', target: '1', ok: true }],
  rows: { compared: '1', differing: '0', differences: [] },
  samples: [
    { key: { '"k"': "'); alert(3); ('" }, source: { v: '</code></td><script>alert(4)</script>' }, target: { v: '</code></td><script>alert(4)</script>' } },
  ],
  durationMs: 3,
};

/** A full-level run with every outcome and every kind of difference. */
export function sampleReport(): VerificationReport {
  return {
    level: 'full',
    source: 'postgres://app@db.internal:5432/shop',
    warehouse: 'abfss://lake@acct.dfs.core.windows.net/warehouse',
    startedAt: '2025-05-01T09:30:00.000Z',
    tables: structuredClone([OK_TABLE, ROWS_TABLE, SCHEMA_TABLE, ERROR_TABLE, HOSTILE_TABLE]),
    ok: false,
  };
}

/** Two long texts with one first 256 characters, as a verification carries them (bounded). */
export const LONG_SOURCE = boundedText(`${'lorem ipsum '.repeat(100)}end`);
export const LONG_TARGET = boundedText(`${'lorem ipsum '.repeat(100)}END`);

/** A table whose differing value, max and sample are long, hence bounded. */
export const LONG_VALUE_TABLE: TableVerification = {
  table: 'documents',
  target: 'public.documents',
  level: 'full',
  status: 'differs',
  schema: [],
  counts: { source: '2', targetManifest: '2', targetRead: '2', ok: true },
  aggregates: [{ column: 'body', aggregate: 'max', source: LONG_SOURCE, target: LONG_TARGET, ok: false }],
  rows: {
    compared: '2',
    differing: '1',
    differences: [{ key: { id: '7' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'body', source: LONG_SOURCE, target: LONG_TARGET }] }],
  },
  samples: [
    {
      key: { id: '7' },
      source: { id: '7', body: LONG_SOURCE, blob: boundedHex(new Uint8Array(1_000)) },
      target: { id: '7', body: LONG_TARGET, blob: boundedHex(new Uint8Array(1_000)) },
    },
  ],
  columns: [
    { name: 'id', type: 'int' },
    { name: 'body', type: 'string' },
    { name: 'blob', type: 'binary' },
  ],
  durationMs: 40,
};

/** A run of the one table with long values. */
export function longValueReport(): VerificationReport {
  return {
    level: 'full',
    source: 'postgres://app@db:5432/shop',
    warehouse: '/data/warehouse',
    startedAt: '2026-11-30T10:00:00.000Z',
    tables: [LONG_VALUE_TABLE],
    ok: false,
  };
}
