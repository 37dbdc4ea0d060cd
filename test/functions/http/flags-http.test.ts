/**
 * The flag endpoints over real HTTP on the local host: GET /api/flags, PUT /api/flags/{name} (reason required,
 * If-Match → 412), POST /api/rollback; changing calls without the local token are refused. The App Service
 * principal check (x-ms-client-principal and the operator role) is judged on its own below.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, type LocalHostListener, silentHostLog } from '../../../cli/local-host';
import { authorizeOperator } from '../../../functions/http/operator-auth';
import type { FlagChangeResult, RollbackResult } from '../../../shared/flags/flag-changes';
import type { StoredFlag } from '../../../shared/flags/flag-store';

const TOKEN = 'local-test-token';
let dir: string;
let host: LocalHost;
let listener: LocalHostListener;
const saved = { ...process.env };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'icebridge-flags-http-'));
  Object.assign(process.env, {
    ICEBRIDGE_FLAGS_FILE: path.join(dir, 'flags.json'),
    ICEBRIDGE_LOCAL_TOKEN: TOKEN,
    ICEBRIDGE_WAREHOUSE: path.join(dir, 'warehouse'),
  });
  host = await LocalHost.load(
    async () => {
      await import('../../../functions/http/flags.js');
    },
    { log: silentHostLog },
  );
  listener = await host.listen(0);
});

afterAll(async () => {
  await listener?.close();
  await host?.close();
  for (const name of ['ICEBRIDGE_FLAGS_FILE', 'ICEBRIDGE_LOCAL_TOKEN', 'ICEBRIDGE_WAREHOUSE']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  rmSync(dir, { recursive: true, force: true });
});

async function call<T = FlagChangeResult>(
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${listener.url}/api/${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-icebridge-actor': 'alice', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

describe('flag endpoints', () => {
  it('flips with a reason, refuses a stale If-Match with 412, lists, and rolls back idempotently', async () => {
    expect(await call<{ flags: StoredFlag[] }>('GET', 'flags')).toEqual({ status: 200, body: { flags: [] } });
    expect((await call('PUT', 'flags/use-iceberg-storage', { value: 'on' })).status).toBe(400);
    const on = await call('PUT', 'flags/use-iceberg-storage', { value: 'on', reason: 'start reads' });
    expect(on).toMatchObject({ status: 200, body: { changed: true, before: null, after: { id: 'use-iceberg-storage', enabled: true } } });
    const ten = await call('PUT', 'flags/iceberg-read-percentage', { value: 10, reason: 'ten', table: 'public.orders' });
    expect(ten.body.after.conditions?.client_filters).toEqual([{ name: 'Microsoft.Percentage', parameters: { Value: 10 } }]);
    await call('PUT', 'flags/iceberg-read-percentage', { value: 50, reason: 'half', table: 'public.orders' });
    const stale = await call(
      'PUT',
      'flags/iceberg-read-percentage',
      { value: 100, reason: 'all', table: 'public.orders' },
      { 'if-match': `"${ten.body.etag}"` },
    );
    expect(stale.status).toBe(412);
    const listed = await call<{ flags: StoredFlag[] }>('GET', 'flags');
    expect(listed.body.flags.map((f) => `${f.name}|${f.label ?? ''}`).sort()).toEqual(['iceberg-read-percentage|public.orders', 'use-iceberg-storage|']);

    const rolled = await call<RollbackResult>('POST', 'rollback', { reason: 'emergency' });
    expect(rolled.status).toBe(200);
    expect(rolled.body.flags.map((f) => [f.name, f.changed, f.after.enabled]).sort()).toEqual([
      ['iceberg-read-percentage', true, false],
      ['use-iceberg-storage', true, false],
    ]);
    const again = await call<RollbackResult>('POST', 'rollback', { reason: 'again' });
    expect(again.body.flags.every((f) => !f.changed)).toBe(true);
  });

  it('refuses changing calls without the local token, and reads need none', async () => {
    expect((await call('PUT', 'flags/dual-write-mode', { value: 'on', reason: 'x' }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await call('POST', 'rollback', { reason: 'x' }, { authorization: '' })).status).toBe(401);
    expect((await call('GET', 'flags', undefined, { authorization: '' })).status).toBe(200);
  });
});

describe('operator authorisation on Azure', () => {
  const azure = { WEBSITE_INSTANCE_ID: 'instance-1' };
  const principal = (roles: string[]) =>
    Buffer.from(
      JSON.stringify({
        auth_typ: 'aad',
        name_typ: 'name',
        role_typ: 'roles',
        claims: [{ typ: 'name', val: 'Ada Operator' }, ...roles.map((val) => ({ typ: 'roles', val }))],
      }),
    ).toString('base64');
  const request = (headers: Record<string, string>) => new HttpRequest({ method: 'PUT', url: 'https://app.example/api/flags/x', headers });

  it('admits a signed-in principal with the operator role, naming them as the actor', () => {
    expect(authorizeOperator(request({ 'x-ms-client-principal': principal(['icebridge.operator']) }), azure)).toEqual({ actor: 'Ada Operator' });
    expect(authorizeOperator(request({ 'x-ms-client-principal': principal(['ops']) }), { ...azure, ICEBRIDGE_OPERATOR_ROLE: 'ops' })).toEqual({
      actor: 'Ada Operator',
    });
  });

  it('refuses a function key alone, a principal without the role, and any change where nothing can tell who calls', () => {
    const status = (check: ReturnType<typeof authorizeOperator>) => ('response' in check ? check.response.status : 200);
    expect(status(authorizeOperator(request({ 'x-functions-key': 'key' }), azure))).toBe(401);
    expect(status(authorizeOperator(request({ 'x-ms-client-principal': principal(['reader']) }), azure))).toBe(403);
    expect(status(authorizeOperator(request({ 'x-ms-client-principal': 'not base64 json' }), azure))).toBe(401);
    expect(status(authorizeOperator(request({ 'x-ms-client-principal': principal(['icebridge.operator']) }), {}))).toBe(403);
  });
});
