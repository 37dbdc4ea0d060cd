/**
 * What the watch job gathers from the task hub and how it judges it: root migrations running or just finished and
 * running syncs whatever their age (their statuses as the sync orchestration writes them, through syncStatusOf), carried without the
 * per-table positions; a lagging sync and a slow copy raise their alert, a sync keeping up and a quick copy do not;
 * without gathered statuses the run fails rather than answer `ok`. (Real runs on the local host:
 * test/integration/jobs-watch.test.ts.)
 */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFileIO } from '../../shared/iceberg/io';
import { type JobResult, jobResultLocation, listJobResults, writeJobResult } from '../../shared/run/job-results';
import { DEFAULT_THRESHOLDS } from '../../shared/alerts/alert-settings';
import type { MigrationProgress } from '../../shared/migrate/contracts';
import { loadJobSettings } from '../../shared/ops/job-settings';
import type { HubInstance, HubQuery, JobHubClient } from '../../shared/ops/scheduled-job';
import { evaluateWatch, gatherWatchFigures, pruneWatchResults, watchJob } from '../../shared/ops/watch-job';
import { type SyncBatchResult, afterBatch, firstCursor, syncStatusOf } from '../../shared/run/sync-run';

const NOW = new Date('2026-12-06T12:00:00Z');
const minutesAgo = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString();

function batch(lagSeconds: number): SyncBatchResult {
  return {
    outcome: 'caught-up',
    stopRequested: false,
    changesApplied: 10,
    elapsedMs: 1_000,
    tables: [{ table: 'public.items', appliedLsn: '0/16B3748', changesApplied: 10 }],
    confirmedLsn: '0/16B3748',
    lagBytes: 4096,
    lagSeconds,
    stoppedTables: [],
    tablesReused: 0,
  };
}

/** A sync's status exactly as its orchestration sets it after one batch. */
function syncStatus(runId: string, lagSeconds: number): unknown {
  return syncStatusOf(runId, afterBatch(firstCursor(minutesAgo(60)), batch(lagSeconds), minutesAgo(1)), 'syncing');
}

function copying(rows: number): MigrationProgress {
  return { phase: 'copying', tables: { total: 2, started: 1, done: 0, failed: 0 }, partitions: { total: 10, done: 3 }, rows, recentFailures: [] };
}

function instance(instanceId: string, name: string, runtimeStatus: string, customStatus: unknown, created: number, updated: number): HubInstance {
  return { instanceId, name, runtimeStatus, customStatus, createdTime: minutesAgo(created), lastUpdatedTime: minutesAgo(updated) };
}

/** A task hub holding `instances`, answering a listing as Durable's status query does. */
function hub(instances: HubInstance[]): Pick<JobHubClient, 'listInstances'> & { queries: HubQuery[] } {
  const queries: HubQuery[] = [];
  return {
    queries,
    listInstances: (query) => {
      queries.push(query);
      return Promise.resolve(
        instances.filter(
          (i) =>
            (query.statuses as readonly string[]).includes(i.runtimeStatus) &&
            (query.createdSince === undefined || Date.parse(i.createdTime) >= query.createdSince.getTime()),
        ),
      );
    },
  };
}

describe('the watch job', () => {
  it('gathers root migrations running or just finished and running syncs, without per-table positions', async () => {
    const client = hub([
      instance('slow', 'migrateDatabase', 'Running', copying(600), 10, 0),
      instance('slow:table:0', 'migrateTable', 'Running', {}, 10, 0),
      instance('old', 'migrateDatabase', 'Completed', copying(1), 600, 500),
      instance('recent', 'migrateDatabase', 'Failed', copying(1), 30, 5),
      instance('pending', 'migrateDatabase', 'Pending', null, 1, 1),
      instance('sync-a', 'syncDatabase', 'Running', syncStatus('a', 900), 120, 1),
      instance('sync-b', 'syncDatabase', 'Terminated', syncStatus('b', 900), 120, 1),
      // Continued as new for two months: running, whatever its age.
      instance('sync-old', 'syncDatabase', 'ContinuedAsNew', syncStatus('old', 1), 60 * 24 * 60, 1),
      instance('ancient', 'migrateDatabase', 'Failed', copying(1), 40 * 24 * 60, 5),
      instance('v1', 'verifyDatabase', 'Running', {}, 1, 1),
    ]);
    const figures = await gatherWatchFigures(client, NOW);
    expect(client.queries).toEqual([
      { statuses: ['Running', 'Pending', 'ContinuedAsNew'] },
      { statuses: ['Completed', 'Failed', 'Terminated'], createdSince: new Date('2026-11-06T12:00:00Z') },
    ]);
    expect(figures.runs.map((r) => r.runId)).toEqual(['pending', 'slow', 'recent']);
    expect(figures.runs[0]!.progress.phase).toBe('planning');
    expect(figures.runs[1]).toMatchObject({ runtimeStatus: 'Running', startedAt: minutesAgo(10), lastUpdatedAt: minutesAgo(0) });
    expect(figures.syncs.map((x) => x.runId)).toEqual(['a', 'old']);
    expect(figures.syncs[0]).toMatchObject({ runId: 'a', lagSeconds: 900, tables: [], tablesOmitted: 1 });
    expect(figures.omitted).toBe(0);
  });

  it('raises the lag of a sync behind its source and the rate of a slow copy, and nothing for healthy ones', async () => {
    const figures = await gatherWatchFigures(
      hub([
        instance('slow', 'migrateDatabase', 'Running', copying(600), 10, 0),
        instance('quick', 'migrateDatabase', 'Running', copying(6_000_000), 10, 0),
        instance('sync-behind', 'syncDatabase', 'Running', syncStatus('behind', 900), 120, 1),
        instance('sync-keeping-up', 'syncDatabase', 'Running', syncStatus('keeping-up', 2), 120, 1),
      ]),
      NOW,
    );
    const alerts = evaluateWatch(figures, { ...DEFAULT_THRESHOLDS, baselineRowsPerSecond: 1_000 }, NOW);
    expect(alerts.map((a) => `${a.condition} ${a.subject}`)).toEqual(['low-throughput slow', 'sync-lag behind']);
    expect(evaluateWatch(figures, DEFAULT_THRESHOLDS, NOW).map((a) => a.condition)).toEqual(['sync-lag']);
  });

  it('carries at most 50 migrations, counting the others', async () => {
    const many = Array.from({ length: 53 }, (_, i) => instance(`run-${i}`, 'migrateDatabase', 'Running', copying(1), 60 - i, 0));
    const figures = await gatherWatchFigures(hub(many), NOW);
    expect(figures.runs).toHaveLength(50);
    expect(figures.omitted).toBe(3);
  });

  it('fails a run given no statuses instead of answering ok', async () => {
    const context = { job: 'watch', slot: 's', warehouse: '/w', settings: loadJobSettings({}), prepared: {}, now: NOW, env: {} };
    await expect(watchJob.run({} as never, context)).rejects.toThrow('the watch job was given no statuses');
  });

  it("removes its own results older than 7 days by the store's time, and no other job's", async () => {
    const warehouse = await mkdtemp(path.join(tmpdir(), 'icebridge-watch-results-'));
    try {
      const io = new LocalFileIO();
      expect(await pruneWatchResults(io, warehouse, NOW)).toBe(0);
      const result = (job: string, slot: string): JobResult => ({
        job,
        slot,
        instanceId: `${job}:${slot}`,
        startedAt: NOW.toISOString(),
        finishedAt: NOW.toISOString(),
        status: 'ok',
        summary: '',
        figures: {},
      });
      const written: Array<[string, string, number]> = [
        ['watch', '2026-11-28T1200', 8],
        ['watch', '2026-11-30T1200', 6],
        ['watch', 'now-manual', 9],
        ['consistency', '2026-10-01', 60],
      ];
      for (const [job, slot, days] of written) {
        await writeJobResult(io, warehouse, result(job, slot));
        const at = new Date(NOW.getTime() - days * 86_400_000);
        await utimes(jobResultLocation(warehouse, job, slot), at, at);
      }
      expect(await pruneWatchResults(io, warehouse, NOW)).toBe(2);
      expect((await listJobResults(io, warehouse)).map((r) => `${r.job} ${r.slot}`)).toEqual(['consistency 2026-10-01', 'watch 2026-11-30T1200']);
    } finally {
      await rm(warehouse, { recursive: true, force: true });
    }
  });
});
