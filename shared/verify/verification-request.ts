/**
 * Validation of a verification request (the HTTP body): every field checked for type and range, unknown fields
 * refused, each error naming the field and why.
 */
import { ValidationError } from '../errors';
import { type RunSelection, RUN_SELECTION_FIELDS, integer, object, parseRunSelection, unknownFields } from '../run/request-fields';
import type { VerifyLevel, VerifyTableConfig } from './contracts';

/** A validated request. */
export interface VerificationRequest extends Omit<RunSelection, 'tableConfig'> {
  level: VerifyLevel;
  tableConfig?: Record<string, VerifyTableConfig>;
  maxDifferences?: number;
  samples?: number;
}

/**
 * Verification ids: an idempotency key, or the verification a migration ran (`<migration id>:verify`). ':' is
 * not in the keys' alphabet, so a requested verification never takes a migration's verification id.
 */
export const VERIFICATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}(?::verify)?$/;

const VERIFICATION_FIELDS = new Set<string>([...RUN_SELECTION_FIELDS, 'level', 'maxDifferences', 'samples']);

/** Validates a body; defaults as for migrations (schema public, namespace = schema, concurrency 2), level quick. */
export function parseVerificationRequest(body: unknown): VerificationRequest {
  const o = object(body, 'the request body');
  unknownFields(o, VERIFICATION_FIELDS, 'the request body');
  // The fields a verification shares with a migration are validated by the same rules.
  const common = parseRunSelection(o);
  for (const [table, config] of Object.entries(common.tableConfig ?? {})) {
    if (config.partitionSpec) throw new ValidationError(`tableConfig.${table}.partitionSpec does not apply to a verification`);
  }
  const request: VerificationRequest = {
    schema: common.schema,
    namespace: common.namespace,
    concurrency: common.concurrency,
    level: parseLevel(o.level),
    ...(common.tables ? { tables: common.tables } : {}),
    ...(common.tableConfig ? { tableConfig: common.tableConfig } : {}),
    ...(common.idempotencyKey ? { idempotencyKey: common.idempotencyKey } : {}),
  };
  if (o.maxDifferences !== undefined) request.maxDifferences = integer(o.maxDifferences, 'maxDifferences', 0, 10_000);
  if (o.samples !== undefined) request.samples = integer(o.samples, 'samples', 0, 1_000);
  return request;
}

/** A verification level: quick or full (quick when absent). */
export function parseLevel(value: unknown, what = 'level'): VerifyLevel {
  if (value === undefined) return 'quick';
  if (value !== 'quick' && value !== 'full') throw new ValidationError(`${what} must be "quick" or "full"`);
  return value;
}
