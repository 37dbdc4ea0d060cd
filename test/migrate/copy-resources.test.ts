import { describe, expect, it } from 'vitest';
import { loadResourceSettings } from '../../shared/config/resource-settings';
import { ValidationError } from '../../shared/errors';
import { budgetedPoolOptions, copyResources, copyWorkerCount } from '../../shared/migrate/copy-resources';

const MIB = 1024 * 1024;

describe('copy resources', () => {
  it('defaults to the four activity slots of host.json, a 2 GB instance on Azure (the machine elsewhere) and slots + 2 connections', () => {
    const azure = { WEBSITE_INSTANCE_ID: 'i-1' };
    expect(loadResourceSettings(azure, 65_536)).toEqual({ activitySlots: 4, instanceMemoryMb: 2048, sourceConnections: 6 });
    // Off Azure the instance is the machine, at least 2 GB.
    expect(loadResourceSettings({}, 24_000).instanceMemoryMb).toBe(24_000);
    expect(loadResourceSettings({}, 1_000).instanceMemoryMb).toBe(2048);
    expect(loadResourceSettings({ ICEBRIDGE_ACTIVITY_SLOTS: '8', ICEBRIDGE_INSTANCE_MEMORY_MB: '4096' })).toEqual({
      activitySlots: 8,
      instanceMemoryMb: 4096,
      sourceConnections: 10,
    });
    expect(loadResourceSettings({ ICEBRIDGE_SOURCE_CONNECTIONS: '3' }).sourceConnections).toBe(3);
  });

  it('refuses a malformed setting, naming it', () => {
    for (const env of [
      { ICEBRIDGE_ACTIVITY_SLOTS: '0' },
      { ICEBRIDGE_ACTIVITY_SLOTS: '2.5' },
      { ICEBRIDGE_INSTANCE_MEMORY_MB: '2G' },
      { ICEBRIDGE_SOURCE_CONNECTIONS: '-1' },
    ]) {
      const name = Object.keys(env)[0]!;
      expect(() => loadResourceSettings(env)).toThrow(ValidationError);
      expect(() => loadResourceSettings(env)).toThrow(name);
    }
  });

  it('runs min(activity slots, cores) copy threads', () => {
    expect(copyWorkerCount({}, 2)).toBe(2);
    expect(copyWorkerCount({}, 16)).toBe(4);
    expect(copyWorkerCount({ ICEBRIDGE_ACTIVITY_SLOTS: '1' }, 16)).toBe(1);
    expect(copyWorkerCount({ ICEBRIDGE_ACTIVITY_SLOTS: '12' }, 8)).toBe(8);
    // An explicit worker count still wins (0: copies in the main thread).
    expect(copyWorkerCount({ ICEBRIDGE_COPY_WORKERS: '0' }, 16)).toBe(0);
    expect(copyWorkerCount({ ICEBRIDGE_COPY_WORKERS: '3', ICEBRIDGE_ACTIVITY_SLOTS: '1' }, 16)).toBe(3);
  });

  it('divides the instance memory among the slots so every slot copying at once fits', () => {
    for (const [memory, slots] of [
      [2048, 4],
      [4096, 4],
      [2048, 1],
      [4096, 16],
    ] as const) {
      const r = copyResources({ activitySlots: slots, instanceMemoryMb: memory, sourceConnections: 1 }, 64);
      const perCopyBytes = r.workerHeapMb * MIB + r.writerBufferBytes;
      expect(perCopyBytes).toBe(r.perCopyMb * MIB);
      expect(slots * r.perCopyMb).toBeLessThanOrEqual(memory - 256);
      expect(r.writerBufferBytes).toBeGreaterThanOrEqual(8 * MIB);
    }
    // The default: 432 MB per slot, of which a quarter is Parquet buffers.
    expect(copyResources(loadResourceSettings({ WEBSITE_INSTANCE_ID: 'i-1' }), 2)).toEqual({
      threads: 2,
      perCopyMb: 432,
      workerHeapMb: 324,
      writerBufferBytes: 108 * MIB,
    });
    // A partitioned target's sixteen 32 MiB row groups (512 MiB) no longer fit one copy's buffers on either size.
    expect(copyResources(loadResourceSettings({ ICEBRIDGE_INSTANCE_MEMORY_MB: '4096' }), 2).writerBufferBytes).toBeLessThan(16 * 32 * MIB);
  });

  it('gives the shared pool its threads, heap limit and writer budget from the settings', () => {
    expect(budgetedPoolOptions({ ICEBRIDGE_ACTIVITY_SLOTS: '2', WEBSITE_INSTANCE_ID: 'i-1' }, 8)).toEqual({
      size: 2,
      resourceLimits: { maxOldGenerationSizeMb: 648 },
      writerBufferBytes: 216 * MIB,
    });
  });
});
