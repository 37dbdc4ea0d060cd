/**
 * What leaves the process, read by local servers. Azure Monitor: the connection string's IngestionEndpoint points at a local HTTPS server
 * (the exporter only speaks https; a certificate made for the test, trusted by the child through
 * NODE_EXTRA_CA_CERTS), and the envelopes the exporter POSTs to /v2.1/track are read back (JSON, gunzipped when gzip):
 * the instrumentation key, the activity span as a dependency in the instance's operation, its custom dimensions,
 * and the metrics. OTLP: the JSON bodies posted to a local collector's /v1/traces and /v1/metrics.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, createServer as createHttpServer } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSpanContext } from '../../shared/telemetry/tracing';
import { REPO_ROOT } from './support/migration-fixtures';

const TSX = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const CHILD = path.join(__dirname, 'support', 'telemetry-export-child.ts');
const IKEY = '11111111-2222-3333-4444-555555555555';
const INSTANCE = 'run-telemetry:table:3';

interface Envelope {
  name: string;
  iKey: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

interface Received {
  path: string;
  encoding: string | undefined;
  envelopes: Envelope[];
}

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Runs the child with `env` and fails with its stderr unless it exits 0. */
async function runChild(env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [TSX, CHILD], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  expect(code, stderr).toBe(0);
}

/** A self-signed certificate for 127.0.0.1, made with the openssl command. */
function makeCertificate(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    {
      stdio: 'ignore',
    },
  );
  return { key, cert };
}

describe('Azure Monitor export', () => {
  const received: Received[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-ingestion-'));
  let server: Server;
  let certFile: string;
  const handle = (request: IncomingMessage, response: import('node:http').ServerResponse): void => {
    void body(request).then((raw) => {
      const encoding = request.headers['content-encoding'];
      const text = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      // Breeze takes a JSON array (or JSON lines); answer as it does, everything accepted.
      const parsed = text.trim().startsWith('[')
        ? (JSON.parse(text) as Envelope[])
        : text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Envelope);
      received.push({ path: request.url ?? '', encoding, envelopes: parsed });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ itemsReceived: parsed.length, itemsAccepted: parsed.length, errors: [] }));
    });
  };

  beforeAll(async () => {
    const { key, cert } = makeCertificate(dir);
    certFile = cert;
    server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['shutdown', 'flush'])(
    'sends the activity span and the copy metrics to /v2.1/track, with the key and custom dimensions (%s)',
    async (end) => {
      received.length = 0;
      const { port } = server.address() as AddressInfo;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${IKEY};IngestionEndpoint=https://127.0.0.1:${port}/`,
        NODE_EXTRA_CA_CERTS: certFile,
        // Statsbeat reports to Microsoft's own endpoint, which a test must not call.
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
        CHILD_INSTANCE_ID: INSTANCE,
        CHILD_EXPECTED_MODE: 'azure-monitor',
        CHILD_END: end,
      };
      delete env.ICEBRIDGE_TELEMETRY;
      await runChild(env);

      expect(received.length).toBeGreaterThan(0);
      for (const request of received) {
        expect(request.path).toBe('/v2.1/track');
        // The exporter of @azure/monitor-opentelemetry 1.18 sends plain JSON; a gzip body (as Breeze also takes) is
        // decoded above, so a later exporter that compresses still passes, and anything else fails here.
        expect([undefined, 'gzip']).toContain(request.encoding);
      }
      const envelopes = received.flatMap((r) => r.envelopes);
      for (const envelope of envelopes) expect(envelope.iKey).toBe(IKEY);

      const dependency = envelopes.find((e) => e.data.baseType === 'RemoteDependencyData' && e.data.baseData.name === 'activity copyPartition');
      expect(dependency, JSON.stringify(envelopes.map((e) => e.name))).toBeDefined();
      expect(dependency!.name).toBe('Microsoft.ApplicationInsights.RemoteDependency');
      expect(dependency!.tags['ai.operation.id']).toBe(instanceSpanContext(INSTANCE).traceId);
      expect(dependency!.tags['ai.operation.parentId']).toBe(instanceSpanContext(INSTANCE).spanId);
      expect(dependency!.data.baseData.success).toBe(true);
      expect(dependency!.data.baseData.properties).toMatchObject({
        'icebridge.activity': 'copyPartition',
        'icebridge.instance_id': INSTANCE,
        'icebridge.run_id': INSTANCE,
        'icebridge.table': 'orders',
        'icebridge.partition': '7',
      });

      const metric = (name: string) =>
        envelopes
          .filter((e) => e.data.baseType === 'MetricData')
          .map((e) => e.data.baseData as { metrics: Array<{ name: string; value: number; count?: number }>; properties?: Record<string, string> })
          .find((d) => d.metrics[0]?.name === name);
      expect(metric('icebridge.copy.rows')).toMatchObject({ metrics: [{ value: 1234 }], properties: { 'icebridge.table': 'orders' } });
      expect(metric('icebridge.copy.bytes')).toMatchObject({ metrics: [{ value: 56789 }] });
      expect(metric('icebridge.copy.partition.duration')).toMatchObject({ metrics: [{ value: 0.25, count: 1 }] });
    },
    120_000,
  );
});

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string };
}

describe('OTLP export', () => {
  const received: Array<{ path: string; body: unknown }> = [];
  const server = createHttpServer((request, response) => {
    void body(request).then((raw) => {
      const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      received.push({ path: request.url ?? '', body: JSON.parse(text) as unknown });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the activity span and the metrics to the collector named by ICEBRIDGE_OTLP_ENDPOINT', async () => {
    const { port } = server.address() as AddressInfo;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ICEBRIDGE_TELEMETRY: 'otlp',
      ICEBRIDGE_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      CHILD_INSTANCE_ID: INSTANCE,
      CHILD_EXPECTED_MODE: 'otlp',
      CHILD_END: 'flush',
    };
    delete env.APPLICATIONINSIGHTS_CONNECTION_STRING;
    await runChild(env);

    type Spans = {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; parentSpanId: string; name: string; attributes: OtlpAttribute[] }> }> }>;
    };
    const spans = received
      .filter((r) => r.path === '/v1/traces')
      .flatMap((r) => (r.body as Spans).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    expect(spans.map((s) => s.name)).toEqual(['activity copyPartition']);
    expect(spans[0]!.traceId).toBe(instanceSpanContext(INSTANCE).traceId);
    expect(spans[0]!.parentSpanId).toBe(instanceSpanContext(INSTANCE).spanId);
    expect(spans[0]!.attributes).toContainEqual({ key: 'icebridge.table', value: { stringValue: 'orders' } });

    type Metrics = {
      resourceMetrics: Array<{
        scopeMetrics: Array<{ metrics: Array<{ name: string; sum?: { dataPoints: Array<{ asInt?: number | string; asDouble?: number }> } }> }>;
      }>;
    };
    const sent = received
      .filter((r) => r.path === '/v1/metrics')
      .flatMap((r) => (r.body as Metrics).resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)));
    const rows = sent.find((m) => m.name === 'icebridge.copy.rows');
    expect(Number(rows?.sum?.dataPoints[0]?.asInt ?? rows?.sum?.dataPoints[0]?.asDouble)).toBe(1234);
  }, 120_000);
});
