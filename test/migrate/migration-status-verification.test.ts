/**
 * A migration's status reads its verification from the run's compact output (id and counts) and each table's
 * outcome from the verification's own output; a run finished before that change carries the whole report.
 */
import { describe, expect, it } from 'vitest';
import type { TableOutcome } from '../../shared/migrate/contracts';
import { buildMigrationReport } from '../../shared/migrate/migration-status';
import { type InstanceSnapshot, type TableInstanceRead } from '../../shared/run/instance-status';
import type { TableVerification, VerificationOutcome, VerificationReport } from '../../shared/verify/contracts';

const outcomes: TableOutcome[] = ['a', 'b'].map((t) => ({
  table: t,
  target: `lake.${t}`,
  status: 'committed',
  rows: 1,
  files: 1,
  partitions: 1,
  snapshotId: '1',
}));
const tableReads: TableInstanceRead[] = outcomes.map((o, index) => ({
  index,
  instanceId: `run:table:${index}`,
  status: { runtimeStatus: 'Completed', output: o },
}));
const progress = {
  phase: 'done',
  tables: { total: 2, started: 2, done: 2, failed: 0 },
  partitions: { total: 2, done: 2 },
  rows: 2,
  recentFailures: [],
  verificationId: 'run:verify',
};

function whole(name: string, status: TableVerification['status']): TableVerification {
  return { table: `public.${name}`, target: `lake.${name}`, level: 'quick', status, schema: [], aggregates: [], samples: [], durationMs: 1 };
}

describe("a migration's verification in its status", () => {
  it("takes the counts from the run's output and each table's outcome from the verification's own output", () => {
    const run: InstanceSnapshot = {
      runtimeStatus: 'Completed',
      customStatus: progress,
      output: {
        runId: 'run',
        tables: outcomes,
        cycles: [],
        verification: {
          id: 'run:verify',
          level: 'quick',
          ok: false,
          reports: '/w/.icebridge/verifications/run_3Averify',
          tables: { total: 2, differing: 1, errors: 0 },
        },
      },
    };
    const own: VerificationOutcome = {
      verificationId: 'run:verify',
      level: 'quick',
      source: 's',
      warehouse: '/w',
      startedAt: 't',
      ok: false,
      reports: '/w/.icebridge/verifications/run_3Averify',
      tables: [
        { index: 0, table: 'public.a', target: 'lake.a', level: 'quick', status: 'ok', durationMs: 1 },
        { index: 1, table: 'public.b', target: 'lake.b', level: 'quick', status: 'differs', durationMs: 1 },
      ],
    };
    const report = buildMigrationReport('run', run, tableReads, { offset: 0, limit: 2 }, 0, { runtimeStatus: 'Completed', output: own });
    expect(report.verification).toEqual({ id: 'run:verify', level: 'quick', status: 'differs', tables: { total: 2, done: 2, differing: 1, errors: 0 } });
    expect(report.details.map((d) => [d.table, d.verified])).toEqual([
      ['a', 'ok'],
      ['b', 'differs'],
    ]);
  });

  it('reads a run finished before, whose output holds the whole report', () => {
    const former: VerificationReport = {
      level: 'full',
      source: 's',
      warehouse: '/w',
      startedAt: 't',
      ok: false,
      tables: [whole('a', 'ok'), whole('b', 'error')],
    };
    const run: InstanceSnapshot = {
      runtimeStatus: 'Completed',
      customStatus: progress,
      output: { runId: 'run', tables: outcomes, cycles: [], verification: former },
    };
    const report = buildMigrationReport('run', run, tableReads, { offset: 0, limit: 2 }, 0, { runtimeStatus: 'Completed', output: former });
    expect(report.verification).toEqual({ id: 'run:verify', level: 'full', status: 'error', tables: { total: 2, done: 2, differing: 0, errors: 1 } });
    expect(report.details.map((d) => [d.table, d.verified])).toEqual([
      ['a', 'ok'],
      ['b', 'error'],
    ]);
  });
});

describe('a run recorded before tables were counted in its custom status', () => {
  it('finds its tables by the ids its tableInstances map named, and lists no committed table as failed', () => {
    const former = {
      phase: 'done',
      tables: { total: 3, done: 3, failed: 1 },
      partitions: { total: 2, done: 2 },
      rows: 2,
      failures: [{ table: 'broken', reason: 'could not be planned' }],
      tableInstances: { a: 'run:table:0', b: 'run:table:1' },
    };
    const planFailure: TableOutcome = { table: 'broken', target: 'broken', status: 'failed', rows: 0, files: 0, partitions: 0, reason: 'could not be planned' };
    const run: InstanceSnapshot = {
      runtimeStatus: 'Completed',
      customStatus: former,
      output: { runId: 'run', tables: [planFailure, ...outcomes], cycles: [] },
    };
    const report = buildMigrationReport('run', run, tableReads, { offset: 0, limit: 100 }, 0);
    expect(report.tables).toEqual({ total: 3, started: 2, done: 3, failed: 1 });
    expect(report.details.map((d) => [d.table, d.status])).toEqual([
      ['a', 'committed'],
      ['b', 'committed'],
      ['broken', 'failed'],
    ]);
    expect(report.failures).toEqual([{ table: 'broken', reason: 'could not be planned' }]);
  });
});
