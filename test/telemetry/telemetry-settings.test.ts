/** Which exporter the settings choose, and how wrong settings are refused without echoing them. */
import { describe, expect, it } from 'vitest';
import { loadTelemetrySettings } from '../../shared/telemetry/telemetry-settings';

const CONNECTION = 'InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://x.in.applicationinsights.azure.com/';

describe('loadTelemetrySettings', () => {
  it('is off by default, Azure Monitor with a connection string, OTLP when asked', () => {
    expect(loadTelemetrySettings({})).toEqual({ mode: 'none' });
    expect(loadTelemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION })).toEqual({ mode: 'azure-monitor', connectionString: CONNECTION });
    expect(loadTelemetrySettings({ ICEBRIDGE_TELEMETRY: 'otlp', ICEBRIDGE_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      mode: 'otlp',
      otlpEndpoint: 'http://collector:4318',
    });
    expect(loadTelemetrySettings({ ICEBRIDGE_TELEMETRY: 'none', APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION })).toEqual({ mode: 'none' });
  });

  it('refuses a wrong setting by name, without its value', () => {
    expect(() => loadTelemetrySettings({ ICEBRIDGE_TELEMETRY: 'zipkin' })).toThrow(/ICEBRIDGE_TELEMETRY must be one of azure-monitor, otlp, none/);
    expect(() => loadTelemetrySettings({ ICEBRIDGE_TELEMETRY: 'azure-monitor' })).toThrow(/needs APPLICATIONINSIGHTS_CONNECTION_STRING/);
    expect(() => loadTelemetrySettings({ ICEBRIDGE_TELEMETRY: 'otlp', ICEBRIDGE_OTLP_ENDPOINT: 'collector:4318?token=abc' })).toThrow(
      /^ICEBRIDGE_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL$/,
    );
  });
});
