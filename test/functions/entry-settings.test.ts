/**
 * The function app's entry module checks its settings as it loads, so a Functions host (Azure, `func start`)
 * without a task hub, or on Azure with a warehouse the instance would lose, stops at start-up naming the setting.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

/** Loads functions/index.ts in a process of its own with exactly `env` (plus PATH), as a host would. */
async function load(env: Record<string, string>): Promise<{ ok: boolean; stderr: string }> {
  try {
    await run(process.execPath, ['--require', 'tsx/cjs', '-e', "require('./functions/index.ts')"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { ok: true, stderr: '' };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: string }).stderr ?? error) };
  }
}

describe('the function app entry module', () => {
  it('loads with the settings a Functions host needs', async () => {
    expect(await load({ FUNCTIONS_WORKER_RUNTIME: 'node', ICEBRIDGE_TASK_HUB: 'icebridge' })).toEqual({ ok: true, stderr: '' });
  }, 120_000);

  it('stops under a Functions host without a task hub, naming the setting', async () => {
    const loaded = await load({ FUNCTIONS_WORKER_RUNTIME: 'node' });
    expect(loaded.ok).toBe(false);
    expect(loaded.stderr).toContain('ICEBRIDGE_TASK_HUB');
  }, 120_000);

  it('stops on Azure when the warehouse is not abfss://, naming the setting', async () => {
    const loaded = await load({
      FUNCTIONS_WORKER_RUNTIME: 'node',
      ICEBRIDGE_TASK_HUB: 'icebridge',
      WEBSITE_INSTANCE_ID: 'x',
      ICEBRIDGE_WAREHOUSE: '.icebridge/warehouse',
    });
    expect(loaded.ok).toBe(false);
    expect(loaded.stderr).toContain('ICEBRIDGE_WAREHOUSE must be an abfss://');
  }, 120_000);
});
