/**
 * The seam between orchestrators and activities: every activity's input and output in one table, and the typed
 * ways to schedule one and read its outcome. Registrations (functions/activities/register-activity.ts) are checked
 * against the same table, so a caller and its activity cannot disagree on a payload without a type error.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type {
  ActivityOutcome,
  CommitTableInput,
  CommitTableResult,
  CopyPartitionInput,
  CopyPartitionSummary,
  CountRowsInput,
  CountRowsResult,
  MigrateDatabaseInput,
  ReleaseSnapshotInput,
  RenewSnapshotInput,
  SourceSnapshot,
} from '../shared/migrate/contracts';
import type { WarnedMigrationPlan } from '../shared/migrate/plan-warnings';
import type { RowRangeResult, SaveTableVerificationInput, TableVerification, VerificationPlan, VerifyDatabaseInput } from '../shared/verify/contracts';
import type { SyncBatchInput, SyncBatchResult } from '../shared/run/sync-run';
import type { RestoreDatabaseInput, RestoreTableInput, RestoreTableSummary } from '../shared/restore/restore-run';
import type { JobResult } from '../shared/run/job-results';
import type { JobRunInput } from '../shared/ops/scheduled-job';
import type { ScanRangeResult } from '../shared/verify/ranges/scan-ranges';
import type { SearchTableRowsInput, VerifyRowRangeInput, VerifyScanRangeInput, VerifyTableChecksInput } from '../shared/verify/steps/plan-verification';
import { Activities } from './names';
import { activityRetry } from './retry-policy';

/** Each activity's input and the value its outcome carries (the activity answers `ActivityOutcome<output>`). */
export interface ActivityTypes {
  planMigration: { input: MigrateDatabaseInput; output: WarnedMigrationPlan };
  copyPartition: { input: CopyPartitionInput; output: CopyPartitionSummary };
  commitTable: { input: CommitTableInput; output: CommitTableResult };
  countRows: { input: CountRowsInput; output: CountRowsResult };
  /** How many holders of the run were open in the process it ran in. */
  releaseSnapshot: { input: ReleaseSnapshotInput; output: { released: number } };
  renewSnapshot: { input: RenewSnapshotInput; output: SourceSnapshot };
  planVerification: { input: VerifyDatabaseInput; output: VerificationPlan };
  verifyScanRange: { input: VerifyScanRangeInput; output: ScanRangeResult };
  /** null when the table is too large to search row by row. */
  searchTableRows: { input: SearchTableRowsInput; output: TableVerification['rows'] | null };
  verifyTableChecks: { input: VerifyTableChecksInput; output: TableVerification };
  verifyRowRange: { input: VerifyRowRangeInput; output: RowRangeResult };
  saveTableVerification: { input: SaveTableVerificationInput; output: null };
  /** One bounded stretch of a sync: figures of what it applied. */
  syncBatch: { input: SyncBatchInput; output: SyncBatchResult };
  /** The tables to restore, referenced tables first. */
  planRestore: { input: RestoreDatabaseInput; output: { order: string[] } };
  /** One table restored and verified, in figures. */
  restoreTable: { input: RestoreTableInput; output: RestoreTableSummary };
  /** One scheduled job's run for its slot, recorded in the warehouse. */
  runJob: { input: JobRunInput; output: JobResult };
}

/** The name of an activity of the table. */
export type ActivityName = keyof ActivityTypes;

/** What activity `N` is called with. */
export type ActivityInput<N extends ActivityName> = ActivityTypes[N]['input'];

/** What activity `N` answers. */
export type ActivityAnswer<N extends ActivityName> = ActivityOutcome<ActivityTypes[N]['output']>;

/** Marks the outcome an ActivityTask yields; a type only, nothing carries it at run time. */
declare const answers: unique symbol;

/** A scheduled activity, not yet yielded, that remembers what its outcome holds. */
export type ActivityTask<T> = Task & { readonly [answers]?: ActivityOutcome<T> };

/** The outcomes of a list of activity tasks, element by element (tuples keep each element's type). */
export type ActivityOutcomes<Tasks extends readonly ActivityTask<unknown>[]> = {
  -readonly [K in keyof Tasks]: Tasks[K] extends ActivityTask<infer T> ? ActivityOutcome<T> : never;
};

/**
 * Schedules activity `name` with the project's retry policy, without yielding it: for a fan-out, whose tasks go
 * into one Task.all (allActivities), or for a task yielded later.
 */
export function activityTask<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
): ActivityTask<ActivityTypes[N]['output']> {
  return context.df.callActivityWithRetry(Activities[name], activityRetry(), input);
}

/**
 * Calls activity `name` and gives its outcome: `yield* callActivity(...)` yields exactly the task a plain
 * `yield context.df.callActivityWithRetry(...)` would, so histories replay the same.
 */
export function* callActivity<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
): Generator<Task, ActivityAnswer<N>, unknown> {
  return answerOf<ActivityAnswer<N>>(yield activityTask(context, name, input));
}

/** Yields one `context.df.Task.all` of `tasks` (in their order) and gives their outcomes in the same order. */
export function* allActivities<const Tasks extends readonly ActivityTask<unknown>[]>(
  context: OrchestrationContext,
  tasks: Tasks,
): Generator<Task, ActivityOutcomes<Tasks>, unknown> {
  return answerOf<ActivityOutcomes<Tasks>>(yield context.df.Task.all([...tasks]));
}

/**
 * The one cast between Durable and the table: the replay engine hands back what the activity returned as
 * `unknown` (JSON from history), and each activity's registration is checked to return ActivityTypes' output.
 */
function answerOf<T>(answer: unknown): T {
  return answer as T;
}
