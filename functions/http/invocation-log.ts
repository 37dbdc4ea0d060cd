/** The structured logger of one function invocation: entries go through its context, tagged with the function. */
import type { InvocationContext } from '@azure/functions';
import { type Logger, createLogger } from '../../shared/telemetry/logger';

/** A logger writing through `context` (Application Insights on Azure, the host's log locally). */
export function invocationLog(context: InvocationContext): Logger {
  return createLogger(context, { base: { function: context.functionName, invocationId: context.invocationId } });
}
