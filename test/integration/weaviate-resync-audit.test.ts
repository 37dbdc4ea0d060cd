/**
 * A Weaviate resync is recorded in the transaction log of a real state database (embedded PostgreSQL); a dry run
 * records nothing. Weaviate is the STAND-IN of test/support/weaviate-standin.ts (no Weaviate server can be
 * installed here).
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FanoutChange } from '../../shared/fanout/fanout-types';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import type { StateDatabaseSettings } from '../../shared/state-db/state-settings';
import { listActions } from '../../shared/state-db/transaction-log';
import { LocalHashEmbedder } from '../../shared/weaviate/embedders';
import { resyncClass } from '../../shared/weaviate/resync';
import { WeaviateConnection } from '../../shared/weaviate/weaviate-client';
import { WeaviateSink } from '../../shared/weaviate/weaviate-sink';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';
import { ACCOUNT, upsert } from '../weaviate/weaviate-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let standin: WeaviateStandin;
let database: StateDatabaseSettings;

beforeAll(async () => {
  pg = await startPostgres();
  standin = await startWeaviateStandin();
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try {
    await migrateStateDatabase(client, { schema: 'audit' });
  } finally {
    await client.end();
  }
  database = { url: pg.url, schema: 'audit', migrateOnStart: false };
}, 180_000);
afterAll(async () => {
  await standin?.close();
  await pg?.stop();
});

async function* rows(ids: bigint[]): AsyncGenerator<FanoutChange> {
  for (const id of ids) yield { ...upsert(ACCOUNT, [id, `account ${id}`], 7n), op: 'insert', origin: 'load' };
}

describe('the Weaviate resync in the transaction log', () => {
  it('records a real run with actor, reason and counts, and nothing for a dry run', async () => {
    const connection = new WeaviateConnection({ url: standin.url });
    const sink = new WeaviateSink({ connection, embedder: new LocalHashEmbedder() });
    await sink.prepare([ACCOUNT]);
    await sink.apply({ through: 5n, changes: [upsert(ACCOUNT, [1n, 'a'], 5n), upsert(ACCOUNT, [5n, 'gone'], 5n, 1)] });
    const warnings: string[] = [];
    const log = { database, warn: (m: string) => warnings.push(m) };
    await resyncClass({ sink, connection, table: ACCOUNT, rows: rows([1n, 2n]), dryRun: true, actor: 'ops@example.com', log });
    expect(await listActions({ kind: 'weaviate.resync' }, database)).toEqual([]);
    await resyncClass({
      sink,
      connection,
      table: ACCOUNT,
      rows: rows([1n, 2n]),
      actor: 'ops@example.com',
      reason: 'restore after a bad load',
      correlationId: 'snapshot:42',
      log,
    });
    expect(warnings).toEqual([]);
    const recorded = await listActions({ kind: 'weaviate.resync' }, database);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      kind: 'weaviate.resync',
      actor: 'ops@example.com',
      reason: 'restore after a bad load',
      subject: 'Account (sales.account)',
      before: { objects: 2 },
      after: { created: 1, replaced: 1, deleted: 1 },
      correlationId: 'snapshot:42',
    });
  });
});
