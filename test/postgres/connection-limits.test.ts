/**
 * The instance's cap on source connections (a semaphore shared by threads) and the long backoff of "too many
 * connections", with an injected clock and sleep so nothing depends on timing.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { IcebridgeError } from '../../shared/errors';
import { connectWithBackoff, isNoSlotError } from '../../shared/postgres/connect-backoff';
import { CONNECTION_GATE_TIMEOUT, ConnectionGate } from '../../shared/postgres/connection-gate';
import { toPostgresError } from '../../shared/postgres/postgres-errors';

/** What pg throws when the server has no slot: a server error with SQLSTATE 53300. */
function tooMany(): Error {
  return Object.assign(new Error('sorry, too many clients already'), { code: '53300', severity: 'FATAL' });
}

const target = { host: '10.0.0.5', port: 5432, database: 'shop', user: 'app' };

/** A clock that only moves when the code under test sleeps. */
function fakeTime(): { sleeps: number[]; sleep: (ms: number) => Promise<void>; now: () => number } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

describe('connection backoff', () => {
  it('waits out "too many connections" for minutes with growing, jittered pauses, then connects', async () => {
    const time = fakeTime();
    let calls = 0;
    const client = await connectWithBackoff(
      async () => {
        calls++;
        if (calls <= 6) throw toPostgresError(tooMany(), { operation: 'connect', target });
        return 'connected';
      },
      { sleep: time.sleep, random: () => 0.5 },
    );
    expect(client).toBe('connected');
    expect(calls).toBe(7);
    // Each pause is uniform in [delay/2, delay]; with random 0.5 it is 3/4 of 1, 2, 4, 8, 16, 30 s.
    expect(time.sleeps).toEqual([750, 1500, 3000, 6000, 12000, 22500]);
  });

  it('gives up after the wait budget (three minutes by default) with a retryable error saying how long it tried', async () => {
    const time = fakeTime();
    let calls = 0;
    const failure = await connectWithBackoff(
      async () => {
        calls++;
        throw toPostgresError(tooMany(), { operation: 'connect', target });
      },
      { sleep: time.sleep, random: () => 1 },
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IcebridgeError);
    expect((failure as IcebridgeError).retryable).toBe(true);
    expect((failure as IcebridgeError).message).toMatch(
      /too many clients already \[SQLSTATE 53300\] \(still no free connection after \d+ attempts over 180 s\)/,
    );
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(180_000);
    // Far more than the activity retry's three attempts in 14 s.
    expect(calls).toBeGreaterThan(8);
    expect(Math.max(...time.sleeps)).toBeLessThanOrEqual(30_000);
  });

  it('does not retry other failures: a wrong password fails at once', async () => {
    const time = fakeTime();
    let calls = 0;
    const auth = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    await expect(
      connectWithBackoff(
        async () => {
          calls++;
          throw toPostgresError(auth, { operation: 'connect', target });
        },
        { sleep: time.sleep },
      ),
    ).rejects.toMatchObject({ code: 'POSTGRES_AUTH_FAILED' });
    expect(calls).toBe(1);
    expect(time.sleeps).toEqual([]);
    expect(isNoSlotError(tooMany())).toBe(true);
    expect(isNoSlotError(Object.assign(new Error('starting up'), { code: '57P03' }))).toBe(true);
    expect(isNoSlotError(auth)).toBe(false);
  });
});

describe('connection gate', () => {
  it('holds at most its limit, hands a freed permit to a waiter, and times out as retryable', async () => {
    const gate = new ConnectionGate(2);
    const a = gate.tryAcquire()!;
    const b = gate.tryAcquire()!;
    expect(gate.tryAcquire()).toBeUndefined();
    expect(gate.held).toBe(2);

    const time = fakeTime();
    let polls = 0;
    const waiting = gate.acquire({
      now: time.now,
      sleep: async (ms) => {
        await time.sleep(ms);
        // The holder finishes while the waiter polls.
        if (++polls === 3) a();
      },
    });
    const c = await waiting;
    expect(polls).toBe(3);
    expect(gate.held).toBe(2);
    a(); // a second release of the same permit does nothing
    expect(gate.held).toBe(2);

    const late = fakeTime();
    await expect(gate.acquire({ now: late.now, sleep: late.sleep, timeoutInMs: 5_000 })).rejects.toMatchObject({
      code: CONNECTION_GATE_TIMEOUT,
      retryable: true,
      message: expect.stringContaining('all 2 PostgreSQL connections') as unknown,
    });
    expect(late.now()).toBeGreaterThanOrEqual(5_000);
    b();
    c();
    expect(gate.held).toBe(0);
  });

  it("is one cap across threads, and a dead thread's permits are freed by its owner", async () => {
    const gate = new ConnectionGate(3);
    const mine = gate.tryAcquire()!;
    // A worker attaches to the same memory and takes the two permits left, then exits without releasing them.
    const source = `
      const { workerData, parentPort, threadId } = require('node:worker_threads');
      const cells = new Int32Array(workerData);
      let taken = 0;
      for (let i = 0; i < cells.length; i++) if (Atomics.compareExchange(cells, i, 0, threadId + 1) === 0) taken++;
      parentPort.postMessage(taken);`;
    const worker = new Worker(source, { eval: true, workerData: gate.buffer });
    const id = worker.threadId;
    const taken = await new Promise<number>((resolve) => worker.once('message', resolve));
    await new Promise((resolve) => worker.once('exit', resolve));
    expect(taken).toBe(2);
    expect(gate.held).toBe(3);
    expect(gate.tryAcquire()).toBeUndefined();
    expect(gate.releaseThread(id)).toBe(2);
    expect(gate.held).toBe(1);
    mine();
    expect(gate.held).toBe(0);
  });
});
