/**
 * Starts the OpenTelemetry SDK the settings ask for, once, as the function app loads: Azure Monitor when
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, OTLP/HTTP when `ICEBRIDGE_TELEMETRY=otlp`, otherwise nothing, so
 * the API stays the no-op and recording costs an empty call. shared/ only uses the API (shared/telemetry/).
 */
import { app } from '@azure/functions';
import { metrics, trace } from '@opentelemetry/api';
import { hostKind } from '../shared/config/settings';
import { type TelemetryMode, loadTelemetrySettings } from '../shared/telemetry/telemetry-settings';

interface Started {
  mode: TelemetryMode;
  flush: () => Promise<void>;
  shutdown: () => Promise<void>;
}

let started: Started | undefined;

/** Starts telemetry from `env` (once per process; later calls answer the mode already started). */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): TelemetryMode {
  if (started !== undefined) return started.mode;
  const settings = loadTelemetrySettings(env);
  if (settings.mode === 'azure-monitor')
    started = { mode: 'azure-monitor', flush: flushGlobalProviders, shutdown: startAzureMonitor(settings.connectionString!) };
  else if (settings.mode === 'otlp') started = { mode: 'otlp', flush: flushGlobalProviders, shutdown: startOtlp(settings.otlpEndpoint) };
  else started = { mode: 'none', flush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  // On Azure the worker tells the app it is ending, so what is buffered (metrics export each minute) is sent first.
  if (settings.mode !== 'none' && hostKind(env) === 'azure') app.hook.appTerminate(() => shutdownTelemetry());
  return started.mode;
}

/**
 * Sends whatever telemetry is buffered and keeps recording: for a process that may end soon after (the CLI), since
 * metrics are otherwise exported once a minute.
 */
export async function flushTelemetry(): Promise<void> {
  try {
    await started?.flush();
  } catch (error) {
    // Telemetry that cannot be sent must not turn a finished command into a failed one. Only the error's code is
    // told: an exporter's message can carry the ingestion endpoint of a connection string.
    console.warn(`telemetry: what was buffered could not be sent (${failureCode(error)})`);
  }
}

function failureCode(error: unknown): string {
  const first: unknown = Array.isArray(error) ? error[0] : error;
  if (typeof first === 'object' && first !== null) {
    const { code, name } = first as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    if (typeof name === 'string' && /^\w+$/.test(name)) return name;
  }
  return 'unknown error';
}

/** Sends whatever telemetry is buffered and stops the SDK; a later startTelemetry starts again. */
export async function shutdownTelemetry(): Promise<void> {
  const current = started;
  started = undefined;
  await current?.shutdown();
}

/** Flushes the global tracer and meter providers, whichever SDK installed them. */
async function flushGlobalProviders(): Promise<void> {
  const tracer = trace.getTracerProvider() as { getDelegate?: () => unknown };
  await Promise.all([flushable(tracer.getDelegate?.() ?? tracer)?.forceFlush(), flushable(metrics.getMeterProvider())?.forceFlush()]);
}

function flushable(provider: unknown): { forceFlush: () => Promise<void> } | undefined {
  const candidate = provider as { forceFlush?: unknown } | null;
  return typeof candidate?.forceFlush === 'function' ? (candidate as { forceFlush: () => Promise<void> }) : undefined;
}

function startAzureMonitor(connectionString: string): () => Promise<void> {
  // Loaded only when used: the distro brings a whole SDK that a run without telemetry should not pay for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const monitor = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  monitor.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString },
    // The default rate limit (5 traces a second) would drop activity spans of a wide fan-out; the ratio sampler
    // decides by trace id, so an instance's spans are kept or dropped together.
    tracesPerSecond: 0,
    samplingRatio: 1,
  });
  return () => monitor.shutdownAzureMonitor();
}

// Like the distro, the SDK and exporters load only when OTLP is chosen.
function startOtlp(endpoint: string | undefined): () => Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const base = endpoint?.replace(/\/+$/, '');
  const tracer = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(base === undefined ? {} : { url: `${base}/v1/traces` }))],
  });
  const meter = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(base === undefined ? {} : { url: `${base}/v1/metrics` }) })],
  });
  trace.setGlobalTracerProvider(tracer);
  metrics.setGlobalMeterProvider(meter);
  return async () => {
    await Promise.all([tracer.shutdown(), meter.shutdown()]);
    trace.disable();
    metrics.disable();
  };
}
