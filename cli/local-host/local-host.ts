/**
 * LocalHost: runs the app's registered functions in-process, standing in for the Functions host and the Durable
 * Functions extension during development and tests.
 *
 * Pinned to durable-functions 3.5.0: package.json names that exact version (no range), and the lock file holds it.
 * The host speaks the out-of-process protocol of that version — history event JSON, replay schema V4,
 * `OrchestratorState` actions, `$OutOfProcData$` failures and the DurableClient's HTTP endpoints. Re-check the
 * package's `lib/src/orchestrations/*` and `lib/src/durableClient/*` and the tests under test/cli/local-host before
 * moving the pin.
 */
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { durableClientBindingData, handleDurableRequest, type DurableClientBindingData } from './durable-api';
import {
  OrchestrationEngine,
  type ManagementResult,
  type ReplayReport,
  type ResubmittedTaskPolicy,
  type StartRacePolicy,
  type WaitForCompletionOptions,
} from './engine';
import type { HistoryEvent } from './history-events';
import { compileRoutes, matchRoute, serveHttpFunction } from './http-functions';
import type { GetStatusOptions, InstanceStatus } from './instance';
import { consoleHostLog, type HostLog } from './invocation-context';
import { readHostJson, type HostJsonSettings } from './host-json';
import { FileJournal, MemoryJournal } from './journal';
import { DEFAULT_MAX_JOURNAL_BYTES } from './journal-reader';
import { DEFAULT_LIMITS, type DurableLimits } from './limits';
import { capturedRegistrations, installRegistrationCapture, type FunctionRegistration } from './registry';
import { TimerScheduler, fireTimer } from './timer-functions';

/** Options of `LocalHost.load`. */
export interface LocalHostLoadOptions {
  /** Directory for durable instance state; without it state lives in memory only. */
  stateDir?: string;
  /**
   * The app's host.json: its `functionTimeout`, `extensions.durableTask.maxConcurrentActivityFunctions`,
   * `maxConcurrentOrchestratorFunctions`, `maxOrchestrationActions` and `extensions.http.routePrefix` apply unless
   * the options below set them explicitly.
   */
  hostJson?: string;
  /** Activities running at once (host.json `maxConcurrentActivityFunctions`); default 10. */
  maxConcurrentActivities?: number;
  /** Orchestrator episodes running at once (host.json `maxConcurrentOrchestratorFunctions`); default 10. */
  maxConcurrentOrchestrations?: number;
  /**
   * Durable's limits (custom status 16 KB as UTF-16, payloads 1 MiB, 100,000 actions, history 64 MiB, activity
   * timeout from host.json or 30 minutes); each can be changed or turned off with `false`. See limits.ts.
   */
  limits?: Partial<DurableLimits>;
  /** A start of a Pending or Running id: `refuse` (409, default) or `azure-storage` (accepted, dropped). */
  startRace?: StartRacePolicy;
  /** Largest journal loaded from `stateDir`; a larger one fails its own instance without being read. Default 256 MiB. */
  maxJournalInBytes?: number;
  /** Default port of `listen()`; default 7071 like the Functions host. */
  httpPort?: number;
  /** HTTP route prefix (host.json `extensions.http.routePrefix`); default `api`. */
  routePrefix?: string;
  /** Task hub name reported to durable clients; default `LocalHostHub`. */
  taskHubName?: string;
  /** Largest request body accepted; larger requests get 413. Default 100 MiB, the Functions host's limit. */
  maxRequestBodyInBytes?: number;
  /** See `findResubmittedAction`; default `fail`, which stops the instance with an explanation. */
  resubmittedTasks?: ResubmittedTaskPolicy;
  /** Log sink for function and host logs; default console. */
  log?: HostLog;
}

type ResolvedOptions = Required<Omit<LocalHostLoadOptions, 'stateDir' | 'hostJson' | 'limits'>> & { limits: DurableLimits };

/** Explicit options win over host.json, which wins over the defaults. */
function resolveOptions(options: LocalHostLoadOptions, hostJson: HostJsonSettings): ResolvedOptions {
  const limits: DurableLimits = { ...DEFAULT_LIMITS };
  if (hostJson.functionTimeoutInMs !== undefined) limits.functionTimeoutInMs = hostJson.functionTimeoutInMs;
  if (hostJson.maxOrchestrationActions !== undefined) limits.maxOrchestrationActions = hostJson.maxOrchestrationActions;
  for (const [key, value] of Object.entries(options.limits ?? {}) as Array<[keyof DurableLimits, number | false | undefined]>)
    if (value !== undefined) limits[key] = value;
  return {
    maxConcurrentActivities: options.maxConcurrentActivities ?? hostJson.maxConcurrentActivities ?? 10,
    maxConcurrentOrchestrations: options.maxConcurrentOrchestrations ?? hostJson.maxConcurrentOrchestrations ?? 10,
    httpPort: options.httpPort ?? 7071,
    routePrefix: (options.routePrefix ?? hostJson.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    taskHubName: options.taskHubName ?? 'LocalHostHub',
    maxRequestBodyInBytes: options.maxRequestBodyInBytes ?? 100 * 1024 * 1024,
    resubmittedTasks: options.resubmittedTasks ?? 'fail',
    startRace: options.startRace ?? 'refuse',
    maxJournalInBytes: options.maxJournalInBytes ?? DEFAULT_MAX_JOURNAL_BYTES,
    limits,
    log: options.log ?? consoleHostLog,
  };
}

/** A started HTTP listener. */
export interface LocalHostListener {
  url: string;
  close(): Promise<void>;
}

function listenOn(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

class PayloadTooLargeError extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(new PayloadTooLargeError());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new PayloadTooLargeError());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** Runs the app's functions in-process: orchestrations, activities, durable client and HTTP functions. */
export class LocalHost {
  readonly #engine: OrchestrationEngine;
  readonly #options: ResolvedOptions;
  readonly #servers = new Set<Server>();
  #rpcOrigin = '';
  #publicOrigin?: string;
  #ownsHostname = false;
  #timers?: TimerScheduler;

  private constructor(engine: OrchestrationEngine, options: ResolvedOptions) {
    this.#engine = engine;
    this.#options = options;
  }

  /**
   * Captures registrations while `modules` load (paths to require, or a function that imports them), lists the
   * instances kept in `stateDir` from their status records (no journal is read, nothing runs: see `resumeTree` and
   * `resumeAll`) and opens the loopback endpoint the durable client calls.
   */
  static async load(modules: string[] | (() => void | Promise<void>), options: LocalHostLoadOptions = {}): Promise<LocalHost> {
    installRegistrationCapture();
    if (typeof modules === 'function') await modules();
    else {
      const load = createRequire(path.join(process.cwd(), 'index.js'));
      for (const module of modules) load(path.resolve(module));
    }
    const resolved = resolveOptions(options, options.hostJson ? await readHostJson(options.hostJson) : {});
    const journal = options.stateDir ? await FileJournal.open(options.stateDir, { maxJournalBytes: resolved.maxJournalInBytes }) : new MemoryJournal();
    const engine = new OrchestrationEngine({ registrations: capturedRegistrations(), journal, ...resolved });
    await engine.restore();
    const host = new LocalHost(engine, resolved);
    host.#rpcOrigin = await host.#startServer(0);
    if (!process.env.WEBSITE_HOSTNAME) {
      // Without it durable-functions rewrites client URLs to localhost:7071, as under Core Tools.
      process.env.WEBSITE_HOSTNAME = new URL(host.#rpcOrigin).host;
      host.#ownsHostname = true;
    }
    return host;
  }

  /** Every function registration captured in this process, by name. */
  get functions(): ReadonlyMap<string, FunctionRegistration> {
    return capturedRegistrations();
  }

  /** Starts an orchestration like `client.startNew` and returns its instance id. */
  startOrchestration(name: string, input?: unknown, instanceId?: string): Promise<string> {
    return this.#engine.start(name, input, instanceId);
  }

  /** Resolves with the final status once the instance is Completed, Failed or Terminated; rejects on timeout. */
  waitForCompletion(instanceId: string, options: WaitForCompletionOptions): Promise<InstanceStatus> {
    return this.#engine.waitForCompletion(instanceId, options);
  }

  /**
   * The instance's status (as `client.getStatus` reports it), or undefined. Instances restored from `stateDir` are
   * answered from their status records; a damaged one throws an error naming its journal and what to do.
   */
  getStatus(instanceId: string, options?: GetStatusOptions): InstanceStatus | undefined {
    return this.#engine.getStatus(instanceId, options);
  }

  /** Loads a restored instance's journal (needed before `getHistory`) and returns its status; damaged ones throw. */
  async loadInstance(instanceId: string): Promise<InstanceStatus | undefined> {
    await this.#engine.load(instanceId);
    return this.#engine.getStatus(instanceId);
  }

  /** The current execution's history and the events queued for its next episode (of a loaded instance). */
  getHistory(instanceId: string): { history: HistoryEvent[]; pending: HistoryEvent[] } | undefined {
    return this.#engine.getHistory(instanceId);
  }

  /** Replays the stored history through the orchestrator without side effects (determinism checks, debugging). */
  replayHistory(instanceId: string): Promise<ReplayReport> {
    return this.#engine.replayHistory(instanceId);
  }

  /** Raises an external event, like `client.raiseEvent`. */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<ManagementResult> {
    return this.#engine.raiseEvent(instanceId, eventName, data);
  }

  /** Terminates an instance, like `client.terminate`. */
  terminate(instanceId: string, reason: string): Promise<ManagementResult> {
    return this.#engine.terminate(instanceId, reason);
  }

  /** Terminates every unfinished instance of a run: `rootId` and its sub-orchestrations (`rootId:...`). */
  terminateTree(rootId: string, reason: string): Promise<string[]> {
    return this.#engine.terminateTree(rootId, reason);
  }

  /**
   * Continues one restored run: loads `rootId` and its sub-orchestrations (ids starting with `rootId:`, or whose
   * parents lead to it) and re-runs their in-flight activities, re-arms timers and runs queued episodes. Other runs
   * in the state directory are not read. Throws, resuming nothing, when a journal of the run is damaged.
   */
  resumeTree(rootId: string): Promise<void> {
    return this.#engine.resumeTree(rootId);
  }

  /** Continues every restored, unfinished run; runs with damaged journals stay stopped and are returned with the reason. */
  resumeAll(): Promise<Array<{ rootId: string; problem: string }>> {
    return this.#engine.resumeAll();
  }

  /** Serves the HTTP functions (under the route prefix) and the durable webhooks on 127.0.0.1. */
  async listen(port: number = this.#options.httpPort): Promise<LocalHostListener> {
    const url = await this.#startServer(port);
    this.#publicOrigin = url;
    return { url, close: () => this.#stopServer(url) };
  }

  /** Runs the timer function `name` once now, as the Functions host does when its schedule is due. */
  fireTimer(name: string): Promise<void> {
    const registration = this.functions.get(name);
    if (registration === undefined) return Promise.reject(new Error(`no function '${name}'`));
    return fireTimer(registration, { clientBinding: () => this.clientBindingData(), log: this.#options.log });
  }

  /** Fires every timer function on its NCRONTAB schedule (UTC) until `close`; returns each one's next time. */
  startTimers(): Array<{ name: string; next: string }> {
    this.#timers?.stop();
    this.#timers = new TimerScheduler(this.functions.values(), { clientBinding: () => this.clientBindingData(), log: this.#options.log });
    return this.#timers.start();
  }

  /** Stops listeners and timers, waits for running episodes and flushes the state directory. */
  async close(): Promise<void> {
    this.#timers?.stop();
    await Promise.all([...this.#servers].map((server) => closeServer(server)));
    this.#servers.clear();
    await this.#engine.close();
    if (this.#ownsHostname && process.env.WEBSITE_HOSTNAME === new URL(this.#rpcOrigin).host) delete process.env.WEBSITE_HOSTNAME;
  }

  /** Binding data for a durableClient input, pointing webhooks at the public listener when there is one. */
  clientBindingData(): DurableClientBindingData {
    return durableClientBindingData(this.#publicOrigin ?? this.#rpcOrigin, this.#rpcOrigin, this.#options.taskHubName);
  }

  async #startServer(port: number): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#options.log('error', 'host', `request failed: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.#servers.add(server);
    return listenOn(server, port);
  }

  async #stopServer(url: string): Promise<void> {
    for (const server of this.#servers) {
      const address = server.address();
      if (address && typeof address === 'object' && url.endsWith(`:${address.port}`)) {
        this.#servers.delete(server);
        await closeServer(server);
      }
    }
    if (this.#publicOrigin === url) this.#publicOrigin = undefined;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    let body: Buffer;
    try {
      body = await readBody(req, this.#options.maxRequestBodyInBytes);
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError)) throw error;
      res.writeHead(413, { Connection: 'close', 'Content-Type': 'text/plain' }).end('Payload Too Large');
      return;
    }
    if (await handleDurableRequest(this.#engine, req, res, url, body, this.#options.taskHubName)) return;
    const prefix = this.#options.routePrefix === '' ? '/' : `/${this.#options.routePrefix}/`;
    const pathname = `${url.pathname}/`.startsWith(prefix) ? url.pathname.slice(prefix.length - 1) : undefined;
    const match = pathname === undefined ? undefined : matchRoute(compileRoutes(this.functions.values()), req.method ?? 'GET', pathname);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    await serveHttpFunction(
      match.route,
      {
        method: req.method ?? 'GET',
        url: url.href,
        headers: headerRecord(req),
        body,
        params: match.params,
        clientBinding: () => this.clientBindingData(),
        log: this.#options.log,
      },
      res,
    );
  }
}
