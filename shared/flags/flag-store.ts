/**
 * Where flags are kept: Azure App Configuration, or a local file with the same key-value records. Every write is
 * conditional on the etag the writer read (App Configuration's `If-Match`, `onlyIfUnchanged`), so two operators
 * flipping the same flag cannot overwrite each other: one wins, the other gets a FlagConflictError (HTTP 412).
 */
import { IcebridgeError } from '../errors';
import type { FeatureFlag } from './feature-flag';

/** A flag as stored: its document, the label it is stored under (undefined: the default, no label) and its etag. */
export interface StoredFlag {
  name: string;
  /** A per-table override carries the table's name as its label; the default has none. */
  label: string | undefined;
  flag: FeatureFlag;
  /** Opaque version of the stored record; a conditional write names it. */
  etag: string;
  /** When the record was last written (ISO 8601). */
  lastModified: string;
}

/** What a conditional write expects to find: the record at this etag, or no record at all. */
export type WriteCondition = { etag: string } | 'absent';

/** A store of flags with conditional writes. */
export interface FlagStore {
  /** Where the flags are, for messages (never a secret). */
  readonly description: string;
  /** Every flag record, default and per-label. */
  list(): Promise<StoredFlag[]>;
  /** One record, or undefined. */
  get(name: string, label?: string): Promise<StoredFlag | undefined>;
  /** Writes a flag when the stored record matches `condition`; throws FlagConflictError when it does not. */
  put(flag: FeatureFlag, label: string | undefined, condition: WriteCondition): Promise<StoredFlag>;
  /**
   * A value that changes whenever any flag changes (App Configuration: the sentinel key's etag; a file: its
   * modification stamp), so a cache can refresh early when it differs.
   */
  version(): Promise<string | undefined>;
}

/** A conditional write found the record changed (or created) since it was read. */
export class FlagConflictError extends IcebridgeError {
  constructor(message: string) {
    super('PRECONDITION_FAILED', message);
  }
}

/** `name` or `name [label]`, for messages. */
export function flagDisplayName(name: string, label: string | undefined): string {
  return label === undefined ? name : `${name} [${label}]`;
}
