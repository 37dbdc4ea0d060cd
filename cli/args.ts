/** Command-line parsing without dependencies: flags as `--name value` or `--name=value`, usage errors exit 2. */
import { ValidationError } from '../shared/errors';

/** A flag a command accepts. */
export interface FlagSpec {
  name: string;
  /** Takes a value (otherwise a boolean switch). */
  value?: boolean;
  required?: boolean;
  description: string;
}

/** Parsed flags: string values, `true` for switches. */
export type ParsedFlags = Record<string, string | true>;

/** A usage error: printed with the command's usage, exit status 2. */
export class UsageError extends ValidationError {}

/** Parses `argv` against `specs`; throws UsageError naming the problem. */
export function parseFlags(argv: string[], specs: FlagSpec[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (!spec.value) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    out[name] = value;
  }
  for (const spec of specs) if (spec.required && out[spec.name] === undefined) throw new UsageError(`--${spec.name} is required`);
  return out;
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
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one name`);
  return items;
}

/** Usage text for a command. */
export function usage(command: string, summary: string, specs: FlagSpec[]): string {
  const width = Math.max(...specs.map((s) => s.name.length + (s.value ? 8 : 0)));
  const lines = specs.map((s) => `  --${(s.value ? `${s.name} <value>` : s.name).padEnd(width + 2)} ${s.description}${s.required ? ' (required)' : ''}`);
  return `usage: icebridge ${command} [options]\n\n${summary}\n\noptions:\n${lines.join('\n')}\n`;
}
