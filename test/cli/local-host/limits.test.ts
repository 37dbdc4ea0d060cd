import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog, type LocalHostLoadOptions } from '../../../cli/local-host';
import { formatTimeSpan } from '../../../cli/local-host/limits';

const wait = { timeoutInMs: 20_000 };
const hosts: LocalHost[] = [];
const temps: string[] = [];

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.close()));
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function load(options: LocalHostLoadOptions = {}): Promise<LocalHost> {
  const host = await LocalHost.load(() => import('./fixtures/toy-app.js').then(() => undefined), { log: silentHostLog, ...options });
  hosts.push(host);
  return host;
}

describe("the local host enforces Durable's limits", () => {
  it('fails an orchestration whose custom status is over 16 KB as UTF-16 JSON, naming the instance and the size', async () => {
    const host = await load();
    // 8,191 characters + 2 quotes = 8,193 UTF-16 units = 16,386 bytes: just over; 8,190 is exactly 16,384 bytes.
    const over = await host.startOrchestration('statusOfLength', 8_191, 'status-over');
    const within = await host.startOrchestration('statusOfLength', 8_190, 'status-within');
    const failed = await host.waitForCompletion(over, wait);
    expect(failed.runtimeStatus).toBe('Failed');
    expect(String(failed.output)).toContain("The custom status of instance 'status-over' is 16386 bytes as UTF-16 JSON");
    expect(String(failed.output)).toContain('must not exceed 16 KB');
    expect((await host.waitForCompletion(within, wait)).runtimeStatus).toBe('Completed');
  });

  it('fails an activity whose result is over the message limit; the orchestrator gets the reason', async () => {
    const host = await load({ limits: { maxPayloadInBytes: 1_000 } });
    const big = await host.startOrchestration('catching', { activity: 'sized', input: 999 });
    const small = await host.startOrchestration('catching', { activity: 'sized', input: 900 });
    const output = (await host.waitForCompletion(big, wait)).output as { error?: string };
    expect(output.error).toMatch(/The result of activity 'sized' \(instance '\w+'\) is 1001 bytes of JSON, over the 1000-byte message limit/);
    expect((await host.waitForCompletion(small, wait)).output).toEqual({ ok: 'x'.repeat(900) });
    // The orchestration's own output counts too: 998 characters pass the activity but not the orchestration.
    const output998 = await host.waitForCompletion(await host.startOrchestration('catching', { activity: 'sized', input: 998 }), wait);
    expect(String(output998.output)).toMatch(/The output of orchestration 'catching' \(instance '\w+'\) is 1007 bytes/);
  });

  it('has a 1 MiB message limit by default and refuses an oversized start or event', async () => {
    const host = await load();
    const big = await host.startOrchestration('catching', { activity: 'sized', input: 1024 * 1024 });
    expect(((await host.waitForCompletion(big, wait)).output as { error?: string }).error).toContain('over the 1048576-byte message limit');
    await expect(host.startOrchestration('sequence', ['x'.repeat(1024 * 1024)])).rejects.toThrow(
      /The input of orchestration 'sequence'.* is \d+ bytes of JSON/,
    );
    const waiting = await host.startOrchestration('awaitApproval');
    await expect(host.raiseEvent(waiting, 'approve', 'x'.repeat(1024 * 1024))).rejects.toThrow(/The data of event 'approve'/);
    await host.terminate(waiting, 'done');
  });

  it('fails an activity that runs past functionTimeout and drops its late result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'local-host-limits-'));
    temps.push(dir);
    const hostJson = path.join(dir, 'host.json');
    await writeFile(
      hostJson,
      JSON.stringify({ version: '2.0', functionTimeout: '00:00:00.2', extensions: { durableTask: { maxConcurrentActivityFunctions: 3 } } }),
    );
    const host = await load({ hostJson });
    const id = await host.startOrchestration('catching', { activity: 'blockedUntilOpened', input: 'timeout' });
    const status = await host.waitForCompletion(id, wait);
    expect((status.output as { error?: string }).error).toMatch(
      /Timeout value of 00:00:00\.2000000 exceeded by function 'Functions\.blockedUntilOpened' \(Id: '[0-9a-f-]+'\)\. Initiating cancellation\./,
    );
    // The activity only finishes now, long after its timeout: its result must not reach the orchestration.
    const { barrier } = await import('./fixtures/toy-app.js');
    const gate = barrier('timeout');
    gate.open();
    for (let i = 0; i < 100 && !gate.finished; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(gate.finished).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const completions = host.getHistory(id)!.history.filter((event) => event.EventType === 5 || event.EventType === 6);
    expect(
      completions.map((event) => event.EventType),
      'one TaskFailed, no TaskCompleted',
    ).toEqual([6]);
  });

  it("keeps a timed-out activity's slot until the invocation really ends", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'local-host-limits-'));
    temps.push(dir);
    const hostJson = path.join(dir, 'host.json');
    await writeFile(
      hostJson,
      JSON.stringify({ version: '2.0', functionTimeout: '00:00:00.2', extensions: { durableTask: { maxConcurrentActivityFunctions: 1 } } }),
    );
    const host = await load({ hostJson });
    const stuck = await host.startOrchestration('catching', { activity: 'blockedUntilOpened', input: 'slot-held' });
    expect(((await host.waitForCompletion(stuck, wait)).output as { error?: string }).error).toMatch(/Timeout value/);
    // The one slot is still taken by the invocation that timed out: the next activity waits for it.
    const next = await host.startOrchestration('catching', { activity: 'sayHello', input: 'after' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(host.getStatus(next)!.runtimeStatus).toBe('Running');
    const { barrier } = await import('./fixtures/toy-app.js');
    barrier('slot-held').open();
    expect((await host.waitForCompletion(next, wait)).output).toEqual({ ok: 'Hello after' });
  });

  it('runs at most host.json maxConcurrentActivityFunctions activities at once; an explicit option wins', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'local-host-limits-'));
    temps.push(dir);
    const hostJson = path.join(dir, 'host.json');
    await writeFile(hostJson, JSON.stringify({ extensions: { durableTask: { maxConcurrentActivityFunctions: 3 } } }));
    const { probe } = await import('./fixtures/toy-app.js');
    for (const [options, expected] of [
      [{ hostJson }, 3],
      [{ hostJson, maxConcurrentActivities: 2 }, 2],
    ] as const) {
      const host = await load(options);
      probe.maxActive = 0;
      await host.waitForCompletion(await host.startOrchestration('fanOut', 12), wait);
      expect(probe.maxActive).toBe(expected);
    }
  });

  it('formats timeouts as .NET prints a TimeSpan', () => {
    expect([formatTimeSpan(600_000), formatTimeSpan(200), formatTimeSpan(90_061_500)]).toEqual(['00:10:00', '00:00:00.2000000', '1.01:01:01.5000000']);
  });

  it('fails an execution past maxOrchestrationActions with the extension message', async () => {
    const host = await load({ limits: { maxOrchestrationActions: 5 } });
    const within = await host.startOrchestration('greetMany', 5);
    const over = await host.startOrchestration('greetMany', 6);
    expect((await host.waitForCompletion(within, wait)).runtimeStatus).toBe('Completed');
    const failed = await host.waitForCompletion(over, wait);
    expect(failed.runtimeStatus).toBe('Failed');
    expect(failed.output).toBe(
      "Orchestrator function 'greetMany' failed: Maximum amount of orchestration actions (5) has been reached. This value can be configured in host.json file as MaxOrchestrationActions.",
    );
  });

  it('reads maxOrchestrationActions from host.json; an explicit option wins', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'local-host-limits-'));
    temps.push(dir);
    const hostJson = path.join(dir, 'host.json');
    await writeFile(hostJson, JSON.stringify({ extensions: { durableTask: { maxOrchestrationActions: 2 } } }));
    const fromFile = await load({ hostJson });
    expect((await fromFile.waitForCompletion(await fromFile.startOrchestration('greetMany', 3), wait)).runtimeStatus).toBe('Failed');
    const explicit = await load({ hostJson, limits: { maxOrchestrationActions: 3 } });
    expect((await explicit.waitForCompletion(await explicit.startOrchestration('greetMany', 3), wait)).runtimeStatus).toBe('Completed');
  });

  it('fails an execution whose history outgrows the ceiling', async () => {
    const host = await load({ limits: { maxHistoryInBytes: 4_000 } });
    const id = await host.startOrchestration(
      'sequence',
      Array.from({ length: 40 }, (_, i) => `name-${i}`),
    );
    const failed = await host.waitForCompletion(id, wait);
    expect(failed.runtimeStatus).toBe('Failed');
    expect(String(failed.output)).toMatch(/The history of instance '\w+' reached \d+ bytes, over the 4000-byte ceiling/);
  });

  it('accepts and drops a duplicate start of a running instance with Azure Storage semantics; refuses it by default', async () => {
    const azure = await load({ startRace: 'azure-storage' });
    await azure.startOrchestration('awaitApproval', { first: true }, 'race-1');
    expect(await azure.startOrchestration('awaitApproval', { second: true }, 'race-1')).toBe('race-1');
    expect(azure.getStatus('race-1')!.input).toEqual({ first: true });
    await azure.raiseEvent('race-1', 'approve', 'ok');
    expect((await azure.waitForCompletion('race-1', wait)).output).toBe('ok');

    const strict = await load();
    await strict.startOrchestration('awaitApproval', null, 'race-2');
    await expect(strict.startOrchestration('awaitApproval', null, 'race-2')).rejects.toThrow(/already exists/);
    await strict.terminate('race-2', 'done');
  });
});
