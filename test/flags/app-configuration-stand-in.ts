/**
 * A STAND-IN for Azure App Configuration (no emulator installs here): an HTTP server speaking the documented
 * key-value REST API the SDK uses — `GET /kv` (list with key/label filters), `GET|PUT|DELETE /kv/{key}` with
 * `label`, etags, `If-Match` / `If-None-Match` (412 on a failed condition) — and checking every request's
 * HMAC-SHA256 signature the way the service does, so a wrongly signed request is refused (401) as it would be.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface KeyValue {
  key: string;
  label: string | null;
  content_type: string | null;
  value: string | null;
  tags: Record<string, string>;
  etag: string;
  locked: boolean;
  last_modified: string;
}

/** A running stand-in: its connection string, its records, and what it was asked. */
export interface AppConfigurationStandIn {
  connectionString: string;
  /** Every request's method and path, in order (for tests that count calls). */
  requests: string[];
  /** The stored records by key and label (tests may plant a malformed one). */
  records: Map<string, KeyValue>;
  close(): Promise<void>;
}

/** Starts the stand-in on a free port of 127.0.0.1. */
export async function startAppConfigurationStandIn(): Promise<AppConfigurationStandIn> {
  const id = 'standin-id';
  const secret = randomBytes(32).toString('base64');
  const records = new Map<string, KeyValue>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      try {
        if (!authorised(req, body, id, secret)) return send(res, 401, { title: 'Unauthorized', detail: 'invalid signature' });
        handle(req, res, body, records);
      } catch (error) {
        send(res, 500, { title: 'stand-in failure', detail: String(error) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    connectionString: `Endpoint=http://127.0.0.1:${port};Id=${id};Secret=${secret}`,
    requests,
    records,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Checks `HMAC-SHA256 Credential=…&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…`. */
function authorised(req: IncomingMessage, body: string, id: string, secret: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^HMAC-SHA256 Credential=([^&]+)&SignedHeaders=([^&]+)&Signature=(.+)$/.exec(header);
  if (!match || match[1] !== id || match[2] !== 'x-ms-date;host;x-ms-content-sha256') return false;
  const contentHash = createHash('sha256').update(body).digest('base64');
  if (req.headers['x-ms-content-sha256'] !== contentHash) return false;
  const toSign = `${req.method}\n${req.url}\n${String(req.headers['x-ms-date'])};${String(req.headers.host)};${contentHash}`;
  return createHmac('sha256', Buffer.from(secret, 'base64')).update(toSign).digest('base64') === match[3];
}

function handle(req: IncomingMessage, res: ServerResponse, body: string, records: Map<string, KeyValue>): void {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  if (url.pathname === '/kv' && req.method === 'GET') {
    const keyFilter = url.searchParams.get('key') ?? '*';
    const labelFilter = url.searchParams.get('label');
    const items = [...records.values()]
      .filter((r) => matches(r.key, keyFilter) && labelMatches(r.label, labelFilter))
      .sort((a, b) => a.key.localeCompare(b.key));
    return send(res, 200, { items }, 'application/vnd.microsoft.appconfig.kvset+json; charset=utf-8');
  }
  if (!url.pathname.startsWith('/kv/')) return send(res, 404, { title: 'Not Found' });
  const key = decodeURIComponent(url.pathname.slice('/kv/'.length));
  const labelParam = url.searchParams.get('label');
  const label = labelParam === null || labelParam === '\0' ? null : labelParam;
  const id = `${key}\n${label ?? ''}`;
  const current = records.get(id);
  const ifMatch = unquote(req.headers['if-match']);
  const ifNoneMatch = unquote(req.headers['if-none-match']);
  if (req.method === 'GET') {
    if (current === undefined) return send(res, 404, { title: 'Not Found' });
    if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch === current.etag)) return send(res, 304, undefined, undefined, current.etag);
    return send(res, 200, current, 'application/vnd.microsoft.appconfig.kv+json; charset=utf-8', current.etag);
  }
  if (req.method === 'PUT') {
    if (ifMatch !== undefined && (current === undefined || (ifMatch !== '*' && ifMatch !== current.etag)))
      return send(res, 412, { title: 'Precondition Failed' });
    if (ifNoneMatch === '*' && current !== undefined) return send(res, 412, { title: 'Precondition Failed' });
    const input = JSON.parse(body || '{}') as { value?: string; content_type?: string; tags?: Record<string, string> };
    const record: KeyValue = {
      key,
      label,
      content_type: input.content_type ?? null,
      value: input.value ?? null,
      tags: input.tags ?? {},
      etag: randomBytes(16).toString('hex'), // the service's etags are 32 hex-like characters
      locked: false,
      last_modified: new Date().toISOString(),
    };
    records.set(id, record);
    return send(res, 200, record, 'application/vnd.microsoft.appconfig.kv+json; charset=utf-8', record.etag);
  }
  if (req.method === 'DELETE') {
    if (current === undefined) return send(res, 204, undefined);
    if (ifMatch !== undefined && ifMatch !== current.etag) return send(res, 412, { title: 'Precondition Failed' });
    records.delete(id);
    return send(res, 200, current, 'application/vnd.microsoft.appconfig.kv+json; charset=utf-8', current.etag);
  }
  return send(res, 405, { title: 'Method Not Allowed' });
}

/** App Configuration filters: `*` at the end is a prefix match, commas separate alternatives. */
function matches(value: string, filter: string): boolean {
  return filter.split(',').some((f) => (f.endsWith('*') ? value.startsWith(f.slice(0, -1)) : value === f));
}

/** No label filter means every label; `\0` means the null label. */
function labelMatches(label: string | null, filter: string | null): boolean {
  if (filter === null || filter === '*') return true;
  return filter.split(',').some((f) => (f === '\0' ? label === null : f.endsWith('*') ? (label ?? '').startsWith(f.slice(0, -1)) : label === f));
}

function unquote(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value === '*' ? '*' : value.replace(/^"(.*)"$/, '$1');
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/problem+json', etag?: string): void {
  res.statusCode = status;
  if (etag !== undefined) res.setHeader('ETag', `"${etag}"`);
  if (body === undefined) return void res.end();
  res.setHeader('Content-Type', contentType);
  res.end(JSON.stringify(body));
}
