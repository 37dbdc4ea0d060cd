/** The structured logger: through a context with an object, as JSON lines without one, never with a secret. */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../shared/errors';
import { IcebridgeError } from '../../shared/errors';
import { type LogTarget, createLogger, errorFields } from '../../shared/telemetry/logger';

function recordingTarget(): LogTarget & { calls: Array<[string, unknown[]]> } {
  const calls: Array<[string, unknown[]]> = [];
  return {
    calls,
    info: (...args) => calls.push(['info', args]),
    warn: (...args) => calls.push(['warn', args]),
    error: (...args) => calls.push(['error', args]),
  };
}

describe('createLogger', () => {
  it('writes through the target with the message and one object of fields', () => {
    const target = recordingTarget();
    createLogger(target, { base: { function: 'startMigration' } }).warn('slow', { instanceId: 'run-1', tables: 3, gone: undefined });
    expect(target.calls).toEqual([['warn', ['slow', { function: 'startMigration', instanceId: 'run-1', tables: 3 }]]]);
  });

  it('writes one JSON object per line without a target', () => {
    const lines: string[] = [];
    createLogger(undefined, { format: 'json', write: (line) => lines.push(line) }).error('commit failed', { table: 'orders' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'error', message: 'commit failed', table: 'orders' });
    expect(Date.parse(entry.time as string)).not.toBeNaN();
  });

  it('writes a readable line on a terminal', () => {
    const lines: string[] = [];
    createLogger(undefined, { format: 'pretty', write: (line) => lines.push(line) }).info('copied', { table: 'orders', note: 'two words' });
    expect(lines[0]).toMatch(/ INFO {2}copied table=orders note="two words"$/);
  });

  it('never lets a credential through, in the message, a field value or a field named for one', () => {
    const target = recordingTarget();
    const lines: string[] = [];
    const secret = 's3cr3t-Pa55';
    for (const logger of [createLogger(target), createLogger(undefined, { format: 'json', write: (line) => lines.push(line) })]) {
      logger.error(`connect to postgresql://migrator:${secret}@db:5432/shop failed`, {
        source: `postgresql://migrator:${secret}@db:5432/shop`,
        storage: `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${secret};EndpointSuffix=core.windows.net`,
        url: `https://a.blob.core.windows.net/c/f?sv=2024&sig=${secret}`,
        storageKey: secret,
        password: secret,
      });
    }
    const written = JSON.stringify(target.calls) + lines.join('\n');
    expect(written).not.toContain(secret);
    expect(written).toContain('postgresql://migrator:***@db:5432/shop');
    expect(written).toContain('AccountName=a');
  });
});

describe('redactSecrets', () => {
  it('keeps text without credentials as it is', () => {
    const text = 'table public.orders: 5 rows at https://a.dfs.core.windows.net/w/orders (partition 3)';
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('errorFields', () => {
  it('names the message and, for product errors, the code', () => {
    expect(errorFields(new IcebridgeError('COMMIT_CONFLICT', 'lost the race'))).toEqual({ error: 'lost the race', code: 'COMMIT_CONFLICT' });
    expect(errorFields(new Error('boom'))).toEqual({ error: 'boom' });
  });
});
