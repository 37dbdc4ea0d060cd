/** The in-process development host: public API. */

/** The host itself, its load options and listener handle. */
export { LocalHost, type LocalHostListener, type LocalHostLoadOptions } from './local-host';
/** Instance status as the durable client reports it. */
export type { InstanceStatus, GetStatusOptions } from './instance';
/** Pending, Running, Completed, Failed, Terminated, ContinuedAsNew. */
export type { RuntimeStatus } from './journal';
/** History events in the extension's wire shape. */
export type { HistoryEvent } from './history-events';
/** Replay report, re-submission policy, wait options and management results. */
export type { ManagementResult, ReplayReport, ResubmittedTaskPolicy, WaitForCompletionOptions } from './engine';
/** A captured function registration. */
export type { FunctionRegistration } from './registry';
/** Log sinks. */
export { consoleHostLog, silentHostLog, type HostLog } from './invocation-context';
