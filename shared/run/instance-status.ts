/**
 * Reading Durable instance statuses, the same for migrations and verifications: what a status holds, whether it
 * will change any more, the tables a run has started and how they are paged, and reasons kept short for a custom
 * status. Pure.
 */
/** What an orchestration status says, as read through a durable client or the local host. */
export interface InstanceSnapshot {
  runtimeStatus: string;
  customStatus?: unknown;
  output?: unknown;
  /** Only when read with its input (a table whose own status does not name it yet). */
  input?: unknown;
  createdTime?: Date | string;
  lastUpdatedTime?: Date | string;
}

/** One table sub-orchestration as a status reader found it: its status, none (not created yet), or unreadable. */
export interface TableInstanceRead {
  /** Its place in the run (instance `<run>:table:<index>`). */
  index: number;
  instanceId: string;
  status?: InstanceSnapshot;
  /** Why its status could not be read; the table is reported as unreadable, never left out. */
  unreadable?: string;
}

/** A table whose status could not be read, with the reason. */
export interface UnreadableTable {
  index: number;
  instanceId: string;
  reason: string;
}

/** The slice of a run's started tables a report details. */
export interface TablePage {
  offset: number;
  limit: number;
  /** Tables started so far: the tables there are to page through. */
  of: number;
}

/** Longest reason kept in a custom status. */
export const MAX_REASON_LENGTH = 500;

/** A reason shortened to `max` characters (MAX_REASON_LENGTH by default), marked where it was cut. */
export function shortReason(reason: string, max: number = MAX_REASON_LENGTH): string {
  return reason.length <= max ? reason : `${reason.slice(0, max - 1)}…`;
}

/**
 * Table instances a run has started, from its custom status (`<id>:table:<n>` for n below it). Runs recorded
 * before the count existed named their tables in a `tableInstances` map instead (the same ids): its size is the count.
 */
export function tablesStarted(customStatus: unknown): number {
  const progress = (customStatus ?? {}) as { tables?: { started?: number }; tableInstances?: Record<string, string> };
  return progress.tables?.started ?? Object.keys(progress.tableInstances ?? {}).length;
}

/**
 * The reason an orchestration failed, as its status carries it: an error's message, a text as it is, anything
 * else as JSON (shortened), never "[object Object]".
 */
export function failureMessage(output: unknown): string {
  if (output === undefined || output === null) return 'failed';
  if (typeof output === 'string') return output;
  if (typeof output === 'number' || typeof output === 'boolean' || typeof output === 'bigint') return output.toString();
  const message = typeof output === 'object' ? (output as { message?: unknown }).message : undefined;
  if (typeof message === 'string') return message;
  return shortReason(JSON.stringify(message ?? output) ?? 'failed');
}

/** True for statuses that will not change any more. */
export function isFinished(runtimeStatus: string): boolean {
  return ['Completed', 'Failed', 'Terminated', 'Canceled'].includes(runtimeStatus);
}

/** True when the run was stopped by a cancel (its orchestration terminated). */
export function isCancelled(runtimeStatus: string): boolean {
  return runtimeStatus === 'Terminated' || runtimeStatus === 'Canceled';
}
