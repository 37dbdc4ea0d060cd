/**
 * The durable client's side of the host. durable-functions 3.x `DurableClient` talks HTTP to the extension: with
 * `rpcBaseUrl` in the binding data it calls `<rpcBaseUrl>orchestrators/<name>[/<id>]`, `instances/<id>`,
 * `instances/<id>/raiseEvent/<event>`, `instances/<id>/terminate?reason=`, `DELETE instances/<id>`, and
 * `createCheckStatusResponse` hands out the webhook URLs from `managementUrls`. Both path families are served here,
 * on every listener of the host, with the status codes the client's switch statements expect.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EngineError, type ManagementResult, type OrchestrationEngine } from './engine';
import type { InstanceStatus } from './instance';
import type { RuntimeStatus } from './journal';

/** Path prefixes of the webhook API (`managementUrls`) and of the client RPC API (`rpcBaseUrl`). */
export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask/';
/** Client RPC prefix, as the extension's local RPC endpoint names it. */
export const RPC_PREFIX = '/durabletask/';
const INSTANCE_PLACEHOLDER = 'INSTANCEID';

/** Binding data of a `durableClient` input, as the extension supplies it (`OrchestrationClientInputData`). */
export interface DurableClientBindingData {
  taskHubName: string;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  httpBaseUrl: string;
  maxGrpcMessageSizeInBytes: number;
  grpcHttpClientTimeout: string;
}

function managementUrls(origin: string, taskHub: string, instanceId: string): Record<string, string> {
  const instance = `${origin}${WEBHOOK_PREFIX}instances/${instanceId}`;
  const query = `taskHub=${encodeURIComponent(taskHub)}&connection=Storage`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}?${query}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
    purgeHistoryDeleteUri: `${instance}?${query}`,
    restartPostUri: `${instance}/restart?${query}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
    resumePostUri: `${instance}/resume?reason={text}&${query}`,
  };
}

/** The binding data for a durableClient input; webhook URLs on `origin`, RPC calls to `rpcOrigin`. */
export function durableClientBindingData(origin: string, rpcOrigin: string, taskHubName: string): DurableClientBindingData {
  const webhooks = `${origin}${WEBHOOK_PREFIX}`;
  return {
    taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${webhooks}orchestrators/{functionName}[/{instanceId}]`,
      createAndWaitOnNewInstancePostUri: `${webhooks}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}`,
    },
    managementUrls: managementUrls(origin, taskHubName, INSTANCE_PLACEHOLDER),
    baseUrl: `${origin}${WEBHOOK_PREFIX.slice(0, -1)}`,
    requiredQueryStringParameters: '',
    rpcBaseUrl: `${rpcOrigin}${RPC_PREFIX}`,
    httpBaseUrl: '',
    maxGrpcMessageSizeInBytes: 0,
    grpcHttpClientTimeout: '00:01:40',
  };
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }), ...headers });
  res.end(text);
}

function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  return text === '' ? undefined : JSON.parse(text);
}

const ACTIVE: ReadonlySet<RuntimeStatus> = new Set(['Pending', 'Running', 'ContinuedAsNew']);

function matchesFilter(status: InstanceStatus, query: URLSearchParams): boolean {
  const wanted = query.get('runtimeStatus');
  if (
    wanted &&
    !wanted
      .split(',')
      .map((s) => s.trim())
      .includes(status.runtimeStatus)
  )
    return false;
  const from = query.get('createdTimeFrom');
  const to = query.get('createdTimeTo');
  if (from && Date.parse(status.createdTime) < Date.parse(from)) return false;
  if (to && Date.parse(status.createdTime) > Date.parse(to)) return false;
  return true;
}

interface DurableRequest {
  method: string;
  parts: string[];
  url: URL;
  body: Buffer;
  taskHub: string;
}

async function route(engine: OrchestrationEngine, res: ServerResponse, request: DurableRequest): Promise<void> {
  const { method, parts, url, body, taskHub } = request;
  const query = url.searchParams;
  const options = { showInput: query.get('showInput') !== 'false', showHistory: query.get('showHistory') === 'true' };
  const [collection, id, operation, eventName] = parts;
  if (collection === 'orchestrators' && method === 'POST' && id !== undefined && parts.length <= 3) {
    const instanceId = await engine.start(id, parseBody(body), operation);
    const payload = managementUrls(url.origin, taskHub, instanceId);
    return send(res, 202, payload, { Location: payload.statusQueryGetUri!, 'Retry-After': '10' });
  }
  if (collection === 'entities') return send(res, 501, { message: 'The local host does not implement durable entities.' });
  if (collection !== 'instances') return send(res, 404, { message: 'Not found.' });
  if (id === undefined) {
    const matching = (await engine.list(options)).filter((status) => matchesFilter(status, query));
    if (method === 'GET') return send(res, 200, matching);
    if (method !== 'DELETE') return send(res, 405);
    let deleted = 0;
    for (const status of matching) if ((await engine.purge(status.instanceId)) === 'purged') deleted++;
    return send(res, deleted > 0 ? 200 : 404, { instancesDeleted: deleted });
  }
  if (operation === undefined && method === 'GET') {
    const status = await engine.loadedStatus(id, options);
    if (!status) return send(res, 404);
    const running = ACTIVE.has(status.runtimeStatus);
    return send(res, running ? 202 : 200, status, running ? { Location: url.href } : {});
  }
  if (operation === undefined && method === 'DELETE') {
    const purged = await engine.purge(id);
    if (purged === 'notFound') return send(res, 404);
    if (purged === 'running')
      return send(res, 400, { message: `Instance '${id}' is still running; only completed, failed or terminated instances can be purged.` });
    return send(res, 200, { instancesDeleted: 1 });
  }
  if (method !== 'POST' || operation === undefined) return send(res, 405);
  let result: ManagementResult;
  if (operation === 'raiseEvent' && eventName !== undefined && parts.length === 4) result = await engine.raiseEvent(id, eventName, parseBody(body));
  else if (operation === 'terminate' && parts.length === 3) result = await engine.terminate(id, query.get('reason') ?? '');
  else return send(res, 501, { message: `The local host does not implement '${operation}'.` });
  send(res, result === 'accepted' ? 202 : result === 'notFound' ? 404 : 410);
}

/** Serves a request whose path starts with a durable prefix; returns false when the path is not one of ours. */
export async function handleDurableRequest(
  engine: OrchestrationEngine,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
  taskHub: string,
): Promise<boolean> {
  const prefix = [WEBHOOK_PREFIX, RPC_PREFIX].find((candidate) => url.pathname.startsWith(candidate));
  if (!prefix) return false;
  const parts = url.pathname
    .slice(prefix.length)
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  try {
    await route(engine, res, { method: (req.method ?? 'GET').toUpperCase(), parts, url, body, taskHub });
  } catch (error) {
    if (error instanceof SyntaxError) send(res, 400, { message: `The request body is not valid JSON: ${error.message}` });
    else if (error instanceof EngineError) send(res, error.httpStatus, { message: error.message });
    else send(res, 500, { message: error instanceof Error ? error.message : String(error) });
  }
  return true;
}
