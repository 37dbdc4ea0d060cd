/**
 * What the maintenance job gathers from the task hub before it starts: the history purge (a failure is reported,
 * not fatal) and the restores in progress, whose snapshots it must keep (a failure to list them stops the start).
 */
import { describe, expect, it } from 'vitest';
import { loadJobSettings } from '../../shared/ops/job-settings';
import { maintenanceJob } from '../../shared/ops/maintenance-job';
import type { JobHubClient } from '../../shared/ops/scheduled-job';

const NOW = new Date('2026-12-06T03:30:00Z');

function hub(overrides: Partial<JobHubClient> = {}): JobHubClient & { purgedBefore: Date[]; asked: string[] } {
  const purgedBefore: Date[] = [];
  const asked: string[] = [];
  return {
    purgedBefore,
    asked,
    purgeFinishedBefore: (before) => {
      purgedBefore.push(before);
      return Promise.resolve(3);
    },
    unfinishedInputs: (orchestration) => {
      asked.push(orchestration);
      return Promise.resolve([
        { restoreId: 'r1', schema: 'public', namespace: 'public', tables: ['items'], asOf: { snapshotId: '42' }, mode: { replace: true } },
        { namespace: 'sales', asOf: { timestampMs: 1_700_000_000_000 } },
        null,
        { schema: 'public' },
      ]);
    },
    listInstances: () => Promise.resolve([]),
    ...overrides,
  };
}

describe('maintenance preparation', () => {
  it('purges history older than the setting and lists the restores in progress', async () => {
    const client = hub();
    const prepared = await maintenanceJob.prepare!(client, loadJobSettings({ ICEBRIDGE_MAINTENANCE_HISTORY_DAYS: '10' }), NOW);
    expect(client.purgedBefore).toEqual([new Date('2026-11-26T03:30:00Z')]);
    expect(client.asked).toEqual(['restoreDatabase']);
    expect(prepared).toEqual({
      historyPurged: 3,
      restoreHolds: [
        { namespace: 'public', tables: ['items'], asOf: { snapshotId: '42' } },
        { namespace: 'sales', asOf: { timestampMs: 1_700_000_000_000 } },
      ],
    });
  });

  it('goes on when the purge fails, saying why, and stops when the restores cannot be listed', async () => {
    const failingPurge = hub({ purgeFinishedBefore: () => Promise.reject(new Error('the task hub is busy')) });
    expect(await maintenanceJob.prepare!(failingPurge, loadJobSettings({}), NOW)).toMatchObject({ historyPurgeError: 'the task hub is busy' });
    const blind = hub({ unfinishedInputs: () => Promise.reject(new Error('cannot list')) });
    await expect(maintenanceJob.prepare!(blind, loadJobSettings({}), NOW)).rejects.toThrow('cannot list');
  });
});
