/**
 * Traces: one per orchestration instance, with each activity invocation a span in it. Orchestrator code replays
 * and must stay deterministic, so it makes no spans; instead the trace id and the parent span id are derived from
 * the instance id (a SHA-256 of it), and every activity of the instance, on whatever process runs it, starts its
 * span under that same parent. The parent span itself is never recorded: it stands for the orchestration, and
 * Application Insights groups the activity spans by trace id (operation_Id) whether or not it arrives.
 */
import { createHash } from 'node:crypto';
import { type Attributes, ROOT_CONTEXT, type Span, type SpanContext, SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import { redactSecrets } from '../errors';
import { AttributeNames as A, TELEMETRY_SCOPE, activitySpanName } from './names';

/** The span context that stands for orchestration instance `instanceId`: the same in every process and replay. */
export function instanceSpanContext(instanceId: string): SpanContext {
  const digest = createHash('sha256').update(`icebridge.instance:${instanceId}`).digest('hex');
  return { traceId: digest.slice(0, 32), spanId: digest.slice(32, 48), traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

/** The figures an activity span carries besides its name and instance. */
export interface ActivitySpanAttributes {
  runId?: string;
  table?: string;
  partition?: number;
}

/** Reads run id, table and partition from an activity input of any shape the activity table declares. */
export function activityAttributes(input: unknown): ActivitySpanAttributes {
  const found: ActivitySpanAttributes = {};
  const record = asRecord(input);
  if (record === undefined) return found;
  const request = asRecord(record.request);
  const runId = record.runId ?? record.verificationId ?? record.syncId ?? request?.verificationId;
  if (typeof runId === 'string') found.runId = runId;
  const table = tableName(record.table) ?? tableName(request?.source) ?? tableName(asRecord(record.verification)?.table);
  if (table !== undefined) found.table = table;
  const partition = asRecord(record.partition)?.index ?? asRecord(record.range)?.index;
  if (typeof partition === 'number') found.partition = partition;
  return found;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** A table given as a name, as `{ name }`, or as a plan's `{ source: { name } }`. */
function tableName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const record = asRecord(value);
  if (record === undefined) return undefined;
  if (typeof record.name === 'string') return record.name;
  const source = asRecord(record.source);
  return typeof source?.name === 'string' ? source.name : undefined;
}

/** Starts the span of one invocation of `activity` for `instanceId`, in the instance's trace. */
export function startActivitySpan(activity: string, instanceId: string | undefined, input: unknown): Span {
  const attributes: Attributes = { [A.activity]: activity };
  const { runId, table, partition } = activityAttributes(input);
  if (runId !== undefined) attributes[A.runId] = runId;
  if (table !== undefined) attributes[A.table] = table;
  if (partition !== undefined) attributes[A.partition] = partition;
  let parent = ROOT_CONTEXT;
  if (instanceId !== undefined) {
    attributes[A.instanceId] = instanceId;
    parent = trace.setSpanContext(ROOT_CONTEXT, instanceSpanContext(instanceId));
  }
  return trace.getTracer(TELEMETRY_SCOPE).startSpan(activitySpanName(activity), { kind: SpanKind.INTERNAL, attributes }, parent);
}

/**
 * Runs `fn` with `span` as the active span, so spans others make meanwhile (the Azure SDK's storage calls, when the
 * SDK instruments them) nest under the activity in its instance's trace. With telemetry off it just calls `fn`.
 */
export function withActiveSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends an activity span: an error status with the failure's code and redacted message when it failed, else unset. */
export function endActivitySpan(span: Span, failure?: { code: string; message: string }): void {
  if (failure !== undefined) {
    span.setAttribute(A.code, failure.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: redactSecrets(failure.message) });
  }
  span.end();
}
