import { describe, expect, it } from 'vitest';
import { driftCommand } from '../../cli/commands/drift';

async function drift(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await driftCommand(argv, { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } }, {});
  return { code, stdout, stderr };
}

describe('icebridge drift, its command line', () => {
  it('shows its options for --help', async () => {
    const { code, stdout } = await drift('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: icebridge drift \[options\]/);
    expect(stdout).toContain('--from-version');
  });

  it.each([
    [['--source', 'postgres://h/db'], '--warehouse is required (except with --against)'],
    [['--warehouse', 'w', '--against', 'postgres://h/b', '--from-version', '1'], 'give --against or --from-version, not both'],
    [['--warehouse', 'w', '--to-version', '2'], '--to-version needs --from-version'],
    [['--against', 'postgres://h/b', '--record'], '--record records the source against the warehouse'],
    [['--warehouse', 'w', '--bogus'], 'bogus'],
  ])('exits 2 for %j', async (argv, message) => {
    const { code, stderr } = await drift(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
