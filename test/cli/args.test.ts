import { describe, expect, it } from 'vitest';
import { type FlagSpec, UsageError, intFlag, listFlag, parseCommandLine, parseFlags, usage } from '../../cli/support/args';

const SPECS: FlagSpec[] = [
  { name: 'source', value: true, description: 'where from' },
  { name: 'warehouse', value: true, required: true, description: 'where to' },
  { name: 'json', description: 'as JSON' },
  { name: 'help', description: 'show this help' },
];

function usageError(argv: string[]): string {
  try {
    parseFlags(argv, SPECS);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('command-line parsing', () => {
  it('reads --name value, --name=value and switches', () => {
    expect(parseFlags(['--source', 'postgres://h/db', '--warehouse=./wh', '--json'], SPECS)).toEqual({
      source: 'postgres://h/db',
      warehouse: './wh',
      json: true,
    });
  });

  it('names the problem in short messages', () => {
    expect(usageError(['--warehouse', 'w', '--nope'])).toBe('unknown option --nope');
    expect(usageError(['--warehouse', 'w', 'stray'])).toBe('unexpected argument "stray"');
    expect(usageError(['--warehouse', 'w', '--json=yes'])).toBe('--json takes no value');
    expect(usageError(['--warehouse'])).toBe('--warehouse needs a value');
    expect(usageError(['--source', '--warehouse', 'w'])).toBe('--source needs a value; for a value that starts with "-", write --source=<value>');
    expect(parseFlags(['--warehouse', 'w', '--source=-dash'], SPECS)).toEqual({ warehouse: 'w', source: '-dash' });
    expect(usageError(['--json'])).toBe('--warehouse is required');
  });

  it('takes -h and --help anywhere, even without the required flags', () => {
    expect(parseFlags(['-h'], SPECS)).toEqual({ help: true });
    expect(parseFlags(['--json', '--help'], SPECS)).toEqual({ json: true, help: true });
  });

  it('returns positional arguments only where a command allows them', () => {
    expect(parseCommandLine(['left', '--json', 'right', '--warehouse', 'w'], SPECS, { positionals: true })).toEqual({
      flags: { json: true, warehouse: 'w' },
      positionals: ['left', 'right'],
    });
  });

  it('checks integers and lists', () => {
    expect(intFlag({ n: '4' }, 'n', 2, { max: 8 })).toBe(4);
    expect(intFlag({}, 'n', 2)).toBe(2);
    expect(() => intFlag({ n: '9' }, 'n', 2, { max: 8 })).toThrow('--n must be an integer from 1 to 8, got "9"');
    expect(listFlag({ t: 'a, b,,c' }, 't')).toEqual(['a', 'b', 'c']);
    expect(() => listFlag({ t: ' , ' }, 't')).toThrow('--t needs at least one name');
  });

  it('lists every option in the usage text, -h with --help', () => {
    const text = usage('migrate', 'Summary.', SPECS);
    expect(text).toMatch(/^usage: icebridge migrate \[options\]\n\nSummary\.\n\noptions:\n/);
    expect(text).toMatch(/--warehouse <value> +where to \(required\)/);
    expect(text).toMatch(/-h, --help +show this help/);
  });
});
