/**
 * The migration orchestrators' bookkeeping (migration-progress.ts). The custom status and outcomes are recorded
 * in instance histories and read back by the status endpoint, so these pin their JSON text, key order included.
 */
import { describe, expect, it } from 'vitest';
import type { TableOutcome, TablePlan } from '../../shared/migrate/contracts';
import {
  SHOWN_WARNINGS,
  failedTableOutcome,
  failedWith,
  finishTable,
  outcomeTarget,
  partitionFailureReason,
  planningProgress,
  startCopying,
} from '../../shared/migrate/migration-progress';
import { RECENT_FAILURES } from '../../shared/migrate/migration-status';
import type { WarnedMigrationPlan, WarnedTablePlan } from '../../shared/migrate/plan-warnings';
import { partitionRanges, relationPages } from '../../shared/postgres/partition-ranges';
import { MAX_REASON_LENGTH } from '../../shared/run/instance-status';

function table(name: string, partitions: number, warnings?: string[]): WarnedTablePlan {
  const relation = { schema: 'src', name };
  return {
    source: relation,
    target: { namespace: ['lake'], name },
    columns: ['id'],
    key: ['id'],
    estimatedRows: 10,
    partitions: partitionRanges([relationPages(relation, partitions, 1, 1, false)]),
    ...(warnings !== undefined ? { warnings } : {}),
  };
}

function plan(tables: WarnedTablePlan[], failures: WarnedMigrationPlan['failures'] = [], warnings?: string[]): WarnedMigrationPlan {
  return { runId: 'run', tables, cycles: [], failures, ...(warnings !== undefined ? { warnings } : {}) };
}

describe("migrateDatabase's custom status", () => {
  it('starts planning with every figure at zero', () => {
    expect(JSON.stringify(planningProgress())).toBe(
      '{"phase":"planning","tables":{"total":0,"started":0,"done":0,"failed":0},"partitions":{"total":0,"done":0},"rows":0,"recentFailures":[]}',
    );
  });

  it("takes the plan's figures, notes its failures as failed tables and keeps its first warnings with their count", () => {
    const progress = planningProgress();
    const warnings = Array.from({ length: SHOWN_WARNINGS + 2 }, (_, i) => `warning ${i}`);
    const outcomes = startCopying(
      progress,
      plan([table('a', 3, warnings.slice(1)), table('b', 2)], [{ table: 'c', reason: 'no such type' }], warnings.slice(0, 1)),
    );
    expect(JSON.stringify(progress)).toBe(
      '{"phase":"copying","tables":{"total":3,"started":0,"done":1,"failed":1},"partitions":{"total":5,"done":0},"rows":0,' +
        '"recentFailures":[{"table":"c","reason":"no such type"}],"lastError":"no such type",' +
        '"warnings":["warning 0","warning 1","warning 2","warning 3","warning 4"],"warningsTotal":7}',
    );
    expect(JSON.stringify(outcomes)).toBe('[{"table":"c","target":"c","status":"failed","rows":0,"files":0,"partitions":0,"reason":"no such type"}]');
  });

  it('adds no warning fields to a plan without warnings, and shortens a long planning failure', () => {
    const progress = planningProgress();
    const [outcome] = startCopying(progress, plan([table('a', 1)], [{ table: 'c', reason: 'x'.repeat(MAX_REASON_LENGTH * 2) }]));
    expect(progress).not.toHaveProperty('warnings');
    expect(progress).not.toHaveProperty('warningsTotal');
    expect(outcome!.reason!.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
    expect(progress.lastError).toBe(outcome!.reason);
  });

  it('counts finished tables, notes the failed ones (the last few) and shortens their reasons in the output', () => {
    const progress = planningProgress();
    startCopying(progress, plan([table('a', 2), table('b', 1)]));
    const committed: TableOutcome = { table: 'a', target: 'lake.a', status: 'committed', rows: 20, files: 2, partitions: 2, snapshotId: '9' };
    expect(finishTable(progress, committed)).toBe(committed);
    const long = 'y'.repeat(MAX_REASON_LENGTH * 2);
    const failed = finishTable(progress, { table: 'b', target: 'lake.b', status: 'failed', rows: 0, files: 0, partitions: 1, reason: long });
    expect(failed.reason!.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
    expect(JSON.stringify(progress)).toBe(
      `{"phase":"copying","tables":{"total":2,"started":0,"done":2,"failed":1},"partitions":{"total":3,"done":3},"rows":20,"recentFailures":[{"table":"b","reason":"${failed.reason}"}],"lastError":"${failed.reason}"}`,
    );
    for (let i = 0; i < RECENT_FAILURES + 1; i++)
      finishTable(progress, { table: `t${i}`, target: `lake.t${i}`, status: 'failed', rows: 0, files: 0, partitions: 0 });
    expect(progress.tables.failed).toBe(RECENT_FAILURES + 2);
    expect(progress.recentFailures.map((f) => f.table)).toEqual(Array.from({ length: RECENT_FAILURES }, (_, i) => `t${i + 1}`));
    expect(progress.lastError).toBe('failed');
  });
});

describe("a failed table's outcome", () => {
  const plan: Pick<TablePlan, 'source' | 'target'> = {
    source: { schema: 'src', name: 'Order Lines' },
    target: { namespace: ['lake', 'sales'], name: 'Order Lines' },
  };

  it('names its target as formatIdentifier does (the form its verification records), and has the reason last when there is one', () => {
    expect(outcomeTarget(plan.target)).toBe('lake.sales."Order Lines"');
    expect(JSON.stringify(failedTableOutcome(plan, 4))).toBe(
      '{"table":"Order Lines","target":"lake.sales.\\"Order Lines\\"","status":"failed","rows":0,"files":0,"partitions":4}',
    );
    expect(JSON.stringify(failedTableOutcome(plan, 0, 'terminated'))).toBe(
      '{"table":"Order Lines","target":"lake.sales.\\"Order Lines\\"","status":"failed","rows":0,"files":0,"partitions":0,"reason":"terminated"}',
    );
  });

  it('keeps what the table got to before it failed, with the reason after it', () => {
    const outcome = { ...failedTableOutcome(plan, 2), snapshotId: '7', rows: 5, files: 1, sourceRows: 6 };
    expect(JSON.stringify(failedWith(outcome, 'row count check failed'))).toBe(
      '{"table":"Order Lines","target":"lake.sales.\\"Order Lines\\"","status":"failed","rows":5,"files":1,"partitions":2,"snapshotId":"7","sourceRows":6,"reason":"row count check failed"}',
    );
  });

  it("gives the one failed partition's reason, or how many failed and the first reason", () => {
    expect(partitionFailureReason(['disk full'])).toBe('disk full');
    expect(partitionFailureReason(['disk full', 'gone'])).toBe('2 partitions failed; first: disk full');
  });
});
