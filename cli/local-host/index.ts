/** The in-process development host: public API. */

/** The host itself, its load options and listener handle. */
export { LocalHost, type LocalHostListener, type LocalHostLoadOptions } from './local-host';
/** Instance status as the durable client reports it. */
export type { InstanceStatus, GetStatusOptions } from './instance';
/** Pending, Running, Completed, Failed, Terminated, ContinuedAsNew. */
export type { RuntimeStatus } from './journal';
/** History events in the extension's wire shape. */
export type { HistoryEvent } from './history-events';
/** Replay report, re-submission and start-race policies, wait options and management results. */
export type { ManagementResult, ReplayReport, ResubmittedTaskPolicy, StartRacePolicy, WaitForCompletionOptions } from './engine';
/** Durable's limits as the host enforces them, and their defaults. */
export { DEFAULT_LIMITS, type DurableLimits } from './limits';
/** A journal that cannot be loaded (damaged, cut short or over the size bound). */
export { JournalDamageError } from './journal-reader';
/** A captured function registration. */
export type { FunctionRegistration } from './registry';
/** Log sinks. */
export { consoleHostLog, silentHostLog, type HostLog } from './invocation-context';
