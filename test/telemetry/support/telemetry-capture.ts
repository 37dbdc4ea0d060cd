/**
 * Installs in-memory OpenTelemetry exporters as the process's global providers, so code that records through the
 * API (shared/telemetry/) can be read back: spans as they end, metrics on demand.
 */
import { type Attributes, context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** What was recorded, and the way to stop recording. */
export interface TelemetryCapture {
  spans(): ReadableSpan[];
  /** The data points of metric `name` collected now (cumulative since the capture began). */
  points(name: string): Promise<DataPoint<unknown>[]>;
  /** The sum of a counter over the points whose attributes include `match`. */
  sum(name: string, match?: Attributes): Promise<number>;
  /** Histogram points (count, sum) whose attributes include `match`. */
  histogram(name: string, match?: Attributes): Promise<{ count: number; sum: number }>;
  stop(): Promise<void>;
}

function matches(attributes: Attributes, match: Attributes): boolean {
  return Object.entries(match).every(([k, v]) => attributes[k] === v);
}

/** Makes in-memory providers global until `stop`. */
export function captureTelemetry(): TelemetryCapture {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when asked (forceFlush); the interval is never reached by a test.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 24 * 3600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  trace.disable();
  metrics.disable();
  context.disable();
  // As the SDKs install one: without it the API cannot carry an active span across awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const points = async (name: string): Promise<DataPoint<unknown>[]> => {
    metricExporter.reset();
    await reader.forceFlush();
    const last = metricExporter.getMetrics().at(-1);
    return (last?.scopeMetrics ?? [])
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
  };
  return {
    spans: () => spanExporter.getFinishedSpans(),
    points,
    sum: async (name, match = {}) => (await points(name)).filter((p) => matches(p.attributes, match)).reduce((total, p) => total + (p.value as number), 0),
    histogram: async (name, match = {}) =>
      (await points(name))
        .filter((p) => matches(p.attributes, match))
        .reduce((acc, p) => ({ count: acc.count + (p.value as Histogram).count, sum: acc.sum + ((p.value as Histogram).sum ?? 0) }), { count: 0, sum: 0 }),
    stop: async () => {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}
