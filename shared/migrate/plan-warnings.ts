/**
 * Warnings a plan carries beside the contract types: what the planner decided that a person should know (a
 * partition size clamped, a source that rescans per partition, a table it could not split). Kept in a file of
 * its own so the plan's types stay as they are; the fields are optional and JSON-safe like the rest of the plan.
 */
import type { MigrationPlan, TablePlan } from './contracts';

/** Warnings about one table's partitions. */
export interface TablePlanWarnings {
  /** Plain sentences, each naming the table; absent when there is nothing to say. */
  warnings?: string[];
}

/** A table plan with its warnings. */
export type WarnedTablePlan = TablePlan & TablePlanWarnings;

/** A migration plan with warnings about the whole run and about each table. */
export type WarnedMigrationPlan = Omit<MigrationPlan, 'tables'> & {
  tables: WarnedTablePlan[];
  /** Warnings about the run as a whole (e.g. the partition size it asked for was clamped). */
  warnings?: string[];
};

/** Every warning of a plan, the run's first, then each table's in plan order. */
export function planWarnings(plan: WarnedMigrationPlan): string[] {
  return [...(plan.warnings ?? []), ...plan.tables.flatMap((t) => t.warnings ?? [])];
}
