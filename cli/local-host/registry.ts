/**
 * Registration capture. `@azure/functions` hands every registration to the worker's `@azure/functions-core` module,
 * which only exists inside the Functions host; `app.http`, `app.get`, `app.timer`, ... reach it through the
 * package's internal `generic`, not through the exported `app.generic`. durable-functions 3.x registers through the
 * exported `app.generic` (orchestrations, activities, entities) and `app.http`/`app.timer` (client functions). So each
 * exported registration method is replaced with one that records { name, trigger, extraInputs, handler } exactly as
 * the package would have built them (trigger factories from `@azure/functions`' own `trigger` module).
 *
 * The capture is process-wide and permanent once installed, like the worker's registry: a module that ran before it
 * registered nothing. A later registration under an existing name replaces the earlier one (a module re-run).
 */
import * as functions from '@azure/functions';
import type { FunctionInput, FunctionOutput, FunctionTrigger, InvocationContext } from '@azure/functions';

/** A registered handler as the host calls it. */
export type RegisteredHandler = (triggerInput: unknown, context: InvocationContext) => unknown;

/** One captured function registration. */
export interface FunctionRegistration {
  name: string;
  trigger: FunctionTrigger;
  extraInputs: FunctionInput[];
  extraOutputs: FunctionOutput[];
  returnBinding?: FunctionOutput;
  handler: RegisteredHandler;
}

type TriggerFactory = (options: Record<string, unknown>) => FunctionTrigger;

/** `app` methods that build their trigger with the same-named `trigger` factory. */
const TRIGGER_METHODS = [
  'timer',
  'storageBlob',
  'storageQueue',
  'serviceBusQueue',
  'serviceBusTopic',
  'eventHub',
  'eventGrid',
  'cosmosDB',
  'warmup',
  'sql',
  'mySql',
  'webPubSub',
  'connectorTrigger',
  'mcpTool',
  'mcpResource',
  'mcpPrompt',
] as const;

const HTTP_SHORTHANDS = { get: 'GET', put: 'PUT', post: 'POST', patch: 'PATCH', deleteRequest: 'DELETE' } as const;

const registrations = new Map<string, FunctionRegistration>();
let installed = false;

function asOptions(value: unknown, name: string): Record<string, unknown> {
  if (typeof value === 'function') return { handler: value };
  if (typeof value !== 'object' || value === null) throw new TypeError(`function '${name}': options must be an object or a handler`);
  return value as Record<string, unknown>;
}

function bindings<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function record(name: unknown, options: Record<string, unknown>, triggerFactory?: TriggerFactory): void {
  if (typeof name !== 'string' || name === '') throw new TypeError('function name must be a non-empty string');
  const { handler, return: returnBinding, trigger, extraInputs, extraOutputs, retry: _retry, ...triggerOptions } = options;
  if (typeof handler !== 'function') throw new TypeError(`function '${name}': handler must be a function`);
  const effectiveTrigger = (trigger as FunctionTrigger | undefined) ?? triggerFactory?.(triggerOptions);
  if (!effectiveTrigger || typeof effectiveTrigger.type !== 'string') throw new TypeError(`function '${name}': missing trigger`);
  registrations.set(name, {
    name,
    trigger: effectiveTrigger,
    extraInputs: bindings<FunctionInput>(extraInputs),
    extraOutputs: bindings<FunctionOutput>(extraOutputs),
    returnBinding: returnBinding as FunctionOutput | undefined,
    handler: handler as RegisteredHandler,
  });
}

/** Replaces the exported `app` registration methods with recording ones (idempotent). */
export function installRegistrationCapture(): void {
  if (installed) return;
  const app = functions.app as unknown as Record<string, unknown>;
  const triggers = functions.trigger as unknown as Record<string, TriggerFactory | undefined>;
  const http = (name: unknown, options: Record<string, unknown>): void => {
    // Same default as the package: an HTTP function's return value is its response.
    options.return ??= functions.output.http({});
    record(name, options, triggers.http);
  };
  app.generic = (name: unknown, options: unknown) => record(name, asOptions(options, String(name)));
  app.http = (name: unknown, options: unknown) => http(name, asOptions(options, String(name)));
  for (const [method, verb] of Object.entries(HTTP_SHORTHANDS)) {
    app[method] = (name: unknown, optionsOrHandler: unknown) => {
      const options = asOptions(optionsOrHandler, String(name));
      options.methods = [verb];
      http(name, options);
    };
  }
  for (const method of TRIGGER_METHODS) {
    const factory = triggers[method];
    if (typeof app[method] === 'function' && factory)
      app[method] = (name: unknown, options: unknown) => record(name, asOptions(options, String(name)), factory);
  }
  installed = true;
}

/** Every registration captured so far, by function name. */
export function capturedRegistrations(): ReadonlyMap<string, FunctionRegistration> {
  return registrations;
}

/** Whether a registration's trigger is of `type` (the host compares binding types case-insensitively). */
export function hasTrigger(registration: FunctionRegistration, type: string): boolean {
  return registration.trigger.type.toLowerCase() === type.toLowerCase();
}
