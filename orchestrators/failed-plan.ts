/** The end of an orchestration whose plan failed for good. */
import type { OrchestrationContext } from 'durable-functions';
import { shortReason } from '../shared/run/instance-status';

/** Puts the reason in the custom status (phase done), then fails the orchestration with it. */
export function failedPlan(context: OrchestrationContext, progress: { phase: string; lastError?: string }, reason: string): never {
  progress.phase = 'done';
  progress.lastError = shortReason(reason);
  context.df.setCustomStatus(progress);
  throw new Error(reason);
}
