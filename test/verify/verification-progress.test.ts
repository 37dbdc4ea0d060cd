/**
 * The verification orchestrators' bookkeeping (verification-progress.ts). The custom status and a failed table's
 * verification and summary are recorded in instance histories and read back, so these pin their JSON text.
 */
import { describe, expect, it } from 'vitest';
import { MAX_REASON_LENGTH } from '../../shared/run/instance-status';
import type { TableVerificationSummary, VerifyTablePlan } from '../../shared/verify/contracts';
import { MAX_SUMMARY_ERROR_LENGTH } from '../../shared/verify/reports/table-summary';
import {
  failedAfterRetries,
  failedTableSummary,
  failedTableVerification,
  finishTable,
  planningProgress,
} from '../../shared/verify/status/verification-progress';

const plan: Pick<VerifyTablePlan, 'source' | 'target'> = {
  source: { schema: 'src', name: 'order lines' },
  target: { namespace: ['lake'], name: 'order lines' },
};

function summary(table: string, status: TableVerificationSummary['status'], error?: string): TableVerificationSummary {
  return { table, target: `lake.${table}`, level: 'quick', status, ...(error !== undefined ? { error } : {}), durationMs: 1 };
}

describe("verifyDatabase's custom status", () => {
  it('starts planning at its level with every figure at zero', () => {
    expect(JSON.stringify(planningProgress('full'))).toBe(
      '{"phase":"planning","level":"full","tables":{"total":0,"started":0,"done":0,"differing":0,"errors":0}}',
    );
  });

  it('counts finished tables, those that differ and those in error, keeping the last error with its table', () => {
    const progress = planningProgress('quick');
    finishTable(progress, summary('a', 'ok'));
    finishTable(progress, summary('b', 'differs'));
    expect(progress).not.toHaveProperty('lastError');
    finishTable(progress, summary('c', 'error', 'connection lost'));
    finishTable(progress, summary('d', 'error'));
    expect(JSON.stringify(progress)).toBe(
      '{"phase":"planning","level":"quick","tables":{"total":0,"started":0,"done":4,"differing":1,"errors":2},"lastError":"d: error"}',
    );
    finishTable(progress, summary('e', 'error', 'z'.repeat(MAX_REASON_LENGTH * 2)));
    expect(progress.lastError!.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
  });
});

describe('a table that could not be verified', () => {
  it('is an error with nothing checked, its source and its target shown quoted where needed', () => {
    expect(JSON.stringify(failedTableVerification(plan, 'full', 'no such table'))).toBe(
      '{"table":"src.\\"order lines\\"","target":"lake.\\"order lines\\"","level":"full","status":"error","error":"no such table","schema":[],"aggregates":[],"samples":[],"durationMs":0}',
    );
  });

  it('is summarised in the same order, its error shortened as summaries keep errors', () => {
    expect(JSON.stringify(failedTableSummary(plan, 'quick', 'terminated'))).toBe(
      '{"table":"src.\\"order lines\\"","target":"lake.\\"order lines\\"","level":"quick","status":"error","error":"terminated","durationMs":0}',
    );
    expect(failedTableSummary(plan, 'quick', 'w'.repeat(MAX_SUMMARY_ERROR_LENGTH * 2)).error!.length).toBeLessThanOrEqual(MAX_SUMMARY_ERROR_LENGTH);
  });

  it("says the verification failed after retries, with the activity's own reason", () => {
    expect(failedAfterRetries(new Error("Activity function 'verifyRowRange' failed: disk full \n at stack"))).toBe(
      'verification failed after retries: disk full',
    );
  });
});
