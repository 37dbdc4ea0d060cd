/** The cancellation marker: where it lives, how often copies look for it, and a fresh run clearing it. */
import { describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../../shared/iceberg/io/memory-file-io';
import { RunCancelledError, cancellationCheck, cancellationMarker, clearCancellation, requestCancellation } from '../../shared/migrate/cancellation';

/** A FileIO that counts stat calls, so the checks' reads can be counted. */
class CountingFileIO extends MemoryFileIO {
  stats = 0;
  override stat(...args: Parameters<MemoryFileIO['stat']>): ReturnType<MemoryFileIO['stat']> {
    this.stats++;
    return super.stat(...args);
  }
}

describe('cancellation', () => {
  it("lives under the run's own hidden prefix in the warehouse", () => {
    expect(cancellationMarker(new HadoopCatalog(new MemoryFileIO(), 'memory://wh/'), 'run-1')).toBe('memory://wh/.icebridge/runs/run-1/cancel-requested');
  });

  it('stops a copy at its first check after the request, reads at most once per interval, and a cleared marker stops nothing', async () => {
    const io = new CountingFileIO();
    const catalog = new HadoopCatalog(io, 'memory://wh');
    // An interval no test run reaches: every call after the first within it must not read.
    const slow = cancellationCheck(catalog, 'run-1', 3_600_000);
    await slow();
    await slow();
    expect(io.stats).toBe(1);
    await requestCancellation(catalog, 'run-1', new Date('2026-12-06T01:00:00Z'));
    await slow();
    expect(io.stats).toBe(1);
    const every = cancellationCheck(catalog, 'run-1', 0);
    await expect(every()).rejects.toBeInstanceOf(RunCancelledError);
    await expect(every()).rejects.toThrow('the migration run-1 was cancelled');
    // Another run is not affected; a fresh run with the same id is not once the marker is cleared.
    await expect(cancellationCheck(catalog, 'run-2', 0)()).resolves.toBeUndefined();
    await clearCancellation(catalog, 'run-1');
    await expect(cancellationCheck(catalog, 'run-1', 0)()).resolves.toBeUndefined();
  });
});
