/**
 * The commit loop: plan against the latest metadata, commit, and on a clean conflict reload, re-plan and retry
 * with jittered exponential backoff, a bounded number of times. When the commit state is unknown, the table is
 * reloaded and the change looked for before anything is retried; nothing is cleaned up in that state.
 */
import { CommitConflictError, CommitStateUnknownError } from '../../errors';
import type { Catalog, Table } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import type { TableMetadata } from '../spec/table-metadata';
import type { TableRequirement, TableUpdate } from '../spec/updates';

/** What one attempt wants to commit. */
export interface CommitPlan {
  requirements: TableRequirement[];
  updates: TableUpdate[];
  /** Files written for this attempt only (e.g. its manifest list): deleted if the attempt is known to have failed. */
  attemptFiles?: string[];
}

/** Result of planning: a change to commit, or the finding that the table already holds it. */
export type PlanResult = CommitPlan | { alreadyCommitted: true };

/** Options of commitWithRetry. */
export interface CommitWithRetryOptions {
  /** Attempts in all, including the first (default 10). */
  maxAttempts?: number;
  /** First backoff delay (default 50 ms); doubles each retry up to maxDelayInMs, with ±50% jitter. */
  baseDelayInMs?: number;
  maxDelayInMs?: number;
  /** Recognises this change in committed metadata, so an unknown outcome resolves to success. */
  isCommitted: (metadata: TableMetadata) => boolean;
  /** Clock for last-updated-ms. */
  now?: () => number;
  /** Waits between attempts; replaceable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** Commits the change `plan` describes, retrying conflicts; returns the table as committed. */
export async function commitWithRetry(
  catalog: Catalog,
  id: TableIdentifier,
  plan: (base: Table, attempt: number) => PlanResult | Promise<PlanResult>,
  options: CommitWithRetryOptions,
): Promise<Table> {
  const maxAttempts = options.maxAttempts ?? 10;
  const baseDelay = options.baseDelayInMs ?? 50;
  const maxDelay = options.maxDelayInMs ?? 2_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const base = await catalog.loadTable(id);
    if (options.isCommitted(base.metadata)) return base;
    const planned = await plan(base, attempt);
    if ('alreadyCommitted' in planned) return base;
    try {
      return await catalog.commit(base, planned.requirements, planned.updates, options.now ? { nowMs: options.now() } : {});
    } catch (error) {
      if (error instanceof CommitStateUnknownError) {
        const resolved = await resolveUnknown(catalog, id, options.isCommitted);
        if (resolved) return resolved;
        // Not visible after a fresh load: the write did not land, so trying again cannot apply it twice.
        lastConflict = error;
        continue;
      }
      if (!(error instanceof CommitConflictError)) throw error;
      lastConflict = error;
      await Promise.all((planned.attemptFiles ?? []).map((file) => catalog.io.delete(file).catch(() => undefined)));
      const delay = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1)) * (0.5 + Math.random());
      if (attempt < maxAttempts) await sleep(delay);
    }
  }
  throw new CommitConflictError(`gave up committing to the table after ${maxAttempts} attempts: ${String((lastConflict as Error)?.message ?? lastConflict)}`, {
    cause: lastConflict,
  });
}

async function resolveUnknown(catalog: Catalog, id: TableIdentifier, isCommitted: (metadata: TableMetadata) => boolean): Promise<Table | undefined> {
  // Reading may fail for the same transient reason the write did; a few patient tries before giving up.
  for (let i = 0; i < 5; i++) {
    try {
      const table = await catalog.loadTable(id);
      return isCommitted(table.metadata) ? table : undefined;
    } catch (error) {
      if (i === 4) {
        throw new CommitStateUnknownError(`cannot tell whether the commit landed: ${(error as Error).message}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** i));
    }
  }
  return undefined;
}
