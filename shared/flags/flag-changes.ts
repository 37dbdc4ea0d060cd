/**
 * Changing flags the audited way. `setFlag` writes one flag at the etag the operator read (or the one read just
 * now) and records who, when, why, before and after. `rollbackToPostgres` is the emergency switch: one operation
 * that puts every icebridge flag, default and per-table, back to PostgreSQL. It is idempotent (flags already
 * there are left alone), it wins races by re-reading and writing again (its target state does not depend on what
 * it read), it raises an alert, and it does not depend on Iceberg storage: when the audit trail cannot be written,
 * the flags are flipped anyway and the entries go to the alert instead.
 */
import { ValidationError, errorMessage } from '../errors';
import type { FlagAuditEntry, FlagAuditTrail } from './audit-trail';
import {
  ICEBRIDGE_FLAGS,
  ICEBRIDGE_FLAG_NAMES,
  type FeatureFlag,
  checkFlagName,
  flagPercentage,
  parseFeatureFlag,
  percentageFlag,
  switchFlag,
} from './feature-flag';
import { FlagConflictError, type FlagStore, type StoredFlag, flagDisplayName } from './flag-store';
import { recordFlagChanges } from '../state-db/transaction-log';
import { recordFlagChange, recordRollback } from '../telemetry/metrics';

/** Who changes a flag and why; both are required. */
export interface ChangeAuthor {
  actor: string;
  reason: string;
}

/** One flag's change. */
export interface FlagChange {
  name: string;
  label?: string;
  /** The new document (its id must be `name`). */
  flag: FeatureFlag;
  /** The etag the operator read; a write at any other etag is refused (412). Absent: the etag read now. */
  ifMatch?: string;
}

/** What a change did. */
export interface FlagChangeResult {
  name: string;
  label?: string;
  before: FeatureFlag | null;
  after: FeatureFlag;
  etag: string;
  /** False when the flag already held the document: nothing was written or recorded. */
  changed: boolean;
}

/** Writes one flag, conditionally, and records it. */
export async function setFlag(store: FlagStore, audit: FlagAuditTrail, change: FlagChange, author: ChangeAuthor): Promise<FlagChangeResult> {
  checkAuthor(author);
  checkFlagName(change.name);
  const flag = parseFeatureFlag(change.name, change.flag);
  const current = await store.get(change.name, change.label);
  if (change.ifMatch !== undefined && current?.etag !== change.ifMatch) {
    throw new FlagConflictError(`flag ${flagDisplayName(change.name, change.label)} is not at etag ${change.ifMatch} any more: read it again and retry`);
  }
  if (current !== undefined && sameFlag(current.flag, flag)) return { ...describe(change, current.flag, current.flag, current.etag), changed: false };
  const written = await store.put(flag, change.label, current === undefined ? 'absent' : { etag: current.etag });
  const entry = entryOf('set', author, change.name, change.label, current, written);
  await audit.append(entry);
  recordFlagChange(change.name, change.label);
  await recordFlagChanges([entry]);
  return { ...describe(change, current?.flag ?? null, written.flag, written.etag), changed: true };
}

/** What the emergency rollback answers. */
export interface RollbackResult {
  at: string;
  /** Every icebridge flag record before and after (unchanged ones included). */
  flags: FlagChangeResult[];
  /** False when the audit trail could not be written; the entries went to the alert instead. */
  audited: boolean;
}

/** An alert the caller routes (an error-level log today). */
export interface RollbackAlert {
  event: 'icebridge.emergency-rollback';
  at: string;
  actor: string;
  reason: string;
  changed: string[];
  auditError?: string;
  /** Present only when the audit trail could not be written: the entries it would have held. */
  entries?: FlagAuditEntry[];
}

/** The document that sends a flag's traffic to PostgreSQL. */
export function postgresState(name: string, current: FeatureFlag | undefined): FeatureFlag {
  return switchFlag(name, false, current?.description);
}

/** Puts every icebridge flag (default and per-table) back to PostgreSQL, in one audited, idempotent operation. */
export async function rollbackToPostgres(
  store: FlagStore,
  audit: FlagAuditTrail,
  author: ChangeAuthor,
  alert: (event: RollbackAlert) => unknown,
  attempts = 5,
): Promise<RollbackResult> {
  checkAuthor(author);
  const at = new Date().toISOString();
  const results: FlagChangeResult[] = [];
  const entries: FlagAuditEntry[] = [];
  const records = (await store.list()).filter((f) => (ICEBRIDGE_FLAG_NAMES as readonly string[]).includes(f.name));
  for (const record of records) {
    let current: StoredFlag | undefined = record;
    for (let attempt = 1; ; attempt++) {
      const target = postgresState(record.name, current?.flag);
      if (current !== undefined && isPostgresState(current.flag)) {
        results.push({ ...describe(record, current.flag, current.flag, current.etag), changed: false });
        break;
      }
      try {
        const written = await store.put(target, record.label, current === undefined ? 'absent' : { etag: current.etag });
        entries.push(entryOf('rollback', author, record.name, record.label, current, written, at));
        results.push({ ...describe(record, current?.flag ?? null, written.flag, written.etag), changed: true });
        recordFlagChange(record.name, record.label);
        break;
      } catch (error) {
        // Someone flipped it meanwhile: the target does not depend on what was read, so read again and write it.
        if (!(error instanceof FlagConflictError) || attempt >= attempts) throw error;
        current = await store.get(record.name, record.label);
      }
    }
  }
  const changed = results.filter((r) => r.changed).map((r) => flagDisplayName(r.name, r.label));
  let auditError: string | undefined;
  for (const entry of entries) {
    try {
      await audit.append(entry);
    } catch (error) {
      auditError = `the audit trail at ${audit.location} could not be written: ${errorMessage(error)}`;
      break;
    }
  }
  recordRollback('postgres');
  await alert({ event: 'icebridge.emergency-rollback', at, ...author, changed, ...(auditError ? { auditError, entries } : {}) });
  // After the alert: a state database that is slow to answer must not hold up the emergency's alert.
  await recordFlagChanges(entries);
  return { at, flags: results, audited: auditError === undefined };
}

/** True when the flag sends nothing to Iceberg. */
export function isPostgresState(flag: FeatureFlag): boolean {
  return flagPercentage(flag) === 0;
}

function checkAuthor(author: ChangeAuthor): void {
  if (author.reason.trim() === '') throw new ValidationError('a reason is required for every flag change');
  if (author.actor.trim() === '') throw new ValidationError('the actor of a flag change is unknown');
}

function sameFlag(a: FeatureFlag, b: FeatureFlag): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(
  change: { name: string; label?: string | undefined },
  before: FeatureFlag | null,
  after: FeatureFlag,
  etag: string,
): Omit<FlagChangeResult, 'changed'> {
  return { name: change.name, ...(change.label === undefined ? {} : { label: change.label }), before, after, etag };
}

function entryOf(
  action: FlagAuditEntry['action'],
  author: ChangeAuthor,
  name: string,
  label: string | undefined,
  before: StoredFlag | undefined,
  after: StoredFlag,
  at = after.lastModified,
): FlagAuditEntry {
  return {
    at,
    actor: author.actor,
    action,
    reason: author.reason,
    flag: name,
    ...(label === undefined ? {} : { label }),
    before: before?.flag ?? null,
    after: after.flag,
    ...(before === undefined ? {} : { etagBefore: before.etag }),
    etagAfter: after.etag,
  };
}

/** The flag an operator means by a short value: on/off for switches, a number for the read percentage. */
export function flagFromValue(name: string, value: string, description?: string): FeatureFlag {
  const text = value.trim().toLowerCase();
  if (name === ICEBRIDGE_FLAGS.icebergReadPercentage || /^\d+(\.\d+)?%?$/.test(text)) {
    const percent = Number(text.replace(/%$/, ''));
    if (!Number.isFinite(percent)) throw new ValidationError(`flag ${name}: ${JSON.stringify(value)} is not a percentage`);
    if (percent === 0) return switchFlag(name, false, description);
    if (percent === 100) return switchFlag(name, true, description);
    return percentageFlag(name, percent, description);
  }
  if (['on', 'true', 'enabled'].includes(text)) return switchFlag(name, true, description);
  if (['off', 'false', 'disabled'].includes(text)) return switchFlag(name, false, description);
  throw new ValidationError(`flag ${name}: the value must be on, off or a percentage, found ${JSON.stringify(value)}`);
}
