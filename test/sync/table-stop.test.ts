/**
 * A table's stop mark and the retries before a stop: the mark round-trips through a real commit and is per slot;
 * a transient failure (an unknown commit outcome, a retryable storage error) is retried with the table reopened
 * before each retry, anything else stops at once, and retries are bounded (a persisting transient failure is
 * marked so the sync ends without stopping the table).
 */
import { describe, expect, it } from 'vitest';
import { CommitStateUnknownError, IcebridgeError, NotFoundError, ValidationError } from '../../shared/errors';
import { isRetriesExhausted, readTableStop, recordTableStop, withApplyRetries } from '../../shared/sync/table-stop';
import { TABLE, newTable } from '../iceberg/scan/delete-fixtures';

const noSleep = { sleep: () => Promise.resolve() };

describe('the stop mark', () => {
  it('is committed to the table and read back for its own slot only', async () => {
    const catalog = await newTable();
    await recordTableStop(catalog, TABLE, 'icebridge_run_a', { reason: 'no row with key 7', lsn: '0/1A2B', at: '2026-01-01T00:00:00.000Z' });
    const { metadata } = await catalog.loadTable(TABLE);
    expect(readTableStop(metadata, 'icebridge_run_a')).toEqual({ reason: 'no row with key 7', lsn: '0/1A2B', at: '2026-01-01T00:00:00.000Z' });
    expect(readTableStop(metadata, 'icebridge_run_b')).toBeUndefined();
  });
});

describe('withApplyRetries', () => {
  it('retries a transient failure, reopening before each retry, and returns the success', async () => {
    const failures: Error[] = [new CommitStateUnknownError('lost the answer'), new IcebridgeError('STORAGE_UNAVAILABLE', '503', { retryable: true })];
    let reopened = 0;
    const result = await withApplyRetries(
      () => {
        const failure = failures.shift();
        return failure === undefined ? Promise.resolve('applied') : Promise.reject(failure);
      },
      () => {
        reopened++;
        return Promise.resolve();
      },
      noSleep,
    );
    expect(result).toBe('applied');
    expect(reopened).toBe(2);
  });

  it('stops at once on a failure retrying cannot cure', async () => {
    for (const failure of [new ValidationError('table holds no row with key 7'), new NotFoundError('data file does not exist'), new Error('bug')]) {
      let calls = 0;
      const attempt = (): Promise<never> => {
        calls++;
        return Promise.reject(failure);
      };
      await expect(withApplyRetries(attempt, () => Promise.resolve(), noSleep)).rejects.toBe(failure);
      expect(calls).toBe(1);
    }
  });

  it('gives up after its attempts, saying how many, with an error that does not stop the table', async () => {
    let calls = 0;
    const attempt = (): Promise<never> => {
      calls++;
      return Promise.reject(new CommitStateUnknownError('still unknown'));
    };
    const error = await withApplyRetries(attempt, () => Promise.resolve(), { ...noSleep, attempts: 3 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/still unknown \(still failing after 3 attempts\)/);
    // Marked, so the sync ends unconfirmed instead of stopping a table that is not broken.
    expect(isRetriesExhausted(error)).toBe(true);
    expect(isRetriesExhausted(new ValidationError('no row with key 7'))).toBe(false);
    expect(calls).toBe(3);
  });
});
