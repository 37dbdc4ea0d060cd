/**
 * The only way an identifier enters SQL. Names reaching these functions come from pg_catalog (see
 * introspect.ts), never straight from user input; quoting is still total so that no name can end the
 * identifier early, whatever it contains.
 */
import { ValidationError } from '../errors';

/** Double-quotes an identifier, doubling embedded quotes: `a"b` -> `"a""b"`. Case and spaces are kept. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new ValidationError('an identifier cannot be empty');
  // PostgreSQL identifiers cannot hold NUL; quoting one would produce SQL the server truncates.
  if (name.includes('\u0000')) throw new ValidationError('an identifier cannot contain a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."name"`, each part quoted. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/**
 * A name as people read it in messages: plain when it is a lowercase SQL-safe word, otherwise quoted like
 * SQL, with control characters escaped so a hostile name cannot break a log line.
 */
export function displayIdent(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name)) return name;
  return `"${escapeControls(name).replace(/"/g, '""')}"`;
}

/** `schema.name` for messages, each part as `displayIdent` shows it. */
export function displayQualified(schema: string, name: string): string {
  return `${displayIdent(schema)}.${displayIdent(name)}`;
}

/** Escapes C0/C1 control characters as `\uXXXX` so text stays on one line. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
