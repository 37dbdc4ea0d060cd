import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flagsCommand, rollbackCommand } from '../../cli/commands/flags';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sandbox(): { env: NodeJS.ProcessEnv; run: (command: typeof flagsCommand, ...argv: string[]) => Promise<{ code: number; out: string; err: string }> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-flags-cli-'));
  dirs.push(dir);
  const env = { ICEBRIDGE_FLAGS_FILE: path.join(dir, 'flags.json') };
  return {
    env,
    run: async (command, ...argv) => {
      let out = '';
      let err = '';
      const code = await command(argv, { write: (s: string) => ((out += s), true) }, { write: (s: string) => ((err += s), true) }, env);
      return { code, out, err };
    },
  };
}

describe('icebridge flags and rollback', () => {
  it('sets with a reason, lists, traces, refuses a stale etag, and rolls back', async () => {
    const { run } = sandbox();
    expect((await run(flagsCommand, 'set', 'use-iceberg-storage', 'on')).code).toBe(2);
    const set = await run(flagsCommand, 'set', 'use-iceberg-storage', 'on', '--reason', 'start reads', '--actor', 'alice');
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/^use-iceberg-storage: absent → on \(etag \S+\)\n$/);
    const first = await run(flagsCommand, 'set', 'iceberg-read-percentage', '10%', '--reason', 'ten percent', '--actor', 'alice', '--json');
    const etag = (JSON.parse(first.out) as { etag: string }).etag;
    expect((await run(flagsCommand, 'set', 'iceberg-read-percentage', '50', '--reason', 'half', '--actor', 'bob')).code).toBe(0);
    const stale = await run(flagsCommand, 'set', 'iceberg-read-percentage', '100', '--reason', 'all', '--if-match', etag);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/^refused: flag iceberg-read-percentage is not at etag/);
    const list = await run(flagsCommand, 'list');
    expect(list.out).toMatch(/iceberg-read-percentage\s+50%/);
    expect(list.out).toMatch(/use-iceberg-storage\s+on/);
    const history = await run(flagsCommand, 'history', 'iceberg-read-percentage');
    expect(history.out.trim().split('\n')).toEqual([
      expect.stringMatching(/alice {2}set {2}iceberg-read-percentage: absent → 10% {2}"ten percent"$/),
      expect.stringMatching(/bob {2}set {2}iceberg-read-percentage: 10% → 50% {2}"half"$/),
    ]);

    const rollback = await run(rollbackCommand, '--reason', 'errors on Iceberg', '--actor', 'oncall');
    expect(rollback.code).toBe(0);
    expect(rollback.out).toMatch(/use-iceberg-storage\s+on → off/);
    expect(rollback.out).toMatch(/iceberg-read-percentage\s+50% → off/);
    expect(rollback.err).toMatch(/^ALERT \{"event":"icebridge.emergency-rollback"/);
    const again = await run(rollbackCommand, '--reason', 'again');
    expect(again.out).toMatch(/already on PostgreSQL: nothing changed/);
    expect((await run(flagsCommand, 'history', '--json')).out).toContain('"action": "rollback"');
  });

  it('answers usage errors with status 2', async () => {
    const { run } = sandbox();
    expect((await run(flagsCommand, 'flip')).code).toBe(2);
    expect((await run(rollbackCommand)).code).toBe(2);
    expect((await run(flagsCommand, 'set', 'bad name!', 'on', '--reason', 'x')).code).toBe(1);
  });
});
