/**
 * The reconnect rules: what counts as a lost connection, a bounded backoff that ends in a clear error (a server
 * that stays down is an error, not a hang), losses forgiven once the connection works, and a SQL connection made
 * again and the query run again.
 */
import type { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { PostgresErrorCodes } from '../../shared/postgres/postgres-errors';
import { RECONNECT_FAILED, Reconnector, SqlLink, isConnectionLoss } from '../../shared/sync/reconnect';

const lost = (): IcebridgeError =>
  new IcebridgeError(PostgresErrorCodes.connectionLost, 'terminating connection due to administrator command', { retryable: true });

describe('isConnectionLoss', () => {
  it('is true for a lost or unreachable server and a slot still held by the walsender just lost, false otherwise', () => {
    expect(isConnectionLoss(lost())).toBe(true);
    expect(isConnectionLoss(new IcebridgeError(PostgresErrorCodes.unavailable, 'ECONNREFUSED', { retryable: true }))).toBe(true);
    const inUse = Object.assign(new Error('replication slot "s" is active for PID 42'), { code: '55006' });
    expect(isConnectionLoss(new IcebridgeError(PostgresErrorCodes.query, 'in use', { cause: inUse }))).toBe(true);
    expect(isConnectionLoss(new IcebridgeError(PostgresErrorCodes.authFailed, 'password authentication failed'))).toBe(false);
    expect(isConnectionLoss(new ValidationError('pgoutput protocol: a change before its Relation message'))).toBe(false);
    expect(isConnectionLoss(new Error('Connection terminated'))).toBe(false);
  });
});

describe('Reconnector', () => {
  it('waits a growing pause between attempts and gives up after maxAttempts with a clear error', async () => {
    const pauses: number[] = [];
    const notices: string[] = [];
    const reconnector = new Reconnector(
      'replication',
      {
        maxAttempts: 3,
        baseDelayInMs: 100,
        maxDelayInMs: 250,
        sleep: (ms) => {
          pauses.push(ms);
          return Promise.resolve();
        },
      },
      (m) => notices.push(m),
    );
    for (let i = 0; i < 3; i++) await reconnector.lost(lost());
    expect(pauses).toHaveLength(3);
    expect(pauses[0]).toBeGreaterThanOrEqual(50);
    expect(pauses[0]).toBeLessThanOrEqual(100);
    expect(pauses[2]).toBeLessThanOrEqual(250);
    expect(notices[0]).toMatch(/lost the replication connection \(terminating connection .*\); reconnecting in .* s \(attempt 1 of 3\)/);
    const error = await reconnector.lost(lost()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IcebridgeError);
    expect((error as IcebridgeError).code).toBe(RECONNECT_FAILED);
    expect((error as IcebridgeError).message).toMatch(/could not get it back: 3 reconnects failed/);
  });

  it('forgives the losses once the connection works', async () => {
    const reconnector = new Reconnector('SQL', { maxAttempts: 1, sleep: () => Promise.resolve() });
    await reconnector.lost(lost());
    reconnector.healthy();
    await reconnector.lost(lost());
    await expect(reconnector.lost(lost())).rejects.toThrow(/1 reconnects failed/);
  });
});

describe('SqlLink', () => {
  it('makes the connection again after a loss and runs the query again', async () => {
    let connects = 0;
    const client = { end: () => Promise.resolve() } as unknown as Client;
    const notices: string[] = [];
    const link = new SqlLink(
      () => {
        connects++;
        return Promise.resolve(client);
      },
      new Reconnector('SQL', { sleep: () => Promise.resolve() }),
      (m) => notices.push(m),
    );
    let calls = 0;
    const value = await link.run(() => (++calls === 1 ? Promise.reject(lost()) : Promise.resolve(42)));
    expect({ value, calls, connects }).toEqual({ value: 42, calls: 2, connects: 2 });
    expect(notices).toContain('the SQL connection is back');
    await expect(link.run(() => Promise.reject(new ValidationError('bad query')))).rejects.toThrow('bad query');
  });
});
