import { describe, expect, it } from 'vitest';
import { type RetryRefusal, type RetryStart, planTableRetry, retryRunId, retryState } from '../../shared/dashboard/table-retry';
import type { MigrateDatabaseInput, TableOutcome } from '../../shared/migrate/contracts';
import type { InstanceSnapshot } from '../../shared/run/instance-status';
import { IDEMPOTENCY_KEY_PATTERN } from '../../shared/run/request-fields';

const input: MigrateDatabaseInput = {
  runId: 'run-1',
  sourceSchema: 'shop',
  namespace: 'lake',
  concurrency: 4,
  tableConfig: { ledger: { targetName: 'ledger_v2' }, orders: { key: ['id'] } },
  partitionSizeInBytes: 1_048_576,
  verify: 'full',
};

const outcome = (table: string, status: TableOutcome['status']): TableOutcome => ({ table, target: `lake.${table}`, status, rows: 0, files: 0, partitions: 1 });

function run(runtimeStatus: string, tables: TableOutcome[], overrides: Partial<MigrateDatabaseInput> = {}): InstanceSnapshot {
  return { runtimeStatus, input: { ...input, ...overrides }, output: { runId: 'run-1', tables, cycles: [] } };
}

describe('retryRunId', () => {
  it('is a valid run id, the same for the same table and another for another table', () => {
    const id = retryRunId('run-1', 'ledger');
    expect(id).toMatch(/^run-1-retry-[0-9a-f]{8}$/);
    expect(id).toMatch(IDEMPOTENCY_KEY_PATTERN);
    expect(retryRunId('run-1', 'ledger')).toBe(id);
    expect(retryRunId('run-1', 'orders')).not.toBe(id);
    expect(retryRunId('run-2', 'ledger')).not.toBe(id);
  });

  it("gives a retry run's own retry of the table the same id, so retries do not nest", () => {
    const id = retryRunId('run-1', 'ledger');
    expect(retryRunId(id, 'ledger')).toBe(id);
    expect(retryRunId(id, 'orders')).not.toBe(id);
  });

  it('stays a valid run id for the longest run ids, and tells them apart', () => {
    const long = 'a'.repeat(64);
    const id = retryRunId(long, 'ledger');
    expect(id).toMatch(IDEMPOTENCY_KEY_PATTERN);
    expect(retryRunId(`${'a'.repeat(63)}b`, 'ledger')).not.toBe(id);
    expect(retryRunId(id, 'ledger')).toBe(id);
  });
});

describe('planTableRetry', () => {
  it("retries a failed table alone with the run's schema, namespace, level, partition size and that table's configuration", () => {
    const plan = planTableRetry('run-1', run('Completed', [outcome('orders', 'committed'), outcome('ledger', 'failed')]), 'ledger');
    expect(plan).toEqual({
      retryId: retryRunId('run-1', 'ledger'),
      input: {
        runId: retryRunId('run-1', 'ledger'),
        sourceSchema: 'shop',
        namespace: 'lake',
        tables: ['ledger'],
        concurrency: 1,
        tableConfig: { ledger: { targetName: 'ledger_v2' } },
        partitionSizeInBytes: 1_048_576,
        verify: 'full',
      },
    });
  });

  it('refuses a run still running, a committed table, an unknown table and a change-capture run, with reasons', () => {
    const tables = [outcome('orders', 'committed'), outcome('ledger', 'failed')];
    const refusal = (plan: RetryStart | RetryRefusal): string => ('reason' in plan ? `${plan.status} ${plan.reason}` : `started ${plan.retryId}`);
    expect(refusal(planTableRetry('run-1', run('Running', tables), 'ledger'))).toMatch(/^409 .*still running/);
    expect(refusal(planTableRetry('run-1', run('Completed', tables), 'orders'))).toMatch(/^409 .*was committed/);
    expect(refusal(planTableRetry('run-1', run('Completed', tables), 'nope'))).toMatch(/^404 /);
    expect(refusal(planTableRetry('run-1', run('Completed', tables, { cdc: true }), 'ledger'))).toMatch(/^409 .*change capture/);
    expect(refusal(planTableRetry('run-1', { runtimeStatus: 'Completed', output: { tables } }, 'ledger'))).toMatch(/^409 .*no longer recorded/);
  });

  it('retries a requested table of a run that failed or was cancelled before it recorded its tables', () => {
    const cancelled: InstanceSnapshot = { runtimeStatus: 'Terminated', input: { ...input, tables: ['ledger'] }, output: 'cancelled' };
    expect(planTableRetry('run-1', cancelled, 'ledger')).toMatchObject({ retryId: retryRunId('run-1', 'ledger') });
    expect(planTableRetry('run-1', cancelled, 'orders')).toMatchObject({ status: 404 });
  });
});

describe('retryState', () => {
  it('tells none, running, committed and failed apart', () => {
    expect(retryState(undefined, 'ledger')).toBe('none');
    expect(retryState({ runtimeStatus: 'Running' }, 'ledger')).toBe('running');
    expect(retryState(run('Completed', [outcome('ledger', 'committed')]), 'ledger')).toBe('committed');
    expect(retryState(run('Completed', [outcome('ledger', 'failed')]), 'ledger')).toBe('failed');
    expect(retryState({ runtimeStatus: 'Failed', output: 'boom' }, 'ledger')).toBe('failed');
    expect(retryState({ runtimeStatus: 'Terminated' }, 'ledger')).toBe('failed');
  });
});
