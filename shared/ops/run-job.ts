/**
 * Running one job for one slot and recording its result (job-results.ts): what the `runScheduledJob` activity and
 * `icebridge jobs run` call. A slot that already has a result that did not fail is not run again, so a second
 * orchestration of the same slot (a start that raced past the instance check) records nothing new.
 */
import { raiseJobAlert } from '../alerts/raise-alert';
import { recordJobAction } from '../state-db/transaction-log';
import { recordJobResult } from '../telemetry/metrics';
import { errorMessage } from '../errors';
import { redactUrl } from '../postgres/connection';
import type { RunEnvironment } from '../run/environment';
import { boundedText } from '../text/bounded-text';
import { jobNamed } from './job-registry';
import { type JobResult, readJobResult, writeJobResult } from '../run/job-results';
import { loadJobSettings } from './job-settings';
import type { JobRunInput } from './scheduled-job';

/** Runs the job of `input` unless its slot already succeeded; returns the recorded result. */
export async function runJob(env: RunEnvironment, warehouse: string, input: JobRunInput, settingsEnv: NodeJS.ProcessEnv = process.env): Promise<JobResult> {
  const job = jobNamed(input.job);
  const io = env.catalog.io;
  const existing = await readJobResult(io, warehouse, job.name, input.slot);
  if (existing !== undefined && existing.status !== 'failed') return existing;
  const startedAt = input.startedAt ?? new Date().toISOString();
  const base = { job: job.name, slot: input.slot, instanceId: input.instanceId ?? `local:${job.name}:${input.slot}`, startedAt };
  let result: JobResult;
  try {
    const outcome = await job.run(env, {
      job: job.name,
      slot: input.slot,
      warehouse,
      settings: loadJobSettings(settingsEnv),
      prepared: input.prepared ?? {},
      now: new Date(startedAt),
      env: settingsEnv,
    });
    result = { ...base, finishedAt: new Date().toISOString(), ...outcome };
  } catch (error) {
    result = {
      ...base,
      finishedAt: new Date().toISOString(),
      status: 'failed',
      summary: `${job.name} did not finish`,
      figures: {},
      error: redacted(errorMessage(error), env),
    };
  }
  await writeJobResult(io, warehouse, result);
  // The result reaches operations three ways: a metric, the transaction log, and a webhook alert when it found
  // something or failed (each one never fails the job: a failure of theirs is logged and counted).
  recordJobResult(result);
  await recordJobAction(result);
  await raiseJobAlert(result).catch(() => undefined);
  return result;
}

function redacted(message: string, env: RunEnvironment): string {
  const url = env.sourceUrl;
  const text = url === undefined ? message : message.split(url).join(redactUrl(url));
  return boundedText(text);
}
