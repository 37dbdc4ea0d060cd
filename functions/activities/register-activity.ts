/** Registers an activity under its name, with a handler checked against the activity table's input and output. */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { ActivityAnswer, ActivityInput, ActivityName } from '../../orchestrators/activity-table';
import { Activities } from '../../orchestrators/names';
import { observeActivity } from './activity-telemetry';

/** The handler of activity `N`: its input as the table declares it, and the outcome its callers read. */
export type ActivityHandlerOf<N extends ActivityName> = (input: ActivityInput<N>, context: InvocationContext) => Promise<ActivityAnswer<N>>;

/** `df.app.activity` for an activity of the table, each invocation traced and its failures counted. */
export function registerActivity<N extends ActivityName>(name: N, handler: ActivityHandlerOf<N>): void {
  df.app.activity(Activities[name], {
    handler: (input: ActivityInput<N>, context: InvocationContext) => observeActivity(name, input, context, () => handler(input, context)),
  });
}
