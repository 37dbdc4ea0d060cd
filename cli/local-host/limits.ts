/**
 * Durable's limits, enforced by the local host so that what fails on Azure fails here too. Sources:
 * - Custom status: the extension's `SetCustomStatus` serialises with `MaxCustomStatusPayloadSizeInKB = 16` and
 *   `MessagePayloadDataConverter` measures `Encoding.Unicode.GetByteCount(json)` (UTF-16 bytes, "String payloads in
 *   Azure Storage are encoded in UTF-16"), failing with "The UTF-16 size of the JSON-serialized payload must not
 *   exceed 16 KB". The extension truncates the KB figure before comparing; we compare the exact bytes against
 *   16,384, the stricter reading of "must not exceed 16 KB".
 * - Actions: `DurableOrchestrationContext.IncrementActionsOrThrowException` counts every action of an execution
 *   (activities, timers, sub-orchestrations, events sent) and fails the orchestrator at `maxOrchestrationActions`
 *   (host.json; `DurableTaskOptions.MaxOrchestrationActions = 100000`) with "Maximum amount of orchestration
 *   actions (N) has been reached. ...".
 * - Messages: the Durable Task Scheduler refuses messages over 1 MiB (its large-payload samples keep the offload
 *   threshold at or below 1,048,576 bytes); JavaScript apps cannot offload, so every payload must fit. We count the
 *   UTF-8 bytes of the JSON text.
 * - History: no backend documents a hard cap, but replaying a huge history is what makes an orchestration slow or
 *   run out of memory; the ceiling here is the local host's own, configurable.
 * - functionTimeout: host.json `functionTimeout`; the WebJobs executor logs "Timeout value of {TimeSpan} exceeded by
 *   function '{ShortName}' (Id: '{id}'). Initiating cancellation." and fails the invocation, so its result never
 *   arrives.
 */

/** Limits the host enforces; `false` turns one off. */
export interface DurableLimits {
  /** Largest custom status as UTF-16 bytes of its JSON; default 16,384 (the extension's 16 KB). */
  maxCustomStatusInUtf16Bytes: number | false;
  /** Largest message payload (inputs, results, outputs, event data) as UTF-8 bytes of its JSON; default 1 MiB. */
  maxPayloadInBytes: number | false;
  /** Largest stored history of one execution (bytes of its journal lines); default 64 MiB. */
  maxHistoryInBytes: number | false;
  /** Most actions one execution may schedule; default 100,000 (host.json `maxOrchestrationActions`). */
  maxOrchestrationActions: number | false;
  /** Longest an activity may run (host.json `functionTimeout`); default 30 minutes, the Premium plan's default. */
  functionTimeoutInMs: number | false;
}

/** The limits when nothing is configured. */
export const DEFAULT_LIMITS: DurableLimits = {
  maxCustomStatusInUtf16Bytes: 16 * 1024,
  maxPayloadInBytes: 1024 * 1024,
  maxHistoryInBytes: 64 * 1024 * 1024,
  maxOrchestrationActions: 100_000,
  functionTimeoutInMs: 30 * 60 * 1000,
};

/** UTF-16 bytes of a JSON text, as .NET's `Encoding.Unicode.GetByteCount` counts them. */
export function utf16Bytes(text: string): number {
  return text.length * 2;
}

/** UTF-8 bytes of a JSON text (undefined counts as empty). */
export function utf8Bytes(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text);
}

/** The reason a custom status is refused, or undefined. */
export function customStatusProblem(limits: DurableLimits, instanceId: string, customStatus: unknown): string | undefined {
  if (limits.maxCustomStatusInUtf16Bytes === false || customStatus === undefined || customStatus === null) return undefined;
  const size = utf16Bytes(JSON.stringify(customStatus) ?? '');
  if (size <= limits.maxCustomStatusInUtf16Bytes) return undefined;
  return (
    `The custom status of instance '${instanceId}' is ${size} bytes as UTF-16 JSON: the UTF-16 size of the JSON-serialized payload must not exceed ` +
    `${limits.maxCustomStatusInUtf16Bytes / 1024} KB (the Durable Functions extension fails the orchestration the same way).`
  );
}

/** The reason a payload is refused, or undefined; `what` names it ("the input of activity 'x'"). */
export function payloadProblem(limits: DurableLimits, what: string, json: string | undefined): string | undefined {
  if (limits.maxPayloadInBytes === false) return undefined;
  const size = utf8Bytes(json);
  if (size <= limits.maxPayloadInBytes) return undefined;
  return `${what} is ${size} bytes of JSON, over the ${limits.maxPayloadInBytes}-byte message limit (maxPayloadInBytes; the Durable Task Scheduler's is 1 MiB). Pass a reference to stored data instead.`;
}

/** The reason an execution's action count is refused, or undefined. */
export function actionsProblem(limits: DurableLimits, actions: number): string | undefined {
  if (limits.maxOrchestrationActions === false || actions <= limits.maxOrchestrationActions) return undefined;
  return `Maximum amount of orchestration actions (${limits.maxOrchestrationActions}) has been reached. This value can be configured in host.json file as MaxOrchestrationActions.`;
}

/** The reason an execution's history size is refused, or undefined. */
export function historyProblem(limits: DurableLimits, instanceId: string, bytes: number): string | undefined {
  if (limits.maxHistoryInBytes === false || bytes <= limits.maxHistoryInBytes) return undefined;
  return (
    `The history of instance '${instanceId}' reached ${bytes} bytes, over the ${limits.maxHistoryInBytes}-byte ceiling (maxHistoryInBytes). ` +
    'Keep inputs and results small (references, not data) or use continueAsNew.'
  );
}

/** Formats milliseconds as .NET's `TimeSpan.ToString()` does (`[d.]hh:mm:ss[.fffffff]`), as the host's timeout message shows it. */
export function formatTimeSpan(ms: number): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const wholeSeconds = Math.floor(ms / 1000);
  const days = Math.floor(wholeSeconds / 86_400);
  const clock = `${pad(Math.floor((wholeSeconds % 86_400) / 3600))}:${pad(Math.floor((wholeSeconds % 3600) / 60))}:${pad(wholeSeconds % 60)}`;
  const ticks = Math.round((ms - wholeSeconds * 1000) * 10_000);
  return `${days > 0 ? `${days}.` : ''}${clock}${ticks > 0 ? `.${pad(ticks, 7)}` : ''}`;
}
