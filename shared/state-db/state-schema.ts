/** The state schema's name: configurable, validated, and only ever reaching SQL quoted. */
import { ValidationError } from '../errors';
import { quoteIdent } from '../postgres/identifiers';

/** The schema the state tables live in unless configured otherwise. */
export const DEFAULT_STATE_SCHEMA = 'icebridge';

// A plain identifier: nothing a person would need to quote, so the name reads the same in SQL, docs and logs.
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks a state schema name and returns it quoted for SQL. */
export function quotedStateSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ValidationError(`the state schema name ${JSON.stringify(schema)} is not valid: letters, digits and _, starting with a letter or _, at most 63`);
  }
  if (/^pg_/i.test(schema))
    throw new ValidationError(`the state schema name ${JSON.stringify(schema)} is reserved: names starting with pg_ belong to PostgreSQL`);
  return quoteIdent(schema);
}
