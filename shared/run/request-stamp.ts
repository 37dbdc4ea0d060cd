/**
 * Start idempotency for migrations and verifications alike: what a start stores in its run's input, and the
 * hash and field-by-field comparison of two normalized requests.
 */
import { createHash } from 'node:crypto';

/**
 * What a start stores in its run's input, so a later start with the same key can tell whether it asked for the
 * same run (the hash of the normalized request) and whether it was the one that started it (its own token).
 */
export interface RequestStamp {
  requestHash: string;
  startToken: string;
}

/** Input fields that name or stamp a run rather than say what it does. */
const IDENTITY_FIELDS = new Set(['runId', 'verificationId', 'requestHash', 'startToken']);
/** Input fields whose request field has another name. */
const REQUEST_NAMES: Readonly<Record<string, string>> = { sourceSchema: 'schema' };

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function requestFields(input: object): Array<[string, unknown]> {
  return Object.entries(input).filter(([k, v]) => !IDENTITY_FIELDS.has(k) && v !== undefined);
}

/** Hash of a run's normalized input (defaults applied), leaving out its id and stamp. */
export function requestHash(input: object): string {
  return createHash('sha256')
    .update(canonicalJson(Object.fromEntries(requestFields(input))))
    .digest('hex');
}

/** The request fields in which two normalized inputs differ, by their request names, sorted. */
export function requestDifferences(a: object, b: object): string[] {
  const left = new Map(requestFields(a));
  const right = new Map(requestFields(b));
  const names = new Set([...left.keys(), ...right.keys()]);
  return [...names]
    .filter((k) => canonicalJson(left.get(k)) !== canonicalJson(right.get(k)))
    .map((k) => REQUEST_NAMES[k] ?? k)
    .sort();
}
