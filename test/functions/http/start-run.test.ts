/**
 * Starts that tell the truth where the backend accepts every start of one id and drops the duplicates later, as
 * Azure Storage does: the durable client is a stand-in (a third-party interface) that accepts every startNew and
 * keeps only the first input, with the test deciding when each start lands.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { startRun } from '../../../functions/http/run-control';

const KIND = { what: 'migration', route: 'migrations', idPattern: /^[\w-]+$/, orchestration: 'migrateDatabase' };

/** A task hub that accepts every start and keeps the first one's input for the id, like Azure Storage's dedupe. */
function acceptingHub(): { client: df.DurableClient; starts: number } {
  const instances = new Map<string, { name: string; input: unknown }>();
  const hub = {
    starts: 0,
    client: {
      getStatus: async (instanceId: string) => {
        const instance = instances.get(instanceId);
        if (!instance) throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response. ${instanceId}`);
        return { name: instance.name, instanceId, runtimeStatus: 'Running', input: instance.input, customStatus: null, output: null };
      },
      startNew: async (name: string, options: { instanceId: string; input: unknown }) => {
        hub.starts++;
        if (!instances.has(options.instanceId)) instances.set(options.instanceId, { name, input: options.input });
        return options.instanceId;
      },
    } as unknown as df.DurableClient,
  };
  return hub;
}

const request = (): HttpRequest => new HttpRequest({ method: 'POST', url: 'http://127.0.0.1:7071/api/migrations' });
const context = (): InvocationContext => new InvocationContext({ functionName: 'startMigration' });
const input = (tables: string[]) => ({ runId: 'k', sourceSchema: 'shop', namespace: 'shop', concurrency: 2, tables, verify: 'quick' });

describe('startRun against a backend that accepts duplicate starts', () => {
  it('tells racing posts of one key apart: one started it, the same request already runs, another request is a 409', async () => {
    const hub = acceptingHub();
    // All three look before any starts: each finds nothing and starts, as racing requests do.
    const answers = await Promise.all([
      startRun(request(), context(), KIND, 'k', input(['a']), hub.client),
      startRun(request(), context(), KIND, 'k', input(['a']), hub.client),
      startRun(request(), context(), KIND, 'k', input(['b']), hub.client),
    ]);
    expect(hub.starts).toBe(3);
    expect(answers.map((a) => [a.status, (a.jsonBody as { alreadyStarted?: boolean }).alreadyStarted])).toEqual([
      [202, false],
      [202, true],
      [409, undefined],
    ]);
    expect(answers[2]!.jsonBody).toMatchObject({ error: 'conflict', differences: ['tables'] });
    // Later posts find the run: the same request is told it runs, another is refused, and nothing is started.
    const same = await startRun(request(), context(), KIND, 'k', input(['a']), hub.client);
    expect(same.jsonBody).toMatchObject({ id: 'k', alreadyStarted: true });
    expect((await startRun(request(), context(), KIND, 'k', input(['a', 'b']), hub.client)).status).toBe(409);
    expect(hub.starts).toBe(3);
  });
});
