import { describe, expect, it } from 'vitest';
import { readSection, runEtaSeconds, tableFigures, verificationRow } from '../../shared/dashboard/dashboard-data';
import type { MigrationReport, TableReport } from '../../shared/migrate/migration-status';

function report(overrides: Partial<MigrationReport>): MigrationReport {
  return {
    id: 'run-1',
    runtimeStatus: 'Running',
    phase: 'copying',
    tables: { total: 1, started: 1, done: 0, failed: 0 },
    partitions: { total: 10, done: 4 },
    rows: 400,
    rowsPerSecond: 10,
    elapsedSeconds: 40,
    failures: [],
    details: [],
    unreadable: [],
    page: { offset: 0, limit: 100, of: 1 },
    ...overrides,
  };
}

const table = (overrides: Partial<TableReport> = {}): TableReport => ({
  table: 'orders',
  phase: 'copying',
  partitions: { total: 10, done: 4 },
  rows: 1000,
  estimatedRows: 5000,
  ...overrides,
});

describe('runEtaSeconds', () => {
  it('is the partitions left at the rate partitions were copied', () => {
    expect(runEtaSeconds(report({}))).toBe(60);
  });

  it('is unknown before the first partition, after copying and for a finished run', () => {
    expect(runEtaSeconds(report({ partitions: { total: 10, done: 0 } }))).toBeUndefined();
    expect(runEtaSeconds(report({ phase: 'verifying' }))).toBeUndefined();
    expect(runEtaSeconds(report({ runtimeStatus: 'Completed' }))).toBeUndefined();
  });
});

describe('tableFigures', () => {
  const now = Date.parse('2026-12-06T10:00:10Z');
  const running = { runtimeStatus: 'Running', createdTime: '2026-12-06T10:00:00Z' };

  it("is a running table's rows per second since its instance started, and its estimated rows left at that rate", () => {
    expect(tableFigures(table(), running, now)).toEqual({ rowsPerSecond: 100, etaSeconds: 40 });
  });

  it('has no ETA past the estimate, and nothing for a finished, waiting or rowless table', () => {
    expect(tableFigures(table({ estimatedRows: 0 }), running, now)).toEqual({ rowsPerSecond: 100 });
    expect(tableFigures(table({ status: 'committed' }), { ...running, runtimeStatus: 'Completed' }, now)).toEqual({});
    expect(tableFigures(table(), undefined, now)).toEqual({});
    expect(tableFigures(table({ rows: 0 }), running, now)).toEqual({});
  });
});

describe('verificationRow', () => {
  it("reads a verification's figures from its custom status", () => {
    const row = verificationRow('v-1', {
      runtimeStatus: 'Completed',
      customStatus: { phase: 'done', level: 'full', tables: { total: 3, started: 3, done: 3, differing: 1, errors: 0 } },
      createdTime: '2026-12-06T10:00:00Z',
    });
    expect(row).toEqual({
      id: 'v-1',
      runtimeStatus: 'Completed',
      phase: 'done',
      level: 'full',
      tables: { total: 3, done: 3, differing: 1, errors: 0 },
      createdTime: '2026-12-06T10:00:00.000Z',
      reportReady: true,
    });
  });
});

describe('readSection', () => {
  it("keeps a section's failure as its own error", async () => {
    expect(await readSection(() => Promise.resolve(1), String)).toEqual({ ok: true, value: 1 });
    expect(
      await readSection(
        () => Promise.reject(new Error('gone')),
        (e) => `flags: ${(e as Error).message}`,
      ),
    ).toEqual({ ok: false, error: 'flags: gone' });
  });
});
