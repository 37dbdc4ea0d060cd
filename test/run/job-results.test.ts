import { describe, expect, it } from 'vitest';
import { MemoryFileIO } from '../../shared/iceberg/io/memory-file-io';
import { jobReportsLocation, listJobResults, readJobResult, writeJobResult, type JobResult } from '../../shared/run/job-results';

const warehouse = 'memory://w/';

function result(job: string, slot: string, status: JobResult['status'] = 'ok'): JobResult {
  return {
    job,
    slot,
    instanceId: `${job}:${slot}`,
    startedAt: `${slot}T02:00:00Z`,
    finishedAt: `${slot}T02:01:00Z`,
    status,
    summary: `${job} on ${slot}`,
    figures: { tables: 3 },
  };
}

describe('job results', () => {
  it('lists each job newest slot first, limited per job, and a retry of a slot replaces it', async () => {
    const io = new MemoryFileIO();
    await writeJobResult(io, warehouse, result('drift', '2026-12-04'));
    await writeJobResult(io, warehouse, result('drift', '2026-12-05'));
    await writeJobResult(io, warehouse, result('consistency', '2026-12-05'));
    await writeJobResult(io, warehouse, result('drift', '2026-12-05', 'findings'));
    const all = await listJobResults(io, warehouse);
    expect(all.map((r) => `${r.job}/${r.slot}/${r.status}`)).toEqual(['consistency/2026-12-05/ok', 'drift/2026-12-05/findings', 'drift/2026-12-04/ok']);
    expect((await listJobResults(io, warehouse, { job: 'drift', limit: 1 })).map((r) => r.slot)).toEqual(['2026-12-05']);
    expect((await readJobResult(io, warehouse, 'drift', '2026-12-04'))?.status).toBe('ok');
    expect(await readJobResult(io, warehouse, 'drift', '2026-12-03')).toBeUndefined();
  });

  it('refuses names that would escape the jobs folder', async () => {
    const io = new MemoryFileIO();
    await expect(writeJobResult(io, warehouse, result('../x', '2026-12-05'))).rejects.toThrow(/job "..\/x" is not valid/);
    expect(() => jobReportsLocation(warehouse, 'drift', '../../etc')).toThrow(/slot/);
    expect(jobReportsLocation(warehouse, 'drift', '2026-12-05')).toBe('memory://w/.icebridge/reports/drift/2026-12-05');
  });
});
