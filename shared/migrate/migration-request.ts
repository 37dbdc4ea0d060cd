/**
 * Validation of a migration request (the HTTP body, or the CLI's options and config file): every field is
 * checked for type and range, unknown fields are refused, and each error says which field and why.
 */
import { ValidationError } from '../errors';
import { type RunSelection, RUN_SELECTION_FIELDS, booleanField, integer, object, parseRunSelection, unknownFields } from '../run/request-fields';
import type { VerifyLevel } from '../verify/contracts';

/** A validated request. */
export interface MigrationRequest extends RunSelection {
  partitionSizeInBytes?: number;
  /** Verification after the copy: quick (default), full, or none. */
  verify: VerifyLevel | 'none';
  /** Hand over to change capture (a publication and a slot whose snapshot the copy reads); present only when true. */
  cdc?: true;
}

const REQUEST_FIELDS = new Set<string>([...RUN_SELECTION_FIELDS, 'partitionSizeInBytes', 'verify', 'cdc']);

/** Validates a request body; defaults schema to "public", namespace to the schema, concurrency to 2, verify to quick. */
export function parseMigrationRequest(body: unknown): MigrationRequest {
  const o = object(body, 'the request body');
  unknownFields(o, REQUEST_FIELDS, 'the request body');
  const request: MigrationRequest = { ...parseRunSelection(o), verify: o.verify === undefined ? 'quick' : verifyLevel(o.verify) };
  if (o.partitionSizeInBytes !== undefined) request.partitionSizeInBytes = integer(o.partitionSizeInBytes, 'partitionSizeInBytes', 2 ** 20, 2 ** 34);
  // Only true is kept: false asks for what an absent field does, and must not make another request of it.
  if (o.cdc !== undefined && booleanField(o.cdc, 'cdc')) request.cdc = true;
  return request;
}

function verifyLevel(value: unknown): VerifyLevel | 'none' {
  if (value !== 'quick' && value !== 'full' && value !== 'none') throw new ValidationError('verify must be "quick", "full" or "none"');
  return value;
}
