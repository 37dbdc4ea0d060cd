/**
 * Rows copied so far by partitions still in flight, for whoever in this process wants to show live progress
 * (the CLI's bars). Orchestration status only moves when a partition completes; this fills the gap between.
 * With no listener (as on Azure) reporting costs a map lookup.
 */

/** One report: a partition of a table of a run has copied `rows` rows so far. */
export interface CopyProgress {
  runId: string;
  table: string;
  partition: number;
  rows: number;
  /** The thread copying it (worker_threads threadId; 0 is the main thread). */
  threadId?: number;
}

type Listener = (progress: CopyProgress) => void;

const listeners = new Set<Listener>();

/** Reports progress of a running partition copy. */
export function reportCopyProgress(progress: CopyProgress): void {
  for (const listener of listeners) listener(progress);
}

/** Listens to progress reports; returns the function that stops listening. */
export function onCopyProgress(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
