import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog, type LocalHostListener } from '../../../cli/local-host';

let host: LocalHost;
let listener: LocalHostListener;

beforeAll(async () => {
  host = await LocalHost.load(() => import('./fixtures/toy-app.js').then(() => undefined), { log: silentHostLog, maxRequestBodyInBytes: 1024 });
  listener = await host.listen(0);
});

afterAll(async () => {
  await listener.close();
  await host.close();
});

interface ManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  purgeHistoryDeleteUri: string;
}

async function startThroughHttp(orchestration: string, instanceId: string, input: unknown): Promise<Response> {
  return fetch(`${listener.url}/api/orchestrators/${orchestration}/${instanceId}`, {
    method: 'POST',
    body: JSON.stringify(input),
    headers: { 'content-type': 'application/json' },
  });
}

async function pollUntil(url: string, done: (body: Record<string, unknown>) => boolean): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(url);
    const body = (await response.json()) as Record<string, unknown>;
    if (done(body)) return { status: response.status, body };
    if (Date.now() > deadline) throw new Error(`gave up polling ${url}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('local host HTTP', () => {
  it('starts through client.startNew, answers with the check-status payload, and the status URL tracks the run', async () => {
    const started = await startThroughHttp('withStatus', 'http-1', { any: 'input' });
    expect(started.status).toBe(202);
    const payload = (await started.json()) as ManagementPayload;
    expect(payload.id).toBe('http-1');
    expect(payload.statusQueryGetUri.startsWith(`${listener.url}/runtime/webhooks/durabletask/instances/http-1?`)).toBe(true);
    expect(started.headers.get('location')).toBe(payload.statusQueryGetUri);

    const waiting = await pollUntil(payload.statusQueryGetUri, (body) => (body.customStatus as { phase?: string } | null)?.phase === 'waiting');
    expect(waiting.status).toBe(202);
    expect(waiting.body).toMatchObject({ name: 'withStatus', instanceId: 'http-1', runtimeStatus: 'Running', input: { any: 'input' } });

    // client.getStatus inside an HTTP function goes through the durable client's RPC endpoint.
    const viaClient = await fetch(`${listener.url}/api/status/http-1`);
    expect(await viaClient.json()).toEqual({ runtimeStatus: 'Running', customStatus: { phase: 'waiting', greeting: 'Hello status' }, output: null });

    const approved = await fetch(`${listener.url}/api/approve/http-1`, { method: 'POST', body: JSON.stringify({ by: 'web' }) });
    expect(approved.status).toBe(202);

    const done = await pollUntil(payload.statusQueryGetUri, (body) => body.runtimeStatus === 'Completed');
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ output: 'Hello status, approved by web', customStatus: { phase: 'done', by: 'web' } });
  });

  it('does not start a running instance id twice, and terminates and purges through the management URLs', async () => {
    const first = await startThroughHttp('withStatus', 'http-2', null);
    const payload = (await first.json()) as ManagementPayload;
    const second = await startThroughHttp('withStatus', 'http-2', null);
    // startNew rejects on the host's 409, so the function fails with the host's bare 500.
    expect(second.status).toBe(500);
    expect(host.getHistory('http-2')!.history.filter((e) => e.EventType === 0)).toHaveLength(1);

    const terminated = await fetch(payload.terminatePostUri.replace('{text}', 'stop'), { method: 'POST' });
    expect(terminated.status).toBe(202);
    const final = await pollUntil(payload.statusQueryGetUri, (body) => body.runtimeStatus === 'Terminated');
    expect(final.body.output).toBe('stop');
    expect((await fetch(payload.terminatePostUri.replace('{text}', 'again'), { method: 'POST' })).status).toBe(410);

    expect((await fetch(payload.purgeHistoryDeleteUri, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(payload.statusQueryGetUri)).status).toBe(404);
  });

  it('routes by template, constraint and method, and passes query and params', async () => {
    const greeted = await fetch(`${listener.url}/api/GREET/Bob?shout=true`);
    expect(greeted.status).toBe(200);
    expect(greeted.headers.get('content-type')).toBe('application/json');
    expect(await greeted.json()).toEqual({ hello: 'Bob', shout: true });
    expect((await fetch(`${listener.url}/api/greet/123`)).status).toBe(404);
    expect((await fetch(`${listener.url}/api/greet/Bob`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${listener.url}/greet/Bob`)).status).toBe(404);
  });

  it('echoes a body, writes response headers, and refuses bodies over the limit with 413', async () => {
    const echoed = await fetch(`${listener.url}/api/echo`, { method: 'POST', body: 'ping' });
    expect(echoed.status).toBe(200);
    expect(echoed.headers.get('x-echo')).toBe('yes');
    expect(await echoed.text()).toBe('ping');
    const tooLarge = await fetch(`${listener.url}/api/echo`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(tooLarge.status).toBe(413);
    // Without a content-length the limit applies while reading.
    const chunks = [Buffer.alloc(700, 1), Buffer.alloc(700, 2)];
    const stream = new ReadableStream<Uint8Array>({ pull: (controller) => (chunks.length > 0 ? controller.enqueue(chunks.shift()!) : controller.close()) });
    const streamed = await fetch(`${listener.url}/api/echo`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
  });
});
