/**
 * The activity wrapper: each invocation is a span in its instance's trace, and failures are counted by code,
 * permanent ones (answered) apart from transient ones (thrown, then retried by the orchestration).
 */
import { InvocationContext } from '@azure/functions';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activityOutcome } from '../../functions/activities/activity-outcome';
import { observeActivity } from '../../functions/activities/activity-telemetry';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { MetricNames as M } from '../../shared/telemetry/names';
import { instanceSpanContext } from '../../shared/telemetry/tracing';
import { type TelemetryCapture, captureTelemetry } from '../telemetry/support/telemetry-capture';

let capture: TelemetryCapture;
beforeEach(() => {
  capture = captureTelemetry();
});
afterEach(() => capture.stop());

const context = () => new InvocationContext({ functionName: 'commitTable', triggerMetadata: { instanceId: 'run-9:table:1' } });
const input = { runId: 'run-9', table: { source: { schema: 'public', name: 'orders' } } };

describe('observeActivity', () => {
  it('puts the invocation in its instance trace, with spans made inside it as children, and passes the answer through', async () => {
    const invocation = context();
    const answer = await observeActivity('commitTable', input, invocation, () =>
      activityOutcome(async () => {
        await Promise.resolve();
        trace.getTracer('storage').startSpan('PUT blob').end();
        return 42;
      }),
    );
    expect(answer).toEqual({ ok: true, value: 42 });
    const [inner, span] = capture.spans();
    expect(inner!.parentSpanContext?.spanId).toBe(span!.spanContext().spanId);
    expect(inner!.spanContext().traceId).toBe(span!.spanContext().traceId);
    expect(span!.attributes['icebridge.invocation_id']).toBe(invocation.invocationId);
    expect(span!.spanContext().traceId).toBe(instanceSpanContext('run-9:table:1').traceId);
    expect(span!.attributes).toMatchObject({ 'icebridge.activity': 'commitTable', 'icebridge.run_id': 'run-9', 'icebridge.table': 'orders' });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(await capture.sum(M.errors)).toBe(0);
  });

  it('counts a permanent failure by its code, and a transient one as a retry by its code', async () => {
    const permanent = await observeActivity('commitTable', input, context(), () => activityOutcome(() => Promise.reject(new ValidationError('bad column'))));
    expect(permanent).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    const transient = observeActivity('commitTable', input, context(), () =>
      activityOutcome(() => Promise.reject(new IcebridgeError('STORAGE_UNAVAILABLE', 'throttled', { retryable: true }))),
    );
    await expect(transient).rejects.toThrow('throttled');
    await expect(observeActivity('commitTable', input, context(), () => activityOutcome(() => Promise.reject(new Error('boom'))))).rejects.toThrow('boom');
    expect(await capture.sum(M.errors, { 'icebridge.error.code': 'INVALID_ARGUMENT', 'icebridge.error.retryable': false })).toBe(1);
    expect(await capture.sum(M.errors, { 'icebridge.error.code': 'STORAGE_UNAVAILABLE', 'icebridge.error.retryable': true })).toBe(1);
    expect(await capture.sum(M.retries, { 'icebridge.activity': 'commitTable' })).toBe(2);
    expect(await capture.sum(M.retries, { 'icebridge.error.code': 'UNEXPECTED' })).toBe(1);
    expect(capture.spans().map((s) => [s.status.code, s.attributes['icebridge.error.code']])).toEqual([
      [SpanStatusCode.ERROR, 'INVALID_ARGUMENT'],
      [SpanStatusCode.ERROR, 'STORAGE_UNAVAILABLE'],
      [SpanStatusCode.ERROR, 'UNEXPECTED'],
    ]);
  });
});
