/** InvocationContext construction and the host's log sink. */
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { InvocationContext, type LogLevel } from '@azure/functions';
import type { FunctionRegistration } from './registry';

/** Where function and host logs go: level, category (function name or `host`), formatted message. */
export type HostLog = (level: LogLevel, category: string, message: string) => void;

/** The default sink: warnings and errors to stderr, the rest to stdout, prefixed with the category. */
export const consoleHostLog: HostLog = (level, category, message) => {
  if (level === 'none') return;
  const line = `[${category}] ${message}`;
  if (level === 'warning' || level === 'error' || level === 'critical') console.error(line);
  else console.log(line);
};

/** A sink that drops everything (tests). */
export const silentHostLog: HostLog = () => undefined;

/** Builds the context object a handler receives: ids, effective options, and logging routed to `log`. */
export function createInvocationContext(registration: FunctionRegistration, log: HostLog, triggerMetadata?: Record<string, unknown>): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: registration.name,
    logHandler: (level, ...args) => log(level, registration.name, format(...args)),
    triggerMetadata,
    options: {
      trigger: registration.trigger,
      return: registration.returnBinding,
      extraInputs: registration.extraInputs,
      extraOutputs: registration.extraOutputs,
    },
  });
}
