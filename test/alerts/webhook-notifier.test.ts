/**
 * The webhook notifier against a real local HTTP receiver: a 500 is retried and the alert lands once; raising the
 * same incident again (from the same or another notifier, or two at once) sends nothing; a delivery that gives up
 * leaves the incident to the next raise; the URL, which carries the webhook's credential, appears in no outcome and
 * no log line. And the emergency rollback command raises its alert through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rollbackCommand } from '../../cli/commands/flags';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { freePort } from '../../cli/support/free-port';
import type { Alert } from '../../shared/alerts/alert';
import { IncidentStore } from '../../shared/alerts/incident-store';
import { WebhookNotifier } from '../../shared/alerts/webhook-notifier';
import { createFileIO } from '../../shared/iceberg/io';
import { Receiver } from './support/webhook-receiver';

const SECRET = 's3cret-token-do-not-log';

const receiver = new Receiver(SECRET);
const dirs: string[] = [];
beforeAll(() => receiver.start());
afterAll(() => receiver.stop());
afterEach(() => {
  receiver.received.length = 0;
  receiver.script = [200];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function warehouse(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-alerts-'));
  dirs.push(dir);
  return dir;
}

function notifier(root: string, logs: string[], url = receiver.url): WebhookNotifier {
  return new WebhookNotifier({ url, incidents: new IncidentStore(createFileIO(root), root), retryDelayInMs: 10, attempts: 3, log: (m) => void logs.push(m) });
}

const stalled: Alert = {
  condition: 'migration-stalled',
  severity: 'critical',
  subject: 'run-42',
  slot: '2026-12-06T09:00:00.000Z',
  title: 'Migration run-42 has made no progress for 31 minutes',
  text: 'Run run-42 is copying.',
  facts: [{ name: 'phase', value: 'copying' }],
};

describe('WebhookNotifier', () => {
  it('retries after a 500 and delivers once; the same incident raised again sends nothing', async () => {
    const root = warehouse();
    const logs: string[] = [];
    receiver.script = [500, 200];
    expect(await notifier(root, logs).notify(stalled)).toEqual({ outcome: 'sent', attempts: 2, deduplicated: true });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.body).toMatchObject({
      text: expect.stringContaining('Migration run-42 has made no progress') as unknown,
      '@type': 'MessageCard',
      title: 'icebridge: Migration run-42 has made no progress for 31 minutes',
      sections: [{ facts: expect.arrayContaining([{ name: 'condition', value: 'migration-stalled' }]) as unknown }],
    });
    expect(await notifier(root, logs).notify(stalled)).toEqual({ outcome: 'duplicate', why: 'sent' });
    expect(await notifier(root, logs).notify({ ...stalled, title: 'worded differently' })).toEqual({ outcome: 'duplicate', why: 'sent' });
    expect(receiver.received).toHaveLength(2);
    expect((await notifier(root, logs).notify({ ...stalled, slot: '2026-12-06T10:00:00.000Z' })).outcome).toBe('sent');
    expect(receiver.received).toHaveLength(3);
    expect(logs.join('\n')).not.toContain(SECRET);
  });

  it('two notifiers raising one incident at once send it once', async () => {
    const root = warehouse();
    const outcomes = await Promise.all([notifier(root, []).notify(stalled), notifier(root, []).notify(stalled), notifier(root, []).notify(stalled)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'duplicate', 'sent']);
    expect(receiver.received).toHaveLength(1);
  });

  it('gives up without the URL in its outcome or logs, and the next raise tries again', async () => {
    const root = warehouse();
    const logs: string[] = [];
    receiver.script = [503];
    const failed = await notifier(root, logs).notify(stalled);
    expect(failed).toEqual({ outcome: 'failed', attempts: 3, reason: 'the webhook answered HTTP 503' });
    receiver.script = [400];
    expect(await notifier(root, logs).notify(stalled)).toEqual({ outcome: 'failed', attempts: 1, reason: 'the webhook answered HTTP 400' });
    receiver.script = [200];
    expect((await notifier(root, logs).notify(stalled)).outcome).toBe('sent');
    expect(receiver.received).toHaveLength(5);

    const closed = `http://127.0.0.1:${await freePort()}/webhook/${SECRET}`;
    const unreachable = await notifier(warehouse(), logs, closed).notify(stalled);
    expect(unreachable).toEqual({ outcome: 'failed', attempts: 3, reason: 'the webhook could not be reached (ECONNREFUSED)' });
    expect(JSON.stringify([failed, unreachable])).not.toContain(SECRET);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain('127.0.0.1');
  });
});

describe('POST /api/rollback', () => {
  it('raises the emergency alert through the webhook, as the command does', async () => {
    const dir = warehouse();
    const names = ['ICEBRIDGE_FLAGS_FILE', 'ICEBRIDGE_LOCAL_TOKEN', 'ICEBRIDGE_WAREHOUSE', 'ICEBRIDGE_ALERT_WEBHOOK_URL'] as const;
    const saved = names.map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, {
      ICEBRIDGE_FLAGS_FILE: path.join(dir, 'flags.json'),
      ICEBRIDGE_LOCAL_TOKEN: 'alert-test-token',
      ICEBRIDGE_WAREHOUSE: path.join(dir, 'warehouse'),
      ICEBRIDGE_ALERT_WEBHOOK_URL: receiver.url,
    });
    const host = await LocalHost.load(
      async () => {
        await import('../../functions/http/flags.js');
      },
      { log: silentHostLog },
    );
    const listener = await host.listen(0);
    try {
      const response = await fetch(`${listener.url}/api/rollback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer alert-test-token', 'x-icebridge-actor': 'oncall' },
        body: JSON.stringify({ reason: 'reads are wrong' }),
      });
      expect(response.status).toBe(200);
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]!.body).toMatchObject({ text: expect.stringContaining('Emergency rollback to PostgreSQL by oncall') as unknown });
    } finally {
      await listener.close();
      await host.close();
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('icebridge rollback', () => {
  it('raises the emergency alert through the webhook, once per rollback', async () => {
    const dir = warehouse();
    const env = {
      ICEBRIDGE_FLAGS_FILE: path.join(dir, 'flags.json'),
      ICEBRIDGE_WAREHOUSE: path.join(dir, 'warehouse'),
      ICEBRIDGE_ALERT_WEBHOOK_URL: receiver.url,
    };
    let err = '';
    const run = (): Promise<number> =>
      rollbackCommand(['--reason', 'reads are wrong', '--actor', 'oncall'], { write: () => true }, { write: (s: string) => ((err += s), true) }, env);
    expect(await run()).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.body).toMatchObject({ text: expect.stringContaining('Emergency rollback to PostgreSQL by oncall') as unknown });
    expect(err).not.toContain(SECRET);
  });
});
