/**
 * The bookkeeping of the migration orchestrators, pure so they can call it: their custom status as tables are
 * planned, copied and finished, and the outcome of a table that failed. Every change lands on the status object
 * in the same order as it always did, so its JSON (and so the instance's recorded status) stays the same.
 */
import { formatIdentifier } from '../iceberg/catalog/table-identifier';
import { shortReason } from '../run/instance-status';
import type { MigrationProgress, TableOutcome, TablePlan } from './contracts';
import { noteFailure } from './migration-status';
import { type WarnedMigrationPlan, planWarnings } from './plan-warnings';

/** Plan warnings the custom status keeps (it is limited to 16 KB); the rest are counted. */
export const SHOWN_WARNINGS = 5;

/** migrateDatabase's custom status before its plan. */
export function planningProgress(): MigrationProgress {
  return {
    phase: 'planning',
    tables: { total: 0, started: 0, done: 0, failed: 0 },
    partitions: { total: 0, done: 0 },
    rows: 0,
    recentFailures: [],
  };
}

/**
 * Moves the status to copying with the plan's figures, its failures noted and its warnings kept; returns the
 * outcomes of the tables the plan could not cover, which the run reports as failed before any other.
 */
export function startCopying(progress: MigrationProgress, plan: WarnedMigrationPlan): TableOutcome[] {
  // A table that failed in planning has no target yet: its outcome names it by its source name on both sides.
  const outcomes = plan.failures.map((f) => failedOutcome(f.table, f.table, 0, shortReason(f.reason)));
  progress.phase = 'copying';
  progress.tables = { total: plan.tables.length + plan.failures.length, started: 0, done: plan.failures.length, failed: plan.failures.length };
  for (const failure of plan.failures) noteFailure(progress, failure);
  progress.partitions.total = plan.tables.reduce((n, t) => n + t.partitions.length, 0);
  if (plan.snapshot?.cdc) progress.cdc = plan.snapshot.cdc;
  const warnings = planWarnings(plan);
  if (warnings.length > 0) {
    // One warning per leaf at most, but a schema can have many: the status keeps a few, and the count.
    progress.warnings = warnings.slice(0, SHOWN_WARNINGS).map((w) => shortReason(w));
    progress.warningsTotal = warnings.length;
  }
  return outcomes;
}

/**
 * Counts a finished table in the run's status (its rows and partitions, a failure noted) and returns its outcome
 * as the run's output keeps it: the reason shortened, as the output holds every table's (messages are limited
 * to ~1 MiB).
 */
export function finishTable(progress: MigrationProgress, result: TableOutcome): TableOutcome {
  const outcome = result.reason === undefined ? result : { ...result, reason: shortReason(result.reason) };
  progress.tables.done++;
  progress.rows += outcome.rows;
  progress.partitions.done += outcome.partitions;
  if (outcome.status === 'failed') {
    progress.tables.failed++;
    noteFailure(progress, { table: outcome.table, reason: outcome.reason ?? 'failed' });
  }
  if (outcome.countDiffers === true) progress.countsDiffering = (progress.countsDiffering ?? 0) + 1;
  if (outcome.warning !== undefined) noteWarning(progress, outcome.warning);
  return outcome;
}

/** Adds a warning to the status: kept among the first few shown, counted in any case. */
export function noteWarning(progress: MigrationProgress, warning: string): void {
  const shown = progress.warnings ?? [];
  if (shown.length < SHOWN_WARNINGS) progress.warnings = [...shown, shortReason(warning)];
  progress.warningsTotal = (progress.warningsTotal ?? shown.length) + 1;
}

/**
 * A table's target as its outcome names it: formatIdentifier's form, the one its verification records, so the
 * migration's status finds each table's verification result by this name.
 */
export function outcomeTarget(target: TablePlan['target']): string {
  return formatIdentifier(target);
}

/** The outcome of a table that copied nothing (yet): failed, no rows or files, with the reason when known. */
export function failedTableOutcome(table: Pick<TablePlan, 'source' | 'target'>, partitions: number, reason?: string): TableOutcome {
  return failedOutcome(table.source.name, outcomeTarget(table.target), partitions, reason);
}

/** `outcome`, failed for `reason`. */
export function failedWith(outcome: TableOutcome, reason: string): TableOutcome {
  return { ...outcome, reason };
}

/** Why a table's copy failed, from the reasons of its partitions that failed for good (at least one). */
export function partitionFailureReason(failures: readonly string[]): string {
  return failures.length === 1 ? failures[0] : `${failures.length} partitions failed; first: ${failures[0]}`;
}

function failedOutcome(table: string, target: string, partitions: number, reason: string | undefined): TableOutcome {
  return { table, target, status: 'failed', rows: 0, files: 0, partitions, ...(reason !== undefined ? { reason } : {}) };
}
