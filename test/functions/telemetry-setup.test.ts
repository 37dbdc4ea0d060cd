/** Telemetry off by default: no SDK is installed, so the API's globals stay the no-op; a wrong setting stops start-up. */
import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { flushTelemetry, shutdownTelemetry, startTelemetry } from '../../functions/telemetry-setup';
import { recordPartitionCopied } from '../../shared/telemetry/metrics';

afterEach(() => shutdownTelemetry());

describe('startTelemetry', () => {
  it('installs nothing without a connection string or ICEBRIDGE_TELEMETRY', async () => {
    const meterProvider = metrics.getMeterProvider();
    expect(startTelemetry({})).toBe('none');
    expect(metrics.getMeterProvider()).toBe(meterProvider);
    expect(trace.getTracer('icebridge').startSpan('x').isRecording()).toBe(false);
    recordPartitionCopied({ table: 't', rows: 1, bytes: 1, durationMs: 1 });
    await flushTelemetry();
  });

  it('refuses a wrong setting by its name', () => {
    expect(() => startTelemetry({ ICEBRIDGE_TELEMETRY: 'on' })).toThrow(/^ICEBRIDGE_TELEMETRY must be one of/);
  });
});
