/** Command-line parsing on `node:util` parseArgs: flags as `--name value` or `--name=value`, usage errors exit 2. */
import { parseArgs } from 'node:util';
import { ValidationError, errorMessage } from '../../shared/errors';
import { redactUrl } from '../../shared/postgres/connection';
import { isPostgresUrl } from '../../shared/postgres/source-url';

/** A flag a command accepts. */
export interface FlagSpec {
  name: string;
  /** Takes a value (otherwise a boolean switch). */
  value?: boolean;
  required?: boolean;
  /** One-letter alias (`-h` for `--help`). */
  short?: string;
  description: string;
}

/** Parsed flags: string values, `true` for switches. */
export type ParsedFlags = Record<string, string | true>;

/** A usage error: printed with the command's usage, exit status 2. */
export class UsageError extends ValidationError {}

/** Options of `parseCommandLine`. */
export interface ParseCommandLineOptions {
  /** Positional arguments allowed (otherwise each one is a usage error). */
  positionals?: boolean;
}

/**
 * Parses `argv` against `specs`; throws UsageError naming the problem. `--help` (and `-h`) always parses and
 * lifts the required flags, so help is shown whatever else the line holds.
 */
export function parseCommandLine(argv: string[], specs: FlagSpec[], options: ParseCommandLineOptions = {}): { flags: ParsedFlags; positionals: string[] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const spec of specs) config[spec.name] = { type: spec.value ? 'string' : 'boolean', ...(spec.short ? { short: spec.short } : {}) };
  if (config.help) config.help.short ??= 'h';
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: options.positionals === true });
  } catch (error) {
    throw new UsageError(describeParseError(error, argv));
  }
  const flags: ParsedFlags = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === true || typeof value === 'string') flags[name] = value;
  }
  if (flags.help) return { flags, positionals: parsed.positionals };
  for (const spec of specs) {
    if (spec.required && flags[spec.name] === undefined) throw new UsageError(`--${spec.name} is required`);
  }
  return { flags, positionals: parsed.positionals };
}

/** Parses a command line without positional arguments. */
export function parseFlags(argv: string[], specs: FlagSpec[]): ParsedFlags {
  return parseCommandLine(argv, specs).flags;
}

/** parseArgs' messages are long and suggest `--` tricks; ours name the option and the problem. */
function describeParseError(error: unknown, argv: string[]): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(shownArgument(/'([^']*)'/.exec(message)?.[1] ?? argv.find((a) => !a.startsWith('-')) ?? ''))}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(message)) return `${option} takes no value`;
      if (/ambiguous/.test(message)) return `${option} needs a value; for a value that starts with "-", write ${option}=<value>`;
      return `${option} needs a value`;
    default:
      return message;
  }
}

/** An argument as a message may show it: a URL (a source given without --source) without its password or query. */
function shownArgument(argument: string): string {
  if (isPostgresUrl(argument)) return redactUrl(argument);
  try {
    const url = new URL(argument);
    if (url.password === '' && url.search === '') return argument;
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    return argument;
  }
}

/** A positive integer flag, or the default. */
export function intFlag(flags: ParsedFlags, name: string, fallback: number, { min = 1, max = 1_000_000 } = {}): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A string flag, or undefined. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const raw = flags[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** Comma-separated names (`a,b,"c,d"` is not supported: table names with commas go in the config file). */
export function listFlag(flags: ParsedFlags, name: string): string[] | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one name`);
  return items;
}

/** Usage text for a command; `synopsis` replaces the default `[options]` line tail (positional arguments). */
export function usage(command: string, summary: string, specs: FlagSpec[], synopsis = '[options]'): string {
  const label = (s: FlagSpec): string => `${s.short ? `-${s.short}, ` : s.name === 'help' ? '-h, ' : ''}--${s.value ? `${s.name} <value>` : s.name}`;
  const width = Math.max(...specs.map((s) => label(s).length));
  const lines = specs.map((s) => `  ${label(s).padEnd(width + 1)} ${s.description}${s.required ? ' (required)' : ''}`);
  return `usage: icebridge ${command} ${synopsis}\n\n${summary}\n\noptions:\n${lines.join('\n')}\n`;
}

/** Where a command writes (a stream or a test's capture). */
interface Output {
  write(text: string): unknown;
}

/**
 * A command's line parsed, or the exit status it ends with: 2 after printing the problem and the usage (a usage
 * error, or `check` refusing the flags), 0 after printing the usage for `--help`.
 */
export function parseOrExit(
  argv: string[],
  specs: FlagSpec[],
  usageText: string,
  out: Output,
  err: Output,
  options: ParseCommandLineOptions & { check?: (flags: ParsedFlags) => void } = {},
): { flags: ParsedFlags; positionals: string[] } | number {
  let parsed: { flags: ParsedFlags; positionals: string[] };
  try {
    parsed = parseCommandLine(argv, specs, options);
    if (!parsed.flags.help) options.check?.(parsed.flags);
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${usageText}`);
    return 2;
  }
  if (parsed.flags.help) {
    out.write(usageText);
    return 0;
  }
  return parsed;
}
