import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../../cli/local-host';

let host: LocalHost;
let probe: typeof import('./fixtures/toy-app.js').probe;
const wait = { timeoutInMs: 20_000 };

beforeAll(async () => {
  host = await LocalHost.load(() => import('./fixtures/toy-app.js').then(() => undefined), { maxConcurrentActivities: 4, log: silentHostLog });
  ({ probe } = await import('./fixtures/toy-app.js'));
});

afterAll(async () => {
  await host.close();
});

describe('local host orchestrations', () => {
  it('runs a sequence of activities through the library replay engine', async () => {
    const id = await host.startOrchestration('sequence', ['Ada', 'Grace', 'Edsger']);
    const status = await host.waitForCompletion(id, wait);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Ada', 'Hello Grace', 'Hello Edsger']);
    const history = host.getHistory(id)!.history;
    // One episode per completion: three activities scheduled with event ids 0, 1, 2, each answered once.
    expect(history.filter((e) => e.EventType === 4).map((e) => [e.EventId, e.Name])).toEqual([
      [0, 'sayHello'],
      [1, 'sayHello'],
      [2, 'sayHello'],
    ]);
    expect(history.filter((e) => e.EventType === 5).map((e) => e.TaskScheduledId)).toEqual([0, 1, 2]);
  });

  it('fans 20 activities out concurrently under the activity limit and fans them back in', async () => {
    probe.maxActive = 0;
    probe.fanOutCalls = 0;
    const id = await host.startOrchestration('fanOut', 20);
    const status = await host.waitForCompletion(id, wait);
    expect(status.output).toBe(2 * ((19 * 20) / 2));
    expect(probe.fanOutCalls).toBe(20);
    expect(probe.maxActive).toBe(4);
  });

  it('turns an activity error into an Error the orchestrator catches, message intact', async () => {
    const id = await host.startOrchestration('catchFailure');
    const { output } = await host.waitForCompletion(id, wait);
    expect(output).toMatchObject({ caught: true, isError: true });
    // The extension's wording: Reason "Activity function '<name>' failed: <message>", then " \n " and the details.
    expect((output as { message: string }).message).toMatch(/^Activity function 'failWith' failed: disk on fire \n /);
  });

  it('retries an activity with the framework schedule and succeeds on the third attempt', async () => {
    const id = await host.startOrchestration('retrying', 'k1');
    const status = await host.waitForCompletion(id, wait);
    expect(status.output).toBe('ok after 3 attempts');
    expect(probe.attempts.get('k1')).toBe(3);
    const history = host.getHistory(id)!.history;
    const kinds = history
      .filter((e) => [4, 5, 6, 10, 11].includes(e.EventType))
      .map((e) => `${e.EventType}:${e.EventId >= 0 ? e.EventId : (e.TaskScheduledId ?? e.TimerId)}`);
    // attempt (0) fails, timer (1), attempt (2) fails, timer (3), attempt (4) succeeds.
    expect(kinds).toEqual(['4:0', '6:0', '10:1', '11:1', '4:2', '6:2', '10:3', '11:3', '4:4', '5:4']);
    // Delays as the framework computes them: first interval, then times the backoff coefficient.
    const delays = history.filter((e) => e.EventType === 10).map((e) => Date.parse(e.FireAt!) - Date.parse(e.Timestamp));
    expect(delays).toEqual([40, 60]);
  });

  it('stops retrying once retryTimeoutInMilliseconds has passed and hands the orchestrator the last error', async () => {
    probe.alwaysFailingCalls = 0;
    const id = await host.startOrchestration('retryUntilTimeout');
    const status = await host.waitForCompletion(id, wait);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatch(/^Activity function 'alwaysFails' failed: still broken \n .*retry timeout of 150 ms had elapsed/);
    expect(probe.alwaysFailingCalls).toBeGreaterThanOrEqual(2);
    expect(probe.alwaysFailingCalls).toBeLessThan(6);
  });

  it('runs sub-orchestrations, with generated and given instance ids, and reports a failing one', async () => {
    const id = await host.startOrchestration('parent', undefined, 'family');
    const status = await host.waitForCompletion(id, wait);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { first: { greeting: string; parent: string }; second: { greeting: string }; failure: string };
    expect(output.first).toEqual({ greeting: 'Hello Ada', parent: 'family' });
    expect(output.second.greeting).toBe('Hello Grace');
    expect(output.failure).toMatch(/^Orchestrator function 'failingChild' failed: child broke/);
    expect(host.getStatus('family-named-child')?.runtimeStatus).toBe('Completed');
    const created = host.getHistory(id)!.history.filter((e) => e.EventType === 7);
    expect(created.map((e) => e.InstanceId)).toEqual([expect.stringMatching(/^[0-9a-f]{32}:0$/), 'family-named-child', expect.stringMatching(/:2$/)]);
  });

  it('retries a failing sub-orchestration under the same instance id until it succeeds', async () => {
    const id = await host.startOrchestration('retryChild', undefined, 'guardian');
    const status = await host.waitForCompletion(id, wait);
    expect(status.output).toBe('child ok on attempt 2');
    expect(host.getStatus('guardian-child')).toMatchObject({ runtimeStatus: 'Completed', output: 'child ok on attempt 2' });
    const created = host.getHistory(id)!.history.filter((e) => e.EventType === 7);
    expect(created.map((e) => [e.EventId, e.InstanceId])).toEqual([
      [0, 'guardian-child'],
      [2, 'guardian-child'],
    ]);
  });

  it('fires durable timers no earlier than asked', async () => {
    const id = await host.startOrchestration('napping');
    const { output } = await host.waitForCompletion(id, wait);
    expect(output).toBeGreaterThanOrEqual(150);
  });

  it('keeps custom status per instance and delivers external events', async () => {
    const id = await host.startOrchestration('withStatus');
    await until(() => (host.getStatus(id)?.customStatus as { phase?: string } | null)?.phase === 'waiting');
    expect(host.getStatus(id)).toMatchObject({ runtimeStatus: 'Running', customStatus: { phase: 'waiting', greeting: 'Hello status' } });
    expect(await host.raiseEvent(id, 'approve', { by: 'ops' })).toBe('accepted');
    const status = await host.waitForCompletion(id, wait);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'Hello status, approved by ops', customStatus: { phase: 'done', by: 'ops' } });
    expect(await host.raiseEvent(id, 'approve', {})).toBe('gone');
  });

  it('lets Task.any pick the first of a timer and an event', async () => {
    const id = await host.startOrchestration('race');
    await until(() => host.getStatus(id)?.runtimeStatus === 'Running');
    await host.raiseEvent(id, 'approve', true);
    expect((await host.waitForCompletion(id, wait)).output).toBe('approved');
  });

  it('continues as new with a fresh history until the countdown ends', async () => {
    const id = await host.startOrchestration('countdown', 2);
    const status = await host.waitForCompletion(id, wait);
    expect(status.output).toBe('lift-off');
    expect(status.input).toBe(0);
    const history = host.getHistory(id)!.history;
    expect(history.find((e) => e.EventType === 0)?.Input).toBe('0');
    expect(history.filter((e) => e.EventType === 4)).toHaveLength(1);
  });

  it('refuses to start a running instance id again and replaces a finished one', async () => {
    const id = await host.startOrchestration('withStatus', undefined, 'once');
    await expect(host.startOrchestration('withStatus', undefined, 'once')).rejects.toThrow(/status (Pending|Running) already exists/);
    expect(await host.terminate(id, 'enough')).toBe('accepted');
    expect(await host.waitForCompletion(id, wait)).toMatchObject({ runtimeStatus: 'Terminated', output: 'enough' });
    await host.startOrchestration('sequence', ['again'], 'once');
    expect(await host.waitForCompletion('once', wait)).toMatchObject({ name: 'sequence', runtimeStatus: 'Completed', output: ['Hello again'] });
  });

  it('fails an orchestration that re-submits already scheduled tasks in a new Task.any, explaining why', async () => {
    const id = await host.startOrchestration('anyLoop');
    const status = await host.waitForCompletion(id, wait);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toMatch(/re-submitted an already scheduled task \(action type 0 'double'\).*azure-functions-durable-js#574/);
  });
});

async function until(condition: () => boolean, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
