/** Trace ids derived from instance ids, and the attributes activity spans carry. */
import { SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activityAttributes, endActivitySpan, instanceSpanContext, startActivitySpan } from '../../shared/telemetry/tracing';
import { type TelemetryCapture, captureTelemetry } from './support/telemetry-capture';

describe('instanceSpanContext', () => {
  it('is the same for the same instance and differs between instances', () => {
    const a = instanceSpanContext('run-1:table:0');
    expect(instanceSpanContext('run-1:table:0')).toEqual(a);
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(instanceSpanContext('run-1:table:1').traceId).not.toBe(a.traceId);
  });
});

describe('activityAttributes', () => {
  it('reads run, table and partition from each shape of input', () => {
    expect(activityAttributes({ runId: 'r', table: { source: { schema: 'public', name: 'orders' } }, partition: { index: 3 } })).toEqual({
      runId: 'r',
      table: 'orders',
      partition: 3,
    });
    expect(activityAttributes({ request: { verificationId: 'v', source: { schema: 'public', name: 'items' } }, range: { index: 2 } })).toEqual({
      runId: 'v',
      table: 'items',
      partition: 2,
    });
    expect(activityAttributes({ location: 'x', verification: { table: 'public.items' } })).toEqual({ table: 'public.items' });
    expect(activityAttributes(null)).toEqual({});
  });
});

describe('activity spans', () => {
  let capture: TelemetryCapture;
  beforeEach(() => {
    capture = captureTelemetry();
  });
  afterEach(() => capture.stop());

  it('start under the instance span context, with the failure recorded on the span', () => {
    endActivitySpan(startActivitySpan('copyPartition', 'inst-1', { runId: 'inst-1', partition: { index: 0 } }));
    endActivitySpan(startActivitySpan('commitTable', 'inst-1', { runId: 'inst-1' }), { code: 'COMMIT_CONFLICT', message: 'no' });
    const spans = capture.spans();
    expect(spans.map((s) => s.name)).toEqual(['activity copyPartition', 'activity commitTable']);
    const parent = instanceSpanContext('inst-1');
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(parent.traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
      expect(span.attributes['icebridge.instance_id']).toBe('inst-1');
    }
    expect(spans[0]!.attributes['icebridge.partition']).toBe(0);
    expect(spans[1]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no' });
    expect(spans[1]!.attributes['icebridge.error.code']).toBe('COMMIT_CONFLICT');
  });
});
