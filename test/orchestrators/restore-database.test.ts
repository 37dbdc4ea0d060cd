/**
 * The real restoreDatabase orchestrator on the local host, with scripted activities: tables are restored one by one
 * in the planned order, each with its own target, and the first table that is refused or differs stops the run,
 * naming it and the tables not attempted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import type { RestoreDatabaseInput, RestoreOutcome, RestoreProgress } from '../../shared/restore/restore-run';

type Stubs = typeof import('./fixtures/stub-restore-activities.js');

let host: LocalHost;
let stubs: Stubs;

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/restore-database.js');
      await import('./fixtures/stub-restore-activities.js');
    },
    { log: silentHostLog },
  );
  stubs = await import('./fixtures/stub-restore-activities.js');
});

afterAll(async () => {
  await host?.close();
});

const input = (restoreId: string): RestoreDatabaseInput => ({
  restoreId,
  schema: 'public',
  namespace: 'public',
  asOf: { timestampMs: 1_000 },
  mode: { intoSuffix: '_old' },
});

async function run(id: string): Promise<{ outcome: RestoreOutcome; progress: RestoreProgress }> {
  await host.startOrchestration('restoreDatabase', input(id), id);
  const status = await host.waitForCompletion(id, { timeoutInMs: 30_000 });
  expect(status.runtimeStatus, JSON.stringify(status.output)).toBe('Completed');
  return { outcome: status.output as RestoreOutcome, progress: status.customStatus as RestoreProgress };
}

describe('restoreDatabase', () => {
  it('restores every table in the planned order, each into its own target', async () => {
    stubs.plan.order = ['language', 'film', 'film_actor'];
    stubs.scripts.clear();
    stubs.calls.length = 0;
    const { outcome, progress } = await run('restore-all');
    expect(stubs.calls.map((c) => [c.table, c.mode])).toEqual([
      ['language', { into: 'language_old' }],
      ['film', { into: 'film_old' }],
      ['film_actor', { into: 'film_actor_old' }],
    ]);
    expect(outcome).toMatchObject({ order: ['language', 'film', 'film_actor'], notAttempted: [], ok: true });
    expect(outcome.restored).toHaveLength(3);
    expect(progress).toEqual({ phase: 'done', tables: { total: 3, done: 3 } });
  });

  it('stops at a table that differs, naming the tables not attempted', async () => {
    stubs.plan.order = ['language', 'film', 'film_actor'];
    stubs.scripts.clear();
    stubs.scripts.set('film', { rows: 10, exact: false });
    stubs.calls.length = 0;
    const { outcome, progress } = await run('restore-differs');
    expect(stubs.calls.map((c) => c.table)).toEqual(['language', 'film']);
    expect(outcome.ok).toBe(false);
    expect(outcome.failed).toEqual({ table: 'film', reason: 'the restored table differs from snapshot 42 (verification differs)' });
    expect(outcome.notAttempted).toEqual(['film_actor']);
    expect(outcome.restored.map((r) => r.ok)).toEqual([true, false]);
    expect(progress.lastError).toContain('film: the restored table differs');
  });

  it('stops at a table that is refused, with the reason', async () => {
    stubs.plan.order = ['a', 'b'];
    stubs.scripts.clear();
    stubs.scripts.set('a', { refused: 'cannot restore public.a exactly: n was int in the snapshot' });
    stubs.calls.length = 0;
    const { outcome } = await run('restore-refused');
    expect(outcome).toMatchObject({
      ok: false,
      failed: { table: 'a', reason: 'cannot restore public.a exactly: n was int in the snapshot' },
      notAttempted: ['b'],
    });
    expect(outcome.restored).toEqual([]);
  });
});
